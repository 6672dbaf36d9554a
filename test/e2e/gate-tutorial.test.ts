// The tutorial's shape through the gate: unsharded commerce (product, customer_seq, order_seq) and
// customer sharded -80/80- by hash on customer_id, one primary and one replica per shard. Rows go
// in through the gate with ids from the sequences; placement is checked on each shard's MariaDB.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type mysql from 'mysql2/promise';
import { startCluster, type TestCluster } from '../harness/cluster.js';

const COMMERCE_SCHEMA = `
create table product(sku varchar(128), description varchar(128), price bigint, primary key(sku)) ENGINE=InnoDB;
create table customer_seq(id int, next_id bigint, cache bigint, primary key(id)) comment 'vitess_sequence';
create table order_seq(id int, next_id bigint, cache bigint, primary key(id)) comment 'vitess_sequence'`;
const CUSTOMER_SCHEMA = `
create table customer(customer_id bigint not null, email varchar(128), primary key(customer_id)) ENGINE=InnoDB;
create table corder(order_id bigint not null, customer_id bigint, sku varchar(128), price bigint, primary key(order_id)) ENGINE=InnoDB`;

let c: TestCluster;
let conn: mysql.Connection;

type Row = Record<string, unknown>;
async function q(sql: string, values?: unknown[]): Promise<Row[]> {
  const [rows] = values ? await conn.query(sql, values) : await conn.query(sql);
  return rows as Row[];
}

before(async () => {
  c = await startCluster({
    keyspaces: [
      {
        name: 'commerce', shards: ['0'], schema: COMMERCE_SCHEMA, replicas: 1,
        vschema: { tables: { product: {}, customer_seq: { type: 'sequence' }, order_seq: { type: 'sequence' } } },
      },
      {
        name: 'customer', shards: ['-80', '80-'], schema: CUSTOMER_SCHEMA, replicas: 1,
        vschema: {
          sharded: true,
          vindexes: { hash: { type: 'hash' } },
          tables: {
            customer: { column_vindexes: [{ column: 'customer_id', name: 'hash' }], auto_increment: { column: 'customer_id', sequence: 'customer_seq' } },
            corder: { column_vindexes: [{ column: 'customer_id', name: 'hash' }], auto_increment: { column: 'order_id', sequence: 'order_seq' } },
          },
        },
      },
    ],
  });
  conn = await c.connect();
  await q('insert into customer_seq(id, next_id, cache) values (0, 1, 3)');
  await q('insert into order_seq(id, next_id, cache) values (0, 1, 3)');
  for (const e of ['alice', 'bob', 'charlie', 'dan', 'eve']) await q(`insert into customer(email) values ('${e}@domain.com')`);
  await q("insert into product(sku, description, price) values ('SKU-1001', 'Monitor', 100)");
  await q("insert into product(sku, description, price) values ('SKU-1002', 'Keyboard', 30)");
  await q("insert into corder(customer_id, sku, price) values (1, 'SKU-1001', 100)");
  for (const id of [2, 3, 4, 5]) await q(`insert into corder(customer_id, sku, price) values (${id}, 'SKU-1002', 30)`);
});

after(async () => {
  await conn?.end();
  await c?.stop();
});

test('the seeds\' rows land where hash puts them: customers 1,2,3,5 in -80, 4 in 80-', async () => {
  const low = await c.shardRows('customer', '-80', 'select customer_id, email from customer order by customer_id');
  const high = await c.shardRows('customer', '80-', 'select customer_id, email from customer order by customer_id');
  assert.deepEqual(low.map((r) => String(r.customer_id)), ['1', '2', '3', '5']);
  assert.deepEqual(high.map((r) => String(r.customer_id)), ['4']);
  assert.equal(high[0].email, 'dan@domain.com');
  const lowOrders = await c.shardRows('customer', '-80', 'select order_id, customer_id from corder order by order_id');
  assert.deepEqual(lowOrders.map((r) => [String(r.order_id), String(r.customer_id)]), [['1', '1'], ['2', '2'], ['3', '3'], ['5', '5']]);
  const seq = await c.shardRows('commerce', '0', 'select next_id from customer_seq');
  assert.equal(String(seq[0].next_id), '7', 'two blocks of 3 were taken from customer_seq');
});

test('reads across keyspaces and shards through the gate', async () => {
  assert.deepEqual((await q('select customer_id, email from customer order by customer_id')).map((r) => String(r.customer_id)), ['1', '2', '3', '4', '5']);
  assert.deepEqual(await q('select email from customer where customer_id = 4'), [{ email: 'dan@domain.com' }]);
  assert.deepEqual(await q('select count(*) as n, sum(price) as s from corder'), [{ n: '5', s: '220' }]);
  assert.deepEqual(await q('select sku, count(*) as n from corder group by sku order by sku'), [{ sku: 'SKU-1001', n: '1' }, { sku: 'SKU-1002', n: '4' }]);
  const joined = await q('select c.email, o.sku, p.description from customer c join corder o on c.customer_id = o.customer_id join commerce.product p on p.sku = o.sku order by c.email');
  assert.equal(joined.length, 5);
  assert.deepEqual(joined[0], { email: 'alice@domain.com', sku: 'SKU-1001', description: 'Monitor' });
  assert.deepEqual(await q('select description from product where sku in (select sku from corder where customer_id = 1)'), [{ description: 'Monitor' }]);
  assert.deepEqual(await q('select customer_id from customer where customer_id in (1, 4, 5) order by customer_id desc limit 2'), [{ customer_id: '5' }, { customer_id: '4' }]);
});

test('shard targeting: USE customer:-80, customer/80- and back', async () => {
  await q('use customer:-80');
  assert.deepEqual((await q('select customer_id from customer order by customer_id')).map((r) => String(r.customer_id)), ['1', '2', '3', '5']);
  await q('use `customer/80-`');
  assert.deepEqual((await q('select customer_id from customer')).map((r) => String(r.customer_id)), ['4']);
  await q('use customer');
  assert.equal((await q('select * from customer')).length, 5);
});

test('@replica reads go to the replicas, which hold the same rows', async () => {
  await c.waitForReplicas();
  const replicaRows = await c.shardRows('customer', '80-', 'select customer_id from customer', 0);
  assert.deepEqual(replicaRows.map((r) => String(r.customer_id)), ['4']);
  await q('use customer@replica');
  assert.deepEqual((await q('select count(*) as n from customer')).map((r) => String(r.n)), ['5']);
  const plan = await q('vexplain queries select * from customer where customer_id = 4');
  assert.equal(plan.length, 1);
  assert.equal(plan[0].shard, '80-');
  await assert.rejects(q("insert into customer(email) values ('x@y')"), /do not take writes/);
  await q('use customer@primary');
});

test('SHOW statements', async () => {
  await q('use commerce');
  assert.deepEqual((await q('show databases')).map((r) => r.Database).slice(0, 2), ['commerce', 'customer']);
  assert.deepEqual((await q('show keyspaces')).map((r) => r.Database), ['commerce', 'customer']);
  assert.deepEqual((await q('show tables')).map((r) => r.Tables_in_commerce), ['customer_seq', 'order_seq', 'product']);
  assert.deepEqual((await q('show tables from customer')).map((r) => r.Tables_in_customer), ['corder', 'customer']);
  assert.deepEqual((await q('show columns from customer.customer')).map((r) => r.Field), ['customer_id', 'email']);
  assert.deepEqual((await q('show full columns from product')).map((r) => r.Field), ['sku', 'description', 'price']);
  assert.match(String((await q('show create table customer.corder'))[0]['Create Table']), /CREATE TABLE `corder`/);
  assert.equal((await q('show index from product'))[0].Key_name, 'PRIMARY');
  assert.ok((await q("show variables like 'version'")).length === 1);
  assert.deepEqual((await q('show vitess_shards')).map((r) => r.Shards), ['commerce/0', 'customer/-80', 'customer/80-']);
  const tablets = await q('show vitess_tablets');
  assert.equal(tablets.length, 6);
  assert.deepEqual(new Set(tablets.map((r) => r.TabletType)), new Set(['PRIMARY', 'REPLICA']));
  assert.ok(tablets.every((r) => r.State === 'SERVING'));
  assert.deepEqual((await q('show vschema tables')).map((r) => r.Tables), ['customer_seq', 'order_seq', 'product']);
  await q('use customer');
  assert.deepEqual(await q('show vschema vindexes'), [{ Keyspace: 'customer', Name: 'hash', Type: 'hash', Params: '', Owner: '' }]);
  assert.deepEqual(await q('show vschema vindexes on corder'), [{ Columns: 'customer_id', Name: 'hash', Type: 'hash', Params: '', Owner: '' }]);
  await q('select * from customer where customer_id = 999999999999999999999');
  assert.ok(Array.isArray(await q('show warnings')));
});

test('session functions answered as MariaDB would', async () => {
  await q('use commerce');
  assert.deepEqual(await q('select database()'), [{ 'database()': 'commerce' }]);
  const [v] = await q('select @@version as v, @@version_comment as c');
  assert.match(String(v.v), /MariaDB/);
  await q("insert into customer.customer(email) values ('frank@domain.com')");
  const [{ id }] = await q('select last_insert_id() as id');
  assert.equal(String(id), '7');
  assert.deepEqual(await q('select email from customer.customer where customer_id = last_insert_id()'), [{ email: 'frank@domain.com' }]);
  await q('delete from customer.customer where customer_id = 7');
});

test('DML: routed by vindex, missing sharding column, primary vindex change refused', async () => {
  await q('use customer');
  const [res] = await conn.query("update customer set email = 'alice2@domain.com' where customer_id = 1");
  assert.equal((res as mysql.ResultSetHeader).affectedRows, 1);
  await assert.rejects(q('update customer set customer_id = 10 where customer_id = 1'), /Changing the primary vindex column/);
  await assert.rejects(q("insert into corder(order_id, sku) values (100, 'x')"), /sharding column customer_id/);
  const [scatter] = await conn.query("update customer set email = upper(email) where email like '%domain.com'");
  assert.equal((scatter as mysql.ResultSetHeader).affectedRows, 5);
  await q("update customer set email = lower(email) where email like '%DOMAIN.COM'");
  await q("insert into customer(customer_id, email) values (1, 'dup') on duplicate key update email = 'alice@domain.com'");
  assert.deepEqual(await q('select email from customer where customer_id = 1'), [{ email: 'alice@domain.com' }]);
});

test('transactions: MULTI across shards commits both, rollback undoes both, SINGLE refuses a second shard', async () => {
  await q('use customer');
  await q('begin');
  await q("insert into customer(customer_id, email) values (100, 'a'), (101, 'b'), (102, 'c')");
  await q('rollback');
  assert.deepEqual(await q('select count(*) as n from customer where customer_id >= 100'), [{ n: '0' }]);
  await q('begin');
  await q("insert into customer(customer_id, email) values (100, 'a'), (101, 'b'), (102, 'c')");
  await q('savepoint s1');
  await q("update customer set email = 'zz' where customer_id in (100, 101, 102)");
  await q('rollback to savepoint s1');
  await q('commit');
  assert.deepEqual((await q('select email from customer where customer_id >= 100 order by customer_id')).map((r) => r.email), ['a', 'b', 'c']);
  await q("set transaction_mode = 'single'");
  await q('begin');
  await q('select * from customer where customer_id = 1');
  await assert.rejects(q('select * from customer where customer_id = 4'), /multi-db transaction attempted/);
  await q('rollback');
  await q("set transaction_mode = 'multi'");
  await q('delete from customer where customer_id >= 100');
  assert.deepEqual(await q('select count(*) as n from customer where customer_id >= 100'), [{ n: '0' }]);
});

test('prepared statements through mysql2 execute', async () => {
  const [rows] = await conn.execute('select email from customer.customer where customer_id = ?', [4]);
  assert.deepEqual(rows, [{ email: 'dan@domain.com' }]);
  const [agg] = await conn.execute('select count(*) as n from customer.corder where price > ?', [50]);
  assert.deepEqual(agg, [{ n: '1' }]);
});

test('unsupported queries get 1235, never a wrong answer; a correlated subquery over a cross-keyspace join is answered per row', async () => {
  await assert.rejects(q('select customer_id, sum(customer_id) over (order by customer_id rows between 1 preceding and current row) from customer.customer'), (e: { errno?: number }) => e.errno === 1235);
  const rows = await q('select c.email, (select count(*) from corder o where o.customer_id = c.customer_id) as n from customer.customer c join commerce.product p on 1=1');
  const counts = new Map((await q('select customer_id, count(*) as n from customer.corder group by customer_id')).map((r) => [String(r.customer_id), String(r.n)]));
  const products = (await q('select sku from commerce.product')).length;
  const expected = (await q('select customer_id, email from customer.customer')).flatMap((c) => Array.from({ length: products }, () => `${String(c.email)}|${counts.get(String(c.customer_id)) ?? '0'}`));
  assert.deepEqual(rows.map((r) => `${String(r.email)}|${String(r.n)}`).sort(), expected.sort());
});

test('VEXPLAIN PLAN and EXPLAIN FORMAT=vitess show the plan', async () => {
  const [r] = await q('vexplain plan select * from customer.customer where customer_id = 1');
  const plan = JSON.parse(String(r.JSON));
  assert.equal(plan.OperatorType, 'Route');
  assert.equal(plan.Variant, 'EqualUnique');
  const [e] = await q('explain format=vitess select count(*) from customer.customer');
  assert.equal(JSON.parse(String(e.JSON)).OperatorType, 'Aggregate');
});

test('session settings reach the tablets through reserved connections; autocommit off holds writes until COMMIT', async () => {
  const other = await c.connect('customer');
  try {
    await other.query("set session sql_mode = 'STRICT_ALL_TABLES'");
    await other.query("set time_zone = '+05:00'");
    const [[m]] = (await other.query('select @@session.sql_mode as m, @@time_zone as tz')) as unknown as [Row[]];
    assert.deepEqual(m, { m: 'STRICT_ALL_TABLES', tz: '+05:00' });
    const [[n]] = (await other.query('select count(*) as n from customer')) as unknown as [Row[]];
    assert.equal(String(n.n), '5');
    await assert.rejects(other.query("insert into customer(customer_id, email) values (200, repeat('x', 300))"), /Data too long/);
    await other.query('set autocommit = 0');
    await other.query("insert into customer(customer_id, email) values (201, 'pending')");
    assert.deepEqual(await q('select email from customer.customer where customer_id = 201'), []);
    await other.query('commit');
    assert.deepEqual(await q('select email from customer.customer where customer_id = 201'), [{ email: 'pending' }]);
    await other.query('delete from customer where customer_id = 201');
    await other.query('set autocommit = 1');
  } finally {
    await other.end();
  }
});

test('a UNION whose branches reach the same shard inside a transaction runs on one shard transaction', async () => {
  await q('use customer');
  await q('begin');
  await q("insert into customer(customer_id, email) values (300, 'u1'), (304, 'u4')");
  const rows = await q('select email from customer where customer_id >= 300 union all select email from corder o join customer c on c.customer_id = o.customer_id where c.customer_id >= 300');
  assert.deepEqual(rows.map((r) => r.email).sort(), ['u1', 'u4']);
  await q('rollback');
  assert.deepEqual(await q('select count(*) as n from customer where customer_id >= 300'), [{ n: '0' }]);
});
