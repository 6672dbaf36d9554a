// Reshard throughput and its write pause, against MariaDB's own tools, in one run on the same rows:
//
//   copy         Reshard customer/0 -> -80,80- (create to the end of the copy: every row read
//                once from shard 0 and written to the shard its hash names)  vs
//                `mariadb-dump --single-transaction | mariadb` of the same table into one fresh
//                MariaDB server
//   write pause  switchtraffic of the primary: how long writes are refused (reported by the
//                switch itself, from the write stop to the flip)
//
//   npx tsc -p tsconfig.json && BENCH_ROWS=1000000 node dist/bench/reshard-bench.js
//
// BENCH_ROWS (1,000,000), BENCH_BUFFER_POOL (512M each), BENCH_TABLETS (inprocess: the tablets
// inside this process; process: each tablet its own `tessera tablet` process, as deployed), BENCH_OVERRIDES (the workflow's
// --config-overrides, e.g. vstream-packet-size-rows=5000,vstream-packet-size=1000000; none by default). Every MariaDB runs mysqlctl's my.cnf
// (sync_binlog=1, innodb_flush_log_at_trx_commit=1); the tablets run inside this process.
// BENCH_CPU_PROFILE=dir (in-process tablets): a CPU profile of the copy alone, dir/reshard-copy.cpuprofile,
// with dir/reshard-copy.json (rows and this process's CPU) so `profile-summary` prints µs per row.
import { Session } from 'node:inspector/promises';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { WORKFLOW_COMMANDS } from '../src/ctld/workflow-commands.js';
import type { CtldContext } from '../src/ctld/command.js';
import { Client } from '../src/mysql/client.js';
import { RpcTabletManagerClient, type TabletProcess } from '../src/tablet/index.js';
import type { JsonObject } from '../src/topo/index.js';
import { startCluster } from '../test/harness/cluster.js';
import { startMariaDB } from '../test/harness/mariadb.js';
import { startTestTablet } from '../test/harness/tablet.js';
import { startChild, type Child } from '../test/harness/child.js';
import { freePort, processesUnder, testRoot, track } from '../test/harness/processes.js';
import { Mysqlctl } from '../src/mysqlctl/index.js';
import { openTopoServer } from '../src/topo/index.js';
import { fmt, log, RESHARD_BENCH_SCHEMA, sh } from './bench-util.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const BUFFER_POOL = process.env.BENCH_BUFFER_POOL ?? '512M';
const INSERT_CHUNK = 10_000;
/** `inprocess`: the harness's tablets inside this process; `process`: each tablet a `tessera tablet` process. */
const TABLETS = process.env.BENCH_TABLETS === 'process' ? 'process' : 'inprocess';
const OVERRIDES = (process.env.BENCH_OVERRIDES ?? '').split(',').filter((x) => x !== '');
const PROFILE_DIR = process.env.BENCH_CPU_PROFILE ?? '';

const SCHEMA = RESHARD_BENCH_SCHEMA;
const VSCHEMA = { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { customer: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] } } };

/** What the copy needs of a cluster, whichever way its tablets run. */
interface Setup {
  readonly ctx: CtldContext;
  readonly srcAddr: { host: string; port: number };
  /** Rows of customer on the two target shards. */
  targetRows(): Promise<number>;
  /** CPU seconds of the Tessera side so far (this process, or the tablet processes). */
  cpuMs(): number;
  readonly tablets: string;
  /** The source tablet's shared copy scans (shared-scan.ts), when it runs in this process. */
  sharedScans(): string;
  stop(): Promise<void>;
}

/** The tablets inside this process (the harness's cluster). */
async function inProcess(): Promise<Setup> {
  const mysqlConfig = { innodb_buffer_pool_size: BUFFER_POOL };
  const c = await startCluster({ gate: false, mysqlConfig, keyspaces: [{ name: 'customer', shards: ['0'], schema: SCHEMA, vschema: VSCHEMA }] });
  const targets: TabletProcess[] = await Promise.all(['-80', '80-'].map((shard) => startTestTablet({ cell: c.cell, keyspace: 'customer', shard, tabletType: 'primary', topo: c.topo, mysqlExtraConfig: mysqlConfig })));
  const ctx: CtldContext = { topo: c.topo, tmc: new RpcTabletManagerClient(c.topo) };
  return {
    ctx,
    srcAddr: await c.mysqlAddress(c.shard('customer', '0').primary),
    tablets: 'in this process',
    sharedScans() {
      const n = c.shard('customer', '0').primary.vstreamer.sharedScans;
      return `${n.scans} shared copy scans on the source, serving ${n.subscribers} calls (${n.cut} cut for lagging)`;
    },
    async targetRows() {
      let n = 0;
      for (const tt of targets) n += Number((await tt.manager.executeFetchAsDba('SELECT COUNT(*) FROM customer')).rows[0][0]);
      return n;
    },
    cpuMs() {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    },
    async stop() {
      ctx.tmc.close();
      await Promise.all(targets.map((tt) => tt.stop({ stopMysql: true })));
      await c.stop();
    },
  };
}

/** CPU of a process in ms (utime + stime from /proc), 0 once it is gone. */
function procCpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // fields 14 and 15, in clock ticks (100 Hz)
  } catch {
    return 0;
  }
}

/** CPU ms of every MariaDB server this run started (they live under its test root). */
function mariadbCpuMs(): number {
  return processesUnder(testRoot()).filter((p) => /mariadbd|mysqld/.test(p.cmd)).reduce((n, p) => n + procCpuMs(p.pid), 0);
}

/** Each tablet its own `tessera tablet` process on a file topology, as a deployment runs them. */
async function childProcesses(): Promise<Setup> {
  const root = path.join(testRoot(), 'reshard-bench');
  const topoDir = path.join(root, 'topo');
  mkdirSync(topoDir, { recursive: true });
  const topo = openTopoServer({ topoImplementation: 'file', topoGlobalServerAddress: topoDir, topoGlobalRoot: '/tessera/global' });
  const tablets: { uid: number; shard: string; ctl: Mysqlctl; child?: Child }[] = [
    { uid: 200, shard: '0' },
    { uid: 201, shard: '-80' },
    { uid: 202, shard: '80-' },
  ].map((x) => ({ ...x, ctl: undefined as unknown as Mysqlctl }));
  // Each MariaDB first, with the bench's buffer pool; the tablet adopts it.
  await Promise.all(tablets.map(async (t) => {
    t.ctl = new Mysqlctl({ tabletUid: t.uid, mysqlPort: await freePort(), dataRoot: root, innodbBufferPoolSize: BUFFER_POOL });
    track(() => {
      const pid = t.ctl.runningPid();
      if (pid) process.kill(pid, 'SIGKILL');
    });
    await t.ctl.init();
  }));
  for (const t of tablets) {
    t.child = startChild([
      'tablet', '--tablet-path', `zone1-${t.uid}`, '--init-keyspace', 'customer', '--init-shard', t.shard, '--init-tablet-type', 'primary',
      '--topo-implementation', 'file', '--topo-global-server-address', topoDir, '--data-root', root,
      '--mysql-port', String(t.ctl.mysqlPort), '--grpc-port', String(await freePort()), '--port', String(await freePort()),
    ]);
    await t.child.waitFor(/^tablet \S+ serving=(true|false) rpc=\d+/m, 120_000);
  }
  const tmc = new RpcTabletManagerClient(topo);
  await tmc.applySchema({ cell: 'zone1', uid: 200 }, { sql: SCHEMA });
  await topo.saveVSchema('customer', VSCHEMA);
  await topo.rebuildKeyspaceGraph('customer', { cells: ['zone1'] });
  await topo.rebuildVSchemaGraph({ cells: ['zone1'] });
  for (const t of tablets) await tmc.refreshState({ cell: 'zone1', uid: t.uid }, {});
  const count = async (t: (typeof tablets)[number]) => {
    const c = await Client.connect({ socketPath: t.ctl.socket, user: 'vt_dba', database: 'vt_customer' });
    try {
      return Number((await c.query('SELECT COUNT(*) FROM customer')).rows[0][0]);
    } finally {
      c.close();
    }
  };
  return {
    ctx: { topo, tmc },
    srcAddr: { host: '127.0.0.1', port: tablets[0].ctl.mysqlPort },
    tablets: 'each its own process',
    sharedScans: () => 'shared copy scans: see the source tablet\'s /debug/status',
    async targetRows() {
      return (await count(tablets[1])) + (await count(tablets[2]));
    },
    cpuMs: () => tablets.reduce((n, t) => n + procCpuMs(t.child?.proc.pid), 0),
    async stop() {
      tmc.close();
      for (const t of tablets) await t.child?.kill('SIGTERM');
      await Promise.all(tablets.map((t) => t.ctl.teardown().catch(() => undefined)));
      await topo.close();
    },
  };
}

async function main(): Promise<void> {
  const setup = TABLETS === 'process' ? await childProcesses() : await inProcess();
  const fresh = await startMariaDB({ innodbBufferPoolSize: BUFFER_POOL });
  const ctx = setup.ctx;
  const run = (name: string, req: JsonObject) => WORKFLOW_COMMANDS[name].run(ctx, req);
  const srcAddr = setup.srcAddr;
  const src = await Client.connect({ host: srcAddr.host, port: srcAddr.port, user: 'vt_dba', database: 'vt_customer' });
  const other = await Client.connect({ host: fresh.host, port: fresh.port, user: 'vt_dba' });
  try {
    let t = performance.now();
    for (let lo = 1; lo <= ROWS; lo += INSERT_CHUNK) {
      const hi = Math.min(ROWS, lo + INSERT_CHUNK - 1);
      await src.query(
        "INSERT INTO customer SELECT seq, CONCAT('customer-', seq, '@example.com'), CONCAT('name ', seq * 7919 % 100003), seq * 37 % 1000000 / 100, " +
          `'2024-02-29 12:34:56.123456' + INTERVAL seq SECOND FROM seq_${lo}_to_${hi}`,
      );
    }
    log(`${fmt(ROWS)} rows generated on customer/0 in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    // ---- Reshard: create to the end of the copy ------------------------------------------------
    const inspector = PROFILE_DIR ? new Session() : undefined;
    if (inspector) {
      inspector.connect();
      await inspector.post('Profiler.enable');
      await inspector.post('Profiler.start');
    }
    t = performance.now();
    const cpu0 = setup.cpuMs();
    const db0 = mariadbCpuMs();
    await run('Reshard', { action: 'create', workflow: 'bench', target_keyspace: 'customer', source_shards: ['0'], target_shards: ['-80', '80-'], tablet_types: ['primary'], config_overrides: OVERRIDES });
    const createMs = performance.now() - t;
    let firstRowMs: number | undefined;
    for (;;) {
      const st = (await run('Reshard', { action: 'status', workflow: 'bench', target_keyspace: 'customer', format: 'json' })) as {
        table_copy_state: Record<string, unknown>;
        shard_streams: Record<string, { streams: { status: string; info: string }[] }>;
      };
      const streams = Object.values(st.shard_streams).flatMap((s) => s.streams);
      const failed = streams.find((s) => s.status === 'Error');
      if (failed) throw new Error(`stream in Error: ${failed.info}`);
      if (streams.length === 2 && Object.keys(st.table_copy_state).length === 0 && streams.every((s) => s.status === 'Running')) break;
      if (firstRowMs === undefined) {
        if ((await setup.targetRows()) > 0) firstRowMs = performance.now() - t;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const reshardMs = performance.now() - t;
    // The tablets' CPU over the copy: the copy's cost on the Tessera side, a figure the machine's
    // load changes far less than the wall time.
    const cpuMs = setup.cpuMs() - cpu0;
    const dbCpuMs = mariadbCpuMs() - db0;
    if (inspector) {
      const { profile } = await inspector.post('Profiler.stop');
      mkdirSync(PROFILE_DIR, { recursive: true });
      writeFileSync(path.join(PROFILE_DIR, 'reshard-copy.cpuprofile'), JSON.stringify(profile));
      writeFileSync(path.join(PROFILE_DIR, 'reshard-copy.json'), JSON.stringify({ queries: ROWS, cpuUs: cpuMs * 1000 }));
      inspector.disconnect();
    }
    const copied = await setup.targetRows();
    if (copied !== ROWS) throw new Error(`the reshard left ${copied} rows, expected ${ROWS}`);

    // ---- mariadb-dump | mariadb into one fresh server -------------------------------------------
    await other.query('CREATE DATABASE vt_customer');
    t = performance.now();
    const dumpDb0 = mariadbCpuMs();
    await sh(`mariadb-dump --single-transaction -h ${srcAddr.host} -P ${srcAddr.port} -u vt_dba vt_customer customer | mariadb -h ${fresh.host} -P ${fresh.port} -u vt_dba vt_customer`);
    const dumpMs = performance.now() - t;
    const dumpDbCpuMs = mariadbCpuMs() - dumpDb0;

    // ---- the write pause of the primary switch --------------------------------------------------
    await run('Reshard', { action: 'switchtraffic', workflow: 'bench', target_keyspace: 'customer', tablet_types: ['rdonly', 'replica'] });
    const sw = (await run('Reshard', { action: 'switchtraffic', workflow: 'bench', target_keyspace: 'customer', tablet_types: ['primary'], format: 'json' })) as { writePauseMs?: number };

    const rate = (ms: number) => `${fmt((ROWS / ms) * 1000).padStart(9)} rows/s ${(ms / 1000).toFixed(1).padStart(7)} s`;
    log('');
    log(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, load average ${os.loadavg()[0].toFixed(1)} at the end (other work shares it); ${process.version}; buffer pool ${BUFFER_POOL} each`);
    log(`tablets: ${setup.tablets} (BENCH_TABLETS=${TABLETS})`);
    log(`rows: ${fmt(ROWS)}${OVERRIDES.length > 0 ? `; workflow config overrides ${OVERRIDES.join(',')}` : ''}`);
    log('');
    log(`copy         Reshard 0 -> -80,80- (create to copied)  ${rate(reshardMs)}`);
    log(`             of which create ${(createMs / 1000).toFixed(1)} s, first row on a target at ${((firstRowMs ?? reshardMs) / 1000).toFixed(1)} s`);
    log(`             CPU over the copy: tablets ${(cpuMs / 1000).toFixed(1)} s (${((cpuMs / ROWS) * 1000).toFixed(0)} µs a row), MariaDB servers ${(dbCpuMs / 1000).toFixed(1)} s`);
    log(`             ${setup.sharedScans()}`);
    log(`             mariadb-dump | mariadb (one server)      ${rate(dumpMs)}`);
    log(`             CPU over the dump: MariaDB servers ${(dumpDbCpuMs / 1000).toFixed(1)} s (mariadb-dump and mariadb themselves not counted)`);
    log(`             ratio                                    ${(dumpMs / reshardMs).toFixed(2)}x (goal >= 0.5x)`);
    log(`write pause  switchtraffic --tablet-types primary     ${sw.writePauseMs ?? '?'} ms`);
  } finally {
    src.close();
    other.close();
    await fresh.stop();
    await setup.stop();
  }
}

await main();
