// The failure summary scripts/test.sh prints at the end of a failing run: checked against TAP that
// node's own test runner writes for a file with a passing test, a failing one nested in a suite,
// and lines the file prints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { failuresIn } from '../../harness/failures.js';

function tapOf(source: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-failures-'));
  try {
    const file = join(dir, 'sample.test.mjs');
    writeFileSync(file, source);
    // Without NODE_TEST_CONTEXT, which would make the child report to this runner instead of as TAP.
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    const run = spawnSync(process.execPath, ['--test', '--test-reporter=tap', file], { encoding: 'utf8', env });
    return run.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a nested failure is found with its path, its error and what the file printed before it', () => {
  const tap = tapOf(`
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
test('passes', () => {});
describe('outer suite', () => {
  test('inner fails', () => {
    console.log('the cluster said: shard customer/-80 has no primary');
    assert.equal(1 + 1, 3, 'sums differ');
  });
  test('inner passes', () => {});
});
`);
  const failures = failuresIn(tap);
  assert.equal(failures.length, 1, tap);
  const [f] = failures;
  assert.deepEqual(f.path, ['outer suite']);
  assert.match(f.line, /^not ok \d+ - inner fails/);
  assert.ok(f.block.some((l) => l.includes('sums differ')), f.block.join('\n'));
  assert.ok(f.context.some((l) => l.includes('shard customer/-80 has no primary')), f.context.join('\n'));
});

test('a passing run has no failures', () => {
  const tap = tapOf(`
import { test } from 'node:test';
test('a', () => {});
test('b', async (t) => { await t.test('c', () => {}); });
`);
  assert.ok(tap.includes('ok 2 - b'), tap);
  assert.deepEqual(failuresIn(tap), []);
});
