// Issue 25: what the gate answers itself over merged shard rows, and what VEXPLAIN says about it.
// The tutorial's keyspaces (commerce unsharded, customer sharded -80/80- by hash on customer_id)
// run through the gate and against one plain MariaDB with the same rows: VEXPLAIN PLAN names, for
// each gate-evaluated part, why the shards could not answer it and which VSchema change would let
// them; a refused statement's plan says what is refused; GROUP_CONCAT honours the session's
// group_concat_max_len across shards as MariaDB does (the value cut, one warning).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { startCluster, type TestCluster } from '../harness/cluster.js';
import { startMariaDB, type TestMariaDB } from '../harness/mariadb.js';

const COMMERCE = 'create table product(sku varchar(32) primary key, description varchar(64), price bigint)';
const CUSTOMER = `create table customer(customer_id bigint not null primary key, email varchar(64), score int);
create table corder(order_id bigint not null primary key, customer_id bigint, sku varchar(32), price bigint, qty int)`;
const ROWS = [
  "insert into product(sku, description, price) values ('A', 'apple', 10), ('B', 'pear', 20), ('C', 'plum', 30)",
  `insert into customer(customer_id, email, score) values ${Array.from({ length: 20 }, (_, i) => `(${i + 1}, 'u${i + 1}@x', ${(i * 7) % 40})`).join(', ')}`,
  `insert into corder(order_id, customer_id, sku, price, qty) values ${Array.from({ length: 60 }, (_, i) => `(${i + 1}, ${(i % 20) + 1}, '${'ABC'[i % 3]}', ${(i * 13) % 50}, ${(i % 4) + 1})`).join(', ')}`,
];

let c: TestCluster;
let ref: TestMariaDB;
let gate: mysql.Connection;
let plain: mysql.Connection;

before(async () => {
  [c, ref] = await Promise.all([
    startCluster({
      keyspaces: [
        { name: 'commerce', shards: ['0'], schema: COMMERCE, vschema: { tables: { product: {} } } },
        {
          name: 'customer', shards: ['-80', '80-'], schema: CUSTOMER,
          vschema: {
            sharded: true, vindexes: { hash: { type: 'hash' } },
            tables: { customer: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] }, corder: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] } },
          },
        },
      ],
    }),
    startMariaDB(),
  ]);
  gate = await c.connect(undefined, { supportBigNumbers: true, bigNumberStrings: true });
  plain = await mysql.createConnection({ host: ref.host, port: ref.port, user: 'vt_dba', password: '', supportBigNumbers: true, bigNumberStrings: true, multipleStatements: true });
  await plain.query(`create database ref; use ref; ${COMMERCE}; ${CUSTOMER}`);
  for (const s of ROWS) {
    await gate.query(s);
    await plain.query(s);
  }
});

after(async () => {
  await gate?.end();
  await plain?.end();
  await Promise.all([c?.stop(), ref?.stop()]);
});

async function plan(sql: string): Promise<unknown> {
  const [rows] = (await gate.query(`vexplain plan ${sql}`)) as unknown as [{ JSON: string }[]];
  return JSON.parse(rows[0].JSON);
}

/** Every GateReason in a plan tree, by operator. */
function reasons(p: unknown): { op: string; reason: string }[] {
  const node = p as { OperatorType: string; GateReason?: string; Inputs?: unknown[] };
  return [...(node.GateReason ? [{ op: node.OperatorType, reason: node.GateReason }] : []), ...(node.Inputs ?? []).flatMap(reasons)];
}

test('VEXPLAIN PLAN: a join across keyspaces says a reference table would let the shards join it', async () => {
  const r = reasons(await plan('select o.order_id, p.description from corder o join commerce.product p on p.sku = o.sku'));
  assert.equal(r.length, 1);
  assert.equal(r[0].op, 'Join');
  assert.match(r[0].reason, /different keyspaces/);
  assert.match(r[0].reason, /declaring product a reference table in keyspace customer/);
});

test('VEXPLAIN PLAN: a join on columns without a vindex names them and the vindex changes that fix it', async () => {
  const r = reasons(await plan('select c.customer_id, o.order_id from customer c join corder o on o.sku = c.email'));
  assert.equal(r[0].op, 'Join');
  assert.match(r[0].reason, /o\.sku = c\.email/);
  assert.match(r[0].reason, /lookup vindex on the join column/);
});

test('VEXPLAIN PLAN: a correlated subquery not tied by the sharding key runs per outer row, and says why', async () => {
  const sql = 'select c.customer_id from customer c where exists (select 1 from corder o where o.price > c.score and o.qty = 2)';
  const p = await plan(sql);
  const r = reasons(p);
  assert.equal(r[0].op, 'CorrelatedSubquery');
  assert.match(r[0].reason, /not tied to the outer row's shard by corder\.customer_id = c\.customer_id/);
  assert.match(r[0].reason, /lookup vindex/);
  // Tied by the sharding key, the same shape goes whole to the shards: no gate-evaluated part.
  assert.deepEqual(reasons(await plan('select c.customer_id from customer c where exists (select 1 from corder o where o.customer_id = c.customer_id and o.qty = 2)')), []);
  const [g] = await gate.query({ sql, rowsAsArray: true });
  const [m] = await plain.query({ sql, rowsAsArray: true });
  assert.deepEqual((g as string[][]).map(String).sort(), (m as string[][]).map(String).sort());
});

test('VEXPLAIN PLAN: a window across shards says which PARTITION BY the shards could compute alone', async () => {
  const r = reasons(await plan('select order_id, rank() over (partition by sku order by price) from corder'));
  assert.equal(r[0].op, 'Window');
  assert.match(r[0].reason, /PARTITION BY corder\.customer_id/);
  assert.deepEqual(reasons(await plan('select order_id, rank() over (partition by customer_id order by price) from corder')), []);
});

test('VEXPLAIN PLAN of a refused statement names the refused part instead of failing', async () => {
  const sql = 'select order_id, sum(price) over (partition by sku order by order_id rows between 1 preceding and current row) from corder';
  assert.deepEqual(await plan(sql), { OperatorType: 'Refused', Reason: "This version of Tessera doesn't yet support 'a window frame (ROWS/RANGE …) across shards'" });
  await assert.rejects(gate.query(sql), (e: { errno?: number }) => e.errno === 1235);
});

test('GROUP_CONCAT across shards honours the session group_concat_max_len (value cut, one warning)', async () => {
  const sql = 'select group_concat(order_id order by order_id desc separator \'-\') from corder where price > 5';
  for (const conn of [gate, plain]) await conn.query('set group_concat_max_len = 17');
  const [g] = await gate.query({ sql, rowsAsArray: true });
  const [gw] = await gate.query('show warnings');
  const [m] = await plain.query({ sql, rowsAsArray: true });
  const [mw] = await plain.query('show warnings');
  assert.equal(String((g as string[][])[0][0]).length, 17);
  assert.deepEqual(g, m);
  assert.equal((gw as unknown[]).length, (mw as unknown[]).length);
  for (const conn of [gate, plain]) await conn.query('set group_concat_max_len = default');
  const [g2] = await gate.query({ sql, rowsAsArray: true });
  const [m2] = await plain.query({ sql, rowsAsArray: true });
  assert.deepEqual(g2, m2);
  assert.ok(String((g2 as string[][])[0][0]).length > 17);
});

test('a multi-table UPDATE across keyspaces that fails on one row changes no row, as in MariaDB (keys first, one transaction)', async () => {
  // price * 100000000 fits an INT for 'A' (10) and 'B' (20) but not for 'C' (30): MariaDB's strict
  // mode fails the statement with 1264 and InnoDB undoes the rows it had changed.
  const sql = 'update corder o join product p on p.sku = o.sku set o.qty = p.price * 100000000 where o.order_id < 40';
  const before = async (conn: mysql.Connection) => ((await conn.query({ sql: 'select order_id, qty from corder order by order_id', rowsAsArray: true }))[0] as unknown[][]).map(String);
  const g0 = await before(gate);
  await assert.rejects(gate.query(sql.replace('product p', 'commerce.product p')), (e: { errno?: number }) => e.errno === 1264);
  await assert.rejects(plain.query(sql), (e: { errno?: number }) => e.errno === 1264);
  assert.deepEqual(await before(gate), g0);
  assert.deepEqual(await before(plain), g0);
  // Without the failing rows the same statement changes what MariaDB changes.
  const ok = 'update corder o join product p on p.sku = o.sku set o.qty = p.price * 100000000 where o.order_id < 40 and p.sku <> \'C\'';
  const [g] = (await gate.query(ok.replace('product p', 'commerce.product p'))) as unknown as [{ affectedRows: number }];
  const [m] = (await plain.query(ok)) as unknown as [{ affectedRows: number }];
  assert.equal(g.affectedRows, m.affectedRows);
  assert.deepEqual(await before(gate), await before(plain));
});
