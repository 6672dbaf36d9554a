// What the planner knows while it plans one statement: the cluster VSchema, the session's
// target, and helpers to resolve tables, find vindex predicates and strip keyspace qualifiers.
import {
  conjuncts, formatExpr, rewrite, rewriteExpr, rewriteQuery, walk, type Expr, type QueryExpr, type Statement, type TableExpr, type TableName,
} from '../../sql/index.js';
import type { TabletType } from '../../topo/index.js';
import type { FunctionalVindex, LookupVindex, Vindex } from '../../vindexes/index.js';
import type { ClusterVSchema, RoutingTabletType, TableVSchema } from '../../vschema/index.js';
import { noSuchTable, notSupported } from '../errors.js';
import type { RouteOpcode } from '../engine/route.js';

export interface PlanTarget {
  /** Default keyspace (USE ks / the connection's database), or null. */
  readonly keyspace: string | null;
  /** Shard targeting: USE ks:-80 / ks/-80. */
  readonly shard: string | null;
  readonly tabletType: TabletType;
}

export class PlanContext {
  private sqCounter = 0;
  /** Recursive CTEs the gate evaluates, by lower-cased name: references plan as their rows. */
  readonly gateCtes = new Map<string, { readonly primitive: import('../types.js').Primitive; readonly columns: readonly string[] }>();

  constructor(
    readonly vschema: ClusterVSchema,
    readonly target: PlanTarget,
  ) {}

  nextSubqueryNames(): { name: string; hasValues: string } {
    const n = ++this.sqCounter;
    return { name: `__sq${n}`, hasValues: `__sq_has_values${n}` };
  }

  routingType(): RoutingTabletType {
    const t = this.target.tabletType;
    return t === 'replica' || t === 'rdonly' ? t : 'primary';
  }

  isKeyspace(name: string): boolean {
    return Object.hasOwn(this.vschema.keyspaces, name);
  }

  /** Keyspace for statements without tables: the default, else the only one (or the first). */
  anyKeyspace(): string {
    if (this.target.keyspace) return this.target.keyspace;
    const names = Object.keys(this.vschema.keyspaces).sort();
    const unsharded = names.find((n) => !this.vschema.keyspaces[n].sharded);
    const ks = unsharded ?? names[0];
    if (ks === undefined) throw notSupported('a query with no keyspace in the cluster');
    return ks;
  }

  resolveTable(t: TableName): TableInfo {
    const schema = t.schema;
    if (schema !== null && DBA_SCHEMAS.has(schema.toLowerCase())) {
      return { kind: 'dba', keyspace: this.anyKeyspace(), table: t.name, alias: t.name, vschema: undefined, name: t };
    }
    if (schema === null && this.target.keyspace === null && t.name.toLowerCase() === 'dual') {
      return { kind: 'dual', keyspace: this.anyKeyspace(), table: 'dual', alias: 'dual', vschema: undefined, name: t };
    }
    const type = this.routingType();
    let r = schema !== null ? this.vschema.findTable(schema, t.name, type) : undefined;
    if (schema === null) {
      if (this.target.keyspace !== null) r = this.vschema.findTable(this.target.keyspace, t.name, type);
      r ??= this.vschema.findTable(undefined, t.name, type);
    } else if (!this.isKeyspace(schema)) {
      throw new (noSuchTable(t.name, schema).constructor as typeof Error)(`Unknown database '${schema}'`);
    }
    if (!r) {
      if (schema === null && this.target.keyspace === null) {
        throw noSuchTable(t.name, null);
      }
      throw noSuchTable(t.name, schema ?? this.target.keyspace);
    }
    const ks = this.vschema.keyspaces[r.keyspace];
    const v = r.vschema;
    let kind: TableKind = ks?.sharded ? 'sharded' : 'unsharded';
    if (v?.type === 'reference') kind = 'reference';
    if (v?.type === 'sequence') kind = ks?.sharded ? 'sharded' : 'unsharded';
    if (kind === 'sharded' && (!v || v.columnVindexes.length === 0) && v?.pinned === undefined) {
      throw notSupported(`table ${r.table} in sharded keyspace ${r.keyspace} without a primary vindex`);
    }
    return { kind, keyspace: r.keyspace, table: r.table, alias: t.name, vschema: v, name: t };
  }

  /** The primary vindex of a sharded table. */
  primaryVindex(t: TableInfo): { vindex: Vindex; column: string } | undefined {
    const cv = t.vschema?.columnVindexes[0];
    if (!cv) return undefined;
    const vindex = this.vschema.vindexes.get(t.keyspace)?.get(cv.name);
    if (!vindex) return undefined;
    return { vindex, column: cv.columns[0] };
  }

  /**
   * Every single-column vindex of a table usable for routing, cheapest first: functional ones
   * and lookup ones, except lookups being back-filled (write_only), as in Vitess.
   */
  routingVindexes(t: TableInfo): { vindex: FunctionalVindex | LookupVindex; column: string }[] {
    const out: { vindex: FunctionalVindex | LookupVindex; column: string }[] = [];
    for (const cv of t.vschema?.columnVindexes ?? []) {
      const v = this.vschema.vindexes.get(t.keyspace)?.get(cv.name);
      if (!v || cv.columns.length !== 1) continue;
      if (v.kind === 'functional' || (v.kind === 'lookup' && !v.lookup.writeOnly)) out.push({ vindex: v, column: cv.columns[0] });
    }
    return out.sort((a, b) => a.vindex.cost - b.vindex.cost);
  }

  /** The lookup vindexes a table owns (their `owner` is the table), with their columns. */
  ownedLookups(t: TableInfo): { vindex: LookupVindex; columns: readonly string[] }[] {
    const defs = this.vschema.keyspaces[t.keyspace]?.vindexes ?? {};
    const out: { vindex: LookupVindex; columns: readonly string[] }[] = [];
    for (const cv of t.vschema?.columnVindexes.slice(1) ?? []) {
      const v = this.vschema.vindexes.get(t.keyspace)?.get(cv.name);
      if (v?.kind === 'lookup' && defs[cv.name]?.owner === t.table) out.push({ vindex: v, columns: cv.columns });
    }
    return out;
  }

  /** The lookup vindexes of a table it does not own: an INSERT's values are verified against them. */
  unownedLookups(t: TableInfo): { vindex: LookupVindex; columns: readonly string[] }[] {
    const defs = this.vschema.keyspaces[t.keyspace]?.vindexes ?? {};
    const out: { vindex: LookupVindex; columns: readonly string[] }[] = [];
    for (const cv of t.vschema?.columnVindexes.slice(1) ?? []) {
      const v = this.vschema.vindexes.get(t.keyspace)?.get(cv.name);
      if (v?.kind === 'lookup' && defs[cv.name]?.owner !== t.table) out.push({ vindex: v, columns: cv.columns });
    }
    return out;
  }
}

export const DBA_SCHEMAS = new Set(['information_schema', 'mysql', 'performance_schema', 'sys']);

export type TableKind = 'sharded' | 'unsharded' | 'reference' | 'dba' | 'dual';

export interface TableInfo {
  readonly kind: TableKind;
  readonly keyspace: string;
  /** The table's name in its keyspace (after routing rules). */
  readonly table: string;
  /** How the query names it: its alias, else its name. */
  readonly alias: string;
  readonly vschema: TableVSchema | undefined;
  readonly name: TableName;
}

/** Every table named anywhere in a statement (FROM, joins, subqueries, derived tables, CTE bodies). */
export function allTableNames(s: Statement): TableName[] {
  const out: TableName[] = [];
  walk(s, { tableName: (t) => out.push(t) });
  return out;
}

/** Names of CTEs defined anywhere in a query (they are not tables). */
export function cteNames(q: QueryExpr): Set<string> {
  const out = new Set<string>();
  const visit = (x: QueryExpr): void => {
    for (const c of x.with?.ctes ?? []) {
      out.add(c.name.toLowerCase());
      visit(c.query);
    }
    if (x.kind === 'SetOp') {
      visit(x.left);
      visit(x.right);
    }
  };
  visit(q);
  return out;
}

/**
 * The statement as a shard sees it: keyspace qualifiers dropped from table names and from column
 * qualifiers (`customer.customer.id` → `customer.id`), information_schema and friends kept.
 */
export function stripQualifiers<S extends Statement>(s: S, ctx: PlanContext, rename?: ReadonlyMap<string, string>): S {
  const strip = (t: TableName): TableName => {
    if (t.schema !== null && DBA_SCHEMAS.has(t.schema.toLowerCase())) return t;
    const name = rename?.get((t.schema ?? '') + '.' + t.name) ?? t.name;
    if (t.schema === null && name === t.name) return t;
    return { kind: 'TableName', schema: null, name };
  };
  return rewrite(s, { tableName: strip, columnQualifier: (t) => (t.schema !== null && ctx.isKeyspace(t.schema) ? { kind: 'TableName', schema: null, name: t.name } : t) });
}

export function stripQualifiersExpr(e: Expr, ctx: PlanContext): Expr {
  return rewriteExpr(e, {
    tableName: (t) => (t.schema !== null && ctx.isKeyspace(t.schema) ? { kind: 'TableName', schema: null, name: t.name } : t),
    columnQualifier: (t) => (t.schema !== null && ctx.isKeyspace(t.schema) ? { kind: 'TableName', schema: null, name: t.name } : t),
  });
}

export function stripQualifiersQuery(q: QueryExpr, ctx: PlanContext): QueryExpr {
  return rewriteQuery(q, {
    tableName: (t) => (t.schema !== null && ctx.isKeyspace(t.schema) ? { kind: 'TableName', schema: null, name: t.name } : t),
    columnQualifier: (t) => (t.schema !== null && ctx.isKeyspace(t.schema) ? { kind: 'TableName', schema: null, name: t.name } : t),
  });
}

/** A value the gate can route on: a literal or a bind variable (no column, no function). */
export function isRoutableValue(e: Expr): boolean {
  switch (e.kind) {
    case 'Number':
    case 'String':
    case 'Hex':
    case 'Bit':
    case 'Null':
    case 'Bool':
      return true;
    case 'BindVar':
      return !e.list;
    default:
      return false;
  }
}

export interface RoutingChoice {
  readonly opcode: RouteOpcode;
  readonly vindex?: Vindex;
  readonly values?: readonly Expr[];
  /** The conjunct that decided it (an IN to rewrite with ::__vals). */
  readonly predicate?: Expr;
}

const RANK: Record<string, number> = { None: 0, EqualUnique: 1, Equal: 2, IN: 3, MultiEqual: 4, Scatter: 5 };

/**
 * The best route for a sharded table from AND-ed predicates: `vcol = value` (EqualUnique for a
 * unique vindex, Equal otherwise), `vcol IN (values)` / `vcol IN ::list` (IN), else Scatter.
 * `columnOf` says whether an expression is the given table's column and which.
 */
export function chooseRouting(
  ctx: PlanContext,
  t: TableInfo,
  preds: readonly Expr[],
  columnOf: (e: Expr) => { table: TableInfo; column: string } | undefined,
): RoutingChoice {
  let best: RoutingChoice = { opcode: 'Scatter' };
  const vindexes = ctx.routingVindexes(t);
  const consider = (c: RoutingChoice): void => {
    // The better opcode wins; between equal ones, the cheaper vindex (hash before a lookup).
    if (RANK[c.opcode] < RANK[best.opcode] || (RANK[c.opcode] === RANK[best.opcode] && c.vindex && best.vindex && c.vindex.cost < best.vindex.cost)) best = c;
  };
  for (const p of preds) {
    if (p.kind === 'Binary' && p.op === '=') {
      for (const [colSide, valSide] of [[p.left, p.right], [p.right, p.left]] as const) {
        const c = columnOf(colSide);
        if (!c || c.table !== t || !isRoutableValue(valSide)) continue;
        const v = vindexes.find((x) => x.column.toLowerCase() === c.column.toLowerCase());
        if (!v) continue;
        if (valSide.kind === 'Null') consider({ opcode: 'None' });
        else consider({ opcode: v.vindex.unique ? 'EqualUnique' : 'Equal', vindex: v.vindex, values: [valSide] });
      }
    } else if (p.kind === 'In' && !p.not) {
      const c = columnOf(p.expr);
      if (!c || c.table !== t) continue;
      const v = vindexes.find((x) => x.column.toLowerCase() === c.column.toLowerCase());
      if (!v) continue;
      if (p.right.kind === 'BindVar' && p.right.list) consider({ opcode: 'IN', vindex: v.vindex, values: [p.right], predicate: p });
      else if (p.right.kind === 'Tuple' && p.right.items.every(isRoutableValue)) consider({ opcode: 'IN', vindex: v.vindex, values: [p.right], predicate: p });
    }
  }
  return best;
}

/** AND-ed predicates of a WHERE clause. */
export function predicatesOf(where: Expr | null): Expr[] {
  return conjuncts(where);
}

/** Whether an expression (or anything under it) is an aggregate function call. */
export function containsAggregate(e: Expr): boolean {
  let found = false;
  const visit = (x: Expr): Expr | undefined => {
    if (found) return x;
    if (isAggregateCall(x)) {
      found = true;
      return x;
    }
    if (x.kind === 'Subquery' || x.kind === 'Exists') return x;
    return undefined;
  };
  rewriteExpr(e, { expr: visit });
  return found;
}

export const AGGREGATES = new Set(['COUNT', 'SUM', 'MIN', 'MAX', 'AVG']);

export function isAggregateCall(e: Expr): boolean {
  if (e.kind === 'GroupConcat') return true;
  return e.kind === 'Func' && e.over === null && e.schema === null && (AGGREGATES.has(e.name.toUpperCase()) || OTHER_AGGREGATES.has(e.name.toUpperCase()));
}

const OTHER_AGGREGATES = new Set(['STD', 'STDDEV', 'STDDEV_POP', 'STDDEV_SAMP', 'VARIANCE', 'VAR_POP', 'VAR_SAMP', 'BIT_AND', 'BIT_OR', 'BIT_XOR', 'JSON_ARRAYAGG', 'JSON_OBJECTAGG']);

/** Whether an expression contains a subquery. */
export function containsSubquery(e: Expr): boolean {
  let found = false;
  rewriteExpr(e, {
    expr: (x) => {
      if (x.kind === 'Subquery' || x.kind === 'Exists' || x.kind === 'Quantified' || (x.kind === 'In' && x.right.kind === 'Subquery')) found = true;
      return found ? x : undefined;
    },
  });
  return found;
}

/** Column references in an expression (not inside subqueries). */
export function columnsIn(e: Expr): Extract<Expr, { kind: 'Column' }>[] {
  const out: Extract<Expr, { kind: 'Column' }>[] = [];
  rewriteExpr(e, {
    expr: (x) => {
      if (x.kind === 'Column') out.push(x);
      if (x.kind === 'Subquery' || x.kind === 'Exists') return x;
      if (x.kind === 'In' && x.right.kind === 'Subquery') {
        rewriteExpr(x.expr, { expr: (y) => (y.kind === 'Column' ? (out.push(y), y) : undefined) });
        return x;
      }
      return undefined;
    },
  });
  return out;
}

export function exprKey(e: Expr): string {
  return formatExpr(e).toLowerCase();
}

/** Table expressions flattened into a left-deep list of joins. */
export interface JoinStep {
  readonly table: TableExpr;
  /** How it joins what comes before; null for the first. */
  readonly type: 'inner' | 'left' | null;
  readonly on: Expr | null;
}

export function flattenFrom(from: readonly TableExpr[]): JoinStep[] {
  const out: JoinStep[] = [];
  const add = (t: TableExpr, type: 'inner' | 'left' | null, on: Expr | null): void => {
    if (t.kind === 'Join') {
      if (t.using !== null) throw notSupported('JOIN … USING across shards');
      if (t.type === 'NATURAL' || t.type === 'NATURAL LEFT' || t.type === 'NATURAL RIGHT') throw notSupported('NATURAL JOIN across shards');
      if (t.type === 'RIGHT') {
        // a RIGHT JOIN b ON c  ==  b LEFT JOIN a ON c (column order is the select list's business).
        if (t.right.kind === 'Join' || t.left.kind === 'Join') throw notSupported('RIGHT JOIN of nested joins across shards');
        add(t.right, type, on);
        out.push({ table: t.left, type: 'left', on: t.on });
        return;
      }
      add(t.left, type, on);
      if (t.right.kind === 'Join' || t.right.kind === 'ParenTables') {
        if (t.type === 'LEFT') throw notSupported('LEFT JOIN of a nested join across shards');
        const before = out.length;
        add(t.right, 'inner', null);
        if (t.on && out.length > before) out[out.length - 1] = { ...out[out.length - 1], on: out[out.length - 1].on ? { kind: 'Binary', op: 'AND', left: out[out.length - 1].on!, right: t.on } : t.on };
        return;
      }
      out.push({ table: t.right, type: t.type === 'LEFT' ? 'left' : 'inner', on: t.on });
      return;
    }
    if (t.kind === 'ParenTables') {
      t.items.forEach((x, i) => add(x, i === 0 ? type : 'inner', i === 0 ? on : null));
      return;
    }
    out.push({ table: t, type, on });
  };
  from.forEach((t, i) => add(t, i === 0 ? null : 'inner', null));
  return out;
}
