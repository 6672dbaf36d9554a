// Connection character sets through the gate (issue 24): a latin1 client — by its handshake
// (mysql2 with charset 'latin1', `mariadb --default-character-set=latin1`) or by SET NAMES — writes
// and reads back `Müller` and `Ærø` and gets the same bytes as from a plain MariaDB holding the same
// table, on an unsharded keyspace and on a sharded keyspace's single-shard and scatter reads;
// CHARSET(), COLLATION(), LENGTH() of literals and the @@character_set_* variables answer as MariaDB.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import mysql from 'mysql2/promise';
import { startCluster, type TestCluster } from '../../harness/cluster.js';
import { startMariaDB, type TestMariaDB } from '../../harness/mariadb.js';

const SCHEMA = 'create table person(id bigint not null, name varchar(30), primary key(id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4';
const NAMES: readonly [number, string][] = [[1, 'Müller'], [2, 'Ærø'], [3, 'plain'], [4, 'Ærø Müller']];

let c: TestCluster;
let ref: TestMariaDB;

before(async () => {
  [c, ref] = await Promise.all([
    startCluster({
      keyspaces: [
        { name: 'test', shards: ['0'], schema: SCHEMA },
        {
          name: 'sharded', shards: ['-80', '80-'], schema: SCHEMA,
          vschema: { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { person: { column_vindexes: [{ column: 'id', name: 'hash' }] } } },
        },
      ],
    }),
    startMariaDB(),
  ]);
  const setup = await mysql.createConnection({ host: ref.host, port: ref.port, user: 'vt_dba', password: '', multipleStatements: true });
  await setup.query(`create database vt_test; use vt_test; ${SCHEMA}`);
  await setup.end();
});

after(async () => {
  await Promise.all([c?.stop(), ref?.stop()]);
});

type Conn = mysql.Connection;

function viaGate(keyspace: string, opts: mysql.ConnectionOptions = {}): Promise<Conn> {
  return c.connect(keyspace, opts);
}

function direct(opts: mysql.ConnectionOptions = {}): Promise<Conn> {
  return mysql.createConnection({ host: ref.host, port: ref.port, user: 'vt_dba', password: '', database: 'vt_test', supportBigNumbers: true, bigNumberStrings: true, ...opts });
}

/** Every cell as the bytes that came over the wire (hex), with each column's character set id. */
async function raw(conn: Conn, sql: string): Promise<{ charsets: number[]; rows: (string | null)[][] }> {
  const [rows, fields] = await conn.query({
    sql, rowsAsArray: true,
    typeCast: (field, next) => {
      void next;
      const b = field.buffer();
      return b === null ? null : b.toString('hex');
    },
  });
  return { charsets: (fields ?? []).map((f) => (f as unknown as { characterSet: number }).characterSet), rows: rows as (string | null)[][] };
}

const latin1 = (s: string) => Buffer.from(s, 'latin1').toString('hex');

async function writeNames(conn: Conn): Promise<void> {
  await conn.query('delete from person');
  for (const [id, name] of NAMES) await conn.query('insert into person(id, name) values (?, ?)', [id, name]);
}

describe('a latin1 client by its handshake (mysql2 charset latin1)', () => {
  for (const keyspace of ['test', 'sharded']) {
    test(`writes and reads back Müller and Ærø on ${keyspace} as on MariaDB directly`, async () => {
      const g = await viaGate(keyspace, { charset: 'latin1' });
      const d = await direct({ charset: 'latin1' });
      try {
        await writeNames(g);
        await writeNames(d);
        const reads = [
          'select id, name, hex(name), length(name) from person where id = 1',
          'select id, name, hex(name) from person where id = 2',
          'select id, name, hex(name) from person order by id',
          "select id from person where name = 'Ærø'",
          "select charset('ü'), collation('ü'), length('Müller'), hex('Ærø'), @@character_set_client, @@character_set_connection, @@collation_connection, @@character_set_results",
        ];
        for (const sql of reads) assert.deepEqual(await raw(g, sql), await raw(d, sql), sql);
        // The bytes are latin1's, and stored as utf8mb4.
        const byGate = await raw(g, 'select name, hex(name) from person where id = 1');
        assert.equal(byGate.rows[0][0], latin1('Müller'));
        assert.equal(Buffer.from(byGate.rows[0][1]!, 'hex').toString(), Buffer.from('Müller').toString('hex').toUpperCase());
        const [rows] = await g.query('select name from person order by id');
        assert.deepEqual((rows as { name: string }[]).map((r) => r.name), NAMES.map(([, n]) => n));
        // Prepared statements: string parameters arrive in latin1 too.
        const viaExecute = async (conn: Conn) => {
          await conn.execute('insert into person(id, name) values (?, ?)', [10, 'Ærø Müller']);
          const [r] = await conn.execute('select name, hex(name) as h from person where id = ?', [10]);
          await conn.execute('delete from person where id = ?', [10]);
          return r;
        };
        const byGateExecute = await viaExecute(g);
        assert.deepEqual(byGateExecute, await viaExecute(d));
        assert.deepEqual(byGateExecute, [{ name: 'Ærø Müller', h: Buffer.from('Ærø Müller').toString('hex').toUpperCase() }]);
      } finally {
        await g.end();
        await d.end();
      }
    });
  }
});

describe('SET NAMES and the character_set variables', () => {
  test('SET NAMES latin1 on a utf8mb4 connection: results in latin1, literals in the connection character set', async () => {
    const g = await viaGate('sharded');
    const d = await direct();
    try {
      await writeNames(g);
      await writeNames(d);
      for (const conn of [g, d]) await conn.query('set names latin1');
      const reads = [
        'select id, name from person where id = 2',
        'select id, name from person order by id',
        "select charset('a'), collation('a'), @@character_set_client, @@character_set_results, @@collation_connection",
      ];
      for (const sql of reads) assert.deepEqual(await raw(g, sql), await raw(d, sql), sql);
      assert.equal((await raw(g, 'select name from person where id = 2')).rows[0][0], latin1('Ærø'));
      for (const conn of [g, d]) await conn.query('set collation_connection = latin1_german2_ci, character_set_results = utf8mb4');
      for (const sql of reads) assert.deepEqual(await raw(g, sql), await raw(d, sql), sql);
      for (const conn of [g, d]) await conn.query('set character_set_results = NULL');
      for (const sql of reads) assert.deepEqual(await raw(g, sql), await raw(d, sql), sql);
      for (const conn of [g, d]) await conn.query('set names utf8mb4');
      for (const sql of reads) assert.deepEqual(await raw(g, sql), await raw(d, sql), sql);
      assert.equal((await raw(g, 'select name from person where id = 2')).rows[0][0], Buffer.from('Ærø').toString('hex'));
    } finally {
      await g.end();
      await d.end();
    }
  });

  test('unknown character sets and collations fail as on MariaDB', async () => {
    const g = await viaGate('test');
    const d = await direct();
    try {
      for (const sql of ['set names nosuch', 'set names latin1 collate utf8mb4_bin', 'set collation_connection = nosuch_ci', 'set character_set_client = ucs2', 'set character_set_results = nosuch', "set names 'filename'", 'set character_set_client = 17']) {
        const errno = async (conn: Conn) => conn.query(sql).then(() => 0, (e: { errno: number }) => e.errno);
        assert.equal(await errno(g), await errno(d), sql);
        assert.notEqual(await errno(g), 0, sql);
      }
    } finally {
      await g.end();
      await d.end();
    }
  });
});

function cli(port: number, user: string, database: string, script: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const p = execFile('mariadb', ['--no-defaults', '--default-character-set=latin1', '-h127.0.0.1', `-P${port}`, `-u${user}`, '--batch', database], { encoding: 'buffer' }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr.toString()}`)) : resolve(stdout),
    );
    p.stdin!.end(script);
  });
}

test('mariadb --default-character-set=latin1 writes and reads back the same bytes as directly', async () => {
  for (const keyspace of ['test', 'sharded']) {
    const script = Buffer.from([
      'delete from person;',
      "insert into person(id, name) values (1, 'Müller'), (2, 'Ærø'), (3, 'Ærø Müller');",
      'select id, name, hex(name) from person where id = 2;',
      'select id, name, hex(name), length(name) from person order by id;',
      // Column names the gate writes are read as UTF-8 from the tablet (docs/gate.md): aliases keep them ASCII.
      "select charset('ø') as cs, length('Müller') as len, @@character_set_client, @@character_set_results;",
    ].join('\n'), 'latin1');
    const byGate = await cli(c.gate!.mysqlPort, 'vt_app', keyspace, script);
    const byMariaDB = await cli(ref.port, 'vt_dba', 'vt_test', script);
    assert.equal(byGate.toString('hex'), byMariaDB.toString('hex'), `${keyspace}:\n${byGate.toString('latin1')}\n---\n${byMariaDB.toString('latin1')}`);
    assert.ok(byGate.includes(Buffer.from('2\tÆrø\tC38672C3B8', 'latin1')), byGate.toString('latin1'));
  }
});
