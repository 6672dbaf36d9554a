// RPC client: one TCP connection per address, reused by every call, with request ids multiplexing
// calls. A lost connection fails the calls in flight with a retryable error (2013, as a MySQL client
// would see) and the next call reconnects.
import net from 'node:net';
import { ER, TesseraError } from '../mysql/errors.js';
import { encodeFrame, encodeFrameInPlace, FrameKind, FrameParser, FRAME_DEFAULTS, FRAME_HEADER_BYTES, type Frame } from './frame.js';
import { BINARY_ENVELOPE_BYTES, decodeError, decodeMessage, encodeMessage, encodeRequestPrefix, writeBinaryEnvelope, type Json, type Message } from './message.js';
import type { CancelSignal } from './cancel.js';
import { onReadOptions } from '../mysql/socket-read.js';
import { FrameWriter } from './frame-writer.js';

/**
 * Builds a binary method's request: the returned buffer starts with `headroom` bytes the client
 * fills (frame header and request prefix), then the method's own bytes.
 */
export type BinaryEncoder<A> = (headroom: number, arg: A) => Buffer;

export const LOST_CONNECTION = { errno: 2013, sqlState: 'HY000' } as const;

export const RPC_CLIENT_DEFAULTS = {
  connectTimeoutMs: 5_000,
  frameBytesMax: FRAME_DEFAULTS.frameBytesMax,
  /** Chunks a server may send on a stream before this client grants more (capped by the server). */
  streamWindowChunks: 16,
  /** Calls in flight on one connection; more wait for a slot. */
  callsInFlightMax: 10_000,
} as const;

export type RpcClientOptions = Partial<Record<keyof typeof RPC_CLIENT_DEFAULTS, number>>;

export interface CallOptions {
  /** Deadline enforced by the server (it aborts the work) and by the client. 0 = none. */
  readonly timeoutMs?: number;
  /** An AbortSignal, or any CancelSignal (cancel.ts). */
  readonly signal?: CancelSignal;
}

/** The chain of a call that has had no stream chunk: its answer settles it at once. */
const SETTLED: Promise<void> = Promise.resolve();

/**
 * One call in flight: one object (no closures per call). resolve/reject clear its timer. Its
 * caller's signal is listened to by the client, once per signal (SignalListener).
 */
class PendingCall {
  /** Chunks received and processed since the last credit grant. */
  consumed = 0;
  chain: Promise<void> = SETTLED;
  timer: NodeJS.Timeout | null = null;
  /**
   * Answered, or given up (cancelled, timed out, connection lost, consumer failed): chunks still
   * queued for the consumer are dropped, so nothing reaches it after its call has ended.
   */
  settled = false;

  constructor(
    private readonly client: RpcClient,
    readonly id: number,
    readonly method: string,
    readonly sock: net.Socket,
    readonly signal: CancelSignal | undefined,
    /** A binary method's call: its answer is the response body as it came, not a message. */
    readonly binary: boolean,
    private readonly onResolve: (m: Message | Buffer) => void,
    private readonly onReject: (e: Error) => void,
    readonly onChunk: ((m: Message) => void | Promise<void>) | undefined,
  ) {}

  resolve(m: Message | Buffer): void {
    this.settled = true;
    this.cleanup();
    this.onResolve(m);
  }

  reject(e: Error): void {
    this.settled = true;
    this.cleanup();
    this.onReject(e);
  }

  private cleanup(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}

/**
 * A client's listener on one caller signal, added at the signal's first call and left there: a
 * gate session passes the same signal with every statement, and adding and removing a listener on
 * an AbortSignal per call costs more than the rest of the call's bookkeeping. When the signal
 * aborts, every call of this client still waiting on it is cancelled.
 */
class SignalListener {
  constructor(
    private readonly client: RpcClient,
    private readonly signal: CancelSignal,
  ) {}

  handleEvent(): void {
    this.client.cancelAll(this.signal);
  }
}

export class RpcClient {
  private sock: net.Socket | null = null;
  /** The connected socket's writer (frames of one event-loop turn leave in one write). */
  private writer: FrameWriter | null = null;
  private connecting: Promise<net.Socket> | null = null;
  private readonly pending = new Map<number, PendingCall>();
  private nextId = 1;
  private closed = false;
  private dialCount = 0;
  private readonly opts: Record<keyof typeof RPC_CLIENT_DEFAULTS, number>;
  /** The listener on each caller signal this client has seen (see SignalListener). */
  private readonly signalListeners = new WeakMap<CancelSignal, SignalListener>();
  /** Request prefixes (method, no deadline, window) by method: the same bytes for every call. */
  private readonly prefixes = new Map<string, Buffer>();

  constructor(
    readonly host: string,
    readonly port: number,
    opts: RpcClientOptions = {},
  ) {
    this.opts = { ...RPC_CLIENT_DEFAULTS, ...opts };
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  /** TCP connections this client has opened (the first, and one per reconnect), for pool tests and stats. */
  get dials(): number {
    return this.dialCount;
  }

  call(method: string, meta: Json, blobs: readonly Buffer[] = [], opts: CallOptions = {}): Promise<Message> {
    return this.start(method, (headroom, prefix) => encodeMessage(meta, blobs, prefix, headroom), opts, undefined, false) as Promise<Message>;
  }

  /**
   * A call to a binary method (RpcServer.binaryUnary): `encode(headroom, arg)` builds the request
   * body behind `headroom` bytes; resolves with the response body (a view of the received frame).
   */
  callBinary<A>(method: string, encode: BinaryEncoder<A>, arg: A, opts: CallOptions = {}): Promise<Buffer> {
    return this.start(method, (headroom, prefix) => {
      const frame = encode(headroom + prefix.length + BINARY_ENVELOPE_BYTES, arg);
      prefix.copy(frame, headroom);
      writeBinaryEnvelope(frame, headroom + prefix.length);
      return frame;
    }, opts, undefined, true) as Promise<Buffer>;
  }

  /**
   * A streaming call: onChunk sees each chunk in order; if it returns a promise, the next credit is
   * granted only after it resolves, which holds the server back (backpressure end to end).
   * Resolves with the stream's final message. Once the call is rejected (cancelled, timed out,
   * connection lost), onChunk is not called again: chunks received but not yet handed over are
   * dropped (one it is handling then runs to its end).
   */
  stream(
    method: string,
    meta: Json,
    onChunk: (m: Message) => void | Promise<void>,
    blobs: readonly Buffer[] = [],
    opts: CallOptions = {},
  ): Promise<Message> {
    return this.start(method, (headroom, prefix) => encodeMessage(meta, blobs, prefix, headroom), opts, onChunk, false) as Promise<Message>;
  }

  close(): void {
    this.closed = true;
    this.sock?.destroy();
    this.failAll(new TesseraError(LOST_CONNECTION, `rpc client to ${this.address} closed`));
  }

  private start(
    method: string,
    build: (headroom: number, prefix: Buffer) => Buffer,
    opts: CallOptions,
    onChunk: ((m: Message) => void | Promise<void>) | undefined,
    binary: boolean,
  ): Promise<Message | Buffer> {
    if (this.closed) return Promise.reject(new TesseraError(LOST_CONNECTION, `rpc client to ${this.address} is closed`));
    if (this.pending.size >= this.opts.callsInFlightMax) {
      return Promise.reject(new TesseraError(ER.CON_COUNT, `too many rpc calls in flight to ${this.address} (callsInFlightMax ${this.opts.callsInFlightMax})`));
    }
    const signal = opts.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    // Connected (the common case): sent now, with no promise for the connection.
    if (this.sock) return this.send(this.sock, method, build, opts, onChunk, binary);
    return this.connect().then((sock) => this.send(sock, method, build, opts, onChunk, binary));
  }

  private send(
    sock: net.Socket,
    method: string,
    build: (headroom: number, prefix: Buffer) => Buffer,
    opts: CallOptions,
    onChunk: ((m: Message) => void | Promise<void>) | undefined,
    binary: boolean,
  ): Promise<Message | Buffer> {
    const signal = opts.signal;
    if (signal?.aborted) {
      // Aborted while connecting: nothing was sent, so there is nothing to cancel on the server.
      return Promise.reject(signal.reason instanceof Error ? signal.reason : new TesseraError(ER.QUERY_INTERRUPTED, `rpc ${method} cancelled`));
    }
    // Lost between connecting and sending: nothing was sent, and nothing would answer.
    if (sock !== this.sock) return Promise.reject(new TesseraError(LOST_CONNECTION, `lost rpc connection to ${this.address} before rpc ${method} was sent; nothing ran`));
    const id = this.nextId;
    this.nextId = this.nextId >= 0x7fffffff ? 1 : this.nextId + 1;
    const timeoutMs = opts.timeoutMs ?? 0;
    let prefix = timeoutMs === 0 ? this.prefixes.get(method) : undefined;
    if (prefix === undefined) {
      prefix = encodeRequestPrefix(method, timeoutMs, this.opts.streamWindowChunks);
      if (timeoutMs === 0) this.prefixes.set(method, prefix);
    }
    // The frame in one buffer: header, request prefix, message.
    const frame = encodeFrameInPlace(id, FrameKind.Request, build(FRAME_HEADER_BYTES, prefix));
    return new Promise<Message | Buffer>((resolve, reject) => {
      const p = new PendingCall(this, id, method, sock, signal, binary, resolve, reject, onChunk);
      this.pending.set(id, p);
      if (signal !== undefined && !this.signalListeners.has(signal)) {
        const l = new SignalListener(this, signal);
        this.signalListeners.set(signal, l);
        signal.addEventListener('abort', l, { once: true });
      }
      if (timeoutMs > 0) {
        // The server enforces the deadline; this one only covers a server that stopped answering.
        p.timer = setTimeout(() => {
          if (this.pending.get(id) !== p) return;
          this.pending.delete(id);
          this.write(sock, encodeFrame(id, FrameKind.Cancel, null));
          p.reject(new TesseraError(ER.QUERY_INTERRUPTED, `rpc ${method} to ${this.address} exceeded its deadline of ${timeoutMs} ms`));
        }, timeoutMs + 1000);
      }
      this.write(sock, frame);
    });
  }

  /** @internal `signal` aborted: cancel each of its calls still in flight. */
  cancelAll(signal: CancelSignal): void {
    this.signalListeners.delete(signal);
    for (const p of [...this.pending.values()]) if (p.signal === signal) this.cancel(p);
  }

  /** A call's signal aborted: cancel it on the server, reject it here. */
  private cancel(p: PendingCall): void {
    if (this.pending.get(p.id) !== p) return;
    this.pending.delete(p.id);
    this.write(p.sock, encodeFrame(p.id, FrameKind.Cancel, null));
    const reason = p.signal?.reason;
    p.reject(reason instanceof Error ? reason : new TesseraError(ER.QUERY_INTERRUPTED, `rpc ${p.method} cancelled`));
  }

  /** Frames for a socket that has since closed are dropped: its calls have failed already. */
  private write(sock: net.Socket, buf: Buffer): void {
    if (sock === this.sock) this.writer!.write(buf);
  }

  private connect(): Promise<net.Socket> {
    if (this.connecting) return this.connecting;
    this.dialCount++;
    this.connecting = new Promise<net.Socket>((resolve, reject) => {
      const parser = new FrameParser(this.opts.frameBytesMax);
      // Read without Node's stream machinery (src/mysql/socket-read.ts); the read buffer is
      // shared, so each read is copied into a chunk of its own, as a 'data' event would give.
      const sock = net.createConnection({
        host: this.host,
        port: this.port,
        noDelay: true,
        onread: onReadOptions((n, buf) => {
          this.onData(sock, parser, Buffer.from(buf.subarray(0, n)));
          return true;
        }),
      });
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new TesseraError(ER.CONN_ERROR, `cannot reach tablet rpc at ${this.address}: connect timed out after ${this.opts.connectTimeoutMs} ms`));
      }, this.opts.connectTimeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        this.sock = sock;
        this.writer = new FrameWriter(sock);
        resolve(sock);
      });
      sock.on('error', (err) => {
        clearTimeout(timer);
        reject(new TesseraError(ER.CONN_ERROR, `cannot reach tablet rpc at ${this.address}: ${err.message}`));
      });
      sock.on('close', () => {
        if (this.sock === sock) {
          this.sock = null;
          this.writer = null;
        }
        this.failAll(new TesseraError(LOST_CONNECTION, `lost rpc connection to ${this.address}; the call may or may not have completed`));
      });
    }).finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private onData(sock: net.Socket, parser: FrameParser, chunk: Buffer): void {
    try {
      parser.push(chunk, (f) => this.onFrame(sock, f));
    } catch (err) {
      sock.destroy();
      this.failAll(new TesseraError(LOST_CONNECTION, `rpc connection to ${this.address} broke: ${(err as Error).message}`));
    }
  }

  private failAll(err: Error): void {
    const calls = [...this.pending.values()];
    this.pending.clear();
    for (const p of calls) p.reject(err);
  }

  private onFrame(sock: net.Socket, f: Frame): void {
    const p = this.pending.get(f.requestId);
    if (!p) return; // cancelled or timed out: late frames are dropped
    switch (f.kind) {
      case FrameKind.Response:
      case FrameKind.StreamEnd: {
        this.pending.delete(f.requestId);
        const m = p.binary ? f.body : decodeMessage(f.body);
        // Resolve after every chunk has been handled (at once when there was none).
        if (p.chain === SETTLED) p.resolve(m);
        else p.chain.then(() => p.resolve(m), (e: Error) => p.reject(e));
        return;
      }
      case FrameKind.Error:
        this.pending.delete(f.requestId);
        if (p.chain === SETTLED) p.reject(decodeError(f.body));
        else p.chain.then(() => p.reject(decodeError(f.body)), (e: Error) => p.reject(e));
        return;
      case FrameKind.StreamChunk: {
        const m = decodeMessage(f.body);
        const onChunk = p.onChunk;
        if (!onChunk) throw new Error('stream chunk for a unary call');
        p.chain = p.chain.then(async () => {
          // A chunk received before the call was cancelled (or failed) but not yet handed over:
          // the caller has moved on, so its consumer must not see it.
          if (p.settled) return;
          await onChunk(m);
          p.consumed++;
          if (p.consumed >= Math.max(1, this.opts.streamWindowChunks >> 1)) {
            const credit = Buffer.allocUnsafe(4);
            credit.writeUInt32LE(p.consumed, 0);
            p.consumed = 0;
            if (!sock.destroyed) this.write(sock, encodeFrame(f.requestId, FrameKind.Credit, credit));
          }
        });
        p.chain.catch((err: Error) => {
          // The consumer failed: cancel the stream on the server.
          if (this.pending.get(f.requestId) === p) {
            this.pending.delete(f.requestId);
            this.write(sock, encodeFrame(f.requestId, FrameKind.Cancel, null));
            p.reject(err);
          }
        });
        return;
      }
      case FrameKind.Pong:
        return;
      default:
        throw new Error(`frame kind ${f.kind} is not valid from a server`);
    }
  }
}
