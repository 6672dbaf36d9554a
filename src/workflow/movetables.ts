// MoveTables: moves whole tables from one keyspace to another while they serve traffic. `create`
// copies them (a Materialize of `select * from t` per table, workflow_type MoveTables) and routes
// every spelling of each table to the source; `switchtraffic` moves reads by rewriting the
// @replica/@rdonly routing rules, then writes with a short, measured pause: deny the tables on the
// source primaries, let the streams catch up, start replication back (`<workflow>_reverse`) and
// route the primary rules to the target (switch-writes.ts). A failure before the journal written
// on the source primaries is rolled back; after it, the switch is finished (switch-journal.ts).
// `reversetraffic` is the same switch run on the reverse workflow; `complete` drops the source
// tables; `cancel` drops the target's.
//
// A partial MoveTables (`--source-shards`, workflow_sub_type 1) moves the tables of some shards
// only, between two keyspaces with the same shards. Its traffic moves per shard and by shard
// routing rules, reads and writes together: create routes every (target, shard) to the source;
// switchtraffic replaces (target, shard) → source by (source, shard) → target for its shards;
// the table routing rules keep pointing at the source throughout, and gates started with
// --enable-partial-keyspace-migration swap the keyspace once a query's shard is known.
//
// The workflow has no record of its own: its streams (on the target primaries), the routing rules
// and the shard tablet controls are the state, as in Vitess, so every command reads them afresh;
// only a write switch under way keeps a record in topo, until it is finished or rolled back.
import { ER, TesseraError } from '../mysql/errors.js';
import { quoteIdent } from '../sql/index.js';
import { compareKeyRanges, keyRangesIntersect, parseShardName } from '../key/index.js';
import { readOrMissing, type Json, type KeyspaceVSchema, type RoutingRules, type ShardRoutingRules, type Tablet, type TopoLock, type TopoServer } from '../topo/index.js';
import { parseKeyspaceVSchema } from '../vschema/index.js';
import { formatBinlogSource, parseBinlogSource } from '../vreplication/binlog-source.js';
import { createStreams, ruleFor, type MaterializeCreateRequest } from './materialize.js';
import type { CreateStreamWire, WorkflowTabletCalls } from './types.js';
import { WORKFLOW_SUB_TYPE, WORKFLOW_TYPE } from './types.js';
import { existingWorkflows, gatherStreams, type ShardStreams } from './workflow.js';
import { StepError, switchWrites } from './switch-writes.js';
import { applySequencePlan, planSequences, sequencePrimary, type AutoIncrementHandling } from './sequences.js';
import { dropCellReadRules, readCells, readsRoutedTo, readsText, switchReadsInCells } from './read-switch.js';

export const MOVETABLES_DEFAULTS = {
  /** --timeout of switchtraffic/reversetraffic: how long the streams get to reach the source's position while writes are stopped. */
  switchTimeoutMs: 30_000,
  /** --max-replication-lag-allowed: a stream further behind than this refuses the write switch before anything is stopped. */
  maxReplicationLagAllowedSeconds: 30,
  /**
   * How long transactions already open on the moved tables get to finish after the deny: the
   * switch takes `LOCK TABLES … READ` on the source primaries, which waits for them
   * (lock_wait_timeout); past this the switch fails and is rolled back.
   */
  drainGraceSeconds: 5,
};

const READ_TYPES = ['replica', 'rdonly'] as const;

function bad(message: string): TesseraError {
  return new TesseraError(ER.WRONG_ARGUMENTS, message);
}

export interface MoveTablesCreateRequest extends Omit<MaterializeCreateRequest, 'tableSettings'> {
  readonly tables: readonly string[];
  readonly allTables: boolean;
  readonly excludeTables: readonly string[];
  readonly sourceShards: readonly string[];
  readonly noRoutingRules: boolean;
  /**
   * --atomic-copy: every table from one consistent snapshot, then replication with the target's
   * foreign keys enforced (workflow_sub_type 2; src/vreplication/atomic-copy.ts). As in Vitess it
   * needs --all-tables and takes no --tables or --exclude-tables.
   */
  readonly atomicCopy?: boolean;
  /** Into a sharded keyspace: what becomes of AUTO_INCREMENT (sequences.ts); REMOVE when absent. */
  readonly shardedAutoIncrementHandling?: AutoIncrementHandling;
  /** REPLACE: the unsharded keyspace the sequence tables are created in. */
  readonly globalKeyspace?: string;
}

/** What the streams of a MoveTables workflow say about it. */
export interface MoveTablesInfo {
  readonly workflow: string;
  readonly sourceKeyspace: string;
  readonly targetKeyspace: string;
  readonly tables: readonly string[];
  readonly streams: readonly ShardStreams[];
  /** Every stream says FROZEN: its writes were switched away (the other direction serves). */
  readonly frozen: boolean;
  /** A partial MoveTables (workflow_sub_type 1): traffic moves by shard routing rules. */
  readonly partial: boolean;
  /** The source shards its streams read, in key order (for a partial one, the shards it moves). */
  readonly shards: readonly string[];
}

export function reverseWorkflowName(workflow: string): string {
  return workflow.endsWith('_reverse') ? workflow.slice(0, -'_reverse'.length) : `${workflow}_reverse`;
}

async function primariesOf(topo: TopoServer, keyspace: string): Promise<{ shard: string; tablet: Tablet }[]> {
  const out: { shard: string; tablet: Tablet }[] = [];
  for (const s of await topo.getShards(keyspace)) {
    if (s.shard.primary_alias === null) throw bad(`shard ${keyspace}/${s.name} has no primary; run InitShardPrimary ${keyspace}/${s.name} <tablet> first`);
    out.push({ shard: s.name, tablet: (await topo.getTablet(s.shard.primary_alias)).value });
  }
  return out;
}

/** The primaries of `keyspace`, only of `shards` when given (a partial workflow's shards). */
export async function primariesIn(topo: TopoServer, keyspace: string, shards: readonly string[] | null): Promise<{ shard: string; tablet: Tablet }[]> {
  const all = await primariesOf(topo, keyspace);
  return shards === null ? all : all.filter((p) => shards.includes(p.shard));
}

export async function vschemaOf(topo: TopoServer, keyspace: string): Promise<KeyspaceVSchema> {
  try {
    return await topo.getVSchema(keyspace);
  } catch {
    return {};
  }
}

function vschemaTables(v: KeyspaceVSchema): Record<string, Json> {
  const t = v.tables;
  return t && typeof t === "object" && !Array.isArray(t) ? (t as Record<string, Json>) : {};
}

// ---- routing rules --------------------------------------------------------------------------

type RuleMap = Map<string, string>;

export function ruleMap(r: RoutingRules): RuleMap {
  return new Map(r.rules.map((x) => [x.from_table, x.to_tables[0]]));
}

export function ruleList(m: RuleMap): RoutingRules {
  return { rules: [...m.entries()].map(([from_table, to]) => ({ from_table, to_tables: [to] })) };
}

/** Every spelling a client may use for `table` while it moves (Vitess writes these eight). */
function spellings(source: string, target: string, table: string): string[] {
  const out = [table, `${target}.${table}`];
  for (const tt of READ_TYPES) out.push(`${table}@${tt}`, `${target}.${table}@${tt}`, `${source}.${table}@${tt}`);
  return out;
}

// ---- shard routing rules (partial MoveTables) ----------------------------------------------------

type ShardRuleMap = Map<string, string>;

export function shardRuleMap(r: ShardRoutingRules): ShardRuleMap {
  return new Map(r.rules.map((x) => [`${x.from_keyspace}/${x.shard}`, x.to_keyspace]));
}

export function shardRuleList(m: ShardRuleMap): ShardRoutingRules {
  return {
    rules: [...m.entries()].map(([k, to_keyspace]) => {
      const i = k.indexOf('/');
      return { from_keyspace: k.slice(0, i), to_keyspace, shard: k.slice(i + 1) };
    }),
  };
}

/** Whether some shard routing rule still sends one of the two keyspaces' shards to the other. */
function rulesBetween(m: ShardRuleMap, a: string, b: string): boolean {
  for (const [k, to] of m) {
    const from = k.slice(0, k.indexOf('/'));
    if ((from === a && to === b) || (from === b && to === a)) return true;
  }
  return false;
}

/** The shards of `keyspace` (in key order) whose traffic shard routing rules send to `to`. */
async function shardsRoutedTo(topo: TopoServer, keyspace: string, to: string): Promise<{ switched: string[]; notSwitched: string[] }> {
  const m = shardRuleMap(await topo.getShardRoutingRules());
  const switched: string[] = [];
  const notSwitched: string[] = [];
  for (const s of await topo.getShards(keyspace)) (m.get(`${keyspace}/${s.name}`) === to ? switched : notSwitched).push(s.name);
  return { switched, notSwitched };
}

/**
 * Warnings naming the registered gates that run without --enable-partial-keyspace-migration: they
 * ignore shard routing rules, so they keep sending a switched shard's queries to the source.
 */
async function gatesIgnoringShardRules(topo: TopoServer, keyspace: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for (const cell of await topo.getCellInfoNames()) {
      for (const g of await topo.getGates(cell)) {
        if (!g.record.enable_partial_keyspace_migration) {
          out.push(`gate ${g.name} (cell ${cell}) runs without --enable-partial-keyspace-migration: it ignores shard routing rules and keeps sending every query for keyspace ${keyspace} to the shards of ${keyspace}; restart it with the flag (tessera up: gate: { enablePartialKeyspaceMigration: true })`);
        }
      }
    }
  } catch {
    // Warnings only: a topology that cannot list gates changes nothing about the workflow.
  }
  return out;
}

/**
 * Traffic state as Vitess words it, read from the routing rules of the first table; for a partial
 * MoveTables from the shard routing rules of the whole source keyspace (a shard moved by another
 * partial workflow between the same keyspaces counts), as Vitess reports it.
 */
export async function trafficState(
  topo: TopoServer,
  info: Pick<MoveTablesInfo, 'sourceKeyspace' | 'targetKeyspace' | 'tables'> & { partial?: boolean; shards?: readonly string[] },
): Promise<{ replica: boolean; rdonly: boolean; writes: boolean; text: string; switchedShards?: string[]; notSwitchedShards?: string[]; replicaCells?: string[]; rdonlyCells?: string[] }> {
  if (info.partial) {
    const { switched, notSwitched } = await shardsRoutedTo(topo, info.sourceKeyspace, info.targetKeyspace);
    // This workflow's own shards decide what it may do next; the text speaks for the keyspace.
    const mine = (info.shards ?? []).every((s) => switched.includes(s)) && (info.shards ?? []).length > 0;
    let text: string;
    if (switched.length === 0) text = 'Reads Not Switched. Writes Not Switched';
    else if (notSwitched.length === 0) text = 'All Reads Switched. All Writes Switched';
    else text = `Reads partially switched, for shards: ${switched.join(',')}. Writes partially switched, for shards: ${switched.join(',')}`;
    return { replica: mine, rdonly: mine, writes: mine, text, switchedShards: switched, notSwitchedShards: notSwitched };
  }
  const rules = ruleMap(await topo.getRoutingRules());
  const table = info.tables[0];
  const writes = rules.get(table)?.split('.')[0] === info.targetKeyspace;
  // Reads per cell (read-switch.ts): `replica`/`rdonly` mean switched in every cell.
  const reads = await readsRoutedTo(topo, table, info.targetKeyspace);
  return {
    replica: reads.replica.not.length === 0,
    rdonly: reads.rdonly.not.length === 0,
    writes,
    text: `${readsText(reads)}. ${writes ? 'Writes Switched' : 'Writes Not Switched'}`,
    replicaCells: reads.replica.switched,
    rdonlyCells: reads.rdonly.switched,
  };
}

// ---- create ---------------------------------------------------------------------------------

/**
 * Foreign keys among the moved tables, as warnings for a create without --atomic-copy: the
 * ordinary copy reads each table from its own snapshots and replays the binlog in between with
 * the target's checks off, and MariaDB leaves the rows an ON DELETE CASCADE removes out of the
 * binlog, so the target may end with orphan rows. Behaviour is unchanged: the create goes on.
 */
async function foreignKeyWarnings(calls: WorkflowTabletCalls, source: Tablet, tables: readonly string[]): Promise<string[]> {
  const r = await calls.executeFetchAsDba(
    source,
    'SELECT TABLE_NAME, REFERENCED_TABLE_NAME, CONSTRAINT_NAME, DELETE_RULE FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() ORDER BY TABLE_NAME, CONSTRAINT_NAME',
  );
  const out: string[] = [];
  for (const [child, parent, name, onDelete] of r.rows) {
    if (child === null || !tables.includes(child)) continue;
    out.push(
      `table ${child} has foreign key ${name ?? ''} to ${parent ?? '?'}${onDelete && onDelete !== 'RESTRICT' && onDelete !== 'NO ACTION' ? ` (ON DELETE ${onDelete})` : ''}: ` +
        'without --atomic-copy the tables are copied from different snapshots and replayed with foreign key checks off, so the target can end with orphan rows; ' +
        'to move tables tied by foreign keys, cancel this workflow and create it again with --all-tables --atomic-copy',
    );
  }
  return out;
}

/**
 * Creates a MoveTables workflow: checks everything first, then routing rules (to the source),
 * the target VSchema, the target tables and the streams, undoing what it made when a later
 * step fails, so that a refused create leaves nothing behind.
 */
export async function moveTablesCreate(
  topo: TopoServer,
  calls: WorkflowTabletCalls,
  r: MoveTablesCreateRequest,
): Promise<{ summary: string; tables: string[]; streams: { tablet: string; shard: string; ids: number[] }[]; warnings?: string[] }> {
  if (r.sourceKeyspace === r.targetKeyspace) throw bad(`source and target keyspace are both ${r.sourceKeyspace}; MoveTables moves tables between two keyspaces`);
  await readOrMissing(`keyspace ${r.sourceKeyspace}`, () => topo.getKeyspace(r.sourceKeyspace), () => bad(`source keyspace ${r.sourceKeyspace} does not exist`));
  await readOrMissing(`keyspace ${r.targetKeyspace}`, () => topo.getKeyspace(r.targetKeyspace), () => bad(`target keyspace ${r.targetKeyspace} does not exist; create it (CreateKeyspace) and its tablets first`));
  const sources = await primariesOf(topo, r.sourceKeyspace);
  const targets = await primariesOf(topo, r.targetKeyspace);
  if (sources.length === 0) throw bad(`source keyspace ${r.sourceKeyspace} has no shards`);
  if (targets.length === 0) throw bad(`target keyspace ${r.targetKeyspace} has no shards`);
  for (const sh of r.sourceShards) {
    if (!sources.some((s) => s.shard === sh)) throw bad(`--source-shards: ${sh} is not a shard of source keyspace ${r.sourceKeyspace} (its shards: ${sources.map((s) => s.shard).join(',')})`);
  }
  // A subset of the source shards is a partial MoveTables (workflow_sub_type 1), as in Vitess. Its
  // traffic moves shard by shard through shard routing rules, which map a shard of one keyspace
  // to the same shard of the other: both keyspaces need the same shards.
  const partial = r.sourceShards.length > 0 && sources.some((s) => !r.sourceShards.includes(s.shard));
  if (partial) {
    const a = sources.map((s) => s.shard).join(',');
    const b = targets.map((t) => t.shard).join(',');
    if (a !== b) {
      throw bad(`a partial MoveTables (--source-shards ${r.sourceShards.join(',')}) moves traffic shard by shard, so keyspaces ${r.sourceKeyspace} and ${r.targetKeyspace} must have the same shards: ${r.sourceKeyspace} has ${a}, ${r.targetKeyspace} has ${b}; create ${r.targetKeyspace}'s shards to match, or move all shards (no --source-shards)`);
    }
  }

  if (r.atomicCopy) {
    const why: string[] = [];
    if (!r.allTables) why.push('it requires --all-tables');
    if (r.tables.length > 0 || r.excludeTables.length > 0) why.push('it does not take --tables or --exclude-tables');
    if (partial) why.push('it does not take --source-shards (a partial MoveTables)');
    if (why.length > 0) throw bad(`--atomic-copy copies every table of the source keyspace from one snapshot: ${why.join('; ')}`);
  }

  // The workflow name: unused on the target, and its reverse unused on the source.
  for (const [ks, name] of [[r.targetKeyspace, r.workflow], [r.sourceKeyspace, reverseWorkflowName(r.workflow)]] as const) {
    if ((await gatherStreams(topo, calls, ks, name)).length > 0) throw bad(`workflow ${name} already exists in keyspace ${ks}; pick another --workflow or delete it first`);
  }

  // A partial MoveTables owns its shards between the two keyspaces: one shard routing rule per
  // shard decides which keyspace serves every table of that shard, so a second workflow on the
  // same shard would switch (and its cancel would remove) the first one's routing.
  if (partial) {
    const onShards = await gatherStreams(topo, calls, r.targetKeyspace, undefined, r.sourceShards);
    for (const f of onShards) {
      const other = f.streams.find((st) => parseBinlogSource(st.source).keyspace === r.sourceKeyspace);
      if (other) throw bad(`shard ${f.shard} is already being moved from ${r.sourceKeyspace} to ${r.targetKeyspace} by workflow ${other.workflow}: a shard can be in one partial MoveTables at a time; switch and complete, or cancel, ${other.workflow} first`);
    }
    const moved = shardRuleMap(await topo.getShardRoutingRules());
    for (const sh of r.sourceShards) {
      if (moved.get(`${r.sourceKeyspace}/${sh}`) === r.targetKeyspace) throw bad(`shard ${sh} of ${r.sourceKeyspace} is already served by ${r.targetKeyspace} (shard routing rule ${r.sourceKeyspace}/${sh} -> ${r.targetKeyspace}): it has been moved; complete or reverse that workflow first`);
    }
  }

  // Tables: named ones must exist on the source; --all-tables takes every base table.
  const sourceSchema = await calls.getSchema(sources[0].tablet);
  const baseTables = sourceSchema.filter((t) => t.type === 'BASE TABLE' || t.type === '').map((t) => t.name);
  let tables: string[];
  if (r.allTables) {
    if (r.tables.length > 0) throw bad('give either --tables or --all-tables, not both');
    tables = baseTables.filter((t) => !r.excludeTables.includes(t));
  } else {
    if (r.tables.length === 0) throw bad('give the tables to move: --tables t1,t2 or --all-tables');
    tables = [...new Set(r.tables)];
  }
  if (tables.length === 0) throw bad(`no table to move in source keyspace ${r.sourceKeyspace}`);
  for (const t of tables) {
    if (!baseTables.includes(t)) throw new TesseraError(ER.NO_SUCH_TABLE, `table ${t} does not exist in source keyspace ${r.sourceKeyspace} (${r.sourceKeyspace}/${sources[0].shard}); check --tables`);
  }

  const fkWarnings = r.atomicCopy ? [] : await foreignKeyWarnings(calls, sources[0].tablet, tables);

  // Not already moving or moved: no routing rule may name these tables yet.
  const rules = await topo.getRoutingRules();
  const shardRulesBefore = await topo.getShardRoutingRules();
  const taken = new Set(tables.flatMap((t) => [...spellings(r.sourceKeyspace, r.targetKeyspace, t), `${r.sourceKeyspace}.${t}`]));
  // Another partial MoveTables between the same keyspaces (other shards) wrote these same rules,
  // all pointing at the source: the next shard's workflow shares them.
  const sharedWithPartial = (x: { from_table: string; to_tables: string[] }): boolean =>
    partial && rulesBetween(shardRuleMap(shardRulesBefore), r.sourceKeyspace, r.targetKeyspace) && x.to_tables[0] === `${r.sourceKeyspace}.${x.from_table.replace(/^.*\./, '').replace(/@.*$/, '')}`;
  const clash = rules.rules.find((x) => taken.has(x.from_table) && !sharedWithPartial(x));
  if (clash) throw bad(`table ${clash.from_table.replace(/@.*$/, '')} already has routing rules (${clash.from_table} -> ${clash.to_tables[0]}): it is being moved by another workflow or was moved already; finish or cancel that one first`);

  // The target must not hold rows of these tables: the copy would mix them with the source's.
  for (const t of targets) {
    // A partial workflow fills only its own shards; the others may hold rows another one moved.
    if (partial && !r.sourceShards.includes(t.shard)) continue;
    const schema = await calls.getSchema(t.tablet);
    for (const name of tables) {
      if (!schema.some((x) => x.name === name)) continue;
      const rows = await calls.executeFetchAsDba(t.tablet, `SELECT 1 FROM ${quoteIdent(name)} LIMIT 1`);
      if (rows.rows.length > 0) throw bad(`table ${name} already exists in target keyspace ${r.targetKeyspace} (${r.targetKeyspace}/${t.shard}) and holds rows; empty or drop it first`);
    }
  }

  // VSchema: an unsharded target takes each table's entry from the source's VSchema (or a plain
  // one); a sharded target must already name each table's primary vindex — Tessera does not
  // guess one.
  const targetVSchema = await vschemaOf(topo, r.targetKeyspace);
  const targetSharded = parseKeyspaceVSchema(r.targetKeyspace, targetVSchema).sharded;
  const sourceVSchema = await vschemaOf(topo, r.sourceKeyspace);
  const sourceSharded = parseKeyspaceVSchema(r.sourceKeyspace, sourceVSchema).sharded;
  const newTargetVSchema: KeyspaceVSchema = { ...targetVSchema, tables: { ...vschemaTables(targetVSchema) } as Record<string, Json> };
  const tt = newTargetVSchema.tables as Record<string, Json>;
  for (const t of tables) {
    if (targetSharded) {
      if (!(t in tt)) throw bad(`table ${t} is not in the VSchema of sharded target keyspace ${r.targetKeyspace}; add it with its primary vindex (ApplyVSchema) before MoveTables create`);
    } else if (!(t in tt)) {
      const fromSource = vschemaTables(sourceVSchema)[t];
      tt[t] = (!sourceSharded && fromSource && typeof fromSource === 'object' ? fromSource : {}) as Json;
    }
  }

  // AUTO_INCREMENT into a sharded target: each shard would count on its own (sequences.ts).
  const aiMode = r.shardedAutoIncrementHandling ?? 'REMOVE';
  const seqPlan = targetSharded && aiMode === 'REPLACE' ? await planSequences(topo, calls, sources[0].tablet, tables, tt, r.globalKeyspace ?? '') : null;
  const globalBefore = seqPlan && seqPlan.tables.size > 0 ? await vschemaOf(topo, seqPlan.globalKeyspace) : null;
  const seqCreated: string[] = [];

  const before = { rules, vschema: targetVSchema, hadVSchema: Object.keys(targetVSchema).length > 0 };
  const created: string[] = [];
  try {
    if (!r.noRoutingRules) {
      await topo.updateRoutingRules((cur) => {
        const m = ruleMap(cur);
        for (const t of tables) for (const from of spellings(r.sourceKeyspace, r.targetKeyspace, t)) m.set(from, `${r.sourceKeyspace}.${t}`);
        return ruleList(m);
      });
      if (partial) {
        // Queries aimed at the target keyspace reach the data where it is: every shard not moved
        // yet (no rule in either direction) is routed from the target back to the source.
        await topo.updateShardRoutingRules((cur) => {
          const m = shardRuleMap(cur);
          const size = m.size;
          for (const t of targets) {
            if (!m.has(`${r.targetKeyspace}/${t.shard}`) && !m.has(`${r.sourceKeyspace}/${t.shard}`)) m.set(`${r.targetKeyspace}/${t.shard}`, r.sourceKeyspace);
          }
          return m.size === size ? false : shardRuleList(m);
        });
      }
    }
    if (seqPlan) {
      const ai = await applySequencePlan(topo, calls, seqPlan, seqCreated);
      for (const [t, entry] of Object.entries(ai)) tt[t] = { ...(tt[t] as Record<string, Json>), auto_increment: entry };
    }
    await topo.saveVSchema(r.targetKeyspace, newTargetVSchema as never);
    await topo.rebuildVSchemaGraph();
    // Which target tables createStreams will make, to drop them again if a later step fails.
    for (const t of targets) {
      const schema = await calls.getSchema(t.tablet);
      for (const name of tables) if (!schema.some((x) => x.name === name)) created.push(`${t.shard}\u0000${name}`);
    }
    const res = await createStreams(topo, calls, {
      ...r,
      tableSettings: tables.map((t) => ({ target_table: t, source_expression: `select * from ${quoteIdent(t)}`, create_ddl: 'copy' })),
      workflowType: WORKFLOW_TYPE.MoveTables,
      workflowSubType: r.atomicCopy ? WORKFLOW_SUB_TYPE.AtomicCopy : partial ? WORKFLOW_SUB_TYPE.Partial : WORKFLOW_SUB_TYPE.None,
      sourceShards: r.sourceShards,
      removeAutoIncrement: targetSharded && aiMode !== 'LEAVE',
    });
    if (res.streams.length === 0) throw bad('no stream was created: no source shard overlaps a target shard');
    const warnings = [...(partial ? await gatesIgnoringShardRules(topo, r.sourceKeyspace) : []), ...fkWarnings];
    return {
      ...(warnings.length ? { warnings } : {}),
      summary: `Successfully created the ${r.workflow} ${partial ? 'partial ' : ''}MoveTables workflow on (${res.streams.length}) target primary tablets in the ${r.targetKeyspace} keyspace${partial ? ` (shards ${r.sourceShards.join(',')})` : ''}`,
      tables,
      streams: res.streams,
    };
  } catch (err) {
    // Undo in reverse order; each undo is best effort and the original error is what the user sees.
    for (const t of targets) await calls.vreplicationDelete(t.tablet, r.workflow).catch(() => 0);
    for (const key of created) {
      const [shard, name] = key.split('\u0000');
      const t = targets.find((x) => x.shard === shard);
      if (t) await calls.applySchema(t.tablet, `DROP TABLE IF EXISTS ${quoteIdent(name)}`).catch(() => undefined);
    }
    if (before.hadVSchema) await topo.saveVSchema(r.targetKeyspace, before.vschema as never).catch(() => undefined);
    else await topo.deleteVSchema(r.targetKeyspace).catch(() => undefined);
    if (!r.noRoutingRules) await topo.saveRoutingRules(before.rules as never).catch(() => undefined);
    if (seqPlan && globalBefore) {
      await topo.saveVSchema(seqPlan.globalKeyspace, globalBefore as never).catch(() => undefined);
      const g = await sequencePrimary(topo, seqPlan.globalKeyspace).catch(() => null);
      if (g) for (const seq of seqCreated) await calls.applySchema(g, `DROP TABLE IF EXISTS ${quoteIdent(seq)}`).catch(() => undefined);
    }
    if (!r.noRoutingRules && partial) await topo.updateShardRoutingRules(() => shardRulesBefore).catch(() => undefined);
    await topo.rebuildVSchemaGraph().catch(() => undefined);
    throw err;
  }
}

// ---- reading a workflow ---------------------------------------------------------------------

/** The MoveTables workflow `workflow` of target keyspace `keyspace`, from its streams. */
export async function moveTablesInfo(topo: TopoServer, calls: WorkflowTabletCalls, keyspace: string, workflow: string): Promise<MoveTablesInfo> {
  const found = await gatherStreams(topo, calls, keyspace, workflow);
  if (found.length === 0) throw bad(`workflow ${workflow} not found in keyspace ${keyspace}${await existingWorkflows(topo, calls, keyspace)}`);
  const sources = new Set<string>();
  const tables = new Set<string>();
  const shards = new Set<string>();
  let frozen = true;
  let partial = false;
  for (const f of found) {
    for (const s of f.streams) {
      if (s.workflowType !== WORKFLOW_TYPE.MoveTables) throw bad(`workflow ${keyspace}.${workflow} is not a MoveTables workflow`);
      if (s.workflowSubType === WORKFLOW_SUB_TYPE.Partial) partial = true;
      const src = parseBinlogSource(s.source);
      sources.add(src.keyspace);
      shards.add(src.shard);
      for (const rule of src.filter.rules) tables.add(rule.match);
      if (s.message !== 'FROZEN') frozen = false;
    }
  }
  if (sources.size !== 1) throw bad(`workflow ${keyspace}.${workflow} reads from several keyspaces (${[...sources].join(', ')})`);
  const inOrder = [...shards].sort((a, b) => compareKeyRanges(parseShardName(a), parseShardName(b)));
  return { workflow, sourceKeyspace: [...sources][0], targetKeyspace: keyspace, tables: [...tables].sort(), streams: found, frozen, partial, shards: inOrder };
}

// ---- switching traffic ----------------------------------------------------------------------

export interface SwitchOptions {
  /** Which traffic: any of primary, replica, rdonly (all when empty). */
  readonly tabletTypes: readonly string[];
  readonly timeoutMs: number;
  readonly maxReplicationLagAllowedSeconds: number;
  readonly enableReverseReplication: boolean;
  readonly dryRun: boolean;
  /** reversetraffic: the switch runs on the reverse workflow (writes) and points reads back to the source. */
  readonly direction: 'forward' | 'backward';
  /** Sets each moved table's sequence above the largest id on the target while writes are stopped. */
  readonly initializeTargetSequences?: boolean;
  /** The cells whose reads move (every cell when empty or absent); writes move in every cell at once. */
  readonly cells?: readonly string[];
}

export interface SwitchResult {
  summary: string;
  start_state: string;
  current_state: string;
  /** Deny on the source to routing switched, in ms; null when writes did not move. */
  write_pause_ms: number | null;
  steps: { step: string; ms: number }[];
  dry_run_results?: string[];
  /** Gates that ignore the shard routing rules a partial switch writes. */
  warnings?: string[];
}

export async function switchTraffic(topo: TopoServer, calls: WorkflowTabletCalls, info: MoveTablesInfo, o: SwitchOptions): Promise<SwitchResult> {
  const types = o.tabletTypes.length === 0 ? ['replica', 'rdonly', 'primary'] : [...new Set(o.tabletTypes)];
  for (const t of types) if (!['primary', 'replica', 'rdonly'].includes(t)) throw bad(`--tablet-types: ${t} is not primary, replica or rdonly`);
  // A partial workflow moves its shards' reads and writes together: one shard routing rule per
  // shard says which keyspace serves it, for every tablet type; the table routing rules stay.
  if (info.partial && !['primary', 'replica', 'rdonly'].every((t) => types.includes(t))) {
    throw bad(
      `${info.targetKeyspace}.${info.workflow} is a partial MoveTables (shards ${info.shards.join(',')}): its reads and writes move together, because one shard routing rule per shard decides which keyspace serves every tablet type of that shard; --tablet-types ${o.tabletTypes.join(',')} cannot move only some of them; give no --tablet-types`,
    );
  }
  const readTypes = info.partial ? [] : READ_TYPES.filter((t) => types.includes(t));
  const writes = types.includes('primary');
  // Where reads go: reversetraffic moves them back to the source.
  const to = o.direction === 'forward' ? info.targetKeyspace : info.sourceKeyspace;
  const state = await trafficState(topo, info);
  const start = state.text;
  let finishOnly = false;

  if (o.direction === 'forward') {
    if (info.frozen) throw bad(`workflow ${info.targetKeyspace}.${info.workflow} is frozen: its writes were switched already; use reversetraffic to move traffic back, or complete`);
    // Writes before reads leave reads on a side that no longer takes writes: refused (vitess#20923).
    // Reads count as switched once every cell's are, so a write switch after a read switch of
    // some cells only is refused too.
    const allCells = await readCells(topo);
    const cells = o.cells && o.cells.length > 0 ? o.cells : allCells;
    const after = (type: 'replica' | 'rdonly', before: readonly string[]) => {
      const moved = new Set([...before, ...(readTypes.includes(type) ? cells : [])]);
      return allCells.filter((c) => !moved.has(c));
    };
    const pending = { replica: after('replica', state.replicaCells ?? []), rdonly: after('rdonly', state.rdonlyCells ?? []) };
    if (writes && !info.partial && (pending.replica.length > 0 || pending.rdonly.length > 0 || (allCells.length === 0 && !((state.replica || readTypes.includes('replica')) && (state.rdonly || readTypes.includes('rdonly')))))) {
      const where = [...new Set([...pending.replica, ...pending.rdonly])].sort();
      throw bad(
        `cannot switch writes of ${info.targetKeyspace}.${info.workflow} before its reads${where.length ? ` in every cell (not yet switched in ${where.join(',')})` : ''}: switch replica,rdonly first (switchtraffic --tablet-types replica,rdonly${where.length ? ` --cells ${where.join(',')}` : ''}), or give no --tablet-types to switch everything`,
      );
    }
    // Writes switched but the forward workflow not frozen: an earlier run failed after the routing
    // switch; the steps left are idempotent and this run finishes them.
    if (writes && state.writes) finishOnly = true;
  } else if (writes && !state.writes) {
    const rev = await moveTablesInfo(topo, calls, info.sourceKeyspace, reverseWorkflowName(info.workflow)).catch(() => null);
    if (rev === null || rev.frozen) throw bad(`writes of ${info.targetKeyspace}.${info.workflow} are not switched (${start}); nothing to reverse`);
    finishOnly = true;
  }
  // Streams that carry the writes must be replicating: not copying, not in error, not far behind.
  const carrier = o.direction === 'forward' || !writes ? info : await moveTablesInfo(topo, calls, info.sourceKeyspace, reverseWorkflowName(info.workflow));
  if (!finishOnly && (writes || o.direction === 'forward')) {
    for (const f of carrier.streams) {
      for (const s of f.streams) {
        const where = `stream ${s.id} of ${carrier.targetKeyspace}.${carrier.workflow} on ${carrier.targetKeyspace}/${f.shard}`;
        if (o.direction === 'forward' && s.copyStates.length > 0) throw bad(`${where} is still copying; wait for the copy to finish (MoveTables status) before switching traffic`);
        if (s.state === 'Error') throw bad(`${where} is in Error (${s.message}); fix it before switching traffic`);
        if (writes && s.state !== 'Running') throw bad(`${where} is ${s.state}${s.message ? ` (${s.message})` : ''}, not Running; start it before switching writes`);
        const lag = s.progress.lagSeconds;
        if (writes && lag !== null && lag > o.maxReplicationLagAllowedSeconds) {
          throw bad(`${where} lags ${lag}s, more than --max-replication-lag-allowed ${o.maxReplicationLagAllowedSeconds}s; wait for it to catch up`);
        }
      }
    }
  }

  // Every primary the write switch touches must answer before anything is stopped.
  if (writes && !finishOnly) {
    for (const ks of [info.sourceKeyspace, info.targetKeyspace]) {
      for (const p of await primariesIn(topo, ks, info.partial ? info.shards : null)) {
        await calls.primaryPosition(p.tablet).catch((err: Error) => {
          throw new TesseraError(ER.UNKNOWN_ERROR, `primary ${ks}/${p.shard} (${p.tablet.alias.cell}-${String(p.tablet.alias.uid).padStart(10, '0')}) does not answer: ${err.message}; nothing was switched`);
        });
      }
    }
  }
  const steps: { step: string; ms: number }[] = [];
  const dry: string[] = [];
  const timed = async <T>(step: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    try {
      const r = await fn();
      steps.push({ step, ms: Date.now() - t0 });
      return r;
    } catch (err) {
      throw new StepError(step, err);
    }
  };

  if (readTypes.length > 0) {
    const inCells = o.cells && o.cells.length > 0 ? ` in cells ${o.cells.join(',')}` : '';
    if (o.dryRun) dry.push(`Switch reads of ${info.tables.join(',')} for tablet types ${readTypes.join(',')} to keyspace ${to}${inCells}`);
    else {
      await timed(`switch reads (${readTypes.join(',')}) to ${to}${inCells}`, () => switchReadsInCells(topo, info, readTypes, to, o.cells ?? []));
    }
  }

  let pause: number | null = null;
  if (writes) {
    const fwd = o.direction === 'forward' ? info : carrier;
    if (finishOnly) {
      if (o.dryRun) dry.push(`Writes are switched to ${fwd.targetKeyspace} already: start ${fwd.sourceKeyspace}.${reverseWorkflowName(fwd.workflow)} and freeze ${fwd.targetKeyspace}.${fwd.workflow}`);
      else await finishWrites(topo, calls, fwd, o, timed);
    } else if (o.dryRun) {
      dry.push(
        `Lock workflow ${info.targetKeyspace}.${info.workflow} and keyspaces ${fwd.sourceKeyspace} and ${fwd.targetKeyspace} (kept alive while the switch runs), and record each step in topo`,
        `Deny writes to ${fwd.tables.join(',')} on the primaries of ${fwd.sourceKeyspace} and wait for open transactions on them (up to ${MOVETABLES_DEFAULTS.drainGraceSeconds}s)`,
        `Wait until the streams of ${fwd.targetKeyspace}.${fwd.workflow} reach the positions of the ${fwd.sourceKeyspace} primaries (up to ${o.timeoutMs} ms), then stop them`,
        `Create the reverse workflow ${fwd.sourceKeyspace}.${reverseWorkflowName(fwd.workflow)} from the positions of the ${fwd.targetKeyspace} primaries`,
        ...(o.initializeTargetSequences ? [`Set the sequences of ${fwd.tables.join(',')} above the largest ids on the ${fwd.targetKeyspace} primaries`] : []),
        `Write the journal on the ${fwd.sourceKeyspace} primaries: the point of no return (a failure before it is rolled back, one after it is finished)`,
        fwd.partial
          ? `Allow writes to ${fwd.tables.join(',')} on ${fwd.targetKeyspace} shards ${fwd.shards.join(',')}; replace the shard routing rules ${fwd.shards.map((sh) => `${fwd.targetKeyspace}/${sh} -> ${fwd.sourceKeyspace}`).join(', ')} by ${fwd.shards.map((sh) => `${fwd.sourceKeyspace}/${sh} -> ${fwd.targetKeyspace}`).join(', ')}; rebuild SrvVSchema`
          : `Allow writes to ${fwd.tables.join(',')} on ${fwd.targetKeyspace} and route every spelling of them to ${fwd.targetKeyspace}; rebuild SrvVSchema`,
        o.enableReverseReplication ? `Start ${fwd.sourceKeyspace}.${reverseWorkflowName(fwd.workflow)}` : `Leave ${fwd.sourceKeyspace}.${reverseWorkflowName(fwd.workflow)} stopped (--enable-reverse-replication=false)`,
        `Mark the streams of ${fwd.targetKeyspace}.${fwd.workflow} FROZEN`,
        `Delete the switch record; unlock`,
      );
    } else {
      pause = await switchWrites(topo, calls, fwd, o, timed, {
        userKeyspace: info.targetKeyspace,
        userWorkflow: info.workflow,
        action: o.direction === 'forward' ? 'SwitchTraffic' : 'ReverseTraffic',
        initializeTargetSequences: o.initializeTargetSequences ?? false,
      });
    }
  }
  const current = o.dryRun ? start : (await trafficState(topo, info)).text;
  const verb = o.direction === 'forward' ? 'SwitchTraffic' : 'ReverseTraffic';
  const warnings = info.partial ? await gatesIgnoringShardRules(topo, info.sourceKeyspace) : [];
  return {
    ...(warnings.length ? { warnings } : {}),
    summary: o.dryRun ? `${verb} dry run for workflow ${info.targetKeyspace}.${info.workflow}` : `${verb} was successful for workflow ${info.targetKeyspace}.${info.workflow}`,
    start_state: start,
    current_state: current,
    write_pause_ms: pause,
    steps,
    ...(o.dryRun ? { dry_run_results: dry } : {}),
  };
}

/**
 * Adds (or with `remove`, lifts) the denial of `tables` on every primary of `keyspace` (of
 * `shards` only, for a partial workflow), and has them refresh.
 */
export async function denyTables(topo: TopoServer, calls: WorkflowTabletCalls, keyspace: string, tables: readonly string[], remove: boolean, lock?: TopoLock, shards: readonly string[] | null = null): Promise<void> {
  for (const p of await primariesIn(topo, keyspace, shards)) {
    const shard = (await topo.getShard(keyspace, p.shard)).value;
    const has = shard.tablet_controls.find((c) => c.tablet_type === 'primary')?.denied_tables ?? [];
    if (remove && !tables.some((t) => has.includes(t))) continue;
    if (!remove && tables.every((t) => has.includes(t))) {
      await calls.refreshState(p.tablet);
      continue;
    }
    await topo.setShardTabletControl(keyspace, p.shard, 'primary', { deniedTables: [...tables], remove }, lock);
    await calls.refreshState(p.tablet);
  }
}

/**
 * The steps after the routing switch, each idempotent, so that a rerun finishes what a failed run
 * left: start the reverse workflow, freeze the forward one.
 */
async function finishWrites(
  topo: TopoServer,
  calls: WorkflowTabletCalls,
  fwd: MoveTablesInfo,
  o: SwitchOptions,
  timed: <T>(step: string, fn: () => Promise<T>) => Promise<T>,
): Promise<void> {
  const S = fwd.sourceKeyspace;
  const reverse = reverseWorkflowName(fwd.workflow);
  if (o.enableReverseReplication) {
    await timed(`start ${S}.${reverse}`, async () => {
      for (const f of await gatherStreams(topo, calls, S, reverse)) {
        if (f.streams.some((x) => x.state === 'Stopped')) await calls.vreplicationUpdate(f.tablet, { workflow: reverse, state: 'Running' });
      }
    });
  }
  await timed(`freeze ${fwd.targetKeyspace}.${fwd.workflow}`, async () => {
    for (const f of await gatherStreams(topo, calls, fwd.targetKeyspace, fwd.workflow)) {
      await calls.vreplicationUpdate(f.tablet, { workflow: fwd.workflow, state: 'Stopped', message: 'FROZEN' });
    }
  });
}

// ---- complete and cancel ----------------------------------------------------------------------

async function dropFromVSchema(topo: TopoServer, keyspace: string, tables: readonly string[]): Promise<void> {
  const v = await vschemaOf(topo, keyspace);
  const t = { ...vschemaTables(v) };
  let changed = false;
  for (const name of tables) {
    if (name in t) {
      delete t[name];
      changed = true;
    }
  }
  if (changed) await topo.saveVSchema(keyspace, { ...v, tables: t } as never);
}

async function dropRules(topo: TopoServer, info: MoveTablesInfo): Promise<void> {
  await dropCellReadRules(topo, info);
  await topo.updateRoutingRules((cur) => {
    const m = ruleMap(cur);
    const before = m.size;
    for (const t of info.tables) {
      for (const ks of [info.sourceKeyspace, info.targetKeyspace]) {
        m.delete(`${ks}.${t}`);
        for (const tt of READ_TYPES) m.delete(`${ks}.${t}@${tt}`);
      }
      m.delete(t);
      for (const tt of READ_TYPES) m.delete(`${t}@${tt}`);
    }
    return m.size === before ? false : ruleList(m);
  });
}

export interface CompleteOptions {
  readonly keepData: boolean;
  readonly renameTables: boolean;
  readonly keepRoutingRules: boolean;
  readonly dryRun: boolean;
}

/**
 * After all traffic moved: drops (or renames to `_<table>_old`) the source tables, lifts their
 * denial, removes them from the source VSchema, the routing rules and both workflows' streams.
 */
export async function completeMoveTables(topo: TopoServer, calls: WorkflowTabletCalls, info: MoveTablesInfo, o: CompleteOptions): Promise<{ summary: string; dry_run_results?: string[] }> {
  if (info.partial) return completePartial(topo, calls, info, o);
  const state = await trafficState(topo, info);
  if (!state.writes || !state.replica || !state.rdonly) {
    throw bad(`cannot complete ${info.targetKeyspace}.${info.workflow}: not all traffic is switched (${state.text}); run switchtraffic first, or cancel`);
  }
  const S = info.sourceKeyspace;
  const reverse = reverseWorkflowName(info.workflow);
  const dropping = o.keepData ? 'keep' : o.renameTables ? 'rename' : 'drop';
  if (o.dryRun) {
    return {
      summary: `Complete dry run for workflow ${info.targetKeyspace}.${info.workflow}`,
      dry_run_results: [
        dropping === 'keep' ? `Keep the tables ${info.tables.join(',')} in ${S}` : `${dropping === 'rename' ? 'Rename' : 'Drop'} the tables ${info.tables.join(',')} on the primaries of ${S}`,
        `Lift the denial of ${info.tables.join(',')} on the primaries of ${S}; remove them from the VSchema of ${S}`,
        o.keepRoutingRules ? 'Keep the routing rules' : `Remove the routing rules of ${info.tables.join(',')}`,
        `Delete the streams of ${info.targetKeyspace}.${info.workflow} and ${S}.${reverse}`,
      ],
    };
  }
  // The reverse workflow first: it writes into the tables about to go.
  for (const s of await primariesOf(topo, S)) {
    await calls.vreplicationDelete(s.tablet, reverse);
    if (dropping === 'keep') continue;
    for (const t of info.tables) {
      const sql = dropping === 'rename' ? `RENAME TABLE ${quoteIdent(t)} TO ${quoteIdent(`_${t}_old`)}` : `DROP TABLE IF EXISTS ${quoteIdent(t)}`;
      if (dropping === 'rename') {
        const exists = await calls.executeFetchAsDba(s.tablet, `SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '${t.replace(/'/g, "''")}'`);
        if (exists.rows.length === 0) continue;
      }
      await calls.applySchema(s.tablet, sql);
    }
  }
  await denyTables(topo, calls, S, info.tables, true);
  await dropFromVSchema(topo, S, info.tables);
  if (!o.keepRoutingRules) await dropRules(topo, info);
  await topo.rebuildVSchemaGraph();
  for (const f of info.streams) await calls.vreplicationDelete(f.tablet, info.workflow);
  return { summary: `Successfully completed the ${info.workflow} workflow in the ${info.targetKeyspace} keyspace` };
}

export interface CancelOptions {
  readonly keepData: boolean;
  readonly keepRoutingRules: boolean;
}

/**
 * Before writes moved: deletes the streams (and a frozen reverse workflow from an earlier round),
 * the routing rules, any denial on the target, and unless `keepData` the target tables and their
 * VSchema entries. Never drops tables that serve writes.
 */
export async function cancelMoveTables(topo: TopoServer, calls: WorkflowTabletCalls, info: MoveTablesInfo, o: CancelOptions): Promise<{ summary: string }> {
  if (info.partial) return cancelPartial(topo, calls, info, o);
  const state = await trafficState(topo, info);
  if (state.writes) {
    throw bad(`cannot cancel ${info.targetKeyspace}.${info.workflow}: its writes are switched to ${info.targetKeyspace} (${state.text}); run reversetraffic first, or complete`);
  }
  // Tables are dropped only where the routing rules send nothing: with no rule at all the
  // target tables may be the ones that serve (a reverse workflow, or rules removed by hand).
  const rules = ruleMap(await topo.getRoutingRules());
  const serving = info.tables.filter((t) => rules.get(t) === undefined || rules.get(t)?.startsWith(`${info.targetKeyspace}.`));
  if (!o.keepData && serving.length > 0) {
    throw bad(`cannot cancel ${info.targetKeyspace}.${info.workflow} and drop ${serving.join(',')} from ${info.targetKeyspace}: no routing rule sends their traffic elsewhere, so they may be the tables that serve; give --keep-data to delete only the workflow`);
  }
  for (const f of info.streams) await calls.vreplicationDelete(f.tablet, info.workflow);
  for (const s of await primariesOf(topo, info.sourceKeyspace)) await calls.vreplicationDelete(s.tablet, reverseWorkflowName(info.workflow));
  await denyTables(topo, calls, info.targetKeyspace, info.tables, true);
  if (!o.keepRoutingRules) await dropRules(topo, info);
  if (!o.keepData) {
    await dropFromVSchema(topo, info.targetKeyspace, info.tables);
    for (const t of await primariesOf(topo, info.targetKeyspace)) {
      for (const name of info.tables) await calls.applySchema(t.tablet, `DROP TABLE IF EXISTS ${quoteIdent(name)}`);
    }
  }
  await topo.rebuildVSchemaGraph();
  return { summary: `Successfully cancelled the ${info.workflow} workflow in the ${info.targetKeyspace} keyspace` };
}


// ---- complete and cancel of a partial MoveTables ------------------------------------------------

/** Other MoveTables workflows (streams) in `keyspace` that read from `from`. */
async function otherMoveTables(topo: TopoServer, calls: WorkflowTabletCalls, keyspace: string, from: string, except: readonly string[]): Promise<string[]> {
  const out = new Set<string>();
  for (const f of await gatherStreams(topo, calls, keyspace, undefined)) {
    for (const st of f.streams) {
      if (st.workflowType !== WORKFLOW_TYPE.MoveTables || except.includes(st.workflow)) continue;
      if (parseBinlogSource(st.source).keyspace === from) out.add(st.workflow);
    }
  }
  return [...out].sort();
}

/**
 * Complete of one partial workflow, allowed once every shard of the source keyspace is served by
 * the target (a shard still served by the source needs its tables there). Drops the source tables
 * of this workflow's shards and deletes both workflows' streams; the last workflow between the two
 * keyspaces also removes the shard routing rules, the table routing rules and the source's VSchema
 * entries, so the tables are served by the target keyspace alone.
 */
async function completePartial(topo: TopoServer, calls: WorkflowTabletCalls, info: MoveTablesInfo, o: CompleteOptions): Promise<{ summary: string; dry_run_results?: string[] }> {
  const S = info.sourceKeyspace;
  const T = info.targetKeyspace;
  const { notSwitched } = await shardsRoutedTo(topo, S, T);
  if (notSwitched.length > 0) {
    const state = await trafficState(topo, info);
    throw bad(
      `cannot complete ${T}.${info.workflow}: it is a partial MoveTables and shard${notSwitched.length > 1 ? 's' : ''} ${notSwitched.join(',')} of ${S} ${notSwitched.length > 1 ? 'are' : 'is'} still served by ${S} (${state.text}); switch the traffic of every shard first (switchtraffic of the workflow moving each), or cancel`,
    );
  }
  const reverse = reverseWorkflowName(info.workflow);
  const last = (await otherMoveTables(topo, calls, T, S, [info.workflow])).length === 0;
  const dropping = o.keepData ? 'keep' : o.renameTables ? 'rename' : 'drop';
  if (o.dryRun) {
    const out = [
      dropping === 'keep' ? `Keep the tables ${info.tables.join(',')} in ${S}` : `${dropping === 'rename' ? 'Rename' : 'Drop'} the tables ${info.tables.join(',')} on the primaries of ${S} shards ${info.shards.join(',')}`,
      `Delete the streams of ${T}.${info.workflow} and ${S}.${reverse}`,
    ];
    if (last && !o.keepRoutingRules) out.push(`Last workflow from ${S} to ${T}: remove the shard routing rules between them, the routing rules of ${info.tables.join(',')} and their entries in the VSchema of ${S}`);
    return { summary: `Complete dry run for workflow ${T}.${info.workflow}`, dry_run_results: out };
  }
  for (const s of await primariesIn(topo, S, info.shards)) {
    await calls.vreplicationDelete(s.tablet, reverse);
    if (dropping === 'keep') continue;
    for (const t of info.tables) {
      if (dropping === 'rename') {
        const exists = await calls.executeFetchAsDba(s.tablet, `SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '${t.replace(/'/g, "''")}'`);
        if (exists.rows.length === 0) continue;
        await calls.applySchema(s.tablet, `RENAME TABLE ${quoteIdent(t)} TO ${quoteIdent(`_${t}_old`)}`);
      } else await calls.applySchema(s.tablet, `DROP TABLE IF EXISTS ${quoteIdent(t)}`);
    }
  }
  for (const f of info.streams) await calls.vreplicationDelete(f.tablet, info.workflow);
  if (last && !o.keepRoutingRules) {
    // Rules first: the cluster check refuses a VSchema that a routing rule still points into. The
    // gates see none of it before the rebuild below, so they never route by a half-removed state.
    await dropRules(topo, info);
    await topo.updateShardRoutingRules((cur) => {
      const m = shardRuleMap(cur);
      for (const k of [...m.keys()]) {
        const from = k.slice(0, k.indexOf('/'));
        if ((from === S && m.get(k) === T) || (from === T && m.get(k) === S)) m.delete(k);
      }
      return shardRuleList(m);
    });
    await denyTables(topo, calls, S, info.tables, true);
    await dropFromVSchema(topo, S, info.tables);
  }
  await topo.rebuildVSchemaGraph();
  return { summary: `Successfully completed the ${info.workflow} workflow in the ${T} keyspace${last ? '' : ` (shards ${info.shards.join(',')}; the rules stay until the last partial workflow from ${S} completes)`}` };
}

/**
 * Cancel of one partial workflow (forward, or the `_reverse` one left after its switch), refused
 * while its shards are served through it. Deletes its streams (and those of the opposite direction
 * on its shards), and the shard routing rules of its shards; the table routing rules go with the
 * last shard routing rule between the two keyspaces. Target tables are dropped on its shards only
 * for a forward workflow: a `_reverse` workflow's target tables are the old copies in the keyspace
 * the data came from, kept so that nothing that might still be wanted is lost.
 */
async function cancelPartial(topo: TopoServer, calls: WorkflowTabletCalls, info: MoveTablesInfo, o: CancelOptions): Promise<{ summary: string }> {
  const S = info.sourceKeyspace;
  const T = info.targetKeyspace;
  const m0 = shardRuleMap(await topo.getShardRoutingRules());
  const served = info.shards.filter((sh) => m0.get(`${S}/${sh}`) === T);
  if (served.length > 0) {
    throw bad(`cannot cancel ${T}.${info.workflow}: shard${served.length > 1 ? 's' : ''} ${served.join(',')} of ${S} ${served.length > 1 ? 'are' : 'is'} served by ${T} through it (shard routing rules); run reversetraffic first, or complete`);
  }
  const isReverse = info.workflow.endsWith('_reverse');
  for (const f of info.streams) await calls.vreplicationDelete(f.tablet, info.workflow);
  for (const s of await primariesIn(topo, S, info.shards)) await calls.vreplicationDelete(s.tablet, reverseWorkflowName(info.workflow));
  await denyTables(topo, calls, T, info.tables, true, undefined, info.shards);
  let last = false;
  if (!o.keepRoutingRules) {
    const after = await topo.updateShardRoutingRules((cur) => {
      const m = shardRuleMap(cur);
      for (const sh of info.shards) {
        m.delete(`${S}/${sh}`);
        m.delete(`${T}/${sh}`);
      }
      return shardRuleList(m);
    });
    last = !rulesBetween(shardRuleMap(after), S, T);
    if (last) await dropRules(topo, info);
  }
  if (!o.keepData && !isReverse) {
    for (const t of await primariesIn(topo, T, info.shards)) {
      for (const name of info.tables) await calls.applySchema(t.tablet, `DROP TABLE IF EXISTS ${quoteIdent(name)}`);
    }
    if (last) await dropFromVSchema(topo, T, info.tables);
  }
  await topo.rebuildVSchemaGraph();
  return { summary: `Successfully cancelled the ${info.workflow} workflow in the ${T} keyspace (shards ${info.shards.join(',')})` };
}
