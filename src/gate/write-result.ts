// A statement's result written to its client in the command's protocol (text or binary rows):
// the executor's last step for every statement. A single shard's rows pass on as MariaDB sent
// them; CALL results are chained; a stream (OLAP) is written as it comes (streaming.ts).
import type { ColumnDefinition, ResultWriter } from '../mysql/index.js';
import { reportFields } from './charsets.js';
import { writeStreamed } from './streaming.js';
import type { Result } from './types.js';
import { decodeCell, encodeRow, rowsOf } from './values.js';

/**
 * Writes a result to the client in the command's protocol. `collation`: what text columns report
 * instead of the tablets' utf8mb4_general_ci (see gate/charsets.ts), or null. An OK and a single
 * shard's rows as MariaDB sent them are written with no promise unless the socket's buffer fills
 * (undefined: all written); CALL results, streams and rows the gate made go through writeAll.
 */
export function writeResult(out: ResultWriter, r: Result, more: boolean, statusFlags: number, collation: number | null = null): Promise<void> | undefined {
  if ((r.more !== undefined && r.more.length > 0) || r.stream) return writeAll(out, r, more, statusFlags, collation);
  if (r.fields.length === 0 && (r.rows?.length ?? 0) === 0 && (r.raw?.length ?? 0) === 0) {
    out.end({ affectedRows: r.rowsAffected, lastInsertId: r.insertId, warnings: r.warnings, info: r.info, statusFlags, more });
    return undefined;
  }
  const binary = r.rawBinary === true;
  const raw = binary ? r.raw! : r.rows === null ? r.raw : null;
  if (raw === null) return writeAll(out, r, more, statusFlags, collation);
  // A prepared statement's binary rows from MariaDB (singleRoute with placeholders) pass on as
  // they are; so do a single shard's text rows (as binary rows for an execute).
  if (binary && !out.binary) throw new Error('internal: binary-protocol rows for a text-protocol result');
  out.fields(collation === null ? (r.fields as ColumnDefinition[]) : reportFields(r.fields, collation));
  for (let i = 0; i < raw.length; i++) {
    if (binary) out.rawRow(raw[i]);
    else out.textRow(raw[i]);
    if (out.needsDrain) return writeRawFrom(out, r, raw, binary, i + 1, more, statusFlags);
  }
  out.end({ warnings: r.warnings, statusFlags, more });
  return undefined;
}

/** writeResult's rows from `from` on, after waiting for the socket to drain. */
async function writeRawFrom(out: ResultWriter, r: Result, raw: readonly Buffer[], binary: boolean, from: number, more: boolean, statusFlags: number): Promise<void> {
  await out.drain();
  for (let i = from; i < raw.length; i++) {
    if (binary) out.rawRow(raw[i]);
    else out.textRow(raw[i]);
    if (out.needsDrain) await out.drain();
  }
  out.end({ warnings: r.warnings, statusFlags, more });
}

/** writeResult's general path: a CALL's results, a stream, or rows the gate made (decoded values). */
async function writeAll(out: ResultWriter, r: Result, more: boolean, statusFlags: number, collation: number | null): Promise<void> {
  if (r.more !== undefined && r.more.length > 0) {
    // A CALL's results, each as the shard sent it, chained with MORE_RESULTS_EXISTS.
    const all = [{ ...r, more: undefined }, ...r.more];
    for (let i = 0; i < all.length; i++) await writeResult(out, all[i]!, more || i < all.length - 1, statusFlags, collation);
    return;
  }
  if (r.stream) return writeStreamed(out, r.stream, more, statusFlags, collation);
  out.fields(collation === null ? (r.fields as ColumnDefinition[]) : reportFields(r.fields, collation));
  if (out.binary) {
    for (const row of rowsOf(r)) {
      out.row(row.map((c, i) => decodeCell(c, r.fields[i])));
      if (out.needsDrain) await out.drain();
    }
  } else {
    for (const row of rowsOf(r)) {
      out.rawRow(encodeRow(row));
      if (out.needsDrain) await out.drain();
    }
  }
  out.end({ warnings: r.warnings, statusFlags, more });
}
