// The typed AST. Every node is a plain object with a `kind` discriminant and readonly fields;
// absent parts are `null` (never `undefined`), so rewriters that rebuild a node must name every
// field and a newly added field fails to compile where it is forgotten.
//
// Statements and select-list items keep their source span (`start`/`end` offsets into the text
// they were parsed from; -1 for nodes built in code): the gate names result columns after the
// original text of a select expression, as MySQL does.

import type { CompoundBlockStatement, StoredProgramDdl } from './ast-stored.js';
import type { SequenceDdl } from './sequence-ddl.js';
import type { SetStatementFor } from './set-statement.js';
import type { ExecuteImmediate } from './execute-immediate.js';
import type { ServerStatement } from './opaque.js';
import type {
  AlterTable, AlterVschema, CreateDatabase, CreateIndex, CreateTable, CreateView, DropDatabase, DropIndex, DropTable, DropView,
  RenameTable, TruncateTable,
} from './ast-ddl.js';

export type * from './ast-ddl.js';

// ---------------------------------------------------------------------------------------------
// Names

/** `name` or `schema.name`. For the gate, `schema` is the keyspace qualifier (`customer.orders`). */
export interface TableName {
  readonly kind: 'TableName';
  readonly schema: string | null;
  readonly name: string;
}

// ---------------------------------------------------------------------------------------------
// Expressions

export interface StringLiteral {
  readonly kind: 'String';
  /** The decoded value. */
  readonly value: string;
  /** Character set introducer without the underscore (`_utf8mb4'x'` → `utf8mb4`), or null. */
  readonly charset: string | null;
  /** N'…' */
  readonly national: boolean;
}
export interface NumberLiteral {
  readonly kind: 'Number';
  /** The literal's text, with a leading `-` when the parser folded a unary minus into it. */
  readonly text: string;
  readonly numType: 'int' | 'decimal' | 'float';
}
export interface HexLiteral {
  readonly kind: 'Hex';
  /** Hex digits as written. */
  readonly digits: string;
  /** `0x1F` (`0x`) or `X'1F'` (`x`). */
  readonly form: '0x' | 'x';
  readonly charset: string | null;
}
export interface BitLiteral {
  readonly kind: 'Bit';
  readonly digits: string;
  readonly form: '0b' | 'b';
  readonly charset: string | null;
}
export interface NullLiteral {
  readonly kind: 'Null';
}
export interface BoolLiteral {
  readonly kind: 'Bool';
  readonly value: boolean;
}
/** DATE '2024-01-01', TIME '…', TIMESTAMP '…' */
export interface TypedLiteral {
  readonly kind: 'TypedLiteral';
  readonly type: 'DATE' | 'TIME' | 'TIMESTAMP';
  readonly value: string;
}
export type Literal = StringLiteral | NumberLiteral | HexLiteral | BitLiteral | NullLiteral | BoolLiteral | TypedLiteral;

/** `?` placeholder; `index` counts them from 0 in text order. */
export interface Param {
  readonly kind: 'Param';
  readonly index: number;
}
/** `:name` (a value) or `::name` (a list, only on the right of IN). */
export interface BindVar {
  readonly kind: 'BindVar';
  readonly name: string;
  readonly list: boolean;
}
export interface UserVar {
  readonly kind: 'UserVar';
  readonly name: string;
}
export type VarScope = 'GLOBAL' | 'SESSION' | 'LOCAL' | 'PERSIST' | 'PERSIST_ONLY';
export interface SysVar {
  readonly kind: 'SysVar';
  readonly scope: VarScope | null;
  readonly name: string;
}
/** A column reference: `c`, `t.c`, `db.t.c`. */
export interface Column {
  readonly kind: 'Column';
  readonly table: TableName | null;
  readonly name: string;
}
/** `*` or `t.*` (select list and COUNT(*)). */
export interface Star {
  readonly kind: 'Star';
  readonly table: TableName | null;
}
export type UnaryOp = '-' | '+' | '~' | '!' | 'NOT' | 'BINARY';
export interface Unary {
  readonly kind: 'Unary';
  readonly op: UnaryOp;
  readonly expr: Expr;
}
export type BinaryOp =
  | 'OR' | 'XOR' | 'AND'
  | '=' | '<=>' | '<>' | '<' | '<=' | '>' | '>='
  | '|' | '&' | '<<' | '>>' | '+' | '-' | '*' | '/' | 'DIV' | '%' | '^'
  | '->' | '->>' | ':=';
export interface Binary {
  readonly kind: 'Binary';
  readonly op: BinaryOp;
  readonly left: Expr;
  readonly right: Expr;
}
export type ComparisonOp = '=' | '<=>' | '<>' | '<' | '<=' | '>' | '>=';
/** `a > ANY (subquery)`, `a = ALL (subquery)`; SOME is read as ANY. */
export interface Quantified {
  readonly kind: 'Quantified';
  readonly op: ComparisonOp;
  readonly quantifier: 'ANY' | 'ALL';
  readonly left: Expr;
  readonly query: QueryExpr;
}
export interface Is {
  readonly kind: 'Is';
  readonly expr: Expr;
  readonly not: boolean;
  readonly value: 'NULL' | 'TRUE' | 'FALSE' | 'UNKNOWN';
}
export interface Between {
  readonly kind: 'Between';
  readonly expr: Expr;
  readonly not: boolean;
  readonly low: Expr;
  readonly high: Expr;
}
/** `x IN (…)`; the right side is a list of expressions, a subquery or a list bind variable. */
export interface In {
  readonly kind: 'In';
  readonly expr: Expr;
  readonly not: boolean;
  readonly right: Tuple | Subquery | BindVar;
}
export interface Like {
  readonly kind: 'Like';
  readonly op: 'LIKE' | 'REGEXP' | 'SOUNDS LIKE';
  readonly expr: Expr;
  readonly not: boolean;
  readonly pattern: Expr;
  readonly escape: Expr | null;
}
export interface MemberOf {
  readonly kind: 'MemberOf';
  readonly expr: Expr;
  readonly json: Expr;
}
export interface WhenClause {
  readonly when: Expr;
  readonly then: Expr;
}
export interface Case {
  readonly kind: 'Case';
  readonly operand: Expr | null;
  readonly whens: readonly WhenClause[];
  readonly else: Expr | null;
}
/** A type in CAST/CONVERT and in column definitions. */
export interface DataType {
  readonly kind: 'DataType';
  /** Upper-case type name: `INT`, `VARCHAR`, `DOUBLE PRECISION`, `SIGNED`, … */
  readonly name: string;
  /** Length / precision / scale as written (`10`, `2`). */
  readonly args: readonly string[];
  /** ENUM and SET members. */
  readonly values: readonly string[];
  readonly unsigned: boolean;
  readonly zerofill: boolean;
  readonly charset: string | null;
  readonly collate: string | null;
  /** `CHAR(n) BINARY`: the character set's binary collation (set only when written). */
  readonly binary?: true;
  /** MariaDB's column compression: `COMPRESSED` ('') or `COMPRESSED=zlib` (set only when written). */
  readonly compressed?: string;
  /** `CHAR(n) ASCII` (latin1) or `CHAR(n) UNICODE` (ucs2), MariaDB's shorthands (set only when written). */
  readonly shorthand?: 'ASCII' | 'UNICODE';
  /** `COLLATE DEFAULT`: the character set's default collation (set only when written). */
  readonly collateDefault?: true;
}
/** CAST(x AS t) and CONVERT(x, t). */
export interface Cast {
  readonly kind: 'Cast';
  readonly expr: Expr;
  readonly type: DataType;
  /** Written as CONVERT(x, t). */
  readonly convert: boolean;
}
/** CONVERT(x USING charset) */
export interface ConvertUsing {
  readonly kind: 'ConvertUsing';
  readonly expr: Expr;
  readonly charset: string;
}
export interface Collate {
  readonly kind: 'Collate';
  readonly expr: Expr;
  readonly collation: string;
}
export type IntervalUnit = string;
/** `INTERVAL expr unit` as an operand of + / - or DATE_ADD. */
export interface Interval {
  readonly kind: 'Interval';
  readonly expr: Expr;
  readonly unit: IntervalUnit;
}
/** EXTRACT(unit FROM expr) */
export interface Extract {
  readonly kind: 'Extract';
  readonly unit: IntervalUnit;
  readonly expr: Expr;
}
/** TRIM([[BOTH|LEADING|TRAILING] [remove] FROM] expr) */
export interface Trim {
  readonly kind: 'Trim';
  readonly side: 'BOTH' | 'LEADING' | 'TRAILING' | null;
  readonly remove: Expr | null;
  readonly expr: Expr;
}
export interface OrderItem {
  readonly expr: Expr;
  readonly direction: 'ASC' | 'DESC' | null;
}
export interface FrameBound {
  readonly type: 'UNBOUNDED PRECEDING' | 'UNBOUNDED FOLLOWING' | 'CURRENT ROW' | 'PRECEDING' | 'FOLLOWING';
  /** The offset for `n PRECEDING` / `n FOLLOWING` (may be an INTERVAL). */
  readonly offset: Expr | null;
}
export interface WindowFrame {
  readonly unit: 'ROWS' | 'RANGE';
  readonly start: FrameBound;
  /** Present for `BETWEEN start AND end`. */
  readonly end: FrameBound | null;
}
export interface WindowSpec {
  readonly kind: 'WindowSpec';
  /** A base window name: `OVER (w ORDER BY x)`. */
  readonly base: string | null;
  readonly partitionBy: readonly Expr[];
  readonly orderBy: readonly OrderItem[];
  readonly frame: WindowFrame | null;
}
/** A function call. `name` keeps the spelling it was written with. */
export interface FuncCall {
  readonly kind: 'Func';
  readonly schema: string | null;
  readonly name: string;
  readonly args: readonly Expr[];
  readonly distinct: boolean;
  /** Written without parentheses: CURRENT_TIMESTAMP, CURRENT_USER, … */
  readonly bare: boolean;
  /** OVER (…) or OVER name */
  readonly over: WindowSpec | string | null;
  /** `arg AS type` inside the parentheses (WEIGHT_STRING, COLUMN_GET, COLUMN_CREATE …): per argument, set only when written. */
  readonly argTypes?: readonly (DataType | null)[];
  /** `arg [AS] alias` in a generic call (user-defined functions): per argument, set only when one is written. */
  readonly argAliases?: readonly (string | null)[];
  /** CHAR(… USING charset) (set only when written). */
  readonly using?: string;
  /** WEIGHT_STRING(… LEVEL …): the level words as written, one space apart (set only when written). */
  readonly level?: string;
  /** percentile_cont(x) WITHIN GROUP (ORDER BY …) (set only when written). */
  readonly withinGroup?: readonly OrderItem[];
}
export interface GroupConcat {
  readonly kind: 'GroupConcat';
  readonly distinct: boolean;
  readonly args: readonly Expr[];
  readonly orderBy: readonly OrderItem[];
  readonly separator: string | null;
  readonly limit: Limit | null;
}
export interface Match {
  readonly kind: 'Match';
  readonly columns: readonly Column[];
  readonly against: Expr;
  readonly modifier: 'IN NATURAL LANGUAGE MODE' | 'IN NATURAL LANGUAGE MODE WITH QUERY EXPANSION' | 'IN BOOLEAN MODE' | 'WITH QUERY EXPANSION' | null;
}
/** A parenthesized list of two or more expressions, or an IN list; `ROW(…)` when `row`. */
export interface Tuple {
  readonly kind: 'Tuple';
  readonly items: readonly Expr[];
  readonly row: boolean;
}
export interface Subquery {
  readonly kind: 'Subquery';
  readonly query: QueryExpr;
}
export interface Exists {
  readonly kind: 'Exists';
  readonly query: QueryExpr;
}
/** DEFAULT, DEFAULT(col) */
export interface Default {
  readonly kind: 'Default';
  readonly column: string | null;
}
/** VALUES(col) in ON DUPLICATE KEY UPDATE. */
export interface ValuesFunc {
  readonly kind: 'ValuesFunc';
  readonly column: Column;
}
/** A bare keyword value in SET (`SET autocommit = ON`); IGNORE as a value of INSERT VALUES, UPDATE SET and EXECUTE … USING (MariaDB: the column keeps its default / is not changed). */
export interface KeywordValue {
  readonly kind: 'Keyword';
  readonly word: 'ON' | 'ALL' | 'BINARY' | 'IGNORE';
}

export type Expr =
  | Literal
  | Param
  | BindVar
  | UserVar
  | SysVar
  | Column
  | Star
  | Unary
  | Binary
  | Quantified
  | Is
  | Between
  | In
  | Like
  | MemberOf
  | Case
  | Cast
  | ConvertUsing
  | Collate
  | Interval
  | Extract
  | Trim
  | FuncCall
  | GroupConcat
  | Match
  | Tuple
  | Subquery
  | Exists
  | Default
  | ValuesFunc
  | KeywordValue;

// ---------------------------------------------------------------------------------------------
// Table expressions

export interface IndexHint {
  readonly type: 'USE' | 'IGNORE' | 'FORCE';
  readonly for: 'JOIN' | 'ORDER BY' | 'GROUP BY' | null;
  readonly indexes: readonly string[];
}
/** A bound of FOR SYSTEM_TIME: `[TIMESTAMP | TRANSACTION] expr`. */
export interface SystemTimeBound {
  readonly unit: 'TIMESTAMP' | 'TRANSACTION' | null;
  readonly expr: Expr;
}
/** MariaDB's system-versioned history: `FOR SYSTEM_TIME ALL | AS OF b | BETWEEN b AND b | FROM b TO b`. */
export type SystemTime =
  | { readonly kind: 'ALL' }
  | { readonly kind: 'AS OF'; readonly at: SystemTimeBound }
  | { readonly kind: 'BETWEEN' | 'FROM'; readonly from: SystemTimeBound; readonly to: SystemTimeBound };
export interface AliasedTable {
  readonly kind: 'AliasedTable';
  readonly table: TableName;
  readonly partitions: readonly string[];
  readonly alias: string | null;
  readonly indexHints: readonly IndexHint[];
  /** FOR SYSTEM_TIME … (set only when written). */
  readonly systemTime?: SystemTime;
}
export interface DerivedTable {
  readonly kind: 'DerivedTable';
  readonly lateral: boolean;
  readonly query: QueryExpr;
  readonly alias: string;
  readonly columns: readonly string[] | null;
}
export type JoinType = 'JOIN' | 'STRAIGHT_JOIN' | 'LEFT' | 'RIGHT' | 'NATURAL' | 'NATURAL LEFT' | 'NATURAL RIGHT';
export interface Join {
  readonly kind: 'Join';
  readonly type: JoinType;
  readonly left: TableExpr;
  readonly right: TableExpr;
  readonly on: Expr | null;
  readonly using: readonly string[] | null;
}
/** `(t1, t2 JOIN t3)` in FROM. */
export interface ParenTables {
  readonly kind: 'ParenTables';
  readonly items: readonly TableExpr[];
}
/** JSON_TABLE(doc, 'path' COLUMNS (…)) [AS] alias: MariaDB's table function over a JSON document. */
export interface JsonTable {
  readonly kind: 'JsonTable';
  readonly doc: Expr;
  readonly path: string;
  readonly columns: readonly JsonTableColumn[];
  readonly alias: string | null;
}
/** ERROR | NULL | DEFAULT value, for ON EMPTY / ON ERROR. */
export type JsonTableResponse = { readonly kind: 'ERROR' | 'NULL' } | { readonly kind: 'DEFAULT'; readonly value: Expr };
export type JsonTableColumn =
  | { readonly kind: 'Ordinality'; readonly name: string }
  | {
      readonly kind: 'Path'; readonly name: string; readonly type: DataType; readonly exists: boolean; readonly path: string;
      readonly onEmpty: JsonTableResponse | null; readonly onError: JsonTableResponse | null;
    }
  | { readonly kind: 'Nested'; readonly path: string; readonly columns: readonly JsonTableColumn[] };
export type TableExpr = AliasedTable | DerivedTable | Join | ParenTables | JsonTable;

// ---------------------------------------------------------------------------------------------
// Queries

export interface SelectItem {
  readonly expr: Expr;
  readonly alias: string | null;
  readonly start: number;
  readonly end: number;
}
/** No limit: what `OFFSET m ROWS` without FETCH means (MariaDB's largest row count). */
export const NO_LIMIT = '18446744073709551615';

export interface Limit {
  readonly count: Expr;
  readonly offset: Expr | null;
  /** `FETCH FIRST n ROWS WITH TIES` (set only when true): rows tied with the last one come too. */
  readonly withTies?: true;
  /** MariaDB's `LIMIT … ROWS EXAMINED n` (set only when written): stop after examining n rows. */
  readonly examined?: Expr;
}
export interface Lock {
  readonly type: 'FOR UPDATE' | 'FOR SHARE' | 'LOCK IN SHARE MODE';
  readonly wait: 'NOWAIT' | 'SKIP LOCKED' | null;
}
export interface Into {
  readonly type: 'VARIABLES' | 'OUTFILE' | 'DUMPFILE';
  readonly vars: readonly UserVar[];
  readonly file: string | null;
}
export interface NamedWindow {
  readonly name: string;
  readonly spec: WindowSpec;
}
export interface CommonTableExpr {
  readonly name: string;
  readonly columns: readonly string[] | null;
  readonly query: QueryExpr;
}
export interface With {
  readonly recursive: boolean;
  readonly ctes: readonly CommonTableExpr[];
}
export type SelectOption =
  | 'SQL_CALC_FOUND_ROWS' | 'SQL_NO_CACHE' | 'SQL_CACHE' | 'STRAIGHT_JOIN' | 'HIGH_PRIORITY'
  | 'SQL_SMALL_RESULT' | 'SQL_BIG_RESULT' | 'SQL_BUFFER_RESULT';
export interface Select {
  readonly kind: 'Select';
  readonly with: With | null;
  /** Optimizer hint comment text including its delimiters: `/*+ MAX_EXECUTION_TIME(1000) *\/`. */
  readonly hints: string | null;
  readonly distinct: boolean;
  readonly options: readonly SelectOption[];
  readonly columns: readonly SelectItem[];
  readonly from: readonly TableExpr[];
  readonly where: Expr | null;
  readonly groupBy: readonly Expr[];
  /** `PROCEDURE ANALYSE([max_elements[, max_memory]])` after ORDER BY / LIMIT (set only when written). */
  readonly procedure?: { readonly name: string; readonly args: readonly Expr[] };
  /** `GROUP BY a DESC, b ASC` (MariaDB's deprecated sorted grouping): per item, set only when a direction is written. */
  readonly groupByOrder?: readonly ('ASC' | 'DESC' | null)[];
  readonly rollup: boolean;
  readonly having: Expr | null;
  readonly windows: readonly NamedWindow[];
  readonly orderBy: readonly OrderItem[];
  readonly limit: Limit | null;
  readonly lock: Lock | null;
  readonly into: Into | null;
  /** A table value constructor, `VALUES (1, 'a'), (2, 'b')`: its rows (set only then; `columns` is empty). */
  readonly tableValues?: readonly (readonly Expr[])[];
  readonly start: number;
  readonly end: number;
}
/** UNION / INTERSECT / EXCEPT; `all` false means DISTINCT (the default). */
export interface SetOp {
  readonly kind: 'SetOp';
  readonly with: With | null;
  readonly op: 'UNION' | 'INTERSECT' | 'EXCEPT';
  readonly all: boolean;
  readonly left: QueryExpr;
  readonly right: QueryExpr;
  readonly orderBy: readonly OrderItem[];
  readonly limit: Limit | null;
  readonly lock: Lock | null;
  readonly into: Into | null;
  readonly start: number;
  readonly end: number;
}
export type QueryExpr = Select | SetOp;

// ---------------------------------------------------------------------------------------------
// DML

export interface Assignment {
  readonly column: Column;
  readonly value: Expr;
}
export interface InsertValues {
  readonly kind: 'Values';
  readonly rows: readonly (readonly Expr[])[];
}
export interface InsertSet {
  readonly kind: 'InsertSet';
  readonly assignments: readonly Assignment[];
}
export interface Insert {
  readonly kind: 'Insert';
  /** REPLACE rather than INSERT. */
  readonly replace: boolean;
  readonly hints: string | null;
  readonly priority: 'LOW_PRIORITY' | 'DELAYED' | 'HIGH_PRIORITY' | null;
  readonly ignore: boolean;
  readonly table: TableName;
  readonly partitions: readonly string[];
  readonly columns: readonly string[] | null;
  readonly source: InsertValues | InsertSet | QueryExpr;
  readonly onDuplicate: readonly Assignment[];
  /** MariaDB's `RETURNING select_list` (set only when written). */
  readonly returning?: readonly SelectItem[];
  readonly start: number;
  readonly end: number;
}
/** `FOR PORTION OF period FROM a TO b` (MariaDB's application-time periods) on UPDATE and DELETE. */
export interface Portion {
  readonly period: string;
  readonly from: Expr;
  readonly to: Expr;
}
export interface Update {
  readonly kind: 'Update';
  readonly with: With | null;
  readonly hints: string | null;
  readonly lowPriority: boolean;
  readonly ignore: boolean;
  readonly tables: readonly TableExpr[];
  /** Set only when written. */
  readonly portion?: Portion;
  readonly set: readonly Assignment[];
  readonly where: Expr | null;
  readonly orderBy: readonly OrderItem[];
  readonly limit: Limit | null;
  readonly start: number;
  readonly end: number;
}
/**
 * DELETE. Single-table: `targets` is empty and `from` holds the one table. Multi-table
 * (`DELETE t1, t2 FROM …` and `DELETE FROM t1, t2 USING …`, read alike): `targets` names the
 * tables rows are deleted from.
 */
export interface Delete {
  readonly kind: 'Delete';
  readonly with: With | null;
  readonly hints: string | null;
  readonly lowPriority: boolean;
  readonly quick: boolean;
  readonly ignore: boolean;
  readonly targets: readonly TableName[];
  readonly from: readonly TableExpr[];
  /** Set only when written (single-table DELETE). */
  readonly portion?: Portion;
  readonly where: Expr | null;
  readonly orderBy: readonly OrderItem[];
  readonly limit: Limit | null;
  /** MariaDB's `RETURNING select_list` (set only when written; single-table DELETE). */
  readonly returning?: readonly SelectItem[];
  readonly start: number;
  readonly end: number;
}

// ---------------------------------------------------------------------------------------------
// Session, transactions, Vitess targets

export type SetItem =
  | { readonly kind: 'SetSysVar'; readonly scope: VarScope | null; readonly name: string; readonly value: Expr }
  | { readonly kind: 'SetUserVar'; readonly name: string; readonly value: Expr }
  | { readonly kind: 'SetNames'; readonly charset: string | null; readonly collate: string | null }
  | { readonly kind: 'SetCharset'; readonly charset: string | null };
export interface SetStatement {
  readonly kind: 'Set';
  readonly items: readonly SetItem[];
  readonly start: number;
  readonly end: number;
}
export type IsolationLevel = 'READ UNCOMMITTED' | 'READ COMMITTED' | 'REPEATABLE READ' | 'SERIALIZABLE';
export interface SetTransaction {
  readonly kind: 'SetTransaction';
  readonly scope: 'GLOBAL' | 'SESSION' | null;
  readonly isolation: IsolationLevel | null;
  readonly access: 'READ ONLY' | 'READ WRITE' | null;
  readonly start: number;
  readonly end: number;
}
/** USE with a Vitess target: `ks`, `ks:-80`, `ks/0`, `ks@replica`, `@rdonly`. */
export interface Use {
  readonly kind: 'Use';
  readonly keyspace: string | null;
  readonly shard: string | null;
  readonly tabletType: string | null;
  readonly start: number;
  readonly end: number;
}
export interface Begin {
  readonly kind: 'Begin';
  readonly characteristics: readonly ('READ ONLY' | 'READ WRITE' | 'WITH CONSISTENT SNAPSHOT')[];
  readonly start: number;
  readonly end: number;
}
/** `AND [NO] CHAIN` / `[NO] RELEASE` after COMMIT or ROLLBACK, set only when written (true for CHAIN / RELEASE). */
export interface Completion {
  readonly chain?: boolean;
  readonly release?: boolean;
}
export interface Commit extends Completion {
  readonly kind: 'Commit';
  readonly start: number;
  readonly end: number;
}
export interface Rollback extends Completion {
  readonly kind: 'Rollback';
  /** ROLLBACK TO [SAVEPOINT] name */
  readonly savepoint: string | null;
  readonly start: number;
  readonly end: number;
}
export interface Savepoint {
  readonly kind: 'Savepoint';
  readonly name: string;
  readonly start: number;
  readonly end: number;
}
export interface ReleaseSavepoint {
  readonly kind: 'ReleaseSavepoint';
  readonly name: string;
  readonly start: number;
  readonly end: number;
}

// ---------------------------------------------------------------------------------------------
// SHOW, EXPLAIN

export type ShowType =
  | 'DATABASES' | 'TABLES' | 'TABLE STATUS' | 'COLUMNS' | 'INDEX' | 'CREATE TABLE' | 'CREATE DATABASE'
  | 'CREATE VIEW' | 'VARIABLES' | 'STATUS' | 'WARNINGS' | 'ERRORS' | 'PROCESSLIST' | 'ENGINES'
  | 'ENGINE' | 'CHARSET' | 'COLLATION' | 'GRANTS' | 'TRIGGERS' | 'PLUGINS' | 'PRIVILEGES'
  | 'MASTER STATUS' | 'BINARY LOGS' | 'SLAVE STATUS' | 'REPLICA STATUS' | 'OPEN TABLES'
  | 'FUNCTION STATUS' | 'PROCEDURE STATUS' | 'EVENTS' | 'COUNT WARNINGS' | 'COUNT ERRORS'
  | 'KEYSPACES' | 'VITESS_SHARDS' | 'VITESS_TABLETS' | 'VITESS_REPLICATION_STATUS' | 'VITESS_TARGET'
  | 'VITESS_MIGRATIONS' | 'VSCHEMA TABLES' | 'VSCHEMA VINDEXES';
export type ShowFilter = { readonly kind: 'Like'; readonly pattern: string } | { readonly kind: 'Where'; readonly expr: Expr };
export interface Show {
  readonly kind: 'Show';
  readonly type: ShowType;
  readonly full: boolean;
  readonly scope: 'GLOBAL' | 'SESSION' | null;
  /** SHOW COLUMNS/INDEX/CREATE TABLE/CREATE VIEW <table>, SHOW VSCHEMA VINDEXES ON <table>. */
  readonly table: TableName | null;
  /** FROM/IN <db> (SHOW TABLES FROM ks; SHOW COLUMNS FROM t FROM ks), or CREATE DATABASE <db>. */
  readonly db: string | null;
  /** SHOW ENGINE <name> STATUS, SHOW GRANTS FOR <user>: the word as written. */
  readonly name: string | null;
  readonly filter: ShowFilter | null;
  readonly start: number;
  readonly end: number;
}
/** DESCRIBE t [col] / EXPLAIN t. */
export interface DescribeTable {
  readonly kind: 'DescribeTable';
  readonly table: TableName;
  readonly column: string | null;
  readonly start: number;
  readonly end: number;
}
export interface Explain {
  readonly kind: 'Explain';
  readonly analyze: boolean;
  readonly format: string | null;
  readonly extended: boolean;
  readonly statement: Select | SetOp | Insert | Update | Delete;
  readonly start: number;
  readonly end: number;
}
export interface VExplain {
  readonly kind: 'VExplain';
  readonly type: 'PLAN' | 'QUERIES' | 'ALL';
  readonly statement: Select | SetOp | Insert | Update | Delete;
  readonly start: number;
  readonly end: number;
}

// ---------------------------------------------------------------------------------------------
// Other statements

export interface LockTables {
  readonly kind: 'LockTables';
  readonly tables: readonly { readonly table: TableName; readonly alias: string | null; readonly lock: 'READ' | 'READ LOCAL' | 'WRITE' | 'WRITE CONCURRENT' | 'LOW_PRIORITY WRITE' }[];
  readonly start: number;
  readonly end: number;
}
export interface UnlockTables {
  readonly kind: 'UnlockTables';
  readonly start: number;
  readonly end: number;
}
export interface Kill {
  readonly kind: 'Kill';
  readonly type: 'CONNECTION' | 'QUERY' | null;
  readonly id: Expr;
  readonly start: number;
  readonly end: number;
}
export interface Flush {
  readonly kind: 'Flush';
  readonly local: boolean;
  /** Upper-case options: `TABLES`, `PRIVILEGES`, `LOGS`, `BINARY LOGS`, `STATUS`, `HOSTS`, … */
  readonly options: readonly string[];
  readonly tables: readonly TableName[];
  readonly withReadLock: boolean;
  /** FLUSH TABLES WITH READ LOCK AND DISABLE CHECKPOINT (set only when written). */
  readonly disableCheckpoint?: true;
  /** FLUSH TABLES t, … FOR EXPORT (set only when written). */
  readonly forExport?: true;
  readonly start: number;
  readonly end: number;
}
export interface Call {
  readonly kind: 'Call';
  readonly name: TableName;
  readonly args: readonly Expr[];
  readonly start: number;
  readonly end: number;
}
export interface Prepare {
  readonly kind: 'Prepare';
  readonly name: string;
  readonly from: StringLiteral | UserVar;
  readonly start: number;
  readonly end: number;
}
export interface Execute {
  readonly kind: 'Execute';
  readonly name: string;
  /** MariaDB takes any expression (and DEFAULT / IGNORE) here, not only user variables. */
  readonly using: readonly Expr[];
  readonly start: number;
  readonly end: number;
}
export interface Deallocate {
  readonly kind: 'Deallocate';
  readonly name: string;
  readonly start: number;
  readonly end: number;
}
/** SELECT NEXT n VALUES FROM seq (Vitess sequences). */
export interface NextVal {
  readonly kind: 'NextVal';
  readonly count: Expr;
  readonly table: TableName;
  readonly start: number;
  readonly end: number;
}
export type Statement =
  | Select
  | SetOp
  | Insert
  | Update
  | Delete
  | SetStatement
  | SetTransaction
  | Use
  | Begin
  | Commit
  | Rollback
  | Savepoint
  | ReleaseSavepoint
  | Show
  | DescribeTable
  | Explain
  | VExplain
  | CreateTable
  | AlterTable
  | DropTable
  | TruncateTable
  | RenameTable
  | CreateDatabase
  | DropDatabase
  | CreateIndex
  | DropIndex
  | CreateView
  | DropView
  | LockTables
  | UnlockTables
  | Kill
  | Flush
  | Call
  | Prepare
  | Execute
  | Deallocate
  | NextVal
  | AlterVschema
  | StoredProgramDdl
  | CompoundBlockStatement
  | SequenceDdl
  | SetStatementFor
  | ExecuteImmediate
  | ServerStatement;

// ---------------------------------------------------------------------------------------------
// Small constructors for nodes the planner builds.

export function tableName(name: string, schema: string | null = null): TableName {
  return { kind: 'TableName', schema, name };
}
export function column(name: string, table: TableName | null = null): Column {
  return { kind: 'Column', table, name };
}
export function bindVar(name: string, list = false): BindVar {
  return { kind: 'BindVar', name, list };
}
export function intLiteral(n: number | bigint): NumberLiteral {
  return { kind: 'Number', text: String(n), numType: 'int' };
}
export function stringLiteral(value: string): StringLiteral {
  return { kind: 'String', value, charset: null, national: false };
}
export function and(left: Expr, right: Expr): Binary {
  return { kind: 'Binary', op: 'AND', left, right };
}

/** Splits a WHERE expression into its AND-ed conjuncts. */
export function conjuncts(expr: Expr | null): Expr[] {
  const out: Expr[] = [];
  const visit = (e: Expr): void => {
    if (e.kind === 'Binary' && e.op === 'AND') {
      visit(e.left);
      visit(e.right);
    } else out.push(e);
  };
  if (expr) visit(expr);
  return out;
}

export function isQuery(s: Statement): s is QueryExpr {
  return s.kind === 'Select' || s.kind === 'SetOp';
}
