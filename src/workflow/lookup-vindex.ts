// LookupVindex create|show|externalize|cancel: adds a lookup vindex to a table that already has
// rows, as Vitess's command does, with a one-pass back-fill instead of a VReplication stream (the
// engine's filters cannot compute keyspace_id() yet).
//
// create: makes the lookup table (in --table-keyspace, unsharded) unless it exists, adds the
// vindex to the owner's VSchema with write_only (from then on every gate writes lookup rows for
// the owner's changes, and none routes by it), then copies the owner's rows into the lookup table
// (INSERT IGNORE, in pages ordered by the owner's primary key). externalize copies once more —
// catching rows written by a gate that had not yet seen the write_only vindex — and drops
// write_only: gates route by the vindex from then on. cancel takes the vindex out of the VSchema
// and leaves the lookup table. A row deleted while the copy runs may leave an orphaned lookup row,
// which consistent lookups take over when the value comes back.
import { ER, TesseraError } from '../mysql/errors.js';
import { quoteIdent, valueLiteral } from '../sql/index.js';
import type { Json, JsonObject, Tablet, TopoServer } from '../topo/index.js';
import { createVindex, LOOKUP_TYPES, type FunctionalVindex } from '../vindexes/index.js';
import type { WorkflowTabletCalls } from './types.js';

export interface LookupVindexCreateRequest {
  /** The vindex's name (and, by default, its lookup table's). */
  readonly name: string;
  /** Where the lookup table lives: an unsharded keyspace. */
  readonly tableKeyspace: string;
  /** The owner table's keyspace (sharded). */
  readonly keyspace: string;
  readonly type: string;
  readonly tableOwner: string;
  readonly tableOwnerColumns: readonly string[];
  readonly tableName: string;
  readonly ignoreNulls: boolean;
}

/** Rows copied per page of the back-fill. */
export const LOOKUP_BACKFILL_PAGE_ROWS = 1000;

function bad(message: string): TesseraError {
  return new TesseraError(ER.WRONG_ARGUMENTS, `LookupVindex: ${message}`);
}

async function primaries(topo: TopoServer, keyspace: string): Promise<{ shard: string; tablet: Tablet }[]> {
  const out: { shard: string; tablet: Tablet }[] = [];
  for (const s of await topo.getShards(keyspace)) {
    if (!s.shard.is_primary_serving) continue;
    if (s.shard.primary_alias === null) throw bad(`shard ${keyspace}/${s.name} has no primary`);
    out.push({ shard: s.name, tablet: (await topo.getTablet(s.shard.primary_alias)).value });
  }
  if (out.length === 0) throw bad(`keyspace ${keyspace} has no serving shards`);
  return out;
}

async function vschemaOf(topo: TopoServer, keyspace: string): Promise<JsonObject> {
  return JSON.parse(JSON.stringify(await topo.getVSchema(keyspace).catch(() => ({})))) as JsonObject;
}

interface VindexInfo {
  readonly vschema: JsonObject;
  readonly def: JsonObject & { params: Record<string, string>; owner: string };
  readonly table: string;
  readonly from: string[];
  readonly ownerColumns: string[];
}

/** The vindex as the owner keyspace's VSchema has it, with its owner table's columns. */
async function vindexInfo(topo: TopoServer, keyspace: string, name: string): Promise<VindexInfo> {
  const vschema = await vschemaOf(topo, keyspace);
  const def = (vschema.vindexes as JsonObject | undefined)?.[name] as VindexInfo['def'] | undefined;
  if (!def) throw bad(`keyspace ${keyspace} has no vindex ${name}`);
  if (!(LOOKUP_TYPES as readonly string[]).includes(String(def.type))) throw bad(`vindex ${name} is a ${String(def.type)}, not a lookup vindex`);
  if (!def.owner) throw bad(`vindex ${name} has no owner table`);
  const t = (vschema.tables as JsonObject)[def.owner] as JsonObject | undefined;
  const cvs = ((t?.column_vindexes ?? []) as JsonObject[]).filter((cv) => cv.name === name);
  if (cvs.length === 0) throw bad(`owner table ${def.owner} does not list vindex ${name} in its column_vindexes`);
  const ownerColumns = (cvs[0].columns as string[] | undefined) ?? [String(cvs[0].column)];
  return { vschema, def, table: def.params.table, from: def.params.from.split(',').map((s) => s.trim()), ownerColumns };
}

/**
 * Copies every owner row's (columns → keyspace id) into the lookup table, skipping rows the table
 * has (INSERT IGNORE). Returns the rows read.
 */
async function backfill(topo: TopoServer, calls: WorkflowTabletCalls, keyspace: string, info: VindexInfo): Promise<number> {
  const vschema = info.vschema;
  const owner = info.def.owner;
  const tv = (vschema.tables as JsonObject)[owner] as JsonObject;
  const primary = (tv.column_vindexes as JsonObject[])[0];
  const pvColumn = String(primary.column ?? (primary.columns as string[])[0]);
  const pvDef = (vschema.vindexes as JsonObject)[String(primary.name)] as JsonObject;
  const pv = createVindex(String(pvDef.type), String(primary.name), (pvDef.params ?? {}) as Record<string, string>);
  if (pv.kind !== 'functional') throw bad(`the primary vindex of ${owner} (${pv.type}) is not functional`);
  const [tableKs, tableName] = info.table.includes('.') ? info.table.split('.') : [keyspace, info.table];
  const [lookupPrimary] = await primaries(topo, tableKs);
  const ignoreNulls = info.def.params.ignore_nulls === 'true';
  let read = 0;
  for (const { tablet } of await primaries(topo, keyspace)) {
    const schema = (await calls.getSchema(tablet)).find((x) => x.name === owner);
    if (!schema) throw bad(`table ${owner} does not exist on ${keyspace}`);
    const order = (schema.primaryKey.length ? schema.primaryKey : [pvColumn]).map(quoteIdent).join(', ');
    const cols = [...info.ownerColumns, pvColumn].map(quoteIdent).join(', ');
    for (let offset = 0; ; offset += LOOKUP_BACKFILL_PAGE_ROWS) {
      const page = await calls.executeFetchAsDba(tablet, `SELECT ${cols} FROM ${quoteIdent(owner)} ORDER BY ${order} LIMIT ${LOOKUP_BACKFILL_PAGE_ROWS} OFFSET ${offset}`);
      read += page.rows.length;
      const tuples: string[] = [];
      for (const row of page.rows) {
        const values = row.slice(0, info.ownerColumns.length);
        if (values.some((v) => v === null)) {
          if (ignoreNulls) continue;
          throw bad(`a row of ${owner} has a NULL ${info.ownerColumns.join(', ')}: set ignore_nulls, or give it a value`);
        }
        const d = (pv as FunctionalVindex).map([row[info.ownerColumns.length]])[0];
        if (d.kind !== 'keyspaceId') throw bad(`a row of ${owner} has a ${pvColumn} that maps to no keyspace id`);
        tuples.push(`(${values.map((v) => valueLiteral(v)).join(', ')}, X'${Buffer.from(d.id).toString('hex')}')`);
      }
      if (tuples.length) {
        await calls.executeFetchAsDba(lookupPrimary.tablet, `INSERT IGNORE INTO ${quoteIdent(tableName)} (${[...info.from, info.def.params.to].map(quoteIdent).join(', ')}) VALUES ${tuples.join(', ')}`);
      }
      if (page.rows.length < LOOKUP_BACKFILL_PAGE_ROWS) break;
    }
  }
  return read;
}

export async function lookupVindexCreate(topo: TopoServer, calls: WorkflowTabletCalls, r: LookupVindexCreateRequest): Promise<Json> {
  if (!(LOOKUP_TYPES as readonly string[]).includes(r.type)) throw bad(`--type ${r.type}: one of ${LOOKUP_TYPES.join(', ')}`);
  if (r.tableOwnerColumns.length === 0) throw bad('--table-owner-columns names no column');
  const vschema = await vschemaOf(topo, r.keyspace);
  if (!vschema.sharded) throw bad(`keyspace ${r.keyspace} is not sharded: its tables need no lookup vindex`);
  const tables = (vschema.tables ?? {}) as JsonObject;
  const owner = tables[r.tableOwner] as JsonObject | undefined;
  if (!owner) throw bad(`table ${r.tableOwner} is not in the VSchema of ${r.keyspace}`);
  const vindexes = (vschema.vindexes ?? {}) as JsonObject;
  if (vindexes[r.name]) throw bad(`keyspace ${r.keyspace} already has a vindex ${r.name}`);
  const tableVschema = await vschemaOf(topo, r.tableKeyspace);
  if (tableVschema.sharded) throw bad(`--table-keyspace ${r.tableKeyspace} is sharded; the back-fill writes lookup tables in an unsharded keyspace`);

  // The lookup table, typed as the owner's columns.
  const [ownerPrimary] = await primaries(topo, r.keyspace);
  const ownerSchema = (await calls.getSchema(ownerPrimary.tablet)).find((t) => t.name === r.tableOwner);
  if (!ownerSchema) throw bad(`table ${r.tableOwner} does not exist on ${r.keyspace}`);
  const colDefs = r.tableOwnerColumns.map((c) => {
    const col = ownerSchema.columns.find((x) => x.name.toLowerCase() === c.toLowerCase());
    if (!col) throw bad(`table ${r.tableOwner} has no column ${c}`);
    return `${quoteIdent(col.name)} ${col.columnType}${col.collation ? ` COLLATE ${col.collation}` : ''}${r.ignoreNulls ? '' : ' NOT NULL'}`;
  });
  const unique = r.type.endsWith('_unique');
  const key = unique ? r.tableOwnerColumns : [...r.tableOwnerColumns, 'keyspace_id'];
  const [lookupPrimary] = await primaries(topo, r.tableKeyspace);
  const exists = (await calls.getSchema(lookupPrimary.tablet)).some((t) => t.name === r.tableName);
  if (!exists) {
    await calls.applySchema(
      lookupPrimary.tablet,
      `CREATE TABLE ${quoteIdent(r.tableName)} (${colDefs.join(', ')}, \`keyspace_id\` varbinary(128) NOT NULL, PRIMARY KEY (${key.map(quoteIdent).join(', ')}))`,
    );
  }
  if (!((tableVschema.tables ?? {}) as JsonObject)[r.tableName]) {
    tableVschema.tables = { ...((tableVschema.tables ?? {}) as JsonObject), [r.tableName]: {} };
    await topo.saveVSchema(r.tableKeyspace, tableVschema);
  }
  const params: Record<string, string> = { table: `${r.tableKeyspace}.${r.tableName}`, from: r.tableOwnerColumns.join(','), to: 'keyspace_id', write_only: 'true' };
  if (r.ignoreNulls) params.ignore_nulls = 'true';
  vschema.vindexes = { ...vindexes, [r.name]: { type: r.type, params, owner: r.tableOwner } };
  const cv: JsonObject = r.tableOwnerColumns.length === 1 ? { column: r.tableOwnerColumns[0], name: r.name } : { columns: [...r.tableOwnerColumns], name: r.name };
  owner.column_vindexes = [...((owner.column_vindexes ?? []) as JsonObject[]), cv];
  await topo.saveVSchema(r.keyspace, vschema);
  await topo.rebuildVSchemaGraph({});
  const rows = await backfill(topo, calls, r.keyspace, await vindexInfo(topo, r.keyspace, r.name));
  return { summary: `LookupVindex ${r.name} created in ${r.keyspace} (write_only); lookup table ${r.tableKeyspace}.${r.tableName} back-filled from ${rows} rows of ${r.tableOwner}; run externalize to route by it` };
}

export async function lookupVindexShow(topo: TopoServer, calls: WorkflowTabletCalls, keyspace: string, name: string): Promise<Json> {
  const info = await vindexInfo(topo, keyspace, name);
  const [tableKs, tableName] = info.table.includes('.') ? info.table.split('.') : [keyspace, info.table];
  const [lookupPrimary] = await primaries(topo, tableKs);
  const counted = await calls.executeFetchAsDba(lookupPrimary.tablet, `SELECT COUNT(*) FROM ${quoteIdent(tableName)}`);
  let ownerRows = 0;
  for (const { tablet } of await primaries(topo, keyspace)) {
    const r = await calls.executeFetchAsDba(tablet, `SELECT COUNT(*) FROM ${quoteIdent(info.def.owner)}`);
    ownerRows += Number(r.rows[0]?.[0] ?? 0);
  }
  return {
    name,
    keyspace,
    vindex: info.def as unknown as Json,
    state: info.def.params.write_only === 'true' ? 'write_only (not routed by; externalize to use it)' : 'externalized',
    lookup_rows: Number(counted.rows[0]?.[0] ?? 0),
    owner_rows: ownerRows,
  };
}

export async function lookupVindexExternalize(topo: TopoServer, calls: WorkflowTabletCalls, keyspace: string, name: string): Promise<Json> {
  const info = await vindexInfo(topo, keyspace, name);
  if (info.def.params.write_only !== 'true') return { summary: `LookupVindex ${name} in ${keyspace} is already externalized` };
  // Every gate has long seen the write_only vindex: this pass catches rows written before it did.
  const rows = await backfill(topo, calls, keyspace, info);
  const params = { ...info.def.params };
  delete params.write_only;
  (info.vschema.vindexes as JsonObject)[name] = { ...info.def, params };
  await topo.saveVSchema(keyspace, info.vschema);
  await topo.rebuildVSchemaGraph({});
  return { summary: `LookupVindex ${name} in ${keyspace} externalized after a last pass over ${rows} rows: gates route by it` };
}

export async function lookupVindexCancel(topo: TopoServer, keyspace: string, name: string): Promise<Json> {
  const info = await vindexInfo(topo, keyspace, name);
  const vindexes = info.vschema.vindexes as JsonObject;
  delete vindexes[name];
  const t = (info.vschema.tables as JsonObject)[info.def.owner] as JsonObject;
  t.column_vindexes = (t.column_vindexes as JsonObject[]).filter((cv) => cv.name !== name);
  await topo.saveVSchema(keyspace, info.vschema);
  await topo.rebuildVSchemaGraph({});
  return { summary: `LookupVindex ${name} removed from the VSchema of ${keyspace}; the lookup table ${info.table} is left (drop it when no longer needed)` };
}
