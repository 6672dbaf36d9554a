// VSchema: the Vitess VSchema JSON per keyspace, routing rules, shard routing rules and keyspace
// routing rules; parsed, validated and written back in one canonical form. Sits between
// vindexes (which it instantiates to validate) and topo / gate / workflows (which consume it).
//
// Per keyspace:
//   parseKeyspaceVSchema(keyspace, json) → KeyspaceVSchema   throws TesseraError (1210) naming
//       keyspace/table/vindex and the problem; `json` is a parsed value or JSON text.
//   vschemaToJSON(v) → object                 canonical Vitess JSON (proto names, no defaults)
//   instantiateVindexes(v) → Map<name, Vindex>
// Rules (each also accepts JSON text; missing/empty documents have no rules):
//   parseRoutingRules(json) / routingRulesToJSON(r)
//       {"rules":[{"from_table":"ks.t@replica","to_tables":["ks2.t"]}]}
//   parseShardRoutingRules(json) / shardRoutingRulesToJSON(r)
//       {"rules":[{"from_keyspace":"a","to_keyspace":"b","shard":"-80"}]}; reads "shards" too,
//       always writes "shard"
//   parseKeyspaceRoutingRules(json) / keyspaceRoutingRulesToJSON(r)
//       {"rules":[{"from_keyspace":"a","to_keyspace":"b"}]}
// Whole cluster:
//   validateClusterVSchema(input) → string[]  cross-keyspace problems (sequences, reference
//       sources, rule targets)
//   buildClusterVSchema(input) → ClusterVSchema   throws if validateClusterVSchema finds any;
//       offers findTable(keyspace?, table, tabletType?) and keyspaceForShard(keyspace, shard)
export {
  instantiateVindexes,
  parseKeyspaceVSchema,
  vschemaToJSON,
} from './keyspace-vschema.js';
export type {
  AutoIncrement,
  ColumnVindex,
  ForeignKeyMode,
  KeyspaceVSchema,
  TableColumn,
  TableType,
  TableVSchema,
  VindexDef,
} from './keyspace-vschema.js';
export {
  TABLET_TYPES_FOR_ROUTING,
  keyspaceRoutingRulesToJSON,
  parseKeyspaceRoutingRules,
  parseRoutingRules,
  parseShardRoutingRules,
  routingRulesToJSON,
  shardRoutingRulesToJSON,
} from './rules.js';
export type {
  KeyspaceRoutingRule,
  KeyspaceRoutingRules,
  RoutingRule,
  RoutingRules,
  RoutingTabletType,
  ShardRoutingRule,
  ShardRoutingRules,
  TableRef,
} from './rules.js';
export { buildClusterVSchema, validateClusterVSchema } from './cluster-vschema.js';
export type { ClusterVSchema, ClusterVSchemaInput, ResolvedTable } from './cluster-vschema.js';
