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
import { ER, TesseraError } from '../mysql/errors.js';
import type { SqlValue } from '../mysql/values.js';
import { SqlBytes, type SqlText } from './sql-bytes.js';
import { decodeImage, scanImage, writeImageTuple, type ImagePlan } from './row-images.js';

type Value = SqlValue | undefined;

export interface TargetTable {
  /** Target table name. */
  readonly name: string;
  /** Column names in the order row values arrive. */
  readonly columns: readonly string[];
  /** Positions in `columns` of the key columns (primary key, else a unique NOT NULL key). */
  readonly keyIndexes: readonly number[];
  /** How to read after images passed as bytes (VStreamRequest.rawAfterImages), when the source sends them. */
  readonly image?: ImagePlan;
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

function insertRowSql(db: string, t: TargetTable, row: readonly Value[]): string {
  return `INSERT INTO ${tableRef(db, t)} (${t.columns.map(quoteIdent).join(',')}) VALUES ` + tuple(row);
}

/** One multi-row INSERT of copied rows, as UTF-8 bytes (sql-bytes.ts says why not a string). */
export function insertRowsSql(db: string, t: TargetTable, rows: readonly (readonly Value[])[]): Buffer {
  const head = `INSERT INTO ${tableRef(db, t)} (${t.columns.map(quoteIdent).join(',')}) VALUES `;
  // Sized by the first row, so a batch of like rows is written without growing the buffer.
  const first = new SqlBytes(4096);
  if (rows.length > 0) first.tuple(rows[0]);
  const b = new SqlBytes(Math.ceil(head.length * 3 + (first.length + 1) * rows.length * 1.25) + 64);
  b.text(head);
  for (let i = 0; i < rows.length; i++) {
    if (i > 0) b.byte(0x2c);
    b.tuple(rows[i]);
  }
  return b.take();
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
      out.push(insertRowSql(db, t, after));
    } else if (before !== null) {
      out.push(`DELETE FROM ${ref} WHERE ${keyMatch(t, before)}`);
    }
    return out;
  }
  if (before !== null) out.push(`DELETE FROM ${ref} WHERE ${keyMatch(t, before)}`);
  if (after !== null) {
    out.push(insertRowSql(db, t, after));
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
 * packets of at most `packetCharsMax` bytes (a single row change longer than that is a packet of
 * its own). The packets are UTF-8 bytes written value by value (sql-bytes.ts), not strings: a
 * run is cut into two statements where its packet fills up.
 */
export class SqlPacker {
  private readonly packets: Buffer[] = [];
  /** Bytes of the packets finished so far. */
  private held = 0;
  /** The packet being written. */
  private readonly cur = new SqlBytes();
  /** The open run of one kind of change to one table, and what closes it. */
  private run: { kind: 'insert' | 'delete' | 'upsert'; table: TargetTable; suffix: Buffer; rows: number } | undefined;
  private readonly heads = new WeakMap<TargetTable, TableHeads>();

  constructor(
    private readonly db: string,
    private readonly packetCharsMax: number,
  ) {}

  /** Bytes of SQL held (UTF-8): for the relay-log size bound. */
  get chars(): number {
    return this.held + this.cur.length + (this.run?.suffix.length ?? 0);
  }

  get empty(): boolean {
    return this.chars === 0;
  }

  private headsOf(t: TargetTable): TableHeads {
    let h = this.heads.get(t);
    if (h === undefined) {
      const ref = tableRef(this.db, t);
      const rest = t.columns.filter((_, i) => !t.keyIndexes.includes(i));
      // A table of key columns only: nothing to change, but the clause needs one assignment.
      const set = rest.length > 0 ? rest : [t.columns[t.keyIndexes[0]]];
      const single = t.keyIndexes.length === 1;
      h = {
        insert: Buffer.from(`INSERT INTO ${ref} (${t.columns.map(quoteIdent).join(',')}) VALUES `),
        upsertSuffix: Buffer.from(' ON DUPLICATE KEY UPDATE ' + set.map((c) => `${quoteIdent(c)} = VALUES(${quoteIdent(c)})`).join(', ')),
        delete: Buffer.from(`DELETE FROM ${ref} WHERE ` + (single ? `${quoteIdent(t.columns[t.keyIndexes[0]])} IN (` : '')),
        deleteSuffix: Buffer.from(single ? ')' : ''),
        keyNames: t.keyIndexes.map((i) => Buffer.from(quoteIdent(t.columns[i]) + ' = ')),
      };
      this.heads.set(t, h);
    }
    return h;
  }

  /**
   * `afterImage`: the after image as the binlog's bytes (t.image reads it); `after` is then empty
   * (non-null: the change has a new row), the new key is read from the image and the row's
   * literals are written from its bytes.
   */
  change(t: TargetTable, before: readonly Value[] | null, after: readonly Value[] | null, guard: CopyGuard, afterImage?: Buffer): void {
    let keyKept: boolean;
    if (afterImage !== undefined && after !== null) {
      const ip = imageOf(t);
      scanImage(ip, afterImage);
      keyKept = true;
      if (before !== null) {
        const keys = t.keyIndexes;
        for (let k = 0; k < keys.length; k++) if (!sameValue(before[keys[k]], ip.scratch[ip.columnIndexes[keys[k]]] as Value)) keyKept = false;
      }
    } else {
      afterImage = undefined;
      keyKept = before === null || after === null || t.keyIndexes.every((i) => sameValue(before[i], after[i]));
    }
    if (guard.mode !== 'all' || !keyKept) {
      const whole = afterImage !== undefined ? decodeImage(imageOf(t), afterImage) : after;
      for (const s of changeSql(this.db, t, before, whole, guard)) this.statement(s);
      return;
    }
    const cur = this.cur;
    const h = this.headsOf(t);
    if (after !== null) {
      const kind = before === null ? 'insert' : 'upsert';
      const r = this.run;
      if (r !== undefined && r.kind === kind && r.table === t) {
        const mark = cur.length;
        cur.byte(0x2c);
        if (afterImage !== undefined) writeImageTuple(cur, imageOf(t), afterImage, true);
        else cur.tuple(after);
        if (cur.length + r.suffix.length <= this.packetCharsMax) {
          r.rows++;
          return;
        }
        // The packet is full: the row starts a statement in the next one.
        const tup = cur.copyOf(mark + 1);
        cur.truncate(mark);
        this.closeRun();
        this.open(kind, t, kind === 'insert' ? EMPTY : h.upsertSuffix, h.insert, tup);
        return;
      }
      this.closeRun();
      const mark = cur.length;
      if (afterImage !== undefined) writeImageTuple(cur, imageOf(t), afterImage, true);
      else cur.tuple(after);
      const tup = cur.copyOf(mark);
      cur.truncate(mark);
      this.open(kind, t, kind === 'insert' ? EMPTY : h.upsertSuffix, h.insert, tup);
      return;
    }
    if (before === null) return;
    // One key column: `k IN (…)`, a range lookup per value. Several: an OR of AND terms, which
    // MariaDB's range optimizer also turns into key lookups.
    const single = t.keyIndexes.length === 1;
    const r = this.run;
    const mark = cur.length;
    if (r !== undefined && r.kind === 'delete' && r.table === t && r.rows < DELETE_KEYS_MAX) {
      if (single) cur.byte(0x2c);
      else cur.ascii(' OR ');
      this.keyTerm(h, t, before);
      if (cur.length + r.suffix.length <= this.packetCharsMax) {
        r.rows++;
        return;
      }
      cur.truncate(mark);
    }
    this.closeRun();
    const m = cur.length;
    this.keyTerm(h, t, before);
    const term = cur.copyOf(m);
    cur.truncate(m);
    this.open('delete', t, h.deleteSuffix, h.delete, term);
  }

  /** The key of one row to delete: its value, or `(k1 = v1 AND k2 = v2)`. */
  private keyTerm(h: TableHeads, t: TargetTable, row: readonly Value[]): void {
    const cur = this.cur;
    if (t.keyIndexes.length === 1) {
      cur.value(row[t.keyIndexes[0]]);
      return;
    }
    cur.byte(0x28);
    for (let k = 0; k < t.keyIndexes.length; k++) {
      if (k > 0) cur.ascii(' AND ');
      cur.bytes(h.keyNames[k]).value(row[t.keyIndexes[k]]);
    }
    cur.byte(0x29);
  }

  /** Starts a run with its first row: in this packet if it fits, else in the next. */
  private open(kind: 'insert' | 'delete' | 'upsert', t: TargetTable, suffix: Buffer, head: Buffer, first: Buffer): void {
    const cur = this.cur;
    if (cur.length > 0 && cur.length + 1 + head.length + first.length + suffix.length > this.packetCharsMax) this.cut();
    if (cur.length > 0) cur.byte(0x3b);
    cur.bytes(head).bytes(first);
    this.run = { kind, table: t, suffix, rows: 1 };
  }

  /**
   * A statement as is (DDL-free SQL of the target transaction), after everything added so far. A
   * packet of another packer's (the player's per source transaction) that fills a quarter of one
   * travels as a packet of its own rather than copied: copying the whole transaction's SQL into
   * fresh memory cost more than the round trip it saves.
   */
  statement(sql: SqlText): void {
    this.closeRun();
    const cur = this.cur;
    if (typeof sql !== 'string' && sql.length * 4 >= this.packetCharsMax) {
      if (cur.length > 0) this.cut();
      this.packets.push(sql);
      this.held += sql.length;
      return;
    }
    const n = typeof sql === 'string' ? Buffer.byteLength(sql) : sql.length;
    if (cur.length > 0 && cur.length + 1 + n > this.packetCharsMax) this.cut();
    if (cur.length > 0) cur.byte(0x3b);
    if (typeof sql === 'string') cur.text(sql);
    else cur.bytes(sql);
  }

  /** The packets, in order; the packer is empty afterwards. */
  finish(): Buffer[] {
    this.closeRun();
    if (this.cur.length > 0) this.cut();
    const out = this.packets.splice(0);
    this.held = 0;
    return out;
  }

  private cut(): void {
    const p = this.cur.take();
    this.packets.push(p);
    this.held += p.length;
  }

  private closeRun(): void {
    const r = this.run;
    if (r === undefined) return;
    this.run = undefined;
    if (r.suffix.length > 0) this.cur.bytes(r.suffix);
  }
}

interface TableHeads {
  readonly insert: Buffer;
  readonly upsertSuffix: Buffer;
  readonly delete: Buffer;
  readonly deleteSuffix: Buffer;
  /** `k = ` of each key column, for composite-key deletes. */
  readonly keyNames: readonly Buffer[];
}

const EMPTY = Buffer.alloc(0);

function imageOf(t: TargetTable): ImagePlan {
  if (t.image === undefined) throw new TesseraError(ER.NET_READ_ERROR, `vstream protocol error: rows of ${t.name} came as bytes, but its field event did not describe them`);
  return t.image;
}
