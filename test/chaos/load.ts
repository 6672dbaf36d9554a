// Load for the chaos suite: the write ledger (test/harness/ledger.ts) inserting rows (id, 'v<id>')
// into one table through every gate of a DistCluster, writer i on gate i mod gates. A writer whose
// connection fails drops it and reconnects on the next write, to the next gate: what a client does
// when its gate dies. After a scenario, `checkRows` reads the table and compares it with the ledger.
// `startSysbench` adds sysbench oltp_write_only through every gate, counting its errors.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import type mysql from 'mysql2/promise';
import { WriteLedger } from '../harness/ledger.js';
import { retry } from '../harness/wait.js';
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
  const rows = await readAll(c, keyspace, table);
  const seen = new Map<number, string[]>();
  for (const r of rows) {
    const id = Number(r.id);
    const vs = seen.get(id);
    if (vs) vs.push(r.v);
    else seen.set(id, [r.v]);
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
}

/**
 * Every row of the table, through a gate. Streamed: a run whose fault slowed it down writes more
 * rows than the gate's --queryserver-config-max-result-size (10,000) lets a plain read return. The
 * failover buffer holds a streamed read for at most its window (10 s), and a gate restarted by the
 * fault may not have any health yet; the check tries again for up to a minute, so a slow
 * recovery is reported by the checks that follow rather than by this read.
 */
function readAll(c: DistCluster, keyspace: string, table: string): Promise<{ id: number | string; v: string }[]> {
  return retry(`reading every row of ${keyspace}.${table}`, async () => {
    const conn = await connectAnyGate(c, keyspace);
    try {
      await conn.query("SET workload = 'olap'");
      const [rows] = await conn.query(`SELECT id, v FROM ${table}`);
      return rows as { id: number | string; v: string }[];
    } finally {
      await conn.end().catch(() => undefined);
    }
  });
}

/** What sysbench oltp_write_only did: summed from its per-second reports. */
export interface SysbenchResult {
  readonly transactions: number;
  /**
   * Transactions from the fault on, and the time from the fault until sysbench had made
   * SYSBENCH_RESUMED_TRANSACTIONS of them (its clients back on a gate, their transactions running
   * again); set by the runner.
   */
  readonly afterFault?: { readonly transactions: number; readonly resumedMs: number };
  /** Statements that failed (sysbench ignores them with --mysql-ignore-errors=all and retries the transaction). */
  readonly errors: number;
  /**
   * Times sysbench was started again because it ended on its own: sysbench 1.0.20 does not
   * reconnect a lost connection with --mysql-ignore-errors=all (akopytov/sysbench#461) and, built
   * with MariaDB's client library, cannot (#527, it may crash), so a client whose gate died is a new
   * sysbench process, as an application would open new connections.
   */
  readonly restarts: number;
  /** Why each sysbench process ended on its own (the first few). */
  readonly exits: readonly string[];
}

export interface SysbenchLoad {
  /** Resolves once `n` more transactions than now were reported, or rejects after `timeoutMs`. */
  waitForTransactions(n: number, timeoutMs: number): Promise<void>;
  /** Transactions reported so far. */
  transactions(): number;
  stop(): Promise<SysbenchResult>;
}

const SYSBENCH_TABLE_SIZE = 1_000;
const prepared = new WeakSet<DistCluster>();

function sysbenchArgs(keyspace: string, ports: readonly number[]): string[] {
  // One host, the gates' ports: sysbench opens its connections on them in turn.
  return ['oltp_write_only', '--db-driver=mysql', '--mysql-host=127.0.0.1', `--mysql-port=${ports.join(',')}`, '--mysql-user=root', '--mysql-password=',
    `--mysql-db=${keyspace}`, '--tables=1', `--table-size=${SYSBENCH_TABLE_SIZE}`];
}

/** sysbench's table (sbtest1) in `keyspace`, made and filled through the gates once per cluster. */
export async function prepareSysbench(c: DistCluster, keyspace: string): Promise<void> {
  if (prepared.has(c)) return;
  await new Promise<void>((resolve, reject) =>
    execFile('sysbench', [...sysbenchArgs(keyspace, c.gatePorts), 'prepare'], { encoding: 'utf8', timeout: 120_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`sysbench prepare: ${err.message}\n${stdout}\n${stderr}`)) : resolve(),
    ),
  );
  prepared.add(c);
}

/**
 * sysbench oltp_write_only through every gate with `threads` threads until stopped. A statement
 * that fails (a deadlock, a 40001) is counted and its transaction run again
 * (--mysql-ignore-errors=all); a sysbench that ends on its own (its gate died under it) is started
 * again after a moment, and counted.
 */
export function startSysbench(c: DistCluster, keyspace: string, threads: number): SysbenchLoad {
  const args = (ports: readonly number[]) => [...sysbenchArgs(keyspace, ports), `--threads=${threads}`, '--time=0', '--events=0', '--report-interval=1', '--mysql-ignore-errors=all', 'run'];
  let transactions = 0;
  let errors = 0;
  let restarts = 0;
  const exits: string[] = [];
  let stopping = false;
  let waiters: { count: number; resolve: () => void }[] = [];
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  const spawnOne = async () => {
    // The gates that accept connections now: a new sysbench, like a client that reconnects,
    // goes to the gate that answers (sysbench gives up when any of its ports refuses).
    const live = (await Promise.all(c.gatePorts.map(async (port) => ((await accepts(port)) ? port : null)))).filter((x): x is number => x !== null);
    if (stopping) return;
    const p = spawn('sysbench', args(live.length ? live : c.gatePorts), { stdio: ['ignore', 'pipe', 'pipe'] });
    child = p;
    let tail = '';
    let pending = '';
    p.stdout!.on('data', (d: Buffer) => {
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        tail = `${tail}\n${line}`.slice(-1_000);
        // [ 1s ] thds: 4 tps: 57.97 qps: 347.81 (r/w/o: …) lat (ms,95%): 99.33 err/s: 0.00 reconn/s: 0.00
        const m = /^\[ *\d+s \].*tps: ([\d.]+).*err\/s: ([\d.]+)/.exec(line);
        if (!m) continue;
        transactions += Number(m[1]);
        errors += Number(m[2]);
      }
      waiters = waiters.filter((w) => (transactions >= w.count ? (w.resolve(), false) : true));
    });
    p.stderr!.on('data', (d: Buffer) => (tail = `${tail}\n${d.toString()}`.slice(-1_000)));
    exited = new Promise<void>((resolve) =>
      p.on('exit', (code, signal) => {
        resolve();
        if (stopping) return;
        restarts++;
        if (exits.length < 5) exits.push(`${signal ?? `exit code ${code}`}: ${tail.trim().split('\n').filter((l) => !l.startsWith('[')).slice(-2).join(' / ').slice(0, 300)}`);
        setTimeout(() => {
          if (!stopping) void spawnOne();
        }, 300);
      }),
    );
  };
  void spawnOne();
  return {
    transactions: () => Math.round(transactions),
    waitForTransactions(n, timeoutMs) {
      const count = transactions + n;
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`sysbench ran fewer than ${n} transactions in ${timeoutMs} ms: ${exits.join(' | ')}`)), timeoutMs);
        waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
    async stop() {
      stopping = true;
      child?.kill('SIGTERM');
      await exited;
      return { transactions: Math.round(transactions), errors: Math.round(errors), restarts, exits };
    },
  };
}

/** Whether something accepts TCP connections on 127.0.0.1:`port` (within a second). */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1_000, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}
