// Binlog retention on real tablets and MariaDB: a stopped stream holds the source's binlogs it has
// not applied yet. The source writes and rotates binlogs behind the stopped stream, then
// `PurgeBinaryLogs` (ctl, through ctld's command and the tablet-manager RPC) and the tablet's
// expiry by age run: both purge what the stream no longer needs and keep the rest, naming the
// workflow that holds it. Started again, the stream catches up with every row. Once it has, the
// same purge removes the files it held.
import { utimes } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type TestCluster } from '../../harness/cluster.js';
import { WORKFLOW_COMMANDS } from '../../../src/ctld/workflow-commands.js';
import { TABLET_COMMANDS } from '../../../src/ctld/tablet-commands.js';
import type { CtldContext } from '../../../src/ctld/command.js';
import { RpcTabletManagerClient } from '../../../src/tablet/index.js';
import { GtidPosition } from '../../../src/mysql/binlog/index.js';
import type { Json, JsonObject } from '../../../src/topo/index.js';

const SCHEMA = 'CREATE TABLE item (id bigint NOT NULL, label varchar(64), PRIMARY KEY (id))';

interface PurgeJson {
  purged: string[];
  oldest: string;
  held_by: { workflow: string; target: string; position: string; state: string } | null;
  streams: { workflow: string; position: string }[];
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

describe('binlog retention for stopped streams', { timeout: 600_000 }, () => {
  let c: TestCluster;
  let ctx: CtldContext;

  before(async () => {
    c = await startCluster({
      gate: false,
      keyspaces: [
        { name: 'commerce', shards: ['0'], schema: SCHEMA },
        { name: 'customer', shards: ['0'] },
      ],
    });
    ctx = { topo: c.topo, tmc: new RpcTabletManagerClient(c.topo) };
    const rows: string[] = [];
    for (let i = 1; i <= 200; i++) rows.push(`(${i}, 'item ${i}')`);
    await c.shardRows('commerce', '0', `INSERT INTO item VALUES ${rows.join(',')}`);
  });

  after(async () => {
    ctx?.tmc.close();
    await c?.stop();
  });

  const binlogs = async () => (await c.shardRows('commerce', '0', 'SHOW BINARY LOGS')).map((r) => String(r.Log_name));
  const streamPos = async () => {
    const [s] = await c.shard('customer', '0').primary.manager.vreplication!.read('keep');
    return s.record;
  };
  const purge = async (req: JsonObject = {}) => (await TABLET_COMMANDS.PurgeBinaryLogs.run(ctx, { alias: c.shard('commerce', '0').primary.alias, ...req })) as unknown as PurgeJson;

  it('keeps what a stopped stream needs, purges the rest, and lets the stream catch up', async () => {
    await run(ctx, 'Materialize', {
      action: 'create',
      workflow: 'keep',
      target_keyspace: 'customer',
      source_keyspace: 'commerce',
      table_settings: JSON.stringify([{ target_table: 'item', source_expression: 'select * from item', create_ddl: 'copy' }]),
      tablet_types: ['primary'],
    });
    let last = '';
    await waitFor('the copy to finish', async () => {
      const s = await streamPos();
      if (s.state === 'Error') throw new Error(`stream in Error: ${s.message}`);
      last = `${s.state} ${s.message}`;
      return s.state === 'Running' && Number((await c.shardRows('customer', '0', 'SELECT COUNT(*) AS n FROM item').catch(() => [{ n: 0 }]))[0].n) === 200;
    }).catch((err: Error) => {
      throw new Error(`${err.message}; the stream: ${last}`);
    });
    // Older binlogs than the stream's: files it has fully applied, which may go.
    await c.shardRows('commerce', '0', 'FLUSH BINARY LOGS');
    await c.shardRows('commerce', '0', "INSERT INTO item VALUES (300, 'seen')");
    await c.shardRows('commerce', '0', 'FLUSH BINARY LOGS');
    const [{ p: seen }] = await c.shardRows('commerce', '0', 'SELECT @@global.gtid_binlog_pos AS p');
    await c.shard('customer', '0').primary.manager.vreplication!.waitForPos((await streamPos()).id, `MariaDB/${String(seen)}`, 60_000);

    await run(ctx, 'Workflow', { action: 'stop', keyspace: 'customer', workflow: 'keep' });
    const stoppedAt = (await streamPos()).pos;
    // Behind the stopped stream: rows in the current file, then in two newer ones.
    const needed = (await binlogs()).at(-1)!;
    await c.shardRows('commerce', '0', "INSERT INTO item VALUES (901, 'behind 1')");
    await c.shardRows('commerce', '0', 'FLUSH BINARY LOGS');
    await c.shardRows('commerce', '0', "INSERT INTO item VALUES (902, 'behind 2')");
    await c.shardRows('commerce', '0', 'FLUSH BINARY LOGS');
    await c.shardRows('commerce', '0', "UPDATE item SET label = 'changed' WHERE id = 901");
    const files = await binlogs();
    const neededAt = files.indexOf(needed);
    assert.ok(neededAt > 0, `the file the stream needs (${needed}) has older files before it: ${files.join(', ')}`);

    // A dry run says what would go and changes nothing.
    const dry = await purge({ dry_run: true });
    assert.deepEqual(dry.purged, files.slice(0, neededAt));
    assert.deepEqual(await binlogs(), files);

    // Expiry by age: every file made old, the tablet's expiry purges up to the stream's file only.
    const [{ b: base }] = await c.shardRows('commerce', '0', 'SELECT @@log_bin_basename AS b');
    const old = new Date(Date.now() - 7 * 24 * 3600 * 1000);
    for (const f of files.slice(0, -1)) await utimes(path.join(path.dirname(String(base)), f), old, old);
    const expired = await c.shard('commerce', '0').primary.manager.purgeBinaryLogs({ olderThanSeconds: 24 * 3600 });
    assert.deepEqual(expired.purged, files.slice(0, neededAt));
    assert.equal(expired.heldBy?.workflow, 'keep');

    // Purge everything it can: the stream's file and the newer ones stay, and the answer says who holds them.
    const r = await purge();
    assert.deepEqual(r.purged, []);
    assert.equal(r.oldest, needed);
    assert.equal(r.held_by?.workflow, 'keep');
    assert.equal(r.held_by?.target, 'customer/0');
    assert.equal(r.held_by?.position, stoppedAt);
    assert.deepEqual(await binlogs(), files.slice(neededAt));

    // Started again, the stream catches up from its position with nothing lost.
    await run(ctx, 'Workflow', { action: 'start', keyspace: 'customer', workflow: 'keep' });
    const [{ p }] = await c.shardRows('commerce', '0', 'SELECT @@global.gtid_binlog_pos AS p');
    await c.shard('customer', '0').primary.manager.vreplication!.waitForPos((await streamPos()).id, `MariaDB/${String(p)}`, 60_000);
    const want = await c.shardRows('commerce', '0', 'SELECT id, label FROM item ORDER BY id');
    const got = await c.shardRows('customer', '0', 'SELECT id, label FROM item ORDER BY id');
    assert.deepEqual(got, want);
    assert.equal(want.length, 203);

    // Caught up: the files it held may go now, all but the current one.
    const later = await purge();
    const now = await binlogs();
    assert.equal(now.length, 1);
    assert.deepEqual(later.purged, files.slice(neededAt, -1));
    assert.ok(GtidPosition.parse((await streamPos()).pos).atLeast(GtidPosition.parse(String(p))));
  });

  it('refuses to purge a file it does not have', async () => {
    await assert.rejects(purge({ to: 'no-such-binlog.000001' }), /there is no binlog no-such-binlog\.000001/);
  });
});
