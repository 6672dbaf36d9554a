// One keyspace's VSchema: parse Vitess's JSON, validate it, write it back canonically.
//
// Input accepts both the proto field names (`column_vindexes`) and protojson's camelCase
// (`columnVindexes`), as Vitess does; output always uses the proto names and omits defaults.
// Unknown fields are errors, so a typo does not silently drop a vindex.

import { ER, TesseraError } from '../mysql/errors.js';
import { fromHex } from '../key/index.js';
import { createVindex, isVindexType, unknownVindexParams, vindexTypes, type Vindex } from '../vindexes/index.js';

export type TableType = '' | 'sequence' | 'reference';
export type ForeignKeyMode = 'unspecified' | 'disallow' | 'unmanaged' | 'managed';

export interface VindexDef {
  readonly type: string;
  readonly params: Readonly<Record<string, string>>;
  /** The table whose writes maintain this (lookup) vindex. */
  readonly owner: string;
}

export interface ColumnVindex {
  /** The columns, one for most vindexes (`column` in JSON), several with `columns`. */
  readonly columns: readonly string[];
  /** The vindex's name in this keyspace's `vindexes`. */
  readonly name: string;
}

export interface AutoIncrement {
  readonly column: string;
  /** `seq` or `keyspace.seq`: a table of type `sequence` in an unsharded keyspace. */
  readonly sequence: string;
}

export interface TableColumn {
  readonly name: string;
  /** MySQL type name as Vitess writes it (`VARCHAR`, `INT64`), or '' when not given. */
  readonly type: string;
  readonly invisible: boolean;
}

export interface TableVSchema {
  readonly type: TableType;
  /** The first one is the primary vindex: it decides placement. */
  readonly columnVindexes: readonly ColumnVindex[];
  readonly autoIncrement: AutoIncrement | undefined;
  readonly columns: readonly TableColumn[];
  readonly columnListAuthoritative: boolean;
  /** Hex keyspace id: the whole table lives in the shard holding it (sharded keyspaces). */
  readonly pinned: string | undefined;
  /** Reference tables: `keyspace.table` they are copied from. */
  readonly source: string | undefined;
}

export interface KeyspaceVSchema {
  readonly keyspace: string;
  readonly sharded: boolean;
  readonly vindexes: Readonly<Record<string, VindexDef>>;
  readonly tables: Readonly<Record<string, TableVSchema>>;
  readonly requireExplicitRouting: boolean;
  readonly foreignKeyMode: ForeignKeyMode;
  /** Non-fatal findings (unknown vindex params), as Vitess reports them. */
  readonly warnings: readonly string[];
}

function fail(message: string): TesseraError {
  return new TesseraError(ER.WRONG_ARGUMENTS, message);
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function camel(snake: string): string {
  return snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Reads an object's known fields by proto name or camelCase; throws on any other field.
 * Returns a lookup by proto name.
 */
function fields(where: string, obj: unknown, known: readonly string[]): (name: string) => unknown {
  if (!isObject(obj)) throw fail(`${where}: want a JSON object, got ${describe(obj)}`);
  const out = new Map<string, unknown>();
  for (const [k, v] of Object.entries(obj)) {
    const proto = known.find((f) => f === k || camel(f) === k);
    if (proto === undefined) {
      throw fail(`${where}: unknown field '${k}' (known: ${known.join(', ')})`);
    }
    if (out.has(proto)) throw fail(`${where}: field '${proto}' given twice`);
    out.set(proto, v);
  }
  return (name) => out.get(name);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'string' ? `string ${JSON.stringify(v)}` : typeof v;
}

function str(where: string, v: unknown, dflt = ''): string {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'string') throw fail(`${where}: want a string, got ${describe(v)}`);
  return v;
}

function bool(where: string, v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw fail(`${where}: want true or false, got ${describe(v)}`);
  return v;
}

const NAME_RE = /^[A-Za-z0-9_$][A-Za-z0-9_$\-]*$/;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function checkName(where: string, what: string, name: string): void {
  if (!NAME_RE.test(name) || FORBIDDEN_KEYS.has(name)) throw fail(`${where}: '${name}' is not a valid ${what} name`);
}

const KEYSPACE_FIELDS = ['sharded', 'vindexes', 'tables', 'require_explicit_routing', 'foreign_key_mode', 'multi_tenant_spec'];
const VINDEX_FIELDS = ['type', 'params', 'owner'];
const TABLE_FIELDS = ['type', 'column_vindexes', 'auto_increment', 'columns', 'pinned', 'column_list_authoritative', 'source'];
const COLUMN_VINDEX_FIELDS = ['column', 'name', 'columns'];
const AUTO_INC_FIELDS = ['column', 'sequence'];
const COLUMN_FIELDS = ['name', 'type', 'invisible', 'default', 'collation_name', 'size', 'scale', 'nullable', 'values'];
const FK_MODES: readonly ForeignKeyMode[] = ['unspecified', 'disallow', 'unmanaged', 'managed'];

function parseVindexDef(ks: string, name: string, json: unknown): VindexDef {
  const where = `keyspace ${ks} vindex ${name}`;
  const f = fields(where, json, VINDEX_FIELDS);
  const type = str(`${where} type`, f('type'));
  if (type === '') throw fail(`${where}: missing type (one of ${vindexTypes().join(', ')})`);
  const paramsJson = f('params');
  const params: Record<string, string> = {};
  if (paramsJson !== undefined && paramsJson !== null) {
    if (!isObject(paramsJson)) throw fail(`${where}: params must be an object of strings`);
    for (const [k, v] of Object.entries(paramsJson)) {
      if (typeof v !== 'string') throw fail(`${where}: param ${k} must be a string, got ${describe(v)}`);
      params[k] = v;
    }
  }
  return { type, params, owner: str(`${where} owner`, f('owner')) };
}

function parseTable(ks: string, name: string, json: unknown): TableVSchema {
  const where = `keyspace ${ks} table ${name}`;
  const f = fields(where, json, TABLE_FIELDS);
  const type = str(`${where} type`, f('type'));
  if (type !== '' && type !== 'sequence' && type !== 'reference') {
    throw fail(`${where}: unknown table type '${type}' (want sequence, reference, or none)`);
  }
  const cvJson = f('column_vindexes') ?? [];
  if (!Array.isArray(cvJson)) throw fail(`${where}: column_vindexes must be an array`);
  const columnVindexes = cvJson.map((cv, i): ColumnVindex => {
    const w = `${where} column_vindexes[${i}]`;
    const g = fields(w, cv, COLUMN_VINDEX_FIELDS);
    const vname = str(`${w} name`, g('name'));
    if (vname === '') throw fail(`${w}: missing name (the vindex to use)`);
    const column = str(`${w} column`, g('column'));
    const colsJson = g('columns');
    let columns: string[];
    if (colsJson !== undefined && colsJson !== null) {
      if (column !== '') throw fail(`${w}: give column or columns, not both`);
      if (!Array.isArray(colsJson) || colsJson.length === 0 || colsJson.some((c) => typeof c !== 'string' || c === '')) {
        throw fail(`${w}: columns must be a non-empty array of column names`);
      }
      columns = colsJson as string[];
    } else {
      if (column === '') throw fail(`${w}: missing column for vindex ${vname}`);
      columns = [column];
    }
    return { columns, name: vname };
  });
  let autoIncrement: AutoIncrement | undefined;
  const ai = f('auto_increment');
  if (ai !== undefined && ai !== null) {
    const g = fields(`${where} auto_increment`, ai, AUTO_INC_FIELDS);
    const column = str(`${where} auto_increment column`, g('column'));
    const sequence = str(`${where} auto_increment sequence`, g('sequence'));
    if (column === '' || sequence === '') throw fail(`${where}: auto_increment needs both column and sequence`);
    if (sequence.split('.').length > 2 || sequence.split('.').some((p) => p === '')) {
      throw fail(`${where}: auto_increment sequence '${sequence}' must be 'table' or 'keyspace.table'`);
    }
    autoIncrement = { column, sequence };
  }
  const colsJson = f('columns') ?? [];
  if (!Array.isArray(colsJson)) throw fail(`${where}: columns must be an array`);
  const seen = new Set<string>();
  const columns = colsJson.map((c, i): TableColumn => {
    const g = fields(`${where} columns[${i}]`, c, COLUMN_FIELDS);
    const cname = str(`${where} columns[${i}] name`, g('name'));
    if (cname === '') throw fail(`${where}: columns[${i}] has no name`);
    const key = cname.toLowerCase();
    if (seen.has(key)) throw fail(`${where}: column ${cname} is listed twice`);
    seen.add(key);
    return { name: cname, type: str(`${where} column ${cname} type`, g('type')), invisible: bool(`${where} column ${cname} invisible`, g('invisible')) };
  });
  const pinned = str(`${where} pinned`, f('pinned')) || undefined;
  if (pinned !== undefined) fromHex(pinned, `${where} pinned keyspace id`);
  const source = str(`${where} source`, f('source')) || undefined;
  return {
    type: type as TableType,
    columnVindexes,
    autoIncrement,
    columns,
    columnListAuthoritative: bool(`${where} column_list_authoritative`, f('column_list_authoritative')),
    pinned,
    source,
  };
}

/**
 * Parses and validates one keyspace's VSchema JSON (a parsed value, or a JSON string).
 * Throws a TesseraError (1210) naming the keyspace, table or vindex and what is wrong.
 */
export function parseKeyspaceVSchema(keyspace: string, json: unknown): KeyspaceVSchema {
  checkName('keyspace', 'keyspace', keyspace);
  if (typeof json === 'string') {
    try {
      json = JSON.parse(json);
    } catch (err) {
      throw fail(`keyspace ${keyspace}: VSchema is not valid JSON: ${(err as Error).message}`);
    }
  }
  const f = fields(`keyspace ${keyspace}`, json ?? {}, KEYSPACE_FIELDS);
  const sharded = bool(`keyspace ${keyspace} sharded`, f('sharded'));
  const fkMode = str(`keyspace ${keyspace} foreign_key_mode`, f('foreign_key_mode'), 'unspecified').toLowerCase();
  if (!FK_MODES.includes(fkMode as ForeignKeyMode)) {
    throw fail(`keyspace ${keyspace}: foreign_key_mode '${fkMode}' is not one of ${FK_MODES.join(', ')}`);
  }
  const vjson = f('vindexes') ?? {};
  if (!isObject(vjson)) throw fail(`keyspace ${keyspace}: vindexes must be an object of name → vindex`);
  const vindexes: Record<string, VindexDef> = {};
  for (const [name, def] of Object.entries(vjson)) {
    checkName(`keyspace ${keyspace}`, 'vindex', name);
    vindexes[name] = parseVindexDef(keyspace, name, def);
  }
  const tjson = f('tables') ?? {};
  if (!isObject(tjson)) throw fail(`keyspace ${keyspace}: tables must be an object of name → table`);
  const tables: Record<string, TableVSchema> = {};
  for (const [name, def] of Object.entries(tjson)) {
    checkName(`keyspace ${keyspace}`, 'table', name);
    tables[name] = parseTable(keyspace, name, def ?? {});
  }
  const result: KeyspaceVSchema = {
    keyspace,
    sharded,
    vindexes,
    tables,
    requireExplicitRouting: bool(`keyspace ${keyspace} require_explicit_routing`, f('require_explicit_routing')),
    foreignKeyMode: fkMode as ForeignKeyMode,
    warnings: [],
  };
  const warnings = validateKeyspace(result);
  return { ...result, warnings };
}

/** Builds the vindex objects of a keyspace, by name. */
export function instantiateVindexes(v: KeyspaceVSchema): Map<string, Vindex> {
  const out = new Map<string, Vindex>();
  for (const [name, def] of Object.entries(v.vindexes)) out.set(name, createVindexChecked(v.keyspace, name, def));
  return out;
}

function createVindexChecked(ks: string, name: string, def: VindexDef): Vindex {
  if (!isVindexType(def.type)) {
    throw fail(`keyspace ${ks} vindex ${name}: unknown vindex type '${def.type}' (known: ${vindexTypes().join(', ')})`);
  }
  // numeric_static_map may point at a file; reading files is the loader's job, so a
  // json_path-only definition is checked for its fallback type but not built here.
  if (def.type === 'numeric_static_map' && def.params.json === undefined && def.params.json_path !== undefined) {
    return createVindex(def.type, name, { ...def.params, json: '{}' });
  }
  try {
    return createVindex(def.type, name, def.params);
  } catch (err) {
    const e = TesseraError.from(err);
    throw new TesseraError({ errno: e.errno, sqlState: e.sqlState }, `keyspace ${ks} ${e.message}`, { cause: err });
  }
}

/** Checks a keyspace on its own; throws on the first error, returns warnings. */
function validateKeyspace(v: KeyspaceVSchema): string[] {
  const ks = v.keyspace;
  const warnings: string[] = [];
  const built = new Map<string, Vindex>();
  for (const [name, def] of Object.entries(v.vindexes)) {
    built.set(name, createVindexChecked(ks, name, def));
    const unknown = unknownVindexParams(def.type, def.params);
    if (unknown.length > 0) warnings.push(`keyspace ${ks} vindex ${name}: unknown params ${unknown.join(', ')}`);
    if (def.owner !== '' && !(def.owner in v.tables)) {
      throw fail(`keyspace ${ks} vindex ${name}: owner table ${def.owner} is not in the keyspace's tables`);
    }
  }
  for (const [tname, t] of Object.entries(v.tables)) {
    const where = `keyspace ${ks} table ${tname}`;
    if (t.type === 'sequence') {
      if (v.sharded && t.pinned === undefined) {
        throw fail(`${where}: sequence tables must be in an unsharded keyspace (or pinned to one shard)`);
      }
      if (t.columnVindexes.length > 0) throw fail(`${where}: a sequence table cannot have column_vindexes`);
      if (t.autoIncrement) throw fail(`${where}: a sequence table cannot have auto_increment`);
    }
    if (t.type === 'reference') {
      if (t.columnVindexes.length > 0) throw fail(`${where}: a reference table cannot have column_vindexes`);
      if (t.source !== undefined) {
        const parts = t.source.split('.');
        if (parts.length !== 2 || parts.some((p) => p === '')) {
          throw fail(`${where}: reference source '${t.source}' must be qualified as keyspace.table`);
        }
        if (parts[0] === ks) throw fail(`${where}: reference source '${t.source}' cannot be in the same keyspace`);
      }
    } else if (t.source !== undefined) {
      throw fail(`${where}: source is only for tables of type reference`);
    }
    if (t.pinned !== undefined) {
      if (!v.sharded) throw fail(`${where}: pinned is only for sharded keyspaces`);
      if (t.columnVindexes.length > 0) throw fail(`${where}: a pinned table cannot have column_vindexes`);
    }
    if (!v.sharded && t.columnVindexes.length > 0) {
      throw fail(`${where}: keyspace ${ks} is unsharded, so its tables cannot have column_vindexes`);
    }
    if (v.sharded && t.type === '' && t.pinned === undefined && t.columnVindexes.length === 0) {
      throw fail(`${where}: a table in a sharded keyspace needs a primary vindex (column_vindexes), or pinned`);
    }
    t.columnVindexes.forEach((cv, i) => {
      const vin = built.get(cv.name);
      if (!vin) {
        const known = [...built.keys()].join(', ') || 'none';
        throw fail(`${where}: vindex ${cv.name} is not defined in the keyspace's vindexes (defined: ${known})`);
      }
      const cols = cv.columns.length;
      if (vin.kind === 'multiColumn') {
        if (i !== 0) throw fail(`${where}: multi-column vindex ${cv.name} can only be the primary (first) vindex`);
        if (cols > vin.columnCount) throw fail(`${where}: vindex ${cv.name} takes at most ${vin.columnCount} columns, got ${cols}`);
      } else if (vin.kind === 'lookup') {
        if (cols !== vin.lookup.from.length) {
          throw fail(`${where}: vindex ${cv.name} has ${vin.lookup.from.length} from column(s), but ${cols} column(s) are given`);
        }
      } else if (cols !== 1) {
        throw fail(`${where}: vindex ${cv.name} (${vin.type}) takes one column, got ${cols}`);
      }
      if (i === 0 && !vin.unique) {
        throw fail(`${where}: primary vindex ${cv.name} (${vin.type}) is not unique; the first column vindex must map each value to one keyspace id`);
      }
    });
    const seen = new Set<string>();
    for (const cv of t.columnVindexes) {
      const key = `${cv.name}:${cv.columns.join(',').toLowerCase()}`;
      if (seen.has(key)) throw fail(`${where}: vindex ${cv.name} on ${cv.columns.join(', ')} is listed twice`);
      seen.add(key);
    }
    if (t.columnListAuthoritative && t.columns.length === 0) {
      throw fail(`${where}: column_list_authoritative needs the columns listed`);
    }
  }
  return warnings;
}

function stripEmpty<T extends Json>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

/** The canonical JSON object of a keyspace VSchema (proto field names, defaults omitted). */
export function vschemaToJSON(v: KeyspaceVSchema): Json {
  const vindexes: Json = {};
  for (const [name, d] of Object.entries(v.vindexes)) {
    vindexes[name] = stripEmpty({
      type: d.type,
      params: Object.keys(d.params).length > 0 ? { ...d.params } : undefined,
      owner: d.owner || undefined,
    });
  }
  const tables: Json = {};
  for (const [name, t] of Object.entries(v.tables)) {
    tables[name] = stripEmpty({
      type: t.type || undefined,
      column_vindexes:
        t.columnVindexes.length > 0
          ? t.columnVindexes.map((cv) => (cv.columns.length === 1 ? { column: cv.columns[0], name: cv.name } : { columns: [...cv.columns], name: cv.name }))
          : undefined,
      auto_increment: t.autoIncrement ? { column: t.autoIncrement.column, sequence: t.autoIncrement.sequence } : undefined,
      columns:
        t.columns.length > 0
          ? t.columns.map((c) => stripEmpty({ name: c.name, type: c.type || undefined, invisible: c.invisible || undefined }))
          : undefined,
      pinned: t.pinned,
      column_list_authoritative: t.columnListAuthoritative || undefined,
      source: t.source,
    });
  }
  return stripEmpty({
    sharded: v.sharded || undefined,
    vindexes: Object.keys(vindexes).length > 0 ? vindexes : undefined,
    tables: Object.keys(tables).length > 0 ? tables : undefined,
    require_explicit_routing: v.requireExplicitRouting || undefined,
    foreign_key_mode: v.foreignKeyMode !== 'unspecified' ? v.foreignKeyMode : undefined,
  });
}
