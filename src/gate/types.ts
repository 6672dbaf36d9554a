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
import type { CommitOrder } from '../vindexes/index.js';
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
  /**
   * `raw` holds binary-protocol rows instead: a prepared client statement the tablet ran as a
   * MariaDB prepared statement (ExecuteOptions.params), passed to the client as they are. Only
   * the single-route path of an execute makes these, and only writeResult reads them.
   */
  rawBinary?: boolean;
  readonly rowsAffected: number;
  readonly insertId: bigint;
  readonly warnings: number;
  readonly info: string;
  /**
   * A streamed result (OLAP): the fields and rows are produced as this runs, while the executor
   * writes them to the client; `fields`, `rows` and `raw` are empty. Only a statement's top-level
   * result is ever streamed.
   */
  readonly stream?: (onChunk: StreamCallback) => Promise<void>;
  /** Further results one shard sent for the statement (a CALL's result sets and final status), in order. */
  readonly more?: readonly Result[];
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
   * allShards and shardForKeyspaceId answered at once (the resolver's index needs no I/O), for
   * routes that resolve without a promise (Route.resolveNow). Optional: without them every route
   * resolves through the promise-returning methods.
   */
  allShardsNow?(keyspace: string): ResolvedShard[];
  shardForKeyspaceIdNow?(keyspace: string, ksid: Uint8Array): ResolvedShard | undefined;
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
  // Lookup vindexes (optional: cursors without them refuse lookup vindexes with a clear error).
  /** The session has an open transaction. */
  readonly inTransaction?: boolean;
  /**
   * Runs a lookup vindex's statement, planned against the VSchema as a client's would be (the
   * lookup table may live in any keyspace), in the transaction of the commit order.
   */
  executeVindexQuery?(sql: string, bindVars: BindVars, order: CommitOrder): Promise<Result>;
  /** Runs a statement that writes in several transactions as one (see GateSession.statementTransaction). */
  statementTransaction?<T>(run: () => Promise<T>): Promise<T>;
  /**
   * The session's workload (`SET workload`): OLAP streams results without the rows limits, OLTP
   * builds them whole, bounded by the tablets' and the gate's limits. Absent = OLTP.
   */
  readonly workload?: Workload;
  /**
   * Streams one read per shard, concurrently, outside any transaction (the executor streams only
   * when the session holds no transaction or reserved connection). `onChunk(i, chunk)` gets shard
   * i's chunks in order, the first with the fields; a promise it returns holds that shard back
   * until it settles, so a slow consumer slows the tablet's reads from MariaDB. Aborting
   * `signal` (or the session's KILL QUERY) cancels every shard's query, killed in MariaDB by its
   * tablet; the call then rejects. Resolves when every shard has sent its last row.
   */
  streamMulti(queries: readonly ShardQuery[], opts: StreamMultiOptions, onChunk: (index: number, chunk: ShardChunk) => void | Promise<void>): Promise<void>;
}

export type Workload = 'OLTP' | 'OLAP' | 'DBA';

export interface StreamMultiOptions {
  readonly tables?: readonly string[];
  readonly signal?: AbortSignal;
  /** Called when shard `index` has sent its last row (the others may still be sending). */
  readonly onEnd?: (index: number) => void;
}

/** One piece of one shard's streamed result: text-protocol row payloads as MariaDB sent them. */
export interface ShardChunk {
  /** Present on the shard's first chunk only. */
  readonly fields?: readonly ColumnDefinition[];
  readonly rows: readonly Buffer[];
}

/**
 * One piece of a primitive's streamed result. The first chunk carries the fields; every chunk
 * carries rows either decoded (`rows`) or as the payloads one shard sent (`raw`, passed through).
 */
export interface ResultChunk {
  readonly fields?: readonly ColumnDefinition[];
  readonly rows: readonly Row[] | null;
  readonly raw: readonly Buffer[] | null;
}

/**
 * Takes a streamed result's chunks, one call at a time (a producer never calls it again before
 * the promise it returned settles). Returning (or resolving to) 'stop' says it has every row it
 * needs (LIMIT): the producer stops its inputs, cancels their shard queries, and ends without
 * error. Throwing ends the stream with that error.
 */
export type StreamCallback = (chunk: ResultChunk) => StreamControl | Promise<StreamControl>;
export type StreamControl = void | 'stop';

export interface ExecuteMultiOptions {
  readonly write: boolean;
  readonly tables?: readonly string[];
  /** A statement with an implicit commit (DDL): the session's transaction is committed first and none is begun. */
  readonly ddl?: boolean;
}

export interface Primitive {
  execute(vc: VCursor, bindVars: BindVars): Promise<Result>;
  /**
   * Streams the result (Vitess's TryStreamExecute) with bounded memory: rows go to `onChunk` as
   * the inputs produce them. A primitive without it is executed whole and sent as one chunk
   * (see streamPrimitive in engine/stream.ts). Resolves after the last chunk, or once `onChunk`
   * said 'stop'.
   */
  stream?(vc: VCursor, bindVars: BindVars, onChunk: StreamCallback): Promise<void>;
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
