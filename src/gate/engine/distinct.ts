// Distinct: drops duplicate rows (SELECT DISTINCT across shards, UNION), comparing cells as
// MariaDB does (case-insensitive for text, by value for numbers).
import type { BindVars, PlanDescription, Primitive, Result, Row, VCursor } from '../types.js';
import { rowKey, rowsOf } from '../values.js';

export class Distinct implements Primitive {
  constructor(
    readonly input: Primitive,
    /** Columns that decide equality (the visible ones); undefined = all. */
    readonly columns?: number,
  ) {}

  inputs(): readonly Primitive[] {
    return [this.input];
  }

  async execute(vc: VCursor, bindVars: BindVars): Promise<Result> {
    const r = await this.input.execute(vc, bindVars);
    const n = this.columns ?? r.fields.length;
    const offsets = Array.from({ length: n }, (_, i) => i);
    const seen = new Set<string>();
    const rows: Row[] = [];
    for (const row of rowsOf(r)) {
      const k = rowKey(row, offsets, r.fields);
      if (seen.has(k)) continue;
      seen.add(k);
      rows.push(row);
    }
    return { ...r, rows, raw: null };
  }

  describe(): PlanDescription {
    return { OperatorType: 'Distinct', Inputs: [this.input.describe()] };
  }
}
