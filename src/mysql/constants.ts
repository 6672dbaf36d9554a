// Numbers of the MySQL/MariaDB client/server protocol. Names follow the C headers (mysql_com.h) so
// they can be looked up there; values were checked against a MariaDB 10.11 handshake.

/** Capability flags (lower 32 bits; MariaDB's extended ones live in `MARIADB_CAP`). */
export const CAP = {
  /** In MariaDB this bit is "CLIENT_MYSQL": a MariaDB server leaves it unset and sends extended caps. */
  LONG_PASSWORD: 1,
  FOUND_ROWS: 1 << 1,
  LONG_FLAG: 1 << 2,
  CONNECT_WITH_DB: 1 << 3,
  NO_SCHEMA: 1 << 4,
  COMPRESS: 1 << 5,
  ODBC: 1 << 6,
  LOCAL_FILES: 1 << 7,
  IGNORE_SPACE: 1 << 8,
  PROTOCOL_41: 1 << 9,
  INTERACTIVE: 1 << 10,
  SSL: 1 << 11,
  IGNORE_SIGPIPE: 1 << 12,
  TRANSACTIONS: 1 << 13,
  RESERVED: 1 << 14,
  SECURE_CONNECTION: 1 << 15,
  MULTI_STATEMENTS: 1 << 16,
  MULTI_RESULTS: 1 << 17,
  PS_MULTI_RESULTS: 1 << 18,
  PLUGIN_AUTH: 1 << 19,
  CONNECT_ATTRS: 1 << 20,
  PLUGIN_AUTH_LENENC_CLIENT_DATA: 1 << 21,
  CAN_HANDLE_EXPIRED_PASSWORDS: 1 << 22,
  SESSION_TRACK: 1 << 23,
  DEPRECATE_EOF: 1 << 24,
} as const;

/** MariaDB's extended capabilities (the upper 32 bits, sent in the handshake's reserved bytes). */
export const MARIADB_CAP = {
  PROGRESS: 1,
  COM_MULTI: 1 << 1,
  STMT_BULK_OPERATIONS: 1 << 2,
  /** Column definitions carry an extended type block (`json`, `uuid`, `inet6`, geometry kind). */
  EXTENDED_TYPE_INFO: 1 << 3,
  CACHE_METADATA: 1 << 4,
} as const;

/** Status flags carried by OK and EOF packets. */
export const STATUS = {
  IN_TRANS: 0x0001,
  AUTOCOMMIT: 0x0002,
  MORE_RESULTS_EXISTS: 0x0008,
  NO_GOOD_INDEX_USED: 0x0010,
  NO_INDEX_USED: 0x0020,
  CURSOR_EXISTS: 0x0040,
  LAST_ROW_SENT: 0x0080,
  DB_DROPPED: 0x0100,
  NO_BACKSLASH_ESCAPES: 0x0200,
  METADATA_CHANGED: 0x0400,
  QUERY_WAS_SLOW: 0x0800,
  PS_OUT_PARAMS: 0x1000,
  IN_TRANS_READONLY: 0x2000,
  SESSION_STATE_CHANGED: 0x4000,
} as const;

export const COM = {
  SLEEP: 0x00,
  QUIT: 0x01,
  INIT_DB: 0x02,
  QUERY: 0x03,
  FIELD_LIST: 0x04,
  CREATE_DB: 0x05,
  DROP_DB: 0x06,
  REFRESH: 0x07,
  SHUTDOWN: 0x08,
  STATISTICS: 0x09,
  PROCESS_INFO: 0x0a,
  CONNECT: 0x0b,
  PROCESS_KILL: 0x0c,
  DEBUG: 0x0d,
  PING: 0x0e,
  TIME: 0x0f,
  DELAYED_INSERT: 0x10,
  CHANGE_USER: 0x11,
  BINLOG_DUMP: 0x12,
  TABLE_DUMP: 0x13,
  CONNECT_OUT: 0x14,
  REGISTER_SLAVE: 0x15,
  STMT_PREPARE: 0x16,
  STMT_EXECUTE: 0x17,
  STMT_SEND_LONG_DATA: 0x18,
  STMT_CLOSE: 0x19,
  STMT_RESET: 0x1a,
  SET_OPTION: 0x1b,
  STMT_FETCH: 0x1c,
  DAEMON: 0x1d,
  BINLOG_DUMP_GTID: 0x1e,
  RESET_CONNECTION: 0x1f,
} as const;

/** Column types (enum_field_types). */
export const TYPE = {
  DECIMAL: 0x00,
  TINY: 0x01,
  SHORT: 0x02,
  LONG: 0x03,
  FLOAT: 0x04,
  DOUBLE: 0x05,
  NULL: 0x06,
  TIMESTAMP: 0x07,
  LONGLONG: 0x08,
  INT24: 0x09,
  DATE: 0x0a,
  TIME: 0x0b,
  DATETIME: 0x0c,
  YEAR: 0x0d,
  NEWDATE: 0x0e,
  VARCHAR: 0x0f,
  BIT: 0x10,
  TIMESTAMP2: 0x11,
  DATETIME2: 0x12,
  TIME2: 0x13,
  JSON: 0xf5,
  NEWDECIMAL: 0xf6,
  ENUM: 0xf7,
  SET: 0xf8,
  TINY_BLOB: 0xf9,
  MEDIUM_BLOB: 0xfa,
  LONG_BLOB: 0xfb,
  BLOB: 0xfc,
  VAR_STRING: 0xfd,
  STRING: 0xfe,
  GEOMETRY: 0xff,
} as const;

/** Column definition flags. */
export const FIELD_FLAG = {
  NOT_NULL: 0x0001,
  PRI_KEY: 0x0002,
  UNIQUE_KEY: 0x0004,
  MULTIPLE_KEY: 0x0008,
  BLOB: 0x0010,
  UNSIGNED: 0x0020,
  ZEROFILL: 0x0040,
  BINARY: 0x0080,
  ENUM: 0x0100,
  AUTO_INCREMENT: 0x0200,
  TIMESTAMP: 0x0400,
  SET: 0x0800,
  NO_DEFAULT_VALUE: 0x1000,
  ON_UPDATE_NOW: 0x2000,
  NUM: 0x8000,
} as const;

/** Collation ids we name; 63 (`binary`) marks byte strings. */
export const CHARSET = {
  LATIN1_SWEDISH_CI: 8,
  UTF8_GENERAL_CI: 33,
  UTF8MB4_GENERAL_CI: 45,
  BINARY: 63,
  UTF8MB4_UNICODE_CI: 224,
} as const;

/** COM_SET_OPTION arguments. */
export const SET_OPTION = {
  MULTI_STATEMENTS_ON: 0,
  MULTI_STATEMENTS_OFF: 1,
} as const;

/** A packet payload this long is continued in the next packet. */
export const PACKET_PAYLOAD_MAX = 0xffffff;

/** Default limit on a reassembled message; MariaDB's max_allowed_packet default is 16 MiB, ours 64 MiB. */
export const DEFAULT_PACKET_SIZE_MAX = 64 * 1024 * 1024;

export const AUTH_PLUGIN = {
  NATIVE: 'mysql_native_password',
  CACHING_SHA2: 'caching_sha2_password',
  CLEAR: 'mysql_clear_password',
  ED25519: 'client_ed25519',
  SHA256: 'sha256_password',
} as const;
