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
// binlog on) and the same buffer pool. The tablets run inside this process (the cluster harness),
// so the source's streamer and the target's engine share one Node event loop.
//
//   npx tsc -p tsconfig.json && BENCH_ROWS=1000000 node dist/bench/copy-bench.js
//
// BENCH_ROWS (1,000,000), BENCH_BUFFER_POOL (512M, each MariaDB), BENCH_OVERRIDES (the stream's
// --config-overrides, comma-separated: vstream-packet-size-rows=10000,...), BENCH_CPU_PROFILE=dir
// (a CPU profile per phase). TESSERA_LOG_LEVEL=warn keeps the tablets' logs out of the table.
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Client } from '../src/mysql/client.js';
import { WORKFLOW_COMMANDS } from '../src/ctld/workflow-commands.js';
import type { CtldContext } from '../src/ctld/command.js';
import { RpcTabletManagerClient } from '../src/tablet/index.js';
import type { JsonObject } from '../src/topo/index.js';
import { GtidPosition } from '../src/mysql/binlog/index.js';
import { startCluster } from '../test/harness/cluster.js';
import { startMariaDB } from '../test/harness/mariadb.js';
import { CUSTOMER_BENCH_SCHEMA, fmt, log, sh } from './bench-util.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const BUFFER_POOL = process.env.BENCH_BUFFER_POOL ?? '512M';
/** Rows per source transaction while generating the catch-up binlog. */
const TRX_ROWS = 1_000;
const INSERT_CHUNK = 10_000;

const SCHEMA = CUSTOMER_BENCH_SCHEMA;


// BENCH_CPU_PROFILE=dir: a CPU profile of this process (the tablets and the engine) per phase,
// dir/copy.cpuprofile and dir/catchup.cpuprofile, for Chrome DevTools or speedscope.
const PROFILE_DIR = process.env.BENCH_CPU_PROFILE ?? '';
const inspector = PROFILE_DIR ? new Session() : undefined;
async function profile<T>(name: string, fn: () => Promise<T>): Promise<T> {
  if (!inspector) return fn();
  inspector.connect();
  await inspector.post('Profiler.enable');
  await inspector.post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile: p } = await inspector.post('Profiler.stop');
    writeFileSync(`${PROFILE_DIR}/${name}.cpuprofile`, JSON.stringify(p));
    inspector.disconnect();
  }
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

async function main(): Promise<void> {
  const mysqlConfig = { innodb_buffer_pool_size: BUFFER_POOL, max_binlog_size: '1G' };
  const t0 = performance.now();
  const c = await startCluster({
    gate: false,
    mysqlConfig,
    keyspaces: [
      { name: 'src', shards: ['0'], schema: SCHEMA },
      { name: 'dst', shards: ['0'] },
    ],
  });
  const dump = await startMariaDB({ innodbBufferPoolSize: BUFFER_POOL, extraConfig: { max_binlog_size: '1G' } });
  const ctx: CtldContext = { topo: c.topo, tmc: new RpcTabletManagerClient(c.topo) };
  const srcAddr = await c.mysqlAddress(c.shard('src', '0').primary);
  const src = await Client.connect({ host: srcAddr.host, port: srcAddr.port, user: 'vt_dba', database: 'vt_src' });
  const other = await Client.connect({ host: dump.host, port: dump.port, user: 'vt_dba' });
  const run = (name: string, req: JsonObject) => WORKFLOW_COMMANDS[name].run(ctx, req);
  const srcPid = () => c.shard('src', '0').primary.mysqlctl?.runningPid();
  const dstPid = () => c.shard('dst', '0').primary.mysqlctl?.runningPid();
  // CPU seconds of this process and of the source, target and third MariaDB since `mark()`.
  const cpu = () => [nodeCpu(), procCpu(srcPid()), procCpu(dstPid()), procCpu(dump.pid())];
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
    const target = c.shard('dst', '0').primary;
    const engine = target.manager.vreplication!;
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
        const [s] = await engine.read('bench');
        if (s?.record.state === 'Error') throw new Error(`stream in Error: ${s.record.message}`);
        if (s?.record.state === 'Stopped') return s.record.id;
        await new Promise((r) => setTimeout(r, 50));
      }
    });
    const copyMs = performance.now() - t;
    const copyCpu = since(m);
    const copied = await c.shardRows('dst', '0', 'SELECT COUNT(*) AS n FROM customer');
    if (Number(copied[0].n) !== ROWS) throw new Error(`the copy left ${String(copied[0].n)} rows, expected ${ROWS}`);

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
    const [stopped] = await engine.read('bench');
    const from = GtidPosition.parse(stopped.record.pos).gtidList();
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
    m = cpu();
    await profile('catchup', async () => {
      await run('Workflow', { action: 'start', keyspace: 'dst', workflow: 'bench' });
      await engine.waitForPos(id, `MariaDB/${to}`, 3_600_000);
    });
    const streamMs = performance.now() - t;
    const streamCpu = since(m);

    t = performance.now();
    m = cpu();
    await other.query('START SLAVE');
    const w = await other.query(`SELECT MASTER_GTID_WAIT('${to}', 3600)`);
    const replicaMs = performance.now() - t;
    const replicaCpu = since(m);
    if (Number(w.rows[0][0]) !== 0) throw new Error('the replica did not reach the source position');
    for (const [who, rows] of [
      ['stream', await c.shardRows('dst', '0', "SELECT COUNT(*) AS n FROM customer WHERE status = 'updated'")],
      ['replica', (await other.query("SELECT COUNT(*) AS n FROM vt_src.customer WHERE status = 'updated'")).rows.map((r) => ({ n: r[0] }))],
    ] as const) {
      if (Number(rows[0].n) !== ROWS) throw new Error(`${who}: ${String(rows[0].n)} rows updated, expected ${ROWS}`);
    }

    // ---- the table -----------------------------------------------------------------------------
    // CPU: node = this process (both tablets' Tessera side), src/dst/3rd = the MariaDB servers,
    // tools = mariadb-dump and mariadb.
    const cpuCols = (x: number[], tools = 0) => {
      const parts = [['node', x[0]], ['src', x[1]], ['dst', x[2]], ['3rd', x[3]], ['tools', tools]] as const;
      const total = x.reduce((a, b) => a + b, 0) + tools;
      return `  cpu ${total.toFixed(1).padStart(5)} s (${parts.filter(([, v]) => v >= 0.05).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')})`;
    };
    const rate = (ms: number) => `${fmt((ROWS / ms) * 1000).padStart(9)} rows/s ${((bytes / 1e6 / ms) * 1000).toFixed(1).padStart(6)} MB/s ${(ms / 1000).toFixed(1).padStart(7)} s`;
    log('');
    log(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, load average ${os.loadavg()[0].toFixed(1)} at the end (other work shares it); ${process.version}; MariaDB buffer pool ${BUFFER_POOL} each, sync_binlog=1, flush_log_at_trx_commit=1`);
    log("the tablets run in this process (node): the source's binlog reading and encoding and the target's apply share one thread; cpu = CPU seconds used during the phase");
    log(`rows: ${fmt(ROWS)} (${Math.round(bytes / ROWS)} bytes of values each)`);
    log('');
    log(`copy      Materialize (tablet -> tablet)       ${rate(copyMs)}${cpuCols(copyCpu)}`);
    log(`          mariadb-dump | mariadb               ${rate(dumpMs)}${cpuCols(dumpCpu, dumpToolsCpu)}`);
    log(`          ratio                                ${(dumpMs / copyMs).toFixed(2)}x (goal >= 0.5x)`);
    log(`catch-up  stream, stopped then started         ${rate(streamMs)}${cpuCols(streamCpu)}`);
    log(`          MariaDB replica (MASTER_USE_GTID)    ${rate(replicaMs)}${cpuCols(replicaCpu)}`);
    log(`          ratio                                ${(replicaMs / streamMs).toFixed(2)}x (goal >= 0.5x)`);
  } finally {
    src.close();
    await other.query('STOP SLAVE').catch(() => undefined);
    other.close();
    ctx.tmc.close();
    await dump.stop();
    await c.stop();
  }
}

await main();
