// SQL text built as UTF-8 bytes, for the statements that carry rows to a target (copy batches,
// the player's packed changes). Built as JavaScript strings, a megabyte statement is a rope of
// thousands of concatenations that the client must flatten and measure (Buffer.byteLength) and
// then copy into its packet, and each value's literal is a short-lived string of its own: on the
// catch-up bench that was most of the garbage collector's work (docs/vreplication.md,
// "Performance"). Here each value is written straight into one growing buffer, which the client
// sends as is (Client.query takes the bytes).
//
// The literals are valueLiteral's (src/sql/format.ts): NULL, numbers and bigints in decimal,
// binary strings as X'hex', text quoted with quoteString's escapes.
import { isUtf8 } from 'node:buffer';
import { quoteString } from '../sql/index.js';

/** SQL text: a string, or its UTF-8 bytes. */
export type SqlText = string | Buffer;

type Value = null | number | bigint | string | Buffer | undefined;

const HEX = Buffer.from('0123456789abcdef', 'latin1');
const EMPTY = Buffer.alloc(0);
/** Each byte's two hex digits as one big-endian 16-bit word (DataView.setUint16's default order). */
const HEX_PAIRS = Uint16Array.from({ length: 256 }, (_, x) => (HEX[x >> 4] << 8) | HEX[x & 15]);

/** Bytes of text: 0 plain ASCII, ESCAPED (quoteString escapes it), 2 part of a multi-byte character. */
const ESCAPED = 1;
const BYTE_CLASS = Uint8Array.from({ length: 256 }, (_, c) => (c === 39 || c === 92 || c === 0 || c === 10 || c === 13 || c === 26 ? ESCAPED : c >= 0x80 ? 2 : 0));

/** Strings up to this many UTF-16 units are scanned and written in JavaScript. */
const SHORT_STRING = 64;

/** Whether a string literal needs quoteString's escapes (', \, NUL, LF, CR, ^Z). */
function needsEscape(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 39 || c === 92 || c === 0 || c === 10 || c === 13 || c === 26) return true;
  }
  return false;
}

/** A growing UTF-8 buffer of SQL text. */
export class SqlBytes {
  private buf: Buffer;
  /** Bytes written. */
  length = 0;
  /** A DataView of `buf` (hexLiteral), made again when `buf` changes. */
  private view: DataView | undefined;

  /** Size of the next buffer after one was handed over: the last one's, so a like packet does not grow. */
  private next: number;

  constructor(initial = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initial);
    this.next = initial;
  }

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = Math.max(this.buf.length * 2, this.next);
    while (size < this.length + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  /** Room for n more bytes: the buffer to write them into at `length` (the caller moves `length` on). */
  reserve(n: number): Buffer {
    this.ensure(n);
    return this.buf;
  }

  /** Text known to be ASCII (SQL keywords, quoted identifiers of ASCII names, digits). */
  ascii(s: string): this {
    this.ensure(s.length);
    this.length += this.buf.write(s, this.length, 'latin1');
    return this;
  }

  /** Any text, as UTF-8. */
  text(s: string): this {
    this.ensure(s.length * 3);
    this.length += this.buf.write(s, this.length, 'utf8');
    return this;
  }

  byte(c: number): this {
    this.ensure(1);
    this.buf[this.length++] = c;
    return this;
  }

  bytes(b: Buffer, start = 0, end = b.length): this {
    this.ensure(end - start);
    this.length += b.copy(this.buf, this.length, start, end);
    return this;
  }

  /** A safe integer in decimal, as String(n) writes it, without making the string. */
  int(n: number): this {
    this.ensure(17);
    const b = this.buf;
    let p = this.length;
    if (n < 0) {
      b[p++] = 0x2d;
      n = -n;
    }
    let digits = 1;
    for (let m = n; m >= 10; m = Math.floor(m / 10)) digits++;
    let q = p + digits;
    this.length = q;
    do {
      const d = n % 10;
      b[--q] = 0x30 + d;
      n = (n - d) / 10;
    } while (n > 0);
    return this;
  }

  /** One value as an SQL literal, as valueLiteral writes it. */
  value(v: Value): this {
    if (v === null || v === undefined) return this.ascii('NULL');
    if (typeof v === 'number') return this.ascii(Number.isFinite(v) ? String(v) : 'NULL');
    if (typeof v === 'bigint') return this.ascii(v.toString());
    if (Buffer.isBuffer(v)) {
      if (v.length === 0) return this.ascii("''");
      this.ensure(3 + 2 * v.length);
      const b = this.buf;
      let p = this.length;
      b[p++] = 0x58; // X
      b[p++] = 0x27; // '
      for (let i = 0; i < v.length; i++) {
        const x = v[i];
        b[p++] = HEX[x >> 4];
        b[p++] = HEX[x & 15];
      }
      b[p++] = 0x27;
      this.length = p;
      return this;
    }
    const len = v.length;
    this.ensure(2 + len * 3);
    const b = this.buf;
    const at = this.length;
    b[at] = 0x27;
    if (len <= SHORT_STRING) {
      // Plain ASCII written byte by byte (the common case: no native call); anything else below.
      let i = 0;
      for (; i < len; i++) {
        const c = v.charCodeAt(i);
        if (c >= 0x80 || c === 39 || c === 92 || c === 0 || c === 10 || c === 13 || c === 26) break;
        b[at + 1 + i] = c;
      }
      if (i === len) {
        b[at + 1 + len] = 0x27;
        this.length = at + 2 + len;
        return this;
      }
    }
    if (needsEscape(v)) return this.text(quoteString(v));
    const n = b.write(v, at + 1, 'utf8');
    b[at + 1 + n] = 0x27;
    this.length = at + 2 + n;
    return this;
  }

  /**
   * The literal `value` writes for the UTF-8 text in src[start, end), from the bytes: false (and
   * nothing written) when the text needs escapes or is not valid UTF-8, which the caller then
   * decodes and writes with `value`.
   */
  utf8Literal(src: Buffer, start: number, end: number): boolean {
    const len = end - start;
    this.ensure(2 + len);
    const b = this.buf;
    const at = this.length;
    let ascii = true;
    if (len <= SHORT_STRING) {
      // Checked and copied in one pass (no native call); nothing counts until length moves.
      for (let i = 0; i < len; i++) {
        const c = src[start + i];
        const k = BYTE_CLASS[c];
        if (k !== 0) {
          if (k === ESCAPED) return false;
          ascii = false;
        }
        b[at + 1 + i] = c;
      }
    } else {
      for (let i = start; i < end; i++) {
        const k = BYTE_CLASS[src[i]];
        if (k !== 0) {
          if (k === ESCAPED) return false;
          ascii = false;
        }
      }
      src.copy(b, at + 1, start, end);
    }
    if (!ascii && !isUtf8(src.subarray(start, end))) return false;
    b[at] = 0x27;
    b[at + 1 + len] = 0x27;
    this.length = at + 2 + len;
    return true;
  }

  /** The literal `value` writes for the binary string src[start, end): X'hex', or '' when empty. */
  hexLiteral(src: Buffer, start: number, end: number): this {
    if (end === start) return this.ascii("''");
    this.ensure(3 + 2 * (end - start));
    const b = this.buf;
    let dv = this.view;
    if (dv === undefined || dv.buffer !== b.buffer || dv.byteOffset !== b.byteOffset) {
      dv = new DataView(b.buffer, b.byteOffset, b.length);
      this.view = dv;
    }
    let p = this.length;
    b[p++] = 0x58; // X
    b[p++] = 0x27; // '
    // Two digits per store, from a table of every byte's pair.
    for (let i = start; i < end; i++, p += 2) dv.setUint16(p, HEX_PAIRS[src[i]]);
    b[p++] = 0x27;
    this.length = p;
    return this;
  }

  /** `(v1,v2,…)` */
  tuple(values: readonly Value[]): this {
    this.byte(0x28);
    for (let i = 0; i < values.length; i++) {
      if (i > 0) this.byte(0x2c);
      this.value(values[i]);
    }
    return this.byte(0x29);
  }

  /** Cuts the text back to `length` bytes (a tuple that did not fit). */
  truncate(length: number): void {
    this.length = length;
  }

  /** A copy of bytes [start, end) of what was written. */
  copyOf(start: number, end = this.length): Buffer {
    return Buffer.from(this.buf.subarray(start, end));
  }

  /**
   * What was written, in a buffer of its own; the builder starts empty again. A mostly full buffer
   * is handed over as it is, and the next one is allocated only when something is written again
   * (a builder used once, as insertRowsSql's, allocates nothing more).
   */
  take(): Buffer {
    let out: Buffer;
    if (this.length >= this.buf.length / 4) {
      out = this.buf.subarray(0, this.length);
      this.next = this.buf.length;
      this.buf = EMPTY;
    } else {
      out = Buffer.from(this.buf.subarray(0, this.length));
    }
    this.length = 0;
    return out;
  }
}

/** Text of SqlText, for messages and tests. */
export function sqlString(s: SqlText): string {
  return typeof s === 'string' ? s : s.toString('utf8');
}
