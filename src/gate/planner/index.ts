// The planner: a statement (already normalized) → a tree of engine primitives.
import { format, isQuery, type Statement } from '../../sql/index.js';
import { NextValue } from '../engine/next-value.js';
import { Route } from '../engine/route.js';
import { Send } from '../engine/send.js';
import { notSupported } from '../errors.js';
import type { Plan, Primitive } from '../types.js';
import { allTableNames, DBA_SCHEMAS, PlanContext, stripQualifiers, type PlanTarget } from './context.js';
import { planInsert, planUpdateDelete } from './dml.js';
import { planQuery } from './select.js';
import type { ClusterVSchema } from '../../vschema/index.js';
import { ER, TesseraError } from '../../mysql/index.js';

export { PlanContext, type PlanTarget } from './context.js';

/** Statements the planner turns into primitives; the executor handles the rest itself. */
export function isPlannable(s: Statement): boolean {
  switch (s.kind) {
    case 'Select':
    case 'SetOp':
    case 'Insert':
    case 'Update':
    case 'Delete':
    case 'NextVal':
    case 'CreateTable':
    case 'AlterTable':
    case 'DropTable':
    case 'TruncateTable':
    case 'RenameTable':
    case 'CreateIndex':
    case 'DropIndex':
    case 'CreateView':
    case 'DropView':
    case 'Call':
    case 'StoredProgram':
    case 'Compound':
    case 'SequenceDdl':
      return true;
    default:
      return false;
  }
}

function ddlKeyspace(ctx: PlanContext, s: Statement): string {
  let schema: string | null = null;
  switch (s.kind) {
    case 'CreateTable':
    case 'AlterTable':
    case 'TruncateTable':
    case 'CreateIndex':
    case 'DropIndex':
      schema = s.table.schema;
      break;
    case 'DropTable':
      schema = s.tables[0]?.schema ?? null;
      break;
    case 'RenameTable':
      schema = s.pairs[0]?.from.schema ?? null;
      break;
    case 'CreateView':
      schema = s.name.schema;
      break;
    case 'DropView':
      schema = s.names[0]?.schema ?? null;
      break;
    case 'Call':
      schema = s.name.schema;
      break;
    case 'StoredProgram':
      schema = s.name.schema ?? s.table?.schema ?? null;
      break;
    case 'SequenceDdl':
      schema = s.names[0]?.schema ?? null;
      break;
    default:
      break;
  }
  const ks = schema ?? ctx.target.keyspace;
  if (ks === null) throw new TesseraError(ER.NO_DB, 'No database selected');
  if (!ctx.isKeyspace(ks)) throw new TesseraError(ER.BAD_DB, `Unknown database '${ks}'`);
  return ks;
}

/**
 * Stored-program DDL goes to every shard of the keyspace (or the targeted one), as written: each
 * shard's MariaDB keeps its own copy of the program, as Vitess's ApplySchema does. An anonymous
 * block (BEGIN NOT ATOMIC … END) runs where a CALL would: one shard.
 */
function planStoredProgram(ctx: PlanContext, stmt: Extract<Statement, { kind: 'StoredProgram' | 'Compound' }>, target: PlanTarget): Primitive {
  if (stmt.kind === 'Compound') {
    const ks = ddlKeyspace(ctx, stmt);
    if (ctx.vschema.keyspaces[ks]?.sharded && target.shard === null) throw notSupported('BEGIN NOT ATOMIC … END on a sharded keyspace; target one shard (USE ks:shard)');
    return new Send(ks, stmt.text, target.shard, true);
  }
  if (stmt.name.schema !== null || stmt.table?.schema) {
    throw notSupported(`a keyspace-qualified name in ${stmt.action} ${stmt.object} (the shards' databases are named otherwise); USE the keyspace and name it alone`);
  }
  return new Send(ddlKeyspace(ctx, stmt), stmt.text, target.shard, true, true);
}

/**
 * MariaDB's sequences (CREATE/ALTER/DROP SEQUENCE) live on one shard: on a sharded keyspace each
 * shard's copy would hand out the same values, so there they are refused; the gate's own sequences
 * (vschema `auto_increment`, sequence tables in an unsharded keyspace) serve sharded tables.
 */
function planSequenceDdl(ctx: PlanContext, stmt: Extract<Statement, { kind: 'SequenceDdl' }>, target: PlanTarget): Primitive {
  if (stmt.names.some((n) => n.schema !== null)) {
    throw notSupported(`a keyspace-qualified name in ${stmt.action} SEQUENCE (the shards' databases are named otherwise); USE the keyspace and name it alone`);
  }
  const ks = ddlKeyspace(ctx, stmt);
  if (ctx.vschema.keyspaces[ks]?.sharded && target.shard === null) {
    throw notSupported(`${stmt.action} SEQUENCE on a sharded keyspace (each shard would count on its own); create the sequence in an unsharded keyspace, or use a vschema auto_increment sequence`);
  }
  return new Send(ks, stmt.text, target.shard, true, true);
}

/** Plans one statement. `sql` is the original text (for result column names). */
export function planStatement(vschema: ClusterVSchema, target: PlanTarget, stmt: Statement, sql: string | null): Plan {
  const ctx = new PlanContext(vschema, target);
  let primitive: Primitive;
  let write = false;
  let tables: string[] = [];
  if (isQuery(stmt)) {
    primitive = planQuery(ctx, stmt, sql);
  } else if (stmt.kind === 'Insert') {
    primitive = planInsert(ctx, stmt);
    write = true;
  } else if (stmt.kind === 'Update' || stmt.kind === 'Delete') {
    primitive = planUpdateDelete(ctx, stmt);
    write = true;
  } else if (stmt.kind === 'NextVal') {
    const t = ctx.resolveTable(stmt.table);
    if (t.vschema?.type !== 'sequence') throw new TesseraError(ER.UNKNOWN_ERROR, `NEXT VALUES: ${t.keyspace}.${t.table} is not a sequence table`);
    primitive = new NextValue(t.keyspace, t.table, stmt.count);
  } else if (stmt.kind === 'SequenceDdl') {
    primitive = planSequenceDdl(ctx, stmt, target);
    write = true;
  } else if (stmt.kind === 'StoredProgram' || stmt.kind === 'Compound') {
    primitive = planStoredProgram(ctx, stmt, target);
    write = true;
  } else if (isPlannable(stmt)) {
    const ks = ddlKeyspace(ctx, stmt);
    // Every database a DDL names must exist (`RENAME TABLE t TO nowhere.t` is MariaDB's 1049).
    for (const t of allTableNames(stmt)) {
      if (t.schema !== null && !ctx.isKeyspace(t.schema) && !DBA_SCHEMAS.has(t.schema.toLowerCase())) throw new TesseraError(ER.BAD_DB, `Unknown database '${t.schema}'`);
    }
    const text = format(stripQualifiers(stmt, ctx));
    if (stmt.kind === 'Call') {
      if (vschema.keyspaces[ks]?.sharded && target.shard === null) throw notSupported('CALL in a sharded keyspace');
      primitive = target.shard !== null ? new Send(ks, text, target.shard, true) : new Route({ opcode: 'Unsharded', keyspace: ks, sharded: false, query: stripQualifiers(stmt, ctx), write: true });
    } else primitive = new Send(ks, text, target.shard, true, true);
    write = true;
  } else {
    throw notSupported(`planning ${stmt.kind}`);
  }
  for (const p of walkPrimitives(primitive)) {
    if (p instanceof Route && p.spec.tables) tables.push(...p.spec.tables);
  }
  tables = [...new Set(tables)];
  const bytes = JSON.stringify(primitive.describe()).length * 2 + 512;
  return { primitive, write, tables, bytes };
}

export function* walkPrimitives(p: Primitive): Generator<Primitive> {
  yield p;
  for (const c of p.inputs()) yield* walkPrimitives(c);
}
