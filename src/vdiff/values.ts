// How VDiff orders and compares values, and how it stores them.
//
// Rows from every source shard are merged, and matched with the target's, in key order — the order
// MariaDB itself gave them (`ORDER BY <key>` on each side). A merge that ordered keys any other way
// would see a source key "before" a target key that MariaDB put after it and report both as extra
// rows. So text keys are compared under their column's collation with src/collations, the exact
// implementation of MariaDB's collations the gate's merge-sort uses; numbers by value (bigints
// exactly); DECIMAL strings by value; binary strings bytewise; dates and times as the canonical
// text MariaDB prints (which sorts as they do). A key column under a collation we do not implement
// is refused before anything is compared, never guessed.
//
// Non-key columns are compared exactly (same JavaScript type and value, bytes for Buffers): a case
// change in a case-insensitive column is a difference a user wants to see, and the repair script
// then makes it identical.
import { compare as collationCompare, collationInfo, unsupportedCollationError } from '../collations/index.js';
import { TYPE } from '../mysql/constants.js';
import { TesseraError } from '../mysql/errors.js';
import type { SqlValue } from '../mysql/values.js';
import type { FieldInfo } from '../vreplication/row-streamer.js';

export type Comparator = (a: SqlValue, b: SqlValue) => number;

/** Compares two DECIMAL texts (`-12.50`, `3`) by value. */
export function compareDecimal(a: string, b: string): number {
  const neg = (s: string) => s.startsWith('-');
  const na = neg(a);
  const nb = neg(b);
  const abs = (s: string): [string, string] => {
    const t = s.replace(/^[-+]/, '');
    const [i, f = ''] = t.split('.');
    return [i.replace(/^0+(?=\d)/, ''), f.replace(/0+$/, '')];
  };
  const [ia, fa] = abs(a);
  const [ib, fb] = abs(b);
  const zero = (i: string, f: string) => /^0*$/.test(i) && f === '';
  const sa = zero(ia, fa) ? 0 : na ? -1 : 1;
  const sb = zero(ib, fb) ? 0 : nb ? -1 : 1;
  if (sa !== sb) return sa < sb ? -1 : 1;
  if (sa === 0) return 0;
  let mag = ia.length !== ib.length ? (ia.length < ib.length ? -1 : 1) : ia < ib ? -1 : ia > ib ? 1 : 0;
  if (mag === 0) {
    const w = Math.max(fa.length, fb.length);
    const x = fa.padEnd(w, '0');
    const y = fb.padEnd(w, '0');
    mag = x < y ? -1 : x > y ? 1 : 0;
  }
  return sa * mag;
}

function compareNumbers(a: number | bigint, b: number | bigint): number {
  if (typeof a === 'bigint' || typeof b === 'bigint') {
    // A bigint against a number: exact when the number is an integer, else by the number's floor.
    const x = typeof a === 'bigint' ? a : BigInt(Math.floor(a));
    const y = typeof b === 'bigint' ? b : BigInt(Math.floor(b));
    if (x !== y) return x < y ? -1 : 1;
    const fa = typeof a === 'number' ? a - Math.floor(a) : 0;
    const fb = typeof b === 'number' ? b - Math.floor(b) : 0;
    return fa === fb ? 0 : fa < fb ? -1 : 1;
  }
  return a === b ? 0 : a < b ? -1 : 1;
}

function toText(v: string | Buffer): string {
  return typeof v === 'string' ? v : v.toString('utf8');
}

/**
 * The comparator of one key column, from the column as the source described it (binlog type and
 * collation id). Throws the collation refusal for text under a collation we cannot order exactly.
 */
export function keyComparator(field: FieldInfo, table: string): Comparator {
  const collation = field.collation;
  const isText = collation !== undefined && collation !== 63 && [TYPE.VARCHAR, TYPE.STRING, TYPE.BLOB, TYPE.VAR_STRING, TYPE.ENUM, TYPE.SET].includes(field.type as never);
  if (isText && collationInfo(collation) === undefined) {
    const e = unsupportedCollationError(collation);
    throw new TesseraError(e, `VDiff of table ${table}: key column ${field.name}: ${e.message}`, { kind: 'PERMANENT' });
  }
  const decimal = field.type === TYPE.NEWDECIMAL || field.type === TYPE.DECIMAL;
  return (a, b) => {
    if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
    if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) return compareNumbers(a, b);
    if (isText && !Buffer.isBuffer(a) && !Buffer.isBuffer(b)) return collationCompare(collation!, a as string, b as string);
    if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return Buffer.compare(a, b);
    if (decimal && typeof a === 'string' && typeof b === 'string') return compareDecimal(a, b);
    if (isText) return collationCompare(collation!, toText(a as string | Buffer), toText(b as string | Buffer));
    const x = String(a);
    const y = String(b);
    return x === y ? 0 : x < y ? -1 : 1;
  };
}

/** Compares two keys column by column. */
export function compareKeys(cmp: readonly Comparator[], a: readonly SqlValue[], b: readonly SqlValue[]): number {
  for (let i = 0; i < cmp.length; i++) {
    const c = cmp[i](a[i], b[i]);
    if (c !== 0) return c;
  }
  return 0;
}

/** Exact equality of two column values (see the header). */
export function sameValue(a: SqlValue, b: SqlValue): boolean {
  if (a === null || b === null) return a === b;
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b);
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) return compareNumbers(a, b) === 0;
  return a === b;
}

// ---- stored form ------------------------------------------------------------------------------

/** A value as JSON: strings and safe numbers as they are, bigints `{"n":"…"}`, bytes `{"x":"hex"}`. */
export type StoredValue = null | number | string | { n: string } | { x: string };

export function storeValue(v: SqlValue): StoredValue {
  if (v === null || typeof v === 'number' || typeof v === 'string') return v;
  if (typeof v === 'bigint') return { n: v.toString() };
  return { x: v.toString('hex') };
}

export function loadValue(v: StoredValue): SqlValue {
  if (v === null || typeof v === 'number' || typeof v === 'string') return v;
  if ('n' in v) return BigInt(v.n);
  return Buffer.from(v.x, 'hex');
}

/** A value as the report prints it: text, bytes as hex, cut at `truncateAt` characters (0: never). */
export function displayValue(v: SqlValue, truncateAt: number): string | null {
  if (v === null) return null;
  let s: string;
  if (Buffer.isBuffer(v)) {
    const t = v.toString('utf8');
    // Printable UTF-8 shows as text; anything else as hex, as Vitess shows binary.
    s = Buffer.from(t, 'utf8').equals(v) && !/[\u0000-\u0008\u000e-\u001f]/.test(t) ? t : `0x${v.toString('hex')}`;
  } else s = String(v);
  return truncateAt > 0 && s.length > truncateAt ? `${s.slice(0, truncateAt)}...[TRUNCATED]` : s;
}

/** A value as a SQL literal for the repair script. */
export function sqlLiteral(v: SqlValue): string {
  if (v === null) return 'NULL';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (Buffer.isBuffer(v)) return v.length === 0 ? "''" : `0x${v.toString('hex')}`;
  return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\0/g, '\\0').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\x1a/g, '\\Z')}'`;
}
