// SET through the gate: user variables stay in the gate, charsets and the gate's own variables
// (autocommit, workload, transaction_mode, …) change the session, and every other session
// variable becomes a setting the session's tablet connections are given (reserved connections).
import { format, formatExpr, rewriteExpr, type Expr, type Literal, type Select, type SetStatement, type Statement } from '../sql/index.js';
import { TesseraError, type ColumnDefinition, type Session } from '../mysql/index.js';
import { CHARSET_VARS, setCharacterSet, setCharsetVar, setNames, type ConnectionCharsets } from './charsets.js';
import { notSupported } from './errors.js';
import { cellValue } from './evaluate.js';
import type { GateSession } from './session.js';
import type { LoggedQuery, ResolvedShard, Result } from './types.js';
import { rowsOf, sqlValueToLiteral } from './values.js';

/** Session variables the gate keeps itself (Vitess's vtgate-level variables and ours). */
export const GATE_VARS = new Set(['autocommit', 'transaction_mode', 'workload', 'ddl_strategy', 'migration_context', 'enable_system_settings', 'skip_query_plan_cache', 'sql_select_limit_gate', 'query_timeout', 'read_after_write_gtid', 'read_after_write_timeout', 'session_track_gtids', 'planner_version', 'planner-version', 'client_found_rows', 'tx_read_only_gate']);

/** Session variables a SET may name that change nothing behind the gate. */
const IGNORED_VARS = new Set(['names', 'net_write_timeout', 'net_read_timeout', 'wait_timeout', 'interactive_timeout', 'sql_notes', 'sql_warnings', 'sql_quote_show_create', 'profiling']);

/** What SET needs of the executor. */
export interface SetContext {
  setCharsets(gs: GateSession, session: Session, next: ConnectionCharsets): Promise<void>;
  /** The session's one shard, when it has one (USE ks/shard or an unsharded keyspace). */
  singleShard(gs: GateSession): ResolvedShard | null;
  executePlanned(gs: GateSession, stmt: Statement, sql: string, log: LoggedQuery[] | null): Promise<Result>;
}

export function okResult(): Result {
  return { fields: [], rows: null, raw: null, rowsAffected: 0, insertId: 0n, warnings: 0, info: '' };
}

/** A value a shard returned, as the literal the gate keeps for a user variable. */
export function literalOf(cell: Buffer | null, field: ColumnDefinition | undefined): Literal {
  if (cell === null || field === undefined) return { kind: 'Null' };
  const v = cellValue(cell, field);
  if (v === null) return { kind: 'Null' };
  if (typeof v === 'bigint') return { kind: 'Number', text: v.toString(), numType: 'int' };
  if (typeof v === 'number') return sqlValueToLiteral(v);
  if (typeof v === 'string') return { kind: 'String', value: v, charset: null, national: false };
  if (Buffer.isBuffer(v)) return { kind: 'Hex', digits: v.toString('hex'), form: 'x', charset: null };
  return { kind: 'Number', text: cell.toString('latin1'), numType: 'decimal' };
}

/** Keeps `statement` (a SET the tablets must see) among the session's settings and applies it where the session holds connections. */
export async function addSetting(gs: GateSession, statement: string): Promise<void> {
  if (!gs.settings.includes(statement)) {
    gs.settings = [...gs.settings, statement];
    await applyOnHeld(gs, statement);
  }
}

/**
 * A setting changed: existing reserved connections do not have it; they are dropped and reserved
 * again with all settings, unless they hold the session's state (pinned): then it is applied on them.
 */
export async function applyOnHeld(gs: GateSession, statement: string): Promise<void> {
  if (!gs.inTransaction && !gs.pinned) await gs.releaseReserved();
  else if (!gs.inTransaction) {
    for (const rsv of gs.reserved.values()) await rsv.conn.execute(rsv.target, statement, null, { reservedId: rsv.reservedId });
  }
  else {
    for (const ss of gs.shardSessions.values()) await ss.conn.execute(ss.target, statement, null, { transactionId: ss.transactionId, reservedId: ss.reservedId || undefined });
  }
}

/**
 * A session variable the tablets must see becomes a setting. On the session's one shard it runs
 * at once, so that MariaDB's error (the setting is then not kept) or warnings are the SET's own.
 */
async function setOnShards(x: SetContext, gs: GateSession, statement: string): Promise<void> {
  const rs = x.singleShard(gs);
  const had = gs.settings.includes(statement);
  try {
    await addSetting(gs, statement);
    // In a transaction addSetting ran it on the transaction's connections already.
    if (rs === null || gs.inTransaction) return;
    const r = await gs.executeOnShard(rs, statement, false, undefined);
    if (r.warnings > 0) gs.noteWarnings(rs, r);
  } catch (err) {
    if (!had && gs.settings.includes(statement)) {
      gs.settings = gs.settings.filter((x) => x !== statement);
      if (!gs.inTransaction && !gs.pinned) await gs.releaseReserved();
    }
    throw err;
  }
}

/** SET: user variables, charsets, the gate's own variables, and the rest as settings for the tablets. */
export async function runSet(x: SetContext, gs: GateSession, session: Session, stmt: SetStatement): Promise<Result> {
  for (const item of stmt.items) {
    switch (item.kind) {
      case 'SetUserVar': {
        gs.userVars.set(item.name.toLowerCase(), await valueOf(x, gs, item.value));
        break;
      }
      case 'SetNames':
        await x.setCharsets(gs, session, setNames(item.charset, item.collate));
        break;
      case 'SetCharset':
        await x.setCharsets(gs, session, setCharacterSet(gs.charsets, item.charset));
        break;
      case 'SetSysVar': {
        const name = item.name.toLowerCase();
        if (item.scope === 'GLOBAL' || item.scope === 'PERSIST' || item.scope === 'PERSIST_ONLY') throw notSupported(`SET GLOBAL ${item.name}`);
        const v = item.value;
        const text = v.kind === 'String' ? v.value : v.kind === 'Number' ? v.text : v.kind === 'Keyword' ? v.word : v.kind === 'Bool' ? (v.value ? '1' : '0') : v.kind === 'Column' ? v.name : null;
        if (name === 'autocommit') {
          const on = text !== null && ['1', 'on', 'true'].includes(text.toLowerCase());
          const off = text !== null && ['0', 'off', 'false'].includes(text.toLowerCase());
          if (!on && !off) throw new TesseraError({ errno: 1231, sqlState: '42000' }, `Variable 'autocommit' can't be set to the value of '${format({ kind: 'Set', items: [item], start: -1, end: -1 }).slice(4)}'`);
          if (on && !gs.autocommit && gs.inTransaction) await gs.commit();
          gs.autocommit = on;
          break;
        }
        if (name === 'workload') {
          // Vitess's workloads: OLAP streams reads without the row limits; DBA runs as OLTP here.
          const w = (text ?? '').toUpperCase();
          if (w !== 'OLTP' && w !== 'OLAP' && w !== 'DBA') throw new TesseraError({ errno: 1231, sqlState: '42000' }, `Variable 'workload' can't be set to the value of '${text ?? formatExpr(item.value)}': use OLTP, OLAP or DBA`);
          gs.sysVars.set(name, w);
          break;
        }
        if (name === 'transaction_mode') {
          const mode = (text ?? '').toUpperCase();
          if (mode === 'SINGLE' || mode === 'MULTI') gs.transactionMode = mode;
          else if (mode === 'TWOPC') throw notSupported('transaction_mode TWOPC');
          else throw new TesseraError({ errno: 1231, sqlState: '42000' }, `invalid transaction_mode: ${text}`);
          break;
        }
        if (name === 'completion_type') {
          // CHAIN would leave each shard connection inside a new transaction after COMMIT, and
          // RELEASE would drop it: the gate ends transactions itself, so only the default goes.
          if (text !== null && ['0', 'no_chain'].includes(text.toLowerCase())) break;
          throw notSupported(`SET completion_type = ${text ?? formatExpr(item.value)} (only NO_CHAIN)`);
        }
        if (GATE_VARS.has(name)) {
          gs.sysVars.set(name, text ?? format({ kind: 'Set', items: [item], start: -1, end: -1 }));
          break;
        }
        if (CHARSET_VARS.has(name)) {
          const value = v.kind === 'Null' || (v.kind === 'Keyword' && v.word.toUpperCase() === 'DEFAULT') ? null : text;
          await x.setCharsets(gs, session, setCharsetVar(gs.charsets, name, value));
          break;
        }
        if (IGNORED_VARS.has(name)) break;
        // User variables in the value are the gate's: their values go with the setting.
        const value = rewriteExpr(item.value, { expr: (e) => (e.kind === 'UserVar' ? gs.userVars.get(e.name.toLowerCase()) ?? { kind: 'Null' } : undefined) });
        await setOnShards(x, gs, format({ kind: 'Set', items: [{ ...item, value }], start: -1, end: -1 }));
        break;
      }
      default: {
        const never: never = item;
        throw new Error(`unknown SET item ${String(never)}`);
      }
    }
  }
  return okResult();
}

/** Evaluates an expression to a literal (through the shards when it needs them). */
async function valueOf(x: SetContext, gs: GateSession, e: Expr): Promise<Literal> {
  if (e.kind === 'Number' || e.kind === 'String' || e.kind === 'Null' || e.kind === 'Hex' || e.kind === 'Bit' || e.kind === 'Bool') return e;
  const sel: Select = {
    kind: 'Select', with: null, hints: null, distinct: false, options: [], columns: [{ expr: e, alias: 'v', start: -1, end: -1 }], from: [], where: null,
    groupBy: [], rollup: false, having: null, windows: [], orderBy: [], limit: null, lock: null, into: null, start: -1, end: -1,
  };
  const r = await x.executePlanned(gs, sel, '', null);
  const rows = rowsOf(r);
  if (rows.length === 0) return { kind: 'Null' };
  return literalOf(rows[0][0], r.fields[0]);
}
