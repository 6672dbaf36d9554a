// The write pause of MoveTables' SwitchTraffic (primary), of PlannedReparentShard and of a
// `kill -9` of the primary's MariaDB, in one run, on the same shard and under the same steady
// insert load through a gate with failover buffering on (--enable-buffer, as `tessera up` runs it),
// each next to the time that same MariaDB takes to stop and start on its own:
//
//   PRS          PlannedReparentShard of commerce/0 (its two tablets take turns), with the inserts
//                going to commerce
//   SwitchTraffic  MoveTables switchtraffic --tablet-types primary of customer,corder from commerce
//                to customer (reversetraffic --tablet-types primary puts them back between rounds,
//                not measured)
//   kill -9      SIGKILL to commerce/0's primary's mariadbd; its tablet starts it again
//                (--mysql-restart, src/tablet/mysql-keeper.ts) while the gate buffers
//   stop+start   the same MariaDB stopped (SIGTERM, InnoDB flushes) and started again by our
//                mysqlctl, with no load and nothing else in the way: the floor any of the above
//                could be compared with
//
// For each operation, the write pause as the client sees it: the longest time between two
// acknowledged inserts that overlaps the operation (a single writer inserting one row at a time;
// failed inserts are retried after 20 ms). SwitchTraffic also reports its own pause (deny on the
// source to routing switched). Prints median and maximum of each, the ratio of SwitchTraffic's to
// PlannedReparentShard's (goal: maximum at most 2x), and each one's ratio to the MariaDB's own
// stop+start (median of the rounds').
//
//   npx tsc -p tsconfig.json && node dist/bench/switch-bench.js [rounds=10]
import { performance } from 'node:perf_hooks';
import { REPARENT_COMMANDS } from '../src/ctld/reparent.js';
import { WORKFLOW_COMMANDS } from '../src/ctld/workflow-commands.js';
import type { CtldContext } from '../src/ctld/command.js';
import { MysqlKeeper, MYSQL_RESTART_DEFAULTS, RpcTabletManagerClient, type TabletProcess } from '../src/tablet/index.js';
import { tabletAliasString, type Json, type JsonObject } from '../src/topo/index.js';
import { startCluster } from '../test/harness/cluster.js';
import { WriteLedger } from '../test/harness/ledger.js';
import { log } from './bench-util.js';

const ROUNDS = Number(process.argv[2] ?? 10);

const SCHEMA = `
CREATE TABLE customer (customer_id bigint NOT NULL, email varbinary(128), PRIMARY KEY (customer_id));
CREATE TABLE corder (order_id bigint NOT NULL, customer_id bigint, PRIMARY KEY (order_id))`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const c = await startCluster({
  keyspaces: [
    { name: 'commerce', shards: ['0'], schema: SCHEMA, vschema: { tables: { customer: {}, corder: {} } }, replicas: 1 },
    { name: 'customer', shards: ['0'], replicas: 1 },
  ],
  // Failover buffering as `tessera up` runs the gate: a primary-bound insert meeting a primary
  // that is not serving waits for it instead of failing.
  gate: { buffer: { enabled: true } },
});
const ctx: CtldContext = { topo: c.topo, tmc: new RpcTabletManagerClient(c.topo) };
const run = (name: string, req: JsonObject): Promise<Json> => (WORKFLOW_COMMANDS[name] ?? REPARENT_COMMANDS[name]).run(ctx, req);
const mt = (action: string, extra: JsonObject = {}) => run('MoveTables', { action, workflow: 'commerce2customer', target_keyspace: 'customer', format: 'json', ...extra });

const writer = await c.connect('commerce');
const acks: number[] = [];
const ledger = new WriteLedger({
  writers: 1,
  write: async (id) => {
    await writer.query(`INSERT INTO customer (customer_id, email) VALUES (${id}, 'bench')`);
    acks.push(performance.now());
  },
});

/** Runs `op` under the load; returns the longest gap between acknowledged inserts that overlaps it. */
async function measured<T>(op: () => Promise<T>): Promise<{ gap: number; out: T }> {
  await ledger.waitForAcks(50);
  const t0 = performance.now();
  const out = await op();
  const t1 = performance.now();
  await ledger.waitForAcks(20);
  let gap = 0;
  for (let i = 1; i < acks.length; i++) if (acks[i] > t0 && acks[i - 1] < t1) gap = Math.max(gap, acks[i] - acks[i - 1]);
  return { gap, out };
}

async function currentPrimary(): Promise<TabletProcess> {
  const { value } = await c.topo.getShard('commerce', '0');
  const alias = value.primary_alias ? tabletAliasString(value.primary_alias) : '';
  const t = [shard0.primary, ...shard0.replicas].find((x) => x.alias === alias);
  if (!t) throw new Error(`commerce/0's primary ${alias} is not one of the bench's tablets`);
  return t;
}

/**
 * SIGKILL to the tablet's mariadbd while its tablet restarts MariaDB (the harness starts tablets
 * with --mysql-restart off; a keeper with it on watches for this kill only). Resolves once the
 * tablet serves again; returns how long after the kill that was.
 */
async function killMariadb(t: TabletProcess): Promise<number> {
  const keeper = new MysqlKeeper(t.mysqlctl!, t.manager, { ...MYSQL_RESTART_DEFAULTS, enabled: true });
  keeper.start();
  try {
    const pid = t.mysqlctl!.runningPid();
    if (pid === null) throw new Error(`${t.alias}: no MariaDB running`);
    const t0 = performance.now();
    process.kill(pid, 'SIGKILL');
    while (t.mysqlctl!.runningPid() === null || t.mysqlctl!.runningPid() === pid || !t.server.serving) await new Promise((r) => setTimeout(r, 20));
    return performance.now() - t0;
  } finally {
    keeper.stop();
  }
}

/** The same MariaDB stopped and started again by mysqlctl alone, with the load paused; its time. */
async function stopStart(t: TabletProcess): Promise<number> {
  await ledger.stop();
  const t0 = performance.now();
  await t.mysqlctl!.shutdown();
  await t.mysqlctl!.start();
  const ms = performance.now() - t0;
  // The tablet's health check sees it again (and lifts read_only) before the load resumes.
  while (!t.server.serving) await new Promise((r) => setTimeout(r, 20));
  ledger.start();
  return ms;
}

const shard0 = c.shard('commerce', '0');

try {
  await mt('create', { source_keyspace: 'commerce', tables: ['customer', 'corder'] });
  for (;;) {
    const st = (await mt('status')) as { table_copy_state: object; shard_streams: Record<string, { streams: { status: string }[] }> };
    if (Object.keys(st.table_copy_state).length === 0 && Object.values(st.shard_streams).every((s) => s.streams.every((x) => x.status === 'Running'))) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await mt('switchtraffic', { tablet_types: ['replica', 'rdonly'] });
  ledger.start();
  const prs: number[] = [];
  const sw: number[] = [];
  const reported: number[] = [];
  const crash: number[] = [];
  const plain: number[] = [];
  const shard = c.shard('commerce', '0');
  const tablets = [shard.primary, shard.replicas[0]];
  const pair = tablets.map((t) => t.alias);
  for (let i = 0; i < ROUNDS; i++) {
    const to = pair[(i + 1) % 2];
    const p = await measured(() => run('PlannedReparentShard', { keyspace_shard: 'commerce/0', new_primary: to }));
    prs.push(p.gap);
    const s = await measured(() => mt('switchtraffic', { tablet_types: ['primary'] }) as Promise<{ write_pause_ms: number }>);
    sw.push(s.gap);
    reported.push(s.out.write_pause_ms);
    await measured(() => mt('reversetraffic', { tablet_types: ['primary'] }));
    // The shard's primary now: its MariaDB is killed, then stopped and started on its own.
    const primary = await currentPrimary();
    const k = await measured(() => killMariadb(primary));
    crash.push(k.gap);
    const own = await stopStart(primary);
    plain.push(own);
    log(
      `round ${i + 1}: PlannedReparentShard -> ${to}: ${p.gap.toFixed(0)} ms; SwitchTraffic: ${s.gap.toFixed(0)} ms (reported ${s.out.write_pause_ms} ms); ` +
        `kill -9 of ${primary.alias}'s MariaDB: ${k.gap.toFixed(0)} ms (back after ${k.out.toFixed(0)} ms); its stop+start: ${own.toFixed(0)} ms`,
    );
  }
  await ledger.stop();
  const own = median(plain);
  const row = (name: string, xs: number[]) =>
    log(`  ${name.padEnd(36)} median ${median(xs).toFixed(0).padStart(5)} ms   max ${Math.max(...xs).toFixed(0).padStart(5)} ms   ${(median(xs) / own).toFixed(2)}x / ${(Math.max(...xs) / own).toFixed(2)}x of stop+start`);
  log('');
  log(`write pause over ${ROUNDS} rounds, one writer through a gate with --enable-buffer (${ledger.acknowledged.length} inserts acknowledged, ${ledger.failedTotal} refused and retried)`);
  row('PlannedReparentShard (commerce/0)', prs);
  row('SwitchTraffic primary (client)', sw);
  row('SwitchTraffic primary (reported)', reported);
  row("kill -9 of the primary's MariaDB", crash);
  log(`  ${"that MariaDB's own stop+start".padEnd(36)} median ${own.toFixed(0).padStart(5)} ms   max ${Math.max(...plain).toFixed(0).padStart(5)} ms   (mysqlctl shutdown + start, no load)`);
  log(`  ratio SwitchTraffic / PRS            median ${(median(sw) / median(prs)).toFixed(2)}x   max ${(Math.max(...sw) / Math.max(...prs)).toFixed(2)}x   (goal: max <= 2x)`);
} finally {
  await ledger.stop().catch(() => undefined);
  await writer.end().catch(() => undefined);
  ctx.tmc.close();
  await c.stop();
}
