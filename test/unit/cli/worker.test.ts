// The seed prints `SplitDiff -min_healthy_rdonly_tablets = 1 customer / -80`; the worker answers
// with the line joined back instead of running something else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rejoinStraySpaces } from '../../../src/cli/worker.js';
import { buildProgram } from '../../../src/cli/main.js';
import { normalizeFlagSpellings } from '../../../src/cli/flags.js';

test('a flag or keyspace/shard split by spaces is joined back', () => {
  assert.deepEqual(rejoinStraySpaces(['--min-healthy-rdonly-tablets', '=', '1', 'customer', '/', '-80']), ['--min-healthy-rdonly-tablets=1', 'customer/-80']);
  assert.deepEqual(rejoinStraySpaces(['--min-healthy-rdonly-tablets=', '1', 'customer/', '-80']), ['--min-healthy-rdonly-tablets=1', 'customer/-80']);
  assert.deepEqual(rejoinStraySpaces(['customer', '/0']), ['customer/0']);
  assert.equal(rejoinStraySpaces(['--min-healthy-rdonly-tablets=1', 'customer/-80']), null);
  assert.equal(rejoinStraySpaces(['customer/0']), null);
});

test('the worker refuses the split line, showing the corrected one', async () => {
  const argv = normalizeFlagSpellings(['worker', 'SplitDiff', '-min_healthy_rdonly_tablets', '=', '1', 'customer', '/', '-80']);
  const program = (await buildProgram(argv)).exitOverride();
  await assert.rejects(
    program.parseAsync(argv, { from: 'user' }),
    /SplitDiff: a flag or keyspace\/shard is split by spaces; did you mean: SplitDiff --min-healthy-rdonly-tablets=1 customer\/-80/,
  );
});

test('the worker without a job says which jobs there are', async () => {
  await assert.rejects((await buildProgram(['worker'])).exitOverride().parseAsync(['worker'], { from: 'user' }), /name a job: SplitClone or SplitDiff/);
});

test("the seeds' VerticalSplitClone and VerticalSplitDiff name the commands that do their work today", async () => {
  for (const [job, want] of [
    ['VerticalSplitClone', /VerticalSplitClone is the vtworker-era way to move tables; Tessera does it with: tessera ctl MoveTables --workflow <name> --target-keyspace <keyspace> create --source-keyspace <keyspace> --tables/],
    ['VerticalSplitDiff', /VerticalSplitDiff is the vtworker-era way to move tables; Tessera does it with: tessera ctl VDiff --workflow <name> --target-keyspace <keyspace> create --wait/],
  ] as const) {
    const argv = normalizeFlagSpellings(['worker', '-cell', 'zone1', job, '-min_healthy_rdonly_tablets=1', 'customer/0']);
    await assert.rejects((await buildProgram(argv)).exitOverride().parseAsync(argv, { from: 'user' }), (err: Error & { errno?: number }) => {
      assert.match(err.message, want);
      assert.equal(err.errno, 1235);
      return true;
    });
  }
});
