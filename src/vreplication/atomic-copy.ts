// The copy phase of an atomic-copy stream (MoveTables --atomic-copy, workflow_sub_type 2): every
// table of the stream copied from ONE consistent snapshot of the source, one table after the
// other, with no catch-up or fast-forward in between, and the stream's position set to that
// snapshot's only when the last table is in. Replication then starts from there.
//
// Why: tables tied by foreign keys. The ordinary copy (copier.ts) takes a fresh snapshot per cycle
// and replays the binlog into the tables already copied before each one; a child row's parent may
// then be in a table not copied yet, and MariaDB does not write the rows a foreign key's ON DELETE
// CASCADE removes to the binlog at all (the replica's own constraint is expected to remove them),
// so a replay with foreign_key_checks off leaves orphans. Here every table holds the source's rows
// as of one position, inserted with foreign_key_checks=0 (a child may arrive before its parent),
// and replication from that position runs with foreign_key_checks=1 (controller.ts), so the
// target's constraints cascade as the source's did.
//
// Restart rule (differs from Vitess, which leaves an interrupted atomic copy in Error to be
// cancelled and created again): rows copied from a snapshot that is gone cannot be joined with rows
// of a new one, so a copy interrupted by anything (a kill -9 of the target tablet or its MariaDB, a
// source tablet lost, a retried error) starts over from a fresh snapshot: the target tables are
// emptied (TRUNCATE, foreign_key_checks=0) and their copy_state rows reset, then all tables are
// copied again. copy_state keeps one row per table for the whole copy (done tables are marked
// chunk_done, not deleted), so a restart knows every table and `Workflow show` shows every table's
// progress; the rows go, with `pos` set, in the one transaction that ends the copy.
//
// Cost: one snapshot is held open on the source for the whole copy, so its InnoDB history list
// grows with the writes made meanwhile (docs/movetables.md, "--atomic-copy").
import { GtidPosition } from '../mysql/binlog/index.js';
import { ER, TesseraError } from '../mysql/errors.js';
import { logger } from '../log/index.js';
import { insertRowsSql, type TargetTable } from './apply.js';
import { batchBytes, targetTableOf } from './copier.js';
import type { Filter } from './filter.js';
import type { LastPk } from './lastpk.js';
import type { CopyState } from './stream-store.js';
import type { VStreamer } from './vstreamer.js';
import type { SqlText } from './sql-bytes.js';

const log = logger('vreplication');

export interface AtomicCopyTarget {
  readonly dbName: string;
  keyColumns(table: string): Promise<readonly string[]>;
  /** Empties `tables` and resets the stream's copy_state rows and rows_copied (a restart). */
  restartAtomicCopy(tables: readonly string[]): Promise<void>;
  /** Inserts a batch and saves its table's progress (copy_state row `rowId`) in one transaction. */
  applyChunkBatch(sql: SqlText | null, rowId: number, lastPk: LastPk | null, done: boolean, rows: number, bytes: number): Promise<void>;
  /** Every table copied: deletes all copy_state rows and sets `pos`, in one transaction. */
  finishAtomicCopy(position: GtidPosition): Promise<void>;
  /** Before the first row of `table` (deferred secondary keys). */
  beginTable?(table: string): Promise<void>;
}

export interface AtomicCopyOptions {
  readonly filter: Filter;
  readonly signal: AbortSignal;
  readonly batchRowsMax: number;
  readonly batchBytesMax: number;
  /** Before the snapshot is opened: the source and replica health throttles. */
  readonly beforeCycle?: () => Promise<void>;
  /** Before each batch: the rate caps. */
  readonly beforeBatch?: (rows: number, bytes: number) => Promise<void>;
  /** Told when the copy starts over (for the stream's log). */
  readonly onRestart?: (tables: readonly string[]) => Promise<void>;
}

/** True when an earlier attempt of the copy had committed anything (the copy must start over). */
export function atomicCopyStarted(rows: readonly CopyState[]): boolean {
  return rows.some((r) => r.lastpk !== null || r.chunkDone || r.rowsCopied > 0);
}

/**
 * Copies every table of `rows` (the stream's copy_state) from one snapshot; returns the snapshot's
 * position once the copy is committed, or undefined when `signal` ended it first.
 */
export async function copyAtomic(source: VStreamer, target: AtomicCopyTarget, rows: readonly CopyState[], o: AtomicCopyOptions): Promise<GtidPosition | undefined> {
  const tables: string[] = [];
  const rowIdOf = new Map<string, number>();
  for (const r of rows) {
    if (rowIdOf.has(r.table)) throw new TesseraError(ER.UNKNOWN_ERROR, `vreplication: atomic copy: table ${r.table} has more than one copy_state row (a chunked copy); an atomic copy reads each table whole`, { kind: 'PERMANENT' });
    rowIdOf.set(r.table, r.rowId);
    tables.push(r.table);
  }
  if (tables.length === 0) throw new TesseraError(ER.UNKNOWN_ERROR, 'vreplication: atomic copy with no table to copy');
  if (atomicCopyStarted(rows)) {
    log.warn({ tables }, 'atomic copy interrupted: emptying the target tables and copying again from a fresh snapshot');
    await target.restartAtomicCopy(tables);
    if (o.onRestart) await o.onRestart(tables);
  }
  for (const t of tables) if (target.beginTable) await target.beginTable(t);
  if (o.beforeCycle) await o.beforeCycle();
  if (o.signal.aborted) return undefined;

  let position: GtidPosition | undefined;
  let index = -1;
  let shape: TargetTable | undefined;
  let pkColumns: readonly string[] = [];
  const done = new Set<string>();
  // One batch in flight on the target while the next is decoded (as copier.ts's single cycle).
  let inflight: Promise<void> = Promise.resolve();
  try {
    await source.vstreamRows(
      { table: tables[0], tables, filter: o.filter, lastPk: null, batchRowsMax: o.batchRowsMax, batchBytesMax: o.batchBytesMax },
      async (b) => {
        if (b.kind === 'header') {
          await inflight;
          index++;
          const table = tables[index];
          if (table === undefined || (b.table !== undefined && b.table !== table)) {
            throw new TesseraError(ER.UNKNOWN_ERROR, `vreplication: atomic copy: the source sent table ${b.table ?? '?'} where ${table ?? 'no more tables'} was expected (protocol error)`);
          }
          const snap = GtidPosition.parse(b.position);
          if (position === undefined) position = snap;
          else if (!position.equals(snap)) throw new TesseraError(ER.UNKNOWN_ERROR, `vreplication: atomic copy: table ${table} came at ${snap.toString()}, not at the copy's snapshot ${position.toString()} (protocol error)`);
          pkColumns = b.pkColumns;
          shape = targetTableOf(table, b.fields.map((f) => f.name), await target.keyColumns(table));
          return;
        }
        if (o.signal.aborted) return;
        if (!shape) throw new TesseraError(ER.UNKNOWN_ERROR, 'vreplication: copy rows arrived before their header (protocol error)');
        const table = shape.name;
        const bytes = batchBytes(b.rows);
        const sql = b.rows.length > 0 ? insertRowsSql(target.dbName, shape, b.rows) : null;
        await inflight;
        if (o.signal.aborted) return;
        if (o.beforeBatch) await o.beforeBatch(b.rows.length, bytes);
        const lastPk = b.lastPk.length > 0 ? { columns: pkColumns, values: [...b.lastPk] } : null;
        const applying = target.applyChunkBatch(sql, rowIdOf.get(table)!, lastPk, b.done, b.rows.length, bytes).then(() => {
          if (b.done) done.add(table);
        });
        applying.catch(() => undefined);
        inflight = applying;
      },
      o.signal,
    );
    await inflight;
  } finally {
    await inflight.catch(() => undefined);
  }
  if (o.signal.aborted) return undefined;
  const missing = tables.filter((t) => !done.has(t));
  if (position === undefined || missing.length > 0) {
    throw new TesseraError(ER.UNKNOWN_ERROR, `vreplication: atomic copy: the source ended the snapshot before ${missing.join(', ') || 'any table'} was copied; the copy starts over`, { kind: 'UNAVAILABLE' });
  }
  await target.finishAtomicCopy(position);
  return position;
}
