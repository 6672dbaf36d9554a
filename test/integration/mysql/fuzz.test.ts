// Truncated, oversized, out-of-sequence and random packets at every stage of a connection, sent
// to the pass-through proxy while a well-behaved client keeps querying through it. Each bad
// connection may only end itself; the process and the good client carry on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import fc from 'fast-check';
import { setup, DB, type Env } from './setup.js';
import { Client } from '../../../src/mysql/client.js';
import { frame, le, nul, type Bytes } from '../../unit/mysql/fixtures.js';

let env: Env;
let good: Client;
let stopGood = false;
let goodQueries = 0;
let goodLoop: Promise<void>;

before(async () => {
  env = await setup({ packetSizeMax: 1 << 20, handshakeTimeoutMs: 5000 });
  good = await Client.connect({ host: '127.0.0.1', port: env.proxyPort, user: 'vt_dba', database: DB });
  goodLoop = (async () => {
    while (!stopGood) {
      const r = await good.query('SELECT id, vc FROM types WHERE id = 2');
      assert.deepEqual(r.rows, [[2, 'héllo ☃ 𝄞']]);
      const s = await good.prepare('SELECT ? + 1 AS n');
      assert.deepEqual((await good.execute(s, [goodQueries])).rows, [[BigInt(goodQueries + 1)]]);
      await good.closeStatement(s);
      goodQueries++;
    }
  })();
});

after(async () => {
  stopGood = true;
  await goodLoop;
  good.close();
  await env?.stop();
});

/** A raw connection that reads packets as they come and can send anything. */
class Raw {
  private readonly sock: net.Socket;
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  closed = false;

  constructor(port: number) {
    this.sock = net.connect(port, '127.0.0.1');
    this.sock.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake();
    });
    this.sock.on('error', () => undefined);
    this.sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  private wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  /** The next packet's payload, or null when the server closed. */
  async packet(): Promise<Buffer | null> {
    for (;;) {
      if (this.buf.length >= 4) {
        const n = this.buf.readUIntLE(0, 3);
        if (this.buf.length >= 4 + n) {
          const p = this.buf.subarray(4, 4 + n);
          this.buf = this.buf.subarray(4 + n);
          return p;
        }
      }
      if (this.closed) return null;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  send(bytes: Bytes | Buffer): void {
    if (!this.closed) this.sock.write(Buffer.from(bytes));
  }

  /** Waits for the server to close, answering nothing; ends our side when it only waits for more bytes. */
  async finish(): Promise<void> {
    // Read whatever the server answers (ERR packets); if it keeps the connection open waiting
    // for the rest of a truncated packet, hang up ourselves.
    const closedByServer = new Promise<void>((r) => this.sock.once('close', () => r()));
    this.sock.end();
    await closedByServer;
  }
}

const CAPS = 0x200 | 0x8000 | 0x80000 | 0x10000; // PROTOCOL_41, SECURE_CONNECTION, PLUGIN_AUTH, MULTI_STATEMENTS

function handshakeResponse(seq: number, plugin = 'mysql_native_password', authData: Bytes = []): Bytes {
  return frame(seq, [...le(CAPS, 4), ...le(1 << 24, 4), 45, ...Array(23).fill(0), ...nul('vt_dba'), authData.length, ...authData, ...nul(plugin)]);
}

type Stage = 'greeting' | 'auth-switch' | 'command' | 'prepared';

/** Opens a raw connection and walks it to `stage`, returning it and the sequence id expected next. */
async function reach(stage: Stage): Promise<{ raw: Raw; seq: number }> {
  const port = stage === 'auth-switch' ? env.sha2Port : env.proxyPort;
  const raw = new Raw(port);
  const hello = await raw.packet();
  assert.ok(hello && hello[0] === 10, 'handshake v10');
  if (stage === 'greeting') return { raw, seq: 1 };
  raw.send(handshakeResponse(1));
  if (stage === 'auth-switch') {
    const sw = await raw.packet();
    assert.ok(sw && sw[0] === 0xfe, 'auth switch request');
    return { raw, seq: 3 };
  }
  const ok = await raw.packet();
  assert.ok(ok && ok[0] === 0x00, `login OK, got ${ok?.toString('hex')}`);
  if (stage === 'command') return { raw, seq: 0 };
  raw.send(frame(0, [0x16, ...Buffer.from('SELECT ?, ?')]));
  for (;;) {
    const p = await raw.packet();
    assert.ok(p, 'prepare response');
    if (p[0] === 0xfe && p.length < 9) break; // the terminator of the column definitions (DEPRECATE_EOF not asked)
  }
  return { raw, seq: 0 };
}

const STAGES: Stage[] = ['greeting', 'auth-switch', 'command', 'prepared'];

test('truncated, oversized, out-of-sequence and empty packets at every stage', async () => {
  for (const stage of STAGES) {
    const attacks: [string, (seq: number) => Bytes][] = [
      ['truncated', (seq) => [...le(100, 3), seq, 1, 2, 3]],
      ['oversized', (seq) => [...le(0xffffff, 3), seq, 0x03, 0x53]],
      ['out of sequence', (seq) => frame(seq + 7, [0x03, 0x53, 0x45, 0x4c])],
      ['empty', (seq) => frame(seq, [])],
      ['header only', (seq) => [0, 0, 0, seq, 0, 0]],
      ['huge length-encoded int', (seq) => frame(seq, [0x17, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])],
      ['bad execute', (seq) => frame(seq, [0x17, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0x0c, 0, 0x0c, 0, 0x63])],
      ['long data to nowhere', (seq) => frame(seq, [0x18, 0xff, 0xff, 0xff, 0x7f, 9, 9, 1, 2, 3])],
      ['quit mid-auth', (seq) => frame(seq, [0x01])],
    ];
    for (const [name, bytes] of attacks) {
      const { raw, seq } = await reach(stage);
      raw.send(bytes(seq));
      await raw.finish();
      assert.ok(raw.closed, `${stage}/${name}`);
    }
  }
  assert.ok(goodQueries > 0);
});

test('random packets at every stage (property-based)', async () => {
  const before = goodQueries;
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...STAGES),
      fc.uint8Array({ minLength: 0, maxLength: 300 }),
      fc.boolean(),
      fc.nat(255),
      async (stage, body, framed, seqDelta) => {
        const { raw, seq } = await reach(stage);
        raw.send(framed ? frame((seq + (seqDelta % 3 === 0 ? seqDelta : 0)) & 0xff, [...body]) : [...body]);
        await raw.finish();
        return raw.closed;
      },
    ),
    { numRuns: 120, seed: 42 },
  );
  // the good client kept going all along, and no connection leaked
  const r = await good.query('SELECT 1 AS ok');
  assert.deepEqual(r.rows, [[1]]);
  assert.ok(goodQueries >= before);
  for (let i = 0; i < 100 && env.proxy.connectionCount > 1; i++) await new Promise((res) => setTimeout(res, 20));
  assert.equal(env.proxy.connectionCount, 1, 'only the good connection is left');
});
