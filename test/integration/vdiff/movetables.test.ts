// VDiff of the tutorial's MoveTables (commerce2customer: five customers, five orders) on real
// tablets and MariaDB: a clean diff counts every row; differences made directly on the target are
// reported with their keys and repaired through the gate by the repair script; resume compares only
// rows after the last compared key; stop, resume, delete; and the command's refusals.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type mysql from 'mysql2/promise';
import { startCluster, type TestCluster } from '../../harness/cluster.js';
import { TOPO_COMMANDS } from '../../../src/ctld/topo-commands.js';
import { WORKFLOW_COMMANDS } from '../../../src/ctld/workflow-commands.js';
import { VDIFF_COMMANDS } from '../../../src/ctld/vdiff-commands.js';
import type { CtldContext } from '../../../src/ctld/command.js';
import { RpcTabletManagerClient } from '../../../src/tablet/index.js';
import type { Json, JsonObject } from '../../../src/topo/index.js';
import { waitFor } from '../../harness/wait.js';

const SCHEMA = `
CREATE TABLE customer (customer_id bigint NOT NULL AUTO_INCREMENT, email varchar(128), PRIMARY KEY (customer_id));
CREATE TABLE corder (order_id bigint NOT NULL AUTO_INCREMENT, customer_id bigint, sku varbinary(128), price bigint, PRIMARY KEY (order_id))
`;

type Summary = {
  State: string;
  UUID: string;
  RowsCompared: number;
  HasMismatch: boolean;
  TableSummary: Record<string, { RowsCompared: number; MatchingRows: number; MismatchedRows: number; ExtraRowsSource: number; ExtraRowsTarget: number }>;
  Reports?: Record<string, Record<string, { ExtraRowsSourceSample?: { Row: Record<string, string> }[]; ExtraRowsTargetSample?: { Row: Record<string, string> }[]; MismatchedRowsSample?: { Source: { Row: Record<string, string> }; Target: { Row: Record<string, string> } }[] }>>;
};

describe('VDiff of MoveTables commerce2customer', { timeout: 600_000 }, () => {
  let c: TestCluster;
  let ctx: CtldContext;
  let gate: mysql.Connection;

  const run = (name: string, req: JsonObject): Promise<Json> => (VDIFF_COMMANDS[name] ?? WORKFLOW_COMMANDS[name] ?? TOPO_COMMANDS[name]).run(ctx, req);
  const vd = (action: string, extra: JsonObject = {}) => run('VDiff', { action, workflow: 'commerce2customer', target_keyspace: 'customer', format: 'json', ...extra });
  const show = async (uuid: string) => (await vd('show', { uuid })) as unknown as Summary;
  const finished = async (uuid: string): Promise<Summary> => {
    let s: Summary | undefined;
    await waitFor(`VDiff ${uuid} to complete`, async () => {
      s = await show(uuid);
      if (s.State === 'error') throw new Error(`VDiff in error: ${JSON.stringify(s)}`);
      return s.State === 'completed';
    });
    return s!;
  };
  const onTarget = (sql: string) => c.shardRows('customer', '0', sql);

  before(async () => {
    c = await startCluster({
      keyspaces: [
        { name: 'commerce', shards: ['0'], schema: SCHEMA, vschema: { tables: { customer: {}, corder: {} } } },
        { name: 'customer', shards: ['0'] },
      ],
    });
    ctx = { topo: c.topo, tmc: new RpcTabletManagerClient(c.topo) };
    gate = await c.connect();
    await gate.query("INSERT INTO customer (customer_id, email) VALUES (1, 'alice@domain.com'), (2, 'bob@domain.com'), (3, 'charlie@domain.com'), (4, 'dan@domain.com'), (5, 'eve@domain.com')");
    await gate.query("INSERT INTO corder (order_id, customer_id, sku, price) VALUES (1, 1, 'SKU-1001', 100), (2, 2, 'SKU-1002', 30), (3, 3, 'SKU-1002', 30), (4, 4, 'SKU-1002', 30), (5, 5, 'SKU-1002', 30)");
    await run('MoveTables', { action: 'create', workflow: 'commerce2customer', target_keyspace: 'customer', source_keyspace: 'commerce', tables: 'customer,corder', format: 'json' });
    await waitFor('the copy to finish', async () => {
      const st = (await run('Workflow', { action: 'status', keyspace: 'customer', workflow: 'commerce2customer', format: 'json' })) as {
        table_copy_state: object;
        shard_streams: Record<string, { streams: { status: string }[] }>;
      };
      const streams = Object.values(st.shard_streams).flatMap((s) => s.streams);
      return Object.keys(st.table_copy_state).length === 0 && streams.length === 1 && streams.every((s) => s.status === 'Running');
    });
  });

  after(async () => {
    await gate?.end().catch(() => undefined);
    ctx?.tmc.close();
    await c?.stop();
  });

  it('reports RowsCompared 10 and no mismatch on a clean copy, in text and JSON', async () => {
    const created = (await vd('create')) as { UUID: string };
    assert.match(created.UUID, /^[0-9a-f-]{36}$/);
    const s = await finished(created.UUID);
    assert.equal(s.RowsCompared, 10);
    assert.equal(s.HasMismatch, false);
    assert.equal(s.TableSummary.customer.MatchingRows, 5);
    assert.equal(s.TableSummary.corder.MatchingRows, 5);
    const text = ((await vd('show', { uuid: 'last', format: 'text' })) as { text: string }).text;
    assert.match(text, new RegExp(`^VDiff Summary for customer\\.commerce2customer \\(${created.UUID}\\)\\nState:        completed\\nRowsCompared: 10\\nHasMismatch:  false\\nStartedAt:    \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\nCompletedAt:  `));
    assert.match(text, /\nTable corder:\n\tState:            completed\n\tProcessedRows:    5\n\tMatchingRows:     5\n/);
    // The streams run again after the diff paused them.
    const st = (await run('Workflow', { action: 'show', keyspace: 'customer', workflow: 'commerce2customer' })) as { workflows: { shard_streams: Record<string, { streams: { state: string; stop_position: string }[] }> }[] };
    const streams = Object.values(st.workflows[0].shard_streams).flatMap((x) => x.streams);
    assert.deepEqual(streams.map((x) => [x.state, x.stop_position]), [['Running', '']]);
  });

  it('finds one mismatched, one missing and one extra row with their keys, and the repair script makes the next VDiff clean', async () => {
    await onTarget("UPDATE customer SET email = 'changed@x' WHERE customer_id = 2");
    await onTarget('DELETE FROM corder WHERE order_id = 3');
    await onTarget("INSERT INTO customer (customer_id, email) VALUES (77, 'extra@x')");
    const { UUID } = (await vd('create', { max_report_sample_rows: 0 })) as { UUID: string };
    const s = await finished(UUID);
    assert.equal(s.HasMismatch, true);
    // Every key seen on either side: 5 + 1 extra customers, 5 orders.
    assert.equal(s.RowsCompared, 11);
    assert.deepEqual(s.TableSummary.customer, { TableName: 'customer', State: 'completed', RowsCompared: 6, MatchingRows: 4, MismatchedRows: 1, ExtraRowsSource: 0, ExtraRowsTarget: 1 } as never);
    assert.deepEqual(s.TableSummary.corder, { TableName: 'corder', State: 'completed', RowsCompared: 5, MatchingRows: 4, MismatchedRows: 0, ExtraRowsSource: 1, ExtraRowsTarget: 0 } as never);
    const rc = s.Reports!.customer['0'];
    assert.deepEqual(rc.MismatchedRowsSample, [{ Source: { Row: { customer_id: '2', email: 'bob@domain.com' } }, Target: { Row: { customer_id: '2', email: 'changed@x' } } }]);
    assert.deepEqual(rc.ExtraRowsTargetSample, [{ Row: { customer_id: '77', email: 'extra@x' } }]);
    assert.deepEqual(s.Reports!.corder['0'].ExtraRowsSourceSample, [{ Row: { order_id: '3', customer_id: '3', sku: 'SKU-1002', price: '30' } }]);

    const script = ((await vd('repair', { uuid: UUID })) as { script: string }).script;
    assert.match(script, /^-- Repair script for VDiff /);
    assert.match(script, /source positions 0 at MariaDB\/\d+-\d+-\d+/);
    assert.match(script, /USE `customer:0`;\nREPLACE INTO customer \(customer_id, email\) VALUES \(2, 'bob@domain\.com'\);/);
    assert.match(script, /USE `customer:0`;\nDELETE FROM customer WHERE customer_id = 77;/);
    assert.match(script, /REPLACE INTO corder \(order_id, customer_id, sku, price\) VALUES \(3, 3, 0x534b552d31303032, 30\);/);
    // Applied through the gate, statement by statement, as the mariadb client would.
    const conn = await c.connect(undefined, { multipleStatements: true });
    try {
      await conn.query(script.split('\n').filter((l) => !l.startsWith('--')).join('\n'));
    } finally {
      await conn.end();
    }
    const again = (await vd('create')) as { UUID: string };
    const clean = await finished(again.UUID);
    assert.equal(clean.HasMismatch, false);
    assert.equal(clean.RowsCompared, 10);
  });

  it('resume after more inserts compares only the new rows', async () => {
    const { UUID } = (await vd('create')) as { UUID: string };
    const first = await finished(UUID);
    assert.equal(first.RowsCompared, 10);
    await gate.query("INSERT INTO customer (customer_id, email) VALUES (6, 'f@x'), (7, 'g@x')");
    await gate.query("INSERT INTO corder (order_id, customer_id, sku, price) VALUES (6, 6, 'SKU-1', 1)");
    await vd('resume', { uuid: UUID });
    const second = await finished(UUID);
    assert.equal(second.RowsCompared, 13);
    assert.equal(second.HasMismatch, false);
    assert.equal(second.TableSummary.customer.RowsCompared, 7);
  });

  it('stops, resumes, lists and deletes', async () => {
    const { UUID } = (await vd('create', { auto_start: false })) as { UUID: string };
    assert.equal((await show(UUID)).State, 'pending');
    await vd('stop', { uuid: UUID });
    assert.equal((await show(UUID)).State, 'stopped');
    await vd('resume', { uuid: UUID });
    const s = await finished(UUID);
    assert.equal(s.RowsCompared, 13);
    const all = (await vd('show', { uuid: 'all' })) as { UUID: string; State: string }[];
    assert.ok(all.some((x) => x.UUID === UUID && x.State === 'completed'));
    await vd('delete', { uuid: UUID });
    await assert.rejects(vd('show', { uuid: UUID }), /not found/);
    await vd('delete', { uuid: 'all' });
    assert.deepEqual(await vd('show', { uuid: 'all' }), []);
  });

  it('refuses bad input clearly', async () => {
    await assert.rejects(run('VDiff', { action: 'create', workflow: 'nosuch', target_keyspace: 'customer' }), /workflow nosuch not found in keyspace customer/);
    await assert.rejects(vd('create', { uuid: 'not-a-uuid' }), (e: Error & { errno?: number }) => e.errno === 1210 && /invalid UUID 'not-a-uuid'/.test(e.message));
    await assert.rejects(vd('show', { uuid: '1234' }), /invalid UUID '1234'/);
    await assert.rejects(vd('frobnicate'), /unknown action 'frobnicate'; usage: VDiff/);
    const uuid = '8a4a0a6e-2d7e-4b9f-9b3e-0a1b2c3d4e5f';
    await vd('create', { uuid });
    await finished(uuid);
    await assert.rejects(vd('create', { uuid }), (e: Error & { errno?: number }) => e.errno === 1062 && /VDiff with UUID 8a4a0a6e-2d7e-4b9f-9b3e-0a1b2c3d4e5f already exists/.test(e.message));
    await assert.rejects(vd('create', { tables: 'customer,product' }), (e: Error & { errno?: number }) => e.errno === 1146 && /table product is not in workflow commerce2customer/.test(e.message));
    await vd('delete', { uuid: 'all' });
  });

  it('refuses a table without a usable key', async () => {
    // MoveTables itself refuses such a table, so the key is dropped on the target by hand: the error
    // names the table and the fix.
    await onTarget('ALTER TABLE customer DROP PRIMARY KEY, MODIFY customer_id bigint NOT NULL');
    try {
      await assert.rejects(vd('create'), (e: Error & { errno?: number }) => e.errno === 1173 && /table customer has no primary key .* add a primary key/.test(e.message));
    } finally {
      await onTarget('ALTER TABLE customer ADD PRIMARY KEY (customer_id)');
    }
  });
  it('takes a new snapshot every --max-diff-duration, going on from the last compared key', async () => {
    const limits = c.shard('customer', '0').primary.manager.vdiff!.limits;
    const saved = { ...limits };
    // Paced to 4 rows a second, a checkpoint per row (and a checksum range per row): 13 rows take
    // about 3 s, so 1 s epochs split them.
    Object.assign(limits, { compareRowsPerSecondMax: 4, checkpointRowsMax: 1, checksumChunkRowsMax: 1 });
    try {
      const { UUID } = (await vd('create', { max_diff_duration: '1s' })) as { UUID: string };
      const s = await finished(UUID);
      assert.equal(s.HasMismatch, false);
      assert.equal(s.RowsCompared, 13);
      const logs = await onTarget(`SELECT l.message FROM _vt.vdiff_log l JOIN _vt.vdiff v ON l.vdiff_id = v.id WHERE v.vdiff_uuid = '${UUID}'`);
      assert.ok(logs.some((r) => /a new snapshot after 1s \(--max-diff-duration\), from \(/.test(String(r.message))), JSON.stringify(logs));
    } finally {
      Object.assign(limits, saved);
    }
  });
});
