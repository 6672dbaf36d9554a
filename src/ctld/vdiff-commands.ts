// The admin API's VDiff command: create, show, stop, resume, delete and repair, with vtctldclient's
// flags, text and JSON. Each VDiff runs on the workflow's target primaries (src/vdiff); this file
// sends each action to them (tm.VDiff) and folds their answers into Vitess's summary.
import { randomUUID } from 'node:crypto';
import { ER, TesseraError } from '../mysql/errors.js';
import { quoteIdent } from '../sql/index.js';
import { readOrMissing, tabletAliasString, type Json, type JsonObject, type Tablet } from '../topo/index.js';
import { UUID_RE, VDIFF_ENGINE_DEFAULTS } from '../vdiff/engine.js';
import { displayValue, loadValue, sqlLiteral } from '../vdiff/values.js';
import type { VDiffOptions } from '../vdiff/store.js';
import type { DiffRowWire, VDiffRequest, VDiffWire } from '../vdiff/wire.js';
import { requireWorkflow } from '../workflow/index.js';
import { optBool, optInt, optString, optStringList, reqString, type CommandTable, type CtldContext } from './command.js';
import { workflowCalls } from './workflow-commands.js';

/** vtctldclient's defaults for VDiff create. */
export const VDIFF_CREATE_DEFAULTS = {
  filteredReplicationWaitTimeMs: 30_000,
  maxReportSampleRows: 10,
  rowDiffColumnTruncateAt: 128,
  autoRetry: true,
  autoStart: true,
  /** --max-diff-duration: 0 = one snapshot per table however long it takes. */
  maxDiffDurationMs: 0,
};

const ACTIONS = ['create', 'show', 'stop', 'resume', 'delete', 'repair'] as const;

function boolDefault(req: JsonObject, field: string, dflt: boolean): boolean {
  const v = req[field];
  if (v === undefined || v === null || v === '') return dflt;
  return optBool(req, field);
}

function badArg(msg: string): TesseraError {
  return new TesseraError(ER.WRONG_ARGUMENTS, msg);
}

/** The target shards' primaries, with or without the workflow's streams (a VDiff outlives them). */
async function primaries(ctx: CtldContext, keyspace: string, shards: readonly string[]): Promise<{ shard: string; tablet: Tablet }[]> {
  const all = await readOrMissing(
    `keyspace ${keyspace}`,
    async () => {
      await ctx.topo.getKeyspace(keyspace);
      return ctx.topo.getShards(keyspace);
    },
    () => badArg(`keyspace ${keyspace} does not exist`),
  );
  const unknown = shards.filter((s) => !all.some((x) => x.name === s));
  if (unknown.length) throw badArg(`--target-shards: keyspace ${keyspace} has no shard ${unknown.join(', ')}`);
  const out: { shard: string; tablet: Tablet }[] = [];
  for (const s of all) {
    if (shards.length && !shards.includes(s.name)) continue;
    if (s.shard.primary_alias === null) continue;
    out.push({ shard: s.name, tablet: (await ctx.topo.getTablet(s.shard.primary_alias)).value });
  }
  return out;
}

function utc(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '';
  return new Date(seconds * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
}

function checkUuid(uuid: string): string {
  if (!UUID_RE.test(uuid)) throw badArg(`invalid UUID '${uuid}': a VDiff UUID has the form 8-4-4-4-12 hexadecimal digits (as uuidgen prints); or use last or all where the action takes them`);
  return uuid.toLowerCase();
}

function durationMs(req: JsonObject, field: string, dflt: number): number {
  const v = req[field];
  if (v === undefined || v === null || v === '') return dflt;
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(String(v).trim());
  if (!m) throw badArg(`'${field}' wants a duration such as 30s, 10m or 1h, not '${String(v)}'`);
  return Math.round(Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : m[2] === 'h' ? 3_600_000 : 1000));
}

function createOptions(req: JsonObject): VDiffOptions & { auto_start: boolean } {
  const tabletTypes = optStringList(req, 'tablet_types')
    .map((t) => t.toLowerCase().replace(/^in_order:/, ''))
    .map((t) => (t === 'master' ? 'primary' : t));
  for (const t of tabletTypes) if (!['primary', 'replica', 'rdonly'].includes(t)) throw badArg(`--tablet-types: ${t} is not primary, replica or rdonly`);
  const sample = optInt(req, 'max_report_sample_rows', VDIFF_CREATE_DEFAULTS.maxReportSampleRows);
  if (sample < 0) throw badArg('--max-report-sample-rows must be 0 (all) or more');
  const limit = optInt(req, 'limit', 0);
  if (limit < 0) throw badArg('--limit must be 0 (no limit) or more');
  return {
    core_options: {
      tables: optStringList(req, 'tables').join(','),
      auto_retry: boolDefault(req, 'auto_retry', VDIFF_CREATE_DEFAULTS.autoRetry),
      max_rows: limit,
      checksum: boolDefault(req, 'chunk_checksum', true),
      max_diff_seconds: Math.ceil(durationMs(req, 'max_diff_duration', VDIFF_CREATE_DEFAULTS.maxDiffDurationMs) / 1000),
      timeout_seconds: Math.max(1, Math.ceil(durationMs(req, 'filtered_replication_wait_time', VDIFF_CREATE_DEFAULTS.filteredReplicationWaitTimeMs) / 1000)),
      update_table_stats: boolDefault(req, 'update_table_stats', false),
    },
    report_options: {
      only_pks: boolDefault(req, 'only_pks', false),
      debug_query: boolDefault(req, 'debug_query', false),
      format: optString(req, 'format', 'text'),
      max_sample_rows: sample,
      row_diff_column_truncate_at: optInt(req, 'row_diff_column_truncate_at', VDIFF_CREATE_DEFAULTS.rowDiffColumnTruncateAt),
    },
    picker_options: {
      source_cell: optStringList(req, 'source_cells').join(','),
      target_cell: optStringList(req, 'target_cells').join(','),
      tablet_types: tabletTypes.join(','),
    },
    auto_start: boolDefault(req, 'auto_start', VDIFF_CREATE_DEFAULTS.autoStart),
  };
}

// ---- the summary ------------------------------------------------------------------------------

type Row = Record<string, string | null>;

function rowObject(columns: readonly string[], values: readonly Json[] | null, keep: (c: string) => boolean, truncateAt: number): Row | null {
  if (values === null) return null;
  const out: Row = {};
  columns.forEach((c, i) => {
    if (keep(c)) out[c] = displayValue(loadValue(values[i] as never), truncateAt);
  });
  return out;
}

function aggregateState(states: readonly string[]): string {
  if (states.includes('error')) return 'error';
  if (states.includes('started')) return 'started';
  if (states.includes('stopped')) return 'stopped';
  if (states.length && states.every((s) => s === 'completed')) return 'completed';
  if (states.includes('completed')) return 'started';
  return 'pending';
}

/** Vitess's summary of one VDiff over its shards (JSON keys as vtctldclient prints them). */
export function summarize(keyspace: string, workflow: string, uuid: string, parts: readonly VDiffWire[], verbose: boolean): JsonObject {
  const state = aggregateState(parts.map((p) => p.state));
  let rowsCompared = 0;
  let tableRows = 0;
  let hasMismatch = false;
  const tables = new Map<string, { TableName: string; states: string[]; RowsCompared: number; MatchingRows: number; MismatchedRows: number; ExtraRowsSource: number; ExtraRowsTarget: number }>();
  const reports: Record<string, Record<string, JsonObject>> = {};
  const errors: Record<string, string> = {};
  let opts: VDiffOptions | undefined;
  for (const p of parts) {
    opts ??= JSON.parse(p.options) as VDiffOptions;
    if (p.state === 'error' && p.lastError) errors[p.shard] = p.lastError;
    const o = JSON.parse(p.options) as VDiffOptions;
    const truncateAt = o.report_options.row_diff_column_truncate_at;
    for (const t of p.tables) {
      rowsCompared += t.processedRows;
      tableRows += Math.max(t.tableRows, t.processedRows);
      if (t.mismatch) hasMismatch = true;
      const s = tables.get(t.table) ?? { TableName: t.table, states: [], RowsCompared: 0, MatchingRows: 0, MismatchedRows: 0, ExtraRowsSource: 0, ExtraRowsTarget: 0 };
      s.states.push(t.state);
      s.RowsCompared += t.processedRows;
      s.MatchingRows += t.matchingRows;
      s.MismatchedRows += t.mismatchedRows;
      s.ExtraRowsSource += t.extraRowsSource;
      s.ExtraRowsTarget += t.extraRowsTarget;
      tables.set(t.table, s);
      const samples = p.samples.filter((d) => d.table === t.table);
      const keep = (pkCols: readonly string[]) => (c: string) => !o.report_options.only_pks || pkCols.includes(c);
      const sample = (kind: string) => samples.filter((d) => d.kind === kind);
      const report: JsonObject = {
        TableName: t.table,
        ProcessedRows: t.processedRows,
        MatchingRows: t.matchingRows,
        MismatchedRows: t.mismatchedRows,
        ExtraRowsSource: t.extraRowsSource,
        ExtraRowsTarget: t.extraRowsTarget,
      };
      const src = sample('ExtraRowsSource');
      const tgt = sample('ExtraRowsTarget');
      const mis = sample('MismatchedRows');
      if (src.length) report.ExtraRowsSourceSample = src.map((d) => ({ Row: rowObject(d.columns, d.source as Json[], keep(d.pkColumns), truncateAt) }));
      if (tgt.length) report.ExtraRowsTargetSample = tgt.map((d) => ({ Row: rowObject(d.columns, d.target as Json[], keep(d.pkColumns), truncateAt) }));
      if (mis.length) {
        report.MismatchedRowsSample = mis.map((d) => ({
          Source: { Row: rowObject(d.columns, d.source as Json[], keep(d.pkColumns), truncateAt) },
          Target: { Row: rowObject(d.columns, d.target as Json[], keep(d.pkColumns), truncateAt) },
        }));
      }
      (reports[t.table] ??= {})[p.shard] = report;
    }
  }
  const startedAt = parts.map((p) => p.startedAt).filter((x): x is number => x !== null);
  const completedAt = parts.map((p) => p.completedAt).filter((x): x is number => x !== null);
  const out: JsonObject = {
    Workflow: workflow,
    Keyspace: keyspace,
    State: state,
    UUID: uuid,
    RowsCompared: rowsCompared,
    HasMismatch: hasMismatch,
    Shards: parts.map((p) => p.shard).join(','),
  };
  if (startedAt.length) out.StartedAt = utc(Math.min(...startedAt));
  if (state === 'completed' && completedAt.length) out.CompletedAt = utc(Math.max(...completedAt));
  out.TableSummary = Object.fromEntries(
    [...tables.values()].map((t) => [
      t.TableName,
      {
        TableName: t.TableName,
        State: aggregateState(t.states),
        RowsCompared: t.RowsCompared,
        MatchingRows: t.MatchingRows,
        MismatchedRows: t.MismatchedRows,
        ExtraRowsSource: t.ExtraRowsSource,
        ExtraRowsTarget: t.ExtraRowsTarget,
      },
    ]),
  );
  if (verbose || hasMismatch) out.Reports = reports;
  if (Object.keys(errors).length) out.Errors = errors;
  if (state === 'started' || state === 'pending') {
    const pct = tableRows > 0 ? Math.min(100, (rowsCompared / tableRows) * 100) : 0;
    const progress: JsonObject = { Percentage: Math.round(pct * 100) / 100 };
    if (startedAt.length && rowsCompared > 0 && pct < 100) {
      const elapsed = Date.now() / 1000 - Math.min(...startedAt);
      const rate = rowsCompared / Math.max(1, elapsed);
      progress.ETA = utc(Date.now() / 1000 + (tableRows - rowsCompared) / rate);
    }
    out.Progress = progress;
  }
  return out;
}

/** The summary as vtctldclient prints it. */
export function summaryText(s: JsonObject): string {
  const lines = [`VDiff Summary for ${String(s.Keyspace)}.${String(s.Workflow)} (${String(s.UUID)})`, `State:        ${String(s.State)}`];
  const errors = (s.Errors ?? {}) as Record<string, string>;
  for (const [shard, e] of Object.entries(errors)) lines.push(`              Error: (shard ${shard}) ${e}`);
  lines.push(`RowsCompared: ${String(s.RowsCompared)}`, `HasMismatch:  ${String(s.HasMismatch)}`, `StartedAt:    ${String(s.StartedAt ?? '')}`);
  const p = s.Progress as { Percentage?: number; ETA?: string } | undefined;
  if (s.State === 'started' && p) lines.push(`Progress:     ${(p.Percentage ?? 0).toFixed(2)}%${p.ETA ? `, ETA: ${p.ETA}` : ''}`);
  if (s.CompletedAt) lines.push(`CompletedAt:  ${String(s.CompletedAt)}`);
  for (const t of Object.values((s.TableSummary ?? {}) as Record<string, Record<string, number | string>>)) {
    lines.push('', `Table ${String(t.TableName)}:`, `\tState:            ${String(t.State)}`, `\tProcessedRows:    ${String(t.RowsCompared)}`, `\tMatchingRows:     ${String(t.MatchingRows)}`);
    if (t.MismatchedRows) lines.push(`\tMismatchedRows:   ${String(t.MismatchedRows)}`);
    if (t.ExtraRowsSource) lines.push(`\tExtraRowsSource:  ${String(t.ExtraRowsSource)}`);
    if (t.ExtraRowsTarget) lines.push(`\tExtraRowsTarget:  ${String(t.ExtraRowsTarget)}`);
  }
  lines.push('', 'Use "--format=json" for more detailed output.');
  return lines.join('\n') + '\n';
}

// ---- actions ------------------------------------------------------------------------------------

async function callAll(ctx: CtldContext, targets: readonly { shard: string; tablet: Tablet }[], req: VDiffRequest): Promise<VDiffWire[]> {
  const out: VDiffWire[] = [];
  const answers = await Promise.all(targets.map((t) => ctx.tmc.vDiff(t.tablet, req, { timeoutMs: 60_000 })));
  for (const a of answers) out.push(...a.vdiffs);
  return out;
}

async function show(ctx: CtldContext, keyspace: string, workflow: string, arg: string, verbose: boolean, shards: readonly string[]): Promise<JsonObject | JsonObject[]> {
  const targets = await primaries(ctx, keyspace, shards);
  const which = arg.toLowerCase();
  if (which !== 'all' && which !== 'last') checkUuid(which);
  const parts = await callAll(ctx, targets, { action: 'show', workflow, uuid: which === 'last' ? 'all' : which, samples: 0 });
  if (which === 'all') {
    const byUuid = new Map<string, VDiffWire[]>();
    for (const p of parts) byUuid.set(p.uuid, [...(byUuid.get(p.uuid) ?? []), p]);
    return [...byUuid.values()].map((ps) => ({ UUID: ps[0].uuid, Workflow: workflow, Keyspace: keyspace, Shard: ps.map((p) => p.shard).join(','), State: aggregateState(ps.map((p) => p.state)) }));
  }
  let uuid = which;
  if (which === 'last') {
    // The newest by creation time across the shards.
    const newest = [...parts].sort((a, b) => (a.createdAt ?? 0) - (b.createdAt ?? 0)).pop();
    if (!newest) return { UUID: '', Workflow: workflow, Keyspace: keyspace, State: 'none' } as JsonObject;
    uuid = newest.uuid;
  }
  const mine = parts.filter((p) => p.uuid === uuid);
  if (mine.length === 0) throw badArg(`VDiff ${uuid} not found for workflow ${keyspace}.${workflow}`);
  // The recorded rows come with the report once the VDiff has stopped running, page by page from
  // each shard (a tablet never answers them all at once: with --max-report-sample-rows 0 they are
  // every differing row of the table).
  const running = mine.some((p) => p.state === 'started' || p.state === 'pending');
  const hasMismatch = mine.some((p) => p.tables.some((t) => t.mismatch));
  const withSamples = running || !(hasMismatch || verbose) ? mine : await Promise.all(mine.map((p) => recordedRows(ctx, targets.find((t) => t.shard === p.shard)!.tablet, workflow, p)));
  return summarize(keyspace, workflow, uuid, withSamples, verbose);
}

/** A shard's VDiff with its recorded differing rows, read a page (rowsPageMax rows) at a time. */
async function recordedRows(ctx: CtldContext, tablet: Tablet, workflow: string, p: VDiffWire): Promise<VDiffWire> {
  const samples: DiffRowWire[] = [];
  let afterId = 0;
  for (;;) {
    const page = await ctx.tmc.vDiff(tablet, { action: 'rows', workflow, uuid: p.uuid, afterId, limit: VDIFF_ENGINE_DEFAULTS.rowsPageMax }, { timeoutMs: 60_000 });
    if (page.rows.length === 0) break;
    samples.push(...page.rows);
    afterId = page.rows[page.rows.length - 1].id;
  }
  return { ...p, samples };
}

function listingText(list: JsonObject[]): string {
  if (list.length === 0) return 'No VDiffs found\n';
  const rows = [['UUID', 'Workflow', 'Keyspace', 'Shard', 'State'], ...list.map((l) => [l.UUID, l.Workflow, l.Keyspace, l.Shard, l.State].map(String))];
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(w[i])).join(' | ')).join('\n') + '\n';
}

export const VDIFF_REPAIR_DEFAULTS = {
  /** Text of one page of the repair script at most (a page ends before the statement that would pass it). */
  pageBytesMax: 1024 * 1024,
};

/**
 * The repair script, one page per call: for each differing row, the statement that makes the
 * target equal to the source. The first page (no `after`) starts with the header; `next` says where
 * the following page starts (`<shard>:<row id>`), '' after the last. Rows come from each target
 * shard's `_vt.vdiff_row` a tablet page at a time, so neither ctld nor the client ever holds more
 * than a page, however many rows differ (`tessera ctl VDiff … repair` writes page after page).
 */
async function repairPage(ctx: CtldContext, keyspace: string, workflow: string, uuid: string, after: string, bytesMax: number): Promise<{ script: string; next: string }> {
  // The shards the VDiff runs on (a Reshard's source shard is in the keyspace too).
  const all = await primaries(ctx, keyspace, []);
  const parts = await callAll(ctx, all, { action: 'show', workflow, uuid, samples: 0 });
  if (parts.length === 0) throw badArg(`VDiff ${uuid} not found for workflow ${keyspace}.${workflow}`);
  const targets = all.filter((t) => parts.some((p) => p.shard === t.shard));
  const out: string[] = [];
  let bytes = 0;
  let shardAt = 0;
  let afterId = 0;
  if (after === '') {
    out.push(...repairHeader(keyspace, workflow, uuid, parts).map((l) => l + '\n'));
    bytes = out.reduce((n, l) => n + l.length, 0);
  } else {
    const m = /^(.+):(\d+)$/.exec(after);
    shardAt = m ? targets.findIndex((t) => t.shard === m[1]) : -1;
    if (!m || shardAt < 0) throw badArg(`VDiff repair: '${after}' is not a page of this script (want <shard>:<row id>, as the previous page's next said)`);
    afterId = Number(m[2]);
  }
  for (; shardAt < targets.length; shardAt++, afterId = 0) {
    const t = targets[shardAt];
    for (;;) {
      const page = await ctx.tmc.vDiff(t.tablet, { action: 'rows', workflow, uuid, afterId, limit: VDIFF_ENGINE_DEFAULTS.rowsPageMax }, { timeoutMs: 60_000 });
      if (page.rows.length === 0) break;
      for (const d of page.rows) {
        const text = `USE \`${keyspace}:${t.shard}\`;\n${statement(d)}\n`;
        if (out.length > 0 && bytes + text.length > bytesMax) return { script: out.join(''), next: `${t.shard}:${afterId}` };
        out.push(text);
        bytes += text.length;
        afterId = d.id;
      }
    }
  }
  return { script: out.join(''), next: '' };
}

function repairHeader(keyspace: string, workflow: string, uuid: string, parts: readonly VDiffWire[]): string[] {
  const head: string[] = [
    `-- Repair script for VDiff ${uuid} of ${keyspace}.${workflow}, written ${utc(Date.now() / 1000)} UTC.`,
    '-- Each statement makes one target row equal to the source row as of the point the VDiff compared at:',
  ];
  let differing = 0;
  let limited = false;
  for (const p of parts) {
    const pos = new Map<string, string>();
    for (const t of p.tables) for (const [s, g] of Object.entries(t.positions)) pos.set(s, g);
    head.push(`--   target shard ${p.shard}: source positions ${[...pos].map(([s, g]) => `${s} at ${g}`).join(', ') || '(none compared yet)'}; VDiff state ${p.state}`);
    // Each table records at most --max-report-sample-rows rows of each kind (0: every one).
    const max = (JSON.parse(p.options) as VDiffOptions).report_options.max_sample_rows;
    for (const t of p.tables) {
      const kinds = [t.mismatchedRows, t.extraRowsSource, t.extraRowsTarget];
      differing += kinds.reduce((a, b) => a + b, 0);
      if (max > 0 && kinds.some((n) => n > max)) limited = true;
    }
  }
  head.push(
    '-- WARNING: writes made after that point (on the source, replicated since, or on the target) may have',
    '-- changed the same rows; run VDiff again before and after applying this script.',
    `-- Apply it through the gate: mariadb -h <gate host> -P <gate port> < this-file`,
  );
  if (limited) head.push('-- INCOMPLETE: this VDiff recorded only --max-report-sample-rows rows of each kind per table; create one with --max-report-sample-rows 0 to repair every row.');
  if (differing === 0) head.push('-- No differing rows were recorded: nothing to repair.');
  return head;
}

function statement(d: DiffRowWire): string {
  const table = quoteIdent(d.table);
  if (d.kind === 'ExtraRowsTarget') {
    const where = d.pkColumns.map((c, i) => `${quoteIdent(c)} = ${sqlLiteral(loadValue(d.pk[i]))}`).join(' AND ');
    return `DELETE FROM ${table} WHERE ${where};`;
  }
  const values = (d.source ?? []).map((v) => sqlLiteral(loadValue(v)));
  return `REPLACE INTO ${table} (${d.columns.map(quoteIdent).join(', ')}) VALUES (${values.join(', ')});`;
}

export async function vdiff(ctx: CtldContext, req: JsonObject): Promise<Json> {
  const action = optString(req, 'action', '').toLowerCase();
  if (!(ACTIONS as readonly string[]).includes(action)) {
    throw badArg(`VDiff: ${action === '' ? 'no action given' : `unknown action '${action}'`}; usage: VDiff --workflow W --target-keyspace K create|show|stop|resume|delete|repair [uuid|last|all] [flags]`);
  }
  const workflow = reqString(req, 'workflow');
  const keyspace = reqString(req, 'target_keyspace');
  const format = optString(req, 'format', 'text').toLowerCase();
  if (format !== 'text' && format !== 'json') throw badArg(`--format must be text or json, not '${format}'`);
  const arg = optString(req, 'uuid', '');
  const shards = optStringList(req, 'target_shards');
  const text = (json: Json, t: string): Json => (format === 'json' ? json : { text: t });
  if (action === 'create') {
    const uuid = arg === '' ? randomUUID() : checkUuid(arg);
    const found = await requireWorkflow(ctx.topo, workflowCalls(ctx), keyspace, workflow);
    const options = createOptions(req);
    // A UUID used before on any shard of the keyspace is refused before anything is made.
    const targets = await primaries(ctx, keyspace, []);
    const existing = await callAll(ctx, targets, { action: 'show', uuid, samples: 0 });
    if (existing.length) throw new TesseraError(ER.DUP_ENTRY, `VDiff with UUID ${uuid} already exists (shard ${existing.map((e) => e.shard).join(',')}); pick another UUID or leave it out`);
    if (boolDefault(req, 'dry_run', false)) {
      const lines = found.map((f) => `would create VDiff ${uuid} on ${keyspace}/${f.shard} (${tabletAliasString(f.tablet.alias)}), comparing ${options.core_options.tables || 'every table of the workflow'} with the source at a snapshot`);
      const summary = `dry run of VDiff create for ${keyspace}.${workflow}: nothing was created`;
      return text({ summary, dry_run_results: lines, options: options as unknown as Json }, `${summary}\n${lines.map((l) => `  ${l}\n`).join('')}`);
    }
    const made: string[] = [];
    try {
      for (const f of found) {
        await ctx.tmc.vDiff(f.tablet, { action: 'create', workflow, keyspace, uuid, options: JSON.stringify(options) }, { timeoutMs: 60_000 });
        made.push(f.shard);
      }
    } catch (err) {
      // All shards or none: a VDiff made on some shards only is deleted again.
      for (const f of found.filter((x) => made.includes(x.shard))) await ctx.tmc.vDiff(f.tablet, { action: 'delete', workflow, uuid }).catch(() => undefined);
      throw err;
    }
    return text({ UUID: uuid }, `VDiff ${uuid} scheduled on target shards, use show to view progress\n`);
  }
  if (action === 'show') {
    if (arg === '') throw badArg('VDiff show: give last, all or a UUID');
    const verbose = boolDefault(req, 'verbose', false);
    const r = await show(ctx, keyspace, workflow, arg, verbose, shards);
    if (Array.isArray(r)) return text(r, listingText(r));
    if (r.State === 'none') return text({}, `No VDiff found for ${keyspace}.${workflow}\n`);
    return text(r, summaryText(r));
  }
  if (action === 'repair') {
    // A page of the script and where the next starts, in either format: the client asks for pages
    // until next is '' (tessera ctl does), so no answer holds the whole script.
    const bytesMax = Math.max(1, optInt(req, 'page_bytes', VDIFF_REPAIR_DEFAULTS.pageBytesMax));
    return repairPage(ctx, keyspace, workflow, checkUuid(arg), optString(req, 'after', ''), bytesMax);
  }
  if (action === 'delete') {
    if (arg === '') throw badArg('VDiff delete: give all or a UUID');
    const uuid = arg.toLowerCase() === 'all' ? 'all' : checkUuid(arg);
    const targets = await primaries(ctx, keyspace, shards);
    await Promise.all(targets.map((t) => ctx.tmc.vDiff(t.tablet, { action: 'delete', workflow, uuid })));
    return text({ Status: 'completed' }, `VDiff ${uuid === 'all' ? 'all' : uuid} deleted\n`);
  }
  // stop, resume
  const uuid = checkUuid(arg);
  const targets = await primaries(ctx, keyspace, shards);
  const present = (await callAll(ctx, targets, { action: 'show', workflow, uuid, samples: 0 })).map((p) => p.shard);
  if (present.length === 0) throw badArg(`VDiff ${uuid} not found for workflow ${keyspace}.${workflow}`);
  await Promise.all(targets.filter((t) => present.includes(t.shard)).map((t) => ctx.tmc.vDiff(t.tablet, { action: action as 'stop' | 'resume', workflow, uuid }, { timeoutMs: 60_000 })));
  const done = action === 'stop' ? 'stopped' : 'resumed';
  return text({ UUID: uuid, Action: action, Status: 'completed', Shards: present.join(',') }, `VDiff ${uuid} ${done} on target shards${action === 'resume' ? ', use show to view progress' : ''}\n`);
}

export const VDIFF_COMMANDS: CommandTable = {
  VDiff: {
    readOnly: false,
    summary: 'VDiff --workflow W --target-keyspace K create|show|stop|resume|delete|repair [uuid|last|all]: compare a workflow\'s source and target',
    run: vdiff,
  },
};
