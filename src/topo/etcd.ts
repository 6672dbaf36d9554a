// The etcd v3 backend, for clusters that span machines. Versions are etcd mod revisions (global
// and never reused), compare-and-swap is an etcd transaction, watches are etcd watches started at
// the revision after the initial read (etcd delivers every later change in order; the client
// resumes from the last seen revision after a reconnect, and a compacted revision ends the watch
// as `broken`). Locks are a key created only-if-absent and bound to a lease that the etcd3 client
// keeps alive while this process lives; etcd deletes it when the lease runs out. Beside the lock key
// a holder key (same lease) says which process holds it (holder.ts): a taker on the same host that
// finds that process gone breaks the lock at once instead of waiting for the lease to run out.
import { randomUUID } from 'node:crypto';
import type { Etcd3, IKeyValue, Lease, Watcher } from 'etcd3';
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
import { isTopoError, throwIfAborted, topoError } from './errors.js';
import { WatchQueue, WATCH_BUFFER_MAX_DEFAULT } from './watch-queue.js';
import { holderDead, selfIdentity, type HolderIdentity } from './holder.js';
import { logger } from '../log/index.js';

const log = logger('topo', { part: 'etcd' });

export interface EtcdConnOptions {
  /** How long to wait for etcd to answer a connection attempt. */
  readonly dialTimeoutMs: number;
  /** Upper bound between re-checks of a held lock while waiting (a watch usually wakes sooner). */
  readonly lockRecheckMs: number;
  readonly watchBufferMax: number;
}

export const ETCD_CONN_DEFAULTS: EtcdConnOptions = {
  dialTimeoutMs: 5_000,
  lockRecheckMs: 1_000,
  watchBufferMax: WATCH_BUFFER_MAX_DEFAULT,
};

/** etcd's smallest lease is a couple of seconds; shorter TTLs are rounded up to it. */
const ETCD_LEASE_MIN_S = 2;

function backend(what: string, err: unknown): never {
  if (isTopoError(err)) throw err;
  throw topoError('BACKEND', `etcd topo: ${what}: ${(err as Error).message}`, { cause: err });
}

async function withSignal<T>(p: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  throwIfAborted(signal, what);
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(topoError('INTERRUPTED', `${what}: interrupted`));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

export class EtcdConn implements Conn {
  readonly implementation = 'etcd';
  private readonly clientPromise: Promise<Etcd3>;
  /** Set once the client exists; every operation awaits `ready()` first. */
  private client!: Etcd3;
  private readonly prefix: string;
  private readonly opts: EtcdConnOptions;
  private readonly held = new Set<EtcdLockHandle>();
  private readonly closers = new Set<() => void>();

  constructor(serverAddress: string, root: string, options: Partial<EtcdConnOptions> = {}) {
    const hosts = serverAddress
      .split(',')
      .map((h) => h.trim())
      .filter((h) => h !== '')
      .map((h) => (/^https?:\/\//.test(h) ? h : `http://${h}`));
    if (hosts.length === 0) throw topoError('BAD_ARGUMENT', 'etcd topo needs host:port[,host:port...] as its server address');
    this.opts = { ...ETCD_CONN_DEFAULTS, ...options };
    // etcd3 (and grpc-js under it) is loaded only when an etcd topology is opened: it costs more
    // start-up time than the rest of the CLI, and `tessera ctl` never needs it.
    this.clientPromise = import('etcd3').then(({ Etcd3: Client }) => {
      this.client = new Client({ hosts, dialTimeout: this.opts.dialTimeoutMs });
      return this.client;
    });
    const r = root.replace(/^\/+|\/+$/g, '');
    this.prefix = r === '' ? '/' : `/${r}/`;
  }

  private async ready(): Promise<void> {
    await this.clientPromise;
  }

  private key(path: string, allowRoot = false): string {
    return this.prefix + checkPath(path, allowRoot);
  }

  async get(path: string, options?: OpOptions): Promise<NodeValue> {
    await this.ready();
    const key = this.key(path);
    let kv: IKeyValue | undefined;
    try {
      const res = await withSignal(this.client.get(key).exec(), options?.signal, `get ${path}`);
      kv = res.kvs[0];
    } catch (err) {
      backend(`get ${path}`, err);
    }
    if (!kv) throw topoError('NO_NODE', `node doesn't exist: ${path}`);
    return { data: kv.value, version: kv.mod_revision };
  }

  async create(path: string, data: Buffer, options?: OpOptions): Promise<Version> {
    await this.ready();
    const key = this.key(path);
    try {
      const res = await withSignal(
        this.client.if(key, 'Create', '==', 0).then(this.client.put(key).value(data)).commit(),
        options?.signal,
        `create ${path}`,
      );
      if (!res.succeeded) throw topoError('NODE_EXISTS', `node already exists: ${path}`);
      return res.header.revision;
    } catch (err) {
      backend(`create ${path}`, err);
    }
  }

  async update(path: string, data: Buffer, version: Version | null, options?: OpOptions): Promise<Version> {
    await this.ready();
    const key = this.key(path);
    try {
      if (version === null) {
        const res = await withSignal(this.client.put(key).value(data).exec(), options?.signal, `update ${path}`);
        return res.header.revision;
      }
      const res = await withSignal(
        this.client.if(key, 'Mod', '==', version).then(this.client.put(key).value(data)).else(this.client.get(key)).commit(),
        options?.signal,
        `update ${path}`,
      );
      if (!res.succeeded) this.versionMismatch(path, version, res.responses[0]?.response_range?.kvs[0]);
      return res.header.revision;
    } catch (err) {
      backend(`update ${path}`, err);
    }
  }

  private versionMismatch(path: string, version: Version, kv: IKeyValue | undefined): never {
    if (!kv) throw topoError('NO_NODE', `node doesn't exist: ${path}`);
    throw topoError('BAD_VERSION', `bad node version for ${path}: expected ${version}, have ${kv.mod_revision}`);
  }

  async delete(path: string, version: Version | null, options?: OpOptions): Promise<void> {
    await this.ready();
    const key = this.key(path);
    try {
      const txn = version === null ? this.client.if(key, 'Create', '>', 0) : this.client.if(key, 'Mod', '==', version);
      const res = await withSignal(txn.then(this.client.delete().key(key)).else(this.client.get(key)).commit(), options?.signal, `delete ${path}`);
      if (!res.succeeded) {
        const kv = res.responses[0]?.response_range?.kvs[0];
        if (version === null || !kv) throw topoError('NO_NODE', `node doesn't exist: ${path}`);
        this.versionMismatch(path, version, kv);
      }
    } catch (err) {
      backend(`delete ${path}`, err);
    }
  }

  async list(dirPath: string, options?: OpOptions): Promise<string[]> {
    await this.ready();
    const dir = this.key(dirPath, true);
    const prefix = dirPath === '' ? dir : `${dir}/`;
    try {
      const keys = await withSignal(this.client.getAll().prefix(prefix).keys(), options?.signal, `list ${dirPath}`);
      const names = new Set<string>();
      for (const k of keys) {
        const name = k.slice(prefix.length).split('/')[0];
        if (!name.startsWith('.') && k.slice(prefix.length).split('/').every((s) => !s.startsWith('.'))) names.add(name);
      }
      return [...names].sort();
    } catch (err) {
      backend(`list ${dirPath}`, err);
    }
  }

  async watch(path: string, options?: OpOptions): Promise<Watch> {
    await this.ready();
    const key = this.key(path);
    const signal = options?.signal;
    let kv: IKeyValue | undefined;
    let watcher: Watcher;
    try {
      const res = await withSignal(this.client.get(key).exec(), signal, `watch ${path}`);
      kv = res.kvs[0];
      if (!kv) throw topoError('NO_NODE', `node doesn't exist: ${path}`);
      const from = String(BigInt(res.header.revision) + 1n);
      watcher = await withSignal(this.client.watch().key(key).startRevision(from).create(), signal, `watch ${path}`);
    } catch (err) {
      backend(`watch ${path}`, err);
    }
    const onAbort = (): void => q.end();
    const q: WatchQueue = new WatchQueue(this.opts.watchBufferMax, () => {
      void watcher.cancel().catch(() => undefined);
      signal?.removeEventListener('abort', onAbort);
      this.closers.delete(onAbort);
    });
    watcher.on('put', (k: IKeyValue) => q.push({ kind: 'changed', data: k.value, version: k.mod_revision }));
    watcher.on('delete', () => q.push({ kind: 'deleted' }));
    watcher.on('error', (err: Error) => q.push({ kind: 'broken', error: topoError('BACKEND', `watch on ${path}: ${err.message}`, { cause: err }) }));
    signal?.addEventListener('abort', onAbort, { once: true });
    this.closers.add(onAbort);
    return { current: { data: kv.value, version: kv.mod_revision }, changes: q };
  }

  private lockKey(dirPath: string): string {
    return `${this.key(dirPath)}/.lock`;
  }

  async lock(dirPath: string, contents: string, options: LockOptions): Promise<LockHandle> {
    await this.ready();
    const key = this.lockKey(dirPath);
    const holderKey = `${key}-holder`;
    const deadline = Date.now() + options.timeoutMs;
    const ttlS = Math.max(ETCD_LEASE_MIN_S, Math.ceil(options.ttlMs / 1000));
    const lease = this.client.lease(ttlS);
    try {
      const leaseId = await withSignal(lease.grant(), options.signal, `lock ${dirPath}`);
      for (;;) {
        const res = await withSignal(
          this.client
            .if(key, 'Create', '==', 0)
            .then(lease.put(key).value(contents), lease.put(holderKey).value(JSON.stringify(selfIdentity())))
            .else(this.client.get(key), this.client.get(holderKey))
            .commit(),
          options.signal,
          `lock ${dirPath}`,
        );
        if (res.succeeded) {
          const h = new EtcdLockHandle(this.client, lease, leaseId, key, dirPath, contents, () => this.held.delete(h));
          this.held.add(h);
          return h;
        }
        const cur = res.responses[0]?.response_range?.kvs[0];
        // A holder that is certainly dead (this host, its process gone) holds nothing: its lock
        // is deleted — only if it is still that holder's (same lease) — and taken again at once.
        if (cur && (await this.breakDeadHolder(dirPath, key, holderKey, cur, res.responses[1]?.response_range?.kvs[0]))) continue;
        const left = deadline - Date.now();
        if (left <= 0) {
          throw topoError('TIMEOUT', `timed out waiting for lock on ${dirPath}, held by: ${cur ? cur.value.toString('utf8') : 'unknown'}`);
        }
        await this.waitForDelete(key, res.header.revision, Math.min(left, this.opts.lockRecheckMs), options.signal);
      }
    } catch (err) {
      await lease.revoke().catch(() => undefined);
      backend(`lock ${dirPath}`, err);
    }
  }

  /** Deletes the lock `cur` when its holder key names a process of this host that is gone. */
  private async breakDeadHolder(dirPath: string, key: string, holderKey: string, cur: IKeyValue, holderKv: IKeyValue | undefined): Promise<boolean> {
    if (!holderKv || holderKv.lease !== cur.lease || cur.lease === '0') return false;
    let holder: HolderIdentity;
    try {
      holder = JSON.parse(holderKv.value.toString('utf8')) as HolderIdentity;
    } catch {
      return false;
    }
    if (!holderDead(holder)) return false;
    const res = await this.client.if(key, 'Lease', '==', cur.lease).then(this.client.delete().key(key), this.client.delete().key(holderKey)).commit();
    if (!res.succeeded) return true; // it changed hands meanwhile: look again
    log.warn(
      { dir: dirPath, holder: cur.value.toString('utf8'), holderPid: holder.pid, holderHost: holder.host },
      `broke the lock on ${dirPath}: its holder (pid ${holder.pid} on this host) is gone, so its lease (${cur.lease}) was not waited out`,
    );
    // The dead holder's lease holds nothing else (one lease per lock); revoking it is tidiness only.
    await this.client.leaseClient.leaseRevoke({ ID: cur.lease }).catch(() => undefined);
    return true;
  }

  /** Waits until `key` is deleted after `revision`, `ms` passes, or the signal fires. */
  private async waitForDelete(key: string, revision: string, ms: number, signal: AbortSignal | undefined): Promise<void> {
    const w = await this.client.watch().key(key).startRevision(String(BigInt(revision) + 1n)).create();
    try {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(t);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const t = setTimeout(done, Math.max(1, ms));
        w.on('delete', done);
        w.on('error', done);
        signal?.addEventListener('abort', done, { once: true });
      });
    } finally {
      await w.cancel().catch(() => undefined);
    }
  }

  async lockInfo(dirPath: string, options?: OpOptions): Promise<string | null> {
    await this.ready();
    try {
      const v = await withSignal(this.client.get(this.lockKey(dirPath)).string(), options?.signal, `lockInfo ${dirPath}`);
      return v;
    } catch (err) {
      backend(`lockInfo ${dirPath}`, err);
    }
  }

  async close(): Promise<void> {
    await this.ready();
    for (const c of [...this.closers]) c();
    for (const h of [...this.held]) await h.unlock();
    this.client.close();
  }
}

class EtcdLockHandle implements LockHandle {
  private released = false;
  private lost = false;
  readonly token = randomUUID();

  constructor(
    private readonly client: Etcd3,
    private readonly lease: Lease,
    private readonly leaseId: string,
    private readonly key: string,
    private readonly dirPath: string,
    readonly contents: string,
    private readonly onRelease: () => void,
  ) {
    lease.on('lost', () => {
      this.lost = true;
    });
  }

  async check(): Promise<void> {
    if (this.released || this.lost) throw topoError('LOCK_LOST', `lock on ${this.dirPath} is no longer held (${this.contents})`);
    const res = await this.client.get(this.key).exec();
    const kv = res.kvs[0];
    if (!kv || kv.lease !== this.leaseId) throw topoError('LOCK_LOST', `lock on ${this.dirPath} is no longer held (${this.contents})`);
  }

  async unlock(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.onRelease();
    // Revoking the lease deletes the lock key with it.
    await this.lease.revoke().catch(() => undefined);
  }
}
