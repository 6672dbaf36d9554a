// The RPC layer's own CPU per qs.execute, away from MariaDB, sysbench and the gate: a TabletConn
// (the gate's side) calling the tablet's RPC server (tabletRpcServer) over loopback in this one
// process, `inflight` calls at a time, with a QueryService that answers every statement at once
// with one point-select row. What it prints is the process's CPU per call (user + system, both
// sides of the wire), which a busy machine moves far less than the sysbench benchmarks: use it to
// compare two builds of src/rpc and the codecs (run each build alternately; see docs/hot-path.md).
//
// With `apart`, each call is made, and each answer given, in an event-loop callback of its own
// (setImmediate), as on a gate serving many clients and a tablet answering from many MariaDB
// connections; without it the calls and answers of one tick go together.
//
// Run: npx tsc -p tsconfig.json && node dist/bench/rpc-execute-bench.js [seconds=3] [inflight=16] [rounds=3] [apart]
import { columnDefinition, TYPE } from '../src/mysql/index.js';
import { TabletConn, type ExecuteResult, type Target } from '../src/tablet/index.js';
import { tabletRpcServer } from '../src/tablet/rpc-service.js';
import type { TabletServer } from '../src/tablet/tablet-server.js';
import type { TabletManager } from '../src/tablet/tablet-manager.js';

const seconds = Number(process.argv[2] ?? 3);
const inflight = Number(process.argv[3] ?? 16);
const rounds = Number(process.argv[4] ?? 3);
const apart = process.argv[5] === 'apart';
const nextCallback = (): Promise<void> => new Promise((r) => setImmediate(r));

// One row of sysbench's point select (`SELECT c FROM sbtest1 WHERE id=?`): a 120-character c.
const fields = [columnDefinition({ name: 'c', type: TYPE.VAR_STRING, columnLength: 480, table: 'sbtest1', orgTable: 'sbtest1', orgName: 'c', schema: 'vt_sbtest' })];
const row = Buffer.concat([Buffer.from([120]), Buffer.alloc(120, 0x37)]);
const result: ExecuteResult = { fields, rows: [row], rowsAffected: 0, insertId: 0, warnings: 0, info: '', transactionId: 0, tabletAlias: 'zone1-0000000100' };

// The tablet's QueryService reduced to an immediate answer: what is measured is the RPC around it.
// Like the tablet's statement timer (QueryTimer), it listens to the caller's signal, moving its one
// listener when the signal changes (with an AbortSignal per call, on every call).
type Sig = { addEventListener(t: 'abort', l: { handleEvent(): void }): void; removeEventListener(t: 'abort', l: { handleEvent(): void }): void };
const timer = { handleEvent: () => undefined };
let listening: Sig | null = null;
const qs = {
  execute: async (_t: Target, _sql: string, _b: unknown, opts: { signal?: Sig }) => {
    const s = opts.signal;
    if (s !== undefined && s !== listening) {
      listening?.removeEventListener('abort', timer);
      listening = s;
      s.addEventListener('abort', timer);
    }
    if (apart) await nextCallback();
    return result;
  },
} as unknown as TabletServer;
const server = tabletRpcServer(qs, {} as TabletManager);
const port = await server.listen(0);
const conn = new TabletConn('127.0.0.1', port);
const target: Target = { keyspace: 'sbtest', shard: '0', tabletType: 'primary' };
const signal = new AbortController().signal; // a gate session's: the same for all its statements
const tables = ['sbtest1'];

async function round(): Promise<{ calls: number; cpuUs: number }> {
  let calls = 0;
  const end = Date.now() + seconds * 1000;
  const cpu0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      while (Date.now() < end) {
        const id = 1 + Math.floor(Math.random() * 10_000);
        await conn.execute(target, `select c from sbtest1 where id = ${id}`, null, { timeoutMs: 30_000, tables, signal });
        calls++;
        if (apart) await nextCallback();
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  return { calls, cpuUs: cpu.user + cpu.system };
}

await round(); // warm-up
const per: number[] = [];
for (let i = 0; i < rounds; i++) {
  const r = await round();
  per.push(r.cpuUs / r.calls);
  console.log(`round ${i + 1}: ${Math.round(r.calls / seconds)} calls/s, CPU ${(r.cpuUs / r.calls).toFixed(1)} µs/call`);
}
per.sort((a, b) => a - b);
console.log(`median CPU per qs.execute (gate side + tablet side, loopback${apart ? ', calls and answers apart' : ''}): ${per[Math.floor(per.length / 2)].toFixed(1)} µs`);
conn.close();
await server.close();
