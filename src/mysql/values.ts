// Values in text rows, binary rows and prepared-statement parameters.
//
// One JS representation for every column, the same from the text and the binary protocol:
//   integers up to 32 bits and YEAR -> number; BIGINT (signed or unsigned) -> bigint;
//   FLOAT/DOUBLE -> number; DECIMAL -> string (exact); DATE/DATETIME/TIMESTAMP/TIME -> the string
//   MariaDB prints ('2024-02-29 13:14:15.123', '-838:59:59'), never a JS Date (no time zone guess);
//   BIT, GEOMETRY and binary-collation strings/BLOBs -> Buffer; other strings, ENUM, SET, JSON ->
//   string decoded with the column's character set; NULL -> null.
import { isUtf8 } from 'node:buffer';
import { CHARSET, FIELD_FLAG, TYPE } from './constants.js';
import { malformed, PacketReader, type PacketWriter } from './packet.js';
import type { ColumnDefinition } from './protocol.js';

export type SqlValue = null | number | bigint | string | Buffer;

/** A value with an explicit wire type: prepared-statement parameters keep the type the client chose. */
export interface TypedValue {
  type: number;
  unsigned?: boolean;
  value: SqlValue;
}

/** The column facts the value codecs need; a ColumnDefinition has them all. */
export type ValueColumn = Pick<ColumnDefinition, 'type' | 'flags' | 'charset' | 'decimals'>;

const LATIN1_COLLATIONS = new Set([5, 8, 11, 15, 31, 47, 48, 49, 65, 94]);

/** Node encoding for a collation id; everything not latin1/ascii is treated as UTF-8. */
export function charsetEncoding(charset: number): BufferEncoding {
  return LATIN1_COLLATIONS.has(charset) ? 'latin1' : 'utf8';
}

function isStringType(type: number): boolean {
  switch (type) {
    case TYPE.VARCHAR:
    case TYPE.VAR_STRING:
    case TYPE.STRING:
    case TYPE.TINY_BLOB:
    case TYPE.MEDIUM_BLOB:
    case TYPE.LONG_BLOB:
    case TYPE.BLOB:
    case TYPE.ENUM:
    case TYPE.SET:
    case TYPE.JSON:
      return true;
    default:
      return false;
  }
}

/** Decodes one text-protocol cell (its bytes without the length prefix). */
export function textValue(col: ValueColumn, b: Buffer): SqlValue {
  return textValueAt(col, b, 0, b.length);
}

/**
 * One cell from its place in a buffer, `buf[start…end)`: numbers and text are read in place
 * (no Buffer view per cell, which cost more than the conversion for short cells); binary values
 * are views of `buf`, as textValue's are of its argument.
 */
function textValueAt(col: ValueColumn, buf: Buffer, start: number, end: number): SqlValue {
  switch (col.type) {
    case TYPE.TINY:
    case TYPE.SHORT:
    case TYPE.INT24:
    case TYPE.LONG:
    case TYPE.YEAR:
    case TYPE.FLOAT:
    case TYPE.DOUBLE:
      return Number(buf.toString('latin1', start, end));
    case TYPE.LONGLONG:
      return BigInt(buf.toString('latin1', start, end));
    case TYPE.DECIMAL:
    case TYPE.NEWDECIMAL:
    case TYPE.DATE:
    case TYPE.NEWDATE:
    case TYPE.DATETIME:
    case TYPE.DATETIME2:
    case TYPE.TIMESTAMP:
    case TYPE.TIMESTAMP2:
    case TYPE.TIME:
    case TYPE.TIME2:
      return buf.toString('latin1', start, end);
    case TYPE.BIT:
    case TYPE.GEOMETRY:
      return buf.subarray(start, end);
    case TYPE.NULL:
      return null;
    default:
      return col.charset === CHARSET.BINARY ? buf.subarray(start, end) : buf.toString(charsetEncoding(col.charset), start, end);
  }
}

/** Decodes a text-protocol row. */
export function decodeTextRow(payload: Buffer, columns: readonly ValueColumn[], r = new PacketReader()): SqlValue[] {
  r.reset(payload);
  const out = new Array<SqlValue>(columns.length);
  for (let i = 0; i < columns.length; i++) {
    if (r.peek() === 0xfb) {
      r.pos++;
      out[i] = null;
    } else {
      const n = r.lenInt();
      const start = r.pos;
      r.skip(n);
      out[i] = textValueAt(columns[i], payload, start, start + n);
    }
  }
  return out;
}

/** Text form of a value: what MariaDB itself would print in a text row. */
export function valueToText(v: Exclude<SqlValue, null>): string | Buffer {
  if (typeof v === 'string' || Buffer.isBuffer(v)) return v;
  return String(v);
}

/** A text row; strings are encoded in each column's character set when `columns` are given (UTF-8 otherwise). */
export function encodeTextRow(w: PacketWriter, values: readonly SqlValue[], columns?: readonly Pick<ValueColumn, 'charset'>[]): void {
  w.begin();
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) w.int1(0xfb);
    else if (typeof v === 'string') w.lenString(v, columns ? charsetEncoding(columns[i].charset) : 'utf8');
    else if (Buffer.isBuffer(v)) w.lenBytes(v);
    else w.lenString(String(v), 'latin1');
  }
  w.end();
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function fraction(micros: number, decimals: number): string {
  // decimals 1..6 is the column's declared precision; anything else (31 = not fixed) prints all six digits when non-zero.
  if (decimals >= 1 && decimals <= 6) return '.' + pad(micros, 6).slice(0, decimals);
  return micros ? '.' + pad(micros, 6) : '';
}

/** The length byte of a binary DATE/DATETIME/TIMESTAMP: 0, 4, 7 or 11. */
function binaryDateLength(r: PacketReader): number {
  const n = r.u8();
  if (n !== 0 && n !== 4 && n !== 7 && n !== 11) throw malformed(`bad date length ${n}`);
  return n;
}

/** The length byte of a binary TIME: 0, 8 or 12. */
function binaryTimeLength(r: PacketReader): number {
  const n = r.u8();
  if (n !== 0 && n !== 8 && n !== 12) throw malformed(`bad time length ${n}`);
  return n;
}

/** Decodes one binary-protocol value at the reader's position. */
export function binaryValue(col: ValueColumn, r: PacketReader): SqlValue {
  const unsigned = (col.flags & FIELD_FLAG.UNSIGNED) !== 0;
  switch (col.type) {
    case TYPE.TINY:
      return unsigned ? r.u8() : r.i8();
    case TYPE.SHORT:
      return unsigned ? r.u16() : r.i16();
    case TYPE.YEAR:
      return r.u16();
    case TYPE.INT24:
    case TYPE.LONG:
      return unsigned ? r.u32() : r.i32();
    case TYPE.LONGLONG:
      return unsigned ? r.u64() : r.i64();
    case TYPE.FLOAT:
      return r.float();
    case TYPE.DOUBLE:
      return r.double();
    case TYPE.NULL:
      return null;
    case TYPE.DATE:
    case TYPE.NEWDATE:
    case TYPE.DATETIME:
    case TYPE.DATETIME2:
    case TYPE.TIMESTAMP:
    case TYPE.TIMESTAMP2: {
      const n = binaryDateLength(r);
      const y = n >= 4 ? r.u16() : 0;
      const mo = n >= 4 ? r.u8() : 0;
      const d = n >= 4 ? r.u8() : 0;
      const date = `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}`;
      if (col.type === TYPE.DATE || col.type === TYPE.NEWDATE) {
        if (n > 4) r.skip(n - 4);
        return date;
      }
      const h = n >= 7 ? r.u8() : 0;
      const mi = n >= 7 ? r.u8() : 0;
      const s = n >= 7 ? r.u8() : 0;
      const us = n === 11 ? r.u32() : 0;
      return `${date} ${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}${fraction(us, col.decimals)}`;
    }
    case TYPE.TIME:
    case TYPE.TIME2: {
      const n = binaryTimeLength(r);
      if (n === 0) return `00:00:00${fraction(0, col.decimals)}`;
      const neg = r.u8();
      const days = r.u32();
      const h = r.u8();
      const mi = r.u8();
      const s = r.u8();
      const us = n === 12 ? r.u32() : 0;
      const hours = days * 24 + h;
      return `${neg ? '-' : ''}${pad(hours, 2)}:${pad(mi, 2)}:${pad(s, 2)}${fraction(us, col.decimals)}`;
    }
    case TYPE.DECIMAL:
    case TYPE.NEWDECIMAL:
      return r.lenString('latin1');
    case TYPE.BIT:
    case TYPE.GEOMETRY:
      return r.lenBytes();
    default: {
      const b = r.lenBytes();
      return col.charset === CHARSET.BINARY ? b : b.toString(charsetEncoding(col.charset));
    }
  }
}

/** Decodes a binary-protocol row (header 0x00, NULL bitmap with offset 2, values). */
export function decodeBinaryRow(payload: Buffer, columns: readonly ValueColumn[], r = new PacketReader()): SqlValue[] {
  r.reset(payload);
  if (r.u8() !== 0x00) throw malformed('binary row without 0x00 header');
  const bitmapLen = (columns.length + 7 + 2) >> 3;
  const bitmapAt = r.pos;
  r.skip(bitmapLen);
  const out = new Array<SqlValue>(columns.length);
  for (let i = 0; i < columns.length; i++) {
    const bit = i + 2;
    if (payload[bitmapAt + (bit >> 3)] & (1 << (bit & 7))) out[i] = null;
    else out[i] = binaryValue(columns[i], r);
  }
  return out;
}

const DATETIME_RE = /^(\d{1,4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,6}))?)?$/;
const TIME_RE = /^(-)?(?:(\d+) )?(\d+):(\d{1,2}):(\d{1,2})(?:\.(\d{1,6}))?$/;

function micros(frac: string | undefined): number {
  return frac ? Number(frac.padEnd(6, '0')) : 0;
}

function asText(v: Exclude<SqlValue, null>): string {
  return Buffer.isBuffer(v) ? v.toString('latin1') : String(v);
}

/** Writes one binary-protocol value (not NULL; NULLs live in the bitmap). */
export function encodeBinaryValue(w: PacketWriter, type: number, v: Exclude<SqlValue, null>, charset: number = CHARSET.UTF8MB4_GENERAL_CI): void {
  switch (type) {
    case TYPE.TINY:
      w.int1(Number(v) & 0xff);
      return;
    case TYPE.SHORT:
    case TYPE.YEAR:
      w.int2(Number(v));
      return;
    case TYPE.INT24:
    case TYPE.LONG:
      w.int4(Number(v));
      return;
    case TYPE.LONGLONG:
      // A number is written as one (int8 takes a safe integer without a BigInt).
      w.int8(typeof v === 'number' ? Math.trunc(v) : typeof v === 'bigint' ? v : BigInt(asText(v)));
      return;
    case TYPE.FLOAT:
      w.float(Number(asTextOrNumber(v)));
      return;
    case TYPE.DOUBLE:
      w.double(Number(asTextOrNumber(v)));
      return;
    case TYPE.NULL:
      return;
    case TYPE.DATE:
    case TYPE.NEWDATE:
    case TYPE.DATETIME:
    case TYPE.DATETIME2:
    case TYPE.TIMESTAMP:
    case TYPE.TIMESTAMP2: {
      const m = DATETIME_RE.exec(asText(v));
      if (!m) throw malformed(`not a date/time value: ${asText(v).slice(0, 40)}`);
      const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((x) => Number(x ?? 0));
      const us = micros(m[7]);
      if (type === TYPE.DATE || type === TYPE.NEWDATE) {
        if (y === 0 && mo === 0 && d === 0) w.int1(0);
        else w.int1(4).int2(y).int1(mo).int1(d);
      } else if (us) w.int1(11).int2(y).int1(mo).int1(d).int1(h).int1(mi).int1(s).int4(us);
      else if (h || mi || s) w.int1(7).int2(y).int1(mo).int1(d).int1(h).int1(mi).int1(s);
      else if (y || mo || d) w.int1(4).int2(y).int1(mo).int1(d);
      else w.int1(0);
      return;
    }
    case TYPE.TIME:
    case TYPE.TIME2: {
      const m = TIME_RE.exec(asText(v));
      if (!m) throw malformed(`not a time value: ${asText(v).slice(0, 40)}`);
      const neg = m[1] ? 1 : 0;
      const hoursTotal = Number(m[2] ?? 0) * 24 + Number(m[3]);
      const mi = Number(m[4]);
      const s = Number(m[5]);
      const us = micros(m[6]);
      const days = Math.floor(hoursTotal / 24);
      const h = hoursTotal % 24;
      if (!hoursTotal && !mi && !s && !us) w.int1(0);
      else if (us) w.int1(12).int1(neg).int4(days).int1(h).int1(mi).int1(s).int4(us);
      else w.int1(8).int1(neg).int4(days).int1(h).int1(mi).int1(s);
      return;
    }
    default:
      if (Buffer.isBuffer(v)) w.lenBytes(v);
      else if (typeof v === 'string') w.lenString(v, charsetEncoding(charset));
      else w.lenString(String(v), 'latin1');
  }
}

function asTextOrNumber(v: Exclude<SqlValue, null>): string | number {
  return typeof v === 'number' ? v : asText(v);
}

export function encodeBinaryRow(w: PacketWriter, columns: readonly Pick<ValueColumn, 'type' | 'charset'>[], values: readonly SqlValue[]): void {
  w.begin().int1(0x00);
  // The NULL bitmap (offset 2) a byte at a time into the packet: no buffer per row.
  const n = columns.length;
  for (let at = -2; at < n; at += 8) {
    let bits = 0;
    for (let i = Math.max(at, 0); i < at + 8 && i < n; i++) if (values[i] === null || values[i] === undefined) bits |= 1 << (i - at);
    w.int1(bits);
  }
  for (let i = 0; i < columns.length; i++) {
    const v = values[i];
    if (v !== null && v !== undefined) encodeBinaryValue(w, columns[i].type, v, columns[i].charset);
  }
  w.end();
}

/** The wire type a client uses for a plain JS value passed as a parameter. */
export function typedValue(v: SqlValue | TypedValue | boolean): TypedValue {
  if (v === null || v === undefined) return { type: TYPE.NULL, value: null };
  if (typeof v === 'object' && !Buffer.isBuffer(v)) return v;
  if (typeof v === 'boolean') return { type: TYPE.TINY, value: v ? 1 : 0 };
  if (typeof v === 'number') {
    return Number.isSafeInteger(v) ? { type: TYPE.LONGLONG, value: v } : { type: TYPE.DOUBLE, value: v };
  }
  if (typeof v === 'bigint') {
    return v > 0x7fffffffffffffffn ? { type: TYPE.LONGLONG, unsigned: true, value: v } : { type: TYPE.LONGLONG, value: v };
  }
  if (typeof v === 'string') return { type: TYPE.VAR_STRING, value: v };
  return { type: TYPE.BLOB, value: v };
}

/** COM_STMT_EXECUTE with the types of every parameter (always "new params bound"). */
export function encodeExecute(w: PacketWriter, stmtId: number, params: readonly TypedValue[], flags = 0): void {
  w.begin().int1(0x17).int4(stmtId).int1(flags).int4(1);
  const n = params.length;
  if (n > 0) {
    // The NULL bitmap is built a byte at a time in the slab: no buffer per execute.
    for (let at = 0; at < n; at += 8) {
      let bits = 0;
      for (let i = at; i < n && i < at + 8; i++) if (params[i].value === null) bits |= 1 << (i - at);
      w.int1(bits);
    }
    w.int1(1);
    for (let i = 0; i < n; i++) w.int1(params[i].type).int1(params[i].unsigned ? 0x80 : 0);
    for (let i = 0; i < n; i++) {
      const p = params[i];
      if (p.value !== null) encodeBinaryValue(w, p.type, p.value);
    }
  }
  w.end();
}

/** Offset of the parameter block (NULL bitmap onwards) in a COM_STMT_EXECUTE payload. */
export const EXECUTE_PARAMS_OFFSET = 10;

/** Moves the reader past one binary-protocol value of `type`, checking it is all there. */
export function skipBinaryValue(type: number, r: PacketReader): void {
  switch (type) {
    case TYPE.NULL:
      return;
    case TYPE.TINY:
      r.skip(1);
      return;
    case TYPE.SHORT:
    case TYPE.YEAR:
      r.skip(2);
      return;
    case TYPE.INT24:
    case TYPE.LONG:
    case TYPE.FLOAT:
      r.skip(4);
      return;
    case TYPE.LONGLONG:
    case TYPE.DOUBLE:
      r.skip(8);
      return;
    case TYPE.DATE:
    case TYPE.NEWDATE:
    case TYPE.DATETIME:
    case TYPE.DATETIME2:
    case TYPE.TIMESTAMP:
    case TYPE.TIMESTAMP2: {
      r.skip(binaryDateLength(r));
      return;
    }
    case TYPE.TIME:
    case TYPE.TIME2: {
      r.skip(binaryTimeLength(r));
      return;
    }
    default:
      r.skip(r.lenInt());
  }
}

/**
 * Checks a COM_STMT_EXECUTE payload without decoding its values (a relay passes them on as
 * bytes): the same structure `decodeExecute` reads, and the same errors. Returns the parameter
 * types in effect as (type, flags) byte pairs: those sent now (a slice of the payload), else
 * `previousTypes`; null when the statement has no parameters.
 */
export function scanExecute(payload: Buffer, paramCount: number, previousTypes: Buffer | null, r = new PacketReader()): Buffer | null {
  r.reset(payload, 1);
  r.skip(9); // statement id, flags, iteration count
  const n = paramCount;
  if (n === 0) return null;
  const bitmapAt = r.pos;
  r.skip((n + 7) >> 3);
  let types: Buffer;
  if (r.u8()) types = r.bytes(2 * n);
  else if (previousTypes && previousTypes.length === 2 * n) types = previousTypes;
  else throw malformed('execute without parameter types');
  for (let i = 0; i < n; i++) {
    const type = types[2 * i];
    if (payload[bitmapAt + (i >> 3)] & (1 << (i & 7)) || type === TYPE.NULL) continue;
    skipBinaryValue(type, r);
  }
  return types;
}

/** Parameter types as (type, flags) byte pairs, the form `scanExecute` keeps. */
export function encodeParamTypes(types: readonly { type: number; unsigned: boolean }[]): Buffer {
  const b = Buffer.allocUnsafe(2 * types.length);
  for (let i = 0; i < types.length; i++) {
    b[2 * i] = types[i].type;
    b[2 * i + 1] = types[i].unsigned ? 0x80 : 0;
  }
  return b;
}

/** The inverse of `encodeParamTypes`. */
export function decodeParamTypes(b: Buffer): { type: number; unsigned: boolean }[] {
  const out: { type: number; unsigned: boolean }[] = [];
  for (let i = 0; i + 1 < b.length; i += 2) out.push({ type: b[i], unsigned: (b[i + 1] & 0x80) !== 0 });
  return out;
}

/** Whether the (type, flags) byte pairs at `at` are the types `kept`. */
function sameParamTypes(b: Buffer, at: number, kept: readonly { type: number; unsigned: boolean }[]): boolean {
  for (let i = 0; i < kept.length; i++) {
    if (b[at + 2 * i] !== kept[i].type || ((b[at + 2 * i + 1] & 0x80) !== 0) !== kept[i].unsigned) return false;
  }
  return true;
}

export interface ExecuteRequest {
  stmtId: number;
  flags: number;
  params: TypedValue[];
  /** The parameter types in effect (sent now, or remembered from the previous execute). */
  types: { type: number; unsigned: boolean }[];
}

/**
 * Decodes COM_STMT_EXECUTE. `paramCount` and the statement's previous types come from the
 * prepared statement; `longData` holds values sent with COM_STMT_SEND_LONG_DATA.
 */
export function decodeExecute(
  payload: Buffer,
  paramCount: (stmtId: number) => number,
  previousTypes: (stmtId: number) => { type: number; unsigned: boolean }[] | null,
  longData: (stmtId: number, index: number) => Buffer | undefined,
  r = new PacketReader(),
  /** Reads string parameters in the client's character set when it is not UTF-8 (null: UTF-8). */
  decodeText: ((b: Buffer) => string) | null = null,
): ExecuteRequest {
  r.reset(payload, 1);
  const stmtId = r.u32();
  const flags = r.u8();
  r.u32(); // iteration count, always 1
  const n = paramCount(stmtId);
  const params: TypedValue[] = [];
  let types: { type: number; unsigned: boolean }[];
  if (n === 0) types = [];
  else {
    // The NULL bitmap, read in place (no view made for it).
    const bitmapAt = r.pos;
    r.skip((n + 7) >> 3);
    const bitmap = r.buf;
    const bound = r.u8();
    if (bound) {
      // Most clients send the types with every execute (libmariadb, mysql2), nearly always the
      // same: the previous execute's types are kept then, not made again.
      const prev = previousTypes(stmtId);
      const at = r.pos;
      r.skip(2 * n);
      if (prev !== null && prev.length === n && sameParamTypes(r.buf, at, prev)) types = prev;
      else {
        types = [];
        for (let i = 0; i < n; i++) types.push({ type: r.buf[at + 2 * i], unsigned: (r.buf[at + 2 * i + 1] & 0x80) !== 0 });
      }
    } else {
      const prev = previousTypes(stmtId);
      if (!prev || prev.length !== n) throw malformed('execute without parameter types');
      types = prev;
    }
    // One column description for every parameter's decode (binaryValue reads it and keeps nothing).
    const col = { type: 0, flags: 0, charset: CHARSET.BINARY, decimals: 31 };
    for (let i = 0; i < n; i++) {
      const { type, unsigned } = types[i];
      const long = longData(stmtId, i);
      if (long !== undefined) {
        params.push({ type, unsigned, value: long });
      } else if (bitmap[bitmapAt + (i >> 3)] & (1 << (i & 7)) || type === TYPE.NULL) {
        params.push({ type, unsigned, value: null });
      } else {
        col.type = type;
        col.flags = unsigned ? FIELD_FLAG.UNSIGNED : 0;
        let value = binaryValue(col, r);
        // String parameters arrive in the connection character set; keep bytes that are not UTF-8 as bytes.
        if (Buffer.isBuffer(value) && isStringType(type) && type !== TYPE.BLOB && type !== TYPE.TINY_BLOB &&
            type !== TYPE.MEDIUM_BLOB && type !== TYPE.LONG_BLOB) {
          if (decodeText !== null) value = decodeText(value);
          else if (isUtf8(value)) value = value.toString('utf8');
        }
        params.push({ type, unsigned, value });
      }
    }
  }
  return { stmtId, flags, params, types };
}

const textRowReader = new PacketReader();

/** An integer written in ASCII (optional '-', up to 15 digits) at payload[start, end), or NaN. */
function asciiInt(b: Buffer, start: number, end: number): number {
  let i = start;
  const neg = b[i] === 0x2d;
  if (neg) i++;
  if (i === end || end - i > 15) return NaN;
  let v = 0;
  for (; i < end; i++) {
    const d = b[i] - 0x30;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  return neg ? -v : v;
}

/**
 * A text-protocol row payload (as MariaDB sends it) written as a binary-protocol row, value by
 * value from the bytes: integers and floats are parsed from their digits, temporals from their
 * text, and every other value (strings, decimals, BIT, JSON, geometry) is already its binary form
 * (a length-encoded string): its bytes are copied as they are. Nothing is decoded to a JS value
 * except temporals and integers past 15 digits.
 */
export function encodeBinaryRowFromText(w: PacketWriter, payload: Buffer, columns: readonly Pick<ValueColumn, 'type' | 'charset'>[]): void {
  const n = columns.length;
  const r = textRowReader.reset(payload);
  w.begin().int1(0x00);
  // The NULL bitmap (offset 2) from a first pass over the cells.
  let bits = 0;
  let bit = 2;
  for (let i = 0; i < n; i++) {
    if (r.peek() === 0xfb) {
      r.pos++;
      bits |= 1 << bit;
    } else {
      const len = r.lenInt();
      r.pos += len;
    }
    if (++bit === 8) {
      w.int1(bits);
      bits = 0;
      bit = 0;
    }
  }
  if (bit !== 0) w.int1(bits);
  r.pos = 0;
  for (let i = 0; i < n; i++) {
    const at = r.pos;
    if (payload[at] === 0xfb) {
      r.pos++;
      continue;
    }
    const len = r.lenInt();
    const start = r.pos;
    const end = start + len;
    r.pos = end;
    if (end > payload.length) throw malformed('text row shorter than its columns');
    const type = columns[i].type;
    switch (type) {
      case TYPE.TINY:
      case TYPE.SHORT:
      case TYPE.YEAR:
      case TYPE.INT24:
      case TYPE.LONG: {
        let v = asciiInt(payload, start, end);
        if (Number.isNaN(v)) v = Number(payload.toString('latin1', start, end));
        if (type === TYPE.TINY) w.int1(v & 0xff);
        else if (type === TYPE.SHORT || type === TYPE.YEAR) w.int2(v);
        else w.int4(v);
        break;
      }
      case TYPE.LONGLONG: {
        const v = asciiInt(payload, start, end);
        w.int8(Number.isNaN(v) ? BigInt(payload.toString('latin1', start, end)) : v);
        break;
      }
      case TYPE.FLOAT:
        w.float(Number(payload.toString('latin1', start, end)));
        break;
      case TYPE.DOUBLE:
        w.double(Number(payload.toString('latin1', start, end)));
        break;
      case TYPE.NULL:
        break;
      case TYPE.DATE:
      case TYPE.NEWDATE:
      case TYPE.DATETIME:
      case TYPE.DATETIME2:
      case TYPE.TIMESTAMP:
      case TYPE.TIMESTAMP2:
      case TYPE.TIME:
      case TYPE.TIME2:
        encodeBinaryValue(w, type, payload.toString('latin1', start, end));
        break;
      default:
        w.bytes(payload, at, end);
    }
  }
  w.end();
}
