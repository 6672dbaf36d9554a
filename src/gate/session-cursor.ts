// The cursor a session's statements run through (VCursor): what the engine's primitives call to
// resolve shards and to run queries on them, in the session's transaction, reserved connections
// and commit order (GateSession, session.ts, holds those). And toResult: a shard's answer as the
// engine's Result.
import { ER, TesseraError } from '../mysql/index.js';
import type { ExecuteResult } from '../tablet/index.js';
import type { TabletType } from '../topo/index.js';
import type { CommitOrder } from '../vindexes/index.js';
import type { ClusterVSchema } from '../vschema/index.js';
import type { GateSession } from './session.js';
import type { BindVars, ExecuteMultiOptions, LoggedQuery, ResolvedShard, Result, ShardChunk, ShardQuery, StreamMultiOptions, VCursor, Workload } from './types.js';
import { runVindexQuery } from './vindex-query.js';

export function toResult(r: ExecuteResult): Result {
  let insertId = 0n;
  if (r.insertId !== 0) {
    try {
      insertId = BigInt(r.insertId);
    } catch {
      insertId = 0n;
    }
  }
  const out: Result = { fields: r.fields, rows: null, raw: r.rows, rowsAffected: r.rowsAffected, insertId, warnings: r.warnings, info: r.info };
  if (r.binaryRows === true) out.rawBinary = true;
  return r.more ? { ...out, more: r.more.map((x) => toResult({ ...x, transactionId: 0, tabletAlias: '' })) } : out;
}

/** A keyspace's serving shards of `tabletType`, as a statement's cursor resolves them (UNAVAILABLE when none). */
export function servingShards(session: GateSession, keyspace: string, tabletType: TabletType, internal: boolean): ResolvedShard[] {
  if (!internal) session.checkKeyspaceAllowed(keyspace);
  const shards = session.core.resolver.allShards(keyspace, tabletType);
  if (shards.length === 0) throw new TesseraError(ER.UNAVAILABLE, `keyspace ${keyspace} has no serving shards for ${tabletType} in this cell`, { kind: 'UNAVAILABLE' });
  return shards;
}

export class SessionCursor implements VCursor {
  readonly vschema: ClusterVSchema;
  readonly tabletType: TabletType;
  readonly rowsMax: number;
  readonly workload: Workload;

  constructor(
    readonly session: GateSession,
    readonly log: LoggedQuery[] | null,
    /** The transaction this cursor's shard calls run in (lookup vindexes use the others). */
    readonly order: CommitOrder = 'normal',
    /**
     * A lookup vindex's own statements: its lookup table's keyspace is reached whatever keyspaces
     * the user may use (the user reached the owner table; the lookup is the gate's business).
     */
    readonly internal = false,
  ) {
    this.vschema = session.core.resolver.vschema;
    this.tabletType = session.inTransaction ? 'primary' : session.tabletType;
    this.rowsMax = session.core.rowsMax;
    this.workload = session.workload;
  }

  /** Read by INSERTs with auto-increment columns only, so worked out when asked. */
  get noAutoValueOnZero(): boolean {
    const settings = this.session.settings;
    // The session's last `SET sql_mode` (the gate keeps the statements it applies on the tablets).
    for (let i = settings.length - 1; i >= 0; i--) {
      if (/\bsql_mode\b/i.test(settings[i])) return /NO_AUTO_VALUE_ON_ZERO/i.test(settings[i]);
    }
    return false;
  }

  async allShards(keyspace: string): Promise<ResolvedShard[]> {
    return this.allShardsNow(keyspace);
  }

  allShardsNow(keyspace: string): ResolvedShard[] {
    return servingShards(this.session, keyspace, this.tabletType, this.internal);
  }

  async shardForKeyspaceId(keyspace: string, ksid: Uint8Array): Promise<ResolvedShard | undefined> {
    return this.shardForKeyspaceIdNow(keyspace, ksid);
  }

  shardForKeyspaceIdNow(keyspace: string, ksid: Uint8Array): ResolvedShard | undefined {
    if (!this.internal) this.session.checkKeyspaceAllowed(keyspace);
    return this.session.core.resolver.shardForKeyspaceId(keyspace, this.tabletType, ksid);
  }

  async shardsForKeyRange(keyspace: string, start: Uint8Array, end: Uint8Array): Promise<ResolvedShard[]> {
    return this.session.core.resolver.shardsForKeyRange(keyspace, this.tabletType, { start, end });
  }

  atomically<T>(fn: () => Promise<T>): Promise<T> {
    return this.session.inTransaction ? fn() : this.session.inOwnTransaction(fn);
  }

  warn(code: number, message: string): void {
    this.session.noteGateWarning({ level: 'Warning', code, message });
  }

  targetedShard(keyspace: string, shard: string): ResolvedShard {
    if (!this.internal) this.session.checkKeyspaceAllowed(keyspace);
    return this.session.core.resolver.targeted(keyspace, shard);
  }

  get inTransaction(): boolean {
    return this.session.inTransaction;
  }

  withCommitOrder(order: CommitOrder): SessionCursor {
    return order === this.order ? this : new SessionCursor(this.session, this.log, order, this.internal);
  }

  statementTransaction<T>(run: () => Promise<T>): Promise<T> {
    return this.session.statementTransaction(run);
  }

  executeVindexQuery(sql: string, bindVars: BindVars, order: CommitOrder): Promise<Result> {
    return runVindexQuery(new SessionCursor(this.session, this.log, order, true), sql, bindVars);
  }

  async executeMulti(queries: readonly ShardQuery[], opts: ExecuteMultiOptions): Promise<Result[]> {
    const s = this.session;
    if (this.order !== 'normal') return this.executeOrdered(queries, opts);
    // As executeOnShardNow picks it: writes and anything in a transaction go to the primary.
    const tabletType: TabletType = s.inTransaction || opts.write || opts.ddl ? 'primary' : s.tabletType;
    const logged = this.log ? queries.map((q) => ({ keyspace: q.rs.keyspace, shard: q.rs.shard, tabletType, tablet: '', sql: q.sql })) : null;
    if (logged) this.log!.push(...logged);
    const answered = (results: readonly ExecuteResult[]): void => {
      if (logged) results.forEach((r, i) => (logged[i].tablet = r.tabletAlias));
    };
    if (opts.ddl) {
      // As MariaDB: DDL commits the open transaction (every shard of it, not only the shards the
      // DDL goes to, which would leave the others open, holding locks, while the client believes
      // them committed) and runs outside any transaction.
      if (s.inTransaction) await s.commit();
      const settled = await Promise.allSettled(queries.map((q) => s.executeOnShard(q.rs, q.sql, true, opts.tables)));
      const failed = settled.find((x): x is PromiseRejectedResult => x.status === 'rejected');
      if (failed) throw failed.reason;
      const done = settled.map((x, i) => {
        const r = (x as PromiseFulfilledResult<ExecuteResult>).value;
        if (r.warnings > 0) s.noteWarnings(queries[i].rs, r);
        return r;
      });
      answered(done);
      return done.map(toResult);
    }
    if (!s.autocommit && !s.inTransaction) s.beginImplicitly(opts.write);
    if (queries.length === 1) {
      // One shard (the common case): nothing to settle side by side.
      const q = queries[0];
      const r = await s.executeOnShard(q.rs, q.sql, opts.write, opts.tables);
      if (r.warnings > 0) s.noteWarnings(q.rs, r);
      if (logged) logged[0].tablet = r.tabletAlias;
      return [toResult(r)];
    }
    // Shards run in parallel (calls on one shard's connection queue in executeOnShard). Every call
    // settles before the statement does: a rollback after the first failure must not overtake a
    // shard still joining the transaction, which would leave that shard's transaction, and its
    // locks, behind with no one to end it.
    const all = async (): Promise<ExecuteResult[]> => {
      const settled = await Promise.allSettled(queries.map((q) => s.executeOnShard(q.rs, q.sql, opts.write, opts.tables)));
      const failed = settled.find((x): x is PromiseRejectedResult => x.status === 'rejected');
      if (failed) throw failed.reason;
      return settled.map((x, i) => {
        const r = (x as PromiseFulfilledResult<ExecuteResult>).value;
        if (r.warnings > 0) s.noteWarnings(queries[i].rs, r);
        return r;
      });
    };
    // A write to several shards is one statement, all of it or none, as in MariaDB: outside a
    // transaction it runs in one of its own, inside one behind a savepoint on every shard, rolled
    // back to when a shard fails (statementTransaction). Reads need neither.
    const results = opts.write ? await s.statementTransaction(all) : await all();
    answered(results);
    return results.map(toResult);
  }

  /** A lookup vindex's statements: in its pre/post transaction, or outside any (autocommit). */
  private async executeOrdered(queries: readonly ShardQuery[], opts: ExecuteMultiOptions): Promise<Result[]> {
    const s = this.session;
    const logged = this.log ? queries.map((q) => ({ keyspace: q.rs.keyspace, shard: q.rs.shard, tabletType: 'primary' as TabletType, tablet: '', sql: q.sql })) : null;
    if (logged) this.log!.push(...logged);
    const settled = await Promise.allSettled(queries.map((q) => s.executeOnShard(q.rs, q.sql, opts.write, opts.tables, this.order)));
    const failed = settled.find((x): x is PromiseRejectedResult => x.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.map((x, i) => {
      const r = (x as PromiseFulfilledResult<ExecuteResult>).value;
      if (logged) logged[i].tablet = r.tabletAlias;
      return toResult(r);
    });
  }

  async streamMulti(queries0: readonly ShardQuery[], opts: StreamMultiOptions, onChunk: (index: number, chunk: ShardChunk) => void | Promise<void>): Promise<void> {
    const s = this.session;
    const prefix = s.statementPrefix;
    const queries = prefix === null ? queries0 : queries0.map((q) => ({ ...q, sql: prefix + q.sql }));
    // One shard's failure (or its consumer's) cancels the others: each tablet kills its query.
    const own = new AbortController();
    const signal = own.signal;
    // The session's KILL QUERY and the caller's signal cancel it too (listeners removed after:
    // the session's signal outlives many statements).
    const sources = [s.signal, ...(opts.signal ? [opts.signal] : [])];
    const onAbort = (e: Event): void => {
      if (!own.signal.aborted) own.abort((e.target as AbortSignal).reason);
    };
    for (const src of sources) {
      if (src.aborted) own.abort(src.reason);
      else src.addEventListener('abort', onAbort, { once: true });
    }
    const logged = this.log ? queries.map((q) => ({ keyspace: q.rs.keyspace, shard: q.rs.shard, tabletType: this.tabletType, tablet: '', sql: q.sql })) : null;
    if (logged) this.log!.push(...logged);
    const one = async (q: ShardQuery, i: number): Promise<void> => {
      try {
        const alias = await s.streamOnShard(q.rs, q.sql, this.tabletType, opts.tables, signal, (chunk) => {
          // A consumer's failure cancels at once, rather than when the shard's stream ends.
          const failed = (err: unknown): never => {
            if (!own.signal.aborted) own.abort(err);
            throw err;
          };
          // Cancelled: refuse the chunk, so the tablet stops sending now rather than when its
          // query is killed in MariaDB (which takes a connection and a round trip).
          if (signal.aborted) return Promise.reject(signal.reason);
          try {
            const r = onChunk(i, chunk);
            return r instanceof Promise ? r.catch(failed) : r;
          } catch (err) {
            return failed(err);
          }
        });
        if (logged) logged[i].tablet = alias;
        opts.onEnd?.(i);
      } catch (err) {
        if (!own.signal.aborted) own.abort(err);
        throw err;
      }
    };
    let settled: PromiseSettledResult<void>[];
    try {
      settled = await Promise.allSettled(queries.map(one));
    } finally {
      for (const src of sources) src.removeEventListener('abort', onAbort);
    }
    // The first failure is the cause; the others are its cancellations.
    if (own.signal.aborted) throw own.signal.reason;
    const failed = settled.find((x): x is PromiseRejectedResult => x.status === 'rejected');
    if (failed) throw failed.reason;
  }

  nextSequenceValues(keyspace: string, table: string, n: number): Promise<bigint> {
    return this.session.core.sequences.next(keyspace, table, n);
  }
}

