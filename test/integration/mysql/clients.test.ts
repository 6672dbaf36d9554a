// Real clients through our pass-through proxy, compared with the same clients talking to MariaDB
// directly: mysql2 (text, prepared, multi-statements, TLS, caching_sha2, a 100k-row stream), the
// mariadb connector, the mariadb CLI (batch and interactive under tmux) and sysbench.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import mysql from 'mysql2/promise';
import mysqlCb from 'mysql2';
import mariadb from 'mariadb';
import { setup, DB, USERS, type Env } from './setup.js';
import { tmux, waitForPane } from '../../harness/tmux.js';
import { Client } from '../../../src/mysql/client.js';

let env: Env;
before(async () => {
  env = await setup();
});
after(async () => {
  await env?.stop();
});

type Target = { host: string; port: number };
const direct = (): Target => ({ host: '127.0.0.1', port: env.db.port });
const proxied = (): Target => ({ host: '127.0.0.1', port: env.proxyPort });

function fieldShape(fields: any[] | undefined): unknown {
  return (fields ?? []).map((f) => [f.name, f.orgName, f.table, f.columnType, f.flags, f.characterSet, f.columnLength, f.decimals]);
}

async function mysql2Run(t: Target, extra: mysql.ConnectionOptions, f: (c: mysql.Connection) => Promise<unknown>): Promise<unknown> {
  const c = await mysql.createConnection({ ...t, user: 'vt_dba', database: DB, ...extra });
  try {
    return await f(c);
  } finally {
    await c.end();
  }
}

const MYSQL2_CONFIGS: mysql.ConnectionOptions[] = [
  { supportBigNumbers: true, bigNumberStrings: true, dateStrings: true },
  { supportBigNumbers: true, dateStrings: false, timezone: 'Z' },
];

test('mysql2 query: every type, edge values and NULLs match MariaDB', async () => {
  for (const cfg of MYSQL2_CONFIGS) {
    const where = cfg.dateStrings ? '' : ' WHERE id <> 1'; // skip dates JS cannot hold
    const run = (t: Target) =>
      mysql2Run(t, cfg, async (c) => {
        const [rows, fields] = await c.query(`SELECT * FROM types${where} ORDER BY id`);
        return { rows, fields: fieldShape(fields as any[]) };
      });
    assert.deepEqual(await run(proxied()), await run(direct()));
  }
});

test('mysql2 execute: prepared statements of every type, parameters of every kind', async () => {
  const params: unknown[] = [0, -1, 2 ** 53 - 1, -(2 ** 31), 1.5, -1e-300, 'str', '', 'héllo ☃ 𝄞', Buffer.from([0, 1, 255]), null, true, false,
    new Date('2020-01-02T03:04:05.678Z'), '2024-02-29 13:14:15.123456', '-838:59:59', '99999999999999999999.9999999999'];
  for (const cfg of MYSQL2_CONFIGS) {
    const run = (t: Target) =>
      mysql2Run(t, { ...cfg, timezone: 'Z' }, async (c) => {
        const out: unknown[] = [];
        for (const id of cfg.dateStrings ? [1, 2, 3, 4] : [2, 3, 4]) {
          const [rows, fields] = await c.execute('SELECT * FROM types WHERE id = ?', [id]);
          out.push(rows, fieldShape(fields as any[]));
        }
        for (const p of params) {
          const [rows, fields] = await c.execute('SELECT ? AS v, CONCAT(?, \'\') AS s', [p, p] as any[]);
          out.push(rows, fieldShape(fields as any[]));
        }
        // a write through a prepared statement, read back
        await c.execute('CREATE TEMPORARY TABLE tt (a BIGINT UNSIGNED, b VARBINARY(10), c DATETIME(6), d DECIMAL(10,2), e TIME(3))');
        await c.execute('INSERT INTO tt VALUES (?, ?, ?, ?, ?)', ['18446744073709551615', Buffer.from('ab\0'), '2020-01-01 00:00:00.5', '12.34', '-10:00:00.125']);
        out.push((await c.execute('SELECT * FROM tt'))[0]);
        return out;
      });
    assert.deepEqual(await run(proxied()), await run(direct()));
  }
});

test('mysql2 multi-statements and errors', async () => {
  const run = (t: Target) =>
    mysql2Run(t, { multipleStatements: true }, async (c) => {
      const [results] = await c.query('SELECT 1 AS a; CREATE TEMPORARY TABLE m (x INT); INSERT INTO m VALUES (1),(2); SELECT * FROM m; UPDATE m SET x = 3 WHERE x = 3');
      let err: unknown;
      try {
        await c.query('SELECT 1; SELECT * FROM no_such_table; SELECT 2');
      } catch (e: any) {
        err = [e.errno, e.sqlState, e.message];
      }
      const after = (await c.query('SELECT 42 AS still_ok'))[0];
      return { results, err, after };
    });
  assert.deepEqual(await run(proxied()), await run(direct()));
});

test('mysql2 over TLS and with caching_sha2_password (full auth over TLS, RSA, then fast path)', async () => {
  const viaTls = await mysql2Run(proxied(), { ssl: { rejectUnauthorized: false } }, async (c) => (await c.query("SHOW SESSION STATUS LIKE 'Ssl_cipher'"))[0]);
  assert.ok(Array.isArray(viaTls));
  const sha = { host: '127.0.0.1', port: env.sha2Port, user: 'pwuser', password: USERS.pwuser, database: DB };
  env.sha2.sha2Cache.clear();
  const full = await mysql.createConnection({ ...sha, ssl: { rejectUnauthorized: false } });
  assert.deepEqual((await full.query('SELECT CURRENT_USER() AS u'))[0], [{ u: 'pwuser@localhost' }]);
  await full.end();
  const fast = await mysql.createConnection(sha);
  assert.deepEqual((await fast.query('SELECT 1 AS one'))[0], [{ one: 1 }]);
  await fast.end();
  env.sha2.sha2Cache.clear();
  const rsa = await mysql.createConnection(sha);
  await rsa.query('SELECT 1');
  await rsa.end();
  await assert.rejects(mysql.createConnection({ ...sha, password: 'wrong' }), (e: any) => e.errno === 1045);
});

test('mysql2 streams a 100k-row result', async () => {
  const c = mysqlCb.createConnection({ ...proxied(), user: 'vt_dba', database: DB });
  let rows = 0;
  let sum = 0;
  await new Promise<void>((resolve, reject) => {
    c.query("SELECT seq, REPEAT('x', 100) AS pad FROM seq_1_to_100000")
      .stream({ highWaterMark: 100 })
      .on('data', (r: any) => {
        rows++;
        sum += Number(r.seq);
      })
      .on('end', () => resolve())
      .on('error', reject);
  });
  c.end();
  assert.equal(rows, 100000);
  assert.equal(sum, (100000 * 100001) / 2);
});

test('mariadb connector: query, execute, batch, errors match MariaDB', async () => {
  const run = async (t: Target) => {
    const c = await mariadb.createConnection({ ...t, user: 'vt_dba', database: DB, dateStrings: true, bigIntAsNumber: false, checkDuplicate: false });
    try {
      const q = await c.query({ sql: 'SELECT * FROM types ORDER BY id', rowsAsArray: true });
      const out: unknown[] = [q];
      for (const id of [1, 2, 3, 4]) out.push(await c.execute({ sql: 'SELECT * FROM types WHERE id = ?', rowsAsArray: true }, [id]));
      out.push(await c.execute('SELECT ? a, ? b, ? c, ? d', [1, 'x', null, Buffer.from([1, 2])]));
      await c.query('CREATE TEMPORARY TABLE bt (a INT, b VARCHAR(10))');
      await c.batch('INSERT INTO bt VALUES (?, ?)', [[1, 'a'], [2, 'b'], [3, null]]);
      out.push(await c.query('SELECT * FROM bt ORDER BY a'));
      try {
        await c.query('SELECT * FROM nope');
      } catch (e: any) {
        out.push([e.errno, e.sqlState]);
      }
      await c.reset();
      out.push(await c.query('SELECT 1 AS after_reset'));
      return JSON.parse(JSON.stringify(out, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)));
    } finally {
      await c.end();
    }
  };
  assert.deepEqual(await run(proxied()), await run(direct()));
});

function cli(port: number, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = execFile('mariadb', ['--no-defaults', '-h127.0.0.1', `-P${port}`, '-uvt_dba', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as any).code ?? 1) : 0, stdout, stderr }),
    );
    if (input !== undefined) p.stdin!.end(input);
  });
}

test('mariadb CLI batch mode: same output as MariaDB directly', async () => {
  const sql = `USE ${DB};
SELECT id, ti, biu, dc, f, d, dt, tm6, dtm3, ts, vc, vcl, HEX(bn), e, st, j FROM types ORDER BY id;
SHOW TABLES;
SELECT 1 AS a; SELECT 2 AS b;
SHOW WARNINGS;
SELECT * FROM nope;
`;
  for (const args of [['--batch'], ['--batch', '--force'], ['--table', '--force']]) {
    const [a, b] = [await cli(proxied().port, args, sql), await cli(direct().port, args, sql)];
    assert.deepEqual(a, b, args.join(' '));
  }
  const ssl = await cli(proxied().port, ['--ssl', '--batch', '-e', "SHOW SESSION STATUS LIKE 'Ssl_version'"]);
  assert.equal(ssl.code, 0, ssl.stderr);
});

test('mariadb CLI interactive under tmux: use, multi-line statements, \\G, source', async () => {
  const session = `tessera-mysql-${process.pid}`;
  const file = path.join(env.db.dir, 'sourced.sql');
  writeFileSync(file, "SELECT 'sourced-ok' AS marker;\n");
  tmux(['new-session', '-d', '-s', session, '-x', '160', '-y', '50', `mariadb --no-defaults -h127.0.0.1 -P${env.proxyPort} -uvt_dba`]);
  try {
    await waitForPane(session, 'MariaDB [(none)]>');
    const send = (line: string) => tmux(['send-keys', '-t', session, '-l', line + '\n']);
    send(`use ${DB}`);
    await waitForPane(session, 'Database changed');
    send('SELECT id,');
    send('  vc FROM types');
    send('  WHERE id = 4;');
    await waitForPane(session, '1 row in set');
    send('SELECT id, e, st FROM types WHERE id = 2\\G');
    const g = await waitForPane(session, 'st: x,y,z');
    assert.match(g, /\*+ 1\. row \*+/);
    send(`source ${file}`);
    await waitForPane(session, 'sourced-ok');
    send('quit');
  } finally {
    try {
      tmux(['kill-session', '-t', session]);
    } catch {
      // already ended by quit
    }
  }
});

function sysbench(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('sysbench', args, { encoding: 'utf8', maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as any).code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}

test('sysbench oltp_read_write through the proxy, with and without server-side prepared statements', async () => {
  const admin = await Client.connect({ socketPath: env.db.socket, user: 'vt_dba' });
  await admin.query('CREATE DATABASE IF NOT EXISTS sbtest');
  admin.close();
  const common = ['oltp_read_write', '--db-driver=mysql', '--mysql-host=127.0.0.1', '--mysql-user=vt_dba', '--mysql-password=', '--mysql-db=sbtest', '--tables=2', '--table-size=500'];
  const prep = await sysbench([...common, `--mysql-port=${env.db.port}`, 'prepare']);
  assert.equal(prep.code, 0, prep.out);
  for (const mode of [[], ['--db-ps-mode=disable']]) {
    const r = await sysbench([...common, ...mode, `--mysql-port=${env.proxyPort}`, '--threads=2', '--events=300', '--time=0', 'run']);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /transactions:\s+300 /, r.out);
    // Deadlocks (1213) between the two threads are MariaDB's and sysbench retries them; anything
    // else is fatal and fails the run above.
    assert.doesNotMatch(r.out, /FATAL/, r.out);
  }
});
