// The cancellation of one call, without an AbortController. Node's AbortController/AbortSignal is
// an EventTarget whose construction and listener bookkeeping cost a few microseconds: too much to
// pay per query on the tablet's RPC server, where nearly every call ends without being cancelled.
// A call's own object (see server.ts) implements this interface instead; an AbortSignal implements
// it too, so the code that reacts to a cancel (the tablet's statement timer, the RPC client) takes
// either. A real AbortSignal is made only for handlers that ask for one (CallContext.signal).
import { logger } from '../log/index.js';

const log = logger('rpc');

/** What an abort listener receives: `target` is the signal that aborted (as in a DOM Event). */
export interface CancelEvent {
  readonly type: string;
  readonly target: unknown;
}

export type CancelListener = ((ev: CancelEvent) => void) | { handleEvent(ev: CancelEvent): void };

/**
 * The part of AbortSignal that cancellable work uses. As with AbortSignal: a listener added after
 * the abort is not called; each listener is called once, in the order added.
 */
export interface CancelSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: CancelListener, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: CancelListener): void;
}

/**
 * A CancelSignal that is a plain object: no EventTarget, one listener without an array (the
 * common case: the tablet's statement timer), more in an array.
 */
export class CancelToken implements CancelSignal {
  aborted = false;
  reason: unknown = undefined;
  private first: CancelListener | null = null;
  private rest: CancelListener[] | null = null;

  addEventListener(type: 'abort', listener: CancelListener): void {
    if (type !== 'abort' || this.aborted) return;
    if (this.first === listener || this.rest?.includes(listener)) return; // as EventTarget: no duplicates
    if (this.first === null) this.first = listener;
    else (this.rest ??= []).push(listener);
  }

  removeEventListener(type: 'abort', listener: CancelListener): void {
    if (type !== 'abort') return;
    if (this.first === listener) {
      this.first = this.rest !== null && this.rest.length > 0 ? (this.rest.shift() as CancelListener) : null;
      return;
    }
    if (this.rest !== null) {
      const i = this.rest.indexOf(listener);
      if (i >= 0) this.rest.splice(i, 1);
    }
  }

  /** Aborts once (later calls do nothing) and calls every listener with `{type: 'abort', target}`. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const all = this.first === null ? [] : [this.first, ...(this.rest ?? [])];
    this.first = null;
    this.rest = null;
    const ev: CancelEvent = { type: 'abort', target: this };
    for (const l of all) {
      try {
        if (typeof l === 'function') l.call(this, ev);
        else l.handleEvent(ev);
      } catch (err) {
        // As EventTarget: one listener's failure does not stop the others.
        log.error({ err: (err as Error).message }, 'an abort listener threw');
      }
    }
  }
}
