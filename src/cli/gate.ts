// `tessera gate`: the MySQL endpoint (15306) and its HTTP status/metrics port (15001), on the
// cluster topology, reaching tablets over the network.
import { Command, Option } from 'commander';
import { BUFFER_DEFAULTS, createGate, GATE_DEFAULTS, StaticAuth } from '../gate/index.js';
import { logger } from '../log/index.js';
import { TabletConn } from '../tablet/index.js';
import { addTopoFlags, openTopoServer, parseTabletType, type TabletType, type TopoFlags } from '../topo/index.js';
import { parseDurationFlag, parseIntFlag } from './flags.js';

const log = logger('gate');

interface GateFlags extends TopoFlags {
  discoveryLowReplicationLag: number;
  discoveryHighReplicationLagMinimumServing: number;
  port: number;
  httpPort: number;
  bindAddress: string;
  cell: string;
  tabletTypesToWait: string;
  waitTimeout: number;
  mysqlAuthServerStaticFile?: string;
  enablePartialKeyspaceMigration: boolean;
  enableShardRouting: boolean;
  planCacheEntries: number;
  planCacheBytes: number;
  rowsMax: number;
  queryTimeout: number;
  mysqlServerVersion?: string;
  transactionMode: string;
  enableBuffer: boolean;
  enableBufferDryRun: boolean;
  bufferWindow: number;
  bufferSize: number;
  bufferMaxFailoverDuration: number;
  bufferMinTimeBetweenFailovers: number;
  bufferDrainConcurrency: number;
  bufferKeyspaceShards: string;
}

/** A Go-style duration flag held in ms, its default shown as Vitess shows it (`10s`, `1m`). */
function durationOption(flags: string, description: string, defaultMs: number): Option {
  const shown = defaultMs % 60_000 === 0 ? `${defaultMs / 60_000}m` : defaultMs % 1000 === 0 ? `${defaultMs / 1000}s` : `${defaultMs}ms`;
  return new Option(flags, description).argParser(parseDurationFlag(flags.split(' ')[0])).default(defaultMs, shown);
}

export function registerGate(program: Command): void {
  const cmd = program.command('gate').description('the MySQL-protocol gate: plans and routes queries to the tablets of every keyspace');
  addTopoFlags(cmd)
    .option('--port <port>', 'MySQL port', parseIntFlag('--port'), 15306)
    .option('--mysql-server-port <port>', 'alias of --port')
    .option('--http-port <port>', 'HTTP port for the status page and /metrics', parseIntFlag('--http-port'), 15001)
    .option('--bind-address <addr>', 'address to listen on', '127.0.0.1')
    .option('--cell <cell>', 'the local cell: tablets are picked here', 'zone1')
    .option('--tablet-types-to-wait <types>', 'wait at start until every shard has healthy tablets of these types (comma-separated)', '')
    .option('--wait-timeout <ms>', 'how long to wait for --tablet-types-to-wait', parseIntFlag('--wait-timeout'), GATE_DEFAULTS.waitTimeoutMs)
    .option('--mysql-auth-server-static-file <file>', 'users, passwords and (optionally) their keyspaces, in Vitess static auth JSON')
    .option('--enable-partial-keyspace-migration', 'honour shard routing rules (partial MoveTables)', false)
    .option('--enable-shard-routing', 'alias of --enable-partial-keyspace-migration', false)
    .option('--plan-cache-entries <n>', 'most plans cached', parseIntFlag('--plan-cache-entries'), 5000)
    .option('--plan-cache-bytes <n>', 'most bytes of plans cached', parseIntFlag('--plan-cache-bytes'), 64 * 1024 * 1024)
    .option('--rows-max <n>', 'most rows a cross-shard sort, join or aggregation holds', parseIntFlag('--rows-max'), GATE_DEFAULTS.rowsMax)
    .option('--discovery-low-replication-lag <s>', 'replicas at most this many seconds behind are preferred', parseIntFlag('--discovery-low-replication-lag'), 30)
    .option(
      '--discovery-high-replication-lag-minimum-serving <s>',
      'replicas further behind than this many seconds never serve',
      parseIntFlag('--discovery-high-replication-lag-minimum-serving'),
      7200,
    )
    .option('--query-timeout <ms>', 'per-statement timeout on the tablets (0 = their default)', parseIntFlag('--query-timeout'), 0)
    .option('--mysql-server-version <version>', 'server version reported to clients')
    .option('--transaction-mode <mode>', 'transaction_mode sessions start with: SINGLE or MULTI', 'MULTI')
    .option('--enable-buffer', 'hold primary-bound requests while a shard changes primary or switches its writes, and retry them', false)
    .option('--enable-buffer-dry-run', 'detect and count failovers without holding requests', false)
    .addOption(durationOption('--buffer-window <duration>', 'the longest one request is held', BUFFER_DEFAULTS.windowMs))
    .option('--buffer-size <n>', 'most requests held at once, over all shards (the oldest of the shard is evicted)', parseIntFlag('--buffer-size'), BUFFER_DEFAULTS.requestsMax)
    .addOption(durationOption('--buffer-max-failover-duration <duration>', 'a failover not over by then stops buffering', BUFFER_DEFAULTS.failoverDurationMaxMs))
    .addOption(
      durationOption(
        '--buffer-min-time-between-failovers <duration>',
        'after a failover stopped by --buffer-max-failover-duration, the shard does not buffer for this long',
        BUFFER_DEFAULTS.failoverIntervalMinMs,
      ),
    )
    .option('--buffer-drain-concurrency <n>', 'held requests retried at once when a failover ends', parseIntFlag('--buffer-drain-concurrency'), BUFFER_DEFAULTS.drainConcurrency)
    .option('--buffer-keyspace-shards <list>', 'buffer only these keyspaces or keyspace/shard pairs (comma-separated); all when empty', '')
    .action(async (o: GateFlags & { mysqlServerPort?: string }) => {
      const topo = openTopoServer(o);
      const types: TabletType[] = o.tabletTypesToWait ? o.tabletTypesToWait.split(',').filter(Boolean).map(parseTabletType) : [];
      const port = o.mysqlServerPort !== undefined ? Number(o.mysqlServerPort) : o.port;
      const mode = o.transactionMode.toUpperCase();
      if (mode !== 'SINGLE' && mode !== 'MULTI') throw new Error(`--transaction-mode must be SINGLE or MULTI, got '${o.transactionMode}'`);
      const gate = await createGate({
        topo,
        cell: o.cell,
        tabletConn: (t) => new TabletConn(t.hostname, t.port_map.grpc ?? 0),
        mysql: { host: o.bindAddress, port },
        http: o.httpPort >= 0 ? { host: o.bindAddress, port: o.httpPort } : null,
        auth: o.mysqlAuthServerStaticFile ? StaticAuth.fromFile(o.mysqlAuthServerStaticFile) : StaticAuth.none(),
        tabletTypesToWait: types,
        waitTimeoutMs: o.waitTimeout,
        enableShardRouting: o.enablePartialKeyspaceMigration || o.enableShardRouting,
        planCache: { entriesMax: o.planCacheEntries, bytesMax: o.planCacheBytes },
        rowsMax: o.rowsMax,
        healthCheck: { lowReplicationLagSeconds: o.discoveryLowReplicationLag, highReplicationLagSeconds: o.discoveryHighReplicationLagMinimumServing },
        queryTimeoutMs: o.queryTimeout,
        transactionMode: mode,
        buffer: {
          enabled: o.enableBuffer,
          dryRun: o.enableBufferDryRun,
          windowMs: o.bufferWindow,
          requestsMax: o.bufferSize,
          failoverDurationMaxMs: o.bufferMaxFailoverDuration,
          failoverIntervalMinMs: o.bufferMinTimeBetweenFailovers,
          drainConcurrency: o.bufferDrainConcurrency,
          keyspaceShards: o.bufferKeyspaceShards.split(',').map((x) => x.trim()).filter(Boolean),
        },
        ...(o.mysqlServerVersion ? { serverVersion: o.mysqlServerVersion } : {}),
      });
      // Machine-readable readiness line on stdout (tests and `tessera up` wait for it).
      process.stdout.write(`gate listening on ${gate.mysqlPort} http ${gate.httpPort}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      log.info('gate shutting down');
      await gate.close();
      await topo.close();
    });
}
