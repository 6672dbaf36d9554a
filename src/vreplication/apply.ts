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
  | { readonly mode: 'upto'; readonly lastPk: readonly SqlValue[] }
  /**
   * Mid-copy in chunks: the rows in these key ranges are still to come (each after `after`, null:
   * from the start, up to and including `upTo`, null: to the end); every other row is copied.
   */
  | { readonly mode: 'pending'; readonly ranges: readonly { readonly after: readonly SqlValue[] | null; readonly upTo: readonly SqlValue[] | null }[] };

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
    out.push(`DELETE FROM ${ref} WHERE ${keyMatch(t, after)} AND ${notCopied(t, guard)}`);
  }
  return out;
}

/** A condition on the target row's key: the row lies where the copy has not been yet. */
function notCopied(t: TargetTable, guard: Extract<CopyGuard, { mode: 'upto' | 'pending' }>): string {
  const k = keyCols(t);
  if (guard.mode === 'upto') return `${k} > ${tuple(guard.lastPk)}`;
  const ranges = guard.ranges.map((r) => {
    const parts = [...(r.after === null ? [] : [`${k} > ${tuple(r.after)}`]), ...(r.upTo === null ? [] : [`${k} <= ${tuple(r.upTo)}`])];
    return parts.length === 0 ? 'TRUE' : `(${parts.join(' AND ')})`;
  });
  return ranges.length === 0 ? 'FALSE' : `(${ranges.join(' OR ')})`;
}

/**
 * Keys in one packed DELETE. MariaDB turns an IN list of 1000 values or more into a join with a
 * derived table (in_predicate_conversion_threshold), and a long OR of composite-key terms into
 * range-optimizer work that grows with every term; below that, each key is a plain lookup.
 */
export const DELETE_KEYS_MAX = 500;

function sameValue(a: Value, b: Value): boolean {
  if (Buffer.isBuffer(a)) return Buffer.isBuffer(b) && a.equals(b);
  return a === b;
}

/**
 * The SQL of one target transaction, packed for few statements and few round trips. Consecutive
 * changes of one kind to one table become one statement, applied by MariaDB row by row in source
 * order, so the result is the same as one statement per row:
 * - inserts: one multi-row INSERT;
 * - deletes: one `DELETE … WHERE k IN (…)`;
 * - updates that keep the key: one `INSERT … ON DUPLICATE KEY UPDATE` of every non-key column.
 *   An UPDATE per row costs MariaDB a parse and a plan each, about three times the upsert's
 *   per-row cost on this machine. The upsert differs only where the target has lost a row the
 *   source still has (it writes the row back, where UPDATE would match nothing); with the target
 *   equal to the source before the transaction, the key is the only key that can collide.
 * Updates that change the key (compared as values: a collation-equal change also takes this
 * path, which is always correct), and every change while its table is being copied (guard
 * `upto`), keep changeSql's statements. Statements are joined with `;` into multi-statement
 * packets of at most `packetCharsMax` characters.
 */
export class SqlPacker {
  private readonly packets: string[] = [];
  private packet = '';
  /** The open run of one kind of change to one table: its text so far, and what closes it. */
  private run: { kind: 'insert' | 'delete' | 'upsert'; table: TargetTable; text: string; suffix: string; rows: number } | undefined;
  /** Characters of SQL held: for the relay-log size bound. */
  chars = 0;

  constructor(
    private readonly db: string,
    private readonly packetCharsMax: number,
  ) {}

  get empty(): boolean {
    return this.chars === 0;
  }

  change(t: TargetTable, before: readonly Value[] | null, after: readonly Value[] | null, guard: CopyGuard): void {
    if (guard.mode !== 'all' || (before !== null && after !== null && !t.keyIndexes.every((i) => sameValue(before[i], after[i])))) {
      for (const s of changeSql(this.db, t, before, after, guard)) this.statement(s);
      return;
    }
    if (after !== null) {
      const kind = before === null ? 'insert' : 'upsert';
      const tup = tuple(after);
      if (this.run?.kind === kind && this.run.table === t && this.run.text.length + tup.length + this.run.suffix.length < this.packetCharsMax) {
        this.run.text += ',' + tup;
        this.chars += tup.length + 1;
        return;
      }
      this.closeRun();
      const text = `INSERT INTO ${tableRef(this.db, t)} (${t.columns.map(quoteIdent).join(',')}) VALUES ` + tup;
      let suffix = '';
      if (kind === 'upsert') {
        const rest = t.columns.filter((_, i) => !t.keyIndexes.includes(i));
        // A table of key columns only: nothing to change, but the clause needs one assignment.
        const set = rest.length > 0 ? rest : [t.columns[t.keyIndexes[0]]];
        suffix = ' ON DUPLICATE KEY UPDATE ' + set.map((c) => `${quoteIdent(c)} = VALUES(${quoteIdent(c)})`).join(', ');
      }
      this.run = { kind, table: t, text, suffix, rows: 1 };
      this.chars += text.length + suffix.length;
      return;
    }
    if (before === null) return;
    // One key column: `k IN (…)`, a range lookup per value. Several: an OR of AND terms, which
    // MariaDB's range optimizer also turns into key lookups.
    const single = t.keyIndexes.length === 1;
    const term = single ? valueLiteral(before[t.keyIndexes[0]]) : '(' + t.keyIndexes.map((i) => `${quoteIdent(t.columns[i])} = ${valueLiteral(before[i])}`).join(' AND ') + ')';
    if (this.run?.kind === 'delete' && this.run.table === t && this.run.rows < DELETE_KEYS_MAX && this.run.text.length + term.length < this.packetCharsMax) {
      this.run.text += (single ? ',' : ' OR ') + term;
      this.run.rows++;
      this.chars += term.length + 4;
      return;
    }
    this.closeRun();
    const text = `DELETE FROM ${tableRef(this.db, t)} WHERE ` + (single ? `${quoteIdent(t.columns[t.keyIndexes[0]])} IN (${term}` : term);
    this.run = { kind: 'delete', table: t, text, suffix: single ? ')' : '', rows: 1 };
    this.chars += text.length;
  }

  /** A statement as is (DDL-free SQL of the target transaction), after everything added so far. */
  statement(sql: string): void {
    this.closeRun();
    this.push(sql);
    this.chars += sql.length;
  }

  /** The packets, in order; the packer is empty afterwards. */
  finish(): string[] {
    this.closeRun();
    if (this.packet !== '') this.packets.push(this.packet);
    const out = this.packets.splice(0);
    this.packet = '';
    this.chars = 0;
    return out;
  }

  private closeRun(): void {
    const r = this.run;
    if (r === undefined) return;
    this.run = undefined;
    this.push(r.text + r.suffix);
  }

  private push(sql: string): void {
    if (this.packet !== '' && this.packet.length + 1 + sql.length > this.packetCharsMax) {
      this.packets.push(this.packet);
      this.packet = sql;
    } else {
      this.packet = this.packet === '' ? sql : this.packet + ';' + sql;
    }
  }
}
