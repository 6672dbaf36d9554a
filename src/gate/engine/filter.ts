// Filter: keeps the rows a predicate holds for, evaluated at the gate (HAVING after a cross-shard
// aggregation, WHERE over a derived table or a join).
import { formatExpr, type Expr } from '../../sql/index.js';
import { isTrue, type Evaluator } from '../evaluate.js';
import type { BindVars, PlanDescription, Primitive, Result, StreamCallback, VCursor } from '../types.js';
import { rowsOf } from '../values.js';
import { chunkRows, streamPrimitive } from './stream.js';

export class Filter implements Primitive {
  constructor(
    readonly input: Primitive,
    readonly predicate: Evaluator,
    readonly text: Expr,
  ) {}

  inputs(): readonly Primitive[] {
    return [this.input];
  }

  async execute(vc: VCursor, bindVars: BindVars): Promise<Result> {
    const r = await this.input.execute(vc, bindVars);
    const rows = rowsOf(r).filter((row) => isTrue(this.predicate(row, r.fields, bindVars)));
    return { ...r, rows, raw: null };
  }

  /** The input's chunks with the rows the predicate holds for (the fields pass as they are). */
  async stream(vc: VCursor, bindVars: BindVars, onChunk: StreamCallback): Promise<void> {
    let fields: Result['fields'] = [];
    await streamPrimitive(this.input, vc, bindVars, (chunk) => {
      if (chunk.fields) fields = chunk.fields;
      const rows = chunkRows(chunk, fields.length).filter((row) => isTrue(this.predicate(row, fields, bindVars)));
      if (rows.length === 0 && !chunk.fields) return undefined;
      return onChunk({ fields: chunk.fields, rows, raw: null });
    });
  }

  describe(): PlanDescription {
    return { OperatorType: 'Filter', Predicate: formatExpr(this.text), Inputs: [this.input.describe()] };
  }
}
