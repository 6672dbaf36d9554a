// What the workflow layer asks of tablets (the VReplication calls of the tablet-manager client),
// with JSON-safe request and response shapes: positions and 64-bit values travel as strings.
import type { TableSchema } from '../tablet/schema-engine.js';
import type { Tablet } from '../topo/index.js';
import { WORKFLOW_SUB_TYPE, WORKFLOW_TYPE } from '../vreplication/stream-store.js';

// Vitess's workflow types and sub-types, as _vt.vreplication stores them: the numbers live with
// the stream store, which writes them.
export { WORKFLOW_SUB_TYPE, WORKFLOW_TYPE };
export type WorkflowTypeName = keyof typeof WORKFLOW_TYPE;
export type WorkflowSubTypeName = keyof typeof WORKFLOW_SUB_TYPE;

export function workflowTypeName(n: number): WorkflowTypeName {
  return (Object.entries(WORKFLOW_TYPE).find(([, v]) => v === n)?.[0] ?? 'Materialize') as WorkflowTypeName;
}

export function workflowSubTypeName(n: number): WorkflowSubTypeName {
  return (Object.entries(WORKFLOW_SUB_TYPE).find(([, v]) => v === n)?.[0] ?? 'None') as WorkflowSubTypeName;
}

export interface CreateStreamWire {
  workflow: string;
  /** BinlogSource in Vitess's text form. */
  source: string;
  cell: string;
  tabletTypes: string[];
  state: 'Init' | 'Stopped';
  workflowType: number;
  workflowSubType: number;
  deferSecondaryKeys: boolean;
  /** JSON: { config: { "<flag>": "<value>" } } */
  options: string;
  stopPos: string;
  /** Where replication starts without a copy (a reverse workflow starts at the target's position); '' to copy first. */
  pos?: string;
  copyTables: string[];
}

export interface StreamWire {
  id: number;
  workflow: string;
  source: string;
  pos: string;
  stopPos: string;
  state: string;
  message: string;
  dbName: string;
  cell: string;
  tabletTypes: string[];
  rowsCopied: number;
  timeUpdated: number;
  transactionTimestamp: number;
  timeHeartbeat: number;
  timeThrottled: number;
  componentThrottled: string;
  reasonThrottled: string;
  workflowType: number;
  workflowSubType: number;
  deferSecondaryKeys: boolean;
  options: string;
  maxTps: string;
  maxReplicationLag: string;
  /** Tables still copying (a finished table's row is gone), with what the engine counted so far. */
  copyStates: { table: string; lastPk: string | null; rowsCopied: number; bytesCopied: number }[];
  logs: { id: number; type: string; state: string; message: string; count: number; createdAt: string; updatedAt: string }[];
  progress: {
    rowsCopied: number;
    bytesCopied: number;
    rowsPerSecond: number;
    bytesPerSecond: number;
    lagSeconds: number | null;
    throttled: { component: string; reason: string; since: number } | null;
    sourceTablet: string;
  };
}

export interface UpdateStreamsWire {
  workflow: string;
  /** Only these streams (by id); all of the workflow's when absent. */
  ids?: number[];
  state?: 'Running' | 'Stopped';
  /** Shown with the state: Vitess marks the streams of a workflow whose writes were switched away `FROZEN`. */
  message?: string;
  /** Where the streams go on from. */
  pos?: string;
  options?: string;
  cell?: string;
  tabletTypes?: string[];
  stopPos?: string;
  /** Decimal integers; 9223372036854775807 means no limit. */
  maxTps?: string;
  maxReplicationLag?: string;
}

/** The tablet-manager calls workflows make. */
export interface WorkflowTabletCalls {
  getSchema(t: Tablet): Promise<TableSchema[]>;
  applySchema(t: Tablet, sql: string): Promise<void>;
  executeFetchAsDba(t: Tablet, sql: string): Promise<{ fields: readonly string[]; rows: readonly (string | null)[][] }>;
  vreplicationCreate(t: Tablet, streams: CreateStreamWire[]): Promise<number[]>;
  vreplicationRead(t: Tablet, workflow: string | undefined): Promise<StreamWire[]>;
  vreplicationUpdate(t: Tablet, u: UpdateStreamsWire): Promise<number>;
  vreplicationDelete(t: Tablet, workflow: string): Promise<number>;
  vreplicationWaitForPos(t: Tablet, id: number, position: string, timeoutMs: number): Promise<void>;
  primaryPosition(t: Tablet): Promise<string>;
  /** The tablet re-reads its shard and serving graph (after a tablet control or partition change). */
  refreshState(t: Tablet): Promise<void>;
}
