// Replication and reparents on real MariaDB: one shard of four tablets (three replicas and an
// rdonly) set up by InitShardPrimary, then planned and emergency reparents under a steady write
// load, a replica restarted, and the refusals. The tablets run in this process; the reparents are
// the ctld commands themselves, called as ctld calls them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CTLD_COMMANDS, type CtldContext } from '../../../src/ctld/index.js';
import { TesseraError } from '../../../src/mysql/errors.js';
import { openTopoServer, tabletAliasString, type Json, type JsonObject, type TopoServer } from '../../../src/topo/index.js';
import { RpcTabletManagerClient, type FullStatus, type TabletProcess } from '../../../src/tablet/index.js';
import { WriteLedger } from '../../harness/ledger.js';
import { startTestTablet } from '../../harness/tablet.js';

const KS = 'customer';
const SHARD = '0';
let topo: TopoServer;
let ctx: CtldContext;
const tablets = new Map<number, TabletProcess>();

function run(command: string, req: JsonObject): Promise<Json> {
  return CTLD_COMMANDS[command].run(ctx, req);
}

interface Outcome {
  primary: string;
  previous_primary: string | null;
  position: string;
  events: string[];
  warnings: string[];
  may_be_missing?: string;
}

async function reparent(command: string, req: JsonObject): Promise<Outcome> {
  return (await run(command, { keyspace_shard: `${KS}/${SHARD}`, ...req })) as unknown as Outcome;
}

const alias = (uid: number) => tabletAliasString({ cell: 'zone1', uid });

async function primaryUid(): Promise<number> {
  const { value } = await topo.getShard(KS, SHARD);
  assert.ok(value.primary_alias, 'the shard has a primary');
  return value.primary_alias.uid;
}

/** Inserts through the query service of whichever tablet the shard names primary right now. */
async function writeOnPrimary(id: number): Promise<void> {
  const t = tablets.get(await primaryUid());
  if (!t) throw new Error('no such tablet');
  await t.server.execute({ keyspace: KS, shard: SHARD, tabletType: 'primary' }, `insert into ledger (id) values (${id})`, null);
}

async function ids(uid: number): Promise<number[]> {
  const r = await (tablets.get(uid) as TabletProcess).manager.executeFetchAsDba('select id from ledger order by id', { maxRows: 10_000_000 });
  return r.rows.map((row) => Number(row[0]));
}

/** Waits until tablet `uid` has applied everything the current primary has. */
async function caughtUp(uid: number): Promise<void> {
  const p = tablets.get(await primaryUid()) as TabletProcess;
  await (tablets.get(uid) as TabletProcess).manager.waitForPosition(await p.manager.primaryPosition(), 30_000);
}

async function status(uid: number): Promise<FullStatus> {
  return (tablets.get(uid) as TabletProcess).manager.replication.fullStatus();
}

async function startTablet(uid: number, tabletType: 'replica' | 'rdonly'): Promise<void> {
  tablets.set(uid, await startTestTablet({ uid, cell: 'zone1', keyspace: KS, shard: SHARD, tabletType, topo }));
}

before(async () => {
  topo = openTopoServer({ topoImplementation: 'memory', topoGlobalServerAddress: `replication-${process.pid}`, topoGlobalRoot: '/tessera/global' });
  // As a ctld process reaches tablets: over the network, a pooled connection per tablet.
  ctx = { topo, tmc: new RpcTabletManagerClient(topo) };
  await topo.createCellInfo('zone1', {});
  await topo.createKeyspace(KS, { durability_policy: 'semi_sync' });
  await topo.createShard(KS, SHARD);
  for (const uid of [100, 101, 102]) await startTablet(uid, 'replica');
  await startTablet(103, 'rdonly');
  // Another shard's tablet, only as a record: for the "tablet in another shard" refusals.
  await topo.createKeyspace('other');
  await topo.createShard('other', '0');
  await topo.createTablet({
    alias: { cell: 'zone1', uid: 900 },
    hostname: '127.0.0.1',
    port_map: { grpc: 1 },
    keyspace: 'other',
    shard: '0',
    key_range: { start: '', end: '' },
    type: 'replica',
    db_name_override: '',
    tags: {},
    mysql_hostname: '127.0.0.1',
    mysql_port: 1,
    primary_term_start_time: null,
  });
});

after(async () => {
  ctx.tmc.close();
  for (const t of tablets.values()) await t.stop({ stopMysql: true });
  await topo.close();
});

test('InitShardPrimary (and InitShardMaster --force): one primary, replicas that follow it, read-only, semi-sync, journal', async () => {
  const out = await reparent('InitShardPrimary', { primary: 'zone1-100' });
  assert.equal(out.primary, alias(100));
  assert.deepEqual(out.warnings.filter((w) => !/serving graph/.test(w)), []);
  const shard = (await topo.getShard(KS, SHARD)).value;
  assert.equal(shard.primary_alias?.uid, 100);
  assert.ok(shard.primary_term_start_time);
  assert.equal((await topo.getTablet({ cell: 'zone1', uid: 100 })).value.type, 'primary');
  // Again without --force: refused; with the seeds' spelling and -force: done again, same primary.
  await assert.rejects(reparent('InitShardPrimary', { primary: 'zone1-100' }), /already has primary zone1-0000000100: use PlannedReparentShard/);
  const again = await CTLD_COMMANDS.InitShardPrimary.run(ctx, { keyspace_shard: `${KS}/${SHARD}`, primary: 'zone1-100', force: true });
  assert.equal((again as unknown as Outcome).primary, alias(100));

  const p = tablets.get(100) as TabletProcess;
  await p.manager.applySchema('create table ledger (id bigint primary key, note varchar(32))');
  for (let id = 1; id <= 20; id++) await writeOnPrimary(id);
  for (const uid of [101, 102, 103]) {
    await caughtUp(uid);
    assert.deepEqual(await ids(uid), Array.from({ length: 20 }, (_, i) => i + 1), `tablet ${uid} replicated every row`);
    const s = await status(uid);
    assert.equal(s.read_only, true);
    assert.equal(s.replication?.io_running, true);
    assert.equal(s.replication?.sql_running, true);
    assert.equal(s.replication?.source_port, (await topo.getTablet({ cell: 'zone1', uid: 100 })).value.mysql_port);
    assert.equal(s.replication?.using_gtid, 'slave_pos');
    // semi_sync: replicas acknowledge, the rdonly does not.
    assert.equal(s.semi_sync_replica_enabled, uid !== 103);
  }
  const ps = await status(100);
  assert.equal(ps.read_only, false);
  assert.equal(ps.semi_sync_primary_enabled, true);
  assert.equal(ps.semi_sync_primary_active, true);
  assert.equal(ps.semi_sync_primary_clients, 2);
  // The reparent journal replicated; vt_app cannot write on a replica.
  const j = await (tablets.get(102) as TabletProcess).manager.executeFetchAsDba('select action_name, primary_alias from _vt.reparent_journal order by time_created_ns');
  assert.deepEqual(j.rows.at(-1), ['InitShardPrimary', alias(100)]);
  await assert.rejects(
    (tablets.get(101) as TabletProcess).server.execute({ keyspace: KS, shard: SHARD, tabletType: 'replica' }, "insert into ledger values (999, 'x')", null),
    (e: TesseraError) => e.errno === 1290 && /read-only/.test(e.message),
  );
  // Health and ShardReplicationPositions carry lag and errors.
  await (tablets.get(101) as TabletProcess).manager.replication.pollHealth();
  const h = (tablets.get(101) as TabletProcess).server.healthState();
  assert.equal(h.replicationError, '');
  assert.equal(typeof h.replicationLagSeconds, 'number');
  const positions = (await run('ShardReplicationPositions', { keyspace_shard: `${KS}/${SHARD}` })) as unknown as {
    replication_statuses: Record<string, { tablet_type: string; io_running: boolean; last_error: string; lag_seconds: number | null }>;
    errors: Record<string, string>;
  };
  assert.deepEqual(Object.keys(positions.replication_statuses), [alias(100), alias(101), alias(102), alias(103)]);
  assert.equal(positions.replication_statuses[alias(103)].tablet_type, 'rdonly');
  assert.equal(positions.replication_statuses[alias(103)].io_running, true);
  assert.deepEqual(positions.errors, {});
});

test('PlannedReparentShard under a steady write load loses no acknowledged row', async () => {
  const ledger = new WriteLedger({ write: (id) => writeOnPrimary(1000 + id) });
  ledger.start();
  await ledger.waitForAcks(100);
  const out = await reparent('PlannedReparentShard', { new_primary: 'zone1-101' });
  assert.equal(out.primary, alias(101));
  assert.equal(out.previous_primary, alias(100));
  await ledger.waitForAcks(100);
  await ledger.stop();
  assert.equal(await primaryUid(), 101);
  const onNew = (await ids(101)).filter((id) => id > 1000).map((id) => id - 1000);
  assert.deepEqual(ledger.missing(onNew), []);
  // The old primary is a read-only replica of the new one and has everything too.
  const old = (await topo.getTablet({ cell: 'zone1', uid: 100 })).value;
  assert.equal(old.type, 'replica');
  assert.equal(old.primary_term_start_time, null);
  await caughtUp(100);
  const s = await status(100);
  assert.equal(s.read_only, true);
  assert.equal(s.replication?.source_port, (await topo.getTablet({ cell: 'zone1', uid: 101 })).value.mysql_port);
  assert.equal(s.replication?.using_gtid, 'current_pos');
  assert.deepEqual(await ids(100), await ids(101));
  assert.equal((tablets.get(100) as TabletProcess).server.tabletType, 'replica');
  assert.equal((tablets.get(101) as TabletProcess).server.serving, true);
  const j = await (tablets.get(100) as TabletProcess).manager.executeFetchAsDba('select action_name, primary_alias from _vt.reparent_journal order by time_created_ns');
  assert.deepEqual(j.rows.at(-1), ['PlannedReparentShard', alias(101)]);
});

test('PlannedReparentShard without --new-primary picks the most caught-up replica', async () => {
  await (tablets.get(102) as TabletProcess).manager.replication.stopReplication();
  await writeOnPrimary(5000);
  const out = (await run('PlannedReparentShard', { keyspace_shard: `${KS}/${SHARD}`, avoid_primary: '' })) as unknown as Outcome;
  // 102 stopped replicating, so it is behind; 100 is the most caught-up replica (103 is rdonly).
  assert.equal(out.primary, alias(100));
  assert.match(out.events.join('\n'), /chose zone1-0000000100, the most caught-up replica/);
  await caughtUp(102);
  assert.deepEqual(await ids(102), await ids(100));
});

test("PlannedReparentShard whose new primary's MariaDB dies as it is promoted: promoted once MariaDB is back, nothing lost", async () => {
  const from = await primaryUid();
  const to = [101, 102].find((u) => u !== from) as number;
  const target = tablets.get(to) as TabletProcess;
  const real = ctx.tmc;
  let restarted: Promise<void> | null = null;
  // The real client with one fault: as promoteReplica is sent to the new primary, its MariaDB is
  // killed (so the promotion fails), and started again a second later (as its tablet's keeper
  // would; the harness's tablets leave that to the test).
  const tmc = new Proxy(real, {
    get(o, k) {
      if (k === 'promoteReplica') {
        return (t: Parameters<typeof real.promoteReplica>[0], req: Parameters<typeof real.promoteReplica>[1], opts?: Parameters<typeof real.promoteReplica>[2]) => {
          if (restarted === null && typeof t !== 'string' && ('alias' in t ? t.alias.uid : t.uid) === to) {
            process.kill(target.mysqlctl?.runningPid() as number, 'SIGKILL');
            restarted = new Promise((r) => setTimeout(r, 1_000)).then(() => target.mysqlctl?.start());
          }
          return real.promoteReplica(t, req, opts);
        };
      }
      const v = Reflect.get(o, k) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(o) : v;
    },
  });
  const ledger = new WriteLedger({ write: (id) => writeOnPrimary(20_000 + id) });
  ledger.start();
  await ledger.waitForAcks(20);
  const out = (await CTLD_COMMANDS.PlannedReparentShard.run({ topo, tmc }, { keyspace_shard: `${KS}/${SHARD}`, new_primary: alias(to) })) as unknown as Outcome;
  await restarted;
  assert.ok(restarted, 'the fault was injected');
  assert.equal(out.primary, alias(to));
  assert.match(out.events.join('\n'), new RegExp(`promoting ${alias(to)} failed \\(attempt 1: .*\\); trying again`));
  await ledger.waitForAcks(20);
  await ledger.stop();
  assert.equal(await primaryUid(), to);
  assert.equal(target.server.serving, true);
  const present = (await ids(to)).filter((id) => id > 20_000).map((id) => id - 20_000);
  assert.deepEqual(ledger.missing(present), []);
  assert.equal((await topo.getTablet({ cell: 'zone1', uid: from })).value.type, 'replica');
  await caughtUp(from);
  assert.deepEqual(await ids(from), await ids(to));
  // Back as the tests below expect it.
  await reparent('PlannedReparentShard', { new_primary: alias(from) });
});

test('a restarted replica rejoins its primary and catches up', async () => {
  await (tablets.get(102) as TabletProcess).stop({ stopMysql: true });
  tablets.delete(102);
  for (let id = 6000; id < 6020; id++) await writeOnPrimary(id);
  await startTablet(102, 'replica');
  await caughtUp(102);
  assert.deepEqual(await ids(102), await ids(await primaryUid()));
  const s = await status(102);
  assert.equal(s.replication?.io_running, true);
  assert.equal(s.semi_sync_replica_enabled, true);
});

test('refusals: unknown tablet, tablet in another shard, a tablet that cannot be promoted', async () => {
  await assert.rejects(reparent('PlannedReparentShard', { new_primary: 'zone1-999' }), /tablet zone1-0000000999 not found/);
  await assert.rejects(reparent('PlannedReparentShard', { new_primary: 'zone1-900' }), /tablet zone1-0000000900 is in other\/0, not in customer\/0/);
  await assert.rejects(reparent('EmergencyReparentShard', { new_primary: 'zone1-900' }), /tablet zone1-0000000900 is in other\/0, not in customer\/0/);
  await assert.rejects(reparent('InitShardPrimary', { primary: 'zone1-900', force: true }), /is in other\/0, not in customer\/0/);
  await assert.rejects(reparent('PlannedReparentShard', { new_primary: 'zone1-103' }), /zone1-0000000103 is rdonly; only a tablet of type replica can become primary/);
  await assert.rejects(run('PlannedReparentShard', {}), /keyspace_shard' is required/);
  assert.equal(await primaryUid(), 100);
});

test('EmergencyReparentShard after kill -9 of the primary MariaDB (semi_sync): the best replica, no acknowledged row lost', async () => {
  const ledger = new WriteLedger({ write: (id) => writeOnPrimary(10_000 + id) });
  ledger.start();
  await ledger.waitForAcks(100);
  const dead = await primaryUid();
  process.kill((tablets.get(dead) as TabletProcess).mysqlctl?.runningPid() as number, 'SIGKILL');
  // Naming the rdonly is refused: it cannot be promoted.
  await assert.rejects(reparent('EmergencyReparentShard', { new_primary: 'zone1-103' }), /no safe candidate|cannot be promoted: it is rdonly/);
  const out = await reparent('EmergencyReparentShard', {});
  assert.notEqual(await primaryUid(), dead);
  assert.equal(out.previous_primary, alias(dead));
  assert.equal(out.may_be_missing, '');
  assert.match(out.events.join('\n'), new RegExp(`every transaction ${alias(dead)} acknowledged to a client reached a replica`));
  await ledger.waitForAcks(50);
  await ledger.stop();
  const now = await primaryUid();
  assert.ok(now === 101 || now === 102);
  const present = (await ids(now)).filter((id) => id > 10_000).map((id) => id - 10_000);
  assert.deepEqual(ledger.missing(present), []);
  assert.equal((await topo.getTablet({ cell: 'zone1', uid: dead })).value.type, 'replica');
  // The other survivors follow the new primary.
  for (const uid of [101, 102, 103].filter((u) => u !== now)) {
    await caughtUp(uid);
    assert.deepEqual(await ids(uid), await ids(now));
  }
  // Policy semi_sync with only an rdonly left to acknowledge: a further emergency reparent refuses.
  const other = [101, 102].find((u) => u !== now) as number;
  process.kill((tablets.get(now) as TabletProcess).mysqlctl?.runningPid() as number, 'SIGKILL');
  await assert.rejects(reparent('EmergencyReparentShard', {}), (e: TesseraError) => /durability policy semi_sync: zone1-0000000\d+ would have no tablet of type replica to acknowledge/.test(e.message));
  // With policy none it goes ahead, and says what may be missing.
  await run('SetKeyspaceDurabilityPolicy', { keyspace: KS, durability_policy: 'none' });
  const none = await reparent('EmergencyReparentShard', {});
  assert.equal(none.primary, alias(other));
  assert.match(none.may_be_missing ?? '', new RegExp(`transactions ${alias(now)} committed after MariaDB/0-\\d+-\\d+`));
  assert.match(none.warnings.join('\n'), /durability policy none: .* may be missing from/);
  await writeOnPrimary(99_999);
  await caughtUp(103);
  assert.deepEqual(await ids(103), await ids(other));
});

test('a tablet with transactions its primary lacks (errant GTIDs) is refused, not silently repointed', async () => {
  const primary = (await topo.getTablet({ cell: 'zone1', uid: await primaryUid() })).value;
  const rdonly = tablets.get(103) as TabletProcess;
  // vt_dba bypasses read_only: a write by hand on a replica, with the binlog on, is exactly how
  // errant transactions are born.
  await rdonly.manager.executeFetchAsDba("insert into ledger values (123456789, 'errant')");
  const primaryPosition = await (tablets.get(primary.alias.uid) as TabletProcess).manager.primaryPosition();
  await assert.rejects(
    rdonly.manager.replication.setSource({ host: primary.mysql_hostname, port: primary.mysql_port, semiSync: false, primaryPosition }),
    new RegExp(`tablet ${alias(103)} has transactions its new primary .* lacks: 0-103-\\d+ \\(primary has 0-\\d+-\\d+\\)`),
  );
  assert.equal((await status(103)).read_only, true);
});
