// Send: one statement to every shard of a keyspace (DDL), or to the one shard a session targets.
import type { BindVars, PlanDescription, Primitive, Result, ShardQuery, VCursor } from '../types.js';
import { summedInfo } from './dml-info.js';

export class Send implements Primitive {
  constructor(
    readonly keyspace: string,
    readonly sql: string,
    /** A targeted shard, or null for all shards. */
    readonly shard: string | null,
    readonly write: boolean,
    /**
     * DDL: MariaDB commits the open transaction before it and runs it outside any, so the gate
     * commits the session's transaction (on every shard) first and never begins one for it.
     */
    readonly ddl: boolean = false,
  ) {}

  inputs(): readonly Primitive[] {
    return [];
  }

  async execute(vc: VCursor, _bindVars: BindVars): Promise<Result> {
    const shards = this.shard !== null ? [vc.targetedShard(this.keyspace, this.shard)] : await vc.allShards(this.keyspace);
    const queries: ShardQuery[] = shards.map((rs) => ({ rs, sql: this.sql }));
    const results = await vc.executeMulti(queries, { write: this.write, ddl: this.ddl });
    if (results.length === 1) return results[0];
    return {
      fields: [],
      rows: null,
      raw: null,
      rowsAffected: results.reduce((a, r) => a + r.rowsAffected, 0),
      insertId: 0n,
      warnings: results.reduce((a, r) => a + r.warnings, 0),
      info: summedInfo(results),
    };
  }

  describe(): PlanDescription {
    return {
      OperatorType: 'Send',
      Keyspace: { Name: this.keyspace, Sharded: true },
      TargetDestination: this.shard === null ? 'AllShards()' : `Shard(${this.shard})`,
      Query: this.sql,
    };
  }
}
