// QueryService: the seam between the gate and a tablet. The tablet's local implementation
// (TabletServer) and the network client (TabletConn, over src/rpc) implement the same interface; the
// gate never knows which one it holds.
//
// Contract, for every method:
// - `target` names the keyspace, shard and tablet type the caller meant. A tablet refuses a target
//   it does not serve with a TesseraError whose `kind` is WRONG_TARGET or NOT_SERVING; a denied
//   table gives DENIED_TABLE; a full pool RESOURCE_EXHAUSTED; these are safe to retry elsewhere
//   because nothing ran. MariaDB's own errors pass through with their errno and SQLSTATE and no kind.
// - Rows travel as MySQL text-protocol row payloads, exactly as MariaDB sent them, so a gate can
//   forward a single-shard result without decoding it. `decodeRows` in src/mysql decodes on demand.
// - transactionId / reservedId name a connection held by the tablet for the caller. 0 means none.
//   A transaction left idle beyond the tablet's timeout is rolled back by the tablet; later calls on
//   its id fail with kind ABORTED and say why.
// - Calls for one transaction must not overlap (the connection runs one statement at a time);
//   calls without a transaction may run concurrently, bounded by the tablet's pools.
import type { ColumnDefinition } from '../mysql/protocol.js';
import type { BindValue } from '../sql/index.js';
import type { Literal } from '../sql/ast.js';
import type { TabletType } from '../topo/index.js';
import type { CancelSignal } from '../rpc/cancel.js';

export interface Target {
  readonly keyspace: string;
  readonly shard: string;
  readonly tabletType: TabletType;
}

/**
 * Values bound to `:name` placeholders (and `::name` lists for IN), as src/sql literal nodes: the
 * normalizer produces them, they are plain JSON for the wire, and the tablet prints them with the
 * formatter, so a value is never re-escaped by hand anywhere.
 */
export type { BindValue };
export type BindVars = Readonly<Record<string, BindValue>>;

/** One row of MariaDB's SHOW WARNINGS. */
export interface Warning {
  readonly level: 'Note' | 'Warning' | 'Error';
  readonly code: number;
  readonly message: string;
}

export interface QueryResult {
  readonly fields: readonly ColumnDefinition[];
  /** Row payloads: text protocol, or binary protocol when `binaryRows`. */
  readonly rows: readonly Buffer[];
  /** The rows are binary-protocol rows (a statement run with `params`, as a prepared statement). */
  readonly binaryRows?: boolean;
  readonly rowsAffected: number;
  /** As text when it does not fit a double exactly. */
  readonly insertId: number | string;
  readonly warnings: number;
  readonly info: string;
  /**
   * The statement's warnings as SHOW WARNINGS lists them on the tablet's connection (at most
   * MariaDB's max_error_count of them; `warnings` is the full count). Present only when `warnings`
   * is above 0: the tablet reads them in the same call, on the same connection, before the
   * connection goes back to its pool where the next statement would clear them.
   */
  readonly warningList?: readonly Warning[];
}

export interface ExecuteOptions {
  readonly transactionId?: number;
  readonly reservedId?: number;
  /** Begin a transaction first, in the same round trip; the result carries its id. */
  readonly begin?: boolean;
  /** Statements the new transaction starts with instead of BEGIN (e.g. START TRANSACTION READ ONLY). */
  readonly beginStatement?: string;
  /** Statement timeout; the tablet kills the statement in MariaDB when it passes. 0 = tablet default. */
  readonly timeoutMs?: number;
  /** Tables the statement touches (the gate knows them from its plan), for denied-table checks. */
  readonly tables?: readonly string[];
  /**
   * The application connected with CLIENT_FOUND_ROWS: UPDATE counts the rows it matched, not the
   * rows it changed. The tablet runs the statement on a connection opened with that flag.
   */
  readonly clientFoundRows?: boolean;
  /**
   * Cancels the statement (the tablet kills it in MariaDB): an AbortSignal, or the lighter
   * CancelSignal the tablet's RPC server makes per call (src/rpc/cancel.ts).
   */
  readonly signal?: CancelSignal;
  /**
   * The statement's `?` placeholders' values, in order: the tablet runs it as a MariaDB prepared
   * statement (kept per connection; text with the values spliced in when MariaDB will not prepare
   * it) and answers with binary-protocol rows (`binaryRows`). Numbers, plain strings and NULL only
   * (sql/format.ts: isPlaceholderLiteral); `bindVars` must then be null.
   */
  readonly params?: readonly Literal[];
}

/** Options of `begin`. */
export interface BeginOptions {
  readonly reservedId?: number;
  readonly beginStatement?: string;
  /** As in ExecuteOptions: the transaction's connection counts matched rows. */
  readonly clientFoundRows?: boolean;
  readonly signal?: AbortSignal;
}

/** A result after a statement's first (a CALL's further result sets and its final status). */
export type MoreResult = Pick<QueryResult, 'fields' | 'rows' | 'rowsAffected' | 'insertId' | 'warnings' | 'info'>;

export interface ExecuteResult extends QueryResult {
  /** The statement's further results, in order, when it sent several (CALL); absent otherwise. */
  readonly more?: readonly MoreResult[];
  /** The transaction the statement ran in (new when `begin` was set), else 0. */
  readonly transactionId: number;
  readonly tabletAlias: string;
}

export interface StreamChunk {
  /** Present on the first chunk only. */
  readonly fields?: readonly ColumnDefinition[];
  readonly rows: readonly Buffer[];
}

export interface ReserveOptions {
  /** Session settings applied on the reserved connection (SET statements), replayed if it breaks. */
  readonly settings: readonly string[];
  /** As in ExecuteOptions: the reserved connection counts matched rows. */
  readonly clientFoundRows?: boolean;
  readonly signal?: AbortSignal;
}

export interface HealthState {
  readonly tabletAlias: string;
  readonly target: Target;
  readonly serving: boolean;
  /** Why not serving, when not. */
  readonly reason: string;
  readonly primaryTermStartTime: string | null;
  /** Seconds behind the primary for replicas; 0 for a primary; null when unknown. */
  readonly replicationLagSeconds: number | null;
  readonly replicationError: string;
  readonly queriesInFlight: number;
  readonly transactionsOpen: number;
  readonly at: string;
  /**
   * Something an operator must act on, e.g. the tablet's MariaDB is down and does not start again
   * (see src/tablet/mysql-keeper.ts); absent when all is well. Older tablets never send it.
   */
  readonly alert?: string;
}

export interface QueryService {
  execute(target: Target, sql: string, bindVars: BindVars | null, opts?: ExecuteOptions): Promise<ExecuteResult>;
  /**
   * Streams a result without a row limit. `onChunk` returning a promise holds the tablet back
   * (backpressure reaches MariaDB). Not for use inside a transaction.
   */
  streamExecute(
    target: Target,
    sql: string,
    bindVars: BindVars | null,
    onChunk: (chunk: StreamChunk) => void | Promise<void>,
    opts?: ExecuteOptions,
  ): Promise<void>;
  begin(target: Target, opts?: BeginOptions): Promise<{ transactionId: number; tabletAlias: string }>;
  commit(target: Target, transactionId: number): Promise<void>;
  rollback(target: Target, transactionId: number): Promise<void>;
  reserve(target: Target, opts: ReserveOptions): Promise<{ reservedId: number; tabletAlias: string }>;
  /** Releases a reserved connection (rolling back any transaction on it). */
  release(target: Target, id: number): Promise<void>;
  /**
   * Health: calls `onHealth` with the current state at once, then on every change and at least
   * every health interval. Ends when `signal` aborts or the tablet goes away (rejects).
   */
  streamHealth(onHealth: (h: HealthState) => void, signal: AbortSignal): Promise<void>;
}
