// The VReplication engine end to end on real tablets and MariaDB: Materialize from an unsharded
// keyspace into a sharded one while a writer inserts, updates and deletes on the source; the copy
// runs in many small cycles so the writes land between, inside and after them. The target must
// end equal to the source row for row, each row in the shard `hash` gives it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { startCluster, type TestCluster } from '../../harness/cluster.js';
import { COLUMNS, MAX_ROW, MIN_ROW, ZERO_ROW, nulls } from '../../harness/all-types.js';
import { WORKFLOW_COMMANDS } from '../../../src/ctld/workflow-commands.js';
import type { CtldContext } from '../../../src/ctld/command.js';
import { RpcTabletManagerClient } from '../../../src/tablet/index.js';
import { CTLD_COMMANDS, CtldClient, startCtldServer } from '../../../src/ctld/index.js';
import { waitForCopy } from '../../../src/cli/ctl.js';
import { tabletAliasString, type Json, type JsonObject } from '../../../src/topo/index.js';
import { createVindex, type FunctionalVindex } from '../../../src/vindexes/index.js';
import { keyRangeContains, parseShardName } from '../../../src/key/index.js';
import { waitFor } from '../../harness/wait.js';

const SOURCE_SCHEMA = `
CREATE TABLE customer (customer_id bigint NOT NULL, email varbinary(128), name varchar(64) COLLATE utf8mb4_general_ci, balance decimal(12,2), note blob, PRIMARY KEY (customer_id), KEY idx_email (email), KEY \`idx name,bal\` (name, balance DESC));
CREATE TABLE tag (owner varchar(32) NOT NULL, label varchar(32) NOT NULL, weight int, PRIMARY KEY (owner, label))`;

const TARGET_VSCHEMA = {
  sharded: true,
  vindexes: { hash: { type: 'hash' } },
  tables: { customer: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] } },
};

async function run(ctx: CtldContext, name: string, req: JsonObject): Promise<Json> {
  return WORKFLOW_COMMANDS[name].run(ctx, req);
}

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}


describe('Materialize on real tablets', { timeout: 600_000 }, () => {
  let c: TestCluster;
  let ctx: CtldContext;

  before(async () => {
    c = await startCluster({
      gate: false,
      keyspaces: [
        { name: 'commerce', shards: ['0'], schema: SOURCE_SCHEMA, replicas: 1 },
        { name: 'customer', shards: ['-80', '80-'], vschema: TARGET_VSCHEMA, replicas: 1 },
      ],
    });
    // Over the network, as ctld reaches tablets in distributed mode.
    ctx = { topo: c.topo, tmc: new RpcTabletManagerClient(c.topo) };
  });

  after(async () => {
    ctx?.tmc.close();
    await c?.stop();
  });

  it('copies a keyed table into -80 and 80- under concurrent writes, then replicates', async () => {
    const seed = Number(process.env.TESSERA_TEST_SEED ?? Date.now() % 100000);
    console.log(`materialize test seed ${seed}`);
    const rnd = seeded(seed);
    const rows: string[] = [];
    for (let i = 1; i <= 3000; i++) {
      const id = i === 3000 ? '9223372036854775807' : String(i);
      rows.push(`(${id}, ${i % 7 === 0 ? "''" : `'u${i}@x'`}, ${i % 11 === 0 ? 'NULL' : `'Näme ${i}'`}, ${(i * 1.25).toFixed(2)}, X'00ff${(i % 256).toString(16).padStart(2, '0')}')`);
    }
    await c.shardRows('commerce', '0', `INSERT INTO customer VALUES ${rows.join(',')}`);
    await c.shardRows('commerce', '0', "INSERT INTO tag VALUES ('ann', 'a', 1), ('ann', 'b', 2), ('bob', 'Ä', 3), ('bob', 'ä2', 4)");

    // The writer: inserts new ids, updates and deletes random existing ones, on the source primary.
    let writing = true;
    let writes = 0;
    const writer = (async () => {
      let next = 5000;
      while (writing) {
        const k = Math.floor(rnd() * 3000) + 1;
        const op = rnd();
        const sql =
          op < 0.4
            ? `INSERT INTO customer VALUES (${next++}, 'w@x', 'writer', 1.00, NULL)`
            : op < 0.8
              ? `UPDATE customer SET balance = balance + 1, name = 'upd ${writes}' WHERE customer_id = ${k}`
              : `DELETE FROM customer WHERE customer_id = ${k}`;
        await c.shardRows('commerce', '0', sql);
        writes++;
      }
    })();

    const created = await run(ctx, 'Materialize', {
      action: 'create',
      workflow: 'm1',
      target_keyspace: 'customer',
      source_keyspace: 'commerce',
      table_settings: JSON.stringify([{ target_table: 'customer', source_expression: 'select * from customer', create_ddl: 'copy' }]),
      tablet_types: ['primary'],
      config_overrides: ['vreplication-copy-cycle-rows=400', 'vstream-packet-size-rows=97'],
    });
    assert.match(JSON.stringify(created), /created/);

    await waitFor('the copy to finish', async () => {
      const show = (await run(ctx, 'Workflow', { action: 'show', keyspace: 'customer', workflow: 'm1' })) as { workflows: { shard_streams: Record<string, { streams: { state: string; message: string }[] }> }[] };
      const streams = Object.values(show.workflows[0].shard_streams).flatMap((s) => s.streams);
      for (const s of streams) if (s.state === 'Error') throw new Error(`stream in Error: ${s.message}`);
      return streams.length === 2 && streams.every((s) => s.state === 'Running');
    });
    writing = false;
    await writer;
    assert.ok(writes > 0, 'the writer wrote during the copy');

    // Replication: wait until both streams reached the source's position, then compare.
    const [{ p }] = await c.shardRows('commerce', '0', 'SELECT @@global.gtid_binlog_pos AS p');
    for (const shard of ['-80', '80-']) {
      const primary = c.shard('customer', shard).primary;
      const streams = await primary.manager.vreplication!.read('m1');
      await primary.manager.vreplication!.waitForPos(streams[0].record.id, `MariaDB/${String(p)}`, 60_000);
      const logs = streams[0].logs.map((l) => l.message).join('\n');
      assert.match(logs, /Copy phase completed at gtid MariaDB\//);
    }

    const source = await c.shardRows('commerce', '0', 'SELECT customer_id, email, name, balance, HEX(note) AS note FROM customer ORDER BY customer_id');
    const hash = createVindex('hash', 'hash', {}) as FunctionalVindex;
    const target: typeof source = [];
    for (const shard of ['-80', '80-']) {
      const got = await c.shardRows('customer', shard, 'SELECT customer_id, email, name, balance, HEX(note) AS note FROM customer ORDER BY customer_id');
      const kr = parseShardName(shard);
      for (const r of got) {
        const [d] = hash.map([BigInt(String(r.customer_id))]);
        assert.ok(d.kind === 'keyspaceId' && keyRangeContains(kr, d.id), `customer ${String(r.customer_id)} is in ${shard}, which hash does not give it`);
      }
      target.push(...got);
    }
    target.sort((a, b) => (BigInt(String(a.customer_id)) < BigInt(String(b.customer_id)) ? -1 : 1));
    assert.equal(target.length, source.length);
    assert.deepEqual(
      target.map((r) => ({ ...r })),
      source.map((r) => ({ ...r })),
    );

    // Customers 1, 2, 3, 5 in -80 and 4 in 80- (the tutorial's placement), if still present.
    const low = (await c.shardRows('customer', '-80', 'SELECT customer_id FROM customer WHERE customer_id IN (1,2,3,4,5)')).map((r) => Number(r.customer_id));
    for (const id of low) assert.ok([1, 2, 3, 5].includes(id), `customer ${id} in -80`);

    // Stop, write, start: the stream resumes from its position and catches up.
    await run(ctx, 'Workflow', { action: 'stop', keyspace: 'customer', workflow: 'm1' });
    await c.shardRows('commerce', '0', "INSERT INTO customer VALUES (4, 'again@x', 'four', 4.00, NULL) ON DUPLICATE KEY UPDATE email = 'again@x'");
    await run(ctx, 'Workflow', { action: 'start', keyspace: 'customer', workflow: 'm1' });
    await waitFor('customer 4 to reach 80-', async () => (await c.shardRows('customer', '80-', "SELECT 1 FROM customer WHERE customer_id = 4 AND email = 'again@x'")).length === 1, 60_000);

    const status = (await run(ctx, 'Workflow', { action: 'status', keyspace: 'customer', workflow: 'm1', format: 'json' })) as { shard_streams: Record<string, unknown> };
    assert.deepEqual(Object.keys(status.shard_streams).sort(), ['customer/-80', 'customer/80-']);

    await run(ctx, 'Workflow', { action: 'delete', keyspace: 'customer', workflow: 'm1' });
    const after = (await run(ctx, 'GetWorkflows', { keyspace: 'customer' })) as { workflows: unknown[] };
    assert.equal(after.workflows.length, 0);
  });

  it('copies composite string keys exactly and refuses what it cannot copy', async () => {
    const targetTables = async () => {
      const out: string[] = [];
      for (const shard of ['-80', '80-']) for (const r of await c.shardRows('customer', shard, 'SHOW TABLES')) out.push(`${shard}:${String(Object.values(r)[0])}`);
      return out.sort();
    };
    const tablesBefore = await targetTables();
    await run(ctx, 'Materialize', {
      action: 'create',
      workflow: 'tags',
      target_keyspace: 'customer',
      source_keyspace: 'commerce',
      table_settings: JSON.stringify([{ target_table: 'tag', source_expression: 'select * from tag', create_ddl: 'copy' }]),
      tablet_types: ['replica', 'primary'],
    }).then(
      () => assert.fail('a table with no vindex in a sharded target must be refused'),
      (err: Error) => assert.match(err.message, /no primary vindex in the VSchema/),
    );
    await assert.rejects(
      run(ctx, 'Materialize', {
        action: 'create', workflow: 'x', target_keyspace: 'customer', source_keyspace: 'commerce',
        table_settings: JSON.stringify([{ target_table: 'nosuch', source_expression: '', create_ddl: 'copy' }]),
      }),
      /table nosuch does not exist in source keyspace commerce/,
    );
    await assert.rejects(
      run(ctx, 'Materialize', {
        action: 'create', workflow: 'x', target_keyspace: 'customer', source_keyspace: 'commerce',
        table_settings: JSON.stringify([{ target_table: 'customer', source_expression: 'select customer_id, count(*) from customer group by customer_id', create_ddl: 'copy' }]),
      }),
      /not supported yet/,
    );
    await assert.rejects(
      run(ctx, 'Materialize', {
        action: 'create', workflow: 'x', target_keyspace: 'customer', source_keyspace: 'commerce',
        table_settings: JSON.stringify([{ target_table: 'customer', source_expression: '', create_ddl: 'copy' }]),
        config_overrides: ['no-such-flag=1'],
      }),
      /unknown setting no-such-flag/,
    );
    const none = (await run(ctx, 'GetWorkflows', { keyspace: 'customer' })) as { workflows: unknown[] };
    assert.equal(none.workflows.length, 0, 'nothing half-made');
    // The refusals come before any target table is made (tag's copy would have been created first).
    assert.deepEqual(await targetTables(), tablesBefore, 'no target table made');
  });

  it('reports progress counted by the engine: exact rows per table while copying, ETA, totals, metrics', async () => {
    const [{ n }] = await c.shardRows('commerce', '0', 'SELECT COUNT(*) AS n FROM customer');
    const total = Number(n);
    await run(ctx, 'Materialize', {
      action: 'create',
      workflow: 'prog',
      target_keyspace: 'commerce',
      source_keyspace: 'commerce',
      table_settings: JSON.stringify([{ target_table: 'customer_copy', source_expression: 'select * from customer', create_ddl: 'copy' }]),
      tablet_types: ['primary'],
      // Slow enough to be seen copying: ~5 s for the table.
      config_overrides: [`vreplication-copy-rows-per-second=${Math.ceil(total / 5)}`, 'vstream-packet-size-rows=50'],
    });
    type Tcs = { rows_copied: number; rows_total: number; rows_percentage: number; phase: string; rows_total_estimated: boolean; eta_seconds: number | null; bytes_copied: number };
    const tcs = async (): Promise<Tcs | undefined> => {
      const st = (await run(ctx, 'Workflow', { action: 'status', keyspace: 'commerce', workflow: 'prog', format: 'json' })) as { table_copy_state: Record<string, Tcs> };
      return st.table_copy_state.customer_copy;
    };
    let seen: Tcs | undefined;
    await waitFor('the copy to be under way', async () => {
      seen = await tcs();
      return seen !== undefined && seen.phase === 'Copying' && seen.rows_copied > 0 && seen.eta_seconds !== null;
    });
    assert.equal(seen!.rows_total, total, 'a small table is counted exactly');
    assert.equal(seen!.rows_total_estimated, false);
    assert.ok(seen!.rows_copied < total && seen!.bytes_copied > 0, JSON.stringify(seen));

    // Stopped mid-copy: the count is exactly the rows on the target.
    await run(ctx, 'Workflow', { action: 'stop', keyspace: 'commerce', workflow: 'prog' });
    // The secondary keys wait for the end of the copy (--defer-secondary-keys, on by default),
    // recorded in post_copy_action.
    const keysOf = async () => (await c.shardRows('commerce', '0', "SELECT DISTINCT INDEX_NAME AS k FROM information_schema.STATISTICS WHERE TABLE_NAME = 'customer_copy' ")).map((r) => String(r.k)).sort();
    assert.deepEqual(await keysOf(), ['PRIMARY']);
    const actions = await c.shardRows('commerce', '0', "SELECT action FROM _vt.post_copy_action WHERE table_name = 'customer_copy'");
    assert.equal(actions.length, 1);
    assert.match(JSON.stringify(actions[0].action), /ADD KEY IF NOT EXISTS `idx_email`/);
    const stopped = await tcs();
    const [{ m }] = await c.shardRows('commerce', '0', 'SELECT COUNT(*) AS m FROM customer_copy');
    assert.equal(stopped?.rows_copied, Number(m), 'rows_copied is what the target holds');
    assert.ok(Number(m) < total, 'stopped before the end');

    const primary = c.shard('commerce', '0').primary;
    await run(ctx, 'Workflow', { action: 'update', keyspace: 'commerce', workflow: 'prog', config_overrides: ['vreplication-copy-rows-per-second=0'] });
    await run(ctx, 'Workflow', { action: 'start', keyspace: 'commerce', workflow: 'prog' });
    // What `ctl Materialize … start --wait` does: poll ctld's status until the copy is done.
    const ctld = await startCtldServer(ctx, { port: 0, grpcPort: null, host: '127.0.0.1' });
    try {
      await waitForCopy(new CtldClient(`127.0.0.1:${ctld.ports[0]}`), 'commerce', 'prog', 120_000, 100);
    } finally {
      await ctld.close();
    }
    assert.ok((await primary.manager.vreplication!.read('prog')).every((s) => s.copyStates.length === 0 && s.record.state === 'Running'));
    const [{ k }] = await c.shardRows('commerce', '0', 'SELECT COUNT(*) AS k FROM customer_copy');
    assert.equal(Number(k), total);
    assert.deepEqual(await keysOf(), ['PRIMARY', 'idx name,bal', 'idx_email'].sort(), 'the keys are back');
    assert.deepEqual(await c.shardRows('commerce', '0', 'SELECT id FROM _vt.post_copy_action'), []);
    const [src, dst] = await Promise.all(['customer', 'customer_copy'].map(async (t) => String((await c.shardRows('commerce', '0', `SHOW CREATE TABLE ${t}`))[0]['Create Table']).replace(/CREATE TABLE `[^`]+`/, '')));
    assert.equal(dst, src, 'the target table ends as the source defines it');
    const rec = (await primary.manager.vreplication!.read('prog'))[0].record;
    assert.equal(rec.rowsCopied, total, 'rows_copied of the stream counts every row once, across the stop');
    const metrics = primary.manager.vreplication!.metrics().find((x) => x.workflow === 'prog');
    assert.ok(metrics && metrics.rowsCopied > 0 && metrics.applied > 0, JSON.stringify(metrics));
    await run(ctx, 'Workflow', { action: 'delete', keyspace: 'commerce', workflow: 'prog' });
  });

  it("copies and replicates every column type exactly, rows at each type's limits", async () => {
    const primary = c.shard('commerce', '0').primary;
    const conn = await mysql.createConnection({ socketPath: primary.mysqlctl!.socket, user: 'vt_dba', password: '', database: 'vt_commerce', multipleStatements: true });
    try {
      // Zero dates are rows MariaDB takes outside strict mode; the stream must carry them too.
      await conn.query("SET SESSION sql_mode = ''");
      await conn.query(`CREATE TABLE all_types (${COLUMNS})`);
      const [, fields] = await conn.query('SELECT * FROM all_types LIMIT 0');
      const names = (fields as { name: string }[]).map((f) => f.name);
      await conn.query(`INSERT INTO all_types VALUES ${MAX_ROW}, ${MIN_ROW}, ${nulls(3, names.length - 1)}, ${ZERO_ROW}`);
      await conn.query(
        "INSERT INTO all_types (id, vc, tx, mt, lt, mb, lb, c, e) VALUES (4, REPEAT('日本語', 100), REPEAT('Ελληνικά ', 7000), REPEAT('🙂', 100000), REPEAT('ab', 150000), RANDOM_BYTES(1024), REPEAT(X'00FF', 150000), '漢字漢字漢字漢字漢字', 'ü')",
      );
      await run(ctx, 'Materialize', {
        action: 'create',
        workflow: 'types',
        target_keyspace: 'commerce',
        source_keyspace: 'commerce',
        table_settings: JSON.stringify([{ target_table: 'all_types_copy', source_expression: 'select * from all_types', create_ddl: 'copy' }]),
        tablet_types: ['primary'],
        config_overrides: ['vreplication-copy-cycle-rows=2', 'vstream-packet-size-rows=1'],
      });
      await waitFor('the copy to finish', async () => (await primary.manager.vreplication!.read('types')).every((x) => x.copyStates.length === 0 && x.record.state === 'Running'));
      // Then through the binlog: a transaction of inserts, updates and deletes, a key change, a delete.
      await conn.query(
        "BEGIN; INSERT INTO all_types (id, i32, vc) VALUES (5, 1, 'five'), (6, 2, 'six'); UPDATE all_types SET vc = 'FIVE', i32 = NULL WHERE id = 5; DELETE FROM all_types WHERE id = 6; " +
          "UPDATE all_types SET d2 = -0.01, t3 = '-00:00:01.5', dt6 = '2000-02-29 12:00:00.5', s = 'y,w', e = 'b', bn = X'FF', f = -1.5e-7, j = '{\"k\": \"ü\"}', g = ST_GeomFromText('POINT(3 4)') WHERE id = 1; COMMIT",
      );
      await conn.query(`UPDATE all_types SET id = 10 WHERE id = 2; DELETE FROM all_types WHERE id = 3; INSERT INTO all_types VALUES ${MAX_ROW.replace('(1,', '(11,')}`);
      const [[{ p }]] = (await conn.query('SELECT @@global.gtid_binlog_pos AS p')) as unknown as [[{ p: string }]];
      const [stream] = await primary.manager.vreplication!.read('types');
      await primary.manager.vreplication!.waitForPos(stream.record.id, `MariaDB/${p}`, 60_000);

      // Equal column by column as MariaDB compares them (geometry by its bytes).
      const eq = names.map((n) => (n === 'g' ? 'ST_AsBinary(a.g) <=> ST_AsBinary(b.g)' : `a.\`${n}\` <=> b.\`${n}\``)).join(' AND ');
      const [counts] = (await conn.query(
        `SELECT (SELECT COUNT(*) FROM all_types) AS src, (SELECT COUNT(*) FROM all_types_copy) AS dst, (SELECT COUNT(*) FROM all_types a JOIN all_types_copy b ON ${eq}) AS same`,
      )) as unknown as [{ src: number; dst: number; same: number }[]];
      // Ids 1, 4, 5, 8, 10 and 11 remain.
      assert.deepEqual(counts[0], { src: 6, dst: 6, same: 6 });
      await run(ctx, 'Workflow', { action: 'delete', keyspace: 'commerce', workflow: 'types' });
    } finally {
      await conn.end();
    }
  });

  // Last: it moves the primaries, which the cluster harness's shard handles do not follow.
  it('goes on through PlannedReparentShard of the target and of the source shard mid-copy', async () => {
    await c.shardRows('customer', '-80', 'DELETE FROM customer');
    await c.shardRows('customer', '80-', 'DELETE FROM customer');
    const [{ n }] = await c.shardRows('commerce', '0', 'SELECT COUNT(*) AS n FROM customer');
    const total = Number(n);
    await run(ctx, 'Materialize', {
      action: 'create',
      workflow: 'prs',
      target_keyspace: 'customer',
      source_keyspace: 'commerce',
      table_settings: JSON.stringify([{ target_table: 'customer', source_expression: 'select * from customer', create_ddl: 'copy' }]),
      tablet_types: ['primary'],
      config_overrides: [`vreplication-copy-rows-per-second=${Math.ceil(total / 6)}`, 'vstream-packet-size-rows=40', 'vreplication-retry-delay=200ms'],
    });
    const copied = async () => {
      const st = (await run(ctx, 'Workflow', { action: 'status', keyspace: 'customer', workflow: 'prs', format: 'json' })) as { table_copy_state: Record<string, { rows_copied: number; phase: string }> };
      return st.table_copy_state.customer;
    };
    await waitFor('the copy to be under way', async () => ((await copied())?.rows_copied ?? 0) > 0);
    const prs = (keyspace_shard: string) => CTLD_COMMANDS.PlannedReparentShard.run(ctx, { keyspace_shard });
    await prs('customer/-80');
    await waitFor('more rows after the target reparent', async () => ((await copied())?.rows_copied ?? 0) > total / 3);
    await prs('commerce/0');
    // A write on the new source primary during the copy must arrive too.
    const src = (await c.topo.getShard('commerce', '0')).value.primary_alias!;
    const srcTablet = [c.shard('commerce', '0').primary, ...c.shard('commerce', '0').replicas].find((t) => t.alias === tabletAliasString(src))!;
    const conn = await mysql.createConnection({ socketPath: srcTablet.mysqlctl!.socket, user: 'vt_dba', password: '', database: 'vt_commerce', supportBigNumbers: true, bigNumberStrings: true });
    await conn.query("INSERT INTO customer VALUES (777777, 'after@prs', 'after', 1.00, NULL)");
    const [[{ p }]] = (await conn.query('SELECT @@global.gtid_binlog_pos AS p')) as unknown as [[{ p: string }]];
    await waitFor('the copy to finish after both reparents', async () => {
      const show = (await run(ctx, 'Workflow', { action: 'show', keyspace: 'customer', workflow: 'prs' })) as { workflows: { shard_streams: Record<string, { streams: { state: string; message: string; position: string }[] }> }[] };
      const streams = Object.values(show.workflows[0].shard_streams).flatMap((x) => x.streams);
      for (const x of streams) if (x.state === 'Error') throw new Error(`stream in Error: ${x.message}`);
      return streams.length === 2 && streams.every((x) => x.state === 'Running' && x.position.includes(p.split('-').pop()!));
    });
    const [source] = (await conn.query('SELECT customer_id, email, name, balance, HEX(note) AS note FROM customer ORDER BY customer_id')) as unknown as [Record<string, unknown>[]];
    await conn.end();
    const target: Record<string, unknown>[] = [];
    for (const shard of ['-80', '80-']) {
      // Through the shard's current primary, wherever the reparent put it.
      const alias = (await c.topo.getShard('customer', shard)).value.primary_alias!;
      const t = [c.shard('customer', shard).primary, ...c.shard('customer', shard).replicas].find((x) => x.alias === tabletAliasString(alias))!;
      const tc = await mysql.createConnection({ socketPath: t.mysqlctl!.socket, user: 'vt_dba', password: '', database: 'vt_customer', supportBigNumbers: true, bigNumberStrings: true });
      const [rows] = (await tc.query('SELECT customer_id, email, name, balance, HEX(note) AS note FROM customer ORDER BY customer_id')) as unknown as [Record<string, unknown>[]];
      await tc.end();
      target.push(...rows);
    }
    target.sort((a, b) => (BigInt(String(a.customer_id)) < BigInt(String(b.customer_id)) ? -1 : 1));
    assert.equal(target.length, source.length);
    assert.deepEqual(target.map((r) => ({ ...r, customer_id: String(r.customer_id) })), source.map((r) => ({ ...r, customer_id: String(r.customer_id) })));
    await run(ctx, 'Workflow', { action: 'delete', keyspace: 'customer', workflow: 'prs' });
  });
});
