// Parser benchmark: for the corpus statements (test/unit/sql/corpus) that node-sql-parser also
// accepts, µs per statement for our parse, format and normalize, and for node-sql-parser's parse,
// measured in the same run; then the plan-cache-key time for typical OLTP statements.
//
//   npx tsc -p tsconfig.json && node dist/bench/parser-bench.js [--rounds N]
import { performance } from 'node:perf_hooks';
import nodeSqlParser from 'node-sql-parser';
import { format, normalize, normalizeSql, parse, type Statement } from '../src/sql/index.js';
import { validCorpus } from '../test/unit/sql/corpus.js';

const roundsArg = process.argv.indexOf('--rounds');
const ROUNDS = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 20;
const BASELINE_ROUNDS = Math.max(1, Math.ceil(ROUNDS / 10));

const other = new nodeSqlParser.Parser();
const otherOpt = { database: 'MariaDB' };

const all = validCorpus().map((e) => e.sql);
const both = all.filter((sql) => {
  try {
    other.astify(sql, otherOpt);
    return true;
  } catch {
    return false;
  }
});

/** Median over `reps` repetitions of µs per item of `fn` applied to every item, `rounds` times. */
function measure<T>(items: readonly T[], rounds: number, fn: (x: T) => unknown, reps = 5): number {
  const samples: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let i = 0; i < rounds; i++) for (const x of items) fn(x);
    samples.push(((performance.now() - t0) * 1000) / (rounds * items.length));
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

// Warm up both parsers.
for (let i = 0; i < 3; i++) for (const s of both) parse(s);
for (const s of both.slice(0, 300)) other.astify(s, otherOpt);

const asts: Statement[] = both.map((s) => parse(s));
const ours = measure(both, ROUNDS, (s) => parse(s));
const fmt = measure(asts, ROUNDS, (a) => format(a));
const norm = measure(asts, ROUNDS, (a) => normalize(a));
const theirs = measure(both, BASELINE_ROUNDS, (s) => other.astify(s, otherOpt), 3);

const fix = (n: number): string => n.toFixed(2).padStart(8);
console.log(`corpus: ${all.length} statements; ${both.length} also accepted by node-sql-parser (measured set)`);
console.log(`rounds: ${ROUNDS} (node-sql-parser: ${BASELINE_ROUNDS}); median of 5 repetitions`);
console.log('');
console.log('                           µs/statement');
console.log(`tessera parse             ${fix(ours)}`);
console.log(`tessera format            ${fix(fmt)}`);
console.log(`tessera normalize         ${fix(norm)}   (rewrite + format of the normalized tree)`);
console.log(`node-sql-parser parse     ${fix(theirs)}`);
console.log(`parse speed-up            ${fix(theirs / ours)}×   (goal ≥ 30×)`);
console.log('');

const OLTP = [
  'SELECT c FROM sbtest1 WHERE id=42',
  'SELECT c FROM sbtest1 WHERE id BETWEEN 100 AND 199',
  'SELECT SUM(k) FROM sbtest1 WHERE id BETWEEN 100 AND 199',
  'UPDATE sbtest1 SET k=k+1 WHERE id=42',
  "INSERT INTO sbtest1 (id, k, c, pad) VALUES (42, 7, '1234-5678', '9999-0000')",
  'DELETE FROM sbtest1 WHERE id=42',
];
console.log('plan cache key (parse + normalize + format), µs/statement:');
for (const q of OLTP) {
  for (let i = 0; i < 20000; i++) normalizeSql(q);
  const us = measure([q], 50_000, (s) => normalizeSql(s).key);
  console.log(`  ${fix(us)}  ${q}${us < 5 ? '' : '   (over the 5 µs goal)'}`);
}
