// What --enable-partial-keyspace-migration costs: sysbench oltp_point_select through two gates on
// the same cluster in one run — one without the flag, one with it while a shard routing rule is in
// place (sbtest/80- served by sbtest2, as in the middle of a partial MoveTables). Keyspaces sbtest
// and sbtest2 have shards -80 and 80-, each shard holding the whole sysbench table, so every point
// select finds its row wherever it is routed. Both gates reach the tablets over RPC. Prints q/s and
// p95 per round, the medians and the ratio (goal: at least 0.97x).
//
// Run: npx tsc -p tsconfig.json && node dist/bench/shard-routing-bench.js [seconds=10] [threads=16] [rounds=3]
import { execFile } from 'node:child_process';
import { createGate, type Gate } from '../src/gate/index.js';
import { TabletConn } from '../src/tablet/index.js';
import { startCluster } from '../test/harness/cluster.js';

const seconds = Number(process.argv[2] ?? 10);
const threads = Number(process.argv[3] ?? 16);
const rounds = Number(process.argv[4] ?? 3);

function sysbench(port: number, db: string, user: string, cmd: 'prepare' | 'run'): Promise<string> {
  const args = ['oltp_point_select', '--db-driver=mysql', '--mysql-host=127.0.0.1', `--mysql-port=${port}`, `--mysql-user=${user}`, '--mysql-password=',
    `--mysql-db=${db}`, '--tables=1', '--table-size=10000', '--db-ps-mode=disable'];
  if (cmd === 'run') args.push(`--threads=${threads}`, `--time=${seconds}`, '--percentile=95', '--report-interval=0');
  args.push(cmd);
  return new Promise((resolve, reject) =>
    execFile('sysbench', args, { encoding: 'utf8', maxBuffer: 16 << 20 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stdout}\n${stderr}`)) : resolve(stdout))),
  );
}

function parse(out: string): { qps: number; p95: number } {
  return { qps: Number(/queries:\s+\d+\s+\(([\d.]+) per sec/.exec(out)?.[1]), p95: Number(/95th percentile:\s+([\d.]+)/.exec(out)?.[1]) };
}

const VSCHEMA = { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { sbtest1: { column_vindexes: [{ column: 'id', name: 'hash' }] } } };
const cluster = await startCluster({
  keyspaces: [
    { name: 'sbtest', shards: ['-80', '80-'], vschema: VSCHEMA },
    { name: 'sbtest2', shards: ['-80', '80-'], vschema: VSCHEMA },
  ],
  gate: false,
});
const conns: TabletConn[] = [];
const gates: Gate[] = [];
try {
  for (const ks of ['sbtest', 'sbtest2']) {
    for (const shard of ['-80', '80-']) {
      const addr = await cluster.mysqlAddress(cluster.shard(ks, shard).primary);
      await sysbench(addr.port, `vt_${ks}`, 'vt_dba', 'prepare');
    }
  }
  await cluster.topo.saveShardRoutingRules({ rules: [{ from_keyspace: 'sbtest', to_keyspace: 'sbtest2', shard: '80-' }] });
  await cluster.topo.rebuildVSchemaGraph();
  const gate = async (enableShardRouting: boolean): Promise<Gate> => {
    const g = await createGate({
      topo: cluster.topo, cell: cluster.cell, mysql: { port: 0, tls: false }, http: null, tabletTypesToWait: ['primary'], enableShardRouting,
      tabletConn: (t) => {
        const c = new TabletConn(t.hostname, t.port_map.grpc ?? 0);
        conns.push(c);
        return c;
      },
    });
    gates.push(g);
    return g;
  };
  const targets = [
    ['flag off', (await gate(false)).mysqlPort],
    ['flag on, 80- routed', (await gate(true)).mysqlPort],
  ] as const;
  const runs = new Map<string, { qps: number; p95: number }[]>();
  for (let round = 0; round < rounds; round++) {
    // Rounds interleave the gates so background load on a shared machine hits each alike.
    for (const [name, port] of targets) {
      const r = parse(await sysbench(port, 'sbtest', 'vt_app', 'run'));
      runs.set(name, [...(runs.get(name) ?? []), r]);
      console.log(`round ${round + 1}  ${name.padEnd(20)} ${r.qps.toFixed(0).padStart(8)} q/s   p95 ${r.p95.toFixed(2).padStart(6)} ms`);
    }
  }
  const median = (name: string) => [...runs.get(name)!].sort((x, y) => x.qps - y.qps)[Math.floor(rounds / 2)];
  const [off, on] = targets.map(([name]) => median(name));
  console.log('median of rounds:');
  for (const [name] of targets) console.log(`  ${name.padEnd(20)} ${median(name).qps.toFixed(0).padStart(8)} q/s   p95 ${median(name).p95.toFixed(2).padStart(6)} ms`);
  console.log(`flag on with rules / flag off  ${(on.qps / off.qps).toFixed(3)}x q/s (goal >= 0.97x), p95 ${(on.p95 / off.p95).toFixed(2)}x`);
  console.log(`sysbench oltp_point_select, ${threads} threads, ${seconds}s x ${rounds} rounds each, text protocol`);
} finally {
  for (const g of gates) await g.close();
  for (const c of conns) c.close();
  await cluster.stop();
}
