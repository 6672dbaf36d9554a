// Aggregate: groups rows at the gate and combines aggregates across shards.
//
// Each input column has a role. In `partial` mode the input rows are per-shard partial results
// (each shard ran the aggregation on its rows): COUNT partials are summed, SUM partials added,
// MIN/MAX compared; AVG arrives as a SUM column plus a COUNT column; COUNT(DISTINCT x) and
// SUM(DISTINCT x) arrive as the value x itself (the shards grouped by it). In `raw` mode the input
// rows are the rows to aggregate (a join's output, a derived table) and aggregates are computed
// from scratch. Groups come out ordered by their keys, as MariaDB's GROUP BY orders them.
import { columnDefinition, TYPE, type ColumnDefinition } from '../../mysql/index.js';
import { rowsLimitError } from '../errors.js';
import { cellValue, compareValues, stringToNumber, valueCell, type Value } from '../evaluate.js';
import type { BindVars, Cell, PlanDescription, Primitive, Result, Row, VCursor } from '../types.js';
import {
  addDecimal, cellKey, compareCells, divideDecimal, isDecimalType, isFloatType, isIntegerType, parseDecimal, rowKey, rowsOf, withCollationHints, type CollationHint, type Decimal,
} from '../values.js';

export type AggRole =
  | { readonly kind: 'key' } // a GROUP BY key (also a visible column)
  | { readonly kind: 'any' } // a column functionally dependent on the keys: the group's first value
  | { readonly kind: 'count' } // COUNT(x) / COUNT(*) (raw mode: `star` counts rows)
  | { readonly kind: 'countStar' }
  | { readonly kind: 'sum' }
  | { readonly kind: 'min' }
  | { readonly kind: 'max' }
  | { readonly kind: 'avg'; readonly countOffset: number } // partial: this column holds SUM, countOffset COUNT
  | { readonly kind: 'countDistinct'; readonly more?: readonly number[] } // COUNT(DISTINCT a, b…): `more` holds b…
  | { readonly kind: 'sumDistinct' }
  | { readonly kind: 'avgDistinct' }
  | {
      // GROUP_CONCAT: this column holds the first argument; `args` every argument's offset, `order`
      // its ORDER BY columns; partial mode: `countOffset` each input row's multiplicity and
      // `maxLenOffset` group_concat_max_len as the shards report it (-1 in raw mode).
      readonly kind: 'groupConcat';
      readonly args: readonly number[];
      readonly order: readonly { readonly offset: number; readonly desc: boolean }[];
      readonly countOffset: number;
      readonly maxLenOffset: number;
      readonly separator: string;
      readonly distinct: boolean;
    }
  | { readonly kind: 'hidden' }; // an input column not carried (AVG's count, a pushed-down distinct key)

export interface AggregateSpec {
  readonly mode: 'partial' | 'raw';
  readonly roles: readonly AggRole[];
  /** Offsets of the group keys in the input (may include hidden columns). */
  readonly groupKeys: readonly number[];
  /** GROUP BY present (else one row even for no input). */
  readonly grouped: boolean;
  /** Output column names by input offset, where they differ from the input's. */
  readonly names?: readonly (string | undefined)[];
  /** WITH ROLLUP: super-aggregate rows for every prefix of the keys. */
  readonly rollup?: boolean;
  /** Pushed MIN/MAX and computed group keys with the hidden column naming their collation. */
  readonly collationHints?: readonly CollationHint[];
}

export type Num = { kind: 'int'; v: bigint } | { kind: 'dec'; v: Decimal } | { kind: 'float'; v: number };

export function toNum(c: Cell, field: ColumnDefinition): Num | null {
  if (c === null) return null;
  const text = c.toString('latin1');
  if (isIntegerType(field.type)) return { kind: 'int', v: BigInt(text) };
  if (isDecimalType(field.type)) {
    const d = parseDecimal(text);
    if (d) return { kind: 'dec', v: d };
  }
  if (isFloatType(field.type)) return { kind: 'float', v: Number(text) };
  // MySQL sums strings as doubles, converted by their numeric prefix ('' and 'abc' are 0).
  return { kind: 'float', v: stringToNumber(c.toString('utf8')) };
}

export function addNum(a: Num | null, b: Num | null): Num | null {
  if (a === null) return b;
  if (b === null) return a;
  if (a.kind === 'float' || b.kind === 'float') {
    const x = a.kind === 'float' ? a.v : a.kind === 'int' ? Number(a.v) : Number(a.v.v) / 10 ** a.v.scale;
    const y = b.kind === 'float' ? b.v : b.kind === 'int' ? Number(b.v) : Number(b.v.v) / 10 ** b.v.scale;
    return { kind: 'float', v: x + y };
  }
  const x: Decimal = a.kind === 'int' ? { v: a.v, scale: 0 } : a.v;
  const y: Decimal = b.kind === 'int' ? { v: b.v, scale: 0 } : b.v;
  return { kind: 'dec', v: addDecimal(x, y) };
}

export function numCell(n: Num | null): Cell {
  if (n === null) return null;
  if (n.kind === 'int') return valueCell(n.v);
  if (n.kind === 'dec') return valueCell(n.v);
  return valueCell(n.v);
}

/** MariaDB's result precision: SUM adds DECIMAL_LONGLONG_DIGITS (22), AVG div_precision_increment (4). */
const SUM_PRECISION_INCREMENT = 22;
const AVG_PRECISION_INCREMENT = 4;
const DECIMAL_PRECISION_MAX = 65;

function isNumericField(f: ColumnDefinition): boolean {
  return isIntegerType(f.type) || isDecimalType(f.type) || isFloatType(f.type);
}

/** Digits of a numeric column (its display length without sign and decimal point). */
function precisionOf(f: ColumnDefinition): number {
  const unsigned = (f.flags & 0x20) !== 0;
  const point = isDecimalType(f.type) && f.decimals > 0 ? 1 : 0;
  return Math.max(1, f.columnLength - (unsigned ? 0 : 1) - point);
}

function decimalColumn(name: string, precision: number, decimals: number, flags: number): ColumnDefinition {
  const p = Math.min(precision, DECIMAL_PRECISION_MAX);
  return columnDefinition({ name, orgName: '', type: TYPE.NEWDECIMAL, charset: 63, columnLength: p + 1 + (decimals > 0 ? 1 : 0), decimals, flags });
}

interface GroupState {
  readonly first: Row;
  readonly acc: unknown[];
}

export class Aggregate implements Primitive {
  constructor(
    readonly input: Primitive,
    readonly spec: AggregateSpec,
  ) {}

  inputs(): readonly Primitive[] {
    return [this.input];
  }

  outputFields(fields: readonly ColumnDefinition[]): ColumnDefinition[] {
    const out: ColumnDefinition[] = [];
    // MariaDB marks a scalar (ungrouped) aggregate's numeric result BINARY; a grouped one it does not.
    const scalarFlags = this.spec.grouped ? 0 : 0x80;
    this.spec.roles.forEach((role, i) => {
      const f = fields[i];
      const name = this.spec.names?.[i] ?? f.name;
      switch (role.kind) {
        case 'hidden':
          return;
        case 'count':
        case 'countStar':
        case 'countDistinct':
          // As MariaDB: NOT NULL, and BINARY unless grouped (its grouped COUNT goes through a temporary table).
          out.push(columnDefinition({ name, orgName: '', type: TYPE.LONGLONG, charset: 63, columnLength: 21, flags: this.spec.grouped ? 0x01 : 0x01 | 0x80 }));
          return;
        case 'groupConcat':
          out.push(columnDefinition({ name, orgName: '', type: TYPE.BLOB, charset: 45, columnLength: GROUP_CONCAT_MAX_LEN_DEFAULT * 4, flags: 0x10 }));
          return;
        case 'avgDistinct':
          // The input is the argument itself (grouped by it on the shards, or raw rows).
          out.push(isFloatType(f.type) || !(isIntegerType(f.type) || isDecimalType(f.type))
            ? columnDefinition({ name, orgName: '', type: TYPE.DOUBLE, charset: 63, columnLength: 23, decimals: 31, flags: scalarFlags })
            : decimalColumn(name, precisionOf(f) + AVG_PRECISION_INCREMENT, this.rawAvgScale(f), scalarFlags));
          return;
        case 'sum':
        case 'sumDistinct':
          if (this.spec.mode === 'raw' || role.kind === 'sumDistinct') {
            out.push(isFloatType(f.type) || !(isIntegerType(f.type) || isDecimalType(f.type))
              ? columnDefinition({ name, orgName: '', type: TYPE.DOUBLE, charset: 63, columnLength: 23, decimals: 31, flags: scalarFlags })
              : decimalColumn(name, precisionOf(f) + SUM_PRECISION_INCREMENT, f.decimals, scalarFlags));
          } else out.push({ ...f, name, orgName: '', flags: f.flags | scalarFlags });
          return;
        case 'avg': {
          // Partial: the input is the shards' SUM, whose precision is the argument's plus SUM's increment.
          const p = this.spec.mode === 'partial' ? precisionOf(f) - SUM_PRECISION_INCREMENT : precisionOf(f);
          out.push(isFloatType(f.type)
            ? columnDefinition({ name, orgName: '', type: TYPE.DOUBLE, charset: 63, columnLength: 23, decimals: 31, flags: scalarFlags })
            : decimalColumn(name, p + AVG_PRECISION_INCREMENT, this.avgScale(f), scalarFlags));
          return;
        }
        case 'min':
        case 'max':
          // A scalar MIN/MAX is an expression in MariaDB's metadata: BINARY for numbers, 39 decimals for text.
          out.push({ ...f, name, ...(this.spec.grouped ? {} : isNumericField(f) ? { flags: f.flags | 0x80 } : { decimals: f.charset === 63 ? f.decimals : 39 }) });
          return;
        default:
          out.push(name === f.name ? f : { ...f, name });
      }
    });
    return out;
  }

  private rawAvgScale(f: ColumnDefinition): number {
    const d = isIntegerType(f.type) ? 0 : f.decimals >= 31 ? 4 : f.decimals;
    return Math.min(d + 4, 30);
  }

  private avgScale(f: ColumnDefinition): number {
    // Partial: the shard's SUM column already carries the argument's scale. Raw: the argument's.
    const d = isIntegerType(f.type) ? 0 : f.decimals >= 31 ? 4 : f.decimals;
    return this.spec.mode === 'partial' ? Math.min(d + 4, 30) : Math.min(d + 4, 30);
  }

  async execute(vc: VCursor, bindVars: BindVars): Promise<Result> {
    const r = await this.input.execute(vc, bindVars);
    const fields = withCollationHints(r.fields, rowsOf(r), this.spec.collationHints);
    const outFields = this.outputFields(fields);
    const cut = { n: 0 };
    const keys = this.spec.groupKeys;
    let rows = this.aggregate(rowsOf(r), fields, keys, this.spec.grouped, vc, cut);
    if (this.spec.rollup) rows = this.withRollup(rows, rowsOf(r), fields, vc, cut);
    return { fields: outFields, rows, raw: null, rowsAffected: 0, insertId: 0n, warnings: r.warnings + cut.n, info: '' };
  }

  /**
   * WITH ROLLUP: after each group's last row, a super-aggregate row for every shorter prefix of
   * the GROUP BY keys that ends there (the keys past the prefix NULL), the grand total last.
   */
  private withRollup(detail: Row[], input: readonly Row[], fields: readonly ColumnDefinition[], vc: VCursor, cut: { n: number }): Row[] {
    const keys = this.spec.groupKeys;
    const outOf: number[] = [];
    let n = 0;
    this.spec.roles.forEach((role, i) => {
      outOf[i] = role.kind === 'hidden' ? -1 : n++;
    });
    const levels = keys.map((_, l) =>
      this.aggregate(input, fields, keys.slice(0, l), true, vc, cut).map((row) => {
        const out = [...row];
        for (let j = l; j < keys.length; j++) out[outOf[keys[j]]] = null;
        return out;
      }),
    );
    const next = levels.map(() => 0);
    const samePrefix = (a: Row, b: Row, l: number): boolean => keys.slice(0, l).every((k) => compareCells(a[outOf[k]], b[outOf[k]], fields[k]) === 0);
    const out: Row[] = [];
    detail.forEach((row, i) => {
      out.push(row);
      for (let l = keys.length - 1; l >= 0; l--) {
        if (i + 1 < detail.length && samePrefix(row, detail[i + 1], l)) break;
        out.push(levels[l][next[l]++]);
      }
    });
    return out;
  }

  private aggregate(input: readonly Row[], fields: readonly ColumnDefinition[], keys: readonly number[], grouped: boolean, vc: VCursor, cutCount: { n: number }): Row[] {
    const roles = this.spec.roles;
    const raw = this.spec.mode === 'raw';
    let cut = 0;
    const groups = new Map<string, GroupState>();
    for (const row of input) {
      const k = rowKey(row, keys, fields);
      let g = groups.get(k);
      if (!g) {
        if (groups.size >= vc.rowsMax) throw rowsLimitError('rows-max', vc.rowsMax);
        g = { first: row, acc: roles.map((role) => (isDistinctRole(role) ? new Map<string, Cell>() : null)) };
        groups.set(k, g);
      }
      for (let i = 0; i < roles.length; i++) {
        const role = roles[i];
        const c = row[i];
        const f = fields[i];
        switch (role.kind) {
          case 'count':
            if (raw) g.acc[i] = ((g.acc[i] as bigint | null) ?? 0n) + (c === null ? 0n : 1n);
            else g.acc[i] = ((g.acc[i] as bigint | null) ?? 0n) + (c === null ? 0n : BigInt(c.toString('latin1')));
            break;
          case 'countStar':
            g.acc[i] = ((g.acc[i] as bigint | null) ?? 0n) + (raw ? 1n : c === null ? 0n : BigInt(c.toString('latin1')));
            break;
          case 'sum':
            g.acc[i] = addNum(g.acc[i] as Num | null, toNum(c, f));
            break;
          case 'avg': {
            const prev = (g.acc[i] as { sum: Num | null; count: bigint } | null) ?? { sum: null, count: 0n };
            const cnt = raw ? (c === null ? 0n : 1n) : BigInt(row[role.countOffset]?.toString('latin1') ?? '0');
            g.acc[i] = { sum: addNum(prev.sum, toNum(c, f)), count: prev.count + cnt };
            break;
          }
          case 'min':
          case 'max': {
            if (c === null) break;
            const prev = g.acc[i] as Cell;
            if (prev === null) g.acc[i] = c;
            else {
              const cmp = compareCells(c, prev, f);
              if ((role.kind === 'min' && cmp < 0) || (role.kind === 'max' && cmp > 0)) g.acc[i] = c;
            }
            break;
          }
          case 'countDistinct':
            if (c === null) break;
            if (role.more?.length) {
              if (role.more.some((m) => row[m] === null)) break;
              const key = JSON.stringify([cellKey(c, f), ...role.more.map((m) => cellKey(row[m], fields[m]))]);
              (g.acc[i] as Map<string, Cell>).set(key, c);
            } else (g.acc[i] as Map<string, Cell>).set(cellKey(c, f), c);
            break;
          case 'sumDistinct':
          case 'avgDistinct':
            if (c !== null) (g.acc[i] as Map<string, Cell>).set(cellKey(c, f), c);
            break;
          case 'groupConcat': {
            const n = role.countOffset >= 0 ? BigInt(row[role.countOffset]?.toString('latin1') ?? '0') : 1n;
            ((g.acc[i] ??= []) as { row: Row; n: bigint }[]).push({ row, n });
            break;
          }
          default:
            break;
        }
      }
    }
    if (groups.size === 0 && !grouped) {
      // A scalar aggregate over no rows still answers one row: counts 0, the rest NULL.
      const empty: GroupState = { first: roles.map(() => null), acc: roles.map((role) => (isDistinctRole(role) ? new Map() : null)) };
      groups.set('', empty);
    }
    let states = [...groups.values()];
    if (grouped && states.length > 1) {
      states = states.sort((a, b) => {
        for (const k of keys) {
          const c = compareCells(a.first[k], b.first[k], fields[k]);
          if (c !== 0) return c;
        }
        return 0;
      });
    }
    const rows: Row[] = states.map((g) => {
      const out: Cell[] = [];
      for (let i = 0; i < roles.length; i++) {
        const role = roles[i];
        const f = fields[i];
        switch (role.kind) {
          case 'hidden':
            break;
          case 'key':
          case 'any':
            out.push(g.first[i]);
            break;
          case 'count':
          case 'countStar':
            out.push(valueCell((g.acc[i] as bigint | null) ?? 0n));
            break;
          case 'sum':
            out.push(numCell(g.acc[i] as Num | null));
            break;
          case 'min':
          case 'max':
            out.push((g.acc[i] as Cell) ?? null);
            break;
          case 'avg': {
            const a = g.acc[i] as { sum: Num | null; count: bigint } | null;
            if (!a || a.sum === null || a.count === 0n) out.push(null);
            else if (a.sum.kind === 'float') out.push(valueCell(a.sum.v / Number(a.count)));
            else {
              const d: Decimal = a.sum.kind === 'int' ? { v: a.sum.v, scale: 0 } : a.sum.v;
              out.push(valueCell(divideDecimal(d, a.count, this.avgScale(f))));
            }
            break;
          }
          case 'countDistinct':
            out.push(valueCell(BigInt((g.acc[i] as Map<string, Cell>).size)));
            break;
          case 'sumDistinct': {
            let s: Num | null = null;
            for (const c of (g.acc[i] as Map<string, Cell>).values()) s = addNum(s, toNum(c, f));
            out.push(numCell(s));
            break;
          }
          case 'groupConcat': {
            const r = groupConcat(role, (g.acc[i] as { row: Row; n: bigint }[] | null) ?? [], fields);
            if (r.cut) vc.warn?.(1260, `Row ${++cut} was cut by GROUP_CONCAT()`);
            out.push(r.cell);
            break;
          }
          case 'avgDistinct': {
            const set = g.acc[i] as Map<string, Cell>;
            let s: Num | null = null;
            for (const c of set.values()) s = addNum(s, toNum(c, f));
            if (s === null || set.size === 0) out.push(null);
            else if (s.kind === 'float') out.push(valueCell(s.v / set.size));
            else out.push(valueCell(divideDecimal(s.kind === 'int' ? { v: s.v, scale: 0 } : s.v, BigInt(set.size), this.rawAvgScale(f))));
            break;
          }
          default: {
            const never: never = role;
            throw new Error(`unknown role ${String(never)}`);
          }
        }
      }
      return out;
    });
    cutCount.n += cut;
    return rows;

  }

  describe(): PlanDescription {
    const aggs = this.spec.roles
      .map((r, i) => (r.kind === 'key' || r.kind === 'any' || r.kind === 'hidden' ? null : `${r.kind}(${i})`))
      .filter((x): x is string => x !== null);
    return {
      OperatorType: 'Aggregate',
      Variant: this.spec.grouped ? 'Ordered' : 'Scalar',
      Mode: this.spec.mode,
      Aggregates: aggs.join(', '),
      ...(this.spec.groupKeys.length ? { GroupBy: this.spec.groupKeys.join(', ') } : {}),
      ...(this.spec.rollup ? { Rollup: true } : {}),
      Inputs: [this.input.describe()],
    };
  }
}

/** MariaDB 10.11's default group_concat_max_len. */
const GROUP_CONCAT_MAX_LEN_DEFAULT = 1048576;

/** One group's GROUP_CONCAT: ordered, de-duplicated, joined, cut at group_concat_max_len bytes. */
function groupConcat(role: Extract<AggRole, { kind: 'groupConcat' }>, entries0: readonly { row: Row; n: bigint }[], fields: readonly ColumnDefinition[]): { cell: Cell; cut: boolean } {
  let entries = entries0.filter((e) => role.args.every((a) => e.row[a] !== null) && e.n > 0n);
  if (entries.length === 0) return { cell: null, cut: false };
  if (role.order.length) {
    entries = [...entries].sort((x, y) => {
      for (const o of role.order) {
        const c = compareCells(x.row[o.offset], y.row[o.offset], fields[o.offset]);
        if (c !== 0) return o.desc ? -c : c;
      }
      return 0;
    });
  }
  if (role.distinct) {
    const seen = new Set<string>();
    entries = entries.filter((e) => {
      const k = JSON.stringify(role.args.map((a) => cellKey(e.row[a], fields[a])));
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  }
  const parts: Buffer[] = [];
  const sep = Buffer.from(role.separator, 'utf8');
  for (const e of entries) {
    const text = Buffer.concat(role.args.map((a) => e.row[a]!));
    const times = role.distinct ? 1 : Number(e.n);
    for (let k = 0; k < times; k++) {
      if (parts.length) parts.push(sep);
      parts.push(text);
    }
  }
  const all = Buffer.concat(parts);
  const lenCell = role.maxLenOffset >= 0 ? entries0[0]?.row[role.maxLenOffset] : null;
  const max = lenCell ? Number(lenCell.toString('latin1')) : GROUP_CONCAT_MAX_LEN_DEFAULT;
  if (all.length <= max) return { cell: all, cut: false };
  // Cut on a character boundary (UTF-8 continuation bytes are 10xxxxxx).
  let end = max;
  while (end > 0 && (all[end] & 0xc0) === 0x80) end--;
  return { cell: all.subarray(0, end), cut: true };
}

function isDistinctRole(role: AggRole): boolean {
  return role.kind === 'countDistinct' || role.kind === 'sumDistinct' || role.kind === 'avgDistinct';
}

export { cellValue, compareValues, type Value };
