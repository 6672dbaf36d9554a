// The Vindex interface: a function from column values to keyspace ids.
//
// Values arrive as the gate sees them (see VindexValue). Functional vindexes compute keyspace ids
// from the value alone and are synchronous; lookup vindexes ask a table through a LookupCursor
// that the gate supplies, so they are asynchronous. Both report per value a Destination.

import { ER, TesseraError } from '../mysql/errors.js';
import type { KeyRange, KeyspaceId } from '../key/index.js';

/**
 * A MySQL value as a vindex receives it:
 * - `null`: SQL NULL.
 * - `bigint`: an integer (signed int64 when negative or ≤ 2^63−1, else unsigned up to 2^64−1).
 * - `number`: an integer if Number.isInteger, otherwise a DOUBLE/DECIMAL value.
 * - `string`: text (CHAR/VARCHAR/TEXT) in UTF-8; integers written as text (`'42'`) are strings.
 * - `Uint8Array`: binary (BINARY/VARBINARY/BLOB) bytes, taken as they are.
 * - `{ type: 'uint64' | 'int64' | 'float' | 'decimal', text }`: a typed number given as its
 *   text, as bind variables from the MySQL protocol carry them.
 */
export type VindexValue = null | bigint | number | string | Uint8Array | TypedNumber;

export interface TypedNumber {
  readonly type: 'int64' | 'uint64' | 'float' | 'decimal';
  readonly text: string;
}

/** Where one value routes. */
export type Destination =
  | { readonly kind: 'keyspaceId'; readonly id: KeyspaceId }
  | { readonly kind: 'keyspaceIds'; readonly ids: readonly KeyspaceId[] }
  | { readonly kind: 'keyRange'; readonly range: KeyRange }
  | { readonly kind: 'none' };

export const DESTINATION_NONE: Destination = Object.freeze({ kind: 'none' });

export function keyspaceIdDestination(id: KeyspaceId): Destination {
  return { kind: 'keyspaceId', id };
}

/** What every vindex shares. */
export interface VindexBase {
  /** The vindex's name in the VSchema. */
  readonly name: string;
  /** Its type name in the registry (`hash`, `lookup_unique`, …). */
  readonly type: string;
  /** Planner cost: lower is preferred (Vitess: 0 identity-like, 1 hashes, 10/20 lookups). */
  readonly cost: number;
  /** True when each value maps to at most one keyspace id; a primary vindex must be unique. */
  readonly unique: boolean;
  /** True when mapping needs a lookup through the gate (LookupCursor). */
  readonly needsLookup: boolean;
  /** Parameters as given in the VSchema (all strings, as Vitess stores them). */
  readonly params: Readonly<Record<string, string>>;
}

/** A vindex over one column that needs nothing but the value. */
export interface FunctionalVindex extends VindexBase {
  readonly kind: 'functional';
  readonly needsLookup: false;
  /** Destinations for values, one per value, in order. Throws TesseraError on invalid input. */
  map(values: readonly VindexValue[]): Destination[];
  /** Whether each value maps to the keyspace id beside it. */
  verify(values: readonly VindexValue[], ksids: readonly KeyspaceId[]): boolean[];
  /**
   * The one keyspace id of a value, or undefined when the value has none (a unique vindex's
   * fast path, used by row filters such as VReplication's in_keyrange). Undefined for
   * non-unique vindexes.
   */
  keyspaceId(value: VindexValue): KeyspaceId | undefined;
  /** Present on reversible vindexes (hash, numeric, reverse_bits, binary): keyspace id → value. */
  reverseMap?(ksids: readonly KeyspaceId[]): VindexValue[];
}

/** A vindex over several columns of a row (region_experimental). */
export interface MultiColumnVindex extends VindexBase {
  readonly kind: 'multiColumn';
  readonly needsLookup: false;
  /** Most columns it uses; a prefix of the columns may be given (partial → key range). */
  readonly columnCount: number;
  map(rows: readonly (readonly VindexValue[])[]): Destination[];
  verify(rows: readonly (readonly VindexValue[])[], ksids: readonly KeyspaceId[]): boolean[];
}

/**
 * Which transaction a lookup statement runs in (Vitess's commit orders). `normal` is the
 * session's own; `pre` is a separate transaction per shard committed before it and `post` one
 * committed after it (consistent lookups: rows are created before their owner row and deleted
 * after it, so a failure between the commits leaves only orphaned lookup rows, never missing
 * ones); `autocommit` runs outside any transaction (the `autocommit` param).
 */
export type CommitOrder = 'pre' | 'normal' | 'post' | 'autocommit';

/** Rows a lookup statement returned: cells as binary values (Uint8Array) or null. */
export interface LookupRows {
  readonly rows: readonly (readonly VindexValue[])[];
}

/** The query runner a lookup vindex uses; the gate implements it over its own sessions. */
export interface LookupCursor {
  /**
   * Runs one statement on the lookup table, wherever its keyspace is (planned as a client's
   * statement would be). `:name` binds one value, `::name` a list.
   */
  execute(sql: string, bindVars: Readonly<Record<string, VindexValue | readonly VindexValue[]>>, order: CommitOrder): Promise<LookupRows>;
  /**
   * Runs a statement on the shard of `keyspace` that holds `ksid`, in the session's own
   * transaction (consistent lookups look for the owner row there).
   */
  executeKeyspaceId(keyspace: string, ksid: KeyspaceId, sql: string, bindVars: Readonly<Record<string, VindexValue>>): Promise<LookupRows>;
  /** The session is in a transaction (consistent lookups then read in their own, pre or post). */
  readonly inTransaction: boolean;
  /** The statement is a DML in a transaction: lookup reads lock what they read (param read_lock). */
  readonly dml: boolean;
  /**
   * Where a consistent lookup's locking read runs: `pre` for INSERT, `post` for UPDATE and
   * DELETE (where the lookup rows it locks are deleted in the post transaction), as Vitess's.
   */
  readonly rowLockOrder: 'pre' | 'post';
}

/** The table that owns a lookup vindex: its writes keep the lookup table right. */
export interface LookupOwner {
  readonly keyspace: string;
  readonly table: string;
  /** The owner's columns, one per `from` column, in order. */
  readonly columns: readonly string[];
}

/** What a lookup vindex's params resolve to. */
export interface LookupDefinition {
  /** `keyspace.table` or `table` holding the mapping. */
  readonly table: string;
  /** The `from` columns (one or more, comma-separated in params). */
  readonly from: readonly string[];
  /** The keyspace id column. */
  readonly to: string;
  /** Writes outside the session's transaction; plain `lookup` upserts, deletes are skipped. */
  readonly autocommit: boolean;
  /** Being back-filled: not used for routing, reads go everywhere, verify always passes. */
  readonly writeOnly: boolean;
  /** Rows with a NULL `from` value get no lookup row (and a lone NULL read goes everywhere). */
  readonly ignoreNulls: boolean;
  /** Map reads every value in one `IN` query even when the values are not integers. */
  readonly batchLookup: boolean;
  readonly readLock: string | undefined;
  /** Verify (INSERT of unowned values, INSERT IGNORE) always passes. */
  readonly noVerify: boolean;
  /** consistent_lookup*: writes the lookup row before the owner row and repairs orphans. */
  readonly consistent: boolean;
}

/** Options of LookupVindex.create. */
export interface LookupCreateOptions {
  /** INSERT IGNORE / ON DUPLICATE KEY UPDATE on the owner: rows that exist are left alone. */
  readonly ignore: boolean;
  /** The owner table (consistent lookups check it when the lookup row exists already). */
  readonly owner?: LookupOwner;
}

/** A vindex backed by a lookup table. Map/verify go through the cursor; owners maintain rows. */
export interface LookupVindex extends VindexBase {
  readonly kind: 'lookup';
  readonly needsLookup: true;
  readonly lookup: LookupDefinition;
  /** The statements it runs, for the gate's plans and for EXPLAIN. */
  readonly sql: { readonly select: string; readonly verify: string; readonly delete: string };
  map(cursor: LookupCursor, values: readonly VindexValue[]): Promise<Destination[]>;
  verify(cursor: LookupCursor, values: readonly VindexValue[], ksids: readonly KeyspaceId[]): Promise<boolean[]>;
  /** Adds rows (one per owner row: the from-column values) pointing at ksids. */
  create(cursor: LookupCursor, rows: readonly (readonly VindexValue[])[], ksids: readonly KeyspaceId[], options: LookupCreateOptions): Promise<void>;
  /** Removes the rows of these from-column values that point at ksid. */
  delete(cursor: LookupCursor, rows: readonly (readonly VindexValue[])[], ksid: KeyspaceId): Promise<void>;
  /**
   * The owner row at ksid changed its from-column values: the old row goes, the new one comes
   * (consistent lookups skip values that compare equal: `same` says whether they do).
   */
  update(cursor: LookupCursor, oldRow: readonly VindexValue[], ksid: KeyspaceId, newRow: readonly VindexValue[], options: { readonly owner?: LookupOwner; readonly same: boolean }): Promise<void>;
}

export type Vindex = FunctionalVindex | MultiColumnVindex | LookupVindex;

export function vindexError(vindexName: string, message: string): TesseraError {
  return new TesseraError(ER.WRONG_ARGUMENTS, `vindex ${vindexName}: ${message}`);
}

// ---- value conversion shared by the vindexes ----

const UINT64_MAX = (1n << 64n) - 1n;
const INT64_MIN = -(1n << 63n);
const DIGITS = /^[0-9]+$/;
const SIGNED_DIGITS = /^[+-]?[0-9]+$/;

/**
 * The value as an unsigned 64-bit integer, the way Vitess's integer vindexes read it, or
 * undefined when it has none:
 * - integers (bigint, integral number, int64/uint64 text): negatives wrap to two's complement
 *   (-1 → 2^64−1), as Vitess does for signed values;
 * - text and binary: plain decimal digits only (`'42'`; not `'-1'`, `' 42'`, `'4.0'`);
 * - floats, decimals, NULL, out-of-range values: undefined.
 */
export function toUint64(v: VindexValue): bigint | undefined {
  if (v === null) return undefined;
  if (typeof v === 'bigint') {
    if (v < INT64_MIN || v > UINT64_MAX) return undefined;
    return BigInt.asUintN(64, v);
  }
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) return undefined;
    return BigInt.asUintN(64, BigInt(v));
  }
  if (typeof v === 'string') return parseUnsignedText(v);
  if (v instanceof Uint8Array) return parseUnsignedText(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1'));
  if (v.type === 'uint64') return parseUnsignedText(v.text);
  if (v.type === 'int64') {
    if (!SIGNED_DIGITS.test(v.text)) return undefined;
    const n = BigInt(v.text);
    if (n < INT64_MIN || n > UINT64_MAX) return undefined;
    return BigInt.asUintN(64, n);
  }
  return undefined;
}

function parseUnsignedText(s: string): bigint | undefined {
  if (!DIGITS.test(s) || s.length > 20) return undefined;
  const n = BigInt(s);
  return n <= UINT64_MAX ? n : undefined;
}

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

/**
 * The bytes of a value as MySQL would send them in a text result (Vitess's ToBytes): integers
 * in decimal, text as UTF-8, binary as is, NULL as no bytes. Floats use JavaScript's shortest
 * round-trip form, which matches Go's for ordinary values (not for exponents: `1e-7`).
 */
export function toBytes(v: VindexValue): Uint8Array {
  if (v === null) return EMPTY;
  if (typeof v === 'string') return encoder.encode(v);
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'bigint' || typeof v === 'number') return encoder.encode(String(v));
  return encoder.encode(v.text);
}

export function bigintToBytes8(n: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, n, false);
  return out;
}

export function bytes8ToBigint(b: Uint8Array): bigint {
  return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, false);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
