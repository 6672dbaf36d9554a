// A whole tablet: its MariaDB (started through mysqlctl, or an existing server for an "unmanaged"
// tablet), the query service and tablet manager, registration in the topology, the RPC listener for
// gates and ctld, and an HTTP listener for health, status and metrics.
import http from 'node:http';
import os from 'node:os';
import { Registry, Gauge, collectDefaultMetrics } from 'prom-client';
import { Client, type ClientOptions } from '../mysql/client.js';
import { logger } from '../log/index.js';
import { Mysqlctl, APP_USER, DBA_USER, REPL_USER, passwordOf, type DbCredentials } from '../mysqlctl/index.js';
import type { RpcServer } from '../rpc/index.js';
import { ensureSidecarSchema, sidecarDbName } from '../sidecar/index.js';
import { quoteIdent } from '../sql/index.js';
import { isTopoError, newTablet, shardKeyRange, tabletAliasString, type TabletType, type TopoServer } from '../topo/index.js';
import { TabletManager } from './tablet-manager.js';
import { TabletServer, type TabletServerLimits } from './tablet-server.js';
import { tabletRpcServer } from './rpc-service.js';
import { LocalVStreamer, topoVSchemaSource, VStreamerClient, vstreamServerIdBase, type VStreamerLimits } from '../vreplication/index.js';
import { VReplicationEngine } from '../vreplication/engine.js';
import { VDiffEngine } from '../vdiff/engine.js';
import type { VDiffLimits } from '../vdiff/differ.js';
import { registerVDiffSourceHandlers, VDiffSource, VDiffSourceClient } from '../vdiff/source.js';
import type { EngineFlags } from '../vreplication/controller.js';
import { tabletManagerProbe } from '../vreplication/throttle.js';
import { RpcTabletManagerClient } from './rpc-tablet-manager-client.js';
import type { BINLOG_RETENTION_DEFAULTS } from './binlog-retention.js';
import { MysqlKeeper, MYSQL_RESTART_DEFAULTS, type MysqlRestartOptions } from './mysql-keeper.js';
import { ER, TesseraError } from '../mysql/errors.js';

const log = logger('tablet');

export interface UnmanagedMysql {
  readonly host: string;
  readonly port: number;
  readonly appUser: string;
  readonly appPassword: string;
  readonly dbaUser: string;
  readonly dbaPassword: string;
}

export interface TabletOptions {
  readonly uid: number;
  readonly cell: string;
  readonly keyspace: string;
  readonly shard: string;
  readonly tabletType: TabletType;
  readonly topo: TopoServer;
  /** RPC port for gates and ctld (Vitess: 16000 + uid). 0 picks a free port. */
  readonly rpcPort: number;
  /** HTTP port for health, status and metrics (Vitess: 15000 + uid). 0 picks a free port; -1 none. */
  readonly httpPort: number;
  readonly hostname?: string;
  readonly bindAddress?: string;
  /** Managed MariaDB: created and started through mysqlctl. */
  readonly mysqlPort?: number;
  readonly dataRoot?: string;
  readonly mysqlExtraConfig?: Readonly<Record<string, string>>;
  /** Or an existing MariaDB/MySQL the tablet attaches to. */
  readonly unmanaged?: UnmanagedMysql;
  readonly dbNameOverride?: string;
  /** Account passwords of a managed MariaDB (--db-credentials-file); vt_app's and vt_repl's are used. */
  readonly credentials?: DbCredentials;
  readonly limits?: Partial<TabletServerLimits>;
  /** Bounds of the VStream service other tablets copy and replicate from. */
  readonly vstreamLimits?: Partial<VStreamerLimits>;
  /** The VReplication engine's settings (tablet flags such as --vreplication-copy-readers); workflows override them. */
  readonly vreplicationFlags?: Partial<EngineFlags>;
  /** Binlog expiry by the tablet, which keeps what streams still need (--binlog-expire-logs-seconds, --binlog-purge-interval). */
  readonly binlogRetention?: Partial<typeof BINLOG_RETENTION_DEFAULTS>;
  /** The VDiff engine's limits (--vdiff-compare-rows-per-second and the defaults of src/vdiff). */
  readonly vdiffLimits?: Partial<VDiffLimits>;
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * A managed MariaDB whose process dies is started again (mysql-keeper.ts). Off unless enabled
   * here; `tessera tablet` and `tessera up` turn it on (--mysql-restart).
   */
  readonly mysqlRestart?: Partial<MysqlRestartOptions>;
}

export class TabletProcess {
  readonly alias: string;
  private http: http.Server | null = null;
  /** Restarts a managed MariaDB that died; null for an unmanaged tablet. */
  keeper: MysqlKeeper | null = null;

  private constructor(
    readonly server: TabletServer,
    readonly manager: TabletManager,
    /** The source side of VReplication: this tablet's binlog and rows, for other tablets' engines. */
    readonly vstreamer: LocalVStreamer,
    readonly rpc: RpcServer,
    readonly rpcPort: number,
    readonly httpPort: number,
    readonly mysqlctl: Mysqlctl | null,
    readonly registry: Registry,
  ) {
    this.alias = server.alias;
  }

  static async start(o: TabletOptions): Promise<TabletProcess> {
    const aliasText = tabletAliasString({ cell: o.cell, uid: o.uid });
    const dbName = o.dbNameOverride || `vt_${o.keyspace}`;
    const bind = o.bindAddress ?? '127.0.0.1';
    const hostname = o.hostname ?? (bind === '0.0.0.0' ? os.hostname() : bind);
    let mysqlctl: Mysqlctl | null = null;
    let appConn: Omit<ClientOptions, 'database'>;
    let dbaConn: Omit<ClientOptions, 'database'>;
    let mysqlHost: string;
    let mysqlPort: number;
    if (o.unmanaged) {
      const u = o.unmanaged;
      appConn = { host: u.host, port: u.port, user: u.appUser, password: u.appPassword };
      dbaConn = { host: u.host, port: u.port, user: u.dbaUser, password: u.dbaPassword };
      mysqlHost = u.host;
      mysqlPort = u.port;
    } else {
      mysqlPort = o.mysqlPort ?? 17000 + o.uid;
      mysqlctl = new Mysqlctl({ tabletUid: o.uid, mysqlPort, dataRoot: o.dataRoot, extraConfig: o.mysqlExtraConfig, credentials: o.credentials });
      await mysqlctl.init();
      await mysqlctl.start();
      appConn = { socketPath: mysqlctl.socket, user: APP_USER, password: passwordOf(o.credentials, APP_USER) };
      dbaConn = { socketPath: mysqlctl.socket, user: DBA_USER };
      mysqlHost = '127.0.0.1';
    }

    // The cell (on the global topology's store), keyspace and shard are created when missing, so
    // that a local cluster needs no separate setup step; Vitess's tablets do the same for shards.
    await o.topo.createCellInfo(o.cell, {}).catch((err) => {
      if (!isTopoError(err, 'NODE_EXISTS')) throw err;
    });
    await o.topo.createKeyspace(o.keyspace).catch((err) => {
      if (!isTopoError(err, 'NODE_EXISTS')) throw err;
    });
    await o.topo.createShard(o.keyspace, o.shard).catch((err) => {
      if (!isTopoError(err, 'NODE_EXISTS')) throw err;
    });

    // The keyspace names its sidecar database (sidecar_db_name, `_vt` by default); read once here,
    // and everything that names a sidecar table takes it from the TabletServer.
    const sidecarDb = sidecarDbName((await o.topo.getKeyspace(o.keyspace)).value.sidecar_db_name);

    // The keyspace database with replication off, so that replicas created alike never diverge
    // over it; the sidecar schema is created or upgraded to this version, also unlogged.
    const dba = await Client.connect(dbaConn);
    try {
      await dba.query('SET sql_log_bin = 0');
      await dba.query(`CREATE DATABASE IF NOT EXISTS ${quoteIdent(dbName)}`);
      await ensureSidecarSchema(dba, { db: sidecarDb });
      // Read-only (vt_app cannot bypass it) until the type is settled with the shard record
      // (syncWithShard), which makes a primary writable: a primary a reparent demoted before a
      // restart must not take writes the new primary would never get.
      await dba.query('SET GLOBAL read_only = ON');
    } finally {
      dba.close();
    }

    const server = new TabletServer({
      alias: aliasText,
      keyspace: o.keyspace,
      shard: o.shard,
      tabletType: o.tabletType,
      dbName,
      sidecarDb,
      appConn,
      dbaConn,
      limits: o.limits,
    });
    const record0 = newTablet({
      alias: { cell: o.cell, uid: o.uid },
      hostname,
      port_map: {},
      keyspace: o.keyspace,
      shard: o.shard,
      key_range: shardKeyRange(o.shard),
      type: o.tabletType,
      db_name_override: o.dbNameOverride ?? '',
      tags: { ...o.tags },
      mysql_hostname: mysqlHost,
      mysql_port: mysqlPort,
    });
    const manager = new TabletManager(server, o.topo, record0, passwordOf(o.credentials, REPL_USER));
    manager.peers = new RpcTabletManagerClient(o.topo);
    manager.binlogRetention = { ...manager.binlogRetention, ...o.binlogRetention };
    const vstreamer = new LocalVStreamer({
      dbName,
      connection: dbaConn,
      vschema: topoVSchemaSource(o.topo, o.keyspace),
      serverIdBase: vstreamServerIdBase(o.uid),
      limits: o.vstreamLimits,
    });
    manager.vreplication = new VReplicationEngine({
      alias: aliasText,
      cell: o.cell,
      dbName,
      sidecarDb,
      topo: o.topo,
      keyspace: o.keyspace,
      shard: o.shard,
      flags: o.vreplicationFlags,
      // Other tablets' health (history list, replica lag) over their tablet-manager RPC.
      probe: tabletManagerProbe(new RpcTabletManagerClient(o.topo)),
      dbaClient: () => server.dbaClient(undefined),
      // A connection of its own per stream, to the source tablet's RPC port.
      vstreamerFor: (t) => {
        const port = t.port_map.grpc;
        if (!port) throw new TesseraError(ER.UNAVAILABLE, `source tablet ${tabletAliasString(t.alias)} publishes no rpc port`, { kind: 'UNAVAILABLE' });
        return new VStreamerClient(t.hostname, port);
      },
    });
    manager.vdiff = new VDiffEngine({
      alias: aliasText,
      limits: o.vdiffLimits,
      vdiffSourceFor: (t) => {
        const port = t.port_map.grpc;
        if (!port) throw new TesseraError(ER.UNAVAILABLE, `source tablet ${tabletAliasString(t.alias)} publishes no rpc port`, { kind: 'UNAVAILABLE' });
        return new VDiffSourceClient(t.hostname, port);
      },
      cell: o.cell,
      dbName,
      sidecarDb,
      keyspace: o.keyspace,
      shard: o.shard,
      topo: o.topo,
      vreplication: () => manager.vreplication,
      dbaClient: () => server.dbaClient(undefined),
      vstreamerFor: (t) => {
        const port = t.port_map.grpc;
        if (!port) throw new TesseraError(ER.UNAVAILABLE, `source tablet ${tabletAliasString(t.alias)} publishes no rpc port`, { kind: 'UNAVAILABLE' });
        return new VStreamerClient(t.hostname, port);
      },
    });
    // Reparent calls that reach the RPC port before the type is settled with the shard record
    // wait for it (TabletManager.holdActions).
    const releaseActions = manager.holdActions();
    const rpc = tabletRpcServer(server, manager, {}, vstreamer);
    // VDiff's snapshot sessions (chunk checksums) on this tablet as a source.
    registerVDiffSourceHandlers(rpc, new VDiffSource({ dbName, connection: dbaConn, vschema: topoVSchemaSource(o.topo, o.keyspace) }));
    const rpcPort = await rpc.listen(o.rpcPort, bind);
    const registry = new Registry();
    const proc = new TabletProcess(server, manager, vstreamer, rpc, rpcPort, 0, mysqlctl, registry);
    const httpPort = o.httpPort >= 0 ? await proc.startHttp(o.httpPort, bind) : -1;
    (proc as { httpPort: number }).httpPort = httpPort;

    const portMap: Record<string, number> = { grpc: rpcPort };
    if (httpPort > 0) portMap.vt = httpPort;
    const record = { ...record0, port_map: portMap };
    try {
      await o.topo.createTablet(record);
    } catch (err) {
      if (!isTopoError(err, 'NODE_EXISTS')) throw err;
      await o.topo.updateTabletFields(record.alias, (t) => {
        // A restart keeps the type the tablet had (a reparent may have changed it), but takes the
        // addresses it has now.
        t.hostname = record.hostname;
        t.port_map = record.port_map;
        t.mysql_hostname = record.mysql_hostname;
        t.mysql_port = record.mysql_port;
        t.db_name_override = record.db_name_override;
      });
    }
    try {
      manager.setRecord((await o.topo.getTablet(record.alias)).value);
      // The type the shard record gives (replication.ts, syncWithShard), before anything else.
      await manager.replication.syncWithShardLocked().catch((err: Error) => log.warn({ err: err.message, alias: aliasText }, 'settling the type with the shard record failed'));
    } finally {
      releaseActions();
    }
    await server.reloadSchema();
    await manager.refreshState();
    manager.startRefreshLoop();
    if (mysqlctl) {
      proc.keeper = new MysqlKeeper(mysqlctl, manager, { ...MYSQL_RESTART_DEFAULTS, ...o.mysqlRestart });
      proc.keeper.start();
    }
    log.info({ alias: aliasText, keyspace: o.keyspace, shard: o.shard, type: server.tabletType, rpcPort, httpPort, serving: server.serving }, 'tablet started');
    return proc;
  }

  private startHttp(port: number, host: string): Promise<number> {
    const reg = this.registry;
    const prefix = 'tessera_tablet_';
    const serving = new Gauge({ name: `${prefix}serving`, help: '1 when the tablet serves queries', registers: [reg] });
    const inflight = new Gauge({ name: `${prefix}queries_in_flight`, help: 'queries running now', registers: [reg] });
    const pools = new Gauge({ name: `${prefix}pool_in_use`, help: 'connections in use per pool', labelNames: ['pool'], registers: [reg] });
    const prepared = new Gauge({
      name: `${prefix}prepared_executes`,
      help: 'executions of MariaDB prepared statements since this tablet started, by whether MariaDB sent the column definitions or left them out (metadata cached)',
      labelNames: ['metadata'],
      registers: [reg],
    });
    const rowsSent = new Gauge({ name: `${prefix}rows_sent`, help: 'rows sent to callers since this tablet started, by executed and streamed results', labelNames: ['kind'], registers: [reg] });
    const vr = {
      labelNames: ['workflow', 'stream'],
      registers: [reg],
    };
    const vrRows = new Gauge({ name: `${prefix}vreplication_rows_copied`, help: 'rows a stream copied since this tablet started', ...vr });
    const vrBytes = new Gauge({ name: `${prefix}vreplication_bytes_copied`, help: 'bytes a stream copied since this tablet started', ...vr });
    const vrApplied = new Gauge({ name: `${prefix}vreplication_transactions_applied`, help: 'target transactions a stream committed since this tablet started (copy batches and replayed source transactions)', ...vr });
    const vrLag = new Gauge({ name: `${prefix}vreplication_lag_seconds`, help: 'how far a replicating stream is behind its source (from the last event or heartbeat)', ...vr });
    const vrThrottled = new Gauge({ name: `${prefix}vreplication_throttled`, help: '1 while a throttle holds the stream', ...vr });
    if (process.env.TESSERA_COMBINED !== '1') collectDefaultMetrics({ register: reg });
    this.http = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/debug/health') {
        const h = this.server.healthState();
        res.writeHead(h.serving ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ...h, tabletType: h.target.tabletType, pid: process.pid, mysqlPid: this.mysqlctl?.runningPid() ?? null }));
        return;
      }
      if (url.pathname === '/metrics') {
        const s = this.server.stats;
        serving.set(this.server.serving ? 1 : 0);
        inflight.set(s.queriesInFlight);
        pools.set({ pool: 'query' }, s.queryPoolInUse);
        pools.set({ pool: 'transaction' }, s.txPoolInUse);
        pools.set({ pool: 'stream' }, s.streamPoolInUse);
        rowsSent.set({ kind: 'execute' }, s.rowsReturned);
        rowsSent.set({ kind: 'stream' }, s.rowsStreamed);
        prepared.set({ metadata: 'cached' }, s.preparedColumnsCached);
        prepared.set({ metadata: 'sent' }, s.preparedExecutes - s.preparedColumnsCached);
        for (const g of [vrRows, vrBytes, vrApplied, vrLag, vrThrottled]) g.reset();
        for (const m of this.manager.vreplication?.metrics() ?? []) {
          const l = { workflow: m.workflow, stream: String(m.id) };
          vrRows.set(l, m.rowsCopied);
          vrBytes.set(l, m.bytesCopied);
          vrApplied.set(l, m.applied);
          if (m.lagSeconds !== null) vrLag.set(l, m.lagSeconds);
          vrThrottled.set(l, m.throttled ? 1 : 0);
        }
        reg.metrics().then((text) => {
          res.writeHead(200, { 'content-type': reg.contentType });
          res.end(text);
        });
        return;
      }
      if (url.pathname === '/' || url.pathname === '/debug/status') {
        const h = this.server.healthState();
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(
          `tablet ${h.tabletAlias}\n` +
            `target: ${h.target.keyspace}/${h.target.shard} ${h.target.tabletType}\n` +
            `serving: ${h.serving}${h.reason ? ` (${h.reason})` : ''}\n` +
            `replication lag: ${h.replicationLagSeconds ?? 'unknown'}s ${h.replicationError}\n` +
            `queries in flight: ${h.queriesInFlight}, transactions open: ${h.transactionsOpen}\n` +
            `rpc port: ${this.rpcPort}\n` +
            `vstream calls open: ${this.vstreamer.stats().length}; shared copy scans: ${this.vstreamer.sharedScans.scans} (serving ${this.vstreamer.sharedScans.subscribers} calls, ${this.vstreamer.sharedScans.cut} cut for lagging)\n` +
            (this.keeper?.state ? `MariaDB: ${this.keeper.state}\n` : '') +
            (h.alert ? `ALERT: ${h.alert}\n` : ''),
        );
        return;
      }
      res.writeHead(404);
      res.end('not found\n');
    });
    const srv = this.http;
    return new Promise((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, host, () => resolve((srv.address() as { port: number }).port));
    });
  }

  /** Stops serving and listening; the MariaDB keeps running unless `stopMysql`. */
  /** The step stop() is at, for a shutdown that does not finish (see `tessera tablet`'s deadline). */
  stopStep = '';

  async stop(opts: { stopMysql?: boolean } = {}): Promise<void> {
    this.keeper?.stop();
    this.stopStep = 'tablet manager';
    this.manager.stop();
    this.manager.peers?.close();
    this.stopStep = 'VDiff engine';
    await this.manager.vdiff?.close();
    this.stopStep = 'VReplication engine';
    await this.manager.vreplication?.close();
    this.manager.vreplication?.probe?.close?.();
    this.stopStep = 'VStream service';
    this.vstreamer.close();
    this.stopStep = 'query service';
    await this.server.close();
    this.stopStep = 'RPC server';
    await this.rpc.close();
    this.stopStep = 'HTTP server';
    await new Promise<void>((resolve) => (this.http ? this.http.close(() => resolve()) : resolve()));
    this.stopStep = 'MariaDB shutdown';
    if (opts.stopMysql && this.mysqlctl) await this.mysqlctl.shutdown();
    this.stopStep = 'stopped';
    log.info({ alias: this.alias }, 'tablet stopped');
  }
}
