// VStreamer over the network: `vs.vstream` and `vs.vstreamRows` on the source tablet's RPC port.
// Each message is one RPC stream chunk whose single blob is a vstream-codec message; requests are
// JSON meta (the lastPk of vstreamRows, which holds bigint and Buffer values, goes as a codec blob).
//
// Flow control is the RPC's credit window: the server sends at most streamWindowChunks messages
// before this client has handed them to the callback and the callback's promise has settled, so a
// slow target holds the source back instead of letting either side buffer.
//
// A VStreamerClient owns its own RpcClient, hence its own TCP connection: copy batches never queue
// behind the gate's point queries on the tablet's shared query-service connection.
import { ER, TesseraError } from '../mysql/errors.js';
import { LOST_CONNECTION, RpcClient, type Json, type Message, type RpcClientOptions, type RpcServer } from '../rpc/index.js';
import type { SqlValue } from '../mysql/values.js';
import type { Filter } from './filter.js';
import { decodeEvents, decodeRowsBatch, decodeValues, encodeEvents, encodeRowsBatch, encodeValues } from './vstream-codec.js';
import type { StreamEvent } from './row-streamer.js';
import type { CopyChunk, RowsBatch, VStreamer, VStreamRequest, VStreamRowsRequest } from './vstreamer.js';

/** Chunks one vstreamRows call may read at once (each holds a MariaDB connection on the source). */
export const CHUNKS_MAX = 64;

export const VSTREAMER_CLIENT_DEFAULTS = {
  /** Messages the source may send ahead of the callback (the RPC stream window). */
  streamWindowChunks: 8,
} as const;

function onlyBlob(m: Message): Buffer {
  if (m.blobs.length !== 1) throw new TesseraError(ER.NET_READ_ERROR, `vstream protocol error: a chunk carries ${m.blobs.length} blobs, not 1`);
  return m.blobs[0];
}

function badRequest(why: string): TesseraError {
  return new TesseraError(ER.WRONG_ARGUMENTS, `vstream request: ${why}`);
}

function asObject(m: Message): Record<string, unknown> {
  if (m.meta === null || typeof m.meta !== 'object' || Array.isArray(m.meta)) throw badRequest('meta must be a JSON object');
  return m.meta as Record<string, unknown>;
}

function asFilter(v: unknown): Filter {
  const f = v as { rules?: unknown } | null;
  if (f === null || typeof f !== 'object' || !Array.isArray(f.rules)) throw badRequest('filter must be {rules: [{match, filter}]}');
  return {
    rules: f.rules.map((r: unknown) => {
      const x = r as { match?: unknown; filter?: unknown } | null;
      if (x === null || typeof x !== 'object' || typeof x.match !== 'string' || typeof x.filter !== 'string') throw badRequest('each filter rule needs match and filter strings');
      return { match: x.match, filter: x.filter };
    }),
  };
}

function optCount(v: unknown, name: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw badRequest(`${name} must be a non-negative integer`);
  return v;
}

function optNames(v: unknown, name: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'string' || x === '')) throw badRequest(`${name} must be a non-empty list of table names`);
  return v as string[];
}

function filterJson(f: Filter): Json {
  return { rules: f.rules.map((r) => ({ match: r.match, filter: r.filter })) };
}

/** Serves a VStreamer (the tablet's LocalVStreamer) as `vs.vstream` and `vs.vstreamRows`. */
export function registerVStreamHandlers(server: RpcServer, vs: VStreamer): void {
  server.stream('vs.vstream', async (m, ctx, send) => {
    const x = asObject(m);
    if (typeof x.position !== 'string') throw badRequest('position must be a string');
    const req: VStreamRequest = {
      position: x.position,
      filter: asFilter(x.filter),
      heartbeatIntervalMs: optCount(x.heartbeatIntervalMs, 'heartbeatIntervalMs'),
      packetSizeMax: optCount(x.packetSizeMax, 'packetSizeMax'),
      keyOnlyBefore: x.keyOnlyBefore === true,
      rawAfterImages: x.rawAfterImages === true,
    };
    await vs.vstream(req, (events) => send({ meta: null, blobs: [encodeEvents(events)] }), ctx.signal);
  });
  server.stream('vs.vstreamRows', async (m, ctx, send) => {
    const x = asObject(m);
    if (typeof x.table !== 'string') throw badRequest('table must be a string');
    let lastPk: SqlValue[] | null = null;
    if (x.lastPk === true) {
      if (m.blobs.length !== 1) throw badRequest('lastPk: true needs one blob with the key values');
      lastPk = decodeValues(m.blobs[0]);
    }
    // Chunks: their bounds follow the lastPk blob (if any), two blobs per chunk, an empty row for
    // "none" (a key has at least one column).
    const chunkCount = optCount(x.chunks, 'chunks');
    let chunks: CopyChunk[] | undefined;
    if (chunkCount !== undefined) {
      if (chunkCount > CHUNKS_MAX) throw badRequest(`chunks: at most ${CHUNKS_MAX}`);
      const first = lastPk === null ? 0 : 1;
      if (m.blobs.length !== first + 2 * chunkCount) throw badRequest(`chunks: ${chunkCount} needs ${2 * chunkCount} blobs of bounds`);
      const bound = (i: number): SqlValue[] | null => {
        const v = decodeValues(m.blobs[first + i]);
        return v.length === 0 ? null : v;
      };
      chunks = [];
      for (let i = 0; i < chunkCount; i++) chunks.push({ lastPk: bound(2 * i), endPk: bound(2 * i + 1) });
    }
    const req: VStreamRowsRequest = {
      table: x.table,
      filter: asFilter(x.filter),
      lastPk,
      batchRowsMax: optCount(x.batchRowsMax, 'batchRowsMax'),
      batchBytesMax: optCount(x.batchBytesMax, 'batchBytesMax'),
      rowsMax: optCount(x.rowsMax, 'rowsMax'),
      chunks,
      sampleChunks: optCount(x.sampleChunks, 'sampleChunks'),
      sampleRowsMin: optCount(x.sampleRowsMin, 'sampleRowsMin'),
      tables: optNames(x.tables, 'tables'),
    };
    await vs.vstreamRows(req, (b) => send({ meta: null, blobs: [encodeRowsBatch(b)] }), ctx.signal);
  });
}

export class VStreamerClient implements VStreamer {
  readonly rpc: RpcClient;

  constructor(host: string, port: number, opts: RpcClientOptions = {}) {
    this.rpc = new RpcClient(host, port, { ...VSTREAMER_CLIENT_DEFAULTS, ...opts });
  }

  async vstream(req: VStreamRequest, onEvents: (events: readonly StreamEvent[]) => Promise<void>, signal: AbortSignal): Promise<void> {
    const meta: Json = { position: req.position, filter: filterJson(req.filter), heartbeatIntervalMs: req.heartbeatIntervalMs ?? null, packetSizeMax: req.packetSizeMax ?? null, keyOnlyBefore: req.keyOnlyBefore === true, rawAfterImages: req.rawAfterImages === true };
    await this.run(signal, () => this.rpc.stream('vs.vstream', meta, (m) => onEvents(decodeEvents(onlyBlob(m))), [], { signal }));
  }

  async vstreamRows(req: VStreamRowsRequest, onBatch: (batch: RowsBatch) => Promise<void>, signal: AbortSignal): Promise<void> {
    const meta: Json = {
      table: req.table,
      filter: filterJson(req.filter),
      lastPk: req.lastPk !== null,
      batchRowsMax: req.batchRowsMax ?? null,
      batchBytesMax: req.batchBytesMax ?? null,
      rowsMax: req.rowsMax ?? null,
      chunks: req.chunks?.length ?? null,
      sampleChunks: req.sampleChunks ?? null,
      sampleRowsMin: req.sampleRowsMin ?? null,
      tables: req.tables ? [...req.tables] : null,
    };
    const blobs = req.lastPk !== null ? [encodeValues(req.lastPk)] : [];
    for (const c of req.chunks ?? []) blobs.push(encodeValues(c.lastPk ?? []), encodeValues(c.endPk ?? []));
    await this.run(signal, () => this.rpc.stream('vs.vstreamRows', meta, (m) => onBatch(decodeRowsBatch(onlyBlob(m))), blobs, { signal }));
  }

  close(): void {
    this.rpc.close();
  }

  private async run(signal: AbortSignal, call: () => Promise<Message>): Promise<void> {
    if (signal.aborted) return;
    try {
      await call();
    } catch (err) {
      if (signal.aborted) return;
      // A tablet that cannot be reached or dropped the connection: the caller picks another.
      if (err instanceof TesseraError && err.kind === undefined && (err.errno === ER.CONN_ERROR.errno || err.errno === LOST_CONNECTION.errno)) {
        throw new TesseraError(err, err.message, { cause: err, kind: 'UNAVAILABLE' });
      }
      throw err;
    }
  }
}
