// Binlog events, decoded from the bytes of one event (common header, body, CRC32 trailer). The same
// bytes arrive from a binlog file (after the 4-byte magic) and from COM_BINLOG_DUMP (after the 0x00
// OK byte of each packet), so one decoder serves the network reader, file reading and tests.
//
// Every failure is a TesseraError (1610, ER_SLAVE_CORRUPT_EVENT) naming the event type and where it
// was (`WRITE_ROWS_V1 at vt-0000000100-bin.000001:1003`); nothing is returned half-decoded. With
// checksums on (mysqlctl sets binlog_checksum=CRC32) a flipped bit is caught before decoding.
import zlib from 'node:zlib';
import { TesseraError } from '../errors.js';
import { CHECKSUM_ALG, CHECKSUM_LENGTH, ER_CORRUPT_EVENT, EVENT, EVENT_HEADER_LENGTH, GTID_FLAG, eventName } from './constants.js';
import { gtid, type Gtid } from './gtid.js';
import { decodeRows, type RowChange, type RowKeyFilter, type RowsAction } from './rows.js';
import { DecodeError, parseTableMap, type OldTemporalHints, type TableMap } from './table-map.js';

export interface EventHeader {
  /** Seconds since the epoch when the statement began on the server that first ran it. */
  readonly timestamp: number;
  readonly type: number;
  readonly serverId: number;
  /** Whole event, header and checksum included. */
  readonly size: number;
  /** Offset in the binlog file just after this event (0 for artificial events). */
  readonly nextPos: number;
  readonly flags: number;
}

/** LOG_EVENT_ARTIFICIAL_F: made up by the dump thread (the first ROTATE), not in any file. */
export const EVENT_FLAG_ARTIFICIAL = 0x20;
/** Set in a binlog file's FORMAT_DESCRIPTION while the server has the file open. */
const LOG_EVENT_BINLOG_IN_USE_F = 0x1;

export interface FormatDescriptionEvent {
  readonly kind: 'formatDescription';
  readonly header: EventHeader;
  readonly binlogVersion: number;
  readonly serverVersion: string;
  readonly checksum: 'none' | 'crc32';
}
export interface RotateEvent {
  readonly kind: 'rotate';
  readonly header: EventHeader;
  readonly file: string;
  readonly position: number;
}
export interface GtidEvent {
  readonly kind: 'gtid';
  readonly header: EventHeader;
  readonly gtid: Gtid;
  readonly flags: number;
  /** A standalone event group (DDL, non-transactional statement): no XID/COMMIT follows. */
  readonly standalone: boolean;
  readonly ddl: boolean;
  readonly commitId: bigint | undefined;
}
export interface GtidListEvent {
  readonly kind: 'gtidList';
  readonly header: EventHeader;
  readonly gtids: readonly Gtid[];
}
export interface BinlogCheckpointEvent {
  readonly kind: 'binlogCheckpoint';
  readonly header: EventHeader;
  readonly file: string;
}
export interface QueryEvent {
  readonly kind: 'query';
  readonly header: EventHeader;
  readonly threadId: number;
  readonly execTime: number;
  readonly errorCode: number;
  /** The default database of the statement (may be empty). */
  readonly database: string;
  readonly query: string;
}
export interface TableMapEvent {
  readonly kind: 'tableMap';
  readonly header: EventHeader;
  readonly table: TableMap;
}
export interface RowsEvent {
  readonly kind: 'rows';
  readonly header: EventHeader;
  readonly action: RowsAction;
  /** 1 or 2: the v2 events MySQL 5.6+ writes; MariaDB 10.11 writes v1. */
  readonly version: 1 | 2;
  readonly table: TableMap;
  readonly flags: number;
  readonly rows: RowChange[];
  readonly included: Uint8Array;
  readonly includedAfter: Uint8Array | undefined;
  /** Some image leaves out columns (their values are `undefined`). */
  readonly partial: boolean;
  /** The decoder's tableFilter excluded the table: `rows` is empty. */
  readonly skipped: boolean;
}
export interface XidEvent {
  readonly kind: 'xid';
  readonly header: EventHeader;
  readonly xid: bigint;
}
export interface AnnotateRowsEvent {
  readonly kind: 'annotateRows';
  readonly header: EventHeader;
  readonly query: string;
}
export interface HeartbeatEvent {
  readonly kind: 'heartbeat';
  readonly header: EventHeader;
  readonly file: string;
}
export interface StopEvent {
  readonly kind: 'stop';
  readonly header: EventHeader;
}
/** Events a row-based stream does not act on (INTVAR, RAND, USER_VAR, INCIDENT, ...), kept named. */
export interface OtherEvent {
  readonly kind: 'other';
  readonly header: EventHeader;
  readonly name: string;
}

export type BinlogEvent =
  | FormatDescriptionEvent
  | RotateEvent
  | GtidEvent
  | GtidListEvent
  | BinlogCheckpointEvent
  | QueryEvent
  | TableMapEvent
  | RowsEvent
  | XidEvent
  | AnnotateRowsEvent
  | HeartbeatEvent
  | StopEvent
  | OtherEvent;

export interface EventDecoderOptions {
  /**
   * Whether events carry a CRC32 trailer before a FORMAT_DESCRIPTION says so: 'crc32' for a dump
   * that set @master_binlog_checksum, 'none' otherwise. A FORMAT_DESCRIPTION resets it.
   */
  readonly checksum?: 'crc32' | 'none';
  /** Verify CRC32 trailers (default true). */
  readonly verifyChecksums?: boolean;
  /** Fraction digits of old-format temporal columns, which the binlog does not carry. */
  readonly oldTemporalHints?: OldTemporalHints;
  /** The file the first events come from, for error messages; ROTATE events update it. */
  readonly file?: string;
  /** Table maps kept at most; a corrupt stream of ids cannot grow the map without bound. */
  readonly tableMapsMax?: number;
  /**
   * Which tables' rows to decode. Rows events of other tables come back with `skipped` true and
   * no rows: a stream pays nothing for tables it filters out (and cannot fail on them).
   */
  readonly tableFilter?: (table: TableMap) => boolean;
  /**
   * The columns of an UPDATE's before image to decode, per table (1 = decode); undefined: all. The
   * others come back null: a consumer that only needs the key of the old row builds no values for
   * the rest.
   */
  readonly updateBeforeColumns?: (table: TableMap) => Uint8Array | undefined;
  /**
   * Per table, the columns of after images (INSERT rows, UPDATE after images) to decode; the
   * image's bytes come with each change as `afterImage` (see decodeRows). Undefined: decode whole.
   */
  readonly afterImageColumns?: (table: TableMap) => Uint8Array | undefined;
  /**
   * Per table, a test on the key column that row images must pass to be decoded whole (see
   * RowKeyFilter); undefined: every image is decoded whole.
   */
  readonly rowKeyFilter?: (table: TableMap) => RowKeyFilter | undefined;
}

export const EVENT_DECODER_DEFAULTS = { tableMapsMax: 100_000 } as const;

/**
 * Decodes a stream of events. It keeps the state later events need: the checksum setting of the
 * current FORMAT_DESCRIPTION, table maps by id, and the current file name (for messages).
 */
export class EventDecoder {
  private checksum: boolean;
  private readonly verify: boolean;
  private readonly hints: OldTemporalHints | undefined;
  private readonly tableMapsMax: number;
  private readonly tableFilter: ((table: TableMap) => boolean) | undefined;
  private readonly wanted = new WeakMap<TableMap, boolean>();
  private readonly updateBeforeColumns: ((table: TableMap) => Uint8Array | undefined) | undefined;
  private readonly beforeMasks = new WeakMap<TableMap, Uint8Array | null>();
  private readonly afterImageColumns: ((table: TableMap) => Uint8Array | undefined) | undefined;
  private readonly afterMasks = new WeakMap<TableMap, Uint8Array | null>();
  private readonly rowKeyFilter: ((table: TableMap) => RowKeyFilter | undefined) | undefined;
  private readonly keyFilters = new WeakMap<TableMap, RowKeyFilter | null>();
  private readonly tables = new Map<number, TableMap>();
  private tableIdLength = 6;
  file: string;

  constructor(opts: EventDecoderOptions = {}) {
    this.checksum = opts.checksum === 'crc32';
    this.verify = opts.verifyChecksums ?? true;
    this.hints = opts.oldTemporalHints;
    this.tableMapsMax = opts.tableMapsMax ?? EVENT_DECODER_DEFAULTS.tableMapsMax;
    this.file = opts.file ?? '';
    this.tableFilter = opts.tableFilter;
    this.updateBeforeColumns = opts.updateBeforeColumns;
    this.afterImageColumns = opts.afterImageColumns;
    this.rowKeyFilter = opts.rowKeyFilter;
  }

  /** The table map a rows event refers to. */
  table(tableId: number): TableMap | undefined {
    return this.tables.get(tableId);
  }

  /** Decodes one whole event. The returned event may hold views into `ev` (strings are copies). */
  decode(ev: Buffer): BinlogEvent {
    if (ev.length < EVENT_HEADER_LENGTH) {
      throw new TesseraError(ER_CORRUPT_EVENT, `corrupt binlog event at ${this.file || 'stream'}: ${ev.length} bytes is shorter than an event header (${EVENT_HEADER_LENGTH})`);
    }
    const header: EventHeader = {
      timestamp: ev.readUInt32LE(0),
      type: ev[4],
      serverId: ev.readUInt32LE(5),
      size: ev.readUInt32LE(9),
      nextPos: ev.readUInt32LE(13),
      flags: ev.readUInt16LE(17),
    };
    try {
      if (header.size !== ev.length) throw new DecodeError(`header says ${header.size} bytes, the event has ${ev.length}`);
      if (header.type === EVENT.FORMAT_DESCRIPTION) return this.formatDescription(ev, header);
      let bodyEnd = ev.length;
      if (this.checksum) {
        if (ev.length < EVENT_HEADER_LENGTH + CHECKSUM_LENGTH) throw new DecodeError('too short for its checksum');
        bodyEnd -= CHECKSUM_LENGTH;
        if (this.verify) {
          const want = ev.readUInt32LE(bodyEnd);
          const got = zlib.crc32(ev.subarray(0, bodyEnd));
          if (want !== got) throw new DecodeError(`CRC32 mismatch: the event says 0x${want.toString(16).padStart(8, '0')}, its bytes give 0x${got.toString(16).padStart(8, '0')}`);
        }
      }
      return this.body(header, ev.subarray(EVENT_HEADER_LENGTH, bodyEnd));
    } catch (err) {
      if (err instanceof TesseraError) throw err;
      const why = err instanceof DecodeError ? err.message : `${(err as Error).message ?? String(err)}`;
      const at = header.nextPos > 0 && header.nextPos >= header.size ? `${this.file || 'stream'}:${header.nextPos - header.size}` : this.file || 'stream';
      throw new TesseraError(ER_CORRUPT_EVENT, `corrupt binlog event ${eventName(header.type)} at ${at}: ${why}`, { cause: err });
    }
  }

  private formatDescription(ev: Buffer, header: EventHeader): FormatDescriptionEvent {
    const b = ev.subarray(EVENT_HEADER_LENGTH);
    if (b.length < 2 + 50 + 4 + 1) throw new DecodeError(`${b.length} bytes is too short`);
    const binlogVersion = b.readUInt16LE(0);
    if (binlogVersion !== 4) throw new DecodeError(`binlog version ${binlogVersion} is not supported (4 is)`);
    const raw = b.subarray(2, 52);
    const nul = raw.indexOf(0);
    const serverVersion = raw.toString('latin1', 0, nul < 0 ? 50 : nul);
    const headerLength = b[56];
    if (headerLength !== EVENT_HEADER_LENGTH) throw new DecodeError(`common header length ${headerLength} is not supported (19 is)`);
    // Servers that know checksums end the event with the algorithm byte and (if on) a CRC32.
    const alg = b[b.length - CHECKSUM_LENGTH - 1];
    let checksum: 'none' | 'crc32';
    if (alg === CHECKSUM_ALG.CRC32) {
      checksum = 'crc32';
      if (this.verify) {
        const want = ev.readUInt32LE(ev.length - CHECKSUM_LENGTH);
        // The server sets LOG_EVENT_BINLOG_IN_USE_F in the file's FORMAT_DESCRIPTION after computing
        // its checksum (and clears it on close), so the checksum covers the flag cleared.
        let got: number;
        if (header.flags & LOG_EVENT_BINLOG_IN_USE_F) {
          const copy = Buffer.from(ev.subarray(0, ev.length - CHECKSUM_LENGTH));
          copy.writeUInt16LE(header.flags & ~LOG_EVENT_BINLOG_IN_USE_F, 17);
          got = zlib.crc32(copy);
        } else got = zlib.crc32(ev.subarray(0, ev.length - CHECKSUM_LENGTH));
        if (want !== got) throw new DecodeError(`CRC32 mismatch: the event says 0x${want.toString(16).padStart(8, '0')}, its bytes give 0x${got.toString(16).padStart(8, '0')}`);
      }
    } else if (alg === CHECKSUM_ALG.OFF) checksum = 'none';
    else throw new DecodeError(`checksum algorithm ${alg} is not supported (0 off, 1 CRC32)`);
    const postHeaders = b.subarray(57, b.length - CHECKSUM_LENGTH - 1);
    const tmPost = postHeaders[EVENT.TABLE_MAP - 1];
    this.tableIdLength = tmPost === 6 ? 4 : 6;
    this.checksum = checksum === 'crc32';
    // A new FORMAT_DESCRIPTION starts a new file (or server restart): earlier table ids are void.
    this.tables.clear();
    return { kind: 'formatDescription', header, binlogVersion, serverVersion, checksum };
  }

  private body(header: EventHeader, b: Buffer): BinlogEvent {
    switch (header.type) {
      case EVENT.ROTATE: {
        if (b.length < 8) throw new DecodeError(`${b.length} bytes is too short`);
        const position = Number(b.readBigUInt64LE(0));
        const file = b.toString('utf8', 8);
        if (file.length === 0) throw new DecodeError('empty file name');
        this.file = file;
        return { kind: 'rotate', header, file, position };
      }
      case EVENT.GTID: {
        if (b.length < 13) throw new DecodeError(`${b.length} bytes is too short`);
        const seq = b.readBigUInt64LE(0);
        const domain = b.readUInt32LE(8);
        const flags = b[12];
        let commitId: bigint | undefined;
        if (flags & GTID_FLAG.GROUP_COMMIT_ID) {
          if (b.length < 21) throw new DecodeError('group commit id flag set, but the event has no commit id');
          commitId = b.readBigUInt64LE(13);
        }
        return {
          kind: 'gtid',
          header,
          gtid: gtid(domain, header.serverId, seq),
          flags,
          standalone: (flags & GTID_FLAG.STANDALONE) !== 0,
          ddl: (flags & GTID_FLAG.DDL) !== 0,
          commitId,
        };
      }
      case EVENT.GTID_LIST: {
        if (b.length < 4) throw new DecodeError(`${b.length} bytes is too short`);
        const count = b.readUInt32LE(0) & 0x0fffffff;
        if (b.length < 4 + count * 16) throw new DecodeError(`says ${count} GTIDs, has room for ${Math.floor((b.length - 4) / 16)}`);
        const gtids: Gtid[] = [];
        for (let i = 0; i < count; i++) {
          const o = 4 + i * 16;
          gtids.push(gtid(b.readUInt32LE(o), b.readUInt32LE(o + 4), b.readBigUInt64LE(o + 8)));
        }
        return { kind: 'gtidList', header, gtids };
      }
      case EVENT.BINLOG_CHECKPOINT: {
        if (b.length < 4) throw new DecodeError(`${b.length} bytes is too short`);
        const len = b.readUInt32LE(0);
        if (4 + len > b.length) throw new DecodeError(`file name of ${len} bytes runs past the event`);
        return { kind: 'binlogCheckpoint', header, file: b.toString('utf8', 4, 4 + len) };
      }
      case EVENT.QUERY: {
        if (b.length < 13) throw new DecodeError(`${b.length} bytes is too short`);
        const threadId = b.readUInt32LE(0);
        const execTime = b.readUInt32LE(4);
        const dbLen = b[8];
        const errorCode = b.readUInt16LE(9);
        const statusLen = b.readUInt16LE(11);
        const dbStart = 13 + statusLen;
        if (dbStart + dbLen + 1 > b.length) throw new DecodeError(`status variables (${statusLen} bytes) and database name (${dbLen}) run past the event`);
        if (b[dbStart + dbLen] !== 0) throw new DecodeError('database name is not NUL-terminated');
        return {
          kind: 'query',
          header,
          threadId,
          execTime,
          errorCode,
          database: b.toString('utf8', dbStart, dbStart + dbLen),
          query: b.toString('utf8', dbStart + dbLen + 1),
        };
      }
      case EVENT.TABLE_MAP: {
        const table = parseTableMap(b, this.tableIdLength, this.hints);
        const prev = this.tables.get(table.tableId);
        // The server repeats the map before every statement; keeping the old object keeps its compiled plan.
        if (prev !== undefined && prev.sameShape(table)) return { kind: 'tableMap', header, table: prev };
        if (prev === undefined && this.tables.size >= this.tableMapsMax) {
          throw new DecodeError(`more than tableMapsMax (${this.tableMapsMax}) table maps in one binlog file`);
        }
        this.tables.set(table.tableId, table);
        return { kind: 'tableMap', header, table };
      }
      case EVENT.WRITE_ROWS_V1:
      case EVENT.UPDATE_ROWS_V1:
      case EVENT.DELETE_ROWS_V1:
      case EVENT.WRITE_ROWS_V2:
      case EVENT.UPDATE_ROWS_V2:
      case EVENT.DELETE_ROWS_V2:
        return this.rows(header, b);
      case EVENT.XID:
        if (b.length < 8) throw new DecodeError(`${b.length} bytes is too short`);
        return { kind: 'xid', header, xid: b.readBigUInt64LE(0) };
      case EVENT.ANNOTATE_ROWS:
        return { kind: 'annotateRows', header, query: b.toString('utf8') };
      case EVENT.HEARTBEAT:
        return { kind: 'heartbeat', header, file: b.toString('utf8') };
      case EVENT.STOP:
        return { kind: 'stop', header };
      case EVENT.START_ENCRYPTION:
        throw new DecodeError('the binlog is encrypted (encrypt_binlog=ON); Tessera reads unencrypted binlogs only');
      case EVENT.QUERY_COMPRESSED:
      case EVENT.WRITE_ROWS_COMPRESSED_V1:
      case EVENT.UPDATE_ROWS_COMPRESSED_V1:
      case EVENT.DELETE_ROWS_COMPRESSED_V1:
      case EVENT.WRITE_ROWS_COMPRESSED:
      case EVENT.UPDATE_ROWS_COMPRESSED:
      case EVENT.DELETE_ROWS_COMPRESSED:
        throw new DecodeError('compressed events (log_bin_compress=ON) are not supported; turn log_bin_compress off on the source');
      default:
        return { kind: 'other', header, name: eventName(header.type) };
    }
  }

  private rows(header: EventHeader, b: Buffer): RowsEvent {
    const t = header.type;
    const version: 1 | 2 = t >= EVENT.WRITE_ROWS_V2 ? 2 : 1;
    const action: RowsAction = t === EVENT.WRITE_ROWS_V1 || t === EVENT.WRITE_ROWS_V2 ? 'insert' : t === EVENT.UPDATE_ROWS_V1 || t === EVENT.UPDATE_ROWS_V2 ? 'update' : 'delete';
    const idLen = this.tableIdLength;
    if (b.length < idLen + 2) throw new DecodeError(`${b.length} bytes is too short`);
    const tableId = b.readUIntLE(0, idLen);
    const flags = b.readUInt16LE(idLen);
    let pos = idLen + 2;
    if (version === 2) {
      if (b.length < pos + 2) throw new DecodeError('too short for the v2 extra data length');
      const extra = b.readUInt16LE(pos);
      if (extra < 2 || pos + extra > b.length) throw new DecodeError(`v2 extra data length ${extra} is out of range`);
      pos += extra;
    }
    const table = this.tables.get(tableId);
    if (table === undefined) throw new DecodeError(`no TABLE_MAP for table id ${tableId} precedes it`);
    if (this.tableFilter !== undefined) {
      let want = this.wanted.get(table);
      if (want === undefined) {
        want = this.tableFilter(table);
        this.wanted.set(table, want);
      }
      if (!want) return { kind: 'rows', header, action, version, table, flags, rows: [], included: new Uint8Array(0), includedAfter: undefined, partial: false, skipped: true };
    }
    let mask: Uint8Array | undefined;
    if (action === 'update' && this.updateBeforeColumns !== undefined) {
      let m = this.beforeMasks.get(table);
      if (m === undefined) {
        m = this.updateBeforeColumns(table) ?? null;
        this.beforeMasks.set(table, m);
      }
      mask = m ?? undefined;
    }
    let keyFilter: RowKeyFilter | undefined;
    if (this.rowKeyFilter !== undefined) {
      let f = this.keyFilters.get(table);
      if (f === undefined) {
        f = this.rowKeyFilter(table) ?? null;
        this.keyFilters.set(table, f);
      }
      keyFilter = f ?? undefined;
    }
    let afterWant: Uint8Array | undefined;
    if (action !== 'delete' && this.afterImageColumns !== undefined) {
      let m = this.afterMasks.get(table);
      if (m === undefined) {
        m = this.afterImageColumns(table) ?? null;
        this.afterMasks.set(table, m);
      }
      afterWant = m ?? undefined;
    }
    const d = decodeRows(b, pos, b.length, table, action, mask, keyFilter, afterWant);
    return { kind: 'rows', header, action, version, table, flags, rows: d.rows, included: d.included, includedAfter: d.includedAfter, partial: d.partial, skipped: false };
  }
}
