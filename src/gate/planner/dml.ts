// INSERT, UPDATE and DELETE planning.
import { format, formatExpr, type Delete, type Expr, type Insert as InsertStmt, type TableExpr, type TableName, type Update } from '../../sql/index.js';
import { ER, TesseraError } from '../../mysql/index.js';
import type { FunctionalVindex } from '../../vindexes/index.js';
import { Insert } from '../engine/insert.js';
import { IN_VALUES_BIND_VAR, Route, type RouteOpcode } from '../engine/route.js';
import { notSupported } from '../errors.js';
import type { Primitive } from '../types.js';
import {
  allTableNames, chooseRouting, containsSubquery, predicatesOf, stripQualifiers, type PlanContext, type RoutingChoice, type TableInfo,
} from './context.js';
import { and } from '../../sql/index.js';
import { planInsertSelect } from './insert-select.js';
import { planDmlByKeys } from './dml-by-keys.js';
import { planQuery } from './select.js';

export function planInsert(ctx: PlanContext, stmt: InsertStmt): Primitive {
  const t = ctx.resolveTable(stmt.table);
  if (ctx.target.shard !== null) {
    return new Route({ opcode: 'ByDestination', keyspace: ctx.target.keyspace!, sharded: true, query: stripQualifiers(stmt, ctx), shard: ctx.target.shard, write: true, tables: [t.table], operator: 'Insert' });
  }
  if (t.kind === 'dba') throw notSupported('INSERT into information_schema');
  const src = stmt.source;
  const others = allTableNames(stmt).slice(1).map((x) => ctx.resolveTable(x));
  const ksv = ctx.vschema.keyspaces[t.keyspace];
  const seq = sequenceOf(ctx, t);
  if (src.kind !== 'Values' && src.kind !== 'InsertSet') {
    // INSERT … SELECT: only inside one unsharded keyspace.
    if (!ksv?.sharded && others.every((o) => o.keyspace === t.keyspace && o.kind !== 'sharded') && !seq) {
      return new Route({ opcode: 'Unsharded', keyspace: t.keyspace, sharded: false, query: stripQualifiers(stmt, ctx), write: true, tables: [t.table], operator: 'Insert' });
    }
    return planInsertSelect(ctx, stmt, t, (s) => planInsert(ctx, s), (q) => planQuery(ctx, q, null));
  }
  if (others.length) throw notSupported('a subquery in INSERT values');
  let columns: string[];
  let rows: Expr[][];
  if (src.kind === 'InsertSet') {
    columns = src.assignments.map((a) => a.column.name);
    rows = [src.assignments.map((a) => a.value)];
  } else {
    if (stmt.columns === null) {
      const listed = t.vschema?.columnListAuthoritative ? t.vschema.columns.map((c) => c.name) : null;
      if (!listed) {
        if (!ksv?.sharded && !seq) {
          return new Route({ opcode: 'Unsharded', keyspace: t.keyspace, sharded: false, query: stripQualifiers(stmt, ctx), write: true, tables: [t.table], operator: 'Insert' });
        }
        throw notSupported(`INSERT into ${t.keyspace}.${t.table} without a column list (name the columns)`);
      }
      columns = listed;
    } else columns = [...stmt.columns];
    rows = src.rows.map((r) => [...r]);
  }
  for (const r of rows) {
    if (r.length !== columns.length) throw new TesseraError(ER.WRONG_VALUE_COUNT, 'Column count doesn\'t match value count at row 1');
    if (r.some(containsSubquery)) throw notSupported('a subquery in INSERT values');
  }
  const find = (name: string): number => columns.findIndex((c) => c.toLowerCase() === name.toLowerCase());
  let autoIncrement: { column: number; keyspace: string; table: string } | undefined;
  if (seq) {
    let i = find(seq.column);
    if (i < 0) {
      columns.push(seq.column);
      rows.forEach((r) => r.push({ kind: 'Null' }));
      i = columns.length - 1;
    }
    autoIncrement = { column: i, keyspace: seq.keyspace, table: seq.table };
  }
  const base: InsertStmt = { ...stripQualifiers(stmt, ctx), columns };
  if (!ksv?.sharded) {
    return new Insert({ keyspace: t.keyspace, sharded: false, table: t.table, statement: base, columns, rows, autoIncrement });
  }
  if (t.kind === 'reference') throw notSupported(`INSERT into reference table ${t.table} of sharded keyspace ${t.keyspace}; write to its source`);
  const pv = ctx.primaryVindex(t);
  if (!pv) throw notSupported(`INSERT into ${t.keyspace}.${t.table}, which has no primary vindex`);
  if (pv.vindex.kind !== 'functional') throw notSupported(`INSERT through the ${pv.vindex.type} primary vindex ${pv.vindex.name}`);
  const owned = (t.vschema?.columnVindexes ?? []).slice(1).filter((cv) => ctx.vschema.vindexes.get(t.keyspace)?.get(cv.name)?.kind === 'lookup');
  if (owned.length) throw notSupported(`INSERT into ${t.table}, which owns lookup vindex ${owned[0].name}`);
  const vc = find(pv.column);
  if (vc < 0) {
    throw new TesseraError(ER.UNKNOWN_ERROR, `INSERT into sharded table ${t.keyspace}.${t.table} must give its sharding column ${pv.column} (primary vindex ${pv.vindex.name})`);
  }
  for (const a of stmt.onDuplicate) {
    if (a.column.name.toLowerCase() === pv.column.toLowerCase()) {
      throw new TesseraError(ER.UNKNOWN_ERROR, `ON DUPLICATE KEY UPDATE may not change the sharding column ${pv.column} of ${t.keyspace}.${t.table}`);
    }
  }
  return new Insert({
    keyspace: t.keyspace, sharded: true, table: t.table, statement: base, columns, rows,
    vindex: pv.vindex as FunctionalVindex, vindexColumn: vc, autoIncrement,
  });
}

function sequenceOf(ctx: PlanContext, t: TableInfo): { column: string; keyspace: string; table: string } | undefined {
  const ai = t.vschema?.autoIncrement;
  if (!ai) return undefined;
  const dot = ai.sequence.indexOf('.');
  if (dot >= 0) return { column: ai.column, keyspace: ai.sequence.slice(0, dot), table: ai.sequence.slice(dot + 1) };
  const r = ctx.vschema.findTable(undefined, ai.sequence);
  if (!r) throw new TesseraError(ER.UNKNOWN_ERROR, `sequence ${ai.sequence} of ${t.table} not found`);
  return { column: ai.column, keyspace: r.keyspace, table: r.table };
}

export function planUpdateDelete(ctx: PlanContext, stmt: Update | Delete): Primitive {
  const operator = stmt.kind;
  // DELETE o FROM corder o JOIN …: the targets name aliases of FROM, not tables.
  const fromAliases = new Map<string, TableName>();
  if (stmt.kind === 'Delete') {
    const visit = (t: TableExpr): void => {
      if (t.kind === 'AliasedTable' && t.alias !== null) fromAliases.set(t.alias.toLowerCase(), t.table);
      else if (t.kind === 'Join') {
        visit(t.left);
        visit(t.right);
      } else if (t.kind === 'ParenTables') t.items.forEach(visit);
    };
    stmt.from.forEach(visit);
  }
  const isTargetAlias = (n: TableName): boolean => stmt.kind === 'Delete' && n.schema === null && stmt.targets.includes(n) && fromAliases.has(n.name.toLowerCase());
  const names = allTableNames(stmt).filter((n) => !isTargetAlias(n));
  const tables = names.map((n) => ctx.resolveTable(n));
  const target0 = stmt.kind === 'Delete' && stmt.targets.length ? stmt.targets[0] : undefined;
  const t = target0 ? ctx.resolveTable(isTargetAlias(target0) ? fromAliases.get(target0.name.toLowerCase())! : target0) : tables[0];
  if (ctx.target.shard !== null) {
    return new Route({ opcode: 'ByDestination', keyspace: ctx.target.keyspace!, sharded: true, query: stripQualifiers(stmt, ctx), shard: ctx.target.shard, write: true, tables: [t.table], operator });
  }
  if (tables.some((x) => x.kind === 'dba')) throw notSupported(`${operator} of information_schema`);
  const ksv = ctx.vschema.keyspaces[t.keyspace];
  if (!ksv?.sharded) {
    if (!tables.every((x) => x.keyspace === t.keyspace || (x.kind === 'reference' && x.vschema?.source?.split('.')[0] === t.keyspace))) {
      throw notSupported(`${operator} across keyspaces`);
    }
    return new Route({ opcode: 'Unsharded', keyspace: t.keyspace, sharded: false, query: stripQualifiers(stmt, ctx), write: true, tables: [t.table], operator });
  }
  const from = stmt.kind === 'Update' ? stmt.tables : stmt.from;
  if (from.length !== 1 || from[0].kind !== 'AliasedTable' || names.length !== 1) {
    // Several tables, or a subquery: select the keys of the rows to change first.
    if (stmt.with !== null) throw notSupported(`${operator} with WITH in a sharded keyspace`);
    return planDmlByKeys(ctx, stmt, (c, q) => planQuery(c, q, null), planUpdateDelete);
  }
  if (t.kind === 'reference') {
    if (t.vschema?.source) throw notSupported(`${operator} of reference table ${t.table}; write to its source ${t.vschema.source}`);
    return new Route({ opcode: 'Scatter', keyspace: t.keyspace, sharded: true, query: stripQualifiers(stmt, ctx), write: true, tables: [t.table], operator });
  }
  const pv = ctx.primaryVindex(t);
  const alias = from[0].alias ?? from[0].table.name;
  if (stmt.kind === 'Update') {
    for (const a of stmt.set) {
      const col = a.column.name.toLowerCase();
      for (const cv of t.vschema?.columnVindexes ?? []) {
        if (!cv.columns.some((c) => c.toLowerCase() === col)) continue;
        if (pv && cv === t.vschema!.columnVindexes[0]) {
          throw new TesseraError(ER.UNKNOWN_ERROR, `Changing the primary vindex column ${a.column.name} of ${t.keyspace}.${t.table} is not supported: delete the row and insert it again`);
        }
        if (ctx.vschema.vindexes.get(t.keyspace)?.get(cv.name)?.kind === 'lookup') throw notSupported(`UPDATE of lookup vindex column ${a.column.name}`);
      }
      if (containsSubquery(a.value)) throw notSupported('a subquery in UPDATE … SET across shards');
    }
  }
  const where = stmt.where;
  if (where && containsSubquery(where)) throw notSupported(`a subquery in the WHERE of a sharded ${operator}`);
  const columnOf = (e: Expr): { table: TableInfo; column: string } | undefined => {
    if (e.kind !== 'Column') return undefined;
    if (e.table !== null && e.table.name.toLowerCase() !== alias.toLowerCase() && e.table.name !== t.table) return undefined;
    return { table: t, column: e.name };
  };
  const choice: RoutingChoice = chooseRouting(ctx, t, predicatesOf(where), columnOf);
  let opcode: RouteOpcode = choice.opcode;
  let query = stripQualifiers(stmt, ctx);
  if (opcode === 'IN') {
    const target = choice.predicate!;
    const preds = predicatesOf(where).map((p) => (p === target && p.kind === 'In' ? ({ ...p, right: { kind: 'BindVar', name: IN_VALUES_BIND_VAR, list: true } } as Expr) : p));
    query = stripQualifiers({ ...stmt, where: preds.reduce((a, b) => and(a, b)) }, ctx);
  }
  const multi = opcode === 'Scatter' || opcode === 'IN' || opcode === 'Equal' || opcode === 'MultiEqual';
  if (multi && stmt.limit !== null) return planDmlByKeys(ctx, stmt, (c, q) => planQuery(c, q, null), planUpdateDelete);
  if (opcode === 'None') opcode = 'Scatter';
  void format;
  void formatExpr;
  return new Route({ opcode, keyspace: t.keyspace, sharded: true, query, vindex: choice.vindex, values: choice.values, write: true, tables: [t.table], operator });
}
