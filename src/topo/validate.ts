// The one place the topology checks VSchemas and rules before storing them. The VSchema model
// lives in src/vschema; until it is wired in here, these checks only make sure the input has the
// shape Vitess writes (so nothing malformed reaches the store) and normalise the rule spellings
// COMPATIBILITY.md asks for. Every write path (ctld, workflows) goes through these functions, so
// swapping in the full validation changes nothing else.
import { topoError } from './errors.js';
import type {
  Json,
  JsonObject,
  KeyspaceRoutingRules,
  KeyspaceVSchema,
  RoutingRules,
  ShardRoutingRules,
  SrvVSchema,
} from './model.js';
import { shardKeyRange } from './model.js';

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bad(what: string, message: string): never {
  throw topoError('BAD_ARGUMENT', `invalid ${what}: ${message}`);
}

function stringArray(v: Json | undefined, what: string): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) bad(what, 'want an array of strings');
  return v as string[];
}

function str(o: JsonObject, field: string, what: string): string {
  const v = o[field];
  if (typeof v !== 'string' || v === '') bad(what, `'${field}' must be a non-empty string`);
  return v;
}

/** Checks one keyspace's VSchema; returns the form to store. */
export function validateKeyspaceVSchema(keyspace: string, vschema: Json): KeyspaceVSchema {
  const what = `vschema for keyspace ${keyspace}`;
  if (!isObject(vschema)) bad(what, 'want a JSON object');
  if (vschema.sharded !== undefined && typeof vschema.sharded !== 'boolean') bad(what, "'sharded' must be true or false");
  for (const field of ['vindexes', 'tables'] as const) {
    const v = vschema[field];
    if (v === undefined) continue;
    if (!isObject(v)) bad(what, `'${field}' must be an object`);
    for (const [name, def] of Object.entries(v)) if (!isObject(def)) bad(what, `${field}.${name} must be an object`);
  }
  const vindexes = isObject(vschema.vindexes) ? vschema.vindexes : {};
  for (const [name, def] of Object.entries(vindexes)) {
    if (!isObject(def) || typeof def.type !== 'string' || def.type === '') bad(what, `vindex '${name}' needs a 'type'`);
  }
  const tables = isObject(vschema.tables) ? vschema.tables : {};
  for (const [table, def] of Object.entries(tables)) {
    if (!isObject(def)) continue;
    const cvs = def.column_vindexes;
    if (cvs === undefined) continue;
    if (!Array.isArray(cvs)) bad(what, `tables.${table}.column_vindexes must be an array`);
    for (const cv of cvs) {
      if (!isObject(cv) || typeof cv.name !== 'string') bad(what, `tables.${table}.column_vindexes entries need a 'name'`);
      if (!(cv.name in vindexes)) bad(what, `table ${table} uses vindex '${cv.name}', which the vschema does not define`);
    }
  }
  return vschema;
}

export function validateRoutingRules(rules: Json): RoutingRules {
  const what = 'routing rules';
  if (!isObject(rules)) bad(what, 'want a JSON object {"rules":[...]}');
  const list = rules.rules ?? [];
  if (!Array.isArray(list)) bad(what, "'rules' must be an array");
  const out: RoutingRules = { rules: [] };
  const seen = new Set<string>();
  for (const r of list) {
    if (!isObject(r)) bad(what, 'each rule must be an object');
    const from = str(r, 'from_table', what);
    if (seen.has(from)) bad(what, `duplicate rule for '${from}'`);
    seen.add(from);
    out.rules.push({ from_table: from, to_tables: stringArray(r.to_tables, `${what} (to_tables of '${from}')`) });
  }
  return out;
}

/** Accepts the seed's `"shards"` for `"shard"` and always returns `shard`. */
export function validateShardRoutingRules(rules: Json): ShardRoutingRules {
  const what = 'shard routing rules';
  if (!isObject(rules)) bad(what, 'want a JSON object {"rules":[...]}');
  const list = rules.rules ?? [];
  if (!Array.isArray(list)) bad(what, "'rules' must be an array");
  const out: ShardRoutingRules = { rules: [] };
  const seen = new Set<string>();
  for (const r of list) {
    if (!isObject(r)) bad(what, 'each rule must be an object');
    const shardField = r.shard !== undefined ? 'shard' : 'shards';
    const shard = str(r, shardField, what);
    try {
      shardKeyRange(shard);
    } catch (err) {
      bad(what, (err as Error).message);
    }
    const rule = { from_keyspace: str(r, 'from_keyspace', what), to_keyspace: str(r, 'to_keyspace', what), shard };
    const key = `${rule.from_keyspace}/${rule.shard}`;
    if (seen.has(key)) bad(what, `duplicate rule for ${key}`);
    seen.add(key);
    out.rules.push(rule);
  }
  return out;
}

export function validateKeyspaceRoutingRules(rules: Json): KeyspaceRoutingRules {
  const what = 'keyspace routing rules';
  if (!isObject(rules)) bad(what, 'want a JSON object {"rules":[...]}');
  const list = rules.rules ?? [];
  if (!Array.isArray(list)) bad(what, "'rules' must be an array");
  const out: KeyspaceRoutingRules = { rules: [] };
  for (const r of list) {
    if (!isObject(r)) bad(what, 'each rule must be an object');
    out.rules.push({ from_keyspace: str(r, 'from_keyspace', what), to_keyspace: str(r, 'to_keyspace', what) });
  }
  return out;
}

/**
 * Checks the whole serving VSchema before it is published (rules pointing at keyspaces that do
 * not exist, and so on). Hook for src/vschema's whole-cluster validation.
 */
export function validateSrvVSchema(srv: SrvVSchema): SrvVSchema {
  return srv;
}
