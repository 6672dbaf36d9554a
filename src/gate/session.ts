// One client connection's state at the gate (its statements' cursor is session-cursor.ts): target
// (default keyspace, shard, tablet type), autocommit and the open transaction's shard sessions,
// reserved connections for session settings, savepoints, user variables, warnings.
//
// Transactions are begun lazily: the first statement a shard sees inside a transaction carries
// `begin` (one round trip). transaction_mode SINGLE refuses a second shard; MULTI commits shard by
// shard in the order they joined and, when one fails, rolls back the rest and reports which
// committed.
//
// Lookup vindexes add two more transactions per shard (Vitess's commit orders): `pre` sessions
// commit before the session's own and `post` sessions after it (see src/vindexes/lookup.ts for
// why), and `autocommit` statements run outside every transaction.
import { setMaxListeners } from 'node:events';
import { ER, TesseraError, primaryChangedError } from '../mysql/index.js';
import type { IsolationLevel, Literal } from '../sql/index.js';
import type { ExecuteOptions, ExecuteResult, QueryService, Target, Warning } from '../tablet/index.js';
import type { TabletType } from '../topo/index.js';
import type { CommitOrder } from '../vindexes/index.js';
import type { HealthCheck, TabletHealth } from './health-check.js';
import type { Resolver } from './resolver.js';
import type { Sequences } from './sequences.js';
import type { LoggedQuery, ResolvedShard, Result, ShardChunk, Workload } from './types.js';
import { SessionCursor, servingShards, toResult } from './session-cursor.js';
import { failoverCause, noteShardFailure } from './buffer.js';
import { TABLET_CHARSETS, type ConnectionCharsets } from './charsets.js';

export type TransactionMode = 'SINGLE' | 'MULTI';

export interface ShardSession {
  readonly target: Target;
  readonly conn: QueryService;
  readonly tabletAlias: string;
  transactionId: number;
  reservedId: number;
}

export type { Warning };

/**
 * Rows SHOW WARNINGS keeps for a statement that ran on several shards: MariaDB's default
 * max_error_count, which also bounds each shard's own list.
 */
export const WARNINGS_MAX = 64;

/** What one shard reported for the running statement. */
interface ShardWarnings {
  readonly key: string;
  readonly count: number;
  readonly list: readonly Warning[];
}

/** What sessions need from the gate. */
export interface GateCore {
  readonly resolver: Resolver;
  readonly health: HealthCheck;
  readonly sequences: Sequences;
  readonly rowsMax: number;
  readonly queryTimeoutMs: number;
  readonly transactionMode: TransactionMode;
}

export class GateSession {
  keyspace: string | null = null;
  shard: string | null = null;
  tabletType: TabletType = 'primary';
  autocommit = true;
  inTransaction = false;
  transactionMode: TransactionMode = 'MULTI';
  /**
   * An unscoped SET TRANSACTION's characteristics: as in MariaDB they apply to the next transaction
   * only — an explicit or implicit one, or a single autocommit statement — and are then forgotten.
   */
  nextTransaction: { isolation: IsolationLevel | null; access: 'READ ONLY' | 'READ WRITE' | null } | null = null;
  /**
   * What each shard's part of the open transaction begins with instead of BEGIN (its isolation
   * level and access mode); kept after the transaction ends, for COMMIT AND CHAIN.
   */
  private beginStatement: string | undefined;
  /** Shard sessions of the open transaction, in the order they joined. */
  readonly shardSessions = new Map<string, ShardSession>();
  /** Lookup vindexes' transactions committed before `shardSessions` (consistent lookups' creates). */
  readonly preSessions = new Map<string, ShardSession>();
  /** Lookup vindexes' transactions committed after `shardSessions` (consistent lookups' deletes). */
  readonly postSessions = new Map<string, ShardSession>();
  /** Reserved connections (session settings) by target, outside transactions too. */
  readonly reserved = new Map<string, ShardSession>();
  /** SET statements applied on reserved connections. */
  settings: string[] = [];
  /** `SET STATEMENT … FOR ` while such a statement runs: sent in front of each of its shard queries. */
  statementPrefix: string | null = null;
  /** The connection's character sets (handshake, SET NAMES, …): see gate/charsets.ts. */
  charsets: ConnectionCharsets = TABLET_CHARSETS;
  /** The entry of `settings` that carries `charsets` to the tablets, if they need one. */
  charsetSetting: string | null = null;
  /** The system database the session uses (`USE mysql`), or null: see gate/system-db.ts. */
  systemDb: string | null = null;
  /** The entry of `settings` that makes the tablets' connections use `systemDb`. */
  databaseSetting: string | null = null;
  /**
   * The session keeps state in the tablets' MariaDB connections (user variables a statement
   * assigned there, SQL-level prepared statements, table locks, open HANDLERs): from now on every
   * statement runs on the session's reserved connection of its shard, as Vitess's reserved
   * connections, until the session ends or is reset.
   */
  pinned = false;
  /** SQL-level prepared statements (PREPARE name FROM …) and the user variables their text names. */
  readonly preparedVars = new Map<string, readonly string[]>();
  readonly savepoints: string[] = [];
  readonly userVars = new Map<string, Literal>();
  /** Gate-level system variables a client may read back (@@workload, @@ddl_strategy, …). */
  readonly sysVars = new Map<string, string>();
  lastInsertId = 0n;
  rowCount = -1n;
  /** What SHOW WARNINGS lists: the conditions of the last statement that set them (see settleWarnings). */
  warnings: Warning[] = [];
  /** @@warning_count: may exceed `warnings.length` when a shard had more than it lists. */
  warningCount = 0;
  /** The running statement's warnings as the shards reported them; null while none did. */
  private shardWarnings: ShardWarnings[] | null = null;
  /**
   * The client connected with CLIENT_FOUND_ROWS (most drivers do): affected-row counts of UPDATE
   * are the rows matched, so tablets run this session's statements on connections with the flag.
   */
  clientFoundRows = false;
  /** Keyspaces this user may use; null = all. */
  allowedKeyspaces: ReadonlySet<string> | null = null;
  closed = false;
  /** The statement running now, so a closing session lets it stop before rolling back. */
  running: Promise<unknown> | null = null;
  /** The running statement's text (SHOW PROCESSLIST's Info), or null between statements. */
  statement: string | null = null;
  /** When the running statement started, or the last one ended (SHOW PROCESSLIST's Time). */
  since = Date.now();
  /** Cancels the running statement's shard calls (KILL QUERY, the connection closing). */
  private abortController = sessionAbortController();
  /**
   * The controller's signal and whether killQuery aborted it, as plain fields: AbortController's
   * `signal` and AbortSignal's `aborted` getters check their receiver on every read, and the
   * query path reads them once or twice a statement.
   */
  private abortSignal = this.abortController.signal;
  private killed = false;

  constructor(
    readonly id: number,
    readonly user: string,
    readonly core: GateCore,
  ) {
    this.transactionMode = core.transactionMode;
  }

  /** Aborted by KILL QUERY or the connection closing: cancels the running statement's waits too. */
  get signal(): AbortSignal {
    return this.abortSignal;
  }

  /** Called as a statement starts: a KILL QUERY that arrived while the session was idle does not cancel it. */
  statementStarting(): void {
    if (this.killed) {
      this.abortController = sessionAbortController();
      this.abortSignal = this.abortController.signal;
      this.killed = false;
    }
    this.shardWarnings = null;
  }

  /** A shard's result for the running statement: its warnings are kept for SHOW WARNINGS. */
  noteWarnings(rs: ResolvedShard, r: ExecuteResult): void {
    if (r.warnings > 0) (this.shardWarnings ??= []).push({ key: `${rs.keyspace}/${rs.shard}`, count: r.warnings, list: r.warningList ?? [] });
  }

  /** A warning the gate raised itself (GROUP_CONCAT cut at group_concat_max_len), kept as a shard's. */
  noteGateWarning(w: Warning): void {
    (this.shardWarnings ??= []).push({ key: 'gate', count: 1, list: [w] });
  }

  /**
   * The statement succeeded: what SHOW WARNINGS, SHOW COUNT(*) WARNINGS and @@warning_count say
   * from now on, by MariaDB's rules. A statement that raised warnings replaces the list with its
   * own; one that raised none clears it if it used tables (`clears`), and leaves it otherwise
   * (SELECT 1, SET @a = 1, COMMIT keep the previous statement's warnings in MariaDB too).
   *
   * One shard's warnings are taken exactly as it listed them. Several shards' are merged so that a
   * condition each of them raised (the same DDL on every shard, a constant that failed to convert)
   * appears once: each distinct (level, code, message) as often as the shard that listed it most
   * did, in shard order, at most WARNINGS_MAX rows. Returns the statement's warning count, for the
   * OK or EOF packet.
   */
  settleWarnings(clears: boolean): number {
    const got = this.shardWarnings;
    this.shardWarnings = null;
    if (got === null) {
      // Most statements raise none and had none before: no new list for them.
      if (clears && this.warningCount !== 0) {
        this.warnings = [];
        this.warningCount = 0;
      }
      return 0;
    }
    if (got.length === 1) {
      this.warnings = [...got[0].list];
      this.warningCount = got[0].count;
      return got[0].count;
    }
    got.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const most = new Map<string, number>();
    const order: Warning[] = [];
    let unlisted = 0;
    for (const sw of got) {
      unlisted += Math.max(0, sw.count - sw.list.length);
      const seen = new Map<string, number>();
      for (const w of sw.list) {
        const k = `${w.level}\0${w.code}\0${w.message}`;
        const n = (seen.get(k) ?? 0) + 1;
        seen.set(k, n);
        if (n > (most.get(k) ?? 0)) {
          most.set(k, n);
          order.push(w);
        }
      }
    }
    this.warnings = order.slice(0, WARNINGS_MAX);
    this.warningCount = order.length + unlisted;
    return this.warningCount;
  }

  /**
   * KILL QUERY: the running statement's shard calls are cancelled (each tablet kills its statement
   * in MariaDB) and the statement fails with 1317. An open transaction stays open, as in MySQL.
   */
  killQuery(why: string): void {
    this.killed = true;
    this.abortController.abort(new TesseraError(ER.QUERY_INTERRUPTED, `Query execution was interrupted (${why})`));
  }

  /**
   * What the session holds on the shards, for SHOW PROCESSLIST's State: its open transaction's
   * shards and its reserved connections (session settings); '' when it holds nothing.
   */
  holdings(): string {
    const parts: string[] = [];
    const name = (t: Target): string => `${t.keyspace}/${t.shard}${t.tabletType === 'primary' ? '' : '@' + t.tabletType}`;
    if (this.inTransaction) {
      const shards = [...this.shardSessions.values()].map((ss) => name(ss.target)).sort();
      parts.push(shards.length ? `in transaction on ${shards.join(', ')}` : 'in transaction');
    }
    const reserved = [...this.reserved.values()].filter((r) => ![...this.shardSessions.values()].some((ss) => ss.reservedId === r.reservedId)).map((r) => name(r.target));
    if (reserved.length) parts.push(`reserved connection on ${reserved.join(', ')}`);
    return parts.join('; ');
  }

  targetString(): string {
    let s = this.keyspace ?? '';
    if (this.shard !== null) s += ':' + this.shard;
    if (this.tabletType !== 'primary') s += '@' + this.tabletType;
    return s;
  }

  checkKeyspaceAllowed(keyspace: string): void {
    if (this.allowedKeyspaces !== null && !this.allowedKeyspaces.has(keyspace)) {
      throw new TesseraError(ER.DBACCESS_DENIED, `Access denied for user '${this.user}' to database '${keyspace}'`);
    }
  }

  /** A cursor for one statement (its own query log for VEXPLAIN QUERIES). */
  cursor(log: LoggedQuery[] | null = null): SessionCursor {
    return new SessionCursor(this, log);
  }

  /**
   * A route's shards resolved as this session's statement cursor would (SessionCursor's methods
   * of the same names), without making one: the executor's single-route path (Route.oneShardNow).
   */
  allShardsNow(keyspace: string): ResolvedShard[] {
    return servingShards(this, keyspace, this.inTransaction ? 'primary' : this.tabletType, false);
  }

  shardForKeyspaceIdNow(keyspace: string, ksid: Uint8Array): ResolvedShard | undefined {
    this.checkKeyspaceAllowed(keyspace);
    return this.core.resolver.shardForKeyspaceId(keyspace, this.inTransaction ? 'primary' : this.tabletType, ksid);
  }

  /**
   * A statement of one route on one shard (Executor.singleRoute): what the statement's cursor
   * does for one query (SessionCursor.executeMulti), without the cursor, the arrays and its async
   * layer. With autocommit off it begins the transaction (beginImplicitly); warnings are noted for SHOW WARNINGS;
   * ROW_COUNT() and LAST_INSERT_ID() follow a write (`counts`) as Executor.executePlan sets them
   * (`counts` null: the caller sets them).
   */
  async executeSingle(rs: ResolvedShard, sql: string, write: boolean, tables: readonly string[] | undefined, counts: boolean | null, params: readonly Literal[] | null = null): Promise<Result> {
    if (!this.autocommit && !this.inTransaction) this.beginImplicitly(write);
    const e = await this.executeOnShard(rs, sql, write, tables, 'normal', params);
    if (e.warnings > 0) this.noteWarnings(rs, e);
    const r = toResult(e);
    if (counts === null) return r;
    if (counts) {
      this.rowCount = BigInt(r.rowsAffected);
      if (r.insertId !== 0n) this.lastInsertId = r.insertId;
    } else this.rowCount = -1n;
    return r;
  }

  private pick(target: Target): TabletHealth {
    const picked = this.core.health.pick(target.keyspace, target.shard, target.tabletType);
    if (picked === undefined) {
      const known = this.core.health.all().filter((t) => t.tablet.keyspace === target.keyspace && t.tablet.shard === target.shard);
      const why = known.length
        ? known.map((t) => `${t.alias} ${t.health?.target.tabletType ?? t.tablet.type} ${t.health ? (t.health.serving ? 'serving' : 'not serving: ' + t.health.reason) : 'no health yet' + (t.lastError ? ': ' + t.lastError : '')}`).join('; ')
        : 'no tablets in the cell';
      throw new TesseraError(ER.UNAVAILABLE, `no healthy ${target.tabletType} tablet for ${target.keyspace}/${target.shard} (${why})`, { kind: 'UNAVAILABLE' });
    }
    return picked;
  }

  /** Per shard: the tail of the calls queued on its transaction or reserved connection. */
  private readonly shardQueues = new Map<string, Promise<unknown>>();

  /**
   * Runs one statement on one shard, inside the transaction / reserved connection when there is
   * one. Calls on one connection never overlap (a UNION's branches may reach the same shard at
   * once): they queue per shard, which also keeps a shard from being begun twice.
   */
  executeOnShard(rs: ResolvedShard, sql0: string, write: boolean, tables: readonly string[] | undefined, order: CommitOrder = 'normal', params: readonly Literal[] | null = null): Promise<ExecuteResult> {
    const sql = this.statementPrefix === null ? sql0 : this.statementPrefix + sql0;
    if (order === 'autocommit' || (!this.inTransaction && !(write && !this.autocommit) && this.settings.length === 0 && !this.pinned)) return this.executeOnShardNow(rs, sql, write, tables, order, params);
    const key = `${rs.keyspace}/${rs.shard}`;
    const prev = this.shardQueues.get(key) ?? Promise.resolve();
    const run = prev.then(
      () => this.executeOnShardNow(rs, sql, write, tables, order, params),
      () => this.executeOnShardNow(rs, sql, write, tables, order, params),
    );
    const tail = run.catch(() => undefined);
    this.shardQueues.set(key, tail);
    void tail.then(() => {
      if (this.shardQueues.get(key) === tail) this.shardQueues.delete(key);
    });
    return run;
  }

  /**
   * `params`: the values of `sql`'s `?` placeholders (ExecuteOptions.params), or null for text.
   * Most statements run on a pooled connection (autocommit, no settings, not pinned): they take
   * executePlain, a small async function. V8 gives each call of an async function a frame of all
   * its registers on the heap, and the held paths below (transaction, reserved connection, lookup
   * transactions) made that frame about half a kilobyte for every statement.
   */
  private executeOnShardNow(rs: ResolvedShard, sql: string, write: boolean, tables: readonly string[] | undefined, order: CommitOrder = 'normal', params: readonly Literal[] | null = null): Promise<ExecuteResult> {
    if (order === 'autocommit' || (order === 'normal' && !this.inTransaction && this.settings.length === 0 && !this.pinned)) return this.executePlain(rs, sql, write, tables, order, params);
    return this.executeHeld(rs, sql, write, tables, order, params);
  }

  /** The shard call's target; throws for a write the session's tablet type cannot take, or a killed statement. */
  private shardTarget(rs: ResolvedShard, write: boolean, order: CommitOrder): Target {
    const type: TabletType = this.inTransaction || write || order !== 'normal' ? 'primary' : this.tabletType;
    if (write && this.tabletType !== 'primary' && this.tabletType !== undefined) {
      throw new TesseraError(ER.OPTION_PREVENTS_STATEMENT, `${rs.keyspace}@${this.tabletType}: the session targets ${this.tabletType} tablets, which do not take writes; USE ${rs.keyspace} (or @primary) first`);
    }
    if (this.killed) throw this.abortSignal.reason;
    return { keyspace: rs.keyspace, shard: rs.shard, tabletType: type };
  }

  /** A statement on a pooled connection of a healthy tablet (see executeOnShardNow). */
  private async executePlain(rs: ResolvedShard, sql: string, write: boolean, tables: readonly string[] | undefined, order: CommitOrder, params: readonly Literal[] | null): Promise<ExecuteResult> {
    const target = this.shardTarget(rs, write, order);
    const opts: ExecuteOptions = { timeoutMs: this.core.queryTimeoutMs, tables, clientFoundRows: this.clientFoundRows || undefined, signal: this.abortSignal, params: params ?? undefined };
    let t: TabletHealth | null = null;
    try {
      t = this.pick(target);
      return await t.conn.execute(target, sql, null, opts);
    } catch (err) {
      return this.plainFailed(err, target, t, sql, opts);
    }
  }

  /** executePlain's failure: a refusal where nothing ran is tried once more on another tablet; any other failure is the shard's. */
  private async plainFailed(err0: unknown, target: Target, t: TabletHealth | null, sql: string, opts: ExecuteOptions): Promise<ExecuteResult> {
    let alias = t?.alias ?? '';
    try {
      if (t !== null && err0 instanceof TesseraError && (err0.kind === 'NOT_SERVING' || err0.kind === 'WRONG_TARGET')) {
        this.core.health.markSuspect(t);
        const other = this.core.health.healthy(target.keyspace, target.shard, target.tabletType).find((x) => x !== t);
        if (other) {
          alias = other.alias;
          return await other.conn.execute(target, sql, null, opts);
        }
      }
      throw err0;
    } catch (err) {
      this.shardFailed(err, target, `${target.keyspace}/${target.shard}@${target.tabletType}`, alias);
      throw err;
    }
  }

  /** A statement on a connection the session holds: its transaction's, a reserved one, or a lookup vindex's own transaction. */
  private async executeHeld(rs: ResolvedShard, sql: string, write: boolean, tables: readonly string[] | undefined, order: CommitOrder, params: readonly Literal[] | null): Promise<ExecuteResult> {
    const p = params ?? undefined;
    const target = this.shardTarget(rs, write, order);
    const key = `${rs.keyspace}/${rs.shard}@${target.tabletType}`;
    const timeoutMs = this.core.queryTimeoutMs;
    const clientFoundRows = this.clientFoundRows || undefined;
    const signal = this.abortSignal;
    let alias = '';
    try {
      if (order === 'pre' || order === 'post') {
        // A lookup vindex's own transaction beside the session's (begun lazily, committed around it).
        if (!this.inTransaction) throw new Error(`a ${order} lookup statement outside a transaction`);
        const sessions = order === 'pre' ? this.preSessions : this.postSessions;
        const ss = sessions.get(key);
        if (ss) {
          alias = ss.tabletAlias;
          return await ss.conn.execute(target, sql, null, { transactionId: ss.transactionId, timeoutMs, tables, signal, params: p });
        }
        const t = this.pick(target);
        alias = t.alias;
        const b = await t.conn.begin(target, { clientFoundRows, beginStatement: this.beginStatement, signal });
        sessions.set(key, { target, conn: t.conn, tabletAlias: b.tabletAlias, transactionId: b.transactionId, reservedId: 0 });
        // Savepoints set before it joined exist here too: ROLLBACK TO undoes lookup rows as well.
        for (const sp of this.savepoints) await t.conn.execute(target, sp, null, { transactionId: b.transactionId, signal });
        return await t.conn.execute(target, sql, null, { transactionId: b.transactionId, timeoutMs, tables, signal, params: p });
      }
      if (this.inTransaction && order === 'normal') {
        const ss = this.shardSessions.get(key);
        if (ss) {
          alias = ss.tabletAlias;
          return await ss.conn.execute(target, sql, null, { transactionId: ss.transactionId, reservedId: ss.reservedId || undefined, timeoutMs, tables, signal, params: p });
        }
        if (this.transactionMode === 'SINGLE' && this.shardSessions.size > 0) {
          const first = [...this.shardSessions.values()][0].target;
          throw new TesseraError(ER.UNKNOWN_ERROR, `multi-db transaction attempted: transaction_mode is SINGLE and the transaction is on ${first.keyspace}/${first.shard}, this statement goes to ${rs.keyspace}/${rs.shard}`);
        }
        let reserved = this.reserved.get(key);
        if (!reserved && (this.settings.length || this.pinned)) {
          // The transaction needs the session's settings: it runs on a connection reserved with them.
          const t = this.pick(target);
          alias = t.alias;
          const got = await t.conn.reserve(target, { settings: this.settings, clientFoundRows, signal });
          reserved = { target, conn: t.conn, tabletAlias: got.tabletAlias, transactionId: 0, reservedId: got.reservedId };
          this.reserved.set(key, reserved);
        }
        const t = reserved ? this.core.health.byAlias(reserved.tabletAlias) ?? this.pick(target) : this.pick(target);
        const conn = reserved ? reserved.conn : t.conn;
        const reservedId = reserved?.reservedId ?? 0;
        alias = reserved ? reserved.tabletAlias : t.alias;
        if (this.savepoints.length) {
          // Savepoints set before this shard joined must exist on it too, so ROLLBACK TO works everywhere.
          const b = await conn.begin(target, { reservedId: reservedId || undefined, clientFoundRows, beginStatement: this.beginStatement, signal });
          const ss: ShardSession = { target, conn, tabletAlias: b.tabletAlias, transactionId: b.transactionId, reservedId };
          this.shardSessions.set(key, ss);
          for (const sp of this.savepoints) await conn.execute(target, sp, null, { transactionId: ss.transactionId, reservedId: reservedId || undefined, signal });
          return await conn.execute(target, sql, null, { transactionId: ss.transactionId, reservedId: reservedId || undefined, timeoutMs, tables, signal, params: p });
        }
        const r = await conn.execute(target, sql, null, { begin: true, beginStatement: this.beginStatement, reservedId: reservedId || undefined, timeoutMs, tables, clientFoundRows, signal, params: p });
        this.shardSessions.set(key, { target, conn, tabletAlias: r.tabletAlias, transactionId: r.transactionId, reservedId });
        return r;
      }
      // Settings or a pinned session, outside a transaction (executeOnShardNow sends nothing else here).
      let rsv = this.reserved.get(key);
      if (!rsv) {
        const t = this.pick(target);
        alias = t.alias;
        const got = await t.conn.reserve(target, { settings: this.settings, clientFoundRows, signal });
        rsv = { target, conn: t.conn, tabletAlias: got.tabletAlias, transactionId: 0, reservedId: got.reservedId };
        this.reserved.set(key, rsv);
      }
      alias = rsv.tabletAlias;
      return await rsv.conn.execute(target, sql, null, { reservedId: rsv.reservedId, timeoutMs, tables, signal, params: p });
    } catch (err) {
      this.shardFailed(err, target, key, alias);
      throw err;
    }
  }

  /**
   * The error path of a shard call: notes the shard on the error (the executor's failover buffer
   * and transaction handling read it), keeps the gate off a tablet that refused until its health
   * speaks again, and drops a reserved connection its tablet no longer serves.
   */
  private shardFailed(err: unknown, target: Target, key: string, alias: string): void {
    noteShardFailure(err, target);
    if (failoverCause(err) !== 'primary') return;
    if (alias) {
      const t = this.core.health.byAlias(alias);
      if (t) this.core.health.markSuspect(t);
    }
    const rsv = this.reserved.get(key);
    if (rsv && !this.inTransaction) {
      this.reserved.delete(key);
      void rsv.conn.release(rsv.target, rsv.reservedId).catch(() => undefined);
    }
  }

  /**
   * The workload statements run under: the session's `SET workload`, except that a session holding
   * a transaction or reserved connections runs as OLTP (streams never join those connections).
   */
  get workload(): Workload {
    const w = this.sysVars.get('workload');
    if (w !== 'OLAP' && w !== 'DBA') return 'OLTP';
    if (w === 'OLAP' && (this.inTransaction || this.settings.length > 0 || this.pinned)) return 'OLTP';
    return w;
  }

  /**
   * Streams a read from one shard on a healthy tablet of `tabletType`, outside any transaction
   * (see VCursor.streamMulti). Returns the alias of the tablet that answered.
   */
  async streamOnShard(rs: ResolvedShard, sql: string, tabletType: TabletType, tables: readonly string[] | undefined, signal: AbortSignal, onChunk: (chunk: ShardChunk) => void | Promise<void>): Promise<string> {
    const target: Target = { keyspace: rs.keyspace, shard: rs.shard, tabletType };
    signal.throwIfAborted();
    let alias = '';
    try {
      // Picked inside the try: finding no serving tablet is a shard failure too (the failover buffer holds it).
      const t = this.pick(target);
      alias = t.alias;
      await t.conn.streamExecute(target, sql, null, onChunk, { timeoutMs: this.core.queryTimeoutMs, tables, signal });
      return alias;
    } catch (err) {
      this.shardFailed(err, target, `${rs.keyspace}/${rs.shard}@${tabletType}`, alias);
      throw err;
    }
  }

  /**
   * Opens a transaction; its shards join as statements reach them. `characteristics` are START
   * TRANSACTION's; `chain` begins with the ended transaction's isolation level and access mode
   * (COMMIT / ROLLBACK AND CHAIN).
   */
  begin(characteristics: readonly ('READ ONLY' | 'READ WRITE' | 'WITH CONSISTENT SNAPSHOT')[] = [], chain = false): void {
    this.inTransaction = true;
    if (chain) return;
    const next = this.nextTransaction;
    this.nextTransaction = null;
    const parts = [...characteristics];
    if (next?.access && !parts.includes('READ ONLY') && !parts.includes('READ WRITE')) parts.push(next.access);
    const start = parts.length > 0 ? `START TRANSACTION ${parts.join(', ')}` : 'BEGIN';
    // Both go in one request: the tablet's connections take multi-statements.
    this.beginStatement = next?.isolation ? `SET TRANSACTION ISOLATION LEVEL ${next.isolation}; ${start}` : start === 'BEGIN' ? undefined : start;
  }

  /**
   * With autocommit off, the first statement that reaches a shard opens the transaction, a read as
   * much as a write, as in MariaDB (and Vitess): the reads that follow see its snapshot, and a
   * `SELECT ... FOR UPDATE` keeps its locks until COMMIT (JDBC's setAutoCommit(false) is `SET
   * autocommit = 0`, and many transactions start with such a read). A session that targets
   * replicas opens it at its first write only, so its reads stay on the replicas.
   */
  beginImplicitly(write: boolean): void {
    if (write || this.tabletType === 'primary') this.begin();
  }

  /**
   * Runs `run` in a transaction of its own (a multi-shard write, or a statement after an unscoped
   * SET TRANSACTION), rolled back when it fails, else committed — or left open with `commit` false.
   */
  async inOwnTransaction<T>(run: () => Promise<T>, commit = true): Promise<T> {
    this.begin();
    let r: T;
    try {
      r = await run();
    } catch (err) {
      await this.rollback();
      throw err;
    }
    if (commit) await this.commit();
    return r;
  }

  /**
   * Commits every shard of the transaction: lookup vindexes' pre sessions first, then the
   * session's own shards in the order they joined, then the post sessions. A failure rolls back
   * everything not yet committed.
   */
  async commit(): Promise<void> {
    const sessions = [
      ...[...this.preSessions.entries()].map(([k, ss]) => [`${k} (pre)`, ss] as const),
      ...this.shardSessions.entries(),
      ...[...this.postSessions.entries()].map(([k, ss]) => [`${k} (post)`, ss] as const),
    ];
    this.shardSessions.clear();
    this.preSessions.clear();
    this.postSessions.clear();
    this.inTransaction = false;
    this.savepoints.length = 0;
    const committed: string[] = [];
    for (let i = 0; i < sessions.length; i++) {
      const [key, ss] = sessions[i];
      try {
        await ss.conn.commit(ss.target, ss.transactionId);
        committed.push(key);
      } catch (err) {
        const rest = sessions.slice(i + 1);
        await Promise.all(rest.map(([, s]) => s.conn.rollback(s.target, s.transactionId).catch(() => undefined)));
        // Only a coded error (MariaDB's, the tablet's) is reported with the shards' outcome; anything
        // else is a bug the executor reports as an internal error.
        if (!(err instanceof TesseraError)) throw err;
        const e = err;
        // The transaction was gone before COMMIT reached it (ended by the tablet, or the tablet
        // cannot be reached, so COMMIT never ran): rolled back, and worth running again.
        if (committed.length === 0 && (e.kind === 'ABORTED' || (e.kind === undefined && failoverCause(e) === 'primary'))) throw primaryChangedError(`${ss.target.keyspace}/${ss.target.shard}`, e.message, e);
        if (committed.length === 0) throw e;
        throw new TesseraError({ errno: e.errno, sqlState: e.sqlState }, `commit failed on ${key}: ${e.message}; already committed: ${committed.join(', ')}; rolled back: ${[key, ...rest.map(([k]) => k)].join(', ')}`);
      }
    }
  }

  async rollback(): Promise<void> {
    const sessions = [...this.preSessions.values(), ...this.shardSessions.values(), ...this.postSessions.values()];
    this.shardSessions.clear();
    this.preSessions.clear();
    this.postSessions.clear();
    this.inTransaction = false;
    this.savepoints.length = 0;
    const errors: string[] = [];
    await Promise.all(sessions.map((ss) => ss.conn.rollback(ss.target, ss.transactionId).catch((err: unknown) => errors.push(String(err)))));
  }

  /** Every shard connection of the transaction: lookup vindexes' pre sessions, the session's own, the post sessions. */
  private heldSessions(): ShardSession[] {
    return [...this.preSessions.values(), ...this.shardSessions.values(), ...this.postSessions.values()];
  }

  /** Runs a savepoint statement on every shard in the transaction, and remembers it for shards that join later. */
  async savepoint(sql: string, remember: boolean): Promise<void> {
    if (remember) this.savepoints.push(sql);
    for (const ss of this.heldSessions()) {
      await ss.conn.execute(ss.target, sql, null, { transactionId: ss.transactionId, reservedId: ss.reservedId || undefined });
    }
  }

  /**
   * Runs one statement that writes in several transactions (a DML that maintains lookup
   * vindexes) as MariaDB runs a statement: all of it or none. Outside a transaction it gets one
   * of its own, committed when it succeeds (left open when autocommit is off); inside the
   * session's transaction a savepoint is set first and rolled back to when it fails.
   */
  async statementTransaction<T>(run: () => Promise<T>): Promise<T> {
    // Inside another one (a lookup DML's, whose shard writes come here too) the outer one covers it.
    if (this.inStatementTransaction) return run();
    this.inStatementTransaction = true;
    try {
      if (!this.inTransaction) return await this.inOwnTransaction(run, this.autocommit);
      const name = `tessera_stmt_${++this.statementSavepoints}`;
      await this.savepoint(`savepoint ${name}`, true);
      const drop = (): void => {
        const i = this.savepoints.lastIndexOf(`savepoint ${name}`);
        if (i >= 0) this.savepoints.splice(i, 1);
      };
      try {
        const r = await run();
        drop();
        await this.savepoint(`release savepoint ${name}`, false);
        return r;
      } catch (err) {
        drop();
        // On every shard, each on its own: one that cannot (its transaction ended under a
        // deadlock, which the executor then rolls back everywhere) must not keep the others from it.
        const sql = `rollback to savepoint ${name}`;
        await Promise.all(this.heldSessions().map((ss) => ss.conn.execute(ss.target, sql, null, { transactionId: ss.transactionId, reservedId: ss.reservedId || undefined }).catch(() => undefined)));
        throw err;
      }
    } finally {
      this.inStatementTransaction = false;
    }
  }

  private statementSavepoints = 0;
  private inStatementTransaction = false;

  /** Drops reserved connections (settings changed or session closing). */
  async releaseReserved(): Promise<void> {
    const list = [...this.reserved.values()];
    this.reserved.clear();
    await Promise.all(list.map((r) => r.conn.release(r.target, r.reservedId).catch(() => undefined)));
  }

  /** The connection is gone: roll back and release everything it held. */
  async close(): Promise<void> {
    this.closed = true;
    const running = this.running;
    if (running) {
      // The client went away mid-statement: stop it, so its transaction is free to roll back.
      this.killQuery('the connection closed');
      await running.catch(() => undefined);
    }
    await this.rollback().catch(() => undefined);
    await this.releaseReserved();
  }
}

/**
 * A session's AbortController. Its signal is listened to for the session's life by each tablet
 * RPC client the session has used (one listener per client, src/rpc/client.ts) and each tablet
 * connection that ran its statements (QueryTimer): more than Node's default of 10 listeners is
 * expected, not a leak, so the warning for it is turned off.
 */
function sessionAbortController(): AbortController {
  const ac = new AbortController();
  setMaxListeners(0, ac.signal);
  return ac;
}
