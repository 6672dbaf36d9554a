// Event decoding from bytes built here by hand (a fixture builder that shares no code with the
// decoder), and a fuzz test: corrupted events fail with a 1610 naming the event, never a crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { EventDecoder, type BinlogEvent, type RowsEvent } from '../../../src/mysql/binlog/index.js';
import { TesseraError } from '../../../src/mysql/errors.js';

function event(type: number, body: Buffer, opts: { crc?: boolean; pos?: number } = {}): Buffer {
  const crc = opts.crc ?? true;
  const size = 19 + body.length + (crc ? 4 : 0);
  const h = Buffer.alloc(19);
  h.writeUInt32LE(1700000000, 0);
  h[4] = type;
  h.writeUInt32LE(100, 5);
  h.writeUInt32LE(size, 9);
  h.writeUInt32LE((opts.pos ?? 4) + size, 13);
  h.writeUInt16LE(0, 17);
  const ev = Buffer.concat([h, body]);
  if (!crc) return ev;
  const c = Buffer.alloc(4);
  c.writeUInt32LE(zlib.crc32(ev), 0);
  return Buffer.concat([ev, c]);
}

function fde(): Buffer {
  const post = Buffer.alloc(171, 0);
  post[19 - 1] = 8; // TABLE_MAP post-header: 6-byte table id + flags
  const ver = Buffer.alloc(50);
  ver.write('10.11.99-MariaDB-fixture', 'latin1');
  const body = Buffer.concat([Buffer.from([4, 0]), ver, Buffer.from([0, 0, 0, 0, 19]), post, Buffer.from([1])]);
  return event(15, body);
}

const lenStr = (s: string): Buffer => Buffer.concat([Buffer.from([Buffer.byteLength(s)]), Buffer.from(s)]);

// t(id INT UNSIGNED PK, name VARCHAR(20) utf8mb4, amount DECIMAL(10,2), at DATETIME(3), data BLOB NULL)
function tableMap(): Buffer {
  const head = Buffer.from([0x2a, 0, 0, 0, 0, 0, 1, 0]);
  const names = Buffer.concat(['id', 'name', 'amount', 'at', 'data'].map(lenStr));
  const opt = Buffer.concat([
    Buffer.from([1, 1, 0b10000000]), // SIGNEDNESS: id unsigned, amount signed
    Buffer.from([3, 2, 45, 63]), // COLUMN_CHARSET: name utf8mb4, data binary
    Buffer.from([4, names.length]),
    names,
    Buffer.from([8, 1, 0]), // SIMPLE_PRIMARY_KEY: column 0
  ]);
  const body = Buffer.concat([
    head,
    Buffer.from([2]),
    Buffer.from('db\0'),
    Buffer.from([1]),
    Buffer.from('t\0'),
    Buffer.from([5, 0x03, 0x0f, 0xf6, 0x12, 0xfc]),
    Buffer.from([6, 80, 0, 10, 2, 3, 2]), // metadata: varchar 80 bytes, decimal(10,2), datetime2(3), blob 2-byte length
    Buffer.from([0b00010000]), // only `data` nullable
    opt,
  ]);
  return event(19, body);
}

function decimal10_2(intPart: number, frac: number, negative: boolean): Buffer {
  const b = Buffer.alloc(5);
  b.writeUInt32BE(intPart, 0);
  b[4] = frac;
  b[0] |= 0x80;
  if (negative) for (let i = 0; i < 5; i++) b[i] ^= 0xff;
  return b;
}

function datetime2ms(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): Buffer {
  const ymd = ((y * 13 + mo) << 5) | d;
  const hms = (h << 12) | (mi << 6) | s;
  const packed = BigInt(ymd) * 131072n + BigInt(hms) + 0x8000000000n;
  const b = Buffer.alloc(7);
  for (let i = 0; i < 5; i++) b[i] = Number((packed >> BigInt(8 * (4 - i))) & 0xffn);
  b.writeUInt16BE(ms * 10, 5);
  return b;
}

function row(id: number, name: string, dec: Buffer, dt: Buffer, data: Buffer | null): Buffer {
  const idb = Buffer.alloc(4);
  idb.writeUInt32LE(id, 0);
  const nb = Buffer.from(name);
  const parts = [Buffer.from([data === null ? 0b10000 : 0]), idb, Buffer.from([nb.length]), nb, dec, dt];
  if (data !== null) {
    const l = Buffer.alloc(2);
    l.writeUInt16LE(data.length, 0);
    parts.push(l, data);
  }
  return Buffer.concat(parts);
}

const R1 = row(4294967295, 'héllo 日本', decimal10_2(1234, 56, false), datetime2ms(2024, 2, 29, 13, 14, 15, 123), Buffer.from([0, 1, 2]));
const R2 = row(7, '', decimal10_2(1234, 56, true), datetime2ms(1000, 1, 1, 0, 0, 0, 0), null);

function rowsEvent(type: number, rows: Buffer, v2: boolean, update = false): Buffer {
  const head = Buffer.from([0x2a, 0, 0, 0, 0, 0, 1, 0]);
  const extra = v2 ? Buffer.from([2, 0]) : Buffer.alloc(0);
  const bitmaps = update ? Buffer.from([5, 0x1f, 0x1f]) : Buffer.from([5, 0x1f]);
  return event(type, Buffer.concat([head, extra, bitmaps, rows]));
}

function xid(): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(99n, 0);
  return event(16, b);
}

function stream(): Buffer[] {
  return [fde(), tableMap(), rowsEvent(30, Buffer.concat([R1, R2]), true), rowsEvent(24, Buffer.concat([R1, R2]), false, true), rowsEvent(25, R2, false), xid()];
}

const V1 = [4294967295, 'héllo 日本', '1234.56', '2024-02-29 13:14:15.123', Buffer.from([0, 1, 2])];
const V2 = [7, '', '-1234.56', '1000-01-01 00:00:00.000', null];

test('decodes FORMAT_DESCRIPTION, TABLE_MAP with optional metadata, rows v1/v2, XID', () => {
  const d = new EventDecoder({ file: 'fixture-bin.000001' });
  const evs = stream().map((b) => d.decode(b));
  assert.deepEqual(evs.map((e) => e.kind), ['formatDescription', 'tableMap', 'rows', 'rows', 'rows', 'xid']);
  const tm = evs[1];
  assert.ok(tm.kind === 'tableMap');
  assert.deepEqual(tm.table.columnNames(), ['id', 'name', 'amount', 'at', 'data']);
  assert.deepEqual(tm.table.primaryKey, [0]);
  const w = evs[2] as RowsEvent;
  assert.equal(w.action, 'insert');
  assert.equal(w.version, 2);
  assert.deepEqual(w.rows, [{ before: null, after: V1 }, { before: null, after: V2 }]);
  const u = evs[3] as RowsEvent;
  assert.equal(u.action, 'update');
  assert.deepEqual(u.rows, [{ before: V1, after: V2 }]);
  const del = evs[4] as RowsEvent;
  assert.deepEqual(del.rows, [{ before: V2, after: null }]);
  assert.equal((evs[5] as Extract<BinlogEvent, { kind: 'xid' }>).xid, 99n);
});

test('rowKeyFilter: images are decoded for the key column, then whole only when kept; the rest are left out', () => {
  // Keep rows whose id is 7 (R2); the filter sees only the id column decoded.
  const seen: unknown[][] = [];
  const keepId7 = {
    columns: Uint8Array.from([1, 0, 0, 0, 0]),
    keepMany(rows: readonly (readonly unknown[])[], from: number, to: number, out: Uint8Array) {
      for (let i = from; i < to; i++) {
        seen.push([...rows[i]]);
        out[i - from] = rows[i][0] === 7 ? 1 : 0;
      }
    },
  };
  const d = new EventDecoder({ file: 'fixture-bin.000001', rowKeyFilter: () => keepId7 });
  const evs = stream().map((b) => d.decode(b));
  assert.deepEqual((evs[2] as RowsEvent).rows, [{ before: null, after: V2 }]);
  // An update from R1 to R2: the before image is out (null), the after image in.
  assert.deepEqual((evs[3] as RowsEvent).rows, [{ before: null, after: V2 }]);
  assert.deepEqual((evs[4] as RowsEvent).rows, [{ before: V2, after: null }]);
  // The images the filter saw carried the key column alone.
  assert.deepEqual(seen, [[4294967295, null, null, null, null], [7, null, null, null, null], [4294967295, null, null, null, null], [7, null, null, null, null], [7, null, null, null, null]]);
  const none = new EventDecoder({ rowKeyFilter: () => ({ ...keepId7, keepMany: (_r: unknown, from: number, to: number, out: Uint8Array) => out.fill(0, 0, to - from) }) });
  const left = stream().map((b) => none.decode(b));
  for (const k of [2, 3, 4]) assert.deepEqual((left[k] as RowsEvent).rows, []);
});

test('fuzz: with a rowKeyFilter, decoding never crashes with anything but a 1610', () => {
  const evs = stream();
  const rnd = prng(31);
  const half = {
    columns: Uint8Array.from([1, 0, 0, 0, 0]),
    keepMany(rows: readonly (readonly unknown[])[], from: number, to: number, out: Uint8Array) {
      for (let i = from; i < to; i++) out[i - from] = typeof rows[i][0] === 'number' && (rows[i][0] as number) % 2 === 1 ? 1 : 0;
    },
  };
  let rejected = 0;
  for (let iter = 0; iter < 3000; iter++) {
    const target = 1 + Math.floor(rnd() * (evs.length - 1));
    const d = new EventDecoder({ verifyChecksums: false, rowKeyFilter: () => half });
    for (let k = 0; k < target; k++) d.decode(evs[k]);
    try {
      d.decode(mutate(evs[target], rnd));
    } catch (e) {
      assert.ok(e instanceof TesseraError && e.errno === 1610 && e.message.includes(NAMES[evs[target][4]]), `iteration ${iter}: ${String(e)}`);
      rejected++;
    }
  }
  assert.ok(rejected > 0);
});

/** Small deterministic PRNG so a failure reproduces. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMES: Record<number, string> = { 15: 'FORMAT_DESCRIPTION', 19: 'TABLE_MAP', 30: 'WRITE_ROWS_V2', 24: 'UPDATE_ROWS_V1', 25: 'DELETE_ROWS_V1', 16: 'XID' };

function mutate(b: Buffer, rnd: () => number): Buffer {
  const c = Buffer.from(b);
  const what = Math.floor(rnd() * 4);
  if (what === 0) {
    // Flip bits of one byte past the header's size field.
    const i = 19 + Math.floor(rnd() * (c.length - 19));
    c[i] ^= 1 + Math.floor(rnd() * 255);
    return c;
  }
  if (what === 1) {
    const n = 1 + Math.floor(rnd() * 4);
    for (let k = 0; k < n; k++) {
      const i = 19 + Math.floor(rnd() * (c.length - 19));
      c[i] = (c[i] + 1 + Math.floor(rnd() * 255)) & 0xff;
    }
    return c;
  }
  // Truncate or extend, keeping the header's size consistent so the body parser sees it.
  const len = what === 2 ? 19 + Math.floor(rnd() * (c.length - 19)) : c.length + 1 + Math.floor(rnd() * 8);
  const out = Buffer.alloc(len);
  c.copy(out, 0, 0, Math.min(len, c.length));
  out.writeUInt32LE(len, 9);
  return out;
}

test('fuzz: corrupted events with checksums fail with 1610 naming the event', () => {
  const evs = stream();
  const rnd = prng(11);
  for (let iter = 0; iter < 3000; iter++) {
    const target = 1 + Math.floor(rnd() * (evs.length - 1));
    const d = new EventDecoder({ file: 'fuzz-bin.000001' });
    for (let k = 0; k < target; k++) d.decode(evs[k]);
    const bad = mutate(evs[target], rnd);
    assert.throws(
      () => d.decode(bad),
      (e: unknown) => e instanceof TesseraError && e.errno === 1610 && e.message.includes(NAMES[evs[target][4]]) && e.message.includes('fuzz-bin.000001'),
      `iteration ${iter}, event ${NAMES[evs[target][4]]}`,
    );
  }
});

test('fuzz: without checksum verification, decoding never crashes with anything but a 1610', () => {
  const evs = stream();
  const rnd = prng(29);
  let decoded = 0;
  let rejected = 0;
  for (let iter = 0; iter < 5000; iter++) {
    const target = 1 + Math.floor(rnd() * (evs.length - 1));
    const d = new EventDecoder({ verifyChecksums: false });
    for (let k = 0; k < target; k++) d.decode(evs[k]);
    const bad = mutate(evs[target], rnd);
    try {
      d.decode(bad);
      decoded++;
    } catch (e) {
      assert.ok(e instanceof TesseraError && e.errno === 1610 && e.message.includes(NAMES[evs[target][4]]), `iteration ${iter}: ${String(e)}`);
      rejected++;
    }
  }
  assert.ok(rejected > 0 && decoded + rejected === 5000);
});

test('a corrupt FORMAT_DESCRIPTION and short or unknown events name themselves', () => {
  const d = new EventDecoder({ file: 'x-bin.000002' });
  const f = fde();
  f[30] ^= 0xff;
  assert.throws(() => d.decode(f), /FORMAT_DESCRIPTION at x-bin\.000002:4: CRC32 mismatch/);
  assert.throws(() => new EventDecoder().decode(Buffer.alloc(5)), (e: unknown) => e instanceof TesseraError && e.errno === 1610);
  const d2 = new EventDecoder();
  d2.decode(fde());
  assert.throws(() => d2.decode(rowsEvent(23, R1, false)), /WRITE_ROWS_V1 .*no TABLE_MAP for table id 42/);
});
