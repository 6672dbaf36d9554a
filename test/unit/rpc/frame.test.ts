import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameParser, FrameKind, decodeMessage, encodeMessage, type Frame } from '../../../src/rpc/index.js';

// Fixture builder: writes frames byte by byte from the documented layout, sharing no code with the codec.
function fixtureFrame(requestId: number, kind: number, body: number[]): Buffer {
  const len = body.length + 6;
  return Buffer.from([len & 255, (len >> 8) & 255, (len >> 16) & 255, len >>> 24, requestId & 255, (requestId >> 8) & 255, (requestId >> 16) & 255, requestId >>> 24, kind, 0, ...body]);
}

function fixtureMessage(meta: string, blobs: number[][]): number[] {
  const u32 = (n: number) => [n & 255, (n >> 8) & 255, (n >> 16) & 255, n >>> 24];
  const m = [...Buffer.from(meta, 'utf8')];
  return [...u32(m.length), ...m, ...u32(blobs.length), ...blobs.flatMap((b) => [...u32(b.length), ...b])];
}

test('frames split at every offset parse to the same frames', () => {
  const stream = Buffer.concat([
    fixtureFrame(1, FrameKind.Request, [0, 0, 0, 0, 0, 0, ...fixtureMessage('{"a":1}', [[1, 2, 3]])]),
    fixtureFrame(2, FrameKind.Cancel, []),
    fixtureFrame(0xfffffffe, FrameKind.Response, fixtureMessage('null', [])),
  ]);
  const expected: Frame[] = [];
  new FrameParser().push(stream, (f) => expected.push({ ...f, body: Buffer.from(f.body) }));
  assert.equal(expected.length, 3);
  assert.deepEqual(expected.map((f) => [f.requestId, f.kind]), [[1, FrameKind.Request], [2, FrameKind.Cancel], [0xfffffffe, FrameKind.Response]]);
  for (let a = 0; a <= stream.length; a++) {
    for (let b = a; b <= stream.length; b += 3) {
      const got: Frame[] = [];
      const p = new FrameParser();
      for (const part of [stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)]) p.push(part, (f) => got.push({ ...f, body: Buffer.from(f.body) }));
      assert.deepEqual(got, expected, `split at ${a},${b}`);
    }
  }
});

test('message round trip and the fixture layout agree', () => {
  const blobs = [Buffer.from([]), Buffer.from('row bytes'), Buffer.alloc(70000, 7)];
  const enc = encodeMessage({ sql: 'select 1', n: 3, nested: [true, null] }, blobs);
  assert.deepEqual(enc, Buffer.from(fixtureMessage('{"sql":"select 1","n":3,"nested":[true,null]}', blobs.map((b) => [...b]))));
  const dec = decodeMessage(enc);
  assert.deepEqual(dec.meta, { sql: 'select 1', n: 3, nested: [true, null] });
  assert.deepEqual(dec.blobs.map((b) => Buffer.from(b)), blobs);
});

test('protocol violations are errors, not crashes', () => {
  const cases: [string, Buffer, RegExp][] = [
    ['length shorter than header', Buffer.from([2, 0, 0, 0, 1, 1]), /shorter than the header/],
    ['length above the maximum', Buffer.from([0xff, 0xff, 0xff, 0x7f]), /exceeds frameBytesMax/],
    ['unknown kind', fixtureFrame(1, 99, []), /unknown frame kind 99/],
  ];
  for (const [name, bytes, re] of cases) {
    assert.throws(() => new FrameParser(1024 * 1024).push(bytes, () => undefined), re, name);
  }
  assert.throws(() => decodeMessage(Buffer.from([5, 0, 0, 0, 0x7b])), /truncated/);
  assert.throws(() => decodeMessage(Buffer.from(fixtureMessage('{nope', []))), /not valid JSON/);
  assert.throws(() => decodeMessage(Buffer.from([...fixtureMessage('1', []).slice(0, 5), 0xff, 0xff, 0xff, 0xff])), /blob count/);
  assert.throws(() => decodeMessage(Buffer.from([...fixtureMessage('1', []), 9])), /trailing bytes/);
});

test('random bytes never throw anything but protocol errors', () => {
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 255;
  for (let i = 0; i < 20000; i++) {
    const bytes = Buffer.from(Array.from({ length: rnd() % 64 }, rnd));
    try {
      new FrameParser(4096).push(bytes, (f) => decodeMessage(f.body));
    } catch (err) {
      assert.match((err as Error).message, /rpc protocol error/);
    }
  }
});
