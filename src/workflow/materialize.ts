// Materialize: a workflow that copies the rows a select picks from a source keyspace's tables into
// target tables, then keeps them up to date from the binlog. One stream per (target shard, source
// shard) whose key ranges overlap; on a sharded target each stream keeps only the rows whose
// target primary vindex falls in its shard.
import { keyRangesIntersect, parseShardName } from '../key/index.js';
import { ER, TesseraError } from '../mysql/errors.js';
import { parse, quoteIdent, walk } from '../sql/index.js';
import { readOrMissing, type Tablet, type TopoServer } from '../topo/index.js';
import { parseKeyspaceVSchema } from '../vschema/index.js';
import { parseSelectFilter, type FilterRule } from '../vreplication/filter.js';
import { formatBinlogSource } from '../vreplication/binlog-source.js';
import { CONFIG_OVERRIDE_NAMES, parseOverrideValue } from '../vreplication/controller.js';
import type { CreateStreamWire, WorkflowTabletCalls } from './types.js';
import { WORKFLOW_TYPE } from './types.js';
import { withoutAutoIncrement } from './sequences.js';

export interface TableSetting {
  readonly target_table: string;
  readonly source_expression: string;
  readonly create_ddl: string;
}

export interface MaterializeCreateRequest {
  readonly workflow: string;
  readonly targetKeyspace: string;
  readonly sourceKeyspace: string;
  readonly tableSettings: readonly TableSetting[];
  readonly cells: readonly string[];
  readonly tabletTypes: readonly string[];
  readonly onDdl: 'IGNORE' | 'STOP' | 'EXEC' | 'EXEC_IGNORE';
  readonly deferSecondaryKeys: boolean;
  readonly autoStart: boolean;
  readonly stopAfterCopy: boolean;
  readonly configOverrides: Readonly<Record<string, string>>;
  /** A copied definition ("create_ddl": "copy") loses AUTO_INCREMENT (MoveTables into a sharded keyspace). */
  readonly removeAutoIncrement?: boolean;
}

const AGGREGATES = new Set(['count', 'sum', 'min', 'max', 'avg', 'std', 'stddev', 'variance', 'bit_and', 'bit_or', 'bit_xor']);
const ON_DDL = ['IGNORE', 'STOP', 'EXEC', 'EXEC_IGNORE'] as const;

function bad(message: string): TesseraError {
  return new TesseraError(ER.WRONG_ARGUMENTS, message);
}

export function parseOnDdl(text: string): MaterializeCreateRequest['onDdl'] {
  const up = (text || 'IGNORE').toUpperCase();
  if (!(ON_DDL as readonly string[]).includes(up)) throw bad(`--on-ddl ${text}: must be one of ${ON_DDL.join(', ')}`);
  return up as MaterializeCreateRequest['onDdl'];
}

/**
 * `key=value` pairs of --config-overrides, checked against the flags the engine knows. As with
 * Vitess's map flag, one value may hold several pairs separated by commas
 * (`--config-overrides "vreplication-retry-delay=2s,vreplication-max-time-to-retry-on-error=10m"`)
 * and the flag may be repeated; every setting's value is a number or a duration, so a comma never
 * belongs to a value.
 */
export function parseConfigOverrides(items: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items.flatMap((i) => i.split(',')).filter((i) => i.trim() !== '')) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw bad(`--config-overrides ${item}: expected key=value`);
    const key = item.slice(0, eq).trim().replace(/_/g, '-');
    const value = item.slice(eq + 1).trim();
    if (!(key in CONFIG_OVERRIDE_NAMES)) throw bad(`--config-overrides: unknown setting ${key}; known: ${Object.keys(CONFIG_OVERRIDE_NAMES).join(', ')}`);
    parseOverrideValue(key, value);
    out[key] = value;
  }
  return out;
}

export function parseTableSettings(text: string): TableSetting[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw bad(`--table-settings is not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(v) || v.length === 0) throw bad('--table-settings must be a non-empty JSON array of {"target_table", "source_expression", "create_ddl"}');
  return v.map((x, i) => {
    const o = x as Partial<TableSetting>;
    if (!o || typeof o.target_table !== 'string' || o.target_table === '') throw bad(`--table-settings[${i}]: target_table is required`);
    return { target_table: o.target_table, source_expression: typeof o.source_expression === 'string' ? o.source_expression : '', create_ddl: typeof o.create_ddl === 'string' ? o.create_ddl : '' };
  });
}

/** The source table a rule's select reads; aggregates are refused until Materialize supports them. */
function checkExpression(setting: TableSetting): { sourceTable: string; filter: string } {
  const expr = setting.source_expression.trim();
  if (expr === '') return { sourceTable: setting.target_table, filter: `select * from ${quoteIdent(setting.target_table)}` };
  const stmt = parse(expr);
  if (stmt.kind === 'Select' && stmt.groupBy.length > 0) {
    throw new TesseraError(ER.NOT_SUPPORTED_YET, `Materialize with an aggregate (GROUP BY) is not supported yet: ${expr}; materialize the plain rows and aggregate in the query`);
  }
  let aggregate = '';
  walk(stmt, {
    expr(e) {
      if (e.kind === 'GroupConcat') aggregate = 'GROUP_CONCAT';
      else if (e.kind === 'Func' && AGGREGATES.has(e.name.toLowerCase())) aggregate = e.name.toUpperCase();
    },
  });
  if (aggregate !== '') {
    throw new TesseraError(ER.NOT_SUPPORTED_YET, `Materialize with an aggregate (${aggregate}) is not supported yet: ${expr}; materialize the plain rows and aggregate in the query`);
  }
  const sel = parseSelectFilter(expr);
  return { sourceTable: sel.table, filter: expr };
}

/**
 * The primaries of the keyspace's serving shards. Shards that do not serve (a reshard's targets,
 * or what one left behind) are neither read nor written, as in Vitess's materializer.
 */
async function primaries(topo: TopoServer, keyspace: string): Promise<{ shard: string; tablet: Tablet }[]> {
  const shards = await topo.getShards(keyspace);
  const out: { shard: string; tablet: Tablet }[] = [];
  for (const s of shards) {
    if (!s.shard.is_primary_serving) continue;
    if (s.shard.primary_alias === null) throw new TesseraError(ER.WRONG_ARGUMENTS, `shard ${keyspace}/${s.name} has no primary; run InitShardPrimary ${keyspace}/${s.name} <tablet> first`);
    out.push({ shard: s.name, tablet: (await topo.getTablet(s.shard.primary_alias)).value });
  }
  if (out.length === 0) throw new TesseraError(ER.WRONG_ARGUMENTS, `keyspace ${keyspace} has no serving shards`);
  return out;
}

/**
 * The filter of one (target shard, table): on a sharded target, rows whose target primary vindex
 * value falls in the shard; the vindex column must be selected.
 */
export async function ruleFor(topo: TopoServer, targetKeyspace: string, targetShard: string, table: string, filter: string, sharded: boolean): Promise<FilterRule> {
  if (!sharded) return { match: table, filter };
  const vs = parseKeyspaceVSchema(targetKeyspace, await topo.getVSchema(targetKeyspace));
  const t = vs.tables[table];
  const cv = t?.columnVindexes[0];
  if (!cv) throw bad(`table ${table} has no primary vindex in the VSchema of sharded keyspace ${targetKeyspace}; add it with ApplyVSchema first`);
  const vindex = vs.vindexes[cv.name];
  if (!vindex) throw bad(`vindex ${cv.name} of table ${table} is not defined in the VSchema of ${targetKeyspace}`);
  const column = cv.columns[0];
  if (!column) throw bad(`the primary vindex of ${table} names no column`);
  const sel = parseSelectFilter(filter);
  if (sel.keyRange) throw bad(`source_expression of ${table} already has in_keyrange; Materialize adds the target shard's key range itself`);
  const cols = sel.columns === '*' ? '*' : sel.columns.map((c) => (c.name === c.as ? quoteIdent(c.name) : `${quoteIdent(c.name)} as ${quoteIdent(c.as)}`)).join(', ');
  let sourceCol = column;
  if (sel.columns !== '*') {
    const found = sel.columns.find((c) => c.as.toLowerCase() === column.toLowerCase());
    if (!found) throw bad(`source_expression of ${table} must select the vindex column ${column}`);
    sourceCol = found.name;
  }
  return { match: table, filter: `select ${cols} from ${quoteIdent(sel.table)} where in_keyrange(${quoteIdent(sourceCol)}, '${vindex.type}', '${targetShard}')` };
}

/** Creates the streams of a Materialize (or, through `workflowType`, a MoveTables) workflow. */
export async function createStreams(
  topo: TopoServer,
  calls: WorkflowTabletCalls,
  r: MaterializeCreateRequest & { workflowType?: number; workflowSubType?: number; sourceShards?: readonly string[] },
): Promise<{ streams: { tablet: string; shard: string; ids: number[] }[] }> {
  if (!/^[A-Za-z0-9_.-]+$/.test(r.workflow)) throw bad(`workflow name ${r.workflow}: use letters, digits, '_', '-' and '.'`);
  await readOrMissing(`keyspace ${r.sourceKeyspace}`, () => topo.getKeyspace(r.sourceKeyspace), () => bad(`source keyspace ${r.sourceKeyspace} does not exist`));
  await readOrMissing(`keyspace ${r.targetKeyspace}`, () => topo.getKeyspace(r.targetKeyspace), () => bad(`target keyspace ${r.targetKeyspace} does not exist; create it (CreateKeyspace) and its tablets first`));
  const sources = await primaries(topo, r.sourceKeyspace);
  const targets = await primaries(topo, r.targetKeyspace);
  const sharded = parseKeyspaceVSchema(r.targetKeyspace, await topo.getVSchema(r.targetKeyspace).catch(() => ({}))).sharded;

  // Every table must exist on the source with a usable key; nothing is made before all checks pass.
  const sourceSchema = await calls.getSchema(sources[0].tablet);
  const plans: { setting: TableSetting; sourceTable: string; filter: string }[] = [];
  for (const s of r.tableSettings) {
    const { sourceTable, filter } = checkExpression(s);
    const ts = sourceSchema.find((t) => t.name === sourceTable);
    if (!ts) throw new TesseraError(ER.NO_SUCH_TABLE, `table ${sourceTable} does not exist in source keyspace ${r.sourceKeyspace}; check --table-settings`);
    const uniqueNotNull = ts.indexes.some((i) => i.unique && i.columns.every((c) => ts.columns.find((x) => x.name === c)?.nullable === false));
    if (ts.primaryKey.length === 0 && !uniqueNotNull) {
      throw bad(`table ${r.sourceKeyspace}.${sourceTable} has no primary key and no unique NOT NULL key, so its copy cannot resume; add a primary key (ALTER TABLE ${quoteIdent(sourceTable)} ADD PRIMARY KEY (...))`);
    }
    plans.push({ setting: s, sourceTable, filter });
  }

  // Every source primary must log what a stream can follow; checked here so a misconfigured source
  // is refused before anything exists, not found later by a stream that keeps retrying.
  for (const s of sources) {
    const got = await calls.executeFetchAsDba(s.tablet, 'SELECT @@GLOBAL.log_bin, @@GLOBAL.binlog_format, @@GLOBAL.binlog_row_image');
    const [logBin, format, image] = (got.rows[0] ?? []).map((v) => String(v ?? ''));
    const where = `source ${r.sourceKeyspace}/${s.shard} (tablet ${s.tablet.alias.cell}-${String(s.tablet.alias.uid).padStart(10, '0')})`;
    if (logBin !== '1' && logBin.toUpperCase() !== 'ON') throw bad(`${where} has no binary log (log_bin=OFF): VReplication reads changes from it; enable log_bin and restart its MariaDB`);
    if (format.toUpperCase() !== 'ROW') throw bad(`${where} logs binlog_format=${format}: VReplication needs binlog_format=ROW; set it (SET GLOBAL binlog_format = 'ROW' and in the MariaDB configuration), then create the workflow again`);
    if (image.toUpperCase() !== 'FULL') throw bad(`${where} logs binlog_row_image=${image}: VReplication needs binlog_row_image=FULL; set it, then create the workflow again`);
  }

  // Each target shard's filter rules and the target tables to create, all worked out before any is
  // made: a refusal for the last shard or table must not leave tables behind on the first ones.
  const rulesByShard = new Map<string, FilterRule[]>();
  const toCreate: { tablet: Tablet; sql: string }[] = [];
  for (const t of targets) {
    const rules: FilterRule[] = [];
    for (const p of plans) rules.push(await ruleFor(topo, r.targetKeyspace, t.shard, p.setting.target_table, p.filter, sharded));
    rulesByShard.set(t.shard, rules);
    const schema = await calls.getSchema(t.tablet);
    for (const p of plans) {
      if (schema.some((x) => x.name === p.setting.target_table)) continue;
      const ddl = p.setting.create_ddl.trim();
      if (ddl === '') throw new TesseraError(ER.NO_SUCH_TABLE, `target table ${p.setting.target_table} does not exist in ${r.targetKeyspace}/${t.shard}; create it or give "create_ddl": "copy"`);
      let sql = ddl;
      if (ddl.toLowerCase() === 'copy') {
        // The definition as the source's MariaDB prints it, renamed to the target table.
        const shown = await calls.executeFetchAsDba(sources[0].tablet, `SHOW CREATE TABLE ${quoteIdent(p.sourceTable)}`);
        const create = shown.rows[0]?.[1];
        if (typeof create !== 'string') throw bad(`cannot copy the definition of ${p.sourceTable}: SHOW CREATE TABLE on ${r.sourceKeyspace}/${sources[0].shard} returned nothing`);
        sql = create.replace(/^CREATE TABLE\s+(`[^`]+`|\S+)/i, `CREATE TABLE ${quoteIdent(p.setting.target_table)}`);
        if (r.removeAutoIncrement) sql = withoutAutoIncrement(sql);
      }
      toCreate.push({ tablet: t.tablet, sql });
    }
  }
  if (toCreate.some((c) => /\bFOREIGN KEY\b/i.test(c.sql))) {
    // Tables tied by foreign keys, created in any order: per tablet in one session with the checks
    // off (a child's constraint may name a parent created after it).
    const byTablet = new Map<Tablet, string[]>();
    for (const c of toCreate) byTablet.set(c.tablet, [...(byTablet.get(c.tablet) ?? []), c.sql]);
    for (const [tablet, sqls] of byTablet) await calls.applySchema(tablet, ['SET SESSION foreign_key_checks = 0', ...sqls].join(';\n'));
  } else {
    for (const c of toCreate) await calls.applySchema(c.tablet, c.sql);
  }

  const options = JSON.stringify({ config: r.configOverrides });
  const out: { tablet: string; shard: string; ids: number[] }[] = [];
  for (const t of targets) {
    const streams: CreateStreamWire[] = [];
    for (const s of sources) {
      if (r.sourceShards && r.sourceShards.length > 0 && !r.sourceShards.includes(s.shard)) continue;
      if (!keyRangesIntersect(parseShardName(s.shard), parseShardName(t.shard))) continue;
      const rules = rulesByShard.get(t.shard) ?? [];
      streams.push({
        workflow: r.workflow,
        source: formatBinlogSource({ keyspace: r.sourceKeyspace, shard: s.shard, filter: { rules }, onDdl: r.onDdl, stopAfterCopy: r.stopAfterCopy || undefined }),
        cell: r.cells.join(','),
        tabletTypes: [...r.tabletTypes],
        state: r.autoStart ? 'Init' : 'Stopped',
        workflowType: r.workflowType ?? WORKFLOW_TYPE.Materialize,
        workflowSubType: r.workflowSubType ?? 0,
        deferSecondaryKeys: r.deferSecondaryKeys,
        options,
        stopPos: '',
        pos: '',
        copyTables: plans.map((p) => p.setting.target_table),
      });
    }
    if (streams.length === 0) continue;
    let ids: number[];
    try {
      ids = await calls.vreplicationCreate(t.tablet, streams);
    } catch (err) {
      // A workflow on some shards only is half made: take back the streams already created.
      for (const done of targets.slice(0, targets.indexOf(t))) await calls.vreplicationDelete(done.tablet, r.workflow).catch(() => undefined);
      throw err;
    }
    out.push({ tablet: `${t.tablet.alias.cell}-${String(t.tablet.alias.uid).padStart(10, '0')}`, shard: t.shard, ids });
  }
  return { streams: out };
}
