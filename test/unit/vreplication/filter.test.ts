// The SELECT form of stream filter rules, parsed by src/sql and checked against the shape a
// filter may take.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSelectFilter } from '../../../src/vreplication/index.js';
import { keyspaceIdSource, planColumns, ruleMatches } from '../../../src/vreplication/filter.js';
import { parseKeyspaceVSchema } from '../../../src/vschema/index.js';
import { CHARSET, FIELD_FLAG, TYPE } from '../../../src/mysql/constants.js';
import { decodeTextRow, type ValueColumn } from '../../../src/mysql/values.js';

test('the forms Vitess writes: star, columns with aliases, key ranges with and without a vindex', () => {
  assert.deepEqual(parseSelectFilter('select * from customer'), { columns: '*', table: 'customer', keyRange: undefined });
  assert.deepEqual(parseSelectFilter("select * from customer where in_keyrange('-80')"), {
    columns: '*', table: 'customer', keyRange: { column: undefined, vindexType: undefined, range: '-80' },
  });
  assert.deepEqual(parseSelectFilter("select customer_id, email as mail, `name` n from `customer` where in_keyrange(customer_id, 'hash', '80-');"), {
    columns: [{ name: 'customer_id', as: 'customer_id' }, { name: 'email', as: 'mail' }, { name: 'name', as: 'n' }],
    table: 'customer',
    keyRange: { column: 'customer_id', vindexType: 'hash', range: '80-' },
  });
  assert.deepEqual(parseSelectFilter("SELECT customer.email FROM commerce.customer WHERE IN_KEYRANGE(customer.customer_id, 'xxhash', '-40')"), {
    columns: [{ name: 'email', as: 'email' }], table: 'customer', keyRange: { column: 'customer_id', vindexType: 'xxhash', range: '-40' },
  });
});

test('anything else is 1064 naming the rule and the reason', () => {
  const bad: [string, RegExp][] = [
    ['select * from customer where customer_id > 3', /only in_keyrange\(\.\.\.\) is supported in where/],
    ['select * from customer c', /exactly one table, without an alias/],
    ['select * from customer join corder using (customer_id)', /exactly one table/],
    ['select count(*) from customer', /each selected item must be a column of customer/],
    ['select corder.id from customer', /must be a column of customer/],
    ['select * from customer order by 1', /ORDER BY is not supported/],
    ['select * from customer limit 3', /LIMIT is not supported/],
    ["select * from customer where in_keyrange('-80', '80-')", /in_keyrange takes .* not 2 arguments/],
    ["select * from customer where in_keyrange(customer_id, hash, '-80')", /expected a vindex type as a quoted string/],
    ['delete from customer', /must be one SELECT/],
    ['select * from', /filter 'select \* from': /],
  ];
  for (const [sql, re] of bad) {
    assert.throws(() => parseSelectFilter(sql), (e: Error & { errno?: number }) => {
      assert.equal(e.errno, 1064, sql);
      assert.match(e.message, re, sql);
      assert.ok(e.message.startsWith(`filter '${sql}': `), e.message);
      return true;
    });
  }
});

test("rule matches: a name, or a regular expression after '/' as Vitess writes it", () => {
  assert.equal(ruleMatches('customer', 'customer'), true);
  assert.equal(ruleMatches('customer', 'customers'), false);
  assert.equal(ruleMatches('/.*', 'corder'), true);
  assert.equal(ruleMatches('/.*/', 'corder'), true);
  assert.equal(ruleMatches('/^c', 'corder'), true);
  assert.equal(ruleMatches('/^c', 'product'), false);
  // Unanchored, as Go's regexp.MatchString.
  assert.equal(ruleMatches('/ord', 'corder'), true);
});

test('the bulk key-range predicate (keepMany, the copy phase) keeps exactly the rows keep keeps', () => {
  const vschema = parseKeyspaceVSchema('ks', {
    sharded: true,
    vindexes: { h: { type: 'hash' }, x: { type: 'xxhash' }, m: { type: 'binary_md5' } },
    tables: { th: { column_vindexes: [{ column: 'id', name: 'h' }] }, tx: { column_vindexes: [{ column: 'id', name: 'x' }] }, tm: { column_vindexes: [{ column: 'id', name: 'm' }] } },
  });
  const ids = keyspaceIdSource(vschema);
  // Integers of every form a row may carry, a negative one, NULL, a missing cell, text that is no integer.
  const values: (bigint | number | string | Buffer | null | undefined)[] = [null, undefined, -1n, 0n, 18446744073709551615n, 'abc', Buffer.from('k-1')];
  for (let i = 1; i <= 300; i++) values.push(i % 3 === 0 ? BigInt(i) : i % 3 === 1 ? i : Buffer.from(`key-${i}`));
  for (const table of ['th', 'tx', 'tm']) {
    for (const range of ['-80', '80-', '40-c0', '-']) {
      const plan = planColumns({ rules: [{ match: '/.*', filter: range }] }, table, ['v', 'id'], ids)!;
      const rows = values.map((v) => ['x', v] as never[]);
      const one = rows.map((r) => {
        try {
          return plan.keep!(r) ? 1 : 0;
        } catch {
          return -1;
        }
      });
      assert.ok(!one.includes(-1), `${table} ${range}: keep threw`);
      const many = new Uint8Array(rows.length - 5);
      plan.keepMany!(rows, 5, rows.length, many);
      assert.deepEqual([...many], one.slice(5), `${table} ${range}`);
      assert.ok(one.some((k) => k === 1) && (range === '-' || one.some((k) => k === 0)), `${table} ${range}: both outcomes occur`);
    }
  }
  const all = planColumns({ rules: [{ match: '/.*', filter: '' }] }, 'th', ['v', 'id'], ids)!;
  assert.equal(all.keep, undefined);
  assert.equal(all.keepMany, undefined);
});

/** A text-protocol row (what MariaDB sends for a SELECT) of these cells: bytes, or null for NULL. */
function textRow(cells: readonly (Buffer | null)[]): Buffer {
  const parts: Buffer[] = [];
  for (const c of cells) {
    if (c === null) {
      parts.push(Buffer.from([0xfb]));
      continue;
    }
    const n = c.length;
    const prefix = n < 0xfb ? Buffer.from([n]) : n < 0x10000 ? Buffer.from([0xfc, n & 0xff, n >> 8]) : Buffer.from([0xfd, n & 0xff, (n >> 8) & 0xff, n >> 16]);
    parts.push(prefix, c);
  }
  return Buffer.concat(parts);
}

test('the text-row key-range predicate (keepText) keeps exactly what keepMany keeps of the decoded rows, for every vindex type and key column type', () => {
  const types = ['hash', 'numeric', 'xxhash', 'binary', 'binary_md5', 'unicode_loose_md5', 'unicode_loose_xxhash', 'reverse_bits'];
  const vschema = parseKeyspaceVSchema('ks', {
    sharded: true,
    vindexes: Object.fromEntries(types.map((t) => [t, { type: t }])),
    tables: Object.fromEntries(types.map((t) => [`t_${t}`, { column_vindexes: [{ column: 'id', name: t }] }])),
  });
  const ids = keyspaceIdSource(vschema);
  const col = (type: number, charset: number = CHARSET.BINARY, flags = 0): ValueColumn => ({ type, charset, flags, decimals: 0 });
  // Key column types and the text MariaDB prints for them: signs, zero-fill, the 64-bit edges,
  // 15 and 16 digits (where the digit loop hands over to the decoded value), non-integers.
  const ints = ['0', '1', '7', '42', '-1', '-9223372036854775808', '9223372036854775807', '18446744073709551615', '000042', '999999999999999', '1000000000000000', '123456789012345678'];
  const columns: [string, ValueColumn, string[]][] = [
    ['bigint', col(TYPE.LONGLONG), ints],
    ['bigint unsigned', col(TYPE.LONGLONG, CHARSET.BINARY, FIELD_FLAG.UNSIGNED), ints.filter((s) => !s.startsWith('-'))],
    ['int', col(TYPE.LONG), ['0', '5', '-5', '2147483647', '-2147483648', '0000000017']],
    ['tinyint', col(TYPE.TINY), ['0', '127', '-128']],
    ['year', col(TYPE.YEAR), ['1901', '2155', '0000']],
    ['varchar', col(TYPE.VAR_STRING, CHARSET.UTF8MB4_GENERAL_CI), ['42', 'abc', 'Ünïcödé', 'A  ', ' 42', '-1', '18446744073709551616', '']],
    ['varchar latin1', col(TYPE.VAR_STRING, 8), ['café', 'x', '9']],
    ['varbinary', col(TYPE.VAR_STRING), ['k-1', '\u0000\u00ff', '123', '']],
    ['decimal', col(TYPE.NEWDECIMAL), ['12', '12.50', '-3']],
    ['double', col(TYPE.DOUBLE), ['3', '3.5', '1e20', '-0']],
    ['datetime', col(TYPE.DATETIME), ['2024-02-29 12:34:56']],
  ];
  for (const [what, column, texts] of columns) {
    // The key between other columns, so the cells before it are stepped over (one NULL, one long).
    const cells: (Buffer | null)[][] = [[Buffer.from('a'), null, null]];
    for (let i = 0; i < 300; i++) cells.push([Buffer.alloc(i % 7 === 0 ? 300 : i % 50, 0x61), null, Buffer.from(texts[i % texts.length], column.charset === 8 ? 'latin1' : 'utf8')]);
    cells.push([null, Buffer.alloc(70_000, 0x62), Buffer.from(texts[0])]);
    const rowColumns = [col(TYPE.VAR_STRING, CHARSET.UTF8MB4_GENERAL_CI), col(TYPE.BLOB), column];
    const payloads = cells.map(textRow);
    const decoded = payloads.map((p) => decodeTextRow(p, rowColumns));
    for (const type of types) {
      for (const range of ['-80', '80-', '40-c0', '-']) {
        let plan;
        try {
          plan = planColumns({ rules: [{ match: '/.*', filter: range }] }, `t_${type}`, ['v', 'w', 'id'], ids)!;
        } catch (err) {
          assert.fail(`${type}: ${(err as Error).message}`);
        }
        const many = new Uint8Array(decoded.length);
        let manyError: string | undefined;
        try {
          plan.keepMany!(decoded, 0, decoded.length, many);
        } catch (err) {
          manyError = (err as Error).message;
        }
        const text = new Uint8Array(decoded.length);
        let textError: string | undefined;
        try {
          plan.keepText!(column)(payloads, payloads.length, text);
        } catch (err) {
          textError = (err as Error).message;
        }
        // Text a vindex refuses (invalid UTF-8 for the unicode ones) fails both ways alike.
        assert.equal(textError, manyError, `${type} over ${what}, ${range}`);
        if (manyError === undefined) assert.deepEqual([...text], [...many], `${type} over ${what}, ${range}`);
      }
    }
  }
  const all = planColumns({ rules: [{ match: '/.*', filter: '' }] }, 't_hash', ['v', 'id'], ids)!;
  assert.equal(all.keepText, undefined);
});

test('keepText refuses a row that ends before its key cell', () => {
  const ids = keyspaceIdSource(parseKeyspaceVSchema('ks', { sharded: true, vindexes: { h: { type: 'hash' } }, tables: { t: { column_vindexes: [{ column: 'id', name: 'h' }] } } }));
  const plan = planColumns({ rules: [{ match: 't', filter: '-80' }] }, 't', ['v', 'id'], ids)!;
  const keep = plan.keepText!({ type: TYPE.LONGLONG, charset: CHARSET.BINARY, flags: 0, decimals: 0 });
  assert.throws(() => keep([textRow([Buffer.from('x')])], 1, new Uint8Array(1)), /has no cell 2/);
  assert.throws(() => keep([Buffer.from([5, 0x31])], 1, new Uint8Array(1)), /ends inside cell 1/);
  assert.throws(() => keep([Buffer.from([0xfe, 1, 0, 0])], 1, new Uint8Array(1)), /ends inside the length of cell 1/);
});
