// The gate's Prometheus metrics: statements by type and keyspace, latencies, errors by code,
// plan cache hits/misses/size, sessions and tablet health. One registry per gate (combined mode
// runs several components in one process); `/metrics` serves it.
import { Counter, Gauge, Registry } from 'prom-client';
import type { TesseraError } from '../mysql/index.js';
import type { ShardBufferStats } from './buffer.js';
import type { PlanCache } from './plan-cache.js';

const LATENCY_BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5];

/** One statement kind's latencies: counts per bucket (not cumulative), sum, count. */
interface LatencyCounts {
  readonly buckets: number[];
  sum: number;
  count: number;
}

/**
 * tessera_gate_query_seconds as plain numbers on the query path (an array index and two adds per
 * statement, where prom-client hashes the labels on every observation), turned into the
 * histogram's exposition only when /metrics is read. Registered as a custom metric (Registry
 * takes any object with name, help, type and get()).
 */
class LatencyHistogram {
  readonly name = 'tessera_gate_query_seconds';
  readonly help = 'Statement latency at the gate';
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly byStatement = new Map<string, LatencyCounts>();

  observe(statement: string, seconds: number): void {
    let c = this.byStatement.get(statement);
    if (c === undefined) this.byStatement.set(statement, (c = { buckets: new Array<number>(LATENCY_BUCKETS.length).fill(0), sum: 0, count: 0 }));
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]) i++;
    if (i < LATENCY_BUCKETS.length) c.buckets[i]++;
    c.sum += seconds;
    c.count++;
  }

  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: { labels: Record<string, string | number>; value: number; metricName: string }[] }> {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const [statement, c] of this.byStatement) {
      let acc = 0;
      LATENCY_BUCKETS.forEach((le, i) => {
        acc += c.buckets[i];
        values.push({ labels: { le, statement }, value: acc, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { le: '+Inf', statement }, value: c.count, metricName: `${this.name}_bucket` });
      values.push({ labels: { statement }, value: c.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { statement }, value: c.count, metricName: `${this.name}_count` });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  reset(): void {
    this.byStatement.clear();
  }
}

export class GateMetrics {
  readonly registry: Registry;
  private readonly errors: Counter<'statement' | 'keyspace' | 'errno'>;
  private readonly latency = new LatencyHistogram();
  /** Statements by kind and keyspace, counted as plain numbers; tessera_gate_queries_total reads them. */
  private readonly queryCounts = new Map<string, Map<string, number>>();
  private readonly internal: Counter<string>;
  queryCount = 0;
  internalErrorCount = 0;
  errorCount = 0;
  /** Per keyspace: [queries, errors, total seconds], for the status page. */
  readonly byKeyspace = new Map<string, [number, number, number]>();

  constructor(planCache: PlanCache, sessions: () => number, buffer: () => readonly ShardBufferStats[] = () => [], registry?: Registry) {
    const reg = registry ?? new Registry();
    this.registry = reg;
    const counts = this.queryCounts;
    new Counter({
      name: 'tessera_gate_queries_total', help: 'Statements run by the gate', labelNames: ['statement', 'keyspace'], registers: [reg],
      collect() {
        this.reset();
        for (const [statement, byKeyspace] of counts) for (const [keyspace, n] of byKeyspace) this.inc({ statement, keyspace }, n);
      },
    });
    this.errors = new Counter({ name: 'tessera_gate_errors_total', help: 'Statements that failed, by MySQL error number', labelNames: ['statement', 'keyspace', 'errno'], registers: [reg] });
    this.internal = new Counter({ name: 'tessera_gate_internal_errors_total', help: 'Unexpected exceptions in the gate (bugs), each logged with its statement and stack', registers: [reg] });
    reg.registerMetric(this.latency as unknown as Parameters<Registry['registerMetric']>[0]);
    new Gauge({ name: 'tessera_gate_plan_cache_entries', help: 'Plans in the cache', registers: [reg], collect() { this.set(planCache.size); } });
    new Gauge({ name: 'tessera_gate_plan_cache_bytes', help: 'Estimated bytes of cached plans', registers: [reg], collect() { this.set(planCache.bytes); } });
    new Gauge({ name: 'tessera_gate_plan_cache_hits', help: 'Plan cache hits since start', registers: [reg], collect() { this.set(planCache.hits); } });
    new Gauge({ name: 'tessera_gate_plan_cache_misses', help: 'Plan cache misses since start', registers: [reg], collect() { this.set(planCache.misses); } });
    new Gauge({ name: 'tessera_gate_plan_cache_evictions', help: 'Plans evicted by the cache bounds', registers: [reg], collect() { this.set(planCache.evictions); } });
    new Gauge({ name: 'tessera_gate_sessions', help: 'Open client sessions', registers: [reg], collect() { this.set(sessions()); } });
    registerBufferMetrics(reg, buffer);
  }

  /** Counts one internal error; returns its incident number (for the client's message and the log). */
  internalError(): number {
    this.internal.inc();
    return ++this.internalErrorCount;
  }

  observe(statement: string, keyspace: string, seconds: number, error: TesseraError | null): void {
    this.queryCount++;
    let byKeyspace = this.queryCounts.get(statement);
    if (byKeyspace === undefined) this.queryCounts.set(statement, (byKeyspace = new Map()));
    byKeyspace.set(keyspace, (byKeyspace.get(keyspace) ?? 0) + 1);
    this.latency.observe(statement, seconds);
    let k = this.byKeyspace.get(keyspace);
    if (k === undefined) this.byKeyspace.set(keyspace, (k = [0, 0, 0]));
    k[0]++;
    k[2] += seconds;
    if (error) {
      this.errorCount++;
      k[1]++;
      this.errors.inc({ statement, keyspace, errno: String(error.errno) });
    }
  }
}

/**
 * The failover buffer's counters per keyspace and shard, named after Vitess's (BufferRequestsBuffered
 * → tessera_gate_buffer_requests_buffered, …). The buffer keeps them as plain numbers off the query
 * path; each scrape copies them here.
 */
function registerBufferMetrics(reg: Registry, stats: () => readonly ShardBufferStats[]): void {
  type Labels = 'keyspace' | 'shard';
  const counter = (name: string, help: string, value: (s: ShardBufferStats) => number) =>
    new Counter<Labels>({
      name, help, labelNames: ['keyspace', 'shard'], registers: [reg],
      collect() {
        this.reset();
        for (const s of stats()) this.inc({ keyspace: s.keyspace, shard: s.shard }, value(s));
      },
    });
  const byReason = (name: string, help: string, value: (s: ShardBufferStats) => Record<string, number>) =>
    new Counter<Labels | 'reason'>({
      name, help, labelNames: ['keyspace', 'shard', 'reason'], registers: [reg],
      collect() {
        this.reset();
        for (const s of stats()) for (const [reason, n] of Object.entries(value(s))) this.inc({ keyspace: s.keyspace, shard: s.shard, reason }, n);
      },
    });
  counter('tessera_gate_buffer_requests_buffered', 'Requests buffered during failovers (BufferRequestsBuffered)', (s) => s.requestsBuffered);
  counter('tessera_gate_buffer_requests_buffered_dry_run', 'Requests that would have been buffered, in dry-run mode (BufferRequestsBufferedDryRun)', (s) => s.requestsBufferedDryRun);
  counter('tessera_gate_buffer_requests_drained', 'Buffered requests let through for their retry when a failover ended (BufferRequestsDrained)', (s) => s.requestsDrained);
  byReason('tessera_gate_buffer_requests_evicted', 'Buffered requests failed before the failover ended: BufferFull, WindowExceeded, ContextDone (BufferRequestsEvicted)', (s) => s.requestsEvicted);
  byReason('tessera_gate_buffer_requests_skipped', 'Requests not buffered: LastFailoverTooRecent, BufferFull (BufferRequestsSkipped)', (s) => s.requestsSkipped);
  counter('tessera_gate_buffer_failover_duration_sum_ms', 'Total milliseconds of failovers that buffered (BufferFailoverDurationSumMs)', (s) => s.failoverDurationSumMs);
  byReason('tessera_gate_buffer_stops', 'Failovers ended, by reason: NewPrimarySeen, ServingGraphChanged, MaxDurationExceeded, Shutdown (BufferStops)', (s) => s.stops);
  new Gauge<Labels>({
    name: 'tessera_gate_buffer_last_requests_in_flight_max', help: 'Most requests waiting at once during the last failover (BufferLastRequestsInFlightMax)', labelNames: ['keyspace', 'shard'], registers: [reg],
    collect() {
      this.reset();
      for (const s of stats()) this.set({ keyspace: s.keyspace, shard: s.shard }, s.lastRequestsInFlightMax);
    },
  });
  new Gauge<Labels>({
    name: 'tessera_gate_buffer_requests_waiting', help: 'Requests waiting in the failover buffer now', labelNames: ['keyspace', 'shard'], registers: [reg],
    collect() {
      this.reset();
      for (const s of stats()) this.set({ keyspace: s.keyspace, shard: s.shard }, s.waiting);
    },
  });
}
