// PlannedReparentShard whose new primary's tablet (or MariaDB) is killed at each step, on real
// processes: two `tessera tablet` children of one shard over their own MariaDBs, the reparent run
// as ctld runs it. The killed tablet is started again as its supervisor would (same flags, so
// `--init-tablet-type replica` for the tablet being promoted); whatever step the kill hit, the
// shard must end with exactly one serving primary, the one its shard record names, every tablet
// record and serving type agreeing with that record, the other tablet replicating from it, and
// writes working. The start-up rule itself (src/tablet/replication.ts, syncWithShard) is checked
// from states written into the topology: a shard record naming a tablet recorded replica, and a
// tablet recorded primary whose shard names another. And ctld itself (a `tessera ctld` child)
// killed between the promotion and the shard record write: the new primary's shard sync
// (src/tablet/shard-sync.ts) finishes the reparent.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { REPARENT_COMMANDS } from '../../../src/ctld/reparent.js';
import type { CtldContext } from '../../../src/ctld/command.js';
import { RpcTabletManagerClient } from '../../../src/tablet/index.js';
import { openTopoServer, parseTabletAlias, tabletAliasEqual, tabletAliasString, type TopoServer } from '../../../src/topo/index.js';
import { startChild } from '../../harness/child.js';
import { freePort, testRoot } from '../../harness/processes.js';
import { TabletChild } from '../../harness/tablet-child.js';
import { waitFor } from '../../harness/wait.js';

const KS = 'customer';

describe('PlannedReparentShard with the new primary killed at each step', { timeout: 900_000 }, () => {
  let topo: TopoServer;
  let tmc: RpcTabletManagerClient;
  const root = testRoot();
  const topoDir = path.join(root, 'topo');
  const tablets = [
    new TabletChild({ uid: 100, keyspace: KS, shard: '0', type: 'primary', root, topoDir }),
    new TabletChild({ uid: 101, keyspace: KS, shard: '0', type: 'replica', root, topoDir }),
  ];
  let nextId = 1;

  const byAlias = (alias: string) => tablets.find((t) => tabletAliasEqual(parseTabletAlias(t.alias), parseTabletAlias(alias))) as TabletChild;

  async function shardPrimary(): Promise<TabletChild> {
    const { value } = await topo.getShard(KS, '0');
    assert.ok(value.primary_alias, 'the shard names a primary');
    return byAlias(tabletAliasString(value.primary_alias));
  }

  async function readOnly(t: TabletChild): Promise<boolean> {
    const c = await t.dba();
    try {
      const [rows] = await c.query('SELECT @@global.read_only AS ro');
      return Number((rows as { ro: number }[])[0].ro) === 1;
    } finally {
      await c.end();
    }
  }

  async function sourcePort(t: TabletChild): Promise<{ port: number; io: string; sql: string } | null> {
    const c = await t.dba();
    try {
      const [rows] = await c.query('SHOW SLAVE STATUS');
      const r = (rows as Record<string, string>[])[0];
      return r && r.Master_Host !== '' ? { port: Number(r.Master_Port), io: r.Slave_IO_Running, sql: r.Slave_SQL_Running } : null;
    } finally {
      await c.end();
    }
  }

  async function insert(t: TabletChild): Promise<number> {
    const id = nextId++;
    const c = await t.dba();
    try {
      // As the application: vt_app cannot write while read_only is on.
      await c.changeUser({ user: 'vt_app', password: '', database: `vt_${KS}` });
      await c.query('INSERT INTO ledger (id) VALUES (?)', [id]);
    } finally {
      await c.end();
    }
    return id;
  }

  async function has(t: TabletChild, id: number): Promise<boolean> {
    const c = await t.dba(`vt_${KS}`);
    try {
      const [rows] = await c.query('SELECT id FROM ledger WHERE id = ?', [id]);
      return (rows as unknown[]).length === 1;
    } finally {
      await c.end();
    }
  }

  async function ids(t: TabletChild): Promise<Set<number>> {
    const c = await t.dba(`vt_${KS}`);
    try {
      const [rows] = await c.query('SELECT id FROM ledger');
      return new Set((rows as { id: string | number }[]).map((r) => Number(r.id)));
    } finally {
      await c.end();
    }
  }

  /**
   * The shard as it must be after anything: the shard record's primary serving as primary,
   * recorded primary, writable and replicating from nobody; the other tablet recorded and serving
   * as a replica, read-only, replicating from the primary; a write on the primary reaches it.
   */
  async function assertOnePrimary(why: string): Promise<TabletChild> {
    const p = await shardPrimary();
    const r = tablets.find((t) => t !== p) as TabletChild;
    let problems: string[] = [];
    await waitFor(`one serving primary ${p.alias} (${why})`, async () => {
      problems = [];
      // A MariaDB being started again answers nothing yet: asked again.
      return check().catch((err: Error) => {
        problems.push(err.message);
        return false;
      });
    }, 90_000).catch((err: Error) => {
      throw new Error(`${err.message}: ${problems.join('; ')}`);
    });
    async function check(): Promise<boolean> {
      const [pRec, rRec] = await Promise.all([p, r].map(async (t) => (await topo.getTablet(parseTabletAlias(t.alias))).value));
      const [pHealth, rHealth] = await Promise.all([p, r].map((t) => tmc.getHealth(t.alias, {}).catch((e: Error) => ({ error: e.message }))));
      if (pRec.type !== 'primary') problems.push(`the primary's record says ${pRec.type}`);
      if (rRec.type !== 'replica') problems.push(`the other's record says ${rRec.type}`);
      if (!('serving' in pHealth) || !pHealth.serving || pHealth.target.tabletType !== 'primary') problems.push(`the primary's health: ${JSON.stringify(pHealth)}`);
      if (!('serving' in rHealth) || rHealth.target.tabletType !== 'replica') problems.push(`the replica's health: ${JSON.stringify(rHealth)}`);
      if (await readOnly(p)) problems.push('the primary is read-only');
      if (!(await readOnly(r))) problems.push('the replica is writable');
      if ((await sourcePort(p)) !== null) problems.push(`the primary replicates from ${JSON.stringify(await sourcePort(p))}`);
      const src = await sourcePort(r);
      if (src?.port !== p.mysqlctl.mysqlPort || src.io !== 'Yes' || src.sql !== 'Yes') problems.push(`the replica replicates from ${JSON.stringify(src)}, not the primary's port ${p.mysqlctl.mysqlPort}`);
      return problems.length === 0;
    }
    const id = await insert(p);
    await waitFor(`write ${id} on the replica`, () => has(r, id), 30_000);
    await assert.rejects(insert(r), /read-only|read_only/);
    return p;
  }

  /** The real client, with `hook` run before (`when: 'before'`) or after a call of `method` to `victim`, once. */
  function faultyTmc(method: 'promoteReplica' | 'setReplicationSource' | 'waitForPosition', victim: TabletChild, when: 'before' | 'after', hook: () => Promise<void>): { tmc: RpcTabletManagerClient; fired: () => boolean } {
    let fired = false;
    const isVictim = (t: unknown) => {
      const a = typeof t === 'string' ? t : tabletAliasString((t as { alias: { cell: string; uid: number } }).alias);
      return tabletAliasEqual(parseTabletAlias(a), parseTabletAlias(victim.alias));
    };
    const proxy = new Proxy(tmc, {
      get(o, k) {
        const v = Reflect.get(o, k) as unknown;
        if (typeof v !== 'function') return v;
        const f = (v as (...a: unknown[]) => Promise<unknown>).bind(o);
        if (k !== method) return f;
        return async (...args: unknown[]) => {
          // setReplicationSource goes to the old primary: the kill of the victim rides on it.
          const hit = !fired && (method === 'setReplicationSource' || isVictim(args[0]));
          if (hit && when === 'before') {
            fired = true;
            await hook();
          }
          const out = await f(...args);
          if (hit && when === 'after') {
            fired = true;
            await hook();
          }
          return out;
        };
      },
    });
    return { tmc: proxy, fired: () => fired };
  }

  /** The topology, with `hook` run once right after the shard record changes to name `victim`. */
  function faultyTopo(victim: TabletChild, hook: () => Promise<void>): { topo: TopoServer; fired: () => boolean } {
    let fired = false;
    const proxy = new Proxy(topo, {
      get(o, k) {
        const v = Reflect.get(o, k) as unknown;
        if (typeof v !== 'function') return v;
        const f = (v as (...a: unknown[]) => Promise<unknown>).bind(o);
        if (k !== 'updateShardFields') return f;
        return async (...args: unknown[]) => {
          const out = (await f(...args)) as { primary_alias: { cell: string; uid: number } | null };
          if (!fired && out.primary_alias && tabletAliasString(out.primary_alias) === tabletAliasString(parseTabletAlias(victim.alias))) {
            fired = true;
            await hook();
          }
          return out;
        };
      },
    });
    return { topo: proxy, fired: () => fired };
  }

  async function prs(ctx: CtldContext, to: TabletChild): Promise<string> {
    return REPARENT_COMMANDS.PlannedReparentShard.run(ctx, { keyspace_shard: `${KS}/0`, new_primary: to.alias }).then(
      () => 'done',
      (err: Error) => `failed: ${err.message}`,
    );
  }

  /** Kills `t`'s tablet process and starts it again after `ms`, as its supervisor does. */
  function killAndRestart(t: TabletChild, ms = 300): { hook: () => Promise<void>; back: () => Promise<void> } {
    let back: Promise<void> = Promise.resolve();
    return {
      hook: async () => {
        await t.kill9();
        back = new Promise((r) => setTimeout(r, ms)).then(() => t.start());
      },
      back: () => back,
    };
  }

  before(async () => {
    topo = openTopoServer({ topoImplementation: 'file', topoGlobalServerAddress: topoDir, topoGlobalRoot: '/tessera/global' });
    // The primary first: it creates the keyspace and shard and claims the shard; the replica then
    // follows it at its start.
    await tablets[0].start();
    await tablets[1].start();
    tmc = new RpcTabletManagerClient(topo);
    await tmc.applySchema(tablets[0].alias, { sql: 'CREATE TABLE ledger (id bigint NOT NULL PRIMARY KEY)' });
    await topo.rebuildKeyspaceGraph(KS, { cells: ['zone1'] });
    for (const t of tablets) await tmc.refreshState(t.alias, {});
    await assertOnePrimary('at the start');
  });

  after(async () => {
    tmc?.close();
    await Promise.all(tablets.map((t) => t.stop().catch(() => undefined)));
    await topo?.close();
  });

  // Each case: which kill, where; the reparent goes from the current primary to the other tablet.
  const cases: { name: string; run: (from: TabletChild, to: TabletChild) => Promise<string> }[] = [
    {
      name: 'the tablet killed as promoteReplica is sent',
      run: async (_from, to) => {
        const k = killAndRestart(to);
        const f = faultyTmc('promoteReplica', to, 'before', k.hook);
        const out = await prs({ topo, tmc: f.tmc }, to);
        assert.ok(f.fired(), 'the kill happened');
        await k.back();
        return out;
      },
    },
    ...(['replication-reset', 'record-written'] as const).map((step) => ({
      name: `the tablet killed inside the promotion (${step})`,
      run: async (_from: TabletChild, to: TabletChild) => {
        // The tablet runs with the hook for this one reparent.
        await to.kill9();
        await to.start({ env: { TESSERA_TEST_KILL_IN_PROMOTE: step } });
        await waitFor(`${to.alias} replicating again`, async () => (await sourcePort(to))?.io === 'Yes', 60_000);
        let restarted: Promise<void> | null = null;
        // The hook's SIGKILL ends the process: started again without it, as the supervisor would.
        const watch = setInterval(() => {
          if (restarted === null && !to.running) restarted = new Promise((r) => setTimeout(r, 300)).then(() => to.start());
        }, 20);
        try {
          const out = await prs({ topo, tmc }, to);
          await waitFor('the hook to fire', async () => restarted !== null, 30_000);
          await restarted;
          return out;
        } finally {
          clearInterval(watch);
        }
      },
    })),
    {
      name: 'the tablet killed after promoteReplica answered, before the shard record names it',
      run: async (_from, to) => {
        const k = killAndRestart(to);
        const f = faultyTmc('promoteReplica', to, 'after', k.hook);
        const out = await prs({ topo, tmc: f.tmc }, to);
        assert.ok(f.fired(), 'the kill happened');
        await k.back();
        return out;
      },
    },
    {
      name: 'the tablet killed right after the shard record names it',
      run: async (_from, to) => {
        const k = killAndRestart(to);
        const f = faultyTopo(to, k.hook);
        const out = await prs({ topo: f.topo, tmc }, to);
        assert.ok(f.fired(), 'the kill happened');
        await k.back();
        return out;
      },
    },
    {
      name: 'the tablet killed as the old primary is repointed (before the journal)',
      run: async (_from, to) => {
        const k = killAndRestart(to);
        const f = faultyTmc('setReplicationSource', to, 'before', k.hook);
        const out = await prs({ topo, tmc: f.tmc }, to);
        assert.ok(f.fired(), 'the kill happened');
        await k.back();
        return out;
      },
    },
    {
      name: "the new primary's MariaDB killed as promoteReplica is sent (its tablet starts it again)",
      run: async (_from, to) => {
        const f = faultyTmc('promoteReplica', to, 'before', () => to.killMysql9());
        const out = await prs({ topo, tmc: f.tmc }, to);
        assert.ok(f.fired(), 'the kill happened');
        return out;
      },
    },
    {
      name: "the new primary's MariaDB killed after promoteReplica answered",
      run: async (_from, to) => {
        const f = faultyTmc('promoteReplica', to, 'after', () => to.killMysql9());
        const out = await prs({ topo, tmc: f.tmc }, to);
        assert.ok(f.fired(), 'the kill happened');
        return out;
      },
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const from = await shardPrimary();
      const to = tablets.find((t) => t !== from) as TabletChild;
      const out = await c.run(from, to);
      await assertOnePrimary(`${c.name}; the reparent ${out.slice(0, 300)}`);
    });
  }

  /**
   * PlannedReparentShard from the shard's primary to the other tablet through a `tessera ctld`
   * child that SIGKILLs itself at `step` (TESSERA_TEST_KILL_CTLD_IN_REPARENT), under a writer that
   * goes through whichever tablet the shard record names and remembers every acknowledged id.
   * `settled` checks what the tablets' shard sync made of it; afterwards every acknowledged id
   * must be on both tablets.
   */
  async function ctldKilledAt(step: 'after-demote' | 'after-promote', settled: (from: TabletChild, to: TabletChild) => Promise<void>): Promise<void> {
    const from = await shardPrimary();
    const to = tablets.find((t) => t !== from) as TabletChild;
    const ctldPort = await freePort();
    const ctld = startChild(
      ['ctld', '--topo-implementation', 'file', '--topo-global-server-address', topoDir, '--port', String(ctldPort), '--grpc-port', '0', '--bind-address', '127.0.0.1', '--no-failover-watcher'],
      { TESSERA_TEST_KILL_CTLD_IN_REPARENT: step },
    );
    await ctld.waitFor(/^ctld listening on/m, 60_000);
    const acked: number[] = [];
    let writing = true;
    const writer = (async () => {
      while (writing) {
        try {
          acked.push(await insert(await shardPrimary()));
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    })();
    try {
      await waitFor('writes before the reparent', async () => acked.length >= 5, 30_000);
      const ctl = startChild(['ctl', '--server', `127.0.0.1:${ctldPort}`, 'PlannedReparentShard', '--new-primary', to.alias, `${KS}/0`]);
      await new Promise<void>((r) => ctl.proc.once('exit', () => r()));
      await waitFor('ctld to be gone', async () => ctld.proc.exitCode !== null || ctld.proc.signalCode !== null, 30_000);
      assert.match(ctld.output(), new RegExp(`test hook: killing ctld process \\d+ at reparent step ${step}`));
      assert.equal(ctld.proc.signalCode, 'SIGKILL');
      assert.notEqual(ctl.proc.exitCode, 0, `PlannedReparentShard cannot have succeeded: ${ctl.output()}`);
      await settled(from, to);
      const before = acked.length;
      await waitFor('writes after the reparent', async () => acked.length >= before + 5, 30_000);
    } finally {
      writing = false;
      await writer;
      await ctld.kill('SIGKILL');
    }
    const missing: string[] = [];
    await waitFor(`all ${acked.length} acknowledged writes on both tablets`, async () => {
      missing.length = 0;
      for (const t of tablets) {
        const have = await ids(t);
        for (const id of acked) if (!have.has(id)) missing.push(`${id} on ${t.alias}`);
      }
      return missing.length === 0;
    }, 30_000).catch((err: Error) => {
      throw new Error(`${err.message}: missing ${missing.slice(0, 20).join(', ')}`);
    });
  }

  it('ctld killed after the promotion, before the shard record names the new primary: the new primary writes itself into the shard record, the old one follows it, no acknowledged write is lost', async () => {
    await ctldKilledAt('after-promote', async (_from, to) => {
      // Left there: the new primary promoted (its record says primary with a term later than the
      // shard's), the shard record still naming the demoted old primary. Its own shard sync, once
      // it breaks the dead ctld's lock, finishes the reparent.
      const toRec = (await topo.getTablet(parseTabletAlias(to.alias))).value;
      assert.equal(toRec.type, 'primary', 'the promotion happened before ctld died');
      await waitFor(`the shard record naming ${to.alias}`, async () => (await shardPrimary()) === to, 60_000);
      const { value: shard } = await topo.getShard(KS, '0');
      assert.equal(shard.primary_term_start_time, toRec.primary_term_start_time, 'the shard record has the term the promotion gave');
      await assertOnePrimary('ctld killed between the promotion and the shard record write');
    });
  });

  it('ctld killed after the demotion, before any promotion: the old primary, still named by the shard, lifts its demotion and serves again', async () => {
    await ctldKilledAt('after-demote', async (from, to) => {
      assert.equal(await readOnly(from), true, 'the old primary was demoted before ctld died');
      assert.equal((await topo.getTablet(parseTabletAlias(to.alias))).value.type, 'replica', 'nobody was promoted');
      // Demoted longer than SHARD_SYNC_DEFAULTS.demotedGraceMs (15 s), then one refresh.
      await waitFor(`${from.alias} writable again`, async () => !(await readOnly(from)), 60_000);
      assert.equal(await shardPrimary(), from);
      await assertOnePrimary('ctld killed between the demotion and the promotion');
    });
  });

  it('a promotion given up (the new primary stays down past --wait-replicas-timeout): the old primary serves again, the new one comes back as its replica', async () => {
    const from = await shardPrimary();
    const to = tablets.find((t) => t !== from) as TabletChild;
    // The new primary dies once its record says primary, and stays down until the reparent gave up.
    await to.kill9();
    await to.start({ env: { TESSERA_TEST_KILL_IN_PROMOTE: 'record-written' } });
    await waitFor(`${to.alias} replicating again`, async () => (await sourcePort(to))?.io === 'Yes', 60_000);
    const out = await REPARENT_COMMANDS.PlannedReparentShard.run({ topo, tmc }, { keyspace_shard: `${KS}/0`, new_primary: to.alias, wait_replicas_timeout_ms: 2_000 }).then(
      () => 'done',
      (err: Error) => err.message,
    );
    assert.match(out, /did not succeed within 2000 ms .* is primary and writable again/);
    assert.equal(to.running, false);
    assert.equal(await shardPrimary(), from);
    assert.equal((await topo.getTablet(parseTabletAlias(to.alias))).value.type, 'replica');
    await to.start();
    await assertOnePrimary('a promotion given up');
  });

  it('the old primary killed after its demotion and back before the promotion: it starts demoted, takes no write, and follows the new primary', async () => {
    const from = await shardPrimary();
    const to = tablets.find((t) => t !== from) as TabletChild;
    let writeOnRestarted = '';
    let healthOnRestarted = '';
    // As ctld asks the new primary to catch up, the demoted old primary dies and its supervisor
    // starts it again: the shard record still names it, but the reparent holds the shard lock.
    const f = faultyTmc('waitForPosition', to, 'before', async () => {
      await from.kill9();
      await from.start();
      healthOnRestarted = JSON.stringify(await tmc.getHealth(from.alias, {}));
      writeOnRestarted = await insert(from).then(
        (id) => `accepted ${id}`,
        (err: Error) => err.message,
      );
    });
    const out = await prs({ topo, tmc: f.tmc }, to);
    assert.ok(f.fired(), 'the kill happened');
    assert.equal(out, 'done');
    assert.match(healthOnRestarted, /"serving":false.*demoted/);
    assert.match(writeOnRestarted, /read-only|read_only/);
    assert.equal(await shardPrimary(), to);
    await assertOnePrimary('the old primary restarted mid-reparent');
  });

  it('start-up: a tablet the shard record names primary takes the primary type, whatever its own record says', async () => {
    const from = await shardPrimary();
    const to = tablets.find((t) => t !== from) as TabletChild;
    // The state the lost promotion left: the old primary read-only, the new one caught up, the
    // shard record naming the new one, both tablet records saying replica; both tablets down.
    await tmc.setReadOnly(from.alias, {});
    const { position } = await tmc.primaryPosition(from.alias, {});
    await tmc.waitForPosition(to.alias, { position, timeoutMs: 30_000 });
    await Promise.all(tablets.map((t) => t.kill9()));
    const term = new Date().toISOString();
    await topo.updateShardFields(KS, '0', (s) => {
      s.primary_alias = parseTabletAlias(to.alias);
      s.primary_term_start_time = term;
    });
    for (const t of tablets) {
      await topo.updateTabletFields(parseTabletAlias(t.alias), (r) => {
        r.type = 'replica';
        r.primary_term_start_time = null;
      });
    }
    await to.start();
    await from.start();
    assert.equal(await shardPrimary(), to);
    await assertOnePrimary('restarted with the shard record naming a tablet recorded replica');
    assert.equal((await topo.getTablet(parseTabletAlias(to.alias))).value.primary_term_start_time, term);
  });

  it('start-up: a tablet recorded primary whose shard names another (with a later term) becomes its replica', async () => {
    // The tablet started with --init-tablet-type replica: its record, not that flag, must change.
    if ((await shardPrimary()) === tablets[1]) assert.equal(await prs({ topo, tmc }, tablets[0]), 'done');
    const from = tablets[0];
    const to = tablets[1];
    // `to` (a replica) is recorded primary with an older term than the shard's, as a primary
    // replaced by a reparent while it was down is.
    await to.kill9();
    await topo.updateTabletFields(parseTabletAlias(to.alias), (r) => {
      r.type = 'primary';
      r.primary_term_start_time = new Date(Date.now() - 3_600_000).toISOString();
    });
    await to.start();
    assert.equal(await shardPrimary(), from);
    await assertOnePrimary('restarted recorded primary while the shard names another');
  });
});
