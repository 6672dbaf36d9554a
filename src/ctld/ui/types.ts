// The JSON the web UI reads (ClusterOverview, GetTabletHealth). Shared by the server commands and
// the browser client (client.ts imports these as types only, so nothing server-side reaches the
// browser). Field names are snake_case like the rest of the ctld API.
import type { SwitchRecord } from '../switch-history.js';
import type { Json, Keyspace, KeyspaceRoutingRules, RoutingRules, Shard, ShardRoutingRules, SrvKeyspace, Tablet } from '../../topo/index.js';

/**
 * What ctld concluded from one probe of a tablet's `GET /debug/health`:
 * - `healthy`: answered, serving, no replication error, lag under the threshold;
 * - `not_serving`: answered, not serving (reason says why);
 * - `unhealthy`: answered with a replication error or lag over the threshold;
 * - `unreachable`: no answer within the timeout, an HTTP error or a body that is not the health JSON.
 */
export type TabletHealthState = 'healthy' | 'not_serving' | 'unhealthy' | 'unreachable';

export interface TabletHealthView {
  state: TabletHealthState;
  /** The tablet's own words (not serving, replication error), or why the probe failed. */
  reason: string;
  /** What the tablet reported; null when unreachable. */
  serving: boolean | null;
  tablet_type: string | null;
  replication_lag_seconds: number | null;
  replication_error: string | null;
  /** The tablet's `at` (when it last computed its health). */
  reported_at: string | null;
  /** When ctld probed it. */
  checked_at: string;
  /** The URL probed; '' when the tablet has no HTTP port in topo. */
  url: string;
}

/** A change of a tablet's health state or reason, as ctld saw it (newest first in responses). */
export interface TabletHealthEvent {
  at: string;
  state: TabletHealthState;
  reason: string;
}

export interface OverviewTablet {
  /** `zone1-0000000100`, as GetTablets prints it. */
  alias: string;
  tablet: Tablet;
  health: TabletHealthView;
}

export interface OverviewShard {
  name: string;
  shard: Shard;
}

export interface OverviewKeyspace {
  name: string;
  keyspace: Keyspace;
  /** The keyspace's VSchema; null when none was applied. */
  vschema: Json;
  shards: OverviewShard[];
  /** Per cell: the serving graph, or null when it was not built there. */
  srv_keyspaces: Record<string, SrvKeyspace | null>;
}

export interface ClusterOverview {
  /** When ctld assembled this answer. */
  at: string;
  cells: string[];
  keyspaces: OverviewKeyspace[];
  /** Every tablet of every cell, ordered by cell then uid. */
  tablets: OverviewTablet[];
  routing_rules: RoutingRules;
  shard_routing_rules: ShardRoutingRules;
  keyspace_routing_rules: KeyspaceRoutingRules;
}

export interface TabletHealthReport {
  alias: string;
  tablet: Tablet;
  health: TabletHealthView;
  /** Recent changes of state or reason, newest first, at most `healthEventsMax`. */
  events: TabletHealthEvent[];
}

// ---- workflows (GetWorkflowsOverview, GetWorkflowDetail) --------------------------------------

/** One workflow in a keyspace's list. */
export interface WorkflowSummary {
  name: string;
  /** MoveTables, Reshard, Materialize, … as GetWorkflows prints workflow_type. */
  type: string;
  source_keyspace: string;
  source_shards: string[];
  target_shards: string[];
  /** Streams per state (Running, Copying, Stopped, Error, …). */
  states: Record<string, number>;
  max_lag_seconds: number;
  /** The first stream message that is an error, or ''. */
  error: string;
}

export interface WorkflowsOverview {
  at: string;
  keyspaces: { name: string; workflows: WorkflowSummary[]; error: string | null }[];
}

/** One stream as GetWorkflows prints it (the fields the page uses). */
export interface WorkflowStreamJson {
  id: string;
  shard: string;
  tablet: { cell: string; uid: number };
  binlog_source: { keyspace: string; shard: string; filter: { rules: { match: string; filter: string }[] } };
  position: string;
  state: string;
  message: string;
  rows_copied: string;
  time_updated: { seconds: string };
  transaction_timestamp: { seconds: string };
  throttler_status: { component_throttled: string; reason_throttled: string; time_throttled: { seconds: string } };
  source_tablet: string;
  replication_lag_seconds: number | null;
  logs: { id: string; type: string; state: string; created_at: string; updated_at: string; message: string; count: string }[];
  copy_states: { table: string; last_pk: string }[];
}

export interface TableCopyJson {
  rows_copied: number;
  rows_total: number;
  rows_percentage: number;
  bytes_copied: number;
  bytes_total: number;
  bytes_percentage: number;
  phase: string;
  rows_total_estimated: boolean;
  rows_per_second?: number;
  eta_seconds: number | null;
}

/** A switch ctld ran: the record switch-history.ts keeps, as the API sends it. */
export type SwitchRecordJson = SwitchRecord;

/** What a workflow page shows; every part from the command ctl runs for it, named beside it. */
export interface WorkflowDetail {
  at: string;
  keyspace: string;
  workflow: string;
  /** GetWorkflows --workflow W <keyspace>: the workflow with its streams and their logs; null when it is gone. */
  show: { name: string; workflow_type: string; workflow_sub_type: string; source: { keyspace: string; shards: string[] }; target: { keyspace: string; shards: string[] }; shard_streams: Record<string, { streams: WorkflowStreamJson[] }> } | null;
  /** MoveTables/Reshard/Workflow status --format json; null with status_error when it failed. */
  status: { table_copy_state: Record<string, TableCopyJson>; shard_streams: Record<string, { streams: { id: number; status: string; info: string }[] }>; traffic_state: string } | null;
  status_error: string | null;
  routing_rules: RoutingRules;
  shard_routing_rules: ShardRoutingRules;
  switches: SwitchRecordJson[];
  /** VDiff show <uuid> --verbose --format json of the newest VDiffs (newest first). */
  vdiffs: Json[];
  vdiff_error: string | null;
  /** The actions the page offers, each the ctl command it runs (the page asks it with dry_run first). */
  actions: { name: string; label: string; command: string; request: Record<string, Json>; cli: string }[];
}
