// ctld's failover watcher (the part of Vitess's vtorc Tessera needs): every interval it reads each
// shard's primary's health, and when the primary's tablet reports that its MariaDB died and did not
// start again within the tablet's --mysql-restart-timeout (src/tablet/mysql-keeper.ts), it runs
// EmergencyReparentShard to promote the best replica. When EmergencyReparentShard refuses (no
// replica reachable, the survivors' histories diverge, too few semi-sync acknowledgers), the watcher
// raises an alert that says why — in its log, on ctld's status page and in `FailoverAlerts` — and
// tries again at the next interval.
import { logger } from '../log/index.js';
import { MYSQL_DOWN_ALERT } from '../tablet/index.js';
import { tabletAliasString, type Tablet } from '../topo/index.js';
import type { CtldContext } from './command.js';
import { emergencyReparentShard, REPARENT_DEFAULTS } from './reparent.js';

const log = logger('ctld', { part: 'failover-watcher' });

export interface FailoverWatcherOptions {
  /** --failover-watcher: run the watcher. */
  readonly enabled: boolean;
  /** --failover-watch-interval: how often every shard's primary is looked at. */
  readonly intervalMs: number;
  /** How long a primary's health may take to answer. */
  readonly healthTimeoutMs: number;
  /** EmergencyReparentShard's --wait-replicas-timeout. */
  readonly waitReplicasTimeoutMs: number;
}

export const FAILOVER_WATCHER_DEFAULTS: FailoverWatcherOptions = {
  enabled: false,
  intervalMs: 1_000,
  healthTimeoutMs: 1_000,
  waitReplicasTimeoutMs: REPARENT_DEFAULTS.waitReplicasTimeoutMs,
};

export interface FailoverEvent {
  readonly at: string;
  readonly keyspace: string;
  readonly shard: string;
  /** The dead primary. */
  readonly primary: string;
  /** The promoted replica; null when EmergencyReparentShard refused. */
  readonly promoted: string | null;
  /** What the tablet reported, and, when refused, why. */
  readonly message: string;
}

interface Health {
  alert?: string;
  target?: { tabletType?: string };
}

export class FailoverWatcher {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private closed = false;
  /** Current alerts by keyspace/shard: EmergencyReparentShard was needed and refused. */
  private readonly alertsByShard = new Map<string, FailoverEvent>();
  private readonly history: FailoverEvent[] = [];

  constructor(
    private readonly ctx: CtldContext,
    readonly opts: FailoverWatcherOptions,
  ) {}

  start(): void {
    if (!this.opts.enabled || this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.tick()
        .catch((err: Error) => log.warn({ err: err.message }, 'failover watcher: reading the topology failed'))
        .finally(() => {
          this.running = null;
        });
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Shards whose EmergencyReparentShard was refused, with why. */
  get alerts(): FailoverEvent[] {
    return [...this.alertsByShard.values()];
  }

  /** The last reparents and refusals, newest last. */
  get events(): readonly FailoverEvent[] {
    return this.history;
  }

  /** One look at every shard's primary; exported for tests and `FailoverAlerts`. */
  async tick(): Promise<void> {
    const topo = this.ctx.topo;
    for (const keyspace of await topo.getKeyspaceNames()) {
      for (const shard of await topo.getShardNames(keyspace)) {
        if (this.closed) return;
        const { value: record } = await topo.getShard(keyspace, shard);
        if (record.primary_alias === null) continue;
        let primary: Tablet;
        try {
          primary = (await topo.getTablet(record.primary_alias)).value;
        } catch {
          continue;
        }
        const h = await this.health(primary);
        const key = `${keyspace}/${shard}`;
        if (!h?.alert?.startsWith(MYSQL_DOWN_ALERT) || h.target?.tabletType !== 'primary') {
          if (this.alertsByShard.delete(key)) log.info({ keyspace, shard }, 'failover watcher: the alert is gone');
          continue;
        }
        await this.reparent(keyspace, shard, tabletAliasString(primary.alias), h.alert);
      }
    }
  }

  private async reparent(keyspace: string, shard: string, primary: string, why: string): Promise<void> {
    const key = `${keyspace}/${shard}`;
    log.warn({ keyspace, shard, primary, why }, "failover watcher: the primary's MariaDB is down for good: EmergencyReparentShard");
    try {
      const out = await emergencyReparentShard(this.ctx, { keyspace, shard, newPrimary: '', waitReplicasTimeoutMs: this.opts.waitReplicasTimeoutMs });
      this.alertsByShard.delete(key);
      this.remember({ at: new Date().toISOString(), keyspace, shard, primary, promoted: out.primary, message: why });
      log.info({ keyspace, shard, from: primary, to: out.primary, warnings: out.warnings }, 'failover watcher: EmergencyReparentShard promoted a replica');
    } catch (err) {
      const message = `EmergencyReparentShard of ${key} cannot run safely: ${(err as Error).message}`;
      const before = this.alertsByShard.get(key);
      const ev: FailoverEvent = { at: new Date().toISOString(), keyspace, shard, primary, promoted: null, message };
      this.alertsByShard.set(key, ev);
      if (before?.message !== message) {
        this.remember(ev);
        log.error({ keyspace, shard, primary }, `failover watcher: ${message}; retrying every ${this.opts.intervalMs} ms`);
      }
    }
  }

  private remember(ev: FailoverEvent): void {
    this.history.push(ev);
    if (this.history.length > 100) this.history.shift();
  }

  private async health(t: Tablet): Promise<Health | null> {
    const port = t.port_map.vt;
    if (!port) return null;
    try {
      const res = await fetch(`http://${t.hostname}:${port}/debug/health`, { signal: AbortSignal.timeout(this.opts.healthTimeoutMs) });
      return (await res.json()) as Health;
    } catch {
      return null;
    }
  }
}
