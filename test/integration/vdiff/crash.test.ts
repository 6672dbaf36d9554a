// kill -9 of the target tablet in the middle of a VDiff: the tablets run as `tessera tablet` child
// processes, so the kill is real (no shutdown runs, the sidecar rows are what the last checkpoint
// committed). Started again on the same MariaDB, the tablet's VDiff engine picks the VDiff up and
// goes on after the last compared key — every row compared exactly once over the two processes —
// with chunk checksums and streaming every row. The target tablet runs with
// --vdiff-compare-rows-per-second so the kill lands mid-diff.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { WORKFLOW_COMMANDS } from '../../../src/ctld/workflow-commands.js';
import { VDIFF_COMMANDS } from '../../../src/ctld/vdiff-commands.js';
import type { CtldContext } from '../../../src/ctld/command.js';
import { RpcTabletManagerClient } from '../../../src/tablet/index.js';
import { openTopoServer, type Json, type JsonObject, type TopoServer } from '../../../src/topo/index.js';
import { testRoot } from '../../harness/processes.js';
import { TabletChild } from '../../harness/tablet-child.js';
import { waitFor } from '../../harness/wait.js';

const ROWS = 200_000;
/** The target tablet compares at most this many rows a second: a diff lasts about 10 s. */
const RATE = 20_000;

type Summary = { State: string; RowsCompared: number; HasMismatch: boolean; Reports?: unknown };

describe('VDiff resumes after kill -9 of the target tablet', { timeout: 900_000 }, () => {
  const root = testRoot();
  const topoDir = path.join(root, 'topo');
  const src = new TabletChild({ uid: 100, keyspace: 'commerce', shard: '0', type: 'primary', root, topoDir });
  const dst = new TabletChild({ uid: 200, keyspace: 'customer', shard: '0', type: 'primary', root, topoDir, extraArgs: ['--vdiff-compare-rows-per-second', String(RATE)] });
  let topo: TopoServer;
  let tmc: RpcTabletManagerClient;
  let ctx: CtldContext;
  const run = (name: string, req: JsonObject): Promise<Json> => (VDIFF_COMMANDS[name] ?? WORKFLOW_COMMANDS[name]).run(ctx, req);
  const vd = (action: string, extra: JsonObject = {}) => run('VDiff', { action, workflow: 'c2t', target_keyspace: 'customer', format: 'json', ...extra });
  const onTarget = async (sql: string, args: unknown[] = []): Promise<Record<string, unknown>[]> => {
    const c = await dst.dba();
    try {
      return (await c.query(sql, args))[0] as Record<string, unknown>[];
    } finally {
      await c.end();
    }
  };

  before(async () => {
    topo = openTopoServer({ topoImplementation: 'file', topoGlobalServerAddress: topoDir, topoGlobalRoot: '/tessera/global' });
    await Promise.all([src.start(), dst.start()]);
    tmc = new RpcTabletManagerClient(topo);
    ctx = { topo, tmc };
    await tmc.applySchema(src.alias, { sql: 'CREATE TABLE item (id bigint NOT NULL, grp int NOT NULL, name varchar(64) NOT NULL, PRIMARY KEY (id))' });
    await topo.saveVSchema('commerce', { tables: { item: {} } });
    for (const ks of ['commerce', 'customer']) await topo.rebuildKeyspaceGraph(ks, { cells: ['zone1'] });
    await topo.rebuildVSchemaGraph({ cells: ['zone1'] });
    for (const t of [src, dst]) await tmc.refreshState(t.alias, {});
    await run('MoveTables', { action: 'create', workflow: 'c2t', target_keyspace: 'customer', source_keyspace: 'commerce', tables: 'item', format: 'json' });
    await waitFor('the (empty) copy to finish', async () => {
      const st = (await run('Workflow', { action: 'status', keyspace: 'customer', workflow: 'c2t', format: 'json' })) as { table_copy_state: object; shard_streams: Record<string, { streams: { status: string }[] }> };
      const streams = Object.values(st.shard_streams).flatMap((s) => s.streams);
      return Object.keys(st.table_copy_state).length === 0 && streams.length === 1 && streams.every((s) => s.status === 'Running');
    }, 120_000);
    // The same rows on both sides, outside the binlog (no copy needed).
    for (const [t, db] of [
      [src, 'vt_commerce'],
      [dst, 'vt_customer'],
    ] as const) {
      const c = await t.dba(db);
      try {
        await c.query('SET SESSION sql_log_bin = 0');
        await c.query(`INSERT INTO item SELECT seq, seq % 97, CONCAT('name', seq) FROM seq_1_to_${ROWS}`);
      } finally {
        await c.end();
      }
    }
  });

  after(async () => {
    tmc?.close();
    await Promise.all([src, dst].map((t) => t.stop().catch(() => undefined)));
    await topo?.close();
  });

  for (const chunk_checksum of [false, true]) {
    it(`goes on from the last compared key (chunk checksums ${chunk_checksum ? 'on' : 'off'})`, async () => {
      const { UUID } = (await vd('create', { chunk_checksum })) as { UUID: string };
      let lastpk = '';
      await waitFor('a last compared key', async () => {
        const r = await onTarget("SELECT t.lastpk FROM _vt.vdiff_table t JOIN _vt.vdiff v ON t.vdiff_id = v.id WHERE v.vdiff_uuid = ? AND t.table_name = 'item'", [UUID]);
        lastpk = String(r[0]?.lastpk ?? '');
        return lastpk !== '';
      }, 120_000);
      const starts = dst.starts;
      await dst.kill9();
      const [mid] = await onTarget('SELECT state FROM _vt.vdiff WHERE vdiff_uuid = ?', [UUID]);
      assert.equal(String(mid.state), 'started', 'the kill must land mid-diff');
      await dst.start();
      assert.equal(dst.starts, starts + 1);
      let s: Summary | undefined;
      await waitFor('the VDiff to complete after the restart', async () => {
        s = (await vd('show', { uuid: UUID })) as unknown as Summary;
        if (s.State === 'error') throw new Error(`VDiff in error: ${JSON.stringify(s)}`);
        return s.State === 'completed';
      }, 300_000);
      assert.equal(s!.HasMismatch, false, JSON.stringify(s!.Reports));
      // Every row compared once over both processes.
      assert.equal(s!.RowsCompared, ROWS);
      const log = (await onTarget('SELECT l.message FROM _vt.vdiff_log l JOIN _vt.vdiff v ON l.vdiff_id = v.id WHERE v.vdiff_uuid = ? ORDER BY l.id', [UUID])).map((r) => String(r.message));
      assert.ok(log.some((m) => m.startsWith('table item: going on after its last compared key')), JSON.stringify(log));
    });
  }
});
