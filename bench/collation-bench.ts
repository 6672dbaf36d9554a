// Comparisons per second of src/collations (what the gate's merge-sort, sort, grouping and MIN/MAX
// cost per text cell) next to baselines measured in the same run: Buffer.compare (the floor: bytes,
// no collation) and Intl.Collator (ICU's root collation, accent- and case-insensitive; the obvious
// alternative, which does not give MariaDB's order). Two sets of values: ASCII names (the fast
// path) and names in several scripts (the table path). Also weightKey, which grouping pays per row.
// Run: node dist/bench/collation-bench.js [count]

import { compare, weightKey } from '../src/collations/index.js';

const count = Number(process.argv[2] ?? 1_000_000);
const UTF8MB4_GENERAL_CI = 45;
const UTF8MB4_UNICODE_CI = 224;

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const r = rng(7);
const ASCII_WORDS = ['alice', 'Alice', 'bob', 'Bob', 'carol', 'dave', 'Eve', 'mallory', 'trent', 'peggy', 'victor', 'walter'];
const MIXED_WORDS = ['Álice', 'straße', 'Øre', 'Москва', 'Αλφα', '東京', 'مرحبا', 'שלום', 'résumé', 'Zoë', '😀', 'naïve'];
const make = (words: readonly string[]): Buffer[] =>
  Array.from({ length: 1024 }, () => Buffer.from(`${words[Math.floor(r() * words.length)]} ${words[Math.floor(r() * words.length)]}`, 'utf8'));

/** fn gets two indexes into the 1024 values. */
function run(name: string, fn: (i: number, j: number) => number): number {
  const once = (): number => {
    let s = 0;
    for (let i = 0; i < count; i++) s += fn(i & 1023, (i * 7 + 3) & 1023) > 0 ? 1 : 0;
    return s;
  };
  once(); // warm up (JIT, lazy tables)
  const t0 = process.hrtime.bigint();
  const sink = once();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const rate = count / (ms / 1000);
  console.log(`${name.padEnd(52)} ${(rate / 1e6).toFixed(2).padStart(7)} M/s  (${ms.toFixed(0)} ms, sink ${sink & 0xff})`);
  return rate;
}

console.log(`${count} operations per line, node ${process.version}`);
const icu = new Intl.Collator('und', { sensitivity: 'base' });
for (const [label, words] of [['ASCII names', ASCII_WORDS], ['names in several scripts', MIXED_WORDS]] as const) {
  const values = make(words);
  const strings = values.map((v) => v.toString('utf8'));
  const floor = run(`${label}: baseline Buffer.compare`, (i, j) => Buffer.compare(values[i], values[j]));
  const intl = run(`${label}: baseline Intl.Collator on strings`, (i, j) => icu.compare(strings[i], strings[j]));
  const intlDecoded = run(`${label}: baseline Intl.Collator, decoding UTF-8`, (i, j) => icu.compare(values[i].toString('utf8'), values[j].toString('utf8')));
  const general = run(`${label}: compare utf8mb4_general_ci`, (i, j) => compare(UTF8MB4_GENERAL_CI, values[i], values[j]));
  const unicode = run(`${label}: compare utf8mb4_unicode_ci`, (i, j) => compare(UTF8MB4_UNICODE_CI, values[i], values[j]));
  const key = run(`${label}: weightKey utf8mb4_general_ci`, (i) => weightKey(UTF8MB4_GENERAL_CI, values[i]).length);
  console.log(
    `${label}: general_ci ${(general / floor).toFixed(2)}x of Buffer.compare, ${(general / intlDecoded).toFixed(2)}x of Intl.Collator with decoding ` +
      `(${(general / intl).toFixed(2)}x of it on ready strings); unicode_ci ${(unicode / intlDecoded).toFixed(2)}x; weightKey ${(key / floor).toFixed(2)}x of Buffer.compare`,
  );
}
