// The tablet's shard sync (src/tablet/shard-sync.ts) on an in-memory topology, with a tablet
// manager whose replication steps are recorded instead of run: what it decides from its own record,
// its state and the shard record, that it acts only under the shard lock, and that the shard
// record write is a compare-and-swap on the term.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ShardSync } from '../../../src/tablet/shard-sync.js';
import type { TabletManager } from '../../../src/tablet/tablet-manager.js';
import { newTablet, openTopoServer, tabletAliasString, type Tablet, type TabletType, type TopoServer } from '../../../src/topo/index.js';

const T1 = '2026-01-01T00:00:00.000Z';
const T2 = '2026-01-01T00:01:00.000Z';
const OPTS = { lockTimeoutMs: 200, demotedGraceMs: 0 };

interface Fake {
  tm: TabletManager;
  calls: string[];
  state: { tabletType: TabletType; demoted: boolean; source: { host: string; port: number } | null };
}

async function setup(): Promise<{ topo: TopoServer; tablets: Tablet[] }> {
  const topo = openTopoServer({ topoImplementation: 'memory', topoGlobalServerAddress: `shard-sync-${process.pid}-${Math.random()}`, topoGlobalRoot: '/tessera/global' });
  await topo.createCellInfo('zone1', {});
  await topo.createKeyspace('ks');
  await topo.createShard('ks', '0');
  const tablets: Tablet[] = [];
  for (const uid of [100, 101, 102]) {
    const t = newTablet({ alias: { cell: 'zone1', uid }, keyspace: 'ks', shard: '0', type: 'replica', mysql_hostname: 'h', mysql_port: 3000 + uid });
    await topo.createTablet(t);
    tablets.push(t);
  }
  return { topo, tablets };
}

/** Sets tablet `t`'s record and returns a fake manager for it in the given state. */
async function fake(topo: TopoServer, t: Tablet, rec: { type: TabletType; term: string | null }, state: Fake['state']): Promise<Fake> {
  const me = await topo.updateTabletFields(t.alias, (x) => {
    x.type = rec.type;
    x.primary_term_start_time = rec.term;
  });
  const calls: string[] = [];
  let record = me;
  const tm = {
    topo,
    get record() {
      return record;
    },
    setRecord: (r: Tablet) => (record = r),
    server: {
      alias: tabletAliasString(t.alias),
      get tabletType() {
        return state.tabletType;
      },
    },
    get demoted() {
      return state.demoted;
    },
    get demotedAt() {
      return state.demoted ? Date.now() - 60_000 : null;
    },
    action: <T>(fn: () => Promise<T>) => fn(),
    replication: {
      operatorStopped: false,
      status: async () => (state.source ? { source_host: state.source.host, source_port: state.source.port } : null),
      becomePrimaryLocked: async (_policy: string, term: string) => void calls.push(`becomePrimary ${term}`),
      syncWithShardLocked: async () => void calls.push('syncWithShard'),
      liftDemotionLocked: async () => void calls.push('liftDemotion'),
    },
  };
  return { tm: tm as unknown as TabletManager, calls, state };
}

async function nameInShard(topo: TopoServer, t: Tablet, term: string): Promise<void> {
  await topo.updateShardFields('ks', '0', (s) => {
    s.primary_alias = t.alias;
    s.primary_term_start_time = term;
  });
}

describe('tablet shard sync', () => {
  it('a promoted primary the shard record does not name (later term) writes itself into it and becomes primary with that term', async () => {
    const { topo, tablets } = await setup();
    await nameInShard(topo, tablets[0], T1);
    const f = await fake(topo, tablets[1], { type: 'primary', term: T2 }, { tabletType: 'primary', demoted: false, source: null });
    assert.equal(await new ShardSync(f.tm, OPTS).run(), 'claim');
    const { value: shard } = await topo.getShard('ks', '0');
    assert.equal(tabletAliasString(shard.primary_alias!), tabletAliasString(tablets[1].alias));
    assert.equal(shard.primary_term_start_time, T2);
    assert.deepEqual(f.calls, [`becomePrimary ${T2}`]);
    // Done: nothing more to do at the next refresh.
    assert.equal(await new ShardSync(f.tm, OPTS).run(), null);
    await topo.close();
  });

  it('does nothing while another holds the shard lock (a living reparent decides)', async () => {
    const { topo, tablets } = await setup();
    await nameInShard(topo, tablets[0], T1);
    const f = await fake(topo, tablets[1], { type: 'primary', term: T2 }, { tabletType: 'primary', demoted: false, source: null });
    const lock = await topo.lockShard('ks', '0', 'PlannedReparentShard(zone1-101)');
    assert.equal(await new ShardSync(f.tm, OPTS).run(), null);
    const { value: shard } = await topo.getShard('ks', '0');
    assert.equal(shard.primary_term_start_time, T1, 'the shard record is untouched');
    assert.deepEqual(f.calls, []);
    await lock.unlock();
    assert.equal(await new ShardSync(f.tm, OPTS).run(), 'claim');
    await topo.close();
  });

  it('a promotion ctld gave up on (record replica again) claims nothing: the tablet follows the shard primary', async () => {
    const { topo, tablets } = await setup();
    await nameInShard(topo, tablets[0], T1);
    const f = await fake(topo, tablets[1], { type: 'replica', term: null }, { tabletType: 'primary', demoted: false, source: null });
    assert.equal(await new ShardSync(f.tm, OPTS).run(), 'follow');
    assert.equal((await topo.getShard('ks', '0')).value.primary_term_start_time, T1);
    assert.deepEqual(f.calls, ['syncWithShard']);
    await topo.close();
  });

  it('a primary whose shard names another with a later term follows it; one with the same or an earlier record term never claims', async () => {
    const { topo, tablets } = await setup();
    await nameInShard(topo, tablets[1], T2);
    const f = await fake(topo, tablets[0], { type: 'primary', term: T1 }, { tabletType: 'primary', demoted: true, source: null });
    assert.equal(await new ShardSync(f.tm, OPTS).run(), 'follow');
    assert.equal(tabletAliasString((await topo.getShard('ks', '0')).value.primary_alias!), tabletAliasString(tablets[1].alias));
    assert.deepEqual(f.calls, ['syncWithShard']);
    await topo.close();
  });

  it('a demoted primary the shard still names lifts its demotion, unless another tablet is recorded primary with a later term', async () => {
    const { topo, tablets } = await setup();
    await nameInShard(topo, tablets[0], T1);
    const f = await fake(topo, tablets[0], { type: 'primary', term: T1 }, { tabletType: 'primary', demoted: true, source: null });
    await topo.updateTabletFields(tablets[1].alias, (x) => {
      x.type = 'primary';
      x.primary_term_start_time = T2;
    });
    assert.equal(await new ShardSync(f.tm, OPTS).run(), null, 'a promotion went through: that tablet claims the shard, this one then follows it');
    await topo.updateTabletFields(tablets[1].alias, (x) => {
      x.type = 'replica';
      x.primary_term_start_time = null;
    });
    assert.equal(await new ShardSync(f.tm, { ...OPTS, demotedGraceMs: 3_600_000 }).run(), null, 'within the grace');
    assert.equal(await new ShardSync(f.tm, OPTS).run(), 'lift');
    assert.deepEqual(f.calls, ['liftDemotion']);
    f.state.demoted = false;
    assert.equal(await new ShardSync(f.tm, OPTS).run(), null, 'a serving primary the shard names: nothing to do');
    await topo.close();
  });

  it('a replica replicating from another tablet of its shard than the primary is repointed; from the primary or from outside the shard it is left alone', async () => {
    const { topo, tablets } = await setup();
    await nameInShard(topo, tablets[1], T2);
    const f = await fake(topo, tablets[2], { type: 'replica', term: null }, { tabletType: 'replica', demoted: false, source: { host: 'h', port: 3100 } });
    assert.equal(await new ShardSync(f.tm, OPTS).run(), 'follow');
    f.state.source = { host: 'h', port: 3101 };
    assert.equal(await new ShardSync(f.tm, OPTS).run(), null);
    f.state.source = { host: 'elsewhere', port: 3306 };
    assert.equal(await new ShardSync(f.tm, OPTS).run(), null);
    assert.deepEqual(f.calls, ['syncWithShard']);
    await topo.close();
  });

  it('the shard record write re-checks the term: a later primary written meanwhile is kept', async () => {
    const { topo, tablets } = await setup();
    await nameInShard(topo, tablets[0], T1);
    const f = await fake(topo, tablets[1], { type: 'primary', term: T2 }, { tabletType: 'primary', demoted: false, source: null });
    // Between the check without the lock and the one under it, another tablet took the shard with a later term.
    const later = '2026-01-01T00:02:00.000Z';
    const sync = new ShardSync(f.tm, OPTS);
    const orig = topo.lockShard.bind(topo);
    topo.lockShard = async (...a: Parameters<TopoServer['lockShard']>) => {
      await nameInShard(topo, tablets[2], later);
      return orig(...a);
    };
    assert.equal(await sync.run(), 'follow');
    const { value: shard } = await topo.getShard('ks', '0');
    assert.equal(shard.primary_term_start_time, later);
    assert.deepEqual(f.calls, ['syncWithShard']);
    await topo.close();
  });
});
