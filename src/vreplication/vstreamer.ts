// The source side of VReplication as one seam: what a target tablet's engine asks of a source
// tablet. Two implementations answer it — the source tablet itself (in process: it picks its own
// MariaDB, keeps its binlog, filters) and a network client on a connection of its own, so copy
// traffic never queues behind the gate's point queries on the shared query-service connection.
//
// Contract, both implementations:
// - Callbacks are flow control: the next batch is not produced (or, over the network, not granted)
//   until the promise a callback returned settles. A callback that throws ends the call with that
//   error, and the source stops reading.
// - `signal` ends a call early; the returned promise then resolves (it does not reject).
// - Errors are TesseraErrors with errno, SQLSTATE and a message naming the table, the position or
//   the limit involved. A source that cannot serve (not a tablet of the wanted keyspace, MariaDB
//   gone) fails with kind 'UNAVAILABLE' so the caller picks another source tablet.
// - Values are the binlog reader's RowValue (null | number | bigint | string | Buffer) in both
//   calls, so the target applies copy rows and binlog rows through one code path; bigint and
//   Buffer values cross the network exactly (see vstream-codec.ts).
import type { SqlValue } from '../mysql/values.js';
import type { Filter } from './filter.js';
import type { FieldInfo, StreamEvent } from './row-streamer.js';

export interface VStreamRequest {
  /** GTID position to stream from (`MariaDB/0-100-42` or the bare GTID list); 'current' = now. */
  readonly position: string;
  readonly filter: Filter;
  /** Send a heartbeat event when nothing else was sent for this long (default 1000 ms). */
  readonly heartbeatIntervalMs?: number;
  /** Events per callback at most; a callback also fires at every commit when the source is idle. */
  readonly packetSizeMax?: number;
  /**
   * UPDATE before images carry only the table's primary-key columns (the rest null) when the rule
   * does not filter rows and the binlog names the key; the field event marks the columns left out
   * (`inBefore: false`). A consumer that only needs the old row's key (the player) asks for it:
   * the source decodes, and both sides encode and decode, half the values of an update.
   */
  readonly keyOnlyBefore?: boolean;
  /**
   * With keyOnlyBefore: after images travel as MariaDB's bytes (`afterImage` on each change, the
   * table's binlog columns on its field event as `image`) for tables whose rule keeps columns
   * without conditions (or by key range), instead of every value decoded into a JS value, encoded,
   * decoded and quoted; the target writes each value's SQL literal from the bytes. A source that
   * does not know the flag ignores it (whole values, as before); a target sets it only when it
   * reads `afterImage`, so old and new tablets work together either way.
   */
  readonly rawAfterImages?: boolean;
}

export interface VStreamRowsRequest {
  /** The source table to copy. */
  readonly table: string;
  /** The stream's filter: the rule matching `table` decides columns and rows, as in vstream. */
  readonly filter: Filter;
  /** Resume after this key (values in key-column order); null starts at the beginning. */
  readonly lastPk: readonly SqlValue[] | null;
  /** Bounds of one batch: whichever comes first. */
  readonly batchRowsMax?: number;
  readonly batchBytesMax?: number;
  /** Stop after this many rows (the copy cycle's size); 0 = the whole table. Per chunk with `chunks`. */
  readonly rowsMax?: number;
  /**
   * Read these key ranges instead of the rows after `lastPk`, all at once, each on its own
   * snapshot connection: the rows after `lastPk` up to and including `endPk` (null: to the end).
   * With more than one chunk the source holds `LOCK TABLES <table> READ` while it opens the
   * snapshots (milliseconds), so every snapshot holds the same rows of the table, and the header's
   * position is the latest of them. Batches carry their chunk's index.
   */
  readonly chunks?: readonly CopyChunk[];
  /**
   * Instead of rows: cut the table into at most this many chunks of about equal rows, by walking
   * its key index, and answer the chunk ends (keys) as the rows of one batch, in key order. No ends
   * (one chunk) when the table holds fewer than `sampleChunks × sampleRowsMin` rows.
   */
  readonly sampleChunks?: number;
  readonly sampleRowsMin?: number;
  /**
   * An atomic copy: every one of these tables in turn, whole, on ONE consistent snapshot (`table`
   * and `lastPk` are then ignored; no chunks, no rowsMax). Each table's rows follow a header that
   * names it, and its last batch says `done`; every header carries the same position.
   */
  readonly tables?: readonly string[];
}

export interface CopyChunk {
  readonly lastPk: readonly SqlValue[] | null;
  readonly endPk: readonly SqlValue[] | null;
}

/**
 * A copy cycle's answer: a header first (the consistent snapshot's position, the columns, the key
 * the rows are ordered by), then batches of rows after `lastPk` in key order, each with the key of
 * its last row. `done` on the last batch means the table has no rows after it.
 */
export type RowsBatch =
  | {
      readonly kind: 'header';
      /** The snapshot's GTID position: the rows that follow are the table as of this position. */
      readonly position: string;
      readonly fields: readonly FieldInfo[];
      /** The columns rows are ordered and resumed by: the primary key, or a unique NOT NULL key. */
      readonly pkColumns: readonly string[];
      /** With `tables`: the source table whose rows follow. */
      readonly table?: string;
    }
  | {
      readonly kind: 'rows';
      readonly rows: readonly SqlValue[][];
      /** Key of the last row scanned (rows filtered out by the rule still advance it). */
      readonly lastPk: readonly SqlValue[];
      readonly done: boolean;
      /** With `chunks`: which chunk (index in the request) the batch belongs to; `done` ends that chunk. */
      readonly chunk?: number;
    };

export interface VStreamer {
  vstream(req: VStreamRequest, onEvents: (events: readonly StreamEvent[]) => Promise<void>, signal: AbortSignal): Promise<void>;
  vstreamRows(req: VStreamRowsRequest, onBatch: (batch: RowsBatch) => Promise<void>, signal: AbortSignal): Promise<void>;
}

/**
 * `vs` with its own failures told apart from its callbacks': `onSourceFailure` runs when a call
 * fails for a reason other than a callback throwing (the source tablet died, refused, or broke the
 * stream). The controller uses it to leave a dead source tablet for another one, while a failure of
 * the target (its MariaDB gone) does not make it abandon a healthy source.
 */
export function watchSourceFailures(vs: VStreamer, onSourceFailure: (err: unknown) => void): VStreamer {
  const watch = async <T>(call: (cb: (x: T) => Promise<void>) => Promise<void>, cb: (x: T) => Promise<void>): Promise<void> => {
    let inCallback = false;
    try {
      await call(async (x) => {
        try {
          await cb(x);
        } catch (err) {
          inCallback = true;
          throw err;
        }
      });
    } catch (err) {
      if (!inCallback) onSourceFailure(err);
      throw err;
    }
  };
  return {
    vstream: (req, onEvents, signal) => watch((cb) => vs.vstream(req, cb, signal), onEvents),
    vstreamRows: (req, onBatch, signal) => watch((cb) => vs.vstreamRows(req, cb, signal), onBatch),
  };
}
