export { Mysqlctl, MYSQLCTL_DEFAULTS, resolveDataRoot, tabletDir } from './mysqlctl.js';
export type { MysqlctlOptions, InstanceStatus } from './mysqlctl.js';
export { instancePaths, pad10 } from './config.js';
export type { InstancePaths } from './config.js';
export { mariadbBinaries } from './binaries.js';
export { ensureTemplate, cacheRoot } from './template.js';
export { probeServer } from './probe.js';
export { processAlive, waitForExit, readPidFile } from './process.js';
export { DBA_USER, APP_USER, ALLPRIVS_USER, REPL_USER, FILTERED_USER, SIDECAR_DB } from './users.js';
