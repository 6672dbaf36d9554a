// Row images of WRITE/UPDATE/DELETE_ROWS events, decoded into JS values. This is the hot path of
// every stream: a table map is compiled once into a flat plan (one small integer kind per column),
// and each row is one pass over the bytes with a switch per value, no per-column closures.
//
// Values (what `SELECT` returns, in one canonical JS form per type):
//   integers up to 32 bits, YEAR, FLOAT, DOUBLE    number (FLOAT: the shortest decimal of the float32)
//   BIGINT (signed or unsigned)                    bigint
//   DECIMAL                                        string, exact, with all scale digits ('-1.50')
//   DATE, DATETIME, TIME                           string ('2024-02-29', '2024-02-29 23:59:59.123', '-838:59:59')
//   TIMESTAMP                                      string in UTC ('2038-01-19 03:14:07')
//   CHAR/VARCHAR/TEXT/JSON with a text collation   string
//   BINARY/VARBINARY/BLOB, GEOMETRY, BIT           Buffer (BINARY padded to its length like SELECT does)
//   ENUM, SET                                      string ('' for the error value), or the number when
//                                                  the binlog lacks the member names
//   NULL                                           null
//   absent from a partial (MINIMAL/NOBLOB) image   undefined
// Buffers are views into the event's bytes: copy one to keep it after the event is dropped.
import { TYPE } from '../constants.js';
import { stringDecoderFor, type StringDecoderFn } from './charset.js';
import { DecodeError, readLenenc, type ColumnInfo, type TableMap } from './table-map.js';

export type RowValue = null | number | bigint | string | Buffer;
/** One row image; `undefined` marks a column the image does not include. */
export type Row = (RowValue | undefined)[];

export interface RowChange {
  /** The row before the change (UPDATE, DELETE); null for INSERT. */
  readonly before: Row | null;
  /** The row after the change (INSERT, UPDATE); null for DELETE. */
  readonly after: Row | null;
  /**
   * With decodeRows' `afterWant`: the after image's bytes as the event holds them (null bitmap,
   * then every column's value; a view into the event), and `after` holds only the wanted columns
   * (the others null). Only for FULL images.
   */
  readonly afterImage?: Buffer;
}

const K = {
  INT8: 0,
  UINT8: 1,
  INT16: 2,
  UINT16: 3,
  INT24: 4,
  UINT24: 5,
  INT32: 6,
  UINT32: 7,
  INT64: 8,
  UINT64: 9,
  FLOAT: 10,
  DOUBLE: 11,
  DECIMAL: 12,
  YEAR: 13,
  DATE: 14,
  TIME_OLD: 15,
  TIME_HIRES: 16,
  DATETIME_OLD: 17,
  DATETIME_HIRES: 18,
  TIMESTAMP_OLD: 19,
  TIMESTAMP_HIRES: 20,
  TIME2: 21,
  DATETIME2: 22,
  TIMESTAMP2: 23,
  VARSTR: 24,
  CHAR: 25,
  BLOB: 26,
  ENUM: 27,
  SET: 28,
  BIT: 29,
  NULLTYPE: 30,
  UNSUPPORTED: 31,
} as const;

/** A table map compiled for decoding row images (rowPlan). */
export interface RowPlan {
  readonly n: number;
  readonly kind: Uint8Array;
  /** Kind-specific: length-prefix bytes, pack length, fraction digits, precision. */
  readonly a: Int32Array;
  /** Kind-specific: scale, pad-to length. */
  readonly b: Int32Array;
  readonly text: (StringDecoderFn | null)[];
  readonly values: (readonly string[] | undefined)[];
  readonly names: readonly string[];
}

type Plan = RowPlan;

const plans = new WeakMap<TableMap, Plan>();

function compile(t: TableMap): Plan {
  const n = t.columns.length;
  const kind = new Uint8Array(n);
  const a = new Int32Array(n);
  const b = new Int32Array(n);
  const text: (StringDecoderFn | null)[] = new Array(n).fill(null);
  const values: (readonly string[] | undefined)[] = new Array(n).fill(undefined);
  for (let i = 0; i < n; i++) {
    const c: ColumnInfo = t.columns[i];
    if ((c.type === TYPE.TIME || c.type === TYPE.DATETIME || c.type === TYPE.TIMESTAMP) && c.decimals < 0) {
      throw new DecodeError(
        `column ${t.columnNames()[i]} of ${t.database}.${t.table} has the MariaDB 5.3 temporal format, whose fraction digits the binlog does not carry: ` +
          'give the reader oldTemporalHints from the schema (the row streamer does), or ALTER the table to the current format',
      );
    }
    const u = c.unsigned;
    switch (c.type) {
      case TYPE.TINY:
        kind[i] = u ? K.UINT8 : K.INT8;
        break;
      case TYPE.SHORT:
        kind[i] = u ? K.UINT16 : K.INT16;
        break;
      case TYPE.INT24:
        kind[i] = u ? K.UINT24 : K.INT24;
        break;
      case TYPE.LONG:
        kind[i] = u ? K.UINT32 : K.INT32;
        break;
      case TYPE.LONGLONG:
        kind[i] = u ? K.UINT64 : K.INT64;
        break;
      case TYPE.FLOAT:
        kind[i] = K.FLOAT;
        break;
      case TYPE.DOUBLE:
        kind[i] = K.DOUBLE;
        break;
      case TYPE.NEWDECIMAL:
        kind[i] = K.DECIMAL;
        a[i] = c.precision;
        b[i] = c.scale;
        break;
      case TYPE.YEAR:
        kind[i] = K.YEAR;
        break;
      case TYPE.DATE:
      case TYPE.NEWDATE:
        kind[i] = K.DATE;
        break;
      case TYPE.TIME:
        kind[i] = c.decimals === 0 ? K.TIME_OLD : K.TIME_HIRES;
        a[i] = c.decimals;
        break;
      case TYPE.DATETIME:
        kind[i] = c.decimals === 0 ? K.DATETIME_OLD : K.DATETIME_HIRES;
        a[i] = c.decimals;
        break;
      case TYPE.TIMESTAMP:
        kind[i] = c.decimals === 0 ? K.TIMESTAMP_OLD : K.TIMESTAMP_HIRES;
        a[i] = c.decimals;
        break;
      case TYPE.TIME2:
        kind[i] = K.TIME2;
        a[i] = c.decimals;
        break;
      case TYPE.DATETIME2:
        kind[i] = K.DATETIME2;
        a[i] = c.decimals;
        break;
      case TYPE.TIMESTAMP2:
        kind[i] = K.TIMESTAMP2;
        a[i] = c.decimals;
        break;
      case TYPE.VARCHAR:
      case TYPE.VAR_STRING:
        kind[i] = K.VARSTR;
        a[i] = c.length > 255 ? 2 : 1;
        text[i] = c.collation === undefined ? null : stringDecoderFor(c.collation);
        break;
      case TYPE.STRING:
        kind[i] = K.CHAR;
        a[i] = c.length > 255 ? 2 : 1;
        text[i] = c.collation === undefined ? null : stringDecoderFor(c.collation);
        // The binlog strips BINARY(n)'s trailing zero bytes; SELECT returns all n.
        b[i] = text[i] === null && c.collation === 63 ? c.length : 0;
        break;
      case TYPE.BLOB:
      case TYPE.TINY_BLOB:
      case TYPE.MEDIUM_BLOB:
      case TYPE.LONG_BLOB:
      case TYPE.JSON:
        kind[i] = K.BLOB;
        a[i] = c.length;
        text[i] = c.collation === undefined ? null : stringDecoderFor(c.collation);
        break;
      case TYPE.GEOMETRY:
        kind[i] = K.BLOB;
        a[i] = c.length;
        break;
      case TYPE.ENUM:
        kind[i] = K.ENUM;
        a[i] = c.length;
        values[i] = c.values;
        if (a[i] !== 1 && a[i] !== 2) throw new DecodeError(`ENUM column ${t.columnNames()[i]} has pack length ${a[i]} (1 or 2)`);
        break;
      case TYPE.SET:
        kind[i] = K.SET;
        a[i] = c.length;
        values[i] = c.values;
        if (a[i] < 1 || a[i] > 8) throw new DecodeError(`SET column ${t.columnNames()[i]} has pack length ${a[i]} (1..8)`);
        break;
      case TYPE.BIT: {
        kind[i] = K.BIT;
        const bits = c.meta & 0xff;
        const bytes = c.meta >> 8;
        a[i] = bytes + (bits > 0 ? 1 : 0);
        if (a[i] < 1 || a[i] > 8 || bits > 7) throw new DecodeError(`BIT column ${t.columnNames()[i]} has metadata ${c.meta}, out of range`);
        break;
      }
      case TYPE.NULL:
        kind[i] = K.NULLTYPE;
        break;
      default:
        kind[i] = K.UNSUPPORTED;
        a[i] = c.type;
        break;
    }
  }
  return { n, kind, a, b, text, values, names: t.columnNames() };
}

/** The decode plan of a table map (compiled once per map). */
export function rowPlan(t: TableMap): RowPlan {
  return planOf(t);
}

/** The kinds a RowPlan gives each column (RowPlan.kind). */
export const ROW_KIND = K;

function planOf(t: TableMap): Plan {
  let p = plans.get(t);
  if (p === undefined) {
    p = compile(t);
    plans.set(t, p);
  }
  return p;
}

// --- formatting helpers -------------------------------------------------------------------------

const TWO: string[] = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : String(i)));

function pad4(n: number): string {
  return n >= 1000 ? String(n) : n >= 100 ? `0${n}` : n >= 10 ? `00${n}` : `000${n}`;
}

function frac(us: number, digits: number): string {
  if (digits === 0) return '';
  const s = String(us);
  return `.${('000000'.slice(s.length) + s).slice(0, digits)}`;
}

function dateStr(y: number, m: number, d: number): string {
  return `${pad4(y)}-${TWO[m] ?? String(m)}-${TWO[d] ?? String(d)}`;
}

function timeOfDay(h: number, mi: number, s: number): string {
  return `${TWO[h] ?? String(h)}:${TWO[mi] ?? String(mi)}:${TWO[s] ?? String(s)}`;
}

/** Seconds since the epoch → 'YYYY-MM-DD HH:MM:SS' in UTC (civil-from-days, no Date allocation). */
function utcString(sec: number): string {
  if (sec === 0) return '0000-00-00 00:00:00';
  const days = Math.floor(sec / 86400);
  let rem = sec - days * 86400;
  const h = Math.floor(rem / 3600);
  rem -= h * 3600;
  const mi = Math.floor(rem / 60);
  const s = rem - mi * 60;
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return `${dateStr(y, m, d)} ${timeOfDay(h, mi, s)}`;
}

/** Big-endian unsigned integer of up to 6 bytes. */
function be(buf: Buffer, pos: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) v = v * 256 + buf[pos + i];
  return v;
}

/**
 * The shortest decimal that reads back as the same float32 (1.1, not 1.100000023841858): what a
 * user wrote, and what Vitess prints for FLOAT.
 */
function shortestFloat32(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  for (let p = 1; p < 9; p++) {
    const c = Number(x.toPrecision(p));
    if (Math.fround(c) === x) return c;
  }
  return x;
}

const DIG2BYTES = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];

export function decimalSize(precision: number, scale: number): number {
  const intg = precision - scale;
  return ((intg / 9) | 0) * 4 + DIG2BYTES[intg % 9] + ((scale / 9) | 0) * 4 + DIG2BYTES[scale % 9];
}

/** MySQL's binary DECIMAL: groups of 9 digits in 4 big-endian bytes, sign in the top bit, negatives inverted. */
function decimalStr(buf: Buffer, pos: number, precision: number, scale: number): string {
  const intg = precision - scale;
  const intg0 = (intg / 9) | 0;
  const intg0x = intg % 9;
  const frac0 = (scale / 9) | 0;
  const frac0x = scale % 9;
  const negative = (buf[pos] & 0x80) === 0;
  const mask = negative ? 0xff : 0;
  let p = pos;
  let first = true;
  const group = (nbytes: number): number => {
    let v = 0;
    for (let i = 0; i < nbytes; i++) {
      let byte = buf[p + i] ^ mask;
      if (first) {
        byte ^= 0x80;
        first = false;
      }
      v = v * 256 + byte;
    }
    p += nbytes;
    return v;
  };
  let intPart = '';
  if (intg0x > 0) {
    const v = group(DIG2BYTES[intg0x]);
    if (v >= 10 ** intg0x) throw new DecodeError(`DECIMAL(${precision},${scale}) has an integer group ${v} of more than ${intg0x} digits`);
    if (v !== 0) intPart = String(v);
  }
  for (let g = 0; g < intg0; g++) {
    const v = group(4);
    if (v > 999999999) throw new DecodeError(`DECIMAL(${precision},${scale}) has a group ${v} of more than 9 digits`);
    intPart = intPart === '' ? (v === 0 ? '' : String(v)) : intPart + String(v).padStart(9, '0');
  }
  let fracPart = '';
  for (let g = 0; g < frac0; g++) {
    const v = group(4);
    if (v > 999999999) throw new DecodeError(`DECIMAL(${precision},${scale}) has a group ${v} of more than 9 digits`);
    fracPart += String(v).padStart(9, '0');
  }
  if (frac0x > 0) {
    const v = group(DIG2BYTES[frac0x]);
    if (v >= 10 ** frac0x) throw new DecodeError(`DECIMAL(${precision},${scale}) has a fraction group ${v} of more than ${frac0x} digits`);
    fracPart += String(v).padStart(frac0x, '0');
  }
  if (intPart === '') intPart = '0';
  const body = scale > 0 ? `${intPart}.${fracPart}` : intPart;
  // MariaDB never stores negative zero, but an inverted zero would print as '-0.00': normalise.
  return negative && /[1-9]/.test(body) ? `-${body}` : body;
}

const TIME_HIRES_BYTES = [3, 4, 4, 5, 5, 5, 6];
const DATETIME_HIRES_BYTES = [5, 6, 6, 7, 7, 7, 8];
const SEC_PART_BYTES = [0, 1, 1, 2, 2, 3, 3];
const POW10 = [1, 10, 100, 1000, 10000, 100000, 1000000];
/** MariaDB 5.3 TIME's zero point, (TIME_MAX_VALUE_SECONDS + 1) seconds in microseconds. */
const TIME_ZERO_US = 3020400 * 1000000;

function timeFromMicros(totalUs: number, digits: number): string {
  const neg = totalUs < 0;
  const t = neg ? -totalUs : totalUs;
  const us = t % 1000000;
  const secs = (t - us) / 1000000;
  const h = Math.floor(secs / 3600);
  const mi = Math.floor((secs % 3600) / 60);
  const s = secs % 60;
  return `${neg ? '-' : ''}${TWO[h] ?? String(h)}:${TWO[mi]}:${TWO[s]}${frac(us, digits)}`;
}

/** The fixed byte size of a value of this kind, or -1 if it is length-prefixed. */
export function fixedSize(kind: number, a: number, b: number): number {
  switch (kind) {
    case K.INT8:
    case K.UINT8:
    case K.YEAR:
      return 1;
    case K.INT16:
    case K.UINT16:
      return 2;
    case K.INT24:
    case K.UINT24:
    case K.DATE:
    case K.TIME_OLD:
      return 3;
    case K.INT32:
    case K.UINT32:
    case K.FLOAT:
    case K.TIMESTAMP_OLD:
      return 4;
    case K.INT64:
    case K.UINT64:
    case K.DOUBLE:
    case K.DATETIME_OLD:
      return 8;
    case K.DECIMAL:
      return decimalSize(a, b);
    case K.TIME_HIRES:
      return TIME_HIRES_BYTES[a];
    case K.DATETIME_HIRES:
      return DATETIME_HIRES_BYTES[a];
    case K.TIMESTAMP_HIRES:
      return 4 + SEC_PART_BYTES[a];
    case K.TIME2:
      return 3 + SEC_PART_BYTES[a];
    case K.DATETIME2:
      return 5 + SEC_PART_BYTES[a];
    case K.TIMESTAMP2:
      return 4 + SEC_PART_BYTES[a];
    case K.ENUM:
    case K.SET:
    case K.BIT:
      return a;
    case K.NULLTYPE:
      return 0;
    default:
      return -1;
  }
}

/** Fractional microseconds of a TIME2/DATETIME2/TIMESTAMP2 value stored in SEC_PART_BYTES[fsp] bytes. */
function fracMicros(buf: Buffer, pos: number, fsp: number): number {
  switch (SEC_PART_BYTES[fsp]) {
    case 1:
      return buf[pos] * 10000;
    case 2:
      return buf.readUInt16BE(pos) * 100;
    case 3:
      return buf.readUIntBE(pos, 3);
    default:
      return 0;
  }
}

/**
 * Decodes one row image starting at `pos`, `present` marking the columns it holds. Returns the
 * offset after the image. `end` bounds the image (the event body minus checksum).
 */
/**
 * Decodes one row image (see decodeRow): `offsets`, when given, receives each column's start (its
 * length prefix for a length-prefixed kind), -1 for NULL or absent columns.
 */
export function decodeRowImage(buf: Buffer, pos: number, end: number, plan: RowPlan, present: Uint8Array, presentCount: number, out: Row, want?: Uint8Array, offsets?: Int32Array): number {
  return decodeRow(buf, pos, end, plan, present, presentCount, out, want, offsets);
}

function decodeRow(buf: Buffer, pos: number, end: number, plan: Plan, present: Uint8Array, presentCount: number, out: Row, want?: Uint8Array, offsets?: Int32Array): number {
  const n = plan.n;
  const nullStart = pos;
  const nullBytes = (presentCount + 7) >> 3;
  if (pos + nullBytes > end) throw new DecodeError(`row null bitmap needs ${nullBytes} bytes at offset ${pos}, the event body ends at ${end}`);
  pos += nullBytes;
  const kinds = plan.kind;
  const A = plan.a;
  const B = plan.b;
  let bit = 0;
  for (let i = 0; i < n; i++) {
    if (present[i] === 0) {
      out[i] = undefined;
      if (offsets !== undefined) offsets[i] = -1;
      continue;
    }
    const isNull = (buf[nullStart + (bit >> 3)] & (1 << (bit & 7))) !== 0;
    bit++;
    if (isNull) {
      out[i] = null;
      if (offsets !== undefined) offsets[i] = -1;
      continue;
    }
    if (offsets !== undefined) offsets[i] = pos;
    const kind = kinds[i];
    const a = A[i];
    const size = fixedSize(kind, a, B[i]);
    if (size >= 0 && pos + size > end) throw new DecodeError(`column ${plan.names[i]} needs ${size} bytes at offset ${pos}, the event body ends at ${end}`);
    if (want !== undefined && want[i] === 0) {
      // Present but not wanted: stepped over, left null (no value is built).
      out[i] = null;
      if (size >= 0) pos += size;
      else {
        if (pos + a > end) throw new DecodeError(`column ${plan.names[i]} length prefix needs ${a} bytes at offset ${pos}, the event body ends at ${end}`);
        const len = a === 1 ? buf[pos] : a === 2 ? buf.readUInt16LE(pos) : a === 3 ? buf.readUIntLE(pos, 3) : buf.readUInt32LE(pos);
        if (pos + a + len > end) throw new DecodeError(`column ${plan.names[i]} has length ${len} at offset ${pos}, past the event body's end at ${end}`);
        pos += a + len;
      }
      continue;
    }
    switch (kind) {
      case K.INT8:
        out[i] = buf.readInt8(pos);
        break;
      case K.UINT8:
        out[i] = buf[pos];
        break;
      case K.INT16:
        out[i] = buf.readInt16LE(pos);
        break;
      case K.UINT16:
        out[i] = buf.readUInt16LE(pos);
        break;
      case K.INT24:
        out[i] = buf.readIntLE(pos, 3);
        break;
      case K.UINT24:
        out[i] = buf.readUIntLE(pos, 3);
        break;
      case K.INT32:
        out[i] = buf.readInt32LE(pos);
        break;
      case K.UINT32:
        out[i] = buf.readUInt32LE(pos);
        break;
      case K.INT64:
        out[i] = buf.readBigInt64LE(pos);
        break;
      case K.UINT64:
        out[i] = buf.readBigUInt64LE(pos);
        break;
      case K.FLOAT:
        out[i] = shortestFloat32(buf.readFloatLE(pos));
        break;
      case K.DOUBLE:
        out[i] = buf.readDoubleLE(pos);
        break;
      case K.DECIMAL:
        out[i] = decimalStr(buf, pos, a, B[i]);
        break;
      case K.YEAR: {
        const y = buf[pos];
        out[i] = y === 0 ? 0 : 1900 + y;
        break;
      }
      case K.DATE: {
        const v = buf.readUIntLE(pos, 3);
        out[i] = dateStr(v >>> 9, (v >>> 5) & 15, v & 31);
        break;
      }
      case K.TIME_OLD: {
        const v = buf.readIntLE(pos, 3);
        const t = v < 0 ? -v : v;
        out[i] = `${v < 0 ? '-' : ''}${TWO[Math.floor(t / 10000)] ?? String(Math.floor(t / 10000))}:${TWO[Math.floor(t / 100) % 100]}:${TWO[t % 100]}`;
        break;
      }
      case K.TIME_HIRES: {
        const raw = be(buf, pos, size);
        out[i] = timeFromMicros((raw - TIME_ZERO_US / POW10[6 - a]) * POW10[6 - a], a);
        break;
      }
      case K.DATETIME_OLD: {
        const v = buf.readUInt32LE(pos) + buf.readUInt32LE(pos + 4) * 4294967296;
        const d = Math.floor(v / 1000000);
        const t = v % 1000000;
        out[i] = `${dateStr(Math.floor(d / 10000), Math.floor(d / 100) % 100, d % 100)} ${timeOfDay(Math.floor(t / 10000), Math.floor(t / 100) % 100, t % 100)}`;
        break;
      }
      case K.DATETIME_HIRES: {
        let v = 0n;
        for (let k = 0; k < size; k++) v = (v << 8n) | BigInt(buf[pos + k]);
        v *= BigInt(POW10[6 - a]);
        const us = Number(v % 1000000n);
        v /= 1000000n;
        const s = Number(v % 60n);
        v /= 60n;
        const mi = Number(v % 60n);
        v /= 60n;
        const h = Number(v % 24n);
        v /= 24n;
        const d = Number(v % 32n);
        v /= 32n;
        const m = Number(v % 13n);
        const y = Number(v / 13n);
        out[i] = `${dateStr(y, m, d)} ${timeOfDay(h, mi, s)}${frac(us, a)}`;
        break;
      }
      case K.TIMESTAMP_OLD:
        out[i] = utcString(buf.readUInt32LE(pos));
        break;
      case K.TIMESTAMP_HIRES: {
        const sec = buf.readUInt32BE(pos);
        const us = be(buf, pos + 4, SEC_PART_BYTES[a]) * POW10[6 - a];
        out[i] = sec === 0 && us === 0 ? `0000-00-00 00:00:00${frac(0, a)}` : utcString(sec) + frac(us, a);
        break;
      }
      case K.TIME2: {
        let intpart = be(buf, pos, 3) - 0x800000;
        let packed: number;
        switch (SEC_PART_BYTES[a]) {
          case 0:
            packed = intpart * 16777216;
            break;
          case 1: {
            let f = buf[pos + 3];
            if (intpart < 0 && f !== 0) {
              intpart++;
              f -= 0x100;
            }
            packed = intpart * 16777216 + f * 10000;
            break;
          }
          case 2: {
            let f = buf.readUInt16BE(pos + 3);
            if (intpart < 0 && f !== 0) {
              intpart++;
              f -= 0x10000;
            }
            packed = intpart * 16777216 + f * 100;
            break;
          }
          default:
            packed = be(buf, pos, 6) - 0x800000000000;
            break;
        }
        const neg = packed < 0;
        if (neg) packed = -packed;
        const us = packed % 16777216;
        const hms = (packed - us) / 16777216;
        const h = (hms >>> 12) & 1023;
        out[i] = `${neg ? '-' : ''}${TWO[h] ?? String(h)}:${TWO[(hms >>> 6) & 63]}:${TWO[hms & 63]}${frac(us, a)}`;
        break;
      }
      case K.DATETIME2: {
        const intpart = be(buf, pos, 5) - 0x8000000000;
        const us = fracMicros(buf, pos + 5, a);
        const ymd = Math.floor(intpart / 131072);
        const hms = intpart - ymd * 131072;
        const ym = ymd >>> 5;
        out[i] = `${dateStr(Math.floor(ym / 13), ym % 13, ymd & 31)} ${timeOfDay(hms >>> 12, (hms >>> 6) & 63, hms & 63)}${frac(us, a)}`;
        break;
      }
      case K.TIMESTAMP2: {
        const sec = buf.readUInt32BE(pos);
        const us = fracMicros(buf, pos + 4, a);
        out[i] = sec === 0 && us === 0 ? `0000-00-00 00:00:00${frac(0, a)}` : utcString(sec) + frac(us, a);
        break;
      }
      case K.VARSTR:
      case K.CHAR:
      case K.BLOB: {
        if (pos + a > end) throw new DecodeError(`column ${plan.names[i]} length prefix needs ${a} bytes at offset ${pos}, the event body ends at ${end}`);
        const len = a === 1 ? buf[pos] : a === 2 ? buf.readUInt16LE(pos) : a === 3 ? buf.readUIntLE(pos, 3) : buf.readUInt32LE(pos);
        const start = pos + a;
        if (start + len > end) throw new DecodeError(`column ${plan.names[i]} has length ${len} at offset ${pos}, past the event body's end at ${end}`);
        const dec = plan.text[i];
        if (dec !== null) out[i] = dec(buf, start, start + len);
        else {
          const padTo = B[i];
          if (padTo > len) {
            const v = Buffer.alloc(padTo);
            buf.copy(v, 0, start, start + len);
            out[i] = v;
          } else out[i] = buf.subarray(start, start + len);
        }
        pos = start + len;
        continue;
      }
      case K.ENUM: {
        const idx = a === 1 ? buf[pos] : buf.readUInt16LE(pos);
        const vals = plan.values[i];
        if (vals === undefined) out[i] = idx;
        else if (idx === 0) out[i] = '';
        else if (idx > vals.length) throw new DecodeError(`ENUM column ${plan.names[i]} has member ${idx}, but only ${vals.length} exist`);
        else out[i] = vals[idx - 1];
        break;
      }
      case K.SET: {
        const vals = plan.values[i];
        if (vals === undefined) {
          out[i] = a <= 6 ? buf.readUIntLE(pos, a) : a === 8 ? buf.readBigUInt64LE(pos) : BigInt(buf.readUIntLE(pos, 6)) + (BigInt(buf[pos + 6]) << 48n);
          break;
        }
        let s = '';
        for (let k = 0; k < a * 8; k++) {
          if ((buf[pos + (k >> 3)] & (1 << (k & 7))) === 0) continue;
          if (k >= vals.length) throw new DecodeError(`SET column ${plan.names[i]} has member bit ${k + 1}, but only ${vals.length} exist`);
          s = s === '' ? vals[k] : `${s},${vals[k]}`;
        }
        out[i] = s;
        break;
      }
      case K.BIT:
        out[i] = buf.subarray(pos, pos + a);
        break;
      case K.NULLTYPE:
        out[i] = null;
        break;
      default:
        throw new DecodeError(`column ${plan.names[i]} has type ${a}, which MariaDB 10.11 does not write in row events`);
    }
    pos += size;
  }
  return pos;
}

/**
 * decodeRows with a RowKeyFilter: every image of the event decoded for the filter's columns, one
 * `keepMany` call over them all (one vindex call per event: `hash` crosses into OpenSSL once), then
 * the kept images decoded again whole. Returns the offset after the last change.
 */
function decodeKeyed(
  body: Buffer,
  pos: number,
  end: number,
  table: TableMap,
  plan: Plan,
  action: RowsAction,
  included: Uint8Array,
  count: number,
  includedAfter: Uint8Array | undefined,
  countAfter: number,
  beforeWant: Uint8Array | undefined,
  keyFilter: RowKeyFilter,
  rows: RowChange[],
  afterWant: Uint8Array | undefined,
): number {
  const n = plan.n;
  const images = action === 'update' ? 2 : 1;
  const keys: Row[] = [];
  const starts: number[] = [];
  while (pos < end) {
    if (keys.length >= ROWS_PER_EVENT_MAX * images) throw new DecodeError(`more than ROWS_PER_EVENT_MAX (${ROWS_PER_EVENT_MAX}) rows in one event`);
    try {
      for (let k = 0; k < images; k++) {
        const key: Row = new Array(n);
        starts.push(pos);
        pos = k === 0 ? decodeRow(body, pos, end, plan, included, count, key, keyFilter.columns) : decodeRow(body, pos, end, plan, includedAfter!, countAfter, key, keyFilter.columns);
        keys.push(key);
      }
    } catch (err) {
      if (err instanceof DecodeError) throw new DecodeError(`row ${Math.floor(keys.length / images) + 1} of ${table.database}.${table.table}: ${err.message}`);
      throw err;
    }
  }
  const keep = new Uint8Array(keys.length);
  if (keys.length > 0) keyFilter.keepMany(keys, 0, keys.length, keep);
  const whole = (j: number, present: Uint8Array, presentCount: number, want: Uint8Array | undefined): Row | null => {
    if (keep[j] === 0) return null;
    const out: Row = new Array(n);
    decodeRow(body, starts[j], end, plan, present, presentCount, out, want);
    return out;
  };
  // The bytes of image j: up to the next image's start, or the last image's end.
  const image = (j: number): Buffer => body.subarray(starts[j], j + 1 < starts.length ? starts[j + 1] : pos);
  for (let j = 0; j < keys.length; j += images) {
    if (action === 'update') {
      const before = whole(j, included, count, beforeWant);
      const after = whole(j + 1, includedAfter!, countAfter, afterWant);
      if (afterWant !== undefined && after !== null) rows.push({ before, after, afterImage: image(j + 1) });
      else if (before !== null || after !== null) rows.push({ before, after });
    } else if (keep[j] === 1) {
      if (action === 'insert') {
        const row = whole(j, included, count, afterWant);
        rows.push(afterWant !== undefined ? { before: null, after: row, afterImage: image(j) } : { before: null, after: row });
      } else rows.push({ before: whole(j, included, count, undefined), after: null });
    }
  }
  return pos;
}

function bitmap(buf: Buffer, pos: number, n: number): [Uint8Array, number] {
  const bits = new Uint8Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    if ((buf[pos + (i >> 3)] & (1 << (i & 7))) !== 0) {
      bits[i] = 1;
      count++;
    }
  }
  return [bits, count];
}

export type RowsAction = 'insert' | 'update' | 'delete';

export interface DecodedRows {
  readonly rows: RowChange[];
  /** Columns present in the (before) image; all true for FULL images. */
  readonly included: Uint8Array;
  /** Columns present in the after image of an UPDATE. */
  readonly includedAfter: Uint8Array | undefined;
  /** True if some image leaves out columns (binlog_row_image MINIMAL or NOBLOB). */
  readonly partial: boolean;
}

/** Caps rows per event so a corrupt length cannot make us loop forever or allocate without bound. */
export const ROWS_PER_EVENT_MAX = 10_000_000;

/**
 * A test that decides from a few columns whether a row image is wanted at all (a key-range filter
 * by the row's keyspace id): each image is first decoded for `columns` alone (1 = decode), and
 * only images `keep` keeps are decoded whole. The others come back null, and a change left with
 * neither image is left out of the event's rows.
 */
export interface RowKeyFilter {
  readonly columns: Uint8Array;
  /** For rows[from…to), 1 (decode whole) or 0 (leave out) in out[0…to-from). */
  keepMany(rows: readonly Row[], from: number, to: number, out: Uint8Array): void;
}

/**
 * Decodes the row images of a rows event body starting at `pos` (just after the post-header and
 * any v2 extra data), up to `end`.
 */
/**
 * `beforeWant`: for an UPDATE, the columns of the before image to decode (1) — the others are
 * stepped over and left null. The after image and other actions are always decoded whole, except
 * images `keyFilter` rejects.
 */
/** `after` of a change whose after image comes as bytes with no column wanted. */
const NO_VALUES: Row = Object.freeze([]) as unknown as Row;
let scratch: Row = [];

function afterScratch(n: number): Row {
  if (scratch.length < n) scratch = new Array(n);
  return scratch;
}

/**
 * `afterWant`: decode only these columns of after images (INSERT's row, UPDATE's after image) and
 * hand each image's bytes over as `afterImage` (the target writes its values from them), when the
 * event's images are FULL; a partial image is decoded whole, without `afterImage`.
 */
export function decodeRows(
  body: Buffer,
  pos: number,
  end: number,
  table: TableMap,
  action: RowsAction,
  beforeWant?: Uint8Array,
  keyFilter?: RowKeyFilter,
  afterWant?: Uint8Array,
): DecodedRows {
  const plan = planOf(table);
  let n: number;
  [n, pos] = readLenenc(body, pos, 'column count');
  if (n !== plan.n) throw new DecodeError(`rows event has ${n} columns, its table map for ${table.database}.${table.table} has ${plan.n}`);
  const bmBytes = (n + 7) >> 3;
  if (pos + bmBytes > end) throw new DecodeError('columns bitmap runs past the event body');
  const [included, count] = bitmap(body, pos, n);
  pos += bmBytes;
  let includedAfter: Uint8Array | undefined;
  let countAfter = 0;
  if (action === 'update') {
    if (pos + bmBytes > end) throw new DecodeError('after-image columns bitmap runs past the event body');
    [includedAfter, countAfter] = bitmap(body, pos, n);
    pos += bmBytes;
  }
  const rows: RowChange[] = [];
  // Images as bytes only when whole (FULL): a partial one lacks columns the target must write.
  if (afterWant !== undefined && (action === 'delete' || (action === 'insert' ? count : countAfter) < n)) afterWant = undefined;
  if (keyFilter !== undefined) {
    pos = decodeKeyed(body, pos, end, table, plan, action, included, count, includedAfter, countAfter, beforeWant, keyFilter, rows, afterWant);
  } else if (afterWant !== undefined) {
    while (pos < end) {
      if (rows.length >= ROWS_PER_EVENT_MAX) throw new DecodeError(`more than ROWS_PER_EVENT_MAX (${ROWS_PER_EVENT_MAX}) rows in one event`);
      try {
        let before: Row | null = null;
        if (action === 'update') {
          before = new Array(n);
          pos = decodeRow(body, pos, end, plan, included, count, before, beforeWant);
        }
        const start = pos;
        // Nothing wanted (the usual case): stepped over into a scratch row, no row made.
        const none = afterWant.indexOf(1) < 0;
        const after: Row = none ? afterScratch(n) : new Array(n);
        pos = action === 'update' ? decodeRow(body, pos, end, plan, includedAfter!, countAfter, after, afterWant) : decodeRow(body, pos, end, plan, included, count, after, afterWant);
        rows.push({ before, after: none ? NO_VALUES : after, afterImage: body.subarray(start, pos) });
      } catch (err) {
        if (err instanceof DecodeError) throw new DecodeError(`row ${rows.length + 1} of ${table.database}.${table.table}: ${err.message}`);
        throw err;
      }
    }
  } else {
    while (pos < end) {
      if (rows.length >= ROWS_PER_EVENT_MAX) throw new DecodeError(`more than ROWS_PER_EVENT_MAX (${ROWS_PER_EVENT_MAX}) rows in one event`);
      const first: Row = new Array(n);
      try {
        pos = decodeRow(body, pos, end, plan, included, count, first, action === 'update' ? beforeWant : undefined);
        if (action === 'update') {
          const second: Row = new Array(n);
          pos = decodeRow(body, pos, end, plan, includedAfter!, countAfter, second);
          rows.push({ before: first, after: second });
        } else if (action === 'insert') rows.push({ before: null, after: first });
        else rows.push({ before: first, after: null });
      } catch (err) {
        if (err instanceof DecodeError) throw new DecodeError(`row ${rows.length + 1} of ${table.database}.${table.table}: ${err.message}`);
        throw err;
      }
    }
  }
  if (pos !== end) throw new DecodeError(`rows end at offset ${pos}, past the event body's end at ${end}`);
  const partial = count < n || (includedAfter !== undefined && countAfter < n);
  return { rows, included, includedAfter, partial };
}
