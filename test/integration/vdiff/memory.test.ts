// VDiff in bounded memory: a table of 500,000 rows of about 2 KB (a GB a side) compared by `tessera
// tablet` processes whose heap is limited to 256 MB (NODE_OPTIONS=--max-old-space-size=256, on
// the target and on the source tablet), with chunk checksums, without them (every row streamed),
// and on a copy where every row differs with --max-report-sample-rows 0 (every differing row
// recorded). Each run completes with the tablets still the processes that started (a heap over
// its limit kills a Node process), and prints the peak resident memory of both tablets.
//
// The rows are written on both sides with sql_log_bin=0 after the workflow is running, so the test
// spends its time in the diff, not in copying a GB through VReplication. A slow test: it runs
// alone (VDIFF_MEMORY_ROWS changes the size).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { WORKFLOW_COMMANDS } from '../../../src/ctld/workflow-commands.js';
import { VDIFF_COMMANDS } from '../../../src/ctld/vdiff-commands.js';
import type { CtldContext } from '../../../src/ctld/command.js';
import { RpcTabletManagerClient } from '../../../src/tablet/index.js';
import { openTopoServer, type Json, type JsonObject, type TopoServer } from '../../../src/topo/index.js';
import { testRoot } from '../../harness/processes.js';
import { TabletChild } from '../../harness/tablet-child.js';
import { waitFor } from '../../harness/wait.js';

const ROWS = Number(process.env.VDIFF_MEMORY_ROWS || 500_000);
const HEAP = { NODE_OPTIONS: '--max-old-space-size=256' };
const TABLE = (name: string) => `CREATE TABLE ${name} (id bigint NOT NULL, n int NOT NULL, pad varchar(2000) NOT NULL, PRIMARY KEY (id))`;
/** Rows per INSERT … SELECT of the generation. */
const GEN_ROWS = 50_000;

type Summary = { State: string; RowsCompared: number; HasMismatch: boolean };

/** Resident memory of a process now and at its peak (kB, from /proc). */
function rss(pid: number): { now: number; peak: number } {
  const st = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(st)?.[1] ?? 0);
  return { now: kb('VmRSS'), peak: kb('VmHWM') };
}

describe('VDiff memory stays bounded', { timeout: 3_600_000 }, () => {
  const root = testRoot();
  const topoDir = path.join(root, 'topo');
  const src = new TabletChild({ uid: 100, keyspace: 'commerce', shard: '0', type: 'primary', root, topoDir, env: HEAP });
  const dst = new TabletChild({ uid: 200, keyspace: 'customer', shard: '0', type: 'primary', root, topoDir, env: HEAP });
  let topo: TopoServer;
  let tmc: RpcTabletManagerClient;
  let ctx: CtldContext;
  const run = (name: string, req: JsonObject): Promise<Json> => (VDIFF_COMMANDS[name] ?? WORKFLOW_COMMANDS[name]).run(ctx, req);
  const vd = (action: string, extra: JsonObject = {}) => run('VDiff', { action, workflow: 'wide', target_keyspace: 'customer', format: 'json', ...extra });

  before(async () => {
    topo = openTopoServer({ topoImplementation: 'file', topoGlobalServerAddress: topoDir, topoGlobalRoot: '/tessera/global' });
    await Promise.all([src.start(), dst.start()]);
    tmc = new RpcTabletManagerClient(topo);
    ctx = { topo, tmc };
    for (const t of ['wide', 'wide_copy']) await tmc.applySchema(src.alias, { sql: TABLE(t) });
    await topo.saveVSchema('commerce', { tables: { wide: {}, wide_copy: {} } });
    for (const ks of ['commerce', 'customer']) await topo.rebuildKeyspaceGraph(ks, { cells: ['zone1'] });
    await topo.rebuildVSchemaGraph({ cells: ['zone1'] });
    for (const t of [src, dst]) await tmc.refreshState(t.alias, {});
    await run('MoveTables', { action: 'create', workflow: 'wide', target_keyspace: 'customer', source_keyspace: 'commerce', tables: 'wide,wide_copy', format: 'json' });
    await waitFor('the (empty) copy to finish', async () => {
      const st = (await run('Workflow', { action: 'status', keyspace: 'customer', workflow: 'wide', format: 'json' })) as { table_copy_state: object; shard_streams: Record<string, { streams: { status: string }[] }> };
      const streams = Object.values(st.shard_streams).flatMap((s) => s.streams);
      return Object.keys(st.table_copy_state).length === 0 && streams.length === 1 && streams.every((s) => s.status === 'Running');
    }, 120_000);
    // The same rows on both sides, outside the binlog; on the target's wide_copy every n differs.
    const t0 = Date.now();
    await Promise.all(
      [
        [src, 'vt_commerce', 0],
        [dst, 'vt_customer', 1],
      ].map(async ([tablet, db, shift]) => {
        const c = await (tablet as TabletChild).dba(db as string);
        try {
          await c.query('SET SESSION sql_log_bin = 0');
          for (let a = 1; a <= ROWS; a += GEN_ROWS) {
            const b = Math.min(ROWS, a + GEN_ROWS - 1);
            await c.query(`INSERT INTO wide SELECT seq, seq % 1000, REPEAT(CHAR(65 + seq % 26), 2000) FROM seq_${a}_to_${b}`);
            await c.query(`INSERT INTO wide_copy SELECT seq, seq % 1000 + ${shift as number}, REPEAT(CHAR(65 + seq % 26), 2000) FROM seq_${a}_to_${b}`);
          }
        } finally {
          await c.end();
        }
      }),
    );
    console.log(`generated 2 × ${ROWS} rows of about 2 KB on each side in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });

  after(async () => {
    tmc?.close();
    await Promise.all([src, dst].map((t) => t.stop().catch(() => undefined)));
    await topo?.close();
  });

  /** The VDiff's state and one table's counts, read on the target (no report rows moved). */
  const progressOf = async (uuid: string, table: string) => {
    const c = await dst.dba();
    try {
      const [rows] = await c.query(
        `SELECT v.state, v.last_error, t.report FROM _vt.vdiff v JOIN _vt.vdiff_table t ON t.vdiff_id = v.id WHERE v.vdiff_uuid = ? AND t.table_name = ?`,
        [uuid, table],
      );
      const r = (rows as { state: unknown; last_error: unknown; report: unknown }[])[0];
      // mysql2 hands a JSON column over parsed.
      const report = typeof r.report === 'string' ? JSON.parse(r.report) : r.report;
      // The sidecar's text columns are binary strings: mysql2 hands them over as Buffers.
      return { state: String(r.state), lastError: String(r.last_error), counts: report as { ProcessedRows: number; MismatchedRows: number; ExtraRowsSource: number; ExtraRowsTarget: number } };
    } finally {
      await c.end();
    }
  };

  /** Runs one VDiff to its end, sampling both tablets' memory; prints the peaks. */
  const measured = async (what: string, req: JsonObject & { tables: string }): Promise<{ uuid: string; counts: Awaited<ReturnType<typeof progressOf>>['counts'] }> => {
    const pids = { target: dst.pid!, source: src.pid! };
    const peak = { target: 0, source: 0 };
    const sample = () => {
      for (const k of ['target', 'source'] as const) peak[k] = Math.max(peak[k], rss(pids[k]).now);
    };
    const timer = setInterval(sample, 100);
    const t0 = Date.now();
    let p: Awaited<ReturnType<typeof progressOf>> | undefined;
    let uuid = '';
    try {
      uuid = ((await vd('create', req)) as { UUID: string }).UUID;
      await waitFor(`VDiff ${what} to complete`, async () => {
        for (const [name, t] of [['target', dst], ['source', src]] as const) {
          if (!t.running) throw new Error(`the ${name} tablet exited mid-diff:\n${t.output().slice(-4000)}`);
        }
        p = await progressOf(uuid, req.tables);
        if (p.state === 'error') throw new Error(`VDiff in error: ${p.lastError}`);
        return p.state === 'completed';
      }, 1_800_000);
    } finally {
      clearInterval(timer);
    }
    sample();
    const secs = (Date.now() - t0) / 1000;
    const mb = (kb: number) => (kb / 1024).toFixed(0);
    console.log(
      `VDiff ${what}: ${p!.counts.ProcessedRows} rows in ${secs.toFixed(1)} s (${Math.round(p!.counts.ProcessedRows / secs)} rows/s); ` +
        `peak resident memory: target tablet ${mb(peak.target)} MB (VmHWM ${mb(rss(pids.target).peak)} MB), source tablet ${mb(peak.source)} MB (VmHWM ${mb(rss(pids.source).peak)} MB), heap limit 256 MB`,
    );
    // The same processes: a heap over its limit would have ended them.
    assert.ok(dst.running && src.running, 'both tablets still run');
    assert.equal(dst.pid, pids.target);
    assert.equal(src.pid, pids.source);
    assert.equal(dst.starts, 1);
    return { uuid, counts: p!.counts };
  };

  it('compares the table with chunk checksums', async () => {
    const { uuid } = await measured('with chunk checksums', { tables: 'wide' });
    const s = (await vd('show', { uuid })) as unknown as Summary;
    assert.deepEqual([s.State, s.HasMismatch, s.RowsCompared], ['completed', false, ROWS]);
  });

  it('compares the table streaming every row (--chunk-checksum=false)', async () => {
    const { uuid } = await measured('streaming every row', { tables: 'wide', chunk_checksum: false });
    const s = (await vd('show', { uuid })) as unknown as Summary;
    assert.deepEqual([s.State, s.HasMismatch, s.RowsCompared], ['completed', false, ROWS]);
  });

  it('records every row of a copy where every row differs (--max-report-sample-rows 0)', async () => {
    const { counts } = await measured('of a copy with every row differing', { tables: 'wide_copy', max_report_sample_rows: 0 });
    assert.deepEqual([counts.ProcessedRows, counts.MismatchedRows, counts.ExtraRowsSource, counts.ExtraRowsTarget], [ROWS, ROWS, 0, 0]);
    const c = await dst.dba();
    try {
      const [rows] = await c.query("SELECT COUNT(*) AS n FROM _vt.vdiff_row WHERE table_name = 'wide_copy' AND kind = 'MismatchedRows'");
      assert.equal(Number((rows as { n: number }[])[0].n), ROWS);
    } finally {
      await c.end();
    }
  });
});
