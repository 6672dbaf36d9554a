// Reads without Node's stream machinery. A socket created with `onread` reads into one caller's
// buffer and calls back synchronously per read: no Buffer allocated and no Readable push, 'data'
// event or flowing-mode bookkeeping per read. On a proxy that costs a few microseconds of CPU per
// query on each side (docs/protocol.md, "Measured"). Outgoing sockets take `onread` in
// `net.connect`; accepted ones cannot (net.Server has no such option), so `adoptAccepted` moves
// the handle of a socket accepted with `pauseOnConnect` (not read from yet) into a new socket that
// has it. The bytes handed over are valid only during the callback: consumers copy what they keep
// (PacketParser.pushBorrowed).
import net from 'node:net';
import { readBatchBegin, readBatchEnd } from './packet.js';

/** Called with the number of bytes read into `buf`; return false to stop reading. */
export type OnRead = (n: number, buf: Buffer) => boolean;

/**
 * One buffer for every socket read this way: callbacks run one at a time on the event loop and
 * copy what they keep, so the buffer is free again when each returns.
 */
const SHARED_READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** `onread` options feeding `onRead`; packets written while it runs go out when it returns. */
export function onReadOptions(onRead: OnRead): net.OnReadOpts {
  return {
    buffer: SHARED_READ_BUFFER,
    callback: (n: number) => {
      readBatchBegin();
      try {
        return onRead(n, SHARED_READ_BUFFER);
      } finally {
        readBatchEnd();
      }
    },
  };
}

interface HandleOwner {
  _handle: unknown;
}

/**
 * Takes over a socket that `net.Server` accepted with `pauseOnConnect: true` and returns a socket
 * on the same connection that reads through `onRead`. The accepted socket is left without a
 * handle and destroyed (which only settles the server's connection count); the returned socket is
 * the connection from then on: write to it, pause and resume it, end and destroy it as usual.
 *
 * This leans on two internals of node:net, both stable since Node 12: an accepted socket keeps its
 * libuv handle in `_handle`, and `new net.Socket({ handle })` adopts a handle. If either is missing
 * (another runtime), the accepted socket is returned resumed and `onRead` is fed from 'data'
 * events instead, so behaviour is the same, only slower.
 */
export function adoptAccepted(accepted: net.Socket, onRead: OnRead): net.Socket {
  const owner = accepted as unknown as HandleOwner;
  const handle = owner._handle;
  if (!handle || accepted.destroyed) return readThroughEvents(accepted, onRead);
  owner._handle = null;
  const socket = new net.Socket({ handle, readable: true, writable: true, onread: onReadOptions(onRead) } as net.SocketConstructorOpts & { handle: unknown });
  accepted.destroy();
  return socket;
}

function readThroughEvents(socket: net.Socket, onRead: OnRead): net.Socket {
  socket.on('data', (chunk: Buffer) => {
    if (!onRead(chunk.length, chunk)) socket.pause();
  });
  socket.resume();
  return socket;
}
