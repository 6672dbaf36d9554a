// The switch history the web UI's workflow page lists (src/ctld/switch-history.ts): what a switch
// records, that a dry run records nothing, that a failed switch is recorded with its error and
// thrown on, newest first, bounded per workflow, and kept in the topology: a second ctld (a
// restarted one) on the same topology sees it, and two appending at once lose neither switch.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CtldContext } from '../../../src/ctld/command.js';
import { recorded, switchHistory, SWITCH_HISTORY_DEFAULTS } from '../../../src/ctld/switch-history.js';
import { openTopoServer } from '../../../src/topo/index.js';

let seq = 0;
/** A ctld context on a fresh memory topology (only its topology is used); `same` shares another's. */
function ctx(same?: CtldContext): CtldContext {
  const topo = same?.topo ?? openTopoServer({ topoImplementation: 'memory', topoGlobalServerAddress: `switch-history-${process.pid}-${++seq}`, topoGlobalRoot: '/tessera/global' });
  return { topo } as CtldContext;
}

const what = { keyspace: 'customer', workflow: 'commerce2customer', action: 'switchtraffic', tabletTypes: ['primary'], dryRun: false };
const result = { start_state: 'All Reads Switched. Writes Not Switched', state: 'All Reads Switched. Writes Switched', write_pause_ms: 42, steps: ['deny: 3 ms'] };

test('a switch is recorded with its states, write pause and steps; a dry run is not', async () => {
  const c = ctx();
  assert.equal(await recorded(c, { ...what, dryRun: true }, async () => 'dry', () => result), 'dry');
  assert.deepEqual(await switchHistory(c, 'customer', 'commerce2customer'), []);
  assert.equal(await recorded(c, what, async () => 'done', () => result), 'done');
  const [r] = await switchHistory(c, 'customer', 'commerce2customer');
  assert.equal(r.ok, true);
  assert.equal(r.error, null);
  assert.equal(r.write_pause_ms, 42);
  assert.deepEqual(r.tablet_types, ['primary']);
  assert.deepEqual(r.steps, ['deny: 3 ms']);
  assert.equal(r.state, 'All Reads Switched. Writes Switched');
  assert.ok(r.duration_ms >= 0);
  assert.deepEqual(await switchHistory(c, 'customer', 'other'), []);
  assert.deepEqual(await switchHistory(ctx(), 'customer', 'commerce2customer'), [], 'another topology has its own history');
  assert.deepEqual(await switchHistory(ctx(c), 'customer', 'commerce2customer'), [r], 'another ctld on the same topology (a restarted one) sees it');
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
  const list = await switchHistory(c, 'customer', 'commerce2customer');
  assert.deepEqual(list.map((x) => [x.action, x.ok]), [['reversetraffic', false], ['switchtraffic', true]]);
  assert.match(list[0].error ?? '', /rolled back: 0 take writes again/);
  assert.equal(list[0].write_pause_ms, null);
});

test(`at most ${SWITCH_HISTORY_DEFAULTS.switchHistoryMax} switches per workflow are kept, the newest`, async () => {
  const c = ctx();
  const n = SWITCH_HISTORY_DEFAULTS.switchHistoryMax + 5;
  for (let i = 0; i < n; i++) await recorded(c, what, async () => i, () => ({ ...result, write_pause_ms: i }));
  const list = await switchHistory(c, 'customer', 'commerce2customer');
  assert.equal(list.length, SWITCH_HISTORY_DEFAULTS.switchHistoryMax);
  assert.equal(list[0].write_pause_ms, n - 1);
  assert.equal(list[list.length - 1].write_pause_ms, n - SWITCH_HISTORY_DEFAULTS.switchHistoryMax);
});

test('switches recorded at once by two ctlds on one topology are all kept', async () => {
  const a = ctx();
  const b = ctx(a);
  await Promise.all(Array.from({ length: 10 }, (_, i) => recorded(i % 2 ? a : b, what, async () => i, () => ({ ...result, write_pause_ms: i }))));
  const pauses = (await switchHistory(a, 'customer', 'commerce2customer')).map((x) => x.write_pause_ms).sort((x, y) => (x ?? 0) - (y ?? 0));
  assert.deepEqual(pauses, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});
