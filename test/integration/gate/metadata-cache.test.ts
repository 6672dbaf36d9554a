// MariaDB's metadata cache through the gate, in combined and distributed mode: a client that asks
// for MARIADB_CLIENT_CACHE_METADATA gets a prepared statement's executes without column definitions
// while they are the ones the prepare sent; the tablet asks MariaDB for the same, so MariaDB leaves
// them out of the executes of the statements the tablet prepares; after ALTER TABLE the new
// definitions reach the client; the mariadb connector reads what it reads from MariaDB directly.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import mariadb from 'mariadb';
import { startCluster, type TestCluster } from '../../harness/cluster.js';
import { Client } from '../../../src/mysql/client.js';
import { MARIADB_CAP } from '../../../src/mysql/constants.js';

const SCHEMA = 'create table mc(id bigint not null primary key, s varchar(20), n int) ENGINE=InnoDB';

const shape = (r: { fields: { name: string; type: number; columnLength: number }[]; rows: unknown[][] }) =>
  JSON.stringify([r.fields.map((f) => [f.name, f.type, f.columnLength]), r.rows], (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));

for (const mode of ['combined', 'distributed'] as const) {
  describe(`the metadata cache through the gate (${mode})`, () => {
    let c: TestCluster;
    let port: number;

    before(async () => {
      c = await startCluster({ network: mode === 'distributed', keyspaces: [{ name: 'test', shards: ['0'], schema: SCHEMA, vschema: { tables: { mc: {} } } }] });
      port = c.gate!.mysqlPort;
      const g = await c.connect('test');
      await g.query("insert into mc values (1, 'one', 10), (2, 'two', null)");
      await g.end();
    });

    after(async () => {
      await c?.stop();
    });

    test('executes go without column definitions while they are the prepare’s; MariaDB leaves them out for the tablet', async () => {
      const cached = await Client.connect({ host: '127.0.0.1', port, user: 'vt_app', password: '', database: 'test', mariadbCapabilities: MARIADB_CAP.CACHE_METADATA });
      const plain = await Client.connect({ host: '127.0.0.1', port, user: 'vt_app', password: '', database: 'test' });
      const tablet = c.shard('test', '0').primary.server;
      try {
        assert.equal(cached.cacheMetadata, true);
        const sql = 'select id, s, n from mc where id = ?';
        const a = await cached.prepare(sql);
        const b = await plain.prepare(sql);
        const before = tablet.stats;
        for (const id of [1, 2, 1, 2]) assert.equal(shape(await cached.execute(a, [id])), shape(await plain.execute(b, [id])));
        assert.equal(cached.metadataReused, 4, 'the gate left the definitions out of every execute');
        const after = tablet.stats;
        // Eight executes reached MariaDB as prepared statements; each pooled connection prepares
        // the statement once (its definitions then come with the prepare), so most of the
        // executes came without them.
        assert.equal(after.preparedExecutes - before.preparedExecutes, 8);
        assert.ok(after.preparedColumnsCached - before.preparedColumnsCached >= 1, `MariaDB left the definitions out: ${JSON.stringify(after)}`);

        // ALTER TABLE through the gate: the new definition reaches the client, then is sent each time.
        const g = await c.connect('test');
        await g.query('alter table mc modify s varchar(40)');
        await g.end();
        const r = await cached.execute(a, [1]);
        assert.equal(r.fields[1].columnLength, 160);
        assert.equal(shape(r), shape(await plain.execute(b, [1])));
        await cached.execute(a, [2]);
        assert.equal(cached.metadataReused, 4);
      } finally {
        cached.close();
        plain.close();
      }
    });

    test('the mariadb connector reads through the gate what it reads from MariaDB', async () => {
      const addr = await c.mysqlAddress(c.shard('test', '0').primary);
      const run = async (o: { port: number; user: string; database: string }) => {
        const conn = await mariadb.createConnection({ host: '127.0.0.1', password: '', rowsAsArray: true, bigIntAsNumber: false, ...o });
        try {
          const out: unknown[] = [];
          for (const [sql, params] of [
            ['select id, s, n from mc where id = ?', [1]],
            ['select id, s, n from mc where id = ?', [2]],
            ['select id, s, n from mc where id = ?', [1]],
            ['select s, n from mc where id = ? and n > ?', [1, 5]],
            ['select s, n from mc where id = ? or s = ?', [7, 'two']],
            ['select count(*) from mc where n is null or n > ?', [0]],
          ] as const) {
            const rows = await conn.execute(sql, [...params]);
            out.push([rows, (rows as any).meta.map((f: any) => [f.name(), f.type, f.columnLength])]);
          }
          return out;
        } finally {
          await conn.end();
        }
      };
      assert.deepEqual(await run({ port, user: 'vt_app', database: 'test' }), await run({ port: addr.port, user: 'vt_dba', database: 'vt_test' }));
    });
  });
}
