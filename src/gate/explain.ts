// EXPLAIN and VEXPLAIN through the gate: the plan as Vitess prints it, the queries each shard
// ran, and MariaDB's own EXPLAIN for a query that goes to one shard.
import { TesseraError, ER } from '../mysql/index.js';
import { format, isQuery, normalize, type BindValue, type Statement } from '../sql/index.js';
import { Route } from './engine/route.js';
import { notSupported } from './errors.js';
import { walkPrimitives } from './planner/index.js';
import type { GateSession } from './session.js';
import { toResult } from './session-cursor.js';
import { textResult } from './show.js';
import { expandStars } from './star-expansion.js';
import type { LoggedQuery, Plan, Result } from './types.js';

/** What EXPLAIN needs of the executor. */
export interface ExplainContext {
  preprocess(gs: GateSession, stmt: Statement, sql: string): Statement;
  plan(gs: GateSession, stmt: Statement): { plan: Plan; bindVars: Readonly<Record<string, BindValue>> };
  executePlanned(gs: GateSession, stmt: Statement, sql: string, log: LoggedQuery[] | null): Promise<Result>;
  /** The gate's column lists, for SELECT * (star-expansion.ts). */
  readonly columns: Parameters<typeof expandStars>[2];
}

/** VEXPLAIN PLAN (also EXPLAIN FORMAT=vitess) and VEXPLAIN QUERIES. */
export async function vexplain(x: ExplainContext, gs: GateSession, type: 'PLAN' | 'QUERIES' | 'ALL', stmt: Statement, sql: string): Promise<Result> {
  if (type === 'PLAN') {
    const s = x.preprocess(gs, stmt, sql);
    let plan: Plan;
    try {
      try {
        plan = x.plan(gs, s).plan;
      } catch (err) {
        const expanded = err instanceof TesseraError && err.errno === ER.NOT_SUPPORTED_YET.errno && /SELECT \*/.test(err.message) && isQuery(s) ? await expandStars(s, gs, x.columns) : null;
        if (!expanded) throw err;
        plan = x.plan(gs, expanded).plan;
      }
    } catch (err) {
      // A refused statement: the plan says which part and why (docs/gate.md lists them).
      if (!(err instanceof TesseraError && err.errno === ER.NOT_SUPPORTED_YET.errno)) throw err;
      return textResult(['JSON'], [[JSON.stringify({ OperatorType: 'Refused', Reason: err.message }, null, '\t')]]);
    }
    return textResult(['JSON'], [[JSON.stringify(plan.primitive.describe(), null, '\t')]]);
  }
  if (type === 'ALL') throw notSupported('VEXPLAIN ALL');
  const log: LoggedQuery[] = [];
  await x.executePlanned(gs, stmt, sql, log);
  // Vitess's four columns first; then where each query really ran (after shard routing rules).
  return textResult(['#', 'keyspace', 'shard', 'query', 'tablet_type', 'tablet'], log.map((q, i) => [i, q.keyspace, q.shard, q.sql, q.tabletType, q.tablet]));
}

/** EXPLAIN of a query that runs on one route: MariaDB's EXPLAIN of what that shard is sent. */
export async function explainOnShard(x: ExplainContext, gs: GateSession, stmt: Statement, sql: string): Promise<Result> {
  const s = x.preprocess(gs, stmt, sql);
  const { plan } = x.plan(gs, s);
  const routes = [...walkPrimitives(plan.primitive)].filter((p): p is Route => p instanceof Route);
  if (routes.length !== 1 || routes[0] !== plan.primitive) throw notSupported('EXPLAIN of a query that runs on several routes; use VEXPLAIN PLAN');
  const cursor = gs.cursor();
  const n = normalize(s);
  const targets = await routes[0].resolve(cursor, n.bindVars);
  if (targets.length === 0) throw notSupported('EXPLAIN of a query that goes to no shard');
  const shardSql = 'EXPLAIN ' + format(routes[0].spec.query, { bindVars: targets[0].bindVars });
  const r = await gs.executeOnShard(targets[0].rs, shardSql, false, undefined);
  gs.noteWarnings(targets[0].rs, r);
  return toResult(r);
}
