// A primary's MariaDB killed with SIGKILL under ledger writes through two gates, on a distributed
// cluster (every component its own process). First the tablet starts it again: meanwhile its
// health says not serving ("MariaDB is down"), the gates buffer, and afterwards every acknowledged
// write is there and the tablet is still the primary. Then a MariaDB that cannot start again (its
// data directory moved away at the instant of the kill): after --mysql-restart-timeout the tablet
// raises its alert, ctld's failover watcher runs EmergencyReparentShard and a replica becomes
// primary — with semi_sync durability, again without losing an acknowledged write. Once the data
// directory is back, the old primary's tablet starts its MariaDB and rejoins as a replica.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tabletDir } from '../../src/mysqlctl/index.js';
import { waitFor } from '../harness/wait.js';
import { DistCluster } from './cluster.js';
import { checkRows, startLedgerLoad } from './load.js';

const KS = 'commerce';
const RESTART_TIMEOUT_MS = 4_000;
const WRITERS = 4;

interface Health {
  serving: boolean;
  reason: string;
  alert?: string;
  tabletType: string;
}

/** Polls a tablet's /debug/health every 20 ms and keeps every distinct answer. */
function watchHealth(httpPort: number): { seen: Health[]; stop(): void } {
  const seen: Health[] = [];
  let on = true;
  void (async () => {
    while (on) {
      try {
        const h = (await (await fetch(`http://127.0.0.1:${httpPort}/debug/health`, { signal: AbortSignal.timeout(1_000) })).json()) as Health;
        const last = seen.at(-1);
        if (!last || last.serving !== h.serving || last.reason !== h.reason || last.alert !== h.alert) seen.push(h);
      } catch {
        // the tablet is busy; next poll
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return { seen, stop: () => (on = false) };
}

describe("a primary's MariaDB killed under writes (distributed cluster)", { timeout: 900_000 }, () => {
  let c: DistCluster;

  before(async () => {
    c = await DistCluster.up({
      name: 'mariadb-restart',
      gates: 2,
      mysqlRestartTimeoutMs: RESTART_TIMEOUT_MS,
      keyspaces: [
        {
          name: KS,
          shards: ['0'],
          replicas: 2,
          durability: 'semi_sync',
          schema: 'CREATE TABLE ledger (id bigint NOT NULL PRIMARY KEY, v varchar(32) NOT NULL)',
          vschema: { tables: { ledger: {} } },
        },
        // One tablet, no replica: EmergencyReparentShard has nothing to promote.
        { name: 'lonely', shards: ['0'], replicas: 0, schema: 'CREATE TABLE item (id bigint NOT NULL PRIMARY KEY)', vschema: { tables: { item: {} } } },
      ],
    });
  });

  after(async () => {
    await c?.down();
  });

  test('the tablet starts it again; the gates buffer; no acknowledged write is lost', async () => {
    const [primary] = await c.find('tablet', { keyspace: KS, shard: '0', tabletType: 'primary' });
    const [mdb] = await c.find('mariadb', { keyspace: KS, shard: '0', tabletType: 'primary' });
    assert.ok(mdb.pid && mdb.alive, JSON.stringify(mdb));
    const load = startLedgerLoad(c, KS, 'ledger', WRITERS, 1);
    const health = watchHealth(primary.ports.http);
    try {
      await load.ledger.waitForAcks(50);
      const killedAt = Date.now();
      process.kill(mdb.pid, 'SIGKILL');
      await waitFor('a new MariaDB for the primary', async () => {
        const [m] = await c.find('mariadb', { name: mdb.name });
        return m.alive && m.pid !== mdb.pid;
      }, 120_000);
      await load.ledger.waitForAcks(50);
      process.stdout.write(`# restart: longest gap between acknowledged writes ${load.ledger.longestGapMs(killedAt)} ms\n`);
    } finally {
      health.stop();
      await load.stop();
    }
    // Not serving, and saying why: a failed health ping may notice the dead MariaDB a moment before
    // the tablet's own watch of the process does, so the first reason can be the ping's; the
    // tablet's "MariaDB is down" follows it (a changed reason is a new health message).
    const down = health.seen.filter((h) => !h.serving);
    assert.ok(down.length > 0, `the health stream showed the tablet not serving: ${JSON.stringify(health.seen)}`);
    assert.ok(down.some((h) => /MariaDB is down/.test(h.reason)), `a not-serving reason says MariaDB is down: ${JSON.stringify(down)}`);
    assert.ok(health.seen.at(-1)?.serving, `serving again: ${JSON.stringify(health.seen)}`);

    const [still] = await c.find('tablet', { keyspace: KS, shard: '0', tabletType: 'primary' });
    assert.equal(still.alias, primary.alias, 'no reparent: the same tablet is primary');
    const rows = await checkRows(c, KS, 'ledger', load.ledger, 1);
    const failed = load.ledger.failed.map((f) => f.error);
    process.stdout.write(`# restart: ${rows.acknowledged} acknowledged, ${load.ledger.failedTotal} failed ${JSON.stringify(failed)}\n`);
    assert.deepEqual([rows.lost, rows.wrongValue, rows.duplicated], [[], [], []]);
    // Only the statement running at the instant of the kill may fail: one per writer at most.
    assert.ok(load.ledger.failedTotal <= WRITERS, `failed writes: ${JSON.stringify(failed)}`);
  });

  test('a MariaDB that does not start again: the tablet alerts, EmergencyReparentShard promotes a replica', async () => {
    const [primary] = await c.find('tablet', { keyspace: KS, shard: '0', tabletType: 'primary' });
    const [mdb] = await c.find('mariadb', { name: `mariadb-${primary.name.split('-')[1]}` });
    const uid = Number(primary.name.split('-')[1]);
    const dataDir = path.join(tabletDir(c.dataRoot, uid), 'data');
    const FIRST = 1_000_000;
    const load = startLedgerLoad(c, KS, 'ledger', WRITERS, FIRST);
    const health = watchHealth(primary.ports.http);
    let promoted = '';
    try {
      await load.ledger.waitForAcks(50);
      const killedAt = Date.now();
      // The kill and the move together: the tablet's next start finds no data directory.
      process.kill(mdb.pid!, 'SIGKILL');
      fs.renameSync(dataDir, `${dataDir}.moved`);
      await waitFor('another tablet to become primary', async () => {
        const [p] = await c.find('tablet', { keyspace: KS, shard: '0', tabletType: 'primary' });
        promoted = p?.alias ?? '';
        return p !== undefined && p.alias !== primary.alias;
      }, 180_000);
      await load.ledger.waitForAcks(50);
      process.stdout.write(`# ERS: longest gap between acknowledged writes ${load.ledger.longestGapMs(killedAt)} ms\n`);
    } finally {
      health.stop();
      await load.stop();
    }
    const alert = health.seen.find((h) => h.alert)?.alert ?? '';
    assert.match(alert, new RegExp(`MariaDB is down: it has not started again within --mysql-restart-timeout=${RESTART_TIMEOUT_MS}ms`));
    assert.match(alert, /needs EmergencyReparentShard/);
    const rows = await checkRows(c, KS, 'ledger', load.ledger, FIRST);
    process.stdout.write(`# ERS to ${promoted}: ${rows.acknowledged} acknowledged, ${load.ledger.failedTotal} failed ${JSON.stringify(load.ledger.failed.map((f) => f.error))}\n`);
    assert.deepEqual([rows.lost, rows.wrongValue, rows.duplicated], [[], [], []]);
    const ctldStatus = await (await fetch(`http://127.0.0.1:${c.ctldPort}/debug/status`)).text();
    assert.match(ctldStatus, new RegExp(`<td>${primary.alias}</td><td>${promoted}</td>`), 'ctld shows the failover');

    // The data directory back: the old primary's tablet starts MariaDB and rejoins as a replica —
    // replicating, or, when the crash left it a transaction the new primary never received (written
    // to its binlog, not yet acknowledged), refusing to with the errant GTIDs in its health (our
    // check) or MariaDB's error 1236 (a diverged history the GTID sequence numbers do not show).
    fs.renameSync(`${dataDir}.moved`, dataDir);
    let last: (Health & { replicationError: string }) | null = null;
    await waitFor('the old primary to come back as a replica', async () => {
      last = (await (await fetch(`http://127.0.0.1:${primary.ports.http}/debug/health`)).json().catch(() => null)) as (Health & { replicationError: string }) | null;
      return last !== null && last.tabletType === 'replica' && last.alert === undefined && (last.replicationError === '' ? last.serving : /lacks|1236/.test(last.replicationError));
    }, 120_000).catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(last)}`);
    });
    process.stdout.write(`# old primary: ${JSON.stringify(last)}\n`);
  });

  test('no replica to promote: ctld says why it cannot reparent; the shard serves again once MariaDB starts', async () => {
    const [primary] = await c.find('tablet', { keyspace: 'lonely', shard: '0', tabletType: 'primary' });
    const [mdb] = await c.find('mariadb', { name: `mariadb-${primary.name.split('-')[1]}` });
    const dataDir = path.join(tabletDir(c.dataRoot, Number(primary.name.split('-')[1])), 'data');
    process.kill(mdb.pid!, 'SIGKILL');
    fs.renameSync(dataDir, `${dataDir}.moved`);
    let page = '';
    await waitFor("ctld's alert", async () => {
      page = await (await fetch(`http://127.0.0.1:${c.ctldPort}/debug/status`)).text();
      return /<b>ALERT<\/b>[^<]*lonely\/0/.test(page);
    }, 120_000);
    assert.match(page, /lonely\/0: EmergencyReparentShard of lonely\/0 cannot run safely: EmergencyReparentShard: no safe candidate in lonely\/0: no reachable tablet of type replica/);
    const [still] = await c.find('tablet', { keyspace: 'lonely', shard: '0', tabletType: 'primary' });
    assert.equal(still.alias, primary.alias, 'nothing was promoted');

    fs.renameSync(`${dataDir}.moved`, dataDir);
    await waitFor('the primary to serve again and the alerts to clear', async () => {
      const h = (await (await fetch(`http://127.0.0.1:${primary.ports.http}/debug/health`)).json().catch(() => null)) as Health | null;
      page = await (await fetch(`http://127.0.0.1:${c.ctldPort}/debug/status`)).text();
      return h !== null && h.serving && h.alert === undefined && !/<b>ALERT<\/b>/.test(page);
    }, 120_000);
    const conn = await c.connect(0, 'lonely');
    try {
      await conn.query('INSERT INTO item VALUES (1)');
    } finally {
      await conn.end();
    }
  });
});
