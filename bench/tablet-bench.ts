// Point selects per second, in one run, three ways at 16 calls in flight:
//   MariaDB direct        our MySQL client, 16 connections straight to MariaDB
//   raw Node relay        the same client through a Node TCP relay in a child process (bytes piped)
//   tablet QueryService   TabletConn -> `tessera tablet` (a child process) -> MariaDB
// The relay is the floor for any Node process in the path; the goal is the tablet at >= 0.85x it.
//
// Run: npx tsc -p tsconfig.json && node dist/bench/tablet-bench.js [seconds=5] [inflight=16] [rounds=3]
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Client } from '../src/mysql/index.js';
import { TabletConn, type Target } from '../src/tablet/index.js';
import { intLiteral } from '../src/sql/index.js';
import { startChild } from '../test/harness/child.js';
import { freePort, testRoot } from '../test/harness/processes.js';
import { Mysqlctl } from '../src/mysqlctl/index.js';

const seconds = Number(process.argv[2] ?? 5);
const inflight = Number(process.argv[3] ?? 16);
const rounds = Number(process.argv[4] ?? 3);
const ROWS = 10_000;

type Call = (id: number) => Promise<unknown>;

async function measure(call: Call): Promise<{ qps: number; p95: number }> {
  const lat: number[] = [];
  const end = Date.now() + seconds * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      while (Date.now() < end) {
        const t0 = process.hrtime.bigint();
        await call(1 + Math.floor(Math.random() * ROWS));
        lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
        n++;
      }
    }),
  );
  lat.sort((a, b) => a - b);
  return { qps: n / seconds, p95: lat[Math.floor(lat.length * 0.95)] ?? 0 };
}

const root = testRoot();
const [mysqlPort, rpcPort, httpPort, relayPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
const tablet = startChild([
  'tablet', '--tablet-path', 'zone1-100', '--keyspace', 'bench', '--shard', '0', '--tablet-type', 'primary',
  '--topo-implementation', 'file', '--topo-global-server-address', path.join(root, 'topo'), '--data-root', root,
  '--mysql-port', String(mysqlPort), '--grpc-port', String(rpcPort), '--port', String(httpPort),
]);
await tablet.waitFor(/serving=true/);
const mysqlctl = new Mysqlctl({ tabletUid: 100, mysqlPort, dataRoot: root });
const relayScript = `const net=require('net');net.createServer({noDelay:true},c=>{const u=net.connect({host:'127.0.0.1',port:${mysqlPort},noDelay:true});c.pipe(u).pipe(c);c.on('error',()=>u.destroy());u.on('error',()=>c.destroy())}).listen(${relayPort},'127.0.0.1',()=>console.log('ready'))`;
const relay = spawn(process.execPath, ['-e', relayScript], { stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise<void>((resolve) => relay.stdout!.once('data', () => resolve()));

try {
  const admin = await Client.connect({ socketPath: mysqlctl.socket, user: 'vt_dba', database: 'vt_bench' });
  await admin.query('CREATE TABLE IF NOT EXISTS sbtest1 (id INT PRIMARY KEY, k INT NOT NULL, c CHAR(120) NOT NULL, pad CHAR(60) NOT NULL)');
  await admin.query(`INSERT IGNORE INTO sbtest1 SELECT seq, seq * 7 % ${ROWS}, REPEAT('c', 120), REPEAT('p', 60) FROM seq_1_to_${ROWS}`);
  admin.close();

  const pool = async (port: number) => Promise.all(Array.from({ length: inflight }, () => Client.connect({ host: '127.0.0.1', port, user: 'vt_app', database: 'vt_bench' })));
  const direct = await pool(mysqlPort);
  const relayed = await pool(relayPort);
  const conn = new TabletConn('127.0.0.1', rpcPort);
  const target: Target = { keyspace: 'bench', shard: '0', tabletType: 'primary' };
  const rr = (clients: Client[]) => {
    let i = 0;
    return (id: number) => clients[i++ % clients.length].query(`SELECT c FROM sbtest1 WHERE id = ${id}`);
  };
  const targets: [string, Call][] = [
    ['MariaDB direct', rr(direct)],
    ['raw Node relay', rr(relayed)],
    ['tablet QueryService', (id) => conn.execute(target, 'SELECT c FROM sbtest1 WHERE id = :id', { id: intLiteral(id) })],
    ['tablet (literal SQL)', (id) => conn.execute(target, `SELECT c FROM sbtest1 WHERE id = ${id}`, null)],
  ];
  const results = new Map<string, { qps: number; p95: number }[]>();
  for (let r = 0; r < rounds; r++) {
    for (const [name, call] of targets) {
      const m = await measure(call);
      results.set(name, [...(results.get(name) ?? []), m]);
      console.log(`round ${r + 1}  ${name.padEnd(22)} ${m.qps.toFixed(0).padStart(8)} calls/s   p95 ${m.p95.toFixed(2).padStart(6)} ms`);
    }
  }
  const median = (xs: { qps: number; p95: number }[]) => [...xs].sort((a, b) => a.qps - b.qps)[Math.floor(xs.length / 2)];
  const relayQps = median(results.get('raw Node relay')!).qps;
  console.log(`\nmedian of ${rounds} rounds, ${inflight} in flight, ${seconds}s each:`);
  for (const [name] of targets) {
    const m = median(results.get(name)!);
    console.log(`${name.padEnd(22)} ${m.qps.toFixed(0).padStart(8)} calls/s   p95 ${m.p95.toFixed(2).padStart(6)} ms   ${(m.qps / relayQps).toFixed(2)}x relay`);
  }
  for (const c of [...direct, ...relayed]) c.close();
  conn.close();
} finally {
  relay.kill();
  await tablet.kill('SIGTERM');
  await mysqlctl.teardown();
}
