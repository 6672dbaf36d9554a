// Subqueries in a query planned across shards: which ride along in their route, which are pulled
// out (run first, their result bound as `::__sqN` / `:__sqN` / `:__sq_has_valuesN`), and which,
// correlated with the outer query, run per outer row at the gate.
import { rewriteExpr, rewriteQuery, type Expr, type QueryExpr, type Select, type SelectItem, type TableExpr } from '../../sql/index.js';
import { UncorrelatedSubquery, type PulloutKind } from '../engine/uncorrelated-subquery.js';
import { type CorrelatedKind } from '../engine/correlated-subquery.js';
import { references } from './cte.js';
import { notSupported } from '../errors.js';
import { TesseraError } from '../../mysql/index.js';
import type { Primitive } from '../types.js';
import { itemName } from './aggregation.js';
import { allTableNames, containsSubquery, cteNames, type PlanContext, type TableInfo } from './context.js';
import { derivedColumns, planQuery } from './select.js';

interface Pullout {
  readonly kind: PulloutKind;
  readonly name: string;
  readonly hasValues: string;
  readonly primitive: Primitive;
  /** IN: the width of the row compared (`(a, b) IN (SELECT …)` is 2). */
  readonly width: number;
  /** A scalar value: the result columns that are the subquery's value itself (they take its type). */
  valueColumns: number[];
}

/** Aliases a query defines at its own level (FROM tables and derived tables). */
function definedAliases(q: QueryExpr): Set<string> {
  const out = new Set<string>();
  const visitTable = (t: TableExpr): void => {
    if (t.kind === 'AliasedTable') {
      out.add((t.alias ?? t.table.name).toLowerCase());
      out.add(t.table.name.toLowerCase());
    } else if (t.kind === 'DerivedTable') out.add(t.alias.toLowerCase());
    else if (t.kind === 'JsonTable') {
      if (t.alias !== null) out.add(t.alias.toLowerCase());
    } else if (t.kind === 'Join') {
      visitTable(t.left);
      visitTable(t.right);
    } else t.items.forEach(visitTable);
  };
  const visit = (x: QueryExpr): void => {
    if (x.kind === 'SetOp') {
      visit(x.left);
      visit(x.right);
    } else x.from.forEach(visitTable);
  };
  visit(q);
  return out;
}

/** Whether a subquery names columns of tables it does not define (a correlated subquery). */
function isCorrelated(q: QueryExpr): boolean {
  const defined = definedAliases(q);
  let correlated = false;
  const visit = (x: QueryExpr, scope: Set<string>): void => {
    const check = (e: Expr): void => {
      rewriteExpr(e, {
        expr: (y) => {
          if (y.kind === 'Column' && y.table !== null && !scope.has(y.table.name.toLowerCase())) correlated = true;
          if (y.kind === 'Subquery' || y.kind === 'Exists') {
            const inner = new Set([...scope, ...definedAliases(y.query)]);
            visit(y.query, inner);
            return y;
          }
          if (y.kind === 'In' && y.right.kind === 'Subquery') {
            check(y.expr);
            visit(y.right.query, new Set([...scope, ...definedAliases(y.right.query)]));
            return y;
          }
          return undefined;
        },
      });
    };
    if (x.kind === 'SetOp') {
      visit(x.left, new Set([...scope, ...definedAliases(x.left)]));
      visit(x.right, new Set([...scope, ...definedAliases(x.right)]));
      return;
    }
    x.columns.forEach((c) => check(c.expr));
    if (x.where) check(x.where);
    if (x.having) check(x.having);
    x.groupBy.forEach(check);
    x.orderBy.forEach((o) => check(o.expr));
    const tables = (t: TableExpr): void => {
      if (t.kind === 'Join') {
        tables(t.left);
        tables(t.right);
        if (t.on) check(t.on);
      } else if (t.kind === 'ParenTables') t.items.forEach(tables);
      else if (t.kind === 'DerivedTable') visit(t.query, new Set([...scope, ...definedAliases(t.query)]));
    };
    x.from.forEach(tables);
  };
  visit(q, defined);
  return correlated;
}

/** Whether a query names a recursive CTE the gate evaluates. */
export function namesGateCte(ctx: PlanContext, q: QueryExpr): boolean {
  for (const name of ctx.gateCtes.keys()) if (references(q, name)) return true;
  return false;
}

/** The query of a subquery expression (scalar, EXISTS, IN, ANY/ALL), else null. */
export function subqueryOf(e: Expr): QueryExpr | null {
  if (e.kind === 'Subquery' || e.kind === 'Exists' || e.kind === 'Quantified') return e.query;
  if (e.kind === 'In' && e.right.kind === 'Subquery') return e.right.query;
  return null;
}

/** Aliases defined anywhere inside a query: its FROM, derived tables, nested subqueries, CTEs. */
function aliasesDeep(q: QueryExpr): Set<string> {
  const out = new Set<string>();
  const visitQ = (x: QueryExpr): void => {
    for (const c of x.with?.ctes ?? []) {
      out.add(c.name.toLowerCase());
      visitQ(c.query);
    }
    if (x.kind === 'SetOp') {
      visitQ(x.left);
      visitQ(x.right);
      return;
    }
    for (const a of definedAliases(x)) out.add(a);
    const tables = (t: TableExpr): void => {
      if (t.kind === 'DerivedTable') visitQ(t.query);
      else if (t.kind === 'Join') {
        tables(t.left);
        tables(t.right);
      } else if (t.kind === 'ParenTables') t.items.forEach(tables);
    };
    x.from.forEach(tables);
    rewriteQuery(x, {
      expr: (e) => {
        const sub = subqueryOf(e);
        if (sub) visitQ(sub);
        return undefined;
      },
    });
  };
  visitQ(q);
  return out;
}

/** The subquery with every column of an outer table replaced by the bind variable `bind` names. */
export function bindOuterColumns(q: QueryExpr, bind: (c: Extract<Expr, { kind: 'Column' }>) => string): QueryExpr {
  const inner = aliasesDeep(q);
  return rewriteQuery(q, {
    expr: (e) => (e.kind === 'Column' && e.table !== null && !inner.has(e.table.name.toLowerCase()) ? { kind: 'BindVar', name: bind(e), list: false } : undefined),
  });
}

/** Whether the select list or WHERE holds a correlated subquery that `canMerge` refuses. */
export function hasGateCorrelated(sel: Select, canMerge: (q: QueryExpr) => boolean): boolean {
  let found = false;
  const visit = (e: Expr): void => {
    rewriteExpr(e, {
      expr: (x) => {
        const q = subqueryOf(x);
        if (q !== null && x.kind !== 'Quantified' && !canMerge(q) && isCorrelated(q)) found = true;
        return q !== null ? x : undefined;
      },
    });
  };
  sel.columns.forEach((c) => visit(c.expr));
  if (sel.where) visit(sel.where);
  return found;
}

/** The pseudo table whose columns are the values CorrelatedSubquery primitives append. */
export const CORR_TABLE = '__corr';

export function isCorrColumn(e: Expr): boolean {
  return e.kind === 'Column' && e.table !== null && e.table.schema === null && e.table.name === CORR_TABLE;
}

/**
 * Why the shards cannot answer a subquery inside the outer query, and what VSchema change would
 * let them (VEXPLAIN shows it beside the gate-evaluated part).
 */
export function subqueryReason(ctx: PlanContext, outer: readonly TableInfo[], q: QueryExpr): string {
  const ctes = cteNames(q);
  const inner = allTableNames(q).filter((t) => !(t.schema === null && ctes.has(t.name.toLowerCase()))).map((t) => ctx.resolveTable(t));
  const outerSharded = outer.filter((t) => t.kind === 'sharded');
  const ks = outerSharded[0]?.keyspace ?? outer[0]?.keyspace;
  for (const t of inner) {
    if (t.kind === 'dba' || t.kind === 'dual' || t.kind === 'reference') continue;
    if (t.keyspace !== ks) {
      return `${t.table} lives in keyspace ${t.keyspace}, the outer rows in ${ks}: make ${t.table} a reference table in ${ks} so every shard holds its rows`;
    }
    if (t.kind === 'sharded') {
      const v = ctx.primaryVindex(t);
      const o = outerSharded.map((x) => `${x.alias}.${ctx.primaryVindex(x)?.column ?? '?'}`).join(' or ');
      return `the subquery reads ${t.table} rows of every shard: it is not tied to the outer row's shard by ${t.table}.${v?.column ?? '?'} = ${o}; correlate on the primary vindex column, or give the correlated column a vindex (a lookup vindex) so the shards can answer it alone`;
    }
  }
  return 'the subquery and the outer query do not run on the same shards';
}

/**
 * Replaces subqueries that cannot go along with the outer query's route by bind variables, and
 * returns what to run first. `canMerge` says whether a subquery can stay inside the outer query.
 */
export function pullOutSubqueries(
  ctx: PlanContext, sel: Select, sql: string | null, canMerge: (q: QueryExpr) => boolean,
  onCorrelated?: (kind: CorrelatedKind, q: QueryExpr, left?: Expr) => Expr,
): { sel: Select; pullouts: Pullout[] } {
  const pullouts: Pullout[] = [];
  const pull = (kind: PulloutKind, q: QueryExpr, width = 1): Pullout => {
    if (isCorrelated(q)) throw notSupported('a correlated subquery across shards here (in HAVING, ORDER BY or a join condition)');
    const names = ctx.nextSubqueryNames();
    const p: Pullout = { kind, name: names.name, hasValues: names.hasValues, primitive: planQuery(ctx, q, sql), width, valueColumns: [] };
    pullouts.push(p);
    return p;
  };
  const num = (n: string): Expr => ({ kind: 'Number', text: n, numType: 'int' });
  const rw = (e: Expr): Expr =>
    rewriteExpr(e, {
      expr: (x) => {
        if (x.kind === 'In' && x.right.kind === 'Subquery') {
          if (canMerge(x.right.query)) return undefined;
          if (onCorrelated && isCorrelated(x.right.query)) {
            if (x.expr.kind === 'Tuple') throw notSupported('a row IN a correlated subquery across shards ((a, b) IN (SELECT …))');
            const v = onCorrelated('In', x.right.query, rw(x.expr));
            return x.not ? { kind: 'Unary', op: 'NOT', expr: v } : v;
          }
          const p = pull(x.not ? 'PulloutNotIn' : 'PulloutIn', x.right.query, x.expr.kind === 'Tuple' ? x.expr.items.length : 1);
          const inner: Expr = { kind: 'In', expr: rw(x.expr), not: x.not, right: { kind: 'BindVar', name: p.name, list: true } };
          const guard: Expr = { kind: 'Binary', op: '=', left: { kind: 'BindVar', name: p.hasValues, list: false }, right: num(x.not ? '0' : '1') };
          return x.not ? { kind: 'Binary', op: 'OR', left: guard, right: inner } : { kind: 'Binary', op: 'AND', left: guard, right: inner };
        }
        if (x.kind === 'Binary' && ((x.left.kind === 'Tuple' && x.right.kind === 'Subquery') || (x.right.kind === 'Tuple' && x.left.kind === 'Subquery'))) {
          const sq = x.left.kind === 'Subquery' ? x.left : x.right;
          // A row compared with a row subquery: its value is a row, which no bind variable holds.
          if (sq.kind === 'Subquery' && !canMerge(sq.query)) throw notSupported('a row subquery ((a, b) = (SELECT a, b …)) across shards; use (a, b) IN (SELECT a, b …)');
        }
        if (x.kind === 'Exists') {
          if (canMerge(x.query)) return undefined;
          if (onCorrelated && isCorrelated(x.query)) return onCorrelated('Exists', x.query);
          const p = pull('PulloutExists', x.query);
          return { kind: 'Binary', op: '=', left: { kind: 'BindVar', name: p.hasValues, list: false }, right: num('1') };
        }
        if (x.kind === 'Subquery') {
          if (canMerge(x.query)) return undefined;
          if (onCorrelated && isCorrelated(x.query)) return onCorrelated('Value', x.query);
          const p = pull('PulloutValue', x.query);
          return { kind: 'BindVar', name: p.name, list: false };
        }
        if (x.kind === 'Quantified') {
          if (canMerge(x.query)) return undefined;
          if (isCorrelated(x.query)) throw notSupported('a correlated ANY/ALL subquery across shards; write it with EXISTS');
          return rw(quantifiedAsCase(x, sql));
        }
        return undefined;
      },
    });
  const columns: SelectItem[] = sel.columns.map((c) => {
    if (!containsSubquery(c.expr)) return c;
    // Keep the column's name as written although its expression changes.
    return { ...c, expr: rw(c.expr), alias: c.alias ?? itemName(c, sql) };
  });
  // A select item that is nothing but a scalar subquery's value is typed as MariaDB types it: as
  // the subquery's column (result offsets are the items' own while no `*` precedes them).
  const firstStar = columns.findIndex((c) => c.expr.kind === 'Star');
  columns.forEach((c, i) => {
    if (firstStar >= 0 && firstStar < i) return;
    const e = c.expr;
    if (e.kind !== 'BindVar' || e.list) return;
    pullouts.find((p) => p.kind === 'PulloutValue' && p.name === e.name)?.valueColumns.push(i);
  });
  const out: Select = {
    ...sel,
    columns,
    where: sel.where === null ? null : rw(sel.where),
    having: sel.having === null ? null : rewriteExpr(sel.having, {
      expr: (x) => {
        const q = x.kind === 'Subquery' || x.kind === 'Exists' ? x.query : x.kind === 'In' && x.right.kind === 'Subquery' ? x.right.query : null;
        if (q !== null && onCorrelated && !canMerge(q) && isCorrelated(q)) throw notSupported('a correlated subquery in HAVING across shards');
        return undefined;
      },
    }),
  };
  if (out.having !== null) (out as { having: Expr | null }).having = rw(out.having);
  return { sel: out, pullouts };
}

/**
 * `x op ANY|ALL (SELECT y …)` the shards cannot answer with the subquery inside: `= ANY` is IN and
 * `<> ALL` NOT IN; the others compare x with the subquery's MIN or MAX, with SQL's rules for an
 * empty subquery, a NULL x and NULL values (COUNT(*) against COUNT(y)). Each aggregate is an
 * uncorrelated scalar subquery over the subquery as a derived table, pulled out as usual.
 */
function quantifiedAsCase(x: Extract<Expr, { kind: 'Quantified' }>, sql: string | null): Expr {
  const all = x.quantifier === 'ALL';
  if (x.op === '=' && !all) return { kind: 'In', expr: x.left, not: false, right: { kind: 'Subquery', query: x.query } };
  if (x.op === '<>' && all) return { kind: 'In', expr: x.left, not: true, right: { kind: 'Subquery', query: x.query } };
  if (x.op === '<=>') throw notSupported('<=> ANY/ALL across shards');
  const cols = derivedColumns(x.query, null, sql);
  if (cols.length !== 1) throw new TesseraError({ errno: 1241, sqlState: '21000' }, 'Operand should contain 1 column(s)');
  const alias = '__quantified';
  const col: Expr = { kind: 'Column', table: { kind: 'TableName', schema: null, name: alias }, name: cols[0] };
  const agg = (name: string, arg: Expr): Expr => ({
    kind: 'Subquery',
    query: {
      kind: 'Select', with: null, hints: null, distinct: false, options: [],
      columns: [{ expr: { kind: 'Func', schema: null, name, args: [arg], distinct: false, bare: false, over: null }, alias: null, start: -1, end: -1 }],
      from: [{ kind: 'DerivedTable', lateral: false, query: x.query, alias, columns: [cols[0]] }], where: null,
      groupBy: [], rollup: false, having: null, windows: [], orderBy: [], limit: null, lock: null, into: null, start: -1, end: -1,
    },
  });
  const cnt = agg('COUNT', { kind: 'Star', table: null });
  const nn = agg('COUNT', col);
  const cmp = (op: Extract<Expr, { kind: 'Binary' }>['op'], right: Expr): Expr => ({ kind: 'Binary', op, left: x.left, right });
  const num = (n: string): Expr => ({ kind: 'Number', text: n, numType: 'int' });
  const nul: Expr = { kind: 'Null' };
  // The test that is true for some value (ANY) or false for some value (ALL, negated below).
  let test: Expr;
  if (x.op === '<>') test = { kind: 'Binary', op: 'OR', left: cmp('<>', agg('MIN', col)), right: cmp('<>', agg('MAX', col)) };
  else if (x.op === '=') test = { kind: 'Binary', op: 'AND', left: cmp('=', agg('MIN', col)), right: cmp('=', agg('MAX', col)) };
  else {
    const lower = x.op === '<' || x.op === '<=';
    // ANY: x < some y ⟺ x < MAX; ALL: x < every y ⟺ x < MIN (and the mirror for > and >=).
    test = cmp(x.op, agg(lower === all ? 'MIN' : 'MAX', col));
  }
  const whens = [
    { when: { kind: 'Binary', op: '=', left: cnt, right: num('0') } as Expr, then: num(all ? '1' : '0') },
    { when: { kind: 'Is', expr: x.left, not: false, value: 'NULL' } as Expr, then: nul },
    all
      ? { when: { kind: 'Binary', op: 'AND', left: { kind: 'Binary', op: '>', left: nn, right: num('0') }, right: { kind: 'Unary', op: 'NOT', expr: test } } as Expr, then: num('0') }
      : { when: test, then: num('1') },
    { when: { kind: 'Binary', op: '<', left: nn, right: cnt } as Expr, then: nul },
  ];
  return { kind: 'Case', operand: null, whens, else: num(all ? '1' : '0') };
}

export function wrapPullouts(p: Primitive, pullouts: readonly Pullout[]): Primitive {
  let out = p;
  for (let i = pullouts.length - 1; i >= 0; i--) {
    const s = pullouts[i];
    out = new UncorrelatedSubquery(s.kind, s.name, s.hasValues, s.primitive, out, s.width, s.valueColumns);
  }
  return out;
}
