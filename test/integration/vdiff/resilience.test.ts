// A VDiff outlives what happens to the target while it runs: a PlannedReparentShard of the target
// shard mid-diff (the new primary picks the VDiff up from the sidecar rows that replicated to it
// and goes on after the last compared key), and a diff that lasts many times MariaDB's
// max_statement_time on both sides (no statement of it runs for the whole diff), with and without
// chunk checksums. The diffs are paced (compareRowsPerSecondMax) so they last for seconds.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type TestCluster } from '../../harness/cluster.js';
import { WORKFLOW_COMMANDS } from '../../../src/ctld/workflow-commands.js';
import { VDIFF_COMMANDS } from '../../../src/ctld/vdiff-commands.js';
import { CTLD_COMMANDS } from '../../../src/ctld/index.js';
import type { CtldContext } from '../../../src/ctld/command.js';
import { RpcTabletManagerClient, type TabletProcess } from '../../../src/tablet/index.js';
import { tabletAliasString, type Json, type JsonObject } from '../../../src/topo/index.js';
import { waitFor } from '../../harness/wait.js';

const ROWS = 20_000;
const SCHEMA = 'CREATE TABLE item (id bigint NOT NULL, grp int NOT NULL, name varchar(64), PRIMARY KEY (id))';
/** 20,000 rows at 4,000 a second: about 5 s a diff. */
const PACED = { compareRowsPerSecondMax: 4_000, checkpointRowsMax: 500, checksumChunkRowsMax: 500, targetBatchRowsMax: 250, sourceBatchRowsMax: 500 };

type Summary = { State: string; RowsCompared: number; HasMismatch: boolean; Reports?: unknown };

describe('VDiff through a reparent and past statement time limits', { timeout: 600_000 }, () => {
  let c: TestCluster;
  let ctx: CtldContext;
  const run = (name: string, req: JsonObject): Promise<Json> => (VDIFF_COMMANDS[name] ?? WORKFLOW_COMMANDS[name]).run(ctx, req);
  const vd = (action: string, extra: JsonObject = {}) => run('VDiff', { action, workflow: 'c2t', target_keyspace: 'tgt', format: 'json', ...extra });
  const tablets = () => [c.shard('tgt', '0').primary, ...c.shard('tgt', '0').replicas];
  const primary = async (): Promise<TabletProcess> => {
    const alias = tabletAliasString((await c.topo.getShard('tgt', '0')).value.primary_alias!);
    return tablets().find((t) => t.alias === alias)!;
  };
  const finished = async (uuid: string): Promise<Summary> => {
    let s: Summary | undefined;
    await waitFor(`VDiff ${uuid} to complete`, async () => {
      s = (await vd('show', { uuid })) as unknown as Summary;
      if (s.State === 'error') throw new Error(`VDiff in error: ${JSON.stringify(s)}`);
      return s.State === 'completed';
    }, 120_000);
    return s!;
  };
  const sidecar = async (uuid: string, sql: string) => (await primary()).manager.executeFetchAsDba(sql.replace('$UUID', `'${uuid}'`), { maxRows: 10_000 });

  before(async () => {
    c = await startCluster({
      gate: false,
      keyspaces: [
        { name: 'src', shards: ['0'], schema: SCHEMA, vschema: { tables: { item: {} } } },
        { name: 'tgt', shards: ['0'], replicas: 1 },
      ],
    });
    ctx = { topo: c.topo, tmc: new RpcTabletManagerClient(c.topo) };
    await c.shardRows('src', '0', `INSERT INTO item SELECT seq, seq % 97, CONCAT('name', seq) FROM seq_1_to_${ROWS}`);
    await run('MoveTables', { action: 'create', workflow: 'c2t', target_keyspace: 'tgt', source_keyspace: 'src', tables: 'item', tablet_types: ['primary'] });
    await waitFor('the copy to finish', async () => {
      const st = (await run('Workflow', { action: 'status', keyspace: 'tgt', workflow: 'c2t', format: 'json' })) as { table_copy_state: object; shard_streams: Record<string, { streams: { status: string }[] }> };
      const streams = Object.values(st.shard_streams).flatMap((s) => s.streams);
      return Object.keys(st.table_copy_state).length === 0 && streams.length === 1 && streams.every((s) => s.status === 'Running');
    }, 120_000);
    for (const t of tablets()) Object.assign(t.manager.vdiff!.limits, PACED);
  });

  after(async () => {
    ctx?.tmc.close();
    await c?.stop();
  });

  it('finishes after a reparent of the target shard mid-diff, going on from the last compared key', async () => {
    const before = await primary();
    const other = tablets().find((t) => t !== before)!;
    const { UUID } = (await vd('create')) as { UUID: string };
    await waitFor('a last compared key on the target primary', async () => {
      const r = await sidecar(UUID, "SELECT t.lastpk, v.state FROM _vt.vdiff_table t JOIN _vt.vdiff v ON t.vdiff_id = v.id WHERE v.vdiff_uuid = $UUID AND t.table_name = 'item'");
      return r.rows.length === 1 && String(r.rows[0][0] ?? '') !== '';
    });
    const mid = await sidecar(UUID, 'SELECT state FROM _vt.vdiff WHERE vdiff_uuid = $UUID');
    assert.equal(String(mid.rows[0][0]), 'started', 'the reparent must land mid-diff');
    await CTLD_COMMANDS.PlannedReparentShard.run(ctx, { keyspace_shard: 'tgt/0', new_primary: other.alias });
    assert.equal((await primary()).alias, other.alias);
    const s = await finished(UUID);
    assert.equal(s.HasMismatch, false, JSON.stringify(s.Reports));
    // Every row compared once: what was checkpointed before the reparent is not compared again.
    assert.equal(s.RowsCompared, ROWS);
    const log = await sidecar(UUID, 'SELECT l.message FROM _vt.vdiff_log l JOIN _vt.vdiff v ON l.vdiff_id = v.id WHERE v.vdiff_uuid = $UUID ORDER BY l.id');
    const lines = log.rows.map((r) => String(r[0]));
    assert.ok(lines.some((m) => m.startsWith('table item: going on after its last compared key') && m.endsWith(`on ${other.alias}`)), JSON.stringify(lines));
  });

  it('completes a diff lasting many times max_statement_time on both sides, with and without chunk checksums', async () => {
    const servers = [
      ['src', '0'],
      ['tgt', '0'],
    ] as const;
    // New sessions get it: every connection a diff opens (snapshots, sessions) is new.
    for (const [ks, shard] of servers) await c.shardRows(ks, shard, 'SET GLOBAL max_statement_time = 1');
    try {
      for (const chunk_checksum of [true, false]) {
        const { UUID } = (await vd('create', { chunk_checksum })) as { UUID: string };
        const s = await finished(UUID);
        assert.equal(s.HasMismatch, false, JSON.stringify(s.Reports));
        assert.equal(s.RowsCompared, ROWS);
        const r = await sidecar(UUID, 'SELECT TIMESTAMPDIFF(SECOND, started_at, completed_at) FROM _vt.vdiff WHERE vdiff_uuid = $UUID');
        assert.ok(Number(r.rows[0][0]) >= 3, `chunk_checksum ${chunk_checksum}: the diff must outlast max_statement_time (1 s) several times; it took ${String(r.rows[0][0])} s`);
      }
    } finally {
      for (const [ks, shard] of servers) await c.shardRows(ks, shard, 'SET GLOBAL max_statement_time = 0');
    }
  });
});
