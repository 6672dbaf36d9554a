// SELECT and UNION planning.
//
// 1. A query whose tables all live together (one unsharded keyspace, only reference tables,
//    information_schema, or a shard the session targets) goes whole to one Route.
// 2. Otherwise uncorrelated subqueries that cannot ride along are pulled out (run first, their
//    result bound as `::__sqN` / `:__sqN` / `:__sq_has_valuesN`; subqueries.ts).
// 3. FROM is flattened into joins and grouped into units: tables that can run as one query (same
//    unsharded keyspace; same sharded keyspace joined on their primary vindex columns; reference
//    tables) share a unit. One unit → a Route whose opcode comes from the vindex predicates, with
//    aggregation, ORDER BY and LIMIT split between the shards and the gate. Several units → a
//    nested-loop Join tree with the join predicates bound from the left, and the rest of the query
//    evaluated at the gate.
import {
  and, format, formatExpr, rewriteExpr, type Expr, type OrderItem, type QueryExpr, type Select, type SelectItem, type SetOp, type TableExpr,
} from '../../sql/index.js';
import { Concatenate } from '../engine/concatenate.js';
import { SetOperation } from '../engine/set-operation.js';
import { Distinct } from '../engine/distinct.js';
import { Filter } from '../engine/filter.js';
import { Join } from '../engine/join.js';
import { Limit } from '../engine/limit.js';
import { MemorySort } from '../engine/memory-sort.js';
import { compileExprType } from '../engine/expr-type.js';
import { Projection, type ProjectedColumn } from '../engine/projection.js';
import { IN_VALUES_BIND_VAR, Route, type OrderByOffset, type RouteOpcode } from '../engine/route.js';
import { CorrelatedSubquery, type CorrelatedKind } from '../engine/correlated-subquery.js';
import { Window, type WindowCall, type WindowFn } from '../engine/window.js';
import { inlineCtes } from './cte.js';
import { gateError, notSupported } from '../errors.js';
import { compileExpr } from '../evaluate.js';
import type { Primitive } from '../types.js';
import type { CollationHint } from '../values.js';
import { itemName, matchItem, planGateSelect, type Producer } from './aggregation.js';
import {
  allTableNames, chooseRouting, columnsIn, containsAggregate, containsSubquery, cteNames, exprKey, flattenFrom, predicatesOf, stripQualifiers, stripQualifiersExpr,
  type PlanContext, type RoutingChoice, type TableInfo,
} from './context.js';

import { CORR_TABLE, bindOuterColumns, hasGateCorrelated, isCorrColumn, namesGateCte, pullOutSubqueries, subqueryOf, subqueryReason, wrapPullouts } from './subqueries.js';
/** Plans a SELECT or UNION; `sql` is the original text (column names). */
export function planQuery(ctx: PlanContext, q: QueryExpr, sql: string | null): Primitive {
  if (q.into !== null) {
    // INTO @v on one shard: the executor runs it on the session's reserved connection and reads
    // the variables back. Anywhere else each shard would assign its own values; OUTFILE would
    // write on the tablet's host.
    const one = q.into.type === 'VARIABLES' ? wholeQueryRoute(ctx, q) : undefined;
    if (one !== undefined && (one.spec.opcode === 'Unsharded' || one.spec.opcode === 'ByDestination')) return one;
    throw notSupported('SELECT … INTO');
  }
  const whole = wholeQueryRoute(ctx, q);
  if (whole) return whole;
  if (q.with !== null) {
    const inlined = inlineCtes(ctx, q, (x) => planQuery(ctx, x, sql), (x, explicit) => derivedColumns(x, explicit, sql));
    return planQuery(ctx, inlined, sql);
  }
  if (q.kind === 'SetOp') return planSetOp(ctx, q, sql);
  return planSelect(ctx, q, sql);
}

function routeFor(ctx: PlanContext, opcode: RouteOpcode, keyspace: string, q: QueryExpr, tables: readonly TableInfo[], extra?: Partial<ConstructorParameters<typeof Route>[0]>): Route {
  const sharded = ctx.vschema.keyspaces[keyspace]?.sharded ?? false;
  const rename = new Map<string, string>();
  for (const t of tables) if (t.table !== t.name.name) rename.set((t.name.schema ?? '') + '.' + t.name.name, t.table);
  return new Route({
    opcode,
    keyspace,
    sharded,
    query: stripQualifiers(q, ctx, rename),
    tables: [...new Set(tables.filter((t) => t.kind !== 'dual').map((t) => t.table))],
    ...extra,
  });
}

/** The whole statement as one Route, when its tables allow it; else undefined. */
function wholeQueryRoute(ctx: PlanContext, q: QueryExpr): Route | undefined {
  const ctes = cteNames(q);
  if (namesGateCte(ctx, q)) return undefined;
  const tables = allTableNames(q)
    .filter((t) => !(t.schema === null && ctes.has(t.name.toLowerCase())))
    .map((t) => ctx.resolveTable(t));
  if (ctx.target.shard !== null) {
    const ks = ctx.target.keyspace!;
    return routeFor(ctx, 'ByDestination', ks, q, tables, { shard: ctx.target.shard });
  }
  const real = tables.filter((t) => t.kind !== 'dual');
  if (real.length === 0) {
    const ks = ctx.anyKeyspace();
    return routeFor(ctx, ctx.vschema.keyspaces[ks]?.sharded ? 'Reference' : 'Unsharded', ks, q, tables);
  }
  if (real.every((t) => t.kind === 'dba')) return routeFor(ctx, 'DBA', ctx.anyKeyspace(), q, tables);
  const keyspaces = new Set(real.filter((t) => t.kind !== 'dba').map((t) => t.keyspace));
  if (keyspaces.size !== 1) {
    // Reference tables copied from an unsharded keyspace can be read there.
    const unsharded = real.filter((t) => t.kind === 'unsharded');
    if (unsharded.length === 0) return undefined;
    const ks = unsharded[0].keyspace;
    if (!real.every((t) => t.kind === 'dba' || t.keyspace === ks || (t.kind === 'reference' && t.vschema?.source?.split('.')[0] === ks))) return undefined;
    return routeFor(ctx, 'Unsharded', ks, q, tables);
  }
  const ks = [...keyspaces][0];
  if (!ctx.vschema.keyspaces[ks]?.sharded) return routeFor(ctx, 'Unsharded', ks, q, tables);
  if (real.every((t) => t.kind === 'reference' || t.kind === 'dba')) return routeFor(ctx, 'Reference', ks, q, tables);
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// UNION

function planSetOp(ctx: PlanContext, q: SetOp, sql: string | null): Primitive {
  if (q.op !== 'UNION') return finishSetOp(q, new SetOperation(q.op, q.all, planQuery(ctx, q.left, sql), planQuery(ctx, q.right, sql)));
  const parts: Primitive[] = [];
  const flatten = (x: QueryExpr, distinctAbove: boolean): void => {
    if (x.kind === 'SetOp' && x.op === 'UNION' && x.orderBy.length === 0 && x.limit === null && (x.all || !distinctAbove || true)) {
      if (x.all !== q.all) throw notSupported('mixing UNION and UNION ALL across shards');
      flatten(x.left, distinctAbove);
      flatten(x.right, distinctAbove);
      return;
    }
    parts.push(planQuery(ctx, x, sql));
  };
  flatten(q.left, !q.all);
  flatten(q.right, !q.all);
  let p: Primitive = new Concatenate(parts);
  if (!q.all) p = new Distinct(p);
  return finishSetOp(q, p);
}

/** A set operation's own ORDER BY and LIMIT, at the gate. */
function finishSetOp(q: SetOp, p0: Primitive): Primitive {
  let p = p0;
  if (q.orderBy.length) {
    const first = firstSelect(q);
    const order: OrderByOffset[] = q.orderBy.map((o) => {
      const i = matchItem(o.expr, first.columns, true);
      if (i < 0) throw notSupported(`ORDER BY ${formatExpr(o.expr)} on a UNION across shards`);
      return { offset: i, desc: o.direction === 'DESC' };
    });
    p = new MemorySort(p, order);
  }
  checkMergeableLimit(q.limit);
  if (q.limit) p = new Limit(p, q.limit.count, q.limit.offset);
  return p;
}

/** FETCH … WITH TIES and LIMIT … ROWS EXAMINED are MariaDB's to apply: one shard only. */
function checkMergeableLimit(l: Select['limit']): void {
  if (l?.withTies) throw notSupported('FETCH FIRST … WITH TIES across shards; target one shard (USE ks:shard) or use LIMIT');
  if (l?.examined !== undefined) throw notSupported('LIMIT … ROWS EXAMINED across shards; target one shard (USE ks:shard)');
}

function firstSelect(q: QueryExpr): Select {
  return q.kind === 'Select' ? q : firstSelect(q.left);
}

// ---------------------------------------------------------------------------------------------
// Units

interface RouteUnit {
  readonly kind: 'route';
  readonly keyspace: string;
  tables: TableInfo[];
  from: TableExpr;
  /** Predicates pushed into this unit's WHERE. */
  preds: Expr[];
  /** How this unit joins the units before it. */
  readonly joinType: 'inner' | 'left' | null;
  /** Why it could not join the units before it inside one query (VEXPLAIN). */
  readonly reason?: string;
}

interface DerivedUnit {
  readonly kind: 'derived';
  readonly reason?: string;
  readonly alias: string;
  readonly primitive: Primitive;
  readonly columns: readonly string[];
  readonly joinType: 'inner' | 'left' | null;
}

type Unit = RouteUnit | DerivedUnit;

function unitSharded(ctx: PlanContext, u: RouteUnit): boolean {
  return u.tables.some((t) => t.kind === 'sharded');
}

function tableOfColumn(units: readonly Unit[], e: Expr): { unit: number; table?: TableInfo; column: string } | undefined {
  if (e.kind !== 'Column') return undefined;
  const q = e.table?.name.toLowerCase();
  if (q !== undefined) {
    for (let i = 0; i < units.length; i++) {
      const u = units[i];
      if (u.kind === 'derived') {
        if (u.alias.toLowerCase() === q) return { unit: i, column: e.name };
        continue;
      }
      const t = u.tables.find((x) => x.alias.toLowerCase() === q);
      if (t) return { unit: i, table: t, column: e.name };
    }
    return undefined;
  }
  if (units.length === 1) {
    const u = units[0];
    if (u.kind === 'route' && u.tables.length === 1) return { unit: 0, table: u.tables[0], column: e.name };
    if (u.kind === 'route') {
      // Unqualified in a join: the table whose vschema lists the column, or whose vindex column it is.
      const owners = u.tables.filter((t) => t.vschema?.columns.some((c) => c.name.toLowerCase() === e.name.toLowerCase()) || t.vschema?.columnVindexes.some((cv) => cv.columns.some((c) => c.toLowerCase() === e.name.toLowerCase())));
      if (owners.length === 1) return { unit: 0, table: owners[0], column: e.name };
      return { unit: 0, column: e.name };
    }
    return { unit: 0, column: e.name };
  }
  // Several units: a derived table's column names are known.
  const matches: number[] = [];
  units.forEach((u, i) => {
    if (u.kind === 'derived' && u.columns.some((c) => c.toLowerCase() === e.name.toLowerCase())) matches.push(i);
    if (u.kind === 'route' && u.tables.some((t) => t.vschema?.columns.some((c) => c.name.toLowerCase() === e.name.toLowerCase()))) matches.push(i);
  });
  if (matches.length === 1) {
    const u = units[matches[0]];
    return { unit: matches[0], table: u.kind === 'route' ? u.tables.find((t) => t.vschema?.columns.some((c) => c.name.toLowerCase() === e.name.toLowerCase())) : undefined, column: e.name };
  }
  throw notSupported(`the unqualified column ${e.name} in a query across shards or keyspaces; qualify it with its table`);
}

/** Units an expression's columns belong to. */
function unitsOf(units: readonly Unit[], e: Expr): Set<number> {
  const out = new Set<number>();
  for (const c of columnsIn(e)) {
    const r = tableOfColumn(units, c);
    if (r === undefined) throw gateError(`Unknown column '${c.table ? c.table.name + '.' : ''}${c.name}'`);
    out.add(r.unit);
  }
  return out;
}

/** Whether `t` can join unit `u` inside one query, given the join predicates. */
function canMergeInto(ctx: PlanContext, u: RouteUnit, t: TableInfo, preds: readonly Expr[]): boolean {
  if (t.kind === 'dba' || t.kind === 'dual') return u.tables.every((x) => x.kind === 'dba' || x.kind === 'dual');
  if (u.tables.some((x) => x.kind === 'dba')) return false;
  if (t.keyspace !== u.keyspace) return false;
  if (t.kind === 'reference' || t.kind === 'unsharded') return true;
  if (u.tables.every((x) => x.kind === 'reference')) return true;
  // Both sharded in one keyspace: co-located when joined on their primary vindex columns.
  const tv = ctx.primaryVindex(t);
  if (!tv) return false;
  for (const p of preds) {
    if (p.kind !== 'Binary' || p.op !== '=' || p.left.kind !== 'Column' || p.right.kind !== 'Column') continue;
    for (const [a, b] of [[p.left, p.right], [p.right, p.left]] as const) {
      if (a.table?.name.toLowerCase() !== t.alias.toLowerCase() || a.name.toLowerCase() !== tv.column.toLowerCase()) continue;
      const other = u.tables.find((x) => x.alias.toLowerCase() === b.table?.name.toLowerCase());
      if (!other || other.kind !== 'sharded') continue;
      const ov = ctx.primaryVindex(other);
      if (ov && ov.column.toLowerCase() === b.name.toLowerCase() && (ov.vindex.name === tv.vindex.name || (ov.vindex.type === tv.vindex.type && JSON.stringify(ov.vindex.params) === JSON.stringify(tv.vindex.params)))) return true;
    }
  }
  return false;
}

export function derivedColumns(q: QueryExpr, explicit: readonly string[] | null, sql: string | null): string[] {
  if (explicit) return [...explicit];
  const s = firstSelect(q);
  return s.columns.map((c) => {
    if (c.expr.kind === 'Star') throw notSupported('SELECT * in a derived table across shards');
    return itemName(c, sql);
  });
}

// ---------------------------------------------------------------------------------------------
// SELECT

function planSelect(ctx: PlanContext, sel0: Select, sql: string | null): Primitive {
  if (sel0.windows.length) throw notSupported('named windows (WINDOW w AS …) across shards; write the window in OVER (…)');
  if (sel0.orderBy.some((o) => hasWindow(o.expr)) || (sel0.where !== null && hasWindow(sel0.where)) || (sel0.having !== null && hasWindow(sel0.having))) {
    throw notSupported('a window function outside the select list across shards; name it in the select list and ORDER BY its alias');
  }
  if (sel0.rollup && (sel0.orderBy.length || sel0.distinct)) throw notSupported('WITH ROLLUP with ORDER BY or DISTINCT across shards');
  if (sel0.options.includes('SQL_CALC_FOUND_ROWS')) throw notSupported('SQL_CALC_FOUND_ROWS across shards');
  if (sel0.procedure) throw notSupported('SELECT … PROCEDURE ANALYSE() across shards; target one shard (USE ks:shard)');
  if (sel0.groupByOrder) throw notSupported('GROUP BY … ASC/DESC across shards; write the order in ORDER BY');

  if (hasUsing(sel0.from)) sel0 = resolveUsing(ctx, sel0);
  // Units from FROM.
  const steps = flattenFrom(sel0.from);
  if (steps.length === 0) {
    // No FROM, and subqueries from places no one route reaches (`SELECT (SELECT COUNT(*) FROM
    // customer.customer), (SELECT COUNT(*) FROM commerce.product)`): every subquery runs first and
    // the select list, left with their values bound, is answered by any one shard.
    const { sel, pullouts } = pullOutSubqueries(ctx, sel0, sql, () => false);
    const ks = ctx.anyKeyspace();
    return wrapPullouts(routeFor(ctx, ctx.vschema.keyspaces[ks]?.sharded ? 'Reference' : 'Unsharded', ks, sel, []), pullouts);
  }
  const wherePreds = predicatesOf(sel0.where);
  const units: Unit[] = [];
  const onPreds: Expr[][] = [];
  for (const step of steps) {
    const t = step.table;
    const preds = predicatesOf(step.on);
    if (t.kind === 'DerivedTable') {
      if (t.lateral) throw notSupported('LATERAL derived tables');
      const inner = planQuery(ctx, t.query, sql);
      units.push({ kind: 'derived', alias: t.alias, primitive: inner, columns: derivedColumns(t.query, t.columns, sql), joinType: step.type, reason: `the derived table ${t.alias} is joined at the gate: a derived table joins inside a route only when the whole query runs on one route` });
      onPreds.push(preds);
      continue;
    }
    if (t.kind === 'JsonTable') throw notSupported('JSON_TABLE in a query that spans shards; it runs as written when the whole query goes to one unsharded keyspace or one targeted shard (USE ks:shard)');
    if (t.kind !== 'AliasedTable') throw new Error('planner: flattened FROM holds a join');
    const gateCte = t.table.schema === null ? ctx.gateCtes.get(t.table.name.toLowerCase()) : undefined;
    if (gateCte) {
      units.push({ kind: 'derived', alias: t.alias ?? t.table.name, primitive: gateCte.primitive, columns: gateCte.columns, joinType: step.type, reason: `the recursive CTE ${t.table.name} is evaluated at the gate` });
      onPreds.push(preds);
      continue;
    }
    const info = { ...ctx.resolveTable(t.table), alias: t.alias ?? t.table.name };
    // Inner joins may merge into any unit; a LEFT JOIN only into the unit right before it when it is the only one.
    const candidates = step.type === 'left' ? (units.length === 1 ? [0] : []) : units.map((_, i) => i);
    let merged = false;
    for (const i of candidates) {
      const u = units[i];
      if (u.kind !== 'route') continue;
      const joinPreds = step.type === 'left' ? preds : [...preds, ...wherePreds];
      if (!canMergeInto(ctx, u, info, joinPreds)) continue;
      const keyspace = u.tables.every((x) => x.kind === 'reference') && info.kind !== 'reference' ? info.keyspace : u.keyspace;
      const joined: TableExpr = { kind: 'Join', type: step.type === 'left' ? 'LEFT' : 'JOIN', left: u.from, right: t, on: step.on, using: null };
      units[i] = { ...u, keyspace, tables: [...u.tables, info], from: joined };
      merged = true;
      break;
    }
    if (!merged) {
      const reason = units.length ? joinReason(ctx, units, info, step.type === 'left' ? preds : [...preds, ...wherePreds], step.type) : undefined;
      units.push({ kind: 'route', keyspace: info.keyspace, tables: [info], from: t, preds: [], joinType: step.type, reason });
      onPreds.push(preds);
    }
  }

  if (units.length === 1 && units[0].kind === 'route') return planSingleRoute(ctx, sel0, units[0], sql);
  return planJoin(ctx, sel0, units, onPreds, sql);
}

/**
 * Window functions the shards can compute alone: every one partitions by the primary vindex
 * column of a sharded table of the route (a partition then lives on one shard), and the query
 * has no aggregation the gate would finish first.
 */
function windowsPushable(ctx: PlanContext, unit: RouteUnit, sel: Select): boolean {
  if (sel.distinct || sel.groupBy.length || sel.columns.some((c) => containsAggregate(c.expr))) return false;
  let ok = true;
  for (const c of sel.columns) {
    rewriteExpr(c.expr, {
      expr: (x) => {
        if (x.kind !== 'Func' || x.over === null) return undefined;
        if (typeof x.over === 'string' || x.over.base !== null) ok = false;
        else {
          ok &&= x.over.partitionBy.some((p) => {
            const r = p.kind === 'Column' ? tableOfColumn([unit], p) : undefined;
            const v = r?.table?.kind === 'sharded' ? ctx.primaryVindex(r.table) : undefined;
            return v !== undefined && v.column.toLowerCase() === r!.column.toLowerCase();
          });
        }
        return x;
      },
    });
  }
  return ok;
}

/** Why window functions run at the gate (VEXPLAIN). */
function windowReason(ctx: PlanContext, tables: readonly TableInfo[]): string {
  const sharded = tables.filter((t) => t.kind === 'sharded');
  const cols = sharded.map((t) => `${t.alias}.${ctx.primaryVindex(t)?.column ?? '?'}`);
  return `a window partition spans shards: PARTITION BY ${cols.length ? cols.join(' or ') : 'the sharding key'} (the primary vindex column) would let each shard compute it alone`;
}

/**
 * Why table `t` could not join the units before it inside one shard query, and which VSchema
 * change would let it (VEXPLAIN's GateReason on the Join).
 */
function joinReason(ctx: PlanContext, units: readonly Unit[], t: TableInfo, preds: readonly Expr[], type: 'inner' | 'left' | null): string {
  const routes = units.filter((u): u is RouteUnit => u.kind === 'route');
  const others = routes.flatMap((u) => u.tables);
  const names = others.map((x) => x.table).join(', ') || 'the derived tables';
  if (type === 'left' && units.length > 1) return `a LEFT JOIN of ${t.table} after a join the gate evaluates: the shards can only run it inside one route`;
  if (t.kind === 'dba' || others.some((x) => x.kind === 'dba')) return 'information_schema tables and keyspace tables are read separately';
  const foreign = others.find((x) => x.keyspace !== t.keyspace);
  if (foreign) {
    const small = t.kind === 'unsharded' ? t : foreign.kind === 'unsharded' ? foreign : undefined;
    const other = small === t ? foreign : t;
    return small
      ? `${t.table} (keyspace ${t.keyspace}) and ${foreign.table} (keyspace ${foreign.keyspace}) live in different keyspaces: declaring ${small.table} a reference table in keyspace ${other.keyspace} (copied there by Materialize) lets the shards join it alone`
      : `${t.table} (keyspace ${t.keyspace}) and ${foreign.table} (keyspace ${foreign.keyspace}) live in different sharded keyspaces: moving them into one keyspace with the same vindex on the join columns lets the shards join them`;
  }
  const tv = ctx.primaryVindex(t);
  // The equalities between `t` and the tables before it.
  const eqs: string[] = [];
  for (const p of preds) {
    if (p.kind !== 'Binary' || p.op !== '=' || p.left.kind !== 'Column' || p.right.kind !== 'Column') continue;
    for (const [a, b] of [[p.left, p.right], [p.right, p.left]] as const) {
      if (a.table?.name.toLowerCase() !== t.alias.toLowerCase()) continue;
      const o = others.find((x) => x.alias.toLowerCase() === b.table?.name.toLowerCase());
      if (o) eqs.push(`${t.alias}.${a.name} = ${o.alias}.${b.name} (${t.table}'s ${a.name}: ${tv?.column.toLowerCase() === a.name.toLowerCase() ? 'its primary vindex column' : 'no vindex'}; ${o.table}'s ${b.name}: ${ctx.primaryVindex(o)?.column.toLowerCase() === b.name.toLowerCase() ? 'its primary vindex column' : 'no vindex'})`);
    }
  }
  const vcols = [t, ...others].filter((x) => x.kind === 'sharded').map((x) => `${x.alias}.${ctx.primaryVindex(x)?.column ?? '?'}`).join(', ');
  if (eqs.length === 0) return `${t.table} is not joined to ${names} on their primary vindex columns (${vcols}): each shard holds only part of the rows to match; join on those columns, or declare the smaller table a reference table`;
  return `${t.table} joins ${names} on ${eqs.join(' and ')}, not on both tables' primary vindex columns (${vcols}): rows that match may live on different shards; sharding both tables by the join column with the same vindex, a lookup vindex on the join column, or making the smaller table a reference table lets the shards join them alone`;
}

/** Whether FROM holds a JOIN … USING. */
function hasUsing(from: readonly TableExpr[]): boolean {
  const visit = (t: TableExpr): boolean =>
    t.kind === 'Join' ? t.using !== null || visit(t.left) || visit(t.right) : t.kind === 'ParenTables' ? t.items.some(visit) : false;
  return from.some(visit);
}

/**
 * `a JOIN b USING (c)` as `a JOIN b ON a.c = b.c`, with the unqualified `c` elsewhere in the query
 * naming the joined column (the left table's for JOIN and LEFT JOIN, the right's for RIGHT JOIN), as
 * MariaDB coalesces it. `SELECT *` lists `c` once and is expanded by the gate first.
 */
function resolveUsing(ctx: PlanContext, sel: Select): Select {
  if (sel.columns.some((c) => c.expr.kind === 'Star' && c.expr.table === null)) throw notSupported('SELECT * over JOIN … USING across shards');
  const coalesced = new Map<string, Expr>();
  const col = (alias: string, name: string): Expr => ({ kind: 'Column', table: { kind: 'TableName', schema: null, name: alias }, name });
  const hasColumn = (t: TableExpr, name: string): boolean => {
    if (t.kind !== 'AliasedTable') return false;
    const info = ctx.resolveTable(t.table);
    return info.vschema?.columns.some((c) => c.name.toLowerCase() === name.toLowerCase()) ?? false;
  };
  const leaves = (t: TableExpr): TableExpr[] => (t.kind === 'Join' ? [...leaves(t.left), ...leaves(t.right)] : t.kind === 'ParenTables' ? t.items.flatMap(leaves) : [t]);
  const aliasOf = (t: TableExpr): string => (t.kind === 'AliasedTable' ? t.alias ?? t.table.name : t.kind === 'DerivedTable' ? t.alias : '');
  // The column `name` of one side of a USING join.
  const side = (t: TableExpr, name: string, local: Map<string, Expr>): Expr => {
    const ls = leaves(t);
    if (ls.length === 1) return col(aliasOf(ls[0]), name);
    const seen = local.get(name.toLowerCase());
    if (seen) return seen;
    const owners = ls.filter((l) => hasColumn(l, name));
    if (owners.length === 1) return col(aliasOf(owners[0]), name);
    throw notSupported(`JOIN … USING (${name}) after a join across shards: which table's ${name} is meant is not known; write ON with qualified columns`);
  };
  const conv = (t: TableExpr, local: Map<string, Expr>): TableExpr => {
    if (t.kind === 'ParenTables') return { ...t, items: t.items.map((x) => conv(x, local)) };
    if (t.kind !== 'Join') return t;
    const left = conv(t.left, local);
    const right = conv(t.right, local);
    if (t.using === null) return { ...t, left, right };
    if (t.type.startsWith('NATURAL')) throw notSupported('NATURAL JOIN across shards');
    let on: Expr | null = t.on;
    for (const name of t.using) {
      const l = side(left, name, local);
      const r = side(right, name, local);
      const eq: Expr = { kind: 'Binary', op: '=', left: l, right: r };
      on = on === null ? eq : and(on, eq);
      local.set(name.toLowerCase(), t.type === 'RIGHT' ? r : l);
    }
    return { ...t, left, right, on, using: null };
  };
  const from = sel.from.map((t) => conv(t, coalesced));
  const aliases = new Set(sel.columns.filter((c) => c.alias !== null).map((c) => c.alias!.toLowerCase()));
  const rw = (e: Expr, orderBy = false): Expr =>
    rewriteExpr(e, {
      expr: (x) => {
        if (subqueryOf(x) !== null) return x;
        if (x.kind !== 'Column' || x.table !== null) return undefined;
        if (orderBy && aliases.has(x.name.toLowerCase())) return x;
        return coalesced.get(x.name.toLowerCase());
      },
    });
  return {
    ...sel,
    from,
    columns: sel.columns.map((c) => (c.expr.kind === 'Column' && c.expr.table === null && coalesced.has(c.expr.name.toLowerCase()) ? { ...c, expr: rw(c.expr), alias: c.alias ?? c.expr.name } : { ...c, expr: rw(c.expr) })),
    where: sel.where === null ? null : rw(sel.where),
    groupBy: sel.groupBy.map((g) => rw(g, true)),
    having: sel.having === null ? null : rw(sel.having, true),
    orderBy: sel.orderBy.map((o) => ({ ...o, expr: rw(o.expr, true) })),
  };
}

function hasWindow(e: Expr): boolean {
  let found = false;
  rewriteExpr(e, { expr: (x) => (x.kind === 'Func' && x.over !== null ? ((found = true), x) : undefined) });
  return found;
}

/** One unit: a Route, with the gate finishing what the shards cannot. */
function planSingleRoute(ctx: PlanContext, sel0: Select, unit: RouteUnit, sql: string | null): Primitive {
  const sharded = unitSharded(ctx, unit);
  // Subqueries stay in the query when they touch only reference tables of the keyspace (or the
  // keyspace is unsharded and they stay in it); others are pulled out.
  const canMerge = (q: QueryExpr): boolean => {
    if (namesGateCte(ctx, q) || q.with !== null) return false;
    const ts = allTableNames(q).map((t) => ctx.resolveTable(t));
    if (!sharded) return ts.every((t) => t.keyspace === unit.keyspace && t.kind !== 'sharded');
    if (ts.every((t) => t.kind === 'reference' && t.keyspace === unit.keyspace)) return true;
    return colocatedSubquery(ctx, unit, q);
  };
  // A correlated subquery the shards cannot answer: the outer rows come to the gate and the
  // subquery runs once per outer row (per distinct correlated values).
  if (hasGateCorrelated(sel0, canMerge)) return planJoin(ctx, sel0, [unit], [[]], sql);
  const { sel, pullouts } = pullOutSubqueries(ctx, sel0, sql, canMerge);
  const tables = unit.tables;
  const columnOf = (e: Expr): { table: TableInfo; column: string } | undefined => {
    if (e.kind !== 'Column') return undefined;
    const r = tableOfColumn([unit], e);
    return r?.table ? { table: r.table, column: r.column } : undefined;
  };
  let choice: RoutingChoice = { opcode: 'Scatter' };
  if (!sharded) choice = { opcode: unit.tables.some((t) => t.kind === 'dba') ? 'DBA' : ctx.vschema.keyspaces[unit.keyspace]?.sharded ? 'Reference' : 'Unsharded' };
  else {
    // Inner-join ON predicates also restrict rows; LEFT JOIN ones do not.
    const preds = [...predicatesOf(sel.where), ...innerOnPredicates(sel.from)];
    const rank = (o: RouteOpcode): number => ['None', 'EqualUnique', 'Equal', 'IN', 'MultiEqual', 'Scatter'].indexOf(o);
    for (const t of tables) {
      if (t.kind !== 'sharded') continue;
      const c = chooseRouting(ctx, t, preds, columnOf);
      if (rank(c.opcode) < rank(choice.opcode)) choice = c;
    }
  }
  const singleShard = choice.opcode !== 'Scatter' && choice.opcode !== 'IN' && choice.opcode !== 'Equal' && choice.opcode !== 'MultiEqual';
  let pushed: Select = sel;
  let opcode = choice.opcode;
  if (opcode === 'IN') {
    // Rewrite `vcol IN (…)` in WHERE so each shard gets only its values.
    const target = choice.predicate!;
    let rewritten = false;
    const where = predicatesOf(sel.where).map((p) => {
      if (p !== target || p.kind !== 'In') return p;
      rewritten = true;
      return { ...p, right: { kind: 'BindVar', name: IN_VALUES_BIND_VAR, list: true } } as Expr;
    });
    if (rewritten) pushed = { ...sel, where: where.reduce((a, b) => and(a, b)) };
    else opcode = 'MultiEqual';
  }
  const base = { vindex: choice.vindex, values: choice.values };
  if (singleShard) {
    return wrapPullouts(routeFor(ctx, opcode, unit.keyspace, pushed, tables, base), pullouts);
  }
  // Window functions whose partitions span shards: the rows come to the gate.
  if (sel.columns.some((c) => hasWindow(c.expr)) && !windowsPushable(ctx, unit, sel)) return planJoin(ctx, sel0, [unit], [[]], sql);
  // Several shards: the gate merges.
  checkMergeableLimit(sel.limit);
  let orderBy: OrderByOffset[] | undefined;
  let hidden = 0;
  let collationHints: CollationHint[] = [];
  let limit: { count: Expr; offset: Expr | null } | null = null;
  const pushedItems: SelectItem[] = [];
  const pushedGroupBy: Expr[] = [];
  const producer: Producer = {
    mode: 'partial',
    add(e, alias, hidden) {
      const k = exprKey(e);
      if (alias === null && hidden) {
        const i = pushedItems.findIndex((it) => it.alias === null && exprKey(it.expr) === k);
        if (i >= 0 && e.kind !== 'Star') return i;
      }
      pushedItems.push({ expr: e, alias, start: -1, end: -1 });
      return pushedItems.length - 1;
    },
    addGroupBy(e) {
      if (!pushedGroupBy.some((g) => exprKey(g) === exprKey(e))) pushedGroupBy.push(e);
    },
    build() {
      let pushedLimit = null as Select['limit'];
      if (limit !== null) {
        const c = limit.count;
        const o = limit.offset;
        if (o === null) pushedLimit = { count: c, offset: null };
        else if (c.kind === 'Number' && o.kind === 'Number') pushedLimit = { count: { kind: 'Number', text: String(BigInt(c.text) + BigInt(o.text)), numType: 'int' }, offset: null };
      }
      const q: Select = {
        ...pushed,
        rollup: false,
        columns: pushedItems,
        groupBy: pushedGroupBy.length ? pushedGroupBy : pushed.groupBy.length ? [] : [],
        having: null,
        orderBy: orderBy ? pushed.orderBy : [],
        limit: pushedLimit,
        distinct: pushed.distinct && pushedGroupBy.length === 0 ? pushed.distinct : false,
      };
      return routeFor(ctx, opcode, unit.keyspace, q, tables, { ...base, orderBy, hidden: hidden || undefined, ...(collationHints.length ? { collationHints } : {}) });
    },
  };
  const p = planGateSelect(pushed, producer, sql, {
    orderOnRoute: (order, h, hints) => {
      orderBy = order;
      hidden = h;
      collationHints = hints;
    },
    pushedLimit: (count, offset) => {
      limit = { count, offset };
    },
  });
  return wrapPullouts(p, pullouts);
}

/**
 * A subquery whose sharded tables are each tied to a sharded table of the outer route by equal
 * primary vindex columns (`o.customer_id = c.customer_id`) only ever needs rows of the outer row's
 * shard, so it can run inside the outer query on every shard.
 */
function colocatedSubquery(ctx: PlanContext, unit: RouteUnit, q: QueryExpr): boolean {
  if (q.kind !== 'Select' || q.with !== null) return false;
  const inner: TableInfo[] = [];
  const collect = (t: TableExpr): boolean => {
    if (t.kind === 'AliasedTable') {
      const info = { ...ctx.resolveTable(t.table), alias: t.alias ?? t.table.name };
      if (info.keyspace !== unit.keyspace || info.kind === 'dba' || info.kind === 'unsharded') return false;
      inner.push(info);
      return true;
    }
    if (t.kind === 'Join') return (t.type === 'JOIN' || t.type === 'LEFT') && collect(t.left) && collect(t.right);
    return false;
  };
  if (!q.from.every(collect)) return false;
  if (allTableNames(q).length !== inner.length) return false; // nested subqueries: keep it simple
  const preds = [...predicatesOf(q.where), ...innerOnPredicates(q.from)];
  for (const t of inner) {
    if (t.kind !== 'sharded') continue;
    const tv = ctx.primaryVindex(t);
    if (!tv) return false;
    const tied = preds.some((p) => {
      if (p.kind !== 'Binary' || p.op !== '=' || p.left.kind !== 'Column' || p.right.kind !== 'Column') return false;
      for (const [a, b] of [[p.left, p.right], [p.right, p.left]] as const) {
        if (a.table?.name.toLowerCase() !== t.alias.toLowerCase() || a.name.toLowerCase() !== tv.column.toLowerCase()) continue;
        if (inner.some((x) => x.alias.toLowerCase() === b.table?.name.toLowerCase())) continue;
        const outer = unit.tables.find((x) => x.alias.toLowerCase() === b.table?.name.toLowerCase());
        if (!outer || outer.kind !== 'sharded') continue;
        const ov = ctx.primaryVindex(outer);
        if (ov && ov.vindex.name === tv.vindex.name && ov.column.toLowerCase() === b.name.toLowerCase()) return true;
      }
      return false;
    });
    if (!tied) return false;
  }
  return true;
}

function innerOnPredicates(from: readonly TableExpr[]): Expr[] {
  const out: Expr[] = [];
  const visit = (t: TableExpr): void => {
    if (t.kind === 'Join') {
      visit(t.left);
      visit(t.right);
      if ((t.type === 'JOIN' || t.type === 'STRAIGHT_JOIN') && t.on) out.push(...predicatesOf(t.on));
    } else if (t.kind === 'ParenTables') t.items.forEach(visit);
  };
  from.forEach(visit);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Joins across units

function planJoin(ctx: PlanContext, sel0: Select, units: Unit[], onPreds: Expr[][], sql: string | null): Primitive {
  // Columns each unit must return, in order.
  const unitCols: Expr[][] = units.map((u) => (u.kind === 'derived' ? u.columns.map((c) => ({ kind: 'Column', table: { kind: 'TableName', schema: null, name: u.alias }, name: c }) as Expr) : []));
  // Subqueries in a cross-unit query are pulled out when uncorrelated; none can merge. Correlated
  // ones run per outer row at the gate, their outer columns bound as variables.
  const corrs: { kind: CorrelatedKind; name: string; primitive: Primitive; vars: Map<string, Expr>; reason: string }[] = [];
  const outerTables = units.flatMap((u) => (u.kind === 'route' ? u.tables : []));
  const onCorrelated = (kind: CorrelatedKind, q: QueryExpr, left?: Expr): Expr => {
    const { name } = ctx.nextSubqueryNames();
    const vars = new Map<string, Expr>();
    const bind = (c: Expr): string => {
      const key = exprKey(c);
      for (const [n, e] of vars) if (exprKey(e) === key) return n;
      const r = tableOfColumn(units, c);
      if (!r) throw gateError(`Unknown column '${formatExpr(c)}'`);
      const n = `${name}_${(r.table?.alias ?? (units[r.unit] as DerivedUnit).alias).replace(/[^A-Za-z0-9_]/g, '_')}_${r.column.replace(/[^A-Za-z0-9_]/g, '_')}`;
      vars.set(n, c);
      return n;
    };
    let query = q;
    if (kind === 'In') {
      if (q.kind !== 'Select' || q.columns.length !== 1 || q.columns[0].expr.kind === 'Star') throw notSupported('IN with a correlated subquery of other than one column across shards');
      // Each inner row says whether it equals the outer value, compared on the shards.
      const l = rewriteExpr(left!, { expr: (x) => (x.kind === 'Column' ? { kind: 'BindVar', name: bind(x), list: false } : undefined) });
      if (containsSubquery(l)) throw notSupported('a subquery on the left of IN with a correlated subquery across shards');
      query = { ...q, columns: [{ expr: { kind: 'Binary', op: '=', left: l, right: q.columns[0].expr }, alias: null, start: -1, end: -1 }] };
    }
    const bound = bindOuterColumns(query, bind);
    corrs.push({ kind, name, primitive: planQuery(ctx, bound, sql), vars, reason: subqueryReason(ctx, outerTables, q) });
    return { kind: 'Column', table: { kind: 'TableName', schema: null, name: CORR_TABLE }, name };
  };
  const { sel: sel1, pullouts } = pullOutSubqueries(ctx, sel0, sql, () => false, onCorrelated);
  // Window functions the shards cannot compute: evaluated at the gate over the joined rows.
  const windows: { name: string; fn: WindowFn; arg: Expr | null; partition: readonly Expr[]; order: readonly OrderItem[] }[] = [];
  const sel: Select = !sel1.columns.some((c) => hasWindow(c.expr)) ? sel1 : {
    ...sel1,
    columns: sel1.columns.map((c) => {
      if (!hasWindow(c.expr)) return c;
      const e = c.expr;
      if (e.kind !== 'Func' || e.over === null) throw notSupported('a window function inside an expression across shards; select it alone');
      if (typeof e.over === 'string' || e.over.base !== null) throw notSupported('named windows across shards');
      if (e.over.frame !== null) throw notSupported('a window frame (ROWS/RANGE …) across shards');
      if (e.distinct) throw notSupported('DISTINCT in a window function across shards');
      const n = e.name.toUpperCase();
      const star = e.args.length === 1 && e.args[0].kind === 'Star';
      const fn: WindowFn | undefined = n === 'COUNT' && star ? 'COUNT_STAR' : (['ROW_NUMBER', 'RANK', 'DENSE_RANK'].includes(n) && e.args.length === 0) || (['COUNT', 'SUM', 'MIN', 'MAX', 'AVG'].includes(n) && e.args.length === 1) ? (n as WindowFn) : undefined;
      if (!fn) throw notSupported(`the window function ${n} across shards`);
      const needCol = (x: Expr): Expr => {
        if (x.kind !== 'Column') throw notSupported('a window function over an expression across shards; use a column, or a derived table that computes it');
        return x;
      };
      const name = `__w${windows.length + 1}`;
      windows.push({
        name, fn, arg: fn === 'COUNT_STAR' || e.args.length === 0 ? null : needCol(e.args[0]),
        partition: e.over.partitionBy.map(needCol), order: e.over.orderBy.map((o) => ({ ...o, expr: needCol(o.expr) })),
      });
      return { ...c, expr: { kind: 'Column', table: { kind: 'TableName', schema: null, name: CORR_TABLE }, name }, alias: c.alias ?? itemName(c, sql) };
    }),
  };
  if (windows.length && (sel.distinct || sel.groupBy.length || sel.columns.some((c) => containsAggregate(c.expr)))) throw notSupported('window functions with GROUP BY, aggregates or DISTINCT across shards');
  const request = (e: Expr): { unit: number; offset: number } => {
    const r = tableOfColumn(units, e);
    if (!r) throw gateError(`Unknown column '${formatExpr(e)}'`);
    const u = units[r.unit];
    const list = unitCols[r.unit];
    if (u.kind === 'derived') {
      const i = u.columns.findIndex((c) => c.toLowerCase() === r.column.toLowerCase());
      if (i < 0) throw gateError(`Unknown column '${formatExpr(e)}' in '${u.alias}'`);
      return { unit: r.unit, offset: i };
    }
    const col: Expr = { kind: 'Column', table: { kind: 'TableName', schema: null, name: r.table?.alias ?? (e.kind === 'Column' && e.table ? e.table.name : '') }, name: r.column };
    const key = exprKey(r.table ? col : e);
    let i = list.findIndex((x) => exprKey(x) === key);
    if (i < 0) {
      list.push(r.table ? col : e);
      i = list.length - 1;
    }
    return { unit: r.unit, offset: i };
  };

  const corrLocs = corrs.map((c) => [...c.vars].map(([n, e]) => [n, request(e)] as const));

  // Place predicates: into the last unit they touch when every other unit they touch comes before
  // it (bound as join variables); else evaluated at the gate on the joined rows.
  const gatePreds: Expr[] = [];
  const joinBinds: { unit: number; pred: Expr }[] = [];
  const place = (p: Expr, fromOn: number | null): void => {
    if (containsSubquery(p)) throw notSupported('a subquery inside a join condition across shards');
    if (columnsIn(p).some(isCorrColumn)) {
      gatePreds.push(p);
      return;
    }
    const us = [...unitsOf(units, p)];
    const last = us.length ? Math.max(...us) : fromOn ?? 0;
    const target = fromOn !== null ? fromOn : last;
    const u = units[target];
    const leftOfOuter = units.some((x, i) => i > 0 && x.joinType === 'left' && us.includes(i) && fromOn !== i);
    if (u.kind === 'route' && !leftOfOuter && us.every((i) => i <= target) && !(fromOn === null && u.joinType === 'left' && us.includes(target))) {
      joinBinds.push({ unit: target, pred: p });
      return;
    }
    if (fromOn !== null && units[fromOn].joinType === 'left') throw notSupported('this LEFT JOIN condition across shards');
    gatePreds.push(p);
  };
  onPreds.forEach((ps, i) => ps.forEach((p) => place(p, i)));
  for (const p of predicatesOf(sel.where)) place(p, null);

  // Rewrite pushed predicates: columns of earlier units become join variables.
  const varNames = new Map<string, string>();
  const joinVars: { unit: number; name: string; from: { unit: number; offset: number } }[] = [];
  for (const jb of joinBinds) {
    const u = units[jb.unit] as RouteUnit;
    const pred = rewriteExpr(jb.pred, {
      expr: (x) => {
        if (x.kind !== 'Column') return undefined;
        const r = tableOfColumn(units, x);
        if (!r || r.unit === jb.unit) return undefined;
        const src = request(x);
        const key = `${src.unit}:${src.offset}`;
        let name = varNames.get(key);
        if (!name) {
          name = `${(r.table?.alias ?? 'j').replace(/[^A-Za-z0-9_]/g, '_')}_${r.column.replace(/[^A-Za-z0-9_]/g, '_')}`;
          while ([...varNames.values()].includes(name)) name += '_';
          varNames.set(key, name);
          joinVars.push({ unit: jb.unit, name, from: src });
        }
        return { kind: 'BindVar', name, list: false };
      },
    });
    u.preds.push(stripQualifiersExpr(pred, ctx));
  }

  // Gate-side columns: everything the select list, gate predicates, GROUP BY, HAVING and ORDER BY use.
  const gateExprs: Expr[] = [...gatePreds, ...sel.groupBy, ...sel.orderBy.map((o) => o.expr), ...sel.columns.map((c) => c.expr)];
  for (const w of windows) gateExprs.push(...(w.arg ? [w.arg] : []), ...w.partition, ...w.order.map((o) => o.expr));
  if (sel.having) gateExprs.push(sel.having);
  const aliases = new Set(sel.columns.filter((c) => c.alias !== null).map((c) => c.alias!.toLowerCase()));
  for (const e of gateExprs) {
    for (const c of columnsIn(e)) {
      if (c.table === null && aliases.has(c.name.toLowerCase())) continue;
      if (isCorrColumn(c)) continue;
      request(c);
    }
  }
  for (const u of units) if (u.kind === 'route' && unitCols[units.indexOf(u)].length === 0) unitCols[units.indexOf(u)].push({ kind: 'Number', text: '1', numType: 'int' });

  // Build the unit primitives and the join tree.
  const widths = unitCols.map((c) => c.length);
  const starts = widths.map((_, i) => widths.slice(0, i).reduce((a, b) => a + b, 0));
  const prims: Primitive[] = units.map((u, i) => {
    if (u.kind === 'derived') return u.primitive;
    const q: Select = {
      kind: 'Select', with: null, hints: null, distinct: false, options: [],
      columns: unitCols[i].map((e) => ({ expr: e, alias: null, start: -1, end: -1 })),
      from: [u.from], where: u.preds.length ? u.preds.reduce((a, b) => and(a, b)) : null,
      groupBy: [], rollup: false, having: null, windows: [], orderBy: [], limit: null, lock: sel.lock, into: null, start: -1, end: -1,
    };
    return planUnitRoute(ctx, u, q);
  });
  let input: Primitive = prims[0];
  let leftWidth = widths[0];
  for (let i = 1; i < units.length; i++) {
    const cols: number[] = [];
    for (let k = 0; k < leftWidth; k++) cols.push(-(k + 1));
    for (let k = 0; k < widths[i]; k++) cols.push(k + 1);
    const vars: Record<string, number> = {};
    for (const jv of joinVars) if (jv.unit === i) vars[jv.name] = starts[jv.from.unit] + jv.from.offset;
    input = new Join(input, prims[i], cols, vars, units[i].joinType === 'left', units[i].reason);
    leftWidth += widths[i];
  }
  const corrOffsets = new Map<string, number>();
  corrs.forEach((c, k) => {
    const vars: Record<string, number> = {};
    for (const [n, loc] of corrLocs[k]) vars[n] = starts[loc.unit] + loc.offset;
    input = new CorrelatedSubquery(c.kind, c.name, input, c.primitive, vars, c.reason);
    corrOffsets.set(c.name, leftWidth++);
  });

  const resolve = (e: Expr): number | undefined => {
    if (e.kind !== 'Column') return undefined;
    if (isCorrColumn(e)) return corrOffsets.get(e.name);
    const r = tableOfColumn(units, e);
    if (!r) return undefined;
    const loc = request(e);
    if (loc.offset >= widths[loc.unit]) throw new Error('planner: a column was requested after the routes were built');
    return starts[loc.unit] + loc.offset;
  };
  if (gatePreds.length) {
    const pred = gatePreds.reduce((a, b) => and(a, b));
    input = new Filter(input, compileExpr(pred, resolve), pred);
  }
  if (windows.length) {
    const at = (e: Expr): number => {
      const o = resolve(e);
      if (o === undefined) throw gateError(`Unknown column '${formatExpr(e)}'`);
      return o;
    };
    const calls: WindowCall[] = windows.map((w) => ({
      fn: w.fn, name: w.name, arg: w.arg ? at(w.arg) : -1, partition: w.partition.map(at), order: w.order.map((o) => ({ offset: at(o.expr), desc: o.direction === 'DESC' })),
    }));
    input = new Window(input, calls, windowReason(ctx, outerTables));
    for (const w of windows) corrOffsets.set(w.name, leftWidth++);
  }
  const projected: ProjectedColumn[] = [];
  const names: string[] = [];
  const base = input;
  const producer: Producer = {
    mode: 'raw',
    add(e, alias) {
      const off = resolve(e);
      const name = alias ?? (e.kind === 'Column' ? e.name : formatExpr(e));
      projected.push(off !== undefined ? { kind: 'offset', offset: off, name } : { kind: 'expr', eval: compileExpr(e, resolve), name, text: e, type: compileExprType(e, resolve) });
      names.push(name);
      return projected.length - 1;
    },
    addGroupBy() {},
    build() {
      return new Projection(base, projected);
    },
  };
  return wrapPullouts(planGateSelect(sel, producer, sql, {}), pullouts);
}

/** A unit's own query as a Route, its opcode from its pushed predicates. */
function planUnitRoute(ctx: PlanContext, u: RouteUnit, q: Select): Route {
  if (!unitSharded(ctx, u)) {
    const opcode: RouteOpcode = u.tables.some((t) => t.kind === 'dba') ? 'DBA' : ctx.vschema.keyspaces[u.keyspace]?.sharded ? 'Reference' : 'Unsharded';
    return routeFor(ctx, opcode, u.keyspace, q, u.tables);
  }
  const columnOf = (e: Expr): { table: TableInfo; column: string } | undefined => {
    if (e.kind !== 'Column') return undefined;
    const r = tableOfColumn([u], e);
    return r?.table ? { table: r.table, column: r.column } : undefined;
  };
  let choice: RoutingChoice = { opcode: 'Scatter' };
  const preds = [...predicatesOf(q.where), ...innerOnPredicates(q.from)];
  const rank = (o: RouteOpcode): number => ['None', 'EqualUnique', 'Equal', 'IN', 'MultiEqual', 'Scatter'].indexOf(o);
  for (const t of u.tables) {
    if (t.kind !== 'sharded') continue;
    const c = chooseRouting(ctx, t, preds, columnOf);
    if (rank(c.opcode) < rank(choice.opcode)) choice = c;
  }
  let query = q;
  let opcode = choice.opcode;
  if (opcode === 'IN') {
    const target = choice.predicate!;
    const where = predicatesOf(q.where).map((p) => (p === target && p.kind === 'In' ? ({ ...p, right: { kind: 'BindVar', name: IN_VALUES_BIND_VAR, list: true } } as Expr) : p));
    if (predicatesOf(q.where).includes(target)) query = { ...q, where: where.reduce((a, b) => and(a, b)) };
    else opcode = 'MultiEqual';
  }
  return routeFor(ctx, opcode, u.keyspace, query, u.tables, { vindex: choice.vindex, values: choice.values });
}

export { format };
