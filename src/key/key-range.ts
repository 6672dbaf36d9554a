// Key ranges and shard names, the Vitess way.
//
// A keyspace id is a byte string read as a fraction in [0, 1): `80` is one half, and so is `8000`.
// Every comparison here therefore pads the shorter side with zero bytes, so `80` and `8000` name the
// same bound, while a plain byte comparison would put `80` before `8000`. An empty start means "from
// the beginning", an empty end means "to the end"; a range holds its start and excludes its end.

import { ER, TesseraError } from '../mysql/errors.js';

/** A keyspace id: the bytes a vindex produced for a row. */
export type KeyspaceId = Uint8Array;

export interface KeyRange {
  /** Inclusive lower bound; empty = unbounded. */
  readonly start: Uint8Array;
  /** Exclusive upper bound; empty = unbounded. */
  readonly end: Uint8Array;
}

const EMPTY = new Uint8Array(0);

/** The whole range, `-` (also shard `0` of an unsharded keyspace). */
export const FULL_KEY_RANGE: KeyRange = Object.freeze({ start: EMPTY, end: EMPTY });

function invalid(message: string): TesseraError {
  return new TesseraError(ER.WRONG_ARGUMENTS, message);
}

/** Hex text of bytes, lowercase, no prefix. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

/** Parses hex text (even length, either case) into bytes; `what` names the input in errors. */
export function fromHex(text: string, what = 'hex value'): Uint8Array {
  if (!HEX_RE.test(text)) {
    throw invalid(`${what} '${text}' is not hex with an even number of digits`);
  }
  return new Uint8Array(Buffer.from(text, 'hex'));
}

/** A keyspace id as Vitess prints it: lowercase hex. */
export function keyspaceIdToHex(id: KeyspaceId): string {
  return toHex(id);
}

export function keyspaceIdFromHex(text: string): KeyspaceId {
  return fromHex(text, 'keyspace id');
}

/**
 * Compares two bounds (or ids) as zero-padded fractions: -1, 0 or 1. Both must be non-empty to be
 * meaningful; callers handle the unbounded (empty) cases themselves.
 */
export function compareKeyBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = i < a.length ? a[i] : 0;
    const y = i < b.length ? b[i] : 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** True when the bytes are all zero (or empty): such a start bound is the beginning. */
function isZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/** Start bounds: empty and all-zero both mean "the beginning". */
function compareStarts(a: Uint8Array, b: Uint8Array): number {
  return compareKeyBytes(a, b);
}

/** End bounds: empty means "the end", greater than every non-empty end. */
function compareEnds(a: Uint8Array, b: Uint8Array): number {
  if (a.length === 0) return b.length === 0 ? 0 : 1;
  if (b.length === 0) return -1;
  return compareKeyBytes(a, b);
}

/** Does a start bound lie before (strictly) an end bound? */
function startBeforeEnd(start: Uint8Array, end: Uint8Array): boolean {
  return end.length === 0 || compareKeyBytes(start, end) < 0;
}

export function keyRangeIsFull(kr: KeyRange): boolean {
  return isZero(kr.start) && kr.end.length === 0;
}

/** Does the range hold this keyspace id (start inclusive, end exclusive)? */
export function keyRangeContains(kr: KeyRange, id: KeyspaceId): boolean {
  if (kr.start.length > 0 && compareKeyBytes(id, kr.start) < 0) return false;
  return kr.end.length === 0 || compareKeyBytes(id, kr.end) < 0;
}

/** Same bounds, reading `80` and `8000` as equal. */
export function keyRangeEqual(a: KeyRange, b: KeyRange): boolean {
  return compareStarts(a.start, b.start) === 0 && compareEnds(a.end, b.end) === 0;
}

/** Do the two ranges share at least one keyspace id? Adjacent ranges (`-80`, `80-`) do not. */
export function keyRangesIntersect(a: KeyRange, b: KeyRange): boolean {
  return startBeforeEnd(a.start, b.end) && startBeforeEnd(b.start, a.end);
}

/** Is every id of `inner` also in `outer`? */
export function keyRangeContainsRange(outer: KeyRange, inner: KeyRange): boolean {
  return compareStarts(outer.start, inner.start) <= 0 && compareEnds(inner.end, outer.end) <= 0;
}

/** The ids both ranges hold, or undefined when they do not intersect. */
export function keyRangeIntersection(a: KeyRange, b: KeyRange): KeyRange | undefined {
  if (!keyRangesIntersect(a, b)) return undefined;
  const start = compareStarts(a.start, b.start) >= 0 ? a.start : b.start;
  const end = compareEnds(a.end, b.end) <= 0 ? a.end : b.end;
  return { start, end };
}

/**
 * The shard name of a range: `-80`, `80-`, `40-80`, `-` for the whole range. Bounds print as
 * given (so a range parsed from `8000-` prints `8000-`); an all-zero start prints empty.
 */
export function keyRangeToShardName(kr: KeyRange): string {
  const start = isZero(kr.start) ? '' : toHex(kr.start);
  return `${start}-${toHex(kr.end)}`;
}

const UNSHARDED_NAME_RE = /^[A-Za-z0-9_]+$/;

/**
 * True for names that hold the whole range without spelling it as a range: Vitess calls an
 * unsharded keyspace's single shard `0`, and accepts any name without a `-` the same way.
 */
export function isUnshardedShardName(name: string): boolean {
  return !name.includes('-') && UNSHARDED_NAME_RE.test(name);
}

/**
 * Parses a shard name into its key range. `0` (any name without `-`) and `-` are the whole range;
 * otherwise `start-end` with lowercase hex bounds of whole bytes, start before end.
 */
export function parseShardName(name: string): KeyRange {
  if (name.length === 0) throw invalid('shard name is empty');
  if (isUnshardedShardName(name)) return FULL_KEY_RANGE;
  const dash = name.indexOf('-');
  if (dash < 0 || name.indexOf('-', dash + 1) >= 0) {
    throw invalid(`shard name '${name}' is not a key range: want 'start-end' such as '-80', '40-80' or '80-'`);
  }
  const startText = name.slice(0, dash);
  const endText = name.slice(dash + 1);
  if (name !== name.toLowerCase()) {
    throw invalid(`shard name '${name}' must use lowercase hex ('${name.toLowerCase()}')`);
  }
  const start = fromHex(startText, `start of shard '${name}'`);
  const end = fromHex(endText, `end of shard '${name}'`);
  if (end.length > 0 && compareKeyBytes(start, end) >= 0) {
    throw invalid(`shard name '${name}' has its start at or after its end`);
  }
  return { start, end };
}

/** A key range from hex bounds ('' = unbounded). */
export function keyRangeFromHex(startHex: string, endHex: string): KeyRange {
  return parseShardName(`${startHex}-${endHex}`);
}

/**
 * Parses a sharding spec such as `-40-80-c0-` (Vitess's ParseShardingSpec): consecutive
 * boundaries, a leading `-` for an unbounded start and a trailing `-` for an unbounded end.
 */
export function parseShardingSpec(spec: string): KeyRange[] {
  const parts = spec.split('-');
  if (parts.length < 2) throw invalid(`sharding spec '${spec}' needs at least one '-'`);
  const bounds = parts.map((p, i) => fromHex(p, `bound ${i + 1} of sharding spec '${spec}'`));
  for (let i = 1; i < bounds.length - 1; i++) {
    if (bounds[i].length === 0) throw invalid(`sharding spec '${spec}' has an empty inner bound`);
  }
  const out: KeyRange[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const start = bounds[i];
    const end = bounds[i + 1];
    if (end.length > 0 && compareKeyBytes(start, end) >= 0) {
      throw invalid(`sharding spec '${spec}' is not in increasing order at '${parts[i]}-${parts[i + 1]}'`);
    }
    out.push({ start, end });
  }
  return out;
}

/** Orders ranges by start, then end. */
export function compareKeyRanges(a: KeyRange, b: KeyRange): number {
  return compareStarts(a.start, b.start) || compareEnds(a.end, b.end);
}

/**
 * Checks that the shards cover the whole key range exactly once: no gap and no overlap. Accepts
 * shard names or ranges; throws a TesseraError naming the first gap or overlap found.
 * A single unsharded shard (`0` or `-`) is a valid partition.
 */
export function validatePartition(shards: readonly (string | KeyRange)[], what = 'shards'): void {
  if (shards.length === 0) throw invalid(`${what}: no shards, so the key range is not covered`);
  const items = shards.map((s) => {
    const kr = typeof s === 'string' ? parseShardName(s) : s;
    return { kr, name: typeof s === 'string' ? s : keyRangeToShardName(s) };
  });
  items.sort((a, b) => compareKeyRanges(a.kr, b.kr));
  const first = items[0];
  if (!isZero(first.kr.start)) {
    throw invalid(`${what}: gap -${toHex(first.kr.start)} before shard ${first.name}`);
  }
  for (let i = 1; i < items.length; i++) {
    const prev = items[i - 1];
    const cur = items[i];
    if (prev.kr.end.length === 0) {
      throw invalid(`${what}: shards ${prev.name} and ${cur.name} overlap on ${keyRangeToShardName(cur.kr)}`);
    }
    const c = compareKeyBytes(prev.kr.end, cur.kr.start);
    if (c < 0) {
      throw invalid(
        `${what}: gap ${toHex(prev.kr.end)}-${toHex(cur.kr.start)} between shards ${prev.name} and ${cur.name}`,
      );
    }
    if (c > 0) {
      const overlap = keyRangeIntersection(prev.kr, cur.kr);
      const on = overlap ? keyRangeToShardName(overlap) : `${toHex(cur.kr.start)}-${toHex(prev.kr.end)}`;
      throw invalid(`${what}: shards ${prev.name} and ${cur.name} overlap on ${on}`);
    }
  }
  const last = items[items.length - 1];
  if (last.kr.end.length !== 0) {
    throw invalid(`${what}: gap ${toHex(last.kr.end)}- after shard ${last.name}`);
  }
}

/** Largest shard count `equalShardNames` supports (two-byte bounds). */
export const EQUAL_SHARDS_MAX = 65536;

/**
 * Names `n` shards of (nearly) equal size, exactly as Vitess's GenerateShardRanges does: one-byte
 * bounds up to 256 shards, two-byte bounds up to 65536. When `n` does not divide the space, each
 * end is the truncated real boundary, which spreads the rounding over all shards. One
 * deliberate difference: the last shard always runs to the end (see below).
 * equalShardNames(4) = ['-40', '40-80', '80-c0', 'c0-']; equalShardNames(1) = ['-'].
 */
export function equalShardNames(n: number): string[] {
  if (!Number.isInteger(n) || n < 1 || n > EQUAL_SHARDS_MAX) {
    throw invalid(`shard count ${n} must be an integer from 1 to ${EQUAL_SHARDS_MAX}`);
  }
  const space = n <= 256 ? 256 : 65536;
  const digits = n <= 256 ? 2 : 4;
  const bound = (v: number): string => (v === 0 || v === space ? '' : v.toString(16).padStart(digits, '0'));
  const size = space / n;
  const names: string[] = [];
  let start = 0;
  for (let i = 1; i <= n; i++) {
    // The last end is the end of the space. Vitess computes it as trunc(n * (space / n)), which
    // rounds to space - 1 for some n (49 shards: 255.99999999999997), leaving a gap `ff-`.
    const end = i === n ? space : Math.trunc(i * size);
    names.push(`${bound(start)}-${bound(end)}`);
    start = end;
  }
  return names;
}

/**
 * The shards of `partition` that share keyspace ids with `target` (for Reshard: which source
 * shards feed a target shard, or which targets a source shard feeds). Keeps the input order.
 */
export function overlappingShards<T extends string | KeyRange>(partition: readonly T[], target: string | KeyRange): T[] {
  const t = typeof target === 'string' ? parseShardName(target) : target;
  return partition.filter((s) => keyRangesIntersect(typeof s === 'string' ? parseShardName(s) : s, t));
}

/** The shard of a partition that holds a keyspace id, or undefined if none does. */
export function shardForKeyspaceId<T extends string | KeyRange>(partition: readonly T[], id: KeyspaceId): T | undefined {
  for (const s of partition) {
    if (keyRangeContains(typeof s === 'string' ? parseShardName(s) : s, id)) return s;
  }
  return undefined;
}
