// A prepared client statement goes to MariaDB as a prepared statement (src/tablet/placeholders.ts):
// the gate sends its shard query with `?` placeholders and the values, the tablet prepares it once
// per MariaDB connection and executes it, and the binary rows pass to the client as they are. In
// combined and distributed mode (over RPC): the values of every kind the gate sends this way come
// back as a prepared statement on MariaDB itself returns them; MariaDB counts executions, not a
// prepare per statement; and when MariaDB will not prepare (max_prepared_stmt_count reached) the
// statement runs as text with the same answer.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { startCluster, type TestCluster } from '../../harness/cluster.js';
import { startMariaDB, type TestMariaDB } from '../../harness/mariadb.js';
import { Client } from '../../../src/mysql/client.js';
import { PREPARED_PER_CONNECTION, preparedOf } from '../../../src/tablet/placeholders.js';

const SCHEMA = `create table p(id bigint not null primary key, d decimal(10,2), s varchar(20), f double, dt datetime(3), n int, u bigint unsigned) ENGINE=InnoDB`;
const SHARDED_VSCHEMA = { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { p: { column_vindexes: [{ column: 'id', name: 'hash' }] } } };

/** Rows with each column's name and type, as mysql2 reads a binary result. */
async function executed(conn: mysql.Connection, sql: string, params: readonly unknown[]): Promise<string> {
  const [rows, fields] = await conn.execute({ sql, rowsAsArray: true }, params as mysql.ExecuteValues[]);
  return JSON.stringify([rows, (fields ?? []).map((f) => [f.name, f.columnType])], (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
}

async function status(conn: mysql.Connection, name: string): Promise<number> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>(`SHOW GLOBAL STATUS LIKE '${name}'`);
  return Number(rows[0]?.Value ?? NaN);
}

for (const mode of ['combined', 'distributed'] as const) {
  describe(`prepared statements reach MariaDB as prepared statements (${mode})`, () => {
    let c: TestCluster;
    let gate: mysql.Connection;
    /** The unsharded keyspace's MariaDB, directly. */
    let direct: mysql.Connection;

    before(async () => {
      c = await startCluster({
        network: mode === 'distributed',
        keyspaces: [
          { name: 'test', shards: ['0'], schema: SCHEMA, vschema: { tables: { p: {} } } },
          { name: 'sharded', shards: ['-80', '80-'], schema: SCHEMA, vschema: SHARDED_VSCHEMA },
        ],
      });
      gate = await c.connect('test');
      const addr = await c.mysqlAddress(c.shard('test', '0').primary);
      direct = await mysql.createConnection({ host: addr.host, port: addr.port, user: 'vt_dba', password: '', database: 'vt_test', supportBigNumbers: true, bigNumberStrings: true });
    });

    after(async () => {
      await gate?.end();
      await direct?.end();
      await c?.stop();
    });

    test('values of every placeholder kind come back as MariaDB returns them to a prepared statement', async () => {
      const insert = 'insert into p(id, d, s, f, dt, n, u) values (?, ?, ?, ?, ?, ?, ?)';
      await gate.execute(insert, [1, '12.34', 'héllo wörld', 1.5, '2026-12-07 10:11:12.345', null, '18446744073709551615']);
      // Literals in the text become placeholders too: a decimal, a float, a string, a 64-bit unsigned integer, a negative.
      await gate.execute("insert into p(id, d, s, f, dt, n, u) values (2, 0.5, 'it''s', 2.5e0, '2020-02-29 23:59:59', -7, 18446744073709551615)");
      await gate.execute('insert into p(id, d, s, f, dt, n, u) values (3, -99999999.99, ?, -0.1, ?, 2147483647, 0)', ['', '1000-01-01 00:00:00']);
      for (const [sql, params] of [
        ['select id, d, s, f, dt, n, u from p where id = ?', [1]],
        ['select id, d, s, f, dt, n, u from p where id = ?', [2]],
        ['select id, d, s, f, dt, n, u from p where id = 3', []],
        ['select s, d + ?, f * ? from p where id = ? and s like ?', ['0.01', 2, 1, 'h%']],
        ['select count(*), sum(d), max(dt) from p where u >= ? or n is null', ['0']],
        ['select id from p where s = ? order by id', ['it\'s']],
        ['select id, u from p where u = 18446744073709551615 order by id', []],
      ] as const) {
        assert.equal(await executed(gate, sql, [...params]), await executed(direct, sql, [...params]), sql);
      }
    });

    test('MariaDB prepares a statement once per connection and executes it each time', async () => {
      const sql = 'select s from p where id = ?';
      await executed(gate, sql, [1]);
      const prepares = await status(direct, 'Com_stmt_prepare');
      const executes = await status(direct, 'Com_stmt_execute');
      const queries = await status(direct, 'Com_select');
      for (let i = 0; i < 40; i++) assert.equal(await executed(gate, sql, [1 + (i % 3)]), await executed(direct, sql, [1 + (i % 3)]));
      // The direct connection's own 40 executes (and its one prepare) count too.
      assert.ok((await status(direct, 'Com_stmt_execute')) - executes >= 80, 'the gate executed prepared statements on MariaDB');
      // At most one prepare per pooled connection the gate's executions met (the pool holds 16), not one per execution.
      assert.ok((await status(direct, 'Com_stmt_prepare')) - prepares <= 17, 'prepared once per connection');
      assert.ok((await status(direct, 'Com_select')) - queries >= 80, 'every execution is a select');
    });

    test('a single-shard statement on a sharded keyspace goes the same way', async () => {
      const sharded = await c.connect('sharded');
      try {
        for (let id = 1; id <= 6; id++) await sharded.execute('insert into p(id, d, s, f, dt, n, u) values (?, ?, ?, ?, ?, ?, ?)', [id, `${id}.25`, `s${id}`, id / 4, '2026-01-01 00:00:00', id, id]);
        for (let id = 1; id <= 6; id++) {
          const [rows] = await sharded.execute<mysql.RowDataPacket[]>({ sql: 'select id, d, s, f, n, u from p where id = ?', rowsAsArray: true }, [id]);
          assert.deepEqual(rows, [[String(id), `${id}.25`, `s${id}`, id / 4, id, String(id)]]);
        }
      } finally {
        await sharded.end();
      }
    });

    test('when MariaDB will not prepare (max_prepared_stmt_count reached), the statement runs as text', async () => {
      const before = await status(direct, 'Prepared_stmt_count');
      await direct.query(`SET GLOBAL max_prepared_stmt_count = ${before}`);
      try {
        // A statement shape no connection prepared yet: its prepare fails with 1461.
        const sql = 'select id, s, d from p where id = ? and (n is null or n > ?)';
        const queries = await status(direct, 'Com_select');
        const executes = await status(direct, 'Com_stmt_execute');
        for (let i = 0; i < 5; i++) assert.deepEqual(JSON.parse(await executed(gate, sql, [1, -100]))[0], [['1', 'héllo wörld', '12.34']]);
        assert.equal(await status(direct, 'Com_stmt_execute'), executes, 'nothing executed as a prepared statement');
        assert.ok((await status(direct, 'Com_select')) - queries >= 5, 'run as text');
      } finally {
        await direct.query('SET GLOBAL max_prepared_stmt_count = DEFAULT');
      }
      // The limit is not remembered against the statement: once MariaDB has room, it is prepared.
      const executes = await status(direct, 'Com_stmt_execute');
      for (let i = 0; i < 20; i++) await executed(gate, 'select id, s, d from p where id = ? and (n is null or n > ?)', [1, -100]);
      assert.ok((await status(direct, 'Com_stmt_execute')) - executes >= 1, 'prepared again once MariaDB had room');
    });
  });
}

describe('a connection\'s prepared statements (placeholders.ts on a real MariaDB)', () => {
  let m: TestMariaDB;
  let conn: Client;
  let admin: mysql.Connection;

  before(async () => {
    m = await startMariaDB();
    conn = await Client.connect({ host: m.host, port: m.port, user: 'vt_dba', password: '' });
    admin = await mysql.createConnection({ host: m.host, port: m.port, user: 'vt_dba', password: '' });
  });

  after(async () => {
    conn?.close();
    await admin?.end();
    await m?.stop();
  });

  test(`at most ${PREPARED_PER_CONNECTION} are kept; the least recently used is closed on MariaDB`, async () => {
    const p = preparedOf(conn);
    const first = 'select ? + 0';
    assert.equal(p.id(first), undefined);
    const id = await p.prepare(first);
    assert.equal(typeof id, 'number');
    for (let i = 1; i < PREPARED_PER_CONNECTION + 10; i++) {
      // The first one stays in use: it is never the least recently used.
      assert.equal(p.id(first), id);
      assert.equal(typeof (await p.prepare(`select ? + ${i}`)), 'number');
    }
    assert.equal(p.size, PREPARED_PER_CONNECTION);
    assert.equal(p.id(first), id);
    assert.equal(p.id('select ? + 1'), undefined, 'the oldest unused one was dropped');
    await conn.ping(); // the closes went before it on the same connection
    assert.equal(await status(admin, 'Prepared_stmt_count'), PREPARED_PER_CONNECTION);
  });

  test('a statement MariaDB refuses to prepare is remembered as text; the connection stays usable', async () => {
    const p = preparedOf(conn);
    assert.equal(await p.prepare('select * from ?'), null);
    assert.equal(p.id('select * from ?'), false);
    const r = await conn.query('select 1');
    assert.equal(r.rows.length, 1);
  });
});
