// Routing through the gate: table routing rules per tablet type (@replica), shard routing rules
// behind --enable-partial-keyspace-migration for global and shard-targeted queries, tablets that
// stop serving, and a client that disappears mid-transaction.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type mysql from 'mysql2/promise';
import { createGate, type Gate } from '../../src/gate/index.js';
import type { QueryService } from '../../src/tablet/index.js';
import { tabletAliasString } from '../../src/topo/index.js';
import { startCluster, type TestCluster } from '../harness/cluster.js';
import mysqlClient from 'mysql2/promise';

const SCHEMA = 'create table customer(customer_id bigint not null primary key, email varchar(64))';
const VSCHEMA = { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { customer: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] } } };

let c: TestCluster;
let shardRouted: Gate;

type Row = Record<string, unknown>;
async function q(conn: mysql.Connection, sql: string): Promise<Row[]> {
  const [rows] = await conn.query(sql);
  return rows as Row[];
}

before(async () => {
  c = await startCluster({
    keyspaces: [
      { name: 'customer', shards: ['-80', '80-'], schema: SCHEMA, vschema: VSCHEMA },
      { name: 'customer2', shards: ['-80', '80-'], schema: SCHEMA, vschema: VSCHEMA, replicas: 1 },
    ],
    routingRules: { rules: [{ from_table: 'customer.customer@replica', to_tables: ['customer2.customer'] }] },
    shardRoutingRules: { rules: [{ from_keyspace: 'customer', to_keyspace: 'customer2', shard: '-80' }] },
  });
  const conn = await c.connect();
  for (const ks of ['customer', 'customer2']) {
    await q(conn, `insert into ${ks}.customer(customer_id, email) values ${[1, 2, 3, 4, 5].map((i) => `(${i}, 'c${i}@${ks}')`).join(', ')}`);
  }
  await conn.end();
  await c.waitForReplicas();
  const byAlias = new Map(c.shards.flatMap((s) => [s.primary, ...s.replicas]).map((t) => [t.alias, t]));
  shardRouted = await createGate({
    topo: c.topo, cell: c.cell, mysql: { port: 0 }, http: null, enableShardRouting: true, tabletTypesToWait: ['primary'],
    tabletConn: (t) => byAlias.get(tabletAliasString(t.alias))!.server as QueryService,
  });
});

after(async () => {
  await shardRouted?.close();
  await c?.stop();
});

test('without partial keyspace migration, shard routing rules are ignored', async () => {
  const conn = await c.connect('customer');
  try {
    assert.deepEqual(await q(conn, 'select email from customer where customer_id = 1'), [{ email: 'c1@customer' }]);
    await q(conn, 'use customer:-80');
    assert.deepEqual((await q(conn, 'select email from customer order by customer_id')).map((r) => r.email), ['c1@customer', 'c2@customer', 'c3@customer', 'c5@customer']);
  } finally {
    await conn.end();
  }
});

test('routing rules per tablet type: customer.customer@replica reads customer2 replicas', async () => {
  const conn = await c.connect('customer@replica');
  try {
    assert.deepEqual(await q(conn, 'select email from customer where customer_id = 4'), [{ email: 'c4@customer2' }]);
    const log = await q(conn, 'vexplain queries select email from customer where customer_id = 4');
    assert.deepEqual(log.map((r) => [r.keyspace, r.shard]), [['customer2', '80-']]);
    await q(conn, 'use customer@primary');
    assert.deepEqual(await q(conn, 'select email from customer where customer_id = 4'), [{ email: 'c4@customer' }]);
  } finally {
    await conn.end();
  }
});

test('--enable-partial-keyspace-migration: switched shard -80 is read from customer2, 80- from customer', async () => {
  const conn = await mysqlClient.createConnection({ host: '127.0.0.1', port: shardRouted.mysqlPort, user: 'app', database: 'customer' });
  try {
    assert.deepEqual(await q(conn, 'select email from customer where customer_id = 1'), [{ email: 'c1@customer2' }]);
    assert.deepEqual(await q(conn, 'select email from customer where customer_id = 4'), [{ email: 'c4@customer' }]);
    assert.deepEqual((await q(conn, 'select email from customer order by customer_id')).map((r) => r.email), ['c1@customer2', 'c2@customer2', 'c3@customer2', 'c4@customer', 'c5@customer2']);
    await q(conn, "insert into customer(customer_id, email) values (6, 'c6@new')");
    // Wherever hash puts id 6, it lands in the keyspace that serves that shard now.
    const served = [...(await c.shardRows('customer2', '-80', 'select 1 from customer where customer_id = 6')), ...(await c.shardRows('customer', '80-', 'select 1 from customer where customer_id = 6'))];
    const unserved = [...(await c.shardRows('customer', '-80', 'select 1 from customer where customer_id = 6')), ...(await c.shardRows('customer2', '80-', 'select 1 from customer where customer_id = 6'))];
    assert.equal(served.length, 1);
    assert.equal(unserved.length, 0);
    await q(conn, 'delete from customer where customer_id = 6');
    await q(conn, 'use customer:-80');
    assert.deepEqual((await q(conn, 'select email from customer order by customer_id')).map((r) => String(r.email)).slice(0, 1), ['c1@customer2']);
    await q(conn, 'use `customer/80-`');
    assert.deepEqual((await q(conn, 'select email from customer')).map((r) => r.email), ['c4@customer']);
  } finally {
    await conn.end();
  }
});

test('a replica that stops serving is left out; reads fail clearly and come back when it serves again', async () => {
  const replica = c.shard('customer2', '80-').replicas[0];
  const conn = await c.connect('customer2@replica');
  try {
    assert.deepEqual(await q(conn, 'select email from customer where customer_id = 4'), [{ email: 'c4@customer2' }]);
    replica.server.setState({ serving: false, reason: 'test: drained' });
    let err: unknown = null;
    for (let i = 0; i < 200 && err === null; i++) {
      try {
        await q(conn, 'select email from customer where customer_id = 4');
        await new Promise((r) => setTimeout(r, 10));
      } catch (e) {
        err = e;
      }
    }
    assert.match(String((err as Error).message), /no healthy replica tablet for customer2\/80-.*test: drained/);
    // Shard -80's replica still serves.
    assert.deepEqual(await q(conn, 'select email from customer where customer_id = 1'), [{ email: 'c1@customer2' }]);
    replica.server.setState({ serving: true });
    let rows: Row[] | null = null;
    for (let i = 0; i < 200 && rows === null; i++) {
      try {
        rows = await q(conn, 'select email from customer where customer_id = 4');
      } catch {
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    assert.deepEqual(rows, [{ email: 'c4@customer2' }]);
  } finally {
    await conn.end();
  }
});

test('a client that disappears mid-transaction has its shard transactions rolled back', async () => {
  const victim = await c.connect('customer2');
  await q(victim, 'begin');
  await q(victim, "update customer set email = 'locked' where customer_id in (1, 4)");
  victim.destroy();
  const conn = await c.connect('customer2');
  try {
    let rows: Row[] | null = null;
    for (let i = 0; i < 300 && rows === null; i++) {
      try {
        rows = await q(conn, 'select email from customer where customer_id in (1, 4) order by customer_id for update nowait');
      } catch {
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    assert.deepEqual(rows, [{ email: 'c1@customer2' }, { email: 'c4@customer2' }]);
  } finally {
    await conn.end();
  }
});

test('HTTP: /metrics and the status page', async () => {
  const base = `http://127.0.0.1:${c.gate!.httpPort}`;
  const metrics = await (await fetch(`${base}/metrics`)).text();
  assert.match(metrics, /tessera_gate_queries_total\{statement="Select",keyspace="customer"\} \d+/);
  assert.match(metrics, /tessera_gate_plan_cache_hits \d+/);
  const page = await (await fetch(`${base}/`)).text();
  assert.match(page, /Plan cache/);
  assert.match(page, /zone1-\d+/);
  const vars = (await (await fetch(`${base}/debug/vars`)).json()) as { tablets: unknown[]; planCache: { misses: number } };
  assert.equal(vars.tablets.length, 6);
  assert.ok(vars.planCache.misses > 0);
});

test('VSchema changes in topo reach the gate live: a new table becomes routable without a restart', async () => {
  const conn = await c.connect('customer');
  try {
    await q(conn, 'create table extra(id bigint not null primary key, v varchar(10))');
    assert.equal((await c.shardRows('customer', '80-', "show tables like 'extra'")).length, 1, 'DDL reached every shard');
    await assert.rejects(q(conn, "insert into extra(id, v) values (1, 'a')"), (e: { errno?: number }) => e.errno === 1146);
    await c.topo.saveVSchema('customer', { ...VSCHEMA, tables: { ...VSCHEMA.tables, extra: { column_vindexes: [{ column: 'id', name: 'hash' }] } } });
    await c.topo.rebuildVSchemaGraph({ cells: [c.cell] });
    let done = false;
    for (let i = 0; i < 300 && !done; i++) {
      try {
        await q(conn, "insert into extra(id, v) values (1, 'a'), (4, 'd')");
        done = true;
      } catch {
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    assert.ok(done, 'the gate picked up the new VSchema');
    assert.deepEqual((await c.shardRows('customer', '80-', 'select id from extra')).map((r) => String(r.id)), ['4']);
    assert.deepEqual((await c.shardRows('customer', '-80', 'select id from extra')).map((r) => String(r.id)), ['1']);
  } finally {
    await conn.end();
  }
});
