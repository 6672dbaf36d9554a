// The stream store on real MariaDB: streams written, read and changed; the engine's statements
// run in its own transaction; the log's repeat counter; copy_state keeping awkward keys exactly
// as MariaDB returned them; all in a sidecar database that is not `_vt`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '../../../src/mysql/client.js';
import { cellText, ensureSidecarSchema } from '../../../src/sidecar/index.js';
import { quoteString } from '../../../src/sql/index.js';
import {
  NO_LIMIT,
  parseBinlogSource,
  StreamStore,
  WORKFLOW_SUB_TYPE,
  WORKFLOW_TYPE,
  type BinlogSource,
} from '../../../src/vreplication/index.js';
import { startMariaDB, type TestMariaDB } from '../../harness/mariadb.js';

/** copy_state rows without their chunk fields (row ids differ from run to run). */
function plainCopyState<T extends { table: string; lastpk: unknown; rowsCopied: number; bytesCopied: number }>(rows: readonly T[]) {
  return rows.map(({ table, lastpk, rowsCopied, bytesCopied }) => ({ table, lastpk, rowsCopied, bytesCopied }));
}

const SIDECAR = 'my_sidecar';
let db: TestMariaDB;
let c: Client;
let store: StreamStore;

const source: BinlogSource = {
  keyspace: 'customer',
  shard: '0',
  filter: { rules: [{ match: 'customer', filter: "select * from customer where in_keyrange(customer_id, 'hash', '-80') and note = \"it's \\\"quoted\\\"\"" }] },
  onDdl: 'EXEC',
};

before(async () => {
  db = await startMariaDB();
  c = await Client.connect({ socketPath: db.socket, user: 'vt_dba' });
  await ensureSidecarSchema(c, { db: SIDECAR });
  store = new StreamStore(c, SIDECAR);
});

after(async () => {
  c?.close();
  await db?.stop();
});

async function one(sql: string): Promise<string> {
  return cellText((await c.query(sql)).rows[0]?.[0]);
}

test('a stream is written as Vitess writes it and read back typed', async () => {
  const id = await store.insertStream({
    workflow: 'move1',
    source,
    dbName: 'vt_customer',
    cell: 'zone1',
    tabletTypes: 'replica,primary',
    workflowType: WORKFLOW_TYPE.MoveTables,
    workflowSubType: WORKFLOW_SUB_TYPE.Partial,
    deferSecondaryKeys: true,
    options: { config: { 'vreplication-copy-rows-per-second': '100' } },
    copyTables: ['customer', 'corder'],
  });
  assert.ok(id > 0);
  // What `select * from _vt.vreplication\G` shows.
  assert.equal(await one(`select source from ${SIDECAR}.vreplication where id = ${id}`),
    'keyspace:"customer" shard:"0" filter:{rules:{match:"customer" filter:"select * from customer where in_keyrange(customer_id, \'hash\', \'-80\') and note = \\"it\'s \\\\\\"quoted\\\\\\"\\""}} on_ddl:EXEC');
  assert.equal(await one(`select max_tps from ${SIDECAR}.vreplication where id = ${id}`), '9223372036854775807');
  assert.equal(await one(`select workflow_sub_type from ${SIDECAR}.vreplication where id = ${id}`), '1');

  const s = await store.readStream(id);
  assert.ok(s);
  assert.deepEqual(s.source, source);
  assert.equal(s.workflow, 'move1');
  assert.equal(s.state, 'Stopped');
  assert.equal(s.pos, '');
  assert.equal(s.stopPos, null);
  assert.equal(s.maxTps, NO_LIMIT);
  assert.equal(s.maxReplicationLag, NO_LIMIT);
  assert.equal(typeof s.maxTps, 'bigint');
  assert.equal(s.cell, 'zone1');
  assert.equal(s.tabletTypes, 'replica,primary');
  assert.equal(s.dbName, 'vt_customer');
  assert.equal(s.workflowType, 1);
  assert.equal(s.workflowSubType, 1);
  assert.equal(s.deferSecondaryKeys, true);
  assert.deepEqual(s.options, { config: { 'vreplication-copy-rows-per-second': '100' } });
  assert.deepEqual(plainCopyState(await store.readCopyState(id)), [{ table: 'customer', lastpk: null, rowsCopied: 0, bytesCopied: 0 }, { table: 'corder', lastpk: null, rowsCopied: 0, bytesCopied: 0 }]);

  await store.setState(id, 'Copying', '');
  await store.setThrottled(id, 'vplayer', 'replica zone1-0000000102 lags 12 s, more than max_replication_lag 10 s');
  const t = await store.readStream(id);
  assert.equal(t?.state, 'Copying');
  assert.equal(t?.componentThrottled, 'vplayer');
  assert.match(t?.reasonThrottled ?? '', /lags 12 s/);
  assert.ok((t?.timeThrottled ?? 0) > 0);

  // Messages longer than the column are cut, not refused (strict mode would refuse them).
  await store.setMessage(id, 'é'.repeat(800));
  assert.equal(Buffer.byteLength((await store.readStream(id))?.message ?? ''), 1000);

  await store.updateStream(id, { stopPos: 'MariaDB/0-100-99', maxTps: 500n, tabletTypes: 'rdonly', source: { ...source, onDdl: 'STOP', stopAfterCopy: true } });
  const u = await store.readStream(id);
  assert.equal(u?.stopPos, 'MariaDB/0-100-99');
  assert.equal(u?.maxTps, 500n);
  assert.equal(u?.tabletTypes, 'rdonly');
  assert.deepEqual(u?.source, { ...source, onDdl: 'STOP', stopAfterCopy: true });
  await assert.rejects(store.setState(999_999, 'Running', ''), /no stream 999999/);
  await assert.rejects(store.setState(id, 'Sleeping' as 'Running', ''), /invalid stream state 'Sleeping'/);
});

test("the engine's statements commit or roll back with its own transaction", async () => {
  const id = await store.insertStream({ workflow: 'tx', source, dbName: 'vt_customer', copyTables: ['customer'] });
  await c.query('START TRANSACTION');
  await c.query(store.sqlSetPos(id, '0-100-20', 1_700_000_000, 1_699_999_999, 42));
  await c.query(store.sqlSetCopyState(id, 'customer', { columns: ['customer_id'], values: [42n] }));
  await c.query('ROLLBACK');
  assert.equal((await store.readStream(id))?.pos, '');
  assert.deepEqual(plainCopyState(await store.readCopyState(id)), [{ table: 'customer', lastpk: null, rowsCopied: 0, bytesCopied: 0 }]);

  await store.setMessage(id, 'retrying: source unreachable');
  await c.query('START TRANSACTION');
  await c.query(store.sqlSetPos(id, '0-100-20', 1_700_000_000, 1_699_999_999, 42));
  await c.query(store.sqlSetCopyState(id, 'customer', { columns: ['customer_id'], values: [40n] }, 40, 4000));
  await c.query(store.sqlSetCopyState(id, 'customer', { columns: ['customer_id'], values: [42n] }, 2, 200));
  await c.query('COMMIT');
  const s = await store.readStream(id);
  assert.equal(s?.pos, 'MariaDB/0-100-20');
  assert.equal(s?.timeUpdated, 1_700_000_000);
  assert.equal(s?.transactionTimestamp, 1_699_999_999);
  assert.equal(s?.rowsCopied, 42);
  assert.equal(s?.message, '', 'progress clears the retry message');
  assert.deepEqual(plainCopyState(await store.readCopyState(id)), [{ table: 'customer', lastpk: { columns: ['customer_id'], values: [42n] }, rowsCopied: 42, bytesCopied: 4200 }]);

  // Cut into chunks: one row per chunk, each with its start (lastpk) and end; a chunk's progress by its row.
  for (const sql of store.sqlSplitCopyState(id, 'customer', [{ columns: ['customer_id'], values: [100n] }, { columns: ['customer_id'], values: [200n] }])) await c.query(sql);
  const chunks = await store.readCopyState(id);
  assert.deepEqual(
    chunks.map((k) => [k.lastpk?.values ?? null, k.chunkEnd?.values ?? null, k.chunkDone]),
    [[null, [100n], false], [[100n], [200n], false], [[200n], null, false]],
  );
  await c.query(store.sqlSetChunkState(chunks[1].rowId, { columns: ['customer_id'], values: [150n] }, 5, 50, true));
  const after = (await store.readCopyState(id))[1];
  assert.deepEqual([after.lastpk?.values, after.chunkDone, after.rowsCopied, after.bytesCopied], [[150n], true, 5, 50]);
  await c.query(store.sqlDeleteCopyState(id, 'customer'));
  await c.query(store.sqlSetState(id, 'Running', ''));
  await c.query(store.sqlSetHeartbeat(id, 1_700_000_100));
  assert.deepEqual(plainCopyState(await store.readCopyState(id)), []);
  const r = await store.readStream(id);
  assert.equal(r?.state, 'Running');
  assert.equal(r?.timeHeartbeat, 1_700_000_100);
});

test('a repeated log message bumps its count instead of adding rows', async () => {
  const id = await store.insertStream({ workflow: 'logs', source, dbName: 'vt_customer' });
  await store.log(id, 'Stream Created', 'Stopped', 'created');
  for (let i = 0; i < 3; i++) await store.log(id, 'Error', 'Error', "Duplicate entry '5' for key 'PRIMARY'");
  await store.log(id, 'State Changed', 'Running', 'started');
  await store.log(id, 'Error', 'Error', "Duplicate entry '5' for key 'PRIMARY'");
  const log = await store.readLog(id);
  assert.deepEqual(log.map((e) => [e.type, e.state, e.message, e.count]), [
    ['Stream Created', 'Stopped', 'created', 1],
    ['Error', 'Error', "Duplicate entry '5' for key 'PRIMARY'", 3],
    ['State Changed', 'Running', 'started', 1],
    ['Error', 'Error', "Duplicate entry '5' for key 'PRIMARY'", 1],
  ]);
  assert.match(log[0]!.createdAt, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  assert.deepEqual((await store.readLog(id, 2)).map((e) => e.type), ['State Changed', 'Error']);
  // Another stream's identical message is its own row.
  const other = await store.insertStream({ workflow: 'logs', source, dbName: 'vt_customer' });
  await store.log(other, 'Error', 'Error', "Duplicate entry '5' for key 'PRIMARY'");
  assert.equal((await store.readLog(other))[0]?.count, 1);

  assert.deepEqual((await store.deleteStreams('logs')).sort(), [id, other].sort());
  assert.deepEqual(await store.readStreams({ workflow: 'logs' }), []);
  assert.deepEqual(await store.readLog(id), []);
});

test('copy_state keeps awkward keys exactly as MariaDB returned them', async () => {
  await c.query('create database keys_db');
  await c.query(`create table keys_db.k (
    b bigint unsigned not null, s bigint not null, v varchar(100) character set utf8mb4 collate utf8mb4_bin not null,
    raw varbinary(64) not null, d double not null, dec_col decimal(30,10) not null, dt datetime(6) not null,
    primary key (b, s, v, raw, d, dec_col, dt))`);
  await c.query(`insert into keys_db.k values
    (18446744073709551615, -9223372036854775808, 'O''Brien \\\\ "q" \\n 😀 日本 \\0 end', x'00ff27225c0a0d1a80', -1.5e300, '-12345678901234567890.0123456789', '2024-02-29 13:14:15.123456'),
    (9007199254740993, 9007199254740993, '', x'', 0, '0.0000000000', '1000-01-01 00:00:00')`);
  const rows = (await c.query('select b, s, v, raw, d, dec_col, dt from keys_db.k order by b')).rows;
  const columns = ['b', 's', 'v', 'raw', 'd', 'dec_col', 'dt'];
  const id = await store.insertStream({ workflow: 'keys', source, dbName: 'keys_db', copyTables: ['k', 'other table'] });
  for (const row of rows) {
    await c.query(store.sqlSetCopyState(id, 'k', { columns, values: row }));
    const [k] = plainCopyState(await store.readCopyState(id));
    assert.deepEqual(k, { table: 'k', lastpk: { columns, values: row }, rowsCopied: 0, bytesCopied: 0 });
    assert.equal(typeof k?.lastpk?.values[0], 'bigint');
    assert.ok(Buffer.isBuffer(k?.lastpk?.values[3]));
  }
  // Readable as it is stored.
  assert.equal(
    await one(`select lastpk from ${SIDECAR}.copy_state where vrepl_id = ${id} and table_name = 'k'`),
    "(b, s, v, raw, d, dec_col, dt) = (18446744073709551615n, -9223372036854775808n, 'O\\'Brien \\\\ \"q\" \\n 😀 日本 \\x00 end', x'00ff27225c0a0d1a80', -1.5e+300, '-12345678901234567890.0123456789', '2024-02-29 13:14:15.123456')",
  );
  // A table name that needs quoting in SQL is just a value here.
  await c.query(store.sqlSetCopyState(id, 'other table', { columns: ['id'], values: [1] }));
  assert.deepEqual((plainCopyState(await store.readCopyState(id)))[1], { table: 'other table', lastpk: { columns: ['id'], values: [1] }, rowsCopied: 0, bytesCopied: 0 });
});

test('a source written by Vitess reads back', async () => {
  const text = 'keyspace:"commerce" shard:"0" filter:{rules:{match:"customer" filter:"select * from `customer`"} rules:{match:"corder" filter:"select * from `corder`"}}';
  await c.query(
    `insert into ${SIDECAR}.vreplication (workflow, source, pos, max_tps, max_replication_lag, time_updated, transaction_timestamp, state, db_name, workflow_type, workflow_sub_type, defer_secondary_keys) ` +
      `values ('commerce2customer', ${quoteString(text)}, '', 9223372036854775807, 9223372036854775807, 1697060479, 0, 'Stopped', 'vt_customer', 1, 0, 0)`,
  );
  const [s] = await store.readStreams({ workflow: 'commerce2customer', db: 'vt_customer' });
  assert.deepEqual(s?.source, parseBinlogSource(text));
  assert.deepEqual(s?.options, {});
  assert.equal(s?.source.filter.rules[1]?.filter, 'select * from `corder`');
});
