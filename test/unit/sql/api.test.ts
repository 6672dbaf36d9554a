// Table-driven tests of what the gate relies on: normalizer rules, Vitess targets and SHOWs,
// literals, the rewriter and bind-variable substitution.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  conjuncts, format, formatExpr, normalizeSql, parse, rewrite, tableNames, type Expr, type Select, type Statement,
} from '../../../src/sql/index.js';

const NORMALIZE: readonly [string, string, Record<string, string>][] = [
  ['select c from sbtest1 where id = 5', 'SELECT c FROM sbtest1 WHERE id = :vtg1', { vtg1: '5' }],
  ["select * from t where a = 'x' and b = 1.5", 'SELECT * FROM t WHERE a = :vtg1 AND b = :vtg2', { vtg1: "'x'", vtg2: '1.5' }],
  ['select * from t where a in (1, 2, 3)', 'SELECT * FROM t WHERE a IN ::vtg1', { vtg1: '(1, 2, 3)' }],
  ['select * from t where a not in (1, b)', 'SELECT * FROM t WHERE a NOT IN (:vtg1, b)', { vtg1: '1' }],
  ['select * from t where a = -5', 'SELECT * FROM t WHERE a = :vtg1', { vtg1: '-5' }],
  ['select * from t where a is null and b = true', 'SELECT * FROM t WHERE a IS NULL AND b = TRUE', {}],
  ['select a from t order by 1 limit 10 offset 20', 'SELECT a FROM t ORDER BY 1 LIMIT 10 OFFSET 20', {}],
  ['select a, count(*) from t group by 1', 'SELECT a, count(*) FROM t GROUP BY 1', {}],
  ["select a from t order by field(a, 'x')", 'SELECT a FROM t ORDER BY field(a, :vtg1)', { vtg1: "'x'" }],
  ['select * from t where id = :vtg1 and b = 2', 'SELECT * FROM t WHERE id = :vtg1 AND b = :vtg2', { vtg2: '2' }],
  ["select * from t where d > date '2024-01-01'", "SELECT * FROM t WHERE d > DATE '2024-01-01'", {}],
  ["insert into t (a, b) values (1, 'x'), (2, null)", 'INSERT INTO t (a, b) VALUES (:vtg1, :vtg2), (:vtg3, NULL)', { vtg1: '1', vtg2: "'x'", vtg3: '2' }],
  ['update t set a = 1 where id = 2 limit 1', 'UPDATE t SET a = :vtg1 WHERE id = :vtg2 LIMIT 1', { vtg1: '1', vtg2: '2' }],
  ['delete from t where id in (7)', 'DELETE FROM t WHERE id IN ::vtg1', { vtg1: '(7)' }],
  ["select _binary'\\0x', x'41' from t", 'SELECT :vtg1, :vtg2 FROM t', { vtg1: "_binary'\\0x'", vtg2: "X'41'" }],
  ['select * from t where id = (select max(id) from u where b = 3)', 'SELECT * FROM t WHERE id = (SELECT max(id) FROM u WHERE b = :vtg1)', { vtg1: '3' }],
  ['select a, sum(b) over (order by a rows 2 preceding) from t', 'SELECT a, sum(b) OVER (ORDER BY a ROWS 2 PRECEDING) FROM t', {}],
  ["set sql_mode = 'x', @a = 1", "SET sql_mode = 'x', @a = 1", {}],
  ["create table t (a int default 5, b varchar(3) default 'x')", "CREATE TABLE t (a INT DEFAULT 5, b VARCHAR(3) DEFAULT 'x')", {}],
  ['show tables like "t%"', "SHOW TABLES LIKE 't%'", {}],
];

test('normalizer: cache keys and bind values', () => {
  for (const [sql, key, values] of NORMALIZE) {
    const n = normalizeSql(sql);
    assert.equal(n.key, key, sql);
    const printed: Record<string, string> = {};
    for (const [k, v] of Object.entries(n.bindVars)) printed[k] = v.kind === 'List' ? '(' + v.items.map((i) => formatExpr(i)).join(', ') + ')' : formatExpr(v);
    assert.deepEqual(printed, values, sql);
    assert.equal(format(parse(sql)), format(n.statement, { bindVars: n.bindVars }), `substituted back: ${sql}`);
  }
});

test('normalizer: statements differing only in values share a key', () => {
  assert.equal(normalizeSql('select c from sbtest1 where id=1').key, normalizeSql('SELECT c FROM sbtest1 WHERE id = 99').key);
  assert.notEqual(normalizeSql('select a from t limit 1').key, normalizeSql('select a from t limit 2').key);
});

const USE: readonly [string, string | null, string | null, string | null][] = [
  ['use customer', 'customer', null, null],
  ['use customer:-80', 'customer', '-80', null],
  ['use customer:80-c0', 'customer', '80-c0', null],
  ['use customer/0', 'customer', '0', null],
  ['use customer@replica', 'customer', null, 'replica'],
  ['use customer:-80@rdonly', 'customer', '-80', 'rdonly'],
  ['use `customer:-80`', 'customer', '-80', null],
  ['use @rdonly', null, null, 'rdonly'],
  ['use `ks-1`', 'ks-1', null, null],
];

test('USE targets keep keyspace, shard and tablet type apart', () => {
  for (const [sql, keyspace, shard, tabletType] of USE) {
    const s = parse(sql);
    assert.equal(s.kind, 'Use');
    if (s.kind !== 'Use') continue;
    assert.deepEqual([s.keyspace, s.shard, s.tabletType], [keyspace, shard, tabletType], sql);
    assert.deepEqual(parse(format(s)), { ...s, start: 0, end: format(s).length }, sql);
  }
  for (const bad of ['use', 'use :-80', 'use a b', 'use customer:-80 x']) assert.throws(() => parse(bad), /1064|syntax/, bad);
});

test('SHOW variants, including Vitess ones', () => {
  const cases: readonly [string, string][] = [
    ['show vitess_shards', 'VITESS_SHARDS'], ['show vitess_tablets', 'VITESS_TABLETS'], ['show keyspaces', 'KEYSPACES'],
    ['show vschema tables', 'VSCHEMA TABLES'], ['show vschema vindexes', 'VSCHEMA VINDEXES'],
    ['show vitess_replication_status', 'VITESS_REPLICATION_STATUS'], ['show full tables from ks', 'TABLES'],
    ['show create table ks.t', 'CREATE TABLE'], ['show global status', 'STATUS'],
  ];
  for (const [sql, type] of cases) {
    const s = parse(sql);
    assert.ok(s.kind === 'Show' && s.type === type, sql);
  }
  const s = parse('show vschema vindexes on customer.corder');
  assert.ok(s.kind === 'Show');
  assert.deepEqual(s.table, { kind: 'TableName', schema: 'customer', name: 'corder' });
});

test('literals: strings, escapes, numbers beyond 64 bits, hex, bit, introducers', () => {
  const one = (sql: string): Expr => (parse('select ' + sql) as Select).columns[0]!.expr;
  assert.deepEqual(one("'a\\'b''c\\n\\%'"), { kind: 'String', value: "a'b'c\n\\%", charset: null, national: false });
  assert.deepEqual(one('"x" \'y\''), { kind: 'String', value: 'xy', charset: null, national: false });
  assert.deepEqual(one("_utf8mb4'é'"), { kind: 'String', value: 'é', charset: 'utf8mb4', national: false });
  assert.deepEqual(one("N'x'"), { kind: 'String', value: 'x', charset: null, national: true });
  assert.deepEqual(one('184467440737095516160'), { kind: 'Number', text: '184467440737095516160', numType: 'int' });
  assert.deepEqual(one('1.5e-3'), { kind: 'Number', text: '1.5e-3', numType: 'float' });
  assert.deepEqual(one('0xFF'), { kind: 'Hex', digits: 'FF', form: '0x', charset: null });
  assert.deepEqual(one("b'101'"), { kind: 'Bit', digits: '101', form: 'b', charset: null });
  assert.deepEqual(one('@@session.sql_mode'), { kind: 'SysVar', scope: 'SESSION', name: 'sql_mode' });
  assert.deepEqual(one('`a``b`'), { kind: 'Column', table: null, name: 'a`b' });
  assert.deepEqual(one('?'), { kind: 'Param', index: 0 });
  assert.deepEqual(one(':name'), { kind: 'BindVar', name: 'name', list: false });
});

test('hints are kept and re-emitted; version comments are parsed', () => {
  const s = parse('select /*+ MAX_EXECUTION_TIME(100) */ a from t where /*!50000 b = 1 */ and c = 2') as Select;
  assert.equal(s.hints, '/*+ MAX_EXECUTION_TIME(100) */');
  assert.equal(format(s), 'SELECT /*+ MAX_EXECUTION_TIME(100) */ a FROM t WHERE b = 1 AND c = 2');
  assert.equal(format(parse('select a /*+ not a hint here */ from t')), 'SELECT a FROM t');
});

test('select items keep the source text span for column naming', () => {
  const sql = 'select count( * ), a+1 as x from t';
  const s = parse(sql) as Select;
  assert.deepEqual(s.columns.map((c) => sql.slice(c.start, c.end)), ['count( * )', 'a+1']);
});

test('rewriter: strip keyspace qualifiers, read WHERE conjuncts, substitute bind variables', () => {
  const s = parse('select o.id from customer.corder o join customer.product p on p.sku = o.sku where o.customer_id = 1 and p.price > 10');
  const stripped = rewrite(s, { tableName: (t) => ({ kind: 'TableName', schema: null, name: t.name }) });
  assert.equal(format(stripped), 'SELECT o.id FROM corder AS o JOIN product AS p ON p.sku = o.sku WHERE o.customer_id = 1 AND p.price > 10');
  assert.deepEqual(tableNames(s).map((t) => `${t.schema}.${t.name}`), ['customer.corder', 'customer.product']);
  assert.equal(conjuncts((s as Select).where).length, 2);
  const renamed: Statement = rewrite(parse('update customer set a = 1 where id = 2'), { tableName: () => ({ kind: 'TableName', schema: 'vt_customer', name: 'customer' }) });
  assert.equal(format(renamed), 'UPDATE vt_customer.customer SET a = 1 WHERE id = 2');
  const n = normalizeSql('select * from t where id in (1, 2) and name = "x"');
  assert.equal(format(n.statement, { bindVars: n.bindVars }), "SELECT * FROM t WHERE id IN (1, 2) AND name = 'x'");
  assert.equal(format(parse('select * from t where id = :id'), { bindVars: { id: { kind: 'Number', text: '7', numType: 'int' } } }), 'SELECT * FROM t WHERE id = 7');
});

test('DDL keeps table names, columns and keys', () => {
  const s = parse('create table ks.t (id bigint not null auto_increment, name varchar(10), primary key (id), key k (name)) engine=InnoDB');
  assert.ok(s.kind === 'CreateTable');
  assert.deepEqual(s.table, { kind: 'TableName', schema: 'ks', name: 't' });
  assert.deepEqual(s.columns.map((c) => [c.name, c.type.name]), [['id', 'BIGINT'], ['name', 'VARCHAR']]);
  assert.deepEqual(s.constraints.map((c) => (c.kind === 'Index' ? [c.type, c.columns.map((x) => x.name)] : [])), [['PRIMARY', ['id']], ['INDEX', ['name']]]);
  const n = parse('select next 5 values from ks.user_seq');
  assert.ok(n.kind === 'NextVal' && n.table.schema === 'ks' && n.table.name === 'user_seq');
});

test('? markers in a WITH query are numbered once, in order (the parser backtracks after WITH)', () => {
  const indexes: number[] = [];
  const s = parse('with a as (select x from t where y > ?), b as (select x from a where y < ?) select count(*) from b where x = ?');
  rewrite(s, { expr: (e: Expr) => (e.kind === 'Param' ? (indexes.push(e.index), e) : undefined) });
  assert.deepEqual(indexes, [0, 1, 2]);
  const u: number[] = [];
  rewrite(parse('with a as (select x from t where y > ?) update t set z = ? where x in (select x from a)'), { expr: (e: Expr) => (e.kind === 'Param' ? (u.push(e.index), e) : undefined) });
  assert.deepEqual(u.sort(), [0, 1]);
});
