// What the executor needs to know of a statement before it runs it: whether its text can be
// cached and planned as written, what it does to the previous statement's warnings, whether it
// reads session state the gate keeps, and whether the gate answers it alone.
import { columnDefinition, TYPE, type ColumnDefinition } from '../mysql/index.js';
import {
  isQuery, normalize, tableNames, walk, type BindValue, type Expr, type Literal, type QueryExpr, type Statement, type TableName,
} from '../sql/index.js';
import { allTableNames, DBA_SCHEMAS } from './planner/context.js';
import type { Result } from './types.js';

/**
 * A COM_QUERY text the gate has run before, normalized: its next run skips parsing, the session
 * rewrite and normalizing, and goes straight to the plan cache. Kept only for queries and DML
 * that use nothing of the session and that the planner takes as written (see Executor.query).
 */
export interface TextEntry {
  readonly kind: Statement['kind'];
  readonly warnings: WarningsEffect;
  readonly key: string;
  readonly statement: Statement;
  readonly bindVars: Readonly<Record<string, BindValue>>;
  /** The tables it names when it may go to an unsharded keyspace as written (see asWrittenShard), else null. */
  readonly plain: readonly TableName[] | null;
}

/** Texts the text cache keeps at most (it starts over when full) and the longest text it keeps. */
export const TEXT_CACHE_ENTRIES = 2_000;
const TEXT_CACHE_SQL_CHARS = 4_096;

/**
 * What a statement that raises no warning does to the previous statement's, as in MariaDB: the
 * diagnostic statements (SHOW WARNINGS, SHOW ERRORS and their COUNT(*)) keep them and never
 * replace them; a statement that uses tables clears them; one that uses none (SELECT 1, SET,
 * USE, transaction control) leaves them (see GateSession.settleWarnings).
 */
export type WarningsEffect = 'diagnostic' | 'clears' | 'keeps';

/** Statements that read or write tables: after an unscoped SET TRANSACTION, the transaction it asked for (see Executor.runWith). */
export const STATEMENT_TRANSACTION_KINDS: ReadonlySet<string> = new Set(['Select', 'SetOp', 'Insert', 'Update', 'Delete', 'PassThrough']);

export function warningsEffect(stmt: Statement): WarningsEffect {
  switch (stmt.kind) {
    case 'Show':
      return stmt.type === 'WARNINGS' || stmt.type === 'COUNT WARNINGS' || stmt.type === 'ERRORS' || stmt.type === 'COUNT ERRORS' ? 'diagnostic' : 'clears';
    case 'Set':
    case 'SetTransaction':
    case 'Use':
    case 'Begin':
    case 'Commit':
    case 'Rollback':
    case 'Savepoint':
    case 'ReleaseSavepoint':
    case 'Kill':
    case 'Prepare':
    case 'Deallocate':
      return 'keeps';
    case 'Select':
      // The common SELECT has a FROM; only one without looks deeper (for subqueries on tables).
      return stmt.from.length > 0 || tableNames(stmt).length > 0 ? 'clears' : 'keeps';
    default:
      return 'clears';
  }
}

/** Whether preprocessing would change the statement (it reads session state). */
export function usesSession(stmt: Statement): boolean {
  let uses = false;
  walk(stmt, {
    expr: (e) => {
      if (e.kind === 'UserVar' || e.kind === 'SysVar') uses = true;
      else if (e.kind === 'Binary' && e.op === ':=') uses = true;
      else if (e.kind === 'Func' && e.schema === null && SESSION_FUNCS.has(e.name.toUpperCase())) uses = true;
    },
  });
  return uses;
}

/** A query or DML that uses nothing the gate keeps or answers itself (see asWrittenShard). */
export function asWrittenCandidate(stmt: Statement, sql: string): boolean {
  if (!isQuery(stmt) && stmt.kind !== 'Insert' && stmt.kind !== 'Update' && stmt.kind !== 'Delete') return false;
  return !mayUseSessionVars(sql) && !usesSession(stmt) && answerLocally(stmt) === null;
}

/** DDL that goes to an unsharded keyspace as written when it names its tables plainly. */
export const AS_WRITTEN_DDL: ReadonlySet<string> = new Set(['CreateTable', 'AlterTable', 'DropTable', 'TruncateTable', 'RenameTable', 'CreateIndex', 'DropIndex', 'CreateView', 'DropView']);

const SESSION_FUNCS = new Set(['DATABASE', 'SCHEMA', 'LAST_INSERT_ID', 'CONNECTION_ID', 'ROW_COUNT', 'VERSION', 'USER', 'SESSION_USER', 'SYSTEM_USER', 'CURRENT_USER', 'FOUND_ROWS']);


export interface SessionVarUse {
  /** Every user variable the statement names, lower-cased. */
  readonly vars: readonly string[];
  /** It calls LAST_INSERT_ID(expr). */
  readonly lastInsertId: boolean;
}

/**
 * A cheap test on the text before sessionVarUse walks the tree: a statement that assigns user
 * variables names one (`@`), and LAST_INSERT_ID(expr) is spelled out. Most statements have neither.
 */
export function mayUseSessionVars(sql: string): boolean {
  return sql.includes('@') || LAST_INSERT_ID_TEXT.test(sql);
}
const LAST_INSERT_ID_TEXT = /last_insert_id/i;

/**
 * Whether MariaDB must evaluate a statement's user variables itself: it assigns one (`:=`,
 * `INTO @v`, a CALL's `@v` argument, which may be OUT) or sets LAST_INSERT_ID(expr). null for
 * every other statement, whose variables the gate substitutes.
 */
export function sessionVarUse(stmt: Statement): SessionVarUse | null {
  const vars = new Set<string>();
  let assigns = false;
  let lastInsertId = false;
  walk(stmt, {
    expr: (e) => {
      if (e.kind === 'UserVar') vars.add(e.name.toLowerCase());
      else if (e.kind === 'Binary' && e.op === ':=') assigns = true;
      else if (e.kind === 'Func' && e.schema === null && e.args.length > 0 && e.name.toUpperCase() === 'LAST_INSERT_ID') lastInsertId = true;
    },
  });
  if (stmt.kind === 'Call' && vars.size > 0) assigns = true;
  if ((stmt.kind === 'Select' || stmt.kind === 'SetOp') && stmt.into !== null && stmt.into.type === 'VARIABLES') {
    assigns = true;
    for (const v of stmt.into.vars) vars.add(v.name.toLowerCase());
  }
  if (!assigns && !lastInsertId) return null;
  return { vars: [...vars], lastInsertId };
}

/** Whether a query has a VALUES table constructor anywhere (the text is looked at first: cheap). */
export function hasTableValues(q: QueryExpr, text: string): boolean {
  if (!/values/i.test(text)) return false;
  const seen = (v: unknown): boolean => {
    if (Array.isArray(v)) return v.some(seen);
    if (v === null || typeof v !== 'object') return false;
    if ((v as { tableValues?: unknown }).tableValues !== undefined) return true;
    return Object.values(v).some(seen);
  };
  return seen(q);
}

/**
 * The text cache's entry for a parsed COM_QUERY text, or null when the text must take the full
 * path each time: statements other than queries and DML, and those whose meaning depends on the
 * session (user or system variables, DATABASE(), LAST_INSERT_ID(), …) or that the gate answers
 * itself (constants only).
 */
export function textEntry(stmt: Statement, text: string): TextEntry | null {
  if (text.length > TEXT_CACHE_SQL_CHARS) return null;
  const query = isQuery(stmt);
  if (!query && stmt.kind !== 'Insert' && stmt.kind !== 'Update' && stmt.kind !== 'Delete') return null;
  if ((stmt.kind === 'Insert' || stmt.kind === 'Delete') && stmt.returning) return null;
  if (query && hasTableValues(stmt, text)) return null;
  if (mayUseSessionVars(text) || usesSession(stmt) || answerLocally(stmt) !== null) return null;
  // What preprocess does to a statement that uses nothing of the session.
  const n = normalize(query ? aliasTopLevel(stmt, text) : stmt);
  return { kind: stmt.kind, warnings: warningsEffect(stmt), key: n.key, statement: n.statement, bindVars: n.bindVars, plain: plainTables(stmt) };
}

/**
 * The tables a query or DML names, when it names them as a statement for one MariaDB would: each
 * unqualified or in a system database (a keyspace-qualified name must be rewritten); else null.
 */
export function plainTables(stmt: Statement): TableName[] | null {
  const names = allTableNames(stmt);
  for (const t of names) if (t.schema !== null && !DBA_SCHEMAS.has(t.schema.toLowerCase())) return null;
  return names;
}

/** Top-level select items get their text as alias, so plans cached by normalized text keep MariaDB's column names. */
export function aliasTopLevel(q: QueryExpr, sql: string): QueryExpr {
  if (q.kind === 'SetOp') return { ...q, left: aliasTopLevel(q.left, sql) };
  let changed = false;
  const columns = q.columns.map((c) => {
    if (c.alias !== null || c.expr.kind === 'Column' || c.expr.kind === 'Star') return c;
    if (c.start < 0 || c.end <= c.start || c.end > sql.length) return c;
    const text = sql.slice(c.start, c.end);
    if (text.length > 250) return c;
    changed = true;
    return { ...c, alias: text };
  });
  return changed ? { ...q, columns } : q;
}

/**
 * The values the gate put in for @@warning_count and @@error_count: MariaDB types them BIGINT
 * UNSIGNED (nullable), not as a literal number.
 */
export const UNSIGNED_COUNTS = new WeakSet<Expr>();

/** SELECT of constants only (after the gate's substitutions): answered without a shard. */
export function answerLocally(stmt: Statement): Result | null {
  if (stmt.kind !== 'Select' || stmt.from.length || stmt.where || stmt.groupBy.length || stmt.having || stmt.orderBy.length || stmt.into || stmt.with) return null;
  if (stmt.limit && !(stmt.limit.count.kind === 'Number' && stmt.limit.offset === null)) return null;
  const fields: ColumnDefinition[] = [];
  const row: (Buffer | null)[] = [];
  for (const c of stmt.columns) {
    const e = c.expr;
    const name = c.alias ?? '?';
    if (e.kind === 'String') {
      // MariaDB's metadata for a literal: NOT NULL, decimals 39 (not fixed) for strings.
      fields.push(columnDefinition({ name, orgName: '', type: TYPE.VAR_STRING, columnLength: Math.max(1, e.value.length) * 4, decimals: 39, flags: 0x01 }));
      row.push(Buffer.from(e.value, 'utf8'));
    } else if (UNSIGNED_COUNTS.has(e)) {
      fields.push(columnDefinition({ name, orgName: '', type: TYPE.LONGLONG, charset: 63, columnLength: 21, flags: 0x20 | 0x80 }));
      row.push(Buffer.from((e as Literal & { text: string }).text, 'latin1'));
    } else if (e.kind === 'Number' && e.numType === 'int') {
      // BIGINT: the numbers the gate puts here are mostly its own answers (LAST_INSERT_ID(),
      // CONNECTION_ID(), ROW_COUNT()), which are BIGINT in MariaDB; a small literal is INT there.
      fields.push(columnDefinition({ name, orgName: '', type: TYPE.LONGLONG, charset: 63, columnLength: e.text.length, flags: 0x01 | 0x80 }));
      row.push(Buffer.from(e.text, 'latin1'));
    } else if (e.kind === 'Null') {
      fields.push(columnDefinition({ name, orgName: '', type: TYPE.NULL, charset: 63, columnLength: 0, flags: 0x80 }));
      row.push(null);
    } else return null;
  }
  const limited = stmt.limit && stmt.limit.count.kind === 'Number' && stmt.limit.count.text === '0';
  return { fields, rows: limited ? [] : [row], raw: null, rowsAffected: 0, insertId: 0n, warnings: 0, info: '' };
}
