// The write switch of a MoveTables workflow (switchtraffic's primary step, and reversetraffic's on
// the `_reverse` workflow), recorded step by step in topo (switch-journal.ts), and the one recovery
// that finishes or undoes a switch whose command failed or whose ctld died:
//
//   deny → drain → positions → catch-up → stop-streams → create-reverse → [sequences] → journal
//        → allow-target → route → start-reverse → freeze
//
// Before the journal on the source primaries every step is undone on failure (the record says how
// far it got; each undo is idempotent, so an undo of a step that never ran is harmless). From the
// journal on the switch only goes forward, and each remaining step is idempotent, so a rerun, the
// next command on the workflow or the next ctld start finishes it. `recoverSwitch` is that entry
// point, for ctld and for anything else (the chaos harness) that wants a workflow settled.
import { ER, TesseraError } from '../mysql/errors.js';
import { quoteIdent, quoteString } from '../sql/index.js';
import { keyRangesIntersect, parseShardName } from '../key/index.js';
import { isTopoError, type Tablet, type TopoLock, type TopoServer } from '../topo/index.js';
import { parseKeyspaceVSchema } from '../vschema/index.js';
import { formatBinlogSource, parseBinlogSource } from '../vreplication/binlog-source.js';
import { logger } from '../log/index.js';
import { ruleFor } from './materialize.js';
import type { CreateStreamWire, WorkflowTabletCalls } from './types.js';
import { WORKFLOW_SUB_TYPE, WORKFLOW_TYPE } from './types.js';
import { gatherStreams } from './workflow.js';
import {
  MOVETABLES_DEFAULTS,
  denyTables,
  primariesIn,
  reverseWorkflowName,
  ruleList,
  ruleMap,
  shardRuleList,
  shardRuleMap,
  vschemaOf,
  type MoveTablesInfo,
  type SwitchOptions,
} from './movetables.js';
import { initializeTargetSequences } from './sequences.js';
import { shardForwardSteps, shardRollBack } from './switch-shards.js';
import {
  LockGuard,
  SWITCH_LOCK_DEFAULTS,
  deleteSwitchRecord,
  listSwitchRecords,
  lockWorkflow,
  newSwitchRecord,
  pastNoReturn,
  readSwitchRecord,
  stepIndex,
  switchTestHook,
  workflowLockHolder,
  writeSwitchRecord,
  type SwitchRecord,
  type SwitchStep,
} from './switch-journal.js';

const log = logger('workflow');

/** Why a switch failed, and where. */
export class StepError extends Error {
  constructor(
    readonly step: string,
    readonly reason: unknown,
  ) {
    super(`${step}: ${(reason as Error).message ?? String(reason)}`);
  }
}

export type Timed = <T>(step: string, fn: () => Promise<T>) => Promise<T>;

/** The locks a switch holds, workflow lock first, then both keyspaces in name order (every switch and recovery takes them so). */
export interface SwitchLocks {
  readonly workflow: TopoLock;
  readonly keyspaces: readonly TopoLock[];
  of(keyspace: string): TopoLock;
  unlock(err?: unknown): Promise<void>;
}

export async function takeLocks(topo: TopoServer, userKeyspace: string, userWorkflow: string, keyspaces: readonly string[], action: string, workflowLockTimeoutMs: number): Promise<SwitchLocks> {
  const wf = await lockWorkflow(topo, userKeyspace, userWorkflow, action, workflowLockTimeoutMs);
  const held: TopoLock[] = [];
  try {
    for (const ks of [...new Set(keyspaces)].sort()) held.push(await topo.lockKeyspace(ks, action, { ttlMs: SWITCH_LOCK_DEFAULTS.ttlMs }));
  } catch (err) {
    for (const l of held.reverse()) await l.unlock(err);
    await wf.unlock(err);
    throw err;
  }
  return {
    workflow: wf,
    keyspaces: held,
    of: (ks) => held.find((l) => l.keyspace === ks)!,
    async unlock(err?: unknown) {
      for (const l of [...held].reverse()) await l.unlock(err).catch(() => undefined);
      await wf.unlock(err).catch(() => undefined);
    },
  };
}

// ---- the journal on the source primaries -------------------------------------------------------

async function sidecarDb(topo: TopoServer, keyspace: string): Promise<string> {
  return (await topo.getKeyspace(keyspace)).value.sidecar_db_name || '_vt';
}

function dbNameOf(t: Tablet, keyspace: string): string {
  return t.db_name_override || `vt_${keyspace}`;
}

/** The journal row's value: what moved and where, from the record alone (so a rewrite is identical). */
function journalValue(r: SwitchRecord): string {
  return JSON.stringify({ id: r.id, migration_type: r.kind === 'shards' ? 'SHARDS' : 'TABLES', tables: r.tables, workflow: r.workflow, source_keyspace: r.sourceKeyspace, target_keyspace: r.targetKeyspace, participants: r.shards, ...(r.kind === 'shards' ? { to_shards: r.toShards } : {}) });
}

export async function writeJournal(topo: TopoServer, calls: WorkflowTabletCalls, r: SwitchRecord): Promise<void> {
  const db = quoteIdent(await sidecarDb(topo, r.sourceKeyspace));
  for (const s of await primariesIn(topo, r.sourceKeyspace, r.shards)) {
    await calls.executeFetchAsDba(
      s.tablet,
      `INSERT INTO ${db}.resharding_journal (id, db_name, val) VALUES (${r.id}, ${quoteString(dbNameOf(s.tablet, r.sourceKeyspace))}, ${quoteString(journalValue(r))}) ON DUPLICATE KEY UPDATE val = VALUES(val)`,
    );
  }
}

/** Whether any source primary holds the switch's journal row (then the switch goes forward). */
export async function journalWritten(topo: TopoServer, calls: WorkflowTabletCalls, r: SwitchRecord): Promise<boolean> {
  const db = quoteIdent(await sidecarDb(topo, r.sourceKeyspace));
  for (const s of await primariesIn(topo, r.sourceKeyspace, r.shards)) {
    const res = await calls.executeFetchAsDba(s.tablet, `SELECT 1 FROM ${db}.resharding_journal WHERE id = ${r.id}`);
    if (res.rows.length > 0) return true;
  }
  return false;
}

// ---- the steps ---------------------------------------------------------------------------------

/** Runs one recorded step: the record names it before it starts, then the test hooks get their turn. */
export async function recordedStep<T>(topo: TopoServer, r: SwitchRecord, name: SwitchStep, label: string, timed: Timed, guard: LockGuard | null, locks: SwitchLocks | null, fn: () => Promise<T>): Promise<T> {
  // Before the point of no return a lost lock fails the switch (it is rolled back); after it, the
  // switch goes on regardless: stopping half way would leave the tables served by neither side.
  const guarded = guard !== null && !pastNoReturn(name) && name !== 'journal';
  if (guarded) await guard.ensure().catch((err: unknown) => Promise.reject(new StepError(label, err)));
  r.step = name;
  await writeSwitchRecord(topo, r);
  const out = await timed(label, () => (guarded ? guard.race(fn()) : fn()));
  const hook = switchTestHook(name);
  if (hook === 'fail') throw new StepError(label, new Error(`test hook: the switch fails after step ${name} (TESSERA_TEST_FAIL_AFTER_STEP)`));
  if (hook === 'lose-lock' && locks) await locks.keyspaces[0].unlock(new Error('test hook: lock removed (TESSERA_TEST_LOSE_LOCK_AFTER_STEP)'));
  return out;
}

/**
 * The switch's lock on `keyspace` while it still holds it; undefined when lost (after the point of
 * no return, or in a rollback caused by the loss), so that the topo update takes the lock afresh.
 */
export async function heldLock(locks: SwitchLocks | null, keyspace: string): Promise<TopoLock | undefined> {
  if (!locks) return undefined;
  const l = locks.of(keyspace);
  return l.check().then(
    () => l,
    () => undefined,
  );
}

/** The steps from the journal on, each idempotent; used by the switch itself and by recovery. */
async function forwardSteps(topo: TopoServer, calls: WorkflowTabletCalls, r: SwitchRecord, timed: Timed, locks: SwitchLocks | null): Promise<void> {
  if (r.kind === 'shards') return shardForwardSteps(topo, calls, r, timed, locks);
  const S = r.sourceKeyspace;
  const T = r.targetKeyspace;
  const shards = r.shards;
  const from = stepIndex(r.step);
  const run = async (name: SwitchStep, label: string, fn: () => Promise<void>): Promise<void> => {
    if (stepIndex(name) < from) return;
    await recordedStep(topo, r, name, label, timed, null, locks, fn);
  };
  await run('journal', `write the journal on the ${S} primaries`, () => writeJournal(topo, calls, r));
  await run('allow-target', `allow writes on ${T}`, async () => denyTables(topo, calls, T, r.tables, true, await heldLock(locks, T), shards));
  await run('route', shards ? `route shards ${shards.join(',')} to ${T}` : `route writes to ${T}`, async () => {
    if (shards) {
      // Reads and writes of these shards together: (T, shard) -> S gives way to (S, shard) -> T.
      await topo.updateShardRoutingRules((cur) => {
        const m = shardRuleMap(cur);
        for (const sh of shards) {
          m.delete(`${T}/${sh}`);
          m.set(`${S}/${sh}`, T);
        }
        return shardRuleList(m);
      });
    } else {
      await topo.updateRoutingRules((cur) => {
        const m = ruleMap(cur);
        for (const t of r.tables) {
          m.delete(`${T}.${t}`);
          m.set(t, `${T}.${t}`);
          m.set(`${S}.${t}`, `${T}.${t}`);
        }
        return ruleList(m);
      });
    }
    await topo.rebuildVSchemaGraph();
  });
  const reverse = reverseWorkflowName(r.workflow);
  await run('start-reverse', r.enableReverseReplication ? `start ${S}.${reverse}` : `leave ${S}.${reverse} stopped`, async () => {
    if (!r.enableReverseReplication) return;
    for (const f of await gatherStreams(topo, calls, S, reverse)) {
      if (f.streams.some((x) => x.state === 'Stopped')) await calls.vreplicationUpdate(f.tablet, { workflow: reverse, state: 'Running', message: '' });
    }
  });
  await run('freeze', `freeze ${T}.${r.workflow}`, async () => {
    for (const f of await gatherStreams(topo, calls, T, r.workflow)) {
      await calls.vreplicationUpdate(f.tablet, { workflow: r.workflow, state: 'Stopped', message: 'FROZEN' });
    }
  });
  await deleteSwitchRecord(topo, r);
}

/**
 * Undoes a switch that stopped before the point of no return: the reverse workflow goes (or, if a
 * frozen one was replaced, the new one is frozen in its place), the forward streams run again, the
 * source takes writes again. Returns what was undone.
 */
async function rollBack(topo: TopoServer, calls: WorkflowTabletCalls, r: SwitchRecord, why: string, locks: SwitchLocks | null): Promise<string[]> {
  if (r.kind === 'shards') return shardRollBack(topo, calls, r, why, locks);
  const S = r.sourceKeyspace;
  const T = r.targetKeyspace;
  const reverse = reverseWorkflowName(r.workflow);
  r.rollingBack = why;
  await writeSwitchRecord(topo, r);
  const at = stepIndex(r.step);
  const undo: string[] = [];
  if (at >= stepIndex('create-reverse')) {
    for (const s of await primariesIn(topo, S, r.shards)) {
      if (r.reverseExisted) await calls.vreplicationUpdate(s.tablet, { workflow: reverse, state: 'Stopped', message: 'FROZEN' }).catch((e: unknown) => (isNotFound(e) ? 0 : Promise.reject(e)));
      else await calls.vreplicationDelete(s.tablet, reverse);
    }
    undo.push(r.reverseExisted ? `froze ${S}.${reverse} again` : `deleted ${S}.${reverse}`);
  }
  if (at >= stepIndex('stop-streams')) {
    for (const f of await gatherStreams(topo, calls, T, r.workflow)) await calls.vreplicationUpdate(f.tablet, { workflow: r.workflow, state: 'Running', message: '' });
    undo.push(`restarted ${T}.${r.workflow}`);
  }
  if (at >= stepIndex('deny')) {
    // Under the switch's lock on S while it still holds it; a lost one (the reason for this
    // rollback, perhaps) is taken afresh by the topo update itself.
    await denyTables(topo, calls, S, r.tables, true, await heldLock(locks, S), r.shards);
    undo.push(`${S} takes writes to ${r.tables.join(',')} again`);
    // The gates' buffers hold the denied tables' writes until the serving graph changes (the
    // routing switch they expect). Undoing the deny changes only the shard record, which gates do
    // not watch: the serving VSchema is written again (unchanged) so they retry now, not at the
    // end of their --buffer-window.
    await topo.rebuildVSchemaGraph().catch((err: Error) => log.warn({ keyspace: S, err: err.message }, 'rebuilding the serving vschema after the rollback failed; buffered writes retry at the end of the buffer window'));
  }
  await deleteSwitchRecord(topo, r);
  return undo;
}

function isNotFound(e: unknown): boolean {
  return /not found|no stream/i.test((e as Error).message ?? '');
}

// ---- the switch --------------------------------------------------------------------------------

export interface SwitchWritesContext {
  readonly userKeyspace: string;
  readonly userWorkflow: string;
  readonly action: 'SwitchTraffic' | 'ReverseTraffic';
  readonly initializeTargetSequences: boolean;
}

/**
 * The write switch of `fwd` (a workflow copying fwd.sourceKeyspace → fwd.targetKeyspace): returns
 * the write pause in ms (deny on the source to routing switched).
 */
export async function switchWrites(topo: TopoServer, calls: WorkflowTabletCalls, fwd: MoveTablesInfo, o: SwitchOptions, timed: Timed, c: SwitchWritesContext): Promise<number> {
  const S = fwd.sourceKeyspace;
  const T = fwd.targetKeyspace;
  const reverse = reverseWorkflowName(fwd.workflow);
  // A partial workflow stops writes on its own shards only; the others keep serving throughout.
  const shards = fwd.partial ? [...fwd.shards] : null;
  const action = `${c.action}(${c.userKeyspace}.${c.userWorkflow})`;
  const locks = await takeLocks(topo, c.userKeyspace, c.userWorkflow, [S, T], action, topo.options.lockTimeoutMs);
  const guard = new LockGuard([locks.workflow, ...locks.keyspaces]);
  try {
    // A switch of this workflow interrupted since the command read its state: settle it first.
    const prior = await readSwitchRecord(topo, c.userKeyspace, c.userWorkflow);
    if (prior) {
      const res = await settle(topo, calls, prior, locks, 'found by the next switch');
      throw new TesseraError(ER.UNKNOWN_ERROR, `${c.action} of ${c.userKeyspace}.${c.userWorkflow}: an interrupted switch was found and ${res.outcome === 'forward' ? 'finished' : 'rolled back'} first; run the command again`);
    }
    const sources = await primariesIn(topo, S, shards);
    const targets = await primariesIn(topo, T, shards);
    const reverseExisted = (await gatherStreams(topo, calls, S, reverse, shards ?? [])).length > 0;
    const r = newSwitchRecord({
      action: c.action,
      userKeyspace: c.userKeyspace,
      userWorkflow: c.userWorkflow,
      workflow: fwd.workflow,
      sourceKeyspace: S,
      targetKeyspace: T,
      tables: fwd.tables,
      shards,
      partial: fwd.partial,
      reverseExisted,
      enableReverseReplication: o.enableReverseReplication,
      initializeTargetSequences: c.initializeTargetSequences,
    });
    const step = <R>(name: SwitchStep, label: string, fn: () => Promise<R>): Promise<R> => recordedStep(topo, r, name, label, timed, guard, locks, fn);
    let pause = 0;
    try {
      await step('deny', `deny writes on ${S}${shards ? ` (shards ${shards.join(',')})` : ''}`, async () => {
        r.pauseStartMs = Date.now();
        await denyTables(topo, calls, S, fwd.tables, false, locks.of(S), shards);
      });
      // Statements admitted before the deny may still be running, and transactions opened before
      // it may still commit: LOCK TABLES … READ waits for both (they hold the tables' metadata
      // locks until they end). Twice, as Vitess does, for a statement that was admitted just
      // before the refresh and took its metadata lock after the first LOCK TABLES.
      await step('drain', `wait for open transactions on ${S}`, async () => {
        const list = fwd.tables.map((t) => `${quoteIdent(t)} READ`).join(', ');
        for (let i = 0; i < 2; i++) {
          for (const s of sources) await calls.executeFetchAsDba(s.tablet, `SET STATEMENT lock_wait_timeout = ${MOVETABLES_DEFAULTS.drainGraceSeconds} FOR LOCK TABLES ${list}`);
        }
      });
      const positions = await step('positions', `read the positions of the ${S} primaries`, async () => {
        const m = new Map<string, string>();
        for (const s of sources) m.set(s.shard, await calls.primaryPosition(s.tablet));
        return m;
      });
      await step('catch-up', `wait for the streams of ${T}.${fwd.workflow} to reach them`, async () => {
        const deadline = Date.now() + o.timeoutMs;
        await Promise.all(
          fwd.streams.flatMap((f) =>
            f.streams.map(async (s) => {
              const src = parseBinlogSource(s.source);
              const pos = positions.get(src.shard);
              if (pos === undefined) throw new Error(`stream ${s.id} on ${T}/${f.shard} reads ${S}/${src.shard}, which has no primary now`);
              await calls.vreplicationWaitForPos(f.tablet, s.id, pos, Math.max(1, deadline - Date.now()));
            }),
          ),
        );
      });
      await step('stop-streams', `stop the streams of ${T}.${fwd.workflow}`, async () => {
        for (const f of fwd.streams) await calls.vreplicationUpdate(f.tablet, { workflow: fwd.workflow, state: 'Stopped' });
      });
      await step('create-reverse', `create ${S}.${reverse}`, async () => {
        const targetPos = new Map<string, string>();
        for (const t of targets) targetPos.set(t.shard, await calls.primaryPosition(t.tablet));
        // A frozen reverse workflow from an earlier round (for reversetraffic: the forward workflow
        // itself) whose streams read exactly the target shards they should is moved to the target
        // positions in place: at no moment does it not exist, so a ctld that dies in this step
        // cannot lose it. Any other shape is replaced.
        const existing = reverseExisted ? await gatherStreams(topo, calls, S, reverse, shards ?? []) : [];
        const want = (sourceShard: string) => targets.filter((t) => keyRangesIntersect(parseShardName(sourceShard), parseShardName(t.shard))).map((t) => t.shard).sort();
        const reusable =
          existing.length === sources.length &&
          existing.every((f) => {
            const have = f.streams.map((x) => parseBinlogSource(x.source)).filter((b) => b.keyspace === T).map((b) => b.shard).sort();
            return f.streams.length === have.length && JSON.stringify(have) === JSON.stringify(want(f.shard));
          });
        if (reusable) {
          for (const f of existing) {
            for (const x of f.streams) {
              await calls.vreplicationUpdate(f.tablet, { workflow: reverse, ids: [x.id], state: 'Stopped', message: '', pos: targetPos.get(parseBinlogSource(x.source).shard)! });
            }
          }
          return;
        }
        for (const s of sources) await calls.vreplicationDelete(s.tablet, reverse);
        const sourceSharded = parseKeyspaceVSchema(S, await vschemaOf(topo, S)).sharded;
        const first = fwd.streams[0]?.streams[0];
        const onDdl = first ? parseBinlogSource(first.source).onDdl : 'IGNORE';
        for (const s of sources) {
          const streams: CreateStreamWire[] = [];
          for (const t of targets) {
            if (!keyRangesIntersect(parseShardName(s.shard), parseShardName(t.shard))) continue;
            const rules = [];
            for (const table of fwd.tables) rules.push(await ruleFor(topo, S, s.shard, table, `select * from ${quoteIdent(table)}`, sourceSharded));
            streams.push({
              workflow: reverse,
              source: formatBinlogSource({ keyspace: T, shard: t.shard, filter: { rules }, onDdl }),
              cell: first?.cell ?? '',
              tabletTypes: first?.tabletTypes ?? [],
              state: 'Stopped',
              workflowType: WORKFLOW_TYPE.MoveTables,
              // An atomic-copy workflow's reverse keeps the sub-type: it replicates with foreign key checks on (cascades).
              workflowSubType: fwd.partial ? WORKFLOW_SUB_TYPE.Partial : first?.workflowSubType === WORKFLOW_SUB_TYPE.AtomicCopy ? WORKFLOW_SUB_TYPE.AtomicCopy : WORKFLOW_SUB_TYPE.None,
              deferSecondaryKeys: false,
              options: first?.options ?? '{}',
              stopPos: '',
              pos: targetPos.get(t.shard) ?? '',
              copyTables: [],
            });
          }
          if (streams.length > 0) await calls.vreplicationCreate(s.tablet, streams);
        }
      });
      if (c.initializeTargetSequences) {
        await step('sequences', `initialize the sequences of ${fwd.tables.join(',')} above the largest ids on ${T}`, async () => void (await initializeTargetSequences(topo, calls, T, fwd.tables)));
      }
    } catch (err) {
      const e = err instanceof StepError ? err : new StepError('switch writes', err);
      let undo: string[];
      try {
        undo = await rollBack(topo, calls, r, e.message, locks);
      } catch (u) {
        await locks.unlock(err);
        throw new TesseraError(
          ER.UNKNOWN_ERROR,
          `${c.action} of ${T}.${fwd.workflow} failed at step "${e.step}": ${(e.reason as Error).message ?? String(e.reason)}; rolling back failed too (${(u as Error).message}): the switch record stays in topo and the rollback is retried by the next command on the workflow and by the next ctld start`,
        );
      }
      await locks.unlock(err);
      throw new TesseraError(ER.UNKNOWN_ERROR, `${c.action} of ${T}.${fwd.workflow} failed at step "${e.step}": ${(e.reason as Error).message ?? String(e.reason)}; rolled back${undo.length ? `: ${undo.join(', ')}` : ''}`);
    }
    // The point of no return, and on.
    try {
      r.step = 'journal';
      const routed = forwardSteps(topo, calls, r, async (label, fn) => {
        const out = await timed(label, fn);
        if (r.step === 'route') pause = Date.now() - r.pauseStartMs;
        return out;
      }, locks);
      await routed;
    } catch (err) {
      // Whether the journal reached a source primary decides: back if it reached none.
      if (r.step === 'journal' && !(await journalWritten(topo, calls, r).catch(() => true))) {
        const e = err instanceof StepError ? err : new StepError('journal', err);
        const undo = await rollBack(topo, calls, r, e.message, locks).catch(() => null);
        await locks.unlock(err);
        if (undo) throw new TesseraError(ER.UNKNOWN_ERROR, `${c.action} of ${T}.${fwd.workflow} failed at step "${e.step}": ${(e.reason as Error).message ?? String(e.reason)}; rolled back: ${undo.join(', ')}`);
        throw new TesseraError(ER.UNKNOWN_ERROR, `${c.action} of ${T}.${fwd.workflow} failed writing the journal (${(e.reason as Error).message}) and could not roll back; the next command on the workflow or the next ctld start settles it`);
      }
      await locks.unlock(err);
      const e = err instanceof StepError ? err : new StepError('switch writes', err);
      throw new TesseraError(
        ER.UNKNOWN_ERROR,
        `${c.action} of ${T}.${fwd.workflow} failed at step "${e.step}" after the point of no return (the journal is written on the ${S} primaries): ${(e.reason as Error).message ?? String(e.reason)}; the switch goes forward: run the command again to finish it now (the next command on the workflow and the next ctld start finish it too)`,
      );
    }
    await locks.unlock();
    return pause;
  } catch (err) {
    await locks.unlock(err);
    throw err;
  } finally {
    guard.stop();
  }
}

// ---- recovery ------------------------------------------------------------------------------------

export interface RecoveryResult {
  readonly keyspace: string;
  readonly workflow: string;
  /** forward: finished; back: rolled back; running: its switch still runs (its lock is held). */
  readonly outcome: 'forward' | 'back' | 'running';
  readonly action: SwitchRecord['action'];
  /** The step the switch had reached. */
  readonly step: SwitchStep;
  readonly detail: string;
}

/** What recovery will do with `r`, before looking at the source primaries' journal. */
export function plannedOutcome(r: SwitchRecord): 'forward' | 'back' | 'journal decides' {
  if (r.rollingBack !== undefined) return 'back';
  if (pastNoReturn(r.step)) return 'forward';
  return r.step === 'journal' ? 'journal decides' : 'back';
}

/** Settles `r` under locks already held: forward past the journal, back before it. */
export async function settle(topo: TopoServer, calls: WorkflowTabletCalls, r: SwitchRecord, locks: SwitchLocks, why: string): Promise<{ outcome: 'forward' | 'back'; detail: string }> {
  const plan = plannedOutcome(r);
  const forward = plan === 'forward' || (plan === 'journal decides' && (await journalWritten(topo, calls, r)));
  const steps: string[] = [];
  const timed: Timed = async (label, fn) => {
    const out = await fn();
    steps.push(label);
    return out;
  };
  if (forward) {
    await forwardSteps(topo, calls, r, timed, locks);
    return { outcome: 'forward', detail: `finished: ${steps.join(', ')}` };
  }
  const undo = await rollBack(topo, calls, r, r.rollingBack ?? why, locks);
  return { outcome: 'back', detail: `rolled back: ${undo.join(', ')}` };
}

/**
 * THE recovery entry point: settles the interrupted write switch of `keyspace.workflow` (the
 * workflow the user named), if there is one and nobody runs it: rolled back before the journal,
 * finished after it. Returns null when there is nothing to recover. Safe to call at any time and
 * from any process: it takes the switch's locks, so it never acts on a switch that still runs.
 */
export async function recoverSwitch(topo: TopoServer, calls: WorkflowTabletCalls, keyspace: string, workflow: string): Promise<RecoveryResult | null> {
  const first = await readSwitchRecord(topo, keyspace, workflow);
  if (first === null) return null;
  const action = `Recover${first.action}(${keyspace}.${workflow})`;
  let locks: SwitchLocks;
  try {
    locks = await takeLocks(topo, keyspace, workflow, [first.sourceKeyspace, first.targetKeyspace], action, SWITCH_LOCK_DEFAULTS.recoverLockTimeoutMs);
  } catch (err) {
    if (!isTopoError(err, 'TIMEOUT')) throw err;
    return { keyspace, workflow, outcome: 'running', action: first.action, step: first.step, detail: `its switch holds the locks (${(err as Error).message})` };
  }
  try {
    const r = await readSwitchRecord(topo, keyspace, workflow);
    if (r === null) return null;
    const res = await settle(topo, calls, r, locks, 'interrupted');
    log.warn({ keyspace, workflow, step: r.step, outcome: res.outcome }, `recovered the interrupted ${r.action} of ${keyspace}.${workflow} (it was at step ${r.step}): ${res.detail}`);
    await locks.unlock();
    return { keyspace, workflow, outcome: res.outcome, action: r.action, step: r.step, detail: res.detail };
  } catch (err) {
    await locks.unlock(err);
    throw err;
  }
}

/** Recovers every interrupted switch in topo; the ones whose switch still runs come back as `running`. */
export async function recoverAllSwitches(topo: TopoServer, calls: WorkflowTabletCalls): Promise<RecoveryResult[]> {
  const out: RecoveryResult[] = [];
  for (const { keyspace, workflow } of await listSwitchRecords(topo)) {
    try {
      const r = await recoverSwitch(topo, calls, keyspace, workflow);
      if (r) out.push(r);
    } catch (err) {
      log.warn({ keyspace, workflow, err: (err as Error).message }, `recovering the switch of ${keyspace}.${workflow} failed; it is retried`);
      const rec = await readSwitchRecord(topo, keyspace, workflow).catch(() => null);
      if (rec) out.push({ keyspace, workflow, outcome: 'running', action: rec.action, step: rec.step, detail: `recovery failed: ${(err as Error).message}` });
    }
  }
  return out;
}

/** What `show` and `status` say about a switch record: who runs it, or what will happen to it. */
export async function describeSwitch(topo: TopoServer, keyspace: string, workflow: string): Promise<{ json: Record<string, unknown>; text: string } | null> {
  const r = await readSwitchRecord(topo, keyspace, workflow).catch(() => null);
  if (r === null) return null;
  const holder = await workflowLockHolder(topo, keyspace, workflow).catch(() => null);
  const plan = plannedOutcome(r);
  // Where writes are before and after: keyspaces for MoveTables, shards of one keyspace for Reshard.
  const [before, after] = r.kind === 'shards' ? [`${r.sourceKeyspace}/${(r.shards ?? []).join(',')}`, `${r.targetKeyspace}/${(r.toShards ?? []).join(',')}`] : [r.sourceKeyspace, r.targetKeyspace];
  const what =
    plan === 'forward'
      ? `it is past the point of no return (the journal is written on the ${before} primaries): it will be finished (writes go to ${after})`
      : plan === 'back'
        ? `it is before the point of no return: it will be rolled back (writes stay on ${before})`
        : `it was writing the journal on the ${before} primaries: it will be finished if any of them holds it, else rolled back`;
  const who = holder !== null ? `running (locked by ${holder})` : 'interrupted (no ctld holds its lock)';
  const when = holder !== null ? 'if it fails or its ctld dies' : 'by the next command on the workflow or the next ctld start';
  const text = `${r.action} of ${r.userKeyspace}.${r.userWorkflow} in progress since ${r.startedAt} (${r.owner.host} pid ${r.owner.pid}), at step ${r.step}${r.rollingBack ? ' (rolling back)' : ''}, ${who}; ${what} ${when}`;
  return {
    text,
    json: { action: r.action, kind: r.kind ?? 'tables', workflow: `${r.targetKeyspace}.${r.workflow}`, step: r.step, started_at: r.startedAt, owner: r.owner, running: holder !== null, rolling_back: r.rollingBack !== undefined, outcome: plan, message: text },
  };
}

/**
 * Where the switch record of `keyspace.workflow` lives: its own place, or — for `<wf>_reverse`,
 * which lives in the forward workflow's source keyspace (the same keyspace for Reshard) — the
 * forward workflow's, since every switch, reversetraffic included, records itself under the
 * workflow the user named. Null when no record concerns it.
 */
export async function switchRecordPlace(topo: TopoServer, keyspace: string, workflow: string): Promise<{ keyspace: string; workflow: string } | null> {
  if ((await readSwitchRecord(topo, keyspace, workflow)) !== null) return { keyspace, workflow };
  if (!workflow.endsWith('_reverse')) return null;
  const forward = reverseWorkflowName(workflow);
  for (const p of await listSwitchRecords(topo)) {
    if (p.workflow !== forward) continue;
    const r = await readSwitchRecord(topo, p.keyspace, p.workflow);
    if (r && r.sourceKeyspace === keyspace) return p;
  }
  return null;
}

/**
 * Recovery for a command on `keyspace.workflow`: settles its own interrupted switch or, for a
 * `_reverse` workflow, its forward workflow's (a command on the reverse must never act on a
 * half-switched pair). Null when there is nothing to settle.
 */
export async function recoverSwitchFor(topo: TopoServer, calls: WorkflowTabletCalls, keyspace: string, workflow: string): Promise<RecoveryResult | null> {
  const at = await switchRecordPlace(topo, keyspace, workflow);
  return at === null ? null : recoverSwitch(topo, calls, at.keyspace, at.workflow);
}

/** describeSwitch for a command on `keyspace.workflow`, finding a `_reverse` workflow's forward record. */
export async function describeSwitchFor(topo: TopoServer, keyspace: string, workflow: string): Promise<{ json: Record<string, unknown>; text: string } | null> {
  const at = await switchRecordPlace(topo, keyspace, workflow).catch(() => null);
  return at === null ? null : describeSwitch(topo, at.keyspace, at.workflow);
}
