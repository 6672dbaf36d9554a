// A Reshard customer/0 → -80,80- from create to complete under the write ledger's load through the
// gate (tablets reached over the network, the gate's buffer on): the copy runs while rows arrive,
// reads switch, then ten rounds of switching the primary to the new shards and reversing it back.
// After the copy and after every switch and every reverse, a VDiff of the workflow that runs then
// (cust2cust forward, cust2cust_reverse once writes moved) is clean; at the end every acknowledged
// row is on -80 or 80-, once, and no client write failed (the buffer holds them through each flip).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { startCluster, type TestCluster } from '../../harness/cluster.js';
import { startTestTablet } from '../../harness/tablet.js';
import { WriteLedger } from '../../harness/ledger.js';
import { WORKFLOW_COMMANDS } from '../../../src/ctld/workflow-commands.js';
import { VDIFF_COMMANDS } from '../../../src/ctld/vdiff-commands.js';
import type { CtldContext } from '../../../src/ctld/command.js';
import { RpcTabletManagerClient, type TabletProcess } from '../../../src/tablet/index.js';
import type { Json, JsonObject } from '../../../src/topo/index.js';
import { waitFor } from '../../harness/wait.js';
import { waitForCopied } from '../../harness/workflow-wait.js';

const ROUNDS = Number(process.env.TESSERA_RESHARD_ROUNDS ?? 10);
const WRITERS = 8;
const SEED_ROWS = 300;
const SCHEMA = 'CREATE TABLE customer (customer_id bigint NOT NULL, email varchar(128), PRIMARY KEY (customer_id))';
const VSCHEMA = { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { customer: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] } } };

type Summary = { State: string; RowsCompared: number; HasMismatch: boolean; Shards: string; Reports?: unknown };

describe('Reshard 0 → -80,80- under the write ledger, ten primary switch/reverse rounds', { timeout: 900_000 }, () => {
  let c: TestCluster;
  let ctx: CtldContext;
  const targets: TabletProcess[] = [];
  const run = (name: string, req: JsonObject): Promise<Json> => (VDIFF_COMMANDS[name] ?? WORKFLOW_COMMANDS[name]).run(ctx, req);
  const reshard = (action: string, extra: JsonObject = {}) => run('Reshard', { action, workflow: 'cust2cust', target_keyspace: 'customer', format: 'json', ...extra });

  /** A VDiff of `workflow` in customer, to completion; its summary. */
  async function vdiff(workflow: string): Promise<Summary> {
    const vd = (action: string, extra: JsonObject = {}) => run('VDiff', { action, workflow, target_keyspace: 'customer', format: 'json', ...extra });
    const { UUID } = (await vd('create')) as { UUID: string };
    let s: Summary | undefined;
    await waitFor(`VDiff ${UUID} of ${workflow}`, async () => {
      s = (await vd('show', { uuid: UUID })) as unknown as Summary;
      if (s.State === 'error') throw new Error(`VDiff in error: ${JSON.stringify(s)}`);
      return s.State === 'completed';
    }, 120_000);
    await vd('delete', { uuid: UUID });
    return s!;
  }

  before(async () => {
    c = await startCluster({
      network: true,
      keyspaces: [{ name: 'customer', shards: ['0'], schema: SCHEMA, vschema: VSCHEMA }],
      gate: { buffer: { enabled: true, requestsMax: 1_000 } },
    });
    for (const shard of ['-80', '80-']) targets.push(await startTestTablet({ cell: c.cell, keyspace: 'customer', shard, tabletType: 'primary', topo: c.topo }));
    ctx = { topo: c.topo, tmc: new RpcTabletManagerClient(c.topo) };
    const values = Array.from({ length: SEED_ROWS }, (_, i) => `(${i + 1}, 'seed${i + 1}')`).join(',');
    await c.shardRows('customer', '0', `INSERT INTO customer (customer_id, email) VALUES ${values}`);
  });

  after(async () => {
    ctx?.tmc.close();
    await Promise.all(targets.map((t) => t.stop({ stopMysql: true })));
    await c?.stop();
  });

  it('keeps every acknowledged row, fails no write and diffs clean after each switch and reverse', async () => {
    const pool = mysql.createPool({ host: '127.0.0.1', port: c.gate!.mysqlPort, user: 'vt_app', password: '', database: 'customer', connectionLimit: WRITERS });
    // Ledger ids start above the seed rows: the two never collide.
    const ledger = new WriteLedger({
      writers: WRITERS,
      write: async (id) => {
        await pool.query(`INSERT INTO customer (customer_id, email) VALUES (${SEED_ROWS + id}, 'l${id}')`);
      },
    });
    const diffs: string[] = [];
    const pauses: number[] = [];
    const expectClean = async (workflow: string, when: string) => {
      const s = await vdiff(workflow);
      diffs.push(`${when}: ${s.RowsCompared}`);
      assert.equal(s.HasMismatch, false, `VDiff of ${workflow} ${when}: ${JSON.stringify(s.Reports)}`);
      assert.ok(s.RowsCompared >= SEED_ROWS, `VDiff of ${workflow} ${when} compared ${s.RowsCompared} rows`);
    };
    ledger.start();
    try {
      await ledger.waitForAcks(50);
      await reshard('create', { source_shards: ['0'], target_shards: ['-80', '80-'], tablet_types: ['primary'] });
      await waitForCopied('the copy to finish', (req) => reshard('status', req), 2);
      await expectClean('cust2cust', 'after the copy');
      await reshard('switchtraffic', { tablet_types: ['rdonly', 'replica'] });
      await ledger.waitForAcks(50);

      for (let round = 1; round <= ROUNDS; round++) {
        const sw = (await reshard('switchtraffic')) as { state: string; writePauseMs?: number };
        assert.equal(sw.state, 'All Reads Switched. Writes Switched', `round ${round}`);
        pauses.push(sw.writePauseMs ?? -1);
        await ledger.waitForAcks(50);
        await expectClean('cust2cust_reverse', `after switch ${round}`);
        const rv = (await reshard('reversetraffic', { tablet_types: ['primary'] })) as { state: string; writePauseMs?: number };
        assert.equal(rv.state, 'All Reads Switched. Writes Not Switched', `round ${round}`);
        pauses.push(rv.writePauseMs ?? -1);
        await ledger.waitForAcks(50);
        await expectClean('cust2cust', `after reverse ${round}`);
      }
      await reshard('switchtraffic');
      await ledger.waitForAcks(50);
      await expectClean('cust2cust_reverse', 'after the last switch');
    } finally {
      await ledger.stop();
      await pool.end();
    }
    process.stdout.write(`# ${ROUNDS} rounds, ${WRITERS} writers: ${ledger.acknowledged.length} rows acknowledged, ${ledger.failedTotal} writes failed ${JSON.stringify(ledger.failed.slice(0, 3))}\n`);
    process.stdout.write(`# rows compared: ${diffs.join('; ')}\n# write pauses (ms): ${pauses.join(', ')}\n`);
    await reshard('complete');

    const ids: number[] = [];
    for (const t of targets) ids.push(...(await t.manager.executeFetchAsDba('SELECT customer_id FROM customer', { maxRows: 1_000_000 })).rows.map((r) => Number(r[0])));
    assert.equal(new Set(ids).size, ids.length, 'no row on both new shards');
    const ledgerIds = ids.filter((id) => id > SEED_ROWS).map((id) => id - SEED_ROWS);
    assert.deepEqual(ledger.missing(ledgerIds), [], 'acknowledged rows missing from -80,80-');
    assert.equal(ids.filter((id) => id <= SEED_ROWS).length, SEED_ROWS, 'the seed rows');
    assert.equal(ledger.failedTotal, 0, `client errors: ${JSON.stringify(ledger.failed.slice(0, 5))}`);
    const srv = await c.topo.getSrvKeyspace(c.cell, 'customer');
    for (const p of srv.partitions) assert.deepEqual(p.shard_references.map((r) => r.name), ['-80', '80-'], `${p.served_type} served by -80,80-`);
  });
});
