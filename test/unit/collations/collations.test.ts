// src/collations without a server: cases whose answers were read from MariaDB 10.11 (the
// integration test in test/integration/collations/ checks the whole tables against it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COLLATIONS, collationByName, compare, weightKey } from '../../../src/collations/index.js';
import { TesseraError } from '../../../src/mysql/errors.js';

const id = (name: string): number => {
  const c = collationByName(name);
  assert.ok(c, name);
  return c.id;
};

// [collation, a, b, sign of MariaDB's comparison of a with b]
const CASES: readonly [string, string, string, number][] = [
  ['utf8mb4_general_ci', 'Alice', 'alice', 0],
  ['utf8mb4_general_ci', 'Álice', 'alice ', 0],
  ['utf8mb4_general_ci', 'a\t', 'a', -1],
  ['utf8mb4_general_ci', 'straße', 'strase', 0],
  ['utf8mb4_general_ci', '😀', '😁', 0],
  ['utf8mb4_general_ci', 'ｶ', '😀', -1],
  ['utf8mb4_general_nopad_ci', 'a ', 'a', 1],
  ['utf8mb4_unicode_ci', 'straße', 'STRASSE', 0],
  ['utf8mb4_unicode_ci', 'Øyvind', 'zulu', -1],
  ['utf8mb4_unicode_ci', '😀', '😁', 0],
  ['utf8mb4_unicode_520_ci', '😀', '😁', -1],
  ['utf8mb4_unicode_520_ci', 'aß', 'ASS ', 0],
  ['utf8mb4_unicode_520_nopad_ci', 'aß', 'ASS ', -1],
  ['utf8mb4_bin', 'a ', 'a', 0],
  ['utf8mb4_bin', 'a', 'B', 1],
  ['utf8mb4_nopad_bin', 'a ', 'a', 1],
  ['utf8mb3_general_ci', 'Москва', 'МОСКВА', 0],
  ['latin1_swedish_ci', 'aé', 'AE', 0],
  ['latin1_swedish_ci', 'Ä', 'Z', 1],
  ['latin1_bin', '€', 'a', 1],
  ['latin1_bin', 'é', 'f', 1],
  ['binary', 'a', 'a ', -1],
  ['binary', 'A', 'a', -1],
];

test('compare and weightKey: answers read from MariaDB', () => {
  for (const [name, a, b, want] of CASES) {
    const c = id(name);
    assert.equal(Math.sign(compare(c, a, b)), want, `${name}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    assert.equal(Math.sign(compare(c, b, a)), -want || 0, `${name}: ${JSON.stringify(b)} vs ${JSON.stringify(a)}`);
    assert.equal(Math.sign(compare(c, Buffer.from(a), Buffer.from(b))), want, `${name} on Buffers`);
    assert.equal(weightKey(c, a).equals(weightKey(c, b)), want === 0, `${name}: keys of ${JSON.stringify(a)} and ${JSON.stringify(b)}`);
  }
});

test('every listed collation compares the empty string, spaces and mixed scripts consistently', () => {
  const values = ['', ' ', 'a', 'A ', 'é', 'Ω', 'я', '東', 'ب', '😀', 'a\t', 'z'];
  for (const c of COLLATIONS) {
    const vs = c.charset === 'latin1' ? values.filter((v) => /^[\x00-\xff]*$/.test(v)) : values;
    for (const a of vs) {
      for (const b of vs) {
        const x = compare(c.id, a, b);
        assert.equal(Math.sign(x), -Math.sign(compare(c.id, b, a)) || 0, `${c.name}: antisymmetric on ${JSON.stringify(a)}, ${JSON.stringify(b)}`);
        assert.equal(x === 0, weightKey(c.id, a).equals(weightKey(c.id, b)), `${c.name}: key equality on ${JSON.stringify(a)}, ${JSON.stringify(b)}`);
      }
    }
  }
});

test('a collation the gate does not implement is refused with 1235, not guessed', () => {
  for (const [cid, name] of [[5, 'latin1_german1_ci'], [234, 'utf8mb4_czech_ci'], [2308, 'collation id 2308']] as const) {
    assert.throws(() => compare(cid, 'a', 'b'), (e: unknown) => e instanceof TesseraError && e.errno === 1235 && e.message.includes(name));
  }
});
