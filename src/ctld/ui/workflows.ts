// Read-only commands behind the web UI's workflow pages. They add no workflow logic: each part of
// the answer is what a ctl command returns (GetWorkflows, MoveTables/Reshard/Workflow status,
// VDiff show, Get*RoutingRules), called through the same command table, plus the switches this
// ctld ran (switch-history.ts).
import type { Json, JsonObject } from '../../topo/index.js';
import { optInt, reqString, type CommandTable, type CtldContext } from '../command.js';
import { switchHistory } from '../switch-history.js';
import { VDIFF_COMMANDS } from '../vdiff-commands.js';
import { WORKFLOW_COMMANDS } from '../workflow-commands.js';
import type { WorkflowDetail, WorkflowsOverview, WorkflowSummary } from './types.js';

export const WORKFLOW_PAGE_DEFAULTS = {
  /** VDiffs a workflow page shows with their reports (the newest). */
  vdiffsShown: 5,
};

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

type ShowJson = { workflows: NonNullable<WorkflowDetail['show']>[] };

async function getWorkflows(ctx: CtldContext, keyspace: string, workflow: string, includeLogs: boolean): Promise<ShowJson> {
  return (await WORKFLOW_COMMANDS.GetWorkflows.run(ctx, { keyspace, workflow, include_logs: includeLogs })) as unknown as ShowJson;
}

function summary(w: ShowJson['workflows'][number]): WorkflowSummary {
  const states: Record<string, number> = {};
  let lag = 0;
  let error = '';
  for (const ss of Object.values(w.shard_streams)) {
    for (const s of ss.streams) {
      states[s.state] = (states[s.state] ?? 0) + 1;
      if (s.replication_lag_seconds !== null) lag = Math.max(lag, s.replication_lag_seconds);
      if (error === '' && s.state === 'Error') error = s.message;
    }
  }
  return { name: w.name, type: w.workflow_type, source_keyspace: w.source.keyspace, source_shards: w.source.shards, target_shards: w.target.shards, states, max_lag_seconds: lag, error };
}

export async function workflowsOverview(ctx: CtldContext): Promise<WorkflowsOverview> {
  const keyspaces: WorkflowsOverview['keyspaces'] = [];
  for (const name of await ctx.topo.getKeyspaceNames()) {
    try {
      const found = await getWorkflows(ctx, name, '', false);
      keyspaces.push({ name, workflows: found.workflows.map(summary), error: null });
    } catch (err) {
      keyspaces.push({ name, workflows: [], error: message(err) });
    }
  }
  return { at: new Date().toISOString(), keyspaces };
}

type StatusJson = NonNullable<WorkflowDetail['status']>;

async function moveTablesStatus(ctx: CtldContext, keyspace: string, workflow: string): Promise<StatusJson> {
  return (await WORKFLOW_COMMANDS.MoveTables.run(ctx, { action: 'status', workflow, target_keyspace: keyspace, format: 'json' })) as unknown as StatusJson;
}

/**
 * The status a user would ask for: MoveTables status for a MoveTables (it reads the traffic state
 * from the routing rules), Workflow status otherwise (a Reshard's from the serving graph). A
 * MoveTables' reverse workflow shows its forward workflow's traffic state, named as such; a
 * Materialize moves no traffic and shows none.
 */
async function status(ctx: CtldContext, keyspace: string, workflow: string, w: NonNullable<WorkflowDetail['show']>): Promise<StatusJson> {
  const type = w.workflow_type;
  if (type === 'MoveTables' && !workflow.endsWith('_reverse')) return moveTablesStatus(ctx, keyspace, workflow);
  const st = (await WORKFLOW_COMMANDS.Workflow.run(ctx, { action: 'status', keyspace, workflow, format: 'json' })) as unknown as StatusJson;
  if (type === 'MoveTables') {
    const forward = workflow.slice(0, -'_reverse'.length);
    try {
      st.traffic_state = `${(await moveTablesStatus(ctx, w.source.keyspace, forward)).traffic_state} (of ${w.source.keyspace}.${forward})`;
    } catch (err) {
      st.traffic_state = `unknown: ${message(err)}`;
    }
  } else if (type !== 'Reshard') {
    st.traffic_state = '';
  }
  return st;
}

async function vdiffs(ctx: CtldContext, keyspace: string, workflow: string, max: number): Promise<Json[]> {
  const base = { workflow, target_keyspace: keyspace, format: 'json' };
  const list = (await VDIFF_COMMANDS.VDiff.run(ctx, { ...base, action: 'show', uuid: 'all' })) as JsonObject[];
  const out: Json[] = [];
  for (const v of [...list].reverse().slice(0, max)) {
    try {
      out.push(await VDIFF_COMMANDS.VDiff.run(ctx, { ...base, action: 'show', uuid: String(v.UUID), verbose: true }));
    } catch (err) {
      out.push({ UUID: v.UUID, State: v.State, Error: message(err) });
    }
  }
  // Newest first by start time; one not started yet first of all.
  return out.sort((a, b) => String((b as JsonObject).StartedAt ?? '9') .localeCompare(String((a as JsonObject).StartedAt ?? '9')));
}

function actions(keyspace: string, workflow: string, type: string): WorkflowDetail['actions'] {
  const kw = { keyspace, workflow };
  const out: WorkflowDetail['actions'] = [
    { name: 'stop', label: 'Stop', command: 'Workflow', request: { action: 'stop', ...kw }, cli: `Workflow --keyspace ${keyspace} --workflow ${workflow} stop` },
    { name: 'start', label: 'Start', command: 'Workflow', request: { action: 'start', ...kw }, cli: `Workflow --keyspace ${keyspace} --workflow ${workflow} start` },
  ];
  // Switches run on the forward workflow (a reverse one is steered through it).
  if ((type === 'MoveTables' || type === 'Reshard') && !workflow.endsWith('_reverse')) {
    const t = { workflow, target_keyspace: keyspace };
    out.push(
      { name: 'switch', label: 'Switch traffic', command: type, request: { action: 'switchtraffic', ...t }, cli: `${type} --workflow ${workflow} --target-keyspace ${keyspace} switchtraffic` },
      { name: 'reverse', label: 'Reverse traffic', command: type, request: { action: 'reversetraffic', ...t }, cli: `${type} --workflow ${workflow} --target-keyspace ${keyspace} reversetraffic` },
    );
  }
  out.push({ name: 'vdiff', label: 'VDiff', command: 'VDiff', request: { action: 'create', workflow, target_keyspace: keyspace }, cli: `VDiff --workflow ${workflow} --target-keyspace ${keyspace} create` });
  return out;
}

export async function workflowDetail(ctx: CtldContext, keyspace: string, workflow: string, vdiffsShown: number): Promise<WorkflowDetail> {
  // Every workflow of the keyspace, so that one that does not exist (yet, or any more) is a page
  // saying so rather than an error.
  const found = await getWorkflows(ctx, keyspace, '', true);
  const show = found.workflows.find((w) => w.name === workflow) ?? null;
  let st: WorkflowDetail['status'] = null;
  let statusError: string | null = null;
  if (show) {
    try {
      st = await status(ctx, keyspace, workflow, show);
    } catch (err) {
      statusError = message(err);
    }
  }
  let vd: Json[] = [];
  let vdiffError: string | null = null;
  try {
    vd = await vdiffs(ctx, keyspace, workflow, vdiffsShown);
  } catch (err) {
    vdiffError = message(err);
  }
  return {
    at: new Date().toISOString(),
    keyspace,
    workflow,
    show,
    status: st,
    status_error: statusError,
    routing_rules: await ctx.topo.getRoutingRules(),
    shard_routing_rules: await ctx.topo.getShardRoutingRules(),
    switches: await switchHistory(ctx, keyspace, workflow).catch(() => []),
    vdiffs: vd,
    vdiff_error: vdiffError,
    actions: show ? actions(keyspace, workflow, show.workflow_type) : [],
  };
}

export const UI_WORKFLOW_COMMANDS: CommandTable = {
  GetWorkflowsOverview: {
    readOnly: true,
    summary: 'GetWorkflowsOverview: the workflows of every keyspace, with their streams\' states (the web UI\'s workflow list)',
    async run(ctx) {
      return (await workflowsOverview(ctx)) as unknown as Json;
    },
  },
  GetWorkflowDetail: {
    readOnly: true,
    summary: 'GetWorkflowDetail [--vdiffs n] <keyspace> <workflow>: streams with logs, copy progress, traffic state, rules, switch history and VDiffs of one workflow (the web UI\'s workflow page)',
    async run(ctx, req) {
      return (await workflowDetail(ctx, reqString(req, 'keyspace'), reqString(req, 'workflow'), optInt(req, 'vdiffs', WORKFLOW_PAGE_DEFAULTS.vdiffsShown))) as unknown as Json;
    },
  },
};
