// Reshard's write switch (customer/0 → -80,80-) fails, or its ctld is killed, right after each of
// its steps in turn, under a ledger of inserts through the gate: before the journal on customer/0's
// primary it is rolled back and customer/0 takes writes again; after it, a rerun (or the restarted
// ctld, alone) finishes it. Once settled, exactly one side serves the primary partition and takes
// writes, and the other has its query service disabled; no acknowledged insert is lost. Commands
// run on `cust2cust_reverse` settle the forward workflow's interrupted switch too. Real processes:
// `tessera ctld` children with the test hooks in their environment, `tessera ctl`, tablets reached
// over RPC and a gate on a file topology.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type TestCluster } from '../../harness/cluster.js';
import { startTestTablet } from '../../harness/tablet.js';
import { WriteLedger } from '../../harness/ledger.js';
import { waitFor } from '../../harness/wait.js';
import type { TabletProcess } from '../../../src/tablet/index.js';
import { startCtld, type Ctld } from '../ctld/session.js';
import { POINT_OF_NO_RETURN, SWITCH_STEPS, readSwitchRecord, stepIndex, type SwitchStep } from '../../../src/workflow/switch-journal.js';
import { describeSwitch } from '../../../src/workflow/switch-writes.js';
import { ctl, ok, type Run } from './switch-kit.js';

const SCHEMA = `CREATE TABLE customer (customer_id bigint NOT NULL, email varbinary(128), PRIMARY KEY (customer_id))`;
const VSCHEMA = { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { customer: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] } } };

/** Every step a Reshard switch runs (it has no sequences to initialize). */
const STEPS = SWITCH_STEPS.filter((s) => s !== 'sequences');
const beforeJournal = (s: SwitchStep) => stepIndex(s) < stepIndex(POINT_OF_NO_RETURN);
const SOURCES = ['0'];
const TARGETS = ['-80', '80-'];

describe('Reshard write switch: failure and ctld death after each step', { timeout: 1_800_000 }, () => {
  let c: TestCluster;
  let dir: string;
  let ledger: WriteLedger;
  const added: TabletProcess[] = [];

  const rs = (ctld: Ctld, action: string, ...extra: string[]): Promise<Run> => ctl(ctld, 'Reshard', '--workflow', 'cust2cust', '--target-keyspace', 'customer', action, ...extra);
  const primaryServing = async () => (await c.topo.getSrvKeyspace(c.cell, 'customer')).partitions.find((p) => p.served_type === 'primary')!.shard_references.map((r) => r.name).sort();
  const qsDisabled = async (shard: string) => (await c.topo.getShard('customer', shard)).value.tablet_controls.some((t) => t.tablet_type === 'primary' && t.disable_query_service);

  /**
   * The settled state: no switch record; `want` alone in the primary partition, primary-serving,
   * its query service on; the other side off in every way, a write targeted at it refused; the
   * ledger's inserts through the gate acknowledged.
   */
  const settledOn = async (want: 'sources' | 'targets', what: string) => {
    assert.equal(await readSwitchRecord(c.topo, 'customer', 'cust2cust'), null, `${what}: no switch record left`);
    const [serving, other] = want === 'sources' ? [SOURCES, TARGETS] : [TARGETS, SOURCES];
    assert.deepEqual(await primaryServing(), serving, `${what}: the primary partition`);
    for (const s of serving) {
      assert.equal((await c.topo.getShard('customer', s)).value.is_primary_serving, true, `${what}: ${s} is primary-serving`);
      assert.equal(await qsDisabled(s), false, `${what}: ${s} has its query service`);
    }
    for (const s of other) {
      assert.equal((await c.topo.getShard('customer', s)).value.is_primary_serving, false, `${what}: ${s} is not primary-serving`);
      assert.equal(await qsDisabled(s), true, `${what}: ${s} has query_service_disabled`);
    }
    await ledger.waitForAcks(5);
    const direct = await c.connect(`customer/${other[0]}`);
    try {
      await assert.rejects(direct.query("INSERT INTO customer (customer_id, email) VALUES (999999999, 'direct')"), /query_service_disabled|not serving|disables the query service/i, `${what}: a write targeted at ${other[0]} is refused`);
    } finally {
      await direct.end();
    }
  };

  before(async () => {
    c = await startCluster({ topo: 'file', network: true, keyspaces: [{ name: 'customer', shards: SOURCES, schema: SCHEMA, vschema: VSCHEMA }] });
    dir = c.topo.globalServerAddress;
    // The new shards overlap the serving one, so the topology creates them not serving.
    for (const shard of TARGETS) added.push(await startTestTablet({ cell: c.cell, keyspace: 'customer', shard, tabletType: 'primary', topo: c.topo }));
    const writer = await c.connect('customer');
    ledger = new WriteLedger({ write: async (id) => void (await writer.query(`INSERT INTO customer (customer_id, email) VALUES (${id}, 'ledger')`)) });
  });

  after(async () => {
    await ledger?.stop();
    await Promise.all(added.map((t) => t.stop({ stopMysql: true }).catch(() => undefined)));
    await c?.stop();
  });

  it('creates the workflow and moves the writes there and back once, under the ledger', async () => {
    const ctld = await startCtld('file', dir);
    try {
      ledger.start();
      await ledger.waitForAcks(5);
      await ok(rs(ctld, 'create', '--source-shards', '0', '--target-shards', '-80,80-', '--tablet-types', 'primary'), 'create');
      await waitFor('the copy to finish', async () => {
        const st = JSON.parse(await ok(rs(ctld, 'status', '--format', 'json'), 'status')) as { table_copy_state: Record<string, unknown>; shard_streams: Record<string, { streams: { status: string }[] }> };
        const streams = Object.values(st.shard_streams).flatMap((s) => s.streams);
        return streams.length === 2 && streams.every((s) => s.status === 'Running') && Object.keys(st.table_copy_state).length === 0;
      }, 120_000);
      const out = await ok(rs(ctld, 'switchtraffic'), 'switchtraffic');
      assert.match(out, /Write pause: \d+ ms/);
      await settledOn('targets', 'after the first switch');
      await ok(rs(ctld, 'reversetraffic'), 'reversetraffic');
      await settledOn('sources', 'after the first reverse');
      // Reads stay on the new shards from here on: each round below moves the writes alone.
      await ok(rs(ctld, 'switchtraffic', '--tablet-types', 'rdonly,replica'), 'switch reads');
    } finally {
      await ctld.stop();
    }
  });

  it('keeps the switch history, with the write pauses, in topo: a restarted ctld shows it', async () => {
    const ctld = await startCtld('file', dir);
    try {
      const shown = JSON.parse(await ok(rs(ctld, 'show'), 'show')) as { workflows: { name: string; switch_history?: { action: string; ok: boolean; write_pause_ms: number | null; tablet_types: string[] }[] }[] };
      const h = shown.workflows.find((w) => w.name === 'cust2cust')?.switch_history ?? [];
      assert.deepEqual(h.map((x) => [x.action, x.ok, x.tablet_types.join(',')]), [['switchtraffic', true, 'rdonly,replica'], ['reversetraffic', true, ''], ['switchtraffic', true, '']], 'newest first');
      assert.equal(h[0].write_pause_ms, null, 'a read switch has no write pause');
      assert.ok(typeof h[1].write_pause_ms === 'number' && typeof h[2].write_pause_ms === 'number', 'both write switches report their pause');
    } finally {
      await ctld.stop();
    }
  });

  it('fails after each step: rolled back before the journal, finished by a rerun after it', async () => {
    for (const step of STEPS) {
      const ctld = await startCtld('file', dir, { TESSERA_TEST_FAIL_AFTER_STEP: step });
      try {
        const r = await rs(ctld, 'switchtraffic', '--tablet-types', 'primary');
        assert.notEqual(r.code, 0, `switchtraffic failing after ${step} exits non-zero`);
        if (beforeJournal(step)) {
          assert.match(r.stderr, /failed at step ".*": test hook: the switch fails after step .*; rolled back: .*customer\/0 take writes again/, step);
          await settledOn('sources', `failure after ${step}`);
        } else {
          assert.match(r.stderr, /after the point of no return \(the journal is written on the customer\/0 primaries\).*the switch goes forward/, step);
          const shown = JSON.parse(await ok(rs(ctld, 'show'), 'show')) as { workflows: { name: string; switch_in_progress?: { kind: string; step: string; outcome: string; running: boolean } }[] };
          const sw = shown.workflows.find((w) => w.name === 'cust2cust')?.switch_in_progress;
          assert.deepEqual(sw && { kind: sw.kind, step: sw.step, outcome: sw.outcome, running: sw.running }, { kind: 'shards', step, outcome: step === 'journal' ? 'journal decides' : 'forward', running: false }, `show after ${step}`);
          const again = await ok(rs(ctld, 'switchtraffic', '--tablet-types', 'primary'), `the rerun after ${step}`);
          assert.match(again, /SwitchTraffic was successful .*an interrupted switch at step/, step);
          await settledOn('targets', `rerun after a failure after ${step}`);
          await ok(rs(ctld, 'reversetraffic', '--tablet-types', 'primary'), `reversetraffic after ${step}`);
          await settledOn('sources', `reverse after ${step}`);
        }
      } finally {
        await ctld.stop();
      }
    }
  });

  it('is killed after each step: the restarted ctld rolls back before the journal and finishes after it', async () => {
    for (const step of STEPS) {
      const doomed = await startCtld('file', dir, { TESSERA_TEST_KILL_AFTER_STEP: step });
      const r = await rs(doomed, 'switchtraffic', '--tablet-types', 'primary');
      assert.notEqual(r.code, 0, `switchtraffic of a ctld killed after ${step}`);
      await doomed.exited;
      const sw = await describeSwitch(c.topo, 'customer', 'cust2cust');
      assert.ok(sw, `a switch record after a kill after ${step}`);
      assert.deepEqual([sw.json.step, sw.json.running, sw.json.outcome], [step, false, beforeJournal(step) ? 'back' : step === 'journal' ? 'journal decides' : 'forward'], `the record after a kill after ${step}`);
      const ctld = await startCtld('file', dir);
      try {
        await waitFor(`the restarted ctld to settle the switch killed after ${step}`, async () => (await readSwitchRecord(c.topo, 'customer', 'cust2cust')) === null, 60_000);
        if (beforeJournal(step)) await settledOn('sources', `kill after ${step}`);
        else {
          await settledOn('targets', `kill after ${step}`);
          await ok(rs(ctld, 'reversetraffic', '--tablet-types', 'primary'), `reversetraffic after the kill after ${step}`);
          await settledOn('sources', `reverse after the kill after ${step}`);
        }
      } finally {
        await ctld.stop();
      }
    }
  });

  it('a command on cust2cust_reverse settles the forward workflow’s interrupted switch, either way', async () => {
    // After the journal: the failed switch's ctld runs on; Workflow start of the reverse finishes it.
    const failing = await startCtld('file', dir, { TESSERA_TEST_FAIL_AFTER_STEP: 'route' });
    try {
      assert.notEqual((await rs(failing, 'switchtraffic', '--tablet-types', 'primary')).code, 0);
      assert.ok(await readSwitchRecord(c.topo, 'customer', 'cust2cust'), 'the record stays after a failure past the journal');
      const st = JSON.parse(await ok(ctl(failing, 'Workflow', '--keyspace', 'customer', 'status', '--workflow', 'cust2cust_reverse', '--format', 'json'), 'status of the reverse')) as { switch_in_progress?: { step: string } };
      assert.equal(st.switch_in_progress?.step, 'route', 'status of the reverse names the forward switch');
      await ok(ctl(failing, 'Workflow', '--keyspace', 'customer', 'start', '--workflow', 'cust2cust_reverse'), 'Workflow start of the reverse');
      await settledOn('targets', 'Workflow start of cust2cust_reverse after a failure after route');
    } finally {
      await failing.stop();
    }
    // Before the journal: a ctld already running (its start-up recovery long done) gets a refused
    // command on the reverse, and settles the switch another ctld died in before refusing.
    const survivor = await startCtld('file', dir);
    try {
      await ok(rs(survivor, 'reversetraffic', '--tablet-types', 'primary'), 'reversetraffic');
      await settledOn('sources', 'reverse');
      const doomed = await startCtld('file', dir, { TESSERA_TEST_KILL_AFTER_STEP: 'catch-up' });
      assert.notEqual((await rs(doomed, 'switchtraffic', '--tablet-types', 'primary')).code, 0);
      await doomed.exited;
      assert.ok(await readSwitchRecord(c.topo, 'customer', 'cust2cust'), 'the dead ctld left its record');
      const refused = await ctl(survivor, 'Reshard', '--workflow', 'cust2cust_reverse', '--target-keyspace', 'customer', 'switchtraffic');
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /cust2cust_reverse is a reverse workflow; run switchtraffic on cust2cust/);
      await settledOn('sources', 'a refused switchtraffic of cust2cust_reverse after a kill after catch-up');
    } finally {
      await survivor.stop();
    }
  });

  it('lost no acknowledged insert, and both sides hold the same rows', async () => {
    await ledger.stop();
    console.log(`ledger: ${ledger.acknowledged.length} inserts acknowledged, ${ledger.failedTotal} failed (${[...new Set(ledger.failed.map((f) => f.error.slice(0, 60)))].join(' | ')})`);
    const ids = async (shards: readonly string[]) => {
      const out: number[] = [];
      for (const shard of shards) {
        const t = shard === '0' ? c.shard('customer', '0').primary : added[TARGETS.indexOf(shard)];
        out.push(...(await t.manager.executeFetchAsDba('SELECT customer_id FROM customer', { maxRows: 1_000_000 })).rows.map((r) => Number(r[0])));
      }
      return out.sort((a, b) => a - b);
    };
    assert.deepEqual(ledger.missing(await ids(SOURCES)), [], 'acknowledged inserts missing on customer/0, which serves');
    // The forward workflow carries everything to the new shards.
    // Under CI's load the catch-up after the kills can take a while; if it never comes, the
    // failure says how far apart the sides are and what the streams say.
    try {
      await waitFor('-80,80- to hold what customer/0 holds', async () => JSON.stringify(await ids(TARGETS)) === JSON.stringify(await ids(SOURCES)), 180_000);
    } catch (err) {
      const [src, dst] = [await ids(SOURCES), await ids(TARGETS)];
      const have = new Set(dst);
      const streams = await Promise.all(
        added.map((t) => t.manager.executeFetchAsDba("SELECT workflow, state, pos, message FROM _vt.vreplication", { maxRows: 100 }).then((r) => JSON.stringify(r.rows), (e: Error) => e.message)),
      );
      throw new Error(`${(err as Error).message}: customer/0 has ${src.length} rows, -80,80- ${dst.length}; first missing ${JSON.stringify(src.filter((x) => !have.has(x)).slice(0, 5))}; streams on the targets: ${streams.join(' ; ')}`);
    }
  });
});
