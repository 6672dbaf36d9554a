// Load for the chaos suite: the write ledger (test/harness/ledger.ts) inserting rows (id, 'v<id>')
// into one table through every gate of a DistCluster, writer i on gate i mod gates. A writer whose
// connection fails drops it and reconnects on the next write, to the next gate: what a client does
// when its gate dies. After a scenario, `checkRows` reads the table and compares it with the ledger.
import type mysql from 'mysql2/promise';
import { WriteLedger } from '../harness/ledger.js';
import type { DistCluster } from './cluster.js';

export interface LedgerLoad {
  readonly ledger: WriteLedger;
  stop(): Promise<void>;
}

export function startLedgerLoad(c: DistCluster, keyspace: string, table: string, writers = 4, firstId = 1): LedgerLoad {
  const conns: (mysql.Connection | null)[] = Array.from({ length: writers }, () => null);
  const gateOf = Array.from({ length: writers }, (_, i) => i % c.gatePorts.length);
  const ledger = new WriteLedger({
    writers,
    failurePauseMs: 50,
    write: async (id, w) => {
      let conn = conns[w];
      if (!conn) {
        conn = await c.connect(gateOf[w], keyspace).catch((err: Error) => {
          // This gate does not answer: the next write tries the next gate.
          gateOf[w] = (gateOf[w] + 1) % c.gatePorts.length;
          throw err;
        });
        conn.on('error', () => undefined);
        conns[w] = conn;
      }
      try {
        await conn.query(`INSERT INTO ${table} (id, v) VALUES (${id + firstId - 1}, 'v${id + firstId - 1}')`);
      } catch (err) {
        const e = err as { fatal?: boolean; code?: string };
        if (e.fatal || e.code === 'ECONNRESET' || e.code === 'PROTOCOL_CONNECTION_LOST' || e.code === 'EPIPE') {
          conns[w] = null;
          conn.destroy();
          gateOf[w] = (gateOf[w] + 1) % c.gatePorts.length;
        }
        throw err;
      }
    },
  });
  ledger.start();
  return {
    ledger,
    async stop() {
      await ledger.stop();
      for (const conn of conns) conn?.destroy();
    },
  };
}

export interface RowCheck {
  readonly acknowledged: number;
  /** Acknowledged ids missing from the table. */
  readonly lost: number[];
  /** Acknowledged ids present with another value. */
  readonly wrongValue: number[];
  /** Ids present more than once. */
  readonly duplicated: number[];
}

/** A connection through whichever gate answers first, trying each in turn for up to `timeoutMs`. */
export async function connectAnyGate(c: DistCluster, keyspace: string, timeoutMs = 60_000): Promise<mysql.Connection> {
  const end = Date.now() + timeoutMs;
  for (let i = 0; ; i++) {
    try {
      return await c.connect(i % c.gatePorts.length, keyspace);
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Reads the table through a gate and checks it against what the ledger acknowledged. */
export async function checkRows(c: DistCluster, keyspace: string, table: string, ledger: WriteLedger, firstId = 1): Promise<RowCheck> {
  const conn = await connectAnyGate(c, keyspace);
  try {
    const [rows] = await conn.query(`SELECT id, v FROM ${table}`);
    const seen = new Map<number, string[]>();
    for (const r of rows as { id: number | string; v: string }[]) {
      const id = Number(r.id);
      seen.set(id, [...(seen.get(id) ?? []), r.v]);
    }
    const lost: number[] = [];
    const wrongValue: number[] = [];
    for (const k of ledger.acknowledged) {
      const id = k + firstId - 1;
      const vs = seen.get(id);
      if (!vs) lost.push(id);
      else if (!vs.includes(`v${id}`)) wrongValue.push(id);
    }
    const duplicated = [...seen.entries()].filter(([, vs]) => vs.length > 1).map(([id]) => id);
    return { acknowledged: ledger.acknowledged.length, lost, wrongValue, duplicated };
  } finally {
    await conn.end();
  }
}
