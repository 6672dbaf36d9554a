// The gate's HTTP status page: a small HTML view of /debug/vars.
import type { ShardBufferStats } from './buffer.js';
export interface GateStatus {
  readonly cell: string;
  readonly startedAt: string;
  readonly mysqlPort: number;
  /** --enable-partial-keyspace-migration: shard routing rules are honoured. */
  readonly enablePartialKeyspaceMigration: boolean;
  readonly sessions: number;
  readonly queries: number;
  readonly errors: number;
  readonly keyspaces: readonly { keyspace: string; queries: number; errors: number; avgMs: number }[];
  readonly planCache: { entries: number; bytes: number; hits: number; misses: number; evictions: number };
  readonly tablets: readonly { alias: string; keyspace: string; shard: string; type: string; serving: boolean; lag: number | null; error: string }[];
  readonly vschemaErrors: readonly string[];
  readonly buffer: { readonly enabled: boolean; readonly dryRun: boolean; readonly shards: readonly ShardBufferStats[] };
  /** The buffer's counters as Vitess's /debug/vars shows them: `{"BufferRequestsBuffered": {"ks.shard": n}, …}`. */
  readonly bufferVars: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/** Vitess's expvar layout of the buffer counters: keys `ks.shard`, and `ks.shard.Reason` for counters by reason. */
export function bufferVars(shards: readonly ShardBufferStats[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {
    BufferRequestsBuffered: {}, BufferRequestsBufferedDryRun: {}, BufferRequestsDrained: {}, BufferRequestsEvicted: {}, BufferRequestsSkipped: {},
    BufferFailoverDurationSumMs: {}, BufferStops: {}, BufferLastRequestsInFlightMax: {},
  };
  for (const s of shards) {
    const k = `${s.keyspace}.${s.shard}`;
    out.BufferRequestsBuffered[k] = s.requestsBuffered;
    out.BufferRequestsBufferedDryRun[k] = s.requestsBufferedDryRun;
    out.BufferRequestsDrained[k] = s.requestsDrained;
    out.BufferFailoverDurationSumMs[k] = s.failoverDurationSumMs;
    out.BufferLastRequestsInFlightMax[k] = s.lastRequestsInFlightMax;
    for (const [r, n] of Object.entries(s.requestsEvicted)) out.BufferRequestsEvicted[`${k}.${r}`] = n;
    for (const [r, n] of Object.entries(s.requestsSkipped)) out.BufferRequestsSkipped[`${k}.${r}`] = n;
    for (const [r, n] of Object.entries(s.stops)) out.BufferStops[`${k}.${r}`] = n;
  }
  return out;
}

function esc(s: string | number | null): string {
  return String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);
}

function table(head: readonly string[], rows: readonly (readonly (string | number | null)[])[]): string {
  return `<table border="1" cellpadding="4"><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</table>`;
}

export function statusPage(s: GateStatus): string {
  return `<!doctype html><html><head><title>tessera gate</title></head><body>
<h1>tessera gate — cell ${esc(s.cell)}</h1>
<p>started ${esc(s.startedAt)} · MySQL port ${s.mysqlPort} · sessions ${s.sessions} · queries ${s.queries} · errors ${s.errors} · partial keyspace migration (shard routing rules) ${s.enablePartialKeyspaceMigration ? 'enabled' : 'disabled'}</p>
<h2>Queries per keyspace</h2>${table(['keyspace', 'queries', 'errors', 'avg ms'], s.keyspaces.map((k) => [k.keyspace, k.queries, k.errors, k.avgMs.toFixed(3)]))}
<h2>Plan cache</h2>${table(['entries', 'bytes', 'hits', 'misses', 'evictions'], [[s.planCache.entries, s.planCache.bytes, s.planCache.hits, s.planCache.misses, s.planCache.evictions]])}
<h2>Tablets</h2>${table(['alias', 'keyspace', 'shard', 'type', 'serving', 'lag s', 'last error'], s.tablets.map((t) => [t.alias, t.keyspace, t.shard, t.type, t.serving ? 'yes' : 'no', t.lag, t.error]))}
<h2>Failover buffer</h2><p>${s.buffer.enabled ? 'enabled' : s.buffer.dryRun ? 'dry run' : 'disabled (--enable-buffer)'}</p>${s.buffer.shards.length ? table(
    ['keyspace', 'shard', 'buffering', 'waiting', 'BufferRequestsBuffered', 'BufferRequestsDrained', 'BufferRequestsEvicted', 'BufferRequestsSkipped', 'BufferFailoverDurationSumMs', 'BufferStops', 'BufferLastRequestsInFlightMax'],
    s.buffer.shards.map((b) => [b.keyspace, b.shard, b.buffering ? 'yes' : 'no', b.waiting, b.requestsBuffered + b.requestsBufferedDryRun, b.requestsDrained, reasons(b.requestsEvicted), reasons(b.requestsSkipped), b.failoverDurationSumMs, reasons(b.stops), b.lastRequestsInFlightMax]),
  ) : '<p>no failover seen</p>'}
${s.vschemaErrors.length ? `<h2>VSchema problems</h2><ul>${s.vschemaErrors.map((e) => `<li>${esc(e)}</li>`).join('')}</ul>` : ''}
<p><a href="/metrics">/metrics</a> · <a href="/debug/vars">/debug/vars</a></p></body></html>`;
}

function reasons(m: Readonly<Record<string, number>>): string {
  return Object.entries(m).map(([k, v]) => `${k} ${v}`).join(', ');
}
