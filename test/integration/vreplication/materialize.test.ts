// The VReplication engine end to end on real tablets and MariaDB: Materialize from an unsharded
// keyspace into a sharded one while a writer inserts, updates and deletes on the source; the copy
// runs in many small cycles so the writes land between, inside and after them. The target must
// end equal to the source row for row, each row in the shard `hash` gives it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type TestCluster } from '../../harness/cluster.js';
import { WORKFLOW_COMMANDS } from '../../../src/ctld/workflow-commands.js';
import type { CtldContext } from '../../../src/ctld/command.js';
import { RpcTabletManagerClient } from '../../../src/tablet/index.js';
import type { Json, JsonObject } from '../../../src/topo/index.js';
import { createVindex, type FunctionalVindex } from '../../../src/vindexes/index.js';
import { keyRangeContains, parseShardName } from '../../../src/key/index.js';

const SOURCE_SCHEMA = `
CREATE TABLE customer (customer_id bigint NOT NULL, email varbinary(128), name varchar(64) COLLATE utf8mb4_general_ci, balance decimal(12,2), note blob, PRIMARY KEY (customer_id));
CREATE TABLE tag (owner varchar(32) NOT NULL, label varchar(32) NOT NULL, weight int, PRIMARY KEY (owner, label))`;

const TARGET_VSCHEMA = {
  sharded: true,
  vindexes: { hash: { type: 'hash' } },
  tables: { customer: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] } },
};

async function run(ctx: CtldContext, name: string, req: JsonObject): Promise<Json> {
  return WORKFLOW_COMMANDS[name].run(ctx, req);
}

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('Materialize on real tablets', { timeout: 600_000 }, () => {
  let c: TestCluster;
  let ctx: CtldContext;

  before(async () => {
    c = await startCluster({
      gate: false,
      keyspaces: [
        { name: 'commerce', shards: ['0'], schema: SOURCE_SCHEMA, replicas: 1 },
        { name: 'customer', shards: ['-80', '80-'], vschema: TARGET_VSCHEMA },
      ],
    });
    // Over the network, as ctld reaches tablets in distributed mode.
    ctx = { topo: c.topo, tmc: new RpcTabletManagerClient(c.topo) };
  });

  after(async () => {
    ctx?.tmc.close();
    await c?.stop();
  });

  it('copies a keyed table into -80 and 80- under concurrent writes, then replicates', async () => {
    const seed = Number(process.env.TESSERA_TEST_SEED ?? Date.now() % 100000);
    console.log(`materialize test seed ${seed}`);
    const rnd = seeded(seed);
    const rows: string[] = [];
    for (let i = 1; i <= 3000; i++) {
      const id = i === 3000 ? '9223372036854775807' : String(i);
      rows.push(`(${id}, ${i % 7 === 0 ? "''" : `'u${i}@x'`}, ${i % 11 === 0 ? 'NULL' : `'Näme ${i}'`}, ${(i * 1.25).toFixed(2)}, X'00ff${(i % 256).toString(16).padStart(2, '0')}')`);
    }
    await c.shardRows('commerce', '0', `INSERT INTO customer VALUES ${rows.join(',')}`);
    await c.shardRows('commerce', '0', "INSERT INTO tag VALUES ('ann', 'a', 1), ('ann', 'b', 2), ('bob', 'Ä', 3), ('bob', 'ä2', 4)");

    // The writer: inserts new ids, updates and deletes random existing ones, on the source primary.
    let writing = true;
    let writes = 0;
    const writer = (async () => {
      let next = 5000;
      while (writing) {
        const k = Math.floor(rnd() * 3000) + 1;
        const op = rnd();
        const sql =
          op < 0.4
            ? `INSERT INTO customer VALUES (${next++}, 'w@x', 'writer', 1.00, NULL)`
            : op < 0.8
              ? `UPDATE customer SET balance = balance + 1, name = 'upd ${writes}' WHERE customer_id = ${k}`
              : `DELETE FROM customer WHERE customer_id = ${k}`;
        await c.shardRows('commerce', '0', sql);
        writes++;
      }
    })();

    const created = await run(ctx, 'Materialize', {
      action: 'create',
      workflow: 'm1',
      target_keyspace: 'customer',
      source_keyspace: 'commerce',
      table_settings: JSON.stringify([{ target_table: 'customer', source_expression: 'select * from customer', create_ddl: 'copy' }]),
      tablet_types: ['primary'],
      config_overrides: ['vreplication-copy-cycle-rows=400', 'vstream-packet-size-rows=97'],
    });
    assert.match(JSON.stringify(created), /created/);

    await waitFor('the copy to finish', async () => {
      const show = (await run(ctx, 'Workflow', { action: 'show', keyspace: 'customer', workflow: 'm1' })) as { workflows: { shard_streams: Record<string, { streams: { state: string; message: string }[] }> }[] };
      const streams = Object.values(show.workflows[0].shard_streams).flatMap((s) => s.streams);
      for (const s of streams) if (s.state === 'Error') throw new Error(`stream in Error: ${s.message}`);
      return streams.length === 2 && streams.every((s) => s.state === 'Running');
    });
    writing = false;
    await writer;
    assert.ok(writes > 0, 'the writer wrote during the copy');

    // Replication: wait until both streams reached the source's position, then compare.
    const [{ p }] = await c.shardRows('commerce', '0', 'SELECT @@global.gtid_binlog_pos AS p');
    for (const shard of ['-80', '80-']) {
      const primary = c.shard('customer', shard).primary;
      const streams = await primary.manager.vreplication!.read('m1');
      await primary.manager.vreplication!.waitForPos(streams[0].record.id, `MariaDB/${String(p)}`, 60_000);
      const logs = streams[0].logs.map((l) => l.message).join('\n');
      assert.match(logs, /Copy phase completed at gtid MariaDB\//);
    }

    const source = await c.shardRows('commerce', '0', 'SELECT customer_id, email, name, balance, HEX(note) AS note FROM customer ORDER BY customer_id');
    const hash = createVindex('hash', 'hash', {}) as FunctionalVindex;
    const target: typeof source = [];
    for (const shard of ['-80', '80-']) {
      const got = await c.shardRows('customer', shard, 'SELECT customer_id, email, name, balance, HEX(note) AS note FROM customer ORDER BY customer_id');
      const kr = parseShardName(shard);
      for (const r of got) {
        const [d] = hash.map([BigInt(String(r.customer_id))]);
        assert.ok(d.kind === 'keyspaceId' && keyRangeContains(kr, d.id), `customer ${String(r.customer_id)} is in ${shard}, which hash does not give it`);
      }
      target.push(...got);
    }
    target.sort((a, b) => (BigInt(String(a.customer_id)) < BigInt(String(b.customer_id)) ? -1 : 1));
    assert.equal(target.length, source.length);
    assert.deepEqual(
      target.map((r) => ({ ...r })),
      source.map((r) => ({ ...r })),
    );

    // Customers 1, 2, 3, 5 in -80 and 4 in 80- (the tutorial's placement), if still present.
    const low = (await c.shardRows('customer', '-80', 'SELECT customer_id FROM customer WHERE customer_id IN (1,2,3,4,5)')).map((r) => Number(r.customer_id));
    for (const id of low) assert.ok([1, 2, 3, 5].includes(id), `customer ${id} in -80`);

    // Stop, write, start: the stream resumes from its position and catches up.
    await run(ctx, 'Workflow', { action: 'stop', keyspace: 'customer', workflow: 'm1' });
    await c.shardRows('commerce', '0', "INSERT INTO customer VALUES (4, 'again@x', 'four', 4.00, NULL) ON DUPLICATE KEY UPDATE email = 'again@x'");
    await run(ctx, 'Workflow', { action: 'start', keyspace: 'customer', workflow: 'm1' });
    await waitFor('customer 4 to reach 80-', async () => (await c.shardRows('customer', '80-', "SELECT 1 FROM customer WHERE customer_id = 4 AND email = 'again@x'")).length === 1, 60_000);

    const status = (await run(ctx, 'Workflow', { action: 'status', keyspace: 'customer', workflow: 'm1', format: 'json' })) as { shard_streams: Record<string, unknown> };
    assert.deepEqual(Object.keys(status.shard_streams).sort(), ['customer/-80', 'customer/80-']);

    await run(ctx, 'Workflow', { action: 'delete', keyspace: 'customer', workflow: 'm1' });
    const after = (await run(ctx, 'GetWorkflows', { keyspace: 'customer' })) as { workflows: unknown[] };
    assert.equal(after.workflows.length, 0);
  });

  it('copies composite string keys exactly and refuses what it cannot copy', async () => {
    const targetTables = async () => {
      const out: string[] = [];
      for (const shard of ['-80', '80-']) for (const r of await c.shardRows('customer', shard, 'SHOW TABLES')) out.push(`${shard}:${String(Object.values(r)[0])}`);
      return out.sort();
    };
    const tablesBefore = await targetTables();
    await run(ctx, 'Materialize', {
      action: 'create',
      workflow: 'tags',
      target_keyspace: 'customer',
      source_keyspace: 'commerce',
      table_settings: JSON.stringify([{ target_table: 'tag', source_expression: 'select * from tag', create_ddl: 'copy' }]),
      tablet_types: ['replica', 'primary'],
    }).then(
      () => assert.fail('a table with no vindex in a sharded target must be refused'),
      (err: Error) => assert.match(err.message, /no primary vindex in the VSchema/),
    );
    await assert.rejects(
      run(ctx, 'Materialize', {
        action: 'create', workflow: 'x', target_keyspace: 'customer', source_keyspace: 'commerce',
        table_settings: JSON.stringify([{ target_table: 'nosuch', source_expression: '', create_ddl: 'copy' }]),
      }),
      /table nosuch does not exist in source keyspace commerce/,
    );
    await assert.rejects(
      run(ctx, 'Materialize', {
        action: 'create', workflow: 'x', target_keyspace: 'customer', source_keyspace: 'commerce',
        table_settings: JSON.stringify([{ target_table: 'customer', source_expression: 'select customer_id, count(*) from customer group by customer_id', create_ddl: 'copy' }]),
      }),
      /not supported yet/,
    );
    await assert.rejects(
      run(ctx, 'Materialize', {
        action: 'create', workflow: 'x', target_keyspace: 'customer', source_keyspace: 'commerce',
        table_settings: JSON.stringify([{ target_table: 'customer', source_expression: '', create_ddl: 'copy' }]),
        config_overrides: ['no-such-flag=1'],
      }),
      /unknown setting no-such-flag/,
    );
    const none = (await run(ctx, 'GetWorkflows', { keyspace: 'customer' })) as { workflows: unknown[] };
    assert.equal(none.workflows.length, 0, 'nothing half-made');
    // The refusals come before any target table is made (tag's copy would have been created first).
    assert.deepEqual(await targetTables(), tablesBefore, 'no target table made');
  });
});
