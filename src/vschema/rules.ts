// Routing rules, shard routing rules and keyspace routing rules: parse, validate, write.

import { ER, TesseraError } from '../mysql/errors.js';
import { parseShardName } from '../key/index.js';

function fail(message: string): TesseraError {
  return new TesseraError(ER.WRONG_ARGUMENTS, message);
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function parseJsonText(what: string, json: unknown): unknown {
  if (typeof json !== 'string') return json;
  try {
    return JSON.parse(json);
  } catch (err) {
    throw fail(`${what}: not valid JSON: ${(err as Error).message}`);
  }
}

/** The `rules` array of a rules document; an empty or missing document has no rules. */
function rulesArray(what: string, json: unknown): unknown[] {
  json = parseJsonText(what, json);
  if (json === undefined || json === null) return [];
  if (!isObject(json)) throw fail(`${what}: want {"rules": [...]}`);
  for (const k of Object.keys(json)) if (k !== 'rules') throw fail(`${what}: unknown field '${k}' (want rules)`);
  const rules = json.rules ?? [];
  if (!Array.isArray(rules)) throw fail(`${what}: rules must be an array`);
  return rules;
}

function ruleFields(what: string, i: number, rule: unknown, known: readonly string[]): Json {
  if (!isObject(rule)) throw fail(`${what}: rules[${i}] must be an object`);
  for (const k of Object.keys(rule)) {
    if (!known.includes(k)) throw fail(`${what}: rules[${i}] has unknown field '${k}' (known: ${known.join(', ')})`);
  }
  return rule;
}

function nonEmptyString(what: string, v: unknown): string {
  if (typeof v !== 'string' || v === '') throw fail(`${what} must be a non-empty string`);
  return v;
}

// ---- routing rules ----

export const TABLET_TYPES_FOR_ROUTING = ['primary', 'replica', 'rdonly'] as const;
export type RoutingTabletType = (typeof TABLET_TYPES_FOR_ROUTING)[number];

export interface TableRef {
  /** Undefined for an unqualified `from_table` (it matches the table in any keyspace). */
  readonly keyspace: string | undefined;
  readonly table: string;
}

export interface RoutingRule {
  /** The rule's text as given: `[keyspace.]table[@replica|@rdonly|@primary]`. */
  readonly fromTable: string;
  readonly from: TableRef;
  /** Tablet type the rule applies to; 'primary' for rules without a suffix. */
  readonly tabletType: RoutingTabletType;
  /** Always qualified. Exactly one target. */
  readonly toTables: readonly string[];
  readonly to: TableRef & { readonly keyspace: string };
}

export interface RoutingRules {
  readonly rules: readonly RoutingRule[];
}

function parseTableRef(what: string, text: string, qualified: boolean): TableRef {
  const parts = text.split('.');
  if (parts.length > 2 || parts.some((p) => p === '')) throw fail(`${what}: '${text}' is not [keyspace.]table`);
  if (parts.length === 1) {
    if (qualified) throw fail(`${what}: '${text}' must be qualified as keyspace.table`);
    return { keyspace: undefined, table: parts[0] };
  }
  return { keyspace: parts[0], table: parts[1] };
}

/**
 * Parses `{"rules":[{"from_table":"customer.customer@replica","to_tables":["customer2.customer"]}]}`.
 * Errors: a from_table given twice (the same table routed to two places), more than one target,
 * unqualified targets, unknown tablet types.
 */
export function parseRoutingRules(json: unknown): RoutingRules {
  const what = 'routing rules';
  const rules: RoutingRule[] = [];
  const seen = new Map<string, number>();
  rulesArray(what, json).forEach((r, i) => {
    const f = ruleFields(what, i, r, ['from_table', 'to_tables']);
    const fromTable = nonEmptyString(`${what}: rules[${i}].from_table`, f.from_table);
    const at = fromTable.indexOf('@');
    const base = at < 0 ? fromTable : fromTable.slice(0, at);
    const suffix = at < 0 ? 'primary' : fromTable.slice(at + 1).toLowerCase();
    if (!(TABLET_TYPES_FOR_ROUTING as readonly string[]).includes(suffix)) {
      throw fail(`${what}: rules[${i}] from_table '${fromTable}' has tablet type '${suffix}'; want @replica, @rdonly or none`);
    }
    const from = parseTableRef(`${what}: rules[${i}] from_table`, base, false);
    const key = `${from.keyspace ?? ''}.${from.table}@${suffix}`;
    const prev = seen.get(key);
    if (prev !== undefined) {
      throw fail(`${what}: table ${base}${suffix === 'primary' ? '' : '@' + suffix} is routed twice (rules[${prev}] and rules[${i}])`);
    }
    seen.set(key, i);
    if (!Array.isArray(f.to_tables) || f.to_tables.length === 0) {
      throw fail(`${what}: rules[${i}] (${fromTable}) needs to_tables with one target`);
    }
    if (f.to_tables.length > 1) {
      throw fail(`${what}: rules[${i}] routes ${fromTable} to ${f.to_tables.length} places (${f.to_tables.join(', ')}); a rule has one target`);
    }
    const toText = nonEmptyString(`${what}: rules[${i}].to_tables[0]`, f.to_tables[0]);
    const to = parseTableRef(`${what}: rules[${i}] to_tables`, toText, true) as TableRef & { keyspace: string };
    rules.push({ fromTable, from, tabletType: suffix as RoutingTabletType, toTables: [toText], to });
  });
  return { rules };
}

export function routingRulesToJSON(r: RoutingRules): { rules: { from_table: string; to_tables: string[] }[] } {
  return { rules: r.rules.map((x) => ({ from_table: x.fromTable, to_tables: [...x.toTables] })) };
}

// ---- shard routing rules ----

export interface ShardRoutingRule {
  readonly fromKeyspace: string;
  readonly toKeyspace: string;
  readonly shard: string;
}

export interface ShardRoutingRules {
  readonly rules: readonly ShardRoutingRule[];
}

/**
 * Parses `{"rules":[{"from_keyspace":"customer","to_keyspace":"customer2","shard":"-80"}]}`.
 * Accepts `shards` (as the seeds print it) for `shard`; one (from_keyspace, shard) per rule.
 */
export function parseShardRoutingRules(json: unknown): ShardRoutingRules {
  const what = 'shard routing rules';
  const rules: ShardRoutingRule[] = [];
  const seen = new Map<string, number>();
  rulesArray(what, json).forEach((r, i) => {
    const f = ruleFields(what, i, r, ['from_keyspace', 'to_keyspace', 'shard', 'shards']);
    if (f.shard !== undefined && f.shards !== undefined) throw fail(`${what}: rules[${i}] gives both shard and shards`);
    const fromKeyspace = nonEmptyString(`${what}: rules[${i}].from_keyspace`, f.from_keyspace);
    const toKeyspace = nonEmptyString(`${what}: rules[${i}].to_keyspace`, f.to_keyspace);
    const shard = nonEmptyString(`${what}: rules[${i}].shard`, f.shard ?? f.shards);
    parseShardName(shard);
    if (fromKeyspace === toKeyspace) throw fail(`${what}: rules[${i}] routes ${fromKeyspace}/${shard} to its own keyspace`);
    const key = `${fromKeyspace}/${shard}`;
    const prev = seen.get(key);
    if (prev !== undefined) throw fail(`${what}: shard ${key} is routed twice (rules[${prev}] and rules[${i}])`);
    seen.set(key, i);
    rules.push({ fromKeyspace, toKeyspace, shard });
  });
  return { rules };
}

/** Always writes `shard`, never `shards`. */
export function shardRoutingRulesToJSON(r: ShardRoutingRules): {
  rules: { from_keyspace: string; to_keyspace: string; shard: string }[];
} {
  return { rules: r.rules.map((x) => ({ from_keyspace: x.fromKeyspace, to_keyspace: x.toKeyspace, shard: x.shard })) };
}

// ---- keyspace routing rules ----

export interface KeyspaceRoutingRule {
  readonly fromKeyspace: string;
  readonly toKeyspace: string;
}

export interface KeyspaceRoutingRules {
  readonly rules: readonly KeyspaceRoutingRule[];
}

/**
 * Parses `{"rules":[{"from_keyspace":"src","to_keyspace":"dst"}]}` (whole-keyspace redirects;
 * `from_keyspace` may carry a tablet type suffix such as `src@replica`).
 */
export function parseKeyspaceRoutingRules(json: unknown): KeyspaceRoutingRules {
  const what = 'keyspace routing rules';
  const rules: KeyspaceRoutingRule[] = [];
  const seen = new Map<string, number>();
  rulesArray(what, json).forEach((r, i) => {
    const f = ruleFields(what, i, r, ['from_keyspace', 'to_keyspace']);
    const fromKeyspace = nonEmptyString(`${what}: rules[${i}].from_keyspace`, f.from_keyspace);
    const toKeyspace = nonEmptyString(`${what}: rules[${i}].to_keyspace`, f.to_keyspace);
    const prev = seen.get(fromKeyspace);
    if (prev !== undefined) throw fail(`${what}: keyspace ${fromKeyspace} is routed twice (rules[${prev}] and rules[${i}])`);
    seen.set(fromKeyspace, i);
    rules.push({ fromKeyspace, toKeyspace });
  });
  return { rules };
}

export function keyspaceRoutingRulesToJSON(r: KeyspaceRoutingRules): { rules: { from_keyspace: string; to_keyspace: string }[] } {
  return { rules: r.rules.map((x) => ({ from_keyspace: x.fromKeyspace, to_keyspace: x.toKeyspace })) };
}
