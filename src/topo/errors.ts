// Topology errors. They are TesseraErrors (errno, SQLSTATE, message) with one more field, `code`,
// so callers branch on `err.code === 'NO_NODE'` and never on message text. The code survives the
// ctld HTTP hop as a JSON field (see src/ctld/http.ts).
import { ER, TesseraError, type ErrorCode } from '../mysql/errors.js';

export type TopoErrorCode =
  /** The node (or keyspace, shard, tablet, ...) does not exist. */
  | 'NO_NODE'
  /** A create-only write found the node already there. */
  | 'NODE_EXISTS'
  /** A compare-and-swap write or delete found a different version than expected. */
  | 'BAD_VERSION'
  /** A deadline passed (lock wait, operation timeout). */
  | 'TIMEOUT'
  /** The caller's AbortSignal fired. */
  | 'INTERRUPTED'
  /** A lock the caller held was lost (lease expired, taken over). */
  | 'LOCK_LOST'
  /** The input is malformed (bad path, bad shard name, invalid VSchema). */
  | 'BAD_ARGUMENT'
  /** The request is well formed but the topology's state forbids it (non-empty keyspace, overlap). */
  | 'FAILED_PRECONDITION'
  /** The backend failed (I/O error, etcd unreachable, injected fault). */
  | 'BACKEND';

const ERRNO: Record<TopoErrorCode, ErrorCode> = {
  NO_NODE: ER.UNKNOWN_ERROR,
  NODE_EXISTS: ER.UNKNOWN_ERROR,
  BAD_VERSION: ER.UNKNOWN_ERROR,
  TIMEOUT: ER.LOCK_WAIT_TIMEOUT,
  INTERRUPTED: ER.QUERY_INTERRUPTED,
  LOCK_LOST: ER.UNKNOWN_ERROR,
  BAD_ARGUMENT: ER.WRONG_ARGUMENTS,
  FAILED_PRECONDITION: ER.UNKNOWN_ERROR,
  BACKEND: ER.UNAVAILABLE,
};

export class TopoError extends TesseraError {
  readonly code: TopoErrorCode;

  constructor(code: TopoErrorCode, message: string, options?: { cause?: unknown; errno?: ErrorCode }) {
    super(options?.errno ?? ERRNO[code], message, options);
    this.name = 'TopoError';
    this.code = code;
  }

  override toJSON(): { errno: number; sqlState: string; message: string; code: TopoErrorCode } {
    return { ...super.toJSON(), code: this.code };
  }
}

export function topoError(code: TopoErrorCode, message: string, options?: { cause?: unknown; errno?: ErrorCode }): TopoError {
  return new TopoError(code, message, options);
}

/** True when `err` is a TopoError with the given code. */
export function isTopoError(err: unknown, code?: TopoErrorCode): err is TopoError {
  return err instanceof TopoError && (code === undefined || err.code === code);
}

/** Rejects with INTERRUPTED when `signal` has fired; the one check every backend makes before work. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw topoError('INTERRUPTED', `${what}: interrupted`, { cause: signal.reason });
}

export const TOPO_READ_DEFAULTS = {
  /** How long `readOrMissing` tries a read the topology does not answer (etcd restarting, a connection re-made). */
  retryMs: 10_000,
  /** Pause between those tries. */
  retryPauseMs: 250,
};

/**
 * Runs a topology read whose NO_NODE means "the user named something that does not exist":
 * NO_NODE becomes `missing()` (the caller's own error), and only NO_NODE does. A read the topology
 * did not answer (etcd killed or restarting, a timeout) says nothing about existence: it is tried
 * again for up to `retryMs`, then reported as the topology being unavailable, with what to do.
 */
export async function readOrMissing<T>(what: string, read: () => Promise<T>, missing: () => Error, retryMs = TOPO_READ_DEFAULTS.retryMs): Promise<T> {
  const end = Date.now() + retryMs;
  for (;;) {
    try {
      return await read();
    } catch (err) {
      if (isTopoError(err, 'NO_NODE')) throw missing();
      if (!isTopoError(err, 'BACKEND') && !isTopoError(err, 'TIMEOUT')) throw err;
      if (Date.now() >= end) {
        throw topoError('BACKEND', `the topology did not answer while reading ${what} (${err.message}); it may be restarting or unreachable: try again in a moment`, {
          cause: err,
          errno: ER.UNAVAILABLE,
        });
      }
      await new Promise((r) => setTimeout(r, TOPO_READ_DEFAULTS.retryPauseMs));
    }
  }
}
