// One MariaDB connection for a sidecar store (the VReplication and VDiff engines' own state),
// dialled when first needed and again after it broke, running one statement at a time in the order
// they were asked for. `exclusive` holds it for a whole transaction, so no other caller's statement
// lands inside one (or is rolled back with it).
import type { Client } from '../mysql/client.js';
import type { Result } from '../mysql/client-result.js';
import type { SqlExecutor } from './executor.js';

/** Errors after which the connection is gone: server gone away, lost during a query. */
const CONNECTION_LOST = new Set([2006, 2013]);

export class SerialConnection implements SqlExecutor {
  private client: Client | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly dial: () => Promise<Client>) {}

  query(sql: string): Promise<Result> {
    return this.queued(() => this.direct(sql));
  }

  exclusive<T>(fn: (exec: SqlExecutor) => Promise<T>): Promise<T> {
    return this.queued(() => fn({ query: (sql: string) => this.direct(sql) }));
  }

  close(): void {
    this.client?.close();
    this.client = undefined;
  }

  private async direct(sql: string): Promise<Result> {
    // A connection its server closed (MariaDB restarted under the tablet) is dialled again before
    // anything is sent on it: nothing ran, so nothing runs twice.
    if (!this.client || this.client.closed) {
      this.client?.close();
      this.client = await this.dial();
    }
    try {
      return await this.client.query(sql);
    } catch (err) {
      if (CONNECTION_LOST.has((err as { errno?: number }).errno ?? 0)) this.close();
      throw err;
    }
  }

  /** Queues `run` behind everything already on the connection. */
  private queued<T>(run: () => Promise<T>): Promise<T> {
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }
}
