// Chunk checksums: the SQL both sides of a VDiff run to compare a range of keys without moving its
// rows. A range is (lo, hi] in the key's order — MariaDB's own order on each side, under the key
// columns' collations, since the bounds go into a WHERE and MariaDB decides which rows fall in.
//
// A range's checksum is its row count and the SUM of a 64-bit hash of each row, computed by
// MariaDB: CRC32 and CRC32C (MariaDB 10.8+) of the row's columns, each written as its length, a
// colon and its bytes (CAST AS BINARY, so columns of different character sets concatenate, and
// neither NULL nor a separator inside a value can make two different rows serialize alike), NULL
// as `N`. A sum does not depend on the order rows are read in, so a source read through a key-range
// filter and summed on the source tablet gives the same value as the target summed in SQL.
//
// A checksum is only a shortcut: equal checksums let a range count as matching; different ones
// send the range to the row-by-row comparison, which decides exactly. Both sides must read the
// same column types for equal rows to hash alike (a column whose type differs between source and
// target makes every range differ, which costs time, never a wrong answer).
import type { SqlValue } from '../mysql/values.js';
import { quoteIdent } from '../sql/index.js';

/** The hash of one row, BIGINT UNSIGNED, over `columns` in that order. */
export function rowHashSql(columns: readonly string[]): string {
  const parts = columns.map((c) => {
    const q = quoteIdent(c);
    return `IFNULL(CONCAT(LENGTH(${q}), ':', CAST(${q} AS BINARY)), 'N')`;
  });
  const row = parts.length === 1 ? parts[0] : `CONCAT(${parts.join(', ')})`;
  return `((CRC32(${row}) << 32) | CRC32C(${row}))`;
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

/** One side's checksum of a range: rows, and the sum of their hashes as decimal text. */
export interface RangeChecksum {
  readonly count: number;
  readonly sum: string;
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
