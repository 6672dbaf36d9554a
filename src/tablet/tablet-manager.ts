// The tablet manager: administrative operations on one tablet for ctld (`tessera ctl`): schema,
// fetches as vt_dba/vt_app, type changes, read-only, serving state from the topology, positions.
// Replication management (reparents) builds on the same object.
import type { Client } from '../mysql/client.js';
import { ER, TesseraError } from '../mysql/errors.js';
import { decodeTextRow, type SqlValue } from '../mysql/values.js';
import { GtidPosition } from '../mysql/binlog/index.js';
import { logger } from '../log/index.js';
import { quoteString, splitStatements } from '../sql/index.js';
import { isTopoError, SERVED_TYPES, type SrvKeyspace, type Tablet, type TabletType, type TopoServer } from '../topo/index.js';
import { Replication } from './replication.js';
import { ShardSync } from './shard-sync.js';
import type { TableSchema } from './schema-engine.js';
import type { TabletServer } from './tablet-server.js';
import type { VReplicationEngine } from '../vreplication/engine.js';
import type { VDiffEngine } from '../vdiff/engine.js';
import { BINLOG_RETENTION_DEFAULTS, purgeBinaryLogs, streamsReadingFrom, type PurgeRequest, type PurgeResponse } from './binlog-retention.js';
import type { TabletManagerClient } from './tablet-manager-client.js';

const log = logger('tablet-manager');

export interface FetchResult {
  readonly fields: readonly string[];
  readonly rows: readonly (string | null)[][];
  readonly rowsAffected: number;
  readonly insertId: string;
}

export interface FetchOptions {
  readonly maxRows?: number;
  /** Run with sql_log_bin = 0 (the statement does not replicate). */
  readonly disableBinlogs?: boolean;
  readonly reloadSchema?: boolean;
  /** Database to use; the tablet's own by default. */
  readonly database?: string;
}

export const TABLET_MANAGER_DEFAULTS = {
  fetchRowsMax: 10_000,
  /** How often the manager re-reads its shard from the topology and checks replication. */
  refreshIntervalMs: 5_000,
};

function cell(v: SqlValue): string | null {
  if (v === null) return null;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return String(v);
}

export class TabletManager {
  private tablet: Tablet;
  private timer: NodeJS.Timeout | null = null;
  /** Replication source, status, semi-sync and the per-tablet reparent steps (replication.ts). */
  readonly replication: Replication;
  /** Keeps the shard record right when a reparent died half-way (shard-sync.ts), from the refresh loop. */
  readonly shardSync: ShardSync;
  /** When the tablet was demoted (Date.now()), or null: see `demoted`. */
  private demotedSince: number | null = null;
  /** Set by DemotePrimary: a primary that stops serving until a reparent promotes another or undoes it. */
  get demoted(): boolean {
    return this.demotedSince !== null;
  }
  set demoted(v: boolean) {
    if (!v) this.demotedSince = null;
    else if (this.demotedSince === null) this.demotedSince = Date.now();
  }
  /** Since when the tablet is demoted (ms since the epoch), or null when it is not. */
  get demotedAt(): number | null {
    return this.demotedSince;
  }
  /** The tablet's VReplication engine: open while the tablet is a primary that is not demoted. */
  vreplication: VReplicationEngine | null = null;
  /** The tablet's VDiff engine: open with the VReplication engine, whose streams it pauses and compares. */
  vdiff: VDiffEngine | null = null;
  /** Other tablets' managers: the binlog purge asks the target primaries for their streams' positions. */
  peers: TabletManagerClient | null = null;
  /** Binlog expiry by this tablet (binlog-retention.ts): --binlog-expire-logs-seconds, --binlog-purge-interval. */
  binlogRetention: typeof BINLOG_RETENTION_DEFAULTS = { ...BINLOG_RETENTION_DEFAULTS };
  private purgeTimer: NodeJS.Timeout | null = null;
  private purging: Promise<unknown> = Promise.resolve();
  /** The tail of the actions that change this tablet's type or replication (see `action`). */
  private actions: Promise<unknown> = Promise.resolve();

  constructor(
    readonly server: TabletServer,
    readonly topo: TopoServer,
    tablet: Tablet,
    /** vt_repl's password, which replicas of this shard use to reach their primary. */
    readonly replPassword = '',
  ) {
    this.tablet = tablet;
    this.replication = new Replication(this);
    this.shardSync = new ShardSync(this);
  }

  get record(): Tablet {
    return this.tablet;
  }

  /** Takes the tablet's record as the topology holds it (after registration or a reparent). */
  setRecord(t: Tablet): void {
    this.tablet = t;
  }

  /**
   * Runs an action that changes the tablet's type or replication (type change, promote, demote,
   * repoint, the start-up and after-restart sync with the shard record) alone, as Vitess's tablet
   * manager holds its action lock: each decides from the type and records as they are when it
   * runs, never from what another action running beside it is about to change. (A tablet
   * rejoining the old primary at start while PlannedReparentShard promoted it made it a replica
   * after the shard record had named it primary.) Actions never call `action` again: they use the
   * `...Locked` forms.
   */
  action<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.actions.then(fn);
    this.actions = run.catch(() => undefined);
    return run;
  }

  /**
   * Holds every action until the returned function is called: start-up takes this before its RPC
   * port listens and lets go once it has settled its type with the topology, so that a reparent's
   * call arriving meanwhile runs after it, on the settled state.
   */
  holdActions(): () => void {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    void this.action(() => held);
    return release;
  }

  startRefreshLoop(intervalMs = TABLET_MANAGER_DEFAULTS.refreshIntervalMs): void {
    this.timer = setInterval(() => {
      // The shard record first (shard-sync.ts: a reparent that died half-way), then the state;
      // refreshState also polls replication status into the health stream.
      this.shardSync
        .run()
        .catch((err: Error) => log.warn({ err: err.message, alias: this.server.alias }, 'shard sync failed'))
        .then(() => this.replication.liftStartDemotion())
        .then(() => this.refreshState())
        .catch((err: Error) => log.warn({ err: err.message, alias: this.server.alias }, 'refresh failed'));
    }, intervalMs);
    this.timer.unref();
    const r = this.binlogRetention;
    if (r.expireSeconds > 0 && r.purgeIntervalMs > 0 && this.peers) {
      this.purgeTimer = setInterval(() => {
        this.purgeBinaryLogs({ olderThanSeconds: r.expireSeconds })
          .then((p) => {
            if (p.purged.length > 0 || p.heldBy) log.info({ alias: this.server.alias, purged: p.purged, heldBy: p.heldBy }, 'expired binlogs purged');
          })
          .catch((err: Error) => log.warn({ err: err.message, alias: this.server.alias }, 'binlog expiry skipped'));
      }, r.purgeIntervalMs);
      this.purgeTimer.unref();
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.purgeTimer) clearInterval(this.purgeTimer);
  }

  /**
   * Purges this tablet's binlogs as asked, keeping every file a VReplication stream reading from
   * this shard still needs (binlog-retention.ts). One purge at a time per tablet.
   */
  purgeBinaryLogs(req: PurgeRequest): Promise<PurgeResponse> {
    const run = async (): Promise<PurgeResponse> => {
      if (!this.peers) throw new TesseraError(ER.UNKNOWN_ERROR, `tablet ${this.server.alias} cannot reach other tablets to learn its streams' positions; nothing was purged`);
      const holds = await streamsReadingFrom(this.topo, this.peers, this.tablet.keyspace, this.tablet.shard);
      const c = await this.server.dbaClient();
      try {
        return await purgeBinaryLogs(c, holds, req);
      } finally {
        c.close();
      }
    };
    const p = this.purging.then(run, run);
    this.purging = p.catch(() => undefined);
    return p;
  }

  /**
   * Opens the VReplication engine on a primary and closes it on any other type or when demoted:
   * streams write to this tablet's MariaDB as vt_dba, which read_only does not stop, so a demoted
   * primary must stop them itself before another primary takes over.
   */
  async syncVReplication(): Promise<void> {
    const e = this.vreplication;
    if (!e) return;
    if (this.server.tabletType === 'primary' && !this.demoted) {
      await e.open();
      await this.vdiff?.open();
    } else {
      // VDiffs first: a running one restarts the streams it paused before they are closed.
      if (this.vdiff?.isOpen) await this.vdiff.close();
      if (e.isOpen) await e.close();
    }
  }

  async ping(): Promise<string> {
    const c = await this.server.dbaClient();
    try {
      await c.ping();
      return 'pong';
    } finally {
      c.close();
    }
  }

  async getSchema(): Promise<TableSchema[]> {
    if (this.server.schema.lastLoaded === 0) await this.server.reloadSchema();
    return this.server.schema.list();
  }

  async reloadSchema(): Promise<void> {
    await this.server.reloadSchema();
  }

  /** Runs DDL on this tablet's database as vt_dba, statement by statement, then reloads the schema. */
  async applySchema(sql: string): Promise<{ statements: number }> {
    const stmts = splitStatements(sql).filter((s) => s.trim() !== '');
    const c = await this.server.dbaClient();
    try {
      for (const s of stmts) await c.query(s);
    } finally {
      c.close();
    }
    await this.server.reloadSchema();
    return { statements: stmts.length };
  }

  async executeFetchAsDba(sql: string, opts: FetchOptions = {}): Promise<FetchResult> {
    const c = await this.server.dbaClient(opts.database ?? this.server.dbName);
    try {
      if (opts.disableBinlogs) await c.query('SET sql_log_bin = 0');
      return await this.fetch(c, sql, opts);
    } finally {
      c.close();
    }
  }

  async executeFetchAsApp(sql: string, opts: FetchOptions = {}): Promise<FetchResult> {
    const target = { keyspace: this.server.keyspace, shard: this.server.shard, tabletType: this.server.tabletType };
    const r = await this.server.execute(target, sql, null);
    const cols = r.fields;
    const max = opts.maxRows ?? TABLET_MANAGER_DEFAULTS.fetchRowsMax;
    if (r.rows.length > max) throw new TesseraError(ER.TOO_MANY_ROWS, `ExecuteFetchAsApp: ${r.rows.length} rows exceed --max-rows ${max}`);
    return {
      fields: cols.map((f) => f.name),
      rows: r.rows.map((p) => decodeTextRow(p, cols).map(cell)),
      rowsAffected: r.rowsAffected,
      insertId: String(r.insertId),
    };
  }

  private async fetch(c: Client, sql: string, opts: FetchOptions): Promise<FetchResult> {
    const max = opts.maxRows ?? TABLET_MANAGER_DEFAULTS.fetchRowsMax;
    const results = await c.queryMulti(sql);
    const r = results.find((x) => x.fields.length > 0) ?? results[results.length - 1];
    if (r.rows.length > max) throw new TesseraError(ER.TOO_MANY_ROWS, `ExecuteFetchAsDBA: ${r.rows.length} rows exceed --max-rows ${max}`);
    if (opts.reloadSchema) await this.server.reloadSchema();
    return {
      fields: r.fields.map((f) => f.name),
      rows: r.rows.map((row) => row.map(cell)),
      rowsAffected: Number(r.affectedRows),
      insertId: String(r.insertId),
    };
  }

  async setReadOnly(readOnly: boolean): Promise<void> {
    const c = await this.server.dbaClient(undefined);
    try {
      await c.query(`SET GLOBAL read_only = ${readOnly ? 'ON' : 'OFF'}`);
    } finally {
      c.close();
    }
  }

  async isReadOnly(): Promise<boolean> {
    const c = await this.server.dbaClient(undefined);
    try {
      const r = await c.query('SELECT @@global.read_only');
      return Number(r.rows[0][0]) === 1;
    } finally {
      c.close();
    }
  }

  /** Changes the tablet type in the topology and in the serving state. A primary is writable. */
  changeType(type: TabletType): Promise<Tablet> {
    return this.action(() => this.changeTypeLocked(type));
  }

  /** changeType inside an action (see `action`). */
  async changeTypeLocked(type: TabletType, opts: { primaryTermStartTime?: string | null } = {}): Promise<Tablet> {
    if (type === 'primary' && this.tablet.type !== 'primary' && opts.primaryTermStartTime === undefined) {
      throw new TesseraError(
        ER.WRONG_ARGUMENTS,
        `ChangeTabletType cannot make ${this.server.alias} primary: use InitShardPrimary or PlannedReparentShard, which move the primary safely`,
      );
    }
    await this.setReadOnly(type !== 'primary');
    this.demoted = false;
    this.tablet = await this.topo.updateTabletFields(this.tablet.alias, (t) => {
      t.type = type;
      t.primary_term_start_time = type === 'primary' ? (opts.primaryTermStartTime ?? t.primary_term_start_time) : null;
    });
    this.server.setState({ tabletType: type, primaryTermStartTime: this.tablet.primary_term_start_time });
    await this.refreshState();
    return this.tablet;
  }

  /**
   * Re-reads the shard and the serving graph and decides whether to serve: not when a tablet
   * control disables the query service of its type (read, as Vitess does, from the shard tablet
   * controls of its cell's SrvKeyspace partition; from the shard record before any rebuild); a
   * primary serves when its shard's primary is serving and names it, whatever the primary
   * partition lists (Vitess does not consult the partition either); a replica or rdonly when the
   * cell's SrvKeyspace lists its shard for its type (or, before any rebuild, when the shard's
   * primary serves).
   */
  async refreshState(): Promise<void> {
    const type = this.server.tabletType;
    const { value: shard } = await this.topo.getShard(this.tablet.keyspace, this.tablet.shard);
    const cell = this.tablet.alias.cell;
    const denied = new Set<string>();
    for (const tc of shard.tablet_controls) {
      if (tc.tablet_type === type && (tc.cells.length === 0 || tc.cells.includes(cell))) {
        for (const t of tc.denied_tables) denied.add(t);
      }
    }
    let srv: SrvKeyspace | null = null;
    try {
      srv = await this.topo.getSrvKeyspace(cell, this.tablet.keyspace);
    } catch (err) {
      if (!isTopoError(err, 'NO_NODE')) throw err; // no serving graph yet
    }
    const part = srv?.partitions.find((p) => p.served_type === type);
    const qsDisabled = srv
      ? (part?.shard_tablet_controls.some((c) => c.name === this.tablet.shard && c.query_service_disabled) ?? false)
      : shard.tablet_controls.some((tc) => tc.tablet_type === type && tc.disable_query_service && (tc.cells.length === 0 || tc.cells.includes(cell)));
    let serving = false;
    let reason = '';
    if (!SERVED_TYPES.includes(type)) {
      reason = `tablet type ${type} does not serve queries`;
    } else if (qsDisabled) {
      reason = `the tablet control of ${this.tablet.keyspace}/${this.tablet.shard} for ${type} disables the query service (query_service_disabled; SetShardTabletControl --remove lifts it)`;
    } else if (type === 'primary') {
      const named = shard.primary_alias !== null && shard.primary_alias.cell === this.tablet.alias.cell && shard.primary_alias.uid === this.tablet.alias.uid;
      // A shard that is not primary-serving (a resharding target) still answers on its primary,
      // as in Vitess: the gate routes to it only when targeted (`use customer/-80`), since the
      // serving graph does not list it. Writes are stopped on a shard switched away by its
      // query_service_disabled control, above.
      serving = named && !this.demoted;
      if (this.demoted) reason = 'demoted: a reparent is moving the primary away';
      else if (!named) reason = 'the shard record names another primary';
    } else {
      const listed = srv ? (part?.shard_references.some((r) => r.name === this.tablet.shard) ?? false) : null;
      serving = listed ?? shard.is_primary_serving;
      if (!serving) reason = `the serving graph does not list ${this.tablet.keyspace}/${this.tablet.shard} for ${type}`;
    }
    this.server.setState({ serving, reason, deniedTables: denied, primaryTermStartTime: this.tablet.primary_term_start_time });
    await this.syncVReplication().catch((err: Error) => log.warn({ err: err.message, alias: this.server.alias }, 'vreplication engine open/close failed'));
    // A refresh follows type changes and reparents: report replication as it is now, not as it was.
    await this.replication.pollHealth().catch((err: Error) => log.warn({ err: err.message, alias: this.server.alias }, 'replication status failed'));
  }

  async primaryPosition(): Promise<string> {
    const c = await this.server.dbaClient(undefined);
    try {
      const r = await c.query('SELECT @@global.gtid_binlog_pos');
      return GtidPosition.parse(cell(r.rows[0][0]) ?? '').toString();
    } finally {
      c.close();
    }
  }

  /** Waits until this MariaDB has applied `position` (MASTER_GTID_WAIT), or fails after the timeout. */
  async waitForPosition(position: string, timeoutMs: number): Promise<void> {
    const pos = GtidPosition.parse(position);
    const c = await this.server.dbaClient(undefined);
    try {
      // MASTER_GTID_WAIT follows replication only (gtid_slave_pos); a primary's own writes are in
      // gtid_current_pos, so check that first.
      const cur = await c.query('SELECT @@global.gtid_current_pos');
      if (GtidPosition.parse(cell(cur.rows[0][0]) ?? '').atLeast(pos)) return;
      const r = await c.query(`SELECT MASTER_GTID_WAIT(${quoteString(pos.gtidList())}, ${Math.max(0, timeoutMs) / 1000})`);
      if (Number(r.rows[0][0]) !== 0) {
        throw new TesseraError(ER.LOCK_WAIT_TIMEOUT, `tablet ${this.server.alias} did not reach position ${pos.toString()} within ${timeoutMs} ms`, {
          kind: 'DEADLINE_EXCEEDED',
        });
      }
    } finally {
      c.close();
    }
  }
}
