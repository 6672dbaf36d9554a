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

/** Each writer's copy buffer: a few flushes' worth, at most FLUSH_NOW_BYTES each. */
const SLAB_BYTES = 4 * FLUSH_NOW_BYTES;

const due: FrameWriter[] = [];

function flushDue(): void {
  // A flush that throws must not leave frames queued or the list full: write() schedules a flush
  // only when the list goes from empty to not, so every RPC socket of the process would stop
  // sending. That writer's socket is destroyed with the error (its calls fail as on a lost
  // connection) and the others are flushed as usual.
  for (let i = 0; i < due.length; i++) {
    try {
      due[i].flush();
    } catch (err) {
      due[i].fail(err as Error);
    }
  }
  due.length = 0;
}

export class FrameWriter {
  private readonly queued: Buffer[] = [];
  private queuedBytes = 0;
  /**
   * Where frames of one flush are copied to, back to back. Bytes handed to the socket are never
   * written again (it may still hold them): a full slab is left to them and a new one taken.
   */
  private slab: Buffer | null = null;
  private slabUsed = 0;

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

  /** Drops what is queued and destroys the socket with `err` (a flush threw). */
  fail(err: Error): void {
    this.queued.length = 0;
    this.queuedBytes = 0;
    this.sock.destroy(err);
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
      // Small frames are copied into one range of the slab: no buffer per flush, and cheaper than
      // Writable's writev bookkeeping.
      if (this.slab === null || this.slab.length - this.slabUsed < bytes) {
        this.slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
        this.slabUsed = 0;
      }
      const start = this.slabUsed;
      let off = start;
      for (let i = 0; i < q.length; i++) off += q[i].copy(this.slab, off);
      this.slabUsed = off;
      ok = this.sock.write(this.slab.subarray(start, off));
    } else {
      this.sock.cork();
      for (const b of q) ok = this.sock.write(b);
      this.sock.uncork();
    }
    q.length = 0;
    return ok;
  }
}
