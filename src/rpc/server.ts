// RPC server: one TCP listener, many connections, many calls in flight per connection. A frame that
// breaks the protocol closes that connection only (logged with the reason); a handler's failure
// becomes an Error frame for that call only.
import net from 'node:net';
import { ER, TesseraError } from '../mysql/errors.js';
import { logger } from '../log/index.js';
import { encodeFrame, encodeFrameInPlace, FrameKind, FrameParser, FRAME_DEFAULTS, FRAME_HEADER_BYTES, type Frame } from './frame.js';
import { decodeRequest, encodeError, encodeMessage, type Json, type Message } from './message.js';

const log = logger('rpc');

export interface CallContext {
  /** Aborted when the client cancels, the deadline passes, or the connection closes. */
  readonly signal: AbortSignal;
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

export const RPC_SERVER_DEFAULTS = {
  frameBytesMax: FRAME_DEFAULTS.frameBytesMax,
  connectionsMax: 10_000,
  /** Upper bound on the window a client may ask for (chunks sent before it grants more). */
  streamWindowChunksMax: 64,
  /** How long close() waits for calls in flight before cutting connections. */
  drainTimeoutMs: 10_000,
} as const;

export type RpcServerOptions = Partial<Record<keyof typeof RPC_SERVER_DEFAULTS, number>>;

interface ServerCall {
  readonly abort: AbortController;
  credits: number;
  creditWaiter: (() => void) | null;
  /** The client sent a cancel: it will drop the answer. */
  cancelled: boolean;
  /** See CallContext.onUnseen. */
  undo: (() => void) | null;
}

function runUndo(undo: () => void): void {
  try {
    undo();
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'undoing a call whose answer the client will not take failed');
  }
}

export class RpcServer {
  private readonly unaryHandlers = new Map<string, UnaryHandler>();
  private readonly streamHandlers = new Map<string, StreamHandler>();
  private readonly server: net.Server;
  private readonly conns = new Set<ServerConnection>();
  private readonly opts: Record<keyof typeof RPC_SERVER_DEFAULTS, number>;
  private closing = false;

  constructor(opts: RpcServerOptions = {}) {
    this.opts = { ...RPC_SERVER_DEFAULTS, ...opts };
    this.server = net.createServer({ noDelay: true }, (sock) => this.accept(sock));
  }

  unary(method: string, handler: UnaryHandler): this {
    this.unaryHandlers.set(method, handler);
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
    const c = new ServerConnection(sock, this.opts, this.unaryHandlers, this.streamHandlers, () => this.conns.delete(c));
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
  private corked = false;
  private dead = false;

  constructor(
    private readonly sock: net.Socket,
    private readonly opts: Record<keyof typeof RPC_SERVER_DEFAULTS, number>,
    private readonly unaryHandlers: Map<string, UnaryHandler>,
    private readonly streamHandlers: Map<string, StreamHandler>,
    private readonly onDisconnect: () => void,
  ) {
    this.peer = `${sock.remoteAddress}:${sock.remotePort}`;
    this.parser = new FrameParser(opts.frameBytesMax);
    sock.on('data', (chunk: Buffer) => {
      try {
        this.parser.push(chunk, (f) => this.onFrame(f));
      } catch (err) {
        this.destroy((err as Error).message);
      }
    });
    sock.on('error', () => undefined);
    sock.on('close', () => {
      this.dead = true;
      for (const call of this.calls.values()) call.abort.abort(new TesseraError(ER.QUERY_INTERRUPTED, 'rpc connection closed'));
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
    this.sock.destroy();
  }

  private write(buf: Buffer): boolean {
    if (this.dead) return true;
    // Coalesce every frame written in this tick into one syscall.
    if (!this.corked) {
      this.corked = true;
      this.sock.cork();
      process.nextTick(() => {
        this.corked = false;
        this.sock.uncork();
      });
    }
    return this.sock.write(buf);
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
          call.abort.abort(new TesseraError(ER.QUERY_INTERRUPTED, 'call cancelled by the client'));
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
    const { method, timeoutMs, streamWindowChunks, message } = decodeRequest(f.body);
    const abort = new AbortController();
    const window = Math.max(1, Math.min(streamWindowChunks, this.opts.streamWindowChunksMax));
    const call: ServerCall = { abort, credits: window, creditWaiter: null, cancelled: false, undo: null };
    this.calls.set(id, call);
    const timer =
      timeoutMs > 0
        ? setTimeout(() => abort.abort(new TesseraError(ER.QUERY_INTERRUPTED, `rpc ${method} exceeded its deadline of ${timeoutMs} ms`)), timeoutMs)
        : null;
    const ctx: CallContext = {
      signal: abort.signal,
      peer: this.peer,
      connection: this,
      onUnseen: (undo) => {
        call.undo = undo;
      },
    };
    /** Sends the call's last frame: `frame` was built with room for its header. */
    const finish = (kind: FrameKind, frame: Buffer) => {
      if (timer) clearTimeout(timer);
      const undo = kind === FrameKind.Error ? null : call.undo;
      if (this.calls.get(id) !== call) {
        // The connection closed first: nobody takes the answer.
        if (undo) runUndo(undo);
        return;
      }
      this.calls.delete(id);
      if (undo && call.cancelled) {
        runUndo(undo);
        return;
      }
      this.write(encodeFrameInPlace(id, kind, frame));
      if (undo && !this.dead) {
        this.answered.set(id, undo);
        if (this.answered.size > ANSWERED_UNDO_MAX) this.answered.delete(this.answered.keys().next().value as number);
      }
    };
    const fail = (err: unknown) => finish(FrameKind.Error, withHeadroom(encodeError(abort.signal.aborted && abort.signal.reason ? abort.signal.reason : err)));

    const unary = this.unaryHandlers.get(method);
    if (unary) {
      unary(message, ctx).then((r) => finish(FrameKind.Response, encodeMessage(r.meta, r.blobs, undefined, FRAME_HEADER_BYTES)), fail);
      return;
    }
    const stream = this.streamHandlers.get(method);
    if (stream) {
      const send = async (chunk: Reply): Promise<void> => {
        if (abort.signal.aborted) throw abort.signal.reason;
        while (call.credits <= 0) {
          await new Promise<void>((resolve, reject) => {
            const onAbort = () => reject(abort.signal.reason);
            call.creditWaiter = () => {
              abort.signal.removeEventListener('abort', onAbort);
              resolve();
            };
            abort.signal.addEventListener('abort', onAbort, { once: true });
          });
        }
        call.credits--;
        if (!this.write(encodeFrameInPlace(id, FrameKind.StreamChunk, encodeMessage(chunk.meta, chunk.blobs, undefined, FRAME_HEADER_BYTES)))) {
          // The socket's buffer is full: wait for it to drain, or for the call to end (close aborts).
          await new Promise<void>((resolve, reject) => {
            const onAbort = () => {
              this.sock.off('drain', onDrain);
              reject(abort.signal.reason);
            };
            const onDrain = () => {
              abort.signal.removeEventListener('abort', onAbort);
              resolve();
            };
            this.sock.once('drain', onDrain);
            abort.signal.addEventListener('abort', onAbort, { once: true });
          });
        }
      };
      stream(message, ctx, send).then((r) => finish(FrameKind.StreamEnd, encodeMessage(r ? r.meta : null, r?.blobs, undefined, FRAME_HEADER_BYTES)), fail);
      return;
    }
    fail(new TesseraError(ER.UNKNOWN_COM, `unknown rpc method '${method}'`));
  }
}

/** A body copied behind room for a frame header (error frames: rare, so the copy does not matter). */
function withHeadroom(body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  body.copy(out, FRAME_HEADER_BYTES);
  return out;
}
