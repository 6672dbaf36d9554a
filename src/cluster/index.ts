// The local cluster: the cluster file of `tessera up` and bringing it up and down.
export { loadClusterFile, parseClusterFile } from './config.js';
export type { ClusterMode, ClusterSpec, KeyspaceSpec, LocalTabletType, ShardSpec, TabletSpec, TopoBackend } from './config.js';
