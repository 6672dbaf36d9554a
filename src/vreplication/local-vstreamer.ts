// The source tablet's VStreamer: binlog events and copy rows from the tablet's own MariaDB, filtered
// by the stream's rules. The contract is on vstreamer.ts; the RPC server (src/tablet/rpc-service.ts)
// wraps this class and VStreamerClient reaches it over the network.
//
// vstream: a RowStreamer (one binlog connection, registered as a replica with a server id of its
// own) from `position`, its events gathered into callbacks of at most packetSizeMax events or
// packetBytesMax bytes, and sent at once at a transaction's end when nothing more is queued, so a
// quiet source is not delayed by batching. Heartbeats are MariaDB's own: the dump asks for one
// every heartbeatIntervalMs without events, and the streamer passes it on.
//
// vstreamRows: a consistent snapshot per call (START TRANSACTION WITH CONSISTENT SNAPSHOT, whose
// GTID position heads the answer), then the table's rows after lastPk in key order, one SELECT per
// batch. The rows go through the same rule planning as binlog rows (filter.ts planColumns), so
// the copy keeps exactly the rows replication would. A call ends after rowsMax rows, so no
// snapshot stays open for a whole big table.
//
// Calls with key-range rules for the same table from the same lastPk and rowsMax (the target
// streams of a Reshard) are served by one scan (shared-scan.ts): they wait a short joining window
// for each other; every answer is the one a scan alone would give.
import { ER, TesseraError, type ErrorCode } from '../mysql/errors.js';
import { Client, type ClientOptions } from '../mysql/client.js';
import { TYPE } from '../mysql/constants.js';
import { decodeTextRow, type SqlValue } from '../mysql/values.js';
import type { ColumnDefinition } from '../mysql/protocol.js';
import { BINLOG_READER_DEFAULTS, currentPosition, GtidPosition } from '../mysql/binlog/index.js';
import { quoteIdent, quoteString } from '../sql/index.js';
import { isTopoError, type TopoServer } from '../topo/index.js';
import { parseKeyspaceVSchema, type KeyspaceVSchema } from '../vschema/index.js';
import { logger } from '../log/index.js';
import { keyspaceIdSource, planColumns, type TextRowsKeep } from './filter.js';
import { RowStreamer, type FieldInfo, type StreamEvent } from './row-streamer.js';
import { Snapshot } from './snapshot.js';
import { eventSize, rowBytes } from './vstream-codec.js';
import type { CopyChunk, RowsBatch, VStreamer, VStreamRequest, VStreamRowsRequest } from './vstreamer.js';
import { ScanJoiner, shareKey } from './shared-scan.js';

const log = logger('vstreamer');

export const VSTREAMER_DEFAULTS = {
  /** Events per vstream callback (VStreamRequest.packetSizeMax). */
  packetSizeMax: 500,
  /** Encoded bytes per vstream callback, whichever comes first (Vitess: --vstream_packet_size). */
  packetBytesMax: 250_000,
  /** A heartbeat after this long without events (VStreamRequest.heartbeatIntervalMs). */
  heartbeatIntervalMs: 1000,
  /** Rows scanned per SELECT and per batch of vstreamRows (VStreamRowsRequest.batchRowsMax). */
  copyBatchRowsMax: 10_000,
  /** Encoded bytes of rows per batch of vstreamRows (VStreamRowsRequest.batchBytesMax). */
  copyBatchBytesMax: 1024 * 1024,
  /**
   * vstreamRows: rows of a reader's first SELECT, before it knows how wide rows are (each later
   * SELECT asks for about a batch's bytes of rows, by the width the previous one read).
   */
  firstSelectRowsMax: 200,
  /**
   * vstreamRows: bytes of batches a SELECT reads ahead of the consumer before reading pauses (rows
   * far wider than the previous SELECT's); at least twice the batch's bytes.
   */
  pauseBytesMax: 8 * 1024 * 1024,
  /**
   * vstreamRows: how long a call with a key-range rule waits for calls asking for the same table
   * from the same lastPk and rowsMax (the target streams of a Reshard), to serve them all from one
   * scan (shared-scan.ts); 0 = every call scans alone.
   */
  sharedScanJoinMs: 250,
  /**
   * vstreamRows: when calls ended their cycles at one key (a shared scan's subscribers, or streams
   * that scanned alone), a call for the next cycle from that key waits up to this long after those
   * ends for as many calls, and the scan starts as soon as they are all there.
   */
  sharedScanRejoinMs: 3000,
  /** vstreamRows: the joining window of a call whose previous cycle ended alone at its lastPk. */
  sharedScanJoinAloneMs: 50,
  /**
   * vstreamRows, a shared scan: how long the reader waits for a subscriber that has not taken its
   * batches after another one took all of its own; then that subscriber's cycle ends early (done: false).
   */
  sharedScanLagMs: 10_000,
  /** Streams (vstream and vstreamRows) open at once; each holds one MariaDB connection. */
  streamsMax: 64,
  /**
   * Binlog items a vstream reads ahead of a slow consumer before pausing the binlog socket. The
   * queue holds decoded rows: a deep one (it was 16 MiB) keeps tens of thousands of them alive long
   * enough for the garbage collector to promote them, which cost more CPU than the read-ahead
   * saved (docs/vreplication.md, "Performance"); the socket's kernel buffer reads ahead too.
   */
  readerQueueItemsMax: 1000,
  readerQueueBytesMax: 256 * 1024,
};

export type VStreamerLimits = typeof VSTREAMER_DEFAULTS;

/** Copy rows decoded before they are filtered together (one vindex call per group). */
const FILTER_GROUP_ROWS = 512;
/** A key-range copy sends a batch, if only to move lastPk on, at least every this many × batchRowsMax rows scanned. */
const UNSENT_SCAN_FACTOR = 8;

/** MySQL's 1173: a table needs a primary key (or here, a unique NOT NULL key). */
export const ER_REQUIRES_PRIMARY_KEY: ErrorCode = { errno: 1173, sqlState: '42000' };

/** Server ids a tablet's binlog streams register with: base + slot, slot < streamsMax. */
export function vstreamServerIdBase(tabletUid: number): number {
  // Above every tablet's own server id (its uid, as mysqlctl writes it), a window per uid.
  return 0x40000000 + (tabletUid % 0x40000) * 0x1000;
}

/** Server ids held by streams of this process: two live dumps with one id would kill each other. */
const serverIdsInUse = new Set<number>();

export interface LocalVStreamerConfig {
  /** The keyspace database (`vt_customer`): the tables rules name live there. */
  readonly dbName: string;
  /** How to reach the tablet's MariaDB with replication and read privileges (vt_dba). */
  readonly connection: Omit<ClientOptions, 'database'>;
  /** The keyspace's VSchema now (for key-range rules by primary vindex); read at each call's start. */
  readonly vschema: () => Promise<KeyspaceVSchema | undefined>;
  /** First server id of this tablet's binlog streams (see vstreamServerIdBase). */
  readonly serverIdBase: number;
  readonly limits?: Partial<VStreamerLimits>;
}

/** What one open call is doing: for status pages and for tests that check buffers stay bounded. */
export interface VStreamStats {
  readonly kind: 'vstream' | 'vstreamRows';
  readonly serverId: number | undefined;
  /** Events (vstream) or rows (vstreamRows) handed to the callback so far. */
  readonly sent: number;
  /** Binlog items read from MariaDB but not yet taken by the stream. */
  readonly readerQueuedItems: number;
  readonly readerQueuedBytes: number;
  /** Where the binlog reader is: the end of the last whole transaction it read from MariaDB. */
  readonly readerPosition: string | undefined;
}

interface Open {
  readonly abort: AbortController;
  stats: { kind: 'vstream' | 'vstreamRows'; serverId: number | undefined; sent: number; readerQueuedItems: number; readerQueuedBytes: number };
  reader?: { readonly queued: { readonly items: number; readonly bytes: number }; readonly position: GtidPosition };
}

/** MariaDB-unreachable errors carry kind UNAVAILABLE: the caller should pick another source. */
export function sourceError(err: unknown): TesseraError {
  const e = TesseraError.from(err);
  if (e.kind === undefined && (e.errno === ER.SERVER_GONE.errno || e.errno === ER.CONN_ERROR.errno || e.errno === 2013 || e.errno === ER.SERVER_SHUTDOWN.errno)) {
    return new TesseraError(e, `the source tablet's MariaDB is unavailable: ${e.message}`, { cause: e, kind: 'UNAVAILABLE' });
  }
  return e;
}

function text(v: SqlValue | undefined): string {
  if (v === null || v === undefined) return '';
  return Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
}

/** Refuses a source whose binlog a stream cannot follow, saying which setting to change. */
export async function checkBinlogSettings(c: Client): Promise<void> {
  const r = await c.query('SELECT @@GLOBAL.log_bin, @@GLOBAL.binlog_format, @@GLOBAL.binlog_row_image, @@GLOBAL.binlog_row_metadata');
  const [logBin, format, image, metadata] = r.rows[0].map(text);
  const fix = 'set it in the MariaDB configuration (mysqlctl writes it) or with SET GLOBAL, then restart the stream';
  if (logBin !== '1' && logBin.toUpperCase() !== 'ON') throw new TesseraError(ER.UNKNOWN_ERROR, `the source has no binary log (log_bin=OFF): VReplication reads changes from it; enable log_bin`);
  if (format.toUpperCase() !== 'ROW') throw new TesseraError(ER.UNKNOWN_ERROR, `the source logs binlog_format=${format}: VReplication needs binlog_format=ROW; ${fix}`);
  if (image.toUpperCase() !== 'FULL') throw new TesseraError(ER.UNKNOWN_ERROR, `the source logs binlog_row_image=${image}: VReplication needs binlog_row_image=FULL; ${fix}`);
  if (metadata.toUpperCase() !== 'FULL') {
    throw new TesseraError(ER.UNKNOWN_ERROR, `the source logs binlog_row_metadata=${metadata}: VReplication needs binlog_row_metadata=FULL (column names and signedness); ${fix}`);
  }
}

function parsePosition(text: string): GtidPosition {
  try {
    return GtidPosition.parse(text);
  } catch (err) {
    throw new TesseraError(ER.WRONG_ARGUMENTS, `vstream position '${text}': ${(err as Error).message}`, { cause: err });
  }
}

// ---- a table as the copy sees it --------------------------------------------------------------

export interface CopyColumn {
  readonly name: string;
  readonly dataType: string;
  /** information_schema's IS_NULLABLE (VDiff's chunk checksums leave NULL markers out where it is NO). */
  readonly nullable?: boolean;
  readonly field: FieldInfo;
}

export interface CopyTable {
  readonly columns: readonly CopyColumn[];
  readonly key: readonly string[];
}

// What the binlog's metadata says: binary strings and geometry carry the binary collation (63),
// YEAR counts as unsigned.
const BINARY_TYPES = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob', 'geometry', 'point', 'linestring', 'polygon', 'multipoint', 'multilinestring', 'multipolygon', 'geometrycollection']);
const NUMERIC_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'bigint', 'float', 'double', 'decimal']);

/** The binlog's type for a column (what a `field` event of vstream says), from information_schema. */
function binlogType(dataType: string): number {
  switch (dataType) {
    case 'tinyint':
      return TYPE.TINY;
    case 'smallint':
      return TYPE.SHORT;
    case 'mediumint':
      return TYPE.INT24;
    case 'int':
      return TYPE.LONG;
    case 'bigint':
      return TYPE.LONGLONG;
    case 'float':
      return TYPE.FLOAT;
    case 'double':
      return TYPE.DOUBLE;
    case 'decimal':
      return TYPE.NEWDECIMAL;
    case 'bit':
      return TYPE.BIT;
    case 'year':
      return TYPE.YEAR;
    case 'date':
      return TYPE.DATE;
    case 'time':
      return TYPE.TIME2;
    case 'datetime':
      return TYPE.DATETIME2;
    case 'timestamp':
      return TYPE.TIMESTAMP2;
    case 'varchar':
    case 'varbinary':
      return TYPE.VARCHAR;
    case 'tinytext':
    case 'text':
    case 'mediumtext':
    case 'longtext':
    case 'tinyblob':
    case 'blob':
    case 'mediumblob':
    case 'longblob':
    case 'json':
      return TYPE.BLOB;
    case 'enum':
      return TYPE.ENUM;
    case 'set':
      return TYPE.SET;
    case 'geometry':
    case 'point':
    case 'linestring':
    case 'polygon':
    case 'multipoint':
    case 'multilinestring':
    case 'multipolygon':
    case 'geometrycollection':
      return TYPE.GEOMETRY;
    default:
      // char, binary, and MariaDB's fixed-size types (uuid, inet6) are written as STRING.
      return TYPE.STRING;
  }
}

/** A table's columns (with their binlog field descriptions) and its key, as the copy reads them. */
export async function describeTable(c: Client, database: string, table: string): Promise<CopyTable> {
  const cols = await c.query(
    'SELECT c.COLUMN_NAME, c.DATA_TYPE, c.COLUMN_TYPE, co.ID, c.IS_NULLABLE FROM information_schema.COLUMNS c ' +
      'LEFT JOIN information_schema.COLLATIONS co ON co.COLLATION_NAME = c.COLLATION_NAME ' +
      `WHERE c.TABLE_SCHEMA = ${quoteString(database)} AND c.TABLE_NAME = ${quoteString(table)} ORDER BY c.ORDINAL_POSITION`,
  );
  if (cols.rows.length === 0) throw new TesseraError(ER.NO_SUCH_TABLE, `Table '${database}.${table}' doesn't exist on the source tablet: check the table name in the stream's filter`);
  const columns = cols.rows.map((r): CopyColumn => {
    const name = text(r[0]);
    const dataType = text(r[1]).toLowerCase();
    const collationId = r[3] === null ? undefined : Number(r[3]);
    return {
      name,
      dataType,
      nullable: text(r[4]).toUpperCase() !== 'NO',
      field: {
        name,
        type: binlogType(dataType),
        unsigned: dataType === 'year' || (NUMERIC_TYPES.has(dataType) && /\bunsigned\b/i.test(text(r[2]))),
        collation: collationId ?? (BINARY_TYPES.has(dataType) ? 63 : undefined),
      },
    };
  });
  // SHOW INDEX lists keys as the server orders them: PRIMARY first, then unique NOT NULL keys,
  // which is also the key InnoDB and the binlog's metadata treat as primary when there is none.
  const idx = await c.query(`SHOW INDEX FROM ${quoteIdent(database)}.${quoteIdent(table)}`);
  const at = (name: string): number => idx.fields.findIndex((f) => f.name.toLowerCase() === name);
  const [nonUnique, keyName, seq, column, subPart, nullable] = ['non_unique', 'key_name', 'seq_in_index', 'column_name', 'sub_part', 'null'].map(at);
  const keys = new Map<string, { columns: string[]; usable: boolean }>();
  for (const r of idx.rows) {
    if (text(r[nonUnique]) !== '0') continue;
    const name = text(r[keyName]);
    let k = keys.get(name);
    if (k === undefined) keys.set(name, (k = { columns: [], usable: true }));
    k.columns[Number(text(r[seq])) - 1] = text(r[column]);
    if (name !== 'PRIMARY' && (text(r[nullable]).toUpperCase() === 'YES' || r[subPart] !== null)) k.usable = false;
  }
  const key = keys.get('PRIMARY') ?? [...keys.values()].find((k) => k.usable);
  if (key === undefined) {
    throw new TesseraError(
      ER_REQUIRES_PRIMARY_KEY,
      `table ${database}.${table} has no primary key and no unique key whose columns are all NOT NULL: VReplication copies rows in key order and resumes from the last key; add a primary key (ALTER TABLE ${quoteIdent(table)} ADD PRIMARY KEY (...))`,
    );
  }
  return { columns, key: key.columns };
}

/** A key value as a SQL literal for `WHERE key > last`, in the column's own terms. */
export function keyLiteral(v: SqlValue, dataType: string): string {
  if (v === null) return 'NULL';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (Buffer.isBuffer(v)) return `X'${v.toString('hex')}'`;
  // DECIMAL values are exact strings; compared as a string they would go through DOUBLE.
  if (dataType === 'decimal' && /^-?[0-9]+(\.[0-9]+)?$/.test(v)) return v;
  return quoteString(v);
}

/** The shortest decimal that reads back as the same float32: the binlog reader's form of FLOAT. */
export function shortestFloat32(x: number): number {
  const f = Math.fround(x);
  if (!Number.isFinite(f) || f === 0) return f;
  for (let p = 1; p < 9; p++) {
    const c = Number(f.toPrecision(p));
    if (Math.fround(c) === f) return c;
  }
  return f;
}

// ---- the streamer -----------------------------------------------------------------------------

export class LocalVStreamer implements VStreamer {
  readonly limits: VStreamerLimits;
  private readonly open = new Set<Open>();
  private closed = false;
  /** vstreamRows calls that may share one scan (shared-scan.ts). */
  private readonly joiner: ScanJoiner;

  constructor(private readonly cfg: LocalVStreamerConfig) {
    this.limits = { ...VSTREAMER_DEFAULTS, ...cfg.limits };
    this.joiner = new ScanJoiner({ dbName: cfg.dbName, connection: cfg.connection, vschema: cfg.vschema, limits: this.limits });
    if (this.limits.streamsMax > 0x1000) throw new Error('streamsMax above the server id window of 4096');
  }

  /** Shared copy scans run, the calls they served, and calls cut for lagging. */
  get sharedScans(): { readonly scans: number; readonly subscribers: number; readonly cut: number } {
    return { ...this.joiner.counters };
  }

  /** The calls open now. */
  stats(): VStreamStats[] {
    return [...this.open].map((o) => {
      const q = o.reader?.queued;
      return { ...o.stats, readerQueuedItems: q?.items ?? 0, readerQueuedBytes: q?.bytes ?? 0, readerPosition: o.reader?.position.toString() };
    });
  }

  /** Ends every open call (they resolve) and refuses new ones: the tablet is shutting down. */
  close(): void {
    this.closed = true;
    for (const o of this.open) o.abort.abort(new TesseraError(ER.SERVER_SHUTDOWN, 'the source tablet is shutting down', { kind: 'UNAVAILABLE' }));
  }

  private admit(kind: 'vstream' | 'vstreamRows', signal: AbortSignal): Open {
    if (this.closed) throw new TesseraError(ER.SERVER_SHUTDOWN, 'the source tablet is shutting down', { kind: 'UNAVAILABLE' });
    if (this.open.size >= this.limits.streamsMax) {
      throw new TesseraError(ER.CON_COUNT, `the source tablet has ${this.open.size} streams open, its limit streamsMax (${this.limits.streamsMax}): try another source tablet or later`, {
        kind: 'RESOURCE_EXHAUSTED',
      });
    }
    const abort = new AbortController();
    const o: Open = { abort, stats: { kind, serverId: undefined, sent: 0, readerQueuedItems: 0, readerQueuedBytes: 0 } };
    const forward = () => abort.abort(signal.reason);
    if (signal.aborted) abort.abort(signal.reason);
    else signal.addEventListener('abort', forward, { once: true });
    abort.signal.addEventListener('abort', () => signal.removeEventListener('abort', forward), { once: true });
    this.open.add(o);
    return o;
  }

  private leave(o: Open): void {
    this.open.delete(o);
    if (o.stats.serverId !== undefined) serverIdsInUse.delete(o.stats.serverId);
    if (!o.abort.signal.aborted) o.abort.abort();
  }

  private allocateServerId(): number {
    for (let slot = 0; slot < this.limits.streamsMax; slot++) {
      const id = this.cfg.serverIdBase + slot;
      if (!serverIdsInUse.has(id)) {
        serverIdsInUse.add(id);
        return id;
      }
    }
    throw new TesseraError(ER.CON_COUNT, `no free binlog server id among ${this.limits.streamsMax} from ${this.cfg.serverIdBase} (streamsMax)`, { kind: 'RESOURCE_EXHAUSTED' });
  }

  async vstream(req: VStreamRequest, onEvents: (events: readonly StreamEvent[]) => Promise<void>, signal: AbortSignal): Promise<void> {
    const o = this.admit('vstream', signal);
    const stop = o.abort.signal;
    let streamer: RowStreamer | undefined;
    const onAbort = () => streamer?.close();
    stop.addEventListener('abort', onAbort, { once: true });
    let callbackError: unknown;
    try {
      const serverId = this.allocateServerId();
      o.stats.serverId = serverId;
      const packetSizeMax = Math.max(1, req.packetSizeMax ?? this.limits.packetSizeMax);
      const packetBytesMax = this.limits.packetBytesMax;
      const heartbeatMs = req.heartbeatIntervalMs ?? this.limits.heartbeatIntervalMs;
      const ids = keyspaceIdSource(await this.cfg.vschema());
      let start: GtidPosition;
      const c = await Client.connect(this.cfg.connection).catch((err) => {
        throw sourceError(err);
      });
      try {
        await checkBinlogSettings(c);
        start = req.position === 'current' ? await currentPosition(c) : parsePosition(req.position);
      } finally {
        c.close();
      }
      if (stop.aborted) return this.ended(signal, stop);
      const conn = this.cfg.connection;
      streamer = new RowStreamer({
        host: conn.host,
        port: conn.port,
        socketPath: conn.socketPath,
        user: conn.user,
        password: conn.password,
        connectTimeoutMs: conn.connectTimeoutMs,
        position: start,
        database: this.cfg.dbName,
        filter: req.filter,
        keyspaceIds: ids,
        keyOnlyBefore: req.keyOnlyBefore === true,
        rawAfterImages: req.rawAfterImages === true,
        serverId,
        heartbeatPeriodMs: heartbeatMs,
        idleTimeoutMs: Math.max(heartbeatMs * BINLOG_READER_DEFAULTS.idleTimeoutFactor, 5000),
        queueItemsMax: this.limits.readerQueueItemsMax,
        queueBytesMax: this.limits.readerQueueBytesMax,
      });
      o.reader = streamer.reader;
      log.debug({ serverId, position: start.toString(), filter: req.filter }, 'vstream started');
      let batch: StreamEvent[] = [];
      let bytes = 0;
      const flush = async (): Promise<void> => {
        const b = batch;
        batch = [];
        bytes = 0;
        o.stats.sent += b.length;
        try {
          await onEvents(b);
        } catch (err) {
          callbackError ??= err;
          throw err;
        }
      };
      for await (const ev of streamer) {
        if (stop.aborted) break;
        // Positions of transactions that had nothing for this stream only move the position on:
        // a run of them is worth its last one.
        const last = batch.length > 0 ? batch[batch.length - 1] : undefined;
        if (ev.type === 'position' && last?.type === 'position') {
          bytes -= eventSize(last);
          batch[batch.length - 1] = ev;
        } else {
          batch.push(ev);
        }
        bytes += eventSize(ev);
        const boundary = ev.type === 'commit' || ev.type === 'position' || ev.type === 'heartbeat' || ev.type === 'rollback';
        if (batch.length >= packetSizeMax || bytes >= packetBytesMax || (boundary && streamer.reader.queued.items === 0)) await flush();
      }
      if (stop.aborted) return this.ended(signal, stop);
      // The reader only ends by close (an abort) or by failing (an exception), so this is unexpected.
      throw new TesseraError(ER.SERVER_GONE, 'the binlog stream ended', { kind: 'UNAVAILABLE' });
    } catch (err) {
      if (signal.aborted) return;
      if (callbackError !== undefined) throw callbackError;
      if (stop.aborted) return this.ended(signal, stop);
      throw sourceError(err);
    } finally {
      stop.removeEventListener('abort', onAbort);
      streamer?.close();
      this.leave(o);
    }
  }

  /** A call stopped early: by the caller's signal it simply ends; by the tablet closing it fails. */
  private ended(signal: AbortSignal, stop: AbortSignal): void {
    if (!signal.aborted) throw TesseraError.from(stop.reason, ER.SERVER_SHUTDOWN);
  }

  async vstreamRows(req: VStreamRowsRequest, onBatch: (batch: RowsBatch) => Promise<void>, signal: AbortSignal): Promise<void> {
    const o = this.admit('vstreamRows', signal);
    const key = this.limits.sharedScanJoinMs > 0 ? shareKey(req) : undefined;
    if (key === undefined) return this.rowsAlone(o, req, onBatch, signal);
    return this.joiner.join(key, {
      req,
      onBatch,
      signal,
      stop: o.abort.signal,
      stats: o.stats,
      alone: (noted) => this.rowsAlone(o, req, noted, signal),
      leave: () => this.leave(o),
    });
  }

  private async rowsAlone(o: Open, req: VStreamRowsRequest, onBatch: (batch: RowsBatch) => Promise<void>, signal: AbortSignal): Promise<void> {
    const stop = o.abort.signal;
    const snaps: Snapshot[] = [];
    let lockConn: Client | undefined;
    const destroyAll = (why: string) => {
      for (const sn of snaps) sn.client.destroy(new TesseraError(ER.QUERY_INTERRUPTED, why));
      lockConn?.destroy(new TesseraError(ER.QUERY_INTERRUPTED, why));
    };
    const onAbort = () => destroyAll('vstreamRows cancelled');
    stop.addEventListener('abort', onAbort, { once: true });
    // The callback's own failure, kept apart from the connection errors its cleanup causes.
    let callbackError: unknown;
    // Several chunk readers deliver through one callback, one batch at a time (the callback is the
    // flow control: a reader waits until its batch was taken).
    let chain: Promise<void> = Promise.resolve();
    const deliver = (b: RowsBatch): Promise<void> => {
      const p = chain.then(async () => {
        if (callbackError !== undefined) throw callbackError;
        if (b.kind === 'rows') o.stats.sent += b.rows.length;
        try {
          await onBatch(b);
        } catch (err) {
          callbackError ??= err;
          destroyAll('vstreamRows consumer failed');
          throw err;
        }
      });
      chain = p.catch(() => undefined);
      return p;
    };
    try {
      const database = this.cfg.dbName;
      const batchRowsMax = Math.max(1, req.batchRowsMax ?? this.limits.copyBatchRowsMax);
      const batchBytesMax = Math.max(1, req.batchBytesMax ?? this.limits.copyBatchBytesMax);
      const rowsMax = req.rowsMax ?? 0;
      if (req.tables !== undefined && (req.chunks !== undefined || req.sampleChunks !== undefined)) {
        throw new TesseraError(ER.WRONG_ARGUMENTS, 'vstreamRows: tables (an atomic copy on one snapshot) cannot be combined with chunks or sampleChunks');
      }
      const chunked = req.chunks !== undefined && req.chunks.length > 0 && req.sampleChunks === undefined;
      const chunks: readonly CopyChunk[] = chunked ? req.chunks! : [{ lastPk: req.tables ? null : req.lastPk, endPk: null }];
      const from = `${quoteIdent(database)}.${quoteIdent(req.table)}`;
      try {
        if (chunks.length > 1) {
          // Every chunk's snapshot must hold the same rows of the table: while they open, a read
          // lock keeps writers of this table out (it waits for their transactions to end first).
          // Writes to other tables go on, so the snapshots' positions may still differ by
          // transactions that do not touch this table; the latest of them is the cycle's position.
          lockConn = await Client.connect(this.cfg.connection);
          await describeTable(lockConn, database, req.table);
          await lockConn.query(`LOCK TABLES ${from} READ`);
        }
        for (let i = 0; i < chunks.length; i++) {
          snaps.push(await Snapshot.open(this.cfg.connection));
          if (stop.aborted) return this.ended(signal, stop);
        }
        if (lockConn) {
          await lockConn.query('UNLOCK TABLES');
          lockConn.close();
          lockConn = undefined;
        }
      } catch (err) {
        throw sourceError(err);
      }
      if (stop.aborted) return this.ended(signal, stop);
      const client = snaps[0].client;
      let position = snaps[0].position;
      for (const sn of snaps) if (sn.position.atLeast(position)) position = sn.position;
      await checkBinlogSettings(client);
      // One table, or (an atomic copy: `tables`) every table in turn on the one snapshot.
      const copyOne = async (tableName: string): Promise<void> => {
        const from = `${quoteIdent(database)}.${quoteIdent(tableName)}`;
        const table = await describeTable(client, database, tableName);
        const names = table.columns.map((c) => c.name);
        const ids = keyspaceIdSource(await this.cfg.vschema());
        const plan = planColumns(req.filter, tableName, names, ids);
        if (plan === undefined) throw new TesseraError(ER.WRONG_ARGUMENTS, `no rule of the stream's filter matches table ${tableName}: add a rule for it or leave it out of the copy`);
        const keyIdx = table.key.map((k) => names.indexOf(k));
        for (const c of chunks) {
          for (const [what, v] of [['lastPk', c.lastPk], ['endPk', c.endPk]] as const) {
            if (v !== null && v.length !== keyIdx.length) {
              throw new TesseraError(ER.WRONG_ARGUMENTS, `${what} of table ${tableName} has ${v.length} values; its key (${table.key.join(', ')}) has ${keyIdx.length} columns`);
            }
          }
        }
        // Read only what the rule needs: its output columns, the key, and the key-range column; the
        // rule is planned again over that list, so its row indexes are the SELECT's.
        const read = [...new Set([...plan.columnIndexes, ...keyIdx, ...(plan.keyColumnIndex === undefined ? [] : [plan.keyColumnIndex])])].sort((a, b) => a - b);
        const readPlan = planColumns(req.filter, tableName, read.map((i) => names[i]), ids)!;
        const keyPos = keyIdx.map((i) => read.indexOf(i));
        const floatPos = read.flatMap((i, k) => (table.columns[i].dataType === 'float' ? [k] : []));
        // The rule keeps every column read, in order: a kept row goes out as decoded.
        const identity = readPlan.columnIndexes.length === read.length && readPlan.columnIndexes.every((k, j) => k === j);
        // A key-range rule tests rows on MariaDB's bytes and decodes only those it keeps (each
        // target shard of a split keeps its share of the rows) — unless the key column is a FLOAT,
        // whose value is the decoded one brought to float32 (shortestFloat32).
        const textFilter = readPlan.keepText !== undefined && !floatPos.includes(readPlan.keyColumnIndex!);
        await deliver({
          kind: 'header',
          position: position.toString(),
          ...(req.tables ? { table: tableName } : {}),
          fields: plan.columnIndexes.map((i, k) => ({ ...table.columns[i].field, name: plan.columnNames[k] })),
          pkColumns: table.key,
        });

        const keyCols = table.key.map(quoteIdent);
        const keyTypes = keyIdx.map((i) => table.columns[i].dataType);
        const order = keyCols.join(', ');
        // (k1 > v1) OR (k1 = v1 AND k2 > v2) ...: MariaDB turns this into a range on the key; `<=`
        // likewise, with the all-equal term.
        const after = (last: readonly SqlValue[]): string => {
          const lit = last.map((v, k) => keyLiteral(v, keyTypes[k]));
          const ors: string[] = [];
          for (let k = 0; k < keyCols.length; k++) ors.push('(' + [...keyCols.slice(0, k).map((c, j) => `${c} = ${lit[j]}`), `${keyCols[k]} > ${lit[k]}`].join(' AND ') + ')');
          return `(${ors.join(' OR ')})`;
        };
        const upTo = (end: readonly SqlValue[]): string => {
          const lit = end.map((v, k) => keyLiteral(v, keyTypes[k]));
          const ors: string[] = [];
          for (let k = 0; k < keyCols.length; k++) ors.push('(' + [...keyCols.slice(0, k).map((c, j) => `${c} = ${lit[j]}`), `${keyCols[k]} < ${lit[k]}`].join(' AND ') + ')');
          ors.push('(' + keyCols.map((c, j) => `${c} = ${lit[j]}`).join(' AND ') + ')');
          return `(${ors.join(' OR ')})`;
        };

        if (req.sampleChunks !== undefined) {
          await deliver({ kind: 'rows', rows: await sampleChunkEnds(client, database, tableName, keyCols, keyPos.length, req.sampleChunks, req.sampleRowsMin ?? 0, after), lastPk: [], done: true });
          return;
        }

        // FLOAT prints 6 digits in a text result; as DOUBLE it carries the exact float32, which then
        // takes the binlog reader's form.
        const selectList = read.map((i) => (table.columns[i].dataType === 'float' ? `CAST(${quoteIdent(names[i])} AS DOUBLE)` : quoteIdent(names[i]))).join(', ');
        const readChunk = async (ci: number): Promise<void> => {
          const c = snaps[ci].client;
          const chunk = chunks[ci];
          const tag = chunked ? { chunk: ci } : {};
          let last: SqlValue[] | null = chunk.lastPk === null ? null : [...chunk.lastPk];
          const endWhere = chunk.endPk === null ? null : upTo(chunk.endPk);
          let scanned = 0;
          const mask = new Uint8Array(FILTER_GROUP_ROWS);
          // The text filter for this reader's key column, made at its first SELECT's fields.
          let textKeep: TextRowsKeep | undefined;
          // Kept rows not sent yet, carried into the next SELECT's batch, and rows scanned since the last batch.
          let pending: SqlValue[][] = [];
          let pendingBytes = 0;
          let unsent = 0;
          // Bytes of a row as the previous SELECT read them (0: none yet). Each SELECT reads about a
          // batch's bytes (batchBytesMax) and its batches are handed over once it has ended, so no
          // statement waits on the consumer — a statement open across a slow consumer's batches
          // (wide rows, a paced VDiff) would outlast a short max_statement_time and be killed.
          let rowBytesSeen = 0;
          const pauseBytes = Math.max(this.limits.pauseBytesMax, 2 * batchBytesMax);
          for (;;) {
            const conds = [...(last === null ? [] : [after(last)]), ...(endWhere === null ? [] : [endWhere])];
            const where = conds.length > 0 ? ` WHERE ${conds.join(' AND ')}` : '';
            const remaining = rowsMax > 0 ? rowsMax - scanned : Number.POSITIVE_INFINITY;
            const byBytes = rowBytesSeen > 0 ? Math.max(1, Math.ceil((batchBytesMax * 1.25) / rowBytesSeen)) : this.limits.firstSelectRowsMax;
            const want = Math.min(batchRowsMax, byBytes, remaining);
            // On the cycle's last SELECT one row more tells whether the chunk goes on, so a cycle
            // that ends with the chunk says done at once.
            const peek = rowsMax > 0 && remaining <= want;
            const sql = `SELECT ${selectList} FROM ${from}${where} ORDER BY ${order} LIMIT ${peek ? want + 1 : want}`;
            let fields: ColumnDefinition[] = [];
            let got = 0;
            let more = false;
            let rows: SqlValue[][] = pending;
            let bytes = pendingBytes;
            pending = [];
            pendingBytes = 0;
            let wire = 0;
            // Batches read by this SELECT, handed over when it ends; only rows far wider than the
            // previous SELECT's (over pauseBytes) are handed over while it runs, memory first.
            let ready: RowsBatch[] = [];
            let readyBytes = 0;
            const handOver = async (list: readonly RowsBatch[]): Promise<void> => {
              for (const b of list) await deliver(b);
            };
            // Rows are filtered a group at a time (one vindex call per group): decoded as they
            // come, or with a text filter kept as MariaDB's bytes and decoded once kept. `last` is
            // the key of the last row filtered, so a batch never claims a key whose row is still in
            // the group.
            let group: SqlValue[][] = [];
            let payloads: Buffer[] = [];
            const decode = (payload: Buffer): SqlValue[] => {
              const r = decodeTextRow(payload, fields);
              for (const k of floatPos) if (typeof r[k] === 'number') r[k] = shortestFloat32(r[k] as number);
              return r;
            };
            const filterGroup = async (): Promise<void> => {
              const g = group;
              const raw = payloads;
              group = [];
              payloads = [];
              const n = textKeep !== undefined ? raw.length : g.length;
              if (n === 0) return;
              if (textKeep !== undefined) textKeep(raw, n, mask);
              else if (readPlan.keepMany !== undefined) readPlan.keepMany(g, 0, n, mask);
              for (let j = 0; j < n; j++) {
                if (readPlan.keepMany !== undefined && mask[j] === 0) continue;
                const r = textKeep !== undefined ? decode(raw[j]) : g[j];
                const out = identity ? r : readPlan.columnIndexes.map((k) => r[k]);
                rows.push(out);
                bytes += rowBytes(out);
                if (bytes < batchBytesMax && rows.length < batchRowsMax) continue;
                unsent = 0;
                last = keyPos.map((k) => r[k]);
                ready.push({ kind: 'rows', rows, lastPk: last, done: false, ...tag });
                readyBytes += bytes;
                rows = [];
                bytes = 0;
                if (readyBytes < pauseBytes) continue;
                // Reading pauses until the consumer has taken these batches.
                const list = ready;
                ready = [];
                readyBytes = 0;
                await handOver(list);
              }
              const end = textKeep !== undefined ? decode(raw[n - 1]) : g[n - 1];
              last = keyPos.map((k) => end[k]);
            };
            await c.stream(sql, {
              fields: (f) => {
                fields = f;
                if (textFilter) textKeep ??= readPlan.keepText!(f[readPlan.keyColumnIndex!]);
              },
              row: (payload) => {
                if (got === want) {
                  more = true;
                  return;
                }
                got++;
                scanned++;
                wire += payload.length;
                if (textKeep !== undefined) {
                  payloads.push(payload);
                  if (payloads.length >= FILTER_GROUP_ROWS) return filterGroup();
                  return;
                }
                group.push(decode(payload));
                if (group.length >= FILTER_GROUP_ROWS) return filterGroup();
              },
            });
            await filterGroup();
            if (got > 0) rowBytesSeen = wire / got;
            await handOver(ready);
            const ended = peek ? !more : got < want;
            // A chunk that ends before its first row still reports where it stands: its start.
            const lastPk = last ?? chunk.lastPk ?? [];
            if (ended) return deliver({ kind: 'rows', rows, lastPk, done: true, ...tag });
            if (rowsMax > 0 && scanned >= rowsMax) return deliver({ kind: 'rows', rows, lastPk, done: false, ...tag });
            unsent += got;
            // A key-range rule keeps part of each SELECT's rows: they gather over the next SELECTs
            // into batches of about batchRowsMax (one target transaction each, not one per SELECT),
            // and a run of rows filtered out still moves lastPk on now and then, in an empty batch.
            if (readPlan.keepMany !== undefined && rows.length < batchRowsMax && unsent < batchRowsMax * UNSENT_SCAN_FACTOR) {
              pending = rows;
              pendingBytes = bytes;
              continue;
            }
            unsent = 0;
            await deliver({ kind: 'rows', rows, lastPk, done: false, ...tag });
          }
        };
        const results = await Promise.allSettled(chunks.map(async (_, ci) => {
          try {
            await readChunk(ci);
          } catch (err) {
            // One reader failing ends the others: their connections go, their reads fail.
            destroyAll('another chunk reader of this call failed');
            throw err;
          }
        }));
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      };
      for (const name of req.tables ?? [req.table]) {
        await copyOne(name);
        if (stop.aborted) return this.ended(signal, stop);
      }
    } catch (err) {
      if (signal.aborted) return;
      if (callbackError !== undefined) throw callbackError;
      if (stop.aborted) return this.ended(signal, stop);
      throw sourceError(err);
    } finally {
      stop.removeEventListener('abort', onAbort);
      lockConn?.destroy();
      await Promise.all(snaps.map((sn) => sn.close().catch(() => undefined)));
      this.leave(o);
    }
  }
}

/**
 * The ends of at most `n` chunks of about equal rows, from the table's own key order: InnoDB's row
 * estimate gives the step, and each end is the key `step` rows after the previous one (an index
 * walk, `ORDER BY key LIMIT 1 OFFSET step-1`), so skewed and string keys cut where the rows are,
 * not where the first key column's minimum and maximum would put them. The whole walk reads the
 * key index once. A table under `n × rowsMin` rows is not cut.
 */
async function sampleChunkEnds(
  c: Client,
  database: string,
  table: string,
  keyCols: readonly string[],
  keyCount: number,
  n: number,
  rowsMin: number,
  after: (last: readonly SqlValue[]) => string,
): Promise<SqlValue[][]> {
  if (n <= 1) return [];
  const est = await c.query(`SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${quoteString(database)} AND TABLE_NAME = ${quoteString(table)}`);
  let rows = Number(text(est.rows[0]?.[0]) || '0');
  const need = n * Math.max(1, rowsMin);
  if (rows < need) {
    // InnoDB's estimate lags behind a table just filled; a count bounded by the threshold decides.
    const cnt = await c.query(`SELECT COUNT(*) FROM (SELECT 1 FROM ${quoteIdent(database)}.${quoteIdent(table)} LIMIT ${need}) x`);
    rows = Number(text(cnt.rows[0]?.[0]) || '0');
    if (rows < need) return [];
  }
  const step = Math.max(1, Math.floor(rows / n));
  const from = `${quoteIdent(database)}.${quoteIdent(table)}`;
  const order = keyCols.join(', ');
  const ends: SqlValue[][] = [];
  for (let i = 1; i < n; i++) {
    const prev = ends[ends.length - 1];
    let fields: ColumnDefinition[] = [];
    let got: SqlValue[] | undefined;
    await c.stream(`SELECT ${order} FROM ${from}${prev ? ` WHERE ${after(prev)}` : ''} ORDER BY ${order} LIMIT 1 OFFSET ${step - 1}`, {
      fields: (f) => {
        fields = f;
      },
      row: (payload) => {
        got = decodeTextRow(payload, fields).slice(0, keyCount);
      },
    });
    if (got === undefined) break;
    ends.push(got);
  }
  return ends;
}

/** The keyspace's VSchema from the topology, read fresh at every call; none applied = undefined. */
export function topoVSchemaSource(topo: TopoServer, keyspace: string): () => Promise<KeyspaceVSchema | undefined> {
  return async () => {
    try {
      return parseKeyspaceVSchema(keyspace, await topo.getVSchema(keyspace));
    } catch (err) {
      if (isTopoError(err, 'NO_NODE')) return undefined;
      throw err;
    }
  };
}
