// Window: window functions evaluated at the gate over rows merged from every shard, when their
// partitions span shards (PARTITION BY not the sharding key). Each call partitions the input rows
// by its PARTITION BY columns, orders each partition by its ORDER BY columns (collation-aware),
// and appends one column: ROW_NUMBER, RANK, DENSE_RANK, or COUNT/SUM/MIN/MAX/AVG over MariaDB's
// default frame (the whole partition without ORDER BY; from its start to the current row's last
// peer with ORDER BY).
import { columnDefinition, TYPE, type ColumnDefinition } from '../../mysql/index.js';
import { rowsLimitError } from '../errors.js';
import type { BindVars, Cell, PlanDescription, Primitive, Result, Row, VCursor } from '../types.js';
import { compareCells, divideDecimal, isDecimalType, isFloatType, isIntegerType, rowKey, rowsOf, type Decimal } from '../values.js';
import { valueCell } from '../evaluate.js';
import { addNum, numCell, toNum, type Num } from './aggregate.js';
import { rowComparator, type OrderByOffset } from './route.js';

export type WindowFn = 'ROW_NUMBER' | 'RANK' | 'DENSE_RANK' | 'COUNT' | 'COUNT_STAR' | 'SUM' | 'MIN' | 'MAX' | 'AVG';

export interface WindowCall {
  readonly fn: WindowFn;
  /** The argument's input offset (-1: none). */
  readonly arg: number;
  readonly partition: readonly number[];
  readonly order: readonly OrderByOffset[];
  readonly name: string;
}

export class Window implements Primitive {
  constructor(
    readonly input: Primitive,
    readonly calls: readonly WindowCall[],
    /** Why the shards could not compute it (VEXPLAIN). */
    readonly reason: string,
  ) {}

  inputs(): readonly Primitive[] {
    return [this.input];
  }

  async execute(vc: VCursor, bindVars: BindVars): Promise<Result> {
    const r = await this.input.execute(vc, bindVars);
    const rows = rowsOf(r);
    if (rows.length > vc.rowsMax) throw rowsLimitError('rows-max', vc.rowsMax);
    const fields = r.fields;
    const extra: Cell[][] = this.calls.map(() => new Array<Cell>(rows.length).fill(null));
    this.calls.forEach((call, k) => {
      const parts = new Map<string, number[]>();
      rows.forEach((row, i) => {
        const key = rowKey(row, call.partition, fields);
        let p = parts.get(key);
        if (!p) parts.set(key, (p = []));
        p.push(i);
      });
      const cmp = rowComparator(call.order, fields);
      for (const idx of parts.values()) {
        if (call.order.length) idx.sort((a, b) => cmp(rows[a], rows[b]));
        this.fill(call, idx, rows, fields, extra[k]);
      }
    });
    const out: Row[] = rows.map((row, i) => [...row, ...extra.map((e) => e[i])]);
    return { ...r, fields: [...fields, ...this.calls.map((c) => this.field(c, fields))], rows: out, raw: null };
  }

  private fill(call: WindowCall, idx: readonly number[], rows: readonly Row[], fields: readonly ColumnDefinition[], out: Cell[]): void {
    const peers = (a: number, b: number): boolean => call.order.every((o) => compareCells(rows[a][o.offset], rows[b][o.offset], fields[o.offset]) === 0);
    if (call.fn === 'ROW_NUMBER' || call.fn === 'RANK' || call.fn === 'DENSE_RANK') {
      let rank = 0;
      let dense = 0;
      idx.forEach((row, n) => {
        if (n === 0 || !peers(idx[n - 1], row)) {
          rank = n + 1;
          dense++;
        }
        out[row] = valueCell(BigInt(call.fn === 'ROW_NUMBER' ? n + 1 : call.fn === 'RANK' ? rank : dense));
      });
      return;
    }
    // Aggregates: with ORDER BY the frame grows peer group by peer group; without, it is the partition.
    let start = 0;
    const state = new Acc(call, fields);
    while (start < idx.length) {
      let end = start + 1;
      if (call.order.length) while (end < idx.length && peers(idx[start], idx[end])) end++;
      else end = idx.length;
      for (let n = start; n < end; n++) state.add(rows[idx[n]]);
      const v = state.value();
      for (let n = start; n < end; n++) out[idx[n]] = v;
      start = end;
    }
  }

  private field(c: WindowCall, fields: readonly ColumnDefinition[]): ColumnDefinition {
    const f = c.arg >= 0 ? fields[c.arg] : undefined;
    switch (c.fn) {
      case 'MIN':
      case 'MAX':
        return { ...f!, name: c.name, orgName: '', table: '', orgTable: '' };
      case 'SUM':
      case 'AVG':
        if (!f || isFloatType(f.type) || !(isIntegerType(f.type) || isDecimalType(f.type))) return columnDefinition({ name: c.name, type: TYPE.DOUBLE, charset: 63, columnLength: 23, decimals: 31 });
        return columnDefinition({ name: c.name, type: TYPE.NEWDECIMAL, charset: 63, columnLength: 65, decimals: c.fn === 'AVG' ? avgScale(f) : isIntegerType(f.type) ? 0 : f.decimals });
      default:
        return columnDefinition({ name: c.name, type: TYPE.LONGLONG, charset: 63, columnLength: 21, flags: 0x01 });
    }
  }

  describe(): PlanDescription {
    return {
      OperatorType: 'Window',
      Functions: this.calls.map((c) => `${c.fn}(${c.arg >= 0 ? c.arg : ''}) PARTITION BY [${c.partition.join(',')}] ORDER BY [${c.order.map((o) => `${o.offset}${o.desc ? ' DESC' : ''}`).join(',')}]`).join('; '),
      GateReason: this.reason,
      Inputs: [this.input.describe()],
    };
  }
}

function avgScale(f: ColumnDefinition): number {
  return Math.min((isIntegerType(f.type) ? 0 : f.decimals >= 31 ? 0 : f.decimals) + 4, 30);
}

/** A running aggregate over a window frame that only grows. */
class Acc {
  private count = 0n;
  private sum: Num | null = null;
  private best: Cell = null;

  constructor(
    readonly call: WindowCall,
    readonly fields: readonly ColumnDefinition[],
  ) {}

  add(row: Row): void {
    const c = this.call;
    if (c.fn === 'COUNT_STAR') {
      this.count++;
      return;
    }
    const v = row[c.arg];
    if (v === null) return;
    const f = this.fields[c.arg];
    this.count++;
    if (c.fn === 'SUM' || c.fn === 'AVG') this.sum = addNum(this.sum, toNum(v, f));
    if (c.fn === 'MIN' || c.fn === 'MAX') {
      if (this.best === null) this.best = v;
      else {
        const cmp = compareCells(v, this.best, f);
        if ((c.fn === 'MIN' && cmp < 0) || (c.fn === 'MAX' && cmp > 0)) this.best = v;
      }
    }
  }

  value(): Cell {
    const c = this.call;
    switch (c.fn) {
      case 'COUNT':
      case 'COUNT_STAR':
        return valueCell(this.count);
      case 'SUM':
        return numCell(this.sum);
      case 'MIN':
      case 'MAX':
        return this.best;
      case 'AVG': {
        const s = this.sum;
        if (s === null || this.count === 0n) return null;
        if (s.kind === 'float') return valueCell(s.v / Number(this.count));
        const d: Decimal = s.kind === 'int' ? { v: s.v, scale: 0 } : s.v;
        return valueCell(divideDecimal(d, this.count, avgScale(this.fields[c.arg])));
      }
      default:
        return null;
    }
  }
}
