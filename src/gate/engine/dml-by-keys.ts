// DmlByKeys: an UPDATE or DELETE the shards cannot run alone — ORDER BY … LIMIT across shards,
// several tables joined across shards, a subquery in WHERE — done as Vitess does it: select the
// changed rows' keys first (primary key and sharding column, with the statement's own FROM, WHERE,
// ORDER BY and LIMIT, planned as any query), then change those rows by key, routed by their
// sharding column, in the session's (or an implicit) transaction. The primary key is read from a
// shard (SHOW KEYS) when the statement runs.
import { TesseraError } from '../../mysql/index.js';
import type { Literal } from '../../sql/index.js';
import { notSupported } from '../errors.js';
import type { BindVars, PlanDescription, Primitive, Result, VCursor } from '../types.js';
import { cellToLiteral, rowsOf } from '../values.js';

export interface DmlByKeysSpec {
  readonly operator: 'Update' | 'Delete';
  readonly keyspace: string;
  readonly table: string;
  /** The select of the rows to change: sharding column, primary key columns, then per-row values. */
  readonly selectFor: (pk: readonly string[]) => Primitive;
  /** The statements that change the selected rows (each row: the select's columns as literals). */
  readonly changeFor: (pk: readonly string[], rows: readonly (readonly Literal[])[]) => Primitive[];
  readonly reason: string;
}

export class DmlByKeys implements Primitive {
  constructor(readonly spec: DmlByKeysSpec) {}

  inputs(): readonly Primitive[] {
    return [];
  }

  private async primaryKey(vc: VCursor): Promise<string[]> {
    const shards = await vc.allShards(this.spec.keyspace);
    const [r] = await vc.executeMulti([{ rs: shards[0], sql: `SHOW KEYS FROM \`${this.spec.table.replaceAll('`', '``')}\` WHERE Key_name = 'PRIMARY'` }], { write: false });
    const keys = rowsOf(r)
      .map((row) => ({ seq: Number(row[3]?.toString('latin1') ?? '0'), name: row[4]?.toString('utf8') ?? '' }))
      .sort((a, b) => a.seq - b.seq)
      .map((k) => k.name);
    if (keys.length === 0) throw notSupported(`${this.spec.operator.toUpperCase()} of ${this.spec.table} across shards by ORDER BY … LIMIT, a join or a subquery: the table has no primary key to change the selected rows by`);
    return keys;
  }

  async execute(vc: VCursor, bindVars: BindVars): Promise<Result> {
    const pk = await this.primaryKey(vc);
    // The keys are read and the rows changed in one transaction, as one MariaDB statement would.
    return vc.atomically ? vc.atomically(() => this.run(vc, bindVars, pk)) : this.run(vc, bindVars, pk);
  }

  private async run(vc: VCursor, bindVars: BindVars, pk: readonly string[]): Promise<Result> {
    const sel = await this.spec.selectFor(pk).execute(vc, bindVars);
    const rows = rowsOf(sel).map((row) => row.map((c, i) => cellToLiteral(c, sel.fields[i])));
    let affected = 0;
    let warnings = sel.warnings;
    if (rows.length > vc.rowsMax) throw new TesseraError({ errno: 1172, sqlState: '42000' }, `the ${this.spec.operator.toUpperCase()} would change more rows than the gate's rows-max (${vc.rowsMax}); narrow its WHERE`);
    if (rows.length) {
      for (const p of this.spec.changeFor(pk, rows)) {
        const r = await p.execute(vc, bindVars);
        affected += r.rowsAffected;
        warnings += r.warnings;
      }
    }
    const info = this.spec.operator === 'Update' ? `Rows matched: ${rows.length}  Changed: ${affected}  Warnings: ${warnings}` : '';
    return { fields: [], rows: [], raw: null, rowsAffected: affected, insertId: 0n, warnings, info };
  }

  describe(): PlanDescription {
    return {
      OperatorType: 'DmlByKeys',
      Variant: this.spec.operator,
      Keyspace: this.spec.keyspace,
      Table: this.spec.table,
      GateReason: this.spec.reason,
      // The key select as planned for a one-column primary key named `id` (the real one is read at run time).
      Inputs: [this.spec.selectFor(['id']).describe()],
    };
  }
}
