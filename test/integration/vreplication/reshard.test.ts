// Reshard's copy and replication on real tablets and MariaDB: customer/0 → -80,80- with the rule
// `{match: "/.*", filter: "<shard>"}`, every row placed by its table's primary vindex (hash for
// customer and corder), in the copy and afterwards from the binlog, while a writer runs. Then a
// merge back is refused while the new shards do not serve, and bad shard sets are refused naming
// the gap or overlap, with nothing made.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type TestCluster } from '../../harness/cluster.js';
import { startTestTablet } from '../../harness/tablet.js';
import { WORKFLOW_COMMANDS } from '../../../src/ctld/workflow-commands.js';
import type { CtldContext } from '../../../src/ctld/command.js';
import { RpcTabletManagerClient, type TabletProcess } from '../../../src/tablet/index.js';
import type { Json, JsonObject } from '../../../src/topo/index.js';
import { createVindex, type FunctionalVindex } from '../../../src/vindexes/index.js';
import { keyRangeContains, parseShardName } from '../../../src/key/index.js';
import { waitFor } from '../../harness/wait.js';

const SCHEMA = `
CREATE TABLE customer (customer_id bigint NOT NULL, email varchar(128), PRIMARY KEY (customer_id), KEY idx_email (email));
CREATE TABLE corder (order_id bigint NOT NULL, customer_id bigint NOT NULL, sku varbinary(128), price bigint, PRIMARY KEY (order_id))`;

const VSCHEMA = {
  sharded: true,
  vindexes: { hash: { type: 'hash' } },
  tables: {
    customer: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] },
    corder: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] },
  },
};

async function run(ctx: CtldContext, name: string, req: JsonObject): Promise<Json> {
  return WORKFLOW_COMMANDS[name].run(ctx, req);
}


describe('Reshard customer/0 → -80,80- on real tablets', { timeout: 600_000 }, () => {
  let c: TestCluster;
  let ctx: CtldContext;
  const targets = new Map<string, TabletProcess>();

  before(async () => {
    c = await startCluster({ gate: false, keyspaces: [{ name: 'customer', shards: ['0'], schema: SCHEMA, vschema: VSCHEMA }] });
    // The new shards overlap the serving one, so the topology creates them not serving.
    for (const shard of ['-80', '80-']) targets.set(shard, await startTestTablet({ cell: c.cell, keyspace: 'customer', shard, tabletType: 'primary', topo: c.topo }));
    ctx = { topo: c.topo, tmc: new RpcTabletManagerClient(c.topo) };
  });

  after(async () => {
    ctx?.tmc.close();
    await Promise.all([...targets.values()].map((t) => t.stop({ stopMysql: true })));
    await c?.stop();
  });

  const targetRows = async (shard: string, sql: string) => {
    const r = await targets.get(shard)!.manager.executeFetchAsDba(sql, { maxRows: 100_000 });
    return r.rows;
  };

  it('copies and replicates every row into the shard its keyspace id names', async () => {
    const customers: string[] = [];
    const orders: string[] = [];
    for (let i = 1; i <= 600; i++) {
      customers.push(`(${i}, 'c${i}@x')`);
      orders.push(`(${i}, ${(i % 600) + 1}, 'sku${i % 7}', ${i * 3})`);
    }
    await c.shardRows('customer', '0', `INSERT INTO customer VALUES ${customers.join(',')}`);
    await c.shardRows('customer', '0', `INSERT INTO corder VALUES ${orders.join(',')}`);

    let writing = true;
    let next = 10_000;
    const writer = (async () => {
      while (writing) {
        const id = next++;
        await c.shardRows('customer', '0', `INSERT INTO customer VALUES (${id}, 'w${id}@x')`);
        await c.shardRows('customer', '0', `UPDATE corder SET price = price + 1 WHERE order_id = ${(id % 600) + 1}`);
        if (id % 5 === 0) await c.shardRows('customer', '0', `DELETE FROM customer WHERE customer_id = ${id - 3}`);
      }
    })();

    const created = (await run(ctx, 'Reshard', {
      action: 'create',
      workflow: 'cust2cust',
      target_keyspace: 'customer',
      source_shards: ['0'],
      target_shards: ['-80', '80-'],
      tablet_types: ['primary'],
      config_overrides: ['vreplication-copy-cycle-rows=150', 'vstream-packet-size-rows=40'],
    })) as { streams: { shard: string }[] };
    assert.deepEqual(created.streams.map((s) => s.shard).sort(), ['-80', '80-']);

    // What the seed shows on the new primaries.
    const rows = await targetRows('-80', 'SELECT workflow, source, max_tps, max_replication_lag, db_name, workflow_type FROM _vt.vreplication');
    assert.deepEqual(rows, [['cust2cust', 'keyspace:"customer" shard:"0" filter:{rules:{match:"/.*" filter:"-80"}}', '9223372036854775807', '9223372036854775807', 'vt_customer', '4']]);

    await waitFor('the copy to finish', async () => {
      const st = (await run(ctx, 'Reshard', { action: 'status', workflow: 'cust2cust', target_keyspace: 'customer', format: 'json' })) as {
        table_copy_state: Record<string, unknown>;
        shard_streams: Record<string, { streams: { status: string; info: string }[] }>;
      };
      const streams = Object.values(st.shard_streams).flatMap((s) => s.streams);
      for (const s of streams) if (s.status === 'Error') throw new Error(`stream in Error: ${s.info}`);
      return Object.keys(st.table_copy_state).length === 0 && streams.length === 2 && streams.every((s) => s.status === 'Running');
    });
    writing = false;
    await writer;

    const [{ p }] = await c.shardRows('customer', '0', 'SELECT @@global.gtid_binlog_pos AS p');
    for (const t of targets.values()) {
      const [s] = await t.manager.vreplication!.read('cust2cust');
      await t.manager.vreplication!.waitForPos(s.record.id, `MariaDB/${String(p)}`, 60_000);
    }

    const hash = createVindex('hash', 'hash', {}) as FunctionalVindex;
    for (const [table, key, cols] of [
      ['customer', 'customer_id', 'customer_id, email'],
      ['corder', 'order_id', 'order_id, customer_id, sku, price'],
    ] as const) {
      const source = (await c.shardRows('customer', '0', `SELECT ${cols} FROM ${table} ORDER BY ${key}`)).map((r) => Object.values(r).map((v) => (v === null ? null : String(v))));
      const got: (string | null)[][] = [];
      for (const shard of ['-80', '80-']) {
        const rowsOf = await targetRows(shard, `SELECT ${cols} FROM ${table} ORDER BY ${key}`);
        const kr = parseShardName(shard);
        const cidIndex = cols.split(', ').indexOf('customer_id');
        for (const r of rowsOf) {
          const [d] = hash.map([BigInt(String(r[cidIndex]))]);
          assert.ok(d.kind === 'keyspaceId' && keyRangeContains(kr, d.id), `${table} row ${String(r[0])} is in ${shard}, which hash does not give it`);
        }
        got.push(...rowsOf);
      }
      got.sort((a, b) => Number(a[0]) - Number(b[0]));
      assert.equal(got.length, source.length, `${table}: every row in exactly one new shard`);
      assert.deepEqual(got, source);
    }
    // The tutorial's placement: customers 1, 2, 3, 5 in -80, 4 in 80-.
    assert.deepEqual((await targetRows('-80', 'SELECT customer_id FROM customer WHERE customer_id <= 5 ORDER BY 1')).map((r) => r[0]), ['1', '2', '3', '5']);
    assert.deepEqual((await targetRows('80-', 'SELECT customer_id FROM customer WHERE customer_id <= 5 ORDER BY 1')).map((r) => r[0]), ['4']);
    // The secondary key deferred during the copy is back.
    assert.ok((await targetRows('-80', "SHOW INDEX FROM customer WHERE Key_name = 'idx_email'")).length > 0);

  });

  it('refuses shard sets that do not match, and serving targets, with nothing made', async () => {
    const create = (source_shards: string[], target_shards: string[], workflow = 'bad') =>
      run(ctx, 'Reshard', { action: 'create', workflow, target_keyspace: 'customer', source_shards, target_shards });
    await assert.rejects(create(['0'], ['-80']), /--source-shards cover - but --target-shards cover -80; both sets must cover the same key range/);
    await assert.rejects(create(['0'], ['-40', '80-']), /gap 40-80 between shards -40 and 80-/);
    await assert.rejects(create(['0'], ['-80', '40-']), /shards -80 and 40- overlap on 40-80/);
    await assert.rejects(create(['0'], ['0']), /both a source and a target/);
    await assert.rejects(create(['0'], ['-40', '40-']), /shard customer\/-40 does not exist/);
    await assert.rejects(create(['0'], ['-80', '80-'], 'cust2cust'), /workflow cust2cust already exists on customer\/-80/);
    // A merge into the serving shard: it serves, so it is no reshard target.
    await assert.rejects(create(['-80', '80-'], ['0']), /target shard customer\/0 already serves/);
    const all = (await run(ctx, 'Workflow', { action: 'list', keyspace: 'customer' })) as string[];
    assert.deepEqual(all, ['cust2cust'], 'nothing half-made');
  });

  it('switches reads, then writes (reporting the pause), reverses and completes, losing no acknowledged write', async () => {
    const reshard = (action: string, extra: JsonObject = {}) => run(ctx, 'Reshard', { action, workflow: 'cust2cust', target_keyspace: 'customer', format: 'json', ...extra });
    const state = async () => ((await reshard('status', { format: 'json' })) as { traffic_state: string }).traffic_state;
    const source = c.shard('customer', '0').primary;
    assert.equal(await state(), 'Reads Not Switched. Writes Not Switched');
    await assert.rejects(reshard('switchtraffic', { tablet_types: ['primary'] }), /switch rdonly reads first: writes move only after reads/);

    // Application writes go through the serving primary's query service (as the gate's would): the
    // writer keeps inserting on whichever side serves, and remembers what was acknowledged.
    const acked: number[] = [];
    let failed = 0;
    let writing = true;
    let next = 50_000;
    const servingFor = async (id: number) => {
      for (const shard of ['0', '-80', '80-']) {
        const s = (await c.topo.getShard('customer', shard)).value;
        if (!s.is_primary_serving) continue;
        if (shard === '0') return source;
        const [d] = (createVindex('hash', 'hash', {}) as FunctionalVindex).map([BigInt(id)]);
        if (d.kind === 'keyspaceId' && keyRangeContains(parseShardName(shard), d.id)) return targets.get(shard)!;
      }
      return source;
    };
    const writer = (async () => {
      while (writing) {
        const id = next++;
        try {
          await (await servingFor(id)).manager.executeFetchAsApp(`INSERT INTO customer VALUES (${id}, 'l${id}@x')`);
          acked.push(id);
        } catch {
          failed++;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    })();

    await reshard('switchtraffic', { tablet_types: ['rdonly', 'replica'] });
    assert.equal(await state(), 'All Reads Switched. Writes Not Switched');
    const srv = await c.topo.getSrvKeyspace(c.cell, 'customer');
    const names = (t: string) => srv.partitions.find((p) => p.served_type === t)?.shard_references.map((r) => r.name).sort();
    assert.deepEqual([names('replica'), names('rdonly'), names('primary')], [['-80', '80-'], ['-80', '80-'], ['0']]);

    await new Promise((r) => setTimeout(r, 300));
    const switched = (await reshard('switchtraffic')) as { summary: string; writePauseMs: number; steps: string[] };
    process.stdout.write(`# switch: ${switched.steps.join("; ")}\n`);
    assert.match(switched.summary, /SwitchTraffic was successful for workflow customer.cust2cust; write pause: \d+ ms/);
    assert.ok(switched.steps.some((x) => /stopped writes on 0/.test(x)) && switched.steps.some((x) => /writes switched to -80,80-/.test(x)), switched.steps.join('; '));
    assert.equal(await state(), 'All Reads Switched. Writes Switched');
    await new Promise((r) => setTimeout(r, 300));
    writing = false;
    await writer;
    assert.ok(acked.some((id) => id < 50_000 + 5) && acked.length > 5, `the writer wrote on both sides (${acked.length} acknowledged, ${failed} refused)`);

    // Every acknowledged row is on the new shards, once.
    const onTargets = async () => {
      const ids: number[] = [];
      for (const t of targets.values()) ids.push(...(await t.manager.executeFetchAsDba('SELECT customer_id FROM customer WHERE customer_id >= 50000', { maxRows: 100_000 })).rows.map((r) => Number(r[0])));
      return ids;
    };
    const got = await onTargets();
    assert.equal(new Set(got).size, got.length, 'no row twice');
    assert.deepEqual(acked.filter((id) => !got.includes(id)), [], 'every acknowledged row reached the new shards');
    // Forward streams frozen; customer/0 replicates back from both new shards.
    for (const t of targets.values()) assert.deepEqual((await t.manager.executeFetchAsDba("SELECT state, message FROM _vt.vreplication WHERE workflow = 'cust2cust'")).rows, [['Stopped', 'FROZEN']]);
    const back = (await source.manager.executeFetchAsDba("SELECT source FROM _vt.vreplication WHERE workflow = 'cust2cust_reverse' ORDER BY id")).rows.map((r) => String(r[0]));
    assert.deepEqual(back, ['keyspace:"customer" shard:"-80" filter:{rules:{match:"/.*" filter:"0"}}', 'keyspace:"customer" shard:"80-" filter:{rules:{match:"/.*" filter:"0"}}']);
    await targets.get('80-')!.manager.executeFetchAsApp("INSERT INTO customer VALUES (4000004, 'back@x')");
    await waitFor('the reverse stream to bring a new row to customer/0', async () => (await c.shardRows('customer', '0', 'SELECT 1 FROM customer WHERE customer_id = 4000004')).length === 1, 60_000);
    // Writes to the old primary are refused now.
    await assert.rejects(source.manager.executeFetchAsApp("INSERT INTO customer VALUES (4000005, 'old@x')"));

    // Back again, and forward once more; then complete.
    const reversed = (await reshard('reversetraffic')) as { summary: string };
    assert.match(reversed.summary, /ReverseTraffic was successful/);
    assert.equal(await state(), 'Reads Not Switched. Writes Not Switched');
    await source.manager.executeFetchAsApp("INSERT INTO customer VALUES (4000006, 'again@x')");
    await waitFor('the forward streams to carry a write on customer/0 again', async () => {
      let n = 0;
      for (const t of targets.values()) n += (await t.manager.executeFetchAsDba('SELECT 1 FROM customer WHERE customer_id = 4000006')).rows.length;
      return n === 1;
    }, 60_000);
    // The seeds' MigrateServedTypes runs the same switch, one type at a time, master last.
    const migrate = (served_type: string) => run(ctx, 'MigrateServedTypes', { keyspace_shard: 'customer/0', served_type });
    await assert.rejects(migrate('master'), /switch rdonly reads first: writes move only after reads/);
    await migrate('rdonly');
    await migrate('replica');
    assert.equal(await state(), 'All Reads Switched. Writes Not Switched');
    const m = (await migrate('master')) as { summary: string };
    assert.match(m.summary, /SwitchTraffic was successful/);
    assert.equal(await state(), 'All Reads Switched. Writes Switched');
    await reshard('complete');
    assert.deepEqual(await run(ctx, 'Workflow', { action: 'list', keyspace: 'customer' }), []);
    assert.deepEqual((await source.manager.executeFetchAsDba('SELECT COUNT(*) FROM _vt.vreplication')).rows, [['0']]);
  });
});
