// sysbench oltp_point_select in one run against: MariaDB directly, a raw Node TCP relay (bytes
// piped both ways: the floor for any proxy written in Node), the gate in combined mode (tablet
// in-process) and the gate in distributed mode (tablet over RPC). One unsharded keyspace on one
// tablet, so every target reads the same MariaDB. Prints q/s, p95 and the ratios.
//
// Run: npx tsc -p tsconfig.json && node dist/bench/gate-bench.js [seconds=10] [threads=16] [ps|noprep] [rounds=3]
import net from 'node:net';
import { execFile } from 'node:child_process';
import { createGate } from '../src/gate/index.js';
import { TabletConn } from '../src/tablet/index.js';
import { startCluster } from '../test/harness/cluster.js';

const seconds = Number(process.argv[2] ?? 10);
const threads = Number(process.argv[3] ?? 16);
const psMode = process.argv[4] === 'noprep' ? ['--db-ps-mode=disable'] : [];
const rounds = Number(process.argv[5] ?? 3);

function sysbench(port: number, db: string, user: string, cmd: 'prepare' | 'run'): Promise<string> {
  const args = ['oltp_point_select', '--db-driver=mysql', '--mysql-host=127.0.0.1', `--mysql-port=${port}`, `--mysql-user=${user}`, '--mysql-password=',
    `--mysql-db=${db}`, '--tables=1', '--table-size=10000', ...psMode];
  if (cmd === 'run') args.push(`--threads=${threads}`, `--time=${seconds}`, '--percentile=95', '--report-interval=0');
  args.push(cmd);
  return new Promise((resolve, reject) =>
    execFile('sysbench', args, { encoding: 'utf8', maxBuffer: 16 << 20 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stdout}\n${stderr}`)) : resolve(stdout))),
  );
}

function parse(out: string): { qps: number; p95: number } {
  return { qps: Number(/queries:\s+\d+\s+\(([\d.]+) per sec/.exec(out)?.[1]), p95: Number(/95th percentile:\s+([\d.]+)/.exec(out)?.[1]) };
}

const cluster = await startCluster({ keyspaces: [{ name: 'sbtest', shards: ['0'], vschema: { tables: {} } }], gate: { http: null } });
const conns: TabletConn[] = [];
try {
  const shard = cluster.shard('sbtest', '0');
  const addr = await cluster.mysqlAddress(shard.primary);
  await sysbench(addr.port, 'vt_sbtest', 'vt_dba', 'prepare');

  const relay = net.createServer({ noDelay: true }, (client) => {
    const up = net.connect({ host: addr.host, port: addr.port, noDelay: true });
    client.pipe(up).pipe(client);
    client.on('error', () => up.destroy());
    up.on('error', () => client.destroy());
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', () => r()));
  const relayPort = (relay.address() as net.AddressInfo).port;

  const distributed = await createGate({
    topo: cluster.topo, cell: cluster.cell, mysql: { port: 0, tls: false }, http: null, tabletTypesToWait: ['primary'],
    tabletConn: (t) => {
      const c = new TabletConn(t.hostname, t.port_map.grpc ?? 0);
      conns.push(c);
      return c;
    },
  });

  const targets = [
    ['MariaDB direct', addr.port, 'vt_sbtest', 'vt_dba'],
    ['raw Node relay', relayPort, 'vt_sbtest', 'vt_dba'],
    ['gate combined', cluster.gate!.mysqlPort, 'sbtest', 'vt_app'],
    ['gate distributed', distributed.mysqlPort, 'sbtest', 'vt_app'],
  ] as const;
  const runs = new Map<string, { qps: number; p95: number }[]>();
  for (let round = 0; round < rounds; round++) {
    // Rounds interleave the targets so background load on a shared machine hits each alike.
    for (const [name, port, db, user] of targets) {
      const r = parse(await sysbench(port, db, user, 'run'));
      runs.set(name, [...(runs.get(name) ?? []), r]);
      console.log(`round ${round + 1}  ${name.padEnd(17)} ${r.qps.toFixed(0).padStart(8)} q/s   p95 ${r.p95.toFixed(2).padStart(6)} ms`);
    }
  }
  const median = (name: string): { qps: number; p95: number } => {
    const rs = [...runs.get(name)!].sort((x, y) => x.qps - y.qps);
    return rs[Math.floor(rs.length / 2)];
  };
  console.log('median of rounds:');
  for (const [name] of targets) {
    const r = median(name);
    console.log(`  ${name.padEnd(17)} ${r.qps.toFixed(0).padStart(8)} q/s   p95 ${r.p95.toFixed(2).padStart(6)} ms`);
  }
  const [d, rl, gc, gd] = targets.map(([name]) => median(name));
  console.log(`gate combined / relay     ${(gc.qps / rl.qps).toFixed(2)}x q/s, p95 ${(gc.p95 / rl.p95).toFixed(2)}x (goal >= 0.6x q/s)`);
  console.log(`gate distributed / relay  ${(gd.qps / rl.qps).toFixed(2)}x q/s, p95 ${(gd.p95 / rl.p95).toFixed(2)}x`);
  console.log(`relay / direct            ${(rl.qps / d.qps).toFixed(2)}x q/s`);
  console.log(`sysbench oltp_point_select, ${threads} threads, ${seconds}s x ${rounds} rounds each, ${psMode.length ? 'text protocol' : 'server-side prepared statements'}`);
  relay.close();
  await distributed.close();
} finally {
  for (const c of conns) c.close();
  await cluster.stop();
}
