// Workflow commands a Vitess user types (here in the seeds' `vtctlclient … --` form) that Tessera
// lacks answer with a clear "not implemented yet" (or the command to use instead) and a non-zero
// exit, not a usage dump.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';

const BIN = path.resolve('bin/tessera');

function tessera(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { encoding: 'utf8' }, (err, _stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr }));
  });
}

test("Migrate: error 1235 naming the command, nothing else attempted", async () => {
  const r = await tessera(['ctl', '--server', '127.0.0.1:1', 'Migrate', '--', '--tables', 'customer', 'customer.cust2cust']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^ERROR 1235 \(42000\): Migrate is not implemented in Tessera yet/);
  assert.doesNotMatch(r.stderr, /Usage:/);
});

test("VDiff in the seeds' form is parsed and sent to ctld (which is not there)", async () => {
  const r = await tessera(['ctl', '--server', '127.0.0.1:1', 'VDiff', '--', '--tables', 'customer', 'customer.cust2cust']);
  assert.equal(r.code, 1);
  assert.doesNotMatch(r.stderr, /not implemented|Usage:/);
  assert.match(r.stderr, /127\.0\.0\.1:1|ECONNREFUSED|connect/);
});

test('VDiff without a workflow says what it needs', async () => {
  const r = await tessera(['ctl', '--server', '127.0.0.1:1', 'VDiff', 'show', 'last']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /VDiff needs --workflow and --target-keyspace \(or <keyspace>\.<workflow>\)/);
});

test('VerticalSplitClone and MigrateServedFrom name the MoveTables command that replaced them', async () => {
  for (const name of ['VerticalSplitClone', 'MigrateServedFrom']) {
    const r = await tessera(['ctl', '--server', '127.0.0.1:1', name, '--', '--tables', 'customer', 'commerce', 'customer']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^ERROR 1235 \\(42000\\): ${name} is the vtctlclient-era way to move tables; Tessera does it with: tessera ctl MoveTables`));
  }
});

test("MoveTables in the seeds' form is parsed and sent to ctld (which is not there)", async () => {
  const r = await tessera(['ctl', '--server', '127.0.0.1:1', 'MoveTables', '--', '-source', 'customer', '--tables', 'customer,corder', '--source_shards', '-80', 'Create', 'customer2.partial1']);
  assert.equal(r.code, 1);
  assert.doesNotMatch(r.stderr, /not implemented|Usage:/);
  assert.match(r.stderr, /127\.0\.0\.1:1|ECONNREFUSED|connect/);
});

test('an unknown command is still refused by name', async () => {
  const r = await tessera(['ctl', 'NoSuchCommand']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /unknown command 'NoSuchCommand'/);
});
