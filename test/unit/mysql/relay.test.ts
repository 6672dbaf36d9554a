// The pass-through proxy's execute fast path: parameters travel as the client's bytes (never
// decoded by the proxy), and the server at the other end decodes exactly what it would get
// directly. Two upstreams built on our own server: one records raw payloads, one decodes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '../../../src/mysql/client.js';
import { Server, type ServerHandler } from '../../../src/mysql/server.js';
import { PassThroughHandler } from '../../../src/mysql/proxy.js';
import { PacketWriter } from '../../../src/mysql/packet.js';
import { TYPE } from '../../../src/mysql/constants.js';
import { encodeExecute, EXECUTE_PARAMS_OFFSET, typedValue, type TypedValue } from '../../../src/mysql/values.js';

// One parameter of every wire type a client may bind, NULLs included.
const PARAMS: TypedValue[] = [
  { type: TYPE.TINY, value: -128 },
  { type: TYPE.TINY, unsigned: true, value: 255 },
  { type: TYPE.SHORT, value: -32768 },
  { type: TYPE.LONG, value: -2147483648 },
  { type: TYPE.LONG, unsigned: true, value: 4294967295 },
  { type: TYPE.LONGLONG, value: -9223372036854775808n },
  { type: TYPE.LONGLONG, unsigned: true, value: 18446744073709551615n },
  { type: TYPE.YEAR, value: 2155 },
  { type: TYPE.FLOAT, value: 0.5 },
  { type: TYPE.DOUBLE, value: -1.5e300 },
  { type: TYPE.NEWDECIMAL, value: '-12345678901234567890.12345' },
  { type: TYPE.DATE, value: '2024-02-29' },
  { type: TYPE.DATETIME, value: '2024-02-29 13:14:15.123456' },
  { type: TYPE.TIMESTAMP, value: '2038-01-19 03:14:07' },
  { type: TYPE.TIME, value: '-838:59:59' },
  { type: TYPE.TIME, value: '00:00:00.500000' },
  { type: TYPE.VAR_STRING, value: 'héllo ☃' },
  { type: TYPE.STRING, value: 'x'.repeat(300) },
  { type: TYPE.BLOB, value: Buffer.from([0, 0xff, 0x10]) },
  { type: TYPE.BIT, value: Buffer.from([1, 2]) },
  { type: TYPE.JSON, value: '{"a": [1, null]}' },
  { type: TYPE.VAR_STRING, value: null },
  { type: TYPE.NULL, value: null },
  ...[1, -5n, 1.25, true, 'plain', Buffer.from('bytes')].map(typedValue),
];
const SQL = `select ${PARAMS.map(() => '?').join(', ')}`;

const rawPayloads: Buffer[] = [];
const decoded: TypedValue[][] = [];

function upstreamHandler(mode: 'raw' | 'decode'): ServerHandler {
  return {
    getUser: () => ({ password: 'pw' }),
    async query(_s, _sql, out) {
      out.end();
    },
    async prepare(_s, sql) {
      return { paramCount: (sql.match(/\?/g) ?? []).length, state: sql };
    },
    ...(mode === 'raw'
      ? {
          async executeRaw(_s, _stmt, payload, out) {
            rawPayloads.push(Buffer.from(payload));
            out.end();
          },
        }
      : {
          async execute(_s, _stmt, params, out) {
            decoded.push(params);
            out.end();
          },
        }),
  };
}

async function listen(handler: ServerHandler): Promise<number> {
  const s = new Server(handler, { port: 0, tls: false });
  const port = await s.listen();
  after(() => s.close(1000));
  return port;
}

const rawPort = await listen(upstreamHandler('raw'));
const decodePort = await listen(upstreamHandler('decode'));
const proxyTo = (port: number) => listen(new PassThroughHandler({ upstream: { host: '127.0.0.1', port }, users: { u: 'pw' } }));
const viaRaw = await proxyTo(rawPort);
const viaDecode = await proxyTo(decodePort);
const connect = (port: number) => Client.connect({ host: '127.0.0.1', port, user: 'u', password: 'pw' });

/** The COM_STMT_EXECUTE payload our client sends for `params`. */
function clientPayload(stmtId: number, params: readonly TypedValue[]): Buffer {
  const out: Buffer[] = [];
  const w = new PacketWriter((b) => out.push(Buffer.from(b)));
  encodeExecute(w, stmtId, params);
  w.flush();
  return Buffer.concat(out).subarray(4);
}

test('an execute passes through the proxy byte for byte, with and without types resent', async () => {
  rawPayloads.length = 0;
  const c = await connect(viaRaw);
  const stmt = await c.prepare(SQL);
  await c.execute(stmt, PARAMS);
  const sent = clientPayload(stmt.id, PARAMS);
  assert.equal(rawPayloads.length, 1);
  const got = rawPayloads[0];
  assert.ok(got.subarray(EXECUTE_PARAMS_OFFSET).equals(sent.subarray(EXECUTE_PARAMS_OFFSET)), 'parameter block untouched');
  assert.equal(got[0], 0x17);
  assert.equal(got[5], 0, 'no cursor flags');
  assert.equal(got.readUInt32LE(6), 1, 'iteration count');

  // MariaDB-style second execute: "new params bound" = 0, types remembered on both hops.
  const bitmapEnd = EXECUTE_PARAMS_OFFSET + ((PARAMS.length + 7) >> 3);
  const noTypes = Buffer.concat([sent.subarray(0, bitmapEnd), Buffer.from([0]), sent.subarray(bitmapEnd + 1 + 2 * PARAMS.length)]);
  await c.rawCommand(noTypes, (p) => {
    assert.equal(p[0], 0x00, 'OK');
    return true;
  });
  assert.equal(rawPayloads.length, 2);
  assert.ok(rawPayloads[1].subarray(EXECUTE_PARAMS_OFFSET).equals(noTypes.subarray(EXECUTE_PARAMS_OFFSET)));

  // A malformed execute still ends the connection at the proxy (it is checked, not decoded).
  const closed = new Promise((resolve) => c.once('close', resolve));
  let answer = -1;
  await c.rawCommand(sent.subarray(0, sent.length - 3), (p) => {
    answer = p[0];
    return true;
  });
  assert.equal(answer, 0xff, 'ERR');
  await closed;
  assert.equal(rawPayloads.length, 2, 'nothing malformed was relayed');
});

test('every type reaches the server as it would directly, long data included', async () => {
  decoded.length = 0;
  const direct = await connect(decodePort);
  const relayed = await connect(viaDecode);
  for (const c of [direct, relayed]) {
    const stmt = await c.prepare(SQL);
    await c.execute(stmt, PARAMS);
    // Long data is not in the execute payload: the proxy joins it in and re-encodes.
    await c.sendLongData(stmt, 16, 'long ');
    await c.sendLongData(stmt, 16, Buffer.from('data'));
    // As libmariadb does, the execute carries no value for a long-data parameter.
    await c.execute(stmt, PARAMS.map((p, i) => (i === 16 ? { type: p.type, value: null } : p)));
    await c.execute(stmt, PARAMS);
  }
  assert.equal(decoded.length, 6);
  const [d1, d2, d3, r1, r2, r3] = decoded;
  assert.deepEqual(r1, d1);
  assert.deepEqual(r3, d3);
  // Long data reaches a server as bytes; the proxy re-encodes them as the parameter's string type,
  // so the server at the end may see a string with those bytes. Everything else is identical.
  const text = (v: TypedValue['value']) => (Buffer.isBuffer(v) ? v.toString('utf8') : v);
  assert.deepEqual(r2.map((p) => ({ ...p, value: text(p.value) })), d2.map((p) => ({ ...p, value: text(p.value) })));
  assert.equal(text(r2[16].value), 'long data');
  assert.deepEqual(r2.slice(17), d2.slice(17));
  assert.deepEqual(r3, r1, 'long data is gone after the execute that used it');
  direct.close();
  relayed.close();
});
