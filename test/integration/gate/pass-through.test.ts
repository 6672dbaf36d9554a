// MariaDB syntax the gate's parser does not know reaches the tablet as the client wrote it when the
// session's target is one shard (issue 24): stored programs, sequences, SET STATEMENT, EXECUTE
// IMMEDIATE, HANDLER, table maintenance, RETURNING, FETCH FIRST — each answered as a plain MariaDB
// holding the same tables answers it (its database named as the tablet's, `vt_test`). Statements the
// gate must handle itself stay syntax errors; on a sharded keyspace unknown syntax is refused. The
// grammar the parser learned from MariaDB's test suite answers through the gate as MariaDB does.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import mysql from 'mysql2/promise';
import { startCluster, type TestCluster } from '../../harness/cluster.js';
import { startMariaDB, type TestMariaDB } from '../../harness/mariadb.js';

const SCHEMA = `create table t(id bigint not null, v varchar(20), primary key(id)) ENGINE=InnoDB`;

let c: TestCluster;
let ref: TestMariaDB;
let gate: mysql.Connection;
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
      // Stored functions by a user without SUPER while binary logging is on (MariaDB's 1419).
      mysqlConfig: { log_bin_trust_function_creators: '1' },
    }),
    startMariaDB({ extraConfig: { log_bin_trust_function_creators: '1' } }),
  ]);
  const setup = await mysql.createConnection({ host: ref.host, port: ref.port, user: 'vt_dba', password: '', multipleStatements: true });
  await setup.query(`create database vt_test; use vt_test; ${SCHEMA}`);
  await setup.end();
  gate = await c.connect('test');
  plain = await mysql.createConnection({ host: ref.host, port: ref.port, user: 'vt_dba', password: '', database: 'vt_test', supportBigNumbers: true, bigNumberStrings: true });
});

after(async () => {
  await gate?.end();
  await plain?.end();
  await Promise.all([c?.stop(), ref?.stop()]);
});

type Answer = { fields: string[]; rows: string[][] } | { affected: number; insertId: number } | { errno: number; message: string };

async function answer(conn: mysql.Connection, sql: string): Promise<Answer> {
  try {
    const [r, fields] = await conn.query({ sql, rowsAsArray: true });
    if (!Array.isArray(r)) return { affected: (r as mysql.ResultSetHeader).affectedRows, insertId: (r as mysql.ResultSetHeader).insertId };
    return {
      fields: (fields ?? []).map((f) => f.name),
      rows: (r as unknown[][]).map((row) => (Array.isArray(row) ? row.map((v) => (v === null ? 'NULL' : String(v))) : [JSON.stringify(row)])),
    };
  } catch (err) {
    const e = err as { errno?: number; message: string };
    return { errno: e.errno ?? -1, message: e.message };
  }
}

/** Each statement answers through the gate as on the plain MariaDB; every difference is reported. */
async function same(statements: readonly string[]): Promise<void> {
  const diffs: string[] = [];
  for (const sql of statements) {
    const g = JSON.stringify(await answer(gate, sql));
    const p = JSON.stringify(await answer(plain, sql));
    if (g !== p) diffs.push(`${sql}\n  gate:    ${g}\n  mariadb: ${p}`);
  }
  assert.equal(diffs.length, 0, diffs.join('\n'));
}

function cli(port: number, user: string, database: string, script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = execFile('mariadb', ['--no-defaults', '-h127.0.0.1', `-P${port}`, `-u${user}`, '--table', database], { encoding: 'utf8' }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    );
    p.stdin!.end(script);
  });
}

describe('statements the parser does not know, on an unsharded keyspace', () => {
  test('CREATE PROCEDURE … BEGIN … END with the mariadb CLI and DELIMITER, then CALL', async () => {
    const script = `
DELIMITER //
CREATE PROCEDURE fill(IN n INT)
BEGIN
  DECLARE i INT DEFAULT 0;
  WHILE i < n DO
    INSERT INTO t(id, v) VALUES (1000 + i, CONCAT('p', i));
    SET i = i + 1;
  END WHILE;
  SELECT COUNT(*) AS filled FROM t WHERE id >= 1000;
END//
CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC
BEGIN
  IF x IS NULL THEN RETURN 0; END IF;
  RETURN x * 2;
END//
DELIMITER ;
CALL fill(3);
SELECT twice(21), twice(NULL);
SELECT id, v FROM t WHERE id >= 1000 ORDER BY id;
DROP PROCEDURE IF EXISTS fill;
DROP FUNCTION twice;
DELETE FROM t WHERE id >= 1000;
`;
    const viaGate = await cli(c.gate!.mysqlPort, 'vt_app', 'test', script);
    const direct = await cli(ref.port, 'vt_dba', 'vt_test', script);
    assert.equal(viaGate, direct);
    assert.match(direct, /\| twice\(21\) \| twice\(NULL\) \|\n\+-+\+-+\+\n\|\s+42 \|\s+0 \|/);
  });

  test('sequences, SET STATEMENT, EXECUTE IMMEDIATE, BEGIN NOT ATOMIC, RETURNING, FETCH FIRST', async () => {
    await same([
      'CREATE SEQUENCE s START WITH 10 INCREMENT BY 5',
      'SELECT NEXTVAL(s)',
      'SELECT NEXT VALUE FOR s',
      'SELECT PREVIOUS VALUE FOR s',
      'DROP SEQUENCE s',
      "INSERT INTO t(id, v) VALUES (1, 'a'), (2, 'b'), (3, 'c') RETURNING id, v",
      'SELECT id FROM t ORDER BY id FETCH FIRST 2 ROWS ONLY',
      'SELECT id FROM t ORDER BY id OFFSET 1 ROWS FETCH NEXT 1 ROWS WITH TIES',
      'SET STATEMENT max_statement_time = 10 FOR SELECT COUNT(*) FROM t',
      "EXECUTE IMMEDIATE 'SELECT v FROM t WHERE id = 2'",
      "EXECUTE IMMEDIATE CONCAT('SELECT ', '1 + 1')",
      "BEGIN NOT ATOMIC DECLARE n INT DEFAULT 0; SELECT COUNT(*) INTO n FROM t; INSERT INTO t(id, v) VALUES (n + 10, 'n'); END",
      'SELECT id, v FROM t ORDER BY id',
      "REPLACE INTO t(id, v) VALUES (3, 'C') RETURNING v",
      'DELETE FROM t WHERE id = 3 RETURNING id, v',
      'SHOW CONTRIBUTORS',
      'VALUES (1, 2), (3, 4)',
      'SELECT * FROM (VALUES (5), (6)) AS dt ORDER BY 1 DESC',
      "SELECT HEX(WEIGHT_STRING(_latin1 'ab' AS CHAR(3))), CHAR(77, 121 USING utf8mb4)",
      'ANALYZE SELECT COUNT(*) FROM t WHERE id > 0',
      "SHOW CREATE PROCEDURE nosuch",
    ]);
  });

  test('HANDLER keeps its table open on the session’s own connection', async () => {
    await same([
      'HANDLER t OPEN',
      'HANDLER t READ `PRIMARY` FIRST',
      'HANDLER t READ `PRIMARY` NEXT',
      'HANDLER t READ `PRIMARY` NEXT',
      'HANDLER t CLOSE',
      'HANDLER t READ `PRIMARY` FIRST',
    ]);
  });

  test('table maintenance: OPTIMIZE, REPAIR … QUICK, CHECK … EXTENDED, ANALYZE', async () => {
    await same(['OPTIMIZE TABLE t', 'REPAIR TABLE t QUICK', 'CHECK TABLE t EXTENDED', 'ANALYZE TABLE t', 'CHECKSUM TABLE t']);
  });

  test("an empty statement is MariaDB's 1065", async () => {
    await same(['', ' ', '/* nothing */', ';', ' ; ']);
    await assert.rejects(gate.query(''), (e: { errno?: number; message: string }) => e.errno === 1065 && e.message === 'Query was empty');
  });
});

describe('parsed statements on an unsharded keyspace go as written', () => {
  test("MariaDB's errors, column names and EXPLAIN EXTENDED / FORMAT=JSON answers", async () => {
    await same([
      // A statement the gate parses and MariaDB refuses: MariaDB quotes the text as written.
      "select t.* as 'x' from t",
      'select   V , ID+1 ,  "a"||"b"  from t where id > 0',
      'select count(*) from t where v like "%a%"',
      'explain extended select id from t where id = 1',
      'explain format=json select id from t where id = 1',
      'insert into t values (1000, repeat("x", 30))',
      'update t set v = 1/0 where id = -1',
      // DDL: MariaDB names CREATE … SELECT's and a view's columns from the text as written.
      'create table tw select truncate(1.55,1), coalesce(1,1.0), min(id) over() from t',
      'show create table tw',
      'create view vw as select  default(v), id  from t',
      'select * from vw where id = 1000',
      'drop view vw',
      'drop table tw',
      "explain select id, @r := 0 from t where v like 'x%'",
    ]);
    // MariaDB answers 1049 for a MyISAM table (InnoDB's rename fails later, with 1025).
    await assert.rejects(gate.query('rename table t to nowhere.t2'), (e: { errno?: number }) => e.errno === 1049);
  });

  test("FLUSH TABLES runs on the keyspace's MariaDB; a session variable's error and warning are the SET's", async () => {
    await same(['FLUSH TABLES', 'FLUSH TABLES t']);
    await gate.query('FLUSH TABLES WITH READ LOCK');
    await gate.query('UNLOCK TABLES');
    await same(["SET SESSION sql_mode = 'NO_SUCH_MODE'", 'SET @@tmp_table_size = 1024', 'SHOW WARNINGS']);
    // A user variable in the value is the gate's.
    await same(['SET @save = @@optimizer_switch', "SET optimizer_switch = 'index_merge=off'", 'SET optimizer_switch = @save', 'SELECT @@optimizer_switch = @save']);
  });
});

describe('what stays with the gate', () => {
  test('statements the gate handles keep their syntax errors; GET DIAGNOSTICS and CREATE DATABASE are refused with 1235', async () => {
    for (const sql of ['SET @a', 'USE', 'BEGIN WORK NOW', 'SHOW WARNINGS EXTRA', 'START SLAVE', 'COMMIT NOW']) {
      await assert.rejects(gate.query(sql), (e: { errno?: number }) => e.errno === 1064, sql);
    }
    await assert.rejects(gate.query('GET DIAGNOSTICS @n = NUMBER'), (e: { errno?: number; message: string }) => e.errno === 1235 && /SHOW WARNINGS/.test(e.message));
    await assert.rejects(gate.query('CREATE SCHEMA x'), (e: { errno?: number; message: string }) => e.errno === 1235 && /CreateKeyspace/.test(e.message));
  });

  test('on a sharded keyspace the parser decides: unknown syntax is a syntax error; a targeted shard takes it', async () => {
    const s = await c.connect('sharded');
    try {
      await assert.rejects(s.query('SELECT {fn LENGTH(v)} FROM t'), (e: { errno?: number }) => e.errno === 1064);
      // What the parser knows is planned across shards, or refused when the gate cannot merge it.
      await assert.rejects(s.query('SELECT id FROM t PROCEDURE ANALYSE()'), (e: { errno?: number; message: string }) => e.errno === 1235 && /PROCEDURE ANALYSE/.test(e.message));
      await s.query("INSERT INTO t(id, v) VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')");
      const [first] = await s.query({ sql: 'SELECT id FROM t ORDER BY id OFFSET 1 ROWS FETCH FIRST 2 ROWS ONLY', rowsAsArray: true });
      assert.deepEqual(first, [['2'], ['3']]);
      await assert.rejects(s.query('SELECT id FROM t ORDER BY id FETCH FIRST 1 ROWS WITH TIES'), (e: { errno?: number }) => e.errno === 1235);
      await assert.rejects(s.query("INSERT INTO t(id, v) VALUES (5, 'x') RETURNING id"), (e: { errno?: number; message: string }) => e.errno === 1235 && /RETURNING/.test(e.message));
      await s.query('DELETE FROM t WHERE id <= 4');
      await s.query('USE `sharded:-80`');
      const [rows] = await s.query({ sql: "EXECUTE IMMEDIATE 'SELECT 40 + 2'", rowsAsArray: true });
      assert.deepEqual(rows, [[42]]);
    } finally {
      await s.end();
    }
  });
});

describe('grammar learned from the MariaDB corpus, on an unsharded keyspace', () => {
  test('JSON_TABLE, EXECUTE … USING expressions, GROUP BY … DESC, PROCEDURE ANALYSE, top-level FOR, COMMIT AND CHAIN, IGNORE values answer as MariaDB does', async () => {
    await same([
      `SELECT * FROM JSON_TABLE('[{"a":1},{"a":2},{}]', '$[*]' COLUMNS (n FOR ORDINALITY, a INT PATH '$.a' DEFAULT '0' ON EMPTY)) AS jt`,
      "INSERT INTO t VALUES (100, 'x'), (101, 'y')",
      'SELECT id FROM t WHERE id >= 100 GROUP BY id DESC',
      'SELECT id FROM t WHERE id >= 100 PROCEDURE ANALYSE()',
      "PREPARE s FROM 'SELECT ? + 1, ?'",
      "EXECUTE s USING 40 + 1, CONCAT('a', 'b')",
      'DEALLOCATE PREPARE s',
      "FOR i IN 1..3 DO INSERT INTO t VALUES (200 + i, 'f'); END FOR",
      'SELECT COUNT(*) FROM t WHERE id > 200',
      'SELECT c1 FROM (SELECT 4 AS c1) d WHERE c1 > ((SELECT COUNT(*) FROM t WHERE id > 200) / 2)',
      'BEGIN',
      "INSERT INTO t VALUES (102, 'z')",
      'COMMIT AND CHAIN',
      "INSERT INTO t VALUES (103, 'z')",
      'ROLLBACK',
      'SELECT id FROM t WHERE id IN (102, 103)',
      'UPDATE t SET v = IGNORE WHERE id = 201',
      'ALTER TABLE IF EXISTS nosuch ADD COLUMN b INT',
      'DELETE FROM t WHERE id >= 100',
    ]);
    await assert.rejects(gate.query('COMMIT RELEASE'), (e: { errno?: number; message: string }) => e.errno === 1235 && /RELEASE/.test(e.message));
  });
});
