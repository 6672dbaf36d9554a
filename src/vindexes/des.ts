// DES (FIPS 46-3) of one 64-bit block under the all-zero key: the `hash` vindex's cipher.
//
// Vitess's `hash` is triple DES (EDE) with a 24-byte zero key, which is single DES with the zero
// key. Every round key of the zero key is zero, so a round is f(R) = P(S(E(R))) with nothing to
// mix in, and decryption (the round keys in reverse order) is the same function as encryption:
// the zero key is one of DES's weak keys: encrypting a block twice gives it back.
//
// Why our own: node:crypto's cipher costs about 1.2 µs a call, nearly all of it crossing into
// OpenSSL for 8 bytes, and the gate hashes every sharded point select's id (docs/hot-path.md,
// eighth round). This takes a few dozen table lookups (about 0.15 µs a block on the machine of
// that round, against 0.27 µs a block for node:crypto given 1,000 blocks in one call) and
// allocates nothing but its result. test/unit/vindexes/des.test.ts pins it against node:crypto's
// des-ede3-ecb.

/** The initial permutation: output bit i (from the most significant) is input bit IP[i] (1-based). */
const IP = [
  58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4,
  62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40, 32, 24, 16, 8,
  57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3,
  61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7,
];

/** The permutation after the S-boxes. */
const P = [16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10, 2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22, 11, 4, 25];

/** The eight S-boxes, each 4 rows of 16. */
const S = [
  [14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7, 0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3, 8, 4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0, 15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6, 13],
  [15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10, 3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11, 5, 0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15, 13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5, 14, 9],
  [10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8, 13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15, 1, 13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7, 1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2, 12],
  [7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15, 13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14, 9, 10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4, 3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2, 14],
  [2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9, 14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8, 6, 4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14, 11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4, 5, 3],
  [12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11, 10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3, 8, 9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6, 4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8, 13],
  [4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1, 13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8, 6, 1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2, 6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3, 12],
  [13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7, 1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9, 2, 7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8, 2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6, 11],
];

/**
 * A 64-bit permutation as lookup tables: for input byte k (0 = most significant) holding x,
 * entry (k * 256 + x) * 2 is the high output word that byte contributes, and the next entry the
 * low word. A permutation of a block is then eight lookups per word, OR-ed.
 */
function byteTables(table: readonly number[]): Uint32Array {
  const t = new Uint32Array(8 * 256 * 2);
  for (let out = 0; out < 64; out++) {
    const src = table[out] - 1;
    const k = src >> 3;
    const bit = 7 - (src & 7);
    const at = out < 32 ? 0 : 1;
    const mask = (1 << (31 - (out & 31))) >>> 0;
    for (let x = 0; x < 256; x++) if ((x >> bit) & 1) t[(k * 256 + x) * 2 + at] |= mask;
  }
  return t;
}

const IP_T = byteTables(IP);
const FP_T = byteTables((() => {
  const fp = new Array<number>(64);
  for (let i = 0; i < 64; i++) fp[IP[i] - 1] = i + 1;
  return fp;
})());

/** S-box i on 6-bit input v, then P, as a 32-bit word: entry i * 64 + v. */
const SP = (() => {
  const t = new Uint32Array(8 * 64);
  for (let i = 0; i < 8; i++) {
    for (let v = 0; v < 64; v++) {
      const row = ((v >> 4) & 2) | (v & 1);
      const col = (v >> 1) & 15;
      const pre = (S[i][row * 16 + col] << (28 - 4 * i)) >>> 0;
      let w = 0;
      for (let j = 0; j < 32; j++) if ((pre >>> (31 - (P[j] - 1))) & 1) w |= 1 << (31 - j);
      t[i * 64 + v] = w >>> 0;
    }
  }
  return t;
})();

let outHi = 0;
let outLo = 0;

/** Permutes (hi, lo) through byte tables t into outHi, outLo. */
function permute(t: Uint32Array, hi: number, lo: number): void {
  let h = 0;
  let l = 0;
  for (let k = 0; k < 4; k++) {
    const a = ((hi >>> (24 - 8 * k)) & 0xff) + k * 256;
    h |= t[a * 2];
    l |= t[a * 2 + 1];
    const b = ((lo >>> (24 - 8 * k)) & 0xff) + (k + 4) * 256;
    h |= t[b * 2];
    l |= t[b * 2 + 1];
  }
  outHi = h >>> 0;
  outLo = l >>> 0;
}

/** The round function under a zero round key: P(S(E(r))). E's 6-bit groups are read by rotation. */
function f(r: number): number {
  return (
    SP[((r << 5) | (r >>> 27)) & 63] ^
    SP[64 + (((r << 9) | (r >>> 23)) & 63)] ^
    SP[128 + (((r << 13) | (r >>> 19)) & 63)] ^
    SP[192 + (((r << 17) | (r >>> 15)) & 63)] ^
    SP[256 + (((r << 21) | (r >>> 11)) & 63)] ^
    SP[320 + (((r << 25) | (r >>> 7)) & 63)] ^
    SP[384 + (((r << 29) | (r >>> 3)) & 63)] ^
    SP[448 + (((r << 1) | (r >>> 31)) & 63)]
  );
}

const io = new DataView(new ArrayBuffer(8));

/**
 * DES under the zero key of the 64-bit unsigned integer `n` (big-endian, as the `hash` vindex
 * encodes it; taken modulo 2^64 as DataView.setBigUint64 does), as 8 new bytes. Its own inverse.
 */
export function desZeroOf(n: bigint): Uint8Array {
  io.setBigUint64(0, n, false);
  return desZero(io.getUint32(0, false), io.getUint32(4, false));
}

/** desZeroOf for a block given as its two big-endian 32-bit words. */
export function desZero(hi: number, lo: number): Uint8Array {
  const out = new Uint8Array(8);
  desZeroInto(hi, lo, out, 0);
  return out;
}

/** desZero of 8 bytes (a keyspace id back to its integer's bytes, or the reverse). */
export function desZeroBytes(b: Uint8Array): Uint8Array {
  return desZero(((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0, ((b[4] << 24) | (b[5] << 16) | (b[6] << 8) | b[7]) >>> 0);
}

/** desZero of every 8-byte block of `blocks`, back to back in a new array (its length a multiple of 8). */
export function desZeroBlocks(blocks: Uint8Array): Uint8Array {
  const out = new Uint8Array(blocks.length);
  for (let at = 0; at + 8 <= blocks.length; at += 8) {
    desZeroInto(
      ((blocks[at] << 24) | (blocks[at + 1] << 16) | (blocks[at + 2] << 8) | blocks[at + 3]) >>> 0,
      ((blocks[at + 4] << 24) | (blocks[at + 5] << 16) | (blocks[at + 6] << 8) | blocks[at + 7]) >>> 0,
      out,
      at,
    );
  }
  return out;
}

/** The cipher itself: the block (hi, lo) encrypted into out[at .. at + 8]. */
function desZeroInto(hi: number, lo: number, out: Uint8Array, at: number): void {
  permute(IP_T, hi, lo);
  let l = outHi;
  let r = outLo;
  for (let round = 0; round < 16; round++) {
    const t = r;
    r = (l ^ f(r)) >>> 0;
    l = t;
  }
  // The last round's halves go out swapped.
  permute(FP_T, r, l);
  out[at] = outHi >>> 24;
  out[at + 1] = outHi >>> 16;
  out[at + 2] = outHi >>> 8;
  out[at + 3] = outHi;
  out[at + 4] = outLo >>> 24;
  out[at + 5] = outLo >>> 16;
  out[at + 6] = outLo >>> 8;
  out[at + 7] = outLo;
}
