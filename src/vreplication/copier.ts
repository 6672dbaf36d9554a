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
import type { RowsBatch, VStreamer } from './vstreamer.js';
import type { SqlText } from './sql-bytes.js';

/** One chunk of a table's copy: one copy_state row. */
export interface CopyChunkState {
  /** Its copy_state.id. */
  readonly rowId: number;
  /** The last key copied (or the chunk's start, the previous chunk's end); null: from the table's start. */
  lastPk: SqlValue[] | null;
  /** The chunk's last key, inclusive; null: to the table's end. */
  readonly endPk: SqlValue[] | null;
  done: boolean;
}

export interface CopyTableState {
  readonly table: string;
  /** One chunk (endPk null) unless the table was cut for parallel readers. */
  chunks: CopyChunkState[];
}

/** A target connection of its own, applying copy batches of chunks beside the others. */
export interface CopyWorker {
  /**
   * Inserts a batch of one chunk and saves the chunk's progress in one transaction: its lastpk
   * (unchanged when null), done, its rows and bytes, and the stream's rows_copied.
   */
  applyChunkBatch(sql: SqlText | null, rowId: number, lastPk: LastPk | null, done: boolean, rows: number, bytes: number): Promise<void>;
  close(): void;
}

export interface CopierTarget extends PlayerTarget {
  /**
   * Inserts a batch and saves progress in one transaction: `lastPk` for the table (or deletes the
   * table's copy_state rows when `done`), `pos`, and rows_copied += rows.length.
   */
  applyCopyBatch(sql: SqlText | null, table: string, lastPk: LastPk | null, done: boolean, position: GtidPosition, rows: number, bytes: number): Promise<void>;
  /** Saves `pos` alone (the first cycle of a new stream, before any row). */
  savePosition(position: GtidPosition): Promise<void>;
  /** Before the first row of `table` (again after a crash before its first batch committed). */
  beginTable?(table: string): Promise<void>;
  /** After `table`'s last batch committed; `remaining` are the tables still to copy. */
  endTable?(table: string, remaining: readonly string[]): Promise<void>;
  /** Replaces a not-started table's copy_state row by one row per chunk (`ends`: every chunk's last key but the last's), in one transaction. */
  splitTable?(table: string, ends: readonly LastPk[]): Promise<CopyChunkState[]>;
  /** A connection of its own for parallel chunk batches. */
  openCopyWorker?(): Promise<CopyWorker>;
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
  /** Chunks of one table read at once (a table not started is cut into this many). */
  readonly readers?: number;
  /** Target connections applying chunk batches at once. */
  readonly insertWorkers?: number;
  /** A table is cut only when it has at least readers × this many rows. */
  readonly chunkRowsMin?: number;
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
 *
 * Parallel copy (docs/vreplication.md, "Parallel, chunked copy"): a table not started is cut into
 * `readers` chunks at keys the source finds by walking its key index, one copy_state row each.
 * A cycle then reads up to `readers` unfinished chunks at once, each on its own source snapshot;
 * the source opens them under a short read lock of the table, so all of them hold the same rows of
 * it, as of the cycle's one position. The fast-forward before the cycle's rows applies changes only
 * to rows outside every unfinished chunk's remaining range. Batches go to `insertWorkers` target
 * connections by chunk, so one chunk's batches commit in key order, each with its chunk's row.
 */
export async function copy(source: VStreamer, target: CopierTarget, startPos: GtidPosition, tables: CopyTableState[], o: CopyOptions): Promise<GtidPosition> {
  let pos = startPos;
  const readers = Math.max(1, o.readers ?? COPIER_DEFAULTS.readers);
  const workersWanted = Math.max(1, o.insertWorkers ?? COPIER_DEFAULTS.insertWorkers);
  const guard = (table: string): CopyGuard => {
    const st = tables.find((t) => t.table === table);
    if (!st) return { mode: 'all' };
    const open = st.chunks.filter((c) => !c.done);
    if (open.length === 0) return { mode: 'all' };
    if (open.length === 1 && open[0].endPk === null) return open[0].lastPk === null ? { mode: 'skip' } : { mode: 'upto', lastPk: open[0].lastPk };
    return { mode: 'pending', ranges: open.map((c) => ({ after: c.lastPk, upTo: c.endPk })) };
  };
  const workers: { w: CopyWorker; inflight: Promise<void> }[] = [];
  try {
    while (tables.length > 0) {
      const current = tables[0];
      const notStarted = current.chunks.length === 1 && current.chunks[0].lastPk === null && current.chunks[0].endPk === null;
      if (readers > 1 && notStarted && target.splitTable) {
        const cut = await sampleChunkEnds(source, current.table, readers, o);
        if (o.signal.aborted) return pos;
        if (cut && cut.ends.length > 0) {
          // The keys go before the split commits: after it, nothing marks the table as not started.
          if (target.beginTable) await target.beginTable(current.table);
          current.chunks = await target.splitTable(current.table, cut.ends.map((values) => ({ columns: cut.pkColumns, values })));
        }
      }
      if (o.beforeCycle) await o.beforeCycle();
      if (o.signal.aborted) return pos;
      const open = current.chunks.filter((c) => !c.done);
      let tableDone = open.length === 0;
      if (!tableDone && current.chunks.length === 1) {
        tableDone = await singleCycle(current);
      } else if (!tableDone) {
        while (workers.length < workersWanted && target.openCopyWorker) workers.push({ w: await target.openCopyWorker(), inflight: Promise.resolve() });
        if (workers.length === 0) throw new Error('vreplication: a chunked copy needs a target with copy workers');
        await chunkCycle(current, open.slice(0, readers));
        tableDone = current.chunks.every((c) => c.done);
        // Every chunk done: the table's rows go with the position, as a single-chunk table's last batch does.
        if (tableDone && !o.signal.aborted) await target.applyCopyBatch(null, current.table, null, true, pos, 0, 0);
      }
      if (o.signal.aborted) return pos;
      if (tableDone) {
        tables.shift();
        if (target.endTable) await target.endTable(current.table, tables.map((t) => t.table));
      }
    }
    return pos;
  } finally {
    for (const x of workers) {
      await x.inflight.catch(() => undefined);
      x.w.close();
    }
  }

  /** The cycle's header: fast-forward to its snapshot, then the target table's shape. */
  async function onHeader(b: Extract<RowsBatch, { kind: 'header' }>, current: CopyTableState): Promise<{ target: TargetTable; pkColumns: readonly string[] } | undefined> {
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
        return undefined; // aborted
      }
      // The catch-up ends at the first transaction boundary at or past snap, and that may be
      // past it: the source sends a run of transactions with nothing for this stream as one
      // position, its last. Everything in that run is nothing to this stream, so the rows snap
      // gives are the rows as of that boundary too. The player saved that position with its last
      // commit; going back to snap here would move `pos` backwards, and a restart from there would
      // replay (as plain inserts, once a table is copied) what was applied.
      pos = end.position;
      if (!pos.atLeast(snap)) throw new Error(`vreplication: the catch-up to ${snap.toString()} ended at ${pos.toString()}`);
    }
    return { pkColumns: b.pkColumns, target: targetTableOf(current.table, b.fields.map((f) => f.name), await target.keyColumns(current.table)) };
  }

  /** One cycle of a table copied as one range; true when the table is copied. */
  async function singleCycle(current: CopyTableState): Promise<boolean> {
    const chunk = current.chunks[0];
    let done = false;
    let shape: { target: TargetTable; pkColumns: readonly string[] } | undefined;
    // The copy batch in flight on the target: the next batch is decoded and its INSERT built
    // while MariaDB applies it, and it is awaited before anything else uses the target (the next
    // batch, a fast-forward, the end of the cycle), so batches still commit one at a time in key
    // order with their lastpk. Its failure surfaces at that await.
    let inflight: Promise<void> = Promise.resolve();
    try {
      await source.vstreamRows(
        { table: current.table, filter: o.filter, lastPk: chunk.lastPk, batchRowsMax: o.batchRowsMax, batchBytesMax: o.batchBytesMax, rowsMax: o.copyCycleRowsMax },
        async (b) => {
          if (b.kind === 'header') {
            await inflight;
            shape = await onHeader(b, current);
            if (shape && chunk.lastPk === null && target.beginTable) await target.beginTable(current.table);
            return;
          }
          if (o.signal.aborted) return;
          if (!shape) throw new TesseraError(ER.UNKNOWN_ERROR, 'vreplication: copy rows arrived before their header (protocol error)');
          const bytes = batchBytes(b.rows);
          const sql = b.rows.length > 0 ? insertRowsSql(target.dbName, shape.target, b.rows) : null;
          await inflight;
          if (o.signal.aborted) return;
          if (o.beforeBatch) await o.beforeBatch(b.rows.length, bytes);
          const lastPk = [...b.lastPk];
          const applying = target.applyCopyBatch(sql, current.table, { columns: shape.pkColumns, values: b.lastPk }, b.done, pos, b.rows.length, bytes).then(() => {
            chunk.lastPk = lastPk;
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
    if (o.signal.aborted) return false;
    if (done) return true;
    if (chunk.lastPk === null) {
      // An empty table (no row batch at all): the table is copied.
      await target.applyCopyBatch(null, current.table, null, true, pos, 0, 0);
      return true;
    }
    return false;
  }

  /** One cycle over several chunks of a table, their batches spread over the insert workers. */
  async function chunkCycle(current: CopyTableState, chunks: CopyChunkState[]): Promise<void> {
    let shape: { target: TargetTable; pkColumns: readonly string[] } | undefined;
    const idle = async () => {
      const settled = await Promise.allSettled(workers.map((x) => x.inflight));
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    };
    try {
      await source.vstreamRows(
        {
          table: current.table,
          filter: o.filter,
          lastPk: null,
          chunks: chunks.map((c) => ({ lastPk: c.lastPk, endPk: c.endPk })),
          batchRowsMax: o.batchRowsMax,
          batchBytesMax: o.batchBytesMax,
          rowsMax: Math.max(1, Math.ceil(o.copyCycleRowsMax / chunks.length)),
        },
        async (b) => {
          if (b.kind === 'header') {
            await idle();
            shape = await onHeader(b, current);
            return;
          }
          if (o.signal.aborted) return;
          if (!shape) throw new TesseraError(ER.UNKNOWN_ERROR, 'vreplication: copy rows arrived before their header (protocol error)');
          const chunk = b.chunk === undefined ? undefined : chunks[b.chunk];
          if (!chunk) throw new TesseraError(ER.UNKNOWN_ERROR, `vreplication: copy rows for chunk ${String(b.chunk)} of a cycle of ${chunks.length} (protocol error)`);
          const bytes = batchBytes(b.rows);
          const sql = b.rows.length > 0 ? insertRowsSql(target.dbName, shape.target, b.rows) : null;
          // A chunk always goes to the same worker: its batches commit in key order.
          const x = workers[chunks.indexOf(chunk) % workers.length];
          await x.inflight;
          if (o.signal.aborted) return;
          if (o.beforeBatch) await o.beforeBatch(b.rows.length, bytes);
          const lastPk = b.lastPk.length > 0 ? [...b.lastPk] : null;
          const applying = x.w.applyChunkBatch(sql, chunk.rowId, lastPk === null ? null : { columns: shape.pkColumns, values: lastPk }, b.done, b.rows.length, bytes).then(() => {
            if (lastPk !== null) chunk.lastPk = lastPk;
            if (b.done) chunk.done = true;
          });
          applying.catch(() => undefined);
          x.inflight = applying;
        },
        o.signal,
      );
      await idle();
    } finally {
      await Promise.allSettled(workers.map((x) => x.inflight));
    }
  }
}

/** The target table a copy header describes: its columns as sent, its key among them. */
export function targetTableOf(table: string, names: readonly string[], key: readonly string[]): TargetTable {
  return {
    name: table,
    columns: [...names],
    keyIndexes: key.map((k) => {
      const i = names.findIndex((n) => n.toLowerCase() === k.toLowerCase());
      if (i < 0) throw new TesseraError(ER.WRONG_ARGUMENTS, `vreplication: target table ${table} has key column ${k}, which the stream's filter does not select; select it in the filter`, { kind: 'PERMANENT' });
      return i;
    }),
  };
}

export function batchBytes(rows: readonly (readonly SqlValue[])[]): number {
  let bytes = 0;
  for (const r of rows) bytes += rowBytes(r);
  return bytes;
}

/** Asks the source where to cut `table` into `n` chunks; undefined when aborted. */
async function sampleChunkEnds(source: VStreamer, table: string, n: number, o: CopyOptions): Promise<{ ends: SqlValue[][]; pkColumns: readonly string[] } | undefined> {
  let pkColumns: readonly string[] = [];
  let ends: SqlValue[][] = [];
  await source.vstreamRows(
    { table, filter: o.filter, lastPk: null, sampleChunks: n, sampleRowsMin: o.chunkRowsMin ?? COPIER_DEFAULTS.chunkRowsMin },
    async (b) => {
      if (b.kind === 'header') pkColumns = b.pkColumns;
      else ends = ends.concat(b.rows);
    },
    o.signal,
  );
  if (o.signal.aborted) return undefined;
  return { ends, pkColumns };
}
