import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  compareKeyBytes,
  equalShardNames,
  keyRangeContains,
  keyRangeEqual,
  keyRangeIntersection,
  keyRangeIsFull,
  keyRangeToShardName,
  keyRangesIntersect,
  keyspaceIdFromHex,
  keyspaceIdToHex,
  overlappingShards,
  parseShardName,
  parseShardingSpec,
  shardForKeyspaceId,
  validatePartition,
} from '../../../src/key/index.js';
import { TesseraError } from '../../../src/mysql/errors.js';

const id = (hex: string): Uint8Array => keyspaceIdFromHex(hex);

test('shard names parse to ranges and print back', () => {
  const cases: [string, string, string, string][] = [
    // name, start hex, end hex, printed
    ['-', '', '', '-'],
    ['0', '', '', '-'],
    ['-80', '', '80', '-80'],
    ['80-', '80', '', '80-'],
    ['40-80', '40', '80', '40-80'],
    ['ff00-ff80', 'ff00', 'ff80', 'ff00-ff80'],
    ['8000-', '8000', '', '8000-'],
    ['00-40', '00', '40', '-40'],
  ];
  for (const [name, start, end, printed] of cases) {
    const kr = parseShardName(name);
    assert.equal(keyspaceIdToHex(kr.start), start, name);
    assert.equal(keyspaceIdToHex(kr.end), end, name);
    assert.equal(keyRangeToShardName(kr), printed, name);
  }
  assert.ok(keyRangeIsFull(parseShardName('0')));
  assert.ok(keyRangeIsFull(parseShardName('-')));
  assert.ok(!keyRangeIsFull(parseShardName('-80')));
});

test('bad shard names are rejected with a clear error', () => {
  const cases: [string, RegExp][] = [
    ['', /empty/],
    ['80-40', /start at or after its end/],
    ['80-80', /start at or after its end/],
    ['80-8000', /start at or after its end/],
    ['8-', /not hex with an even number/],
    ['-8g', /not hex/],
    ['-80-c0', /not a key range/],
    ['-8A', /lowercase/],
  ];
  for (const [name, re] of cases) {
    assert.throws(() => parseShardName(name), (e: unknown) => e instanceof TesseraError && re.test(e.message), name);
  }
});

test('contains: start inclusive, end exclusive, empty bounds unbounded, 80 equals 8000', () => {
  const cases: [string, string, boolean][] = [
    ['-80', '00', true],
    ['-80', '7fffffffffffffff', true],
    ['-80', '80', false],
    ['-80', '8000000000000000', false],
    ['80-', '80', true],
    ['80-', '8000000000000000', true],
    ['80-', '7fff', false],
    ['80-', 'ffffffffffffffff', true],
    ['8000-', '80', true],
    ['40-80', '40', true],
    ['40-80', '3fffffff', false],
    ['-', '', true],
    ['-', 'ff', true],
    ['-80', '', true],
    ['80-', '', false],
  ];
  for (const [shard, hex, want] of cases) {
    assert.equal(keyRangeContains(parseShardName(shard), id(hex)), want, `${shard} ∋ ${hex}`);
  }
});

test('the seeds: customers 1, 2, 3, 5 in -80 and 4 in 80-', () => {
  const ksids = ['166b40b44aba4bd6', '06e7ea22ce92708f', '4eb190c9a2fa169c', 'd2fd8867d50d2dfe', '70bb023c810ca87a'];
  const placed = ksids.map((k) => shardForKeyspaceId(['-80', '80-'], id(k)));
  assert.deepEqual(placed, ['-80', '-80', '-80', '80-', '-80']);
});

test('equal, intersect and intersection', () => {
  assert.ok(keyRangeEqual(parseShardName('80-'), parseShardName('8000-')));
  assert.ok(keyRangeEqual(parseShardName('-80'), parseShardName('00-8000')));
  assert.ok(!keyRangeEqual(parseShardName('-80'), parseShardName('-8001')));
  assert.equal(compareKeyBytes(id('80'), id('8000')), 0);
  assert.equal(compareKeyBytes(id('80'), id('8001')), -1);
  const cases: [string, string, boolean][] = [
    ['-80', '80-', false],
    ['-80', '40-c0', true],
    ['-40', '40-80', false],
    ['40-80', '-40', false],
    ['-', '40-80', true],
    ['-8000', '80-', false],
    ['-8001', '80-', true],
    ['c0-', '80-', true],
  ];
  for (const [a, b, want] of cases) {
    assert.equal(keyRangesIntersect(parseShardName(a), parseShardName(b)), want, `${a} ∩ ${b}`);
  }
  const i = keyRangeIntersection(parseShardName('-80'), parseShardName('40-c0'));
  assert.equal(i && keyRangeToShardName(i), '40-80');
  assert.equal(keyRangeIntersection(parseShardName('-80'), parseShardName('80-')), undefined);
});

test('validatePartition accepts partitions and names the gap or overlap', () => {
  for (const ok of [['0'], ['-'], ['-80', '80-'], ['80-', '-80'], ['-40', '40-80', '80-c0', 'c0-'], ['-8000', '80-']]) {
    assert.doesNotThrow(() => validatePartition(ok), ok.join(','));
  }
  const bad: [string[], RegExp][] = [
    [[], /no shards/],
    [['-80'], /gap 80- after shard -80/],
    [['80-'], /gap -80 before shard 80-/],
    [['-40', '80-'], /gap 40-80 between shards -40 and 80-/],
    [['-80', '40-'], /shards -80 and 40- overlap on 40-80/],
    [['0', '-80', '80-'], /overlap/],
    [['-80', '-80', '80-'], /overlap/],
  ];
  for (const [shards, re] of bad) {
    assert.throws(() => validatePartition(shards), (e: unknown) => e instanceof TesseraError && re.test(e.message), shards.join(','));
  }
});

test('equalShardNames matches Vitess for 1 to 256 shards and always partitions', () => {
  assert.deepEqual(equalShardNames(1), ['-']);
  assert.deepEqual(equalShardNames(2), ['-80', '80-']);
  assert.deepEqual(equalShardNames(4), ['-40', '40-80', '80-c0', 'c0-']);
  assert.deepEqual(equalShardNames(3), ['-55', '55-aa', 'aa-']);
  assert.deepEqual(equalShardNames(5), ['-33', '33-66', '66-99', '99-cc', 'cc-']);
  assert.deepEqual(equalShardNames(7), ['-24', '24-49', '49-6d', '6d-92', '92-b6', 'b6-db', 'db-']);
  for (let n = 1; n <= 256; n++) {
    const names = equalShardNames(n);
    assert.equal(names.length, n);
    validatePartition(names, `${n} shards`);
  }
  assert.equal(equalShardNames(256)[1], '01-02');
  assert.equal(equalShardNames(512)[1], '0080-0100');
  // Vitess leaves a gap here (its last end rounds to ff); ours runs to the end.
  assert.equal(equalShardNames(49)[48], 'fa-');
  assert.throws(() => equalShardNames(0), /shard count 0/);
  assert.throws(() => equalShardNames(65537), /shard count/);
});

test('overlappingShards: which sources feed a Reshard target', () => {
  const source = ['-80', '80-'];
  assert.deepEqual(overlappingShards(source, '-40'), ['-80']);
  assert.deepEqual(overlappingShards(source, '40-c0'), ['-80', '80-']);
  assert.deepEqual(overlappingShards(source, '80-'), ['80-']);
  assert.deepEqual(overlappingShards(['0'], '-80'), ['0']);
  assert.deepEqual(overlappingShards(equalShardNames(4), '-80'), ['-40', '40-80']);
});

test('parseShardingSpec', () => {
  assert.deepEqual(parseShardingSpec('-40-80-c0-').map(keyRangeToShardName), ['-40', '40-80', '80-c0', 'c0-']);
  assert.deepEqual(parseShardingSpec('-').map(keyRangeToShardName), ['-']);
  assert.throws(() => parseShardingSpec('-80-40-'), /increasing order/);
  assert.throws(() => parseShardingSpec('-40--'), /empty inner bound/);
});
