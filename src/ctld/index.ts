// ctld: the admin API (HTTP+JSON) the CLI and the web UI use. See docs/ctl.md.
export { CTLD_COMMANDS, CTLD_COMMAND_ALIASES } from './api.js';
export { CtldClient, CTLD_CLIENT_DEFAULTS } from './client.js';
export type { CtldClientOptions } from './client.js';
export { optBool, optInt, optString, optStringList, optStringMap, reqJson, reqString } from './command.js';
export type { CommandTable, CtldCommand, CtldContext } from './command.js';
export { CTLD_SERVER_DEFAULTS, startCtldServer } from './http.js';
export type { CtldServer, CtldServerOptions } from './http.js';
export { TOPO_COMMANDS } from './topo-commands.js';
export { ctldMetrics, observeCommand, serveMetrics } from './metrics.js';
export type { CtldMetrics } from './metrics.js';
export { UI_COMMANDS, clusterOverview } from './ui/commands.js';
export { TABLET_HEALTH_DEFAULTS, checkTabletHealth } from './ui/health.js';
export type { TabletHealthOptions } from './ui/health.js';
export type { ClusterOverview, TabletHealthReport, TabletHealthState, TabletHealthView } from './ui/types.js';
export { FailoverWatcher, FAILOVER_WATCHER_DEFAULTS } from './failover-watcher.js';
export type { FailoverEvent, FailoverWatcherOptions } from './failover-watcher.js';
