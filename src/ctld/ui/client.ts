// The web UI in the browser: a hash router over its pages (overview, keyspace, VSchema & rules,
// tablet, and the workflow pages of workflow-pages.ts) drawn from ctld's JSON API, polled every
// POLL_INTERVAL_MS. Compiled by the project's tsc and served by ctld as /ui/client.js with its two
// sibling modules (client-util.js, workflow-pages.js); it loads nothing else.
import type { Json, KeyRange, Shard, SrvKeyspace, Tablet } from '../../topo/index.js';
import { api, ApiError, esc, POLL_INTERVAL_MS, pretty, timeOf } from './client-util.js';
import type { ClusterOverview, OverviewKeyspace, OverviewTablet, TabletHealthReport, TabletHealthView, WorkflowDetail, WorkflowsOverview } from './types.js';
import { bindActions, workflowPage, workflowsPage } from './workflow-pages.js';

function hostPort(host: string, port: number | undefined): string {
  return `${host}:${port ?? 0}`;
}

// ---- key space bar ----------------------------------------------------------------------------

/** Position of a key range bound on 0..1 (first 4 bytes are plenty for drawing). */
function keyPos(hex: string, isEnd: boolean): number {
  if (hex === '') return isEnd ? 1 : 0;
  return parseInt((hex + '00000000').slice(0, 8), 16) / 0x100000000;
}

/** Compares bounds as keys: '' as a start is the smallest, as an end the largest. */
function cmpBound(a: string, aEnd: boolean, b: string, bEnd: boolean): number {
  const ka = a === '' ? (aEnd ? 'g' : '') : a;
  const kb = b === '' ? (bEnd ? 'g' : '') : b;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function boundText(hex: string, isEnd: boolean): string {
  return hex === '' ? (isEnd ? 'ff…' : '00') : hex;
}

interface Segment {
  name: string;
  range: KeyRange;
  serving: boolean;
}

function overlaps(a: KeyRange, b: KeyRange): boolean {
  return cmpBound(a.start, false, b.end, true) < 0 && cmpBound(b.start, false, a.end, true) < 0;
}

/**
 * The keyspace's shards on the key space 00..ff: serving shards in the first lane, shards that
 * overlap them (resharding targets) in further lanes; gaps and overlaps among serving shards are
 * marked, and a line says whether the serving shards cover the key space exactly once.
 */
function keyBar(ks: OverviewKeyspace): string {
  const segs: Segment[] = ks.shards.map((s) => ({ name: s.name, range: s.shard.key_range, serving: s.shard.is_primary_serving }));
  segs.sort((a, b) => (a.serving === b.serving ? cmpBound(a.range.start, false, b.range.start, false) : a.serving ? -1 : 1));
  const lanes: Segment[][] = [];
  for (const s of segs) {
    // Serving shards all go to lane 0 so an overlap between two of them shows as one.
    const lane = s.serving ? lanes[0] ?? (lanes[0] = []) : lanes.slice(1).find((l) => l.every((o) => !overlaps(o.range, s.range)));
    if (lane) lane.push(s);
    else lanes.push([s]);
  }
  if (lanes.length === 0) lanes.push([]);

  const problems: string[] = [];
  const marks: string[] = [];
  const serving = segs.filter((s) => s.serving);
  let cursor = '';
  let cursorIsEnd = false;
  for (const s of serving) {
    const c = cmpBound(s.range.start, false, cursor, cursorIsEnd);
    if (c > 0) {
      problems.push(`gap ${boundText(cursor, false)}–${boundText(s.range.start, false)}`);
      marks.push(box('gap', cursor, false, s.range.start, false, 'gap'));
    } else if (c < 0) {
      const end = cmpBound(s.range.end, true, cursor, cursorIsEnd) < 0 ? s.range.end : cursor;
      problems.push(`overlap ${boundText(s.range.start, false)}–${boundText(end, true)}`);
      marks.push(box('overlap', s.range.start, false, end, true, ''));
    }
    if (cmpBound(s.range.end, true, cursor, cursorIsEnd) > 0) {
      cursor = s.range.end;
      cursorIsEnd = true;
    }
  }
  if (!(cursor === '' && cursorIsEnd)) {
    problems.push(`gap ${boundText(cursor, false)}–ff…`);
    marks.push(box('gap', cursor, false, '', true, 'gap'));
  }

  const laneHtml = lanes
    .map((lane, i) => {
      const inner = lane
        .map((s) => {
          const l = keyPos(s.range.start, false) * 100;
          const w = Math.max(keyPos(s.range.end, true) * 100 - l, 0.5);
          return `<a class="seg${s.serving ? '' : ' not-serving'}" href="#/keyspace/${encodeURIComponent(ks.name)}" data-shard="${esc(s.name)}" data-serving="${s.serving}" style="left:${l}%;width:${w}%" title="${esc(`${ks.name}/${s.name}: ${boundText(s.range.start, false)}–${boundText(s.range.end, true)}${s.serving ? '' : ' (not serving)'}`)}">${esc(s.name)}</a>`;
        })
        .join('');
      return `<div class="lane" data-lane="${i}">${i === 0 ? marks.join('') : ''}${inner}</div>`;
    })
    .join('');
  const ticks = ['00', '40', '80', 'c0', 'ff']
    .map((t, i) => `<span style="left:${i * 25}%">${t}</span>`)
    .join('');
  const coverage =
    problems.length === 0
      ? `<div class="coverage" data-coverage="ok">serving shards cover 00–ff exactly once</div>`
      : `<div class="coverage bad" data-coverage="bad">${esc(problems.join('; '))}</div>`;
  return `<div class="keybar" data-keyspace="${esc(ks.name)}">${laneHtml}<div class="ticks">${ticks}</div>${coverage}</div>`;
}

function box(cls: string, start: string, startIsEnd: boolean, end: string, endIsEnd: boolean, label: string): string {
  const l = keyPos(start, startIsEnd) * 100;
  const w = Math.max(keyPos(end, endIsEnd) * 100 - l, 0.5);
  return `<span class="${cls}" data-from="${esc(boundText(start, false))}" data-to="${esc(boundText(end, true))}" style="left:${l}%;width:${w}%">${esc(label)}</span>`;
}

// ---- pieces -----------------------------------------------------------------------------------

function healthCell(h: TabletHealthView): string {
  const label = h.state.replace('_', ' ');
  return `<td data-field="health" data-state="${h.state}" title="${esc(h.reason)}"><span class="state state-${h.state}">${esc(label)}</span>${h.reason ? `<div class="muted">${esc(h.reason)}</div>` : ''}</td>`;
}

function servingText(h: TabletHealthView): string {
  return h.serving === null ? 'unknown' : h.serving ? 'serving' : 'not serving';
}

function lagText(h: TabletHealthView): string {
  return h.replication_lag_seconds === null ? '—' : `${h.replication_lag_seconds}s`;
}

function tabletLink(alias: string): string {
  return `<a href="#/tablet/${encodeURIComponent(alias)}">${esc(alias)}</a>`;
}

function tabletsTable(tablets: OverviewTablet[]): string {
  if (tablets.length === 0) return `<p class="muted">No tablets.</p>`;
  const rows = tablets
    .map(({ alias, tablet: t, health: h }) => {
      const serving = servingText(h);
      return `<tr data-tablet="${esc(alias)}">
<td data-field="alias">${tabletLink(alias)}</td>
<td data-field="shard">${esc(t.shard)}</td>
<td data-field="type">${esc(t.type)}</td>
<td data-field="serving" class="state state-${serving.replace(' ', '-')}">${esc(serving)}</td>
${healthCell(h)}
<td data-field="lag" class="num">${esc(lagText(h))}</td>
<td data-field="mysql"><code>${esc(hostPort(t.mysql_hostname, t.mysql_port))}</code></td>
<td data-field="http"><code>${esc(hostPort(t.hostname, t.port_map.vt))}</code></td>
</tr>`;
    })
    .join('');
  return `<table class="tablets"><thead><tr><th>tablet</th><th>shard</th><th>type</th><th>state</th><th>health</th><th>lag</th><th>MariaDB</th><th>HTTP</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function shardsTable(ks: OverviewKeyspace, tablets: OverviewTablet[]): string {
  if (ks.shards.length === 0) return `<p class="muted">No shards.</p>`;
  const byRange = [...ks.shards].sort(
    (a, b) => cmpBound(a.shard.key_range.start, false, b.shard.key_range.start, false) || cmpBound(a.shard.key_range.end, true, b.shard.key_range.end, true),
  );
  const rows = byRange
    .map(({ name, shard: s }: { name: string; shard: Shard }) => {
      const n = tablets.filter((t) => t.tablet.shard === name).length;
      const primary = s.primary_alias ? `${s.primary_alias.cell}-${String(s.primary_alias.uid).padStart(10, '0')}` : '';
      return `<tr data-shard-row="${esc(name)}">
<td data-field="name"><b>${esc(name)}</b></td>
<td data-field="key_range"><code>${esc(boundText(s.key_range.start, false))}–${esc(boundText(s.key_range.end, true))}</code></td>
<td data-field="serving" class="state state-${s.is_primary_serving ? 'serving' : 'not-serving'}">${s.is_primary_serving ? 'serving' : 'not serving'}</td>
<td data-field="primary">${primary ? tabletLink(primary) : '<span class="muted">none</span>'}</td>
<td data-field="tablets" class="num">${n}</td>
</tr>`;
    })
    .join('');
  return `<table class="shards"><thead><tr><th>shard</th><th>key range</th><th>primary serving</th><th>primary</th><th>tablets</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function isSharded(vschema: Json): boolean {
  return typeof vschema === 'object' && vschema !== null && !Array.isArray(vschema) && vschema.sharded === true;
}

function keyspaceCard(ks: OverviewKeyspace, all: OverviewTablet[], detail: boolean): string {
  const tablets = all.filter((t) => t.tablet.keyspace === ks.name);
  const healthy = tablets.filter((t) => t.health.state === 'healthy').length;
  const head = `<div class="card-head"><h2><a href="#/keyspace/${encodeURIComponent(ks.name)}">${esc(ks.name)}</a></h2>
<span class="pill">${ks.vschema === null ? 'no VSchema' : isSharded(ks.vschema) ? 'sharded' : 'unsharded'}</span>
<span class="pill">durability ${esc(ks.keyspace.durability_policy)}</span>
<span class="muted">${ks.shards.length} shard${ks.shards.length === 1 ? '' : 's'}, ${tablets.length} tablet${tablets.length === 1 ? '' : 's'}, ${healthy} healthy</span></div>`;
  let more = '';
  if (detail) {
    more = `<div class="grid2"><div><h3>VSchema</h3>${ks.vschema === null ? '<p class="muted">No VSchema applied.</p>' : `<pre data-vschema="${esc(ks.name)}">${esc(pretty(ks.vschema))}</pre>`}</div>
<div><h3>Serving graph</h3>${srvKeyspaces(ks.srv_keyspaces)}</div></div>`;
  }
  return `<section class="card keyspace" data-keyspace="${esc(ks.name)}">${head}${keyBar(ks)}<h3>Shards</h3>${shardsTable(ks, tablets)}<h3>Tablets</h3>${tabletsTable(tablets)}${more}</section>`;
}

function srvKeyspaces(srv: Record<string, SrvKeyspace | null>): string {
  const cells = Object.keys(srv);
  if (cells.length === 0) return `<p class="muted">No cells.</p>`;
  return cells
    .map((cell) => {
      const s = srv[cell];
      if (!s) return `<p data-srv-cell="${esc(cell)}"><b>${esc(cell)}</b>: <span class="muted">not built (RebuildKeyspaceGraph)</span></p>`;
      const rows = s.partitions.map((p) => `<tr><td>${esc(p.served_type)}</td><td>${p.shard_references.map((r) => esc(r.name)).join(' ')}</td></tr>`).join('');
      return `<div data-srv-cell="${esc(cell)}"><b>${esc(cell)}</b><table><thead><tr><th>served type</th><th>shards</th></tr></thead><tbody>${rows}</tbody></table></div>`;
    })
    .join('');
}

// ---- pages ------------------------------------------------------------------------------------

function overviewPage(o: ClusterOverview): string {
  const orphans = o.tablets.filter((t) => !o.keyspaces.some((k) => k.name === t.tablet.keyspace));
  const counts: Record<string, number> = {};
  for (const t of o.tablets) counts[t.health.state] = (counts[t.health.state] ?? 0) + 1;
  const summary = Object.entries(counts)
    .map(([state, n]) => `<span class="state state-${esc(state)}">${n} ${esc(state.replace('_', ' '))}</span>`)
    .join(', ');
  return `<h1>Cluster</h1>
<p class="muted" data-summary>cells: ${esc(o.cells.join(', ') || 'none')} · ${o.keyspaces.length} keyspaces · ${o.tablets.length} tablets${summary ? ` (${summary})` : ''}</p>
${o.keyspaces.length === 0 ? '<p class="muted">No keyspaces yet: <code>tessera ctl CreateKeyspace commerce</code>.</p>' : ''}
${o.keyspaces.map((k) => keyspaceCard(k, o.tablets, false)).join('')}
${orphans.length > 0 ? `<section class="card"><h2>Tablets of unknown keyspaces</h2>${tabletsTable(orphans)}</section>` : ''}`;
}

function keyspacePage(o: ClusterOverview, name: string): string {
  const ks = o.keyspaces.find((k) => k.name === name);
  if (!ks) return `<h1>Keyspace ${esc(name)}</h1><p class="muted">No such keyspace. <a href="#/">Back to the cluster</a>.</p>`;
  return `<p><a href="#/">← Cluster</a></p><h1>Keyspace ${esc(name)}</h1>${keyspaceCard(ks, o.tablets, true)}`;
}

function rulesPage(o: ClusterOverview): string {
  const rr = o.routing_rules.rules;
  const srr = o.shard_routing_rules.rules;
  const krr = o.keyspace_routing_rules.rules;
  const routing =
    rr.length === 0
      ? '<p class="muted">None.</p>'
      : `<table data-rules="routing"><thead><tr><th>from table</th><th>to tables</th></tr></thead><tbody>${rr
          .map((r) => `<tr><td data-field="from_table"><code>${esc(r.from_table)}</code></td><td data-field="to_tables"><code>${esc(r.to_tables.join(', '))}</code></td></tr>`)
          .join('')}</tbody></table>`;
  const shard =
    srr.length === 0
      ? '<p class="muted">None.</p>'
      : `<table data-rules="shard"><thead><tr><th>from keyspace</th><th>shard</th><th>to keyspace</th></tr></thead><tbody>${srr
          .map((r) => `<tr><td data-field="from_keyspace">${esc(r.from_keyspace)}</td><td data-field="shard">${esc(r.shard)}</td><td data-field="to_keyspace">${esc(r.to_keyspace)}</td></tr>`)
          .join('')}</tbody></table>`;
  const keyspace =
    krr.length === 0
      ? '<p class="muted">None.</p>'
      : `<table data-rules="keyspace"><thead><tr><th>from keyspace</th><th>to keyspace</th></tr></thead><tbody>${krr
          .map((r) => `<tr><td data-field="from_keyspace">${esc(r.from_keyspace)}</td><td data-field="to_keyspace">${esc(r.to_keyspace)}</td></tr>`)
          .join('')}</tbody></table>`;
  const vschemas = o.keyspaces
    .map(
      (k) =>
        `<section class="card"><h2><a href="#/keyspace/${encodeURIComponent(k.name)}">${esc(k.name)}</a></h2>${
          k.vschema === null ? '<p class="muted">No VSchema applied.</p>' : `<pre data-vschema="${esc(k.name)}">${esc(pretty(k.vschema))}</pre>`
        }</section>`,
    )
    .join('');
  return `<h1>VSchema &amp; rules</h1>
<section class="card"><h2>Routing rules</h2>${routing}</section>
<section class="card"><h2>Shard routing rules</h2>${shard}</section>
<section class="card"><h2>Keyspace routing rules</h2>${keyspace}</section>
<h2>VSchemas</h2>${vschemas || '<p class="muted">No keyspaces.</p>'}`;
}

function kv(rows: Array<[string, string, string]>): string {
  return `<dl class="kv">${rows.map(([field, label, html]) => `<dt>${esc(label)}</dt><dd data-field="${field}">${html}</dd>`).join('')}</dl>`;
}

function tabletPage(r: TabletHealthReport): string {
  const t: Tablet = r.tablet;
  const h = r.health;
  const tags = Object.entries(t.tags ?? {})
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
  const details = kv([
    ['alias', 'alias', esc(r.alias)],
    ['keyspace', 'keyspace', `<a href="#/keyspace/${encodeURIComponent(t.keyspace)}">${esc(t.keyspace)}</a>`],
    ['shard', 'shard', esc(t.shard)],
    ['key_range', 'key range', `<code>${esc(boundText(t.key_range?.start ?? '', false))}–${esc(boundText(t.key_range?.end ?? '', true))}</code>`],
    ['type', 'type', esc(t.type)],
    ['http', 'HTTP', `<code>${esc(hostPort(t.hostname, t.port_map.vt))}</code>`],
    ['grpc', 'RPC', `<code>${esc(hostPort(t.hostname, t.port_map.grpc))}</code>`],
    ['mysql', 'MariaDB', `<code>${esc(hostPort(t.mysql_hostname, t.mysql_port))}</code>`],
    ['db_name', 'database', esc(t.db_name_override || `vt_${t.keyspace}`)],
    ['tags', 'tags', esc(tags || '—')],
    ['primary_term_start_time', 'primary term start', esc(t.primary_term_start_time ?? '—')],
  ]);
  const health = kv([
    ['state', 'health', `<span class="state state-${h.state}" data-state="${h.state}">${esc(h.state.replace('_', ' '))}</span>`],
    ['reason', 'reason', esc(h.reason || '—')],
    ['serving', 'serving', esc(servingText(h))],
    ['reported_type', 'type reported', esc(h.tablet_type ?? '—')],
    ['lag', 'replication lag', esc(lagText(h))],
    ['replication_error', 'replication error', esc(h.replication_error ?? '—')],
    ['reported_at', 'reported at', esc(h.reported_at ?? '—')],
    ['checked_at', 'checked at', esc(h.checked_at)],
    ['url', 'probed', h.url ? `<code>${esc(h.url)}</code>` : '—'],
  ]);
  const events =
    r.events.length === 0
      ? '<p class="muted">None yet.</p>'
      : `<table data-events><thead><tr><th>at</th><th>health</th><th>reason</th></tr></thead><tbody>${r.events
          .map((e) => `<tr><td>${esc(timeOf(e.at))}</td><td class="state state-${e.state}">${esc(e.state.replace('_', ' '))}</td><td>${esc(e.reason || '—')}</td></tr>`)
          .join('')}</tbody></table>`;
  return `<p><a href="#/keyspace/${encodeURIComponent(t.keyspace)}">← ${esc(t.keyspace)}</a></p>
<h1>Tablet ${esc(r.alias)}</h1>
<div class="grid2"><section class="card" data-section="details"><h2>Tablet</h2>${details}</section>
<section class="card" data-section="health"><h2>Health</h2>${health}</section></div>
<section class="card" data-section="events"><h2>Recent health changes</h2>${events}</section>
<section class="card"><h2>Tablet record</h2><pre data-tablet-json>${esc(pretty(t))}</pre></section>`;
}

// ---- router and polling -----------------------------------------------------------------------

type Route =
  | { page: 'overview' }
  | { page: 'rules' }
  | { page: 'keyspace'; name: string }
  | { page: 'tablet'; alias: string }
  | { page: 'workflows' }
  | { page: 'workflow'; keyspace: string; workflow: string };

function route(): Route {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  if (parts[0] === 'rules') return { page: 'rules' };
  if (parts[0] === 'workflows') return { page: 'workflows' };
  if (parts[0] === 'workflow' && parts[1] && parts[2]) return { page: 'workflow', keyspace: parts[1], workflow: parts[2] };
  if (parts[0] === 'keyspace' && parts[1]) return { page: 'keyspace', name: parts[1] };
  if (parts[0] === 'tablet' && parts[1]) return { page: 'tablet', alias: parts[1] };
  return { page: 'overview' };
}

async function render(r: Route): Promise<{ html: string; at: string }> {
  switch (r.page) {
    case 'overview': {
      const o = await api<ClusterOverview>('ClusterOverview');
      return { html: overviewPage(o), at: o.at };
    }
    case 'rules': {
      const o = await api<ClusterOverview>('ClusterOverview');
      return { html: rulesPage(o), at: o.at };
    }
    case 'keyspace': {
      const o = await api<ClusterOverview>('ClusterOverview');
      return { html: keyspacePage(o, r.name), at: o.at };
    }
    case 'tablet': {
      try {
        const rep = await api<TabletHealthReport>('GetTabletHealth', { alias: r.alias });
        return { html: tabletPage(rep), at: rep.health.checked_at };
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) {
          return { html: `<h1>Tablet ${esc(r.alias)}</h1><p class="muted">${esc(err.message)}. <a href="#/">Back to the cluster</a>.</p>`, at: new Date().toISOString() };
        }
        throw err;
      }
    }
    case 'workflows': {
      const o = await api<WorkflowsOverview>('GetWorkflowsOverview');
      return { html: workflowsPage(o), at: o.at };
    }
    case 'workflow': {
      const d = await api<WorkflowDetail>('GetWorkflowDetail', { keyspace: r.keyspace, workflow: r.workflow });
      return { html: workflowPage(d), at: d.at };
    }
    default: {
      const never: never = r;
      return never;
    }
  }
}

let generation = 0;
let lastHtml = '';
let timer: ReturnType<typeof setTimeout> | undefined;

async function refresh(): Promise<void> {
  const gen = ++generation;
  if (timer !== undefined) clearTimeout(timer);
  const r = route();
  const main = document.getElementById('main');
  const banner = document.getElementById('banner');
  const updated = document.getElementById('updated');
  for (const a of Array.from(document.querySelectorAll<HTMLAnchorElement>('[data-nav]'))) {
    a.classList.toggle('active', a.dataset.nav === r.page || (a.dataset.nav === 'workflows' && r.page === 'workflow'));
  }
  try {
    const { html, at } = await render(r);
    if (gen !== generation) return; // a newer refresh (navigation) took over
    // Only redraw on change, so a poll that brings nothing new keeps selections and scroll.
    if (main && html !== lastHtml) {
      main.innerHTML = html;
      lastHtml = html;
    }
    if (banner) banner.hidden = true;
    if (updated) {
      updated.textContent = `updated ${timeOf(at)}`;
      updated.dataset.at = at;
    }
    document.body.dataset.page = r.page;
    document.body.dataset.ready = 'true';
  } catch (err) {
    if (gen !== generation) return;
    if (banner) {
      banner.hidden = false;
      banner.textContent = `Cannot load from ctld: ${err instanceof Error ? err.message : String(err)} — retrying every ${POLL_INTERVAL_MS / 1000} s`;
    }
  } finally {
    // A hidden tab stops polling (each poll probes every tablet); showing it again refreshes.
    if (gen === generation && !document.hidden) timer = setTimeout(() => void refresh(), POLL_INTERVAL_MS);
  }
}

window.addEventListener('hashchange', () => {
  window.scrollTo(0, 0);
  void refresh();
});
document.addEventListener('visibilitychange', () => {
  if (!document.hidden) void refresh();
});
function start(): void {
  bindActions(() => void refresh());
  void refresh();
}
if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
