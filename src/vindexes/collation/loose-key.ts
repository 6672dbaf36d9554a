// The "loose" collation key that Vitess's unicode_loose_md5 and unicode_loose_xxhash vindexes hash.
//
// Vitess hashes the primary-level sort key of golang.org/x/text/collate (language English, option
// Loose: case, accent and width insensitive) — CLDR 23 root collation over Unicode 6.2 — not
// MySQL's own weight strings. Reproducing it byte for byte is what places rows on the same shards.
// The key is the concatenation of each collation element's primary weight: two bytes when the
// weight is at most 0x7fff, else three bytes with the top bit set.
//
// Data: loose-weights-data.ts, generated from x/text's tables by gen/ (see gen/README.md). It holds
// every rune whose key is not the implicit one, and every contraction. Hangul syllables are
// decomposed into jamo here, as x/text does.

import { inflateSync } from 'node:zlib';
import { LOOSE_WEIGHTS_DEFLATED_BASE64 } from './loose-weights-data.js';

interface LooseTables {
  /** rune -> key bytes, for runes whose key is not implicit (empty array = ignorable). */
  readonly singles: Map<number, Uint8Array>;
  /** starter rune -> contractions starting with it, longest first: [rest of runes, key]. */
  readonly contractions: Map<number, ReadonlyArray<readonly [readonly number[], Uint8Array]>>;
}

let tables: LooseTables | undefined;

// Loaded on first use, not at import: a registry import must have no side effects or cost.
function load(): LooseTables {
  if (tables) return tables;
  const raw = inflateSync(Buffer.from(LOOSE_WEIGHTS_DEFLATED_BASE64, 'base64'));
  let p = 0;
  const singles = new Map<number, Uint8Array>();
  const nSingles = raw.readUInt32LE(p);
  p += 4;
  let rune = -1;
  for (let i = 0; i < nSingles; i++) {
    let delta = 0;
    let shift = 0;
    for (;;) {
      const b = raw[p++];
      delta += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (b < 0x80) break;
    }
    rune += delta + 1;
    const n = raw[p++];
    singles.set(rune, new Uint8Array(raw.subarray(p, p + n)));
    p += n;
  }
  const contractions = new Map<number, Array<readonly [readonly number[], Uint8Array]>>();
  const nContractions = raw.readUInt32LE(p);
  p += 4;
  for (let i = 0; i < nContractions; i++) {
    const n = raw[p++];
    const runes = Array.from(raw.subarray(p, p + n).toString('utf8'), (c) => c.codePointAt(0) as number);
    p += n;
    const k = raw[p++];
    const key = new Uint8Array(raw.subarray(p, p + k));
    p += k;
    const list = contractions.get(runes[0]) ?? [];
    list.push([runes.slice(1), key]);
    contractions.set(runes[0], list);
  }
  for (const list of contractions.values()) list.sort((a, b) => b[0].length - a[0].length);
  tables = { singles, contractions };
  return tables;
}

const IDEOGRAPHIC = /^\p{Ideographic}$/u;

/** x/text's implicit primary for runes absent from the table (Han ideographs first, then the rest). */
function implicitPrimary(r: number): number {
  if (IDEOGRAPHIC.test(String.fromCodePoint(r))) {
    if ((r >= 0x4e00 && r <= 0x9fff) || (r >= 0xf900 && r <= 0xfaff)) return r + 0x10000;
    return r + 0x20000;
  }
  return r + 0x50000;
}

const HANGUL_FIRST = 0xac00;
const HANGUL_LAST = 0xd7a3;

/** Growable byte buffer reused across calls; callers copy out what they keep. */
let buf = new Uint8Array(256);
let len = 0;

function push(bytes: Uint8Array): void {
  if (len + bytes.length > buf.length) grow(bytes.length);
  buf.set(bytes, len);
  len += bytes.length;
}

function pushPrimary(w: number): void {
  if (len + 3 > buf.length) grow(3);
  if (w <= 0x7fff) {
    buf[len++] = w >>> 8;
    buf[len++] = w & 0xff;
  } else {
    buf[len++] = (w >>> 16) | 0x80;
    buf[len++] = (w >>> 8) & 0xff;
    buf[len++] = w & 0xff;
  }
}

function grow(extra: number): void {
  const next = new Uint8Array(Math.max(buf.length * 2, len + extra));
  next.set(buf.subarray(0, len));
  buf = next;
}

function pushRune(t: LooseTables, r: number): void {
  const k = t.singles.get(r);
  if (k !== undefined) {
    push(k);
    return;
  }
  if (r >= HANGUL_FIRST && r <= HANGUL_LAST) {
    // Unicode's arithmetic decomposition into leading consonant, vowel and optional trailing one.
    const s = r - HANGUL_FIRST;
    pushRune(t, 0x1100 + Math.floor(s / 588));
    pushRune(t, 0x1161 + Math.floor((s % 588) / 28));
    if (s % 28 !== 0) pushRune(t, 0x11a7 + (s % 28));
    return;
  }
  pushPrimary(implicitPrimary(r));
}

/**
 * The loose key of a string: primary weights only. Contractions match contiguously (the
 * longest one wins); x/text also matches a contraction across intervening combining marks of a
 * higher class, which this does not do — such input is rare and documented in docs/vindexes.md.
 * Returns a view into a shared buffer: hash or copy it before the next call.
 */
export function looseKey(text: string): Uint8Array {
  const t = load();
  len = 0;
  const runes: number[] = [];
  for (const ch of text) runes.push(ch.codePointAt(0) as number);
  for (let i = 0; i < runes.length; ) {
    const r = runes[i];
    const list = t.contractions.get(r);
    if (list !== undefined) {
      let matched = false;
      for (const [rest, key] of list) {
        if (i + 1 + rest.length > runes.length) continue;
        let ok = true;
        for (let j = 0; j < rest.length; j++) {
          if (runes[i + 1 + j] !== rest[j]) {
            ok = false;
            break;
          }
        }
        if (ok) {
          push(key);
          i += 1 + rest.length;
          matched = true;
          break;
        }
      }
      if (matched) continue;
    }
    pushRune(t, r);
    i++;
  }
  return buf.subarray(0, len);
}
