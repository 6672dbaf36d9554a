// VDiff throughput against MariaDB's own CHECKSUM TABLE, in one run on the same generated rows:
//
//   CHECKSUM TABLE   run on the source's MariaDB, then on the target's: the rows of both sides
//                    over the sum of the two times (what a user would do by hand, minus comparing
//                    row by row when the two numbers differ)
//   VDiff            a clean diff of the same table, from create to completed, with chunk
//                    checksums (the default) and with --chunk-checksum=false (every row streamed
//                    from the source tablet and compared in the target tablet)
//
// Rows per second for each, and VDiff's ratio to CHECKSUM TABLE (goal: at least 0.5× with chunk
// checksums). Also the CPU seconds each used in both MariaDBs and this process (which runs the
// tablets): VDiff's wall time gains from the two sides' MariaDBs working at once only when the
// machine has a core free for each, so on a busy machine the CPU ratio is the steadier figure. A MoveTables workflow between two tablets (running inside this process, the cluster
// harness) holds the table; the rows are written on both sides with sql_log_bin=0 once its streams
// run, so they are equal without a copy. Every MariaDB runs with the same my.cnf and buffer pool;
// a warm-up CHECKSUM TABLE on each side reads the table once before anything is timed.
//
//   npx tsc -p tsconfig.json && BENCH_ROWS=1000000 node dist/bench/vdiff-bench.js
//
// BENCH_ROWS (1,000,000), BENCH_BUFFER_POOL (512M, each MariaDB), BENCH_CHUNK_ROWS (rows per
// checksum range, the engine's checksumChunkRowsMax), BENCH_CPU_PROFILE=dir (a CPU profile of this
// process per VDiff run). TESSERA_LOG_LEVEL=warn keeps the tablets' logs out.
import { readFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { performance } from 'node:perf_hooks';
import { Client } from '../src/mysql/client.js';
import { WORKFLOW_COMMANDS } from '../src/ctld/workflow-commands.js';
import { VDIFF_COMMANDS } from '../src/ctld/vdiff-commands.js';
import type { CtldContext } from '../src/ctld/command.js';
import { RpcTabletManagerClient } from '../src/tablet/index.js';
import type { JsonObject } from '../src/topo/index.js';
import { startCluster } from '../test/harness/cluster.js';
import { CUSTOMER_BENCH_SCHEMA, fmt, log, profileInProcess } from './bench-util.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const BUFFER_POOL = process.env.BENCH_BUFFER_POOL ?? '512M';
const INSERT_CHUNK = 50_000;

const SCHEMA = CUSTOMER_BENCH_SCHEMA;

const PROFILE_DIR = process.env.BENCH_CPU_PROFILE ?? '';
const inspector = PROFILE_DIR ? new Session() : undefined;
async function profile<T>(name: string, fn: () => Promise<T>): Promise<T> {
  return profileInProcess(inspector, PROFILE_DIR, name, fn);
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const c = await startCluster({
    gate: false,
    mysqlConfig: { innodb_buffer_pool_size: BUFFER_POOL },
    keyspaces: [
      { name: 'src', shards: ['0'], schema: SCHEMA, vschema: { tables: { customer: {} } } },
      { name: 'dst', shards: ['0'] },
    ],
  });
  const ctx: CtldContext = { topo: c.topo, tmc: new RpcTabletManagerClient(c.topo) };
  const run = (name: string, req: JsonObject) => (VDIFF_COMMANDS[name] ?? WORKFLOW_COMMANDS[name]).run(ctx, req);
  const connect = async (ks: string) => {
    const a = await c.mysqlAddress(c.shard(ks, '0').primary);
    return Client.connect({ host: a.host, port: a.port, user: 'vt_dba', database: `vt_${ks}` });
  };
  try {
    await run('MoveTables', { action: 'create', workflow: 'bench', target_keyspace: 'dst', source_keyspace: 'src', tables: 'customer', tablet_types: ['primary'] });
    for (;;) {
      const st = (await run('Workflow', { action: 'status', keyspace: 'dst', workflow: 'bench', format: 'json' })) as { table_copy_state: object; shard_streams: Record<string, { streams: { status: string }[] }> };
      const streams = Object.values(st.shard_streams).flatMap((s) => s.streams);
      if (Object.keys(st.table_copy_state).length === 0 && streams.length === 1 && streams[0].status === 'Running') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // ---- the rows, equal on both sides --------------------------------------------------------
    const sides = { source: await connect('src'), target: await connect('dst') };
    await Promise.all(
      Object.values(sides).map(async (cl) => {
        await cl.query('SET SESSION sql_log_bin = 0');
        for (let lo = 1; lo <= ROWS; lo += INSERT_CHUNK) {
          const hi = Math.min(ROWS, lo + INSERT_CHUNK - 1);
          await cl.query(
            'INSERT INTO customer SELECT seq, CONCAT(\'customer-\', seq, \'@example.com\'), CONCAT(\'Näme \', seq * 7919 % 100003), ' +
              "seq * 37 % 1000000 / 100, '2024-02-29 12:34:56.123456' + INTERVAL seq SECOND, ELT(1 + seq % 3, 'active', 'dormant', 'closed'), " +
              `IF(seq % 10 = 0, NULL, CONCAT(UNHEX(SHA2(seq, 256)), UNHEX(SHA2(seq + 1, 256)), UNHEX(SHA2(seq + 2, 256)), UNHEX(SHA2(seq + 3, 256)))) FROM seq_${lo}_to_${hi}`,
          );
        }
      }),
    );
    const sz = await sides.source.query('SELECT SUM(8 + LENGTH(email) + IFNULL(LENGTH(name), 0) + 6 + 8 + LENGTH(status) + IFNULL(LENGTH(note), 0)) FROM customer');
    const bytes = Number(sz.rows[0][0]);
    log(`${fmt(ROWS)} rows, ${(bytes / 1e6).toFixed(1)} MB of values (${Math.round(bytes / ROWS)} bytes/row) on each side, generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    // CPU seconds of both MariaDBs and of this process (the tablets run here): on a busy machine
    // the steadier figure, since wall time depends on what else runs.
    const pids = ['src', 'dst'].map((ks) => c.shard(ks, '0').primary.mysqlctl?.runningPid() ?? null).filter((p): p is number => p !== null);
    const cpu = (): number => {
      let ticks = 0;
      for (const pid of pids) {
        const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
        ticks += Number(f[11]) + Number(f[12]);
      }
      const u = process.cpuUsage();
      return ticks / 100 + (u.user + u.system) / 1e6;
    };

    // ---- CHECKSUM TABLE on the source, then on the target -------------------------------------
    const checksum = async (cl: Client) => String((await cl.query('CHECKSUM TABLE customer')).rows[0][1]);
    await checksum(sides.source);
    await checksum(sides.target);
    let cpu0 = cpu();
    let t = performance.now();
    const a = await checksum(sides.source);
    const srcMs = performance.now() - t;
    t = performance.now();
    const b = await checksum(sides.target);
    const dstMs = performance.now() - t;
    if (a !== b) throw new Error(`CHECKSUM TABLE differs: source ${a}, target ${b}`);
    const checksumMs = srcMs + dstMs;
    const checksumCpu = cpu() - cpu0;

    // ---- VDiff ------------------------------------------------------------------------------
    const engine = c.shard('dst', '0').primary.manager.vdiff!;
    if (process.env.BENCH_CHUNK_ROWS) engine.limits.checksumChunkRowsMax = Number(process.env.BENCH_CHUNK_ROWS);
    const store = engine.store;
    const cpuOf: Record<string, number> = {};
    const vdiff = async (name: string, chunkChecksum: boolean): Promise<number> => {
      return profile(name, async () => {
        cpu0 = cpu();
        const start = performance.now();
        const { UUID } = (await run('VDiff', { action: 'create', workflow: 'bench', target_keyspace: 'dst', format: 'json', chunk_checksum: chunkChecksum })) as { UUID: string };
        for (;;) {
          const [v] = await store.read({ uuid: UUID });
          if (v?.state === 'error') throw new Error(`VDiff ${name} in error: ${v.lastError}`);
          if (v?.state === 'completed') break;
          await new Promise((r) => setTimeout(r, 20));
        }
        const ms = performance.now() - start;
        cpuOf[name] = cpu() - cpu0;
        const s = (await run('VDiff', { action: 'show', workflow: 'bench', target_keyspace: 'dst', format: 'json', uuid: UUID })) as { RowsCompared: number; HasMismatch: boolean };
        if (s.HasMismatch || s.RowsCompared !== ROWS) throw new Error(`VDiff ${name}: ${s.RowsCompared} rows compared, HasMismatch ${s.HasMismatch}; expected ${ROWS} and false`);
        return ms;
      });
    };
    const withChunks = await vdiff('vdiff-chunk-checksum', true);
    const streamed = await vdiff('vdiff-streamed', false);

    const rps = (ms: number) => ROWS / (ms / 1000);
    const ref = rps(checksumMs);
    log('');
    const cpuText = (sec: number) => `CPU ${sec.toFixed(2)} s (${(checksumCpu / sec).toFixed(2)}×)`;
    log(`CHECKSUM TABLE, source then target     ${(checksumMs / 1000).toFixed(2).padStart(8)} s  ${fmt(ref).padStart(12)} rows/s   (source ${(srcMs / 1000).toFixed(2)} s, target ${(dstMs / 1000).toFixed(2)} s)   CPU ${checksumCpu.toFixed(2)} s`);
    log(`VDiff with chunk checksums              ${(withChunks / 1000).toFixed(2).padStart(8)} s  ${fmt(rps(withChunks)).padStart(12)} rows/s   ${(rps(withChunks) / ref).toFixed(2)}× CHECKSUM TABLE (goal ≥ 0.5×)   ${cpuText(cpuOf['vdiff-chunk-checksum'])}`);
    log(`VDiff streaming every row               ${(streamed / 1000).toFixed(2).padStart(8)} s  ${fmt(rps(streamed)).padStart(12)} rows/s   ${(rps(streamed) / ref).toFixed(2)}× CHECKSUM TABLE   ${cpuText(cpuOf['vdiff-streamed'])}`);
    log('(CPU: both MariaDBs and this process, which runs the tablets; the ratio is CHECKSUM TABLE\'s CPU over the VDiff\'s — steadier than wall time on a busy machine)');
    for (const cl of Object.values(sides)) cl.close();
  } finally {
    ctx.tmc.close();
    await c.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
