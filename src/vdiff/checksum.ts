// Chunk checksums: the SQL both sides of a VDiff run to compare a range of keys without moving its
// rows. A range is (lo, hi] in the key's order — MariaDB's own order on each side, under the key
// columns' collations, since the bounds go into a WHERE and MariaDB decides which rows fall in.
//
// A range's checksum is its row count and the sum of one hash per row, CRC32C (MariaDB 10.8+,
// computed with the CPU's CRC instruction) of the row's columns. Building the row's text costs far
// more than hashing it, so the text is built once and hashed once. The row is written as
// CONCAT_WS(0x1f, its columns, a tail of lengths):
//   - numbers and times (whose text never holds 0x1f) as they are, IFNULL(c, 'N') when nullable —
//     no number or time reads as N, and the separator keeps their place;
//   - every column that can hold any byte (text, binary, ENUM, SET, BIT, JSON, …) as it is, and
//     its length in the tail (IFNULL(LENGTH(c), 'N') when nullable; CONCAT_WS skips the NULL).
// The tail holds no 0x1f, so it is what follows the last separator; with the lengths, a row's text
// reads back into exactly one list of values: neither a NULL nor a separator inside a value can
// make two different rows read alike. A non-NULL value writes the same text whether its column is
// nullable or not, so a source and a target that differ only in a column's NULL-ability still hash
// equal rows alike. The 0x1f separator is a binary string, so columns of different character sets
// concatenate as their bytes.
//
// Why one 32-bit hash is enough. Equal checksums let a range count as matching; different ones send
// the range to the row-by-row comparison, which decides exactly. So the only harm a collision can do
// is to let a range that differs pass as equal, and that needs the same row count and the same SUM
// of the rows' CRCs on both sides. For a range where one row differs, that means CRC32C(source row)
// = CRC32C(target row): impossible when the two texts differ in a burst of at most 32 bits or in at
// most 3 bits (CRC32C's Hamming distance is at least 4 for anything shorter than 256 MB, and 6 below
// 655 bytes), and otherwise about 2^-32. For several differing rows the sum of their CRC differences
// must come out at exactly 0; the sum is an integer sum, not an XOR, so the CRC's linearity over
// XOR cannot make changes cancel (two rows swapping equal-length values would under BIT_XOR; under
// SUM they are found). A diff whose ranges differ in D places misses one of them with a probability
// of about D·2^-32 — one in four billion per differing range — and a clean diff (D = 0) cannot be
// wrong at all: equal tables give equal checksums. CRC32 alongside CRC32C would make that 2^-64 but
// build every row's text twice, which cost 60% more in MariaDB (measured: 1 M rows of 181 bytes);
// for the chance of a false match of 2^-64, --chunk-checksum=false compares every row.
// The SUM is exact: MariaDB sums integers as DECIMAL, never rounding (2^32 × 2^31 rows fits).
// Both sides must read the same column types for equal rows to hash alike (a column whose type
// differs between source and target makes every range differ, which costs time, never a wrong
// answer; so does a source tablet of an older Tessera, whose checksum has another form).
import type { SqlValue } from '../mysql/values.js';
import { quoteIdent } from '../sql/index.js';

/** A column as the checksum reads it. */
export interface HashColumn {
  readonly name: string;
  /** information_schema's DATA_TYPE (`int`, `varchar`, …). */
  readonly dataType: string;
  /** May hold NULL (information_schema's IS_NULLABLE); unknown counts as nullable. */
  readonly nullable?: boolean;
}

const SEPARATOR_FREE = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'bigint', 'decimal', 'float', 'double', 'date', 'time', 'datetime', 'timestamp', 'year']);

/** One row written out for hashing (see the header). */
export function rowTextSql(columns: readonly HashColumn[]): string {
  const values: string[] = [];
  const tail: string[] = [];
  for (const c of columns) {
    const q = quoteIdent(c.name);
    const nullable = c.nullable !== false;
    if (SEPARATOR_FREE.has(c.dataType.toLowerCase())) values.push(nullable ? `IFNULL(${q}, 'N')` : q);
    else {
      values.push(q);
      tail.push(nullable ? `IFNULL(LENGTH(${q}), 'N')` : `LENGTH(${q})`);
    }
  }
  return `CONCAT_WS(0x1f, ${values.join(', ')}, ${tail.length ? `CONCAT_WS(',', ${tail.join(', ')})` : "''"})`;
}

/** The hash of one row, as a select item. */
export function rowHashSql(columns: readonly HashColumn[]): string {
  return `CRC32C(${rowTextSql(columns)})`;
}

export type KeyLiteral = (v: SqlValue, column: number) => string;

/** `key > lo`: (k1 > v1) OR (k1 = v1 AND k2 > v2) …, which MariaDB turns into a range on the key. */
export function afterKeySql(keyCols: readonly string[], lo: readonly SqlValue[], lit: KeyLiteral): string {
  const l = lo.map(lit);
  const ors: string[] = [];
  for (let k = 0; k < keyCols.length; k++) ors.push('(' + [...keyCols.slice(0, k).map((c, j) => `${c} = ${l[j]}`), `${keyCols[k]} > ${l[k]}`].join(' AND ') + ')');
  return `(${ors.join(' OR ')})`;
}

/** `key <= hi`, likewise. */
export function upToKeySql(keyCols: readonly string[], hi: readonly SqlValue[], lit: KeyLiteral): string {
  const h = hi.map(lit);
  const ors: string[] = [];
  for (let k = 0; k < keyCols.length; k++) ors.push('(' + [...keyCols.slice(0, k).map((c, j) => `${c} = ${h[j]}`), `${keyCols[k]} < ${h[k]}`].join(' AND ') + ')');
  ors.push('(' + keyCols.map((c, j) => `${c} = ${h[j]}`).join(' AND ') + ')');
  return `(${ors.join(' OR ')})`;
}

/** The WHERE of the range (lo, hi] (either end null: open), or '' for the whole table. */
export function rangeWhereSql(keyCols: readonly string[], lo: readonly SqlValue[] | null, hi: readonly SqlValue[] | null, lit: KeyLiteral): string {
  const conds = [...(lo === null ? [] : [afterKeySql(keyCols, lo, lit)]), ...(hi === null ? [] : [upToKeySql(keyCols, hi, lit)])];
  return conds.length ? ` WHERE ${conds.join(' AND ')}` : '';
}

/** One side's checksum of a range: rows, and the sum of their hashes (decimal text). */
export interface RangeChecksum {
  readonly count: number;
  readonly sum: string;
}

/** A checksum from COUNT(*) and SUM(hash) (a NULL sum over no rows reads as 0). */
export function checksumOf(count: unknown, sum: unknown): RangeChecksum {
  const t = (v: unknown) => (v === null || v === undefined || v === '' ? '0' : Buffer.isBuffer(v) ? v.toString() : String(v));
  return { count: Number(t(count)), sum: BigInt(t(sum)).toString() };
}

/** Adds checksums (the source shards of one target range). */
export function addChecksums(list: readonly RangeChecksum[]): RangeChecksum {
  let count = 0;
  let sum = 0n;
  for (const c of list) {
    count += c.count;
    sum += BigInt(c.sum || '0');
  }
  return { count, sum: sum.toString() };
}
