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
import type { BindVars, ExecuteOptions, ExecuteResult, MoreResult, QueryResult, Target, Warning } from './query-service.js';
import type { TabletManager } from './tablet-manager.js';
import { registerTabletManager } from './tablet-manager-methods.js';
import type { TabletServer } from './tablet-server.js';
import { registerVStreamHandlers, type VStreamer } from '../vreplication/index.js';

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

/** Column definitions as JSON: MariaDB's extended metadata bytes travel as base64. */
export function fieldsToJson(fields: readonly ColumnDefinition[]): Json {
  return fields.map((f) => (f.extendedMetadata ? { ...f, extendedMetadata: f.extendedMetadata.toString('base64') } : f)) as unknown as Json;
}

export function fieldsFromJson(j: unknown): ColumnDefinition[] {
  return ((j ?? []) as (Omit<ColumnDefinition, 'extendedMetadata'> & { extendedMetadata?: string })[]).map((f) =>
    typeof f.extendedMetadata === 'string' ? { ...f, extendedMetadata: Buffer.from(f.extendedMetadata, 'base64') } : (f as ColumnDefinition),
  );
}

/**
 * The column definitions of a qs.execute reply, as the JSON text carried in its first blob. The
 * text is kept per array (a tablet's connection hands out the same array for the same statement:
 * ResultHost.columnCache) with the collations it was made from, which a schema reload may change.
 */
const fieldsBlobs = new WeakMap<readonly ColumnDefinition[], { readonly collations: readonly (number | undefined)[]; readonly blob: Buffer }>();

export function fieldsBlob(fields: readonly ColumnDefinition[]): Buffer {
  const c = fieldsBlobs.get(fields);
  if (c !== undefined && c.collations.length === fields.length && fields.every((f, i) => f.collation === c.collations[i])) return c.blob;
  const blob = Buffer.from(JSON.stringify(fieldsToJson(fields)), 'utf8');
  fieldsBlobs.set(fields, { collations: fields.map((f) => f.collation), blob });
  return blob;
}

/** The last fields blob a connection received and its definitions (see TabletConn). */
export interface FieldsCache {
  blob: Buffer | null;
  fields: ColumnDefinition[];
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
    ...(r.more ? { more: r.more.map((x) => ({ ...x, fields: fieldsToJson(x.fields), rows: x.rows.map((b) => b.toString('base64')) })) as unknown as Json } : {}),
  };
}

/**
 * A qs.execute reply: blob 0 is the fields' JSON, the rest are rows. The same fields bytes as the
 * last reply on this connection give the same definitions (the same array), without parsing.
 */
export function resultFromMessage(m: Message, cache: FieldsCache): ExecuteResult {
  const x = obj(m);
  const blob = m.blobs[0];
  if (blob === undefined) throw new TesseraError(ER.NET_READ_ERROR, 'rpc protocol error: qs.execute reply without its fields blob');
  let fields: ColumnDefinition[];
  if (cache.blob !== null && cache.blob.equals(blob)) fields = cache.fields;
  else {
    fields = fieldsFromJson(JSON.parse(blob.toString('utf8')));
    cache.blob = blob;
    cache.fields = fields;
  }
  return {
    fields,
    rows: m.blobs.slice(1),
    rowsAffected: x.rowsAffected as number,
    insertId: x.insertId as number | string,
    warnings: x.warnings as number,
    info: x.info as string,
    transactionId: x.transactionId as number,
    tabletAlias: x.tabletAlias as string,
    ...(Array.isArray(x.warningList) ? { warningList: x.warningList as unknown as Warning[] } : {}),
    ...(Array.isArray(x.more) ? { more: (x.more as unknown as (Omit<MoreResult, 'fields' | 'rows'> & { fields: unknown; rows: string[] })[]).map((y) => ({ ...y, fields: fieldsFromJson(y.fields), rows: y.rows.map((s) => Buffer.from(s, 'base64')) })) } : {}),
  };
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
 * An RPC server exposing a tablet's QueryService (`qs.*`), TabletManager (`tm.*`) and, when given,
 * its VStreamer (`vs.*`, see src/vreplication/vstreamer-client.ts).
 */
export function tabletRpcServer(qs: TabletServer, tm: TabletManager, opts: RpcServerOptions = {}, vs?: VStreamer): RpcServer {
  const s = new RpcServer(opts);
  const owners = new TransactionOwners(qs);
  if (vs) registerVStreamHandlers(s, vs);
  s.unary('qs.execute', async (m, ctx) => {
    const x = obj(m);
    const opts = (x.options ?? {}) as ExecuteOptions;
    let r: ExecuteResult;
    try {
      r = await qs.execute(asTarget(x.target), String(x.sql), (x.bindVars ?? null) as BindVars | null, { ...opts, signal: ctx.signal });
    } catch (err) {
      // A transaction the tablet ended (idle timeout, its connection broke) is nobody's any more.
      if (opts.transactionId && err instanceof TesseraError && err.kind === 'ABORTED') owners.end(opts.transactionId);
      throw err;
    }
    // A transaction this call began is known only from its answer: if the caller gave up on the
    // call (its client went away mid-statement) it can never end it, and its locks would stay
    // until the idle-transaction timeout. Rolled back instead.
    if (opts.begin && r.transactionId && r.transactionId !== opts.transactionId) rollbackUnseen(qs, x.target, r.transactionId, ctx);
    if (r.transactionId) owners.use(r.transactionId, ctx.connection);
    return { meta: resultMeta(r), blobs: [fieldsBlob(r.fields), ...r.rows] };
  });
  s.stream('qs.streamExecute', async (m, ctx, send) => {
    const x = obj(m);
    await qs.streamExecute(
      asTarget(x.target),
      String(x.sql),
      (x.bindVars ?? null) as BindVars | null,
      (chunk) => send({ meta: chunk.fields ? { fields: fieldsToJson(chunk.fields) } : null, blobs: chunk.rows }),
      { ...((x.options ?? {}) as ExecuteOptions), signal: ctx.signal },
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
