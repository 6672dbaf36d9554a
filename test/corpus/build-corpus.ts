// Builds the MariaDB corpus from the installed test suite and prints how much of it our parser
// accepts, with the refused families.
//
//   npx tsc -p tsconfig.json
//   node dist/test/corpus/build-corpus.js [--suite DIR] [--out FILE] [--refused FILE] [--families N]
//
// --out writes every extracted statement as one JSON line ({file, line, sql, rejected, oracle});
// --refused writes the refused accepted statements as JSON lines ({at: file:line, sql, error}).
import { writeFileSync } from 'node:fs';
import { DEFAULT_SUITE_DIR, extractSuite } from './mysqltest.js';
import { measure, report } from './measure.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const dir = arg('--suite') ?? process.env.TESSERA_MARIADB_TEST_DIR ?? DEFAULT_SUITE_DIR;
const all = extractSuite(dir);
const out = arg('--out');
if (out) writeFileSync(out, all.map((s) => JSON.stringify(s)).join('\n') + '\n');
const r = measure(all);
console.log(`${all.length} statements extracted from ${dir}`);
console.log(report(r, Number(arg('--families') ?? 40)));
const refusedOut = arg('--refused');
if (refusedOut) {
  const text = [...r.refused, ...r.roundTrip].map((x) => JSON.stringify({ at: `${x.stmt.file}:${x.stmt.line}`, sql: x.stmt.sql, error: x.message.split('\n')[0] })).join('\n');
  writeFileSync(refusedOut, text);
}
