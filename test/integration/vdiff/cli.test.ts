// VDiff as a user types it: the real `tessera ctl` against a `tessera ctld` child process — the
// seeds' `VDiff <keyspace>.<workflow>` (create, wait, summary), vtctldclient's create --wait, show
// in text and JSON, repair --output, and the refusals with exit code 1. The tablets run in this
// process on the same (file) topology, each with its own MariaDB.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openTopoServer, type TopoServer } from '../../../src/topo/index.js';
import type { TabletProcess } from '../../../src/tablet/index.js';
import { testRoot } from '../../harness/processes.js';
import { startTestTablet } from '../../harness/tablet.js';
import { startCtld, type Ctld } from '../ctld/session.js';

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
  const dir = mkdtempSync(join(testRoot(), 'ctld-vdiff-'));
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

test('VDiff through tessera ctl', async () => {
  await ok('MoveTables', '--workflow', 'commerce2customer', '--target-keyspace', 'customer', 'create', '--source-keyspace', 'commerce', '--tables', 'customer,corder');
  for (let i = 0; ; i++) {
    const st = JSON.parse(await ok('Workflow', '--keyspace', 'customer', 'status', '--workflow', 'commerce2customer', '--format', 'json')) as {
      table_copy_state: object;
      shard_streams: Record<string, { streams: { status: string }[] }>;
    };
    const streams = Object.values(st.shard_streams).flatMap((s) => s.streams);
    if (Object.keys(st.table_copy_state).length === 0 && streams.length > 0 && streams.every((s) => s.status === 'Running')) break;
    assert.ok(i < 300, 'the copy did not finish');
    await new Promise((r) => setTimeout(r, 200));
  }

  // The seeds' form: creates, waits, prints the summary.
  const seed = await ok('VDiff', '--', 'customer.commerce2customer');
  assert.match(seed, /^VDiff Summary for customer\.commerce2customer \([0-9a-f-]{36}\)\nState:        completed\nRowsCompared: 4\nHasMismatch:  false\n/);
  assert.match(seed, /\nTable customer:\n\tState:            completed\n\tProcessedRows:    2\n\tMatchingRows:     2\n/);

  const created = await ok('VDiff', '--workflow', 'commerce2customer', '--target-keyspace', 'customer', 'create', '--wait', '--max-report-sample-rows', '0');
  assert.match(created, /^VDiff [0-9a-f-]{36} scheduled on target shards, use show to view progress\nVDiff Summary for customer\.commerce2customer/);
  const uuid = /^VDiff ([0-9a-f-]{36})/.exec(created)![1];
  const json = JSON.parse(await ok('VDiff', '--workflow', 'commerce2customer', '--target-keyspace', 'customer', 'show', 'last', '--format', 'json')) as Record<string, unknown>;
  assert.equal(json.UUID, uuid);
  assert.equal(json.RowsCompared, 4);
  assert.equal(json.HasMismatch, false);
  const file = join(testRoot(), `repair-${uuid}.sql`);
  assert.equal(await ok('VDiff', '--workflow', 'commerce2customer', '--target-keyspace', 'customer', 'repair', uuid, '--output', file), `Repair script written to ${file}\n`);
  assert.match(readFileSync(file, 'utf8'), /No differing rows were recorded: nothing to repair/);

  const badUuid = await ctl('VDiff', '--workflow', 'commerce2customer', '--target-keyspace', 'customer', 'show', 'abc');
  assert.equal(badUuid.code, 1);
  assert.match(badUuid.stderr, /^ERROR 1210 \(HY000\): invalid UUID 'abc'/);
  const badAction = await ctl('VDiff', '--workflow', 'commerce2customer', '--target-keyspace', 'customer', 'frob');
  assert.equal(badAction.code, 1);
  assert.match(badAction.stderr, /unknown action 'frob'; usage: VDiff --workflow W --target-keyspace K create\|show\|stop\|resume\|delete\|repair/);
  const dup = await ctl('VDiff', '--workflow', 'commerce2customer', '--target-keyspace', 'customer', 'create', uuid);
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /^ERROR 1062 \(23000\): VDiff with UUID .* already exists/);
  const nosuch = await ctl('VDiff', '--workflow', 'nosuch', '--target-keyspace', 'customer', 'create');
  assert.equal(nosuch.code, 1);
  assert.match(nosuch.stderr, /workflow nosuch not found in keyspace customer/);
  assert.equal(await ok('VDiff', '--workflow', 'commerce2customer', '--target-keyspace', 'customer', 'delete', 'all'), 'VDiff all deleted\n');
});
