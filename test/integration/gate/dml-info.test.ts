// The info line of an OK packet for statements whose parts run on several shards: what the
// `mariadb` client prints under "Query OK" and drivers parse (mysql2's changedRows). Each
// statement runs through the gate on a 2-shard keyspace and on one MariaDB holding the same rows,
// and both must say the same: affected rows, and `Records: …` or `Rows matched: …`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import type { TestCluster } from '../../harness/cluster.js';
import { SCHEMA, startTwoShards } from './two-shards.js';

let c: TestCluster;
let gate: mysql.Connection;
let one: mysql.Connection;

before(async () => {
  c = await startTwoShards();
  gate = await c.connect('ks');
  const addr = await c.mysqlAddress(c.shard('ks', '-80').primary);
  one = await mysql.createConnection({ host: addr.host, port: addr.port, user: 'vt_dba', password: '', supportBigNumbers: true, bigNumberStrings: true });
  await one.query('create database tessera_info_ref');
  await one.query('use tessera_info_ref');
  await one.query(SCHEMA);
});

after(async () => {
  await gate?.end();
  await one?.end();
  await c?.stop();
});

type Header = { affectedRows: number; info: string };

async function both(sql: string): Promise<{ gate: Header; one: Header }> {
  const [g] = await gate.query(sql);
  const [o] = await one.query(sql);
  const pick = (h: unknown): Header => ({ affectedRows: (h as Header).affectedRows, info: (h as Header).info });
  return { gate: pick(g), one: pick(o) };
}

const STATEMENTS = [
  'insert into t(id, v) values (1, 0), (2, 0), (3, 0), (4, 0), (6, 0), (7, 0)',
  // -80 gets two rows (1 a duplicate), 80- one.
  'insert ignore into t(id, v) values (1, 5), (8, 0), (9, 0)',
  // One row to each shard; 4 is a duplicate on its own.
  'insert ignore into t(id, v) values (4, 1), (10, 0)',
  'update t set v = v + 1 where id < 5',
  'update t set v = 1 where id in (1, 4, 6)',
  'update t set v = 7 where id = 2',
  'insert into t(id, v) select id + 100, v from t where id < 8',
  // Every row on one shard (-80): that MariaDB's line, REPLACE's duplicates included.
  'replace into t(id, v) values (1, 9), (2, 9)',
  'delete from t where id > 100',
];

for (const sql of STATEMENTS) {
  test(`as one MariaDB: ${sql}`, async () => {
    const r = await both(sql);
    assert.deepEqual(r.gate, r.one);
  });
}

test('the rows match too', async () => {
  const [g] = await gate.query('select id, v from t order by id');
  const [o] = await one.query('select id, v from t order by id');
  assert.deepEqual(g, o);
});
