// VDiff's chunk checksums on real tablets and MariaDB: a MoveTables of a table of 20,000 rows
// (ranges of 1,000 keys) and of a table with every column type at its limits. A clean copy is
// clean with no range read row by row (equal rows hash alike on both sides, whatever the type);
// one changed, one deleted and one added row on the target are found exactly — the same counts
// and keys as with --chunk-checksum=false — and only the ranges holding them are read row by row.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type TestCluster } from '../../harness/cluster.js';
import { COLUMNS, MAX_ROW, MIN_ROW, ZERO_ROW, nulls } from '../../harness/all-types.js';
import { WORKFLOW_COMMANDS } from '../../../src/ctld/workflow-commands.js';
import { VDIFF_COMMANDS } from '../../../src/ctld/vdiff-commands.js';
import type { CtldContext } from '../../../src/ctld/command.js';
import { RpcTabletManagerClient } from '../../../src/tablet/index.js';
import type { Json, JsonObject } from '../../../src/topo/index.js';
import { waitFor } from '../../harness/wait.js';

const ROWS = 20_000;
const SCHEMA = `
CREATE TABLE item (id bigint NOT NULL, grp int NOT NULL, name varchar(64) COLLATE utf8mb4_general_ci, payload varbinary(200), price decimal(10,2), f float, note text, PRIMARY KEY (id)) DEFAULT CHARSET=utf8mb4;
CREATE TABLE alltypes (${COLUMNS})`;

type Report = { ExtraRowsSourceSample?: { Row: Record<string, string> }[]; ExtraRowsTargetSample?: { Row: Record<string, string> }[]; MismatchedRowsSample?: { Source: { Row: Record<string, string> }; Target: { Row: Record<string, string> } }[] };
type Summary = {
  State: string;
  RowsCompared: number;
  HasMismatch: boolean;
  TableSummary: Record<string, { RowsCompared: number; MatchingRows: number; MismatchedRows: number; ExtraRowsSource: number; ExtraRowsTarget: number }>;
  Reports?: Record<string, Record<string, Report>>;
};

describe('VDiff chunk checksums', { timeout: 600_000 }, () => {
  let c: TestCluster;
  let ctx: CtldContext;
  const run = (name: string, req: JsonObject): Promise<Json> => (VDIFF_COMMANDS[name] ?? WORKFLOW_COMMANDS[name]).run(ctx, req);
  const vd = (action: string, extra: JsonObject = {}) => run('VDiff', { action, workflow: 'c2t', target_keyspace: 'tgt', format: 'json', ...extra });
  const finished = async (uuid: string): Promise<Summary> => {
    let s: Summary | undefined;
    await waitFor(`VDiff ${uuid} to complete`, async () => {
      s = (await vd('show', { uuid })) as unknown as Summary;
      if (s.State === 'error') throw new Error(`VDiff in error: ${JSON.stringify(s)}`);
      return s.State === 'completed';
    }, 120_000);
    return s!;
  };
  const onTarget = (sql: string) => c.shardRows('tgt', '0', sql);
  const logOf = async (uuid: string) =>
    (await onTarget(`SELECT l.message FROM _vt.vdiff_log l JOIN _vt.vdiff v ON l.vdiff_id = v.id WHERE v.vdiff_uuid = '${uuid}' ORDER BY l.id`)).map((r) => String(r.message));
  const completedLine = (log: string[], table: string) => log.find((m) => m.startsWith(`table ${table} completed:`)) ?? `no completion line for ${table} in ${JSON.stringify(log)}`;

  before(async () => {
    c = await startCluster({
      gate: false,
      keyspaces: [
        { name: 'src', shards: ['0'], schema: SCHEMA, vschema: { tables: { item: {}, alltypes: {} } } },
        { name: 'tgt', shards: ['0'] },
      ],
    });
    ctx = { topo: c.topo, tmc: new RpcTabletManagerClient(c.topo) };
    // Even ids, so a row can be added between two of them on the target.
    await c.shardRows(
      'src',
      '0',
      `INSERT INTO item SELECT seq * 2, seq % 97, CONCAT(IF(seq % 2, 'Name', 'name'), seq), UNHEX(SHA2(seq, 256)), seq / 7, seq / 3, IF(seq % 5 = 0, NULL, REPEAT('n', seq % 50)) FROM seq_1_to_${ROWS}`,
    );
    await c.shardRows('src', '0', `INSERT INTO alltypes VALUES ${MAX_ROW}, ${MIN_ROW}, ${ZERO_ROW}, ${nulls(9, 52)}`);
    await run('MoveTables', { action: 'create', workflow: 'c2t', target_keyspace: 'tgt', source_keyspace: 'src', tables: 'item,alltypes', format: 'json' });
    await waitFor('the copy to finish', async () => {
      const st = (await run('Workflow', { action: 'status', keyspace: 'tgt', workflow: 'c2t', format: 'json' })) as { table_copy_state: object; shard_streams: Record<string, { streams: { status: string }[] }> };
      const streams = Object.values(st.shard_streams).flatMap((s) => s.streams);
      return Object.keys(st.table_copy_state).length === 0 && streams.length === 1 && streams.every((s) => s.status === 'Running');
    }, 120_000);
    Object.assign(c.shard('tgt', '0').primary.manager.vdiff!.limits, { checksumChunkRowsMax: 1_000 });
  });

  after(async () => {
    ctx?.tmc.close();
    await c?.stop();
  });

  it('finds a clean copy clean without reading any range row by row, every column type included', async () => {
    const { UUID } = (await vd('create')) as { UUID: string };
    const s = await finished(UUID);
    assert.equal(s.HasMismatch, false, JSON.stringify(s.Reports));
    assert.equal(s.RowsCompared, ROWS + 4);
    const log = await logOf(UUID);
    assert.ok(log.some((m) => m === 'table item: chunk checksums over ranges of 1000 rows; source 0: checksums computed in SQL on the source'), JSON.stringify(log));
    assert.match(completedLine(log, 'item'), /: 20000 rows compared, 0 mismatched, 0 extra on the source, 0 extra on the target; chunk checksums: 2[01] ranges compared, rows read for 0 that differed$/);
    assert.match(completedLine(log, 'alltypes'), /: 4 rows compared, .* rows read for 0 that differed$/);
  });

  it('finds one mismatched, one extra source and one extra target row exactly, as without checksums', async () => {
    // Only the case differs, under a case-insensitive collation: still a difference to report.
    await onTarget("UPDATE item SET name = 'NAME1500' WHERE id = 3000");
    await onTarget('DELETE FROM item WHERE id = 18000');
    await onTarget("INSERT INTO item VALUES (12001, 1, 'extra', NULL, 1.00, 1, NULL)");
    const results: Summary[] = [];
    for (const chunk_checksum of [true, false]) {
      const { UUID } = (await vd('create', { tables: 'item', chunk_checksum })) as { UUID: string };
      const s = await finished(UUID);
      results.push(s);
      const t = s.TableSummary.item;
      assert.deepEqual([t.RowsCompared, t.MatchingRows, t.MismatchedRows, t.ExtraRowsSource, t.ExtraRowsTarget], [ROWS + 1, ROWS - 2, 1, 1, 1], `chunk_checksum ${chunk_checksum}`);
      const r = s.Reports!.item['0'];
      assert.deepEqual(r.MismatchedRowsSample!.map((m) => [m.Source.Row.name, m.Target.Row.name]), [['name1500', 'NAME1500']]);
      assert.deepEqual(r.ExtraRowsSourceSample!.map((x) => x.Row.id), ['18000']);
      assert.deepEqual(r.ExtraRowsTargetSample!.map((x) => x.Row.id), ['12001']);
      const done = completedLine(await logOf(UUID), 'item');
      if (chunk_checksum) assert.match(done, /chunk checksums: 2[01] ranges compared, rows read for 3 that differed$/);
      else assert.match(done, /every row streamed \(--chunk-checksum=false\)$/);
    }
    assert.deepEqual(results[0].Reports, results[1].Reports);
  });
});
