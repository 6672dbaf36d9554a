// Route: sends one query to the shards its opcode picks and merges what comes back.
//
// Opcodes (Vitess's names): Unsharded (the one shard of an unsharded keyspace), EqualUnique (a
// unique vindex on `=`: one shard), Equal (a non-unique vindex on `=`), IN (a vindex on `IN`: the
// values are grouped per shard and each shard gets only its own in `::__vals`), MultiEqual (like IN
// without rewriting the list), Scatter (every shard), ByDestination (a shard the session targets),
// Reference (a reference table: any one shard), DBA (information_schema and friends: any one shard),
// None (nothing can match: one shard still answers, for the field list).
//
// A result from one shard passes through undecoded. From several shards, rows are concatenated,
// or merge-sorted on `orderBy` when the query was sent with an ORDER BY; hidden columns added for
// sorting are cut off by `truncate`.
import type { ColumnDefinition } from '../../mysql/index.js';
import { ER, TesseraError } from '../../mysql/index.js';
import { format, formatExpr, type BindValue, type Expr, type Literal, type Statement } from '../../sql/index.js';
import { formatBound } from '../../sql/format.js';
import type { Vindex, VindexValue } from '../../vindexes/index.js';
import { notSupported, rowsLimitError } from '../errors.js';
import { summedInfo } from './dml-info.js';
import { literalValue } from '../evaluate.js';
import type { BindVars, PlanDescription, Primitive, ResolvedShard, Result, Row, ShardQuery, StreamCallback, VCursor } from '../types.js';
import { compareCells, literalToVindexValue, rowsOf, withCollationHints, type CollationHint } from '../values.js';
import { mapVindex } from './vindex-lookup.js';
import { collectShardStreams, streamShards } from './stream.js';

export type RouteOpcode = 'Unsharded' | 'EqualUnique' | 'Equal' | 'IN' | 'MultiEqual' | 'Scatter' | 'ByDestination' | 'Reference' | 'DBA' | 'None';

export interface OrderByOffset {
  readonly offset: number;
  readonly desc: boolean;
}

export interface RouteSpec {
  readonly opcode: RouteOpcode;
  readonly keyspace: string;
  readonly sharded: boolean;
  /** The statement sent to each shard (table qualifiers already stripped). */
  readonly query: Statement;
  /** The vindex and value expressions for Equal*, IN, MultiEqual. */
  readonly vindex?: Vindex;
  /** EqualUnique/Equal: one value expression; IN/MultiEqual: a list bind variable or a tuple. */
  readonly values?: readonly Expr[];
  /** ByDestination: the targeted shard. */
  readonly shard?: string;
  readonly orderBy?: readonly OrderByOffset[];
  /** Hidden columns at the end of each row (added for ORDER BY), cut before the caller sees them. */
  readonly hidden?: number;
  /** Computed ORDER BY columns with the hidden column naming their collation (see CollationHint). */
  readonly collationHints?: readonly CollationHint[];
  readonly write?: boolean;
  readonly tables?: readonly string[];
  /** The OperatorType in plans: Route, Update, Delete, Insert, Send. */
  readonly operator?: string;
}

export const IN_VALUES_BIND_VAR = '__vals';

/** What a route's shard resolution without a promise needs: a cursor's, or a gate session's own (GateSession). */
export interface ShardsNow {
  allShardsNow(keyspace: string): ResolvedShard[];
  shardForKeyspaceIdNow(keyspace: string, ksid: Uint8Array): ResolvedShard | undefined;
}

function valueFromExpr(e: Expr, bindVars: BindVars): Literal | Literal[] {
  if (e.kind === 'BindVar') {
    const v = bindVars[e.name];
    if (v === undefined) throw new TesseraError(ER.UNKNOWN_ERROR, `missing bind variable :${e.name}`);
    if (v.kind !== 'List') return v;
    // Rows of values (`(a, b) IN ::list`) never route: the planner routes on one column's values.
    return v.items.map((i) => {
      if (i.kind === 'Tuple') throw new Error(`bind variable ::${e.name} holds rows where a vindex needs values`);
      return i;
    });
  }
  if (e.kind === 'Tuple') return e.items.map((i) => valueFromExpr(i, bindVars) as Literal);
  if (e.kind === 'Number' || e.kind === 'String' || e.kind === 'Null' || e.kind === 'Hex' || e.kind === 'Bit' || e.kind === 'Bool') return e;
  throw notSupported(`routing on the value ${e.kind}`);
}

export class Route implements Primitive {
  constructor(readonly spec: RouteSpec) {}

  inputs(): readonly Primitive[] {
    return [];
  }

  /** The shards and per-shard bind variables this execution goes to. */
  async resolve(vc: VCursor, bindVars: BindVars): Promise<{ rs: ResolvedShard; bindVars: BindVars }[]> {
    const s = this.spec;
    switch (s.opcode) {
      case 'Unsharded':
      case 'Reference':
      case 'DBA': {
        const shards = await vc.allShards(s.keyspace);
        if (shards.length === 0) throw new TesseraError(ER.UNAVAILABLE, `keyspace ${s.keyspace} has no serving shards`, { kind: 'UNAVAILABLE' });
        // Reads of reference tables and DBA queries may go to any shard; take a stable one.
        return [{ rs: shards[0], bindVars }];
      }
      case 'Scatter':
        return (await vc.allShards(s.keyspace)).map((rs) => ({ rs, bindVars }));
      case 'ByDestination':
        return [{ rs: vc.targetedShard(s.keyspace, s.shard!), bindVars }];
      case 'None': {
        const shards = await vc.allShards(s.keyspace);
        return shards.length ? [{ rs: shards[0], bindVars }] : [];
      }
      case 'EqualUnique':
      case 'Equal': {
        const lit = valueFromExpr(s.values![0], bindVars);
        const values = Array.isArray(lit) ? lit : [lit];
        const shards = await this.shardsFor(vc, values.map(literalToVindexValue));
        const out = new Map<string, { rs: ResolvedShard; bindVars: BindVars }>();
        for (const group of shards) for (const rs of group) out.set(rs.keyspace + '/' + rs.shard, { rs, bindVars });
        if (out.size === 0) return this.anyShard(vc, bindVars);
        return [...out.values()];
      }
      case 'IN':
      case 'MultiEqual': {
        const lit = valueFromExpr(s.values![0], bindVars);
        const values = Array.isArray(lit) ? lit : [lit];
        const perValue = await this.shardsFor(vc, values.map(literalToVindexValue));
        const groups = new Map<string, { rs: ResolvedShard; items: Literal[] }>();
        for (let i = 0; i < values.length; i++) {
          for (const rs of perValue[i]) {
            const k = rs.keyspace + '/' + rs.shard;
            let g = groups.get(k);
            if (!g) groups.set(k, (g = { rs, items: [] }));
            g.items.push(values[i]);
          }
        }
        if (groups.size === 0) return this.anyShard(vc, bindVars);
        if (s.opcode === 'MultiEqual') return [...groups.values()].map((g) => ({ rs: g.rs, bindVars }));
        return [...groups.values()].map((g) => ({
          rs: g.rs,
          bindVars: { ...bindVars, [IN_VALUES_BIND_VAR]: { kind: 'List', items: g.items } satisfies BindValue },
        }));
      }
      default: {
        const never: never = s.opcode;
        throw new Error(`unknown opcode ${String(never)}`);
      }
    }
  }

  private async anyShard(vc: VCursor, bindVars: BindVars): Promise<{ rs: ResolvedShard; bindVars: BindVars }[]> {
    // No value maps to a shard (NULL, or no keyspace id): nothing can match, but the client still
    // needs the field list, so one shard answers the query as written (it matches no rows there).
    const shards = await vc.allShards(this.spec.keyspace);
    const bv = this.spec.opcode === 'IN' ? { ...bindVars, [IN_VALUES_BIND_VAR]: { kind: 'List', items: [{ kind: 'Null' }] } satisfies BindValue } : bindVars;
    return shards.length ? [{ rs: shards[0], bindVars: bv }] : [];
  }

  private async shardsFor(vc: VCursor, values: VindexValue[]): Promise<ResolvedShard[][]> {
    const v = this.spec.vindex!;
    if (v.kind === 'multiColumn') throw notSupported(`routing through the ${v.type} vindex ${v.name}`);
    // A lookup vindex reads its table first (locking what it reads when this route writes).
    const dests = v.kind === 'functional' ? v.map(values) : await mapVindex(vc, v, values, !this.spec.write ? null : this.spec.operator === 'Insert' ? 'pre' : 'post');
    const out: ResolvedShard[][] = [];
    for (const d of dests) {
      if (d.kind === 'keyspaceId') {
        const rs = await vc.shardForKeyspaceId(this.spec.keyspace, d.id);
        out.push(rs ? [rs] : []);
      } else if (d.kind === 'keyspaceIds') {
        const list: ResolvedShard[] = [];
        for (const id of d.ids) {
          const rs = await vc.shardForKeyspaceId(this.spec.keyspace, id);
          if (rs) list.push(rs);
        }
        out.push(list);
      } else if (d.kind === 'keyRange') {
        out.push(await vc.shardsForKeyRange(this.spec.keyspace, d.range.start, d.range.end));
      } else out.push([]);
    }
    return out;
  }

  /**
   * The one shard of an unsharded, reference or DBA route, or of an equality on a functional
   * vindex, worked out without a promise (the resolver answers from its index); null for every
   * other route, and when the cursor cannot answer at once: then `resolve` does it. The same
   * shards and errors as `resolve`.
   */
  resolveNow(vc: VCursor, bindVars: BindVars): { rs: ResolvedShard; bindVars: BindVars }[] | null {
    if (vc.allShardsNow === undefined || vc.shardForKeyspaceIdNow === undefined) return null;
    const rs = this.oneShardNow(vc as ShardsNow, bindVars);
    return rs === null ? null : [{ rs, bindVars }];
  }

  /**
   * resolveNow's one shard, without the array: what the executor's single-route path
   * (Executor.singleRoute) sends the statement to. Null where resolveNow answers null.
   */
  oneShardNow(vc: ShardsNow, bindVars: BindVars): ResolvedShard | null {
    const s = this.spec;
    switch (s.opcode) {
      case 'Unsharded':
      case 'Reference':
      case 'DBA': {
        const shards = vc.allShardsNow(s.keyspace);
        if (shards.length === 0) throw new TesseraError(ER.UNAVAILABLE, `keyspace ${s.keyspace} has no serving shards`, { kind: 'UNAVAILABLE' });
        return shards[0];
      }
      case 'EqualUnique':
      case 'Equal': {
        const v = s.vindex;
        if (v === undefined || v.kind !== 'functional' || !v.unique) return null;
        const lit = valueFromExpr(s.values![0], bindVars);
        if (Array.isArray(lit)) return null;
        // As map() would give it for one value (which may throw the same error for a bad value).
        const id = v.keyspaceId(literalToVindexValue(lit));
        if (id === undefined) return null;
        return vc.shardForKeyspaceIdNow(s.keyspace, id) ?? null;
      }
      default:
        return null;
    }
  }

  async execute(vc: VCursor, bindVars: BindVars): Promise<Result> {
    const targets = this.resolveNow(vc, bindVars) ?? (await this.resolve(vc, bindVars));
    const queries: ShardQuery[] = targets.map((t) => ({ rs: t.rs, sql: formatBound(this.spec.query, t.bindVars) }));
    // OLAP: reads come as streams, so the tablets' row limit does not apply; the gate's does.
    const results =
      vc.workload === 'OLAP' && !this.spec.write
        ? await collectShardStreams(vc, queries, this.spec.tables)
        : await vc.executeMulti(queries, { write: this.spec.write ?? false, tables: this.spec.tables });
    return this.merge(vc, results);
  }

  /**
   * Streams a read: one shard's rows pass through as it sends them, several shards' are
   * concatenated as they arrive or, with an ORDER BY, merged in order (streamShards). Writes are
   * executed whole.
   */
  async stream(vc: VCursor, bindVars: BindVars, onChunk: StreamCallback): Promise<void> {
    if (this.spec.write) {
      const r = await this.execute(vc, bindVars);
      await onChunk({ fields: r.fields, rows: r.rows, raw: r.rows === null ? r.raw : null });
      return;
    }
    const targets = await this.resolve(vc, bindVars);
    const queries: ShardQuery[] = targets.map((t) => ({ rs: t.rs, sql: formatBound(this.spec.query, t.bindVars) }));
    await streamShards(vc, { queries, tables: this.spec.tables, hidden: this.spec.hidden ?? 0, orderBy: this.spec.orderBy, collationHints: this.spec.collationHints }, onChunk);
  }

  merge(vc: VCursor, results: Result[]): Result {
    const hidden = this.spec.hidden ?? 0;
    if (results.length === 1 && hidden === 0) return results[0];
    if (results.length === 0) return { fields: [], rows: [], raw: null, rowsAffected: 0, insertId: 0n, warnings: 0, info: '' };
    const fields = results[0].fields;
    let rows: Row[] = [];
    let rowsAffected = 0;
    let insertId = 0n;
    let warnings = 0;
    for (const r of results) {
      const rr = rowsOf(r);
      if (rows.length + rr.length > vc.rowsMax) throw rowsLimitError('rows-max', vc.rowsMax);
      for (const row of rr) rows.push(row);
      rowsAffected += r.rowsAffected;
      if (insertId === 0n) insertId = r.insertId;
      warnings += r.warnings;
    }
    const order = this.spec.orderBy;
    if (order && order.length > 0 && results.length > 1) {
      const abs = order.map((o) => ({ offset: o.offset < 0 ? fields.length + o.offset : o.offset, desc: o.desc }));
      rows.sort(rowComparator(abs, withCollationHints(fields, rows, this.spec.collationHints)));
    }
    let outFields: readonly ColumnDefinition[] = fields;
    if (hidden > 0) {
      const keep = fields.length - hidden;
      outFields = fields.slice(0, keep);
      rows = rows.map((r) => r.slice(0, keep));
    }
    return { fields: outFields, rows, raw: null, rowsAffected, insertId, warnings, info: summedInfo(results) };
  }

  describe(): PlanDescription {
    const s = this.spec;
    const d: Record<string, unknown> = {
      OperatorType: s.operator ?? 'Route',
      Variant: s.opcode,
      Keyspace: { Name: s.keyspace, Sharded: s.sharded },
    };
    if (s.shard !== undefined) d.TargetDestination = `Shard(${s.shard})`;
    d.Query = format(s.query);
    if (s.tables && s.tables.length) d.Table = s.tables.join(', ');
    if (s.values && s.values.length) d.Values = s.values.map((v) => formatExpr(v));
    if (s.vindex) d.Vindex = s.vindex.name;
    if (s.vindex?.kind === 'lookup') d.LookupQuery = s.vindex.sql.select;
    if (s.orderBy && s.orderBy.length) d.OrderBy = s.orderBy.map((o) => `${o.offset} ${o.desc ? 'DESC' : 'ASC'}`).join(', ');
    if (s.hidden) d.HiddenColumns = s.hidden;
    return d as unknown as PlanDescription;
  }
}

export function rowComparator(order: readonly OrderByOffset[], fields: readonly Pick<ColumnDefinition, 'type' | 'charset' | 'collation'>[]): (a: Row, b: Row) => number {
  return (a, b) => {
    for (const o of order) {
      const c = compareCells(a[o.offset], b[o.offset], fields[o.offset]);
      if (c !== 0) return o.desc ? -c : c;
    }
    return 0;
  };
}

export { literalValue };
