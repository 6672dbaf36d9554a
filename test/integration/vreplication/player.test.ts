// Replication of large source transactions through a real stream: one transaction inserting,
// updating (keeping and changing keys) and deleting thousands of rows — more than
// relay-log-max-items row changes — is applied as the player packs it (multi-row inserts, upserts,
// IN deletes), and the target ends equal to the source row for row. Source transactions that
// arrive while the target is busy are applied together, and a group that fails leaves the target's
// rows and position as they were.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type TestCluster } from '../../harness/cluster.js';
import { WORKFLOW_COMMANDS } from '../../../src/ctld/workflow-commands.js';
import type { CtldContext } from '../../../src/ctld/command.js';
import { Client } from '../../../src/mysql/client.js';
import { RpcTabletManagerClient } from '../../../src/tablet/index.js';
import type { JsonObject } from '../../../src/topo/index.js';

const SCHEMA = `
CREATE TABLE customer (customer_id bigint NOT NULL, email varbinary(128), name varchar(64) COLLATE utf8mb4_general_ci, balance decimal(12,2), note blob, PRIMARY KEY (customer_id), UNIQUE KEY (email));
CREATE TABLE tag (owner varchar(32) COLLATE utf8mb4_general_ci NOT NULL, label varbinary(32) NOT NULL, weight int, PRIMARY KEY (owner, label));
CREATE TABLE acct (id bigint NOT NULL, code varchar(16) NOT NULL, v int, PRIMARY KEY (id), UNIQUE KEY (code));
CREATE TABLE grp (id bigint NOT NULL, u varchar(16) NOT NULL, PRIMARY KEY (id), UNIQUE KEY (u))`;

describe('the player on large source transactions', { timeout: 300_000 }, () => {
  let c: TestCluster;
  let ctx: CtldContext;

  before(async () => {
    c = await startCluster({
      gate: false,
      keyspaces: [
        { name: 'src', shards: ['0'], schema: SCHEMA },
        { name: 'dst', shards: ['0'] },
      ],
    });
    ctx = { topo: c.topo, tmc: new RpcTabletManagerClient(c.topo) };
  });

  after(async () => {
    ctx?.tmc.close();
    await c?.stop();
  });

  const run = (name: string, req: JsonObject) => WORKFLOW_COMMANDS[name].run(ctx, req);
  const dump = async (ks: string) => {
    const a = await c.shardRows(ks, '0', 'SELECT customer_id, HEX(email) AS e, name, balance, HEX(note) AS n FROM customer ORDER BY customer_id');
    const b = await c.shardRows(ks, '0', 'SELECT owner, HEX(label) AS l, weight FROM tag ORDER BY owner, label');
    return JSON.stringify([a, b]);
  };

  it('applies transactions of thousands of row changes exactly', async () => {
    await c.shardRows('src', '0', "INSERT INTO customer SELECT seq, CONCAT('c', seq, '@x'), CONCAT('Näme ', seq), seq / 4, IF(seq % 9 = 0, NULL, UNHEX(SHA2(seq, 256))) FROM seq_1_to_2000");
    await run('Materialize', {
      action: 'create',
      workflow: 'big',
      target_keyspace: 'dst',
      source_keyspace: 'src',
      table_settings: JSON.stringify([
        { target_table: 'customer', source_expression: 'select * from customer', create_ddl: 'copy' },
        { target_table: 'tag', source_expression: 'select * from tag', create_ddl: 'copy' },
      ]),
      tablet_types: ['primary'],
    });
    const engine = c.shard('dst', '0').primary.manager.vreplication!;
    const waitCaughtUp = async () => {
      const [{ p }] = await c.shardRows('src', '0', 'SELECT @@global.gtid_binlog_pos AS p');
      const [s] = await engine.read('big');
      await engine.waitForPos(s.record.id, `MariaDB/${String(p)}`, 120_000);
    };
    await waitCaughtUp();

    // One source transaction: 8,000 inserts, updates that keep the key (a unique key's values
    // rotated through fresh ones), updates that move keys, and deletes, interleaved by table.
    const trx = [
      'BEGIN',
      "INSERT INTO customer SELECT seq, CONCAT('n', seq, '@x'), 'new', 1.5, NULL FROM seq_10001_to_18000",
      "INSERT INTO tag SELECT CONCAT('Ann', seq % 50), UNHEX(HEX(seq)), seq FROM seq_1_to_3000",
      "UPDATE customer SET email = CONCAT('t', customer_id, '@x'), balance = balance + 1 WHERE customer_id <= 2000",
      "UPDATE customer SET name = 'rekeyed', customer_id = customer_id + 100000 WHERE customer_id BETWEEN 500 AND 900",
      'UPDATE tag SET weight = weight * 2 WHERE weight % 3 = 0',
      "UPDATE tag SET label = CONCAT(label, 'x') WHERE weight % 7 = 0",
      'DELETE FROM customer WHERE customer_id % 5 = 0',
      "DELETE FROM tag WHERE owner = 'ann7'",
      "INSERT INTO customer VALUES (5, 'five-again@x', 'Five', 5.00, X'00')",
      'COMMIT',
    ];
    const src = await Client.connect({ ...(await c.mysqlAddress(c.shard('src', '0').primary)), user: 'vt_dba', database: 'vt_src' });
    try {
      await src.queryMulti(trx.join(';'));
    } finally {
      src.close();
    }
    const [{ n }] = await c.shardRows('src', '0', 'SELECT COUNT(*) AS n FROM customer');
    assert.ok(Number(n) > 8000, 'the transaction left rows');
    await waitCaughtUp();
    assert.equal(await dump('dst'), await dump('src'));
    const [s] = await engine.read('big');
    assert.equal(s.record.state, 'Running', s.record.message);
  });

  // The player asks for UPDATE before images with the source's primary key only; a target keyed on
  // other columns makes it stream again with whole images, and updates of that key still apply.
  it('applies updates on a target keyed differently from the source', async () => {
    await c.shardRows('src', '0', "INSERT INTO acct SELECT seq, CONCAT('k', seq), seq FROM seq_1_to_300");
    await run('Materialize', {
      action: 'create',
      workflow: 'rekeyed',
      target_keyspace: 'dst',
      source_keyspace: 'src',
      table_settings: JSON.stringify([
        { target_table: 'acct', source_expression: 'select * from acct', create_ddl: 'CREATE TABLE acct (id bigint NOT NULL, code varchar(16) NOT NULL, v int, PRIMARY KEY (code), UNIQUE KEY (id))' },
      ]),
      tablet_types: ['primary'],
    });
    const engine = c.shard('dst', '0').primary.manager.vreplication!;
    const waitCaughtUp = async () => {
      const [{ p }] = await c.shardRows('src', '0', 'SELECT @@global.gtid_binlog_pos AS p');
      const [s] = await engine.read('rekeyed');
      await engine.waitForPos(s.record.id, `MariaDB/${String(p)}`, 120_000);
    };
    await waitCaughtUp();
    await c.shardRows('src', '0', 'UPDATE acct SET v = v * 10 WHERE id <= 100');
    await c.shardRows('src', '0', "UPDATE acct SET code = CONCAT('z', id) WHERE id BETWEEN 50 AND 150");
    await c.shardRows('src', '0', 'DELETE FROM acct WHERE id % 7 = 0');
    await waitCaughtUp();
    const q = 'SELECT id, code, v FROM acct ORDER BY id';
    assert.deepEqual(await c.shardRows('dst', '0', q), await c.shardRows('src', '0', q));
    const [s] = await engine.read('rekeyed');
    assert.equal(s.record.state, 'Running');
  });

  // While one target transaction waits (here on a row lock of its position), the source
  // transactions arriving meanwhile gather into the next: few target commits. A gathered group in
  // which one row fails on the target is rolled back whole: the rows on the target are always
  // exactly those of the source transactions up to the saved position, and once the conflict is
  // gone and the stream started again it goes on from there.
  it('groups source transactions that arrive while the target is busy, and a failed group changes nothing', async () => {
    // The target's commits are counted: the other streams, which would commit the source's
    // positions too, stop.
    for (const workflow of ['big', 'rekeyed']) await run('Workflow', { action: 'stop', keyspace: 'dst', workflow });
    await run('Materialize', {
      action: 'create',
      workflow: 'grp',
      target_keyspace: 'dst',
      source_keyspace: 'src',
      table_settings: JSON.stringify([{ target_table: 'grp', source_expression: 'select * from grp', create_ddl: 'copy' }]),
      tablet_types: ['primary'],
      config_overrides: ['vreplication-retry-delay=200ms'],
    });
    const engine = c.shard('dst', '0').primary.manager.vreplication!;
    const stream = async () => (await engine.read('grp'))[0].record;
    const waitCaughtUp = async () => {
      const [{ p }] = await c.shardRows('src', '0', 'SELECT @@global.gtid_binlog_pos AS p');
      await engine.waitForPos((await stream()).id, `MariaDB/${String(p)}`, 120_000);
    };
    await waitCaughtUp();
    const dstAddr = await c.mysqlAddress(c.shard('dst', '0').primary);
    const src = await Client.connect({ ...(await c.mysqlAddress(c.shard('src', '0').primary)), user: 'vt_dba', database: 'vt_src' });
    const dst = await Client.connect({ ...dstAddr, user: 'vt_dba', database: 'vt_dst' });
    const lock = await Client.connect({ ...dstAddr, user: 'vt_dba' });
    const commits = async () => Number((await dst.query("SHOW GLOBAL STATUS LIKE 'Com_commit'")).rows[0][1]);
    // The source's GTID sequence number of each id's insert.
    const seqOf = new Map<number, bigint>();
    const insert = async (from: number, to: number) => {
      for (let id = from; id <= to; id++) {
        await src.query(`INSERT INTO grp VALUES (${id}, 'u${id}')`);
        seqOf.set(id, BigInt(String((await src.query('SELECT @@last_gtid')).rows[0][0]).split('-')[2]));
      }
    };
    const holdPosition = async () => {
      await lock.query('BEGIN');
      await lock.query(`SELECT pos FROM _vt.vreplication WHERE id = ${(await stream()).id} FOR UPDATE`);
    };
    try {
      await holdPosition();
      const before = await commits();
      await insert(1, 40);
      // The first transaction is applying (waiting for the lock); the rest arrive meanwhile.
      await new Promise((r) => setTimeout(r, 1000));
      await lock.query('COMMIT');
      await waitCaughtUp();
      const made = (await commits()) - before;
      assert.ok(made >= 1 && made <= 5, `40 source transactions took ${made} target commits`);
      const q = 'SELECT id, u FROM grp ORDER BY id';
      assert.deepEqual((await dst.query(q)).rows, (await src.query(q)).rows);

      // A row only the target has makes id 60's insert fail there (its unique key).
      await dst.query("INSERT INTO grp VALUES (-1, 'u60')");
      await holdPosition();
      await insert(41, 80);
      await new Promise((r) => setTimeout(r, 1000));
      await lock.query('COMMIT');
      const deadline = Date.now() + 60_000;
      while (!/Duplicate entry/.test((await stream()).message)) {
        assert.ok(Date.now() < deadline, `the stream did not fail on id 60: ${(await stream()).message}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const { pos } = await stream();
      const applied = BigInt(pos.split('-').at(-1)!);
      assert.ok(applied < seqOf.get(60)!, `position ${pos} is past id 60's transaction`);
      const want = [...seqOf].filter(([, seq]) => seq <= applied).map(([id]) => id);
      const have = (await dst.query('SELECT id FROM grp WHERE id > 0 ORDER BY id')).rows.map((r) => Number(r[0]));
      assert.deepEqual(have, want, `the target's rows are those of the transactions up to ${pos}`);

      // A duplicate key is an error no retry fixes: the stream stops in Error until started again.
      await dst.query('DELETE FROM grp WHERE id = -1');
      while ((await stream()).state !== 'Error') await new Promise((r) => setTimeout(r, 100));
      await run('Workflow', { action: 'start', keyspace: 'dst', workflow: 'grp' });
      await waitCaughtUp();
      assert.deepEqual((await dst.query(q)).rows, (await src.query(q)).rows);
      assert.equal((await stream()).state, 'Running');
    } finally {
      await lock.query('ROLLBACK').catch(() => undefined);
      for (const x of [src, dst, lock]) x.close();
    }
  });
});
