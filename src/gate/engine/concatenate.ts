// Concatenate: the rows of several inputs one after another (UNION ALL across routes). Field
// names come from the first input, as in MySQL.
import { ER, TesseraError } from '../../mysql/index.js';
import { rowsLimitError } from '../errors.js';
import type { BindVars, PlanDescription, Primitive, Result, Row, StreamCallback, VCursor } from '../types.js';
import { rowsOf } from '../values.js';
import { streamPrimitive } from './stream.js';

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

  /** The inputs' streams one after another; the fields are the first input's (without table names). */
  async stream(vc: VCursor, bindVars: BindVars, onChunk: StreamCallback): Promise<void> {
    let columns = -1;
    let stopped = false;
    for (const source of this.sources) {
      await streamPrimitive(source, vc, bindVars, async (chunk) => {
        let fields = chunk.fields;
        if (fields) {
          if (columns >= 0 && fields.length !== columns) {
            throw new TesseraError({ errno: 1222, sqlState: '21000' }, 'The used SELECT statements have a different number of columns');
          }
          if (columns >= 0) fields = undefined;
          else {
            columns = fields.length;
            fields = fields.map((f) => (f.table === '' && f.orgTable === '' ? f : { ...f, table: '', orgTable: '' }));
          }
        }
        if ((await onChunk({ ...chunk, fields })) === 'stop') {
          stopped = true;
          return 'stop';
        }
        return undefined;
      });
      if (stopped) return;
    }
  }

  describe(): PlanDescription {
    return { OperatorType: 'Concatenate', Inputs: this.sources.map((s) => s.describe()) };
  }
}
