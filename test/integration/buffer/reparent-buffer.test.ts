// Vitess's buffering test on real processes: a reader (fast and slow selects), an autocommit writer
// and a writer of transactions held open 0–1 s, all through the gate, while PlannedReparentShard
// moves the primary of a one-shard keyspace away and back. With buffering on: no read fails, no
// autocommit write fails, a transaction open at a reparent fails at most once and then with
// 1213/40001 (so drivers retry it), every acknowledged row is on the new primary, and the buffer's
// counters show it held requests.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type TestCluster } from '../../harness/cluster.js';
import { CTLD_COMMANDS, type CtldContext } from '../../../src/ctld/index.js';
import { RpcTabletManagerClient } from '../../../src/tablet/index.js';
import { waitFor } from '../../harness/wait.js';
import { BufferLoad, bufferMetric } from './load.js';

const SCHEMA = 'CREATE TABLE item (id bigint NOT NULL, note varchar(32), PRIMARY KEY (id))';
const SEED = Number(process.env.TESSERA_SEED ?? Date.now() % 1_000_000);

describe('gate buffering through PlannedReparentShard of a one-shard keyspace', { timeout: 300_000 }, () => {
  let c: TestCluster;
  let ctx: CtldContext;

  before(async () => {
    process.stdout.write(`# seed ${SEED}\n`);
    c = await startCluster({
      keyspaces: [{ name: 'commerce', shards: ['0'], schema: SCHEMA, vschema: { tables: { item: {} } }, replicas: 1 }],
      gate: { buffer: { enabled: true } },
    });
    ctx = { topo: c.topo, tmc: new RpcTabletManagerClient(c.topo) };
    const conn = await c.connect('commerce');
    await conn.query("INSERT INTO item VALUES (1, 'always')");
    await conn.end();
  });

  after(async () => {
    ctx?.tmc.close();
    await c?.stop();
  });

  it('holds reads and writes while the primary moves, and fails each open transaction at most once, retryably', async () => {
    const conns = { reader: await c.connect('commerce'), slowReader: await c.connect('commerce'), writer: await c.connect('commerce'), txWriter: await c.connect('commerce'), streamReader: await c.connect('commerce') };
    const load = new BufferLoad(conns, {
      read: 'SELECT note FROM item WHERE id = 1',
      slowRead: 'SELECT SLEEP(0.2) AS s, note FROM item WHERE id = 1',
      insert: (id) => `INSERT INTO item VALUES (${id}, 'w')`,
    }, 1000, SEED);
    const original = c.shard('commerce', '0').primary.alias;
    const other = c.shard('commerce', '0').replicas[0].alias;
    const reparents = 2;
    await load.start();
    try {
      await waitFor('load before the reparent', async () => load.acked.length > 20 && load.reads > 20 && load.streamReads > 20, 30_000);
      for (const to of [other, original]) {
        const out = (await CTLD_COMMANDS.PlannedReparentShard.run(ctx, { keyspace_shard: 'commerce/0', new_primary: to })) as { primary: string };
        assert.equal(out.primary, to);
        const acked = load.acked.length;
        const reads = load.reads;
        const streamReads = load.streamReads;
        await waitFor('load after the reparent', async () => load.acked.length > acked + 20 && load.reads > reads + 20 && load.streamReads > streamReads + 20, 30_000);
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
    // One transaction is open at a time, so at most one fails per reparent, and as a retryable rollback.
    assert.ok(load.txErrors.length <= reparents, summary);
    for (const e of load.txErrors) {
      assert.equal(e.errno, 1213, e.message);
      assert.equal(e.sqlState, '40001', e.message);
      assert.match(e.message, /the transaction was rolled back: the primary of commerce\/0 changed/);
    }
    assert.ok(load.transactionsCommitted > 0);

    // Every acknowledged row is there, once.
    const rows = await c.shardRows('commerce', '0', 'SELECT id FROM item');
    const ids = new Set(rows.map((r) => Number(r.id)));
    assert.equal(ids.size, rows.length);
    assert.deepEqual(load.acked.filter((id) => !ids.has(id)), [], 'acknowledged rows missing');

    // The buffer held requests, and says so on /metrics and the status page.
    const gate = c.gate!;
    assert.ok((await bufferMetric(gate.httpPort, 'tessera_gate_buffer_requests_buffered', 'commerce', '0')) > 0, 'requests were buffered');
    assert.ok((await bufferMetric(gate.httpPort, 'tessera_gate_buffer_stops', 'commerce', '0')) >= 1, 'failovers ended');
    assert.ok((await bufferMetric(gate.httpPort, 'tessera_gate_buffer_failover_duration_sum_ms', 'commerce', '0')) > 0);
    const page = await (await fetch(`http://127.0.0.1:${gate.httpPort}/debug/status`)).text();
    assert.match(page, /Failover buffer/);
    assert.match(page, /BufferRequestsBuffered/);
    const vars = (await (await fetch(`http://127.0.0.1:${gate.httpPort}/debug/vars`)).json()) as { bufferVars: { BufferRequestsBuffered: Record<string, number> } };
    assert.ok(vars.bufferVars.BufferRequestsBuffered['commerce.0'] > 0);
  });
});
