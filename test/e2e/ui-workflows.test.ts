// The web UI's workflow pages against a real cluster (`tessera up --detach`, a cluster file of its
// own on free ports): a MoveTables (commerce -> customer) and a Reshard (shop 0 -> -80,80-)
// followed in headless Chromium. The copy's progress shows with its ETA while it runs (the copy is
// slowed with --config-overrides vstream-packet-size-rows and vreplication-copy-rows-per-second so that it runs for a while); a
// VDiff, the switches and a reverse are run from the page's buttons, each after a confirmation
// showing the command's --dry-run output, and the traffic state and routing rules on the page
// change after each switch as ctl prints them; a duplicate key on the reverse workflow's target
// puts it in Error, and its page shows the error and the log; a VDiff of the Reshard after rows
// were changed on a target shard shows its report with the differing rows' keys. Screenshots go to
// test-output/ui-workflows/ (printed at the start).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { ctlAt, launchBrowser, markNoReload, openPage as open, screenshotDir, shot as save, wasNotReloaded, type Run } from '../harness/browser.js';
import { startExtraTablets, type ExtraTablets } from '../harness/extra-tablets.js';
import { freePort, killByPath, testRoot, track } from '../harness/processes.js';

const TESSERA = fileURLToPath(new URL('../../../bin/tessera', import.meta.url));
const EXAMPLES = fileURLToPath(new URL('../../../examples/local/', import.meta.url));
const SHOTS = screenshotDir('ui-workflows');
/** Rows of the tables the workflows copy; with the rate cap below the copy takes several polls. */
const ROWS = 1000;
/** Copy batches of 20 rows, at most 50 rows a second: the copy of ROWS rows runs for about 25 s. */
const SLOW_COPY = ['--config-overrides', 'vstream-packet-size-rows=20', '--config-overrides', 'vreplication-copy-rows-per-second=50'];

const root = testRoot();
const dataRoot = path.join(root, 'ui-workflows-data');
const filesDir = path.join(root, 'ui-workflows-files');
let ctldPort = 0;
let gatePort = 0;
let browser: BrowserContext | undefined;
let base = '';
const ctl = ctlAt(() => `127.0.0.1:${ctldPort}`);
let extra: ExtraTablets | undefined;

function tessera(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [TESSERA, ...args], { env: { ...process.env, TESSERA_LOG_LEVEL: 'warn' }, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

async function writeClusterFile(): Promise<string> {
  fs.mkdirSync(filesDir, { recursive: true });
  for (const f of fs.readdirSync(EXAMPLES)) if (/\.(sql|json)$/.test(f)) fs.copyFileSync(path.join(EXAMPLES, f), path.join(filesDir, f));
  // More customers than the tutorial's five, so that the copy is seen running.
  const values = Array.from({ length: ROWS }, (_, i) => `(${i + 10}, 'user${i + 10}@domain.com')`).join(',\n');
  fs.writeFileSync(path.join(filesDir, 'more_customers.sql'), `insert into customer(customer_id, email) values\n${values};\n`);
  fs.writeFileSync(path.join(filesDir, 'shop_schema.sql'), 'create table item(id bigint not null, name varchar(64), primary key(id)) engine=InnoDB;\n');
  fs.writeFileSync(path.join(filesDir, 'shop_data.sql'), `insert into item(id, name) values\n${Array.from({ length: ROWS }, (_, i) => `(${i + 1}, 'item ${i + 1}')`).join(',\n')};\n`);
  fs.writeFileSync(
    path.join(filesDir, 'vschema_shop.json'),
    JSON.stringify({ sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { item: { column_vindexes: [{ column: 'id', name: 'hash' }] } } }, null, 2),
  );
  gatePort = await freePort();
  const gateHttp = await freePort();
  ctldPort = await freePort();
  const ctldGrpc = await freePort();
  const tablet = async (uid: number, type: string): Promise<string> => {
    const [mysqlPort, port, grpcPort] = [await freePort(), await freePort(), await freePort()];
    return `          - { uid: ${uid}, type: ${type}, mysqlPort: ${mysqlPort}, port: ${port}, grpcPort: ${grpcPort} }`;
  };
  const text = `# Written by test/e2e/ui-workflows.test.ts: a MoveTables source and target, and a keyspace to reshard.
cell: zone1
mode: combined
gate: { port: ${gatePort}, httpPort: ${gateHttp} }
ctld: { port: ${ctldPort}, grpcPort: ${ctldGrpc} }
keyspaces:
  commerce:
    vschema: vschema_commerce_initial.json
    schema: [create_commerce_schema.sql, create_commerce_seq.sql]
    data: [insert_commerce_data.sql, more_customers.sql]
    shards:
      "0":
        tablets:
${await tablet(100, 'primary')}
  customer:
    shards:
      "0":
        tablets:
${await tablet(200, 'primary')}
  shop:
    vschema: vschema_shop.json
    schema: shop_schema.sql
    data: shop_data.sql
    shards:
      "0":
        tablets:
${await tablet(300, 'primary')}
`;
  const file = path.join(filesDir, 'cluster.yaml');
  fs.writeFileSync(file, text);
  return file;
}

async function openPage(hash: string, page?: Page): Promise<Page> {
  assert.ok(browser);
  const p = await open(browser, base, hash, page);
  openPages.add(p);
  return p;
}

function shot(page: Page, name: string): Promise<void> {
  return save(page, SHOTS, name);
}

/** Clicks an action button, checks the dialog shows the dry run, runs it and waits for its output. */
async function runAction(page: Page, action: string, dryRun: RegExp, done: RegExp, name: string): Promise<string> {
  await page.locator(`button[data-action="${action}"]`).click();
  const dialog = page.locator('dialog#confirm');
  await page.waitForSelector('dialog#confirm[data-phase="confirm"], dialog#confirm[data-phase="failed"]');
  const dry = await dialog.locator('[data-dialog-output]').innerText();
  assert.equal(await dialog.getAttribute('data-phase'), 'confirm', `the dry run of ${action} failed:\n${dry}`);
  assert.match(dry, /^--dry-run:/);
  assert.match(dry, dryRun, `the dry run of ${action}`);
  await shot(page, `${name}-confirm`);
  await dialog.locator('[data-dialog-run]').click();
  await page.waitForSelector('dialog#confirm[data-phase="done"], dialog#confirm[data-phase="failed"]', { timeout: 120_000 });
  const out = await dialog.locator('[data-dialog-output]').innerText();
  assert.equal(await dialog.getAttribute('data-phase'), 'done', `${action} failed:\n${out}`);
  assert.match(out, done, `the output of ${action}`);
  await shot(page, `${name}-done`);
  await dialog.locator('[data-dialog-close]').click();
  return out;
}

async function trafficState(page: Page, want: string): Promise<void> {
  await page.waitForFunction((w) => document.querySelector('[data-traffic-state]')?.textContent === w, want, { timeout: 60_000 });
}

/** The page's routing rules table as {from: to[]}, against `ctl GetRoutingRules`. */
async function assertRulesAsCtl(page: Page): Promise<void> {
  const rr = await ctl.json<{ rules: Array<{ from_table: string; to_tables: string[] }> }>('GetRoutingRules');
  await page.waitForFunction((n) => document.querySelectorAll('table[data-rules="routing"] tbody tr').length === n, rr.rules.length);
  const rows = await page.locator('table[data-rules="routing"] tbody tr').evaluateAll((els) => els.map((e) => Array.from(e.querySelectorAll('td')).map((td) => td.textContent ?? '')));
  assert.deepEqual(rows, rr.rules.map((r) => [r.from_table, r.to_tables.join(', ')]));
}

/** The pages a test opened, screenshotted as `failed-*` when the test fails (to see what they showed). */
const openPages = new Set<Page>();

async function shotsOnFailure(name: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    let i = 0;
    for (const p of openPages) if (!p.isClosed()) await shot(p, `failed-${name}-${i++}`).catch(() => undefined);
    throw err;
  }
}

describe('the web UI follows a MoveTables and a Reshard (headless Chromium, tessera up)', () => {
  before(async () => {
    console.log(`screenshots: ${SHOTS}`);
    track(() => killByPath(dataRoot));
    const file = await writeClusterFile();
    const up = await tessera('up', '--detach', file, '--data-root', dataRoot);
    assert.equal(up.code, 0, `tessera up failed:\n${up.stdout}\n${up.stderr}`);
    base = `http://127.0.0.1:${ctldPort}`;
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await extra?.stop();
    const down = await tessera('down', '--data-root', dataRoot);
    killByPath(dataRoot);
    assert.equal(down.code, 0, `tessera down failed:\n${down.stdout}\n${down.stderr}`);
  });

  test('MoveTables: progress with rate and ETA while copying, VDiff, switch and reverse from the page, rules as ctl prints them', () => shotsOnFailure('movetables', async () => {
    // The page is open before the workflow exists, and follows it from its creation.
    const page = await openPage('#/workflow/customer/commerce2customer');
    await page.waitForSelector('[data-missing]');
    await markNoReload(page);
    await ctl.ok('MoveTables', '--workflow', 'commerce2customer', '--target-keyspace', 'customer', 'create', '--source-keyspace', 'commerce', '--tables', 'customer,corder', ...SLOW_COPY);
    await page.waitForSelector('[data-section="copy"]');
    // While copying: rows copied of the total, a rate and an ETA, updated by the page's polling.
    const row = 'tr[data-table="customer"]';
    await page.waitForFunction(
      (sel) => {
        const r = document.querySelector(sel);
        if (!r) return false;
        const rows = /^(\d+) \/ (\d+)/.exec(r.querySelector('[data-field="rows"]')?.textContent ?? '');
        const eta = r.querySelector('[data-field="eta"]')?.textContent ?? '';
        const rate = r.querySelector('[data-field="rate"]')?.textContent ?? '';
        return rows !== null && Number(rows[1]) > 0 && Number(rows[1]) < Number(rows[2]) && /^\d+(s|m)/.test(eta) && /rows\/s$/.test(rate);
      },
      row,
      { timeout: 60_000 },
    );
    const first = await page.locator(`${row} [data-field="rows"]`).innerText();
    assert.match(first, new RegExp(`/ ${ROWS + 5}$`), 'the total counts the source rows');
    await shot(page, 'movetables-copying');
    // Progress advances on the open page.
    const copied = Number(/^(\d+)/.exec(first)![1]);
    await page.waitForFunction(([sel, n]) => Number(/^(\d+)/.exec(document.querySelector(`${sel} [data-field="rows"]`)?.textContent ?? '')?.[1] ?? 0) > n || document.querySelector('[data-copy="none"]') !== null, [row, copied] as const, { timeout: 60_000 });
    // The streams per target shard, with their state as ctl shows it.
    assert.equal(await page.locator('[data-target-shard="0"] tr[data-stream]').count(), 1);

    // Copy done: the table list is empty and the stream runs.
    await page.waitForSelector('[data-copy="none"]', { timeout: 120_000 });
    await page.waitForSelector('[data-target-shard="0"] tr[data-stream][data-state="Running"]', { timeout: 60_000 });
    assert.ok(await wasNotReloaded(page), 'the page was reloaded');
    await trafficState(page, 'Reads Not Switched. Writes Not Switched');

    // The list of workflows shows it under its target keyspace.
    await openPage('#/workflows', page);
    await page.waitForSelector('[data-workflows="customer"] tr[data-workflow="commerce2customer"]');
    assert.equal(await page.locator('[data-workflows="customer"] tr[data-workflow="commerce2customer"] td[data-field="type"]').innerText(), 'MoveTables');
    assert.equal(await page.locator('[data-workflows="customer"] tr[data-workflow="commerce2customer"] td[data-field="states"]').innerText(), 'Running 1');
    await shot(page, 'movetables-list');
    await page.locator('[data-workflows="customer"] tr[data-workflow="commerce2customer"] a').click();
    await page.waitForSelector('body[data-page="workflow"] [data-section="copy"]');

    // VDiff from the page: the dry run names the shard; the report shows every row compared.
    await runAction(page, 'vdiff', /would create VDiff [0-9a-f-]+ on customer\/0/, /scheduled on target shards/, 'movetables-vdiff');
    await page.waitForSelector('[data-vdiff][data-state="completed"]', { timeout: 120_000 });
    const vd = await ctl.json<{ UUID: string; RowsCompared: number; HasMismatch: boolean }>('VDiff', '--workflow', 'commerce2customer', '--target-keyspace', 'customer', 'show', 'last', '--format', 'json');
    assert.equal(vd.HasMismatch, false);
    const vdiffBox = page.locator(`[data-vdiff="${vd.UUID}"]`);
    assert.equal(await vdiffBox.locator('b[data-field="rows_compared"]').innerText(), String(vd.RowsCompared));
    assert.equal(await vdiffBox.locator('b[data-field="has_mismatch"]').innerText(), 'false');
    await shot(page, 'movetables-vdiff-report');

    // Switch from the page: the confirmation shows the dry run's steps; afterwards the traffic
    // state and the rules are ctl's, and the history has the switch with its write pause.
    await runAction(page, 'switch', /dry run for workflow customer\.commerce2customer[\s\S]*Switch reads of corder,customer for tablet types replica,rdonly/, /Current State: All Reads Switched\. Writes Switched/, 'movetables-switch');
    const st = await ctl.json<{ traffic_state: string }>('MoveTables', '--workflow', 'commerce2customer', '--target-keyspace', 'customer', 'status', '--format', 'json');
    assert.equal(st.traffic_state, 'All Reads Switched. Writes Switched');
    await trafficState(page, st.traffic_state);
    await assertRulesAsCtl(page);
    await page.waitForSelector('table[data-switches] tr[data-switch="switchtraffic"][data-ok="true"]');
    assert.match(await page.locator('tr[data-switch="switchtraffic"] [data-field="write_pause"]').innerText(), /^\d+ ms$/);
    await shot(page, 'movetables-switched');

    // Reverse from the page, then switch again with ctl: the page follows both.
    await runAction(page, 'reverse', /dry run for workflow customer\.commerce2customer/, /Current State: Reads Not Switched\. Writes Not Switched/, 'movetables-reverse');
    await trafficState(page, 'Reads Not Switched. Writes Not Switched');
    await assertRulesAsCtl(page);
    await ctl.ok('MoveTables', '--workflow', 'commerce2customer', '--target-keyspace', 'customer', 'switchtraffic');
    await trafficState(page, 'All Reads Switched. Writes Switched');
    await assertRulesAsCtl(page);
    // The switch is recorded when it has finished, a moment after the traffic state changes: the
    // open page shows the third record on its next refresh.
    await page.waitForFunction(() => document.querySelectorAll('table[data-switches] tbody tr').length >= 3, undefined, { timeout: 30_000 });
    assert.equal(await page.locator('table[data-switches] tbody tr').count(), 3);
    await shot(page, 'movetables-history');
    await page.close();
  }));

  test('a duplicate key on the reverse workflow puts it in Error; its page shows the error and the log', () => shotsOnFailure('error', async () => {
    // A row that exists only in commerce's MariaDB; the same key written through the gate goes to
    // customer (its writes are switched) and replicates back to commerce: duplicate key.
    const mariadb = (args: string[], sql: string): Promise<Run> =>
      new Promise((resolve) => {
        execFile('mariadb', [...args, '--batch', '-e', sql], (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }));
      });
    const direct = await mariadb(['-S', path.join(dataRoot, 'vt_0000000100', 'mysql.sock'), '-u', 'vt_dba', 'vt_commerce'], "insert into customer(customer_id, email) values (99999, 'only-in-commerce@domain.com')");
    assert.equal(direct.code, 0, direct.stderr);
    const viaGate = await mariadb(['-h', '127.0.0.1', '-P', String(gatePort), '-u', 'user', 'customer'], "insert into customer(customer_id, email) values (99999, 'through-the-gate@domain.com')");
    assert.equal(viaGate.code, 0, viaGate.stderr);
    const page = await openPage('#/workflow/commerce/commerce2customer_reverse');
    const stream = '[data-target-shard="0"] tr[data-stream][data-state="Error"]';
    await page.waitForSelector(stream, { timeout: 60_000 });
    assert.match(await page.locator(`${stream} [data-field="message"]`).innerText(), /Duplicate entry/);
    // A reverse workflow shows its forward workflow's traffic state.
    assert.equal(await page.locator('[data-traffic-state]').innerText(), 'All Reads Switched. Writes Switched (of customer.commerce2customer)');
    const logs = await page.locator('table.logs tr[data-log-type="Error"]').allInnerTexts();
    assert.ok(logs.some((l) => /Duplicate entry/.test(l)), `the log shows the error: ${logs.join('\n')}`);
    // ctl says the same.
    const wf = await ctl.json<{ workflows: Array<{ shard_streams: Record<string, { streams: Array<{ state: string; message: string }> }> }> }>('GetWorkflows', '--workflow', 'commerce2customer_reverse', 'commerce');
    const s = Object.values(wf.workflows[0].shard_streams)[0].streams[0];
    assert.equal(s.state, 'Error');
    assert.match(s.message, /Duplicate entry/);
    await shot(page, 'movetables-reverse-error');
    // The list marks it too.
    await openPage('#/workflows', page);
    assert.match(await page.locator('[data-workflows="commerce"] tr[data-workflow="commerce2customer_reverse"] [data-field="error"]').innerText(), /Duplicate entry/);
    await shot(page, 'workflows-error');
    await page.close();
  }));

  test('Reshard: progress per target shard, stop and start, then switch from the page; the traffic state follows', () => shotsOnFailure('reshard', async () => {
    // The target shards' tablets, as the tutorial's 302_new_shards.sh starts them.
    extra = await startExtraTablets(dataRoot, ctl, [
      { uid: 400, keyspace: 'shop', shard: '-80', type: 'replica' },
      { uid: 500, keyspace: 'shop', shard: '80-', type: 'replica' },
    ]);
    await ctl.ok('Reshard', '--workflow', 'split', '--target-keyspace', 'shop', 'create', '--source-shards', '0', '--target-shards', '-80,80-', ...SLOW_COPY);
    const page = await openPage('#/workflow/shop/split');
    await markNoReload(page);
    await page.waitForSelector('[data-section="copy"]');
    await page.waitForSelector('[data-target-shard="-80"] tr[data-stream]');
    await page.waitForSelector('[data-target-shard="80-"] tr[data-stream]');
    await page.waitForFunction(() => {
      const r = document.querySelector('tr[data-table="item"]');
      const rows = /^(\d+) \/ (\d+)/.exec(r?.querySelector('[data-field="rows"]')?.textContent ?? '');
      return rows !== null && Number(rows[1]) > 0 && Number(rows[1]) < Number(rows[2]) && /^\d+(s|m)/.test(r?.querySelector('[data-field="eta"]')?.textContent ?? '');
    }, undefined, { timeout: 60_000 });
    await shot(page, 'reshard-copying');

    // Stop and start from the page: the dry run lists each stream that would change.
    await runAction(page, 'stop', /would set stream \d+ on shop\/-80 .* to Stopped/, /"summary"/, 'reshard-stop');
    await page.waitForFunction(() => Array.from(document.querySelectorAll('tr[data-stream]')).every((r) => (r as HTMLElement).dataset.state === 'Stopped'));
    await runAction(page, 'start', /would set stream \d+ on shop\/80- .* from Stopped to Running/, /"summary"/, 'reshard-start');

    await page.waitForSelector('[data-copy="none"]', { timeout: 120_000 });
    await page.waitForFunction(() => Array.from(document.querySelectorAll('tr[data-stream]')).every((r) => (r as HTMLElement).dataset.state === 'Running'), undefined, { timeout: 60_000 });
    await trafficState(page, 'Reads Not Switched. Writes Not Switched');

    // A VDiff that finds differences, from the page: on -80's primary (tablet 400), item 1 (hash
    // puts it in -80) gets another name, and item 100002 (also -80) exists there alone. The report
    // on the page names each differing row by its key, as `VDiff show` has it.
    const onTarget = (sql: string): Promise<Run> =>
      new Promise((resolve) => {
        execFile('mariadb', ['-S', path.join(dataRoot, 'vt_0000000400', 'mysql.sock'), '-u', 'vt_dba', 'vt_shop', '--batch', '-e', sql], (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }));
      });
    for (const sql of ["update item set name = 'changed on the target' where id = 1", "insert into item(id, name) values (100002, 'only on the target')"]) {
      const r = await onTarget(sql);
      assert.equal(r.code, 0, r.stderr);
    }
    await runAction(page, 'vdiff', /would create VDiff [0-9a-f-]+ on shop\/-80/, /scheduled on target shards/, 'reshard-vdiff');
    await page.waitForSelector('[data-vdiff][data-state="completed"]', { timeout: 120_000 });
    const vd = await ctl.json<{ UUID: string; HasMismatch: boolean }>('VDiff', '--workflow', 'split', '--target-keyspace', 'shop', 'show', 'last', '--format', 'json');
    assert.equal(vd.HasMismatch, true);
    const vdiffBox = page.locator(`[data-vdiff="${vd.UUID}"]`);
    assert.equal(await vdiffBox.locator('b[data-field="has_mismatch"]').innerText(), 'true');
    const diffs = await vdiffBox.locator('table[data-diffs] tbody tr').evaluateAll((els) => els.map((e) => Array.from(e.querySelectorAll('td')).map((td) => td.textContent ?? '')));
    const has = (kind: string, row: RegExp) => diffs.some(([table, shard, k, r]) => table === 'item' && shard === '-80' && k === kind && row.test(r));
    assert.ok(has('mismatched', /"id":"?1"?[,}]/), `item 1 is listed as mismatched: ${JSON.stringify(diffs)}`);
    assert.ok(has('extra on target', /"id":"?100002"?[,}]/), `item 100002 is listed as extra on the target: ${JSON.stringify(diffs)}`);
    assert.equal(diffs.length, 2, JSON.stringify(diffs));
    await vdiffBox.locator('table[data-diffs]').scrollIntoViewIfNeeded();
    await shot(page, 'reshard-vdiff-differences');
    // The target as the source has it again, before the switch.
    for (const sql of ["update item set name = 'item 1' where id = 1", 'delete from item where id = 100002']) {
      const r = await onTarget(sql);
      assert.equal(r.code, 0, r.stderr);
    }

    await runAction(page, 'switch', /would switch (rdonly|replica|primary) of shop from 0 to -80,80-/, /Current State: All Reads Switched\. Writes Switched/, 'reshard-switch');
    const st = await ctl.json<{ traffic_state: string }>('Workflow', '--keyspace', 'shop', '--workflow', 'split', 'status', '--format', 'json');
    assert.equal(st.traffic_state, 'All Reads Switched. Writes Switched');
    await trafficState(page, st.traffic_state);
    await page.waitForSelector('table[data-switches] tr[data-switch="switchtraffic"][data-ok="true"]');
    assert.match(await page.locator('tr[data-switch="switchtraffic"] [data-field="write_pause"]').innerText(), /^\d+ ms$/);
    // The serving shards moved: ctl's serving graph names the new shards for primary.
    const srv = await ctl.json<Record<string, { partitions: Array<{ served_type: string; shard_references: Array<{ name: string }> }> }>>('GetSrvKeyspaces', 'shop');
    assert.deepEqual(srv.zone1.partitions.find((p) => p.served_type === 'primary')?.shard_references.map((r) => r.name).sort(), ['-80', '80-']);
    assert.ok(await wasNotReloaded(page), 'the page was reloaded');
    await shot(page, 'reshard-switched');
    await page.close();
  }));
});
