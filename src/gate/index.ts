// The gate: one MySQL endpoint in front of every keyspace. See docs/gate.md.
//
//   const gate = await createGate({ topo, cell: 'zone1', tabletConn: (t) => conn, mysql: { port: 15306 }, http: { port: 15001 } });
//   … gate.mysqlPort …
//   await gate.close();
export { createGate, Gate, GATE_DEFAULTS, type GateOptions } from './gate.js';
export { StaticAuth } from './auth.js';
export { Executor } from './executor.js';
export { BUFFER_DEFAULTS, FailoverBuffer, type BufferOptions, type ShardBufferStats } from './buffer.js';
export { HealthCheck, HEALTH_CHECK_DEFAULTS, type HealthCheckOptions, type TabletConnFactory, type TabletHealth } from './health-check.js';
export { Resolver, type ResolverOptions, type ServingShard } from './resolver.js';
export { PlanCache, PLAN_CACHE_DEFAULTS, type PlanCacheOptions } from './plan-cache.js';
export { Sequences, type SequenceBackend } from './sequences.js';
export { GateSession, type TransactionMode } from './session.js';
export { SessionCursor } from './session-cursor.js';
export { planStatement, isPlannable, walkPrimitives, PlanContext, type PlanTarget } from './planner/index.js';
export type { BindVars, Cell, LoggedQuery, Plan, PlanDescription, Primitive, ResolvedShard, Result, Row, ShardQuery, VCursor } from './types.js';
export { notSupported } from './errors.js';
