// The SELECT form of stream filter rules, parsed by src/sql and checked against the shape a
// filter may take.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSelectFilter } from '../../../src/vreplication/index.js';
import { keyspaceIdSource, planColumns, ruleMatches } from '../../../src/vreplication/filter.js';
import { parseKeyspaceVSchema } from '../../../src/vschema/index.js';

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
