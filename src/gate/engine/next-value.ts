// NextValue: `SELECT NEXT n VALUES FROM seq`, answered from the gate's cached block of the
// sequence (refilled from the sequence table on its unsharded keyspace's primary).
import { columnDefinition, TYPE } from '../../mysql/index.js';
import { formatExpr, type Expr } from '../../sql/index.js';
import { gateError } from '../errors.js';
import type { BindVars, PlanDescription, Primitive, Result, VCursor } from '../types.js';

export class NextValue implements Primitive {
  constructor(
    readonly keyspace: string,
    readonly table: string,
    readonly count: Expr,
  ) {}

  inputs(): readonly Primitive[] {
    return [];
  }

  async execute(vc: VCursor, bindVars: BindVars): Promise<Result> {
    let text: string | undefined;
    const c = this.count;
    if (c.kind === 'Number' && c.numType === 'int') text = c.text;
    else if (c.kind === 'BindVar') {
      const v = bindVars[c.name];
      if (v && v.kind === 'Number' && v.numType === 'int') text = v.text;
    }
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < 1) throw gateError(`NEXT n VALUES: n must be a positive integer, got ${formatExpr(c)}`);
    const first = await vc.nextSequenceValues(this.keyspace, this.table, n);
    return {
      fields: [columnDefinition({ name: 'nextval', type: TYPE.LONGLONG, charset: 63, columnLength: 20 })],
      rows: [[Buffer.from(first.toString(), 'latin1')]],
      raw: null,
      rowsAffected: 0,
      insertId: 0n,
      warnings: 0,
      info: '',
    };
  }

  describe(): PlanDescription {
    return { OperatorType: 'Route', Variant: 'Next', Keyspace: { Name: this.keyspace, Sharded: false }, Query: `select next ${formatExpr(this.count)} values from ${this.table}` };
  }
}
