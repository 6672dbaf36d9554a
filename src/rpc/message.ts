// Frame bodies. A message is a small JSON "meta" part (targets, options, column definitions, errors:
// rare fields, cheap for V8 to encode at this size) plus a list of opaque blobs carried as bytes —
// the MySQL wire rows a tablet got from MariaDB, which the gate forwards without decoding.
//
//   message  := u32 metaBytes, meta (UTF-8 JSON), u32 blobCount, { u32 blobBytes, blob }*
//   request  := u16 methodBytes, method (UTF-8), u32 timeoutMs (0 = none), u32 streamWindowChunks, message
//   error    := message whose meta is { errno, sqlState, message }
//   credit   := u32 chunks granted
import { TesseraError, type FailureKind } from '../mysql/errors.js';
import { protocolError } from './frame.js';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json | undefined };

export interface Message {
  readonly meta: Json;
  readonly blobs: readonly Buffer[];
}

/**
 * A message's bytes after `headroom` bytes left for the caller (a frame header: see
 * encodeFrameInPlace) and `prefix`, so a frame is built in one buffer.
 */
export function encodeMessage(meta: Json, blobs: readonly Buffer[] = [], prefix?: Buffer, headroom = 0): Buffer {
  const metaText = JSON.stringify(meta);
  const metaLen = Buffer.byteLength(metaText, 'utf8');
  let size = headroom + (prefix ? prefix.length : 0) + 8 + metaLen;
  for (const b of blobs) size += 4 + b.length;
  const out = Buffer.allocUnsafe(size);
  let off = headroom;
  if (prefix) off += prefix.copy(out, off);
  out.writeUInt32LE(metaLen, off);
  off += 4;
  off += out.write(metaText, off, metaLen, 'utf8');
  out.writeUInt32LE(blobs.length, off);
  off += 4;
  for (const b of blobs) {
    out.writeUInt32LE(b.length, off);
    off += 4;
    off += b.copy(out, off);
  }
  return out;
}

export function decodeMessage(body: Buffer, offset = 0): Message {
  let off = offset;
  const need = (n: number, what: string) => {
    if (body.length - off < n) throw protocolError(`truncated message: ${what}`);
  };
  need(4, 'meta length');
  const metaLen = body.readUInt32LE(off);
  off += 4;
  need(metaLen, 'meta');
  let meta: Json;
  try {
    meta = JSON.parse(body.toString('utf8', off, off + metaLen)) as Json;
  } catch {
    throw protocolError('meta is not valid JSON');
  }
  off += metaLen;
  need(4, 'blob count');
  const count = body.readUInt32LE(off);
  off += 4;
  // Each blob needs at least its 4-byte length: a count beyond that is a lie, refuse before looping.
  if (count > (body.length - off) / 4) throw protocolError(`blob count ${count} exceeds message size`);
  const blobs: Buffer[] = new Array(count);
  for (let i = 0; i < count; i++) {
    need(4, 'blob length');
    const len = body.readUInt32LE(off);
    off += 4;
    need(len, 'blob');
    blobs[i] = body.subarray(off, off + len);
    off += len;
  }
  if (off !== body.length) throw protocolError(`${body.length - off} trailing bytes after message`);
  return { meta, blobs };
}

/** streamWindowChunks: how many stream chunks the server may send before the client grants more. */
export function encodeRequestPrefix(method: string, timeoutMs: number, streamWindowChunks: number): Buffer {
  const m = Buffer.from(method, 'utf8');
  const p = Buffer.allocUnsafe(10 + m.length);
  p.writeUInt16LE(m.length, 0);
  m.copy(p, 2);
  p.writeUInt32LE(Math.max(0, Math.min(timeoutMs, 0xffffffff)) >>> 0, 2 + m.length);
  p.writeUInt32LE(streamWindowChunks >>> 0, 6 + m.length);
  return p;
}

/** A request's prefix; its body (a message, or a binary method's own bytes) starts at `offset`. */
export function decodeRequestHead(body: Buffer): { method: string; timeoutMs: number; streamWindowChunks: number; offset: number } {
  if (body.length < 2) throw protocolError('truncated request');
  const mlen = body.readUInt16LE(0);
  if (body.length < 10 + mlen) throw protocolError('truncated request header');
  const method = body.toString('utf8', 2, 2 + mlen);
  const timeoutMs = body.readUInt32LE(2 + mlen);
  const streamWindowChunks = body.readUInt32LE(6 + mlen);
  return { method, timeoutMs, streamWindowChunks, offset: 10 + mlen };
}

export function decodeRequest(body: Buffer): { method: string; timeoutMs: number; streamWindowChunks: number; message: Message } {
  const { method, timeoutMs, streamWindowChunks, offset } = decodeRequestHead(body);
  return { method, timeoutMs, streamWindowChunks, message: decodeMessage(body, offset) };
}

export function encodeError(err: unknown): Buffer {
  const e = TesseraError.from(err);
  return encodeMessage(e.kind ? { errno: e.errno, sqlState: e.sqlState, message: e.message, kind: e.kind } : { errno: e.errno, sqlState: e.sqlState, message: e.message });
}

export function decodeError(body: Buffer): TesseraError {
  const { meta } = decodeMessage(body);
  if (meta && typeof meta === 'object' && !Array.isArray(meta)) {
    const { errno, sqlState, message, kind } = meta;
    if (typeof errno === 'number' && typeof sqlState === 'string' && typeof message === 'string') {
      return new TesseraError({ errno, sqlState }, message, typeof kind === 'string' ? { kind: kind as FailureKind } : undefined);
    }
  }
  throw protocolError('error frame without errno, sqlState and message');
}

/**
 * A binary method's request body starts with this envelope, which makes it a valid message (meta
 * `null`, one blob: the method's own bytes). A server from before binary methods parses every
 * request as a message, so it answers a binary method it does not have with error 1047 instead of
 * closing the connection over bytes it cannot parse; the caller can then fall back.
 *
 *   u32 4, "null", u32 1 (blob count), u32 blobBytes (the rest of the body)
 */
export const BINARY_ENVELOPE_BYTES = 16;
const NULL_META = 0x6c6c756e; // "null" read as a little-endian u32

export function writeBinaryEnvelope(frame: Buffer, off: number): void {
  frame.writeUInt32LE(4, off);
  frame.writeUInt32LE(NULL_META, off + 4);
  frame.writeUInt32LE(1, off + 8);
  frame.writeUInt32LE(frame.length - off - BINARY_ENVELOPE_BYTES, off + 12);
}

/** Checks the envelope at `off` and returns where the method's bytes start. */
export function readBinaryEnvelope(body: Buffer, off: number): number {
  if (
    body.length - off < BINARY_ENVELOPE_BYTES ||
    body.readUInt32LE(off) !== 4 ||
    body.readUInt32LE(off + 4) !== NULL_META ||
    body.readUInt32LE(off + 8) !== 1 ||
    body.readUInt32LE(off + 12) !== body.length - off - BINARY_ENVELOPE_BYTES
  ) {
    throw protocolError('binary method request without its envelope (u32 4, "null", u32 1, u32 length)');
  }
  return off + BINARY_ENVELOPE_BYTES;
}
