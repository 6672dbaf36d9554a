// A bounded pool of MariaDB connections. Callers wait in FIFO order up to `queueTimeoutMs`; past it
// they get a RESOURCE_EXHAUSTED error that names the pool and its size, which is the flag to raise.
import { Client } from '../mysql/client.js';
import { ER, TesseraError } from '../mysql/errors.js';

interface Waiter {
  resolve(c: Client): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout | null;
}

export class ConnPool {
  private readonly idle: Client[] = [];
  private readonly waiters: Waiter[] = [];
  private open = 0;
  private closed = false;

  constructor(
    readonly name: string,
    readonly size: number,
    private readonly queueTimeoutMs: number,
    private readonly connect: () => Promise<Client>,
    /** The flag a user sets to change `size`, named in the exhaustion error. */
    private readonly sizeFlag: string,
  ) {}

  get inUse(): number {
    return this.open - this.idle.length;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /**
   * An idle connection now, or null when there is none (then `get` opens one or waits): the query
   * path's common case, with no promise or other allocation.
   */
  tryGet(): Client | null {
    if (this.closed) return null;
    for (;;) {
      const c = this.idle.pop();
      if (!c) return null;
      if (!c.closed) return c;
      this.open--;
    }
  }

  async get(): Promise<Client> {
    if (this.closed) throw new TesseraError(ER.SERVER_SHUTDOWN, `${this.name} pool is closed: the tablet is shutting down`, { kind: 'NOT_SERVING' });
    const idle = this.tryGet();
    if (idle) return idle;
    if (this.open < this.size) {
      this.open++;
      try {
        return await this.connect();
      } catch (err) {
        this.open--;
        this.wakeOne();
        throw new TesseraError(ER.CONN_ERROR, `${this.name} pool cannot connect to MariaDB: ${(err as Error).message}`, { kind: 'UNAVAILABLE', cause: err });
      }
    }
    return new Promise<Client>((resolve, reject) => {
      const w: Waiter = { resolve, reject, timer: null };
      if (this.queueTimeoutMs > 0) {
        w.timer = setTimeout(() => {
          const i = this.waiters.indexOf(w);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(
            new TesseraError(
              ER.CON_COUNT,
              `${this.name} pool exhausted: all ${this.size} connections stayed busy for ${this.queueTimeoutMs} ms; raise ${this.sizeFlag} or reduce concurrency`,
              { kind: 'RESOURCE_EXHAUSTED' },
            ),
          );
        }, this.queueTimeoutMs);
      }
      this.waiters.push(w);
    });
  }

  /** Returns a connection; a closed or broken one is dropped and its slot freed. */
  put(c: Client): void {
    if (c.closed || this.closed) {
      if (!c.closed) c.close();
      this.open--;
      this.wakeOne();
      return;
    }
    const w = this.waiters.shift();
    if (w) {
      if (w.timer) clearTimeout(w.timer);
      w.resolve(c);
      return;
    }
    this.idle.push(c);
  }

  /** Drops a connection whose state is unknown (killed query, protocol error). */
  discard(c: Client): void {
    if (!c.closed) c.destroy();
    this.open--;
    this.wakeOne();
  }

  /** A slot came free: open a connection for the longest waiter. */
  private wakeOne(): void {
    if (this.closed || this.open >= this.size) return;
    const w = this.waiters.shift();
    if (!w) return;
    if (w.timer) clearTimeout(w.timer);
    this.open++;
    this.connect().then(
      (c) => {
        if (this.closed) {
          c.close();
          this.open--;
          w.reject(new TesseraError(ER.SERVER_SHUTDOWN, `${this.name} pool closed: the tablet is shutting down`, { kind: 'NOT_SERVING' }));
        } else w.resolve(c);
      },
      (err: Error) => {
        this.open--;
        w.reject(new TesseraError(ER.CONN_ERROR, `${this.name} pool cannot connect to MariaDB: ${err.message}`, { kind: 'UNAVAILABLE', cause: err }));
        // The slot is free again: the next waiter tries for itself rather than waiting out its timeout.
        this.wakeOne();
      },
    );
  }

  close(): void {
    this.closed = true;
    for (const c of this.idle.splice(0)) c.close();
    for (const w of this.waiters.splice(0)) {
      if (w.timer) clearTimeout(w.timer);
      w.reject(new TesseraError(ER.SERVER_SHUTDOWN, `${this.name} pool closed: the tablet is shutting down`, { kind: 'NOT_SERVING' }));
    }
  }
}
