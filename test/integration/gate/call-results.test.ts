// A procedure that returns several result sets (issue 24): CALL through the gate answers with every
// result set and the final status, as MariaDB does — on an unsharded keyspace and on one shard of a
// sharded keyspace (USE ks:shard) — each compared with a plain MariaDB holding the same procedure.
// Across the shards of a sharded keyspace CALL is refused (1235): whose results would they be?
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { startCluster, type TestCluster } from '../../harness/cluster.js';
import { startMariaDB, type TestMariaDB } from '../../harness/mariadb.js';

const SCHEMA = `create table t(id bigint not null, v varchar(20), primary key(id)) ENGINE=InnoDB`;
const PROCEDURE = `CREATE PROCEDURE three(IN n INT)
BEGIN
  SELECT n AS n, 'first' AS which;
  INSERT INTO t(id, v) VALUES (n, 'called');
  SELECT id, v FROM t WHERE id = n;
  SELECT COUNT(*) AS c, SUM(id) AS s FROM t;
END`;

let c: TestCluster;
let ref: TestMariaDB;
let plain: mysql.Connection;

before(async () => {
  [c, ref] = await Promise.all([
    startCluster({
      keyspaces: [
        { name: 'test', shards: ['0'], schema: SCHEMA },
        {
          name: 'sharded', shards: ['-80', '80-'], schema: SCHEMA,
          vschema: { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { t: { column_vindexes: [{ column: 'id', name: 'hash' }] } } },
        },
      ],
    }),
    startMariaDB(),
  ]);
  const setup = await mysql.createConnection({ host: ref.host, port: ref.port, user: 'vt_dba', password: '', multipleStatements: true });
  await setup.query(`create database vt_test; use vt_test; ${SCHEMA}`);
  await setup.query(PROCEDURE);
  await setup.end();
  plain = await mysql.createConnection({ host: ref.host, port: ref.port, user: 'vt_dba', password: '', database: 'vt_test', supportBigNumbers: true, bigNumberStrings: true });
  for (const ks of ['test', 'sharded']) {
    const s = await c.connect(ks);
    await s.query(PROCEDURE);
    await s.end();
  }
});

after(async () => {
  await plain?.end();
  await Promise.all([c?.stop(), ref?.stop()]);
});

/** Every result of a CALL as mysql2 returns them: row sets as arrays, the final status as its counts. */
async function results(conn: mysql.Connection, sql: string): Promise<unknown[]> {
  const [r, fields] = await conn.query({ sql, rowsAsArray: true });
  assert.ok(Array.isArray(r), `${sql}: several results expected`);
  return (r as unknown[]).map((x, i) =>
    Array.isArray(x)
      ? { fields: ((fields as unknown as (mysql.FieldPacket[] | undefined)[])[i] ?? []).map((f) => f.name), rows: x }
      : { affected: (x as mysql.ResultSetHeader).affectedRows },
  );
}

describe('CALL with several result sets', () => {
  test('on an unsharded keyspace: every result set and the final status, as MariaDB sends them', async () => {
    const gate = await c.connect('test');
    try {
      const viaGate = await results(gate, 'CALL three(7)');
      const direct = await results(plain, 'CALL three(7)');
      assert.deepEqual(viaGate, direct);
      assert.equal(viaGate.length, 4, JSON.stringify(viaGate));
      assert.deepEqual((viaGate[1] as { rows: unknown[] }).rows, [['7', 'called']]);
    } finally {
      await gate.end();
    }
  });

  test('on one shard of a sharded keyspace (USE ks:shard), then across shards refused', async () => {
    const s = await c.connect('sharded');
    try {
      await assert.rejects(s.query('CALL three(1)'), (e: { errno?: number }) => e.errno === 1235);
      await s.query('USE `sharded:-80`');
      const viaGate = await results(s, 'CALL three(9)');
      await plain.query('DELETE FROM t');
      const direct = await results(plain, 'CALL three(9)');
      assert.deepEqual(viaGate, direct);
      assert.equal(viaGate.length, 4);
      // The session goes on after the last result: the next statement answers normally.
      const [rows] = await s.query({ sql: 'SELECT v FROM t WHERE id = 9', rowsAsArray: true });
      assert.deepEqual(rows, [['called']]);
    } finally {
      await s.end();
    }
  });
});

test("CALL: the procedure reads and sets the session's user variables the gate holds, as MariaDB's own session would", async () => {
  const gate = await c.connect('test');
  try {
    await gate.query('DROP PROCEDURE IF EXISTS bump');
    await gate.query('CREATE PROCEDURE bump() BEGIN SET @seen = @a; SET @a = @a + 1; END');
    // @a is set through the gate (the gate holds it); the body names it only inside, not in the CALL.
    await gate.query('SET @a = 41, @seen = NULL');
    await gate.query('CALL bump()');
    const [rows] = await gate.query({ sql: 'SELECT @a, @seen', rowsAsArray: true });
    assert.deepEqual((rows as unknown[][]).map((r) => r.map(String)), [['42', '41']]);
    await gate.query('SET @a = 1');
    await gate.query('CALL bump()');
    const [again] = await gate.query({ sql: 'SELECT @a, @seen', rowsAsArray: true });
    assert.deepEqual((again as unknown[][]).map((r) => r.map(String)), [['2', '1']]);
  } finally {
    await gate.end();
  }
});
