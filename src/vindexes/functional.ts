// The functional vindexes: keyspace ids from the value alone. Each matches Vitess's type of the
// same name byte for byte (pinned in test/unit/vindexes against Vitess's own test outputs).

import { createHash } from 'node:crypto';
import { desZeroBlocks, desZeroBytes, desZeroOf } from './des.js';
import { looseKey } from './collation/loose-key.js';
import { xxh64, xxh64Into } from './xxh64.js';
import {
  DESTINATION_NONE,
  bigintToBytes8,
  bytes8ToBigint,
  bytesEqual,
  keyspaceIdDestination,
  toBytes,
  toUint64,
  vindexError,
  type Destination,
  type FunctionalVindex,
  type VindexValue,
} from './vindex.js';
import type { KeyspaceId } from '../key/index.js';

type Params = Readonly<Record<string, string>>;

/** Shared shape: a unique functional vindex defined by its keyspace-id function. */
function uniqueFunctional(
  name: string,
  type: string,
  cost: number,
  params: Params,
  ksid: (v: VindexValue) => KeyspaceId | undefined,
  reverse?: (ksids: readonly KeyspaceId[]) => VindexValue[],
): FunctionalVindex {
  const vindex: FunctionalVindex = {
    kind: 'functional',
    name,
    type,
    cost,
    unique: true,
    needsLookup: false,
    params,
    keyspaceId: ksid,
    map(values) {
      const out: Destination[] = new Array(values.length);
      for (let i = 0; i < values.length; i++) {
        const id = ksid(values[i]);
        out[i] = id === undefined ? DESTINATION_NONE : keyspaceIdDestination(id);
      }
      return out;
    },
    verify(values, ksids) {
      if (values.length !== ksids.length) {
        throw vindexError(name, `verify got ${values.length} values but ${ksids.length} keyspace ids`);
      }
      return values.map((v, i) => {
        const id = ksid(v);
        return id !== undefined && bytesEqual(id, ksids[i]);
      });
    },
  };
  if (reverse) vindex.reverseMap = reverse;
  return vindex;
}

function checkLength8(name: string, ksids: readonly KeyspaceId[]): void {
  for (const k of ksids) {
    if (k.length !== 8) {
      throw vindexError(name, `invalid keyspace id ${Buffer.from(k).toString('hex')}: want 8 bytes, got ${k.length}`);
    }
  }
}

// ---- hash: 3DES (all-zero key, so equal to single DES) of the 8-byte big-endian integer ----

/** The `hash` keyspace id of an unsigned 64-bit integer (des.ts: DES under the zero key). */
export function vhash(n: bigint): KeyspaceId {
  return desZeroOf(n);
}

/** The integer whose `hash` is this 8-byte keyspace id (DES under the zero key is its own inverse). */
export function vunhash(ksid: KeyspaceId): bigint {
  return bytes8ToBigint(desZeroBytes(ksid));
}

/**
 * Hashes many integers (8 bytes each, big-endian, in `blocks`); the result holds the keyspace ids
 * back to back. For bulk paths such as the copy phase and benchmarks.
 */
export function vhashBlocks(blocks: Uint8Array): Uint8Array {
  return desZeroBlocks(blocks);
}

export function createHashVindex(name: string, params: Params): FunctionalVindex {
  // One value at a time, batches (IN lists, multi-row inserts) too: des.ts costs less per block
  // than node:crypto's cipher does even on 100 blocks in one call.
  return uniqueFunctional(
    name,
    'hash',
    1,
    params,
    (v) => {
      const n = toUint64(v);
      return n === undefined ? undefined : vhash(n);
    },
    (ksids) => {
      checkLength8(name, ksids);
      return ksids.map((k) => vunhash(k));
    },
  );
}

// ---- xxhash: xxHash64 of the value's bytes, little-endian ----

const intScratch = new Uint8Array(24);

/** Decimal text of an integer in a reused buffer: skips TextEncoder's allocation per value. */
function textBytes(v: VindexValue): Uint8Array {
  if (typeof v === 'bigint' || (typeof v === 'number' && Number.isSafeInteger(v))) {
    const s = String(v);
    for (let i = 0; i < s.length; i++) intScratch[i] = s.charCodeAt(i);
    return intScratch.subarray(0, s.length);
  }
  return toBytes(v);
}

export function createXXHashVindex(name: string, params: Params): FunctionalVindex {
  return uniqueFunctional(name, 'xxhash', 1, params, (v) => xxh64(textBytes(v), true));
}

export { xxh64Into };

// ---- unicode_loose_md5 / unicode_loose_xxhash: hash of the loose collation key ----

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

function looseKeyOf(name: string, v: VindexValue): Uint8Array {
  let text: string;
  if (typeof v === 'string') text = v;
  else if (v instanceof Uint8Array) {
    try {
      text = utf8Strict.decode(v);
    } catch {
      throw vindexError(name, `cannot normalize string containing invalid UTF-8: ${Buffer.from(v).toString('hex')}`);
    }
  } else text = utf8Strict.decode(toBytes(v));
  // MySQL ignores trailing spaces in comparisons (PAD SPACE); Vitess trims them before hashing.
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0x20) end--;
  return looseKey(end === text.length ? text : text.slice(0, end));
}

export function createUnicodeLooseMD5Vindex(name: string, params: Params): FunctionalVindex {
  return uniqueFunctional(name, 'unicode_loose_md5', 1, params, (v) =>
    new Uint8Array(createHash('md5').update(looseKeyOf(name, v)).digest()),
  );
}

export function createUnicodeLooseXXHashVindex(name: string, params: Params): FunctionalVindex {
  return uniqueFunctional(name, 'unicode_loose_xxhash', 1, params, (v) => xxh64(looseKeyOf(name, v), true));
}

// ---- binary_md5: md5 of the raw bytes ----

export function createBinaryMD5Vindex(name: string, params: Params): FunctionalVindex {
  return uniqueFunctional(name, 'binary_md5', 1, params, (v) =>
    new Uint8Array(createHash('md5').update(toBytes(v)).digest()),
  );
}

// ---- binary: the bytes are the keyspace id ----

export function createBinaryVindex(name: string, params: Params): FunctionalVindex {
  return uniqueFunctional(
    name,
    'binary',
    0,
    params,
    (v) => new Uint8Array(toBytes(v)),
    (ksids) => ksids.map((k) => new Uint8Array(k)),
  );
}

// ---- numeric: the integer itself, 8 bytes big-endian ----

export function createNumericVindex(name: string, params: Params): FunctionalVindex {
  return uniqueFunctional(
    name,
    'numeric',
    0,
    params,
    (v) => {
      const n = toUint64(v);
      return n === undefined ? undefined : bigintToBytes8(n);
    },
    (ksids) => {
      checkLength8(name, ksids);
      return ksids.map((k) => bytes8ToBigint(k));
    },
  );
}

// ---- numeric_static_map: a JSON map of integer → integer, else the integer itself ----

/** Parses the `numeric_static_map` JSON: `{"1": 1, "3": 2}` (keys and values unsigned integers). */
export function parseNumericStaticMap(name: string, json: string): Map<bigint, bigint> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw vindexError(name, `numeric_static_map JSON does not parse: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw vindexError(name, 'numeric_static_map JSON must be an object of "number": number');
  }
  const out = new Map<bigint, bigint>();
  for (const [k, val] of Object.entries(parsed as Record<string, unknown>)) {
    const from = toUint64(k);
    const to = typeof val === 'number' || typeof val === 'string' ? toUint64(typeof val === 'number' ? val : val) : undefined;
    if (from === undefined || to === undefined || (typeof val === 'number' && val < 0)) {
      throw vindexError(name, `numeric_static_map entry "${k}": ${JSON.stringify(val)} is not an unsigned integer pair`);
    }
    out.set(from, to);
  }
  return out;
}

/**
 * Params: `json` (the map inline) or `json_path` (a file, read by the caller and passed as
 * `json` — this module does no I/O); `fallback_type` names a functional vindex type used for
 * values missing from the map (Vitess ≥ 17), else the value itself is the number.
 */
export function createNumericStaticMapVindex(
  name: string,
  params: Params,
  fallback: FunctionalVindex | undefined,
): FunctionalVindex {
  const json = params.json;
  if (json === undefined) {
    throw vindexError(name, 'numeric_static_map needs param "json" (or "json_path", read into "json" by the loader)');
  }
  const table = parseNumericStaticMap(name, json);
  return uniqueFunctional(name, 'numeric_static_map', 1, params, (v) => {
    const n = toUint64(v);
    if (n === undefined) return undefined;
    const mapped = table.get(n);
    if (mapped !== undefined) return bigintToBytes8(mapped);
    if (fallback) return fallback.keyspaceId(v);
    return bigintToBytes8(n);
  });
}

// ---- reverse_bits: the integer's 64 bits in reverse order ----

function reverse64(n: bigint): bigint {
  let hi = Number(n >> 32n);
  let lo = Number(n & 0xffffffffn);
  const rev32 = (x: number): number => {
    x = ((x >>> 1) & 0x55555555) | ((x & 0x55555555) << 1);
    x = ((x >>> 2) & 0x33333333) | ((x & 0x33333333) << 2);
    x = ((x >>> 4) & 0x0f0f0f0f) | ((x & 0x0f0f0f0f) << 4);
    x = ((x >>> 8) & 0x00ff00ff) | ((x & 0x00ff00ff) << 8);
    return ((x >>> 16) | (x << 16)) >>> 0;
  };
  const nh = rev32(lo);
  const nl = rev32(hi);
  hi = nh;
  lo = nl;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

export function createReverseBitsVindex(name: string, params: Params): FunctionalVindex {
  return uniqueFunctional(
    name,
    'reverse_bits',
    1,
    params,
    (v) => {
      const n = toUint64(v);
      return n === undefined ? undefined : bigintToBytes8(reverse64(n));
    },
    (ksids) => {
      checkLength8(name, ksids);
      return ksids.map((k) => reverse64(bytes8ToBigint(k)));
    },
  );
}

// ---- null: every value (NULL included) maps to keyspace id 0x00 ----

const NULL_KSID = new Uint8Array([0]);

export function createNullVindex(name: string, params: Params): FunctionalVindex {
  return uniqueFunctional(name, 'null', 100, params, () => NULL_KSID);
}
