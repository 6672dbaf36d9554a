// Client load through the gate for the buffering tests, as Vitess's buffering tests drive it: a
// reader (fast point selects, and slow ones), an autocommit writer, and a writer of transactions
// held open 0–1 s between their statements; optionally a reader whose results the gate streams
// (workload 'olap'). Every outcome is kept so a test can say which
// statements failed and how, and which rows were acknowledged.
import type mysql from 'mysql2/promise';

export interface LoadFailure {
  readonly errno: number | undefined;
  readonly sqlState: string | undefined;
  readonly message: string;
}

function failure(err: unknown): LoadFailure {
  const e = err as { errno?: number; sqlState?: string; message?: string };
  return { errno: e.errno, sqlState: e.sqlState, message: String(e.message ?? err) };
}

export interface LoadConnections {
  readonly reader: mysql.Connection;
  readonly slowReader: mysql.Connection;
  readonly writer: mysql.Connection;
  readonly txWriter: mysql.Connection;
  /** Reads the point select as a streamed result (the connection is set to workload 'olap' at start). */
  readonly streamReader?: mysql.Connection;
}

export interface LoadSql {
  /** A point select of a row that always exists. */
  read: string;
  /** A slow select (SLEEP) on the same table. */
  slowRead: string;
  /** The insert of row `id`. */
  insert(id: number): string;
}

/** A seeded pseudo-random source, so a failing run can be replayed. */
export function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x1_0000_0000;
  };
}

export class BufferLoad {
  reads = 0;
  readonly readErrors: LoadFailure[] = [];
  /** Reads of the streamReader connection, which the gate streams to the client (OLAP). */
  streamReads = 0;
  readonly streamReadErrors: LoadFailure[] = [];
  readonly writeErrors: LoadFailure[] = [];
  readonly txErrors: LoadFailure[] = [];
  transactionsCommitted = 0;
  /** Ids whose insert (or whose transaction's commit) was acknowledged. */
  readonly acked: number[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  private nextId: number;
  private readonly rand: () => number;

  constructor(
    private readonly conns: LoadConnections,
    private readonly sql: LoadSql,
    firstId: number,
    seed: number,
  ) {
    this.nextId = firstId;
    this.rand = random(seed);
  }

  async start(): Promise<void> {
    this.running = true;
    this.loops = [this.readLoop(this.conns.reader, this.sql.read), this.readLoop(this.conns.slowReader, this.sql.slowRead), this.writeLoop(), this.txLoop()];
    const streamed = this.conns.streamReader;
    if (streamed) {
      await streamed.query("SET workload = 'olap'");
      this.loops.push(this.streamLoop(streamed));
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async readLoop(c: mysql.Connection, sql: string): Promise<void> {
    while (this.running) {
      try {
        await c.query(sql);
        this.reads++;
      } catch (err) {
        this.readErrors.push(failure(err));
        await pause(20);
      }
    }
  }

  private async streamLoop(c: mysql.Connection): Promise<void> {
    while (this.running) {
      try {
        const [rows] = await c.query(this.sql.read);
        if ((rows as unknown[]).length !== 1) throw new Error(`a streamed read returned ${(rows as unknown[]).length} rows, not 1`);
        this.streamReads++;
      } catch (err) {
        this.streamReadErrors.push(failure(err));
        await pause(20);
      }
    }
  }

  private async writeLoop(): Promise<void> {
    while (this.running) {
      const id = this.nextId++;
      try {
        await this.conns.writer.query(this.sql.insert(id));
        this.acked.push(id);
      } catch (err) {
        this.writeErrors.push(failure(err));
        await pause(20);
      }
    }
  }

  private async txLoop(): Promise<void> {
    const c = this.conns.txWriter;
    while (this.running) {
      const a = this.nextId++;
      const b = this.nextId++;
      try {
        await c.query('BEGIN');
        await c.query(this.sql.insert(a));
        await pause(Math.floor(this.rand() * 1000));
        await c.query(this.sql.insert(b));
        await c.query('COMMIT');
        this.acked.push(a, b);
        this.transactionsCommitted++;
      } catch (err) {
        this.txErrors.push(failure(err));
        await c.query('ROLLBACK').catch(() => undefined);
      }
    }
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The failover buffer's counters for one shard, from the gate's /metrics. */
export async function bufferMetric(httpPort: number, name: string, keyspace: string, shard: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{')) continue;
    if (!line.includes(`keyspace="${keyspace}"`) || !line.includes(`shard="${shard}"`)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
