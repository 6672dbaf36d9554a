// The in-process backend, for tests and for `ctld --topo-implementation memory`. Conns opened on
// the same server address share one store, so a global and a cell root can live side by side as
// they do on etcd. The store doubles as a fault injector: fail or hang operations on a path
// pattern, and count calls, so tests can drive the error paths of everything above the seam.
import { randomUUID } from 'node:crypto';
import {
  checkPath,
  type Conn,
  type LockHandle,
  type LockOptions,
  type NodeValue,
  type OpOptions,
  type Version,
  type Watch,
} from './conn.js';
import { throwIfAborted, topoError } from './errors.js';
import { WatchQueue, WATCH_BUFFER_MAX_DEFAULT } from './watch-queue.js';

export type MemoryOp = 'get' | 'create' | 'update' | 'delete' | 'list' | 'watch' | 'lock' | 'lockInfo';

export interface Fault {
  /** Which operation, or every one. */
  readonly op: MemoryOp | '*';
  /** Matched against the full path (root included, e.g. `/tessera/global/keyspaces/ks/Keyspace`). */
  readonly path: RegExp;
  /** `fail` rejects with `error` (BACKEND by default); `hang` waits until the op's signal fires. */
  readonly action: 'fail' | 'hang';
  readonly error?: Error;
  /** How many matching calls the fault applies to; unlimited when absent. */
  times?: number;
}

interface MemoryLock {
  readonly token: string;
  readonly contents: string;
  leaseExpiresAtMs: number;
  refreshing: boolean;
}

export class MemoryStore {
  private readonly nodes = new Map<string, { data: Buffer; version: number }>();
  private readonly watchers = new Map<string, Set<WatchQueue>>();
  readonly locks = new Map<string, MemoryLock>();
  private readonly lockWaiters = new Map<string, Set<() => void>>();
  private counter = 0;
  private readonly faults: Fault[] = [];
  private readonly calls = new Map<string, number>();
  watchBufferMax = WATCH_BUFFER_MAX_DEFAULT;

  // ---- fault injection ------------------------------------------------------------------------

  /** Adds a fault; returns a function removing it. */
  injectFault(fault: Fault): () => void {
    this.faults.push(fault);
    return () => {
      const i = this.faults.indexOf(fault);
      if (i >= 0) this.faults.splice(i, 1);
    };
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Calls of `op` (or of every op) whose full path matches `path` (or any path). */
  callCount(op: MemoryOp | '*', path?: RegExp): number {
    let n = 0;
    for (const [k, c] of this.calls) {
      const sp = k.indexOf(' ');
      const kop = k.slice(0, sp);
      const kpath = k.slice(sp + 1);
      if ((op === '*' || kop === op) && (!path || path.test(kpath))) n += c;
    }
    return n;
  }

  resetCallCounts(): void {
    this.calls.clear();
  }

  /**
   * Simulates the death of every holder of a lock whose full path matches: its lease is no longer
   * refreshed and runs out after its TTL, as it would if the holder's process had died.
   */
  abandonLocks(path: RegExp): number {
    let n = 0;
    for (const [k, l] of this.locks) {
      if (path.test(k)) {
        l.refreshing = false;
        n++;
      }
    }
    return n;
  }

  /** Counts the call and applies a matching fault; every op starts here. */
  async enter(op: MemoryOp, fullPath: string, options: OpOptions | undefined): Promise<void> {
    const key = `${op} ${fullPath}`;
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
    throwIfAborted(options?.signal, `${op} ${fullPath}`);
    const f = this.faults.find((x) => (x.op === '*' || x.op === op) && x.path.test(fullPath) && (x.times === undefined || x.times > 0));
    if (!f) return;
    if (f.times !== undefined) f.times--;
    if (f.action === 'fail') throw f.error ?? topoError('BACKEND', `injected fault: ${op} ${fullPath}`);
    await new Promise<void>((_resolve, reject) => {
      const signal = options?.signal;
      if (!signal) return; // hangs for ever, as a backend that never answers would
      signal.addEventListener('abort', () => reject(topoError('INTERRUPTED', `${op} ${fullPath}: interrupted (injected hang)`)), { once: true });
    });
  }

  // ---- data -----------------------------------------------------------------------------------

  nextVersion(): number {
    return ++this.counter;
  }

  getNode(key: string): { data: Buffer; version: number } | undefined {
    return this.nodes.get(key);
  }

  setNode(key: string, data: Buffer): number {
    const version = this.nextVersion();
    this.nodes.set(key, { data: Buffer.from(data), version });
    for (const q of this.watchers.get(key) ?? []) q.push({ kind: 'changed', data: Buffer.from(data), version: String(version) });
    return version;
  }

  deleteNode(key: string): void {
    this.nodes.delete(key);
    for (const q of this.watchers.get(key) ?? []) q.push({ kind: 'deleted' });
  }

  keys(): IterableIterator<string> {
    return this.nodes.keys();
  }

  addWatcher(key: string, q: WatchQueue): void {
    let s = this.watchers.get(key);
    if (!s) this.watchers.set(key, (s = new Set()));
    s.add(q);
  }

  removeWatcher(key: string, q: WatchQueue): void {
    const s = this.watchers.get(key);
    s?.delete(q);
    if (s && s.size === 0) this.watchers.delete(key);
  }

  onLockReleased(key: string, fn: () => void): () => void {
    let s = this.lockWaiters.get(key);
    if (!s) this.lockWaiters.set(key, (s = new Set()));
    s.add(fn);
    return () => s.delete(fn);
  }

  notifyLockReleased(key: string): void {
    for (const fn of this.lockWaiters.get(key) ?? []) fn();
  }
}

/** Stores by server address: conns opened on one address share a store within this process. */
const stores = new Map<string, MemoryStore>();

export function memoryStore(serverAddress: string): MemoryStore {
  let s = stores.get(serverAddress);
  if (!s) stores.set(serverAddress, (s = new MemoryStore()));
  return s;
}

export function openMemoryConn(serverAddress: string, root: string): MemoryConn {
  return new MemoryConn(memoryStore(serverAddress), root);
}

export class MemoryConn implements Conn {
  readonly implementation = 'memory';
  private readonly prefix: string;
  private readonly held = new Set<MemoryLockHandle>();

  constructor(
    readonly store: MemoryStore,
    root: string,
  ) {
    const r = root.replace(/^\/+|\/+$/g, '');
    this.prefix = r === '' ? '/' : `/${r}/`;
  }

  private full(path: string, allowRoot = false): string {
    return this.prefix + checkPath(path, allowRoot);
  }

  async get(path: string, options?: OpOptions): Promise<NodeValue> {
    const key = this.full(path);
    await this.store.enter('get', key, options);
    const n = this.store.getNode(key);
    if (!n) throw topoError('NO_NODE', `node doesn't exist: ${path}`);
    return { data: Buffer.from(n.data), version: String(n.version) };
  }

  async create(path: string, data: Buffer, options?: OpOptions): Promise<Version> {
    const key = this.full(path);
    await this.store.enter('create', key, options);
    if (this.store.getNode(key)) throw topoError('NODE_EXISTS', `node already exists: ${path}`);
    return String(this.store.setNode(key, data));
  }

  async update(path: string, data: Buffer, version: Version | null, options?: OpOptions): Promise<Version> {
    const key = this.full(path);
    await this.store.enter('update', key, options);
    if (version !== null) {
      const n = this.store.getNode(key);
      if (!n) throw topoError('NO_NODE', `node doesn't exist: ${path}`);
      if (String(n.version) !== version) throw topoError('BAD_VERSION', `bad node version for ${path}: expected ${version}, have ${n.version}`);
    }
    return String(this.store.setNode(key, data));
  }

  async delete(path: string, version: Version | null, options?: OpOptions): Promise<void> {
    const key = this.full(path);
    await this.store.enter('delete', key, options);
    const n = this.store.getNode(key);
    if (!n) throw topoError('NO_NODE', `node doesn't exist: ${path}`);
    if (version !== null && String(n.version) !== version) {
      throw topoError('BAD_VERSION', `bad node version for ${path}: expected ${version}, have ${n.version}`);
    }
    this.store.deleteNode(key);
  }

  async list(dirPath: string, options?: OpOptions): Promise<string[]> {
    const dir = this.full(dirPath, true);
    await this.store.enter('list', dir, options);
    const prefix = dirPath === '' ? dir : `${dir}/`;
    const names = new Set<string>();
    for (const k of this.store.keys()) {
      if (!k.startsWith(prefix)) continue;
      const rest = k.slice(prefix.length);
      names.add(rest.split('/')[0]);
    }
    return [...names].sort();
  }

  async watch(path: string, options?: OpOptions): Promise<Watch> {
    const key = this.full(path);
    await this.store.enter('watch', key, options);
    const n = this.store.getNode(key);
    if (!n) throw topoError('NO_NODE', `node doesn't exist: ${path}`);
    const signal = options?.signal;
    const onAbort = (): void => q.end();
    const q: WatchQueue = new WatchQueue(this.store.watchBufferMax, () => {
      this.store.removeWatcher(key, q);
      signal?.removeEventListener('abort', onAbort);
    });
    this.store.addWatcher(key, q);
    signal?.addEventListener('abort', onAbort, { once: true });
    return { current: { data: Buffer.from(n.data), version: String(n.version) }, changes: q };
  }

  async lock(dirPath: string, contents: string, options: LockOptions): Promise<LockHandle> {
    const key = this.full(dirPath);
    await this.store.enter('lock', key, options);
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      const cur = this.store.locks.get(key);
      if (!cur || cur.leaseExpiresAtMs <= Date.now()) {
        const l: MemoryLock = { token: randomUUID(), contents, leaseExpiresAtMs: Date.now() + options.ttlMs, refreshing: true };
        this.store.locks.set(key, l);
        const h = new MemoryLockHandle(this.store, key, l, options.ttlMs, () => this.held.delete(h));
        this.held.add(h);
        return h;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw topoError('TIMEOUT', `timed out waiting for lock on ${dirPath}, held by: ${cur.contents}`);
      throwIfAborted(options.signal, `lock ${dirPath}`);
      // Wake on release, on the holder's lease running out, or at the deadline.
      await new Promise<void>((resolve) => {
        const wait = Math.max(1, Math.min(left, cur.leaseExpiresAtMs - Date.now() + 1));
        const t = setTimeout(done, wait);
        const off = this.store.onLockReleased(key, done);
        const signal = options.signal;
        signal?.addEventListener('abort', done, { once: true });
        function done(): void {
          clearTimeout(t);
          off();
          signal?.removeEventListener('abort', done);
          resolve();
        }
      });
    }
  }

  async lockInfo(dirPath: string, options?: OpOptions): Promise<string | null> {
    const key = this.full(dirPath);
    await this.store.enter('lockInfo', key, options);
    const cur = this.store.locks.get(key);
    return cur && cur.leaseExpiresAtMs > Date.now() ? cur.contents : null;
  }

  async close(): Promise<void> {
    for (const h of [...this.held]) await h.unlock();
  }
}

class MemoryLockHandle implements LockHandle {
  private readonly timer: NodeJS.Timeout;
  private released = false;

  constructor(
    private readonly store: MemoryStore,
    private readonly key: string,
    private readonly lock: MemoryLock,
    ttlMs: number,
    private readonly onRelease: () => void,
  ) {
    this.timer = setInterval(() => {
      if (this.lock.refreshing && this.store.locks.get(key) === lock) lock.leaseExpiresAtMs = Date.now() + ttlMs;
    }, Math.max(1, Math.floor(ttlMs / 3)));
    this.timer.unref();
  }

  get contents(): string {
    return this.lock.contents;
  }

  async check(): Promise<void> {
    const cur = this.store.locks.get(this.key);
    if (this.released || cur !== this.lock || cur.leaseExpiresAtMs <= Date.now()) {
      throw topoError('LOCK_LOST', `lock on ${this.key} is no longer held (${this.lock.contents})`);
    }
  }

  async unlock(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.timer);
    this.onRelease();
    if (this.store.locks.get(this.key) === this.lock) {
      this.store.locks.delete(this.key);
      this.store.notifyLockReleased(this.key);
    }
  }
}
