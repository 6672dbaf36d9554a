import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { Mysqlctl, processAlive } from '../../../src/mysqlctl/index.js';
import { startMariaDB, startMariaDBs, type TestMariaDB } from '../../harness/mariadb.js';
import { freePort, testRoot } from '../../harness/processes.js';

const execFileP = promisify(execFile);
const BIN = path.resolve('bin/tessera');

async function q(db: TestMariaDB, sql: string, user = 'vt_dba'): Promise<unknown[]> {
  const c = await mysql.createConnection({ host: db.host, port: db.port, user });
  try {
    const [rows] = await c.query(sql);
    return rows as unknown[];
  } finally {
    await c.end();
  }
}

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await execFileP(process.execPath, [BIN, ...args], { env: { ...process.env, TESSERA_LOG_LEVEL: 'warn', ...env } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('several instances: init, start, query, shutdown, restart keeps data', async () => {
  const dbs = await startMariaDBs(3);
  try {
    assert.equal(new Set(dbs.map((d) => d.port)).size, 3);
    for (const db of dbs) {
      const [row] = (await q(db, 'SELECT @@server_id AS id, @@binlog_format AS f, @@binlog_row_image AS i, @@binlog_row_metadata AS m, @@gtid_strict_mode AS g, @@log_slave_updates AS l')) as Record<string, unknown>[];
      assert.deepEqual(row, { id: db.uid, f: 'ROW', i: 'FULL', m: 'FULL', g: 1, l: 1 });
      await q(db, 'CREATE DATABASE vt_test');
      await q(db, 'CREATE TABLE vt_test.t (id INT PRIMARY KEY, v VARCHAR(20))');
      await q(db, `INSERT INTO vt_test.t VALUES (1, 'uid ${db.uid}')`);
    }
    await Promise.all(dbs.map((d) => d.shutdown()));
    for (const db of dbs) assert.equal(db.pid(), null);
    await Promise.all(dbs.map((d) => d.start()));
    for (const db of dbs) {
      assert.deepEqual(await q(db, 'SELECT id, v FROM vt_test.t'), [{ id: 1, v: `uid ${db.uid}` }]);
    }
  } finally {
    await Promise.all(dbs.map((d) => d.stop()));
  }
  for (const db of dbs) assert.equal(fs.existsSync(db.dir), false);
});

test('accounts, sidecar database, and read_only protection from vt_app', async () => {
  const db = await startMariaDB({ extraConfig: { read_only: 'ON' } });
  try {
    const dbsSeen = ((await q(db, 'SHOW DATABASES')) as { Database: string }[]).map((r) => r.Database);
    assert.ok(dbsSeen.includes('_vt'));
    assert.ok(!dbsSeen.includes('test'));
    const users = ((await q(db, "SELECT DISTINCT User AS u FROM mysql.user WHERE User LIKE 'vt\\_%' ORDER BY 1")) as { u: string }[]).map((r) => r.u);
    assert.deepEqual(users, ['vt_allprivs', 'vt_app', 'vt_dba', 'vt_filtered', 'vt_repl']);
    await q(db, 'CREATE TABLE _vt.ro_check (id INT PRIMARY KEY)');
    await q(db, 'INSERT INTO _vt.ro_check VALUES (1)');
    await assert.rejects(q(db, 'INSERT INTO _vt.ro_check VALUES (2)', 'vt_app'), /read-only/);
  } finally {
    await db.stop();
  }
});

test('kill -9 of mariadbd, then start, recovers committed rows; stale pid and socket files do not block', async () => {
  const db = await startMariaDB();
  try {
    await q(db, 'CREATE TABLE _vt.crash (id INT PRIMARY KEY)');
    await q(db, 'INSERT INTO _vt.crash VALUES (1), (2), (3)');
    const pid = db.pid();
    assert.ok(pid);
    db.kill9();
    for (let i = 0; i < 200 && processAlive(pid); i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(processAlive(pid), false);
    // The crash left mysql.pid behind; make it point at a live process that is not MariaDB, and keep
    // the dead socket file: start must see through both.
    fs.writeFileSync(db.ctl.paths.pidFile, `${process.pid}\n`);
    assert.ok(fs.existsSync(db.ctl.paths.pidFile));
    await db.start();
    assert.deepEqual(await q(db, 'SELECT id FROM _vt.crash ORDER BY id'), [{ id: 1 }, { id: 2 }, { id: 3 }]);
  } finally {
    await db.stop();
  }
});

test('every step is idempotent', async () => {
  const port = await freePort();
  const ctl = new Mysqlctl({ tabletUid: 777, mysqlPort: port, dataRoot: testRoot(), extraConfig: { read_only: 'OFF' } });
  try {
    await ctl.init();
    await ctl.init();
    await ctl.start();
    const pid = ctl.runningPid();
    await ctl.start();
    assert.equal(ctl.runningPid(), pid);
    await ctl.shutdown();
    await ctl.shutdown();
    assert.equal(ctl.status().running, false);
    assert.equal(ctl.status().initialized, true);
  } finally {
    await ctl.teardown();
    await ctl.teardown();
  }
  assert.equal(fs.existsSync(ctl.paths.dir), false);
});

test('clear error: port in use', async () => {
  const blocker = net.createServer();
  const port = await new Promise<number>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as net.AddressInfo).port)));
  const ctl = new Mysqlctl({ tabletUid: 778, mysqlPort: port, dataRoot: testRoot() });
  try {
    await ctl.init();
    await assert.rejects(ctl.start(), (err: Error & { errno?: number }) => {
      assert.match(err.message, new RegExp(`port ${port} .*already in use.*--mysql-port`));
      assert.equal(err.errno, 1105);
      return true;
    });
    assert.equal(ctl.runningPid(), null);
  } finally {
    blocker.close();
    await ctl.teardown();
  }
});

test('clear error: a server that fails to start shows the tail of its error log', async () => {
  const port = await freePort();
  const ctl = new Mysqlctl({ tabletUid: 779, mysqlPort: port, dataRoot: testRoot(), extraConfig: { no_such_mariadb_option: '1' } });
  try {
    await ctl.init();
    await assert.rejects(ctl.start(), /failed to start[\s\S]*no_such_mariadb_option|failed to start[\s\S]*unknown variable/);
  } finally {
    await ctl.teardown();
  }
});

test('clear error: data root not writable', async () => {
  const file = path.join(testRoot(), 'a-file');
  fs.writeFileSync(file, '');
  const ctl = new Mysqlctl({ tabletUid: 780, mysqlPort: 17780, dataRoot: path.join(file, 'root') });
  await assert.rejects(ctl.init(), /data root .* is not writable.*--data-root/);
});

test('clear error: start before init', async () => {
  const ctl = new Mysqlctl({ tabletUid: 781, mysqlPort: 17781, dataRoot: testRoot() });
  await assert.rejects(ctl.start(), /not initialized.*tessera mysqlctl init --tablet-uid 781/);
});

test('CLI: init/status/shutdown/teardown, Vitess flag spellings, and MariaDB-not-installed error', async () => {
  const root = path.join(testRoot(), 'cli');
  const port = await freePort();
  const r1 = await cli(['mysqlctl', 'init', '-tablet_uid', '800', '--mysql_port', String(port), '--data-root', root]);
  assert.equal(r1.code, 0, r1.stderr);
  assert.match(r1.stdout, new RegExp(`mariadb -h 127.0.0.1 -P ${port} -u vt_dba`));
  assert.ok(fs.existsSync(path.join(root, 'vt_0000000800', 'my.cnf')));
  const st = await cli(['mysqlctl', 'status', '--tablet-uid', '800', '--mysql-port', String(port)], { TESSERA_DATAROOT: root });
  assert.equal(JSON.parse(st.stdout).running, true);
  assert.equal((await cli(['mysqlctl', 'shutdown', '--tablet-uid', '800', '--data-root', root])).code, 0);
  assert.equal(JSON.parse((await cli(['mysqlctl', 'status', '--tablet-uid', '800', '--data-root', root])).stdout).running, false);
  assert.equal((await cli(['mysqlctl', 'teardown', '--tablet-uid', '800', '--data-root', root])).code, 0);
  assert.equal(fs.existsSync(path.join(root, 'vt_0000000800')), false);

  const missing = await cli(['mysqlctl', 'init', '--tablet-uid', '801', '--data-root', root], { TESSERA_MARIADB_SEARCH_PATH: '/nonexistent' });
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /MariaDB is not installed.*apt-get install -y mariadb-server mariadb-client/);

  const help = await cli(['mysqlctl', 'init', '--help']);
  assert.match(help.stdout, /--tablet-uid/);
  assert.match(help.stdout, /--data-root/);
});

test('account passwords from a credentials file: applied at start, enforced, vt_dba on the socket needs none', async () => {
  const { loadDbCredentials } = await import('../../../src/mysqlctl/index.js');
  const file = path.join(testRoot(), 'creds.json');
  fs.writeFileSync(file, JSON.stringify({ vt_app: ['app-secret'], vt_repl: 'repl-secret', vt_dba: ['dba-secret'] }));
  const port = await freePort();
  const ctl = new Mysqlctl({ tabletUid: 790, mysqlPort: port, dataRoot: testRoot(), credentials: loadDbCredentials(file), extraConfig: { read_only: 'OFF' } });
  try {
    await ctl.init();
    await ctl.start();
    const login = async (user: string, password: string) => {
      const c = await mysql.createConnection({ host: '127.0.0.1', port, user, password });
      await c.end();
    };
    await login('vt_app', 'app-secret');
    await login('vt_repl', 'repl-secret');
    await login('vt_dba', 'dba-secret');
    await assert.rejects(login('vt_app', ''), /Access denied/);
    await assert.rejects(login('vt_dba', ''), /Access denied/);
    const sock = await mysql.createConnection({ socketPath: ctl.socket, user: 'vt_dba' });
    const [rows] = await sock.query('SELECT @@global.gtid_binlog_pos AS p');
    await sock.end();
    // The password changes are not in the binlog: replicas built alike never replay them.
    assert.deepEqual(rows, [{ p: '' }]);
  } finally {
    await ctl.teardown();
  }
  assert.throws(() => loadDbCredentials(path.join(testRoot(), 'none.json')), /cannot read --db-credentials-file/);
  fs.writeFileSync(file, JSON.stringify({ root: ['x'] }));
  assert.throws(() => loadDbCredentials(file), /unknown user 'root'/);
});

test('a MariaDB still running is adopted by start (same pid); one on another port is refused, naming both', async () => {
  const db = await startMariaDB();
  try {
    const pid = db.pid();
    assert.ok(pid !== null);
    const again = new Mysqlctl({ tabletUid: db.uid, mysqlPort: db.port, dataRoot: db.ctl.dataRoot });
    assert.equal(await again.adoptablePid(), pid);
    await again.start();
    assert.equal(again.runningPid(), pid);
    const elsewhere = new Mysqlctl({ tabletUid: db.uid, mysqlPort: db.port + 1, dataRoot: db.ctl.dataRoot });
    assert.equal(await elsewhere.adoptablePid(), null);
    await assert.rejects(elsewhere.start(), new RegExp(`already running \\(pid ${pid}\\) on port ${db.port}, not ${db.port + 1}`));
    assert.equal(db.pid(), pid);
  } finally {
    await db.stop();
  }
});

test('a server that still looks alive when start comes, and exits while start waits for it, is started afresh', async () => {
  const db = await startMariaDB();
  try {
    await q(db, 'CREATE TABLE _vt.dying (id INT PRIMARY KEY)');
    await q(db, 'INSERT INTO _vt.dying VALUES (7)');
    await db.ctl.shutdown();
    // What a just-killed mariadbd looks like while its threads exit: the pid file names a live
    // process whose command line has this instance's my.cnf, and nothing answers on the socket.
    // It goes a second later. start() used to wait the whole start timeout on it, then fail.
    const dying = spawn('sh', ['-c', 'sleep 1', db.ctl.paths.cnf], { stdio: 'ignore' });
    fs.writeFileSync(db.ctl.paths.pidFile, `${dying.pid}\n`);
    assert.equal(db.ctl.runningPid(), dying.pid);
    const ctl = new Mysqlctl({ tabletUid: db.uid, mysqlPort: db.port, dataRoot: db.ctl.dataRoot, startTimeoutMs: 20_000 });
    await ctl.start();
    assert.notEqual(ctl.runningPid(), dying.pid);
    assert.deepEqual(await q(db, 'SELECT id FROM _vt.dying'), [{ id: 7 }]);
  } finally {
    await db.stop();
  }
});
