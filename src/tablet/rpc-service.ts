// The tablet's side of the network: QueryService and TabletManager calls over src/rpc. Method names
// and message shapes are documented in docs/rpc.md; TabletConn (QueryService) and
// RpcTabletManagerClient (tablet manager, from the table in tablet-manager-methods.ts) are the
// matching clients.
import type { ColumnDefinition } from '../mysql/protocol.js';
import { ER, TesseraError } from '../mysql/errors.js';
import type { Json, Message } from '../rpc/index.js';
import { RpcServer, type RpcServerOptions } from '../rpc/index.js';
import type { TabletType } from '../topo/index.js';
import type { BindVars, ExecuteOptions, ExecuteResult, QueryResult, QueryService, Target, Warning } from './query-service.js';
import type { TabletManager } from './tablet-manager.js';
import { registerTabletManager } from './tablet-manager-methods.js';
import type { TabletServer } from './tablet-server.js';
import { registerVStreamHandlers, type VStreamer } from '../vreplication/index.js';
import { decodeExecuteRequest, encodeExecuteReply, fieldsFromBlob, fieldsToJson, moreFromJson, moreToJson, type FieldsCache, type MoreJson } from './execute-codec.js';
import { FRAME_HEADER_BYTES } from '../rpc/frame.js';

export { fieldsToJson, fieldsFromJson, type FieldsCache } from './execute-codec.js';

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
  };
}

/**
 * qs.execute with JSON meta: what gates before qs.executeBinary call, and what a gate falls back
 * to against a tablet from before it (TabletConn). Blob 0 is the fields' JSON, then the rows.
 */
export function registerJsonExecute(s: RpcServer, qs: Pick<QueryService, 'execute'>): void {
  s.unary('qs.execute', async (m, ctx) => {
    const x = obj(m);
    const r = await qs.execute(asTarget(x.target), String(x.sql), (x.bindVars ?? null) as BindVars | null, {
      ...((x.options ?? {}) as ExecuteOptions),
      signal: ctx.cancel,
    });
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
  return out;
}

/**
 * An RPC server exposing a tablet's QueryService (`qs.*`), TabletManager (`tm.*`) and, when given,
 * its VStreamer (`vs.*`, see src/vreplication/vstreamer-client.ts).
 */
export function tabletRpcServer(qs: TabletServer, tm: TabletManager, opts: RpcServerOptions = {}, vs?: VStreamer): RpcServer {
  const s = new RpcServer(opts);
  if (vs) registerVStreamHandlers(s, vs);
  // The gate's call (TabletConn.execute): binary both ways (execute-codec.ts), and the call's own
  // cancellation instead of an AbortSignal.
  s.binaryUnary('qs.executeBinary', async (body, offset, ctx) => {
    const x = decodeExecuteRequest(body, offset);
    x.opts.signal = ctx.cancel;
    const r = await qs.execute(x.target, x.sql, x.bindVars, x.opts);
    return encodeExecuteReply(FRAME_HEADER_BYTES, r, fieldsBlob(r.fields), r.more ? JSON.stringify(moreToJson(r.more)) : null);
  });
  registerJsonExecute(s, qs);
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
  s.unary('qs.begin', async (m) => {
    const x = obj(m);
    const r = await qs.begin(asTarget(x.target), {
      reservedId: typeof x.reservedId === 'number' ? x.reservedId : undefined,
      beginStatement: typeof x.beginStatement === 'string' ? x.beginStatement : undefined,
      clientFoundRows: x.clientFoundRows === true,
    });
    return { meta: r as unknown as Json };
  });
  s.unary('qs.commit', async (m) => {
    const x = obj(m);
    await qs.commit(asTarget(x.target), x.transactionId as number);
    return { meta: null };
  });
  s.unary('qs.rollback', async (m) => {
    const x = obj(m);
    await qs.rollback(asTarget(x.target), x.transactionId as number);
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
