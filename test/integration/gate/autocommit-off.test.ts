// With autocommit off (JDBC's setAutoCommit(false) sends SET autocommit = 0), the first statement
// that reaches a table opens a transaction in MariaDB, a read as much as a write: the reads after
// it see one snapshot, and SELECT ... FOR UPDATE keeps its locks until COMMIT. The same sequence
// runs through the gate on a 2-shard keyspace and straight on the shard's MariaDB, and must read
// the same; the lock must hold through the gate as it does there.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import type { TestCluster } from '../../harness/cluster.js';
import { startTwoShards } from './two-shards.js';

let c: TestCluster;

before(async () => {
  c = await startTwoShards();
  const setup = await c.connect('ks');
  await setup.query('insert into t(id, v) values (1, 0), (2, 0), (4, 0)');
  await setup.end();
});

after(async () => {
  await c?.stop();
});

async function direct(): Promise<mysql.Connection> {
  const addr = await c.mysqlAddress(c.shard('ks', '-80').primary);
  return mysql.createConnection({ host: addr.host, port: addr.port, user: 'vt_dba', password: '', database: 'vt_ks' });
}

const v = async (conn: mysql.Connection, id: number): Promise<number> => {
  const [rows] = await conn.query(`select v from t where id = ${id}`);
  return Number((rows as { v: number }[])[0].v);
};

test('a read opens the transaction: the next read sees its snapshot, as on MariaDB', async () => {
  const seen: Record<string, number[]> = {};
  for (const [name, open] of [['MariaDB', direct], ['gate', () => c.connect('ks')]] as const) {
    const reader = await open();
    const writer = await c.connect('ks');
    try {
      await writer.query('update t set v = 0 where id = 1');
      await reader.query('set autocommit = 0');
      const first = await v(reader, 1);
      await writer.query('update t set v = v + 5 where id = 1');
      const again = await v(reader, 1);
      await reader.query('commit');
      const after = await v(reader, 1);
      await reader.query('commit');
      seen[name] = [first, again, after];
    } finally {
      await reader.end();
      await writer.end();
    }
  }
  assert.deepEqual(seen.MariaDB, [0, 0, 5]);
  assert.deepEqual(seen.gate, seen.MariaDB);
});

test('SELECT ... FOR UPDATE keeps its lock until COMMIT', async () => {
  const holder = await c.connect('ks');
  const other = await c.connect('ks');
  try {
    await holder.query('set autocommit = 0');
    await holder.query('select v from t where id = 2 for update');
    await other.query('set innodb_lock_wait_timeout = 1');
    await assert.rejects(other.query('update t set v = 7 where id = 2'), (e: { errno?: number }) => e.errno === 1205);
    await holder.query('update t set v = v + 1 where id = 2');
    await holder.query('commit');
    await other.query('update t set v = v * 10 where id = 2');
    assert.equal(await v(other, 2), 10);
  } finally {
    await holder.end();
    await other.end();
  }
});

test('with autocommit back on, a read is a statement of its own again', async () => {
  const conn = await c.connect('ks');
  const writer = await c.connect('ks');
  try {
    await conn.query('set autocommit = 0');
    await v(conn, 4);
    await conn.query('set autocommit = 1');
    // SET autocommit = 1 commits the open transaction, as in MariaDB; reads then see each write.
    await writer.query('update t set v = 3 where id = 4');
    assert.equal(await v(conn, 4), 3);
    await writer.query('update t set v = 4 where id = 4');
    assert.equal(await v(conn, 4), 4);
  } finally {
    await conn.end();
    await writer.end();
  }
});
