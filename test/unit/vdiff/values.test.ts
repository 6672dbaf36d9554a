// VDiff's key order must be MariaDB's: numbers by value (bigints exactly), DECIMAL text by value,
// binary bytewise, text under its column's collation. A byte order would put 'B' before 'a' under
// utf8mb4_general_ci and report both rows as extra on a merge of two shards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareDecimal, keyComparator, loadValue, sameValue, sqlLiteral, storeValue } from '../../../src/vdiff/index.js';
import { TYPE } from '../../../src/mysql/constants.js';
import { collationIdByName } from '../../../src/collations/index.js';

const sign = (n: number) => Math.sign(n);

test('DECIMAL text compares by value', () => {
  assert.equal(compareDecimal('10.5', '9.75'), 1);
  assert.equal(compareDecimal('-10.5', '-9.75'), -1);
  assert.equal(compareDecimal('1.50', '1.5'), 0);
  assert.equal(compareDecimal('-0.00', '0'), 0);
  assert.equal(compareDecimal('-1', '0.1'), -1);
  assert.equal(compareDecimal('007', '7.000'), 0);
});

test('text keys compare under their collation, not by bytes', () => {
  const ci = keyComparator({ name: 'name', type: TYPE.VARCHAR, unsigned: false, collation: collationIdByName('utf8mb4_general_ci') }, 't');
  assert.equal(sign(ci('a', 'B')), -1);
  assert.equal(ci('abc', 'ABC'), 0);
  assert.equal(ci('a ', 'a'), 0, 'PAD SPACE');
  assert.equal(ci('Ä', 'a'), 0);
  const bin = keyComparator({ name: 'name', type: TYPE.VARCHAR, unsigned: false, collation: collationIdByName('utf8mb4_bin') }, 't');
  assert.equal(sign(bin('a', 'B')), 1);
});

test('numbers by value, bigints exactly; binary bytewise', () => {
  const n = keyComparator({ name: 'id', type: TYPE.LONGLONG, unsigned: true, collation: 63 }, 't');
  assert.equal(sign(n(18446744073709551615n, 18446744073709551614n)), 1);
  assert.equal(sign(n(9, 10n)), -1);
  assert.equal(n(10, 10n), 0);
  const b = keyComparator({ name: 'k', type: TYPE.VARCHAR, unsigned: false, collation: 63 }, 't');
  assert.equal(sign(b(Buffer.from([0x00, 0xff]), Buffer.from([0x01]))), -1);
});

test('a collation Tessera does not implement is refused, naming the table and column', () => {
  assert.throws(() => keyComparator({ name: 'name', type: TYPE.VARCHAR, unsigned: false, collation: 5 }, 'customer'), (e: Error & { errno?: number }) => e.errno === 1235 && /VDiff of table customer: key column name/.test(e.message));
});

test('stored values round-trip exactly; SQL literals quote what needs it', () => {
  for (const v of [null, 1.5, 'O\'Brien', 18446744073709551615n, Buffer.from([0, 1, 255])]) assert.ok(sameValue(loadValue(JSON.parse(JSON.stringify(storeValue(v)))), v));
  assert.equal(sqlLiteral("O'Br\\ien"), "'O\\'Br\\\\ien'");
  assert.equal(sqlLiteral(Buffer.from('ab')), '0x6162');
  assert.equal(sqlLiteral(null), 'NULL');
  assert.ok(!sameValue('a', 'A'), 'non-key columns compare exactly');
});
