// FrameWriter over a real loopback connection: what the peer reads is every frame, in order, and
// the frames of one event-loop turn reach the socket in one write.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { FrameWriter } from '../../../src/rpc/frame-writer.js';

/** A connected pair: `out` (written through a FrameWriter) and everything `in` has read. */
async function pair(): Promise<{ out: net.Socket; received: () => Buffer; receivedBytes: () => number; close: () => void }> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  let peer: net.Socket | null = null;
  const server = net.createServer((s) => {
    peer = s;
    s.on('data', (d) => {
      chunks.push(d);
      bytes += d.length;
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const out = net.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1' });
  out.on('error', () => undefined);
  await new Promise<void>((r) => out.once('connect', () => r()));
  return {
    out,
    received: () => Buffer.concat(chunks),
    receivedBytes: () => bytes,
    close: () => {
      out.destroy();
      (peer as net.Socket | null)?.destroy();
      server.close();
    },
  };
}

/** Counts the socket's writes (each `write` call is one write to the kernel, or one queued). */
function countWrites(sock: net.Socket): { writes: number } {
  const seen = { writes: 0 };
  const write = sock.write.bind(sock) as (b: Buffer) => boolean;
  (sock as unknown as { write: (b: Buffer) => boolean }).write = (b: Buffer) => {
    seen.writes++;
    return write(b);
  };
  return seen;
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

const closers: (() => void)[] = [];
after(() => closers.forEach((c) => c()));

test('frames written in one turn (callbacks, ticks, promise continuations) leave in one write, in order', async () => {
  const p = await pair();
  closers.push(p.close);
  const seen = countWrites(p.out);
  const w = new FrameWriter(p.out);
  // Two immediates queued together run in the same turn of the loop, each with its own ticks and
  // microtasks (as two sockets' reads do); one queued while they run waits for the next turn.
  await new Promise<void>((resolve) => {
    setImmediate(() => {
      w.write(Buffer.from('a1'));
      process.nextTick(() => w.write(Buffer.from('a2')));
      void Promise.resolve().then(() => w.write(Buffer.from('a3')));
    });
    setImmediate(() => {
      w.write(Buffer.from('b1'));
      assert.equal(seen.writes, 0, 'nothing is written before the turn ends');
      setImmediate(resolve);
    });
  });
  assert.equal(seen.writes, 1);
  await until(() => p.receivedBytes() >= 8);
  assert.equal(p.received().toString(), 'a1a2a3b1');
});

test('a later turn writes again; large frames go at once, behind what was queued; copies survive slab turnover', async () => {
  const p = await pair();
  closers.push(p.close);
  const seen = countWrites(p.out);
  const w = new FrameWriter(p.out);
  const expected: Buffer[] = [];
  const send = (b: Buffer) => {
    expected.push(b);
    w.write(b);
  };
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  // Many turns of small frames: far more bytes than one copy slab holds, so it is replaced while
  // the socket may still hold bytes of the old one (which must not be overwritten).
  for (let turn = 0; turn < 200; turn++) {
    for (let i = rand(8) + 2; i > 0; i--) send(Buffer.alloc(rand(3000) + 1, (turn + i) & 0xff));
    await new Promise((r) => setImmediate(r));
  }
  const turnsWrites = seen.writes;
  assert.ok(turnsWrites <= 200, `one write per turn at most (${turnsWrites} for 200 turns)`);
  send(Buffer.from('small'));
  const big = Buffer.alloc(100 * 1024, 0x5a);
  send(big);
  assert.equal(seen.writes, turnsWrites + 2, 'a frame that fills the queue is written at once, with what was queued before it');
  const all = Buffer.concat(expected);
  await until(() => p.receivedBytes() >= all.length);
  assert.ok(p.received().equals(all), 'the peer read every frame, in order, unchanged');
});

test('a destroyed socket drops what was queued without failing', async () => {
  const p = await pair();
  closers.push(p.close);
  const w = new FrameWriter(p.out);
  w.write(Buffer.from('x'));
  w.write(Buffer.from('y'));
  p.out.destroy();
  await new Promise((r) => setImmediate(r));
  assert.equal(w.flush(), true);
});

test('a flush that throws destroys that socket only: the other writers of the turn, and later turns, still send', async () => {
  const bad = await pair();
  const good = await pair();
  closers.push(bad.close, good.close);
  (bad.out as unknown as { write: () => boolean }).write = () => {
    throw new Error('write exploded');
  };
  const wb = new FrameWriter(bad.out);
  const wg = new FrameWriter(good.out);
  const destroyed = new Promise<Error | undefined>((resolve) => bad.out.once('close', () => resolve(bad.out.errored ?? undefined)));
  wb.write(Buffer.from('x'));
  wg.write(Buffer.from('g1'));
  const err = await destroyed;
  assert.equal(err?.message, 'write exploded');
  await until(() => good.receivedBytes() >= 2);
  // The shared list of writers to flush was emptied: a write in a later turn is flushed again.
  wg.write(Buffer.from('g2'));
  await until(() => good.receivedBytes() >= 4);
  assert.equal(good.received().toString(), 'g1g2');
});
