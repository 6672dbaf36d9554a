// The switches ctld ran (SwitchTraffic and ReverseTraffic of MoveTables and Reshard, and the seeds'
// spellings of them), with their write pauses and steps, or where they failed: what the web UI's
// workflow page lists as the workflow's history. Kept in ctld's memory, per running ctld
// (`switchHistoryMax` per workflow); a restarted ctld starts with an empty history.
import type { CtldContext } from './command.js';

export const SWITCH_HISTORY_DEFAULTS = {
  /** Switches remembered per workflow; the oldest are forgotten beyond this. */
  switchHistoryMax: 50,
};

export interface SwitchRecord {
  /** When the switch started (ISO time). */
  at: string;
  keyspace: string;
  workflow: string;
  /** switchtraffic or reversetraffic. */
  action: string;
  /** The traffic asked for; empty = every type. */
  tablet_types: string[];
  ok: boolean;
  /** The error of a failed switch (what it says about the step that failed and what was undone). */
  error: string | null;
  start_state: string | null;
  state: string | null;
  /** From writes stopped on the side that had them to writes allowed on the other; null when writes did not move. */
  write_pause_ms: number | null;
  /** The steps taken, in order (with their durations where the switch measures them). */
  steps: string[];
  duration_ms: number;
}

const histories = new WeakMap<CtldContext, Map<string, SwitchRecord[]>>();

function key(keyspace: string, workflow: string): string {
  return `${keyspace}.${workflow}`;
}

/** Remembers one switch of `keyspace.workflow` (a dry run is not a switch and is not recorded). */
export function recordSwitch(ctx: CtldContext, r: SwitchRecord): void {
  let m = histories.get(ctx);
  if (!m) {
    m = new Map();
    histories.set(ctx, m);
  }
  const list = m.get(key(r.keyspace, r.workflow)) ?? [];
  list.push(r);
  while (list.length > SWITCH_HISTORY_DEFAULTS.switchHistoryMax) list.shift();
  m.set(key(r.keyspace, r.workflow), list);
}

/** The switches of a workflow, newest first. */
export function switchHistory(ctx: CtldContext, keyspace: string, workflow: string): SwitchRecord[] {
  return [...(histories.get(ctx)?.get(key(keyspace, workflow)) ?? [])].reverse();
}

/**
 * Runs a switch and records it: `run` gives the switch's result, `describe` turns it into the
 * record's fields. A failure is recorded with its message and thrown on.
 */
export async function recorded<T>(
  ctx: CtldContext,
  what: { keyspace: string; workflow: string; action: string; tabletTypes: readonly string[]; dryRun: boolean },
  run: () => Promise<T>,
  describe: (r: T) => Pick<SwitchRecord, 'start_state' | 'state' | 'write_pause_ms' | 'steps'>,
): Promise<T> {
  if (what.dryRun) return run();
  const at = new Date();
  const base = { at: at.toISOString(), keyspace: what.keyspace, workflow: what.workflow, action: what.action, tablet_types: [...what.tabletTypes] };
  try {
    const r = await run();
    recordSwitch(ctx, { ...base, ok: true, error: null, ...describe(r), duration_ms: Date.now() - at.getTime() });
    return r;
  } catch (err) {
    recordSwitch(ctx, { ...base, ok: false, error: err instanceof Error ? err.message : String(err), start_state: null, state: null, write_pause_ms: null, steps: [], duration_ms: Date.now() - at.getTime() });
    throw err;
  }
}
