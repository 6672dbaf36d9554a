// The local cluster: the cluster file of `tessera up` and bringing it up and down.
export { loadClusterFile, parseClusterFile } from './config.js';
export type { ClusterMode, ClusterSpec, GateSpec, KeyspaceSpec, LocalTabletType, ShardSpec, TabletSpec, TopoBackend } from './config.js';
export { LocalCluster, UP_DEFAULTS, nextRestartDelay } from './up.js';
export type { UpOptions } from './up.js';
export { readUpState, writeUpState, removeUpState, topoDir, UP_STATE_FILE } from './state.js';
export type { UpState, ProcessRecord, ProcessRole } from './state.js';
export { clusterStatus, clusterStatusJson, formatStatusTable } from './status.js';
export type { ClusterStatusJson, ProcessStatusRow, TabletStatusRow } from './status.js';
