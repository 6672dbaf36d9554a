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
  Warning,
} from './query-service.js';
export { TabletServer, TABLET_SERVER_DEFAULTS } from './tablet-server.js';
export type { TabletServerConfig, TabletServerLimits } from './tablet-server.js';
export { TabletManager, TABLET_MANAGER_DEFAULTS } from './tablet-manager.js';
export type { FetchOptions, FetchResult } from './tablet-manager.js';
export { TabletConn } from './tablet-conn.js';
export { tabletRpcServer } from './rpc-service.js';
export { TABLET_MANAGER_CLIENT_DEFAULTS, TabletManagerClientBase, tmWireName } from './tablet-manager-client.js';
export type {
  ApplySchemaRequest,
  ApplySchemaResponse,
  ChangeTypeRequest,
  DemotePrimaryResponse,
  EmptyRequest,
  ExecuteFetchAsAppRequest,
  ExecuteFetchAsDbaRequest,
  PopulateReparentJournalRequest,
  PositionResponse,
  PromoteReplicaRequest,
  ReplicationStatusResponse,
  ResetReplicationRequest,
  SchemaResponse,
  SemiSyncRequest,
  SetReplicationSourceRequest,
  SetSemiSyncRequest,
  StartReplicationRequest,
  TabletManagerClient,
  TabletRef,
  TabletResponse,
  TimeoutRequest,
  TmCallOptions,
  TmMethod,
  TmRequest,
  TmResponse,
  WaitForPositionRequest,
} from './tablet-manager-client.js';
export { LocalTabletManagerClient } from './local-tablet-manager-client.js';
export type { TabletManagerLookup } from './local-tablet-manager-client.js';
export { RpcTabletManagerClient, RPC_TABLET_MANAGER_CLIENT_DEFAULTS } from './rpc-tablet-manager-client.js';
export type { RpcTabletManagerClientOptions } from './rpc-tablet-manager-client.js';
export { TM_METHODS, TM_METHOD_DEFAULTS, RequestReader } from './tablet-manager-methods.js';
export type { TmMethodSpec } from './tablet-manager-methods.js';
export { TabletProcess } from './tablet.js';
export { MysqlKeeper, MYSQL_RESTART_DEFAULTS, MYSQL_DOWN_ALERT } from './mysql-keeper.js';
export type { MysqlRestartOptions } from './mysql-keeper.js';
export type { TabletOptions, UnmanagedMysql } from './tablet.js';
export { SchemaEngine, isSchemaChange } from './schema-engine.js';
export type { TableSchema, ColumnSchema, IndexSchema } from './schema-engine.js';
export { ConnPool } from './pool.js';
export { Replication, REPLICATION_DEFAULTS, errantGtids, semiSyncFor } from './replication.js';
export type { FullStatus, ReplicationStatus } from './replication.js';
