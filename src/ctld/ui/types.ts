// The JSON the web UI reads (ClusterOverview, GetTabletHealth). Shared by the server commands and
// the browser client (client.ts imports these as types only, so nothing server-side reaches the
// browser). Field names are snake_case like the rest of the ctld API.
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
