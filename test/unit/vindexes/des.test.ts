// The `hash` vindex's own DES (src/vindexes/des.ts) against node:crypto's des-ede3-ecb under the
// 24-byte zero key, which is what Vitess's hash vindex is: the same 8 bytes for every block.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { desZeroBlocks, desZeroBytes, desZeroOf } from '../../../src/vindexes/des.js';
import { vhash, vunhash } from '../../../src/vindexes/index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function openssl(blocks: Uint8Array, decrypt = false): string {
  const c = decrypt ? createDecipheriv('des-ede3-ecb', Buffer.alloc(24), null) : createCipheriv('des-ede3-ecb', Buffer.alloc(24), null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(blocks), c.final()]).toString('hex');
}

function be8(n: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, n, false);
  return b;
}

/** A fixed sequence of 64-bit values (xorshift64), so a failure names the same values every run. */
function* values(count: number): Generator<bigint> {
  let x = 0x9e3779b97f4a7c15n;
  for (let i = 0; i < count; i++) {
    x ^= (x << 13n) & 0xffffffffffffffffn;
    x ^= x >> 7n;
    x ^= (x << 17n) & 0xffffffffffffffffn;
    yield x;
  }
}

const EDGES = [0n, 1n, 0xffn, 0x100n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0x7fffffffffffffffn, 0x8000000000000000n, 0xffffffffffffffffn];

test('desZeroOf agrees with node:crypto on small ids, edges and 20,000 values spread over 64 bits', () => {
  const all = [...Array.from({ length: 1000 }, (_, i) => BigInt(i)), ...EDGES, ...values(20_000)];
  for (const n of all) assert.equal(hex(desZeroOf(n)), openssl(be8(n)), `value ${n}`);
});

test("Vitess's keyspace ids for 1 to 5 (customers 1, 2, 3, 5 in -80 and 4 in 80-)", () => {
  assert.deepEqual([1n, 2n, 3n, 4n, 5n].map((n) => hex(vhash(n))), ['166b40b44aba4bd6', '06e7ea22ce92708f', '4eb190c9a2fa169c', 'd2fd8867d50d2dfe', '70bb023c810ca87a']);
});

test('decryption is the same function (the zero key is weak): vunhash inverts vhash and matches node:crypto', () => {
  for (const n of [...EDGES, ...values(2000)]) {
    const ksid = vhash(n);
    assert.equal(vunhash(ksid), n);
    assert.equal(hex(desZeroBytes(ksid)), openssl(ksid, true));
  }
});

test('desZeroBlocks: every block as desZeroOf gives it, back to back', () => {
  const ns = [...EDGES, ...values(500)];
  const blocks = new Uint8Array(ns.length * 8);
  ns.forEach((n, i) => blocks.set(be8(n), i * 8));
  assert.equal(hex(desZeroBlocks(blocks)), openssl(blocks));
  assert.equal(hex(desZeroBlocks(new Uint8Array(0))), '');
});
