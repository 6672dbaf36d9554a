// RPC server: one TCP listener, many connections, many calls in flight per connection. A frame that
// breaks the protocol closes that connection only (logged with the reason); a handler's failure
// becomes an Error frame for that call only.
import net from 'node:net';
import { ER, TesseraError } from '../mysql/errors.js';
import { logger } from '../log/index.js';
import { encodeFrame, encodeFrameInPlace, FrameKind, FrameParser, FRAME_DEFAULTS, FRAME_HEADER_BYTES, type Frame } from './frame.js';
import { decodeMessage, decodeRequestHead, encodeError, encodeMessage, readBinaryEnvelope, type Json, type Message } from './message.js';
import { CancelToken, type CancelSignal } from './cancel.js';
import { adoptAccepted } from '../mysql/socket-read.js';
import { FrameWriter } from './frame-writer.js';

const log = logger('rpc');

export interface CallContext {
  /**
   * Aborted when the client cancels, the deadline passes, or the connection closes. Made on first
   * use: a handler on the query path takes `cancel` instead.
   */
  readonly signal: AbortSignal;
  /** The same cancellation as `signal`, without an AbortController (see cancel.ts). */
  readonly cancel: CancelSignal;
  readonly peer: string;
  /**
   * `undo` runs if the client never takes this call's successful answer: it cancelled the call
   * (before the answer went out, or after — a cancel crossing the answer on the wire: the client
   * drops a cancelled call's answer), or the connection closed first. A handler whose success
   * leaves state only its caller can end (a transaction begun, a reserved connection) registers
   * how to end it, so that state does not outlive a caller that went away.
   */
  onUnseen(undo: () => void): void;
  /** The connection the call came on: state a handler ties to it ends when it closes. */
  readonly connection: RpcConnection;
}

/** A client's connection, as handlers see it. */
export interface RpcConnection {
  /** False once the connection closed. */
  readonly open: boolean;
  /** `fn` runs once when the connection closes (at once if it already has). */
  onClose(fn: () => void): void;
}

/** Answered calls with an undo, kept per connection for a cancel that crossed the answer (oldest dropped). */
const ANSWERED_UNDO_MAX = 256;

export interface Reply {
  readonly meta: Json;
  readonly blobs?: readonly Buffer[];
}

export type UnaryHandler = (req: Message, ctx: CallContext) => Promise<Reply>;
/** Sends chunks with `send`, which resolves when the client has room for more (backpressure). */
export type StreamHandler = (req: Message, ctx: CallContext, send: (chunk: Reply) => Promise<void>) => Promise<Reply | void>;
/**
 * A unary method with its own binary body (after the request prefix and the envelope that makes it
 * a message for older servers, see message.ts; from `offset` in `body`), not a JSON message. It returns its reply body preceded by FRAME_HEADER_BYTES of room for the
 * frame header. Errors are error frames as for every method.
 */
export type BinaryUnaryHandler = (body: Buffer, offset: number, ctx: CallContext) => Promise<Buffer>;

export const RPC_SERVER_DEFAULTS = {
  frameBytesMax: FRAME_DEFAULTS.frameBytesMax,
  connectionsMax: 10_000,
  /** Upper bound on the window a client may ask for (chunks sent before it grants more). */
  streamWindowChunksMax: 64,
  /** How long close() waits for calls in flight before cutting connections. */
  drainTimeoutMs: 10_000,
} as const;

export type RpcServerOptions = Partial<Record<keyof typeof RPC_SERVER_DEFAULTS, number>>;

function runUndo(undo: () => void): void {
  try {
    undo();
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'undoing a call whose answer the client will not take failed');
  }
}

/** One call in flight: its cancellation, its context and its stream credits in one object. */
class ServerCall extends CancelToken implements CallContext {
  credits: number;
  creditWaiter: (() => void) | null = null;
  timer: NodeJS.Timeout | null = null;
  /** The client sent a cancel: it will drop the answer. */
  cancelled = false;
  /** See CallContext.onUnseen. */
  undo: (() => void) | null = null;
  private controller: AbortController | null = null;

  constructor(
    readonly id: number,
    readonly method: string,
    private readonly timeoutMs: number,
    readonly peer: string,
    credits: number,
    readonly connection: RpcConnection,
  ) {
    super();
    this.credits = credits;
  }

  get cancel(): CancelSignal {
    return this;
  }

  onUnseen(undo: () => void): void {
    this.undo = undo;
  }

  get signal(): AbortSignal {
    if (this.controller === null) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  override abort(reason: unknown): void {
    if (this.aborted) return;
    this.controller?.abort(reason);
    super.abort(reason);
  }

  /** The call's deadline passed. */
  deadlinePassed(): void {
    this.abort(new TesseraError(ER.QUERY_INTERRUPTED, `rpc ${this.method} exceeded its deadline of ${this.timeoutMs} ms`));
  }
}

export class RpcServer {
  private readonly unaryHandlers = new Map<string, UnaryHandler>();
  private readonly streamHandlers = new Map<string, StreamHandler>();
  private readonly binaryHandlers = new Map<string, BinaryUnaryHandler>();
  private readonly server: net.Server;
  private readonly conns = new Set<ServerConnection>();
  private readonly opts: Record<keyof typeof RPC_SERVER_DEFAULTS, number>;
  private closing = false;

  constructor(opts: RpcServerOptions = {}) {
    this.opts = { ...RPC_SERVER_DEFAULTS, ...opts };
    // Accepted paused, so that the connection's reads can be taken over without streams (accept).
    this.server = net.createServer({ noDelay: true, pauseOnConnect: true }, (sock) => this.accept(sock));
  }

  unary(method: string, handler: UnaryHandler): this {
    this.unaryHandlers.set(method, handler);
    return this;
  }

  binaryUnary(method: string, handler: BinaryUnaryHandler): this {
    this.binaryHandlers.set(method, handler);
    return this;
  }

  stream(method: string, handler: StreamHandler): this {
    this.streamHandlers.set(method, handler);
    return this;
  }

  listen(port: number, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as net.AddressInfo).port);
      });
    });
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  /** Stops accepting, lets calls in flight finish up to drainTimeoutMs, then closes connections. */
  async close(): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const deadline = Date.now() + this.opts.drainTimeoutMs;
    while ([...this.conns].some((c) => c.inFlight > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    for (const c of this.conns) c.destroy('server closing');
    await closed;
  }

  private accept(sock: net.Socket): void {
    if (this.closing || this.conns.size >= this.opts.connectionsMax) {
      log.warn({ peer: sock.remoteAddress, connections: this.conns.size }, 'rpc connection refused: connectionsMax reached or closing');
      sock.destroy();
      return;
    }
    const c = new ServerConnection(sock, this.opts, this.unaryHandlers, this.streamHandlers, this.binaryHandlers, () => this.conns.delete(c));
    c.start();
    this.conns.add(c);
  }
}

class ServerConnection implements RpcConnection {
  private readonly parser: FrameParser;
  private closeListeners: (() => void)[] = [];
  private readonly calls = new Map<number, ServerCall>();
  /** Answered calls' undos by request id, for a cancel that arrives after the answer (insertion order = age). */
  private readonly answered = new Map<number, () => void>();
  private readonly peer: string;
  private writer: FrameWriter;
  private dead = false;

  constructor(
    private sock: net.Socket,
    private readonly opts: Record<keyof typeof RPC_SERVER_DEFAULTS, number>,
    private readonly unaryHandlers: Map<string, UnaryHandler>,
    private readonly streamHandlers: Map<string, StreamHandler>,
    private readonly binaryHandlers: Map<string, BinaryUnaryHandler>,
    private readonly onDisconnect: () => void,
  ) {
    this.peer = `${sock.remoteAddress}:${sock.remotePort}`;
    this.parser = new FrameParser(opts.frameBytesMax);
    this.writer = new FrameWriter(sock);
  }

  /**
   * Reads the connection without Node's stream machinery (src/mysql/socket-read.ts: the accepted
   * socket's handle moves to one that reads into a shared buffer); each read is copied into a
   * chunk of its own, as a 'data' event would give, since frames outlive the read.
   */
  start(): void {
    const sock = adoptAccepted(this.sock, (n, buf) => {
      try {
        this.parser.push(Buffer.from(buf.subarray(0, n)), (f) => this.onFrame(f));
      } catch (err) {
        this.destroy((err as Error).message);
      }
      return true;
    });
    this.sock = sock;
    this.writer = new FrameWriter(sock);
    sock.setNoDelay(true);
    sock.on('error', () => undefined);
    sock.on('close', () => {
      this.dead = true;
      for (const call of this.calls.values()) call.abort(new TesseraError(ER.QUERY_INTERRUPTED, 'rpc connection closed'));
      this.calls.clear();
      this.onDisconnect();
      const listeners = this.closeListeners;
      this.closeListeners = [];
      for (const fn of listeners) runUndo(fn);
    });
  }

  get open(): boolean {
    return !this.dead;
  }

  onClose(fn: () => void): void {
    if (this.dead) runUndo(fn);
    else this.closeListeners.push(fn);
  }

  get inFlight(): number {
    return this.calls.size;
  }

  destroy(reason: string): void {
    if (this.dead) return;
    log.warn({ peer: this.peer, reason }, 'closing rpc connection');
    // Answers queued this turn (the last calls before a server close) go out first.
    this.writer.flush();
    this.sock.destroy();
  }

  private write(buf: Buffer): boolean {
    if (this.dead) return true;
    return this.writer.write(buf);
  }

  private onFrame(f: Frame): void {
    switch (f.kind) {
      case FrameKind.Request:
        this.startCall(f);
        return;
      case FrameKind.Cancel: {
        const call = this.calls.get(f.requestId);
        if (call) {
          call.cancelled = true;
          call.abort(new TesseraError(ER.QUERY_INTERRUPTED, 'call cancelled by the client'));
          return;
        }
        // The answer was on its way when the client gave up: it drops it, so undo what it did.
        const undo = this.answered.get(f.requestId);
        if (undo) {
          this.answered.delete(f.requestId);
          runUndo(undo);
        }
        return;
      }
      case FrameKind.Credit: {
        const call = this.calls.get(f.requestId);
        if (!call) return; // the stream ended meanwhile
        if (f.body.length !== 4) throw new Error('credit frame must carry 4 bytes');
        call.credits += f.body.readUInt32LE(0);
        const w = call.creditWaiter;
        call.creditWaiter = null;
        w?.();
        return;
      }
      case FrameKind.Ping:
        this.write(encodeFrame(f.requestId, FrameKind.Pong, null));
        return;
      default:
        throw new Error(`frame kind ${f.kind} is not valid from a client`);
    }
  }

  private startCall(f: Frame): void {
    const id = f.requestId;
    if (this.calls.has(id)) throw new Error(`request id ${id} is already in use`);
    if (this.answered.size > 0) this.answered.delete(id); // the id is reused: that old answer was taken
    const { method, timeoutMs, streamWindowChunks, offset } = decodeRequestHead(f.body);
    const binary = this.binaryHandlers.get(method);
    const unary = binary ? undefined : this.unaryHandlers.get(method);
    const stream = binary || unary ? undefined : this.streamHandlers.get(method);
    // A JSON message is checked before the call starts: a malformed one closes the connection. An
    // unknown method's body is not read (it may be a binary method this server does not have).
    const message = unary || stream ? decodeMessage(f.body, offset) : null;
    const bodyAt = binary ? readBinaryEnvelope(f.body, offset) : 0;
    const window = Math.max(1, Math.min(streamWindowChunks, this.opts.streamWindowChunksMax));
    const call = new ServerCall(id, method, timeoutMs, this.peer, window, this);
    this.calls.set(id, call);
    if (timeoutMs > 0) call.timer = setTimeout(() => call.deadlinePassed(), timeoutMs);
    if (binary) {
      let p: Promise<Buffer>;
      try {
        p = binary(f.body, bodyAt, call);
      } catch (err) {
        p = Promise.reject(err);
      }
      p.then(
        (frame) => this.finish(call, FrameKind.Response, frame),
        (err: unknown) => this.fail(call, err),
      );
      return;
    }
    if (message === null || (!unary && !stream)) {
      this.fail(call, new TesseraError(ER.UNKNOWN_COM, `unknown rpc method '${method}'`));
      return;
    }
    if (unary) {
      unary(message, call).then(
        (r) => this.finish(call, FrameKind.Response, encodeMessage(r.meta, r.blobs, undefined, FRAME_HEADER_BYTES)),
        (err: unknown) => this.fail(call, err),
      );
      return;
    }
    const send = async (chunk: Reply): Promise<void> => {
      if (call.aborted) throw call.reason;
      while (call.credits <= 0) {
        await new Promise<void>((resolve, reject) => {
          const onAbort = () => reject(call.reason);
          call.creditWaiter = () => {
            call.removeEventListener('abort', onAbort);
            resolve();
          };
          call.addEventListener('abort', onAbort);
        });
      }
      call.credits--;
      if (!this.write(encodeFrameInPlace(id, FrameKind.StreamChunk, encodeMessage(chunk.meta, chunk.blobs, undefined, FRAME_HEADER_BYTES)))) {
        // The socket's buffer is full: wait for it to drain, or for the call to end (close aborts).
        await new Promise<void>((resolve, reject) => {
          const onAbort = () => {
            this.sock.off('drain', onDrain);
            reject(call.reason);
          };
          const onDrain = () => {
            call.removeEventListener('abort', onAbort);
            resolve();
          };
          this.sock.once('drain', onDrain);
          call.addEventListener('abort', onAbort);
        });
      }
    };
    (stream as StreamHandler)(message, call, send).then(
      (r) => this.finish(call, FrameKind.StreamEnd, encodeMessage(r ? r.meta : null, r?.blobs, undefined, FRAME_HEADER_BYTES)),
      (err: unknown) => this.fail(call, err),
    );
  }

  /** Sends the call's last frame: `frame` was built with room for its header. */
  private finish(call: ServerCall, kind: FrameKind, frame: Buffer): void {
    if (call.timer !== null) clearTimeout(call.timer);
    const undo = kind === FrameKind.Error ? null : call.undo;
    if (this.calls.get(call.id) !== call) {
      // The connection closed first: nobody takes the answer.
      if (undo) runUndo(undo);
      return;
    }
    this.calls.delete(call.id);
    if (undo && call.cancelled) {
      runUndo(undo);
      return;
    }
    this.write(encodeFrameInPlace(call.id, kind, frame));
    if (undo && !this.dead) {
      this.answered.set(call.id, undo);
      if (this.answered.size > ANSWERED_UNDO_MAX) this.answered.delete(this.answered.keys().next().value as number);
    }
  }

  private fail(call: ServerCall, err: unknown): void {
    this.finish(call, FrameKind.Error, withHeadroom(encodeError(call.aborted && call.reason ? call.reason : err)));
  }
}

/** A body copied behind room for a frame header (error frames: rare, so the copy does not matter). */
function withHeadroom(body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  body.copy(out, FRAME_HEADER_BYTES);
  return out;
}
