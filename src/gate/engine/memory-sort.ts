// MemorySort: sorts rows at the gate (after a join, an aggregation or a union), bounded by the
// cursor's rows limit.
import { rowsLimitError } from '../errors.js';
import type { BindVars, PlanDescription, Primitive, Result, VCursor } from '../types.js';
import { rowsOf } from '../values.js';
import { rowComparator, type OrderByOffset } from './route.js';

export class MemorySort implements Primitive {
  constructor(
    readonly input: Primitive,
    readonly orderBy: readonly OrderByOffset[],
    /** Columns the caller sees; hidden sort columns after them are cut. */
    readonly truncate?: number,
  ) {}

  inputs(): readonly Primitive[] {
    return [this.input];
  }

  async execute(vc: VCursor, bindVars: BindVars): Promise<Result> {
    const r = await this.input.execute(vc, bindVars);
    const rows = [...rowsOf(r)];
    if (rows.length > vc.rowsMax) throw rowsLimitError('rows-max', vc.rowsMax);
    rows.sort(rowComparator(this.orderBy, r.fields));
    const t = this.truncate;
    if (t !== undefined && t < r.fields.length) return { ...r, fields: r.fields.slice(0, t), rows: rows.map((x) => x.slice(0, t)), raw: null };
    return { ...r, rows, raw: null };
  }

  describe(): PlanDescription {
    return {
      OperatorType: 'Sort',
      Variant: 'Memory',
      OrderBy: this.orderBy.map((o) => `${o.offset} ${o.desc ? 'DESC' : 'ASC'}`).join(', '),
      ...(this.truncate !== undefined ? { ResultColumns: this.truncate } : {}),
      Inputs: [this.input.describe()],
    };
  }
}
