// Limit: the final LIMIT/OFFSET at the gate, over rows merged from several shards (each shard
// was sent LIMIT count+offset).
import { formatExpr, type Expr } from '../../sql/index.js';
import { gateError } from '../errors.js';
import type { BindVars, PlanDescription, Primitive, Result, ResultChunk, StreamCallback, VCursor } from '../types.js';
import { rowsOf } from '../values.js';
import { chunkLength, streamPrimitive } from './stream.js';

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

  /**
   * Passes on rows past the offset until it has `count`, then says 'stop': the input stops, and a
   * route cancels its shard queries, instead of reading the rest.
   */
  async stream(vc: VCursor, bindVars: BindVars, onChunk: StreamCallback): Promise<void> {
    const count = intValue(this.count, bindVars);
    let skip = this.offset ? intValue(this.offset, bindVars) : 0;
    let left = count;
    let sentFields = false;
    await streamPrimitive(this.input, vc, bindVars, async (chunk) => {
      let from = 0;
      let n = chunkLength(chunk);
      if (skip > 0) {
        from = Math.min(skip, n);
        skip -= from;
        n -= from;
      }
      n = Math.min(n, left);
      left -= n;
      const whole = from === 0 && n === chunkLength(chunk);
      const fields = sentFields ? undefined : chunk.fields;
      sentFields = true;
      if (n > 0 || fields) {
        const out: ResultChunk = whole
          ? { ...chunk, fields }
          : { fields, rows: chunk.rows?.slice(from, from + n) ?? null, raw: chunk.rows === null ? chunk.raw?.slice(from, from + n) ?? null : null };
        if ((await onChunk(out)) === 'stop') return 'stop';
      }
      return left === 0 ? 'stop' : undefined;
    });
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
