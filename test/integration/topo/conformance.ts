// The one conformance suite every topology backend passes (memory.test.ts, file.test.ts,
// etcd.test.ts run it). It checks the contract written on `Conn` in src/topo/conn.ts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { isTopoError, type Conn, type WatchEvent } from '../../../src/topo/index.js';
import { testRoot, trackPid } from '../../harness/processes.js';

export interface BackendUnderTest {
  /** A conn on `root` of the backend's store; conns on one root see the same data. */
  open(root: string): Conn;
  /** A lease short enough to wait out in a test (etcd's minimum is about two seconds). */
  readonly ttlMs: number;
  /** For backends shared between processes: how a child process opens the same store. */
  readonly shared: { readonly impl: string; readonly address: string } | null;
  /** Makes the holders of matching locks stop refreshing their lease, as if they had died. */
  abandonLocks?(dir: RegExp): void;
  teardown(): Promise<void>;
}

const CHILD = fileURLToPath(new URL('./lock-child.js', import.meta.url));
/** Generous bound for waits that succeed in the normal case; never a timing assertion. */
const WAIT_MS = 60_000;

let rootSeq = 0;

async function rejectsWith(p: Promise<unknown>, code: string): Promise<Error> {
  try {
    await p;
  } catch (err) {
    assert.ok(isTopoError(err), `expected a TopoError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}, got success`);
}

async function collect(changes: AsyncIterable<WatchEvent>, max: number): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  for await (const e of changes) {
    out.push(e);
    if (out.length >= max) break;
  }
  return out;
}

interface Child {
  readonly pid: number;
  readonly line: (want: string) => Promise<void>;
  readonly exited: Promise<number | null>;
  kill(): void;
}

function startChild(args: Record<string, unknown>): Child {
  const proc = spawn(process.execPath, [CHILD, JSON.stringify({ ...args, marker: testRoot() })], { stdio: ['ignore', 'pipe', 'inherit'] });
  const untrack = trackPid(() => proc.pid);
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => {
      untrack();
      resolve(code);
    }),
  );
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  createInterface({ input: proc.stdout! }).on('line', (l) => {
    lines.push(l);
    for (const w of waiters.splice(0)) w();
  });
  return {
    pid: proc.pid!,
    exited,
    kill: () => proc.kill('SIGKILL'),
    line: async (want: string) => {
      while (!lines.includes(want)) {
        if (proc.exitCode !== null) throw new Error(`child exited (${proc.exitCode}) before printing ${want}`);
        await Promise.race([new Promise<void>((r) => waiters.push(r)), exited]);
      }
    },
  };
}

export function runConformance(name: string, setup: () => Promise<BackendUnderTest>): void {
  describe(`topo conformance: ${name}`, () => {
    let b: BackendUnderTest;
    let conn: Conn;
    before(async () => {
      b = await setup();
    });
    after(async () => {
      await b.teardown();
    });
    const fresh = (): Conn => {
      conn = b.open(`/conformance/r${++rootSeq}`);
      return conn;
    };

    it('get, create-only and versions', async () => {
      const c = fresh();
      await rejectsWith(c.get('a/b'), 'NO_NODE');
      const v1 = await c.create('a/b', Buffer.from('one'));
      const got = await c.get('a/b');
      assert.equal(got.data.toString(), 'one');
      assert.equal(got.version, v1);
      await rejectsWith(c.create('a/b', Buffer.from('again')), 'NODE_EXISTS');
      assert.equal((await c.get('a/b')).data.toString(), 'one');
      await rejectsWith(c.get('a/b/../x'), 'BAD_ARGUMENT');
      await rejectsWith(c.get('a/.hidden'), 'BAD_ARGUMENT');
      await c.close();
    });

    it('compare-and-swap update', async () => {
      const c = fresh();
      const v1 = await c.create('n', Buffer.from('1'));
      const v2 = await c.update('n', Buffer.from('2'), v1);
      assert.notEqual(v2, v1);
      const e = await rejectsWith(c.update('n', Buffer.from('stale'), v1), 'BAD_VERSION');
      assert.match(e.message, /n/);
      assert.equal((await c.get('n')).data.toString(), '2');
      const v3 = await c.update('n', Buffer.from('3'), null);
      assert.equal((await c.get('n')).version, v3);
      await rejectsWith(c.update('missing', Buffer.from('x'), v3), 'NO_NODE');
      const vm = await c.update('missing', Buffer.from('x'), null);
      assert.equal((await c.get('missing')).version, vm);
      await c.close();
    });

    it('concurrent compare-and-swap increments lose nothing', async () => {
      const c = fresh();
      await c.create('counter', Buffer.from('0'));
      const workers = 4;
      const each = 5;
      const conflicts = { n: 0 };
      await Promise.all(
        Array.from({ length: workers }, async () => {
          for (let i = 0; i < each; i++) {
            for (;;) {
              const cur = await c.get('counter');
              try {
                await c.update('counter', Buffer.from(String(Number(cur.data.toString()) + 1)), cur.version);
                break;
              } catch (err) {
                if (!isTopoError(err, 'BAD_VERSION')) throw err;
                conflicts.n++;
              }
            }
          }
        }),
      );
      assert.equal((await c.get('counter')).data.toString(), String(workers * each));
      await c.close();
    });

    it('delete with version, and no version reuse after re-create', async () => {
      const c = fresh();
      const v1 = await c.create('d', Buffer.from('1'));
      const v2 = await c.update('d', Buffer.from('2'), v1);
      await rejectsWith(c.delete('d', v1), 'BAD_VERSION');
      await c.delete('d', v2);
      await rejectsWith(c.get('d'), 'NO_NODE');
      await rejectsWith(c.delete('d', null), 'NO_NODE');
      const v3 = await c.create('d', Buffer.from('3'));
      assert.ok(![v1, v2].includes(v3), 'a re-created node must not reuse a version');
      await rejectsWith(c.update('d', Buffer.from('x'), v1), 'BAD_VERSION');
      await c.delete('d', null);
      await c.close();
    });

    it('list children', async () => {
      const c = fresh();
      assert.deepEqual(await c.list('nothing/here'), []);
      await c.create('ks/b/Shard', Buffer.from('x'));
      await c.create('ks/a/Shard', Buffer.from('x'));
      await c.create('ks/a/deeper/Node', Buffer.from('x'));
      await c.create('ks/Keyspace', Buffer.from('x'));
      await c.create('top', Buffer.from('x'));
      assert.deepEqual(await c.list('ks'), ['Keyspace', 'a', 'b']);
      assert.deepEqual(await c.list('ks/a'), ['Shard', 'deeper']);
      assert.deepEqual(await c.list(''), ['ks', 'top']);
      await c.delete('ks/b/Shard', null);
      assert.deepEqual(await c.list('ks'), ['Keyspace', 'a']);
      await c.close();
    });

    it('watch: initial value, then every change in order, then deletion', async () => {
      const c = fresh();
      await rejectsWith(c.watch('w'), 'NO_NODE');
      const v0 = await c.create('w', Buffer.from('v0'));
      const ac = new AbortController();
      const w = await c.watch('w', { signal: ac.signal });
      assert.equal(w.current.data.toString(), 'v0');
      assert.equal(w.current.version, v0);
      const writer = c.create('w-other', Buffer.from('unrelated'));
      const versions: string[] = [];
      let v = v0;
      for (let i = 1; i <= 20; i++) {
        v = await c.update('w', Buffer.from(`v${i}`), v);
        versions.push(v);
      }
      await writer;
      await c.delete('w', null);
      const events = await collect(w.changes, 100);
      assert.equal(events.length, 21);
      events.slice(0, 20).forEach((e, i) => {
        assert.equal(e.kind, 'changed');
        if (e.kind === 'changed') {
          assert.equal(e.data.toString(), `v${i + 1}`);
          assert.equal(e.version, versions[i]);
        }
      });
      assert.equal(events[20].kind, 'deleted');
      ac.abort();
      await c.close();
    });

    it('watch ends when its signal fires', async () => {
      const c = fresh();
      await c.create('w', Buffer.from('x'));
      const ac = new AbortController();
      const w = await c.watch('w', { signal: ac.signal });
      const done = collect(w.changes, 100);
      await c.update('w', Buffer.from('y'), null);
      // The change may or may not be delivered before the abort; either way iteration ends.
      ac.abort();
      const events = await done;
      assert.ok(events.every((e) => e.kind === 'changed'));
      await c.close();
    });

    it('locks: exclusion, holder contents, release, wait', async () => {
      const c = fresh();
      const c2 = b.open(`/conformance/r${rootSeq}`);
      const h = await c.lock('keyspaces/ks', 'Locking keyspace ks for action Test', { timeoutMs: 0, ttlMs: b.ttlMs });
      assert.equal(await c2.lockInfo('keyspaces/ks'), 'Locking keyspace ks for action Test');
      await h.check();
      const e = await rejectsWith(c2.lock('keyspaces/ks', 'second', { timeoutMs: 0, ttlMs: b.ttlMs }), 'TIMEOUT');
      assert.match(e.message, /for action Test/);
      // A lock on another directory is independent.
      const other = await c2.lock('keyspaces/ks/shards/-80', 'shard lock', { timeoutMs: 0, ttlMs: b.ttlMs });
      await other.unlock();
      // A waiter gets the lock once the holder releases it.
      const waiting = c2.lock('keyspaces/ks', 'waiter', { timeoutMs: WAIT_MS, ttlMs: b.ttlMs });
      await h.unlock();
      await h.unlock();
      await rejectsWith(h.check(), 'LOCK_LOST');
      const h2 = await waiting;
      assert.equal(await c.lockInfo('keyspaces/ks'), 'waiter');
      await h2.unlock();
      assert.equal(await c.lockInfo('keyspaces/ks'), null);
      await c2.close();
      await c.close();
    });

    it('a lock whose holder dies is released after its lease', async () => {
      const c = fresh();
      const root = `/conformance/r${rootSeq}`;
      if (b.shared) {
        const child = startChild({ impl: b.shared.impl, address: b.shared.address, root, mode: 'hold', dir: 'keyspaces/ks', ttlMs: b.ttlMs, iterations: 0, counterPath: '' });
        await child.line('LOCKED');
        await rejectsWith(c.lock('keyspaces/ks', 'parent', { timeoutMs: 0, ttlMs: b.ttlMs }), 'TIMEOUT');
        child.kill();
        await child.exited;
      } else {
        const holder = b.open(root);
        await holder.lock('keyspaces/ks', 'doomed', { timeoutMs: 0, ttlMs: b.ttlMs });
        await rejectsWith(c.lock('keyspaces/ks', 'parent', { timeoutMs: 0, ttlMs: b.ttlMs }), 'TIMEOUT');
        assert.ok(b.abandonLocks, 'a backend without processes must simulate holder death');
        b.abandonLocks(/keyspaces\/ks$/);
      }
      const h = await c.lock('keyspaces/ks', 'parent', { timeoutMs: WAIT_MS, ttlMs: b.ttlMs });
      assert.equal(await c.lockInfo('keyspaces/ks'), 'parent');
      await h.unlock();
      await c.close();
    });

    it('two contenders for one lock never overlap', async () => {
      const c = fresh();
      const root = `/conformance/r${rootSeq}`;
      await c.create('counter', Buffer.from('0'));
      const iterations = 10;
      if (b.shared) {
        const args = { impl: b.shared.impl, address: b.shared.address, root, mode: 'contend', dir: 'keyspaces/ks', ttlMs: b.ttlMs, iterations, counterPath: 'counter' };
        const kids = [startChild(args), startChild(args)];
        assert.deepEqual(await Promise.all(kids.map((k) => k.exited)), [0, 0]);
      } else {
        const contend = async (): Promise<void> => {
          const mine = b.open(root);
          for (let i = 0; i < iterations; i++) {
            const h = await mine.lock('keyspaces/ks', 'contender', { timeoutMs: WAIT_MS, ttlMs: b.ttlMs });
            const n = Number((await mine.get('counter')).data.toString());
            await new Promise((r) => setImmediate(r));
            await mine.update('counter', Buffer.from(String(n + 1)), null);
            await h.unlock();
          }
          await mine.close();
        };
        await Promise.all([contend(), contend()]);
      }
      assert.equal((await c.get('counter')).data.toString(), String(2 * iterations));
      await c.close();
    });
  });
}
