// Reshard: a keyspace's rows move from one set of shards to another covering the same key range
// (a split 0 → -80,80-, a merge -80,80- → 0, any uneven set). One stream per (target shard,
// intersecting source shard) on the target shard's primary, with the rule `{match: "/.*",
// filter: "<target shard>"}`: every table of the keyspace, each row placed by its table's primary
// vindex, in the copy and in replication alike (src/vreplication/filter.ts).
//
// This file creates the workflow; show, status, start, stop and cancel are the Workflow ones.
// Switching traffic (the serving graph per tablet type, query_service_disabled on the source
// primaries, reverse streams) is not built yet and says so.
import { compareKeyBytes, keyRangeIntersection, keyRangesIntersect, keyRangeToShardName, parseShardName, toHex, type KeyRange } from '../key/index.js';
import { ER, TesseraError } from '../mysql/errors.js';
import { quoteIdent } from '../sql/index.js';
import type { Tablet, TopoServer } from '../topo/index.js';
import { parseKeyspaceVSchema } from '../vschema/index.js';
import { formatBinlogSource, type OnDdl } from '../vreplication/binlog-source.js';
import type { CreateStreamWire, WorkflowTabletCalls } from './types.js';
import { WORKFLOW_TYPE } from './types.js';

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
  const s = await topo.getShard(keyspace, shard).catch(() => {
    throw bad(`shard ${keyspace}/${shard} does not exist; create it (CreateShard) and start its tablets first`);
  });
  if (s.value.primary_alias === null) throw bad(`shard ${keyspace}/${shard} has no primary; run InitShardPrimary ${keyspace}/${shard} <tablet> first`);
  return { tablet: (await topo.getTablet(s.value.primary_alias)).value, serving: s.value.is_primary_serving };
}

/** Checks everything, copies the schema to the target shards, then creates the streams. */
export async function reshardCreate(topo: TopoServer, calls: WorkflowTabletCalls, r: ReshardCreateRequest): Promise<{ streams: { tablet: string; shard: string; ids: number[] }[] }> {
  if (!/^[A-Za-z0-9_.-]+$/.test(r.workflow)) throw bad(`workflow name ${r.workflow}: use letters, digits, '_', '-' and '.'`);
  await topo.getKeyspace(r.keyspace).catch(() => {
    throw bad(`keyspace ${r.keyspace} does not exist`);
  });
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
