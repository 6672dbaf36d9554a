// The part of a SELECT the gate finishes after rows come back from several places: aggregation,
// HAVING, DISTINCT, ORDER BY, LIMIT and the final column list. The rows come from a `Producer`:
// a scatter Route whose pushed query gets the columns the gate needs (partial aggregates computed
// on each shard), or a gate-side Projection over a join or derived table (raw rows, aggregated
// from scratch).
import { formatExpr, rewriteExpr, type Expr, type FuncCall, type GroupConcat, type Select, type SelectItem } from '../../sql/index.js';
import { Aggregate, type AggRole } from '../engine/aggregate.js';
import type { CollationHint } from '../values.js';
import { Distinct } from '../engine/distinct.js';
import { Filter } from '../engine/filter.js';
import { Limit } from '../engine/limit.js';
import { MemorySort } from '../engine/memory-sort.js';
import { compileExprType } from '../engine/expr-type.js';
import { Projection, type ProjectedColumn } from '../engine/projection.js';
import type { OrderByOffset } from '../engine/route.js';
import { notSupported } from '../errors.js';
import { compileExpr } from '../evaluate.js';
import type { Primitive } from '../types.js';
import { containsAggregate, containsSubquery, exprKey, isAggregateCall } from './context.js';

export interface Producer {
  readonly mode: 'partial' | 'raw';
  /**
   * Adds a column the producer computes; returns its offset. `alias` names it in the result.
   * `hidden` columns (for ORDER BY, GROUP BY, HAVING) may reuse an equal column already added.
   */
  add(e: Expr, alias: string | null, hidden?: boolean): number;
  /** Partial mode: a pushed GROUP BY expression. */
  addGroupBy(e: Expr): void;
  /** The primitive producing the rows, once every column is added. */
  build(): Primitive;
}

/** The name MariaDB gives a select item's column. */
export function itemName(item: SelectItem, sql: string | null): string {
  if (item.alias !== null) return item.alias;
  if (item.expr.kind === 'Column') return item.expr.name;
  if (sql !== null && item.start >= 0 && item.end > item.start) return sql.slice(item.start, item.end);
  return formatExpr(item.expr);
}

/**
 * The alias a pushed select item gets: its own, its text as written, or nothing when only the
 * normalized text is known (a name like `:vtg1 + 1` would be worse than the shard's own).
 */
export function pushedName(item: SelectItem, sql: string | null): string | null {
  if (item.alias !== null) return item.alias;
  if (item.expr.kind === 'Column' || item.expr.kind === 'Star') return null;
  if (sql !== null && item.start >= 0 && item.end > item.start) return sql.slice(item.start, item.end);
  const text = formatExpr(item.expr);
  return /:[A-Za-z_]/.test(text) ? null : text;
}

/** Finds an ORDER BY / GROUP BY / HAVING expression among the select items: its index or -1. */
export function matchItem(e: Expr, items: readonly SelectItem[], allowPosition: boolean): number {
  if (allowPosition && e.kind === 'Number' && e.numType === 'int') {
    const n = Number(e.text);
    if (n >= 1 && n <= items.length) return n - 1;
    throw notSupported(`ORDER BY/GROUP BY position ${e.text} outside the select list`);
  }
  if (e.kind === 'Column' && e.table === null) {
    const i = items.findIndex((it) => it.alias !== null && it.alias.toLowerCase() === e.name.toLowerCase());
    if (i >= 0) return i;
  }
  const k = exprKey(e);
  let i = items.findIndex((it) => exprKey(it.expr) === k);
  if (i >= 0) return i;
  if (e.kind === 'Column') {
    // `ORDER BY name` against `SELECT c.name` (or the reverse) is the same column when unambiguous.
    const same = items
      .map((it, idx) => ({ it, idx }))
      .filter(({ it }) => it.expr.kind === 'Column' && it.expr.name.toLowerCase() === e.name.toLowerCase() && (e.table === null || it.expr.table === null));
    if (same.length === 1) i = same[0].idx;
  }
  return i;
}

type AggKind = 'count' | 'countStar' | 'sum' | 'min' | 'max' | 'avg' | 'countDistinct' | 'sumDistinct' | 'avgDistinct';

function aggKind(f: FuncCall): AggKind {
  const n = f.name.toUpperCase();
  const star = f.args.length === 1 && f.args[0].kind === 'Star';
  if (n === 'COUNT') return star ? 'countStar' : f.distinct ? 'countDistinct' : 'count';
  if (n === 'SUM') return f.distinct ? 'sumDistinct' : 'sum';
  if (n === 'MIN') return 'min';
  if (n === 'MAX') return 'max';
  if (n === 'AVG') return f.distinct ? 'avgDistinct' : 'avg';
  throw notSupported(`aggregate ${n} across shards`);
}

interface GateColumn {
  readonly offset: number;
  role: AggRole;
}

/**
 * Plans the gate-side finish of `sel` over `producer`. `sql` is the original text (for column
 * names). `needGate` is false when the producer's route already returns final rows (then only the
 * ORDER BY merge and LIMIT are added by the caller).
 */
/**
 * COLLATION() of a pushed expression, for a hidden column beside it: for computed text MariaDB's
 * metadata names the connection's collation, not the one the shards compared by (CollationHint).
 */
function collationOf(e: Expr): Expr {
  return { kind: 'Func', schema: null, name: 'COLLATION', args: [e], distinct: false, bare: false, over: null };
}

export function planGateSelect(
  sel: Select,
  producer: Producer,
  sql: string | null,
  extras: { orderOnRoute?: (order: OrderByOffset[], hidden: number, collationHints: CollationHint[]) => void; pushedLimit?: (count: Expr, offset: Expr | null) => void },
): Primitive {
  const items = sel.columns;
  const hasStar = items.some((it) => it.expr.kind === 'Star');
  const hasAgg = sel.groupBy.length > 0 || items.some((i) => containsAggregate(i.expr)) || (sel.having !== null && containsAggregate(sel.having));
  if (sel.having !== null && !hasAgg) throw notSupported('HAVING without aggregation across shards');
  const visible = items.length;

  if (hasStar && (hasAgg || sel.distinct || producer.mode === 'raw')) {
    throw notSupported('SELECT * with aggregation, DISTINCT or a cross-shard join');
  }
  if (!hasAgg && !sel.distinct) {
    for (const it of items) producer.add(it.expr, pushedName(it, sql));
    const order: OrderByOffset[] = [];
    let width = visible;
    if (hasStar) {
      // A star's width is known only when rows come back: sort columns are appended and addressed
      // from the end of the row.
      const added = sel.orderBy.map((o) => ({ at: producer.add(o.expr, null, true), desc: o.direction === 'DESC' }));
      const n = added.length;
      added.forEach((a, k) => order.push({ offset: -(n - k), desc: a.desc }));
      extras.orderOnRoute?.(order, n, []);
      if (sel.limit && extras.pushedLimit) extras.pushedLimit(sel.limit.count, sel.limit.offset);
      let p = producer.build();
      if (sel.limit) p = new Limit(p, sel.limit.count, sel.limit.offset);
      return p;
    }
    const orderExprs: Expr[] = [];
    for (const o of sel.orderBy) {
      let i = matchItem(o.expr, items, true);
      orderExprs.push(i >= 0 ? items[i].expr : o.expr);
      if (i < 0) {
        i = producer.add(o.expr, null, true);
        width = Math.max(width, i + 1);
      }
      order.push({ offset: i, desc: o.direction === 'DESC' });
    }
    if (producer.mode === 'partial' && extras.orderOnRoute) {
      // A table column's collation comes with its metadata (the tablet names it); a computed
      // one's from the shards.
      const hints: CollationHint[] = [];
      order.forEach((o, k) => {
        if (orderExprs[k].kind === 'Column') return;
        const h = producer.add(collationOf(orderExprs[k]), null, true);
        width = Math.max(width, h + 1);
        hints.push([o.offset, h]);
      });
      extras.orderOnRoute(order, width - visible, hints);
      if (sel.limit && extras.pushedLimit) extras.pushedLimit(sel.limit.count, sel.limit.offset);
      let p = producer.build();
      if (sel.limit) p = new Limit(p, sel.limit.count, sel.limit.offset);
      return p;
    }
    let p = producer.build();
    if (order.length) p = new MemorySort(p, order, width > visible ? visible : undefined);
    else if (width > visible) p = trim(p, visible);
    if (sel.limit) p = new Limit(p, sel.limit.count, sel.limit.offset);
    return p;
  }

  // Aggregation (or DISTINCT, which is grouping by every column).
  for (const it of items) {
    if (containsSubquery(it.expr)) throw notSupported('a subquery in the select list of an aggregation across shards');
  }
  const cols: GateColumn[] = [];
  const aggOffsets = new Map<string, number>();
  const groupKeys: number[] = [];
  const collationHints: CollationHint[] = [];
  const addAgg = (f: FuncCall | GroupConcat, alias: string | null): number => {
    const key = exprKey(f);
    const seen = aggOffsets.get(key);
    if (seen !== undefined && alias === null) return seen;
    if (f.kind === 'GroupConcat') {
      const off = addGroupConcat(f, alias);
      aggOffsets.set(key, off);
      return off;
    }
    const kind = aggKind(f);
    const arg = f.args[0];
    let off: number;
    if (f.args.length > 1 && kind !== 'countDistinct') throw notSupported(`${f.name.toUpperCase()} of several arguments`);
    if (kind === 'countDistinct' && f.args.length > 1) {
      // COUNT(DISTINCT a, b): the distinct rows of (a, b) without a NULL; in partial mode every
      // argument is a pushed grouping column.
      off = producer.add(arg, alias ?? formatExpr(f));
      if (producer.mode === 'partial') producer.addGroupBy(arg);
      const more = f.args.slice(1).map((a) => {
        const o = producer.add(a, null, true);
        cols[o] ??= { offset: o, role: { kind: 'hidden' } };
        if (producer.mode === 'partial') producer.addGroupBy(a);
        return o;
      });
      cols[off] = { offset: off, role: { kind: 'countDistinct', more } };
    } else if (producer.mode === 'raw') {
      off = kind === 'countStar' ? producer.add({ kind: 'Number', text: '1', numType: 'int' }, alias) : producer.add(arg, alias);
      cols[off] = { offset: off, role: kind === 'avg' ? { kind: 'avg', countOffset: -1 } : { kind } };
    } else if (kind === 'avg') {
      off = producer.add({ kind: 'Func', schema: null, name: 'SUM', args: [arg], distinct: false, bare: false, over: null }, alias ?? formatExpr(f));
      const cnt = producer.add({ kind: 'Func', schema: null, name: 'COUNT', args: [arg], distinct: false, bare: false, over: null }, null);
      cols[off] = { offset: off, role: { kind: 'avg', countOffset: cnt } };
      cols[cnt] = { offset: cnt, role: { kind: 'hidden' } };
    } else if (kind === 'countDistinct' || kind === 'sumDistinct' || kind === 'avgDistinct') {
      off = producer.add(arg, alias ?? formatExpr(f));
      producer.addGroupBy(arg);
      groupKeys.push(-1 - off); // marked: a pushed grouping column, not a gate key
      cols[off] = { offset: off, role: { kind } };
    } else {
      off = producer.add(f, alias ?? null);
      cols[off] = { offset: off, role: { kind } };
      if (kind === 'min' || kind === 'max') {
        // The shards say which collation their MIN/MAX compared by: result metadata does not.
        const hint = producer.add(collationOf(f), null, true);
        cols[hint] = { offset: hint, role: { kind: 'hidden' } };
        collationHints.push([off, hint]);
      }
    }
    aggOffsets.set(key, off);
    return off;
  };
  // GROUP_CONCAT: the shards group by its arguments and ORDER BY expressions as well and count
  // each group's rows (partial mode), so the gate sees every value with its multiplicity; raw
  // rows count one each. The gate orders, de-duplicates, joins and cuts at group_concat_max_len
  // (the session's, as the shards report it).
  const addGroupConcat = (g: GroupConcat, alias: string | null): number => {
    if (g.limit !== null) throw notSupported('GROUP_CONCAT(… LIMIT …) across shards');
    if (g.args.some((a) => a.kind === 'Star' || containsAggregate(a)) || g.orderBy.some((o) => containsAggregate(o.expr))) throw notSupported('GROUP_CONCAT of an aggregate across shards');
    const hiddenCol = (e: Expr): number => {
      const o = producer.add(e, null, true);
      cols[o] ??= { offset: o, role: { kind: 'hidden' } };
      if (producer.mode === 'partial') producer.addGroupBy(e);
      return o;
    };
    const off = producer.add(g.args[0], alias ?? formatExpr(g));
    if (producer.mode === 'partial') producer.addGroupBy(g.args[0]);
    const args = [off, ...g.args.slice(1).map(hiddenCol)];
    const order = g.orderBy.map((o) => {
      const pos = o.expr.kind === 'Number' && o.expr.numType === 'int' ? Number(o.expr.text) : 0;
      // ORDER BY n names the n-th argument, as in MariaDB.
      const at = pos >= 1 && pos <= args.length ? args[pos - 1] : hiddenCol(o.expr);
      return { offset: at, desc: o.direction === 'DESC' };
    });
    let countOffset = -1;
    let maxLenOffset = -1;
    if (producer.mode === 'partial') {
      countOffset = producer.add({ kind: 'Func', schema: null, name: 'COUNT', args: [{ kind: 'Star', table: null }], distinct: false, bare: false, over: null }, null);
      cols[countOffset] = { offset: countOffset, role: { kind: 'hidden' } };
      maxLenOffset = producer.add({ kind: 'SysVar', scope: null, name: 'group_concat_max_len' }, null, true);
      cols[maxLenOffset] ??= { offset: maxLenOffset, role: { kind: 'hidden' } };
    }
    cols[off] = { offset: off, role: { kind: 'groupConcat', args, order, countOffset, maxLenOffset, separator: g.separator ?? ',', distinct: g.distinct } };
    return off;
  };
  // Select items first, so their offsets are the visible columns 0..n-1.
  const itemOffsets: number[] = [];
  // Items computed at the gate from aggregates (`count(*) * 2`, `sum(a) / count(*)`): their
  // aggregates and columns are added as hidden columns, the expression evaluated last.
  const computed: { index: number; expr: Expr; name: string; refs: Map<string, number> }[] = [];
  for (const it of items) {
    const e = it.expr;
    if (isAggregateCall(e) && (e.kind === 'Func' || e.kind === 'GroupConcat')) {
      itemOffsets.push(addAgg(e, pushedName(it, sql)));
    } else if (containsAggregate(e)) {
      computed.push({ index: itemOffsets.length, expr: e, name: it.alias ?? itemName(it, sql), refs: new Map() });
      itemOffsets.push(-1);
    } else {
      const off = producer.add(e, pushedName(it, sql));
      cols[off] = { offset: off, role: { kind: 'any' } };
      itemOffsets.push(off);
    }
  }
  // GROUP BY keys: select items when they match, else hidden columns.
  const gateKeys: number[] = [];
  const keyExprs: [number, Expr][] = [];
  for (const g of sel.groupBy) {
    if (containsAggregate(g)) throw notSupported('an aggregate in GROUP BY');
    let i = matchItem(g, items, true);
    let off: number;
    if (i >= 0 && itemOffsets[i] < 0) throw notSupported('GROUP BY an aggregate expression');
    if (i >= 0) off = itemOffsets[i];
    else {
      off = producer.add(g, null, true);
      cols[off] ??= { offset: off, role: { kind: 'any' } };
    }
    const c = cols[off];
    if (c.role.kind !== 'any' && c.role.kind !== 'key') throw notSupported(`GROUP BY an aggregate column`);
    c.role = { kind: 'key' };
    gateKeys.push(off);
    keyExprs.push([off, i >= 0 ? items[i].expr : g]);
    producer.addGroupBy(i >= 0 ? items[i].expr : g);
    i = -1;
  }
  if (sel.distinct && !hasAgg) {
    for (const off of itemOffsets) {
      cols[off].role = { kind: 'key' };
      if (!gateKeys.includes(off)) gateKeys.push(off);
      keyExprs.push([off, items[itemOffsets.indexOf(off)].expr]);
      producer.addGroupBy(items[itemOffsets.indexOf(off)].expr);
    }
  }
  if (producer.mode === 'partial') {
    // Computed group keys compare under the collation the shards name (see collationOf).
    const hinted = new Set<number>();
    for (const [off, e] of keyExprs) {
      if (e.kind === 'Column' || hinted.has(off)) continue;
      hinted.add(off);
      const hint = producer.add(collationOf(e), null, true);
      cols[hint] = { offset: hint, role: { kind: 'hidden' } };
      collationHints.push([off, hint]);
    }
  }
  for (const c of computed) {
    compileExpr(c.expr, (x) => {
      let input: number | undefined;
      if (isAggregateCall(x)) {
        if (x.kind !== 'Func' && x.kind !== 'GroupConcat') throw notSupported(`${formatExpr(x)} across shards`);
        input = addAgg(x, null);
      } else if (x.kind === 'Column') {
        const i = matchItem(x, items, false);
        if (i >= 0 && itemOffsets[i] >= 0) input = itemOffsets[i];
        else {
          input = producer.add(x, null, true);
          cols[input] ??= { offset: input, role: { kind: 'any' } };
        }
      }
      if (input === undefined) return undefined;
      c.refs.set(exprKey(x), input);
      return 0;
    });
  }
  // HAVING and ORDER BY may name aggregates or columns not selected: add them as hidden columns.
  // Output offsets: the aggregate drops hidden columns, so map input offsets to output ones lazily.
  const outIndex = (inputOffset: number): number => {
    let n = 0;
    for (let i = 0; i < inputOffset; i++) if (cols[i] && cols[i].role.kind !== 'hidden') n++;
    return n;
  };
  // Compile HAVING after registering its columns; offsets are computed once all columns exist.
  let havingRefs: { expr: Expr; input: number }[] = [];
  // A HAVING or ORDER BY naming a computed item (`n` of `count(*) * 2 AS n`) means its expression.
  const computedByAlias = (e: Expr): Expr =>
    rewriteExpr(e, {
      expr: (x) => {
        if (x.kind === 'Subquery' || x.kind === 'Exists') return x;
        if (x.kind !== 'Column' || x.table !== null) return undefined;
        const i = items.findIndex((it) => it.alias !== null && it.alias.toLowerCase() === x.name.toLowerCase());
        return i >= 0 && itemOffsets[i] < 0 ? items[i].expr : undefined;
      },
    });
  const having = sel.having === null ? null : computedByAlias(sel.having);
  if (having !== null) {
    const refs: { expr: Expr; input: number }[] = [];
    const probe = (e: Expr): number | undefined => {
      const i = matchItem(e, items, false);
      let input: number | undefined;
      if (i >= 0 && itemOffsets[i] >= 0) input = itemOffsets[i];
      else if (isAggregateCall(e) && (e.kind === 'Func' || e.kind === 'GroupConcat')) input = addAgg(e, null);
      else if (e.kind === 'Column') {
        input = producer.add(e, null, true);
        cols[input] ??= { offset: input, role: { kind: 'any' } };
      }
      if (input === undefined) return undefined;
      refs.push({ expr: e, input });
      return 0;
    };
    compileExpr(having, probe);
    havingRefs = refs;
  }
  // ORDER BY: a column of the aggregate's output, or an expression over them (`sum(a) / count(*)`,
  // a computed item) evaluated after the aggregation, before the sort.
  const orderInputs: { input: number; desc: boolean; expr?: Expr; refs?: Map<string, number> }[] = [];
  for (const o of sel.orderBy) {
    let input: number;
    const i = matchItem(o.expr, items, true);
    const e = i >= 0 && itemOffsets[i] < 0 ? items[i].expr : computedByAlias(o.expr);
    if (i >= 0 && itemOffsets[i] >= 0) input = itemOffsets[i];
    else if (isAggregateCall(e) && (e.kind === 'Func' || e.kind === 'GroupConcat')) input = addAgg(e, null);
    else if (containsAggregate(e)) {
      const refs = new Map<string, number>();
      compileExpr(e, (x) => {
        let inp: number | undefined;
        if (isAggregateCall(x)) {
          if (x.kind !== 'Func' && x.kind !== 'GroupConcat') throw notSupported(`${formatExpr(x)} across shards`);
          inp = addAgg(x, null);
        } else if (x.kind === 'Column') {
          const k = matchItem(x, items, false);
          if (k >= 0 && itemOffsets[k] >= 0) inp = itemOffsets[k];
          else {
            inp = producer.add(x, null, true);
            cols[inp] ??= { offset: inp, role: { kind: 'any' } };
          }
        }
        if (inp === undefined) return undefined;
        refs.set(exprKey(x), inp);
        return 0;
      });
      orderInputs.push({ input: -1, desc: o.direction === 'DESC', expr: e, refs });
      continue;
    } else {
      input = producer.add(o.expr, null, true);
      cols[input] ??= { offset: input, role: { kind: 'any' } };
    }
    orderInputs.push({ input, desc: o.direction === 'DESC' });
  }
  const width = cols.length;
  for (let i = 0; i < width; i++) if (!cols[i]) throw new Error(`planner: column ${i} has no role`);
  const roles = cols.map((c) => c.role);
  // Group keys: the gate's keys plus, in partial mode, the pushed distinct-aggregate values are not
  // keys at the gate (the gate collects them into sets).
  const keys = gateKeys;
  let p: Primitive = new Aggregate(producer.build(), {
    mode: producer.mode,
    roles,
    groupKeys: keys,
    grouped: sel.groupBy.length > 0 || (sel.distinct && !hasAgg),
    ...(sel.rollup ? { rollup: true } : {}),
    ...(collationHints.length ? { collationHints } : {}),
  });
  void groupKeys;
  if (having !== null) {
    const byKey = new Map(havingRefs.map((r) => [exprKey(r.expr), outIndex(r.input)]));
    const pred = compileExpr(having, (e) => byKey.get(exprKey(e)));
    p = new Filter(p, pred, having);
  }
  if (sel.distinct && hasAgg) p = new Distinct(p, visible);
  const outWidth = roles.filter((r) => r.kind !== 'hidden').length;
  const visibleOut = itemOffsets.map((o) => (o < 0 ? -1 : outIndex(o)));
  const identity = computed.length === 0 && visibleOut.every((o, i) => o === i);
  if (orderInputs.some((o) => o.expr)) {
    // Sort keys computed from the aggregates: appended to the aggregate's columns for the sort.
    const pre: ProjectedColumn[] = Array.from({ length: outWidth }, (_, k) => ({ kind: 'offset', offset: k }) as ProjectedColumn);
    const order = orderInputs.map((o) => {
      if (!o.expr) return { offset: outIndex(o.input), desc: o.desc };
      const byKey = new Map([...o.refs!].map(([k, input]) => [k, outIndex(input)]));
      const resolve = (x: Expr) => byKey.get(exprKey(x));
      pre.push({ kind: 'expr', eval: compileExpr(o.expr, resolve), name: formatExpr(o.expr), text: o.expr, type: compileExprType(o.expr, resolve) });
      return { offset: pre.length - 1, desc: o.desc };
    });
    p = new MemorySort(new Projection(p, pre), order, outWidth);
  } else if (orderInputs.length) p = new MemorySort(p, orderInputs.map((o) => ({ offset: outIndex(o.input), desc: o.desc })));
  if (sel.limit) p = new Limit(p, sel.limit.count, sel.limit.offset);
  if (!identity || outWidth > visible) {
    const pc: ProjectedColumn[] = visibleOut.map((o, i) => {
      const comp = computed.find((c) => c.index === i);
      if (!comp) return { kind: 'offset', offset: o };
      const byKey = new Map([...comp.refs].map(([k, input]) => [k, outIndex(input)]));
      const resolve = (x: Expr) => byKey.get(exprKey(x));
      return { kind: 'expr', eval: compileExpr(comp.expr, resolve), name: comp.name, text: comp.expr, type: compileExprType(comp.expr, resolve) };
    });
    p = new Projection(p, pc);
  }
  return p;
}

function trim(p: Primitive, n: number): Primitive {
  return new Projection(p, Array.from({ length: n }, (_, i) => ({ kind: 'offset', offset: i }) as ProjectedColumn));
}
