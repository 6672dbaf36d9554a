// The embedded backend: the topology in a directory on disk, shared safely by several processes
// on one machine, surviving restarts. The default for `tessera up` and for one-machine clusters.
//
// Layout under <server address>/<root>/: one directory per node path, holding
//   .node          the current value: a JSON header line {"v":<version>} then the data bytes
//   .hist/<v>      the last `historyMax` changes, each with the version it replaced, for watches
//   .lock          the named lock on this directory: holder, contents, lease expiry
// and the node's children as sub-directories. <server address>/.tessera/ holds the store-wide
// revision counter and the write mutex.
//
// Why this design: every write runs under one store-wide mutex, so compare-and-swap is a plain
// read-compare-write, and versions come from one counter (a node deleted and re-created never
// reuses a version). Values are replaced by write-to-temp + rename, so readers never take the
// mutex and never see half a value. Watches read the per-node history, which lets them deliver
// every change in order and notice (and report as `broken`) when they have fallen too far behind;
// fs.watch wakes them early, polling covers what inotify misses.
//
// The mutex survives crashes without a race between two processes breaking the same stale entry:
// holders take numbered generations (`g<n>`, created atomically with link(2)); the holder is the
// highest generation, a new one may be taken only when the highest is released (absent) or stale
// (its process is gone, or it is older than `mutexStaleMs`), and exactly one process can create
// a given number. Named locks are records written under that mutex, with a lease the living
// holder refreshes; a dead holder's lock frees when its process is gone or its lease runs out.
import { randomUUID } from 'node:crypto';
import { watch as fsWatch, type FSWatcher } from 'node:fs';
import { link, mkdir, readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
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

export interface FileConnOptions {
  /** How often a watch or a lock waiter re-reads when fs.watch has said nothing. */
  readonly pollIntervalMs: number;
  /** Changes kept per node for watches; a watcher further behind than this gets `broken`. */
  readonly historyMax: number;
  /** A write-mutex generation older than this is stale even if its process still exists. */
  readonly mutexStaleMs: number;
  readonly watchBufferMax: number;
}

export const FILE_CONN_DEFAULTS: FileConnOptions = {
  pollIntervalMs: 100,
  historyMax: 64,
  mutexStaleMs: 30_000,
  watchBufferMax: WATCH_BUFFER_MAX_DEFAULT,
};

const HOST = hostname();

interface Header {
  v: number;
  prev?: number | null;
  deleted?: boolean;
}

interface LockRecord {
  token: string;
  contents: string;
  pid: number;
  hostname: string;
  leaseExpiresAtMs: number;
}

interface MutexRecord {
  token: string;
  pid: number;
  hostname: string;
  atMs: number;
}

function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

function backend(what: string, err: unknown): never {
  if (isTopoError(err)) throw err;
  throw topoError('BACKEND', `file topo: ${what}: ${(err as Error).message}`, { cause: err });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errCode(err) === 'EPERM';
  }
}

/** A process on this host that is gone cannot hold anything. */
function holderGone(host: string, pid: number): boolean {
  return host === HOST && !pidAlive(pid);
}

function encode(h: Header, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${JSON.stringify(h)}\n`), data]);
}

function decode(buf: Buffer): { header: Header; data: Buffer } {
  const nl = buf.indexOf(0x0a);
  if (nl < 0) throw topoError('BACKEND', 'file topo: corrupt node file (no header)');
  return { header: JSON.parse(buf.subarray(0, nl).toString('utf8')) as Header, data: buf.subarray(nl + 1) };
}

async function readOrNull(file: string): Promise<Buffer | null> {
  try {
    return await readFile(file);
  } catch (err) {
    if (errCode(err) === 'ENOENT' || errCode(err) === 'ENOTDIR') return null;
    throw err;
  }
}

async function atomicWrite(file: string, data: Buffer | string): Promise<void> {
  const tmp = `${file}.tmp.${process.pid}.${randomUUID()}`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const GEN = /^g(\d{12})$/;
const genName = (n: number): string => `g${String(n).padStart(12, '0')}`;

/**
 * The store-wide write mutex. One per store directory per process: within a process, callers
 * queue on a promise chain so they do not spin against each other on the file system.
 */
class FileMutex {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly dir: string;

  constructor(
    metaDir: string,
    private readonly staleMs: number,
  ) {
    this.dir = join(metaDir, 'mutex');
  }

  run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(() => this.withHeld(fn));
    this.chain = p.catch(() => undefined);
    return p;
  }

  private async gens(): Promise<number[]> {
    const names = await readdir(this.dir);
    const out: number[] = [];
    for (const n of names) {
      const m = GEN.exec(n);
      if (m) out.push(Number(m[1]));
    }
    return out.sort((a, b) => a - b);
  }

  private async withHeld<T>(fn: () => Promise<T>): Promise<T> {
    await mkdir(this.dir, { recursive: true });
    const me: MutexRecord = { token: randomUUID(), pid: process.pid, hostname: HOST, atMs: 0 };
    let backoffMs = 1;
    for (;;) {
      const gens = await this.gens();
      const top = gens.at(-1) ?? 0;
      if (top > 0) {
        const buf = await readOrNull(join(this.dir, genName(top)));
        if (buf === null) continue; // released between readdir and read
        const rec = JSON.parse(buf.toString('utf8')) as MutexRecord;
        const stale = holderGone(rec.hostname, rec.pid) || Date.now() - rec.atMs > this.staleMs;
        if (!stale) {
          await sleep(backoffMs);
          backoffMs = Math.min(backoffMs * 2, 20);
          continue;
        }
      }
      const mine = join(this.dir, genName(top + 1));
      const tmp = join(this.dir, `t.${me.token}`);
      me.atMs = Date.now();
      await writeFile(tmp, JSON.stringify(me));
      try {
        await link(tmp, mine);
      } catch (err) {
        if (errCode(err) !== 'EEXIST') throw err;
        continue;
      } finally {
        await unlink(tmp).catch(() => undefined);
      }
      // A process that read an old listing may have re-created a generation below the real top
      // after it was cleaned up; whoever is below a higher generation has lost.
      const after = await this.gens();
      if (after.some((g) => g > top + 1)) {
        await unlink(mine).catch(() => undefined);
        continue;
      }
      for (const g of after) if (g < top + 1) await unlink(join(this.dir, genName(g))).catch(() => undefined);
      try {
        return await fn();
      } finally {
        await unlink(mine).catch(() => undefined);
      }
    }
  }
}

const mutexes = new Map<string, FileMutex>();

export class FileConn implements Conn {
  readonly implementation = 'file';
  private readonly rootDir: string;
  private readonly metaDir: string;
  private readonly mutex: FileMutex;
  private readonly opts: FileConnOptions;
  private readonly held = new Set<FileLockHandle>();
  private readonly closers = new Set<() => void>();

  constructor(serverAddress: string, root: string, options: Partial<FileConnOptions> = {}) {
    if (serverAddress === '') throw topoError('BAD_ARGUMENT', 'file topo needs a directory as its server address');
    const base = resolve(serverAddress);
    this.rootDir = join(base, root.replace(/^\/+/, ''));
    this.metaDir = join(base, '.tessera');
    this.opts = { ...FILE_CONN_DEFAULTS, ...options };
    let m = mutexes.get(this.metaDir);
    if (!m) mutexes.set(this.metaDir, (m = new FileMutex(this.metaDir, this.opts.mutexStaleMs)));
    this.mutex = m;
  }

  private dir(path: string, allowRoot = false): string {
    const p = checkPath(path, allowRoot);
    return p === '' ? this.rootDir : join(this.rootDir, ...p.split('/'));
  }

  private async readNode(dir: string): Promise<{ header: Header; data: Buffer } | null> {
    const buf = await readOrNull(join(dir, '.node'));
    return buf === null ? null : decode(buf);
  }

  private async nextRevision(): Promise<number> {
    const file = join(this.metaDir, 'revision');
    const buf = await readOrNull(file);
    const rev = (buf === null ? 0 : Number(buf.toString('utf8'))) + 1;
    await atomicWrite(file, String(rev));
    return rev;
  }

  /** Records a change in the node's history, then prunes the oldest entries beyond historyMax. */
  private async appendHistory(dir: string, header: Header, data: Buffer): Promise<void> {
    const hist = join(dir, '.hist');
    await mkdir(hist, { recursive: true });
    await atomicWrite(join(hist, String(header.v).padStart(16, '0')), encode(header, data));
    const names = (await readdir(hist)).filter((n) => /^\d{16}$/.test(n)).sort();
    for (const n of names.slice(0, Math.max(0, names.length - this.opts.historyMax))) {
      await unlink(join(hist, n)).catch(() => undefined);
    }
  }

  private async write(path: string, data: Buffer, mode: 'create' | 'update', version: Version | null, options?: OpOptions): Promise<Version> {
    const dir = this.dir(path);
    throwIfAborted(options?.signal, `${mode} ${path}`);
    try {
      return await this.mutex.run(async () => {
        const cur = await this.readNode(dir);
        if (mode === 'create' && cur) throw topoError('NODE_EXISTS', `node already exists: ${path}`);
        if (version !== null) {
          if (!cur) throw topoError('NO_NODE', `node doesn't exist: ${path}`);
          if (String(cur.header.v) !== version) throw topoError('BAD_VERSION', `bad node version for ${path}: expected ${version}, have ${cur.header.v}`);
        }
        await mkdir(dir, { recursive: true });
        const v = await this.nextRevision();
        await this.appendHistory(dir, { v, prev: cur ? cur.header.v : null }, data);
        await atomicWrite(join(dir, '.node'), encode({ v }, data));
        return String(v);
      });
    } catch (err) {
      backend(`${mode} ${path}`, err);
    }
  }

  async get(path: string, options?: OpOptions): Promise<NodeValue> {
    const dir = this.dir(path);
    throwIfAborted(options?.signal, `get ${path}`);
    let n: { header: Header; data: Buffer } | null;
    try {
      n = await this.readNode(dir);
    } catch (err) {
      backend(`get ${path}`, err);
    }
    if (!n) throw topoError('NO_NODE', `node doesn't exist: ${path}`);
    return { data: n.data, version: String(n.header.v) };
  }

  create(path: string, data: Buffer, options?: OpOptions): Promise<Version> {
    return this.write(path, data, 'create', null, options);
  }

  update(path: string, data: Buffer, version: Version | null, options?: OpOptions): Promise<Version> {
    return this.write(path, data, 'update', version, options);
  }

  async delete(path: string, version: Version | null, options?: OpOptions): Promise<void> {
    const dir = this.dir(path);
    throwIfAborted(options?.signal, `delete ${path}`);
    try {
      await this.mutex.run(async () => {
        const cur = await this.readNode(dir);
        if (!cur) throw topoError('NO_NODE', `node doesn't exist: ${path}`);
        if (version !== null && String(cur.header.v) !== version) {
          throw topoError('BAD_VERSION', `bad node version for ${path}: expected ${version}, have ${cur.header.v}`);
        }
        const v = await this.nextRevision();
        await this.appendHistory(dir, { v, prev: cur.header.v, deleted: true }, Buffer.alloc(0));
        await unlink(join(dir, '.node'));
      });
    } catch (err) {
      backend(`delete ${path}`, err);
    }
  }

  /** Whether `dir` holds a node or has a descendant that does (deleted nodes leave a directory). */
  private async hasLive(dir: string): Promise<boolean> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (errCode(err) === 'ENOENT' || errCode(err) === 'ENOTDIR') return false;
      throw err;
    }
    if (entries.some((e) => e.name === '.node' && e.isFile())) return true;
    for (const e of entries) if (e.isDirectory() && !e.name.startsWith('.') && (await this.hasLive(join(dir, e.name)))) return true;
    return false;
  }

  async list(dirPath: string, options?: OpOptions): Promise<string[]> {
    const dir = this.dir(dirPath, true);
    throwIfAborted(options?.signal, `list ${dirPath}`);
    try {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if (errCode(err) === 'ENOENT' || errCode(err) === 'ENOTDIR') return [];
        throw err;
      }
      const out: string[] = [];
      for (const e of entries) {
        if (e.isDirectory() && !e.name.startsWith('.') && (await this.hasLive(join(dir, e.name)))) out.push(e.name);
      }
      return out.sort();
    } catch (err) {
      backend(`list ${dirPath}`, err);
    }
  }

  async watch(path: string, options?: OpOptions): Promise<Watch> {
    const dir = this.dir(path);
    const signal = options?.signal;
    throwIfAborted(signal, `watch ${path}`);
    const histDir = join(dir, '.hist');
    let cur: { header: Header; data: Buffer } | null;
    try {
      cur = await this.readNode(dir);
      await mkdir(histDir, { recursive: true });
    } catch (err) {
      backend(`watch ${path}`, err);
    }
    if (!cur) throw topoError('NO_NODE', `node doesn't exist: ${path}`);

    let last = cur.header.v;
    let running = false;
    let again = false;
    let fsw: FSWatcher | null = null;
    const onAbort = (): void => q.end();
    const stop = (): void => {
      clearInterval(timer);
      fsw?.close();
      fsw = null;
      signal?.removeEventListener('abort', onAbort);
      this.closers.delete(onAbort);
    };
    const q: WatchQueue = new WatchQueue(this.opts.watchBufferMax, stop);

    const poll = async (): Promise<void> => {
      const names = (await readdir(histDir).catch(() => [] as string[])).filter((n) => /^\d{16}$/.test(n)).sort();
      for (const n of names) {
        if (q.isEnded) return;
        if (Number(n) <= last) continue;
        const buf = await readOrNull(join(histDir, n));
        const e = buf === null ? null : decode(buf);
        if (e === null || (e.header.prev ?? null) !== last) {
          q.push({ kind: 'broken', error: topoError('BACKEND', `watch on ${path} fell behind the last historyMax=${this.opts.historyMax} changes`) });
          return;
        }
        last = e.header.v;
        q.push(e.header.deleted ? { kind: 'deleted' } : { kind: 'changed', data: e.data, version: String(e.header.v) });
      }
    };
    const schedule = (): void => {
      if (q.isEnded) return;
      if (running) {
        again = true;
        return;
      }
      running = true;
      void (async () => {
        do {
          again = false;
          try {
            await poll();
          } catch (err) {
            q.push({ kind: 'broken', error: topoError('BACKEND', `watch on ${path}: ${(err as Error).message}`, { cause: err }) });
          }
        } while (again && !q.isEnded);
        running = false;
      })();
    };
    const timer = setInterval(schedule, this.opts.pollIntervalMs);
    try {
      fsw = fsWatch(histDir, schedule);
      fsw.on('error', () => {
        fsw?.close();
        fsw = null;
      });
    } catch {
      fsw = null; // polling alone still delivers every change
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    this.closers.add(onAbort);
    schedule();
    return { current: { data: cur.data, version: String(cur.header.v) }, changes: q };
  }

  private async readLock(dir: string): Promise<LockRecord | null> {
    const buf = await readOrNull(join(dir, '.lock'));
    return buf === null ? null : (JSON.parse(buf.toString('utf8')) as LockRecord);
  }

  private static live(rec: LockRecord | null): rec is LockRecord {
    return rec !== null && rec.leaseExpiresAtMs > Date.now() && !holderGone(rec.hostname, rec.pid);
  }

  async lock(dirPath: string, contents: string, options: LockOptions): Promise<LockHandle> {
    const dir = this.dir(dirPath);
    const deadline = Date.now() + options.timeoutMs;
    const token = randomUUID();
    for (;;) {
      throwIfAborted(options.signal, `lock ${dirPath}`);
      let holder: LockRecord | null;
      try {
        holder = await this.mutex.run(async () => {
          const cur = await this.readLock(dir);
          if (FileConn.live(cur)) return cur;
          await mkdir(dir, { recursive: true });
          const rec: LockRecord = { token, contents, pid: process.pid, hostname: HOST, leaseExpiresAtMs: Date.now() + options.ttlMs };
          await atomicWrite(join(dir, '.lock'), JSON.stringify(rec));
          return null;
        });
      } catch (err) {
        backend(`lock ${dirPath}`, err);
      }
      if (holder === null) {
        const h = new FileLockHandle(this, dir, dirPath, token, contents, options.ttlMs, () => this.held.delete(h));
        this.held.add(h);
        return h;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw topoError('TIMEOUT', `timed out waiting for lock on ${dirPath}, held by: ${holder.contents}`);
      await this.waitForChange(dir, Math.min(left, this.opts.pollIntervalMs * 5), options.signal);
    }
  }

  /** Sleeps until something in `dir` changes (fs.watch), `ms` passes, or the signal fires. */
  private waitForChange(dir: string, ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolvePromise) => {
      let w: FSWatcher | null = null;
      const done = (): void => {
        clearTimeout(t);
        w?.close();
        signal?.removeEventListener('abort', done);
        resolvePromise();
      };
      const t = setTimeout(done, Math.max(1, ms));
      try {
        w = fsWatch(dir, done);
        w.on('error', done);
      } catch {
        w = null;
      }
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Under the mutex: extends our lease if we still hold the lock; false if we lost it. */
  async refreshLock(dir: string, token: string, ttlMs: number): Promise<boolean> {
    return this.mutex.run(async () => {
      const cur = await this.readLock(dir);
      if (!cur || cur.token !== token || cur.leaseExpiresAtMs <= Date.now()) return false;
      cur.leaseExpiresAtMs = Date.now() + ttlMs;
      await atomicWrite(join(dir, '.lock'), JSON.stringify(cur));
      return true;
    });
  }

  async releaseLock(dir: string, token: string): Promise<void> {
    await this.mutex.run(async () => {
      const cur = await this.readLock(dir);
      if (cur && cur.token === token) await rm(join(dir, '.lock'), { force: true });
    });
  }

  async lockHeldBy(dir: string, token: string): Promise<boolean> {
    const cur = await this.readLock(dir);
    return FileConn.live(cur) && cur.token === token;
  }

  async lockInfo(dirPath: string, options?: OpOptions): Promise<string | null> {
    const dir = this.dir(dirPath);
    throwIfAborted(options?.signal, `lockInfo ${dirPath}`);
    try {
      const cur = await this.readLock(dir);
      return FileConn.live(cur) ? cur.contents : null;
    } catch (err) {
      backend(`lockInfo ${dirPath}`, err);
    }
  }

  async close(): Promise<void> {
    for (const c of [...this.closers]) c();
    for (const h of [...this.held]) await h.unlock();
  }
}

class FileLockHandle implements LockHandle {
  private readonly timer: NodeJS.Timeout;
  private released = false;
  private lost = false;

  constructor(
    private readonly conn: FileConn,
    private readonly dir: string,
    private readonly dirPath: string,
    private readonly token: string,
    readonly contents: string,
    ttlMs: number,
    private readonly onRelease: () => void,
  ) {
    this.timer = setInterval(() => {
      void this.conn.refreshLock(this.dir, this.token, ttlMs).then(
        (ok) => {
          if (!ok) {
            this.lost = true;
            clearInterval(this.timer);
          }
        },
        () => undefined, // a failed refresh is retried next tick; check() reports real loss
      );
    }, Math.max(1, Math.floor(ttlMs / 3)));
    this.timer.unref();
  }

  async check(): Promise<void> {
    if (this.released || this.lost || !(await this.conn.lockHeldBy(this.dir, this.token))) {
      throw topoError('LOCK_LOST', `lock on ${this.dirPath} is no longer held (${this.contents})`);
    }
  }

  async unlock(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.timer);
    this.onRelease();
    await this.conn.releaseLock(this.dir, this.token).catch(() => undefined);
  }
}
