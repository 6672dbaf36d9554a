// --config-overrides as ctl receives it: repeated flags and comma-separated pairs in one value
// (Vitess's map flag), names in dashes or underscores, unknown names and bad values refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigOverrides } from '../../../src/workflow/index.js';

test('--config-overrides: repeated and comma-separated pairs, underscores read as dashes', () => {
  assert.deepEqual(parseConfigOverrides(['vreplication-retry-delay=2s,vreplication_copy_rows_per_second=1000', 'relay-log-max-items=5000']), {
    'vreplication-retry-delay': '2s',
    'vreplication-copy-rows-per-second': '1000',
    'relay-log-max-items': '5000',
  });
  assert.deepEqual(parseConfigOverrides(['vreplication-retry-delay=1s,']), { 'vreplication-retry-delay': '1s' });
  assert.deepEqual(parseConfigOverrides([]), {});
});

test('--config-overrides: an unknown setting, a pair without "=" and a bad value are refused by name', () => {
  assert.throws(() => parseConfigOverrides(['vreplication-retry-delay=1s,no-such-setting=1']), /unknown setting no-such-setting/);
  assert.throws(() => parseConfigOverrides(['vreplication-retry-delay=1s,relay-log-max-items']), /relay-log-max-items: expected key=value/);
  assert.throws(() => parseConfigOverrides(['relay-log-max-items=many']), /relay-log-max-items=many: not a non-negative number/);
});
