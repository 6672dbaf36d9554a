// The VStream codec against bytes built by hand (a builder below that shares no code with the
// codec): both directions, every cut of every message, declared lengths over the maxima, corrupt
// input, and generated round trips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GtidPosition } from '../../../src/mysql/binlog/index.js';
import type { SqlValue } from '../../../src/mysql/values.js';
import { encodeMessage, decodeMessage, encodeFrame, FrameKind, FrameParser } from '../../../src/rpc/index.js';
import {
  decodeEvents,
  decodeRowsBatch,
  decodeValues,
  encodeEvents,
  encodeRowsBatch,
  encodeValues,
  eventSize,
  VSTREAM_CODEC_LIMITS,
} from '../../../src/vreplication/vstream-codec.js';
import type { RowsBatch, StreamEvent } from '../../../src/vreplication/index.js';

// ---- the fixture builder: plain byte arrays, little-endian written out --------------------------

type Bytes = number[];
const le = (n: number, width: number): Bytes => Array.from({ length: width }, (_, i) => Math.floor(n / 2 ** (8 * i)) % 256);
const le64 = (n: bigint): Bytes => Array.from({ length: 8 }, (_, i) => Number((BigInt.asUintN(64, n) >> BigInt(8 * i)) & 0xffn));
function f64(x: number): Bytes {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, x, true);
  return [...new Uint8Array(dv.buffer)];
}
const utf8 = (s: string): Bytes => [...new TextEncoder().encode(s)];
const str = (s: string): Bytes => [...le(utf8(s).length, 4), ...utf8(s)];
const gtid = (d: number, s: number, q: bigint): Bytes => [...le(d, 4), ...le(s, 4), ...le64(q)];
const pos = (...g: [number, number, bigint][]): Bytes => [...le(g.length, 2), ...g.flatMap((x) => gtid(...x))];
const V = {
  null: [0],
  num: (x: number): Bytes => [1, ...f64(x)],
  i64: (x: bigint): Bytes => [2, ...le64(x)],
  u64: (x: bigint): Bytes => [3, ...le64(x)],
  str: (s: string): Bytes => [4, ...str(s)],
  bytes: (b: Bytes): Bytes => [5, ...le(b.length, 4), ...b],
};
const row = (...values: Bytes[]): Bytes => [...le(values.length, 2), ...values.flat()];
const events = (...evs: Bytes[]): Bytes => [1, 1, ...le(evs.length, 4), ...evs.flat()];

const P1 = GtidPosition.parse('MariaDB/0-100-42,3-7-18446744073709551615');
const FIELDS = [
  { name: 'id', type: 8, unsigned: true, collation: undefined },
  { name: 'name', type: 15, unsigned: false, collation: 45 },
];
const FIELDS_JSON = '[{"name":"id","type":8,"unsigned":true,"collation":null},{"name":"name","type":15,"unsigned":false,"collation":45}]';

const IMG_COL = { index: 0, name: 'name', type: 15, meta: 40, nullable: true, unsigned: false, collation: 45, values: undefined, decimals: 0, precision: 0, scale: 0, length: 40, geometryType: undefined };
const IMG_JSON = '{"columns":[{"index":0,"name":"name","type":15,"meta":40,"nullable":true,"unsigned":false,"collation":45,"values":null,"decimals":0,"precision":0,"scale":0,"length":40,"geometryType":null}],"columnIndexes":[0]}';

const EVENTS: StreamEvent[] = [
  { type: 'begin', gtid: { domain: 0, server: 100, sequence: 43n }, timestamp: 1733400000 },
  { type: 'field', database: 'vt_commerce', table: 'customer', fields: FIELDS, primaryKey: ['id'] },
  {
    type: 'row',
    database: 'vt_commerce',
    table: 'customer',
    changes: [
      { before: null, after: [18446744073709551615n, 'café'] },
      { before: [-9223372036854775808n, Buffer.from([0, 255])], after: [1.5, null] },
      { before: [-0, ''], after: null },
    ],
  },
  { type: 'ddl', database: 'vt_commerce', statement: 'alter table customer add column x int' },
  { type: 'commit', gtid: { domain: 0, server: 100, sequence: 43n }, position: P1, timestamp: 1733400001 },
  { type: 'position', position: GtidPosition.EMPTY },
  { type: 'rollback', reason: 'connection lost' },
  { type: 'heartbeat', position: P1, lagSeconds: 0.25 },
  { type: 'field', database: 'd', table: 't', fields: [], primaryKey: undefined },
  // A column UPDATE before images leave out (VStreamRequest.keyOnlyBefore).
  { type: 'field', database: 'd', table: 'k', fields: [FIELDS[0], { ...FIELDS[1], inBefore: false }], primaryKey: ['id'] },
  // After images as bytes (VStreamRequest.rawAfterImages): the table's binlog columns, then rows.
  { type: 'field', database: 'd', table: 'r', fields: [FIELDS[1]], primaryKey: ['name'], image: { columns: [IMG_COL], columnIndexes: [0] } },
  {
    type: 'row',
    database: 'd',
    table: 'r',
    changes: [
      { before: null, after: ['a'], afterImage: Buffer.from([0, 1, 0x61]) },
      { before: ['a'], after: ['a'], afterImage: Buffer.from([1]) },
    ],
  },
];

const EVENTS_BYTES: Bytes = events(
  [1, ...gtid(0, 100, 43n), ...f64(1733400000)],
  [2, ...str('vt_commerce'), ...str('customer'), ...str(FIELDS_JSON), ...str('["id"]')],
  [
    3, ...str('vt_commerce'), ...str('customer'), ...le(3, 4),
    2, ...row(V.u64(18446744073709551615n), V.str('café')),
    3, ...row(V.i64(-9223372036854775808n), V.bytes([0, 255])), ...row(V.num(1.5), V.null),
    1, ...row(V.num(-0), V.str('')),
  ],
  [4, ...str('vt_commerce'), ...str('alter table customer add column x int')],
  [5, ...gtid(0, 100, 43n), ...pos([0, 100, 42n], [3, 7, 18446744073709551615n]), ...f64(1733400001)],
  [6, ...pos()],
  [7, ...str('connection lost')],
  [8, ...pos([0, 100, 42n], [3, 7, 18446744073709551615n]), ...f64(0.25)],
  [2, ...str('d'), ...str('t'), ...str('[]'), ...str('null')],
  [2, ...str('d'), ...str('k'), ...str('[{"name":"id","type":8,"unsigned":true,"collation":null},{"name":"name","type":15,"unsigned":false,"collation":45,"inBefore":false}]'), ...str('["id"]')],
  [9, ...str('d'), ...str('r'), ...str('[{"name":"name","type":15,"unsigned":false,"collation":45}]'), ...str('["name"]'), ...str(IMG_JSON)],
  [3, ...str('d'), ...str('r'), ...le(2, 4), 6, ...row(V.str('a')), ...le(3, 4), 0, 1, 0x61, 7, ...row(V.str('a')), ...row(V.str('a')), ...le(1, 4), 1],
);

const HEADER: RowsBatch = { kind: 'header', position: 'MariaDB/0-100-42', fields: FIELDS, pkColumns: ['a', 'b'] };
const HEADER_BYTES: Bytes = [1, 2, ...str('MariaDB/0-100-42'), ...str(FIELDS_JSON), ...str('["a","b"]')];
// An atomic copy's header names its table (kind 6).
const TABLE_HEADER: RowsBatch = { kind: 'header', position: 'MariaDB/0-100-42', fields: FIELDS, pkColumns: ['a', 'b'], table: 'child' };
const TABLE_HEADER_BYTES: Bytes = [1, 6, ...str('child'), ...str('MariaDB/0-100-42'), ...str(FIELDS_JSON), ...str('["a","b"]')];
const ROWS: RowsBatch = { kind: 'rows', rows: [[1n, 'x', Buffer.from('ab')], [2, null, Buffer.alloc(0)]], lastPk: [2n, 'zz'], done: true };
const ROWS_BYTES: Bytes = [
  1, 3, 1, ...row(V.i64(2n), V.str('zz')), ...le(2, 4),
  ...row(V.i64(1n), V.str('x'), V.bytes([0x61, 0x62])),
  ...row(V.num(2), V.null, V.bytes([])),
];
const VALUES: SqlValue[] = [2n ** 63n, 'k', Buffer.from([1])];
const VALUES_BYTES: Bytes = [1, 4, ...row(V.u64(2n ** 63n), V.str('k'), V.bytes([1]))];

const MESSAGES: { name: string; bytes: Bytes; decode: (b: Buffer) => unknown; want: unknown }[] = [
  { name: 'events', bytes: EVENTS_BYTES, decode: decodeEvents, want: EVENTS },
  { name: 'rows header', bytes: HEADER_BYTES, decode: decodeRowsBatch, want: HEADER },
  { name: 'rows header with its table', bytes: TABLE_HEADER_BYTES, decode: decodeRowsBatch, want: TABLE_HEADER },
  { name: 'rows', bytes: ROWS_BYTES, decode: decodeRowsBatch, want: ROWS },
  { name: 'values', bytes: VALUES_BYTES, decode: decodeValues, want: VALUES },
  { name: 'no events', bytes: events(), decode: decodeEvents, want: [] },
];

const isProtocolError = (e: unknown): boolean => (e as { errno?: number }).errno === 1158 && /vstream protocol error/.test((e as Error).message);

test('hand-built bytes decode to the expected values, and the encoder writes the same bytes', () => {
  for (const m of MESSAGES) assert.deepEqual(m.decode(Buffer.from(m.bytes)), m.want, m.name);
  assert.deepEqual([...encodeEvents(EVENTS)], EVENTS_BYTES);
  assert.deepEqual([...encodeRowsBatch(HEADER)], HEADER_BYTES);
  assert.deepEqual([...encodeRowsBatch(TABLE_HEADER)], TABLE_HEADER_BYTES);
  assert.deepEqual([...encodeRowsBatch(ROWS)], ROWS_BYTES);
  assert.deepEqual([...encodeValues(VALUES)], VALUES_BYTES);
  assert.equal(EVENTS.reduce((n, e) => n + eventSize(e), 6), EVENTS_BYTES.length, 'eventSize counts exactly what is written');
});

test('every message cut at every offset is a protocol error, never a partial result', () => {
  for (const m of MESSAGES) {
    for (let cut = 0; cut < m.bytes.length; cut++) {
      assert.throws(() => m.decode(Buffer.from(m.bytes.slice(0, cut))), isProtocolError, `${m.name} cut at ${cut}`);
    }
    assert.throws(() => m.decode(Buffer.from([...m.bytes, 0])), (e: Error) => isProtocolError(e) && /trailing/.test(e.message), `${m.name} with a trailing byte`);
  }
});

test('carried in RPC frames split at every offset, each message arrives whole and decodes the same', () => {
  const frames = Buffer.concat(MESSAGES.map((m, i) => encodeFrame(i + 1, FrameKind.StreamChunk, encodeMessage(null, [Buffer.from(m.bytes)]))));
  for (let cut = 0; cut <= frames.length; cut++) {
    const got: unknown[] = [];
    const p = new FrameParser();
    for (const part of [frames.subarray(0, cut), frames.subarray(cut)]) {
      p.push(part, (f) => got.push(MESSAGES[f.requestId - 1].decode(decodeMessage(f.body).blobs[0])));
    }
    assert.deepEqual(got, MESSAGES.map((m) => m.want), `cut at ${cut}`);
  }
});

test('declared counts and lengths beyond the message or a named maximum are refused before allocating', () => {
  const cases: [string, Bytes, (b: Buffer) => unknown, RegExp][] = [
    ['event count', [1, 1, 0xff, 0xff, 0xff, 0xff], decodeEvents, /event count 4294967295 exceeds what is left/],
    ['value count', [1, 4, ...le(VSTREAM_CODEC_LIMITS.rowValuesMax + 1, 2), ...Array(5000).fill(0)], decodeValues, /value count 4097 exceeds 4096/],
    ['string length', [1, 4, ...le(1, 2), 4, 0xff, 0xff, 0xff, 0x7f, 0x61], decodeValues, /truncated string value: needs 2147483647 bytes/],
    ['bytes length', [1, 4, ...le(1, 2), 5, 0xff, 0xff, 0xff, 0xff], decodeValues, /truncated bytes value: needs 4294967295 bytes/],
    ['change count', events([3, ...str('d'), ...str('t'), 0xff, 0xff, 0xff, 0x0f]), decodeEvents, /row change count 268435455 exceeds what is left/],
    ['position size', events([6, ...le(VSTREAM_CODEC_LIMITS.positionGtidsMax + 1, 2), ...Array(16 * 1025).fill(0)]), decodeEvents, /GTID count 1025 exceeds 1024/],
    ['row count', [1, 3, 0, ...row(), 0xff, 0xff, 0xff, 0xff], decodeRowsBatch, /row count 4294967295 exceeds what is left/],
  ];
  for (const [name, bytes, decode, re] of cases) {
    assert.throws(() => decode(Buffer.from(bytes)), (e: Error) => isProtocolError(e) && re.test(e.message), name);
  }
  // The encoder refuses a message above messageBytesMax, naming the limit.
  const huge = Buffer.alloc(VSTREAM_CODEC_LIMITS.messageBytesMax);
  assert.throws(() => encodeValues([huge]), (e: Error & { errno?: number }) => e.errno === 1153 && /messageBytesMax/.test(e.message));
});

test('malformed content is a protocol error: version, kind, tags, UTF-8, JSON, positions, flags', () => {
  const cases: [string, Bytes, (b: Buffer) => unknown, RegExp][] = [
    ['version', [2, 1, 0, 0, 0, 0], decodeEvents, /version 2 is not 1/],
    ['kind', [1, 3, 0, 0, 0, 0], decodeEvents, /kind 3 is not a events message/],
    ['rows kind', [1, 1, 0, 0, 0, 0], decodeRowsBatch, /kind 1 is not a rows message/],
    ['event type', events([10, 0, 0]), decodeEvents, /unknown event type 10/],
    ['value tag', [1, 4, ...row([6])], decodeValues, /unknown value tag 6/],
    ['utf-8', [1, 4, ...row([4, 1, 0, 0, 0, 0xc3])], decodeValues, /not valid UTF-8/],
    ['u64 in i64 range', [1, 4, ...row(V.u64(5n))], decodeValues, /fits i64/],
    ['fields json', events([2, ...str('d'), ...str('t'), ...str('{'), ...str('null')]), decodeEvents, /fields is not valid JSON/],
    ['fields shape', events([2, ...str('d'), ...str('t'), ...str('[{"name":1}]'), ...str('null')]), decodeEvents, /a field needs name/],
    ['inBefore', events([2, ...str('d'), ...str('t'), ...str('[{"name":"a","type":3,"unsigned":false,"collation":null,"inBefore":true}]'), ...str('null')]), decodeEvents, /inBefore may only be false/],
    ['key names', [1, 2, ...str('p'), ...str('[]'), ...str('null')], decodeRowsBatch, /key columns is not a list of names/],
    ['duplicate domain', events([6, ...pos([0, 1, 1n], [0, 2, 2n])]), decodeEvents, /domain 0 appears twice/],
    ['row images', events([3, ...str('d'), ...str('t'), ...le(1, 4), 0, 0, 0]), decodeEvents, /row images 0/],
    ['done flag', [1, 3, 2, ...row(), ...le(0, 4)], decodeRowsBatch, /done flag 2/],
    ['row image bits', events([3, ...str('d'), ...str('t'), ...le(1, 4), 4, ...le(0, 4)]), decodeEvents, /row images 4/],
    ['image shape', events([9, ...str('d'), ...str('t'), ...str('[]'), ...str('null'), ...str('{"columns":[]}')]), decodeEvents, /needs columns and columnIndexes/],
    ['image column', events([9, ...str('d'), ...str('t'), ...str('[]'), ...str('null'), ...str('{"columns":[{"index":0}],"columnIndexes":[]}')]), decodeEvents, /column 0 is malformed/],
    ['image index', events([9, ...str('d'), ...str('t'), ...str('[]'), ...str('null'), ...str('{"columns":[],"columnIndexes":[0]}')]), decodeEvents, /outside the table's 0 columns/],
  ];
  for (const [name, bytes, decode, re] of cases) {
    assert.throws(() => decode(Buffer.from(bytes)), (e: Error) => isProtocolError(e) && re.test(e.message), `${name}: ${re}`);
  }
});

// ---- generated round trips and corruption -----------------------------------------------------

// fast-check's records have a null prototype by default; decoded values have Object's.
function rec<T>(m: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(m, { noNullPrototype: true }) as unknown as fc.Arbitrary<T>;
}
const arbValue: fc.Arbitrary<SqlValue> = fc.oneof(
  fc.constant(null),
  fc.double(),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
);
const arbRow = fc.array(arbValue, { maxLength: 12 });
const arbGtid = rec({ domain: fc.nat({ max: 0xffffffff }), server: fc.nat({ max: 0xffffffff }), sequence: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) });
const arbPosition = fc.uniqueArray(arbGtid, { selector: (g) => g.domain, maxLength: 4 }).map((g) => GtidPosition.of(g));
const arbName = fc.string({ unit: 'grapheme', maxLength: 20 });
const arbFields = fc.array(
  rec({ name: arbName, type: fc.nat({ max: 255 }), unsigned: fc.boolean(), collation: fc.option(fc.nat({ max: 2047 }), { nil: undefined }) }),
  { maxLength: 6 },
);
const arbEvent: fc.Arbitrary<StreamEvent> = fc.oneof(
  rec({ type: fc.constant('begin' as const), gtid: arbGtid, timestamp: fc.double() }),
  rec({ type: fc.constant('field' as const), database: arbName, table: arbName, fields: arbFields, primaryKey: fc.option(fc.array(arbName, { maxLength: 3 }), { nil: undefined }) }),
  rec({
    type: fc.constant('row' as const),
    database: arbName,
    table: arbName,
    changes: fc.array(
      fc.oneof(
        rec({ before: fc.constant(null), after: arbRow }),
        rec({ before: arbRow, after: fc.constant(null) }),
        rec({ before: arbRow, after: arbRow }),
      ),
      { maxLength: 4 },
    ),
  }),
  rec({ type: fc.constant('ddl' as const), database: arbName, statement: fc.string({ unit: 'grapheme', maxLength: 60 }) }),
  rec({ type: fc.constant('commit' as const), gtid: arbGtid, position: arbPosition, timestamp: fc.double() }),
  rec({ type: fc.constant('position' as const), position: arbPosition }),
  rec({ type: fc.constant('rollback' as const), reason: arbName }),
  rec({ type: fc.constant('heartbeat' as const), position: arbPosition, lagSeconds: fc.double() }),
);
const arbBatch: fc.Arbitrary<RowsBatch> = fc.oneof(
  rec({ kind: fc.constant('header' as const), position: arbName, fields: arbFields, pkColumns: fc.array(arbName, { maxLength: 3 }) }),
  rec({ kind: fc.constant('header' as const), position: arbName, fields: arbFields, pkColumns: fc.array(arbName, { maxLength: 3 }), table: arbName }),
  rec({ kind: fc.constant('rows' as const), rows: fc.array(arbRow, { maxLength: 8 }), lastPk: arbRow, done: fc.boolean() }),
);

test('generated events, batches and values round-trip exactly (bigint, Buffer, -0, NaN, UTF-8)', () => {
  fc.assert(fc.property(fc.array(arbEvent, { maxLength: 8 }), (evs) => {
    const bytes = encodeEvents(evs);
    assert.equal(bytes.length, 6 + evs.reduce((n, e) => n + eventSize(e), 0));
    assert.deepEqual(decodeEvents(bytes), evs);
  }), { numRuns: 300 });
  fc.assert(fc.property(arbBatch, (b) => assert.deepEqual(decodeRowsBatch(encodeRowsBatch(b)), b)), { numRuns: 300 });
  fc.assert(fc.property(arbRow, (r) => assert.deepEqual(decodeValues(encodeValues(r)), r)), { numRuns: 300 });
});

test('corrupted messages decode or fail as protocol errors, never anything else', () => {
  const arbCorrupt = fc.tuple(fc.array(arbEvent, { minLength: 1, maxLength: 4 }), fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 6 }));
  fc.assert(fc.property(arbCorrupt, ([evs, flips]) => {
    const bytes = Buffer.from(encodeEvents(evs));
    for (const [at, v] of flips) bytes[at % bytes.length] = v;
    try {
      decodeEvents(bytes);
    } catch (err) {
      assert.ok(isProtocolError(err), `not a protocol error: ${(err as Error).stack}`);
    }
  }), { numRuns: 1000 });
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (a) => {
    for (const decode of [decodeEvents, decodeRowsBatch, decodeValues] as ((b: Buffer) => unknown)[]) {
      try {
        decode(Buffer.from(a));
      } catch (err) {
        assert.ok(isProtocolError(err), `not a protocol error: ${(err as Error).stack}`);
      }
    }
  }), { numRuns: 1000 });
});

test('strings on both sides of the short-string path: exact sizes, exact bytes, exact round trip', () => {
  const strings = ['', 'x'.repeat(63), 'x'.repeat(64), 'x'.repeat(65), 'é'.repeat(40), 'é'.repeat(70), 'a😀b', 'ascii then ü', '\u007f\u0080'];
  for (const s of strings) {
    const ev: StreamEvent = { type: 'row', database: 'd', table: 't', changes: [{ before: null, after: [s, Buffer.from(s)] }] };
    const buf = encodeEvents([ev]);
    assert.equal(buf.length, 6 + eventSize(ev), `size of ${JSON.stringify(s)}`);
    const [back] = decodeEvents(buf);
    assert.deepEqual(back, ev);
    const at = buf.indexOf(Buffer.from(s));
    assert.ok(s === '' || at > 0, 'the string is written as its UTF-8 bytes');
  }
});
