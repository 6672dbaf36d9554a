// SQL that applies source rows to a target table: copy batches as multi-row INSERTs, binlog row
// changes as INSERT / UPDATE / DELETE by the target table's key.
//
// While a table is being copied, a binlog change may only touch rows the copy has already written
// (key <= the last copied key): the rest will arrive with the copy, as the snapshot then holds
// them. Deciding "key <= lastpk" in JavaScript would need the key columns' collations; instead the
// guard is a condition MariaDB evaluates on the target column itself, so it compares exactly as
// the source's `ORDER BY key` did: an insert is followed by a delete of the same row when its key
// lies beyond the copied range, and an update becomes delete-then-guarded-insert. A delete needs no
// guard: a row beyond the copied range is not on the target.
import { quoteIdent, valueLiteral } from '../sql/index.js';
import type { SqlValue } from '../mysql/values.js';

type Value = SqlValue | undefined;

export interface TargetTable {
  /** Target table name. */
  readonly name: string;
  /** Column names in the order row values arrive. */
  readonly columns: readonly string[];
  /** Positions in `columns` of the key columns (primary key, else a unique NOT NULL key). */
  readonly keyIndexes: readonly number[];
}

/** How binlog changes of one table are applied during the copy phase. */
export type CopyGuard =
  | { readonly mode: 'all' }
  /** The table's copy has not started: its rows come with the copy, changes are dropped. */
  | { readonly mode: 'skip' }
  /** Mid-copy: only rows with key <= lastPk (values in key order) exist on the target. */
  | { readonly mode: 'upto'; readonly lastPk: readonly SqlValue[] };

export const APPLY_ALL: CopyGuard = { mode: 'all' };

function tableRef(db: string, t: TargetTable): string {
  return `${quoteIdent(db)}.${quoteIdent(t.name)}`;
}

function tuple(values: readonly Value[]): string {
  let s = '(';
  for (let i = 0; i < values.length; i++) s += (i ? ',' : '') + valueLiteral(values[i]);
  return s + ')';
}

function keyCols(t: TargetTable): string {
  return '(' + t.keyIndexes.map((i) => quoteIdent(t.columns[i])).join(',') + ')';
}

function keyValues(t: TargetTable, row: readonly Value[]): readonly Value[] {
  return t.keyIndexes.map((i) => row[i]);
}

function keyMatch(t: TargetTable, row: readonly Value[]): string {
  return `${keyCols(t)} = ${tuple(keyValues(t, row))}`;
}

export function insertRowsSql(db: string, t: TargetTable, rows: readonly (readonly Value[])[]): string {
  let s = `INSERT INTO ${tableRef(db, t)} (${t.columns.map(quoteIdent).join(',')}) VALUES `;
  for (let i = 0; i < rows.length; i++) s += (i ? ',' : '') + tuple(rows[i]);
  return s;
}

/** Statements applying one binlog row change; empty when the guard drops it. */
export function changeSql(db: string, t: TargetTable, before: readonly Value[] | null, after: readonly Value[] | null, guard: CopyGuard): string[] {
  if (guard.mode === 'skip') return [];
  const ref = tableRef(db, t);
  const out: string[] = [];
  if (guard.mode === 'all') {
    if (before !== null && after !== null) {
      const sets = t.columns.map((c, i) => `${quoteIdent(c)} = ${valueLiteral(after[i])}`).join(', ');
      out.push(`UPDATE ${ref} SET ${sets} WHERE ${keyMatch(t, before)}`);
    } else if (after !== null) {
      out.push(insertRowsSql(db, t, [after]));
    } else if (before !== null) {
      out.push(`DELETE FROM ${ref} WHERE ${keyMatch(t, before)}`);
    }
    return out;
  }
  if (before !== null) out.push(`DELETE FROM ${ref} WHERE ${keyMatch(t, before)}`);
  if (after !== null) {
    out.push(insertRowsSql(db, t, [after]));
    out.push(`DELETE FROM ${ref} WHERE ${keyMatch(t, after)} AND ${keyCols(t)} > ${tuple(guard.lastPk)}`);
  }
  return out;
}
