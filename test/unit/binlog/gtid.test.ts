import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GtidPosition, gtid, parseGtid } from '../../../src/mysql/binlog/index.js';
import { TesseraError } from '../../../src/mysql/errors.js';

const P = (s: string): GtidPosition => GtidPosition.parse(s);

test('parse and format: flavor prefix optional, sorted by domain, empty forms', () => {
  const cases: [string, string, string][] = [
    ['MariaDB/0-100-42', 'MariaDB/0-100-42', '0-100-42'],
    ['0-100-42', 'MariaDB/0-100-42', '0-100-42'],
    ['MariaDB/1-101-7,0-100-42', 'MariaDB/0-100-42,1-101-7', '0-100-42,1-101-7'],
    [' mariadb/ 0-100-42 , 1-101-7 ', 'MariaDB/0-100-42,1-101-7', '0-100-42,1-101-7'],
    ['', 'MariaDB/', ''],
    ['MariaDB/', 'MariaDB/', ''],
    ['0-4294967295-18446744073709551615', 'MariaDB/0-4294967295-18446744073709551615', '0-4294967295-18446744073709551615'],
  ];
  for (const [input, printed, list] of cases) {
    const p = P(input);
    assert.equal(p.toString(), printed, input);
    assert.equal(p.gtidList(), list, input);
    assert.ok(P(p.toString()).equals(p), `round trip ${input}`);
  }
});

test('parse errors are 1210 with the reason', () => {
  for (const bad of ['MySQL56/abc:1-5', '0-100', '0-100-x', '0-100-42,0-101-43', '4294967296-1-1', '0-1-18446744073709551616', '0--1-1']) {
    assert.throws(() => P(bad), (e: unknown) => e instanceof TesseraError && e.errno === 1210, bad);
  }
});

test('contains, atLeast, compare', () => {
  const cases: [string, string, boolean, -1 | 0 | 1 | undefined][] = [
    // a, b, a.atLeast(b), a.compare(b)
    ['0-100-42', '0-100-42', true, 0],
    ['0-100-43', '0-100-42', true, 1],
    ['0-100-41', '0-100-42', false, -1],
    ['0-101-42', '0-100-42', true, 0], // same sequence from another server still counts as reached
    ['0-100-42,1-100-5', '0-100-42', true, 1],
    ['0-100-42', '0-100-42,1-100-5', false, -1],
    ['0-100-50,1-100-1', '0-100-42,1-100-5', false, undefined],
    ['', '', true, 0],
    ['0-1-1', '', true, 1],
  ];
  for (const [a, b, ge, cmp] of cases) {
    assert.equal(P(a).atLeast(P(b)), ge, `${a} atLeast ${b}`);
    assert.equal(P(a).compare(P(b)), cmp, `${a} compare ${b}`);
  }
  assert.equal(P('0-100-42').contains(parseGtid('0-100-42')), true);
  assert.equal(P('0-100-42').contains(parseGtid('0-100-43')), false);
  assert.equal(P('0-100-42').contains(parseGtid('1-100-1')), false);
});

test('advance and merge', () => {
  assert.equal(P('').advance(gtid(0, 100, 1)).toString(), 'MariaDB/0-100-1');
  assert.equal(P('0-100-1').advance(gtid(0, 101, 2)).toString(), 'MariaDB/0-101-2');
  assert.equal(P('0-100-1,2-100-9').advance(gtid(1, 100, 3)).toString(), 'MariaDB/0-100-1,1-100-3,2-100-9');
  assert.equal(P('2-100-9').advance(gtid(0, 100, 3)).toString(), 'MariaDB/0-100-3,2-100-9');
  assert.equal(P('0-100-5,1-100-1').merge(P('0-100-3,1-100-7,2-5-5')).toString(), 'MariaDB/0-100-5,1-100-7,2-5-5');
  assert.equal(P('0-100-5').merge(P('0-200-5')).toString(), 'MariaDB/0-100-5');
});
