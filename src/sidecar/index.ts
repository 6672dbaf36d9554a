// The sidecar database (`_vt` or the keyspace's sidecar_db_name): every table's DDL, the schema
// versions and the upgrade a tablet runs at start. Typed reads and writes of the VReplication
// tables live in src/vreplication/stream-store.ts.
export {
  SIDECAR_DB_DEFAULT,
  SIDECAR_VERSION_TABLE,
  SIDECAR_DEFAULTS,
  SIDECAR_VERSIONS,
  SIDECAR_SCHEMA_VERSION,
  SIDECAR_COLUMN_BYTES_MAX,
  COPY_STATE_LASTPK_BYTES_MAX,
  sidecarDbName,
  readSidecarVersion,
  ensureSidecarSchema,
} from './schema.js';
export type { SidecarVersion, EnsureSidecarOptions, EnsureSidecarResult } from './schema.js';
export { cellText, inTransaction } from './executor.js';
export type { SqlExecutor, SqlExecResult } from './executor.js';
