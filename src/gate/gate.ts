// The Gate: the MySQL endpoint in front of every keyspace. Wires the resolver (SrvVSchema,
// SrvKeyspace), the health check (tablets and their health streams), the plan cache, sequences,
// metrics, the executor (the MySQL server's handler) and the HTTP status/metrics server.
//
// Combined mode (`tessera up`, tests): `createGate({ topo, cell, tabletConn })` with a factory that
// returns in-process TabletServers; distributed mode: the factory returns TabletConns (RPC).
import { createServer, type Server as HttpServer } from 'node:http';
import { ER, Server, TesseraError, DEFAULT_SERVER_VERSION, type ServerOptions } from '../mysql/index.js';
import { logger } from '../log/index.js';
import type { TabletType, TopoServer } from '../topo/index.js';
import { StaticAuth } from './auth.js';
import { BUFFER_DEFAULTS, FailoverBuffer, type BufferOptions } from './buffer.js';
import { Executor } from './executor.js';
import { HEALTH_CHECK_DEFAULTS, HealthCheck, type HealthCheckOptions, type TabletConnFactory } from './health-check.js';
import { GateMetrics } from './metrics.js';
import { PLAN_CACHE_DEFAULTS, PlanCache, type PlanCacheOptions } from './plan-cache.js';
import { Resolver } from './resolver.js';
import { Sequences } from './sequences.js';
import { ColumnCache } from './star-expansion.js';
import type { GateCore } from './session.js';
import { toResult } from './session-cursor.js';
import { bufferVars, statusPage } from './status-page.js';
import type { Result } from './types.js';

const log = logger('gate');

export interface GateOptions {
  readonly topo: TopoServer;
  readonly cell: string;
  readonly tabletConn: TabletConnFactory;
  /** MySQL listener (host, port, TLS, limits); port 0 picks a free one. Omit to not listen (embedding). */
  readonly mysql?: ServerOptions | null;
  /** HTTP status and /metrics; port 0 picks a free one; null = none. */
  readonly http?: { readonly host?: string; readonly port: number } | null;
  readonly auth?: StaticAuth;
  /** Tablet types to wait for at start (every serving shard), and how long. */
  readonly tabletTypesToWait?: readonly TabletType[];
  readonly waitTimeoutMs?: number;
  /** Honour shard routing rules (--enable-partial-keyspace-migration). */
  readonly enableShardRouting?: boolean;
  readonly planCache?: Partial<PlanCacheOptions>;
  readonly healthCheck?: Partial<HealthCheckOptions>;
  /** Most rows a buffering primitive (sort, join, aggregate, merge) holds. */
  readonly rowsMax?: number;
  /** Per-statement timeout passed to tablets; 0 = the tablet's default. */
  readonly queryTimeoutMs?: number;
  readonly serverVersion?: string;
  /** The transaction_mode sessions start with (`--transaction-mode`); MULTI unless set. */
  readonly transactionMode?: 'SINGLE' | 'MULTI';
  /** Failover buffering (`--enable-buffer` and the `--buffer-*` flags); off unless enabled. */
  readonly buffer?: Partial<BufferOptions>;
}

export const GATE_DEFAULTS = {
  rowsMax: 1_000_000,
  queryTimeoutMs: 0,
  waitTimeoutMs: 30_000,
  watchRetryMs: 1_000,
  keyspaceSyncMs: 5_000,
} as const;

export class Gate implements GateCore {
  readonly resolver: Resolver;
  readonly health: HealthCheck;
  readonly planCache: PlanCache;
  readonly sequences: Sequences;
  /** Column lists of tables, for SELECT * the gate expands itself. */
  readonly columns = new ColumnCache();
  readonly metrics: GateMetrics;
  readonly auth: StaticAuth;
  readonly executor: Executor;
  readonly buffer: FailoverBuffer;
  readonly rowsMax: number;
  readonly queryTimeoutMs: number;
  readonly serverVersion: string;
  readonly transactionMode: 'SINGLE' | 'MULTI';
  readonly startedAt = new Date();
  mysqlServer: Server | null = null;
  httpServer: HttpServer | null = null;
  mysqlPort = 0;
  httpPort = 0;

  constructor(readonly options: GateOptions) {
    this.resolver = new Resolver(options.topo, options.cell, { shardRouting: options.enableShardRouting ?? false, watchRetryMs: GATE_DEFAULTS.watchRetryMs, keyspaceSyncMs: GATE_DEFAULTS.keyspaceSyncMs });
    this.health = new HealthCheck(options.topo, options.cell, options.tabletConn, { ...HEALTH_CHECK_DEFAULTS, ...options.healthCheck });
    this.planCache = new PlanCache({ ...PLAN_CACHE_DEFAULTS, ...options.planCache });
    this.resolver.onChange(() => {
      this.planCache.clear();
      this.columns.clear();
    });
    this.buffer = new FailoverBuffer({ ...BUFFER_DEFAULTS, ...options.buffer }, {
      generation: () => this.resolver.generation,
      primaryServing: (keyspace, shard) => this.health.healthy(keyspace, shard, 'primary').length > 0,
      onChange: (l) => {
        const a = this.resolver.onChange(l);
        const b = this.health.onChange(l);
        return () => {
          a();
          b();
        };
      },
    });
    this.sequences = new Sequences({ inTransaction: (ks, fn) => this.sequenceTransaction(ks, fn) });
    // A new serving graph drops every cached block of sequence ids, before anything is planned
    // with it: MoveTables --initialize-target-sequences moves sequences forward while writes are
    // stopped, and the routing switch that follows rebuilds SrvVSchema, so no gate that sends
    // inserts to the target goes on with ids from a block taken before (src/workflow/sequences.ts).
    this.resolver.onChange(() => this.sequences.reset());
    this.executor = new Executor(this);
    this.metrics = new GateMetrics(this.planCache, () => this.executor.sessionCount, () => this.buffer.stats());
    this.auth = options.auth ?? StaticAuth.none();
    this.rowsMax = options.rowsMax ?? GATE_DEFAULTS.rowsMax;
    this.queryTimeoutMs = options.queryTimeoutMs ?? GATE_DEFAULTS.queryTimeoutMs;
    this.serverVersion = options.serverVersion ?? DEFAULT_SERVER_VERSION;
    this.transactionMode = options.transactionMode ?? 'MULTI';
  }

  async start(): Promise<void> {
    await this.resolver.start();
    await this.health.start();
    const types = this.options.tabletTypesToWait ?? [];
    if (types.length) {
      const want: { keyspace: string; shard: string }[] = [];
      for (const ks of this.resolver.keyspaceNames()) for (const s of this.resolver.servingShards(ks, 'primary')) want.push({ keyspace: ks, shard: s.name });
      await this.health.waitFor(want, types, this.options.waitTimeoutMs ?? GATE_DEFAULTS.waitTimeoutMs);
    }
    if (this.options.mysql !== null && this.options.mysql !== undefined) {
      this.mysqlServer = new Server(this.executor, { serverVersion: this.serverVersion, ...this.options.mysql });
      this.mysqlPort = await this.mysqlServer.listen();
    }
    const http = this.options.http;
    if (http) {
      this.httpServer = createServer((req, res) => {
        void this.serveHttp(req.url ?? '/', res);
      });
      await new Promise<void>((resolve, reject) => {
        this.httpServer!.once('error', reject);
        this.httpServer!.listen(http.port, http.host ?? '127.0.0.1', () => resolve());
      });
      const addr = this.httpServer.address();
      this.httpPort = typeof addr === 'object' && addr ? addr.port : 0;
    }
    // Published so that ctld can name the gates a partial MoveTables would be ignored by.
    const host = this.options.mysql?.host ?? '127.0.0.1';
    this.registeredName = this.mysqlServer ? `${host}:${this.mysqlPort}` : `in-process-${process.pid}-${++gateSeq}`;
    await this.options.topo
      .registerGate(this.options.cell, this.registeredName, { cell: this.options.cell, mysql_address: this.registeredName, enable_partial_keyspace_migration: this.resolver.options.shardRouting })
      .catch((err: unknown) => log.warn({ err: String(err) }, 'registering the gate in the topology failed'));
    log.info({ mysqlPort: this.mysqlPort, httpPort: this.httpPort, cell: this.options.cell }, 'gate started');
  }

  private async serveHttp(url: string, res: import('node:http').ServerResponse): Promise<void> {
    try {
      if (url.startsWith('/metrics')) {
        res.setHeader('Content-Type', this.metrics.registry.contentType);
        res.end(await this.metrics.registry.metrics());
        return;
      }
      if (url.startsWith('/debug/vars') || url.startsWith('/debug/status.json')) {
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify(this.statusJSON(), null, 2));
        return;
      }
      if (url === '/' || url.startsWith('/debug/status')) {
        res.setHeader('Content-Type', 'text/html; charset=utf-8');
        res.end(statusPage(this.statusJSON()));
        return;
      }
      if (url.startsWith('/healthz')) {
        res.end('ok\n');
        return;
      }
      res.statusCode = 404;
      res.end('not found\n');
    } catch (err) {
      res.statusCode = 500;
      res.end(String(err));
    }
  }

  statusJSON(): import('./status-page.js').GateStatus {
    return {
      cell: this.options.cell,
      startedAt: this.startedAt.toISOString(),
      mysqlPort: this.mysqlPort,
      enablePartialKeyspaceMigration: this.resolver.options.shardRouting,
      sessions: this.executor.sessionCount,
      queries: this.metrics.queryCount,
      errors: this.metrics.errorCount,
      keyspaces: [...this.metrics.byKeyspace.entries()].map(([k, [q, e, s]]) => ({ keyspace: k || '(none)', queries: q, errors: e, avgMs: q ? (s * 1000) / q : 0 })),
      planCache: { entries: this.planCache.size, bytes: this.planCache.bytes, hits: this.planCache.hits, misses: this.planCache.misses, evictions: this.planCache.evictions },
      tablets: this.health.all().map((t) => ({
        alias: t.alias, keyspace: t.health?.target.keyspace ?? t.tablet.keyspace, shard: t.health?.target.shard ?? t.tablet.shard,
        type: t.health?.target.tabletType ?? t.tablet.type, serving: t.health?.serving ?? false, lag: t.health?.replicationLagSeconds ?? null, error: t.lastError,
      })),
      vschemaErrors: this.resolver.vschemaErrors,
      buffer: { enabled: this.buffer.options.enabled, dryRun: this.buffer.options.dryRun, shards: this.buffer.stats() },
      bufferVars: bufferVars(this.buffer.stats()),
    };
  }

  private async sequenceTransaction<T>(keyspace: string, fn: (exec: (sql: string) => Promise<Result>) => Promise<T>): Promise<T> {
    const shards = this.resolver.allShards(keyspace, 'primary');
    if (shards.length === 0) throw new TesseraError(ER.UNAVAILABLE, `sequence keyspace ${keyspace} has no serving shard`);
    const rs = shards[0];
    const tablets = this.health.healthy(rs.keyspace, rs.shard, 'primary');
    if (tablets.length === 0) throw new TesseraError(ER.UNAVAILABLE, `no healthy primary for sequence keyspace ${rs.keyspace}/${rs.shard}`);
    const conn = tablets[0].conn;
    const target = { keyspace: rs.keyspace, shard: rs.shard, tabletType: 'primary' as const };
    let txId = 0;
    try {
      const out = await fn(async (sql) => {
        const r = await conn.execute(target, sql, null, txId ? { transactionId: txId } : { begin: true });
        if (!txId) txId = r.transactionId;
        return toResult(r);
      });
      if (txId) await conn.commit(target, txId);
      txId = 0;
      return out;
    } finally {
      if (txId) await conn.rollback(target, txId).catch(() => undefined);
    }
  }

  private registeredName: string | null = null;

  async close(): Promise<void> {
    if (this.registeredName) await this.options.topo.unregisterGate(this.options.cell, this.registeredName).catch(() => undefined);
    if (this.mysqlServer) await this.mysqlServer.close().catch(() => undefined);
    if (this.httpServer) await new Promise<void>((resolve) => this.httpServer!.close(() => resolve()));
    this.buffer.close();
    this.health.close();
    this.resolver.close();
  }
}

let gateSeq = 0;

/** Creates and starts a gate in-process (combined mode and tests). */
export async function createGate(options: GateOptions): Promise<Gate> {
  const g = new Gate(options);
  try {
    await g.start();
  } catch (err) {
    await g.close();
    throw err;
  }
  return g;
}
