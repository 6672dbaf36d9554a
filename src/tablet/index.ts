export type {
  BeginOptions,
  BindValue,
  BindVars,
  ExecuteOptions,
  ExecuteResult,
  HealthState,
  QueryResult,
  QueryService,
  ReserveOptions,
  StreamChunk,
  Target,
} from './query-service.js';
export { TabletServer, TABLET_SERVER_DEFAULTS } from './tablet-server.js';
export type { TabletServerConfig, TabletServerLimits } from './tablet-server.js';
export { TabletManager, TABLET_MANAGER_DEFAULTS } from './tablet-manager.js';
export type { FetchOptions, FetchResult } from './tablet-manager.js';
export { TabletConn } from './tablet-conn.js';
export { tabletRpcServer, tmHandlers } from './rpc-service.js';
export type { TmMethod } from './rpc-service.js';
export { TabletProcess } from './tablet.js';
export type { TabletOptions, UnmanagedMysql } from './tablet.js';
export { SchemaEngine, isSchemaChange } from './schema-engine.js';
export type { TableSchema, ColumnSchema, IndexSchema } from './schema-engine.js';
export { ConnPool } from './pool.js';
export { Replication, REPLICATION_DEFAULTS, errantGtids, semiSyncFor } from './replication.js';
export type { FullStatus, ReplicationStatus, ReplicationTmMethod } from './replication.js';
