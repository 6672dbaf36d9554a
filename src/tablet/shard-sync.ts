// The tablet's side of keeping its shard record right when the reparent that should have written it
// died (as Vitess's shard sync loop, go/vt/vttablet/tabletmanager/shard_sync.go, for behaviour).
// Run by the refresh loop (tablet-manager.ts), every refresh:
//
// - Claim: this tablet is primary (its record and its state) with a term start time later than the
//   shard record's, and the shard names another tablet: a reparent promoted it and did not write
//   the shard record (ctld was killed between the two). It writes itself into the shard record
//   (compare-and-swap, the term re-checked inside) and serves.
// - Follow: this tablet is primary in its state, but its record no longer says primary (a reparent
//   gave up on it and recorded it replica), or the shard names another tablet with a term at least
//   as late as its own (it was demoted, or replaced while away): it rejoins the shard as the start-up
//   rule does (replication.ts, syncWithShard), as a replica of the shard's primary. A replica that
//   replicates from another tablet of its shard than the shard's primary (the old primary a dead
//   reparent never moved it from) is repointed the same way.
// - Lift: this tablet is a demoted primary that the shard still names, demoted longer than
//   `demotedGraceMs` ago, and no tablet of the shard is recorded primary with a later term: the
//   reparent that demoted it died before promoting anyone; it is writable and serving again.
//
// ctld's own writes stay the normal path: every action here is taken only under the shard lock,
// which a living reparent holds from before it demotes until after it has written the shard record
// and repointed the tablets; so the tablet acts only on what a reparent left when it ended, and
// whatever ctld decided (written the record, or recorded the new primary replica again and undone
// the demotion) is what the tablet reads once it gets the lock. A dead ctld's lock is broken by the
// next taker when it ran on this host, or frees when its lease runs out (docs/topo.md).
import { logger } from '../log/index.js';
import { isTopoError, tabletAliasEqual, tabletAliasString, type Shard, type Tablet, type TopoLock } from '../topo/index.js';
import type { TabletManager } from './tablet-manager.js';

const log = logger('shard-sync');

export const SHARD_SYNC_DEFAULTS = {
  /** How long the tablet waits for the shard lock; a reparent holding it longer is left alone until the next refresh. */
  lockTimeoutMs: 2_000,
  /**
   * How long a demoted primary the shard still names waits before lifting its own demotion: a
   * promotion a dying ctld sent just before it died may still be running on the new primary (it
   * then claims the shard instead, and this tablet follows it).
   */
  demotedGraceMs: 15_000,
};

type Decision = 'claim' | 'follow' | 'lift' | null;

/** Whether term start time `a` is later than `b` (a set; b null counts as earliest). */
function laterTerm(a: string | null, b: string | null): boolean {
  if (a === null) return false;
  return b === null || Date.parse(a) > Date.parse(b);
}

function names(shard: Shard, t: Tablet): boolean {
  return shard.primary_alias !== null && tabletAliasEqual(shard.primary_alias, t.alias);
}

export class ShardSync {
  constructor(
    private readonly tm: TabletManager,
    private readonly opts: typeof SHARD_SYNC_DEFAULTS = { ...SHARD_SYNC_DEFAULTS },
  ) {}

  private get alias(): string {
    return this.tm.server.alias;
  }

  /**
   * What this tablet has to do about its shard record, from its own record, its state and the
   * shard record (read again under the lock before acting).
   */
  private async decide(me: Tablet, shard: Shard): Promise<Decision> {
    const tm = this.tm;
    const state = tm.server.tabletType;
    if (state === 'primary') {
      if (me.type === 'primary' && !names(shard, me) && laterTerm(me.primary_term_start_time, shard.primary_term_start_time)) {
        return shard.primary_alias === null ? null : 'claim'; // no primary at all: start-up's rule
      }
      if (me.type !== 'primary' || (shard.primary_alias !== null && !names(shard, me))) return 'follow';
      if (names(shard, me) && tm.demoted && tm.demotedAt !== null && Date.now() - tm.demotedAt >= this.opts.demotedGraceMs) {
        const tablets = await tm.topo.getTablets({ keyspace: me.keyspace, shard: me.shard });
        const later = tablets.some((t) => !tabletAliasEqual(t.alias, me.alias) && t.type === 'primary' && laterTerm(t.primary_term_start_time, shard.primary_term_start_time));
        return later ? null : 'lift';
      }
      return null;
    }
    if ((state === 'replica' || state === 'rdonly') && shard.primary_alias !== null && !names(shard, me) && !tm.replication.operatorStopped) {
      const s = await tm.replication.status().catch(() => null);
      if (s === null) return null;
      const primary = (await tm.topo.getTablet(shard.primary_alias)).value;
      if (s.source_host === primary.mysql_hostname && s.source_port === primary.mysql_port) return null;
      // Only a source that is another tablet of this shard: a source set by hand elsewhere is the operator's.
      const tablets = await tm.topo.getTablets({ keyspace: me.keyspace, shard: me.shard });
      const fromSibling = tablets.some((t) => !tabletAliasEqual(t.alias, me.alias) && t.mysql_hostname === s.source_host && t.mysql_port === s.source_port);
      return fromSibling ? 'follow' : null;
    }
    return null;
  }

  private async read(): Promise<{ me: Tablet; shard: Shard }> {
    const tm = this.tm;
    const me = (await tm.topo.getTablet(tm.record.alias)).value;
    const shard = (await tm.topo.getShard(me.keyspace, me.shard)).value;
    return { me, shard };
  }

  /** One round (the refresh loop calls it). Resolves with what was done, for logs and tests. */
  async run(): Promise<Decision> {
    const tm = this.tm;
    // First without any lock: nearly always nothing to do, and then nothing is locked.
    const first = await this.read();
    if ((await this.decide(first.me, first.shard)) === null) return null;
    // The lock before the action: waiting for it must not hold back a living reparent's calls to
    // this tablet (they run as actions, and that reparent holds the lock until they are done).
    let lock: TopoLock;
    try {
      lock = await tm.topo.lockShard(tm.record.keyspace, tm.record.shard, `ShardSync(${this.alias})`, { timeoutMs: this.opts.lockTimeoutMs });
    } catch (err) {
      // A living reparent holds the lock: it decides; this tablet looks again at the next refresh.
      if (isTopoError(err, 'TIMEOUT')) return null;
      throw err;
    }
    try {
      const done = await tm.action(async () => {
        const { me, shard } = await this.read();
        tm.setRecord(me);
        const d = await this.decide(me, shard);
        if (d === 'claim') await this.claim(me, shard);
        else if (d === 'follow') await this.follow(me, shard);
        else if (d === 'lift') await this.lift();
        return d;
      });
      await lock.unlock();
      return done;
    } catch (err) {
      await lock.unlock(err);
      throw err;
    }
  }

  private async claim(me: Tablet, shard: Shard): Promise<void> {
    const tm = this.tm;
    const term = me.primary_term_start_time as string;
    log.warn(
      { alias: this.alias, term, shardPrimary: shard.primary_alias ? tabletAliasString(shard.primary_alias) : null, shardTerm: shard.primary_term_start_time },
      'promoted by a reparent that did not write the shard record (no reparent holds the shard lock): writing this tablet into the shard record',
    );
    let wrote = false;
    await tm.topo.updateShardFields(me.keyspace, me.shard, (s) => {
      wrote = false;
      if (names(s, me) || !laterTerm(term, s.primary_term_start_time)) return false;
      s.primary_alias = me.alias;
      s.primary_term_start_time = term;
      wrote = true;
    });
    if (!wrote) return;
    const { value: ks } = await tm.topo.getKeyspace(me.keyspace);
    // Writable (unless demoted since) and serving, its record and state with the shard's term.
    await tm.replication.becomePrimaryLocked(ks.durability_policy, term);
  }

  private async follow(me: Tablet, shard: Shard): Promise<void> {
    log.warn(
      { alias: this.alias, recorded: me.type, state: this.tm.server.tabletType, shardPrimary: shard.primary_alias ? tabletAliasString(shard.primary_alias) : null },
      'the shard record names another primary and no reparent holds the shard lock: following it',
    );
    await this.tm.replication.syncWithShardLocked();
  }

  private async lift(): Promise<void> {
    log.warn({ alias: this.alias }, 'demoted, but the reparent that demoted it ended without promoting anyone (no lock held, no later primary): serving again');
    await this.tm.replication.liftDemotionLocked();
  }
}
