import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  createVindex,
  looseKey,
  unknownVindexParams,
  vhashBlocks,
  vindexTypes,
  xxh64,
  type Destination,
  type FunctionalVindex,
  type CommitOrder,
  type LookupCursor,
  type LookupVindex,
  type MultiColumnVindex,
  type VindexValue,
} from '../../../src/vindexes/index.js';
import { TesseraError } from '../../../src/mysql/errors.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

function functional(type: string, params: Record<string, string> = {}): FunctionalVindex {
  const v = createVindex(type, `my_${type}`, params);
  assert.equal(v.kind, 'functional');
  return v as FunctionalVindex;
}

function dest(d: Destination): string {
  switch (d.kind) {
    case 'keyspaceId':
      return hex(d.id);
    case 'keyspaceIds':
      return d.ids.map(hex).join(',');
    case 'keyRange':
      return `${hex(d.range.start)}-${hex(d.range.end)}`;
    case 'none':
      return 'none';
  }
}

function pin(type: string, cases: [VindexValue, string][], params: Record<string, string> = {}): void {
  const v = functional(type, params);
  const got = v.map(cases.map((c) => c[0])).map(dest);
  assert.deepEqual(got, cases.map((c) => c[1]), type);
}

test('registry lists every type and rejects unknown ones', () => {
  assert.deepEqual(vindexTypes(), [
    'binary',
    'binary_md5',
    'consistent_lookup',
    'consistent_lookup_unique',
    'hash',
    'lookup',
    'lookup_unique',
    'null',
    'numeric',
    'numeric_static_map',
    'region_experimental',
    'reverse_bits',
    'unicode_loose_md5',
    'unicode_loose_xxhash',
    'xxhash',
  ]);
  assert.throws(() => createVindex('hashh', 'h'), (e: unknown) => e instanceof TesseraError && /vindex h: unknown vindex type 'hashh'/.test(e.message));
  assert.deepEqual(unknownVindexParams('hash', { Table: 't', Column: 'c' }), ['Column', 'Table']);
});

test('cost, uniqueness and lookup need match Vitess', () => {
  const cases: [string, number, boolean, Record<string, string>][] = [
    ['hash', 1, true, {}],
    ['xxhash', 1, true, {}],
    ['unicode_loose_md5', 1, true, {}],
    ['unicode_loose_xxhash', 1, true, {}],
    ['binary_md5', 1, true, {}],
    ['binary', 0, true, {}],
    ['numeric', 0, true, {}],
    ['numeric_static_map', 1, true, { json: '{}' }],
    ['reverse_bits', 1, true, {}],
    ['null', 100, true, {}],
    ['region_experimental', 1, true, { region_bytes: '1' }],
    ['lookup', 20, false, { table: 't', from: 'f', to: 'k' }],
    ['lookup_unique', 10, true, { table: 't', from: 'f', to: 'k' }],
    ['consistent_lookup', 20, false, { table: 't', from: 'f', to: 'k' }],
    ['consistent_lookup_unique', 10, true, { table: 't', from: 'f', to: 'k' }],
  ];
  for (const [type, cost, unique, params] of cases) {
    const v = createVindex(type, 'v', params);
    assert.equal(v.cost, cost, type);
    assert.equal(v.unique, unique, type);
    assert.equal(v.needsLookup, type.includes('lookup'), type);
    assert.equal(v.type, type);
  }
});

test('hash: Vitess keyspace ids, seeds customers 1-5', () => {
  pin('hash', [
    [1n, '166b40b44aba4bd6'],
    [2, '06e7ea22ce92708f'],
    [3n, '4eb190c9a2fa169c'],
    [null, 'none'],
    [4n, 'd2fd8867d50d2dfe'],
    [5n, '70bb023c810ca87a'],
    [6n, 'f098480ac4c4be71'],
    ['1', '166b40b44aba4bd6'],
    [new TextEncoder().encode('6'), 'f098480ac4c4be71'],
    [{ type: 'uint64', text: '4' }, 'd2fd8867d50d2dfe'],
    [{ type: 'int64', text: '5' }, '70bb023c810ca87a'],
    ['-1', 'none'],
    ['aa', 'none'],
    [' 1', 'none'],
    [1.5, 'none'],
    ['18446744073709551616', 'none'],
  ]);
  const h = functional('hash');
  // Negative integers wrap to two's complement, so -1 hashes like 2^64-1.
  assert.equal(hex(h.keyspaceId(-1n) as Uint8Array), hex(h.keyspaceId(18446744073709551615n) as Uint8Array));
  assert.equal(hex(h.keyspaceId({ type: 'int64', text: '-1' }) as Uint8Array), hex(h.keyspaceId(-1n) as Uint8Array));
  assert.deepEqual(h.verify([1n, 2n], [fromHex('166b40b44aba4bd6'), fromHex('166b40b44aba4bd6')]), [true, false]);
  assert.deepEqual(h.reverseMap?.([fromHex('166b40b44aba4bd6'), fromHex('f098480ac4c4be71')]), [1n, 6n]);
  assert.throws(() => h.reverseMap?.([fromHex('166b40b44aba4bd6166b40b44aba4bd6')]), /invalid keyspace id 166b40b44aba4bd6166b40b44aba4bd6/);
  const blocks = new Uint8Array(16);
  blocks[7] = 1;
  blocks[15] = 2;
  assert.equal(hex(vhashBlocks(blocks)), '166b40b44aba4bd606e7ea22ce92708f');
});

test('xxhash: Vitess keyspace ids (little-endian xxh64 of the value text)', () => {
  pin('xxhash', [
    ['test1', 'd01ab7e4d6978f0b'],
    ['test2', '87eb11714c0a0e89'],
    ['testaverylongvaluetomakesurethisworks', '81d8c38e0d850e6a'],
    [1n, 'd46405367612b4b7'],
    [null, '99e9d85137db46ef'],
    [-1n, 'd8e2a6a7c8c7623d'],
    [18446744073709551615n, '477cfa8d6d8f1f8d'],
    [9223372036854775807n, 'b37eb01f7bffafd8'],
    [{ type: 'uint64', text: '9223372036854775807' }, 'b37eb01f7bffafd8'],
    [-9223372036854775808n, '102c27ddb26a609e'],
  ]);
  assert.deepEqual(functional('xxhash').verify([1n, 2n], [fromHex('d46405367612b4b7'), fromHex('d46405367612b4b7')]), [true, false]);
});

test('xxh64 against the reference vectors, every length path', () => {
  // XXH64 reference values (seed 0), big-endian.
  assert.equal(hex(xxh64(new Uint8Array(0), false)), 'ef46db3751d8e999');
  assert.equal(hex(xxh64(new TextEncoder().encode('a'), false)), 'd24ec4f1a98c6e5b');
  assert.equal(hex(xxh64(new TextEncoder().encode('abc'), false)), '44bc2cf5ad770999');
  // Lengths 0..70 cross the 1-, 4-, 8- and 32-byte paths; a wrong carry anywhere shows as a
  // difference between hashing a buffer and hashing the same bytes at an offset.
  const data = new Uint8Array(80).map((_, i) => (i * 37 + 11) & 0xff);
  const seen = new Set<string>();
  for (let n = 0; n <= 70; n++) {
    const a = hex(xxh64(data.subarray(0, n)));
    const b = hex(xxh64(new Uint8Array(data.subarray(0, n))));
    assert.equal(a, b);
    seen.add(a);
  }
  assert.equal(seen.size, 71);
});

// Loose keys from Vitess's TestNormalization (unicode_test.go).
const NORMALIZATION: [string, string][] = [
  ['Test', '\x18\x16\x16L\x17\xf3\x18\x16'],
  ['TEST', '\x18\x16\x16L\x17\xf3\x18\x16'],
  ['Te\u0301st', '\x18\x16\x16L\x17\xf3\x18\x16'],
  ['Tést', '\x18\x16\x16L\x17\xf3\x18\x16'],
  ['Bést', '\x16\x05\x16L\x17\xf3\x18\x16'],
  ['Test ', '\x18\x16\x16L\x17\xf3\x18\x16'],
  [' Test', '\x01\t\x18\x16\x16L\x17\xf3\x18\x16'],
  ['Test\t', '\x18\x16\x16L\x17\xf3\x18\x16\x01\x00'],
  ['TéstLooong', '\x18\x16\x16L\x17\xf3\x18\x16\x17\x11\x17q\x17q\x17q\x17O\x16\x91'],
  ['T', '\x18\x16'],
];
const latin1 = (s: string): string => Buffer.from(s, 'latin1').toString('hex');

test('unicode_loose_*: the loose key matches Vitess normalization', () => {
  for (const [input, key] of NORMALIZATION) {
    const trimmed = input.replace(/ +$/, '');
    assert.equal(hex(looseKey(trimmed)), latin1(key), JSON.stringify(input));
  }
  const md5 = functional('unicode_loose_md5');
  for (const [input, key] of NORMALIZATION) {
    const want = createHash('md5').update(Buffer.from(key, 'latin1')).digest('hex');
    assert.equal(hex(md5.keyspaceId(input) as Uint8Array), want, JSON.stringify(input));
  }
});

test('unicode_loose_xxhash: Vitess keyspace ids', () => {
  pin('unicode_loose_xxhash', [
    [new TextEncoder().encode('Test'), '42d21361087a4c07'],
    ['Test', '42d21361087a4c07'],
    ['TEst', '42d21361087a4c07'],
    ['Te\u0301st', '42d21361087a4c07'],
    ['Tést', '42d21361087a4c07'],
    ['Bést', '926975b9ce2ec316'],
    ['Test ', '42d21361087a4c07'],
    [' Test', '4fcb8be34ec05775'],
    ['Test\t', '20af87fc36e3fd51'],
    ['TéstLooong', 'd3ea873942b484a7'],
    ['T', 'f81c3be2d501fe18'],
    [null, '99e9d85137db46ef'],
  ]);
});

test('unicode_loose_*: Vitess golden file (28 texts in many scripts)', () => {
  const golden = JSON.parse(
    readFileSync(new URL('../../../../test/fixtures/vitess/unicode_hash_golden.json', import.meta.url), 'utf8'),
  ) as { Input: string; XXHash: string; MD5: string }[];
  assert.equal(golden.length, 28);
  const md5 = functional('unicode_loose_md5');
  const xx = functional('unicode_loose_xxhash');
  for (const [i, g] of golden.entries()) {
    const input = new Uint8Array(Buffer.from(g.Input, 'base64'));
    assert.equal(Buffer.from(md5.keyspaceId(input) as Uint8Array).toString('base64'), g.MD5, `md5 #${i}`);
    assert.equal(Buffer.from(xx.keyspaceId(input) as Uint8Array).toString('base64'), g.XXHash, `xxhash #${i}`);
  }
});

test('unicode_loose_*: contractions, Hangul, Han, invalid UTF-8', () => {
  // Cyrillic и + combining breve contracts to й; precomposed й gives the same key.
  assert.equal(hex(looseKey('\u0438\u0306')), hex(looseKey('\u0439')));
  assert.notEqual(hex(looseKey('\u0438\u0306')), hex(looseKey('\u0438')));
  // Hangul syllables decompose into jamo.
  assert.equal(hex(looseKey('\ud55c')), hex(looseKey('\u1112\u1161\u11ab')));
  // Han ideographs get implicit weights: rune + 0x10000 in 3 bytes, top bit set.
  assert.equal(hex(looseKey('\u4e00')), '814e00');
  const md5 = functional('unicode_loose_md5');
  assert.throws(() => md5.keyspaceId(new Uint8Array([0x61, 0xff])), /invalid UTF-8: 61ff/);
  // Integers hash as their decimal text.
  assert.equal(hex(md5.keyspaceId(42n) as Uint8Array), hex(md5.keyspaceId('42') as Uint8Array));
});

test('binary_md5, binary, numeric, numeric_static_map, reverse_bits, null', () => {
  pin('binary_md5', [
    ['test1', '5a105e8b9d40e1329780d62ea2265d8a'],
    [new Uint8Array([0x74, 0x65, 0x73, 0x74, 0x31]), '5a105e8b9d40e1329780d62ea2265d8a'],
    [null, 'd41d8cd98f00b204e9800998ecf8427e'],
  ]);
  pin('binary', [
    ['test1', '7465737431'],
    [new Uint8Array([0x80, 0]), '8000'],
    [null, ''],
  ]);
  pin('numeric', [
    [1n, '0000000000000001'],
    [2, '0000000000000002'],
    [new TextEncoder().encode('7'), '0000000000000007'],
    [{ type: 'uint64', text: '8' }, '0000000000000008'],
    [-1n, 'ffffffffffffffff'],
    [1.1, 'none'],
    [null, 'none'],
  ]);
  const map = readFileSync(new URL('../../../../test/fixtures/vitess/numeric_static_map_test.json', import.meta.url), 'utf8');
  pin(
    'numeric_static_map',
    [
      [1n, '0000000000000001'],
      [2n, '0000000000000002'],
      [3n, '0000000000000002'],
      [4n, '0000000000000004'],
      ['7', '0000000000000007'],
      [1.1, 'none'],
    ],
    { json: map },
  );
  pin('numeric_static_map', [[3n, '0000000000000002'], [1n, '166b40b44aba4bd6']], { json: '{"3": 2}', fallback_type: 'hash' });
  pin('reverse_bits', [
    [1n, '8000000000000000'],
    [2n, '4000000000000000'],
    [3n, 'c000000000000000'],
    [null, 'none'],
    [4n, '2000000000000000'],
    [5n, 'a000000000000000'],
    [6n, '6000000000000000'],
  ]);
  const rb = functional('reverse_bits');
  assert.deepEqual(rb.reverseMap?.([fromHex('8000000000000000')]), [1n]);
  assert.deepEqual(rb.verify([1n, 2n], [fromHex('8000000000000000'), fromHex('8000000000000000')]), [true, false]);
  pin('null', [[1n, '00'], [null, '00'], ['x', '00']]);
  assert.throws(() => createVindex('numeric_static_map', 'm', {}), /needs param "json"/);
  assert.throws(() => createVindex('numeric_static_map', 'm', { json: '{"a": 1}' }), /entry "a"/);
  assert.throws(() => createVindex('numeric_static_map', 'm', { json: '{}', fallback_type: 'lookup' }), /fallback_type 'lookup'/);
});

test('region_experimental: region prefix + hash, key range for a region alone', () => {
  const r1 = createVindex('region_experimental', 'r', { region_bytes: '1' }) as MultiColumnVindex;
  assert.deepEqual(r1.map([[1n, 1n], [255n, 1n], [1n], [255n], ['x', 1n]]).map(dest), [
    '01166b40b44aba4bd6',
    'ff166b40b44aba4bd6',
    '01-02',
    'ff-',
    'none',
  ]);
  const r2 = createVindex('region_experimental', 'r', { region_bytes: '2' }) as MultiColumnVindex;
  assert.deepEqual(r2.map([[258n, 1n]]).map(dest), ['0102166b40b44aba4bd6']);
  assert.throws(() => r2.map([[1n, 2n, 3n]]), /1 or 2 column values, got 3/);
  assert.throws(() => createVindex('region_experimental', 'r', {}), /region_bytes of 1 or 2, got none/);
});

test('lookup vindexes: params, statements, map/verify/create through the cursor', async () => {
  const bad: [Record<string, string>, RegExp][] = [
    [{ from: 'f', to: 'k' }, /vindex l: lookup_unique needs param table/],
    [{ table: 't', to: 'k' }, /needs param from/],
    [{ table: 't', from: 'f' }, /needs param to/],
    [{ table: 't', from: 'f', to: 'k', autocommit: 'yes' }, /param autocommit must be true or false/],
    [{ table: 'a.b.c', from: 'f', to: 'k' }, /param table 'a.b.c'/],
    [{ table: 't', from: 'f,f', to: 'k' }, /names a column twice/],
  ];
  for (const [params, re] of bad) {
    assert.throws(() => createVindex('lookup_unique', 'l', params), (e: unknown) => e instanceof TesseraError && re.test(e.message));
  }
  assert.throws(() => createVindex('consistent_lookup', 'c', { table: 't', from: 'f', to: 'k', autocommit: 'true' }), /cannot be autocommit/);

  const v = createVindex('lookup', 'name_idx', { table: 'lookup.name_keyspace_idx', from: 'name', to: 'keyspace_id' }) as LookupVindex;
  assert.equal(v.sql.select, 'select `name`, `keyspace_id` from `lookup`.`name_keyspace_idx` where `name` in ::name');
  assert.equal(v.sql.verify, 'select `name` from `lookup`.`name_keyspace_idx` where `name` = :name and `keyspace_id` = :keyspace_id');
  assert.equal(v.sql.delete, 'delete from `lookup`.`name_keyspace_idx` where `name` = :name and `keyspace_id` = :keyspace_id');

  // A cursor that records what runs where and answers from a script.
  type Call = { sql: string; bind: Record<string, unknown>; order: CommitOrder | 'owner' };
  const calls: Call[] = [];
  let answer: (c: Call) => VindexValue[][] = () => [];
  const cursor = (dml = false): LookupCursor => ({
    dml,
    inTransaction: dml,
    rowLockOrder: 'pre',
    async execute(sql, bind, order) {
      const c = { sql, bind: { ...bind }, order };
      calls.push(c);
      return { rows: answer(c) };
    },
    async executeKeyspaceId(keyspace, ksid, sql, bind) {
      const c: Call = { sql: `${keyspace}@${hex(ksid)}: ${sql}`, bind: { ...bind }, order: 'owner' };
      calls.push(c);
      return { rows: answer(c) };
    },
  });
  const table = new Map<string, Uint8Array[]>([['alice', [fromHex('01'), fromHex('03')]], ['bob', [fromHex('02')]]]);
  answer = (c) => {
    const list = c.bind.name as VindexValue[];
    return list.flatMap((n) => (table.get(String(n)) ?? []).map((k) => [n, k]));
  };
  // Text values: one read per value (collations may match what bytes do not); integers batch.
  assert.deepEqual((await v.map(cursor(), ['alice', 'bob', 'carol'])).map(dest), ['01,03', '02', 'none']);
  assert.equal(calls.length, 3);
  assert.equal(calls[0].order, 'normal');
  calls.length = 0;
  table.set('7', [fromHex('07')]);
  table.set('-3', [fromHex('03')]);
  assert.deepEqual((await v.map(cursor(), [7n, 8n, -3n])).map(dest), ['07', 'none', '03']);
  assert.equal(calls.length, 1);
  // A DML in a transaction locks what it reads.
  calls.length = 0;
  await v.map(cursor(true), [7n]);
  assert.match(calls[0].sql, / for update$/);

  const u = createVindex('lookup_unique', 'u', { table: 't', from: 'name', to: 'keyspace_id' }) as LookupVindex;
  await assert.rejects(() => u.map(cursor(), ['alice']), /2 keyspace ids for the value 'alice' of a unique vindex/);
  assert.deepEqual((await u.map(cursor(), ['bob'])).map(dest), ['02']);
  const w = createVindex('lookup', 'w', { table: 't', from: 'name', to: 'keyspace_id', write_only: 'true' }) as LookupVindex;
  assert.deepEqual((await w.map(cursor(), ['x'])).map(dest), ['-']);
  assert.deepEqual(await w.verify(cursor(), ['x'], [fromHex('01')]), [true]);
  const n = createVindex('lookup', 'n', { table: 't', from: 'name', to: 'keyspace_id', ignore_nulls: 'true' }) as LookupVindex;
  assert.deepEqual((await n.map(cursor(), [null])).map(dest), ['-']);

  // Plain lookups write in the session's transaction; NULLs need ignore_nulls.
  calls.length = 0;
  answer = () => [];
  await u.create(cursor(), [['x'], ['y']], [fromHex('01'), fromHex('02')], { ignore: false });
  assert.deepEqual(calls.map((c) => [c.sql, c.order]), [['insert into `t`(`name`, `keyspace_id`) values (:name_0, :keyspace_id_0), (:name_1, :keyspace_id_1)', 'normal']]);
  await assert.rejects(() => u.create(cursor(), [[null]], [fromHex('01')], { ignore: false }), (e: unknown) => e instanceof TesseraError && e.errno === 1048 && /Column 'name' cannot be null/.test(e.message));
  calls.length = 0;
  await n.create(cursor(), [[null]], [fromHex('01')], { ignore: false });
  assert.equal(calls.length, 0);
  // autocommit: its own transaction; a non-unique one upserts, deletes are skipped.
  const a = createVindex('lookup', 'a', { table: 't', from: 'name', to: 'keyspace_id', autocommit: 'true' }) as LookupVindex;
  await a.create(cursor(), [['x']], [fromHex('01')], { ignore: false });
  assert.equal(calls[0].order, 'autocommit');
  assert.match(calls[0].sql, /on duplicate key update `name` = values\(`name`\), `keyspace_id` = values\(`keyspace_id`\)$/);
  calls.length = 0;
  await a.delete(cursor(), [['x']], fromHex('01'));
  assert.equal(calls.length, 0);

  // Consistent lookups: created in the pre transaction, deleted in the post one.
  const owner = { keyspace: 'customer', table: 'corder', columns: ['order_id'] };
  const c = createVindex('consistent_lookup_unique', 'corder_order_id', { table: 'lookup.corder_lookup', from: 'order_id', to: 'keyspace_id' }) as LookupVindex;
  await c.create(cursor(), [[5n]], [fromHex('05')], { ignore: false, owner });
  assert.deepEqual(calls.map((x) => x.order), ['pre']);
  calls.length = 0;
  await c.delete(cursor(), [[5n]], fromHex('05'));
  assert.deepEqual(calls.map((x) => [x.sql, x.order]), [['delete from `lookup`.`corder_lookup` where `order_id` = :order_id and `keyspace_id` = :keyspace_id', 'post']]);
  // The value has a lookup row whose owner row exists: MariaDB's 1062 naming the value.
  const dup = (): never => {
    throw new TesseraError({ errno: 1062, sqlState: '23000' }, "Duplicate entry '5' for key 'PRIMARY'");
  };
  calls.length = 0;
  answer = (x) => (x.sql.startsWith('insert') ? dup() : x.sql.startsWith('select `keyspace_id`') ? [[fromHex('09')]] : x.order === 'owner' ? [[5n]] : []);
  await assert.rejects(
    () => c.create(cursor(), [[5n]], [fromHex('05')], { ignore: false, owner }),
    (e: unknown) => e instanceof TesseraError && e.errno === 1062 && e.sqlState === '23000' && e.message === "Duplicate entry '5' for key 'corder_order_id'",
  );
  assert.deepEqual(calls.map((x) => [x.sql, x.order]), [
    ['insert into `lookup`.`corder_lookup`(`order_id`, `keyspace_id`) values (:order_id_0, :keyspace_id_0)', 'pre'],
    ['select `keyspace_id` from `lookup`.`corder_lookup` where `order_id` = :order_id for update', 'pre'],
    ['customer@09: select `order_id` from `corder` where `order_id` = :order_id lock in share mode', 'owner'],
  ]);
  // An orphan (no owner row at its keyspace id) is taken over.
  calls.length = 0;
  answer = (x) => (x.sql.startsWith('insert') ? dup() : x.sql.startsWith('select `keyspace_id`') ? [[fromHex('09')]] : []);
  await c.create(cursor(), [[5n]], [fromHex('05')], { ignore: false, owner });
  assert.deepEqual(calls.at(-1), { sql: 'update `lookup`.`corder_lookup` set `keyspace_id` = :keyspace_id where `order_id` = :order_id', bind: { order_id: 5n, keyspace_id: fromHex('05') }, order: 'pre' });
  // Updates of equal values leave a consistent lookup alone.
  calls.length = 0;
  await c.update(cursor(), [5n], fromHex('05'), [5n], { owner, same: true });
  assert.equal(calls.length, 0);
  answer = () => [];
  await c.update(cursor(), [5n], fromHex('05'), [6n], { owner, same: false });
  assert.deepEqual(calls.map((x) => x.order), ['post', 'pre']);
});
