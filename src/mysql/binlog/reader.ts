// The network binlog reader: connects to MariaDB as a replica and streams framed transactions from
// a GTID position. It registers (COM_REGISTER_SLAVE), announces CRC32 checksums, GTID capability
// and strict mode, hands MariaDB the position as @slave_connect_state, and dumps
// (COM_BINLOG_DUMP). Events are decoded as they arrive and consumed through an async iterator.
//
// Backpressure: the queue between the socket and the consumer is bounded (items and bytes); when
// it is full the packet handler returns a promise, which stops the client reading the socket, so
// MariaDB's dump thread blocks in its send buffer.
//
// Resume: the position advances only at the end of a transaction. When the connection breaks
// (MariaDB restart, KILL, network) the reader emits `rollback` if a transaction was open,
// reconnects with backoff, and dumps again from the last committed position, so the consumer
// sees every transaction exactly once, whole. Errors that a retry cannot fix (the position was
// purged, a corrupt event, bad credentials) end the iteration with that error.
import { Client } from '../client.js';
import { COM } from '../constants.js';
import { ER, TesseraError } from '../errors.js';
import { decodeErr } from '../protocol.js';
import { PacketReader } from '../packet.js';
import { logger } from '../../log/index.js';
import { BINLOG_DUMP_FLAG, ER_BINLOG_READ, ER_CORRUPT_EVENT, MARIA_SLAVE_CAPABILITY_GTID } from './constants.js';
import { EventDecoder, type BinlogEvent } from './events.js';
import { GtidPosition } from './gtid.js';
import type { RowKeyFilter } from './rows.js';
import type { OldTemporalHints, TableMap } from './table-map.js';
import { TransactionFramer, type StreamItem } from './transactions.js';

const log = logger('binlog');

export interface BinlogReaderOptions {
  readonly host?: string;
  readonly port?: number;
  readonly socketPath?: string;
  readonly user: string;
  readonly password?: string;
  /** Start after this position (empty: from the oldest binlog the server has). */
  readonly position: GtidPosition;
  /** Our server id as a replica; must differ from every server's and other readers'. */
  readonly serverId?: number;
  /** How often an idle source sends a heartbeat. */
  readonly heartbeatPeriodMs?: number;
  /** No packet for this long (a multiple of the heartbeat period) means the connection is dead. */
  readonly idleTimeoutMs?: number;
  /** Reconnect attempts in a row before giving up (a successful event resets the count). */
  readonly reconnectRetriesMax?: number;
  readonly reconnectDelayMs?: number;
  readonly reconnectDelayMaxMs?: number;
  /** Items and bytes queued for a slow consumer before the socket is paused. */
  readonly queueItemsMax?: number;
  readonly queueBytesMax?: number;
  /** Ask for ANNOTATE_ROWS events (the statement behind row events); off by default. */
  readonly annotateRows?: boolean;
  readonly verifyChecksums?: boolean;
  readonly oldTemporalHints?: OldTemporalHints;
  /** Decode rows of these tables only (see EventDecoderOptions.tableFilter). */
  readonly tableFilter?: (table: TableMap) => boolean;
  /** The columns of UPDATE before images to decode, per table (see EventDecoderOptions.updateBeforeColumns). */
  readonly updateBeforeColumns?: (table: TableMap) => Uint8Array | undefined;
  /** Per table, the after-image columns to decode, the images passed as bytes (see EventDecoderOptions.afterImageColumns). */
  readonly afterImageColumns?: (table: TableMap) => Uint8Array | undefined;
  /** Per table, the key test row images must pass to be decoded whole (see EventDecoderOptions.rowKeyFilter). */
  readonly rowKeyFilter?: (table: TableMap) => RowKeyFilter | undefined;
  /** Called with every decoded event before framing (tools, debugging). */
  readonly onEvent?: (ev: BinlogEvent) => void;
  readonly connectTimeoutMs?: number;
}

export const BINLOG_READER_DEFAULTS = {
  heartbeatPeriodMs: 1000,
  idleTimeoutFactor: 5,
  reconnectRetriesMax: 30,
  reconnectDelayMs: 100,
  reconnectDelayMaxMs: 5000,
  queueItemsMax: 1000,
  queueBytesMax: 64 * 1024 * 1024,
} as const;

/** Errors after which reconnecting cannot help. */
function isFatal(err: TesseraError): boolean {
  return err.errno === ER_BINLOG_READ.errno || err.errno === ER_CORRUPT_EVENT.errno || err.errno === ER.ACCESS_DENIED.errno || err.errno === ER.WRONG_ARGUMENTS.errno;
}

export class BinlogReader implements AsyncIterable<StreamItem> {
  private readonly opts: BinlogReaderOptions;
  private readonly framer: TransactionFramer;
  private readonly queue: StreamItem[] = [];
  private queueBytes = 0;
  private waiter: (() => void) | null = null;
  private spaceWaiter: (() => void) | null = null;
  private client: Client | null = null;
  private closed = false;
  private failure: TesseraError | null = null;
  private running: Promise<void> | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  /** Connections made (1 + reconnects), for tests and metrics. */
  connects = 0;

  constructor(opts: BinlogReaderOptions) {
    this.opts = opts;
    this.framer = new TransactionFramer(opts.position);
  }

  /** The position after the last whole transaction read. */
  get position(): GtidPosition {
    return this.framer.position;
  }

  /** Items decoded but not yet taken by the consumer (0 items: the consumer is caught up). */
  get queued(): { readonly items: number; readonly bytes: number } {
    return { items: this.queue.length, bytes: this.queueBytes };
  }

  /** Stops reading; the iterator ends after what is queued. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clearIdle();
    this.client?.destroy(new TesseraError(ER.SERVER_GONE, 'binlog reader closed'));
    this.wake();
    this.spaceWaiter?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<StreamItem> {
    if (this.running === null) this.running = this.run();
    try {
      for (;;) {
        const item = this.queue.shift();
        if (item !== undefined) {
          this.queueBytes -= itemBytes(item);
          if (this.spaceWaiter !== null && this.hasSpace()) {
            const w = this.spaceWaiter;
            this.spaceWaiter = null;
            w();
          }
          yield item;
          continue;
        }
        if (this.failure) throw this.failure;
        if (this.closed) return;
        await new Promise<void>((resolve) => (this.waiter = resolve));
      }
    } finally {
      this.close();
    }
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  private hasSpace(): boolean {
    return this.queue.length < (this.opts.queueItemsMax ?? BINLOG_READER_DEFAULTS.queueItemsMax) && this.queueBytes < (this.opts.queueBytesMax ?? BINLOG_READER_DEFAULTS.queueBytesMax);
  }

  private enqueue(items: StreamItem[]): Promise<void> | undefined {
    for (const it of items) {
      this.queue.push(it);
      this.queueBytes += itemBytes(it);
    }
    if (items.length > 0) this.wake();
    if (this.hasSpace() || this.closed) return undefined;
    return new Promise<void>((resolve) => (this.spaceWaiter = resolve));
  }

  private async run(): Promise<void> {
    let failures = 0;
    const retriesMax = this.opts.reconnectRetriesMax ?? BINLOG_READER_DEFAULTS.reconnectRetriesMax;
    let delay = this.opts.reconnectDelayMs ?? BINLOG_READER_DEFAULTS.reconnectDelayMs;
    while (!this.closed) {
      let progressed = false;
      try {
        await this.dumpOnce(() => {
          progressed = true;
        });
        if (!this.closed) throw new TesseraError(ER.SERVER_GONE, 'the source ended the binlog dump');
      } catch (err) {
        const e = TesseraError.from(err, ER.SERVER_GONE);
        this.clearIdle();
        this.client?.destroy(e);
        this.client = null;
        if (this.closed) break;
        const out: StreamItem[] = [];
        this.framer.abort(`connection lost: ${e.message}`, out);
        await this.enqueue(out);
        if (progressed) {
          failures = 0;
          delay = this.opts.reconnectDelayMs ?? BINLOG_READER_DEFAULTS.reconnectDelayMs;
        }
        failures++;
        if (isFatal(e) || failures > retriesMax) {
          this.failure = failures > retriesMax && !isFatal(e) ? new TesseraError(e, `binlog reader gave up after reconnectRetriesMax (${retriesMax}) attempts: ${e.message}`, { cause: e }) : e;
          this.wake();
          return;
        }
        log.warn({ err: e.message, position: this.framer.position.toString(), attempt: failures }, 'binlog connection lost; reconnecting');
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, this.opts.reconnectDelayMaxMs ?? BINLOG_READER_DEFAULTS.reconnectDelayMaxMs);
      }
    }
    this.wake();
  }

  private armIdle(): void {
    this.clearIdle();
    const hb = this.opts.heartbeatPeriodMs ?? BINLOG_READER_DEFAULTS.heartbeatPeriodMs;
    const idle = this.opts.idleTimeoutMs ?? hb * BINLOG_READER_DEFAULTS.idleTimeoutFactor;
    this.idleTimer = setTimeout(() => {
      this.client?.destroy(new TesseraError(ER.SERVER_GONE, `no event or heartbeat from the source for idleTimeoutMs=${idle}`));
    }, idle);
    this.idleTimer.unref();
  }

  private clearIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private async dumpOnce(onProgress: () => void): Promise<void> {
    const o = this.opts;
    const client = await Client.connect({
      host: o.host,
      port: o.port,
      socketPath: o.socketPath,
      user: o.user,
      password: o.password,
      connectTimeoutMs: o.connectTimeoutMs,
      // Events up to max_allowed_packet (1 GiB at most) arrive as one message.
      packetSizeMax: 1024 * 1024 * 1024 + 1024,
    });
    this.client = client;
    if (this.closed) {
      client.destroy();
      return;
    }
    this.connects++;
    const serverId = o.serverId ?? defaultServerId();
    const hbNs = BigInt(o.heartbeatPeriodMs ?? BINLOG_READER_DEFAULTS.heartbeatPeriodMs) * 1_000_000n;
    const position = this.framer.position;
    await client.query("SET @master_binlog_checksum = 'CRC32'");
    await client.query(`SET @mariadb_slave_capability = ${MARIA_SLAVE_CAPABILITY_GTID}`);
    await client.query(`SET @slave_connect_state = '${position.gtidList()}'`);
    await client.query('SET @slave_gtid_strict_mode = 1');
    await client.query('SET @slave_gtid_ignore_duplicates = 0');
    await client.query(`SET @master_heartbeat_period = ${hbNs}`);

    // COM_REGISTER_SLAVE: server id, then empty host/user/password, port 0, rank 0, master id 0.
    const reg = Buffer.alloc(1 + 4 + 3 + 2 + 4 + 4);
    reg[0] = COM.REGISTER_SLAVE;
    reg.writeUInt32LE(serverId, 1);
    await client.rawCommand(reg, (p) => {
      if (p[0] === 0xff) throw decodeErr(new PacketReader().reset(p));
      return true;
    });

    // COM_BINLOG_DUMP: position 4 and no file name; MariaDB starts from @slave_connect_state.
    const dump = Buffer.alloc(1 + 4 + 2 + 4);
    dump[0] = COM.BINLOG_DUMP;
    dump.writeUInt32LE(4, 1);
    dump.writeUInt16LE(o.annotateRows ? BINLOG_DUMP_FLAG.SEND_ANNOTATE_ROWS : 0, 5);
    dump.writeUInt32LE(serverId, 7);
    const decoder = new EventDecoder({ checksum: 'crc32', verifyChecksums: o.verifyChecksums, oldTemporalHints: o.oldTemporalHints, tableFilter: o.tableFilter, updateBeforeColumns: o.updateBeforeColumns, afterImageColumns: o.afterImageColumns, rowKeyFilter: o.rowKeyFilter });
    log.debug({ position: position.toString(), serverId }, 'binlog dump started');
    this.armIdle();
    const out: StreamItem[] = [];
    await client.rawCommand(dump, (p) => {
      this.armIdle();
      const tag = p[0];
      if (tag === 0xff) {
        const e = decodeErr(new PacketReader().reset(p));
        throw new TesseraError(e.errno === ER_BINLOG_READ.errno ? ER_BINLOG_READ : e, `binlog dump from ${position}: ${e.message}`);
      }
      if (tag === 0xfe && p.length < 9) return true;
      if (tag !== 0x00) throw new TesseraError(ER_CORRUPT_EVENT, `binlog dump: unexpected packet 0x${tag.toString(16)}`);
      const ev = decoder.decode(p.subarray(1));
      o.onEvent?.(ev);
      out.length = 0;
      this.framer.push(ev, out);
      if (ev.kind === 'xid' || ev.kind === 'query') onProgress();
      if (out.length === 0) return;
      const full = this.enqueue(out.slice());
      if (full === undefined) return;
      // Waiting for a slow consumer is not a dead source: the socket is paused on purpose, so no
      // heartbeat can arrive until the queue has room again.
      this.clearIdle();
      return full.then(() => {
        if (!this.closed) this.armIdle();
      });
    });
  }
}

/** Estimated bytes an item holds (event size), for the queue's byte bound. */
function itemBytes(it: StreamItem): number {
  return it.kind === 'rows' || it.kind === 'query' ? it.event.header.size : 64;
}

/** A replica server id unlikely to clash with tablets (which use their uid). */
function defaultServerId(): number {
  return 0x40000000 + ((process.pid * 7919 + Math.floor(Math.random() * 0xffff)) % 0x3fffffff);
}

/** The server's current binlog position (`@@gtid_binlog_pos`): where a new stream of future changes starts. */
export async function currentPosition(client: Client): Promise<GtidPosition> {
  const r = await client.query('SELECT @@GLOBAL.gtid_binlog_pos');
  const v = r.rows[0]?.[0];
  return GtidPosition.parse(typeof v === 'string' ? v : v instanceof Buffer ? v.toString() : '');
}
