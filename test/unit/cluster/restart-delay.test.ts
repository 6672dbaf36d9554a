// The supervisor's restart delay (`restartProcesses: true`): a crash loop backs off, a component
// that ran a while or was killed from outside comes back at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UP_DEFAULTS, nextRestartDelay } from '../../../src/cluster/index.js';

const first = UP_DEFAULTS.restartDelayMs;
const max = UP_DEFAULTS.restartDelayMaxMs;
const short = UP_DEFAULTS.restartResetAfterMs - 1;

test('exiting on its own soon after each start doubles the delay up to the maximum', () => {
  let d = first;
  const seen: number[] = [];
  for (let i = 0; i < 8; i++) {
    d = nextRestartDelay(d, short, null);
    seen.push(d);
  }
  assert.deepEqual(seen.slice(0, 3), [first * 2, first * 4, first * 8]);
  assert.equal(seen.at(-1), max);
  assert.equal(nextRestartDelay(max, 100, 'SIGSEGV'), max, 'a crash by its own signal is a crash loop too');
});

test('a run longer than the reset time starts from the first delay again', () => {
  assert.equal(nextRestartDelay(max, UP_DEFAULTS.restartResetAfterMs, null), first);
});

test('kill -9 from outside never backs off, however often it comes', () => {
  let d = first;
  for (let i = 0; i < 10; i++) d = nextRestartDelay(d, 2_000, 'SIGKILL');
  assert.equal(d, first);
  assert.equal(nextRestartDelay(max, 10, 'SIGKILL'), first);
});
