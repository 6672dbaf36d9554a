// The failover buffer: a primary-bound statement that meets a primary not serving — demoted by
// PlannedReparentShard, its shard's writes being switched by a Reshard (query_service_disabled) or a
// MoveTables (denied tables), its MariaDB or tablet unreachable — waits here for its own keyspace
// and shard, and runs again (re-planned by the executor) once the health stream or the serving
// graph shows the change that may let it through. Vitess's vtgate buffer, with its flags.
//
// Only failures where nothing ran are buffered: a tablet's refusal (NOT_SERVING, WRONG_TARGET,
// DENIED_TABLE), the gate finding no serving primary, a tablet that cannot be reached. A statement
// whose connection broke while it ran may have committed and is never run twice.
//
// Per shard, a failover is one episode: it starts with the first buffered request, ends when the
// change shows up (every waiting request is released for its retry, `--buffer-drain-concurrency`
// at a time) or after `--buffer-max-failover-duration`. A request waits at most `--buffer-window`
// counted from the first time it was buffered, over all its retries; at most `--buffer-size`
// requests wait over all shards, the oldest of the shard being evicted for a new one.
//
// The hot path never comes here: the executor calls `admit` only after a statement failed.
import { ER, TesseraError } from '../mysql/index.js';
import type { TabletType } from '../topo/index.js';
import { logger } from '../log/index.js';

const log = logger('gate', { part: 'buffer' });

/**
 * How long the drain waits for one retry before letting the next request go: the drain concurrency
 * spreads the retries out, it must not let one stuck statement hold every other.
 */
const DRAIN_RETRY_WAIT_MAX_MS = 1_000;

export interface BufferOptions {
  /** `--enable-buffer`. */
  readonly enabled: boolean;
  /** `--enable-buffer-dry-run`: failovers are detected and counted, nothing waits. */
  readonly dryRun: boolean;
  /** `--buffer-window`: the longest one request waits, over all its retries. */
  readonly windowMs: number;
  /** `--buffer-size`: requests waiting at once, over all shards. */
  readonly requestsMax: number;
  /** `--buffer-max-failover-duration`: a failover that has not ended by then stops buffering. */
  readonly failoverDurationMaxMs: number;
  /**
   * `--buffer-min-time-between-failovers`: after a failover stopped by the maximum duration (its end
   * never seen), the shard does not buffer again for this long, so a shard that stays down fails
   * fast instead of holding every request for the window. A failover whose end was seen does not
   * count: a reparent back or a ReverseTraffic seconds later buffers too (Vitess counts every
   * failover, so its own tests raise or zero this flag).
   */
  readonly failoverIntervalMinMs: number;
  /** `--buffer-drain-concurrency`: retries running at once when a failover ends. */
  readonly drainConcurrency: number;
  /** `--buffer-keyspace-shards`: `ks` or `ks/shard` entries to buffer; empty = every shard. */
  readonly keyspaceShards: readonly string[];
}

export const BUFFER_DEFAULTS: BufferOptions = {
  enabled: false,
  dryRun: false,
  windowMs: 10_000,
  requestsMax: 1_000,
  failoverDurationMaxMs: 20_000,
  failoverIntervalMinMs: 60_000,
  drainConcurrency: 1,
  keyspaceShards: [],
};

/** What the buffer watches to see a failover end. */
export interface BufferProbe {
  /** The serving graph's generation: bumped by every SrvVSchema or SrvKeyspace change. */
  generation(): number;
  /** Whether the health check has a serving primary for the shard now (not one that just refused). */
  primaryServing(keyspace: string, shard: string): boolean;
  /** Called on every health or serving graph change. */
  onChange(listener: () => void): () => void;
}

/** The shard and tablet a statement failed on, noted by the session as the error passes. */
export interface FailedShard {
  readonly keyspace: string;
  readonly shard: string;
  readonly tabletType: TabletType;
}

const failedShards = new WeakMap<object, FailedShard>();

/** Remembers which shard an error came from (called on the error path only). */
export function noteShardFailure(err: unknown, failed: FailedShard): void {
  if (err !== null && typeof err === 'object' && !failedShards.has(err)) failedShards.set(err, failed);
}

export function failedShard(err: unknown): FailedShard | undefined {
  return err !== null && typeof err === 'object' ? failedShards.get(err) : undefined;
}

/**
 * What a failover waits for: `primary` — a serving primary for the shard, or a serving graph
 * change (a Reshard moved the shard's range elsewhere); `routing` — a serving graph change only
 * (the primary serves, the table's writes moved away: MoveTables denied tables).
 */
export type FailoverCause = 'primary' | 'routing';

const CANNOT_CONNECT = new Set([2002, 2003]);
/** Lost connections (MySQL's 2006 and 2013, the RPC client's 2013): the statement may have run. */
const CONNECTION_LOST = new Set([2006, 2013]);

/** Why a failure means the shard's primary is not serving this statement now, with nothing run; null otherwise. */
export function failoverCause(err: unknown): FailoverCause | null {
  if (!(err instanceof TesseraError)) return null;
  switch (err.kind) {
    case 'NOT_SERVING':
    case 'WRONG_TARGET':
    case 'UNAVAILABLE':
      return 'primary';
    case 'DENIED_TABLE':
      return 'routing';
    case undefined:
      return CANNOT_CONNECT.has(err.errno) ? 'primary' : null;
    default:
      return null;
  }
}

/**
 * Whether a failure inside an open transaction means the transaction is gone on that shard: the
 * tablet no longer serves it (demoted, switched, shutting down), ended it (ABORTED), or cannot be
 * reached, or the connection broke under the statement.
 */
export function transactionLost(err: unknown): boolean {
  if (!(err instanceof TesseraError)) return false;
  if (err.kind === 'ABORTED' || failoverCause(err) !== null) return true;
  return err.kind === undefined && CONNECTION_LOST.has(err.errno);
}

/** One client request's buffering across its retries (the executor keeps one per failed statement). */
export class BufferedRequest {
  /** When it was first buffered (0: not yet); the window counts from here. */
  firstAt = 0;
  /** Times it was let through at once because its shard already looked back. */
  immediate = 0;
  /** Tells the drain this request's retry finished, so the next one may go. */
  private finish: (() => void) | null = null;

  /** Called when the retry finished (or failed): idempotent. */
  done(): void {
    const f = this.finish;
    this.finish = null;
    f?.();
  }

  /** @internal the drain waits on this. */
  retrying(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.finish = resolve;
    });
  }
}

interface Entry {
  readonly request: BufferedRequest;
  readonly cause: FailoverCause;
  readonly generation: number;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
  readonly cleanup: () => void;
}

/** Counters of one shard, named after Vitess's (`BufferRequestsBuffered`, …). */
export interface ShardBufferStats {
  readonly keyspace: string;
  readonly shard: string;
  requestsBuffered: number;
  requestsBufferedDryRun: number;
  requestsDrained: number;
  /** By reason: BufferFull, WindowExceeded, ContextDone. */
  readonly requestsEvicted: Record<string, number>;
  /** Not buffered, by reason: LastFailoverTooRecent, BufferFull. */
  readonly requestsSkipped: Record<string, number>;
  failoverDurationSumMs: number;
  /** By reason: NewPrimarySeen, ServingGraphChanged, MaxDurationExceeded, Shutdown. */
  readonly stops: Record<string, number>;
  /** The most requests waiting at once during the last failover. */
  lastRequestsInFlightMax: number;
  /** Requests waiting now. */
  waiting: number;
  /** Whether a failover is in progress (buffering). */
  buffering: boolean;
}

interface Episode {
  readonly startedAt: number;
  readonly maxTimer: NodeJS.Timeout;
  /** What the first request waited for, and the generation then (a dry run has no entries). */
  readonly cause: FailoverCause;
  readonly generation: number;
  inFlightMax: number;
}

class ShardBuffer {
  episode: Episode | null = null;
  readonly queue: Entry[] = [];
  lastEndAt = 0;
  lastStop = '';
  /**
   * The last failover was stopped by its maximum duration with requests still waiting: the shard
   * stays down, so it does not buffer for --buffer-min-time-between-failovers. One whose requests
   * had all got through (window retries that succeeded: the change came without a sign the gate
   * sees) does not count.
   */
  failFast = false;
  readonly stats: ShardBufferStats;

  constructor(keyspace: string, shard: string) {
    this.stats = {
      keyspace, shard, requestsBuffered: 0, requestsBufferedDryRun: 0, requestsDrained: 0, requestsEvicted: {}, requestsSkipped: {},
      failoverDurationSumMs: 0, stops: {}, lastRequestsInFlightMax: 0, waiting: 0, buffering: false,
    };
  }
}

function bump(m: Record<string, number>, key: string): void {
  m[key] = (m[key] ?? 0) + 1;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

export class FailoverBuffer {
  readonly options: BufferOptions;
  private readonly shards = new Map<string, ShardBuffer>();
  /** Shards with a failover in progress: change events are ignored while this is 0. */
  private active = 0;
  private waitingTotal = 0;
  private readonly keyspaces = new Set<string>();
  private readonly keyspaceShards = new Set<string>();
  private readonly off: () => void;
  private closed = false;

  constructor(
    options: Partial<BufferOptions>,
    private readonly probe: BufferProbe,
  ) {
    this.options = { ...BUFFER_DEFAULTS, ...options };
    for (const s of this.options.keyspaceShards) {
      if (s.includes('/')) this.keyspaceShards.add(s);
      else this.keyspaces.add(s);
    }
    this.off = probe.onChange(() => {
      if (this.active > 0) this.check();
    });
  }

  /** Whether `admit` may ever buffer: the executor skips the failure analysis otherwise. */
  get on(): boolean {
    return this.options.enabled || this.options.dryRun;
  }

  private covers(keyspace: string, shard: string): boolean {
    if (this.keyspaces.size === 0 && this.keyspaceShards.size === 0) return true;
    return this.keyspaces.has(keyspace) || this.keyspaceShards.has(`${keyspace}/${shard}`);
  }

  private shard(keyspace: string, shard: string): ShardBuffer {
    const key = `${keyspace}/${shard}`;
    let sb = this.shards.get(key);
    if (!sb) {
      sb = new ShardBuffer(keyspace, shard);
      this.shards.set(key, sb);
    }
    return sb;
  }

  /**
   * A statement failed on `failed` for `cause`, with nothing run. Returns null when it is not
   * buffered (the caller reports the original error), an error to report instead (the window is
   * over), or a promise that resolves when the statement should run again (re-planned: `generation`
   * is the serving graph generation it was planned with) and rejects when it is evicted.
   */
  admit(failed: FailedShard, cause: FailoverCause, err: TesseraError, generation: number, request: BufferedRequest, signal: AbortSignal): Promise<void> | TesseraError | null {
    if (!this.on || this.closed || failed.tabletType !== 'primary' || !this.covers(failed.keyspace, failed.shard)) return null;
    const sb = this.shard(failed.keyspace, failed.shard);
    const now = Date.now();
    const retried = request.firstAt !== 0;
    if (retried && now - request.firstAt >= this.options.windowMs) {
      bump(sb.stats.requestsEvicted, 'WindowExceeded');
      return new TesseraError(
        ER.UNAVAILABLE,
        `${failed.keyspace}/${failed.shard} had no serving primary for this statement within ${now - request.firstAt} ms of buffering (--buffer-window ${seconds(this.options.windowMs)}): ${err.message}`,
        { cause: err, kind: 'UNAVAILABLE' },
      );
    }
    if (!sb.episode) {
      // After a failover whose end was never seen while requests still waited, the shard fails fast for a while.
      if (sb.failFast && now - sb.lastEndAt < this.options.failoverIntervalMinMs) {
        bump(sb.stats.requestsSkipped, 'LastFailoverTooRecent');
        return null;
      }
      // The change this statement needs came before it failed here (it was planned just before a
      // routing or primary change): run it again, with no failover started. A failover started
      // then would see no change after it, never end, and after its maximum duration put the
      // shard in its fail-fast time, refusing to buffer the next real one.
      if (!retried && this.ended(sb, cause, generation) && request.immediate < 2) {
        request.immediate++;
        return Promise.resolve();
      }
      this.start(sb, now, cause, err);
    }
    if (this.options.dryRun && !this.options.enabled) {
      sb.stats.requestsBufferedDryRun++;
      return null;
    }
    // The shard may already look back (the change arrived between the failure and now): retry at
    // once, a few times at most, so a tablet that keeps refusing cannot make this spin.
    if (this.ended(sb, cause, generation) && request.immediate < 2) {
      request.immediate++;
      return Promise.resolve();
    }
    if (this.waitingTotal >= this.options.requestsMax) {
      const oldest = sb.queue[0];
      if (!oldest) {
        bump(sb.stats.requestsSkipped, 'BufferFull');
        return new TesseraError(
          ER.UNAVAILABLE,
          `${failed.keyspace}/${failed.shard} has no serving primary and the failover buffer is full (--buffer-size ${this.options.requestsMax} requests waiting for other shards): ${err.message}`,
          { cause: err, kind: 'RESOURCE_EXHAUSTED' },
        );
      }
      this.remove(sb, oldest);
      bump(sb.stats.requestsEvicted, 'BufferFull');
      oldest.reject(new TesseraError(
        ER.UNAVAILABLE,
        `evicted from the failover buffer of ${failed.keyspace}/${failed.shard} after waiting ${now - oldest.request.firstAt} ms: --buffer-size ${this.options.requestsMax} requests were waiting and a newer one came; run the statement again (or raise --buffer-size)`,
        { kind: 'RESOURCE_EXHAUSTED' },
      ));
    }
    if (!retried) request.firstAt = now;
    sb.stats.requestsBuffered++;
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        if (!this.remove(sb, entry)) return;
        bump(sb.stats.requestsEvicted, 'ContextDone');
        reject(signal.reason instanceof Error ? signal.reason : new TesseraError(ER.QUERY_INTERRUPTED, 'Query execution was interrupted while waiting in the failover buffer'));
      };
      // At the end of the window the request runs once more: if the primary is still missing, its
      // next admit reports the window error with the failure it met.
      const timer = setTimeout(() => {
        if (this.remove(sb, entry)) resolve();
      }, Math.max(0, request.firstAt + this.options.windowMs - now));
      const entry: Entry = {
        request, cause, generation, resolve, reject, timer,
        cleanup: () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      sb.queue.push(entry);
      this.waitingTotal++;
      sb.stats.waiting = sb.queue.length;
      if (sb.episode && sb.queue.length > sb.episode.inFlightMax) sb.episode.inFlightMax = sb.queue.length;
    });
  }

  private start(sb: ShardBuffer, now: number, cause: FailoverCause, err: TesseraError): void {
    const maxTimer = setTimeout(() => this.stop(sb, 'MaxDurationExceeded'), this.options.failoverDurationMaxMs);
    sb.episode = { startedAt: now, maxTimer, cause, generation: this.probe.generation(), inFlightMax: 0 };
    sb.stats.buffering = true;
    this.active++;
    log.info({ keyspace: sb.stats.keyspace, shard: sb.stats.shard, cause, error: err.message, dryRun: !this.options.enabled }, 'failover detected: buffering requests for the shard');
  }

  /** Whether what a request waits for has happened. */
  private ended(sb: ShardBuffer, cause: FailoverCause, generation: number): boolean {
    if (this.probe.generation() !== generation) return true;
    return cause === 'primary' && this.probe.primaryServing(sb.stats.keyspace, sb.stats.shard);
  }

  private check(): void {
    for (const sb of this.shards.values()) {
      const reason = sb.episode ? this.endReason(sb, sb.episode) : null;
      if (reason) this.stop(sb, reason);
    }
  }

  private endReason(sb: ShardBuffer, ep: Episode): string | null {
    const generation = this.probe.generation();
    const serving = () => this.probe.primaryServing(sb.stats.keyspace, sb.stats.shard);
    if (sb.queue.length === 0) {
      // Dry run, or every request left (window, eviction): judged by what the failover began with.
      if (generation !== ep.generation) return 'ServingGraphChanged';
      return ep.cause === 'primary' && serving() ? 'NewPrimarySeen' : null;
    }
    if (sb.queue.some((e) => e.generation !== generation)) return 'ServingGraphChanged';
    if (sb.queue.some((e) => e.cause === 'primary') && serving()) return 'NewPrimarySeen';
    return null;
  }

  private remove(sb: ShardBuffer, e: Entry): boolean {
    const i = sb.queue.indexOf(e);
    if (i < 0) return false;
    sb.queue.splice(i, 1);
    this.waitingTotal--;
    sb.stats.waiting = sb.queue.length;
    e.cleanup();
    return true;
  }

  /** Ends the shard's failover and lets every waiting request run again. */
  private stop(sb: ShardBuffer, reason: string): void {
    const ep = sb.episode;
    if (!ep) return;
    clearTimeout(ep.maxTimer);
    sb.episode = null;
    this.active--;
    const now = Date.now();
    sb.stats.buffering = false;
    sb.stats.failoverDurationSumMs += now - ep.startedAt;
    sb.stats.lastRequestsInFlightMax = ep.inFlightMax;
    bump(sb.stats.stops, reason);
    sb.lastEndAt = now;
    sb.lastStop = reason;
    sb.failFast = reason === 'MaxDurationExceeded' && sb.queue.length > 0;
    const entries = sb.queue.splice(0);
    this.waitingTotal -= entries.length;
    sb.stats.waiting = 0;
    log.info({ keyspace: sb.stats.keyspace, shard: sb.stats.shard, reason, durationMs: now - ep.startedAt, requests: entries.length }, 'failover ended: draining the buffer');
    void this.drain(sb, entries);
  }

  private async drain(sb: ShardBuffer, entries: Entry[]): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < entries.length) {
        const e = entries[next++];
        e.cleanup();
        sb.stats.requestsDrained++;
        const finished = e.request.retrying();
        e.resolve();
        // A retry that hangs (a MariaDB just restarted, a lock) must not hold the rest forever.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([finished, new Promise<void>((r) => (timer = setTimeout(r, DRAIN_RETRY_WAIT_MAX_MS)))]);
        clearTimeout(timer);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(this.options.drainConcurrency, entries.length)) }, worker));
  }

  /** Counters of every shard that buffered, in keyspace/shard order. */
  stats(): ShardBufferStats[] {
    return [...this.shards.values()].map((s) => s.stats).sort((a, b) => (a.keyspace === b.keyspace ? a.shard.localeCompare(b.shard) : a.keyspace.localeCompare(b.keyspace)));
  }

  /** The gate is closing: every waiting request is let go (its retry fails as the gate closes). */
  close(): void {
    this.closed = true;
    this.off();
    for (const sb of this.shards.values()) this.stop(sb, 'Shutdown');
  }
}
