// What failover buffering costs when nothing fails over: sysbench oltp_point_select through two
// gates in this process on the same tablet (in-process, combined mode), one with --enable-buffer
// and one without, rounds interleaved so background load on a shared machine hits both alike.
// Prints q/s and p95 of each and the ratio (goal: buffering on >= 0.98x of off).
//
// Run: npx tsc -p tsconfig.json && node dist/bench/buffer-bench.js [seconds=10] [threads=16] [rounds=3]
import { execFile } from 'node:child_process';
import { createGate } from '../src/gate/index.js';
import type { QueryService } from '../src/tablet/index.js';
import { startCluster } from '../test/harness/cluster.js';

const seconds = Number(process.argv[2] ?? 10);
const threads = Number(process.argv[3] ?? 16);
const rounds = Number(process.argv[4] ?? 3);

function sysbench(port: number, db: string, user: string, cmd: 'prepare' | 'run'): Promise<string> {
  const args = ['oltp_point_select', '--db-driver=mysql', '--mysql-host=127.0.0.1', `--mysql-port=${port}`, `--mysql-user=${user}`, '--mysql-password=',
    `--mysql-db=${db}`, '--tables=1', '--table-size=10000'];
  if (cmd === 'run') args.push(`--threads=${threads}`, `--time=${seconds}`, '--percentile=95', '--report-interval=0');
  args.push(cmd);
  return new Promise((resolve, reject) =>
    execFile('sysbench', args, { encoding: 'utf8', maxBuffer: 16 << 20 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stdout}\n${stderr}`)) : resolve(stdout))),
  );
}

function parse(out: string): { qps: number; p95: number } {
  return { qps: Number(/queries:\s+\d+\s+\(([\d.]+) per sec/.exec(out)?.[1]), p95: Number(/95th percentile:\s+([\d.]+)/.exec(out)?.[1]) };
}

const cluster = await startCluster({ keyspaces: [{ name: 'sbtest', shards: ['0'], vschema: { tables: {} } }], gate: false });
try {
  const shard = cluster.shard('sbtest', '0');
  const addr = await cluster.mysqlAddress(shard.primary);
  await sysbench(addr.port, 'vt_sbtest', 'vt_dba', 'prepare');
  const gateWith = (enabled: boolean) => createGate({
    topo: cluster.topo, cell: cluster.cell, mysql: { port: 0, tls: false }, http: null, tabletTypesToWait: ['primary'],
    tabletConn: () => shard.primary.server as QueryService,
    buffer: { enabled },
  });
  const on = await gateWith(true);
  const off = await gateWith(false);
  const targets = [['buffering on', on.mysqlPort], ['buffering off', off.mysqlPort]] as const;
  const runs = new Map<string, { qps: number; p95: number }[]>();
  for (let round = 0; round < rounds; round++) {
    // Alternate which goes first, so neither always runs on a warmer machine.
    for (const [name, port] of round % 2 ? [...targets].reverse() : targets) {
      const r = parse(await sysbench(port, 'sbtest', 'vt_app', 'run'));
      runs.set(name, [...(runs.get(name) ?? []), r]);
      console.log(`round ${round + 1}  ${name.padEnd(14)} ${r.qps.toFixed(0).padStart(8)} q/s   p95 ${r.p95.toFixed(2).padStart(6)} ms`);
    }
  }
  const median = (name: string): { qps: number; p95: number } => {
    const rs = [...runs.get(name)!].sort((x, y) => x.qps - y.qps);
    return rs[Math.floor(rs.length / 2)];
  };
  const [a, b] = targets.map(([name]) => median(name));
  console.log('median of rounds:');
  for (const [name] of targets) console.log(`  ${name.padEnd(14)} ${median(name).qps.toFixed(0).padStart(8)} q/s   p95 ${median(name).p95.toFixed(2).padStart(6)} ms`);
  console.log(`buffering on / off   ${(a.qps / b.qps).toFixed(3)}x q/s, p95 ${(a.p95 / b.p95).toFixed(2)}x (goal >= 0.98x q/s)`);
  console.log(`sysbench oltp_point_select, ${threads} threads, ${seconds}s x ${rounds} rounds each, server-side prepared statements, gate combined mode`);
  await on.close();
  await off.close();
} finally {
  await cluster.stop();
}
