// Keywords the parser recognises, and which of them are reserved.
//
// The lexer never slices a word to look it up: it folds the word's characters into a hash while
// scanning and checks the candidate keyword character by character. Keyword ids are small
// integers (`K.SELECT`), so the parser compares numbers.

const KEYWORD_LIST = [
  'ACCESSIBLE', 'ACTION', 'ADD', 'AFTER', 'AGAINST', 'ALGORITHM', 'ALL', 'ALTER', 'ALWAYS', 'ANALYZE',
  'AND', 'ANY', 'AS', 'ASC', 'ASENSITIVE', 'AUTO_INCREMENT', 'AVG_ROW_LENGTH', 'BEFORE', 'BEGIN',
  'BETWEEN', 'BIGINT', 'BINARY', 'BINLOG', 'BIT', 'BLOB', 'BOOL', 'BOOLEAN', 'BOTH', 'BTREE', 'BY',
  'CALL', 'CASCADE', 'CASCADED', 'CASE', 'CAST', 'CHAIN', 'CHANGE', 'CHAR', 'CHARACTER', 'CHARSET',
  'CHECK', 'CHECKSUM', 'COLLATE', 'COLLATION', 'COLUMN', 'COLUMNS', 'COMMENT', 'COMMIT', 'COMMITTED',
  'COMPACT', 'COMPRESSED', 'COMPRESSION', 'CONDITION', 'CONNECTION', 'CONSISTENT', 'CONSTRAINT',
  'CONTINUE', 'CONVERT', 'COPY', 'CREATE', 'CROSS', 'CUBE', 'CUME_DIST', 'CURRENT', 'CURRENT_DATE',
  'CURRENT_ROLE', 'CURRENT_TIME', 'CURRENT_TIMESTAMP', 'CURRENT_USER', 'CURSOR', 'DATA', 'DATABASE',
  'DATABASES', 'DATE', 'DATETIME', 'DAY', 'DAY_HOUR', 'DAY_MICROSECOND', 'DAY_MINUTE', 'DAY_SECOND',
  'DEALLOCATE', 'DEC', 'DECIMAL', 'DECLARE', 'DEFAULT', 'DEFINER', 'DELAYED', 'DELETE',
  'DELETE_DOMAIN_ID', 'DENSE_RANK', 'DESC', 'DESCRIBE', 'DETERMINISTIC', 'DIRECTORY', 'DISABLE',
  'DISCARD', 'DISK', 'DISTINCT', 'DISTINCTROW', 'DIV', 'DO', 'DO_DOMAIN_IDS', 'DOUBLE', 'DROP', 'DUAL',
  'DUMPFILE', 'DUPLICATE', 'DYNAMIC', 'EACH', 'ELSE', 'ELSEIF', 'EMPTY', 'ENABLE', 'ENCLOSED',
  'ENCRYPTION', 'END', 'ENGINE', 'ENGINES', 'ENUM', 'ERRORS', 'ESCAPE', 'ESCAPED', 'EVENTS', 'EXCEPT',
  'EXCHANGE', 'EXCLUSIVE', 'EXECUTE', 'EXISTS', 'EXIT', 'EXPANSION', 'EXPLAIN', 'EXTENDED', 'EXTRACT',
  'FALSE', 'FETCH', 'FIELDS', 'FIRST', 'FIRST_VALUE', 'FIXED', 'FLOAT', 'FLOAT4', 'FLOAT8', 'FLUSH',
  'FOLLOWING', 'FOR', 'FORCE', 'FOREIGN', 'FORMAT', 'FROM', 'FULL', 'FULLTEXT', 'FUNCTION', 'GENERAL',
  'GENERATED', 'GEOMETRY', 'GET', 'GLOBAL', 'GRANT', 'GRANTS', 'GROUP', 'GROUPING', 'GROUPS',
  'GROUP_CONCAT', 'HASH', 'HAVING', 'HIGH_PRIORITY', 'HOSTS', 'HOUR', 'HOUR_MICROSECOND',
  'HOUR_MINUTE', 'HOUR_SECOND', 'IDENTIFIED', 'IF', 'IGNORE', 'IGNORE_DOMAIN_IDS', 'IGNORE_SERVER_IDS',
  'IMPORT', 'IN', 'INDEX', 'INDEXES', 'INFILE', 'INNER', 'INOUT', 'INPLACE', 'INSENSITIVE', 'INSERT',
  'INSERT_METHOD', 'INSTANT', 'INT', 'INT1', 'INT2', 'INT3', 'INT4', 'INT8', 'INTEGER', 'INTERSECT',
  'INTERVAL', 'INTO', 'INVISIBLE', 'INVOKER', 'IS', 'ISOLATION', 'ITERATE', 'JOIN', 'JSON', 'KEY',
  'KEYS', 'KEYSPACES', 'KEY_BLOCK_SIZE', 'KILL', 'LAG', 'LANGUAGE', 'LAST', 'LAST_VALUE', 'LATERAL',
  'LEAD', 'LEADING', 'LEAVE', 'LEFT', 'LESS', 'LEVEL', 'LIKE', 'LIMIT', 'LINEAR', 'LINES', 'LIST',
  'LOAD', 'LOCAL', 'LOCALTIME', 'LOCALTIMESTAMP', 'LOCK', 'LOCKED', 'LOGS', 'LONG', 'LONGBLOB',
  'LONGTEXT', 'LOOP', 'LOW_PRIORITY', 'MASTER', 'MASTER_HEARTBEAT_PERIOD',
  'MASTER_SSL_VERIFY_SERVER_CERT', 'MATCH', 'MAXVALUE', 'MAX_ROWS', 'MEDIUMBLOB', 'MEDIUMINT',
  'MEDIUMTEXT', 'MEMBER', 'MERGE', 'MICROSECOND', 'MIDDLEINT', 'MINUTE', 'MINUTE_MICROSECOND',
  'MINUTE_SECOND', 'MIN_ROWS', 'MOD', 'MODE', 'MODIFIES', 'MODIFY', 'MONTH', 'NAMES', 'NATIONAL',
  'NATURAL', 'NCHAR', 'NEXT', 'NO', 'NONE', 'NOT', 'NOWAIT', 'NO_WRITE_TO_BINLOG', 'NTH_VALUE',
  'NTILE', 'NULL', 'NULLS', 'NUMERIC', 'NVARCHAR', 'OF', 'OFF', 'OFFSET', 'ON', 'ONLY', 'OPEN',
  'OPTIMIZE', 'OPTION', 'OPTIONALLY', 'OR', 'ORDER', 'OTHERS', 'OUT', 'OUTER', 'OUTFILE', 'OVER',
  'PACK_KEYS', 'PAGE_CHECKSUM', 'PARSER', 'PARTIAL', 'PARTITION', 'PARTITIONS', 'PASSWORD',
  'PERCENT_RANK', 'PERSIST', 'PERSIST_ONLY', 'PLAN', 'PLUGINS', 'POSITION', 'PRECEDING', 'PRECISION',
  'PREPARE', 'PRIMARY', 'PRIVILEGES', 'PROCEDURE', 'PROCESSLIST', 'PURGE', 'QUARTER', 'QUERIES',
  'QUERY', 'QUICK', 'RANGE', 'RANK', 'READ', 'READS', 'READ_WRITE', 'REAL', 'RECURSIVE', 'REDUNDANT',
  'REFERENCES', 'REGEXP', 'RELEASE', 'RELOAD', 'RENAME', 'REORGANIZE', 'REPAIR', 'REPEAT',
  'REPEATABLE', 'REPLACE', 'REPLICA', 'REPLICAS', 'REPLICATION', 'REQUIRE', 'RESIGNAL', 'RESTRICT',
  'RETURN', 'RETURNING', 'REVOKE', 'RIGHT', 'RLIKE', 'ROLLBACK', 'ROLLUP', 'ROW', 'ROWS', 'ROW_FORMAT',
  'ROW_NUMBER', 'SAVEPOINT', 'SCHEMA', 'SCHEMAS', 'SECOND', 'SECOND_MICROSECOND', 'SECURITY', 'SELECT',
  'SENSITIVE', 'SEPARATOR', 'SEQUENCE', 'SERIALIZABLE', 'SESSION', 'SET', 'SHARE', 'SHARED', 'SHOW',
  'SIGNAL', 'SIGNED', 'SKIP', 'SLAVE', 'SLOW', 'SMALLINT', 'SNAPSHOT', 'SOME', 'SOUNDS', 'SPATIAL',
  'SPECIFIC', 'SQL', 'SQLEXCEPTION', 'SQLSTATE', 'SQLWARNING', 'SQL_BIG_RESULT', 'SQL_BUFFER_RESULT',
  'SQL_CACHE', 'SQL_CALC_FOUND_ROWS', 'SQL_NO_CACHE', 'SQL_SMALL_RESULT', 'SSL', 'START', 'STARTING',
  'STATS_AUTO_RECALC', 'STATS_PERSISTENT', 'STATS_SAMPLE_PAGES', 'STATUS', 'STORAGE', 'STORED',
  'STRAIGHT_JOIN', 'SUBPARTITION', 'SUBSTR', 'SUBSTRING', 'SYSTEM', 'TABLE', 'TABLES', 'TABLESPACE',
  'TEMPORARY', 'TEMPTABLE', 'TERMINATED', 'TEXT', 'THAN', 'THEN', 'TIME', 'TIMESTAMP', 'TINYBLOB',
  'TINYINT', 'TINYTEXT', 'TO', 'TRAILING', 'TRANSACTION', 'TRIGGER', 'TRIGGERS', 'TRIM', 'TRUE',
  'TRUNCATE', 'TYPE', 'UNBOUNDED', 'UNCOMMITTED', 'UNDEFINED', 'UNDO', 'UNION', 'UNIQUE', 'UNKNOWN',
  'UNLOCK', 'UNSIGNED', 'UPDATE', 'USAGE', 'USE', 'USING', 'UTC_DATE', 'UTC_TIME', 'UTC_TIMESTAMP',
  'VALIDATION', 'VALUE', 'VALUES', 'VARBINARY', 'VARCHAR', 'VARCHARACTER', 'VARIABLES', 'VARYING',
  'VEXPLAIN', 'VIEW', 'VINDEX', 'VINDEXES', 'VIRTUAL', 'VITESS_MIGRATIONS', 'VITESS_REPLICATION_STATUS',
  'VITESS_SHARDS', 'VITESS_TABLETS', 'VITESS_TARGET', 'VSCHEMA', 'WAIT', 'WARNINGS', 'WEEK', 'WHEN',
  'WHERE', 'WHILE', 'WINDOW', 'WITH', 'WITHOUT', 'WORK', 'WRITE', 'XOR', 'YEAR', 'YEAR_MONTH',
  'ZEROFILL',
] as const;

export type KeywordName = (typeof KEYWORD_LIST)[number];

/** Keyword ids; 0 means "not a keyword". */
export const K = Object.fromEntries(KEYWORD_LIST.map((k, i) => [k, i + 1])) as {
  readonly [P in KeywordName]: number;
};

/** Upper-case spelling of keyword id `id`. */
export function keywordText(id: number): string {
  return KEYWORD_LIST[id - 1] ?? '';
}

// MariaDB 10.11's reserved words: unquoted, these cannot be identifiers. The parser enforces this
// set (so a MariaDB schema with a column named `rank` parses); the formatter quotes the union of
// this set and MySQL 8's extra reserved words so its output is valid on both.
const MARIADB_RESERVED: readonly string[] = [
  'ACCESSIBLE', 'ADD', 'ALL', 'ALTER', 'ANALYZE', 'AND', 'AS', 'ASC', 'ASENSITIVE', 'BEFORE', 'BETWEEN',
  'BIGINT', 'BINARY', 'BLOB', 'BOTH', 'BY', 'CALL', 'CASCADE', 'CASE', 'CHANGE', 'CHAR', 'CHARACTER',
  'CHECK', 'COLLATE', 'COLUMN', 'CONDITION', 'CONSTRAINT', 'CONTINUE', 'CONVERT', 'CREATE', 'CROSS',
  'CURRENT_DATE', 'CURRENT_ROLE', 'CURRENT_TIME', 'CURRENT_TIMESTAMP', 'CURRENT_USER', 'CURSOR',
  'DATABASE', 'DATABASES', 'DAY_HOUR', 'DAY_MICROSECOND', 'DAY_MINUTE', 'DAY_SECOND', 'DEC', 'DECIMAL',
  'DECLARE', 'DEFAULT', 'DELAYED', 'DELETE', 'DELETE_DOMAIN_ID', 'DESC', 'DESCRIBE', 'DETERMINISTIC',
  'DISTINCT', 'DISTINCTROW', 'DIV', 'DO_DOMAIN_IDS', 'DOUBLE', 'DROP', 'DUAL', 'EACH', 'ELSE', 'ELSEIF',
  'ENCLOSED', 'ESCAPED', 'EXCEPT', 'EXISTS', 'EXIT', 'EXPLAIN', 'FALSE', 'FETCH', 'FLOAT', 'FLOAT4',
  'FLOAT8', 'FOR', 'FORCE', 'FOREIGN', 'FROM', 'FULLTEXT', 'GRANT', 'GROUP', 'HAVING',
  'HIGH_PRIORITY', 'HOUR_MICROSECOND', 'HOUR_MINUTE', 'HOUR_SECOND', 'IF', 'IGNORE',
  'IGNORE_DOMAIN_IDS', 'IN', 'INDEX', 'INFILE', 'INNER', 'INOUT', 'INSENSITIVE',
  'INSERT', 'INT', 'INT1', 'INT2', 'INT3', 'INT4', 'INT8', 'INTEGER', 'INTERSECT', 'INTERVAL', 'INTO',
  'IS', 'ITERATE', 'JOIN', 'KEY', 'KEYS', 'KILL', 'LEADING', 'LEAVE', 'LEFT', 'LIKE', 'LIMIT', 'LINEAR',
  'LINES', 'LOAD', 'LOCALTIME', 'LOCALTIMESTAMP', 'LOCK', 'LONG', 'LONGBLOB', 'LONGTEXT', 'LOOP',
  'LOW_PRIORITY', 'MASTER_SSL_VERIFY_SERVER_CERT', 'MATCH', 'MAXVALUE',
  'MEDIUMBLOB', 'MEDIUMINT', 'MEDIUMTEXT', 'MIDDLEINT', 'MINUTE_MICROSECOND', 'MINUTE_SECOND', 'MOD',
  'MODIFIES', 'NATURAL', 'NOT', 'NO_WRITE_TO_BINLOG', 'NULL', 'NUMERIC', 'OFFSET', 'ON', 'OPTIMIZE',
  'OPTION', 'OPTIONALLY', 'OR', 'ORDER', 'OUT', 'OUTER', 'OUTFILE', 'OVER', 'PAGE_CHECKSUM',
  'PARTITION', 'POSITION', 'PRECISION', 'PRIMARY', 'PROCEDURE', 'PURGE', 'RANGE', 'READ', 'READS',
  'READ_WRITE', 'REAL', 'RECURSIVE', 'REFERENCES', 'REGEXP', 'RELEASE', 'RENAME', 'REPEAT', 'REPLACE',
  'REQUIRE', 'RESIGNAL', 'RESTRICT', 'RETURN', 'RETURNING', 'REVOKE', 'RIGHT', 'RLIKE', 'ROWS',
  'ROW_NUMBER', 'SCHEMA', 'SCHEMAS', 'SECOND_MICROSECOND', 'SELECT', 'SENSITIVE', 'SEPARATOR', 'SET',
  'SHOW', 'SIGNAL', 'SMALLINT', 'SPATIAL', 'SPECIFIC', 'SQL', 'SQLEXCEPTION', 'SQLSTATE',
  'SQLWARNING', 'SQL_BIG_RESULT', 'SQL_CALC_FOUND_ROWS', 'SQL_SMALL_RESULT', 'SSL', 'STARTING',
  'STATS_AUTO_RECALC', 'STATS_PERSISTENT', 'STATS_SAMPLE_PAGES', 'STRAIGHT_JOIN', 'TABLE',
  'TERMINATED', 'THEN', 'TINYBLOB', 'TINYINT', 'TINYTEXT', 'TO', 'TRAILING', 'TRIGGER', 'TRUE', 'UNDO',
  'UNION', 'UNIQUE', 'UNLOCK', 'UNSIGNED', 'UPDATE', 'USAGE', 'USE', 'USING', 'UTC_DATE', 'UTC_TIME',
  'UTC_TIMESTAMP', 'VALUES', 'VARBINARY', 'VARCHAR', 'VARCHARACTER', 'VARYING', 'WHEN', 'WHERE',
  'WHILE', 'WINDOW', 'WITH', 'WRITE', 'XOR', 'YEAR_MONTH', 'ZEROFILL',
];

const MYSQL8_EXTRA_RESERVED: readonly string[] = [
  'CUBE', 'CUME_DIST', 'DENSE_RANK', 'EMPTY', 'FIRST_VALUE', 'FUNCTION', 'GENERATED', 'GET',
  'GROUPING', 'GROUPS', 'IO_AFTER_GTIDS', 'IO_BEFORE_GTIDS', 'JSON_TABLE', 'LAG', 'LAST_VALUE',
  'LATERAL', 'LEAD', 'MASTER_BIND', 'NTH_VALUE', 'NTILE', 'OF', 'OPTIMIZER_COSTS', 'PERCENT_RANK',
  'RANK', 'ROW', 'STORED', 'SYSTEM', 'VIRTUAL',
  // Reserved in MySQL 5.5+, not in MariaDB 10.11 (its keywords test selects them as names): the
  // parser takes them bare, the formatter still quotes them.
  'GENERAL', 'IGNORE_SERVER_IDS', 'MASTER_HEARTBEAT_PERIOD', 'SLOW',
];

/** reserved[id] is 1 when keyword `id` cannot be an unquoted identifier in MariaDB. */
export const RESERVED: Uint8Array = (() => {
  const r = new Uint8Array(KEYWORD_LIST.length + 1);
  for (const w of MARIADB_RESERVED) {
    const id = (K as Record<string, number>)[w];
    if (id !== undefined) r[id] = 1;
  }
  return r;
})();

/** Upper-case words the formatter must quote when they appear as identifiers. */
export const QUOTE_WORDS: ReadonlySet<string> = new Set([...MARIADB_RESERVED, ...MYSQL8_EXTRA_RESERVED]);

// Hash table for keyword lookup by character codes. The hash folds ASCII letters to lower case so
// `select`, `SELECT` and `SeLeCt` hit the same slot.
export function foldHash(h: number, c: number): number {
  if (c >= 65 && c <= 90) c += 32;
  return (Math.imul(h, 31) + c) | 0;
}

const KW_CODES: Uint8Array[] = [new Uint8Array(0)];
const KW_BY_HASH = new Map<number, number[]>();
for (let i = 0; i < KEYWORD_LIST.length; i++) {
  const word = KEYWORD_LIST[i]!.toLowerCase();
  const codes = new Uint8Array(word.length);
  let h = 0;
  for (let j = 0; j < word.length; j++) {
    codes[j] = word.charCodeAt(j);
    h = foldHash(h, codes[j]!);
  }
  KW_CODES.push(codes);
  const slot = KW_BY_HASH.get(h);
  if (slot) slot.push(i + 1);
  else KW_BY_HASH.set(h, [i + 1]);
}

/** Keyword id of sql[start, end) whose folded hash is `h`, or 0. */
export function lookupKeyword(sql: string, start: number, end: number, h: number): number {
  const slot = KW_BY_HASH.get(h);
  if (slot === undefined) return 0;
  const len = end - start;
  for (let s = 0; s < slot.length; s++) {
    const id = slot[s]!;
    const codes = KW_CODES[id]!;
    if (codes.length !== len) continue;
    let j = 0;
    for (; j < len; j++) {
      let c = sql.charCodeAt(start + j);
      if (c >= 65 && c <= 90) c += 32;
      if (c !== codes[j]) break;
    }
    if (j === len) return id;
  }
  return 0;
}

/** Keyword id of an upper- or lower-case word, or 0 (used by the formatter, not the hot path). */
export function keywordId(word: string): number {
  let h = 0;
  for (let i = 0; i < word.length; i++) h = foldHash(h, word.charCodeAt(i));
  return lookupKeyword(word, 0, word.length, h);
}
