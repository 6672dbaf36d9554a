// The gate's hot path against its references, in one run:
//
//   unsharded   sysbench oltp_point_select against MariaDB directly, a raw Node TCP relay (bytes
//               piped both ways: the floor for any proxy written in Node), the gate in combined mode
//               (tablet in-process) and the gate in distributed mode (tablet over RPC), twice: in
//               this process beside its tablet, and as deployed, a `tessera gate` process of its
//               own. One unsharded keyspace on one tablet, so every target reads the same MariaDB.
//   two shards  oltp_point_select, oltp_read_only and oltp_read_write through the gate (combined)
//               over a keyspace sharded in two by `hash` on `id`, next to one MariaDB holding all
//               rows (the unsharded keyspace's).
//
// Each figure is the median of `rounds` rounds (targets interleaved, so background load on a shared
// machine hits each alike), printed with the per-round figures. Beside q/s, the Node CPU per query:
// this process's CPU time (process.cpuUsage) over the run divided by the queries sysbench counted.
// Every Node part of a target (relay; gate and tablet; gate, RPC and tablet) runs in this process,
// and nothing else in it is busy while sysbench runs, so the figure is what that target costs in
// Node per query, and it is far less sensitive to other load on the machine than q/s. The one
// exception is the gate in a process of its own: its figure adds that process's CPU (from /proc,
// in clock ticks) to this one's, where its tablet runs.
//
// Each target first runs 2 s unmeasured (GATE_BENCH_WARMUP=<seconds>, 0 for none).
//
// Run: npx tsc -p tsconfig.json && node dist/bench/gate-bench.js [seconds=10] [threads=16] [ps|noprep] [rounds=3] [all|point|sharded]
// `node dist/bench/hot-path.js` runs it and prints only the summary table.
import net from 'node:net';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { pathToFileURL } from 'node:url';
import { processCpuUs } from './bench-util.js';
import { createGate } from '../src/gate/index.js';
import { TabletConn } from '../src/tablet/index.js';
import { startChild } from '../test/harness/child.js';
import { startCluster } from '../test/harness/cluster.js';

export type Workload = 'oltp_point_select' | 'oltp_read_only' | 'oltp_read_write';

export interface BenchOptions {
  readonly seconds: number;
  readonly threads: number;
  /** Server-side prepared statements (sysbench's default) or the text protocol. */
  readonly prepared: boolean;
  readonly rounds: number;
  readonly parts: 'all' | 'point' | 'sharded';
  /** Print each round's figures as they come. */
  readonly verbose: boolean;
}

export interface Figure {
  readonly qps: number;
  readonly p95: number;
  /** Node CPU µs per query (user + system) of this process during the run. */
  readonly cpuUs: number;
  /** The system (kernel) part of cpuUs: socket calls; the rest is JavaScript, V8 and libuv. */
  readonly sysUs: number;
  /** The part of cpuUs spent in the target's other process (the gate's own), when it has one. */
  readonly otherUs?: number;
}

export interface Measured {
  readonly name: string;
  readonly workload: Workload;
  readonly rounds: Figure[];
  readonly median: Figure;
}

const TABLE_SIZE = 10_000;

/**
 * With GATE_BENCH_RATE=<n>, sysbench offers n events a second (`--rate`) instead of as many as it
 * can: every target then serves the same q/s, and CPU per query compares two builds at equal
 * throughput even when a busy machine would make their q/s, and with it their batching, differ.
 */
const rate = Number(process.env.GATE_BENCH_RATE ?? 0);

/**
 * Seconds each target runs, unmeasured, before the first round (GATE_BENCH_WARMUP, 2 by default; 0
 * for none): its first measured round then finds what any running proxy has (compiled code, open
 * pooled connections, MariaDB statements prepared), not its start.
 */
const warmupSeconds = Number(process.env.GATE_BENCH_WARMUP ?? 2);

function sysbench(o: BenchOptions, workload: Workload, port: number, db: string, user: string, cmd: 'prepare' | 'run', extra: string[] = []): Promise<string> {
  const args = [workload, '--db-driver=mysql', '--mysql-host=127.0.0.1', `--mysql-port=${port}`, `--mysql-user=${user}`, '--mysql-password=',
    `--mysql-db=${db}`, '--tables=1', `--table-size=${TABLE_SIZE}`, ...(o.prepared ? [] : ['--db-ps-mode=disable']), ...extra];
  if (cmd === 'run') args.push(`--threads=${o.threads}`, `--time=${o.seconds}`, '--percentile=95', '--report-interval=0', ...(rate > 0 ? [`--rate=${rate}`] : []));
  args.push(cmd);
  return new Promise((resolve, reject) =>
    execFile('sysbench', args, { encoding: 'utf8', maxBuffer: 16 << 20 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stdout}\n${stderr}`)) : resolve(stdout))),
  );
}

/**
 * With GATE_BENCH_PROFILE=<dir>, each run is CPU-profiled (the V8 profiler `node --cpu-prof`
 * uses) and written to <dir>/<target>-<workload>.cpuprofile; bench/profile-summary.ts reads them.
 */
const profileDir = process.env.GATE_BENCH_PROFILE ?? '';

function post<T>(s: Session, method: string, params: object = {}): Promise<T> {
  return new Promise((resolve, reject) => s.post(method, params, (err, r) => (err ? reject(err) : resolve(r as T))));
}

/** `pid`: another process whose CPU over the run counts for the target (0: none). */
async function measure(o: BenchOptions, workload: Workload, port: number, db: string, user: string, name: string, pid = 0): Promise<Figure> {
  let inspector: Session | null = null;
  if (profileDir) {
    inspector = new Session();
    inspector.connect();
    await post(inspector, 'Profiler.enable');
    await post(inspector, 'Profiler.setSamplingInterval', { interval: 200 });
    await post(inspector, 'Profiler.start');
  }
  const other0 = pid > 0 ? processCpuUs(pid) : null;
  const cpu0 = process.cpuUsage();
  const out = await sysbench(o, workload, port, db, user, 'run');
  const cpu = process.cpuUsage(cpu0);
  let otherCpu = 0;
  if (other0 !== null) {
    const other = processCpuUs(pid);
    const user = other.user - other0.user;
    const system = other.system - other0.system;
    cpu.user += user;
    cpu.system += system;
    otherCpu = user + system;
  }
  const queries = Number(/queries:\s+(\d+)/.exec(out)?.[1]);
  if (inspector) {
    const { profile } = await post<{ profile: unknown }>(inspector, 'Profiler.stop');
    inspector.disconnect();
    const file = `${profileDir}/${name.replace(/[^\w]+/g, '-')}-${workload}`;
    writeFileSync(`${file}.cpuprofile`, JSON.stringify(profile));
    writeFileSync(`${file}.json`, JSON.stringify({ queries, cpuUs: cpu.user + cpu.system }));
  }
  const qps = Number(/queries:\s+\d+\s+\(([\d.]+) per sec/.exec(out)?.[1]);
  const p95 = Number(/95th percentile:\s+([\d.]+)/.exec(out)?.[1]);
  const errors = Number(/ignored errors:\s+(\d+)/.exec(out)?.[1] ?? 0);
  if (errors > 0) process.stderr.write(`warning: ${workload} on port ${port}: ${errors} ignored errors\n`);
  const per = (us: number): number => (queries > 0 ? us / queries : 0);
  return { qps, p95, cpuUs: per(cpu.user + cpu.system), sysUs: per(cpu.system), ...(other0 !== null ? { otherUs: per(otherCpu) } : {}) };
}

/** The median of the rounds that did not fail (NaN when all did). */
function medianOf(rs0: readonly Figure[]): Figure {
  const rs = rs0.filter((r) => !Number.isNaN(r.qps));
  if (rs.length === 0) return { qps: NaN, p95: NaN, cpuUs: NaN, sysUs: NaN };
  const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const others = rs.flatMap((r) => (r.otherUs === undefined ? [] : [r.otherUs]));
  return { qps: mid(rs.map((r) => r.qps)), p95: mid(rs.map((r) => r.p95)), cpuUs: mid(rs.map((r) => r.cpuUs)), sysUs: mid(rs.map((r) => r.sysUs)), ...(others.length > 0 ? { otherUs: mid(others) } : {}) };
}

function line(name: string, workload: Workload, f: Figure): string {
  return `${workload.padEnd(18)} ${name.padEnd(22)} ${f.qps.toFixed(0).padStart(7)} q/s   p95 ${f.p95.toFixed(2).padStart(6)} ms   Node CPU ${f.cpuUs.toFixed(1).padStart(6)} µs/query (system ${f.sysUs.toFixed(1).padStart(5)}${f.otherUs === undefined ? '' : `, gate process ${f.otherUs.toFixed(1)}`})`;
}

/** `pid`: a process of the target's besides this one (the gate's own), whose CPU counts too. */
type Target = readonly [name: string, workload: Workload, port: number, db: string, user: string, pid?: number];

async function runTargets(o: BenchOptions, targets: readonly Target[]): Promise<Measured[]> {
  const runs = targets.map(() => [] as Figure[]);
  if (warmupSeconds > 0) {
    for (const [name, workload, port, db, user] of targets) {
      await sysbench({ ...o, seconds: warmupSeconds }, workload, port, db, user, 'run').catch((err: Error) => {
        console.log(`warm-up  ${workload.padEnd(18)} ${name.padEnd(22)} FAILED: ${err.message.split('\n')[0]}`);
      });
    }
  }
  for (let round = 0; round < o.rounds; round++) {
    for (let i = 0; i < targets.length; i++) {
      const [name, workload, port, db, user, pid] = targets[i];
      let f: Figure;
      try {
        f = await measure(o, workload, port, db, user, name, pid);
      } catch (err) {
        // A run sysbench gave up on (it stops at the first error it does not retry) counts as
        // failed, and the others go on.
        const why = /FATAL: .*/.exec((err as Error).message)?.[0] ?? (err as Error).message.split('\n')[0];
        console.log(`round ${round + 1}  ${workload.padEnd(18)} ${name.padEnd(22)} FAILED: ${why}`);
        f = { qps: NaN, p95: NaN, cpuUs: NaN, sysUs: NaN };
      }
      runs[i].push(f);
      if (o.verbose && !Number.isNaN(f.qps)) console.log(`round ${round + 1}  ${line(name, workload, f)}`);
    }
  }
  return targets.map(([name, workload], i) => ({ name, workload, rounds: runs[i], median: medianOf(runs[i]) }));
}

/**
 * Distributed mode as deployed: `tessera gate` in a process of its own on the cluster's (file)
 * topology, reaching the tablet of this process over RPC.
 */
async function startGateProcess(topoAddress: string, cell: string): Promise<{ port: number; pid: number; stop: () => Promise<void> }> {
  const child = startChild(['gate', '--topo-implementation', 'file', '--topo-global-server-address', topoAddress, '--port', '0', '--http-port', '0', '--cell', cell, '--tablet-types-to-wait', 'primary']);
  try {
    const m = await child.waitFor(/gate listening on (\d+)/);
    return { port: Number(m[1]), pid: child.proc.pid!, stop: () => child.kill() };
  } catch (err) {
    await child.kill('SIGKILL');
    throw err;
  }
}

/** Starts the cluster, runs every target, stops everything; returns the measurements. */
export async function runGateBench(o: BenchOptions): Promise<Measured[]> {
  const sharded = o.parts !== 'point';
  const cluster = await startCluster({
    // A file topology, so a gate in a process of its own can read it.
    topo: 'file',
    keyspaces: [
      { name: 'sbtest', shards: ['0'], vschema: { tables: {} } },
      ...(sharded
        ? [{ name: 'sbsharded', shards: ['-80', '80-'], vschema: { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { sbtest1: { column_vindexes: [{ column: 'id', name: 'hash' }] } } } }]
        : []),
    ],
    gate: { http: null },
    // Two shards cannot see a deadlock between them: it ends at the lock wait timeout, which at
    // MariaDB's 50 s outlasts the tablets' 30 s statement timeout (an error sysbench does not
    // retry). 5 s ends it with 1205, which sysbench retries, as Vitess advises for sharded setups.
    mysqlConfig: { innodb_lock_wait_timeout: '5' },
  });
  const conns: TabletConn[] = [];
  const closers: (() => Promise<void> | void)[] = [];
  try {
    const shard = cluster.shard('sbtest', '0');
    const addr = await cluster.mysqlAddress(shard.primary);
    await sysbench(o, 'oltp_point_select', addr.port, 'vt_sbtest', 'vt_dba', 'prepare');
    const gatePort = cluster.gate!.mysqlPort;
    // Through the gate, with explicit ids: the hash vindex places each row on its shard.
    if (sharded) await sysbench(o, 'oltp_point_select', gatePort, 'sbsharded', 'vt_app', 'prepare', ['--auto-inc=off']);

    const relay = net.createServer({ noDelay: true }, (client) => {
      const up = net.connect({ host: addr.host, port: addr.port, noDelay: true });
      client.pipe(up).pipe(client);
      client.on('error', () => up.destroy());
      up.on('error', () => client.destroy());
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', () => r()));
    closers.push(() => void relay.close());
    const relayPort = (relay.address() as net.AddressInfo).port;

    const distributed = await createGate({
      topo: cluster.topo, cell: cluster.cell, mysql: { port: 0, tls: false }, http: null, tabletTypesToWait: ['primary'],
      tabletConn: (t) => {
        const c = new TabletConn(t.hostname, t.port_map.grpc ?? 0);
        conns.push(c);
        return c;
      },
    });
    closers.push(() => distributed.close());
    const own = o.parts !== 'sharded' ? await startGateProcess(cluster.topoAddress, cluster.cell) : null;
    if (own) closers.push(() => own.stop());

    const out: Measured[] = [];
    if (o.parts !== 'sharded') {
      out.push(...(await runTargets(o, [
        ['MariaDB direct', 'oltp_point_select', addr.port, 'vt_sbtest', 'vt_dba'],
        ['raw Node relay', 'oltp_point_select', relayPort, 'vt_sbtest', 'vt_dba'],
        ['gate combined', 'oltp_point_select', gatePort, 'sbtest', 'vt_app'],
        ['gate distributed', 'oltp_point_select', distributed.mysqlPort, 'sbtest', 'vt_app'],
        ['gate own process', 'oltp_point_select', own!.port, 'sbtest', 'vt_app', own!.pid],
      ])));
    }
    if (sharded) {
      for (const w of ['oltp_point_select', 'oltp_read_only', 'oltp_read_write'] as const) {
        out.push(...(await runTargets(o, [
          ['one MariaDB, all rows', w, addr.port, 'vt_sbtest', 'vt_dba'],
          ['gate 2 shards', w, gatePort, 'sbsharded', 'vt_app'],
        ])));
      }
    }
    return out;
  } finally {
    for (const c of closers.reverse()) await c();
    for (const c of conns) c.close();
    await cluster.stop();
  }
}

/** The ratios the hot-path goals are stated in, as a table. */
export function summary(o: BenchOptions, ms: readonly Measured[]): string {
  const find = (name: string, w: Workload) => ms.find((m) => m.name === name && m.workload === w);
  const get = (name: string, w: Workload) => find(name, w)?.median;
  const rows: string[][] = [['comparison', 'workload', 'q/s ratio', 'CPU µs/query', 'CPU ratio', 'goal', 'per round (q/s, CPU)']];
  const relay = get('raw Node relay', 'oltp_point_select');
  if (relay) {
    for (const [name, goal] of [['gate combined', 'q/s >= 0.85x, CPU <= 1.33x'], ['gate distributed', 'q/s >= 0.60x'], ['gate own process', 'q/s >= 0.60x']] as const) {
      const g = get(name, 'oltp_point_select');
      if (!g) continue;
      // Each round's ratio against the relay's run of the same round, minutes apart at most: how
      // far the host's speed moved the medians shows in their spread.
      const gr = find(name, 'oltp_point_select')!.rounds;
      const rr = find('raw Node relay', 'oltp_point_select')!.rounds;
      const perRound = gr.map((f, i) => `${(f.qps / rr[i].qps).toFixed(2)}/${(f.cpuUs / rr[i].cpuUs).toFixed(2)}`).join(' ');
      rows.push([`${name} / raw relay`, 'oltp_point_select', (g.qps / relay.qps).toFixed(2) + 'x', `${g.cpuUs.toFixed(1)} / ${relay.cpuUs.toFixed(1)}`, (g.cpuUs / relay.cpuUs).toFixed(2) + 'x', goal, perRound]);
    }
    const d = get('MariaDB direct', 'oltp_point_select');
    if (d) rows.push(['raw relay / MariaDB', 'oltp_point_select', (relay.qps / d.qps).toFixed(2) + 'x', '', '', '', '']);
  }
  for (const w of ['oltp_point_select', 'oltp_read_only', 'oltp_read_write'] as const) {
    const one = get('one MariaDB, all rows', w);
    const g = get('gate 2 shards', w);
    if (one && g) rows.push(['gate 2 shards / one MariaDB', w, (g.qps / one.qps).toFixed(2) + 'x', g.cpuUs.toFixed(1), '', '', '']);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const text = rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
  text.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  const warm = warmupSeconds > 0 ? ` after a ${warmupSeconds} s warm-up of each` : '';
  text.push(`sysbench, ${o.threads} threads, ${o.seconds} s x ${o.rounds} rounds each (median)${warm}, ${o.prepared ? 'server-side prepared statements' : 'text protocol'}; CPU = Node process CPU per query`);
  return text.join('\n');
}

export function report(ms: readonly Measured[]): string {
  const out = ['median of rounds:'];
  for (const m of ms) out.push('  ' + line(m.name, m.workload, m.median) + `   (rounds: ${m.rounds.map((r) => r.qps.toFixed(0)).join(', ')} q/s; ${m.rounds.map((r) => r.cpuUs.toFixed(1)).join(', ')} µs)`);
  return out.join('\n');
}

export function optionsFromArgs(argv: readonly string[], defaults: Partial<BenchOptions> = {}): BenchOptions {
  const parts = argv[4] ?? defaults.parts ?? 'all';
  if (parts !== 'all' && parts !== 'point' && parts !== 'sharded') throw new Error(`parts must be all, point or sharded, not ${parts}`);
  return {
    seconds: Number(argv[0] ?? defaults.seconds ?? 10),
    threads: Number(argv[1] ?? defaults.threads ?? 16),
    prepared: (argv[2] ?? 'ps') !== 'noprep',
    rounds: Number(argv[3] ?? defaults.rounds ?? 3),
    parts,
    verbose: defaults.verbose ?? true,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const o = optionsFromArgs(process.argv.slice(2));
  const ms = await runGateBench(o);
  console.log(report(ms));
  console.log(summary(o, ms));
}
