// The one place the topology checks VSchemas and rules before storing them, with the VSchema model
// of src/vschema: each document is parsed (errors name keyspace, table, vindex) and stored in its
// canonical JSON form (shard routing rules always with `shard`, never the seed's `shards`); a
// change is also checked against the whole cluster (sequences, reference sources, rule targets)
// before it is written, so a bad apply fails and changes nothing.
import {
  keyspaceRoutingRulesToJSON,
  parseKeyspaceRoutingRules,
  parseKeyspaceVSchema,
  parseRoutingRules,
  parseShardRoutingRules,
  routingRulesToJSON,
  shardRoutingRulesToJSON,
  validateClusterVSchema,
  vschemaToJSON,
  type KeyspaceVSchema as ParsedKeyspaceVSchema,
} from '../vschema/index.js';
import { compareKeyRanges, parseShardName } from '../key/index.js';
import { logger } from '../log/index.js';
import { isTopoError, topoError } from './errors.js';
import type { Json, KeyspaceRoutingRules, KeyspaceVSchema, RoutingRules, ShardRoutingRules, SrvVSchema } from './model.js';

const log = logger('topo');

function badArgument<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (isTopoError(err)) throw err;
    throw topoError('BAD_ARGUMENT', (err as Error).message, { cause: err });
  }
}

/** Plain JSON from src/vschema's writers, as the model's types. */
function asModel<T>(v: unknown): T {
  return v as T;
}

function parseVSchema(keyspace: string, vschema: Json): ParsedKeyspaceVSchema {
  return badArgument(() => parseKeyspaceVSchema(keyspace, vschema));
}

/** Checks one keyspace's VSchema on its own; returns the canonical form to store. */
export function validateKeyspaceVSchema(keyspace: string, vschema: Json): KeyspaceVSchema {
  const parsed = parseVSchema(keyspace, vschema);
  for (const w of parsed.warnings) log.warn({ keyspace }, `vschema warning: ${w}`);
  return asModel<KeyspaceVSchema>(vschemaToJSON(parsed));
}

export function validateRoutingRules(rules: Json): RoutingRules {
  return badArgument(() => asModel<RoutingRules>(routingRulesToJSON(parseRoutingRules(rules))));
}

/**
 * Accepts the seed's `"shards"` for `"shard"` and always returns `shard`. Rules are stored in key
 * order of their shard, then by keyspace, so GetShardRoutingRules prints a keyspace's partial
 * migration shard by shard (`customer2 -80`, `customer 80-`) whatever order they were written in.
 */
export function validateShardRoutingRules(rules: Json): ShardRoutingRules {
  return badArgument(() => {
    const parsed = parseShardRoutingRules(rules);
    const sorted = [...parsed.rules].sort(
      (a, b) => compareKeyRanges(parseShardName(a.shard), parseShardName(b.shard)) || (a.fromKeyspace < b.fromKeyspace ? -1 : a.fromKeyspace > b.fromKeyspace ? 1 : 0),
    );
    return asModel<ShardRoutingRules>(shardRoutingRulesToJSON({ rules: sorted }));
  });
}

export function validateKeyspaceRoutingRules(rules: Json): KeyspaceRoutingRules {
  return badArgument(() => asModel<KeyspaceRoutingRules>(keyspaceRoutingRulesToJSON(parseKeyspaceRoutingRules(rules))));
}

/**
 * Cross-keyspace problems of a serving VSchema (every keyspace, with `{}` for one that has no
 * VSchema, and the rules), as messages; empty when it is consistent.
 */
export function srvVSchemaProblems(srv: SrvVSchema): string[] {
  try {
    const keyspaces: Record<string, ParsedKeyspaceVSchema> = {};
    for (const [name, v] of Object.entries(srv.keyspaces)) keyspaces[name] = parseVSchema(name, v);
    return validateClusterVSchema({
      keyspaces,
      routingRules: parseRoutingRules(srv.routing_rules),
      shardRoutingRules: parseShardRoutingRules(srv.shard_routing_rules),
      keyspaceRoutingRules: parseKeyspaceRoutingRules(srv.keyspace_routing_rules),
    });
  } catch (err) {
    return [(err as Error).message];
  }
}

/** FAILED_PRECONDITION listing the problems when a change would leave the cluster VSchema inconsistent. */
export function checkSrvVSchema(srv: SrvVSchema, change: string): void {
  const problems = srvVSchemaProblems(srv);
  if (problems.length > 0) {
    throw topoError('FAILED_PRECONDITION', `${change} would leave the cluster VSchema inconsistent: ${problems.join('; ')}`);
  }
}
