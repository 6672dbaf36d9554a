// Packet framing: a chunked parser, a slab writer and a field reader. Everything above works on
// payloads (the bytes after the 4-byte header); sequence ids and the 16 MiB split live here.
import { ER, TesseraError } from './errors.js';
import { PACKET_PAYLOAD_MAX } from './constants.js';

/** Strings up to this many UTF-16 units are written without measuring them first (PacketWriter.string). */
const STRING_DIRECT_CHARS = 16_384;

const EMPTY = Buffer.alloc(0);

export function malformed(what: string): TesseraError {
  return new TesseraError(ER.NET_READ_ERROR, `malformed packet: ${what}`);
}

/** Called once per complete message (fragments of a split message already joined). */
export type MessageHandler = (payload: Buffer, firstSeq: number, lastSeq: number) => void;

/**
 * Chunked packet parser. Emitted payloads are slices that stay valid forever: the parser never
 * writes into bytes it has handed out (it only appends behind the unread tail of a buffer it
 * allocated), so a consumer may keep a row payload and pass it on untouched.
 */
export class PacketParser {
  private buf: Buffer = EMPTY;
  private off = 0;
  private len = 0;
  private owned = false;
  private paused = false;
  /** Fragments of a message split at 16 MiB − 1, waiting for the last one. */
  private parts: Buffer[] = [];
  private partsLen = 0;
  private partsFirstSeq = 0;
  private partsLastSeq = 0;
  /** Where `pushBorrowed` copies reads to; filled front to back, never rewritten (payloads point into it). */
  private recv: Buffer = EMPTY;
  private recvEnd = 0;
  /** Sequence id of the last header looked at, so an error about that packet can answer in sequence. */
  lastHeaderSeq = -1;

  constructor(
    /** Largest reassembled message accepted; checked against the declared length before buffering. */
    readonly packetSizeMax: number,
    private readonly onMessage: MessageHandler,
    /** Smallest buffer allocated when a packet spans chunks, so tiny splits do not copy per byte. */
    private readonly chunkSizeMin = 16 * 1024,
  ) {}

  /** Bytes buffered but not yet emitted (a partial packet, or complete ones while paused). */
  get buffered(): number {
    return this.len + this.partsLen;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.len === 0) {
      this.buf = chunk;
      this.off = 0;
      this.len = chunk.length;
      this.owned = false;
    } else if (this.owned && this.off + this.len + chunk.length <= this.buf.length) {
      chunk.copy(this.buf, this.off + this.len);
      this.len += chunk.length;
    } else {
      let want = this.len + chunk.length;
      if (this.len >= 4) {
        // Size the new buffer for the whole pending packet so a big one arriving in small chunks
        // is copied once, not once per chunk. The declared length is checked before allocating.
        const declared = this.buf[this.off] | (this.buf[this.off + 1] << 8) | (this.buf[this.off + 2] << 16);
        this.lastHeaderSeq = this.buf[this.off + 3];
        this.checkSize(declared);
        want = Math.max(want, declared + 4);
      }
      const nb = Buffer.allocUnsafe(Math.max(want, this.chunkSizeMin));
      this.buf.copy(nb, 0, this.off, this.off + this.len);
      chunk.copy(nb, this.len);
      this.buf = nb;
      this.off = 0;
      this.len += chunk.length;
      this.owned = true;
    }
    this.parse();
  }

  /**
   * Like `push`, for bytes valid only during the call (a socket's reusable `onread` buffer): they
   * are copied behind the previous ones in a receive slab, so emitted payloads still stay valid.
   * One copy of a few hundred bytes costs less than a fresh buffer and stream event per read.
   */
  pushBorrowed(src: Buffer, n: number): void {
    if (n <= 0) return;
    if (this.len === 0) {
      if (this.recv.length - this.recvEnd < n) {
        this.recv = Buffer.allocUnsafe(Math.max(this.chunkSizeMin, n));
        this.recvEnd = 0;
      }
      src.copy(this.recv, this.recvEnd, 0, n);
      this.buf = this.recv;
      this.off = this.recvEnd;
      this.len = n;
      this.owned = true;
      this.recvEnd += n;
    } else if (this.owned && this.off + this.len + n <= this.buf.length) {
      // The unread tail is last in its buffer: append behind it.
      src.copy(this.buf, this.off + this.len, 0, n);
      this.len += n;
      if (this.buf === this.recv) this.recvEnd = this.off + this.len;
    } else {
      // A packet spanning reads outgrew the slab: `push` sizes a buffer for all of it.
      this.push(Buffer.from(src.subarray(0, n)));
      return;
    }
    this.parse();
  }

  /** Hands back the bytes not parsed yet (after an SSLRequest they belong to TLS) and forgets them. */
  takeBuffered(): Buffer {
    const rest = Buffer.from(this.buf.subarray(this.off, this.off + this.len));
    this.buf = EMPTY;
    this.off = 0;
    this.len = 0;
    this.owned = false;
    return rest;
  }

  /** Stops emitting after the current message; the rest stays buffered until `resume()`. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.parse();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  private checkSize(declared: number): void {
    if (this.partsLen + declared > this.packetSizeMax) {
      throw new TesseraError(
        ER.NET_PACKET_TOO_LARGE,
        `Got a packet bigger than packetSizeMax (${this.partsLen + declared} > ${this.packetSizeMax} bytes)`,
      );
    }
  }

  private parse(): void {
    while (!this.paused && this.len >= 4) {
      const b = this.buf;
      const o = this.off;
      const plen = b[o] | (b[o + 1] << 8) | (b[o + 2] << 16);
      const seq = b[o + 3];
      this.lastHeaderSeq = seq;
      this.checkSize(plen);
      if (this.len < 4 + plen) break;
      const payload = b.subarray(o + 4, o + 4 + plen);
      this.off += 4 + plen;
      this.len -= 4 + plen;
      if (this.parts.length > 0) {
        if (seq !== ((this.partsLastSeq + 1) & 0xff)) {
          throw new TesseraError(
            ER.NET_PACKETS_OUT_OF_ORDER,
            `Got packets out of order: continuation has sequence id ${seq}, expected ${(this.partsLastSeq + 1) & 0xff}`,
          );
        }
        this.parts.push(payload);
        this.partsLen += plen;
        this.partsLastSeq = seq;
        if (plen === PACKET_PAYLOAD_MAX) continue;
        const joined = Buffer.concat(this.parts, this.partsLen);
        const first = this.partsFirstSeq;
        this.parts = [];
        this.partsLen = 0;
        this.onMessage(joined, first, seq);
      } else if (plen === PACKET_PAYLOAD_MAX) {
        this.parts.push(payload);
        this.partsLen = plen;
        this.partsFirstSeq = seq;
        this.partsLastSeq = seq;
      } else {
        this.onMessage(payload, seq, seq);
      }
    }
    if (this.len === 0) {
      // Drop the reference so a big buffer from an oversized message is not kept alive.
      this.buf = EMPTY;
      this.off = 0;
      this.owned = false;
    }
  }
}

let readBatchDepth = 0;
const batchWriters: PacketWriter[] = [];

/**
 * Brackets the handling of one socket read so that packets written during it are flushed when it
 * ends (`readBatchEnd`), instead of in a `nextTick` per writer: a relayed query's response then
 * goes out at the end of the read that brought it, with no tick queued. Writes made outside a read
 * (timers, promise continuations) still flush on the next tick.
 */
export function readBatchBegin(): void {
  readBatchDepth++;
}

export function readBatchEnd(): void {
  if (--readBatchDepth > 0) return;
  for (let i = 0; i < batchWriters.length; i++) batchWriters[i].flushScheduledWrite();
  batchWriters.length = 0;
}

/**
 * Packet writer over a slab: packets are encoded back to back into one buffer, the header is
 * reserved and patched at `end()`, and `flush()` hands the written range to the sink. Bytes handed
 * to the sink are never rewritten (the socket may still hold them); when the slab is full a new
 * one is taken, and after an oversized message the writer returns to the normal slab size.
 */
export class PacketWriter {
  /** Sequence id of the next packet written; the connection sets it per command. */
  seq = 0;
  private slab: Buffer;
  private start = 0;
  private pos = 0;
  private pkt = -1;
  private flushScheduled = false;
  private readonly flushBound = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  constructor(
    private readonly sink: (data: Buffer) => void,
    /** Normal slab size; also the amount of unflushed bytes that triggers a flush without waiting for the tick. */
    private readonly slabSize = 64 * 1024,
  ) {
    this.slab = Buffer.allocUnsafe(slabSize);
  }

  /** Bytes written but not yet handed to the sink. */
  get pending(): number {
    return this.pos - this.start;
  }

  begin(): this {
    if (this.pkt !== -1) throw new Error('PacketWriter.begin() inside a packet');
    this.ensure(4);
    this.pkt = this.pos;
    this.pos += 4;
    return this;
  }

  /** Finishes the packet: patches its length and sequence id, splitting at 16 MiB − 1. */
  end(): void {
    const pkt = this.pkt;
    if (pkt === -1) throw new Error('PacketWriter.end() without begin()');
    const len = this.pos - pkt - 4;
    if (len < PACKET_PAYLOAD_MAX) {
      this.slab[pkt] = len & 0xff;
      this.slab[pkt + 1] = (len >> 8) & 0xff;
      this.slab[pkt + 2] = (len >> 16) & 0xff;
      this.slab[pkt + 3] = this.seq;
      this.seq = (this.seq + 1) & 0xff;
    } else {
      // Rare: copy the payload out and write it back as fragments; an exact multiple of the
      // fragment size ends with an empty packet so the reader knows the message is complete.
      const payload = Buffer.from(this.slab.subarray(pkt + 4, this.pos));
      const frags = Math.floor(len / PACKET_PAYLOAD_MAX) + 1;
      this.pos = pkt;
      this.pkt = -1;
      this.ensure(len + 4 * frags);
      for (let i = 0; i < frags; i++) {
        const n = Math.min(PACKET_PAYLOAD_MAX, len - i * PACKET_PAYLOAD_MAX);
        const p = this.pos;
        this.slab[p] = n & 0xff;
        this.slab[p + 1] = (n >> 8) & 0xff;
        this.slab[p + 2] = (n >> 16) & 0xff;
        this.slab[p + 3] = this.seq;
        this.seq = (this.seq + 1) & 0xff;
        payload.copy(this.slab, p + 4, i * PACKET_PAYLOAD_MAX, i * PACKET_PAYLOAD_MAX + n);
        this.pos = p + 4 + n;
      }
    }
    this.pkt = -1;
    if (this.pos - this.start >= this.slabSize) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      if (readBatchDepth > 0) batchWriters.push(this);
      else process.nextTick(this.flushBound);
    }
  }

  /** @internal The flush at the end of a read batch (`readBatchEnd`). */
  flushScheduledWrite(): void {
    if (!this.flushScheduled) return;
    this.flushScheduled = false;
    this.flush();
  }

  /** Drops the packet in progress (an encoder failed half-way). */
  abort(): void {
    if (this.pkt === -1) return;
    this.pos = this.pkt;
    this.pkt = -1;
  }

  /** Writes a whole packet whose payload is already encoded (rows passed through untouched). */
  packet(payload: Buffer): void {
    this.begin();
    this.bytes(payload);
    this.end();
  }

  flush(): void {
    if (this.pkt !== -1) throw new Error('PacketWriter.flush() inside a packet');
    if (this.pos > this.start) {
      const out = this.slab.subarray(this.start, this.pos);
      this.start = this.pos;
      this.sink(out);
    }
    if (this.slab.length > this.slabSize) {
      this.slab = Buffer.allocUnsafe(this.slabSize);
      this.start = this.pos = 0;
    }
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.slab.length) return;
    // Finished packets go out first; the packet in progress moves to the new slab.
    const from = this.pkt === -1 ? this.pos : this.pkt;
    if (from > this.start) {
      this.sink(this.slab.subarray(this.start, from));
    }
    const carry = this.pos - from;
    const nb = Buffer.allocUnsafe(Math.max(this.slabSize, (carry + n) * 2));
    this.slab.copy(nb, 0, from, this.pos);
    this.slab = nb;
    this.start = 0;
    if (this.pkt !== -1) this.pkt = 0;
    this.pos = carry;
  }

  int1(v: number): this {
    this.ensure(1);
    this.slab[this.pos++] = v;
    return this;
  }

  int2(v: number): this {
    this.ensure(2);
    this.slab.writeUInt16LE(v & 0xffff, this.pos);
    this.pos += 2;
    return this;
  }

  int3(v: number): this {
    this.ensure(3);
    this.slab.writeUIntLE(v & 0xffffff, this.pos, 3);
    this.pos += 3;
    return this;
  }

  int4(v: number): this {
    this.ensure(4);
    this.slab.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
    return this;
  }

  /** 8-byte integer; negative values are written as two's complement. */
  int8(v: number | bigint): this {
    this.ensure(8);
    if (typeof v === 'number' && Number.isSafeInteger(v)) {
      // No BigInt for the common case: the high word is the (signed) quotient.
      const hi = Math.floor(v / 0x100000000);
      this.slab.writeUInt32LE(v - hi * 0x100000000, this.pos);
      this.slab.writeInt32LE(hi, this.pos + 4);
      this.pos += 8;
      return this;
    }
    this.slab.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v)), this.pos);
    this.pos += 8;
    return this;
  }

  float(v: number): this {
    this.ensure(4);
    this.slab.writeFloatLE(v, this.pos);
    this.pos += 4;
    return this;
  }

  double(v: number): this {
    this.ensure(8);
    this.slab.writeDoubleLE(v, this.pos);
    this.pos += 8;
    return this;
  }

  lenInt(v: number | bigint): this {
    if (typeof v === 'bigint') {
      if (v < 0n) throw new Error('length-encoded integer must not be negative');
      if (v <= 0xffffffn) return this.lenInt(Number(v));
      this.ensure(9);
      this.slab[this.pos] = 0xfe;
      this.slab.writeBigUInt64LE(v, this.pos + 1);
      this.pos += 9;
      return this;
    }
    if (v < 0xfb) return this.int1(v);
    if (v <= 0xffff) return this.int1(0xfc).int2(v);
    if (v <= 0xffffff) return this.int1(0xfd).int3(v);
    return this.int1(0xfe).int8(v);
  }

  /** `b[start, end)`: a range is copied without slicing first (no object per relayed payload). */
  bytes(b: Buffer | Uint8Array, start = 0, end = b.length): this {
    const n = end - start;
    this.ensure(n);
    if (start === 0 && end === b.length) this.slab.set(b, this.pos);
    else if (n <= 64) for (let i = 0; i < n; i++) this.slab[this.pos + i] = b[start + i];
    else this.slab.set(b.subarray(start, end), this.pos);
    this.pos += n;
    return this;
  }

  lenBytes(b: Buffer | Uint8Array): this {
    return this.lenInt(b.length).bytes(b);
  }

  /** A string without terminator or length (the rest of a packet, or a fixed field). */
  string(s: string, encoding: BufferEncoding = 'utf8'): this {
    if (s.length === 0) return this;
    if (encoding === 'utf8' && s.length <= STRING_DIRECT_CHARS) {
      // A UTF-16 code unit takes at most 3 bytes in UTF-8: room for that, then one pass that
      // writes and counts (a statement's text, on every query), instead of byteLength and write.
      this.ensure(3 * s.length);
      this.pos += this.slab.write(s, this.pos, 'utf8');
      return this;
    }
    const n = encoding === 'latin1' || encoding === 'ascii' ? s.length : Buffer.byteLength(s, encoding);
    this.ensure(n);
    this.slab.write(s, this.pos, n, encoding);
    this.pos += n;
    return this;
  }

  lenString(s: string, encoding: BufferEncoding = 'utf8'): this {
    const n = encoding === 'latin1' || encoding === 'ascii' ? s.length : Buffer.byteLength(s, encoding);
    this.lenInt(n);
    this.ensure(n);
    if (n > 0) this.slab.write(s, this.pos, n, encoding);
    this.pos += n;
    return this;
  }

  nulString(s: string): this {
    return this.string(s).int1(0);
  }

  zeros(n: number): this {
    this.ensure(n);
    this.slab.fill(0, this.pos, this.pos + n);
    this.pos += n;
    return this;
  }
}

/** A cursor over one payload; re-pointed per packet instead of allocated. Every read is bounds-checked. */
export class PacketReader {
  buf: Buffer = EMPTY;
  pos = 0;
  end = 0;

  constructor(buf?: Buffer) {
    if (buf) this.reset(buf);
  }

  reset(buf: Buffer, pos = 0): this {
    this.buf = buf;
    this.pos = pos;
    this.end = buf.length;
    return this;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw malformed(`needs ${n} bytes at offset ${this.pos}, has ${this.end - this.pos}`);
  }

  peek(): number {
    this.need(1);
    return this.buf[this.pos];
  }

  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++];
  }

  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }

  u24(): number {
    this.need(3);
    const v = this.buf.readUIntLE(this.pos, 3);
    this.pos += 3;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  u64(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  /** 8-byte integer as a number; throws past 2^53 so a length can never be silently wrong. */
  u64n(): number {
    const v = this.u64();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw malformed('integer too large');
    return Number(v);
  }

  i8(): number {
    this.need(1);
    return this.buf.readInt8(this.pos++);
  }

  i16(): number {
    this.need(2);
    const v = this.buf.readInt16LE(this.pos);
    this.pos += 2;
    return v;
  }

  i32(): number {
    this.need(4);
    const v = this.buf.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  i64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  float(): number {
    this.need(4);
    const v = this.buf.readFloatLE(this.pos);
    this.pos += 4;
    return v;
  }

  double(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Length-encoded integer as a number (lengths, counts). */
  lenInt(): number {
    const b = this.u8();
    if (b < 0xfb) return b;
    if (b === 0xfc) return this.u16();
    if (b === 0xfd) return this.u24();
    if (b === 0xfe) return this.u64n();
    throw malformed(`bad length-encoded integer prefix 0x${b.toString(16)}`);
  }

  /** Length-encoded integer kept exact past 2^53 (affected rows, insert ids). */
  lenIntBig(): number | bigint {
    const b = this.peek();
    if (b !== 0xfe) return this.lenInt();
    this.pos++;
    const v = this.u64();
    return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }

  bytes(n: number): Buffer {
    this.need(n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  lenBytes(): Buffer {
    return this.bytes(this.lenInt());
  }

  lenString(encoding: BufferEncoding = 'utf8'): string {
    const n = this.lenInt();
    this.need(n);
    const s = this.buf.toString(encoding, this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  nulBytes(): Buffer {
    const i = this.buf.indexOf(0, this.pos);
    if (i === -1 || i >= this.end) throw malformed('unterminated string');
    const v = this.buf.subarray(this.pos, i);
    this.pos = i + 1;
    return v;
  }

  nulString(encoding: BufferEncoding = 'utf8'): string {
    return this.nulBytes().toString(encoding);
  }

  /** Everything up to the end of the payload. */
  rest(): Buffer {
    const v = this.buf.subarray(this.pos, this.end);
    this.pos = this.end;
    return v;
  }

  restString(encoding: BufferEncoding = 'utf8'): string {
    return this.rest().toString(encoding);
  }
}
