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
