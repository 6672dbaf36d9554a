// The sidecar schema on real MariaDB: created on a fresh instance without a trace in the binlog,
// upgraded from an older version and from the unversioned state tablets left before, in a
// database of another name, and the rows written on a primary reaching its replica (while each
// server's DDL stays its own).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '../../../src/mysql/client.js';
import {
  cellText,
  ensureSidecarSchema,
  readSidecarVersion,
  SIDECAR_SCHEMA_VERSION,
  SIDECAR_VERSION_TABLE,
  SIDECAR_VERSIONS,
} from '../../../src/sidecar/index.js';
import { NO_LIMIT, StreamStore } from '../../../src/vreplication/index.js';
import { startMariaDBs, type TestMariaDB } from '../../harness/mariadb.js';

/** copy_state rows without their chunk fields (row ids differ from run to run). */
function plainCopyState<T extends { table: string; lastpk: unknown; rowsCopied: number; bytesCopied: number }>(rows: readonly T[]) {
  return rows.map(({ table, lastpk, rowsCopied, bytesCopied }) => ({ table, lastpk, rowsCopied, bytesCopied }));
}

let primary: TestMariaDB;
let replica: TestMariaDB;
let p: Client;
let r: Client;

before(async () => {
  [primary, replica] = await startMariaDBs(2);
  p = await Client.connect({ socketPath: primary.socket, user: 'vt_dba' });
  r = await Client.connect({ socketPath: replica.socket, user: 'vt_dba' });
});

after(async () => {
  p?.close();
  r?.close();
  await Promise.all([primary?.stop(), replica?.stop()]);
});

async function one(c: Client, sql: string): Promise<string> {
  return cellText((await c.query(sql)).rows[0]?.[0]);
}

async function column(c: Client, sql: string): Promise<string[]> {
  return (await c.query(sql)).rows.map((row) => cellText(row[0]));
}

async function tables(c: Client, db: string): Promise<string[]> {
  return column(c, `select table_name from information_schema.tables where table_schema = '${db}' order by table_name`);
}

/** Statements in every binary log of the server (SHOW BINLOG EVENTS reads one file at a time). */
async function binlogStatements(c: Client): Promise<string[]> {
  const out: string[] = [];
  for (const file of await column(c, 'SHOW BINARY LOGS')) {
    const ev = await c.query(`SHOW BINLOG EVENTS IN '${file}'`);
    for (const row of ev.rows) out.push(cellText(row[5]));
  }
  return out;
}

test('a fresh instance gets every table at the newest version, and nothing of it in the binlog', async () => {
  const before = await one(p, 'select @@global.gtid_binlog_pos');
  const res = await ensureSidecarSchema(p);
  assert.deepEqual(res, { db: '_vt', from: 0, to: SIDECAR_SCHEMA_VERSION });
  assert.deepEqual(await tables(p, '_vt'), ['copy_state', 'post_copy_action', 'reparent_journal', 'resharding_journal', SIDECAR_VERSION_TABLE, 'vdiff', 'vdiff_log', 'vdiff_row', 'vdiff_table', 'vreplication', 'vreplication_log'].sort());
  assert.deepEqual(
    await column(p, "select column_name from information_schema.columns where table_schema = '_vt' and table_name = 'vreplication' order by ordinal_position"),
    ['id', 'workflow', 'source', 'pos', 'stop_pos', 'max_tps', 'max_replication_lag', 'cell', 'tablet_types', 'time_updated', 'transaction_timestamp', 'state',
      'message', 'db_name', 'rows_copied', 'tags', 'time_heartbeat', 'workflow_type', 'time_throttled', 'component_throttled', 'reason_throttled',
      'workflow_sub_type', 'defer_secondary_keys', 'options'],
  );
  assert.deepEqual(await column(p, "select column_name from information_schema.columns where table_schema = '_vt' and table_name = 'vreplication_log' order by ordinal_position"),
    ['id', 'vrepl_id', 'type', 'state', 'created_at', 'updated_at', 'message', 'count']);
  assert.deepEqual(await column(p, "select column_name from information_schema.columns where table_schema = '_vt' and table_name = 'copy_state' order by ordinal_position"),
    ['id', 'vrepl_id', 'table_name', 'lastpk', 'rows_copied', 'bytes_copied', 'chunk_end', 'chunk_done']);
  // Again: nothing to do, and the session's binlog setting is given back.
  assert.deepEqual(await ensureSidecarSchema(p), { db: '_vt', from: SIDECAR_SCHEMA_VERSION, to: SIDECAR_SCHEMA_VERSION });
  assert.equal(await one(p, 'select @@session.sql_log_bin'), '1');
  assert.equal(await one(p, 'select @@global.gtid_binlog_pos'), before, 'no GTID was written');
  const logged = (await binlogStatements(p)).filter((s) => /vreplication|copy_state|reparent_journal|sidecar_schema_version/i.test(s));
  assert.deepEqual(logged, []);
});

test('an older version is upgraded in place, keeping its rows', async () => {
  const db = 'upgrade_vt';
  assert.deepEqual(await ensureSidecarSchema(p, { db, upTo: 1 }), { db, from: 0, to: 1 });
  assert.deepEqual(await tables(p, db), ['reparent_journal', SIDECAR_VERSION_TABLE]);
  // Unlogged, so that the replica of the last test, which replays this binlog, needs no such table.
  await p.query('SET SESSION sql_log_bin = 0');
  await p.query(`insert into ${db}.reparent_journal values (1, 'PlannedReparentShard', 'zone1-0000000101', 'MariaDB/0-101-5')`);
  await p.query('SET SESSION sql_log_bin = 1');
  assert.equal(await one(p, `select column_type from information_schema.columns where table_schema = '${db}' and table_name = 'reparent_journal' and column_name = 'primary_alias'`), 'varbinary(32)');

  assert.deepEqual(await ensureSidecarSchema(p, { db }), { db, from: 1, to: SIDECAR_SCHEMA_VERSION });
  assert.equal(await one(p, `select column_type from information_schema.columns where table_schema = '${db}' and table_name = 'reparent_journal' and column_name = 'primary_alias'`), 'varbinary(255)');
  assert.equal(await one(p, `select primary_alias from ${db}.reparent_journal where time_created_ns = 1`), 'zone1-0000000101');
  assert.ok((await tables(p, db)).includes('vreplication'));
  assert.deepEqual(await column(p, `select version from ${db}.${SIDECAR_VERSION_TABLE} order by version`), SIDECAR_VERSIONS.map((v) => String(v.version)));
  assert.equal(await readSidecarVersion(p, db), SIDECAR_SCHEMA_VERSION);
  assert.equal(await readSidecarVersion(p, 'no_such_sidecar'), 0);
});

test('the unversioned sidecar database tablets made before is adopted: every step runs again, harmlessly', async () => {
  const db = 'legacy_vt';
  await p.query('SET SESSION sql_log_bin = 0');
  await p.query(`create database ${db}`);
  await p.query(`create table ${db}.reparent_journal (time_created_ns BIGINT UNSIGNED NOT NULL, action_name VARBINARY(250) NOT NULL,
    primary_alias VARBINARY(32) NOT NULL, replication_position VARBINARY(64000) DEFAULT NULL, PRIMARY KEY (time_created_ns)) ENGINE=InnoDB`);
  await p.query(`insert into ${db}.reparent_journal values (7, 'InitShardPrimary', 'zone1-0000000100', '')`);
  await p.query('SET SESSION sql_log_bin = 1');
  assert.deepEqual(await ensureSidecarSchema(p, { db }), { db, from: 0, to: SIDECAR_SCHEMA_VERSION });
  assert.equal(await one(p, `select action_name from ${db}.reparent_journal`), 'InitShardPrimary');
});

test('every step is idempotent: a version interrupted halfway runs again from its first step', async () => {
  const db = 'again_vt';
  await p.query('SET SESSION sql_log_bin = 0');
  await p.query(`create database ${db}`);
  try {
    for (const v of SIDECAR_VERSIONS) {
      for (const step of v.steps(db)) {
        await p.query(step);
        await p.query(step);
      }
    }
  } finally {
    await p.query('SET SESSION sql_log_bin = 1');
  }
  // No version recorded: the upgrade runs every step once more over the finished tables.
  assert.deepEqual(await ensureSidecarSchema(p, { db }), { db, from: 0, to: SIDECAR_SCHEMA_VERSION });
});

test('versions are numbered from 1 without gaps', () => {
  assert.deepEqual(SIDECAR_VERSIONS.map((v) => v.version), SIDECAR_VERSIONS.map((_, i) => i + 1));
});

test('a version this code does not know is refused as a target', async () => {
  await assert.rejects(ensureSidecarSchema(p, { db: 'x_vt', upTo: SIDECAR_SCHEMA_VERSION + 1 }), /does not exist/);
});

test('rows written on a primary replicate into the replica, whose tables it built itself', async () => {
  const db = 'sidecar_rep';
  // Each server builds its own schema, as each tablet does at start, without binlogging it.
  await ensureSidecarSchema(p, { db });
  await ensureSidecarSchema(r, { db });
  await r.query(
    `CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = ${primary.port}, MASTER_USER = 'vt_repl', MASTER_PASSWORD = '', MASTER_USE_GTID = slave_pos`,
  );
  await r.query('START SLAVE');
  const store = new StreamStore(p, db);
  const id = await store.insertStream({
    workflow: 'wf1',
    source: { keyspace: 'commerce', shard: '0', filter: { rules: [{ match: 'customer', filter: 'select * from customer' }] }, onDdl: 'IGNORE' },
    dbName: 'vt_customer',
    copyTables: ['customer'],
  });
  await store.log(id, 'Stream Created', 'Stopped', 'created by the test');
  const pos = await one(p, 'select @@global.gtid_binlog_pos');
  assert.equal(await one(r, `select master_gtid_wait('${pos}', 30)`), '0', 'the replica caught up');
  const onReplica = new StreamStore(r, db);
  const [s] = await onReplica.readStreams({ workflow: 'wf1' });
  assert.equal(s?.id, id);
  assert.equal(s?.source.keyspace, 'commerce');
  assert.equal(s?.maxTps, NO_LIMIT);
  assert.deepEqual(plainCopyState(await onReplica.readCopyState(id)), [{ table: 'customer', lastpk: null, rowsCopied: 0, bytesCopied: 0 }]);
  assert.equal((await onReplica.readLog(id)).length, 1);
  const status = await r.query('SHOW SLAVE STATUS');
  const names = status.fields.map((f) => f.name);
  assert.equal(cellText(status.rows[0]![names.indexOf('Last_SQL_Error')]), '');
  // The primary's binlog has the rows and no DDL of the sidecar database.
  const stmts = await binlogStatements(p);
  assert.ok(!stmts.some((st) => /create (table|database)[^;]*sidecar_rep/i.test(st)), 'no sidecar DDL in the binlog');
  await r.query('STOP SLAVE');
});
