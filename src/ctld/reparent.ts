// Reparents, run by ctld under the shard lock: InitShardPrimary (a new shard gets its first
// primary), PlannedReparentShard (move a living primary, losing nothing), EmergencyReparentShard
// (the primary is dead: promote the most advanced survivor), and ShardReplicationPositions. Each
// step on a tablet is a call through ctx.tmc (src/tablet/replication.ts); this file decides the
// order, checks what must hold before each decisive step, and records the outcome in the topology.
// See docs/replication.md.
import { GtidPosition } from '../mysql/binlog/index.js';
import { ER, TesseraError } from '../mysql/errors.js';
import { logger } from '../log/index.js';
import { semiSyncFor, type FullStatus } from '../tablet/index.js';
import {
  isTopoError,
  parseKeyspaceShard,
  parseTabletAlias,
  tabletAliasEqual,
  tabletAliasString,
  topoError,
  type Json,
  type JsonObject,
  type Shard,
  type Tablet,
  type TopoLock,
} from '../topo/index.js';
import { optBool, optInt, optString, reqString, type CommandTable, type CtldContext } from './command.js';
import { aliasText, getTabletRecord } from './tablet-commands.js';

const log = logger('reparent');

export const REPARENT_DEFAULTS = {
  /** --wait-replicas-timeout: how long a new primary may take to catch up, or a survivor to apply its relay log. */
  waitReplicasTimeoutMs: 30_000,
  /** --demote-timeout (PlannedReparentShard): how long the old primary waits for transactions in flight. */
  demoteTimeoutMs: 10_000,
  /** Reaching one tablet for its status. */
  statusTimeoutMs: 5_000,
  /** Extra time given to an RPC over the work it waits for. */
  rpcSlackMs: 5_000,
};

interface ShardState {
  keyspace: string;
  shard: string;
  record: Shard;
  tablets: Tablet[];
  policy: string;
}

interface Reached {
  tablet: Tablet;
  status: FullStatus;
}

interface ReparentOutcome {
  keyspace: string;
  shard: string;
  primary: string;
  previous_primary: string | null;
  position: string;
  events: string[];
  warnings: string[];
}

async function loadShard(ctx: CtldContext, keyspace: string, shard: string): Promise<ShardState> {
  const { value: ks } = await ctx.topo.getKeyspace(keyspace);
  const { value: record } = await ctx.topo.getShard(keyspace, shard);
  const tablets = await ctx.topo.getTablets({ keyspace, shard });
  return { keyspace, shard, record, tablets, policy: ks.durability_policy };
}

function requireInShard(t: Tablet, keyspace: string, shard: string): void {
  if (t.keyspace !== keyspace || t.shard !== shard) {
    throw topoError('FAILED_PRECONDITION', `tablet ${aliasText(t)} is in ${t.keyspace}/${t.shard}, not in ${keyspace}/${shard}`);
  }
}

function same(a: Tablet, b: Tablet | null): boolean {
  return b !== null && tabletAliasEqual(a.alias, b.alias);
}

function pos(r: Reached): GtidPosition {
  return GtidPosition.parse(r.status.position);
}

/** Statuses of the given tablets in parallel; unreachable ones come back as errors. */
async function statuses(ctx: CtldContext, tablets: readonly Tablet[]): Promise<{ reached: Reached[]; failed: { tablet: Tablet; error: string }[] }> {
  const reached: Reached[] = [];
  const failed: { tablet: Tablet; error: string }[] = [];
  await Promise.all(
    tablets.map(async (t) => {
      try {
        reached.push({ tablet: t, status: await ctx.tmc.fullStatus(t, {}, { timeoutMs: REPARENT_DEFAULTS.statusTimeoutMs }) });
      } catch (err) {
        failed.push({ tablet: t, error: (err as Error).message });
      }
    }),
  );
  const byUid = (a: { tablet: Tablet }, b: { tablet: Tablet }) => a.tablet.alias.uid - b.tablet.alias.uid;
  return { reached: reached.sort(byUid), failed: failed.sort(byUid) };
}

/** The most advanced of `rs`: one whose position includes every other's; null if histories diverge. */
function mostAdvanced(rs: readonly Reached[]): Reached | null {
  for (const r of rs) if (rs.every((o) => pos(r).atLeast(pos(o)))) return r;
  return null;
}

/** Among `candidates`, the highest position (ties: lowest uid). */
function bestCandidate(candidates: readonly Reached[]): Reached | null {
  let best: Reached | null = null;
  for (const c of candidates) {
    if (best === null || (pos(c).atLeast(pos(best)) && !pos(best).atLeast(pos(c)))) best = c;
  }
  return best;
}

/** Under semi_sync a primary needs a replica to acknowledge; refuse a promotion that would leave none. */
function checkAckers(policy: string, newPrimary: Tablet, ackers: readonly Tablet[]): void {
  if (!semiSyncFor(policy, 'primary').primary) return;
  if (ackers.some((t) => !same(t, newPrimary) && t.type === 'replica')) return;
  throw topoError(
    'FAILED_PRECONDITION',
    `durability policy ${policy}: ${aliasText(newPrimary)} would have no tablet of type replica to acknowledge its writes (rdonly tablets never acknowledge), ` +
      'so every write would wait forever. Start another replica, or change the policy (SetKeyspaceDurabilityPolicy --durability-policy none).',
  );
}

/**
 * Points `others` at the new primary in parallel. Returns one message per tablet that could not be
 * pointed (unreachable, or holding transactions the primary lacks); the reparent itself stands.
 */
async function repoint(
  ctx: CtldContext,
  st: ShardState,
  primary: Tablet,
  primaryPosition: string,
  others: readonly { tablet: Tablet; becomes?: 'replica' }[],
  events: string[],
): Promise<string[]> {
  const problems: string[] = [];
  await Promise.all(
    others.map(async ({ tablet, becomes }) => {
      const type = becomes ?? tablet.type;
      try {
        await ctx.tmc.setReplicationSource(
          tablet,
          { host: primary.mysql_hostname, port: primary.mysql_port, semiSync: semiSyncFor(st.policy, type).replica, primaryPosition, tabletType: becomes },
          { timeoutMs: REPARENT_DEFAULTS.waitReplicasTimeoutMs },
        );
        events.push(`${aliasText(tablet)} (${type}) now replicates from ${aliasText(primary)}`);
      } catch (err) {
        problems.push(`${aliasText(tablet)} was not repointed: ${(err as Error).message}`);
      }
    }),
  );
  return problems.sort();
}

async function journal(ctx: CtldContext, primary: Tablet, action: string, position: string, timeoutMs: number): Promise<void> {
  await ctx.tmc.populateReparentJournal(primary, { actionName: action, primaryAlias: aliasText(primary), position, timeoutMs }, { timeoutMs: timeoutMs + REPARENT_DEFAULTS.rpcSlackMs });
}

async function promote(ctx: CtldContext, st: ShardState, lock: TopoLock, primary: Tablet, events: string[]): Promise<{ position: string; primary: Tablet }> {
  const term = new Date().toISOString();
  const { position } = await ctx.tmc.promoteReplica(primary, { semiSync: semiSyncFor(st.policy, 'primary').primary, primaryTermStartTime: term });
  events.push(`promoted ${aliasText(primary)} at ${position}`);
  killHook('after-promote');
  await lock.check();
  await ctx.topo.updateShardFields(st.keyspace, st.shard, (s) => {
    s.primary_alias = primary.alias;
    s.primary_term_start_time = term;
  });
  events.push(`shard ${st.keyspace}/${st.shard} record names ${aliasText(primary)} primary (term ${term})`);
  // It promoted itself before the shard record named it; now it may serve.
  await ctx.tmc.refreshState(primary, {});
  return { position, primary: (await ctx.topo.getTablet(primary.alias)).value };
}

/**
 * PlannedReparentShard's promotion, once the old primary is demoted and the new one caught up. A
 * promotion that fails — the new primary's tablet or MariaDB died under it, so it may or may not
 * have happened — is tried again (it is idempotent) while the tablet comes back (its supervisor
 * and its MariaDB keeper restart them), for up to `timeoutMs`: rolling forward, because a
 * promotion that went through has written on the new primary what the old one lacks, so the new
 * one could not follow the old one again. When the shard record already names the new primary,
 * only what followed failed: the reparent stands. Otherwise, after the time is up, the old
 * primary's demotion is undone, so that the shard is never left without a serving primary.
 */
async function promoteOrUndo(
  ctx: CtldContext,
  st: ShardState,
  lock: TopoLock,
  old: Tablet,
  newPrimary: Tablet,
  /** The old primary's position at its demotion, which the new one had reached before its promotion. */
  caughtUpTo: string,
  events: string[],
  warnings: string[],
  timeoutMs: number,
): Promise<{ position: string; primary: Tablet }> {
  const end = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await promote(ctx, st, lock, newPrimary, events);
    } catch (err) {
      const why = (err as Error).message;
      // The shard lock lost or the topology failing: nothing more is done under this lock.
      const topoFailed = isTopoError(err);
      const { value: shard } = await ctx.topo.getShard(st.keyspace, st.shard);
      if (shard.primary_alias !== null && tabletAliasEqual(shard.primary_alias, newPrimary.alias)) {
        warnings.push(`${aliasText(newPrimary)} is the shard's primary, but telling it so failed (${why}); it serves once it refreshes its state`);
        const rec = (await ctx.topo.getTablet(newPrimary.alias)).value;
        // Unreachable, it has at least what it caught up to: the position the old primary, which
        // has exactly that, is checked against when it is repointed.
        const position = await ctx.tmc.primaryPosition(rec, {}).then((p) => p.position, () => caughtUpTo);
        return { position, primary: rec };
      }
      if (!topoFailed && Date.now() < end) {
        events.push(`promoting ${aliasText(newPrimary)} failed (attempt ${attempt}: ${why}); trying again while it comes back`);
        log.warn({ keyspace: st.keyspace, shard: st.shard, tablet: aliasText(newPrimary), attempt, err: why }, 'PlannedReparentShard: promotion failed; trying again');
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      // The promotion may have gone through on the new primary before it failed: recorded as a
      // replica again, so that it follows the old primary when it comes back (syncWithShard in
      // src/tablet/replication.ts) instead of waiting as a primary the shard record never names.
      await ctx.topo
        .updateTabletFields(newPrimary.alias, (t) => {
          if (t.type !== 'primary') return false;
          t.type = 'replica';
          t.primary_term_start_time = null;
        })
        .catch((e: Error) => warnings.push(`recording ${aliasText(newPrimary)} as a replica again failed: ${e.message}`));
      const undo = await ctx.tmc.undoDemotePrimary(old, { semiSync: semiSyncFor(st.policy, 'primary').primary }).then(
        () => `${aliasText(old)} is primary and writable again`,
        (e: Error) => `undoing the demotion of ${aliasText(old)} failed too (${e.message}): the shard has no serving primary; run PlannedReparentShard again, or EmergencyReparentShard`,
      );
      throw new TesseraError(
        ER.UNKNOWN_ERROR,
        `PlannedReparentShard: promoting ${aliasText(newPrimary)} failed (${why}) and did not succeed within ${timeoutMs} ms (--wait-replicas-timeout); ${undo}. ` +
          `If the promotion went through on ${aliasText(newPrimary)}, it refuses to follow ${aliasText(old)} again (its health says which transactions it has of its own): rebuild it from a backup`,
        { cause: err },
      );
    }
  }
}

async function refreshAll(ctx: CtldContext, tablets: readonly Tablet[], warnings: string[]): Promise<void> {
  await Promise.all(
    tablets.map((t) =>
      ctx.tmc.refreshState(t, {}, { timeoutMs: REPARENT_DEFAULTS.statusTimeoutMs }).catch((err: Error) => {
        warnings.push(`RefreshState: ${err.message}`);
      }),
    ),
  );
}

/**
 * Test hook (TESSERA_TEST_KILL_CTLD_IN_REPARENT=<step>, read here and nowhere else): the ctld
 * process dies (SIGKILL) at that step of a reparent — `after-demote` (PlannedReparentShard: the old
 * primary demoted, nobody promoted yet), `after-promote` (the new primary promoted, the shard
 * record not yet written) —, so tests can leave a reparent exactly there, as
 * a crash of ctld would (the tablet's shard sync then finishes it: src/tablet/shard-sync.ts).
 */
function killHook(step: string): void {
  if (process.env.TESSERA_TEST_KILL_CTLD_IN_REPARENT !== step) return;
  process.stderr.write(`test hook: killing ctld process ${process.pid} at reparent step ${step}\n`);
  process.kill(process.pid, 'SIGKILL');
  // The signal is on its way; nothing more of the reparent may run before it lands.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10_000);
}

// ---- InitShardPrimary ------------------------------------------------------------------------

export async function initShardPrimary(
  ctx: CtldContext,
  o: { keyspace: string; shard: string; primary: string; force: boolean; waitReplicasTimeoutMs: number },
): Promise<ReparentOutcome> {
  const elected = await getTabletRecord(ctx, o.primary);
  requireInShard(elected, o.keyspace, o.shard);
  return ctx.topo.withShardLock(o.keyspace, o.shard, `InitShardPrimary(${aliasText(elected)})`, async (lock) => {
    const st = await loadShard(ctx, o.keyspace, o.shard);
    const events: string[] = [];
    const warnings: string[] = [];
    const current = st.record.primary_alias;
    if (current !== null && !o.force) {
      throw topoError(
        'FAILED_PRECONDITION',
        `shard ${o.keyspace}/${o.shard} already has primary ${tabletAliasString(current)}: use PlannedReparentShard to move it, or --force to initialize again`,
      );
    }
    const { reached, failed } = await statuses(ctx, st.tablets);
    if (failed.length > 0) {
      const msg = failed.map((f) => `  ${f.error}`).join('\n');
      if (!o.force || failed.some((f) => same(f.tablet, elected))) {
        throw topoError('FAILED_PRECONDITION', `InitShardPrimary needs every tablet of ${o.keyspace}/${o.shard} reachable${o.force ? ' (the elected one at least)' : ' (or --force)'}:\n${msg}`);
      }
      warnings.push(`skipped unreachable tablets (--force); they follow the primary when they restart:\n${msg}`);
    }
    const electedStatus = reached.find((r) => same(r.tablet, elected)) as Reached;
    const others = reached.filter((r) => !same(r.tablet, elected));
    checkAckers(st.policy, elected, others.map((r) => r.tablet));
    // A tablet whose history the elected one lacks would diverge: only --force resets it.
    for (const r of others) {
      if (pos(electedStatus).atLeast(pos(r))) continue;
      if (!o.force) {
        throw topoError(
          'FAILED_PRECONDITION',
          `${aliasText(r.tablet)} has transactions ${aliasText(elected)} lacks (${r.status.position} vs ${electedStatus.status.position}); ` +
            'InitShardPrimary is for new shards. Use PlannedReparentShard, or --force to wipe its replication history (RESET MASTER; its data stays as it is)',
        );
      }
      await ctx.tmc.resetReplication(r.tablet, { resetBinlogs: true });
      warnings.push(`${aliasText(r.tablet)} had transactions ${aliasText(elected)} lacks; its binlogs and GTID history were reset (--force), its data was not`);
    }
    const { position, primary } = await promote(ctx, st, lock, elected, events);
    const problems = await repoint(ctx, st, primary, position, others.map((r) => ({ tablet: r.tablet })), events);
    if (problems.length === 0) {
      await journal(ctx, primary, 'InitShardPrimary', position, o.waitReplicasTimeoutMs);
      events.push('reparent journal written');
    }
    await refreshAll(ctx, others.map((r) => r.tablet), warnings);
    try {
      await ctx.topo.rebuildKeyspaceGraph(o.keyspace);
      events.push(`serving graph of ${o.keyspace} rebuilt`);
    } catch (err) {
      warnings.push(`serving graph not rebuilt: ${(err as Error).message}`);
    }
    if (problems.length > 0) {
      throw new TesseraError(ER.UNKNOWN_ERROR, `${aliasText(primary)} is primary of ${o.keyspace}/${o.shard}, but:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    }
    log.info({ keyspace: o.keyspace, shard: o.shard, primary: aliasText(primary), position }, 'InitShardPrimary done');
    return { keyspace: o.keyspace, shard: o.shard, primary: aliasText(primary), previous_primary: null, position, events, warnings };
  });
}

// ---- PlannedReparentShard --------------------------------------------------------------------

export async function plannedReparentShard(
  ctx: CtldContext,
  o: { keyspace: string; shard: string; newPrimary: string; avoidPrimary: string; waitReplicasTimeoutMs: number; demoteTimeoutMs: number },
): Promise<ReparentOutcome> {
  const named = o.newPrimary !== '' ? await getTabletRecord(ctx, o.newPrimary) : null;
  if (named) requireInShard(named, o.keyspace, o.shard);
  const avoid = o.avoidPrimary !== '' ? parseTabletAlias(o.avoidPrimary) : null;
  return ctx.topo.withShardLock(o.keyspace, o.shard, `PlannedReparentShard(${o.newPrimary || 'any'})`, async (lock) => {
    const st = await loadShard(ctx, o.keyspace, o.shard);
    const events: string[] = [];
    const warnings: string[] = [];
    if (st.record.primary_alias === null) {
      throw topoError('FAILED_PRECONDITION', `shard ${o.keyspace}/${o.shard} has no primary: use InitShardPrimary for a new shard`);
    }
    const old = st.tablets.find((t) => tabletAliasEqual(t.alias, st.record.primary_alias));
    if (!old) throw topoError('FAILED_PRECONDITION', `the primary recorded for ${o.keyspace}/${o.shard} is not among its tablets; use EmergencyReparentShard`);
    if (named && same(named, old)) {
      events.push(`${aliasText(old)} is already the primary; nothing to do`);
      return { keyspace: o.keyspace, shard: o.shard, primary: aliasText(old), previous_primary: aliasText(old), position: '', events, warnings };
    }
    if (!named && avoid && !tabletAliasEqual(old.alias, avoid)) {
      // As Vitess: --avoid-primary asks to move the primary only away from that tablet.
      events.push(`${aliasText(old)} is the primary, not ${o.avoidPrimary}; nothing to do`);
      return { keyspace: o.keyspace, shard: o.shard, primary: aliasText(old), previous_primary: aliasText(old), position: '', events, warnings };
    }
    const { reached, failed } = await statuses(ctx, st.tablets);
    const oldReached = reached.find((r) => same(r.tablet, old));
    if (!oldReached) {
      const why = failed.find((f) => same(f.tablet, old))?.error ?? 'unreachable';
      throw topoError('FAILED_PRECONDITION', `PlannedReparentShard needs the current primary: ${why}. If it is dead, use EmergencyReparentShard ${o.keyspace}/${o.shard}`);
    }
    for (const f of failed) warnings.push(`${f.error} (it follows the new primary when it restarts)`);
    let chosen: Reached | undefined;
    if (named) {
      chosen = reached.find((r) => same(r.tablet, named));
      if (!chosen) throw topoError('FAILED_PRECONDITION', `the new primary ${aliasText(named)} is unreachable: ${failed.find((f) => same(f.tablet, named))?.error ?? ''}`);
      if (named.type !== 'replica') throw topoError('FAILED_PRECONDITION', `${aliasText(named)} is ${named.type}; only a tablet of type replica can become primary`);
    } else {
      const candidates = reached.filter((r) => r.tablet.type === 'replica' && !same(r.tablet, old) && !(avoid && tabletAliasEqual(r.tablet.alias, avoid)));
      chosen = bestCandidate(candidates) ?? undefined;
      if (!chosen) throw topoError('FAILED_PRECONDITION', `no reachable tablet of type replica in ${o.keyspace}/${o.shard} can become primary`);
      events.push(`chose ${aliasText(chosen.tablet)}, the most caught-up replica (${chosen.status.position})`);
    }
    const newPrimary = chosen.tablet;
    // The old primary becomes a replica, so it counts as an acknowledger.
    checkAckers(st.policy, newPrimary, reached.map((r) => (same(r.tablet, old) ? { ...r.tablet, type: 'replica' as const } : r.tablet)));

    const { position: oldPosition, drained } = await ctx.tmc.demotePrimary(old, { timeoutMs: o.demoteTimeoutMs }, { timeoutMs: o.demoteTimeoutMs + REPARENT_DEFAULTS.rpcSlackMs });
    events.push(`demoted ${aliasText(old)}: read-only at ${oldPosition}`);
    killHook('after-demote');
    if (!drained) warnings.push(`transactions still open on ${aliasText(old)} after ${o.demoteTimeoutMs} ms were not committed (read_only)`);
    try {
      await ctx.tmc.waitForPosition(newPrimary, { position: oldPosition, timeoutMs: o.waitReplicasTimeoutMs }, { timeoutMs: o.waitReplicasTimeoutMs + REPARENT_DEFAULTS.rpcSlackMs });
    } catch (err) {
      await ctx.tmc.undoDemotePrimary(old, { semiSync: semiSyncFor(st.policy, 'primary').primary }).catch((e: Error) => {
        warnings.push(`undoing the demotion failed: ${e.message}`);
      });
      throw new TesseraError(
        ER.LOCK_WAIT_TIMEOUT,
        `PlannedReparentShard: ${aliasText(newPrimary)} did not catch up with ${aliasText(old)} (${oldPosition}) within ${o.waitReplicasTimeoutMs} ms ` +
          `(${(err as Error).message}); ${aliasText(old)} is primary and writable again`,
        { cause: err },
      );
    }
    events.push(`${aliasText(newPrimary)} caught up to ${oldPosition}`);
    const { position, primary } = await promoteOrUndo(ctx, st, lock, old, newPrimary, oldPosition, events, warnings, o.waitReplicasTimeoutMs);
    const others = reached.filter((r) => !same(r.tablet, newPrimary)).map((r) => (same(r.tablet, old) ? { tablet: r.tablet, becomes: 'replica' as const } : { tablet: r.tablet }));
    const problems = await repoint(ctx, st, primary, position, others, events);
    warnings.push(...problems);
    await journal(ctx, primary, 'PlannedReparentShard', position, o.waitReplicasTimeoutMs);
    events.push('reparent journal written');
    log.info({ keyspace: o.keyspace, shard: o.shard, from: aliasText(old), to: aliasText(primary), position }, 'PlannedReparentShard done');
    return { keyspace: o.keyspace, shard: o.shard, primary: aliasText(primary), previous_primary: aliasText(old), position, events, warnings };
  });
}

// ---- EmergencyReparentShard ------------------------------------------------------------------

export async function emergencyReparentShard(
  ctx: CtldContext,
  o: { keyspace: string; shard: string; newPrimary: string; waitReplicasTimeoutMs: number },
): Promise<ReparentOutcome & { durability_policy: string; tablet_positions: Record<string, string>; may_be_missing: string }> {
  const named = o.newPrimary !== '' ? await getTabletRecord(ctx, o.newPrimary) : null;
  if (named) requireInShard(named, o.keyspace, o.shard);
  return ctx.topo.withShardLock(o.keyspace, o.shard, `EmergencyReparentShard(${o.newPrimary || 'any'})`, async (lock) => {
    const st = await loadShard(ctx, o.keyspace, o.shard);
    const events: string[] = [];
    const warnings: string[] = [];
    const old = st.record.primary_alias === null ? null : (st.tablets.find((t) => tabletAliasEqual(t.alias, st.record.primary_alias)) ?? null);
    if (named && same(named, old)) throw topoError('FAILED_PRECONDITION', `${aliasText(named)} is the primary being replaced; name another --new-primary`);

    // A primary that still answers is fenced first (read-only), so it cannot accept more writes;
    // then it counts like any other survivor.
    const reached: Reached[] = [];
    if (old) {
      try {
        await ctx.tmc.demotePrimary(old, { timeoutMs: 0 }, { timeoutMs: REPARENT_DEFAULTS.statusTimeoutMs });
        reached.push({ tablet: old, status: await ctx.tmc.fullStatus(old, {}, { timeoutMs: REPARENT_DEFAULTS.statusTimeoutMs }) });
        events.push(`old primary ${aliasText(old)} still answered: made read-only`);
      } catch (err) {
        events.push(`old primary ${aliasText(old)} is unreachable: ${(err as Error).message}`);
      }
    }
    // Every survivor stops receiving and applies what its relay log holds.
    const unreachable: string[] = [];
    await Promise.all(
      st.tablets
        .filter((t) => !same(t, old))
        .map(async (t) => {
          try {
            const s = await ctx.tmc.stopReplicationAndApplyRelay(t, { timeoutMs: o.waitReplicasTimeoutMs }, { timeoutMs: o.waitReplicasTimeoutMs + REPARENT_DEFAULTS.rpcSlackMs });
            reached.push({ tablet: t, status: s });
          } catch (err) {
            unreachable.push(`${aliasText(t)}: ${(err as Error).message}`);
          }
        }),
    );
    reached.sort((a, b) => a.tablet.alias.uid - b.tablet.alias.uid);
    for (const u of unreachable.sort()) warnings.push(`left out: ${u}`);
    const tabletPositions: Record<string, string> = {};
    for (const r of reached) tabletPositions[aliasText(r.tablet)] = r.status.position;
    const listing = () => reached.map((r) => `  ${aliasText(r.tablet)} (${r.tablet.type}): ${r.status.position}`).join('\n');

    // A refusal changes nothing: a fenced old primary that answers takes writes again and the
    // survivors resume replicating (otherwise the shard would be left without a serving primary).
    const undoOnRefusal = async (err: unknown): Promise<never> => {
      if (old && reached.some((r) => same(r.tablet, old))) {
        await ctx.tmc.undoDemotePrimary(old, { semiSync: semiSyncFor(st.policy, 'primary').primary }).catch((e: Error) => log.warn({ err: e.message }, 'EmergencyReparentShard refused: undoing the fence of the old primary failed'));
      }
      await Promise.all(
        reached
          .filter((r) => !same(r.tablet, old))
          .map((r) =>
            ctx.tmc
              .startReplication(r.tablet, { semiSync: semiSyncFor(st.policy, r.tablet.type).replica })
              .catch((e: Error) => log.warn({ tablet: aliasText(r.tablet), err: e.message }, 'EmergencyReparentShard refused: restarting replication failed')),
          ),
      );
      throw err;
    };
    const decide = async (): Promise<{ candidate: Tablet; best: Reached }> => {
      // Nobody answered (the shard's only tablet is the dead primary, or every replica is down): say
      // so, rather than comparing no histories.
      if (!reached.some((r) => !same(r.tablet, old))) {
        throw topoError(
          'FAILED_PRECONDITION',
          `EmergencyReparentShard: no safe candidate in ${o.keyspace}/${o.shard}: no reachable tablet of type replica${unreachable.length ? ` (${unreachable.sort().join('; ')})` : ' (the shard has no other tablet)'}`,
        );
      }
      const best = mostAdvanced(reached);
      if (best === null) {
        throw topoError(
          'FAILED_PRECONDITION',
          `EmergencyReparentShard: no safe candidate in ${o.keyspace}/${o.shard}: the survivors' histories diverge (no tablet has every transaction the others have):\n${listing() || '  (none reachable)'}`,
        );
      }
      const promotable = reached.filter((r) => r.tablet.type === 'replica' && !same(r.tablet, old));
      let chosen: Reached | undefined;
      if (named) {
        chosen = promotable.find((r) => same(r.tablet, named));
        if (!chosen) {
          throw topoError(
            'FAILED_PRECONDITION',
            `EmergencyReparentShard: ${aliasText(named)} cannot be promoted: ${named.type !== 'replica' ? `it is ${named.type}, only replicas can` : 'it did not answer or could not apply its relay log'}`,
          );
        }
      } else {
        chosen = bestCandidate(promotable) ?? undefined;
        if (!chosen) {
          throw topoError('FAILED_PRECONDITION', `EmergencyReparentShard: no safe candidate in ${o.keyspace}/${o.shard}: no reachable tablet of type replica\n${listing() || '  (none reachable)'}`);
        }
      }
      const candidate = chosen.tablet;
      // A fenced old primary becomes a replica, so it acknowledges too.
      checkAckers(st.policy, candidate, reached.map((r) => (same(r.tablet, old) ? { ...r.tablet, type: 'replica' as const } : r.tablet)));

      // The candidate must not lose what another survivor has: if one (an rdonly, or a fenced old
      // primary) is further, the candidate first replicates from it up to its position.
      if (!pos(chosen).atLeast(pos(best))) {
        events.push(`${aliasText(candidate)} (${chosen.status.position}) catches up from ${aliasText(best.tablet)} (${best.status.position}) first`);
        try {
          const waitOpts = { timeoutMs: o.waitReplicasTimeoutMs + REPARENT_DEFAULTS.rpcSlackMs };
          await ctx.tmc.setReplicationSource(candidate, { host: best.tablet.mysql_hostname, port: best.tablet.mysql_port, semiSync: false });
          await ctx.tmc.waitForPosition(candidate, { position: best.status.position, timeoutMs: o.waitReplicasTimeoutMs }, waitOpts);
          await ctx.tmc.stopReplicationAndApplyRelay(candidate, { timeoutMs: o.waitReplicasTimeoutMs }, waitOpts);
        } catch (err) {
          throw topoError(
            'FAILED_PRECONDITION',
            `EmergencyReparentShard: no safe candidate: ${aliasText(candidate)} could not catch up with ${aliasText(best.tablet)}, which has transactions it lacks: ${(err as Error).message}`,
          );
        }
      }
      return { candidate, best };
    };
    const { candidate, best } = await decide().catch(undoOnRefusal);

    const { position, primary } = await promote(ctx, st, lock, candidate, events);
    if (old) {
      await ctx.topo.updateTabletFields(old.alias, (t) => {
        t.type = 'replica';
        t.primary_term_start_time = null;
      });
      events.push(`old primary ${aliasText(old)} recorded as replica; it rejoins as one when it comes back`);
    }
    const others = reached.filter((r) => !same(r.tablet, candidate)).map((r) => (same(r.tablet, old) ? { tablet: r.tablet, becomes: 'replica' as const } : { tablet: r.tablet }));
    warnings.push(...(await repoint(ctx, st, primary, position, others, events)));
    await journal(ctx, primary, 'EmergencyReparentShard', position, o.waitReplicasTimeoutMs);
    events.push('reparent journal written');

    const oldAlive = old !== null && reached.some((r) => same(r.tablet, old));
    let mayBeMissing = '';
    if (old && !oldAlive) {
      if (semiSyncFor(st.policy, 'primary').primary) {
        events.push(
          `durability policy ${st.policy}: every transaction ${aliasText(old)} acknowledged to a client reached a replica and is on ${aliasText(primary)}`,
        );
      } else {
        mayBeMissing =
          `transactions ${aliasText(old)} committed after ${best.status.position} (the furthest any survivor received), ` +
          `in domain(s) ${GtidPosition.parse(best.status.position).gtids.map((g) => g.domain).join(',') || '0'}`;
        warnings.push(
          `durability policy ${st.policy}: ${mayBeMissing} may be missing from ${aliasText(primary)}. If ${aliasText(old)} comes back with any, ` +
            'they are errant: it stays read-only and refuses to replicate, and its health says which GTIDs.',
        );
      }
    }
    log.info({ keyspace: o.keyspace, shard: o.shard, to: aliasText(primary), position }, 'EmergencyReparentShard done');
    return {
      keyspace: o.keyspace,
      shard: o.shard,
      primary: aliasText(primary),
      previous_primary: old ? aliasText(old) : null,
      position,
      durability_policy: st.policy,
      tablet_positions: tabletPositions,
      may_be_missing: mayBeMissing,
      events,
      warnings,
    };
  });
}

// ---- the commands ----------------------------------------------------------------------------

function json(v: unknown): Json {
  return v as Json;
}

/** `customer/-80` positional, or `--keyspace-shard`/`--keyspace_shard` (the seeds' form). */
function keyspaceShard(req: JsonObject): { keyspace: string; shard: string } {
  const text = optString(req, 'keyspace_shard');
  if (text === '') throw topoError('BAD_ARGUMENT', "'keyspace_shard' is required: <keyspace>/<shard> or --keyspace-shard");
  return parseKeyspaceShard(text);
}

export const REPARENT_COMMANDS: CommandTable = {
  InitShardPrimary: {
    readOnly: false,
    summary: 'InitShardPrimary [--force] [--wait-replicas-timeout ms] <keyspace/shard> <primary alias>',
    async run(ctx, req) {
      const { keyspace, shard } = keyspaceShard(req);
      return json(
        await initShardPrimary(ctx, {
          keyspace,
          shard,
          primary: reqString(req, 'primary'),
          force: optBool(req, 'force'),
          waitReplicasTimeoutMs: optInt(req, 'wait_replicas_timeout_ms', REPARENT_DEFAULTS.waitReplicasTimeoutMs),
        }),
      );
    },
  },
  PlannedReparentShard: {
    readOnly: false,
    summary: 'PlannedReparentShard [--new-primary alias] [--avoid-primary alias] [--wait-replicas-timeout ms] <keyspace/shard>',
    async run(ctx, req) {
      const { keyspace, shard } = keyspaceShard(req);
      return json(
        await plannedReparentShard(ctx, {
          keyspace,
          shard,
          newPrimary: optString(req, 'new_primary'),
          avoidPrimary: optString(req, 'avoid_primary'),
          waitReplicasTimeoutMs: optInt(req, 'wait_replicas_timeout_ms', REPARENT_DEFAULTS.waitReplicasTimeoutMs),
          demoteTimeoutMs: optInt(req, 'demote_timeout_ms', REPARENT_DEFAULTS.demoteTimeoutMs),
        }),
      );
    },
  },
  EmergencyReparentShard: {
    readOnly: false,
    summary: 'EmergencyReparentShard [--new-primary alias] [--wait-replicas-timeout ms] <keyspace/shard>',
    async run(ctx, req) {
      const { keyspace, shard } = keyspaceShard(req);
      return json(
        await emergencyReparentShard(ctx, {
          keyspace,
          shard,
          newPrimary: optString(req, 'new_primary'),
          waitReplicasTimeoutMs: optInt(req, 'wait_replicas_timeout_ms', REPARENT_DEFAULTS.waitReplicasTimeoutMs),
        }),
      );
    },
  },
  ShardReplicationPositions: {
    readOnly: true,
    summary: 'ShardReplicationPositions <keyspace/shard>',
    async run(ctx, req) {
      const { keyspace, shard } = keyspaceShard(req);
      await ctx.topo.getShard(keyspace, shard);
      const { reached, failed } = await statuses(ctx, await ctx.topo.getTablets({ keyspace, shard }));
      const replicationStatuses: Record<string, unknown> = {};
      const tabletMap: Record<string, unknown> = {};
      const errors: Record<string, string> = {};
      for (const r of reached) {
        const rep = r.status.replication;
        replicationStatuses[aliasText(r.tablet)] = {
          tablet_type: r.status.tablet_type,
          position: r.status.position,
          read_only: r.status.read_only,
          source: rep ? `${rep.source_host}:${rep.source_port}` : '',
          io_running: rep?.io_running ?? false,
          sql_running: rep?.sql_running ?? false,
          lag_seconds: r.status.tablet_type === 'primary' ? 0 : (rep?.lag_seconds ?? null),
          last_error: rep ? [rep.last_io_error, rep.last_sql_error].filter((e) => e !== '').join('; ') : '',
          semi_sync_primary_active: r.status.semi_sync_primary_active,
          semi_sync_replica_enabled: r.status.semi_sync_replica_enabled,
        };
        tabletMap[aliasText(r.tablet)] = r.tablet;
      }
      for (const f of failed) {
        errors[aliasText(f.tablet)] = f.error;
        tabletMap[aliasText(f.tablet)] = f.tablet;
      }
      return json({ replication_statuses: replicationStatuses, tablet_map: tabletMap, errors });
    },
  },
  SetKeyspaceDurabilityPolicy: {
    readOnly: false,
    summary: 'SetKeyspaceDurabilityPolicy --durability-policy none|semi_sync <keyspace>',
    async run(ctx, req) {
      const keyspace = reqString(req, 'keyspace');
      const policy = reqString(req, 'durability_policy');
      if (!['none', 'semi_sync', 'cross_cell'].includes(policy)) {
        throw topoError('BAD_ARGUMENT', `unknown durability policy '${policy}' (want none, semi_sync or cross_cell)`);
      }
      const ks = await ctx.topo.updateKeyspaceFields(keyspace, (k) => {
        k.durability_policy = policy;
      });
      // Running tablets take the new semi-sync settings now; stopped ones when they rejoin.
      const warnings: string[] = [];
      await Promise.all(
        (await ctx.topo.getTablets({ keyspace })).map(async (t) => {
          const want = semiSyncFor(policy, t.type);
          await ctx.tmc.setSemiSync(t, { primary: want.primary, replica: want.replica }, { timeoutMs: REPARENT_DEFAULTS.statusTimeoutMs }).catch((err: Error) => {
            warnings.push(err.message);
          });
        }),
      );
      return json({ keyspace: ks, warnings: warnings.sort() });
    },
  },
};

/** The seeds' spellings. */
export const REPARENT_COMMAND_ALIASES: Readonly<Record<string, string>> = {
  InitShardMaster: 'InitShardPrimary',
};
