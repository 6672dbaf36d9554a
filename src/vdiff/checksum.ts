// Chunk checksums: the SQL both sides of a VDiff run to compare a range of keys without moving its
// rows. A range is (lo, hi] in the key's order — MariaDB's own order on each side, under the key
// columns' collations, since the bounds go into a WHERE and MariaDB decides which rows fall in.
//
// A range's checksum is its row count and two sums over its rows: of CRC32 and of CRC32C (MariaDB
// 10.8+) of the row's columns, computed by MariaDB. The row is written as CONCAT_WS(0x1f, its
// columns, a tail saying where each column ends): the length of each column that can hold any
// byte (text, binary, ENUM, SET, BIT, JSON, …) and ISNULL of the others (numbers and times, whose
// text never holds 0x1f), `N` for NULL — so neither a NULL nor a separator inside a value can make
// two different rows read alike. The 0x1f separator is a binary string, so columns of different
// character sets concatenate as their bytes. Sums do not depend on the order rows are read in, so a
// source read through a key-range filter and summed on the source tablet gives the same value as
// the target summed in SQL; unlike XOR they do not cancel two rows changed alike (CRCs are linear).
// Each sum of 32-bit values stays a BIGINT for any table under 2^31 rows, which MariaDB adds fast.
//
// A checksum is only a shortcut: equal checksums let a range count as matching; different ones
// send the range to the row-by-row comparison, which decides exactly. Both sides must read the
// same column types for equal rows to hash alike (a column whose type differs between source and
// target makes every range differ, which costs time, never a wrong answer).
import type { SqlValue } from '../mysql/values.js';
import { quoteIdent } from '../sql/index.js';

/** A column as the checksum reads it. */
export interface HashColumn {
  readonly name: string;
  /** information_schema's DATA_TYPE (`int`, `varchar`, …). */
  readonly dataType: string;
}

const SEPARATOR_FREE = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'bigint', 'decimal', 'float', 'double', 'date', 'time', 'datetime', 'timestamp', 'year']);

/** One row written out for hashing (see the header). */
export function rowTextSql(columns: readonly HashColumn[]): string {
  const tail = columns.map((c) => {
    const q = quoteIdent(c.name);
    return SEPARATOR_FREE.has(c.dataType.toLowerCase()) ? `ISNULL(${q})` : `IFNULL(LENGTH(${q}), 'N')`;
  });
  return `CONCAT_WS(0x1f, ${columns.map((c) => quoteIdent(c.name)).join(', ')}, CONCAT_WS(',', ${tail.join(', ')}))`;
}

/** The two hashes of one row, as two select items (`CRC32(…) AS a, CRC32C(…) AS b` without names). */
export function rowHashesSql(columns: readonly HashColumn[]): [string, string] {
  const row = rowTextSql(columns);
  return [`CRC32(${row})`, `CRC32C(${row})`];
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

/** One side's checksum of a range: rows, and the two sums as `crc32sum:crc32csum` (decimal text). */
export interface RangeChecksum {
  readonly count: number;
  readonly sum: string;
}

/** A checksum from COUNT(*), SUM(a), SUM(b) (NULL sums over no rows read as 0). */
export function checksumOf(count: unknown, a: unknown, b: unknown): RangeChecksum {
  const t = (v: unknown) => (v === null || v === undefined || v === '' ? '0' : Buffer.isBuffer(v) ? v.toString() : String(v));
  return { count: Number(t(count)), sum: `${t(a)}:${t(b)}` };
}

/** Adds checksums (the source shards of one target range). */
export function addChecksums(list: readonly RangeChecksum[]): RangeChecksum {
  let count = 0;
  let a = 0n;
  let b = 0n;
  for (const c of list) {
    count += c.count;
    const [x, y] = c.sum.split(':');
    a += BigInt(x || '0');
    b += BigInt(y || '0');
  }
  return { count, sum: `${a}:${b}` };
}
