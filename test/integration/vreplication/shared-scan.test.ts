// One copy scan for all target streams (src/vreplication/shared-scan.ts) on real MariaDB: calls of
// vstreamRows that ask together for the same table from the same lastPk and rowsMax, differing in
// their key ranges, are served by one reader. Each subscriber must get exactly the batches a scan of
// its own would give it (rows, lastPk moving on to the end, done), whatever the others do: abort,
// fail, lag behind, join late or start at another key.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '../../../src/mysql/client.js';
import type { SqlValue } from '../../../src/mysql/values.js';
import { parseKeyspaceVSchema, type KeyspaceVSchema } from '../../../src/vschema/index.js';
import { LocalVStreamer, type Filter, type RowsBatch, type VStreamerLimits, type VStreamRowsRequest } from '../../../src/vreplication/index.js';
import { startMariaDB, type TestMariaDB } from '../../harness/mariadb.js';

const ROWS = 3000;
let db: TestMariaDB;
let c: Client;
let vschema: KeyspaceVSchema;
const open: LocalVStreamer[] = [];

before(async () => {
  db = await startMariaDB();
  c = await Client.connect({ host: db.host, port: db.port, user: 'vt_dba' });
  await c.query('CREATE DATABASE vt_ks');
  await c.query('USE vt_ks');
  // The key column between others, a FLOAT and a text column: the rows go out decoded as a scan alone decodes them.
  await c.query('CREATE TABLE customer (pad VARCHAR(200), customer_id BIGINT NOT NULL, f FLOAT, email TEXT, PRIMARY KEY (customer_id))');
  await c.query('CREATE TABLE corder (a INT NOT NULL, b VARCHAR(10) NOT NULL, customer_id BIGINT, PRIMARY KEY (a, b))');
  const rows: string[] = [];
  const orders: string[] = [];
  for (let i = 1; i <= ROWS; i++) {
    rows.push(`(${i % 7 === 0 ? 'NULL' : `REPEAT('p', ${(i * 31) % 200})`}, ${i * 3 - 1000}, ${i / 8}, 'c${i}@x')`);
    orders.push(`(${i % 50}, 'b${i}', ${i % 11 === 0 ? 'NULL' : i})`);
  }
  await c.query(`INSERT INTO customer VALUES ${rows.join(', ')}`);
  await c.query(`INSERT INTO corder VALUES ${orders.join(', ')}`);
  vschema = parseKeyspaceVSchema('ks', {
    sharded: true,
    vindexes: { hash: { type: 'hash' } },
    tables: { customer: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] }, corder: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] } },
  });
});

after(async () => {
  for (const vs of open) vs.close();
  c?.close();
  await db?.stop();
});

function streamer(limits: Partial<VStreamerLimits> = {}): LocalVStreamer {
  const vs = new LocalVStreamer({ dbName: 'vt_ks', connection: { host: db.host, port: db.port, user: 'vt_dba' }, vschema: async () => vschema, serverIdBase: 0x50000000, limits });
  open.push(vs);
  return vs;
}

const filterOf = (range: string): Filter => ({ rules: [{ match: '/.*', filter: range }] });
const json = (x: unknown) => JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : Buffer.isBuffer(v) ? v.toString('hex') : v));

interface Answer {
  headers: RowsBatch[];
  rows: SqlValue[][];
  lastPks: string[];
  done: boolean;
  batches: number;
}

/** One call; its rows and lastPks as text. */
async function call(vs: LocalVStreamer, req: VStreamRowsRequest, opts: { signal?: AbortSignal; onRows?: (b: RowsBatch, a: Answer) => Promise<void> } = {}): Promise<Answer> {
  const a: Answer = { headers: [], rows: [], lastPks: [], done: false, batches: 0 };
  await vs.vstreamRows(req, async (b) => {
    if (b.kind === 'header') {
      a.headers.push(b);
      return;
    }
    a.batches++;
    a.rows.push(...b.rows);
    a.lastPks.push(json(b.lastPk));
    a.done = b.done;
    if (opts.onRows) await opts.onRows(b, a);
  }, opts.signal ?? new AbortController().signal);
  return a;
}

/** A whole table in cycles of rowsMax, each subscriber's cycle called together with the others'. */
async function copyTogether(vs: LocalVStreamer, table: string, reqs: readonly Omit<VStreamRowsRequest, 'lastPk' | 'table'>[]): Promise<{ rows: SqlValue[][]; cycles: number; positions: string[][] }[]> {
  const out = reqs.map(() => ({ rows: [] as SqlValue[][], cycles: 0, positions: [] as string[][] }));
  const lastPk: (readonly SqlValue[] | null)[] = reqs.map(() => null);
  const done = reqs.map(() => false);
  for (let cycle = 0; !done.every(Boolean); cycle++) {
    const answers = await Promise.all(reqs.map(async (r, i) => (done[i] ? undefined : call(vs, { ...r, table, lastPk: lastPk[i] }))));
    answers.forEach((a, i) => {
      if (a === undefined) return;
      out[i].rows.push(...a.rows);
      out[i].cycles++;
      out[i].positions.push(a.headers.map((h) => (h.kind === 'header' ? h.position : '')));
      if (a.lastPks.length > 0) lastPk[i] = JSON.parse(a.lastPks[a.lastPks.length - 1], (_k, v: unknown) => (typeof v === 'string' && /^-?\d+n$/.test(v) ? BigInt(v.slice(0, -1)) : v)) as SqlValue[];
      done[i] = a.done;
    });
  }
  return out;
}

for (const ranges of [['-80', '80-'], ['-40', '40-80', '80-c0', 'c0-']]) {
  test(`${ranges.length} subscribers get exactly their key range's rows, as separate scans do`, async () => {
    const alone = streamer({ sharedScanJoinMs: 0 });
    const shared = streamer();
    for (const table of ['customer', 'corder']) {
      const want = await Promise.all(ranges.map(async (r) => (await copyTogether(alone, table, [{ filter: filterOf(r), rowsMax: 700, batchRowsMax: 97 }]))[0]));
      const before = { ...shared.sharedScans };
      // Each subscriber with batch bounds of its own.
      const got = await copyTogether(shared, table, ranges.map((r, i) => ({ filter: filterOf(r), rowsMax: 700, batchRowsMax: 50 + 40 * i, batchBytesMax: 3000 + 2000 * i })));
      const cycles = Math.ceil((table === 'customer' ? ROWS : ROWS) / 700);
      assert.equal(shared.sharedScans.scans - before.scans, cycles, `${table}: one shared scan per cycle`);
      assert.equal(shared.sharedScans.subscribers - before.subscribers, cycles * ranges.length, `${table}: every call subscribed`);
      let total = 0;
      ranges.forEach((r, i) => {
        assert.equal(json(got[i].rows), json(want[i].rows), `${table} ${r}`);
        assert.equal(got[i].cycles, cycles, `${table} ${r}: its cycles end where a scan alone ends them`);
        total += got[i].rows.length;
      });
      // One snapshot per cycle: its position heads every subscriber's answer.
      for (let k = 0; k < cycles; k++) assert.equal(new Set(got.map((g) => g.positions[k][0])).size, 1, `${table}: cycle ${k} on one snapshot`);
      assert.ok(total > 0 && total <= ROWS, `${table}: ${total} rows over the ranges`);
    }
  });
}

test('a select rule with in_keyrange shares the scan with the same columns, and a rule reading other columns scans alone', async () => {
  const shared = streamer();
  const alone = streamer({ sharedScanJoinMs: 0 });
  const sel = (r: string, cols = 'customer_id, email') => ({ rules: [{ match: 'customer', filter: `select ${cols} from customer where in_keyrange(customer_id, 'hash', '${r}')` }] });
  const reqs = [sel('-80'), sel('80-'), sel('-80', 'customer_id, pad')].map((filter) => ({ table: 'customer', filter, lastPk: null, batchRowsMax: 200, rowsMax: 100_000 }));
  const before = { ...shared.sharedScans };
  const got = await Promise.all(reqs.map((r) => call(shared, r)));
  const want = await Promise.all(reqs.map((r) => call(alone, r)));
  assert.equal(shared.sharedScans.scans - before.scans, 1);
  assert.equal(shared.sharedScans.subscribers - before.subscribers, 2, 'the third reads other columns: alone');
  got.forEach((g, i) => {
    assert.equal(json(g.rows), json(want[i].rows), `request ${i}`);
    assert.equal(json(g.headers.map((h) => (h.kind === 'header' ? h.fields : []))), json(want[i].headers.map((h) => (h.kind === 'header' ? h.fields : []))));
    assert.ok(g.done);
  });
});

test('a subscriber that aborts or fails mid-copy is dropped alone; the others get every row', async () => {
  const shared = streamer();
  const alone = streamer({ sharedScanJoinMs: 0 });
  const ranges = ['-40', '40-80', '80-c0', 'c0-'];
  const want = await Promise.all(ranges.map((r) => call(alone, { table: 'customer', filter: filterOf(r), lastPk: null, batchRowsMax: 60, rowsMax: 100_000 })));
  const ac = new AbortController();
  const boom = new Error('target failed');
  let abortedBatches = 0;
  const results = await Promise.allSettled(
    ranges.map((r, i) =>
      call(shared, { table: 'customer', filter: filterOf(r), lastPk: null, batchRowsMax: 60, rowsMax: 100_000 }, {
        signal: i === 0 ? ac.signal : undefined,
        onRows: async (_b, a) => {
          if (i === 0) {
            abortedBatches++;
            if (a.batches === 2) ac.abort();
          }
          if (i === 1 && a.batches === 3) throw boom;
        },
      }),
    ),
  );
  assert.equal(results[0].status, 'fulfilled', 'a cancelled call resolves');
  assert.ok(results[0].status === 'fulfilled' && !results[0].value.done && results[0].value.rows.length < want[0].rows.length);
  assert.ok(abortedBatches <= 3, `the cancelled call took ${abortedBatches} batches`);
  assert.equal(results[1].status, 'rejected');
  assert.equal(results[1].status === 'rejected' && results[1].reason, boom, "a failing callback's own error ends its call");
  for (const i of [2, 3]) {
    const r = results[i];
    assert.ok(r.status === 'fulfilled', `subscriber ${ranges[i]}`);
    assert.equal(json(r.value.rows), json(want[i].rows), ranges[i]);
    assert.ok(r.value.done);
  }
  assert.equal(shared.stats().length, 0, 'every call left');
});

test('a late joiner and a call at another lastPk scan alone, with the same answers', async () => {
  const shared = streamer({ sharedScanJoinMs: 30 });
  const alone = streamer({ sharedScanJoinMs: 0 });
  const before = { ...shared.sharedScans };
  const a = call(shared, { table: 'customer', filter: filterOf('-80'), lastPk: null, rowsMax: 1000 });
  // Past the first call's joining window: it has started alone.
  await new Promise((r) => setTimeout(r, 300));
  const b = call(shared, { table: 'customer', filter: filterOf('80-'), lastPk: null, rowsMax: 1000 });
  const d = call(shared, { table: 'customer', filter: filterOf('-80'), lastPk: [500n], rowsMax: 1000 });
  const e = call(shared, { table: 'customer', filter: filterOf('80-'), lastPk: [500], rowsMax: 900 });
  // Whole-table reads (rowsMax 0, as VDiff reads) never share, even when asked together: their
  // callers take only done: true as the end.
  const whole = await Promise.all(['-80', '80-'].map((r) => call(shared, { table: 'customer', filter: filterOf(r), lastPk: null })));
  assert.ok(whole.every((w) => w.done));
  const got = await Promise.all([a, b, d, e]);
  assert.deepEqual(shared.sharedScans, before, 'no scan was shared');
  const want = await Promise.all([
    call(alone, { table: 'customer', filter: filterOf('-80'), lastPk: null, rowsMax: 1000 }),
    call(alone, { table: 'customer', filter: filterOf('80-'), lastPk: null, rowsMax: 1000 }),
    call(alone, { table: 'customer', filter: filterOf('-80'), lastPk: [500n], rowsMax: 1000 }),
    call(alone, { table: 'customer', filter: filterOf('80-'), lastPk: [500], rowsMax: 900 }),
  ]);
  got.forEach((g, i) => {
    assert.equal(json(g.rows), json(want[i].rows), `call ${i}`);
    assert.deepEqual(g.lastPks, want[i].lastPks, `call ${i}`);
    assert.equal(g.done, want[i].done);
  });
});

test('a slow subscriber holds the reader back (no unbounded buffering); one lagging past the bound ends its cycle early and resumes alone', async () => {
  const ranges = ['-80', '80-'];
  const alone = streamer({ sharedScanJoinMs: 0 });
  const want = await Promise.all(ranges.map((r) => call(alone, { table: 'customer', filter: filterOf(r), lastPk: null, batchRowsMax: 100, rowsMax: 100_000 })));
  const lastKey = (a: Answer) => JSON.parse(a.lastPks[a.lastPks.length - 1].replace(/"(-?\d+)n"/g, '$1')) as number[];

  // Bounded: the slow subscriber takes nothing until released; the fast one gets no further than the
  // first SELECT (batchRowsMax rows scanned) meanwhile.
  {
    const shared = streamer({ sharedScanLagMs: 600_000 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let fastScanned: number[] = [];
    const slow = call(shared, { table: 'customer', filter: filterOf(ranges[0]), lastPk: null, batchRowsMax: 100, rowsMax: 100_000 }, { onRows: () => gate });
    const fast = call(shared, { table: 'customer', filter: filterOf(ranges[1]), lastPk: null, batchRowsMax: 100, rowsMax: 100_000 }, {
      onRows: async (_b, a) => {
        fastScanned = lastKey(a);
      },
    });
    await new Promise((r) => setTimeout(r, 1500));
    // customer_id = i*3-1000 for the i-th row: the fast stream's last key says how far the reader
    // scanned. The slow stream's kept rows gather over SELECTs into its first batch (100 rows, about
    // 200 scanned); the reader then waits for it: one SELECT (100 rows) more at most.
    const scanned = () => (fastScanned[0] + 1000) / 3;
    const held = scanned();
    assert.ok(held > 0 && held <= 300, `the fast subscriber got ${held} rows scanned ahead of the slow one`);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(scanned(), held, 'the reader stays where it was while the slow subscriber takes nothing');
    release();
    const [s, f] = await Promise.all([slow, fast]);
    assert.equal(json(s.rows), json(want[0].rows));
    assert.equal(json(f.rows), json(want[1].rows));
    assert.equal(shared.sharedScans.cut, 0);
  }

  // Cut: the slow subscriber holds the reader past sharedScanLagMs: its cycle ends early with done:
  // false at the last key scanned for it; the fast one goes on to the end. Resumed alone from its
  // lastPk, the slow stream gets the rest: together exactly its rows.
  {
    const shared = streamer({ sharedScanLagMs: 200 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = call(shared, { table: 'customer', filter: filterOf(ranges[0]), lastPk: null, batchRowsMax: 100, rowsMax: 100_000 }, { onRows: (_b, a) => (a.batches === 1 ? gate : Promise.resolve()) });
    const fast = await call(shared, { table: 'customer', filter: filterOf(ranges[1]), lastPk: null, batchRowsMax: 100, rowsMax: 100_000 });
    assert.equal(json(fast.rows), json(want[1].rows), 'the fast subscriber is not held back past the bound');
    assert.ok(fast.done);
    release();
    const s = await slow;
    assert.equal(s.done, false, 'the lagging subscriber ends its cycle early');
    assert.equal(shared.sharedScans.cut, 1);
    const rest = await call(shared, { table: 'customer', filter: filterOf(ranges[0]), lastPk: lastKey(s), batchRowsMax: 100, rowsMax: 100_000 });
    assert.ok(rest.done);
    assert.equal(json([...s.rows, ...rest.rows]), json(want[0].rows));
  }
});

test('the tablet closing mid-shared-copy fails every subscriber as UNAVAILABLE', async () => {
  const shared = streamer();
  let started = 0;
  let close!: () => void;
  const closing = new Promise<void>((r) => (close = r));
  const calls = ['-80', '80-'].map((r) =>
    call(shared, { table: 'customer', filter: filterOf(r), lastPk: null, batchRowsMax: 50, rowsMax: 100_000 }, {
      onRows: async () => {
        if (++started === 2) close();
        await new Promise((res) => setTimeout(res, 5));
      },
    }),
  );
  await closing;
  shared.close();
  const results = await Promise.allSettled(calls);
  for (const r of results) {
    assert.equal(r.status, 'rejected');
    assert.equal(r.status === 'rejected' && (r.reason as { kind?: string }).kind, 'UNAVAILABLE');
  }
  assert.equal(shared.stats().length, 0);
});

test('streams that ended a shared cycle together are waited for at its end key, longer than the joining window', async () => {
  const shared = streamer({ sharedScanJoinMs: 100, sharedScanRejoinMs: 60_000 });
  const alone = streamer({ sharedScanJoinMs: 0 });
  const req = (r: string, lastPk: readonly SqlValue[] | null) => ({ table: 'customer', filter: filterOf(r), lastPk, rowsMax: 1000, batchRowsMax: 100 });
  const first = await Promise.all(['-80', '80-'].map((r) => call(shared, req(r, null))));
  assert.equal(shared.sharedScans.scans, 1);
  const ends = first.map((a) => JSON.parse(a.lastPks[a.lastPks.length - 1].replace(/"(-?\d+)n"/g, '$1')) as number[]);
  assert.deepEqual(ends[0], ends[1], 'the cycles of a shared scan end at one key');
  // The second stream's next cycle comes well after the first's joining window.
  const a = call(shared, req('-80', ends[0]));
  await new Promise((r) => setTimeout(r, 500));
  const b = call(shared, req('80-', ends[1]));
  const got = await Promise.all([a, b]);
  assert.equal(shared.sharedScans.scans, 2, 'the second cycle was shared too');
  const want = await Promise.all([call(alone, req('-80', ends[0])), call(alone, req('80-', ends[1]))]);
  got.forEach((g, i) => assert.equal(json(g.rows), json(want[i].rows)));
});

test('streams that missed each other in a cycle meet at its end key: the first to end waits for the one still scanning from the same start', async () => {
  const shared = streamer({ sharedScanJoinMs: 50, sharedScanRejoinMs: 60_000 });
  const alone = streamer({ sharedScanJoinMs: 0 });
  const req = (r: string, lastPk: readonly SqlValue[] | null) => ({ table: 'customer', filter: filterOf(r), lastPk, rowsMax: 1000, batchRowsMax: 100 });
  const endOf = (a: Answer) => JSON.parse(a.lastPks[a.lastPks.length - 1].replace(/"(-?\d+)n"/g, '$1')) as number[];
  // Each stream's whole copy, cycle after cycle, as a target runs it; the second starts well after
  // the first's joining window, so their first cycles scan alone.
  const run = async (r: string, batchMs: number): Promise<SqlValue[][]> => {
    const rows: SqlValue[][] = [];
    for (let lastPk: readonly SqlValue[] | null = null; ; ) {
      const a = await call(shared, req(r, lastPk), { onRows: () => new Promise((res) => setTimeout(res, batchMs)) });
      rows.push(...a.rows);
      if (a.done) return rows;
      lastPk = endOf(a);
    }
  };
  // The first takes its batches slowly, so the second's first cycle (from the same start) is still
  // open when the first's ends.
  const first = run('-80', 40);
  await new Promise((res) => setTimeout(res, 150));
  const second = run('80-', 0);
  const got = await Promise.all([first, second]);
  assert.ok(shared.sharedScans.scans >= 1, `the later cycles were shared (${shared.sharedScans.scans} shared scans)`);
  const want = await Promise.all(['-80', '80-'].map(async (r) => (await call(alone, { ...req(r, null), rowsMax: 0 })).rows));
  got.forEach((g, i) => assert.equal(json(g), json(want[i])));
});
