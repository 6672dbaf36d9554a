// `SELECT *` over tables the gate must join itself: the gate needs the column lists, which only
// the tablets know. They are read once per table (SHOW COLUMNS on one shard), cached until DDL
// goes through the gate or the VSchema changes, and the stars replaced by the columns, in FROM
// order as MariaDB expands them.
import type { Expr, QueryExpr, Select, SelectItem, TableExpr } from '../sql/index.js';
import { quoteIdent } from '../sql/index.js';
import type { ClusterVSchema } from '../vschema/index.js';
import type { GateSession } from './session.js';
import { toResult } from './session-cursor.js';
import { rowsOf } from './values.js';

export class ColumnCache {
  private readonly columns = new Map<string, string[]>();

  clear(): void {
    this.columns.clear();
  }

  async get(gs: GateSession, keyspace: string, table: string): Promise<string[]> {
    const key = `${keyspace}.${table}`;
    const hit = this.columns.get(key);
    if (hit) return hit;
    const shards = await gs.cursor().allShards(keyspace);
    const r = toResult(await gs.executeOnShard(shards[0], `SHOW COLUMNS FROM ${quoteIdent(table)}`, false, undefined));
    const names = rowsOf(r).map((row) => row[0]!.toString('utf8'));
    this.columns.set(key, names);
    return names;
  }
}

interface FromTable {
  readonly alias: string;
  readonly keyspace: string;
  readonly table: string;
  /** JOIN … USING this table's left neighbour: the columns listed once, first (MariaDB's coalescing). */
  readonly using?: { readonly left: string; readonly columns: readonly string[] };
}

function fromTables(from: readonly TableExpr[], vschema: ClusterVSchema, gs: GateSession): FromTable[] | null {
  const out: FromTable[] = [];
  const type = gs.tabletType === 'replica' || gs.tabletType === 'rdonly' ? gs.tabletType : 'primary';
  const visit = (t: TableExpr): boolean => {
    if (t.kind === 'AliasedTable') {
      const name = t.table;
      const r = name.schema !== null
        ? vschema.findTable(name.schema, name.name, type)
        : (gs.keyspace !== null ? vschema.findTable(gs.keyspace, name.name, type) : undefined) ?? vschema.findTable(undefined, name.name, type);
      if (!r) return false;
      out.push({ alias: t.alias ?? name.name, keyspace: r.keyspace, table: r.table });
      return true;
    }
    if (t.kind === 'Join') {
      if (t.type.startsWith('NATURAL')) return false;
      if (t.using !== null) {
        // Two tables only, inner or LEFT: the USING columns (the left's), then each table's others.
        if (t.left.kind !== 'AliasedTable' || t.right.kind !== 'AliasedTable' || (t.type !== 'JOIN' && t.type !== 'LEFT')) return false;
        if (!visit(t.left) || !visit(t.right)) return false;
        const right = out.pop()!;
        out.push({ ...right, using: { left: out[out.length - 1].alias, columns: t.using } });
        return true;
      }
      // RIGHT JOIN still lists the left table's columns first.
      return visit(t.left) && visit(t.right);
    }
    if (t.kind === 'ParenTables') return t.items.every(visit);
    return false;
  };
  return from.every(visit) ? out : null;
}

/** The query with top-level stars expanded, or null when it has none or they cannot be expanded. */
export async function expandStars(q0: QueryExpr, gs: GateSession, cache: ColumnCache): Promise<QueryExpr | null> {
  // Stars in CTE bodies and derived tables first (the planner needs their column names too).
  const inner = await expandNested(q0, gs, cache);
  const top = await expandTop(inner ?? q0, gs, cache);
  return top ?? inner;
}

async function expandNested(q: QueryExpr, gs: GateSession, cache: ColumnCache): Promise<QueryExpr | null> {
  let changed = false;
  const ctes = [];
  for (const c of q.with?.ctes ?? []) {
    const e = await expandStars(c.query, gs, cache);
    if (e) changed = true;
    ctes.push(e ? { ...c, query: e } : c);
  }
  const withClause = q.with ? { ...q.with, ctes } : null;
  if (q.kind === 'SetOp') return changed ? { ...q, with: withClause } : null;
  const table = async (t: TableExpr): Promise<TableExpr> => {
    if (t.kind === 'DerivedTable') {
      const e = await expandStars(t.query, gs, cache);
      if (e) changed = true;
      return e ? { ...t, query: e } : t;
    }
    if (t.kind === 'Join') return { ...t, left: await table(t.left), right: await table(t.right) };
    if (t.kind === 'ParenTables') return { ...t, items: await Promise.all(t.items.map(table)) };
    return t;
  };
  const from = await Promise.all(q.from.map(table));
  return changed ? { ...q, with: withClause, from } : null;
}

async function expandTop(q: QueryExpr, gs: GateSession, cache: ColumnCache): Promise<QueryExpr | null> {
  if (q.kind === 'SetOp') {
    const left = await expandStars(q.left, gs, cache);
    const right = await expandStars(q.right, gs, cache);
    if (!left && !right) return null;
    return { ...q, left: left ?? q.left, right: right ?? q.right };
  }
  if (!q.columns.some((c) => c.expr.kind === 'Star')) return null;
  const tables = fromTables(q.from, gs.core.resolver.vschema, gs);
  if (!tables) return null;
  const columns: SelectItem[] = [];
  for (const item of q.columns) {
    if (item.expr.kind !== 'Star') {
      columns.push(item);
      continue;
    }
    const qual = item.expr.table?.name.toLowerCase();
    const which = qual === undefined ? tables : tables.filter((t) => t.alias.toLowerCase() === qual);
    if (which.length === 0) return null;
    const col = (alias: string, name: string): SelectItem => ({ expr: { kind: 'Column', table: { kind: 'TableName', schema: null, name: alias }, name }, alias: null, start: -1, end: -1 });
    for (let i = 0; i < which.length; i++) {
      const t = which[i];
      const next = qual === undefined ? which[i + 1] : undefined;
      if (next?.using) {
        const shared = next.using.columns.map((c) => c.toLowerCase());
        const own = await cache.get(gs, t.keyspace, t.table);
        for (const c of own.filter((n) => shared.includes(n.toLowerCase()))) columns.push(col(t.alias, c));
        for (const c of own.filter((n) => !shared.includes(n.toLowerCase()))) columns.push(col(t.alias, c));
        for (const c of (await cache.get(gs, next.keyspace, next.table)).filter((n) => !shared.includes(n.toLowerCase()))) columns.push(col(next.alias, c));
        i++;
        continue;
      }
      for (const name of await cache.get(gs, t.keyspace, t.table)) columns.push(col(t.alias, name));
    }
  }
  const out: Select = { ...q, columns };
  return out;
}
