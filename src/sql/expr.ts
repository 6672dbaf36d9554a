// Expressions, with MySQL's operator precedence (lowest first):
//   :=  ·  OR ||  ·  XOR  ·  AND &&  ·  NOT  ·  comparisons, IS, IN, BETWEEN, LIKE, REGEXP  ·  |  ·  &
//   ·  << >>  ·  + -  ·  * / DIV % MOD  ·  ^  ·  unary - + ~  ·  !  ·  BINARY, COLLATE  ·  -> ->>
// The structure follows MySQL's grammar (expr / bool_pri / predicate / bit_expr / simple_expr), so a
// predicate binds tighter than a comparison and BETWEEN's bounds are bit expressions.

import type {
  BinaryOp, Column, ComparisonOp, DataType, Expr, FrameBound, FuncCall, Limit, OrderItem, TableName,
  WindowFrame, WindowSpec,
} from './ast.js';
import { ER, TesseraError } from '../mysql/errors.js';
import { K, RESERVED } from './keywords.js';
import { T } from './lexer.js';
import { type Parser, unquoteIdent, unquoteString } from './parser.js';
import { parseLimit, parseOrderBy, parseQuery } from './select.js';

/** A value where MariaDB also takes IGNORE (INSERT VALUES, UPDATE/INSERT SET, EXECUTE … USING); DEFAULT is an expression already. */
export function parseValueExpr(p: Parser): Expr {
  if (p.kwd() === K.IGNORE) {
    const n = p.peekKind(1);
    if (n === T.COMMA || n === T.RPAREN || n === T.EOF || n === T.SEMI || p.peekKw(1) === K.WHERE || p.peekKw(1) === K.ON) {
      p.pos++;
      return { kind: 'Keyword', word: 'IGNORE' };
    }
  }
  return parseExpr(p);
}

export function parseExpr(p: Parser): Expr {
  p.enter();
  const left = parseOr(p);
  let out = left;
  if (p.k() === T.ASSIGN && left.kind === 'UserVar') {
    p.pos++;
    out = { kind: 'Binary', op: ':=', left, right: parseExpr(p) };
  }
  p.leave();
  return out;
}

export function parseExprList(p: Parser): Expr[] {
  const out = [parseExpr(p)];
  while (p.eat(T.COMMA)) out.push(parseExpr(p));
  return out;
}

function parseOr(p: Parser): Expr {
  let left = parseXor(p);
  while (p.kwd() === K.OR || p.k() === T.PIPEPIPE) {
    p.pos++;
    left = { kind: 'Binary', op: 'OR', left, right: parseXor(p) };
  }
  return left;
}

function parseXor(p: Parser): Expr {
  let left = parseAnd(p);
  while (p.kwd() === K.XOR) {
    p.pos++;
    left = { kind: 'Binary', op: 'XOR', left, right: parseAnd(p) };
  }
  return left;
}

function parseAnd(p: Parser): Expr {
  let left = parseNot(p);
  while (p.kwd() === K.AND || p.k() === T.AMPAMP) {
    p.pos++;
    left = { kind: 'Binary', op: 'AND', left, right: parseNot(p) };
  }
  return left;
}

function parseNot(p: Parser): Expr {
  if (p.kwd() === K.NOT) {
    p.pos++;
    p.enter();
    const expr = parseNot(p);
    p.leave();
    return { kind: 'Unary', op: 'NOT', expr };
  }
  return parseBoolPri(p);
}

function comparisonOp(kind: number): ComparisonOp | null {
  switch (kind) {
    case T.EQ:
      return '=';
    case T.NULLSAFE_EQ:
      return '<=>';
    case T.NE:
      return '<>';
    case T.LT:
      return '<';
    case T.LE:
      return '<=';
    case T.GT:
      return '>';
    case T.GE:
      return '>=';
    default:
      return null;
  }
}

function parseBoolPri(p: Parser): Expr {
  let left = parsePredicate(p);
  for (;;) {
    const op = comparisonOp(p.k());
    if (op !== null) {
      p.pos++;
      const q = p.kwd();
      if ((q === K.ANY || q === K.SOME || q === K.ALL) && p.peekKind(1) === T.LPAREN && isQueryStart(p, 2)) {
        p.pos += 2;
        const query = parseQuery(p);
        p.expect(T.RPAREN);
        left = { kind: 'Quantified', op, quantifier: q === K.ALL ? 'ALL' : 'ANY', left, query };
        continue;
      }
      left = { kind: 'Binary', op, left, right: parsePredicate(p) };
      continue;
    }
    if (p.kwd() === K.IS) {
      p.pos++;
      const not = p.eatKw(K.NOT);
      const w = p.kwd();
      const value = w === K.NULL ? 'NULL' : w === K.TRUE ? 'TRUE' : w === K.FALSE ? 'FALSE' : w === K.UNKNOWN ? 'UNKNOWN' : null;
      if (value === null) p.fail();
      p.pos++;
      left = { kind: 'Is', expr: left, not, value };
      continue;
    }
    return left;
  }
}

/** Whether the token at pos+n starts a query (SELECT, WITH, or parentheses around one). */
/**
 * Parses with `fn`, or returns null with the parser back where it was when `fn` meets a syntax
 * error. For `((SELECT …) + 1)`: parentheses that start like a query and turn out an expression.
 */
export function attempt<R>(p: Parser, fn: () => R): R | null {
  const pos = p.pos;
  const depth = p.depth;
  const params = p.paramCount;
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof TesseraError) || err.errno !== ER.PARSE_ERROR.errno) throw err;
    p.pos = pos;
    p.depth = depth;
    p.paramCount = params;
    return null;
  }
}

export function isQueryStart(p: Parser, n: number): boolean {
  let i = n;
  while (p.peekKind(i) === T.LPAREN) i++;
  const w = p.peekKw(i);
  if (w === K.VALUES) return tableValuesAt(p, i);
  return w === K.SELECT || w === K.WITH;
}

/**
 * At VALUES (the token `i` ahead), inside parentheses: a table value constructor, not the
 * VALUES(col) function of ON DUPLICATE KEY UPDATE (one column name, no second row).
 */
function tableValuesAt(p: Parser, i: number): boolean {
  if (p.peekKind(i + 1) !== T.LPAREN) return false;
  const a = p.peekKind(i + 2);
  if (a !== T.IDENT && a !== T.QIDENT) return true;
  let j = i + 3;
  while (p.peekKind(j) === T.DOT && (p.peekKind(j + 1) === T.IDENT || p.peekKind(j + 1) === T.QIDENT)) j += 2;
  return !(p.peekKind(j) === T.RPAREN && p.peekKind(j + 1) !== T.COMMA);
}

function parsePredicate(p: Parser): Expr {
  const expr = parseBitExpr(p, 1);
  let not = false;
  let w = p.kwd();
  if (w === K.NOT) {
    const n = p.peekKw(1);
    if (n !== K.IN && n !== K.BETWEEN && n !== K.LIKE && n !== K.REGEXP && n !== K.RLIKE) return expr;
    not = true;
    p.pos++;
    w = n;
  }
  switch (w) {
    case K.IN: {
      p.pos++;
      if (p.k() === T.LISTBINDVAR) {
        const t = p.text();
        p.pos++;
        return { kind: 'In', expr, not, right: { kind: 'BindVar', name: t.slice(2), list: true } };
      }
      p.expect(T.LPAREN);
      if (isQueryStart(p, 0)) {
        const subquery = (): Expr => {
          const query = parseQuery(p);
          p.expect(T.RPAREN);
          return { kind: 'In', expr, not, right: { kind: 'Subquery', query } };
        };
        // `IN ((SELECT 1), (SELECT 2))` is a list whose items are subqueries.
        const r = p.k() === T.LPAREN ? attempt(p, subquery) : subquery();
        if (r !== null) return r;
      }
      const items = parseExprList(p);
      p.expect(T.RPAREN);
      return { kind: 'In', expr, not, right: { kind: 'Tuple', items, row: false } };
    }
    case K.BETWEEN: {
      p.pos++;
      const low = parseBitExpr(p, 1);
      p.expectKw(K.AND);
      const high = parsePredicate(p);
      return { kind: 'Between', expr, not, low, high };
    }
    case K.LIKE: {
      p.pos++;
      const pattern = parseBitExpr(p, 1);
      const escape = p.eatKw(K.ESCAPE) ? parseBitExpr(p, 1) : null;
      return { kind: 'Like', op: 'LIKE', expr, not, pattern, escape };
    }
    case K.REGEXP:
    case K.RLIKE:
      p.pos++;
      return { kind: 'Like', op: 'REGEXP', expr, not, pattern: parseBitExpr(p, 1), escape: null };
    case K.SOUNDS:
      p.pos++;
      p.expectKw(K.LIKE);
      return { kind: 'Like', op: 'SOUNDS LIKE', expr, not: false, pattern: parseBitExpr(p, 1), escape: null };
    case K.MEMBER:
      p.pos++;
      p.expectKw(K.OF);
      p.expect(T.LPAREN);
      {
        const json = parseExpr(p);
        p.expect(T.RPAREN);
        return { kind: 'MemberOf', expr, json };
      }
    default:
      return expr;
  }
}

/** Binding power of the bit-expression operator at the cursor, 0 if none. */
function bitOp(p: Parser): number {
  switch (p.k()) {
    case T.PIPE:
      return 1;
    case T.AMP:
      return 2;
    case T.SHL:
    case T.SHR:
      return 3;
    case T.PLUS:
    case T.MINUS:
      return 4;
    case T.STAR:
    case T.SLASH:
    case T.PERCENT:
      return 5;
    case T.CARET:
      return 6;
    case T.IDENT: {
      const w = p.kwd();
      return w === K.DIV || w === K.MOD ? 5 : 0;
    }
    default:
      return 0;
  }
}

const BIT_OPS: Record<number, BinaryOp> = {
  [T.PIPE]: '|', [T.AMP]: '&', [T.SHL]: '<<', [T.SHR]: '>>', [T.PLUS]: '+', [T.MINUS]: '-', [T.STAR]: '*',
  [T.SLASH]: '/', [T.PERCENT]: '%', [T.CARET]: '^',
};

export function parseBitExpr(p: Parser, minPrec: number): Expr {
  let left = parseUnary(p);
  for (;;) {
    const prec = bitOp(p);
    if (prec === 0 || prec < minPrec) return left;
    const k = p.k();
    const op: BinaryOp = k === T.IDENT ? (p.kwd() === K.DIV ? 'DIV' : '%') : BIT_OPS[k]!;
    p.pos++;
    const right = parseBitExpr(p, prec + 1);
    left = { kind: 'Binary', op, left, right };
  }
}

export function parseUnary(p: Parser): Expr {
  const k = p.k();
  if (k === T.MINUS || k === T.PLUS || k === T.TILDE || k === T.BANG || (k === T.IDENT && p.kwd() === K.BINARY)) {
    p.pos++;
    p.enter();
    const expr = parseUnary(p);
    p.leave();
    if (k === T.MINUS) {
      if (expr.kind === 'Number' && expr.text.charCodeAt(0) !== 45) {
        return { kind: 'Number', text: '-' + expr.text, numType: expr.numType };
      }
      return { kind: 'Unary', op: '-', expr };
    }
    const op = k === T.PLUS ? '+' : k === T.TILDE ? '~' : k === T.BANG ? '!' : 'BINARY';
    return { kind: 'Unary', op, expr };
  }
  let e = parsePrimary(p);
  for (;;) {
    const pk = p.k();
    if (pk === T.IDENT && p.kwd() === K.COLLATE) {
      p.pos++;
      e = { kind: 'Collate', expr: e, collation: p.charsetName() };
    } else if (pk === T.ARROW || pk === T.ARROW2) {
      p.pos++;
      const path = parsePrimary(p);
      e = { kind: 'Binary', op: pk === T.ARROW ? '->' : '->>', left: e, right: path };
    } else return e;
  }
}

const CHARSETS = new Set([
  'utf8mb4', 'utf8mb3', 'utf8', 'latin1', 'latin2', 'latin5', 'latin7', 'binary', 'ascii', 'ucs2', 'utf16',
  'utf16le', 'utf32', 'big5', 'gbk', 'gb2312', 'gb18030', 'sjis', 'cp932', 'cp1250', 'cp1251', 'cp1256',
  'cp1257', 'cp850', 'cp852', 'cp866', 'koi8r', 'koi8u', 'euckr', 'ujis', 'eucjpms', 'tis620', 'hebrew',
  'greek', 'armscii8', 'dec8', 'geostd8', 'hp8', 'keybcs2', 'macce', 'macroman', 'swe7', 'filename',
]);

/** Functions written without parentheses in standard SQL. */
const BARE_FUNCS = new Set([
  K.CURRENT_TIMESTAMP, K.CURRENT_DATE, K.CURRENT_TIME, K.LOCALTIME, K.LOCALTIMESTAMP, K.UTC_DATE, K.UTC_TIME,
  K.UTC_TIMESTAMP, K.CURRENT_USER, K.CURRENT_ROLE,
]);

export const INTERVAL_UNITS = new Set([
  'MICROSECOND', 'SECOND', 'MINUTE', 'HOUR', 'DAY', 'WEEK', 'MONTH', 'QUARTER', 'YEAR', 'SECOND_MICROSECOND',
  'MINUTE_MICROSECOND', 'MINUTE_SECOND', 'HOUR_MICROSECOND', 'HOUR_SECOND', 'HOUR_MINUTE', 'DAY_MICROSECOND',
  'DAY_SECOND', 'DAY_MINUTE', 'DAY_HOUR', 'YEAR_MONTH',
]);

function intervalUnit(p: Parser): string {
  if (p.k() !== T.IDENT) p.fail();
  const u = p.upperText();
  if (!INTERVAL_UNITS.has(u)) p.fail();
  p.pos++;
  return u;
}

function parsePrimary(p: Parser): Expr {
  const k = p.k();
  switch (k) {
    case T.STRING:
    case T.DSTRING: {
      let value = p.stringToken();
      while (p.isString()) value += p.stringToken();
      return { kind: 'String', value, charset: null, national: false };
    }
    case T.NSTRING: {
      let value = unquoteString(p.sql, p.start[p.pos]! + 1, p.end[p.pos++]!);
      while (p.isString()) value += p.stringToken();
      return { kind: 'String', value, charset: null, national: true };
    }
    case T.INT:
    case T.DECIMAL:
    case T.FLOAT: {
      const text = p.text();
      p.pos++;
      return { kind: 'Number', text, numType: k === T.INT ? 'int' : k === T.DECIMAL ? 'decimal' : 'float' };
    }
    case T.HEXNUM:
    case T.HEXSTR:
    case T.BITNUM:
    case T.BITSTR:
      return radixLiteral(p, null);
    case T.PARAM:
      p.pos++;
      return { kind: 'Param', index: p.paramCount++ };
    case T.BINDVAR:
      return { kind: 'BindVar', name: p.sql.slice(p.start[p.pos]! + 1, p.end[p.pos++]), list: false };
    case T.USERVAR:
      return { kind: 'UserVar', name: userVarName(p.sql, p.start[p.pos]! + 1, p.end[p.pos++]!) };
    case T.SYSVAR:
      return sysVar(p);
    case T.LPAREN: {
      if (isQueryStart(p, 1)) {
        const subquery = (): Expr => {
          p.pos++;
          const query = parseQuery(p);
          p.expect(T.RPAREN);
          return { kind: 'Subquery', query };
        };
        // `((SELECT a FROM t) + 1)`: the inner parentheses are the subquery, the outer an expression's.
        const r = p.peekKind(1) === T.LPAREN ? attempt(p, subquery) : subquery();
        if (r !== null) return r;
      }
      p.pos++;
      const first = parseExpr(p);
      if (p.eat(T.COMMA)) {
        const items = [first, ...parseExprList(p)];
        p.expect(T.RPAREN);
        return { kind: 'Tuple', items, row: false };
      }
      p.expect(T.RPAREN);
      return first;
    }
    case T.QIDENT:
      return parseNameExpr(p);
    case T.IDENT:
      return parseWordExpr(p);
    default:
      return p.fail();
  }
}

function radixLiteral(p: Parser, charset: string | null): Expr {
  const k = p.k();
  const t = p.text();
  p.pos++;
  switch (k) {
    case T.HEXNUM:
      return { kind: 'Hex', digits: t.slice(2), form: '0x', charset };
    case T.HEXSTR:
      if ((t.length - 3) % 2 !== 0 || !/^[xX]'[0-9a-fA-F]*'$/.test(t)) p.fail(p.pos - 1);
      return { kind: 'Hex', digits: t.slice(2, -1), form: 'x', charset };
    case T.BITNUM:
      return { kind: 'Bit', digits: t.slice(2), form: '0b', charset };
    default:
      if (!/^[bB]'[01]*'$/.test(t)) p.fail(p.pos - 1);
      return { kind: 'Bit', digits: t.slice(2, -1), form: 'b', charset };
  }
}

export function userVarName(sql: string, start: number, end: number): string {
  const c = sql.charCodeAt(start);
  if (c === 96) return unquoteIdent(sql, start, end);
  if (c === 39 || c === 34) return unquoteString(sql, start, end);
  return sql.slice(start, end);
}

function sysVar(p: Parser): Expr {
  const t = p.text();
  p.pos++;
  let name = t.slice(2);
  let scope: 'GLOBAL' | 'SESSION' | 'LOCAL' | null = null;
  const dot = name.indexOf('.');
  if (dot > 0) {
    const s = name.slice(0, dot).toUpperCase();
    if (s === 'GLOBAL' || s === 'SESSION' || s === 'LOCAL') {
      scope = s;
      name = name.slice(dot + 1);
    }
  }
  if (name.charCodeAt(0) === 96) name = unquoteIdent(name, 0, name.length);
  if (name === '') p.fail(p.pos - 1);
  return { kind: 'SysVar', scope, name };
}

/** A (possibly qualified) column, star or function call starting with a quoted name. */
function parseNameExpr(p: Parser): Expr {
  const first = p.identAny();
  return parseQualified(p, first);
}

function parseQualified(p: Parser, first: string): Expr {
  if (p.k() === T.LPAREN) return parseFuncArgs(p, null, first);
  if (p.k() !== T.DOT) return { kind: 'Column', table: null, name: first };
  p.pos++;
  if (p.eat(T.STAR)) return { kind: 'Star', table: { kind: 'TableName', schema: null, name: first } };
  const second = p.identAny();
  if (p.k() === T.LPAREN) return parseFuncArgs(p, first, second);
  if (p.k() !== T.DOT) return { kind: 'Column', table: { kind: 'TableName', schema: null, name: first }, name: second };
  p.pos++;
  const table: TableName = { kind: 'TableName', schema: first, name: second };
  if (p.eat(T.STAR)) return { kind: 'Star', table };
  return { kind: 'Column', table, name: p.identAny() };
}

function parseWordExpr(p: Parser): Expr {
  const w = p.kwd();
  const next = p.peekKind(1);
  switch (w) {
    case 0:
      break;
    case K.NULL:
      p.pos++;
      return { kind: 'Null' };
    case K.TRUE:
    case K.FALSE:
      p.pos++;
      return { kind: 'Bool', value: w === K.TRUE };
    case K.DATE:
    case K.TIME:
    case K.TIMESTAMP:
      if (next === T.STRING || next === T.DSTRING) {
        p.pos++;
        return { kind: 'TypedLiteral', type: w === K.DATE ? 'DATE' : w === K.TIME ? 'TIME' : 'TIMESTAMP', value: p.stringToken() };
      }
      break;
    case K.CASE:
      return parseCase(p);
    case K.EXISTS: {
      p.pos++;
      p.expect(T.LPAREN);
      const query = parseQuery(p);
      p.expect(T.RPAREN);
      return { kind: 'Exists', query };
    }
    case K.INTERVAL:
      return parseInterval(p);
    case K.CAST:
      if (next !== T.LPAREN) break;
      {
        p.pos += 2;
        const expr = parseExpr(p);
        p.expectKw(K.AS);
        const type = parseDataType(p);
        p.expect(T.RPAREN);
        return { kind: 'Cast', expr, type, convert: false };
      }
    case K.CONVERT: {
      if (next !== T.LPAREN) p.fail();
      p.pos += 2;
      const expr = parseExpr(p);
      if (p.eatKw(K.USING)) {
        const charset = p.identOrString();
        p.expect(T.RPAREN);
        return { kind: 'ConvertUsing', expr, charset };
      }
      p.expect(T.COMMA);
      const type = parseDataType(p);
      p.expect(T.RPAREN);
      return { kind: 'Cast', expr, type, convert: true };
    }
    case K.MATCH:
      return parseMatch(p);
    case K.TRIM:
      if (next === T.LPAREN) return parseTrim(p);
      break;
    case K.EXTRACT:
      if (next !== T.LPAREN) break;
      {
        p.pos += 2;
        const unit = intervalUnit(p);
        p.expectKw(K.FROM);
        const expr = parseExpr(p);
        p.expect(T.RPAREN);
        return { kind: 'Extract', unit, expr };
      }
    case K.POSITION: {
      if (next !== T.LPAREN) break;
      p.pos += 2;
      const needle = parseBitExpr(p, 1);
      p.expectKw(K.IN);
      const hay = parseExpr(p);
      p.expect(T.RPAREN);
      return { kind: 'Func', schema: null, name: 'LOCATE', args: [needle, hay], distinct: false, bare: false, over: null };
    }
    case K.DEFAULT:
      p.pos++;
      if (p.eat(T.LPAREN)) {
        const column = p.ident();
        p.expect(T.RPAREN);
        return { kind: 'Default', column };
      }
      return { kind: 'Default', column: null };
    case K.VALUES:
      if (next !== T.LPAREN) p.fail();
      {
        p.pos += 2;
        const c = parseExpr(p);
        if (c.kind !== 'Column') p.fail(p.pos - 1);
        p.expect(T.RPAREN);
        return { kind: 'ValuesFunc', column: c };
      }
    case K.ROW:
      if (next !== T.LPAREN) break;
      {
        p.pos += 2;
        const items = parseExprList(p);
        p.expect(T.RPAREN);
        return { kind: 'Tuple', items, row: true };
      }
    case K.GROUP_CONCAT:
      if (next === T.LPAREN) return parseGroupConcat(p);
      break;
    case K.NEXT:
      // NEXT VALUE FOR seq is NEXTVAL(seq).
      if (p.peekKw(1) === K.VALUE && p.peekKw(2) === K.FOR) return sequenceValue(p, 'NEXTVAL');
      break;
    default:
      if (BARE_FUNCS.has(w)) {
        const name = p.text();
        if (next === T.LPAREN) return parseFuncArgs(p, null, (p.pos++, name));
        p.pos++;
        return { kind: 'Func', schema: null, name, args: [], distinct: false, bare: true, over: null };
      }
      if (RESERVED[w] === 1) {
        // Reserved words that are also function names: IF(), LEFT(), REPLACE(), MOD(), CHAR(), …
        if (next !== T.LPAREN) p.fail();
        const name = p.text();
        p.pos++;
        return parseFuncArgs(p, null, name);
      }
  }
  // PREVIOUS VALUE FOR seq is LASTVAL(seq).
  if (w === 0 && p.isWord('PREVIOUS') && p.peekKw(1) === K.VALUE && p.peekKw(2) === K.FOR) return sequenceValue(p, 'LASTVAL');
  // Character set introducer: _utf8mb4'x', _binary 0x41.
  if (p.sql.charCodeAt(p.start[p.pos]!) === 95 && next >= T.STRING && next <= T.BITSTR && next !== T.NSTRING) {
    const cs = p.text().slice(1);
    if (CHARSETS.has(cs.toLowerCase())) {
      p.pos++;
      if (next === T.STRING || next === T.DSTRING) {
        let value = p.stringToken();
        while (p.isString()) value += p.stringToken();
        return { kind: 'String', value, charset: cs, national: false };
      }
      if (next >= T.HEXNUM) return radixLiteral(p, cs);
      p.fail();
    }
  }
  const name = p.text();
  p.pos++;
  return parseQualified(p, name);
}

function parseCase(p: Parser): Expr {
  p.pos++;
  const operand = p.isKw(K.WHEN) ? null : parseExpr(p);
  const whens: { when: Expr; then: Expr }[] = [];
  while (p.eatKw(K.WHEN)) {
    const when = parseExpr(p);
    p.expectKw(K.THEN);
    whens.push({ when, then: parseExpr(p) });
  }
  if (whens.length === 0) p.fail();
  const elseExpr = p.eatKw(K.ELSE) ? parseExpr(p) : null;
  p.expectKw(K.END);
  return { kind: 'Case', operand, whens, else: elseExpr };
}

function parseInterval(p: Parser): Expr {
  p.pos++;
  // INTERVAL (SELECT …) unit: a subquery's parentheses, not the function's.
  if (p.k() === T.LPAREN && !isQueryStart(p, 1)) {
    // INTERVAL(n, a, b, …) is a function; INTERVAL (expr) unit is an interval.
    p.pos++;
    const args = parseExprList(p);
    p.expect(T.RPAREN);
    if (args.length === 1 && p.k() === T.IDENT && INTERVAL_UNITS.has(p.upperText())) {
      return { kind: 'Interval', expr: args[0]!, unit: intervalUnit(p) };
    }
    return { kind: 'Func', schema: null, name: 'INTERVAL', args, distinct: false, bare: false, over: null };
  }
  const expr = parseExpr(p);
  return { kind: 'Interval', expr, unit: intervalUnit(p) };
}

function parseMatch(p: Parser): Expr {
  p.pos++;
  const parens = p.eat(T.LPAREN);
  const columns: Column[] = [];
  do {
    const c = parsePrimary(p);
    if (c.kind !== 'Column') p.fail(p.pos - 1);
    columns.push(c);
  } while (p.eat(T.COMMA));
  if (parens) p.expect(T.RPAREN);
  p.expectKw(K.AGAINST);
  p.expect(T.LPAREN);
  const against = parseBitExpr(p, 1);
  let modifier: 'IN NATURAL LANGUAGE MODE' | 'IN NATURAL LANGUAGE MODE WITH QUERY EXPANSION' | 'IN BOOLEAN MODE' | 'WITH QUERY EXPANSION' | null = null;
  if (p.eatKw(K.IN)) {
    if (p.eatKw(K.BOOLEAN)) {
      p.expectKw(K.MODE);
      modifier = 'IN BOOLEAN MODE';
    } else {
      p.expectKw(K.NATURAL);
      p.expectKw(K.LANGUAGE);
      p.expectKw(K.MODE);
      modifier = 'IN NATURAL LANGUAGE MODE';
      if (p.eatKw(K.WITH)) {
        p.expectKw(K.QUERY);
        p.expectKw(K.EXPANSION);
        modifier = 'IN NATURAL LANGUAGE MODE WITH QUERY EXPANSION';
      }
    }
  } else if (p.eatKw(K.WITH)) {
    p.expectKw(K.QUERY);
    p.expectKw(K.EXPANSION);
    modifier = 'WITH QUERY EXPANSION';
  }
  p.expect(T.RPAREN);
  return { kind: 'Match', columns, against, modifier };
}

function parseTrim(p: Parser): Expr {
  p.pos += 2;
  const w = p.kwd();
  const side = w === K.BOTH ? 'BOTH' : w === K.LEADING ? 'LEADING' : w === K.TRAILING ? 'TRAILING' : null;
  if (side) p.pos++;
  let remove: Expr | null = null;
  let expr: Expr;
  if (side && p.eatKw(K.FROM)) {
    expr = parseExpr(p);
  } else {
    const first = parseExpr(p);
    if (p.eatKw(K.FROM)) {
      remove = first;
      expr = parseExpr(p);
    } else {
      if (side) p.fail();
      expr = first;
    }
  }
  p.expect(T.RPAREN);
  return { kind: 'Trim', side, remove, expr };
}

function parseGroupConcat(p: Parser): Expr {
  p.pos += 2;
  const distinct = p.eatKw(K.DISTINCT);
  const args = parseExprList(p);
  const orderBy: OrderItem[] = p.isKw(K.ORDER) ? parseOrderBy(p) : [];
  let separator: string | null = null;
  if (p.eatKw(K.SEPARATOR)) separator = p.stringToken();
  const limit: Limit | null = p.isKw(K.LIMIT) ? parseLimit(p) : null;
  p.expect(T.RPAREN);
  return { kind: 'GroupConcat', distinct, args, orderBy, separator, limit };
}

/** Arguments of `name(` … `)` (the cursor is on the parenthesis), then an optional OVER clause. */
function parseFuncArgs(p: Parser, schema: string | null, name: string): FuncCall {
  p.expect(T.LPAREN);
  const extra: { -readonly [K in 'argTypes' | 'argAliases' | 'using' | 'level' | 'withinGroup']?: FuncCall[K] } = {};
  let distinct = false;
  let args: Expr[] = [];
  if (p.k() !== T.RPAREN) {
    if (p.eatKw(K.DISTINCT)) distinct = true;
    else p.eatKw(K.ALL);
    if (p.k() === T.STAR && p.peekKind(1) === T.RPAREN) {
      p.pos++;
      args = [{ kind: 'Star', table: null }];
    } else {
      const up = name.toUpperCase();
      if (TYPED_ARG_FUNCS.has(up)) {
        args = [];
        const types: (DataType | null)[] = [];
        do {
          args.push(parseExpr(p));
          types.push(p.eatKw(K.AS) ? parseDataType(p) : null);
        } while (p.eat(T.COMMA));
        if (types.some((t) => t !== null)) extra.argTypes = types;
      } else if (schema === null && !distinct && !NO_ARG_ALIAS_FUNCS.has(up)) {
        // A generic call takes `expr [AS] alias` arguments (MariaDB's udf_expr: user-defined
        // functions such as CONNECT's Json_Make_Object name their values so).
        args = [];
        const aliases: (string | null)[] = [];
        do {
          args.push(parseExpr(p));
          if (p.eatKw(K.AS)) aliases.push(p.identOrString());
          else if (p.isIdent() || p.isString()) aliases.push(p.identOrString());
          else aliases.push(null);
        } while (p.eat(T.COMMA));
        if (aliases.some((a) => a !== null)) extra.argAliases = aliases;
      } else args = parseExprList(p);
      if ((up === 'SUBSTRING' || up === 'SUBSTR' || up === 'MID') && args.length === 1 && p.eatKw(K.FROM)) {
        args.push(parseExpr(p));
        if (p.eatKw(K.FOR)) args.push(parseExpr(p));
      } else if (up === 'CHAR' && p.eatKw(K.USING)) extra.using = p.charsetName();
      else if (up === 'WEIGHT_STRING' && p.isWord('LEVEL')) {
        p.pos++;
        const words: string[] = [];
        while (p.k() !== T.RPAREN && !p.atEnd()) {
          if (p.k() === T.COMMA) words.push(',');
          else if (p.k() === T.MINUS) words.push('-');
          else if (p.k() === T.INT || p.k() === T.IDENT) words.push(p.upperText());
          else p.fail();
          p.pos++;
        }
        if (words.length === 0) p.fail();
        extra.level = words.join(' ');
      }
    }
  }
  p.expect(T.RPAREN);
  if (p.isWord('WITHIN') && p.peekKw(1) === K.GROUP && p.peekKind(2) === T.LPAREN) {
    p.pos += 3;
    extra.withinGroup = parseOrderBy(p);
    p.expect(T.RPAREN);
  }
  let over: WindowSpec | string | null = null;
  if (p.kwd() === K.OVER) {
    p.pos++;
    over = p.k() === T.LPAREN ? parseWindowSpec(p) : p.ident();
  }
  return { kind: 'Func', schema, name, args, distinct, bare: false, over, ...extra };
}

/** `NEXT VALUE FOR seq` / `PREVIOUS VALUE FOR seq`: the function call MariaDB reads them as. */
function sequenceValue(p: Parser, name: 'NEXTVAL' | 'LASTVAL'): FuncCall {
  p.pos += 3;
  const first = p.ident();
  const seq: Expr = p.eat(T.DOT) ? { kind: 'Column', table: { kind: 'TableName', schema: null, name: first }, name: p.identAny() } : { kind: 'Column', table: null, name: first };
  return { kind: 'Func', schema: null, name, args: [seq], distinct: false, bare: false, over: null };
}

/** Functions whose arguments may carry `AS type` (MariaDB's dynamic columns, WEIGHT_STRING). */
const TYPED_ARG_FUNCS: ReadonlySet<string> = new Set(['WEIGHT_STRING', 'COLUMN_GET', 'COLUMN_CREATE', 'COLUMN_ADD']);
/** Functions with their own rule in MariaDB's grammar (aggregates and the like): no argument aliases. */
const NO_ARG_ALIAS_FUNCS: ReadonlySet<string> = new Set([
  'COUNT', 'SUM', 'AVG', 'MIN', 'MAX', 'STD', 'STDDEV', 'STDDEV_POP', 'STDDEV_SAMP', 'VARIANCE', 'VAR_POP', 'VAR_SAMP',
  'BIT_AND', 'BIT_OR', 'BIT_XOR', 'JSON_ARRAYAGG', 'JSON_OBJECTAGG', 'SUBSTRING', 'SUBSTR', 'MID', 'CHAR', 'WEIGHT_STRING',
  'ROW_NUMBER', 'RANK', 'DENSE_RANK', 'NTILE', 'LEAD', 'LAG', 'FIRST_VALUE', 'LAST_VALUE', 'NTH_VALUE', 'CUME_DIST',
  'PERCENT_RANK', 'PERCENTILE_CONT', 'PERCENTILE_DISC', 'MEDIAN', 'IF', 'REPLACE', 'INSERT', 'LEFT', 'RIGHT', 'MOD',
]);

/** `( [base] [PARTITION BY …] [ORDER BY …] [frame] )` */
export function parseWindowSpec(p: Parser): WindowSpec {
  p.expect(T.LPAREN);
  let base: string | null = null;
  if (p.isIdent() && p.kwd() !== K.PARTITION && p.kwd() !== K.ORDER && p.kwd() !== K.ROWS && p.kwd() !== K.RANGE) {
    base = p.ident();
  }
  let partitionBy: Expr[] = [];
  if (p.eatKw(K.PARTITION)) {
    p.expectKw(K.BY);
    partitionBy = parseExprList(p);
  }
  const orderBy = p.isKw(K.ORDER) ? parseOrderBy(p) : [];
  let frame: WindowFrame | null = null;
  const u = p.kwd();
  if (u === K.ROWS || u === K.RANGE) {
    p.pos++;
    const unit = u === K.ROWS ? 'ROWS' : 'RANGE';
    if (p.eatKw(K.BETWEEN)) {
      const start = parseFrameBound(p);
      p.expectKw(K.AND);
      frame = { unit, start, end: parseFrameBound(p) };
    } else frame = { unit, start: parseFrameBound(p), end: null };
  }
  p.expect(T.RPAREN);
  return { kind: 'WindowSpec', base, partitionBy, orderBy, frame };
}

function parseFrameBound(p: Parser): FrameBound {
  if (p.eatKw(K.UNBOUNDED)) {
    if (p.eatKw(K.PRECEDING)) return { type: 'UNBOUNDED PRECEDING', offset: null };
    p.expectKw(K.FOLLOWING);
    return { type: 'UNBOUNDED FOLLOWING', offset: null };
  }
  if (p.eatKw(K.CURRENT)) {
    p.expectKw(K.ROW);
    return { type: 'CURRENT ROW', offset: null };
  }
  const offset = parseBitExpr(p, 1);
  if (p.eatKw(K.PRECEDING)) return { type: 'PRECEDING', offset };
  p.expectKw(K.FOLLOWING);
  return { type: 'FOLLOWING', offset };
}

const TWO_WORD_TYPES: Record<string, string> = { DOUBLE: 'PRECISION', LONG: 'VARCHAR' };

/** A data type (CAST target or column type): name, (args), ENUM values, attributes. */
export function parseDataType(p: Parser): DataType {
  if (p.k() !== T.IDENT) p.fail();
  let name = p.upperText();
  p.pos++;
  const second = TWO_WORD_TYPES[name];
  if (second !== undefined && p.isWord(second)) {
    name += ' ' + second;
    p.pos++;
  } else if (name === 'NATIONAL' || (name === 'CHARACTER' && p.isWord('VARYING'))) {
    name += ' ' + p.upperText();
    p.pos++;
  } else if ((name === 'SIGNED' || name === 'UNSIGNED') && (p.kwd() === K.INTEGER || p.kwd() === K.INT)) {
    p.pos++;
  }
  const args: string[] = [];
  const values: string[] = [];
  if (p.eat(T.LPAREN)) {
    if (name === 'ENUM' || name === 'SET') {
      do values.push(p.stringToken());
      while (p.eat(T.COMMA));
    } else {
      do {
        const t = p.k();
        if (t !== T.INT && !(t === T.IDENT && p.isWord('MAX'))) p.fail();
        args.push(p.text());
        p.pos++;
      } while (p.eat(T.COMMA));
    }
    p.expect(T.RPAREN);
  }
  let unsigned = false;
  let zerofill = false;
  let charset: string | null = null;
  let collate: string | null = null;
  const extra: { binary?: true; compressed?: string; shorthand?: 'ASCII' | 'UNICODE'; collateDefault?: true } = {};
  for (;;) {
    const w = p.kwd();
    if (extra.shorthand === undefined && charset === null && (p.isWord('ASCII') || p.isWord('UNICODE'))) {
      extra.shorthand = p.upperText() as 'ASCII' | 'UNICODE';
      p.pos++;
      continue;
    }
    if (w === K.COLLATE && p.peekKw(1) === K.DEFAULT && collate === null && extra.collateDefault === undefined) {
      // COLLATE DEFAULT: the character set's default collation.
      p.pos += 2;
      extra.collateDefault = true;
      continue;
    }
    if (w === K.COMPRESSED && extra.compressed === undefined) {
      p.pos++;
      extra.compressed = p.eat(T.EQ) ? p.identAny() : '';
      continue;
    }
    if (w === K.BINARY && extra.binary === undefined && p.peekKind(1) !== T.LPAREN) extra.binary = true;
    else if (w === K.UNSIGNED) unsigned = true;
    else if (w === K.SIGNED) unsigned = false;
    else if (w === K.ZEROFILL) zerofill = true;
    else if (w === K.CHARSET || (w === K.CHARACTER && p.peekKw(1) === K.SET)) {
      p.pos += w === K.CHARSET ? 1 : 2;
      charset = p.kwd() === K.BINARY ? (p.pos++, 'binary') : p.identOrString();
      continue;
    } else if (w === K.COLLATE) {
      p.pos++;
      collate = p.charsetName();
      continue;
    } else break;
    p.pos++;
  }
  // Optional fields in one order, whatever order they were written in (trees compare equal).
  return {
    kind: 'DataType', name, args, values, unsigned, zerofill, charset, collate,
    ...(extra.binary ? { binary: true } : {}), ...(extra.compressed !== undefined ? { compressed: extra.compressed } : {}),
    ...(extra.shorthand ? { shorthand: extra.shorthand } : {}), ...(extra.collateDefault ? { collateDefault: true } : {}),
  };
}
