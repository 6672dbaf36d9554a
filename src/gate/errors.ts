// Errors the gate makes itself. Everything it cannot answer exactly is 1235, never a guess.
import { ER, TesseraError } from '../mysql/index.js';

export function notSupported(what: string): TesseraError {
  return new TesseraError(ER.NOT_SUPPORTED_YET, `This version of Tessera doesn't yet support '${what}'`);
}

export function gateError(message: string): TesseraError {
  return new TesseraError(ER.UNKNOWN_ERROR, message);
}

export function noSuchTable(table: string, keyspace?: string | null): TesseraError {
  return new TesseraError(ER.NO_SUCH_TABLE, keyspace ? `table ${table} not found in keyspace ${keyspace}` : `table ${table} not found`);
}

export function rowsLimitError(limitName: string, max: number): TesseraError {
  return new TesseraError(ER.TOO_MANY_ROWS, `in-memory row count exceeded the gate's ${limitName} (${max}); add a narrower WHERE or LIMIT`);
}

/**
 * What a client gets for an exception the gate did not mean to throw (a bug in the gate): 1105
 * saying so, never the exception's own text, which describes our code rather than the statement.
 * The caller logs the statement and the stack under the same incident number.
 */
export function internalError(incident: number): TesseraError {
  return new TesseraError(
    ER.UNKNOWN_ERROR,
    `internal error in the gate (incident ${incident}): the statement and the stack trace are in the gate's log under this incident number; please report it`,
  );
}

/** An error whose errno and SQLSTATE a client may see as they are (MariaDB's, a tablet's, ours). */
export function isCodedError(err: unknown): boolean {
  if (err instanceof TesseraError) return true;
  const e = err as { errno?: unknown; sqlState?: unknown } | null;
  return err instanceof Error && typeof e!.errno === 'number' && typeof e!.sqlState === 'string';
}
