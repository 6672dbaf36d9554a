// MariaDB's own regression suite as the measure of the gate (issue 24): `mariadb-test-run --extern`
// runs a list of tests from the `main` suite through the gate (unsharded keyspace `test`, the database
// mtr uses) and against the same tablet's MariaDB directly; a test that passes directly and fails
// through the gate is a difference to fix (or to name in test/mtr/unproxyable.txt with its reason).
//
// Used by test/mtr/run.ts (the longer run, a script) and test/e2e/mtr.test.ts (the CI tier).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { startCluster, type TestCluster } from '../harness/cluster.js';
import { testRoot } from '../harness/processes.js';

/** Debian's mariadb-test package. */
export const MTR_DIR = process.env.TESSERA_MTR_DIR ?? '/usr/share/mysql/mysql-test';
export const MTR_RUNNER = path.join(MTR_DIR, 'mariadb-test-run');
const HERE = path.join(path.dirname(new URL(import.meta.url).pathname), '../../../test/mtr');

/**
 * The tablet MariaDB's settings for this run only: what mtr's include/default_mysqld.cnf gives the
 * servers it starts itself, so that results match the suite's .result files. Tessera's own
 * defaults (utf8mb4, InnoDB) are not changed.
 */
export const MTR_MYSQLD_SETTINGS: Readonly<Record<string, string>> = {
  character_set_server: 'latin1',
  collation_server: 'latin1_swedish_ci',
  default_storage_engine: 'MyISAM',
  explicit_defaults_for_timestamp: 'OFF',
  log_bin_trust_function_creators: '1',
  key_buffer_size: '1M',
  sort_buffer_size: '256K',
  max_heap_table_size: '1M',
  use_stat_tables: 'preferably',
  histogram_type: 'json_hb',
  local_infile: 'ON',
  secure_file_priv: '',
  binlog_direct_non_transactional_updates: 'ON',
  open_files_limit: '1024',
  connect_timeout: '60',
  max_allowed_packet: '16M',
};

export function mtrAvailable(): boolean {
  return fs.existsSync(MTR_RUNNER);
}

/** A test-name list file: `main.<name>` or `<name>`, separated by blanks and lines; `#` starts a comment. */
export function readList(file: string): string[] {
  const names: string[] = [];
  for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
    for (const name of raw.replace(/#.*/, '').trim().split(/\s+/)) {
      if (name) names.push(name.includes('.') ? name : `main.${name}`);
    }
  }
  return names;
}

/** test/mtr/<name> in the source tree (the lists are not compiled). */
export function listFile(name: string): string {
  return path.join(HERE, name);
}

/** unproxyable.txt: test name → why it cannot pass through any proxy. */
export function readUnproxyable(file = listFile('unproxyable.txt')): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(\S+)\s+(.+)$/.exec(line);
    if (!m) throw new Error(`${file}: "${line}" has no reason`);
    out.set(m[1].includes('.') ? m[1] : `main.${m[1]}`, m[2]);
  }
  return out;
}

export type Outcome = 'pass' | 'fail' | 'skipped' | 'disabled';

export interface MtrRun {
  readonly results: Map<string, Outcome>;
  /** For failed tests: the first lines of the difference mtr printed. */
  readonly reasons: Map<string, string>;
  readonly output: string;
}

export interface MtrTarget {
  /** mysqltest's `connect(c,localhost,root,,)` goes through the socket: both sides are reached by one. */
  readonly socket: string;
  readonly port: number;
  readonly user: string;
}

/**
 * Runs the tests with `mariadb-test-run --extern` against one server, one mariadb-test-run per
 * test with `reset` before each: mtr restarts its own servers after a failure, an external one
 * keeps what a failed test left (its tables), which would fail the tests after it. Never throws
 * on failing tests.
 */
export async function runMtr(target: MtrTarget, tests: readonly string[], vardir: string, reset: () => Promise<void>, log?: (line: string) => void): Promise<MtrRun> {
  const results = new Map<string, Outcome>();
  const reasons = new Map<string, string>();
  let output = '';
  for (const t of tests) {
    await reset();
    const dir = path.join(vardir, t);
    const one = await runMtrOnce(target, [t], dir);
    output += one.output;
    if (one.results.size === 0) log?.(`${t}: mariadb-test-run gave no result:\n${one.output.split('\n').slice(-20).join('\n')}`);
    for (const [n, o] of one.results) {
      results.set(n, o);
      log?.(`${n.padEnd(40)} [ ${o} ]`);
    }
    for (const [n, r] of one.reasons) reasons.set(n, r);
    if (one.results.get(t) === 'pass') fs.rmSync(dir, { recursive: true, force: true });
  }
  return { results, reasons, output };
}

async function runMtrOnce(target: MtrTarget, tests: readonly string[], vardir: string): Promise<MtrRun> {
  fs.rmSync(vardir, { recursive: true, force: true });
  const args = [
    `--extern`, `socket=${target.socket}`, `--extern`, `user=${target.user}`,
    '--vardir', vardir, '--tmpdir', path.join(vardir, 'tmp'),
    '--force', '--max-test-fail=0', '--retry=0', '--parallel=1', '--nocheck-testcases', '--nowarnings',
    '--testcase-timeout=5', '--suite-timeout=60',
    ...tests,
  ];
  const child = spawn('perl', [MTR_RUNNER, ...args], { cwd: MTR_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString('utf8')));
  child.stderr.on('data', (b: Buffer) => (output += b.toString('utf8')));
  await new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () => resolve());
  });
  return { ...parseMtrOutput(output), output };
}

/** Reads the `main.x   [ pass ]` lines (and the diff that follows a failure). */
export function parseMtrOutput(output: string): { results: Map<string, Outcome>; reasons: Map<string, string> } {
  const results = new Map<string, Outcome>();
  const reasons = new Map<string, string>();
  const lines = output.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\S+\.\S+?)(?:\s+'[^']*')?\s+(?:w\d+\s+)?\[ (pass|fail|skipped|disabled) \]/.exec(lines[i]);
    if (!m) continue;
    const name = m[1];
    const outcome = m[2] as Outcome;
    results.set(name, outcome);
    if (outcome === 'fail') {
      const detail: string[] = [];
      for (let j = i + 1; j < lines.length && detail.length < 200; j++) {
        if (/\[ (pass|fail|skipped|disabled) \]/.test(lines[j])) break;
        if (/^\s*$/.test(lines[j]) || /^-{5,}/.test(lines[j]) || /^(\+\+\+|---|@@|\s*Test ended|Result content mismatch| - saving)/.test(lines[j])) continue;
        detail.push(lines[j]);
      }
      // The differing lines (or mysqltest's error) first: they say what went wrong.
      const key = detail.filter((l) => /^[-+]|^mysqltest: /.test(l)).slice(0, 10);
      reasons.set(name, (key.length ? key : detail.slice(0, 12)).join('\n'));
    }
  }
  return { results, reasons };
}

export interface MtrCluster {
  readonly cluster: TestCluster;
  readonly gate: MtrTarget;
  readonly direct: MtrTarget;
  /** Run before each test: what the test before left is gone. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

let clusters = 0;
const KEPT_DATABASES = new Set(['information_schema', 'mysql', 'performance_schema', 'sys', '_vt']);

/** One unsharded keyspace `test` whose database is named `test`, its MariaDB set up as mtr's. */
export async function startMtrCluster(): Promise<MtrCluster> {
  const socket = path.join(testRoot(), `gate-${process.pid}-${++clusters}.sock`);
  const cluster = await startCluster({
    keyspaces: [{ name: 'test', shards: ['0'], dbName: 'test' }],
    mysqlConfig: MTR_MYSQLD_SETTINGS,
    gate: { mysql: { port: 0, socketPath: socket } },
  });
  const primary = cluster.shard('test', '0').primary;
  const addr = await cluster.mysqlAddress(primary);
  if (!primary.mysqlctl) throw new Error('mtr: the tablet has no managed MariaDB');
  const dbaSocket = primary.mysqlctl.socket;
  return {
    cluster,
    gate: { socket, port: cluster.gate?.mysqlPort ?? 0, user: 'root' },
    // The account the gate's tablets use: the same MariaDB seen by the same user, so that what
    // differs is the gate (a view's DEFINER, privileges) and not the account.
    direct: { socket: dbaSocket, port: addr.port, user: 'vt_app' },
    async reset() {
      // What a test left: databases other than the system ones and the sidecar, `test` emptied.
      const conn = await mysql.createConnection({ socketPath: dbaSocket, user: 'vt_dba' });
      try {
        const [rows] = await conn.query({ sql: 'SHOW DATABASES', rowsAsArray: true });
        for (const [db] of rows as string[][]) {
          if (KEPT_DATABASES.has(db)) continue;
          await conn.query(`DROP DATABASE \`${db.replaceAll('`', '``')}\``);
        }
        await conn.query('CREATE DATABASE test');
      } finally {
        await conn.end();
      }
    },
    stop: () => cluster.stop(),
  };
}

export interface Comparison {
  readonly direct: number;
  readonly gate: number;
  /** Passing directly, not through the gate (and not listed as unproxyable). */
  readonly lost: string[];
  /** Passing directly, failing through the gate, listed as unproxyable. */
  readonly excused: string[];
}

export function compare(direct: MtrRun, gate: MtrRun, unproxyable: ReadonlyMap<string, string>): Comparison {
  const passDirect = [...direct.results].filter(([, o]) => o === 'pass').map(([n]) => n);
  const lostAll = passDirect.filter((n) => gate.results.get(n) !== 'pass');
  return {
    direct: passDirect.length,
    gate: passDirect.length - lostAll.length,
    lost: lostAll.filter((n) => !unproxyable.has(n)),
    excused: lostAll.filter((n) => unproxyable.has(n)),
  };
}

export function mtrVardir(tag: string): string {
  return path.join(testRoot(), `mtr-${process.pid}-${tag}`);
}
