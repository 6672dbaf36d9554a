// Real clients through the gate: the mariadb CLI, mysql2 (text, prepared statements,
// multi-statements), sysbench oltp_read_write on a 2-shard keyspace sharded by id with hash, and the
// `tessera gate` command itself (distributed mode: its own process, tablets over RPC, file topo).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import { startCluster, type TestCluster } from '../harness/cluster.js';
import { track } from '../harness/processes.js';
import { tmux, waitForPane } from '../harness/tmux.js';

const SBTEST_TABLES = 2;
let c: TestCluster;

before(async () => {
  c = await startCluster({
    topo: 'file',
    // Two sysbench threads can deadlock across shards, which no single MariaDB sees: a short lock
    // wait timeout turns that into 1205, which sysbench retries (as it does 1213 on one server).
    mysqlConfig: { innodb_lock_wait_timeout: '2' },
    keyspaces: [
      { name: 'commerce', shards: ['0'], schema: 'create table product(sku varchar(32) primary key, description varchar(64), price bigint)', vschema: { tables: { product: {} } } },
      {
        name: 'sbtest', shards: ['-80', '80-'],
        vschema: {
          sharded: true, vindexes: { hash: { type: 'hash' } },
          tables: Object.fromEntries(Array.from({ length: SBTEST_TABLES }, (_, i) => [`sbtest${i + 1}`, { column_vindexes: [{ column: 'id', name: 'hash' }] }])),
        },
      },
    ],
  });
});

after(async () => {
  await c?.stop();
});

function run(cmd: string, args: string[], input?: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const p = execFile(cmd, args, { encoding: 'utf8', maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0, out: stdout + stderr }),
    );
    if (input !== undefined) p.stdin?.end(input);
  });
}

test('mariadb CLI in batch mode: statements, SHOW, shard targeting, errors', async () => {
  const port = String(c.gate!.mysqlPort);
  const script = [
    "insert into product(sku, description, price) values ('SKU-1001', 'Monitor', 100), ('SKU-1002', 'Keyboard', 30);",
    'select sku, price from product order by sku;',
    'show vitess_shards;',
    'use `sbtest/-80`',
    'show tables;',
    'select database();',
  ].join('\n');
  const r = await run('mariadb', ['--no-defaults', '-h127.0.0.1', `-P${port}`, '-uvt_app', '--batch', 'commerce'], script);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /sku\tprice\nSKU-1001\t100\nSKU-1002\t30\n/);
  assert.match(r.out, /Shards\ncommerce\/0\nsbtest\/-80\nsbtest\/80-\n/);
  assert.match(r.out, /database\(\)\nsbtest\n/);
  const bad = await run('mariadb', ['--no-defaults', '-h127.0.0.1', `-P${port}`, '-uvt_app', '--batch', '-e', 'select * from nosuchtable', 'commerce']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.out, /ERROR 1146/);
});

test('mysql2: prepared statements, multi-statements and errors through the gate', async () => {
  const conn = await c.connect('commerce', { multipleStatements: true });
  try {
    const [ins] = await conn.execute('insert into product(sku, description, price) values (?, ?, ?)', ['SKU-2001', 'Mouse', 15]);
    assert.equal((ins as mysql.ResultSetHeader).affectedRows, 1);
    const [rows] = await conn.execute('select description, price from product where sku = ?', ['SKU-2001']);
    assert.deepEqual(rows, [{ description: 'Mouse', price: '15' }]);
    const [multi] = await conn.query('select 1 as a; select count(*) as n from product');
    assert.equal((multi as unknown[]).length, 2);
    await assert.rejects(conn.execute('select * from product where nosuchcolumn = ?', [1]), (e: { errno?: number }) => e.errno === 1054);
  } finally {
    await conn.end();
  }
});

function sysbench(args: string[]): Promise<{ code: number; out: string }> {
  return run('sysbench', args);
}

test('CLIENT_FOUND_ROWS: UPDATE counts matched rows when the client asks, changed rows when not', async () => {
  // mysql2 asks for CLIENT_FOUND_ROWS by default (as Connector/J does); the mariadb CLI does not.
  const matched = await c.connect('commerce');
  const changed = await c.connect('commerce', { flags: ['-FOUND_ROWS'] });
  try {
    await matched.query("insert into product(sku, description, price) values ('SKU-3001', 'Cable', 5)");
    const noChange = "update product set price = 5 where sku = 'SKU-3001'";
    const affected = async (conn: mysql.Connection, sql: string) => ((await conn.query(sql))[0] as mysql.ResultSetHeader).affectedRows;
    for (const [conn, want] of [[matched, 1], [changed, 0]] as const) {
      assert.equal(await affected(conn, noChange), want, 'autocommit');
      await conn.query('begin');
      assert.equal(await affected(conn, noChange), want, 'in a transaction');
      await conn.query('commit');
      await conn.query("set sql_mode = 'STRICT_TRANS_TABLES'");
      assert.equal(await affected(conn, noChange), want, 'on a reserved connection');
      await conn.query('begin');
      assert.equal(await affected(conn, noChange), want, 'in a transaction on a reserved connection');
      await conn.query('rollback');
    }
    // A row that does change counts either way.
    assert.equal(await affected(changed, "update product set price = 6 where sku = 'SKU-3001'"), 1);
    // The same answers as MariaDB itself gives each kind of client.
    const direct = c.shard('commerce', '0').primary.mysqlctl!;
    for (const [flags, want] of [[[], 1], [['-FOUND_ROWS'], 0]] as const) {
      const d = await mysql.createConnection({ socketPath: direct.socket, user: 'vt_dba', password: '', database: 'vt_commerce', flags: [...flags] });
      try {
        assert.equal(await affected(d, "update product set price = 6 where sku = 'SKU-3001'"), want);
      } finally {
        await d.end();
      }
    }
  } finally {
    await matched.end();
    await changed.end();
  }
});

/** Waits until the shard's MariaDB is running a statement containing `marker` (so a KILL finds it running). */
async function runningOnShard(marker: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const rows = await c.shardRows('commerce', '0', `select count(*) as n from information_schema.processlist where info like '%${marker}%' and info not like '%processlist%'`);
    if (Number(rows[0].n) > 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`no statement with ${marker} ever ran on commerce/0`);
}

test('KILL QUERY and KILL CONNECTION take gate connection ids; unknown ids get 1094, other users 1095', async () => {
  const victim = await c.connect('commerce');
  const killer = await c.connect('commerce');
  const stranger = await c.connect('commerce', { user: 'vt_other' });
  try {
    const id = Number(((await victim.query('select connection_id() as id'))[0] as mysql.RowDataPacket[])[0].id);
    assert.equal(id, victim.threadId, 'CONNECTION_ID() is the thread id of the handshake');
    // A statement inside a transaction is killed in MariaDB; the transaction stays open (as in MySQL).
    await victim.query('begin');
    await victim.query("insert into product(sku, description, price) values ('SKU-4001', 'Lamp', 20)");
    const slow = victim.query("select sleep(30) as kill_marker_1 from product where sku = 'SKU-4001'");
    await runningOnShard('kill_marker_1');
    await assert.rejects(stranger.query(`kill query ${id}`), (e: { errno?: number }) => e.errno === 1095);
    await killer.query(`kill query ${id}`);
    await assert.rejects(slow, (e: { errno?: number; sqlState?: string }) => e.errno === 1317 && e.sqlState === '70100');
    await victim.query('commit');
    const [kept] = await killer.query("select price from product where sku = 'SKU-4001'");
    assert.deepEqual(kept, [{ price: '20' }]);
    // A KILL QUERY while idle cancels nothing later.
    await killer.query(`kill query ${id}`);
    assert.deepEqual((await victim.query('select 1 as one'))[0], [{ one: '1' }]);
    await assert.rejects(killer.query('kill 4000000000'), (e: { errno?: number }) => e.errno === 1094);
    // KILL CONNECTION ends the connection (and its running statement).
    const running = victim.query("select sleep(30) as kill_marker_2 from product where sku = 'SKU-4001'");
    await runningOnShard('kill_marker_2');
    await killer.query(`kill connection ${id}`);
    await assert.rejects(running);
    await assert.rejects(victim.query('select 1'));
    // The statement is killed on the shard too (the tablet's KILL QUERY is on its way as the
    // connection closes): it is gone long before its 30 s sleep would have ended.
    let left = 1;
    for (const until = Date.now() + 10_000; left > 0 && Date.now() < until; await new Promise((r) => setTimeout(r, 20))) {
      left = Number((await c.shardRows('commerce', '0', "select count(*) as n from information_schema.processlist where info like '%kill_marker%' and info not like '%processlist%'"))[0].n);
    }
    assert.equal(left, 0, 'the killed connection\'s statement still runs on the shard');
  } finally {
    victim.destroy();
    await killer.end();
    await stranger.end();
  }
});

test('mariadb CLI: Ctrl-C kills the running statement through the gate and the session carries on', async () => {
  const session = `tessera-gate-kill-${process.pid}`;
  const setup = await c.connect('commerce');
  await setup.query("replace into product(sku, description, price) values ('SKU-5001', 'Desk', 50)");
  await setup.end();
  tmux(['new-session', '-d', '-s', session, '-x', '160', '-y', '50', `mariadb --no-defaults -h127.0.0.1 -P${c.gate!.mysqlPort} -uvt_app commerce`]);
  const untrack = track(() => tmux(['kill-session', '-t', session]));
  try {
    await waitForPane(session, 'MariaDB [commerce]>');
    tmux(['send-keys', '-t', session, '-l', "select sleep(30) as kill_marker_cli from product where sku = 'SKU-5001';\n"]);
    await runningOnShard('kill_marker_cli');
    tmux(['send-keys', '-t', session, 'C-c']);
    await waitForPane(session, 'ERROR 1317 (70100)');
    tmux(['send-keys', '-t', session, '-l', "select 'still-here' as marker;\n"]);
    await waitForPane(session, 'still-here');
    tmux(['send-keys', '-t', session, '-l', 'quit\n']);
  } finally {
    try {
      tmux(['kill-session', '-t', session]);
    } catch {
      // ended by quit
    }
    untrack();
  }
});

test('sysbench oltp_read_write on a 2-shard keyspace (prepared and plain), rows spread over both shards', async () => {
  const common = [
    'oltp_read_write', '--db-driver=mysql', '--mysql-host=127.0.0.1', `--mysql-port=${c.gate!.mysqlPort}`, '--mysql-user=vt_app', '--mysql-password=',
    '--mysql-db=sbtest', `--tables=${SBTEST_TABLES}`, '--table-size=400', '--auto-inc=off',
  ];
  const prep = await sysbench([...common, 'prepare']);
  assert.equal(prep.code, 0, prep.out);
  const low = await c.shardRows('sbtest', '-80', 'select count(*) as n from sbtest1');
  const high = await c.shardRows('sbtest', '80-', 'select count(*) as n from sbtest1');
  assert.equal(Number(low[0].n) + Number(high[0].n), 400);
  assert.ok(Number(low[0].n) > 100 && Number(high[0].n) > 100, `rows split ${String(low[0].n)}/${String(high[0].n)}`);
  for (const mode of [[], ['--db-ps-mode=disable']]) {
    const r = await sysbench([...common, ...mode, '--threads=2', '--events=200', '--time=0', 'run']);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /transactions:\s+200 /, r.out);
    assert.doesNotMatch(r.out, /FATAL/, r.out);
  }
});

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = path.resolve(here, '../../../bin/tessera');

test('tessera gate: its own process on the file topology, tablets over RPC, static auth', async () => {
  const { writeFileSync, mkdtempSync } = await import('node:fs');
  const os = await import('node:os');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tessera-gate-'));
  const users = path.join(dir, 'users.json');
  writeFileSync(users, JSON.stringify({ app: [{ Password: 'secret', UserData: 'app' }], reader: [{ Password: 'r', Keyspaces: ['commerce'] }] }));
  const topoDir = (c.topo as unknown as { globalServerAddress: string }).globalServerAddress;
  const child: ChildProcess = spawn(process.execPath, [bin, 'gate', '--topo-implementation', 'file', '--topo-global-server-address', topoDir, '--port', '0', '--http-port', '0', '--cell', c.cell, '--tablet-types-to-wait', 'PRIMARY', '--mysql-auth-server-static-file', users], { stdio: ['ignore', 'pipe', 'pipe'] });
  const untrack = track(() => child.kill('SIGKILL'));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      let err = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /gate listening on (\d+) http (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      child.once('exit', (code) => reject(new Error(`tessera gate exited with ${code}: ${err.slice(-2000)}`)));
    });
    const conn = await mysql.createConnection({ host: '127.0.0.1', port, user: 'app', password: 'secret', database: 'commerce', supportBigNumbers: true, bigNumberStrings: true });
    const [rows] = await conn.query("select price from product where sku = 'SKU-1001'");
    assert.deepEqual(rows, [{ price: '100' }]);
    const [sb] = await conn.query('select count(*) as n from sbtest.sbtest1');
    assert.deepEqual(sb, [{ n: '400' }]);
    // KILL QUERY crosses the RPC: the tablet kills the statement in MariaDB.
    const victim = await mysql.createConnection({ host: '127.0.0.1', port, user: 'app', password: 'secret', database: 'commerce' });
    const slow = victim.query("select sleep(30) as kill_marker_rpc from product where sku = 'SKU-1001'");
    await runningOnShard('kill_marker_rpc');
    await conn.query(`kill query ${victim.threadId}`);
    await assert.rejects(slow, (e: { errno?: number }) => e.errno === 1317);
    await victim.end();
    // A client that goes away while its transaction runs a statement: the tablet gets the
    // rollback while the statement still runs, kills it and drops the connection, so the row lock
    // is free at once (not at the 30 s transaction timeout).
    await conn.query("replace into product(sku, description, price) values ('SKU-6001', 'Shelf', 60)");
    const gone = await mysql.createConnection({ host: '127.0.0.1', port, user: 'app', password: 'secret', database: 'commerce' });
    await gone.query('begin');
    await gone.query("update product set price = 61 where sku = 'SKU-6001'");
    gone.query("select sleep(30) as kill_marker_gone from product where sku = 'SKU-6001'").catch(() => undefined);
    await runningOnShard('kill_marker_gone');
    gone.destroy();
    let locked: unknown = null;
    for (let i = 0; i < 300 && locked === null; i++) {
      try {
        [locked] = await conn.query("select price from product where sku = 'SKU-6001' for update nowait");
      } catch {
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    assert.deepEqual(locked, [{ price: '60' }], 'the disconnected client\'s transaction still holds its lock');
    // CLIENT_FOUND_ROWS crosses the RPC to the tablet: an UPDATE that changes nothing still matched a row.
    const [upd] = await conn.query("update product set price = price where sku = 'SKU-1001'");
    assert.equal((upd as mysql.ResultSetHeader).affectedRows, 1);
    await conn.end();
    await assert.rejects(mysql.createConnection({ host: '127.0.0.1', port, user: 'app', password: 'wrong' }), (e: { errno?: number }) => e.errno === 1045);
    const reader = await mysql.createConnection({ host: '127.0.0.1', port, user: 'reader', password: 'r' });
    await assert.rejects(reader.query('use sbtest'), (e: { errno?: number }) => e.errno === 1044);
    await reader.end();
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    untrack();
  }
});
