// INSERT / REPLACE, UPDATE, DELETE.

import type { Assignment, Column, Delete, Expr, Insert, Portion, SelectItem, TableExpr, TableName, Update, With } from './ast.js';
import { K } from './keywords.js';
import { T } from './lexer.js';
import type { Parser } from './parser.js';
import { isQueryStart, parseExpr, parseValueExpr } from './expr.js';
import { parseLimit, parseOrderBy, parseQuery, parseSelectItem, parseTableRefs } from './select.js';

export function parseInsert(p: Parser): Insert {
  const start = p.start[p.pos]!;
  const replace = p.kwd() === K.REPLACE;
  p.pos++;
  let hints: string | null = null;
  if (p.k() === T.HINT) {
    hints = p.text();
    p.pos++;
  }
  let priority: Insert['priority'] = null;
  if (p.eatKw(K.LOW_PRIORITY)) priority = 'LOW_PRIORITY';
  else if (p.eatKw(K.DELAYED)) priority = 'DELAYED';
  else if (p.eatKw(K.HIGH_PRIORITY)) priority = 'HIGH_PRIORITY';
  const ignore = p.eatKw(K.IGNORE);
  p.eatKw(K.INTO);
  const table = p.tableName();
  const partitions = p.eatKw(K.PARTITION) ? p.identList() : [];
  let columns: string[] | null = null;
  if (p.k() === T.LPAREN && !isQueryStart(p, 1)) {
    p.pos++;
    columns = [];
    if (p.k() !== T.RPAREN) {
      do columns.push(columnName(p));
      while (p.eat(T.COMMA));
    }
    p.expect(T.RPAREN);
  }
  let source: Insert['source'];
  const w = p.kwd();
  if (w === K.VALUES || w === K.VALUE) {
    p.pos++;
    const rows: Expr[][] = [];
    do {
      p.expect(T.LPAREN);
      const row: Expr[] = [];
      if (p.k() !== T.RPAREN) {
        do row.push(parseValueExpr(p));
        while (p.eat(T.COMMA));
      }
      p.expect(T.RPAREN);
      rows.push(row);
    } while (p.eat(T.COMMA));
    source = { kind: 'Values', rows };
  } else if (w === K.SET && columns === null) {
    p.pos++;
    source = { kind: 'InsertSet', assignments: parseAssignments(p) };
  } else if (w === K.SELECT || w === K.WITH || p.k() === T.LPAREN) {
    source = parseQuery(p);
  } else return p.fail();
  let onDuplicate: Assignment[] = [];
  if (p.isKw(K.ON)) {
    p.pos++;
    p.expectKw(K.DUPLICATE);
    p.expectKw(K.KEY);
    p.expectKw(K.UPDATE);
    onDuplicate = parseAssignments(p);
  }
  const returning = parseReturning(p);
  return {
    kind: 'Insert', replace, hints, priority, ignore, table, partitions, columns, source, onDuplicate, ...(returning ? { returning } : {}), start,
    end: p.prevEnd(),
  };
}

/** A column name in an INSERT column list; `t.c` is accepted and reduced to `c` as MySQL does. */
function columnName(p: Parser): string {
  let name = p.ident();
  while (p.eat(T.DOT)) name = p.identAny();
  return name;
}

function parseColumnRef(p: Parser): Column {
  const first = p.ident();
  if (!p.eat(T.DOT)) return { kind: 'Column', table: null, name: first };
  const second = p.identAny();
  if (!p.eat(T.DOT)) return { kind: 'Column', table: { kind: 'TableName', schema: null, name: first }, name: second };
  return { kind: 'Column', table: { kind: 'TableName', schema: first, name: second }, name: p.identAny() };
}

export function parseAssignments(p: Parser): Assignment[] {
  const out: Assignment[] = [];
  do {
    const column = parseColumnRef(p);
    if (!p.eat(T.EQ) && !p.eat(T.ASSIGN)) p.fail();
    out.push({ column, value: parseValueExpr(p) });
  } while (p.eat(T.COMMA));
  return out;
}

export function parseUpdate(p: Parser, w: With | null, start: number): Update {
  p.expectKw(K.UPDATE);
  let hints: string | null = null;
  if (p.k() === T.HINT) {
    hints = p.text();
    p.pos++;
  }
  const lowPriority = p.eatKw(K.LOW_PRIORITY);
  const ignore = p.eatKw(K.IGNORE);
  const tables = parseTableRefs(p);
  const portion = tables.length === 1 && tables[0]!.kind === 'AliasedTable' ? parsePortion(p) : null;
  p.expectKw(K.SET);
  const set = parseAssignments(p);
  const where = p.eatKw(K.WHERE) ? parseExpr(p) : null;
  const orderBy = p.isKw(K.ORDER) ? parseOrderBy(p) : [];
  const limit = p.isKw(K.LIMIT) ? parseLimit(p) : null;
  return { kind: 'Update', with: w, hints, lowPriority, ignore, tables, ...(portion ? { portion } : {}), set, where, orderBy, limit, start, end: p.prevEnd() };
}

/** `t`, `t.*`, `db.t`, `db.t.*` */
function targetName(p: Parser): TableName {
  const first = p.ident();
  let t: TableName = { kind: 'TableName', schema: null, name: first };
  if (p.k() === T.DOT && p.peekKind(1) !== T.STAR) {
    p.pos++;
    t = { kind: 'TableName', schema: first, name: p.identAny() };
  }
  if (p.k() === T.DOT && p.peekKind(1) === T.STAR) p.pos += 2;
  return t;
}

function targetNames(p: Parser): TableName[] {
  const out = [targetName(p)];
  while (p.eat(T.COMMA)) out.push(targetName(p));
  return out;
}

export function parseDelete(p: Parser, w: With | null, start: number): Delete {
  p.expectKw(K.DELETE);
  let hints: string | null = null;
  if (p.k() === T.HINT) {
    hints = p.text();
    p.pos++;
  }
  let lowPriority = false;
  let quick = false;
  let ignore = false;
  for (;;) {
    if (p.eatKw(K.LOW_PRIORITY)) lowPriority = true;
    else if (p.eatKw(K.QUICK)) quick = true;
    else if (p.eatKw(K.IGNORE)) ignore = true;
    else break;
  }
  let targets: TableName[] = [];
  let from: TableExpr[];
  if (p.eatKw(K.FROM)) {
    // Either DELETE FROM t … (single table) or DELETE FROM t1, t2 USING <refs> (multi-table).
    const save = p.pos;
    const names = targetNames(p);
    if (p.eatKw(K.USING)) {
      targets = names;
      from = parseTableRefs(p);
    } else {
      p.pos = save;
      from = parseTableRefs(p);
      if (from.length !== 1 || from[0]!.kind !== 'AliasedTable') p.fail(save);
    }
  } else {
    targets = targetNames(p);
    p.expectKw(K.FROM);
    from = parseTableRefs(p);
  }
  const portion = targets.length === 0 ? parsePortion(p) : null;
  const where = p.eatKw(K.WHERE) ? parseExpr(p) : null;
  const orderBy = p.isKw(K.ORDER) ? parseOrderBy(p) : [];
  const limit = p.isKw(K.LIMIT) ? parseLimit(p) : null;
  const returning = targets.length === 0 ? parseReturning(p) : null;
  return {
    kind: 'Delete', with: w, hints, lowPriority, quick, ignore, targets, from, ...(portion ? { portion } : {}), where, orderBy, limit, ...(returning ? { returning } : {}), start,
    end: p.prevEnd(),
  };
}

/** `FOR PORTION OF period FROM a TO b` after a single table; null when absent. */
function parsePortion(p: Parser): Portion | null {
  if (!p.isKw(K.FOR) || !p.isWord2(1, 'PORTION')) return null;
  p.pos += 2;
  p.expectKw(K.OF);
  const period = p.ident();
  p.expectKw(K.FROM);
  const from = parseExpr(p);
  p.expectKw(K.TO);
  return { period, from, to: parseExpr(p) };
}

/** MariaDB's `RETURNING select_list` after INSERT, REPLACE and single-table DELETE; null when absent. */
function parseReturning(p: Parser): SelectItem[] | null {
  if (!p.eatKw(K.RETURNING)) return null;
  const out: SelectItem[] = [];
  do out.push(parseSelectItem(p));
  while (p.eat(T.COMMA));
  return out;
}
