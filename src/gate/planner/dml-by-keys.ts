// UPDATE/DELETE across shards that the shards cannot run alone (ORDER BY … LIMIT, several tables,
// a subquery in WHERE): the keys of the rows to change are selected first, then the rows are
// changed by key (engine/dml-by-keys.ts). SET values naming other tables of a multi-table UPDATE
// are selected with the keys and written row by row.
import type { Delete, Expr, Literal, Select, TableExpr, Update } from '../../sql/index.js';
import { rewriteExpr } from '../../sql/index.js';
import { DmlByKeys } from '../engine/dml-by-keys.js';
import { notSupported } from '../errors.js';
import type { Primitive } from '../types.js';
import { columnsIn, containsSubquery, PlanContext, type TableInfo } from './context.js';

export function planDmlByKeys(
  ctx: PlanContext, stmt: Update | Delete,
  planQuery: (ctx: PlanContext, q: Select) => Primitive,
  planDml: (ctx: PlanContext, s: Update | Delete) => Primitive,
): Primitive {
  const operator = stmt.kind;
  const from = stmt.kind === 'Update' ? stmt.tables : stmt.from;
  const aliases = new Map<string, TableExpr & { kind: 'AliasedTable' }>();
  const visit = (t: TableExpr): void => {
    if (t.kind === 'AliasedTable') aliases.set((t.alias ?? t.table.name).toLowerCase(), t);
    else if (t.kind === 'Join') {
      visit(t.left);
      visit(t.right);
    } else if (t.kind === 'ParenTables') t.items.forEach(visit);
  };
  from.forEach(visit);
  // The one table changed: DELETE's target, or the table every SET column names.
  let alias: string;
  if (stmt.kind === 'Delete') {
    const targets = stmt.targets.length ? stmt.targets : from.length === 1 && from[0].kind === 'AliasedTable' ? [from[0].table] : [];
    if (targets.length !== 1) throw notSupported('DELETE of several tables at once across shards');
    alias = targets[0].name;
  } else {
    const qual = new Set(stmt.set.map((a) => (a.column.table?.name ?? (aliases.size === 1 ? [...aliases.keys()][0] : '')).toLowerCase()));
    if (qual.size !== 1 || qual.has('')) throw notSupported('a multi-table UPDATE across shards that changes several tables or names its columns unqualified; qualify every SET column with one table');
    alias = [...qual][0];
  }
  const target = aliases.get(alias.toLowerCase()) ?? [...aliases.values()].find((x) => x.table.name.toLowerCase() === alias.toLowerCase());
  if (!target) throw notSupported(`${operator.toUpperCase()} target ${alias} not found in its FROM`);
  const name = (target.alias ?? target.table.name);
  const t: TableInfo = { ...ctx.resolveTable(target.table), alias: name };
  if (t.kind !== 'sharded') throw notSupported(`${operator.toUpperCase()} of ${t.table} with tables of other keyspaces or shards`);
  const pv = ctx.primaryVindex(t);
  if (!pv || pv.vindex.kind !== 'functional') throw notSupported(`${operator.toUpperCase()} of ${t.table} across shards: its primary vindex is not functional`);
  if (stmt.kind === 'Update') {
    for (const a of stmt.set) {
      const cv = t.vschema?.columnVindexes.find((v) => v.columns.some((c) => c.toLowerCase() === a.column.name.toLowerCase()));
      if (cv) throw notSupported(`UPDATE of the vindex column ${a.column.name} of ${t.table} across shards: delete the row and insert it again`);
    }
  }
  const col = (c: string): Expr => ({ kind: 'Column', table: { kind: 'TableName', schema: null, name }, name: c });
  // SET values naming other tables (or subqueries) are computed by the select, one per row.
  const isTarget = (e: Expr): boolean => columnsIn(e).every((c) => c.table === null || c.table.name.toLowerCase() === name.toLowerCase());
  const perRow = stmt.kind === 'Update' && stmt.set.some((a) => !isTarget(a.value) || containsSubquery(a.value));
  const setValues = stmt.kind === 'Update' && perRow ? stmt.set.map((a) => a.value) : [];
  const fresh = (): PlanContext => new PlanContext(ctx.vschema, ctx.target);
  const selectFor = (pk: readonly string[]): Primitive => {
    const sel: Select = {
      kind: 'Select', with: null, hints: null, distinct: false, options: [],
      columns: [col(pv.column), ...pk.map(col), ...setValues].map((e) => ({ expr: e, alias: null, start: -1, end: -1 })),
      from, where: stmt.where, groupBy: [], rollup: false, having: null, windows: [], orderBy: stmt.orderBy, limit: stmt.limit, lock: null, into: null, start: -1, end: -1,
    };
    return planQuery(fresh(), sel);
  };
  const unqualify = (e: Expr): Expr => rewriteExpr(e, { expr: (x) => (x.kind === 'Column' && x.table !== null ? { kind: 'Column', table: null, name: x.name } : undefined) });
  const table: TableExpr = { kind: 'AliasedTable', table: target.table, partitions: [], alias: null, indexHints: [] };
  const keyWhere = (pk: readonly string[], rows: readonly (readonly Literal[])[]): Expr => {
    const plain = (c: string): Expr => ({ kind: 'Column', table: null, name: c });
    const byVindex: Expr = { kind: 'In', expr: plain(pv.column), not: false, right: { kind: 'Tuple', items: rows.map((r) => r[0]), row: false } };
    const key: Expr = pk.length === 1
      ? { kind: 'In', expr: plain(pk[0]), not: false, right: { kind: 'Tuple', items: rows.map((r) => r[1]), row: false } }
      : { kind: 'In', expr: { kind: 'Tuple', items: pk.map(plain), row: true }, not: false, right: { kind: 'Tuple', items: rows.map((r) => ({ kind: 'Tuple', items: r.slice(1, 1 + pk.length), row: true })), row: false } };
    return { kind: 'Binary', op: 'AND', left: byVindex, right: key };
  };
  const changeFor = (pk: readonly string[], rows: readonly (readonly Literal[])[]): Primitive[] => {
    if (stmt.kind === 'Delete') {
      const del: Delete = { ...stmt, targets: [], from: [table], where: keyWhere(pk, rows), orderBy: [], limit: null, with: null };
      return [planDml(fresh(), del)];
    }
    if (!perRow) {
      const upd: Update = { ...stmt, tables: [table], set: stmt.set.map((a) => ({ column: { kind: 'Column', table: null, name: a.column.name }, value: unqualify(a.value) })), where: keyWhere(pk, rows), orderBy: [], limit: null, with: null };
      return [planDml(fresh(), upd)];
    }
    return rows.map((r) => {
      const values = r.slice(1 + pk.length);
      const upd: Update = {
        ...stmt, tables: [table], set: stmt.set.map((a, i) => ({ column: { kind: 'Column', table: null, name: a.column.name }, value: values[i] })),
        where: keyWhere(pk, [r]), orderBy: [], limit: null, with: null,
      };
      return planDml(fresh(), upd);
    });
  };
  const why = stmt.limit !== null
    ? `ORDER BY … LIMIT picks rows among every shard's: the keys are selected first (merge-sorted), then changed by key; a WHERE on ${t.table}.${pv.column} would keep it on one shard`
    : `the rows to change are found through tables or subqueries on other shards: their keys are selected first, then changed by key`;
  return new DmlByKeys({ operator, keyspace: t.keyspace, table: t.table, selectFor, changeFor, reason: why });
}
