// A cached, initialised data directory. mariadb-install-db takes seconds; copying a prepared
// directory takes milliseconds, which is what makes `init` + `start` of an instance sub-second and
// lets tests start many instances. The template is keyed by MariaDB's version and by the init SQL,
// so an upgrade or a change to the accounts builds a new one.
import { spawn, execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ER, TesseraError } from '../mysql/errors.js';
import { logger } from '../log/index.js';
import { mariadbBinaries } from './binaries.js';
import { INNODB_LOG_FILE_SIZE } from './config.js';
import { initSql } from './users.js';
import { probeServer } from './probe.js';
import { sleep, tailFile, waitForExit } from './process.js';

const execFileP = promisify(execFile);
const log = logger('mysqlctl');

/** Bound on building a template (install-db + one start/stop). */
export const TEMPLATE_BUILD_TIMEOUT_MS = 120_000;

export function cacheRoot(): string {
  return process.env.TESSERA_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'tessera');
}

function templateKey(version: string): string {
  const h = createHash('sha256').update(version).update(initSql()).update(INNODB_LOG_FILE_SIZE).digest('hex');
  return `mariadb-${version.replace(/[^A-Za-z0-9.-]/g, '_')}-${h.slice(0, 12)}`;
}

/** Returns the path of a ready template data directory, building it once if needed. */
export async function ensureTemplate(): Promise<string> {
  const bins = mariadbBinaries();
  const root = cacheRoot();
  const final = path.join(root, templateKey(bins.version));
  if (fs.existsSync(path.join(final, 'READY'))) return path.join(final, 'data');
  fs.mkdirSync(root, { recursive: true });
  // Several processes (parallel test files) may race here: each builds in its own directory and the
  // first rename wins; the others throw theirs away.
  const work = fs.mkdtempSync(path.join(root, '.build-'));
  try {
    await buildTemplate(work);
    fs.writeFileSync(path.join(work, 'READY'), `${bins.version}\n`);
    try {
      fs.renameSync(work, final);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  if (!fs.existsSync(path.join(final, 'READY'))) {
    throw new TesseraError(ER.UNKNOWN_ERROR, `template data directory ${final} could not be created`);
  }
  return path.join(final, 'data');
}

async function buildTemplate(work: string): Promise<void> {
  const bins = mariadbBinaries();
  const dataDir = path.join(work, 'data');
  const socket = path.join(work, 's.sock');
  const errLog = path.join(work, 'error.log');
  const asRoot = process.getuid?.() === 0;
  log.info({ work }, 'building MariaDB template data directory (once per MariaDB version)');
  const common = [`--innodb-log-file-size=${INNODB_LOG_FILE_SIZE}`, ...(asRoot ? ['--user=root'] : [])];
  try {
    await execFileP(
      bins.installDb,
      ['--no-defaults', `--datadir=${dataDir}`, '--auth-root-authentication-method=socket', '--skip-test-db', ...common],
      { timeout: TEMPLATE_BUILD_TIMEOUT_MS },
    );
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new TesseraError(ER.UNKNOWN_ERROR, `mariadb-install-db failed: ${e.stderr?.trim() || e.message}`);
  }
  const child = spawn(
    bins.mariadbd,
    [
      '--no-defaults',
      `--datadir=${dataDir}`,
      `--socket=${socket}`,
      '--skip-networking',
      '--skip-log-bin',
      `--log-error=${errLog}`,
      `--pid-file=${path.join(work, 'm.pid')}`,
      '--innodb-buffer-pool-size=32M',
      ...common,
    ],
    { stdio: 'ignore' },
  );
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  try {
    const deadline = Date.now() + TEMPLATE_BUILD_TIMEOUT_MS;
    for (;;) {
      if (exited) throw new TesseraError(ER.UNKNOWN_ERROR, `template MariaDB exited during start:\n${tailFile(errLog, 20)}`);
      if ((await probeServer(socket, 500)).ready) break;
      if (Date.now() > deadline) throw new TesseraError(ER.UNKNOWN_ERROR, `template MariaDB did not start:\n${tailFile(errLog, 20)}`);
      await sleep(50);
    }
    const user = asRoot ? 'root' : os.userInfo().username;
    await new Promise<void>((resolve, reject) => {
      const c = spawn(bins.client, ['--no-defaults', `--socket=${socket}`, `--user=${user}`, '--batch'], { stdio: ['pipe', 'ignore', 'pipe'] });
      let stderr = '';
      c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      c.on('error', reject);
      c.on('exit', (code) =>
        code === 0 ? resolve() : reject(new TesseraError(ER.UNKNOWN_ERROR, `creating Tessera's accounts failed: ${stderr.trim()}`)),
      );
      c.stdin.end(initSql());
    });
  } finally {
    if (!exited && child.pid) {
      child.kill('SIGTERM');
      if (!(await waitForExit(child.pid, 60_000))) child.kill('SIGKILL');
    }
  }
  for (const f of ['s.sock', 'm.pid', 'error.log']) fs.rmSync(path.join(work, f), { force: true });
}
