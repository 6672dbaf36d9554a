// The player: replays a source's filtered binlog on the target, in source commit order. Every
// target transaction also moves the stream's `pos`, so after a crash the stream resumes exactly
// after the last source transaction it applied — never one twice, never one skipped.
//
// Source transactions are grouped: while the target applies one transaction, the whole source
// transactions that arrive meanwhile gather into the next (up to GROUP_PACKETS_MAX packets of SQL;
// past that, the source waits). A target that keeps up gets each source batch as it comes; one
// that falls behind gets fewer, larger transactions, so catching up costs fewer commits (each two
// fsyncs with sync_binlog=1) and round trips instead of one of each per source transaction.
// A transaction's events are held in memory until its commit, bounded by `relayLogMaxItems` and
// `relayLogMaxBytes` (a larger source transaction is an error naming the limit).
import { GtidPosition } from '../mysql/binlog/index.js';
import { ER, TesseraError } from '../mysql/errors.js';
import type { Filter } from './filter.js';
import type { StreamEvent } from './row-streamer.js';
import type { VStreamer } from './vstreamer.js';
import { APPLY_ALL, SqlPacker, type CopyGuard, type TargetTable } from './apply.js';
import type { SqlText } from './sql-bytes.js';
import { imagePlan } from './row-images.js';

export interface PlayerTarget {
  /** The target database (`vt_customer`). */
  readonly dbName: string;
  /** The target table's key columns (primary key, or a unique NOT NULL key), by table name. */
  keyColumns(table: string): Promise<readonly string[]>;
  /**
   * Runs statements as one transaction, followed by the stream's position update; the position
   * statements are built by the caller from what was applied.
   */
  applyTransaction(statements: readonly SqlText[], position: GtidPosition, transactionTimestamp: number, rowsApplied: number): Promise<void>;
  /** Runs a source DDL statement on the target database, then saves the position. */
  applyDdl(statement: string, position: GtidPosition): Promise<void>;
  /** Records the source's heartbeat (idle source: lag stays true). */
  heartbeat(lagSeconds: number): Promise<void>;
}

export type OnDdl = 'IGNORE' | 'STOP' | 'EXEC' | 'EXEC_IGNORE';

export interface PlayOptions {
  readonly from: GtidPosition;
  readonly filter: Filter;
  /** Stop once this position is reached (a fast-forward's snapshot position, or stop_pos). */
  readonly stopAt?: GtidPosition;
  /** Per table during the copy phase; every change applies otherwise. */
  readonly guard?: (table: string) => CopyGuard;
  readonly onDdl: OnDdl;
  readonly signal: AbortSignal;
  readonly relayLogMaxItems: number;
  readonly relayLogMaxBytes: number;
  readonly packetSizeMax?: number;
  readonly heartbeatIntervalMs?: number;
  /** Characters of SQL per round trip to the target (PLAYER_DEFAULTS.applyPacketCharsMax). */
  readonly applyPacketCharsMax?: number;
  /** Ask the source for whole UPDATE before images from the start (default: the key only, see play). */
  readonly fullBeforeImages?: boolean;
  /**
   * Ask the source for after images as MariaDB's bytes (VStreamRequest.rawAfterImages; default
   * true, with key-only before images); false: every value decoded and sent as a value.
   */
  readonly rawAfterImages?: boolean;
}

export type PlayEnd =
  | { readonly reason: 'stop-position'; readonly position: GtidPosition }
  | { readonly reason: 'ddl-stop'; readonly position: GtidPosition; readonly statement: string }
  | { readonly reason: 'aborted'; readonly position: GtidPosition };

export const PLAYER_DEFAULTS = {
  /** --relay-log-max-items: binlog row events of one source transaction held before its commit. */
  relayLogMaxItems: 5_000,
  /** --relay-log-max-size: bytes of one source transaction held before its commit (estimate). */
  relayLogMaxBytes: 250 * 1024 * 1024,
  /**
   * Characters of SQL sent to the target in one multi-statement round trip. At most 3 bytes each
   * in UTF-8, so 1 Mi characters stay well under the target's max_allowed_packet (64M as mysqlctl
   * writes it, 16M by MariaDB's default).
   */
  applyPacketCharsMax: 1024 * 1024,
};

/**
 * Packets of SQL (of applyPacketCharsMax each) gathered for the next target transaction while the
 * current one is applied; the source is held once the gathered group is this large. With one
 * transaction in flight and one gathering, the target side holds at most about twice this much SQL.
 */
export const GROUP_PACKETS_MAX = 8;

interface TableState {
  readonly table: TargetTable;
}

function estimateBytes(v: unknown): number {
  if (v === null || v === undefined) return 1;
  if (typeof v === 'string') return v.length * 2;
  if (Buffer.isBuffer(v)) return v.length;
  return 8;
}

export async function play(source: VStreamer, target: PlayerTarget, o: PlayOptions): Promise<PlayEnd> {
  let pos = o.from;
  if (o.stopAt && pos.atLeast(o.stopAt)) return { reason: 'stop-position', position: pos };
  const tables = new Map<string, TableState>();
  const packetCharsMax = o.applyPacketCharsMax ?? PLAYER_DEFAULTS.applyPacketCharsMax;
  const groupCharsMax = packetCharsMax * GROUP_PACKETS_MAX;
  // Statements of complete source transactions not yet committed on the target.
  const batch = new SqlPacker(target.dbName, packetCharsMax);
  let batchRows = 0;
  let batchPos: GtidPosition | undefined;
  let batchTs = 0;
  // The source transaction being received: a rollback drops it, so it is packed apart.
  const trx = new SqlPacker(target.dbName, packetCharsMax);
  let trxRows = 0;
  // Binlog row events of the transaction (each up to a few KB of rows): relay-log-max-items
  // counts these, as Vitess's relay log does, so a large source transaction is bounded by its
  // bytes (relay-log-max-size) rather than refused for its row count.
  let trxEvents = 0;
  let trxBytes = 0;
  let end: PlayEnd | undefined;
  // Update before images carry only the source's primary key (VStreamRequest.keyOnlyBefore), which
  // is all the SQL needs of the old row while the target's key is the same columns; otherwise the
  // stream starts again with whole images.
  let fullBefore = o.fullBeforeImages === true;
  let wantFullBefore = false;
  const local = new AbortController();
  const onAbort = () => local.abort();
  o.signal.addEventListener('abort', onAbort, { once: true });
  // A stop that came while the controller was still starting (before this listener existed) must
  // end the stream too: the listener never fires for a signal already aborted.
  if (o.signal.aborted) local.abort();

  // The target transaction MariaDB is applying, if any. The next group's SQL is built meanwhile
  // (the source streams on); when it ends, the group gathered so far starts at once, so
  // transactions commit one at a time in source order. A failed one stays here: everything that
  // waits for the target afterwards gets its error, and nothing more is started.
  let applying: Promise<void> | undefined;
  let failed = false;

  /** Starts applying the gathered group, if there is one and the target is free. */
  const kick = (): void => {
    // Stopped: play has returned (or is returning) its position, and the caller takes the target
    // as holding exactly that; these transactions come again when the stream restarts.
    if (applying !== undefined || batchPos === undefined || local.signal.aborted) return;
    const packets = batch.finish();
    const at = batchPos;
    const ts = batchTs;
    const rows = batchRows;
    batchRows = 0;
    batchPos = undefined;
    const p = target.applyTransaction(packets, at, ts, rows).then(() => {
      pos = at;
      applying = undefined;
      kick();
    });
    // Awaited by whoever next needs the target; this keeps it from counting as unhandled meanwhile.
    p.catch(() => {
      failed = true;
    });
    applying = p;
  };

  /** Until every gathered transaction is applied (or the stream stopped): the target is free. */
  const flush = async (): Promise<void> => {
    kick();
    while (applying !== undefined) await applying;
  };

  const boundary = (p: GtidPosition, ts: number): boolean => {
    if (!trx.empty) {
      for (const s of trx.finish()) batch.statement(s);
      batchRows += trxRows;
      batchTs = ts;
    }
    trxRows = 0;
    trxEvents = 0;
    trxBytes = 0;
    batchPos = p;
    if (o.stopAt && p.atLeast(o.stopAt)) {
      end = { reason: 'stop-position', position: p };
      return true;
    }
    return false;
  };

  const onEvents = async (events: readonly StreamEvent[]): Promise<void> => {
    // Once stopped, batches still handed over (a source that had them on their way) are dropped.
    if (end || local.signal.aborted) return;
    // The target failed: the stream ends with its error rather than gathering on.
    if (failed) await applying;
    for (const ev of events) {
      if (local.signal.aborted) return;
      switch (ev.type) {
        case 'begin':
          trx.finish();
          trxRows = 0;
          trxEvents = 0;
          trxBytes = 0;
          break;
        case 'field': {
          const names = ev.fields.map((f) => f.name);
          await flush();
          const key = await target.keyColumns(ev.table);
          const keyIndexes = key.map((k) => {
            const i = names.findIndex((n) => n.toLowerCase() === k.toLowerCase());
            if (i < 0) {
              throw new TesseraError(ER.WRONG_ARGUMENTS, `vreplication: target table ${ev.table} has key column ${k}, which the stream's filter does not select; select it in the filter`, { kind: 'PERMANENT' });
            }
            return i;
          });
          if (keyIndexes.some((i) => ev.fields[i].inBefore === false)) {
            // The target's key is not the source's primary key: updates need whole old rows.
            wantFullBefore = true;
            throw new TesseraError(ER.UNKNOWN_ERROR, `vreplication: target key of ${ev.table} is not the source's primary key; streaming whole before images`);
          }
          const image = ev.image !== undefined ? imagePlan(ev.database, ev.table, ev.image, keyIndexes) : undefined;
          if (image !== undefined && image.columnIndexes.length !== names.length) throw new TesseraError(ER.NET_READ_ERROR, `vstream protocol error: the row image of ${ev.table} has ${image.columnIndexes.length} columns for ${names.length} fields`);
          tables.set(ev.table, { table: image !== undefined ? { name: ev.table, columns: names, keyIndexes, image } : { name: ev.table, columns: names, keyIndexes } });
          break;
        }
        case 'row': {
          const st = tables.get(ev.table);
          if (!st) throw new TesseraError(ER.UNKNOWN_ERROR, `vreplication: rows of ${ev.table} arrived before its columns (protocol error)`);
          const guard = o.guard ? o.guard(ev.table) : APPLY_ALL;
          for (const c of ev.changes) {
            trx.change(st.table, c.before, c.after, guard, c.afterImage);
            trxRows += 1;
            if (c.afterImage !== undefined) trxBytes += c.afterImage.length;
            else if (c.after) for (const v of c.after) trxBytes += estimateBytes(v);
          }
          trxEvents += 1;
          if (trxEvents > o.relayLogMaxItems || trxBytes + trx.chars > o.relayLogMaxBytes) {
            throw new TesseraError(
              ER.UNKNOWN_ERROR,
              `vreplication: a source transaction exceeds the relay log limits (${trxEvents} binlog row events > relay-log-max-items ${o.relayLogMaxItems} or ~${trxBytes + trx.chars} bytes > relay-log-max-size ${o.relayLogMaxBytes}); raise them with --config-overrides`,
              { kind: 'PERMANENT' },
            );
          }
          break;
        }
        case 'commit':
          if (boundary(ev.position, ev.timestamp)) {
            await flush();
            local.abort();
            return;
          }
          break;
        case 'position':
          if (trx.empty && boundary(ev.position, batchTs)) {
            await flush();
            local.abort();
            return;
          }
          break;
        case 'rollback':
          trx.finish();
          trxRows = 0;
          trxEvents = 0;
          trxBytes = 0;
          break;
        case 'heartbeat':
          await flush();
          await target.heartbeat(ev.lagSeconds);
          break;
        case 'ddl': {
          // A DDL is its own source transaction: apply what came before it first.
          await flush();
          if (o.onDdl === 'IGNORE') break;
          if (o.onDdl === 'STOP') {
            end = { reason: 'ddl-stop', position: pos, statement: ev.statement };
            local.abort();
            return;
          }
          // EXEC / EXEC_IGNORE: the position after the DDL comes with the next commit/position
          // event; the DDL is run now and the position saved with it by that event's flush.
          try {
            await target.applyDdl(ev.statement, pos);
          } catch (err) {
            if (o.onDdl === 'EXEC') throw err;
          }
          tables.clear();
          break;
        }
      }
    }
    kick();
    // The source is held while the group gathered behind the applying transaction is full.
    while (applying !== undefined && batch.chars >= groupCharsMax) await applying;
  };

  try {
    for (;;) {
      try {
        await source.vstream(
          { position: pos.toString(), filter: o.filter, packetSizeMax: o.packetSizeMax, heartbeatIntervalMs: o.heartbeatIntervalMs, keyOnlyBefore: !fullBefore, rawAfterImages: !fullBefore && o.rawAfterImages !== false },
          onEvents,
          local.signal,
        );
        break;
      } catch (err) {
        if (!wantFullBefore || fullBefore) throw err;
        // Once per play: apply the whole transactions received, drop the one in progress, and
        // stream again from there with whole before images.
        fullBefore = true;
        wantFullBefore = false;
        await flush();
        trx.finish();
        trxRows = 0;
        trxEvents = 0;
        trxBytes = 0;
        tables.clear();
        if (end || local.signal.aborted) break;
      }
    }
    await flush();
  } finally {
    o.signal.removeEventListener('abort', onAbort);
    // A stream that failed still lets the last transaction finish before the caller moves on.
    while (applying !== undefined) await applying.catch(() => (applying = undefined));
  }
  // A stop position counts once its transaction is applied: a stop from outside that came first
  // (the transaction was dropped, see flush) leaves the stream where it is.
  if (end && (end.reason !== 'stop-position' || pos.atLeast(end.position))) return end;
  return { reason: 'aborted', position: pos };
}
