// readOrMissing: a topology read whose NO_NODE means "does not exist" — and only NO_NODE. A read
// the topology does not answer (etcd killed or restarting; here the memory backend's injected
// faults) is tried again, then reported as the topology being unavailable, never as a missing
// keyspace (after kill -9 of etcd, a VDiff created at once was told `keyspace dst does not exist`).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ER, TesseraError } from '../../../src/mysql/errors.js';
import { isTopoError, memoryStore, openConn, readOrMissing, TOPO_READ_DEFAULTS, TopoServer } from '../../../src/topo/index.js';
import { gatherStreams } from '../../../src/workflow/workflow.js';

async function fresh(address: string): Promise<TopoServer> {
  const ts = new TopoServer(openConn('memory', address, '/tessera/global'), (a, r) => openConn('memory', a, r), address, { lockTimeoutMs: 0 });
  await ts.createCellInfo('zone1', {});
  await ts.createKeyspace('dst');
  return ts;
}

const missing = () => new TesseraError(ER.WRONG_ARGUMENTS, 'keyspace nope does not exist');

test('NO_NODE is the caller\'s "does not exist"; a read that fails a few times is tried again and answers', async () => {
  const ts = await fresh('read-or-missing-1');
  await assert.rejects(readOrMissing('keyspace nope', () => ts.getKeyspace('nope'), missing), /keyspace nope does not exist/);
  memoryStore('read-or-missing-1').injectFault({ op: 'get', path: /keyspaces\/dst\/Keyspace$/, action: 'fail', times: 3 });
  const ks = await readOrMissing('keyspace dst', () => ts.getKeyspace('dst'), missing);
  assert.equal(ks.value.durability_policy, 'none');
});

test('a topology that keeps failing is reported unavailable (errno 1105, try again), not as a missing keyspace', async () => {
  const ts = await fresh('read-or-missing-2');
  memoryStore('read-or-missing-2').injectFault({ op: '*', path: /keyspaces\/dst/, action: 'fail' });
  await assert.rejects(readOrMissing('keyspace dst', () => ts.getKeyspace('dst'), missing, 300), (e: unknown) => {
    assert.ok(isTopoError(e, 'BACKEND'), String(e));
    assert.equal(e.errno, ER.UNAVAILABLE.errno);
    assert.match(e.message, /the topology did not answer while reading keyspace dst .*try again in a moment/);
    assert.doesNotMatch(e.message, /does not exist/);
    return true;
  });
  // What VDiff and Workflow list the streams with: no "does not exist" either.
  TOPO_READ_DEFAULTS.retryMs = 300;
  await assert.rejects(
    gatherStreams(ts, {} as Parameters<typeof gatherStreams>[1], 'dst', undefined),
    (e: Error) => !/does not exist/.test(e.message) && /the topology did not answer/.test(e.message),
  );
  memoryStore('read-or-missing-2').clearFaults();
  await assert.rejects(gatherStreams(ts, {} as Parameters<typeof gatherStreams>[1], 'nope', undefined), /keyspace nope does not exist/);
});
