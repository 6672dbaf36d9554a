// The engine's settings as `tessera tablet` flags: a target tablet started with
// --vreplication-copy-rows-per-second holds its streams to that rate (Workflow show names the
// limit and its value as the reason the copy waits), and a workflow's --config-overrides still wins
// over the tablet's flag. Tablets run as `bin/tessera tablet` processes, so the flag goes through
// the real command line.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { WORKFLOW_COMMANDS } from '../../../src/ctld/workflow-commands.js';
import type { CtldContext } from '../../../src/ctld/command.js';
import { RpcTabletManagerClient } from '../../../src/tablet/index.js';
import { openTopoServer, type JsonObject, type TopoServer } from '../../../src/topo/index.js';
import { testRoot } from '../../harness/processes.js';
import { TabletChild } from '../../harness/tablet-child.js';
import { waitFor } from '../../harness/wait.js';

const ROWS = 400;
const TABLET_RPS = 20;

interface StreamJson {
  state: string;
  message: string;
  copy_states: unknown[];
  throttler_status: { component_throttled: string; reason_throttled: string };
}

describe('VReplication engine settings as tablet flags', { timeout: 300_000 }, () => {
  let topo: TopoServer;
  let tmc: RpcTabletManagerClient;
  let ctx: CtldContext;
  const root = testRoot();
  const topoDir = path.join(root, 'topo');
  const src = new TabletChild({ uid: 100, keyspace: 'commerce', shard: '0', type: 'primary', root, topoDir });
  // Underscores, as Vitess scripts write flags, are accepted too.
  const dst = new TabletChild({
    uid: 200,
    keyspace: 'customer',
    shard: '0',
    type: 'primary',
    root,
    topoDir,
    extraArgs: ['--vreplication_copy_rows_per_second', String(TABLET_RPS), '--vreplication-throttle-check-interval', '100ms'],
  });

  before(async () => {
    topo = openTopoServer({ topoImplementation: 'file', topoGlobalServerAddress: topoDir, topoGlobalRoot: '/tessera/global' });
    await src.start();
    await dst.start();
    tmc = new RpcTabletManagerClient(topo);
    ctx = { topo, tmc };
    await tmc.applySchema(src.alias, { sql: 'CREATE TABLE item (id bigint NOT NULL, label varchar(64), PRIMARY KEY (id))' });
    for (const ks of ['commerce', 'customer']) await topo.rebuildKeyspaceGraph(ks, { cells: ['zone1'] });
    await topo.rebuildVSchemaGraph({ cells: ['zone1'] });
    const c = await src.dba('vt_commerce');
    try {
      const vals: string[] = [];
      for (let i = 1; i <= ROWS; i++) vals.push(`(${i}, 'item ${i}')`);
      await c.query(`INSERT INTO item VALUES ${vals.join(',')}`);
    } finally {
      await c.end();
    }
  });

  after(async () => {
    tmc?.close();
    await Promise.all([src.stop().catch(() => undefined), dst.stop().catch(() => undefined)]);
    await topo?.close();
  });

  async function stream(workflow: string): Promise<StreamJson> {
    const show = (await WORKFLOW_COMMANDS.Workflow.run(ctx, { action: 'show', keyspace: 'customer', workflow })) as unknown as {
      workflows: { shard_streams: Record<string, { streams: StreamJson[] }> }[];
    };
    return Object.values(show.workflows[0].shard_streams).flatMap((s) => s.streams)[0];
  }

  it('a stream follows the tablet flag, and a workflow override wins over it', async () => {
    await WORKFLOW_COMMANDS.Materialize.run(ctx, {
      action: 'create',
      workflow: 'flagged',
      target_keyspace: 'customer',
      source_keyspace: 'commerce',
      table_settings: JSON.stringify([{ target_table: 'item', source_expression: 'select * from item', create_ddl: 'copy' }]),
      // Small batches, so the rate cap is reached long before the copy ends.
      config_overrides: ['vstream-packet-size-rows=5'],
    } as JsonObject);
    // The cap in force is the tablet's flag: the reason names its value.
    await waitFor('the copy to wait for the tablet flag rate cap', async () => {
      const s = await stream('flagged');
      return s.throttler_status.reason_throttled.includes(`vreplication-copy-rows-per-second (${TABLET_RPS})`);
    });
    assert.equal((await stream('flagged')).throttler_status.component_throttled, 'vcopier');

    // A workflow's own value beats the tablet's.
    await WORKFLOW_COMMANDS.Workflow.run(ctx, {
      action: 'update',
      keyspace: 'customer',
      workflow: 'flagged',
      config_overrides: ['vstream-packet-size-rows=5', 'vreplication-copy-rows-per-second=7'],
    } as JsonObject);
    await waitFor('the copy to wait for the workflow override', async () => (await stream('flagged')).throttler_status.reason_throttled.includes('vreplication-copy-rows-per-second (7)'));

    // And with no cap at all the copy ends.
    await WORKFLOW_COMMANDS.Workflow.run(ctx, {
      action: 'update',
      keyspace: 'customer',
      workflow: 'flagged',
      config_overrides: ['vstream-packet-size-rows=5', 'vreplication-copy-rows-per-second=0'],
    } as JsonObject);
    await waitFor('the copy to end', async () => {
      const s = await stream('flagged');
      return s.copy_states.length === 0 && s.state === 'Running';
    });
    const c = await dst.dba('vt_customer');
    try {
      const [rows] = await c.query('SELECT COUNT(*) AS n FROM item');
      assert.equal(Number((rows as { n: number | string }[])[0].n), ROWS);
    } finally {
      await c.end();
    }
  });
});
