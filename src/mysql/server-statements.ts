// Server-side prepared statements of one connection: ids (MariaDB's 0xffffffff = the statement
// prepared last), the prepare response, parameter types remembered between executes, long data,
// and the two ways an execute reaches the handler: decoded values (`execute`), or the client's
// bytes checked but not decoded (`executeRaw`, for a relay).
import { CAP, CHARSET, FIELD_FLAG, TYPE } from './constants.js';
import { ER, TesseraError } from './errors.js';
import { PacketReader } from './packet.js';
import { columnDefinition, decodeColumnDefinition, encodeColumnDefinition, encodeEof, encodeOk } from './protocol.js';
import { decodeExecute, decodeParamTypes, encodeParamTypes, scanExecute } from './values.js';
import { CommandResultWriter, encodeColumns, type CachedMetadata, type ResultConnection } from './server-result-writer.js';
import type { PrepareResult, ServerHandler, ServerStatement, Session } from './server-handler.js';

/** What the statements need from their connection. */
export interface StatementConnection extends ResultConnection, Session {
  readonly handler: ServerHandler;
  readonly reader: PacketReader;
  readonly packetSizeMax: number;
  readonly preparedStatementsMax: number;
  sendError(err: TesseraError): void;
  /** Waits for a handler's result; the command completes when it settles. */
  awaitResult(out: CommandResultWriter, running: Promise<void>): void;
  /** A handler threw before returning a promise. */
  resultThrew(out: CommandResultWriter, err: unknown): void;
  logError(err: unknown, what: string): void;
  /** The client's character set's decoder for string parameters, or null when it is UTF-8. */
  paramDecoder(): ((b: Buffer) => string) | null;
}

interface StatementState extends ServerStatement {
  /** Parameter types in effect as (type, flags) byte pairs (see scanExecute); null until the first execute. */
  typeBytes: Buffer | null;
  /** The same types decoded (decodeExecute's), kept while no execute sends others; null when not decoded yet. */
  types: ParamType[] | null;
  /** decodeExecute's callbacks for this statement, made at its first execute (not per execute). */
  hooks: ExecuteHooks | null;
  longData: Map<number, Buffer[]>;
  longDataBytes: number;
  /** The columns the client holds for this statement (MARIADB_CLIENT_CACHE_METADATA). */
  metadata: CachedMetadata;
}

type ParamType = { type: number; unsigned: boolean };

interface ExecuteHooks {
  paramCount(): number;
  previousTypes(): ParamType[] | null;
  longData(stmtId: number, index: number): Buffer | undefined;
}

function executeHooks(stmt: StatementState): ExecuteHooks {
  return {
    paramCount: () => stmt.paramCount,
    previousTypes: () => stmt.types ?? (stmt.typeBytes ? (stmt.types = decodeParamTypes(stmt.typeBytes)) : null),
    longData: (_, i) => {
      const parts = stmt.longData.get(i);
      return parts ? Buffer.concat(parts) : undefined;
    },
  };
}

export class PreparedStatements {
  private readonly statements = new Map<number, StatementState>();
  private nextId = 1;
  private lastId = 0;

  constructor(private readonly conn: StatementConnection) {}

  get size(): number {
    return this.statements.size;
  }

  /** COM_STMT_PREPARE: the handler's answer as MariaDB would send it. */
  async prepare(sql: string): Promise<void> {
    const conn = this.conn;
    const handler = conn.handler;
    if (!handler.prepare) {
      conn.sendError(new TesseraError(ER.UNKNOWN_COM, 'prepared statements are not supported here'));
      return;
    }
    if (this.statements.size >= conn.preparedStatementsMax) {
      conn.sendError(new TesseraError({ errno: 1461, sqlState: '42000' }, `Can't create more than preparedStatementsMax (${conn.preparedStatementsMax}) statements`));
      return;
    }
    let res: PrepareResult;
    try {
      res = await handler.prepare(conn, sql);
    } catch (err) {
      conn.sendError(TesseraError.from(err));
      return;
    }
    const ext = conn.extendedTypeInfo;
    const columns = res.columns ?? (res.rawColumns ?? []).map((p) => decodeColumnDefinition(new PacketReader(p), ext));
    const nColumns = res.rawColumns?.length ?? columns.length;
    const id = this.nextId++;
    if (this.nextId > 0xfffffffe) this.nextId = 1;
    const columnPayloads = nColumns === 0 ? null : (res.rawColumns ?? encodeColumns(columns, ext));
    const metadata: CachedMetadata = { sent: columnPayloads, matched: null };
    const stmt: StatementState = { id, sql, paramCount: res.paramCount, columns, state: res.state, typeBytes: null, types: null, hooks: null, longData: new Map(), longDataBytes: 0, metadata };
    this.statements.set(id, stmt);
    this.lastId = id;
    const w = conn.packetWriter;
    w.begin().int1(0x00).int4(id).int2(nColumns).int2(res.paramCount).int1(0).int2(res.warnings ?? 0).end();
    const deprecateEof = (conn.capabilities & CAP.DEPRECATE_EOF) !== 0;
    if (res.paramCount > 0) {
      if (res.rawParams && res.rawParams.length === res.paramCount) for (const p of res.rawParams) w.packet(p);
      else {
        for (let i = 0; i < res.paramCount; i++) {
          encodeColumnDefinition(w, res.params?.[i] ?? columnDefinition({ name: '?', type: TYPE.VAR_STRING, charset: CHARSET.BINARY, flags: FIELD_FLAG.BINARY }), ext);
        }
      }
      if (!deprecateEof) encodeEof(w, 0, conn.statusFlags);
    }
    if (columnPayloads !== null) {
      for (const p of columnPayloads) w.packet(p);
      if (!deprecateEof) encodeEof(w, 0, conn.statusFlags);
    }
  }

  /**
   * COM_STMT_EXECUTE. Returns true when a handler is running (the connection is told through
   * awaitResult), false when the command is already answered (an ERR).
   */
  execute(payload: Buffer): boolean {
    const conn = this.conn;
    const handler = conn.handler;
    let id = conn.reader.reset(payload, 1).u32();
    // MariaDB: id 0xffffffff means "the statement prepared last" (pipelined prepare + execute).
    if (id === 0xffffffff) id = this.lastId;
    const stmt = this.statements.get(id);
    if (!stmt || (!handler.execute && !handler.executeRaw)) {
      conn.sendError(new TesseraError(ER.UNKNOWN_STMT_HANDLER, `Unknown prepared statement handler (${id}) given to mysqld_stmt_execute`));
      return false;
    }
    if (stmt.longDataBytes > conn.packetSizeMax) {
      this.clearLongData(stmt);
      conn.sendError(new TesseraError(ER.NET_PACKET_TOO_LARGE, `Parameter data longer than packetSizeMax (${conn.packetSizeMax} bytes)`));
      return false;
    }
    if (handler.executeRaw && stmt.longData.size === 0) {
      // The relay's path: the structure is checked (a malformed execute still ends the
      // connection) and the types remembered, but no value is decoded.
      const types = scanExecute(payload, stmt.paramCount, stmt.typeBytes, conn.reader);
      // Types sent now are a slice of the payload: copied, so a big execute's buffer is not kept.
      if (types !== stmt.typeBytes) stmt.types = null;
      stmt.typeBytes = types === stmt.typeBytes || types === null ? types : Buffer.from(types);
      const out = new CommandResultWriter(conn, true, conn.cacheMetadata ? stmt.metadata : null);
      try {
        conn.awaitResult(out, handler.executeRaw(conn, stmt, payload, out));
      } catch (err) {
        conn.resultThrew(out, err);
      }
      return true;
    }
    if (!handler.execute) {
      this.clearLongData(stmt);
      conn.sendError(new TesseraError(ER.NOT_SUPPORTED_YET, 'COM_STMT_SEND_LONG_DATA is not supported by this server'));
      return false;
    }
    const hooks = (stmt.hooks ??= executeHooks(stmt));
    const req = decodeExecute(payload, hooks.paramCount, hooks.previousTypes, hooks.longData, conn.reader, conn.paramDecoder());
    // Types sent with this execute replace the kept ones; an execute that sent none used them as they are.
    if (req.types !== stmt.types) {
      stmt.types = req.types.length > 0 ? req.types : null;
      stmt.typeBytes = stmt.types !== null ? encodeParamTypes(stmt.types) : null;
    }
    this.clearLongData(stmt);
    const out = new CommandResultWriter(conn, true, conn.cacheMetadata ? stmt.metadata : null);
    try {
      conn.awaitResult(out, handler.execute(conn, stmt, req.params, out));
    } catch (err) {
      conn.resultThrew(out, err);
    }
    return true;
  }

  /** COM_STMT_SEND_LONG_DATA: no response, ever; an error surfaces at the next execute. */
  longData(payload: Buffer): void {
    const r = this.conn.reader.reset(payload, 1);
    const stmt = this.statements.get(r.u32());
    const index = r.u16();
    if (!stmt || index >= stmt.paramCount) return;
    const data = Buffer.from(r.rest());
    stmt.longDataBytes += data.length;
    if (stmt.longDataBytes > this.conn.packetSizeMax) return;
    const parts = stmt.longData.get(index) ?? [];
    parts.push(data);
    stmt.longData.set(index, parts);
  }

  /** COM_STMT_CLOSE: no response. */
  closeCommand(payload: Buffer): void {
    const stmt = this.statements.get(this.conn.reader.reset(payload, 1).u32());
    if (stmt) this.close(stmt);
  }

  /** COM_STMT_RESET: forgets long data. */
  reset(payload: Buffer): void {
    const conn = this.conn;
    const stmt = this.statements.get(conn.reader.reset(payload, 1).u32());
    if (!stmt) {
      conn.sendError(new TesseraError(ER.UNKNOWN_STMT_HANDLER, 'Unknown prepared statement handler given to mysqld_stmt_reset'));
      return;
    }
    this.clearLongData(stmt);
    encodeOk(conn.packetWriter, { statusFlags: conn.statusFlags });
  }

  /** COM_RESET_CONNECTION: every statement goes. */
  closeAll(): void {
    for (const s of this.statements.values()) this.close(s);
  }

  private close(stmt: StatementState): void {
    this.statements.delete(stmt.id);
    try {
      this.conn.handler.closeStatement?.(this.conn, stmt);
    } catch (err) {
      this.conn.logError(err, 'handler.closeStatement threw');
    }
  }

  private clearLongData(stmt: StatementState): void {
    // Map.clear makes a new backing table even for an empty map: skipped on every plain execute.
    if (stmt.longData.size > 0) stmt.longData.clear();
    stmt.longDataBytes = 0;
  }
}
