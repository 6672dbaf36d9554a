// The target-side renaming of a stream's rules: select rules are sent to the source under their
// FROM table, copy requests name it, and events come back under the target table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renameDdl, renamingVStreamer, sourcePlan } from '../../../src/vreplication/source-filter.js';
import type { StreamEvent } from '../../../src/vreplication/row-streamer.js';
import type { RowsBatch, VStreamer, VStreamRequest, VStreamRowsRequest } from '../../../src/vreplication/vstreamer.js';
import { TesseraError } from '../../../src/mysql/errors.js';

const FILTER = {
  rules: [
    { match: 'customer_copy', filter: 'select customer_id, email from customer' },
    { match: 'corder', filter: 'select * from corder where in_keyrange(customer_id, \'hash\', \'-80\')' },
    { match: '/.*', filter: '-80' },
  ],
};

test('select rules match their source table on the source; other rules pass unchanged', () => {
  const p = sourcePlan(FILTER);
  assert.deepEqual(p.filter.rules, [
    { match: 'customer', filter: 'select customer_id, email from customer' },
    { match: 'corder', filter: "select * from corder where in_keyrange(customer_id, 'hash', '-80')" },
    { match: '/.*', filter: '-80' },
  ]);
  assert.equal(p.sourceOf.get('customer_copy'), 'customer');
  assert.equal(p.targetOf.get('customer'), 'customer_copy');
});

test('one source table into two target tables is refused, naming both', () => {
  assert.throws(
    () => sourcePlan({ rules: [{ match: 'a', filter: 'select * from t' }, { match: 'b', filter: 'select id from t' }] }),
    (e: TesseraError) => e.errno === 1210 && e.kind === 'PERMANENT' && /source table t fills both a and b/.test(e.message),
  );
});

test('requests are renamed to the source, events back to the target', async () => {
  const seen: { rows?: VStreamRowsRequest; stream?: VStreamRequest } = {};
  const fake: VStreamer = {
    async vstream(req, onEvents) {
      seen.stream = req;
      const events: StreamEvent[] = [
        { type: 'field', database: 'vt_commerce', table: 'customer', fields: [], primaryKey: ['customer_id'] },
        { type: 'row', database: 'vt_commerce', table: 'customer', changes: [] },
        { type: 'row', database: 'vt_commerce', table: 'product', changes: [] },
      ];
      await onEvents(events);
    },
    async vstreamRows(req, onBatch) {
      seen.rows = req;
      await onBatch({ kind: 'rows', rows: [], lastPk: [], done: true } as RowsBatch);
    },
  };
  const vs = renamingVStreamer(fake, FILTER);
  const got: StreamEvent[] = [];
  await vs.vstream({ position: 'current', filter: FILTER }, async (evs) => void got.push(...evs), new AbortController().signal);
  assert.deepEqual(seen.stream?.filter, sourcePlan(FILTER).filter);
  assert.deepEqual(got.map((e) => ('table' in e ? e.table : '')), ['customer_copy', 'customer_copy', 'product']);
  await vs.vstreamRows({ table: 'customer_copy', filter: FILTER, lastPk: null }, async () => undefined, new AbortController().signal);
  assert.equal(seen.rows?.table, 'customer');
  // Without renaming rules, the streamer is used as it is.
  assert.equal(renamingVStreamer(fake, { rules: [{ match: 't', filter: '' }] }), fake);
});

test('a source DDL names the target table when it runs on the target (on_ddl EXEC)', () => {
  const t = new Map([['customer', 'customer_copy']]);
  assert.equal(renameDdl('ALTER TABLE customer ADD COLUMN x INT', t), 'ALTER TABLE `customer_copy` ADD COLUMN x INT');
  assert.equal(renameDdl('alter table `vt_commerce`.`customer` add key (x)', t), 'alter table `customer_copy` add key (x)');
  assert.equal(renameDdl('DROP TABLE IF EXISTS customer', t), 'DROP TABLE IF EXISTS `customer_copy`');
  assert.equal(renameDdl('TRUNCATE TABLE customer;', t), 'TRUNCATE TABLE `customer_copy`;');
  assert.equal(renameDdl('CREATE TABLE customer(id int)', t), 'CREATE TABLE `customer_copy`(id int)');
  // Other tables, and the name as a prefix of another, are left alone.
  assert.equal(renameDdl('ALTER TABLE customers ADD COLUMN customer INT', t), 'ALTER TABLE customers ADD COLUMN customer INT');
  assert.equal(renameDdl('ALTER TABLE corder ADD FOREIGN KEY (c) REFERENCES customer (id)', t), 'ALTER TABLE corder ADD FOREIGN KEY (c) REFERENCES customer (id)');
});
