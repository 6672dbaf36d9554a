// The switch history the web UI's workflow page lists (src/ctld/switch-history.ts): what a switch
// records, that a dry run records nothing, that a failed switch is recorded with its error and
// thrown on, newest first, bounded per workflow, and separate per ctld.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CtldContext } from '../../../src/ctld/command.js';
import { recorded, switchHistory, SWITCH_HISTORY_DEFAULTS } from '../../../src/ctld/switch-history.js';

function ctx(): CtldContext {
  // The history is keyed by the context object; nothing else of it is used.
  return {} as CtldContext;
}

const what = { keyspace: 'customer', workflow: 'commerce2customer', action: 'switchtraffic', tabletTypes: ['primary'], dryRun: false };
const result = { start_state: 'All Reads Switched. Writes Not Switched', state: 'All Reads Switched. Writes Switched', write_pause_ms: 42, steps: ['deny: 3 ms'] };

test('a switch is recorded with its states, write pause and steps; a dry run is not', async () => {
  const c = ctx();
  assert.equal(await recorded(c, { ...what, dryRun: true }, async () => 'dry', () => result), 'dry');
  assert.deepEqual(switchHistory(c, 'customer', 'commerce2customer'), []);
  assert.equal(await recorded(c, what, async () => 'done', () => result), 'done');
  const [r] = switchHistory(c, 'customer', 'commerce2customer');
  assert.equal(r.ok, true);
  assert.equal(r.error, null);
  assert.equal(r.write_pause_ms, 42);
  assert.deepEqual(r.tablet_types, ['primary']);
  assert.deepEqual(r.steps, ['deny: 3 ms']);
  assert.equal(r.state, 'All Reads Switched. Writes Switched');
  assert.ok(r.duration_ms >= 0);
  assert.deepEqual(switchHistory(c, 'customer', 'other'), []);
  assert.deepEqual(switchHistory(ctx(), 'customer', 'commerce2customer'), [], 'another ctld has its own history');
});

test('a failed switch is recorded with its error and the error is thrown on; newest first', async () => {
  const c = ctx();
  await recorded(c, what, async () => 'done', () => result);
  await assert.rejects(
    recorded(c, { ...what, action: 'reversetraffic' }, async () => {
      throw new Error('switching writes of customer.commerce2customer failed (timeout); rolled back: 0 take writes again');
    }, () => result),
    /rolled back/,
  );
  const list = switchHistory(c, 'customer', 'commerce2customer');
  assert.deepEqual(list.map((x) => [x.action, x.ok]), [['reversetraffic', false], ['switchtraffic', true]]);
  assert.match(list[0].error ?? '', /rolled back: 0 take writes again/);
  assert.equal(list[0].write_pause_ms, null);
});

test(`at most ${SWITCH_HISTORY_DEFAULTS.switchHistoryMax} switches per workflow are kept, the newest`, async () => {
  const c = ctx();
  const n = SWITCH_HISTORY_DEFAULTS.switchHistoryMax + 5;
  for (let i = 0; i < n; i++) await recorded(c, what, async () => i, () => ({ ...result, write_pause_ms: i }));
  const list = switchHistory(c, 'customer', 'commerce2customer');
  assert.equal(list.length, SWITCH_HISTORY_DEFAULTS.switchHistoryMax);
  assert.equal(list[0].write_pause_ms, n - 1);
  assert.equal(list[list.length - 1].write_pause_ms, n - SWITCH_HISTORY_DEFAULTS.switchHistoryMax);
});
