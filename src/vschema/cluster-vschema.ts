// The whole cluster's VSchema: every keyspace's VSchema plus the three kinds of rules, checked
// against each other. This is what the gate routes with and what ApplyVSchema /
// ApplyRoutingRules validate a change against before writing it to topo.

import { ER, TesseraError } from '../mysql/errors.js';
import type { Vindex } from '../vindexes/index.js';
import { instantiateVindexes, type KeyspaceVSchema, type TableVSchema } from './keyspace-vschema.js';
import type { KeyspaceRoutingRules, RoutingRules, RoutingTabletType, ShardRoutingRules } from './rules.js';

export interface ClusterVSchemaInput {
  /** Keyspace name → its parsed VSchema (keyspaces without a VSchema: an unsharded default). */
  readonly keyspaces: Readonly<Record<string, KeyspaceVSchema>>;
  readonly routingRules?: RoutingRules;
  readonly shardRoutingRules?: ShardRoutingRules;
  readonly keyspaceRoutingRules?: KeyspaceRoutingRules;
}

export interface ClusterVSchema extends Required<ClusterVSchemaInput> {
  /** Vindex objects per keyspace, by vindex name. */
  readonly vindexes: ReadonlyMap<string, ReadonlyMap<string, Vindex>>;
  /**
   * Where `keyspace.table` (keyspace undefined = unqualified) is served for a tablet type,
   * after routing rules: undefined when no keyspace has it or the name is ambiguous.
   */
  findTable(keyspace: string | undefined, table: string, tabletType?: RoutingTabletType): ResolvedTable | undefined;
  /** The keyspace serving `shard` of `keyspace` under the shard routing rules. */
  keyspaceForShard(keyspace: string, shard: string): string;
}

export interface ResolvedTable {
  readonly keyspace: string;
  readonly table: string;
  readonly vschema: TableVSchema | undefined;
}

/**
 * Every cross-keyspace problem, as messages naming keyspace and table: auto_increment sequences
 * that do not exist or live in a sharded keyspace, reference sources missing, routing rules
 * pointing at unknown keyspaces or tables.
 */
export function validateClusterVSchema(input: ClusterVSchemaInput): string[] {
  const problems: string[] = [];
  const ks = input.keyspaces;
  for (const [name, v] of Object.entries(ks)) {
    if (v.keyspace !== name) problems.push(`keyspace ${name}: its VSchema was parsed for keyspace ${v.keyspace}`);
  }
  const tableHomes = (table: string): string[] => Object.keys(ks).filter((k) => table in ks[k].tables);
  for (const [name, v] of Object.entries(ks)) {
    for (const [tname, t] of Object.entries(v.tables)) {
      const where = `keyspace ${name} table ${tname}`;
      if (t.autoIncrement) {
        const seq = t.autoIncrement.sequence;
        const dot = seq.indexOf('.');
        const seqKs = dot < 0 ? undefined : seq.slice(0, dot);
        const seqTable = dot < 0 ? seq : seq.slice(dot + 1);
        const homes = seqKs !== undefined ? (ks[seqKs] && seqTable in ks[seqKs].tables ? [seqKs] : []) : tableHomes(seqTable);
        if (seqKs !== undefined && !ks[seqKs]) {
          problems.push(`${where}: auto_increment sequence ${seq} names keyspace ${seqKs}, which has no VSchema`);
        } else if (homes.length === 0) {
          problems.push(`${where}: auto_increment sequence ${seq} is not a table in any keyspace's VSchema`);
        } else if (homes.length > 1) {
          problems.push(`${where}: auto_increment sequence ${seq} is in keyspaces ${homes.join(', ')}; qualify it as keyspace.${seqTable}`);
        } else {
          const home = ks[homes[0]];
          const st = home.tables[seqTable];
          if (st.type !== 'sequence') {
            problems.push(`${where}: auto_increment sequence ${homes[0]}.${seqTable} is not of type sequence`);
          } else if (home.sharded && st.pinned === undefined) {
            problems.push(`${where}: auto_increment sequence ${homes[0]}.${seqTable} must be in an unsharded keyspace`);
          }
        }
      }
      if (t.type === 'reference' && t.source !== undefined) {
        const [sk, st] = t.source.split('.');
        if (!ks[sk]) problems.push(`${where}: reference source ${t.source} names keyspace ${sk}, which has no VSchema`);
        else if (ks[sk].sharded) problems.push(`${where}: reference source ${t.source} must be in an unsharded keyspace`);
        else if (!(st in ks[sk].tables)) problems.push(`${where}: reference source ${t.source} is not a table of keyspace ${sk}`);
      }
    }
  }
  const routed = new Set<string>();
  for (const r of input.routingRules?.rules ?? []) {
    const to = r.to;
    const target = ks[to.keyspace];
    if (!target) {
      problems.push(`routing rule ${r.fromTable}: target keyspace ${to.keyspace} has no VSchema`);
    } else if (target.sharded && !(to.table in target.tables)) {
      problems.push(`routing rule ${r.fromTable}: target table ${to.table} is not in sharded keyspace ${to.keyspace}`);
    }
    // Self-routes (customer2.customer → customer2.customer) are normal: MoveTables writes them.
    // Rules resolve one hop only, as in Vitess, so a target that is itself redirected is fine.
  }
  for (const r of input.shardRoutingRules?.rules ?? []) {
    if (!ks[r.toKeyspace]) problems.push(`shard routing rule ${r.fromKeyspace}/${r.shard}: target keyspace ${r.toKeyspace} has no VSchema`);
  }
  for (const r of input.keyspaceRoutingRules?.rules ?? []) {
    if (!ks[r.toKeyspace]) problems.push(`keyspace routing rule ${r.fromKeyspace}: target keyspace ${r.toKeyspace} has no VSchema`);
  }
  return problems;
}

/**
 * Builds the cluster view; throws one TesseraError listing every problem when any is found.
 * Each keyspace must already have been through parseKeyspaceVSchema.
 */
export function buildClusterVSchema(input: ClusterVSchemaInput): ClusterVSchema {
  const problems = validateClusterVSchema(input);
  if (problems.length > 0) {
    throw new TesseraError(ER.WRONG_ARGUMENTS, `VSchema is not valid: ${problems.join('; ')}`);
  }
  const keyspaces = input.keyspaces;
  const routingRules = input.routingRules ?? { rules: [] };
  const shardRoutingRules = input.shardRoutingRules ?? { rules: [] };
  const keyspaceRoutingRules = input.keyspaceRoutingRules ?? { rules: [] };
  const vindexes = new Map<string, ReadonlyMap<string, Vindex>>();
  for (const [name, v] of Object.entries(keyspaces)) vindexes.set(name, instantiateVindexes(v));
  const rulesByFrom = new Map<string, { keyspace: string; table: string }>();
  for (const r of routingRules.rules) {
    rulesByFrom.set(`${r.from.keyspace ?? ''}.${r.from.table}@${r.tabletType}`, r.to);
  }
  // keyspace -> shard -> keyspace: the gate asks for every shard of every query when partial
  // keyspace migration is on, so the lookup builds no key string and ends at once without rules.
  const shardRules = new Map<string, Map<string, string>>();
  for (const r of shardRoutingRules.rules) {
    let m = shardRules.get(r.fromKeyspace);
    if (!m) shardRules.set(r.fromKeyspace, (m = new Map()));
    m.set(r.shard, r.toKeyspace);
  }

  const resolved = (keyspace: string, table: string): ResolvedTable => ({
    keyspace,
    table,
    vschema: keyspaces[keyspace]?.tables[table],
  });

  return {
    keyspaces,
    routingRules,
    shardRoutingRules,
    keyspaceRoutingRules,
    vindexes,
    findTable(keyspace, table, tabletType = 'primary') {
      const rule =
        rulesByFrom.get(`${keyspace ?? ''}.${table}@${tabletType}`) ??
        (tabletType !== 'primary' ? rulesByFrom.get(`${keyspace ?? ''}.${table}@primary`) : undefined);
      if (rule) return resolved(rule.keyspace, rule.table);
      if (keyspace !== undefined) {
        const v = keyspaces[keyspace];
        if (!v) return undefined;
        if (table in v.tables || !v.sharded) return resolved(keyspace, table);
        return undefined;
      }
      // Unqualified: the one keyspace that lists it and does not require explicit routing.
      const homes = Object.keys(keyspaces).filter(
        (k) => table in keyspaces[k].tables && !keyspaces[k].requireExplicitRouting,
      );
      if (homes.length === 1) return resolved(homes[0], table);
      return undefined;
    },
    keyspaceForShard(keyspace, shard) {
      if (shardRules.size === 0) return keyspace;
      return shardRules.get(keyspace)?.get(shard) ?? keyspace;
    },
  };
}
