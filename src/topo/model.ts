// The cluster model stored in the topology. Field names are Vitess's proto field names
// (snake_case), so the JSON `tessera ctl` prints is what a Vitess user's jq scripts expect
// (`.keyspace.durability_policy`, `.shard.is_primary_serving`). Deviations, for readability: key
// range bounds are lowercase hex ('' = unbounded) instead of base64, tablet types are the lowercase
// names Vitess prints in text output, and times are ISO-8601 strings.
import { parseShardName, toHex } from '../key/index.js';
import { topoError } from './errors.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export const TABLET_TYPES = ['primary', 'replica', 'rdonly', 'backup', 'restore', 'drained', 'spare'] as const;
export type TabletType = (typeof TABLET_TYPES)[number];

/** The tablet types a keyspace's serving graph has partitions for. */
export const SERVED_TYPES: readonly TabletType[] = ['primary', 'replica', 'rdonly'];

/** Accepts Vitess's spellings: `PRIMARY`, `replica`, and the seeds' `master` / `batch`. */
export function parseTabletType(text: string): TabletType {
  const t = text.trim().toLowerCase();
  if (t === 'master') return 'primary';
  if (t === 'batch') return 'rdonly';
  if ((TABLET_TYPES as readonly string[]).includes(t)) return t as TabletType;
  throw topoError('BAD_ARGUMENT', `unknown tablet type '${text}' (want one of ${TABLET_TYPES.join(', ')})`);
}

/** Lowercase hex bounds; '' is unbounded. */
export interface KeyRange {
  start: string;
  end: string;
}

/** The key range a shard name stands for; BAD_ARGUMENT when the name is not a key range. */
export function shardKeyRange(shard: string): KeyRange {
  try {
    const kr = parseShardName(shard);
    return { start: toHex(kr.start), end: toHex(kr.end) };
  } catch (err) {
    throw topoError('BAD_ARGUMENT', err instanceof Error ? err.message : String(err), { cause: err });
  }
}

export interface TabletAlias {
  cell: string;
  uid: number;
}

const CELL_RE = /^[A-Za-z0-9_.]+$/;
const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Checks a cell name: letters, digits, `_` and `.` (a `-` would make tablet aliases ambiguous). */
export function checkCellName(cell: string): string {
  if (!CELL_RE.test(cell)) throw topoError('BAD_ARGUMENT', `invalid cell name '${cell}': use letters, digits, '_' and '.'`);
  return cell;
}

/** Checks a keyspace name (it becomes a path segment and a database name). */
export function checkKeyspaceName(keyspace: string): string {
  if (!NAME_RE.test(keyspace) || keyspace.length > 64) {
    throw topoError('BAD_ARGUMENT', `invalid keyspace name '${keyspace}': use letters, digits, '_', '.' and '-', at most 64 characters`);
  }
  return keyspace;
}

/** Parses `zone1-100` or `zone1-0000000100`. */
export function parseTabletAlias(text: string): TabletAlias {
  const m = /^([A-Za-z0-9_.]+)-(\d+)$/.exec(text.trim());
  if (!m) throw topoError('BAD_ARGUMENT', `invalid tablet alias '${text}': want <cell>-<uid> such as zone1-100`);
  const uid = Number(m[2]);
  if (!Number.isSafeInteger(uid) || uid > 0xffffffff) throw topoError('BAD_ARGUMENT', `invalid tablet alias '${text}': uid out of range`);
  return { cell: m[1], uid };
}

/** `zone1-0000000100`, the form Vitess prints and uses as the tablet's topology path. */
export function tabletAliasString(a: TabletAlias): string {
  return `${a.cell}-${String(a.uid).padStart(10, '0')}`;
}

export function tabletAliasEqual(a: TabletAlias | null, b: TabletAlias | null): boolean {
  return a !== null && b !== null && a.cell === b.cell && a.uid === b.uid;
}

/** Splits `customer/-80` (also `customer:-80`). */
export function parseKeyspaceShard(text: string): { keyspace: string; shard: string } {
  const i = text.search(/[/:]/);
  if (i <= 0 || i === text.length - 1) throw topoError('BAD_ARGUMENT', `invalid keyspace/shard '${text}': want <keyspace>/<shard> such as customer/-80`);
  return { keyspace: text.slice(0, i), shard: text.slice(i + 1) };
}

export interface CellInfo {
  /** Where the cell's topology lives (same form as the global server address). */
  server_address: string;
  /** The root path inside that store. */
  root: string;
}

export interface Keyspace {
  /** `none`, `semi_sync` or `cross_cell`, as Vitess. */
  durability_policy: string;
  /** Sidecar database on every tablet of the keyspace; `_vt`. */
  sidecar_db_name: string;
}

export interface TabletControl {
  tablet_type: TabletType;
  /** Empty means every cell. */
  cells: string[];
  /** Tables the tablets of this type must not serve (MoveTables sets them on the source). */
  denied_tables: string[];
  /**
   * The tablets of this type serve nothing (Reshard sets it on the source shards once their type
   * has been switched away). Mirrored into each cell's SrvKeyspace partition for the type as a
   * shard tablet control with `query_service_disabled`, which is what tablets read.
   */
  disable_query_service: boolean;
  frozen: boolean;
}

export interface SourceShard {
  uid: number;
  keyspace: string;
  shard: string;
  key_range: KeyRange;
  tables: string[];
}

export interface Shard {
  primary_alias: TabletAlias | null;
  primary_term_start_time: string | null;
  key_range: KeyRange;
  /** Whether the primary of this shard serves queries; false for resharding targets. */
  is_primary_serving: boolean;
  tablet_controls: TabletControl[];
  source_shards: SourceShard[];
}

export interface Tablet {
  alias: TabletAlias;
  hostname: string;
  /** `grpc`: the tablet's RPC port; `vt`: its HTTP port (Vitess's names). */
  port_map: Record<string, number>;
  keyspace: string;
  shard: string;
  key_range: KeyRange;
  type: TabletType;
  /** The database name on MariaDB; '' means `vt_<keyspace>`. */
  db_name_override: string;
  tags: Record<string, string>;
  mysql_hostname: string;
  mysql_port: number;
  primary_term_start_time: string | null;
}

export interface ShardReference {
  name: string;
  key_range: KeyRange;
}

/** Vitess's ShardTabletControl: a shard whose tablets of the partition's type must not serve. */
export interface ShardTabletControl {
  name: string;
  key_range: KeyRange;
  query_service_disabled: boolean;
}

export interface KeyspacePartition {
  served_type: TabletType;
  shard_references: ShardReference[];
  shard_tablet_controls: ShardTabletControl[];
}

/**
 * Per cell and keyspace: for each served tablet type, the shards (a partition) that serve it.
 * Partitions move one tablet type at a time while a keyspace is resharded, so they may differ
 * (replica reads on the new shards while the primary is still on the old one).
 */
export interface SrvKeyspace {
  partitions: KeyspacePartition[];
}

export interface RoutingRule {
  from_table: string;
  to_tables: string[];
}
export interface RoutingRules {
  rules: RoutingRule[];
}

export interface ShardRoutingRule {
  from_keyspace: string;
  to_keyspace: string;
  shard: string;
}
export interface ShardRoutingRules {
  rules: ShardRoutingRule[];
}

export interface KeyspaceRoutingRule {
  from_keyspace: string;
  to_keyspace: string;
}
export interface KeyspaceRoutingRules {
  rules: KeyspaceRoutingRule[];
}

/** A keyspace's VSchema as Vitess writes it (`sharded`, `vindexes`, `tables`, ...). */
export type KeyspaceVSchema = JsonObject;

/** Per cell: every keyspace's VSchema and the cluster's rules, as the gates route by. */
export interface SrvVSchema {
  keyspaces: Record<string, KeyspaceVSchema>;
  routing_rules: RoutingRules;
  shard_routing_rules: ShardRoutingRules;
  keyspace_routing_rules: KeyspaceRoutingRules;
}

export function newKeyspace(fields: Partial<Keyspace> = {}): Keyspace {
  return { durability_policy: fields.durability_policy ?? 'none', sidecar_db_name: fields.sidecar_db_name ?? '_vt' };
}

export function newShard(shardName: string, fields: Partial<Shard> = {}): Shard {
  return {
    primary_alias: fields.primary_alias ?? null,
    primary_term_start_time: fields.primary_term_start_time ?? null,
    key_range: fields.key_range ?? shardKeyRange(shardName),
    is_primary_serving: fields.is_primary_serving ?? true,
    // Records written before disable_query_service existed lack it.
    tablet_controls: (fields.tablet_controls ?? []).map(newTabletControl),
    source_shards: fields.source_shards ?? [],
  };
}

export function newTabletControl(fields: Partial<TabletControl> & { tablet_type: TabletType }): TabletControl {
  return {
    tablet_type: fields.tablet_type,
    cells: fields.cells ?? [],
    denied_tables: fields.denied_tables ?? [],
    disable_query_service: fields.disable_query_service ?? false,
    frozen: fields.frozen ?? false,
  };
}

export function newTablet(fields: Partial<Tablet> & { alias: TabletAlias; keyspace: string; shard: string; type: TabletType }): Tablet {
  return {
    alias: fields.alias,
    hostname: fields.hostname ?? 'localhost',
    port_map: fields.port_map ?? {},
    keyspace: fields.keyspace,
    shard: fields.shard,
    key_range: fields.key_range ?? shardKeyRange(fields.shard),
    type: fields.type,
    db_name_override: fields.db_name_override ?? '',
    tags: fields.tags ?? {},
    mysql_hostname: fields.mysql_hostname ?? fields.hostname ?? 'localhost',
    mysql_port: fields.mysql_port ?? 0,
    primary_term_start_time: fields.primary_term_start_time ?? null,
  };
}

export function emptySrvVSchema(): SrvVSchema {
  return { keyspaces: {}, routing_rules: { rules: [] }, shard_routing_rules: { rules: [] }, keyspace_routing_rules: { rules: [] } };
}

/** The database a tablet's MariaDB holds its keyspace in. */
export function tabletDbName(t: Tablet): string {
  return t.db_name_override !== '' ? t.db_name_override : `vt_${t.keyspace}`;
}

/** Parses JSON text, failing with a message that names what it was. */
export function parseJsonText(text: string, what: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (err) {
    throw topoError('BAD_ARGUMENT', `${what} is not valid JSON: ${(err as Error).message}`);
  }
}
