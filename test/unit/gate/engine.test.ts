// Engine primitives against a fake cursor: routes and merge sort, aggregation across shard
// partials, limits, nested-loop joins binding left values, inserts split by vindex, sequences,
// the plan cache's bounds, values and static auth.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { columnDefinition, TYPE, type ColumnDefinition, type TesseraError } from '../../../src/mysql/index.js';
import { format, normalize, parse, type BindValue } from '../../../src/sql/index.js';
import { parseShardName, keyRangeContains } from '../../../src/key/index.js';
import { Aggregate } from '../../../src/gate/engine/aggregate.js';
import { Insert } from '../../../src/gate/engine/insert.js';
import { Join } from '../../../src/gate/engine/join.js';
import { Limit } from '../../../src/gate/engine/limit.js';
import { Filter } from '../../../src/gate/engine/filter.js';
import { Concatenate } from '../../../src/gate/engine/concatenate.js';
import { Route } from '../../../src/gate/engine/route.js';
import { chunkRows, streamPrimitive } from '../../../src/gate/engine/stream.js';
import { PlanCache } from '../../../src/gate/plan-cache.js';
import { Sequences } from '../../../src/gate/sequences.js';
import { StaticAuth } from '../../../src/gate/auth.js';
import { planStatement } from '../../../src/gate/index.js';
import type { Plan, ResolvedShard, Result, ShardQuery, VCursor } from '../../../src/gate/types.js';
import { addDecimal, cellKey, compareCells, divideDecimal, encodeRow, parseDecimal, decimalText, rowsOf } from '../../../src/gate/values.js';
import { tutorialVSchema } from './fixtures.js';

const INT = columnDefinition({ name: 'n', type: TYPE.LONGLONG, charset: 63 });
const STR = columnDefinition({ name: 's', type: TYPE.VAR_STRING });
const DEC = columnDefinition({ name: 'd', type: TYPE.NEWDECIMAL, charset: 63, decimals: 2 });

function result(fields: ColumnDefinition[], rows: (string | null)[][]): Result {
  return { fields, rows: rows.map((r) => r.map((v) => (v === null ? null : Buffer.from(v)))), raw: null, rowsAffected: 0, insertId: 0n, warnings: 0, info: '' };
}

function text(r: Result): (string | null)[][] {
  return rowsOf(r).map((row) => row.map((c) => (c === null ? null : c.toString())));
}

/**
 * A two-shard keyspace `ks` (-80, 80-) plus `u` (0); answers each shard from `answer`. Streams send
 * two rows per chunk, counted in `streamed`, and stop when cancelled.
 */
function cursor(answer: (q: ShardQuery) => Result, log: ShardQuery[] = [], streamed = { rows: 0 }, workload: VCursor['workload'] = 'OLTP'): VCursor {
  const vschema = tutorialVSchema();
  const shards = (ks: string): ResolvedShard[] => (ks === 'commerce' ? [{ keyspace: ks, shard: '0' }] : ['-80', '80-'].map((s) => ({ keyspace: ks, shard: s })));
  return {
    vschema,
    tabletType: 'primary',
    rowsMax: 1000,
    allShards: async (ks) => shards(ks),
    shardForKeyspaceId: async (ks, id) => shards(ks).find((s) => keyRangeContains(parseShardName(s.shard === '0' ? '-' : s.shard), id)),
    shardsForKeyRange: async (ks) => shards(ks),
    targetedShard: (ks, shard) => ({ keyspace: ks, shard }),
    executeMulti: async (qs) => {
      log.push(...qs);
      return qs.map(answer);
    },
    nextSequenceValues: async (_ks, _t, n) => 1000n + BigInt(n) * 0n,
    workload,
    streamMulti: async (qs, opts, onChunk) => {
      log.push(...qs);
      // As the session's cursor: one shard's failure (or its consumer's) stops the others.
      const own = new AbortController();
      await Promise.all(
        qs.map(async (q, i) => {
          try {
            const r = answer(q);
            const payloads = rowsOf(r).map(encodeRow);
            for (let k = 0; k === 0 || k < payloads.length; k += 2) {
              own.signal.throwIfAborted();
              opts.signal?.throwIfAborted();
              const rows = payloads.slice(k, k + 2);
              streamed.rows += rows.length;
              await onChunk(i, k === 0 ? { fields: r.fields, rows } : { rows });
            }
            opts.onEnd?.(i);
          } catch (err) {
            own.abort(err);
            throw err;
          }
        }),
      );
    },
  };
}

function plan(sql: string, keyspace = 'customer'): { plan: Plan; bindVars: Record<string, BindValue> } {
  const n = normalize(parse(sql));
  return { plan: planStatement(tutorialVSchema(), { keyspace, shard: null, tabletType: 'primary' }, n.statement, sql), bindVars: { ...n.bindVars } };
}

test('values: decimals add, divide and compare exactly; text folds case and trailing spaces', () => {
  const a = parseDecimal('12.50')!;
  const b = parseDecimal('-0.125')!;
  assert.equal(decimalText(addDecimal(a, b)), '12.375');
  assert.equal(decimalText(divideDecimal({ v: 10n, scale: 0 }, 3n, 4)), '3.3333');
  assert.equal(decimalText(divideDecimal({ v: 20n, scale: 0 }, 3n, 4)), '6.6667');
  assert.equal(compareCells(Buffer.from('10'), Buffer.from('9'), INT), 1);
  assert.equal(compareCells(Buffer.from('1.50'), Buffer.from('1.5'), DEC), 0);
  assert.equal(compareCells(Buffer.from('abc'), Buffer.from('ABC '), STR), 0);
  assert.equal(compareCells(null, Buffer.from('a'), STR), -1);
  // utf8mb4_general_ci: accents and case fold, a tab sorts before the padding space.
  assert.equal(compareCells(Buffer.from('Élan'), Buffer.from('elan'), STR), 0);
  assert.equal(compareCells(Buffer.from('a\t'), Buffer.from('a'), STR), -1);
  assert.equal(cellKey(Buffer.from('Alice'), STR), cellKey(Buffer.from('alice  '), STR));
  // The column's own collation (from the tablet) wins over the connection's in charset:
  // utf8mb4_unicode_ci expands ß to ss, utf8mb4_general_ci weighs it as s.
  assert.equal(compareCells(Buffer.from('straße'), Buffer.from('strasse'), { ...STR, collation: 224 }), 0);
  assert.notEqual(compareCells(Buffer.from('straße'), Buffer.from('strasse'), STR), 0);
  // A collation the gate does not implement is refused, not guessed.
  assert.throws(() => compareCells(Buffer.from('a'), Buffer.from('b'), { ...STR, collation: 234 }), /1235|utf8mb4_czech_ci/);
});

test('scatter route merge-sorts shard results on ORDER BY and the gate applies the final LIMIT', async () => {
  const { plan: p, bindVars } = plan('select customer_id, email from customer order by email desc limit 1, 2');
  const log: ShardQuery[] = [];
  const vc = cursor((q) => (q.rs.shard === '-80' ? result([INT, STR], [['1', 'd'], ['2', 'b']]) : result([INT, STR], [['3', 'C'], ['4', 'a']])), log);
  const r = await p.primitive.execute(vc, bindVars);
  assert.deepEqual(text(r), [['3', 'C'], ['2', 'b']]);
  assert.equal(log.length, 2);
  assert.match(log[0].sql, /ORDER BY email DESC LIMIT 3$/);
});

/** A streamed result gathered: fields of the first chunk, every row as text, and how many chunks. */
async function collect(p: Plan['primitive'], vc: VCursor, bindVars: Record<string, BindValue>): Promise<{ fields: string[]; rows: (string | null)[][]; chunks: number }> {
  let fields: string[] | null = null;
  const rows: (string | null)[][] = [];
  let chunks = 0;
  await streamPrimitive(p, vc, bindVars, (c) => {
    if (fields === null) {
      assert.ok(c.fields, 'the first chunk carries the fields');
      fields = c.fields.map((f) => f.name);
    } else assert.equal(c.fields, undefined, 'only the first chunk carries fields');
    chunks++;
    for (const row of chunkRows(c, fields.length)) rows.push(row.map((x) => (x === null ? null : x.toString())));
  });
  return { fields: fields ?? [], rows, chunks };
}

test('streaming: a scatter route merges the shards in order and cuts hidden columns; LIMIT stops the shards', async () => {
  const many = (base: number) => Array.from({ length: 40 }, (_, i) => [String(base + 2 * i), `e${base + 2 * i}`]);
  const answer = (q: ShardQuery) => result([INT, STR], q.rs.shard === '-80' ? many(0) : many(1));
  // ORDER BY on the shards: the ordered merge.
  const { plan: p, bindVars } = plan('select customer_id, email from customer order by customer_id');
  const streamed = { rows: 0 };
  const got = await collect(p.primitive, cursor(answer, [], streamed, 'OLAP'), bindVars);
  assert.deepEqual(got.rows.map((r) => Number(r[0])), Array.from({ length: 80 }, (_, i) => i));
  assert.deepEqual(got.fields, ['n', 's']);
  assert.equal(streamed.rows, 80);
  // The same query executed whole (OLAP reads the shards as streams too) gives the same rows.
  const whole = await p.primitive.execute(cursor(answer, [], { rows: 0 }, 'OLAP'), bindVars);
  assert.deepEqual(text(whole), got.rows);

  // LIMIT: each shard gets LIMIT 5 pushed down; above that the gate stops once it has its rows.
  const limited = plan('select customer_id, email from customer order by customer_id limit 3, 5');
  const s2 = { rows: 0 };
  const log: ShardQuery[] = [];
  const got2 = await collect(limited.plan.primitive, cursor((q) => {
    const all = answer(q);
    return { ...all, rows: all.rows!.slice(0, 8) };
  }, log, s2, 'OLAP'), limited.bindVars);
  assert.deepEqual(got2.rows.map((r) => r[0]), ['3', '4', '5', '6', '7']);
  assert.match(log[0].sql, /LIMIT 8$/);
  // The merge needed 8 rows: the shards were stopped before sending their 16.
  assert.ok(s2.rows < 16, `the shards sent ${s2.rows} rows`);

  // No ORDER BY: chunks pass on as they come, every row once.
  const scatter = plan('select customer_id, email from customer');
  const got3 = await collect(scatter.plan.primitive, cursor(answer, [], { rows: 0 }, 'OLAP'), scatter.bindVars);
  assert.deepEqual(got3.rows.map((r) => Number(r[0])).sort((a, b) => a - b), Array.from({ length: 80 }, (_, i) => i));
  assert.equal(got3.chunks, 40);

  // ORDER BY a computed column: sent as a hidden column, cut before the client sees it.
  const hidden = plan('select email from customer order by customer_id desc');
  const desc = (q: ShardQuery) => result([STR, INT], (q.rs.shard === '-80' ? many(0) : many(1)).reverse().map(([id, email]) => [email, id]));
  const log4: ShardQuery[] = [];
  const got4 = await collect(hidden.plan.primitive, cursor(desc, log4, { rows: 0 }, 'OLAP'), hidden.bindVars);
  assert.match(log4[0].sql, /^select email, customer_id from customer order by customer_id desc$/i);
  assert.equal(got4.fields.length, 1);
  assert.deepEqual(got4.rows.map((r) => r[0]), Array.from({ length: 80 }, (_, i) => `e${79 - i}`));

  // A gate-side filter and UNION ALL stream too: chunks filtered, inputs one after the other.
  const even = new Filter(scatter.plan.primitive, (row) => (BigInt(row[0]!.toString()) % 2n === 0n ? 1n : 0n), { kind: 'Number', text: '1', numType: 'int' });
  const both = new Concatenate([even, limited.plan.primitive]);
  const got5 = await collect(both, cursor(answer, [], { rows: 0 }, 'OLAP'), { ...scatter.bindVars, ...limited.bindVars });
  assert.deepEqual(got5.rows.slice(0, 40).map((r) => Number(r[0])).sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => 2 * i));
  assert.deepEqual(got5.rows.slice(40).map((r) => r[0]), ['3', '4', '5', '6', '7']);
});

test('streaming: a consumer error cancels the shards; an empty result still sends its fields', async () => {
  const { plan: p, bindVars } = plan('select customer_id, email from customer order by customer_id');
  const rows = Array.from({ length: 100 }, (_, i) => [String(i), 'x']);
  const streamed = { rows: 0 };
  const vc = cursor(() => result([INT, STR], rows), [], streamed, 'OLAP');
  let n = 0;
  await assert.rejects(
    streamPrimitive(p.primitive, vc, bindVars, () => {
      if (++n === 3) throw new Error('client went away');
    }),
    /client went away/,
  );
  assert.ok(streamed.rows < 200, `the shards sent ${streamed.rows} rows after the consumer failed`);
  const empty = await collect(p.primitive, cursor(() => result([INT, STR], []), [], { rows: 0 }, 'OLAP'), bindVars);
  assert.deepEqual(empty, { fields: ['n', 's'], rows: [], chunks: 1 });
  // Executed whole under OLAP (what a sort or an aggregation above it does): the shards stream
  // without the tablets' limit, and the gate stops them at its own rows-max (1000 here).
  const big = Array.from({ length: 600 }, (_, i) => [String(i), 'x']);
  const s2 = { rows: 0 };
  await assert.rejects(p.primitive.execute(cursor(() => result([INT, STR], big), [], s2, 'OLAP'), bindVars), (e: TesseraError) => e.errno === 1172 && /rows-max \(1000\)/.test(e.message));
  assert.ok(s2.rows <= 1004, `the shards sent ${s2.rows} rows`);
});

test('IN routes send each shard only its values', async () => {
  const { plan: p, bindVars } = plan('select * from customer where customer_id in (1, 2, 3, 4, 5)');
  const log: ShardQuery[] = [];
  await p.primitive.execute(cursor(() => result([INT], []), log), bindVars);
  const byShard = Object.fromEntries(log.map((q) => [q.rs.shard, q.sql]));
  assert.match(byShard['-80'], /customer_id IN \(1, 2, 3, 5\)/);
  assert.match(byShard['80-'], /customer_id IN \(4\)/);
});

test('aggregates across shards: count, sum, min, max, avg from sum and count, count(distinct)', async () => {
  const { plan: p, bindVars } = plan('select count(*), sum(price), min(price), max(price), avg(price), count(distinct sku) from corder');
  const sumF = columnDefinition({ name: 'sum', type: TYPE.NEWDECIMAL, charset: 63, decimals: 0 });
  const vc = cursor((q) => {
    assert.match(q.sql, /GROUP BY sku/);
    // count, sum, min, COLLATION(min), max, COLLATION(max), avg's sum and count, the distinct key.
    const f = [INT, sumF, INT, STR, INT, STR, sumF, INT, STR];
    return q.rs.shard === '-80'
      ? result(f, [['2', '130', '30', 'binary', '100', 'binary', '130', '2', 'SKU-1'], ['1', '30', '30', 'binary', '30', 'binary', '30', '1', 'SKU-2']])
      : result(f, [['2', '60', '30', 'binary', '30', 'binary', '60', '2', 'sku-2']]);
  });
  const r = await p.primitive.execute(vc, bindVars);
  assert.deepEqual(text(r), [['5', '220', '30', '100', '44.0000', '2']]);
  assert.equal(r.fields[4].type, TYPE.NEWDECIMAL);
});

test('partial MIN/MAX of text compare under the collation the shards name, and refuse one the gate lacks', async () => {
  const agg = (collation: string) =>
    new Aggregate(new Route({ opcode: 'Scatter', keyspace: 'customer', sharded: true, query: parse('select 1 from customer') }), {
      mode: 'partial', roles: [{ kind: 'max' }, { kind: 'hidden' }], groupKeys: [], grouped: false, collationHints: [[0, 1]],
    }).execute(cursor((q) => result([STR, STR], [[q.rs.shard === '-80' ? 'Øre' : 'zoe', collation]])), {});
  // utf8mb4_unicode_ci puts Ø with O, before z; the connection's utf8mb4_general_ci after z.
  assert.deepEqual(text(await agg('utf8mb4_unicode_ci')), [['zoe']]);
  assert.deepEqual(text(await agg('utf8mb4_general_ci')), [['Øre']]);
  await assert.rejects(agg('utf8mb4_czech_ci'), (e: Error & { errno?: number }) => e.errno === 1235 && /utf8mb4_czech_ci/.test(e.message));
});

test('a scalar aggregate over no rows still returns one row', async () => {
  const agg = new Aggregate(new Route({ opcode: 'Scatter', keyspace: 'customer', sharded: true, query: parse('select 1 from customer') }), {
    mode: 'raw', roles: [{ kind: 'countStar' }], groupKeys: [], grouped: false,
  });
  const r = await agg.execute(cursor(() => result([INT], [])), {});
  assert.deepEqual(text(r), [['0']]);
});

test('limit with offset and a bind variable count', async () => {
  const src = new Route({ opcode: 'Unsharded', keyspace: 'commerce', sharded: false, query: parse('select 1') });
  const lim = new Limit(src, { kind: 'BindVar', name: 'n', list: false }, { kind: 'Number', text: '1', numType: 'int' });
  const r = await lim.execute(cursor(() => result([INT], [['1'], ['2'], ['3'], ['4']])), { n: { kind: 'Number', text: '2', numType: 'int' } });
  assert.deepEqual(text(r), [['2'], ['3']]);
});

test('nested-loop join binds each left row into the right query; LEFT JOIN keeps unmatched rows', async () => {
  const { plan: p, bindVars } = plan('select o.order_id, p.description from corder o left join commerce.product p on p.sku = o.sku');
  const log: ShardQuery[] = [];
  const vc = cursor((q) => {
    if (q.rs.keyspace === 'commerce') return q.sql.includes("'SKU-1'") ? result([STR], [['Monitor']]) : result([STR], []);
    return q.rs.shard === '-80' ? result([STR, INT], [['SKU-1', '1']]) : result([STR, INT], [['SKU-9', '2']]);
  }, log);
  const r = await p.primitive.execute(vc, bindVars);
  assert.deepEqual(text(r).sort(), [['1', 'Monitor'], ['2', null]]);
  assert.ok(log.some((q) => /WHERE p.sku = 'SKU-9'/.test(q.sql)));
  assert.ok(p.primitive instanceof Join || p.primitive.inputs()[0] instanceof Join);
  // Streamed (OLAP): the same rows, the left side read as a stream.
  const streamed = { rows: 0 };
  const got = await collect(p.primitive, cursor((q) => {
    if (q.rs.keyspace === 'commerce') return q.sql.includes("'SKU-1'") ? result([STR], [['Monitor']]) : result([STR], []);
    return q.rs.shard === '-80' ? result([STR, INT], [['SKU-1', '1']]) : result([STR, INT], [['SKU-9', '2']]);
  }, [], streamed, 'OLAP'), bindVars);
  assert.deepEqual(got.rows.sort(), [['1', 'Monitor'], ['2', null]]);
  assert.equal(got.fields.length, 2);
  assert.equal(streamed.rows, 3);
});

test('insert splits rows by the hash vindex and fills the sequence column', async () => {
  const { plan: p, bindVars } = plan("insert into customer(customer_id, email) values (1, 'a'), (4, 'd'), (5, 'e')");
  assert.ok(p.primitive instanceof Insert);
  const log: ShardQuery[] = [];
  await p.primitive.execute(cursor(() => ({ ...result([], []), rows: null, rowsAffected: 1 }), log), bindVars);
  const byShard = Object.fromEntries(log.map((q) => [q.rs.shard, q.sql]));
  assert.equal(byShard['-80'], "INSERT INTO customer (customer_id, email) VALUES (1, 'a'), (5, 'e')");
  assert.equal(byShard['80-'], "INSERT INTO customer (customer_id, email) VALUES (4, 'd')");
  const seq = plan("insert into customer(email) values ('x')");
  const log2: ShardQuery[] = [];
  const r = await seq.plan.primitive.execute(cursor(() => ({ ...result([], []), rows: null, rowsAffected: 1 }), log2), seq.bindVars);
  assert.equal(r.insertId, 1000n);
  assert.match(log2[0].sql, /VALUES \('x', 1000\)/);
});

test('sequences hand out ids from cached blocks and refill in a transaction', async () => {
  const statements: string[] = [];
  let nextId = 1n;
  const seq = new Sequences({
    async inTransaction(_ks, fn) {
      return fn(async (sql) => {
        statements.push(sql);
        if (sql.startsWith('SELECT')) return result([INT, INT], [[String(nextId), '3']]);
        nextId = BigInt(/next_id = (\d+)/.exec(sql)![1]);
        return result([], []);
      });
    },
  });
  const got = [await seq.next('commerce', 's', 1), await seq.next('commerce', 's', 1), await seq.next('commerce', 's', 1), await seq.next('commerce', 's', 2)];
  assert.deepEqual(got, [1n, 2n, 3n, 4n]);
  assert.equal(statements.filter((s) => s.startsWith('UPDATE')).length, 2);
  const parallel = await Promise.all([seq.next('commerce', 's', 1), seq.next('commerce', 's', 1), seq.next('commerce', 's', 1)]);
  assert.equal(new Set(parallel.map(String)).size, 3);
});

test('plan cache: least recently used first out, bounded by entries and bytes, counts hits and misses', () => {
  const mk = (bytes: number): Plan => ({ primitive: new Route({ opcode: 'Unsharded', keyspace: 'commerce', sharded: false, query: parse('select 1') }), write: false, tables: [], bytes });
  const c = new PlanCache({ entriesMax: 2, bytesMax: 10_000 });
  c.set('a', mk(10));
  c.set('b', mk(10));
  assert.ok(c.get('a'));
  c.set('c', mk(10));
  assert.equal(c.get('b'), undefined);
  assert.ok(c.get('a') && c.get('c'));
  assert.equal(c.evictions, 1);
  assert.equal(c.misses, 1);
  const small = new PlanCache({ entriesMax: 100, bytesMax: 100 });
  small.set('x', mk(60));
  small.set('y', mk(60));
  assert.equal(small.size, 1);
  assert.ok(small.bytes <= 100);
});

test('static auth: Vitess file format, native password hashes, keyspace lists', () => {
  const a = StaticAuth.fromJSON({ app: [{ Password: 'pw', UserData: 'app' }], ro: [{ MysqlNativePassword: '*' + 'AB'.repeat(20), Keyspaces: ['commerce'] }] });
  assert.deepEqual(a.credentials('app'), { password: 'pw' });
  assert.equal(a.credentials('ro')?.nativePasswordHash?.length, 20);
  assert.deepEqual([...(a.keyspaces('ro') ?? [])], ['commerce']);
  assert.equal(a.credentials('nobody'), null);
  assert.throws(() => StaticAuth.fromJSON({ bad: [{ MysqlNativePassword: 'xyz' }] }), /40 hex digits/);
  assert.deepEqual(StaticAuth.none().credentials('anyone'), { password: '' });
});

test('shard-targeted and DDL statements', () => {
  const n = normalize(parse('select * from customer where customer_id = 1'));
  const p = planStatement(tutorialVSchema(), { keyspace: 'customer', shard: '80-', tabletType: 'primary' }, n.statement, null);
  assert.equal(p.primitive.describe().Variant, 'ByDestination');
  const ddl = planStatement(tutorialVSchema(), { keyspace: 'customer', shard: null, tabletType: 'primary' }, parse('create table t (id int primary key)'), null);
  assert.equal(ddl.primitive.describe().OperatorType, 'Send');
  assert.equal(format(parse('select 1')), 'SELECT 1');
});

/** A primitive answering fixed rows. */
function rowsOfFixed(r: Result): import('../../../src/gate/types.js').Primitive {
  return { execute: async () => r, inputs: () => [], describe: () => ({ OperatorType: 'Fixed' }) };
}

test('SetOperation: INTERSECT/EXCEPT keep each row once, the ALL forms count copies; text compares by collation', async () => {
  const { SetOperation } = await import('../../../src/gate/engine/set-operation.js');
  const vc = cursor(() => result([STR], []));
  const left = rowsOfFixed(result([STR], [['a'], ['a'], ['a'], ['B'], [null], ['c']]));
  const right = rowsOfFixed(result([STR], [['A'], ['a'], ['b'], [null], ['d']]));
  const run = async (op: 'INTERSECT' | 'EXCEPT', all: boolean) => text(await new SetOperation(op, all, left, right).execute(vc, {}));
  assert.deepEqual(await run('INTERSECT', false), [['a'], ['B'], [null]]);
  assert.deepEqual(await run('INTERSECT', true), [['a'], ['a'], ['B'], [null]]);
  assert.deepEqual(await run('EXCEPT', false), [['c']]);
  assert.deepEqual(await run('EXCEPT', true), [['a'], ['c']]);
});

test('Window: RANK/DENSE_RANK share peers; a running SUM includes the peers; no ORDER BY means the whole partition', async () => {
  const { Window } = await import('../../../src/gate/engine/window.js');
  const vc = cursor(() => result([INT], []));
  const input = rowsOfFixed(result([STR, INT, INT], [['x', '1', '10'], ['x', '2', '20'], ['x', '2', '30'], ['y', '5', '7'], ['x', '3', null]]));
  const w = new Window(input, [
    { fn: 'RANK', arg: -1, partition: [0], order: [{ offset: 1, desc: false }], name: 'r' },
    { fn: 'DENSE_RANK', arg: -1, partition: [0], order: [{ offset: 1, desc: false }], name: 'd' },
    { fn: 'SUM', arg: 2, partition: [0], order: [{ offset: 1, desc: false }], name: 's' },
    { fn: 'COUNT', arg: 2, partition: [0], order: [], name: 'c' },
  ], 'test');
  assert.deepEqual(text(await w.execute(vc, {})).map((r) => r.slice(3)), [
    ['1', '1', '10', '3'], ['2', '2', '60', '3'], ['2', '2', '60', '3'], ['1', '1', '7', '1'], ['4', '3', '60', '3'],
  ]);
});

test('Aggregate WITH ROLLUP: a super-aggregate row after each group, the grand total last', async () => {
  const vc = cursor(() => result([INT], []));
  const input = rowsOfFixed(result([STR, STR, INT], [['a', 'x', '1'], ['b', 'x', '2'], ['a', 'y', '3'], ['a', 'x', '4']]));
  const agg = new Aggregate(input, { mode: 'raw', roles: [{ kind: 'key' }, { kind: 'key' }, { kind: 'sum' }], groupKeys: [0, 1], grouped: true, rollup: true });
  assert.deepEqual(text(await agg.execute(vc, {})), [['a', 'x', '5'], ['a', 'y', '3'], ['a', null, '8'], ['b', 'x', '2'], ['b', null, '2'], [null, null, '10']]);
});
