// Server statements the gate never plans: account management (GRANT, REVOKE, CREATE/ALTER/DROP/
// RENAME USER, CREATE/DROP ROLE), replication and server administration (CHANGE MASTER, START/STOP
// SLAVE, RESET, PURGE, INSTALL/UNINSTALL, BINLOG, BACKUP STAGE, SHUTDOWN, CREATE/ALTER/DROP SERVER),
// table maintenance (CHECK, CHECKSUM, REPAIR, OPTIMIZE, ANALYZE TABLE), CACHE INDEX, LOAD INDEX,
// LOAD DATA/XML, HANDLER, XA, HELP, DO, GET DIAGNOSTICS, ALTER DATABASE, SET PASSWORD, SET ROLE
// and SET DEFAULT ROLE; and SHOW forms the statement parser does not know. The parser knows them by their leading words and checks only
// that they lex and that their parentheses balance: the statement is kept as written and MariaDB
// reads it. The gate sends one to the session's one shard (docs/sql.md says which are refused).
import { T } from './lexer.js';
import { parseStatement, type Parser } from './parser.js';

export interface ServerStatement {
  readonly kind: 'ServerStatement';
  /** The leading words naming it, upper case: `GRANT`, `CREATE USER`, `CHANGE MASTER`, … */
  readonly verb: string;
  /** The statement as written (what the shard gets). */
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

/** First words that are a server statement whatever follows. */
const VERBS: ReadonlySet<string> = new Set([
  'GRANT', 'REVOKE', 'XA', 'HANDLER', 'INSTALL', 'UNINSTALL', 'BINLOG', 'HELP', 'CHECKSUM', 'REPAIR', 'OPTIMIZE',
  'PURGE', 'SHUTDOWN', 'DO', 'ANALYZE',
]);
/** First word, then one of these second words. */
const PAIRS: Readonly<Record<string, ReadonlySet<string>>> = {
  CREATE: new Set(['USER', 'ROLE', 'SERVER']),
  DROP: new Set(['USER', 'ROLE', 'SERVER']),
  ALTER: new Set(['USER', 'SERVER', 'DATABASE', 'SCHEMA']),
  GET: new Set(['DIAGNOSTICS', 'CURRENT', 'STACKED']),
  SET: new Set(['PASSWORD', 'ROLE', 'DEFAULT']),
  RENAME: new Set(['USER']),
  CHANGE: new Set(['MASTER', 'REPLICATION']),
  START: new Set(['SLAVE', 'REPLICA', 'ALL']),
  STOP: new Set(['SLAVE', 'REPLICA', 'ALL']),
  RESET: new Set(['MASTER', 'SLAVE', 'REPLICA', 'QUERY']),
  CHECK: new Set(['TABLE', 'TABLES', 'VIEW']),
  CACHE: new Set(['INDEX']),
  LOAD: new Set(['INDEX', 'DATA', 'XML']),
  BACKUP: new Set(['STAGE', 'LOCK', 'UNLOCK']),
};

/** ANALYZE TABLE: table maintenance; ANALYZE followed by a statement runs it and shows its plan. */
const ANALYZE_TABLE: ReadonlySet<string> = new Set(['TABLE', 'TABLES', 'NO_WRITE_TO_BINLOG', 'LOCAL']);
const ANALYZABLE: ReadonlySet<string> = new Set(['Select', 'SetOp', 'Insert', 'Update', 'Delete']);

/** Verbs that are whole statements alone. */
const COMPLETE: ReadonlySet<string> = new Set([
  'SHUTDOWN', 'START SLAVE', 'STOP SLAVE', 'START REPLICA', 'STOP REPLICA', 'RESET MASTER', 'RESET SLAVE', 'RESET REPLICA', 'BACKUP UNLOCK',
]);

/** At the statement's first word: the verb and how many tokens it takes when it is a server statement, else null. */
export function serverStatementAhead(p: Parser): { verb: string; tokens: number } | null {
  if (p.k() !== T.IDENT) return null;
  const a = p.upperText();
  if (VERBS.has(a)) return { verb: a, tokens: 1 };
  const second = PAIRS[a];
  if (second === undefined || p.peekKind(1) !== T.IDENT) return null;
  let i = p.pos + 1;
  // CREATE OR REPLACE USER, DROP USER IF EXISTS …
  if (a === 'CREATE' && p.upperText(i) === 'OR' && p.upperText(i + 1) === 'REPLACE') i += 2;
  if (p.kind[i] !== T.IDENT) return null;
  const b = p.upperText(i);
  if (!second.has(b)) return null;
  return { verb: `${a} ${b}`, tokens: i + 1 - p.pos };
}

/** MariaDB's SHOW forms by their second word (the gate's own are parsed before this is asked). */
const SHOWS: ReadonlySet<string> = new Set([
  'CREATE', 'PROCEDURE', 'FUNCTION', 'PACKAGE', 'PROFILE', 'PROFILES', 'BINLOG', 'BINARY', 'RELAYLOG', 'MASTER', 'SLAVE',
  'REPLICA', 'ALL', 'GRANTS', 'PRIVILEGES', 'PLUGINS', 'ENGINE', 'ENGINES', 'STORAGE', 'EVENTS', 'TRIGGERS', 'OPEN',
  'TABLE', 'CONTRIBUTORS', 'AUTHORS', 'CHARACTER', 'CHARSET', 'COLLATION', 'EXPLAIN', 'ANALYZE', 'LOCALES', 'STATUS',
  'VARIABLES', 'GLOBAL', 'SESSION', 'LOCAL', 'INDEX', 'INDEXES', 'KEYS', 'COLUMNS', 'FIELDS',
  'TABLES', 'QUERY_RESPONSE_TIME', 'USER_STATISTICS', 'CLIENT_STATISTICS', 'INDEX_STATISTICS', 'TABLE_STATISTICS',
  'WSREP_MEMBERSHIP', 'WSREP_STATUS', 'USER',
]);

/** At SHOW: a MariaDB SHOW form (`SHOW CREATE PROCEDURE p`, `SHOW PROFILE`, …) as a server statement. */
export function serverShowAhead(p: Parser): { verb: string; tokens: number } | null {
  if (p.peekKind(1) !== T.IDENT) return null;
  const b = p.upperText(p.pos + 1);
  if (!SHOWS.has(b)) return null;
  // SHOW CREATE needs what and which; every other form is complete after its second word.
  if (b === 'CREATE' && !(p.peekKind(2) === T.IDENT && p.peekKind(3) !== T.EOF && p.peekKind(3) !== T.SEMI)) return null;
  if (b === 'GLOBAL' || b === 'SESSION' || b === 'LOCAL') {
    const c = p.peekKind(2) === T.IDENT ? p.upperText(p.pos + 2) : '';
    if (c !== 'STATUS' && c !== 'VARIABLES') return null;
  }
  return { verb: `SHOW ${b}`, tokens: 2 };
}

/** Reads the rest of the statement: every token up to the end, parentheses balanced. */
export function parseServerStatement(p: Parser, lead: { verb: string; tokens: number }): ServerStatement {
  const start = p.start[p.pos]!;
  const verb = lead.verb;
  p.pos += lead.tokens;
  if (p.atEnd() && !COMPLETE.has(verb) && !verb.startsWith('SHOW ')) p.fail();
  if (verb === 'ANALYZE' && !ANALYZE_TABLE.has(p.upperText())) {
    // MariaDB's ANALYZE [FORMAT = JSON] statement: runs it and shows the plan with what happened.
    if (p.isWord('FORMAT')) {
      p.pos++;
      p.expect(T.EQ);
      p.identAny();
    }
    const inner = parseStatement(p);
    if (!ANALYZABLE.has(inner.kind)) p.fail(p.pos - 1);
    const end = p.prevEnd();
    return { kind: 'ServerStatement', verb, text: p.sql.slice(start, end), start, end };
  }
  let depth = 0;
  while (!p.atEnd()) {
    const k = p.k();
    if (k === T.LPAREN) depth++;
    else if (k === T.RPAREN && --depth < 0) p.fail();
    p.pos++;
  }
  if (depth !== 0) p.fail();
  const end = p.prevEnd();
  return { kind: 'ServerStatement', verb, text: p.sql.slice(start, end), start, end };
}
