// Recursive-descent parser: the token cursor, identifier and string decoding, and the statement
// dispatch. Grammar families live beside it (expr.ts, select.ts, dml.ts, ddl.ts, admin.ts) as
// functions over this cursor.

import type { Statement, TableName } from './ast.js';
import { K, RESERVED } from './keywords.js';
import { T, TokenBuffer, tokenize } from './lexer.js';
import { syntaxError } from './errors.js';
import { userVarName } from './expr.js';
import { ER, TesseraError } from '../mysql/errors.js';
import { parseQueryStatement, parseWithStatement } from './select.js';
import { compoundBlockAhead, compoundControlAhead, parseCompoundBlock } from './stored.js';
import { parseSetStatementFor, setStatementAhead } from './set-statement.js';
import { executeImmediateAhead, parseExecuteImmediate } from './execute-immediate.js';
import { parseServerStatement, serverShowAhead, serverStatementAhead } from './opaque.js';
import { parseDelete, parseInsert, parseUpdate } from './dml.js';
import { parseCreate, parseDrop, parseRename, parseTruncate } from './ddl.js';
import { parseAlter } from './ddl-alter.js';
import {
  parseBegin, parseCall, parseDeallocate, parseDescribe, parseExecute, parseFlush, parseKill, parseLock,
  parseCompletion, parsePrepare, parseRelease, parseRollback, parseSavepoint, parseSet, parseShow, parseStart, parseUnlock,
  parseUse, parseVExplain,
} from './admin.js';

export interface ParseOptions {
  /** Nesting limit for expressions and subqueries; deeper input is a 1064 syntax error. */
  readonly depthMax?: number;
}

/** Default nesting limit: deep enough for any real query, far from Node's stack limit. */
export const PARSE_DEPTH_MAX = 200;

export type Mutable<T> = { -readonly [P in keyof T]: T[P] };

export class Parser {
  readonly sql: string;
  readonly kind: Uint8Array;
  readonly start: Int32Array;
  readonly end: Int32Array;
  readonly kw: Uint16Array;
  pos = 0;
  depth = 0;
  readonly depthMax: number;
  paramCount = 0;

  constructor(sql: string, buf: TokenBuffer, depthMax: number) {
    this.sql = sql;
    this.kind = buf.kind;
    this.start = buf.start;
    this.end = buf.end;
    this.kw = buf.kw;
    this.depthMax = depthMax;
  }

  /** Kind of the current token. */
  k(): number {
    return this.kind[this.pos]!;
  }
  /** Keyword id of the current token (0 if none). */
  kwd(): number {
    return this.kw[this.pos]!;
  }
  peekKind(n: number): number {
    return this.kind[this.pos + n] ?? T.EOF;
  }
  peekKw(n: number): number {
    return this.kw[this.pos + n] ?? 0;
  }
  isKw(id: number): boolean {
    return this.kw[this.pos] === id;
  }
  eatKw(id: number): boolean {
    if (this.kw[this.pos] === id) {
      this.pos++;
      return true;
    }
    return false;
  }
  expectKw(id: number): void {
    if (this.kw[this.pos] !== id) this.fail();
    this.pos++;
  }
  eat(kind: number): boolean {
    if (this.kind[this.pos] === kind) {
      this.pos++;
      return true;
    }
    return false;
  }
  expect(kind: number): void {
    if (this.kind[this.pos] !== kind) this.fail();
    this.pos++;
  }
  fail(at: number = this.pos): never {
    throw syntaxError(this.sql, this.start[at]!);
  }
  enter(): void {
    if (++this.depth > this.depthMax) this.fail();
  }
  leave(): void {
    this.depth--;
  }
  text(i: number = this.pos): string {
    return this.sql.slice(this.start[i], this.end[i]);
  }
  upperText(i: number = this.pos): string {
    return this.sql.slice(this.start[i], this.end[i]).toUpperCase();
  }
  /** The current token is the word `w` (upper case), keyword or not. */
  isWord(w: string): boolean {
    if (this.kind[this.pos] !== T.IDENT) return false;
    const s = this.start[this.pos]!;
    if (this.end[this.pos]! - s !== w.length) return false;
    for (let i = 0; i < w.length; i++) {
      let c = this.sql.charCodeAt(s + i);
      if (c >= 97 && c <= 122) c -= 32;
      if (c !== w.charCodeAt(i)) return false;
    }
    return true;
  }

  /** The token `n` ahead is the word `w` (upper case), keyword or not. */
  isWord2(n: number, w: string): boolean {
    const save = this.pos;
    this.pos += n;
    const r = this.pos < this.kind.length && this.isWord(w);
    this.pos = save;
    return r;
  }
  /** The current token can be an identifier (unquoted non-reserved word or `quoted`). */
  isIdent(): boolean {
    const k = this.kind[this.pos];
    return k === T.QIDENT || (k === T.IDENT && RESERVED[this.kw[this.pos]!] === 0);
  }
  ident(): string {
    const k = this.kind[this.pos];
    if (k === T.QIDENT) return unquoteIdent(this.sql, this.start[this.pos]!, this.end[this.pos++]!);
    if (k === T.IDENT && RESERVED[this.kw[this.pos]!] === 0) {
      return this.sql.slice(this.start[this.pos], this.end[this.pos++]);
    }
    return this.fail();
  }
  /** Any word, reserved or not (after a dot, MySQL allows reserved words as names). */
  identAny(): string {
    const k = this.kind[this.pos];
    if (k === T.QIDENT) return unquoteIdent(this.sql, this.start[this.pos]!, this.end[this.pos++]!);
    if (k === T.IDENT) return this.sql.slice(this.start[this.pos], this.end[this.pos++]);
    return this.fail();
  }
  /** An identifier or a quoted string (aliases, charset names, user names). */
  identOrString(): string {
    const k = this.kind[this.pos];
    if (k === T.STRING || k === T.DSTRING) return this.stringToken();
    return this.ident();
  }
  /** A character set or collation name: a word, a string, or BINARY. */
  charsetName(): string {
    if (this.kw[this.pos] === K.BINARY) {
      this.pos++;
      return 'binary';
    }
    return this.identOrString();
  }
  isString(): boolean {
    const k = this.kind[this.pos];
    return k === T.STRING || k === T.DSTRING;
  }
  /** Decodes the current string token and advances. */
  stringToken(): string {
    const k = this.kind[this.pos];
    if (k !== T.STRING && k !== T.DSTRING) this.fail();
    return unquoteString(this.sql, this.start[this.pos]!, this.end[this.pos++]!);
  }
  /** `name` or `schema.name`. */
  tableName(): TableName {
    const first = this.ident();
    if (this.kind[this.pos] === T.DOT) {
      this.pos++;
      return { kind: 'TableName', schema: first, name: this.identAny() };
    }
    return { kind: 'TableName', schema: null, name: first };
  }
  /** Comma-separated identifiers in parentheses. */
  identList(): string[] {
    this.expect(T.LPAREN);
    const out = [this.ident()];
    while (this.eat(T.COMMA)) out.push(this.ident());
    this.expect(T.RPAREN);
    return out;
  }
  /** End offset of the previous token (for spans). */
  prevEnd(): number {
    return this.pos > 0 ? this.end[this.pos - 1]! : 0;
  }
  /** True at the end of the statement (EOF or a trailing semicolon). */
  atEnd(): boolean {
    const k = this.kind[this.pos];
    return k === T.EOF || k === T.SEMI;
  }
}

export function unquoteIdent(sql: string, start: number, end: number): string {
  const s = sql.slice(start + 1, end - 1);
  return s.indexOf('`') < 0 ? s : s.replaceAll('``', '`');
}

const ESCAPES: Record<string, string> = {
  '0': '\0', "'": "'", '"': '"', b: '\b', n: '\n', r: '\r', t: '\t', Z: '\x1a', '\\': '\\',
};

/** Decodes a quoted string token (either quote) with MySQL's backslash escapes. */
export function unquoteString(sql: string, start: number, end: number): string {
  const q = sql[start]!;
  const body = sql.slice(start + 1, end - 1);
  if (body.indexOf('\\') < 0 && body.indexOf(q) < 0) return body;
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\\' && i + 1 < body.length) {
      const n = body[++i]!;
      // \% and \_ keep their backslash so LIKE patterns see it; unknown escapes drop it.
      if (n === '%' || n === '_') out += '\\' + n;
      else out += ESCAPES[n] ?? n;
    } else if (c === q && body[i + 1] === q) {
      out += q;
      i++;
    } else out += c;
  }
  return out;
}

const sharedBuffer = new TokenBuffer();

/**
 * Token buffers for the scans below (splitStatements, leadingWords, …), which the gate runs on
 * every text statement: a buffer is four typed arrays, whose allocation cost more than the scan
 * of a short statement. Borrowed and given back rather than one shared, so that a scan started
 * while another one's buffer is in use gets its own.
 */
const scratch: TokenBuffer[] = [];

function borrowTokens(): TokenBuffer {
  return scratch.pop() ?? new TokenBuffer();
}

function returnTokens(buf: TokenBuffer): void {
  buf.shrink();
  if (scratch.length < 4) scratch.push(buf);
}

/** Parses one statement (an optional trailing `;` is allowed). Syntax errors are 1064 TesseraErrors. */
export function parse(sql: string, options?: ParseOptions): Statement {
  const buf = sharedBuffer;
  try {
    tokenize(sql, buf);
    const p = new Parser(sql, buf, options?.depthMax ?? PARSE_DEPTH_MAX);
    const stmt = parseStatement(p);
    while (p.eat(T.SEMI));
    if (p.k() !== T.EOF) p.fail();
    return stmt;
  } catch (err) {
    if (err instanceof TesseraError) throw err;
    if (err instanceof RangeError) {
      // A stack overflow on pathological input: report it as the syntax error it is.
      throw new TesseraError(ER.PARSE_ERROR, syntaxError(sql, 0).message);
    }
    throw err;
  } finally {
    buf.shrink();
  }
}

/**
 * Splits a script into statements at top-level semicolons (strings and comments respected). A
 * compound statement — a stored program's body (`CREATE PROCEDURE … BEGIN …; …; END`, functions,
 * triggers, events), `BEGIN NOT ATOMIC … END`, or a top-level IF, CASE, LOOP, REPEAT, WHILE or FOR
 * — stays whole: its semicolons inside BEGIN … END, IF … END IF and the like do not split it, as
 * MariaDB's own parser reads such a script.
 */
export function splitStatements(script: string): string[] {
  const buf = borrowTokens();
  try {
    return splitTokens(script, buf);
  } finally {
    returnTokens(buf);
  }
}

function splitTokens(script: string, buf: TokenBuffer): string[] {
  tokenize(script, buf);
  const out: string[] = [];
  let from = -1;
  // Inside a compound statement: how many blocks are open, and the previous token (-1 at the start).
  let compound = false;
  let depth = 0;
  let prev = -1;
  const word = (i: number): string => (i >= 0 && i < buf.count && buf.kind[i] === T.IDENT ? script.slice(buf.start[i], buf.end[i]).toUpperCase() : '');
  for (let i = 0; i < buf.count; i++) {
    const k = buf.kind[i];
    if (k === T.EOF || (k === T.SEMI && depth === 0)) {
      // Up to the semicolon (or the end), not the last token's end: the closing `*/` of an
      // executable comment (`/*! ENGINE = InnoDB */`) is not a token but belongs to the statement.
      if (from >= 0) out.push(script.slice(from, k === T.SEMI ? buf.start[i] : script.length).trimEnd());
      from = -1;
      compound = false;
      continue;
    }
    if (from < 0) {
      from = buf.start[i]!;
      compound = opensCompound(buf, i, word);
      depth = 0;
      prev = -1;
    }
    if (compound) {
      if (k === T.IDENT) {
        const w = word(i);
        const atStart = statementStart(buf, prev, word);
        if (w === 'END') {
          if (depth > 0) depth--;
          if (BLOCK_ENDS.has(word(i + 1))) i++;
        } else if (w === 'BEGIN' || w === 'CASE') depth++;
        else if ((w === 'IF' || w === 'WHILE' || w === 'LOOP') && (atStart || buf.kind[prev] === T.RPAREN)) depth++;
        else if (w === 'FOR' && atStart) depth++;
        else if (w === 'REPEAT' && atStart && buf.kind[i + 1] !== T.LPAREN) depth++;
      }
      prev = i;
    }
  }
  return out;
}

/** Words after END that close the block they name (END IF, END LOOP, …), not open one. */
const BLOCK_ENDS: ReadonlySet<string> = new Set(['IF', 'LOOP', 'WHILE', 'REPEAT', 'CASE', 'FOR']);
/** Words after which a statement of a compound body starts. */
const STATEMENT_LEADS: ReadonlySet<string> = new Set(['BEGIN', 'THEN', 'ELSE', 'DO', 'LOOP', 'REPEAT', 'ATOMIC']);
/** Words after CREATE (past OR REPLACE, DEFINER = …, AGGREGATE) naming a stored program. */
const STORED_PROGRAMS: ReadonlySet<string> = new Set(['PROCEDURE', 'FUNCTION', 'TRIGGER', 'EVENT', 'PACKAGE']);
/** CREATE of anything else: no compound body to look for. */
const PLAIN_CREATES: ReadonlySet<string> = new Set(['TABLE', 'VIEW', 'INDEX', 'UNIQUE', 'FULLTEXT', 'SPATIAL', 'DATABASE', 'SCHEMA', 'USER', 'ROLE', 'SEQUENCE', 'SERVER', 'TEMPORARY', 'TABLESPACE', 'LOGFILE']);
/** How far past CREATE the stored-program word may be (`CREATE OR REPLACE DEFINER = `u`@`h` PROCEDURE`). */
const CREATE_LEAD_TOKENS_MAX = 12;

function statementStart(buf: TokenBuffer, prev: number, word: (i: number) => string): boolean {
  if (prev < 0) return true;
  const k = buf.kind[prev];
  return k === T.SEMI || k === T.COLON || STATEMENT_LEADS.has(word(prev));
}

function opensCompound(buf: TokenBuffer, i: number, word: (i: number) => string): boolean {
  const w = word(i);
  switch (w) {
    case 'CREATE':
      for (let j = i + 1; j < buf.count && j <= i + CREATE_LEAD_TOKENS_MAX; j++) {
        const x = word(j);
        if (STORED_PROGRAMS.has(x)) return true;
        if (PLAIN_CREATES.has(x)) return false;
      }
      return false;
    case 'BEGIN':
      return word(i + 1) === 'NOT' && word(i + 2) === 'ATOMIC';
    case 'IF':
    case 'CASE':
    case 'LOOP':
    case 'REPEAT':
    case 'WHILE':
    case 'FOR':
      return true;
    default:
      // A labelled block: `label: BEGIN NOT ATOMIC …`.
      return (buf.kind[i] === T.IDENT || buf.kind[i] === T.QIDENT) && buf.kind[i + 1] === T.COLON;
  }
}

/**
 * The first `n` words of a statement, upper-cased (comments skipped, an executable comment's
 * content read as SQL); fewer when the statement is shorter, or when a token before them is not a
 * word. [] for an empty statement. Never throws: text the lexer refuses is read up to there.
 */
export function leadingWords(sql: string, n: number): string[] {
  const buf = borrowTokens();
  try {
    try {
      tokenize(sql, buf);
    } catch {
      // Words before the refused token are still in the buffer.
    }
    const out: string[] = [];
    for (let i = 0; i < buf.count && out.length < n; i++) {
      const k = buf.kind[i];
      if (k === T.EOF || k === T.SEMI) break;
      if (k !== T.IDENT) break;
      out.push(sql.slice(buf.start[i], buf.end[i]).toUpperCase());
    }
    return out;
  } finally {
    returnTokens(buf);
  }
}

/** The user variables (`@name`) a statement's text mentions, lower-cased, each once. */
export function userVariablesIn(sql: string): string[] {
  const buf = borrowTokens();
  try {
    try {
      tokenize(sql, buf);
    } catch {
      // Variables before the refused token are still in the buffer.
    }
    const out = new Set<string>();
    for (let i = 0; i < buf.count; i++) if (buf.kind[i] === T.USERVAR) out.add(userVarName(sql, buf.start[i]! + 1, buf.end[i]!).toLowerCase());
    return [...out];
  } finally {
    returnTokens(buf);
  }
}

/** Whether a statement has nothing but whitespace, comments and semicolons (MariaDB's 1065). */
export function isEmptyStatement(sql: string): boolean {
  const buf = borrowTokens();
  try {
    tokenize(sql, buf);
    for (let i = 0; i < buf.count; i++) if (buf.kind[i] !== T.EOF && buf.kind[i] !== T.SEMI) return false;
    return true;
  } catch {
    return false;
  } finally {
    returnTokens(buf);
  }
}

/**
 * SHOW: the forms the gate answers itself are parsed; any other is kept as a server statement
 * (SHOW CREATE PROCEDURE, SHOW PROFILE, SHOW BINLOG EVENTS, …).
 */
function orServerStatement(p: Parser, parse: (p: Parser) => Statement, verb: string): Statement {
  const save = p.pos;
  try {
    return parse(p);
  } catch (err) {
    if (!(err instanceof TesseraError)) throw err;
    p.pos = save;
    const lead = serverShowAhead(p);
    if (lead === null) throw err;
    return parseServerStatement(p, lead);
  }
}

export function parseStatement(p: Parser): Statement {
  const k = p.k();
  if (k === T.LPAREN) return parseQueryStatement(p);
  if (compoundControlAhead(p)) return parseCompoundBlock(p);
  if (k !== T.IDENT) p.fail();
  const kw = p.kwd();
  // The common statements first; then server statements (GRANT, CREATE USER, …) by their words.
  if (kw !== K.SELECT && kw !== K.INSERT && kw !== K.UPDATE && kw !== K.DELETE && kw !== K.SET && kw !== K.REPLACE) {
    const lead = serverStatementAhead(p);
    if (lead !== null) return parseServerStatement(p, lead);
  }
  switch (kw) {
    case K.SELECT:
    case K.VALUES:
      return parseQueryStatement(p);
    case K.WITH:
      return parseWithStatement(p);
    case K.INSERT:
    case K.REPLACE:
      return parseInsert(p);
    case K.UPDATE:
      return parseUpdate(p, null, p.start[p.pos]!);
    case K.DELETE:
      return parseDelete(p, null, p.start[p.pos]!);
    case K.SET: {
      if (setStatementAhead(p)) return parseSetStatementFor(p);
      const lead = serverStatementAhead(p);
      if (lead !== null) return parseServerStatement(p, lead);
    }
      return parseSet(p);
    case K.USE:
      return parseUse(p);
    case K.BEGIN:
      if (compoundBlockAhead(p)) return parseCompoundBlock(p);
      return parseBegin(p);
    case K.START:
      return parseStart(p);
    case K.COMMIT: {
      const start = p.start[p.pos++]!;
      p.eatKw(K.WORK);
      return { kind: 'Commit', ...parseCompletion(p), start, end: p.prevEnd() };
    }
    case K.ROLLBACK:
      return parseRollback(p);
    case K.SAVEPOINT:
      return parseSavepoint(p);
    case K.RELEASE:
      return parseRelease(p);
    case K.SHOW:
      return orServerStatement(p, parseShow, 'SHOW');
    case K.EXPLAIN:
    case K.DESCRIBE:
    case K.DESC:
      return parseDescribe(p);
    case K.VEXPLAIN:
      return parseVExplain(p);
    case K.CREATE:
      return parseCreate(p);
    case K.ALTER:
      return parseAlter(p);
    case K.DROP:
      if (p.peekKw(1) === K.PREPARE) return parseDeallocate(p);
      return parseDrop(p);
    case K.TRUNCATE:
      return parseTruncate(p);
    case K.RENAME:
      return parseRename(p);
    case K.LOCK:
      return parseLock(p);
    case K.UNLOCK:
      return parseUnlock(p);
    case K.KILL:
      return parseKill(p);
    case K.FLUSH:
      return parseFlush(p);
    case K.CALL:
      return parseCall(p);
    case K.PREPARE:
      return parsePrepare(p);
    case K.EXECUTE:
      if (executeImmediateAhead(p)) return parseExecuteImmediate(p);
      return parseExecute(p);
    case K.DEALLOCATE:
      return parseDeallocate(p);
    default:
      return p.fail();
  }
}
