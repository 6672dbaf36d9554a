// InsertSelect: INSERT … SELECT whose rows come from other shards or keyspaces. The SELECT runs
// first (inside the session's transaction when there is one), then its rows are inserted as an
// INSERT … VALUES would be: each row routed to the shard its target vindex names, auto_increment
// values from the sequence, all shards in one (implicit or the session's) transaction.
import { ER, TesseraError } from '../../mysql/index.js';
import type { Expr } from '../../sql/index.js';
import type { BindVars, PlanDescription, Primitive, Result, VCursor } from '../types.js';
import { emptyResult } from '../types.js';
import { cellToLiteral, rowsOf } from '../values.js';
import { Insert, type InsertSpec } from './insert.js';

export class InsertSelect implements Primitive {
  constructor(
    /** The target's insert, planned for one placeholder row: its rows are replaced by the SELECT's. */
    readonly insert: InsertSpec,
    readonly select: Primitive,
    readonly reason: string,
  ) {}

  inputs(): readonly Primitive[] {
    return [this.select];
  }

  async execute(vc: VCursor, bindVars: BindVars): Promise<Result> {
    // Read and written in one transaction, as one MariaDB statement would be.
    return vc.atomically ? vc.atomically(() => this.run(vc, bindVars)) : this.run(vc, bindVars);
  }

  private async run(vc: VCursor, bindVars: BindVars): Promise<Result> {
    const r = await this.select.execute(vc, bindVars);
    if (r.fields.length !== this.insert.columns.length) throw new TesseraError(ER.WRONG_VALUE_COUNT, "Column count doesn't match value count at row 1");
    const rows: Expr[][] = rowsOf(r).map((row) => row.map((c, i) => cellToLiteral(c, r.fields[i])));
    if (rows.length === 0) return { ...emptyResult(), info: 'Records: 0  Duplicates: 0  Warnings: 0' };
    return new Insert({ ...this.insert, rows }).execute(vc, bindVars);
  }

  describe(): PlanDescription {
    const proto = new Insert(this.insert).describe();
    return { OperatorType: 'InsertSelect', Keyspace: this.insert.keyspace, Table: this.insert.table, GateReason: this.reason, Inputs: [this.select.describe(), { ...proto, Inputs: undefined }] };
  }
}
