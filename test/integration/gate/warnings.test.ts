// Warnings through the gate are MariaDB's (issue 24): after a statement that warns, SHOW WARNINGS,
// SHOW COUNT(*) WARNINGS, @@warning_count, SHOW ERRORS and the OK/EOF packet's count equal what the
// same statement gives on a plain MariaDB holding the same tables — on an unsharded keyspace, and
// for single-shard statements on a sharded one. The plain MariaDB's databases are named as the
// tablets' (`vt_<keyspace>`), since MariaDB's messages name the database.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import mysql from 'mysql2/promise';
import { startCluster, type TestCluster } from '../../harness/cluster.js';
import { startMariaDB, type TestMariaDB } from '../../harness/mariadb.js';

const SCHEMA = `create table t(id bigint not null, ti tinyint, s varchar(3), d date, u int unsigned, primary key(id)) ENGINE=InnoDB`;

let c: TestCluster;
let ref: TestMariaDB;

before(async () => {
  [c, ref] = await Promise.all([
    startCluster({
      keyspaces: [
        { name: 'test', shards: ['0'], schema: SCHEMA, vschema: { tables: { t: {} } } },
        {
          name: 'sharded', shards: ['-80', '80-'], schema: SCHEMA,
          vschema: { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { t: { column_vindexes: [{ column: 'id', name: 'hash' }] } } },
        },
      ],
    }),
    startMariaDB(),
  ]);
  const setup = await mysql.createConnection({ host: ref.host, port: ref.port, user: 'vt_dba', password: '', multipleStatements: true });
  await setup.query(`create database vt_test; create database vt_sharded; use vt_test; ${SCHEMA}; use vt_sharded; ${SCHEMA}`);
  await setup.end();
});

after(async () => {
  await Promise.all([c?.stop(), ref?.stop()]);
});

interface Diagnostics {
  /** The statement's OK/EOF warning count, or its error. */
  readonly outcome: string;
  readonly warnings: string;
  readonly count: string;
  readonly warningCount: string;
  readonly errors: string;
}

/** Rows and each column's name, type and flags. */
async function rows(conn: mysql.Connection, sql: string): Promise<string> {
  const [r, fields] = await conn.query({ sql, rowsAsArray: true });
  return JSON.stringify([r, (fields ?? []).map((f) => [f.name, f.columnType, f.flags])]);
}

async function diagnose(conn: mysql.Connection, sql: string): Promise<Diagnostics> {
  let outcome: string;
  try {
    const [r] = await conn.query(sql);
    // mysql2 gives the OK packet's count on a ResultSetHeader; a result set's EOF count it drops.
    outcome = Array.isArray(r) ? 'rows' : `ok, ${(r as mysql.ResultSetHeader).warningStatus} warning(s)`;
  } catch (err) {
    const e = err as { errno?: number; message: string };
    outcome = `error ${e.errno}: ${e.message}`;
  }
  return {
    outcome,
    warnings: await rows(conn, 'SHOW WARNINGS'),
    count: await rows(conn, 'SHOW COUNT(*) WARNINGS'),
    warningCount: await rows(conn, 'SELECT @@warning_count, @@error_count'),
    errors: await rows(conn, 'SHOW ERRORS'),
  };
}

/** Runs each statement through the gate and on the plain MariaDB; reports every difference. */
async function same(keyspace: string, statements: readonly string[]): Promise<void> {
  const gate = await c.connect(keyspace);
  const plain = await mysql.createConnection({ host: ref.host, port: ref.port, user: 'vt_dba', password: '', database: `vt_${keyspace}`, supportBigNumbers: true, bigNumberStrings: true });
  try {
    const diffs: string[] = [];
    let warned = 0;
    for (const sql of statements) {
      const g = await diagnose(gate, sql);
      const p = await diagnose(plain, sql);
      if (!p.warnings.startsWith('[[]')) warned++;
      if (JSON.stringify(g) !== JSON.stringify(p)) diffs.push(`${sql}\n  gate:    ${JSON.stringify(g)}\n  mariadb: ${JSON.stringify(p)}`);
    }
    assert.equal(diffs.length, 0, diffs.join('\n'));
    // The list really exercises warnings (a MariaDB that stopped warning would prove nothing).
    assert.ok(warned >= statements.length / 2, `only ${warned} of ${statements.length} statements left warnings`);
  } finally {
    await gate.end();
    await plain.end();
  }
}

// Each statement touches the row with its own id only, so on the sharded keyspace it is a
// single-shard statement (SELECT without tables goes to one shard too; DDL goes to both).
const WARNING_STATEMENTS = [
  'INSERT IGNORE INTO t(id, ti) VALUES (1, 1000)',
  "INSERT IGNORE INTO t(id, s) VALUES (2, 'truncated')",
  "INSERT IGNORE INTO t(id, d) VALUES (3, '2020-13-45')",
  'INSERT IGNORE INTO t(id, u) VALUES (4, -5)',
  'INSERT IGNORE INTO t(id) VALUES (1)',
  'SELECT 1/0',
  "SELECT CAST('abc' AS SIGNED)",
  "SELECT 'a' + 1",
  'SELECT 1',
  "SELECT DATE('2020-02-30')",
  'UPDATE IGNORE t SET ti = 300 WHERE id = 1',
  "UPDATE IGNORE t SET s = 'abcdef', ti = -300 WHERE id = 2",
  'SELECT id FROM t WHERE id = 1',
  'DROP TABLE IF EXISTS nosuch',
  'CREATE TABLE IF NOT EXISTS t(id bigint primary key)',
  'SELECT 1 FROM dual',
  "SELECT ti DIV 0, s + 'x' FROM t WHERE id = 2",
  'INSERT INTO t(id, ti) VALUES (9, 1000)',
  'SET @x = 1',
  'DELETE FROM t WHERE id = 9',
];

describe('SHOW WARNINGS after warning statements equals MariaDB', () => {
  test('unsharded keyspace, mysql2', async () => {
    await same('test', WARNING_STATEMENTS);
  });

  test('sharded keyspace, single-shard statements, mysql2', async () => {
    await same('sharded', WARNING_STATEMENTS);
  });

  test('session settings (a reserved connection): sql_mode without strictness warns instead of failing', async () => {
    await same('test', ["SET sql_mode = ''", "INSERT INTO t(id, ti, s, d) VALUES (20, -1000, 'abcdef', '2021-02-31')", 'SELECT 1', "UPDATE t SET ti = ti * 1000 WHERE id = 20", 'DELETE FROM t WHERE id = 20']);
  });

  test('more warnings than SHOW WARNINGS lists: the count is the full count', async () => {
    const values = Array.from({ length: 70 }, (_, i) => `(${100 + i}, 1000)`).join(', ');
    await same('test', [`INSERT IGNORE INTO t(id, ti) VALUES ${values}`, 'DELETE FROM t WHERE id >= 100']);
  });
});

function cli(port: number, user: string, database: string, script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = execFile('mariadb', ['--no-defaults', '-h127.0.0.1', `-P${port}`, `-u${user}`, '--table', '--show-warnings', '-vv', database], { encoding: 'utf8' }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout.replace(/\(\d+\.\d+ sec\)/g, '(? sec)')),
    );
    p.stdin!.end(script);
  });
}

test('mariadb CLI --show-warnings prints the same warnings through the gate as against MariaDB', async () => {
  const script = [
    'INSERT IGNORE INTO t(id, ti, s) VALUES (30, 1000, "toolong");',
    'SHOW WARNINGS;',
    'SELECT 1/0, CAST("x" AS SIGNED);',
    'SHOW COUNT(*) WARNINGS;',
    'SELECT @@warning_count;',
    'DROP TABLE IF EXISTS nosuch;',
    'DELETE FROM t WHERE id = 30;',
  ].join('\n');
  for (const ks of ['test', 'sharded']) {
    const viaGate = await cli(c.gate!.mysqlPort, 'vt_app', ks, script);
    const direct = await cli(ref.port, 'vt_dba', `vt_${ks}`, script);
    assert.equal(viaGate, direct);
    assert.match(direct, /Warning \(Code 1264\): Out of range value for column 'ti' at row 1/);
  }
});
