// MariaDB's own regression tests as the parser's measure (issue 24): every statement the installed
// suite (Debian's mariadb-test, /usr/share/mysql/mysql-test; TESSERA_MARIADB_TEST_DIR to point
// elsewhere) sends without `--error` is one MariaDB's parser accepts. Our parser must accept at
// least MIN_ACCEPTED_PCT of them, and every one it accepts must round-trip (the formatted text
// parses to the same tree, so a routed statement stays exact). The refused families are printed.
// The extraction: test/corpus/mysqltest.ts; the same report from the command line:
// `node dist/test/corpus/build-corpus.js`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { DEFAULT_SUITE_DIR, extractSuite } from '../../corpus/mysqltest.js';
import { measure, report } from '../../corpus/measure.js';

/**
 * Ratchet: raise it as the parser grows (issue 24's "done when" asks 99.5). Measured with Debian's
 * mariadb-test 10.11.19: 183447 distinct statements MariaDB accepts, 182870 parsed = 99.69 %.
 */
const MIN_ACCEPTED_PCT = 99.6;
/** Statements our parser accepts whose formatted text does not give the same tree back (known: two stored-program DDLs whose head is inside an executable comment, `/*!50001 CREATE PROCEDURE p() *\/ BEGIN … END`). */
const ROUND_TRIP_FAILURES_MAX = 2;

const dir = process.env.TESSERA_MARIADB_TEST_DIR ?? DEFAULT_SUITE_DIR;

test('MariaDB test-suite corpus: accepted share and round trips', () => {
  assert.ok(existsSync(dir), `${dir} is missing: install Debian's mariadb-test package (scripts/bootstrap.sh does) or set TESSERA_MARIADB_TEST_DIR`);
  const all = extractSuite(dir);
  assert.ok(all.length > 100_000, `only ${all.length} statements extracted from ${dir}`);
  const r = measure(all);
  console.log(report(r));
  const pct = (100 * r.parsed) / r.accepted;
  assert.ok(pct >= MIN_ACCEPTED_PCT, `parser accepts ${pct.toFixed(2)} % of the statements MariaDB accepts, below ${MIN_ACCEPTED_PCT} %; first refused:\n${r.refused.slice(0, 20).map((x) => `${x.stmt.file}:${x.stmt.line}: ${x.stmt.sql.slice(0, 200)}`).join('\n')}`);
  assert.ok(
    r.roundTrip.length <= ROUND_TRIP_FAILURES_MAX,
    `${r.roundTrip.length} statements do not round-trip:\n${r.roundTrip.slice(0, 20).map((x) => `${x.stmt.file}:${x.stmt.line}: ${x.stmt.sql.slice(0, 200)}\n    ${x.message.slice(0, 300)}`).join('\n')}`,
  );
});
