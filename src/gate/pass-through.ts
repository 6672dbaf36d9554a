// Statements the gate's parser does not know, sent to the tablet as the client wrote them when the
// session's target is one shard (an unsharded keyspace, or `USE ks:shard`) — and statements whose
// user variables MariaDB itself must evaluate (`@a := @a + 1`, `CALL p(@out)`), run on the
// session's reserved connection with the gate's variables carried there and back.
//
// The gate must still see every statement that changes what it keeps for the session (target,
// transaction, settings, its own answers): such a statement that does not parse is a syntax error
// (MariaDB's 1064), never passed through. docs/gate.md ("Statements the parser does not know")
// lists the leading words; keep it in step with WORDS below.
import { TesseraError } from '../mysql/index.js';
import { format, leadingWords, type Expr, type Literal, type Statement } from '../sql/index.js';
import { notSupported } from './errors.js';

export type Verdict =
  /** Send it; `pins` when it leaves state on the MariaDB connection the session must keep. */
  | { readonly kind: 'pass'; readonly pins: boolean }
  /** A statement the gate handles itself: its syntax error stands. */
  | { readonly kind: 'syntax' }
  /** MariaDB would take it, the gate cannot carry it: refused with this error. */
  | { readonly kind: 'refuse'; readonly error: TesseraError };

/** How many leading words decide. */
const LEADING_WORDS = 3;

/** Statements the gate handles itself; unparsed, they are the syntax errors they are. */
const GATE_WORDS: ReadonlySet<string> = new Set([
  'USE', 'START', 'COMMIT', 'ROLLBACK', 'SAVEPOINT', 'RELEASE', 'KILL', 'LOCK', 'UNLOCK', 'DEALLOCATE',
  'VEXPLAIN', 'DESCRIBE', 'DESC', 'EXPLAIN',
]);

/** SHOW forms the gate answers itself (SHOW WARNINGS, SHOW PROCESSLIST, SHOW VITESS_…). */
const GATE_SHOWS: ReadonlySet<string> = new Set([
  'WARNINGS', 'ERRORS', 'COUNT', 'PROCESSLIST', 'DATABASES', 'SCHEMAS', 'KEYSPACES', 'VSCHEMA',
  'VITESS_SHARDS', 'VITESS_TABLETS', 'VITESS_TARGET', 'VITESS_MIGRATIONS', 'VITESS_REPLICATION_STATUS',
]);

/** Statements that leave state on the connection that the session's next statements need. */
const PINNING_WORDS: ReadonlySet<string> = new Set(['HANDLER', 'PREPARE', 'EXECUTE']);

/** Decides what to do with a statement the parser refused, from its leading words. */
export function classifyUnparsed(sql: string): Verdict {
  const w = leadingWords(sql, LEADING_WORDS);
  const [a = '', b = '', c = ''] = w;
  if (a === '') return { kind: 'syntax' };
  if (GATE_WORDS.has(a)) return { kind: 'syntax' };
  // BEGIN starts a transaction; BEGIN NOT ATOMIC … END is a compound statement.
  if (a === 'BEGIN') return b === 'NOT' && c === 'ATOMIC' ? { kind: 'pass', pins: false } : { kind: 'syntax' };
  // SET changes the session; SET STATEMENT var = value FOR stmt only the one statement. SET
  // PASSWORD and SET DEFAULT ROLE change accounts; SET ROLE the MariaDB connection's role.
  if (a === 'SET') {
    if (b === 'STATEMENT' || b === 'PASSWORD' || (b === 'DEFAULT' && c === 'ROLE')) return { kind: 'pass', pins: false };
    return b === 'ROLE' ? { kind: 'pass', pins: true } : { kind: 'syntax' };
  }
  if (a === 'SHOW') return GATE_SHOWS.has(b) || (b === 'FULL' && c === 'PROCESSLIST') || b.startsWith('VITESS_') ? { kind: 'syntax' } : { kind: 'pass', pins: false };
  if (a === 'DROP' && b === 'PREPARE') return { kind: 'syntax' };
  if ((a === 'CREATE' || a === 'DROP' || a === 'ALTER') && (b === 'DATABASE' || b === 'SCHEMA')) {
    return { kind: 'refuse', error: notSupported(`${a} ${b} through the gate; keyspaces are created with tessera ctl CreateKeyspace`) };
  }
  if (a === 'GET' && (b === 'DIAGNOSTICS' || b === 'CURRENT' || b === 'STACKED')) {
    return { kind: 'refuse', error: notSupported('GET DIAGNOSTICS outside a stored program through the gate; use SHOW WARNINGS') };
  }
  if (a === 'XA') return { kind: 'refuse', error: notSupported('XA transactions through the gate') };
  if (a === 'FLUSH') return { kind: 'pass', pins: w.includes('LOCK') || w.includes('EXPORT') || /\b(LOCK|EXPORT)\b/i.test(sql) };
  if (a === 'LOAD' && w.includes('LOCAL')) return { kind: 'refuse', error: notSupported('LOAD DATA LOCAL through the gate') };
  if (a === 'EXECUTE' && b === 'IMMEDIATE') return { kind: 'pass', pins: true };
  return { kind: 'pass', pins: PINNING_WORDS.has(a) };
}

/** `SET @a = …, @b = …` with the gate's values of these user variables (NULL for unset ones). */
export function setUserVarsStatement(names: readonly string[], vars: ReadonlyMap<string, Literal>): string {
  return format({ kind: 'Set', items: names.map((name) => ({ kind: 'SetUserVar' as const, name, value: vars.get(name) ?? { kind: 'Null' } })), start: -1, end: -1 });
}

/** `SELECT @a, @b` (and LAST_INSERT_ID() when asked): what a statement may have assigned. */
export function readUserVarsStatement(names: readonly string[], lastInsertId: boolean): string {
  const columns: { expr: Expr; alias: null; start: number; end: number }[] = names.map((name) => ({ expr: { kind: 'UserVar', name }, alias: null, start: -1, end: -1 }));
  if (lastInsertId) columns.push({ expr: { kind: 'Func', schema: null, name: 'LAST_INSERT_ID', args: [], distinct: false, bare: false, over: null }, alias: null, start: -1, end: -1 });
  return format({
    kind: 'Select', with: null, hints: null, distinct: false, options: [], columns, from: [], where: null,
    groupBy: [], rollup: false, having: null, windows: [], orderBy: [], limit: null, lock: null, into: null, start: -1, end: -1,
  } as Statement);
}

/** MariaDB's answer to an empty statement (nothing but comments and semicolons). */
export function emptyQuery(): TesseraError {
  return new TesseraError({ errno: 1065, sqlState: '42000' }, 'Query was empty');
}

