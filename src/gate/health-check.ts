// The health check: every tablet of the local cell (re-read from topo periodically), each with one
// health stream (QueryService.streamHealth). A tablet serves a target when its latest health says
// serving for that keyspace, shard and type. When a stream ends or fails, the tablet is unhealthy
// until a new stream (retried with a delay) reports again.
import { logger } from '../log/index.js';
import type { HealthState, QueryService } from '../tablet/index.js';
import { tabletAliasString, type Tablet, type TabletType, type TopoServer } from '../topo/index.js';
import { isCodedError } from './errors.js';

const log = logger('gate', { part: 'healthcheck' });

export type TabletConnFactory = (tablet: Tablet) => QueryService;

export interface HealthCheckOptions {
  /** How often the tablet list is re-read from topo. */
  readonly topoRefreshMs: number;
  /** Delay before a failed health stream is opened again. */
  readonly retryDelayMs: number;
  /**
   * Replicas (and rdonly) at most this far behind are preferred; the others serve only when no
   * replica of the shard is this close (Vitess's --discovery_low_replication_lag).
   */
  readonly lowReplicationLagSeconds: number;
  /** Replicas further behind than this never serve (--discovery_high_replication_lag_minimum_serving). */
  readonly highReplicationLagSeconds: number;
}

export const HEALTH_CHECK_DEFAULTS: HealthCheckOptions = {
  topoRefreshMs: 2_000,
  retryDelayMs: 1_000,
  lowReplicationLagSeconds: 30,
  highReplicationLagSeconds: 7_200,
};

export interface TabletHealth {
  readonly alias: string;
  readonly tablet: Tablet;
  readonly conn: QueryService;
  health: HealthState | null;
  /** Set when a call failed with NOT_SERVING/WRONG_TARGET; cleared by the next health report. */
  suspect: boolean;
  lastError: string;
  abort: AbortController;
}

const NONE: readonly TabletHealth[] = Object.freeze([]);

export class HealthCheck {
  private readonly tablets = new Map<string, TabletHealth>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly listeners = new Set<() => void>();
  private rr = 0;
  /**
   * Usable tablets by `keyspace/shard@type` (serving, not suspect, by lag for replicas): rebuilt
   * on the first call after a health report, a tablet leaving or a tablet turning suspect, so
   * the query path only looks it up.
   */
  private usableByTarget: Map<string, Map<string, Map<TabletType, readonly TabletHealth[]>>> | null = null;

  constructor(
    private readonly topo: TopoServer,
    readonly cell: string,
    private readonly connFactory: TabletConnFactory,
    readonly options: HealthCheckOptions = HEALTH_CHECK_DEFAULTS,
  ) {}

  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => {
      this.refresh().catch((err: unknown) => log.warn({ err: String(err) }, 'reading tablets from topo failed'));
    }, this.options.topoRefreshMs);
    this.timer.unref();
  }

  /** Re-reads the cell's tablets: starts watching new ones, stops watching removed or changed ones. */
  async refresh(): Promise<void> {
    if (this.closed) return;
    const list = await this.topo.getTabletsByCell(this.cell);
    const seen = new Set<string>();
    for (const t of list) {
      const alias = tabletAliasString(t.alias);
      seen.add(alias);
      const cur = this.tablets.get(alias);
      const port = t.port_map.grpc ?? 0;
      if (cur && cur.tablet.hostname === t.hostname && (cur.tablet.port_map.grpc ?? 0) === port) {
        (cur as { tablet: Tablet }).tablet = t;
        continue;
      }
      if (cur) this.remove(alias);
      this.add(alias, t);
    }
    for (const alias of [...this.tablets.keys()]) if (!seen.has(alias)) this.remove(alias);
  }

  private add(alias: string, tablet: Tablet): void {
    const entry: TabletHealth = { alias, tablet, conn: this.connFactory(tablet), health: null, suspect: false, lastError: '', abort: new AbortController() };
    this.tablets.set(alias, entry);
    void this.stream(entry);
  }

  private remove(alias: string): void {
    const e = this.tablets.get(alias);
    if (!e) return;
    e.abort.abort();
    this.tablets.delete(alias);
    const closable = e.conn as QueryService & { close?: () => unknown };
    if (typeof closable.close === 'function') {
      try {
        void Promise.resolve(closable.close()).catch(() => undefined);
      } catch {
        // closing a dead connection may throw; nothing to do
      }
    }
    this.notify();
  }

  private async stream(e: TabletHealth): Promise<void> {
    while (!this.closed && !e.abort.signal.aborted && this.tablets.get(e.alias) === e) {
      try {
        await e.conn.streamHealth((h) => {
          e.health = h;
          e.suspect = false;
          e.lastError = h.serving ? '' : h.reason;
          this.notify();
        }, e.abort.signal);
      } catch (err) {
        // Shown in the errors of statements that find no healthy tablet: only a coded error's text.
        if (isCodedError(err)) e.lastError = (err as Error).message;
        else {
          log.warn({ alias: e.alias, err: String(err) }, 'health stream failed');
          e.lastError = "health stream failed (the gate's log has the cause)";
        }
      }
      if (e.health) {
        e.health = null;
        this.notify();
      }
      if (this.closed || e.abort.signal.aborted) return;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.options.retryDelayMs);
        t.unref();
        e.abort.signal.addEventListener('abort', () => {
          clearTimeout(t);
          resolve();
        }, { once: true });
      });
    }
  }

  private notify(): void {
    this.usableByTarget = null;
    for (const l of this.listeners) l();
  }

  /** A call failed with NOT_SERVING/WRONG_TARGET or lost its primary: avoid it until it reports again. */
  markSuspect(t: TabletHealth): void {
    if (t.suspect) return;
    t.suspect = true;
    this.usableByTarget = null;
  }

  private usable(keyspace: string, shard: string, type: TabletType): readonly TabletHealth[] {
    let index = this.usableByTarget;
    if (index === null) {
      const groups = new Map<string, TabletHealth[]>();
      for (const e of this.tablets.values()) {
        const h = e.health;
        if (!h || !h.serving || e.suspect) continue;
        const key = `${h.target.keyspace}/${h.target.shard}@${h.target.tabletType}`;
        const g = groups.get(key);
        if (g) g.push(e);
        else groups.set(key, [e]);
      }
      index = new Map();
      for (const list of groups.values()) {
        const t = list[0].health!.target;
        let byShard = index.get(t.keyspace);
        if (byShard === undefined) index.set(t.keyspace, (byShard = new Map()));
        let byType = byShard.get(t.shard);
        if (byType === undefined) byShard.set(t.shard, (byType = new Map()));
        byType.set(t.tabletType, Object.freeze(t.tabletType === 'primary' ? list : this.byLag(list)));
      }
      this.usableByTarget = index;
    }
    return index.get(keyspace)?.get(shard)?.get(type) ?? NONE;
  }

  /** The next healthy tablet serving keyspace/shard as `type` in rotation, or undefined when none does. */
  pick(keyspace: string, shard: string, type: TabletType): TabletHealth | undefined {
    const usable = this.usable(keyspace, shard, type);
    if (usable.length <= 1) return usable[0];
    this.rr = (this.rr + 1) % usable.length;
    return usable[this.rr];
  }

  onChange(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Healthy tablets serving keyspace/shard as `type`, in rotation order. */
  healthy(keyspace: string, shard: string, type: TabletType): TabletHealth[] {
    const usable = this.usable(keyspace, shard, type);
    if (usable.length > 1) {
      // Spread reads over the tablets that qualify.
      this.rr = (this.rr + 1) % usable.length;
      return [...usable.slice(this.rr), ...usable.slice(0, this.rr)];
    }
    return [...usable];
  }

  /**
   * Replication lag decides among replicas: those within the low threshold if any, else those within
   * the high one. A replica whose replication is broken or whose lag is unknown counts as lagging.
   */
  private byLag(list: readonly TabletHealth[]): TabletHealth[] {
    const lag = (e: TabletHealth): number => {
      const h = e.health;
      if (!h || h.replicationError !== '' || h.replicationLagSeconds === null) return Number.POSITIVE_INFINITY;
      return h.replicationLagSeconds;
    };
    const low = list.filter((e) => lag(e) <= this.options.lowReplicationLagSeconds);
    if (low.length > 0) return low;
    return list.filter((e) => lag(e) <= this.options.highReplicationLagSeconds);
  }

  byAlias(alias: string): TabletHealth | undefined {
    return this.tablets.get(alias);
  }

  all(): TabletHealth[] {
    return [...this.tablets.values()];
  }

  /** Resolves once every (keyspace, shard) pair in `want` has a healthy tablet of each type; rejects at the deadline. */
  async waitFor(want: readonly { keyspace: string; shard: string }[], types: readonly TabletType[], timeoutMs: number): Promise<void> {
    const missing = (): string[] => {
      const out: string[] = [];
      for (const w of want) for (const t of types) if (this.healthy(w.keyspace, w.shard, t).length === 0) out.push(`${w.keyspace}/${w.shard} ${t}`);
      return out;
    };
    if (missing().length === 0) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for healthy tablets: ${missing().join(', ')}`));
      }, timeoutMs);
      const off = this.onChange(() => {
        if (missing().length === 0) {
          clearTimeout(timer);
          off();
          resolve();
        }
      });
    });
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const alias of [...this.tablets.keys()]) this.remove(alias);
  }
}
