// Streamed results (SET workload = 'olap'): the executor hands the client the rows of a read as the
// shards send them, instead of building the result first. The writer drains the client's socket
// before it asks for more rows, so a slow client holds the shards back (through each stream's
// callback promise) rather than filling the gate's memory.
import { reportFields } from './charsets.js';
import type { ColumnDefinition, ResultWriter } from '../mysql/index.js';
import { streamPrimitive } from './engine/stream.js';
import type { BindVars, Primitive, Result, StreamCallback, VCursor } from './types.js';
import { decodeCell, encodeRow } from './values.js';

/** A result whose rows come when it is written (see Result.stream). */
export function streamedResult(primitive: Primitive, vc: VCursor, bindVars: BindVars): Result {
  return {
    fields: [],
    rows: [],
    raw: null,
    rowsAffected: 0,
    insertId: 0n,
    warnings: 0,
    info: '',
    stream: (onChunk: StreamCallback) => streamPrimitive(primitive, vc, bindVars, onChunk),
  };
}

/** Writes a streamed result to the client chunk by chunk, waiting for the socket to drain between them. */
export async function writeStreamed(out: ResultWriter, stream: NonNullable<Result['stream']>, more: boolean, statusFlags: number, collation: number | null = null): Promise<void> {
  let fields: readonly ColumnDefinition[] | null = null;
  await stream(async (chunk) => {
    if (fields === null) {
      fields = chunk.fields ?? [];
      out.fields(collation === null ? [...fields] : reportFields(fields, collation));
    }
    const f = fields;
    if (chunk.rows === null) {
      // Payloads as a shard sent them: passed on (as binary rows for an execute).
      for (const p of chunk.raw ?? []) out.textRow(p);
    } else if (out.binary) {
      for (const row of chunk.rows) out.row(row.map((c, i) => decodeCell(c, f[i])));
    } else {
      for (const row of chunk.rows) out.rawRow(encodeRow(row));
    }
    if (out.needsDrain) await out.drain();
  });
  if (fields === null) out.fields([]);
  out.end({ warnings: 0, statusFlags, more });
}
