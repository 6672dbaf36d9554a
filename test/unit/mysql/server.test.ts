// Our server with an in-memory handler, driven by our client: auth plugins, TLS, every type in
// both protocols, multi-results, long data, errors, limits, backpressure and drain.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '../../../src/mysql/client.js';
import { Server, type ServerHandler, type ResultWriter, type Session } from '../../../src/mysql/server.js';
import { columnDefinition, type ColumnDefinition } from '../../../src/mysql/protocol.js';
import { TYPE, FIELD_FLAG, CHARSET } from '../../../src/mysql/constants.js';
import { ER, TesseraError } from '../../../src/mysql/errors.js';
import type { SqlValue, TypedValue } from '../../../src/mysql/values.js';

const U = FIELD_FLAG.UNSIGNED;
const COLUMNS: [ColumnDefinition, SqlValue][] = [
  [columnDefinition({ name: 'i8', type: TYPE.TINY, charset: 63 }), -128],
  [columnDefinition({ name: 'u64', type: TYPE.LONGLONG, flags: U, charset: 63 }), 18446744073709551615n],
  [columnDefinition({ name: 'i64', type: TYPE.LONGLONG, charset: 63 }), -9223372036854775808n],
  [columnDefinition({ name: 'dbl', type: TYPE.DOUBLE, charset: 63, decimals: 31 }), 2.5],
  [columnDefinition({ name: 'dec', type: TYPE.NEWDECIMAL, charset: 63, decimals: 2 }), '-123.45'],
  [columnDefinition({ name: 'dt', type: TYPE.DATETIME, charset: 63, decimals: 6 }), '2024-02-29 13:14:15.123456'],
  [columnDefinition({ name: 'tm', type: TYPE.TIME, charset: 63 }), '-838:59:59'],
  [columnDefinition({ name: 'd', type: TYPE.DATE, charset: 63 }), '2024-02-29'],
  [columnDefinition({ name: 's', type: TYPE.VAR_STRING }), 'héllo ☃'],
  [columnDefinition({ name: 'l1', type: TYPE.STRING, charset: CHARSET.LATIN1_SWEDISH_CI }), 'café'],
  [columnDefinition({ name: 'b', type: TYPE.BLOB, charset: 63 }), Buffer.from([0, 255])],
  [columnDefinition({ name: 'n', type: TYPE.VAR_STRING }), null],
];

const seen: { params: TypedValue[][]; drained: number; maxPending: number } = { params: [], drained: 0, maxPending: 0 };

async function produce(out: ResultWriter, n: number): Promise<void> {
  out.fields([columnDefinition({ name: 'k', type: TYPE.LONG, charset: 63 }), columnDefinition({ name: 'v', type: TYPE.VAR_STRING })]);
  const pad = 'x'.repeat(100);
  for (let i = 0; i < n; i++) {
    out.row([i, pad]);
    if (out.needsDrain) {
      seen.drained++;
      await out.drain();
    }
  }
  out.end();
}

const handler: ServerHandler = {
  getUser(user) {
    if (user === 'native') return { password: 'pw' };
    if (user === 'sha2') return { password: 'sha2pw', plugin: 'caching_sha2_password' };
    if (user === 'nopw') return { password: '' };
    return null;
  },
  async query(session: Session, sql: string, out: ResultWriter) {
    if (sql === 'types') {
      out.fields(COLUMNS.map(([c]) => c));
      out.row(COLUMNS.map(([, v]) => v));
      out.end();
    } else if (sql === 'multi') {
      out.end({ affectedRows: 3, lastInsertId: 7, more: true });
      out.fields([columnDefinition({ name: 'x', type: TYPE.LONG })]);
      out.row([1]);
      out.end({ more: true });
      out.end({ info: 'last' });
    } else if (sql === 'fail') {
      throw new TesseraError(ER.NO_SUCH_TABLE, "Table 'x' doesn't exist");
    } else if (sql === 'fail-mid') {
      out.fields([columnDefinition({ name: 'x', type: TYPE.LONG })]);
      out.row([1]);
      throw new TesseraError(ER.QUERY_INTERRUPTED, 'Query execution was interrupted');
    } else if (sql.startsWith('rows ')) {
      await produce(out, Number(sql.slice(5)));
    } else if (sql === 'db') {
      out.fields([columnDefinition({ name: 'db', type: TYPE.VAR_STRING })]);
      out.row([session.database]);
      out.end();
    } else if (sql === 'slow') {
      await new Promise((r) => setTimeout(r, 300));
      out.end({ info: 'slow done' });
    } else {
      out.end();
    }
  },
  async prepare(_s, sql) {
    if (sql === 'bad') throw new TesseraError(ER.PARSE_ERROR, 'You have an error in your SQL syntax');
    const paramCount = (sql.match(/\?/g) ?? []).length;
    return { paramCount, columns: sql === 'types' ? COLUMNS.map(([c]) => c) : [columnDefinition({ name: 'p', type: TYPE.VAR_STRING })], state: sql };
  },
  async execute(_s, stmt, params, out) {
    seen.params.push(params);
    if (stmt.state === 'types') {
      out.fields(COLUMNS.map(([c]) => c));
      out.row(COLUMNS.map(([, v]) => v));
    } else {
      out.fields(stmt.columns);
      out.row([params.map((p) => (Buffer.isBuffer(p.value) ? p.value.toString('hex') : String(p.value))).join(',')]);
    }
    out.end();
  },
  async initDb(session, db) {
    if (db === 'nope') throw new TesseraError(ER.BAD_DB, "Unknown database 'nope'");
    session.database = db;
  },
};

const server = new Server(handler, { port: 0, connectionsMax: 20, packetSizeMax: 1 << 20 });
const port = await server.listen();
after(() => server.close(1000));
const opts = { host: '127.0.0.1', port, user: 'native', password: 'pw' };

test('every type round-trips through the text and the binary protocol', async () => {
  const c = await Client.connect(opts);
  const text = await c.query('types');
  assert.deepEqual(text.rows, [COLUMNS.map(([, v]) => v)]);
  assert.deepEqual(text.fields.map((f) => f.name), COLUMNS.map(([col]) => col.name));
  const stmt = await c.prepare('types');
  const bin = await c.execute(stmt, []);
  assert.deepEqual(bin.rows, [COLUMNS.map(([, v]) => v)]);
  c.close();
});

test('auth: native, empty password, unknown user, wrong password, database at connect', async () => {
  const c = await Client.connect({ ...opts, database: 'shop' });
  assert.deepEqual((await c.query('db')).rows, [['shop']]);
  await c.initDb('other');
  assert.deepEqual((await c.query('db')).rows, [['other']]);
  await assert.rejects(c.initDb('nope'), (e: any) => e.errno === 1049);
  c.close();
  (await Client.connect({ ...opts, user: 'nopw', password: '' })).close();
  await assert.rejects(Client.connect({ ...opts, password: 'wrong' }), (e: any) => e.errno === 1045);
  await assert.rejects(Client.connect({ ...opts, user: 'ghost' }), (e: any) => e.errno === 1045);
  await assert.rejects(Client.connect({ ...opts, database: 'nope' }), (e: any) => e.errno === 1049);
});

test('auth: caching_sha2_password full auth over TLS, over RSA, then the fast path', async () => {
  const sha = { ...opts, user: 'sha2', password: 'sha2pw' };
  await assert.rejects(Client.connect({ ...sha, password: 'nope', ssl: true }), (e: any) => e.errno === 1045);
  const rsa = await Client.connect(sha); // full auth without TLS: public key request + RSA
  assert.deepEqual((await rsa.query('db')).rows, [[null]]);
  rsa.close();
  const tls = await Client.connect({ ...sha, ssl: true });
  tls.close();
  const fast = await Client.connect(sha); // cached now
  fast.close();
  assert.ok(server.sha2Cache.has('sha2'));
});

test('multi-results, errors before and after rows, the connection stays usable', async () => {
  const c = await Client.connect(opts);
  const rs = await c.queryMulti('multi');
  assert.equal(rs.length, 3);
  assert.equal(rs[0].affectedRows, 3);
  assert.equal(rs[0].insertId, 7);
  assert.deepEqual(rs[1].rows, [[1]]);
  assert.equal(rs[2].info, 'last');
  await assert.rejects(c.query('fail'), (e: any) => e.errno === 1146 && e.sqlState === '42S02');
  await assert.rejects(c.query('fail-mid'), (e: any) => e.errno === 1317);
  await assert.rejects(c.prepare('bad'), (e: any) => e.errno === 1064);
  await assert.rejects(c.execute(999, []), (e: any) => e.errno === 1243);
  await c.ping();
  assert.deepEqual((await c.query('types')).rows.length, 1);
  c.close();
});

test('prepared statements: parameters with types, long data, reset, close', async () => {
  const c = await Client.connect(opts);
  const stmt = await c.prepare('select ?, ?, ?');
  assert.equal(stmt.params.length, 3);
  await c.sendLongData(stmt, 1, Buffer.from('ab'));
  await c.sendLongData(stmt, 1, Buffer.from('cd'));
  const r = await c.execute(stmt, [5, 'ignored', null]);
  assert.deepEqual(r.rows, [['5,61626364,null']]);
  await c.sendLongData(stmt, 0, 'zz');
  await c.resetStatement(stmt);
  const r2 = await c.execute(stmt, [1n, 'x', { type: TYPE.DATETIME, value: '2020-01-01 00:00:01' }]);
  assert.deepEqual(r2.rows, [['1,x,2020-01-01 00:00:01']]);
  await c.closeStatement(stmt);
  await assert.rejects(c.execute(stmt, [1, 2, 3]), (e: any) => e.errno === 1243);
  c.close();
});

test('a big result streams with backpressure on both sides', async () => {
  const c = await Client.connect(opts);
  seen.drained = 0;
  let rows = 0;
  await c.stream('rows 200000', {
    row() {
      // A slow consumer: every 5000 rows it waits, which stops reading and fills the socket.
      if (++rows % 5000 === 0) return new Promise((r) => setTimeout(r, 5));
    },
  });
  assert.equal(rows, 200000);
  assert.ok(seen.drained > 0, 'the handler had to wait for the socket');
  c.close();
});

test('unknown commands get 1047, oversized packets end the connection, other clients carry on', async () => {
  const c = await Client.connect(opts);
  await assert.rejects(
    new Promise<void>((resolve, reject) => {
      c.rawCommand(Buffer.from([0x1d]), (p) => {
        if (p[0] === 0xff) reject(Object.assign(new Error('err'), { errno: p.readUInt16LE(1) }));
        else resolve();
        return true;
      }).catch(reject);
    }),
    (e: any) => e.errno === 1047,
  );
  await c.ping();
  const other = await Client.connect(opts);
  await assert.rejects(c.query('x'.repeat((1 << 20) + 10)), (e: any) => e.errno === 1153 || e.errno === 2006);
  assert.deepEqual((await other.query('types')).rows.length, 1);
  other.close();
});

test('connectionsMax refuses with 1040', async () => {
  const s = new Server(handler, { port: 0, connectionsMax: 1, tls: false });
  const p = await s.listen();
  const a = await Client.connect({ ...opts, port: p });
  await assert.rejects(Client.connect({ ...opts, port: p }), (e: any) => e.errno === 1040);
  a.close();
  await s.close(1000);
});

test('graceful drain lets the running command finish, then closes', async () => {
  const s = new Server(handler, { port: 0, tls: false });
  const p = await s.listen();
  const a = await Client.connect({ ...opts, port: p });
  const idle = await Client.connect({ ...opts, port: p });
  const running = a.query('slow');
  await new Promise((r) => setTimeout(r, 50));
  const closed = s.close(5000);
  const r = await running;
  assert.equal(r.info, 'slow done');
  await closed;
  assert.equal(s.connectionCount, 0);
  await assert.rejects(idle.ping());
  a.destroy();
});

test('idleTimeoutMs closes a connection without commands, not one that keeps sending or is running one', async () => {
  const s = new Server(handler, { port: 0, tls: false, idleTimeoutMs: 250 });
  const p = await s.listen();
  const busy = await Client.connect({ ...opts, port: p });
  const idle = await Client.connect({ ...opts, port: p });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  // Commands 100 ms apart for 600 ms: never idle for 250 ms.
  for (let i = 0; i < 6; i++) {
    await busy.ping();
    await sleep(100);
  }
  // A command running past the timeout (300 ms) is not cut off.
  assert.equal((await busy.query('slow')).info, 'slow done');
  await busy.ping();
  // The other connection sent nothing since its handshake: closed by now.
  await assert.rejects(idle.ping());
  assert.equal(s.connectionCount, 1);
  // And the first, once it stops sending.
  for (let i = 0; i < 40 && s.connectionCount > 0; i++) await sleep(50);
  assert.equal(s.connectionCount, 0);
  await assert.rejects(busy.ping());
  busy.destroy();
  idle.destroy();
  await s.close(1000);
});

test('TLS: a ClientHello arriving in the same read as the SSLRequest is not lost', async () => {
  const net = await import('node:net');
  const tls = await import('node:tls');
  const { Duplex } = await import('node:stream');
  const { CAP } = await import('../../../src/mysql/constants.js');
  const raw = net.connect({ host: '127.0.0.1', port, noDelay: true });
  // The server's handshake (one packet) first.
  await new Promise<void>((resolve) => raw.once('data', () => resolve()));
  raw.pause();
  const ssl = Buffer.alloc(4 + 32);
  ssl.writeUIntLE(32, 0, 3);
  ssl[3] = 1;
  ssl.writeUInt32LE(CAP.PROTOCOL_41 | CAP.SSL | CAP.SECURE_CONNECTION | CAP.PLUGIN_AUTH, 4);
  ssl.writeUInt32LE(1 << 24, 8);
  ssl[12] = CHARSET.UTF8MB4_GENERAL_CI;
  // TLS writes through this duplex: its first write (the ClientHello) goes out glued to the
  // SSLRequest, so the server reads both at once.
  let first = true;
  const glued = new Duplex({
    write(chunk: Buffer, _enc, cb) {
      raw.write(first ? Buffer.concat([ssl, chunk]) : chunk, cb);
      first = false;
    },
    read() {
      raw.resume();
    },
  });
  raw.on('data', (d: Buffer) => glued.push(d));
  // The server ends a handshake it never sees within handshakeTimeoutMs: fail then, do not hang.
  raw.on('close', () => glued.destroy(new Error('the server closed the connection during the TLS handshake')));
  const secure = tls.connect({ socket: glued, rejectUnauthorized: false });
  try {
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    assert.ok(secure.getProtocol()?.startsWith('TLS'), 'the TLS handshake completed');
  } finally {
    secure.destroy();
    raw.destroy();
  }
});
