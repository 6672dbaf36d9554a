// A scatter read through the gate against the same read from one MariaDB, in one run: a table of
// 100,000 rows spread over 4 shards, and the same rows in one unsharded keyspace's MariaDB. The
// client is the mariadb CLI in its own process (--quick: rows as they arrive, nothing held), so
// the gate does not share its event loop with the client. Targets, in interleaved rounds:
//
//   MariaDB direct             the one MariaDB holding all rows
//   gate OLAP combined         SET workload = 'olap', tablets in-process: streamed
//   gate OLAP distributed      SET workload = 'olap', tablets over RPC: streamed
//   gate OLTP combined         the default: each shard's result built whole, then merged
//
// Prints rows/s per target (median of the rounds) and the ratio to MariaDB.
//
// Run: npx tsc -p tsconfig.json && node dist/bench/stream-bench.js [rows=100000] [rounds=5]
import { exec } from 'node:child_process';
import { createGate } from '../src/gate/index.js';
import { TabletConn } from '../src/tablet/index.js';
import { startCluster } from '../test/harness/cluster.js';
import { fmt, log, sh } from './bench-util.js';

const rows = Number(process.argv[2] ?? 100_000);
const rounds = Number(process.argv[3] ?? 5);
const SHARDS = ['-40', '40-80', '80-c0', 'c0-'];
const SCHEMA = 'create table t(id bigint not null primary key, k int not null, payload varchar(120) not null)';
// reverse_bits: an id's two lowest bits pick its shard, so each shard's MariaDB generates its own rows.
const VSCHEMA = { sharded: true, vindexes: { rb: { type: 'reverse_bits' } }, tables: { t: { column_vindexes: [{ column: 'id', name: 'rb' }] } } };
const SELECT = 'select id, k, payload from t';

const cluster = await startCluster({
  keyspaces: [
    { name: 'olap', shards: SHARDS, schema: SCHEMA, vschema: VSCHEMA },
    { name: 'single', shards: ['0'], schema: SCHEMA, vschema: { tables: {} } },
  ],
  gate: { http: null },
});
const conns: TabletConn[] = [];
try {
  const gen = (n: number, id: string) => `insert into t(id, k, payload) select ${id}, seq % 1000, concat('row-', seq, '-', repeat(char(97 + seq % 26), 60)) from seq_0_to_${n - 1}`;
  await Promise.all([
    ...SHARDS.map((shard, i) => cluster.shardRows('olap', shard, gen(rows / 4, `4 * seq + ${((i & 1) << 1) | (i >> 1)}`))),
    cluster.shardRows('single', '0', gen(rows, 'seq')),
  ]);
  // The OLTP target builds each shard's result whole: let it hold this many rows.
  for (const s of cluster.shards) s.primary.server.limits.rowsMax = rows;

  const distributed = await createGate({
    topo: cluster.topo, cell: cluster.cell, mysql: { port: 0, tls: false }, http: null, tabletTypesToWait: ['primary'],
    tabletConn: (t) => {
      const c = new TabletConn(t.hostname, t.port_map.grpc ?? 0);
      conns.push(c);
      return c;
    },
  });
  const direct = await cluster.mysqlAddress(cluster.shard('single', '0').primary);
  const cli = (port: number, user: string, db: string, sql: string) =>
    `mariadb --protocol=tcp -h 127.0.0.1 -P ${port} -u ${user} --skip-ssl --quick --batch --skip-column-names -D ${db} -e "${sql}" | wc -l`;
  const targets: [string, string][] = [
    ['MariaDB direct', cli(direct.port, 'vt_dba', 'vt_single', SELECT)],
    ['gate OLAP combined', cli(cluster.gate!.mysqlPort, 'vt_app', 'olap', `set workload = 'olap'; ${SELECT}`)],
    ['gate OLAP distributed', cli(distributed.mysqlPort, 'vt_app', 'olap', `set workload = 'olap'; ${SELECT}`)],
    ['gate OLTP combined', cli(cluster.gate!.mysqlPort, 'vt_app', 'olap', SELECT)],
  ];
  // Every target returns every row (checked once, outside the timed runs).
  for (const [name, cmd] of targets) {
    const out = await new Promise<string>((resolve, reject) => exec(cmd, (err, stdout) => (err ? reject(err) : resolve(stdout))));
    if (Number(out.trim()) !== rows) throw new Error(`${name} returned ${out.trim()} rows, not ${rows}`);
  }
  const runs = new Map<string, number[]>();
  for (let round = 0; round < rounds; round++) {
    // Interleaved, so background load on a shared machine hits every target alike.
    for (const [name, cmd] of targets) {
      const t0 = process.hrtime.bigint();
      await sh(cmd);
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      runs.set(name, [...(runs.get(name) ?? []), rows / secs]);
      log(`round ${round + 1}  ${name.padEnd(22)} ${fmt(rows / secs).padStart(10)} rows/s`);
    }
  }
  const median = (name: string): number => {
    const r = [...runs.get(name)!].sort((a, b) => a - b);
    return r[Math.floor(r.length / 2)];
  };
  const base = median('MariaDB direct');
  log(`${SELECT}: ${fmt(rows)} rows, ${SHARDS.length} shards against one MariaDB holding all rows; median of ${rounds} rounds (client: mariadb --quick)`);
  for (const [name] of targets) log(`  ${name.padEnd(22)} ${fmt(median(name)).padStart(10)} rows/s   ${(median(name) / base).toFixed(2)}x MariaDB`);
  await distributed.close();
} finally {
  for (const c of conns) c.close();
  await cluster.stop();
}
