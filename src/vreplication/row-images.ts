// After images as MariaDB's bytes, on the target (VStreamRequest.rawAfterImages): the source sends
// each INSERT row and UPDATE after image as the binlog holds it, with the table map's columns on
// the field event, and the target writes each value's SQL literal straight from those bytes into
// the statement, instead of the source decoding every value into a JS value, both sides encoding
// and decoding it in the VStream codec, and the target quoting it.
//
// The literals are exactly those of the value path (SqlBytes.value of the binlog reader's value;
// test/integration/vreplication/row-images.test.ts compares both for every column type):
// integers, UTF-8 text, binary strings, DECIMAL and DATETIME are written from the bytes (the
// DECIMAL walk mirrors rows.ts's decimalStr, writing digits instead of a string); every other type
// (DATE, TIME, TIMESTAMP, FLOAT/DOUBLE, ENUM/SET, BIT, BINARY(n), text in other character sets,
// text that needs escapes or is not valid UTF-8) is decoded by the binlog reader's own code
// (decodeRowImage) and written from its value, as before.
import { charsetOfCollation, decodeRowImage, ROW_KIND, rowPlan, TableMap, type Row, type RowPlan, type RowValue } from '../mysql/binlog/index.js';
import { ER, TesseraError } from '../mysql/errors.js';
import type { RowImageShape } from './row-streamer.js';
import type { SqlBytes } from './sql-bytes.js';

/** How a column's literal is written. */
const MODE = { decoded: 0, int: 1, int64: 2, uint64: 3, utf8: 4, hex: 5, datetime2: 6, decimal: 7 } as const;

/** A table's after images, compiled once per field event. */
export interface ImagePlan {
  readonly plan: RowPlan;
  readonly n: number;
  /** Source column index of each output column. */
  readonly columnIndexes: Int32Array;
  readonly mode: Uint8Array;
  /** Columns decoded into values (MODE.decoded among the output columns); undefined if none. */
  readonly decodeMask: Uint8Array;
  readonly present: Uint8Array;
  /** Scratch: each column's offset in the image being written (-1 NULL), and decoded values. */
  readonly offsets: Int32Array;
  readonly scratch: Row;
}

const UTF8_CHARSETS = new Set(['utf8mb4', 'utf8mb3', 'ascii']);

/** `keyColumns`: output positions of the target's key, decoded by every scan (the update's key test). */
export function imagePlan(database: string, table: string, shape: RowImageShape, keyColumns: readonly number[] = []): ImagePlan {
  let plan: RowPlan;
  try {
    plan = rowPlan(new TableMap({ tableId: 0, flags: 0, database, table, columns: shape.columns, primaryKey: undefined }));
  } catch (err) {
    throw new TesseraError(ER.NET_READ_ERROR, `vstream protocol error: the row image columns of ${table} cannot be decoded: ${(err as Error).message}`);
  }
  const n = shape.columns.length;
  const mode = new Uint8Array(n);
  const decodeMask = new Uint8Array(n);
  const K = ROW_KIND;
  for (let i = 0; i < n; i++) {
    const kind = plan.kind[i];
    const c = shape.columns[i];
    switch (kind) {
      case K.INT8:
      case K.UINT8:
      case K.INT16:
      case K.UINT16:
      case K.INT24:
      case K.UINT24:
      case K.INT32:
      case K.UINT32:
        mode[i] = MODE.int;
        break;
      case K.INT64:
        mode[i] = MODE.int64;
        break;
      case K.UINT64:
        mode[i] = MODE.uint64;
        break;
      case K.DATETIME2:
        mode[i] = MODE.datetime2;
        break;
      case K.DECIMAL:
        mode[i] = MODE.decimal;
        break;
      case K.VARSTR:
      case K.CHAR:
      case K.BLOB:
        if (plan.text[i] !== null) {
          const cs = c.collation === undefined ? undefined : charsetOfCollation(c.collation);
          mode[i] = cs !== undefined && UTF8_CHARSETS.has(cs) ? MODE.utf8 : MODE.decoded;
        } else {
          // Bytes kept as they are: hex, except BINARY(n), which the reader pads to n.
          mode[i] = kind === K.CHAR && plan.b[i] > 0 ? MODE.decoded : MODE.hex;
        }
        break;
      default:
        mode[i] = MODE.decoded;
    }
  }
  for (const i of shape.columnIndexes) if (mode[i] === MODE.decoded) decodeMask[i] = 1;
  for (const k of keyColumns) decodeMask[shape.columnIndexes[k]] = 1;
  return {
    plan,
    n,
    columnIndexes: Int32Array.from(shape.columnIndexes),
    mode,
    decodeMask,
    present: new Uint8Array(n).fill(1),
    offsets: new Int32Array(n),
    scratch: new Array(n),
  };
}

function badImage(err: unknown): TesseraError {
  return new TesseraError(ER.NET_READ_ERROR, `vstream protocol error: a row image does not match its table's columns: ${(err as Error).message}`);
}

/**
 * Walks the image: offsets of every column into ip.offsets, values of the decoded ones (and the
 * key's) into ip.scratch, by source column index; writeImageTuple(…, true) then writes from them.
 */
export function scanImage(ip: ImagePlan, img: Buffer): void {
  let end: number;
  try {
    end = decodeRowImage(img, 0, img.length, ip.plan, ip.present, ip.n, ip.scratch, ip.decodeMask, ip.offsets);
  } catch (err) {
    throw badImage(err);
  }
  if (end !== img.length) throw badImage(new Error(`the image has ${img.length - end} bytes after its last column`));
}

/** `(v1,v2,…)` of the image's columns in the stream's order, as SqlBytes.tuple writes the values. */
export function writeImageTuple(sql: SqlBytes, ip: ImagePlan, img: Buffer, scanned = false): void {
  if (!scanned) scanImage(ip, img);
  const idx = ip.columnIndexes;
  const offsets = ip.offsets;
  const A = ip.plan.a;
  sql.byte(0x28);
  for (let k = 0; k < idx.length; k++) {
    if (k > 0) sql.byte(0x2c);
    const i = idx[k];
    const at = offsets[i];
    if (at < 0) {
      sql.ascii('NULL');
      continue;
    }
    switch (ip.mode[i]) {
      case MODE.int:
        sql.int(intAt(img, at, ip.plan.kind[i]));
        break;
      case MODE.int64: {
        const hi = img.readInt32LE(at + 4);
        // Within ±2^53 a number prints as the bigint does.
        if (hi >= -0x200000 && hi < 0x200000) sql.int(hi * 4294967296 + img.readUInt32LE(at));
        else sql.ascii(img.readBigInt64LE(at).toString());
        break;
      }
      case MODE.uint64: {
        const hi = img.readUInt32LE(at + 4);
        if (hi < 0x200000) sql.int(hi * 4294967296 + img.readUInt32LE(at));
        else sql.ascii(img.readBigUInt64LE(at).toString());
        break;
      }
      case MODE.utf8: {
        const a = A[i];
        const len = lengthAt(img, at, a);
        const start = at + a;
        if (!sql.utf8Literal(img, start, start + len)) sql.value(ip.plan.text[i]!(img, start, start + len));
        break;
      }
      case MODE.hex: {
        const a = A[i];
        const len = lengthAt(img, at, a);
        sql.hexLiteral(img, at + a, at + a + len);
        break;
      }
      case MODE.datetime2:
        if (!datetime2(sql, img, at, A[i])) sql.value(decodeOne(ip, img, i));
        break;
      case MODE.decimal:
        if (!decimal(sql, img, at, A[i], ip.plan.b[i])) sql.value(decodeOne(ip, img, i));
        break;
      default:
        sql.value(ip.scratch[i]);
    }
  }
  sql.byte(0x29);
}

/** The image's values in the stream's order, as the binlog reader decodes them (for the statements that need values). */
export function decodeImage(ip: ImagePlan, img: Buffer): RowValue[] {
  const row: Row = new Array(ip.n);
  let end: number;
  try {
    end = decodeRowImage(img, 0, img.length, ip.plan, ip.present, ip.n, row);
  } catch (err) {
    throw badImage(err);
  }
  if (end !== img.length) throw badImage(new Error(`the image has ${img.length - end} bytes after its last column`));
  const out: RowValue[] = new Array(ip.columnIndexes.length);
  for (let k = 0; k < out.length; k++) out[k] = row[ip.columnIndexes[k]] as RowValue;
  return out;
}

/** One column's value as the reader decodes it (the rare fallbacks of the direct writers). */
function decodeOne(ip: ImagePlan, img: Buffer, i: number): RowValue {
  const want = new Uint8Array(ip.n);
  want[i] = 1;
  const row: Row = new Array(ip.n);
  decodeRowImage(img, 0, img.length, ip.plan, ip.present, ip.n, row, want);
  return row[i] as RowValue;
}

const SEC_PART_BYTES = [0, 1, 1, 2, 2, 3, 3];

/**
 * A DATETIME2 value's literal ('YYYY-MM-DD HH:MM:SS[.fraction]', as the reader's string) written
 * from its bytes; false (nothing written) for a year past 9999, which the reader prints otherwise.
 */
function datetime2(sql: SqlBytes, b: Buffer, at: number, fsp: number): boolean {
  const intpart = b[at] * 4294967296 + b.readUInt32BE(at + 1) - 0x8000000000;
  const ymd = Math.floor(intpart / 131072);
  const hms = intpart - ymd * 131072;
  const ym = ymd >>> 5;
  const y = Math.floor(ym / 13);
  if (intpart < 0 || y > 9999) return false;
  let us = 0;
  switch (SEC_PART_BYTES[fsp]) {
    case 1:
      us = b[at + 5] * 10000;
      break;
    case 2:
      us = b.readUInt16BE(at + 5) * 100;
      break;
    case 3:
      us = b.readUIntBE(at + 5, 3);
      break;
  }
  const h = hms >>> 12;
  const mi = (hms >>> 6) & 63;
  const s = hms & 63;
  const m = ym % 13;
  const d = ymd & 31;
  const out = sql.reserve(2 + 19 + (fsp > 0 ? 1 + fsp : 0));
  const o = sql.length;
  out[o] = 0x27;
  out[o + 1] = 0x30 + Math.floor(y / 1000);
  out[o + 2] = 0x30 + (Math.floor(y / 100) % 10);
  out[o + 3] = 0x30 + (Math.floor(y / 10) % 10);
  out[o + 4] = 0x30 + (y % 10);
  out[o + 5] = 0x2d;
  two(out, o + 6, m);
  out[o + 8] = 0x2d;
  two(out, o + 9, d);
  out[o + 11] = 0x20;
  two(out, o + 12, h);
  out[o + 14] = 0x3a;
  two(out, o + 15, mi);
  out[o + 17] = 0x3a;
  two(out, o + 18, s);
  let p = o + 20;
  if (fsp > 0) {
    out[p++] = 0x2e;
    // The fraction's first fsp of six digits.
    let div = 100000;
    for (let k = 0; k < fsp; k++) {
      out[p++] = 0x30 + (Math.floor(us / div) % 10);
      div /= 10;
    }
  }
  out[p++] = 0x27;
  sql.length = p;
  return true;
}

const DIG2BYTES = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];

/**
 * A DECIMAL value's literal (the reader's exact string, quoted: '-12.50') written from MySQL's
 * binary form: groups of 9 digits in 4 big-endian bytes, the sign in the top bit, negatives
 * inverted. False (nothing written) for a group out of range, which the reader reports.
 */
function decimal(sql: SqlBytes, b: Buffer, pos: number, precision: number, scale: number): boolean {
  const intg = precision - scale;
  const intg0 = (intg / 9) | 0;
  const intg0x = intg % 9;
  const frac0 = (scale / 9) | 0;
  const frac0x = scale % 9;
  const negative = (b[pos] & 0x80) === 0;
  const mask = negative ? 0xff : 0;
  const out = sql.reserve(3 + precision + 2);
  const start = sql.length;
  // Room for the sign in front: the body is written after it and moved back if it has none.
  let o = start + 2;
  let p = pos;
  let first = true;
  let nonZero = false;
  const group = (nbytes: number): number => {
    let v = 0;
    for (let k = 0; k < nbytes; k++) {
      let byte = b[p + k] ^ mask;
      if (first) {
        byte ^= 0x80;
        first = false;
      }
      v = v * 256 + byte;
    }
    p += nbytes;
    return v;
  };
  const digits = (v: number, width: number): void => {
    // width 0: as many digits as v has.
    let n = width;
    if (n === 0) for (let m = v; m > 0; m = Math.floor(m / 10)) n++;
    for (let k = n - 1; k >= 0; k--) {
      const d = v % 10;
      out[o + k] = 0x30 + d;
      v = (v - d) / 10;
    }
    o += n;
  };
  let started = false;
  if (intg0x > 0) {
    const v = group(DIG2BYTES[intg0x]);
    if (v >= 10 ** intg0x) return false;
    if (v !== 0) {
      digits(v, 0);
      started = nonZero = true;
    }
  }
  for (let g = 0; g < intg0; g++) {
    const v = group(4);
    if (v > 999999999) return false;
    if (started) digits(v, 9);
    else if (v !== 0) {
      digits(v, 0);
      started = nonZero = true;
    }
  }
  if (!started) out[o++] = 0x30;
  if (scale > 0) {
    out[o++] = 0x2e;
    for (let g = 0; g < frac0; g++) {
      const v = group(4);
      if (v > 999999999) return false;
      if (v !== 0) nonZero = true;
      digits(v, 9);
    }
    if (frac0x > 0) {
      const v = group(DIG2BYTES[frac0x]);
      if (v >= 10 ** frac0x) return false;
      if (v !== 0) nonZero = true;
      digits(v, frac0x);
    }
  }
  // MariaDB never stores negative zero; an inverted zero prints without its sign, as the reader's.
  if (negative && nonZero) {
    out[start] = 0x27;
    out[start + 1] = 0x2d;
  } else {
    out.copyWithin(start + 1, start + 2, o);
    out[start] = 0x27;
    o--;
  }
  out[o++] = 0x27;
  sql.length = o;
  return true;
}

/** Two decimal digits of 0 ≤ v < 100. */
function two(out: Buffer, at: number, v: number): void {
  out[at] = 0x30 + Math.floor(v / 10);
  out[at + 1] = 0x30 + (v % 10);
}

function intAt(b: Buffer, at: number, kind: number): number {
  const K = ROW_KIND;
  switch (kind) {
    case K.INT8:
      return b.readInt8(at);
    case K.UINT8:
      return b[at];
    case K.INT16:
      return b.readInt16LE(at);
    case K.UINT16:
      return b.readUInt16LE(at);
    case K.INT24:
      return b.readIntLE(at, 3);
    case K.UINT24:
      return b.readUIntLE(at, 3);
    case K.INT32:
      return b.readInt32LE(at);
    default:
      return b.readUInt32LE(at);
  }
}

function lengthAt(b: Buffer, at: number, a: number): number {
  return a === 1 ? b[at] : a === 2 ? b.readUInt16LE(at) : a === 3 ? b.readUIntLE(at, 3) : b.readUInt32LE(at);
}
