// Limits and throttles of one stream, and what the stream does when its source's binlogs are gone.
//
// A stream pauses — it does not fail — while going on would hurt a server:
// - `rowstreamer`: the source's InnoDB history list is longer than
//   --vreplication-copy-phase-max-innodb-history-list-length (checked before each copy cycle);
// - `vcopier`: a replica of the source shard or of the target shard has replication stopped, or lags
//   more than the stream's `max_replication_lag` or --vreplication-copy-phase-max-mysql-replication-lag
//   (whichever is lower; before each copy cycle), or the copy is over its rows/s or bytes/s cap
//   (before each batch);
// - `vplayer`: during replication, over `max_tps` target transactions per second, or a replica lags
//   more than `max_replication_lag` (only when that column is set).
// The copy checks health before a cycle, never inside one: a cycle holds a consistent snapshot open
// on the source, and waiting with it open would grow the very history list the check protects.
//
// Each pause fills `time_throttled`, `component_throttled` and `reason_throttled` of the stream's
// row and the engine's in-memory progress (Workflow show's `throttler_status`, status's info line);
// resuming empties component and reason and leaves time_throttled at the last pause.
//
// Health comes from a ThrottleProbe: tablet-manager calls to the tablets involved (SHOW GLOBAL
// STATUS on the source for the history list, replication status of each replica). A replica that
// cannot be reached is left out of the check — it serves nothing — rather than holding every
// stream of the shard until it comes back.
import { GtidPosition } from '../mysql/binlog/index.js';
import { ER, TesseraError } from '../mysql/errors.js';
import { logger } from '../log/index.js';
import { tabletAliasString, type Tablet, type TopoServer } from '../topo/index.js';
import type { TabletManagerClient } from '../tablet/tablet-manager-client.js';
import type { CopierTarget } from './copier.js';
import type { LastPk } from './lastpk.js';
import { NO_LIMIT, type StreamStore } from './stream-store.js';
import type { SqlText } from './sql-bytes.js';

const log = logger('vreplication');

/** Engine flags of this module (merged into the controller's ENGINE_DEFAULTS). */
export const THROTTLE_DEFAULTS = {
  /** --vreplication-copy-phase-max-innodb-history-list-length (Vitess's default; 0 = no check). */
  copyPhaseMaxHistoryListLength: 1_000_000,
  /**
   * --vreplication-copy-phase-max-mysql-replication-lag, seconds (Vitess's default, 12 h): the copy
   * waits while a replica of the source or target shard lags more, or has replication stopped.
   * 0 = no replica check during the copy.
   */
  copyPhaseMaxReplicationLagSeconds: 43_200,
  /** --vreplication-throttle-check-interval: how long a health answer is reused, and how often a paused stream asks again. */
  throttleCheckIntervalMs: 1_000,
};
export type ThrottleFlags = typeof THROTTLE_DEFAULTS & {
  readonly copyRowsPerSecond: number;
  readonly copyBytesPerSecond: number;
};

/** Vitess's names of the parts of a stream that pause. */
export const THROTTLED_COMPONENT = { vcopier: 'vcopier', vplayer: 'vplayer', rowstreamer: 'rowstreamer' } as const;

export interface ReplicaHealth {
  /** Both replication threads run. */
  readonly running: boolean;
  /** Seconds_Behind_Master; null when the SQL thread does not run or nothing is configured. */
  readonly lagSeconds: number | null;
  /** Why replication is not running, as MariaDB says (last IO/SQL error), or ''. */
  readonly error: string;
}

/** What the throttles ask of other tablets. Errors: the tablet-manager client's (kind UNAVAILABLE when unreachable). */
export interface ThrottleProbe {
  /** The InnoDB history list length of the tablet's MariaDB. */
  historyListLength(tablet: Tablet): Promise<number>;
  replication(tablet: Tablet): Promise<ReplicaHealth>;
  /** The GTID list the tablet's oldest binlog starts after (`0-100-35`), '' when unknown. */
  oldestBinlogGtids(tablet: Tablet): Promise<string>;
  close?(): void;
}

export const PROBE_DEFAULTS = {
  /** One probe call's deadline: a hung tablet must not hold the stream longer than this per check. */
  callTimeoutMs: 10_000,
};

/** A ThrottleProbe over the tablet-manager client (the tablet's own, or ctld's). */
export function tabletManagerProbe(tmc: Pick<TabletManagerClient, 'executeFetchAsDba' | 'replicationStatus' | 'close'>, callTimeoutMs = PROBE_DEFAULTS.callTimeoutMs): ThrottleProbe {
  const opts = { timeoutMs: callTimeoutMs };
  const fetch = (t: Tablet, sql: string) => tmc.executeFetchAsDba(t, { sql, maxRows: 100 }, opts);
  return {
    async historyListLength(t) {
      // MariaDB 10.5+ publishes the length as a status variable; older servers only in the
      // monitor's text, which costs more to produce.
      const r = await fetch(t, "SHOW GLOBAL STATUS LIKE 'Innodb_history_list_length'");
      if (r.rows.length > 0 && r.rows[0][1] !== null) return Number(r.rows[0][1]);
      const s = await fetch(t, 'SHOW ENGINE INNODB STATUS');
      const m = /History list length (\d+)/.exec(String(s.rows[0]?.[2] ?? ''));
      if (!m) throw new TesseraError(ER.UNKNOWN_ERROR, `tablet ${tabletAliasString(t.alias)} reports no InnoDB history list length`);
      return Number(m[1]);
    },
    async replication(t) {
      const { status } = await tmc.replicationStatus(t, {}, opts);
      if (status === null) return { running: false, lagSeconds: null, error: 'no replication source is configured' };
      const error = [status.last_io_error, status.last_sql_error].filter((e) => e !== '').join('; ');
      return { running: status.io_running && status.sql_running, lagSeconds: status.lag_seconds, error };
    },
    async oldestBinlogGtids(t) {
      const logs = await fetch(t, 'SHOW BINARY LOGS');
      const first = logs.rows[0]?.[0];
      if (!first) return '';
      const ev = await fetch(t, `SHOW BINLOG EVENTS IN '${first.replace(/'/g, "''")}' LIMIT 4`);
      const type = ev.fields.findIndex((f) => f.toLowerCase() === 'event_type');
      const info = ev.fields.findIndex((f) => f.toLowerCase() === 'info');
      const row = ev.rows.find((r) => r[type] === 'Gtid_list');
      return row ? String(row[info] ?? '').replace(/^\[|\]$/g, '') : '';
    },
    close: () => tmc.close(),
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export interface ThrottleState {
  throttled: { component: string; reason: string; since: number } | null;
}

export interface StreamThrottleOptions {
  readonly id: number;
  readonly store: StreamStore;
  readonly topo: TopoServer;
  readonly probe: ThrottleProbe | undefined;
  /** The engine's progress record of the stream (what Workflow show reads while the stream runs). */
  readonly progress: ThrottleState;
  readonly flags: ThrottleFlags;
  /** The tablet the stream reads from, and its shard. */
  readonly source: Tablet;
  /** The target tablet's shard, when the engine knows it. */
  readonly target?: { readonly keyspace: string; readonly shard: string };
  readonly maxTps: bigint;
  readonly maxReplicationLag: bigint;
  readonly signal: AbortSignal;
}

/** One stream run's throttles (a controller makes one per run, against the source it picked). */
export class StreamThrottle {
  private windowStart = Date.now();
  private rows = 0;
  private bytes = 0;
  private tpsWindowStart = Date.now();
  private tpsCount = 0;
  /** What the stream's row says now (null: not throttled), so only changes are written. */
  private stored: { component: string; reason: string } | null = null;
  private lagAnswer: { at: number; limit: number; reason: string | null } | undefined;

  constructor(private readonly o: StreamThrottleOptions) {}

  /** Before each copy cycle, with no snapshot open: the source's history list and replica health. */
  async beforeCopyCycle(): Promise<void> {
    const f = this.o.flags;
    const columnLimit = this.o.maxReplicationLag === NO_LIMIT ? Number.POSITIVE_INFINITY : Number(this.o.maxReplicationLag);
    const lagLimit = f.copyPhaseMaxReplicationLagSeconds > 0 ? Math.min(columnLimit, f.copyPhaseMaxReplicationLagSeconds) : columnLimit;
    for (;;) {
      if (this.o.signal.aborted) return;
      const history = await this.historyReason();
      if (history !== null) {
        await this.pause(THROTTLED_COMPONENT.rowstreamer, history);
        continue;
      }
      const lag = Number.isFinite(lagLimit) ? await this.lagReason(lagLimit, columnLimit <= lagLimit ? 'max_replication_lag' : 'vreplication-copy-phase-max-mysql-replication-lag') : null;
      if (lag !== null) {
        await this.pause(THROTTLED_COMPONENT.vcopier, lag);
        continue;
      }
      break;
    }
    await this.resume();
  }

  /** Before each copy batch: rows/s and bytes/s over one-second windows. */
  async beforeCopyBatch(rows: number, bytes: number): Promise<void> {
    const f = this.o.flags;
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.rows = 0;
      this.bytes = 0;
    }
    const overRows = f.copyRowsPerSecond > 0 && this.rows > 0 && this.rows + rows > f.copyRowsPerSecond;
    const overBytes = f.copyBytesPerSecond > 0 && this.bytes > 0 && this.bytes + bytes > f.copyBytesPerSecond;
    if (overRows || overBytes) {
      const reason = overRows ? `copy over vreplication-copy-rows-per-second (${f.copyRowsPerSecond})` : `copy over vreplication-copy-bytes-per-second (${f.copyBytesPerSecond})`;
      await this.enter(THROTTLED_COMPONENT.vcopier, reason, true);
      await sleep(1000 - (now - this.windowStart), this.o.signal);
      await this.resume();
      this.windowStart = Date.now();
      this.rows = 0;
      this.bytes = 0;
    }
    this.rows += rows;
    this.bytes += bytes;
  }

  /** Before each target transaction of the replication phase: replica lag (if max_replication_lag is set), then max_tps. */
  async beforeApply(): Promise<void> {
    if (this.o.maxReplicationLag !== NO_LIMIT) {
      const limit = Number(this.o.maxReplicationLag);
      for (;;) {
        if (this.o.signal.aborted) return;
        const lag = await this.lagReason(limit, 'max_replication_lag');
        if (lag === null) break;
        await this.pause(THROTTLED_COMPONENT.vplayer, lag);
      }
    }
    if (this.o.maxTps !== NO_LIMIT && this.o.maxTps > 0n) {
      const maxTps = Number(this.o.maxTps);
      const now = Date.now();
      if (now - this.tpsWindowStart >= 1000) {
        this.tpsWindowStart = now;
        this.tpsCount = 0;
      }
      if (this.tpsCount >= maxTps) {
        await this.enter(THROTTLED_COMPONENT.vplayer, `${this.tpsCount} transactions applied in the last second, max_tps is ${maxTps}`, true);
        await sleep(1000 - (now - this.tpsWindowStart), this.o.signal);
        this.tpsWindowStart = Date.now();
        this.tpsCount = 0;
      }
      this.tpsCount++;
    }
    await this.resume();
  }

  /** Clears a pause left recorded (the run ends while throttled). */
  async end(): Promise<void> {
    await this.resume().catch(() => undefined);
  }

  private async pause(component: string, reason: string): Promise<void> {
    await this.enter(component, reason);
    await sleep(this.o.flags.throttleCheckIntervalMs, this.o.signal);
  }

  /** `rate`: a cap's pause, which comes and goes every second, so it is not logged at info. */
  private async enter(component: string, reason: string, rate = false): Promise<void> {
    const cur = this.o.progress.throttled;
    if (!cur || cur.component !== component || cur.reason !== reason) this.o.progress.throttled = { component, reason, since: cur?.since ?? Date.now() };
    if (this.stored?.component === component && this.stored.reason === reason) return;
    if (this.stored === null) (rate ? log.debug : log.info).call(log, { id: this.o.id, component, reason }, 'stream throttled');
    this.stored = { component, reason };
    await this.o.store.setThrottled(this.o.id, component, reason);
  }

  private async resume(): Promise<void> {
    this.o.progress.throttled = null;
    if (this.stored === null) return;
    this.stored = null;
    await this.o.store.setThrottled(this.o.id, '', '');
  }

  private async historyReason(): Promise<string | null> {
    const max = this.o.flags.copyPhaseMaxHistoryListLength;
    if (max <= 0 || !this.o.probe) return null;
    let len: number;
    try {
      len = await this.o.probe.historyListLength(this.o.source);
    } catch (err) {
      // The copy itself will meet an unreachable source and retry; the throttle does not decide that.
      log.warn({ id: this.o.id, err: (err as Error).message }, 'could not read the source history list length');
      return null;
    }
    if (len <= max) return null;
    return `source ${tabletAliasString(this.o.source.alias)} has an InnoDB history list length of ${len}, over vreplication-copy-phase-max-innodb-history-list-length (${max}); the copy waits for purge to catch up (end long transactions on the source, or raise the limit with Workflow update --config-overrides)`;
  }

  /** Why replicas of the source or target shard hold the stream back, or null; answers are reused for throttleCheckIntervalMs. */
  private async lagReason(limitSeconds: number, limitName: string): Promise<string | null> {
    if (!this.o.probe) return null;
    const now = Date.now();
    const a = this.lagAnswer;
    if (a && a.limit === limitSeconds && now - a.at < this.o.flags.throttleCheckIntervalMs) return a.reason;
    const shards = [{ keyspace: this.o.source.keyspace, shard: this.o.source.shard }];
    if (this.o.target && !(this.o.target.keyspace === this.o.source.keyspace && this.o.target.shard === this.o.source.shard)) shards.push(this.o.target);
    let reason: string | null = null;
    for (const s of shards) {
      const tablets = await this.o.topo.getTablets({ keyspace: s.keyspace, shard: s.shard });
      for (const t of tablets) {
        if (t.type !== 'replica') continue;
        let h: ReplicaHealth;
        try {
          h = await this.o.probe.replication(t);
        } catch (err) {
          log.debug({ id: this.o.id, tablet: tabletAliasString(t.alias), err: (err as Error).message }, 'replica not reachable for the lag check');
          continue;
        }
        const who = `replica ${tabletAliasString(t.alias)} of ${s.keyspace}/${s.shard}`;
        if (!h.running) {
          reason = `${who} has replication stopped${h.error ? ` (${h.error})` : ''}; the stream waits until it replicates again (START SLAVE on it, or remove it from the shard)`;
        } else if (h.lagSeconds !== null && h.lagSeconds > limitSeconds) {
          reason = `${who} lags ${h.lagSeconds}s behind its primary, over ${limitName} (${limitSeconds}s); the stream waits until it catches up`;
        }
        if (reason !== null) break;
      }
      if (reason !== null) break;
    }
    this.lagAnswer = { at: now, limit: limitSeconds, reason };
    return reason;
  }
}

/** A copier target whose replication-phase transactions wait for the stream's throttle first. */
export function throttledTarget(t: CopierTarget, th: StreamThrottle): CopierTarget {
  return {
    get dbName() {
      return t.dbName;
    },
    keyColumns: (table) => t.keyColumns(table),
    applyTransaction: async (statements, position, ts, rows) => {
      await th.beforeApply();
      await t.applyTransaction(statements, position, ts, rows);
    },
    applyDdl: (statement, position) => t.applyDdl(statement, position),
    heartbeat: (lag) => t.heartbeat(lag),
    applyCopyBatch: (sql: SqlText | null, table: string, lastPk: LastPk | null, done: boolean, position: GtidPosition, rows: number, bytes: number) =>
      t.applyCopyBatch(sql, table, lastPk, done, position, rows, bytes),
    savePosition: (position) => t.savePosition(position),
  };
}

// ---- purged binlogs -----------------------------------------------------------------------------

/** MariaDB's ER_MASTER_FATAL_ERROR_READING_BINLOG: the source cannot serve the position asked for. */
export const ER_BINLOG_PURGED_ERRNO = 1236;

export function isBinlogPurged(err: unknown): boolean {
  return (err as { errno?: number }).errno === ER_BINLOG_PURGED_ERRNO;
}

/** The GTIDs a stream at `pos` needs that a source whose oldest binlog starts after `oldest` no longer has. */
export function missingGtidRange(pos: string, oldest: string): string {
  let from: GtidPosition;
  let to: GtidPosition;
  try {
    from = pos === '' ? GtidPosition.EMPTY : GtidPosition.parse(pos);
    to = GtidPosition.parse(oldest);
  } catch {
    return `after ${pos || 'the start'}`;
  }
  const parts: string[] = [];
  for (const g of to.gtidList() === '' ? [] : to.gtidList().split(',')) {
    const [d, s, q] = g.split('-');
    const have = from.domain(Number(d));
    const next = have ? have.sequence + 1n : 1n;
    if (BigInt(q) > next) parts.push(`${d}-${s}-${next}..${d}-${s}-${q}`);
    else if (BigInt(q) === next) parts.push(`${d}-${s}-${q}`);
  }
  return parts.length > 0 ? parts.join(', ') : `after ${from.toString()}`;
}

/** The message for a source tablet that answered 1236: what is missing there, as exactly as it can tell. */
export async function purgedMessage(probe: ThrottleProbe | undefined, tablet: Tablet, pos: string, err: Error): Promise<string> {
  const alias = tabletAliasString(tablet.alias);
  let oldest = '';
  if (probe) oldest = await probe.oldestBinlogGtids(tablet).catch(() => '');
  const range = oldest !== '' ? `GTIDs ${missingGtidRange(pos, oldest)} (its oldest binlog starts after ${oldest})` : `the GTIDs after ${pos || 'the start'}`;
  return `source tablet ${alias} has purged the binlogs this stream needs: ${range}; MariaDB said: ${err.message}`;
}

/** The stream's last word when no source tablet has its binlogs: what is gone and what to do. */
export function allPurgedError(workflow: string, keyspace: string, shard: string, types: readonly string[], pos: string, why: readonly string[]): TesseraError {
  return new TesseraError(
    { errno: ER_BINLOG_PURGED_ERRNO, sqlState: 'HY000' },
    `vreplication: workflow ${workflow}: no ${types.join(' or ')} tablet of ${keyspace}/${shard} still has the binlogs after position ${pos || '(none)'}: ${why.map((w) => w.replace(/\.$/, '')).join(' | ')}. ` +
      `To go on, re-create the workflow ${workflow} (Workflow delete, then create it again: it copies anew), or restore a tablet of ${keyspace}/${shard} that still has these binlogs and run Workflow start`,
    { kind: 'PERMANENT' },
  );
}
