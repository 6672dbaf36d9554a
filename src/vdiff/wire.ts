// What the VDiff tablet-manager call carries (tm.VDiff): one request with an action, as Vitess's
// VDiff RPC takes one, and one answer shape for all actions.
import type { StoredValue } from './values.js';

export const VDIFF_ACTIONS = ['create', 'show', 'stop', 'resume', 'delete', 'rows'] as const;
export type VDiffAction = (typeof VDIFF_ACTIONS)[number];

export interface VDiffRequest {
  readonly action: VDiffAction;
  /** The workflow on this tablet (every action but delete all and show all need it). */
  readonly workflow?: string;
  /** The target keyspace, recorded with the VDiff. */
  readonly keyspace?: string;
  /** A VDiff's UUID; `all` or `last` for show, `all` for delete. */
  readonly uuid?: string;
  /** create: the options as JSON text (VDiffOptions). */
  readonly options?: string;
  /** show: differing rows to return per table and kind (0: none, -1: every recorded one). */
  readonly samples?: number;
  /** rows: page through the recorded differing rows after this id, `limit` at a time. */
  readonly afterId?: number;
  readonly limit?: number;
}

export interface DiffRowWire {
  readonly id: number;
  readonly table: string;
  readonly kind: string;
  readonly pkColumns: readonly string[];
  readonly pk: readonly StoredValue[];
  readonly columns: readonly string[];
  readonly source: readonly StoredValue[] | null;
  readonly target: readonly StoredValue[] | null;
}

export interface VDiffTableWire {
  readonly table: string;
  readonly state: string;
  readonly lastpk: string;
  readonly tableRows: number;
  readonly rowsCompared: number;
  readonly mismatch: boolean;
  readonly processedRows: number;
  readonly matchingRows: number;
  readonly mismatchedRows: number;
  readonly extraRowsSource: number;
  readonly extraRowsTarget: number;
  /** Source shard → the GTID position the last epoch of this table compared at. */
  readonly positions: Readonly<Record<string, string>>;
}

export interface VDiffWire {
  readonly uuid: string;
  readonly workflow: string;
  readonly keyspace: string;
  readonly shard: string;
  readonly state: string;
  readonly options: string;
  /** Unix seconds, or null. */
  readonly createdAt: number | null;
  readonly startedAt: number | null;
  readonly completedAt: number | null;
  readonly lastError: string;
  readonly tables: readonly VDiffTableWire[];
  /** show with samples: recorded differing rows. */
  readonly samples: readonly DiffRowWire[];
}

export interface VDiffResponse {
  readonly vdiffs: readonly VDiffWire[];
  /** rows: a page of differing rows, with the shard's positions in `vdiffs[0]`. */
  readonly rows: readonly DiffRowWire[];
}
