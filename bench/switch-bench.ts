// The write pause of MoveTables' SwitchTraffic (primary) next to PlannedReparentShard's, in one run,
// on the same shard and under the same steady insert load through the gate:
//
//   PRS          PlannedReparentShard of commerce/0 (its two tablets take turns), with the inserts
//                going to commerce
//   SwitchTraffic  MoveTables switchtraffic --tablet-types primary of customer,corder from commerce
//                to customer (reversetraffic --tablet-types primary puts them back between rounds,
//                not measured)
//
// For each operation, the write pause as the client sees it: the longest time between two
// acknowledged inserts that overlaps the operation (a single writer inserting one row at a time;
// failed inserts are retried after 20 ms). SwitchTraffic also reports its own pause (deny on the
// source to routing switched). Prints median and maximum of each and the ratio of the maxima
// (goal: SwitchTraffic's maximum at most 2x PlannedReparentShard's).
//
//   npx tsc -p tsconfig.json && node dist/bench/switch-bench.js [rounds=10]
import { performance } from 'node:perf_hooks';
import { REPARENT_COMMANDS } from '../src/ctld/reparent.js';
import { WORKFLOW_COMMANDS } from '../src/ctld/workflow-commands.js';
import type { CtldContext } from '../src/ctld/command.js';
import { RpcTabletManagerClient } from '../src/tablet/index.js';
import type { Json, JsonObject } from '../src/topo/index.js';
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
  const shard = c.shard('commerce', '0');
  const pair = [shard.primary, shard.replicas[0]].map((t) => t.alias);
  for (let i = 0; i < ROUNDS; i++) {
    const to = pair[(i + 1) % 2];
    const p = await measured(() => run('PlannedReparentShard', { keyspace_shard: 'commerce/0', new_primary: to }));
    prs.push(p.gap);
    const s = await measured(() => mt('switchtraffic', { tablet_types: ['primary'] }) as Promise<{ write_pause_ms: number }>);
    sw.push(s.gap);
    reported.push(s.out.write_pause_ms);
    await measured(() => mt('reversetraffic', { tablet_types: ['primary'] }));
    log(`round ${i + 1}: PlannedReparentShard -> ${to}: ${p.gap.toFixed(0)} ms; SwitchTraffic: ${s.gap.toFixed(0)} ms (reported ${s.out.write_pause_ms} ms)`);
  }
  await ledger.stop();
  log('');
  log(`write pause over ${ROUNDS} rounds, one writer through the gate (${ledger.acknowledged.length} inserts acknowledged, ${ledger.failedTotal} refused and retried)`);
  log(`  PlannedReparentShard (commerce/0)    median ${median(prs).toFixed(0)} ms   max ${Math.max(...prs).toFixed(0)} ms`);
  log(`  SwitchTraffic primary (client)       median ${median(sw).toFixed(0)} ms   max ${Math.max(...sw).toFixed(0)} ms`);
  log(`  SwitchTraffic primary (reported)     median ${median(reported).toFixed(0)} ms   max ${Math.max(...reported).toFixed(0)} ms`);
  log(`  ratio SwitchTraffic / PRS            median ${(median(sw) / median(prs)).toFixed(2)}x   max ${(Math.max(...sw) / Math.max(...prs)).toFixed(2)}x   (goal: max <= 2x)`);
} finally {
  await ledger.stop().catch(() => undefined);
  await writer.end().catch(() => undefined);
  ctx.tmc.close();
  await c.stop();
}
