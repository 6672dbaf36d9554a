// The engine's shared types: results as they flow between primitives, the cursor primitives run
// against, and the plain data `describe()` returns for VEXPLAIN and the golden plan tests.
//
// Rows inside the engine are arrays of text-protocol cells (`Buffer` or null for NULL), exactly the
// bytes a shard sent, so a value passes through merge sorts, projections and joins unchanged (a
// DOUBLE never goes through a JS number and back). Cells are decoded only where the gate must
// compare or compute. A result straight from one shard keeps its undecoded row payloads in `raw`.
import type { ColumnDefinition } from '../mysql/index.js';
import type { BindValue } from '../sql/index.js';
import type { TabletType } from '../topo/index.js';
import type { ClusterVSchema } from '../vschema/index.js';

export type Cell = Buffer | null;
export type Row = readonly Cell[];
export type BindVars = Readonly<Record<string, BindValue>>;

export interface Result {
  readonly fields: readonly ColumnDefinition[];
  /** Decoded into cells; null when only `raw` is present. */
  rows: Row[] | null;
  /** Text-protocol row payloads as a single shard sent them (pass-through). */
  raw: readonly Buffer[] | null;
  readonly rowsAffected: number;
  readonly insertId: bigint;
  readonly warnings: number;
  readonly info: string;
}

/** One shard a statement goes to: the keyspace after shard routing rules, and the shard name. */
export interface ResolvedShard {
  readonly keyspace: string;
  readonly shard: string;
}

export interface ShardQuery {
  readonly rs: ResolvedShard;
  readonly sql: string;
}

/** What each shard was sent, for VEXPLAIN QUERIES: where it really went, after shard routing rules. */
export interface LoggedQuery {
  readonly keyspace: string;
  readonly shard: string;
  readonly tabletType: TabletType;
  /** The alias of the tablet that answered ('' when the query failed before one did). */
  tablet: string;
  readonly sql: string;
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Plain data describing a primitive: Vitess's plan JSON shape. */
export interface PlanDescription {
  readonly OperatorType: string;
  readonly Variant?: string;
  readonly Inputs?: readonly PlanDescription[];
  readonly [key: string]: Json | readonly PlanDescription[] | undefined;
}

/**
 * What primitives run against: the session's view of the cluster. The executor implements it per
 * statement (session, transaction, tablet type, limits, the query log).
 */
export interface VCursor {
  readonly vschema: ClusterVSchema;
  readonly tabletType: TabletType;
  /** The most rows a buffering primitive may hold; hitting it is error 1172-style with the name. */
  readonly rowsMax: number;
  /**
   * The session's sql_mode has NO_AUTO_VALUE_ON_ZERO: an INSERT's 0 in an auto_increment column is
   * stored as 0 rather than replaced by the sequence's next value. Absent = false.
   */
  readonly noAutoValueOnZero?: boolean;
  /** Every serving shard of a keyspace for the session's tablet type, after shard routing rules. */
  allShards(keyspace: string): Promise<ResolvedShard[]>;
  /** The shard holding each keyspace id (undefined when no shard does). */
  shardForKeyspaceId(keyspace: string, ksid: Uint8Array): Promise<ResolvedShard | undefined>;
  /** Shards whose ranges intersect a key range given as hex bounds. */
  shardsForKeyRange(keyspace: string, start: Uint8Array, end: Uint8Array): Promise<ResolvedShard[]>;
  /** The shard a shard-targeted session (`USE ks:-80`) named. */
  targetedShard(keyspace: string, shard: string): ResolvedShard;
  /**
   * Runs one query per shard, concurrently, inside the session's transaction when there is one
   * (writes start one when autocommit is off). Results in the order of `queries`.
   */
  executeMulti(queries: readonly ShardQuery[], opts: ExecuteMultiOptions): Promise<Result[]>;
  /**
   * Runs `fn` (several shard calls of one statement) in one transaction: the session's when it
   * has one, else an implicit one committed at the end and rolled back when `fn` fails.
   */
  atomically?<T>(fn: () => Promise<T>): Promise<T>;
  /** A warning the gate itself raises for the running statement (SHOW WARNINGS lists it). */
  warn?(code: number, message: string): void;
  /** Next `n` values of a sequence table; resolves with the first. */
  nextSequenceValues(keyspace: string, table: string, n: number): Promise<bigint>;
}

export interface ExecuteMultiOptions {
  readonly write: boolean;
  readonly tables?: readonly string[];
  /** A statement with an implicit commit (DDL): the session's transaction is committed first and none is begun. */
  readonly ddl?: boolean;
}

export interface Primitive {
  execute(vc: VCursor, bindVars: BindVars): Promise<Result>;
  inputs(): readonly Primitive[];
  describe(): PlanDescription;
}

/** A planned statement: the primitive tree plus what the executor needs to know about it. */
export interface Plan {
  readonly primitive: Primitive;
  /** The statement writes (DML, DDL): it needs a primary and joins or starts a transaction. */
  readonly write: boolean;
  readonly tables: readonly string[];
  /** Approximate memory of the cached plan, for the plan cache's byte bound. */
  readonly bytes: number;
}

export function emptyResult(fields: readonly ColumnDefinition[] = []): Result {
  return { fields, rows: [], raw: null, rowsAffected: 0, insertId: 0n, warnings: 0, info: '' };
}
