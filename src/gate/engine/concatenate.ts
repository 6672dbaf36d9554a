// Concatenate: the rows of several inputs one after another (UNION ALL across routes). Field
// names come from the first input, as in MySQL.
import { ER, TesseraError } from '../../mysql/index.js';
import { rowsLimitError } from '../errors.js';
import type { BindVars, PlanDescription, Primitive, Result, Row, VCursor } from '../types.js';
import { rowsOf } from '../values.js';

export class Concatenate implements Primitive {
  constructor(readonly sources: readonly Primitive[]) {}

  inputs(): readonly Primitive[] {
    return this.sources;
  }

  async execute(vc: VCursor, bindVars: BindVars): Promise<Result> {
    const results = await Promise.all(this.sources.map((s) => s.execute(vc, bindVars)));
    // A UNION's columns belong to no one table: MariaDB sends them without table names.
    const fields = results[0].fields.map((f) => (f.table === '' && f.orgTable === '' ? f : { ...f, table: '', orgTable: '' }));
    const rows: Row[] = [];
    for (const r of results) {
      if (r.fields.length !== fields.length) {
        throw new TesseraError({ errno: 1222, sqlState: '21000' }, 'The used SELECT statements have a different number of columns');
      }
      for (const row of rowsOf(r)) rows.push(row);
      if (rows.length > vc.rowsMax) throw rowsLimitError('rows-max', vc.rowsMax);
    }
    void ER;
    return { fields, rows, raw: null, rowsAffected: 0, insertId: 0n, warnings: results.reduce((a, r) => a + r.warnings, 0), info: '' };
  }

  describe(): PlanDescription {
    return { OperatorType: 'Concatenate', Inputs: this.sources.map((s) => s.describe()) };
  }
}
