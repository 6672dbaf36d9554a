import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { RpcServer, RpcClient, encodeFrame, encodeMessage, encodeRequestPrefix, FrameKind, FrameParser, FRAME_HEADER_BYTES, type Frame } from '../../../src/rpc/index.js';
import { TesseraError } from '../../../src/mysql/errors.js';

const server = new RpcServer();
let maxAhead = 0;
let produced = 0;
let consumedByClient = 0;
let binCancelled = 0;
const undone: string[] = [];
server
  .unary('echo', async (req) => ({ meta: req.meta, blobs: req.blobs }))
  .unary('fail', async () => {
    throw new TesseraError({ errno: 1146, sqlState: '42S02' }, "Table 'vt_x.nope' doesn't exist");
  })
  .unary('sleep', async (req, ctx) => {
    const ms = req.meta as number;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, ms);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(t);
        reject(ctx.signal.reason);
      });
    });
    return { meta: 'slept' };
  })
  // A binary method: the body is its own bytes (here: u32 sleep ms, then text echoed back upper-cased),
  // and it is cancelled through the call's CancelSignal (ctx.cancel), not an AbortSignal.
  .binaryUnary('bin.upper', async (body, offset, ctx) => {
    const ms = body.readUInt32LE(offset);
    if (ms > 0) {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, ms);
        ctx.cancel.addEventListener('abort', () => {
          clearTimeout(t);
          binCancelled++;
          reject(ctx.cancel.reason);
        });
      });
    }
    const text = Buffer.from(body.subarray(offset + 4).toString('utf8').toUpperCase(), 'utf8');
    const out = Buffer.alloc(FRAME_HEADER_BYTES + text.length);
    text.copy(out, FRAME_HEADER_BYTES);
    return out;
  })
  // Begins something only its caller can end (think: a transaction); `undone` lists what was
  // undone because the caller never took the answer. meta: [name, ms to work].
  .unary('begin', async (req, ctx) => {
    const [name, ms] = req.meta as [string, number];
    await new Promise((r) => setTimeout(r, ms)); // the work ignores the abort, as a statement that already finished
    ctx.onUnseen(() => undone.push(name));
    return { meta: name };
  })
  .stream('count', async (req, _ctx, send) => {
    const n = req.meta as number;
    for (let i = 0; i < n; i++) {
      await send({ meta: i, blobs: [Buffer.from(`row ${i}`)] });
      produced++;
      maxAhead = Math.max(maxAhead, produced - consumedByClient);
    }
    return { meta: { done: n } };
  });
const port = await server.listen(0);
const client = new RpcClient('127.0.0.1', port, { streamWindowChunks: 4 });
after(async () => {
  client.close();
  await server.close();
});

test('unary calls multiplex on one connection and carry blobs untouched', async () => {
  const results = await Promise.all(
    Array.from({ length: 500 }, (_, i) => client.call('echo', { i, s: 'ü'.repeat(i % 5) }, [Buffer.from([i & 255, 0, 255])])),
  );
  results.forEach((r, i) => {
    assert.deepEqual(r.meta, { i, s: 'ü'.repeat(i % 5) });
    assert.deepEqual([...r.blobs[0]], [i & 255, 0, 255]);
  });
  assert.equal(server.connectionCount, 1);
});

test('errors keep errno, SQLSTATE and message across the wire', async () => {
  await assert.rejects(client.call('fail', null), (e: TesseraError) => e.errno === 1146 && e.sqlState === '42S02' && /doesn't exist/.test(e.message));
  await assert.rejects(client.call('no.such', null), (e: TesseraError) => e.errno === 1047 && /unknown rpc method 'no.such'/.test(e.message));
});

test('a stream respects the consumer: the server never runs more than its window ahead', async () => {
  produced = 0;
  consumedByClient = 0;
  maxAhead = 0;
  const seen: number[] = [];
  const end = await client.stream('count', 200, async (m) => {
    seen.push(m.meta as number);
    assert.equal(m.blobs[0].toString(), `row ${m.meta}`);
    consumedByClient++;
    if (consumedByClient % 10 === 0) await new Promise((r) => setTimeout(r, 2));
  });
  assert.deepEqual(end.meta, { done: 200 });
  assert.deepEqual(seen, Array.from({ length: 200 }, (_, i) => i));
  // Window 4 (+1 for the chunk being written when the counter is read).
  assert.ok(maxAhead <= 5, `server ran ${maxAhead} chunks ahead`);
});

test('deadline: the server aborts the work and the caller gets a clear error', async () => {
  await assert.rejects(client.call('sleep', 5000, [], { timeoutMs: 50 }), /exceeded its deadline of 50 ms/);
  assert.equal((await client.call('sleep', 1)).meta, 'slept');
});

test('cancellation through an AbortSignal', async () => {
  const ac = new AbortController();
  const p = client.call('sleep', 5000, [], { signal: ac.signal });
  setTimeout(() => ac.abort(new Error('user cancelled')), 20);
  await assert.rejects(p, /user cancelled/);
});

/** bin.upper's request: u32 ms to wait, then the text. */
function upperRequest(headroom: number, arg: { ms: number; text: string }): Buffer {
  const t = Buffer.from(arg.text, 'utf8');
  const out = Buffer.alloc(headroom + 4 + t.length);
  out.writeUInt32LE(arg.ms, headroom);
  t.copy(out, headroom + 4);
  return out;
}

test('binary methods: own bytes both ways, multiplexed with JSON calls; deadline and cancel through the call token', async () => {
  const calls = Array.from({ length: 300 }, (_, i) =>
    i % 2 === 0 ? client.callBinary('bin.upper', upperRequest, { ms: 0, text: `ab ü ${i}` }).then((b) => b.toString('utf8')) : client.call('echo', i).then((m) => m.meta),
  );
  const got = await Promise.all(calls);
  got.forEach((g, i) => assert.deepEqual(g, i % 2 === 0 ? `AB Ü ${i}` : i));
  await assert.rejects(client.callBinary('bin.upper', upperRequest, { ms: 5000, text: 'x' }, { timeoutMs: 50 }), /rpc bin.upper exceeded its deadline of 50 ms/);
  const ac = new AbortController();
  const p = client.callBinary('bin.upper', upperRequest, { ms: 5000, text: 'x' }, { signal: ac.signal });
  setTimeout(() => ac.abort(new Error('user cancelled')), 20);
  await assert.rejects(p, /user cancelled/);
  // The server's side of both calls was cancelled too (the deadline by the server, the abort by a Cancel frame).
  for (let i = 0; i < 100 && binCancelled < 2; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(binCancelled, 2);
  assert.equal((await client.callBinary('bin.upper', upperRequest, { ms: 1, text: 'done' })).toString(), 'DONE');
  await assert.rejects(client.callBinary('no.such.binary', upperRequest, { ms: 0, text: '' }), (e: TesseraError) => e.errno === 1047);
});

test('a cancelled stream hands no more chunks to its consumer, not even those already received', async () => {
  // The window lets the server send 4 chunks at once; the consumer is still on the first when the
  // caller aborts. A consumer that kept getting the others after its call was rejected would act on
  // data its caller has already left behind (a stopped VReplication stream applying transactions).
  const ac = new AbortController();
  const seen: number[] = [];
  let arrived!: () => void;
  const firstChunk = new Promise<void>((r) => (arrived = r));
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const p = client.stream(
    'count',
    50,
    async (m) => {
      seen.push(m.meta as number);
      if (seen.length === 1) {
        arrived();
        await held;
      }
    },
    [],
    { signal: ac.signal },
  );
  await firstChunk;
  // Let the rest of the window arrive while the first chunk is being handled.
  await new Promise((r) => setTimeout(r, 100));
  ac.abort(new Error('caller left'));
  await assert.rejects(p, /caller left/);
  release();
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(seen, [0]);
});

test('malformed frames close only the offending connection; others keep working', async () => {
  const garbage = [
    Buffer.from([1, 0, 0, 0, 0]),
    Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]),
    encodeFrame(7, 42 as FrameKind, Buffer.from('x')),
    encodeFrame(7, FrameKind.Request, Buffer.from([200, 0, 1])),
    encodeFrame(7, FrameKind.Response, Buffer.from('nope')),
    encodeFrame(7, FrameKind.Credit, Buffer.from([1])),
  ];
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 255;
  for (let i = 0; i < 30; i++) garbage.push(Buffer.from(Array.from({ length: 1 + (rnd() % 40) }, rnd)));
  const good = (async () => {
    for (let i = 0; i < 200; i++) assert.deepEqual((await client.call('echo', i)).meta, i);
  })();
  for (const g of garbage) {
    await new Promise<void>((resolve) => {
      const s = net.createConnection({ host: '127.0.0.1', port }, () => {
        s.write(g);
        setTimeout(() => {
          s.destroy();
          resolve();
        }, 5);
      });
      s.on('error', () => resolve());
    });
  }
  await good;
  assert.deepEqual((await client.call('echo', 'still here')).meta, 'still here');
});

test('a lost connection fails calls in flight with 2013 and the next call reconnects', async () => {
  const s2 = new RpcServer({ drainTimeoutMs: 100 });
  // The call is in flight once the server runs it (a timer would race a slow connect on a busy machine).
  let arrived!: () => void;
  const started = new Promise<void>((r) => (arrived = r));
  s2.unary('sleep', async () => {
    arrived();
    return new Promise(() => undefined);
  });
  s2.unary('echo', async (r) => ({ meta: r.meta }));
  const p2 = await s2.listen(0);
  const c2 = new RpcClient('127.0.0.1', p2);
  const inflight = c2.call('sleep', null);
  await started;
  await s2.close(); // drain waits, then cuts
  await assert.rejects(inflight, (e: TesseraError) => e.errno === 2013);
  await assert.rejects(c2.call('echo', 1), (e: TesseraError) => e.errno === 2002 && /cannot reach tablet rpc/.test(e.message));
  c2.close();
});

/** A bare connection speaking frames: sends requests and cancels when the test says, collects answers. */
async function rawConn(): Promise<{ send(f: Buffer): void; answer(id: number): Promise<Frame>; close(): void }> {
  const sock = net.createConnection({ host: '127.0.0.1', port });
  await new Promise<void>((r) => sock.once('connect', () => r()));
  const parser = new FrameParser(1 << 20);
  const frames = new Map<number, Frame>();
  const waiters = new Map<number, (f: Frame) => void>();
  sock.on('data', (d: Buffer) =>
    parser.push(d, (f) => {
      frames.set(f.requestId, f);
      waiters.get(f.requestId)?.(f);
    }),
  );
  return {
    send: (f) => sock.write(f),
    answer: (id) => (frames.has(id) ? Promise.resolve(frames.get(id)!) : new Promise((r) => waiters.set(id, r))),
    close: () => sock.destroy(),
  };
}

const request = (id: number, method: string, meta: unknown) =>
  encodeFrame(id, FrameKind.Request, encodeMessage(meta as never, [], encodeRequestPrefix(method, 0, 4)));

async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), what);
}

test('a call whose answer the client never takes is undone: cancelled before or after the answer, or its connection closed', async () => {
  undone.length = 0;
  // Taken: nothing undone.
  assert.equal((await client.call('begin', ['taken', 0])).meta, 'taken');
  // Cancelled while it works: the client rejects at once and drops the late answer.
  const ac = new AbortController();
  const p = client.call('begin', ['cancelled-early', 200], [], { signal: ac.signal });
  setTimeout(() => ac.abort(new Error('client went away')), 20);
  await assert.rejects(p, /client went away/);
  await until('the early-cancelled call undone', () => undone.includes('cancelled-early'));
  // The cancel crosses the answer on the wire: the server answered, then learns the client gave up.
  const raw = await rawConn();
  raw.send(request(5, 'begin', ['cancelled-late', 0]));
  assert.equal((await raw.answer(5)).kind, FrameKind.Response);
  assert.ok(!undone.includes('cancelled-late'));
  raw.send(encodeFrame(5, FrameKind.Cancel, null));
  await until('the late-cancelled call undone', () => undone.includes('cancelled-late'));
  // A cancel for an id answered and taken long ago, reused by a newer call: only the newer one counts.
  raw.send(request(6, 'begin', ['reused-1', 0]));
  await raw.answer(6);
  raw.send(request(6, 'begin', ['reused-2', 100]));
  raw.send(encodeFrame(6, FrameKind.Cancel, null));
  await until('the newer call undone', () => undone.includes('reused-2'));
  // The connection closes while the call works.
  raw.send(request(7, 'begin', ['closed', 200]));
  await new Promise((r) => setTimeout(r, 20));
  raw.close();
  await until('the call of the closed connection undone', () => undone.includes('closed'));
  assert.deepEqual([...undone].sort(), ['cancelled-early', 'cancelled-late', 'closed', 'reused-2']);
});

test('a server closing in the turn it answered still sends the answer', async () => {
  const s = new RpcServer();
  // The close starts before the turn's frames are flushed: it must not drop the answer.
  s.unary('last', async (req) => {
    setImmediate(() => void s.close());
    return { meta: req.meta };
  });
  const p = await s.listen(0);
  const c = new RpcClient('127.0.0.1', p);
  try {
    assert.deepEqual((await c.call('last', 'answer')).meta, 'answer');
  } finally {
    c.close();
    await s.close();
  }
});
