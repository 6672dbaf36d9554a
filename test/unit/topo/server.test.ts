// The typed topology (TopoServer) on the memory backend: keyspaces, shards and their key-range
// rules, tablets, VSchemas and rules through src/vschema, the serving graph, locks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isTopoError,
  newTablet,
  openConn,
  parseTabletAlias,
  TopoServer,
  type TopoErrorCode,
} from '../../../src/topo/index.js';
import { tabletLine } from '../../../src/cli/ctl.js';

let seq = 0;

async function fresh(): Promise<TopoServer> {
  const address = `unit-${++seq}`;
  const ts = new TopoServer(openConn('memory', address, '/tessera/global'), (a, r) => openConn('memory', a, r), address, { lockTimeoutMs: 0 });
  await ts.createCellInfo('zone1', {});
  return ts;
}

async function fails(p: Promise<unknown>, code: TopoErrorCode, re?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isTopoError(e), String(e));
    assert.equal(e.code, code, e.message);
    if (re) assert.match(e.message, re);
    return true;
  });
}

const CUSTOMER_VSCHEMA = {
  sharded: true,
  vindexes: { hash: { type: 'hash' } },
  tables: {
    customer: { column_vindexes: [{ column: 'customer_id', name: 'hash' }], auto_increment: { column: 'customer_id', sequence: 'customer_seq' } },
  },
};
const COMMERCE_SEQ_VSCHEMA = { tables: { customer_seq: { type: 'sequence' }, product: {} } };

describe('TopoServer', () => {
  it('keyspaces: create, read, duplicates, names', async () => {
    const ts = await fresh();
    const ks = await ts.createKeyspace('commerce', { durability_policy: 'semi_sync' });
    assert.deepEqual(ks, { durability_policy: 'semi_sync', sidecar_db_name: '_vt' });
    assert.deepEqual((await ts.getKeyspace('commerce')).value, ks);
    await fails(ts.createKeyspace('commerce'), 'NODE_EXISTS', /keyspace commerce already exists/);
    await fails(ts.getKeyspace('nosuch'), 'NO_NODE', /keyspace nosuch not found/);
    await fails(ts.createKeyspace('bad/name'), 'BAD_ARGUMENT');
    await ts.createKeyspace('customer');
    assert.deepEqual(await ts.getKeyspaceNames(), ['commerce', 'customer']);
  });

  it('shards: names are key ranges; overlap makes resharding targets; bad input changes nothing', async () => {
    const ts = await fresh();
    await ts.createKeyspace('customer');
    assert.equal((await ts.createShard('customer', '0')).is_primary_serving, true);
    const lo = await ts.createShard('customer', '-80');
    assert.equal(lo.is_primary_serving, false, 'overlapping a serving shard: a resharding target');
    assert.deepEqual(lo.key_range, { start: '', end: '80' });
    await ts.createShard('customer', '80-');
    await fails(ts.createShard('customer', '-40'), 'FAILED_PRECONDITION', /overlap shard -80, which is not serving/);
    await fails(ts.createShard('customer', '-8000'), 'FAILED_PRECONDITION', /same key range as shard -80/);
    await fails(ts.createShard('customer', '80-'), 'NODE_EXISTS');
    await fails(ts.createShard('customer', '80-40'), 'BAD_ARGUMENT', /start at or after its end/);
    await fails(ts.createShard('customer', '-8g'), 'BAD_ARGUMENT');
    await fails(ts.createShard('nosuch', '0'), 'NO_NODE', /keyspace nosuch not found/);
    assert.deepEqual((await ts.getShards('customer')).map((s) => s.name), ['-80', '0', '80-']);
  });

  it('updateShardFields retries on concurrent updates and loses none', async () => {
    const ts = await fresh();
    await ts.createKeyspace('ks');
    await ts.createShard('ks', '0');
    await Promise.all(
      ['a', 'b', 'c', 'd', 'e'].map((t) =>
        ts.updateShardFields('ks', '0', (s) => {
          s.tablet_controls.push({ tablet_type: 'primary', cells: [], denied_tables: [t], disable_query_service: false, frozen: false });
        }),
      ),
    );
    const s = (await ts.getShard('ks', '0')).value;
    assert.deepEqual(s.tablet_controls.map((c) => c.denied_tables[0]).sort(), ['a', 'b', 'c', 'd', 'e']);
  });

  it('serving graph: partitions per tablet type, gaps refused', async () => {
    const ts = await fresh();
    await ts.createKeyspace('customer');
    await ts.createShard('customer', '-80');
    await ts.createShard('customer', '80-');
    const srv = (await ts.rebuildKeyspaceGraph('customer')).zone1;
    assert.deepEqual(srv.partitions.map((p) => p.served_type), ['primary', 'replica', 'rdonly']);
    assert.deepEqual(srv.partitions[0].shard_references.map((r) => r.name), ['-80', '80-']);
    assert.deepEqual(await ts.getSrvKeyspace('zone1', 'customer'), srv);
    assert.deepEqual(await ts.getSrvKeyspaceNames('zone1'), ['customer']);

    await ts.createKeyspace('gappy');
    await ts.createShard('gappy', '-80');
    await fails(ts.rebuildKeyspaceGraph('gappy'), 'FAILED_PRECONDITION', /gap 80- after shard -80/);
    await fails(ts.getSrvKeyspace('zone1', 'gappy'), 'NO_NODE');
    // --allow-partial: a keyspace still being filled may serve what it has, never overlaps.
    const partial = (await ts.rebuildKeyspaceGraph('gappy', { allowPartial: true })).zone1;
    assert.deepEqual(partial.partitions[1].shard_references.map((r) => r.name), ['-80']);
  });

  it('tablets: create, filter, delete with the shard', async () => {
    const ts = await fresh();
    await ts.createKeyspace('commerce');
    await ts.createShard('commerce', '0');
    const t = newTablet({ alias: parseTabletAlias('zone1-100'), keyspace: 'commerce', shard: '0', type: 'primary', port_map: { vt: 15100, grpc: 16100 }, mysql_port: 17100 });
    await ts.createTablet(t);
    await ts.createTablet(newTablet({ alias: parseTabletAlias('zone1-101'), keyspace: 'commerce', shard: '0', type: 'replica' }));
    await fails(ts.createTablet(t), 'NODE_EXISTS');
    await fails(ts.createTablet(newTablet({ alias: parseTabletAlias('zone9-1'), keyspace: 'commerce', shard: '0', type: 'replica' })), 'NO_NODE', /cell zone9/);
    assert.deepEqual((await ts.getTablets({ tabletType: 'replica' })).map((x) => x.alias.uid), [101]);
    assert.deepEqual((await ts.getTablets({ keyspace: 'commerce', shard: '0' })).map((x) => x.alias.uid), [100, 101]);
    assert.equal(tabletLine(t), 'zone1-0000000100 commerce 0 primary localhost:15100 localhost:17100 [] <null>');
    await fails(ts.deleteShard('commerce', '0', { evenIfServing: true }), 'FAILED_PRECONDITION', /still has 2 tablet/);
    await ts.deleteShard('commerce', '0', { recursive: true, evenIfServing: true });
    assert.deepEqual(await ts.getTablets(), []);
  });

  it('VSchemas and rules: validated alone and against the cluster, canonical form stored', async () => {
    const ts = await fresh();
    await ts.createKeyspace('commerce');
    await ts.createKeyspace('customer');
    await fails(ts.saveVSchema('customer', CUSTOMER_VSCHEMA), 'FAILED_PRECONDITION', /customer_seq/);
    await fails(ts.getVSchema('customer'), 'NO_NODE');
    await fails(ts.saveVSchema('customer', { sharded: true, tables: { t: { column_vindexes: [{ column: 'id', name: 'nope' }] } } }), 'BAD_ARGUMENT', /nope/);
    await fails(ts.saveVSchema('nosuch', {}), 'NO_NODE');
    await ts.saveVSchema('commerce', COMMERCE_SEQ_VSCHEMA);
    await ts.saveVSchema('customer', CUSTOMER_VSCHEMA);
    assert.equal((await ts.getVSchema('customer')).sharded, true);

    await fails(ts.saveRoutingRules({ rules: [{ from_table: 'customer.customer', to_tables: ['customer2.customer'] }] }), 'FAILED_PRECONDITION', /customer2/);
    assert.deepEqual(await ts.getRoutingRules(), { rules: [] });
    await ts.saveRoutingRules({ rules: [{ from_table: 'commerce.customer@replica', to_tables: ['customer.customer'] }] });
    // Shard routing rules: both keyspaces must exist and the shard must be one of the source's.
    await fails(ts.saveShardRoutingRules({ rules: [{ from_keyspace: 'commerce', to_keyspace: 'customer', shard: '-80' }] }), 'BAD_ARGUMENT', /keyspace commerce has no shard -80/);
    await fails(ts.saveShardRoutingRules({ rules: [{ from_keyspace: 'commerce', to_keyspace: 'nosuch', shard: '-80' }] }), 'BAD_ARGUMENT', /to_keyspace nosuch is not a keyspace/);
    await ts.createShard('commerce', '-80');
    await ts.createShard('commerce', '80-');
    await ts.createShard('customer', '-80');
    await ts.createShard('customer', '80-');
    await fails(ts.saveShardRoutingRules({ rules: [{ from_keyspace: 'commerce', to_keyspace: 'customer', shard: '-40' }] }), 'BAD_ARGUMENT', /has no shard -40/);
    await fails(ts.saveShardRoutingRules({ rules: [{ from_keyspace: 'commerce', to_keyspace: 'customer', shard: '-80' }, { from_keyspace: 'commerce', to_keyspace: 'customer', shard: '-80' }] }), 'BAD_ARGUMENT', /routed twice/);
    await fails(ts.saveShardRoutingRules({ rules: [{ from_keyspace: 'commerce', to_keyspace: 'commerce', shard: '-80' }] }), 'BAD_ARGUMENT', /its own keyspace/);
    assert.deepEqual(await ts.getShardRoutingRules(), { rules: [] });
    // Stored in shard order, then keyspace.
    const both = await ts.saveShardRoutingRules({ rules: [{ from_keyspace: 'commerce', to_keyspace: 'customer', shard: '80-' }, { from_keyspace: 'customer', to_keyspace: 'commerce', shard: '-80' }] });
    assert.deepEqual(both.rules.map((r) => `${r.from_keyspace}/${r.shard}`), ['customer/-80', 'commerce/80-']);
    const srr = await ts.saveShardRoutingRules({ rules: [{ from_keyspace: 'commerce', to_keyspace: 'customer', shards: '-80' }] });
    assert.deepEqual(srr, { rules: [{ from_keyspace: 'commerce', to_keyspace: 'customer', shard: '-80' }] });

    const srv = await ts.rebuildVSchemaGraph();
    assert.deepEqual(Object.keys(srv.keyspaces).sort(), ['commerce', 'customer']);
    assert.deepEqual(await ts.getSrvVSchema('zone1'), srv);
  });

  it('watchSrvVSchema sees each rebuild', async () => {
    const ts = await fresh();
    await ts.createKeyspace('commerce');
    await ts.rebuildVSchemaGraph();
    const ac = new AbortController();
    const w = await ts.watchSrvVSchema('zone1', ac.signal);
    assert.deepEqual(w.current.keyspaces, { commerce: {} });
    await ts.saveVSchema('commerce', COMMERCE_SEQ_VSCHEMA);
    await ts.rebuildVSchemaGraph();
    for await (const e of w.changes) {
      assert.equal(e.kind, 'changed');
      if (e.kind === 'changed') assert.ok('customer_seq' in ((e.value.keyspaces.commerce.tables ?? {}) as object));
      break;
    }
    ac.abort();
  });

  it('locks record holder and action, and exclude others', async () => {
    const ts = await fresh();
    await ts.createKeyspace('customer');
    const lock = await ts.lockKeyspace('customer', 'SwitchTraffic');
    assert.equal((await ts.keyspaceLockHolder('customer'))?.action, 'SwitchTraffic');
    await fails(ts.lockKeyspace('customer', 'Other'), 'TIMEOUT', /cannot lock keyspace customer for action Other.*SwitchTraffic/);
    // Locked actions compose: rebuilding under the caller's lock does not deadlock.
    await ts.createShard('customer', '0', lock);
    await ts.rebuildKeyspaceGraph('customer', { lock });
    const shardLock = await ts.lockShard('customer', '0', 'Reparent');
    await shardLock.unlock();
    await lock.unlock();
    assert.equal(await ts.keyspaceLockHolder('customer'), null);
  });

  it('deleteKeyspace: refused with shards, recursive removes everything', async () => {
    const ts = await fresh();
    await ts.createKeyspace('commerce');
    await ts.createShard('commerce', '0');
    await ts.saveVSchema('commerce', COMMERCE_SEQ_VSCHEMA);
    await ts.rebuildKeyspaceGraph('commerce');
    await ts.rebuildVSchemaGraph();
    await fails(ts.deleteKeyspace('commerce'), 'FAILED_PRECONDITION', /--recursive/);
    await ts.deleteKeyspace('commerce', { recursive: true });
    assert.deepEqual(await ts.getKeyspaceNames(), []);
    assert.deepEqual(await ts.getSrvKeyspaceNames('zone1'), []);
    assert.deepEqual((await ts.getSrvVSchema('zone1')).keyspaces, {});
  });
});
