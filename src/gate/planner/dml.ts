// INSERT, UPDATE and DELETE planning.
import { format, formatExpr, type Delete, type Expr, type Insert as InsertStmt, type Select, type TableExpr, type TableName, type Update } from '../../sql/index.js';
import { OwnedDml, type OwnedLookup } from '../engine/owned-dml.js';
import { ER, TesseraError } from '../../mysql/index.js';
import type { FunctionalVindex } from '../../vindexes/index.js';
import { Insert, type LookupColumns } from '../engine/insert.js';
import { IN_VALUES_BIND_VAR, Route, type RouteOpcode } from '../engine/route.js';
import { notSupported } from '../errors.js';
import type { Primitive } from '../types.js';
import {
  allTableNames, chooseRouting, containsSubquery, isRoutableValue, predicatesOf, stripQualifiers, type PlanContext, type RoutingChoice, type TableInfo,
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
  if (stmt.returning && ksv?.sharded) throw notSupported(`${stmt.replace ? 'REPLACE' : 'INSERT'} … RETURNING on a sharded keyspace; target one shard (USE ks:shard)`);
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
  const owned = ctx.ownedLookups(t);
  const unowned = ctx.unownedLookups(t);
  if (owned.length && stmt.replace) throw notSupported(`REPLACE into ${t.table}, which owns lookup vindex ${owned[0].vindex.name}: use INSERT … ON DUPLICATE KEY UPDATE`);
  const lookupColumns = (list: typeof owned): LookupColumns[] =>
    list.map((l) => ({
      vindex: l.vindex,
      columns: l.columns.map((c) => {
        let i = find(c);
        if (i < 0) {
          // As Vitess: a lookup column the statement leaves out is inserted as NULL, so the
          // lookup row and the stored row agree.
          columns.push(c);
          rows.forEach((r) => r.push({ kind: 'Null' }));
          i = columns.length - 1;
        }
        return i;
      }),
    }));
  const ownedCols = lookupColumns(owned);
  const unownedCols = lookupColumns(unowned);
  for (const a of stmt.onDuplicate) {
    const l = owned.find((o) => o.columns.some((c) => c.toLowerCase() === a.column.name.toLowerCase()));
    if (l) throw notSupported(`ON DUPLICATE KEY UPDATE of column ${a.column.name}, which lookup vindex ${l.vindex.name} maps`);
  }
  const vc = find(pv.column);
  if (vc < 0) {
    throw new TesseraError(ER.UNKNOWN_ERROR, `INSERT into sharded table ${t.keyspace}.${t.table} must give its sharding column ${pv.column} (primary vindex ${pv.vindex.name})`);
  }
  for (const a of stmt.onDuplicate) {
    if (a.column.name.toLowerCase() === pv.column.toLowerCase()) {
      throw new TesseraError(ER.UNKNOWN_ERROR, `ON DUPLICATE KEY UPDATE may not change the sharding column ${pv.column} of ${t.keyspace}.${t.table}`);
    }
  }
  const lookups = ownedCols.length || unownedCols.length ? { owned: ownedCols, unowned: unownedCols, ignore: stmt.ignore || stmt.onDuplicate.length > 0 } : {};
  return new Insert({
    keyspace: t.keyspace, sharded: true, table: t.table, statement: ownedCols.length || unownedCols.length ? { ...base, source: { kind: 'Values', rows } } : base, columns, rows,
    vindex: pv.vindex as FunctionalVindex, vindexColumn: vc, autoIncrement, ...lookups,
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
  if (stmt.kind === 'Delete' && stmt.returning) throw notSupported('DELETE … RETURNING on a sharded keyspace; target one shard (USE ks:shard)');
  if (stmt.portion) throw notSupported(`${operator} … FOR PORTION OF on a sharded keyspace; target one shard (USE ks:shard)`);
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
        if (ctx.vschema.vindexes.get(t.keyspace)?.get(cv.name)?.kind !== 'lookup') continue;
        if (!ctx.ownedLookups(t).some((o) => o.vindex.name === cv.name)) {
          throw notSupported(`UPDATE of column ${a.column.name}, which lookup vindex ${cv.name} maps but ${t.table} does not own (set its owner, or change the lookup table first)`);
        }
        const v = a.value;
        if (!isRoutableValue(v) && !(v.kind === 'Unary' && v.op === '-' && v.expr.kind === 'Number')) {
          throw notSupported(`UPDATE of lookup vindex column ${a.column.name} to the expression ${formatExpr(v)} (give a value)`);
        }
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
  const dml = new Route({ opcode, keyspace: t.keyspace, sharded: true, query, vindex: choice.vindex, values: choice.values, write: true, tables: [t.table], operator });
  return withOwnedLookups(ctx, t, stmt, query, dml);
}

/**
 * An UPDATE or DELETE of a table owning lookup vindexes: wrapped in OwnedDml, which reads and
 * locks the rows it changes (routed as the statement is) to keep the lookup rows right. An
 * UPDATE that changes none of their columns needs nothing more.
 */
function withOwnedLookups(ctx: PlanContext, t: TableInfo, stmt: Update | Delete, query: Update | Delete, dml: Route): Primitive {
  const owned = ctx.ownedLookups(t);
  const pv = ctx.primaryVindex(t);
  if (owned.length === 0 || !pv) return dml;
  if (pv.vindex.kind !== 'functional') throw notSupported(`${stmt.kind} of ${t.table}: its primary vindex ${pv.vindex.name} is not functional`);
  const items: Expr[] = [{ kind: 'Column', table: null, name: pv.column }];
  const lookups: OwnedLookup[] = [];
  for (const o of owned) {
    let newValues: Expr[] | undefined;
    if (stmt.kind === 'Update') {
      const set = o.columns.map((c) => stmt.set.find((a) => a.column.name.toLowerCase() === c.toLowerCase()));
      if (set.every((a) => a === undefined)) continue;
      // Columns of the vindex the statement leaves alone keep their value: compare to themselves.
      newValues = set.map((a, i) => a?.value ?? ({ kind: 'Column', table: null, name: o.columns[i] } as Expr));
      if (newValues.some((e) => e.kind === 'Column')) throw notSupported(`UPDATE of only some of the columns of multi-column lookup vindex ${o.vindex.name}`);
    }
    lookups.push({ vindex: o.vindex, columns: o.columns, offset: items.length, newValues });
    for (const c of o.columns) items.push({ kind: 'Column', table: null, name: c });
  }
  if (lookups.length === 0) return dml;
  const from = query.kind === 'Update' ? query.tables : query.from;
  const select: Select = {
    kind: 'Select', with: null, hints: null, distinct: false, options: [],
    columns: items.map((expr) => ({ expr, alias: null, start: -1, end: -1 })),
    from, where: query.where, groupBy: [], rollup: false, having: null, windows: [],
    orderBy: query.orderBy, limit: query.limit, lock: { type: 'FOR UPDATE', wait: null }, into: null, start: -1, end: -1,
  };
  const read = new Route({ ...dml.spec, query: select, operator: 'Route' });
  return new OwnedDml({ operator: stmt.kind, keyspace: t.keyspace, table: t.table, select: read, dml, primaryVindex: pv.vindex, owned: lookups });
}
