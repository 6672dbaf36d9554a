// A typed tree rewriter. Every node is rebuilt field by field, so adding a field to a node type
// without handling it here fails to compile. Hooks see expressions (pre-order, with the place they
// sit in) and table names; a hook returning a node replaces the subtree.

import type {
  AlterAction, Assignment, ColumnDef, CommonTableExpr, Expr, Insert, Limit, OrderItem, Portion, QueryExpr, Select, SelectItem, SetOp, SystemTime, SystemTimeBound,
  Statement, TableConstraint, TableExpr, TableName, WindowSpec, With,
} from './ast.js';

/** Where an expression sits, for hooks that treat some places differently (the normalizer). */
export type ExprPlace =
  | 'expr' // anywhere in a query or DML statement not listed below
  | 'select' // a select-list item (top level)
  | 'limit' // LIMIT / OFFSET value
  | 'orderBy' // top level of an ORDER BY item
  | 'groupBy' // top level of a GROUP BY item
  | 'frame' // window frame offset
  | 'set' // SET statement value
  | 'ddl' // DDL: defaults, checks, generated columns
  | 'other'; // SHOW filters, KILL, CALL, NEXT … VALUES

export interface Rewriter {
  /** Pre-order: return a replacement (its children are not visited) or undefined to descend. */
  expr?(e: Expr, place: ExprPlace): Expr | undefined;
  /** Every table name: FROM, INSERT/UPDATE/DELETE targets, DDL, SHOW. Not column qualifiers. */
  tableName?(t: TableName): TableName;
  /** Column qualifiers (`t.c`): by default left alone. */
  columnQualifier?(t: TableName): TableName;
}

export function rewriteExpr(e: Expr, r: Rewriter, place: ExprPlace = 'expr'): Expr {
  if (r.expr) {
    const x = r.expr(e, place);
    if (x !== undefined) return x;
  }
  const ex = (c: Expr): Expr => rewriteExpr(c, r);
  switch (e.kind) {
    case 'String':
    case 'Number':
    case 'Hex':
    case 'Bit':
    case 'Null':
    case 'Bool':
    case 'TypedLiteral':
    case 'Param':
    case 'BindVar':
    case 'UserVar':
    case 'SysVar':
    case 'Default':
    case 'Keyword':
      return e;
    case 'Column':
      return e.table !== null && r.columnQualifier ? { kind: 'Column', table: r.columnQualifier(e.table), name: e.name } : e;
    case 'Star':
      return e.table !== null && r.columnQualifier ? { kind: 'Star', table: r.columnQualifier(e.table) } : e;
    case 'ValuesFunc':
      return { kind: 'ValuesFunc', column: ex(e.column) as typeof e.column };
    case 'Unary':
      return { kind: 'Unary', op: e.op, expr: ex(e.expr) };
    case 'Binary':
      return { kind: 'Binary', op: e.op, left: ex(e.left), right: ex(e.right) };
    case 'Quantified':
      return { kind: 'Quantified', op: e.op, quantifier: e.quantifier, left: ex(e.left), query: rewriteQuery(e.query, r) };
    case 'Is':
      return { kind: 'Is', expr: ex(e.expr), not: e.not, value: e.value };
    case 'Between':
      return { kind: 'Between', expr: ex(e.expr), not: e.not, low: ex(e.low), high: ex(e.high) };
    case 'In':
      return { kind: 'In', expr: ex(e.expr), not: e.not, right: ex(e.right) as typeof e.right };
    case 'Like':
      return { kind: 'Like', op: e.op, expr: ex(e.expr), not: e.not, pattern: ex(e.pattern), escape: e.escape === null ? null : ex(e.escape) };
    case 'MemberOf':
      return { kind: 'MemberOf', expr: ex(e.expr), json: ex(e.json) };
    case 'Case':
      return {
        kind: 'Case', operand: e.operand === null ? null : ex(e.operand), whens: e.whens.map((w) => ({ when: ex(w.when), then: ex(w.then) })),
        else: e.else === null ? null : ex(e.else),
      };
    case 'Cast':
      return { kind: 'Cast', expr: ex(e.expr), type: e.type, convert: e.convert };
    case 'ConvertUsing':
      return { kind: 'ConvertUsing', expr: ex(e.expr), charset: e.charset };
    case 'Collate':
      return { kind: 'Collate', expr: ex(e.expr), collation: e.collation };
    case 'Interval':
      return { kind: 'Interval', expr: ex(e.expr), unit: e.unit };
    case 'Extract':
      return { kind: 'Extract', unit: e.unit, expr: ex(e.expr) };
    case 'Trim':
      return { kind: 'Trim', side: e.side, remove: e.remove === null ? null : ex(e.remove), expr: ex(e.expr) };
    case 'Func':
      return {
        ...e, args: e.args.map(ex),
        over: e.over === null || typeof e.over === 'string' ? e.over : rewriteWindow(e.over, r),
        ...(e.withinGroup ? { withinGroup: rewriteOrder(e.withinGroup, r) } : {}),
      };
    case 'GroupConcat':
      return {
        kind: 'GroupConcat', distinct: e.distinct, args: e.args.map(ex), orderBy: rewriteOrder(e.orderBy, r), separator: e.separator,
        limit: rewriteLimit(e.limit, r),
      };
    case 'Match':
      return { kind: 'Match', columns: e.columns.map((c) => ex(c) as typeof c), against: ex(e.against), modifier: e.modifier };
    case 'Tuple':
      return { kind: 'Tuple', items: e.items.map(ex), row: e.row };
    case 'Subquery':
      return { kind: 'Subquery', query: rewriteQuery(e.query, r) };
    case 'Exists':
      return { kind: 'Exists', query: rewriteQuery(e.query, r) };
    default: {
      const never: never = e;
      throw new Error(`unknown expression ${(never as Expr).kind}`);
    }
  }
}

function rewriteWindow(w: WindowSpec, r: Rewriter): WindowSpec {
  return {
    kind: 'WindowSpec', base: w.base, partitionBy: w.partitionBy.map((e) => rewriteExpr(e, r)), orderBy: rewriteOrder(w.orderBy, r),
    frame:
      w.frame === null
        ? null
        : {
            unit: w.frame.unit,
            start: { type: w.frame.start.type, offset: w.frame.start.offset === null ? null : rewriteExpr(w.frame.start.offset, r, 'frame') },
            end:
              w.frame.end === null
                ? null
                : { type: w.frame.end.type, offset: w.frame.end.offset === null ? null : rewriteExpr(w.frame.end.offset, r, 'frame') },
          },
  };
}

function rewriteOrder(items: readonly OrderItem[], r: Rewriter): OrderItem[] {
  return items.map((o) => ({ expr: rewriteExpr(o.expr, r, 'orderBy'), direction: o.direction }));
}

function rewriteSystemTime(s: SystemTime, r: Rewriter): SystemTime {
  const b = (x: SystemTimeBound): SystemTimeBound => ({ unit: x.unit, expr: rewriteExpr(x.expr, r, 'other') });
  if (s.kind === 'ALL') return s;
  if (s.kind === 'AS OF') return { kind: 'AS OF', at: b(s.at) };
  return { kind: s.kind, from: b(s.from), to: b(s.to) };
}

/** An INSERT's or DELETE's RETURNING list, as a spread (nothing when absent). */
function returning(items: readonly SelectItem[] | undefined, r: Rewriter): { returning?: SelectItem[] } {
  if (items === undefined) return {};
  return { returning: items.map((c) => ({ expr: rewriteExpr(c.expr, r, 'select'), alias: c.alias, start: c.start, end: c.end })) };
}

function portion(x: Portion | undefined, r: Rewriter): { portion?: Portion } {
  return x === undefined ? {} : { portion: { period: x.period, from: rewriteExpr(x.from, r), to: rewriteExpr(x.to, r) } };
}

function rewriteLimit(l: Limit | null, r: Rewriter): Limit | null {
  if (l === null) return null;
  const out: { -readonly [K in keyof Limit]: Limit[K] } = { count: rewriteExpr(l.count, r, 'limit'), offset: l.offset === null ? null : rewriteExpr(l.offset, r, 'limit') };
  if (l.withTies) out.withTies = true;
  if (l.examined !== undefined) out.examined = rewriteExpr(l.examined, r, 'limit');
  return out;
}

function rewriteWith(w: With | null, r: Rewriter): With | null {
  if (w === null) return null;
  return {
    recursive: w.recursive,
    ctes: w.ctes.map((c): CommonTableExpr => ({ name: c.name, columns: c.columns, query: rewriteQuery(c.query, r) })),
  };
}

function tn(t: TableName, r: Rewriter): TableName {
  return r.tableName ? r.tableName(t) : t;
}

export function rewriteTableExpr(t: TableExpr, r: Rewriter): TableExpr {
  switch (t.kind) {
    case 'AliasedTable':
      return {
        kind: 'AliasedTable', table: tn(t.table, r), partitions: t.partitions, alias: t.alias, indexHints: t.indexHints,
        ...(t.systemTime ? { systemTime: rewriteSystemTime(t.systemTime, r) } : {}),
      };
    case 'DerivedTable':
      return { kind: 'DerivedTable', lateral: t.lateral, query: rewriteQuery(t.query, r), alias: t.alias, columns: t.columns };
    case 'Join':
      return {
        kind: 'Join', type: t.type, left: rewriteTableExpr(t.left, r), right: rewriteTableExpr(t.right, r),
        on: t.on === null ? null : rewriteExpr(t.on, r), using: t.using,
      };
    case 'ParenTables':
      return { kind: 'ParenTables', items: t.items.map((i) => rewriteTableExpr(i, r)) };
    case 'JsonTable':
      return { ...t, doc: rewriteExpr(t.doc, r) };
    default: {
      const never: never = t;
      throw new Error(`unknown table expression ${(never as TableExpr).kind}`);
    }
  }
}

export function rewriteQuery(q: QueryExpr, r: Rewriter): QueryExpr {
  if (q.kind === 'SetOp') {
    const s: SetOp = {
      kind: 'SetOp', with: rewriteWith(q.with, r), op: q.op, all: q.all, left: rewriteQuery(q.left, r), right: rewriteQuery(q.right, r),
      orderBy: rewriteOrder(q.orderBy, r), limit: rewriteLimit(q.limit, r), lock: q.lock, into: q.into, start: q.start, end: q.end,
    };
    return s;
  }
  const s: Select = {
    kind: 'Select', with: rewriteWith(q.with, r), hints: q.hints, distinct: q.distinct, options: q.options,
    columns: q.columns.map((c) => ({ expr: rewriteExpr(c.expr, r, 'select'), alias: c.alias, start: c.start, end: c.end })),
    from: q.from.map((t) => rewriteTableExpr(t, r)), where: q.where === null ? null : rewriteExpr(q.where, r),
    groupBy: q.groupBy.map((e) => rewriteExpr(e, r, 'groupBy')), rollup: q.rollup, having: q.having === null ? null : rewriteExpr(q.having, r),
    windows: q.windows.map((w) => ({ name: w.name, spec: rewriteWindow(w.spec, r) })), orderBy: rewriteOrder(q.orderBy, r),
    limit: rewriteLimit(q.limit, r), lock: q.lock, into: q.into, start: q.start, end: q.end,
    ...(q.groupByOrder ? { groupByOrder: q.groupByOrder } : {}),
    ...(q.procedure ? { procedure: { name: q.procedure.name, args: q.procedure.args.map((e) => rewriteExpr(e, r)) } } : {}),
    ...(q.tableValues ? { tableValues: q.tableValues.map((row) => row.map((e) => rewriteExpr(e, r, 'select'))) } : {}),
  };
  return s;
}

function assignments(list: readonly Assignment[], r: Rewriter): Assignment[] {
  return list.map((a) => ({ column: rewriteExpr(a.column, r) as typeof a.column, value: rewriteExpr(a.value, r) }));
}

function columnDef(c: ColumnDef, r: Rewriter): ColumnDef {
  const d = (e: Expr | null): Expr | null => (e === null ? null : rewriteExpr(e, r, 'ddl'));
  return {
    name: c.name, type: c.type, nullable: c.nullable, default: d(c.default), onUpdate: d(c.onUpdate), autoIncrement: c.autoIncrement,
    key: c.key, comment: c.comment, generated: c.generated === null ? null : { expr: rewriteExpr(c.generated.expr, r, 'ddl'), stored: c.generated.stored },
    invisible: c.invisible, check: d(c.check),
    references: c.references === null ? null : { ...c.references, table: tn(c.references.table, r) },
    ...(c.attributes ? { attributes: c.attributes } : {}),
  };
}

function constraint(c: TableConstraint, r: Rewriter): TableConstraint {
  if (c.kind === 'Check') return { kind: 'Check', constraintName: c.constraintName, expr: rewriteExpr(c.expr, r, 'ddl') };
  if (c.kind === 'ForeignKey') return { ...c, reference: { ...c.reference, table: tn(c.reference.table, r) } };
  return c;
}

function alterAction(a: AlterAction, r: Rewriter): AlterAction {
  switch (a.kind) {
    case 'AddColumn':
      return { ...a, columns: a.columns.map((c) => columnDef(c, r)) };
    case 'AddConstraint':
      return { ...a, constraint: constraint(a.constraint, r) };
    case 'ModifyColumn':
    case 'ChangeColumn':
      return { ...a, column: columnDef(a.column, r) };
    case 'RenameTable':
      return { kind: 'RenameTable', table: tn(a.table, r) };
    default:
      return a;
  }
}

type Explainable = Select | SetOp | Insert | Extract<Statement, { kind: 'Update' | 'Delete' }>;

/** Rewrites a statement; the result has the same kind as the input. */
export function rewrite<S extends Statement>(s: S, r: Rewriter): S {
  return rewriteStatement(s, r) as S;
}

function rewriteStatement(s: Statement, r: Rewriter): Statement {
  const other = (e: Expr): Expr => rewriteExpr(e, r, 'other');
  switch (s.kind) {
    case 'Select':
    case 'SetOp':
      return rewriteQuery(s, r);
    case 'Insert': {
      const src = s.source;
      return {
        kind: 'Insert', replace: s.replace, hints: s.hints, priority: s.priority, ignore: s.ignore, table: tn(s.table, r), partitions: s.partitions,
        columns: s.columns,
        source:
          src.kind === 'Values'
            ? { kind: 'Values', rows: src.rows.map((row) => row.map((e) => rewriteExpr(e, r))) }
            : src.kind === 'InsertSet'
              ? { kind: 'InsertSet', assignments: assignments(src.assignments, r) }
              : rewriteQuery(src, r),
        onDuplicate: assignments(s.onDuplicate, r), ...returning(s.returning, r), start: s.start, end: s.end,
      };
    }
    case 'Update':
      return {
        kind: 'Update', with: rewriteWith(s.with, r), hints: s.hints, lowPriority: s.lowPriority, ignore: s.ignore,
        tables: s.tables.map((t) => rewriteTableExpr(t, r)), ...portion(s.portion, r), set: assignments(s.set, r), where: s.where === null ? null : rewriteExpr(s.where, r),
        orderBy: rewriteOrder(s.orderBy, r), limit: rewriteLimit(s.limit, r), start: s.start, end: s.end,
      };
    case 'Delete':
      return {
        kind: 'Delete', with: rewriteWith(s.with, r), hints: s.hints, lowPriority: s.lowPriority, quick: s.quick, ignore: s.ignore,
        targets: s.targets.map((t) => tn(t, r)), from: s.from.map((t) => rewriteTableExpr(t, r)), ...portion(s.portion, r), where: s.where === null ? null : rewriteExpr(s.where, r),
        orderBy: rewriteOrder(s.orderBy, r), limit: rewriteLimit(s.limit, r), ...returning(s.returning, r), start: s.start, end: s.end,
      };
    case 'Set':
      return {
        kind: 'Set', start: s.start, end: s.end,
        items: s.items.map((it) => (it.kind === 'SetSysVar' || it.kind === 'SetUserVar' ? { ...it, value: rewriteExpr(it.value, r, 'set') } : it)),
      };
    case 'Show':
      return {
        ...s, table: s.table === null ? null : tn(s.table, r),
        filter: s.filter === null || s.filter.kind === 'Like' ? s.filter : { kind: 'Where', expr: other(s.filter.expr) },
      };
    case 'DescribeTable':
      return { ...s, table: tn(s.table, r) };
    case 'Explain':
    case 'VExplain':
      return { ...s, statement: rewriteStatement(s.statement, r) as Explainable };
    case 'CreateTable':
      return {
        ...s, table: tn(s.table, r), columns: s.columns.map((c) => columnDef(c, r)), constraints: s.constraints.map((c) => constraint(c, r)),
        like: s.like === null ? null : tn(s.like, r), select: s.select === null ? null : rewriteQuery(s.select, r),
      };
    case 'AlterTable':
      return { ...s, table: tn(s.table, r), actions: s.actions.map((a) => alterAction(a, r)) };
    case 'DropTable':
      return { ...s, tables: s.tables.map((t) => tn(t, r)) };
    case 'TruncateTable':
      return { ...s, table: tn(s.table, r) };
    case 'RenameTable':
      return { ...s, pairs: s.pairs.map((p) => ({ from: tn(p.from, r), to: tn(p.to, r) })) };
    case 'CreateIndex':
    case 'DropIndex':
      return { ...s, table: tn(s.table, r) };
    case 'CreateView':
      return { ...s, name: tn(s.name, r), query: rewriteQuery(s.query, r) };
    case 'DropView':
      return { ...s, names: s.names.map((t) => tn(t, r)) };
    case 'LockTables':
      return { ...s, tables: s.tables.map((t) => ({ ...t, table: tn(t.table, r) })) };
    case 'Flush':
      return { ...s, tables: s.tables.map((t) => tn(t, r)) };
    case 'Kill':
      return { ...s, id: other(s.id) };
    case 'Call':
      return { ...s, args: s.args.map(other) };
    case 'NextVal':
      return { ...s, count: other(s.count), table: tn(s.table, r) };
    case 'SetTransaction':
    case 'Use':
    case 'Begin':
    case 'Commit':
    case 'Rollback':
    case 'Savepoint':
    case 'ReleaseSavepoint':
    case 'CreateDatabase':
    case 'DropDatabase':
    case 'UnlockTables':
    case 'Prepare':
    case 'Execute':
    case 'Deallocate':
    case 'AlterVschema':
    case 'StoredProgram':
    case 'Compound':
    case 'SequenceDdl':
    case 'SetStatementFor':
    case 'ExecuteImmediate':
    case 'ServerStatement':
      return s;
    default: {
      const never: never = s;
      throw new Error(`unknown statement ${(never as Statement).kind}`);
    }
  }
}

/** Visits every expression and table name of a statement, read-only. */
export function walk(s: Statement, visit: { expr?(e: Expr, place: ExprPlace): void; tableName?(t: TableName): void }): void {
  rewriteStatement(s, {
    expr: visit.expr
      ? (e, place) => {
          visit.expr!(e, place);
          return undefined;
        }
      : undefined,
    tableName: visit.tableName
      ? (t) => {
          visit.tableName!(t);
          return t;
        }
      : undefined,
  });
}

/** Every table name a statement refers to (FROM, targets, DDL), in order, with duplicates. */
export function tableNames(s: Statement): TableName[] {
  const out: TableName[] = [];
  walk(s, { tableName: (t) => out.push(t) });
  return out;
}
