// The gate's own JavaScript per prepared point select, without sockets: the executor's execute
// (Executor.execute, what the MySQL server calls for COM_STMT_EXECUTE) driven in a loop with a
// result writer that only counts, against a tablet whose execute answers at once with a result
// MariaDB gave it once (every other call goes to the real tablet: health, begin, ...). What it
// measures is the path from the executor to the tablet's query service and back: plan binding,
// failover buffer guard, route, session, shard call, result handling, metrics; not the MySQL
// protocol, the tablet's pool or MariaDB. CPU per execute (process.cpuUsage over a round) in a
// loop with no I/O moves little with the machine's load; compare two builds with it alternately.
//
// Run: npx tsc -p tsconfig.json && node dist/bench/executor-bench.js [seconds=3] [concurrency=16] [rounds=5]
import { createGate } from '../src/gate/index.js';
import type { ColumnDefinition, ResultWriter, ServerStatement, Session } from '../src/mysql/index.js';
import { TYPE } from '../src/mysql/constants.js';
import type { ExecuteResult, QueryService } from '../src/tablet/index.js';
import { startCluster } from '../test/harness/cluster.js';

const seconds = Number(process.argv[2] ?? 3);
const concurrency = Number(process.argv[3] ?? 16);
const rounds = Number(process.argv[4] ?? 5);

class CountingWriter implements ResultWriter {
  readonly binary = true;
  readonly needsDrain = false;
  rows = 0;
  ends = 0;
  fields(_c: ColumnDefinition[]): void {}
  rawFields(_p: Buffer[]): void {}
  row(): void {
    this.rows++;
  }
  rawRow(): void {
    this.rows++;
  }
  textRow(): void {
    this.rows++;
  }
  end(): void {
    this.ends++;
  }
  drain(): Promise<void> {
    return Promise.resolve();
  }
}

const cluster = await startCluster({ keyspaces: [{ name: 'sbtest', shards: ['0'], vschema: { tables: {} } }], gate: false });
try {
  const shard = cluster.shard('sbtest', '0');
  const tablet = shard.primary.server as QueryService;
  await tablet.execute({ keyspace: 'sbtest', shard: '0', tabletType: 'primary' }, 'CREATE TABLE IF NOT EXISTS sbtest1 (id INT PRIMARY KEY, k INT NOT NULL, c CHAR(120) NOT NULL, pad CHAR(60) NOT NULL)', null);
  await tablet.execute({ keyspace: 'sbtest', shard: '0', tabletType: 'primary' }, "INSERT IGNORE INTO sbtest1 VALUES (1, 1, 'c1', 'p1')", null);
  const canned = await tablet.execute({ keyspace: 'sbtest', shard: '0', tabletType: 'primary' }, 'SELECT c FROM sbtest1 WHERE id = 1', null);
  let executes = 0;
  // The tablet as the gate sees it: execute answers at once with MariaDB's result (a copy per
  // call, as a tablet makes one); everything else is the real tablet's.
  const stub = new Proxy(tablet, {
    get(target, prop, receiver) {
      if (prop === 'execute') {
        return (_t: unknown, sql: string): Promise<ExecuteResult> => {
          executes++;
          if (!/^select c from sbtest1 where id = /i.test(sql)) return Promise.reject(new Error(`unexpected statement ${sql}`));
          return Promise.resolve({ ...canned, rows: [canned.rows[0]] });
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  const gate = await createGate({
    topo: cluster.topo, cell: cluster.cell, mysql: { port: 0, tls: false }, http: null, tabletTypesToWait: ['primary'],
    tabletConn: () => stub,
  });
  const ex = gate.executor;
  const sessions: { session: Session; stmt: ServerStatement }[] = [];
  for (let i = 0; i < concurrency; i++) {
    const session = { id: 1000 + i, user: 'vt_app', database: 'sbtest', capabilities: 0, charset: 45, statusFlags: 2, remoteAddress: '127.0.0.1' } as unknown as Session;
    await ex.initDb(session, 'sbtest');
    await ex.connected(session);
    const sql = 'SELECT c FROM sbtest1 WHERE id=?';
    const p = await ex.prepare(session, sql);
    sessions.push({ session, stmt: { id: 1, sql, paramCount: p.paramCount, columns: p.columns ?? [], state: p.state } as ServerStatement });
  }
  const out = new CountingWriter();
  const runRound = async (ms: number): Promise<{ perSec: number; cpuUs: number }> => {
    let n = 0;
    const t0 = performance.now();
    const until = t0 + ms;
    const cpu0 = process.cpuUsage();
    // The tablet answers at once, so the loop never yields to timers: it reads the clock instead.
    await Promise.all(
      sessions.map(async ({ session, stmt }, i) => {
        let id = 1 + i;
        while ((n & 255) !== 0 || performance.now() < until) {
          await ex.execute(session, stmt, [{ type: TYPE.LONG, unsigned: false, value: id }], out);
          n++;
          id = (id % 10_000) + 1;
        }
      }),
    );
    const cpu = process.cpuUsage(cpu0);
    return { perSec: (n * 1000) / (performance.now() - t0), cpuUs: (cpu.user + cpu.system) / n };
  };
  await runRound(1000); // warm-up: JIT, plans bound
  const cpus: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const m = await runRound(seconds * 1000);
    cpus.push(m.cpuUs);
    console.log(`round ${r + 1}  ${m.perSec.toFixed(0).padStart(7)} executes/s   CPU ${m.cpuUs.toFixed(2).padStart(6)} µs/execute`);
  }
  if (out.ends === 0 || out.rows !== out.ends || executes < out.ends) throw new Error(`results: ${out.ends} ends, ${out.rows} rows, ${executes} tablet executes`);
  const sorted = [...cpus].sort((a, b) => a - b);
  console.log(`median CPU per execute: ${sorted[Math.floor(sorted.length / 2)].toFixed(2)} µs   (rounds: ${cpus.map((c) => c.toFixed(2)).join(' / ')})`);
  console.log(`${concurrency} sessions executing at once, ${seconds} s rounds; the executor to a tablet answering at once, no sockets`);
  await gate.close();
} finally {
  await cluster.stop();
}
