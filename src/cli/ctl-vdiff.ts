// `tessera ctl VDiff`: vtctldclient's `VDiff --workflow W --target-keyspace K create|show|stop|
// resume|delete [uuid]`, our `repair <uuid> [--output file]`, and the seeds' `VDiff
// <keyspace>.<workflow>` (create, wait, print the summary). Waiting polls ctld with short `show`
// requests, so no wait is cut by ctl's request timeout.
import { randomUUID } from 'node:crypto';
import { appendFileSync, writeFileSync } from 'node:fs';
import { ER, TesseraError } from '../mysql/errors.js';
import type { CtldClient } from '../ctld/index.js';
import { topoError, type Json, type JsonObject } from '../topo/index.js';
import { isTrue, list, pick, printWorkflowResult, str, type CtlCommandSpec, type Opts } from './ctl-spec.js';

export const CTL_VDIFF_DEFAULTS = {
  /** --wait-update-interval when not given. */
  waitUpdateIntervalMs: 60_000,
  /** How often the wait asks for the VDiff's state (progress is printed every update interval). */
  pollMs: 1_000,
};

function ms(v: string | undefined, flag: string, dflt: number): number {
  if (v === undefined) return dflt;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  if (!m) throw topoError('BAD_ARGUMENT', `--${flag} wants a duration such as 30s, 10m or 1h, got '${v}'`);
  return Math.round(Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : m[2] === 'h' ? 3_600_000 : 1000));
}

/** The keyspace and workflow, from `keyspace.workflow` or the flags. */
function target(first: string | undefined, o: Opts): { keyspace: string | undefined; workflow: string | undefined; seedForm: boolean } {
  if (first !== undefined && first.includes('.')) {
    const dot = first.indexOf('.');
    return { keyspace: first.slice(0, dot), workflow: first.slice(dot + 1), seedForm: true };
  }
  return { keyspace: str(o, 'targetKeyspace'), workflow: str(o, 'workflow'), seedForm: false };
}

/** Until the VDiff ends, progress on stderr every update interval; then its summary on stdout. */
async function waitAndPrint(client: CtldClient, keyspace: string, workflow: string, uuid: string, o: Opts): Promise<void> {
  const every = ms(str(o, 'waitUpdateInterval'), 'wait-update-interval', CTL_VDIFF_DEFAULTS.waitUpdateIntervalMs);
  let lastPrint = Date.now();
  for (;;) {
    const s = (await client.call('VDiff', { action: 'show', workflow, target_keyspace: keyspace, uuid, format: 'json' })) as JsonObject;
    const state = String(s.State);
    if (state === 'completed' || state === 'error' || state === 'stopped') break;
    if (Date.now() - lastPrint >= every) {
      const p = (s.Progress ?? {}) as { Percentage?: number; ETA?: string };
      process.stderr.write(`VDiff ${uuid}: ${state}, ${String(s.RowsCompared)} rows compared${p.Percentage !== undefined ? `, ${p.Percentage.toFixed(2)}%` : ''}${p.ETA ? `, ETA ${p.ETA}` : ''}\n`);
      lastPrint = Date.now();
    }
    await new Promise((r) => setTimeout(r, CTL_VDIFF_DEFAULTS.pollMs));
  }
  const format = str(o, 'format') ?? 'text';
  const r = await client.call('VDiff', { action: 'show', workflow, target_keyspace: keyspace, uuid, format, verbose: isTrue(o.verbose) });
  process.stdout.write(printWorkflowResult(r));
  const s = format === 'json' ? (r as JsonObject) : ((await client.call('VDiff', { action: 'show', workflow, target_keyspace: keyspace, uuid, format: 'json' })) as JsonObject);
  if (s.State === 'error') throw new TesseraError(ER.UNKNOWN_ERROR, `VDiff ${uuid} ended in error: ${JSON.stringify(s.Errors ?? {})}`);
}

/**
 * The pages of a repair script after the first, each written out as it comes (to --output or
 * stdout), so the script never sits whole in memory, whatever its size.
 */
async function repairPages(client: CtldClient, o: Opts): Promise<void> {
  const out = str(o, 'output');
  let next = String(o.__next);
  while (next !== '') {
    const page = (await client.call('VDiff', { action: 'repair', workflow: String(o.__workflow), target_keyspace: String(o.__keyspace), uuid: String(o.__uuid), after: next })) as { script: string; next: string };
    if (out === undefined) {
      if (!process.stdout.write(page.script)) await new Promise((r) => process.stdout.once('drain', r));
    } else appendFileSync(out, page.script);
    next = page.next;
  }
  if (out !== undefined) process.stdout.write(`Repair script written to ${out}\n`);
}

export const VDIFF_CTL_COMMANDS: CtlCommandSpec[] = [
  {
    name: 'VDiff',
    summary:
      "compare a workflow's source and target: VDiff --workflow W --target-keyspace K create|show|stop|resume|delete|repair [uuid|last|all], or the seeds' VDiff <keyspace>.<workflow> (create, wait, print the summary)",
    args: ['[action-or-keyspace.workflow]', '[uuid]'],
    options: [
      ['--workflow <name>', 'the workflow to compare'],
      ['--target-keyspace <keyspace>', 'its target keyspace'],
      ['--tables <tables>', 'create: only these tables (default: every table of the workflow)'],
      ['--limit <rows>', 'create: compare at most this many rows per table (default: all)'],
      ['--tablet-types <types>', 'create: source tablet types to read from, in order (default primary,replica)'],
      ['--source-cells <cells>', 'create: cells to pick source tablets in'],
      ['--target-cells <cells>', 'create: accepted for vtctldclient; the target side is always its primary'],
      ['--filtered-replication-wait-time <duration>', 'create: how long a target stream may take to reach the source snapshot (30s)'],
      ['--max-report-sample-rows <n>', 'create: differing rows recorded per table and kind (10; 0 = every one)'],
      ['--only-pks [bool]', 'create: report only the key columns of differing rows'],
      ['--row-diff-column-truncate-at <n>', 'create: cut reported values at this many characters (128; 0 = never)'],
      ['--debug-query [bool]', 'create: accepted for vtctldclient'],
      ['--auto-retry [bool]', 'create: start again after errors a retry can fix (default true)'],
      ['--max-diff-duration <duration>', 'create: take a new snapshot after this long, from the last compared key (default: never)'],
      ['--update-table-stats [bool]', 'create: accepted for vtctldclient'],
      ['--auto-start [bool]', 'create: start at once (default true); otherwise it stays pending until resume'],
      ['--chunk-checksum [bool]', 'create: compare ranges of keys by a checksum computed in MariaDB first, read rows only where they differ (default true; false streams every row)'],
      ['--wait [bool]', 'create: wait until the VDiff ends and print its summary'],
      ['--wait-update-interval <duration>', 'create --wait: print progress this often (1m)'],
      ['--target-shards <shards>', 'show, stop, resume, delete: only these target shards'],
      ['--verbose [bool]', 'show: the per-shard reports even without a mismatch'],
      ['--output <file>', 'repair: write the script to this file instead of stdout'],
      ['--dry-run', 'create: print the shards it would run on, create nothing'],
      ['--format <format>', 'text (default) or json'],
    ],
    request: ([first, second], o) => {
      const t = target(first, o);
      if (!t.keyspace || !t.workflow) throw topoError('BAD_ARGUMENT', 'VDiff needs --workflow and --target-keyspace (or <keyspace>.<workflow>)');
      const action = t.seedForm ? 'create' : (first ?? '');
      let uuid = t.seedForm ? undefined : second;
      if (action.toLowerCase() === 'create' && uuid === undefined) {
        // Made here so that --wait and the seeds' form can follow the VDiff they created.
        uuid = randomUUID();
      }
      o.__uuid = uuid;
      o.__seedForm = t.seedForm;
      o.__keyspace = t.keyspace;
      o.__workflow = t.workflow;
      return {
        action,
        workflow: t.workflow,
        target_keyspace: t.keyspace,
        ...(uuid !== undefined ? { uuid } : {}),
        ...pick(o, {
          limit: 'limit',
          filteredReplicationWaitTime: 'filtered_replication_wait_time',
          maxReportSampleRows: 'max_report_sample_rows',
          onlyPks: 'only_pks',
          rowDiffColumnTruncateAt: 'row_diff_column_truncate_at',
          debugQuery: 'debug_query',
          autoRetry: 'auto_retry',
          maxDiffDuration: 'max_diff_duration',
          updateTableStats: 'update_table_stats',
          autoStart: 'auto_start',
          chunkChecksum: 'chunk_checksum',
          verbose: 'verbose',
          format: 'format',
          dryRun: 'dry_run',
        }),
        tables: list(o, 'tables'),
        tablet_types: list(o, 'tabletTypes'),
        source_cells: list(o, 'sourceCells'),
        target_cells: list(o, 'targetCells'),
        target_shards: list(o, 'targetShards'),
      };
    },
    print: (result: Json, o: Opts) => {
      if (o.__seedForm === true) return '';
      if (result && typeof result === 'object' && !Array.isArray(result) && typeof result.script === 'string') {
        // repair: its first page; after() fetches the rest.
        o.__next = typeof result.next === 'string' ? result.next : '';
        const out = str(o, 'output');
        if (out === undefined) return result.script;
        writeFileSync(out, result.script);
        return '';
      }
      return printWorkflowResult(result);
    },
    after: async (client, _args, o) => {
      if (typeof o.__next === 'string') {
        await repairPages(client, o);
        return;
      }
      const uuid = o.__uuid;
      if (typeof uuid !== 'string') return;
      if (o.__seedForm !== true && !isTrue(o.wait)) return;
      await waitAndPrint(client, String(o.__keyspace), String(o.__workflow), uuid, o);
    },
  },
];
