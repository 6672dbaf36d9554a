// The ctld web UI in headless Chromium (Debian's /usr/bin/chromium driven by playwright-core):
// a real `tessera ctld` child process on the file topology, populated with `tessera ctl` as a user
// would, each page loaded and what it shows checked against what `tessera ctl` prints. Tablets are
// registered with InitTablet; small HTTP servers in this process stand in for their /debug/health
// until real tablets are started here. Screenshots go to test-output/ui/.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { startCtld, type Ctld } from '../integration/ctld/session.js';
import { ctlAt, launchBrowser, markNoReload, openPage as open, screenshotDir, shot as save, wasNotReloaded } from '../harness/browser.js';
import { freePort, testRoot, track } from '../harness/processes.js';

const SHOTS = screenshotDir('ui');

interface HealthBody {
  serving: boolean;
  reason: string;
  tabletType: string;
  replicationLagSeconds: number | null;
  replicationError: string | null;
  at: string;
}

/** Stands in for a tablet's HTTP port: answers GET /debug/health with `body`, until stopped. */
interface HealthStandIn {
  readonly port: number;
  body: HealthBody;
  stop(): Promise<void>;
}

async function startHealthStandIn(body: HealthBody): Promise<HealthStandIn> {
  const s: { body: HealthBody } = { body };
  const srv: Server = createServer((req, res) => {
    if (req.url !== '/debug/health') {
      res.writeHead(404).end();
      return;
    }
    const text = JSON.stringify({ ...s.body, at: new Date().toISOString() });
    res.writeHead(200, { 'content-type': 'application/json' }).end(text);
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const untrack = track(() => srv.close());
  const addr = srv.address();
  assert.ok(addr && typeof addr === 'object');
  return {
    port: addr.port,
    get body() {
      return s.body;
    },
    set body(b: HealthBody) {
      s.body = b;
    },
    async stop() {
      untrack();
      srv.closeAllConnections();
      await new Promise<void>((resolve) => srv.close(() => resolve()));
    },
  };
}

function health(tabletType: string, fields: Partial<HealthBody> = {}): HealthBody {
  return { serving: true, reason: '', tabletType, replicationLagSeconds: tabletType === 'primary' ? null : 0, replicationError: null, at: '', ...fields };
}

let ctld: Ctld;
let browser: BrowserContext;
let base = '';
const standIns = new Map<string, HealthStandIn>();

const tessera = ctlAt(() => `127.0.0.1:${ctld.port}`);
const ctl = tessera.run;
const ok = tessera.ok;
const okJson = tessera.json;

function openPage(hash: string, page?: Page): Promise<Page> {
  return open(browser, base, hash, page);
}

function shot(page: Page, name: string): Promise<void> {
  return save(page, SHOTS, name);
}

const COMMERCE_VSCHEMA = { tables: { customer_seq: { type: 'sequence' }, order_seq: { type: 'sequence' }, product: {} } };
const CUSTOMER_VSCHEMA = {
  sharded: true,
  vindexes: { hash: { type: 'hash' } },
  tables: {
    customer: { column_vindexes: [{ column: 'customer_id', name: 'hash' }], auto_increment: { column: 'customer_id', sequence: 'customer_seq' } },
    corder: { column_vindexes: [{ column: 'customer_id', name: 'hash' }], auto_increment: { column: 'order_id', sequence: 'order_seq' } },
  },
};

// alias, keyspace, shard, type, and the health its stand-in answers (none: nothing listens there).
const TABLETS: ReadonlyArray<readonly [string, string, string, string, HealthBody | null]> = [
  ['zone1-100', 'commerce', '0', 'primary', health('primary')],
  ['zone1-101', 'commerce', '0', 'replica', health('replica', { replicationLagSeconds: 3 })],
  ['zone1-102', 'commerce', '0', 'rdonly', null],
  ['zone1-200', 'customer', '-80', 'primary', health('primary')],
  ['zone1-201', 'customer', '-80', 'replica', health('replica', { serving: false, reason: 'replication is catching up' })],
  ['zone1-300', 'customer', '80-', 'primary', health('primary')],
  ['zone1-301', 'customer', '80-', 'replica', health('replica', { replicationLagSeconds: null, replicationError: 'Last_IO_Error: cannot connect to primary' })],
];

describe('ctld web UI in headless Chromium', () => {
  before(async () => {
    const root = testRoot();
    ctld = await startCtld('file', join(root, 'ui-topo'));
    base = `http://127.0.0.1:${ctld.port}`;

    await ok('AddCellInfo', 'zone1');
    await ok('CreateKeyspace', 'commerce');
    await ok('CreateKeyspace', '--durability-policy', 'semi_sync', 'customer');
    await ok('CreateKeyspace', 'customer2');
    await ok('CreateShard', 'commerce/0');
    await ok('CreateShard', 'customer/-80');
    await ok('CreateShard', 'customer/80-');
    // A resharding target of customer/80-: created not serving, drawn in its own lane.
    await ok('CreateShard', 'customer/80-c0');
    await ok('CreateShard', 'customer2/-80');
    for (const [alias, keyspace, shard, type, body] of TABLETS) {
      let port: number;
      if (body) {
        const s = await startHealthStandIn(body);
        standIns.set(alias, s);
        port = s.port;
      } else {
        port = await freePort(); // nothing listens: unreachable
      }
      const uid = Number(alias.split('-')[1]);
      await ok('InitTablet', '--keyspace', keyspace, '--shard', shard, '--hostname', '127.0.0.1', '--port', String(port), '--mysql-port', String(17000 + uid), alias, type);
    }
    const dir = mkdtempSync(join(root, 'ui-'));
    const file = (name: string, v: unknown): string => {
      const p = join(dir, name);
      writeFileSync(p, JSON.stringify(v));
      return p;
    };
    await ok('ApplyVSchema', '--vschema-file', file('commerce.json', COMMERCE_VSCHEMA), 'commerce');
    await ok('ApplyVSchema', '--vschema-file', file('customer.json', CUSTOMER_VSCHEMA), 'customer');
    await ok('ApplyRoutingRules', '--rules', JSON.stringify({ rules: [{ from_table: 'customer.customer@replica', to_tables: ['commerce.customer'] }, { from_table: 'product', to_tables: ['commerce.product'] }] }));
    await ok('ApplyShardRoutingRules', '--rules', JSON.stringify({ rules: [{ from_keyspace: 'customer', to_keyspace: 'customer2', shard: '-80' }] }));
    await ok('RebuildKeyspaceGraph', 'commerce', 'customer');

    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    for (const s of standIns.values()) await s.stop();
    await ctld?.stop();
  });

  test('overview: every keyspace, its shards on the key space, and every tablet as ctl prints them', async () => {
    const page = await openPage('#/');
    const keyspaces = (await okJson<Array<{ name: string }>>('GetKeyspaces')).map((k) => k.name);
    assert.deepEqual(await page.locator('section.keyspace').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.keyspace)), keyspaces);

    for (const ks of keyspaces) {
      const shards = await okJson<Record<string, { shard: { key_range: { start: string; end: string }; is_primary_serving: boolean } }>>('FindAllShardsInKeyspace', ks);
      const segs = await page.locator(`.keybar[data-keyspace="${ks}"] .seg`).evaluateAll((els) =>
        els.map((e) => {
          const el = e as HTMLElement;
          return { name: el.dataset.shard, serving: el.dataset.serving, left: parseFloat(el.style.left), width: parseFloat(el.style.width) };
        }),
      );
      assert.deepEqual(segs.map((s) => s.name).sort(), Object.keys(shards).sort(), `shards of ${ks}`);
      for (const seg of segs) {
        const s = shards[seg.name ?? ''].shard;
        assert.equal(seg.serving, String(s.is_primary_serving), `${ks}/${seg.name} serving`);
        const start = s.key_range.start === '' ? 0 : (parseInt(s.key_range.start.padEnd(8, '0').slice(0, 8), 16) / 0x100000000) * 100;
        const end = s.key_range.end === '' ? 100 : (parseInt(s.key_range.end.padEnd(8, '0').slice(0, 8), 16) / 0x100000000) * 100;
        assert.ok(Math.abs(seg.left - start) < 0.01 && Math.abs(seg.width - (end - start)) < 0.01, `${ks}/${seg.name} drawn at ${seg.left}%+${seg.width}%`);
      }
    }
    // Serving shards of commerce and customer cover the key space once; customer2 has a gap.
    assert.equal(await page.locator('.keybar[data-keyspace="commerce"] [data-coverage]').getAttribute('data-coverage'), 'ok');
    assert.equal(await page.locator('.keybar[data-keyspace="customer"] [data-coverage]').getAttribute('data-coverage'), 'ok');
    assert.equal(await page.locator('.keybar[data-keyspace="customer2"] [data-coverage]').getAttribute('data-coverage'), 'bad');
    assert.match(await page.locator('.keybar[data-keyspace="customer2"] [data-coverage]').innerText(), /gap 80–ff/);
    // The not-serving target 80-c0 is in a second lane of customer's bar.
    assert.equal(await page.locator('.keybar[data-keyspace="customer"] .lane[data-lane="1"] .seg[data-shard="80-c0"]').count(), 1);

    // Tablets: each line of `ctl GetTablets` is a row with the same alias, shard, type, addresses.
    const lines = (await ok('GetTablets')).trim().split('\n');
    assert.equal(lines.length, TABLETS.length);
    for (const line of lines) {
      const [alias, keyspace, shard, type, http, mysql] = line.split(' ');
      const row = page.locator(`section.keyspace[data-keyspace="${keyspace}"] tr[data-tablet="${alias}"]`);
      assert.equal(await row.count(), 1, `row of ${alias}`);
      const cell = (f: string): Promise<string> => row.locator(`td[data-field="${f}"]`).innerText();
      assert.equal(await cell('alias'), alias);
      assert.equal(await cell('shard'), shard);
      assert.equal(await cell('type'), type);
      assert.equal(await cell('http'), http);
      assert.equal(await cell('mysql'), mysql);
    }
    const stateOf = (alias: string): Promise<string | null> => page.locator(`tr[data-tablet="${alias}"] td[data-field="health"]`).getAttribute('data-state');
    assert.equal(await stateOf('zone1-0000000100'), 'healthy');
    assert.equal(await stateOf('zone1-0000000101'), 'healthy');
    assert.equal(await page.locator('tr[data-tablet="zone1-0000000101"] td[data-field="lag"]').innerText(), '3s');
    assert.equal(await stateOf('zone1-0000000102'), 'unreachable');
    assert.equal(await stateOf('zone1-0000000201'), 'not_serving');
    assert.equal(await page.locator('tr[data-tablet="zone1-0000000201"] td[data-field="serving"]').innerText(), 'not serving');
    assert.equal(await stateOf('zone1-0000000301'), 'unhealthy');
    assert.match(await page.locator('tr[data-tablet="zone1-0000000301"] td[data-field="health"]').innerText(), /cannot connect to primary/);
    await shot(page, 'overview');
    await page.close();
  });

  test('keyspace page: the VSchema and serving graph as ctl prints them', async () => {
    const page = await openPage('#/keyspace/customer');
    const shown = JSON.parse(await page.locator('pre[data-vschema="customer"]').innerText()) as unknown;
    assert.deepEqual(shown, await okJson('GetVSchema', 'customer'));
    const srv = await okJson<Record<string, { partitions: Array<{ served_type: string; shard_references: Array<{ name: string }> }> }>>('GetSrvKeyspaces', 'customer');
    const rows = await page.locator('[data-srv-cell="zone1"] tbody tr').evaluateAll((els) => els.map((e) => Array.from(e.querySelectorAll('td')).map((td) => td.textContent)));
    assert.deepEqual(
      rows,
      srv.zone1.partitions.map((p) => [p.served_type, p.shard_references.map((r) => r.name).join(' ')]),
    );
    const primary = await page.locator('tr[data-shard-row="-80"] td[data-field="primary"]').innerText();
    const shard = await okJson<{ shard: { primary_alias: { cell: string; uid: number } | null } }>('GetShard', 'customer/-80');
    assert.equal(primary, shard.shard.primary_alias ? `${shard.shard.primary_alias.cell}-${String(shard.shard.primary_alias.uid).padStart(10, '0')}` : 'none');
    await shot(page, 'keyspace-customer');
    await page.close();
  });

  test('VSchema & rules page: routing rules, shard routing rules and every VSchema as ctl prints them', async () => {
    const page = await openPage('#/rules');
    const rr = await okJson<{ rules: Array<{ from_table: string; to_tables: string[] }> }>('GetRoutingRules');
    const shownRr = await page.locator('table[data-rules="routing"] tbody tr').evaluateAll((els) => els.map((e) => Array.from(e.querySelectorAll('td')).map((td) => td.textContent)));
    assert.deepEqual(shownRr, rr.rules.map((r) => [r.from_table, r.to_tables.join(', ')]));
    const srr = await okJson<{ rules: Array<{ from_keyspace: string; to_keyspace: string; shard: string }> }>('GetShardRoutingRules');
    const shownSrr = await page.locator('table[data-rules="shard"] tbody tr').evaluateAll((els) => els.map((e) => Array.from(e.querySelectorAll('td')).map((td) => td.textContent)));
    assert.deepEqual(shownSrr, srr.rules.map((r) => [r.from_keyspace, r.shard, r.to_keyspace]));
    for (const ks of ['commerce', 'customer']) {
      assert.deepEqual(JSON.parse(await page.locator(`pre[data-vschema="${ks}"]`).innerText()), await okJson('GetVSchema', ks));
    }
    assert.equal(await page.locator('pre[data-vschema="customer2"]').count(), 0, 'customer2 has no VSchema');
    await shot(page, 'rules');
    await page.close();
  });

  test('tablet page: details as ctl GetTablet prints them, and its health', async () => {
    const page = await openPage('#/tablet/zone1-0000000101');
    const t = await okJson<{ keyspace: string; shard: string; type: string; hostname: string; port_map: { vt: number; grpc: number }; mysql_hostname: string; mysql_port: number }>('GetTablet', 'zone1-101');
    const field = (section: string, f: string): Promise<string> => page.locator(`[data-section="${section}"] dd[data-field="${f}"]`).innerText();
    assert.equal(await field('details', 'alias'), 'zone1-0000000101');
    assert.equal(await field('details', 'keyspace'), t.keyspace);
    assert.equal(await field('details', 'shard'), t.shard);
    assert.equal(await field('details', 'type'), t.type);
    assert.equal(await field('details', 'http'), `${t.hostname}:${t.port_map.vt}`);
    assert.equal(await field('details', 'grpc'), `${t.hostname}:${t.port_map.grpc}`);
    assert.equal(await field('details', 'mysql'), `${t.mysql_hostname}:${t.mysql_port}`);
    assert.deepEqual(JSON.parse(await page.locator('pre[data-tablet-json]').innerText()), t);
    assert.equal(await field('health', 'state'), 'healthy');
    assert.equal(await field('health', 'serving'), 'serving');
    assert.equal(await field('health', 'lag'), '3s');
    assert.equal(await field('health', 'reported_type'), 'replica');
    await shot(page, 'tablet-zone1-101');
    // The same report through ctl.
    const rep = await okJson<{ alias: string; health: { state: string; replication_lag_seconds: number } }>('GetTabletHealth', 'zone1-101');
    assert.equal(rep.alias, 'zone1-0000000101');
    assert.equal(rep.health.state, 'healthy');
    assert.equal(rep.health.replication_lag_seconds, 3);
    await page.close();
  });

  test('a tablet that stops answering turns unreachable on the open page without a reload', async () => {
    const page = await openPage('#/');
    const health = page.locator('tr[data-tablet="zone1-0000000200"] td[data-field="health"]');
    assert.equal(await health.getAttribute('data-state'), 'healthy');
    await markNoReload(page);
    const s = standIns.get('zone1-200');
    assert.ok(s);
    await s.stop();
    await page.waitForSelector('tr[data-tablet="zone1-0000000200"] td[data-field="health"][data-state="unreachable"]');
    assert.ok(await wasNotReloaded(page), 'the page was reloaded');
    assert.match(await health.innerText(), /unreachable/);
    await shot(page, 'overview-tablet-down');

    // Its page shows the change in its recent health.
    await openPage('#/tablet/zone1-0000000200', page);
    assert.equal(await page.locator('[data-section="health"] dd[data-field="state"]').innerText(), 'unreachable');
    const events = await page.locator('table[data-events] tbody tr td:nth-child(2)').allInnerTexts();
    assert.deepEqual(events.slice(0, 2), ['unreachable', 'healthy']);
    await shot(page, 'tablet-zone1-200-down');
    const rep = await okJson<{ health: { state: string } }>('GetTabletHealth', 'zone1-200');
    assert.equal(rep.health.state, 'unreachable');
    await page.close();
  });

  test('status page and metrics', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/debug/status`);
    const text = await page.locator('body').innerText();
    assert.match(text, /tessera ctld/);
    assert.match(text, new RegExp(`listening\\s+${ctld.port}, ${ctld.grpcPort}`));
    assert.match(text, /3 keyspaces \(commerce, customer, customer2\); 7 tablets/);
    assert.match(text, /ClusterOverview\s+ok/);
    await shot(page, 'status');
    await page.close();
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /tessera_ctld_requests_total\{command="ClusterOverview",code="ok"\} \d+/);
    assert.match(metrics, /tessera_ctld_requests_total\{command="GetShard",code="ok"\} \d+/);
    assert.match(metrics, /tessera_ctld_request_duration_seconds_count\{command="GetTablets"\} \d+/);
    assert.match(metrics, /tessera_ctld_tablet_health_checks_total\{state="unreachable"\} \d+/);
    assert.match(metrics, /process_cpu_user_seconds_total/);
    // A failing command counts as a topology error with its code.
    assert.notEqual((await ctl('GetKeyspace', 'nosuch')).code, 0);
    const after = await (await fetch(`${base}/metrics`)).text();
    assert.match(after, /tessera_ctld_topo_errors_total\{command="GetKeyspace",code="NO_NODE"\} 1/);
  });
});
