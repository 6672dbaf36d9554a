// The gate's CPU per prepared point select in combined mode, measured in one process without
// sysbench: 16 of our own MySQL clients in this process run `SELECT c FROM sbtest1 WHERE id = ?`
// back to back, against MariaDB directly and through a gate whose tablet is in this process, in
// alternating rounds. Node CPU per query (process.cpuUsage over the round's queries) of the gate
// round less that of the direct round is what the gate and tablet add: the clients' own work is
// the same in both. With no other process of ours to schedule (sysbench) it moves less than
// gate-bench's figures when the machine is busy; compare two builds with it alternately.
// Beside it, MariaDB's own CPU per query (its process's user + system time in /proc over the round):
// what the statements the gate sends cost MariaDB against what the clients' own statements cost it.
//
// Run: npx tsc -p tsconfig.json && node dist/bench/gate-path-bench.js [seconds=5] [clients=16] [rounds=3]
// With GATE_PATH_PROFILE=<dir>, each gate round is CPU-profiled into <dir>/gate-combined-<round>
// .cpuprofile (and .json with its queries) for bench/profile-summary.ts.
// With GATE_PATH_ALLOC=<n>, one more round of each target runs under V8's sampling heap profiler:
// bytes allocated per query directly and through the gate, their difference (what the gate and
// tablet allocate per point select: it does not move with the machine's load, so it compares two
// builds run to run), and the gate's n largest allocation sites.
import { writeFileSync } from 'node:fs';
import { Session as InspectorSession } from 'node:inspector/promises';
import { allocationsInProcess, processCpuUs, profileInProcess } from './bench-util.js';
import { Client, type PreparedStatement } from '../src/mysql/client.js';
import { createGate } from '../src/gate/index.js';
import type { QueryService } from '../src/tablet/index.js';
import { startCluster } from '../test/harness/cluster.js';

const seconds = Number(process.argv[2] ?? 5);
const clients = Number(process.argv[3] ?? 16);
const rounds = Number(process.argv[4] ?? 3);
const ROWS = 10_000;
const profileDir = process.env.GATE_PATH_PROFILE ?? '';
const allocTop = process.env.GATE_PATH_ALLOC === undefined ? -1 : Number(process.env.GATE_PATH_ALLOC || 0);

let mariadbPid = 0;
const mariadbCpuUs = (): number => {
  const c = processCpuUs(mariadbPid);
  return c.user + c.system;
};

interface Round {
  readonly qps: number;
  readonly cpuUs: number;
  readonly userUs: number;
  /** MariaDB's CPU per query over the round. */
  readonly mariadbUs: number;
  readonly queries: number;
}

async function round(port: number, user: string, db: string): Promise<Round> {
  const conns: Client[] = [];
  const stmts: PreparedStatement[] = [];
  for (let i = 0; i < clients; i++) {
    const c = await Client.connect({ host: '127.0.0.1', port, user, password: '', database: db });
    conns.push(c);
    stmts.push(await c.prepare('SELECT c FROM sbtest1 WHERE id = ?'));
  }
  let queries = 0;
  let stop = false;
  const mariadb0 = mariadbCpuUs();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all([
    ...conns.map(async (c, i) => {
      let id = 1 + i;
      while (!stop) {
        const r = await c.execute(stmts[i], [id]);
        if (r.rows.length !== 1) throw new Error(`id ${id}: ${r.rows.length} rows`);
        queries++;
        id = (id * 7919 + 13) % ROWS + 1;
      }
    }),
    new Promise<void>((resolve) => setTimeout(() => ((stop = true), resolve()), seconds * 1000)),
  ]);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const mariadbUs = (mariadbCpuUs() - mariadb0) / queries;
  for (const c of conns) c.close();
  return { qps: (queries * 1000) / ms, cpuUs: (cpu.user + cpu.system) / queries, userUs: cpu.user / queries, mariadbUs, queries };
}

const cluster = await startCluster({ keyspaces: [{ name: 'sbtest', shards: ['0'], vschema: { tables: {} } }], gate: false });
try {
  const shard = cluster.shard('sbtest', '0');
  mariadbPid = shard.primary.mysqlctl?.runningPid() ?? 0;
  if (mariadbPid === 0) throw new Error('the tablet\'s MariaDB has no pid to read its CPU from');
  const addr = await cluster.mysqlAddress(shard.primary);
  const admin = await Client.connect({ host: addr.host, port: addr.port, user: 'vt_dba', password: '', database: 'vt_sbtest' });
  await admin.query('CREATE TABLE IF NOT EXISTS sbtest1 (id INT PRIMARY KEY, k INT NOT NULL, c CHAR(120) NOT NULL, pad CHAR(60) NOT NULL)');
  for (let i = 0; i < ROWS; i += 1000) {
    const values: string[] = [];
    for (let j = i + 1; j <= i + 1000; j++) values.push(`(${j}, ${j % 997}, '${String(j).padStart(11, '0').repeat(10)}', '${'p'.repeat(59)}')`);
    await admin.query(`INSERT IGNORE INTO sbtest1 VALUES ${values.join(',')}`);
  }
  admin.close();
  const gate = await createGate({
    topo: cluster.topo, cell: cluster.cell, mysql: { port: 0, tls: false }, http: null, tabletTypesToWait: ['primary'],
    tabletConn: () => shard.primary.server as QueryService,
  });
  const targets = [
    ['MariaDB direct', addr.port, 'vt_dba', 'vt_sbtest'],
    ['gate combined', gate.mysqlPort, 'vt_app', 'sbtest'],
  ] as const;
  const runs = new Map<string, Round[]>();
  await round(gate.mysqlPort, 'vt_app', 'sbtest'); // warm-up: JIT, plan cache, pools
  for (let r = 0; r < rounds; r++) {
    for (const [name, port, user, db] of targets) {
      const profiled = profileDir !== '' && name === 'gate combined';
      const m = await profileInProcess(profiled ? new InspectorSession() : undefined, profileDir, `gate-combined-${r + 1}`, () => round(port, user, db));
      if (profiled) writeFileSync(`${profileDir}/gate-combined-${r + 1}.json`, JSON.stringify({ queries: m.queries, cpuUs: m.cpuUs * m.queries }));
      runs.set(name, [...(runs.get(name) ?? []), m]);
      console.log(`round ${r + 1}  ${name.padEnd(15)} ${m.qps.toFixed(0).padStart(7)} q/s   Node CPU ${m.cpuUs.toFixed(1).padStart(6)} µs/query (user ${m.userUs.toFixed(1).padStart(6)})   MariaDB CPU ${m.mariadbUs.toFixed(1).padStart(6)} µs/query`);
    }
  }
  const added = runs.get('gate combined')!.map((g, i) => g.cpuUs - runs.get('MariaDB direct')![i].cpuUs).sort((a, b) => a - b);
  const addedUser = runs.get('gate combined')!.map((g, i) => g.userUs - runs.get('MariaDB direct')![i].userUs).sort((a, b) => a - b);
  const med = (xs: number[]): string => xs[Math.floor(xs.length / 2)].toFixed(1);
  console.log(`gate + tablet, Node CPU per point select (gate round less direct round), median of ${rounds}: ${med(added)} µs, user ${med(addedUser)} µs   (rounds: ${added.map((x) => x.toFixed(1)).join(' / ')}; user ${addedUser.map((x) => x.toFixed(1)).join(' / ')})`);
  const mariadbRatio = runs.get('gate combined')!.map((g, i) => g.mariadbUs / runs.get('MariaDB direct')![i].mariadbUs).sort((a, b) => a - b);
  console.log(`MariaDB CPU per point select through the gate / from the clients directly, median of ${rounds}: ${mariadbRatio[Math.floor(rounds / 2)].toFixed(2)}x   (rounds: ${mariadbRatio.map((x) => x.toFixed(2)).join(' / ')})`);
  if (allocTop >= 0) {
    const perQuery = new Map<string, number>();
    for (const [name, port, user, db] of targets) {
      const a = await allocationsInProcess(() => round(port, user, db));
      perQuery.set(name, a.bytes / a.value.queries);
      console.log(`allocated  ${name.padEnd(15)} ${(a.bytes / a.value.queries).toFixed(0).padStart(6)} bytes/query (sampled, ${a.value.queries} queries)`);
      if (name === 'gate combined') for (const site of a.sites.slice(0, allocTop)) console.log(`  ${(site.bytes / a.value.queries).toFixed(0).padStart(6)} B  ${site.site}`);
    }
    console.log(`gate + tablet, bytes allocated per point select (gate round less direct round): ${(perQuery.get('gate combined')! - perQuery.get('MariaDB direct')!).toFixed(0)}`);
  }
  console.log(`${clients} clients in this process, ${seconds} s rounds, prepared statements, combined mode`);
  await gate.close();
} finally {
  await cluster.stop();
}
