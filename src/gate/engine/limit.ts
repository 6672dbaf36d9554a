// Limit: the final LIMIT/OFFSET at the gate, over rows merged from several shards (each shard
// was sent LIMIT count+offset).
import { formatExpr, type Expr } from '../../sql/index.js';
import { gateError } from '../errors.js';
import type { BindVars, PlanDescription, Primitive, Result, VCursor } from '../types.js';
import { rowsOf } from '../values.js';

function intValue(e: Expr, bindVars: BindVars): number {
  let text: string | undefined;
  if (e.kind === 'Number' && e.numType === 'int') text = e.text;
  else if (e.kind === 'BindVar') {
    const v = bindVars[e.name];
    if (v && v.kind === 'Number' && v.numType === 'int') text = v.text;
  }
  const n = text === undefined ? NaN : Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw gateError(`LIMIT/OFFSET must be a non-negative integer, got ${formatExpr(e)}`);
  return n;
}

export class Limit implements Primitive {
  constructor(
    readonly input: Primitive,
    readonly count: Expr,
    readonly offset: Expr | null,
  ) {}

  inputs(): readonly Primitive[] {
    return [this.input];
  }

  async execute(vc: VCursor, bindVars: BindVars): Promise<Result> {
    const r = await this.input.execute(vc, bindVars);
    const count = intValue(this.count, bindVars);
    const offset = this.offset ? intValue(this.offset, bindVars) : 0;
    const rows = rowsOf(r);
    if (offset === 0 && rows.length <= count) return r;
    return { ...r, rows: rows.slice(offset, offset + count), raw: null };
  }

  describe(): PlanDescription {
    return {
      OperatorType: 'Limit',
      Count: formatExpr(this.count),
      ...(this.offset ? { Offset: formatExpr(this.offset) } : {}),
      Inputs: [this.input.describe()],
    };
  }
}
