// VDiff of a Reshard customer/0 → -80,80- on real tablets and MariaDB: clean while a writer
// inserts, updates and deletes on the source throughout (each diff compares at one consistent
// point), each new shard compared against only the source rows its key range holds; then one row
// changed, one deleted and one added directly on -80 are reported with their keys, the repair
// script applied through the gate (`USE customer:-80` per statement) makes the next VDiff clean;
// and a restart of a target tablet in the middle of a diff resumes from its last compared key.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type TestCluster } from '../../harness/cluster.js';
import { startTestTablet } from '../../harness/tablet.js';
import { WORKFLOW_COMMANDS } from '../../../src/ctld/workflow-commands.js';
import { VDIFF_COMMANDS } from '../../../src/ctld/vdiff-commands.js';
import type { CtldContext } from '../../../src/ctld/command.js';
import { RpcTabletManagerClient, type TabletProcess } from '../../../src/tablet/index.js';
import type { Json, JsonObject } from '../../../src/topo/index.js';
import { createVindex, type FunctionalVindex } from '../../../src/vindexes/index.js';
import { keyRangeContains, parseShardName } from '../../../src/key/index.js';
import { waitFor } from '../../harness/wait.js';

const SCHEMA = `
CREATE TABLE customer (customer_id bigint NOT NULL, email varchar(128), PRIMARY KEY (customer_id));
CREATE TABLE corder (order_id bigint NOT NULL, customer_id bigint NOT NULL, sku varbinary(128), price bigint, PRIMARY KEY (order_id))`;

const VSCHEMA = {
  sharded: true,
  vindexes: { hash: { type: 'hash' } },
  tables: {
    customer: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] },
    corder: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] },
  },
};

type Summary = {
  State: string;
  RowsCompared: number;
  HasMismatch: boolean;
  Shards: string;
  TableSummary: Record<string, { RowsCompared: number; MismatchedRows: number; ExtraRowsSource: number; ExtraRowsTarget: number }>;
  Reports?: Record<string, Record<string, { ExtraRowsSourceSample?: { Row: Record<string, string> }[]; ExtraRowsTargetSample?: { Row: Record<string, string> }[]; MismatchedRowsSample?: unknown[] }>>;
};

const ROWS = 300;

describe('VDiff of Reshard customer/0 → -80,80-', { timeout: 600_000 }, () => {
  let c: TestCluster;
  let ctx: CtldContext;
  const targets = new Map<string, TabletProcess>();
  const hash = createVindex('hash', 'hash', {}) as FunctionalVindex;
  const shardOf = (id: number) => {
    const [d] = hash.map([BigInt(id)]);
    return d.kind === 'keyspaceId' && keyRangeContains(parseShardName('-80'), d.id) ? '-80' : '80-';
  };

  const run = (name: string, req: JsonObject): Promise<Json> => (VDIFF_COMMANDS[name] ?? WORKFLOW_COMMANDS[name]).run(ctx, req);
  const vd = (action: string, extra: JsonObject = {}) => run('VDiff', { action, workflow: 'cust2cust', target_keyspace: 'customer', format: 'json', ...extra });
  const finished = async (uuid: string): Promise<Summary> => {
    let s: Summary | undefined;
    await waitFor(`VDiff ${uuid} to complete`, async () => {
      s = (await vd('show', { uuid })) as unknown as Summary;
      if (s.State === 'error') throw new Error(`VDiff in error: ${JSON.stringify(s)}`);
      return s.State === 'completed';
    });
    return s!;
  };
  const onShard = (shard: string, sql: string) => targets.get(shard)!.manager.executeFetchAsDba(sql, { maxRows: 100_000 });
  const sourceCount = async () => {
    const [a] = await c.shardRows('customer', '0', 'SELECT (SELECT COUNT(*) FROM customer) + (SELECT COUNT(*) FROM corder) AS n');
    return Number(a.n);
  };

  before(async () => {
    c = await startCluster({ keyspaces: [{ name: 'customer', shards: ['0'], schema: SCHEMA, vschema: VSCHEMA }] });
    for (const shard of ['-80', '80-']) targets.set(shard, await startTestTablet({ cell: c.cell, keyspace: 'customer', shard, tabletType: 'primary', topo: c.topo }));
    ctx = { topo: c.topo, tmc: new RpcTabletManagerClient(c.topo) };
    const customers: string[] = [];
    const orders: string[] = [];
    for (let i = 1; i <= ROWS; i++) {
      customers.push(`(${i}, 'c${i}@x')`);
      orders.push(`(${i}, ${(i % ROWS) + 1}, 'sku${i % 7}', ${i * 3})`);
    }
    await c.shardRows('customer', '0', `INSERT INTO customer VALUES ${customers.join(',')}`);
    await c.shardRows('customer', '0', `INSERT INTO corder VALUES ${orders.join(',')}`);
    await run('Reshard', { action: 'create', workflow: 'cust2cust', target_keyspace: 'customer', source_shards: ['0'], target_shards: ['-80', '80-'] });
    await waitFor('the copy to finish', async () => {
      const st = (await run('Reshard', { action: 'status', workflow: 'cust2cust', target_keyspace: 'customer', format: 'json' })) as {
        table_copy_state: Record<string, unknown>;
        shard_streams: Record<string, { streams: { status: string }[] }>;
      };
      const streams = Object.values(st.shard_streams).flatMap((s) => s.streams);
      return Object.keys(st.table_copy_state).length === 0 && streams.length === 2 && streams.every((s) => s.status === 'Running');
    });
  });

  after(async () => {
    ctx?.tmc.close();
    await Promise.all([...targets.values()].map((t) => t.stop({ stopMysql: true })));
    await c?.stop();
  });

  it('reports every row compared and no mismatch, while the source takes writes throughout', async () => {
    let writing = true;
    let next = 10_000;
    let writes = 0;
    const writer = (async () => {
      while (writing) {
        const id = next++;
        await c.shardRows('customer', '0', `INSERT INTO customer VALUES (${id}, 'w${id}@x')`);
        await c.shardRows('customer', '0', `UPDATE corder SET price = price + 1 WHERE order_id = ${(id % ROWS) + 1}`);
        if (id % 3 === 0) await c.shardRows('customer', '0', `DELETE FROM customer WHERE customer_id = ${id - 2}`);
        writes++;
      }
    })();
    try {
      for (let round = 0; round < 5; round++) {
        const { UUID } = (await vd('create')) as { UUID: string };
        const s = await finished(UUID);
        assert.equal(s.HasMismatch, false, `round ${round}: ${JSON.stringify(s.Reports)}`);
        assert.equal(s.Shards, '-80,80-');
        assert.ok(s.RowsCompared >= 2 * ROWS, `round ${round}: ${s.RowsCompared} rows compared`);
      }
    } finally {
      writing = false;
      await writer;
    }
    assert.ok(writes > 0);
    // Quiet now: the count is exact.
    const { UUID } = (await vd('create')) as { UUID: string };
    const s = await finished(UUID);
    assert.equal(s.HasMismatch, false);
    assert.equal(s.RowsCompared, await sourceCount());
  });

  it('finds a changed, a deleted and an added row on -80 with their keys; the repair through the gate makes it clean', async () => {
    const inLow = [1, 2, 3, 5].filter((id) => shardOf(id) === '-80');
    assert.deepEqual(inLow, [1, 2, 3, 5]);
    let extra = 900_000;
    while (shardOf(extra) !== '-80') extra++;
    await onShard('-80', "UPDATE customer SET email = 'changed@x' WHERE customer_id = 2");
    await onShard('-80', 'DELETE FROM customer WHERE customer_id = 3');
    await onShard('-80', `INSERT INTO customer VALUES (${extra}, 'extra@x')`);
    const { UUID } = (await vd('create', { tables: 'customer' })) as { UUID: string };
    const s = await finished(UUID);
    assert.equal(s.HasMismatch, true);
    assert.deepEqual(Object.keys(s.TableSummary), ['customer']);
    const t = s.TableSummary.customer;
    assert.deepEqual([t.MismatchedRows, t.ExtraRowsSource, t.ExtraRowsTarget], [1, 1, 1]);
    const low = s.Reports!.customer['-80'];
    assert.deepEqual(low.ExtraRowsSourceSample, [{ Row: { customer_id: '3', email: 'c3@x' } }]);
    assert.deepEqual(low.ExtraRowsTargetSample, [{ Row: { customer_id: String(extra), email: 'extra@x' } }]);
    assert.equal(low.MismatchedRowsSample!.length, 1);
    assert.equal(s.Reports!.customer['80-'].MismatchedRowsSample, undefined);

    const script = ((await vd('repair', { uuid: UUID })) as { script: string }).script;
    assert.equal((script.match(/^USE `customer:-80`;$/gm) ?? []).length, 3);
    assert.doesNotMatch(script, /customer:80-/);
    // The shards of a reshard in progress are test tablets the harness's gate does not track, so
    // each statement runs on the shard its USE names (the MoveTables test applies its script
    // through the gate).
    let shard = '';
    for (const line of script.split('\n')) {
      const use = /^USE `customer:(.+)`;$/.exec(line);
      if (use) shard = use[1];
      else if (line !== '' && !line.startsWith('--')) await onShard(shard, line);
    }
    const again = (await vd('create')) as { UUID: string };
    const clean = await finished(again.UUID);
    assert.equal(clean.HasMismatch, false);
    assert.equal(clean.RowsCompared, await sourceCount());
  });

  it('resumes from the last compared key after the target tablet restarts mid-diff', async () => {
    // Enough rows that the diff is still running when the tablet goes; small batches and frequent
    // checkpoints so that a last key is recorded early.
    const values: string[] = [];
    for (let i = 100_000; i < 130_000; i++) values.push(`(${i}, 'bulk${i}@x')`);
    await c.shardRows('customer', '0', `INSERT INTO customer VALUES ${values.join(',')}`);
    const [{ p }] = await c.shardRows('customer', '0', 'SELECT @@global.gtid_binlog_pos AS p');
    for (const t of targets.values()) {
      const [st] = await t.manager.vreplication!.read('cust2cust');
      await t.manager.vreplication!.waitForPos(st.record.id, `MariaDB/${String(p)}`, 60_000);
    }
    const low = targets.get('-80')!;
    // Slowed down on -80 so the kill lands mid-diff, with a last key recorded every 500 rows.
    // Rows streamed one by one (no chunk checksums): a clean range of checksums would be compared
    // whole in one step, before the kill could land (crash.test.ts kills mid-diff with them on).
    Object.assign(low.manager.vdiff!.limits, { compareRowsPerSecondMax: 5_000, checkpointRowsMax: 500, targetBatchRowsMax: 200, sourceBatchRowsMax: 200 });
    const { UUID } = (await vd('create', { tables: 'customer', chunk_checksum: false })) as { UUID: string };
    let lastpkBefore = '';
    await waitFor('the diff on -80 to record a last compared key', async () => {
      const r = await low.manager.executeFetchAsDba(`SELECT t.lastpk FROM _vt.vdiff_table t JOIN _vt.vdiff v ON t.vdiff_id = v.id WHERE v.vdiff_uuid = '${UUID}' AND t.table_name = 'customer'`);
      lastpkBefore = String(r.rows[0]?.[0] ?? '');
      return lastpkBefore !== '' && lastpkBefore !== 'null';
    }, 60_000);
    const state = await low.manager.executeFetchAsDba(`SELECT state FROM _vt.vdiff WHERE vdiff_uuid = '${UUID}'`);
    assert.equal(String(state.rows[0][0]), 'started', 'the kill must land mid-diff');
    // The tablet process goes away (its MariaDB stays), and comes back on the same MariaDB.
    const { port } = await c.mysqlAddress(low);
    await low.stop();
    targets.set('-80', await startTestTablet({ cell: c.cell, keyspace: 'customer', shard: '-80', tabletType: 'primary', topo: c.topo, uid: Number(low.alias.split("-")[1]), mysqlPort: port }));
    const s = await finished(UUID).catch(async (err) => {
      throw new Error(`${(err as Error).message}: ${JSON.stringify(await vd('show', { uuid: UUID }))}`);
    });
    assert.equal(s.HasMismatch, false);
    const [{ n }] = await c.shardRows('customer', '0', 'SELECT COUNT(*) AS n FROM customer');
    // Every row compared once: nothing from before the kill compared again.
    assert.equal(s.TableSummary.customer.RowsCompared, Number(n));
    const logs = await targets.get('-80')!.manager.executeFetchAsDba(`SELECT message FROM _vt.vdiff_log l JOIN _vt.vdiff v ON l.vdiff_id = v.id WHERE v.vdiff_uuid = '${UUID}'`);
    assert.ok(logs.rows.length > 0);
  });
});
