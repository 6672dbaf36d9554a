// `tessera ctl`: the admin client, with vtctldclient's command names and flags. Every command is
// one entry in CTL_COMMANDS: how its arguments and flags become a request to ctld's API (commands
// of the same name, see src/ctld), and how the result prints. Output is JSON (stable, for jq)
// unless the command prints text as vtctldclient does; errors go to stderr with exit code 1.
import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { CtldClient, CTLD_CLIENT_DEFAULTS } from '../ctld/client.js';
import { topoError, type JsonObject, type Tablet } from '../topo/index.js';
import { ER, TesseraError } from '../mysql/errors.js';
import { durationMs, list, pick, str, type CtlCommandSpec, type Opts } from './ctl-spec.js';
import { WORKFLOW_CTL_COMMANDS } from './ctl-workflows.js';
import { VDIFF_CTL_COMMANDS } from './ctl-vdiff.js';

export type { CtlCommandSpec } from './ctl-spec.js';
export { CTL_WAIT_DEFAULTS, waitForCopy } from './ctl-workflows.js';

/** `--x <json>` or `--x-file <file>`: exactly one; the text goes to ctld, which validates it. */
async function jsonInput(o: Opts, inline: string, file: string, flag: string): Promise<string> {
  const text = str(o, inline);
  const path = str(o, file);
  if ((text === undefined) === (path === undefined)) throw topoError('BAD_ARGUMENT', `give exactly one of --${flag} and --${flag}-file`);
  if (text !== undefined) return text;
  try {
    return await readFile(path as string, 'utf8');
  } catch (err) {
    throw topoError('BAD_ARGUMENT', `cannot read --${flag}-file: ${(err as Error).message}`);
  }
}

/** vtctldclient's one-line tablet format (cli.MarshalTabletAWK). */
export function tabletLine(t: Tablet): string {
  const alias = `${t.alias.cell}-${String(t.alias.uid).padStart(10, '0')}`;
  const tags = Object.entries(t.tags ?? {})
    .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
    .sort();
  const mtst = t.type === 'primary' && t.primary_term_start_time ? t.primary_term_start_time : '<null>';
  return [
    alias,
    t.keyspace || '<null>',
    t.shard || '<null>',
    t.type,
    `${t.hostname}:${t.port_map?.vt ?? 0}`,
    `${t.mysql_hostname}:${t.mysql_port}`,
    `[${tags.join(' ')}]`,
    mtst,
  ].join(' ');
}

interface TabletReplicationHealth {
  serving: boolean;
  lag_seconds: number | null;
  error: string;
}

/** `serving=true lag=0s error=""` appended to a GetTablets line by --replication. */
function replicationColumns(h: TabletReplicationHealth): string {
  return `serving=${h.serving} lag=${h.lag_seconds === null ? 'unknown' : `${h.lag_seconds}s`} error=${JSON.stringify(h.error)}`;
}

const rulesFlags = [
  ['--rules <json>', 'the rules as JSON'],
  ['--rules-file <file>', 'a file holding the rules as JSON'],
  ['--dry-run', 'validate and print, do not save'],
  ['--skip-rebuild', 'do not rebuild the serving VSchema (SrvVSchema) afterwards'],
  ['--cells <cells>', 'cells whose SrvVSchema to rebuild (default: all)'],
] as const;

function rulesRequest(o: Opts): Promise<JsonObject> {
  return jsonInput(o, 'rules', 'rulesFile', 'rules').then((rules) => ({
    rules,
    ...pick(o, { dryRun: 'dry_run', skipRebuild: 'skip_rebuild', cells: 'cells' }),
  }));
}

/** Commands that reach tablets (src/ctld/tablet-commands.ts). */
const TABLET_CTL_COMMANDS: CtlCommandSpec[] = [
  { name: 'PingTablet', summary: "check that a tablet answers and reaches its MariaDB", args: ['<alias>'], request: ([alias]) => ({ alias }) },
  { name: 'GetFullStatus', summary: "print a tablet's replication and MariaDB state (positions, read_only, semi-sync)", args: ['<alias>'], request: ([alias]) => ({ alias }) },
  {
    name: 'ChangeTabletType',
    summary: 'change the type of a non-primary tablet (replica, rdonly, spare, drained, ...); PlannedReparentShard moves the primary',
    args: ['<alias>', '<tablet-type>'],
    options: [['--dry-run', 'print what would change, change nothing']],
    request: ([alias, type], o) => ({ alias, tablet_type: type, ...pick(o, { dryRun: 'dry_run' }) }),
  },
  {
    name: 'SetWritable',
    summary: "set a tablet's MariaDB read_only off (true) or on (false)",
    args: ['<alias>', '<writable>'],
    request: ([alias, writable]) => {
      if (writable !== 'true' && writable !== 'false') throw topoError('BAD_ARGUMENT', `SetWritable wants true or false, got '${writable}'`);
      return { alias, writable: writable === 'true' };
    },
  },
  {
    name: 'PurgeBinaryLogs',
    summary: "purge a tablet's binlogs, keeping every file a VReplication stream reading from its shard still needs",
    args: ['<alias>'],
    options: [
      ['--to <file>', 'purge the files before this one (default: all but the current file)'],
      ['--older-than <seconds>', 'only files last written longer ago than this'],
      ['--dry-run', 'print what would be purged, purge nothing'],
    ],
    request: ([alias], o) => ({
      alias,
      ...pick(o, { to: 'to', dryRun: 'dry_run' }),
      ...(str(o, 'olderThan') !== undefined ? { older_than: Number(str(o, 'olderThan')) } : {}),
    }),
  },
  {
    name: 'ExecuteFetchAsDBA',
    aliases: ['ExecuteFetchAsDba'],
    summary: "run SQL on a tablet's MariaDB as vt_dba, on its keyspace database",
    args: ['<alias>', '<sql>'],
    options: [
      ['--max-rows <n>', 'fail if the result has more rows', '10000'],
      ['--disable-binlogs', 'run with sql_log_bin = 0 (the statement does not replicate)'],
      ['--reload-schema', "reload the tablet's schema afterwards"],
    ],
    request: ([alias, sql], o) => ({
      alias,
      sql,
      max_rows: Number(str(o, 'maxRows') ?? '10000'),
      ...pick(o, { disableBinlogs: 'disable_binlogs', reloadSchema: 'reload_schema' }),
    }),
  },
  {
    name: 'ExecuteFetchAsApp',
    summary: "run SQL through a tablet's query service as vt_app (its serving rules apply)",
    args: ['<alias>', '<sql>'],
    options: [['--max-rows <n>', 'fail if the result has more rows', '10000']],
    request: ([alias, sql], o) => ({ alias, sql, max_rows: Number(str(o, 'maxRows') ?? '10000') }),
  },
  {
    name: 'ApplySchema',
    summary: 'apply DDL to the primary of every shard of a keyspace; prints the result per shard',
    args: ['<keyspace>'],
    options: [
      ['--sql-file <file>', 'a file holding the DDL'],
      ['--ddl-strategy <strategy>', "only 'direct' (applied as given on each shard primary)", 'direct'],
    ],
    repeatable: [['--sql <sql>', 'the DDL; repeat for several statements, or separate them with ;']],
    request: async ([keyspace], o) => {
      const inline = Array.isArray(o.sql) ? (o.sql as string[]) : [];
      const file = str(o, 'sqlFile');
      if ((inline.length === 0) === (file === undefined)) throw topoError('BAD_ARGUMENT', 'give exactly one of --sql and --sql-file');
      let sql = inline.join(';\n');
      if (file !== undefined) {
        try {
          sql = await readFile(file, 'utf8');
        } catch (err) {
          throw topoError('BAD_ARGUMENT', `cannot read --sql-file: ${(err as Error).message}`);
        }
      }
      return { keyspace, sql, ...pick(o, { ddlStrategy: 'ddl_strategy' }) };
    },
  },
  {
    name: 'GetSchema',
    summary: "print a tablet's schema: CREATE statements, columns and primary keys of its tables",
    args: ['<alias>'],
    options: [
      ['--tables <tables>', 'only these tables (names or /regexp/, comma-separated)'],
      ['--exclude-tables <tables>', 'leave these out (names or /regexp/)'],
      ['--include-views', 'include views'],
      ['--table-names-only', 'print table names only, one per line'],
    ],
    request: ([alias], o) => ({
      alias,
      tables: list(o, 'tables'),
      exclude_tables: list(o, 'excludeTables'),
      ...pick(o, { includeViews: 'include_views', tableNamesOnly: 'table_names_only' }),
    }),
    print: (r) => {
      const names = (r as { table_names?: string[] }).table_names;
      return names ? names.map((n) => `${n}\n`).join('') : `${JSON.stringify(r, null, 2)}\n`;
    },
  },
  { name: 'ReloadSchema', summary: 'reload the schema a tablet serves from its MariaDB', args: ['<alias>'], request: ([alias]) => ({ alias }) },
  {
    name: 'ReloadSchemaShard',
    summary: 'reload the schema on the tablets of a shard (primary only with --include-primary)',
    args: ['<keyspace/shard>'],
    options: [['--include-primary', 'also reload the primary']],
    request: ([ks], o) => ({ keyspace_shard: ks, ...pick(o, { includePrimary: 'include_primary' }) }),
  },
  {
    name: 'ReloadSchemaKeyspace',
    summary: 'reload the schema on the tablets of every shard of a keyspace (primaries only with --include-primary)',
    args: ['<keyspace>'],
    options: [['--include-primary', 'also reload the primaries']],
    request: ([keyspace], o) => ({ keyspace, ...pick(o, { includePrimary: 'include_primary' }) }),
  },
  {
    name: 'CopySchemaShard',
    summary: "copy table definitions from a shard's primary (or a tablet) to another shard's primary",
    args: ['<source>', '<destination>'],
    options: [
      ['--tables <tables>', 'only these tables (names or /regexp/)'],
      ['--exclude-tables <tables>', 'leave these out'],
      ['--include-views', 'also copy views'],
    ],
    request: ([source, destination], o) => ({
      source,
      destination,
      tables: list(o, 'tables'),
      exclude_tables: list(o, 'excludeTables'),
      ...pick(o, { includeViews: 'include_views' }),
    }),
  },
  { name: 'RefreshState', summary: 'make a tablet re-read its shard and serving graph from the topology', args: ['<alias>'], request: ([alias]) => ({ alias }) },
  {
    name: 'RefreshStateByShard',
    summary: 'RefreshState on every tablet of a shard',
    args: ['<keyspace/shard>'],
    options: [['--cells <cells>', 'only tablets in these cells']],
    request: ([ks], o) => ({ keyspace_shard: ks, cells: list(o, 'cells') }),
  },
  { name: 'StartReplication', summary: 'start replication on a tablet', args: ['<alias>'], request: ([alias]) => ({ alias }) },
  { name: 'StopReplication', summary: 'stop replication on a tablet (it stays stopped until StartReplication or a reparent)', args: ['<alias>'], request: ([alias]) => ({ alias }) },
];

/** `customer/-80` positional or `--keyspace-shard customer/-80` (the seeds' `-keyspace_shard`). */
function keyspaceShardArg(ks: string | undefined, o: Opts): JsonObject {
  const flag = str(o, 'keyspaceShard');
  if (ks !== undefined && flag !== undefined && ks !== flag) throw topoError('BAD_ARGUMENT', `two shards given: ${ks} and --keyspace-shard ${flag}`);
  const v = ks ?? flag;
  if (v === undefined) throw topoError('BAD_ARGUMENT', 'give the shard as <keyspace/shard> or --keyspace-shard');
  return { keyspace_shard: v };
}

const reparentFlags = [
  ['--keyspace-shard <keyspace/shard>', 'the shard (instead of the positional argument)'],
  ['--new-primary <alias>', 'the tablet to promote (default: the most advanced replica)'],
  ['--new-master <alias>', 'old spelling of --new-primary'],
  ['--wait-replicas-timeout <duration>', 'how long the new primary may take to catch up (30s)'],
] as const;

/** Reparent and replication commands (src/ctld/reparent.ts). */
const REPARENT_CTL_COMMANDS: CtlCommandSpec[] = [
  {
    name: 'InitShardPrimary',
    aliases: ['InitShardMaster'],
    summary: 'make a tablet the first primary of a new shard and point the other tablets at it',
    args: ['<keyspace/shard>', '<primary-alias>'],
    options: [
      ['--force', 'also when the shard already has a primary, or a tablet has history the primary lacks (it is reset)'],
      ['--wait-replicas-timeout <duration>', 'how long to wait for the reparent journal to replicate (30s)'],
    ],
    request: ([ks, primary], o) => ({ keyspace_shard: ks, primary, ...pick(o, { force: 'force' }), ...durationMs(o, 'waitReplicasTimeout', 'wait-replicas-timeout') }),
  },
  {
    name: 'PlannedReparentShard',
    summary: 'move the primary of a shard to another replica with no lost writes (the most caught-up one unless --new-primary)',
    args: ['[keyspace/shard]'],
    options: [
      ...reparentFlags,
      ['--avoid-primary <alias>', 'move the primary away from this tablet: nothing to do when another is the primary'],
      ['--demote-timeout <duration>', 'how long the old primary waits for transactions in flight (10s)'],
    ],
    request: ([ks], o) => ({
      ...keyspaceShardArg(ks, o),
      ...pick(o, { newPrimary: 'new_primary', newMaster: 'new_primary', avoidPrimary: 'avoid_primary' }),
      ...durationMs(o, 'waitReplicasTimeout', 'wait-replicas-timeout'),
      ...durationMs(o, 'demoteTimeout', 'demote-timeout'),
    }),
  },
  {
    name: 'EmergencyReparentShard',
    summary: "replace a dead primary with the most advanced reachable replica; refuses if that would lose another survivor's transactions",
    args: ['[keyspace/shard]'],
    options: reparentFlags,
    request: ([ks], o) => ({
      ...keyspaceShardArg(ks, o),
      ...pick(o, { newPrimary: 'new_primary', newMaster: 'new_primary' }),
      ...durationMs(o, 'waitReplicasTimeout', 'wait-replicas-timeout'),
    }),
  },
  {
    name: 'ShardReplicationPositions',
    summary: 'print each tablet of a shard: position, replication source, threads, lag, last error',
    args: ['<keyspace/shard>'],
    request: ([ks]) => ({ keyspace_shard: ks }),
  },
  {
    name: 'SetKeyspaceDurabilityPolicy',
    summary: "set a keyspace's durability policy and apply its semi-sync settings to its running tablets",
    args: ['<keyspace>'],
    options: [['--durability-policy <policy>', 'none or semi_sync']],
    request: ([keyspace], o) => ({ keyspace, ...pick(o, { durabilityPolicy: 'durability_policy' }) }),
  },
];

export const CTL_COMMANDS: CtlCommandSpec[] = [
  {
    name: 'AddCellInfo',
    summary: 'register a cell and where its topology lives (default: the global store, root /tessera/<cell>)',
    args: ['<cell>'],
    options: [
      ['--server-address <addr>', 'the cell topology server address (default: the global one)'],
      ['--root <path>', 'the cell topology root (default: /tessera/<cell>)'],
    ],
    request: ([cell], o) => ({ cell, ...pick(o, { serverAddress: 'server_address', root: 'root' }) }),
  },
  {
    name: 'DeleteCellInfo',
    summary: 'remove a cell (refused while it has tablets, unless --force)',
    args: ['<cell>'],
    options: [['--force', 'delete even if the cell still has tablets']],
    request: ([cell], o) => ({ cell, ...pick(o, { force: 'force' }) }),
  },
  {
    name: 'GetCellInfoNames',
    summary: 'list cells, one per line',
    request: () => ({}),
    print: (r) => ((r as { names: string[] }).names.map((n) => `${n}\n`).join('')),
  },
  { name: 'GetCellInfo', summary: "print a cell's CellInfo", args: ['<cell>'], request: ([cell]) => ({ cell }) },
  {
    name: 'CreateKeyspace',
    summary: 'create a keyspace',
    args: ['<keyspace>'],
    options: [
      ['--durability-policy <policy>', 'none, semi_sync or cross_cell', 'none'],
      ['--sidecar-db-name <name>', 'sidecar database of the keyspace', '_vt'],
    ],
    request: ([name], o) => ({ name, ...pick(o, { durabilityPolicy: 'durability_policy', sidecarDbName: 'sidecar_db_name' }) }),
  },
  { name: 'GetKeyspace', summary: 'print a keyspace', args: ['<keyspace>'], request: ([keyspace]) => ({ keyspace }) },
  { name: 'GetKeyspaces', summary: 'print every keyspace', request: () => ({}) },
  {
    name: 'DeleteKeyspace',
    summary: 'delete a keyspace (with --recursive: its shards, tablets, VSchema and serving graph too)',
    args: ['<keyspace>'],
    options: [['--recursive', 'also delete its shards and their tablets']],
    request: ([keyspace], o) => ({ keyspace, ...pick(o, { recursive: 'recursive' }) }),
  },
  {
    name: 'CreateShard',
    summary: 'create a shard; its name is its key range (-80, 80-, 40-80; 0 or - for the whole range)',
    args: ['<keyspace/shard>'],
    request: ([ks]) => ({ keyspace_shard: ks }),
  },
  { name: 'GetShard', summary: 'print a shard', args: ['<keyspace/shard>'], request: ([ks]) => ({ keyspace_shard: ks }) },
  { name: 'FindAllShardsInKeyspace', summary: 'print every shard of a keyspace', args: ['<keyspace>'], request: ([keyspace]) => ({ keyspace }) },
  {
    name: 'DeleteShards',
    aliases: ['DeleteShard'],
    summary: 'delete shards (refused while they have tablets, unless --recursive)',
    args: ['<keyspace/shard...>'],
    options: [
      ['--recursive', 'also delete the tablets of the shards'],
      ['--even-if-serving', 'delete a shard even if it is serving'],
      ['--force', 'accepted for compatibility with vtctlclient scripts'],
    ],
    request: (args, o) => ({ shards: [...args].flat(), ...pick(o, { recursive: 'recursive', evenIfServing: 'even_if_serving', force: 'force' }) }),
  },
  {
    name: 'InitTablet',
    summary: 'record a tablet in the topology (normally the tablet does this itself)',
    args: ['<alias>', '<tablet-type>'],
    options: [
      ['--keyspace <keyspace>', 'keyspace of the tablet'],
      ['--shard <shard>', 'shard of the tablet'],
      ['--hostname <host>', 'host the tablet listens on', 'localhost'],
      ['--port <port>', 'tablet HTTP port (default 15000 + uid)'],
      ['--grpc-port <port>', 'tablet RPC port (default 16000 + uid)'],
      ['--mysql-host <host>', 'MariaDB host (default: --hostname)'],
      ['--mysql-port <port>', 'MariaDB port (default 17000 + uid)'],
      ['--db-name-override <name>', 'database name (default vt_<keyspace>)'],
      ['--tags <k:v,...>', 'tablet tags'],
      ['--allow-update', 'overwrite an existing tablet record'],
    ],
    request: ([alias, type], o) => {
      const tags: JsonObject = {};
      for (const kv of list(o, 'tags')) {
        const i = kv.indexOf(':');
        if (i <= 0) throw topoError('BAD_ARGUMENT', `invalid tag '${kv}': want key:value`);
        tags[kv.slice(0, i)] = kv.slice(i + 1);
      }
      const num = (k: string): JsonObject => (str(o, k) === undefined ? {} : { [k]: Number(str(o, k)) });
      const { port, grpcPort, mysqlPort } = { ...num('port'), ...num('grpcPort'), ...num('mysqlPort') };
      return {
        alias,
        tablet_type: type,
        tags,
        ...pick(o, { keyspace: 'keyspace', shard: 'shard', hostname: 'hostname', mysqlHost: 'mysql_host', dbNameOverride: 'db_name_override', allowUpdate: 'allow_update' }),
        ...(port !== undefined ? { port } : {}),
        ...(grpcPort !== undefined ? { grpc_port: grpcPort } : {}),
        ...(mysqlPort !== undefined ? { mysql_port: mysqlPort } : {}),
      };
    },
  },
  { name: 'GetTablet', summary: 'print a tablet', args: ['<alias>'], request: ([alias]) => ({ alias }) },
  {
    name: 'GetTabletHealth',
    summary: "a tablet's /debug/health as ctld sees it (unreachable when it does not answer), and its recent changes",
    args: ['<alias>'],
    options: [['--health-timeout-ms <ms>', 'deadline of the health probe']],
    request: ([alias], o) => ({ alias, ...pick(o, { healthTimeoutMs: 'health_timeout_ms' }) }),
  },
  {
    name: 'ClusterOverview',
    summary: "the web UI's data: cells, keyspaces with shards, VSchemas and serving graph, tablets with health, all rules",
    options: [['--health-timeout-ms <ms>', 'deadline of each tablet health probe']],
    request: (_args, o) => pick(o, { healthTimeoutMs: 'health_timeout_ms' }),
  },
  {
    name: 'GetWorkflowsOverview',
    summary: "the web UI's workflow list: every keyspace's workflows with their streams' states",
    request: () => ({}),
  },
  {
    name: 'GetWorkflowDetail',
    summary: "the web UI's workflow page: streams with logs, copy progress, traffic state, rules, switch history and VDiffs",
    args: ['<keyspace>', '<workflow>'],
    options: [['--vdiffs <n>', 'how many of the newest VDiffs to include with their reports (5)']],
    request: ([keyspace, workflow], o) => ({ keyspace, workflow, ...pick(o, { vdiffs: 'vdiffs' }) }),
  },
  {
    name: 'GetTablets',
    summary: 'list tablets, one line each: alias keyspace shard type host:port mysqlhost:mysqlport [tags] primary-term-start',
    options: [
      ['--keyspace <keyspace>', 'only this keyspace'],
      ['--shard <shard>', 'only this shard (needs --keyspace)'],
      ['--tablet-type <type>', 'only this tablet type'],
      ['--format <format>', 'text or json', 'text'],
      ['--replication', "also ask each tablet for its health: serving, replication lag and error (text: appended to each line)"],
    ],
    repeatable: [
      ['--cell <cell>', 'only these cells (repeat or comma-separate)'],
      ['--tablet-alias <alias>', 'only these tablets (repeat or comma-separate)'],
    ],
    request: (_args, o) => ({
      ...pick(o, { keyspace: 'keyspace', shard: 'shard', tabletType: 'tablet_type', replication: 'replication' }),
      cells: list(o, 'cell'),
      tablet_aliases: list(o, 'tabletAlias'),
    }),
    print: (r, o) => {
      const tablets = (r as unknown as { tablets: (Tablet & { replication?: TabletReplicationHealth })[] }).tablets;
      const format = str(o, 'format') ?? 'text';
      if (format === 'json') return `${JSON.stringify(tablets, null, 2)}\n`;
      if (format !== 'text') throw topoError('BAD_ARGUMENT', `unknown --format '${format}' (want text or json)`);
      return tablets.map((t) => `${tabletLine(t)}${t.replication ? ` ${replicationColumns(t.replication)}` : ''}\n`).join('');
    },
  },
  {
    name: 'DeleteTablets',
    aliases: ['DeleteTablet'],
    summary: 'remove tablet records',
    args: ['<alias...>'],
    options: [['--allow-primary', 'also delete primaries']],
    request: (args, o) => ({ aliases: [...args].flat(), ...pick(o, { allowPrimary: 'allow_primary' }) }),
  },
  ...TABLET_CTL_COMMANDS,
  ...REPARENT_CTL_COMMANDS,
  { name: 'GetVSchema', summary: "print a keyspace's VSchema", args: ['<keyspace>'], request: ([keyspace]) => ({ keyspace }) },
  {
    name: 'ApplyVSchema',
    summary: "validate and store a keyspace's VSchema, then rebuild the serving VSchema",
    args: ['<keyspace>'],
    options: [
      ['--vschema <json>', 'the VSchema as JSON'],
      ['--vschema-file <file>', 'a file holding the VSchema as JSON'],
      ['--dry-run', 'validate and print, do not save'],
      ['--skip-rebuild', 'do not rebuild the serving VSchema (SrvVSchema) afterwards'],
      ['--cells <cells>', 'cells whose SrvVSchema to rebuild (default: all)'],
    ],
    request: async ([keyspace], o) => ({
      keyspace,
      vschema: await jsonInput(o, 'vschema', 'vschemaFile', 'vschema'),
      ...pick(o, { dryRun: 'dry_run', skipRebuild: 'skip_rebuild', cells: 'cells' }),
    }),
  },
  { name: 'GetRoutingRules', summary: 'print the routing rules', request: () => ({}) },
  { name: 'ApplyRoutingRules', summary: 'validate and store the routing rules', options: rulesFlags, request: (_a, o) => rulesRequest(o) },
  { name: 'GetShardRoutingRules', summary: 'print the shard routing rules', request: () => ({}) },
  { name: 'ApplyShardRoutingRules', summary: 'validate and store the shard routing rules', options: rulesFlags, request: (_a, o) => rulesRequest(o) },
  { name: 'GetKeyspaceRoutingRules', summary: 'print the keyspace routing rules', request: () => ({}) },
  { name: 'ApplyKeyspaceRoutingRules', summary: 'validate and store the keyspace routing rules', options: rulesFlags, request: (_a, o) => rulesRequest(o) },
  {
    name: 'GetSrvKeyspaces',
    summary: "print a keyspace's serving graph per cell",
    args: ['<keyspace>', '[cells...]'],
    request: ([keyspace, cells]) => ({ keyspace, cells: [cells ?? []].flat() }),
  },
  { name: 'GetSrvKeyspaceNames', summary: 'print the keyspaces in each cell’s serving graph', args: ['[cells...]'], request: ([cells]) => ({ cells: [cells ?? []].flat() }) },
  { name: 'GetSrvVSchema', summary: "print a cell's serving VSchema", args: ['<cell>'], request: ([cell]) => ({ cell }) },
  {
    name: 'GetSrvVSchemas',
    summary: 'print the serving VSchema of each cell',
    options: [['--cells <cells>', 'only these cells']],
    request: (_a, o) => ({ cells: list(o, 'cells') }),
  },
  {
    name: 'RebuildKeyspaceGraph',
    summary:
      'fill in the serving graph (SrvKeyspace) of keyspaces: partitions that do not exist yet come from the serving shards; existing ones, possibly half switched, are kept',
    args: ['<keyspace...>'],
    options: [
      ['--cells <cells>', 'only these cells (default: all)'],
      ['--allow-partial', 'allow serving shards that do not cover the whole key range (they still must not overlap)'],
      ['--reset-partitions', 'rebuild every partition from the serving shards, undoing any switch (Vitess\'s behaviour)'],
    ],
    request: (args, o) => ({ keyspaces: [...args].flat(), cells: list(o, 'cells'), ...pick(o, { allowPartial: 'allow_partial', resetPartitions: 'reset_partitions' }) }),
  },
  {
    name: 'SetShardTabletControl',
    summary: "set the tablet control of a shard for one tablet type: tables its tablets must not serve, or no query service at all; --remove lifts it",
    args: ['<keyspace/shard>', '<tablet-type>'],
    options: [
      ['--cells <cells>', 'only in these cells (default: every cell)'],
      ['--denied-tables <tables>', 'tables to deny (with --remove: to allow again)'],
      ['--disable-query-service', 'the tablets of this type serve nothing (query_service_disabled in the serving graph)'],
      ['--no-disable-query-service', 'serve again (also --disable-query-service=false)'],
      ['--remove', 'remove the given denied tables, else the given cells, else the whole control of this type'],
    ],
    request: ([ks, type], o) => ({
      keyspace_shard: ks,
      tablet_type: type,
      cells: list(o, 'cells'),
      denied_tables: list(o, 'deniedTables'),
      ...pick(o, { disableQueryService: 'disable_query_service', remove: 'remove' }),
    }),
  },
  {
    name: 'MigrateServedTypes',
    summary:
      "the seeds' cut-over of one tablet type (rdonly, replica, then master) from a shard to the shards SplitClone or Reshard create filled: that workflow's switchtraffic for the type (--reverse: reversetraffic), with its checks and, for master, the write stop and catch-up",
    args: ['<keyspace/shard>', '<served-type>'],
    options: [
      ['--cells <cells>', 'only these cells (not for primary/master, which moves in every cell)'],
      ['--reverse', 'move the type back from the split shards to the shard'],
      ['--serving-graph-only', 'without a workflow: move the serving graph alone (nothing is copied, checked or stopped)'],
    ],
    request: ([ks, type], o) => ({ keyspace_shard: ks, served_type: type, cells: list(o, 'cells'), ...pick(o, { reverse: 'reverse', servingGraphOnly: 'serving_graph_only' }) }),
  },
  {
    name: 'RebuildVSchemaGraph',
    summary: 'rebuild the serving VSchema (SrvVSchema) from every keyspace VSchema and the rules',
    options: [['--cells <cells>', 'only these cells (default: all)']],
    request: (_a, o) => ({ cells: list(o, 'cells') }),
  },
  ...WORKFLOW_CTL_COMMANDS,
  ...VDIFF_CTL_COMMANDS,
];

/**
 * vtctldclient commands a Vitess user will reach for that Tessera does not have yet (VReplication
 * workflows, online DDL): listed so that typing one gets a clear "not implemented yet" naming it,
 * not commander's "unknown command" and a usage dump.
 */
const NOT_YET: readonly [name: string, what: string, meanwhile?: string][] = [
  ['Migrate', 'importing from an external cluster, a VReplication workflow'],
  ['OnlineDDL', 'online schema changes'],
];

/** vtctlclient-era commands whose job a modern command does: typing one names the command to use. */
const REPLACED: readonly [name: string, use: string][] = [
  ['VerticalSplitClone', 'MoveTables --workflow <name> --target-keyspace <keyspace> create --source-keyspace <keyspace> --tables <t1,t2>'],
  ['MigrateServedFrom', 'MoveTables --workflow <name> --target-keyspace <keyspace> switchtraffic [--tablet-types rdonly,replica]'],
];

function collect(value: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), value];
}

export function registerCtl(program: Command): void {
  const ctl = program
    .command('ctl')
    .description('admin client for ctld, with vtctldclient command names: tessera ctl --server localhost:15999 GetKeyspaces')
    .option('--server <host:port>', 'ctld address (its HTTP port or 15999)', process.env.TESSERA_CTLD_SERVER ?? 'localhost:15999')
    .option('--action-timeout <ms>', 'deadline of one command', String(CTLD_CLIENT_DEFAULTS.timeoutMs));

  for (const spec of CTL_COMMANDS) {
    const cmd = ctl.command(spec.name).description(spec.summary);
    for (const a of spec.aliases ?? []) cmd.alias(a);
    for (const a of spec.args ?? []) cmd.argument(a);
    for (const o of spec.options ?? []) {
      if (o.length === 3) cmd.option(o[0], o[1], o[2]);
      else cmd.option(o[0], o[1]);
    }
    for (const [flags, desc] of spec.repeatable ?? []) cmd.option(flags, desc, collect);
    cmd.action(async (...actionArgs: unknown[]) => {
      // commander passes the positional arguments, then the options, then the command.
      const command = actionArgs[actionArgs.length - 1] as Command;
      const opts = command.opts<Opts>();
      const positional = actionArgs.slice(0, actionArgs.length - 2) as string[];
      const global = ctl.opts<{ server: string; actionTimeout: string }>();
      const client = new CtldClient(global.server, { timeoutMs: Number(global.actionTimeout) });
      const result = await client.call(spec.name, await spec.request(positional, opts));
      const text = spec.print ? spec.print(result, opts) : result === null ? '' : `${JSON.stringify(result, null, 2)}\n`;
      process.stdout.write(text);
      if (spec.after) await spec.after(client, positional, opts);
    });
  }
  for (const [name, use] of REPLACED) {
    ctl
      .command(name, { hidden: true })
      .allowUnknownOption()
      .allowExcessArguments()
      .argument('[args...]')
      .action(() => {
        throw new TesseraError(ER.NOT_SUPPORTED_YET, `${name} is the vtctlclient-era way to move tables; Tessera does it with: tessera ctl ${use}`);
      });
  }
  for (const [name, what, meanwhile] of NOT_YET) {
    ctl
      .command(name, { hidden: true })
      .allowUnknownOption()
      .allowExcessArguments()
      .argument('[args...]')
      .action(() => {
        throw new TesseraError(
          ER.NOT_SUPPORTED_YET,
          `${name} is not implemented in Tessera yet (${what}). ${meanwhile ?? 'Meanwhile tables are placed with ApplySchema, ApplyVSchema and the routing rules commands'}`,
        );
      });
  }
}
