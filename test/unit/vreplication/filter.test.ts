// The SELECT form of stream filter rules, parsed by src/sql and checked against the shape a
// filter may take.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSelectFilter } from '../../../src/vreplication/index.js';
import { ruleMatches } from '../../../src/vreplication/filter.js';

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
