// A MySQL-protocol client for talking to MariaDB (and MySQL): the tablet's connections, the
// binlog reader's seam, and the pass-through proxy in tests.
//
// One command runs at a time; later calls queue. Results come decoded (`query`, `execute`) or as
// the row payloads MariaDB sent (`stream`, `executeStream`), so a tablet can pass them on
// untouched. A sink that returns a promise pauses reading from the socket until it settles: that
// is the backpressure, from the consumer all the way to MariaDB's send buffer.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { AUTH_PLUGIN, CAP, CHARSET, COM, DEFAULT_PACKET_SIZE_MAX, MARIADB_CAP } from './constants.js';
import { ER, TesseraError } from './errors.js';
import { PacketParser, PacketReader, PacketWriter } from './packet.js';
import {
  decodeColumnDefinition,
  decodeEof,
  decodeErr,
  decodeHandshake,
  decodeOk,
  encodeHandshakeResponse,
  encodeSslRequest,
  isEofPacket,
  type ColumnDefinition,
  type HandshakeV10,
  type OkPacket,
} from './protocol.js';
import { cachingSha2Scramble, ed25519Scramble, nativePasswordScramble, rsaEncryptPassword } from './auth.js';
import { collector, ResultCommand, type Command, type Result, type ResultSink } from './client-result.js';
import { encodeExecute, EXECUTE_PARAMS_OFFSET, typedValue, type SqlValue, type TypedValue } from './values.js';
import { onReadOptions } from './socket-read.js';

export interface ClientOptions {
  host?: string;
  port?: number;
  /** Unix socket path; wins over host/port. */
  socketPath?: string;
  user: string;
  password?: string;
  database?: string;
  /** Upgrade to TLS after the handshake; `true` accepts any certificate. */
  ssl?: boolean | tls.ConnectionOptions;
  connectTimeoutMs?: number;
  /** Largest message accepted from the server. */
  packetSizeMax?: number;
  /** Collation id sent in the handshake; utf8mb4_general_ci by default. */
  charset?: number;
  /**
   * How statement text is written (UTF-8 by default). A proxy that reads its client's statements
   * byte for byte ('latin1' in Node's sense) writes them back the same way, whatever their character set.
   */
  textEncoding?: BufferEncoding;
  /** Extra capability flags to request (a proxy mirrors FOUND_ROWS, IGNORE_SPACE, INTERACTIVE of its client). */
  capabilities?: number;
  /**
   * MariaDB extended capabilities to ask for (MARIADB_CAP.EXTENDED_TYPE_INFO and CACHE_METADATA
   * are understood); a proxy passes its client's so column definitions pass through in the form
   * that client expects.
   */
  mariadbCapabilities?: number;
  /** Allow several statements in one COM_QUERY (default true). */
  multiStatements?: boolean;
  connectAttrs?: Record<string, string>;
  /** RSA public key (PEM) for caching_sha2_password full auth without TLS; asked from the server if absent. */
  serverPublicKey?: string;
}



export interface PreparedStatement {
  id: number;
  params: ColumnDefinition[];
  columns: ColumnDefinition[];
  /** Raw column-definition payloads, for passing the prepare response through. */
  rawParams: Buffer[];
  rawColumns: Buffer[];
  warnings: number;
}

/** Return `true` to end a raw command (the next packets belong to a new command). */
export type { Result, ResultSink } from './client-result.js';

export type RawPacketHandler = (payload: Buffer) => boolean | void | Promise<boolean | void>;


let nextClientId = 1;


/** MariaDB extended capabilities this client understands (what `mariadbCapabilities` may ask for). */
const CLIENT_MARIADB_CAPABILITIES = MARIADB_CAP.EXTENDED_TYPE_INFO | MARIADB_CAP.CACHE_METADATA;

export class Client extends EventEmitter {
  readonly options: ClientOptions;
  /** MariaDB's thread id for this connection (what KILL takes). */
  connectionId = 0;
  serverVersion = '';
  /** Capabilities in effect: what we asked for and the server offered. */
  capabilities = 0;
  /** MariaDB extended capabilities in effect. */
  mariadbCapabilities = 0;
  statusFlags = 0;
  /** See ResultHost.columnCache. */
  columnCache: { raw: Buffer[]; fields: ColumnDefinition[] } | null = null;
  /** See ResultHost.statementColumns (kept only with MARIADB_CLIENT_CACHE_METADATA). */
  readonly statementColumns = new Map<number, { raw: Buffer[]; fields: ColumnDefinition[] }>();
  /** See ResultHost.metadataReused. */
  metadataReused = 0;
  readonly id = nextClientId++;

  private socket: net.Socket | tls.TLSSocket;
  private readonly parser: PacketParser;
  private readonly writer: PacketWriter;
  /** @internal Re-pointed per packet; used synchronously only. */
  readonly reader = new PacketReader();
  private readonly queue: Command[] = [];
  private active: Command | null = null;
  private closedWith: TesseraError | null = null;
  private handshakeWaiter: ((payload: Buffer | TesseraError) => void) | null = null;
  private handshakeBacklog: Buffer[] = [];
  private readingPausedBySink = 0;
  private ready = false;

  private constructor(options: ClientOptions, socket: net.Socket) {
    super();
    this.options = options;
    this.socket = socket;
    this.parser = new PacketParser(options.packetSizeMax ?? DEFAULT_PACKET_SIZE_MAX, (p, f, l) => this.onMessage(p, f, l));
    this.writer = new PacketWriter((data) => this.socket.write(data));
    this.attach(socket);
  }

  /** Connects and authenticates; rejects with the server's error (e.g. 1045) or a connection error. */
  static async connect(options: ClientOptions): Promise<Client> {
    // Without TLS the socket reads into one shared buffer and the parser copies what it keeps:
    // no buffer and no stream 'data' event per read. TLS wraps the socket, so it reads as usual.
    let client: Client | null = null;
    const onread: net.OnReadOpts | undefined = options.ssl
      ? undefined
      : onReadOptions((n, buf) => {
          client?.onRead(n, buf);
          return true;
        });
    const socket = options.socketPath
      ? net.connect({ path: options.socketPath, onread })
      : net.connect({ host: options.host ?? '127.0.0.1', port: options.port ?? 3306, onread });
    socket.setNoDelay(true);
    client = new Client(options, socket);
    const timeoutMs = options.connectTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.handshake(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new TesseraError(ER.CONN_ERROR, `connect to ${describe(options)} timed out after connectTimeoutMs=${timeoutMs}`)),
            timeoutMs,
          );
        }),
      ]);
    } catch (err) {
      client.destroy(TesseraError.from(err, ER.CONN_ERROR));
      throw err;
    } finally {
      clearTimeout(timer);
    }
    return client;
  }

  get closed(): boolean {
    return this.closedWith !== null;
  }

  /** Column definitions carry MariaDB's extended type block. */
  get extendedTypeInfo(): boolean {
    return (this.mariadbCapabilities & MARIADB_CAP.EXTENDED_TYPE_INFO) !== 0;
  }

  /** MARIADB_CLIENT_CACHE_METADATA: executes of a prepared statement may come without column definitions. */
  get cacheMetadata(): boolean {
    return (this.mariadbCapabilities & MARIADB_CAP.CACHE_METADATA) !== 0;
  }

  /** @internal Bytes read into the shared receive buffer (sockets without TLS). */
  onRead(n: number, buf: Buffer): void {
    if (this.closedWith) return;
    try {
      this.parser.pushBorrowed(buf, n);
    } catch (err) {
      this.destroy(TesseraError.from(err, ER.NET_READ_ERROR));
    }
  }

  private attach(socket: net.Socket | tls.TLSSocket): void {
    socket.on('data', (chunk: Buffer) => {
      try {
        this.parser.push(chunk);
      } catch (err) {
        this.destroy(TesseraError.from(err, ER.NET_READ_ERROR));
      }
    });
    socket.on('error', (err) => this.destroy(new TesseraError(ER.SERVER_GONE, `connection to ${describe(this.options)}: ${err.message}`, { cause: err })));
    socket.on('close', () => this.destroy(new TesseraError(ER.SERVER_GONE, `MySQL server at ${describe(this.options)} has gone away`)));
  }

  private onMessage(payload: Buffer, firstSeq: number, lastSeq: number): void {
    if (firstSeq !== this.writer.seq) {
      throw new TesseraError(ER.NET_PACKETS_OUT_OF_ORDER, `Got packets out of order: sequence id ${firstSeq}, expected ${this.writer.seq}`);
    }
    this.writer.seq = (lastSeq + 1) & 0xff;
    if (!this.ready) {
      const w = this.handshakeWaiter;
      if (w) {
        this.handshakeWaiter = null;
        w(payload);
      } else this.handshakeBacklog.push(payload);
      return;
    }
    const cmd = this.active;
    if (!cmd) {
      // Unsolicited: MariaDB sends an ERR before closing a killed or timed-out connection.
      const err = payload[0] === 0xff ? decodeErr(this.reader.reset(payload)) : new TesseraError(ER.NET_READ_ERROR, 'unexpected packet from server');
      this.destroy(err);
      return;
    }
    if (cmd.onMessage(payload)) {
      this.active = null;
      this.next();
    }
  }

  private readPacket(): Promise<Buffer> {
    const b = this.handshakeBacklog.shift();
    if (b) return Promise.resolve(b);
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise((resolve, reject) => {
      this.handshakeWaiter = (p) => (p instanceof TesseraError ? reject(p) : resolve(p));
    });
  }

  private async handshake(): Promise<void> {
    const o = this.options;
    const first = await this.readPacket();
    if (first[0] === 0xff) throw decodeErr(this.reader.reset(first));
    const hs: HandshakeV10 = decodeHandshake(this.reader.reset(first));
    this.serverVersion = hs.serverVersion.startsWith('5.5.5-') ? hs.serverVersion.slice(6) : hs.serverVersion;
    const wanted =
      CAP.LONG_PASSWORD | CAP.LONG_FLAG | CAP.PROTOCOL_41 | CAP.TRANSACTIONS | CAP.SECURE_CONNECTION |
      CAP.MULTI_RESULTS | CAP.PS_MULTI_RESULTS | CAP.PLUGIN_AUTH | CAP.PLUGIN_AUTH_LENENC_CLIENT_DATA |
      CAP.CONNECT_ATTRS | CAP.DEPRECATE_EOF |
      (o.multiStatements === false ? 0 : CAP.MULTI_STATEMENTS) |
      (o.database ? CAP.CONNECT_WITH_DB : 0) |
      (o.ssl ? CAP.SSL : 0) |
      (o.capabilities ?? 0);
    // LONG_PASSWORD doubles as MariaDB's CLIENT_MYSQL bit: clearing it is how a client asks for
    // MariaDB's extended capabilities.
    this.capabilities = ((wanted & hs.capabilities) | CAP.LONG_PASSWORD) >>> 0;
    this.mariadbCapabilities = (o.mariadbCapabilities ?? 0) & hs.mariadbCapabilities & CLIENT_MARIADB_CAPABILITIES;
    if (this.mariadbCapabilities) this.capabilities = (this.capabilities & ~CAP.LONG_PASSWORD) >>> 0;
    if (o.ssl && !(hs.capabilities & CAP.SSL)) {
      throw new TesseraError(ER.CONN_ERROR, `server at ${describe(o)} does not support TLS`);
    }
    const charset = o.charset ?? CHARSET.UTF8MB4_GENERAL_CI;
    const maxPacket = o.packetSizeMax ?? DEFAULT_PACKET_SIZE_MAX;
    let secure = !!o.socketPath;
    if (o.ssl) {
      encodeSslRequest(this.writer, this.capabilities, maxPacket, charset);
      this.writer.flush();
      await this.upgradeTls(o.ssl === true ? { rejectUnauthorized: false } : o.ssl);
      secure = true;
    }
    const password = o.password ?? '';
    let plugin = hs.authPluginName;
    let scramble = hs.authPluginData;
    encodeHandshakeResponse(this.writer, {
      capabilities: this.capabilities,
      maxPacketSize: maxPacket,
      charset,
      user: o.user,
      authResponse: authResponse(plugin, password, scramble, secure),
      database: o.database ?? null,
      authPluginName: plugin,
      connectAttrs: { _client_name: 'tessera', _pid: String(process.pid), ...o.connectAttrs },
      mariadbCapabilities: this.mariadbCapabilities,
    });
    for (;;) {
      const p = await this.readPacket();
      const tag = p[0];
      if (tag === 0x00) {
        const ok = decodeOk(this.reader.reset(p));
        this.statusFlags = ok.statusFlags;
        this.connectionId = hs.connectionId;
        this.ready = true;
        return;
      }
      if (tag === 0xff) throw decodeErr(this.reader.reset(p));
      if (tag === 0xfe) {
        // Auth switch: a new plugin and nonce (an old-style bare 0xfe is not supported).
        const r = this.reader.reset(p, 1);
        if (r.remaining === 0) throw new TesseraError(ER.ACCESS_DENIED, 'server asked for the old (pre-4.1) password protocol');
        plugin = r.nulString('latin1');
        scramble = Buffer.from(r.rest());
        if (scramble.length > 0 && scramble[scramble.length - 1] === 0) scramble = scramble.subarray(0, scramble.length - 1);
        this.writer.begin().bytes(authResponse(plugin, password, scramble, secure)).end();
        continue;
      }
      if (tag === 0x01) {
        const data = p.subarray(1);
        if (plugin === AUTH_PLUGIN.CACHING_SHA2 && data.length === 1 && data[0] === 0x03) continue; // fast auth ok; OK follows
        if (plugin === AUTH_PLUGIN.CACHING_SHA2 && data.length === 1 && data[0] === 0x04) {
          if (secure) this.writer.begin().string(password).int1(0).end();
          else if (o.serverPublicKey) this.writer.begin().bytes(rsaEncryptPassword(password, scramble, o.serverPublicKey)).end();
          else this.writer.begin().int1(0x02).end(); // ask for the public key
          continue;
        }
        if (plugin === AUTH_PLUGIN.CACHING_SHA2 || plugin === AUTH_PLUGIN.SHA256) {
          this.writer.begin().bytes(rsaEncryptPassword(password, scramble, data)).end();
          continue;
        }
        throw new TesseraError(ER.ACCESS_DENIED, `unexpected auth data for plugin ${plugin}`);
      }
      throw new TesseraError(ER.HANDSHAKE_ERROR, `unexpected packet 0x${tag.toString(16)} during authentication`);
    }
  }

  private upgradeTls(options: tls.ConnectionOptions): Promise<void> {
    const raw = this.socket as net.Socket;
    raw.removeAllListeners('data');
    raw.removeAllListeners('close');
    raw.removeAllListeners('error');
    return new Promise((resolve, reject) => {
      const secure = tls.connect({ ...options, socket: raw, servername: options.servername ?? (this.options.host && net.isIP(this.options.host) === 0 ? this.options.host : undefined) });
      this.socket = secure;
      this.attach(secure);
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
  }

  private enqueue(cmd: Command): void {
    if (this.closedWith) {
      cmd.fail(this.closedWith);
      return;
    }
    this.queue.push(cmd);
    if (!this.active) this.next();
  }

  private next(): void {
    while (!this.active && this.queue.length > 0 && !this.closedWith) {
      const cmd = this.queue.shift()!;
      this.writer.seq = 0;
      cmd.write(this.writer);
      if (!cmd.noResponse) this.active = cmd;
    }
  }

  /** @internal Pauses reading on behalf of a sink until the promise settles. */
  waitFor(p: Promise<unknown>, onError: (err: unknown) => void): void {
    if (this.readingPausedBySink++ === 0) {
      this.parser.pause();
      this.socket.pause();
    }
    p.then(
      () => this.resumeReading(),
      (err) => {
        onError(err);
        this.resumeReading();
      },
    );
  }

  private resumeReading(): void {
    if (--this.readingPausedBySink > 0 || this.closedWith) return;
    try {
      this.parser.resume();
    } catch (err) {
      this.destroy(TesseraError.from(err, ER.NET_READ_ERROR));
      return;
    }
    if (!this.parser.isPaused) this.socket.resume();
  }

  /**
   * Runs a text query; the first result (a SELECT's rows, or the counts). See `queryMulti` for all.
   * A Buffer is the query's bytes, sent as they are (in the connection's character set).
   */
  async query(sql: string | Buffer): Promise<Result> {
    const all = await this.queryMulti(sql);
    return all[0];
  }

  /** Runs a text query and returns every result (multi-statements, CALL). */
  queryMulti(sql: string | Buffer): Promise<Result[]> {
    const results: Result[] = [];
    return this.stream(sql, collector(results, false, this.reader)).then(() => results);
  }

  /** Runs a text query, handing each row payload to the sink as it arrives. */
  stream(sql: string | Buffer, sink: ResultSink): Promise<void> {
    return new Promise((resolve, reject) => {
      this.enqueue(
        this.resultCommand(
          (w) => {
            if (typeof sql === 'string') w.begin().int1(COM.QUERY).string(sql, this.options.textEncoding).end();
            else w.begin().int1(COM.QUERY).bytes(sql).end();
          },
          sink,
          resolve,
          reject,
        ),
      );
    });
  }

  prepare(sql: string): Promise<PreparedStatement> {
    return new Promise((resolve, reject) => {
      let stmt: PreparedStatement | null = null;
      let paramsLeft = 0;
      let columnsLeft = 0;
      let paramsEof = false;
      let columnsEof = false;
      const deprecateEof = (this.capabilities & CAP.DEPRECATE_EOF) !== 0;
      const r = new PacketReader();
      this.enqueue({
        write: (w) => {
          w.begin().int1(COM.STMT_PREPARE).string(sql, this.options.textEncoding).end();
        },
        fail: reject,
        onMessage: (p) => {
          if (!stmt) {
            if (p[0] === 0xff) {
              reject(decodeErr(r.reset(p)));
              return true;
            }
            r.reset(p, 1);
            const id = r.u32();
            columnsLeft = r.u16();
            paramsLeft = r.u16();
            r.skip(1);
            const warnings = r.remaining >= 2 ? r.u16() : 0;
            stmt = { id, params: [], columns: [], rawParams: [], rawColumns: [], warnings };
            paramsEof = !deprecateEof && paramsLeft > 0;
            columnsEof = !deprecateEof && columnsLeft > 0;
          } else if (paramsLeft > 0) {
            stmt.rawParams.push(p);
            stmt.params.push(decodeColumnDefinition(r.reset(p), this.extendedTypeInfo));
            paramsLeft--;
          } else if (paramsEof) {
            paramsEof = false;
          } else if (columnsLeft > 0) {
            stmt.rawColumns.push(p);
            stmt.columns.push(decodeColumnDefinition(r.reset(p), this.extendedTypeInfo));
            columnsLeft--;
          } else if (columnsEof) {
            columnsEof = false;
          }
          if (paramsLeft === 0 && columnsLeft === 0 && !paramsEof && !columnsEof) {
            if (this.cacheMetadata && stmt.rawColumns.length > 0) this.statementColumns.set(stmt.id, { raw: stmt.rawColumns, fields: stmt.columns });
            resolve(stmt);
            return true;
          }
          return false;
        },
      });
    });
  }

  /** Executes a prepared statement; plain JS values get a type by `typedValue`. */
  async execute(stmt: PreparedStatement | number, params: readonly (SqlValue | TypedValue | boolean)[] = []): Promise<Result> {
    const results: Result[] = [];
    await this.executeStream(stmt, params, collector(results, true, this.reader));
    return results[0];
  }

  /** Executes a prepared statement, handing each binary row payload to the sink. */
  executeStream(stmt: PreparedStatement | number, params: readonly (SqlValue | TypedValue | boolean)[], sink: ResultSink): Promise<void> {
    const id = typeof stmt === 'number' ? stmt : stmt.id;
    const typed = params.map(typedValue);
    return new Promise((resolve, reject) => {
      this.enqueue(this.resultCommand((w) => encodeExecute(w, id, typed), sink, resolve, reject, id));
    });
  }

  /**
   * Relays a COM_STMT_EXECUTE received from elsewhere (a proxied client): the parameter block
   * (from EXECUTE_PARAMS_OFFSET: NULL bitmap, types flag, types, values) is copied as it is, only
   * the statement id is this connection's and the flags are 0 (no cursor, as `executeStream`).
   * When the payload does not resend the types, MariaDB uses the statement's previous ones.
   */
  executeRaw(stmt: PreparedStatement | number, payload: Buffer, sink: ResultSink): Promise<void> {
    const id = typeof stmt === 'number' ? stmt : stmt.id;
    if (payload.length < EXECUTE_PARAMS_OFFSET || payload[0] !== COM.STMT_EXECUTE) {
      return Promise.reject(new TesseraError(ER.NET_READ_ERROR, 'malformed packet: not a COM_STMT_EXECUTE'));
    }
    return new Promise((resolve, reject) => {
      this.enqueue(
        this.resultCommand(
          (w) => {
            w.begin().int1(COM.STMT_EXECUTE).int4(id).int1(0).int4(1).bytes(payload, EXECUTE_PARAMS_OFFSET, payload.length).end();
          },
          sink,
          resolve,
          reject,
          id,
        ),
      );
    });
  }

  /** COM_STMT_CLOSE: no response. */
  closeStatement(stmt: PreparedStatement | number): Promise<void> {
    const id = typeof stmt === 'number' ? stmt : stmt.id;
    this.statementColumns.delete(id);
    return this.noReply((w) => w.begin().int1(COM.STMT_CLOSE).int4(id).end());
  }

  /** COM_STMT_SEND_LONG_DATA: appends to one parameter before the next execute; no response. */
  sendLongData(stmt: PreparedStatement | number, paramIndex: number, data: Buffer | string): Promise<void> {
    const id = typeof stmt === 'number' ? stmt : stmt.id;
    return this.noReply((w) => {
      w.begin().int1(COM.STMT_SEND_LONG_DATA).int4(id).int2(paramIndex);
      if (typeof data === 'string') w.string(data);
      else w.bytes(data);
      w.end();
    });
  }

  resetStatement(stmt: PreparedStatement | number): Promise<OkPacket> {
    const id = typeof stmt === 'number' ? stmt : stmt.id;
    return this.simple((w) => w.begin().int1(COM.STMT_RESET).int4(id).end());
  }

  ping(): Promise<OkPacket> {
    return this.simple((w) => w.begin().int1(COM.PING).end());
  }

  /** COM_INIT_DB: the protocol-level `USE`. */
  initDb(database: string): Promise<OkPacket> {
    return this.simple((w) => w.begin().int1(COM.INIT_DB).string(database).end());
  }

  resetConnection(): Promise<OkPacket> {
    // MariaDB closes every prepared statement of the connection.
    this.statementColumns.clear();
    return this.simple((w) => w.begin().int1(COM.RESET_CONNECTION).end());
  }

  /** COM_SET_OPTION: 0 turns multi-statements on, 1 off. MariaDB answers with an EOF packet. */
  setOption(option: number): Promise<OkPacket> {
    return this.simple((w) => w.begin().int1(COM.SET_OPTION).int2(option).end());
  }

  /** COM_FIELD_LIST (deprecated, still used by the mariadb CLI's completion): raw column definitions. */
  fieldList(table: string, wildcard = ''): Promise<Buffer[]> {
    return new Promise((resolve, reject) => {
      const out: Buffer[] = [];
      this.enqueue({
        write: (w) => w.begin().int1(COM.FIELD_LIST).nulString(table).string(wildcard).end(),
        fail: reject,
        onMessage: (p) => {
          if (p[0] === 0xff) reject(decodeErr(this.reader.reset(p)));
          else if (isEofPacket(p)) resolve(out);
          else {
            out.push(p);
            return false;
          }
          return true;
        },
      });
    });
  }

  /** COM_STATISTICS: the server's one-line status string. */
  statistics(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.enqueue({
        write: (w) => w.begin().int1(COM.STATISTICS).end(),
        fail: reject,
        onMessage: (p) => {
          if (p[0] === 0xff) reject(decodeErr(this.reader.reset(p)));
          else resolve(p.toString('utf8'));
          return true;
        },
      });
    });
  }

  /**
   * Sends a command payload (without header) and hands every response packet to `onPacket`
   * until it returns true. The seam for the binlog reader (COM_REGISTER_SLAVE, COM_BINLOG_DUMP):
   * packets are passed as they arrive, and a returned promise pauses reading.
   */
  rawCommand(payload: Buffer, onPacket: RawPacketHandler): Promise<void> {
    return new Promise((resolve, reject) => {
      let failed: unknown = null;
      this.enqueue({
        write: (w) => w.packet(payload),
        fail: reject,
        onMessage: (p) => {
          if (failed) return false;
          let ret: boolean | void | Promise<boolean | void>;
          try {
            ret = onPacket(p);
          } catch (err) {
            failed = err;
            reject(err);
            this.destroy(TesseraError.from(err));
            return true;
          }
          if (ret === true) {
            resolve();
            return true;
          }
          if (ret instanceof Promise) {
            // The command continues until the handler says it is done; completion arrives through
            // `finishRaw` so the connection knows to start the next command.
            this.waitFor(
              ret.then((done) => {
                if (done === true) {
                  resolve();
                  this.active = null;
                  this.next();
                }
              }),
              (err) => {
                failed = err;
                reject(err);
                this.destroy(TesseraError.from(err));
              },
            );
          }
          return false;
        },
      });
    });
  }

  /** Sends KILL QUERY for this connection's running statement over a second connection. */
  async killQuery(): Promise<void> {
    const killer = await Client.connect({ ...this.options, database: undefined });
    try {
      await killer.query(`KILL QUERY ${this.connectionId}`);
    } finally {
      killer.close();
    }
  }

  /** COM_QUIT, then closes the socket. Queued commands fail. */
  close(): void {
    if (this.closedWith) return;
    if (!this.active && this.queue.length === 0) {
      this.writer.seq = 0;
      this.writer.begin().int1(COM.QUIT).end();
      this.writer.flush();
    }
    this.socket.end();
    this.destroy(new TesseraError(ER.SERVER_GONE, 'connection closed by client'));
  }

  /** Closes the connection at once; pending and queued commands fail with `err`. */
  destroy(err: TesseraError = new TesseraError(ER.SERVER_GONE, 'connection destroyed')): void {
    if (this.closedWith) return;
    this.closedWith = err;
    this.socket.destroy();
    const w = this.handshakeWaiter;
    this.handshakeWaiter = null;
    if (w) w(err);
    const pending = this.active ? [this.active, ...this.queue] : [...this.queue];
    this.active = null;
    this.queue.length = 0;
    for (const c of pending) c.fail(err);
    this.emit('close', err);
  }

  private noReply(write: (w: PacketWriter) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      this.enqueue({
        write: (w) => {
          write(w);
          resolve();
        },
        fail: reject,
        onMessage: () => true,
        noResponse: true,
      });
    });
  }

  /** A command answered by one OK (or EOF) or ERR. */
  private simple(write: (w: PacketWriter) => void): Promise<OkPacket> {
    return new Promise((resolve, reject) => {
      this.enqueue({
        write,
        fail: reject,
        onMessage: (p) => {
          const r = this.reader.reset(p);
          if (p[0] === 0xff) reject(decodeErr(r));
          else if (p[0] === 0x00) resolve(decodeOk(r));
          else {
            const eof = decodeEof(r);
            resolve({ affectedRows: 0, lastInsertId: 0, statusFlags: eof.statusFlags, warnings: eof.warnings, info: '' });
          }
          return true;
        },
      });
    });
  }

  private resultCommand(write: (w: PacketWriter) => void, sink: ResultSink, resolve: () => void, reject: (err: unknown) => void, statementId = -1): Command {
    return new ResultCommand(this, write, sink, resolve, reject, statementId);
  }
}

function authResponse(plugin: string, password: string, scramble: Buffer, secure: boolean): Buffer {
  switch (plugin) {
    case AUTH_PLUGIN.NATIVE:
      return nativePasswordScramble(password, scramble);
    case AUTH_PLUGIN.CACHING_SHA2:
      return cachingSha2Scramble(password, scramble);
    case AUTH_PLUGIN.ED25519:
      return ed25519Scramble(password, scramble);
    case AUTH_PLUGIN.CLEAR:
      if (!secure) throw new TesseraError(ER.ACCESS_DENIED, 'server asked for mysql_clear_password over an insecure connection; use ssl');
      return Buffer.concat([Buffer.from(password), Buffer.alloc(1)]);
    case AUTH_PLUGIN.SHA256:
      // Over TLS the password goes in clear; otherwise ask for the public key (answered as auth more data).
      return secure ? Buffer.concat([Buffer.from(password), Buffer.alloc(1)]) : Buffer.from([0x01]);
    default:
      throw new TesseraError(ER.ACCESS_DENIED, `authentication plugin '${plugin}' is not supported`);
  }
}

function describe(o: ClientOptions): string {
  return o.socketPath ?? `${o.host ?? '127.0.0.1'}:${o.port ?? 3306}`;
}
