// One copy scan for several streams (issue #19, docs/vreplication.md "One scan for all target
// streams"). A Reshard starts one stream per target shard; each asks the source tablet for the same
// table from the same `lastPk` with the same `rowsMax`, differing only in its key range. Instead of
// one snapshot, one SELECT series, one decode and one vindex call per row for each of them, one
// reader serves them all:
//
// - Joining: a vstreamRows call whose rule for the table is a key-range rule waits a short window
//   (`sharedScanJoinMs`) for calls with the same table, `lastPk` and `rowsMax`; a call alone after
//   the window (or at another lastPk) scans alone, exactly as before.
// - One snapshot: its position heads every subscriber's answer.
// - Each row's keyspace id is computed once (TextRangesKeep tests it against every subscriber's
//   range); a row is decoded once, whichever subscribers keep it.
// - Each subscriber keeps its own batches, batch bounds and lastPk. lastPk is the last key scanned,
//   so a batch for one subscriber never depends on the others' rows; resuming after a crash stays
//   per stream (copy_state per stream, as before).
// - Each subscriber's batches go through its own delivery chain (its callback is its flow control).
//   The reader waits for every subscriber to take one SELECT's batches before its next SELECT, so
//   nothing buffers beyond one SELECT (plus `pauseBytesMax` for rows far wider than the last SELECT's).
// - A subscriber whose call is cancelled or whose callback fails is dropped alone; the others go on.
//   One that keeps the reader waiting `sharedScanLagMs` after another subscriber took everything is
//   cut: its batches already read still reach it, then its cycle ends early with `done: false` at
//   the last key scanned for it (the target starts its next cycle alone, on its own snapshot).
import { ER, TesseraError } from '../mysql/errors.js';
import { decodeTextRow, type SqlValue } from '../mysql/values.js';
import type { ColumnDefinition } from '../mysql/protocol.js';
import { quoteIdent } from '../sql/index.js';
import type { ClientOptions } from '../mysql/client.js';
import type { KeyspaceVSchema } from '../vschema/index.js';
import { keyspaceIdSource, parseSelectFilter, planColumns, ruleMatches, textRangesKeep, type TablePlan, type TextRangesKeep } from './filter.js';
import { checkBinlogSettings, describeTable, keyLiteral, shortestFloat32, sourceError, type VStreamerLimits } from './local-vstreamer.js';
import { Snapshot } from './snapshot.js';
import { rowBytes } from './vstream-codec.js';
import type { RowsBatch, VStreamRowsRequest } from './vstreamer.js';

/** Copy rows decoded before they are filtered together (one vindex call per group). */
const GROUP_ROWS = 512;
/** A subscriber is sent a batch, if only to move lastPk on, at least every this many × batchRowsMax rows scanned. */
const UNSENT_SCAN_FACTOR = 8;

/** One vstreamRows call waiting for, or served by, a shared scan. */
export interface ShareMember {
  readonly req: VStreamRowsRequest;
  readonly onBatch: (b: RowsBatch) => Promise<void>;
  /** The caller's signal. */
  readonly signal: AbortSignal;
  /** The call's own stop: the caller's signal or the tablet closing. */
  readonly stop: AbortSignal;
  readonly stats: { sent: number };
  /** Settles the call: resolves, or rejects with `err`. */
  readonly settle: (err?: unknown) => void;
  /** Serves the call by a scan of its own instead (its rule cannot share); it settles itself. */
  readonly alone: () => void;
}

/** What a shared scan needs of the LocalVStreamer it runs in. */
export interface SharedScanHost {
  readonly dbName: string;
  readonly connection: Omit<ClientOptions, 'database'>;
  readonly vschema: () => Promise<KeyspaceVSchema | undefined>;
  readonly limits: VStreamerLimits;
}

/** Shared scans run, the calls they served, and calls cut for lagging. */
export interface SharedScanCounters {
  scans: number;
  subscribers: number;
  cut: number;
}

/**
 * The key under which calls share one scan, or undefined when this call scans alone: only a single
 * table's copy cycle (rowsMax > 0; no chunks, samples or atomic table lists) whose rule for the
 * table is a key-range rule. Calls with one key also need plans that read the same columns with the same vindex, which
 * the scan checks once the table is described.
 */
export function shareKey(req: VStreamRowsRequest): string | undefined {
  if (req.tables !== undefined || req.chunks !== undefined || req.sampleChunks !== undefined) return undefined;
  // Only copy cycles (rowsMax > 0): their callers take done: false as "start another cycle", which
  // a cut subscriber gets. A whole-table read (VDiff's) ends only at the table's end.
  if ((req.rowsMax ?? 0) <= 0) return undefined;
  const rule = req.filter.rules.find((r) => ruleMatches(r.match, req.table));
  if (rule === undefined) return undefined;
  const f = rule.filter.trim();
  if (f === '') return undefined;
  if (/^select\b/i.test(f)) {
    try {
      if (parseSelectFilter(f).keyRange === undefined) return undefined;
    } catch {
      return undefined; // the call alone reports the rule's error
    }
  }
  // An integer key is one key whether it came back as a number or a bigint (the SQL literal is the same).
  const lastPk =
    req.lastPk === null
      ? null
      : req.lastPk.map((v) => (v === null ? ['n'] : Buffer.isBuffer(v) ? ['b', v.toString('hex')] : typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v)) ? ['i', String(v)] : [typeof v, String(v)]));
  return JSON.stringify([req.table, req.rowsMax ?? 0, lastPk]);
}

interface Sub {
  readonly m: ShareMember;
  readonly plan: TablePlan;
  readonly batchRowsMax: number;
  readonly batchBytesMax: number;
  /** Still served by the reader (not cut, dropped or finished). */
  live: boolean;
  /** Cancelled or failed: its remaining batches are not delivered. */
  dropped: boolean;
  error: unknown;
  chain: Promise<void>;
  /** Batches handed to its chain and not taken yet. */
  queued: number;
  rows: SqlValue[][];
  bytes: number;
  unsent: number;
  mask: Uint8Array;
  ready: RowsBatch[];
  readyBytes: number;
  /** Its stop signal's listener (a cancellation while its batches are still delivered drops them). */
  onStop?: () => void;
}

/**
 * Serves `members` (two or more calls with one shareKey) from one snapshot and one SELECT series.
 * Members whose plan does not fit the others' are served alone. Each member's call settles on its
 * own (never through this promise, which resolves once the reader is done).
 */
export async function runSharedScan(host: SharedScanHost, counters: SharedScanCounters, members: readonly ShareMember[]): Promise<void> {
  const first = members[0].req;
  const table = first.table;
  const database = host.dbName;
  const limits = host.limits;
  let snap: Snapshot | undefined;
  const subs: Sub[] = [];
  /** Members served alone or subscribed. */
  const placed = new Set<ShareMember>();
  let reading = true;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const finish = (s: Sub) => {
    s.live = false;
    void s.chain.then(() => {
      // Its call is over: leaving (settle) aborts its stop signal, which is no cancellation.
      if (s.onStop) s.m.stop.removeEventListener('abort', s.onStop);
      if (s.error !== undefined) return s.m.settle(s.error);
      s.m.settle();
    });
  };
  const drop = (s: Sub, err?: unknown) => {
    if (s.dropped) return;
    s.dropped = true;
    if (err !== undefined) s.error ??= err;
    if (s.live) finish(s);
    notify();
    // No one left: stop the statement in flight.
    if (reading && subs.every((x) => !x.live)) snap?.client.destroy(new TesseraError(ER.QUERY_INTERRUPTED, 'every subscriber of the shared copy scan left'));
  };
  const send = (s: Sub, b: RowsBatch) => {
    s.queued++;
    s.chain = s.chain.then(async () => {
      try {
        if (s.dropped) return;
        if (b.kind === 'rows') s.m.stats.sent += b.rows.length;
        await s.m.onBatch(b);
      } catch (err) {
        drop(s, err);
      } finally {
        s.queued--;
        notify();
      }
    });
  };
  const onStop = (s: Sub) => () => drop(s, s.m.signal.aborted ? undefined : TesseraError.from(s.m.stop.reason, ER.SERVER_SHUTDOWN));
  try {
    try {
      snap = await Snapshot.open(host.connection);
    } catch (err) {
      throw sourceError(err);
    }
    const client = snap.client;
    let described;
    try {
      await checkBinlogSettings(client);
      described = await describeTable(client, database, table);
    } catch (err) {
      throw sourceError(err);
    }
    const names = described.columns.map((c) => c.name);
    const ids = keyspaceIdSource(await host.vschema());
    const keyIdx = described.key.map((k) => names.indexOf(k));
    // Each member's plan over the columns it reads; the scan reads the first fitting member's
    // columns, and a member reading others (or another vindex) is served alone.
    let readKey: string | undefined;
    let read: number[] = [];
    let vindex: NonNullable<TablePlan['keyRange']>['vindex'] | undefined;
    let keyColumn = -1;
    for (const m of members) {
      let plan: TablePlan | undefined;
      let r: number[] = [];
      try {
        const p = planColumns(m.req.filter, table, names, ids);
        if (p !== undefined && (m.req.lastPk === null || m.req.lastPk.length === keyIdx.length)) {
          r = [...new Set([...p.columnIndexes, ...keyIdx, ...(p.keyColumnIndex === undefined ? [] : [p.keyColumnIndex])])].sort((a, b) => a - b);
          plan = planColumns(m.req.filter, table, r.map((i) => names[i]), ids);
        }
      } catch {
        plan = undefined;
      }
      const fits =
        plan?.keyRange !== undefined && plan.keyColumnIndex !== undefined && described.columns[r[plan.keyColumnIndex]].dataType !== 'float' &&
        (readKey === undefined || (readKey === r.join(',') && plan.keyRange.vindex === vindex && plan.keyColumnIndex === keyColumn));
      placed.add(m);
      if (!fits || plan === undefined) {
        m.alone();
        continue;
      }
      readKey = r.join(',');
      read = r;
      vindex = plan.keyRange!.vindex;
      keyColumn = plan.keyColumnIndex!;
      subs.push({
        m,
        plan,
        batchRowsMax: Math.max(1, m.req.batchRowsMax ?? limits.copyBatchRowsMax),
        batchBytesMax: Math.max(1, m.req.batchBytesMax ?? limits.copyBatchBytesMax),
        live: true,
        dropped: false,
        error: undefined,
        chain: Promise.resolve(),
        queued: 0,
        rows: [],
        bytes: 0,
        unsent: 0,
        mask: new Uint8Array(GROUP_ROWS),
        ready: [],
        readyBytes: 0,
      });
    }
    if (subs.length === 0) return;
    counters.scans++;
    counters.subscribers += subs.length;
    for (const s of subs) {
      s.onStop = onStop(s);
      if (s.m.stop.aborted) s.onStop();
      else s.m.stop.addEventListener('abort', s.onStop, { once: true });
    }
    const position = snap.position.toString();
    for (const s of subs) {
      if (!s.live) continue;
      const p = s.plan;
      send(s, { kind: 'header', position, fields: p.columnIndexes.map((k, j) => ({ ...described.columns[read[k]].field, name: p.columnNames[j] })), pkColumns: described.key });
    }

    const keyPos = keyIdx.map((i) => read.indexOf(i));
    const floatPos = read.flatMap((i, k) => (described.columns[i].dataType === 'float' ? [k] : []));
    const keyCols = described.key.map(quoteIdent);
    const keyTypes = keyIdx.map((i) => described.columns[i].dataType);
    const order = keyCols.join(', ');
    const after = (last: readonly SqlValue[]): string => {
      const lit = last.map((v, k) => keyLiteral(v, keyTypes[k]));
      const ors: string[] = [];
      for (let k = 0; k < keyCols.length; k++) ors.push('(' + [...keyCols.slice(0, k).map((c, j) => `${c} = ${lit[j]}`), `${keyCols[k]} > ${lit[k]}`].join(' AND ') + ')');
      return `(${ors.join(' OR ')})`;
    };
    const from = `${quoteIdent(database)}.${quoteIdent(table)}`;
    const selectList = read.map((i) => (described.columns[i].dataType === 'float' ? `CAST(${quoteIdent(names[i])} AS DOUBLE)` : quoteIdent(names[i]))).join(', ');
    const rowsMax = first.rowsMax ?? 0;
    const lagMs = limits.sharedScanLagMs;
    const pauseBytes = Math.max(limits.pauseBytesMax, 2 * Math.max(...subs.map((s) => s.batchBytesMax)));

    const liveSubs = () => subs.filter((s) => s.live);
    /** Ends a subscriber's cycle now with done: false at the last key scanned for it. */
    const cut = (s: Sub, lastPk: readonly SqlValue[]) => {
      counters.cut++;
      flushReady(s);
      send(s, { kind: 'rows', rows: s.rows, lastPk, done: false });
      s.rows = [];
      finish(s);
    };
    const flushReady = (s: Sub) => {
      for (const b of s.ready) send(s, b);
      s.ready = [];
      s.readyBytes = 0;
    };
    /** The reader waits for the slowest subscriber; one that lags past sharedScanLagMs is cut. */
    const waitAll = async (lastPk: readonly SqlValue[]): Promise<void> => {
      let idleSince: number | undefined;
      for (;;) {
        const live = liveSubs();
        if (live.every((s) => s.queued === 0)) return;
        if (idleSince === undefined && live.some((s) => s.queued === 0)) idleSince = Date.now();
        let waitMs: number | undefined;
        if (idleSince !== undefined) {
          waitMs = idleSince + lagMs - Date.now();
          if (waitMs <= 0) {
            for (const s of live) if (s.queued > 0) cut(s, lastPk);
            continue;
          }
        }
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (waitMs !== undefined) timer = setTimeout(resolve, waitMs);
        });
        if (timer) clearTimeout(timer);
      }
    };

    let last: SqlValue[] | null = first.lastPk === null ? null : [...first.lastPk];
    let scanned = 0;
    let rowBytesSeen = 0;
    const rowsCap = Math.min(...subs.map((s) => s.batchRowsMax));
    const bytesCap = Math.min(...subs.map((s) => s.batchBytesMax));
    let route: TextRangesKeep | undefined;
    let routeSubs: Sub[] = [];
    let masks: Uint8Array[] = [];
    for (;;) {
      if (liveSubs().length === 0) return;
      const where = last === null ? '' : ` WHERE ${after(last)}`;
      const remaining = rowsMax > 0 ? rowsMax - scanned : Number.POSITIVE_INFINITY;
      const byBytes = rowBytesSeen > 0 ? Math.max(1, Math.ceil((bytesCap * 1.25) / rowBytesSeen)) : limits.firstSelectRowsMax;
      const want = Math.min(rowsCap, byBytes, remaining);
      const peek = rowsMax > 0 && remaining <= want;
      const sql = `SELECT ${selectList} FROM ${from}${where} ORDER BY ${order} LIMIT ${peek ? want + 1 : want}`;
      let fields: ColumnDefinition[] = [];
      let got = 0;
      let more = false;
      let wire = 0;
      let payloads: Buffer[] = [];
      const decode = (payload: Buffer): SqlValue[] => {
        const r = decodeTextRow(payload, fields);
        for (const k of floatPos) if (typeof r[k] === 'number') r[k] = shortestFloat32(r[k] as number);
        return r;
      };
      const decoded: (SqlValue[] | undefined)[] = new Array(GROUP_ROWS);
      const routeGroup = async (): Promise<void> => {
        const raw = payloads;
        payloads = [];
        const n = raw.length;
        if (n === 0) return;
        // The routing closure tests the live subscribers' ranges; rebuilt when one leaves.
        const live = liveSubs();
        if (route === undefined || live.length !== routeSubs.length) {
          routeSubs = live;
          masks = live.map((s) => s.mask);
          route = textRangesKeep(vindex!, keyColumn, live.map((s) => s.plan.keyRange!.range), fields[keyColumn]);
        }
        route(raw, n, masks);
        decoded.fill(undefined, 0, n);
        let pause = false;
        for (const s of routeSubs) {
          if (!s.live) continue;
          const identity = s.plan.columnIndexes.length === read.length && s.plan.columnIndexes.every((k, j) => k === j);
          for (let j = 0; j < n; j++) {
            if (s.mask[j] === 0) continue;
            const r = (decoded[j] ??= decode(raw[j]));
            const out = identity ? r : s.plan.columnIndexes.map((k) => r[k]);
            s.rows.push(out);
            s.bytes += rowBytes(out);
            if (s.bytes < s.batchBytesMax && s.rows.length < s.batchRowsMax) continue;
            s.unsent = 0;
            s.ready.push({ kind: 'rows', rows: s.rows, lastPk: keyPos.map((k) => r[k]), done: false });
            s.readyBytes += s.bytes;
            s.rows = [];
            s.bytes = 0;
            if (s.readyBytes >= pauseBytes) pause = true;
          }
        }
        const end = (decoded[n - 1] ??= decode(raw[n - 1]));
        last = keyPos.map((k) => end[k]);
        if (pause) {
          // Rows far wider than the previous SELECT's: reading pauses until the batches are taken.
          for (const s of liveSubs()) flushReady(s);
          await waitAll(last);
        }
      };
      try {
        await client.stream(sql, {
          fields: (f) => {
            fields = f;
          },
          row: (payload) => {
            if (got === want) {
              more = true;
              return;
            }
            got++;
            scanned++;
            wire += payload.length;
            payloads.push(payload);
            if (payloads.length >= GROUP_ROWS) return routeGroup();
          },
        });
        await routeGroup();
      } catch (err) {
        if (liveSubs().length === 0) return;
        throw sourceError(err);
      }
      if (got > 0) rowBytesSeen = wire / got;
      const ended = peek ? !more : got < want;
      const lastPk = last ?? first.lastPk ?? [];
      if (ended || (rowsMax > 0 && scanned >= rowsMax)) {
        for (const s of liveSubs()) {
          flushReady(s);
          send(s, { kind: 'rows', rows: s.rows, lastPk, done: ended });
          s.rows = [];
          finish(s);
        }
        return;
      }
      for (const s of liveSubs()) {
        flushReady(s);
        s.unsent += got;
        // Kept rows gather over SELECTs into batches of about batchRowsMax; a run of rows left out
        // still moves lastPk on now and then, in an empty batch.
        if (s.rows.length < s.batchRowsMax && s.unsent < s.batchRowsMax * UNSENT_SCAN_FACTOR) continue;
        s.unsent = 0;
        send(s, { kind: 'rows', rows: s.rows, lastPk, done: false });
        s.rows = [];
        s.bytes = 0;
      }
      await waitAll(lastPk);
    }
  } catch (err) {
    // The source failed (its MariaDB, the snapshot): every subscriber still served fails with it,
    // and so does every member not placed yet.
    for (const s of subs) if (s.live) drop(s, err);
    for (const m of members) if (!placed.has(m)) m.settle(err);
  } finally {
    reading = false;
    await snap?.close().catch(() => undefined);
    snap = undefined;
  }
}

/** One vstreamRows call as the LocalVStreamer hands it to the joiner. */
export interface JoinCall {
  readonly req: VStreamRowsRequest;
  readonly onBatch: (b: RowsBatch) => Promise<void>;
  readonly signal: AbortSignal;
  /** The call's admission's stop (the caller's signal or the tablet closing). */
  readonly stop: AbortSignal;
  readonly stats: { sent: number };
  /** Serves the call by a scan of its own (which leaves its admission). */
  alone(onBatch: (b: RowsBatch) => Promise<void>): Promise<void>;
  /** Leaves the call's admission. */
  leave(): void;
}

/**
 * Gathers vstreamRows calls with one shareKey for a shared scan: the first call of a key opens a
 * joining window (sharedScanJoinMs); calls that ended their cycles at a key lately are expected back
 * there (up to sharedScanRejoinMs after their ends; the scan starts as soon as all came), and a call
 * whose last cycle ended alone there waits only sharedScanJoinAloneMs.
 */
export class ScanJoiner {
  readonly counters: SharedScanCounters = { scans: 0, subscribers: 0, cut: 0 };
  /** Calls in their joining window, by shareKey. */
  private readonly joining = new Map<string, { group: ShareMember[]; expect: number; start: () => void }>();
  /**
   * Keys where calls ended their cycles lately (done: false): how many, the key their cycles started
   * from (calls still open from there end here too), and until when they are expected back.
   */
  private readonly cycleEnds = new Map<string, { count: number; from: string; until: number }>();
  /** Calls open (joining or scanning), by the key their cycle started from. */
  private readonly openFrom = new Map<string, number>();

  constructor(private readonly host: SharedScanHost) {}

  join(key: string, call: JoinCall): Promise<void> {
    const limits = this.host.limits;
    const { req, signal } = call;
    // Where this call's cycle ends, so the next cycles from there can be expected together.
    let end: RowsBatch | undefined;
    const rowsMax = req.rowsMax ?? 0;
    const noted = async (b: RowsBatch): Promise<void> => {
      if (b.kind === 'rows') end = b;
      await call.onBatch(b);
    };
    this.openFrom.set(key, (this.openFrom.get(key) ?? 0) + 1);
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      const n = (this.openFrom.get(key) ?? 1) - 1;
      if (n > 0) this.openFrom.set(key, n);
      else this.openFrom.delete(key);
    };
    const noteEnd = () => {
      close();
      if (rowsMax === 0 || end?.kind !== 'rows' || end.done) return;
      const next = shareKey({ ...req, lastPk: end.lastPk });
      if (next === undefined) return;
      const now = Date.now();
      for (const [k, e] of this.cycleEnds) if (e.until < now) this.cycleEnds.delete(k);
      const e = this.cycleEnds.get(next) ?? { count: 0, from: key, until: 0 };
      e.count++;
      e.until = now + limits.sharedScanRejoinMs;
      this.cycleEnds.set(next, e);
    };
    return new Promise<void>((resolve, reject) => {
      const m: ShareMember = {
        req,
        onBatch: noted,
        signal,
        stop: call.stop,
        stats: call.stats,
        settle: (err) => {
          // Stopped by the tablet closing (not by the caller): the call fails, as one alone does.
          const shutdown = call.stop.aborted && !signal.aborted ? call.stop.reason : undefined;
          call.leave();
          close();
          if (err !== undefined) reject(err);
          else if (shutdown !== undefined) reject(TesseraError.from(shutdown, ER.SERVER_SHUTDOWN));
          else {
            noteEnd();
            resolve();
          }
        },
        alone: () => {
          call.alone(noted).then(
            () => {
              noteEnd();
              resolve();
            },
            (err) => {
              close();
              reject(err);
            },
          );
        },
      };
      const waiting = this.joining.get(key);
      if (waiting !== undefined) {
        waiting.group.push(m);
        if (waiting.group.length >= waiting.expect) waiting.start();
        return;
      }
      // Expected here: the calls that ended their cycles here, and the calls still open from where
      // those cycles started (same start, same rowsMax: they end here too, a little later).
      const now = Date.now();
      const ends = this.cycleEnds.get(key);
      const fresh = ends !== undefined && ends.until > now;
      const count = fresh ? ends.count + (this.openFrom.get(ends.from) ?? 0) : 0;
      const expected = count >= 2;
      const lone = fresh && count === 1;
      const windowMs = expected ? Math.max(limits.sharedScanJoinMs, ends!.until - now) : lone ? Math.min(limits.sharedScanJoinAloneMs, limits.sharedScanJoinMs) : limits.sharedScanJoinMs;
      const group = [m];
      let timer: NodeJS.Timeout | undefined;
      const start = () => {
        if (this.joining.get(key)?.group !== group) return;
        clearTimeout(timer);
        this.joining.delete(key);
        this.cycleEnds.delete(key);
        const members = group.filter((x) => {
          // Calls cancelled while they waited end here.
          if (!x.stop.aborted) return true;
          x.settle();
          return false;
        });
        if (members.length === 1) members[0].alone();
        else if (members.length > 1) void runSharedScan(this.host, this.counters, members);
      };
      this.joining.set(key, { group, expect: expected ? count : Number.POSITIVE_INFINITY, start });
      timer = setTimeout(start, windowMs);
    });
  }
}
