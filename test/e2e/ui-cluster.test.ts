// ctld's web UI against a real cluster: `tessera up --detach` with a cluster file of its own (free
// ports for the gate, ctld and every tablet, so it never clashes with local-cluster.test.ts on the
// default ports): keyspace commerce unsharded (primary, replica, rdonly) with the tutorial's schema
// and rows, and customer sharded -80/80- by hash (a primary and a replica each). Each page is loaded
// in headless Chromium and checked against `tessera ctl` output; then the MariaDB of customer/80-'s
// primary is killed with SIGKILL and the open page shows the tablet not serving, without a reload.
// `tessera down` stops it all and no process is left under the data root. Screenshots go to
// test-output/ui-cluster/.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { ctlAt, launchBrowser, markNoReload, openPage as open, screenshotDir, shot as save, wasNotReloaded, type Run } from '../harness/browser.js';
import { freePort, killByPath, testRoot, track, processesUnder as harnessProcessesUnder } from '../harness/processes.js';

const TESSERA = fileURLToPath(new URL('../../../bin/tessera', import.meta.url));
const EXAMPLES = fileURLToPath(new URL('../../../examples/local/', import.meta.url));
const SHOTS = screenshotDir('ui-cluster');

// keyspace, shard, uid, type: the cluster this file brings up.
const TABLETS: ReadonlyArray<readonly [string, string, number, 'primary' | 'replica' | 'rdonly']> = [
  ['commerce', '0', 100, 'primary'],
  ['commerce', '0', 101, 'replica'],
  ['commerce', '0', 102, 'rdonly'],
  ['customer', '-80', 200, 'primary'],
  ['customer', '-80', 201, 'replica'],
  ['customer', '80-', 300, 'primary'],
  ['customer', '80-', 301, 'replica'],
];
const VICTIM = 'zone1-0000000300'; // customer/80-'s primary: its MariaDB is killed in the last test

const root = testRoot();
const dataRoot = path.join(root, 'ui-cluster-data');
const filesDir = path.join(root, 'ui-cluster-files');
const mysqlPorts = new Map<number, number>();
let ctldPort = 0;
let gatePort = 0;
let browser: BrowserContext | undefined;
let base = '';
const ctl = ctlAt(() => `127.0.0.1:${ctldPort}`);

function tessera(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [TESSERA, ...args], { env: { ...process.env, TESSERA_LOG_LEVEL: 'warn' }, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Live processes (not zombies) whose command line names `dir`. */
function processesUnder(dir: string): string[] {
  return harnessProcessesUnder(dir).map((p) => `${p.pid} ${p.cmd.slice(0, 160)}`);
}

async function writeClusterFile(): Promise<string> {
  fs.mkdirSync(filesDir, { recursive: true });
  for (const f of fs.readdirSync(EXAMPLES)) if (/\.(sql|json)$/.test(f)) fs.copyFileSync(path.join(EXAMPLES, f), path.join(filesDir, f));
  gatePort = await freePort();
  const gateHttp = await freePort();
  ctldPort = await freePort();
  const ctldGrpc = await freePort();
  const tabletLines = new Map<string, string[]>();
  for (const [ks, shard, uid, type] of TABLETS) {
    const [mysqlPort, port, grpcPort] = [await freePort(), await freePort(), await freePort()];
    mysqlPorts.set(uid, mysqlPort);
    const key = `${ks}/${shard}`;
    tabletLines.set(key, [...(tabletLines.get(key) ?? []), `          - { uid: ${uid}, type: ${type}, mysqlPort: ${mysqlPort}, port: ${port}, grpcPort: ${grpcPort} }`]);
  }
  const shards = (ks: string, names: string[]): string =>
    names.map((s) => `      "${s}":\n        tablets:\n${(tabletLines.get(`${ks}/${s}`) ?? []).join('\n')}`).join('\n');
  const text = `# Written by test/e2e/ui-cluster.test.ts: the tutorial's commerce and a sharded customer, on free ports.
cell: zone1
mode: combined
# The last test watches a killed MariaDB's tablet stay not serving: no restart.
mysqlRestart: false
gate: { port: ${gatePort}, httpPort: ${gateHttp} }
ctld: { port: ${ctldPort}, grpcPort: ${ctldGrpc} }
keyspaces:
  commerce:
    vschema: vschema_commerce_initial.json
    schema: [create_commerce_schema.sql, create_commerce_seq.sql]
    data: insert_commerce_data.sql
    shards:
${shards('commerce', ['0'])}
  customer:
    vschema: vschema_customer_sharded.json
    schema: create_customer_sharded.sql
    shards:
${shards('customer', ['-80', '80-'])}
`;
  const file = path.join(filesDir, 'cluster.yaml');
  fs.writeFileSync(file, text);
  return file;
}

function openPage(hash: string, page?: Page): Promise<Page> {
  assert.ok(browser);
  return open(browser, base, hash, page);
}

function shot(page: Page, name: string): Promise<void> {
  return save(page, SHOTS, name);
}

const aliasOf = (uid: number): string => `zone1-${String(uid).padStart(10, '0')}`;

interface ShardsJson {
  [name: string]: { shard: { key_range: { start: string; end: string }; is_primary_serving: boolean; primary_alias: { cell: string; uid: number } | null } };
}

/** `ctl GetTablets --replication`: per alias the line's fields and the serving the tablet reports. */
async function ctlTablets(): Promise<Map<string, { keyspace: string; shard: string; type: string; http: string; mysql: string; serving: string }>> {
  const out = new Map<string, { keyspace: string; shard: string; type: string; http: string; mysql: string; serving: string }>();
  for (const line of (await ctl.ok('GetTablets', '--replication')).trim().split('\n')) {
    const [alias, keyspace, shard, type, http, mysql] = line.split(' ');
    const serving = /serving=(true|false)/.exec(line)?.[1] ?? 'unknown';
    out.set(alias, { keyspace, shard, type, http, mysql, serving: serving === 'true' ? 'serving' : 'not serving' });
  }
  return out;
}

describe('ctld web UI against a real cluster (tessera up) in headless Chromium', () => {
  before(async () => {
    track(() => killByPath(dataRoot));
    const file = await writeClusterFile();
    const up = await tessera('up', '--detach', file, '--data-root', dataRoot);
    assert.equal(up.code, 0, `tessera up failed:\n${up.stdout}\n${up.stderr}`);
    assert.match(up.stdout, /The cluster is up\./);
    assert.match(up.stdout, new RegExp(`mariadb -h 127\\.0\\.0\\.1 -P ${gatePort} -u user commerce`));
    assert.match(up.stdout, new RegExp(`http://127\\.0\\.0\\.1:${ctldPort}/`));
    base = `http://127.0.0.1:${ctldPort}`;
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    const down = await tessera('down', '--data-root', dataRoot);
    const left = processesUnder(dataRoot);
    killByPath(dataRoot);
    assert.equal(down.code, 0, `tessera down failed:\n${down.stdout}\n${down.stderr}`);
    assert.match(down.stdout, /Stopped\./);
    assert.deepEqual(left, [], 'tessera down left processes under the data root');
  });

  test('overview: keyspaces, shards on the key space and every tablet (type, serving, MariaDB address) as ctl prints them', async () => {
    const page = await openPage('#/');
    // Right after `up` a replica may still be catching up: wait until the page shows all healthy.
    await page.waitForFunction((n) => document.querySelectorAll('tr[data-tablet] td[data-field="health"][data-state="healthy"]').length === n, TABLETS.length);

    const keyspaces = (await ctl.json<Array<{ name: string }>>('GetKeyspaces')).map((k) => k.name);
    assert.deepEqual(keyspaces, ['commerce', 'customer']);
    assert.deepEqual(await page.locator('section.keyspace').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.keyspace)), keyspaces);
    for (const ks of keyspaces) {
      const shards = await ctl.json<ShardsJson>('FindAllShardsInKeyspace', ks);
      const segs = await page.locator(`.keybar[data-keyspace="${ks}"] .seg`).evaluateAll((els) =>
        els.map((e) => ({ name: (e as HTMLElement).dataset.shard ?? '', serving: (e as HTMLElement).dataset.serving })),
      );
      assert.deepEqual(segs.map((s) => s.name).sort(), Object.keys(shards).sort(), `shards of ${ks}`);
      for (const seg of segs) assert.equal(seg.serving, String(shards[seg.name].shard.is_primary_serving), `${ks}/${seg.name} serving`);
      assert.equal(await page.locator(`.keybar[data-keyspace="${ks}"] [data-coverage]`).getAttribute('data-coverage'), 'ok');
    }
    assert.deepEqual(Object.keys(await ctl.json<ShardsJson>('FindAllShardsInKeyspace', 'customer')).sort(), ['-80', '80-']);

    const tablets = await ctlTablets();
    assert.deepEqual([...tablets.keys()].sort(), TABLETS.map(([, , uid]) => aliasOf(uid)).sort());
    for (const [ks, shard, uid, type] of TABLETS) {
      const alias = aliasOf(uid);
      const t = tablets.get(alias);
      assert.ok(t);
      assert.deepEqual([t.keyspace, t.shard, t.type, t.mysql], [ks, shard, type, `127.0.0.1:${mysqlPorts.get(uid)}`], `ctl's view of ${alias}`);
      const row = page.locator(`section.keyspace[data-keyspace="${ks}"] tr[data-tablet="${alias}"]`);
      assert.equal(await row.count(), 1, `row of ${alias}`);
      const cell = (f: string): Promise<string> => row.locator(`td[data-field="${f}"]`).innerText();
      assert.equal(await cell('alias'), alias);
      assert.equal(await cell('shard'), t.shard);
      assert.equal(await cell('type'), t.type);
      assert.equal(await cell('serving'), t.serving, `serving of ${alias}`);
      assert.equal(await cell('mysql'), t.mysql);
      assert.equal(await cell('http'), t.http);
    }
    await shot(page, 'overview');
    await page.close();
  });

  test('keyspace page: the sharded VSchema, serving graph and shard primaries as ctl prints them', async () => {
    const page = await openPage('#/keyspace/customer');
    assert.deepEqual(JSON.parse(await page.locator('pre[data-vschema="customer"]').innerText()), await ctl.json('GetVSchema', 'customer'));
    const srv = await ctl.json<Record<string, { partitions: Array<{ served_type: string; shard_references: Array<{ name: string }> }> }>>('GetSrvKeyspaces', 'customer');
    const rows = await page.locator('[data-srv-cell="zone1"] tbody tr').evaluateAll((els) => els.map((e) => Array.from(e.querySelectorAll('td')).map((td) => td.textContent)));
    assert.deepEqual(rows, srv.zone1.partitions.map((p) => [p.served_type, p.shard_references.map((r) => r.name).join(' ')]));
    const shards = await ctl.json<ShardsJson>('FindAllShardsInKeyspace', 'customer');
    for (const [name, { shard }] of Object.entries(shards)) {
      assert.ok(shard.primary_alias, `customer/${name} has a primary`);
      const row = page.locator(`tr[data-shard-row="${name}"]`);
      assert.equal(await row.locator('td[data-field="primary"]').innerText(), aliasOf(shard.primary_alias.uid));
      assert.equal(await row.locator('td[data-field="serving"]').innerText(), shard.is_primary_serving ? 'serving' : 'not serving');
      assert.equal(await row.locator('td[data-field="tablets"]').innerText(), String(TABLETS.filter(([ks, s]) => ks === 'customer' && s === name).length));
    }
    await shot(page, 'keyspace-customer');
    await page.close();
  });

  test('VSchema & rules page: both VSchemas and the (empty) routing rules as ctl prints them', async () => {
    const page = await openPage('#/rules');
    for (const ks of ['commerce', 'customer']) {
      assert.deepEqual(JSON.parse(await page.locator(`pre[data-vschema="${ks}"]`).innerText()), await ctl.json('GetVSchema', ks), `VSchema of ${ks}`);
    }
    const rr = await ctl.json<{ rules: Array<{ from_table: string; to_tables: string[] }> }>('GetRoutingRules');
    assert.equal(await page.locator('table[data-rules="routing"] tbody tr').count(), rr.rules.length);
    const srr = await ctl.json<{ rules: unknown[] }>('GetShardRoutingRules');
    assert.equal(await page.locator('table[data-rules="shard"] tbody tr').count(), srr.rules.length);
    await shot(page, 'rules');
    await page.close();
  });

  test('tablet page: a replica as ctl GetTablet prints it, healthy and serving', async () => {
    const page = await openPage('#/tablet/zone1-0000000201');
    const t = await ctl.json<{ keyspace: string; shard: string; type: string; hostname: string; port_map: { vt: number; grpc: number }; mysql_hostname: string; mysql_port: number }>('GetTablet', 'zone1-201');
    const field = (section: string, f: string): Promise<string> => page.locator(`[data-section="${section}"] dd[data-field="${f}"]`).innerText();
    assert.equal(await field('details', 'alias'), 'zone1-0000000201');
    assert.equal(await field('details', 'keyspace'), t.keyspace);
    assert.equal(await field('details', 'shard'), t.shard);
    assert.equal(await field('details', 'type'), t.type);
    assert.equal(await field('details', 'http'), `${t.hostname}:${t.port_map.vt}`);
    assert.equal(await field('details', 'grpc'), `${t.hostname}:${t.port_map.grpc}`);
    assert.equal(await field('details', 'mysql'), `${t.mysql_hostname}:${t.mysql_port}`);
    assert.equal(t.mysql_port, mysqlPorts.get(201));
    assert.deepEqual(JSON.parse(await page.locator('pre[data-tablet-json]').innerText()), t);
    assert.equal(await field('health', 'state'), 'healthy');
    assert.equal(await field('health', 'serving'), 'serving');
    assert.equal(await field('health', 'reported_type'), 'replica');
    assert.match(await field('health', 'lag'), /^\d+s$/);
    const rep = await ctl.json<{ health: { state: string; serving: boolean; tablet_type: string } }>('GetTabletHealth', 'zone1-201');
    assert.deepEqual([rep.health.state, rep.health.serving, rep.health.tablet_type], ['healthy', true, 'replica']);
    await shot(page, 'tablet-zone1-201');
    await page.close();
  });

  test("a tablet whose MariaDB is killed (kill -9) turns not serving on the open page without a reload", async () => {
    const page = await openPage('#/');
    const sel = `tr[data-tablet="${VICTIM}"] td[data-field="health"]`;
    await page.waitForSelector(`${sel}[data-state="healthy"]`);
    await markNoReload(page);

    const pidFile = path.join(dataRoot, 'vt_0000000300', 'mysql.pid');
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    assert.ok(Number.isInteger(pid) && pid > 0, `pid in ${pidFile}`);
    assert.match(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /mariadbd|mysqld/);
    process.kill(pid, 'SIGKILL');

    await page.waitForSelector(`${sel}[data-state="not_serving"]`);
    assert.ok(await wasNotReloaded(page), 'the page was reloaded');
    assert.match(await page.locator(sel).innerText(), /MariaDB is unreachable/);
    assert.equal(await page.locator(`tr[data-tablet="${VICTIM}"] td[data-field="serving"]`).innerText(), 'not serving');
    // The others in the same keyspace's other shard are untouched.
    assert.equal(await page.locator('tr[data-tablet="zone1-0000000200"] td[data-field="health"]').getAttribute('data-state'), 'healthy');
    await shot(page, 'overview-mariadb-killed');

    // ctl sees the same: the tablet answers, not serving, with the reason.
    const rep = await ctl.json<{ health: { state: string; serving: boolean; reason: string } }>('GetTabletHealth', VICTIM);
    assert.deepEqual([rep.health.state, rep.health.serving], ['not_serving', false]);
    assert.match(rep.health.reason, /MariaDB is unreachable/);
    assert.equal((await ctlTablets()).get(VICTIM)?.serving, 'not serving');

    // Its page shows the change in its recent health.
    await openPage(`#/tablet/${VICTIM}`, page);
    assert.equal(await page.locator('[data-section="health"] dd[data-field="state"]').innerText(), 'not serving');
    const events = await page.locator('table[data-events] tbody tr td:nth-child(2)').allInnerTexts();
    assert.deepEqual(events.slice(0, 2), ['not serving', 'healthy']);
    await shot(page, 'tablet-zone1-300-mariadb-killed');
    await page.close();
  });
});
