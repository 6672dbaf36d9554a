import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketParser, PacketReader, PacketWriter } from '../../../src/mysql/packet.js';
import { frame, le, lenc, ok, err, eof, columnDef, type Bytes } from './fixtures.js';

const FRAG = 0xffffff;

interface Got {
  payload: Buffer;
  first: number;
  last: number;
}

function parseAll(chunks: Buffer[], max = 1 << 26): Got[] {
  const got: Got[] = [];
  const p = new PacketParser(max, (payload, first, last) => got.push({ payload, first, last }), 16);
  for (const c of chunks) p.push(c);
  assert.equal(p.buffered, 0, 'nothing left over');
  return got;
}

const MESSAGES: [string, Bytes][] = [
  ['ok', ok(3, 1000, 0x0002, 1, 'Rows matched: 3')],
  ['err', err(1146, '42S02', "Table 'x.y' doesn't exist")],
  ['eof', eof(0, 0x0022)],
  ['column', columnDef({ name: 'id', charset: 63, length: 11, type: 3, flags: 0x4203, decimals: 0 })],
  ['empty', []],
  ['row', [...lenc(1), 0x31, 0xfb, ...lenc(300), ...Array(300).fill(0x61)]],
];

test('each message split at every offset gives the same payloads', () => {
  const stream = Buffer.from(MESSAGES.flatMap(([, m], i) => frame(i, m)));
  for (let cut = 0; cut <= stream.length; cut++) {
    const got = parseAll([stream.subarray(0, cut), stream.subarray(cut)]);
    assert.equal(got.length, MESSAGES.length, `cut at ${cut}`);
    got.forEach((g, i) => {
      assert.deepEqual([...g.payload], MESSAGES[i][1], `${MESSAGES[i][0]} cut at ${cut}`);
      assert.equal(g.first, i);
      assert.equal(g.last, i);
    });
  }
  // and byte by byte
  const got = parseAll([...stream].map((b) => Buffer.from([b])));
  assert.equal(got.length, MESSAGES.length);
});

test('emitted payloads stay valid after more data arrives', () => {
  const a = Buffer.from(frame(0, [1, 2, 3]).concat(frame(1, [4, 5]).slice(0, 2)));
  const got: Buffer[] = [];
  const p = new PacketParser(1 << 20, (payload) => got.push(payload), 16);
  p.push(a);
  const rest = Buffer.from(frame(1, [4, 5]).slice(2).concat(frame(2, [9, 9, 9, 9])));
  p.push(rest);
  p.push(Buffer.from(frame(3, [7])));
  assert.deepEqual(got.map((b) => [...b]), [[1, 2, 3], [4, 5], [9, 9, 9, 9], [7]]);
});

/** Feeds `chunks` through pushBorrowed from one reused buffer, scribbled over after every call. */
function parseBorrowed(chunks: Buffer[], chunkSizeMin = 16): Got[] {
  const got: Got[] = [];
  const p = new PacketParser(1 << 26, (payload, first, last) => got.push({ payload, first, last }), chunkSizeMin);
  const shared = Buffer.alloc(Math.max(1, ...chunks.map((c) => c.length)));
  for (const c of chunks) {
    c.copy(shared);
    p.pushBorrowed(shared, c.length);
    shared.fill(0xee);
  }
  assert.equal(p.buffered, 0, 'nothing left over');
  return got;
}

test('borrowed reads (a reused onread buffer): split at every offset, payloads stay valid', () => {
  const stream = Buffer.from(MESSAGES.flatMap(([, m], i) => frame(i, m)));
  for (let cut = 0; cut <= stream.length; cut++) {
    for (const slab of [16, 64, 4096]) {
      const got = parseBorrowed([stream.subarray(0, cut), stream.subarray(cut), Buffer.from(frame(9, [7, 7]))], slab);
      assert.equal(got.length, MESSAGES.length + 1, `cut at ${cut}, slab ${slab}`);
      got.slice(0, -1).forEach((g, i) => assert.deepEqual([...g.payload], MESSAGES[i][1], `${MESSAGES[i][0]} cut at ${cut}, slab ${slab}`));
      assert.deepEqual([...got[got.length - 1].payload], [7, 7]);
    }
  }
  const bytes = parseBorrowed([...stream].map((b) => Buffer.from([b])));
  assert.deepEqual(bytes.map((g) => [...g.payload]), MESSAGES.map(([, m]) => m));
});

function bigMessage(len: number): { bytes: Buffer; payload: Buffer; frags: number } {
  const payload = Buffer.alloc(len);
  for (let i = 0; i < len; i += 4099) payload[i] = (i / 4099) & 0xff;
  payload[len - 1] = 0x5a;
  const parts: Buffer[] = [];
  let seq = 7;
  let off = 0;
  let frags = 0;
  for (;;) {
    const n = Math.min(FRAG, len - off);
    parts.push(Buffer.from([...le(n, 3), seq++ & 0xff]), payload.subarray(off, off + n));
    frags++;
    off += n;
    if (n < FRAG) break;
  }
  return { bytes: Buffer.concat(parts), payload, frags };
}

test('16 MiB split and join: sizes around the fragment limit, cut around the boundaries', () => {
  for (const len of [FRAG - 1, FRAG, FRAG + 1, 2 * FRAG]) {
    const { bytes, payload, frags } = bigMessage(len);
    assert.equal(frags, Math.floor(len / FRAG) + 1, 'an exact fit ends with an empty packet');
    for (const cut of [1, 4, FRAG, FRAG + 3, FRAG + 4, FRAG + 5, bytes.length - 1]) {
      if (cut >= bytes.length) continue;
      const got = parseAll([bytes.subarray(0, cut), bytes.subarray(cut), Buffer.from(frame(9, [1]))]);
      assert.equal(got.length, 2, `len ${len} cut ${cut}`);
      if (cut === FRAG + 4) {
        // reads of 64 KiB from a reused buffer, as a socket with `onread` delivers them
        const reads: Buffer[] = [];
        for (let at = 0; at < bytes.length; at += 65536) reads.push(bytes.subarray(at, at + 65536));
        const borrowed = parseBorrowed([...reads, Buffer.from(frame(9, [1]))], 16 * 1024);
        assert.ok(borrowed[0].payload.equals(payload), `borrowed reads of ${len}`);
        assert.deepEqual([...borrowed[1].payload], [1]);
      }
      assert.equal(got[0].payload.length, len);
      assert.ok(got[0].payload.equals(payload));
      assert.equal(got[0].first, 7);
      assert.equal(got[0].last, (7 + frags - 1) & 0xff);
      assert.deepEqual([...got[1].payload], [1]);
    }
    // the writer produces the same framing
    const out: Buffer[] = [];
    const w = new PacketWriter((b) => out.push(Buffer.from(b)));
    w.seq = 7;
    w.begin().bytes(payload).end();
    w.flush();
    assert.ok(Buffer.concat(out).equals(bytes), `writer framing for ${len}`);
    assert.equal(w.seq, (7 + frags) & 0xff);
  }
});

test('declared length over packetSizeMax is refused before buffering', () => {
  const p = new PacketParser(1000, () => assert.fail('no message'), 16);
  assert.throws(() => p.push(Buffer.from([...le(1001, 3), 0])), (e: any) => e.errno === 1153);
  // the limit applies to the joined message, not to each fragment
  const q = new PacketParser(FRAG + 10, () => assert.fail('no message'), 16);
  q.push(Buffer.from([...le(FRAG, 3), 0]));
  q.push(Buffer.alloc(FRAG));
  assert.throws(() => q.push(Buffer.from([...le(11, 3), 1])), (e: any) => e.errno === 1153);
});

test('a continuation out of sequence is a protocol error', () => {
  const p = new PacketParser(1 << 26, () => assert.fail('no message'), 16);
  p.push(Buffer.from([...le(FRAG, 3), 3]));
  p.push(Buffer.alloc(FRAG));
  assert.throws(() => p.push(Buffer.from([...le(1, 3), 5, 0])), (e: any) => e.errno === 1156);
});

test('pause keeps the rest buffered until resume', () => {
  const got: number[] = [];
  const p = new PacketParser(1 << 20, (payload) => {
    got.push(payload[0]);
    if (payload[0] === 2) p.pause();
  });
  p.push(Buffer.from([...frame(0, [1]), ...frame(1, [2]), ...frame(2, [3])]));
  assert.deepEqual(got, [1, 2]);
  assert.ok(p.buffered > 0);
  p.resume();
  assert.deepEqual(got, [1, 2, 3]);
});

test('writer: fields, length-encoded integers at every boundary, slab bytes never rewritten', () => {
  const out: Buffer[] = [];
  const w = new PacketWriter((b) => out.push(b), 64);
  const values = [0, 250, 251, 0xffff, 0x10000, 0xffffff, 0x1000000, 2 ** 53 - 1];
  w.begin();
  for (const v of values) w.lenInt(v);
  w.lenInt(2n ** 64n - 1n).int1(0xab).int2(0x1234).int3(0x123456).int4(0xdeadbeef).int8(-2n).nulString('ab').lenString('héllo');
  w.end();
  w.flush();
  const expected: Bytes = [
    ...values.flatMap((v) => (v === 2 ** 53 - 1 ? [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0] : lenc(v))),
    0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xab, 0x34, 0x12, 0x56, 0x34, 0x12, 0xef, 0xbe, 0xad, 0xde,
    0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x61, 0x62, 0, 6, 0x68, 0xc3, 0xa9, 0x6c, 0x6c, 0x6f,
  ];
  const first = out.map((b) => Buffer.from(b));
  assert.deepEqual([...Buffer.concat(out)], frame(0, expected));
  // more packets after a flush must not touch bytes already handed out
  for (let i = 0; i < 50; i++) w.packet(Buffer.from([i, i, i]));
  w.flush();
  first.forEach((b, i) => assert.ok(b.equals(out[i])));
  const r = new PacketReader(Buffer.from(expected));
  for (const v of values) assert.equal(r.lenInt(), v);
  assert.equal(r.lenIntBig(), 2n ** 64n - 1n);
});

test('reader: every read is bounds-checked', () => {
  const r = new PacketReader(Buffer.from([0xfc, 0x01]));
  assert.throws(() => r.lenInt(), (e: any) => e.errno === 1158);
  assert.throws(() => new PacketReader(Buffer.from([1, 2, 3])).u32(), (e: any) => e.errno === 1158);
  assert.throws(() => new PacketReader(Buffer.from([0x61, 0x62])).nulString(), (e: any) => e.errno === 1158);
  assert.throws(() => new PacketReader(Buffer.from([5, 1])).lenBytes(), (e: any) => e.errno === 1158);
  assert.throws(() => new PacketReader(Buffer.from([0xff])).lenInt(), (e: any) => e.errno === 1158);
});
