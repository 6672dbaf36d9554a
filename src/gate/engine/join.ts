// Join: a nested-loop join across routes that cannot run as one query (different shards or
// keyspaces). For each left row, the left values the right side needs are bound as `:name`
// variables and the right query runs; a LEFT JOIN emits the left row with NULLs when the right
// side returns nothing. `cols` picks the output: -n is the left's column n-1, +n the right's.
import { rowsLimitError } from '../errors.js';
import type { BindVars, Cell, PlanDescription, Primitive, Result, Row, StreamCallback, VCursor } from '../types.js';
import { cellToLiteral, rowsOf } from '../values.js';
import type { BindValue } from '../../sql/index.js';
import { chunkRows, streamPrimitive } from './stream.js';

export class Join implements Primitive {
  constructor(
    readonly left: Primitive,
    readonly right: Primitive,
    readonly cols: readonly number[],
    /** Bind variable name → left column offset. */
    readonly vars: Readonly<Record<string, number>>,
    readonly outer: boolean,
    /** Why the shards could not join these alone, and what VSchema change would let them (VEXPLAIN). */
    readonly reason?: string,
  ) {}

  inputs(): readonly Primitive[] {
    return [this.left, this.right];
  }

  async execute(vc: VCursor, bindVars: BindVars): Promise<Result> {
    const l = await this.left.execute(vc, bindVars);
    const lrows = rowsOf(l);
    const out: Row[] = [];
    let rightFields: Result['fields'] | null = null;
    const varNames = Object.keys(this.vars);
    for (const lrow of lrows) {
      const bv: Record<string, BindValue> = { ...bindVars };
      for (const name of varNames) {
        const off = this.vars[name];
        bv[name] = cellToLiteral(lrow[off], l.fields[off]);
      }
      const r = await this.right.execute(vc, bv);
      rightFields ??= r.fields;
      const rrows = rowsOf(r);
      if (rrows.length === 0 && this.outer) out.push(this.pick(lrow, null, r.fields.length));
      for (const rrow of rrows) out.push(this.pick(lrow, rrow, r.fields.length));
      if (out.length > vc.rowsMax) throw rowsLimitError('rows-max', vc.rowsMax);
    }
    if (rightFields === null) {
      // No left rows: the right side still has to say what its columns are.
      const bv: Record<string, BindValue> = { ...bindVars };
      for (const name of varNames) bv[name] = { kind: 'Null' };
      rightFields = (await this.right.execute(vc, bv)).fields;
    }
    const rf = rightFields;
    const fields = this.cols.map((c) => (c < 0 ? l.fields[-c - 1] : rf[c - 1]));
    return { fields, rows: out, raw: null, rowsAffected: 0, insertId: 0n, warnings: l.warnings, info: '' };
  }

  /**
   * Streams the left side; each of its chunks is joined (the right side runs per left row) and
   * passed on before the next is read, so only one chunk's joined rows are held.
   */
  async stream(vc: VCursor, bindVars: BindVars, onChunk: StreamCallback): Promise<void> {
    const varNames = Object.keys(this.vars);
    let leftFields: Result['fields'] = [];
    let fields: Result['fields'] | null = null;
    let sent = false;
    const fieldsOf = (rf: Result['fields']): Result['fields'] => this.cols.map((c) => (c < 0 ? leftFields[-c - 1] : rf[c - 1]));
    await streamPrimitive(this.left, vc, bindVars, async (chunk) => {
      if (chunk.fields) leftFields = chunk.fields;
      const out: Row[] = [];
      for (const lrow of chunkRows(chunk, leftFields.length)) {
        const bv: Record<string, BindValue> = { ...bindVars };
        for (const name of varNames) {
          const off = this.vars[name];
          bv[name] = cellToLiteral(lrow[off], leftFields[off]);
        }
        const r = await this.right.execute(vc, bv);
        fields ??= fieldsOf(r.fields);
        const rrows = rowsOf(r);
        if (rrows.length === 0 && this.outer) out.push(this.pick(lrow, null, r.fields.length));
        for (const rrow of rrows) out.push(this.pick(lrow, rrow, r.fields.length));
      }
      // The fields go with the first chunk, and they need a right result: wait for a left row.
      if (fields === null || (sent && out.length === 0)) return undefined;
      const first = !sent;
      sent = true;
      return onChunk({ fields: first ? fields : undefined, rows: out, raw: null });
    });
    if (!sent) {
      // No left rows: the right side still has to say what its columns are.
      const bv: Record<string, BindValue> = { ...bindVars };
      for (const name of varNames) bv[name] = { kind: 'Null' };
      await onChunk({ fields: fieldsOf((await this.right.execute(vc, bv)).fields), rows: [], raw: null });
    }
  }

  private pick(lrow: Row, rrow: Row | null, _rightWidth: number): Row {
    const o = new Array<Cell>(this.cols.length);
    for (let i = 0; i < this.cols.length; i++) {
      const c = this.cols[i];
      o[i] = c < 0 ? lrow[-c - 1] : rrow === null ? null : rrow[c - 1];
    }
    return o;
  }

  describe(): PlanDescription {
    return {
      OperatorType: 'Join',
      Variant: this.outer ? 'LeftJoin' : 'Join',
      JoinColumnIndexes: this.cols.map((c) => (c < 0 ? `L:${-c - 1}` : `R:${c - 1}`)).join(','),
      ...(Object.keys(this.vars).length ? { JoinVars: Object.fromEntries(Object.entries(this.vars).map(([k, v]) => [k, v])) } : {}),
      ...(this.reason ? { GateReason: this.reason } : {}),
      Inputs: [this.left.describe(), this.right.describe()],
    };
  }
}
