// qs.executeBinary's bodies (src/tablet/execute-codec.ts, docs/rpc.md): a fixture written byte by
// byte from the documented layout decodes to the request it describes, every request and reply
// shape survives a round trip, and a short or malformed body is a protocol error, never a guess.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { columnDefinition, TYPE } from '../../../src/mysql/index.js';
import {
  decodeExecuteReply,
  decodeExecuteRequest,
  encodeExecuteReply,
  encodeExecuteRequest,
  fieldsToJson,
  type FieldsCache,
} from '../../../src/tablet/execute-codec.js';
import type { ExecuteOptions, ExecuteResult } from '../../../src/tablet/query-service.js';
import type { TesseraError } from '../../../src/mysql/errors.js';
import { BINARY_ENVELOPE_BYTES, decodeRequest, encodeRequestPrefix, readBinaryEnvelope, writeBinaryEnvelope } from '../../../src/rpc/message.js';

const u16 = (n: number) => [n & 255, n >> 8];
const u32 = (n: number) => [n & 255, (n >> 8) & 255, (n >> 16) & 255, n >>> 24];
const f64 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(n);
  return [...b];
};
const s16 = (s: string) => [...u16(Buffer.byteLength(s)), ...Buffer.from(s)];
const s32 = (s: string) => [...u32(Buffer.byteLength(s)), ...Buffer.from(s)];

test('a request written from the documented layout decodes to its target, text and options', () => {
  const body = Buffer.from([
    9, 9, 9, // bytes before the body (the request prefix in a frame)
    1, 1 | 2 | 4 | 8, ...f64(0), ...f64(77), ...u32(1500),
    ...s16('commerce'), ...s16('-80'), ...s16('primary'), ...s32("select 'ü' from customer"),
    ...u16(2), ...s16('customer'), ...s16('corder'),
    ...s32('START TRANSACTION READ ONLY'),
  ]);
  const d = decodeExecuteRequest(body, 3);
  assert.deepEqual(d.target, { keyspace: 'commerce', shard: '-80', tabletType: 'primary' });
  assert.equal(d.sql, "select 'ü' from customer");
  assert.equal(d.bindVars, null);
  assert.deepEqual(d.opts, { reservedId: 77, timeoutMs: 1500, begin: true, clientFoundRows: true, tables: ['customer', 'corder'], beginStatement: 'START TRANSACTION READ ONLY' });
});

test('requests round-trip: no options, every option, bind variables, no tables vs an empty list', () => {
  const target = { keyspace: 'ks', shard: '0', tabletType: 'replica' as const };
  const cases: { opts: ExecuteOptions; bindVars: Record<string, unknown> | null }[] = [
    { opts: {}, bindVars: null },
    { opts: { tables: [] }, bindVars: null },
    { opts: { transactionId: 2 ** 40 + 3, reservedId: 5, begin: true, beginStatement: 'BEGIN', timeoutMs: 30_000, tables: ['t'], clientFoundRows: true }, bindVars: null },
    { opts: { timeoutMs: 10 }, bindVars: { v1: { kind: 'Number', text: '1', numType: 'int' }, l: { kind: 'List', items: [{ kind: 'String', value: 'x' }] } } },
  ];
  for (const c of cases) {
    const buf = encodeExecuteRequest(5, { target, sql: 'select :v1', bindVars: c.bindVars as never, opts: c.opts });
    const d = decodeExecuteRequest(buf, 5);
    assert.deepEqual(d.target, target);
    assert.equal(d.sql, 'select :v1');
    assert.deepEqual(d.bindVars, c.bindVars);
    assert.deepEqual(d.opts, c.opts);
  }
  // An empty bind-variable map is no bind variables (the tablet substitutes nothing either way).
  assert.equal(decodeExecuteRequest(encodeExecuteRequest(0, { target, sql: 'x', bindVars: {}, opts: {} }), 0).bindVars, null);
});

test('targets and table lists encoded once give the same bytes each time, and other ones their own', () => {
  const tables = ['tüt', 'corder'];
  const a = { keyspace: 'kä', shard: '-80', tabletType: 'primary' as const };
  const first = encodeExecuteRequest(0, { target: a, sql: 'select 1', bindVars: null, opts: { tables } });
  assert.ok(encodeExecuteRequest(0, { target: a, sql: 'select 1', bindVars: null, opts: { tables } }).equals(first));
  assert.ok(encodeExecuteRequest(0, { target: { ...a }, sql: 'select 1', bindVars: null, opts: { tables: [...tables] } }).equals(first));
  const b = { keyspace: 'kä', shard: '80-', tabletType: 'replica' as const };
  const d = decodeExecuteRequest(encodeExecuteRequest(0, { target: b, sql: 'select 2', bindVars: null, opts: { tables: ['x'] } }), 0);
  assert.deepEqual(d.target, b);
  assert.deepEqual(d.opts.tables, ['x']);
  assert.deepEqual(decodeExecuteRequest(first, 0).opts.tables, tables);
  const long = { keyspace: 'k'.repeat(70_000), shard: '0', tabletType: 'primary' as const };
  assert.throws(() => encodeExecuteRequest(0, { target: long, sql: 'x', bindVars: null, opts: {} }), /keyspace name of 70000 bytes is longer than 65535/);
});

const fields = [
  columnDefinition({ name: 'id', type: TYPE.LONGLONG, charset: 63, columnLength: 20 }),
  { ...columnDefinition({ name: 'j', type: TYPE.BLOB }), extendedMetadata: Buffer.from([1, 4, ...Buffer.from('json')]) },
];
const blob = Buffer.from(JSON.stringify(fieldsToJson(fields)));

test('replies round-trip, and the same fields bytes give the same definitions array', () => {
  const cache: FieldsCache = { blob: null, fields: [] };
  const plain: ExecuteResult = { fields, rows: [Buffer.from([1, 0x31, 2, 0x7b, 0x7d]), Buffer.alloc(0)], rowsAffected: 0, insertId: 0, warnings: 0, info: '', transactionId: 0, tabletAlias: 'zone1-0000000100' };
  const a = decodeExecuteReply(encodeExecuteReply(0, plain, blob, null).subarray(0), cache);
  assert.deepEqual(a, plain);
  const b = decodeExecuteReply(encodeExecuteReply(0, plain, blob, null), cache);
  assert.equal(b.fields, a.fields, 'the definitions of the same bytes are reused');
  const full: ExecuteResult = {
    fields: [], rows: [], rowsAffected: 3, insertId: '18446744073709551615', warnings: 2, info: 'Rows matched: 3  Changed: 3  Warnings: 2', transactionId: 2 ** 45, tabletAlias: 'zone1-0000000101',
    warningList: [{ level: 'Warning', code: 1265, message: "Data truncated for column 'x' at row 1" }],
    more: [{ fields, rows: [Buffer.from([1, 0x32])], rowsAffected: 0, insertId: 0, warnings: 0, info: '' }, { fields: [], rows: [], rowsAffected: 1, insertId: 9, warnings: 0, info: '' }],
  };
  const moreText = JSON.stringify(full.more!.map((x) => ({ ...x, fields: fieldsToJson(x.fields), rows: x.rows.map((r) => r.toString('base64')) })));
  const c = decodeExecuteReply(encodeExecuteReply(10, full, Buffer.from('[]'), moreText).subarray(10), cache);
  assert.deepEqual(c, full);
});

test('a short, padded or malformed body is a protocol error naming what is wrong', () => {
  const target = { keyspace: 'ks', shard: '0', tabletType: 'primary' as const };
  const req = encodeExecuteRequest(0, { target, sql: 'select 1', bindVars: null, opts: { tables: ['t'] } });
  const isProtocol = (re: RegExp) => (e: TesseraError) => e.errno === 1158 && /rpc protocol error/.test(e.message) && re.test(e.message);
  for (let n = 0; n < req.length; n++) assert.throws(() => decodeExecuteRequest(req.subarray(0, n), 0), isProtocol(/truncated/));
  assert.throws(() => decodeExecuteRequest(Buffer.concat([req, Buffer.from([0])]), 0), isProtocol(/1 trailing bytes/));
  const v2 = Buffer.from(req);
  v2[0] = 2;
  assert.throws(() => decodeExecuteRequest(v2, 0), isProtocol(/version 2 is not supported/));
  const badFlags = Buffer.from(req);
  badFlags[1] |= 64;
  assert.throws(() => decodeExecuteRequest(badFlags, 0), isProtocol(/unknown options/));
  const reply = encodeExecuteReply(0, { fields, rows: [Buffer.from('ab')], rowsAffected: 0, insertId: 0, warnings: 0, info: '', transactionId: 0, tabletAlias: 'a' }, blob, null);
  for (let n = 0; n < reply.length; n++) assert.throws(() => decodeExecuteReply(reply.subarray(0, n), { blob: null, fields: [] }), isProtocol(/truncated|exceeds/));
  // A row count the body cannot hold is refused before anything is allocated for it.
  const lying = Buffer.from(reply);
  lying.writeUInt32LE(0xfffffff0, reply.length - 2 - 4 - 4);
  assert.throws(() => decodeExecuteReply(lying, { blob: null, fields: [] }), isProtocol(/row count 4294967280 exceeds/));
});

test('a qs.executeBinary request parses as a message (meta null, one blob) for servers from before binary methods', () => {
  const target = { keyspace: 'ks', shard: '0', tabletType: 'primary' as const };
  const prefix = encodeRequestPrefix('qs.executeBinary', 0, 16);
  const body = encodeExecuteRequest(prefix.length + BINARY_ENVELOPE_BYTES, { target, sql: 'select 1', bindVars: null, opts: { tables: ['t'] } });
  prefix.copy(body, 0);
  writeBinaryEnvelope(body, prefix.length);
  // What an older server does with every request: the method, then a message.
  const old = decodeRequest(body);
  assert.equal(old.method, 'qs.executeBinary');
  assert.equal(old.message.meta, null);
  assert.equal(old.message.blobs.length, 1);
  // What this server does: the envelope checked, the request decoded from after it.
  const at = readBinaryEnvelope(body, prefix.length);
  assert.deepEqual(old.message.blobs[0], body.subarray(at));
  assert.equal(decodeExecuteRequest(body, at).sql, 'select 1');
  const bad = Buffer.from(body);
  bad.writeUInt32LE(5, prefix.length + 12);
  assert.throws(() => readBinaryEnvelope(bad, prefix.length), /without its envelope/);
});

test('placeholder values and binary rows round-trip; a value kind the codec does not know is a protocol error', () => {
  const target = { keyspace: 'ks', shard: '0', tabletType: 'primary' as const };
  const params = [
    { kind: 'Number', text: '-12', numType: 'int' },
    { kind: 'Number', text: '0.50', numType: 'decimal' },
    { kind: 'Number', text: '1e3', numType: 'float' },
    { kind: 'String', value: "it's ü", charset: null, national: false },
    { kind: 'Null' },
  ] as const;
  const buf = encodeExecuteRequest(0, { target, sql: 'select ?, ?, ?, ?, ?', bindVars: null, opts: { params, timeoutMs: 5 } });
  assert.deepEqual(decodeExecuteRequest(buf, 0).opts, { params, timeoutMs: 5 });
  // The layout: after the text, u16 count then (u8 kind, str32 text) per value.
  const tail = Buffer.from([...u16(1), 4, ...s32('x')]);
  const one = encodeExecuteRequest(0, { target, sql: 's', bindVars: null, opts: { params: [{ kind: 'String', value: 'x', charset: null, national: false }] } });
  assert.deepEqual(one.subarray(one.length - tail.length), tail);
  const bad = Buffer.from(one);
  bad[bad.length - tail.length + 2] = 9;
  assert.throws(() => decodeExecuteRequest(bad, 0), (e: TesseraError) => e.errno === 1158 && /kind 9 is unknown/.test(e.message));
  assert.throws(() => encodeExecuteRequest(0, { target, sql: 's', bindVars: null, opts: { params: [{ kind: 'Hex', digits: '41', form: 'x', charset: null }] } }), /Hex literal cannot be sent/);
  const fields = [columnDefinition({ name: 'c', type: TYPE.VAR_STRING })];
  const r: ExecuteResult = { fields, rows: [Buffer.from([0, 0, 1, 0x61])], rowsAffected: 0, insertId: 0, warnings: 0, info: '', transactionId: 0, tabletAlias: 'a', binaryRows: true };
  const cache: FieldsCache = { blob: null, fields: [] };
  const back = decodeExecuteReply(encodeExecuteReply(0, r, Buffer.from(JSON.stringify(fieldsToJson(fields))), null), cache);
  assert.equal(back.binaryRows, true);
  assert.deepEqual(back.rows, r.rows);
  assert.equal(decodeExecuteReply(encodeExecuteReply(0, { ...r, binaryRows: undefined }, Buffer.from('[]'), null), cache).binaryRows, undefined);
});
