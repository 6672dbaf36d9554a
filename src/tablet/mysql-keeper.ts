// Keeps a managed tablet's MariaDB running: when its process dies (a crash, `kill -9`, the OOM
// killer), the tablet reports not serving at once — the gates buffer primary-bound requests for
// the shard meanwhile — and starts it again, with a delay that doubles after each failed start.
// When MariaDB is not back within the restart timeout, the tablet raises an alert (log, health
// stream, /debug/health, status page) and keeps trying; for a primary the alert asks for
// EmergencyReparentShard, which ctld's failover watcher (src/ctld/failover-watcher.ts) runs.
//
// Only a process that is gone counts: a MariaDB that runs but does not answer (hung, overloaded)
// is left alone, as the health check already reports it not serving.
import { logger } from '../log/index.js';
import type { Mysqlctl } from '../mysqlctl/index.js';
import type { TabletManager } from './tablet-manager.js';

const log = logger('tablet', { part: 'mysql-keeper' });

export interface MysqlRestartOptions {
  /** --mysql-restart: start MariaDB again when its process dies. */
  readonly enabled: boolean;
  /** --mysql-restart-timeout: how long MariaDB may stay down before the tablet raises its alert. */
  readonly timeoutMs: number;
  /** The first delay between start attempts; doubled after each failure… */
  readonly backoffMinMs: number;
  /** …up to this. */
  readonly backoffMaxMs: number;
  /** How often the tablet looks whether its MariaDB's process still exists. */
  readonly checkIntervalMs: number;
}

export const MYSQL_RESTART_DEFAULTS: MysqlRestartOptions = {
  enabled: false,
  timeoutMs: 30_000,
  backoffMinMs: 250,
  backoffMaxMs: 5_000,
  checkIntervalMs: 250,
};

/** The alert's first words, which ctld's failover watcher looks for on a primary. */
export const MYSQL_DOWN_ALERT = 'MariaDB is down';

export class MysqlKeeper {
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private stopped = false;
  /** When the process was first seen gone; null while it runs. */
  private downSince: number | null = null;
  private attempts = 0;
  private nextAttemptAt = 0;
  private backoffMs: number;
  private lastError = '';
  private alerted = false;

  constructor(
    private readonly mysqlctl: Mysqlctl,
    private readonly manager: TabletManager,
    readonly opts: MysqlRestartOptions,
  ) {
    this.backoffMs = opts.backoffMinMs;
  }

  start(): void {
    if (!this.opts.enabled || this.timer) return;
    this.timer = setInterval(() => void this.check(), this.opts.checkIntervalMs);
    this.timer.unref();
  }

  /** Stops watching (before the tablet stops its MariaDB on purpose). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** For the status page: what the keeper is doing, or '' when MariaDB runs. */
  get state(): string {
    if (this.downSince === null) return '';
    return `down for ${Math.round((Date.now() - this.downSince) / 1000)} s, ${this.attempts} start attempt(s)${this.lastError ? `, last error: ${this.lastError}` : ''}`;
  }

  async check(): Promise<void> {
    if (this.busy || this.stopped) return;
    this.busy = true;
    try {
      await this.checkOnce();
    } finally {
      this.busy = false;
    }
  }

  private async checkOnce(): Promise<void> {
    const server = this.manager.server;
    if (this.mysqlctl.runningPid() !== null) return;
    const now = Date.now();
    if (this.downSince === null) {
      this.downSince = now;
      this.attempts = 0;
      this.backoffMs = this.opts.backoffMinMs;
      this.nextAttemptAt = now;
      this.lastError = '';
      log.warn({ alias: server.alias, uid: this.mysqlctl.tabletUid }, 'the MariaDB process is gone: not serving, starting it again');
    }
    server.mysqlDown(`${MYSQL_DOWN_ALERT}: its process is gone; the tablet is starting it again (attempt ${this.attempts + 1})`);
    this.raiseAlertIfDue(now);
    if (now < this.nextAttemptAt) return;
    this.attempts++;
    try {
      await this.mysqlctl.start();
    } catch (err) {
      this.lastError = (err as Error).message.split('\n')[0];
      this.nextAttemptAt = Date.now() + this.backoffMs;
      log.warn({ alias: server.alias, attempt: this.attempts, retryInMs: this.backoffMs, err: this.lastError }, 'starting MariaDB again failed');
      this.backoffMs = Math.min(this.backoffMs * 2, this.opts.backoffMaxMs);
      this.raiseAlertIfDue(Date.now());
      return;
    }
    if (this.stopped) return;
    const downMs = Date.now() - this.downSince;
    await this.afterRestart().catch((err: Error) => log.warn({ alias: server.alias, err: err.message }, 'setting replication up after the MariaDB restart failed'));
    this.downSince = null;
    this.alerted = false;
    server.setAlert(null);
    await server.mysqlUp();
    log.info({ alias: server.alias, attempts: this.attempts, downMs }, 'MariaDB started again');
  }

  /**
   * A restarted MariaDB comes up read-only with replication stopped (its my.cnf): the tablet
   * settles with its shard record again, as at start-up (replication.ts, syncWithShard) — the
   * primary the shard names gets its semi-sync setting back and takes writes; any other tablet —
   * also a primary replaced by EmergencyReparentShard while its MariaDB was down — follows the
   * shard's primary as a replica.
   */
  private async afterRestart(): Promise<void> {
    await this.manager.replication.syncWithShard();
  }

  private raiseAlertIfDue(now: number): void {
    if (this.alerted || this.downSince === null || now - this.downSince < this.opts.timeoutMs) return;
    this.alerted = true;
    const server = this.manager.server;
    const primary = server.tabletType === 'primary';
    const text =
      `${MYSQL_DOWN_ALERT}: it has not started again within --mysql-restart-timeout=${this.opts.timeoutMs}ms ` +
      `(${this.attempts} attempt(s); last error: ${this.lastError || 'none yet'}); see ${this.mysqlctl.paths.errorLog}. ` +
      (primary
        ? `The shard ${server.keyspace}/${server.shard} needs EmergencyReparentShard: ctld's failover watcher runs it, or run \`tessera ctl EmergencyReparentShard ${server.keyspace}/${server.shard}\`.`
        : 'The tablet keeps trying; it serves again once MariaDB answers.');
    log.error({ alias: server.alias }, text);
    server.setAlert(text);
  }
}
