// Vitess's TestMoveTablesBuffering, made stronger: 100 connections insert through the gate while a
// MoveTables of `product` from commerce to customer goes through ten SwitchTraffic +
// ReverseTraffic rounds. With buffering on, every insert succeeds (Vitess's test checks that much);
// and, which Vitess's does not check, every acknowledged row is on the serving side at the end and
// both sides hold the same rows once the reverse stream has caught up.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { startCluster, type TestCluster } from '../../harness/cluster.js';
import { WriteLedger } from '../../harness/ledger.js';
import { WORKFLOW_COMMANDS } from '../../../src/ctld/workflow-commands.js';
import type { CtldContext } from '../../../src/ctld/command.js';
import { RpcTabletManagerClient } from '../../../src/tablet/index.js';
import type { Json, JsonObject } from '../../../src/topo/index.js';
import { waitFor } from '../../harness/wait.js';
import { bufferMetric } from './load.js';

const SCHEMA = 'CREATE TABLE product (sku varbinary(128) NOT NULL, description varbinary(128), price bigint, PRIMARY KEY (sku))';
const ROUNDS = Number(process.env.TESSERA_MOVETABLES_ROUNDS ?? 10);
const CONNECTIONS = Number(process.env.TESSERA_BUFFER_CONNECTIONS ?? 100);

describe('MoveTables SwitchTraffic and ReverseTraffic rounds under inserts from many connections', { timeout: 900_000 }, () => {
  let c: TestCluster;
  let ctx: CtldContext;

  before(async () => {
    c = await startCluster({
      keyspaces: [
        { name: 'commerce', shards: ['0'], schema: SCHEMA, vschema: { tables: { product: {} } } },
        { name: 'customer', shards: ['0'] },
      ],
      gate: { buffer: { enabled: true, requestsMax: Math.max(1_000, CONNECTIONS * 2) } },
    });
    ctx = { topo: c.topo, tmc: new RpcTabletManagerClient(c.topo) };
  });

  after(async () => {
    ctx?.tmc.close();
    await c?.stop();
  });

  it('every insert succeeds and every acknowledged row is served, round after round', async () => {
    const mt = (action: string, extra: JsonObject = {}): Promise<Json> =>
      WORKFLOW_COMMANDS.MoveTables.run(ctx, { action, workflow: 'products', target_keyspace: 'customer', format: 'json', ...extra });
    await mt('create', { source_keyspace: 'commerce', tables: ['product'], tablet_types: ['primary'] });
    await waitFor('the copy of product', async () => {
      const st = (await mt('status')) as { table_copy_state: object; shard_streams: Record<string, { streams: { status: string }[] }> };
      return Object.keys(st.table_copy_state).length === 0 && Object.values(st.shard_streams).flatMap((x) => x.streams).every((x) => x.status === 'Running');
    }, 120_000);

    // Half the writers name no database (the gate plans each insert), half `USE commerce` (an
    // unsharded keyspace: the insert goes as written while the table is commerce's, and must be
    // planned to its new home once the switch moved it — also when it is a retry the buffer let go).
    const pool = mysql.createPool({ host: '127.0.0.1', port: c.gate!.mysqlPort, user: 'vt_app', password: '', connectionLimit: CONNECTIONS });
    const poolUse = mysql.createPool({ host: '127.0.0.1', port: c.gate!.mysqlPort, user: 'vt_app', password: '', database: 'commerce', connectionLimit: CONNECTIONS });
    // When each writer last had an insert acknowledged.
    const lastAck: number[] = Array.from({ length: CONNECTIONS }, () => 0);
    const ledger = new WriteLedger({
      writers: CONNECTIONS,
      write: async (id, w) => {
        await (w % 2 ? poolUse : pool).query(`INSERT INTO product (sku, description, price) VALUES ('L-${id}', 'ledger', ${id})`);
        lastAck[w] = Date.now();
      },
    });
    // Every writer, the ones whose insert was waiting in the buffer at the switch included, has
    // an insert acknowledged after it: none is left waiting for a change that already happened.
    const everyWriterAfter = (t: number) => waitFor('an acknowledged insert from every writer after the switch', async () => lastAck.every((a) => a > t), 120_000);
    const pauses: number[] = [];
    ledger.start();
    try {
      await ledger.waitForAcks(200);
      for (let i = 1; i <= ROUNDS; i++) {
        const sw = (await mt('switchtraffic')) as { current_state: string; write_pause_ms: number };
        assert.equal(sw.current_state, 'All Reads Switched. Writes Switched');
        pauses.push(sw.write_pause_ms);
        await everyWriterAfter(Date.now());
        await ledger.waitForAcks(200);
        const rv = (await mt('reversetraffic')) as { current_state: string; write_pause_ms: number };
        assert.equal(rv.current_state, 'Reads Not Switched. Writes Not Switched');
        pauses.push(rv.write_pause_ms);
        await ledger.waitForAcks(200);
      }
    } finally {
      await ledger.stop();
      await pool.end();
      await poolUse.end();
    }
    const sorted = [...pauses].sort((a, b) => a - b);
    process.stdout.write(`# ${ROUNDS} rounds, ${CONNECTIONS} connections: ${ledger.acknowledged.length} rows acknowledged, ${ledger.failedTotal} failed; ` +
      `write pause median ${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted[sorted.length - 1]} ms; failures ${JSON.stringify(ledger.failed.slice(0, 5))}\n`);
    assert.equal(ledger.failedTotal, 0, `every insert succeeds: ${JSON.stringify(ledger.failed.slice(0, 5))}`);

    // commerce serves again after the last ReverseTraffic: every acknowledged row is there, once.
    const rowsOf = async (ks: string) => (await c.shardRows(ks, '0', 'SELECT sku, description, price FROM product ORDER BY sku')).map((r) => `${String(r.sku)}|${String(r.description)}|${String(r.price)}`);
    const served = await rowsOf('commerce');
    const skus = new Set(served.map((r) => r.split('|')[0]));
    assert.equal(skus.size, served.length);
    assert.deepEqual(ledger.missing([...skus].filter((s) => s.startsWith('L-')).map((s) => Number(s.slice(2)))), [], 'acknowledged rows missing');
    // The forward stream runs again from commerce: customer ends equal to it (a full compare).
    await waitFor('customer to equal commerce', async () => JSON.stringify(await rowsOf('customer')) === JSON.stringify(served), 60_000);

    const port = c.gate!.httpPort;
    const buffered = (await bufferMetric(port, 'tessera_gate_buffer_requests_buffered', 'commerce', '0')) + (await bufferMetric(port, 'tessera_gate_buffer_requests_buffered', 'customer', '0'));
    process.stdout.write(`# requests buffered: ${buffered}\n`);
    assert.ok(buffered > 0, 'requests were buffered');
    await mt('cancel');
  });
});
