import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { decodeTextRow } from '../../../src/mysql/values.js';
import { Mysqlctl } from '../../../src/mysqlctl/index.js';
import { RpcTabletManagerClient, TabletConn, type Target } from '../../../src/tablet/index.js';
import { openTopoServer } from '../../../src/topo/index.js';
import { startChild } from '../../harness/child.js';
import { freePort, testRoot, track } from '../../harness/processes.js';

test('tessera tablet as a process: kill -9 of the tablet, then of its MariaDB, loses no committed row', async () => {
  const root = testRoot();
  const topoDir = path.join(root, 'topo');
  const [mysqlPort, rpcPort, httpPort] = [await freePort(), await freePort(), await freePort()];
  const args = [
    'tablet',
    '--tablet-path', 'zone1-300',
    '--init-keyspace', 'customer',
    '--init-shard', '0',
    '--init-tablet-type', 'primary',
    '--topo-implementation', 'file',
    '--topo-global-server-address', topoDir,
    '--data-root', root,
    '--mysql-port', String(mysqlPort),
    '--grpc-port', String(rpcPort),
    '--port', String(httpPort),
  ];
  const mysqlctl = new Mysqlctl({ tabletUid: 300, mysqlPort, dataRoot: root });
  track(() => {
    const pid = mysqlctl.runningPid();
    if (pid) process.kill(pid, 'SIGKILL');
  });
  const target: Target = { keyspace: 'customer', shard: '0', tabletType: 'primary' };
  const count = async (c: TabletConn) => {
    const r = await c.execute(target, 'select count(*), max(id) from ledger', null);
    return decodeTextRow(r.rows[0], r.fields).map(Number);
  };

  let child = startChild(args);
  await child.waitFor(/tablet zone1-0000000300 serving=true rpc=(\d+)/);
  let conn = new TabletConn('127.0.0.1', rpcPort);
  const topo = openTopoServer({ topoImplementation: 'file', topoGlobalServerAddress: topoDir, topoGlobalRoot: '/tessera/global' });
  const tmc = new RpcTabletManagerClient(topo);
  await tmc.applySchema('zone1-300', { sql: 'create table ledger (id int primary key)' });
  tmc.close();
  for (let i = 1; i <= 50; i++) await conn.execute(target, `insert into ledger values (${i})`, null);
  const tx = await conn.execute(target, 'insert into ledger values (1000)', null, { begin: true });
  assert.ok(tx.transactionId > 0);

  // The tablet dies mid-transaction: committed rows stay, the open transaction is rolled back.
  child.proc.kill('SIGKILL');
  await new Promise((r) => child.proc.once('exit', r));
  conn.close();
  child = startChild(args);
  await child.waitFor(/serving=true/);
  conn = new TabletConn('127.0.0.1', rpcPort);
  assert.deepEqual(await count(conn), [50, 50]);
  await assert.rejects(conn.commit(target, tx.transactionId), /not found on tablet/);
  for (let i = 51; i <= 60; i++) await conn.execute(target, `insert into ledger values (${i})`, null);

  // Now MariaDB dies too; a restarted tablet restarts it through mysqlctl and InnoDB recovers.
  await child.kill('SIGKILL');
  process.kill(mysqlctl.runningPid()!, 'SIGKILL');
  conn.close();
  child = startChild(args);
  await child.waitFor(/serving=true/);
  conn = new TabletConn('127.0.0.1', rpcPort);
  assert.deepEqual(await count(conn), [60, 60]);
  const health = await fetch(`http://127.0.0.1:${httpPort}/debug/health`).then((r) => r.json() as Promise<{ serving: boolean; tabletType: string }>);
  assert.equal(health.serving, true);
  assert.equal(health.tabletType, 'primary');
  const metrics = await fetch(`http://127.0.0.1:${httpPort}/metrics`).then((r) => r.text());
  assert.match(metrics, /tessera_tablet_serving 1/);
  conn.close();

  await child.kill('SIGTERM');
  assert.equal(child.proc.exitCode, 0, child.output());
  const t = await topo.getTablet({ cell: 'zone1', uid: 300 });
  assert.equal(t.value.port_map.grpc, rpcPort);
  assert.equal(t.value.mysql_port, mysqlPort);
  await topo.close();
  await mysqlctl.teardown();
});
