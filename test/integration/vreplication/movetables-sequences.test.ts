// MoveTables into a sharded keyspace and AUTO_INCREMENT, on real tablets and a real gate:
// REPLACE creates customer_seq in the global keyspace and names it in the target VSchema;
// switchtraffic --initialize-target-sequences sets it above the largest id on the target shards
// while writes are stopped; after a round trip in which the unsharded source handed out ids of its
// own, a second switch leaves no gate handing out ids from the block it cached in the first (the
// insert without an id would hit a duplicate key). REMOVE (the default) strips AUTO_INCREMENT.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type mysql from 'mysql2/promise';
import { startCluster, type TestCluster } from '../../harness/cluster.js';
import { TOPO_COMMANDS } from '../../../src/ctld/topo-commands.js';
import { WORKFLOW_COMMANDS } from '../../../src/ctld/workflow-commands.js';
import type { CtldContext } from '../../../src/ctld/command.js';
import { RpcTabletManagerClient } from '../../../src/tablet/index.js';
import type { Json, JsonObject } from '../../../src/topo/index.js';
import { waitFor } from '../../harness/wait.js';

const SCHEMA = `
CREATE TABLE customer (customer_id bigint NOT NULL AUTO_INCREMENT, email varbinary(128), PRIMARY KEY (customer_id));
CREATE TABLE corder (order_id bigint NOT NULL AUTO_INCREMENT, customer_id bigint, PRIMARY KEY (order_id))`;

const CUSTOMER_VSCHEMA = {
  sharded: true,
  vindexes: { hash: { type: 'hash' } },
  tables: {
    customer: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] },
    corder: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] },
  },
};

describe('MoveTables into a sharded keyspace: sequences', { timeout: 600_000 }, () => {
  let c: TestCluster;
  let ctx: CtldContext;
  let gate: mysql.Connection;

  const run = (name: string, req: JsonObject): Promise<Json> => (WORKFLOW_COMMANDS[name] ?? TOPO_COMMANDS[name]).run(ctx, req);
  const mt = (workflow: string, action: string, extra: JsonObject = {}) => run('MoveTables', { action, workflow, target_keyspace: 'customer', format: 'json', ...extra });
  const copied = (workflow: string) =>
    waitFor(`the copy of ${workflow}`, async () => {
      const st = (await mt(workflow, 'status')) as { table_copy_state: object; shard_streams: Record<string, { streams: { status: string; info: string }[] }> };
      const streams = Object.values(st.shard_streams).flatMap((s) => s.streams);
      for (const s of streams) if (s.status === 'Error') throw new Error(`stream in Error: ${s.info}`);
      return Object.keys(st.table_copy_state).length === 0 && streams.length === 2 && streams.every((s) => s.status === 'Running');
    });
  const nextId = async () => Number((await c.shardRows('commerce', '0', 'SELECT next_id FROM customer_seq WHERE id = 0'))[0].next_id);
  const defs = async (table: string) => Promise.all(['-80', '80-'].map(async (sh) => String((await c.shardRows('customer', sh, `SHOW CREATE TABLE ${table}`))[0]['Create Table'])));
  /** Inserts `n` customers through the gate without ids; returns the ids they got. */
  const insertNew = async (n: number, tag: string) => {
    const ids: number[] = [];
    for (let i = 0; i < n; i++) {
      const [r] = (await gate.query(`INSERT INTO customer (email) VALUES ('${tag}-${i}')`)) as unknown as [{ insertId: number }];
      ids.push(Number(r.insertId));
    }
    return ids;
  };

  before(async () => {
    c = await startCluster({
      keyspaces: [
        { name: 'commerce', shards: ['0'], schema: SCHEMA, vschema: { tables: { customer: {}, corder: {} } } },
        { name: 'customer', shards: ['-80', '80-'], vschema: CUSTOMER_VSCHEMA },
      ],
    });
    ctx = { topo: c.topo, tmc: new RpcTabletManagerClient(c.topo) };
    // Unqualified names in commerce: the table is in two VSchemas, and no routing rule says which yet.
    gate = await c.connect('commerce');
    await insertNew(5, 'before');
  });

  after(async () => {
    await gate?.end().catch(() => undefined);
    ctx?.tmc.close();
    await c?.stop();
  });

  it('REMOVE (the default) creates the target tables without AUTO_INCREMENT', async () => {
    await assert.rejects(mt('o', 'create', { source_keyspace: 'commerce', tables: ['corder'], sharded_auto_increment_handling: 'KEEP' }), /--sharded-auto-increment-handling: KEEP is not LEAVE, REMOVE or REPLACE/);
    await mt('o', 'create', { source_keyspace: 'commerce', tables: ['corder'] });
    for (const d of await defs('corder')) {
      assert.doesNotMatch(d, /AUTO_INCREMENT/i, d);
      assert.match(d, /`order_id` bigint\(20\) NOT NULL/, d);
    }
    assert.equal(((await c.topo.getVSchema('customer')).tables as Record<string, { auto_increment?: unknown }>).corder.auto_increment, undefined);
    await mt('o', 'cancel');
  });

  it('REPLACE creates the sequence in the global keyspace and names it in the target VSchema', async () => {
    await assert.rejects(mt('c', 'create', { source_keyspace: 'commerce', tables: ['customer'], sharded_auto_increment_handling: 'REPLACE' }), /REPLACE needs --global-keyspace: the unsharded keyspace to create customer_seq in/);
    await assert.rejects(mt('c', 'create', { source_keyspace: 'commerce', tables: ['customer'], sharded_auto_increment_handling: 'REPLACE', global_keyspace: 'nosuch' }), /--global-keyspace nosuch does not exist/);
    assert.deepEqual(await c.shardRows('commerce', '0', "SHOW TABLES LIKE 'customer_seq'"), [], 'a refused create made no sequence');
    await mt('c', 'create', { source_keyspace: 'commerce', tables: ['customer'], sharded_auto_increment_handling: 'REPLACE', global_keyspace: 'commerce' });
    for (const d of await defs('customer')) assert.doesNotMatch(d, /AUTO_INCREMENT/i, d);
    assert.deepEqual(((await c.topo.getVSchema('commerce')).tables as Record<string, unknown>).customer_seq, { type: 'sequence' });
    assert.deepEqual(((await c.topo.getVSchema('customer')).tables as Record<string, { auto_increment?: unknown }>).customer.auto_increment, { column: 'customer_id', sequence: 'commerce.customer_seq' });
    assert.equal(await nextId(), 1);
    await copied('c');
  });

  it('--initialize-target-sequences sets the sequence above the largest id, and no gate keeps an older block', async () => {
    const before = await insertNew(5, 'source'); // MariaDB's AUTO_INCREMENT on commerce: 6..10
    assert.deepEqual(before, [6, 7, 8, 9, 10]);
    const sw = (await mt('c', 'switchtraffic', { initialize_target_sequences: true })) as { current_state: string; steps: { step: string }[] };
    assert.equal(sw.current_state, 'All Reads Switched. Writes Switched');
    assert.ok(sw.steps.some((s) => /^initialize the sequences of customer/.test(s.step)), JSON.stringify(sw.steps));
    assert.equal(await nextId(), 11);
    // The gate takes a block [11, 1011) and hands out 11, 12, 13.
    assert.deepEqual(await insertNew(3, 'target'), [11, 12, 13]);

    // Back to commerce: its own AUTO_INCREMENT goes on past what came back through the reverse workflow.
    await mt('c', 'reversetraffic');
    await waitFor('commerce to hold the rows written on customer', async () => Number((await c.shardRows('commerce', '0', 'SELECT COUNT(*) AS n FROM customer'))[0].n) === 13);
    const onSource = await insertNew(3, 'source-again');
    assert.deepEqual(onSource, [14, 15, 16]);
    await waitFor('customer to hold the rows written on commerce', async () => {
      const n = await Promise.all(['-80', '80-'].map(async (sh) => Number((await c.shardRows('customer', sh, 'SELECT COUNT(*) AS n FROM customer'))[0].n)));
      return n[0] + n[1] === 16;
    });

    // Forward again. The row already says 1011 (the gate took [11, 1011)), above the largest id
    // (16), so it stays; the gate forgets the rest of its block ([14, 1011): 14 would collide with
    // the row commerce gave 14) and refills from the row.
    await mt('c', 'switchtraffic', { initialize_target_sequences: true });
    assert.equal(await nextId(), 1011);
    const after = await insertNew(3, 'target-again');
    assert.deepEqual(after, [1011, 1012, 1013]);
    const all = await Promise.all(['-80', '80-'].map((sh) => c.shardRows('customer', sh, 'SELECT customer_id FROM customer')));
    const ids = all.flat().map((r) => Number(r.customer_id)).sort((a, b) => a - b);
    assert.deepEqual(ids, [...Array.from({ length: 16 }, (_, i) => i + 1), 1011, 1012, 1013]);
  });
});
