// Replication in the tablet manager, on MariaDB's GTID replication: where this tablet replicates
// from, whether replication runs, how far it is, semi-synchronous settings from the keyspace's
// durability policy, and the steps of a reparent that happen on one tablet (demote, promote,
// repoint, stop and apply the relay log, write the reparent journal). ctld orders these steps
// across a shard (src/ctld/reparent.ts); this file only ever touches its own MariaDB.
//
// MariaDB specifics this relies on (see docs/replication.md):
// - Positions are GTID lists (`0-100-42`); gtid_strict_mode=ON (mysqlctl) makes sequences per
//   domain only grow, so "at least" is a per-domain comparison (GtidPosition).
// - A replica connects with MASTER_USE_GTID=slave_pos. A former primary has its own transactions
//   in gtid_binlog_pos but not in gtid_slave_pos; it connects with current_pos, which is right
//   only when the new primary has every one of them (checked here first, and by MariaDB's strict
//   mode on connect, which answers error 1236 for a GTID missing from the primary's binlog).
// - No super_read_only: read_only=ON stops vt_app (it lacks READ_ONLY ADMIN); vt_dba bypasses it.
// - Semi-sync is built into MariaDB 10.3+: rpl_semi_sync_master_enabled on the primary,
//   rpl_semi_sync_slave_enabled on replicas (read when the IO thread starts). A primary that waits
//   longer than rpl_semi_sync_master_timeout silently falls back to asynchronous replication;
//   for the semi_sync policy the timeout is set so high that it never does.
import { Client, type Result } from '../mysql/client.js';
import { ER, TesseraError } from '../mysql/errors.js';
import { GtidPosition } from '../mysql/binlog/index.js';
import type { SqlValue } from '../mysql/values.js';
import { logger } from '../log/index.js';
import { REPL_USER } from '../mysqlctl/index.js';
import { ensureSidecarSchema } from '../sidecar/index.js';
import { quoteIdent, quoteString } from '../sql/index.js';
import { tabletAliasEqual, tabletAliasString, type Tablet, type TabletType } from '../topo/index.js';
import type { TabletManager } from './tablet-manager.js';

const log = logger('replication');

export const REPLICATION_DEFAULTS = {
  /**
   * rpl_semi_sync_master_timeout for the semi_sync policy, in ms. MariaDB falls back to async
   * replication when an acknowledgement takes longer than this; ~31 million years means never.
   */
  semiSyncPrimaryTimeoutMs: 1_000_000_000_000_000,
  /** How long a demoting primary waits for queries and transactions in flight to finish. */
  demoteDrainTimeoutMs: 10_000,
  /** Polling step while draining (not a timing the caller depends on). */
  drainPollMs: 20,
  /** Seconds between reconnect attempts of the IO thread (MASTER_CONNECT_RETRY). */
  connectRetrySeconds: 1,
  /** Heartbeat from the primary, so a silent network is noticed and lag stays meaningful. */
  heartbeatPeriodSeconds: 1,
  /** Deadline of the reparent-journal write (it waits for a semi-sync acknowledgement). */
  journalTimeoutMs: 30_000,
};

export type UseGtid = 'slave_pos' | 'current_pos';

export interface SetSourceRequest {
  host: string;
  port: number;
  semiSync: boolean;
  primaryPosition?: string;
  tabletType?: TabletType;
  start?: boolean;
}

/** SHOW SLAVE STATUS, the parts a reparent and an operator need. */
export interface ReplicationStatus {
  source_host: string;
  source_port: number;
  io_running: boolean;
  sql_running: boolean;
  /** Slave_IO_State, e.g. "Waiting for master to send event". */
  io_state: string;
  using_gtid: string;
  /** GTIDs applied (gtid_slave_pos), as `MariaDB/0-100-42`. */
  position: string;
  /** GTIDs received into the relay log (Gtid_IO_Pos). */
  relay_log_position: string;
  /** Seconds_Behind_Master; null when the SQL thread does not run. */
  lag_seconds: number | null;
  last_io_errno: number;
  last_io_error: string;
  last_sql_errno: number;
  last_sql_error: string;
}

export interface FullStatus {
  alias: string;
  tablet_type: TabletType;
  server_id: number;
  /** gtid_current_pos: everything this server has, applied or written. */
  position: string;
  /** gtid_binlog_pos: everything in its binary log. */
  binlog_position: string;
  read_only: boolean;
  semi_sync_primary_enabled: boolean;
  semi_sync_replica_enabled: boolean;
  /** Rpl_semi_sync_master_status: ON while the primary really waits for acknowledgements. */
  semi_sync_primary_active: boolean;
  /** Replicas connected with semi-sync (Rpl_semi_sync_master_clients). */
  semi_sync_primary_clients: number;
  /** null when no source is configured (a primary, or a tablet never pointed anywhere). */
  replication: ReplicationStatus | null;
}

/** What the keyspace's durability policy asks of a tablet of this type (as Vitess's semi_sync). */
export function semiSyncFor(policy: string, type: TabletType): { primary: boolean; replica: boolean } {
  // cross_cell needs an acknowledgement from another cell, which MariaDB cannot express; it is
  // treated as semi_sync (any replica acknowledges). rdonly tablets never acknowledge.
  const on = policy === 'semi_sync' || policy === 'cross_cell';
  return { primary: on && type === 'primary', replica: on && type === 'replica' };
}

/**
 * GTIDs of `mine` that `primary` cannot have: per domain, a higher sequence, or the same sequence
 * written by another server (the histories diverged). Empty when `mine` is a prefix of the primary
 * as far as positions can tell; MariaDB's strict mode catches the rest on connect.
 */
export function errantGtids(mine: GtidPosition, primary: GtidPosition): string[] {
  const out: string[] = [];
  for (const g of mine.gtids) {
    const p = primary.domain(g.domain);
    if (p === undefined || p.sequence < g.sequence || (p.sequence === g.sequence && p.server !== g.server)) {
      out.push(`${g.domain}-${g.server}-${g.sequence}${p ? ` (primary has ${p.domain}-${p.server}-${p.sequence})` : ' (primary has nothing in this domain)'}`);
    }
  }
  return out;
}

function text(v: SqlValue | undefined): string {
  if (v === null || v === undefined) return '';
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return String(v);
}

function rowObject(r: Result): Record<string, string> | null {
  if (r.rows.length === 0) return null;
  const out: Record<string, string> = {};
  r.fields.forEach((f, i) => {
    out[f.name] = text(r.rows[0][i]);
  });
  return out;
}

function onOff(v: boolean): string {
  return v ? 'ON' : 'OFF';
}

async function one(c: Client, sql: string): Promise<string> {
  return text((await c.query(sql)).rows[0]?.[0]);
}

export class Replication {
  /** Set by StopReplication: the refresh loop then leaves replication alone. */
  private stoppedByOperator = false;
  /** syncWithShard demoted this primary at start: a reparent held the shard lock. */
  private demotedAtStart = false;

  constructor(private readonly tm: TabletManager) {}

  private get alias(): string {
    return this.tm.server.alias;
  }

  /** The tail of this tablet's replication changes (see `change`). */
  private changes: Promise<unknown> = Promise.resolve();

  /**
   * Runs a replication change (source, threads, semi-sync, demote, promote) on a vt_dba
   * connection, one at a time per tablet, as Vitess's tablet manager serializes its actions: two
   * callers interleaving STOP SLAVE / CHANGE MASTER / START SLAVE (a tablet rejoining its shard at
   * start while an operator points it elsewhere) would fail or leave the wrong source.
   */
  private change<T>(fn: (c: Client) => Promise<T>): Promise<T> {
    const run = this.changes.then(() => this.dba(fn));
    this.changes = run.catch(() => undefined);
    return run;
  }

  private async dba<T>(fn: (c: Client) => Promise<T>): Promise<T> {
    let c: Client;
    try {
      c = await this.tm.server.dbaClient(undefined);
    } catch (err) {
      const e = TesseraError.from(err);
      throw new TesseraError(e, `tablet ${this.alias}: cannot reach its MariaDB: ${e.message}`, { cause: err, kind: 'UNAVAILABLE' });
    }
    try {
      return await fn(c);
    } finally {
      c.close();
    }
  }

  // ---- status ----------------------------------------------------------------------------------

  private async readReplication(c: Client): Promise<ReplicationStatus | null> {
    const s = rowObject(await c.query('SHOW SLAVE STATUS'));
    if (s === null || s.Master_Host === '') return null;
    const slavePos = await one(c, 'SELECT @@global.gtid_slave_pos');
    const lag = s.Seconds_Behind_Master;
    return {
      source_host: s.Master_Host,
      source_port: Number(s.Master_Port),
      io_running: s.Slave_IO_Running === 'Yes',
      sql_running: s.Slave_SQL_Running === 'Yes',
      io_state: s.Slave_IO_State ?? '',
      using_gtid: (s.Using_Gtid ?? '').toLowerCase(),
      position: GtidPosition.parse(slavePos).toString(),
      relay_log_position: GtidPosition.parse(s.Gtid_IO_Pos ?? '').toString(),
      lag_seconds: lag === '' || lag === undefined ? null : Number(lag),
      last_io_errno: Number(s.Last_IO_Errno || 0),
      last_io_error: s.Last_IO_Error ?? '',
      last_sql_errno: Number(s.Last_SQL_Errno || 0),
      last_sql_error: s.Last_SQL_Error ?? '',
    };
  }

  private async readFull(c: Client): Promise<FullStatus> {
    const r = await c.query(
      'SELECT @@global.server_id, @@global.gtid_current_pos, @@global.gtid_binlog_pos, @@global.read_only, @@global.rpl_semi_sync_master_enabled, @@global.rpl_semi_sync_slave_enabled',
    );
    const row = r.rows[0];
    const st = await c.query("SHOW GLOBAL STATUS WHERE Variable_name IN ('Rpl_semi_sync_master_status', 'Rpl_semi_sync_master_clients')");
    const status = new Map(st.rows.map((x) => [text(x[0]), text(x[1])]));
    return {
      alias: this.alias,
      tablet_type: this.tm.server.tabletType,
      server_id: Number(text(row[0])),
      position: GtidPosition.parse(text(row[1])).toString(),
      binlog_position: GtidPosition.parse(text(row[2])).toString(),
      read_only: Number(text(row[3])) === 1,
      semi_sync_primary_enabled: Number(text(row[4])) === 1,
      semi_sync_replica_enabled: Number(text(row[5])) === 1,
      semi_sync_primary_active: status.get('Rpl_semi_sync_master_status') === 'ON',
      semi_sync_primary_clients: Number(status.get('Rpl_semi_sync_master_clients') ?? 0),
      replication: await this.readReplication(c),
    };
  }

  status(): Promise<ReplicationStatus | null> {
    return this.dba((c) => this.readReplication(c));
  }

  fullStatus(): Promise<FullStatus> {
    return this.dba((c) => this.readFull(c));
  }

  /** Feeds replication lag and errors into the tablet's health (called by the refresh loop). */
  async pollHealth(): Promise<void> {
    if (this.tm.server.tabletType === 'primary') {
      this.tm.server.setReplicationStatus(0, '');
      return;
    }
    let s: ReplicationStatus | null;
    try {
      s = await this.status();
    } catch (err) {
      this.tm.server.setReplicationStatus(null, (err as Error).message);
      return;
    }
    if (s === null) {
      this.tm.server.setReplicationStatus(null, 'replication is not configured (no source; InitShardPrimary or a reparent sets it)');
      return;
    }
    const errs: string[] = [];
    if (s.last_io_error !== '') errs.push(`IO thread error ${s.last_io_errno}: ${s.last_io_error}`);
    if (s.last_sql_error !== '') errs.push(`SQL thread error ${s.last_sql_errno}: ${s.last_sql_error}`);
    if (errs.length === 0 && (!s.io_running || !s.sql_running)) {
      errs.push(`replication is stopped (IO thread ${s.io_running ? 'running' : 'stopped'}, SQL thread ${s.sql_running ? 'running' : 'stopped'})`);
    }
    this.tm.server.setReplicationStatus(s.sql_running ? s.lag_seconds : null, errs.join('; '));
  }

  // ---- settings --------------------------------------------------------------------------------

  private async applySemiSync(c: Client, primary: boolean, replica: boolean): Promise<void> {
    if (primary) {
      // AFTER_SYNC: a transaction becomes visible only after a replica has it (lossless);
      // MariaDB's default AFTER_COMMIT lets other sessions read what a failover may lose.
      await c.query(
        `SET GLOBAL rpl_semi_sync_master_wait_point = 'AFTER_SYNC', GLOBAL rpl_semi_sync_master_timeout = ${REPLICATION_DEFAULTS.semiSyncPrimaryTimeoutMs}, ` +
          'GLOBAL rpl_semi_sync_master_wait_no_slave = ON, GLOBAL rpl_semi_sync_master_enabled = ON',
      );
    } else {
      await c.query('SET GLOBAL rpl_semi_sync_master_enabled = OFF');
    }
    const was = Number(await one(c, 'SELECT @@global.rpl_semi_sync_slave_enabled')) === 1;
    if (was === replica) return;
    await c.query(`SET GLOBAL rpl_semi_sync_slave_enabled = ${onOff(replica)}`);
    // The IO thread reads the setting when it connects.
    const s = await this.readReplication(c);
    if (s?.io_running) {
      await c.query('STOP SLAVE IO_THREAD');
      await c.query('START SLAVE IO_THREAD');
    }
  }

  async setSemiSync(primary: boolean, replica: boolean): Promise<void> {
    await this.change((c) => this.applySemiSync(c, primary, replica));
  }

  private async ensureJournal(c: Client): Promise<void> {
    // The tablet built its sidecar schema at start; this re-checks the recorded version (a few
    // cheap statements, no DDL when current) in case the database was dropped or restored since.
    // Unlogged, so the primary's journal rows replicate into a table every replica already has.
    await ensureSidecarSchema(c, { db: this.tm.server.sidecarDb });
  }

  // ---- operations ------------------------------------------------------------------------------

  stopReplication(): Promise<void> {
    return this.tm.action(async () => {
      this.stoppedByOperator = true;
      await this.change((c) => c.query('STOP SLAVE').then(() => undefined));
    });
  }

  startReplication(semiSync: boolean | undefined): Promise<void> {
    return this.tm.action(() => this.startReplicationLocked(semiSync));
  }

  private async startReplicationLocked(semiSync: boolean | undefined): Promise<void> {
    this.stoppedByOperator = false;
    await this.change(async (c) => {
      if ((await this.readReplication(c)) === null) {
        throw new TesseraError(ER.WRONG_ARGUMENTS, `tablet ${this.alias} has no replication source; InitShardPrimary or PlannedReparentShard sets one`);
      }
      if (semiSync !== undefined) await this.applySemiSync(c, false, semiSync);
      await c.query('START SLAVE');
    });
  }

  /**
   * Points this tablet at a primary's MariaDB and starts replicating. With `primaryPosition`,
   * refuses first if this tablet has transactions the primary lacks (errant GTIDs), since
   * replicating would then fail or, worse, silently diverge.
   */
  setSource(o: SetSourceRequest): Promise<FullStatus> {
    return this.tm.action(() => this.setSourceLocked(o));
  }

  private async setSourceLocked(o: SetSourceRequest): Promise<FullStatus> {
    this.stoppedByOperator = false;
    await this.change(async (c) => {
      await c.query('SET GLOBAL read_only = ON');
      await this.ensureJournal(c);
      const cur = GtidPosition.parse(await one(c, 'SELECT @@global.gtid_current_pos'));
      const binlog = GtidPosition.parse(await one(c, 'SELECT @@global.gtid_binlog_pos'));
      const slave = GtidPosition.parse(await one(c, 'SELECT @@global.gtid_slave_pos'));
      if (o.primaryPosition !== undefined) {
        const errant = errantGtids(cur, GtidPosition.parse(o.primaryPosition));
        if (errant.length > 0) {
          throw new TesseraError(
            ER.WRONG_ARGUMENTS,
            `tablet ${this.alias} has transactions its new primary ${o.host}:${o.port} lacks: ${errant.join(', ')}; ` +
              'it would diverge, so it is left read-only and not replicating. Rebuild it from a backup of the primary, or remove those transactions by hand.',
          );
        }
      }
      // A former primary's own writes are in its binlog, not in gtid_slave_pos: slave_pos would
      // ask the new primary to resend them (duplicates under strict mode). current_pos starts
      // after them, which is right because the check above found them on the new primary.
      const useGtid: UseGtid = slave.atLeast(binlog) ? 'slave_pos' : 'current_pos';
      await c.query('STOP SLAVE');
      await c.query(
        `CHANGE MASTER TO MASTER_HOST = ${quoteString(o.host)}, MASTER_PORT = ${o.port}, MASTER_USER = ${quoteString(REPL_USER)}, MASTER_PASSWORD = ${quoteString(this.tm.replPassword)}, ` +
          `MASTER_USE_GTID = ${useGtid}, MASTER_CONNECT_RETRY = ${REPLICATION_DEFAULTS.connectRetrySeconds}, MASTER_HEARTBEAT_PERIOD = ${REPLICATION_DEFAULTS.heartbeatPeriodSeconds}`,
      );
      await this.applySemiSync(c, false, o.semiSync);
      if (o.start !== false) await c.query('START SLAVE');
      log.info({ alias: this.alias, source: `${o.host}:${o.port}`, useGtid, position: cur.toString(), semiSync: o.semiSync }, 'replication source set');
    });
    if (o.tabletType !== undefined && o.tabletType !== this.tm.server.tabletType) {
      await this.tm.changeTypeLocked(o.tabletType);
    } else {
      this.tm.demoted = false;
      await this.tm.refreshState();
    }
    return this.fullStatus();
  }

  /** Forgets the replication source; with `resetBinlogs`, also this server's GTID history (RESET MASTER). */
  resetReplication(resetBinlogs: boolean): Promise<void> {
    return this.tm.action(() => this.change(async (c) => {
      await c.query('STOP SLAVE');
      await c.query('RESET SLAVE ALL');
      if (resetBinlogs) {
        await c.query('RESET MASTER');
        await c.query("SET GLOBAL gtid_slave_pos = ''");
      }
    }));
  }

  /**
   * First step of a planned reparent on the old primary: stop serving, let queries and
   * transactions in flight finish (up to `timeoutMs`), make MariaDB read-only, and return the
   * position every write it accepted has reached.
   */
  demotePrimary(timeoutMs: number): Promise<{ position: string; drained: boolean }> {
    return this.tm.action(() => this.demotePrimaryLocked(timeoutMs));
  }

  private async demotePrimaryLocked(timeoutMs: number): Promise<{ position: string; drained: boolean }> {
    this.tm.demoted = true;
    this.tm.server.setState({ serving: false, reason: 'demoted: a reparent is moving the primary away' });
    await this.tm.syncVReplication();
    const deadline = Date.now() + timeoutMs;
    let drained = false;
    for (;;) {
      const h = this.tm.server.healthState();
      if (h.queriesInFlight === 0 && h.transactionsOpen === 0) {
        drained = true;
        break;
      }
      if (Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, REPLICATION_DEFAULTS.drainPollMs));
    }
    if (!drained) log.warn({ alias: this.alias, timeoutMs }, 'demote: transactions still open after the drain timeout; read_only will fail their commits');
    let position: string;
    try {
      position = await this.change(async (c) => {
        // SET GLOBAL read_only waits for commits in progress; bound that wait too.
        await c.query(`SET SESSION lock_wait_timeout = ${Math.max(1, Math.ceil(timeoutMs / 1000))}`);
        await c.query('SET GLOBAL read_only = ON');
        return GtidPosition.parse(await one(c, 'SELECT @@global.gtid_binlog_pos')).toString();
      });
    } catch (err) {
      // Not demoted (its MariaDB is down, say, as EmergencyReparentShard finds it): the tablet must
      // not stay marked demoted once MariaDB is back, or the shard keeps a primary that never serves.
      this.tm.demoted = false;
      await this.tm.refreshState().catch(() => undefined);
      throw err;
    }
    log.info({ alias: this.alias, position, drained }, 'demoted primary');
    return { position, drained };
  }

  /** Undoes demotePrimary when a planned reparent fails before promoting anyone. */
  undoDemotePrimary(semiSync: boolean): Promise<void> {
    return this.tm.action(async () => {
      await this.change(async (c) => {
        await this.applySemiSync(c, semiSync, false);
        await c.query('SET GLOBAL read_only = OFF');
      });
      this.tm.demoted = false;
      await this.tm.refreshState();
    });
  }

  /**
   * Emergency reparent, on each surviving tablet: stop receiving (the primary is gone), apply what
   * the relay log already holds, stop. Fails after `timeoutMs` if the SQL thread cannot get there.
   */
  stopReplicationAndApplyRelay(timeoutMs: number): Promise<FullStatus> {
    return this.tm.action(() => this.stopAndApplyRelayLocked(timeoutMs));
  }

  private stopAndApplyRelayLocked(timeoutMs: number): Promise<FullStatus> {
    this.stoppedByOperator = true;
    return this.change(async (c) => {
      const before = await this.readReplication(c);
      if (before !== null) {
        await c.query('STOP SLAVE IO_THREAD');
        const received = GtidPosition.parse((rowObject(await c.query('SHOW SLAVE STATUS')) ?? {}).Gtid_IO_Pos ?? '');
        if (!received.isEmpty) {
          if (!before.sql_running) await c.query('START SLAVE SQL_THREAD');
          const r = await c.query(`SELECT MASTER_GTID_WAIT(${quoteString(received.gtidList())}, ${Math.max(0, timeoutMs) / 1000})`);
          if (Number(text(r.rows[0][0])) !== 0) {
            const now = await this.readReplication(c);
            throw new TesseraError(
              ER.LOCK_WAIT_TIMEOUT,
              `tablet ${this.alias} did not apply its relay log up to ${received.toString()} within ${timeoutMs} ms` +
                (now?.last_sql_error ? `: SQL thread error ${now.last_sql_errno}: ${now.last_sql_error}` : ''),
              { kind: 'DEADLINE_EXCEEDED' },
            );
          }
        }
        await c.query('STOP SLAVE');
      }
      return this.readFull(c);
    });
  }

  /**
   * Makes this tablet the primary: forget the old source (RESET SLAVE ALL), semi-sync as the
   * policy says, writable, type primary with its term start time. Returns its position.
   */
  promote(semiSync: boolean, primaryTermStartTime: string): Promise<{ position: string }> {
    return this.tm.action(async () => {
      this.stoppedByOperator = false;
      const position = await this.change(async (c) => {
        await c.query('STOP SLAVE');
        await c.query('RESET SLAVE ALL');
        await this.ensureJournal(c);
        await this.applySemiSync(c, semiSync, false);
        return GtidPosition.parse(await one(c, 'SELECT @@global.gtid_current_pos')).toString();
      });
      killHook('replication-reset');
      this.tm.demoted = false;
      await this.tm.changeTypeLocked('primary', { primaryTermStartTime });
      killHook('record-written');
      log.info({ alias: this.alias, position }, 'promoted to primary');
      return { position };
    });
  }

  /**
   * Records a reparent in the sidecar database's reparent_journal on the new primary; the row
   * replicates, so every replica shows it once it follows this primary. Under semi_sync the write waits for an
   * acknowledgement: past `timeoutMs` it is killed and the error says why.
   */
  async writeJournal(actionName: string, primaryAlias: string, position: string, timeoutMs: number): Promise<void> {
    await this.dba(async (c) => {
      await this.ensureJournal(c);
      const sql =
        `INSERT INTO ${quoteIdent(this.tm.server.sidecarDb)}.reparent_journal (time_created_ns, action_name, primary_alias, replication_position) VALUES ` +
        `(${BigInt(Date.now()) * 1_000_000n + BigInt(process.hrtime()[1] % 1_000_000)}, ${quoteString(actionName)}, ${quoteString(primaryAlias)}, ${quoteString(position)})`;
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        c.killQuery().catch(() => c.destroy());
      }, timeoutMs);
      try {
        await c.query(sql);
      } catch (err) {
        if (!timedOut) throw err;
        const semi = Number(await this.dba((d) => one(d, 'SELECT @@global.rpl_semi_sync_master_enabled'))) === 1;
        throw new TesseraError(
          ER.LOCK_WAIT_TIMEOUT,
          `tablet ${this.alias}: writing the reparent journal did not finish within ${timeoutMs} ms` +
            (semi ? ' (semi-sync is on: no replica acknowledged it; is any replica of type replica connected?)' : ''),
          { cause: err, kind: 'DEADLINE_EXCEEDED' },
        );
      } finally {
        clearTimeout(timer);
      }
    });
  }

  /**
   * Settles this tablet's type and replication with its shard record, at start-up (before the
   * tablet takes any other action) and after its MariaDB restarted, as Vitess's tablets do at
   * start: once a reparent has written the shard record, the shard record is the truth.
   * - The shard names this tablet: it is the primary, whatever its own record says (a reparent
   *   killed it between promoting it and telling it so): replication stopped and forgotten,
   *   writable, its record primary with the shard's term start time.
   * - The shard has no primary and this tablet's record says primary: it claims the shard (the
   *   local example's way to start before InitShardPrimary).
   * - Its record says primary with a term start time later than the shard's: a reparent promoted
   *   it and has not written the shard record yet (ctld does next, or records it replica when it
   *   gives up): it stays primary, not serving until the shard names it. Following the old primary
   *   now would undo a promotion the shard record is about to confirm.
   * - Otherwise the shard names another primary: this tablet follows it, as a replica if its
   *   record said primary (another tablet replaced it while it was away). It refuses, loudly in
   *   the health state, to follow a primary that lacks some of its transactions.
   */
  syncWithShard(): Promise<void> {
    return this.tm.action(() => this.syncWithShardLocked());
  }

  /** syncWithShard inside an action: start-up holds the actions and calls this. */
  async syncWithShardLocked(): Promise<void> {
    const tm = this.tm;
    const me = (await tm.topo.getTablet(tm.record.alias)).value;
    tm.setRecord(me);
    // The type the record has (not the --init-tablet-type the process started with): a change of
    // type below then also changes the record.
    if (tm.server.tabletType !== me.type) tm.server.setState({ tabletType: me.type, primaryTermStartTime: me.primary_term_start_time });
    const { value: shard } = await tm.topo.getShard(me.keyspace, me.shard);
    const { value: ks } = await tm.topo.getKeyspace(me.keyspace);
    const named = shard.primary_alias !== null && tabletAliasEqual(shard.primary_alias, me.alias);
    if (named) {
      if (me.type !== 'primary') log.warn({ alias: this.alias, recorded: me.type }, 'the shard record names this tablet primary: taking the primary type');
      // A reparent that began after this tablet's term (it holds the shard lock) may have demoted
      // it before this restart and be moving the primary away: serving now would take writes the
      // new primary never gets. It comes back demoted — read-only, not serving —; the reparent
      // repoints it or undoes the demotion, and once the lock is gone with the shard still naming
      // it, the refresh loop lifts the demotion (liftStartDemotion).
      const holder = await tm.topo.shardLockHolder(me.keyspace, me.shard).catch(() => null);
      if (holder !== null && !tm.demoted && !laterTerm(shard.primary_term_start_time, holder.time)) {
        log.warn({ alias: this.alias, lock: holder.action }, 'a reparent holds the shard lock: starting demoted until it repoints or undoes');
        tm.demoted = true;
        this.demotedAtStart = true;
      }
      await this.becomePrimaryLocked(ks.durability_policy, shard.primary_term_start_time ?? me.primary_term_start_time ?? new Date().toISOString());
      return;
    }
    if (shard.primary_alias === null) {
      if (me.type !== 'primary') return this.takeTypeLocked(me.type);
      const term = me.primary_term_start_time ?? new Date().toISOString();
      // Serving is the shard's own (createShard decides it; a resharding target stays not
      // serving until traffic is switched to it).
      await tm.topo.updateShardFields(me.keyspace, me.shard, (s) => {
        if (s.primary_alias !== null) return false;
        s.primary_alias = me.alias;
        s.primary_term_start_time = term;
      });
      return this.syncWithShardLocked();
    }
    if (me.type === 'primary' && laterTerm(me.primary_term_start_time, shard.primary_term_start_time)) {
      log.warn(
        { alias: this.alias, term: me.primary_term_start_time, shardPrimary: tabletAliasString(shard.primary_alias), shardTerm: shard.primary_term_start_time },
        'promoted by a reparent that has not written the shard record yet: primary, not serving until the shard names this tablet',
      );
      await this.becomePrimaryLocked(ks.durability_policy, me.primary_term_start_time as string);
      return;
    }
    let type = me.type;
    if (type === 'primary') {
      log.warn({ alias: this.alias, primary: tabletAliasString(shard.primary_alias) }, 'the shard has another primary: rejoining as a replica');
      type = 'replica';
    }
    if (!['replica', 'rdonly', 'spare', 'drained', 'backup'].includes(type)) return this.takeTypeLocked(type);
    const primary = (await tm.topo.getTablet(shard.primary_alias)).value;
    let primaryPosition: string | undefined;
    try {
      primaryPosition = await readRemotePosition(primary.mysql_hostname, primary.mysql_port, tm.replPassword);
    } catch (err) {
      log.warn({ alias: this.alias, err: (err as Error).message }, 'rejoin: cannot read the primary position; pointing at it without the errant-transaction check');
    }
    try {
      await this.setSourceLocked({
        host: primary.mysql_hostname,
        port: primary.mysql_port,
        semiSync: semiSyncFor(ks.durability_policy, type).replica,
        primaryPosition,
        tabletType: type,
      });
    } catch (err) {
      // Not following anyone, so not a primary either: the type it was to have, read-only.
      if (tm.server.tabletType !== type) await tm.changeTypeLocked(type).catch(() => undefined);
      tm.server.setReplicationStatus(null, (err as Error).message);
      throw err;
    }
  }

  /**
   * Lifts a demotion taken at start (syncWithShard) once no reparent holds the shard lock and the
   * shard still names this tablet: the reparent that held it ended without repointing it or
   * undoing the demotion (it failed, or its ctld died and the lock's lease ran out).
   */
  async liftStartDemotion(): Promise<void> {
    if (!this.demotedAtStart) return;
    await this.tm.action(async () => {
      const tm = this.tm;
      if (!tm.demoted || tm.server.tabletType !== 'primary') {
        this.demotedAtStart = false;
        return;
      }
      if ((await tm.topo.shardLockHolder(tm.record.keyspace, tm.record.shard)) !== null) return;
      const { value: shard } = await tm.topo.getShard(tm.record.keyspace, tm.record.shard);
      if (shard.primary_alias === null || !tabletAliasEqual(shard.primary_alias, tm.record.alias)) return;
      log.warn({ alias: this.alias }, 'no reparent holds the shard lock any more and the shard names this tablet: lifting the demotion taken at start');
      await this.liftDemotionLocked();
    });
  }

  /** Writable and serving again after a demotion no reparent will undo (inside an action; shard-sync.ts decides when). */
  async liftDemotionLocked(): Promise<void> {
    this.demotedAtStart = false;
    this.tm.demoted = false;
    await this.change((c) => c.query('SET GLOBAL read_only = OFF').then(() => undefined));
    await this.tm.refreshState();
  }

  /** A type that replicates from nobody (or no primary yet): read-only, that type. */
  private async takeTypeLocked(type: TabletType): Promise<void> {
    await this.change((c) => c.query('SET GLOBAL read_only = ON').then(() => undefined));
    this.tm.server.setState({ tabletType: type, primaryTermStartTime: null });
    await this.tm.refreshState();
  }

  /**
   * The primary's side of syncWithShard: no replication source, semi-sync as the policy says,
   * writable (but a tablet a reparent demoted stays read-only: the reparent decides), type
   * primary with `term` in its record and its state. Inside an action (also shard-sync.ts's claim).
   */
  async becomePrimaryLocked(policy: string, term: string): Promise<void> {
    const tm = this.tm;
    this.stoppedByOperator = false;
    await this.change(async (c) => {
      await c.query('STOP SLAVE');
      await c.query('RESET SLAVE ALL');
      await this.applySemiSync(c, semiSyncFor(policy, 'primary').primary, false);
      if (!tm.demoted) await c.query('SET GLOBAL read_only = OFF');
    });
    if (tm.record.type !== 'primary' || tm.record.primary_term_start_time !== term) {
      tm.setRecord(
        await tm.topo.updateTabletFields(tm.record.alias, (t) => {
          t.type = 'primary';
          t.primary_term_start_time = term;
        }),
      );
    }
    tm.server.setState({ tabletType: 'primary', primaryTermStartTime: term });
    await tm.refreshState();
  }

  get operatorStopped(): boolean {
    return this.stoppedByOperator;
  }
}

/** Whether term start time `a` is later than `b` (both set). */
function laterTerm(a: string | null, b: string | null): boolean {
  return a !== null && b !== null && Date.parse(a) > Date.parse(b);
}

/**
 * Test hook (TESSERA_TEST_KILL_IN_PROMOTE=<step>, read here and nowhere else): the tablet process
 * dies (SIGKILL) at that step of a promotion — `replication-reset` (replication forgotten, the
 * record still the old type) or `record-written` (the record says primary, the caller not yet
 * answered) —, so tests can stop a reparent exactly there.
 */
function killHook(step: string): void {
  if (process.env.TESSERA_TEST_KILL_IN_PROMOTE !== step) return;
  process.stderr.write(`test hook: killing process ${process.pid} at promotion step ${step}\n`);
  process.kill(process.pid, 'SIGKILL');
  // The signal is on its way; nothing more of the promotion may run before it lands.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10_000);
}

/** The primary's gtid_binlog_pos, read over TCP as vt_repl (any user may read global variables). */
async function readRemotePosition(host: string, port: number, password: string): Promise<string> {
  const c = await Client.connect({ host, port, user: REPL_USER, password, connectTimeoutMs: 3_000 });
  try {
    return GtidPosition.parse(await one(c, 'SELECT @@global.gtid_binlog_pos')).toString();
  } finally {
    c.close();
  }
}
