// The one conformance suite every topology backend passes (memory.test.ts, file.test.ts,
// etcd.test.ts run it). It checks the contract written on `Conn` in src/topo/conn.ts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { isTopoError, TopoServer, type Conn, type SrvKeyspace, type WatchEvent } from '../../../src/topo/index.js';
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


/**
 * Holds the first write to a matching path until released, so that another writer can be made to
 * get in between a read and its write: a race that happens every time, not by luck of timing.
 */
class WriteGate {
  private pattern: RegExp | null = null;
  private reachedResolve: (() => void) | null = null;
  private release: Promise<void> = Promise.resolve();
  private releaseResolve: (() => void) | null = null;
  conflicts = 0;

  /** Arms the gate; resolves once a writer has read and is about to write a matching path. */
  arm(pattern: RegExp): { reached: Promise<void>; open: () => void } {
    this.pattern = pattern;
    const reached = new Promise<void>((r) => (this.reachedResolve = r));
    this.release = new Promise<void>((r) => (this.releaseResolve = r));
    return { reached, open: () => this.releaseResolve?.() };
  }

  async pass(path: string): Promise<void> {
    if (!this.pattern || !this.pattern.test(path)) return;
    this.pattern = null;
    this.reachedResolve?.();
    await this.release;
  }

  /** A conn whose create/update wait at the gate and count lost compare-and-swaps. */
  wrap(inner: Conn): Conn {
    const gate = this;
    return new Proxy(inner, {
      get(target, prop) {
        if (prop === 'update' || prop === 'create') {
          return async (...args: unknown[]) => {
            await gate.pass(args[0] as string);
            try {
              return await (Reflect.get(target, prop) as (...a: unknown[]) => Promise<unknown>).apply(target, args);
            } catch (err) {
              if (isTopoError(err, 'BAD_VERSION') || isTopoError(err, 'NODE_EXISTS')) gate.conflicts++;
              throw err;
            }
          };
        }
        const v = Reflect.get(target, prop) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  }
}

const byType = (srv: SrvKeyspace): Record<string, string[]> => Object.fromEntries(srv.partitions.map((p) => [p.served_type, p.shard_references.map((r) => r.name)]));

/**
 * `processes`: the backend is shared between processes (file, etcd), so the tests that kill a
 * holder process run (a backend without processes has no holder to kill).
 */
export function runConformance(name: string, setup: () => Promise<BackendUnderTest>, { processes = false }: { processes?: boolean } = {}): void {
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

    it('a lock whose holder hangs (or, without processes, stops refreshing) is released after its lease', async () => {
      const c = fresh();
      const root = `/conformance/r${rootSeq}`;
      let frozen: Child | null = null;
      if (b.shared) {
        const child = startChild({ impl: b.shared.impl, address: b.shared.address, root, mode: 'hold', dir: 'keyspaces/ks', ttlMs: b.ttlMs, iterations: 0, counterPath: '' });
        await child.line('LOCKED');
        await rejectsWith(c.lock('keyspaces/ks', 'parent', { timeoutMs: 0, ttlMs: b.ttlMs }), 'TIMEOUT');
        // Alive but stopped: nothing says it is dead, only its lease running out frees the lock
        // (a dead holder's lock is broken sooner: the next test).
        process.kill(child.pid, 'SIGSTOP');
        frozen = child;
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
      if (frozen) {
        frozen.kill();
        await frozen.exited;
      }
    });

    // Backends shared between processes: a holder that died on this host is seen to be dead.
    if (processes) {
      it('a lock whose holder process is gone (this host) is taken at once, not after its lease', async () => {
        const c = fresh();
        const root = `/conformance/r${rootSeq}`;
        // A lease far longer than the test: only seeing the holder dead can free the lock.
        assert.ok(b.shared, 'a backend shared between processes says how a child opens it');
        const child = startChild({ impl: b.shared.impl, address: b.shared.address, root, mode: 'hold', dir: 'keyspaces/ks', ttlMs: 600_000, iterations: 0, counterPath: '' });
        await child.line('LOCKED');
        // Alive, it holds the lock.
        await rejectsWith(c.lock('keyspaces/ks', 'parent', { timeoutMs: 0, ttlMs: b.ttlMs }), 'TIMEOUT');
        child.kill();
        await child.exited;
        // Tried once (timeout 0): the dead holder's lock is broken, not waited for.
        const h = await c.lock('keyspaces/ks', 'parent', { timeoutMs: 0, ttlMs: b.ttlMs });
        assert.equal(await c.lockInfo('keyspaces/ks'), 'parent');
        // And the new holder, alive, keeps it against the next taker.
        const c2 = b.open(root);
        await rejectsWith(c2.lock('keyspaces/ks', 'third', { timeoutMs: 0, ttlMs: b.ttlMs }), 'TIMEOUT');
        await h.check();
        await h.unlock();
        await c2.close();
        await c.close();
      });
    }

    // The typed topology's serving graph and read-modify-writes on this backend.
    const typed = (root: string, gate?: WriteGate): TopoServer => {
      const wrap = (c: Conn): Conn => (gate ? gate.wrap(c) : c);
      return new TopoServer(wrap(b.open(root)), (_address, cellRoot) => wrap(b.open(cellRoot)), 'conformance', { lockTimeoutMs: WAIT_MS, lockTtlMs: b.ttlMs * 5 });
    };
    const freshTyped = async (): Promise<{ root: string; ts: TopoServer }> => {
      const root = `/conformance/r${++rootSeq}`;
      const ts = typed(root);
      await ts.createCellInfo('zone1', { root: `${root}-zone1` });
      await ts.createKeyspace('customer');
      await ts.createShard('customer', '0');
      await ts.rebuildKeyspaceGraph('customer');
      await ts.createShard('customer', '-80');
      await ts.createShard('customer', '80-');
      return { root, ts };
    };

    it('serving graph: a rebuild keeps a half-switched keyspace; switches are checked and idempotent', async () => {
      const { root, ts } = await freshTyped();
      await ts.switchServedShards('customer', 'replica', ['0'], ['-80', '80-']);
      const m = await ts.migrateServedType('customer', '0', 'rdonly');
      assert.deepEqual([m.from, m.to], [['0'], ['-80', '80-']]);
      const half = { primary: ['0'], replica: ['-80', '80-'], rdonly: ['-80', '80-'] };
      assert.deepEqual(byType(await ts.getSrvKeyspace('zone1', 'customer')), half);
      // Rebuilds, from this server and from another one on the same store, keep the switch.
      await ts.rebuildKeyspaceGraph('customer');
      const other = typed(root);
      await other.rebuildKeyspaceGraph('customer', { cells: ['zone1'] });
      assert.deepEqual(byType(await other.getSrvKeyspace('zone1', 'customer')), half);
      // Idempotent; a set the partition does not hold is refused with nothing written.
      await ts.switchServedShards('customer', 'replica', ['0'], ['-80', '80-']);
      await rejectsWith(ts.switchServedShards('customer', 'replica', ['-80'], ['0']), 'BAD_ARGUMENT');
      await rejectsWith(ts.switchServedShards('customer', 'rdonly', ['0'], ['-80']), 'BAD_ARGUMENT');
      assert.deepEqual(byType(await ts.getSrvKeyspace('zone1', 'customer')), half);
      // The primary moves with the shard records' is_primary_serving.
      await ts.migrateServedType('customer', '0', 'primary');
      assert.equal((await ts.getShard('customer', '0')).value.is_primary_serving, false);
      assert.equal((await ts.getShard('customer', '80-')).value.is_primary_serving, true);
      await ts.migrateServedType('customer', '0', 'primary', { reverse: true });
      assert.equal((await ts.getShard('customer', '0')).value.is_primary_serving, true);
      // Asked to, a rebuild starts over from the serving shards.
      await ts.rebuildKeyspaceGraph('customer', { resetPartitions: true });
      assert.deepEqual(byType(await ts.getSrvKeyspace('zone1', 'customer')), { primary: ['0'], replica: ['0'], rdonly: ['0'] });
      await other.close();
      await ts.close();
    });

    it('tablet controls round-trip through the shard record and the serving graph', async () => {
      const { root, ts } = await freshTyped();
      await ts.setShardTabletControl('customer', '0', 'replica', { disableQueryService: true });
      await ts.setShardTabletControl('customer', '0', 'rdonly', { deniedTables: ['customer', 'corder'], cells: ['zone1'] });
      const other = typed(root);
      assert.deepEqual((await other.getShard('customer', '0')).value.tablet_controls, [
        { tablet_type: 'replica', cells: [], denied_tables: [], disable_query_service: true, frozen: false },
        { tablet_type: 'rdonly', cells: ['zone1'], denied_tables: ['corder', 'customer'], disable_query_service: false, frozen: false },
      ]);
      const srv = await other.getSrvKeyspace('zone1', 'customer');
      assert.deepEqual(
        srv.partitions.map((p) => [p.served_type, p.shard_tablet_controls]),
        [['primary', []], ['replica', [{ name: '0', key_range: { start: '', end: '' }, query_service_disabled: true }]], ['rdonly', []]],
      );
      // A reset rebuild derives the same controls from the shard records.
      await other.rebuildKeyspaceGraph('customer', { resetPartitions: true });
      assert.deepEqual(await other.getSrvKeyspace('zone1', 'customer'), srv);
      await ts.setShardTabletControl('customer', '0', 'replica', { remove: true });
      await ts.setShardTabletControl('customer', '0', 'rdonly', { remove: true, deniedTables: ['corder', 'customer'] });
      assert.deepEqual((await other.getShard('customer', '0')).value.tablet_controls, []);
      assert.ok((await other.getSrvKeyspace('zone1', 'customer')).partitions.every((p) => p.shard_tablet_controls.length === 0));
      await other.close();
      await ts.close();
    });

    it('two writers racing on the serving graph, rules and a shard: the loser retries and nothing is lost', async () => {
      const { root, ts } = await freshTyped();
      await ts.createKeyspace('customer2');
      const gate = new WriteGate();
      const a = typed(root, gate);
      const b2 = typed(root);
      // Each race: A reads, B writes in between, A's write at the old version fails and is retried.
      const race = async (path: RegExp, writeA: () => Promise<unknown>, writeB: () => Promise<unknown>): Promise<void> => {
        const conflictsBefore = gate.conflicts;
        const g = gate.arm(path);
        const pa = writeA();
        await g.reached;
        await writeB();
        g.open();
        await pa;
        assert.ok(gate.conflicts > conflictsBefore, `writer A was not made to lose a compare-and-swap on ${path}`);
      };
      await race(
        /SrvKeyspace$/,
        () => a.updateSrvKeyspaceFields('zone1', 'customer', (srv) => void (srv.partitions.find((p) => p.served_type === 'rdonly')!.shard_references = [{ name: '-80', key_range: { start: '', end: '80' } }, { name: '80-', key_range: { start: '80', end: '' } }])),
        () => b2.updateSrvKeyspaceFields('zone1', 'customer', (srv) => void srv.partitions.find((p) => p.served_type === 'replica')!.shard_tablet_controls.push({ name: '0', key_range: { start: '', end: '' }, query_service_disabled: true })),
      );
      const srv = await ts.getSrvKeyspace('zone1', 'customer');
      assert.deepEqual(byType(srv), { primary: ['0'], replica: ['0'], rdonly: ['-80', '80-'] });
      assert.equal(srv.partitions[1].shard_tablet_controls.length, 1);

      await race(
        /^ShardRoutingRules$/,
        () => a.updateShardRoutingRules((r) => void r.rules.push({ from_keyspace: 'customer', to_keyspace: 'customer2', shard: '-80' })),
        () => b2.updateShardRoutingRules((r) => void r.rules.push({ from_keyspace: 'customer', to_keyspace: 'customer2', shard: '80-' })),
      );
      assert.deepEqual((await ts.getShardRoutingRules()).rules.map((r) => r.shard).sort(), ['-80', '80-']);

      await race(
        /^RoutingRules$/,
        () => a.updateRoutingRules((r) => void r.rules.push({ from_table: 't1', to_tables: ['customer.t1'] })),
        () => b2.updateRoutingRules((r) => void r.rules.push({ from_table: 't2', to_tables: ['customer.t2'] })),
      );
      assert.deepEqual((await ts.getRoutingRules()).rules.map((r) => r.from_table).sort(), ['t1', 't2']);

      await race(
        /shards\/0\/Shard$/,
        () => a.updateShardFields('customer', '0', (s) => void s.source_shards.push({ uid: 1, keyspace: 'x', shard: '0', key_range: { start: '', end: '' }, tables: [] })),
        () => b2.updateShardFields('customer', '0', (s) => void s.tablet_controls.push({ tablet_type: 'rdonly', cells: [], denied_tables: ['t'], disable_query_service: false, frozen: false })),
      );
      const s0 = (await ts.getShard('customer', '0')).value;
      assert.equal(s0.source_shards.length, 1);
      assert.equal(s0.tablet_controls.length, 1);
      await a.close();
      await b2.close();
      await ts.close();
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
