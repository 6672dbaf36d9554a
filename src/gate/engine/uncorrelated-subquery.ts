// UncorrelatedSubquery: runs a subquery that does not depend on the outer query first and binds
// its result for the outer query: `::__sqN` (the values, for IN), `:__sqN` (a scalar) and
// `:__sq_has_valuesN` (1 when it returned rows: EXISTS, and guarding IN against an empty list).
// A row constructor's IN (`(a, b) IN (SELECT x, y …)`) binds a list of rows.
import { FIELD_FLAG, TesseraError } from '../../mysql/index.js';
import type { BindValue, Literal, LiteralRow } from '../../sql/index.js';
import type { BindVars, PlanDescription, Primitive, Result, VCursor } from '../types.js';
import { cellToLiteral, rowsOf } from '../values.js';

export type PulloutKind = 'PulloutIn' | 'PulloutNotIn' | 'PulloutValue' | 'PulloutExists';

export class UncorrelatedSubquery implements Primitive {
  constructor(
    readonly kind: PulloutKind,
    readonly name: string,
    readonly hasValuesName: string,
    readonly subquery: Primitive,
    readonly outer: Primitive,
    /** Columns the subquery must return: the width of the row its IN compares (1 for a value). */
    readonly width: number = 1,
    /** PulloutValue: outer result columns that are the value itself, typed as the subquery's column. */
    readonly valueColumns: readonly number[] = [],
  ) {}

  inputs(): readonly Primitive[] {
    return [this.subquery, this.outer];
  }

  async execute(vc: VCursor, bindVars: BindVars): Promise<Result> {
    const sq = await this.subquery.execute(vc, bindVars);
    const rows = rowsOf(sq);
    const bv: Record<string, BindValue> = { ...bindVars };
    bv[this.hasValuesName] = { kind: 'Number', text: rows.length ? '1' : '0', numType: 'int' };
    switch (this.kind) {
      case 'PulloutValue': {
        if (rows.length > 1) throw new TesseraError({ errno: 1242, sqlState: '21000' }, 'Subquery returns more than 1 row');
        if (sq.fields.length !== 1) throw new TesseraError({ errno: 1241, sqlState: '21000' }, 'Operand should contain 1 column(s)');
        bv[this.name] = rows.length ? cellToLiteral(rows[0][0], sq.fields[0]) : { kind: 'Null' };
        break;
      }
      case 'PulloutIn':
      case 'PulloutNotIn': {
        const w = this.width;
        if (sq.fields.length !== w) throw new TesseraError({ errno: 1241, sqlState: '21000' }, `Operand should contain ${w} column(s)`);
        const items: (Literal | LiteralRow)[] = rows.map((r) => {
          if (w === 1) return cellToLiteral(r[0], sq.fields[0]);
          return { kind: 'Tuple', items: sq.fields.map((f, i) => cellToLiteral(r[i], f)), row: false };
        });
        // An empty list is not valid SQL; the has-values guard decides the outcome then.
        const none: Literal = { kind: 'Null' };
        bv[this.name] = { kind: 'List', items: items.length ? items : [w === 1 ? none : { kind: 'Tuple', items: Array.from({ length: w }, () => none), row: false }] };
        break;
      }
      case 'PulloutExists':
        break;
      default: {
        const never: never = this.kind;
        throw new Error(`unknown pullout ${String(never)}`);
      }
    }
    const out = await this.outer.execute(vc, bv);
    if (this.valueColumns.length === 0 || sq.fields.length !== 1) return out;
    // MariaDB types `(SELECT COUNT(*) …) AS n` as the subquery's column, nullable (no row: NULL);
    // the outer query saw a literal in its place.
    const inner = sq.fields[0];
    const fields = out.fields.map((f, i) =>
      this.valueColumns.includes(i) && i < out.fields.length
        ? { ...f, type: inner.type, columnLength: inner.columnLength, decimals: inner.decimals, charset: inner.charset, collation: inner.collation, flags: inner.flags & ~FIELD_FLAG.NOT_NULL }
        : f,
    );
    return { ...out, fields };
  }

  describe(): PlanDescription {
    return {
      OperatorType: 'UncorrelatedSubquery', Variant: this.kind, PulloutVars: [this.name, this.hasValuesName],
      ...(this.width > 1 ? { Columns: this.width } : {}),
      Inputs: [this.subquery.describe(), this.outer.describe()],
    };
  }
}
