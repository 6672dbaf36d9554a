// MoveTables as a user types it: the real `tessera ctl` against a `tessera ctld` child process, in
// the seeds' vtctlclient spelling and in vtctldclient's, with the text both print. The tablets
// run in this process on the same (file) topology, each with its own MariaDB.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openTopoServer, type TopoServer } from '../../../src/topo/index.js';
import type { TabletProcess } from '../../../src/tablet/index.js';
import { testRoot } from '../../harness/processes.js';
import { startTestTablet } from '../../harness/tablet.js';
import { startCtld, type Ctld } from './session.js';

const TESSERA = fileURLToPath(new URL('../../../../bin/tessera', import.meta.url));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let ctld: Ctld;
let topo: TopoServer;
const tablets: TabletProcess[] = [];

function ctl(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [TESSERA, 'ctl', '--server', `127.0.0.1:${ctld.grpcPort}`, ...args], { env: { ...process.env, TESSERA_LOG_LEVEL: 'warn' } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

async function ok(...args: string[]): Promise<string> {
  const r = await ctl(...args);
  assert.equal(r.code, 0, `ctl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

before(async () => {
  const dir = mkdtempSync(join(testRoot(), 'ctld-movetables-'));
  ctld = await startCtld('file', dir);
  topo = openTopoServer({ topoImplementation: 'file', topoGlobalServerAddress: dir, topoGlobalRoot: '/tessera/global' });
  await topo.createCellInfo('zone1', {});
  await topo.createKeyspace('commerce');
  await topo.createKeyspace('customer');
  await topo.createShard('commerce', '0');
  await topo.createShard('customer', '0');
  for (const [uid, keyspace] of [
    [100, 'commerce'],
    [200, 'customer'],
  ] as const) {
    tablets.push(await startTestTablet({ uid, cell: 'zone1', keyspace, shard: '0', tabletType: 'primary', topo }));
  }
  await tablets[0].manager.applySchema(
    'CREATE TABLE customer (customer_id bigint NOT NULL AUTO_INCREMENT, email varbinary(128), PRIMARY KEY (customer_id));' +
      'CREATE TABLE corder (order_id bigint NOT NULL AUTO_INCREMENT, customer_id bigint, sku varbinary(128), price bigint, PRIMARY KEY (order_id));' +
      "INSERT INTO customer (email) VALUES ('alice@domain.com'), ('bob@domain.com');" +
      "INSERT INTO corder (customer_id, sku, price) VALUES (1, 'SKU-1001', 100), (2, 'SKU-1002', 30)",
  );
  await ok('ApplyVSchema', '--vschema', '{"tables":{"customer":{},"corder":{}}}', 'commerce');
});

after(async () => {
  for (const t of tablets) await t.stop({ stopMysql: true });
  await topo.close();
  await ctld.stop();
});

test('MoveTables through tessera ctl: the seeds\' spelling and vtctldclient\'s, text output', async () => {
  const bad = await ctl('MoveTables', '--workflow', 'x', '--target-keyspace', 'customer', 'create', '--source-keyspace', 'commerce', '--tables', 'nosuch');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^ERROR 1146 \(42S02\): table nosuch does not exist in source keyspace commerce/);

  const atomic = await ctl('MoveTables', '--workflow', 'x', '--target-keyspace', 'customer', 'create', '--source-keyspace', 'commerce', '--tables', 'customer,corder', '--atomic-copy');
  assert.equal(atomic.code, 1);
  // As vtctldclient: --atomic-copy copies every table, so it needs --all-tables and no --tables.
  assert.match(atomic.stderr, /^ERROR 1210 \(HY000\): --atomic-copy copies every table of the source keyspace from one snapshot: it requires --all-tables; it does not take --tables or --exclude-tables/);
  const mode = await ctl('MoveTables', '--workflow', 'x', '--target-keyspace', 'customer', 'create', '--source-keyspace', 'commerce', '--tables', 'customer', '--sharded-auto-increment-handling', 'maybe');
  assert.match(mode.stderr, /--sharded-auto-increment-handling: maybe is not LEAVE, REMOVE or REPLACE/);

  const created = await ok('MoveTables', '--', '-source', 'commerce', '--tables', 'customer,corder', 'Create', 'customer.commerce2customer');
  assert.match(created, /^Successfully created the commerce2customer MoveTables workflow on \(1\) target primary tablets in the customer keyspace/);
  const rules = JSON.parse(await ok('GetRoutingRules')) as { rules: { from_table: string; to_tables: string[] }[] };
  assert.equal(rules.rules.length, 16);
  assert.ok(rules.rules.every((r) => r.to_tables[0] === `commerce.${r.from_table.replace(/^.*\./, '').replace(/@.*$/, '')}`));

  const end = Date.now() + 60_000;
  let status = '';
  while (Date.now() < end) {
    status = await ok('MoveTables', '--workflow', 'commerce2customer', '--target-keyspace', 'customer', 'status');
    if (/Status: Running/.test(status) && !/Table copy progress/.test(status)) break;
    await new Promise((r) => setTimeout(r, 300));
  }
  assert.match(status, /^The following vreplication streams exist for workflow customer.commerce2customer:/);
  assert.match(status, /Traffic State: Reads Not Switched. Writes Not Switched\n$/);
  assert.match(await ok('MoveTables', '--', 'Progress', 'customer.commerce2customer'), /Status: Running/);

  const reads = await ok('SwitchReads', '--', '--tablet_types=rdonly,replica', 'customer.commerce2customer');
  assert.match(reads, /^SwitchTraffic was successful for workflow customer.commerce2customer\n\nStart State: Reads Not Switched. Writes Not Switched\nCurrent State: All Reads Switched. Writes Not Switched\n$/);

  const dry = await ok('MoveTables', '--workflow', 'commerce2customer', '--target-keyspace', 'customer', 'SwitchTraffic', '--tablet-types', 'primary', '--dry-run');
  assert.match(dry, /Deny writes to customer,corder|Deny writes to corder,customer/);
  assert.match(dry, /Current State: All Reads Switched. Writes Not Switched/);
  assert.match(dry, /Write the journal on the commerce primaries: the point of no return/);

  const writes = await ok('SwitchWrites', 'customer.commerce2customer', '--timeout', '20s');
  assert.match(writes, /Current State: All Reads Switched. Writes Switched\n\nWrite pause: \d+ ms\n/);
  assert.match(writes, /  route writes to customer: \d+ ms/);

  const json = JSON.parse(await ok('MoveTables', '--workflow', 'commerce2customer', '--target-keyspace', 'customer', 'status', '--format', 'json')) as { traffic_state: string };
  assert.equal(json.traffic_state, 'All Reads Switched. Writes Switched');

  assert.match(await ok('MoveTables', '--', '--rename_tables', 'Complete', 'customer.commerce2customer'), /^Successfully completed the commerce2customer workflow in the customer keyspace\n$/);
  const left = JSON.parse(await ok('ExecuteFetchAsDBA', 'zone1-100', 'SHOW TABLES')) as { rows: string[][] };
  assert.deepEqual(left.rows.map((r) => r[0]).sort(), ['_corder_old', '_customer_old']);
  assert.deepEqual(JSON.parse(await ok('GetRoutingRules')), { rules: [] });
  assert.deepEqual(JSON.parse(await ok('GetWorkflows', 'customer')), { workflows: [] });
});
