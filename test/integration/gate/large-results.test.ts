// Results larger than the client socket's buffer, through the gate in combined and distributed
// mode: a single shard's rows go to the client as MariaDB sent them, and once the socket's buffer
// is full the gate waits for it to drain before it writes the next (write-result.ts: writeResult,
// writeRawFrom). Every row must arrive, in order, once, and the connection must be ready for the
// next statement: checked against what MariaDB gives the same statement directly, for a prepared
// statement (binary rows) and a text query.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import mysql from 'mysql2/promise';
import { startCluster, type TestCluster } from '../../harness/cluster.js';

const SCHEMA = 'create table big(id int not null primary key, v varchar(2000) not null, n bigint) ENGINE=InnoDB';
const ROWS = 3000;

/** Every row of a result in order, hashed, with the row count. */
function digest(rows: unknown[]): string {
  const h = createHash('sha256');
  for (const r of rows) h.update(JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)) + '\n');
  return `${rows.length} rows ${h.digest('hex')}`;
}

for (const mode of ['combined', 'distributed'] as const) {
  describe(`results larger than the socket's buffer (${mode})`, () => {
    let c: TestCluster;
    let gate: mysql.Connection;
    let direct: mysql.Connection;

    before(async () => {
      c = await startCluster({ network: mode === 'distributed', keyspaces: [{ name: 'test', shards: ['0'], schema: SCHEMA, vschema: { tables: { big: {} } } }] });
      const addr = await c.mysqlAddress(c.shard('test', '0').primary);
      direct = await mysql.createConnection({ host: addr.host, port: addr.port, user: 'vt_dba', password: '', database: 'vt_test', supportBigNumbers: true, bigNumberStrings: true });
      for (let at = 1; at <= ROWS; at += 500) {
        const values: string[] = [];
        for (let id = at; id < at + 500; id++) values.push(`(${id}, '${String(id).padStart(8, '0').repeat(180)}', ${id % 7 === 0 ? 'null' : id * 1_000_003})`);
        await direct.query(`insert into big(id, v, n) values ${values.join(',')}`);
      }
      gate = await c.connect('test', { supportBigNumbers: true, bigNumberStrings: true });
    });

    after(async () => {
      await gate?.end();
      await direct?.end();
      await c?.stop();
    });

    test('a prepared statement: every binary row, in order, then the next statement', async () => {
      const sql = 'select id, v, n from big where id >= ? order by id';
      const [want] = await direct.execute({ sql, rowsAsArray: true }, [1]);
      const [got] = await gate.execute({ sql, rowsAsArray: true }, [1]);
      assert.equal(digest(got as unknown[]), digest(want as unknown[]));
      assert.equal((got as unknown[]).length, ROWS);
      // Twice on the same statement, and the connection answers the next one.
      const [again] = await gate.execute({ sql, rowsAsArray: true }, [ROWS - 9]);
      assert.equal((again as unknown[]).length, 10);
      const [one] = await gate.query('select count(*) as n from big');
      assert.deepEqual(one, [{ n: String(ROWS) }]);
    });

    test('a text query: every row, in order, then the next statement', async () => {
      const sql = 'select id, v, n from big order by id';
      const [want] = await direct.query({ sql, rowsAsArray: true });
      const [got] = await gate.query({ sql, rowsAsArray: true });
      assert.equal(digest(got as unknown[]), digest(want as unknown[]));
      const [one] = await gate.query('select max(id) as m from big');
      assert.deepEqual(one, [{ m: ROWS }]);
    });
  });
}
