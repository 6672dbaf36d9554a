// copy_state.lastpk: the stored text of a last copied key gives back exactly the values and their
// JavaScript types — numbers, 64-bit integers past 2^53, any string, any bytes, NULL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { SqlValue } from '../../../src/mysql/values.js';
import { formatLastPk, parseLastPk } from '../../../src/vreplication/index.js';

test('the stored form reads like the resume predicate', () => {
  assert.equal(formatLastPk({ columns: ['id'], values: [42] }), '(id) = (42)');
  assert.equal(
    formatLastPk({ columns: ['tenant', 'order id', 'name', 'raw', 'big', 'n', 'select'], values: [7, "O'Brien\\\n", Buffer.from([0, 255, 16]), 18446744073709551615n, null, -0, 1.5] }),
    "(tenant, `order id`, name, raw, big, n, `select`) = (7, 'O\\'Brien\\\\\\n', x'00ff10', 18446744073709551615n, NULL, -0, 1.5)",
  );
  assert.equal(formatLastPk({ columns: ['a`b'], values: ['\u0001\u0085\ud800x'] }), "(`a``b`) = ('\\x01\\u{0085}\\u{d800}x')");
  assert.deepEqual(parseLastPk("(`a``b`) = ('\\x01\\u{0085}\\u{d800}x')"), { columns: ['a`b'], values: ['\u0001\u0085\ud800x'] });
  assert.deepEqual(parseLastPk(' ( id , k ) = ( -9223372036854775808n , null ) '), { columns: ['id', 'k'], values: [-9223372036854775808n, null] });
});

test('malformed text is refused with where it went wrong', () => {
  assert.throws(() => parseLastPk('(id) = (1, 2)'), /1 columns but 2 values/);
  assert.throws(() => parseLastPk("(id) = ('abc)"), /unterminated string/);
  assert.throws(() => parseLastPk("(id) = (x'abc')"), /pairs of hex digits/);
  assert.throws(() => parseLastPk('(id) = (1) trailing'), /unexpected text/);
  assert.throws(() => parseLastPk('(id) = (1e)'), /is not a number/);
  assert.throws(() => parseLastPk('id = 1'), /expected '\('/);
  assert.throws(() => formatLastPk({ columns: ['b'], values: [Buffer.alloc(9000)] }), /COPY_STATE_LASTPK_BYTES_MAX/);
});

const keyValue: fc.Arbitrary<SqlValue> = fc.oneof(
  fc.constant(null),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  // Lone surrogates and control characters, which plain UTF-8 cannot carry as they are.
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 20 }),
  fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
);

// Names come from MariaDB, so they are well-formed Unicode; anything else goes.
const columnName = fc.string({ unit: 'binary', maxLength: 12 }).map((s) => Buffer.from(s, 'utf8').toString('utf8'));

test('any key round-trips exactly, also through UTF-8 as the column stores it', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(columnName, keyValue), { minLength: 1, maxLength: 6 }),
      (pairs) => {
        const pk = { columns: pairs.map((p) => p[0]), values: pairs.map((p) => p[1]) };
        const text = formatLastPk(pk);
        // The column is VARBINARY and the text goes in as UTF-8: it must survive that unchanged.
        const stored = Buffer.from(text, 'utf8').toString('utf8');
        assert.equal(stored, text);
        const back = parseLastPk(stored);
        assert.deepEqual(back.columns, pk.columns);
        assert.equal(back.values.length, pk.values.length);
        back.values.forEach((v, i) => {
          const want = pk.values[i]!;
          if (Buffer.isBuffer(want)) assert.ok(Buffer.isBuffer(v) && v.equals(want), `value ${i}`);
          else assert.ok(Object.is(v, want), `value ${i}: ${String(v)} (${typeof v}) vs ${String(want)} (${typeof want})`);
        });
      },
    ),
    { numRuns: 2000 },
  );
});
