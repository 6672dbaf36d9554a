// xxHash64 (seed 0 by default) on 32-bit halves: no BigInt on the hot path. V8 keeps small
// integers unboxed, so hi/lo pairs in locals beat BigInt by an order of magnitude (bench/).
//
// The 64-bit helpers leave their result in the module-level pair (rh, rl) to avoid allocating.

let rh = 0;
let rl = 0;

// The five xxHash64 primes as hi/lo halves.
const P1H = 0x9e3779b1, P1L = 0x85ebca87;
const P2H = 0xc2b2ae3d, P2L = 0x27d4eb4f;
const P3H = 0x165667b1, P3L = 0x9e3779f9;
const P4H = 0x85ebca77, P4L = 0xc2b2ae63;
const P5H = 0x27d4eb2f, P5L = 0x165667c5;

function add(ah: number, al: number, bh: number, bl: number): void {
  const lo = (al >>> 0) + (bl >>> 0);
  rl = lo >>> 0;
  rh = (ah + bh + (lo > 0xffffffff ? 1 : 0)) >>> 0;
}

function mul(ah: number, al: number, bh: number, bl: number): void {
  const a0 = al & 0xffff, a1 = al >>> 16, b0 = bl & 0xffff, b1 = bl >>> 16;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  const hi = p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
  rl = (((mid & 0xffff) << 16) | (p00 & 0xffff)) >>> 0;
  rh = (hi + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0;
}

function rotl(h: number, l: number, n: number): void {
  if (n >= 32) {
    const t = h; h = l; l = t; n -= 32;
  }
  if (n === 0) {
    rh = h >>> 0; rl = l >>> 0;
    return;
  }
  rh = ((h << n) | (l >>> (32 - n))) >>> 0;
  rl = ((l << n) | (h >>> (32 - n))) >>> 0;
}

/** acc = rotl(acc + lane * P2, 31) * P1 */
function round(acch: number, accl: number, lh: number, ll: number): void {
  mul(lh, ll, P2H, P2L);
  add(acch, accl, rh, rl);
  rotl(rh, rl, 31);
  mul(rh, rl, P1H, P1L);
}

function u32le(b: Uint8Array, i: number): number {
  return (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
}

/**
 * xxHash64 of `data` with seed 0, written into `out` at `offset` (8 bytes) in the byte order asked
 * for. Vitess's `xxhash` and `unicode_loose_xxhash` vindexes both store it little-endian.
 */
export function xxh64Into(data: Uint8Array, out: Uint8Array, offset: number, littleEndian: boolean): void {
  const len = data.length;
  let p = 0;
  let hh: number, hl: number;
  if (len >= 32) {
    // v1 = P1 + P2, v2 = P2, v3 = 0, v4 = -P1
    add(P1H, P1L, P2H, P2L);
    let v1h = rh, v1l = rl;
    let v2h = P2H, v2l = P2L;
    let v3h = 0, v3l = 0;
    // -P1 in two's complement; P1L is non-zero, so no carry into the high half.
    let v4h = ~P1H >>> 0, v4l = (-P1L) >>> 0;
    const limit = len - 32;
    do {
      round(v1h, v1l, u32le(data, p + 4), u32le(data, p)); v1h = rh; v1l = rl;
      round(v2h, v2l, u32le(data, p + 12), u32le(data, p + 8)); v2h = rh; v2l = rl;
      round(v3h, v3l, u32le(data, p + 20), u32le(data, p + 16)); v3h = rh; v3l = rl;
      round(v4h, v4l, u32le(data, p + 28), u32le(data, p + 24)); v4h = rh; v4l = rl;
      p += 32;
    } while (p <= limit);
    rotl(v1h, v1l, 1); hh = rh; hl = rl;
    rotl(v2h, v2l, 7); add(hh, hl, rh, rl); hh = rh; hl = rl;
    rotl(v3h, v3l, 12); add(hh, hl, rh, rl); hh = rh; hl = rl;
    rotl(v4h, v4l, 18); add(hh, hl, rh, rl); hh = rh; hl = rl;
    const vs = [v1h, v1l, v2h, v2l, v3h, v3l, v4h, v4l];
    for (let i = 0; i < 8; i += 2) {
      round(0, 0, vs[i], vs[i + 1]);
      hh = (hh ^ rh) >>> 0; hl = (hl ^ rl) >>> 0;
      mul(hh, hl, P1H, P1L);
      add(rh, rl, P4H, P4L); hh = rh; hl = rl;
    }
  } else {
    hh = P5H; hl = P5L;
  }
  add(hh, hl, 0, len); hh = rh; hl = rl;
  while (p + 8 <= len) {
    round(0, 0, u32le(data, p + 4), u32le(data, p));
    hh = (hh ^ rh) >>> 0; hl = (hl ^ rl) >>> 0;
    rotl(hh, hl, 27);
    mul(rh, rl, P1H, P1L);
    add(rh, rl, P4H, P4L); hh = rh; hl = rl;
    p += 8;
  }
  if (p + 4 <= len) {
    mul(0, u32le(data, p), P1H, P1L);
    hh = (hh ^ rh) >>> 0; hl = (hl ^ rl) >>> 0;
    rotl(hh, hl, 23);
    mul(rh, rl, P2H, P2L);
    add(rh, rl, P3H, P3L); hh = rh; hl = rl;
    p += 4;
  }
  while (p < len) {
    mul(0, data[p], P5H, P5L);
    hh = (hh ^ rh) >>> 0; hl = (hl ^ rl) >>> 0;
    rotl(hh, hl, 11);
    mul(rh, rl, P1H, P1L); hh = rh; hl = rl;
    p++;
  }
  // avalanche
  hl = (hl ^ (hh >>> 1)) >>> 0; // h ^= h >> 33
  mul(hh, hl, P2H, P2L); hh = rh; hl = rl;
  hl = (hl ^ ((hl >>> 29) | (hh << 3))) >>> 0; // h ^= h >> 29
  hh = (hh ^ (hh >>> 29)) >>> 0;
  mul(hh, hl, P3H, P3L); hh = rh; hl = rl;
  hl = (hl ^ hh) >>> 0; // h ^= h >> 32
  writeOut(hh, hl, out, offset, littleEndian);
}

function writeOut(hh: number, hl: number, out: Uint8Array, offset: number, littleEndian: boolean): void {
  if (littleEndian) {
    out[offset] = hl; out[offset + 1] = hl >>> 8; out[offset + 2] = hl >>> 16; out[offset + 3] = hl >>> 24;
    out[offset + 4] = hh; out[offset + 5] = hh >>> 8; out[offset + 6] = hh >>> 16; out[offset + 7] = hh >>> 24;
  } else {
    out[offset] = hh >>> 24; out[offset + 1] = hh >>> 16; out[offset + 2] = hh >>> 8; out[offset + 3] = hh;
    out[offset + 4] = hl >>> 24; out[offset + 5] = hl >>> 16; out[offset + 6] = hl >>> 8; out[offset + 7] = hl;
  }
}

/** xxHash64 (seed 0) as a new 8-byte array. */
export function xxh64(data: Uint8Array, littleEndian = true): Uint8Array {
  const out = new Uint8Array(8);
  xxh64Into(data, out, 0, littleEndian);
  return out;
}
