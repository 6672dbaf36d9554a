// `tessera ctl` commands that reach tablets, through a real `tessera ctld` child process: ctld finds
// each tablet in the (file) topology and calls its tablet manager over RPC. The tablets run in this
// process on the same topology, each with its own MariaDB.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openTopoServer, type TopoServer } from '../../../src/topo/index.js';
import type { TabletProcess } from '../../../src/tablet/index.js';
import { freePort, testRoot } from '../../harness/processes.js';
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

async function okJson<T>(...args: string[]): Promise<T> {
  return JSON.parse(await ok(...args)) as T;
}

async function bad(want: RegExp, ...args: string[]): Promise<string> {
  const r = await ctl(...args);
  assert.notEqual(r.code, 0, `ctl ${args.join(' ')} should fail`);
  assert.equal(r.stdout, '', 'a failed command prints nothing on stdout');
  assert.match(r.stderr, want);
  return r.stderr;
}

interface Fetch {
  fields: string[];
  rows: (string | null)[][];
  rows_affected: number;
}

before(async () => {
  const dir = mkdtempSync(join(testRoot(), 'ctld-tablets-'));
  ctld = await startCtld('file', dir);
  topo = openTopoServer({ topoImplementation: 'file', topoGlobalServerAddress: dir, topoGlobalRoot: '/tessera/global' });
  await topo.createCellInfo('zone1', {});
  await topo.createKeyspace('commerce');
  await topo.createKeyspace('customer');
  await topo.createShard('commerce', '0');
  await topo.createShard('customer', '-80');
  await topo.createShard('customer', '80-');
  // Started one after the other: 2 cores. A replica started after its primary follows it at once.
  for (const [uid, keyspace, shard, tabletType] of [
    [500, 'commerce', '0', 'primary'],
    [501, 'commerce', '0', 'replica'],
    [600, 'customer', '-80', 'primary'],
    [700, 'customer', '80-', 'primary'],
  ] as const) {
    tablets.push(await startTestTablet({ uid, cell: 'zone1', keyspace, shard, tabletType, topo }));
  }
});

after(async () => {
  for (const t of tablets) await t.stop({ stopMysql: true });
  await topo.close();
  await ctld.stop();
});

test('PingTablet, ApplySchema per shard, ExecuteFetchAsDBA/App, GetSchema', async () => {
  assert.equal(await ok('PingTablet', 'zone1-500'), '');
  const commerce = await okJson<{ shards: { shard: string; tablet: string; statements: number }[] }>(
    'ApplySchema',
    '--sql',
    'create table product(sku varbinary(128) primary key, description varbinary(128), price bigint)',
    'commerce',
  );
  assert.deepEqual(commerce.shards, [{ shard: '0', tablet: 'zone1-0000000500', statements: 1 }]);

  const file = join(testRoot(), `${process.pid}-customer.sql`);
  writeFileSync(
    file,
    'create table customer(customer_id bigint primary key, email varbinary(128));\ncreate table corder(order_id bigint primary key, customer_id bigint, sku varbinary(128), price bigint);\n',
  );
  const customer = await okJson<{ shards: { shard: string; statements: number }[] }>('ApplySchema', '--sql-file', file, 'customer');
  assert.deepEqual(
    customer.shards.map((s) => [s.shard, s.statements]),
    [
      ['-80', 2],
      ['80-', 2],
    ],
  );

  const ins = await okJson<Fetch>('ExecuteFetchAsDBA', 'zone1-500', "insert into product values ('SKU-1001', 'Monitor', 100), ('SKU-1002', 'Keyboard', 30)");
  assert.equal(ins.rows_affected, 2);
  // The older spelling, and a row limit that says which flag to raise.
  const sel = await okJson<Fetch>('ExecuteFetchAsDba', 'zone1-500', 'select sku, price from product order by sku');
  assert.deepEqual(sel.fields, ['sku', 'price']);
  assert.deepEqual(sel.rows, [
    ['SKU-1001', '100'],
    ['SKU-1002', '30'],
  ]);
  await bad(/exceed --max-rows 1/, 'ExecuteFetchAsDBA', '--max-rows', '1', 'zone1-500', 'select * from product');
  // --disable-binlogs: the row exists on the primary only.
  await ok('ExecuteFetchAsDBA', '--disable-binlogs', 'zone1-700', "insert into customer values (1, 'local@example.com')");
  const app = await okJson<Fetch>('ExecuteFetchAsApp', 'zone1-700', 'select email from customer');
  assert.deepEqual(app.rows, [['local@example.com']]);
  // As vt_app on a read-only replica: refused by MariaDB (the query service serves replicas reads only).
  await bad(/read-only|read_only|not serving|wrong tablet type/i, 'ExecuteFetchAsApp', 'zone1-501', "insert into product values ('x', 'y', 1)");

  const schema = await okJson<{ schema: { table_definitions: { name: string; schema: string; primary_key_columns: string[] }[] } }>('GetSchema', 'zone1-600');
  assert.deepEqual(schema.schema.table_definitions.map((d) => d.name), ['corder', 'customer']);
  assert.match(schema.schema.table_definitions[1].schema, /^CREATE TABLE `customer`/);
  assert.deepEqual(schema.schema.table_definitions[1].primary_key_columns, ['customer_id']);
  assert.equal(await ok('GetSchema', '--tables', '/^cust/', '--table-names-only', 'zone1-600'), 'customer\n');
});

test('CopySchemaShard from a shard or a tablet; a conflicting definition copies nothing', async () => {
  const r = await okJson<{ copied: string[]; already_present: string[]; destination_tablet: string }>('CopySchemaShard', '--tables', 'product', 'commerce/0', 'customer/-80');
  assert.deepEqual(r.copied, ['product']);
  assert.equal(r.destination_tablet, 'zone1-0000000600');
  const again = await okJson<{ copied: string[]; already_present: string[] }>('CopySchemaShard', '--tables', 'product', 'commerce/0', 'customer/-80');
  assert.deepEqual(again, { ...again, copied: [], already_present: ['product'] });
  await ok('ExecuteFetchAsDBA', 'zone1-700', 'create table product (sku int primary key)');
  await bad(/product already exist on customer\/80- \(zone1-0000000700\) with a different definition/, 'CopySchemaShard', 'zone1-500', 'customer/80-');
  assert.equal(await ok('GetSchema', '--table-names-only', 'zone1-600'), 'corder\ncustomer\nproduct\n');
});

test('ApplySchema reports every shard when one fails', async () => {
  await ok('ExecuteFetchAsDBA', 'zone1-600', 'create table only600 (id int primary key)');
  const err = await bad(/ApplySchema failed on 1 of 2 shard\(s\) of customer/, 'ApplySchema', '--sql', 'create table only600 (id int primary key)', 'customer');
  assert.match(err, /customer\/-80 on zone1-0000000600: ERROR 1050 \(42S01\)/);
  assert.match(err, /customer\/80- on zone1-0000000700: applied 1 statement\(s\)/);
});

test('ChangeTabletType, SetWritable, ReloadSchema*, RefreshState*, GetTablets --replication', async () => {
  const changed = await okJson<{ before_tablet: { type: string }; after_tablet: { type: string }; was_dry_run: boolean }>('ChangeTabletType', 'zone1-501', 'rdonly');
  assert.equal(changed.before_tablet.type, 'replica');
  assert.equal(changed.after_tablet.type, 'rdonly');
  assert.equal((await okJson<{ type: string }>('GetTablet', 'zone1-501')).type, 'rdonly');
  const dry = await okJson<{ after_tablet: { type: string }; was_dry_run: boolean }>('ChangeTabletType', '--dry-run', 'zone1-501', 'spare');
  assert.deepEqual([dry.after_tablet.type, dry.was_dry_run], ['spare', true]);
  await ok('ChangeTabletType', 'zone1-501', 'replica');
  await bad(/cannot make zone1-0000000501 primary: use PlannedReparentShard/, 'ChangeTabletType', 'zone1-501', 'primary');
  await bad(/zone1-0000000500 is the primary of commerce\/0/, 'ChangeTabletType', 'zone1-500', 'replica');

  await ok('SetWritable', 'zone1-501', 'true');
  assert.deepEqual((await okJson<Fetch>('ExecuteFetchAsDBA', 'zone1-501', 'select @@global.read_only')).rows, [['0']]);
  await ok('SetWritable', 'zone1-501', 'false');
  assert.deepEqual((await okJson<Fetch>('ExecuteFetchAsDBA', 'zone1-501', 'select @@global.read_only')).rows, [['1']]);

  assert.equal(await ok('ReloadSchema', 'zone1-501'), '');
  assert.deepEqual(await okJson('ReloadSchemaKeyspace', 'commerce'), { reloaded: ['zone1-0000000501'] });
  assert.deepEqual(await okJson('ReloadSchemaKeyspace', '--include-primary', 'customer'), { reloaded: ['zone1-0000000600', 'zone1-0000000700'] });
  assert.deepEqual(await okJson('ReloadSchemaShard', '--include_primary', 'commerce/0'), { reloaded: ['zone1-0000000500', 'zone1-0000000501'] });

  assert.equal(await ok('RefreshState', 'zone1-500'), '');
  assert.deepEqual(await okJson('RefreshStateByShard', 'commerce/0'), { is_partial_refresh: false, partial_refresh_details: '' });

  const lines = (await ok('GetTablets', '--keyspace', 'commerce', '--replication')).trim().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0], /^zone1-0000000500 commerce 0 primary .* serving=true lag=0s error=""$/);
  assert.match(lines[1], /^zone1-0000000501 commerce 0 replica .* lag=(\d+s|unknown) error=/);
});

test('errors: unknown tablet, unreachable tablet (with its address), bad arguments', async () => {
  await bad(/tablet zone1-0000000999 not found/, 'PingTablet', 'zone1-999');
  await bad(/tablet zone1-0000000999 not found/, 'ExecuteFetchAsDBA', 'zone1-999', 'select 1');
  const port = await freePort();
  await ok('InitTablet', '--keyspace', 'commerce', '--shard', '0', '--hostname', '127.0.0.1', '--grpc-port', String(port), 'zone1-502', 'replica');
  await bad(new RegExp(`tablet zone1-0000000502 \\(commerce/0 replica\\) is unreachable at 127\\.0\\.0\\.1:${port}`), 'PingTablet', 'zone1-502');
  const refresh = await okJson<{ is_partial_refresh: boolean; partial_refresh_details: string }>('RefreshStateByShard', 'commerce/0');
  assert.equal(refresh.is_partial_refresh, true);
  assert.match(refresh.partial_refresh_details, /zone1-0000000502 .* unreachable/);
  await ok('DeleteTablets', 'zone1-502');
  await bad(/SetWritable wants true or false/, 'SetWritable', 'zone1-500', 'yes');
  await bad(/give exactly one of --sql and --sql-file/, 'ApplySchema', 'commerce');
  await bad(/keyspace nosuch/, 'ApplySchema', '--sql', 'select 1', 'nosuch');
});

test('reparents through ctl: InitShardMaster -force, PlannedReparentShard (both spellings), ShardReplicationPositions, refusals', async () => {
  const init = await okJson<{ primary: string }>('InitShardMaster', '-force', 'commerce/0', 'zone1-500');
  assert.equal(init.primary, 'zone1-0000000500');
  const prs = await okJson<{ primary: string; previous_primary: string }>('PlannedReparentShard', 'commerce/0', '--new-primary', 'zone1-501');
  assert.deepEqual([prs.primary, prs.previous_primary], ['zone1-0000000501', 'zone1-0000000500']);
  assert.match(await ok('GetTablets', '--keyspace', 'commerce'), /zone1-0000000500 commerce 0 replica .*\nzone1-0000000501 commerce 0 primary /);
  const back = await okJson<{ primary: string }>('PlannedReparentShard', '-keyspace_shard=commerce/0', '-new_master=zone1-500');
  assert.equal(back.primary, 'zone1-0000000500');
  const pos = await okJson<{ replication_statuses: Record<string, { tablet_type: string; position: string; sql_running: boolean }> }>('ShardReplicationPositions', 'commerce/0');
  assert.equal(pos.replication_statuses['zone1-0000000500'].tablet_type, 'primary');
  assert.equal(pos.replication_statuses['zone1-0000000501'].sql_running, true);
  assert.match(pos.replication_statuses['zone1-0000000501'].position, /^MariaDB\/0-\d+-\d+$/);

  await bad(/tablet zone1-0000000600 is in customer\/-80, not in commerce\/0/, 'PlannedReparentShard', 'commerce/0', '--new-primary', 'zone1-600');
  await bad(/tablet zone1-0000000999 not found/, 'EmergencyReparentShard', 'commerce/0', '--new-primary', 'zone1-999');
  await bad(/already has primary zone1-0000000500/, 'InitShardPrimary', 'commerce/0', 'zone1-501');
  await bad(/give the shard as <keyspace\/shard> or --keyspace-shard/, 'PlannedReparentShard');
  await bad(/unknown durability policy 'async'/, 'SetKeyspaceDurabilityPolicy', '--durability-policy', 'async', 'commerce');
});
