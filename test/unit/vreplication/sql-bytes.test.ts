// SqlBytes writes each value's literal straight into bytes; the text must be exactly what
// valueLiteral (the string formatter every other statement uses) writes, for every kind of value
// the binlog and the copy hand over, including strings that need escapes and multi-byte UTF-8.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { valueLiteral } from '../../../src/sql/index.js';
import { SqlBytes } from '../../../src/vreplication/sql-bytes.js';

const VALUES = [
  null,
  undefined,
  0,
  -1.5,
  1e21,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  9223372036854775807n,
  -9223372036854775808n,
  '',
  'plain',
  "it's",
  'back\\slash',
  'nul\0lf\ncr\r^Z\x1a',
  'Näme 😀 中文',
  '\u0080\u00ff',
  'x'.repeat(64),
  'x'.repeat(65),
  "a'".repeat(50),
  'é'.repeat(70),
  'plain then é',
  Buffer.alloc(0),
  Buffer.from([0, 1, 0x27, 0x5c, 0x7f, 0x80, 0xfe, 0xff]),
  Buffer.alloc(300, 0xab),
];

test('each value is written as valueLiteral writes it', () => {
  for (const v of VALUES) {
    const b = new SqlBytes(4);
    b.value(v);
    assert.equal(b.take().toString('utf8'), valueLiteral(v), `value ${String(v)}`);
  }
});

test('tuples grow the buffer, and take hands over exactly what was written', () => {
  const b = new SqlBytes(8);
  const want: string[] = [];
  for (let i = 0; i < 2000; i++) {
    const row = [BigInt(i), `e${i}@x`, i % 3 === 0 ? null : Buffer.from([i & 0xff]), 'ü'.repeat(i % 5)];
    if (i > 0) b.byte(0x2c);
    b.tuple(row);
    want.push('(' + row.map(valueLiteral).join(',') + ')');
  }
  assert.equal(b.length, Buffer.byteLength(want.join(',')));
  assert.equal(b.take().toString('utf8'), want.join(','));
  assert.equal(b.length, 0);
  b.ascii('SELECT 1');
  const mark = b.length;
  b.text(' -- cut');
  b.truncate(mark);
  assert.equal(b.copyOf(0).toString(), 'SELECT 1');
  assert.equal(b.take().toString(), 'SELECT 1');
});

test('literals from bytes (utf8Literal, hexLiteral) equal value() of the decoded string or Buffer, or decline', () => {
  const strings = VALUES.filter((v): v is string => typeof v === 'string').concat(['\ufeffbom', 'tab\there', '"dq"', '%_']);
  for (const s of strings) {
    const bytes = Buffer.from(s, 'utf8');
    const got = new SqlBytes(4);
    const wrote = got.utf8Literal(bytes, 0, bytes.length);
    const want = new SqlBytes().value(s).take().toString('utf8');
    if (wrote) assert.equal(got.take().toString('utf8'), want, JSON.stringify(s));
    // Declined only where value() escapes: the caller then writes the decoded string.
    else assert.ok(/['\\\0\n\r\x1a]/.test(s), `declined ${JSON.stringify(s)}`);
    const hex = new SqlBytes(4).hexLiteral(bytes, 0, bytes.length).take().toString('utf8');
    assert.equal(hex, new SqlBytes().value(bytes).take().toString('utf8'));
  }
  // Invalid UTF-8 is declined (decoding would turn it into U+FFFD), wherever it sits.
  for (const bad of [[0xff], [0x61, 0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf0, 0x9f, 0x99]]) {
    const b = Buffer.from([0x61, ...bad, 0x62]);
    assert.equal(new SqlBytes().utf8Literal(b, 0, b.length), false, `declined ${b.toString('hex')}`);
  }
  // A window inside a larger buffer.
  const big = Buffer.from("xx'ab'xx", 'utf8');
  const w = new SqlBytes();
  assert.equal(w.utf8Literal(big, 3, 5), true);
  assert.equal(w.take().toString('utf8'), "'ab'");
});

test('int writes a safe integer as String does', () => {
  const ns = [0, 1, -1, 9, 10, -10, 99, 100, 255, -128, 2147483647, -2147483648, 4294967295, 2 ** 53 - 1, -(2 ** 53 - 1), 1e15, 123456789012345];
  for (let i = 0; i < 2000; i++) ns.push(Math.floor((Math.random() - 0.5) * 2 ** (1 + (i % 53))));
  for (const n of ns) assert.equal(new SqlBytes(1).int(n).take().toString('latin1'), String(n), String(n));
});
