// MariaDB's own regression tests as the measure (issue 24): the tests of test/mtr/ci.txt run with
// `mariadb-test-run --extern` against the tablet's MariaDB directly and through the gate (unsharded
// keyspace `test`); at least 95 % of those passing directly must pass through the gate. Both
// numbers are printed, and each test lost through the gate with the start of its difference.
// The longer list: `node dist/test/mtr/run.js` (docs/DEVELOPING.md).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { compare, listFile, mtrAvailable, mtrVardir, readList, readUnproxyable, runMtr, startMtrCluster, type MtrCluster } from '../mtr/mtr.js';

const MIN_SHARE = 0.95;
let c: MtrCluster;

before(async () => {
  assert.ok(mtrAvailable(), "mariadb-test-run not found: install Debian's mariadb-test package (scripts/bootstrap.sh does)");
  c = await startMtrCluster();
});

after(async () => {
  await c?.stop();
});

test('MariaDB tests passing directly pass through the gate (unsharded keyspace)', async () => {
  const tests = readList(listFile('ci.txt'));
  const unproxyable = readUnproxyable();
  const direct = await runMtr(c.direct, tests, mtrVardir('direct'), () => c.reset());
  const gate = await runMtr(c.gate, tests, mtrVardir('gate'), () => c.reset());
  const cmp = compare(direct, gate, unproxyable);
  for (const n of cmp.lost) console.log(`# lost through the gate: ${n}\n${(gate.reasons.get(n) ?? '').replace(/^/gm, '#   ')}`);
  const counted = cmp.direct - cmp.excused.length;
  console.log(`# ${tests.length} tests: directly ${cmp.direct} passed; through the gate ${cmp.gate} of them (${cmp.excused.length} unproxyable not counted)`);
  // The list is chosen to pass directly: a run where most fail measures nothing.
  assert.ok(cmp.direct >= tests.length * 0.8, `only ${cmp.direct} of ${tests.length} tests pass directly against MariaDB:\n${direct.output.slice(-3000)}`);
  assert.ok(cmp.gate >= counted * MIN_SHARE, `${cmp.gate} of ${counted} directly passing tests pass through the gate (< ${MIN_SHARE * 100} %): ${cmp.lost.join(', ')}`);
});
