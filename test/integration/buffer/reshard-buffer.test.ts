// Vitess's resharding buffering test on real processes: the same reader, slow reader, autocommit
// writer and transactions held open 0–1 s, through the gate (tablets reached over the network),
// while a Reshard customer/0 → -80,80- switches its writes, reverses them and switches again.
// No read or autocommit write fails; a transaction open at a switch fails at most once, with
// 1213/40001; every acknowledged row is served afterwards; customer/0's buffer held requests.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type TestCluster } from '../../harness/cluster.js';
import { startTestTablet } from '../../harness/tablet.js';
import { WORKFLOW_COMMANDS } from '../../../src/ctld/workflow-commands.js';
import type { CtldContext } from '../../../src/ctld/command.js';
import { RpcTabletManagerClient, type TabletProcess } from '../../../src/tablet/index.js';
import type { Json, JsonObject } from '../../../src/topo/index.js';
import { waitFor } from '../../harness/wait.js';
import { waitForCopied } from '../../harness/workflow-wait.js';
import { BufferLoad, bufferMetric } from './load.js';

const SCHEMA = 'CREATE TABLE customer (customer_id bigint NOT NULL, email varchar(128), PRIMARY KEY (customer_id))';
const VSCHEMA = { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { customer: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] } } };
const SEED = Number(process.env.TESSERA_SEED ?? Date.now() % 1_000_000);

describe('gate buffering through SwitchTraffic of a Reshard 0 → -80,80-', { timeout: 600_000 }, () => {
  let c: TestCluster;
  let ctx: CtldContext;
  const targets: TabletProcess[] = [];

  before(async () => {
    process.stdout.write(`# seed ${SEED}\n`);
    c = await startCluster({ network: true, keyspaces: [{ name: 'customer', shards: ['0'], schema: SCHEMA, vschema: VSCHEMA }], gate: { buffer: { enabled: true } } });
    for (const shard of ['-80', '80-']) targets.push(await startTestTablet({ cell: c.cell, keyspace: 'customer', shard, tabletType: 'primary', topo: c.topo }));
    ctx = { topo: c.topo, tmc: new RpcTabletManagerClient(c.topo) };
    const conn = await c.connect('customer');
    const values = Array.from({ length: 200 }, (_, i) => `(${i + 1}, 'c${i + 1}')`).join(',');
    await conn.query(`INSERT INTO customer (customer_id, email) VALUES ${values}`);
    await conn.end();
  });

  after(async () => {
    ctx?.tmc.close();
    await Promise.all(targets.map((t) => t.stop({ stopMysql: true })));
    await c?.stop();
  });

  it('holds reads and writes through each switch of the writes, and fails each open transaction at most once, retryably', async () => {
    const reshard = (action: string, extra: JsonObject = {}): Promise<Json> =>
      WORKFLOW_COMMANDS.Reshard.run(ctx, { action, workflow: 'cust2cust', target_keyspace: 'customer', format: 'json', ...extra });
    await reshard('create', { source_shards: ['0'], target_shards: ['-80', '80-'], tablet_types: ['primary'] });
    await waitForCopied('the copy to finish', (req) => reshard('status', req), 2);
    await reshard('switchtraffic', { tablet_types: ['rdonly', 'replica'] });

    const conns = { reader: await c.connect('customer'), slowReader: await c.connect('customer'), writer: await c.connect('customer'), txWriter: await c.connect('customer'), streamReader: await c.connect('customer') };
    const load = new BufferLoad(conns, {
      read: 'SELECT email FROM customer WHERE customer_id = 7',
      slowRead: 'SELECT SLEEP(0.2) AS s, email FROM customer WHERE customer_id = 9',
      insert: (id) => `INSERT INTO customer (customer_id, email) VALUES (${id}, 'w${id}')`,
    }, 10_000, SEED);
    const switches = ['switchtraffic', 'reversetraffic', 'switchtraffic'];
    await load.start();
    try {
      await waitFor('load before the switch', async () => load.acked.length > 20 && load.reads > 20 && load.streamReads > 20, 30_000);
      for (const action of switches) {
        const out = (await reshard(action)) as { summary: string };
        assert.match(out.summary, /was successful/);
        const acked = load.acked.length;
        const reads = load.reads;
        const streamReads = load.streamReads;
        await waitFor(`load after ${action}`, async () => load.acked.length > acked + 20 && load.reads > reads + 20 && load.streamReads > streamReads + 20, 30_000);
      }
    } finally {
      await load.stop();
      for (const x of Object.values(conns)) await x.end().catch(() => undefined);
    }
    const summary = `${load.reads} reads, ${load.streamReads} streamed reads, ${load.acked.length} rows acknowledged, ${load.transactionsCommitted} transactions committed; ` +
      `errors: reads ${JSON.stringify(load.readErrors)}, streamed reads ${JSON.stringify(load.streamReadErrors)}, writes ${JSON.stringify(load.writeErrors)}, transactions ${JSON.stringify(load.txErrors)}`;
    process.stdout.write(`# ${summary}\n`);
    assert.deepEqual(load.readErrors, [], 'no read fails');
    assert.deepEqual(load.streamReadErrors, [], 'no streamed read fails (a stream that has sent nothing waits in the buffer)');
    assert.deepEqual(load.writeErrors, [], 'no autocommit write fails');
    assert.ok(load.txErrors.length <= switches.length, summary);
    for (const e of load.txErrors) {
      assert.equal(e.errno, 1213, e.message);
      assert.equal(e.sqlState, '40001', e.message);
    }
    assert.ok(load.transactionsCommitted > 0);

    // Served now by -80 and 80-: every acknowledged row, once.
    const ids: number[] = [];
    for (const t of targets) ids.push(...(await t.manager.executeFetchAsDba('SELECT customer_id FROM customer', { maxRows: 1_000_000 })).rows.map((r) => Number(r[0])));
    assert.equal(new Set(ids).size, ids.length, 'no row twice');
    const have = new Set(ids);
    assert.deepEqual(load.acked.filter((id) => !have.has(id)), [], 'acknowledged rows missing');

    const port = c.gate!.httpPort;
    const buffered = (await bufferMetric(port, 'tessera_gate_buffer_requests_buffered', 'customer', '0')) +
      (await bufferMetric(port, 'tessera_gate_buffer_requests_buffered', 'customer', '-80')) +
      (await bufferMetric(port, 'tessera_gate_buffer_requests_buffered', 'customer', '80-'));
    assert.ok(buffered > 0, 'requests were buffered');
    assert.ok((await bufferMetric(port, 'tessera_gate_buffer_requests_buffered', 'customer', '0')) > 0, 'customer/0 buffered while its writes moved');
  });
});
