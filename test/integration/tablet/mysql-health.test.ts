// A tablet whose MariaDB dies: the health check pings MariaDB every health interval, so the tablet
// reports not serving with the reason (health stream, /debug/health with HTTP 503) and refuses
// queries as NOT_SERVING while MariaDB is gone, and serves again once MariaDB answers — also a
// primary whose MariaDB was stopped and started between two pings (it came back read-only).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { TesseraError } from '../../../src/mysql/errors.js';
import { decodeTextRow } from '../../../src/mysql/values.js';
import { openTopoServer, type TopoServer } from '../../../src/topo/index.js';
import type { HealthState, TabletProcess, Target } from '../../../src/tablet/index.js';
import { startTestTablet } from '../../harness/tablet.js';

let topo: TopoServer;
let tablet: TabletProcess;
const target: Target = { keyspace: 'commerce', shard: '0', tabletType: 'primary' };

before(async () => {
  topo = openTopoServer({ topoImplementation: 'memory', topoGlobalServerAddress: `tablet-mysql-health-${process.pid}`, topoGlobalRoot: '/tessera/global' });
  tablet = await startTestTablet({ cell: 'zone1', keyspace: 'commerce', shard: '0', tabletType: 'primary', topo, limits: { healthIntervalMs: 100 } });
  await tablet.manager.applySchema('create table t(id int primary key)');
});

after(async () => {
  await tablet.stop({ stopMysql: true });
  await topo.close();
});

/** Resolves with the first health report from the tablet's stream that satisfies `pred`. */
function healthUntil(pred: (h: HealthState) => boolean): Promise<HealthState> {
  const ac = new AbortController();
  return new Promise<HealthState>((resolve, reject) => {
    tablet.server
      .streamHealth((h) => {
        if (pred(h)) {
          ac.abort();
          resolve(h);
        }
      }, ac.signal)
      .catch(reject);
  });
}

interface HealthBody {
  serving: boolean;
  reason: string;
  tabletType: string;
}

async function debugHealth(): Promise<{ status: number; body: HealthBody }> {
  const res = await fetch(`http://127.0.0.1:${tablet.httpPort}/debug/health`);
  return { status: res.status, body: (await res.json()) as HealthBody };
}

test('MariaDB killed: not serving with the reason, queries refused as NOT_SERVING; serving again when it is back', async () => {
  assert.equal((await debugHealth()).status, 200);
  await tablet.server.execute(target, 'insert into t values (1)', null);

  const mysqlctl = tablet.mysqlctl;
  assert.ok(mysqlctl);
  const pid = mysqlctl.runningPid();
  assert.ok(pid);
  process.kill(pid, 'SIGKILL');

  const down = await healthUntil((h) => !h.serving);
  assert.match(down.reason, /^MariaDB is unreachable: /);
  assert.equal(tablet.server.serving, false);
  const h = await debugHealth();
  assert.equal(h.status, 503);
  assert.deepEqual([h.body.serving, h.body.tabletType], [false, 'primary']);
  assert.match(h.body.reason, /MariaDB is unreachable/);
  await assert.rejects(tablet.server.execute(target, 'select 1', null), (err: unknown) => {
    assert.ok(err instanceof TesseraError);
    assert.equal(err.kind, 'NOT_SERVING');
    assert.match(err.message, /is not serving: MariaDB is unreachable/);
    return true;
  });
  // The topology's view did not change: only MariaDB is missing.
  assert.equal((await topo.getShard('commerce', '0')).value.is_primary_serving, true);

  await mysqlctl.start();
  const up = await healthUntil((x) => x.serving);
  assert.equal(up.reason, '');
  assert.equal((await debugHealth()).status, 200);
  const r = await tablet.server.execute(target, 'select count(*) from t', null);
  assert.deepEqual(r.rows.map((p) => decodeTextRow(p, r.fields)), [[1n]]);
});

test('a primary whose MariaDB restarted between two pings takes writes again', async () => {
  // Pings far apart: the restart falls between two of them, and the test runs the next one.
  const quiet = await startTestTablet({ cell: 'zone1', keyspace: 'quiet', shard: '0', tabletType: 'primary', topo, limits: { healthIntervalMs: 3_600_000 } });
  const t: Target = { keyspace: 'quiet', shard: '0', tabletType: 'primary' };
  try {
    await quiet.manager.applySchema('create table t(id int primary key)');
    await quiet.server.checkMysql();
    await quiet.server.execute(t, 'insert into t values (1)', null);
    await quiet.mysqlctl!.shutdown();
    await quiet.mysqlctl!.start();
    await quiet.server.checkMysql();
    assert.equal(quiet.server.serving, true);
    // Before the fix: ER_OPTION_PREVENTS_STATEMENT (read-only), forever.
    await quiet.server.execute(t, 'insert into t values (2)', null);
    const r = await quiet.server.execute(t, 'select count(*) from t', null);
    assert.deepEqual(r.rows.map((p) => decodeTextRow(p, r.fields)), [[2n]]);
  } finally {
    await quiet.stop({ stopMysql: true });
  }
});
