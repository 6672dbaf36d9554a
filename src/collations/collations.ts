// Text comparison exactly as MariaDB 10.11 does it, for the collations of utf8mb4, utf8mb3 and
// latin1 that applications use (see COLLATIONS below). The gate sorts, groups and de-duplicates
// with it; VDiff compares rows with it. One implementation, so both agree with MariaDB and with
// each other.
//
// Values are UTF-8 text — the character set of every connection Tessera opens to MariaDB — for
// every collation but `binary`, whose values are bytes. A latin1 column's value therefore arrives
// as UTF-8 and is mapped back to its latin1 (cp1252) byte before it is weighed.
//
// Each collation is a weight per character (or a few, or none: UCA expansions and ignorables),
// compared as unsigned sequences. MariaDB's default UCA collations have no contractions, so the
// weights of a string are the concatenation of its characters' weights. PAD SPACE collations
// compare as if the shorter string were padded with spaces: a remaining weight below the space's
// (a tab, under most) sorts before the end of the string, one above it after. NO PAD collations
// compare the plain sequences, so a trailing space makes a string greater.
//
// Data: weights-data.ts, generated from MariaDB's WEIGHT_STRING of every code point by
// scripts/gen-collations.mjs and checked against MariaDB by test/integration/collations/.

import { inflateSync } from 'node:zlib';
import { ER, TesseraError } from '../mysql/errors.js';
import {
  GENERAL_WEIGHTS_DEFLATED_BASE64,
  LATIN1_SWEDISH_WEIGHTS,
  LATIN1_TO_UNICODE,
  UNICODE_520_WEIGHTS_DEFLATED_BASE64,
  UNICODE_WEIGHTS_DEFLATED_BASE64,
} from './weights-data.js';

type TableName = 'general' | 'unicode' | 'unicode_520';

/** How a collation weighs a character. */
type Kind =
  /** One of the code point weight tables (general_ci, UCA 4.0.0, UCA 5.2.0). */
  | { readonly t: 'table'; readonly table: TableName }
  /** utf8mb3/utf8mb4 `_bin`: the code point (the UTF-8 byte order). */
  | { readonly t: 'codepoint' }
  /** latin1_swedish_ci: the latin1 byte's sort order. */
  | { readonly t: 'latin1_ci' }
  /** latin1_bin: the latin1 byte. */
  | { readonly t: 'latin1_bin' }
  /** binary: the bytes, no character set at all. */
  | { readonly t: 'binary' };

export interface CollationInfo {
  readonly id: number;
  readonly name: string;
  readonly charset: 'utf8mb4' | 'utf8mb3' | 'latin1' | 'binary';
  /** PAD SPACE (trailing spaces do not count) or NO PAD. */
  readonly pad: boolean;
  readonly kind: Kind;
}

const GENERAL: Kind = { t: 'table', table: 'general' };
const UNICODE: Kind = { t: 'table', table: 'unicode' };
const UNICODE_520: Kind = { t: 'table', table: 'unicode_520' };
const CODEPOINT: Kind = { t: 'codepoint' };

/** The collations the gate compares exactly; ids and names as MariaDB 10.11's information_schema.COLLATIONS. */
export const COLLATIONS: readonly CollationInfo[] = [
  { id: 45, name: 'utf8mb4_general_ci', charset: 'utf8mb4', pad: true, kind: GENERAL },
  { id: 1069, name: 'utf8mb4_general_nopad_ci', charset: 'utf8mb4', pad: false, kind: GENERAL },
  { id: 224, name: 'utf8mb4_unicode_ci', charset: 'utf8mb4', pad: true, kind: UNICODE },
  { id: 1248, name: 'utf8mb4_unicode_nopad_ci', charset: 'utf8mb4', pad: false, kind: UNICODE },
  { id: 246, name: 'utf8mb4_unicode_520_ci', charset: 'utf8mb4', pad: true, kind: UNICODE_520 },
  { id: 1270, name: 'utf8mb4_unicode_520_nopad_ci', charset: 'utf8mb4', pad: false, kind: UNICODE_520 },
  { id: 46, name: 'utf8mb4_bin', charset: 'utf8mb4', pad: true, kind: CODEPOINT },
  { id: 1070, name: 'utf8mb4_nopad_bin', charset: 'utf8mb4', pad: false, kind: CODEPOINT },
  { id: 33, name: 'utf8mb3_general_ci', charset: 'utf8mb3', pad: true, kind: GENERAL },
  { id: 1057, name: 'utf8mb3_general_nopad_ci', charset: 'utf8mb3', pad: false, kind: GENERAL },
  { id: 192, name: 'utf8mb3_unicode_ci', charset: 'utf8mb3', pad: true, kind: UNICODE },
  { id: 1216, name: 'utf8mb3_unicode_nopad_ci', charset: 'utf8mb3', pad: false, kind: UNICODE },
  { id: 214, name: 'utf8mb3_unicode_520_ci', charset: 'utf8mb3', pad: true, kind: UNICODE_520 },
  { id: 1238, name: 'utf8mb3_unicode_520_nopad_ci', charset: 'utf8mb3', pad: false, kind: UNICODE_520 },
  { id: 83, name: 'utf8mb3_bin', charset: 'utf8mb3', pad: true, kind: CODEPOINT },
  { id: 1107, name: 'utf8mb3_nopad_bin', charset: 'utf8mb3', pad: false, kind: CODEPOINT },
  { id: 8, name: 'latin1_swedish_ci', charset: 'latin1', pad: true, kind: { t: 'latin1_ci' } },
  { id: 1032, name: 'latin1_swedish_nopad_ci', charset: 'latin1', pad: false, kind: { t: 'latin1_ci' } },
  { id: 47, name: 'latin1_bin', charset: 'latin1', pad: true, kind: { t: 'latin1_bin' } },
  { id: 1071, name: 'latin1_nopad_bin', charset: 'latin1', pad: false, kind: { t: 'latin1_bin' } },
  { id: 63, name: 'binary', charset: 'binary', pad: false, kind: { t: 'binary' } },
];

const BY_ID = new Map<number, CollationInfo>(COLLATIONS.map((c) => [c.id, c]));
const BY_NAME = new Map<string, CollationInfo>(COLLATIONS.map((c) => [c.name, c]));

// Names of the other collations of these character sets, for the refusal's message only.
const OTHER_NAMES: Readonly<Record<number, string>> = {
  5: 'latin1_german1_ci', 15: 'latin1_danish_ci', 31: 'latin1_german2_ci', 48: 'latin1_general_ci', 49: 'latin1_general_cs',
  94: 'latin1_spanish_ci', 223: 'utf8mb3_general_mysql500_ci', 193: 'utf8mb3_icelandic_ci', 225: 'utf8mb4_icelandic_ci',
  199: 'utf8mb3_spanish_ci', 231: 'utf8mb4_spanish_ci', 200: 'utf8mb3_swedish_ci', 232: 'utf8mb4_swedish_ci',
  201: 'utf8mb3_turkish_ci', 233: 'utf8mb4_turkish_ci', 202: 'utf8mb3_czech_ci', 234: 'utf8mb4_czech_ci',
  203: 'utf8mb3_danish_ci', 235: 'utf8mb4_danish_ci', 212: 'utf8mb3_german2_ci', 244: 'utf8mb4_german2_ci',
  215: 'utf8mb3_vietnamese_ci', 247: 'utf8mb4_vietnamese_ci', 229: 'utf8mb4_polish_ci', 197: 'utf8mb3_polish_ci',
};

/** The collation the gate knows by this id, or undefined. */
export function collationInfo(id: number): CollationInfo | undefined {
  return BY_ID.get(id);
}

export function collationByName(name: string): CollationInfo | undefined {
  return BY_NAME.get(name.toLowerCase());
}

/** A collation's id by MariaDB's name (also of collations the gate does not implement, where it knows them). */
export function collationIdByName(name: string): number | undefined {
  const n = name.toLowerCase();
  const c = BY_NAME.get(n);
  if (c !== undefined) return c.id;
  for (const [id, other] of Object.entries(OTHER_NAMES)) if (other === n) return Number(id);
  return undefined;
}

/** A collation's name for messages (MariaDB's name when we know it, else its id). */
export function collationName(id: number): string {
  return BY_ID.get(id)?.name ?? OTHER_NAMES[id] ?? `collation id ${id}`;
}

/** The refusal for text under a collation the gate does not implement: never a guessed order. */
export function unsupportedCollationError(id: number | string): TesseraError {
  return new TesseraError(
    ER.NOT_SUPPORTED_YET,
    `the gate cannot sort, group or compare text under collation ${typeof id === 'string' ? id : `${collationName(id)} (id ${id})`} across shards; ` +
      `run the statement on one shard, or add COLLATE with one of ${COLLATIONS.filter((c) => c.pad && c.charset !== 'latin1').map((c) => c.name).join(', ')}, latin1_swedish_ci, latin1_bin, binary or a _nopad_ variant (see docs/gate.md)`,
  );
}

// ---- weight tables ----

/**
 * Weights of every code point. The Basic Multilingual Plane is flat (offsets into one array);
 * the supplementary planes stay as the generator's runs — mostly UCA's computed weights, one run
 * per block — found by binary search.
 */
interface WeightTable {
  /** bmpStart[cp]..bmpStart[cp + 1] indexes bmpWeights. */
  readonly bmpStart: Uint32Array;
  readonly bmpWeights: Uint16Array;
  /** Supplementary runs: first code point, count, weights of the first, and +1 per step on the last weight or not. */
  readonly runStart: Uint32Array;
  readonly runWeights: readonly Uint16Array[];
  readonly runStep: Uint8Array;
  /** The weight of a space, which PAD SPACE compares leftovers against. */
  readonly space: number;
  /** ASCII byte -> its single weight, or -1 when it has none or several (the slow path handles those). */
  readonly ascii: Int32Array;
}

const tables = new Map<TableName, WeightTable>();

function loadTable(name: TableName): WeightTable {
  const cached = tables.get(name);
  if (cached) return cached;
  const b64 = name === 'general' ? GENERAL_WEIGHTS_DEFLATED_BASE64 : name === 'unicode' ? UNICODE_WEIGHTS_DEFLATED_BASE64 : UNICODE_520_WEIGHTS_DEFLATED_BASE64;
  const ops = inflateSync(Buffer.from(b64, 'base64'));
  const bmpStart = new Uint32Array(0x10001);
  let bmpWeights = new Uint16Array(0x14000);
  let bmpLen = 0;
  const runStart: number[] = [];
  const runWeights: Uint16Array[] = [];
  const runStep: number[] = [];
  let prev = new Uint16Array(0);
  let cp = 0;
  const emit = (w: Uint16Array): void => {
    if (cp < 0x10000) {
      if (bmpLen + w.length > bmpWeights.length) {
        const next = new Uint16Array(bmpWeights.length * 2);
        next.set(bmpWeights);
        bmpWeights = next;
      }
      bmpStart[cp] = bmpLen;
      bmpWeights.set(w, bmpLen);
      bmpLen += w.length;
    }
    cp++;
  };
  for (let p = 0; p < ops.length; ) {
    const op = ops[p++];
    if (op === 2) {
      const n = ops[p++];
      const w = new Uint16Array(n);
      for (let i = 0; i < n; i++, p += 2) w[i] = ops.readUInt16BE(p);
      if (cp >= 0x10000) {
        runStart.push(cp);
        runWeights.push(w);
        runStep.push(0);
      }
      emit(w);
      prev = w;
      continue;
    }
    let k = 0;
    for (let shift = 1; ; shift *= 128) {
      const v = ops[p++];
      k += (v & 0x7f) * shift;
      if (v < 0x80) break;
    }
    for (let i = 0; i < k; i++) {
      let w = prev;
      if (op === 0) {
        w = prev.slice();
        w[w.length - 1]++;
      }
      if (cp >= 0x10000 && (i === 0 || cp === 0x10000)) {
        runStart.push(cp);
        runWeights.push(w);
        runStep.push(op === 0 ? 1 : 0);
      }
      if (cp >= 0x10000) {
        // The rest of this run is described by its first entry.
        cp += k - i;
        prev = w;
        if (op === 0) {
          prev = w.slice();
          prev[prev.length - 1] += k - i - 1;
        }
        break;
      }
      emit(w);
      prev = w;
    }
  }
  if (cp !== 0x110000) throw new Error(`collation table ${name}: ${cp} code points decoded, want 0x110000`);
  bmpStart[0x10000] = bmpLen;
  const spaceAt = bmpStart[0x20];
  if (bmpStart[0x21] - spaceAt !== 1) throw new Error(`collation table ${name}: a space must have one weight`);
  const ascii = new Int32Array(128);
  for (let c = 0; c < 128; c++) ascii[c] = bmpStart[c + 1] - bmpStart[c] === 1 ? bmpWeights[bmpStart[c]] : -1;
  const t: WeightTable = {
    bmpStart,
    bmpWeights: bmpWeights.slice(0, bmpLen),
    runStart: Uint32Array.from(runStart),
    runWeights,
    runStep: Uint8Array.from(runStep),
    space: bmpWeights[spaceAt],
    ascii,
  };
  tables.set(name, t);
  return t;
}

let latin1FromUnicode: Map<number, number> | undefined;

/** A code point's latin1 byte; MariaDB converts what latin1 cannot hold to '?'. */
function latin1Byte(cp: number): number {
  if (cp < 0x80) return cp;
  if (!latin1FromUnicode) latin1FromUnicode = new Map(LATIN1_TO_UNICODE.map((u, b) => [u, b]));
  return latin1FromUnicode.get(cp) ?? 0x3f;
}

// ---- weights of a string ----

/** What compare() and weightKey() need of a collation, resolved once per id. */
interface Compiled {
  readonly info: CollationInfo;
  /** The code point table, for the table kinds. */
  readonly table: WeightTable | null;
  /** ASCII byte -> its single weight, or -1 when the slow path must weigh it. */
  readonly ascii: Int32Array;
  readonly space: number;
  /** Bytes per weight in a weight key. */
  readonly keyWidth: 1 | 2;
}

const compiledById = new Map<number, Compiled>();
const IDENTITY_ASCII = Int32Array.from({ length: 128 }, (_, i) => i);

function compiled(id: number): Compiled {
  const done = compiledById.get(id);
  if (done !== undefined) return done;
  const info = BY_ID.get(id);
  if (info === undefined) throw unsupportedCollationError(id);
  const k = info.kind;
  let out: Compiled;
  if (k.t === 'table') {
    const t = loadTable(k.table);
    out = { info, table: t, ascii: t.ascii, space: t.space, keyWidth: 2 };
  } else if (k.t === 'latin1_ci') {
    out = { info, table: null, ascii: Int32Array.from({ length: 128 }, (_, i) => LATIN1_SWEDISH_WEIGHTS[i]), space: LATIN1_SWEDISH_WEIGHTS[0x20], keyWidth: 1 };
  } else {
    out = { info, table: null, ascii: IDENTITY_ASCII, space: 0x20, keyWidth: 1 };
  }
  compiledById.set(id, out);
  return out;
}

/** A supplementary code point's weights from the table's runs. */
function pushSupplementary(t: WeightTable, cp: number, out: Uint32Array, n: number): number {
  // Last run starting at or before cp.
  let lo = 0;
  let hi = t.runStart.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (t.runStart[mid] <= cp) lo = mid;
    else hi = mid - 1;
  }
  const w = t.runWeights[lo];
  for (let i = 0; i < w.length; i++) out[n++] = w[i];
  if (t.runStep[lo] && w.length > 0) out[n - 1] += cp - t.runStart[lo];
  return n;
}

// Two scratch arrays reused by every call (the gate compares on one thread).
let wa = new Uint32Array(256);
let wb = new Uint32Array(256);

/** The weights of s[start..] into *which* scratch array (0 = wa, 1 = wb); returns the count. */
function weightsOf(c: Compiled, s: Buffer, start: number, which: 0 | 1): number {
  let out = which === 0 ? wa : wb;
  let n = 0;
  const end = s.length;
  const t = c.table;
  const kind = c.info.kind.t;
  for (let i = start; i < end; ) {
    // No character has more than 18 weights (U+FDFA under UCA 4.0.0): keep 32 free.
    if (n + 32 > out.length) {
      const next = new Uint32Array(out.length * 2);
      next.set(out);
      out = next;
      if (which === 0) wa = out;
      else wb = out;
    }
    const b0 = s[i];
    let cp: number;
    if (b0 < 0x80) {
      cp = b0;
      i++;
    } else if (b0 < 0xe0 && i + 1 < end) {
      cp = ((b0 & 0x1f) << 6) | (s[i + 1] & 0x3f);
      i += 2;
    } else if (b0 < 0xf0 && i + 2 < end) {
      cp = ((b0 & 0x0f) << 12) | ((s[i + 1] & 0x3f) << 6) | (s[i + 2] & 0x3f);
      i += 3;
    } else if (b0 >= 0xf0 && i + 3 < end) {
      cp = ((b0 & 0x07) << 18) | ((s[i + 1] & 0x3f) << 12) | ((s[i + 2] & 0x3f) << 6) | (s[i + 3] & 0x3f);
      i += 4;
    } else {
      // A truncated sequence cannot come from MariaDB; weigh it as U+FFFD rather than fail.
      cp = 0xfffd;
      i = end;
    }
    if (t !== null) {
      if (cp < 0x10000) {
        for (let k = t.bmpStart[cp], e = t.bmpStart[cp + 1]; k < e; k++) out[n++] = t.bmpWeights[k];
      } else n = pushSupplementary(t, cp, out, n);
    } else if (kind === 'codepoint') out[n++] = cp;
    else if (kind === 'latin1_ci') out[n++] = LATIN1_SWEDISH_WEIGHTS[latin1Byte(cp)];
    else out[n++] = latin1Byte(cp);
  }
  return n;
}

function asBuffer(v: string | Buffer): Buffer {
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

/**
 * Compares two values under a collation: negative, 0 or positive, as MariaDB's `<`, `=`, `>`.
 * Throws the 1235 refusal for a collation the gate does not know.
 */
export function compare(collationId: number, a: string | Buffer, b: string | Buffer): number {
  const c = compiled(collationId);
  const x = asBuffer(a);
  const y = asBuffer(b);
  const kind = c.info.kind.t;
  if (kind === 'binary' || (kind === 'codepoint' && !c.info.pad)) return Buffer.compare(x, y);
  // Fast path: while both sides are ASCII characters of one weight each, compare those weights;
  // everything before the first other character weighs the same on both sides, so the slow path
  // may start there.
  const ascii = c.ascii;
  const n = Math.min(x.length, y.length);
  let i = 0;
  for (; i < n; i++) {
    const p = x[i];
    const q = y[i];
    if (p === q) {
      if (p < 0x80) continue;
      break;
    }
    if ((p | q) >= 0x80) break;
    const wp = ascii[p];
    const wq = ascii[q];
    if (wp < 0 || wq < 0) break;
    if (wp !== wq) return wp < wq ? -1 : 1;
  }
  if (i === x.length && i === y.length) return 0;
  const la = weightsOf(c, x, i, 0);
  const lb = weightsOf(c, y, i, 1);
  const k = Math.min(la, lb);
  for (let j = 0; j < k; j++) if (wa[j] !== wb[j]) return wa[j] < wb[j] ? -1 : 1;
  if (la === lb) return 0;
  if (!c.info.pad) return la < lb ? -1 : 1;
  // PAD SPACE: the longer side's leftovers against the space's weight.
  const sp = c.space;
  if (la > lb) {
    for (let j = k; j < la; j++) if (wa[j] !== sp) return wa[j] < sp ? -1 : 1;
  } else {
    for (let j = k; j < lb; j++) if (wb[j] !== sp) return wb[j] < sp ? 1 : -1;
  }
  return 0;
}

/**
 * A byte string such that two values have equal keys exactly when they are equal under the
 * collation (GROUP BY, DISTINCT, hash joins, VDiff). Not an order: compare with compare().
 */
export function weightKey(collationId: number, value: string | Buffer): Buffer {
  const c = compiled(collationId);
  const v = asBuffer(value);
  const kind = c.info.kind.t;
  const pad = c.info.pad;
  if (kind === 'binary') return Buffer.from(v);
  if (kind === 'codepoint' || kind === 'latin1_bin') {
    // UTF-8 is one to one with code points, and latin1 with its code points: the text is the key,
    // less the trailing spaces that PAD SPACE ignores.
    let end = v.length;
    if (pad) while (end > 0 && v[end - 1] === 0x20) end--;
    return Buffer.from(v.subarray(0, end));
  }
  const width = c.keyWidth;
  // Fast path: ASCII characters of one weight each.
  const ascii = c.ascii;
  let end = v.length;
  if (pad) while (end > 0 && v[end - 1] === 0x20) end--;
  let simple = true;
  for (let i = 0; i < end; i++) {
    const b = v[i];
    if (b >= 0x80 || ascii[b] < 0) {
      simple = false;
      break;
    }
  }
  if (simple) {
    const out = Buffer.allocUnsafe(width * end);
    if (width === 1) for (let i = 0; i < end; i++) out[i] = ascii[v[i]];
    else
      for (let i = 0; i < end; i++) {
        const w = ascii[v[i]];
        out[2 * i] = w >>> 8;
        out[2 * i + 1] = w & 0xff;
      }
    return out;
  }
  let n = weightsOf(c, v, 0, 0);
  if (pad) {
    const sp = c.space;
    while (n > 0 && wa[n - 1] === sp) n--;
  }
  const out = Buffer.allocUnsafe(width * n);
  if (width === 1) for (let j = 0; j < n; j++) out[j] = wa[j];
  else
    for (let j = 0; j < n; j++) {
      out[2 * j] = wa[j] >>> 8;
      out[2 * j + 1] = wa[j] & 0xff;
    }
  return out;
}
