// The chaos suite's scenarios and their runner. One distributed cluster (two gates, ctld, etcd, a
// source keyspace `src` and a target keyspace `dst`, a primary and a replica per shard, each its
// own process) serves every run. A run: a fresh table on `src` with rows in it, the write ledger
// inserting through both gates (and, for some scenarios, sysbench oltp_write_only through both
// gates too), often a MoveTables `src` → `dst` of that table, and one fault at a random moment:
// mid-copy, mid-catch-up, at a random step of SwitchTraffic or ReverseTraffic, mid-VDiff,
// mid-PlannedReparentShard, or under plain write load (with the keyspace's durability policy
// `none` or `semi_sync`). Then, once everything the fault took down is back (the supervisor
// restarts processes, tablets restart MariaDB), the checks: every acknowledged row is there with
// its value and none twice, the workflow is running (or finished) and VDiff finds no difference
// (a VDiff the fault interrupted completes, resumed if need be, and is clean), and no shard is
// left with denied tables, a disabled query service, or other than one serving primary.
//
// The seed comes first in the output (`# chaos seed N`); TESSERA_CHAOS_SEED=N replays the same
// choices (which process, which phase, which moment), TESSERA_CHAOS_SCENARIOS=a,b runs only those.
import fs from 'node:fs';
import path from 'node:path';
import { DistCluster } from './cluster.js';
import type { ProcessStatusRow } from '../../src/cluster/index.js';
import { FaultInjector, Rng, TcpProxy } from './faults.js';
import { checkRows, connectAnyGate, prepareSysbench, startLedgerLoad, startSysbench, type LedgerLoad, type SysbenchLoad, type SysbenchResult } from './load.js';
import { retry, waitFor, waitSettled } from '../harness/wait.js';
import { tabletAliasString, parseTabletAlias, type Json } from '../../src/topo/index.js';
import { RpcTabletManagerClient } from '../../src/tablet/index.js';

export const SRC = 'src';
export const DST = 'dst';
/** The target's streams retry this soon after an error (--vreplication-retry-delay). */
export const RETRY_DELAY_MS = 1_000;

/**
 * When the fault lands: mid-copy or mid-catch-up of a MoveTables (picked at random), at a random
 * step of its SwitchTraffic or of its ReverseTraffic (after a full switch), while a VDiff of it
 * runs, while a PlannedReparentShard of the source shard runs, or under plain write load.
 */
export type Phase = 'copy' | 'catch-up' | 'switch' | 'reverse' | 'vdiff' | 'prs' | 'none';

export interface RunContext {
  readonly c: DistCluster;
  readonly proxy: TcpProxy;
  readonly rng: Rng;
  readonly faults: FaultInjector;
  readonly table: string;
  readonly workflow: string | null;
  readonly phase: Phase;
  readonly log: (line: string) => void;
  /** What the fault started and the checks follow up (the VDiff it interrupted). */
  readonly started: { vdiffUuid?: string };
}

export interface Scenario {
  readonly name: string;
  /** With a MoveTables of the run's table (the fault lands mid-copy or mid-catch-up). */
  readonly workflow: boolean;
  /**
   * When the fault lands instead: 'switch' or 'reverse' (the fault runs the command and lands at a
   * random step of it), 'vdiff' (the fault starts a VDiff and lands while it runs), 'prs' (the
   * fault starts a PlannedReparentShard of the source shard and lands while it runs).
   */
  readonly phase?: Extract<Phase, 'switch' | 'reverse' | 'vdiff' | 'prs'>;
  /** The source keyspace's durability policy for the run (SetKeyspaceDurabilityPolicy; `none` after). */
  readonly durability?: 'none' | 'semi_sync';
  /** sysbench oltp_write_only through both gates besides the ledger; its errors are counted. */
  readonly sysbench?: boolean;
  /** Injects the fault; resolves once it is over (a kill at once, a freeze or a cut after it ends). */
  fault(ctx: RunContext): Promise<string>;
}

const kill =
  (what: Parameters<FaultInjector['kill']>[0]) =>
  async (x: RunContext): Promise<string> => {
    const p = await x.faults.kill(what);
    return `kill -9 ${p.name} (pid ${p.pid}${p.alias ? `, ${p.alias}` : ''})`;
  };

export const SCENARIOS: readonly Scenario[] = [
  { name: 'kill -9 a gate', workflow: true, fault: async (x) => kill({ role: 'gate', gate: x.rng.int(0, 1) })(x) },
  { name: 'kill -9 the source tablet', workflow: true, fault: kill({ role: 'tablet', keyspace: SRC, tabletType: 'primary' }) },
  { name: 'kill -9 the target tablet', workflow: true, fault: kill({ role: 'tablet', keyspace: DST, tabletType: 'primary' }) },
  { name: 'kill -9 the source MariaDB', workflow: true, fault: kill({ role: 'mariadb', keyspace: SRC, tabletType: 'primary' }) },
  { name: 'kill -9 the target MariaDB', workflow: true, fault: kill({ role: 'mariadb', keyspace: DST, tabletType: 'primary' }) },
  { name: 'kill -9 ctld', workflow: true, fault: kill({ role: 'ctld' }) },
  { name: 'kill -9 etcd', workflow: true, fault: kill({ role: 'etcd' }) },
  {
    name: 'freeze the source tablet (SIGSTOP 3 s)',
    workflow: true,
    fault: async (x) => {
      const p = await x.faults.freeze({ role: 'tablet', keyspace: SRC, tabletType: 'primary' }, 3_000);
      return `SIGSTOP/SIGCONT ${p.name} for 3000 ms`;
    },
  },
  {
    name: 'cut target→source link > retry delay',
    workflow: true,
    fault: async (x) => {
      const ms = RETRY_DELAY_MS * 3;
      x.proxy.cut(ms);
      await new Promise((r) => setTimeout(r, ms));
      return `cut the proxy in front of the source tablet's RPC port for ${ms} ms`;
    },
  },
  {
    name: 'kill -9 ctld mid-SwitchTraffic',
    workflow: true,
    phase: 'switch',
    fault: async (x) => killCtldDuring(x, 'switchtraffic'),
  },
  {
    name: 'kill -9 ctld mid-ReverseTraffic',
    workflow: true,
    phase: 'reverse',
    fault: async (x) => killCtldDuring(x, 'reversetraffic'),
  },
  {
    name: 'kill -9 a tablet or MariaDB mid-VDiff',
    workflow: true,
    phase: 'vdiff',
    fault: async (x) => {
      // VDiff runs on the target's primary and reads the source's: either dies while it compares.
      const target = x.rng.pick([
        { role: 'tablet', keyspace: DST, tabletType: 'primary' },
        { role: 'mariadb', keyspace: DST, tabletType: 'primary' },
        { role: 'tablet', keyspace: SRC, tabletType: 'primary' },
        { role: 'mariadb', keyspace: SRC, tabletType: 'primary' },
      ] as const);
      const { UUID } = (await x.c.call('VDiff', { action: 'create', workflow: x.workflow!, target_keyspace: DST, format: 'json' })) as { UUID: string };
      x.started.vdiffUuid = UUID;
      // Once it compares (the table holds VDIFF_PREFILL_ROWS: a few seconds), at a random moment.
      await waitFor('the VDiff to start', async () => (await vdiffSummary(x.c, x.workflow!, DST, UUID)).State !== 'pending', 30_000);
      await new Promise((r) => setTimeout(r, x.rng.int(0, 1_000)));
      const state = await vdiffSummary(x.c, x.workflow!, DST, UUID).then((s) => s.State, (err: Error) => `unknown (${err.message.slice(0, 100)})`);
      const p = await x.faults.kill(target);
      return `kill -9 ${p.name} (pid ${p.pid}${p.alias ? `, ${p.alias}` : ''}) during VDiff ${UUID} (${state} at the kill)`;
    },
  },
  {
    name: 'kill -9 a primary tablet or MariaDB mid-PlannedReparentShard',
    workflow: false,
    phase: 'prs',
    fault: async (x) => {
      // The shard's two tablets: the primary being demoted, the replica being promoted; either's
      // tablet or MariaDB dies at a random moment of the reparent.
      const [old] = await x.c.find('tablet', { keyspace: SRC, tabletType: 'primary' });
      const [next] = await x.c.find('tablet', { keyspace: SRC, tabletType: 'replica' });
      const victim = x.rng.pick([old, next]);
      const role = x.rng.pick(['tablet', 'mariadb'] as const);
      const name = role === 'tablet' ? victim.name : `mariadb-${victim.name.split('-')[1]}`;
      const reparent = x.c.call('PlannedReparentShard', { keyspace_shard: `${SRC}/0`, new_primary: next.alias! }, 0).then(
        () => 'finished before the kill',
        (err: Error) => `failed: ${err.message.split('\n')[0].slice(0, 200)}`,
      );
      // A reparent takes well under a second on an idle machine: the kill lands within it, or soon after.
      await new Promise((r) => setTimeout(r, x.rng.int(0, 600)));
      const [p] = (await x.c.find(role, { name })).filter((q) => q.alive && q.pid !== null);
      if (!p) throw new Error(`no live ${name} to kill`);
      process.kill(p.pid!, 'SIGKILL');
      return `kill -9 ${p.name} (pid ${p.pid}, the ${victim === old ? 'old' : 'new'} primary's) during PlannedReparentShard ${old.alias} → ${next.alias} (the command ${await reparent})`;
    },
  },
  {
    name: "a primary's MariaDB crashes under writes, durability none",
    workflow: false,
    durability: 'none',
    fault: kill({ role: 'mariadb', keyspace: SRC, tabletType: 'primary' }),
  },
  {
    name: "a primary's MariaDB crashes under writes, durability semi_sync",
    workflow: false,
    durability: 'semi_sync',
    fault: kill({ role: 'mariadb', keyspace: SRC, tabletType: 'primary' }),
  },
  { name: 'kill -9 a gate under ledger and sysbench load (clients move to the other)', workflow: false, sysbench: true, fault: kill({ role: 'gate', gate: 0 }) },
  // Appended, so the scenarios before keep their index (and so their runs' seeds).
  {
    name: 'kill -9 ctld mid-PlannedReparentShard',
    workflow: false,
    phase: 'prs',
    fault: async (x) => {
      // ctld dies at a random moment of the reparent — before the demotion, between the demotion
      // and the promotion, between the promotion and the shard record write, or after —; its
      // supervisor starts it again, and the tablets' shard sync (src/tablet/shard-sync.ts)
      // finishes or undoes what it left.
      const [old] = await x.c.find('tablet', { keyspace: SRC, tabletType: 'primary' });
      const [next] = await x.c.find('tablet', { keyspace: SRC, tabletType: 'replica' });
      // When: a random moment (under load mostly before the demotion), as soon as the old primary
      // reports not serving (its demotion under way: ctld then waits for the new one to catch up
      // and promotes it), or as soon as the new primary's record says primary (promoted: the shard
      // record write, the repointing or the journal next).
      const moment = x.rng.pick(['random', 'at the demotion', 'at the promotion'] as const);
      const delayMs = x.rng.int(0, 600);
      let done = false;
      const reparent = x.c.call('PlannedReparentShard', { keyspace_shard: `${SRC}/0`, new_primary: next.alias! }, 0).then(
        () => 'finished before the kill',
        (err: Error) => `failed: ${err.message.split('\n')[0].slice(0, 200)}`,
      ).finally(() => (done = true));
      const tmc = new RpcTabletManagerClient(x.c.topo);
      try {
        if (moment === 'random') await new Promise((r) => setTimeout(r, delayMs));
        else {
          const deadline = Date.now() + 30_000;
          const reached = async (): Promise<boolean> =>
            moment === 'at the demotion'
              ? !(await tmc.getHealth(old.alias!, {}, { timeoutMs: 2_000 })).serving
              : (await x.c.topo.getTablet(parseTabletAlias(next.alias!))).value.type === 'primary';
          while (!done && Date.now() < deadline && !(await reached().catch(() => false))) await new Promise((r) => setTimeout(r, 5));
        }
      } finally {
        tmc.close();
      }
      const p = await x.faults.kill({ role: 'ctld' });
      return `kill -9 ${p.name} (pid ${p.pid}) ${moment === 'random' ? `${delayMs} ms into` : moment + ' of'} PlannedReparentShard ${old.alias} → ${next.alias} (the command ${await reparent})`;
    },
  },
];

/**
 * Runs SwitchTraffic or ReverseTraffic on ctld (sent in-process: no client to start first) and
 * kills ctld at a random moment of it, so at a random step.
 */
async function killCtldDuring(x: RunContext, action: 'switchtraffic' | 'reversetraffic'): Promise<string> {
  const running = x.c.call('MoveTables', { action, target_keyspace: DST, workflow: x.workflow! }, 0).then(
    () => 'finished before the kill',
    (err: Error) => `failed: ${err.message.split('\n')[0].slice(0, 200)}`,
  );
  await new Promise((r) => setTimeout(r, x.rng.int(0, 2_500)));
  const p = await x.faults.kill({ role: 'ctld' });
  return `kill -9 ${p.name} (pid ${p.pid}) during ${action === 'switchtraffic' ? 'SwitchTraffic' : 'ReverseTraffic'} (the command ${await running})`;
}

interface VDiffSummary {
  State: string;
  HasMismatch: boolean;
  Errors?: unknown;
}

async function vdiffSummary(c: DistCluster, workflow: string, keyspace: string, uuid: string): Promise<VDiffSummary> {
  return (await c.call('VDiff', { action: 'show', workflow, target_keyspace: keyspace, uuid, format: 'json' })) as unknown as VDiffSummary;
}

/**
 * Waits for VDiff `uuid` to complete; one that stopped or failed (its tablet died under it) is
 * resumed, as an operator would. Returns its last summary and how often it was resumed.
 */
async function finishVDiff(c: DistCluster, workflow: string, keyspace: string, uuid: string, timeoutMs = 180_000): Promise<{ summary: VDiffSummary; resumed: number }> {
  let summary: VDiffSummary = { State: 'pending', HasMismatch: false };
  let resumed = 0;
  await waitSettled(`VDiff ${uuid} to complete`, async () => {
    summary = await vdiffSummary(c, workflow, keyspace, uuid);
    if (summary.State === 'completed') return true;
    if ((summary.State === 'error' || summary.State === 'stopped') && resumed < 5) {
      resumed++;
      await c.call('VDiff', { action: 'resume', workflow, target_keyspace: keyspace, uuid, format: 'json' });
    }
    return false;
  }, timeoutMs).catch((err: Error) => {
    throw new Error(`${err.message}: ${JSON.stringify(summary)} (resumed ${resumed} time(s))`);
  });
  return { summary, resumed };
}

export interface RunResult {
  readonly scenario: string;
  readonly seed: number;
  readonly phase: Phase;
  readonly fault: string;
  readonly acknowledged: number;
  readonly lost: number;
  readonly wrong: number;
  readonly duplicated: number;
  /** Longest time without an acknowledged write from the fault until the load stopped. */
  readonly unavailableMs: number;
  readonly failedWrites: number;
  /** sysbench oltp_write_only's transactions and errors, when the scenario ran it. */
  readonly sysbench?: SysbenchResult;
  /** A few of the failed writes' errors, distinct. */
  readonly writeErrors: readonly string[];
  readonly problems: readonly string[];
  readonly durationMs: number;
}

export interface ChaosCluster {
  readonly c: DistCluster;
  /** In front of the source primary's RPC port (see `routeSourceThroughProxy`). */
  readonly proxy: TcpProxy;
}

export async function startChaosCluster(): Promise<ChaosCluster> {
  const c = await DistCluster.up({
    name: 'chaos',
    gates: 2,
    mysqlRestartTimeoutMs: 60_000,
    tabletFlags: { 'vreplication-retry-delay': `${RETRY_DELAY_MS / 1000}s`, 'vreplication-copy-rows-per-second': '1500' },
    keyspaces: [
      { name: SRC, shards: ['0'], replicas: 1, schema: 'CREATE TABLE seed (id bigint NOT NULL PRIMARY KEY)', vschema: { tables: { seed: {} } } },
      { name: DST, shards: ['0'], replicas: 1, schema: 'CREATE TABLE seed (id bigint NOT NULL PRIMARY KEY)', vschema: { tables: { seed: {} } } },
    ],
  });
  const proxy = new TcpProxy('127.0.0.1', 0);
  await proxy.listen();
  return { c, proxy };
}

/**
 * The source primary's RPC port, as the topology publishes it, goes through the proxy: the target's
 * new streams (and the gates) reach the source tablet through it, so the link can be cut. A tablet
 * that restarted published its own port again: done before every run.
 */
export async function routeSourceThroughProxy({ c, proxy }: ChaosCluster): Promise<void> {
  let src: ProcessStatusRow | undefined;
  await waitFor('the source primary in the status', async () => {
    [src] = await c.find('tablet', { keyspace: SRC, tabletType: 'primary' });
    return src !== undefined && src.ports.grpc !== undefined;
  }, 60_000);
  if (!src) return;
  if (src.ports.grpc === proxy.port) return;
  // The tablet routed through the proxy before — an earlier run's source primary that a
  // reparent made a replica without restarting it — gets its own port back: the proxy is about to
  // forward to another tablet, and calls meant for it (a reparent promoting it, a gate) must not
  // reach that one. (They did: a PlannedReparentShard's promotion of one tablet ran on the other,
  // and the shard record then named a tablet recorded replica.)
  const previous = proxy.targetPort;
  for (const t of await c.find('tablet', { keyspace: SRC })) {
    if (t.alias === src.alias || t.ports.grpc !== proxy.port || !previous) continue;
    await c.topo.updateTabletFields(parseTabletAlias(t.alias!), (r) => {
      if (r.port_map.grpc !== proxy.port) return false;
      r.port_map = { ...r.port_map, grpc: previous };
    });
  }
  proxy.targetPort = src.ports.grpc;
  await c.topo.updateTabletFields(parseTabletAlias(src.alias!), (t) => {
    t.port_map = { ...t.port_map, grpc: proxy.port };
  });
}

/**
 * Before a run: every process alive (the previous run's fault may still be healing: a gate the
 * supervisor is starting again) and every gate answering a query, so that a run's writers never
 * meet what the previous run left.
 */
export async function clusterBack(c: DistCluster): Promise<void> {
  await waitFor('every process to be alive before the run', async () => (await c.status()).processes.every((p) => p.alive), 180_000);
  for (let i = 0; i < c.gatePorts.length; i++) {
    await waitFor(`gate ${i} to answer a query before the run`, async () => {
      const conn = await c.connect(i, SRC).catch(() => null);
      if (!conn) return false;
      try {
        await conn.query('SELECT 1');
        return true;
      } catch {
        return false;
      } finally {
        conn.destroy();
      }
    }, 180_000);
  }
}

const PREFILL_ROWS = 1_500;
/** sysbench transactions before the fault (its connections made, warm) … */
const SYSBENCH_WARM_TRANSACTIONS = 100;
/** … and after it: sysbench is back once it made this many more (its clients moved to a live gate). */
export const SYSBENCH_RESUMED_TRANSACTIONS = 100;
/** Mid-VDiff: more rows, so that the VDiff compares for a few seconds. */
const VDIFF_PREFILL_ROWS = 6_000;
const LEDGER_FIRST_ID = 1_000_000;
let tableSeq = 0;

interface MoveTablesStatus {
  traffic_state: string;
  switch_in_progress?: unknown;
}

async function moveTablesStatus(c: DistCluster, workflow: string): Promise<MoveTablesStatus> {
  return (await c.call('MoveTables', { action: 'status', target_keyspace: DST, workflow, format: 'json' })) as unknown as MoveTablesStatus;
}

interface StreamsJson {
  shard_streams: Record<string, { streams: { status: string; info: string }[] }>;
}

async function streams(c: DistCluster, workflow: string): Promise<{ status: string; info: string }[]> {
  const st = (await c.call('Workflow', { action: 'status', keyspace: DST, workflow, format: 'json' })) as unknown as StreamsJson;
  return Object.values(st.shard_streams).flatMap((s) => s.streams);
}

/** Runs one scenario once with `seed`; never throws: what went wrong is in `problems`. */
export async function runOnce(cc: ChaosCluster, scenario: Scenario, seed: number, log: (line: string) => void): Promise<RunResult> {
  const { c, proxy } = cc;
  const started = Date.now();
  const rng = new Rng(seed);
  const faults = new FaultInjector(c, rng);
  const table = `t${process.pid % 1000}_${++tableSeq}`;
  const workflow = scenario.workflow ? `w_${table}` : null;
  const phase: Phase = scenario.phase ?? (scenario.workflow ? rng.pick(['copy', 'catch-up'] as const) : 'none');
  const begun: RunContext['started'] = {};
  let sysbench: SysbenchLoad | null = null;
  let sysbenchResult: SysbenchResult | undefined;
  let sysbenchResumedMs = -1;
  let sysbenchAfterFault: (() => number) | null = null;
  let switched = false;
  let created = false;
  const problems: string[] = [];
  // How long each step took, in the run's detail (where a slow run spends its time).
  const steps: string[] = [];
  let stepAt = Date.now();
  const step = (name: string) => {
    steps.push(`${name} ${Date.now() - stepAt} ms`);
    stepAt = Date.now();
  };
  let load: LedgerLoad | null = null;
  let fault = '';
  let faultAt = 0;
  let stoppedAt = 0;
  let rows = { acknowledged: 0, lost: [] as number[], wrongValue: [] as number[], duplicated: [] as number[] };
  try {
    await clusterBack(c);
    step('cluster back');
    await routeSourceThroughProxy(cc);
    step('proxy');
    // The table, in both VSchemas (the target's for after the move), with rows to copy.
    await c.call('ApplySchema', { keyspace: SRC, sql: `CREATE TABLE ${table} (id bigint NOT NULL PRIMARY KEY, v varchar(32) NOT NULL)` });
    const vs = (await c.call('GetVSchema', { keyspace: SRC })) as { tables: Record<string, Json> };
    await c.call('ApplyVSchema', { keyspace: SRC, vschema: JSON.stringify({ ...vs, tables: { ...vs.tables, [table]: {} } }) });
    // Retried (INSERT IGNORE: a batch that did commit is not doubled): the gate may still be
    // moving to the proxy's address, or to a tablet a previous run restarted.
    for (let i = 0; i < (phase === 'vdiff' ? VDIFF_PREFILL_ROWS : PREFILL_ROWS); i += 500) {
      const values = Array.from({ length: 500 }, (_, k) => `(${i + k + 1}, 'p${i + k + 1}')`).join(',');
      await retry(`prefilling ${table}`, async () => {
        const conn = await connectAnyGate(c, SRC);
        try {
          await conn.query(`INSERT IGNORE INTO ${table} (id, v) VALUES ${values}`);
        } finally {
          conn.destroy();
        }
      });
    }
    step('table and rows');
    if (scenario.durability) {
      await c.call('SetKeyspaceDurabilityPolicy', { keyspace: SRC, durability_policy: scenario.durability });
      step(`durability ${scenario.durability}`);
    }
    load = startLedgerLoad(c, SRC, table, 4, LEDGER_FIRST_ID);
    await load.ledger.waitForAcks(20);
    if (scenario.sysbench) {
      await prepareSysbench(c, SRC);
      sysbench = startSysbench(c, SRC, 4);
      await sysbench.waitForTransactions(SYSBENCH_WARM_TRANSACTIONS, 120_000);
    }
    step('load');
    if (workflow) {
      await c.ctlRetry(['MoveTables', '--workflow', workflow, '--target-keyspace', DST, 'create', '--source-keyspace', SRC, '--tables', table]);
      created = true;
      if (phase === 'copy') {
        // The copy runs ~1 s and more at the tablets' rate cap: somewhere in it.
        await new Promise((r) => setTimeout(r, rng.int(0, 1_000)));
      } else {
        await waitFor('the copy to finish', async () => (await streams(c, workflow)).every((s) => s.status === 'Running'), 120_000);
        if (phase === 'catch-up') await new Promise((r) => setTimeout(r, rng.int(0, 2_000)));
        if (phase === 'reverse') {
          // A full switch first: the fault lands in the ReverseTraffic that follows.
          await c.call('MoveTables', { action: 'switchtraffic', target_keyspace: DST, workflow });
          step('SwitchTraffic');
        }
      }
    } else {
      await new Promise((r) => setTimeout(r, rng.int(0, 1_000)));
    }

    step(workflow ? `MoveTables create, to the ${phase}` : 'wait');
    faultAt = Date.now();
    const sysbenchAtFault = sysbench?.transactions() ?? 0;
    // sysbench is back once it made SYSBENCH_RESUMED_TRANSACTIONS more after the fault: through the
    // gate left (the one killed took its connections; open transactions of those hold their row
    // locks until the tablet's idle-transaction timeout, --queryserver-config-transaction-timeout).
    const sysbenchBack = sysbench?.waitForTransactions(SYSBENCH_RESUMED_TRANSACTIONS, 180_000).then(() => Date.now() - faultAt);
    sysbenchBack?.catch(() => undefined);
    fault = await scenario.fault({ c, proxy, rng, faults, table, workflow, phase, log, started: begun });
    log(`  ${fault} (${phase === 'none' ? `under load${scenario.durability ? `, durability ${scenario.durability}` : ''}` : `mid-${phase}`})`);
    step('fault');

    // Back: every process alive (the supervisor restarts, tablets restart MariaDB), writes flowing.
    await waitSettled('every process to be alive again', async () => (await c.status()).processes.every((p) => p.alive), 180_000);
    step('processes alive');
    await withTimeout(load.ledger.waitForAcks(50), 120_000, 'writes to flow again after the fault');
    step('writes flow');
    if (sysbench && sysbenchBack) {
      sysbenchResumedMs = await sysbenchBack;
      sysbenchAfterFault = () => sysbench!.transactions() - sysbenchAtFault;
      step('sysbench back');
    }
    if (workflow && (phase === 'switch' || phase === 'reverse')) {
      // The restarted ctld settles the interrupted switch (or reverse): back before the journal,
      // forward after.
      let st: MoveTablesStatus | null = null;
      await waitSettled('the interrupted switch to be settled', async () => {
        st = await moveTablesStatus(c, workflow);
        return st.switch_in_progress === undefined;
      }, 180_000);
      switched = /Writes Switched/.test(st!.traffic_state) && !/Writes Not Switched/.test(st!.traffic_state);
      log(`  settled: ${st!.traffic_state}`);
      step(`${phase === 'switch' ? 'switch' : 'reverse'} settled`);
    }
    if (workflow && !switched) {
      await waitSettled('the workflow to run again (copy done, streams Running)', async () => (await streams(c, workflow)).every((s) => s.status === 'Running'), 180_000).catch(async (err: Error) => {
        throw new Error(`${err.message}: ${JSON.stringify(await streams(c, workflow).catch((e: Error) => e.message))}`);
      });
      step('workflow running');
    }
    if (workflow && begun.vdiffUuid) {
      // The VDiff the fault interrupted: it completes (resumed if it stopped) and is clean.
      const { summary, resumed } = await finishVDiff(c, workflow, DST, begun.vdiffUuid);
      log(`  the interrupted VDiff: ${summary.State}${resumed ? `, resumed ${resumed} time(s)` : ''}`);
      if (summary.HasMismatch) problems.push(`the interrupted VDiff found differences: ${JSON.stringify(summary)}`);
      step('interrupted VDiff');
    }
  } catch (err) {
    problems.push((err as Error).message);
  } finally {
    stoppedAt = Date.now();
    await load?.stop();
    if (sysbench) {
      const after = sysbenchAfterFault?.() ?? 0;
      sysbenchResult = { ...(await sysbench.stop()), ...(sysbenchResumedMs >= 0 ? { afterFault: { transactions: after, resumedMs: sysbenchResumedMs } } : {}) };
      log(`  ${sysbenchText(sysbenchResult)}${sysbenchResult.exits.length ? ` (ended: ${sysbenchResult.exits.join(' | ')})` : ''}`);
    }
    if (scenario.durability && scenario.durability !== 'none') {
      await c.call('SetKeyspaceDurabilityPolicy', { keyspace: SRC, durability_policy: 'none' }).catch((err: Error) => problems.push(`durability back to none: ${err.message}`));
    }
  }
  try {
    if (load) {
      rows = await checkRows(c, SRC, table, load.ledger, LEDGER_FIRST_ID);
      if (rows.lost.length) problems.push(`acknowledged rows missing: ${rows.lost.slice(0, 20).join(',')}`);
      if (rows.wrongValue.length) problems.push(`acknowledged rows with another value: ${rows.wrongValue.slice(0, 20).join(',')}`);
      if (rows.duplicated.length) problems.push(`rows present twice: ${rows.duplicated.slice(0, 20).join(',')}`);
      step('rows checked');
    }
    if (workflow && problems.length === 0) {
      // After a switch the running workflow is the reverse one, from the target back to the source.
      const [vdWorkflow, vdKeyspace] = switched ? [`${workflow}_reverse`, SRC] : [workflow, DST];
      await c.ctlRetry(['VDiff', '--workflow', vdWorkflow, '--target-keyspace', vdKeyspace, 'create']);
      let summary: VDiffSummary = { State: 'pending', HasMismatch: false };
      await waitSettled('VDiff to complete', async () => {
        summary = await vdiffSummary(c, vdWorkflow, vdKeyspace, 'last');
        return summary.State === 'completed' || summary.State === 'error';
      }, 180_000);
      if (summary.State !== 'completed' || summary.HasMismatch) problems.push(`VDiff: ${JSON.stringify(summary)}`);
      step('VDiff');
    }
    // A primary's health may take a moment to answer on a busy machine: asked again for up to 30 s.
    let shardIssues: string[] = [];
    await waitFor('every shard to be served by its primary', async () => (shardIssues = await shardProblems(c, switched ? { keyspace: SRC, table } : phase === 'reverse' ? { keyspace: DST, table } : null)).length === 0, 30_000).catch(() => undefined);
    problems.push(...shardIssues);
    step('shards checked');
  } catch (err) {
    problems.push((err as Error).message);
  }
  if (workflow && created && switched) {
    // An interrupted ReverseTraffic may settle with the reads already back on the source and the
    // writes not (its write step rolled back): neither `complete` nor a forward switch takes that
    // state (the workflow is frozen), so it is run again, as an operator would, and then cancelled.
    const st = await moveTablesStatus(c, workflow).catch(() => null);
    if (st && !/^All Reads Switched/.test(st.traffic_state)) {
      await c
        .call('MoveTables', { action: 'reversetraffic', target_keyspace: DST, workflow })
        .then(() => {
          switched = false;
          step('ReverseTraffic again');
        })
        .catch((err: Error) => problems.push(`ReverseTraffic again (from ${st.traffic_state}): ${err.message}`));
    }
  }
  if (workflow && created) {
    // Switched: the move is finished (the source's copy dropped); otherwise cancelled.
    await c.ctlRetry(['MoveTables', '--workflow', workflow, '--target-keyspace', DST, switched ? 'complete' : 'cancel']).catch((err: Error) => problems.push(`${switched ? 'complete' : 'cancel'}: ${err.message}`));
    step(switched ? 'complete' : 'cancel');
  }
  log(`  steps: ${steps.join(', ')}`);
  return {
    scenario: scenario.name,
    seed,
    phase,
    fault,
    acknowledged: rows.acknowledged,
    lost: rows.lost.length,
    wrong: rows.wrongValue.length,
    duplicated: rows.duplicated.length,
    unavailableMs: load && faultAt ? load.ledger.longestGapMs(faultAt, stoppedAt) : 0,
    failedWrites: load?.ledger.failedTotal ?? 0,
    sysbench: sysbenchResult,
    writeErrors: [...new Set((load?.ledger.failed ?? []).map((f) => f.error.replace(/\d+/g, 'N')))].slice(0, 4),
    problems,
    durationMs: Date.now() - started,
  };
}

/**
 * Every shard: a primary the topology names, serving, and no other tablet of type primary; no
 * denied tables (but `away`: the run's table on the side that does not take its writes — the
 * source once they are switched, the target once a ReverseTraffic moved them back — denied there
 * until `complete` or `cancel`), no disabled query service.
 */
async function shardProblems(c: DistCluster, away: { keyspace: string; table: string } | null): Promise<string[]> {
  const out: string[] = [];
  const st = await c.status();
  for (const ks of [SRC, DST]) {
    for (const name of await c.topo.getShardNames(ks)) {
      const { value: shard } = await c.topo.getShard(ks, name);
      if (shard.primary_alias === null) out.push(`${ks}/${name} has no primary`);
      else {
        const alias = tabletAliasString(shard.primary_alias);
        const row = st.tablets.find((t) => t.alias === alias);
        if (row?.serving !== 'SERVING') out.push(`${ks}/${name}: its primary ${alias} is not serving (${row?.serving ?? 'not found'})`);
      }
      if (!shard.is_primary_serving) out.push(`${ks}/${name} is not primary-serving`);
      // One primary: no tablet left believing it is primary besides the one the shard names.
      const primaries = st.tablets.filter((t) => t.keyspace === ks && t.shard === name && t.type === 'primary').map((t) => t.alias);
      if (primaries.length !== 1) out.push(`${ks}/${name} has ${primaries.length} tablets of type primary (${primaries.join(',')})`);
      for (const tc of shard.tablet_controls) {
        const denied = tc.denied_tables.filter((t) => !(ks === away?.keyspace && t === away.table));
        if (denied.length) out.push(`${ks}/${name} denies ${denied.join(',')} on ${tc.tablet_type}`);
        if (tc.disable_query_service) out.push(`${ks}/${name} has its query service disabled on ${tc.tablet_type}`);
      }
    }
  }
  return out;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export interface ProfileResult {
  readonly runs: readonly RunResult[];
  readonly table: string;
}

/** The result table: per scenario runs, acknowledged writes, writes lost, longest unavailability. */
export function resultTable(runs: readonly RunResult[]): string {
  const by = new Map<string, RunResult[]>();
  for (const r of runs) by.set(r.scenario, [...(by.get(r.scenario) ?? []), r]);
  const rows = [...by.entries()].map(([name, rs]) => [
    name,
    String(rs.length),
    String(rs.reduce((n, r) => n + r.acknowledged, 0)),
    String(rs.reduce((n, r) => n + r.lost, 0)),
    `${Math.max(...rs.map((r) => r.unavailableMs))} ms`,
    String(rs.filter((r) => r.problems.length > 0).length),
    rs.some((r) => r.sysbench)
      ? `${rs.reduce((n, r) => n + (r.sysbench?.transactions ?? 0), 0)} / ${rs.reduce((n, r) => n + (r.sysbench?.errors ?? 0), 0)}` +
        (rs.some((r) => r.sysbench?.afterFault) ? `, back within ${Math.max(...rs.map((r) => r.sysbench?.afterFault?.resumedMs ?? 0))} ms` : '')
      : '-',
  ]);
  const head = ['scenario', 'runs', 'acknowledged writes', 'writes lost', 'longest unavailability', 'runs with problems', 'sysbench transactions / errors, longest until back'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((x, i) => x.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n') + '\n';
}

export function writeResults(file: string, seed: number, profile: string, runs: readonly RunResult[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const detail = runs.map((r) => `- ${r.scenario} seed ${r.seed} ${r.phase}: ${r.fault}; ${r.acknowledged} acknowledged, ${r.failedWrites} failed, ${r.unavailableMs} ms longest gap, ${Math.round(r.durationMs / 1000)} s${r.sysbench ? `; ${sysbenchText(r.sysbench)}` : ''}${r.writeErrors.length ? `; write errors: ${r.writeErrors.join(' / ')}` : ''}${r.problems.length ? `; PROBLEMS: ${r.problems.join(' | ')}` : ''}`);
  fs.writeFileSync(file, `# Chaos results (profile ${profile}, seed ${seed}, ${new Date().toISOString()})\n\n${resultTable(runs)}\n## Runs\n\n${detail.join('\n')}\n`);
}

/** sysbench's part of a run, for the output and the results file. */
export function sysbenchText(r: SysbenchResult): string {
  const back = r.afterFault ? `, ${SYSBENCH_RESUMED_TRANSACTIONS} transactions after the fault within ${r.afterFault.resumedMs} ms` : '';
  return `sysbench oltp_write_only ${r.transactions} transactions, ${r.errors} errors, ${r.restarts} restarts${back}`;
}
