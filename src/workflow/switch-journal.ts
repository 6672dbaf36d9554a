// The progress of a MoveTables write switch, kept in topo while the switch runs, so that a switch
// whose ctld died (or whose command failed) half way is finished or undone by whoever comes next —
// the next ctld start, or the next command on the workflow — by one rule, with no operator:
//
//   - before the point of no return (the journal written on the source primaries) it is rolled
//     back: the source takes writes again and the forward streams run again;
//   - from the journal on it is rolled forward: the target takes writes, the routing rules point
//     at it, the reverse workflow runs and the forward one is frozen.
//
// The same record and rule serve Reshard's write switch (`kind: 'shards'`, switch-shards.ts): there
// the source and target keyspace are one, `shards` names the shards that serve writes before the
// switch and `toShards` the ones that serve them after; the steps stop the query service
// (query_service_disabled) where MoveTables denies tables, and `route` flips is_primary_serving.
//
// The record lives at keyspaces/<target>/workflows/<workflow>/SwitchJournal, named after the
// workflow the user named (the forward one, also for reversetraffic). The switch holds the
// workflow's lock (keyspaces/<target>/workflows/<workflow>) from before it writes the record until
// after it deletes it, so a record whose lock is free belongs to a switch nobody runs any more.
//
// Test hooks, read here and nowhere else (each fires once per process):
//   TESSERA_TEST_FAIL_AFTER_STEP=<step>       the switch fails right after <step>
//   TESSERA_TEST_KILL_AFTER_STEP=<step>       the process dies (SIGKILL) right after <step>
//   TESSERA_TEST_LOSE_LOCK_AFTER_STEP=<step>  the switch's keyspace lock is removed from topo after <step>
import { hostname } from 'node:os';
import { isTopoError, topoError, type LockHandle, type TopoLock, type TopoServer } from '../topo/index.js';

/**
 * The steps of a write switch in order. `sequences` runs only with --initialize-target-sequences.
 * `journal` is the point of no return.
 */
export const SWITCH_STEPS = ['deny', 'drain', 'positions', 'catch-up', 'stop-streams', 'create-reverse', 'sequences', 'journal', 'allow-target', 'route', 'start-reverse', 'freeze'] as const;
export type SwitchStep = (typeof SWITCH_STEPS)[number];
export const POINT_OF_NO_RETURN: SwitchStep = 'journal';

export function stepIndex(s: SwitchStep): number {
  return SWITCH_STEPS.indexOf(s);
}

/** Whether a switch at `step` (under way, or done) is past the point of no return. */
export function pastNoReturn(step: SwitchStep): boolean {
  return stepIndex(step) > stepIndex(POINT_OF_NO_RETURN);
}

export interface SwitchRecord {
  readonly version: 1;
  /** What moves: tables between keyspaces (MoveTables; the default of records without it) or shards of one keyspace (Reshard). */
  readonly kind?: 'tables' | 'shards';
  /** The journal id written on the source primaries (decimal, fits a signed 64-bit integer). */
  readonly id: string;
  /** The command the user ran. */
  readonly action: 'SwitchTraffic' | 'ReverseTraffic';
  /** The workflow the user named (its record's place) … */
  readonly userKeyspace: string;
  readonly userWorkflow: string;
  /** … and the one whose writes move (the `_reverse` one for reversetraffic). */
  readonly workflow: string;
  readonly sourceKeyspace: string;
  readonly targetKeyspace: string;
  readonly tables: readonly string[];
  /** A partial workflow's shards; null for all. For `kind: 'shards'`: the shards that served writes before the switch. */
  readonly shards: readonly string[] | null;
  /** For `kind: 'shards'`: the shards that serve writes after it. */
  readonly toShards?: readonly string[];
  readonly partial: boolean;
  /** A (frozen) reverse workflow existed before this switch replaced it: a rollback freezes the new one instead of deleting it. */
  readonly reverseExisted: boolean;
  readonly enableReverseReplication: boolean;
  readonly initializeTargetSequences: boolean;
  /** The step under way: every step before it is done, this one may be done in part. */
  step: SwitchStep;
  /** Set once a rollback started (it is retried until it finishes). */
  rollingBack?: string;
  readonly startedAt: string;
  /** Deny on the source, in ms since the epoch: the start of the write pause. */
  pauseStartMs: number;
  readonly owner: { readonly host: string; readonly pid: number };
  updatedAt: string;
}

/** A workflow's place in the global topology: its switch record, switch history and lock live there. */
export const wfDir = (keyspace: string, workflow: string): string => `keyspaces/${keyspace}/workflows/${workflow}`;
const recordPath = (keyspace: string, workflow: string): string => `${wfDir(keyspace, workflow)}/SwitchJournal`;

function op(topo: TopoServer): { signal: AbortSignal } {
  return { signal: AbortSignal.timeout(topo.options.opTimeoutMs) };
}

export async function readSwitchRecord(topo: TopoServer, keyspace: string, workflow: string): Promise<SwitchRecord | null> {
  try {
    const n = await topo.global.get(recordPath(keyspace, workflow), op(topo));
    return JSON.parse(n.data.toString('utf8')) as SwitchRecord;
  } catch (err) {
    if (isTopoError(err, 'NO_NODE')) return null;
    throw err;
  }
}

export async function writeSwitchRecord(topo: TopoServer, r: SwitchRecord): Promise<void> {
  r.updatedAt = new Date().toISOString();
  await topo.global.update(recordPath(r.userKeyspace, r.userWorkflow), Buffer.from(JSON.stringify(r, null, 2)), null, op(topo));
}

export async function deleteSwitchRecord(topo: TopoServer, r: Pick<SwitchRecord, 'userKeyspace' | 'userWorkflow'>): Promise<void> {
  try {
    await topo.global.delete(recordPath(r.userKeyspace, r.userWorkflow), null, op(topo));
  } catch (err) {
    if (!isTopoError(err, 'NO_NODE')) throw err;
  }
}

/** Every switch record in topo, as [keyspace, workflow]. */
export async function listSwitchRecords(topo: TopoServer): Promise<{ keyspace: string; workflow: string }[]> {
  const out: { keyspace: string; workflow: string }[] = [];
  for (const ks of await topo.global.list('keyspaces', op(topo))) {
    for (const wf of await topo.global.list(`keyspaces/${ks}/workflows`, op(topo))) {
      if ((await topo.global.list(wfDir(ks, wf), op(topo))).includes('SwitchJournal')) out.push({ keyspace: ks, workflow: wf });
    }
  }
  return out;
}

export function newSwitchId(): string {
  // Milliseconds times 1000 plus a random part: unique per switch, below 2^63 for centuries.
  return String(BigInt(Date.now()) * 1000n + BigInt(Math.floor(Math.random() * 1000)));
}

export function newRecordOwner(): { host: string; pid: number } {
  return { host: hostname(), pid: process.pid };
}

/** A new switch's record, at its first step, owned by this process; the caller names what moves. */
export function newSwitchRecord(f: Omit<SwitchRecord, 'version' | 'id' | 'step' | 'startedAt' | 'pauseStartMs' | 'owner' | 'updatedAt'>): SwitchRecord {
  const now = Date.now();
  return { version: 1, id: newSwitchId(), ...f, step: 'deny', startedAt: new Date(now).toISOString(), pauseStartMs: now, owner: newRecordOwner(), updatedAt: '' };
}

// ---- locks ---------------------------------------------------------------------------------------

export const SWITCH_LOCK_DEFAULTS = {
  /**
   * Lease of the switch's locks. The topo backend renews it every third of this while the switch
   * runs (and the guard below checks it as often), so it only bounds how long a dead ctld's switch
   * waits before another ctld may recover it (the file backend frees a dead process's lock at once).
   */
  ttlMs: 15_000,
  /** How long a recovery waits for a workflow lock someone holds (a switch still running). */
  recoverLockTimeoutMs: 1_000,
};

/** The workflow's own lock (Vitess's named lock on `<keyspace>.<workflow>`). */
export async function lockWorkflow(topo: TopoServer, keyspace: string, workflow: string, action: string, timeoutMs: number): Promise<TopoLock> {
  const contents = JSON.stringify({ action, holder: hostname(), pid: process.pid, time: new Date().toISOString() });
  let h: LockHandle;
  try {
    h = await topo.global.lock(wfDir(keyspace, workflow), contents, { timeoutMs, ttlMs: SWITCH_LOCK_DEFAULTS.ttlMs });
  } catch (err) {
    if (isTopoError(err, 'TIMEOUT')) throw topoError('TIMEOUT', `cannot lock workflow ${keyspace}.${workflow} for ${action}: ${err.message}`, { cause: err });
    throw err;
  }
  return { keyspace, action, check: () => h.check(), unlock: () => h.unlock() };
}

/** Who holds the workflow lock (its contents), or null. */
export async function workflowLockHolder(topo: TopoServer, keyspace: string, workflow: string): Promise<string | null> {
  return topo.global.lockInfo(wfDir(keyspace, workflow), op(topo));
}

/**
 * Watches held locks while a switch runs: checks each every third of the lease, and remembers the
 * first loss. `ensure()` throws that loss; `race(p)` fails `p`'s wait as soon as a lock is lost.
 */
export class LockGuard {
  private lost: Error | null = null;
  private readonly timer: NodeJS.Timeout;
  private readonly waiters = new Set<(e: Error) => void>();

  constructor(private readonly locks: readonly TopoLock[], periodMs = Math.max(100, Math.floor(SWITCH_LOCK_DEFAULTS.ttlMs / 3))) {
    this.timer = setInterval(() => void this.checkAll(), periodMs);
    this.timer.unref();
  }

  private async checkAll(): Promise<void> {
    if (this.lost) return;
    for (const l of this.locks) {
      try {
        await l.check();
      } catch (err) {
        this.fail(err as Error);
        return;
      }
    }
  }

  private fail(err: Error): void {
    if (this.lost) return;
    this.lost = topoError('LOCK_LOST', `a lock of the switch could not be renewed: ${err.message}`, { cause: err });
    for (const w of this.waiters) w(this.lost);
  }

  /** Checks every lock now; throws if one is lost. */
  async ensure(): Promise<void> {
    await this.checkAll();
    if (this.lost) throw this.lost;
  }

  race<T>(p: Promise<T>): Promise<T> {
    if (this.lost) return Promise.reject(this.lost);
    let w: ((e: Error) => void) | undefined;
    const lostP = new Promise<never>((_, reject) => {
      w = reject;
      this.waiters.add(w);
    });
    return Promise.race([p, lostP]).finally(() => this.waiters.delete(w!));
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

// ---- test hooks ----------------------------------------------------------------------------------

const fired = new Set<string>();

/** What a test asked to happen right after `step` (once per process per hook). */
export function switchTestHook(step: SwitchStep): 'fail' | 'lose-lock' | null {
  const want = (name: string): boolean => {
    if (process.env[name] !== step || fired.has(name)) return false;
    fired.add(name);
    return true;
  };
  if (want('TESSERA_TEST_KILL_AFTER_STEP')) {
    process.stderr.write(`test hook: killing process ${process.pid} after switch step ${step}\n`);
    process.kill(process.pid, 'SIGKILL');
    // The signal is on its way; nothing of the switch may run before it lands.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10_000);
  }
  if (want('TESSERA_TEST_FAIL_AFTER_STEP')) return 'fail';
  if (want('TESSERA_TEST_LOSE_LOCK_AFTER_STEP')) return 'lose-lock';
  return null;
}
