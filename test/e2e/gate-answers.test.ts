// The gate's answers must be MariaDB's (issue 23): the tutorial's keyspaces (commerce unsharded,
// customer sharded -80/80- by hash on customer_id) hold rows with the values JavaScript treats as
// false ('' in text and varbinary columns, 0, NULL) and every statement shape that binds or
// compares values at the gate — cross-shard joins, pulled-out subqueries, IN lists, aggregates —
// runs through the gate and against one plain MariaDB holding the same rows.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { startCluster, type TestCluster } from '../harness/cluster.js';
import { startMariaDB, type TestMariaDB } from '../harness/mariadb.js';
import { pino } from 'pino';
import { log } from '../../src/log/index.js';
import { Route } from '../../src/gate/engine/route.js';
import { format } from '../../src/sql/index.js';

const COMMERCE = `
create table product(sku varchar(128) not null, description varchar(128), price bigint, primary key(sku)) ENGINE=InnoDB;
create table customer_seq(id int, next_id bigint, cache bigint, primary key(id)) comment 'vitess_sequence';
create table order_seq(id int, next_id bigint, cache bigint, primary key(id)) comment 'vitess_sequence'`;
const CUSTOMER = `
create table customer(customer_id bigint not null, email varbinary(128), name varchar(64), age int, primary key(customer_id)) ENGINE=InnoDB;
create table corder(order_id bigint not null, customer_id bigint, sku varchar(128), price bigint, qty int, created date, primary key(order_id)) ENGINE=InnoDB`;

const ROWS = [
  `insert into commerce.product(sku, description, price) values ('', '', 0), ('SKU-1', 'Monitor', 100), ('SKU-2', '', 30), ('0', 'zero', 0)`,
  `insert into customer.customer(customer_id, email, name, age) values
    (1, '', '', 0), (2, '', 'bob', 0), (3, 'c@x', '', 1), (4, '', NULL, NULL), (5, 'c@x', 'eve', 0),
    (6, NULL, 'fay', 2), (7, '0', '0', 0), (8, '0', '0', 3), (9, 'x', '', 0), (10, '', '', 1),
    (11, '1e2', ' 12abc', 4), (12, 'Infinity', 'Infinity', 5)`,
  `insert into customer.corder(order_id, customer_id, sku, price, qty, created) values
    (1, 1, '', 0, 0, '2024-10-01'), (2, 2, '', -5, 9, '2024-10-02'), (3, 3, 'SKU-1', 100, 0, '2024-10-03'),
    (4, 4, '0', 0, 10, '2024-10-04'), (5, 5, 'SKU-2', -44, 9, '2024-10-05'), (6, 6, '', 30, 0, '2024-10-07'),
    (7, 7, 'SKU-1', -1, 12, '2024-10-01'), (8, 8, '0', 0, 1, NULL), (9, 9, '', NULL, NULL, '2024-10-09'), (10, 10, 'SKU-2', 5, 9, '2024-10-02')`,
];

let c: TestCluster;
let ref: TestMariaDB;
let gate: mysql.Connection;
let plain: mysql.Connection;

type Answer = { fields: string[]; rows: string[][] } | { errno: number; message: string };

async function answer(conn: mysql.Connection, sql: string): Promise<Answer> {
  try {
    const [rows, fields] = await conn.query({ sql, rowsAsArray: true });
    if (!Array.isArray(rows)) return { fields: [], rows: [] };
    return {
      fields: (fields ?? []).map((f) => f.name),
      rows: (rows as unknown[][]).map((r) => r.map((v) => (v === null ? 'NULL' : Buffer.isBuffer(v) ? 'x' + v.toString('hex') : String(v)))),
    };
  } catch (err) {
    const e = err as { errno?: number; message: string };
    return { errno: e.errno ?? -1, message: e.message };
  }
}

/**
 * Each statement gives MariaDB's answer through the gate (rows compared as a multiset unless the
 * statement is given as `[sql, 'ordered']`); every difference is reported, not only the first.
 */
async function same(statements: readonly (string | readonly [string, 'ordered'])[]): Promise<void> {
  const diffs: string[] = [];
  for (const s of statements) {
    const [sql, ordered] = typeof s === 'string' ? [s, false] : [s[0], true];
    const canon = (a: Answer): string => JSON.stringify('errno' in a ? a : { fields: a.fields, rows: ordered ? a.rows : [...a.rows].sort((x, y) => (JSON.stringify(x) < JSON.stringify(y) ? -1 : 1)) });
    const g = canon(await answer(gate, sql));
    const p = canon(await answer(plain, sql));
    if (g !== p) diffs.push(`${sql}\n  gate:    ${g.slice(0, 400)}\n  mariadb: ${p.slice(0, 400)}`);
  }
  assert.equal(diffs.length, 0, diffs.join('\n'));
}

before(async () => {
  [c, ref] = await Promise.all([
    startCluster({
      keyspaces: [
        {
          name: 'commerce', shards: ['0'], schema: COMMERCE,
          vschema: { tables: { product: {}, customer_seq: { type: 'sequence' }, order_seq: { type: 'sequence' } } },
        },
        {
          name: 'customer', shards: ['-80', '80-'], schema: CUSTOMER,
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
    }),
    startMariaDB(),
  ]);
  gate = await c.connect('customer', { supportBigNumbers: true, bigNumberStrings: true, dateStrings: true });
  plain = await mysql.createConnection({ host: ref.host, port: ref.port, user: 'vt_dba', password: '', supportBigNumbers: true, bigNumberStrings: true, dateStrings: true, multipleStatements: true });
  await plain.query(`create database commerce; create database customer; use commerce; ${COMMERCE}; use customer; ${CUSTOMER}`);
  await gate.query('insert into commerce.customer_seq(id, next_id, cache) values (0, 100, 10)');
  await gate.query('insert into commerce.order_seq(id, next_id, cache) values (0, 100, 10)');
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

describe("values JavaScript treats as false ('', 0, NULL) are values (issue 23, item 2)", () => {
  test('cross-shard self-joins on varbinary, varchar and int columns', async () => {
    await same([
      'SELECT c1.customer_id, c2.customer_id, c1.email FROM customer c1 JOIN customer c2 ON c1.email = c2.email AND c1.customer_id < c2.customer_id',
      'SELECT c1.customer_id, c2.customer_id, c1.name FROM customer c1 JOIN customer c2 ON c1.name = c2.name AND c1.customer_id < c2.customer_id',
      'SELECT c1.customer_id, c2.customer_id FROM customer c1 JOIN customer c2 ON c1.age = c2.age AND c1.customer_id < c2.customer_id',
      'SELECT c1.customer_id, c2.customer_id FROM customer c1 LEFT JOIN customer c2 ON c2.email = c1.email AND c2.customer_id <> c1.customer_id',
      'SELECT o.order_id, c.customer_id FROM corder o JOIN customer c ON c.email = o.sku',
      'SELECT o.order_id, c.customer_id FROM corder o JOIN customer c ON c.age = o.qty WHERE o.qty = 0',
    ]);
  });

  test('joins across keyspaces, and gate-side filters over joins', async () => {
    await same([
      'SELECT o.order_id, p.description, p.price FROM corder o JOIN commerce.product p ON p.sku = o.sku',
      'SELECT p.sku, o.order_id FROM commerce.product p LEFT JOIN corder o ON o.sku = p.sku',
      'SELECT o.order_id, p.sku FROM corder o JOIN commerce.product p ON p.price = o.price',
      "SELECT o.order_id FROM corder o JOIN commerce.product p ON p.sku = o.sku WHERE p.description = '' AND o.sku IN ('', '0')",
      'SELECT o.order_id FROM corder o JOIN commerce.product p ON p.sku = o.sku WHERE o.qty = p.price',
      'SELECT c1.customer_id, c2.customer_id FROM customer c1 JOIN customer c2 ON c1.email = c2.name WHERE c1.customer_id < c2.customer_id',
    ]);
  });

  test('subqueries pulled out of the outer query bind empty strings, zeros and NULLs', async () => {
    await same([
      'SELECT customer_id FROM customer WHERE email IN (SELECT email FROM customer WHERE age = 0)',
      'SELECT customer_id FROM customer WHERE email NOT IN (SELECT email FROM customer WHERE customer_id < 3)',
      'SELECT customer_id FROM customer WHERE name IN (SELECT sku FROM corder WHERE qty = 0)',
      'SELECT description FROM commerce.product WHERE sku IN (SELECT sku FROM corder WHERE qty = 0)',
      'SELECT description FROM commerce.product WHERE price IN (SELECT price FROM corder)',
      'SELECT customer_id FROM customer WHERE email = (SELECT email FROM customer WHERE customer_id = 1)',
      'SELECT customer_id FROM customer WHERE name = (SELECT name FROM customer WHERE customer_id = 10)',
      'SELECT customer_id FROM customer WHERE age = (SELECT MIN(age) FROM customer)',
      "SELECT customer_id FROM customer WHERE EXISTS (SELECT 1 FROM corder WHERE sku = '')",
      'SELECT sku FROM commerce.product WHERE price = (SELECT MIN(price) FROM corder WHERE price >= 0)',
      'SELECT (SELECT email FROM customer WHERE customer_id = 1) AS e, (SELECT MIN(qty) FROM corder) AS q, (SELECT description FROM commerce.product WHERE sku = \'\') AS d',
    ]);
  });

  test('IN lists, derived tables and UNION with such values', async () => {
    await same([
      "SELECT customer_id FROM customer WHERE email IN ('', '0')",
      'SELECT customer_id FROM customer WHERE age IN (0, NULL)',
      "SELECT customer_id FROM customer WHERE customer_id IN (1, 2, 3) AND name IN ('')",
      "SELECT t.email, t.n FROM (SELECT email, COUNT(*) AS n FROM customer GROUP BY email) AS t WHERE t.email = ''",
      'SELECT t.age, t.n FROM (SELECT age, COUNT(*) AS n FROM customer GROUP BY age) AS t WHERE t.age = 0',
      "SELECT email FROM customer WHERE customer_id < 5 UNION SELECT sku FROM corder WHERE sku = ''",
      'SELECT age FROM customer UNION SELECT qty FROM corder',
    ]);
  });

  test('aggregates across shards over such values', async () => {
    await same([
      ['SELECT email, COUNT(*) FROM customer GROUP BY email ORDER BY email', 'ordered'],
      ['SELECT age, COUNT(*), SUM(age), MIN(name), MAX(name) FROM customer GROUP BY age ORDER BY age', 'ordered'],
      'SELECT MIN(email), MAX(email), MIN(age), MAX(age), SUM(age), COUNT(email), COUNT(name), AVG(age) FROM customer',
      'SELECT COUNT(DISTINCT email), COUNT(DISTINCT age), SUM(DISTINCT age), COUNT(DISTINCT name) FROM customer',
      ['SELECT sku, SUM(price), MIN(price), MAX(qty), COUNT(price) FROM corder GROUP BY sku ORDER BY sku', 'ordered'],
      'SELECT age, COUNT(*) AS n FROM customer GROUP BY age HAVING age = 0 OR n = 0',
      "SELECT DISTINCT email FROM customer WHERE email = '' OR email IS NULL",
      'SELECT SUM(price), COUNT(*), MIN(sku) FROM corder WHERE price = 0',
      ['SELECT c.age, COUNT(*) FROM customer c JOIN corder o ON o.sku = c.email GROUP BY c.age ORDER BY c.age', 'ordered'],
      'SELECT SUM(name), SUM(email), MIN(name), MAX(email) FROM customer',
      'SELECT c1.customer_id, c2.customer_id FROM customer c1 JOIN customer c2 ON c1.age = c2.age WHERE c1.name + c2.age > 0 AND c1.customer_id <> c2.customer_id',
      'SELECT c1.customer_id, c2.customer_id FROM customer c1 JOIN customer c2 ON c1.age = c2.age WHERE c1.email + 0 = c2.name + 0 AND c1.customer_id < c2.customer_id',
      // Evaluated at the gate (the derived table's columns): strings convert by their numeric prefix.
      'SELECT t.n, o.order_id FROM corder o JOIN (SELECT name AS n, age FROM customer) AS t ON t.n + 0 >= o.qty WHERE o.qty = 9',
      "SELECT t.e, o.order_id FROM corder o JOIN (SELECT email AS e FROM customer) AS t ON t.e = o.sku WHERE t.e IN ('', '0')",
    ]);
  });
});

describe('statement shapes of issue 23', () => {
  test('several uncorrelated scalar subqueries from different keyspaces in one select list (item 3)', async () => {
    await same([
      'SELECT (SELECT COUNT(*) FROM customer.customer) AS customers, (SELECT COUNT(*) FROM customer.corder) AS orders, (SELECT COUNT(*) FROM commerce.product) AS products',
      'SELECT (SELECT COUNT(*) FROM customer.customer), (SELECT MAX(price) FROM commerce.product) + 1 AS m',
      'SELECT (SELECT COUNT(*) FROM customer.customer) + (SELECT COUNT(*) FROM commerce.product) AS n FROM dual',
      'SELECT (SELECT MIN(name) FROM customer.customer WHERE age = 0), (SELECT sku FROM commerce.product WHERE price = 100)',
    ]);
  });

  test('row constructors: (a, b) IN (SELECT a, b …) and (a, b) = (…) (item 7)', async () => {
    await same([
      'SELECT order_id, customer_id, sku FROM customer.corder WHERE (customer_id, sku) IN (SELECT customer_id, sku FROM customer.corder WHERE qty > 8)',
      'SELECT order_id FROM customer.corder WHERE (customer_id, sku) NOT IN (SELECT customer_id, sku FROM customer.corder WHERE qty > 8)',
      "SELECT order_id FROM customer.corder WHERE (sku, price) IN (SELECT sku, price FROM commerce.product)",
      "SELECT order_id FROM customer.corder WHERE (customer_id, sku) IN ((1, ''), (5, 'SKU-2'), (4, '0'))",
      "SELECT customer_id FROM customer.customer WHERE (email, age) = ('', 0)",
      'SELECT sku FROM commerce.product WHERE (sku, price) IN (SELECT sku, price FROM customer.corder)',
    ]);
    // A row compared with a row subquery across shards is refused, not answered differently.
    await assert.rejects(gate.query('SELECT order_id FROM corder WHERE (customer_id, sku) = (SELECT customer_id, sku FROM corder WHERE order_id = 4)'), { errno: 1235 });
  });
});

describe('internal errors (issue 23, item 3)', () => {
  async function internalErrorsCounted(): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${c.gate!.httpPort}/metrics`)).text();
    const m = /^tessera_gate_internal_errors_total (\d+)/m.exec(text);
    assert.ok(m, 'tessera_gate_internal_errors_total is on /metrics');
    return Number(m[1]);
  }

  test('an exception thrown inside a primitive reaches the client as an internal error, logged with the statement and stack, and counted', async () => {
    // Every log line the process writes, as pino hands it to its destination.
    const lines: string[] = [];
    const stream = (log as unknown as Record<symbol, { write(s: string): boolean }>)[pino.symbols.streamSym];
    const write = stream.write;
    stream.write = function (this: unknown, s: string) {
      lines.push(s);
      return write.call(this, s);
    };
    // A primitive that fails the way a bug does, for statements that name the probe.
    const execute = Route.prototype.execute;
    Route.prototype.execute = function (this: Route, vc, bindVars) {
      if (format(this.spec.query).includes('internal_error_probe')) throw new TypeError("Cannot read properties of undefined (reading 'inputs')");
      return execute.call(this, vc, bindVars);
    };
    try {
      const before = await internalErrorsCounted();
      const sql = 'SELECT customer_id AS internal_error_probe FROM customer WHERE age = 0';
      const err = (await gate.query(sql).then(() => null, (e: unknown) => e)) as { errno: number; sqlState: string; message: string } | null;
      assert.ok(err, 'the statement fails');
      assert.equal(err.errno, 1105);
      assert.equal(err.sqlState, 'HY000');
      assert.match(err.message, /^internal error in the gate \(incident \d+\)/);
      assert.doesNotMatch(err.message, /Cannot read|TypeError|undefined/);
      const incident = /incident (\d+)/.exec(err.message)![1];
      const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'internal error in the gate' && String(l.incident) === incident);
      assert.ok(logged, `a log line for incident ${incident}`);
      assert.equal(logged.statement, sql);
      assert.match(String(logged.stack), /TypeError: Cannot read properties of undefined[\s\S]*at Route\.execute/);
      // Prepared statements go the same way (the probe runs while preparing).
      const perr = (await gate.execute('SELECT customer_id AS internal_error_probe FROM customer WHERE age = ?', [0]).then(() => null, (e: unknown) => e)) as { errno: number; message: string } | null;
      assert.ok(perr);
      assert.equal(perr.errno, 1105);
      assert.match(perr.message, /^internal error in the gate/);
      assert.equal(await internalErrorsCounted(), before + 2);
      // The session goes on.
      const [rows] = await gate.query('SELECT COUNT(*) AS n FROM customer');
      assert.deepEqual(rows, [{ n: '12' }]);
    } finally {
      Route.prototype.execute = execute;
      stream.write = write;
    }
  });
});

describe('transactions across shards (issue 23, item 4)', () => {
  test('a scatter UPDATE inside BEGIN after writes on both shards answers, as MariaDB does', { timeout: 60_000 }, async () => {
    const g = await c.connect('customer', { supportBigNumbers: true, bigNumberStrings: true, dateStrings: true });
    const p = await mysql.createConnection({ host: ref.host, port: ref.port, user: 'vt_dba', password: '', database: 'customer', supportBigNumbers: true, bigNumberStrings: true, dateStrings: true });
    try {
      // Each script runs through the gate and on MariaDB; every step must answer the same.
      const scripts = [
        [
          'BEGIN',
          "INSERT INTO corder(order_id, customer_id, sku, price, qty, created) VALUES (101, 1, 'SKU-1', -3, 1, '2024-10-03')",
          "INSERT INTO corder(order_id, customer_id, sku, price, qty, created) VALUES (102, 4, 'SKU-2', -4, 2, '2024-10-04')",
          'UPDATE customer SET age = age + 1 WHERE customer_id IN (1, 4)',
          "UPDATE customer.corder SET price = 0 WHERE price < 0 AND created < '2024-10-06'",
          'SELECT order_id, price FROM corder WHERE order_id IN (2, 5, 7, 101, 102) ORDER BY order_id',
          'ROLLBACK',
        ],
        [
          // The first statement the 80- shard sees in the transaction fails (a duplicate key) but
          // leaves its locks, as in MariaDB; the scatter UPDATE must not wait for them.
          'BEGIN',
          "INSERT INTO corder(order_id, customer_id, sku, price, qty, created) VALUES (101, 1, 'SKU-1', -3, 1, '2024-10-03')",
          "INSERT INTO corder(order_id, customer_id, sku, price, qty, created) VALUES (4, 4, 'SKU-2', -4, 2, '2024-10-04')",
          "UPDATE customer.corder SET price = 0 WHERE price < 0 AND created < '2024-10-06'",
          'SELECT order_id, price FROM corder WHERE order_id IN (2, 4, 5, 7, 101) ORDER BY order_id',
          'ROLLBACK',
        ],
        [
          // The same with autocommit off, where the transaction starts with the first write.
          'SET autocommit = 0',
          "INSERT INTO corder(order_id, customer_id, sku, price, qty, created) VALUES (4, 4, 'SKU-2', -4, 2, '2024-10-04')",
          "INSERT INTO corder(order_id, customer_id, sku, price, qty, created) VALUES (101, 1, 'SKU-1', -3, 1, '2024-10-03')",
          "UPDATE customer.corder SET price = 0 WHERE price < 0 AND created < '2024-10-06'",
          'ROLLBACK',
          'SET autocommit = 1',
        ],
      ];
      for (const steps of scripts) {
        for (const sql of steps) {
          const gr = await g.query(sql).then(([r]) => r, (e: { errno: number }) => ({ errno: e.errno }));
          const pr = await p.query(sql).then(([r]) => r, (e: { errno: number }) => ({ errno: e.errno }));
          const shape = (r: unknown): unknown => (Array.isArray(r) ? r : 'errno' in (r as object) ? r : { affectedRows: (r as mysql.ResultSetHeader).affectedRows });
          assert.deepEqual(shape(gr), shape(pr), sql);
        }
      }
    } finally {
      await g.end();
      await p.end();
    }
  });

  test("a statement waiting for another client's lock gets MariaDB's 1205 after innodb_lock_wait_timeout", { timeout: 60_000 }, async () => {
    const holder = await c.connect('customer');
    const waiter = await c.connect('customer');
    try {
      await holder.query('BEGIN');
      await holder.query('UPDATE corder SET qty = qty WHERE customer_id = 1');
      await waiter.query('SET innodb_lock_wait_timeout = 1');
      const err = (await waiter.query('UPDATE corder SET qty = qty + 1 WHERE customer_id = 1').then(() => null, (e: unknown) => e)) as { errno: number; message: string } | null;
      assert.ok(err, 'the waiting UPDATE fails');
      assert.equal(err.errno, 1205, err.message);
      // Inside a transaction, across both shards, likewise; the waiter's session goes on.
      await waiter.query('BEGIN');
      const err2 = (await waiter.query('UPDATE corder SET qty = qty + 1 WHERE price >= 0').then(() => null, (e: unknown) => e)) as { errno: number; message: string } | null;
      assert.ok(err2, 'the waiting scatter UPDATE fails');
      assert.equal(err2.errno, 1205, err2.message);
      await waiter.query('ROLLBACK');
      await holder.query('ROLLBACK');
      const [rows] = await waiter.query('SELECT COUNT(*) AS n FROM corder WHERE customer_id = 1');
      assert.deepEqual(rows, [{ n: '1' }]);
    } finally {
      await holder.end();
      await waiter.end();
    }
  });
});

describe('sessions hold no locks once their client is out of a transaction (issue 23, item 5)', () => {
  test("another session's DDL does not wait behind a session whose statement failed in a transaction", { timeout: 120_000 }, async () => {
    const a = await c.connect('commerce');
    const b = await c.connect('commerce');
    try {
      await b.query('CREATE TABLE mdl_probe (id int primary key, v int)');
      await b.query('INSERT INTO mdl_probe VALUES (1, 1)');
      // A metadata lock held anywhere makes b's DDL fail with 1205 after 2 s instead of waiting 30 s.
      await b.query('SET lock_wait_timeout = 2');
      // Patterns from MariaDB's own tests: statements expected to fail, inside transactions,
      // with and without session settings (which put the session on reserved connections).
      const patterns: readonly (readonly string[])[] = [
        ['SET autocommit = 0', 'INSERT INTO mdl_probe VALUES (1, 2)', 'COMMIT', 'SET autocommit = 1'],
        ['BEGIN', 'SELECT no_such_column FROM mdl_probe', 'ROLLBACK'],
        ['BEGIN', 'INSERT INTO mdl_probe VALUES (1, 3)', 'COMMIT'],
        ["SET sql_mode = 'STRICT_ALL_TABLES'", 'BEGIN', 'INSERT INTO mdl_probe VALUES (1, 4)', 'COMMIT'],
        ['BEGIN', 'UPDATE mdl_probe SET no_such_column = 1', 'COMMIT', 'SELECT v FROM mdl_probe'],
        ["SET sql_mode = ''", 'SELECT * FROM mdl_probe', 'SELECT no_such_column FROM mdl_probe'],
      ];
      let n = 0;
      for (const steps of patterns) {
        for (const sql of steps) await a.query(sql).catch(() => undefined);
        n++;
        await b.query(`ALTER TABLE mdl_probe ADD COLUMN c${n} int`).catch((e: { errno: number; message: string }) => {
          assert.fail(`after ${JSON.stringify(steps)}, another session's ALTER TABLE failed: ${e.errno} ${e.message}`);
        });
      }
      // A setting that would leave shard connections inside a transaction after COMMIT is refused.
      await assert.rejects(a.query('SET completion_type = CHAIN'), { errno: 1235 });
      await a.query('SET completion_type = NO_CHAIN');
      // While a really is inside a transaction, its lock is legitimate: b's DDL waits and says so.
      await a.query('BEGIN');
      await a.query('SELECT v FROM mdl_probe');
      const [list] = await b.query('SHOW PROCESSLIST');
      const mine = (list as Record<string, unknown>[]).find((r) => Number(r.Id) === a.threadId);
      assert.ok(mine, "a's session is in b's SHOW PROCESSLIST (same user)");
      assert.equal(mine.Command, 'Sleep');
      assert.equal(mine.db, 'commerce');
      assert.match(String(mine.State), /^in transaction on commerce\/0/);
      const err = (await b.query('ALTER TABLE mdl_probe ADD COLUMN c_late int').then(() => null, (e: unknown) => e)) as { errno: number } | null;
      assert.equal(err?.errno, 1205, 'a DDL behind an open transaction waits for it and times out with 1205');
      await a.query('COMMIT');
      await b.query('ALTER TABLE mdl_probe ADD COLUMN c_late int');
      await b.query('DROP TABLE mdl_probe');
    } finally {
      await a.end();
      await b.end();
    }
  });

  test('DDL inside a transaction commits it on every shard first, as MariaDB does', async () => {
    const a = await c.connect('customer');
    const p = await mysql.createConnection({ host: ref.host, port: ref.port, user: 'vt_dba', password: '', database: 'customer' });
    try {
      for (const conn of [a, p]) {
        await conn.query('BEGIN');
        await conn.query("INSERT INTO corder(order_id, customer_id, sku, price, qty, created) VALUES (201, 1, 'SKU-1', 1, 1, NULL), (202, 4, 'SKU-1', 1, 1, NULL)");
        await conn.query('CREATE TABLE commerce.ddl_probe (id int primary key)');
        await conn.query('ROLLBACK');
      }
      await same(['SELECT order_id FROM corder WHERE order_id > 200']);
      // Nothing of a's is left holding locks: another session changes those rows at once.
      const b = await c.connect('customer');
      try {
        await b.query('SET innodb_lock_wait_timeout = 2');
        await b.query('DELETE FROM corder WHERE order_id > 200');
      } finally {
        await b.end();
      }
      await p.query('DELETE FROM corder WHERE order_id > 200');
      await a.query('DROP TABLE commerce.ddl_probe');
      await p.query('DROP TABLE commerce.ddl_probe');
    } finally {
      await a.end();
      await p.end();
    }
  });

  test('transaction characteristics: START TRANSACTION READ ONLY, unscoped SET TRANSACTION and AND CHAIN, as MariaDB', { timeout: 60_000 }, async () => {
    // Each step runs on session a (a dirty row, 901, is left uncommitted by session b of the same
    // side for the isolation steps); the outcome — rows or errno — must be MariaDB's.
    type Step = readonly [who: 'a' | 'b', sql: string];
    const steps: readonly Step[] = [
      ['a', 'START TRANSACTION READ ONLY'],
      ['a', 'UPDATE customer SET age = age + 1 WHERE customer_id IN (1, 4)'],
      ['a', 'SELECT age FROM customer WHERE customer_id IN (1, 4) ORDER BY customer_id'],
      ['a', 'COMMIT AND CHAIN'],
      ['a', "INSERT INTO customer(customer_id, email) VALUES (900, 'chained')"],
      ['a', 'ROLLBACK'],
      ['a', "INSERT INTO customer(customer_id, email) VALUES (900, 'read write again')"],
      ['a', 'DELETE FROM customer WHERE customer_id = 900'],
      ['a', 'SET TRANSACTION READ ONLY'],
      ['a', 'SELECT customer_id FROM customer WHERE customer_id = 4'],
      ['a', 'UPDATE customer SET age = 7 WHERE customer_id = 4'],
      ['a', 'SET TRANSACTION READ ONLY'],
      ['a', 'UPDATE customer SET age = 7 WHERE customer_id = 4'],
      ['a', 'START TRANSACTION READ WRITE'],
      ['a', 'SET TRANSACTION READ ONLY'],
      ['a', 'ROLLBACK'],
      ['b', 'BEGIN'],
      ['b', "INSERT INTO customer(customer_id, email) VALUES (901, 'dirty')"],
      ['a', 'SET TRANSACTION ISOLATION LEVEL READ UNCOMMITTED'],
      ['a', 'BEGIN'],
      ['a', 'SELECT email FROM customer WHERE customer_id = 901'],
      ['a', 'ROLLBACK AND CHAIN'],
      ['a', 'SELECT email FROM customer WHERE customer_id = 901'],
      ['a', 'COMMIT'],
      ['a', 'BEGIN'],
      ['a', 'SELECT email FROM customer WHERE customer_id = 901'],
      ['a', 'COMMIT'],
      ['a', 'SET autocommit = 0'],
      ['a', 'SET TRANSACTION ISOLATION LEVEL READ UNCOMMITTED, READ ONLY'],
      ['a', 'SELECT email FROM customer WHERE customer_id = 901'],
      ['a', "UPDATE customer SET email = 'x' WHERE customer_id = 1"],
      ['a', 'COMMIT'],
      ['a', 'SET autocommit = 1'],
      ['b', 'ROLLBACK'],
    ];
    const run = async (side: Record<'a' | 'b', mysql.Connection>): Promise<string[]> => {
      const out: string[] = [];
      for (const [who, sql] of steps) {
        const got = await side[who].query(sql).then(
          ([rows]) => (Array.isArray(rows) ? JSON.stringify(rows) : 'ok'),
          (e: { errno?: number }) => `errno ${e.errno}`,
        );
        out.push(`${who}: ${sql} -> ${got}`);
      }
      return out;
    };
    const numbers = { supportBigNumbers: true, bigNumberStrings: true };
    const g = { a: await c.connect('customer', numbers), b: await c.connect('customer', numbers) };
    const opts = { host: ref.host, port: ref.port, user: 'vt_dba', password: '', database: 'customer', ...numbers };
    const p = { a: await mysql.createConnection(opts), b: await mysql.createConnection(opts) };
    try {
      const mariadb = await run(p);
      // The script shows what it means to: MariaDB refuses the writes it marks read-only.
      assert.equal(mariadb.filter((l) => l.endsWith('errno 1792')).length, 4, mariadb.join('\n'));
      assert.ok(mariadb.includes('a: START TRANSACTION READ WRITE -> ok') && mariadb.some((l) => l.endsWith('errno 1568')), mariadb.join('\n'));
      assert.deepEqual(await run(g), mariadb);
    } finally {
      await Promise.all([g.a.end(), g.b.end(), p.a.end(), p.b.end()]);
    }
  });

  test('SHOW [FULL] PROCESSLIST lists the gate sessions of the user in MariaDB\'s columns', async () => {
    const a = await c.connect('customer');
    const b = await c.connect();
    try {
      await a.query('BEGIN');
      await a.query('UPDATE corder SET qty = qty WHERE customer_id IN (1, 4)');
      const [rows, fields] = await b.query('SHOW PROCESSLIST');
      assert.deepEqual(fields.map((f) => f.name), ['Id', 'User', 'Host', 'db', 'Command', 'Time', 'State', 'Info', 'Progress']);
      const list = rows as Record<string, unknown>[];
      const ra = list.find((r) => Number(r.Id) === a.threadId)!;
      const rb = list.find((r) => Number(r.Id) === b.threadId)!;
      assert.ok(ra && rb, JSON.stringify(list));
      assert.deepEqual([ra.User, ra.db, ra.Command, ra.State, ra.Info], ['vt_app', 'customer', 'Sleep', 'in transaction on customer/-80, customer/80-', null]);
      assert.deepEqual([rb.db, rb.Command, rb.State, rb.Info], [null, 'Query', 'executing', 'SHOW PROCESSLIST']);
      assert.match(String(ra.Host), /^127\.0\.0\.1(:\d+)?$/);
      assert.ok(Number(ra.Time) >= 0);
      await a.query('ROLLBACK');
      const long = `SELECT '${'x'.repeat(150)}' AS v`;
      const [full] = await b.query(`SHOW FULL PROCESSLIST /* ${long} */`);
      assert.equal((full as Record<string, unknown>[]).find((r) => Number(r.Id) === a.threadId)!.State, '');
      assert.ok(String((full as Record<string, unknown>[]).find((r) => Number(r.Id) === b.threadId)!.Info).length > 100, 'FULL shows all of the statement');
      const [short] = await b.query(`SHOW PROCESSLIST /* ${long} */`);
      assert.equal(String((short as Record<string, unknown>[]).find((r) => Number(r.Id) === b.threadId)!.Info).length, 100);
    } finally {
      await a.end();
      await b.end();
    }
  });
});

describe('auto_increment through a sequence (issue 23, item 2)', () => {
  test("an INSERT's 0 takes the sequence's next value, as MariaDB's auto_increment does, unless NO_AUTO_VALUE_ON_ZERO", async () => {
    const a = await c.connect('customer', { supportBigNumbers: true, bigNumberStrings: true });
    try {
      await a.query("INSERT INTO customer(customer_id, email, name, age) VALUES (0, 'zero@x', 'zero', 0)");
      const [[id]] = (await a.query('SELECT LAST_INSERT_ID() AS id')) as unknown as [[{ id: string }]];
      assert.notEqual(id.id, '0');
      const [rows] = await a.query("SELECT customer_id FROM customer WHERE email = 'zero@x'");
      assert.deepEqual(rows, [{ customer_id: id.id }]);
      await a.query("SET sql_mode = 'NO_AUTO_VALUE_ON_ZERO'");
      await a.query("INSERT INTO customer(customer_id, email, name, age) VALUES (0, 'zero2@x', 'zero', 0)");
      const [kept] = await a.query("SELECT customer_id FROM customer WHERE email = 'zero2@x'");
      assert.deepEqual(kept, [{ customer_id: '0' }]);
      await a.query("DELETE FROM customer WHERE email IN ('zero@x', 'zero2@x')");
    } finally {
      await a.end();
    }
  });
});

describe('column metadata parity (issue 23, item 6)', () => {
  test('the gate sends the column definitions MariaDB sends, field by field', async () => {
    const statements = [
      'SELECT customer_id, email, name, age FROM customer WHERE customer_id = 1',
      'SELECT customer_id, email, name, age FROM customer ORDER BY customer_id',
      'SELECT COUNT(*), SUM(price), MIN(price), MAX(sku), AVG(price), COUNT(DISTINCT sku), SUM(DISTINCT qty) FROM corder',
      'SELECT sku, COUNT(*) AS n, MAX(price) FROM corder GROUP BY sku',
      'SELECT SUM(qty), AVG(qty), MIN(created), MAX(created) FROM corder',
      'SELECT o.order_id, p.description FROM corder o JOIN commerce.product p ON p.sku = o.sku',
      // Arithmetic the gate computes: over a cross-shard aggregation, and over a join across keyspaces.
      'SELECT sku, SUM(price) / COUNT(*) AS avgp, COUNT(*) * 2, SUM(qty) + 1, MAX(price) DIV 3, -MIN(qty) FROM corder GROUP BY sku',
      'SELECT o.order_id, p.price * o.qty AS total, o.qty + 1, o.price - p.price, p.price / o.qty, o.qty % 2, o.price * 1.5 FROM corder o JOIN commerce.product p ON p.sku = o.sku',
      // Scalar subqueries from several keyspaces, run by the gate first and bound as literals.
      'SELECT (SELECT COUNT(*) FROM customer) AS customers, (SELECT COUNT(*) FROM commerce.product) AS products, (SELECT MAX(email) FROM customer) AS last_email',
      "SELECT JSON_OBJECT('id', customer_id) AS j FROM customer WHERE customer_id = 1",
      "SELECT JSON_OBJECT('id', customer_id) AS j FROM customer ORDER BY customer_id LIMIT 2",
      'SELECT NULL AS nothing, \'x\' AS s, 12345678901 AS big',
      'SELECT DISTINCT age FROM customer',
      'SELECT age FROM customer UNION SELECT qty FROM corder',
    ];
    const keys = ['name', 'orgName', 'table', 'orgTable', 'columnType', 'columnLength', 'decimals', 'flags', 'characterSet'] as const;
    const diffs: string[] = [];
    for (const sql of statements) {
      const [, gf] = await gate.query(sql);
      const [, pf] = await plain.query(sql);
      const show = (f: Record<string, unknown>): string => keys.map((k) => `${k}=${String(f[k])}`).join(' ');
      gf.forEach((g, i) => {
        const p = pf[i];
        const a = show(g as unknown as Record<string, unknown>);
        const b = show(p as unknown as Record<string, unknown>);
        if (a !== b) diffs.push(`${sql}\n  column ${i}\n  gate:    ${a}\n  mariadb: ${b}`);
      });
    }
    assert.equal(diffs.length, 0, diffs.join('\n'));
  });

  test("MariaDB's extended metadata (format=json) reaches the client: mysql2 parses JSON columns as it does from MariaDB", async () => {
    for (const sql of [
      "SELECT JSON_OBJECT('id', customer_id, 'name', name) AS j FROM customer WHERE customer_id = 2",
      "SELECT JSON_OBJECT('id', customer_id) AS j FROM customer WHERE customer_id IN (1, 4) ORDER BY customer_id",
    ]) {
      const [g] = await gate.query(sql);
      const [p] = await plain.query(sql);
      assert.deepEqual(g, p, sql);
      assert.equal(typeof (p as { j: unknown }[])[0].j, 'object', 'mysql2 parses json from MariaDB');
    }
  });
});
