// Frames written to one RPC socket during a turn of the event loop leave in one write. On the query
// path each call's frame is made in an I/O callback of its own (a client's statement read by the
// gate, MariaDB's answer read by the tablet), so flushing at the end of each callback's tick
// (cork + nextTick) still gave one write system call per frame, and a write on loopback delivers
// the bytes and wakes the reader inside the call: the largest cost of distributed mode's RPC
// (docs/hot-path.md, third round). Every writer with frames queued is flushed once, after the
// loop's poll phase has run all the callbacks it had (setImmediate, one for all writers), so the
// wait added to a frame is the rest of that turn's callbacks, never a timer.
import type net from 'node:net';

/** Queued bytes that are written at once instead of at the end of the turn (a large stream). */
const FLUSH_NOW_BYTES = 64 * 1024;

const due: FrameWriter[] = [];

function flushDue(): void {
  for (let i = 0; i < due.length; i++) due[i].flush();
  due.length = 0;
}

export class FrameWriter {
  private readonly queued: Buffer[] = [];
  private queuedBytes = 0;

  constructor(private readonly sock: net.Socket) {}

  /**
   * Queues `frame` for the end of this turn. Returns false, as `Writable.write` does, when the
   * socket's buffer is full: the caller waits for its 'drain' before writing more.
   */
  write(frame: Buffer): boolean {
    if (this.queued.length === 0 && due.push(this) === 1) setImmediate(flushDue);
    this.queued.push(frame);
    this.queuedBytes += frame.length;
    if (this.queuedBytes >= FLUSH_NOW_BYTES) return this.flush();
    return !this.sock.writableNeedDrain;
  }

  /** Writes what is queued now (nothing after the socket was destroyed). */
  flush(): boolean {
    const q = this.queued;
    if (q.length === 0) return !this.sock.writableNeedDrain;
    const bytes = this.queuedBytes;
    this.queuedBytes = 0;
    let ok = true;
    if (this.sock.destroyed) {
      // Nobody will read them: dropped, as a destroyed socket drops what it had buffered.
    } else if (q.length === 1) {
      ok = this.sock.write(q[0]);
    } else if (bytes < FLUSH_NOW_BYTES) {
      // Small frames are copied into one buffer: cheaper than Writable's writev bookkeeping.
      ok = this.sock.write(Buffer.concat(q, bytes));
    } else {
      this.sock.cork();
      for (const b of q) ok = this.sock.write(b);
      this.sock.uncork();
    }
    q.length = 0;
    return ok;
  }
}
