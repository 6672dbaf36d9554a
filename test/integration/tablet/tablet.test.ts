import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import mysql from 'mysql2/promise';
import { decodeTextRow } from '../../../src/mysql/values.js';
import { TesseraError } from '../../../src/mysql/errors.js';
import { openTopoServer, type TopoServer } from '../../../src/topo/index.js';
import { RpcTabletManagerClient, TabletConn, type QueryService, type Target, type TabletProcess } from '../../../src/tablet/index.js';
import { intLiteral, stringLiteral } from '../../../src/sql/index.js';
import { startTestTablet } from '../../harness/tablet.js';
import { RpcServer } from '../../../src/rpc/index.js';
import { registerJsonExecute } from '../../../src/tablet/rpc-service.js';

let topo: TopoServer;
let tablet: TabletProcess;
let conn: TabletConn;
let tmc: RpcTabletManagerClient;
const target: Target = { keyspace: 'commerce', shard: '0', tabletType: 'primary' };

before(async () => {
  topo = openTopoServer({ topoImplementation: 'memory', topoGlobalServerAddress: `tablet-test-${process.pid}`, topoGlobalRoot: '/tessera/global' });
  tablet = await startTestTablet({
    cell: 'zone1',
    keyspace: 'commerce',
    shard: '0',
    tabletType: 'primary',
    topo,
    limits: { poolSize: 2, queueTimeoutMs: 300, rowsMax: 1000, transactionTimeoutMs: 400, queryTimeoutMs: 60_000 },
  });
  conn = new TabletConn('127.0.0.1', tablet.rpcPort);
  tmc = new RpcTabletManagerClient(topo);
  await tablet.manager.applySchema('create table product(sku varchar(128) primary key, description varchar(128), price bigint); create table t(id int primary key, v varchar(20))');
});

after(async () => {
  conn.close();
  tmc.close();
  await tablet.stop({ stopMysql: true });
  await topo.close();
});

const rowsOf = (r: { fields: readonly { type: number; flags: number; charset: number; decimals: number }[]; rows: readonly Buffer[] }) => r.rows.map((p) => decodeTextRow(p, r.fields));

for (const [name, qs] of [
  ['in-process', () => tablet.server as QueryService],
  ['network', () => conn as QueryService],
] as const) {
  test(`${name}: execute with bind variables, rows as MySQL row bytes`, async () => {
    await qs().execute(target, 'delete from product', null);
    const ins = await qs().execute(target, 'insert into product(sku, description, price) values (:a, :b, :c)', {
      a: stringLiteral('SKU-1001'),
      b: stringLiteral("it's a monitor"),
      c: intLiteral(100),
    });
    assert.equal(ins.rowsAffected, 1);
    const r = await qs().execute(target, 'select sku, description, price from product where price > :p', { p: intLiteral(50) });
    assert.deepEqual(r.fields.map((f) => f.name), ['sku', 'description', 'price']);
    assert.deepEqual(rowsOf(r), [['SKU-1001', "it's a monitor", 100n]]);
    assert.equal(r.tabletAlias, 'zone1-0000000200');
  });

  test(`${name}: a statement's warnings come back with its result, and only when it warned`, async () => {
    const r = await qs().execute(target, "select 1/0, cast('x' as signed)", null);
    assert.equal(r.warnings, 2);
    assert.deepEqual(r.warningList, [
      { level: 'Warning', code: 1365, message: 'Division by 0' },
      { level: 'Warning', code: 1292, message: "Truncated incorrect INTEGER value: 'x'" },
    ]);
    const quiet = await qs().execute(target, 'select 1', null);
    assert.equal(quiet.warnings, 0);
    assert.equal(quiet.warningList, undefined);
    const tx = await qs().execute(target, 'drop table if exists nosuch', null, { begin: true });
    assert.deepEqual(tx.warningList, [{ level: 'Note', code: 1051, message: "Unknown table 'vt_commerce.nosuch'" }]);
    if (tx.transactionId) await qs().rollback(target, tx.transactionId);
  });

  test(`${name}: a transaction across statements, begin in the first round trip, rollback`, async () => {
    await qs().execute(target, 'delete from t', null);
    const r1 = await qs().execute(target, 'insert into t values (1, "a")', null, { begin: true });
    assert.ok(r1.transactionId > 0);
    await qs().execute(target, 'insert into t values (2, "b")', null, { transactionId: r1.transactionId });
    assert.equal(rowsOf(await qs().execute(target, 'select count(*) from t', null)).length, 1);
    assert.deepEqual(rowsOf(await qs().execute(target, 'select count(*) from t', null)), [[0n]]);
    await qs().commit(target, r1.transactionId);
    assert.deepEqual(rowsOf(await qs().execute(target, 'select count(*) from t', null)), [[2n]]);
    const { transactionId } = await qs().begin(target);
    await qs().execute(target, 'delete from t', null, { transactionId });
    await qs().rollback(target, transactionId);
    assert.deepEqual(rowsOf(await qs().execute(target, 'select count(*) from t', null)), [[2n]]);
    await assert.rejects(qs().commit(target, transactionId), (e: TesseraError) => e.kind === 'ABORTED');
  });

  test(`${name}: refusals say why: wrong keyspace/shard, wrong type, not serving, denied table`, async () => {
    await assert.rejects(qs().execute({ ...target, shard: '-80' }, 'select 1', null), (e: TesseraError) => e.kind === 'WRONG_TARGET' && /serves commerce\/0/.test(e.message));
    await assert.rejects(qs().execute({ ...target, tabletType: 'replica' }, 'select 1', null), (e: TesseraError) => e.kind === 'WRONG_TARGET' && /is primary/.test(e.message));
    await topo.updateShardFields('commerce', '0', (s) => {
      s.tablet_controls = [{ tablet_type: 'primary', cells: [], denied_tables: ['product'], disable_query_service: false, frozen: false }];
    });
    await tablet.manager.refreshState();
    await assert.rejects(qs().execute(target, 'select * from product', null), (e: TesseraError) => e.kind === 'DENIED_TABLE' && /product is denied/.test(e.message));
    await assert.rejects(qs().execute(target, 'select * from t', null, { tables: ['product'] }), (e: TesseraError) => e.kind === 'DENIED_TABLE');
    assert.ok(await qs().execute(target, 'select * from t', null));
    // A shard that is not primary-serving (a resharding target) still answers targeted queries on
    // its primary, as in Vitess; its control's query_service_disabled is what stops it.
    await topo.updateShardFields('commerce', '0', (s) => {
      s.tablet_controls = [];
      s.is_primary_serving = false;
    });
    await tablet.manager.refreshState();
    assert.ok(await qs().execute(target, 'select 1', null));
    await topo.setShardTabletControl('commerce', '0', 'primary', { disableQueryService: true });
    await tablet.manager.refreshState();
    await assert.rejects(qs().execute(target, 'select 1', null), (e: TesseraError) => e.kind === 'NOT_SERVING' && /not serving/.test(e.message));
    await topo.setShardTabletControl('commerce', '0', 'primary', { remove: true });
    await topo.updateShardFields('commerce', '0', (s) => {
      s.is_primary_serving = true;
    });
    await tablet.manager.refreshState();
    assert.ok(await qs().execute(target, 'select 1', null));
  });

  test(`${name}: query_service_disabled for the type stops serving, naming the control; the primary partition does not decide`, async () => {
    // Before any rebuild the shard record's control decides; afterwards the cell's SrvKeyspace.
    for (const rebuilt of [false, true]) {
      if (rebuilt) await topo.rebuildKeyspaceGraph('commerce', { resetPartitions: true });
      await topo.setShardTabletControl('commerce', '0', 'primary', { disableQueryService: true });
      await tablet.manager.refreshState();
      await assert.rejects(
        qs().execute(target, 'select 1', null),
        (e: TesseraError) => e.kind === 'NOT_SERVING' && /tablet control of commerce\/0 for primary disables the query service/.test(e.message),
      );
      // A control for another type leaves the primary alone.
      await topo.setShardTabletControl('commerce', '0', 'primary', { remove: true });
      await topo.setShardTabletControl('commerce', '0', 'replica', { disableQueryService: true });
      await tablet.manager.refreshState();
      assert.ok(await qs().execute(target, 'select 1', null));
      await topo.setShardTabletControl('commerce', '0', 'replica', { remove: true });
    }
    // A primary whose shard the primary partition leaves out still serves: is_primary_serving
    // decides, as in Vitess, whose tablets never consult the partition.
    await topo.updateSrvKeyspaceFields('zone1', 'commerce', (srv) => {
      for (const p of srv.partitions) if (p.served_type === 'primary') p.shard_references = [];
    });
    await tablet.manager.refreshState();
    assert.ok(await qs().execute(target, 'select 1', null));
    await topo.rebuildKeyspaceGraph('commerce', { resetPartitions: true });
  });

  test(`${name}: an oversized result is refused, not truncated`, async () => {
    await assert.rejects(qs().execute(target, 'select seq from seq_1_to_1001', null), (e: TesseraError) => e.errno === 1172 && /exceeded 1000/.test(e.message));
    assert.equal((await qs().execute(target, 'select seq from seq_1_to_1000', null)).rows.length, 1000);
  });

  test(`${name}: query timeout kills the statement in MariaDB`, async () => {
    await assert.rejects(qs().execute(target, 'select sleep(10)', null, { timeoutMs: 200 }), (e: TesseraError) => e.errno === 1317 && e.kind === 'DEADLINE_EXCEEDED');
    const c = await mysql.createConnection({ socketPath: tablet.mysqlctl!.socket, user: 'vt_dba' });
    try {
      const [rows] = await c.query("select count(*) as n from information_schema.processlist where info like 'select sleep(10)%'");
      assert.equal((rows as { n: number }[])[0].n, 0);
    } finally {
      await c.end();
    }
  });

  test(`${name}: an idle transaction is rolled back by the tablet, and later calls say so`, async () => {
    await qs().execute(target, 'delete from t where id = 9', null);
    const r = await qs().execute(target, 'insert into t values (9, "idle")', null, { begin: true });
    await new Promise((res) => setTimeout(res, 1200));
    await assert.rejects(qs().execute(target, 'select 1', null, { transactionId: r.transactionId }), (e: TesseraError) => e.kind === 'ABORTED' && /idle for more than 400 ms/.test(e.message));
    assert.deepEqual(rowsOf(await qs().execute(target, 'select count(*) from t where id = 9', null)), [[0n]]);
  });

  test(`${name}: pool exhaustion is a clear error naming the pool and its flag`, async () => {
    const results = await Promise.allSettled([1, 2, 3].map(() => qs().execute(target, 'select sleep(1)', null)));
    const rejected = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    assert.equal(rejected.length, 1);
    assert.match(rejected[0].reason.message, /query pool exhausted: all 2 connections .*--queryserver-config-pool-size/);
    assert.equal((rejected[0].reason as TesseraError).kind, 'RESOURCE_EXHAUSTED');
  });
}

test('network: a transaction whose gate connection closes is rolled back at once; one the gate used again over a new connection is not', async () => {
  await conn.execute(target, 'delete from t where id in (11, 12)', null);
  // The gate dies (its connection closes) with a transaction open: rolled back now, its row free,
  // not after the idle-transaction timeout.
  const gone = new TabletConn('127.0.0.1', tablet.rpcPort);
  const r = await gone.execute(target, 'insert into t values (11, "orphan")', null, { begin: true });
  gone.close();
  let why = '';
  for (let i = 0; i < 250 && why === ''; i++) {
    await conn.execute(target, 'select 1', null, { transactionId: r.transactionId }).then(
      () => new Promise((res) => setTimeout(res, 10)),
      (e: TesseraError) => (why = e.kind === 'ABORTED' ? e.message : `not ABORTED: ${e.message}`),
    );
  }
  assert.match(why, /connection of the gate that runs it closed/);
  assert.deepEqual(rowsOf(await conn.execute(target, 'select count(*) from t where id = 11', null)), [[0n]]);
  // A gate that lost its connection and used the transaction again over a new one keeps it.
  const first = new TabletConn('127.0.0.1', tablet.rpcPort);
  const r2 = await first.execute(target, 'insert into t values (12, "moved")', null, { begin: true });
  await conn.execute(target, 'select 1', null, { transactionId: r2.transactionId });
  first.close();
  await new Promise((res) => setTimeout(res, 50));
  await conn.execute(target, 'insert into t values (13, "moved")', null, { transactionId: r2.transactionId });
  await conn.commit(target, r2.transactionId);
  assert.deepEqual(rowsOf(await conn.execute(target, 'select count(*) from t where id in (12, 13)', null)), [[2n]]);
});

test('schema engine reloads after DDL', async () => {
  await conn.execute(target, 'alter table t add column extra int', null);
  const t = tablet.server.schema.table('t');
  assert.deepEqual(t?.columns.map((c) => c.name), ['id', 'v', 'extra']);
  assert.deepEqual(t?.primaryKey, ['id']);
  const { tables: schema } = await tmc.getSchema(tablet.alias, {});
  assert.deepEqual(schema.map((s) => s.name).sort(), ['product', 't']);
});

test('network: a million rows stream with bounded memory', async () => {
  let rows = 0;
  let fields = 0;
  let peak = 0;
  const base = process.memoryUsage().heapUsed;
  await conn.streamExecute(target, "select seq, repeat('x', 100) from seq_1_to_1000000", null, async (chunk) => {
    if (chunk.fields) fields = chunk.fields.length;
    rows += chunk.rows.length;
    if (rows % 50000 < chunk.rows.length) {
      peak = Math.max(peak, process.memoryUsage().heapUsed - base);
      await new Promise((r) => setImmediate(r));
    }
  });
  assert.equal(fields, 2);
  assert.equal(rows, 1_000_000);
  // The whole result is ~110 MB of row bytes; a stream that buffered it would show that here.
  assert.ok(peak < 64 * 1024 * 1024, `heap grew by ${Math.round(peak / 1e6)} MB while streaming`);
});

test('network: qs.execute with JSON meta, as gates before qs.executeBinary call it, answers as qs.executeBinary does', async () => {
  await conn.execute(target, 'delete from t', null);
  const sql = "insert into t(id, v) values (7, 'seven')";
  const ins = await conn.rpc.call('qs.execute', { target: { ...target }, sql, bindVars: null, options: { tables: ['t'] } });
  assert.equal((ins.meta as { rowsAffected: number }).rowsAffected, 1);
  const json = await conn.rpc.call('qs.execute', { target: { ...target }, sql: 'select id, v from t where id = :id', bindVars: { id: intLiteral(7) } as never, options: {} });
  const bin = await conn.execute(target, 'select id, v from t where id = :id', { id: intLiteral(7) });
  // Blob 0 is the fields' JSON, then the rows: the same row bytes as the binary reply's.
  assert.deepEqual(JSON.parse(json.blobs[0].toString()).map((f: { name: string }) => f.name), ['id', 'v']);
  assert.deepEqual(json.blobs.slice(1), bin.rows);
  assert.deepEqual(rowsOf(bin), [[7, 'seven']]);
  assert.equal((json.meta as { tabletAlias: string }).tabletAlias, bin.tabletAlias);
});

test('a gate against a tablet from before qs.executeBinary: 1047 once, then JSON qs.execute, same results', async () => {
  // An older tablet's RPC server: qs.execute with JSON meta, no binary method.
  const older = new RpcServer();
  registerJsonExecute(older, tablet.server);
  const port = await older.listen(0);
  const c = new TabletConn('127.0.0.1', port);
  try {
    await c.execute(target, 'delete from t', null);
    assert.equal(c.jsonExecute, true);
    await c.execute(target, "insert into t(id, v) values (8, 'eight')", null, { tables: ['t'] });
    const r = await c.execute(target, 'select id, v from t where id = :id', { id: intLiteral(8) });
    assert.deepEqual(rowsOf(r), [[8, 'eight']]);
    assert.deepEqual(r.rows, (await conn.execute(target, 'select id, v from t where id = 8', null)).rows);
    assert.equal(c.rpc.dials, 1, 'the refused binary call did not cost the connection');
  } finally {
    c.close();
    await older.close();
  }
});

test('tablet manager over the network: fetch as dba/app, positions, read-only', async () => {
  const t = tablet.alias;
  await tmc.ping(t, {});
  const f = await tmc.executeFetchAsDba(t, { sql: 'select @@server_id as id' });
  assert.deepEqual(f, { fields: ['id'], rows: [['200']], rowsAffected: 0, insertId: '0' });
  const { position: pos } = await tmc.primaryPosition(t, {});
  assert.match(pos, /^MariaDB\/0-200-\d+$/);
  await tmc.waitForPosition(t, { position: pos, timeoutMs: 1000 });
  await assert.rejects(tmc.waitForPosition(t, { position: 'MariaDB/0-200-999999', timeoutMs: 100 }), /did not reach position/);
  await tmc.setReadOnly(t, {});
  await assert.rejects(conn.execute(target, 'insert into t(id, v) values (77, "ro")', null), (e: TesseraError) => e.errno === 1290);
  await tmc.setReadWrite(t, {});
  await conn.execute(target, 'insert into t(id, v) values (77, "rw")', null);
  await assert.rejects(tmc.changeType(t, { tabletType: 'rdonly' }).then(() => tmc.changeType(t, { tabletType: 'primary' })), /InitShardPrimary or PlannedReparentShard/);
});

test('malformed frames at the tablet RPC port: the tablet keeps serving others', async () => {
  const good = new TabletConn('127.0.0.1', tablet.rpcPort);
  const t2: Target = { keyspace: 'commerce', shard: '0', tabletType: (await topo.getTablet({ cell: 'zone1', uid: 200 })).value.type };
  try {
    let seed = 99;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 255;
    const work = (async () => {
      for (let i = 0; i < 50; i++) await good.execute(t2, 'select 1', null);
    })();
    for (let i = 0; i < 40; i++) {
      const bytes = Buffer.from(Array.from({ length: 1 + (rnd() % 80) }, rnd));
      if (i % 4 === 0) bytes.writeUInt32LE(0xffffff, 0);
      await new Promise<void>((resolve) => {
        const s = net.createConnection({ host: '127.0.0.1', port: tablet.rpcPort }, () => {
          s.end(bytes);
          setTimeout(() => {
            s.destroy();
            resolve();
          }, 5);
        });
        s.on('error', () => resolve());
      });
    }
    await work;
  } finally {
    good.close();
  }
});

test('an unmanaged tablet attaches to an existing MariaDB', async () => {
  const { startMariaDB } = await import('../../harness/mariadb.js');
  const db = await startMariaDB();
  const { TabletProcess } = await import('../../../src/tablet/index.js');
  const t = await TabletProcess.start({
    uid: 401,
    cell: 'zone1',
    keyspace: 'ext',
    shard: '0',
    tabletType: 'primary',
    topo,
    rpcPort: 0,
    httpPort: -1,
    unmanaged: { host: db.host, port: db.port, appUser: 'vt_app', appPassword: '', dbaUser: 'vt_dba', dbaPassword: '' },
  });
  try {
    assert.equal(t.mysqlctl, null);
    const c = new TabletConn('127.0.0.1', t.rpcPort);
    const tgt: Target = { keyspace: 'ext', shard: '0', tabletType: 'primary' };
    await tmc.applySchema(t.alias, { sql: 'create table x (id int primary key)' });
    await c.execute(tgt, 'insert into x values (1), (2)', null);
    assert.deepEqual(rowsOf(await c.execute(tgt, 'select count(*) from x', null)), [[2n]]);
    assert.equal((await topo.getTablet({ cell: 'zone1', uid: 401 })).value.mysql_port, db.port);
    c.close();
  } finally {
    await t.stop();
    await db.stop();
  }
});

test('tablets with account passwords: the query service logs in as vt_app, a replica follows its primary as vt_repl', async () => {
  const creds = { vt_app: 'app-pw', vt_repl: 'repl-pw', vt_filtered: 'f-pw' };
  const p = await startTestTablet({ cell: 'zone1', keyspace: 'pw', shard: '0', tabletType: 'primary', topo, credentials: creds });
  const r = await startTestTablet({ cell: 'zone1', keyspace: 'pw', shard: '0', tabletType: 'replica', topo, credentials: creds });
  try {
    const pt: Target = { keyspace: 'pw', shard: '0', tabletType: 'primary' };
    await p.manager.applySchema('create table x (id int primary key)');
    await p.server.execute(pt, 'insert into x values (1), (2), (3)', null);
    await r.manager.replication.setSource({ host: '127.0.0.1', port: (await topo.getTablet({ cell: 'zone1', uid: Number(p.alias.split('-')[1]) })).value.mysql_port, semiSync: false });
    await r.manager.waitForPosition(await p.manager.primaryPosition(), 10_000);
    const f = await r.manager.executeFetchAsDba('select count(*) from x');
    assert.deepEqual(f.rows, [['3']]);
  } finally {
    await r.stop({ stopMysql: true });
    await p.stop({ stopMysql: true });
  }
});

test("a tablet builds its keyspace's sidecar database, named by sidecar_db_name, and journals reparents there", async () => {
  await topo.createKeyspace('side', { sidecar_db_name: 'side_vt' });
  const t = await startTestTablet({ cell: 'zone1', keyspace: 'side', shard: '0', tabletType: 'primary', topo });
  try {
    assert.equal(t.server.sidecarDb, 'side_vt');
    const tables = await t.manager.executeFetchAsDba("select table_name from information_schema.tables where table_schema = 'side_vt' order by table_name");
    assert.deepEqual(tables.rows.map((r) => String(r[0])), ['copy_state', 'post_copy_action', 'reparent_journal', 'resharding_journal', 'sidecar_schema_version', 'vdiff', 'vdiff_log', 'vdiff_row', 'vdiff_table', 'vreplication', 'vreplication_log']);
    await t.manager.replication.writeJournal('InitShardPrimary', t.alias, 'MariaDB/0-1-1', 10_000);
    const j = await t.manager.executeFetchAsDba('select action_name, primary_alias from side_vt.reparent_journal');
    assert.deepEqual(j.rows.map((r) => r.map(String)), [['InitShardPrimary', t.alias]]);
  } finally {
    await t.stop({ stopMysql: true });
  }
});
