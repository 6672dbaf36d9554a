// A statement is all or nothing, in a transaction too: when MariaDB refuses an UPDATE it undoes
// what the statement changed and keeps the transaction's earlier work. Through the gate a
// statement over two shards can fail on one after the other applied its part; that part must be
// undone as well, with the transaction left open and its earlier work kept, as one MariaDB does.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import type { TestCluster } from '../../harness/cluster.js';
import { shardValues, startTwoShards } from './two-shards.js';

const MAX = 2147483647;

let c: TestCluster;

before(async () => {
  c = await startTwoShards();
});

after(async () => {
  await c?.stop();
});

/** Rows 1, 2, 3 (-80) at 0, 4 (80-) at INT's largest value so `v = v + 1` fails there, 6 (80-) at 0. */
async function reset(conn: mysql.Connection): Promise<void> {
  await conn.query('delete from t');
  await conn.query(`insert into t(id, v) values (1, 0), (2, 0), (3, 0), (4, ${MAX}), (6, 0)`);
}

const outOfRange = (e: { errno?: number }): boolean => e.errno === 1264;

for (const how of ['BEGIN', 'autocommit = 0'] as const) {
  test(`in a transaction (${how}): a statement that fails on one shard changes nothing on the other, and the transaction goes on`, async () => {
    const conn = await c.connect('ks');
    try {
      await reset(conn);
      await conn.query(how === 'BEGIN' ? 'begin' : 'set autocommit = 0');
      await conn.query('update t set v = 9 where id = 3');
      await assert.rejects(conn.query('update t set v = v + 1'), outOfRange);
      // Nothing of the failed statement is visible inside the transaction either.
      const [inside] = await conn.query('select id, v from t where id in (1, 2, 6) order by id');
      assert.deepEqual((inside as { id: number; v: number }[]).map((r) => [Number(r.id), Number(r.v)]), [[1, 0], [2, 0], [6, 0]]);
      await conn.query('update t set v = 5 where id = 6');
      await conn.query('commit');
      assert.deepEqual(await shardValues(c), { 1: 0, 2: 0, 3: 9, 4: MAX, 6: 5 });
    } finally {
      await conn.end();
    }
  });
}

test('a multi-row INSERT over both shards that fails on one inserts nothing, in a transaction too', async () => {
  const conn = await c.connect('ks');
  try {
    await reset(conn);
    await conn.query('begin');
    // 7 goes to 80- and 9 to -80 (new); 6 exists in 80-: a duplicate there.
    await assert.rejects(conn.query('insert into t(id, v) values (7, 1), (9, 1), (6, 1)'), (e: { errno?: number }) => e.errno === 1062);
    await conn.query('commit');
    assert.deepEqual(await shardValues(c), { 1: 0, 2: 0, 3: 0, 4: MAX, 6: 0 });
  } finally {
    await conn.end();
  }
});

test('outside a transaction the same statement changes nothing (its own transaction, rolled back)', async () => {
  const conn = await c.connect('ks');
  try {
    await reset(conn);
    await assert.rejects(conn.query('update t set v = v + 1'), outOfRange);
    assert.deepEqual(await shardValues(c), { 1: 0, 2: 0, 3: 0, 4: MAX, 6: 0 });
  } finally {
    await conn.end();
  }
});
