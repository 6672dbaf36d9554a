// VDiff merges rows from several source shards in MariaDB's key order. Here the key is text under
// utf8mb4_general_ci ('alpha' < 'Bravo' < 'charlie', whatever their bytes), the source keyspace
// has two shards and the target one: a merge in byte order would interleave the shards wrongly and
// report rows as extra on both sides. The diff must be clean and count every row once.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type TestCluster } from '../../harness/cluster.js';
import { WORKFLOW_COMMANDS } from '../../../src/ctld/workflow-commands.js';
import { VDIFF_COMMANDS } from '../../../src/ctld/vdiff-commands.js';
import type { CtldContext } from '../../../src/ctld/command.js';
import { RpcTabletManagerClient } from '../../../src/tablet/index.js';
import type { Json, JsonObject } from '../../../src/topo/index.js';
import { waitFor } from '../../harness/wait.js';

const SCHEMA = `CREATE TABLE tag (name varchar(64) COLLATE utf8mb4_general_ci NOT NULL, n bigint NOT NULL, PRIMARY KEY (name)) DEFAULT CHARSET=utf8mb4`;
const VSCHEMA = { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { tag: { column_vindexes: [{ column: 'n', name: 'hash' }] } } };

describe('VDiff merges source shards in collation order', { timeout: 600_000 }, () => {
  let c: TestCluster;
  let ctx: CtldContext;
  const run = (name: string, req: JsonObject): Promise<Json> => (VDIFF_COMMANDS[name] ?? WORKFLOW_COMMANDS[name]).run(ctx, req);

  before(async () => {
    c = await startCluster({
      gate: false,
      keyspaces: [
        { name: 'src', shards: ['-80', '80-'], schema: SCHEMA, vschema: VSCHEMA },
        { name: 'dst', shards: ['0'] },
      ],
    });
    ctx = { topo: c.topo, tmc: new RpcTabletManagerClient(c.topo) };
  });

  after(async () => {
    ctx?.tmc.close();
    await c?.stop();
  });

  it('is clean and counts every row once', async () => {
    const names = ['alpha', 'Bravo', 'charlie', 'Delta', 'échelle', 'Zulu', 'yankee', 'Xray', 'ñu', 'Oscar', 'oscar2', 'OSCAR3'];
    for (let i = 0; i < 60; i++) names.push(i % 2 ? `Key${i}` : `key${i}x`);
    // Each row on the shard its n hashes to: inserted on both shards' primaries, each keeping its own.
    let n = 0;
    const rows = names.map((name) => ({ name, n: n++ }));
    const { createVindex } = await import('../../../src/vindexes/index.js');
    const { keyRangeContains, parseShardName } = await import('../../../src/key/index.js');
    const hash = createVindex('hash', 'hash', {}) as import('../../../src/vindexes/index.js').FunctionalVindex;
    for (const shard of ['-80', '80-']) {
      const mine = rows.filter((r) => {
        const [d] = hash.map([BigInt(r.n)]);
        return d.kind === 'keyspaceId' && keyRangeContains(parseShardName(shard), d.id);
      });
      assert.ok(mine.length > 0);
      await c.shardRows('src', shard, `INSERT INTO tag VALUES ${mine.map((r) => `('${r.name}', ${r.n})`).join(', ')}`);
    }
    await run('MoveTables', { action: 'create', workflow: 'src2dst', target_keyspace: 'dst', source_keyspace: 'src', tables: 'tag', format: 'json' });
    await waitFor('the copy to finish', async () => {
      const st = (await run('Workflow', { action: 'status', keyspace: 'dst', workflow: 'src2dst', format: 'json' })) as { table_copy_state: object; shard_streams: Record<string, { streams: { status: string }[] }> };
      const streams = Object.values(st.shard_streams).flatMap((s) => s.streams);
      return Object.keys(st.table_copy_state).length === 0 && streams.length === 2 && streams.every((s) => s.status === 'Running');
    });
    const { UUID } = (await run('VDiff', { action: 'create', workflow: 'src2dst', target_keyspace: 'dst', format: 'json' })) as { UUID: string };
    type Summary = { State: string; RowsCompared: number; HasMismatch: boolean; Reports?: unknown };
    let s: Summary | undefined;
    await waitFor('the VDiff to complete', async () => {
      s = (await run('VDiff', { action: 'show', workflow: 'src2dst', target_keyspace: 'dst', uuid: UUID, format: 'json' })) as unknown as Summary;
      if (s!.State === 'error') throw new Error(JSON.stringify(s));
      return s!.State === 'completed';
    });
    assert.equal(s!.HasMismatch, false, JSON.stringify(s!.Reports));
    assert.equal(s!.RowsCompared, names.length);
    count = names.length;
  });

  let count = 0;
  it('finds differences exactly with chunk checksums over ranges cut in the collation order, as without', async () => {
    // Ranges of 5 keys: their bounds are text keys, so each side's MariaDB decides (under
    // utf8mb4_general_ci) which rows a range holds, and differing ranges merge in that order.
    Object.assign(c.shard('dst', '0').primary.manager.vdiff!.limits, { checksumChunkRowsMax: 5 });
    await c.shardRows('dst', '0', "UPDATE tag SET n = n + 1000 WHERE name = 'Delta'");
    await c.shardRows('dst', '0', "DELETE FROM tag WHERE name = 'ñu'");
    await c.shardRows('dst', '0', "INSERT INTO tag VALUES ('bRavo1', 5000)");
    type Summary = { State: string; RowsCompared: number; TableSummary: Record<string, { MismatchedRows: number; ExtraRowsSource: number; ExtraRowsTarget: number }>; Reports?: Record<string, Record<string, unknown>> };
    const reports: unknown[] = [];
    for (const chunk_checksum of [true, false]) {
      const { UUID } = (await run('VDiff', { action: 'create', workflow: 'src2dst', target_keyspace: 'dst', format: 'json', chunk_checksum })) as { UUID: string };
      let s: Summary | undefined;
      await waitFor('the VDiff to complete', async () => {
        s = (await run('VDiff', { action: 'show', workflow: 'src2dst', target_keyspace: 'dst', uuid: UUID, format: 'json' })) as unknown as Summary;
        if (s!.State === 'error') throw new Error(JSON.stringify(s));
        return s!.State === 'completed';
      });
      const t = s!.TableSummary.tag;
      assert.deepEqual([s!.RowsCompared, t.MismatchedRows, t.ExtraRowsSource, t.ExtraRowsTarget], [count + 1, 1, 1, 1], `chunk_checksum ${chunk_checksum}: ${JSON.stringify(s!.Reports)}`);
      reports.push(s!.Reports);
    }
    assert.deepEqual(reports[0], reports[1]);
  });
});
