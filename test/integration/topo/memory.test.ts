import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isTopoError, memoryStore, openMemoryConn } from '../../../src/topo/index.js';
import { runConformance } from './conformance.js';

let storeSeq = 0;

runConformance('memory', async () => {
  const address = `conformance-${++storeSeq}`;
  return {
    open: (root) => openMemoryConn(address, root),
    ttlMs: 300,
    shared: null,
    abandonLocks: (dir) => void memoryStore(address).abandonLocks(dir),
    teardown: async () => undefined,
  };
});

describe('memory backend as a fault injector', () => {
  it('fails operations on a path pattern, a given number of times, and counts calls', async () => {
    const store = memoryStore('faults-1');
    const c = openMemoryConn('faults-1', '/g');
    await c.create('keyspaces/ks/Keyspace', Buffer.from('{}'));
    store.injectFault({ op: 'get', path: /\/keyspaces\/ks\//, action: 'fail', times: 1 });
    await assert.rejects(c.get('keyspaces/ks/Keyspace'), (e: unknown) => isTopoError(e, 'BACKEND'));
    assert.equal((await c.get('keyspaces/ks/Keyspace')).data.toString(), '{}');
    assert.equal(store.callCount('get', /keyspaces\/ks/), 2);
    assert.equal(store.callCount('create'), 1);
  });

  it('hangs an operation until its signal fires', async () => {
    const store = memoryStore('faults-2');
    const c = openMemoryConn('faults-2', '/g');
    const off = store.injectFault({ op: 'update', path: /SrvVSchema/, action: 'hang' });
    const ac = new AbortController();
    const p = c.update('SrvVSchema', Buffer.from('{}'), null, { signal: ac.signal });
    ac.abort();
    await assert.rejects(p, (e: unknown) => isTopoError(e, 'INTERRUPTED'));
    off();
    await c.update('SrvVSchema', Buffer.from('{}'), null);
  });

  it('a watcher that falls behind watchBufferMax gets broken, not silent loss', async () => {
    const store = memoryStore('faults-3');
    store.watchBufferMax = 3;
    const c = openMemoryConn('faults-3', '/g');
    await c.create('n', Buffer.from('0'));
    const w = await c.watch('n');
    for (let i = 1; i <= 5; i++) await c.update('n', Buffer.from(String(i)), null);
    const kinds: string[] = [];
    for await (const e of w.changes) kinds.push(e.kind);
    assert.deepEqual(kinds, ['changed', 'changed', 'changed', 'broken']);
  });
});
