// ≥300 corpus SELECTs (test/unit/sql/corpus/exec-select.sql) run on a real MariaDB both as written
// and as our formatter prints them; the results must be equal. The schema and rows they read are
// created here.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { startMariaDB, type TestMariaDB } from '../../harness/mariadb.js';
import { format, parse } from '../../../src/sql/index.js';
import { readCorpusFile } from '../../unit/sql/corpus.js';

const EXECUTED_MIN = 300;

const SCHEMA = [
  'CREATE DATABASE corpus',
  'USE corpus',
  `CREATE TABLE customer (customer_id BIGINT NOT NULL, email VARCHAR(128), name VARCHAR(64), created_at DATETIME,
     score INT NULL, PRIMARY KEY (customer_id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  `CREATE TABLE corder (order_id BIGINT NOT NULL, customer_id BIGINT, sku VARBINARY(128), price BIGINT, qty INT,
     status VARCHAR(16), PRIMARY KEY (order_id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  `CREATE TABLE product (sku VARBINARY(128) NOT NULL, description VARCHAR(128), price BIGINT, PRIMARY KEY (sku),
     FULLTEXT KEY ft_description (description)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  `CREATE TABLE sbtest1 (id INT NOT NULL AUTO_INCREMENT, k INT NOT NULL DEFAULT 0, c CHAR(120) NOT NULL DEFAULT '',
     pad CHAR(60) NOT NULL DEFAULT '', PRIMARY KEY (id), KEY k_1 (k)) ENGINE=InnoDB`,
  `INSERT INTO customer VALUES (1, 'alice@domain.com', 'xalicex', '2024-01-01 10:00:00', 10),
     (2, 'bob@domain.com', 'bob', '2024-01-15 11:30:00', NULL), (3, 'charlie@domain.com', 'charlie', '2024-02-01 09:00:00', 70),
     (4, 'dan@domain.com', 'xdan', '2024-02-20 18:45:00', 40), (5, 'eve@domain.com', 'eve', '2024-03-05 07:15:00', NULL),
     (6, 'zed@other.org', 'zed', '2024-03-06 00:00:00', 99)`,
  `INSERT INTO corder VALUES (1, 1, 'SKU-1001', 100, 1, 'paid'), (2, 2, 'SKU-1002', 30, 2, 'new'), (3, 3, 'SKU-1002', 30, 1, 'paid'),
     (4, 4, 'SKU-1002', 30, 3, 'shipped'), (5, 5, 'SKU-1002', 30, NULL, 'new'), (6, 1, 'SKU-1003', 55, 2, 'paid')`,
  `INSERT INTO product VALUES ('SKU-1001', 'Monitor', 100), ('SKU-1002', 'Keyboard', 30), ('SKU-1003', 'Mouse pad', 55)`,
  `INSERT INTO sbtest1 (id, k, c, pad) VALUES (1, 1, 'c-1', 'p-1'), (2, 3, 'c-2', 'p-2'), (3, 2, 'c-3', 'p-3'), (4, 5, 'c-4', 'p-4'),
     (5, 1, 'c-5', 'p-5'), (6, 8, 'c-6', 'p-6'), (7, 2, 'c-7', 'p-7'), (8, 3, 'c-8', 'p-8'), (9, 9, 'c-9', 'p-9')`,
];

let db: TestMariaDB;
let conn: mysql.Connection;

before(async () => {
  db = await startMariaDB();
  conn = await mysql.createConnection({ host: db.host, port: db.port, user: 'vt_dba', password: '', dateStrings: true, supportBigNumbers: true, bigNumberStrings: true });
  for (const s of SCHEMA) await conn.query(s);
});

after(async () => {
  await conn?.end();
  await db?.stop();
});

type Outcome = { ok: true; rows: string } | { ok: false; errno: number };

async function run(sql: string): Promise<Outcome> {
  try {
    const [rows] = await conn.query({ sql, rowsAsArray: true });
    return { ok: true, rows: JSON.stringify(rows, (_k, v: unknown) => (Buffer.isBuffer(v) ? 'hex:' + v.toString('hex') : v)) };
  } catch (err) {
    return { ok: false, errno: (err as { errno?: number }).errno ?? -1 };
  }
}

test('corpus SELECTs give equal results as written and as formatted', async (t) => {
  const entries = readCorpusFile('exec-select.sql');
  let executed = 0;
  const mismatches: string[] = [];
  for (const { line, sql } of entries) {
    const formatted = format(parse(sql));
    const a = await run(sql);
    const b = await run(formatted);
    if (a.ok) executed++;
    if (JSON.stringify(a) !== JSON.stringify(b)) {
      mismatches.push(`exec-select.sql:${line}\n  written:   ${sql}\n  formatted: ${formatted}\n  ${JSON.stringify(a).slice(0, 200)}\n  ${JSON.stringify(b).slice(0, 200)}`);
    }
  }
  t.diagnostic(`${executed} of ${entries.length} SELECTs executed; the rest fail identically both ways`);
  assert.equal(mismatches.length, 0, mismatches.join('\n'));
  assert.ok(executed >= EXECUTED_MIN, `only ${executed} of ${entries.length} SELECTs ran without error`);
});
