// The topology: the cluster's metadata (cells, keyspaces, shards, tablets, VSchemas, rules, the
// serving graph) behind one interface, on memory, file or etcd. See docs/topo.md.
export { checkPath, joinPath } from './conn.js';
export type { Conn, LockHandle, LockOptions, NodeValue, OpOptions, Version, Watch, WatchEvent } from './conn.js';
export { TOPO_READ_DEFAULTS, TopoError, isTopoError, readOrMissing, topoError } from './errors.js';
export type { TopoErrorCode } from './errors.js';
export { MemoryConn, MemoryStore, memoryStore, openMemoryConn } from './memory.js';
export type { Fault, MemoryOp } from './memory.js';
export { FileConn, FILE_CONN_DEFAULTS } from './file.js';
export type { FileConnOptions } from './file.js';
export { EtcdConn, ETCD_CONN_DEFAULTS } from './etcd.js';
export type { EtcdConnOptions } from './etcd.js';
export {
  SERVED_TYPES,
  TABLET_TYPES,
  checkCellName,
  checkKeyspaceName,
  emptySrvVSchema,
  newKeyspace,
  newShard,
  newTablet,
  newTabletControl,
  parseJsonText,
  parseKeyspaceShard,
  parseTabletAlias,
  parseTabletType,
  shardKeyRange,
  tabletAliasEqual,
  tabletAliasString,
  tabletDbName,
} from './model.js';
export type {
  CellInfo,
  Json,
  JsonObject,
  KeyRange,
  Keyspace,
  KeyspacePartition,
  KeyspaceRoutingRule,
  KeyspaceRoutingRules,
  KeyspaceVSchema,
  RoutingRule,
  RoutingRules,
  Shard,
  ShardReference,
  ShardRoutingRule,
  ShardRoutingRules,
  ShardTabletControl,
  SourceShard,
  SrvKeyspace,
  SrvVSchema,
  Tablet,
  TabletAlias,
  TabletControl,
  TabletType,
} from './model.js';
export { TOPO_SERVER_DEFAULTS, TopoServer, buildSrvKeyspace, foldCellRoutingRules } from './server.js';
export type {
  CellConnFactory,
  GateRecord,
  LockContents,
  LockOpts,
  NamedShard,
  TabletFilter,
  TopoLock,
  TopoServerOptions,
  TypedWatch,
  TypedWatchEvent,
  Versioned,
} from './server.js';
export {
  checkSrvVSchema,
  srvVSchemaProblems,
  validateKeyspaceRoutingRules,
  validateKeyspaceVSchema,
  validateRoutingRules,
  validateShardRoutingRules,
} from './validate.js';
export { TOPO_FLAG_DEFAULTS, TOPO_IMPLEMENTATIONS, addTopoFlags, openConn, openTopoServer } from './open.js';
export type { TopoFlags, TopoImplementation } from './open.js';
