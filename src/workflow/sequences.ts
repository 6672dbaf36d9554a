// Sequences of moved tables. A table moved into a sharded keyspace cannot keep MariaDB's
// AUTO_INCREMENT (each shard would count on its own and hand out the same ids), so MoveTables
// create applies --sharded-auto-increment-handling:
//
//   LEAVE    the target tables keep AUTO_INCREMENT as the source has it;
//   REMOVE   (the default) the target tables are created without it; the application, or a
//            sequence named in the target VSchema, gives the ids;
//   REPLACE  as REMOVE, and a sequence table `<table>_seq` is created in --global-keyspace (an
//            unsharded keyspace) and named in the target VSchema's auto_increment.
//
// A new sequence starts at 1: before the target takes writes, switchtraffic
// --initialize-target-sequences sets each sequence above the largest id on any target shard while
// writes are stopped (after the streams caught up, before the journal).
//
// The ids a gate has taken from a sequence but not handed out yet (a cached block, src/gate/
// sequences.ts) would then be stale. Tessera drops them through the serving graph: a gate forgets
// every cached block when it applies a new SrvVSchema, before it plans anything with it, and the
// switch's routing step rebuilds SrvVSchema after the sequences were set. A gate that sends an
// insert to the target has therefore seen the new rules, and so refills from the updated row. (Vitess
// instead caches the blocks in the tablet serving the sequence and resets them by RPC; with the
// cache in the gate, the serving graph is the one signal every gate already follows, and a dropped
// block only leaves a gap, never a duplicate.)
import { ER, TesseraError } from '../mysql/errors.js';
import { quoteIdent } from '../sql/index.js';
import { readOrMissing, type Json, type KeyspaceVSchema, type Tablet, type TopoServer } from '../topo/index.js';
import { parseKeyspaceVSchema } from '../vschema/index.js';
import type { WorkflowTabletCalls } from './types.js';

export type AutoIncrementHandling = 'LEAVE' | 'REMOVE' | 'REPLACE';

export const SEQUENCE_DEFAULTS = {
  /** The `cache` of a sequence REPLACE creates: ids a gate takes per refill. */
  cache: 1000,
};

function bad(message: string): TesseraError {
  return new TesseraError(ER.WRONG_ARGUMENTS, message);
}

export function parseAutoIncrementHandling(v: string | undefined): AutoIncrementHandling {
  const x = (v ?? '').trim().toUpperCase();
  if (x === '') return 'REMOVE';
  if (x === 'LEAVE' || x === 'REMOVE' || x === 'REPLACE') return x;
  throw bad(`--sharded-auto-increment-handling: ${v} is not LEAVE, REMOVE or REPLACE`);
}

/** The definition without AUTO_INCREMENT: the column attribute and the table option. */
export function withoutAutoIncrement(createTable: string): string {
  return createTable.replace(/ AUTO_INCREMENT(?=[,\n])/gi, '').replace(/\s+AUTO_INCREMENT=\d+/gi, '');
}

/** Each table's AUTO_INCREMENT column on `tablet`. */
export async function autoIncrementColumns(calls: WorkflowTabletCalls, tablet: Tablet, tables: readonly string[]): Promise<Map<string, string>> {
  const r = await calls.executeFetchAsDba(tablet, "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND EXTRA LIKE '%auto_increment%'");
  const out = new Map<string, string>();
  for (const row of r.rows) if (tables.includes(String(row[0]))) out.set(String(row[0]), String(row[1]));
  return out;
}

function tablesOf(v: KeyspaceVSchema): Record<string, Json> {
  const t = v.tables;
  return t && typeof t === 'object' && !Array.isArray(t) ? (t as Record<string, Json>) : {};
}

export async function sequencePrimary(topo: TopoServer, keyspace: string): Promise<Tablet> {
  const shards = await topo.getShards(keyspace);
  if (shards.length !== 1) throw bad(`keyspace ${keyspace} has ${shards.length} shards; sequences live in an unsharded keyspace`);
  const alias = shards[0].shard.primary_alias;
  if (alias === null) throw bad(`shard ${keyspace}/${shards[0].name} has no primary`);
  return (await topo.getTablet(alias)).value;
}

/** What REPLACE will make: sequence tables in the global keyspace and auto_increment entries. */
export interface SequencePlan {
  readonly globalKeyspace: string;
  /** table -> { column, sequence table } for the tables that get a new sequence. */
  readonly tables: Map<string, { column: string; sequence: string }>;
}

/**
 * Plans REPLACE for `tables` moving into sharded `target` (its new VSchema tables `targetTables`):
 * every table with an AUTO_INCREMENT column and no auto_increment in the target VSchema yet gets
 * `<table>_seq` in the global keyspace. Checks only; `applySequencePlan` makes it.
 */
export async function planSequences(topo: TopoServer, calls: WorkflowTabletCalls, source: Tablet, tables: readonly string[], targetTables: Record<string, Json>, globalKeyspace: string): Promise<SequencePlan> {
  const cols = await autoIncrementColumns(calls, source, tables);
  const plan: SequencePlan = { globalKeyspace, tables: new Map() };
  for (const [table, column] of cols) {
    const entry = targetTables[table] as { auto_increment?: unknown } | undefined;
    if (entry && typeof entry === 'object' && entry.auto_increment) continue;
    plan.tables.set(table, { column, sequence: `${table}_seq` });
  }
  if (plan.tables.size === 0) return plan;
  if (globalKeyspace === '') {
    throw bad(`--sharded-auto-increment-handling REPLACE needs --global-keyspace: the unsharded keyspace to create ${[...plan.tables.values()].map((s) => s.sequence).join(',')} in`);
  }
  await readOrMissing(`keyspace ${globalKeyspace}`, () => topo.getKeyspace(globalKeyspace), () => bad(`--global-keyspace ${globalKeyspace} does not exist`));
  const gv = await topo.getVSchema(globalKeyspace).catch(() => ({}) as KeyspaceVSchema);
  if (parseKeyspaceVSchema(globalKeyspace, gv).sharded) throw bad(`--global-keyspace ${globalKeyspace} is sharded; sequences live in an unsharded keyspace`);
  await sequencePrimary(topo, globalKeyspace);
  return plan;
}

/**
 * Creates the planned sequence tables (one row: id 0, next_id 1) on the global keyspace's primary
 * and names them in its VSchema; returns the auto_increment entries for the target VSchema. The
 * tables it made are added to `created` (for an undo).
 */
export async function applySequencePlan(
  topo: TopoServer,
  calls: WorkflowTabletCalls,
  plan: SequencePlan,
  created: string[],
): Promise<Record<string, { column: string; sequence: string }>> {
  const out: Record<string, { column: string; sequence: string }> = {};
  if (plan.tables.size === 0) return out;
  const g = plan.globalKeyspace;
  const primary = await sequencePrimary(topo, g);
  const existing = (await calls.getSchema(primary)).map((t) => t.name);
  for (const { sequence } of plan.tables.values()) {
    if (!existing.includes(sequence)) created.push(sequence);
    await calls.applySchema(primary, `CREATE TABLE IF NOT EXISTS ${quoteIdent(sequence)} (id INT NOT NULL, next_id BIGINT DEFAULT NULL, cache BIGINT DEFAULT NULL, PRIMARY KEY (id)) COMMENT 'vitess_sequence'`);
    await calls.executeFetchAsDba(primary, `INSERT IGNORE INTO ${quoteIdent(sequence)} (id, next_id, cache) VALUES (0, 1, ${SEQUENCE_DEFAULTS.cache})`);
  }
  const gv = await topo.getVSchema(g).catch(() => ({}) as KeyspaceVSchema);
  const gt = { ...tablesOf(gv) };
  for (const { sequence } of plan.tables.values()) gt[sequence] = { type: 'sequence' };
  await topo.saveVSchema(g, { ...gv, tables: gt } as never);
  for (const [table, s] of plan.tables) out[table] = { column: s.column, sequence: `${g}.${s.sequence}` };
  return out;
}

/** The keyspace and table of `sequence` (`ks.seq`, or `seq` found in an unsharded keyspace's VSchema). */
async function locateSequence(topo: TopoServer, sequence: string): Promise<{ keyspace: string; table: string }> {
  const dot = sequence.indexOf('.');
  if (dot > 0) return { keyspace: sequence.slice(0, dot), table: sequence.slice(dot + 1) };
  for (const ks of await topo.getKeyspaceNames()) {
    const v = await topo.getVSchema(ks).catch(() => ({}) as KeyspaceVSchema);
    const t = tablesOf(v)[sequence] as { type?: string } | undefined;
    if (t && t.type === 'sequence') return { keyspace: ks, table: sequence };
  }
  throw bad(`sequence ${sequence} is not a table of type sequence in any keyspace's VSchema`);
}

/**
 * --initialize-target-sequences: for each of `tables` whose VSchema in `keyspace` names an
 * auto_increment sequence, sets the sequence's next_id above the largest value of the column on
 * any of the keyspace's primaries (never lower than it is). Runs while writes are stopped.
 */
export async function initializeTargetSequences(topo: TopoServer, calls: WorkflowTabletCalls, keyspace: string, tables: readonly string[]): Promise<string[]> {
  const v = await topo.getVSchema(keyspace).catch(() => ({}) as KeyspaceVSchema);
  const vt = tablesOf(v);
  const done: string[] = [];
  for (const table of tables) {
    const ai = (vt[table] as { auto_increment?: { column?: string; sequence?: string } } | undefined)?.auto_increment;
    if (!ai?.column || !ai.sequence) continue;
    let max = 0n;
    for (const s of await topo.getShards(keyspace)) {
      if (s.shard.primary_alias === null) throw bad(`shard ${keyspace}/${s.name} has no primary`);
      const t = (await topo.getTablet(s.shard.primary_alias)).value;
      const r = await calls.executeFetchAsDba(t, `SELECT MAX(${quoteIdent(ai.column)}) FROM ${quoteIdent(table)}`);
      const m = r.rows[0]?.[0];
      if (m !== null && m !== undefined && BigInt(String(m)) > max) max = BigInt(String(m));
    }
    const seq = await locateSequence(topo, ai.sequence);
    const primary = await sequencePrimary(topo, seq.keyspace);
    const next = (max + 1n).toString();
    await calls.executeFetchAsDba(primary, `UPDATE ${quoteIdent(seq.table)} SET next_id = GREATEST(COALESCE(next_id, 0), ${next}) WHERE id = 0`);
    const check = await calls.executeFetchAsDba(primary, `SELECT next_id FROM ${quoteIdent(seq.table)} WHERE id = 0`);
    if (check.rows.length === 0) throw bad(`sequence ${seq.keyspace}.${seq.table} has no row with id 0: insert (0, ${next}, ${SEQUENCE_DEFAULTS.cache}) into it`);
    done.push(`${seq.keyspace}.${seq.table} >= ${next}`);
  }
  // Tables without a sequence (an unsharded target keeps AUTO_INCREMENT) have nothing to set.
  return done;
}
