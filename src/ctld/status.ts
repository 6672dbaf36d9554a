// ctld's status page (`/debug/status`): what this process is, where it listens, what the topology
// holds, and how its API calls went. Plain HTML, readable without the web UI's script.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { register } from 'prom-client';
import type { CtldContext } from './command.js';
import type { FailoverWatcher } from './failover-watcher.js';

const startedAt = new Date();

function esc(v: unknown): string {
  return String(v).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

interface CounterValue {
  labels: Record<string, string | number>;
  value: number;
}

async function requestCounts(): Promise<CounterValue[]> {
  const m = register.getSingleMetric('tessera_ctld_requests_total');
  if (!m) return [];
  const got = await m.get();
  return got.values.map((v) => ({ labels: v.labels as Record<string, string | number>, value: v.value }));
}

/** Renders `/debug/status`; topology reads that fail are shown, not thrown. */
export async function serveStatus(_req: IncomingMessage, res: ServerResponse, ctx: CtldContext, ports: readonly number[], watcher?: FailoverWatcher): Promise<void> {
  let topoLine: string;
  try {
    const [cells, keyspaces, tablets] = await Promise.all([ctx.topo.getCellInfoNames(), ctx.topo.getKeyspaceNames(), ctx.topo.getTablets({})]);
    topoLine = `cells ${esc(cells.join(', ') || 'none')}; ${keyspaces.length} keyspaces (${esc(keyspaces.join(', '))}); ${tablets.length} tablets`;
  } catch (err) {
    topoLine = `<b>topology unreachable</b>: ${esc(err instanceof Error ? err.message : String(err))}`;
  }
  const counts = (await requestCounts()).sort((a, b) => String(a.labels.command).localeCompare(String(b.labels.command)));
  const rows = counts.map((c) => `<tr><td>${esc(c.labels.command)}</td><td>${esc(c.labels.code)}</td><td>${c.value}</td></tr>`).join('');
  const alerts = watcher?.alerts ?? [];
  const failovers = [...(watcher?.events ?? [])].reverse().slice(0, 20);
  const watcherHtml = !watcher?.opts.enabled
    ? '<p>Off (<code>--failover-watcher</code>).</p>'
    : (alerts.length ? alerts.map((a) => `<p><b>ALERT</b> ${esc(a.at)} ${esc(a.keyspace)}/${esc(a.shard)}: ${esc(a.message)}</p>`).join('') : '<p>No alert.</p>') +
      (failovers.length
        ? `<table><tr><th>at</th><th>shard</th><th>dead primary</th><th>promoted</th><th>why</th></tr>${failovers
            .map((e) => `<tr><td>${esc(e.at)}</td><td>${esc(e.keyspace)}/${esc(e.shard)}</td><td>${esc(e.primary)}</td><td>${esc(e.promoted ?? 'refused')}</td><td>${esc(e.message)}</td></tr>`)
            .join('')}</table>`
        : '');
  const uptimeS = Math.round((Date.now() - startedAt.getTime()) / 1000);
  const mem = process.memoryUsage();
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ctld status</title>
<style>body{font:14px/1.45 system-ui,sans-serif;margin:20px;color:#1d2330}table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:left}</style>
</head><body>
<h1>tessera ctld</h1>
<table>
<tr><th>pid</th><td>${process.pid}</td></tr>
<tr><th>node</th><td>${esc(process.version)}</td></tr>
<tr><th>started</th><td>${esc(startedAt.toISOString())} (up ${uptimeS} s)</td></tr>
<tr><th>listening</th><td>${esc(ports.join(', '))}</td></tr>
<tr><th>memory</th><td>rss ${Math.round(mem.rss / 1048576)} MiB, heap ${Math.round(mem.heapUsed / 1048576)} MiB</td></tr>
<tr><th>topology</th><td>${topoLine}</td></tr>
</table>
<h2>Failover watcher</h2>
${watcherHtml}
<h2>API calls</h2>
${rows ? `<table><tr><th>command</th><th>outcome</th><th>calls</th></tr>${rows}</table>` : '<p>None yet.</p>'}
<p><a href="/">web UI</a> · <a href="/metrics">/metrics</a> · <a href="/api/v1/commands">/api/v1/commands</a> · <a href="/healthz">/healthz</a></p>
</body></html>
`;
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html), 'cache-control': 'no-cache' });
  res.end(html);
}
