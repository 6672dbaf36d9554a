// TabletManagerClient on real tablets (each with its own MariaDB): the in-process and the network
// implementation through one loop — every method, the errors the contract names — then what only
// the network client has: one pooled connection per tablet, closed when idle, dialled again after
// the tablet restarts where it was or moves to another port.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../../harness/wait.js';
import { TesseraError } from '../../../src/mysql/errors.js';
import {
  LocalTabletManagerClient,
  RpcTabletManagerClient,
  type ExecuteFetchAsDbaRequest,
  type SetReplicationSourceRequest,
  type TabletManager,
  type TabletManagerClient,
  type TabletProcess,
} from '../../../src/tablet/index.js';
import { isTopoError, newTablet, openTopoServer, tabletAliasString, type Tablet, type TopoServer } from '../../../src/topo/index.js';
import { freePort } from '../../harness/processes.js';
import { startTestTablet } from '../../harness/tablet.js';

const KS = 'tmc';
const DOWN = 'zone1-259';
let topo: TopoServer;
let primary: TabletProcess;
let replica: TabletProcess;
let primaryPorts: { rpcPort: number; mysqlPort: number };
/** What the in-process client sees running, as combined mode keeps it. */
const running = new Map<string, TabletManager>();
let local: LocalTabletManagerClient;
let network: RpcTabletManagerClient;

async function startPrimary(rpcPort = primaryPorts.rpcPort): Promise<void> {
  primary = await startTestTablet({ uid: 250, cell: 'zone1', keyspace: KS, shard: '0', tabletType: 'primary', topo, rpcPort, mysqlPort: primaryPorts.mysqlPort });
  running.set(primary.alias, primary.manager);
}

async function stopPrimary(): Promise<void> {
  running.delete(primary.alias);
  await primary.stop();
}

async function record(alias: string): Promise<Tablet> {
  const [cell, uid] = alias.split('-');
  return (await topo.getTablet({ cell, uid: Number(uid) })).value;
}

before(async () => {
  topo = openTopoServer({ topoImplementation: 'memory', topoGlobalServerAddress: `tmc-test-${process.pid}`, topoGlobalRoot: '/tessera/global' });
  primaryPorts = { rpcPort: await freePort(), mysqlPort: await freePort() };
  await startPrimary();
  replica = await startTestTablet({ uid: 251, cell: 'zone1', keyspace: KS, shard: '0', tabletType: 'replica', topo });
  running.set(replica.alias, replica.manager);
  await primary.manager.applySchema('create table t (id int primary key, v varchar(20))');
  // A tablet the topology knows at an address where nothing listens: down.
  await topo.createTablet(
    newTablet({
      alias: { cell: 'zone1', uid: 259 },
      hostname: '127.0.0.1',
      port_map: { grpc: await freePort() },
      keyspace: KS,
      shard: '0',
      key_range: { start: '', end: '' },
      type: 'replica',
      db_name_override: '',
      tags: {},
      mysql_hostname: '127.0.0.1',
      mysql_port: 1,
    }),
  );
  local = new LocalTabletManagerClient(topo, (alias) => running.get(alias));
  network = new RpcTabletManagerClient(topo);
});

after(async () => {
  local.close();
  network.close();
  await replica.stop({ stopMysql: true });
  await primary.stop({ stopMysql: true });
  await topo.close();
});

const clients: readonly (readonly [string, () => TabletManagerClient])[] = [
  ['in-process', () => local],
  ['network', () => network],
];

for (const [name, client] of clients) {
  test(`${name}: every tablet-manager method, with typed requests and responses`, async () => {
    const c = client();
    const P = primary.alias;
    const R = replica.alias;
    const table = `t_${name.replace('-', '_')}`;

    await c.ping(P, {});
    assert.deepEqual(await c.applySchema(P, { sql: `create table if not exists ${table} (id int primary key)` }), { statements: 1 });
    await c.reloadSchema(P, {});
    const { tables } = await c.getSchema(P, {});
    assert.ok(tables.some((x) => x.name === table && x.primaryKey[0] === 'id'), 'the new table is in the schema');
    const ins = await c.executeFetchAsDba(P, { sql: `insert into ${table} values (1), (2)` });
    assert.equal(ins.rowsAffected, 2);
    const other = await c.executeFetchAsDba(P, { sql: 'select database()', database: '_vt', maxRows: 1 });
    assert.deepEqual(other.rows, [['_vt']]);
    const app = await c.executeFetchAsApp(P, { sql: `select count(*) as n from ${table}` });
    assert.deepEqual(app, { fields: ['n'], rows: [['2']], rowsAffected: 0, insertId: '0' });

    await c.setReadOnly(P, {});
    assert.deepEqual((await c.executeFetchAsDba(P, { sql: 'select @@global.read_only' })).rows, [['1']]);
    await c.setReadWrite(P, {});
    assert.deepEqual((await c.executeFetchAsDba(P, { sql: 'select @@global.read_only' })).rows, [['0']]);
    await c.refreshState(P, {});
    const { position } = await c.primaryPosition(P, {});
    assert.match(position, /^MariaDB\/0-250-\d+$/);
    // Health is checked periodically: the read-only moment above may still show until the next check.
    let health = await c.getHealth(P, {});
    await waitFor(`primary ${P} serving again after SetReadWrite`, async () => (health = await c.getHealth(P, {})).serving, 30_000);
    assert.equal(health.tabletAlias, P);
    assert.equal(health.serving, true);
    const full = await c.fullStatus(P, {});
    assert.equal(full.alias, P);
    assert.equal(full.tablet_type, 'primary');
    assert.equal(full.read_only, false);

    // The replica: repointed, waited for, stopped, started, drained, reset, pointed again.
    const p = await record(P);
    const source: SetReplicationSourceRequest = { host: p.mysql_hostname, port: p.mysql_port, semiSync: false, primaryPosition: position };
    const pointed = await c.setReplicationSource(R, source);
    assert.equal(pointed.replication?.source_port, p.mysql_port);
    await c.waitForPosition(R, { position, timeoutMs: 30_000 });
    assert.equal((await c.replicationStatus(R, {})).status?.io_running, true);
    await c.stopReplication(R, {});
    assert.equal((await c.replicationStatus(R, {})).status?.io_running, false);
    await c.startReplication(R, { semiSync: false });
    assert.equal((await c.replicationStatus(R, {})).status?.sql_running, true);
    const drained = await c.stopReplicationAndApplyRelay(R, { timeoutMs: 30_000 });
    assert.equal(drained.replication?.sql_running, false);
    assert.equal(drained.position, position);
    await c.resetReplication(R, {});
    assert.deepEqual(await c.replicationStatus(R, {}), { status: null });
    await c.setReplicationSource(R, source);
    await c.setSemiSync(R, { primary: false, replica: false });
    assert.equal((await c.fullStatus(R, {})).semi_sync_replica_enabled, false);

    const { tablet: rdonly } = await c.changeType(R, { tabletType: 'rdonly' });
    assert.equal(rdonly.type, 'rdonly');
    assert.equal((await record(R)).type, 'rdonly');
    assert.equal((await c.changeType(R, { tabletType: 'replica' })).tablet.type, 'replica');

    // A planned reparent's steps, undone: demote and undo on the primary, the journal, and the
    // replica promoted then sent back (the shard record never names it).
    const demoted = await c.demotePrimary(P, { timeoutMs: 5_000 });
    assert.deepEqual(demoted, { position, drained: true });
    assert.equal((await c.getHealth(P, {})).serving, false);
    await c.undoDemotePrimary(P, { semiSync: false });
    assert.equal((await c.getHealth(P, {})).serving, true);
    await c.populateReparentJournal(P, { actionName: `test ${name}`, primaryAlias: P, position, timeoutMs: 10_000 });
    const journal = await c.executeFetchAsDba(P, { sql: 'select action_name from _vt.reparent_journal order by time_created_ns desc limit 1' });
    assert.deepEqual(journal.rows, [[`test ${name}`]]);
    const promoted = await c.promoteReplica(R, { semiSync: false, primaryTermStartTime: new Date().toISOString() });
    assert.match(promoted.position, /^MariaDB\/0-250-\d+/);
    assert.equal((await record(R)).type, 'primary');
    const back = await c.setReplicationSource(R, { ...source, primaryPosition: (await c.primaryPosition(P, {})).position, tabletType: 'replica' });
    assert.equal(back.tablet_type, 'replica');
    assert.equal(back.read_only, true);
    await c.waitForPosition(R, { position: (await c.primaryPosition(P, {})).position, timeoutMs: 30_000 });

    // A record works as well as an alias.
    await c.ping(p, {});
    await c.ping({ cell: 'zone1', uid: 250 }, {});
  });

  test(`${name}: errors: unknown tablet, tablet down, bad requests, the tablet's own errors, deadlines`, async () => {
    const c = client();
    const P = primary.alias;
    await assert.rejects(c.ping('zone1-999', {}), (e: Error) => isTopoError(e, 'NO_NODE') && /tablet zone1-0000000999 not found/.test(e.message));
    await assert.rejects(c.ping('nope', {}), (e: Error) => isTopoError(e, 'BAD_ARGUMENT'));
    await assert.rejects(c.ping(DOWN, {}), (e: TesseraError) => e.kind === 'UNAVAILABLE' && e.errno === 2002 && e.message.includes(tabletAliasString({ cell: 'zone1', uid: 259 })));

    const wrong = (re: RegExp) => (e: TesseraError) => e.errno === 1210 && e.sqlState === 'HY000' && re.test(e.message);
    await assert.rejects(c.executeFetchAsDba(P, { sql: 42 } as unknown as ExecuteFetchAsDbaRequest), wrong(/tm\.ExecuteFetchAsDba: 'sql' must be a string/));
    await assert.rejects(c.executeFetchAsDba(P, { sql: '' }), wrong(/'sql' is required/));
    await assert.rejects(c.executeFetchAsDba(P, { sql: 'select 1', maxRow: 5 } as unknown as ExecuteFetchAsDbaRequest), wrong(/unknown field 'maxRow' \(it takes: sql, maxRows,/));
    await assert.rejects(c.setReplicationSource(P, { host: '127.0.0.1', port: 0, semiSync: false }), wrong(/'port' must be between 1 and 65535, not 0/));
    await assert.rejects(c.changeType(P, { tabletType: 'master' } as unknown as { tabletType: 'replica' }), wrong(/'tabletType' must be one of primary, replica/));
    await assert.rejects(c.undoDemotePrimary(P, {} as unknown as { semiSync: boolean }), wrong(/tm\.UndoDemotePrimary: 'semiSync' is required/));

    // MariaDB's error, with its errno and SQLSTATE, naming the tablet; the tablet's kinds kept.
    await assert.rejects(c.executeFetchAsDba(P, { sql: 'select * from no_such_table' }), (e: TesseraError) => e.errno === 1146 && e.sqlState === '42S02' && e.message.startsWith(`tablet ${P}: `));
    await assert.rejects(c.changeType(replica.alias, { tabletType: 'primary' }), (e: TesseraError) => e.errno === 1210 && /InitShardPrimary or PlannedReparentShard/.test(e.message));
    const far = 'MariaDB/0-250-999999999';
    await assert.rejects(c.waitForPosition(P, { position: far, timeoutMs: 50 }), (e: TesseraError) => e.kind === 'DEADLINE_EXCEEDED' && e.errno === 1205 && /did not reach position/.test(e.message));
    // The caller's deadline, shorter than the wait it asked for; and a cancelled call.
    await assert.rejects(c.waitForPosition(P, { position: far, timeoutMs: 2_000 }, { timeoutMs: 100 }), (e: TesseraError) => e.kind === 'DEADLINE_EXCEEDED' && e.errno === 1317 && /did not answer within 100 ms/.test(e.message));
    const ac = new AbortController();
    const cancelled = c.waitForPosition(P, { position: far, timeoutMs: 2_000 }, { signal: ac.signal });
    ac.abort();
    await assert.rejects(cancelled, (e: TesseraError) => e.errno === 1317 && e.kind === undefined && /cancelled by its caller/.test(e.message));
  });
}

test('network: one pooled connection per tablet, reused by every call, sequential or concurrent', async () => {
  const c = new RpcTabletManagerClient(topo);
  try {
    for (let i = 0; i < 10; i++) await c.ping(primary.alias, {});
    await Promise.all(Array.from({ length: 20 }, () => c.primaryPosition(primary.alias, {})));
    await c.ping(await record(primary.alias), {});
    assert.deepEqual(c.stats(), { tablets: 1, dials: 1 });
    await Promise.all([c.ping(replica.alias, {}), c.fullStatus(replica.alias, {}), c.getHealth(primary.alias, {})]);
    assert.deepEqual(c.stats(), { tablets: 2, dials: 2 });
  } finally {
    c.close();
  }
  await assert.rejects(c.ping(primary.alias, {}), /tablet manager client is closed/);
});

test('network: a connection idle for idleTimeoutMs is closed, and the next call dials again', async () => {
  const c = new RpcTabletManagerClient(topo, { idleTimeoutMs: 50 });
  try {
    await c.ping(primary.alias, {});
    assert.deepEqual(c.stats(), { tablets: 1, dials: 1 });
    while (c.stats().tablets > 0) await new Promise((r) => setTimeout(r, 20));
    await c.ping(primary.alias, {});
    assert.deepEqual(c.stats(), { tablets: 1, dials: 2 });
  } finally {
    c.close();
  }
});

test('a tablet restarted at the same address, then at another port: both clients reach it again', async () => {
  const c = new RpcTabletManagerClient(topo);
  try {
    await c.ping(primary.alias, {});
    assert.equal(c.stats().dials, 1);
    const before = await record(primary.alias);

    await stopPrimary();
    for (const tmc of [local, c]) {
      await assert.rejects(tmc.ping(primary.alias, {}), (e: TesseraError) => e.kind === 'UNAVAILABLE' && e.message.includes(primary.alias));
    }
    await startPrimary();
    await local.ping(primary.alias, {});
    await c.ping(primary.alias, {});
    const afterSame = c.stats();
    assert.equal(afterSame.tablets, 1);
    assert.ok(afterSame.dials >= 2, `dialled again after the restart (${afterSame.dials} dials)`);

    // Now on a port the topology learns at start: an alias follows it, an old record does not.
    await stopPrimary();
    await startPrimary(0);
    const moved = await record(primary.alias);
    assert.notEqual(moved.port_map.grpc, before.port_map.grpc);
    await c.ping(primary.alias, {});
    await local.ping(primary.alias, {});
    assert.deepEqual(c.stats(), { tablets: 1, dials: afterSame.dials + 1 });
    await assert.rejects(c.ping(before, {}), (e: TesseraError) => e.kind === 'UNAVAILABLE' && e.message.includes(`unreachable at 127.0.0.1:${before.port_map.grpc}`));
    await c.ping(primary.alias, {});
  } finally {
    c.close();
  }
});

test('in-process with a network fallback: a tablet running in another process is reached over the network', async () => {
  // Only the primary is "in this process"; the replica is reached through the fallback.
  const mixed = new LocalTabletManagerClient(topo, (alias) => (alias === primary.alias ? primary.manager : undefined), {}, new RpcTabletManagerClient(topo));
  try {
    await mixed.ping(primary.alias, {});
    assert.deepEqual((await mixed.executeFetchAsDba(replica.alias, { sql: 'select @@global.read_only' })).rows, [['1']]);
    // Without the fallback the same call is UNAVAILABLE, naming the tablet.
    const alone = new LocalTabletManagerClient(topo, (alias) => (alias === primary.alias ? primary.manager : undefined));
    await assert.rejects(alone.ping(replica.alias, {}), (e: TesseraError) => e.kind === 'UNAVAILABLE' && /not running in this process/.test(e.message));
    alone.close();
  } finally {
    mixed.close();
  }
});
