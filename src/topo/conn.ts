// The contract every topology backend keeps. The typed layer (server.ts) and everything above it
// only ever hold a `Conn`; memory, file and etcd are interchangeable behind it, and the conformance
// suite (test/integration/topo/) checks each against this comment.
import { topoError } from './errors.js';

/**
 * An opaque version of one node. Backends choose the representation (a revision number for etcd
 * and the file backend, a counter for memory); callers only compare it for equality and hand it
 * back to `update`/`delete`. A node deleted and created again never gets a version it had before,
 * so a stale compare-and-swap cannot succeed after a delete/create cycle.
 */
export type Version = string;

export interface NodeValue {
  readonly data: Buffer;
  readonly version: Version;
}

/** Every operation takes an optional signal; a fired signal rejects with INTERRUPTED. */
export interface OpOptions {
  readonly signal?: AbortSignal;
}

export type WatchEvent =
  /** The node now holds `data` at `version`. */
  | { readonly kind: 'changed'; readonly data: Buffer; readonly version: Version }
  /** The node was deleted. The last event of the watch. */
  | { readonly kind: 'deleted' }
  /**
   * The watch cannot go on without possibly skipping a change (the backend lost its connection
   * for too long, history was compacted, the watcher fell too far behind). The last event of the
   * watch; the caller starts a new watch, which begins with the then-current value.
   */
  | { readonly kind: 'broken'; readonly error: Error };

export interface Watch {
  /** The node's value when the watch started. */
  readonly current: NodeValue;
  /**
   * Every later change, in order, each exactly once: no change is skipped or repeated. Ends after
   * a `deleted` or `broken` event, or silently when the caller's signal fires (that is how a caller
   * stops a watch). Events are buffered up to the backend's `watchBufferMax`; a consumer that falls
   * further behind gets `broken` rather than silently losing changes.
   */
  readonly changes: AsyncIterableIterator<WatchEvent>;
}

export interface LockOptions extends OpOptions {
  /**
   * How long to wait for a lock another holder has. 0 means try once. On expiry: TIMEOUT, with
   * the current holder's contents in the message.
   */
  readonly timeoutMs: number;
  /**
   * The lease. The holder refreshes it while it lives (every third of the TTL); if the holder dies
   * or hangs, others may take the lock once the lease has run out. The file and etcd backends
   * also free a lock at once when the holder's process (same host) no longer exists (holder.ts).
   */
  readonly ttlMs: number;
}

export interface LockHandle {
  /** The contents stored with the lock (who and why); shown to whoever waits for it. */
  readonly contents: string;
  /** Rejects with LOCK_LOST if this holder no longer holds the lock (lease ran out, taken over). */
  check(): Promise<void>;
  /** Releases the lock and stops refreshing its lease. Idempotent; never throws for a lost lock. */
  unlock(): Promise<void>;
}

/**
 * One connection to one topology store, rooted at a prefix. Paths are relative to that root,
 * '/'-separated, without leading or trailing '/'; no segment is empty, '.', '..' or starts with '.'
 * (backends keep their bookkeeping under dot-names). A path may both hold data and have children.
 *
 * Errors are TopoErrors (errors.ts); each method lists the codes it uses for expected outcomes.
 * Anything else (I/O failure, backend down, injected fault) is BACKEND; a fired signal is
 * INTERRUPTED, in which case a write may or may not have happened.
 */
export interface Conn {
  /** `memory`, `file` or `etcd`. */
  readonly implementation: string;

  /** The node's data and version. NO_NODE if it does not exist. */
  get(path: string, options?: OpOptions): Promise<NodeValue>;

  /** Creates the node; returns its version. NODE_EXISTS if it exists. */
  create(path: string, data: Buffer, options?: OpOptions): Promise<Version>;

  /**
   * Writes the node. With `version` set, only if the node is at that version (BAD_VERSION if it is
   * at another one, NO_NODE if it does not exist). With `version` null, unconditionally, creating
   * the node if needed. Returns the new version.
   */
  update(path: string, data: Buffer, version: Version | null, options?: OpOptions): Promise<Version>;

  /**
   * Deletes the node (not its children). With `version` set, only at that version (BAD_VERSION).
   * NO_NODE if it does not exist.
   */
  delete(path: string, version: Version | null, options?: OpOptions): Promise<void>;

  /**
   * The names of the direct children of `dirPath` ('' for the root) that hold data or have
   * descendants that do, sorted. An empty array when there are none (never NO_NODE).
   */
  list(dirPath: string, options?: OpOptions): Promise<string[]>;

  /**
   * Watches one node: its current value, then every change in order (see `Watch`). NO_NODE if the
   * node does not exist when the watch starts. The caller stops the watch with `options.signal`.
   */
  watch(path: string, options?: OpOptions): Promise<Watch>;

  /**
   * Takes the named lock on `dirPath` (a keyspace or shard directory, which need not hold data),
   * storing `contents` (holder and reason) with it. Waits up to `timeoutMs` while another holder has
   * it (TIMEOUT). Locks are advisory: they exclude other lockers, not writers.
   */
  lock(dirPath: string, contents: string, options: LockOptions): Promise<LockHandle>;

  /** The contents of the lock on `dirPath` if someone holds it, else null. */
  lockInfo(dirPath: string, options?: OpOptions): Promise<string | null>;

  /** Releases resources (connections, timers, watches). Locks still held are released. */
  close(): Promise<void>;
}

/** Checks a node path against the rules in the `Conn` comment; '' is allowed only for `list`. */
export function checkPath(path: string, allowRoot = false): string {
  if (path === '' && allowRoot) return path;
  const segments = path.split('/');
  for (const s of segments) {
    if (s === '' || s === '.' || s === '..' || s.startsWith('.') || s.includes('\0')) {
      throw topoError('BAD_ARGUMENT', `invalid topology path '${path}'`);
    }
  }
  return path;
}

/** Joins path segments, each checked. */
export function joinPath(...segments: string[]): string {
  return checkPath(segments.filter((s) => s !== '').join('/'));
}
