// The web UI's workflow pages (in the browser): the workflows of every keyspace, and one workflow
// with its streams per target shard, copy progress, traffic state, rules, switches and VDiffs.
// Actions (stop, start, switch, reverse, VDiff) first ask ctld for the command's dry run and run
// it only once the user confirmed what it printed.
import type { Json } from '../../topo/index.js';
import { esc, post, pretty, timeOf } from './client-util.js';
import type { SwitchRecordJson, TableCopyJson, WorkflowDetail, WorkflowsOverview, WorkflowStreamJson } from './types.js';

function wfLink(keyspace: string, workflow: string, text = workflow): string {
  return `<a href="#/workflow/${encodeURIComponent(keyspace)}/${encodeURIComponent(workflow)}">${esc(text)}</a>`;
}

function statePill(state: string): string {
  return `<span class="state wf-${esc(state.toLowerCase())}">${esc(state)}</span>`;
}

function seconds(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  if (n < 60) return `${n}s`;
  if (n < 3600) return `${Math.floor(n / 60)}m${String(n % 60).padStart(2, '0')}s`;
  return `${Math.floor(n / 3600)}h${String(Math.floor((n % 3600) / 60)).padStart(2, '0')}m`;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1 << 30) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  return `${(n / (1 << 30)).toFixed(2)} GiB`;
}

function epoch(s: { seconds: string } | undefined): string {
  const n = Number(s?.seconds ?? 0);
  return n > 0 ? new Date(n * 1000).toLocaleTimeString() : '—';
}

// ---- list -------------------------------------------------------------------------------------

export function workflowsPage(o: WorkflowsOverview): string {
  const cards = o.keyspaces
    .map((k) => {
      let body: string;
      if (k.error) body = `<p class="state wf-error">${esc(k.error)}</p>`;
      else if (k.workflows.length === 0) body = '<p class="muted">No workflows.</p>';
      else {
        body = `<table data-workflows="${esc(k.name)}"><thead><tr><th>workflow</th><th>type</th><th>source</th><th>target shards</th><th>streams</th><th>max lag</th><th>error</th></tr></thead><tbody>${k.workflows
          .map(
            (w) => `<tr data-workflow="${esc(w.name)}">
<td data-field="name">${wfLink(k.name, w.name)}</td>
<td data-field="type">${esc(w.type)}</td>
<td data-field="source">${esc(w.source_keyspace)}/${esc(w.source_shards.join(','))}</td>
<td data-field="target">${esc(w.target_shards.join(','))}</td>
<td data-field="states">${Object.entries(w.states)
              .map(([s, n]) => `${statePill(s)} ${n}`)
              .join(', ')}</td>
<td data-field="lag" class="num">${seconds(w.max_lag_seconds)}</td>
<td data-field="error">${w.error ? `<span class="state wf-error">${esc(w.error)}</span>` : ''}</td>
</tr>`,
          )
          .join('')}</tbody></table>`;
      }
      return `<section class="card" data-keyspace-workflows="${esc(k.name)}"><h2><a href="#/keyspace/${encodeURIComponent(k.name)}">${esc(k.name)}</a></h2>${body}</section>`;
    })
    .join('');
  return `<h1>Workflows</h1><p class="muted">Per target keyspace, as <code>tessera ctl GetWorkflows &lt;keyspace&gt;</code> lists them.</p>${cards || '<p class="muted">No keyspaces.</p>'}`;
}

// ---- one workflow -----------------------------------------------------------------------------

function progressTable(tcs: Record<string, TableCopyJson>): string {
  const names = Object.keys(tcs);
  if (names.length === 0) return '<p class="muted" data-copy="none">No table is copying: the copy is done (or the workflow copies nothing); the streams replicate from the binlogs.</p>';
  const rows = names
    .map((name) => {
      const t = tcs[name];
      const pct = Math.max(0, Math.min(100, t.rows_percentage));
      return `<tr data-table="${esc(name)}">
<td data-field="table"><b>${esc(name)}</b></td>
<td data-field="phase">${esc(t.phase)}</td>
<td data-field="rows" class="num">${t.rows_copied} / ${t.rows_total}${t.rows_total_estimated ? ' (estimated)' : ''}</td>
<td data-field="bar"><div class="bar"><div style="width:${pct}%"></div></div><span data-field="percentage">${pct}%</span></td>
<td data-field="bytes" class="num">${esc(bytes(t.bytes_copied))} / ${esc(bytes(t.bytes_total))}</td>
<td data-field="rate" class="num">${t.rows_per_second ? `${t.rows_per_second} rows/s` : '—'}</td>
<td data-field="eta" class="num">${t.phase === 'Complete' ? 'done' : t.eta_seconds === null ? 'unknown' : seconds(t.eta_seconds)}</td>
</tr>`;
    })
    .join('');
  return `<table class="copy"><thead><tr><th>table</th><th>phase</th><th>rows copied / total</th><th>progress</th><th>bytes</th><th>rate</th><th>ETA</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function logsTable(s: WorkflowStreamJson): string {
  if (s.logs.length === 0) return '<span class="muted">no log entries</span>';
  // Newest first; the recent ones are what explains an error.
  const recent = [...s.logs].sort((a, b) => Number(b.id) - Number(a.id)).slice(0, 10);
  return `<table class="logs" data-logs="${esc(s.id)}"><thead><tr><th>at</th><th>type</th><th>state</th><th>count</th><th>message</th></tr></thead><tbody>${recent
    .map((l) => `<tr data-log-type="${esc(l.type)}"><td>${esc(l.updated_at || l.created_at)}</td><td>${esc(l.type)}</td><td>${esc(l.state)}</td><td class="num">${esc(l.count)}</td><td>${esc(l.message)}</td></tr>`)
    .join('')}</tbody></table>`;
}

function streamsSection(d: WorkflowDetail): string {
  const show = d.show;
  if (!show) return '';
  const info = new Map<string, string>();
  for (const v of Object.values(d.status?.shard_streams ?? {})) for (const s of v.streams) info.set(String(s.id), s.info);
  return Object.entries(show.shard_streams)
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([key, v]) => {
      const shard = key.split('/')[0];
      const rows = v.streams
        .map((s) => {
          const th = s.throttler_status;
          const throttled = th.component_throttled ? `${th.component_throttled}: ${th.reason_throttled} (since ${epoch(th.time_throttled)})` : '';
          const pos = s.position.length > 48 ? `${s.position.slice(0, 48)}…` : s.position;
          return `<tr data-stream="${esc(shard)}/${esc(s.id)}" data-state="${esc(s.state)}">
<td data-field="id" class="num">${esc(s.id)}</td>
<td data-field="tablet">${esc(`${s.tablet.cell}-${String(s.tablet.uid).padStart(10, '0')}`)}</td>
<td data-field="source">${esc(s.binlog_source.keyspace)}/${esc(s.binlog_source.shard)}${s.source_tablet ? `<div class="muted">from ${esc(s.source_tablet)}</div>` : ''}</td>
<td data-field="state">${statePill(s.state)}</td>
<td data-field="position" title="${esc(s.position)}"><code>${esc(pos || '—')}</code></td>
<td data-field="lag" class="num">${seconds(s.replication_lag_seconds)}</td>
<td data-field="rows_copied" class="num">${esc(s.rows_copied)}</td>
<td data-field="throttled">${throttled ? `<span class="state wf-throttled">${esc(throttled)}</span>` : '<span class="muted">no</span>'}</td>
<td data-field="message">${s.message ? `<span class="${s.state === 'Error' ? 'state wf-error' : ''}">${esc(s.message)}</span>` : ''}<div class="muted">${esc(info.get(s.id) ?? '')}</div></td>
</tr>
<tr class="logrow"><td></td><td colspan="8"><details${s.state === 'Error' ? ' open' : ''}><summary>recent log (${s.logs.length})</summary>${logsTable(s)}</details></td></tr>`;
        })
        .join('');
      return `<div class="shard-streams" data-target-shard="${esc(shard)}"><h3>target shard ${esc(d.keyspace)}/${esc(shard)}</h3>
<table class="streams"><thead><tr><th>id</th><th>tablet</th><th>source</th><th>state</th><th>position</th><th>lag</th><th>rows copied</th><th>throttled</th><th>message</th></tr></thead><tbody>${rows}</tbody></table></div>`;
    })
    .join('');
}

function rulesSection(d: WorkflowDetail): string {
  const rr = d.routing_rules.rules;
  const srr = d.shard_routing_rules.rules;
  const routing =
    rr.length === 0
      ? '<p class="muted" data-rules="routing">No routing rules.</p>'
      : `<table data-rules="routing"><thead><tr><th>from table</th><th>to tables</th></tr></thead><tbody>${rr
          .map((r) => `<tr><td data-field="from_table"><code>${esc(r.from_table)}</code></td><td data-field="to_tables"><code>${esc(r.to_tables.join(', '))}</code></td></tr>`)
          .join('')}</tbody></table>`;
  const shard =
    srr.length === 0
      ? '<p class="muted" data-rules="shard">No shard routing rules.</p>'
      : `<table data-rules="shard"><thead><tr><th>from keyspace</th><th>shard</th><th>to keyspace</th></tr></thead><tbody>${srr
          .map((r) => `<tr><td data-field="from_keyspace">${esc(r.from_keyspace)}</td><td data-field="shard">${esc(r.shard)}</td><td data-field="to_keyspace">${esc(r.to_keyspace)}</td></tr>`)
          .join('')}</tbody></table>`;
  return `<div class="grid2"><div><h3>Routing rules</h3>${routing}</div><div><h3>Shard routing rules</h3>${shard}</div></div>`;
}

function switchesSection(list: SwitchRecordJson[]): string {
  if (list.length === 0) return '<p class="muted" data-switches="none">No switch of this workflow since this ctld started.</p>';
  return `<table data-switches><thead><tr><th>at</th><th>action</th><th>traffic</th><th>result</th><th>write pause</th><th>state after</th><th>steps</th></tr></thead><tbody>${list
    .map(
      (s) => `<tr data-switch="${esc(s.action)}" data-ok="${s.ok}">
<td>${esc(timeOf(s.at))}</td>
<td data-field="action">${esc(s.action)}</td>
<td data-field="types">${esc(s.tablet_types.length ? s.tablet_types.join(',') : 'all')}</td>
<td data-field="result">${s.ok ? `<span class="state wf-running">done</span> in ${s.duration_ms} ms` : `<span class="state wf-error">failed</span>: ${esc(s.error ?? '')}`}</td>
<td data-field="write_pause" class="num">${s.write_pause_ms === null ? '—' : `${s.write_pause_ms} ms`}</td>
<td data-field="state">${esc(s.state ?? '—')}</td>
<td data-field="steps">${s.steps.length ? `<details><summary>${s.steps.length} steps</summary><ol>${s.steps.map((x) => `<li>${esc(x)}</li>`).join('')}</ol></details>` : ''}</td>
</tr>`,
    )
    .join('')}</tbody></table>`;
}

type Obj = Record<string, Json>;

function sampleRows(reports: Obj): string {
  const rows: string[] = [];
  for (const [table, byShard] of Object.entries(reports)) {
    for (const [shard, rep] of Object.entries(byShard as Obj)) {
      const r = rep as Obj;
      for (const [kind, field] of [
        ['extra on source', 'ExtraRowsSourceSample'],
        ['extra on target', 'ExtraRowsTargetSample'],
        ['mismatched', 'MismatchedRowsSample'],
      ] as const) {
        for (const x of (r[field] as Obj[] | undefined) ?? []) {
          const row = kind === 'mismatched' ? { source: (x.Source as Obj).Row, target: (x.Target as Obj).Row } : x.Row;
          rows.push(`<tr data-diff="${esc(kind)}"><td>${esc(table)}</td><td>${esc(shard)}</td><td>${esc(kind)}</td><td><code>${esc(JSON.stringify(row))}</code></td></tr>`);
        }
      }
    }
  }
  if (rows.length === 0) return '';
  return `<h4>Differing rows (keys)</h4><table data-diffs><thead><tr><th>table</th><th>shard</th><th>kind</th><th>row</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function vdiffsSection(d: WorkflowDetail): string {
  if (d.vdiff_error) return `<p class="state wf-error">${esc(d.vdiff_error)}</p>`;
  if (d.vdiffs.length === 0) return '<p class="muted" data-vdiffs="none">No VDiff yet.</p>';
  return d.vdiffs
    .map((v) => {
      const s = v as Obj;
      const tables = Object.values((s.TableSummary ?? {}) as Obj)
        .map((t) => {
          const x = t as Obj;
          return `<tr data-vdiff-table="${esc(x.TableName)}"><td>${esc(x.TableName)}</td><td>${esc(x.State)}</td><td class="num" data-field="rows_compared">${esc(x.RowsCompared)}</td><td class="num">${esc(x.MatchingRows)}</td><td class="num">${esc(x.MismatchedRows)}</td><td class="num">${esc(x.ExtraRowsSource)}</td><td class="num">${esc(x.ExtraRowsTarget)}</td></tr>`;
        })
        .join('');
      const errors = Object.entries((s.Errors ?? {}) as Obj)
        .map(([shard, e]) => `<div class="state wf-error">shard ${esc(shard)}: ${esc(e)}</div>`)
        .join('');
      const progress = s.Progress ? ` · ${esc((s.Progress as Obj).Percentage)}%${(s.Progress as Obj).ETA ? `, ETA ${esc((s.Progress as Obj).ETA)}` : ''}` : '';
      return `<div class="vdiff" data-vdiff="${esc(s.UUID)}" data-state="${esc(s.State)}">
<p><code>${esc(s.UUID)}</code> ${statePill(String(s.State))} · rows compared <b data-field="rows_compared">${esc(s.RowsCompared ?? 0)}</b> · mismatch <b data-field="has_mismatch">${esc(s.HasMismatch ?? false)}</b>${progress} · started ${esc(s.StartedAt ?? '—')}${s.CompletedAt ? ` · completed ${esc(s.CompletedAt)}` : ''}</p>
${errors}${tables ? `<table><thead><tr><th>table</th><th>state</th><th>compared</th><th>matching</th><th>mismatched</th><th>extra on source</th><th>extra on target</th></tr></thead><tbody>${tables}</tbody></table>` : ''}
${sampleRows((s.Reports ?? {}) as Obj)}
<details><summary>report (VDiff show ${esc(s.UUID)} --verbose --format json)</summary><pre>${esc(pretty(v))}</pre></details></div>`;
    })
    .join('');
}

export function workflowPage(d: WorkflowDetail): string {
  const back = `<p><a href="#/workflows">← Workflows</a></p>`;
  if (!d.show) return `${back}<h1>Workflow ${esc(d.keyspace)}.${esc(d.workflow)}</h1><p class="muted" data-missing>No such workflow in keyspace ${esc(d.keyspace)} (any more).</p>`;
  const w = d.show;
  const traffic = d.status?.traffic_state ?? '';
  const actions = d.actions
    .map((a) => `<button type="button" data-action="${esc(a.name)}" data-command="${esc(a.command)}" data-request="${esc(JSON.stringify(a.request))}" data-cli="${esc(a.cli)}">${esc(a.label)}</button>`)
    .join(' ');
  return `${back}<h1>Workflow ${esc(d.keyspace)}.${esc(d.workflow)}</h1>
<section class="card" data-section="summary"><div class="card-head"><span class="pill">${esc(w.workflow_type)}${w.workflow_sub_type && w.workflow_sub_type !== 'None' ? ` (${esc(w.workflow_sub_type)})` : ''}</span>
<span>from <b>${esc(w.source.keyspace)}</b>/${esc(w.source.shards.join(','))} to <b>${esc(w.target.keyspace)}</b>/${esc(w.target.shards.join(','))}</span></div>
<p>Traffic: <b data-traffic-state>${esc(traffic || '—')}</b></p>
${d.status_error ? `<p class="state wf-error" data-status-error>${esc(d.status_error)}</p>` : ''}
<div class="actions">${actions}</div>
<p class="muted">Each action shows what <code>tessera ctl … --dry-run</code> prints and runs only when confirmed.</p></section>
<section class="card" data-section="copy"><h2>Copy progress</h2>${progressTable(d.status?.table_copy_state ?? {})}</section>
<section class="card" data-section="streams"><h2>Streams</h2>${streamsSection(d)}</section>
<section class="card" data-section="traffic"><h2>Routing as it is now</h2>${rulesSection(d)}</section>
<section class="card" data-section="switches"><h2>Switches</h2>${switchesSection(d.switches)}</section>
<section class="card" data-section="vdiffs"><h2>VDiffs</h2>${vdiffsSection(d)}</section>`;
}

// ---- actions ----------------------------------------------------------------------------------

function output(r: unknown): string {
  if (r && typeof r === 'object' && !Array.isArray(r) && typeof (r as { text?: unknown }).text === 'string') return (r as { text: string }).text;
  return pretty(r as Json);
}

/**
 * Clicks on an action button: the dialog shows the command and its dry run; Run executes it and
 * shows what it printed; `refresh` redraws the page afterwards.
 */
export function bindActions(refresh: () => void): void {
  const dialog = document.getElementById('confirm') as HTMLDialogElement | null;
  if (!dialog) return;
  const title = dialog.querySelector<HTMLElement>('[data-dialog-title]')!;
  const out = dialog.querySelector<HTMLElement>('[data-dialog-output]')!;
  const run = dialog.querySelector<HTMLButtonElement>('[data-dialog-run]')!;
  const close = dialog.querySelector<HTMLButtonElement>('[data-dialog-close]')!;
  let pending: { command: string; request: Record<string, Json> } | null = null;
  const setPhase = (phase: string) => {
    dialog.dataset.phase = phase;
  };
  close.addEventListener('click', () => {
    pending = null;
    dialog.close();
    refresh();
  });
  run.addEventListener('click', () => {
    const p = pending;
    if (!p) return;
    pending = null;
    run.disabled = true;
    setPhase('running');
    out.textContent = 'Running…';
    post(p.command, p.request)
      .then((r) => {
        out.textContent = output(r);
        setPhase('done');
      })
      .catch((err: unknown) => {
        out.textContent = err instanceof Error ? err.message : String(err);
        setPhase('failed');
      })
      .finally(() => {
        close.textContent = 'Close';
        refresh();
      });
  });
  document.addEventListener('click', (ev) => {
    const b = (ev.target as HTMLElement).closest<HTMLButtonElement>('button[data-action]');
    if (!b) return;
    const command = b.dataset.command ?? '';
    const request = JSON.parse(b.dataset.request ?? '{}') as Record<string, Json>;
    title.textContent = `tessera ctl ${b.dataset.cli ?? command}`;
    out.textContent = 'Asking for the dry run…';
    run.disabled = true;
    close.textContent = 'Cancel';
    dialog.dataset.action = b.dataset.action ?? '';
    setPhase('dry-run');
    if (!dialog.open) dialog.showModal();
    post(command, { ...request, dry_run: true })
      .then((r) => {
        out.textContent = `--dry-run:\n${output(r)}`;
        pending = { command, request };
        run.disabled = false;
        setPhase('confirm');
      })
      .catch((err: unknown) => {
        out.textContent = `The dry run failed, so the action is not offered:\n${err instanceof Error ? err.message : String(err)}`;
        setPhase('failed');
      });
  });
}
