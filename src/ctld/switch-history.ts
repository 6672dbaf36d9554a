// The switches ctld ran (SwitchTraffic and ReverseTraffic of MoveTables and Reshard, and the seeds'
// spellings of them), with their write pauses and steps, or where they failed: what `Workflow show`
// prints as a workflow's `switch_history` and what the web UI's workflow page lists.
//
// Kept in the global topology next to the workflow's switch record
// (keyspaces/<keyspace>/workflows/<workflow>/SwitchHistory, one JSON list, the newest
// `switchHistoryMax` switches), so it survives a ctld restart and every ctld of a cluster sees the
// same history. Each append is a compare-and-swap on the node's version, so two ctlds recording at
// once lose neither switch. Writing the history never fails a switch: a topology error is logged
// and the switch's own result stands.
import { isTopoError, type TopoServer, type Version } from '../topo/index.js';
import { wfDir } from '../workflow/switch-journal.js';
import { logger } from '../log/index.js';
import type { CtldContext } from './command.js';

const log = logger('ctld');

export const SWITCH_HISTORY_DEFAULTS = {
  /** Switches remembered per workflow; the oldest are forgotten beyond this. */
  switchHistoryMax: 50,
  /** Tries of one append when other writers keep changing the list under it. */
  appendTries: 10,
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

const historyPath = (keyspace: string, workflow: string): string => `${wfDir(keyspace, workflow)}/SwitchHistory`;

function op(topo: TopoServer): { signal: AbortSignal } {
  return { signal: AbortSignal.timeout(topo.options.opTimeoutMs) };
}

/** The stored list (oldest first) and its version; null version when there is none yet. */
async function readList(topo: TopoServer, keyspace: string, workflow: string): Promise<{ list: SwitchRecord[]; version: Version | null }> {
  try {
    const n = await topo.global.get(historyPath(keyspace, workflow), op(topo));
    const parsed = JSON.parse(n.data.toString('utf8')) as { switches?: SwitchRecord[] };
    return { list: Array.isArray(parsed.switches) ? parsed.switches : [], version: n.version };
  } catch (err) {
    if (isTopoError(err, 'NO_NODE')) return { list: [], version: null };
    throw err;
  }
}

/** Appends one switch of `keyspace.workflow` to its history in topo, dropping the oldest beyond the bound. */
export async function appendSwitch(topo: TopoServer, r: SwitchRecord, max = SWITCH_HISTORY_DEFAULTS.switchHistoryMax): Promise<void> {
  const path = historyPath(r.keyspace, r.workflow);
  for (let i = 0; ; i++) {
    const { list, version } = await readList(topo, r.keyspace, r.workflow);
    list.push(r);
    const data = Buffer.from(JSON.stringify({ switches: list.slice(-max) }));
    try {
      if (version === null) await topo.global.create(path, data, op(topo));
      else await topo.global.update(path, data, version, op(topo));
      return;
    } catch (err) {
      const raced = isTopoError(err, 'BAD_VERSION') || isTopoError(err, 'NODE_EXISTS') || isTopoError(err, 'NO_NODE');
      if (!raced || i + 1 >= SWITCH_HISTORY_DEFAULTS.appendTries) throw err;
    }
  }
}

/** Remembers one switch (a dry run is not a switch and is not recorded); a topology error is logged, not thrown. */
export async function recordSwitch(ctx: CtldContext, r: SwitchRecord): Promise<void> {
  try {
    await appendSwitch(ctx.topo, r);
  } catch (err) {
    log.warn({ keyspace: r.keyspace, workflow: r.workflow, err: (err as Error).message }, `could not add the ${r.action} of ${r.keyspace}.${r.workflow} to its switch history in topo`);
  }
}

/** The switches of a workflow, newest first. */
export async function switchHistory(ctx: CtldContext, keyspace: string, workflow: string): Promise<SwitchRecord[]> {
  return (await readList(ctx.topo, keyspace, workflow)).list.reverse();
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
  let r: T;
  try {
    r = await run();
  } catch (err) {
    await recordSwitch(ctx, { ...base, ok: false, error: err instanceof Error ? err.message : String(err), start_state: null, state: null, write_pause_ms: null, steps: [], duration_ms: Date.now() - at.getTime() });
    throw err;
  }
  await recordSwitch(ctx, { ...base, ok: true, error: null, ...describe(r), duration_ms: Date.now() - at.getTime() });
  return r;
}
