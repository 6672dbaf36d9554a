// Text order and equality through the gate: the tutorial's customer keyspace sharded -80/80- by
// hash, with names in several scripts and letter cases under utf8mb4_general_ci, nicknames under
// utf8mb4_unicode_ci and cities under latin1_swedish_ci, compared with one MariaDB holding the same
// rows. Scatter ORDER BY (merge-sort), LIMIT, GROUP BY, DISTINCT, MIN/MAX, COUNT(DISTINCT) and
// UNION all decide by the collation at the gate.
//
// Where MariaDB itself may answer with any member of a group of equal values ('Alice' or 'alice'
// for GROUP BY name), text cells are compared under the column's collation, not byte for byte.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { startCluster, type TestCluster } from '../harness/cluster.js';
import { startMariaDB, type TestMariaDB } from '../harness/mariadb.js';
import { compare } from '../../src/collations/index.js';

const SCHEMA = `create table customer(customer_id bigint not null, email varchar(128), name varchar(64) collate utf8mb4_general_ci,
  nick varchar(64) collate utf8mb4_unicode_ci, city varchar(32) character set latin1, age int, primary key(customer_id)) ENGINE=InnoDB`;

const ROWS = 400;
const NAMES = [
  'Alice', 'alice', 'ALICE', 'Alice ', 'Álice', 'alicE', 'Bob', 'bob', 'Böb', 'Zoë', 'zoe', 'Zoe', 'Øre', 'Orsted', 'ørsted', 'Æble', 'aeble',
  'straße', 'Strasse', 'STRASSE', 'résumé', 'Resume', 'naïve', 'Naive', 'Ångström', 'angstrom', 'ǅemal', 'ıhsan', 'İhsan', 'ihsan',
  'Αλφα', 'αλφα', 'Ωμέγα', 'ωμεγα', 'Σοφία', 'σοφια', 'Москва', 'москва', 'Ёж', 'еж', 'Йод', 'иод',
  '東京', '京都', '北京', 'ひらがな', 'カタカナ', 'ｶﾀｶﾅ', '한국', 'مرحبا', 'سلام', 'שלום', 'สวัสดี', 'नमस्ते',
  '😀', '😁', '👍🏽', '𝒜lpha', '𠀀', '', ' ', 'a\t', 'a', 'a ', 'zz', 'ZZ', '_x', '-x', 'x-',
];
const CITIES = ['Göteborg', 'goteborg', 'Malmö', 'MALMO', 'Åre', 'are', 'Ærø', 'Zürich', 'zurich', 'Œland', 'Straße', 'Paris ', 'paris', ''];

let c: TestCluster;
let ref: TestMariaDB;
let gate: mysql.Connection;
let plain: mysql.Connection;

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

before(async () => {
  [c, ref] = await Promise.all([
    startCluster({
      keyspaces: [
        {
          name: 'customer', shards: ['-80', '80-'], schema: SCHEMA,
          vschema: { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { customer: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] } } },
        },
      ],
    }),
    startMariaDB(),
  ]);
  gate = await c.connect('customer', { supportBigNumbers: true, bigNumberStrings: true });
  plain = await mysql.createConnection({ host: ref.host, port: ref.port, user: 'vt_dba', password: '', supportBigNumbers: true, bigNumberStrings: true, multipleStatements: true });
  await plain.query(`create database customer; use customer; ${SCHEMA}`);
  const r = rng(1123);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const rows = Array.from({ length: ROWS }, (_, i) => [i + 1, `u${i + 1}@x.com`, pick(NAMES), pick(NAMES), pick(CITIES), 20 + Math.floor(r() * 4)]);
  for (const conn of [gate, plain]) await conn.query('insert into customer(customer_id, email, name, nick, city, age) values ?', [rows]);
});

after(async () => {
  await gate?.end();
  await plain?.end();
  await Promise.all([c?.stop(), ref?.stop()]);
});

/** Collation of each result column, by name; columns not listed compare exactly. */
const COLUMN_COLLATION: Readonly<Record<string, number>> = { name: 45, nick: 224, city: 8, n: 45, mn: 45, mx: 45, nmn: 224, nmx: 224, cmn: 8, cmx: 8, l: 224, u: 45 };

type Rows = { names: string[]; rows: (string | null)[][] };

async function run(conn: mysql.Connection, sql: string): Promise<Rows> {
  const [rows, fields] = await conn.query({ sql, rowsAsArray: true });
  return {
    names: fields.map((f) => f.name),
    rows: (rows as unknown[][]).map((row) => row.map((v) => (v === null ? null : String(v)))),
  };
}

function sameRow(names: readonly string[], a: readonly (string | null)[], b: readonly (string | null)[]): boolean {
  return a.every((x, i) => {
    const y = b[i];
    if (x === null || y === null) return x === y;
    const coll = COLUMN_COLLATION[names[i]];
    return coll === undefined ? x === y : compare(coll, x, y) === 0;
  });
}

/** Equal results: the same rows in the same order (ordered), or the same multiset. */
function assertSame(sql: string, g: Rows, p: Rows, ordered: boolean): void {
  assert.deepEqual(g.names, p.names, sql);
  assert.equal(g.rows.length, p.rows.length, `${sql}: ${g.rows.length} rows through the gate, ${p.rows.length} from MariaDB`);
  if (ordered) {
    for (let i = 0; i < g.rows.length; i++) {
      assert.ok(sameRow(g.names, g.rows[i], p.rows[i]), `${sql}: row ${i} differs: gate ${JSON.stringify(g.rows[i])}, MariaDB ${JSON.stringify(p.rows[i])}`);
    }
    return;
  }
  const left = [...p.rows];
  for (const row of g.rows) {
    const k = left.findIndex((x) => sameRow(g.names, row, x));
    assert.ok(k >= 0, `${sql}: gate row ${JSON.stringify(row)} has no match in MariaDB's answer`);
    left.splice(k, 1);
  }
}

const ORDERED = [
  'select age, name, count(*) from customer group by age, name order by age, name',
  'select age, nick, count(*) from customer group by age, nick order by age, nick',
  'select city, count(*) from customer group by city order by city',
  'select name, customer_id from customer order by name, customer_id',
  'select nick, customer_id from customer order by nick desc, customer_id',
  'select city, customer_id from customer order by city, customer_id',
  'select name from customer order by name desc limit 7',
  'select name from customer order by name limit 25',
  'select nick from customer order by nick desc limit 9',
  'select nick from customer order by nick limit 30',
  'select city from customer order by city desc limit 5',
  'select name, customer_id from customer where age = 21 order by name desc, customer_id desc limit 12',
  'select distinct name from customer order by name',
  'select distinct nick from customer order by nick desc',
  'select name as n, count(*) from customer group by name order by n desc',
  'select nick, count(*) as k from customer group by nick order by k desc, nick limit 10',
  // Computed text: the shards name its collation (COLLATION() beside it), the metadata does not.
  'select name collate utf8mb4_bin as b, customer_id from customer order by b, customer_id',
  'select name, customer_id from customer order by name collate utf8mb4_bin desc, customer_id limit 20',
  'select lower(nick) as l, customer_id from customer order by l, customer_id',
  'select lower(nick) as l, count(*) from customer group by l order by l',
  'select distinct upper(name) as u from customer order by u desc',
];

const UNORDERED = [
  'select name, count(*) from customer group by name',
  'select distinct nick from customer',
  'select distinct city from customer',
  'select min(name) as mn, max(name) as mx from customer',
  'select age, min(name) as mn, max(name) as mx from customer group by age',
  'select min(city) as cmn, max(city) as cmx from customer',
  'select min(nick) as nmn, max(nick) as nmx from customer',
  'select count(distinct name), count(distinct nick), count(distinct city) from customer',
  'select name from customer where age = 20 union select name from customer where age = 23',
  'select nick from customer where age < 22 union select nick from customer where age > 21',
];

test('scatter ORDER BY, LIMIT, GROUP BY and DISTINCT on text give MariaDB\'s answer', async () => {
  for (const sql of ORDERED) assertSame(sql, await run(gate, sql), await run(plain, sql), true);
  for (const sql of UNORDERED) assertSame(sql, await run(gate, sql), await run(plain, sql), false);
});

test("'Alice' and 'alice' are one group through the gate, as in MariaDB", async () => {
  const sql = "select count(*) from (select name from customer where name in ('alice', 'bob') group by name) t";
  const g = await run(gate, "select name, count(*) from customer where name in ('alice', 'bob') group by name");
  const p = await run(plain, "select name, count(*) from customer where name in ('alice', 'bob') group by name");
  assert.equal(g.rows.length, 2, sql);
  assertSame(sql, g, p, false);
});

test('MIN and MAX across shards compare under the column\'s collation, not the connection\'s', async () => {
  // One row on each shard: each shard's partial MIN/MAX is its own value, so the gate decides.
  const [[lo]] = await c.shardRows('customer', '-80', 'select customer_id from customer order by customer_id limit 1').then((r) => r.map((x) => [String(x.customer_id)]));
  const [[hi]] = await c.shardRows('customer', '80-', 'select customer_id from customer order by customer_id limit 1').then((r) => r.map((x) => [String(x.customer_id)]));
  // 'Øre' sorts after 'zoe' under utf8mb4_general_ci and before it under utf8mb4_unicode_ci.
  for (const conn of [gate, plain]) {
    await conn.query(`update customer set name = 'Øre', nick = 'Øre' where customer_id = ${lo}`);
    await conn.query(`update customer set name = 'zoe', nick = 'zoe' where customer_id = ${hi}`);
  }
  for (const [a, b] of [[lo, hi], [hi, lo]]) {
    const sql = `select min(name) as mn, max(name) as mx, min(nick) as nmn, max(nick) as nmx from customer where customer_id in (${a}, ${b})`;
    const g = await run(gate, sql);
    const p = await run(plain, sql);
    assert.deepEqual(p.rows, [['zoe', 'Øre', 'Øre', 'zoe']], sql);
    assert.deepEqual(g.rows, p.rows, sql);
  }
  const grouped = `select age, max(nick) as nmx from customer where customer_id in (${lo}, ${hi}) group by age order by nmx`;
  assertSame(grouped, await run(gate, grouped), await run(plain, grouped), true);
});
