// The measure's plumbing (test/mtr/mtr.ts): mariadb-test-run's result lines, the difference kept
// for a failed test, the comparison, and the list files (every unproxyable test with a reason).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compare, listFile, parseMtrOutput, readList, readUnproxyable, type MtrRun } from '../../mtr/mtr.js';

const OUTPUT = `worker[01] Using MTR_BUILD_THREAD 300, with reserved ports 16000..16019
main.func_op                             [ pass ]    124
main.case                                [ fail ]
        Test ended at 2026-12-06 05:27:57

CURRENT_TEST: main.case
--- /usr/share/mysql/mysql-test/main/case.result
+++ /usr/share/mysql/mysql-test/main/case.reject
@@ -66,10 +66,8 @@
 exp
-Note	1003	select case 1 when 1 then 'one' end AS \`exp\`
+id	select_type
 select 1;
main.sp-code                             [ skipped ]  Requires debug build
`;

function run(results: Record<string, 'pass' | 'fail' | 'skipped'>): MtrRun {
  return { results: new Map(Object.entries(results)), reasons: new Map(), output: '' };
}

test('result lines and the differing lines of a failure', () => {
  const { results, reasons } = parseMtrOutput(OUTPUT);
  assert.deepEqual([...results], [['main.func_op', 'pass'], ['main.case', 'fail'], ['main.sp-code', 'skipped']]);
  assert.equal(reasons.get('main.case'), "-Note\t1003\tselect case 1 when 1 then 'one' end AS `exp`\n+id\tselect_type");
});

test('tests passing directly and not through the gate are lost unless unproxyable', () => {
  const direct = run({ 'main.a': 'pass', 'main.b': 'pass', 'main.c': 'pass', 'main.d': 'fail' });
  const gate = run({ 'main.a': 'pass', 'main.b': 'fail', 'main.d': 'pass' });
  const cmp = compare(direct, gate, new Map([['main.c', 'creates a database']]));
  assert.deepEqual(cmp, { direct: 3, gate: 1, lost: ['main.b'], excused: ['main.c'] });
});

test('the lists name tests of the suite; every unproxyable test has its reason', () => {
  const ci = readList(listFile('ci.txt'));
  assert.ok(ci.length >= 20 && ci.every((n) => /^main\.[\w-]+$/.test(n)), ci.join(' '));
  const all = readList(listFile('list.txt'));
  for (const n of ci) assert.ok(all.includes(n), `${n} is in ci.txt but not in list.txt`);
  for (const [n, why] of readUnproxyable()) assert.ok(/^main\.[\w-]+$/.test(n) && why.length > 20, n);
});
