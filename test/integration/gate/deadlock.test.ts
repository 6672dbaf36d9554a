// A deadlock inside a transaction that spans two shards. MariaDB ends a deadlock by rolling back
// the victim's whole transaction, and a client of one server goes on from there: sysbench sends
// BEGIN again, an application may send COMMIT, and later statements run in autocommit. Through the
// gate the victim's transaction has a part on the other shard, which MariaDB did not roll back:
// the gate must roll it back too and leave the transaction, or that BEGIN or COMMIT would commit
// half of it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import type { TestCluster } from '../../harness/cluster.js';
import { shardValues, startTwoShards } from './two-shards.js';

let c: TestCluster;

before(async () => {
  c = await startTwoShards();
  const setup = await c.connect('ks');
  await setup.query('insert into t(id, v) values (1, 0), (2, 0), (3, 0), (4, 0), (6, 0), (7, 0)');
  await setup.end();
});

after(async () => {
  await c?.stop();
});

/** Waits until a statement on shard -80 waits for a row lock. */
async function lockWaitSeen(): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const [r] = await c.shardRows('ks', '-80', 'select count(*) as n from information_schema.innodb_lock_waits');
    if (Number(r.n) > 0) return;
    await new Promise((res) => setTimeout(res, 25));
  }
  throw new Error('no lock wait on -80');
}

for (const after1213 of ['COMMIT', 'BEGIN'] as const) {
  test(`the deadlock's victim loses its part on the other shard too; its ${after1213} commits nothing`, async () => {
    const [x, y] = [await c.connect('ks'), await c.connect('ks')];
    try {
      await x.query('update t set v = 0');
      // Each session writes a row of its own in 80-, then one in -80, then wants the other's row in -80.
      await x.query('begin');
      await x.query('update t set v = 1 where id = 4');
      await x.query('update t set v = 1 where id = 1');
      await y.query('begin');
      await y.query('update t set v = 2 where id = 6');
      await y.query('update t set v = 2 where id = 2');
      const xWaits = x.query('update t set v = 1 where id = 2').then(() => null, (e: { errno?: number }) => e);
      await lockWaitSeen();
      const yCloses = await y.query('update t set v = 2 where id = 1').then(() => null, (e: { errno?: number }) => e);
      const xGot = await xWaits;
      // MariaDB picks one victim; the other statement goes through.
      const victim = xGot !== null ? { conn: x, err: xGot, own: 4, other: { conn: y, row: 6, v: 2 } } : { conn: y, err: yCloses, own: 6, other: { conn: x, row: 4, v: 1 } };
      assert.ok(victim.err !== null && (xGot === null || yCloses === null), `exactly one victim: ${String(xGot?.errno)} / ${String(yCloses?.errno)}`);
      assert.equal(victim.err.errno, 1213);

      // The victim goes on as a client of one MariaDB would.
      await victim.conn.query(after1213);
      if (after1213 === 'BEGIN') await victim.conn.query('commit');
      await victim.other.conn.query('commit');
      const v = await shardValues(c);
      assert.equal(v[victim.own], 0, `the victim's write in 80- was committed: ${JSON.stringify(v)}`);
      assert.equal(v[victim.other.row], victim.other.v, `the other session's write in 80-: ${JSON.stringify(v)}`);

      // Out of its transaction: a write now commits on its own, and a ROLLBACK does not undo it.
      await victim.conn.query('update t set v = 9 where id = 7');
      await victim.conn.query('rollback');
      assert.equal((await shardValues(c))[7], 9);
    } finally {
      await x.end();
      await y.end();
    }
  });
}
