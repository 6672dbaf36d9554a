// Lookup vindexes' statements at the gate: planned against the VSchema as a client's statement
// would be (so the lookup table may live in any keyspace, sharded or not), cached per VSchema,
// and run through the cursor of their commit order.
import { parse } from '../sql/index.js';
import type { ClusterVSchema } from '../vschema/index.js';
import { planStatement } from './planner/index.js';
import type { BindVars, Plan, Result, VCursor } from './types.js';

/** Most lookup statements kept planned per VSchema (a multi-row insert's text differs per row count). */
export const VINDEX_PLANS_MAX = 1000;

const plans = new WeakMap<ClusterVSchema, Map<string, Plan>>();

export function vindexQueryPlan(vschema: ClusterVSchema, sql: string): Plan {
  let cached = plans.get(vschema);
  if (!cached) plans.set(vschema, (cached = new Map()));
  let plan = cached.get(sql);
  if (!plan) {
    plan = planStatement(vschema, { keyspace: null, shard: null, tabletType: 'primary' }, parse(sql), null);
    if (cached.size >= VINDEX_PLANS_MAX) cached.clear();
    cached.set(sql, plan);
  }
  return plan;
}

export function runVindexQuery(vc: VCursor, sql: string, bindVars: BindVars): Promise<Result> {
  return vindexQueryPlan(vc.vschema, sql).primitive.execute(vc, bindVars);
}
