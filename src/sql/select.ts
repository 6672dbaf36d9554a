// SELECT, set operations (UNION / INTERSECT / EXCEPT), WITH, table references, ORDER BY, LIMIT.

import type {
  CommonTableExpr, Expr, IndexHint, Into, JsonTable, JsonTableColumn, JsonTableResponse, Limit, Lock, NamedWindow, NextVal, OrderItem, QueryExpr, Select,
  SelectItem, SelectOption, SetOp, Statement, SystemTime, SystemTimeBound, TableExpr, UserVar, With,
} from './ast.js';
import { NO_LIMIT } from './ast.js';
import { K } from './keywords.js';
import { T } from './lexer.js';
import type { Mutable, Parser } from './parser.js';
import { attempt, isQueryStart, parseBitExpr, parseDataType, parseExpr, parseExprList, parseWindowSpec, userVarName } from './expr.js';
import { parseDelete, parseUpdate } from './dml.js';

/** A statement starting with SELECT or `(`: a query, or Vitess's SELECT NEXT … VALUES. */
export function parseQueryStatement(p: Parser): Statement {
  if (p.isKw(K.SELECT) && p.peekKw(1) === K.NEXT && !(p.peekKw(2) === K.VALUE && p.peekKw(3) === K.FOR)) {
    const n = p.peekKind(2);
    const w2 = p.peekKw(2);
    if (w2 === K.VALUE || ((n === T.INT || n === T.PARAM || n === T.BINDVAR) && p.peekKw(3) === K.VALUES)) {
      return parseNextVal(p);
    }
  }
  return parseQuery(p);
}

/** WITH … followed by SELECT, UPDATE or DELETE. */
export function parseWithStatement(p: Parser): Statement {
  const start = p.start[p.pos]!;
  const save = p.pos;
  const params = p.paramCount;
  const w = parseWith(p);
  if (p.isKw(K.UPDATE)) return parseUpdate(p, w, start);
  if (p.isKw(K.DELETE)) return parseDelete(p, w, start);
  // Parsed again as a query: its `?` markers are numbered again from the same place.
  p.pos = save;
  p.paramCount = params;
  return parseQuery(p);
}

function parseNextVal(p: Parser): NextVal {
  const start = p.start[p.pos]!;
  p.pos += 2;
  let count: Expr;
  if (p.eatKw(K.VALUE)) count = { kind: 'Number', text: '1', numType: 'int' };
  else {
    const k = p.k();
    const t = p.text();
    p.pos++;
    count =
      k === T.INT ? { kind: 'Number', text: t, numType: 'int' } : k === T.PARAM ? { kind: 'Param', index: p.paramCount++ } : { kind: 'BindVar', name: t.slice(1), list: false };
    p.expectKw(K.VALUES);
  }
  p.expectKw(K.FROM);
  const table = p.tableName();
  return { kind: 'NextVal', count, table, start, end: p.prevEnd() };
}

function parseWith(p: Parser): With {
  p.expectKw(K.WITH);
  const recursive = p.eatKw(K.RECURSIVE);
  const ctes: CommonTableExpr[] = [];
  do {
    const name = p.ident();
    const columns = p.k() === T.LPAREN ? p.identList() : null;
    p.expectKw(K.AS);
    p.expect(T.LPAREN);
    const query = parseQuery(p);
    p.expect(T.RPAREN);
    ctes.push({ name, columns, query });
  } while (p.eat(T.COMMA));
  return { recursive, ctes };
}

/** A full query expression: [WITH] set-operation chain [ORDER BY] [LIMIT] [locking] [INTO]. */
export function parseQuery(p: Parser): QueryExpr {
  p.enter();
  const start = p.start[p.pos]!;
  const w = p.isKw(K.WITH) ? parseWith(p) : null;
  const q = parseUnionChain(p) as Mutable<Select> | Mutable<SetOp>;
  const hasTail = p.isKw(K.ORDER) || p.isKw(K.LIMIT) || p.isKw(K.FOR) || p.isKw(K.LOCK) || p.isKw(K.INTO) || p.isKw(K.OFFSET) || p.isKw(K.FETCH);
  if (hasTail) {
    if (q.orderBy.length > 0 || q.limit !== null || q.lock !== null) p.fail();
    if (p.isKw(K.ORDER)) q.orderBy = parseOrderBy(p);
    if (p.isKw(K.LIMIT)) q.limit = parseQueryLimit(p);
    else if (p.isKw(K.OFFSET) || p.isKw(K.FETCH)) q.limit = parseFetch(p);
    parseProcedure(p, q);
    parseLockAndInto(p, q);
  } else if (p.isKw(K.PROCEDURE)) {
    parseProcedure(p, q);
    parseLockAndInto(p, q);
  }
  if (w !== null) {
    if (q.with !== null) p.fail();
    q.with = w;
  }
  if (w !== null || hasTail || (q.kind === 'Select' && q.procedure)) {
    q.start = start;
    q.end = p.prevEnd();
  }
  p.leave();
  return q;
}

/** `PROCEDURE ANALYSE(…)`, the one procedure MariaDB has for a SELECT's result. */
function parseProcedure(p: Parser, q: Mutable<Select> | Mutable<SetOp>): void {
  if (!p.isKw(K.PROCEDURE)) return;
  if (q.kind !== 'Select' || !p.isWord2(1, 'ANALYSE') || p.peekKind(2) !== T.LPAREN) p.fail();
  p.pos += 3;
  const args = p.k() === T.RPAREN ? [] : parseExprList(p);
  p.expect(T.RPAREN);
  q.procedure = { name: 'ANALYSE', args };
}

function parseLockAndInto(p: Parser, q: Mutable<Select> | Mutable<SetOp>): void {
  for (let round = 0; round < 2; round++) {
    if (p.isKw(K.INTO) && q.into === null) q.into = parseInto(p);
    else if (q.lock === null && (p.isKw(K.FOR) || p.isKw(K.LOCK))) q.lock = parseLock(p);
  }
}

function parseLock(p: Parser): Lock {
  let type: Lock['type'];
  if (p.eatKw(K.LOCK)) {
    p.expectKw(K.IN);
    p.expectKw(K.SHARE);
    p.expectKw(K.MODE);
    type = 'LOCK IN SHARE MODE';
  } else {
    p.expectKw(K.FOR);
    if (p.eatKw(K.UPDATE)) type = 'FOR UPDATE';
    else {
      p.expectKw(K.SHARE);
      type = 'FOR SHARE';
    }
  }
  let wait: Lock['wait'] = null;
  if (p.eatKw(K.NOWAIT)) wait = 'NOWAIT';
  else if (p.eatKw(K.SKIP)) {
    p.expectKw(K.LOCKED);
    wait = 'SKIP LOCKED';
  }
  return { type, wait };
}

function parseInto(p: Parser): Into {
  p.expectKw(K.INTO);
  if (p.eatKw(K.OUTFILE)) return { type: 'OUTFILE', vars: [], file: p.stringToken() };
  if (p.eatKw(K.DUMPFILE)) return { type: 'DUMPFILE', vars: [], file: p.stringToken() };
  const vars: UserVar[] = [];
  do {
    if (p.k() !== T.USERVAR) p.fail();
    vars.push({ kind: 'UserVar', name: userVarName(p.sql, p.start[p.pos]! + 1, p.end[p.pos++]!) });
  } while (p.eat(T.COMMA));
  return { type: 'VARIABLES', vars, file: null };
}

function parseUnionChain(p: Parser): QueryExpr {
  let left = parseIntersectChain(p);
  for (;;) {
    const w = p.kwd();
    if (w !== K.UNION && w !== K.EXCEPT) return left;
    p.pos++;
    const all = p.eatKw(K.ALL);
    if (!all) p.eatKw(K.DISTINCT);
    const right = parseIntersectChain(p);
    left = setOp(p, w === K.UNION ? 'UNION' : 'EXCEPT', all, left, right);
  }
}

function parseIntersectChain(p: Parser): QueryExpr {
  let left = parseQueryPrimary(p);
  while (p.isKw(K.INTERSECT)) {
    p.pos++;
    const all = p.eatKw(K.ALL);
    if (!all) p.eatKw(K.DISTINCT);
    left = setOp(p, 'INTERSECT', all, left, parseQueryPrimary(p));
  }
  return left;
}

function setOp(p: Parser, op: SetOp['op'], all: boolean, left: QueryExpr, right: QueryExpr): SetOp {
  // An unparenthesized operand cannot carry its own ORDER BY / LIMIT; parseQueryPrimary only
  // leaves them on parenthesized operands, which is what the formatter re-creates.
  return {
    kind: 'SetOp', with: null, op, all, left, right, orderBy: [], limit: null, lock: null, into: null,
    start: left.start, end: p.prevEnd(),
  };
}

function parseQueryPrimary(p: Parser): QueryExpr {
  if (p.isKw(K.VALUES)) return parseTableValues(p);
  if (p.k() === T.LPAREN) {
    p.pos++;
    const q = parseQuery(p);
    p.expect(T.RPAREN);
    return q;
  }
  return parseSelectCore(p);
}

/** `VALUES (row), (row), …` as a query: a Select with `tableValues`. */
function parseTableValues(p: Parser): Mutable<Select> {
  const start = p.start[p.pos]!;
  p.expectKw(K.VALUES);
  const rows: Expr[][] = [];
  do {
    p.expect(T.LPAREN);
    rows.push(parseExprList(p));
    p.expect(T.RPAREN);
  } while (p.eat(T.COMMA));
  return {
    kind: 'Select', with: null, hints: null, distinct: false, options: [], columns: [], from: [], where: null, groupBy: [], rollup: false,
    having: null, windows: [], orderBy: [], limit: null, lock: null, into: null, tableValues: rows, start, end: p.prevEnd(),
  };
}

const SELECT_OPTIONS: Record<number, SelectOption> = {
  [K.SQL_CALC_FOUND_ROWS]: 'SQL_CALC_FOUND_ROWS', [K.SQL_NO_CACHE]: 'SQL_NO_CACHE', [K.SQL_CACHE]: 'SQL_CACHE',
  [K.STRAIGHT_JOIN]: 'STRAIGHT_JOIN', [K.HIGH_PRIORITY]: 'HIGH_PRIORITY', [K.SQL_SMALL_RESULT]: 'SQL_SMALL_RESULT',
  [K.SQL_BIG_RESULT]: 'SQL_BIG_RESULT', [K.SQL_BUFFER_RESULT]: 'SQL_BUFFER_RESULT',
};

function parseSelectCore(p: Parser): Mutable<Select> {
  const start = p.start[p.pos]!;
  p.expectKw(K.SELECT);
  let hints: string | null = null;
  if (p.k() === T.HINT) {
    hints = p.text();
    p.pos++;
  }
  let distinct = false;
  let options: SelectOption[] = [];
  for (;;) {
    const w = p.kwd();
    if (w === K.DISTINCT || w === K.DISTINCTROW) distinct = true;
    else if (w === K.ALL) {
      // the default
    } else if (SELECT_OPTIONS[w] !== undefined) {
      if (options.length === 0) options = [];
      options.push(SELECT_OPTIONS[w]!);
    } else break;
    p.pos++;
  }
  const columns: SelectItem[] = [];
  do columns.push(parseSelectItem(p));
  while (p.eat(T.COMMA));
  let into: Into | null = null;
  if (p.isKw(K.INTO)) into = parseInto(p);
  let from: TableExpr[] = [];
  if (p.eatKw(K.FROM)) {
    if (p.eatKw(K.DUAL)) from = [];
    else from = parseTableRefs(p);
  }
  const where = p.eatKw(K.WHERE) ? parseExpr(p) : null;
  let groupBy: Expr[] = [];
  const extra: { groupByOrder?: ('ASC' | 'DESC' | null)[] } = {};
  let rollup = false;
  if (p.eatKw(K.GROUP)) {
    p.expectKw(K.BY);
    groupBy = [];
    const dirs: ('ASC' | 'DESC' | null)[] = [];
    do {
      groupBy.push(parseExpr(p));
      dirs.push(p.eatKw(K.ASC) ? 'ASC' : p.eatKw(K.DESC) ? 'DESC' : null);
    } while (p.eat(T.COMMA));
    if (dirs.some((d) => d !== null)) extra.groupByOrder = dirs;
    if (p.isKw(K.WITH) && p.peekKw(1) === K.ROLLUP) {
      p.pos += 2;
      rollup = true;
    }
  }
  const having = p.eatKw(K.HAVING) ? parseExpr(p) : null;
  let windows: NamedWindow[] = [];
  if (p.eatKw(K.WINDOW)) {
    windows = [];
    do {
      const name = p.ident();
      p.expectKw(K.AS);
      windows.push({ name, spec: parseWindowSpec(p) });
    } while (p.eat(T.COMMA));
  }
  return {
    kind: 'Select', with: null, hints, distinct, options, columns, from, where, groupBy, ...extra, rollup, having, windows,
    orderBy: [], limit: null, lock: null, into, start, end: p.prevEnd(),
  };
}

export function parseSelectItem(p: Parser): SelectItem {
  const start = p.start[p.pos]!;
  if (p.k() === T.STAR) {
    p.pos++;
    return { expr: { kind: 'Star', table: null }, alias: null, start, end: p.prevEnd() };
  }
  const expr = parseExpr(p);
  const end = p.prevEnd();
  let alias: string | null = null;
  if (p.eatKw(K.AS)) alias = p.identOrString();
  else if (p.isIdent() || p.isString()) alias = p.identOrString();
  return { expr, alias, start, end };
}

export function parseTableRefs(p: Parser): TableExpr[] {
  const out = [parseTableRef(p)];
  while (p.eat(T.COMMA)) out.push(parseTableRef(p));
  return out;
}

function parseTableRef(p: Parser): TableExpr {
  return parseJoins(p, parseTableFactor(p));
}

function joinAhead(p: Parser): boolean {
  const w = p.kwd();
  return w === K.JOIN || w === K.INNER || w === K.CROSS || w === K.STRAIGHT_JOIN || w === K.LEFT || w === K.RIGHT || w === K.NATURAL;
}

/** Joins after `left`, left to right. */
function parseJoins(p: Parser, left: TableExpr): TableExpr {
  for (;;) {
    const w = p.kwd();
    let type: 'JOIN' | 'STRAIGHT_JOIN' | 'LEFT' | 'RIGHT' | 'NATURAL' | 'NATURAL LEFT' | 'NATURAL RIGHT';
    if (w === K.JOIN) {
      p.pos++;
      type = 'JOIN';
    } else if (w === K.INNER || w === K.CROSS) {
      p.pos++;
      p.expectKw(K.JOIN);
      type = 'JOIN';
    } else if (w === K.STRAIGHT_JOIN) {
      p.pos++;
      type = 'STRAIGHT_JOIN';
    } else if (w === K.LEFT || w === K.RIGHT) {
      p.pos++;
      p.eatKw(K.OUTER);
      p.expectKw(K.JOIN);
      type = w === K.LEFT ? 'LEFT' : 'RIGHT';
    } else if (w === K.NATURAL) {
      p.pos++;
      type = 'NATURAL';
      if (p.eatKw(K.LEFT)) type = 'NATURAL LEFT';
      else if (p.eatKw(K.RIGHT)) type = 'NATURAL RIGHT';
      if (type !== 'NATURAL') p.eatKw(K.OUTER);
      p.expectKw(K.JOIN);
    } else return left;
    let right = parseTableFactor(p);
    if ((type === 'LEFT' || type === 'RIGHT') && joinAhead(p)) {
      // `t1 LEFT JOIN t2 JOIN t3 ON c1 ON c2`: the ON clauses nest, as MariaDB reads them —
      // t1 LEFT JOIN (t2 JOIN t3 ON c1) ON c2.
      p.enter();
      right = { kind: 'ParenTables', items: [parseJoins(p, right)] };
      p.leave();
    }
    let on: Expr | null = null;
    let using: string[] | null = null;
    if (type !== 'NATURAL' && type !== 'NATURAL LEFT' && type !== 'NATURAL RIGHT') {
      if (p.eatKw(K.ON)) on = parseExpr(p);
      else if (p.eatKw(K.USING)) using = p.identList();
      else if (type === 'LEFT' || type === 'RIGHT') p.fail();
    }
    left = { kind: 'Join', type, left, right, on, using };
  }
}

/** JSON_TABLE(doc, 'path' COLUMNS (…)) [AS] alias (the cursor is on JSON_TABLE). */
function parseJsonTable(p: Parser): JsonTable {
  p.pos += 2;
  const doc = parseExpr(p);
  p.expect(T.COMMA);
  const path = p.stringToken();
  const columns = parseJsonTableColumns(p);
  p.expect(T.RPAREN);
  let alias: string | null = null;
  if (p.eatKw(K.AS)) alias = p.identOrString();
  else if (p.isIdent() || p.isString()) alias = p.identOrString();
  return { kind: 'JsonTable', doc, path, columns, alias };
}

/** COLUMNS (name FOR ORDINALITY | name type [EXISTS] PATH 'p' [… ON EMPTY] [… ON ERROR] | NESTED [PATH] 'p' COLUMNS (…), …) */
function parseJsonTableColumns(p: Parser): JsonTableColumn[] {
  if (!p.isWord('COLUMNS')) p.fail();
  p.pos++;
  p.expect(T.LPAREN);
  const out: JsonTableColumn[] = [];
  do {
    if (p.isWord('NESTED') && (p.isString() || p.peekKind(1) === T.STRING || p.isWord2(1, 'PATH'))) {
      p.pos++;
      if (p.isWord('PATH')) p.pos++;
      const path = p.stringToken();
      out.push({ kind: 'Nested', path, columns: parseJsonTableColumns(p) });
      continue;
    }
    const name = p.ident();
    if (p.isKw(K.FOR) && p.isWord2(1, 'ORDINALITY')) {
      p.pos += 2;
      out.push({ kind: 'Ordinality', name });
      continue;
    }
    const type = parseDataType(p);
    const exists = p.eatKw(K.EXISTS);
    if (!p.isWord('PATH')) p.fail();
    p.pos++;
    const path = p.stringToken();
    let onEmpty: JsonTableResponse | null = null;
    let onError: JsonTableResponse | null = null;
    for (let i = 0; i < 2 && !exists; i++) {
      const save = p.pos;
      let r: JsonTableResponse;
      if (p.isWord('ERROR')) {
        p.pos++;
        r = { kind: 'ERROR' };
      } else if (p.eatKw(K.NULL)) r = { kind: 'NULL' };
      else if (p.eatKw(K.DEFAULT)) {
        // A literal, signed or not (MariaDB's json_default_literal).
        const value = parseBitExpr(p, 0);
        const lit = value.kind === 'Unary' ? value.expr : value;
        if (!['String', 'Number', 'Hex', 'Bit', 'Null', 'Bool', 'TypedLiteral'].includes(lit.kind)) p.fail(save + 1);
        r = { kind: 'DEFAULT', value };
      }
      else break;
      p.expectKw(K.ON);
      if (p.isWord('EMPTY') && onEmpty === null) onEmpty = r;
      else if (p.isWord('ERROR') && onError === null) onError = r;
      else p.fail(save);
      p.pos++;
    }
    out.push({ kind: 'Path', name, type, exists, path, onEmpty, onError });
  } while (p.eat(T.COMMA));
  p.expect(T.RPAREN);
  return out;
}

function parseTableFactor(p: Parser): TableExpr {
  if (p.isWord('JSON_TABLE') && p.peekKind(1) === T.LPAREN) return parseJsonTable(p);
  const lateral = p.isKw(K.LATERAL) && p.peekKind(1) === T.LPAREN;
  if (lateral) p.pos++;
  if (p.k() === T.LPAREN) {
    if (lateral || isQueryStart(p, 1)) {
      const derived = (): TableExpr => {
        p.pos++;
        const query = parseQuery(p);
        p.expect(T.RPAREN);
        p.eatKw(K.AS);
        const alias = p.identOrString();
        const columns = p.k() === T.LPAREN ? p.identList() : null;
        return { kind: 'DerivedTable', lateral, query, alias, columns };
      };
      // `((SELECT …) AS d JOIN t ON …)`: parentheses around a join whose first table is derived.
      const r = !lateral && p.peekKind(1) === T.LPAREN ? attempt(p, derived) : derived();
      if (r !== null) return r;
    }
    p.pos++;
    p.enter();
    const items = parseTableRefs(p);
    p.leave();
    p.expect(T.RPAREN);
    return { kind: 'ParenTables', items };
  }
  const table = p.tableName();
  let partitions: string[] = [];
  if (p.eatKw(K.PARTITION)) partitions = p.identList();
  const systemTime = p.isKw(K.FOR) && p.isWord2(1, 'SYSTEM_TIME') ? parseSystemTime(p) : null;
  let alias: string | null = null;
  if (p.eatKw(K.AS)) alias = p.identOrString();
  else if (p.isIdent() || p.isString()) alias = p.identOrString();
  let indexHints: IndexHint[] = [];
  for (;;) {
    const w = p.kwd();
    if (w !== K.USE && w !== K.IGNORE && w !== K.FORCE) break;
    const k1 = p.peekKw(1);
    if (k1 !== K.INDEX && k1 !== K.KEY) break;
    p.pos += 2;
    let forWhat: IndexHint['for'] = null;
    if (p.eatKw(K.FOR)) {
      if (p.eatKw(K.JOIN)) forWhat = 'JOIN';
      else if (p.eatKw(K.ORDER)) {
        p.expectKw(K.BY);
        forWhat = 'ORDER BY';
      } else {
        p.expectKw(K.GROUP);
        p.expectKw(K.BY);
        forWhat = 'GROUP BY';
      }
    }
    p.expect(T.LPAREN);
    const indexes: string[] = [];
    if (p.k() !== T.RPAREN) {
      do indexes.push(p.isKw(K.PRIMARY) ? (p.pos++, 'PRIMARY') : p.ident());
      while (p.eat(T.COMMA));
    }
    p.expect(T.RPAREN);
    if (indexHints.length === 0) indexHints = [];
    indexHints.push({ type: w === K.USE ? 'USE' : w === K.IGNORE ? 'IGNORE' : 'FORCE', for: forWhat, indexes });
  }
  return { kind: 'AliasedTable', table, partitions, alias, indexHints, ...(systemTime ? { systemTime } : {}) };
}

function parseSystemTime(p: Parser): SystemTime {
  p.pos += 2;
  if (p.eatKw(K.ALL)) return { kind: 'ALL' };
  if (p.eatKw(K.AS)) {
    if (!p.isWord('OF')) p.fail();
    p.pos++;
    return { kind: 'AS OF', at: systemTimeBound(p) };
  }
  const kind = p.eatKw(K.BETWEEN) ? 'BETWEEN' : p.eatKw(K.FROM) ? 'FROM' : p.fail();
  const from = systemTimeBound(p);
  if (kind === 'BETWEEN') p.expectKw(K.AND);
  else if (!p.isWord('TO')) p.fail();
  else p.pos++;
  return { kind, from, to: systemTimeBound(p) };
}

function systemTimeBound(p: Parser): SystemTimeBound {
  let unit: SystemTimeBound['unit'] = null;
  // TIMESTAMP '…' is a literal; TIMESTAMP before anything else names the bound's kind.
  if (p.isKw(K.TIMESTAMP) && p.peekKind(1) !== T.STRING && p.peekKind(1) !== T.DSTRING) unit = 'TIMESTAMP';
  else if (p.isWord('TRANSACTION')) unit = 'TRANSACTION';
  if (unit !== null) p.pos++;
  return { unit, expr: parseBitExpr(p, 1) };
}

export function parseOrderBy(p: Parser): OrderItem[] {
  p.expectKw(K.ORDER);
  p.expectKw(K.BY);
  const out: OrderItem[] = [];
  do {
    const expr = parseExpr(p);
    const direction = p.eatKw(K.ASC) ? 'ASC' : p.eatKw(K.DESC) ? 'DESC' : null;
    out.push({ expr, direction });
  } while (p.eat(T.COMMA));
  return out;
}

function limitValue(p: Parser): Expr {
  const k = p.k();
  const t = p.text();
  if (k === T.INT) {
    p.pos++;
    return { kind: 'Number', text: t, numType: 'int' };
  }
  if (k === T.PARAM) {
    p.pos++;
    return { kind: 'Param', index: p.paramCount++ };
  }
  if (k === T.BINDVAR) {
    p.pos++;
    return { kind: 'BindVar', name: t.slice(1), list: false };
  }
  return p.fail();
}

/** A query's LIMIT: also MariaDB's `LIMIT … ROWS EXAMINED n` and `LIMIT ROWS EXAMINED n`. */
function parseQueryLimit(p: Parser): Limit | null {
  if (p.peekKw(1) === K.ROWS && p.isWord2(2, 'EXAMINED')) {
    p.pos += 3;
    return { count: { kind: 'Number', text: NO_LIMIT, numType: 'int' }, offset: null, examined: limitValue(p) };
  }
  const l = parseLimit(p);
  if (p.isKw(K.ROWS) && p.isWord2(1, 'EXAMINED')) {
    p.pos += 2;
    return { ...l, examined: limitValue(p) };
  }
  return l;
}

/** SQL:2008's `[OFFSET m {ROW | ROWS}] [FETCH {FIRST | NEXT} [n] {ROW | ROWS} {ONLY | WITH TIES}]`. */
function parseFetch(p: Parser): Limit {
  let offset: Expr | null = null;
  if (p.eatKw(K.OFFSET)) {
    offset = limitValue(p);
    if (!p.eatKw(K.ROW)) p.expectKw(K.ROWS);
  }
  if (!p.eatKw(K.FETCH)) return { count: { kind: 'Number', text: NO_LIMIT, numType: 'int' }, offset };
  if (!p.eatKw(K.FIRST)) p.expectKw(K.NEXT);
  const count: Expr = p.isKw(K.ROW) || p.isKw(K.ROWS) ? { kind: 'Number', text: '1', numType: 'int' } : limitValue(p);
  if (!p.eatKw(K.ROW)) p.expectKw(K.ROWS);
  if (p.eatKw(K.ONLY)) return { count, offset };
  p.expectKw(K.WITH);
  if (!p.isWord('TIES')) p.fail();
  p.pos++;
  return { count, offset, withTies: true };
}

/** LIMIT n | LIMIT m, n | LIMIT n OFFSET m */
export function parseLimit(p: Parser): Limit {
  p.expectKw(K.LIMIT);
  const first = limitValue(p);
  if (p.eat(T.COMMA)) return { count: limitValue(p), offset: first };
  if (p.eatKw(K.OFFSET)) return { count: first, offset: limitValue(p) };
  return { count: first, offset: null };
}
