// The parallel, chunked copy on real tablets and MariaDB: tables with a composite key (an int and a
// case-insensitive string, skewed: most rows under one tenant) and a string key are cut into chunks
// at keys the source finds in the tables themselves, read by several readers and inserted by
// several workers, while a writer inserts, updates and deletes on the source. The copy runs in
// small cycles so the writes land before, inside and after each chunk's range. The target must end
// equal to the source row for row, and each table must really have been copied in chunks.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type TestCluster } from '../../harness/cluster.js';
import { WORKFLOW_COMMANDS } from '../../../src/ctld/workflow-commands.js';
import type { CtldContext } from '../../../src/ctld/command.js';
import { RpcTabletManagerClient } from '../../../src/tablet/index.js';
import type { Json, JsonObject } from '../../../src/topo/index.js';
import { waitFor } from '../../harness/wait.js';

const SOURCE_SCHEMA = `
CREATE TABLE acct (tenant int NOT NULL, name varchar(40) COLLATE utf8mb4_general_ci NOT NULL, v int NOT NULL, note varchar(40), PRIMARY KEY (tenant, name), KEY idx_v (v));
CREATE TABLE code (code varchar(40) COLLATE utf8mb4_general_ci NOT NULL, n int NOT NULL, PRIMARY KEY (code))`;

const ROWS = 6000;
const READERS = 4;

async function run(ctx: CtldContext, name: string, req: JsonObject): Promise<Json> {
  return WORKFLOW_COMMANDS[name].run(ctx, req);
}

function seeded(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A name whose order under utf8mb4_general_ci is not its byte order (case, accents). */
function nameOf(i: number): string {
  const pre = ['a', 'B', 'ä', 'C', 'é', 'z'][i % 6];
  return `${pre}${String(i).padStart(6, '0')}`;
}

describe('Parallel chunked copy', { timeout: 600_000 }, () => {
  let c: TestCluster;
  let ctx: CtldContext;

  before(async () => {
    c = await startCluster({
      gate: false,
      keyspaces: [
        { name: 'commerce', shards: ['0'], schema: SOURCE_SCHEMA },
        { name: 'customer', shards: ['0'] },
      ],
    });
    ctx = { topo: c.topo, tmc: new RpcTabletManagerClient(c.topo) };
  });

  after(async () => {
    ctx?.tmc.close();
    await c?.stop();
  });

  it('copies composite and string keys in chunks under concurrent writes, ending equal row for row', async () => {
    const seed = Number(process.env.TESSERA_TEST_SEED ?? Date.now() % 100000);
    console.log(`parallel copy test seed ${seed}`);
    const rnd = seeded(seed);
    for (let i = 0; i < ROWS; i += 1000) {
      const acct: string[] = [];
      const code: string[] = [];
      for (let k = i; k < i + 1000; k++) {
        // Skewed: nine rows in ten under tenant 1.
        acct.push(`(${k % 10 === 0 ? 2 + (k % 7) : 1}, '${nameOf(k)}', ${k}, 'n${k}')`);
        code.push(`('${nameOf(k * 7919)}', ${k})`);
      }
      await c.shardRows('commerce', '0', `INSERT INTO acct VALUES ${acct.join(',')}`);
      await c.shardRows('commerce', '0', `INSERT IGNORE INTO code VALUES ${code.join(',')}`);
    }

    let writing = true;
    let writes = 0;
    const writer = (async () => {
      let next = ROWS * 10;
      while (writing) {
        const k = Math.floor(rnd() * ROWS);
        const op = rnd();
        const tenant = k % 10 === 0 ? 2 + (k % 7) : 1;
        const sql =
          op < 0.3
            ? `INSERT INTO acct VALUES (${rnd() < 0.5 ? 1 : 5}, '${nameOf(next++)}', 0, 'new')`
            : op < 0.55
              ? `UPDATE acct SET v = v + 1, note = 'upd ${writes}' WHERE tenant = ${tenant} AND name = '${nameOf(k)}'`
              : op < 0.7
                ? `DELETE FROM acct WHERE tenant = ${tenant} AND name = '${nameOf(k)}'`
                : op < 0.8
                  ? `INSERT INTO code VALUES ('${nameOf(next++ * 7919)}', -1) ON DUPLICATE KEY UPDATE n = n + 1`
                  : op < 0.9
                    ? `UPDATE code SET n = n + 1000 WHERE code = '${nameOf(k * 7919)}'`
                    : `DELETE FROM code WHERE code = '${nameOf(k * 7919)}'`;
        await c.shardRows('commerce', '0', sql);
        writes++;
      }
    })();

    // Whether each table was seen cut into chunks on the target.
    const chunked = new Set<string>();
    let watching = true;
    const target = c.shard('customer', '0').primary;
    const watcher = (async () => {
      while (watching) {
        const rows = await c.shardRows('customer', '0', 'SELECT table_name AS t, COUNT(*) AS n FROM _vt.copy_state GROUP BY table_name').catch(() => []);
        for (const r of rows) if (Number(r.n) > 1) chunked.add(String(r.t));
        await new Promise((res) => setTimeout(res, 50));
      }
    })();

    await run(ctx, 'Materialize', {
      action: 'create',
      workflow: 'par',
      target_keyspace: 'customer',
      source_keyspace: 'commerce',
      table_settings: JSON.stringify([
        { target_table: 'acct', source_expression: 'select * from acct', create_ddl: 'copy' },
        { target_table: 'code', source_expression: 'select * from code', create_ddl: 'copy' },
      ]),
      tablet_types: ['primary'],
      config_overrides: [
        `vreplication-copy-readers=${READERS}`,
        'vreplication-parallel-insert-workers=3',
        'vreplication-copy-chunk-rows-min=500',
        'vreplication-copy-cycle-rows=800',
        'vstream-packet-size-rows=53',
        // Slow enough that the writer's changes land between the cycles of every chunk.
        'vreplication-copy-rows-per-second=3000',
      ],
    });

    await waitFor('the copy to finish', async () => {
      const show = (await run(ctx, 'Workflow', { action: 'show', keyspace: 'customer', workflow: 'par' })) as {
        workflows: { shard_streams: Record<string, { streams: { state: string; message: string; copy_states: unknown[] }[] }> }[];
      };
      const streams = Object.values(show.workflows[0].shard_streams).flatMap((s) => s.streams);
      for (const s of streams) if (s.state === 'Error') throw new Error(`stream in Error: ${s.message}`);
      return streams.length === 1 && streams[0].state === 'Running' && streams[0].copy_states.length === 0;
    }, 300_000);
    watching = false;
    await watcher;
    writing = false;
    await writer;
    assert.ok(writes > 0, 'the writer wrote during the copy');
    assert.deepEqual([...chunked].sort(), ['acct', 'code'], 'both tables were copied in chunks');

    const [{ p }] = await c.shardRows('commerce', '0', 'SELECT @@global.gtid_binlog_pos AS p');
    const streams = await target.manager.vreplication!.read('par');
    await target.manager.vreplication!.waitForPos(streams[0].record.id, `MariaDB/${String(p)}`, 60_000);

    for (const [table, order] of [['acct', 'tenant, name'], ['code', 'code']] as const) {
      const q = `SELECT * FROM ${table} ORDER BY ${order}`;
      const want = await c.shardRows('commerce', '0', q);
      const got = await c.shardRows('customer', '0', q);
      assert.equal(got.length, want.length, `${table}: ${got.length} rows on the target, ${want.length} on the source`);
      assert.deepEqual(got, want, `${table} differs`);
    }
    // The deferred secondary key is back.
    const keys = await c.shardRows('customer', '0', "SELECT INDEX_NAME AS k FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = 'vt_customer' AND TABLE_NAME = 'acct' AND INDEX_NAME = 'idx_v'");
    assert.equal(keys.length, 1);
  });
});
