// Streaming: how a primitive's rows reach the client as its inputs produce them (Vitess's
// TryStreamExecute), and how a route merges the streams of its shards.
//
// Memory stays bounded by chunks, not by the result: each shard holds back until the chunk it sent
// has been passed on (the promise its callback returns), so at most about one chunk per shard waits
// at the gate, plus what the tablet connection has in flight (the RPC stream window, or nothing
// in-process). A consumer that says 'stop' (LIMIT) makes the route cancel its shard queries.
import { ER, TesseraError } from '../../mysql/index.js';
import { rowsLimitError } from '../errors.js';
import type { ColumnDefinition } from '../../mysql/index.js';
import type { BindVars, Primitive, ResolvedShard, Result, ResultChunk, Row, ShardChunk, ShardQuery, StreamCallback, VCursor } from '../types.js';
import { splitRow, withCollationHints, type CollationHint } from '../values.js';
import { rowComparator, type OrderByOffset } from './route.js';

/** Rows the ordered merge passes on per chunk. */
export const MERGE_CHUNK_ROWS = 256;

/** Streams a primitive: its own `stream` when it has one, else its whole result as one chunk. */
export async function streamPrimitive(p: Primitive, vc: VCursor, bindVars: BindVars, onChunk: StreamCallback): Promise<void> {
  if (p.stream) return p.stream(vc, bindVars, onChunk);
  const r = await p.execute(vc, bindVars);
  await onChunk({ fields: r.fields, rows: r.rows, raw: r.rows === null ? r.raw : null });
}

/** How many rows a chunk holds. */
export function chunkLength(c: ResultChunk): number {
  return c.rows !== null ? c.rows.length : c.raw !== null ? c.raw.length : 0;
}

/** A chunk's rows as cells. */
export function chunkRows(c: ResultChunk, columns: number): readonly Row[] {
  if (c.rows !== null) return c.rows;
  return (c.raw ?? []).map((p) => splitRow(p, columns));
}

export interface ShardStreamSpec {
  readonly queries: readonly ShardQuery[];
  readonly tables?: readonly string[];
  /** Hidden columns at the end of each row, cut before the caller sees them. */
  readonly hidden: number;
  /** Merge the shards' rows in this order (each shard sends its rows in it); none = as they come. */
  readonly orderBy?: readonly OrderByOffset[];
  readonly collationHints?: readonly CollationHint[];
}

/**
 * Runs the shard queries as streams and hands their rows to `onChunk`: concatenated as they arrive,
 * or merged in `orderBy` order. Resolves when every shard has finished, or when `onChunk` said
 * 'stop' and the shard queries were cancelled.
 */
export async function streamShards(vc: VCursor, spec: ShardStreamSpec, onChunk: StreamCallback): Promise<void> {
  if (spec.queries.length === 0) {
    await onChunk({ fields: [], rows: [], raw: null });
    return;
  }
  const abort = new AbortController();
  let stopped = false;
  let failure: { err: unknown } | null = null;
  /** Passes a chunk on; a 'stop' or an error cancels every shard (each tablet kills its query). */
  const forward = async (chunk: ResultChunk): Promise<void> => {
    if (stopped || failure) return;
    try {
      if ((await onChunk(chunk)) === 'stop') {
        stopped = true;
        abort.abort(new TesseraError(ER.QUERY_INTERRUPTED, 'the gate had every row it needed (LIMIT)'));
      }
    } catch (err) {
      failure = { err };
      abort.abort(err);
    }
  };
  const run = spec.orderBy && spec.orderBy.length > 0 && spec.queries.length > 1 ? mergeOrdered(vc, spec, forward, abort) : concat(vc, spec, forward, abort.signal);
  try {
    await run;
  } catch (err) {
    // A shard failed: the others are cancelled. A cancellation the consumer caused is no error.
    if (!stopped && !failure) {
      abort.abort(err);
      throw err;
    }
  }
  if (failure) throw (failure as { err: unknown }).err;
}

function cutHidden(fields: readonly ColumnDefinition[], hidden: number): readonly ColumnDefinition[] {
  return hidden > 0 ? fields.slice(0, fields.length - hidden) : fields;
}

/** Shards' rows as they arrive; calls to `forward` never overlap and each shard waits for its own. */
async function concat(vc: VCursor, spec: ShardStreamSpec, forward: (c: ResultChunk) => Promise<void>, signal: AbortSignal): Promise<void> {
  let chain: Promise<void> = Promise.resolve();
  let sentFields = false;
  let columns = 0;
  const hidden = spec.hidden;
  const onShard = (_i: number, chunk: ShardChunk): Promise<void> => {
    const next = chain.then(async () => {
      let fields: readonly ColumnDefinition[] | undefined;
      if (!sentFields) {
        if (!chunk.fields) throw new Error('a shard stream began without its fields');
        sentFields = true;
        columns = chunk.fields.length;
        fields = cutHidden(chunk.fields, hidden);
      } else if (chunk.rows.length === 0) return;
      if (hidden > 0) {
        const keep = columns - hidden;
        await forward({ fields, rows: chunk.rows.map((p) => splitRow(p, columns).slice(0, keep)), raw: null });
      } else await forward({ fields, rows: null, raw: chunk.rows });
    });
    chain = next.catch(() => undefined);
    return next;
  };
  try {
    await vc.streamMulti(spec.queries, { tables: spec.tables, signal }, onShard);
  } finally {
    await chain;
  }
}

/**
 * One shard's rows for the ordered merge: the shard's callback parks its chunk here and waits until
 * the merge has taken every row of it.
 */
class ShardQueue {
  fields: readonly ColumnDefinition[] | null = null;
  private chunk: readonly Buffer[] | null = null;
  private pos = 0;
  private done = false;
  private error: { err: unknown } | null = null;
  private dropped = false;
  /** The merge waits for this shard's next chunk (or its end). */
  private wake: (() => void) | null = null;
  /** The shard waits for the merge to take its chunk. */
  private release: (() => void) | null = null;

  constructor(readonly shard: ResolvedShard) {}

  /** Called by the shard's stream. */
  push(chunk: ShardChunk): Promise<void> {
    if (chunk.fields && this.fields === null) this.fields = chunk.fields;
    if (this.dropped || (chunk.rows.length === 0 && !chunk.fields)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.chunk = chunk.rows;
      this.pos = 0;
      this.release = resolve;
      this.wakeMerge();
    });
  }

  end(error: unknown | null): void {
    this.done = true;
    if (error !== null) this.error = { err: error };
    this.wakeMerge();
  }

  /** Lets a waiting shard go (the merge is abandoned). */
  drop(): void {
    this.dropped = true;
    this.chunk = null;
    const r = this.release;
    this.release = null;
    r?.();
  }

  private wakeMerge(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /**
   * The next row payload, waiting for the shard when its chunk is used up; null at its end.
   * Synchronous (a payload, not a promise) while the current chunk has rows.
   */
  next(): Buffer | null | Promise<Buffer | null> {
    const c = this.chunk;
    if (c !== null && this.pos < c.length) return c[this.pos++];
    return this.refill();
  }

  private async refill(): Promise<Buffer | null> {
    for (;;) {
      const c = this.chunk;
      if (c !== null && this.pos < c.length) return c[this.pos++];
      if (c !== null) {
        // Every row of the chunk is taken: the shard may send its next one.
        this.chunk = null;
        const r = this.release;
        this.release = null;
        r?.();
      }
      if (this.error) throw this.error.err;
      if (this.done) return null;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}

interface Head {
  readonly queue: number;
  readonly payload: Buffer;
  readonly cells: Row;
}

/**
 * The ordered merge of the shards' streams (each sorted by the shard): a binary heap of one row
 * per shard; the smallest goes out, and its shard's next row takes its place.
 */
async function mergeOrdered(vc: VCursor, spec: ShardStreamSpec, forward: (c: ResultChunk) => Promise<void>, abort: AbortController): Promise<void> {
  const queues = spec.queries.map((q) => new ShardQueue(q.rs));
  let failed: { err: unknown } | null = null;
  const streaming = vc.streamMulti(spec.queries, { tables: spec.tables, signal: abort.signal, onEnd: (i) => queues[i].end(null) }, (i, chunk) => queues[i].push(chunk)).then(
    () => queues.forEach((q) => q.end(null)),
    (err: unknown) => {
      failed = { err };
      queues.forEach((q) => q.end(err));
    },
  );
  let merged = false;
  try {
    await mergeQueues(queues, spec, forward, abort.signal);
    merged = true;
  } finally {
    if (!merged && !abort.signal.aborted) abort.abort(new TesseraError(ER.QUERY_INTERRUPTED, 'the ordered merge failed'));
    // Abandoned (an error, a stop): every shard's callback returns at once so the streams can end.
    for (const q of queues) q.drop();
    await streaming;
  }
  if (failed) throw (failed as { err: unknown }).err;
}

async function mergeQueues(queues: ShardQueue[], spec: ShardStreamSpec, forward: (c: ResultChunk) => Promise<void>, signal: AbortSignal): Promise<void> {
  const first: (Buffer | null)[] = [];
  for (const q of queues) first.push(await q.next());
  const withFields = queues.find((q) => q.fields !== null);
  if (!withFields) throw new Error('shard streams ended without fields');
  const allFields = withFields.fields!;
  const columns = allFields.length;
  const hidden = spec.hidden;
  const keep = columns - hidden;
  const heap: Head[] = [];
  for (let i = 0; i < queues.length; i++) {
    const p = first[i];
    if (p !== null) heap.push({ queue: i, payload: p, cells: splitRow(p, columns) });
  }
  const order = spec.orderBy!.map((o) => ({ offset: o.offset < 0 ? columns + o.offset : o.offset, desc: o.desc }));
  const cmpFields = withCollationHints(allFields, heap.map((h) => h.cells), spec.collationHints);
  const rowCmp = rowComparator(order, cmpFields);
  // Ties keep shard order, so equal keys come out as the buffered merge sorts them.
  const less = (a: Head, b: Head): boolean => {
    const c = rowCmp(a.cells, b.cells);
    return c < 0 || (c === 0 && a.queue < b.queue);
  };
  const siftDown = (i0: number): void => {
    let i = i0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(heap[l], heap[m])) m = l;
      if (r < heap.length && less(heap[r], heap[m])) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  };
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) siftDown(i);

  let fields: readonly ColumnDefinition[] | undefined = cutHidden(allFields, hidden);
  let out: Buffer[] = [];
  let outRows: Row[] = [];
  const flush = async (): Promise<void> => {
    const chunk: ResultChunk = hidden > 0 ? { fields, rows: outRows, raw: null } : { fields, rows: null, raw: out };
    fields = undefined;
    out = [];
    outRows = [];
    await forward(chunk);
  };
  while (heap.length > 0) {
    if (signal.aborted) return;
    const top = heap[0];
    if (hidden > 0) outRows.push(top.cells.slice(0, keep));
    else out.push(top.payload);
    let next = queues[top.queue].next();
    if (next instanceof Promise) {
      // The shard's chunk is used up: pass on what is merged before waiting for it.
      if (out.length + outRows.length > 0) await flush();
      next = await next;
    }
    if (next === null) {
      const last = heap.pop()!;
      if (heap.length > 0 && last !== top) {
        heap[0] = last;
        siftDown(0);
      }
    } else {
      heap[0] = { queue: top.queue, payload: next, cells: splitRow(next, columns) };
      siftDown(0);
    }
    if (out.length + outRows.length >= MERGE_CHUNK_ROWS) await flush();
  }
  if (fields !== undefined || out.length + outRows.length > 0) await flush();
}

/**
 * The shards' whole results, read as streams (no tablet row limit), holding at most the cursor's
 * rowsMax rows in all: what a route executes under OLAP for a primitive that needs every row.
 */
export async function collectShardStreams(vc: VCursor, queries: readonly ShardQuery[], tables: readonly string[] | undefined): Promise<Result[]> {
  const fields: (readonly ColumnDefinition[])[] = queries.map(() => []);
  const rows: Buffer[][] = queries.map(() => []);
  let total = 0;
  await vc.streamMulti(queries, { tables }, (i, chunk) => {
    if (chunk.fields) fields[i] = chunk.fields;
    total += chunk.rows.length;
    if (total > vc.rowsMax) throw rowsLimitError('rows-max', vc.rowsMax);
    for (const p of chunk.rows) rows[i].push(p);
  });
  return queries.map((_q, i) => ({ fields: fields[i], rows: null, raw: rows[i], rowsAffected: 0, insertId: 0n, warnings: 0, info: '' }));
}
