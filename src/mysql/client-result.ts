// Reading a command's results: the state machine shared by COM_QUERY and COM_STMT_EXECUTE
// responses, and the sink that collects decoded results. Split from client.ts, which keeps the
// connection, the handshake and the command queue.
import { CAP, STATUS } from './constants.js';
import { ER, TesseraError } from './errors.js';
import type { PacketReader, PacketWriter } from './packet.js';
import { decodeColumnDefinition, decodeEof, decodeErr, decodeOk, isEofPacket, type ColumnDefinition, type OkPacket } from './protocol.js';
import { decodeBinaryRow, decodeTextRow, type SqlValue } from './values.js';

/** One result of a statement: rows for a SELECT, counts for the rest. */
export interface Result {
  fields: ColumnDefinition[];
  rows: SqlValue[][];
  affectedRows: number | bigint;
  insertId: number | bigint;
  warnings: number;
  statusFlags: number;
  info: string;
}

/**
 * Receives one command's results as they arrive. A method that returns a promise pauses reading
 * until it settles. `fields`/`row` are called once per result set; `end` once per result (an
 * OK without rows, or the end of a result set) with `more` telling whether another follows.
 */
export interface ResultSink {
  fields?(fields: ColumnDefinition[], raw: Buffer[]): void | Promise<void>;
  /** Instead of `fields`: the column definitions as received, not decoded (pass-through). */
  rawFields?(raw: Buffer[]): void | Promise<void>;
  /** One row payload exactly as received (text protocol for queries, binary for executes). */
  row?(payload: Buffer): void | Promise<void>;
  end?(ok: OkPacket, more: boolean): void | Promise<void>;
}

export interface Command {
  /** Writes the command; the writer's sequence is reset before. */
  write(w: PacketWriter): void;
  /** Handles one response message; returns true when the command is complete. */
  onMessage(payload: Buffer): boolean;
  fail(err: TesseraError): void;
  /** Commands with no response (COM_STMT_CLOSE, COM_STMT_SEND_LONG_DATA, COM_QUIT) complete on write. */
  noResponse?: boolean;
}

/** What a result command needs of its connection. */
export interface ResultHost {
  readonly capabilities: number;
  statusFlags: number;
  readonly reader: PacketReader;
  readonly extendedTypeInfo: boolean;
  /**
   * The last result's column definitions, raw and decoded: a result whose packets are the same
   * bytes (the same statement again, the common case) gets the same decoded array, so neither it
   * nor what is derived from it downstream (encoded packets, RPC JSON) is made again.
   */
  columnCache: { raw: Buffer[]; fields: ColumnDefinition[] } | null;
  /**
   * MARIADB_CLIENT_CACHE_METADATA is in effect: a column count is followed by a "metadata follows"
   * byte, and an execute of a prepared statement whose columns have not changed gets none.
   */
  readonly cacheMetadata: boolean;
  /** The column definitions each prepared statement got last (its prepare's, or an execute's since). */
  readonly statementColumns: Map<number, { raw: Buffer[]; fields: ColumnDefinition[] }>;
  /** Results whose column definitions MariaDB left out (the statement's cached ones were used). */
  metadataReused: number;
  waitFor(p: Promise<unknown>, onError: (err: unknown) => void): void;
  destroy(err?: TesseraError): void;
}

const NO_FIELDS: ColumnDefinition[] = [];
const NO_RAW: Buffer[] = [];

const enum ResultState {
  First,
  Fields,
  FieldsEof,
  Rows,
}

/**
 * The state machine shared by COM_QUERY and COM_STMT_EXECUTE responses: for each result, an OK
 * or a column count, definitions, (EOF,) rows and a terminator; MORE_RESULTS chains the next.
 * One object per command (no closures): it runs once per query on a tablet's hot path.
 */
export class ResultCommand implements Command {
  private state = ResultState.First;
  private columnsLeft = 0;
  private fields: ColumnDefinition[] = NO_FIELDS;
  private raw: Buffer[] = NO_RAW;
  /**
   * An error thrown by the sink: the rest of the response is still read to keep the connection
   * in step, then the command rejects with it.
   */
  private sinkError: unknown = null;
  private readonly deprecateEof: boolean;
  private onSinkError: ((err: unknown) => void) | null = null;
  /** The first result of an execute: its column definitions become the statement's cached ones. */
  private firstResult = true;

  constructor(
    private readonly client: ResultHost,
    readonly write: (w: PacketWriter) => void,
    private readonly sink: ResultSink,
    private readonly resolve: () => void,
    readonly fail: (err: unknown) => void,
    /** The prepared statement executed, or -1 for a text query. */
    private readonly statementId = -1,
  ) {
    this.deprecateEof = (client.capabilities & CAP.DEPRECATE_EOF) !== 0;
  }

  /** Runs a sink method's result: a promise pauses reading until it settles. */
  private called(ret: void | Promise<void>): void {
    if (ret instanceof Promise) {
      this.onSinkError ??= (err) => {
        this.sinkError ??= err;
      };
      this.client.waitFor(ret, this.onSinkError);
    }
  }

  private finish(more: boolean): boolean {
    if (more) {
      this.state = ResultState.First;
      this.firstResult = false;
      return false;
    }
    // Resolve after any pending sink promise so callers see all rows handled.
    if (this.sinkError) this.fail(this.sinkError);
    else this.resolve();
    return true;
  }

  private ended(ok: OkPacket): boolean {
    const client = this.client;
    client.statusFlags = ok.statusFlags;
    const more = (ok.statusFlags & STATUS.MORE_RESULTS_EXISTS) !== 0;
    if (!this.sinkError && this.sink.end) {
      try {
        this.called(this.sink.end(ok, more));
      } catch (err) {
        this.sinkError = err;
      }
    }
    return this.finish(more);
  }

  /** Takes the cached arrays when every definition matched them, else caches this result's. */
  private sameColumnsAsBefore(): void {
    const client = this.client;
    const cache = client.columnCache;
    const fields = this.fields;
    if (cache !== null && cache.fields.length === fields.length) {
      let same = true;
      for (let k = 0; k < fields.length && same; k++) same = fields[k] === cache.fields[k];
      if (same) {
        this.fields = cache.fields;
        this.raw = cache.raw;
        return;
      }
    }
    client.columnCache = { raw: this.raw, fields };
  }

  /** The column definitions are complete: handed to the sink, rows (or the EOF before them) next. */
  private columnsDone(): void {
    const sink = this.sink;
    if (!this.sinkError) {
      try {
        if (sink.rawFields) this.called(sink.rawFields(this.raw));
        else if (sink.fields) this.called(sink.fields(this.fields, this.raw));
      } catch (err) {
        this.sinkError = err;
      }
    }
    this.state = this.deprecateEof ? ResultState.Rows : ResultState.FieldsEof;
  }

  /**
   * "Metadata follows" was 0: the columns are the statement's cached ones. Without any (a text
   * query, or a count that does not match) the connection cannot be read further.
   */
  private cachedColumns(): boolean {
    const client = this.client;
    const cached = this.statementId >= 0 ? client.statementColumns.get(this.statementId) : undefined;
    if (cached === undefined || cached.raw.length !== this.columnsLeft) {
      const err = new TesseraError(ER.NET_READ_ERROR, `malformed packet: a result without column definitions for ${this.statementId >= 0 ? `statement ${this.statementId}, whose cached columns do not match` : 'a text query'}`);
      this.fail(err);
      client.destroy(err);
      return true;
    }
    client.metadataReused++;
    this.columnsLeft = 0;
    this.fields = cached.fields;
    this.raw = cached.raw;
    this.columnsDone();
    return false;
  }

  onMessage(p: Buffer): boolean {
    const client = this.client;
    const r = client.reader;
    const sink = this.sink;
    switch (this.state) {
      case ResultState.First: {
        if (p[0] === 0xff) {
          this.fail(decodeErr(r.reset(p)));
          return true;
        }
        if (p[0] === 0x00) return this.ended(decodeOk(r.reset(p)));
        if (p[0] === 0xfb) {
          this.fail(new TesseraError(ER.NOT_SUPPORTED_YET, 'LOAD DATA LOCAL INFILE is not supported'));
          client.destroy(new TesseraError(ER.NOT_SUPPORTED_YET, 'LOAD DATA LOCAL INFILE is not supported'));
          return true;
        }
        this.columnsLeft = r.reset(p).lenInt();
        if (client.cacheMetadata && r.remaining > 0 && r.u8() === 0) return this.cachedColumns();
        this.fields = [];
        this.raw = [];
        this.state = ResultState.Fields;
        return false;
      }
      case ResultState.Fields: {
        const i = this.raw.length;
        this.raw.push(p);
        if (!sink.rawFields) {
          const cache = client.columnCache;
          this.fields.push(cache !== null && i < cache.raw.length && cache.raw[i].equals(p) ? cache.fields[i] : decodeColumnDefinition(r.reset(p), client.extendedTypeInfo));
        }
        if (--this.columnsLeft === 0) {
          if (!sink.rawFields) this.sameColumnsAsBefore();
          if (this.statementId >= 0 && this.firstResult && client.cacheMetadata) {
            // What MariaDB leaves out of this statement's next results while its columns stay these.
            client.statementColumns.set(this.statementId, { raw: this.raw, fields: sink.rawFields ? decodeAll(this.raw, client) : this.fields });
          }
          this.columnsDone();
        }
        return false;
      }
      case ResultState.FieldsEof:
        this.state = ResultState.Rows;
        return false;
      case ResultState.Rows: {
        if (isEofPacket(p)) {
          r.reset(p);
          if (this.deprecateEof) return this.ended(decodeOk(r));
          const eof = decodeEof(r);
          return this.ended({ affectedRows: 0, lastInsertId: 0, statusFlags: eof.statusFlags, warnings: eof.warnings, info: '' });
        }
        if (p[0] === 0xff) {
          // An error after rows started (e.g. KILL QUERY, a deadlock): ends the command.
          this.fail(decodeErr(r.reset(p)));
          return true;
        }
        if (sink.row && !this.sinkError) {
          try {
            this.called(sink.row(p));
          } catch (err) {
            this.sinkError = err;
          }
        }
        return false;
      }
    }
  }
}

function decodeAll(raw: readonly Buffer[], client: ResultHost): ColumnDefinition[] {
  return raw.map((p) => decodeColumnDefinition(client.reader.reset(p), client.extendedTypeInfo));
}

/** A sink that decodes and keeps every result. */
export function collector(results: Result[], binary: boolean, reader: PacketReader): ResultSink {
  let current: Result | null = null;
  return {
    fields(fields) {
      current = { fields, rows: [], affectedRows: 0, insertId: 0, warnings: 0, statusFlags: 0, info: '' };
    },
    row(payload) {
      const c = current!;
      c.rows.push(binary ? decodeBinaryRow(payload, c.fields, reader) : decodeTextRow(payload, c.fields, reader));
    },
    end(ok) {
      const c = current ?? { fields: [], rows: [], affectedRows: 0, insertId: 0, warnings: 0, statusFlags: 0, info: '' };
      if (!current) {
        c.affectedRows = ok.affectedRows;
        c.insertId = ok.lastInsertId;
        c.info = ok.info;
      }
      c.warnings = ok.warnings;
      c.statusFlags = ok.statusFlags;
      results.push(c);
      current = null;
    },
  };
}

