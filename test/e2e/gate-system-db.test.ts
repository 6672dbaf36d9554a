// System databases through the gate (issue 24; docs/gate.md "System databases"): `USE mysql` and
// friends are answered by the MariaDB of the session's unsharded keyspace or targeted shard, and
// refused with a clear message where no one MariaDB is the answer.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { startCluster, type TestCluster } from '../harness/cluster.js';

let c: TestCluster;

before(async () => {
  c = await startCluster({
    keyspaces: [
      { name: 'commerce', shards: ['0'], schema: 'create table product(sku varchar(32) primary key, price int)' },
      {
        name: 'customer',
        shards: ['-80', '80-'],
        schema: 'create table customer(id bigint primary key, name varchar(32))',
        vschema: { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { customer: { column_vindexes: [{ column: 'id', name: 'hash' }] } } },
      },
    ],
  });
  const conn = await c.connect('commerce');
  await conn.query("insert into product values ('SKU-1', 10)");
  await conn.end();
});

after(async () => {
  await c?.stop();
});

async function one(conn: mysql.Connection, sql: string): Promise<unknown> {
  const [rows] = await conn.query({ sql, rowsAsArray: true });
  return (rows as unknown[][])[0]?.[0];
}

async function refused(conn: mysql.Connection, sql: string, errno: number, text: RegExp): Promise<void> {
  await assert.rejects(conn.query(sql), (err: Error & { errno?: number }) => {
    assert.equal(err.errno, errno, err.message);
    assert.match(err.message, text);
    return true;
  });
}

test('USE mysql on an unsharded keyspace: its MariaDB answers, and USE of the keyspace goes back', async () => {
  const conn = await c.connect('commerce');
  try {
    await conn.query('USE mysql');
    assert.equal(await one(conn, 'SELECT DATABASE()'), 'mysql');
    // Unqualified names are the system database's tables, in parsed and in passed-through statements.
    assert.ok(Number(await one(conn, "SELECT COUNT(*) FROM global_priv WHERE User = 'vt_app'")) >= 1);
    const [tables, fields] = await conn.query('SHOW TABLES');
    assert.equal(fields?.[0].name, 'Tables_in_mysql');
    assert.ok((tables as Record<string, string>[]).some((r) => r.Tables_in_mysql === 'global_priv'));
    const [vars] = await conn.query("SHOW VARIABLES LIKE 'version'");
    assert.equal((vars as unknown[]).length, 1);
    await conn.query('USE commerce');
    assert.equal(await one(conn, 'SELECT DATABASE()'), 'commerce');
    assert.equal(await one(conn, "SELECT price FROM product WHERE sku = 'SKU-1'"), 10);
    await refused(conn, 'SELECT COUNT(*) FROM global_priv', 1146, /global_priv/);
  } finally {
    await conn.end();
  }
});

test('USE information_schema, and SHOW TABLES FROM mysql from the keyspace', async () => {
  const conn = await c.connect('commerce');
  try {
    await conn.query('use INFORMATION_SCHEMA');
    assert.equal(await one(conn, 'SELECT DATABASE()'), 'information_schema');
    assert.equal(String(await one(conn, "SELECT COUNT(*) FROM TABLES WHERE TABLE_SCHEMA = 'vt_commerce' AND TABLE_NAME = 'product'")), '1');
    await conn.query('USE commerce');
    const [rows] = await conn.query('SHOW TABLES FROM mysql');
    assert.ok((rows as Record<string, string>[]).some((r) => r.Tables_in_mysql === 'global_priv'));
  } finally {
    await conn.end();
  }
});

test('a transaction and a pinned session keep their connection across USE mysql and back', async () => {
  const conn = await c.connect('commerce');
  try {
    // User variables assigned in a query pin the session to its reserved connection.
    assert.equal(String(await one(conn, 'SELECT @n := 41 + 1')), '42');
    await conn.query('USE mysql');
    await conn.query('BEGIN');
    assert.ok(Number(await one(conn, 'SELECT COUNT(*) FROM global_priv')) >= 1);
    await conn.query('COMMIT');
    await conn.query('USE commerce');
    assert.equal(await one(conn, "SELECT price FROM product WHERE sku = 'SKU-1'"), 10);
    assert.equal(String(await one(conn, 'SELECT @n')), '42');
    // A transaction opened in the keyspace is not moved to the system database.
    await conn.query('BEGIN');
    await conn.query("UPDATE product SET price = 11 WHERE sku = 'SKU-1'");
    await conn.query('USE mysql');
    assert.ok(Number(await one(conn, 'SELECT COUNT(*) FROM global_priv')) >= 1);
    await conn.query('USE commerce');
    await conn.query('ROLLBACK');
    assert.equal(await one(conn, "SELECT price FROM product WHERE sku = 'SKU-1'"), 10);
  } finally {
    await conn.end();
  }
});

test('a sharded keyspace needs a targeted shard; no keyspace among several is refused', async () => {
  const conn = await c.connect('customer');
  try {
    await refused(conn, 'USE mysql', 1235, /keyspace customer is sharded.*USE `customer:<shard>`/);
    await conn.query('USE `customer:-80`');
    await conn.query('USE mysql');
    assert.ok(Number(await one(conn, 'SELECT COUNT(*) FROM global_priv')) >= 1);
    await conn.query('USE customer');
    assert.equal(String(await one(conn, 'SELECT COUNT(*) FROM customer')), '0');
  } finally {
    await conn.end();
  }
  const bare = await c.connect();
  try {
    await refused(bare, 'USE mysql', 1235, /USE an unsharded keyspace/);
  } finally {
    await bare.end();
  }
});
