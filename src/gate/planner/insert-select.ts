// INSERT … SELECT across shards or keyspaces: the SELECT is planned as any query (pushed down where
// its tables allow), the INSERT as an INSERT … VALUES of the same columns, and InsertSelect feeds
// the one with the other's rows at run time (Vitess's insert-select).
import type { Expr, Insert as InsertStmt, QueryExpr } from '../../sql/index.js';
import { InsertSelect } from '../engine/insert-select.js';
import { Insert } from '../engine/insert.js';
import { notSupported } from '../errors.js';
import type { Primitive } from '../types.js';
import type { PlanContext, TableInfo } from './context.js';

export function planInsertSelect(
  ctx: PlanContext, stmt: InsertStmt, t: TableInfo,
  planValues: (s: InsertStmt) => Primitive, planQuery: (q: QueryExpr) => Primitive,
): Primitive {
  const source = stmt.source as QueryExpr;
  const columns = stmt.columns ?? (t.vschema?.columnListAuthoritative ? t.vschema.columns.map((c) => c.name) : null);
  if (columns === null) throw notSupported(`INSERT … SELECT into ${t.keyspace}.${t.table} across shards without a column list (name the columns)`);
  const placeholder: Expr[] = columns.map(() => ({ kind: 'Null' }));
  const proto = planValues({ ...stmt, columns, source: { kind: 'Values', rows: [placeholder] } });
  if (!(proto instanceof Insert)) throw notSupported(`INSERT … SELECT into ${t.table} across shards (its insert is not a plain one)`);
  const reason = t.kind === 'sharded'
    ? `the selected rows go to the shards ${t.table}'s primary vindex names, which need not be the shards they were read from`
    : `the selected rows are read from other keyspaces or shards than ${t.keyspace}, where they are written`;
  return new InsertSelect(proto.spec, planQuery(source), reason);
}
