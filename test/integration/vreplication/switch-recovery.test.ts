// The write switch of MoveTables fails, or its ctld is killed, right after each of its steps in
// turn, under a ledger of inserts through the gate: before the journal on the source primaries it
// is rolled back and the source takes writes; after it, a rerun (or the restarted ctld, alone)
// finishes it. Once settled, exactly one side takes writes — the one the routing rules name — and
// the other refuses them; no acknowledged insert is lost. A lock removed from topo mid-switch fails
// the switch before the journal. Real processes: `tessera ctld` children with the test hooks in
// their environment, `tessera ctl`, tablets and a gate on a file topology.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type mysql from 'mysql2/promise';
import { startCluster, type TestCluster } from '../../harness/cluster.js';
import { WriteLedger } from '../../harness/ledger.js';
import { waitFor } from '../../harness/wait.js';
import { startCtld, type Ctld } from '../ctld/session.js';
import { POINT_OF_NO_RETURN, SWITCH_STEPS, readSwitchRecord, stepIndex, type SwitchStep } from '../../../src/workflow/switch-journal.js';
import { describeSwitch } from '../../../src/workflow/switch-writes.js';
import { ctl as ctlAt, ok, type Run } from './switch-kit.js';

const SCHEMA = `
CREATE TABLE customer (customer_id bigint NOT NULL AUTO_INCREMENT, email varbinary(128), PRIMARY KEY (customer_id));
CREATE TABLE corder (order_id bigint NOT NULL AUTO_INCREMENT, customer_id bigint, sku varbinary(128), price bigint, PRIMARY KEY (order_id))`;

/** Every step: the switches below run with --initialize-target-sequences (nothing to set on an unsharded target, but the step runs). */
const STEPS = [...SWITCH_STEPS];
const beforeJournal = (s: SwitchStep) => stepIndex(s) < stepIndex(POINT_OF_NO_RETURN);

describe('MoveTables write switch: failure and ctld death after each step', { timeout: 1_200_000 }, () => {
  let c: TestCluster;
  let dir: string;
  let ledger: WriteLedger;
  let gate: mysql.Connection;

  const mt = (ctld: Ctld, action: string, ...extra: string[]): Promise<Run> => ctlAt(ctld, 'MoveTables', '--workflow', 'commerce2customer', '--target-keyspace', 'customer', action, ...extra);
  /** Where the routing rules send writes of `customer`. */
  const servingKeyspace = async () => ((await c.topo.getRoutingRules()).rules.find((r) => r.from_table === 'customer')?.to_tables[0] ?? '').split('.')[0];

  /**
   * The settled state: no switch record, writes routed to `want`, the ledger's inserts (through
   * the gate) acknowledged there, and a write straight to the other side's primary denied.
   */
  const settledOn = async (want: 'commerce' | 'customer', what: string) => {
    assert.equal(await readSwitchRecord(c.topo, 'customer', 'commerce2customer'), null, `${what}: no switch record left`);
    assert.equal(await servingKeyspace(), want, `${what}: writes routed to ${want}`);
    await ledger.waitForAcks(5);
    const other = want === 'commerce' ? 'customer' : 'commerce';
    const denied = (await c.topo.getShard(other, '0')).value.tablet_controls.find((t) => t.tablet_type === 'primary')?.denied_tables ?? [];
    assert.deepEqual([...denied].sort(), ['corder', 'customer'], `${what}: ${other} denies the tables`);
    const servingDenied = (await c.topo.getShard(want, '0')).value.tablet_controls.find((t) => t.tablet_type === 'primary')?.denied_tables ?? [];
    assert.deepEqual(servingDenied, [], `${what}: ${want} does not deny them`);
    const direct = await c.connect(`${other}/0`);
    try {
      await assert.rejects(direct.query("INSERT INTO customer (customer_id, email) VALUES (999999999, 'direct')"), /denied/, `${what}: a write straight to ${other} is refused`);
    } finally {
      await direct.end();
    }
  };

  before(async () => {
    c = await startCluster({
      topo: 'file',
      keyspaces: [
        { name: 'commerce', shards: ['0'], schema: SCHEMA, vschema: { tables: { customer: {}, corder: {} } } },
        { name: 'customer', shards: ['0'] },
      ],
    });
    dir = c.topo.globalServerAddress;
    gate = await c.connect();
    await gate.query("INSERT INTO corder (order_id, customer_id, sku, price) VALUES (1, 1, 'SKU-1', 1)");
    const writer = await c.connect();
    ledger = new WriteLedger({ write: async (id) => void (await writer.query(`INSERT INTO customer (customer_id, email) VALUES (${id}, 'ledger')`)) });
  });

  after(async () => {
    await ledger?.stop();
    await gate?.end().catch(() => undefined);
    await c?.stop();
  });

  it('creates the workflow and moves the writes there and back once, under the ledger', async () => {
    const ctld = await startCtld('file', dir);
    try {
      ledger.start();
      await ok(mt(ctld, 'create', '--source-keyspace', 'commerce', '--tables', 'customer,corder'), 'create');
      await waitFor('the copy to finish', async () => {
        const st = JSON.parse(await ok(mt(ctld, 'status', '--format', 'json'), 'status')) as { table_copy_state: Record<string, unknown>; shard_streams: Record<string, { streams: { status: string }[] }> };
        return Object.values(st.shard_streams).flatMap((s) => s.streams).every((s) => s.status === 'Running') && Object.keys(st.table_copy_state).length === 0;
      }, 120_000);
      await ok(mt(ctld, 'switchtraffic'), 'switchtraffic');
      await settledOn('customer', 'after the first switch');
      await ok(mt(ctld, 'reversetraffic'), 'reversetraffic');
      await settledOn('commerce', 'after the first reverse');
    } finally {
      await ctld.stop();
    }
  });

  it('fails after each step: rolled back before the journal, finished by a rerun after it', async () => {
    for (const step of STEPS) {
      const ctld = await startCtld('file', dir, { TESSERA_TEST_FAIL_AFTER_STEP: step });
      try {
        const r = await mt(ctld, 'switchtraffic', '--initialize-target-sequences');
        assert.notEqual(r.code, 0, `switchtraffic failing after ${step} exits non-zero`);
        if (beforeJournal(step)) {
          assert.match(r.stderr, /failed at step ".*": test hook: the switch fails after step .*; rolled back: /, step);
          assert.match(r.stderr, /commerce takes writes to corder,customer again/, step);
          await settledOn('commerce', `failure after ${step}`);
        } else {
          assert.match(r.stderr, /after the point of no return \(the journal is written on the commerce primaries\).*the switch goes forward/, step);
          const shown = JSON.parse(await ok(mt(ctld, 'show'), 'show')) as { workflows: { name: string; switch_in_progress?: { step: string; outcome: string; running: boolean } }[] };
          const sw = shown.workflows.find((w) => w.name === 'commerce2customer')?.switch_in_progress;
          assert.deepEqual(sw && { step: sw.step, outcome: sw.outcome, running: sw.running }, { step, outcome: step === 'journal' ? 'journal decides' : 'forward', running: false }, `show after ${step}`);
          const again = await ok(mt(ctld, 'switchtraffic'), `the rerun after ${step}`);
          assert.match(again, /SwitchTraffic was successful .*an interrupted switch at step/, step);
          await settledOn('customer', `rerun after a failure after ${step}`);
          await ok(mt(ctld, 'reversetraffic'), `reversetraffic after ${step}`);
          await settledOn('commerce', `reverse after ${step}`);
        }
      } finally {
        await ctld.stop();
      }
    }
  });

  it('is killed after each step: the restarted ctld rolls back before the journal and finishes after it', async () => {
    for (const step of STEPS) {
      const doomed = await startCtld('file', dir, { TESSERA_TEST_KILL_AFTER_STEP: step });
      const r = await mt(doomed, 'switchtraffic', '--initialize-target-sequences');
      assert.notEqual(r.code, 0, `switchtraffic of a ctld killed after ${step}`);
      await doomed.exited;
      // What show would say, read from topo: interrupted, and the rule that will settle it.
      const sw = await describeSwitch(c.topo, 'customer', 'commerce2customer');
      assert.ok(sw, `a switch record after a kill after ${step}`);
      assert.equal(sw.json.step, step);
      assert.equal(sw.json.running, false);
      assert.equal(sw.json.outcome, beforeJournal(step) ? 'back' : step === 'journal' ? 'journal decides' : 'forward');
      // The next ctld settles it on its own, with no command.
      const ctld = await startCtld('file', dir);
      try {
        await waitFor(`the restarted ctld to settle the switch killed after ${step}`, async () => (await readSwitchRecord(c.topo, 'customer', 'commerce2customer')) === null, 60_000);
        if (beforeJournal(step)) await settledOn('commerce', `kill after ${step}`);
        else {
          await settledOn('customer', `kill after ${step}`);
          await ok(mt(ctld, 'reversetraffic'), `reversetraffic after the kill after ${step}`);
          await settledOn('commerce', `reverse after the kill after ${step}`);
        }
      } finally {
        await ctld.stop();
      }
    }
  });

  it('fails before the journal when its lock is removed from topo mid-switch', async () => {
    const ctld = await startCtld('file', dir, { TESSERA_TEST_LOSE_LOCK_AFTER_STEP: 'positions' });
    try {
      const r = await mt(ctld, 'switchtraffic');
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /a lock of the switch could not be renewed: .*no longer held.*; rolled back: .*commerce takes writes to corder,customer again/);
      await settledOn('commerce', 'lost lock');
      // And the next switch, with its locks, goes through.
      await ok(mt(ctld, 'switchtraffic'), 'switchtraffic after the lost lock');
      await settledOn('customer', 'switch after the lost lock');
    } finally {
      await ctld.stop();
    }
  });

  it('a command on commerce2customer_reverse settles the forward workflow’s interrupted switch, either way', async () => {
    // Before the journal: ctld `survivor` runs (its start-up recovery long done) while another
    // ctld dies mid-switch; a Workflow command on the reverse rolls the switch back first.
    const survivor = await startCtld('file', dir);
    try {
      await ok(mt(survivor, 'reversetraffic'), 'reversetraffic');
      await settledOn('commerce', 'reverse');
      const doomed = await startCtld('file', dir, { TESSERA_TEST_KILL_AFTER_STEP: 'create-reverse' });
      assert.notEqual((await mt(doomed, 'switchtraffic')).code, 0);
      await doomed.exited;
      assert.ok(await readSwitchRecord(c.topo, 'customer', 'commerce2customer'), 'the dead ctld left its record');
      const st = JSON.parse(await ok(ctlAt(survivor, 'MoveTables', '--workflow', 'commerce2customer_reverse', '--target-keyspace', 'commerce', 'status', '--format', 'json'), 'status of the reverse')) as { switch_in_progress?: { step: string; outcome: string } };
      assert.deepEqual(st.switch_in_progress && [st.switch_in_progress.step, st.switch_in_progress.outcome], ['create-reverse', 'back'], 'status of the reverse names the forward switch');
      await ok(ctlAt(survivor, 'Workflow', '--keyspace', 'commerce', 'stop', '--workflow', 'commerce2customer_reverse'), 'Workflow stop of the reverse');
      await settledOn('commerce', 'Workflow stop of commerce2customer_reverse after a kill after create-reverse');
    } finally {
      await survivor.stop();
    }
    // After the journal: a cancel of the reverse is refused (it would drop the serving tables),
    // but the forward switch is finished before the refusal.
    const failing = await startCtld('file', dir, { TESSERA_TEST_FAIL_AFTER_STEP: 'start-reverse' });
    try {
      assert.notEqual((await mt(failing, 'switchtraffic')).code, 0);
      assert.ok(await readSwitchRecord(c.topo, 'customer', 'commerce2customer'), 'the record stays after a failure past the journal');
      const r = await ctlAt(failing, 'MoveTables', '--workflow', 'commerce2customer_reverse', '--target-keyspace', 'commerce', 'cancel');
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /commerce2customer_reverse is a reverse workflow/);
      await settledOn('customer', 'a refused cancel of commerce2customer_reverse after a failure after start-reverse');
    } finally {
      await failing.stop();
    }
  });

  it('lost no acknowledged insert, and both sides hold the same rows', async () => {
    await ledger.stop();
    console.log(`ledger: ${ledger.acknowledged.length} inserts acknowledged, ${ledger.failedTotal} failed (${[...new Set(ledger.failed.map((f) => f.error.slice(0, 60)))].join(' | ')})`);
    const ids = async (ks: string) => (await c.shardRows(ks, '0', 'SELECT customer_id FROM customer ORDER BY customer_id')).map((r) => Number(r.customer_id));
    assert.deepEqual(ledger.missing(await ids('customer')), [], 'acknowledged inserts missing on the serving side');
    // The reverse workflow carries everything back to commerce.
    await waitFor('commerce to hold what customer holds', async () => JSON.stringify(await ids('commerce')) === JSON.stringify(await ids('customer')), 60_000);
  });
});
