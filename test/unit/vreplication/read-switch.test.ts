// MoveTables' per-cell read switch on a memory topology (src/workflow/read-switch.ts): the routing
// rules and per-cell overrides it leaves, each cell's SrvVSchema after the rebuild, and the traffic
// state in Vitess's words.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { foldCellRoutingRules, openTopoServer, type TopoServer } from '../../../src/topo/index.js';
import { dropCellReadRules, readsRoutedTo, readsText, switchReadsInCells } from '../../../src/workflow/read-switch.js';

let seq = 0;
async function cluster(): Promise<TopoServer> {
  const topo = openTopoServer({ topoImplementation: 'memory', topoGlobalServerAddress: `read-switch-${process.pid}-${++seq}`, topoGlobalRoot: '/tessera/global' });
  for (const cell of ['zone1', 'zone2', 'zone3']) await topo.createCellInfo(cell, {});
  for (const ks of ['commerce', 'customer']) {
    await topo.createKeyspace(ks, {});
    await topo.saveVSchema(ks, { tables: { customer: {} } });
  }
  return topo;
}

const W = { sourceKeyspace: 'commerce', targetKeyspace: 'customer', tables: ['customer'] };
const at = async (topo: TopoServer, cell: string, from: string) => (await topo.getSrvVSchema(cell)).routing_rules.rules.find((r) => r.from_table === from)?.to_tables[0];

test('reads in some cells: overrides for those cells only, folded into their SrvVSchema; none once every cell agrees', async () => {
  const topo = await cluster();
  await switchReadsInCells(topo, W, ['replica', 'rdonly'], 'commerce', []);
  assert.deepEqual(await topo.getCellRoutingRules(), {}, 'every cell agrees: no override');
  assert.equal(readsText(await readsRoutedTo(topo, 'customer', 'customer')), 'Reads Not Switched');

  await switchReadsInCells(topo, W, ['replica', 'rdonly'], 'customer', ['zone2']);
  assert.equal(readsText(await readsRoutedTo(topo, 'customer', 'customer')), 'Reads partially switched. Replica switched in cells: zone2. Rdonly switched in cells: zone2');
  assert.equal((await topo.getRoutingRules()).rules.find((r) => r.from_table === 'customer@replica')?.to_tables[0], 'commerce.customer', 'the global rule stays');
  assert.deepEqual(Object.keys(await topo.getCellRoutingRules()), ['zone2']);
  assert.equal(await at(topo, 'zone1', 'customer@replica'), 'commerce.customer');
  assert.equal(await at(topo, 'zone2', 'customer@replica'), 'customer.customer');
  assert.equal(await at(topo, 'zone2', 'commerce.customer@rdonly'), 'customer.customer');

  await switchReadsInCells(topo, W, ['rdonly'], 'customer', ['zone1', 'zone3']);
  assert.equal(readsText(await readsRoutedTo(topo, 'customer', 'customer')), 'Reads partially switched. Replica switched in cells: zone2. All Rdonly Reads Switched');
  assert.equal((await topo.getRoutingRules()).rules.find((r) => r.from_table === 'customer@rdonly')?.to_tables[0], 'customer.customer', 'rdonly agrees everywhere: global');
  assert.ok(!(await topo.getCellRoutingRules()).zone2.rules.some((r) => r.from_table.endsWith('@rdonly')), 'and no rdonly override is left');

  await switchReadsInCells(topo, W, ['replica'], 'customer', ['zone1', 'zone3']);
  assert.equal(readsText(await readsRoutedTo(topo, 'customer', 'customer')), 'All Reads Switched');
  assert.deepEqual(await topo.getCellRoutingRules(), {});
  for (const cell of ['zone1', 'zone2', 'zone3']) assert.equal(await at(topo, cell, 'customer@replica'), 'customer.customer');
});

test('dropCellReadRules removes the overrides of the tables; an unknown cell is refused', async () => {
  const topo = await cluster();
  await switchReadsInCells(topo, W, ['replica'], 'customer', ['zone3']);
  assert.equal(readsText(await readsRoutedTo(topo, 'customer', 'customer')), 'Reads partially switched. Replica switched in cells: zone3. Rdonly not switched');
  assert.equal(await dropCellReadRules(topo, W), true);
  assert.deepEqual(await topo.getCellRoutingRules(), {});
  assert.equal(await dropCellReadRules(topo, W), false);
  await assert.rejects(topo.updateCellRoutingRules((m) => void (m.nowhere = { rules: [{ from_table: 'customer@replica', to_tables: ['customer.customer'] }] })), /nowhere/);
});

test('foldCellRoutingRules replaces rules by from_table and adds new ones; no overrides leaves the SrvVSchema as it is', () => {
  const srv = { keyspaces: {}, routing_rules: { rules: [{ from_table: 'a', to_tables: ['x.a'] }, { from_table: 'b', to_tables: ['x.b'] }] }, shard_routing_rules: { rules: [] }, keyspace_routing_rules: { rules: [] } };
  assert.equal(foldCellRoutingRules(srv as never, undefined), srv);
  const out = foldCellRoutingRules(srv as never, { rules: [{ from_table: 'b', to_tables: ['y.b'] }, { from_table: 'c', to_tables: ['y.c'] }] });
  assert.deepEqual(out.routing_rules.rules.map((r) => `${r.from_table}->${r.to_tables[0]}`), ['a->x.a', 'b->y.b', 'c->y.c']);
  assert.deepEqual(srv.routing_rules.rules.length, 2, 'the global one is not changed');
});
