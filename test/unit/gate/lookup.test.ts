// Lookup vindexes in the gate's planner and engine: which routes use them, what INSERT, UPDATE and
// DELETE plans carry for the lookups a table owns, what is refused, and in which transaction
// (commit order) each statement runs, against a cursor that records it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseShardName, keyRangeContains } from '../../../src/key/index.js';
import { columnDefinition, TYPE } from '../../../src/mysql/index.js';
import { normalize, parse } from '../../../src/sql/index.js';
import { planStatement } from '../../../src/gate/index.js';
import type { BindVars, ResolvedShard, Result, VCursor } from '../../../src/gate/types.js';
import type { CommitOrder } from '../../../src/vindexes/index.js';
import { buildClusterVSchema, parseKeyspaceVSchema, type ClusterVSchema } from '../../../src/vschema/index.js';

const CUSTOMER = {
  sharded: true,
  vindexes: {
    hash: { type: 'hash' },
    corder_order_id: { type: 'consistent_lookup_unique', params: { table: 'lookup.corder_lookup', from: 'order_id', to: 'keyspace_id' }, owner: 'corder' },
    corder_sku: { type: 'lookup_unique', params: { table: 'lookup.corder_sku_lookup', from: 'sku', to: 'keyspace_id' }, owner: 'corder' },
    customer_email: { type: 'consistent_lookup', params: { table: 'lookup.email_lookup', from: 'email', to: 'keyspace_id', write_only: 'true' }, owner: 'customer' },
    corder_note: { type: 'lookup', params: { table: 'lookup.note_lookup', from: 'note', to: 'keyspace_id' } },
  },
  tables: {
    customer: { column_vindexes: [{ column: 'customer_id', name: 'hash' }, { column: 'email', name: 'customer_email' }] },
    corder: {
      column_vindexes: [
        { column: 'customer_id', name: 'hash' },
        { column: 'order_id', name: 'corder_order_id' },
        { column: 'sku', name: 'corder_sku' },
        { column: 'note', name: 'corder_note' },
      ],
    },
  },
};
const LOOKUP = { tables: { corder_lookup: {}, corder_sku_lookup: {}, email_lookup: {}, note_lookup: {} } };

function vschema(): ClusterVSchema {
  return buildClusterVSchema({ keyspaces: { customer: parseKeyspaceVSchema('customer', CUSTOMER), lookup: parseKeyspaceVSchema('lookup', LOOKUP) } });
}

type Described = Record<string, unknown> & { Inputs?: Described[] };

function describe(sql: string): Described {
  const stmt = normalize(parse(sql)).statement;
  return JSON.parse(JSON.stringify(planStatement(vschema(), { keyspace: 'customer', shard: null, tabletType: 'primary' }, stmt, sql).primitive.describe())) as Described;
}

function refusal(sql: string): string {
  try {
    describe(sql);
  } catch (err) {
    return (err as Error).message;
  }
  return '(planned)';
}

test('reads route by a lookup vindex on = and IN; write_only lookups and cheaper vindexes win', () => {
  const eq = describe('select price from corder where order_id = 5');
  assert.equal(eq.Variant, 'EqualUnique');
  assert.equal(eq.Vindex, 'corder_order_id');
  assert.equal(eq.LookupQuery, 'select `order_id`, `keyspace_id` from `lookup`.`corder_lookup` where `order_id` in ::order_id');
  const inList = describe('select price from corder where order_id in (5, 6)');
  assert.equal(inList.Variant, 'IN');
  assert.match(String(inList.Query), /order_id IN ::__vals/);
  // A non-unique lookup without an owner routes too (Equal: maybe several shards).
  assert.equal(describe("select 1 from corder where note = 'x'").Variant, 'Equal');
  // The primary vindex costs less than a lookup: it decides when both are given.
  const both = describe('select price from corder where order_id = 5 and customer_id = 1');
  assert.equal(both.Vindex, 'hash');
  // A lookup being back-filled (write_only) is not trusted for routing.
  assert.equal(describe("select customer_id from customer where email = 'a@x'").Variant, 'Scatter');
});

test('INSERT, UPDATE and DELETE plans carry the lookups the table owns', () => {
  const ins = describe("insert into corder(order_id, customer_id, price) values (5, 1, 10)");
  assert.deepEqual(ins.OwnedLookups, ['corder_order_id(order_id)', 'corder_sku(sku)']);
  assert.deepEqual(ins.VerifiedLookups, ['corder_note(note)']);
  // Lookup columns the statement leaves out are inserted as NULL, so lookup and row agree.
  assert.match(String(ins.Query), /^INSERT INTO corder \(order_id, customer_id, price, sku, note\) VALUES \(:\w+, :\w+, :\w+, NULL, NULL\)$/);
  const upd = describe('update corder set order_id = 7 where order_id = 5');
  assert.equal(upd.OperatorType, 'Update');
  assert.equal(upd.Vindex, 'corder_order_id');
  assert.match(String(upd.OwnedVindexQuery), /^SELECT customer_id, order_id FROM corder WHERE order_id = :\w+ FOR UPDATE$/);
  assert.equal((upd.ChangedVindexValues as string[]).length, 1);
  // An UPDATE that changes no owned column is a plain route.
  const price = describe('update corder set price = 3 where order_id = 5');
  assert.equal(price.OwnedVindexQuery, undefined);
  const del = describe('delete from corder where customer_id = 1');
  assert.equal(del.OperatorType, 'Delete');
  assert.deepEqual(del.OwnedLookups, ['corder_order_id', 'corder_sku']);
  assert.match(String(del.OwnedVindexQuery), /^SELECT customer_id, order_id, sku FROM corder WHERE customer_id = :\w+ FOR UPDATE$/);
});

test('what stays refused around lookup vindexes says what to do', () => {
  assert.match(refusal("update corder set note = 'n' where order_id = 5"), /note, which lookup vindex corder_note maps but corder does not own/);
  assert.match(refusal('update corder set order_id = order_id + 1 where customer_id = 1'), /UPDATE of lookup vindex column order_id to the expression order_id \+ :\w+ \(give a value\)/);
  assert.match(refusal('replace into corder(order_id, customer_id) values (1, 1)'), /REPLACE into corder, which owns lookup vindex corder_order_id/);
  assert.match(refusal('insert into corder(order_id, customer_id) values (1, 1) on duplicate key update order_id = 2'), /ON DUPLICATE KEY UPDATE of column order_id, which lookup vindex corder_order_id maps/);
});

/** Records each shard query and each lookup statement with its commit order. */
function recordingCursor(vs: ClusterVSchema, answer: (sql: string) => Result): { vc: VCursor; log: string[] } {
  const log: string[] = [];
  const shards = (ks: string): ResolvedShard[] => (ks === 'lookup' ? [{ keyspace: ks, shard: '0' }] : ['-80', '80-'].map((s) => ({ keyspace: ks, shard: s })));
  const make = (order: CommitOrder): VCursor => {
    const vc: VCursor = {
      vschema: vs,
      tabletType: 'primary',
      rowsMax: 1000,
      inTransaction: true,
      allShards: async (ks) => shards(ks),
      shardForKeyspaceId: async (ks, id) => shards(ks).find((s) => keyRangeContains(parseShardName(s.shard === '0' ? '-' : s.shard), id)),
      shardsForKeyRange: async (ks) => shards(ks),
      targetedShard: (ks, shard) => ({ keyspace: ks, shard }),
      executeMulti: async (qs) => {
        for (const q of qs) log.push(`${order} ${q.rs.keyspace}/${q.rs.shard}: ${q.sql}`);
        return qs.map((q) => answer(q.sql));
      },
      nextSequenceValues: async () => 1n,
      streamMulti: async () => {
        throw new Error('the lookup planning tests never stream');
      },
      executeVindexQuery: async (sql: string, bindVars: BindVars, o: CommitOrder) => {
        const plan = planStatement(vs, { keyspace: null, shard: null, tabletType: 'primary' }, parse(sql), null);
        return plan.primitive.execute(make(o), bindVars);
      },
      statementTransaction: async <T>(run: () => Promise<T>): Promise<T> => {
        log.push('begin statement');
        const r = await run();
        log.push('end statement');
        return r;
      },
    };
    return vc;
  };
  return { vc: make('normal'), log };
}

const OK: Result = { fields: [], rows: null, raw: null, rowsAffected: 1, insertId: 0n, warnings: 0, info: '' };

test('an INSERT writes its consistent lookup rows in the pre transaction, plain ones in its own, before the row', async () => {
  const vs = vschema();
  const { vc, log } = recordingCursor(vs, (sql) => (sql.startsWith('SELECT') ? { ...OK, fields: [columnDefinition({ name: 'note', type: TYPE.VAR_STRING })], rows: [] } : OK));
  const n = normalize(parse("insert into corder(order_id, customer_id, sku, note) values (5, 1, 'k', null)"));
  const p = planStatement(vs, { keyspace: 'customer', shard: null, tabletType: 'primary' }, n.statement, null);
  await p.primitive.execute(vc, n.bindVars);
  assert.deepEqual(log, [
    'begin statement',
    "pre lookup/0: INSERT INTO corder_lookup (order_id, keyspace_id) VALUES (5, X'166b40b44aba4bd6')",
    "normal lookup/0: INSERT INTO corder_sku_lookup (sku, keyspace_id) VALUES ('k', X'166b40b44aba4bd6')",
    "normal customer/-80: INSERT INTO corder (order_id, customer_id, sku, note) VALUES (5, 1, 'k', NULL)",
    'end statement',
  ]);
});

test('a DELETE reads and locks its rows, deletes consistent lookup rows in the post transaction, then the rows', async () => {
  const vs = vschema();
  const fields = ['customer_id', 'order_id', 'sku'].map((name) => columnDefinition({ name, type: name === 'sku' ? TYPE.VAR_STRING : TYPE.LONGLONG, charset: name === 'sku' ? 45 : 63 }));
  const { vc, log } = recordingCursor(vs, (sql) => {
    if (sql.startsWith('SELECT `keyspace_id`') || sql.startsWith('SELECT order_id, keyspace_id')) return OK;
    if (sql.startsWith('SELECT customer_id')) return { ...OK, fields, rows: sql.includes('80-') ? [] : [[Buffer.from('1'), Buffer.from('5'), Buffer.from('k')]] };
    return OK;
  });
  const n = normalize(parse('delete from corder where customer_id = 1'));
  const p = planStatement(vs, { keyspace: 'customer', shard: null, tabletType: 'primary' }, n.statement, null);
  await p.primitive.execute(vc, n.bindVars);
  assert.deepEqual(log, [
    'begin statement',
    'normal customer/-80: SELECT customer_id, order_id, sku FROM corder WHERE customer_id = 1 FOR UPDATE',
    "post lookup/0: DELETE FROM corder_lookup WHERE order_id = 5 AND keyspace_id = X'166b40b44aba4bd6'",
    "normal lookup/0: DELETE FROM corder_sku_lookup WHERE sku = 'k' AND keyspace_id = X'166b40b44aba4bd6'",
    'normal customer/-80: DELETE FROM corder WHERE customer_id = 1',
    'end statement',
  ]);
});
