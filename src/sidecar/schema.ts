// Every table of the sidecar database (`_vt`, or the keyspace's `sidecar_db_name`), and the
// versions that build it. A tablet calls ensureSidecarSchema at start: it creates the database and
// runs, in order, the steps of every version newer than the one recorded in the database.
//
// Why versions and not a diff of the live schema against the wanted one (Vitess's way): a list of
// numbered steps is plain to read, test and review, and MariaDB's `IF [NOT] EXISTS` on tables,
// columns and indexes makes each step idempotent, so a crash halfway through a version simply
// runs that version again at the next start.
//
// The DDL and the version rows are written with sql_log_bin = 0, as Vitess does: every tablet
// builds its own sidecar schema, so replicating the DDL would apply it twice on a replica (or
// break replication when the replica got there first). The ROWS later written into these tables
// are binlogged like any others, so a replica holds the primary's streams and a new primary after
// a reparent finds them.
//
// Column names and types follow Vitess's go/vt/sidecardb/schema files, so queries and habits from
// Vitess (`select * from _vt.vreplication\G`) carry over.
import { ER, TesseraError } from '../mysql/errors.js';
import { logger } from '../log/index.js';
import { quoteIdent, quoteString } from '../sql/index.js';
import { cellText, type SqlExecutor } from './executor.js';

const log = logger('sidecar');

/** The sidecar database's name when the keyspace record does not name one (Vitess's default). */
export const SIDECAR_DB_DEFAULT = '_vt';

/** The table that records which versions of the sidecar schema this server has applied. */
export const SIDECAR_VERSION_TABLE = 'sidecar_schema_version';

export const SIDECAR_DEFAULTS = {
  /**
   * How long a tablet waits for another session upgrading the same sidecar database (two tablet
   * processes on one MariaDB, or a restart racing the old process's exit) before giving up.
   */
  lockTimeoutS: 30,
};

/** The sidecar database a keyspace's `sidecar_db_name` names; empty means the default. */
export function sidecarDbName(name: string | undefined | null): string {
  return name ? name : SIDECAR_DB_DEFAULT;
}

export interface SidecarVersion {
  readonly version: number;
  readonly description: string;
  /** Idempotent statements, given the sidecar database's name already quoted. */
  readonly steps: (db: string) => readonly string[];
}

// ---- table definitions ---------------------------------------------------------------------------

/** The reparent journal as tablets created it before the schema was versioned (version 1). */
const REPARENT_JOURNAL_V1 = (db: string) => `CREATE TABLE IF NOT EXISTS ${db}.reparent_journal (
  time_created_ns BIGINT UNSIGNED NOT NULL,
  action_name VARBINARY(250) NOT NULL,
  primary_alias VARBINARY(32) NOT NULL,
  replication_position VARBINARY(64000) DEFAULT NULL,
  PRIMARY KEY (time_created_ns)
) ENGINE=InnoDB`;

// One row per stream. `source` is the BinlogSource in protobuf text form, `pos` a GTID position
// (`MariaDB/0-100-42`), times are Unix seconds. `options` is JSON; MariaDB allows it a default,
// which keeps hand-written inserts working (Vitess, on MySQL, has none).
const VREPLICATION = (db: string) => `CREATE TABLE IF NOT EXISTS ${db}.vreplication (
  id INT NOT NULL AUTO_INCREMENT,
  workflow VARBINARY(1000) DEFAULT NULL,
  source MEDIUMBLOB NOT NULL,
  pos VARBINARY(10000) NOT NULL,
  stop_pos VARBINARY(10000) DEFAULT NULL,
  max_tps BIGINT NOT NULL,
  max_replication_lag BIGINT NOT NULL,
  cell VARBINARY(1000) DEFAULT NULL,
  tablet_types VARBINARY(100) DEFAULT NULL,
  time_updated BIGINT NOT NULL,
  transaction_timestamp BIGINT NOT NULL,
  state VARBINARY(100) NOT NULL,
  message VARBINARY(1000) DEFAULT NULL,
  db_name VARBINARY(255) NOT NULL,
  rows_copied BIGINT NOT NULL DEFAULT 0,
  tags VARBINARY(1024) NOT NULL DEFAULT '',
  time_heartbeat BIGINT NOT NULL DEFAULT 0,
  workflow_type INT NOT NULL DEFAULT 0,
  time_throttled BIGINT NOT NULL DEFAULT 0,
  component_throttled VARCHAR(255) NOT NULL DEFAULT '',
  reason_throttled VARCHAR(512) NOT NULL DEFAULT '',
  workflow_sub_type INT NOT NULL DEFAULT 0,
  defer_secondary_keys TINYINT(1) NOT NULL DEFAULT 0,
  options JSON NOT NULL DEFAULT '{}',
  PRIMARY KEY (id),
  KEY workflow_idx (workflow(64))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`;

// One row per table still being copied; the row goes when the table's copy is done. `lastpk` is
// wider than Vitess's varbinary(2000): our text form (src/vreplication/lastpk.ts) of a key at
// InnoDB's 3072-byte limit, binary and escaped, needs up to about 6 KB.
export const COPY_STATE_LASTPK_BYTES_MAX = 16_384;
const COPY_STATE = (db: string) => `CREATE TABLE IF NOT EXISTS ${db}.copy_state (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  vrepl_id INT NOT NULL,
  table_name VARBINARY(128) NOT NULL,
  lastpk VARBINARY(${COPY_STATE_LASTPK_BYTES_MAX}) DEFAULT NULL,
  PRIMARY KEY (id),
  KEY vrepl_id (vrepl_id, table_name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`;

// What to do to a table once its copy ends (Vitess's table of the same name): today the ALTER that
// adds back the secondary keys the copy dropped (--defer-secondary-keys). Written before the keys
// are dropped, deleted after they are back, so a crash in between loses no key.
const POST_COPY_ACTION = (db: string) => `CREATE TABLE IF NOT EXISTS ${db}.post_copy_action (
  id BIGINT NOT NULL AUTO_INCREMENT,
  vrepl_id INT NOT NULL,
  table_name VARBINARY(128) NOT NULL,
  action JSON NOT NULL,
  PRIMARY KEY (id),
  KEY vrepl_id (vrepl_id, table_name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`;

const VREPLICATION_LOG = (db: string) => `CREATE TABLE IF NOT EXISTS ${db}.vreplication_log (
  id BIGINT NOT NULL AUTO_INCREMENT,
  vrepl_id INT NOT NULL,
  type VARBINARY(256) NOT NULL,
  state VARBINARY(100) NOT NULL,
  created_at DATETIME NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at DATETIME NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  message TEXT NOT NULL,
  count BIGINT NOT NULL DEFAULT 1,
  PRIMARY KEY (id),
  KEY vrepl_id_idx (vrepl_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`;

const RESHARDING_JOURNAL = (db: string) => `CREATE TABLE IF NOT EXISTS ${db}.resharding_journal (
  id BIGINT NOT NULL,
  db_name VARBINARY(255) DEFAULT NULL,
  val MEDIUMBLOB,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`;

// VDiff (src/vdiff): one row per VDiff per target primary, as Vitess's vdiff table; its per-table
// progress (`lastpk` is the last key compared, in copy_state's text form, so a resume, a restart or
// a new primary goes on after it); its log; and — Tessera's own — every differing row found, with
// both sides' values, which the report's samples and the repair script are read from. The rows are
// binlogged like the vreplication rows, so a new primary after a reparent holds them.
const VDIFF = (db: string) => `CREATE TABLE IF NOT EXISTS ${db}.vdiff (
  id BIGINT NOT NULL AUTO_INCREMENT,
  vdiff_uuid VARCHAR(64) NOT NULL,
  workflow VARBINARY(1024) DEFAULT NULL,
  keyspace VARBINARY(256) DEFAULT NULL,
  shard VARCHAR(255) NOT NULL,
  db_name VARBINARY(1024) DEFAULT NULL,
  state VARBINARY(64) DEFAULT NULL,
  options JSON DEFAULT NULL,
  created_at TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
  started_at TIMESTAMP NULL DEFAULT NULL,
  liveness_timestamp TIMESTAMP NULL DEFAULT NULL,
  completed_at TIMESTAMP NULL DEFAULT NULL,
  last_error VARBINARY(1024) DEFAULT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uuid_idx (vdiff_uuid),
  KEY state (state),
  KEY ks_wf_idx (keyspace(64), workflow(64))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`;

const VDIFF_TABLE = (db: string) => `CREATE TABLE IF NOT EXISTS ${db}.vdiff_table (
  vdiff_id VARCHAR(64) NOT NULL,
  table_name VARBINARY(128) NOT NULL,
  state VARBINARY(64) DEFAULT NULL,
  lastpk VARBINARY(${COPY_STATE_LASTPK_BYTES_MAX}) DEFAULT NULL,
  table_rows BIGINT NOT NULL DEFAULT 0,
  rows_compared BIGINT NOT NULL DEFAULT 0,
  mismatch TINYINT(1) NOT NULL DEFAULT 0,
  report JSON DEFAULT NULL,
  created_at TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (vdiff_id, table_name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`;

const VDIFF_LOG = (db: string) => `CREATE TABLE IF NOT EXISTS ${db}.vdiff_log (
  id INT NOT NULL AUTO_INCREMENT,
  vdiff_id INT NOT NULL,
  created_at TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
  message TEXT NOT NULL,
  PRIMARY KEY (id),
  KEY vdiff_id_idx (vdiff_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`;

const VDIFF_ROW = (db: string) => `CREATE TABLE IF NOT EXISTS ${db}.vdiff_row (
  id BIGINT NOT NULL AUTO_INCREMENT,
  vdiff_id BIGINT NOT NULL,
  table_name VARBINARY(128) NOT NULL,
  kind VARBINARY(32) NOT NULL,
  pk MEDIUMBLOB NOT NULL,
  source_row MEDIUMBLOB DEFAULT NULL,
  target_row MEDIUMBLOB DEFAULT NULL,
  PRIMARY KEY (id),
  KEY vdiff_table_idx (vdiff_id, table_name, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`;

/** Sizes of text columns the stream store writes, so it can cut a message instead of failing. */
export const SIDECAR_COLUMN_BYTES_MAX = {
  vreplicationMessage: 1000,
  componentThrottledChars: 255,
  reasonThrottledChars: 512,
  logMessage: 65_535,
  logType: 256,
  logState: 100,
} as const;

// ---- versions ------------------------------------------------------------------------------------

/**
 * The versions, oldest first, numbered from 1 without gaps. Never edit a released version: add a
 * new one whose steps move the schema forward (and are idempotent: IF [NOT] EXISTS, MODIFY).
 */
export const SIDECAR_VERSIONS: readonly SidecarVersion[] = [
  {
    version: 1,
    description: 'reparent_journal, as tablets created it before the schema was versioned',
    steps: (db) => [REPARENT_JOURNAL_V1(db)],
  },
  {
    version: 2,
    description: 'VReplication state (vreplication, copy_state, vreplication_log, resharding_journal); reparent_journal sized as Vitess sizes it',
    steps: (db) => [
      `ALTER TABLE ${db}.reparent_journal MODIFY action_name VARBINARY(255) NOT NULL, MODIFY primary_alias VARBINARY(255) NOT NULL`,
      VREPLICATION(db),
      COPY_STATE(db),
      VREPLICATION_LOG(db),
      RESHARDING_JOURNAL(db),
    ],
  },
  {
    version: 3,
    description: 'copy_state counts the rows and bytes copied per table; post_copy_action holds the secondary keys a copy deferred',
    steps: (db) => [
      `ALTER TABLE ${db}.copy_state ADD COLUMN IF NOT EXISTS rows_copied BIGINT NOT NULL DEFAULT 0, ADD COLUMN IF NOT EXISTS bytes_copied BIGINT NOT NULL DEFAULT 0`,
      POST_COPY_ACTION(db),
    ],
  },
  {
    version: 4,
    description: 'VDiff state (vdiff, vdiff_table, vdiff_log) and the differing rows it found (vdiff_row)',
    steps: (db) => [VDIFF(db), VDIFF_TABLE(db), VDIFF_LOG(db), VDIFF_ROW(db)],
  },
  {
    version: 5,
    description: 'copy_state holds one row per chunk of a table copied in parallel: the chunk\'s last key (chunk_end) and whether it is done',
    steps: (db) => [
      `ALTER TABLE ${db}.copy_state ADD COLUMN IF NOT EXISTS chunk_end VARBINARY(${COPY_STATE_LASTPK_BYTES_MAX}) DEFAULT NULL, ADD COLUMN IF NOT EXISTS chunk_done TINYINT NOT NULL DEFAULT 0`,
    ],
  },
];

export const SIDECAR_SCHEMA_VERSION = SIDECAR_VERSIONS[SIDECAR_VERSIONS.length - 1]!.version;

const VERSION_TABLE = (db: string) => `CREATE TABLE IF NOT EXISTS ${db}.${SIDECAR_VERSION_TABLE} (
  version INT NOT NULL,
  description VARBINARY(1000) NOT NULL,
  applied_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (version)
) ENGINE=InnoDB`;

/** The newest version applied to `db`; 0 when the database or the version table is missing. */
export async function readSidecarVersion(exec: SqlExecutor, db: string): Promise<number> {
  const r = await exec.query(
    `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ${quoteString(db)} AND table_name = ${quoteString(SIDECAR_VERSION_TABLE)}`,
  );
  if (Number(cellText(r.rows[0]?.[0])) === 0) return 0;
  const v = await exec.query(`SELECT COALESCE(MAX(version), 0) FROM ${quoteIdent(db)}.${SIDECAR_VERSION_TABLE}`);
  return Number(cellText(v.rows[0]?.[0]));
}

export interface EnsureSidecarOptions {
  /** The sidecar database; the default `_vt`. */
  readonly db?: string;
  /** Stop after this version (tests build an older schema with it); the newest by default. */
  readonly upTo?: number;
  readonly lockTimeoutS?: number;
}

export interface EnsureSidecarResult {
  readonly db: string;
  /** The version found (0: none). */
  readonly from: number;
  /** The version now applied. */
  readonly to: number;
}

/**
 * Creates the sidecar database and brings its tables to the newest version (or `upTo`), without
 * binlogging any of it. Runs on `exec`'s session, which needs vt_dba's privileges (sql_log_bin,
 * DDL on a read-only replica) and must not be inside a transaction; sql_log_bin is put back as it
 * was. A database newer than this code is left alone, with a warning.
 */
export async function ensureSidecarSchema(exec: SqlExecutor, o: EnsureSidecarOptions = {}): Promise<EnsureSidecarResult> {
  const name = sidecarDbName(o.db);
  const db = quoteIdent(name);
  const target = o.upTo ?? SIDECAR_SCHEMA_VERSION;
  if (!Number.isInteger(target) || target < 0 || target > SIDECAR_SCHEMA_VERSION) {
    throw new TesseraError(ER.WRONG_ARGUMENTS, `sidecar schema version ${target} does not exist; versions are 1 to ${SIDECAR_SCHEMA_VERSION}`);
  }
  const lockTimeoutS = o.lockTimeoutS ?? SIDECAR_DEFAULTS.lockTimeoutS;
  const binlogWas = cellText((await exec.query('SELECT @@session.sql_log_bin')).rows[0]?.[0]);
  await exec.query('SET SESSION sql_log_bin = 0');
  // The lock serialises upgrades of one database by several sessions; it is per server, which is
  // exactly the scope of a sidecar schema. Lock names are limited to 64 characters.
  const lockName = quoteString(`tessera_sidecar:${name}`.slice(0, 64));
  let locked = false;
  try {
    await exec.query(`CREATE DATABASE IF NOT EXISTS ${db}`);
    const got = cellText((await exec.query(`SELECT GET_LOCK(${lockName}, ${lockTimeoutS})`)).rows[0]?.[0]);
    if (got !== '1') {
      throw new TesseraError(
        ER.LOCK_WAIT_TIMEOUT,
        `another session has been upgrading the sidecar database ${name} for more than ${lockTimeoutS} s; ` +
          `find it with SELECT * FROM information_schema.processlist, let it finish or kill it, then restart the tablet`,
        { kind: 'DEADLINE_EXCEEDED' },
      );
    }
    locked = true;
    await exec.query(VERSION_TABLE(db));
    const from = await readSidecarVersion(exec, name);
    if (from > SIDECAR_SCHEMA_VERSION) {
      log.warn({ db: name, version: from, known: SIDECAR_SCHEMA_VERSION }, 'the sidecar schema is newer than this Tessera; leaving it as it is');
      return { db: name, from, to: from };
    }
    for (const v of SIDECAR_VERSIONS) {
      if (v.version <= from || v.version > target) continue;
      const steps = v.steps(db);
      for (let i = 0; i < steps.length; i++) {
        try {
          await exec.query(steps[i]!);
        } catch (err) {
          const e = TesseraError.from(err);
          throw new TesseraError(
            e,
            `creating the sidecar database ${name}: version ${v.version} (${v.description}), step ${i + 1} of ${steps.length} failed: ${e.message}. ` +
              'The steps are idempotent: fix the cause and restart the tablet to go on from there.',
            { cause: err },
          );
        }
      }
      await exec.query(
        `INSERT INTO ${db}.${SIDECAR_VERSION_TABLE} (version, description) VALUES (${v.version}, ${quoteString(v.description)}) ` +
          'ON DUPLICATE KEY UPDATE description = VALUES(description), applied_at = CURRENT_TIMESTAMP',
      );
    }
    const to = Math.max(from, target);
    if (to !== from) log.info({ db: name, from, to }, 'sidecar schema upgraded');
    return { db: name, from, to };
  } finally {
    if (locked) await exec.query(`SELECT RELEASE_LOCK(${lockName})`).catch(() => undefined);
    await exec.query(`SET SESSION sql_log_bin = ${binlogWas === '0' ? 0 : 1}`).catch(() => undefined);
  }
}
