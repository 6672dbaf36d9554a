import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildClusterVSchema,
  instantiateVindexes,
  parseKeyspaceRoutingRules,
  parseKeyspaceVSchema,
  parseRoutingRules,
  parseShardRoutingRules,
  routingRulesToJSON,
  shardRoutingRulesToJSON,
  validateClusterVSchema,
  vschemaToJSON,
  type KeyspaceVSchema,
} from '../../../src/vschema/index.js';
import { TesseraError } from '../../../src/mysql/errors.js';

// Vitess's local tutorial (examples/local), as the seeds use it (hash).
const COMMERCE_INITIAL = { tables: { product: {}, customer: {}, corder: {} } };
const COMMERCE_SEQ = { tables: { customer_seq: { type: 'sequence' }, order_seq: { type: 'sequence' }, product: {} } };
const CUSTOMER_SHARDED = {
  sharded: true,
  vindexes: { hash: { type: 'hash' } },
  tables: {
    customer: {
      column_vindexes: [{ column: 'customer_id', name: 'hash' }],
      auto_increment: { column: 'customer_id', sequence: 'customer_seq' },
    },
    corder: {
      column_vindexes: [{ column: 'customer_id', name: 'hash' }],
      auto_increment: { column: 'order_id', sequence: 'order_seq' },
    },
  },
};

test('the tutorial VSchemas parse and write back unchanged', () => {
  const commerce = parseKeyspaceVSchema('commerce', COMMERCE_INITIAL);
  assert.equal(commerce.sharded, false);
  assert.deepEqual(Object.keys(commerce.tables), ['product', 'customer', 'corder']);
  assert.deepEqual(vschemaToJSON(commerce), COMMERCE_INITIAL);

  const seq = parseKeyspaceVSchema('commerce', JSON.stringify(COMMERCE_SEQ));
  assert.equal(seq.tables.customer_seq.type, 'sequence');
  assert.deepEqual(vschemaToJSON(seq), COMMERCE_SEQ);

  const customer = parseKeyspaceVSchema('customer', CUSTOMER_SHARDED);
  assert.equal(customer.sharded, true);
  assert.deepEqual(customer.tables.customer.columnVindexes, [{ columns: ['customer_id'], name: 'hash' }]);
  assert.deepEqual(customer.tables.corder.autoIncrement, { column: 'order_id', sequence: 'order_seq' });
  assert.deepEqual(vschemaToJSON(customer), CUSTOMER_SHARDED);
  assert.deepEqual(customer.warnings, []);

  const xx = JSON.parse(JSON.stringify(CUSTOMER_SHARDED).replaceAll('hash', 'xxhash'));
  assert.deepEqual(vschemaToJSON(parseKeyspaceVSchema('customer', xx)), xx);

  const cluster = buildClusterVSchema({ keyspaces: { commerce: seq, customer } });
  assert.deepEqual(cluster.findTable(undefined, 'customer'), { keyspace: 'customer', table: 'customer', vschema: customer.tables.customer });
  assert.equal(cluster.findTable(undefined, 'product')?.keyspace, 'commerce');
  assert.equal(cluster.findTable('commerce', 'anything')?.keyspace, 'commerce');
  assert.equal(cluster.findTable('customer', 'nope'), undefined);
  const hash = cluster.vindexes.get('customer')?.get('hash');
  assert.ok(hash && hash.kind === 'functional');
  assert.equal(Buffer.from(hash.keyspaceId(4n) as Uint8Array).toString('hex'), 'd2fd8867d50d2dfe');
});

test('camelCase (protojson) input is accepted; every field round-trips', () => {
  const input = {
    sharded: true,
    requireExplicitRouting: true,
    foreignKeyMode: 'managed',
    vindexes: {
      hash: { type: 'hash' },
      name_idx: { type: 'consistent_lookup', params: { table: 'lookup.name_idx', from: 'name,id', to: 'keyspace_id' }, owner: 'user' },
      region: { type: 'region_experimental', params: { region_bytes: '1' } },
    },
    tables: {
      user: {
        columnVindexes: [{ column: 'id', name: 'hash' }, { columns: ['name', 'id'], name: 'name_idx' }],
        columns: [{ name: 'id', type: 'INT64' }, { name: 'name', type: 'VARCHAR', invisible: true }],
        columnListAuthoritative: true,
      },
      geo: { column_vindexes: [{ columns: ['region', 'id'], name: 'region' }] },
      cfg: { pinned: '80' },
      country: { type: 'reference', source: 'main.country' },
    },
  };
  const v = parseKeyspaceVSchema('user', input);
  assert.equal(v.requireExplicitRouting, true);
  assert.equal(v.foreignKeyMode, 'managed');
  assert.deepEqual(vschemaToJSON(v), {
    sharded: true,
    vindexes: {
      hash: { type: 'hash' },
      name_idx: { type: 'consistent_lookup', params: { table: 'lookup.name_idx', from: 'name,id', to: 'keyspace_id' }, owner: 'user' },
      region: { type: 'region_experimental', params: { region_bytes: '1' } },
    },
    tables: {
      user: {
        column_vindexes: [{ column: 'id', name: 'hash' }, { columns: ['name', 'id'], name: 'name_idx' }],
        columns: [{ name: 'id', type: 'INT64' }, { name: 'name', type: 'VARCHAR', invisible: true }],
        column_list_authoritative: true,
      },
      geo: { column_vindexes: [{ columns: ['region', 'id'], name: 'region' }] },
      cfg: { pinned: '80' },
      country: { type: 'reference', source: 'main.country' },
    },
    require_explicit_routing: true,
    foreign_key_mode: 'managed',
  });
  assert.deepEqual([...instantiateVindexes(v).keys()], ['hash', 'name_idx', 'region']);
  const w = parseKeyspaceVSchema('k', { sharded: true, vindexes: { h: { type: 'hash', params: { Table: 't' } } }, tables: { t: { column_vindexes: [{ column: 'id', name: 'h' }] } } });
  assert.deepEqual(w.warnings, ['keyspace k vindex h: unknown params Table']);
});

function rejects(ks: string, json: unknown, re: RegExp): void {
  assert.throws(
    () => parseKeyspaceVSchema(ks, json),
    (e: unknown) => e instanceof TesseraError && e.errno === 1210 && re.test(e.message),
    `${JSON.stringify(json)} should fail with ${re}`,
  );
}

const sharded = (tables: unknown, vindexes: unknown = { hash: { type: 'hash' } }): unknown => ({ sharded: true, vindexes, tables });

test('each bad keyspace VSchema yields a clear error', () => {
  const cases: [unknown, RegExp][] = [
    ['{not json', /keyspace ks: VSchema is not valid JSON/],
    [[], /keyspace ks: want a JSON object, got an array/],
    [{ shardedd: true }, /keyspace ks: unknown field 'shardedd'/],
    [{ sharded: 'yes' }, /keyspace ks sharded: want true or false/],
    [sharded({}, { h: { type: 'hashh' } }), /keyspace ks vindex h: unknown vindex type 'hashh'/],
    [sharded({}, { h: {} }), /keyspace ks vindex h: missing type/],
    [sharded({}, { h: { type: 'hash', params: { a: 1 } } }), /keyspace ks vindex h: param a must be a string/],
    [sharded({}, { l: { type: 'lookup_unique', params: { from: 'a', to: 'b' } } }), /keyspace ks vindex l: lookup_unique needs param table/],
    [sharded({}, { l: { type: 'lookup', params: { table: 't', from: 'a', to: 'b' }, owner: 'ghost' } }), /keyspace ks vindex l: owner table ghost is not in the keyspace's tables/],
    [sharded({ t: {} }), /keyspace ks table t: a table in a sharded keyspace needs a primary vindex/],
    [sharded({ t: { column_vindexes: [{ column: 'id', name: 'nope' }] } }), /keyspace ks table t: vindex nope is not defined in the keyspace's vindexes \(defined: hash\)/],
    [
      sharded({ t: { column_vindexes: [{ column: 'id', name: 'l' }] } }, { l: { type: 'lookup', params: { table: 'x', from: 'id', to: 'k' } } }),
      /keyspace ks table t: primary vindex l \(lookup\) is not unique/,
    ],
    [sharded({ t: { column_vindexes: [{ name: 'hash' }] } }), /keyspace ks table t column_vindexes\[0\]: missing column for vindex hash/],
    [sharded({ t: { column_vindexes: [{ column: 'a', columns: ['b'], name: 'hash' }] } }), /give column or columns, not both/],
    [sharded({ t: { column_vindexes: [{ columns: ['a', 'b'], name: 'hash' }] } }), /keyspace ks table t: vindex hash \(hash\) takes one column, got 2/],
    [sharded({ t: { column_vindexes: [{ column: 'a', name: 'hash' }, { column: 'a', name: 'hash' }] } }), /vindex hash on a is listed twice/],
    [
      sharded({ t: { column_vindexes: [{ column: 'a', name: 'hash' }, { columns: ['r', 'a'], name: 'r' }] } }, { hash: { type: 'hash' }, r: { type: 'region_experimental', params: { region_bytes: '1' } } }),
      /multi-column vindex r can only be the primary/,
    ],
    [sharded({ s: { type: 'sequence' } }), /keyspace ks table s: sequence tables must be in an unsharded keyspace/],
    [{ tables: { t: { column_vindexes: [{ column: 'id', name: 'hash' }] } }, vindexes: { hash: { type: 'hash' } } }, /keyspace ks is unsharded, so its tables cannot have column_vindexes/],
    [{ tables: { t: { type: 'view' } } }, /keyspace ks table t: unknown table type 'view'/],
    [{ tables: { t: { auto_increment: { column: 'id' } } } }, /keyspace ks table t: auto_increment needs both column and sequence/],
    [{ tables: { t: { auto_increment: { column: 'id', sequence: 'a.b.c' } } } }, /sequence 'a.b.c' must be 'table' or 'keyspace.table'/],
    [{ tables: { t: { type: 'reference', source: 'x' } } }, /reference source 'x' must be qualified/],
    [{ tables: { t: { type: 'reference', source: 'ks.t' } } }, /cannot be in the same keyspace/],
    [{ tables: { t: { source: 'a.t' } } }, /source is only for tables of type reference/],
    [{ tables: { t: { pinned: '80' } } }, /pinned is only for sharded keyspaces/],
    [sharded({ t: { pinned: 'zz' } }), /keyspace ks table t pinned keyspace id 'zz' is not hex/],
    [{ tables: { t: { columns: [{ name: 'a' }, { name: 'A' }] } } }, /column A is listed twice/],
    [{ tables: { t: { column_list_authoritative: true } } }, /column_list_authoritative needs the columns listed/],
    [JSON.parse('{"tables": {"__proto__": {}}}'), /'__proto__' is not a valid table name/],
    [{ foreign_key_mode: 'sometimes' }, /foreign_key_mode 'sometimes'/],
  ];
  for (const [json, re] of cases) rejects('ks', json, re);
});

test('routing rules: parse, write back, reject bad input', () => {
  const json = {
    rules: [
      { from_table: 'customer.customer@replica', to_tables: ['customer2.customer'] },
      { from_table: 'customer', to_tables: ['customer.customer'] },
      { from_table: 'customer2.customer', to_tables: ['customer.customer'] },
    ],
  };
  const r = parseRoutingRules(json);
  assert.equal(r.rules[0].tabletType, 'replica');
  assert.deepEqual(r.rules[0].from, { keyspace: 'customer', table: 'customer' });
  assert.deepEqual(r.rules[1].from, { keyspace: undefined, table: 'customer' });
  assert.deepEqual(routingRulesToJSON(r), json);
  assert.deepEqual(parseRoutingRules('{}').rules, []);
  assert.deepEqual(parseRoutingRules(undefined).rules, []);
  const bad: [unknown, RegExp][] = [
    [{ rules: [{ from_table: 't', to_tables: ['a.t'] }, { from_table: 't', to_tables: ['b.t'] }] }, /table t is routed twice \(rules\[0\] and rules\[1\]\)/],
    [{ rules: [{ from_table: 't', to_tables: ['a.t', 'b.t'] }] }, /routes t to 2 places/],
    [{ rules: [{ from_table: 't', to_tables: ['t'] }] }, /'t' must be qualified as keyspace.table/],
    [{ rules: [{ from_table: 't@backup', to_tables: ['a.t'] }] }, /tablet type 'backup'/],
    [{ rules: [{ from_table: 't', to_tables: [] }] }, /needs to_tables with one target/],
    [{ rules: [{ from: 't' }] }, /unknown field 'from'/],
    [{ rule: [] }, /unknown field 'rule'/],
  ];
  for (const [j, re] of bad) assert.throws(() => parseRoutingRules(j), re);
});

test('shard routing rules: accept "shards", always write "shard"', () => {
  const seed = { rules: [{ from_keyspace: 'customer', to_keyspace: 'customer2', shards: '-80' }, { from_keyspace: 'customer', to_keyspace: 'customer', shard: '80-' }] };
  assert.throws(() => parseShardRoutingRules(seed), /routes customer\/80- to its own keyspace/);
  const r = parseShardRoutingRules({ rules: [seed.rules[0], { from_keyspace: 'customer2', to_keyspace: 'customer', shard: '80-' }] });
  assert.deepEqual(shardRoutingRulesToJSON(r), {
    rules: [
      { from_keyspace: 'customer', to_keyspace: 'customer2', shard: '-80' },
      { from_keyspace: 'customer2', to_keyspace: 'customer', shard: '80-' },
    ],
  });
  const bad: [unknown, RegExp][] = [
    [{ rules: [{ from_keyspace: 'a', to_keyspace: 'b', shard: '-80' }, { from_keyspace: 'a', to_keyspace: 'c', shard: '-80' }] }, /shard a\/-80 is routed twice/],
    [{ rules: [{ from_keyspace: 'a', to_keyspace: 'b', shard: '-80', shards: '-80' }] }, /both shard and shards/],
    [{ rules: [{ from_keyspace: 'a', to_keyspace: 'b', shard: '80-40' }] }, /start at or after its end/],
    [{ rules: [{ from_keyspace: 'a', to_keyspace: 'b' }] }, /rules\[0\].shard must be a non-empty string/],
  ];
  for (const [j, re] of bad) assert.throws(() => parseShardRoutingRules(j), re);
});

test('cluster view: cross-keyspace checks and routing', () => {
  const commerce = parseKeyspaceVSchema('commerce', COMMERCE_SEQ);
  const customer = parseKeyspaceVSchema('customer', CUSTOMER_SHARDED);
  const customer2 = parseKeyspaceVSchema('customer2', CUSTOMER_SHARDED);
  const ok = { keyspaces: { commerce, customer, customer2 } };
  // The sequence name is in one keyspace: fine. Two keyspaces define customer: an unqualified
  // name is ambiguous, so findTable gives undefined without a rule.
  assert.deepEqual(validateClusterVSchema({ keyspaces: { commerce, customer } }), []);
  const cluster = buildClusterVSchema({
    ...ok,
    routingRules: parseRoutingRules({
      rules: [
        { from_table: 'customer', to_tables: ['customer2.customer'] },
        { from_table: 'customer.customer@replica', to_tables: ['customer2.customer'] },
      ],
    }),
    shardRoutingRules: parseShardRoutingRules({ rules: [{ from_keyspace: 'customer', to_keyspace: 'customer2', shards: '-80' }] }),
  });
  assert.equal(cluster.findTable(undefined, 'corder'), undefined);
  assert.equal(cluster.findTable(undefined, 'customer')?.keyspace, 'customer2');
  assert.equal(cluster.findTable('customer', 'customer', 'replica')?.keyspace, 'customer2');
  assert.equal(cluster.findTable('customer', 'customer', 'primary')?.keyspace, 'customer');
  assert.equal(cluster.keyspaceForShard('customer', '-80'), 'customer2');
  assert.equal(cluster.keyspaceForShard('customer', '80-'), 'customer');

  const problems = (input: Parameters<typeof validateClusterVSchema>[0]): string => validateClusterVSchema(input).join('\n');
  assert.match(problems({ keyspaces: { customer } }), /keyspace customer table customer: auto_increment sequence customer_seq is not a table in any keyspace's VSchema/);
  const seqInSharded = parseKeyspaceVSchema('shardedseq', { sharded: true, tables: { customer_seq: { type: 'sequence', pinned: '00' }, order_seq: { type: 'sequence', pinned: '00' } } });
  assert.equal(problems({ keyspaces: { customer, shardedseq: seqInSharded } }), '');
  const notSeq = parseKeyspaceVSchema('commerce', { tables: { customer_seq: {}, order_seq: { type: 'sequence' } } });
  assert.match(problems({ keyspaces: { customer, commerce: notSeq } }), /sequence commerce.customer_seq is not of type sequence/);
  assert.match(problems({ keyspaces: { customer, commerce, other: commerce } }), /keyspace other: its VSchema was parsed for keyspace commerce/);
  const two: Record<string, KeyspaceVSchema> = { customer, commerce, commerce2: parseKeyspaceVSchema('commerce2', COMMERCE_SEQ) };
  assert.match(problems({ keyspaces: two }), /sequence customer_seq is in keyspaces commerce, commerce2; qualify it/);
  const qualified = parseKeyspaceVSchema('customer', JSON.parse(JSON.stringify(CUSTOMER_SHARDED).replace(/"(customer|order)_seq"/g, '"commerce.$1_seq"')));
  assert.equal(problems({ keyspaces: { ...two, customer: qualified } }), '');
  assert.match(problems({ keyspaces: { customer: qualified } }), /names keyspace commerce, which has no VSchema/);
  const ref = parseKeyspaceVSchema('customer3', { sharded: true, tables: { country: { type: 'reference', source: 'commerce.country' } } });
  assert.match(problems({ keyspaces: { commerce, customer3: ref } }), /reference source commerce.country is not a table of keyspace commerce/);
  assert.match(
    problems({ keyspaces: { commerce }, routingRules: parseRoutingRules({ rules: [{ from_table: 'product', to_tables: ['nowhere.product'] }] }) }),
    /routing rule product: target keyspace nowhere has no VSchema/,
  );
  assert.match(
    problems({ ...ok, routingRules: parseRoutingRules({ rules: [{ from_table: 'x', to_tables: ['customer.nope'] }] }) }),
    /target table nope is not in sharded keyspace customer/,
  );
  assert.match(
    problems({ ...ok, shardRoutingRules: parseShardRoutingRules({ rules: [{ from_keyspace: 'customer', to_keyspace: 'ghost', shard: '-80' }] }) }),
    /shard routing rule customer\/-80: target keyspace ghost has no VSchema/,
  );
  assert.match(
    problems({ ...ok, keyspaceRoutingRules: parseKeyspaceRoutingRules({ rules: [{ from_keyspace: 'a', to_keyspace: 'ghost' }] }) }),
    /keyspace routing rule a: target keyspace ghost has no VSchema/,
  );
  assert.throws(() => buildClusterVSchema({ keyspaces: { customer } }), (e: unknown) => e instanceof TesseraError && /VSchema is not valid: keyspace customer table customer/.test(e.message));
});
