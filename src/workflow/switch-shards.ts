// Reshard's write switch on the same record and recovery rule as MoveTables' (switch-writes.ts,
// switch-journal.ts): the shards that serve writes (`from`) stop, the shards that will serve them
// (`to`) catch up, and the primary's partition of the serving graph flips.
//
//   deny (query_service_disabled on the `from` primaries) → drain → positions → catch-up
//   → stop-streams → create-reverse → journal → allow-target (lift the `to` primaries' control)
//   → route (primary partition and is_primary_serving) → start-reverse → freeze
//
// `workflow` in the record is the one whose streams catch up (on the `to` primaries): the forward
// workflow for switchtraffic, `<workflow>_reverse` for reversetraffic. Its reverse lives on the
// `from` primaries with one stream per intersecting `to` shard, filtered to the `from` shard's
// key range; a frozen one left by an earlier round is moved to the new positions in place.
//
// Before the journal on the `from` primaries every step is undone (the `from` side serves again);
// from it on the steps only go forward, each idempotent, so a rerun, the next command on the
// workflow or the next ctld start finishes the switch.
import { ER, TesseraError } from '../mysql/errors.js';
import { quoteIdent } from '../sql/index.js';
import { keyRangesIntersect, parseShardName } from '../key/index.js';
import type { Tablet, TopoServer } from '../topo/index.js';
import { formatBinlogSource, parseBinlogSource } from '../vreplication/binlog-source.js';
import { MOVETABLES_DEFAULTS, reverseWorkflowName } from './movetables.js';
import type { CreateStreamWire, WorkflowTabletCalls } from './types.js';
import { WORKFLOW_TYPE } from './types.js';
import { gatherStreams } from './workflow.js';
import {
  LockGuard,
  deleteSwitchRecord,
  newSwitchRecord,
  readSwitchRecord,
  stepIndex,
  writeSwitchRecord,
  type SwitchRecord,
  type SwitchStep,
} from './switch-journal.js';
import { StepError, heldLock, journalWritten, recordedStep, settle, takeLocks, writeJournal, type SwitchLocks, type Timed } from './switch-writes.js';

async function primary(topo: TopoServer, keyspace: string, shard: string): Promise<Tablet> {
  const s = (await topo.getShard(keyspace, shard)).value;
  if (s.primary_alias === null) throw new Error(`shard ${keyspace}/${shard} has no primary`);
  return (await topo.getTablet(s.primary_alias)).value;
}

function fromOf(r: SwitchRecord): readonly string[] {
  return r.shards ?? [];
}

function toOf(r: SwitchRecord): readonly string[] {
  return r.toShards ?? [];
}

/** Sets or lifts query_service_disabled on the primaries of `shards`, then refreshes them. */
async function queryService(topo: TopoServer, calls: WorkflowTabletCalls, keyspace: string, shards: readonly string[], disable: boolean, locks: SwitchLocks | null): Promise<void> {
  const lock = await heldLock(locks, keyspace);
  for (const shard of shards) {
    const has = (await topo.getShard(keyspace, shard)).value.tablet_controls.some((c) => c.tablet_type === 'primary' && c.disable_query_service);
    if (has !== disable) await topo.setShardTabletControl(keyspace, shard, 'primary', disable ? { disableQueryService: true } : { remove: true }, lock);
  }
  for (const shard of shards) await calls.refreshState(await primary(topo, keyspace, shard));
}

/** The steps from the journal on, each idempotent: the switch's own and recovery's. */
export async function shardForwardSteps(topo: TopoServer, calls: WorkflowTabletCalls, r: SwitchRecord, timed: Timed, locks: SwitchLocks | null): Promise<void> {
  const K = r.sourceKeyspace;
  const from = fromOf(r);
  const to = toOf(r);
  const reverse = reverseWorkflowName(r.workflow);
  const at = stepIndex(r.step);
  const run = async (name: SwitchStep, label: string, fn: () => Promise<void>): Promise<void> => {
    if (stepIndex(name) < at) return;
    await recordedStep(topo, r, name, label, timed, null, locks, fn);
  };
  await run('journal', `write the journal on the ${K}/${from.join(',')} primaries`, () => writeJournal(topo, calls, r));
  await run('allow-target', `lift query_service_disabled on ${K}/${to.join(',')}`, () => queryService(topo, calls, K, to, false, locks));
  await run('route', `writes switched to ${to.join(',')} (primary partition, is_primary_serving)`, async () => {
    await topo.switchServedShards(K, 'primary', from, to, { lock: await heldLock(locks, K) });
    for (const shard of [...to, ...from]) await calls.refreshState(await primary(topo, K, shard));
  });
  await run('start-reverse', r.enableReverseReplication ? `start ${K}.${reverse} on ${from.join(',')}` : `leave ${K}.${reverse} stopped`, async () => {
    if (!r.enableReverseReplication) return;
    for (const f of await gatherStreams(topo, calls, K, reverse, from)) {
      if (f.streams.some((x) => x.state === 'Stopped')) await calls.vreplicationUpdate(f.tablet, { workflow: reverse, state: 'Running', message: '' });
    }
  });
  await run('freeze', `freeze ${K}.${r.workflow} on ${to.join(',')}`, async () => {
    for (const f of await gatherStreams(topo, calls, K, r.workflow, to)) await calls.vreplicationUpdate(f.tablet, { workflow: r.workflow, state: 'Stopped', message: 'FROZEN' });
  });
  await deleteSwitchRecord(topo, r);
}

/** Undoes a switch stopped before the journal: the reverse goes (or is frozen again), the streams run, `from` serves again. */
export async function shardRollBack(topo: TopoServer, calls: WorkflowTabletCalls, r: SwitchRecord, why: string, locks: SwitchLocks | null): Promise<string[]> {
  const K = r.sourceKeyspace;
  const from = fromOf(r);
  const to = toOf(r);
  const reverse = reverseWorkflowName(r.workflow);
  r.rollingBack = why;
  await writeSwitchRecord(topo, r);
  const at = stepIndex(r.step);
  const undo: string[] = [];
  if (at >= stepIndex('create-reverse')) {
    for (const shard of from) {
      const t = await primary(topo, K, shard);
      if (r.reverseExisted) {
        if ((await calls.vreplicationRead(t, reverse)).length > 0) await calls.vreplicationUpdate(t, { workflow: reverse, state: 'Stopped', message: 'FROZEN' });
      } else await calls.vreplicationDelete(t, reverse);
    }
    undo.push(r.reverseExisted ? `froze ${K}.${reverse} again` : `deleted ${K}.${reverse}`);
  }
  if (at >= stepIndex('stop-streams')) {
    for (const f of await gatherStreams(topo, calls, K, r.workflow, to)) await calls.vreplicationUpdate(f.tablet, { workflow: r.workflow, state: 'Running', message: '' });
    undo.push(`restarted ${K}.${r.workflow}`);
  }
  if (at >= stepIndex('deny')) {
    await queryService(topo, calls, K, from, false, locks);
    undo.push(`${K}/${from.join(',')} take writes again`);
  }
  await deleteSwitchRecord(topo, r);
  return undo;
}

export interface ShardSwitchRequest {
  readonly keyspace: string;
  /** The workflow the user named (the record's place). */
  readonly userWorkflow: string;
  /** The workflow whose streams (on `to`) catch up. */
  readonly workflow: string;
  readonly action: 'SwitchTraffic' | 'ReverseTraffic';
  readonly from: readonly string[];
  readonly to: readonly string[];
  readonly timeoutMs: number;
  readonly enableReverseReplication: boolean;
}

/** The write switch of a Reshard workflow; returns the write pause (query service stopped on `from` → `to` routed) in ms. */
export async function switchShardWrites(topo: TopoServer, calls: WorkflowTabletCalls, q: ShardSwitchRequest, timed: Timed): Promise<number> {
  const K = q.keyspace;
  const reverse = reverseWorkflowName(q.workflow);
  const locks = await takeLocks(topo, K, q.userWorkflow, [K], `${q.action}(${K}.${q.userWorkflow})`, topo.options.lockTimeoutMs);
  const guard = new LockGuard([locks.workflow, ...locks.keyspaces]);
  const fail = (head: string, e: StepError, tail: string) => new TesseraError(ER.UNKNOWN_ERROR, `${q.action} of ${K}.${q.userWorkflow} ${head} "${e.step}": ${(e.reason as Error).message ?? String(e.reason)}; ${tail}`);
  try {
    const prior = await readSwitchRecord(topo, K, q.userWorkflow);
    if (prior) {
      const res = await settle(topo, calls, prior, locks, 'found by the next switch');
      throw new TesseraError(ER.UNKNOWN_ERROR, `${q.action} of ${K}.${q.userWorkflow}: an interrupted switch was found and ${res.outcome === 'forward' ? 'finished' : 'rolled back'} first; run the command again`);
    }
    const catching = await gatherStreams(topo, calls, K, q.workflow, q.to);
    const reverseExisted = (await gatherStreams(topo, calls, K, reverse, q.from)).length > 0;
    const r = newSwitchRecord({
      kind: 'shards',
      action: q.action,
      userKeyspace: K,
      userWorkflow: q.userWorkflow,
      workflow: q.workflow,
      sourceKeyspace: K,
      targetKeyspace: K,
      tables: [],
      shards: [...q.from],
      toShards: [...q.to],
      partial: false,
      reverseExisted,
      enableReverseReplication: q.enableReverseReplication,
      initializeTargetSequences: false,
    });
    const step = <R>(name: SwitchStep, label: string, fn: () => Promise<R>): Promise<R> => recordedStep(topo, r, name, label, timed, guard, locks, fn);
    let pause = 0;
    try {
      await step('deny', `stopped writes on ${q.from.join(',')} (query_service_disabled)`, async () => {
        r.pauseStartMs = Date.now();
        await queryService(topo, calls, K, q.from, true, locks);
      });
      // A statement admitted before the refresh may still run, and a transaction opened before it
      // may still commit (COMMIT is not refused): LOCK TABLES … READ waits for both, as they hold
      // the tables' metadata locks until they end; twice, for a statement that took its lock
      // after the first.
      await step('drain', `waited for statements and transactions open on ${q.from.join(',')}`, async () => {
        for (const shard of q.from) {
          const t = await primary(topo, K, shard);
          const tables = (await calls.executeFetchAsDba(t, "SHOW FULL TABLES WHERE Table_type = 'BASE TABLE'")).rows.map((x) => String(x[0]));
          if (tables.length === 0) continue;
          const list = tables.map((x) => `${quoteIdent(x)} READ`).join(', ');
          for (let i = 0; i < 2; i++) await calls.executeFetchAsDba(t, `SET STATEMENT lock_wait_timeout = ${MOVETABLES_DEFAULTS.drainGraceSeconds} FOR LOCK TABLES ${list}`);
        }
      });
      const positions = await step('positions', `read the positions of the ${q.from.join(',')} primaries`, async () => {
        const m = new Map<string, string>();
        for (const shard of q.from) m.set(shard, await calls.primaryPosition(await primary(topo, K, shard)));
        return m;
      });
      await step('catch-up', `${q.to.join(',')} caught up`, async () => {
        const deadline = Date.now() + q.timeoutMs;
        await Promise.all(
          catching.flatMap((f) =>
            f.streams.map(async (s) => {
              const pos = positions.get(parseBinlogSource(s.source).shard);
              if (pos !== undefined) await calls.vreplicationWaitForPos(f.tablet, s.id, pos, Math.max(1, deadline - Date.now()));
            }),
          ),
        );
      });
      await step('stop-streams', `stopped ${K}.${q.workflow} on ${q.to.join(',')}`, async () => {
        for (const f of catching) await calls.vreplicationUpdate(f.tablet, { workflow: q.workflow, state: 'Stopped' });
      });
      await step('create-reverse', `created ${K}.${reverse} on ${q.from.join(',')}`, () => createReverse(topo, calls, q, reverse, reverseExisted, catching[0]?.streams[0]?.source));
    } catch (err) {
      const e = err instanceof StepError ? err : new StepError('switch writes', err);
      let undo: string[];
      try {
        undo = await shardRollBack(topo, calls, r, e.message, locks);
      } catch (u) {
        throw fail('failed at step', e, `rolling back failed too (${(u as Error).message}): the switch record stays in topo and the rollback is retried by the next command on the workflow and by the next ctld start`);
      }
      throw fail('failed at step', e, `rolled back${undo.length ? `: ${undo.join(', ')}` : ''}`);
    }
    try {
      r.step = 'journal';
      await shardForwardSteps(topo, calls, r, async (label, fn) => {
        const out = await timed(label, fn);
        if (r.step === 'route') pause = Date.now() - r.pauseStartMs;
        return out;
      }, locks);
    } catch (err) {
      const e = err instanceof StepError ? err : new StepError('journal', err);
      if (r.step === 'journal' && !(await journalWritten(topo, calls, r).catch(() => true))) {
        const undo = await shardRollBack(topo, calls, r, e.message, locks).catch(() => null);
        if (undo) throw fail('failed at step', e, `rolled back: ${undo.join(', ')}`);
        throw fail('failed at step', e, 'it could not roll back; the next command on the workflow or the next ctld start settles it');
      }
      throw fail(
        'failed at step',
        e,
        `it is after the point of no return (the journal is written on the ${K}/${q.from.join(',')} primaries): the switch goes forward: run the command again to finish it now (the next command on the workflow and the next ctld start finish it too)`,
      );
    }
    return pause;
  } finally {
    guard.stop();
    await locks.unlock();
  }
}

/**
 * The reverse workflow on the `from` primaries, stopped, from the `to` primaries' current
 * positions: a frozen one with exactly the right streams is moved in place (it never stops
 * existing, so a ctld dying here cannot lose it); any other shape is replaced.
 */
async function createReverse(topo: TopoServer, calls: WorkflowTabletCalls, q: ShardSwitchRequest, reverse: string, reverseExisted: boolean, forwardSource: string | undefined): Promise<void> {
  const K = q.keyspace;
  const toPos = new Map<string, string>();
  for (const shard of q.to) toPos.set(shard, await calls.primaryPosition(await primary(topo, K, shard)));
  const want = (shard: string) => q.to.filter((t) => keyRangesIntersect(parseShardName(shard), parseShardName(t))).sort();
  const existing = reverseExisted ? await gatherStreams(topo, calls, K, reverse, q.from) : [];
  const reusable =
    existing.length === q.from.length &&
    existing.every((f) => JSON.stringify(f.streams.map((x) => parseBinlogSource(x.source).shard).sort()) === JSON.stringify(want(f.shard)));
  if (reusable) {
    for (const f of existing) {
      for (const x of f.streams) await calls.vreplicationUpdate(f.tablet, { workflow: reverse, ids: [x.id], state: 'Stopped', message: '', pos: toPos.get(parseBinlogSource(x.source).shard)! });
    }
    return;
  }
  const onDdl = forwardSource ? parseBinlogSource(forwardSource).onDdl : 'IGNORE';
  for (const shard of q.from) {
    const t = await primary(topo, K, shard);
    await calls.vreplicationDelete(t, reverse);
    const streams: CreateStreamWire[] = want(shard).map((src) => ({
      workflow: reverse,
      source: formatBinlogSource({ keyspace: K, shard: src, filter: { rules: [{ match: '/.*', filter: shard }] }, onDdl }),
      cell: '',
      tabletTypes: ['primary'],
      state: 'Stopped',
      workflowType: WORKFLOW_TYPE.Reshard,
      workflowSubType: 0,
      deferSecondaryKeys: false,
      options: '{}',
      stopPos: '',
      pos: toPos.get(src)!,
      copyTables: [],
    }));
    if (streams.length > 0) await calls.vreplicationCreate(t, streams);
  }
}
