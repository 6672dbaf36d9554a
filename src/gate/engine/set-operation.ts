// SetOperation: INTERSECT / EXCEPT [ALL] of two inputs at the gate, after each side ran where its
// tables live. Rows are compared as MariaDB compares them in a set operation: NULLs equal, text
// under the column's collation (the left side's columns name the result). DISTINCT forms return
// each row once; ALL forms keep min(left, right) copies (INTERSECT ALL) or left − right copies
// (EXCEPT ALL), as MariaDB 10.5+ does.
import { TesseraError } from '../../mysql/index.js';
import { rowsLimitError } from '../errors.js';
import type { BindVars, PlanDescription, Primitive, Result, Row, VCursor } from '../types.js';
import { rowKey, rowsOf } from '../values.js';

export class SetOperation implements Primitive {
  constructor(
    readonly op: 'INTERSECT' | 'EXCEPT',
    readonly all: boolean,
    readonly left: Primitive,
    readonly right: Primitive,
  ) {}

  inputs(): readonly Primitive[] {
    return [this.left, this.right];
  }

  async execute(vc: VCursor, bindVars: BindVars): Promise<Result> {
    const [l, r] = await Promise.all([this.left.execute(vc, bindVars), this.right.execute(vc, bindVars)]);
    if (l.fields.length !== r.fields.length) {
      throw new TesseraError({ errno: 1222, sqlState: '21000' }, 'The used SELECT statements have a different number of columns');
    }
    const fields = l.fields.map((f) => (f.table === '' && f.orgTable === '' ? f : { ...f, table: '', orgTable: '' }));
    const offsets = fields.map((_, i) => i);
    const rrows = rowsOf(r);
    if (rrows.length > vc.rowsMax) throw rowsLimitError('rows-max', vc.rowsMax);
    const counts = new Map<string, number>();
    for (const row of rrows) {
      const k = rowKey(row, offsets, fields);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    const out: Row[] = [];
    const emitted = new Set<string>();
    for (const row of rowsOf(l)) {
      const k = rowKey(row, offsets, fields);
      const n = counts.get(k) ?? 0;
      if (this.all) {
        if (this.op === 'INTERSECT') {
          if (n > 0) {
            out.push(row);
            counts.set(k, n - 1);
          }
        } else if (n > 0) counts.set(k, n - 1);
        else out.push(row);
        continue;
      }
      if (emitted.has(k)) continue;
      if ((this.op === 'INTERSECT') === n > 0) {
        emitted.add(k);
        out.push(row);
      }
    }
    return { fields, rows: out, raw: null, rowsAffected: 0, insertId: 0n, warnings: l.warnings + r.warnings, info: '' };
  }

  describe(): PlanDescription {
    return {
      OperatorType: 'SetOperation',
      Variant: this.op + (this.all ? ' ALL' : ''),
      GateReason: `${this.op} compares the rows of both sides, which live on different shards`,
      Inputs: [this.left.describe(), this.right.describe()],
    };
  }
}
