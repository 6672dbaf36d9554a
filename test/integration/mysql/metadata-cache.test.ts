// MariaDB's metadata cache (MARIADB_CLIENT_CACHE_METADATA), both ways, against a real MariaDB:
// - our client asks for it: MariaDB leaves an unchanged prepared statement's column definitions out
//   of its executes, and the client uses the ones it holds (from the prepare, or the execute that
//   last sent them), across ALTER TABLE;
// - our server offers it (here through the pass-through proxy): an execute whose columns are the
//   ones its prepare response sent goes without them, changed ones are sent, and real clients
//   (the mariadb connector; libmariadb under sysbench in clients.test.ts) read the same results
//   as from MariaDB.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import mariadb from 'mariadb';
import { setup, DB, type Env } from './setup.js';
import { Client } from '../../../src/mysql/client.js';
import { MARIADB_CAP } from '../../../src/mysql/constants.js';

let env: Env;
let admin: Client;

before(async () => {
  env = await setup();
  admin = await Client.connect({ socketPath: env.db.socket, user: 'vt_dba', database: DB });
  await admin.query('CREATE TABLE mc (id INT PRIMARY KEY, s VARCHAR(20), n INT)');
  await admin.query("INSERT INTO mc VALUES (1, 'one', 10), (2, 'two', NULL)");
});

after(async () => {
  admin?.close();
  await env?.stop();
});

const shape = (r: { fields: { name: string; type: number; columnLength: number }[]; rows: unknown[][] }) =>
  JSON.stringify([r.fields.map((f) => [f.name, f.type, f.columnLength]), r.rows], (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));

/** Changes `s`'s length, which changes its column definition. */
async function resize(len: number): Promise<void> {
  await admin.query(`ALTER TABLE mc MODIFY s VARCHAR(${len})`);
}

test('MariaDB leaves an unchanged statement’s column definitions out; our client uses the ones it holds', async () => {
  const cached = await Client.connect({ socketPath: env.db.socket, user: 'vt_dba', database: DB, mariadbCapabilities: MARIADB_CAP.CACHE_METADATA });
  const plain = await Client.connect({ socketPath: env.db.socket, user: 'vt_dba', database: DB });
  try {
    assert.equal(cached.cacheMetadata, true);
    assert.equal(plain.cacheMetadata, false);
    const sql = 'SELECT id, s, n FROM mc WHERE id = ?';
    const a = await cached.prepare(sql);
    const b = await plain.prepare(sql);
    for (const id of [1, 2, 1]) assert.equal(shape(await cached.execute(a, [id])), shape(await plain.execute(b, [id])));
    assert.equal(cached.metadataReused, 3, 'the prepare sent the columns: no execute did');
    assert.equal(plain.metadataReused, 0);

    // A longer column: MariaDB sends the new definition once, then leaves it out again.
    await resize(40);
    const after = await cached.execute(a, [1]);
    assert.equal(after.fields[1].columnLength, 160, 'VARCHAR(40) in utf8mb4');
    assert.equal(shape(after), shape(await plain.execute(b, [1])));
    assert.equal(cached.metadataReused, 3);
    assert.equal(shape(await cached.execute(a, [2])), shape(await plain.execute(b, [2])));
    assert.equal(cached.metadataReused, 4, 'the columns the last execute sent are the ones held');
    // Back to the prepare's: sent again, as they differ from the last ones sent.
    await resize(20);
    assert.equal((await cached.execute(a, [1])).fields[1].columnLength, 80);
    assert.equal(cached.metadataReused, 4);

    // Text queries always carry their definitions.
    const before = cached.metadataReused;
    assert.equal(shape(await cached.query(sql.replace('?', '1'))), shape(await plain.query(sql.replace('?', '1'))));
    assert.equal(cached.metadataReused, before);

    // A closed statement's columns are forgotten; so are all after COM_RESET_CONNECTION.
    await cached.closeStatement(a);
    assert.equal(cached.statementColumns.has(a.id), false);
    const c = await cached.prepare(sql);
    assert.equal(cached.statementColumns.has(c.id), true);
    await cached.resetConnection();
    assert.equal(cached.statementColumns.size, 0);
    const d = await cached.prepare(sql);
    assert.equal(shape(await cached.execute(d, [2])), shape(await plain.execute(b, [2])));
  } finally {
    cached.close();
    plain.close();
  }
});

test('through our server: an execute whose columns the client holds goes without them; changed ones are sent', async () => {
  const proxied = await Client.connect({ host: '127.0.0.1', port: env.proxyPort, user: 'vt_dba', database: DB, mariadbCapabilities: MARIADB_CAP.CACHE_METADATA });
  const plain = await Client.connect({ socketPath: env.db.socket, user: 'vt_dba', database: DB });
  try {
    assert.equal(proxied.cacheMetadata, true, 'the server offers the capability');
    const sql = 'SELECT id, s, n FROM mc WHERE id = ?';
    const a = await proxied.prepare(sql);
    const b = await plain.prepare(sql);
    for (const id of [1, 2]) assert.equal(shape(await proxied.execute(a, [id])), shape(await plain.execute(b, [id])));
    assert.equal(proxied.metadataReused, 2);

    // Columns that depend on the parameters: the prepare's (types unknown then) differ from the
    // execute's, so they are sent, each time.
    const p = await proxied.prepare('SELECT ? AS a, ? AS b');
    const q = await plain.prepare('SELECT ? AS a, ? AS b');
    for (const params of [[1, 'x'], [2.5, null], ['y', 3]]) assert.equal(shape(await proxied.execute(p, params)), shape(await plain.execute(q, params)));
    assert.equal(proxied.metadataReused, 2);

    // After ALTER TABLE the new definition reaches the client, and the statement's are sent from
    // then on (the server no longer knows which ones a client keeps).
    await resize(30);
    const r = await proxied.execute(a, [1]);
    assert.equal(r.fields[1].columnLength, 120);
    assert.equal(shape(r), shape(await plain.execute(b, [1])));
    await proxied.execute(a, [2]);
    assert.equal(proxied.metadataReused, 2);
    await resize(20);
  } finally {
    proxied.close();
    plain.close();
  }
});

test('the mariadb connector reads the same results through our server as from MariaDB, across ALTER TABLE', async () => {
  const run = async (port: number) => {
    const c = await mariadb.createConnection({ host: '127.0.0.1', port, user: 'vt_dba', database: DB, rowsAsArray: true, bigIntAsNumber: false });
    try {
      const out: unknown[] = [];
      const meta = (m: any[]) => m.map((f) => [f.name(), f.type, f.columnLength]);
      const exec = async (sql: string, params: unknown[]) => {
        const rows = await c.execute(sql, params);
        out.push([rows, meta((rows as any).meta)]);
      };
      for (const id of [1, 2, 1]) await exec('SELECT id, s, n FROM mc WHERE id = ?', [id]);
      await exec('SELECT ? AS a, ? AS b', [1, 'x']);
      await exec('SELECT ? AS a, ? AS b', ['y', null]);
      await resize(50);
      await exec('SELECT id, s, n FROM mc WHERE id = ?', [2]);
      await exec('SELECT id, s, n FROM mc WHERE id = ?', [1]);
      await resize(20);
      await exec('SELECT id, s, n FROM mc WHERE id = ?', [1]);
      return out;
    } finally {
      await c.end();
    }
  };
  assert.deepEqual(await run(env.proxyPort), await run(env.db.port));
});
