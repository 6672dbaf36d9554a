// CorrelatedSubquery: a subquery that depends on the outer row and whose tables the outer route
// cannot reach alone (Vitess plans these as a semi-join). For each input row the outer columns the
// subquery names are bound as `:name` variables, the subquery runs, and one column is appended:
//   Exists — 1 when the subquery returned a row, else 0 (EXISTS / NOT EXISTS);
//   Value  — the subquery's single value, NULL for no row, 1242 for more than one (scalar subquery);
//   In     — the subquery was planned to return `outer_value = inner_value` per row (compared on the
//            shards, under the column's collation): 1 if one is 1, NULL if none is but one is NULL,
//            0 otherwise (also for no rows), which is `x IN (SELECT …)` with SQL's NULL rules.
// Rows that bind the same values share one run of the subquery.
import { columnDefinition, FIELD_FLAG, TesseraError, TYPE, type ColumnDefinition } from '../../mysql/index.js';
import type { BindValue } from '../../sql/index.js';
import type { BindVars, Cell, PlanDescription, Primitive, Result, Row, VCursor } from '../types.js';
import { cellToLiteral, rowsOf } from '../values.js';

export type CorrelatedKind = 'Exists' | 'Value' | 'In';

const ONE = Buffer.from('1');
const ZERO = Buffer.from('0');

export class CorrelatedSubquery implements Primitive {
  constructor(
    readonly kind: CorrelatedKind,
    /** The appended column's name (`__sqN`). */
    readonly name: string,
    readonly outer: Primitive,
    readonly subquery: Primitive,
    /** Bind variable name → outer column offset. */
    readonly vars: Readonly<Record<string, number>>,
    /** Why the shards could not answer it alone (VEXPLAIN). */
    readonly reason?: string,
  ) {}

  inputs(): readonly Primitive[] {
    return [this.outer, this.subquery];
  }

  async execute(vc: VCursor, bindVars: BindVars): Promise<Result> {
    const o = await this.outer.execute(vc, bindVars);
    const names = Object.keys(this.vars);
    const cache = new Map<string, { cell: Cell; field: ColumnDefinition | undefined }>();
    const rows: Row[] = [];
    let innerField: ColumnDefinition | undefined;
    const run = async (bv: Record<string, BindValue>): Promise<{ cell: Cell; field: ColumnDefinition | undefined }> => {
      const r = await this.subquery.execute(vc, bv);
      const rs = rowsOf(r);
      switch (this.kind) {
        case 'Exists':
          return { cell: rs.length ? ONE : ZERO, field: undefined };
        case 'Value':
          if (r.fields.length !== 1) throw new TesseraError({ errno: 1241, sqlState: '21000' }, 'Operand should contain 1 column(s)');
          if (rs.length > 1) throw new TesseraError({ errno: 1242, sqlState: '21000' }, 'Subquery returns more than 1 row');
          return { cell: rs.length ? rs[0][0] : null, field: r.fields[0] };
        case 'In': {
          let sawNull = false;
          for (const row of rs) {
            const c = row[0];
            if (c === null) sawNull = true;
            else if (Number(c.toString('latin1')) !== 0) return { cell: ONE, field: undefined };
          }
          return { cell: sawNull ? null : ZERO, field: undefined };
        }
        default: {
          const never: never = this.kind;
          throw new Error(`unknown correlated subquery ${String(never)}`);
        }
      }
    };
    for (const row of rowsOf(o)) {
      const bv: Record<string, BindValue> = { ...bindVars };
      for (const n of names) bv[n] = cellToLiteral(row[this.vars[n]], o.fields[this.vars[n]]);
      const key = JSON.stringify(names.map((n) => bv[n]));
      let v = cache.get(key);
      if (!v) {
        v = await run(bv);
        cache.set(key, v);
      }
      innerField ??= v.field;
      rows.push([...row, v.cell]);
    }
    if (this.kind === 'Value' && innerField === undefined) {
      // No outer rows: the subquery still says what its column is.
      const bv: Record<string, BindValue> = { ...bindVars };
      for (const n of names) bv[n] = { kind: 'Null' };
      innerField = (await this.subquery.execute(vc, bv)).fields[0];
    }
    const field: ColumnDefinition = this.kind === 'Value' && innerField
      ? { ...innerField, name: this.name, flags: innerField.flags & ~FIELD_FLAG.NOT_NULL }
      : columnDefinition({ name: this.name, orgName: '', type: TYPE.LONGLONG, charset: 63, columnLength: 1, flags: this.kind === 'Exists' ? FIELD_FLAG.NOT_NULL | FIELD_FLAG.BINARY : FIELD_FLAG.BINARY });
    return { fields: [...o.fields, field], rows, raw: null, rowsAffected: 0, insertId: 0n, warnings: o.warnings, info: '' };
  }

  describe(): PlanDescription {
    return {
      OperatorType: 'CorrelatedSubquery',
      Variant: this.kind,
      Column: this.name,
      JoinVars: { ...this.vars },
      ...(this.reason ? { GateReason: this.reason } : {}),
      Inputs: [this.outer.describe(), this.subquery.describe()],
    };
  }
}
