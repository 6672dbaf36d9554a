// VReplication throughput against MariaDB's own tools, in one run on the same generated rows:
//
//   copy      a Materialize copy between two tablets' MariaDB servers (source tablet -> target
//             tablet, the stream over the network VStream client)  vs  `mariadb-dump
//             --single-transaction <db> <table> | mariadb` into a third MariaDB server
//   catch-up  the stream, stopped after its copy, started again behind BENCH_ROWS binlog row
//             events (updates in 1,000-row transactions), timed until it reaches the source's
//             position  vs  the third server as a plain MariaDB replica (CHANGE MASTER …
//             MASTER_USE_GTID) applying the same binlog from the same position
//
// Every MariaDB runs with the same my.cnf (mysqlctl's: sync_binlog=1, innodb_flush_log_at_trx_commit=1,
// binlog on) and the same buffer pool. By default the tablets run inside this process (the cluster
// harness), so the source's streamer and the target's engine share one Node event loop;
// BENCH_TABLETS=process runs each as its own `tessera tablet` process (as `tessera up --mode
// distributed` and production do), so the source's binlog reading and the target's apply can use
// two cores. The table says which way it ran.
//
//   npx tsc -p tsconfig.json && BENCH_ROWS=1000000 node dist/bench/copy-bench.js
//
// BENCH_ROWS (1,000,000), BENCH_BUFFER_POOL (512M, each MariaDB), BENCH_TABLETS (inprocess |
// process), BENCH_OVERRIDES (the stream's --config-overrides, comma-separated:
// vstream-packet-size-rows=10000,...), BENCH_CPU_PROFILE=dir (a CPU profile per phase).
// TESSERA_LOG_LEVEL=warn keeps the tablets' logs out of the table.
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Client } from '../src/mysql/client.js';
import { WORKFLOW_COMMANDS } from '../src/ctld/workflow-commands.js';
import type { CtldContext } from '../src/ctld/command.js';
import { RpcTabletManagerClient } from '../src/tablet/index.js';
import type { JsonObject } from '../src/topo/index.js';
import { GtidPosition } from '../src/mysql/binlog/index.js';
import { openTopoServer } from '../src/topo/index.js';
import { startCluster } from '../test/harness/cluster.js';
import { startMariaDB } from '../test/harness/mariadb.js';
import { testRoot } from '../test/harness/processes.js';
import { TabletChild } from '../test/harness/tablet-child.js';
import { CUSTOMER_BENCH_SCHEMA, fmt, log, profileInProcess, sh } from './bench-util.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const BUFFER_POOL = process.env.BENCH_BUFFER_POOL ?? '512M';
/** Rows per source transaction while generating the catch-up binlog. */
const TRX_ROWS = 1_000;
const INSERT_CHUNK = 10_000;

const SCHEMA = CUSTOMER_BENCH_SCHEMA;
const TABLETS = process.env.BENCH_TABLETS ?? 'inprocess';
if (TABLETS !== 'inprocess' && TABLETS !== 'process') throw new Error(`BENCH_TABLETS=${TABLETS}: give inprocess or process`);


// BENCH_CPU_PROFILE=dir: a CPU profile of this process (the tablets and the engine) per phase,
// dir/copy.cpuprofile and dir/catchup.cpuprofile, for Chrome DevTools or speedscope; with
// BENCH_TABLETS=process, one per phase and tablet process (dir/catchup-tsrc.cpuprofile, ...),
// through cpu-profile-preload.ts in each.
const PROFILE_DIR = process.env.BENCH_CPU_PROFILE ?? '';
const inspector = PROFILE_DIR && TABLETS === 'inprocess' ? new Session() : undefined;
/** With BENCH_TABLETS=process: the tablet processes to profile, and the profiles each wrote. */
const profiled: { label: string; pid: () => number | undefined; written: number }[] = [];

async function profile<T>(name: string, fn: () => Promise<T>): Promise<T> {
  if (PROFILE_DIR && profiled.length > 0) {
    for (const p of profiled) process.kill(p.pid()!, 'SIGUSR2');
    try {
      return await fn();
    } finally {
      for (const p of profiled) {
        process.kill(p.pid()!, 'SIGUSR2');
        const file = `${PROFILE_DIR}/${p.pid()}-${++p.written}.cpuprofile`;
        while (!existsSync(file)) await new Promise((r) => setTimeout(r, 50));
        renameSync(file, `${PROFILE_DIR}/${name}-${p.label}.cpuprofile`);
      }
    }
  }
  return profileInProcess(inspector, PROFILE_DIR, name, fn);
}

/** CPU seconds a process has used (user + system), from /proc. */
function procCpu(pid: number | null | undefined): number {
  if (!pid) return 0;
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function nodeCpu(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

async function pos(c: Client): Promise<string> {
  const r = await c.query('SELECT @@global.gtid_binlog_pos');
  return String(r.rows[0][0]);
}

/** The source and target tablets, in this process or as processes of their own. */
interface Tablets {
  readonly ctx: CtldContext;
  readonly srcAddr: { host: string; port: number };
  srcMysqlPid(): number | null | undefined;
  dstMysqlPid(): number | null | undefined;
  /** Names and CPU seconds so far of the processes running Tessera's side. */
  tesseraCpu(): [string, number][];
  /** The target's stream of workflow `bench`. */
  stream(): Promise<{ id: number; state: string; message: string; pos: string } | undefined>;
  waitForPos(id: number, pos: string): Promise<void>;
  /** A one-value query on the target's keyspace database. */
  dstValue(sql: string): Promise<unknown>;
  /** Global status variables of the target's MariaDB. */
  dstStatus(names: readonly string[]): Promise<[string, string][]>;
  stop(): Promise<void>;
}

async function inProcessTablets(mysqlConfig: Record<string, string>): Promise<Tablets> {
  const c = await startCluster({
    gate: false,
    mysqlConfig,
    keyspaces: [
      { name: 'src', shards: ['0'], schema: SCHEMA },
      { name: 'dst', shards: ['0'] },
    ],
  });
  const tmc = new RpcTabletManagerClient(c.topo);
  const engine = c.shard('dst', '0').primary.manager.vreplication!;
  return {
    ctx: { topo: c.topo, tmc },
    srcAddr: await c.mysqlAddress(c.shard('src', '0').primary),
    srcMysqlPid: () => c.shard('src', '0').primary.mysqlctl?.runningPid(),
    dstMysqlPid: () => c.shard('dst', '0').primary.mysqlctl?.runningPid(),
    tesseraCpu: () => [['node', nodeCpu()]],
    async stream() {
      const [s] = await engine.read('bench');
      return s && { id: s.record.id, state: s.record.state, message: s.record.message, pos: s.record.pos };
    },
    waitForPos: (id, pos) => engine.waitForPos(id, pos, 3_600_000),
    async dstValue(sql) {
      const rows = await c.shardRows('dst', '0', `SELECT (${sql}) AS v`);
      return rows[0].v;
    },
    async dstStatus(names) {
      const rows = await c.shardRows('dst', '0', `SHOW GLOBAL STATUS WHERE Variable_name IN (${names.map((n) => `'${n}'`).join(',')})`);
      return rows.map((r) => [String(r.Variable_name), String(r.Value)]);
    },
    async stop() {
      tmc.close();
      await c.stop();
    },
  };
}

async function processTablets(mysqlConfig: Record<string, string>): Promise<Tablets> {
  const root = testRoot();
  const topoDir = `${root}/topo-bench`;
  const env = PROFILE_DIR ? { NODE_OPTIONS: `--import=${fileURLToPath(new URL('./cpu-profile-preload.js', import.meta.url))}` } : undefined;
  const srcT = new TabletChild({ uid: 300, keyspace: 'src', shard: '0', type: 'primary', root, topoDir, env });
  const dstT = new TabletChild({ uid: 400, keyspace: 'dst', shard: '0', type: 'primary', root, topoDir, env });
  const topo = openTopoServer({ topoImplementation: 'file', topoGlobalServerAddress: topoDir, topoGlobalRoot: '/tessera/global' });
  const tmc = new RpcTabletManagerClient(topo);
  await srcT.start();
  await dstT.start();
  profiled.push({ label: 'tsrc', pid: () => srcT.pid, written: 0 }, { label: 'tdst', pid: () => dstT.pid, written: 0 });
  const dbas: Client[] = [];
  for (const [t, db] of [[srcT, 'vt_src'], [dstT, 'vt_dst']] as const) {
    const dba = await Client.connect({ socketPath: t.mysqlctl.socket, user: 'vt_dba', database: db });
    dbas.push(dba);
    // The tablet's mysqlctl starts MariaDB with the default my.cnf; these two are dynamic, so the
    // servers end up configured as the in-process cluster's and the third server.
    for (const [k, v] of Object.entries(mysqlConfig)) await dba.query(`SET GLOBAL ${k} = ${/^\d+[KMG]$/.test(v) ? String(parseSize(v)) : v}`);
  }
  await dbas[0].query(SCHEMA);
  for (const ks of ['src', 'dst']) await topo.rebuildKeyspaceGraph(ks, { cells: ['zone1'] });
  await topo.rebuildVSchemaGraph({ cells: ['zone1'] });
  for (const t of [srcT, dstT]) await tmc.refreshState(t.alias, {});
  return {
    ctx: { topo, tmc },
    srcAddr: { host: '127.0.0.1', port: srcT.mysqlctl.mysqlPort },
    srcMysqlPid: () => srcT.mysqlctl.runningPid(),
    dstMysqlPid: () => dstT.mysqlctl.runningPid(),
    tesseraCpu: () => [['tsrc', procCpu(srcT.pid)], ['tdst', procCpu(dstT.pid)]],
    async stream() {
      const [s] = (await tmc.readVReplicationWorkflow(dstT.alias, { workflow: 'bench' })).streams;
      return s && { id: s.id, state: s.state, message: s.message, pos: s.pos };
    },
    waitForPos: (id, pos) => tmc.vReplicationWaitForPos(dstT.alias, { id, position: pos, timeoutMs: 3_600_000 }),
    async dstValue(sql) {
      return (await dbas[1].query(`SELECT (${sql})`)).rows[0][0];
    },
    async dstStatus(names) {
      const r = await dbas[1].query(`SHOW GLOBAL STATUS WHERE Variable_name IN (${names.map((n) => `'${n}'`).join(',')})`);
      return r.rows.map((x) => [String(x[0]), String(x[1])]);
    },
    async stop() {
      for (const d of dbas) d.close();
      tmc.close();
      await srcT.stop();
      await dstT.stop();
      await topo.close();
    },
  };
}

/** `512M` as bytes. */
function parseSize(v: string): number {
  return Number(v.slice(0, -1)) * 1024 ** ('KMG'.indexOf(v.slice(-1)) + 1);
}

async function main(): Promise<void> {
  const mysqlConfig = { innodb_buffer_pool_size: BUFFER_POOL, max_binlog_size: '1G' };
  const t0 = performance.now();
  const tablets = TABLETS === 'process' ? await processTablets(mysqlConfig) : await inProcessTablets(mysqlConfig);
  const dump = await startMariaDB({ innodbBufferPoolSize: BUFFER_POOL, extraConfig: { max_binlog_size: '1G' } });
  const { ctx, srcAddr } = tablets;
  const src = await Client.connect({ host: srcAddr.host, port: srcAddr.port, user: 'vt_dba', database: 'vt_src' });
  const other = await Client.connect({ host: dump.host, port: dump.port, user: 'vt_dba' });
  const run = (name: string, req: JsonObject) => WORKFLOW_COMMANDS[name].run(ctx, req);
  // CPU seconds of Tessera's processes, then of the source, target and third MariaDB, since `mark()`.
  const cpu = () => [...tablets.tesseraCpu().map(([, v]) => v), procCpu(tablets.srcMysqlPid()), procCpu(tablets.dstMysqlPid()), procCpu(dump.pid())];
  const since = (m: number[]) => cpu().map((v, i) => v - m[i]);
  try {
    // ---- the rows ----------------------------------------------------------------------------
    for (let lo = 1; lo <= ROWS; lo += INSERT_CHUNK) {
      const hi = Math.min(ROWS, lo + INSERT_CHUNK - 1);
      await src.query(
        'INSERT INTO customer SELECT seq, CONCAT(\'customer-\', seq, \'@example.com\'), CONCAT(\'Näme \', seq * 7919 % 100003), ' +
          "seq * 37 % 1000000 / 100, '2024-02-29 12:34:56.123456' + INTERVAL seq SECOND, ELT(1 + seq % 3, 'active', 'dormant', 'closed'), " +
          `IF(seq % 10 = 0, NULL, CONCAT(UNHEX(SHA2(seq, 256)), UNHEX(SHA2(seq + 1, 256)), UNHEX(SHA2(seq + 2, 256)), UNHEX(SHA2(seq + 3, 256)))) FROM seq_${lo}_to_${hi}`,
      );
    }
    const sz = await src.query('SELECT SUM(8 + LENGTH(email) + IFNULL(LENGTH(name), 0) + 6 + 8 + LENGTH(status) + IFNULL(LENGTH(note), 0)) FROM customer');
    const bytes = Number(sz.rows[0][0]);
    log(`${fmt(ROWS)} rows, ${(bytes / 1e6).toFixed(1)} MB of values (${Math.round(bytes / ROWS)} bytes/row) generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    // ---- copy: Materialize ---------------------------------------------------------------------
    let t = performance.now();
    let m = cpu();
    const id = await profile('copy', async () => {
      await run('Materialize', {
        action: 'create',
        workflow: 'bench',
        target_keyspace: 'dst',
        source_keyspace: 'src',
        table_settings: JSON.stringify([{ target_table: 'customer', source_expression: 'select * from customer', create_ddl: 'copy' }]),
        tablet_types: ['primary'],
        stop_after_copy: true,
        config_overrides: (process.env.BENCH_OVERRIDES ?? '').split(',').filter((s) => s !== ''),
      });
      for (;;) {
        const s = await tablets.stream();
        if (s?.state === 'Error') throw new Error(`stream in Error: ${s.message}`);
        if (s?.state === 'Stopped') return s.id;
        await new Promise((r) => setTimeout(r, 50));
      }
    });
    const copyMs = performance.now() - t;
    const copyCpu = since(m);
    const copied = await tablets.dstValue('SELECT COUNT(*) FROM customer');
    if (Number(copied) !== ROWS) throw new Error(`the copy left ${String(copied)} rows, expected ${ROWS}`);

    // ---- copy: mariadb-dump | mariadb ----------------------------------------------------------
    await other.query('CREATE DATABASE vt_src');
    t = performance.now();
    m = cpu();
    const dumpToolsCpu = await sh(`mariadb-dump --single-transaction -h ${srcAddr.host} -P ${srcAddr.port} -u vt_dba vt_src customer | mariadb -h ${dump.host} -P ${dump.port} -u vt_dba vt_src`);
    const dumpMs = performance.now() - t;
    const dumpCpu = since(m);
    const dumped = await other.query('SELECT COUNT(*) FROM vt_src.customer');
    if (Number(dumped.rows[0][0]) !== ROWS) throw new Error(`the dump left ${String(dumped.rows[0][0])} rows, expected ${ROWS}`);

    // ---- catch-up: the same binlog for both ----------------------------------------------------
    // The replica starts where the stream stopped; its own binlog of the import is dropped so its
    // GTID state is only the source's.
    const stopped = await tablets.stream();
    const from = GtidPosition.parse(stopped!.pos).gtidList();
    await other.query('RESET MASTER');
    await other.query(`SET GLOBAL gtid_slave_pos = '${from}'`);
    await other.query("SET GLOBAL replicate_do_db = 'vt_src'");
    await other.query(`CHANGE MASTER TO MASTER_HOST = '${srcAddr.host}', MASTER_PORT = ${srcAddr.port}, MASTER_USER = 'vt_repl', MASTER_PASSWORD = '', MASTER_USE_GTID = slave_pos`);
    t = performance.now();
    for (let lo = 1; lo <= ROWS; lo += TRX_ROWS) {
      await src.query(`UPDATE customer SET balance = balance + 1, status = 'updated', email = CONCAT('u', customer_id, '@example.org') WHERE customer_id BETWEEN ${lo} AND ${Math.min(ROWS, lo + TRX_ROWS - 1)}`);
    }
    const to = await pos(src);
    log(`${fmt(ROWS)} row updates in ${fmt(ROWS / TRX_ROWS)} transactions written to the source's binlog in ${((performance.now() - t) / 1000).toFixed(1)} s (from ${from} to ${to})`);

    t = performance.now();
    const dstStatus = async () => {
      const r = Object.fromEntries((await tablets.dstStatus(['Com_commit', 'Questions'])).map(([k, v]) => [k, v]));
      return [Number(r.Com_commit), Number(r.Questions)];
    };
    const status0 = await dstStatus();
    m = cpu();
    await profile('catchup', async () => {
      await run('Workflow', { action: 'start', keyspace: 'dst', workflow: 'bench' });
      await tablets.waitForPos(id, `MariaDB/${to}`);
    });
    const streamMs = performance.now() - t;
    const streamCpu = since(m);
    const [commits, statements] = (await dstStatus()).map((v, i) => v - status0[i]);

    t = performance.now();
    m = cpu();
    await other.query('START SLAVE');
    const w = await other.query(`SELECT MASTER_GTID_WAIT('${to}', 3600)`);
    const replicaMs = performance.now() - t;
    const replicaCpu = since(m);
    if (Number(w.rows[0][0]) !== 0) throw new Error('the replica did not reach the source position');
    for (const [who, rows] of [
      ['stream', await tablets.dstValue("SELECT COUNT(*) FROM customer WHERE status = 'updated'")],
      ['replica', (await other.query("SELECT COUNT(*) FROM vt_src.customer WHERE status = 'updated'")).rows[0][0]],
    ] as const) {
      if (Number(rows) !== ROWS) throw new Error(`${who}: ${String(rows)} rows updated, expected ${ROWS}`);
    }

    // ---- the table -----------------------------------------------------------------------------
    // CPU: node = this process (both tablets' Tessera side) or tsrc/tdst = the two tablet
    // processes, src/dst/3rd = the MariaDB servers, tools = mariadb-dump and mariadb.
    const names = [...tablets.tesseraCpu().map(([k]) => k), 'src', 'dst', '3rd'];
    const cpuCols = (x: number[], tools = 0) => {
      const parts = [...names.map((k, i) => [k, x[i]] as const), ['tools', tools] as const];
      const total = x.reduce((a, b) => a + b, 0) + tools;
      return `  cpu ${total.toFixed(1).padStart(5)} s (${parts.filter(([, v]) => v >= 0.05).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')})`;
    };
    const rate = (ms: number) => `${fmt((ROWS / ms) * 1000).padStart(9)} rows/s ${((bytes / 1e6 / ms) * 1000).toFixed(1).padStart(6)} MB/s ${(ms / 1000).toFixed(1).padStart(7)} s`;
    log('');
    log(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, load average ${os.loadavg()[0].toFixed(1)} at the end (other work shares it); ${process.version}; MariaDB buffer pool ${BUFFER_POOL} each, sync_binlog=1, flush_log_at_trx_commit=1`);
    log(
      TABLETS === 'process'
        ? "the tablets run as two processes (tsrc, tdst: BENCH_TABLETS=process): the source's binlog reading and encoding and the target's apply each have a thread; cpu = CPU seconds used during the phase"
        : "the tablets run in this process (node; BENCH_TABLETS=process runs them apart): the source's binlog reading and encoding and the target's apply share one thread; cpu = CPU seconds used during the phase",
    );
    log(`rows: ${fmt(ROWS)} (${Math.round(bytes / ROWS)} bytes of values each)`);
    log('');
    log(`copy      Materialize (tablet -> tablet)       ${rate(copyMs)}${cpuCols(copyCpu)}`);
    log(`          mariadb-dump | mariadb               ${rate(dumpMs)}${cpuCols(dumpCpu, dumpToolsCpu)}`);
    log(`          ratio                                ${(dumpMs / copyMs).toFixed(2)}x (goal >= 0.5x)`);
    log(`catch-up  stream, stopped then started         ${rate(streamMs)}${cpuCols(streamCpu)}`);
    log(`          the target applied it in ${fmt(commits)} transactions, ${fmt(statements)} statements`);
    log(`          MariaDB replica (MASTER_USE_GTID)    ${rate(replicaMs)}${cpuCols(replicaCpu)}`);
    log(`          ratio                                ${(replicaMs / streamMs).toFixed(2)}x (goal >= 0.5x)`);
  } finally {
    src.close();
    await other.query('STOP SLAVE').catch(() => undefined);
    other.close();
    await dump.stop();
    await tablets.stop();
  }
}

await main();
