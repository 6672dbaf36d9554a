// Numbers of the binary log format (MariaDB's log_event.h); names follow the C enum so they can be
// looked up there.
import type { ErrorCode } from '../errors.js';

/** Event type codes. MariaDB's own events start at 160. */
export const EVENT = {
  UNKNOWN: 0,
  START_V3: 1,
  QUERY: 2,
  STOP: 3,
  ROTATE: 4,
  INTVAR: 5,
  SLAVE: 7,
  APPEND_BLOCK: 9,
  DELETE_FILE: 11,
  RAND: 13,
  USER_VAR: 14,
  FORMAT_DESCRIPTION: 15,
  XID: 16,
  BEGIN_LOAD_QUERY: 17,
  EXECUTE_LOAD_QUERY: 18,
  TABLE_MAP: 19,
  WRITE_ROWS_V1: 23,
  UPDATE_ROWS_V1: 24,
  DELETE_ROWS_V1: 25,
  INCIDENT: 26,
  HEARTBEAT: 27,
  IGNORABLE: 28,
  ROWS_QUERY: 29,
  WRITE_ROWS_V2: 30,
  UPDATE_ROWS_V2: 31,
  DELETE_ROWS_V2: 32,
  ANNOTATE_ROWS: 160,
  BINLOG_CHECKPOINT: 161,
  GTID: 162,
  GTID_LIST: 163,
  START_ENCRYPTION: 164,
  QUERY_COMPRESSED: 165,
  WRITE_ROWS_COMPRESSED_V1: 166,
  UPDATE_ROWS_COMPRESSED_V1: 167,
  DELETE_ROWS_COMPRESSED_V1: 168,
  WRITE_ROWS_COMPRESSED: 169,
  UPDATE_ROWS_COMPRESSED: 170,
  DELETE_ROWS_COMPRESSED: 171,
} as const;

const EVENT_NAMES = new Map<number, string>(Object.entries(EVENT).map(([k, v]) => [v, k]));

/** `WRITE_ROWS_V1`, or `EVENT_<n>` for a code we do not name. */
export function eventName(type: number): string {
  return EVENT_NAMES.get(type) ?? `EVENT_${type}`;
}

export const EVENT_HEADER_LENGTH = 19;
export const CHECKSUM_LENGTH = 4;
export const BINLOG_MAGIC = Buffer.from([0xfe, 0x62, 0x69, 0x6e]);

/** FORMAT_DESCRIPTION's checksum algorithm byte. */
export const CHECKSUM_ALG = { OFF: 0, CRC32: 1, UNDEF: 255 } as const;

/** Flags of MariaDB's GTID event (flags2). */
export const GTID_FLAG = {
  STANDALONE: 1,
  GROUP_COMMIT_ID: 2,
  TRANSACTIONAL: 4,
  ALLOW_PARALLEL: 8,
  WAITED: 16,
  DDL: 32,
  PREPARED_XA: 64,
  COMPLETED_XA: 128,
} as const;

/** Rows event flags. */
export const ROWS_FLAG = {
  STMT_END: 1,
  NO_FOREIGN_KEY_CHECKS: 2,
  RELAXED_UNIQUE_CHECKS: 4,
  COMPLETE_ROWS: 8,
} as const;

/** TABLE_MAP optional metadata field types (binlog_row_metadata). */
export const TABLE_META = {
  SIGNEDNESS: 1,
  DEFAULT_CHARSET: 2,
  COLUMN_CHARSET: 3,
  COLUMN_NAME: 4,
  SET_STR_VALUE: 5,
  ENUM_STR_VALUE: 6,
  GEOMETRY_TYPE: 7,
  SIMPLE_PRIMARY_KEY: 8,
  PRIMARY_KEY_WITH_PREFIX: 9,
  ENUM_AND_SET_DEFAULT_CHARSET: 10,
  ENUM_AND_SET_COLUMN_CHARSET: 11,
  COLUMN_VISIBILITY: 12,
} as const;

/** COM_BINLOG_DUMP flags. */
export const BINLOG_DUMP_FLAG = {
  NON_BLOCK: 1,
  /** MariaDB: send ANNOTATE_ROWS events. */
  SEND_ANNOTATE_ROWS: 2,
} as const;

/** @mariadb_slave_capability: 4 = understands GTIDs (MARIA_SLAVE_CAPABILITY_GTID). */
export const MARIA_SLAVE_CAPABILITY_GTID = 4;

/** The replica could not decode an event: MySQL's ER_SLAVE_CORRUPT_EVENT. */
export const ER_CORRUPT_EVENT: ErrorCode = { errno: 1610, sqlState: 'HY000' };
/** The source refused or broke the dump: ER_MASTER_FATAL_ERROR_READING_BINLOG, as MariaDB sends it. */
export const ER_BINLOG_READ: ErrorCode = { errno: 1236, sqlState: 'HY000' };
/** A stream's limit (queue, buffer, stall deadline) was hit. */
export const ER_STREAM_LIMIT: ErrorCode = { errno: 1105, sqlState: 'HY000' };
