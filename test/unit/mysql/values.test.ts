import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { PacketReader, PacketWriter } from '../../../src/mysql/packet.js';
import { decodeBinaryRow, decodeTextRow, encodeBinaryRow, encodeExecute, decodeExecute, scanExecute, decodeParamTypes, typedValue, type SqlValue, type TypedValue } from '../../../src/mysql/values.js';
import { TesseraError } from '../../../src/mysql/errors.js';
import { decodeColumnDefinition, decodeErr, decodeHandshake, decodeOk, isEofPacket } from '../../../src/mysql/protocol.js';
import { ed25519Scramble, nativePasswordHash, nativePasswordScramble, verifyNativePassword, cachingSha2Scramble, cachingSha2Hash, verifyCachingSha2 } from '../../../src/mysql/auth.js';
import { MARIADB_HANDSHAKE_HEX, columnDef, err, le, le64, lenc, lstr, ok, type Bytes } from './fixtures.js';

const UNSIGNED = 0x20;
const col = (type: number, flags = 0, charset = 63, decimals = 0) => ({ type, flags, charset, decimals });

// [column, text bytes, binary bytes, decoded value]
const CASES: [string, ReturnType<typeof col>, Bytes, Bytes, SqlValue][] = [
  ['tinyint', col(1), lstr('-128'), [0x80], -128],
  ['tinyint unsigned', col(1, UNSIGNED), lstr('255'), [0xff], 255],
  ['smallint', col(2), lstr('-32768'), le(0x8000, 2), -32768],
  ['mediumint', col(9), lstr('-8388608'), le(0xff800000, 4), -8388608],
  ['int', col(3), lstr('-2147483648'), le(0x80000000, 4), -2147483648],
  ['int unsigned', col(3, UNSIGNED), lstr('4294967295'), le(0xffffffff, 4), 4294967295],
  ['bigint', col(8), lstr('-9223372036854775808'), le64(-9223372036854775808n), -9223372036854775808n],
  ['bigint unsigned', col(8, UNSIGNED), lstr('18446744073709551615'), le64(18446744073709551615n), 18446744073709551615n],
  ['year', col(13, UNSIGNED), lstr('2155'), le(2155, 2), 2155],
  ['double', col(5, 0, 63, 31), lstr('-1.5e300'), [...Buffer.from(new Float64Array([-1.5e300]).buffer)], -1.5e300],
  ['float', col(4, 0, 63, 31), lstr('0.5'), [...Buffer.from(new Float32Array([0.5]).buffer)], 0.5],
  ['decimal', col(246, 0, 63, 5), lstr('-12345678901234567890.12345'), lstr('-12345678901234567890.12345'), '-12345678901234567890.12345'],
  ['date', col(10), lstr('2024-02-29'), [4, ...le(2024, 2), 2, 29], '2024-02-29'],
  ['zero date', col(10), lstr('0000-00-00'), [0], '0000-00-00'],
  ['datetime', col(12), lstr('2024-02-29 13:14:15'), [7, ...le(2024, 2), 2, 29, 13, 14, 15], '2024-02-29 13:14:15'],
  ['datetime(6)', col(12, 0, 63, 6), lstr('1000-01-01 00:00:00.000001'), [11, ...le(1000, 2), 1, 1, 0, 0, 0, ...le(1, 4)], '1000-01-01 00:00:00.000001'],
  ['datetime(3) midnight', col(12, 0, 63, 3), lstr('2024-01-01 00:00:00.000'), [4, ...le(2024, 2), 1, 1], '2024-01-01 00:00:00.000'],
  ['timestamp(2)', col(7, 0, 63, 2), lstr('2038-01-19 03:14:07.99'), [11, ...le(2038, 2), 1, 19, 3, 14, 7, ...le(990000, 4)], '2038-01-19 03:14:07.99'],
  ['time negative', col(11), lstr('-838:59:59'), [8, 1, ...le(34, 4), 22, 59, 59], '-838:59:59'],
  ['time(6)', col(11, 0, 63, 6), lstr('-00:00:00.500000'), [12, 1, 0, 0, 0, 0, 0, 0, 0, ...le(500000, 4)], '-00:00:00.500000'],
  ['time zero', col(11), lstr('00:00:00'), [0], '00:00:00'],
  ['bit', col(16, UNSIGNED), lstr([0x01, 0x02]), lstr([0x01, 0x02]), Buffer.from([1, 2])],
  ['varchar utf8mb4', col(253, 0, 45), lstr('héllo ☃'), lstr('héllo ☃'), 'héllo ☃'],
  ['char latin1', col(254, 0, 8), [2, 0xe9, 0x41], [2, 0xe9, 0x41], 'éA'],
  ['varbinary', col(253, 0x80, 63), lstr([0, 0xff, 0x10]), lstr([0, 0xff, 0x10]), Buffer.from([0, 0xff, 0x10])],
  ['blob', col(252, 0x90, 63), lstr([1, 2, 3]), lstr([1, 2, 3]), Buffer.from([1, 2, 3])],
  ['enum', col(254, 0x100, 45), lstr('b'), lstr('b'), 'b'],
  ['set', col(254, 0x800, 45), lstr('a,c'), lstr('a,c'), 'a,c'],
  ['json', col(252, 0x10, 45), lstr('{"a": [1, null]}'), lstr('{"a": [1, null]}'), '{"a": [1, null]}'],
  ['geometry', col(255, 0x90, 63), lstr([0, 0, 0, 0, 1, 1, 0, 0, 0]), lstr([0, 0, 0, 0, 1, 1, 0, 0, 0]), Buffer.from([0, 0, 0, 0, 1, 1, 0, 0, 0])],
];

test('text rows decode every type, NULL included', () => {
  for (const [name, c, text, , value] of CASES) {
    const row = decodeTextRow(Buffer.from([0xfb, ...text, 0xfb]), [c, c, c]);
    assert.deepEqual(row, [null, value, null], name);
  }
});

test('binary rows decode every type and re-encode to the same bytes', () => {
  for (const [name, c, , bin, value] of CASES) {
    // null bitmap with offset 2: columns 0 and 2 are NULL -> bits 2 and 4
    const payload = Buffer.from([0x00, 0b10100, ...bin]);
    assert.deepEqual(decodeBinaryRow(payload, [c, c, c]), [null, value, null], name);
    const out: Buffer[] = [];
    const w = new PacketWriter((b) => out.push(Buffer.from(b)));
    encodeBinaryRow(w, [c, c, c], [null, value, null]);
    w.flush();
    assert.deepEqual([...Buffer.concat(out).subarray(4)], [...payload], `${name} re-encoded`);
  }
});

test('execute parameters survive encode and decode with their types', () => {
  const params = [1, -5n, 18446744073709551615n, 1.25, 'text ☃', Buffer.from([0, 1]), null, true, { type: 12, value: '2020-01-02 03:04:05.600000' }, { type: 11, value: '-100:00:01' }].map(typedValue);
  const out: Buffer[] = [];
  const w = new PacketWriter((b) => out.push(Buffer.from(b)));
  encodeExecute(w, 42, params);
  w.flush();
  const payload = Buffer.concat(out).subarray(4);
  const req = decodeExecute(payload, () => params.length, () => null, () => undefined);
  assert.equal(req.stmtId, 42);
  assert.deepEqual(req.params.map((p) => p.value), [1n, -5n, 18446744073709551615n, 1.25, 'text ☃', Buffer.from([0, 1]), null, 1, '2020-01-02 03:04:05.600000', '-100:00:01']);
  assert.equal(req.params[2].unsigned, true);
  // a second execute may omit the types and reuse the previous ones
  const again = Buffer.from([0x17, ...le(42, 4), 0, ...le(1, 4), 0, 0, ...le64(-7n)]);
  const r2 = decodeExecute(again, () => 1, () => [{ type: 8, unsigned: false }], () => undefined);
  assert.deepEqual(r2.params.map((p) => p.value), [-7n]);
  assert.throws(() => decodeExecute(again, () => 1, () => null, () => undefined), (e: any) => e.errno === 1158);
});

/** One parameter per binary case above, with the wire type of its column. */
const PARAMS: TypedValue[] = CASES.map(([, c, , , v]) => ({ type: c.type, unsigned: (c.flags & UNSIGNED) !== 0, value: v }));

function executePayload(params: readonly TypedValue[]): Buffer {
  const out: Buffer[] = [];
  const w = new PacketWriter((b) => out.push(Buffer.from(b)));
  encodeExecute(w, 7, params);
  w.flush();
  return Buffer.concat(out).subarray(4);
}

test('scanExecute checks what decodeExecute reads, for every type, without decoding', () => {
  const params = [...PARAMS, { type: 253, value: null }, { type: 6, value: null }];
  const payload = executePayload(params);
  const types = scanExecute(payload, params.length, null);
  assert.ok(types);
  assert.deepEqual(decodeParamTypes(types), params.map((p) => ({ type: p.type, unsigned: p.unsigned === true })));
  // The types are a slice of the payload, right after the NULL bitmap and the bound flag.
  const at = 10 + ((params.length + 7) >> 3) + 1;
  assert.ok(types.equals(payload.subarray(at, at + 2 * params.length)));
  // Every truncation is refused, exactly when decoding refuses it.
  for (let cut = 1; cut < payload.length; cut++) {
    const short = payload.subarray(0, cut);
    const decoded = (() => {
      try {
        decodeExecute(short, () => params.length, () => null, () => undefined);
        return 'ok';
      } catch (e) {
        return e instanceof TesseraError ? e.errno : 'other';
      }
    })();
    const scanned = (() => {
      try {
        scanExecute(short, params.length, null);
        return 'ok';
      } catch (e) {
        return e instanceof TesseraError ? e.errno : 'other';
      }
    })();
    assert.equal(scanned, decoded, `cut at ${cut}`);
  }
  // Without types: the previous ones, and none at all is malformed like decodeExecute says.
  const again = Buffer.from([0x17, ...le(7, 4), 0, ...le(1, 4), 0, 0, ...le64(-7n)]);
  const prev = Buffer.from([8, 0]);
  assert.equal(scanExecute(again, 1, prev), prev);
  assert.throws(() => scanExecute(again, 1, null), (e: unknown) => e instanceof TesseraError && e.errno === 1158);
  assert.equal(scanExecute(Buffer.from([0x17, ...le(7, 4), 0, ...le(1, 4)]), 0, null), null);
});

test('OK, ERR, EOF and column definitions from fixture bytes', () => {
  const o = decodeOk(new PacketReader(Buffer.from([...ok(5, 70000, 0x0003, 2, 'info')])));
  assert.deepEqual(o, { affectedRows: 5, lastInsertId: 70000, statusFlags: 3, warnings: 2, info: 'info' });
  const big = decodeOk(new PacketReader(Buffer.from([0, 0xfe, ...le64(2n ** 60n), 0, 0, 0, 0, 0])));
  assert.equal(big.affectedRows, 2n ** 60n);
  const e = decodeErr(new PacketReader(Buffer.from(err(1062, '23000', "Duplicate entry '1'"))));
  assert.deepEqual([e.errno, e.sqlState, e.message], [1062, '23000', "Duplicate entry '1'"]);
  assert.ok(isEofPacket(Buffer.from([0xfe, 0, 0, 2, 0])));
  assert.ok(!isEofPacket(Buffer.from([0xfb])));
  const c = decodeColumnDefinition(new PacketReader(Buffer.from(columnDef({ name: 'price', charset: 63, length: 12, type: 246, flags: 0x1001, decimals: 2 }))));
  assert.deepEqual(c, { catalog: 'def', schema: 'db', table: 't', orgTable: 't', name: 'price', orgName: 'price', charset: 63, columnLength: 12, type: 246, flags: 0x1001, decimals: 2 });
  void lenc;
});

test("MariaDB's own handshake decodes", () => {
  const bytes = Buffer.from(MARIADB_HANDSHAKE_HEX, 'hex');
  const h = decodeHandshake(new PacketReader(bytes.subarray(4)));
  assert.equal(h.serverVersion, '5.5.5-10.11.19-MariaDB-0+deb12u1');
  assert.equal(h.connectionId, 5);
  assert.equal(h.authPluginData.length, 20);
  assert.equal(h.authPluginName, 'mysql_native_password');
  assert.equal(h.capabilities & 1, 0, 'MariaDB leaves CLIENT_MYSQL unset');
  assert.equal(h.mariadbCapabilities, 0x1d);
});

test('auth: native hash matches mysql.user, scrambles verify, ed25519 signs like MariaDB', () => {
  // mysql.user shows *D821809F681A40A6E379B50D0463EFAE20BDD122 for PASSWORD('pw')
  assert.equal(nativePasswordHash('pw').toString('hex').toUpperCase(), 'D821809F681A40A6E379B50D0463EFAE20BDD122');
  const nonce = Buffer.from('0123456789abcdefghij');
  assert.ok(verifyNativePassword(nativePasswordScramble('pw', nonce), nonce, nativePasswordHash('pw')));
  assert.ok(!verifyNativePassword(nativePasswordScramble('px', nonce), nonce, nativePasswordHash('pw')));
  assert.ok(verifyNativePassword(Buffer.alloc(0), nonce, null));
  assert.ok(verifyCachingSha2(cachingSha2Scramble('secret', nonce), nonce, cachingSha2Hash('secret')));
  assert.ok(!verifyCachingSha2(cachingSha2Scramble('secreT', nonce), nonce, cachingSha2Hash('secret')));
  // MariaDB stored this public key for IDENTIFIED VIA ed25519 USING PASSWORD('pw2')
  const pub = Buffer.from('iGRouygp5VwPhO1Nw3XHv2nRNSJmY6g6Clsn5zqjRqU', 'base64');
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: pub.toString('base64url') }, format: 'jwk' });
  const msg = Buffer.alloc(32, 7);
  assert.ok(verify(null, msg, key, ed25519Scramble('pw2', msg)));
});

test('a text row becomes the same binary row from its bytes as through decoded values', async () => {
  const { encodeBinaryRowFromText, encodeTextRow, textValue } = await import('../../../src/mysql/values.js');
  const { CHARSET, TYPE } = await import('../../../src/mysql/constants.js');
  const utf8 = CHARSET.UTF8MB4_GENERAL_CI;
  const cols = [
    { type: TYPE.TINY, charset: CHARSET.BINARY, text: '-7' },
    { type: TYPE.SHORT, charset: CHARSET.BINARY, text: '-32768' },
    { type: TYPE.YEAR, charset: CHARSET.BINARY, text: '2024' },
    { type: TYPE.INT24, charset: CHARSET.BINARY, text: '8388607' },
    { type: TYPE.LONG, charset: CHARSET.BINARY, text: '-2147483648' },
    { type: TYPE.LONGLONG, charset: CHARSET.BINARY, text: '-9223372036854775808' },
    { type: TYPE.LONGLONG, charset: CHARSET.BINARY, text: '18446744073709551615' },
    { type: TYPE.LONGLONG, charset: CHARSET.BINARY, text: '-123456789012345' },
    { type: TYPE.LONGLONG, charset: CHARSET.BINARY, text: '4294967296' },
    { type: TYPE.FLOAT, charset: CHARSET.BINARY, text: '1.5e-7' },
    { type: TYPE.DOUBLE, charset: CHARSET.BINARY, text: '-3.141592653589793' },
    { type: TYPE.NEWDECIMAL, charset: CHARSET.BINARY, text: '-12345.6789' },
    { type: TYPE.DATE, charset: CHARSET.BINARY, text: '2024-02-29' },
    { type: TYPE.DATETIME, charset: CHARSET.BINARY, text: '2024-02-29 23:59:58.123456' },
    { type: TYPE.TIMESTAMP, charset: CHARSET.BINARY, text: '0000-00-00 00:00:00' },
    { type: TYPE.TIME, charset: CHARSET.BINARY, text: '-838:59:59' },
    { type: TYPE.VAR_STRING, charset: utf8, text: 'grüße ✓' },
    { type: TYPE.BLOB, charset: utf8, text: 'x'.repeat(300) },
    { type: TYPE.NULL, charset: CHARSET.BINARY, text: null },
    { type: TYPE.LONG, charset: CHARSET.BINARY, text: null },
  ].map((c) => ({ ...c, flags: 0, decimals: 0 }));
  const textCells: (Buffer | null)[] = cols.map((c) => (c.text === null ? null : Buffer.from(c.text, 'utf8')));
  const capture = (f: (w: PacketWriter) => void): Buffer => {
    const parts: Buffer[] = [];
    const w = new PacketWriter((d) => void parts.push(Buffer.from(d)));
    f(w);
    w.flush();
    return Buffer.concat(parts);
  };
  // The text row as MariaDB would send it (one length-encoded string per cell, 0xfb for NULL).
  const payload = capture((w) => encodeTextRow(w, textCells.map((c) => (c === null ? null : c.toString('utf8'))))).subarray(4);
  const viaValues = capture((w) => encodeBinaryRow(w, cols, textCells.map((c, i) => (c === null ? null : textValue(cols[i], c)))));
  const fromBytes = capture((w) => encodeBinaryRowFromText(w, payload, cols));
  assert.equal(fromBytes.toString('hex'), viaValues.toString('hex'));
});
