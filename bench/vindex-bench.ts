// Keyspace ids per second for `hash` and `xxhash` over a million integer values, next to
// baselines measured in the same run: md5 from node:crypto over the same values (what a plain
// hashing vindex would cost), and a BigInt xxh64 (the alternative to our 32-bit-halves one).
// Run: node dist/bench/vindex-bench.js [count]

import { createHash } from 'node:crypto';
import { createVindex, toBytes, vhashBlocks, xxh64Into, type FunctionalVindex } from '../src/vindexes/index.js';

const count = Number(process.argv[2] ?? 1_000_000);
const values: bigint[] = Array.from({ length: count }, (_, i) => BigInt(i + 1));
const texts: Uint8Array[] = values.map((v) => toBytes(v));

function run(name: string, fn: () => number): number {
  fn(); // warm up (JIT, lazy tables)
  const t0 = process.hrtime.bigint();
  const sink = fn();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const rate = count / (ms / 1000);
  console.log(`${name.padEnd(44)} ${(rate / 1e6).toFixed(2).padStart(7)} M keyspace ids/s  (${ms.toFixed(0)} ms, sink ${sink & 0xff})`);
  return rate;
}

const M = (1n << 64n) - 1n;
const P1 = 0x9e3779b185ebca87n, P2 = 0xc2b2ae3d27d4eb4fn, P3 = 0x165667b19e3779f9n, P4 = 0x85ebca77c2b2ae63n, P5 = 0x27d4eb2f165667c5n;
const rotl = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & M;
/** Reference BigInt xxh64 for inputs under 32 bytes (all the benchmark's values). */
function xxh64BigShort(b: Uint8Array): bigint {
  let h = (P5 + BigInt(b.length)) & M;
  let p = 0;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (; p + 8 <= b.length; p += 8) {
    const k = (rotl((dv.getBigUint64(p, true) * P2) & M, 31n) * P1) & M;
    h = ((rotl(h ^ k, 27n) * P1) & M) + P4 & M;
  }
  if (p + 4 <= b.length) {
    h = (((rotl(h ^ ((BigInt(dv.getUint32(p, true)) * P1) & M), 23n) * P2) & M) + P3) & M;
    p += 4;
  }
  for (; p < b.length; p++) h = (rotl(h ^ ((BigInt(b[p]) * P5) & M), 11n) * P1) & M;
  h ^= h >> 33n; h = (h * P2) & M; h ^= h >> 29n; h = (h * P3) & M; h ^= h >> 32n;
  return h;
}

const hash = createVindex('hash', 'hash') as FunctionalVindex;
const xxhash = createVindex('xxhash', 'xxhash') as FunctionalVindex;
console.log(`${count} values (integers 1..${count}), node ${process.version}`);

const md5 = run('baseline: md5 (node:crypto) per value', () => {
  let s = 0;
  for (const t of texts) s ^= createHash('md5').update(t).digest()[0];
  return s;
});
const h1 = run('hash: vindex.keyspaceId per value', () => {
  let s = 0;
  for (const v of values) s ^= (hash.keyspaceId(v) as Uint8Array)[0];
  return s;
});
const h3 = run('hash: vindex.map, batches of 100 values', () => {
  let s = 0;
  for (let i = 0; i < count; i += 100) {
    for (const d of hash.map(values.slice(i, i + 100))) if (d.kind === 'keyspaceId') s ^= d.id[0];
  }
  return s;
});
const h2 = run('hash: vhashBlocks, all values in one call', () => {
  const blocks = new Uint8Array(count * 8);
  const dv = new DataView(blocks.buffer);
  for (let i = 0; i < count; i++) dv.setBigUint64(i * 8, values[i], false);
  return vhashBlocks(blocks)[0];
});
const x1 = run('xxhash: vindex.keyspaceId per value', () => {
  let s = 0;
  for (const v of values) s ^= (xxhash.keyspaceId(v) as Uint8Array)[0];
  return s;
});
const out = new Uint8Array(8);
const x2 = run('xxhash: xxh64Into on value bytes (no alloc)', () => {
  let s = 0;
  for (const t of texts) {
    xxh64Into(t, out, 0, true);
    s ^= out[0];
  }
  return s;
});
const xb = run('baseline: BigInt xxh64 on value bytes', () => {
  let s = 0;
  for (const t of texts) s ^= Number(xxh64BigShort(t) & 0xffn);
  return s;
});
console.log(
  `ratios vs md5: hash ${(h1 / md5).toFixed(2)}x (map of 100: ${(h3 / md5).toFixed(2)}x, one call: ${(h2 / md5).toFixed(2)}x), xxhash ${(x1 / md5).toFixed(2)}x; ` +
    `xxh64 halves vs BigInt ${(x2 / xb).toFixed(2)}x`,
);
