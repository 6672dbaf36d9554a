// The VReplication commands of `tessera ctl` (Materialize, Reshard, MoveTables and the seeds'
// spellings, Workflow, GetWorkflows) and `--wait`, which follows a copy by polling ctld.
import { ER, TesseraError } from '../mysql/errors.js';
import type { CtldClient } from '../ctld/index.js';
import { topoError, type JsonObject } from '../topo/index.js';
import { durationMs, isTrue, list, pick, printWorkflowResult, str, type CtlCommandSpec, type Opts } from './ctl-spec.js';

export const CTL_WAIT_DEFAULTS = {
  /** How often `--wait` asks for the workflow's status. */
  pollMs: 1_000,
  /** `--wait-timeout` when not given. */
  timeoutMs: 30 * 60_000,
};

type StatusJson = {
  table_copy_state?: Record<string, { phase?: string; rows_copied?: number; rows_total?: number; rows_percentage?: number; eta_seconds?: number | null }>;
  shard_streams?: Record<string, { streams?: { id?: number; status?: string; info?: string }[] }>;
};

/**
 * `--wait`: until every stream of the workflow has finished its copy and replicates (or stopped
 * after the copy), printing progress to stderr. A stream in Error fails the wait with its message.
 */
export async function waitForCopy(client: Pick<CtldClient, 'call'> | { call(command: string, request: JsonObject): Promise<unknown> }, keyspace: string, workflow: string, timeoutMs: number, pollMs = CTL_WAIT_DEFAULTS.pollMs): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const st = (await client.call('Workflow', { action: 'status', keyspace, workflow, format: 'json' })) as StatusJson;
    const streams = Object.values(st.shard_streams ?? {}).flatMap((s) => s.streams ?? []);
    const failed = streams.find((s) => s.status === 'Error');
    if (failed) throw new TesseraError(ER.UNKNOWN_ERROR, `workflow ${keyspace}.${workflow}: stream ${failed.id} is in Error: ${failed.info ?? ''}; fix the cause, then Workflow start`);
    const copying = Object.entries(st.table_copy_state ?? {}).filter(([, t]) => t.phase !== 'Complete');
    if (streams.length > 0 && copying.length === 0 && streams.every((s) => s.status === 'Running' || s.status === 'Stopped')) {
      process.stderr.write(`workflow ${keyspace}.${workflow}: copy complete\n`);
      return;
    }
    const line = copying.map(([name, t]) => `${name} ${t.rows_copied ?? 0}/${t.rows_total ?? '?'} (${t.rows_percentage ?? 0}%${t.eta_seconds != null ? `, ETA ${t.eta_seconds}s` : ''})`).join(', ');
    const what = line !== '' ? `copying ${line}` : streams.length === 0 ? 'starting' : 'tables copied, finishing (secondary keys, first binlog events)';
    if (what !== last) process.stderr.write(`workflow ${keyspace}.${workflow}: ${what}\n`);
    last = what;
    if (Date.now() >= deadline) {
      throw new TesseraError(ER.LOCK_WAIT_TIMEOUT, `workflow ${keyspace}.${workflow}: the copy did not finish within --wait-timeout (${Math.round(timeoutMs / 1000)}s); it goes on: follow it with Workflow status`, { kind: 'DEADLINE_EXCEEDED' });
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** `--wait-timeout 30m` as milliseconds (Go durations as Vitess takes them: ms, s, m, h). */
function waitTimeoutMs(o: Opts): number {
  const v = str(o, 'waitTimeout');
  if (v === undefined) return CTL_WAIT_DEFAULTS.timeoutMs;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  if (!m) throw topoError('BAD_ARGUMENT', `--wait-timeout wants a duration such as 30s, 10m or 1h, got '${v}'`);
  return Math.round(Number(m[1]) * (m[2] === 's' ? 1000 : m[2] === 'm' ? 60_000 : m[2] === 'h' ? 3_600_000 : 1));
}

/** MoveTables' request from either spelling: --workflow/--target-keyspace, or `Create customer.commerce2customer`. */
export function moveTablesRequest(action: string, keyspaceWorkflow: string | undefined, o: Opts): JsonObject {
  let keyspace = str(o, 'targetKeyspace');
  let workflow = str(o, 'workflow');
  if (keyspaceWorkflow !== undefined) {
    const dot = keyspaceWorkflow.indexOf('.');
    if (dot <= 0) throw topoError('BAD_ARGUMENT', `want <keyspace>.<workflow> (customer.commerce2customer), got '${keyspaceWorkflow}'`);
    keyspace = keyspaceWorkflow.slice(0, dot);
    workflow = keyspaceWorkflow.slice(dot + 1);
  }
  const reverse = o.enableReverseReplication ?? o.reverseReplication;
  return {
    action,
    ...(keyspace !== undefined ? { target_keyspace: keyspace } : {}),
    ...(workflow !== undefined ? { workflow } : {}),
    ...pick(o, {
      sourceKeyspace: 'source_keyspace', source: 'source_keyspace', allTables: 'all_tables', all: 'all_tables', onDdl: 'on_ddl',
      deferSecondaryKeys: 'defer_secondary_keys', autoStart: 'auto_start', stopAfterCopy: 'stop_after_copy', noRoutingRules: 'no_routing_rules',
      dryRun: 'dry_run', keepData: 'keep_data', keepRoutingRules: 'keep_routing_rules', renameTables: 'rename_tables', format: 'format',
      atomicCopy: 'atomic_copy', shardedAutoIncrementHandling: 'sharded_auto_increment_handling', globalKeyspace: 'global_keyspace', initializeTargetSequences: 'initialize_target_sequences',
    }),
    ...(typeof reverse === 'string' || typeof reverse === 'boolean' ? { enable_reverse_replication: reverse } : {}),
    tables: list(o, 'tables'),
    exclude_tables: [...list(o, 'excludeTables'), ...list(o, 'exclude')],
    source_shards: list(o, 'sourceShards'),
    cells: list(o, 'cells'),
    tablet_types: list(o, 'tabletTypes'),
    config_overrides: [o.configOverrides ?? []].flat().map(String),
    ...durationMs(o, 'timeout', 'timeout'),
    ...durationMs(o, 'maxReplicationLagAllowed', 'max-replication-lag-allowed'),
  };
}


export const WORKFLOW_CTL_COMMANDS: CtlCommandSpec[] = [
  {
    name: 'Materialize',
    summary: 'VReplication workflow copying select results into target tables: Materialize --workflow W --target-keyspace K create|show|status|start|stop|cancel',
    args: ['<action>'],
    options: [
      ['--workflow <name>', 'the workflow name'],
      ['--target-keyspace <keyspace>', 'the keyspace the rows go to'],
      ['--source-keyspace <keyspace>', 'create: the keyspace the rows come from'],
      ['--table-settings <json>', 'create: [{"target_table":"t","source_expression":"select … from s","create_ddl":"copy"}]'],
      ['--cells <cells>', 'create: cells to pick source tablets in (default: any)'],
      ['--tablet-types <types>', 'create: source tablet types in order of preference (default: replica,primary)'],
      ['--on-ddl <action>', 'create: IGNORE, STOP, EXEC or EXEC_IGNORE (default IGNORE)'],
      ['--defer-secondary-keys [bool]', 'create: add secondary keys after the copy (default true)'],
      ['--auto-start [bool]', 'create: start the streams at once (default true)'],
      ['--stop-after-copy [bool]', 'create: stop once the copy phase is done (default false)'],
      ['--shards <shards>', 'only the streams of these target shards'],
      ['--format <format>', 'status: text (default) or json'],
      ['--wait [bool]', 'create, start: wait until the copy is done, printing progress (default false)'],
      ['--wait-timeout <duration>', 'how long --wait waits (default 30m); the workflow goes on after it'],
    ],
    repeatable: [['--config-overrides <key=value>', 'tablet flags overridden for this workflow (vreplication-copy-rows-per-second=1000)']],
    after: async (client, [action], o) => {
      if (!isTrue(o.wait) || !['create', 'start'].includes(action.toLowerCase())) return;
      const keyspace = str(o, 'targetKeyspace');
      const workflow = str(o, 'workflow');
      if (!keyspace || !workflow) throw topoError('BAD_ARGUMENT', '--wait needs --target-keyspace and --workflow');
      await waitForCopy(client, keyspace, workflow, waitTimeoutMs(o));
    },
    request: ([action], o) => ({
      action,
      ...pick(o, {
        workflow: 'workflow', targetKeyspace: 'target_keyspace', sourceKeyspace: 'source_keyspace', tableSettings: 'table_settings',
        onDdl: 'on_ddl', deferSecondaryKeys: 'defer_secondary_keys', autoStart: 'auto_start', stopAfterCopy: 'stop_after_copy', format: 'format',
      }),
      cells: list(o, 'cells'),
      tablet_types: list(o, 'tabletTypes'),
      shards: list(o, 'shards'),
      config_overrides: [o.configOverrides ?? []].flat().map(String),
    }),
    print: printWorkflowResult,
  },
  {
    name: 'Reshard',
    summary: 'VReplication workflow moving a keyspace\'s rows to other shards: Reshard --workflow W --target-keyspace K create|show|status|start|stop|switchtraffic|reversetraffic|complete|cancel',
    args: ['<action>'],
    options: [
      ['--workflow <name>', 'the workflow name'],
      ['--target-keyspace <keyspace>', 'the keyspace being resharded'],
      ['--source-shards <shards>', 'create: the shards the rows leave (0, or -80,80-)'],
      ['--target-shards <shards>', 'create: the shards the rows go to; they must cover the same key range'],
      ['--cells <cells>', 'create: cells to pick source tablets in (default: any); switchtraffic/reversetraffic: the cells whose reads move (default: every cell)'],
      ['--tablet-types <types>', 'create: source tablet types in order of preference (default: replica,primary)'],
      ['--on-ddl <action>', 'create: IGNORE, STOP, EXEC or EXEC_IGNORE (default IGNORE)'],
      ['--defer-secondary-keys [bool]', 'create: add secondary keys after the copy (default true)'],
      ['--auto-start [bool]', 'create: start the streams at once (default true)'],
      ['--stop-after-copy [bool]', 'create: stop once the copy phase is done (default false)'],
      ['--skip-schema-copy [bool]', 'create: the target shards already have the tables (default false)'],
      ['--timeout <duration>', 'switchtraffic: how long the new shards may take to catch up once writes stop (30s)'],
      ['--max-replication-lag-allowed <duration>', 'switchtraffic: refuse while a stream lags more (30s)'],
      ['--enable-reverse-replication [bool]', 'switchtraffic: replicate back to the old shards, so the switch can be reversed (default true)'],
      ['--dry-run [bool]', 'switchtraffic, reversetraffic: print the steps without taking them'],
      ['--shards <shards>', 'only the streams of these target shards'],
      ['--format <format>', 'status: text (default) or json'],
      ['--wait [bool]', 'create, start: wait until the copy is done, printing progress (default false)'],
      ['--wait-timeout <duration>', 'how long --wait waits (default 30m); the workflow goes on after it'],
    ],
    repeatable: [['--config-overrides <key=value>', 'tablet flags overridden for this workflow']],
    request: ([action], o) => ({
      action,
      ...pick(o, {
        workflow: 'workflow', targetKeyspace: 'target_keyspace', onDdl: 'on_ddl', deferSecondaryKeys: 'defer_secondary_keys', autoStart: 'auto_start',
        stopAfterCopy: 'stop_after_copy', skipSchemaCopy: 'skip_schema_copy', format: 'format', timeout: 'timeout',
        maxReplicationLagAllowed: 'max_replication_lag_allowed', enableReverseReplication: 'enable_reverse_replication', dryRun: 'dry_run',
      }),
      source_shards: list(o, 'sourceShards'),
      target_shards: list(o, 'targetShards'),
      cells: list(o, 'cells'),
      tablet_types: list(o, 'tabletTypes'),
      shards: list(o, 'shards'),
      config_overrides: [o.configOverrides ?? []].flat().map(String),
    }),
    print: printWorkflowResult,
    after: async (client, [action], o) => {
      if (!isTrue(o.wait) || !['create', 'start'].includes(action.toLowerCase())) return;
      const keyspace = str(o, 'targetKeyspace');
      const workflow = str(o, 'workflow');
      if (!keyspace || !workflow) throw topoError('BAD_ARGUMENT', '--wait needs --target-keyspace and --workflow');
      await waitForCopy(client, keyspace, workflow, waitTimeoutMs(o));
    },
  },
  {
    name: 'MoveTables',
    summary:
      'move tables between keyspaces: MoveTables --workflow W --target-keyspace K create|show|status|start|stop|switchtraffic|reversetraffic|complete|cancel, or the seeds\' MoveTables -- --source S --tables t1,t2 Create K.W',
    args: ['<action>', '[keyspace.workflow]'],
    options: [
      ['--workflow <name>', 'the workflow name'],
      ['--target-keyspace <keyspace>', 'the keyspace the tables move to'],
      ['--source-keyspace <keyspace>', 'create: the keyspace the tables move from'],
      ['--source <keyspace>', "the seeds' spelling of --source-keyspace"],
      ['--tables <tables>', 'create: the tables to move (comma-separated)'],
      ['--all-tables', 'create: every table of the source keyspace'],
      ['--all', "the seeds' spelling of --all-tables"],
      ['--exclude-tables <tables>', 'create with --all-tables: leave these out'],
      ['--exclude <tables>', "the seeds' spelling of --exclude-tables"],
      ['--source-shards <shards>', 'create: only these source shards'],
      ['--cells <cells>', 'create: cells to pick source tablets in; switchtraffic/reversetraffic: the cells whose reads move (default: every cell)'],
      ['--tablet-types <types>', 'create: source tablet types in order of preference; switchtraffic/reversetraffic: the traffic to move (primary, replica, rdonly; default all)'],
      ['--on-ddl <action>', 'create: IGNORE, STOP, EXEC or EXEC_IGNORE (default IGNORE)'],
      ['--defer-secondary-keys [bool]', 'create: add secondary keys after the copy (default true)'],
      ['--auto-start [bool]', 'create: start the streams at once (default true)'],
      ['--stop-after-copy [bool]', 'create: stop once the copy phase is done (default false)'],
      ['--no-routing-rules', 'create: do not write routing rules'],
      ['--atomic-copy', 'create, with --all-tables: copy every table from one consistent snapshot, then replicate with foreign keys enforced (tables tied by foreign keys)'],
      ['--sharded-auto-increment-handling <mode>', 'create, into a sharded keyspace: LEAVE, REMOVE (default) or REPLACE auto_increment by sequences in --global-keyspace'],
      ['--global-keyspace <keyspace>', 'create with REPLACE: the unsharded keyspace the sequence tables go to'],
      ['--initialize-target-sequences', 'switchtraffic: set each sequence above the largest id on the target while writes are stopped'],
      ['--timeout <duration>', 'switchtraffic/reversetraffic: how long the streams get to catch up while writes are stopped (30s)'],
      ['--max-replication-lag-allowed <duration>', 'switchtraffic/reversetraffic: refuse when a stream lags more (30s)'],
      ['--enable-reverse-replication [bool]', 'switchtraffic: replicate the target back to the source afterwards (default true)'],
      ['--reverse-replication [bool]', "the seeds' spelling of --enable-reverse-replication"],
      ['--dry-run', 'switchtraffic/reversetraffic/complete: print the steps, change nothing'],
      ['--keep-data', 'complete/cancel: keep the tables that would be dropped'],
      ['--keep-routing-rules', 'complete/cancel: keep the routing rules'],
      ['--rename-tables', 'complete: rename the source tables to _<table>_old instead of dropping them'],
      ['--format <format>', 'text (default) or json'],
    ],
    repeatable: [['--config-overrides <key=value>', 'create: tablet flags overridden for this workflow']],
    request: ([action, ksw], o) => moveTablesRequest(action, ksw, o),
    print: printWorkflowResult,
  },
  ...(['SwitchReads', 'SwitchWrites', 'DropSources'] as const).map(
    (name): CtlCommandSpec => ({
      name,
      summary: `the seeds' spelling of MoveTables ${name === 'DropSources' ? 'complete' : name === 'SwitchReads' ? 'switchtraffic --tablet-types replica,rdonly' : 'switchtraffic --tablet-types primary'}: ${name} <keyspace.workflow>`,
      args: ['<keyspace.workflow>'],
      options: [
        ['--tablet-types <types>', 'SwitchReads: replica, rdonly or both (default both)'],
        ['--timeout <duration>', 'SwitchWrites: how long the streams get to catch up (30s)'],
        ['--max-replication-lag-allowed <duration>', 'refuse when a stream lags more (30s)'],
        ['--reverse-replication [bool]', 'SwitchWrites: replicate back afterwards (default true)'],
        ['--dry-run', 'print the steps, change nothing'],
        ['--keep-data', 'DropSources: keep the source tables'],
        ['--rename-tables', 'DropSources: rename the source tables to _<table>_old'],
        ['--format <format>', 'text (default) or json'],
      ],
      request: ([ksw], o) => moveTablesRequest(name, ksw, o),
      print: printWorkflowResult,
    }),
  ),
  {
    name: 'LookupVindex',
    summary: 'add a lookup vindex to a table with rows: LookupVindex --name V --table-keyspace K --keyspace K create|show|externalize|cancel',
    args: ['<action>'],
    options: [
      ['--name <name>', 'the vindex name (and its lookup table\'s, unless --table-name)'],
      ['--table-keyspace <keyspace>', 'the unsharded keyspace the lookup table lives in'],
      ['--keyspace <keyspace>', 'the keyspace of the owner table (and the vindex)'],
      ['--type <type>', 'create: lookup, lookup_unique, consistent_lookup or consistent_lookup_unique'],
      ['--table-owner <table>', 'create: the table whose rows the lookup maps'],
      ['--table-owner-columns <columns>', 'create: its columns the vindex maps (comma-separated)'],
      ['--table-name <table>', 'create: the lookup table (default: --name)'],
      ['--ignore-nulls [bool]', 'create: rows with a NULL in those columns get no lookup row'],
    ],
    request: ([action], o) => ({
      action,
      ...pick(o, { name: 'name', tableKeyspace: 'table_keyspace', keyspace: 'keyspace', type: 'type', tableOwner: 'table_owner', tableName: 'table_name', ignoreNulls: 'ignore_nulls' }),
      table_owner_columns: list(o, 'tableOwnerColumns'),
    }),
    print: printWorkflowResult,
  },
  {
    name: 'Workflow',
    summary: 'show and steer VReplication workflows: Workflow --keyspace K list|show|status|start|stop|update|delete [--workflow W], or Workflow <keyspace>.<workflow> <action>',
    args: ['<action-or-keyspace.workflow>', '[action]'],
    options: [
      ['--keyspace <keyspace>', 'the target keyspace of the workflow'],
      ['--workflow <name>', 'the workflow name'],
      ['--shards <shards>', 'only the streams of these target shards'],
      ['--cells <cells>', 'update: cells to pick source tablets in'],
      ['--tablet-types <types>', 'update: source tablet types in order of preference'],
      ['--format <format>', 'status: text (default) or json'],
      ['--include-logs [bool]', 'show: include the streams\' logs (default true)'],
      ['--dry-run', 'start, stop: print the streams that would change, change nothing'],
    ],
    repeatable: [['--config-overrides <key=value>', 'update: tablet flags overridden for this workflow']],
    request: ([first, second], o) => {
      // The seeds' positional form: Workflow customer.commerce2customer show
      const dotted = second !== undefined && first.includes('.');
      const [keyspace, workflow] = dotted ? [first.slice(0, first.indexOf('.')), first.slice(first.indexOf('.') + 1)] : [str(o, 'keyspace'), str(o, 'workflow')];
      return {
        action: dotted ? second : first,
        ...(keyspace !== undefined ? { keyspace } : {}),
        ...(workflow !== undefined ? { workflow } : {}),
        ...pick(o, { format: 'format', includeLogs: 'include_logs', dryRun: 'dry_run' }),
        shards: list(o, 'shards'),
        cells: list(o, 'cells'),
        tablet_types: list(o, 'tabletTypes'),
        config_overrides: [o.configOverrides ?? []].flat().map(String),
      };
    },
    print: printWorkflowResult,
  },
  {
    name: 'GetWorkflows',
    summary: 'print the VReplication workflows of a keyspace (JSON as vtctldclient prints it)',
    args: ['<keyspace>'],
    options: [
      ['--workflow <name>', 'only this workflow'],
      ['--include-logs [bool]', 'include the streams\' logs (default true)'],
    ],
    request: ([keyspace], o) => ({ keyspace, ...pick(o, { workflow: 'workflow', includeLogs: 'include_logs' }) }),
  },
];
