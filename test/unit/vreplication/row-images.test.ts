// Row images as bytes on the target (row-images.ts), against images built by hand: the literals
// written from the bytes, the projection's order, NULLs, and malformed images refused as protocol
// errors (1158) rather than read past their end. The comparison over every column type with
// MariaDB's own images is test/integration/vreplication/row-images.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ColumnInfo } from '../../../src/mysql/binlog/index.js';
import { TYPE } from '../../../src/mysql/constants.js';
import { decodeImage, imagePlan, writeImageTuple } from '../../../src/vreplication/row-images.js';
import { SqlBytes } from '../../../src/vreplication/sql-bytes.js';

function col(index: number, type: number, extra: Partial<ColumnInfo> = {}): ColumnInfo {
  return { index, name: `c${index}`, type, meta: 0, nullable: true, unsigned: false, collation: undefined, values: undefined, decimals: 0, precision: 0, scale: 0, length: 0, geometryType: undefined, ...extra };
}

// id INT, name VARCHAR(40) utf8mb4, note BLOB, amount DECIMAL(10,2), big BIGINT UNSIGNED
const COLUMNS = [
  col(0, TYPE.LONG),
  col(1, TYPE.VARCHAR, { length: 40, collation: 45 }),
  col(2, TYPE.BLOB, { length: 2, collation: 63 }),
  col(3, TYPE.NEWDECIMAL, { precision: 10, scale: 2 }),
  col(4, TYPE.LONGLONG, { unsigned: true }),
];

function image(nullBits: number, ...values: Buffer[]): Buffer {
  return Buffer.concat([Buffer.from([nullBits]), ...values]);
}
const int32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v);
  return b;
};
const u64 = (v: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b;
};
const varchar = (s: string) => Buffer.concat([Buffer.from([Buffer.byteLength(s)]), Buffer.from(s)]);
const blob = (b: number[]) => Buffer.concat([Buffer.from([b.length, 0]), Buffer.from(b)]);
// DECIMAL(10,2) -1.50: 4 bytes of 8 integer digits, 1 byte of 2 fraction digits, sign bit flipped,
// negatives inverted.
const MINUS_1_50 = Buffer.from([0x7f, 0xff, 0xff, 0xfe, 0xcd]);

function tuple(ip: ReturnType<typeof imagePlan>, img: Buffer): string {
  const s = new SqlBytes(8);
  writeImageTuple(s, ip, img);
  return s.take().toString('utf8');
}

test('literals written from image bytes, in the stream’s column order, equal those of the decoded values', () => {
  const ip = imagePlan('d', 't', { columns: COLUMNS, columnIndexes: [4, 0, 1, 2, 3] }, [1]);
  const img = image(0, int32(-5), varchar("Näme'x"), blob([0, 255]), MINUS_1_50, u64(18446744073709551615n));
  const want = "(18446744073709551615,-5,'Näme\\'x',X'00ff','-1.50')";
  assert.equal(tuple(ip, img), want);
  const values = decodeImage(ip, img);
  assert.deepEqual(values, [18446744073709551615n, -5, "Näme'x", Buffer.from([0, 255]), '-1.50']);
  assert.equal(new SqlBytes().tuple(values).take().toString('utf8'), want);
  // NULLs by the bitmap (columns 1 and 3), an empty blob, a 2^53 boundary integer.
  const img2 = image(0b01010, int32(7), blob([]), u64(9007199254740993n));
  assert.equal(tuple(ip, img2), "(9007199254740993,7,NULL,'',NULL)");
});

test('malformed images are protocol errors, never reads past the image', () => {
  const ip = imagePlan('d', 't', { columns: COLUMNS, columnIndexes: [0, 1, 2, 3, 4] });
  const whole = image(0, int32(1), varchar('abc'), blob([1, 2, 3]), MINUS_1_50, u64(1n));
  assert.equal(tuple(ip, whole), "(1,'abc',X'010203','-1.50',1)");
  for (let cut = 0; cut < whole.length; cut++) {
    assert.throws(() => tuple(ip, whole.subarray(0, cut)), (e: Error & { errno?: number }) => e.errno === 1158 && /row image/.test(e.message), `cut at ${cut}`);
  }
  assert.throws(() => tuple(ip, Buffer.concat([whole, Buffer.from([0])])), (e: Error & { errno?: number }) => e.errno === 1158 && /after its last column/.test(e.message));
  // A length prefix past the end.
  const long = image(0, int32(1), Buffer.from([200, 0x61]));
  assert.throws(() => tuple(ip, long), (e: Error & { errno?: number }) => e.errno === 1158);
});
