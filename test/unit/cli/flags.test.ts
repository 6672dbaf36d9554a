import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeFlagSpellings } from '../../../src/cli/flags.js';

test('single-dash and underscore spellings become the double-dash, dashed form', () => {
  assert.deepEqual(normalizeFlagSpellings(['tablet', '-tablet_uid', '100', '--init_keyspace=commerce', '-force', '-v']), [
    'tablet', '--tablet-uid', '100', '--init-keyspace=commerce', '--force', '-v',
  ]);
  // Values that look like negative key ranges are values, not flags.
  assert.deepEqual(normalizeFlagSpellings(['--source_shards', '-80']), ['--source-shards', '-80']);
});

test("the seeds' `vtctlclient Command -- flags` form: the `--` after a command name is dropped", () => {
  assert.deepEqual(
    normalizeFlagSpellings(['ctl', 'MoveTables', '--', '-source', 'customer', '--tables', 'customer,corder', '--source_shards', '-80', 'Create', 'customer2.partial1']),
    ['ctl', 'MoveTables', '--source', 'customer', '--tables', 'customer,corder', '--source-shards', '-80', 'Create', 'customer2.partial1'],
  );
  assert.deepEqual(normalizeFlagSpellings(['ctl', 'MoveTables', '--', 'SwitchTraffic', 'customer2.partial1']), ['ctl', 'MoveTables', 'SwitchTraffic', 'customer2.partial1']);
});

test('elsewhere `--` ends flag parsing and what follows passes untouched', () => {
  assert.deepEqual(normalizeFlagSpellings(['binlog', 'dump', '--', '-not_a_flag', '--x_y']), ['binlog', 'dump', '--', '-not_a_flag', '--x_y']);
});
