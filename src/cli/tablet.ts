// `tessera tablet`: one tablet process (Vitess's vttablet), owning a MariaDB through mysqlctl or
// attaching to an existing server.
import { Command } from 'commander';
import { addTopoFlags, openTopoServer, parseTabletType, type TopoFlags } from '../topo/index.js';
import { MYSQL_RESTART_DEFAULTS, TabletProcess, TABLET_SERVER_DEFAULTS } from '../tablet/index.js';
import { loadDbCredentials } from '../mysqlctl/index.js';
import { parseIntFlag } from './flags.js';
import { BINLOG_RETENTION_DEFAULTS } from '../tablet/binlog-retention.js';
import { ENGINE_DEFAULTS, ENGINE_SETTINGS, formatSettingValue, parseOverrideValue, type EngineFlags } from '../vreplication/controller.js';
import { logger } from '../log/index.js';

const log = logger('tablet');

/** How long `tessera tablet` gives its shutdown (SIGTERM, SIGINT) before it exits anyway. */
const TABLET_STOP_DEADLINE_MS = 60_000;

interface TabletFlags extends TopoFlags {
  tabletUid?: number;
  tabletPath?: string;
  cell: string;
  keyspace?: string;
  initKeyspace?: string;
  shard?: string;
  initShard?: string;
  tabletType?: string;
  initTabletType?: string;
  port?: number;
  grpcPort?: number;
  mysqlPort?: number;
  dataRoot?: string;
  bindAddress: string;
  hostname?: string;
  initDbNameOverride?: string;
  dbHost?: string;
  dbCredentialsFile?: string;
  dbPort?: number;
  dbAppUser: string;
  dbAppPassword: string;
  dbDbaUser: string;
  dbDbaPassword: string;
  queryserverConfigPoolSize: number;
  queryserverConfigTransactionCap: number;
  queryserverConfigQueryTimeout: number;
  queryserverConfigTransactionTimeout: number;
  queryserverConfigMaxResultSize: number;
  mysqlRestart: boolean;
  mysqlRestartTimeout: number;
  vdiffCompareRowsPerSecond: number;
  binlogExpireLogsSeconds: number;
  binlogPurgeInterval: number;
}

export function registerTablet(program: Command): void {
  const cmd = program
    .command('tablet')
    .description(
      'run a tablet: one MariaDB (started through mysqlctl, or an existing server with --db-host) plus its query service,\n' +
        'tablet manager and health reporting, registered in the topology. Ports follow Vitess: HTTP 15000+uid, RPC 16000+uid,\n' +
        'MariaDB 17000+uid.',
    )
    .option('--tablet-uid <uid>', 'tablet uid (or --tablet-path zone1-100)', parseIntFlag('--tablet-uid'))
    .option('--tablet-path <alias>', 'tablet alias cell-uid, e.g. zone1-100')
    .option('--cell <cell>', 'cell of this tablet', 'zone1')
    .option('--keyspace <ks>', 'keyspace (alias --init-keyspace)')
    .option('--init-keyspace <ks>', 'alias of --keyspace')
    .option('--shard <shard>', 'shard, e.g. 0, -80 (alias --init-shard)')
    .option('--init-shard <shard>', 'alias of --shard')
    .option('--tablet-type <type>', 'initial type: primary, replica, rdonly, spare (alias --init-tablet-type)')
    .option('--init-tablet-type <type>', 'alias of --tablet-type')
    .option('--port <port>', 'HTTP port for /debug/health, /debug/status, /metrics (default 15000+uid)', parseIntFlag('--port'))
    .option('--grpc-port <port>', 'RPC port for gates and ctld (default 16000+uid)', parseIntFlag('--grpc-port'))
    .option('--mysql-port <port>', 'MariaDB port for a managed instance (default 17000+uid)', parseIntFlag('--mysql-port'))
    .option('--data-root <dir>', 'mysqlctl data root (default $TESSERA_DATAROOT, $VTDATAROOT, ./tessera-data)')
    .option('--bind-address <addr>', 'address to listen on', '127.0.0.1')
    .option('--hostname <host>', 'hostname other processes use to reach this tablet')
    .option('--init-db-name-override <db>', 'database name instead of vt_<keyspace>')
    .option('--db-credentials-file <file>', 'passwords of the vt_* accounts of a managed MariaDB: {"vt_app": ["pw"], "vt_repl": ["pw"], ...}')
    .option('--db-host <host>', 'attach to an existing MariaDB/MySQL instead of starting one (unmanaged tablet)')
    .option('--db-port <port>', 'port of the existing server', parseIntFlag('--db-port'), 3306)
    .option('--db-app-user <user>', 'application user on the existing server', 'vt_app')
    .option('--db-app-password <pw>', 'its password', '')
    .option('--db-dba-user <user>', 'administrative user on the existing server', 'vt_dba')
    .option('--db-dba-password <pw>', 'its password', '')
    .option('--queryserver-config-pool-size <n>', 'query pool size', parseIntFlag('pool size'), TABLET_SERVER_DEFAULTS.poolSize)
    .option('--queryserver-config-transaction-cap <n>', 'transaction pool size', parseIntFlag('transaction cap'), TABLET_SERVER_DEFAULTS.transactionCap)
    .option('--queryserver-config-query-timeout <ms>', 'statement timeout (ms)', parseIntFlag('query timeout'), TABLET_SERVER_DEFAULTS.queryTimeoutMs)
    .option(
      '--queryserver-config-transaction-timeout <ms>',
      'idle transaction timeout (ms)',
      parseIntFlag('transaction timeout'),
      TABLET_SERVER_DEFAULTS.transactionTimeoutMs,
    )
    .option('--no-mysql-restart', 'do not start a managed MariaDB again when its process dies (the tablet then only reports not serving)')
    .option(
      '--mysql-restart-timeout <ms>',
      'a MariaDB not back this long after it died raises an alert (a primary\'s asks ctld\'s failover watcher for EmergencyReparentShard)',
      parseIntFlag('--mysql-restart-timeout'),
      MYSQL_RESTART_DEFAULTS.timeoutMs,
    )
    .option('--queryserver-config-max-result-size <rows>', 'rows a non-streaming query may return', parseIntFlag('max result size'), TABLET_SERVER_DEFAULTS.rowsMax)
    .option('--vdiff-compare-rows-per-second <rows>', 'VDiffs on this tablet compare at most this many rows a second, to spare the disks (0: no cap)', parseIntFlag('--vdiff-compare-rows-per-second'), 0)
    .option(
      '--binlog-expire-logs-seconds <s>',
      "binlog files older than this are purged by the tablet, except those a VReplication stream still needs (0: never; MariaDB's own expire_logs_days is off)",
      parseIntFlag('--binlog-expire-logs-seconds'),
      BINLOG_RETENTION_DEFAULTS.expireSeconds,
    )
    .option('--binlog-purge-interval <ms>', 'how often the tablet looks for expired binlogs (ms)', parseIntFlag('--binlog-purge-interval'), BINLOG_RETENTION_DEFAULTS.purgeIntervalMs);
  // The VReplication engine's settings: this tablet's defaults for every stream it runs as a
  // target primary; a workflow's --config-overrides still wins.
  const engineFlags: Partial<Record<keyof EngineFlags, number>> = {};
  for (const s of ENGINE_SETTINGS) {
    cmd.option(`--${s.name} <value>`, `${s.what} (default ${formatSettingValue(s, ENGINE_DEFAULTS[s.key])})`, (v: string) => {
      engineFlags[s.key] = parseOverrideValue(s.name, v);
      return v;
    });
  }
  addTopoFlags(cmd);
  cmd.action(async (f: TabletFlags) => {
    let uid = f.tabletUid;
    let cell = f.cell;
    if (f.tabletPath) {
      const m = /^([A-Za-z0-9_.]+)-(\d+)$/.exec(f.tabletPath);
      if (!m) throw new Error(`--tablet-path must look like zone1-100, got '${f.tabletPath}'`);
      cell = m[1];
      uid = Number(m[2]);
    }
    const keyspace = f.keyspace ?? f.initKeyspace;
    const shard = f.shard ?? f.initShard;
    const type = f.tabletType ?? f.initTabletType ?? 'replica';
    if (uid === undefined || !keyspace || !shard) throw new Error('tessera tablet needs --tablet-uid (or --tablet-path), --keyspace and --shard');
    const topo = openTopoServer(f);
    const proc = await TabletProcess.start({
      uid,
      cell,
      keyspace,
      shard,
      tabletType: parseTabletType(type),
      topo,
      rpcPort: f.grpcPort ?? 16000 + uid,
      httpPort: f.port ?? 15000 + uid,
      mysqlPort: f.mysqlPort,
      dataRoot: f.dataRoot,
      bindAddress: f.bindAddress,
      hostname: f.hostname,
      dbNameOverride: f.initDbNameOverride,
      credentials: loadDbCredentials(f.dbCredentialsFile),
      unmanaged: f.dbHost
        ? { host: f.dbHost, port: f.dbPort ?? 3306, appUser: f.dbAppUser, appPassword: f.dbAppPassword, dbaUser: f.dbDbaUser, dbaPassword: f.dbDbaPassword }
        : undefined,
      vreplicationFlags: engineFlags,
      binlogRetention: { expireSeconds: f.binlogExpireLogsSeconds, purgeIntervalMs: f.binlogPurgeInterval },
      mysqlRestart: { enabled: f.mysqlRestart, timeoutMs: f.mysqlRestartTimeout },
      vdiffLimits: { compareRowsPerSecondMax: f.vdiffCompareRowsPerSecond },
      limits: {
        poolSize: f.queryserverConfigPoolSize,
        transactionCap: f.queryserverConfigTransactionCap,
        queryTimeoutMs: f.queryserverConfigQueryTimeout,
        transactionTimeoutMs: f.queryserverConfigTransactionTimeout,
        rowsMax: f.queryserverConfigMaxResultSize,
      },
    });
    process.stdout.write(`tablet ${proc.alias} serving=${proc.server.serving} rpc=${proc.rpcPort} http=${proc.httpPort}\n`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
    // A shutdown that hangs must not keep the process (and whoever waits for it) for ever: after
    // the deadline it says which step it was at and exits.
    const deadline = setTimeout(() => {
      log.error({ alias: proc.alias, step: proc.stopStep }, `tablet shutdown did not finish within ${TABLET_STOP_DEADLINE_MS} ms; exiting`);
      process.exit(1);
    }, TABLET_STOP_DEADLINE_MS);
    deadline.unref();
    await proc.stop();
    await topo.close();
    clearTimeout(deadline);
    // Everything is stopped: the process ends now. A handle something left open (a pooled
    // connection, a timer) would otherwise keep it alive with no deadline left; name what it was.
    const leftovers = setTimeout(() => {
      log.warn({ alias: proc.alias, resources: process.getActiveResourcesInfo() }, 'tablet stopped; resources still open at exit');
      process.exit(0);
    }, 500);
    leftovers.unref();
  });
}
