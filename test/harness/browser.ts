// ctld's web UI in headless Chromium for tests: Debian's /usr/bin/chromium (or $TESSERA_CHROMIUM)
// driven by playwright-core, no browser downloaded. The browser is closed when the test process
// ends. Also `tessera ctl` against a ctld, whose output the tests compare with what the pages show.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { testRoot, track } from './processes.js';

const TESSERA = fileURLToPath(new URL('../../../bin/tessera', import.meta.url));
export const CHROMIUM = process.env.TESSERA_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** test-output/<name>/ at the repository's top, created; where a test's screenshots go. */
export function screenshotDir(name: string): string {
  const dir = fileURLToPath(new URL(`../../../test-output/${name}/`, import.meta.url));
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Headless Chromium with a profile under the test root; killed if the test process ends. */
export async function launchBrowser(): Promise<BrowserContext> {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/bootstrap.sh (installs Debian's chromium)`);
  const browser = await chromium.launchPersistentContext(mkdtempSync(join(testRoot(), 'chromium-')), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
  });
  track(() => void browser.close());
  return browser;
}

/** Opens (or navigates `page` to) the UI page `hash` of the ctld at `base`, once it has rendered. */
export async function openPage(browser: BrowserContext, base: string, hash: string, page?: Page): Promise<Page> {
  const p = page ?? (await browser.newPage());
  await p.goto(`${base}/${hash}`);
  const name = hash.replace(/^#\/?/, '').split('/')[0] || 'overview';
  await p.waitForSelector(`body[data-ready="true"][data-page="${name}"]`);
  return p;
}

export async function shot(page: Page, dir: string, name: string): Promise<void> {
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

/** Marks the page so that a test can tell later that it was not reloaded. */
export async function markNoReload(page: Page): Promise<void> {
  await page.evaluate(() => {
    (window as unknown as { tesseraNoReload: boolean }).tesseraNoReload = true;
  });
}

export async function wasNotReloaded(page: Page): Promise<boolean> {
  return (await page.evaluate(() => (window as unknown as { tesseraNoReload?: boolean }).tesseraNoReload)) === true;
}

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `tessera ctl --server <server> ...`, as a user runs it. */
export interface Ctl {
  run(...args: string[]): Promise<Run>;
  /** stdout of a command that must succeed. */
  ok(...args: string[]): Promise<string>;
  json<T>(...args: string[]): Promise<T>;
}

export function ctlAt(server: () => string): Ctl {
  const run = (...args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      execFile(process.execPath, [TESSERA, 'ctl', '--server', server(), ...args], { env: { ...process.env, TESSERA_LOG_LEVEL: 'warn' }, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      });
    });
  const ok = async (...args: string[]): Promise<string> => {
    const r = await run(...args);
    assert.equal(r.code, 0, `ctl ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  };
  return { run, ok, json: async <T>(...args: string[]): Promise<T> => JSON.parse(await ok(...args)) as T };
}
