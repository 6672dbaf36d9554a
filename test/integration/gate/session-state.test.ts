// Session state MariaDB keeps on its connection, through the gate on an unsharded keyspace (issue
// 24): user variables assigned inside queries, SELECT … INTO @v, a procedure's OUT parameter,
// LAST_INSERT_ID(expr), SQL-level PREPARE/EXECUTE/DEALLOCATE and LOCK TABLES — each answered as a
// plain MariaDB holding the same tables answers it. The session is pinned to a reserved connection
// of its shard; on a sharded keyspace these statements are refused with 1235.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { startCluster, type TestCluster } from '../../harness/cluster.js';
import { startMariaDB, type TestMariaDB } from '../../harness/mariadb.js';

const SCHEMA = `create table t(id bigint not null, v varchar(20), primary key(id)) ENGINE=InnoDB;
create table u(id bigint not null auto_increment, primary key(id)) ENGINE=InnoDB`;
const ROWS = "insert into t(id, v) values (1, 'a'), (2, 'b'), (3, 'c')";

let c: TestCluster;
let ref: TestMariaDB;

before(async () => {
  [c, ref] = await Promise.all([
    startCluster({
      keyspaces: [
        { name: 'test', shards: ['0'], schema: SCHEMA },
        {
          name: 'sharded', shards: ['-80', '80-'], schema: SCHEMA,
          vschema: { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { t: { column_vindexes: [{ column: 'id', name: 'hash' }] }, u: { column_vindexes: [{ column: 'id', name: 'hash' }] } } },
        },
      ],
    }),
    startMariaDB(),
  ]);
  const setup = await mysql.createConnection({ host: ref.host, port: ref.port, user: 'vt_dba', password: '', multipleStatements: true });
  await setup.query(`create database vt_test; use vt_test; ${SCHEMA}; ${ROWS}`);
  await setup.end();
  const g = await c.connect('test');
  await g.query(ROWS);
  await g.end();
});

after(async () => {
  await Promise.all([c?.stop(), ref?.stop()]);
});

type Answer = { fields: string[]; rows: string[][] } | { affected: number; insertId: number } | { errno: number; message: string };

async function answer(conn: mysql.Connection, sql: string): Promise<Answer> {
  try {
    const [r, fields] = await conn.query({ sql, rowsAsArray: true });
    if (!Array.isArray(r)) return { affected: (r as mysql.ResultSetHeader).affectedRows, insertId: (r as mysql.ResultSetHeader).insertId };
    return { fields: (fields ?? []).map((f) => f.name), rows: (r as unknown[][]).map((row) => row.map((v) => (v === null ? 'NULL' : String(v)))) };
  } catch (err) {
    const e = err as { errno?: number; message: string };
    return { errno: e.errno ?? -1, message: e.message };
  }
}

/** One session through the gate and one on the plain MariaDB run the statements in order. */
async function same(statements: readonly string[]): Promise<void> {
  const gate = await c.connect('test');
  const plain = await mysql.createConnection({ host: ref.host, port: ref.port, user: 'vt_dba', password: '', database: 'vt_test', supportBigNumbers: true, bigNumberStrings: true });
  try {
    const diffs: string[] = [];
    for (const sql of statements) {
      const g = JSON.stringify(await answer(gate, sql));
      const p = JSON.stringify(await answer(plain, sql));
      if (g !== p) diffs.push(`${sql}\n  gate:    ${g}\n  mariadb: ${p}`);
    }
    assert.equal(diffs.length, 0, diffs.join('\n'));
  } finally {
    await gate.end();
    await plain.end();
  }
}

describe('session state on an unsharded keyspace', () => {
  test('user variables assigned inside queries, INTO @v, and read back by the gate', async () => {
    await same([
      'SET @n = 0',
      'SELECT id, @n := @n + 1 AS n FROM t ORDER BY id',
      'SELECT @n, @n + 1',
      'SET @n = 10',
      'SELECT @n := @n * 2',
      'SELECT @n',
      "SELECT v INTO @got FROM t WHERE id = 2",
      'SELECT @got, CONCAT(@got, @got)',
      'SELECT @undefined, @undefined := 5, @undefined',
      'SELECT @undefined',
    ]);
  });

  test("a procedure's OUT parameter", async () => {
    await same([
      'CREATE PROCEDURE counted(OUT n INT) SELECT COUNT(*) INTO n FROM t',
      'CALL counted(@cnt)',
      'SELECT @cnt',
      'DROP PROCEDURE counted',
    ]);
  });

  test('LAST_INSERT_ID(expr) sets what LAST_INSERT_ID() answers', async () => {
    await same([
      'SELECT LAST_INSERT_ID(42)',
      'SELECT LAST_INSERT_ID()',
      'UPDATE t SET v = v WHERE id = LAST_INSERT_ID(3)',
      'SELECT LAST_INSERT_ID()',
      'INSERT INTO u() VALUES ()',
      'SELECT LAST_INSERT_ID()',
    ]);
  });

  test('SQL-level PREPARE, EXECUTE … USING, DEALLOCATE PREPARE', async () => {
    await same([
      "PREPARE byid FROM 'SELECT v FROM t WHERE id = ?'",
      'SET @id = 2',
      'EXECUTE byid USING @id',
      "SET sql_mode = 'NO_ENGINE_SUBSTITUTION'",
      'SET @id = 3',
      'EXECUTE byid USING @id',
      'DEALLOCATE PREPARE byid',
      'EXECUTE byid USING @id',
      "SET @q = 'SELECT COUNT(*) FROM t'",
      'PREPARE counting FROM @q',
      'EXECUTE counting',
      "PREPARE bump FROM 'SET @k = @k + 1'",
      'SET @k = 5',
      'EXECUTE bump',
      'EXECUTE bump',
      'SELECT @k',
      'DROP PREPARE bump',
    ]);
  });

  test('LOCK TABLES and UNLOCK TABLES on the session’s own connection', async () => {
    await same([
      'UNLOCK TABLES',
      'LOCK TABLES t WRITE',
      "INSERT INTO t(id, v) VALUES (10, 'locked')",
      'SELECT id, v FROM t ORDER BY id',
      'SELECT COUNT(*) FROM u',
      'UNLOCK TABLES',
      'SELECT COUNT(*) FROM u',
      'LOCK TABLES t READ',
      "INSERT INTO t(id, v) VALUES (11, 'no')",
      'UNLOCK TABLES',
      'DELETE FROM t WHERE id = 10',
    ]);
  });
});

test('on a sharded keyspace these are refused with 1235 saying where they work', async () => {
  const s = await c.connect('sharded');
  try {
    for (const sql of ['SELECT @a := id FROM t', 'SELECT LAST_INSERT_ID(5)', 'LOCK TABLES t READ', "PREPARE p FROM 'SELECT 1'", 'SELECT id INTO @x FROM t LIMIT 1']) {
      await assert.rejects(s.query(sql), (e: { errno?: number; message: string }) => e.errno === 1235 && /unsharded keyspace or a targeted shard/.test(e.message), sql);
    }
  } finally {
    await s.end();
  }
});
