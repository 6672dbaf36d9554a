// Reshard: a keyspace's rows move from one set of shards to another covering the same key range
// (a split 0 → -80,80-, a merge -80,80- → 0, any uneven set). One stream per (target shard,
// intersecting source shard) on the target shard's primary, with the rule `{match: "/.*",
// filter: "<target shard>"}`: every table of the keyspace, each row placed by its table's primary
// vindex, in the copy and in replication alike (src/vreplication/filter.ts).
//
// Show, status, start, stop and cancel are the Workflow ones. Switching traffic moves each tablet
// type's partition of the serving graph; writes stop on the serving primaries
// (query_service_disabled) while the other side catches up, then flip, and replication turns
// around (`<workflow>_reverse`), so the switch can be reversed. The write switch is recorded in
// topo and recovered by MoveTables' rule (switch-shards.ts).
import { compareKeyBytes, keyRangeIntersection, keyRangesIntersect, keyRangeToShardName, parseShardName, toHex, type KeyRange } from '../key/index.js';
import { ER, TesseraError } from '../mysql/errors.js';
import { quoteIdent } from '../sql/index.js';
import { readOrMissing, type Tablet, type TopoServer } from '../topo/index.js';
import { parseKeyspaceVSchema } from '../vschema/index.js';
import { formatBinlogSource, parseBinlogSource, type OnDdl } from '../vreplication/binlog-source.js';
import { gatherStreams, type ShardStreams } from './workflow.js';
import type { CreateStreamWire, WorkflowTabletCalls } from './types.js';
import { WORKFLOW_TYPE } from './types.js';
import { switchShardWrites } from './switch-shards.js';
import { readsText } from './read-switch.js';
import type { Timed } from './switch-writes.js';

export interface ReshardCreateRequest {
  readonly workflow: string;
  readonly keyspace: string;
  readonly sourceShards: readonly string[];
  readonly targetShards: readonly string[];
  readonly cells: readonly string[];
  readonly tabletTypes: readonly string[];
  readonly onDdl: OnDdl;
  readonly deferSecondaryKeys: boolean;
  readonly autoStart: boolean;
  readonly stopAfterCopy: boolean;
  /** The target shards already have the tables (CopySchemaShard, or created by hand). */
  readonly skipSchemaCopy: boolean;
  readonly configOverrides: Readonly<Record<string, string>>;
}

function bad(message: string): TesseraError {
  return new TesseraError(ER.WRONG_ARGUMENTS, message);
}

function longAlias(t: Tablet): string {
  return `${t.alias.cell}-${String(t.alias.uid).padStart(10, '0')}`;
}

/**
 * The range a list of shards covers without gap or overlap, or an error naming the first gap or
 * overlap. Unlike a serving partition, the range need not be the whole key space (a reshard of
 * part of a keyspace: 80- → 80-c0,c0-).
 */
function coveredRange(shards: readonly string[], what: string): KeyRange {
  if (shards.length === 0) throw bad(`${what}: no shards given`);
  const items = shards.map((name) => ({ name, kr: parseShardName(name) }));
  items.sort((a, b) => compareKeyBytes(a.kr.start, b.kr.start));
  for (let i = 1; i < items.length; i++) {
    const prev = items[i - 1];
    const cur = items[i];
    const overlap = keyRangeIntersection(prev.kr, cur.kr);
    if (overlap) throw bad(`${what}: shards ${prev.name} and ${cur.name} overlap on ${keyRangeToShardName(overlap)}`);
    if (prev.kr.end.length === 0 || compareKeyBytes(prev.kr.end, cur.kr.start) !== 0) {
      throw bad(`${what}: gap ${toHex(prev.kr.end)}-${toHex(cur.kr.start)} between shards ${prev.name} and ${cur.name}`);
    }
  }
  return { start: items[0].kr.start, end: items[items.length - 1].kr.end };
}

async function shardPrimary(topo: TopoServer, keyspace: string, shard: string): Promise<{ tablet: Tablet; serving: boolean }> {
  const s = await readOrMissing(`shard ${keyspace}/${shard}`, () => topo.getShard(keyspace, shard), () => bad(`shard ${keyspace}/${shard} does not exist; create it (CreateShard) and start its tablets first`));
  if (s.value.primary_alias === null) throw bad(`shard ${keyspace}/${shard} has no primary; run InitShardPrimary ${keyspace}/${shard} <tablet> first`);
  return { tablet: (await topo.getTablet(s.value.primary_alias)).value, serving: s.value.is_primary_serving };
}

/** Checks everything, copies the schema to the target shards, then creates the streams. */
export async function reshardCreate(topo: TopoServer, calls: WorkflowTabletCalls, r: ReshardCreateRequest): Promise<{ streams: { tablet: string; shard: string; ids: number[] }[] }> {
  if (!/^[A-Za-z0-9_.-]+$/.test(r.workflow)) throw bad(`workflow name ${r.workflow}: use letters, digits, '_', '-' and '.'`);
  await readOrMissing(`keyspace ${r.keyspace}`, () => topo.getKeyspace(r.keyspace), () => bad(`keyspace ${r.keyspace} does not exist`));
  const shared = r.sourceShards.filter((s) => r.targetShards.includes(s));
  if (shared.length > 0) throw bad(`shard ${shared[0]} is both a source and a target; a reshard moves rows to other shards`);
  const from = coveredRange(r.sourceShards, '--source-shards');
  const to = coveredRange(r.targetShards, '--target-shards');
  if (compareKeyBytes(from.start, to.start) !== 0 || compareKeyBytes(from.end, to.end) !== 0 || from.end.length !== to.end.length) {
    throw bad(`--source-shards cover ${keyRangeToShardName(from)} but --target-shards cover ${keyRangeToShardName(to)}; both sets must cover the same key range`);
  }
  const vschema = parseKeyspaceVSchema(r.keyspace, await topo.getVSchema(r.keyspace).catch(() => ({})));
  if (!vschema.sharded) throw bad(`keyspace ${r.keyspace} is not sharded in its VSchema; apply a sharded VSchema (a primary vindex for every table) before resharding`);

  const sources = await Promise.all(r.sourceShards.map(async (shard) => ({ shard, ...(await shardPrimary(topo, r.keyspace, shard)) })));
  const targets = await Promise.all(r.targetShards.map(async (shard) => ({ shard, ...(await shardPrimary(topo, r.keyspace, shard)) })));
  for (const t of targets) {
    if (t.serving) throw bad(`target shard ${r.keyspace}/${t.shard} already serves; a reshard fills shards that do not serve yet`);
    const existing = await calls.vreplicationRead(t.tablet, r.workflow);
    if (existing.length > 0) throw bad(`workflow ${r.workflow} already exists on ${r.keyspace}/${t.shard}; pick another name or delete it first (Workflow delete)`);
  }

  // The tables to move: every table of the source with a primary vindex. Sequence and reference
  // tables stay where they are.
  const schema = await calls.getSchema(sources[0].tablet);
  const tables: string[] = [];
  for (const ts of schema) {
    if (ts.type !== 'BASE TABLE') continue;
    const v = vschema.tables[ts.name];
    if (v && (v.type === 'sequence' || v.type === 'reference')) continue;
    if (!v || v.columnVindexes.length === 0) {
      throw bad(`table ${r.keyspace}.${ts.name} has no primary vindex in the VSchema, so its rows have no shard; add it to the VSchema (ApplyVSchema) before resharding`);
    }
    const uniqueNotNull = ts.indexes.some((i) => i.unique && i.columns.every((c) => ts.columns.find((x) => x.name === c)?.nullable === false));
    if (ts.primaryKey.length === 0 && !uniqueNotNull) {
      throw bad(`table ${r.keyspace}.${ts.name} has no primary key and no unique NOT NULL key, so its copy cannot resume; add a primary key`);
    }
    tables.push(ts.name);
  }
  if (tables.length === 0) throw bad(`keyspace ${r.keyspace} has no tables to reshard`);

  // Schema: each target shard gets the tables it lacks, as the source's MariaDB defines them.
  if (!r.skipSchemaCopy) {
    const toCreate: { tablet: Tablet; sql: string }[] = [];
    for (const t of targets) {
      const have = new Set((await calls.getSchema(t.tablet)).map((x) => x.name));
      for (const name of tables) {
        if (have.has(name)) continue;
        const shown = await calls.executeFetchAsDba(sources[0].tablet, `SHOW CREATE TABLE ${quoteIdent(name)}`);
        const create = shown.rows[0]?.[1];
        if (typeof create !== 'string') throw bad(`cannot copy the definition of ${name}: SHOW CREATE TABLE on ${r.keyspace}/${sources[0].shard} returned nothing`);
        toCreate.push({ tablet: t.tablet, sql: create });
      }
    }
    for (const c of toCreate) await calls.applySchema(c.tablet, c.sql);
  } else {
    for (const t of targets) {
      const have = new Set((await calls.getSchema(t.tablet)).map((x) => x.name));
      const missing = tables.filter((n) => !have.has(n));
      if (missing.length > 0) throw bad(`--skip-schema-copy: ${r.keyspace}/${t.shard} lacks ${missing.join(', ')}; create them (CopySchemaShard) or leave the flag off`);
    }
  }

  const options = JSON.stringify({ config: r.configOverrides });
  const out: { tablet: string; shard: string; ids: number[] }[] = [];
  const made: Tablet[] = [];
  for (const t of targets) {
    const streams: CreateStreamWire[] = sources
      .filter((s) => keyRangesIntersect(parseShardName(s.shard), parseShardName(t.shard)))
      .map((s) => ({
        workflow: r.workflow,
        source: formatBinlogSource({ keyspace: r.keyspace, shard: s.shard, filter: { rules: [{ match: '/.*', filter: t.shard }] }, onDdl: r.onDdl, stopAfterCopy: r.stopAfterCopy || undefined }),
        cell: r.cells.join(','),
        tabletTypes: [...r.tabletTypes],
        state: r.autoStart ? 'Init' : 'Stopped',
        workflowType: WORKFLOW_TYPE.Reshard,
        workflowSubType: 0,
        deferSecondaryKeys: r.deferSecondaryKeys,
        options,
        stopPos: '',
        copyTables: tables,
      }));
    try {
      out.push({ tablet: longAlias(t.tablet), shard: t.shard, ids: await calls.vreplicationCreate(t.tablet, streams) });
      made.push(t.tablet);
    } catch (err) {
      // Half a reshard is no reshard: take back the streams already made.
      for (const m of made) await calls.vreplicationDelete(m, r.workflow).catch(() => undefined);
      throw err;
    }
  }
  return { streams: out };
}

// ---- switching traffic --------------------------------------------------------------------------

/** The tablet types traffic moves for, in the order they must move: reads before writes. */
const SWITCH_ORDER = ['rdonly', 'replica', 'primary'] as const;
type ServedType = (typeof SWITCH_ORDER)[number];

export const RESHARD_SWITCH_DEFAULTS = {
  /** --timeout: how long the targets may take to catch up once writes stopped. */
  timeoutMs: 30_000,
  /** --max-replication-lag-allowed: streams lagging more than this are not switched. */
  maxLagSeconds: 30,
};

export interface SwitchOptions {
  /** The types to move; all three when empty. */
  readonly tabletTypes: readonly string[];
  readonly cells: readonly string[];
  readonly timeoutMs: number;
  readonly maxLagSeconds: number;
  readonly enableReverseReplication: boolean;
  readonly dryRun: boolean;
}

interface Shape {
  readonly sources: string[];
  readonly targets: string[];
  /** The forward workflow's streams, by target shard. */
  readonly forward: ShardStreams[];
}

async function shapeOf(topo: TopoServer, calls: WorkflowTabletCalls, keyspace: string, workflow: string): Promise<Shape> {
  const all = await gatherStreams(topo, calls, keyspace, workflow);
  const forward = all.filter((f) => f.streams.some((s) => s.workflowType === WORKFLOW_TYPE.Reshard));
  if (forward.length === 0) throw bad(`no Reshard workflow ${workflow} in keyspace ${keyspace}; list them with Workflow --keyspace ${keyspace} list`);
  const sources = new Set<string>();
  for (const f of forward) for (const s of f.streams) sources.add(parseBinlogSource(s.source).shard);
  return { sources: [...sources].sort(), targets: forward.map((f) => f.shard).sort(), forward };
}

/** Which shard set serves each type, per cell. */
async function servedBy(topo: TopoServer, keyspace: string, sources: readonly string[], targets: readonly string[]): Promise<Map<ServedType, Map<string, 'sources' | 'targets'>>> {
  const out = new Map<ServedType, Map<string, 'sources' | 'targets'>>();
  for (const type of SWITCH_ORDER) out.set(type, new Map());
  for (const cell of await topo.getSrvKeyspaceCells(keyspace)) {
    const srv = await topo.getSrvKeyspace(cell, keyspace);
    for (const type of SWITCH_ORDER) {
      const names = new Set(srv.partitions.find((p) => p.served_type === type)?.shard_references.map((r) => r.name) ?? []);
      out.get(type)!.set(cell, targets.every((t) => names.has(t)) && !sources.some((s) => names.has(s)) ? 'targets' : 'sources');
    }
  }
  return out;
}

/** Vitess's traffic state sentence: `Reads Not Switched. Writes Not Switched` and its siblings. */
export async function reshardTrafficState(topo: TopoServer, keyspace: string, sources: readonly string[], targets: readonly string[]): Promise<string> {
  const by = await servedBy(topo, keyspace, sources, targets);
  const cells = (type: ServedType) => ({
    switched: [...by.get(type)!].filter(([, v]) => v === 'targets').map(([c]) => c).sort(),
    not: [...by.get(type)!].filter(([, v]) => v !== 'targets').map(([c]) => c).sort(),
  });
  const writes = cells('primary').switched.length > 0 ? 'Writes Switched' : 'Writes Not Switched';
  return `${readsText({ replica: cells('replica'), rdonly: cells('rdonly') })}. ${writes}`;
}

async function primaryOf(topo: TopoServer, keyspace: string, shard: string): Promise<Tablet> {
  return (await shardPrimary(topo, keyspace, shard)).tablet;
}

async function tabletsOf(topo: TopoServer, keyspace: string, shards: readonly string[]): Promise<Tablet[]> {
  const out: Tablet[] = [];
  for (const shard of shards) out.push(...(await topo.getTablets({ keyspace, shard })));
  return out;
}

/**
 * SwitchTraffic (or ReverseTraffic with `reverse`) of a Reshard workflow. Reads (rdonly, replica)
 * move in the serving graph; writes stop on the serving primaries (query_service_disabled), the
 * other side's streams catch up to their exact positions, the serving set flips, and replication
 * goes the other way. A failure before the flip gives the writes back to the side that had them.
 */
export async function reshardSwitchTraffic(
  topo: TopoServer,
  calls: WorkflowTabletCalls,
  keyspace: string,
  workflow: string,
  o: SwitchOptions & { readonly reverse: boolean },
): Promise<{ summary: string; steps: string[]; startState: string; state: string; writePauseMs?: number }> {
  const shape = await shapeOf(topo, calls, keyspace, workflow);
  const startState = await reshardTrafficState(topo, keyspace, shape.sources, shape.targets);
  const reverseName = `${workflow}_reverse`;
  const steps: string[] = [];
  const types: ServedType[] = o.tabletTypes.length === 0 ? [...SWITCH_ORDER] : SWITCH_ORDER.filter((t) => o.tabletTypes.map((x) => x.toLowerCase().replace(/^master$/, 'primary')).includes(t));
  if (types.length === 0) throw bad(`--tablet-types ${o.tabletTypes.join(',')}: name rdonly, replica and/or primary`);
  const [from, to] = o.reverse ? [shape.targets, shape.sources] : [shape.sources, shape.targets];
  const by = await servedBy(topo, keyspace, shape.sources, shape.targets);
  const want = o.reverse ? 'sources' : 'targets';

  // Checks before anything moves (nothing to move — a rerun whose switch recovery finished — needs none).
  const anyMoves = types.some((t) => [...by.get(t)!].some(([cell, v]) => v !== want && (t === 'primary' || o.cells.length === 0 || o.cells.includes(cell))));
  for (const f of anyMoves ? shape.forward : []) {
    for (const s of f.streams) {
      if (s.state === 'Error') throw bad(`stream ${s.id} on ${keyspace}/${f.shard} is in Error (${s.message}); fix it and Workflow start before switching`);
      if (!o.reverse && s.copyStates.length > 0) throw bad(`stream ${s.id} on ${keyspace}/${f.shard} is still copying; switch traffic once the copy is done (Reshard status)`);
      if (!o.reverse && s.progress.lagSeconds !== null && s.progress.lagSeconds > o.maxLagSeconds) {
        throw bad(`stream ${s.id} on ${keyspace}/${f.shard} lags ${s.progress.lagSeconds}s, more than --max-replication-lag-allowed ${o.maxLagSeconds}s`);
      }
    }
  }
  const primaryMoves = types.includes('primary') && [...by.get('primary')!.values()].some((v) => v !== want);
  if (primaryMoves && !o.reverse) {
    for (const t of ['rdonly', 'replica'] as const) {
      const pending = [...by.get(t)!].filter(([, v]) => v !== 'targets');
      if (pending.length > 0 && !types.includes(t)) {
        throw bad(`switch ${t} reads first: writes move only after reads (run switchtraffic --tablet-types ${t}, or switch every type at once)`);
      }
    }
  }
  if (o.reverse && [...by.get('primary')!.values()].some((v) => v === 'targets')) {
    for (const t of ['rdonly', 'replica'] as const) {
      if (types.includes(t) && !types.includes('primary')) throw bad(`reverse the writes first: reads stay on the shards that take the writes (run reversetraffic --tablet-types primary)`);
    }
  }
  if (o.dryRun) {
    for (const t of types) steps.push(`would switch ${t} of ${keyspace} from ${from.join(',')} to ${to.join(',')}`);
    return { summary: `dry run of ${o.reverse ? 'ReverseTraffic' : 'SwitchTraffic'} for ${keyspace}.${workflow}`, steps, startState, state: startState };
  }

  // Reads first (rdonly, replica), in the cells asked for.
  for (const t of types.filter((x) => x !== 'primary')) {
    const cells = [...by.get(t)!].filter(([cell, v]) => v !== want && (o.cells.length === 0 || o.cells.includes(cell))).map(([cell]) => cell);
    if (cells.length === 0) continue;
    await topo.switchServedShards(keyspace, t, from, to, { cells });
    steps.push(`switched ${t} reads to ${to.join(',')} in ${cells.join(',')}`);
  }
  let writePauseMs: number | undefined;
  if (primaryMoves) {
    // The streams that catch up: the forward ones on the targets, or the reverse ones on the sources.
    if (o.reverse && (await gatherStreams(topo, calls, keyspace, reverseName, shape.sources)).length === 0) {
      throw bad(`no reverse workflow ${reverseName}: traffic was switched without --enable-reverse-replication, so it cannot be reversed`);
    }
    const timed: Timed = async (label, fn) => {
      const t0 = Date.now();
      const out = await fn();
      steps.push(`${label} (${Date.now() - t0} ms)`);
      return out;
    };
    writePauseMs = await switchShardWrites(
      topo,
      calls,
      {
        keyspace,
        userWorkflow: workflow,
        workflow: o.reverse ? reverseName : workflow,
        action: o.reverse ? 'ReverseTraffic' : 'SwitchTraffic',
        from,
        to,
        timeoutMs: o.timeoutMs,
        // Reversing restarts the forward workflow: what the new serving side takes must reach the other.
        enableReverseReplication: o.reverse || o.enableReverseReplication,
      },
      timed,
    );
  }
  for (const t of await tabletsOf(topo, keyspace, [...shape.sources, ...shape.targets])) await calls.refreshState(t).catch(() => undefined);
  const state = await reshardTrafficState(topo, keyspace, shape.sources, shape.targets);
  return {
    summary: `${o.reverse ? 'ReverseTraffic' : 'SwitchTraffic'} was successful for workflow ${keyspace}.${workflow}${writePauseMs !== undefined ? `; write pause: ${writePauseMs} ms` : ''}`,
    steps,
    startState,
    state,
    ...(writePauseMs !== undefined ? { writePauseMs } : {}),
  };
}

/** Complete: every type moved; the workflow's streams (and its reverse's) go. Source shards stay for DeleteShards. */
export async function reshardComplete(topo: TopoServer, calls: WorkflowTabletCalls, keyspace: string, workflow: string): Promise<{ summary: string }> {
  const shape = await shapeOf(topo, calls, keyspace, workflow);
  const by = await servedBy(topo, keyspace, shape.sources, shape.targets);
  for (const t of SWITCH_ORDER) {
    if ([...by.get(t)!.values()].some((v) => v !== 'targets')) throw bad(`${t} traffic is not switched to ${shape.targets.join(',')} yet; run Reshard switchtraffic first (complete ends a workflow whose traffic has all moved)`);
  }
  for (const f of shape.forward) await calls.vreplicationDelete(f.tablet, workflow);
  for (const shard of shape.sources) await calls.vreplicationDelete(await primaryOf(topo, keyspace, shard), `${workflow}_reverse`).catch(() => 0);
  return { summary: `Successfully completed the ${workflow} workflow in the ${keyspace} keyspace; the source shards ${shape.sources.join(',')} no longer serve (DeleteShards --recursive removes them)` };
}
