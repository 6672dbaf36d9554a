// The buffer between a backend's watch producer and the consumer's `for await`. Bounded: when the
// consumer falls more than `bufferMax` events behind, the queue ends with one `broken` event
// instead of growing without limit or dropping a change silently.
import type { WatchEvent } from './conn.js';
import { topoError } from './errors.js';

export const WATCH_BUFFER_MAX_DEFAULT = 1000;

export class WatchQueue implements AsyncIterableIterator<WatchEvent> {
  private readonly events: WatchEvent[] = [];
  private waiter: ((r: IteratorResult<WatchEvent>) => void) | null = null;
  private ended = false;
  private onClose: (() => void) | null;

  constructor(
    private readonly bufferMax: number,
    onClose: () => void,
  ) {
    this.onClose = onClose;
  }

  /** Adds an event; after a `deleted` or `broken` event the queue takes no more. */
  push(event: WatchEvent): void {
    if (this.ended) return;
    if (event.kind !== 'changed') this.ended = true;
    if (this.events.length >= this.bufferMax && event.kind === 'changed') {
      this.ended = true;
      event = {
        kind: 'broken',
        error: topoError('BACKEND', `watch consumer fell more than watchBufferMax=${this.bufferMax} events behind`),
      };
    }
    if (this.waiter && this.events.length === 0) {
      const w = this.waiter;
      this.waiter = null;
      w({ value: event, done: false });
    } else {
      this.events.push(event);
    }
    if (this.ended) this.close();
  }

  /** Ends the queue without an event (the consumer's signal fired). */
  end(): void {
    this.ended = true;
    this.close();
    if (this.waiter && this.events.length === 0) {
      const w = this.waiter;
      this.waiter = null;
      w({ value: undefined, done: true });
    }
  }

  get isEnded(): boolean {
    return this.ended;
  }

  private close(): void {
    const c = this.onClose;
    this.onClose = null;
    c?.();
  }

  next(): Promise<IteratorResult<WatchEvent>> {
    const e = this.events.shift();
    if (e) return Promise.resolve({ value: e, done: false });
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  return(): Promise<IteratorResult<WatchEvent>> {
    this.events.length = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<WatchEvent> {
    return this;
  }
}
