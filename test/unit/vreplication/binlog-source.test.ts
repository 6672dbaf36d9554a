// _vt.vreplication.source in Vitess's protobuf text form: the exact text Vitess writes, read back,
// the older angle-bracket form, escapes, and a round trip over generated sources.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatBinlogSource, parseBinlogSource, type BinlogSource } from '../../../src/vreplication/index.js';

const keyRange: BinlogSource = { keyspace: 'customer', shard: '0', filter: { rules: [{ match: '/.*', filter: '-80' }] }, onDdl: 'IGNORE' };

test('the text Vitess stores, byte for byte', () => {
  assert.equal(formatBinlogSource(keyRange), 'keyspace:"customer" shard:"0" filter:{rules:{match:"/.*" filter:"-80"}}');
  // From Vitess's MoveTables tests: two rules, backquoted table names in the select.
  const two: BinlogSource = {
    keyspace: 'customer',
    shard: '0',
    filter: { rules: [{ match: 'customer', filter: 'select * from `customer`' }, { match: 'corder', filter: 'select * from `corder`' }] },
    onDdl: 'IGNORE',
  };
  const text = 'keyspace:"customer" shard:"0" filter:{rules:{match:"customer" filter:"select * from `customer`"} rules:{match:"corder" filter:"select * from `corder`"}}';
  assert.equal(formatBinlogSource(two), text);
  assert.deepEqual(parseBinlogSource(text), two);
  // Empty strings are proto3 defaults and left out, as on_ddl IGNORE is.
  assert.equal(formatBinlogSource({ keyspace: 'source', shard: '-80', filter: { rules: [{ match: 't1', filter: '' }, { match: 't2', filter: '' }] }, onDdl: 'IGNORE' }),
    'keyspace:"source" shard:"-80" filter:{rules:{match:"t1"} rules:{match:"t2"}}');
  // Fields in field-number order: tablet_type (3) before filter (6), then on_ddl (7), stop_after_copy (9), time zones (11, 12).
  const all: BinlogSource = {
    keyspace: 'ks', shard: '-80', tabletType: 'replica', filter: { rules: [{ match: 't', filter: 'select * from t' }] }, onDdl: 'EXEC_IGNORE',
    stopAfterCopy: true, sourceTimeZone: 'US/Pacific', targetTimeZone: 'UTC',
  };
  const allText = 'keyspace:"ks" shard:"-80" tablet_type:REPLICA filter:{rules:{match:"t" filter:"select * from t"}} on_ddl:EXEC_IGNORE stop_after_copy:true source_time_zone:"US/Pacific" target_time_zone:"UTC"';
  assert.equal(formatBinlogSource(all), allText);
  assert.deepEqual(parseBinlogSource(allText), all);
  assert.equal(formatBinlogSource({ keyspace: 'ks', shard: '0', filter: { rules: [] }, onDdl: 'STOP' }), 'keyspace:"ks" shard:"0" filter:{} on_ddl:STOP');
});

test('quotes, backslashes and control characters in a select filter escape as Go escapes them', () => {
  const s: BinlogSource = {
    keyspace: 'ks',
    shard: '0',
    filter: { rules: [{ match: 't', filter: 'select * from t where a = "x\\y" and b = \'\n\t\r\u0001\u007f\u0085é😀\'' }] },
    onDdl: 'IGNORE',
  };
  const text = formatBinlogSource(s);
  assert.equal(text, 'keyspace:"ks" shard:"0" filter:{rules:{match:"t" filter:"select * from t where a = \\"x\\\\y\\" and b = \'\\n\\t\\r\\x01\\x7f\\u0085é😀\'"}}');
  assert.deepEqual(parseBinlogSource(text), s);
});

test('older and looser forms read the same', () => {
  const want: BinlogSource = { keyspace: 'customer', shard: '-80', filter: { rules: [{ match: 'customer', filter: "select * from customer where in_keyrange('-80')" }] }, onDdl: 'EXEC' };
  for (const text of [
    `keyspace:"customer" shard:"-80" filter:<rules:<match:"customer" filter:"select * from customer where in_keyrange('-80')" > > on_ddl:EXEC `,
    `keyspace:"customer",shard:"-80",filter:{rules:{match:"customer" filter:"select * from customer where in_keyrange(\\'-80\\')"}},on_ddl:2`,
    `# a comment\n keyspace: 'customer'  shard :"-" "80"\n filter { rules: [ { match: "cust" "omer", filter: "select * from customer where in_keyrange(\\047-80\\x27)" } ] } ; on_ddl: EXEC`,
  ]) {
    assert.deepEqual(parseBinlogSource(text), want, text);
  }
  assert.deepEqual(parseBinlogSource('keyspace:"a" shard:"0" tablet_type:MASTER filter:{rules:{match:"\\u00e9\\U0001F600\\303\\251"}} stop_after_copy:false'), {
    keyspace: 'a', shard: '0', tabletType: 'primary', filter: { rules: [{ match: 'é😀é', filter: '' }] }, onDdl: 'IGNORE',
  });
});

test('refusals name what is wrong', () => {
  assert.throws(() => parseBinlogSource('keyspace:"a" key_range:{end:"\\x80"}'), /key_range is not supported by Tessera/);
  assert.throws(() => parseBinlogSource('keyspace:"a" colour:"red"'), /unknown field colour/);
  assert.throws(() => parseBinlogSource('keyspace:"a" keyspace:"b"'), /keyspace is given twice/);
  assert.throws(() => parseBinlogSource('keyspace:"a'), /unterminated string/);
  assert.throws(() => parseBinlogSource('keyspace:"a" filter:{rules:{match:"t"}'), /missing '}'/);
  assert.throws(() => parseBinlogSource('keyspace:"a" on_ddl:SOMETIMES'), /on_ddl SOMETIMES is not one of IGNORE, STOP, EXEC, EXEC_IGNORE/);
  assert.throws(() => parseBinlogSource('keyspace:a'), /keyspace must be a quoted string/);
  assert.throws(() => formatBinlogSource({ ...keyRange, tabletType: 'leader' }), /invalid tablet type 'leader'/);
});

test('any source round-trips through its text', () => {
  const str = fc.string({ unit: 'binary', maxLength: 40 }).map((s) => Buffer.from(s, 'utf8').toString('utf8'));
  const source = fc.record({
    keyspace: str,
    shard: str,
    filter: fc.record({ rules: fc.array(fc.record({ match: str, filter: str }, { noNullPrototype: true }), { maxLength: 4 }) }, { noNullPrototype: true }),
    onDdl: fc.constantFrom('IGNORE', 'STOP', 'EXEC', 'EXEC_IGNORE' as const),
    tabletType: fc.option(fc.constantFrom('primary', 'replica', 'rdonly'), { nil: undefined }),
    stopAfterCopy: fc.option(fc.constant(true), { nil: undefined }),
    sourceTimeZone: fc.option(str.filter((s) => s !== ''), { nil: undefined }),
  }, { requiredKeys: ['keyspace', 'shard', 'filter', 'onDdl'], noNullPrototype: true });
  fc.assert(
    fc.property(source, (s) => {
      const text = formatBinlogSource(s as BinlogSource);
      assert.ok(!text.includes('\n'), 'one line');
      const back = parseBinlogSource(text);
      const want = Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined));
      assert.deepEqual(back, want);
      assert.equal(formatBinlogSource(back), text);
    }),
    { numRuns: 500 },
  );
});
