// The tablet's side of the network: QueryService and TabletManager calls over src/rpc. Method names
// and message shapes are documented in docs/rpc.md; TabletConn (QueryService) and
// RpcTabletManagerClient (tablet manager, from the table in tablet-manager-methods.ts) are the
// matching clients.
import type { ColumnDefinition } from '../mysql/protocol.js';
import { ER, TesseraError } from '../mysql/errors.js';
import type { Json, Message } from '../rpc/index.js';
import { RpcServer, type CallContext, type RpcConnection, type RpcServerOptions } from '../rpc/index.js';
import { logger } from '../log/index.js';
import type { TabletType } from '../topo/index.js';
import type { BindVars, ExecuteOptions, ExecuteResult, QueryResult, QueryService, Target, Warning } from './query-service.js';
import type { TabletManager } from './tablet-manager.js';
import { registerTabletManager } from './tablet-manager-methods.js';
import type { TabletServer } from './tablet-server.js';
import { registerVStreamHandlers, type VStreamer } from '../vreplication/index.js';
import { decodeExecuteRequest, encodeExecuteReply, fieldsFromBlob, fieldsToJson, moreFromJson, moreToJson, type FieldsCache, type MoreJson } from './execute-codec.js';
import { FRAME_HEADER_BYTES } from '../rpc/frame.js';

export { fieldsToJson, fieldsFromJson, type FieldsCache } from './execute-codec.js';

const log = logger('tablet', { part: 'rpc' });

export interface ExecuteRequest {
  target: Target;
  sql: string;
  bindVars: BindVars | null;
  options: Omit<ExecuteOptions, 'signal'>;
}

function obj(m: Message): Record<string, unknown> {
  if (!m.meta || typeof m.meta !== 'object' || Array.isArray(m.meta)) throw new TesseraError(ER.WRONG_ARGUMENTS, 'rpc request must be a JSON object');
  return m.meta as Record<string, unknown>;
}

function asTarget(v: unknown): Target {
  const t = v as Partial<Target> | null;
  if (!t || typeof t.keyspace !== 'string' || typeof t.shard !== 'string' || typeof t.tabletType !== 'string') {
    throw new TesseraError(ER.WRONG_ARGUMENTS, 'rpc request needs target {keyspace, shard, tabletType}');
  }
  return { keyspace: t.keyspace, shard: t.shard, tabletType: t.tabletType as TabletType };
}

/**
 * The column definitions of a qs.execute reply, as the JSON text carried in its first blob. The
 * text is kept per array (a tablet's connection hands out the same array for the same statement:
 * ResultHost.columnCache) with the collations it was made from, which a schema reload may change.
 */
const fieldsBlobs = new WeakMap<readonly ColumnDefinition[], { readonly collations: readonly (number | undefined)[]; readonly blob: Buffer }>();

export function fieldsBlob(fields: readonly ColumnDefinition[]): Buffer {
  // Checked on every reply: a schema reload may have changed a column's collation in place.
  const c = fieldsBlobs.get(fields);
  if (c !== undefined && sameCollations(fields, c.collations)) return c.blob;
  const blob = Buffer.from(JSON.stringify(fieldsToJson(fields)), 'utf8');
  fieldsBlobs.set(fields, { collations: fields.map((f) => f.collation), blob });
  return blob;
}

/** A loop, not every(): this runs for every reply. */
function sameCollations(fields: readonly ColumnDefinition[], collations: readonly (number | undefined)[]): boolean {
  if (fields.length !== collations.length) return false;
  for (let i = 0; i < fields.length; i++) if (fields[i].collation !== collations[i]) return false;
  return true;
}

/** qs.execute's reply meta (everything but the fields, which travel in the first blob). */
export function resultMeta(r: QueryResult & Partial<Pick<ExecuteResult, 'transactionId' | 'tabletAlias' | 'more'>>): Json {
  return {
    rowsAffected: r.rowsAffected,
    insertId: r.insertId,
    warnings: r.warnings,
    info: r.info,
    transactionId: r.transactionId ?? 0,
    tabletAlias: r.tabletAlias ?? '',
    ...(r.warningList ? { warningList: r.warningList as unknown as Json } : {}),
    // A CALL's further results (rare): in the meta, rows base64.
    ...(r.more ? { more: moreToJson(r.more) as unknown as Json } : {}),
    ...(r.binaryRows ? { binaryRows: true } : {}),
  };
}

/**
 * qs.execute with JSON meta: what gates before qs.executeBinary call, and what a gate falls back
 * to against a tablet from before it (TabletConn). Blob 0 is the fields' JSON, then the rows.
 */
export function registerJsonExecute(
  s: RpcServer,
  qs: Pick<QueryService, 'execute'>,
  run: (target: Target, sql: string, bindVars: BindVars | null, opts: ExecuteOptions, ctx: CallContext) => Promise<ExecuteResult> = (t, sql, b, o) => qs.execute(t, sql, b, o),
): void {
  s.unary('qs.execute', async (m, ctx) => {
    const x = obj(m);
    const r = await run(asTarget(x.target), String(x.sql), (x.bindVars ?? null) as BindVars | null, { ...((x.options ?? {}) as ExecuteOptions), signal: ctx.cancel }, ctx);
    return { meta: resultMeta(r), blobs: [fieldsBlob(r.fields), ...r.rows] };
  });
}

/** A JSON qs.execute reply as a result (the fields through `cache`, as qs.executeBinary's). */
export function resultFromJsonMessage(m: Message, cache: FieldsCache): ExecuteResult {
  const x = obj(m);
  const blob = m.blobs[0];
  if (blob === undefined) throw new TesseraError(ER.NET_READ_ERROR, 'rpc protocol error: qs.execute reply without its fields blob');
  const out: { -readonly [K in keyof ExecuteResult]: ExecuteResult[K] } = {
    fields: fieldsFromBlob(blob, cache),
    rows: m.blobs.slice(1),
    rowsAffected: x.rowsAffected as number,
    insertId: x.insertId as number | string,
    warnings: x.warnings as number,
    info: x.info as string,
    transactionId: x.transactionId as number,
    tabletAlias: x.tabletAlias as string,
  };
  if (Array.isArray(x.warningList)) out.warningList = x.warningList as unknown as Warning[];
  if (Array.isArray(x.more)) out.more = moreFromJson(x.more as unknown as MoreJson);
  if (x.binaryRows === true) out.binaryRows = true;
  return out;
}

/**
 * Transactions tied to the connection of the gate that runs them: when that connection closes (the
 * gate died, or lost the tablet), nobody can commit or roll them back, and their row locks would
 * hold every other client until the idle-transaction timeout (30 s). They are rolled back when it
 * closes; a gate that reconnected and used a transaction since owns it on the new connection.
 */
class TransactionOwners {
  private readonly owner = new Map<number, RpcConnection>();
  private readonly byConn = new Map<RpcConnection, Set<number>>();

  constructor(private readonly qs: TabletServer) {}

  /** `id` is used (begun, or a statement ran in it) over `conn`. */
  use(id: number, conn: RpcConnection): void {
    const cur = this.owner.get(id);
    if (cur === conn) return;
    if (cur) this.byConn.get(cur)?.delete(id);
    if (!conn.open) {
      this.owner.delete(id);
      void this.qs.abandonTransaction(id, 'the connection of the gate that runs it closed');
      return;
    }
    this.owner.set(id, conn);
    let ids = this.byConn.get(conn);
    if (!ids) {
      ids = new Set();
      this.byConn.set(conn, ids);
      conn.onClose(() => this.closed(conn));
    }
    ids.add(id);
  }

  /** `id` ended (committed, rolled back). */
  end(id: number): void {
    const cur = this.owner.get(id);
    if (!cur) return;
    this.owner.delete(id);
    this.byConn.get(cur)?.delete(id);
  }

  private closed(conn: RpcConnection): void {
    const ids = this.byConn.get(conn);
    this.byConn.delete(conn);
    for (const id of ids ?? []) {
      if (this.owner.get(id) !== conn) continue;
      this.owner.delete(id);
      void this.qs.abandonTransaction(id, 'the connection of the gate that runs it closed');
    }
  }
}

/** Rolls back `transactionId` if the caller never takes the answer that names it (CallContext.onUnseen). */
function rollbackUnseen(qs: TabletServer, target: unknown, transactionId: number, ctx: CallContext): void {
  ctx.onUnseen(() => {
    qs.rollback(asTarget(target), transactionId).then(
      () => log.info({ transactionId }, 'rolled back a transaction whose caller gave up on the statement that began it'),
      (err: Error) => log.warn({ transactionId, err: err.message }, 'rolling back a transaction whose caller gave up on it failed (the idle-transaction timeout ends it)'),
    );
  });
}

/**
 * A statement of the gate's (qs.execute in either encoding), with the transaction bookkeeping above:
 * the transaction it runs in belongs to the caller's connection, and one it began is rolled back
 * if the caller never takes the answer (its client went away mid-statement: it could never end it,
 * and its locks would stay until the idle-transaction timeout).
 */
async function executeOwned(qs: TabletServer, owners: TransactionOwners, target: Target, sql: string, bindVars: BindVars | null, opts: ExecuteOptions, ctx: CallContext): Promise<ExecuteResult> {
  let r: ExecuteResult;
  try {
    r = await qs.execute(target, sql, bindVars, opts);
  } catch (err) {
    // A transaction the tablet ended (idle timeout, its connection broke) is nobody's any more.
    if (opts.transactionId && err instanceof TesseraError && err.kind === 'ABORTED') owners.end(opts.transactionId);
    throw err;
  }
  if (opts.begin && r.transactionId && r.transactionId !== opts.transactionId) rollbackUnseen(qs, target, r.transactionId, ctx);
  if (r.transactionId) owners.use(r.transactionId, ctx.connection);
  return r;
}

/**
 * An RPC server exposing a tablet's QueryService (`qs.*`), TabletManager (`tm.*`) and, when given,
 * its VStreamer (`vs.*`, see src/vreplication/vstreamer-client.ts).
 */
export function tabletRpcServer(qs: TabletServer, tm: TabletManager, opts: RpcServerOptions = {}, vs?: VStreamer): RpcServer {
  const s = new RpcServer(opts);
  const owners = new TransactionOwners(qs);
  if (vs) registerVStreamHandlers(s, vs);
  // The gate's call (TabletConn.execute): binary both ways (execute-codec.ts), and the call's own
  // cancellation instead of an AbortSignal.
  s.binaryUnary('qs.executeBinary', async (body, offset, ctx) => {
    const x = decodeExecuteRequest(body, offset);
    x.opts.signal = ctx.cancel;
    const r = await executeOwned(qs, owners, x.target, x.sql, x.bindVars, x.opts, ctx);
    return encodeExecuteReply(FRAME_HEADER_BYTES, r, fieldsBlob(r.fields), r.more ? JSON.stringify(moreToJson(r.more)) : null);
  });
  registerJsonExecute(s, qs, (target, sql, bindVars, opts, ctx) => executeOwned(qs, owners, target, sql, bindVars, opts, ctx));
  s.stream('qs.streamExecute', async (m, ctx, send) => {
    const x = obj(m);
    await qs.streamExecute(
      asTarget(x.target),
      String(x.sql),
      (x.bindVars ?? null) as BindVars | null,
      (chunk) => send({ meta: chunk.fields ? { fields: fieldsToJson(chunk.fields) as Json } : null, blobs: chunk.rows }),
      { ...((x.options ?? {}) as ExecuteOptions), signal: ctx.cancel },
    );
  });
  s.unary('qs.begin', async (m, ctx) => {
    const x = obj(m);
    const r = await qs.begin(asTarget(x.target), {
      reservedId: typeof x.reservedId === 'number' ? x.reservedId : undefined,
      beginStatement: typeof x.beginStatement === 'string' ? x.beginStatement : undefined,
      clientFoundRows: x.clientFoundRows === true,
    });
    rollbackUnseen(qs, x.target, r.transactionId, ctx);
    owners.use(r.transactionId, ctx.connection);
    return { meta: r as unknown as Json };
  });
  s.unary('qs.commit', async (m) => {
    const x = obj(m);
    try {
      await qs.commit(asTarget(x.target), x.transactionId as number);
    } finally {
      owners.end(x.transactionId as number);
    }
    return { meta: null };
  });
  s.unary('qs.rollback', async (m) => {
    const x = obj(m);
    try {
      await qs.rollback(asTarget(x.target), x.transactionId as number);
    } finally {
      owners.end(x.transactionId as number);
    }
    return { meta: null };
  });
  s.unary('qs.reserve', async (m) => {
    const x = obj(m);
    const r = await qs.reserve(asTarget(x.target), { settings: (x.settings ?? []) as string[], clientFoundRows: x.clientFoundRows === true });
    return { meta: r as unknown as Json };
  });
  s.unary('qs.release', async (m) => {
    const x = obj(m);
    await qs.release(asTarget(x.target), x.id as number);
    return { meta: null };
  });
  s.stream('qs.streamHealth', async (_m, ctx, send) => {
    let queue = Promise.resolve();
    await qs.streamHealth((h) => {
      queue = queue.then(() => send({ meta: h as unknown as Json })).catch(() => undefined);
    }, ctx.signal);
  });
  registerTabletManager(s, tm);
  return s;
}
