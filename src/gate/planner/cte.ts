// Common table expressions across shards. A query whose tables live together goes whole to one
// route (select.ts); otherwise each reference to a CTE becomes a derived table holding its query
// (CTEs may name the CTEs before them), and the query is planned as usual: pushed down where its
// tables allow, finished at the gate where not. A recursive CTE is evaluated at the gate: its
// anchor runs once, then its recursive part runs over the rows the last round added (bound as a
// working table) until a round adds none, as MariaDB iterates it.
import type { CommonTableExpr, Expr, QueryExpr, Select, TableExpr } from '../../sql/index.js';
import { rewriteExpr } from '../../sql/index.js';
import { notSupported } from '../errors.js';
import { RecursiveCte, WorkingTable } from '../engine/recursive-cte.js';
import type { Primitive } from '../types.js';
import type { PlanContext } from './context.js';

/** A recursive CTE the gate evaluates: references to it plan as a derived unit over `primitive`. */
export interface GateCte {
  readonly primitive: Primitive;
  readonly columns: readonly string[];
}

interface Inline {
  readonly query: QueryExpr;
  readonly columns: readonly string[] | null;
}

/** The query with its WITH clause gone: CTE references inlined, recursive ones registered in `ctx`. */
export function inlineCtes(
  ctx: PlanContext,
  q: QueryExpr,
  planQuery: (q: QueryExpr) => Primitive,
  columnsOf: (q: QueryExpr, explicit: readonly string[] | null) => string[],
): QueryExpr {
  const w = q.with!;
  const env = new Map<string, Inline>();
  for (const cte of w.ctes) {
    const name = cte.name.toLowerCase();
    if (w.recursive && references(cte.query, name)) {
      registerRecursive(ctx, cte, substitute(cte.query, env), planQuery, columnsOf);
      continue;
    }
    env.set(name, { query: substitute(cte.query, env), columns: cte.columns });
  }
  return substitute({ ...q, with: null }, env);
}

function registerRecursive(
  ctx: PlanContext, cte: CommonTableExpr, body: QueryExpr,
  planQuery: (q: QueryExpr) => Primitive,
  columnsOf: (q: QueryExpr, explicit: readonly string[] | null) => string[],
): void {
  const name = cte.name.toLowerCase();
  if (body.kind !== 'SetOp' || body.op !== 'UNION' || body.orderBy.length || body.limit) {
    throw notSupported(`the recursive CTE ${cte.name} across shards: its body must be anchor UNION [ALL] recursive part`);
  }
  // Anchor parts are those not naming the CTE; MariaDB requires them first.
  const parts: QueryExpr[] = [];
  const flatten = (x: QueryExpr): void => {
    if (x.kind === 'SetOp' && x.op === 'UNION' && x.all === body.all && x.orderBy.length === 0 && x.limit === null) {
      flatten(x.left);
      flatten(x.right);
    } else parts.push(x);
  };
  flatten(body);
  const anchors = parts.filter((p) => !references(p, name));
  const recursive = parts.filter((p) => references(p, name));
  if (anchors.length === 0) throw notSupported(`the recursive CTE ${cte.name} without a non-recursive part`);
  const columns = columnsOf(anchors[0], cte.columns);
  const anchor = anchors.length === 1 ? anchors[0] : anchors.slice(1).reduce<QueryExpr>((a, b) => ({ kind: 'SetOp', with: null, op: 'UNION', all: body.all, left: a, right: b, orderBy: [], limit: null, lock: null, into: null, start: -1, end: -1 }), anchors[0]);
  const anchorPlan = planQuery(anchor);
  const working = new WorkingTable(cte.name);
  // While the recursive parts are planned, the CTE's name means the rows of the last round.
  ctx.gateCtes.set(name, { primitive: working, columns });
  let recursivePlans: Primitive[];
  try {
    recursivePlans = recursive.map((r) => planQuery(r));
  } finally {
    ctx.gateCtes.delete(name);
  }
  ctx.gateCtes.set(name, { primitive: new RecursiveCte(cte.name, anchorPlan, recursivePlans, working, !body.all), columns });
}

/** Whether a query names the table `name` (unqualified) anywhere. */
export function references(q: QueryExpr, name: string): boolean {
  let found = false;
  const visitTable = (t: TableExpr): void => {
    if (t.kind === 'AliasedTable') {
      if (t.table.schema === null && t.table.name.toLowerCase() === name) found = true;
    } else if (t.kind === 'DerivedTable') visitQuery(t.query);
    else if (t.kind === 'Join') {
      visitTable(t.left);
      visitTable(t.right);
      if (t.on) visitExpr(t.on);
    } else if (t.kind === 'JsonTable') visitExpr(t.doc);
    else t.items.forEach(visitTable);
  };
  const visitExpr = (e: Expr): void => {
    rewriteExpr(e, {
      expr: (x) => {
        const sub = x.kind === 'Subquery' || x.kind === 'Exists' || x.kind === 'Quantified' ? x.query : x.kind === 'In' && x.right.kind === 'Subquery' ? x.right.query : null;
        if (sub) {
          visitQuery(sub);
          return x;
        }
        return undefined;
      },
    });
  };
  const visitQuery = (x: QueryExpr): void => {
    for (const c of x.with?.ctes ?? []) visitQuery(c.query);
    if (x.kind === 'SetOp') {
      visitQuery(x.left);
      visitQuery(x.right);
      return;
    }
    x.from.forEach(visitTable);
    x.columns.forEach((c) => visitExpr(c.expr));
    if (x.where) visitExpr(x.where);
    if (x.having) visitExpr(x.having);
  };
  visitQuery(q);
  return found;
}

/** The query with every unqualified reference to a CTE of `env` replaced by a derived table. */
function substitute(q: QueryExpr, env0: ReadonlyMap<string, Inline>): QueryExpr {
  if (env0.size === 0) return q;
  if (q.kind === 'SetOp') return { ...q, left: substitute(q.left, env0), right: substitute(q.right, env0) };
  // A nested WITH that reuses a name shadows the outer CTE inside its query.
  const env = q.with ? new Map([...env0].filter(([k]) => !q.with!.ctes.some((c) => c.name.toLowerCase() === k))) : env0;
  if (env.size === 0) return q;
  const table = (t: TableExpr): TableExpr => {
    switch (t.kind) {
      case 'AliasedTable': {
        const hit = t.table.schema === null ? env.get(t.table.name.toLowerCase()) : undefined;
        if (!hit) return t;
        return { kind: 'DerivedTable', lateral: false, query: hit.query, alias: t.alias ?? t.table.name, columns: hit.columns };
      }
      case 'DerivedTable':
        return { ...t, query: substitute(t.query, env) };
      case 'Join':
        return { ...t, left: table(t.left), right: table(t.right), on: t.on === null ? null : expr(t.on) };
      case 'ParenTables':
        return { ...t, items: t.items.map(table) };
      default:
        return t;
    }
  };
  const expr = (e: Expr): Expr =>
    rewriteExpr(e, {
      expr: (x) => {
        if (x.kind === 'Subquery') return { ...x, query: substitute(x.query, env) };
        if (x.kind === 'Exists') return { ...x, query: substitute(x.query, env) };
        if (x.kind === 'Quantified') return { ...x, left: expr(x.left), query: substitute(x.query, env) };
        if (x.kind === 'In' && x.right.kind === 'Subquery') return { ...x, expr: expr(x.expr), right: { ...x.right, query: substitute(x.right.query, env) } };
        return undefined;
      },
    });
  const out: Select = {
    ...q,
    with: q.with ? { ...q.with, ctes: q.with.ctes.map((c) => ({ ...c, query: substitute(c.query, env) })) } : null,
    columns: q.columns.map((c) => ({ ...c, expr: expr(c.expr) })),
    from: q.from.map(table),
    where: q.where === null ? null : expr(q.where),
    having: q.having === null ? null : expr(q.having),
  };
  return out;
}
