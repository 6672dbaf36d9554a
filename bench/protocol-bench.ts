// sysbench oltp_point_select in one run against: MariaDB directly, a raw Node TCP relay (bytes
// piped both ways, the floor for any proxy written in Node), and our pass-through proxy (our
// server + our client, rows passed as MariaDB's bytes). Prints q/s, p95 and the ratios.
//
// Run: npx tsc -p tsconfig.json && node dist/bench/protocol-bench.js [seconds=10] [threads=16] [ps|noprep] [rounds=3] [baseline-dist]
//
// `baseline-dist` is the dist/ directory of another build (e.g. a copy made before a change):
// its proxy runs as a fourth target in the same interleaved rounds, so before/after figures share
// the machine's load.
import net from 'node:net';
import { execFile } from 'node:child_process';
import { startMariaDB } from '../test/harness/mariadb.js';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client, PassThroughHandler, Server } from '../src/mysql/index.js';

const seconds = Number(process.argv[2] ?? 10);
const threads = Number(process.argv[3] ?? 16);
const psMode = process.argv[4] === 'noprep' ? ['--db-ps-mode=disable'] : [];
const rounds = Number(process.argv[5] ?? 3);
const baselineDist = process.argv[6];

function sysbench(port: number, cmd: 'prepare' | 'run'): Promise<string> {
  const args = ['oltp_point_select', '--db-driver=mysql', '--mysql-host=127.0.0.1', `--mysql-port=${port}`, '--mysql-user=vt_dba', '--mysql-password=',
    '--mysql-db=sbtest', '--tables=1', '--table-size=10000', ...psMode];
  if (cmd === 'run') args.push(`--threads=${threads}`, `--time=${seconds}`, '--percentile=95', '--report-interval=0');
  args.push(cmd);
  return new Promise((resolve, reject) =>
    execFile('sysbench', args, { encoding: 'utf8', maxBuffer: 16 << 20 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stdout}\n${stderr}`)) : resolve(stdout))),
  );
}

interface Run {
  qps: number;
  p95: number;
  /** CPU of this Node process per query (the relay's or the proxy's; ~0 for MariaDB direct). */
  cpuUsPerQuery: number;
}

function parse(out: string, cpu: NodeJS.CpuUsage): Run {
  const queries = Number(/queries:\s+(\d+)/.exec(out)?.[1]);
  const qps = Number(/queries:\s+\d+\s+\(([\d.]+) per sec/.exec(out)?.[1]);
  const p95 = Number(/95th percentile:\s+([\d.]+)/.exec(out)?.[1]);
  return { qps, p95, cpuUsPerQuery: (cpu.user + cpu.system) / queries };
}

const db = await startMariaDB({ innodbBufferPoolSize: '128M' });
try {
  const admin = await Client.connect({ socketPath: db.socket, user: 'vt_dba' });
  await admin.query('CREATE DATABASE sbtest');
  admin.close();
  await sysbench(db.port, 'prepare');

  const relay = net.createServer({ noDelay: true }, (client) => {
    const up = net.connect({ host: '127.0.0.1', port: db.port, noDelay: true });
    client.pipe(up).pipe(client);
    client.on('error', () => up.destroy());
    up.on('error', () => client.destroy());
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', () => r()));
  const relayPort = (relay.address() as net.AddressInfo).port;

  const proxy = new Server(new PassThroughHandler({ upstream: { host: '127.0.0.1', port: db.port }, users: { vt_dba: '' } }), { port: 0, tls: false });
  const proxyPort = await proxy.listen();

  let baseline: { close(drainTimeoutMs: number): Promise<void> } | null = null;
  let baselinePort = 0;
  if (baselineDist) {
    const mod: typeof import('../src/mysql/index.js') = await import(pathToFileURL(path.resolve(baselineDist, 'src/mysql/index.js')).href);
    const b = new mod.Server(new mod.PassThroughHandler({ upstream: { host: '127.0.0.1', port: db.port }, users: { vt_dba: '' } }), { port: 0, tls: false });
    baselinePort = await b.listen();
    baseline = b;
  }

  // Rounds interleave the targets so background load on a shared machine hits each alike; the
  // median round of each target is reported.
  const targets: [string, number][] = [['MariaDB direct', db.port], ['raw Node relay', relayPort], ['tessera proxy', proxyPort]];
  if (baseline) targets.push(['baseline proxy', baselinePort]);
  const runs = new Map<string, Run[]>();
  for (let round = 0; round < rounds; round++) {
    // Every other round runs the targets in reverse order, so none always follows the same one.
    for (const [name, port] of round % 2 === 0 ? targets : [...targets].reverse()) {
      const cpu = process.cpuUsage();
      const out = await sysbench(port, 'run');
      const r = parse(out, process.cpuUsage(cpu));
      runs.set(name, [...(runs.get(name) ?? []), r]);
      console.log(`round ${round + 1}  ${name.padEnd(16)} ${r.qps.toFixed(0).padStart(8)} q/s   p95 ${r.p95.toFixed(2).padStart(6)} ms   node CPU ${r.cpuUsPerQuery.toFixed(1).padStart(5)} µs/q`);
    }
  }
  const median = (name: string) => {
    const rs = [...runs.get(name)!].sort((x, y) => x.qps - y.qps);
    return rs[Math.floor(rs.length / 2)];
  };
  console.log('median of rounds:');
  for (const [name] of targets) {
    const r = median(name);
    const cpus = runs.get(name)!.map((x) => x.cpuUsPerQuery).sort((x, y) => x - y);
    console.log(`  ${name.padEnd(16)} ${r.qps.toFixed(0).padStart(8)} q/s   p95 ${r.p95.toFixed(2).padStart(6)} ms   node CPU median ${cpus[Math.floor(cpus.length / 2)].toFixed(1).padStart(5)} µs/q`);
  }
  const [d, relayR, p] = targets.map(([name]) => median(name));
  console.log(`proxy / relay  ${(p.qps / relayR.qps).toFixed(2)}x q/s, p95 ${(p.p95 / relayR.p95).toFixed(2)}x (goal >= 0.85x q/s)`);
  // The ratio within each round (neighbouring runs share the load) is the steadier figure.
  const perRound = (name: string) => {
    const rs = runs.get(name)!.map((r, i) => r.qps / runs.get('raw Node relay')![i].qps).sort((x, y) => x - y);
    return `median ${rs[Math.floor(rs.length / 2)].toFixed(2)}x (rounds ${rs.map((x) => x.toFixed(2)).join(' ')})`;
  };
  console.log(`proxy / relay per round: ${perRound('tessera proxy')}`);
  if (baseline) console.log(`baseline / relay per round: ${perRound('baseline proxy')}`);
  if (baseline) {
    const b = median('baseline proxy');
    console.log(`baseline / relay ${(b.qps / relayR.qps).toFixed(2)}x q/s;  proxy / baseline ${(p.qps / b.qps).toFixed(2)}x q/s  (baseline: ${baselineDist})`);
  }
  console.log(`proxy / direct ${(p.qps / d.qps).toFixed(2)}x q/s;  relay / direct ${(relayR.qps / d.qps).toFixed(2)}x q/s`);
  console.log(`sysbench oltp_point_select, ${threads} threads, ${seconds}s x ${rounds} rounds each, ${psMode.length ? 'text protocol' : 'server-side prepared statements'}`);
  relay.close();
  await proxy.close(2000);
  await baseline?.close(2000);
} finally {
  await db.stop();
}
