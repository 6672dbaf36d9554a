// The engine's pauses and its answers to a source that cannot serve, on real tablets and MariaDB:
// a stopped source replica holds the copy until replication runs again; a long InnoDB history list
// on the source holds it until the limit is raised; max_tps holds replication; each pause shows in
// the throttled columns and in Workflow show, and clears when the stream goes on. A source whose
// binlogs were purged sends the stream to another tablet that still has them, and to Error saying
// what to do when none has. Materialize refusals leave nothing behind.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { startCluster, type TestCluster } from '../../harness/cluster.js';
import { WORKFLOW_COMMANDS } from '../../../src/ctld/workflow-commands.js';
import type { CtldContext } from '../../../src/ctld/command.js';
import { RpcTabletManagerClient } from '../../../src/tablet/index.js';
import type { Json, JsonObject } from '../../../src/topo/index.js';

const SOURCE_SCHEMA = `
CREATE TABLE item (id bigint NOT NULL, label varchar(64), PRIMARY KEY (id));
CREATE TABLE churn (id int NOT NULL, v int, PRIMARY KEY (id))`;

const ITEMS = 600;

interface StreamJson {
  state: string;
  message: string;
  rows_copied: string;
  source_tablet: string;
  logs: { message: string }[];
  copy_states: unknown[];
  throttler_status: { component_throttled: string; reason_throttled: string; time_throttled: { seconds: string } };
}

async function run(ctx: CtldContext, name: string, req: JsonObject): Promise<Json> {
  return WORKFLOW_COMMANDS[name].run(ctx, req);
}

async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('VReplication throttles and purged binlogs', { timeout: 600_000 }, () => {
  let c: TestCluster;
  let ctx: CtldContext;

  before(async () => {
    c = await startCluster({
      gate: false,
      keyspaces: [
        { name: 'commerce', shards: ['0'], schema: SOURCE_SCHEMA, replicas: 1 },
        { name: 'customer', shards: ['0'] },
      ],
    });
    ctx = { topo: c.topo, tmc: new RpcTabletManagerClient(c.topo) };
    const rows: string[] = [];
    for (let i = 1; i <= ITEMS; i++) rows.push(`(${i}, 'item ${i}')`);
    await c.shardRows('commerce', '0', `INSERT INTO item VALUES ${rows.join(',')}`);
    await c.shardRows('commerce', '0', 'INSERT INTO churn VALUES (1, 0), (2, 0)');
    await c.waitForReplicas();
  });

  after(async () => {
    ctx?.tmc.close();
    await c?.stop();
  });

  async function stream(workflow: string): Promise<StreamJson> {
    const show = (await run(ctx, 'Workflow', { action: 'show', keyspace: 'customer', workflow })) as unknown as { workflows: { shard_streams: Record<string, { streams: StreamJson[] }> }[] };
    const streams = Object.values(show.workflows[0].shard_streams).flatMap((s) => s.streams);
    assert.equal(streams.length, 1);
    return streams[0];
  }

  // Every workflow and its target table go after each test, so the next starts clean even after a failure.
  afterEach(async () => {
    const names = (await run(ctx, 'Workflow', { action: 'list', keyspace: 'customer' })) as string[];
    for (const workflow of names) await run(ctx, 'Workflow', { action: 'delete', keyspace: 'customer', workflow });
    await c.shardRows('customer', '0', 'DROP TABLE IF EXISTS item');
  });

  async function create(workflow: string, target: string, extra: JsonObject = {}): Promise<void> {
    await run(ctx, 'Materialize', {
      action: 'create',
      workflow,
      target_keyspace: 'customer',
      source_keyspace: 'commerce',
      table_settings: JSON.stringify([{ target_table: target, source_expression: 'select * from item', create_ddl: 'copy' }]),
      tablet_types: ['primary'],
      ...extra,
    });
  }

  async function waitRunning(workflow: string): Promise<void> {
    await waitFor(`${workflow} to run`, async () => {
      const s = await stream(workflow);
      if (s.state === 'Error') throw new Error(`stream in Error: ${s.message}`);
      // Workflow start marks the row Running before the controller moves it to Copying.
      return s.state === 'Running' && s.copy_states.length === 0;
    });
  }

  async function sameRows(target: string): Promise<void> {
    const [{ p }] = await c.shardRows('commerce', '0', 'SELECT @@global.gtid_binlog_pos AS p');
    const primary = c.shard('customer', '0').primary;
    const [rec] = await primary.manager.vreplication!.read();
    await primary.manager.vreplication!.waitForPos(rec.record.id, `MariaDB/${String(p)}`, 60_000);
    const want = await c.shardRows('commerce', '0', 'SELECT id, label FROM item ORDER BY id');
    const got = await c.shardRows('customer', '0', `SELECT id, label FROM ${target} ORDER BY id`);
    assert.deepEqual(got.map((r) => ({ ...r })), want.map((r) => ({ ...r })));
  }

  it('pauses the copy while a source replica has replication stopped, and completes when it runs again', async () => {
    const replica = c.shard('commerce', '0').replicas[0].alias;
    await ctx.tmc.stopReplication(replica, {});
    try {
      await create('lag', 'item', { config_overrides: ['vreplication-copy-cycle-rows=100', 'vreplication-throttle-check-interval=200ms'] });

      await waitFor('the copy to pause', async () => (await stream('lag')).throttler_status.component_throttled === 'vcopier');
      const s = await stream('lag');
      assert.match(s.throttler_status.reason_throttled, new RegExp(`replica ${replica} of commerce/0 has replication stopped`));
      assert.ok(Number(s.throttler_status.time_throttled.seconds) > 0);
      assert.equal(s.state, 'Copying');
      // Held before its first cycle: nothing copied yet.
      assert.equal(s.rows_copied, '0');
      const [row] = await c.shardRows('customer', '0', "SELECT component_throttled, reason_throttled FROM _vt.vreplication WHERE workflow = 'lag'");
      assert.equal(row.component_throttled, 'vcopier');
      assert.match(String(row.reason_throttled), /has replication stopped/);
      const status = (await run(ctx, 'Workflow', { action: 'status', keyspace: 'customer', workflow: 'lag', format: 'json' })) as { shard_streams: Record<string, { streams: { info: string }[] }> };
      assert.match(status.shard_streams['customer/0'].streams[0].info, /throttled by vcopier: replica .* has replication stopped/);
    } finally {
      await ctx.tmc.startReplication(replica, {});
    }
    await waitRunning('lag');
    await sameRows('item');
    const done = await stream('lag');
    assert.equal(done.throttler_status.component_throttled, '');
    assert.equal(done.throttler_status.reason_throttled, '');
  });

  it('pauses the copy while the source history list is over the limit, until Workflow update raises it', async () => {
    const addr = await c.mysqlAddress(c.shard('commerce', '0').primary);
    const holder = await mysql.createConnection({ ...addr, user: 'vt_dba', password: '', database: 'vt_commerce' });
    try {
      // An open snapshot keeps purge from removing the undo of the updates that follow.
      await holder.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
      await holder.query('SELECT COUNT(*) FROM churn');
      for (let i = 0; i < 20; i++) await c.shardRows('commerce', '0', 'UPDATE churn SET v = v + 1');
      const [h] = await c.shardRows('commerce', '0', "SHOW GLOBAL STATUS LIKE 'Innodb_history_list_length'");
      assert.ok(Number(h.Value) > 1, `history list length ${String(h.Value)}`);

      await create('hist', 'item', { config_overrides: ['vreplication-copy-phase-max-innodb-history-list-length=1', 'vreplication-throttle-check-interval=200ms'] });
      await waitFor('the copy to pause', async () => (await stream('hist')).throttler_status.component_throttled === 'rowstreamer');
      const s = await stream('hist');
      assert.match(s.throttler_status.reason_throttled, /InnoDB history list length of \d+, over vreplication-copy-phase-max-innodb-history-list-length \(1\)/);
      assert.equal(s.rows_copied, '0');

      await run(ctx, 'Workflow', { action: 'update', keyspace: 'customer', workflow: 'hist', config_overrides: ['vreplication-copy-phase-max-innodb-history-list-length=1000000'] });
      await waitRunning('hist');
      await sameRows('item');
      assert.equal((await stream('hist')).throttler_status.component_throttled, '');
    } finally {
      await holder.query('COMMIT').catch(() => undefined);
      await holder.end();
    }
  });

  it('VReplicationWaitForPos waits for the copy to end, not only for pos (which moves during the copy)', async () => {
    const [{ p }] = await c.shardRows('commerce', '0', 'SELECT @@global.gtid_binlog_pos AS p');
    const want = `MariaDB/${String(p)}`;
    await create('slow', 'item', { config_overrides: ['vreplication-copy-cycle-rows=50', 'vreplication-copy-rows-per-second=100', 'vreplication-throttle-check-interval=100ms'] });
    const engine = c.shard('customer', '0').primary.manager.vreplication!;
    const [rec] = await engine.read('slow');
    // The first cycle's snapshot is already at the source's position: pos is there, the rows are not.
    await waitFor('a first batch', async () => Number((await stream('slow')).rows_copied) > 0);
    const [row] = await c.shardRows('customer', '0', "SELECT pos FROM _vt.vreplication WHERE workflow = 'slow'");
    assert.equal(String(row.pos), want);
    await assert.rejects(engine.waitForPos(rec.record.id, want, 500), /did not reach/);
    await run(ctx, 'Workflow', { action: 'update', keyspace: 'customer', workflow: 'slow', config_overrides: ['vreplication-copy-rows-per-second=0'] });
    await engine.waitForPos(rec.record.id, want, 60_000);
    assert.equal((await stream('slow')).copy_states.length, 0);
    await sameRows('item');
  });

  it('caps replication at max_tps and shows the pause', async () => {
    await create('tps', 'item', { auto_start: false });
    await c.shardRows('customer', '0', "UPDATE _vt.vreplication SET max_tps = 1 WHERE workflow = 'tps'");
    await run(ctx, 'Workflow', { action: 'start', keyspace: 'customer', workflow: 'tps' });
    await waitRunning('tps');

    // Single-row transactions on the source, one at a time, until the stream is seen paused.
    let writing = true;
    let next = 100_000;
    const writer = (async () => {
      while (writing) {
        await c.shardRows('commerce', '0', `INSERT INTO item VALUES (${next}, 'tps ${next}')`);
        next++;
      }
    })();
    try {
      await waitFor('replication to pause at max_tps', async () => {
        const s = await stream('tps');
        if (s.state === 'Error') throw new Error(`stream in Error: ${s.message}`);
        return s.throttler_status.component_throttled === 'vplayer' && /max_tps is 1/.test(s.throttler_status.reason_throttled);
      });
    } finally {
      writing = false;
      await writer;
    }
    await sameRows('item');
    await waitFor('the pause to clear', async () => (await stream('tps')).throttler_status.component_throttled === '');
  });

  it('holds replication while a replica is stopped when max_replication_lag is set', async () => {
    await create('rlag', 'item', { auto_start: false, config_overrides: ['vreplication-throttle-check-interval=200ms'] });
    await c.shardRows('customer', '0', "UPDATE _vt.vreplication SET max_replication_lag = 30 WHERE workflow = 'rlag'");
    await run(ctx, 'Workflow', { action: 'start', keyspace: 'customer', workflow: 'rlag' });
    await waitRunning('rlag');
    await sameRows('item');

    const replica = c.shard('commerce', '0').replicas[0].alias;
    await ctx.tmc.stopReplication(replica, {});
    try {
      // A health answer is reused for the check interval, so the first transactions may still pass:
      // write one at a time until the stream is seen holding one.
      let next = 800_000;
      await waitFor('replication to pause', async () => {
        await c.shardRows('commerce', '0', `INSERT INTO item VALUES (${next}, 'held')`);
        next++;
        return (await stream('rlag')).throttler_status.component_throttled === 'vplayer';
      });
      const s = await stream('rlag');
      assert.match(s.throttler_status.reason_throttled, new RegExp(`replica ${replica} of commerce/0 has replication stopped`));
      // The transaction that met the pause is held, not applied.
      const [src] = await c.shardRows('commerce', '0', 'SELECT COUNT(*) AS n FROM item');
      const [dst] = await c.shardRows('customer', '0', 'SELECT COUNT(*) AS n FROM item');
      assert.ok(Number(dst.n) < Number(src.n), `target has ${String(dst.n)} of ${String(src.n)} rows while paused`);
    } finally {
      await ctx.tmc.startReplication(replica, {});
    }
    await sameRows('item');
    await waitFor('the pause to clear', async () => (await stream('rlag')).throttler_status.component_throttled === '');
  });

  it('moves to a tablet that still has purged binlogs, and goes to Error saying what to do when none has', async () => {
    const shard = c.shard('commerce', '0');
    const primaryAlias = shard.primary.alias;
    const replicaAlias = shard.replicas[0].alias;
    await create('purge', 'item', { tablet_types: ['primary', 'replica'] });
    await waitRunning('purge');
    assert.equal((await stream('purge')).source_tablet, primaryAlias);

    // Purges on the given servers what the stopped stream has not read yet: a row, a new binlog, a
    // row, then every binlog before the new one.
    const purgeAhead = async (servers: readonly ('primary' | 0)[], ids: [number, number]) => {
      await c.shardRows('commerce', '0', `INSERT INTO item VALUES (${ids[0]}, 'before flush')`);
      await c.waitForReplicas();
      for (const which of servers) await c.shardRows('commerce', '0', 'FLUSH NO_WRITE_TO_BINLOG BINARY LOGS', which);
      await c.shardRows('commerce', '0', `INSERT INTO item VALUES (${ids[1]}, 'after flush')`);
      await c.waitForReplicas();
      for (const which of servers) {
        const [m] = await c.shardRows('commerce', '0', 'SHOW MASTER STATUS', which);
        await c.shardRows('commerce', '0', `PURGE BINARY LOGS TO '${String(m.File)}'`, which);
      }
    };
    await run(ctx, 'Workflow', { action: 'stop', keyspace: 'customer', workflow: 'purge' });
    await purgeAhead(['primary'], [900_001, 900_002]);
    await run(ctx, 'Workflow', { action: 'start', keyspace: 'customer', workflow: 'purge' });
    await waitFor('the stream to reach 900002 from the replica', async () => (await c.shardRows('customer', '0', 'SELECT 1 FROM item WHERE id = 900002')).length === 1);
    const s = await stream('purge');
    assert.equal(s.state, 'Running');
    assert.equal(s.source_tablet, replicaAlias);
    const logs = s.logs.map((l) => l.message).join('\n');
    assert.match(logs, new RegExp(`source tablet ${primaryAlias} has purged the binlogs this stream needs: GTIDs? 0-\\d+-\\d+`));
    await sameRows('item');

    // Now gone everywhere: Error, naming what is missing and what to do.
    await run(ctx, 'Workflow', { action: 'stop', keyspace: 'customer', workflow: 'purge' });
    await purgeAhead(['primary', 0], [900_003, 900_004]);
    await run(ctx, 'Workflow', { action: 'start', keyspace: 'customer', workflow: 'purge' });
    await waitFor('the stream to fail', async () => (await stream('purge')).state === 'Error');
    const failed = await stream('purge');
    assert.match(failed.message, /workflow purge: no primary or replica tablet of commerce\/0 still has the binlogs after position MariaDB\//);
    assert.match(failed.message, new RegExp(`${primaryAlias} has purged .*GTIDs? 0-\\d+-\\d+`));
    assert.match(failed.message, new RegExp(`${replicaAlias} has purged`));
    assert.match(failed.message, /re-create the workflow .* or restore a tablet of commerce\/0 that still has these binlogs/);
    const none = await c.shardRows('customer', '0', 'SELECT 1 FROM item WHERE id = 900003');
    assert.equal(none.length, 0);
  });

  it('refuses a source not logging ROW and a missing target table, leaving nothing behind', async () => {
    const tables = async () => (await c.shardRows('customer', '0', 'SHOW TABLES')).map((r) => String(Object.values(r)[0]));
    const before = await tables();

    await assert.rejects(
      run(ctx, 'Materialize', {
        action: 'create', workflow: 'x', target_keyspace: 'customer', source_keyspace: 'commerce',
        table_settings: JSON.stringify([
          { target_table: 'item_made', source_expression: 'select * from item', create_ddl: 'copy' },
          { target_table: 'item_missing', source_expression: 'select * from item', create_ddl: '' },
        ]),
      }),
      /target table item_missing does not exist in customer\/0; create it or give "create_ddl": "copy"/,
    );

    await c.shardRows('commerce', '0', "SET GLOBAL binlog_format = 'STATEMENT'");
    try {
      await assert.rejects(
        create('x', 'item'),
        /source commerce\/0 \(tablet .*\) logs binlog_format=STATEMENT: VReplication needs binlog_format=ROW/,
      );
    } finally {
      await c.shardRows('commerce', '0', "SET GLOBAL binlog_format = 'ROW'");
    }

    assert.deepEqual(await tables(), before, 'no target table was made');
    const none = (await run(ctx, 'GetWorkflows', { keyspace: 'customer' })) as { workflows: unknown[] };
    assert.equal(none.workflows.length, 0, 'no stream was made');
  });
});
