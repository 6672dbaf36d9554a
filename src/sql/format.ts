// The formatter: AST → canonical SQL that MariaDB (and MySQL 8) accepts. Keywords upper case,
// identifiers quoted only where needed, one space around binary operators, parentheses exactly
// where precedence requires them. The same printer makes the normalizer's cache key, and with
// `bindVars` it substitutes values for bind variables (what the gate sends to a shard).

import type {
  DataType, Expr, Into, JsonTableColumn, JsonTableResponse, Limit, Literal, Lock, OrderItem, QueryExpr, Select, SelectItem, SetOp, Statement, SystemTime, SystemTimeBound, TableExpr, TableName,
  WindowSpec, With,
} from './ast.js';
import { NO_LIMIT } from './ast.js';
import { keywordId, QUOTE_WORDS, RESERVED } from './keywords.js';
import { quoteString } from './ddl.js';
import { formatOther } from './format-ddl.js';

/** A bind variable's value: a literal, or for a list bind variable (`::name`) a list of them. */
/** A row of literals inside a list bind variable: `(a, b) IN ::list` binds a list of these. */
export interface LiteralRow {
  readonly kind: 'Tuple';
  readonly items: readonly Literal[];
  readonly row: false;
}

export type BindValue = Literal | { readonly kind: 'List'; readonly items: readonly (Literal | LiteralRow)[] };

export interface FormatOptions {
  /** Values to print in place of `:name` / `::name`; names not present are printed as bind variables. */
  readonly bindVars?: Readonly<Record<string, BindValue>>;
}

const identCache = new Map<string, string>();
const IDENT_CACHE_MAX = 10_000;

/**
 * A value read from MariaDB (a text row or the binlog) as a SQL literal that writes it back
 * unchanged: binary bytes as a hex literal, 64-bit integers exactly, text as an escaped string
 * (the connection's character set must be utf8mb4).
 */
export function valueLiteral(v: null | number | bigint | string | Buffer | undefined): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'NULL';
  if (typeof v === 'bigint') return v.toString();
  if (Buffer.isBuffer(v)) return v.length === 0 ? "''" : "X'" + v.toString('hex') + "'";
  return quoteString(v);
}

/** An identifier as SQL: bare when that reads back the same, else in backticks. */
export function quoteIdent(name: string): string {
  const hit = identCache.get(name);
  if (hit !== undefined) return hit;
  let bare = name.length > 0 && name.length <= 64;
  for (let i = 0; i < name.length && bare; i++) {
    const c = name.charCodeAt(i);
    const ok = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || (c >= 48 && c <= 57 && i > 0);
    if (!ok) bare = false;
  }
  if (bare && QUOTE_WORDS.has(name.toUpperCase())) bare = false;
  const out = bare ? name : '`' + name.replaceAll('`', '``') + '`';
  if (identCache.size >= IDENT_CACHE_MAX) identCache.clear();
  identCache.set(name, out);
  return out;
}

export function formatTableName(t: TableName): string {
  return t.schema === null ? quoteIdent(t.name) : quoteIdent(t.schema) + '.' + quoteIdent(t.name);
}

export { quoteString };

/** A character set or collation name: bare when it is a plain word. */
export function charsetWord(name: string): string {
  return /^[A-Za-z0-9_]+$/.test(name) && RESERVED[keywordId(name)] !== 1 ? name : quoteString(name);
}

const BINARY_PREC: Record<string, number> = {
  ':=': 1, OR: 2, XOR: 3, AND: 4, '=': 6, '<=>': 6, '<>': 6, '<': 6, '<=': 6, '>': 6, '>=': 6, '|': 7, '&': 8,
  '<<': 9, '>>': 9, '+': 10, '-': 10, '*': 11, '/': 11, DIV: 11, '%': 11, '^': 12, '->': 16, '->>': 16,
};

function prec(e: Expr): number {
  switch (e.kind) {
    case 'Binary':
      return BINARY_PREC[e.op]!;
    case 'Unary':
      return e.op === 'NOT' ? 5 : e.op === '!' ? 14 : e.op === 'BINARY' ? 15 : 13;
    case 'Is':
    case 'Between':
    case 'In':
    case 'Like':
    case 'Quantified':
    case 'MemberOf':
      return 6;
    case 'Collate':
      return 15;
    case 'Number':
      // A negative literal reads back as a unary minus applied to what follows it.
      return e.text.charCodeAt(0) === 45 ? 13 : 17;
    default:
      return 17;
  }
}

export class Formatter {
  private readonly bindVars: Readonly<Record<string, BindValue>> | undefined;

  constructor(options?: FormatOptions) {
    this.bindVars = options?.bindVars;
  }

  expr(e: Expr, minPrec = 0): string {
    if (prec(e) < minPrec) return '(' + this.expr(e) + ')';
    switch (e.kind) {
      case 'String':
        return (e.charset !== null ? '_' + e.charset : e.national ? 'N' : '') + quoteString(e.value);
      case 'Number':
        return e.text;
      case 'Hex':
        return (e.charset !== null ? '_' + e.charset + ' ' : '') + (e.form === '0x' ? '0x' + e.digits : "X'" + e.digits + "'");
      case 'Bit':
        return (e.charset !== null ? '_' + e.charset + ' ' : '') + (e.form === '0b' ? '0b' + e.digits : "b'" + e.digits + "'");
      case 'Null':
        return 'NULL';
      case 'Bool':
        return e.value ? 'TRUE' : 'FALSE';
      case 'TypedLiteral':
        return e.type + ' ' + quoteString(e.value);
      case 'Param':
        return '?';
      case 'BindVar': {
        const v = this.bindVars?.[e.name];
        if (v !== undefined) return this.bindValue(v);
        return (e.list ? '::' : ':') + e.name;
      }
      case 'UserVar':
        return '@' + quoteIdent(e.name);
      case 'SysVar':
        return '@@' + (e.scope !== null ? e.scope.toLowerCase() + '.' : '') + quoteIdent(e.name);
      case 'Column':
        return e.table === null ? quoteIdent(e.name) : formatTableName(e.table) + '.' + quoteIdent(e.name);
      case 'Star':
        return e.table === null ? '*' : formatTableName(e.table) + '.*';
      case 'Unary': {
        if (e.op === 'NOT') return 'NOT ' + this.expr(e.expr, 5);
        if (e.op === 'BINARY') return 'BINARY ' + this.expr(e.expr, 13);
        const inner = this.expr(e.expr, e.op === '!' ? 14 : 13);
        // `- -1` must not become the comment `--1`.
        const c = inner.charCodeAt(0);
        return e.op + ((c === 45 && e.op === '-') || (c === 43 && e.op === '+') ? ' ' : '') + inner;
      }
      case 'Binary': {
        const p = BINARY_PREC[e.op]!;
        if (p === 6) return this.expr(e.left, 7) + ' ' + e.op + ' ' + this.expr(e.right, 7);
        if (p === 16) return this.expr(e.left, 16) + ' ' + e.op + ' ' + this.expr(e.right, 17);
        if (p === 1) return this.expr(e.left, 17) + ' := ' + this.expr(e.right, 1);
        return this.expr(e.left, p) + ' ' + e.op + ' ' + this.expr(e.right, p + 1);
      }
      case 'Quantified':
        return this.expr(e.left, 7) + ' ' + e.op + ' ' + e.quantifier + ' (' + this.query(e.query) + ')';
      case 'Is':
        return this.expr(e.expr, 7) + (e.not ? ' IS NOT ' : ' IS ') + e.value;
      case 'Between':
        return (
          this.expr(e.expr, 7) + (e.not ? ' NOT BETWEEN ' : ' BETWEEN ') + this.expr(e.low, 7) + ' AND ' + this.expr(e.high, 7)
        );
      case 'In': {
        const r = e.right;
        let right: string;
        if (r.kind === 'Tuple') right = '(' + this.exprs(r.items) + ')';
        else if (r.kind === 'Subquery') right = '(' + this.query(r.query) + ')';
        else right = this.expr(r);
        return this.expr(e.expr, 7) + (e.not ? ' NOT IN ' : ' IN ') + right;
      }
      case 'Like': {
        const op = e.not ? ' NOT ' + e.op + ' ' : ' ' + e.op + ' ';
        const s = this.expr(e.expr, 7) + op + this.expr(e.pattern, 7);
        return e.escape === null ? s : s + ' ESCAPE ' + this.expr(e.escape, 7);
      }
      case 'MemberOf':
        return this.expr(e.expr, 7) + ' MEMBER OF (' + this.expr(e.json) + ')';
      case 'Case': {
        let s = 'CASE';
        if (e.operand !== null) s += ' ' + this.expr(e.operand);
        for (const w of e.whens) s += ' WHEN ' + this.expr(w.when) + ' THEN ' + this.expr(w.then);
        if (e.else !== null) s += ' ELSE ' + this.expr(e.else);
        return s + ' END';
      }
      case 'Cast':
        return e.convert
          ? 'CONVERT(' + this.expr(e.expr) + ', ' + formatDataType(e.type) + ')'
          : 'CAST(' + this.expr(e.expr) + ' AS ' + formatDataType(e.type) + ')';
      case 'ConvertUsing':
        return 'CONVERT(' + this.expr(e.expr) + ' USING ' + charsetWord(e.charset) + ')';
      case 'Collate':
        return this.expr(e.expr, 16) + ' COLLATE ' + charsetWord(e.collation);
      case 'Interval':
        return 'INTERVAL ' + this.expr(e.expr, 17) + ' ' + e.unit;
      case 'Extract':
        return 'EXTRACT(' + e.unit + ' FROM ' + this.expr(e.expr) + ')';
      case 'Trim': {
        let s = 'TRIM(';
        if (e.side !== null) s += e.side + ' ';
        if (e.remove !== null) s += this.expr(e.remove) + ' ';
        if (e.side !== null || e.remove !== null) s += 'FROM ';
        return s + this.expr(e.expr) + ')';
      }
      case 'Func': {
        const name = (e.schema !== null ? quoteIdent(e.schema) + '.' : '') + funcName(e.name);
        if (e.bare) return name;
        let s = name + '(' + (e.distinct ? 'DISTINCT ' : '');
        if (e.argTypes) s += e.args.map((a, i) => this.expr(a) + (e.argTypes![i] ? ' AS ' + formatDataType(e.argTypes![i]!) : '')).join(', ');
        else if (e.argAliases) s += e.args.map((a, i) => this.expr(a) + (e.argAliases![i] !== null ? ' AS ' + quoteIdent(e.argAliases![i]!) : '')).join(', ');
        else s += this.exprs(e.args);
        if (e.using !== undefined) s += ' USING ' + charsetWord(e.using);
        if (e.level !== undefined) s += ' LEVEL ' + e.level.replaceAll(' ,', ',');
        s += ')';
        if (e.withinGroup) s += ' WITHIN GROUP (' + this.orderBy(e.withinGroup) + ')';
        if (e.over !== null) s += ' OVER ' + (typeof e.over === 'string' ? quoteIdent(e.over) : this.windowSpec(e.over));
        return s;
      }
      case 'GroupConcat': {
        let s = 'GROUP_CONCAT(' + (e.distinct ? 'DISTINCT ' : '') + this.exprs(e.args);
        if (e.orderBy.length > 0) s += ' ' + this.orderBy(e.orderBy);
        if (e.separator !== null) s += ' SEPARATOR ' + quoteString(e.separator);
        if (e.limit !== null) s += ' ' + this.limit(e.limit);
        return s + ')';
      }
      case 'Match':
        return (
          'MATCH (' + this.exprs(e.columns) + ') AGAINST (' + this.expr(e.against, 7) + (e.modifier !== null ? ' ' + e.modifier : '') + ')'
        );
      case 'Tuple':
        return (e.row ? 'ROW(' : '(') + this.exprs(e.items) + ')';
      case 'Subquery':
        return '(' + this.query(e.query) + ')';
      case 'Exists':
        return 'EXISTS (' + this.query(e.query) + ')';
      case 'Default':
        return e.column === null ? 'DEFAULT' : 'DEFAULT(' + quoteIdent(e.column) + ')';
      case 'ValuesFunc':
        return 'VALUES(' + this.expr(e.column) + ')';
      case 'Keyword':
        return e.word;
      default: {
        const never: never = e;
        throw new Error(`unknown expression ${(never as Expr).kind}`);
      }
    }
  }

  bindValue(v: BindValue): string {
    if (v.kind === 'List') {
      let s = '(';
      for (let i = 0; i < v.items.length; i++) s += (i > 0 ? ', ' : '') + this.expr(v.items[i]!);
      return s + ')';
    }
    return this.expr(v);
  }

  exprs(list: readonly Expr[]): string {
    let s = '';
    for (let i = 0; i < list.length; i++) s += (i > 0 ? ', ' : '') + this.expr(list[i]!);
    return s;
  }

  windowSpec(w: WindowSpec): string {
    const parts: string[] = [];
    if (w.base !== null) parts.push(quoteIdent(w.base));
    if (w.partitionBy.length > 0) parts.push('PARTITION BY ' + this.exprs(w.partitionBy));
    if (w.orderBy.length > 0) parts.push(this.orderBy(w.orderBy));
    if (w.frame !== null) {
      const f = w.frame;
      const bound = (b: typeof f.start): string => (b.offset !== null ? this.expr(b.offset, 7) + ' ' : '') + b.type;
      parts.push(f.end === null ? f.unit + ' ' + bound(f.start) : f.unit + ' BETWEEN ' + bound(f.start) + ' AND ' + bound(f.end));
    }
    return '(' + parts.join(' ') + ')';
  }

  orderBy(items: readonly OrderItem[]): string {
    let s = 'ORDER BY ';
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      s += (i > 0 ? ', ' : '') + this.expr(it.expr) + (it.direction !== null ? ' ' + it.direction : '');
    }
    return s;
  }

  limit(l: Limit): string {
    if (l.withTies) return (l.offset !== null ? 'OFFSET ' + this.expr(l.offset) + ' ROWS ' : '') + 'FETCH FIRST ' + this.expr(l.count) + ' ROWS WITH TIES';
    if (l.examined !== undefined) {
      const head = l.count.kind === 'Number' && l.count.text === NO_LIMIT && l.offset === null ? 'LIMIT' : this.limit({ count: l.count, offset: l.offset });
      return head + ' ROWS EXAMINED ' + this.expr(l.examined);
    }
    if (l.offset === null) return 'LIMIT ' + this.expr(l.count);
    // `?` placeholders are numbered in text order: keep `LIMIT ?, ?` in that order.
    if (l.offset.kind === 'Param' && l.count.kind === 'Param' && l.offset.index < l.count.index) {
      return 'LIMIT ' + this.expr(l.offset) + ', ' + this.expr(l.count);
    }
    return 'LIMIT ' + this.expr(l.count) + ' OFFSET ' + this.expr(l.offset);
  }

  with(w: With): string {
    let s = w.recursive ? 'WITH RECURSIVE ' : 'WITH ';
    for (let i = 0; i < w.ctes.length; i++) {
      const c = w.ctes[i]!;
      s += (i > 0 ? ', ' : '') + quoteIdent(c.name);
      if (c.columns !== null) s += ' (' + c.columns.map(quoteIdent).join(', ') + ')';
      s += ' AS (' + this.query(c.query) + ')';
    }
    return s + ' ';
  }

  query(q: QueryExpr): string {
    return q.kind === 'Select' ? this.select(q) : this.setOp(q);
  }

  private tail(q: Select | SetOp): string {
    let s = '';
    if (q.orderBy.length > 0) s += ' ' + this.orderBy(q.orderBy);
    if (q.limit !== null) s += ' ' + this.limit(q.limit);
    if (q.kind === 'Select' && q.procedure) s += ' PROCEDURE ' + q.procedure.name + '(' + this.exprs(q.procedure.args) + ')';
    // After a set operation the lock goes first: `… UNION SELECT 1 INTO @v` would be the operand's INTO.
    if (q.kind === 'SetOp' && q.lock !== null) s += ' ' + formatLock(q.lock);
    if (q.into !== null) s += ' ' + formatInto(q.into);
    if (q.kind === 'Select' && q.lock !== null) s += ' ' + formatLock(q.lock);
    return s;
  }

  selectItems(items: readonly SelectItem[]): string {
    let s = '';
    for (let i = 0; i < items.length; i++) {
      const c = items[i]!;
      if (i > 0) s += ', ';
      s += this.expr(c.expr);
      if (c.alias !== null) s += ' AS ' + quoteIdent(c.alias);
    }
    return s;
  }

  select(q: Select): string {
    if (q.tableValues) return (q.with !== null ? this.with(q.with) : '') + 'VALUES ' + q.tableValues.map((r) => '(' + this.exprs(r) + ')').join(', ') + this.tail(q);
    let s = q.with !== null ? this.with(q.with) + 'SELECT ' : 'SELECT ';
    if (q.hints !== null) s += q.hints + ' ';
    if (q.distinct) s += 'DISTINCT ';
    for (const o of q.options) s += o + ' ';
    s += this.selectItems(q.columns);
    if (q.from.length > 0) s += ' FROM ' + this.tableExprs(q.from);
    else if (q.where !== null || q.groupBy.length > 0 || q.having !== null) s += ' FROM DUAL';
    if (q.where !== null) s += ' WHERE ' + this.expr(q.where);
    if (q.groupBy.length > 0) {
      const dirs = q.groupByOrder;
      s += ' GROUP BY ' + (dirs ? q.groupBy.map((e, i) => this.expr(e) + (dirs[i] ? ' ' + dirs[i] : '')).join(', ') : this.exprs(q.groupBy)) + (q.rollup ? ' WITH ROLLUP' : '');
    }
    if (q.having !== null) s += ' HAVING ' + this.expr(q.having);
    if (q.windows.length > 0) {
      s += ' WINDOW ' + q.windows.map((w) => quoteIdent(w.name) + ' AS ' + this.windowSpec(w.spec)).join(', ');
    }
    return s + this.tail(q);
  }

  setOp(q: SetOp): string {
    const level = (x: QueryExpr): number => (x.kind === 'SetOp' ? (x.op === 'INTERSECT' ? 2 : 1) : 3);
    const closed = (x: QueryExpr): boolean =>
      x.with !== null || x.orderBy.length > 0 || x.limit !== null || x.lock !== null || x.into !== null;
    const mine = q.op === 'INTERSECT' ? 2 : 1;
    const left = closed(q.left) || level(q.left) < mine ? '(' + this.query(q.left) + ')' : this.query(q.left);
    // A trailing INTO would read as the last operand's: that operand goes in parentheses then.
    const right = closed(q.right) || q.right.kind === 'SetOp' || (q.into !== null && q.orderBy.length === 0 && q.limit === null && q.lock === null && q.right.kind === 'Select') ? '(' + this.query(q.right) + ')' : this.query(q.right);
    const head = q.with !== null ? this.with(q.with) : '';
    return head + left + ' ' + q.op + (q.all ? ' ALL ' : ' ') + right + this.tail(q);
  }

  tableExprs(list: readonly TableExpr[]): string {
    let s = '';
    for (let i = 0; i < list.length; i++) s += (i > 0 ? ', ' : '') + this.tableExpr(list[i]!);
    return s;
  }

  systemTime(s: SystemTime): string {
    // `TIMESTAMP '…'` would read as a literal: a string after a unit keeps its parentheses.
    const b = (x: SystemTimeBound): string => (x.unit !== null ? x.unit + ' ' + (x.expr.kind === 'String' || x.expr.kind === 'BindVar' || x.expr.kind === 'Param' ? '(' + this.expr(x.expr) + ')' : this.expr(x.expr, 7)) : this.expr(x.expr, 7));
    if (s.kind === 'ALL') return 'FOR SYSTEM_TIME ALL';
    if (s.kind === 'AS OF') return 'FOR SYSTEM_TIME AS OF ' + b(s.at);
    return 'FOR SYSTEM_TIME ' + s.kind + ' ' + b(s.from) + (s.kind === 'BETWEEN' ? ' AND ' : ' TO ') + b(s.to);
  }

  jsonTableColumns(cols: readonly JsonTableColumn[]): string {
    const response = (r: JsonTableResponse): string => (r.kind === 'DEFAULT' ? 'DEFAULT ' + this.expr(r.value) : r.kind);
    const col = (c: JsonTableColumn): string => {
      if (c.kind === 'Ordinality') return quoteIdent(c.name) + ' FOR ORDINALITY';
      if (c.kind === 'Nested') return 'NESTED PATH ' + quoteString(c.path) + ' ' + this.jsonTableColumns(c.columns);
      let s = quoteIdent(c.name) + ' ' + formatDataType(c.type) + (c.exists ? ' EXISTS' : '') + ' PATH ' + quoteString(c.path);
      if (c.onEmpty !== null) s += ' ' + response(c.onEmpty) + ' ON EMPTY';
      if (c.onError !== null) s += ' ' + response(c.onError) + ' ON ERROR';
      return s;
    };
    return 'COLUMNS (' + cols.map(col).join(', ') + ')';
  }

  tableExpr(t: TableExpr): string {
    switch (t.kind) {
      case 'AliasedTable': {
        let s = formatTableName(t.table);
        if (t.partitions.length > 0) s += ' PARTITION (' + t.partitions.map(quoteIdent).join(', ') + ')';
        if (t.systemTime) s += ' ' + this.systemTime(t.systemTime);
        if (t.alias !== null) s += ' AS ' + quoteIdent(t.alias);
        for (const h of t.indexHints) {
          s += ' ' + h.type + ' INDEX' + (h.for !== null ? ' FOR ' + h.for : '') + ' (' + h.indexes.map(quoteIdent).join(', ') + ')';
        }
        return s;
      }
      case 'DerivedTable': {
        let s = (t.lateral ? 'LATERAL (' : '(') + this.query(t.query) + ') AS ' + quoteIdent(t.alias);
        if (t.columns !== null) s += ' (' + t.columns.map(quoteIdent).join(', ') + ')';
        return s;
      }
      case 'Join': {
        const right = t.right.kind === 'Join' ? '(' + this.tableExpr(t.right) + ')' : this.tableExpr(t.right);
        const op = t.type === 'JOIN' || t.type === 'STRAIGHT_JOIN' ? t.type : t.type + ' JOIN';
        let s = this.tableExpr(t.left) + ' ' + op + ' ' + right;
        if (t.on !== null) s += ' ON ' + this.expr(t.on);
        else if (t.using !== null) s += ' USING (' + t.using.map(quoteIdent).join(', ') + ')';
        return s;
      }
      case 'ParenTables':
        return '(' + this.tableExprs(t.items) + ')';
      case 'JsonTable':
        return 'JSON_TABLE(' + this.expr(t.doc) + ', ' + quoteString(t.path) + ' ' + this.jsonTableColumns(t.columns) + ')' + (t.alias !== null ? ' AS ' + quoteIdent(t.alias) : '');
      default: {
        const never: never = t;
        throw new Error(`unknown table expression ${(never as TableExpr).kind}`);
      }
    }
  }

  statement(s: Statement): string {
    switch (s.kind) {
      case 'Select':
        return this.select(s);
      case 'SetOp':
        return this.setOp(s);
      case 'Insert': {
        let out = s.replace ? 'REPLACE ' : 'INSERT ';
        if (s.hints !== null) out += s.hints + ' ';
        if (s.priority !== null) out += s.priority + ' ';
        if (s.ignore) out += 'IGNORE ';
        out += 'INTO ' + formatTableName(s.table);
        if (s.partitions.length > 0) out += ' PARTITION (' + s.partitions.map(quoteIdent).join(', ') + ')';
        if (s.columns !== null) out += ' (' + s.columns.map(quoteIdent).join(', ') + ')';
        const src = s.source;
        if (src.kind === 'Values') {
          out += ' VALUES ';
          for (let i = 0; i < src.rows.length; i++) out += (i > 0 ? ', (' : '(') + this.exprs(src.rows[i]!) + ')';
        } else if (src.kind === 'InsertSet') {
          out += ' SET ' + this.assignments(src.assignments);
        } else if (src.kind === 'Select' && src.tableValues) out += ' (' + this.query(src) + ')';
        else out += ' ' + this.query(src);
        if (s.onDuplicate.length > 0) out += ' ON DUPLICATE KEY UPDATE ' + this.assignments(s.onDuplicate);
        if (s.returning) out += ' RETURNING ' + this.selectItems(s.returning);
        return out;
      }
      case 'Update': {
        let out = (s.with !== null ? this.with(s.with) : '') + 'UPDATE ';
        if (s.hints !== null) out += s.hints + ' ';
        if (s.lowPriority) out += 'LOW_PRIORITY ';
        if (s.ignore) out += 'IGNORE ';
        out += this.tableExprs(s.tables) + (s.portion ? this.portion(s.portion) : '') + ' SET ' + this.assignments(s.set);
        if (s.where !== null) out += ' WHERE ' + this.expr(s.where);
        if (s.orderBy.length > 0) out += ' ' + this.orderBy(s.orderBy);
        if (s.limit !== null) out += ' ' + this.limit(s.limit);
        return out;
      }
      case 'Delete': {
        let out = (s.with !== null ? this.with(s.with) : '') + 'DELETE ';
        if (s.hints !== null) out += s.hints + ' ';
        if (s.lowPriority) out += 'LOW_PRIORITY ';
        if (s.quick) out += 'QUICK ';
        if (s.ignore) out += 'IGNORE ';
        if (s.targets.length > 0) out += s.targets.map(formatTableName).join(', ') + ' ';
        out += 'FROM ' + this.tableExprs(s.from);
        if (s.portion) out += this.portion(s.portion);
        if (s.where !== null) out += ' WHERE ' + this.expr(s.where);
        if (s.orderBy.length > 0) out += ' ' + this.orderBy(s.orderBy);
        if (s.limit !== null) out += ' ' + this.limit(s.limit);
        if (s.returning) out += ' RETURNING ' + this.selectItems(s.returning);
        return out;
      }
      default:
        return formatOther(this, s);
    }
  }

  portion(x: { readonly period: string; readonly from: Expr; readonly to: Expr }): string {
    return ' FOR PORTION OF ' + quoteIdent(x.period) + ' FROM ' + this.expr(x.from) + ' TO ' + this.expr(x.to);
  }

  assignments(list: readonly { column: Expr; value: Expr }[]): string {
    let s = '';
    for (let i = 0; i < list.length; i++) {
      const a = list[i]!;
      s += (i > 0 ? ', ' : '') + this.expr(a.column) + ' = ' + this.expr(a.value);
    }
    return s;
  }
}

function funcName(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_$]*$/.test(name) ? name : quoteIdent(name);
}

function formatInto(i: Into): string {
  if (i.type === 'VARIABLES') return 'INTO ' + i.vars.map((v) => '@' + quoteIdent(v.name)).join(', ');
  return 'INTO ' + i.type + ' ' + quoteString(i.file ?? '');
}

function formatLock(l: Lock): string {
  return l.wait === null ? l.type : l.type + ' ' + l.wait;
}

export function formatDataType(t: DataType): string {
  let s = t.name;
  if (t.values.length > 0) s += '(' + t.values.map(quoteString).join(', ') + ')';
  else if (t.args.length > 0) s += '(' + t.args.join(', ') + ')';
  if (t.compressed !== undefined) s += t.compressed === '' ? ' COMPRESSED' : ' COMPRESSED=' + t.compressed;
  if (t.unsigned) s += ' UNSIGNED';
  if (t.zerofill) s += ' ZEROFILL';
  if (t.binary) s += ' BINARY';
  if (t.shorthand) s += ' ' + t.shorthand;
  if (t.charset !== null) s += ' CHARACTER SET ' + charsetWord(t.charset);
  if (t.collateDefault) s += ' COLLATE DEFAULT';
  if (t.collate !== null) s += ' COLLATE ' + charsetWord(t.collate);
  return s;
}

const defaultFormatter = new Formatter();

/** Canonical SQL for a statement; with `bindVars`, bind variables are replaced by their values. */
export function format(stmt: Statement, options?: FormatOptions): string {
  return (options?.bindVars ? new Formatter(options) : defaultFormatter).statement(stmt);
}

/** Canonical SQL for one expression. */
export function formatExpr(e: Expr, options?: FormatOptions): string {
  return (options?.bindVars ? new Formatter(options) : defaultFormatter).expr(e);
}

/**
 * A statement's text with its bind variables cut out: the text between them and their names, so
 * that filling in values is string concatenation rather than a walk of the tree. null when the
 * statement's own text contains the marker character (a string literal with U+E000).
 */
interface Template {
  readonly parts: readonly string[];
  readonly vars: readonly { readonly name: string; readonly list: boolean }[];
}

const MARK_OPEN = '\uE000';
const MARK_CLOSE = '\uE001';
const MARKS = /\uE000(\d+)\uE001/;
const templates = new WeakMap<Statement, Template | null>();

/** A Formatter whose every bind variable prints as a numbered mark, noting its name. */
class TemplateFormatter extends Formatter {
  readonly vars: { name: string; list: boolean }[] = [];

  constructor() {
    super({ bindVars: new Proxy({}, { get: (_t, name) => ({ kind: 'TemplateMark', name: String(name) }) }) as Readonly<Record<string, BindValue>> });
  }

  override expr(e: Expr, minPrec = 0): string {
    if (e.kind === 'BindVar') {
      this.vars.push({ name: e.name, list: e.list });
      return MARK_OPEN + (this.vars.length - 1) + MARK_CLOSE;
    }
    return super.expr(e, minPrec);
  }
}

function templateOf(stmt: Statement): Template | null {
  let t = templates.get(stmt);
  if (t !== undefined) return t;
  const f = new TemplateFormatter();
  const text = f.statement(stmt);
  // split with a capturing group: text, index, text, index, …, text (the formatter may print
  // bind variables in another order than it visits them).
  const pieces = text.split(MARKS);
  const parts: string[] = [];
  const vars: { name: string; list: boolean }[] = [];
  for (let i = 0; i < pieces.length; i++) {
    if (i % 2 === 0) parts.push(pieces[i]);
    else vars.push(f.vars[Number(pieces[i])]);
  }
  const clean = vars.length === f.vars.length && vars.every((v) => v !== undefined) && !parts.some((p) => p.includes(MARK_OPEN) || p.includes(MARK_CLOSE));
  t = clean ? { parts, vars } : null;
  templates.set(stmt, t);
  return t;
}

/**
 * format(stmt, { bindVars }) for a statement formatted many times with different values (a plan's
 * shard query): the text around the bind variables is made once per statement object and kept.
 */
export function formatBound(stmt: Statement, bindVars: Readonly<Record<string, BindValue>>): string {
  const t = templateOf(stmt);
  if (t === null) return format(stmt, { bindVars });
  let out = t.parts[0];
  for (let i = 0; i < t.vars.length; i++) {
    const v = t.vars[i];
    const value = bindVars[v.name];
    const text = value !== undefined ? defaultFormatter.bindValue(value) : (v.list ? '::' : ':') + v.name;
    // As Formatter's unary minus and plus: `- -1` must not become the comment `--1`.
    const c = text.charCodeAt(0);
    if ((c === 45 || c === 43) && out.charCodeAt(out.length - 1) === c) out += ' ';
    out += text + t.parts[i + 1];
  }
  return out;
}

/** A statement with `?` placeholders and its values in order: what a MariaDB prepared statement runs. */
export interface PlaceholderStatement {
  readonly sql: string;
  readonly params: readonly Literal[];
}

/** Most placeholders a statement is sent with: more (a large multi-row INSERT) goes as text. */
export const PLACEHOLDERS_MAX = 1000;

/** A template's text with `?` for its bind variables, or null when the text has a `?` of its own (an unbound parameter). */
const placeholderTexts = new WeakMap<Template, string | null>();

/**
 * A literal MariaDB takes as a prepared statement's parameter with the meaning it has in the
 * statement's text: a number, a plain string (no introducer, not N''), NULL. A hex or bit literal
 * is a number or a string by its context, and a typed or introduced one carries more than its
 * value, so a statement holding one is sent as text.
 */
export function isPlaceholderLiteral(v: BindValue): v is Literal {
  return v.kind === 'Number' || v.kind === 'Null' || (v.kind === 'String' && v.charset === null && !v.national);
}

/**
 * formatBound's statement with every bind variable left as a `?` and its value in `params` (the
 * formatter's text around them is the same), or null when a value is a list, missing, or not a
 * placeholder literal, or there are more than PLACEHOLDERS_MAX of them: format it as text then.
 */
export function placeholdersBound(stmt: Statement, bindVars: Readonly<Record<string, BindValue>>): PlaceholderStatement | null {
  const t = templateOf(stmt);
  if (t === null || t.vars.length > PLACEHOLDERS_MAX) return null;
  const params = new Array<Literal>(t.vars.length);
  for (let i = 0; i < t.vars.length; i++) {
    const value = bindVars[t.vars[i].name];
    if (value === undefined || !isPlaceholderLiteral(value)) return null;
    params[i] = value;
  }
  let sql = placeholderTexts.get(t);
  if (sql === undefined) {
    sql = t.parts.join('?');
    if (placeholdersIn(sql).length !== t.vars.length) sql = null;
    placeholderTexts.set(t, sql);
  }
  return sql === null ? null : { sql, params };
}

/**
 * Where the `?` placeholders of a statement's text are: outside quotes ('…' and "…" with
 * backslash escapes or doubled quotes, `…`) and comments (/* … *\/, -- and #), as MariaDB reads them.
 */
function placeholdersIn(sql: string): number[] {
  const at: number[] = [];
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i];
    if (c === "'" || c === '"' || c === '`') {
      // A doubled quote continues the same quoted text: the loop sees it as closing and reopening.
      for (i++; i < sql.length && sql[i] !== c; i++) if (sql[i] === '\\' && c !== '`') i++;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 1;
    } else if (c === '#' || (c === '-' && sql[i + 1] === '-' && (sql[i + 2] === ' ' || sql[i + 2] === '\t' || sql[i + 2] === '\n'))) {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? sql.length : end;
    } else if (c === '?') at.push(i);
  }
  return at;
}

/**
 * The text a placeholder statement stands for: each `?` replaced by its value written as the
 * formatter writes literals, i.e. what formatBound gives for the same statement and values (the
 * tablet's way back to text when MariaDB will not prepare a statement).
 */
export function splicePlaceholders(sql: string, params: readonly Literal[]): string {
  const at = placeholdersIn(sql);
  if (at.length !== params.length) throw new Error(`internal: ${params.length} values sent for ${at.length} placeholders`);
  let out = '';
  let from = 0;
  for (let n = 0; n < at.length; n++) {
    const i = at[n];
    const text = defaultFormatter.bindValue(params[n]);
    // As formatBound: `- -1` must not become the comment `--1`.
    const c = text.charCodeAt(0);
    out += sql.slice(from, i) + ((c === 45 || c === 43) && sql.charCodeAt(i - 1) === c ? ' ' : '') + text;
    from = i + 1;
  }
  return out + sql.slice(from);
}
