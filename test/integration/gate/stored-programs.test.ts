// Stored programs through the gate (issue 24): CREATE/DROP PROCEDURE, FUNCTION, TRIGGER and EVENT
// with BEGIN … END bodies, parsed by the gate's parser, reach every shard of a sharded keyspace
// (each shard's MariaDB holds its own copy, as Vitess's ApplySchema leaves them) and the one shard
// of an unsharded keyspace; what the programs then do is checked on each shard's MariaDB.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { startCluster, type TestCluster } from '../../harness/cluster.js';

const SCHEMA = [
  'create table t(id bigint not null, v varchar(20), primary key(id)) ENGINE=InnoDB',
  'create table audit(id bigint not null, note varchar(40), primary key(id)) ENGINE=InnoDB',
];
const SHARDS = ['-80', '80-'];

let c: TestCluster;

before(async () => {
  c = await startCluster({
    keyspaces: [
      { name: 'test', shards: ['0'], schema: SCHEMA.join(';') },
      {
        name: 'sharded', shards: SHARDS, schema: SCHEMA.join(';'),
        vschema: {
          sharded: true, vindexes: { hash: { type: 'hash' } },
          tables: { t: { column_vindexes: [{ column: 'id', name: 'hash' }] }, audit: { column_vindexes: [{ column: 'id', name: 'hash' }] } },
        },
      },
    ],
    mysqlConfig: { log_bin_trust_function_creators: '1' },
  });
});

after(async () => {
  await c?.stop();
});

const DDL = [
  `CREATE OR REPLACE FUNCTION twice(x BIGINT) RETURNS BIGINT DETERMINISTIC
   BEGIN
     DECLARE r BIGINT DEFAULT 0;
     IF x IS NULL THEN RETURN NULL; END IF;
     SET r = x * 2;
     RETURN r;
   END`,
  `CREATE TRIGGER t_ai AFTER INSERT ON t FOR EACH ROW
   BEGIN
     DECLARE CONTINUE HANDLER FOR SQLSTATE '23000' BEGIN END;
     INSERT INTO audit(id, note) VALUES (NEW.id, CONCAT('inserted ', NEW.v));
   END`,
  `CREATE PROCEDURE count_rows(OUT n BIGINT)
   BEGIN
     DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN GET DIAGNOSTICS CONDITION 1 @err = MESSAGE_TEXT; SET n = -1; END;
     SELECT COUNT(*) INTO n FROM t;
   END`,
  `CREATE EVENT IF NOT EXISTS purge_audit ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM audit WHERE id < 0`,
];

async function programs(keyspace: string, shard: string): Promise<string[]> {
  const db = `vt_${keyspace}`;
  const routines = await c.shardRows(keyspace, shard, `SELECT CONCAT(ROUTINE_TYPE, ' ', ROUTINE_NAME) AS n FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = '${db}'`);
  const triggers = await c.shardRows(keyspace, shard, `SELECT CONCAT('TRIGGER ', TRIGGER_NAME) AS n FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '${db}'`);
  const events = await c.shardRows(keyspace, shard, `SELECT CONCAT('EVENT ', EVENT_NAME) AS n FROM information_schema.EVENTS WHERE EVENT_SCHEMA = '${db}'`);
  return [...routines, ...triggers, ...events].map((r) => String(r.n)).sort();
}

for (const [keyspace, shards] of [['sharded', SHARDS], ['test', ['0']]] as const) {
  test(`stored-program DDL reaches every shard of ${keyspace}, and the programs run there`, async () => {
    const conn = await c.connect(keyspace);
    try {
      for (const sql of DDL) await conn.query(sql);
      for (const shard of shards) {
        assert.deepEqual(await programs(keyspace, shard), ['EVENT purge_audit', 'FUNCTION twice', 'PROCEDURE count_rows', 'TRIGGER t_ai'], `${keyspace}/${shard}`);
      }
      // Rows land on both shards of the sharded keyspace; each shard's trigger writes its audit row.
      for (let id = 1; id <= 8; id++) await conn.query('insert into t(id, v) values (?, ?)', [id, `v${id}`]);
      const [doubled] = await conn.query('select id, twice(id) as d from t order by id');
      assert.deepEqual((doubled as { id: string; d: string }[]).map((r) => [Number(r.id), Number(r.d)]), Array.from({ length: 8 }, (_, i) => [i + 1, 2 * (i + 1)]));
      const [audit] = await conn.query('select id, note from audit order by id');
      assert.deepEqual((audit as { id: string; note: string }[]).map((r) => `${r.id}:${r.note}`), Array.from({ length: 8 }, (_, i) => `${i + 1}:inserted v${i + 1}`));
      if (keyspace === 'sharded') {
        let onShards = 0;
        for (const shard of shards) {
          const [r] = await c.shardRows(keyspace, shard, 'SELECT COUNT(*) AS n FROM audit');
          assert.ok(Number(r.n) > 0, `audit rows on ${shard}`);
          onShards += Number(r.n);
        }
        assert.equal(onShards, 8);
      }
      for (const sql of ['DROP EVENT purge_audit', 'DROP PROCEDURE IF EXISTS count_rows', 'DROP FUNCTION twice', 'DROP TRIGGER IF EXISTS t_ai']) await conn.query(sql);
      for (const shard of shards) assert.deepEqual(await programs(keyspace, shard), [], `${keyspace}/${shard} after DROP`);
      await conn.query('delete from audit');
      await conn.query('delete from t');
    } finally {
      await conn.end();
    }
  });
}

test('an anonymous block runs on an unsharded keyspace and is refused across shards with a clear error', async () => {
  const unsharded = await c.connect('test');
  const sharded = await c.connect('sharded');
  try {
    // As from MariaDB: the block's result set, then the block's own status (two results).
    const [r] = await unsharded.query('BEGIN NOT ATOMIC DECLARE x INT DEFAULT 20; SELECT x + 1 AS y; END');
    assert.equal((r as unknown[]).length, 2);
    assert.deepEqual(((r as unknown[])[0] as { y: string }[]).map((row) => Number(row.y)), [21]);
    // User variables go into the block and come back out of it.
    await unsharded.query('SET @uv = 5');
    const [r2] = await unsharded.query('BEGIN NOT ATOMIC SELECT @uv + 1 AS y; SET @uv = 7; END');
    assert.deepEqual(((r2 as unknown[])[0] as { y: string }[]).map((row) => Number(row.y)), [6]);
    const [r3] = await unsharded.query('SELECT @uv AS v');
    assert.equal(Number((r3 as { v: string }[])[0].v), 7);
    await assert.rejects(sharded.query('BEGIN NOT ATOMIC SELECT 1; END'), (e: { errno?: number; message: string }) => e.errno === 1235 && /target one shard/.test(e.message));
    await assert.rejects(sharded.query('CREATE PROCEDURE sharded.p() BEGIN SELECT 1; END'), (e: { errno?: number; message: string }) => e.errno === 1235 && /USE the keyspace/.test(e.message));
    await assert.rejects(unsharded.query('CREATE PROCEDURE p() BEGIN SELECT 1 END'), (e: { errno?: number }) => e.errno === 1064);
  } finally {
    await unsharded.end();
    await sharded.end();
  }
});

test('MariaDB sequences: created, used and dropped on an unsharded keyspace; refused across shards', async () => {
  const unsharded = await c.connect('test');
  const sharded = await c.connect('sharded');
  try {
    await unsharded.query('CREATE OR REPLACE SEQUENCE s START WITH 10 INCREMENT BY 5');
    const [rows] = await unsharded.query('SELECT NEXTVAL(s) AS a');
    const [rows2] = await unsharded.query('SELECT NEXTVAL(s) AS a');
    assert.deepEqual([...(rows as { a: string }[]), ...(rows2 as { a: string }[])].map((r) => Number(r.a)), [10, 15]);
    await unsharded.query('ALTER SEQUENCE s RESTART WITH 100');
    const [rows3] = await unsharded.query('SELECT NEXTVAL(s) AS a');
    assert.equal(Number((rows3 as { a: string }[])[0].a), 100);
    await unsharded.query('DROP SEQUENCE s');
    const [left] = await c.shardRows('test', '0', "SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'vt_test' AND TABLE_TYPE = 'SEQUENCE'");
    assert.equal(Number(left.n), 0);
    await assert.rejects(sharded.query('CREATE SEQUENCE s'), (e: { errno?: number; message: string }) => e.errno === 1235 && /unsharded keyspace/.test(e.message));
    for (const shard of SHARDS) {
      const [r] = await c.shardRows('sharded', shard, "SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'vt_sharded' AND TABLE_TYPE = 'SEQUENCE'");
      assert.equal(Number(r.n), 0, shard);
    }
  } finally {
    await unsharded.end();
    await sharded.end();
  }
});

test('SET STATEMENT … FOR: the assignments hold for the statement on every shard it reaches', async () => {
  const conn = await c.connect('sharded');
  try {
    for (let id = 1; id <= 6; id++) await conn.query('insert into t(id, v) values (?, ?)', [id, `v${id}`]);
    // A single-shard read and a scatter read, under div_precision_increment = 8 (default 4).
    const [one] = await conn.query('SET STATEMENT div_precision_increment = 8 FOR SELECT id / 3 AS q FROM t WHERE id = 1');
    assert.deepEqual((one as { q: string }[]).map((r) => r.q), ['0.33333333']);
    const [all] = await conn.query('SET STATEMENT div_precision_increment = 8 FOR SELECT id, id / 3 AS q FROM t ORDER BY id');
    assert.deepEqual((all as { q: string }[]).map((r) => r.q), ['0.33333333', '0.66666667', '1.00000000', '1.33333333', '1.66666667', '2.00000000']);
    const [plain] = await conn.query('SELECT id / 3 AS q FROM t WHERE id = 1');
    assert.deepEqual((plain as { q: string }[]).map((r) => r.q), ['0.3333'], 'the assignment ends with its statement');
    // A write: strict mode refuses the long value, SET STATEMENT sql_mode = '' truncates it with a warning.
    await assert.rejects(conn.query("INSERT INTO t(id, v) VALUES (100, 'a value longer than twenty')"), (e: { errno?: number }) => e.errno === 1406);
    await conn.query("SET STATEMENT sql_mode = '' FOR INSERT INTO t(id, v) VALUES (100, 'a value longer than twenty')");
    const [warnings] = await conn.query('SHOW WARNINGS');
    assert.deepEqual((warnings as { Code: number }[]).map((w) => Number(w.Code)), [1265]);
    const [row] = await conn.query('SELECT v FROM t WHERE id = 100');
    assert.deepEqual(row, [{ v: 'a value longer than ' }]);
    await conn.query('delete from t');
  } finally {
    await conn.end();
  }
});

test('EXECUTE IMMEDIATE on an unsharded keyspace, with user variables and USING; refused across shards', async () => {
  const unsharded = await c.connect('test');
  const sharded = await c.connect('sharded');
  try {
    await unsharded.query("SET @q = 'SELECT 40 + 2 AS v'");
    const [a] = await unsharded.query('EXECUTE IMMEDIATE @q');
    assert.deepEqual((a as { v: string }[]).map((r) => Number(r.v)), [42]);
    const [b] = await unsharded.query("EXECUTE IMMEDIATE 'SELECT ? + 1 AS v' USING 41");
    assert.deepEqual((b as { v: string }[]).map((r) => Number(r.v)), [42]);
    await unsharded.query('SET @n = 5');
    const [c2] = await unsharded.query("EXECUTE IMMEDIATE CONCAT('SELECT ', @n, ' * 2 AS v')");
    assert.deepEqual((c2 as { v: string }[]).map((r) => Number(r.v)), [10]);
    await assert.rejects(sharded.query("EXECUTE IMMEDIATE 'SELECT 1'"), (e: { errno?: number; message: string }) => e.errno === 1235 && /target one shard/.test(e.message));
  } finally {
    await unsharded.end();
    await sharded.end();
  }
});
