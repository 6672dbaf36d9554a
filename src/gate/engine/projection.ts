// Projection: picks, reorders or computes the columns the client sees from an input's columns.
import { columnDefinition, TYPE, type ColumnDefinition } from '../../mysql/index.js';
import { formatExpr, type Expr } from '../../sql/index.js';
import { valueCell, type Evaluator, type Value } from '../evaluate.js';
import type { BindVars, Cell, PlanDescription, Primitive, Result, VCursor } from '../types.js';
import { rowsOf } from '../values.js';
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
    const cols = this.columns;
    const out = rows.map((row) => {
      const o = new Array<Cell>(cols.length);
      for (let i = 0; i < cols.length; i++) {
        const c = cols[i];
        o[i] = c.kind === 'offset' ? row[c.offset] : valueCell(c.eval(row, r.fields, bindVars));
      }
      return o;
    });
    const fields = cols.map((c, i) => {
      if (c.kind === 'offset') {
        const f = r.fields[c.offset];
        return c.name !== undefined && c.name !== f.name ? { ...f, name: c.name } : f;
      }
      void i;
      const derived = c.type?.(r.fields, bindVars);
      if (derived) return fieldOfType(c.name, derived);
      const first = rows.length ? c.eval(rows[0], r.fields, bindVars) : null;
      return fieldFor(c.name, first);
    });
    return { ...r, fields, rows: out, raw: null };
  }

  describe(): PlanDescription {
    return {
      OperatorType: 'Projection',
      Columns: this.columns.map((c) => (c.kind === 'offset' ? `:${c.offset}${c.name ? ' as ' + c.name : ''}` : `${formatExpr(c.text)} as ${c.name}`)),
      Inputs: [this.input.describe()],
    };
  }
}
