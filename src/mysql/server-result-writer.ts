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
  /** MARIADB_CLIENT_CACHE_METADATA is in effect: a column count carries a "metadata follows" byte. */
  readonly cacheMetadata: boolean;
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

/**
 * What a client with MARIADB_CLIENT_CACHE_METADATA holds of one prepared statement's columns. An
 * execute leaves the column definitions out only while they are byte for byte the ones the prepare
 * response sent and no execute has sent others since: right for a client that keeps the prepare's
 * definitions (libmariadb) and for one that keeps the last it received.
 */
export interface CachedMetadata {
  /** The column-definition payloads the prepare response sent; null when it sent none, or once an execute's differed. */
  sent: readonly Buffer[] | null;
  /**
   * Column arrays found equal to them: a statement's executes hand over one array per tablet
   * connection that ran it (the client's cached definitions), so each is compared once.
   */
  matched: WeakSet<readonly ColumnDefinition[] | readonly Buffer[]> | null;
}

export function encodeColumns(columns: readonly ColumnDefinition[], ext: boolean): Buffer[] {
  const payloads: Buffer[] = [];
  const w = new PacketWriter((d) => void payloads.push(Buffer.from(d.subarray(4))), 4096);
  for (const c of columns) {
    encodeColumnDefinition(w, c, ext);
    w.flush();
  }
  return payloads;
}

/** The encoded definitions of `columns`, kept with the array. */
function encodedOf(columns: readonly ColumnDefinition[], ext: boolean): readonly Buffer[] {
  let cached = encodedColumns.get(columns);
  if (cached === undefined || cached.ext !== ext) encodedColumns.set(columns, (cached = { ext, payloads: encodeColumns(columns, ext) }));
  return cached.payloads;
}

/** The ResultWriter of one command. */
export class CommandResultWriter implements ResultWriter {
  private state: 'idle' | 'rows' | 'done' = 'idle';
  private columns: ColumnDefinition[] | null = null;
  private rawColumns: Buffer[] | null = null;
  /** No result set written yet: only an execute's first may leave its column definitions out. */
  private first = true;

  constructor(
    private readonly conn: ResultConnection,
    readonly binary: boolean,
    /** The executed statement's, when the client caches metadata; null for a text query. */
    private readonly cached: CachedMetadata | null = null,
  ) {}

  /**
   * Writes the column count (with the "metadata follows" byte the client asked for) and says
   * whether the definitions go out: not when the client already holds these (CachedMetadata).
   */
  private columnCount(n: number, columns: readonly ColumnDefinition[] | null, payloads: readonly Buffer[] | null): boolean {
    const w = this.conn.packetWriter;
    if (!this.conn.cacheMetadata) {
      w.begin().lenInt(n).end();
      return true;
    }
    const st = this.first ? this.cached : null;
    const held = st !== null && st.sent !== null && (st.matched?.has((columns ?? payloads)!) === true || this.sameAsSent(st, columns, payloads));
    w.begin().lenInt(n).int1(held ? 0 : 1).end();
    return !held;
  }

  private sameAsSent(st: CachedMetadata, columns: readonly ColumnDefinition[] | null, payloads: readonly Buffer[] | null): boolean {
    const sent = st.sent!;
    const mine = payloads ?? encodedOf(columns!, this.conn.extendedTypeInfo);
    let same = mine.length === sent.length;
    for (let i = 0; i < mine.length && same; i++) same = mine[i].equals(sent[i]);
    if (same) (st.matched ??= new WeakSet()).add((columns ?? payloads)!);
    else {
      st.sent = null;
      st.matched = null;
    }
    return same;
  }

  private ensureOpen(): void {
    if (this.state === 'done') throw new Error('ResultWriter used after the last result');
  }

  fields(columns: ColumnDefinition[]): void {
    this.ensureOpen();
    if (this.state === 'rows') throw new Error('ResultWriter.fields() inside a result set');
    const w = this.conn.packetWriter;
    const ext = this.conn.extendedTypeInfo;
    if (this.columnCount(columns.length, columns, null)) {
      if (encodedColumns.has(columns) || seenColumns.has(columns)) {
        const payloads = encodedOf(columns, ext);
        for (let i = 0; i < payloads.length; i++) w.packet(payloads[i]);
      } else {
        seenColumns.add(columns);
        for (const c of columns) encodeColumnDefinition(w, c, ext);
      }
    }
    this.columns = columns;
    this.rawColumns = null;
    this.afterFields();
  }

  rawFields(payloads: Buffer[]): void {
    this.ensureOpen();
    if (this.state === 'rows') throw new Error('ResultWriter.rawFields() inside a result set');
    const w = this.conn.packetWriter;
    if (this.columnCount(payloads.length, null, payloads)) for (let i = 0; i < payloads.length; i++) w.packet(payloads[i]);
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
    this.first = false;
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
