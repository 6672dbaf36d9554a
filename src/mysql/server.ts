// The MySQL-protocol server the gate listens with. It owns the wire (handshake, TLS, auth,
// framing, prepared-statement bookkeeping, result encoding, limits) and hands every command to a
// ServerHandler. A protocol violation or malformed packet ends that one connection with a logged
// reason; a handler error becomes an ERR packet; nothing a client sends reaches process level.
// Beside it: the handler contract (server-handler.ts), checking auth answers (server-auth.ts),
// prepared statements (server-statements.ts) and the result writer (server-result-writer.ts).
import net from 'node:net';
import tls from 'node:tls';
import { logger } from '../log/index.js';
import { AUTH_PLUGIN, CAP, CHARSET, COM, DEFAULT_PACKET_SIZE_MAX, MARIADB_CAP, SET_OPTION, STATUS } from './constants.js';
import { decoderFor, isClientCharset, mariadbCollation, type TextDecoder } from './charsets.js';
import { ER, TesseraError } from './errors.js';
import { PacketParser, PacketReader, PacketWriter } from './packet.js';
import { decodeHandshakeResponse, encodeColumnDefinition, encodeErr, encodeHandshake, encodeOk, encodeResultEnd } from './protocol.js';
import { scramble20, verifyAuthResponse, type AuthExchange } from './server-auth.js';
import type { ServerHandler, Session, UserCredentials } from './server-handler.js';
import { CommandResultWriter } from './server-result-writer.js';
import { PreparedStatements, type StatementConnection } from './server-statements.js';
import { selfSignedCertificate } from './tls-cert.js';
import { adoptAccepted } from './socket-read.js';

const log = logger('mysql');

/** The version we advertise; MariaDB servers prefix it with `5.5.5-` for old replication clients, and clients strip it. */
export const DEFAULT_SERVER_VERSION = '10.11.19-MariaDB-Tessera';

export interface ServerOptions {
  host?: string;
  port?: number;
  /** Also (or only) listen on a unix socket. */
  socketPath?: string;
  serverVersion?: string;
  /** Plugin asked for in the handshake; users may name their own. */
  authPlugin?: typeof AUTH_PLUGIN.NATIVE | typeof AUTH_PLUGIN.CACHING_SHA2;
  /** Key and certificate (PEM); `'self-signed'` (default) makes one at start; `false` turns TLS off. */
  tls?: { key: string | Buffer; cert: string | Buffer } | 'self-signed' | false;
  /** Refuse clients that do not upgrade to TLS. */
  tlsRequired?: boolean;
  /** Largest message accepted from a client (MariaDB's max_allowed_packet). */
  packetSizeMax?: number;
  /** Connections beyond this get error 1040 (MariaDB's max_connections). */
  connectionsMax?: number;
  /** An idle connection is closed after this long (MariaDB's wait_timeout). */
  idleTimeoutMs?: number;
  /** The handshake and authentication must finish within this (MariaDB's connect_timeout). */
  handshakeTimeoutMs?: number;
  /** Commands a client may pipeline before the server stops reading its socket. */
  pipelineMax?: number;
  /** Prepared statements per connection (MariaDB's max_prepared_stmt_count is per server). */
  preparedStatementsMax?: number;
}

export const SERVER_DEFAULTS = {
  host: '127.0.0.1',
  port: 15306,
  serverVersion: DEFAULT_SERVER_VERSION,
  authPlugin: AUTH_PLUGIN.NATIVE,
  packetSizeMax: DEFAULT_PACKET_SIZE_MAX,
  connectionsMax: 10_000,
  idleTimeoutMs: 8 * 3600 * 1000,
  handshakeTimeoutMs: 10_000,
  pipelineMax: 64,
  preparedStatementsMax: 16_382,
} as const;

export type { PrepareResult, ResultEnd, ResultWriter, ServerHandler, ServerStatement, Session, UserCredentials } from './server-handler.js';

let nextConnectionId = 1;

export class Server {
  readonly options: Required<Omit<ServerOptions, 'socketPath' | 'tls' | 'tlsRequired'>> & Pick<ServerOptions, 'socketPath' | 'tls' | 'tlsRequired'>;
  private readonly servers: net.Server[] = [];
  private readonly connections = new Set<ServerConnection>();
  private secureContext: tls.SecureContext | null = null;
  private draining = false;
  /** caching_sha2_password's cache: user -> SHA256(SHA256(password)) after a full authentication. */
  readonly sha2Cache = new Map<string, Buffer>();

  constructor(
    readonly handler: ServerHandler,
    options: ServerOptions = {},
  ) {
    this.options = { ...SERVER_DEFAULTS, ...options };
  }

  /** Starts listening; resolves with the TCP port (useful with port 0). */
  async listen(): Promise<number> {
    const t = this.options.tls ?? 'self-signed';
    if (t === 'self-signed') {
      const pair = await selfSignedCertificate();
      if (pair) this.secureContext = tls.createSecureContext(pair);
      else log.warn('openssl not found: TLS is not offered');
    } else if (t) {
      this.secureContext = tls.createSecureContext({ key: t.key, cert: t.cert });
    }
    const onConnection = (socket: net.Socket): void => this.accept(socket);
    let port = 0;
    if (this.options.port !== undefined && this.options.port >= 0) {
      const srv = net.createServer({ noDelay: true, pauseOnConnect: true }, onConnection);
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(this.options.port, this.options.host, () => resolve());
      });
      port = (srv.address() as net.AddressInfo).port;
      this.servers.push(srv);
    }
    if (this.options.socketPath) {
      const srv = net.createServer({ pauseOnConnect: true }, onConnection);
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(this.options.socketPath, () => resolve());
      });
      this.servers.push(srv);
    }
    for (const s of this.servers) s.on('error', (err) => log.error({ err }, 'listener error'));
    return port;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  get tlsAvailable(): boolean {
    return this.secureContext !== null;
  }

  /** @internal */
  getSecureContext(): tls.SecureContext | null {
    return this.secureContext;
  }

  private accept(socket: net.Socket): void {
    socket.on('error', () => undefined);
    if (this.draining) {
      socket.destroy();
      return;
    }
    const id = nextConnectionId++;
    if (nextConnectionId > 0xffffffff) nextConnectionId = 1;
    const conn = new ServerConnection(this, socket, id);
    if (this.connections.size >= this.options.connectionsMax) {
      conn.refuse(new TesseraError(ER.CON_COUNT, `Too many connections (connectionsMax=${this.options.connectionsMax})`));
      return;
    }
    this.connections.add(conn);
    conn.start();
  }

  /** @internal */
  forget(conn: ServerConnection): void {
    this.connections.delete(conn);
  }

  /**
   * Graceful drain: stop accepting, close idle connections at once and busy ones when their
   * current command ends; connections still open after `drainTimeoutMs` are cut.
   */
  async close(drainTimeoutMs = 10_000): Promise<void> {
    this.draining = true;
    const closed = Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    for (const c of this.connections) c.drain();
    const deadline = Date.now() + drainTimeoutMs;
    while (this.connections.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const c of this.connections) c.destroy('server shutdown: drain timeout');
    await closed;
  }
}

interface Message {
  payload: Buffer;
  firstSeq: number;
  lastSeq: number;
}

// CLIENT_MYSQL (LONG_PASSWORD) is left unset, as MariaDB does, so clients read our extended
// capabilities.
const SERVER_CAPABILITIES =
  CAP.FOUND_ROWS | CAP.LONG_FLAG | CAP.CONNECT_WITH_DB | CAP.NO_SCHEMA | CAP.ODBC |
  CAP.IGNORE_SPACE | CAP.PROTOCOL_41 | CAP.INTERACTIVE | CAP.IGNORE_SIGPIPE | CAP.TRANSACTIONS |
  CAP.RESERVED | CAP.SECURE_CONNECTION | CAP.MULTI_STATEMENTS | CAP.MULTI_RESULTS | CAP.PS_MULTI_RESULTS |
  CAP.PLUGIN_AUTH | CAP.CONNECT_ATTRS | CAP.PLUGIN_AUTH_LENENC_CLIENT_DATA | CAP.CAN_HANDLE_EXPIRED_PASSWORDS |
  CAP.SESSION_TRACK | CAP.DEPRECATE_EOF;
// SESSION_TRACK is offered so clients read the OK packet's info as a length-encoded string (what
// MariaDB sends either way); we never set SESSION_STATE_CHANGED, so no state block follows.

/**
 * MariaDB extended capabilities we offer: the extended type info (JSON, UUID, ... names), and the
 * metadata cache (an execute whose columns the client already holds goes without their definitions:
 * CachedMetadata in server-result-writer.ts).
 */
const SERVER_MARIADB_CAPABILITIES = MARIADB_CAP.EXTENDED_TYPE_INFO | MARIADB_CAP.CACHE_METADATA;

/** One client connection: the state machine from handshake to quit. */
export class ServerConnection implements Session, StatementConnection {
  user = '';
  database: string | null = null;
  capabilities = 0;
  mariadbCapabilities = 0;
  remoteAddress: string;
  tls = false;
  connectAttrs: Record<string, string> = {};
  charset: number = CHARSET.UTF8MB4_GENERAL_CI;
  /** Reads the client's statements: character_set_client, from the handshake or SET NAMES. */
  private decodeText: TextDecoder = decoderFor('utf8mb4');
  private clientCharset = 'utf8mb4';
  statusFlags: number = STATUS.AUTOCOMMIT;
  multiStatements = false;

  private socket: net.Socket | tls.TLSSocket;
  private readonly parser: PacketParser;
  private readonly writer: PacketWriter;
  /** @internal Re-pointed per packet. */
  readonly reader = new PacketReader();
  private readonly backlog: Message[] = [];
  private waiter: ((m: Message | null) => void) | null = null;
  private phase: 'handshake' | 'command' | 'closed' = 'handshake';
  private busy = false;
  private draining = false;
  private readPaused = false;
  private readonly statements: PreparedStatements;
  /** The result writer of the running COM_QUERY / COM_STMT_EXECUTE. */
  private result: CommandResultWriter | null = null;
  private drainWaiters: (() => void)[] = [];
  private handshakeTimer: NodeJS.Timeout | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  /** When the last command started (epoch ms): what the idle timeout counts from. */
  private lastCommandAt = 0;
  /** @internal */
  readonly handler: ServerHandler;

  constructor(
    private readonly server: Server,
    socket: net.Socket,
    readonly id: number,
  ) {
    this.socket = socket;
    this.handler = server.handler;
    this.remoteAddress = socket.remoteAddress ?? 'localhost';
    this.statements = new PreparedStatements(this);
    this.parser = new PacketParser(server.options.packetSizeMax, (payload, firstSeq, lastSeq) => this.onMessage(payload, firstSeq, lastSeq));
    this.writer = new PacketWriter((data) => {
      if (!this.socket.destroyed) this.socket.write(data);
    });
  }

  refuse(err: TesseraError): void {
    this.writer.seq = 0;
    encodeErr(this.writer, err);
    this.writer.flush();
    this.socket.end();
    // Accepted paused: read (and drop) until the client's FIN so the socket closes.
    this.socket.resume();
    log.warn({ conn: this.id, remote: this.remoteAddress, reason: err.message }, 'connection refused');
  }

  start(): void {
    // Accepted paused (pauseOnConnect): from here reads go straight into the parser.
    this.socket = adoptAccepted(this.socket as net.Socket, (n, buf) => this.onRead(n, buf));
    this.attach(this.socket);
    this.socket.setNoDelay(true);
    this.handshakeTimer = setTimeout(
      () => this.destroy(`handshake not finished within handshakeTimeoutMs=${this.server.options.handshakeTimeoutMs}`),
      this.server.options.handshakeTimeoutMs,
    );
    this.handshake().then(
      (ok) => {
        if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
        if (!ok || this.phase === 'closed') return;
        this.phase = 'command';
        this.lastCommandAt = Date.now();
        this.scheduleIdle(this.server.options.idleTimeoutMs);
        this.pump();
      },
      (err) => this.destroy(`handshake failed: ${err instanceof Error ? err.message : String(err)}`),
    );
  }

  /** Bytes read from the plain socket into a buffer valid only during this call. */
  private onRead(n: number, buf: Buffer): boolean {
    // After a TLS upgrade the TLS layer owns the socket's reads; nothing should arrive here.
    if (this.tls || this.phase === 'closed') return true;
    try {
      this.parser.pushBorrowed(buf, n);
    } catch (err) {
      this.protocolError(TesseraError.from(err, ER.NET_READ_ERROR), this.parser.lastHeaderSeq + 1);
    }
    return true;
  }

  private attach(socket: net.Socket | tls.TLSSocket): void {
    // A TLS socket is a stream; the plain one reads through onRead (socket-read.ts).
    if (socket instanceof tls.TLSSocket) {
      socket.on('data', (chunk: Buffer) => {
        try {
          this.parser.push(chunk);
        } catch (err) {
          this.protocolError(TesseraError.from(err, ER.NET_READ_ERROR), this.parser.lastHeaderSeq + 1);
        }
      });
    }
    socket.on('error', (err) => this.destroy(`socket error: ${err.message}`, 'debug'));
    socket.on('close', () => this.destroy('client closed the connection', 'debug'));
    socket.on('drain', () => {
      const ws = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of ws) w();
    });
  }

  /**
   * The idle timeout: a connection with no command for idleTimeoutMs is closed. Not the socket's
   * own timeout (socket.setTimeout), which re-arms a timer on every read and write (about 2 µs a
   * point select); one timer per connection instead, firing at the deadline as it stood when armed
   * and re-armed for what is left when a command came since. A command still running then puts
   * it off by idleTimeoutMs.
   */
  private scheduleIdle(ms: number): void {
    if (!(this.server.options.idleTimeoutMs > 0)) return; // 0: no idle timeout, as socket.setTimeout(0)
    // Unref'd, as the socket's timeout was: it never keeps the process alive.
    this.idleTimer = setTimeout(this.onIdleTimer, ms).unref();
  }

  private readonly onIdleTimer = (): void => {
    this.idleTimer = null;
    if (this.phase !== 'command') return;
    const idle = this.server.options.idleTimeoutMs;
    const left = this.lastCommandAt + idle - Date.now();
    if (left > 0) this.scheduleIdle(left);
    else if (this.busy) this.scheduleIdle(idle);
    else this.destroy(`idle for idleTimeoutMs=${idle}`, 'info');
  };

  /** Sends an ERR naming the violation (best effort), logs, and closes this one connection. */
  private protocolError(err: TesseraError, seq?: number): void {
    if (this.phase === 'closed') return;
    try {
      this.writer.abort();
      if (seq !== undefined) this.writer.seq = seq & 0xff;
      encodeErr(this.writer, err);
      this.writer.flush();
    } catch {
      // The writer may be mid-packet when a handler's output was interrupted; the close suffices.
    }
    this.destroy(`protocol violation: ${err.message}`, 'warn');
  }

  destroy(reason: string, level: 'debug' | 'info' | 'warn' = 'info'): void {
    if (this.phase === 'closed') return;
    const wasAuthenticated = this.phase === 'command';
    this.phase = 'closed';
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    log[level]({ conn: this.id, remote: this.remoteAddress, user: this.user || undefined, reason }, 'connection closed');
    try {
      // What is already encoded (an ERR, the last result) goes out before the FIN.
      this.writer.abort();
      this.writer.flush();
    } catch {
      // nothing to send
    }
    this.socket.end();
    this.socket.destroySoon?.();
    setTimeout(() => this.socket.destroy(), 1000).unref();
    this.server.forget(this);
    const w = this.waiter;
    this.waiter = null;
    if (w) w(null);
    const ws = this.drainWaiters;
    this.drainWaiters = [];
    for (const d of ws) d();
    if (wasAuthenticated) {
      try {
        this.handler.closed?.(this);
      } catch (err) {
        log.error({ err, conn: this.id }, 'handler.closed threw');
      }
    }
  }

  close(reason: string): void {
    this.destroy(reason, 'info');
  }

  drain(): void {
    this.draining = true;
    if (!this.busy) this.destroy('server shutdown');
  }

  private onMessage(payload: Buffer, firstSeq: number, lastSeq: number): void {
    if (this.phase === 'command') {
      // The common case, a command while idle, runs at once without queueing.
      if (!this.busy && this.backlog.length === 0) {
        this.command(payload, firstSeq, lastSeq);
        return;
      }
    } else if (this.phase === 'closed') return;
    else if (!this.tls && payload.length === 32 && firstSeq === 1) {
      // An SSLRequest: whatever follows is the TLS ClientHello, not packets. Stop here; the
      // upgrade hands the rest to TLS.
      this.parser.pause();
      this.socket.pause();
    }
    const m: Message = { payload, firstSeq, lastSeq };
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(m);
      return;
    }
    this.backlog.push(m);
    if (this.backlog.length >= this.server.options.pipelineMax && !this.readPaused) {
      this.readPaused = true;
      this.parser.pause();
      this.socket.pause();
    }
    if (this.phase === 'command' && !this.busy) this.pump();
  }

  /** The next message of the connection phase, with its sequence id checked. */
  private async read(): Promise<Message | null> {
    const m = this.backlog.shift() ?? (await new Promise<Message | null>((resolve) => (this.waiter = resolve)));
    if (!m) return null;
    if (m.firstSeq !== this.writer.seq) {
      throw new TesseraError(ER.NET_PACKETS_OUT_OF_ORDER, `Got packets out of order: sequence id ${m.firstSeq}, expected ${this.writer.seq}`);
    }
    this.writer.seq = (m.lastSeq + 1) & 0xff;
    return m;
  }

  private async handshake(): Promise<boolean> {
    const opts = this.server.options;
    const nonce = scramble20();
    const secureContext = this.server.getSecureContext();
    let serverCaps = SERVER_CAPABILITIES;
    if (secureContext) serverCaps |= CAP.SSL;
    this.writer.seq = 0;
    encodeHandshake(this.writer, {
      protocolVersion: 10,
      serverVersion: opts.serverVersion.startsWith('5.5.5-') ? opts.serverVersion : `5.5.5-${opts.serverVersion}`,
      connectionId: this.id,
      authPluginData: nonce,
      capabilities: serverCaps,
      charset: CHARSET.UTF8MB4_GENERAL_CI,
      statusFlags: STATUS.AUTOCOMMIT,
      mariadbCapabilities: SERVER_MARIADB_CAPABILITIES,
      authPluginName: opts.authPlugin,
    });
    let m = await this.read();
    if (!m) return false;
    let resp = decodeHandshakeResponse(this.reader.reset(m.payload));
    if (resp.isSslRequest) {
      if (!secureContext || !(resp.capabilities & CAP.SSL)) throw new TesseraError(ER.HANDSHAKE_ERROR, 'SSL request without SSL support');
      await this.upgradeTls(secureContext);
      m = await this.read();
      if (!m) return false;
      resp = decodeHandshakeResponse(this.reader.reset(m.payload));
      if (resp.isSslRequest) throw new TesseraError(ER.HANDSHAKE_ERROR, 'second SSL request');
    }
    this.capabilities = (resp.capabilities & serverCaps) >>> 0;
    this.mariadbCapabilities = resp.mariadbCapabilities & SERVER_MARIADB_CAPABILITIES;
    this.user = resp.user;
    this.charset = resp.charset;
    const coll = mariadbCollation(resp.charset);
    if (coll && isClientCharset(coll.charset)) this.setClientCharset(coll.charset);
    this.connectAttrs = resp.connectAttrs;
    this.multiStatements = (this.capabilities & CAP.MULTI_STATEMENTS) !== 0;
    if (opts.tlsRequired && !this.tls) {
      this.sendError(new TesseraError(ER.ACCESS_DENIED, 'Connections using insecure transport are prohibited (tlsRequired)'));
      this.destroy('insecure transport refused', 'info');
      return false;
    }

    const denied = (usedPassword: boolean): TesseraError =>
      new TesseraError(ER.ACCESS_DENIED, `Access denied for user '${this.user}'@'${this.remoteAddress}' (using password: ${usedPassword ? 'YES' : 'NO'})`);
    let creds: UserCredentials | null;
    try {
      creds = await this.handler.getUser(this.user, this);
    } catch (err) {
      creds = null;
      log.error({ err, conn: this.id }, 'handler.getUser failed');
    }
    const plugin = creds?.plugin ?? opts.authPlugin;
    let response = resp.authResponse;
    let scramble = nonce;
    if ((resp.authPluginName ?? AUTH_PLUGIN.NATIVE) !== plugin) {
      // Auth switch: ask for the user's plugin with a fresh nonce.
      scramble = scramble20();
      this.writer.begin().int1(0xfe).nulString(plugin).bytes(scramble).int1(0).end();
      m = await this.read();
      if (!m) return false;
      response = m.payload;
    }
    let password: string | undefined;
    let ok = false;
    if (creds) {
      const exchange: AuthExchange = {
        tls: this.tls,
        user: this.user,
        writer: this.writer,
        next: async () => (await this.read())?.payload ?? null,
        sha2Cache: this.server.sha2Cache,
      };
      const result = await verifyAuthResponse(exchange, plugin, creds, response, scramble);
      if (result === null) return false;
      ok = result.ok;
      password = result.password;
    }
    if (!ok) {
      this.sendError(denied(response.length > 0));
      this.destroy('access denied', 'info');
      return false;
    }
    try {
      if (resp.database) await this.initDb(resp.database);
      await this.handler.connected?.(this, password);
    } catch (err) {
      this.sendError(TesseraError.from(err));
      this.destroy(`login rejected: ${err instanceof Error ? err.message : String(err)}`, 'info');
      return false;
    }
    encodeOk(this.writer, { statusFlags: this.statusFlags });
    return true;
  }

  private upgradeTls(context: tls.SecureContext): Promise<void> {
    const raw = this.socket as net.Socket;
    raw.removeAllListeners('data');
    raw.removeAllListeners('close');
    raw.removeAllListeners('drain');
    raw.removeAllListeners('timeout');
    raw.removeAllListeners('error');
    raw.on('error', () => undefined);
    // Bytes read behind the SSLRequest are the start of the TLS handshake: the TLS layer gets
    // them before anything else it reads from the socket.
    const early = this.parser.takeBuffered();
    this.parser.resume();
    const secure = new tls.TLSSocket(raw, { isServer: true, secureContext: context });
    this.socket = secure;
    this.tls = true;
    this.attach(secure);
    if (early.length > 0) (secure as unknown as { _handle: { receive(b: Buffer): void } })._handle.receive(early);
    return new Promise((resolve, reject) => {
      secure.once('secure', () => resolve());
      secure.once('error', reject);
    });
  }

  /** @internal */
  sendError(err: TesseraError): void {
    encodeErr(this.writer, err);
  }

  private async initDb(database: string): Promise<void> {
    if (this.handler.initDb) await this.handler.initDb(this, database);
    else this.database = database;
  }

  /** Runs queued commands one at a time. */
  private pump(): void {
    if (this.busy || this.phase !== 'command') return;
    const m = this.backlog.shift();
    if (!m) {
      if (this.draining) this.destroy('server shutdown');
      return;
    }
    if (this.readPaused && this.backlog.length < this.server.options.pipelineMax / 2) {
      this.readPaused = false;
      this.socket.resume();
      try {
        this.parser.resume();
      } catch (err) {
        this.protocolError(TesseraError.from(err, ER.NET_READ_ERROR), this.parser.lastHeaderSeq + 1);
        return;
      }
    }
    this.command(m.payload, m.firstSeq, m.lastSeq);
  }

  /** Starts one command; `commandDone` or `commandFailed` follows, at once or when the handler settles. */
  private command(payload: Buffer, firstSeq: number, lastSeq: number): void {
    if (firstSeq !== 0) {
      this.protocolError(new TesseraError(ER.NET_PACKETS_OUT_OF_ORDER, `Got packets out of order: command with sequence id ${firstSeq}`), lastSeq + 1);
      return;
    }
    this.writer.seq = (lastSeq + 1) & 0xff;
    this.busy = true;
    this.lastCommandAt = Date.now();
    let pending: boolean;
    try {
      pending = this.dispatch(payload);
    } catch (err) {
      this.commandFailed(err);
      return;
    }
    if (!pending) this.commandDone();
  }

  private readonly commandDone = (): void => {
    this.busy = false;
    if (this.draining && this.phase === 'command') this.destroy('server shutdown');
    else this.pump();
  };

  /** Only protocol-level failures reach here: handler errors are sent as ERR. */
  private readonly commandFailed = (err: unknown): void => {
    this.busy = false;
    this.protocolError(TesseraError.from(err, ER.NET_READ_ERROR));
  };

  /** A command that finishes when `p` settles. */
  private track(p: Promise<void>): true {
    p.then(this.commandDone, this.commandFailed);
    return true;
  }

  /** @internal Waits for a handler producing results; errors become ERR (also after rows started). */
  awaitResult(out: CommandResultWriter, running: Promise<void>): void {
    this.result = out;
    running.then(this.resultDone, this.resultFailed);
  }

  /** @internal A handler threw before returning its promise. */
  resultThrew(out: CommandResultWriter, err: unknown): void {
    this.result = out;
    this.resultFailed(err);
  }

  private readonly resultDone = (): void => {
    const out = this.result!;
    this.result = null;
    try {
      out.finish();
    } catch (err) {
      this.commandFailed(err);
      return;
    }
    this.commandDone();
  };

  private readonly resultFailed = (err: unknown): void => {
    const out = this.result!;
    this.result = null;
    // After the last result the client expects nothing more: an ERR now would desynchronize it.
    if (this.phase !== 'closed' && out.isDone) {
      this.commandFailed(err);
      return;
    }
    if (this.phase !== 'closed') this.sendError(TesseraError.from(err));
    this.commandDone();
  };

  /** Handles one command; returns true when it completes later (through commandDone/commandFailed). */
  /** The client's character set changed (SET NAMES, SET character_set_client): its statements are read in it. */
  setClientCharset(charset: string): void {
    this.decodeText = decoderFor(charset);
    this.clientCharset = charset;
  }

  paramDecoder(): ((b: Buffer) => string) | null {
    // binary: the pass-through proxy relays text byte for byte, and keeps non-UTF-8 parameters as bytes.
    return this.clientCharset === 'utf8mb4' || this.clientCharset === 'utf8mb3' || this.clientCharset === 'binary' ? null : this.decodeText;
  }

  private dispatch(payload: Buffer): boolean {
    if (payload.length === 0) throw new TesseraError(ER.NET_READ_ERROR, 'malformed packet: empty command');
    const cmd = payload[0];
    switch (cmd) {
      case COM.QUERY: {
        const out = new CommandResultWriter(this, false);
        try {
          this.awaitResult(out, this.handler.query(this, this.decodeText(payload, 1), out));
        } catch (err) {
          this.resultThrew(out, err);
        }
        return true;
      }
      case COM.STMT_EXECUTE:
        return this.statements.execute(payload);
      case COM.QUIT:
        this.destroy('quit', 'debug');
        return false;
      case COM.PING:
        return this.track(this.simple(async () => this.handler.ping?.(this)));
      case COM.INIT_DB:
        return this.track(this.simple(() => this.initDb(this.decodeText(payload, 1))));
      case COM.FIELD_LIST: {
        const r = this.reader.reset(payload, 1);
        const table = r.nulString();
        const wildcard = r.restString();
        return this.track(
          this.simpleWith(async () => {
            const cols = this.handler.fieldList ? await this.handler.fieldList(this, table, wildcard) : [];
            for (const c of cols) {
              if (Buffer.isBuffer(c)) this.writer.packet(c);
              else encodeColumnDefinition(this.writer, c, this.extendedTypeInfo);
            }
            encodeResultEnd(this.writer, this.capabilities, { statusFlags: this.statusFlags });
          }),
        );
      }
      case COM.STATISTICS:
        return this.track(
          this.simpleWith(async () => {
            const s = this.handler.statistics ? await this.handler.statistics(this) : `Uptime: ${Math.floor(process.uptime())}  Threads: ${this.server.connectionCount}`;
            this.writer.begin().string(s).end();
          }),
        );
      case COM.SET_OPTION: {
        const opt = this.reader.reset(payload, 1).u16();
        if (opt !== SET_OPTION.MULTI_STATEMENTS_ON && opt !== SET_OPTION.MULTI_STATEMENTS_OFF) {
          this.sendError(new TesseraError(ER.UNKNOWN_COM, `Unknown COM_SET_OPTION value ${opt}`));
          return false;
        }
        return this.track(
          this.simpleWith(async () => {
            const on = opt === SET_OPTION.MULTI_STATEMENTS_ON;
            await this.handler.setOption?.(this, on);
            this.multiStatements = on;
            encodeResultEnd(this.writer, this.capabilities, { statusFlags: this.statusFlags });
          }),
        );
      }
      case COM.RESET_CONNECTION:
        return this.track(
          this.simple(async () => {
            await this.handler.resetConnection?.(this);
            this.statements.closeAll();
            this.statusFlags = STATUS.AUTOCOMMIT;
          }),
        );
      case COM.STMT_PREPARE:
        return this.track(this.statements.prepare(this.decodeText(payload, 1)));
      case COM.STMT_SEND_LONG_DATA:
        this.statements.longData(payload);
        return false;
      case COM.STMT_CLOSE:
        this.statements.closeCommand(payload);
        return false;
      case COM.STMT_RESET:
        this.statements.reset(payload);
        return false;
      default:
        this.sendError(new TesseraError(ER.UNKNOWN_COM, `Unknown command 0x${cmd.toString(16).padStart(2, '0')}`));
        return false;
    }
  }

  /** Runs `f`, then sends OK; an error thrown becomes an ERR. */
  private async simple(f: () => Promise<unknown>): Promise<void> {
    await this.simpleWith(async () => {
      await f();
      encodeOk(this.writer, { statusFlags: this.statusFlags });
    });
  }

  private async simpleWith(f: () => Promise<void>): Promise<void> {
    try {
      await f();
    } catch (err) {
      this.sendError(TesseraError.from(err));
    }
  }

  /** @internal */
  logError(err: unknown, what: string): void {
    log.error({ err, conn: this.id }, what);
  }

  /** @internal */
  get packetSizeMax(): number {
    return this.server.options.packetSizeMax;
  }

  /** @internal */
  get preparedStatementsMax(): number {
    return this.server.options.preparedStatementsMax;
  }

  /** @internal: used by the result writer. */
  get packetWriter(): PacketWriter {
    return this.writer;
  }

  /** @internal */
  get socketNeedsDrain(): boolean {
    return this.socket.writableNeedDrain || this.writer.pending > 256 * 1024;
  }

  /** @internal */
  waitDrain(): Promise<void> {
    this.writer.flush();
    if (!this.socket.writableNeedDrain || this.phase === 'closed') return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  get closed(): boolean {
    return this.phase === 'closed';
  }

  get extendedTypeInfo(): boolean {
    return (this.mariadbCapabilities & MARIADB_CAP.EXTENDED_TYPE_INFO) !== 0;
  }

  get cacheMetadata(): boolean {
    return (this.mariadbCapabilities & MARIADB_CAP.CACHE_METADATA) !== 0;
  }
}
