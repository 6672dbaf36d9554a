// Projection: picks, reorders or computes the columns the client sees from an input's columns.
import { columnDefinition, TYPE, type ColumnDefinition } from '../../mysql/index.js';
import { formatExpr, type Expr } from '../../sql/index.js';
import { valueCell, type Evaluator, type Value } from '../evaluate.js';
import type { BindVars, Cell, PlanDescription, Primitive, Result, Row, StreamCallback, VCursor } from '../types.js';
import { rowsOf } from '../values.js';
import { chunkRows, streamPrimitive } from './stream.js';
import { fieldOfType, type ExprTyper } from './expr-type.js';

export type ProjectedColumn =
  | { readonly kind: 'offset'; readonly offset: number; readonly name?: string }
  | {
      readonly kind: 'expr';
      readonly eval: Evaluator;
      readonly name: string;
      readonly text: Expr;
      /** MariaDB's type for the expression from its operands' columns, where modelled (expr-type.ts). */
      readonly type?: ExprTyper;
    };

// Columns the gate computes name no table column: orgName is empty, as MariaDB sends for expressions.
function fieldFor(name: string, v: Value): ColumnDefinition {
  if (typeof v === 'bigint') return columnDefinition({ name, orgName: '', type: TYPE.LONGLONG, charset: 63, columnLength: 21, flags: 0x80 });
  if (typeof v === 'number') return columnDefinition({ name, orgName: '', type: TYPE.DOUBLE, charset: 63, columnLength: 23, decimals: 31, flags: 0x80 });
  if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) return columnDefinition({ name, orgName: '', type: TYPE.NEWDECIMAL, charset: 63, decimals: v.scale, columnLength: 65, flags: 0x80 });
  return columnDefinition({ name, orgName: '', type: TYPE.VAR_STRING, columnLength: 1024 });
}

export class Projection implements Primitive {
  constructor(
    readonly input: Primitive,
    readonly columns: readonly ProjectedColumn[],
  ) {}

  inputs(): readonly Primitive[] {
    return [this.input];
  }

  async execute(vc: VCursor, bindVars: BindVars): Promise<Result> {
    const r = await this.input.execute(vc, bindVars);
    const rows = rowsOf(r);
    return { ...r, fields: this.fields(r.fields, rows[0], bindVars), rows: this.project(rows, r.fields, bindVars), raw: null };
  }

  /**
   * The input's chunks projected. The fields go out with the first chunk that has a row (a column
   * the gate computes without a modelled type is typed from its first value, as in execute).
   */
  async stream(vc: VCursor, bindVars: BindVars, onChunk: StreamCallback): Promise<void> {
    let inputFields: Result['fields'] = [];
    let sent = false;
    await streamPrimitive(this.input, vc, bindVars, (chunk) => {
      if (chunk.fields) inputFields = chunk.fields;
      const rows = chunkRows(chunk, inputFields.length);
      if (rows.length === 0) return undefined;
      const fields = sent ? undefined : this.fields(inputFields, rows[0], bindVars);
      sent = true;
      return onChunk({ fields, rows: this.project(rows, inputFields, bindVars), raw: null });
    });
    if (!sent) await onChunk({ fields: this.fields(inputFields, undefined, bindVars), rows: [], raw: null });
  }

  private project(rows: readonly Row[], fields: Result['fields'], bindVars: BindVars): Row[] {
    const cols = this.columns;
    return rows.map((row) => {
      const o = new Array<Cell>(cols.length);
      for (let i = 0; i < cols.length; i++) {
        const c = cols[i];
        o[i] = c.kind === 'offset' ? row[c.offset] : valueCell(c.eval(row, fields, bindVars));
      }
      return o;
    });
  }

  private fields(input: Result['fields'], first: Row | undefined, bindVars: BindVars): ColumnDefinition[] {
    return this.columns.map((c) => {
      if (c.kind === 'offset') {
        const f = input[c.offset];
        return c.name !== undefined && c.name !== f.name ? { ...f, name: c.name } : f;
      }
      const derived = c.type?.(input, bindVars);
      if (derived) return fieldOfType(c.name, derived);
      return fieldFor(c.name, first ? c.eval(first, input, bindVars) : null);
    });
  }

  describe(): PlanDescription {
    return {
      OperatorType: 'Projection',
      Columns: this.columns.map((c) => (c.kind === 'offset' ? `:${c.offset}${c.name ? ' as ' + c.name : ''}` : `${formatExpr(c.text)} as ${c.name}`)),
      Inputs: [this.input.describe()],
    };
  }
}
