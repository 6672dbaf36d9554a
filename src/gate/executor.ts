// The executor: the gate's ServerHandler. It keeps a GateSession per client connection, handles
// session statements itself (USE, SET: set-statement.ts, BEGIN/COMMIT/ROLLBACK, savepoints, SHOW, VEXPLAIN: explain.ts), and
// sends everything else through normalize → plan cache → planner → engine.
import {
  CAP, columnDefinition, ER, TesseraError, TYPE,
  type ColumnDefinition, type PrepareResult, type ResultWriter, type ServerHandler, type ServerStatement, type Session, type TypedValue, type UserCredentials,
} from '../mysql/index.js';
import {
  format, isEmptyStatement, syntaxError, isQuery, normalize, parse, rewrite, splitStatements, userVariablesIn, walk, type BindValue, type Expr, type Literal, type QueryExpr, type Statement, type TableName,
} from '../sql/index.js';
import { parseTabletType, type TabletType } from '../topo/index.js';
import { logger } from '../log/index.js';
import { charsetVar, handshakeCharsets, reportedCollation, tabletSetting, type ConnectionCharsets } from './charsets.js';
import { internalError, isCodedError, notSupported } from './errors.js';
import { isPlannable, planStatement, walkPrimitives } from './planner/index.js';
import { Route } from './engine/route.js';
import { formatBound, placeholdersBound } from '../sql/format.js';
import { Send } from './engine/send.js';
import type { Gate } from './gate.js';
import { classifyUnparsed, emptyQuery, readUserVarsStatement, setUserVarsStatement } from './pass-through.js';
import { GateSession } from './session.js';
import { toResult } from './session-cursor.js';
import { executeShow } from './show.js';
import { switchTabletDatabase, systemDatabase, systemDatabaseHost } from './system-db.js';
import { expandStars } from './star-expansion.js';
import { streamedResult } from './streaming.js';
import { writeResult } from './write-result.js';
import { addSetting, applyOnHeld, literalOf, okResult, runSet, type SetContext } from './set-statement.js';
import { explainOnShard, vexplain, type ExplainContext } from './explain.js';
import { runBuffered } from './failover-retry.js';
import type { LoggedQuery, Plan, ResolvedShard, Result } from './types.js';
import { rowsOf, sqlValueToLiteral } from './values.js';
import {
  AS_WRITTEN_DDL, STATEMENT_TRANSACTION_KINDS, TEXT_CACHE_ENTRIES, UNSIGNED_COUNTS, aliasTopLevel, answerLocally, asWrittenCandidate, hasTableValues, mayUseSessionVars,
  plainTables, sessionVarUse, textEntry, usesSession, warningsEffect, type SessionVarUse, type TextEntry, type WarningsEffect,
} from './statement-class.js';

const log = logger('gate');

/** SHOW PROCESSLIST shows this much of a statement; SHOW FULL PROCESSLIST all of it (as MariaDB). */
const PROCESSLIST_INFO_CHARS = 100;

const STATUS_IN_TRANS = 0x0001;
const STATUS_AUTOCOMMIT = 0x0002;

/** Session variables the gate keeps itself; every other SET goes to the tablets (reserved connections). */
/** Settings that change nothing the gate must carry to MariaDB (the gate speaks utf8mb4 to tablets). */
/** What a tablet connection's character sets are put back to when a session's return to the defaults. */
const RESET_CHARSETS = 'SET collation_connection = utf8mb4_general_ci, character_set_results = utf8mb4';

interface PreparedState {
  readonly stmt: Statement;
  readonly sql: string;
  readonly paramCount: number;
  /**
   * Queries and DML that use nothing of the session (no user variables, DATABASE(), …): normalized
   * once with `?` as `:__pN`, so an execution only binds values and looks up the plan.
   */
  readonly normalized: { readonly key: string; readonly statement: Statement; readonly bindVars: Readonly<Record<string, BindValue>> } | null;
  readonly warnings: WarningsEffect;
  /**
   * The plan of `normalized`, bound at its first execution for the session target and resolver
   * generation it was planned under; later executions with the same reuse it without a lookup.
   */
  bound: BoundPlan | null;
}

interface BoundPlan {
  readonly plan: Plan;
  readonly generation: number;
  readonly keyspace: string | null;
  readonly shard: string | null;
  readonly tabletType: TabletType;
}

const PARAM_PREFIX = '__p';
/** `__p1` … for the first parameters, made once. */
const PARAM_NAMES = Array.from({ length: 64 }, (_, i) => PARAM_PREFIX + (i + 1));

/** onSessionShard for a statement that leaves nothing on the connection. */
const NO_SESSION_STATE = { pins: false, vars: [], lastInsertId: false } as const;

/** The query with `1 != 1` added to every SELECT's WHERE: same columns, no rows. */
function fieldQuery(q: QueryExpr): QueryExpr {
  if (q.kind === 'SetOp') return { ...q, left: fieldQuery(q.left), right: fieldQuery(q.right) };
  const never: Expr = { kind: 'Binary', op: '<>', left: { kind: 'Number', text: '1', numType: 'int' }, right: { kind: 'Number', text: '1', numType: 'int' } };
  return { ...q, where: q.where === null ? never : { kind: 'Binary', op: 'AND', left: q.where, right: never } };
}

/**
 * Errors as a client may see them: 2000-2999 are client-side codes (CR_CONNECTION_ERROR, …) that a
 * server never sends; libmariadb reports such an ERR packet as 2027 "malformed packet". A tablet's
 * lost connection or failed connect reaches the client as 1105 with the original code in the text.
 */
function clientError(e: TesseraError): TesseraError {
  if (e.errno < 2000 || e.errno > 2999) return e;
  return new TesseraError(ER.UNKNOWN_ERROR, `${e.message} (error ${e.errno} behind the gate)`, { cause: e, ...(e.kind ? { kind: e.kind } : {}) });
}

export class Executor implements ServerHandler {
  private readonly sessions = new Map<Session, GateSession>();
  /** COM_QUERY texts already normalized, by their exact text (see TextEntry). */
  private readonly texts = new Map<string, TextEntry>();

  /** What EXPLAIN and VEXPLAIN (explain.ts) use of the executor. */
  private readonly explainContext: ExplainContext;
  /** What SET (set-statement.ts) uses of the executor. */
  private readonly setContext: SetContext;

  constructor(private readonly gate: Gate) {
    this.explainContext = {
      preprocess: (gs, stmt, sql) => this.preprocess(gs, stmt, sql),
      plan: (gs, stmt) => this.plan(gs, stmt),
      executePlanned: (gs, stmt, sql, log) => this.executePlanned(gs, stmt, sql, log),
      columns: gate.columns,
    };
    this.setContext = {
      setCharsets: (gs, session, next) => this.setCharsets(gs, session, next),
      singleShard: (gs) => this.singleShard(gs),
      executePlanned: (gs, stmt, sql, log) => this.executePlanned(gs, stmt, sql, log),
    };
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  getUser(user: string): UserCredentials | null {
    return this.gate.auth.credentials(user);
  }

  async connected(session: Session): Promise<void> {
    // The handshake's database was already applied through initDb (which made the session).
    this.gs(session);
    session.statusFlags = STATUS_AUTOCOMMIT;
  }

  closed(session: Session): void {
    const gs = this.sessions.get(session);
    this.sessions.delete(session);
    if (gs) void gs.close();
  }

  /** The handshake's character set, as MariaDB takes it (see gate/charsets.ts). */
  private initCharsets(gs: GateSession, session: Session): void {
    gs.charsets = handshakeCharsets(session.charset);
    session.setClientCharset?.(gs.charsets.client);
    gs.charsetSetting = tabletSetting(gs.charsets);
    if (gs.charsetSetting !== null) gs.settings = [gs.charsetSetting];
  }

  /**
   * Takes new connection character sets: the client's statements are read in the new
   * character_set_client from its next command on, and the tablets' connections get the rest.
   */
  private async setCharsets(gs: GateSession, session: Session, next: ConnectionCharsets): Promise<void> {
    session.setClientCharset?.(next.client);
    gs.charsets = next;
    const statement = tabletSetting(next);
    const old = gs.charsetSetting;
    if (statement === old) return;
    gs.charsetSetting = statement;
    const others = gs.settings.filter((s) => s !== old);
    if (statement !== null) {
      gs.settings = others;
      await addSetting(gs, statement);
      return;
    }
    gs.settings = others;
    await applyOnHeld(gs, RESET_CHARSETS);
  }

  private gs(session: Session): GateSession {
    let gs = this.sessions.get(session);
    if (!gs) {
      gs = new GateSession(session.id, session.user, this.gate);
      gs.allowedKeyspaces = this.gate.auth.keyspaces(session.user);
      gs.clientFoundRows = (session.capabilities & CAP.FOUND_ROWS) !== 0;
      this.initCharsets(gs, session);
      this.sessions.set(session, gs);
    }
    return gs;
  }

  async initDb(session: Session, database: string): Promise<void> {
    const gs = this.gs(session);
    await this.guarded(gs, `USE ${database}`, async () => this.use(gs, session, database));
  }

  /** Runs a command's work; what it throws reaches the client as `failure` makes it. */
  private async guarded<T>(gs: GateSession | null, sql: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      throw this.failure(err, gs, sql);
    }
  }

  async ping(): Promise<void> {}

  async resetConnection(session: Session): Promise<void> {
    const gs = this.gs(session);
    await gs.close();
    const fresh = new GateSession(session.id, session.user, this.gate);
    fresh.allowedKeyspaces = gs.allowedKeyspaces;
    fresh.clientFoundRows = gs.clientFoundRows;
    fresh.keyspace = gs.keyspace;
    this.initCharsets(fresh, session);
    if (gs.systemDb !== null) {
      // The database stays across COM_RESET_CONNECTION, as in MariaDB.
      await switchTabletDatabase(fresh, gs.systemDb);
      fresh.systemDb = gs.systemDb;
    }
    this.sessions.set(session, fresh);
    session.statusFlags = STATUS_AUTOCOMMIT;
  }

  async setOption(session: Session, multiStatements: boolean): Promise<void> {
    session.multiStatements = multiStatements;
  }

  async statistics(): Promise<string> {
    return `Uptime: ${Math.floor(process.uptime())}  Threads: ${this.sessions.size}  Questions: ${this.gate.metrics.queryCount}`;
  }

  /** USE ks, ks:shard, ks/shard, ks@type, @type. */
  private async use(gs: GateSession, session: Session, target: string): Promise<void> {
    const stmt = parse(`USE ${'`' + target.replaceAll('`', '``') + '`'}`);
    if (stmt.kind !== 'Use') throw new Error('USE did not parse as USE');
    await this.applyUse(gs, session, stmt.keyspace, stmt.shard, stmt.tabletType, target);
  }

  private async applyUse(gs: GateSession, session: Session, keyspace0: string | null, shard0: string | null, type0: string | null, raw: string | null): Promise<void> {
    const sys = shard0 === null && type0 === null ? systemDatabase(keyspace0) : null;
    if (sys !== null) {
      // USE mysql (information_schema, …): gate/system-db.ts.
      const vschema = this.gate.resolver.vschema;
      const host = systemDatabaseHost(gs, sys, this.gate.resolver.keyspaceNames(), (ks) => vschema.keyspaces[ks]?.sharded !== false);
      gs.checkKeyspaceAllowed(host);
      await switchTabletDatabase(gs, sys);
      gs.keyspace = host;
      gs.systemDb = sys;
      session.database = sys;
      return;
    }
    let keyspace = keyspace0;
    let shard = shard0;
    let type = type0;
    if (raw !== null && shard === null && type === null && keyspace !== null) {
      // A database name given at connect time may carry the target: `customer:-80@replica`.
      const m = /^([^:/@]*)(?:[:/]([^@]*))?(?:@(\w+))?$/.exec(keyspace);
      if (m) {
        keyspace = m[1] || null;
        shard = m[2] ?? null;
        type = m[3] ?? null;
      }
    }
    let tabletType: TabletType = 'primary';
    if (type) {
      tabletType = parseTabletType(type);
      if (tabletType !== 'primary' && tabletType !== 'replica' && tabletType !== 'rdonly') throw new TesseraError(ER.WRONG_ARGUMENTS, `USE @${type}: queries go to primary, replica or rdonly tablets`);
    }
    if (keyspace !== null && keyspace !== '') {
      if (!this.gate.resolver.keyspaceNames().includes(keyspace)) throw new TesseraError(ER.BAD_DB, `Unknown database '${keyspace}'`);
      gs.checkKeyspaceAllowed(keyspace);
    } else if (shard !== null) throw new TesseraError(ER.NO_DB, 'USE :shard needs a keyspace');
    if (gs.systemDb !== null && (keyspace !== null || type === null)) {
      await switchTabletDatabase(gs, null);
      gs.systemDb = null;
    }
    if (keyspace !== null && keyspace !== '') gs.keyspace = keyspace;
    else if (type === null) gs.keyspace = null;
    gs.shard = shard;
    gs.tabletType = tabletType;
    session.database = gs.systemDb ?? gs.keyspace;
  }

  // ---- COM_QUERY ----

  async query(session: Session, sql: string, out: ResultWriter): Promise<void> {
    const gs = this.gs(session);
    try {
      const parts = session.multiStatements ? splitStatements(sql) : [sql];
      if (parts.length === 0) {
        await this.unparsed(gs, session, sql, syntaxError(sql, 0), out, false);
        return;
      }
      for (let i = 0; i < parts.length; i++) {
        const more = i < parts.length - 1;
        const text = parts[i];
        // In a system database (USE mysql) no cached plan applies: statements go to its MariaDB.
        let entry = gs.systemDb === null ? this.texts.get(text) : undefined;
        if (entry === undefined) {
          let stmt: Statement;
          try {
            stmt = parse(text);
          } catch (err) {
            await this.unparsed(gs, session, text, err, out, more);
            continue;
          }
          const made = gs.systemDb === null ? textEntry(stmt, text) : null;
          if (made === null) {
            await this.run(gs, session, stmt, text, out, more);
            continue;
          }
          if (this.texts.size >= TEXT_CACHE_ENTRIES) this.texts.clear();
          this.texts.set(text, made);
          entry = made;
        }
        const e = entry;
        await this.runWith(gs, session, e.kind, text, e.warnings, () => this.executeText(gs, e, text), out, more);
      }
    } catch (err) {
      const failed = this.failure(err, gs, sql);
      gs.warnings = [{ level: 'Error', code: failed.errno, message: failed.message }];
      gs.warningCount = 1;
      throw failed;
    }
  }

  // ---- statements for the session's one shard (src/gate/pass-through.ts) ----

  /**
   * A statement the parser refused: passed through verbatim when the session's target is one
   * shard and it is not one the gate must handle itself; otherwise its syntax error stands.
   */
  private async unparsed(gs: GateSession, session: Session, sql: string, err: unknown, out: ResultWriter, more: boolean): Promise<void> {
    if (!(err instanceof TesseraError) || err.errno !== ER.PARSE_ERROR.errno) throw err;
    if (isEmptyStatement(sql)) {
      // As MariaDB: nothing at all is an error, only comments are an empty statement that succeeds.
      if (!/\/\*|#|--/.test(sql)) throw emptyQuery();
      await this.runWith(gs, session, 'Empty', sql, 'keeps', async () => okResult(), out, more);
      return;
    }
    const rs = this.singleShard(gs);
    if (rs === null) throw err;
    const v = classifyUnparsed(sql);
    if (v.kind === 'syntax') throw err;
    if (v.kind === 'refuse') throw v.error;
    const vars = userVariablesIn(sql);
    await this.runWith(gs, session, 'PassThrough', sql, 'clears', () => this.onSessionShard(gs, rs, sql, { pins: v.pins, vars, lastInsertId: false }), out, more);
  }

  /**
   * The session's shard when a query or DML may go there exactly as the client wrote it — MariaDB
   * then answers it as it would directly (column names, errors, warnings): the session's keyspace
   * is unsharded, the statement names its tables unqualified (`plain`), no routing rule sends one
   * of them elsewhere (MoveTables), and none takes its ids from a gate sequence. Not for the OLAP
   * workload, whose reads stream. Else null: the statement is planned.
   */
  private asWrittenShard(gs: GateSession, plain: readonly TableName[] | null): ResolvedShard | null {
    if (plain === null || gs.keyspace === null || gs.shard !== null || gs.systemDb !== null || gs.workload === 'OLAP') return null;
    const vschema = this.gate.resolver.vschema;
    const ks = gs.keyspace;
    if (vschema.keyspaces[ks]?.sharded !== false) return null;
    const type = gs.tabletType === 'replica' || gs.tabletType === 'rdonly' ? gs.tabletType : 'primary';
    for (const t of plain) {
      if (t.schema !== null) continue;
      const r = vschema.findTable(ks, t.name, type);
      if (!r || r.keyspace !== ks || r.table !== t.name || r.vschema?.autoIncrement || r.vschema?.type === 'sequence') return null;
    }
    return this.singleShard(gs);
  }

  /**
   * GRANT, CREATE USER, CHANGE MASTER, HANDLER, … (src/sql/opaque.ts): the parser knows only their
   * leading words, so they go as written to the session's one shard, as an unparsed statement would.
   */
  private serverStatement(gs: GateSession, sql: string, verb: string): Promise<Result> {
    const rs = this.singleShard(gs);
    if (rs === null) throw notSupported(`${verb} without a single target: the gate sends it as written to an unsharded keyspace or a targeted shard (USE ks:shard)`);
    const v = classifyUnparsed(sql);
    if (v.kind === 'refuse') throw v.error;
    if (v.kind === 'syntax') throw syntaxError(sql, 0);
    return this.onSessionShard(gs, rs, sql, { pins: v.pins, vars: userVariablesIn(sql), lastInsertId: false });
  }

  /** The one shard the session's statements go to: a targeted shard, or an unsharded keyspace's. */
  private singleShard(gs: GateSession): ResolvedShard | null {
    const ks = gs.keyspace;
    if (ks === null) return null;
    const cursor = gs.cursor();
    if (gs.shard !== null) return cursor.targetedShard(ks, gs.shard);
    if (this.gate.resolver.vschema.keyspaces[ks]?.sharded !== false) return null;
    gs.checkKeyspaceAllowed(ks);
    const shards = this.gate.resolver.allShards(ks, cursor.tabletType);
    return shards.length === 1 ? shards[0] : null;
  }

  /**
   * Runs a statement on the session's shard as it stands. When it keeps state on the MariaDB
   * connection (`pins`) or uses user variables, the session is pinned to its reserved connection;
   * the gate's values of the variables it names are set there first and read back after, since
   * the statement may assign them (and LAST_INSERT_ID() when it may set that).
   */
  private async onSessionShard(gs: GateSession, rs: ResolvedShard, sql: string, o: { pins: boolean; vars: readonly string[]; lastInsertId: boolean }, run?: () => Promise<Result>): Promise<Result> {
    const write = gs.inTransaction || gs.tabletType === 'primary';
    if (o.pins || o.vars.length > 0 || o.lastInsertId) gs.pinned = true;
    if (o.vars.length > 0) await gs.executeOnShard(rs, setUserVarsStatement(o.vars, gs.userVars), write, undefined);
    let r: Result;
    if (run) r = await run();
    else {
      // As the statement's cursor would run one query (SessionCursor.executeMulti), without it.
      r = await gs.executeSingle(rs, sql, write, undefined, null);
      if (r.fields.length === 0) {
        gs.rowCount = BigInt(r.rowsAffected);
        if (r.insertId !== 0n) gs.lastInsertId = r.insertId;
      } else gs.rowCount = -1n;
    }
    if (o.vars.length > 0 || o.lastInsertId) {
      const back = toResult(await gs.executeOnShard(rs, readUserVarsStatement(o.vars, o.lastInsertId), write, undefined));
      const row = rowsOf(back)[0] ?? [];
      o.vars.forEach((name, i) => gs.userVars.set(name, literalOf(row[i] ?? null, back.fields[i])));
      if (o.lastInsertId) {
        const id = row[o.vars.length];
        if (id) gs.lastInsertId = BigInt(id.toString('latin1'));
      }
    }
    return r;
  }

  /**
   * Any failure as the error its client gets. Errors with an errno (MariaDB's, a tablet's, the
   * gate's own) pass; anything else is a bug in the gate: logged with the statement and the stack,
   * counted on /metrics, and reported to the client as an internal error with an incident number,
   * never with the exception's text.
   */
  private failure(err: unknown, gs: GateSession | null, sql: string): TesseraError {
    if (isCodedError(err)) return clientError(TesseraError.from(err));
    const incident = this.gate.metrics.internalError();
    const e = err instanceof Error ? err : new Error(String(err));
    log.error(
      { incident, session: gs?.id, user: gs?.user, keyspace: gs?.keyspace ?? null, statement: sql.length > 4096 ? sql.slice(0, 4096) + '…' : sql, error: e.message, stack: e.stack },
      'internal error in the gate',
    );
    return internalError(incident);
  }

  private run(gs: GateSession, session: Session, stmt: Statement, sql: string, out: ResultWriter, more: boolean): Promise<void> {
    return this.runWith(gs, session, stmt.kind, sql, warningsEffect(stmt), () => this.dispatch(gs, session, stmt, sql), out, more);
  }

  private async runWith(gs: GateSession, session: Session, kind: string, sql: string, warnings: WarningsEffect, exec: () => Promise<Result>, out: ResultWriter, more: boolean): Promise<void> {
    const started = performance.now();
    const m = this.gate.metrics;
    let failed: TesseraError | null = null;
    try {
      gs.statementStarting();
      gs.statement = sql;
      gs.since = Date.now();
      let running: Promise<Result>;
      if (gs.nextTransaction !== null && !gs.inTransaction && STATEMENT_TRANSACTION_KINDS.has(kind)) {
        // After an unscoped SET TRANSACTION the statement's transaction takes its characteristics:
        // a transaction of its own under autocommit, else the one it starts and leaves open.
        if (gs.autocommit) running = gs.inOwnTransaction(exec);
        else {
          gs.begin();
          running = exec();
        }
      } else running = exec();
      gs.running = running;
      const r = await running;
      const count = warnings === 'diagnostic' ? 0 : gs.settleWarnings(warnings === 'clears');
      session.statusFlags = (gs.autocommit ? STATUS_AUTOCOMMIT : 0) | (gs.inTransaction ? STATUS_IN_TRANS : 0);
      const writing = writeResult(out, r.warnings === count ? r : { ...r, warnings: count }, more, session.statusFlags, reportedCollation(gs.charsets));
      if (writing !== undefined) await writing;
    } catch (err) {
      failed = this.failure(err, gs, sql);
      if (failed.errno === ER.LOCK_DEADLOCK.errno && gs.inTransaction) {
        // MariaDB ended a deadlock by rolling back this session's transaction on one shard. On a
        // single server that is the whole transaction, and its client goes on from there (a
        // retry's BEGIN, a COMMIT that commits nothing). So the transaction's part on every other
        // shard is rolled back too and the session leaves it: left open, the next BEGIN or
        // COMMIT would commit half a transaction.
        await gs.rollback();
      }
      gs.warnings = [{ level: 'Error', code: failed.errno, message: failed.message }];
      gs.warningCount = 1;
      session.statusFlags = (gs.autocommit ? STATUS_AUTOCOMMIT : 0) | (gs.inTransaction ? STATUS_IN_TRANS : 0);
      throw failed;
    } finally {
      gs.running = null;
      gs.statement = null;
      gs.since = Date.now();
      m.observe(kind, gs.keyspace ?? '', (performance.now() - started) / 1e3, failed);
    }
  }

  /** Runs one parsed statement and returns its result (no writing). */
  async dispatch(gs: GateSession, session: Session, stmt: Statement, sql: string): Promise<Result> {
    switch (stmt.kind) {
      case 'Use':
        await this.applyUse(gs, session, stmt.keyspace, stmt.shard, stmt.tabletType, null);
        return okResult();
      case 'Begin':
        if (gs.inTransaction) await gs.commit();
        gs.begin(stmt.characteristics);
        return okResult();
      case 'Commit':
        if (stmt.release) throw notSupported('COMMIT … RELEASE (the gate keeps the client connection); COMMIT, then close the connection');
        await gs.commit();
        // AND CHAIN: a new transaction starts at once, with the same isolation level and access mode.
        if (stmt.chain) gs.begin([], true);
        return okResult();
      case 'Rollback':
        if (stmt.savepoint !== null) {
          if (!gs.inTransaction) throw new TesseraError({ errno: 1305, sqlState: '42000' }, `SAVEPOINT ${stmt.savepoint} does not exist`);
          await gs.savepoint(format(stmt), false);
          return okResult();
        }
        if (stmt.release) throw notSupported('ROLLBACK … RELEASE (the gate keeps the client connection); ROLLBACK, then close the connection');
        await gs.rollback();
        if (stmt.chain) gs.begin([], true);
        return okResult();
      case 'Savepoint':
        if (!gs.inTransaction) {
          if (gs.autocommit) return okResult(); // MariaDB ignores a savepoint outside a transaction
          gs.begin();
        }
        await gs.savepoint(format(stmt), true);
        return okResult();
      case 'ReleaseSavepoint':
        if (!gs.inTransaction) throw new TesseraError({ errno: 1305, sqlState: '42000' }, `SAVEPOINT ${stmt.name} does not exist`);
        await gs.savepoint(format(stmt), false);
        return okResult();
      case 'Set':
        return runSet(this.setContext, gs, session, stmt);
      case 'SetTransaction':
        if (stmt.scope === 'GLOBAL') throw notSupported('SET GLOBAL TRANSACTION');
        if (stmt.scope === 'SESSION') await addSetting(gs, format(stmt));
        else {
          // Without a scope it applies to the next transaction only: each of its shards begins with it.
          if (gs.inTransaction) throw new TesseraError({ errno: 1568, sqlState: '25001' }, "Transaction characteristics can't be changed while a transaction is in progress; COMMIT or ROLLBACK first");
          const next = gs.nextTransaction;
          gs.nextTransaction = { isolation: stmt.isolation ?? next?.isolation ?? null, access: stmt.access ?? next?.access ?? null };
        }
        return okResult();
      case 'Show':
        if (stmt.type === 'PROCESSLIST') return this.processList(gs, stmt.full);
        return executeShow(gs, stmt);
      case 'DescribeTable':
        return executeShow(gs, { kind: 'Show', type: 'COLUMNS', full: false, scope: null, table: stmt.table, db: null, name: null, filter: stmt.column ? { kind: 'Like', pattern: stmt.column } : null, start: stmt.start, end: stmt.end });
      case 'VExplain':
        return vexplain(this.explainContext, gs, stmt.type, stmt.statement, sql);
      case 'Explain':
        if (stmt.format !== null && stmt.format.toLowerCase() === 'vitess') return vexplain(this.explainContext, gs, 'PLAN', stmt.statement, sql);
        {
          // EXPLAIN [EXTENDED | FORMAT=JSON] of a statement that would go as written: MariaDB's own answer.
          // The user variables it names are carried there (EXPLAIN evaluates no assignment).
          const plain = isQuery(stmt.statement) || ['Insert', 'Update', 'Delete'].includes(stmt.statement.kind) ? plainTables(stmt.statement) : null;
          const rs = this.asWrittenShard(gs, plain);
          if (rs !== null) return this.onSessionShard(gs, rs, sql, { pins: false, vars: userVariablesIn(sql), lastInsertId: false });
        }
        return explainOnShard(this.explainContext, gs, stmt.statement, sql);
      case 'CreateDatabase':
      case 'DropDatabase':
        throw notSupported(`${stmt.kind === 'CreateDatabase' ? 'CREATE' : 'DROP'} DATABASE through the gate; create keyspaces with tessera ctl CreateKeyspace`);
      case 'Kill':
        return this.kill(gs, session, stmt.type, stmt.id);
      case 'LockTables':
      case 'UnlockTables':
        return this.lockTables(gs, stmt);
      case 'Prepare':
      case 'Execute':
      case 'Deallocate':
        return this.sqlPrepared(gs, stmt, sql);
      case 'Flush': {
        // FLUSH on the session's one shard, as written; a read lock (WITH READ LOCK, FOR EXPORT)
        // belongs to the connection, which the session then keeps.
        const rs = this.singleShard(gs);
        if (rs === null) throw notSupported('FLUSH outside an unsharded keyspace or a targeted shard (USE ks:shard)');
        return this.onSessionShard(gs, rs, sql, { pins: /\b(LOCK|EXPORT)\b/i.test(sql), vars: [], lastInsertId: false });
      }
      case 'AlterVschema':
        throw notSupported(format(stmt).split(' ').slice(0, 2).join(' '));
      case 'SetStatementFor': {
        // The inner statement as if alone, each of its shard queries under the assignments.
        if (gs.statementPrefix !== null) throw new TesseraError(ER.PARSE_ERROR, 'SET STATEMENT cannot be nested');
        gs.statementPrefix = `SET STATEMENT ${stmt.assignments} FOR `;
        try {
          return await this.dispatch(gs, session, stmt.statement, stmt.statementText);
        } finally {
          gs.statementPrefix = null;
        }
      }
      case 'ExecuteImmediate': {
        // The statement it runs is known only on the shard: the session's one shard, as written,
        // with the user variables it names carried there and back.
        const rs = this.singleShard(gs);
        if (rs === null) throw notSupported('EXECUTE IMMEDIATE on a sharded keyspace (the statement is known only when it runs); target one shard (USE ks:shard)');
        return this.onSessionShard(gs, rs, stmt.sql, { pins: true, vars: userVariablesIn(stmt.sql), lastInsertId: false });
      }
      case 'ServerStatement':
        return this.serverStatement(gs, (gs.statementPrefix ?? '') + stmt.text, stmt.verb);
      case 'Compound': {
        // BEGIN NOT ATOMIC … END: on the session's one shard, with the user variables it names
        // carried there and back, as a statement the parser does not know would be.
        const rs = this.singleShard(gs);
        if (rs === null) throw notSupported('BEGIN NOT ATOMIC … END on a sharded keyspace; target one shard (USE ks:shard)');
        return this.onSessionShard(gs, rs, stmt.text, { pins: false, vars: userVariablesIn(stmt.text), lastInsertId: false });
      }
      case 'Insert':
      case 'Delete':
        // … RETURNING answers with rows: on the session's one shard as written (refused across shards).
        if (stmt.returning) {
          const rs = this.singleShard(gs);
          if (rs !== null) return this.onSessionShard(gs, rs, (gs.statementPrefix ?? '') + sql, { pins: false, vars: userVariablesIn(sql), lastInsertId: stmt.kind === 'Insert' });
        }
        return this.plannedOrAsWritten(gs, stmt, sql);
      default:
        if (isQuery(stmt) && hasTableValues(stmt, sql)) {
          // VALUES (…), (…) as a query: MariaDB's to evaluate, on the session's one shard as written.
          const rs = this.singleShard(gs);
          if (rs === null) throw notSupported('a VALUES table constructor on a sharded keyspace; target one shard (USE ks:shard)');
          return this.onSessionShard(gs, rs, (gs.statementPrefix ?? '') + sql, { pins: false, vars: userVariablesIn(sql), lastInsertId: false });
        }
        return this.plannedOrAsWritten(gs, stmt, sql);
    }
  }

  /**
   * A query or DML: in a system database (USE mysql) or on an unsharded keyspace naming its tables
   * plainly, to MariaDB as written; else planned.
   */
  private async plannedOrAsWritten(gs: GateSession, stmt: Statement, sql: string): Promise<Result> {
    if (gs.systemDb !== null && isPlannable(stmt)) {
      // USE mysql: the statement is the system database's, on its MariaDB, as written.
      const rs = this.singleShard(gs);
      if (rs === null) throw new TesseraError(ER.NO_DB, `USE ${gs.systemDb}: the keyspace that answered for it is gone; USE a keyspace`);
      return this.onSessionShard(gs, rs, sql, { pins: false, vars: userVariablesIn(sql), lastInsertId: false });
    }
    if (isPlannable(stmt)) {
      if (AS_WRITTEN_DDL.has(stmt.kind) && this.asWrittenShard(gs, plainTables(stmt)) !== null) {
        // DDL on an unsharded keyspace, as written (MariaDB names CREATE … SELECT's and a
        // view's columns from the text): committing first, as any DDL through the gate.
        const ks = gs.keyspace as string;
        const r = await new Send(ks, sql, null, true, true).execute(gs.cursor(), {});
        this.gate.columns.clear();
        return r;
      }
      const plain = asWrittenCandidate(stmt, sql) ? plainTables(stmt) : null;
      // As written or planned is decided again at each attempt: a retry the failover buffer lets
      // go after a MoveTables switched the table's writes finds it routed to its new keyspace.
      return runBuffered(this.gate, gs, () => {
        const rs = this.asWrittenShard(gs, plain);
        return rs !== null ? this.onSessionShard(gs, rs, sql, NO_SESSION_STATE) : this.executePlanned(gs, stmt, sql, null, true);
      });
    }
    throw notSupported(stmt.kind);
  }

  /**
   * KILL [CONNECTION | QUERY] id, where id is a gate connection id (the handshake's thread id, what
   * CONNECTION_ID() returns; the mariadb CLI's Ctrl-C sends KILL QUERY with it). A user may kill
   * their own connections' statements and connections.
   */
  private kill(gs: GateSession, session: Session, type: 'CONNECTION' | 'QUERY' | null, idExpr: Expr): Result {
    const id = idExpr.kind === 'Number' && /^\d+$/.test(idExpr.text) ? Number(idExpr.text) : NaN;
    if (!Number.isSafeInteger(id)) throw new TesseraError(ER.NO_SUCH_THREAD, 'Unknown thread id: KILL takes a connection id as a number (what CONNECTION_ID() returns)');
    let found: [Session, GateSession] | null = null;
    for (const entry of this.sessions) if (entry[0].id === id) found = entry;
    if (!found) throw new TesseraError(ER.NO_SUCH_THREAD, `Unknown thread id: ${id}`);
    const [victim, victimGs] = found;
    if (victimGs.user !== gs.user) throw new TesseraError(ER.KILL_DENIED, `You are not owner of thread ${id}`);
    if (type === 'QUERY') {
      victimGs.killQuery(`KILL QUERY from connection ${session.id}`);
    } else {
      victimGs.killQuery(`KILL CONNECTION from connection ${session.id}`);
      victim.close(`KILL CONNECTION from connection ${session.id}`);
    }
    return okResult();
  }

  /**
   * SHOW [FULL] PROCESSLIST: the gate's sessions (not the tablets' connections), in MariaDB's
   * columns. A user sees their own sessions, as in MariaDB without the PROCESS privilege. State
   * says what a session holds on the shards: its transaction's shards and reserved connections.
   */
  private processList(gs: GateSession, full: boolean): Result {
    const now = Date.now();
    const text = (v: string | null): Buffer | null => (v === null ? null : Buffer.from(v, 'utf8'));
    const rows: (Buffer | null)[][] = [];
    const sessions = [...this.sessions.entries()].filter(([, x]) => x.user === gs.user && !x.closed).sort((a, b) => a[0].id - b[0].id);
    for (const [session, x] of sessions) {
      const running = x.statement !== null;
      const holds = x.holdings();
      const info = x.statement === null ? null : full || x.statement.length <= PROCESSLIST_INFO_CHARS ? x.statement : x.statement.slice(0, PROCESSLIST_INFO_CHARS);
      rows.push([
        text(String(session.id)),
        text(x.user),
        text(session.remoteAddress),
        text(x.keyspace),
        text(running ? 'Query' : 'Sleep'),
        text(String(Math.max(0, Math.floor((now - x.since) / 1000)))),
        text(running ? (holds ? `executing; ${holds}` : 'executing') : holds),
        text(info),
        text('0.000'),
      ]);
    }
    const str = (name: string, chars: number): ColumnDefinition => columnDefinition({ name, type: TYPE.VAR_STRING, columnLength: chars * 4, flags: name === 'Info' || name === 'db' || name === 'State' ? 0 : 0x01 });
    const fields: ColumnDefinition[] = [
      columnDefinition({ name: 'Id', type: TYPE.LONGLONG, charset: 63, columnLength: 21, flags: 0x01 | 0x20 | 0x80 }),
      str('User', 128),
      str('Host', 64),
      str('db', 64),
      str('Command', 16),
      columnDefinition({ name: 'Time', type: TYPE.LONG, charset: 63, columnLength: 7, flags: 0x01 | 0x80 }),
      str('State', 64),
      str('Info', full ? 65535 : PROCESSLIST_INFO_CHARS),
      columnDefinition({ name: 'Progress', type: TYPE.NEWDECIMAL, charset: 63, columnLength: 7, decimals: 3, flags: 0x01 | 0x80 }),
    ];
    return { fields, rows, raw: null, rowsAffected: 0, insertId: 0n, warnings: 0, info: '' };
  }

  // ---- planned statements ----

  /** Runs a text from the text cache: as executePlanned would run it, from the plan cache on. */
  private executeText(gs: GateSession, e: TextEntry, text: string): Promise<Result> {
    return runBuffered(this.gate, gs, () => {
      // Decided at each attempt, as in the full path: a retry after a MoveTables switch goes to
      // the table's new keyspace, not again to the shard that denied it.
      const rs = this.asWrittenShard(gs, e.plain);
      if (rs !== null) return this.onSessionShard(gs, rs, text, NO_SESSION_STATE);
      let plan: Plan;
      try {
        plan = this.cachedPlan(gs, e.key, e.statement);
      } catch (err) {
        // SELECT * the gate must join itself: the full path expands the stars.
        if (err instanceof TesseraError && err.errno === ER.NOT_SUPPORTED_YET.errno && /SELECT \*/.test(err.message)) return this.executePlanned(gs, parse(text), text, null, true);
        throw err;
      }
      const insert = e.kind === 'Insert';
      return this.singleRoute(gs, plan, e.bindVars, insert) ?? this.executePlan(gs, plan, e.bindVars, insert, null, true);
    });
  }

  /**
   * Plans (through the cache) and runs a statement; `log` collects what shards were sent. With
   * `stream`, an OLAP session's read comes back as a streamed result (see executePlan).
   */
  async executePlanned(gs: GateSession, stmt0: Statement, sql: string, log: LoggedQuery[] | null, stream = false): Promise<Result> {
    let uses = mayUseSessionVars(sql) ? sessionVarUse(stmt0) : null;
    if (stmt0.kind === 'Call' && gs.userVars.size > 0) {
      // A procedure's body may read and set any of the session's user variables, not only those
      // its arguments name: all the gate holds go to the shard's connection and come back.
      uses = { vars: [...new Set([...(uses?.vars ?? []), ...gs.userVars.keys()])], lastInsertId: uses?.lastInsertId ?? false };
    }
    if (uses !== null) return this.executeWithSessionVars(gs, stmt0, sql, uses, log);
    const stmt = this.preprocess(gs, stmt0, sql);
    const local = answerLocally(stmt);
    if (local) return local;
    let planned: { plan: Plan; bindVars: Readonly<Record<string, BindValue>> };
    try {
      planned = this.plan(gs, stmt);
    } catch (err) {
      // SELECT * the gate must join itself: expand the stars from the tables' columns and plan again.
      if (!(err instanceof TesseraError && err.errno === ER.NOT_SUPPORTED_YET.errno && /SELECT \*/.test(err.message) && isQuery(stmt))) throw err;
      const expanded = await expandStars(stmt, gs, this.gate.columns);
      if (!expanded) throw err;
      planned = this.plan(gs, expanded);
    }
    if (planned.plan.write && !isQuery(stmt) && stmt.kind !== 'Insert' && stmt.kind !== 'Update' && stmt.kind !== 'Delete') this.gate.columns.clear();
    const insert = stmt.kind === 'Insert';
    return (log === null ? this.singleRoute(gs, planned.plan, planned.bindVars, insert) : null) ?? this.executePlan(gs, planned.plan, planned.bindVars, insert, log, stream);
  }

  /**
   * A statement that assigns user variables (`@a := …`, `SELECT … INTO @a`, `CALL p(@out)`) or
   * sets LAST_INSERT_ID(expr): MariaDB evaluates them, on the session's reserved connection of its
   * one shard, with the gate's values carried there and back (onSessionShard). Refused where
   * the statement would reach several shards: each would assign its own values.
   */
  private executeWithSessionVars(gs: GateSession, stmt0: Statement, sql: string, uses: SessionVarUse, log: LoggedQuery[] | null): Promise<Result> {
    const rs = this.singleShard(gs);
    const what = uses.lastInsertId ? 'LAST_INSERT_ID(expr)' : 'assigning user variables inside a query';
    if (rs === null) throw notSupported(`${what} outside an unsharded keyspace or a targeted shard (USE ks:shard)`);
    return this.onSessionShard(gs, rs, sql, { pins: true, vars: uses.vars, lastInsertId: uses.lastInsertId }, async () => {
      const stmt = this.preprocess(gs, stmt0, sql, true);
      const { plan, bindVars } = this.plan(gs, stmt);
      for (const p of walkPrimitives(plan.primitive)) {
        const ks = p instanceof Route ? p.spec.keyspace : p instanceof Send ? p.keyspace : null;
        if (ks !== null && ks !== rs.keyspace) throw notSupported(`${what} in a statement that also reaches keyspace ${ks}`);
      }
      return this.executePlan(gs, plan, bindVars, stmt.kind === 'Insert', log);
    });
  }

  /**
   * LOCK TABLES / UNLOCK TABLES: the locks belong to one MariaDB connection, so the session is
   * pinned to its reserved connection on its one shard; across shards the locks could not be taken
   * atomically and are refused. As in MariaDB, LOCK TABLES commits the open transaction first.
   */
  private async lockTables(gs: GateSession, stmt: Statement & { kind: 'LockTables' | 'UnlockTables' }): Promise<Result> {
    const rs = this.singleShard(gs);
    const verb = stmt.kind === 'LockTables' ? 'LOCK TABLES' : 'UNLOCK TABLES';
    if (rs === null) throw notSupported(`${verb} outside an unsharded keyspace or a targeted shard (USE ks:shard): table locks live on one MariaDB connection`);
    // A session that never pinned holds no table locks anywhere: nothing to unlock.
    if (stmt.kind === 'UnlockTables' && !gs.pinned) return okResult();
    // Tables named with the keyspace are the tablet's database's.
    const local = rewrite(stmt, { tableName: (t) => (t.schema !== null && t.schema === rs.keyspace ? { ...t, schema: null } : t) });
    if (gs.inTransaction) await gs.commit();
    return this.onSessionShard(gs, rs, '', { pins: true, vars: [], lastInsertId: false }, async () => {
      const r = await gs.executeOnShard(rs, format(local), gs.tabletType === 'primary', undefined);
      gs.noteWarnings(rs, r);
      return toResult(r);
    });
  }

  /**
   * SQL-level PREPARE, EXECUTE, DEALLOCATE PREPARE: the prepared statement lives on the session's
   * reserved connection of its one shard. The user variables a prepared text names, and those of
   * EXECUTE … USING, are carried there before each EXECUTE and read back after.
   */
  private sqlPrepared(gs: GateSession, stmt: Statement & { kind: 'Prepare' | 'Execute' | 'Deallocate' }, sql: string): Promise<Result> {
    const rs = this.singleShard(gs);
    if (rs === null) throw notSupported('SQL-level PREPARE/EXECUTE outside an unsharded keyspace or a targeted shard (USE ks:shard); prepared statements of the binary protocol work everywhere');
    const name = stmt.name.toLowerCase();
    let vars: string[];
    if (stmt.kind === 'Prepare') {
      const fromVar = stmt.from.kind === 'UserVar' ? stmt.from.name.toLowerCase() : null;
      const v = fromVar === null ? null : gs.userVars.get(fromVar);
      const text = stmt.from.kind === 'String' ? stmt.from.value : v && v.kind === 'String' ? v.value : '';
      gs.preparedVars.set(name, userVariablesIn(text));
      vars = fromVar === null ? [] : [fromVar];
    } else if (stmt.kind === 'Execute') {
      vars = [...new Set([...(gs.preparedVars.get(name) ?? []), ...userVariablesIn(sql)])];
    } else {
      gs.preparedVars.delete(name);
      vars = [];
    }
    return this.onSessionShard(gs, rs, sql, { pins: true, vars, lastInsertId: false });
  }

  /**
   * Runs a plan. A read of an OLAP session, when the caller writes it to the client (`stream`),
   * is returned unrun as a streamed result (src/gate/streaming.ts): it runs as it is written.
   */
  private async executePlan(gs: GateSession, plan: Plan, bindVars: Readonly<Record<string, BindValue>>, insert: boolean, log: LoggedQuery[] | null, stream = false): Promise<Result> {
    const cursor = gs.cursor(log);
    if (stream && cursor.workload === 'OLAP' && !plan.write && !insert) {
      gs.rowCount = -1n;
      return streamedResult(plan.primitive, cursor, bindVars);
    }
    const r = await plan.primitive.execute(cursor, bindVars);
    if (plan.write || insert) {
      gs.rowCount = BigInt(r.rowsAffected);
      if (r.insertId !== 0n) gs.lastInsertId = r.insertId;
    } else gs.rowCount = -1n;
    return r;
  }

  /**
   * The single-route path: a plan that is one Route to one shard known without a promise (an
   * unsharded keyspace's, or an equality on a unique functional vindex: Route.oneShardNow), outside
   * OLAP streaming and VEXPLAIN's query log, goes from here to the session's shard call
   * (GateSession.executeSingle) with no cursor, no executeMulti and no Route.execute layer. What it
   * does is what executePlan → Route.execute → SessionCursor.executeMulti would do for it: the
   * same shard, query text, transaction handling, warnings, row count and insert id. Null for
   * every other plan: executePlan runs it.
   */
  private singleRoute(gs: GateSession, plan: Plan, bindVars: Readonly<Record<string, BindValue>>, insert: boolean, placeholders = false): Promise<Result> | null {
    const p = plan.primitive;
    if (p.constructor !== Route) return null;
    const spec = (p as Route).spec;
    if (spec.hidden || gs.workload === 'OLAP') return null;
    const rs = (p as Route).oneShardNow(gs, bindVars);
    if (rs === null) return null;
    const counts = plan.write || insert;
    if (placeholders && gs.statementPrefix === null) {
      // A prepared client statement: its shard query goes with `?` placeholders and their values,
      // and MariaDB runs it as a prepared statement whose binary rows the client takes as they are
      // (src/tablet/placeholders.ts). Text when a value is not a placeholder literal.
      const ps = placeholdersBound(spec.query, bindVars);
      if (ps !== null) return gs.executeSingle(rs, ps.sql, spec.write ?? false, spec.tables, counts, ps.params);
    }
    return gs.executeSingle(rs, formatBound(spec.query, bindVars), spec.write ?? false, spec.tables, counts);
  }

  plan(gs: GateSession, stmt: Statement): { plan: Plan; bindVars: Readonly<Record<string, BindValue>> } {
    const n = normalize(stmt);
    return { plan: this.cachedPlan(gs, n.key, n.statement), bindVars: n.bindVars };
  }

  /** A prepared statement's plan: the one bound to it while the target and generation hold, else from the cache (and bound). */
  private boundPlan(gs: GateSession, st: PreparedState, normalizedKey: string, normalized: Statement): Plan {
    const generation = this.gate.resolver.generation;
    const b = st.bound;
    if (b !== null && b.generation === generation && b.keyspace === gs.keyspace && b.shard === gs.shard && b.tabletType === gs.tabletType) {
      this.gate.planCache.hits++;
      return b.plan;
    }
    const plan = this.cachedPlan(gs, normalizedKey, normalized);
    st.bound = { plan, generation, keyspace: gs.keyspace, shard: gs.shard, tabletType: gs.tabletType };
    return plan;
  }

  private cachedPlan(gs: GateSession, normalizedKey: string, normalized: Statement): Plan {
    const resolver = this.gate.resolver;
    const key = `${resolver.generation}|${gs.targetString()}|${normalizedKey}`;
    let plan = this.gate.planCache.get(key);
    if (!plan) {
      plan = planStatement(resolver.vschema, { keyspace: gs.keyspace, shard: gs.shard, tabletType: gs.tabletType }, normalized, null);
      this.gate.planCache.set(key, plan);
    }
    return plan;
  }

  /** Replaces what the gate knows (DATABASE(), LAST_INSERT_ID(), @@version, user variables) and names select items after their text. */
  preprocess(gs: GateSession, stmt: Statement, sql: string, keepUserVars = false): Statement {
    if (!isQuery(stmt) && stmt.kind !== 'Insert' && stmt.kind !== 'Update' && stmt.kind !== 'Delete') return stmt;
    const version = this.gate.serverVersion;
    const str = (v: string | null): Literal => (v === null ? { kind: 'Null' } : { kind: 'String', value: v, charset: null, national: false });
    const num = (v: bigint | number): Literal => ({ kind: 'Number', text: String(v), numType: 'int' });
    const replaced = rewrite(stmt, {
      expr: (e: Expr): Expr | undefined => {
        if (e.kind === 'UserVar') return keepUserVars ? undefined : gs.userVars.get(e.name.toLowerCase()) ?? { kind: 'Null' };
        if (e.kind === 'Binary' && e.op === ':=' && !keepUserVars) throw notSupported('assigning user variables inside a query');
        if (e.kind === 'SysVar') {
          const name = e.name.toLowerCase();
          if (e.scope === 'GLOBAL') return undefined;
          switch (name) {
            case 'version':
              return str(version);
            case 'version_comment':
              return str('Tessera');
            case 'autocommit':
              return num(gs.autocommit ? 1 : 0);
            case 'transaction_mode':
              return str(gs.transactionMode);
            case 'last_insert_id':
            case 'identity':
              return num(gs.lastInsertId);
            case 'warning_count':
            case 'error_count': {
              const n = name === 'warning_count' ? gs.warningCount : gs.warnings.filter((w) => w.level === 'Error').length;
              const lit = num(n);
              UNSIGNED_COUNTS.add(lit);
              return lit;
            }
            case 'workload':
              return str(gs.sysVars.get('workload') ?? 'OLTP');
            case 'character_set_client':
            case 'character_set_connection':
            case 'collation_connection':
            case 'character_set_results': {
              // A string of the system character set, as MariaDB types its variables.
              const value = charsetVar(gs.charsets, name);
              return value === undefined ? undefined : value === null ? { kind: 'Null' } : { kind: 'String', value, charset: 'utf8mb3', national: false };
            }
            default:
              if (gs.sysVars.has(name)) return str(gs.sysVars.get(name)!);
              return undefined;
          }
        }
        if (e.kind === 'Func' && e.schema === null && e.over === null) {
          const n = e.name.toUpperCase();
          if ((n === 'DATABASE' || n === 'SCHEMA') && e.args.length === 0) return str(gs.systemDb ?? gs.keyspace);
          if (n === 'LAST_INSERT_ID' && e.args.length === 0) return num(gs.lastInsertId);
          if (n === 'CONNECTION_ID' && e.args.length === 0) return num(gs.id);
          if (n === 'ROW_COUNT' && e.args.length === 0) return num(gs.rowCount);
          if (n === 'VERSION' && e.args.length === 0) return str(version);
          if ((n === 'USER' || n === 'SESSION_USER' || n === 'SYSTEM_USER' || n === 'CURRENT_USER') && e.args.length === 0) return str(`${gs.user}@localhost`);
          if (n === 'FOUND_ROWS') throw notSupported('FOUND_ROWS()');
          if (n === 'LAST_INSERT_ID' && e.args.length === 1 && !keepUserVars) throw notSupported('LAST_INSERT_ID(expr)');
        }
        return undefined;
      },
    });
    if (!isQuery(replaced)) return replaced;
    return aliasTopLevel(replaced, sql);
  }

  // ---- prepared statements ----

  prepare(session: Session, sql: string): Promise<PrepareResult> {
    return this.guarded(this.gs(session), sql, () => this.prepareNow(session, sql));
  }

  private async prepareNow(session: Session, sql: string): Promise<PrepareResult> {
    const stmt = parse(sql);
    let paramCount = 0;
    walk(stmt, {
      expr: (e) => {
        if (e.kind === 'Param') paramCount = Math.max(paramCount, e.index + 1);
      },
    });
    let normalized: PreparedState['normalized'] = null;
    if ((isQuery(stmt) || stmt.kind === 'Insert' || stmt.kind === 'Update' || stmt.kind === 'Delete') && !usesSession(stmt)) {
      const withVars = rewrite(stmt, { expr: (e) => (e.kind === 'Param' ? { kind: 'BindVar', name: PARAM_PREFIX + (e.index + 1), list: false } : undefined) });
      const n = normalize(isQuery(withVars) ? aliasTopLevel(withVars, sql) : withVars);
      normalized = { key: n.key, statement: n.statement, bindVars: n.bindVars };
    }
    const state: PreparedState = { stmt, sql, paramCount, normalized, warnings: warningsEffect(stmt), bound: null };
    // Clients such as libmysqlclient need the result's columns now: run the query once with its
    // parameters NULL and a false WHERE (a field query), and keep only the column definitions.
    let columns: ColumnDefinition[] = [];
    if (isQuery(stmt)) {
      const gs = this.gs(session);
      const probe = fieldQuery(rewrite(stmt, { expr: (e) => (e.kind === 'Param' ? { kind: 'Null' } : undefined) }));
      // A statement that cannot run fails here, as on MariaDB; wrong column metadata would leave
      // the client out of step with the result sets its executions get.
      try {
        const r = await this.executePlanned(gs, probe, sql, null);
        columns = [...r.fields];
      } catch (err) {
        throw this.failure(err, gs, sql);
      }
    }
    return { paramCount, state, columns };
  }

  execute(session: Session, stmt: ServerStatement, params: TypedValue[], out: ResultWriter): Promise<void> {
    // As guarded(), without a closure or an async layer per execution: every path ends in runWith,
    // whose failures are already as the client sees them (failure()); what throws before it is
    // mapped here.
    const st = stmt.state as PreparedState;
    const gs = this.gs(session);
    try {
      return this.executeNow(session, gs, st, params, out);
    } catch (err) {
      return Promise.reject(this.failure(err, gs, st.sql));
    }
  }

  /** Not async: its promise is execute's to await (one async layer less per execution). */
  private executeNow(session: Session, gs: GateSession, st: PreparedState, params: TypedValue[], out: ResultWriter): Promise<void> {
    const fast = st.normalized;
    if (fast) {
      const bindVars: Record<string, BindValue> = { ...fast.bindVars };
      for (let i = 0; i < st.paramCount; i++) {
        const p = params[i];
        if (!p) throw new TesseraError(ER.WRONG_ARGUMENTS, `Incorrect arguments to mysqld_stmt_execute: parameter ${i + 1} missing`);
        bindVars[PARAM_NAMES[i] ?? PARAM_PREFIX + (i + 1)] = sqlValueToLiteral(p.value);
      }
      const insert = st.stmt.kind === 'Insert';
      const attempt = (): Promise<Result> => {
        let plan: Plan;
        try {
          plan = this.boundPlan(gs, st, fast.key, fast.statement);
        } catch (err) {
          return this.expandedAttempt(gs, err, fast.statement, bindVars, insert);
        }
        return this.singleRoute(gs, plan, bindVars, insert, true) ?? this.executePlan(gs, plan, bindVars, insert, null, true);
      };
      return this.runWith(gs, session, st.stmt.kind, st.sql, st.warnings, () => runBuffered(this.gate, gs, attempt), out, false);
    }
    const bound = st.paramCount
      ? rewrite(st.stmt, {
          expr: (e) => {
            if (e.kind !== 'Param') return undefined;
            const p = params[e.index];
            if (!p) throw new TesseraError(ER.WRONG_ARGUMENTS, `Incorrect arguments to mysqld_stmt_execute: parameter ${e.index + 1} missing`);
            return sqlValueToLiteral(p.value);
          },
        })
      : st.stmt;
    return this.run(gs, session, bound, st.sql, out, false);
  }

  /** SELECT * the gate must expand itself, as executePlanned does (not bound: the columns may change). */
  private async expandedAttempt(gs: GateSession, err: unknown, statement: Statement, bindVars: Record<string, BindValue>, insert: boolean): Promise<Result> {
    const expanded = err instanceof TesseraError && err.errno === ER.NOT_SUPPORTED_YET.errno && /SELECT \*/.test(err.message) && isQuery(statement) ? await expandStars(statement, gs, this.gate.columns) : null;
    if (!expanded) throw err;
    const n = normalize(expanded);
    Object.assign(bindVars, n.bindVars);
    return this.executePlan(gs, this.cachedPlan(gs, n.key, n.statement), bindVars, insert, null, true);
  }

  closeStatement(): void {}

  async fieldList(session: Session, table: string): Promise<ColumnDefinition[]> {
    const gs = this.gs(session);
    const sql = `SELECT * FROM \`${table.replaceAll('`', '``')}\` LIMIT 0`;
    const r = await this.guarded(gs, sql, () => this.executePlanned(gs, parse(sql), '', null));
    return [...r.fields];
  }
}
