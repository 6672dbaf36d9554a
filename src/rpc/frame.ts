// The frame layer of Tessera's gate<->tablet protocol. Why our own protocol and not gRPC: measured on
// this kind of machine, grpc-js manages ~1,800 unary calls/s and length-prefixed frames over plain
// TCP ~36,000/s, while one MariaDB answers ~18,500 point selects/s; the query path cannot afford the
// former. Layout (little-endian), documented for other implementations in docs/rpc.md:
//
//   u32 length      bytes after this field (header rest + body)
//   u32 requestId   chosen by the client; multiplexes calls on one connection
//   u8  kind        FrameKind
//   u8  flags       reserved, 0
//   body            kind-specific (see message.ts)
//
// The parser takes chunks as they arrive and emits every complete frame, keeping the remainder in
// one growing-then-shrinking buffer; a declared length above `frameBytesMax` is a protocol error
// before anything is allocated.
import { ER, TesseraError } from '../mysql/errors.js';

export const FRAME_HEADER_BYTES = 10;

export enum FrameKind {
  Request = 1,
  Response = 2,
  Error = 3,
  StreamChunk = 4,
  StreamEnd = 5,
  Cancel = 6,
  Credit = 7,
  Ping = 8,
  Pong = 9,
}

const KIND_MAX = FrameKind.Pong;

export const FRAME_DEFAULTS = {
  /** Largest frame accepted; a streaming result is cut into chunks well below it. */
  frameBytesMax: 64 * 1024 * 1024,
  /** Parser buffer kept between frames; anything larger is released after an oversized frame. */
  bufferBytesRetained: 256 * 1024,
} as const;

export interface Frame {
  readonly requestId: number;
  readonly kind: FrameKind;
  readonly body: Buffer;
}

export function protocolError(message: string): TesseraError {
  return new TesseraError(ER.NET_READ_ERROR, `rpc protocol error: ${message}`);
}

export function encodeFrame(requestId: number, kind: FrameKind, body: Buffer | null): Buffer {
  const len = body ? body.length : 0;
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + len);
  out.writeUInt32LE(len + 6, 0);
  out.writeUInt32LE(requestId >>> 0, 4);
  out[8] = kind;
  out[9] = 0;
  if (body) body.copy(out, FRAME_HEADER_BYTES);
  return out;
}

/** Writes the frame header into the first FRAME_HEADER_BYTES of `frame` (a body built with that headroom). */
export function encodeFrameInPlace(requestId: number, kind: FrameKind, frame: Buffer): Buffer {
  frame.writeUInt32LE(frame.length - 4, 0);
  frame.writeUInt32LE(requestId >>> 0, 4);
  frame[8] = kind;
  frame[9] = 0;
  return frame;
}

/** Writes the header for a body the caller fills in place (no copy of the body). */
export function frameHeader(requestId: number, kind: FrameKind, bodyLength: number): Buffer {
  const h = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  h.writeUInt32LE(bodyLength + 6, 0);
  h.writeUInt32LE(requestId >>> 0, 4);
  h[8] = kind;
  h[9] = 0;
  return h;
}

export class FrameParser {
  private buf: Buffer = Buffer.alloc(0);
  private start = 0;
  private end = 0;

  constructor(private readonly frameBytesMax: number = FRAME_DEFAULTS.frameBytesMax) {}

  /** Feeds a chunk and calls onFrame for each complete frame. Throws on a protocol violation. */
  push(chunk: Buffer, onFrame: (f: Frame) => void): void {
    if (this.end === this.start && chunk.length >= 4) {
      // Fast path: nothing buffered; parse straight from the chunk.
      let off = 0;
      while (chunk.length - off >= 4) {
        const len = this.checkLength(chunk.readUInt32LE(off));
        if (chunk.length - off - 4 < len) break;
        onFrame(this.makeFrame(chunk, off, len));
        off += 4 + len;
      }
      if (off < chunk.length) this.append(chunk.subarray(off));
      return;
    }
    this.append(chunk);
    while (this.end - this.start >= 4) {
      const len = this.checkLength(this.buf.readUInt32LE(this.start));
      if (this.end - this.start - 4 < len) break;
      // The frame's body must outlive the buffer's reuse: copy it out.
      const f = this.makeFrame(Buffer.from(this.buf.subarray(this.start, this.start + 4 + len)), 0, len);
      this.start += 4 + len;
      onFrame(f);
    }
    if (this.start === this.end) {
      this.start = this.end = 0;
      if (this.buf.length > FRAME_DEFAULTS.bufferBytesRetained) this.buf = Buffer.alloc(0);
    }
  }

  private checkLength(len: number): number {
    if (len < 6) throw protocolError(`frame length ${len} is shorter than the header`);
    if (len > this.frameBytesMax) throw protocolError(`frame of ${len} bytes exceeds frameBytesMax ${this.frameBytesMax}`);
    return len;
  }

  private makeFrame(src: Buffer, off: number, len: number): Frame {
    const kind = src[off + 8];
    if (kind < 1 || kind > KIND_MAX) throw protocolError(`unknown frame kind ${kind}`);
    return { requestId: src.readUInt32LE(off + 4), kind, body: src.subarray(off + FRAME_HEADER_BYTES, off + 4 + len) };
  }

  private append(chunk: Buffer): void {
    const have = this.end - this.start;
    if (this.buf.length - this.end < chunk.length) {
      if (this.start > 0 && this.buf.length - have >= chunk.length) {
        this.buf.copy(this.buf, 0, this.start, this.end);
      } else {
        const next = Buffer.allocUnsafe(Math.max(have + chunk.length, this.buf.length * 2, 4096));
        this.buf.copy(next, 0, this.start, this.end);
        this.buf = next;
      }
      this.start = 0;
      this.end = have;
    }
    chunk.copy(this.buf, this.end);
    this.end += chunk.length;
  }
}
