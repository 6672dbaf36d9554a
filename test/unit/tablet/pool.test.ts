// ConnPool's bookkeeping: waiters in order, slots freed by broken connections, and failed connects
// that must not strand the callers queued behind them. The connections are stand-ins: what is
// under test is the pool's accounting, not MariaDB (tablet.test.ts runs the pools on a real one).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnPool } from '../../../src/tablet/pool.js';
import { ER } from '../../../src/mysql/errors.js';
import type { Client } from '../../../src/mysql/client.js';

class FakeConn {
  closed = false;
  close(): void {
    this.closed = true;
  }
  destroy(): void {
    this.closed = true;
  }
}

function pool(size: number, queueTimeoutMs: number) {
  const state = { failWith: null as Error | null, opened: 0 };
  const p = new ConnPool('query', size, queueTimeoutMs, async () => {
    if (state.failWith) throw state.failWith;
    state.opened++;
    return new FakeConn() as unknown as Client;
  }, '--queryserver-config-pool-size');
  return { p, state };
}

test('waiters are served in order as connections come back', async () => {
  const { p, state } = pool(1, 60_000);
  const a = await p.get();
  const order: string[] = [];
  const w1 = p.get().then((c) => (order.push('w1'), c));
  const w2 = p.get().then((c) => (order.push('w2'), c));
  assert.equal(p.waiting, 2);
  p.put(a);
  const c1 = await w1;
  assert.equal(c1, a, 'a returned connection is handed over, not reopened');
  p.put(c1);
  await w2;
  assert.deepEqual(order, ['w1', 'w2']);
  assert.equal(state.opened, 1);
  p.close();
});

test('a failed connect for a waiter wakes the next one instead of leaving it to time out', async () => {
  const { p, state } = pool(1, 2_000);
  const a = await p.get();
  const w1 = p.get();
  const w2 = p.get();
  state.failWith = new Error('connect ECONNREFUSED');
  p.discard(a);
  // Both waiters get the connect error (not "pool exhausted" after their queue timeout).
  for (const w of [w1, w2]) {
    await assert.rejects(w, (e: { errno?: number; message: string }) => e.errno === ER.CONN_ERROR.errno && /cannot connect to MariaDB: connect ECONNREFUSED/.test(e.message));
  }
  assert.equal(p.inUse, 0);
  // MariaDB is back: the freed slots are usable.
  state.failWith = null;
  const b = await p.get();
  assert.equal(p.inUse, 1);
  p.put(b);
  p.close();
});

test('exhaustion names the pool and the flag; a closed pool refuses waiters and callers', async () => {
  const { p } = pool(1, 50);
  const a = await p.get();
  await assert.rejects(p.get(), (e: { errno?: number; message: string }) => e.errno === ER.CON_COUNT.errno && /query pool exhausted.*--queryserver-config-pool-size/.test(e.message));
  const w = p.get();
  p.close();
  await assert.rejects(w, (e: { errno?: number }) => e.errno === ER.SERVER_SHUTDOWN.errno);
  await assert.rejects(p.get(), (e: { errno?: number }) => e.errno === ER.SERVER_SHUTDOWN.errno);
  p.put(a);
  assert.equal(a.closed, true, 'a connection returned to a closed pool is closed');
});
