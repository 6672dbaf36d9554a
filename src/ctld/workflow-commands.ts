// The admin API's VReplication commands: Materialize, Workflow and GetWorkflows, with
// vtctldclient's actions and flags. The work is in src/workflow; this file turns requests into
// calls and results into vtctldclient's JSON.
import { ER, TesseraError } from '../mysql/errors.js';
import { parseKeyspaceShard, tabletAliasString, topoError, type Json, type JsonObject, type Tablet } from '../topo/index.js';
import {
  MOVETABLES_DEFAULTS,
  cancelMoveTables,
  completeMoveTables,
  createStreams,
  moveTablesCreate,
  moveTablesInfo,
  reverseWorkflowName,
  switchTraffic,
  trafficState,
  deleteWorkflow,
  gatherStreams,
  parseConfigOverrides,
  parseOnDdl,
  parseTableSettings,
  requireWorkflow,
  statusText,
  updateWorkflow,
  workflowsJson,
  workflowStatus,
  type WorkflowTabletCalls,
  lookupVindexCancel,
  lookupVindexCreate,
  lookupVindexExternalize,
  lookupVindexShow,
} from '../workflow/index.js';
import { describeSwitchFor, recoverAllSwitches, recoverSwitchFor } from '../workflow/switch-writes.js';
import { parseAutoIncrementHandling } from '../workflow/sequences.js';
import { RESHARD_SWITCH_DEFAULTS, reshardComplete, reshardCreate, reshardSwitchTraffic, reshardTrafficState } from '../workflow/reshard.js';
import { WORKFLOW_TYPE } from '../workflow/types.js';
import { parseBinlogSource } from '../vreplication/binlog-source.js';
import { parseOverrideValue } from '../vreplication/controller.js';
import { recorded, switchHistory, type SwitchRecord } from './switch-history.js';
import { TOPO_COMMANDS } from './topo-commands.js';
import { optBool, optInt, optString, optStringList, reqString, type CommandTable, type CtldContext } from './command.js';

/** The workflow layer's tablet calls over ctld's tablet-manager client. */
export function workflowCalls(ctx: CtldContext): WorkflowTabletCalls {
  const tmc = ctx.tmc;
  return {
    getSchema: async (t: Tablet) => {
      await tmc.reloadSchema(t, {});
      return [...(await tmc.getSchema(t, {})).tables];
    },
    applySchema: async (t, sql) => {
      await tmc.applySchema(t, { sql });
    },
    executeFetchAsDba: async (t, sql) => {
      const r = await tmc.executeFetchAsDba(t, { sql });
      return { fields: r.fields, rows: r.rows };
    },
    vreplicationCreate: async (t, streams) => [...(await tmc.createVReplicationWorkflow(t, { streams })).ids],
    vreplicationRead: async (t, workflow) => [...(await tmc.readVReplicationWorkflow(t, workflow ? { workflow } : {})).streams],
    vreplicationUpdate: async (t, u) => (await tmc.updateVReplicationWorkflow(t, u)).streams,
    vreplicationDelete: async (t, workflow) => (await tmc.deleteVReplicationWorkflow(t, { workflow })).streams,
    vreplicationWaitForPos: async (t, id, position, timeoutMs) => {
      await tmc.vReplicationWaitForPos(t, { id, position, timeoutMs });
    },
    primaryPosition: async (t) => (await tmc.primaryPosition(t, {})).position,
    refreshState: async (t) => {
      await tmc.refreshState(t, {});
    },
  };
}

function boolDefault(req: JsonObject, field: string, dflt: boolean): boolean {
  const v = req[field];
  if (v === undefined || v === null || v === '') return dflt;
  return optBool(req, field);
}

function tabletTypes(req: JsonObject): string[] {
  const out: string[] = [];
  for (const t of optStringList(req, 'tablet_types')) {
    const x = t.toLowerCase().replace(/^in_order:/, '');
    const norm = x === 'master' ? 'primary' : x;
    if (!['primary', 'replica', 'rdonly'].includes(norm)) throw topoError('BAD_ARGUMENT', `--tablet-types: ${t} is not primary, replica or rdonly`);
    out.push(norm);
  }
  return out;
}

/** The create flags every VReplication workflow takes (vtctldclient's defaults). */
function createOptions(req: JsonObject) {
  return {
    cells: optStringList(req, 'cells'),
    tabletTypes: tabletTypes(req),
    onDdl: parseOnDdl(optString(req, 'on_ddl', 'IGNORE')),
    deferSecondaryKeys: boolDefault(req, 'defer_secondary_keys', true),
    autoStart: boolDefault(req, 'auto_start', true),
    stopAfterCopy: boolDefault(req, 'stop_after_copy', false),
    configOverrides: overrides(req),
  };
}

function overrides(req: JsonObject): Record<string, string> {
  return parseConfigOverrides(optStringList(req, 'config_overrides'));
}

const ACTIONS_MATERIALIZE = ['create', 'show', 'status', 'start', 'stop', 'cancel'];
const ACTIONS_RESHARD = ['create', 'show', 'status', 'start', 'stop', 'cancel', 'switchtraffic', 'reversetraffic', 'complete'];
const ACTIONS_WORKFLOW = ['list', 'show', 'status', 'start', 'stop', 'update', 'delete'];

/** Workflow start/stop/update, shared by Materialize's and Workflow's actions. */
async function steer(ctx: CtldContext, keyspace: string, workflow: string, action: string, req: JsonObject): Promise<Json> {
  const calls = workflowCalls(ctx);
  const shards = optStringList(req, 'shards');
  if ((action === 'start' || action === 'stop') && optBool(req, 'dry_run')) return steerDryRun(ctx, keyspace, workflow, action, shards);
  if (action === 'start') return (await updateWorkflow(ctx.topo, calls, keyspace, { workflow, state: 'Running' }, shards)) as Json;
  if (action === 'stop') return (await updateWorkflow(ctx.topo, calls, keyspace, { workflow, state: 'Stopped' }, shards)) as Json;
  if (action === 'update') {
    const cells = optStringList(req, 'cells');
    const types = tabletTypes(req);
    const over = overrides(req);
    const u: { workflow: string; cell?: string; tabletTypes?: string[]; options?: string } = { workflow };
    if (cells.length > 0) u.cell = cells.join(',');
    if (types.length > 0) u.tabletTypes = types;
    if (Object.keys(over).length > 0) {
      // Merged into the options each stream already has.
      const found = await requireWorkflow(ctx.topo, calls, keyspace, workflow, shards);
      let prev: { config?: Record<string, string> } = {};
      try {
        prev = JSON.parse(found[0].streams[0].options) as { config?: Record<string, string> };
      } catch {
        prev = {};
      }
      u.options = JSON.stringify({ ...prev, config: { ...(prev.config ?? {}), ...over } });
    }
    if (Object.keys(u).length === 1) throw topoError('BAD_ARGUMENT', 'Workflow update: give at least one of --cells, --tablet-types, --config-overrides');
    return (await updateWorkflow(ctx.topo, calls, keyspace, u, shards)) as Json;
  }
  throw topoError('BAD_ARGUMENT', `unknown action ${action}`);
}

/** start/stop --dry-run: the streams that would change, changing nothing. */
async function steerDryRun(ctx: CtldContext, keyspace: string, workflow: string, action: 'start' | 'stop', shards: readonly string[]): Promise<Json> {
  const found = await requireWorkflow(ctx.topo, workflowCalls(ctx), keyspace, workflow, shards);
  const want = action === 'start' ? 'Running' : 'Stopped';
  const lines: string[] = [];
  for (const f of found) {
    for (const s of f.streams) {
      const alias = tabletAliasString(f.tablet.alias);
      lines.push(s.state === want ? `stream ${s.id} on ${keyspace}/${f.shard} (${alias}) is ${s.state} already` : `would set stream ${s.id} on ${keyspace}/${f.shard} (${alias}) from ${s.state} to ${want}`);
    }
  }
  const summary = `dry run of Workflow ${action} for ${keyspace}.${workflow}: nothing was changed`;
  return { summary, dry_run_results: lines };
}

/** A Reshard switch's result as a switch-history record. */
function reshardRecord(r: { steps: string[]; startState: string; state: string; writePauseMs?: number }): Pick<SwitchRecord, 'start_state' | 'state' | 'write_pause_ms' | 'steps'> {
  return { start_state: r.startState, state: r.state, write_pause_ms: r.writePauseMs ?? null, steps: r.steps };
}

async function show(ctx: CtldContext, keyspace: string, workflow: string | undefined, req: JsonObject): Promise<Json> {
  const found = workflow ? await requireWorkflow(ctx.topo, workflowCalls(ctx), keyspace, workflow, optStringList(req, 'shards')) : await gatherStreams(ctx.topo, workflowCalls(ctx), keyspace, undefined, optStringList(req, 'shards'));
  const out = workflowsJson(keyspace, found) as { workflows: Record<string, unknown>[] };
  // A write switch in progress (or interrupted) is named with what will happen to it. Its record
  // sits with the workflow the user named: for a `_reverse` one, with its forward workflow.
  for (const w of out.workflows) {
    const sw = await describeSwitchFor(ctx.topo, keyspace, String(w.name));
    if (sw) w.switch_in_progress = sw.json;
    // The switches of the workflow, newest first, with their write pauses (kept in topo).
    const history = await switchHistory(ctx, keyspace, String(w.name)).catch(() => []);
    if (history.length > 0) w.switch_history = history as unknown as Json;
  }
  return out as unknown as Json;
}

/**
 * Settles every interrupted write switch in topo when ctld starts, in the background; a switch
 * whose lock is still held (a ctld that died holds an etcd lease until it runs out, or another
 * ctld still runs it) is tried again until none is left. Stops with `signal`.
 */
export function startSwitchRecovery(ctx: CtldContext, signal: AbortSignal, retryMs = 2_000): void {
  const calls = workflowCalls(ctx);
  const round = async (): Promise<void> => {
    if (signal.aborted) return;
    let pending = 0;
    try {
      const res = await recoverAllSwitches(ctx.topo, calls);
      pending = res.filter((r) => r.outcome === 'running').length;
    } catch {
      pending = 1; // topology unreachable: try again
    }
    if (pending > 0 && !signal.aborted) setTimeout(() => void round(), retryMs).unref();
  };
  void round();
}

async function status(ctx: CtldContext, keyspace: string, workflow: string, req: JsonObject): Promise<Json> {
  const calls = workflowCalls(ctx);
  const found = await requireWorkflow(ctx.topo, calls, keyspace, workflow, optStringList(req, 'shards'));
  const st = await workflowStatus(calls, ctx.topo, keyspace, workflow, found);
  const reshard = found.filter((f) => f.streams.some((s) => s.workflowType === WORKFLOW_TYPE.Reshard && s.workflow === workflow));
  if (reshard.length > 0) {
    const sources = [...new Set(reshard.flatMap((f) => f.streams.map((s) => parseBinlogSource(s.source).shard)))];
    st.traffic_state = await reshardTrafficState(ctx.topo, keyspace, sources, reshard.map((f) => f.shard));
  }
  const sw = await describeSwitchFor(ctx.topo, keyspace, workflow);
  if (sw) st.switch_in_progress = sw.json as Json;
  if (optString(req, 'format', 'text') === 'json') return st as Json;
  const traffic = st.traffic_state === undefined ? '' : `Traffic State: ${String(st.traffic_state)}\n`;
  return { text: `${statusText(keyspace, workflow, st)}${reshard.length > 0 ? `\n${traffic}` : ''}${sw ? `Switch in progress: ${sw.text}\n` : ''}` };
}

const ACTIONS_MOVETABLES = ['create', 'show', 'status', 'start', 'stop', 'switchtraffic', 'reversetraffic', 'complete', 'cancel'];
/** The seeds' (vtctlclient) action names. */
const MOVETABLES_OLD_ACTIONS: Record<string, string> = { progress: 'status', switchreads: 'switchtraffic', switchwrites: 'switchtraffic', dropsources: 'complete' };

/** Traffic types of switchtraffic/reversetraffic: primary, replica, rdonly (`master` accepted). */
function trafficTypes(req: JsonObject): string[] {
  return optStringList(req, 'tablet_types').map((t) => {
    const x = t.toLowerCase();
    const norm = x === 'master' ? 'primary' : x;
    if (!['primary', 'replica', 'rdonly'].includes(norm)) throw topoError('BAD_ARGUMENT', `--tablet-types: ${t} is not primary, replica or rdonly`);
    return norm;
  });
}

function textOrJson(req: JsonObject, json: Json, text: string): Json {
  return optString(req, 'format', 'text') === 'json' ? json : { text };
}

async function moveTables(ctx: CtldContext, req: JsonObject): Promise<Json> {
  const raw = reqString(req, 'action').toLowerCase();
  const action = MOVETABLES_OLD_ACTIONS[raw] ?? raw;
  if (!ACTIONS_MOVETABLES.includes(action)) throw topoError('BAD_ARGUMENT', `MoveTables: unknown action ${raw}; one of ${ACTIONS_MOVETABLES.join(', ')}`);
  const workflow = reqString(req, 'workflow');
  const keyspace = reqString(req, 'target_keyspace');
  const calls = workflowCalls(ctx);
  if (action === 'create') {
    const r = await moveTablesCreate(ctx.topo, calls, {
      workflow,
      targetKeyspace: keyspace,
      sourceKeyspace: reqString(req, 'source_keyspace'),
      tables: optStringList(req, 'tables'),
      allTables: optBool(req, 'all_tables'),
      excludeTables: optStringList(req, 'exclude_tables'),
      sourceShards: optStringList(req, 'source_shards'),
      ...createOptions(req),
      noRoutingRules: optBool(req, 'no_routing_rules'),
      atomicCopy: optBool(req, 'atomic_copy'),
      shardedAutoIncrementHandling: parseAutoIncrementHandling(optString(req, 'sharded_auto_increment_handling', '')),
      globalKeyspace: optString(req, 'global_keyspace', ''),
    });
    const found = await requireWorkflow(ctx.topo, calls, keyspace, workflow);
    const st = await workflowStatus(calls, ctx.topo, keyspace, workflow, found);
    const warned = (r.warnings ?? []).map((w) => `Warning: ${w}\n`).join('');
    return textOrJson(req, { ...r, status: st } as unknown as Json, `${warned}${r.summary}\n\n${statusText(keyspace, workflow, st)}`);
  }
  if (action === 'show') return show(ctx, keyspace, workflow, req);
  // A write switch of this workflow interrupted (its command failed, or its ctld died) is settled
  // before anything else is done to the workflow: rolled back before the journal, finished after.
  // For a `_reverse` workflow that is its forward workflow's switch.
  const recovered = action === 'status' ? null : await recoverSwitchFor(ctx.topo, calls, keyspace, workflow);
  const info = await moveTablesInfo(ctx.topo, calls, keyspace, workflow);
  if (action === 'status') {
    const st = await workflowStatus(calls, ctx.topo, keyspace, workflow, info.streams);
    st.traffic_state = (await trafficState(ctx.topo, info)).text;
    const sw = await describeSwitchFor(ctx.topo, keyspace, workflow);
    if (sw) st.switch_in_progress = sw.json as Json;
    return textOrJson(req, st as Json, `${statusText(keyspace, workflow, st)}\nTraffic State: ${String(st.traffic_state)}\n${sw ? `Switch in progress: ${sw.text}\n` : ''}`);
  }
  const verb = action === 'switchtraffic' ? 'SwitchTraffic' : action === 'reversetraffic' ? 'ReverseTraffic' : '';
  if (recovered && recovered.outcome === 'forward' && recovered.action === verb && !optBool(req, 'dry_run')) {
    // The rerun of a switch that failed after its point of no return: finishing it was the rerun's work.
    const current = (await trafficState(ctx.topo, info)).text;
    const r = { summary: `${verb} was successful for workflow ${keyspace}.${workflow} (an interrupted switch at step ${recovered.step} was ${recovered.detail})`, start_state: current, current_state: current, write_pause_ms: null, steps: [], recovered: recovered as unknown as Json };
    return textOrJson(req, r as unknown as Json, `${r.summary}\n\nStart State: ${current}\nCurrent State: ${current}\n`);
  }
  if (action === 'start' || action === 'stop') {
    if (info.frozen) throw topoError('FAILED_PRECONDITION', `workflow ${keyspace}.${workflow} is frozen (its writes were switched to ${keyspace}); it cannot be ${action === 'start' ? 'started' : 'stopped'}; reversetraffic moves traffic back`);
    return steer(ctx, keyspace, workflow, action, req);
  }
  if (action === 'switchtraffic' || action === 'reversetraffic') {
    if (workflow.endsWith('_reverse')) throw topoError('BAD_ARGUMENT', `${workflow} is a reverse workflow; run ${action} on ${reverseWorkflowName(workflow)} in keyspace ${info.sourceKeyspace}`);
    let types = trafficTypes(req);
    if (raw === 'switchreads' && types.length === 0) types = ['replica', 'rdonly'];
    if (raw === 'switchwrites') types = ['primary'];
    // Reads move per cell (per-cell routing rule overrides folded into each cell's SrvVSchema:
    // src/workflow/read-switch.ts); writes move in every cell at once and only after every cell's
    // reads. A partial workflow moves whole shards through shard routing rules, which are global.
    const cells = optStringList(req, 'cells');
    if (cells.length > 0) {
      const all = await ctx.topo.getCellInfoNames();
      const unknown = cells.filter((c) => !all.includes(c));
      if (unknown.length > 0) throw new TesseraError(ER.WRONG_ARGUMENTS, `--cells: no cell ${unknown.join(',')} (the cells: ${all.join(',')}); nothing was switched`);
      if (info.partial && all.some((c) => !cells.includes(c))) {
        throw new TesseraError(ER.NOT_SUPPORTED_YET, `--cells ${cells.join(',')}: a partial MoveTables moves its shards through shard routing rules, which hold for every cell; give no --cells`);
      }
    }
    const timeoutMs = optInt(req, 'timeout_ms', MOVETABLES_DEFAULTS.switchTimeoutMs);
    const lagMs = optInt(req, 'max_replication_lag_allowed_ms', MOVETABLES_DEFAULTS.maxReplicationLagAllowedSeconds * 1000);
    const dryRun = optBool(req, 'dry_run');
    const r = await recorded(
      ctx,
      { keyspace, workflow, action, tabletTypes: types, dryRun },
      () =>
        switchTraffic(ctx.topo, calls, info, {
          tabletTypes: types,
          timeoutMs,
          maxReplicationLagAllowedSeconds: lagMs / 1000,
          enableReverseReplication: boolDefault(req, 'enable_reverse_replication', true),
          dryRun,
          direction: action === 'switchtraffic' ? 'forward' : 'backward',
          initializeTargetSequences: optBool(req, 'initialize_target_sequences'),
          cells,
        }),
      (x) => ({ start_state: x.start_state, state: x.current_state, write_pause_ms: x.write_pause_ms, steps: x.steps.map((st) => `${st.step}: ${st.ms} ms`) }),
    );
    const lines = [r.summary, ''];
    if (r.dry_run_results) lines.push(...r.dry_run_results.map((x) => `  ${x}`), '');
    lines.push(`Start State: ${r.start_state}`, `Current State: ${r.current_state}`);
    if (r.write_pause_ms !== null) lines.push('', `Write pause: ${r.write_pause_ms} ms`, ...r.steps.map((x) => `  ${x.step}: ${x.ms} ms`));
    for (const w of r.warnings ?? []) lines.push('', `Warning: ${w}`);
    return textOrJson(req, r as unknown as Json, `${lines.join('\n')}\n`);
  }
  // A partial workflow's reverse is cancelled as the last clean-up (it removes the rules); its
  // cancel never drops tables, so it is allowed.
  if (workflow.endsWith('_reverse') && !(action === 'cancel' && info.partial)) {
    throw topoError('BAD_ARGUMENT', `${workflow} is a reverse workflow; ${action} runs on ${reverseWorkflowName(workflow)} in keyspace ${info.sourceKeyspace} (it would otherwise drop the tables that serve)`);
  }
  if (action === 'complete') {
    const r = await completeMoveTables(ctx.topo, calls, info, {
      keepData: optBool(req, 'keep_data'),
      renameTables: optBool(req, 'rename_tables'),
      keepRoutingRules: optBool(req, 'keep_routing_rules'),
      dryRun: optBool(req, 'dry_run'),
    });
    return textOrJson(req, r as unknown as Json, `${r.summary}\n${(r.dry_run_results ?? []).map((x) => `  ${x}\n`).join('')}`);
  }
  const r = await cancelMoveTables(ctx.topo, calls, info, { keepData: optBool(req, 'keep_data'), keepRoutingRules: optBool(req, 'keep_routing_rules') });
  return textOrJson(req, r as unknown as Json, `${r.summary}\n`);
}

/** The seeds' top-level commands that became MoveTables actions; `keyspace_workflow` is `customer.commerce2customer`. */
function oldCommand(action: string): CommandTable[string] {
  return {
    readOnly: false,
    summary: `${action} <keyspace.workflow>: the seeds' spelling of MoveTables ${MOVETABLES_OLD_ACTIONS[action.toLowerCase()]}`,
    async run(ctx, req) {
      return moveTables(ctx, { ...req, action });
    },
  };
}

export const WORKFLOW_COMMANDS: CommandTable = {
  MoveTables: {
    readOnly: false,
    summary: 'MoveTables --workflow W --target-keyspace K create|show|status|start|stop|switchtraffic|reversetraffic|complete|cancel [--source-keyspace S --tables t1,t2 …]',
    run: moveTables,
  },
  SwitchReads: oldCommand('SwitchReads'),
  SwitchWrites: oldCommand('SwitchWrites'),
  DropSources: oldCommand('DropSources'),
  LookupVindex: {
    readOnly: false,
    summary: 'LookupVindex --name V --table-keyspace K create|show|externalize|cancel [--keyspace K --type T --table-owner t --table-owner-columns c1,c2 …]',
    async run(ctx, req) {
      const action = reqString(req, 'action').toLowerCase();
      const name = reqString(req, 'name');
      const keyspace = reqString(req, 'keyspace');
      switch (action) {
        case 'create':
          return lookupVindexCreate(ctx.topo, workflowCalls(ctx), {
            name,
            keyspace,
            tableKeyspace: reqString(req, 'table_keyspace'),
            type: reqString(req, 'type'),
            tableOwner: reqString(req, 'table_owner'),
            tableOwnerColumns: optStringList(req, 'table_owner_columns'),
            tableName: optString(req, 'table_name', name),
            ignoreNulls: optBool(req, 'ignore_nulls'),
          });
        case 'show':
          return lookupVindexShow(ctx.topo, workflowCalls(ctx), keyspace, name);
        case 'externalize':
          return lookupVindexExternalize(ctx.topo, workflowCalls(ctx), keyspace, name);
        case 'cancel':
          return lookupVindexCancel(ctx.topo, keyspace, name);
        default:
          throw topoError('BAD_ARGUMENT', `LookupVindex: unknown action ${action}; one of create, show, externalize, cancel`);
      }
    },
  },
  Materialize: {
    readOnly: false,
    summary: 'Materialize --workflow W --target-keyspace K create|show|status|start|stop|cancel [--source-keyspace S --table-settings JSON …]',
    async run(ctx, req) {
      const action = reqString(req, 'action').toLowerCase();
      if (!ACTIONS_MATERIALIZE.includes(action)) throw topoError('BAD_ARGUMENT', `Materialize: unknown action ${action}; one of ${ACTIONS_MATERIALIZE.join(', ')}`);
      const workflow = reqString(req, 'workflow');
      const keyspace = reqString(req, 'target_keyspace');
      if (action === 'create') {
        const r = await createStreams(ctx.topo, workflowCalls(ctx), {
          workflow,
          targetKeyspace: keyspace,
          sourceKeyspace: reqString(req, 'source_keyspace'),
          tableSettings: parseTableSettings(reqString(req, 'table_settings')),
          ...createOptions(req),
        });
        if (r.streams.length === 0) throw new TesseraError(ER.WRONG_ARGUMENTS, `no stream was created: no source shard of the source keyspace overlaps a target shard`);
        return { summary: `Materialization of workflow ${keyspace}.${workflow} created`, streams: r.streams as unknown as Json };
      }
      if (action === 'show') return show(ctx, keyspace, workflow, req);
      if (action === 'status') return status(ctx, keyspace, workflow, req);
      if (action === 'cancel') return (await deleteWorkflow(ctx.topo, workflowCalls(ctx), keyspace, workflow)) as Json;
      return steer(ctx, keyspace, workflow, action, req);
    },
  },
  Reshard: {
    readOnly: false,
    summary: 'Reshard --workflow W --target-keyspace K create|show|status|start|stop|switchtraffic|reversetraffic|complete|cancel [--source-shards 0 --target-shards -80,80- …]',
    async run(ctx, req) {
      const action = reqString(req, 'action').toLowerCase();
      const workflow = reqString(req, 'workflow');
      const keyspace = reqString(req, 'target_keyspace');
      if (!ACTIONS_RESHARD.includes(action)) throw topoError('BAD_ARGUMENT', `Reshard: unknown action ${action}; one of ${ACTIONS_RESHARD.join(', ')}`);
      // An interrupted write switch (the workflow's, or its forward workflow's for a `_reverse`
      // one) is settled before anything else is done: rolled back before the journal, finished
      // after it — a rerun of a switch that failed after its point of no return is finished here.
      const recovered = ['create', 'show', 'status'].includes(action) ? null : await recoverSwitchFor(ctx.topo, workflowCalls(ctx), keyspace, workflow);
      if (workflow.endsWith('_reverse') && ['switchtraffic', 'reversetraffic', 'complete'].includes(action)) {
        throw topoError('BAD_ARGUMENT', `${workflow} is a reverse workflow; run ${action} on ${reverseWorkflowName(workflow)} (reversetraffic moves traffic back through it)`);
      }
      if (action === 'switchtraffic' || action === 'reversetraffic') {
        const duration = (field: string, dflt: number): number => {
          const v = optString(req, field, '');
          return v === '' ? dflt : parseOverrideValue(field, v);
        };
        const tabletTypes = optStringList(req, 'tablet_types');
        const dryRun = boolDefault(req, 'dry_run', false);
        const r = await recorded(
          ctx,
          { keyspace, workflow, action, tabletTypes, dryRun },
          () =>
            reshardSwitchTraffic(ctx.topo, workflowCalls(ctx), keyspace, workflow, {
              reverse: action === 'reversetraffic',
              tabletTypes,
              cells: optStringList(req, 'cells'),
              timeoutMs: duration('timeout', RESHARD_SWITCH_DEFAULTS.timeoutMs),
              maxLagSeconds: duration('max_replication_lag_allowed', RESHARD_SWITCH_DEFAULTS.maxLagSeconds * 1000) / 1000,
              enableReverseReplication: boolDefault(req, 'enable_reverse_replication', true),
              dryRun,
            }),
          reshardRecord,
        );
        // vtctldclient's text; the steps with their durations after it.
        const note = recovered && recovered.outcome !== 'running' ? ` (an interrupted switch at step ${recovered.step} was ${recovered.detail})` : '';
        const lines = [`${r.summary}${note}`, '', `Start State: ${r.startState}`, `Current State: ${r.state}`];
        if (r.writePauseMs !== undefined) lines.push('', `Write pause: ${r.writePauseMs} ms`);
        if (r.steps.length > 0) lines.push(...r.steps.map((x) => `  ${x}`));
        return textOrJson(req, r as unknown as Json, `${lines.join('\n')}\n`);
      }
      if (action === 'complete') {
        const r = await reshardComplete(ctx.topo, workflowCalls(ctx), keyspace, workflow);
        return textOrJson(req, r as unknown as Json, `${r.summary}\n`);
      }
      if (action === 'create') {
        const r = await reshardCreate(ctx.topo, workflowCalls(ctx), {
          workflow,
          keyspace,
          sourceShards: optStringList(req, 'source_shards'),
          targetShards: optStringList(req, 'target_shards'),
          ...createOptions(req),
          skipSchemaCopy: boolDefault(req, 'skip_schema_copy', false),
        });
        return { summary: `Reshard workflow ${keyspace}.${workflow} created`, streams: r.streams as unknown as Json };
      }
      if (action === 'show') return show(ctx, keyspace, workflow, req);
      if (action === 'status') return status(ctx, keyspace, workflow, req);
      if (action === 'cancel') return (await deleteWorkflow(ctx.topo, workflowCalls(ctx), keyspace, workflow)) as Json;
      return steer(ctx, keyspace, workflow, action, req);
    },
  },
  // The seeds' MigrateServedTypes: with a Reshard workflow splitting the shard (SplitClone's, or
  // Reshard create's), it is that workflow's switchtraffic (reversetraffic with --reverse) for one
  // type, with every check and the catch-up of the writes' switch; without one, the serving-graph
  // step alone (topo-commands.ts).
  MigrateServedTypes: {
    readOnly: false,
    summary: 'MigrateServedTypes [--cells c,...] [--reverse] [--serving-graph-only] <keyspace/shard> <served_type>',
    async run(ctx, req) {
      // A malformed keyspace/shard is the serving-graph step's to refuse.
      let target: { keyspace: string; shard: string };
      try {
        target = parseKeyspaceShard(reqString(req, 'keyspace_shard'));
      } catch {
        return TOPO_COMMANDS.MigrateServedTypes.run(ctx, req);
      }
      const { keyspace, shard } = target;
      const type = reqString(req, 'served_type').toLowerCase().replace(/^master$/, 'primary');
      const calls = workflowCalls(ctx);
      const found = await gatherStreams(ctx.topo, calls, keyspace, undefined).catch(() => []);
      const wf = found.flatMap((f) => f.streams).find((s) => s.workflowType === WORKFLOW_TYPE.Reshard && s.state !== 'Stopped' && parseBinlogSource(s.source).shard === shard);
      const frozen = found.flatMap((f) => f.streams).find((s) => s.workflowType === WORKFLOW_TYPE.Reshard && parseBinlogSource(s.source).shard === shard);
      const workflow = wf?.workflow ?? frozen?.workflow;
      // An interrupted write switch of that workflow (or of its forward one) is settled first.
      if (workflow !== undefined) await recoverSwitchFor(ctx.topo, calls, keyspace, workflow);
      if (workflow === undefined || workflow.endsWith('_reverse')) {
        if (boolDefault(req, 'serving_graph_only', false)) return TOPO_COMMANDS.MigrateServedTypes.run(ctx, req);
        // Moving the serving graph onto shards no workflow filled would serve empty shards.
        throw new TesseraError(
          ER.WRONG_ARGUMENTS,
          `MigrateServedTypes ${keyspace}/${shard} ${type}: no Reshard workflow copies ${keyspace}/${shard} into other shards; run SplitClone first (vtworker SplitClone ${keyspace}/${shard}, or Reshard create), or pass --serving-graph-only to move the serving graph alone`,
        );
      }
      const reverse = req.reverse === true || req.reverse === 'true';
      return (await recorded(
        ctx,
        { keyspace, workflow, action: reverse ? 'reversetraffic' : 'switchtraffic', tabletTypes: [type], dryRun: false },
        () =>
          reshardSwitchTraffic(ctx.topo, calls, keyspace, workflow, {
            reverse,
            tabletTypes: [type],
            cells: optStringList(req, 'cells'),
            timeoutMs: RESHARD_SWITCH_DEFAULTS.timeoutMs,
            maxLagSeconds: RESHARD_SWITCH_DEFAULTS.maxLagSeconds,
            enableReverseReplication: true,
            dryRun: false,
          }),
        reshardRecord,
      )) as unknown as Json;
    },
  },
  Workflow: {
    readOnly: false,
    summary: 'Workflow --keyspace K list|show|status|start|stop|update|delete [--workflow W] [--shards …]  (also: Workflow <keyspace>.<workflow> <action>)',
    async run(ctx, req) {
      const action = reqString(req, 'action').toLowerCase();
      if (!ACTIONS_WORKFLOW.includes(action)) throw topoError('BAD_ARGUMENT', `Workflow: unknown action ${action}; one of ${ACTIONS_WORKFLOW.join(', ')}`);
      const keyspace = reqString(req, 'keyspace');
      const workflow = optString(req, 'workflow');
      if (action === 'list') {
        const found = await gatherStreams(ctx.topo, workflowCalls(ctx), keyspace, undefined);
        return [...new Set(found.flatMap((f) => f.streams.map((s) => s.workflow)))].sort();
      }
      if (action === 'show') return show(ctx, keyspace, workflow || undefined, req);
      if (workflow === '') throw topoError('BAD_ARGUMENT', `Workflow ${action}: --workflow is required`);
      if (action === 'status') return status(ctx, keyspace, workflow, req);
      // An interrupted write switch of the workflow (of its forward workflow, for a `_reverse`
      // one) is settled first (see MoveTables).
      await recoverSwitchFor(ctx.topo, workflowCalls(ctx), keyspace, workflow);
      if (action === 'delete') return (await deleteWorkflow(ctx.topo, workflowCalls(ctx), keyspace, workflow, optStringList(req, 'shards'))) as Json;
      return steer(ctx, keyspace, workflow, action, req);
    },
  },
  GetWorkflows: {
    readOnly: true,
    summary: 'GetWorkflows [--workflow W] [--include-logs] <keyspace>',
    async run(ctx, req) {
      const keyspace = reqString(req, 'keyspace');
      const workflow = optString(req, 'workflow');
      const out = (await show(ctx, keyspace, workflow || undefined, req)) as { workflows: Record<string, unknown>[] };
      if (!boolDefault(req, 'include_logs', true)) {
        for (const w of out.workflows) for (const ss of Object.values(w.shard_streams as Record<string, { streams: Record<string, unknown>[] }>)) for (const s of ss.streams) s.logs = [];
      }
      return out as unknown as Json;
    },
  },
};
