// VDiff streaming every row (--chunk-checksum=false) of a table of 2 KB rows, with MariaDB's
// max_statement_time at 1 s on both sides and the comparison paced (compareRowsPerSecondMax), so
// the source's rows are taken far more slowly than MariaDB reads them. The source reads each
// SELECT of its row stream by bytes (about a batch, not the 10,000 rows of sourceBatchRowsMax) and
// hands the batches over once the SELECT has ended, so no statement waits on the slow consumer and
// the diff completes without a retry (--auto-retry=false: a killed statement would end it in error).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type TestCluster } from '../../harness/cluster.js';
import { WORKFLOW_COMMANDS } from '../../../src/ctld/workflow-commands.js';
import { VDIFF_COMMANDS } from '../../../src/ctld/vdiff-commands.js';
import type { CtldContext } from '../../../src/ctld/command.js';
import { RpcTabletManagerClient } from '../../../src/tablet/index.js';
import type { Json, JsonObject } from '../../../src/topo/index.js';
import { waitFor } from '../../harness/wait.js';

const ROWS = 6_000;
const SCHEMA = 'CREATE TABLE wide (id bigint NOT NULL, n int NOT NULL, pad varchar(2000) NOT NULL, PRIMARY KEY (id))';
/** 6,000 rows at 2,000 a second, a checkpoint (and the pause it brings) every 500: about 3 s. */
const PACED = { compareRowsPerSecondMax: 2_000, checkpointRowsMax: 500 };

type Summary = { State: string; RowsCompared: number; HasMismatch: boolean; Errors?: unknown };

describe('VDiff streaming wide rows under a short max_statement_time', { timeout: 600_000 }, () => {
  let c: TestCluster;
  let ctx: CtldContext;
  const run = (name: string, req: JsonObject): Promise<Json> => (VDIFF_COMMANDS[name] ?? WORKFLOW_COMMANDS[name]).run(ctx, req);
  const vd = (action: string, extra: JsonObject = {}) => run('VDiff', { action, workflow: 'w', target_keyspace: 'tgt', format: 'json', ...extra });
  const servers = [
    ['src', '0'],
    ['tgt', '0'],
  ] as const;

  before(async () => {
    c = await startCluster({
      gate: false,
      keyspaces: [
        { name: 'src', shards: ['0'], schema: SCHEMA, vschema: { tables: { wide: {} } } },
        { name: 'tgt', shards: ['0'] },
      ],
    });
    ctx = { topo: c.topo, tmc: new RpcTabletManagerClient(c.topo) };
    await c.shardRows('src', '0', `INSERT INTO wide SELECT seq, seq % 97, REPEAT(MD5(seq), 62) FROM seq_1_to_${ROWS}`);
    await run('MoveTables', { action: 'create', workflow: 'w', target_keyspace: 'tgt', source_keyspace: 'src', tables: 'wide', tablet_types: ['primary'] });
    await waitFor('the copy to finish', async () => {
      const st = (await run('Workflow', { action: 'status', keyspace: 'tgt', workflow: 'w', format: 'json' })) as { table_copy_state: object; shard_streams: Record<string, { streams: { status: string }[] }> };
      const streams = Object.values(st.shard_streams).flatMap((s) => s.streams);
      return Object.keys(st.table_copy_state).length === 0 && streams.length === 1 && streams.every((s) => s.status === 'Running');
    }, 120_000);
    Object.assign(c.shard('tgt', '0').primary.manager.vdiff!.limits, PACED);
    // New sessions get it: every connection a diff opens (snapshots, row streams) is new.
    for (const [ks, shard] of servers) await c.shardRows(ks, shard, 'SET GLOBAL max_statement_time = 1');
  });

  after(async () => {
    if (c) for (const [ks, shard] of servers) await c.shardRows(ks, shard, 'SET GLOBAL max_statement_time = 0').catch(() => undefined);
    ctx?.tmc.close();
    await c?.stop();
  });

  it('completes without a retry, the diff outlasting max_statement_time', async () => {
    const { UUID } = (await vd('create', { chunk_checksum: false, auto_retry: false })) as { UUID: string };
    let s: Summary | undefined;
    await waitFor(`VDiff ${UUID} to end`, async () => {
      s = (await vd('show', { uuid: UUID })) as unknown as Summary;
      return s.State === 'completed' || s.State === 'error';
    }, 300_000);
    assert.equal(s!.State, 'completed', JSON.stringify(s!.Errors));
    assert.equal(s!.HasMismatch, false);
    assert.equal(s!.RowsCompared, ROWS);
    const r = await c.shard('tgt', '0').primary.manager.executeFetchAsDba(`SELECT TIMESTAMPDIFF(SECOND, started_at, completed_at) FROM _vt.vdiff WHERE vdiff_uuid = '${UUID}'`, { maxRows: 1 });
    assert.ok(Number(r.rows[0][0]) >= 2, `the diff must outlast max_statement_time (1 s); it took ${String(r.rows[0][0])} s`);
  });
});
