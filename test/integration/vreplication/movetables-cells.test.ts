// MoveTables reads switched per cell: two cells, a replica of commerce/0 and of customer/0 in
// each, a gate in each. `switchtraffic --cells zone2 --tablet-types replica,rdonly` moves the
// @replica reads of zone2's gate to customer while zone1's gate still reads commerce (VEXPLAIN
// QUERIES names the keyspace and tablet each read went to); the traffic state says so in Vitess's
// words; writes are refused until every cell's reads moved; switching zone1 too leaves no per-cell
// override; a per-cell reverse and cancel clean up.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import mysqlDirect from 'mysql2/promise';
import { startCluster, type TestCluster } from '../../harness/cluster.js';
import { startTestTablet } from '../../harness/tablet.js';
import { waitFor } from '../../harness/wait.js';
import { WORKFLOW_COMMANDS } from '../../../src/ctld/workflow-commands.js';
import type { CtldContext } from '../../../src/ctld/command.js';
import { createGate, type Gate } from '../../../src/gate/index.js';
import { RpcTabletManagerClient, TabletConn, type TabletProcess } from '../../../src/tablet/index.js';
import type { Json, JsonObject } from '../../../src/topo/index.js';

const SCHEMA = `CREATE TABLE customer (customer_id bigint NOT NULL, email varbinary(128), PRIMARY KEY (customer_id))`;

describe('MoveTables: reads switched in one cell only', { timeout: 600_000 }, () => {
  let c: TestCluster;
  let ctx: CtldContext;
  let gate2: Gate;
  const zone2: TabletProcess[] = [];
  const conns: TabletConn[] = [];

  const mt = (action: string, extra: JsonObject = {}): Promise<Json> => WORKFLOW_COMMANDS.MoveTables.run(ctx, { action, workflow: 'commerce2customer', target_keyspace: 'customer', format: 'json', ...extra });
  const state = async () => ((await mt('status')) as { traffic_state: string }).traffic_state;

  /** keyspace@type (tablet cell) of an @replica point read through `port`'s gate. */
  const replicaRead = async (port: number): Promise<string> => {
    const conn = await mysqlDirect.createConnection({ host: '127.0.0.1', port, user: 'vt_app', password: '', database: '@replica' });
    try {
      const [rows] = (await conn.query('vexplain queries select email from customer where customer_id = 1')) as unknown as [{ keyspace: string; tablet_type: string; tablet: string }[]];
      assert.equal(rows.length, 1, JSON.stringify(rows));
      return `${rows[0].keyspace}@${rows[0].tablet_type} (${rows[0].tablet.split('-')[0]})`;
    } finally {
      await conn.end();
    }
  };
  const gate1Port = () => c.gate!.mysqlPort;

  before(async () => {
    c = await startCluster({
      network: true,
      keyspaces: [
        { name: 'commerce', shards: ['0'], schema: SCHEMA, vschema: { tables: { customer: {} } }, replicas: 1 },
        { name: 'customer', shards: ['0'], replicas: 1 },
      ],
    });
    ctx = { topo: c.topo, tmc: new RpcTabletManagerClient(c.topo) };
    // A second cell with a replica of each shard, replicating from its primary in zone1.
    await c.topo.createCellInfo('zone2', {});
    for (const ks of ['commerce', 'customer']) {
      const t = await startTestTablet({ cell: 'zone2', keyspace: ks, shard: '0', tabletType: 'replica', topo: c.topo });
      zone2.push(t);
      await t.manager.replication.setSource({ ...(await c.mysqlAddress(c.shard(ks, '0').primary)), semiSync: false });
      await c.topo.rebuildKeyspaceGraph(ks, { cells: ['zone1', 'zone2'] });
    }
    await c.topo.rebuildVSchemaGraph();
    for (const t of zone2) await t.manager.refreshState();
    gate2 = await createGate({
      topo: c.topo,
      cell: 'zone2',
      tabletConn: (t) => {
        const conn = new TabletConn(t.hostname, t.port_map.grpc ?? 0);
        conns.push(conn);
        return conn;
      },
      mysql: { port: 0 },
      http: null,
      tabletTypesToWait: [],
      healthCheck: { topoRefreshMs: 500, retryDelayMs: 200 },
    });
    await gate2.health.waitFor([{ keyspace: 'commerce', shard: '0' }, { keyspace: 'customer', shard: '0' }], ['replica'], 30_000);
    const g = await c.connect('commerce');
    await g.query("INSERT INTO customer VALUES (1, 'alice@domain.com'), (2, 'bob@domain.com')");
    await g.end();
  });

  after(async () => {
    await gate2?.close();
    for (const conn of conns) conn.close();
    ctx?.tmc.close();
    await Promise.all(zone2.map((t) => t.stop({ stopMysql: true }).catch(() => undefined)));
    await c?.stop();
  });

  it('switches @replica and @rdonly reads of zone2 alone, and says so per cell', async () => {
    await mt('create', { source_keyspace: 'commerce', tables: ['customer'] });
    await waitFor('the copy to finish', async () => {
      const st = (await mt('status')) as { table_copy_state: Record<string, unknown>; shard_streams: Record<string, { streams: { status: string }[] }> };
      return Object.keys(st.table_copy_state).length === 0 && Object.values(st.shard_streams).flatMap((s) => s.streams).every((s) => s.status === 'Running');
    }, 120_000);
    assert.equal(await replicaRead(gate1Port()), 'commerce@replica (zone1)');
    assert.equal(await replicaRead(gate2.mysqlPort), 'commerce@replica (zone2)');

    await mt('switchtraffic', { tablet_types: ['replica', 'rdonly'], cells: ['zone2'] });
    assert.equal(await state(), 'Reads partially switched. Replica switched in cells: zone2. Rdonly switched in cells: zone2. Writes Not Switched');
    // The gates follow their own cell's SrvVSchema.
    await waitFor('zone2 to read customer', async () => (await replicaRead(gate2.mysqlPort)) === 'customer@replica (zone2)', 30_000);
    assert.equal(await replicaRead(gate1Port()), 'commerce@replica (zone1)', 'zone1 still reads commerce');
    // The global rules still say commerce; zone2's override says customer.
    const global = (await c.topo.getRoutingRules()).rules.find((r) => r.from_table === 'customer@replica')?.to_tables[0];
    assert.equal(global, 'commerce.customer');
    const z2 = (await c.topo.getSrvVSchema('zone2')).routing_rules.rules.find((r) => r.from_table === 'customer@replica')?.to_tables[0];
    assert.equal(z2, 'customer.customer');

    // Writes wait for every cell's reads.
    await assert.rejects(mt('switchtraffic', { tablet_types: ['primary'] }), /before its reads in every cell \(not yet switched in zone1\): switch replica,rdonly first \(switchtraffic --tablet-types replica,rdonly --cells zone1\)/);
    await assert.rejects(mt('switchtraffic', { cells: ['zone3'] }), /--cells: no cell zone3/);
  });

  it('once every cell moved, the global rules say it and no override is left; a per-cell reverse and cancel clean up', async () => {
    await mt('switchtraffic', { tablet_types: ['replica', 'rdonly'], cells: ['zone1'] });
    assert.equal(await state(), 'All Reads Switched. Writes Not Switched');
    assert.deepEqual(await c.topo.getCellRoutingRules(), {});
    await waitFor('zone1 to read customer', async () => (await replicaRead(gate1Port())) === 'customer@replica (zone1)', 30_000);
    assert.equal(await replicaRead(gate2.mysqlPort), 'customer@replica (zone2)');

    await mt('reversetraffic', { tablet_types: ['replica'], cells: ['zone2'] });
    assert.equal(await state(), 'Reads partially switched. Replica switched in cells: zone1. All Rdonly Reads Switched. Writes Not Switched');
    await waitFor('zone2 to read commerce again', async () => (await replicaRead(gate2.mysqlPort)) === 'commerce@replica (zone2)', 30_000);
    assert.equal(await replicaRead(gate1Port()), 'customer@replica (zone1)');

    await mt('cancel');
    assert.deepEqual(await c.topo.getCellRoutingRules(), {}, 'cancel removes the per-cell overrides');
    assert.deepEqual((await c.topo.getRoutingRules()).rules, []);
    await waitFor('zone2 to read commerce with no rules', async () => (await replicaRead(gate2.mysqlPort)) === 'commerce@replica (zone2)', 30_000);
  });
});
