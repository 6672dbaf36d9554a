// Values at the gate: splitting row payloads into cells, comparing cells the way MariaDB orders
// them, exact decimal arithmetic for SUM/AVG, and conversions between cells, bind variable
// literals (src/sql) and vindex values.
import { collationIdByName, compare as compareText, unsupportedCollationError, weightKey } from '../collations/index.js';
import { CHARSET, PacketReader, TYPE, textValue, type ColumnDefinition, type SqlValue } from '../mysql/index.js';
import type { BindValue, Literal, NumberLiteral } from '../sql/index.js';
import type { VindexValue } from '../vindexes/index.js';
import type { Cell, Result, Row } from './types.js';

const reader = new PacketReader();

/** Splits one text-protocol row payload into cells. */
export function splitRow(payload: Buffer, columns: number): Cell[] {
  reader.reset(payload);
  const out = new Array<Cell>(columns);
  for (let i = 0; i < columns; i++) {
    if (reader.peek() === 0xfb) {
      reader.pos++;
      out[i] = null;
    } else out[i] = reader.lenBytes();
  }
  return out;
}

/** The rows of a result as cells (decoding pass-through payloads once). */
export function rowsOf(r: Result): Row[] {
  if (r.rows !== null) return r.rows;
  if (r.rawBinary === true) throw new Error('internal: binary-protocol rows of a prepared statement reached a step that reads text rows');
  const n = r.fields.length;
  const rows = (r.raw ?? []).map((p) => splitRow(p, n));
  r.rows = rows;
  return rows;
}

function lenIntBytes(n: number): number {
  return n < 251 ? 1 : n < 0x10000 ? 3 : n < 0x1000000 ? 4 : 9;
}

/** A text-protocol row payload from cells. */
export function encodeRow(row: Row): Buffer {
  let size = 0;
  for (const c of row) size += c === null ? 1 : lenIntBytes(c.length) + c.length;
  const out = Buffer.allocUnsafe(size);
  let p = 0;
  for (const c of row) {
    if (c === null) {
      out[p++] = 0xfb;
      continue;
    }
    const n = c.length;
    if (n < 251) out[p++] = n;
    else if (n < 0x10000) {
      out[p++] = 0xfc;
      out.writeUInt16LE(n, p);
      p += 2;
    } else if (n < 0x1000000) {
      out[p++] = 0xfd;
      out.writeUIntLE(n, p, 3);
      p += 3;
    } else {
      out[p++] = 0xfe;
      out.writeBigUInt64LE(BigInt(n), p);
      p += 8;
    }
    c.copy(out, p);
    p += n;
  }
  return out;
}

export function isIntegerType(type: number): boolean {
  return type === TYPE.TINY || type === TYPE.SHORT || type === TYPE.INT24 || type === TYPE.LONG || type === TYPE.LONGLONG || type === TYPE.YEAR;
}
export function isDecimalType(type: number): boolean {
  return type === TYPE.DECIMAL || type === TYPE.NEWDECIMAL;
}
export function isFloatType(type: number): boolean {
  return type === TYPE.FLOAT || type === TYPE.DOUBLE;
}
export function isNumericType(type: number): boolean {
  return isIntegerType(type) || isDecimalType(type) || isFloatType(type);
}

// ---- decimals: a bigint scaled by 10^scale ----

export interface Decimal {
  readonly v: bigint;
  readonly scale: number;
}

const DECIMAL_RE = /^\s*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/;

/** Parses decimal text ('-12.50'); undefined when it is not a plain decimal. */
export function parseDecimal(text: string): Decimal | undefined {
  const m = DECIMAL_RE.exec(text);
  if (!m || (m[2] === '' && (m[3] === undefined || m[3] === ''))) return undefined;
  if (m[4] !== undefined) return undefined;
  const frac = m[3] ?? '';
  const v = BigInt((m[2] || '0') + frac);
  return { v: m[1] === '-' ? -v : v, scale: frac.length };
}

export function rescale(d: Decimal, scale: number): bigint {
  if (scale === d.scale) return d.v;
  if (scale > d.scale) return d.v * 10n ** BigInt(scale - d.scale);
  // Round half away from zero, as MySQL does.
  const div = 10n ** BigInt(d.scale - scale);
  const q = d.v / div;
  const rem = d.v % div;
  const twice = (rem < 0n ? -rem : rem) * 2n;
  if (twice >= div) return d.v < 0n ? q - 1n : q + 1n;
  return q;
}

export function addDecimal(a: Decimal, b: Decimal): Decimal {
  const scale = Math.max(a.scale, b.scale);
  return { v: rescale(a, scale) + rescale(b, scale), scale };
}

export function compareDecimal(a: Decimal, b: Decimal): number {
  const scale = Math.max(a.scale, b.scale);
  const x = rescale(a, scale);
  const y = rescale(b, scale);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function decimalText(d: Decimal): string {
  const neg = d.v < 0n;
  let digits = (neg ? -d.v : d.v).toString();
  if (d.scale > 0) {
    digits = digits.padStart(d.scale + 1, '0');
    digits = digits.slice(0, digits.length - d.scale) + '.' + digits.slice(digits.length - d.scale);
  }
  return (neg ? '-' : '') + digits;
}

/** a / n with `scale` digits, rounded half away from zero (AVG = SUM / COUNT). */
export function divideDecimal(a: Decimal, n: bigint, scale: number): Decimal {
  const num = rescale(a, scale) * 10n;
  let q = num / n;
  const lastDigit = q % 10n;
  q = q / 10n;
  if (lastDigit >= 5n) q += 1n;
  else if (lastDigit <= -5n) q -= 1n;
  return { v: q, scale };
}

// ---- comparison ----

/**
 * The collation a text column is compared under: the column's own when the tablet named it (see
 * ColumnDefinition.collation), else the one MariaDB sent — the connection's, which is also the
 * collation MariaDB gives text computed from literals and numbers.
 */
export function fieldCollation(field: Pick<ColumnDefinition, 'charset' | 'collation'>): number {
  return field.collation ?? field.charset;
}

/**
 * A pushed column and the hidden column beside it that holds the shards' COLLATION() of it. For a
 * computed column MariaDB's metadata names the connection's collation, not the one the value
 * carries (`name COLLATE utf8mb4_bin`, `min(nick)` of a utf8mb4_unicode_ci column).
 */
export type CollationHint = readonly [column: number, hint: number];

/** The fields with each hinted text column marked with the collation its hint names (1235 for one the gate lacks). */
export function withCollationHints(fields: readonly ColumnDefinition[], rows: readonly Row[], hints: readonly CollationHint[] | undefined): readonly ColumnDefinition[] {
  if (!hints || hints.length === 0 || rows.length === 0) return fields;
  const out = [...fields];
  for (const [column, hint] of hints) {
    const f = out[column];
    const name = rows[0][hint];
    if (f === undefined || name === null || name === undefined || !isTextField(f)) continue;
    const id = collationIdByName(name.toString('utf8'));
    if (id === undefined) throw unsupportedCollationError(name.toString('utf8'));
    out[column] = { ...f, collation: id };
  }
  return out;
}

/** True for a column the gate compares as text under a collation (not numbers, dates or bytes). */
export function isTextField(field: Pick<ColumnDefinition, 'type' | 'charset'>): boolean {
  const t = field.type;
  if (isNumericType(t) || field.charset === CHARSET.BINARY) return false;
  return t !== TYPE.DATE && t !== TYPE.DATETIME && t !== TYPE.TIMESTAMP && t !== TYPE.TIME;
}

/**
 * Compares two cells of one column the way MariaDB orders them: NULL first, numbers by value,
 * text by the column's collation (src/collations; 1235 for a collation the gate does not know).
 */
export function compareCells(a: Cell, b: Cell, field: Pick<ColumnDefinition, 'type' | 'charset' | 'collation'>): number {
  if (a === null) return b === null ? 0 : -1;
  if (b === null) return 1;
  const t = field.type;
  if (isIntegerType(t)) {
    const x = BigInt(a.toString('latin1'));
    const y = BigInt(b.toString('latin1'));
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (isDecimalType(t)) {
    const x = parseDecimal(a.toString('latin1'));
    const y = parseDecimal(b.toString('latin1'));
    if (x && y) return compareDecimal(x, y);
  }
  if (isFloatType(t)) {
    const x = Number(a.toString('latin1'));
    const y = Number(b.toString('latin1'));
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (field.charset === CHARSET.BINARY) return Buffer.compare(a, b);
  if (t === TYPE.DATE || t === TYPE.DATETIME || t === TYPE.TIMESTAMP || t === TYPE.TIME) return Buffer.compare(a, b);
  return compareText(fieldCollation(field), a, b);
}

/** A key under which equal cells (per MariaDB's comparison) are identical strings: GROUP BY, DISTINCT. */
export function cellKey(c: Cell, field: Pick<ColumnDefinition, 'type' | 'charset' | 'collation'>): string {
  if (c === null) return '\u0000N';
  const t = field.type;
  if (isIntegerType(t)) return 'i' + BigInt(c.toString('latin1')).toString();
  if (isDecimalType(t)) {
    const d = parseDecimal(c.toString('latin1'));
    if (d) {
      // Strip trailing zeros so 1.50 and 1.5 group together.
      let v = d.v;
      let s = d.scale;
      while (s > 0 && v % 10n === 0n) {
        v /= 10n;
        s--;
      }
      return 'i' + decimalText({ v, scale: s });
    }
  }
  if (isFloatType(t)) return 'f' + Number(c.toString('latin1')).toString();
  if (field.charset === CHARSET.BINARY) return 'b' + c.toString('hex');
  // One char per key byte: equal keys are equal text under the collation.
  return 's' + weightKey(fieldCollation(field), c).toString('latin1');
}

export function rowKey(row: Row, offsets: readonly number[], fields: readonly ColumnDefinition[]): string {
  let k = '';
  for (const i of offsets) k += cellKey(row[i], fields[i]) + '\u0001';
  return k;
}

// ---- conversions ----

export function cellText(c: Cell): string | null {
  return c === null ? null : c.toString('utf8');
}

export function textCell(s: string | null): Cell {
  return s === null ? null : Buffer.from(s, 'utf8');
}

/** A cell as a SQL literal to bind into another shard's query (joins, pulled-out subqueries). */
export function cellToLiteral(c: Cell, field: Pick<ColumnDefinition, 'type' | 'charset'>): Literal {
  if (c === null) return { kind: 'Null' };
  const t = field.type;
  if (isIntegerType(t)) return { kind: 'Number', text: c.toString('latin1'), numType: 'int' };
  if (isDecimalType(t)) return { kind: 'Number', text: c.toString('latin1'), numType: 'decimal' };
  if (isFloatType(t)) {
    const text = c.toString('latin1');
    if (/^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(text)) return { kind: 'Number', text: /[.e]/i.test(text) ? text : text + 'e0', numType: 'float' };
  }
  if (field.charset === CHARSET.BINARY && t !== TYPE.DATE && t !== TYPE.DATETIME && t !== TYPE.TIMESTAMP && t !== TYPE.TIME) {
    return { kind: 'Hex', digits: c.toString('hex'), form: 'x', charset: null };
  }
  return { kind: 'String', value: c.toString('utf8'), charset: null, national: false };
}

/** A bind variable's literal as a vindex value (numbers other than integers keep their text). */
export function literalToVindexValue(l: Literal): VindexValue {
  if (l.kind !== 'Number') return nonNumericLiteralValue(l);
  if (l.numType === 'int') return BigInt(l.text);
  return { type: l.numType === 'float' ? 'float' : 'decimal', text: l.text };
}

/** The value of every literal but a number (the callers differ on numbers). */
export function nonNumericLiteralValue(l: Exclude<Literal, NumberLiteral>): null | bigint | string | Buffer {
  switch (l.kind) {
    case 'Null':
      return null;
    case 'String':
      return l.value;
    case 'Hex':
      return Buffer.from(l.digits.length % 2 ? '0' + l.digits : l.digits, 'hex');
    case 'Bit':
      return BigInt('0b' + (l.digits || '0'));
    case 'Bool':
      return l.value ? 1n : 0n;
    case 'TypedLiteral':
      return l.value;
    default: {
      const never: never = l;
      return never;
    }
  }
}

/** A JS value (prepared statement parameter, user variable) as a literal. */
export function sqlValueToLiteral(v: SqlValue | boolean): Literal {
  if (v === null) return { kind: 'Null' };
  if (typeof v === 'boolean') return { kind: 'Number', text: v ? '1' : '0', numType: 'int' };
  if (typeof v === 'bigint') return { kind: 'Number', text: v.toString(), numType: 'int' };
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return { kind: 'Number', text: String(v), numType: 'int' };
    if (!Number.isFinite(v)) return { kind: 'Null' };
    const t = String(v);
    return { kind: 'Number', text: /[.e]/i.test(t) ? t : t + 'e0', numType: 'float' };
  }
  if (Buffer.isBuffer(v)) return { kind: 'Hex', digits: v.toString('hex'), form: 'x', charset: null };
  return { kind: 'String', value: v, charset: null, national: false };
}

/** The literal a bind variable holds, or an error naming the variable. */
export function bindLiteral(bindVars: Readonly<Record<string, BindValue>>, name: string): Literal {
  const v = bindVars[name];
  if (v === undefined || v.kind === 'List') throw new Error(`bind variable :${name} is missing or a list`);
  return v;
}

export function decodeCell(c: Cell, field: ColumnDefinition): SqlValue {
  return c === null ? null : textValue(field, c);
}
