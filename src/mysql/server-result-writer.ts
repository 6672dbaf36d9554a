// The ResultWriter a handler gets for one command: column definitions, rows (text protocol for
// COM_QUERY, binary for COM_STMT_EXECUTE) and result ends, encoded into the connection's packet
// writer, which sends them once per tick.
import { CAP, STATUS } from './constants.js';
import { TesseraError } from './errors.js';
import { PacketReader, PacketWriter } from './packet.js';
import { decodeColumnDefinition, encodeColumnDefinition, encodeEof, encodeOk, encodeResultEnd, type ColumnDefinition } from './protocol.js';
import { encodeBinaryRow, encodeBinaryRowFromText, encodeTextRow, type SqlValue } from './values.js';
import type { ResultEnd, ResultWriter } from './server-handler.js';

/** What a result writer needs from its connection. */
export interface ResultConnection {
  readonly packetWriter: PacketWriter;
  readonly capabilities: number;
  readonly extendedTypeInfo: boolean;
  statusFlags: number;
  readonly socketNeedsDrain: boolean;
  waitDrain(): Promise<void>;
}

/**
 * Column definitions by array: the second time an array is written (a tablet's result for the same
 * statement again: see ResultHost.columnCache), its packets are encoded once and then copied.
 */
const seenColumns = new WeakSet<readonly ColumnDefinition[]>();
const encodedColumns = new WeakMap<readonly ColumnDefinition[], { readonly ext: boolean; readonly payloads: readonly Buffer[] }>();

function encodeColumns(columns: readonly ColumnDefinition[], ext: boolean): Buffer[] {
  const payloads: Buffer[] = [];
  const w = new PacketWriter((d) => void payloads.push(Buffer.from(d.subarray(4))), 4096);
  for (const c of columns) {
    encodeColumnDefinition(w, c, ext);
    w.flush();
  }
  return payloads;
}

/** The ResultWriter of one command. */
export class CommandResultWriter implements ResultWriter {
  private state: 'idle' | 'rows' | 'done' = 'idle';
  private columns: ColumnDefinition[] | null = null;
  private rawColumns: Buffer[] | null = null;

  constructor(
    private readonly conn: ResultConnection,
    readonly binary: boolean,
  ) {}

  private ensureOpen(): void {
    if (this.state === 'done') throw new Error('ResultWriter used after the last result');
  }

  fields(columns: ColumnDefinition[]): void {
    this.ensureOpen();
    if (this.state === 'rows') throw new Error('ResultWriter.fields() inside a result set');
    const w = this.conn.packetWriter;
    const ext = this.conn.extendedTypeInfo;
    w.begin().lenInt(columns.length).end();
    let cached = encodedColumns.get(columns);
    if (cached === undefined && seenColumns.has(columns)) encodedColumns.set(columns, (cached = { ext, payloads: encodeColumns(columns, ext) }));
    if (cached !== undefined && cached.ext === ext) {
      for (let i = 0; i < cached.payloads.length; i++) w.packet(cached.payloads[i]);
    } else {
      seenColumns.add(columns);
      for (const c of columns) encodeColumnDefinition(w, c, ext);
    }
    this.columns = columns;
    this.rawColumns = null;
    this.afterFields();
  }

  rawFields(payloads: Buffer[]): void {
    this.ensureOpen();
    if (this.state === 'rows') throw new Error('ResultWriter.rawFields() inside a result set');
    const w = this.conn.packetWriter;
    w.begin().lenInt(payloads.length).end();
    for (let i = 0; i < payloads.length; i++) w.packet(payloads[i]);
    this.columns = null;
    this.rawColumns = payloads;
    this.afterFields();
  }

  private afterFields(): void {
    if (!(this.conn.capabilities & CAP.DEPRECATE_EOF)) encodeEof(this.conn.packetWriter, 0, this.conn.statusFlags);
    this.state = 'rows';
  }

  row(values: readonly SqlValue[]): void {
    if (this.state !== 'rows') throw new Error('ResultWriter.row() outside a result set');
    const w = this.conn.packetWriter;
    try {
      if (this.binary) {
        this.columns ??= (this.rawColumns ?? []).map((p) => decodeColumnDefinition(new PacketReader(p), this.conn.extendedTypeInfo));
        encodeBinaryRow(w, this.columns, values);
      } else {
        if (this.rawColumns && !this.columns) this.columns = this.rawColumns.map((p) => decodeColumnDefinition(new PacketReader(p), this.conn.extendedTypeInfo));
        encodeTextRow(w, values, this.columns ?? undefined);
      }
    } catch (err) {
      w.abort();
      throw TesseraError.from(err);
    }
  }

  rawRow(payload: Buffer): void {
    if (this.state !== 'rows') throw new Error('ResultWriter.rawRow() outside a result set');
    this.conn.packetWriter.packet(payload);
  }

  textRow(payload: Buffer): void {
    if (this.state !== 'rows') throw new Error('ResultWriter.textRow() outside a result set');
    const w = this.conn.packetWriter;
    if (!this.binary) {
      w.packet(payload);
      return;
    }
    this.columns ??= (this.rawColumns ?? []).map((p) => decodeColumnDefinition(new PacketReader(p), this.conn.extendedTypeInfo));
    try {
      encodeBinaryRowFromText(w, payload, this.columns);
    } catch (err) {
      w.abort();
      throw TesseraError.from(err);
    }
  }

  end(result?: ResultEnd): void {
    this.ensureOpen();
    const conn = this.conn;
    const more = result?.more === true;
    const base = (result?.statusFlags ?? conn.statusFlags) & ~STATUS.SESSION_STATE_CHANGED;
    conn.statusFlags = base & ~STATUS.MORE_RESULTS_EXISTS;
    const ok = {
      affectedRows: result?.affectedRows ?? 0,
      lastInsertId: result?.lastInsertId ?? 0,
      warnings: result?.warnings ?? 0,
      info: result?.info ?? '',
      statusFlags: more ? base | STATUS.MORE_RESULTS_EXISTS : conn.statusFlags,
    };
    if (this.state === 'rows') encodeResultEnd(conn.packetWriter, conn.capabilities, ok);
    else encodeOk(conn.packetWriter, ok);
    this.state = more ? 'idle' : 'done';
  }

  /** Called when the handler returns: closes what it left open. */
  finish(): void {
    if (this.state !== 'done') this.end();
  }

  get isDone(): boolean {
    return this.state === 'done';
  }

  get needsDrain(): boolean {
    return this.conn.socketNeedsDrain;
  }

  drain(): Promise<void> {
    return this.conn.waitDrain();
  }
}
