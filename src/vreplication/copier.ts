// The copy phase: each table's existing rows, in key order, in copy cycles.
//
// Design (docs/vreplication.md, "Copy phase"): Vitess's copy cycles rather than DBLog watermarks.
// A cycle asks the source tablet for a fresh consistent snapshot (no lock, MariaDB's
// START TRANSACTION WITH CONSISTENT SNAPSHOT) and at most `copyCycleRowsMax` rows after the last
// copied key. Before taking any of those rows, the target fast-forwards: it replays the binlog
// from the stream's position up to the snapshot's position, applying only changes to rows already
// copied (apply.ts's guard). Then every row of the cycle is the source's row as of that same
// position, and the stream's position becomes the snapshot's. Each batch commits on the target in
// one transaction with its `copy_state.lastpk` and the stream's `pos`, so a crash can neither lose
// nor repeat a batch: a restart fast-forwards from `pos` and copies after `lastpk`.
//
// Why cycles: a snapshot is held open only for one cycle (bounded rows), so the source's InnoDB
// history list stays short; the watermark design avoids even that, but needs a second pass over
// every chunk and a signal table written on the source. Cycles keep the source read-only.
import { GtidPosition } from '../mysql/binlog/index.js';
import { ER, TesseraError } from '../mysql/errors.js';
import type { SqlValue } from '../mysql/values.js';
import type { Filter } from './filter.js';
import { insertRowsSql, type CopyGuard, type TargetTable } from './apply.js';
import { play, type OnDdl, type PlayerTarget } from './player.js';
import type { LastPk } from './lastpk.js';
import type { VStreamer } from './vstreamer.js';

export interface CopyTableState {
  readonly table: string;
  /** null: not started. */
  lastPk: SqlValue[] | null;
}

export interface CopierTarget extends PlayerTarget {
  /**
   * Inserts a batch and saves progress in one transaction: `lastPk` for the table (or deletes the
   * table's copy_state row when `done`), `pos`, and rows_copied += rows.length.
   */
  applyCopyBatch(sql: string | null, table: string, lastPk: LastPk | null, done: boolean, position: GtidPosition, rows: number, bytes: number): Promise<void>;
  /** Saves `pos` alone (the first cycle of a new stream, before any row). */
  savePosition(position: GtidPosition): Promise<void>;
  /** Before the first row of `table` (again after a crash before its first batch committed). */
  beginTable?(table: string): Promise<void>;
  /** After `table`'s last batch committed; `remaining` are the tables still to copy. */
  endTable?(table: string, remaining: readonly string[]): Promise<void>;
}

export interface CopyOptions {
  readonly filter: Filter;
  readonly onDdl: OnDdl;
  readonly signal: AbortSignal;
  readonly copyCycleRowsMax: number;
  readonly batchRowsMax: number;
  readonly batchBytesMax: number;
  readonly relayLogMaxItems: number;
  readonly relayLogMaxBytes: number;
  /** Called before each batch is applied: a throttle may wait here (rows/s, bytes/s). */
  readonly beforeBatch?: (rows: number, bytes: number) => Promise<void>;
  /** Called before each cycle, while no snapshot is open: a throttle may wait here (source and replica health). */
  readonly beforeCycle?: () => Promise<void>;
}

export const COPIER_DEFAULTS = {
  /** Rows per copy cycle (one snapshot): bounds how long a snapshot stays open on the source. */
  copyCycleRowsMax: 100_000,
  /** --vstream-packet-size in rows / bytes: one copy batch, one target transaction. */
  batchRowsMax: 1_000,
  batchBytesMax: 256 * 1024,
  /** --vreplication-copy-readers: chunks of one table read at once (each its own source snapshot). */
  readers: 1,
  /** --vreplication-parallel-insert-workers: target connections applying copy batches at once. */
  insertWorkers: 1,
  /** A table is cut into chunks only when it holds at least readers × this many rows. */
  chunkRowsMin: 10_000,
};

function rowBytes(row: readonly SqlValue[]): number {
  let n = 0;
  for (const v of row) {
    if (v === null) n += 1;
    else if (typeof v === 'string') n += Buffer.byteLength(v);
    else if (Buffer.isBuffer(v)) n += v.length;
    else n += 8;
  }
  return n;
}

/**
 * Copies every table of `tables` (in order); returns the position the copy ended at. `tables`
 * holds the copy_state rows left; finished tables are removed from it as they complete.
 */
export async function copy(source: VStreamer, target: CopierTarget, startPos: GtidPosition, tables: CopyTableState[], o: CopyOptions): Promise<GtidPosition> {
  let pos = startPos;
  const guard = (table: string): CopyGuard => {
    const st = tables.find((t) => t.table === table);
    if (!st) return { mode: 'all' };
    if (st.lastPk === null) return { mode: 'skip' };
    return { mode: 'upto', lastPk: st.lastPk };
  };
  while (tables.length > 0) {
    if (o.beforeCycle) await o.beforeCycle();
    if (o.signal.aborted) return pos;
    const current = tables[0];
    let done = false;
    let target_: TargetTable | undefined;
    let pkColumns: readonly string[] = [];
    // The copy batch in flight on the target: the next batch is decoded and its INSERT built
    // while MariaDB applies it, and it is awaited before anything else uses the target (the next
    // batch, a fast-forward, the end of the cycle), so batches still commit one at a time in key
    // order with their lastpk. Its failure surfaces at that await.
    let inflight: Promise<void> = Promise.resolve();
    try {
      await source.vstreamRows(
        { table: current.table, filter: o.filter, lastPk: current.lastPk, batchRowsMax: o.batchRowsMax, batchBytesMax: o.batchBytesMax, rowsMax: o.copyCycleRowsMax },
        async (b) => {
          if (b.kind === 'header') {
            await inflight;
            const snap = GtidPosition.parse(b.position);
            if (pos.isEmpty) {
              await target.savePosition(snap);
              pos = snap;
            } else if (!snap.atLeast(pos)) {
              // A lagging source replica: its snapshot predates changes already applied.
              throw new TesseraError(ER.UNKNOWN_ERROR, `vreplication: the source snapshot for ${current.table} is at ${snap.toString()}, behind the stream's position ${pos.toString()}; retrying when the source catches up`, { kind: 'UNAVAILABLE' });
            } else if (!pos.equals(snap)) {
              const end = await play(source, target, {
                from: pos,
                stopAt: snap,
                filter: o.filter,
                guard,
                onDdl: o.onDdl,
                signal: o.signal,
                relayLogMaxItems: o.relayLogMaxItems,
                relayLogMaxBytes: o.relayLogMaxBytes,
              });
              if (end.reason !== 'stop-position') {
                if (end.reason === 'ddl-stop') throw new TesseraError(ER.UNKNOWN_ERROR, `vreplication: stopped at DDL during the copy phase (on_ddl STOP): ${end.statement}`, { kind: 'PERMANENT' });
                return; // aborted
              }
              // The catch-up ends at the first transaction boundary at or past snap, and that may be
              // past it: the source sends a run of transactions with nothing for this stream as one
              // position, its last. Everything in that run is nothing to this stream, so the rows
              // snap gives are the rows as of that boundary too. The player saved that position with
              // its last commit; going back to snap here would move `pos` backwards, and a restart
              // from there would replay (as plain inserts, once a table is copied) what was applied.
              pos = end.position;
              if (!pos.atLeast(snap)) throw new Error(`vreplication: the catch-up to ${snap.toString()} ended at ${pos.toString()}`);
            }
            pkColumns = b.pkColumns;
            if (current.lastPk === null && target.beginTable) await target.beginTable(current.table);
            const names = b.fields.map((f) => f.name);
            const key = await target.keyColumns(current.table);
            target_ = {
              name: current.table,
              columns: names,
              keyIndexes: key.map((k) => {
                const i = names.findIndex((n) => n.toLowerCase() === k.toLowerCase());
                if (i < 0) throw new TesseraError(ER.WRONG_ARGUMENTS, `vreplication: target table ${current.table} has key column ${k}, which the stream's filter does not select; select it in the filter`, { kind: 'PERMANENT' });
                return i;
              }),
            };
            return;
          }
          if (o.signal.aborted) return;
          if (!target_) throw new TesseraError(ER.UNKNOWN_ERROR, 'vreplication: copy rows arrived before their header (protocol error)');
          let bytes = 0;
          for (const r of b.rows) bytes += rowBytes(r);
          const sql = b.rows.length > 0 ? insertRowsSql(target.dbName, target_, b.rows) : null;
          await inflight;
          if (o.signal.aborted) return;
          if (o.beforeBatch) await o.beforeBatch(b.rows.length, bytes);
          const lastPk = [...b.lastPk];
          const applying = target.applyCopyBatch(sql, current.table, { columns: pkColumns, values: b.lastPk }, b.done, pos, b.rows.length, bytes).then(() => {
            current.lastPk = lastPk;
            if (b.done) done = true;
          });
          applying.catch(() => undefined);
          inflight = applying;
        },
        o.signal,
      );
      await inflight;
    } finally {
      // A failed or cancelled cycle still lets its last batch finish before the caller moves on.
      await inflight.catch(() => undefined);
    }
    if (o.signal.aborted) return pos;
    if (done || current.lastPk === null) {
      // `done`, or an empty table (no row batch at all): the table is copied.
      if (!done) await target.applyCopyBatch(null, current.table, null, true, pos, 0, 0);
      tables.shift();
      if (target.endTable) await target.endTable(current.table, tables.map((t) => t.table));
    }
  }
  return pos;
}
