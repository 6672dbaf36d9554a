// TabletManagerClient: the seam between ctld (and, later, workflows) and one tablet's manager. Two
// implementations keep this contract: LocalTabletManagerClient calls TabletManager objects in this
// process (combined mode), RpcTabletManagerClient reaches them over src/rpc, one pooled connection
// per tablet (distributed mode). The RPC server wraps the same method table the local client calls
// (tablet-manager-methods.ts), so both validate requests and answer alike; one test loop runs over
// both (test/integration/tablet/tablet-manager-client.test.ts).
//
// Contract, for every method:
// - `tablet` is a topology record, an alias ({cell, uid}) or alias text (`zone1-100`). An alias is
//   looked up in the topology on every call, so a tablet that restarted on another address is
//   reached there; a record is used as given. An alias the topology does not know fails with the
//   topology's NO_NODE error (`tablet zone1-0000000999 not found`), before anything is sent.
// - A tablet that cannot be reached — not running, nothing listening at its address, connection
//   lost mid-call — fails with kind UNAVAILABLE (errno 2002, or 2013 when the connection broke while
//   the call was in flight: it may or may not have run). Nothing is retried: several of these calls
//   change state, and only the caller knows whether running one twice is safe.
// - A request that is not what the method takes (missing or mistyped field, unknown field, a value
//   out of range) fails with ER.WRONG_ARGUMENTS naming the method and the field, on the tablet's
//   side of the seam, so a caller that builds requests by hand gets the same answer in both modes.
// - Every other error is the tablet's: MariaDB's errno and SQLSTATE pass through, kinds
//   (DEADLINE_EXCEEDED for a wait that ran out, UNAVAILABLE for a MariaDB the tablet cannot reach)
//   are kept, and the message starts with the tablet's alias unless it already names it.
// - `timeoutMs` bounds the whole call, from resolving the tablet to the answer (default
//   TABLET_MANAGER_CLIENT_DEFAULTS.callTimeoutMs, plus the method's own wait for the calls that
//   wait: WaitForPosition, StopReplicationAndApplyRelay, DemotePrimary, PopulateReparentJournal).
//   Past it the call fails with kind DEADLINE_EXCEEDED; `signal` fails it with QUERY_INTERRUPTED.
//   Either way only the caller stops waiting: a tablet-manager operation that has started runs to
//   its end on the tablet (a type change half done would be worse than a late one).
// - Responses are the caller's own copies (plain JSON data in both modes).
// - Calls to one tablet may run concurrently; the tablet serializes its replication changes itself.
//
// Adding a method (VReplication and the rest will):
//   1. its request and response types below, and one line in TabletManagerClient;
//   2. one line in TabletManagerClientBase (`fooBar(t, r, o) { return this.invoke('fooBar', t, r, o); }`);
//   3. one entry in TM_METHODS (tablet-manager-methods.ts): validate the request, call the manager.
// Its wire name is `tm.FooBar` (the method name with a capital). The compiler flags a step missed.
import type { FullStatus, ReplicationStatus } from './replication.js';
import type { HealthState } from './query-service.js';
import type { TableSchema } from './schema-engine.js';
import type { FetchResult } from './tablet-manager.js';
import type { Tablet, TabletAlias, TabletType } from '../topo/index.js';
import type { CreateStreamWire, StreamWire, UpdateStreamsWire } from '../workflow/types.js';
import type { VDiffRequest, VDiffResponse } from '../vdiff/wire.js';
import type { PurgeRequest, PurgeResponse } from './binlog-retention.js';

/** A tablet as a caller names it: its record, its alias, or alias text such as `zone1-100`. */
export type TabletRef = Tablet | TabletAlias | string;

export interface TmCallOptions {
  /** Deadline of the whole call; see the contract. 0 or absent: the default for the method. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export const TABLET_MANAGER_CLIENT_DEFAULTS = {
  /** Deadline of one call, on top of the wait a waiting method is asked for. */
  callTimeoutMs: 30_000,
};

// ---- requests and responses --------------------------------------------------------------------

/** For methods that take nothing. */
export type EmptyRequest = Readonly<Record<string, never>>;

export interface SchemaResponse {
  readonly tables: readonly TableSchema[];
}

export interface ApplySchemaRequest {
  /** One or more statements separated by `;`, run in the tablet's database as vt_dba. */
  readonly sql: string;
}

export interface ApplySchemaResponse {
  readonly statements: number;
}

export interface ExecuteFetchAsDbaRequest {
  readonly sql: string;
  /** More rows than this fail with ER.TOO_MANY_ROWS (tablet default 10,000). */
  readonly maxRows?: number;
  /** sql_log_bin = 0: the statement does not replicate. */
  readonly disableBinlogs?: boolean;
  readonly reloadSchema?: boolean;
  /** The tablet's own database by default. */
  readonly database?: string;
}

export interface ExecuteFetchAsAppRequest {
  readonly sql: string;
  readonly maxRows?: number;
}

export interface ChangeTypeRequest {
  /** `primary` only with the reparent's term start time, so not through this call. */
  readonly tabletType: TabletType;
}

export interface TabletResponse {
  /** The tablet's record as the topology holds it after the change. */
  readonly tablet: Tablet;
}

export interface PositionResponse {
  /** `MariaDB/0-100-42`. */
  readonly position: string;
}

export interface WaitForPositionRequest {
  readonly position: string;
  /** How long the tablet waits; past it: kind DEADLINE_EXCEEDED. Default 30 s. */
  readonly timeoutMs?: number;
}

export interface ReplicationStatusResponse {
  /** null when no source is configured. */
  readonly status: ReplicationStatus | null;
}

export interface StartReplicationRequest {
  /** Acknowledge semi-sync writes; unchanged when absent. */
  readonly semiSync?: boolean;
}

export interface TimeoutRequest {
  /** How long the tablet may wait for the step (relay log applied, transactions drained). */
  readonly timeoutMs?: number;
}

export interface SetReplicationSourceRequest {
  /** The new source's MariaDB. */
  readonly host: string;
  readonly port: number;
  readonly semiSync: boolean;
  /** When given, refuse first if this tablet has transactions the source lacks (errant GTIDs). */
  readonly primaryPosition?: string;
  /** Change the tablet's type too (a demoted primary becomes a replica). */
  readonly tabletType?: TabletType;
  /** Start replicating (default true). */
  readonly start?: boolean;
}

export interface ResetReplicationRequest {
  /** Also RESET MASTER: forget this server's own GTID history. */
  readonly resetBinlogs?: boolean;
}

export interface DemotePrimaryResponse {
  readonly position: string;
  /** False when transactions were still open at the drain timeout. */
  readonly drained: boolean;
}

export interface SemiSyncRequest {
  readonly semiSync: boolean;
}

export interface PromoteReplicaRequest {
  readonly semiSync: boolean;
  /** ISO time, recorded as the tablet's primary term start. */
  readonly primaryTermStartTime: string;
}

export interface PopulateReparentJournalRequest {
  readonly actionName: string;
  readonly primaryAlias: string;
  readonly position: string;
  /** How long the journal write may wait for a semi-sync acknowledgement. Default 30 s. */
  readonly timeoutMs?: number;
}

export interface SetSemiSyncRequest {
  readonly primary: boolean;
  readonly replica: boolean;
}

export interface CreateVReplicationWorkflowRequest {
  /** One per source shard; created in one call, started unless their state is Stopped. */
  readonly streams: readonly CreateStreamWire[];
}

export interface CreateVReplicationWorkflowResponse {
  /** The new streams' ids in _vt.vreplication, in request order. */
  readonly ids: readonly number[];
}

export interface ReadVReplicationWorkflowRequest {
  /** One workflow's streams; absent: every stream of the tablet's database. */
  readonly workflow?: string;
}

export interface ReadVReplicationWorkflowResponse {
  readonly streams: readonly StreamWire[];
}

export type UpdateVReplicationWorkflowRequest = Readonly<UpdateStreamsWire>;

export interface DeleteVReplicationWorkflowRequest {
  readonly workflow: string;
}

export interface StreamCountResponse {
  /** Streams changed (0: the workflow has none on this tablet). */
  readonly streams: number;
}

export interface VReplicationWaitForPosRequest {
  readonly id: number;
  readonly position: string;
  /** Default 30 s; past it: ER.LOCK_WAIT_TIMEOUT, kind DEADLINE_EXCEEDED. */
  readonly timeoutMs?: number;
}

// ---- the interface -------------------------------------------------------------------------------

/**
 * One tablet's manager. Besides the errors every method may give (see the header: NO_NODE,
 * UNAVAILABLE, WRONG_ARGUMENTS, DEADLINE_EXCEEDED), each names its own below. A method that needs
 * the tablet's MariaDB fails with kind UNAVAILABLE when the tablet cannot reach it.
 */
export interface TabletManagerClient {
  /** Reaches the tablet and pings its MariaDB as vt_dba. */
  ping(tablet: TabletRef, req: EmptyRequest, opts?: TmCallOptions): Promise<void>;
  /** The tables the tablet last loaded (loaded first if it never did); may lag DDL run by hand. */
  getSchema(tablet: TabletRef, req: EmptyRequest, opts?: TmCallOptions): Promise<SchemaResponse>;
  reloadSchema(tablet: TabletRef, req: EmptyRequest, opts?: TmCallOptions): Promise<void>;
  /**
   * Statement by statement, then a schema reload. The first failing statement's MariaDB error ends
   * it; the statements before it stay applied (DDL does not roll back).
   */
  applySchema(tablet: TabletRef, req: ApplySchemaRequest, opts?: TmCallOptions): Promise<ApplySchemaResponse>;
  /** As vt_dba, bypassing read_only. MariaDB's errors as they are; over `maxRows`: ER.TOO_MANY_ROWS. */
  executeFetchAsDba(tablet: TabletRef, req: ExecuteFetchAsDbaRequest, opts?: TmCallOptions): Promise<FetchResult>;
  /** Through the tablet's query service as vt_app: its refusals (NOT_SERVING, ...) and limits apply. */
  executeFetchAsApp(tablet: TabletRef, req: ExecuteFetchAsAppRequest, opts?: TmCallOptions): Promise<FetchResult>;
  /**
   * Type in the topology and the serving state; read-only unless primary. To `primary`:
   * WRONG_ARGUMENTS (only a reparent makes a primary). Topology failures pass through.
   */
  changeType(tablet: TabletRef, req: ChangeTypeRequest, opts?: TmCallOptions): Promise<TabletResponse>;
  /** MariaDB's read_only; the tablet type and serving state are left as they are. */
  setReadOnly(tablet: TabletRef, req: EmptyRequest, opts?: TmCallOptions): Promise<void>;
  setReadWrite(tablet: TabletRef, req: EmptyRequest, opts?: TmCallOptions): Promise<void>;
  /** Re-reads the shard and serving graph and decides whether to serve. Topology failures pass through. */
  refreshState(tablet: TabletRef, req: EmptyRequest, opts?: TmCallOptions): Promise<void>;
  /** gtid_binlog_pos: every transaction in this server's binlog. */
  primaryPosition(tablet: TabletRef, req: EmptyRequest, opts?: TmCallOptions): Promise<PositionResponse>;
  /**
   * Until this MariaDB has `position`. Past the request's timeoutMs: ER.LOCK_WAIT_TIMEOUT, kind
   * DEADLINE_EXCEEDED. A malformed position: the GTID parser's error.
   */
  waitForPosition(tablet: TabletRef, req: WaitForPositionRequest, opts?: TmCallOptions): Promise<void>;
  /** What `qs.streamHealth` sends, now. Never fails once the tablet answers. */
  getHealth(tablet: TabletRef, req: EmptyRequest, opts?: TmCallOptions): Promise<HealthState>;
  // Replication and the per-tablet steps of a reparent (replication.ts has what each does). Those
  // that change replication run one at a time per tablet, in the order they arrive.
  fullStatus(tablet: TabletRef, req: EmptyRequest, opts?: TmCallOptions): Promise<FullStatus>;
  replicationStatus(tablet: TabletRef, req: EmptyRequest, opts?: TmCallOptions): Promise<ReplicationStatusResponse>;
  /** STOP SLAVE; the tablet's health then reports replication as stopped. */
  stopReplication(tablet: TabletRef, req: EmptyRequest, opts?: TmCallOptions): Promise<void>;
  /** No source configured: WRONG_ARGUMENTS. */
  startReplication(tablet: TabletRef, req: StartReplicationRequest, opts?: TmCallOptions): Promise<void>;
  /** Relay log not applied within timeoutMs: ER.LOCK_WAIT_TIMEOUT, kind DEADLINE_EXCEEDED, with the SQL thread's error. */
  stopReplicationAndApplyRelay(tablet: TabletRef, req: TimeoutRequest, opts?: TmCallOptions): Promise<FullStatus>;
  /**
   * Read-only, then CHANGE MASTER and (unless start is false) START SLAVE. Errant GTIDs against
   * primaryPosition: WRONG_ARGUMENTS naming them, the tablet left read-only and not replicating.
   */
  setReplicationSource(tablet: TabletRef, req: SetReplicationSourceRequest, opts?: TmCallOptions): Promise<FullStatus>;
  resetReplication(tablet: TabletRef, req: ResetReplicationRequest, opts?: TmCallOptions): Promise<void>;
  /**
   * Stops serving, drains up to timeoutMs (not an error past it: `drained` is false), read-only.
   * Commits still running when read_only is set fail on the tablet, not here.
   */
  demotePrimary(tablet: TabletRef, req: TimeoutRequest, opts?: TmCallOptions): Promise<DemotePrimaryResponse>;
  undoDemotePrimary(tablet: TabletRef, req: SemiSyncRequest, opts?: TmCallOptions): Promise<void>;
  /** Type primary in the topology (not in the shard record: the caller writes that). */
  promoteReplica(tablet: TabletRef, req: PromoteReplicaRequest, opts?: TmCallOptions): Promise<PositionResponse>;
  /** Not written within timeoutMs (no semi-sync acknowledgement): ER.LOCK_WAIT_TIMEOUT, kind DEADLINE_EXCEEDED. */
  populateReparentJournal(tablet: TabletRef, req: PopulateReparentJournalRequest, opts?: TmCallOptions): Promise<void>;
  setSemiSync(tablet: TabletRef, req: SetSemiSyncRequest, opts?: TmCallOptions): Promise<void>;
  // VReplication, on a target primary (elsewhere: kind NOT_SERVING naming the tablet).
  /** A workflow name the tablet already has: WRONG_ARGUMENTS. A malformed source: WRONG_ARGUMENTS. */
  createVReplicationWorkflow(tablet: TabletRef, req: CreateVReplicationWorkflowRequest, opts?: TmCallOptions): Promise<CreateVReplicationWorkflowResponse>;
  /** Streams with their copy state, last log entries and live progress. Works on any tablet type. */
  readVReplicationWorkflow(tablet: TabletRef, req: ReadVReplicationWorkflowRequest, opts?: TmCallOptions): Promise<ReadVReplicationWorkflowResponse>;
  /** Changes the named fields of every stream of the workflow and restarts them. */
  updateVReplicationWorkflow(tablet: TabletRef, req: UpdateVReplicationWorkflowRequest, opts?: TmCallOptions): Promise<StreamCountResponse>;
  /** Stops and deletes the workflow's streams with their copy state and log; tables are left alone. */
  deleteVReplicationWorkflow(tablet: TabletRef, req: DeleteVReplicationWorkflowRequest, opts?: TmCallOptions): Promise<StreamCountResponse>;
  /** Until stream `id` has applied `position`; a stream Stopped or in Error short of it fails at once. */
  vReplicationWaitForPos(tablet: TabletRef, req: VReplicationWaitForPosRequest, opts?: TmCallOptions): Promise<void>;
  /**
   * VDiff on a target primary (src/vdiff): create, show, stop, resume, delete, or page through the
   * differing rows found. Unknown UUID: WRONG_ARGUMENTS; a UUID already used: DUP_ENTRY; not a
   * primary: kind NOT_SERVING.
   */
  vDiff(tablet: TabletRef, req: VDiffRequest, opts?: TmCallOptions): Promise<VDiffResponse>;
  /**
   * Purges the tablet's binlogs (before `to`, or older than `olderThanSeconds`), keeping every file a
   * VReplication stream reading from the tablet's shard still needs (binlog-retention.ts). A target
   * primary that does not answer: kind UNAVAILABLE naming it, nothing purged. An unknown `to`: WRONG_ARGUMENTS.
   */
  purgeBinaryLogs(tablet: TabletRef, req: PurgeRequest, opts?: TmCallOptions): Promise<PurgeResponse>;
  /** Releases what the client holds (pooled connections); later calls fail. Calls in flight fail with 2013. */
  close(): void;
}

/** The operations, by their method name; the wire name is `tm.` + the name with a capital. */
export type TmMethod = Exclude<keyof TabletManagerClient, 'close'>;
export type TmRequest<M extends TmMethod> = Parameters<TabletManagerClient[M]>[1];
export type TmResponse<M extends TmMethod> = Awaited<ReturnType<TabletManagerClient[M]>>;

/** `tm.ExecuteFetchAsDba` for `executeFetchAsDba`. */
export function tmWireName(m: TmMethod): string {
  return `tm.${m[0].toUpperCase()}${m.slice(1)}`;
}

/**
 * Every method of the interface as one line over `invoke`, which each implementation provides: the
 * only place a method is listed besides the interface and the method table.
 */
export abstract class TabletManagerClientBase implements TabletManagerClient {
  protected abstract invoke<M extends TmMethod>(method: M, tablet: TabletRef, req: TmRequest<M>, opts: TmCallOptions | undefined): Promise<TmResponse<M>>;
  abstract close(): void;

  ping(t: TabletRef, r: EmptyRequest, o?: TmCallOptions) { return this.invoke('ping', t, r, o); }
  getSchema(t: TabletRef, r: EmptyRequest, o?: TmCallOptions) { return this.invoke('getSchema', t, r, o); }
  reloadSchema(t: TabletRef, r: EmptyRequest, o?: TmCallOptions) { return this.invoke('reloadSchema', t, r, o); }
  applySchema(t: TabletRef, r: ApplySchemaRequest, o?: TmCallOptions) { return this.invoke('applySchema', t, r, o); }
  executeFetchAsDba(t: TabletRef, r: ExecuteFetchAsDbaRequest, o?: TmCallOptions) { return this.invoke('executeFetchAsDba', t, r, o); }
  executeFetchAsApp(t: TabletRef, r: ExecuteFetchAsAppRequest, o?: TmCallOptions) { return this.invoke('executeFetchAsApp', t, r, o); }
  changeType(t: TabletRef, r: ChangeTypeRequest, o?: TmCallOptions) { return this.invoke('changeType', t, r, o); }
  setReadOnly(t: TabletRef, r: EmptyRequest, o?: TmCallOptions) { return this.invoke('setReadOnly', t, r, o); }
  setReadWrite(t: TabletRef, r: EmptyRequest, o?: TmCallOptions) { return this.invoke('setReadWrite', t, r, o); }
  refreshState(t: TabletRef, r: EmptyRequest, o?: TmCallOptions) { return this.invoke('refreshState', t, r, o); }
  primaryPosition(t: TabletRef, r: EmptyRequest, o?: TmCallOptions) { return this.invoke('primaryPosition', t, r, o); }
  waitForPosition(t: TabletRef, r: WaitForPositionRequest, o?: TmCallOptions) { return this.invoke('waitForPosition', t, r, o); }
  getHealth(t: TabletRef, r: EmptyRequest, o?: TmCallOptions) { return this.invoke('getHealth', t, r, o); }
  fullStatus(t: TabletRef, r: EmptyRequest, o?: TmCallOptions) { return this.invoke('fullStatus', t, r, o); }
  replicationStatus(t: TabletRef, r: EmptyRequest, o?: TmCallOptions) { return this.invoke('replicationStatus', t, r, o); }
  stopReplication(t: TabletRef, r: EmptyRequest, o?: TmCallOptions) { return this.invoke('stopReplication', t, r, o); }
  startReplication(t: TabletRef, r: StartReplicationRequest, o?: TmCallOptions) { return this.invoke('startReplication', t, r, o); }
  stopReplicationAndApplyRelay(t: TabletRef, r: TimeoutRequest, o?: TmCallOptions) { return this.invoke('stopReplicationAndApplyRelay', t, r, o); }
  setReplicationSource(t: TabletRef, r: SetReplicationSourceRequest, o?: TmCallOptions) { return this.invoke('setReplicationSource', t, r, o); }
  resetReplication(t: TabletRef, r: ResetReplicationRequest, o?: TmCallOptions) { return this.invoke('resetReplication', t, r, o); }
  demotePrimary(t: TabletRef, r: TimeoutRequest, o?: TmCallOptions) { return this.invoke('demotePrimary', t, r, o); }
  undoDemotePrimary(t: TabletRef, r: SemiSyncRequest, o?: TmCallOptions) { return this.invoke('undoDemotePrimary', t, r, o); }
  promoteReplica(t: TabletRef, r: PromoteReplicaRequest, o?: TmCallOptions) { return this.invoke('promoteReplica', t, r, o); }
  populateReparentJournal(t: TabletRef, r: PopulateReparentJournalRequest, o?: TmCallOptions) { return this.invoke('populateReparentJournal', t, r, o); }
  setSemiSync(t: TabletRef, r: SetSemiSyncRequest, o?: TmCallOptions) { return this.invoke('setSemiSync', t, r, o); }
  createVReplicationWorkflow(t: TabletRef, r: CreateVReplicationWorkflowRequest, o?: TmCallOptions) { return this.invoke('createVReplicationWorkflow', t, r, o); }
  readVReplicationWorkflow(t: TabletRef, r: ReadVReplicationWorkflowRequest, o?: TmCallOptions) { return this.invoke('readVReplicationWorkflow', t, r, o); }
  updateVReplicationWorkflow(t: TabletRef, r: UpdateVReplicationWorkflowRequest, o?: TmCallOptions) { return this.invoke('updateVReplicationWorkflow', t, r, o); }
  deleteVReplicationWorkflow(t: TabletRef, r: DeleteVReplicationWorkflowRequest, o?: TmCallOptions) { return this.invoke('deleteVReplicationWorkflow', t, r, o); }
  vReplicationWaitForPos(t: TabletRef, r: VReplicationWaitForPosRequest, o?: TmCallOptions) { return this.invoke('vReplicationWaitForPos', t, r, o); }
  vDiff(t: TabletRef, r: VDiffRequest, o?: TmCallOptions) { return this.invoke('vDiff', t, r, o); }
  purgeBinaryLogs(t: TabletRef, r: PurgeRequest, o?: TmCallOptions) { return this.invoke('purgeBinaryLogs', t, r, o); }
}
