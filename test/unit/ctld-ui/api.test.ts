// The web UI's API commands (ClusterOverview, GetTabletHealth), /metrics, /debug/status and the UI's
// own files, against an in-process ctld on the memory topology; small HTTP servers here stand in for
// tablets' /debug/health with each kind of answer.
import assert from 'node:assert/strict';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { CtldClient, startCtldServer, type ClusterOverview, type CtldServer, type TabletHealthReport } from '../../../src/ctld/index.js';
import { RpcTabletManagerClient } from '../../../src/tablet/index.js';
import { isTopoError, newTablet, openTopoServer, type TopoServer } from '../../../src/topo/index.js';

let topo: TopoServer;
let server: CtldServer;
let client: CtldClient;
let base = '';
const servers: Server[] = [];

async function standIn(handler: RequestListener): Promise<number> {
  const srv = createServer(handler);
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  servers.push(srv);
  return (srv.address() as AddressInfo).port;
}

function answer(body: unknown, status = 200): RequestListener {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(typeof body === 'string' ? body : JSON.stringify(body));
  };
}

async function addTablet(uid: number, port: number): Promise<void> {
  await topo.createTablet(newTablet({ alias: { cell: 'zone1', uid }, keyspace: 'ks', shard: '0', type: 'replica', hostname: '127.0.0.1', port_map: { vt: port, grpc: 16000 + uid }, mysql_port: 17000 + uid }));
}

async function tabletHealth(uid: number, extra: Record<string, string> = {}): Promise<TabletHealthReport> {
  return (await client.call('GetTabletHealth', { alias: `zone1-${uid}`, ...extra })) as unknown as TabletHealthReport;
}

describe('ctld UI API', () => {
  before(async () => {
    topo = openTopoServer({ topoImplementation: 'memory', topoGlobalServerAddress: `ctld-ui-${process.pid}`, topoGlobalRoot: '/tessera/global' });
    await topo.createCellInfo('zone1', { server_address: '', root: '' });
    await topo.createKeyspace('ks', {});
    await topo.createShard('ks', '0');
    server = await startCtldServer({ topo, tmc: new RpcTabletManagerClient(topo) }, { host: '127.0.0.1', port: 0, grpcPort: null });
    base = `http://127.0.0.1:${server.ports[0]}`;
    client = new CtldClient(base);
  });

  after(async () => {
    await server.close();
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
    await topo.close();
  });

  test('the UI commands are listed as read-only and answer GET', async () => {
    const list = (await (await fetch(`${base}/api/v1/commands`)).json()) as { commands: Record<string, { read_only: boolean }> };
    assert.equal(list.commands.ClusterOverview.read_only, true);
    assert.equal(list.commands.GetTabletHealth.read_only, true);
    const res = await fetch(`${base}/api/v1/ClusterOverview`);
    assert.equal(res.status, 200);
    const o = (await res.json()) as ClusterOverview;
    assert.deepEqual(o.cells, ['zone1']);
    assert.deepEqual(o.keyspaces.map((k) => [k.name, k.vschema, k.shards.map((s) => s.name), k.srv_keyspaces]), [['ks', null, ['0'], { zone1: null }]]);
    assert.deepEqual(o.routing_rules, { rules: [] });
  });

  test('health: each kind of answer maps to a state', async () => {
    const at = '2026-01-01T00:00:00.000Z';
    await addTablet(1, await standIn(answer({ serving: true, reason: '', tabletType: 'replica', replicationLagSeconds: 2, replicationError: null, at })));
    // Not serving, as a real tablet answers it: HTTP 503 with its health JSON.
    await addTablet(2, await standIn(answer({ serving: false, reason: 'shutting down', tabletType: 'replica', replicationLagSeconds: 0, replicationError: null, at }, 503)));
    await addTablet(3, await standIn(answer({ serving: true, reason: '', tabletType: 'replica', replicationLagSeconds: null, replicationError: 'io thread stopped', at })));
    await addTablet(4, await standIn(answer({ serving: true, reason: '', tabletType: 'replica', replicationLagSeconds: 99999, replicationError: null, at })));
    await addTablet(5, await standIn(answer({ error: 'boom' }, 500)));
    await addTablet(6, await standIn(answer('not json')));
    await addTablet(7, await standIn(answer({ hello: 1 })));
    await addTablet(8, await standIn(() => undefined)); // never answers

    const h1 = await tabletHealth(1);
    assert.equal(h1.alias, 'zone1-0000000001');
    assert.deepEqual({ ...h1.health, checked_at: '', url: '' }, {
      state: 'healthy', reason: '', serving: true, tablet_type: 'replica', replication_lag_seconds: 2, replication_error: null, reported_at: at, checked_at: '', url: '',
    });
    assert.match(h1.health.url, /^http:\/\/127\.0\.0\.1:\d+\/debug\/health$/);
    assert.deepEqual([(await tabletHealth(2)).health.state, (await tabletHealth(2)).health.reason], ['not_serving', 'shutting down']);
    const h3 = (await tabletHealth(3)).health;
    assert.deepEqual([h3.state, h3.reason], ['unhealthy', 'replication error: io thread stopped']);
    assert.match((await tabletHealth(4)).health.reason, /lag 99999s over lagUnhealthySeconds=7200/);
    assert.match((await tabletHealth(5)).health.reason, /HTTP 500/);
    assert.equal((await tabletHealth(6)).health.state, 'unreachable');
    assert.match((await tabletHealth(7)).health.reason, /did not answer health JSON/);
    const h8 = (await tabletHealth(8, { health_timeout_ms: '100' })).health;
    assert.deepEqual([h8.state, h8.reason.replace(/^.*: /, '')], ['unreachable', 'no answer within healthTimeoutMs=100']);

    // ClusterOverview carries the same states for every tablet, in alias order (a timeout loose
    // enough for a loaded machine: tablet 8 never answers, the others answer at once).
    const o = (await client.call('ClusterOverview', { health_timeout_ms: 2000 })) as unknown as ClusterOverview;
    assert.deepEqual(
      o.tablets.map((t) => [t.alias, t.health.state]),
      [['zone1-0000000001', 'healthy'], ['zone1-0000000002', 'not_serving'], ['zone1-0000000003', 'unhealthy'], ['zone1-0000000004', 'unhealthy'], ['zone1-0000000005', 'unreachable'], ['zone1-0000000006', 'unreachable'], ['zone1-0000000007', 'unreachable'], ['zone1-0000000008', 'unreachable']],
    );
  });

  test('a tablet without an HTTP port, and one not in topo', async () => {
    await topo.createTablet(newTablet({ alias: { cell: 'zone1', uid: 20 }, keyspace: 'ks', shard: '0', type: 'rdonly', port_map: {} }));
    const h = (await tabletHealth(20)).health;
    assert.deepEqual([h.state, h.url], ['unreachable', '']);
    assert.match(h.reason, /no HTTP port/);
    await assert.rejects(tabletHealth(404), (err: unknown) => isTopoError(err, 'NO_NODE'));
  });

  test('recent health changes: one event per change, newest first', async () => {
    let body: unknown = { serving: true, tabletType: 'replica' };
    await addTablet(30, await standIn((_req, res) => void res.writeHead(200).end(JSON.stringify(body))));
    await tabletHealth(30);
    await tabletHealth(30);
    body = { serving: false, reason: 'drained', tabletType: 'drained' };
    await tabletHealth(30);
    body = { serving: true, tabletType: 'replica' };
    const r = await tabletHealth(30);
    assert.deepEqual(r.events.map((e) => [e.state, e.reason]), [['healthy', ''], ['not_serving', 'drained'], ['healthy', '']]);
  });

  test('the UI, its script and stylesheet, /metrics and /debug/status are served', async () => {
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await page.text(), /<script type="module" src="\/ui\/client.js">/);
    const js = await fetch(`${base}/ui/client.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    assert.match(await js.text(), /ClusterOverview/);
    assert.match((await (await fetch(`${base}/ui/style.css`)).text()), /\.keybar/);
    assert.equal((await fetch(`${base}/nosuch`)).status, 404);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /# TYPE tessera_ctld_requests_total counter/);
    assert.match(metrics, /tessera_ctld_requests_total\{command="GetTabletHealth",code="NO_NODE"\} 1/);
    assert.match(metrics, /tessera_ctld_topo_errors_total\{command="GetTabletHealth",code="NO_NODE"\} 1/);
    const status = await (await fetch(`${base}/debug/status`)).text();
    assert.match(status, /1 keyspaces \(ks\); \d+ tablets/);
    assert.match(status, /<td>GetTabletHealth<\/td><td>ok<\/td>/);
  });
});
