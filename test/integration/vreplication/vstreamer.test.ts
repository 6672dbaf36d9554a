// The VStream seam on real MariaDB through a real tablet, one loop over both implementations: the
// tablet's own LocalVStreamer (in process) and VStreamerClient on its own RPC connection.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '../../../src/mysql/client.js';
import { currentPosition, GtidPosition } from '../../../src/mysql/binlog/index.js';
import type { SqlValue } from '../../../src/mysql/values.js';
import type { TesseraError } from '../../../src/mysql/errors.js';
import { openTopoServer, type TopoServer } from '../../../src/topo/index.js';
import type { TabletProcess } from '../../../src/tablet/index.js';
import { LocalVStreamer, VStreamerClient, VSTREAMER_CLIENT_DEFAULTS, vstreamServerIdBase, type Filter, type RowsBatch, type StreamEvent, type VStreamer, type VStreamRowsRequest } from '../../../src/vreplication/index.js';
import { startTestTablet } from '../../harness/tablet.js';

const CUSTOMER_VSCHEMA = {
  sharded: true,
  vindexes: { hash: { type: 'hash' } },
  tables: { customer: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] } },
};

// The binlog reader tests' column types (test/integration/binlog/decode.test.ts).
const COLUMNS = `
  id INT PRIMARY KEY,
  i8 TINYINT, u8 TINYINT UNSIGNED, i16 SMALLINT, u16 SMALLINT UNSIGNED, i24 MEDIUMINT, u24 MEDIUMINT UNSIGNED,
  i32 INT, u32 INT UNSIGNED, i64 BIGINT, u64 BIGINT UNSIGNED,
  d1 DECIMAL(1,0), d2 DECIMAL(10,2), d3 DECIMAL(65,30), d4 DECIMAL(18,9), d5 DECIMAL(20,0) UNSIGNED, d6 DECIMAL(5,5), d7 DECIMAL(30,1),
  f FLOAT, dbl DOUBLE, b1 BIT(1), b10 BIT(10), b64 BIT(64), y YEAR,
  dt DATE, t0 TIME, t1 TIME(1), t3 TIME(3), t6 TIME(6), dt0 DATETIME, dt2 DATETIME(2), dt6 DATETIME(6), ts0 TIMESTAMP NULL, ts4 TIMESTAMP(4) NULL,
  c CHAR(10), cl CHAR(10) CHARACTER SET latin1, vc VARCHAR(300), vcl VARCHAR(10) CHARACTER SET latin1, bn BINARY(4), vb VARBINARY(300),
  tt TINYTEXT, tx TEXT, mt MEDIUMTEXT, lt LONGTEXT, tb TINYBLOB, bl BLOB, mb MEDIUMBLOB, lb LONGBLOB,
  e ENUM('a','b','ü'), s SET('x','y','z','w'), j JSON, g GEOMETRY, c255 CHAR(255)`;

const MAX_ROW = `(1, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, 18446744073709551615,
  9, 99999999.99, 99999999999999999999999999999999999.999999999999999999999999999999, 999999999.999999999, 99999999999999999999, 0.99999, 12345678901234567890123456789.5,
  3.402823e38, 1.7976931348623157e308, b'1', b'1111111111', b'1111111111111111111111111111111111111111111111111111111111111111', 2155,
  '9999-12-31', '838:59:59', '838:59:58.9', '-838:59:58.999', '838:59:58.999999', '9999-12-31 23:59:59', '9999-12-31 23:59:59.99', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07', '2038-01-19 03:14:07.9999',
  'abcdefghij', 'café', REPEAT('x', 300), 'naïve', X'00010000', X'00FF00',
  'tiny', 'text', 'medium', 'long', X'00', X'0102', X'FFFF', X'00',
  'ü', 'x,y,z,w', '{"a": [1, 2.5, "ü"], "b": null}', ST_GeomFromText('POINT(1 2)'), REPEAT('é', 255))`;

const MIN_ROW = `(2, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0,
  -9, -99999999.99, -99999999999999999999999999999999999.999999999999999999999999999999, -0.000000001, 0, -0.00001, -0.5,
  -1.175494e-38, -2.2250738585072014e-308, b'0', b'0', b'0', 1901,
  '1000-01-01', '-838:59:59', '-838:59:58.9', '00:00:00.001', '-00:00:00.000001', '1000-01-01 00:00:00', '1000-01-01 00:00:00.01', '1000-01-01 00:00:00.000001', '1970-01-01 00:00:01', '1970-01-01 00:00:01.0001',
  '', '', '', '', X'', X'',
  '', '', '', '', X'', X'', X'', X'',
  'a', '', '[]', ST_GeomFromText('LINESTRING(0 0, 1 1, 2 5)'), '')`;

const ZERO_ROW = `(8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1.1, 0, b'0', b'0', b'0', 0,
  '0000-00-00', '00:00:00', '00:00:00', '00:00:00', '00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00',
  ' a ', 'a ', ' a ', 'a ', X'01', X'01', ' ', ' ', ' ', ' ', X'00', X'00', X'00', X'00', 'b', 'y', '{}', ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))'), 'z')`;

/** A stream that never ends its test (a missing heartbeat, say) fails it instead of hanging the run. */
const TEST_TIMEOUT_MS = 120_000;
const READER_QUEUE_ITEMS_MAX = 50;
const READER_QUEUE_BYTES_MAX = 1024 * 1024;

let topo: TopoServer;
let tablet: TabletProcess;
let c: Client;
let network: VStreamerClient;
let customerFrom: GtidPosition;
let customerTo: GtidPosition;

before(async () => {
  topo = openTopoServer({ topoImplementation: 'memory', topoGlobalServerAddress: `vstreamer-test-${process.pid}`, topoGlobalRoot: '/tessera/global' });
  tablet = await startTestTablet({
    cell: 'zone1',
    keyspace: 'customer',
    shard: '0',
    tabletType: 'primary',
    topo,
    vstreamLimits: { readerQueueItemsMax: READER_QUEUE_ITEMS_MAX, readerQueueBytesMax: READER_QUEUE_BYTES_MAX },
  });
  await topo.saveVSchema('customer', CUSTOMER_VSCHEMA);
  c = await Client.connect({ socketPath: tablet.mysqlctl!.socket, user: 'vt_dba', database: 'vt_customer' });
  await c.query("SET SESSION time_zone = '+00:00'");
  await c.query("SET SESSION sql_mode = ''");
  network = new VStreamerClient('127.0.0.1', tablet.rpcPort);
  // The tutorial's customers: hash puts 1, 2, 3, 5 in -80 and 4 in 80-.
  customerFrom = await currentPosition(c);
  await c.query('CREATE TABLE customer (customer_id BIGINT NOT NULL AUTO_INCREMENT, email VARCHAR(128), PRIMARY KEY (customer_id))');
  for (const who of ['alice', 'bob', 'charlie', 'dan', 'eve']) await c.query(`INSERT INTO customer (email) VALUES ('${who}@domain.com')`);
  customerTo = await currentPosition(c);
});

after(async () => {
  network?.close();
  c?.close();
  await tablet?.stop({ stopMysql: true });
  await topo?.close();
});

const all = (table: string): Filter => ({ rules: [{ match: table, filter: '' }] });

/** Streams until `until` says so (or the stream fails); returns every event seen. */
async function streamUntil(vs: VStreamer, position: string, filter: Filter, until: (evs: StreamEvent[]) => boolean, extra: { heartbeatIntervalMs?: number; packetSizeMax?: number } = {}): Promise<StreamEvent[]> {
  const ac = new AbortController();
  const seen: StreamEvent[] = [];
  await vs.vstream({ position, filter, ...extra }, async (evs) => {
    seen.push(...evs);
    if (until(seen)) ac.abort();
  }, ac.signal);
  return seen;
}

const reached = (target: GtidPosition) => (evs: StreamEvent[]): boolean => {
  const e = evs[evs.length - 1];
  return (e.type === 'commit' || e.type === 'position' || e.type === 'heartbeat') && e.position.atLeast(target);
};

/** Copies a table in cycles of rowsMax, each a new call resuming from the last cycle's lastPk. */
async function copy(vs: VStreamer, req: Omit<VStreamRowsRequest, 'lastPk'>): Promise<{ headers: Extract<RowsBatch, { kind: 'header' }>[]; rows: SqlValue[][]; cycles: RowsBatch[][] }> {
  const headers: Extract<RowsBatch, { kind: 'header' }>[] = [];
  const rows: SqlValue[][] = [];
  const cycles: RowsBatch[][] = [];
  let lastPk: readonly SqlValue[] | null = null;
  for (;;) {
    const cycle: RowsBatch[] = [];
    await vs.vstreamRows({ ...req, lastPk }, async (b) => {
      cycle.push(b);
      if (b.kind === 'header') headers.push(b);
      else rows.push(...b.rows);
    }, new AbortController().signal);
    cycles.push(cycle);
    const last = cycle[cycle.length - 1];
    assert.ok(last.kind === 'rows', 'a call ends with a rows batch');
    if (last.done) return { headers, rows, cycles };
    lastPk = last.lastPk;
    assert.ok(cycles.length < 1000, 'copy makes progress');
  }
}

async function processIds(): Promise<Set<string>> {
  const r = await c.query('SHOW PROCESSLIST');
  return new Set(r.rows.map((row) => String(row[0])));
}

async function eventually(what: string, cond: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`never happened: ${what}`);
}

const ids = (rows: SqlValue[][]): number[] => rows.map((r) => Number(r[0])).sort((a, b) => a - b);

for (const [name, vs] of [
  ['local', () => tablet.vstreamer as VStreamer],
  ['network', () => network as VStreamer],
] as const) {
  test(`${name}: vstream carries inserts, updates and deletes of every column type exactly; vstreamRows copies the same values`, { timeout: TEST_TIMEOUT_MS }, async () => {
    const t = `all_types_${name}`;
    const from = await currentPosition(c);
    await c.query(`CREATE TABLE ${t} (${COLUMNS})`);
    const width = (await c.query(`SELECT * FROM ${t}`)).fields.length;
    await c.query(`INSERT INTO ${t} VALUES ${MAX_ROW}, ${MIN_ROW}, (3${', NULL'.repeat(width - 1)}), ${ZERO_ROW}`);
    await c.query(`INSERT INTO ${t} (id, vc, lb, mb) VALUES (4, REPEAT('日本語', 100), REPEAT(X'00FF', 150000), RANDOM_BYTES(1024))`);
    await c.query(`UPDATE ${t} SET vc = 'changed', u64 = 18446744073709551614, vb = X'FF00FE' WHERE id = 1`);
    await c.query(`DELETE FROM ${t} WHERE id = 2`);
    const to = await currentPosition(c);
    const evs = await streamUntil(vs(), from.toString(), all(t), reached(to));

    const state = new Map<number, SqlValue[]>();
    for (const e of evs) {
      if (e.type !== 'row') continue;
      for (const ch of e.changes) {
        if (ch.before) {
          assert.deepEqual(ch.before, state.get(Number(ch.before[0])), 'before image matches');
          state.delete(Number(ch.before[0]));
        }
        if (ch.after) state.set(Number(ch.after[0]), ch.after);
      }
    }
    const selected = (await c.query(`SELECT * FROM ${t} ORDER BY id`)).rows;
    const names = (await c.query(`SELECT * FROM ${t} LIMIT 0`)).fields.map((f) => f.name);
    const col = (n: string): number => names.indexOf(n);
    const fIdx = col('f');
    assert.deepEqual([...state.keys()].sort(), selected.map((r) => Number(r[0])));
    for (const want of selected) {
      const got = state.get(Number(want[0]))!;
      // SELECT prints FLOAT with 6 digits; the streams carry the float32's shortest decimal.
      assert.deepEqual(got.map((v, i) => (i === fIdx && typeof v === 'number' ? Number(v.toPrecision(6)) : v)), want, `row ${want[0]}`);
    }
    const one = state.get(1)!;
    assert.equal(one[col('u64')], 18446744073709551614n);
    assert.deepEqual(state.get(4)![col('lb')], Buffer.from('00FF'.repeat(150000), 'hex'));
    assert.ok(Buffer.from([0xff, 0x00, 0xfe]).equals(one[col('vb')] as Buffer));
    assert.equal(state.get(8)![fIdx], 1.1);

    // The copy gives the binlog's values, column for column (FLOAT included), and the same fields.
    const copied = await copy(vs(), { table: t, filter: all(t), batchRowsMax: 2 });
    assert.deepEqual(copied.rows, selected.map((r) => state.get(Number(r[0]))));
    const fieldEvent = evs.find((e) => e.type === 'field' && e.table === t);
    assert.ok(fieldEvent && fieldEvent.type === 'field');
    assert.deepEqual(copied.headers[0].fields, fieldEvent.fields);
    assert.deepEqual(copied.headers[0].pkColumns, ['id']);
    assert.deepEqual(fieldEvent.primaryKey, ['id']);
    assert.ok(GtidPosition.parse(copied.headers[0].position).atLeast(to));
  });

  test(`${name}: heartbeats on an idle source, at its current position`, { timeout: TEST_TIMEOUT_MS }, async () => {
    const now = await currentPosition(c);
    const evs = await streamUntil(vs(), 'current', all('customer'), (seen) => seen.filter((e) => e.type === 'heartbeat').length >= 2, { heartbeatIntervalMs: 100 });
    const beats = evs.filter((e) => e.type === 'heartbeat');
    assert.ok(beats.length >= 2);
    for (const b of beats) assert.ok(b.type === 'heartbeat' && b.position.equals(now) && b.lagSeconds === 0, `heartbeat at ${now}`);
  });

  test(`${name}: key-range rules send each tutorial customer to -80 or 80- by hash, in vstream and in vstreamRows`, { timeout: TEST_TIMEOUT_MS }, async () => {
    const forms: [string, (r: string) => string][] = [
      ['key range', (r) => r],
      ['in_keyrange by primary vindex', (r) => `select * from customer where in_keyrange('${r}')`],
      ['in_keyrange by column and vindex type', (r) => `select customer_id, email as mail from customer where in_keyrange(customer_id, 'hash', '${r}')`],
    ];
    for (const [form, rule] of forms) {
      for (const [range, want] of [['-80', [1, 2, 3, 5]], ['80-', [4]]] as const) {
        const filter = { rules: [{ match: 'customer', filter: rule(range) }] };
        const evs = await streamUntil(vs(), customerFrom.toString(), filter, reached(customerTo));
        const streamed = evs.flatMap((e) => (e.type === 'row' ? e.changes.map((ch) => ch.after!) : []));
        assert.deepEqual(ids(streamed), want, `vstream ${form} ${range}`);
        const copied = await copy(vs(), { table: 'customer', filter, batchRowsMax: 2 });
        assert.deepEqual(ids(copied.rows), want, `vstreamRows ${form} ${range}`);
        assert.deepEqual(copied.rows, streamed.sort((a, b) => Number(a[0]) - Number(b[0])), `the copy's rows are the stream's (${form} ${range})`);
        // Rows filtered out still move lastPk on: the last batch ends at the table's last key.
        const tail = copied.cycles[copied.cycles.length - 1].at(-1)!;
        assert.ok(tail.kind === 'rows' && tail.done && tail.lastPk[0] === 5n);
        if (form.includes('column')) assert.deepEqual(copied.headers[0].fields.map((f) => f.name), ['customer_id', 'mail']);
      }
    }
  });

  test(`${name}: vstreamRows resumes from lastPk with composite and string keys, in rowsMax cycles`, { timeout: TEST_TIMEOUT_MS }, async () => {
    const ck = `ck_${name}`;
    await c.query(`CREATE TABLE ${ck} (a INT, b VARCHAR(10), v BIGINT UNSIGNED, PRIMARY KEY (a, b))`);
    await c.query(`INSERT INTO ${ck} SELECT seq % 7, CONCAT('k', seq), seq + 18446744073709551515 FROM seq_1_to_50`);
    const want = (await c.query(`SELECT a, b, v FROM ${ck} ORDER BY a, b`)).rows;
    // 50 rows in cycles of 20: 20, 20, 10, the last one done; batches of at most 7 rows.
    const c20 = await copy(vs(), { table: ck, filter: all(ck), rowsMax: 20, batchRowsMax: 7 });
    assert.deepEqual(c20.rows, want);
    assert.equal(c20.cycles.length, 3);
    assert.deepEqual(c20.headers[0].pkColumns, ['a', 'b']);
    for (const cycle of c20.cycles) {
      assert.equal(cycle[0].kind, 'header');
      for (const b of cycle.slice(1)) assert.ok(b.kind === 'rows' && b.rows.length <= 7);
    }
    assert.deepEqual(c20.cycles.map((cy) => cy.flatMap((b) => (b.kind === 'rows' ? b.rows : [])).length), [20, 20, 10]);
    assert.deepEqual(c20.cycles.map((cy) => (cy.at(-1) as { done: boolean }).done), [false, false, true]);
    // A cycle that ends with the table says done at once.
    const c25 = await copy(vs(), { table: ck, filter: all(ck), rowsMax: 25 });
    assert.equal(c25.cycles.length, 2);
    assert.deepEqual(c25.rows, want);
    // Batches bounded by bytes: each row is ~20 bytes encoded.
    const small = await copy(vs(), { table: ck, filter: all(ck), batchBytesMax: 60 });
    assert.deepEqual(small.rows, want);
    assert.ok(small.cycles[0].length > 10);

    // String keys: a case-insensitive VARCHAR and a VARBINARY with 0x00 and 0xff bytes.
    const sk = `sk_${name}`;
    await c.query(`CREATE TABLE ${sk} (k VARCHAR(20) PRIMARY KEY, v INT)`);
    await c.query(`INSERT INTO ${sk} VALUES ('a', 1), ('B', 2), ('c', 3), ('é', 4), ('it''s', 5), ('z\\\\', 6), ('Ω', 7)`);
    const sWant = (await c.query(`SELECT * FROM ${sk} ORDER BY k`)).rows;
    const s = await copy(vs(), { table: sk, filter: all(sk), rowsMax: 2, batchRowsMax: 1 });
    assert.deepEqual(s.rows, sWant);
    assert.equal(s.cycles.length, 4);
    const bk = `bk_${name}`;
    await c.query(`CREATE TABLE ${bk} (k VARBINARY(8) PRIMARY KEY, v INT)`);
    await c.query(`INSERT INTO ${bk} VALUES (X'00', 1), (X'0000', 2), (X'00FF', 3), (X'FF', 4), (X'FF00', 5), ('a', 6)`);
    const b = await copy(vs(), { table: bk, filter: all(bk), rowsMax: 1 });
    assert.deepEqual(b.rows.map((r) => (r[0] as Buffer).toString('hex')), ['00', '0000', '00ff', '61', 'ff', 'ff00']);
  });

  test(`${name}: a unique NOT NULL key when there is no primary key; no usable key and unknown tables refused`, { timeout: TEST_TIMEOUT_MS }, async () => {
    const uk = `uk_${name}`;
    await c.query(`CREATE TABLE ${uk} (id INT NULL, code VARCHAR(10) NOT NULL, v INT, UNIQUE KEY u_null (id), UNIQUE KEY u_code (code))`);
    await c.query(`INSERT INTO ${uk} VALUES (NULL, 'm', 1), (2, 'a', 2), (NULL, 'z', 3)`);
    const u = await copy(vs(), { table: uk, filter: all(uk), rowsMax: 1 });
    assert.deepEqual(u.headers[0].pkColumns, ['code']);
    assert.deepEqual(u.rows, [[2, 'a', 2], [null, 'm', 1], [null, 'z', 3]]);

    const nk = `nk_${name}`;
    await c.query(`CREATE TABLE ${nk} (a INT, b INT, UNIQUE KEY (a))`);
    await assert.rejects(copy(vs(), { table: nk, filter: all(nk) }), (e: Error & { errno?: number; sqlState?: string }) => {
      assert.equal(e.errno, 1173);
      assert.equal(e.sqlState, '42000');
      assert.match(e.message, new RegExp(`table vt_customer\\.${nk} has no primary key.*add a primary key`));
      return true;
    });
    await assert.rejects(copy(vs(), { table: 'nosuch', filter: all('nosuch') }), (e: Error & { errno?: number }) => e.errno === 1146 && /vt_customer\.nosuch/.test(e.message));
    await assert.rejects(copy(vs(), { table: 'customer', filter: all('other') }), (e: Error & { errno?: number }) => e.errno === 1210 && /no rule .* matches table customer/.test(e.message));
  });

  test(`${name}: a source without ROW binlogs or FULL row metadata is refused, saying which setting`, { timeout: TEST_TIMEOUT_MS }, async () => {
    for (const [setting, bad, good] of [['binlog_format', 'STATEMENT', 'ROW'], ['binlog_row_metadata', 'MINIMAL', 'FULL']] as const) {
      await c.query(`SET GLOBAL ${setting} = '${bad}'`);
      try {
        const re = new RegExp(`${setting}=${bad}: VReplication needs ${setting}=${good}`);
        await assert.rejects(streamUntil(vs(), 'current', all('customer'), () => true), (e: Error) => re.test(e.message));
        await assert.rejects(copy(vs(), { table: 'customer', filter: all('customer') }), (e: Error) => re.test(e.message));
      } finally {
        await c.query(`SET GLOBAL ${setting} = '${good}'`);
      }
    }
  });

  test(`${name}: cancelling ends the server side: no binlog dump or snapshot connection is left on the source`, { timeout: TEST_TIMEOUT_MS }, async () => {
    const before = await processIds();
    const ac = new AbortController();
    let started!: () => void;
    const first = new Promise<void>((r) => (started = r));
    const call = vs().vstream({ position: 'current', filter: all('customer'), heartbeatIntervalMs: 100 }, async () => started(), ac.signal);
    await first;
    const during = [...(await processIds())].filter((id) => !before.has(id));
    assert.ok(during.length >= 1, 'the stream has a connection on the source');
    ac.abort();
    await call;
    await eventually('the binlog dump connection is gone', async () => {
      const now = await processIds();
      return during.every((id) => !now.has(id));
    });

    const t = `cancel_${name}`;
    await c.query(`CREATE TABLE ${t} (id INT PRIMARY KEY, pad VARCHAR(100))`);
    await c.query(`INSERT INTO ${t} SELECT seq, REPEAT('x', 100) FROM seq_1_to_2000`);
    const ac2 = new AbortController();
    let gotFirst!: () => void;
    const firstBatch = new Promise<void>((r) => (gotFirst = r));
    let batches = 0;
    const rows = vs().vstreamRows({ table: t, filter: all(t), lastPk: null, batchRowsMax: 10 }, async (b) => {
      batches++;
      if (b.kind === 'rows') {
        gotFirst();
        // A consumer that stops taking batches: only the signal ends the call now.
        await new Promise((r) => setTimeout(r, 20));
      }
    }, ac2.signal);
    await firstBatch;
    const snapshotConns = [...(await processIds())].filter((id) => !before.has(id));
    assert.ok(snapshotConns.length >= 1, 'the copy has a connection on the source');
    ac2.abort();
    await rows;
    assert.ok(batches < 200, 'the copy stopped before the table ended');
    await eventually('the snapshot connection is gone', async () => {
      const now = await processIds();
      return snapshotConns.every((id) => !now.has(id));
    });
    assert.equal(tablet.vstreamer.stats().length, 0, 'no call is left open on the tablet');
  });

  test(`${name}: a slow consumer holds the source back: what it sends ahead and what it reads ahead stay bounded`, { timeout: TEST_TIMEOUT_MS }, async () => {
    const t = `flow_${name}`;
    await c.query(`CREATE TABLE ${t} (id INT PRIMARY KEY, pad VARCHAR(1000))`);
    const from = await currentPosition(c);
    // One transaction of 3000 rows of 1 KB: some 400 row events, far more than the bounds below.
    await c.query(`INSERT INTO ${t} SELECT seq, REPEAT('x', 1000) FROM seq_1_to_3000`);
    const to = await currentPosition(c);
    const packetSizeMax = 5;
    const window = name === 'network' ? VSTREAMER_CLIENT_DEFAULTS.streamWindowChunks : 0;
    let consumed = 0;
    let rowsSeen = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const ac = new AbortController();
    const call = vs().vstream({ position: from.toString(), filter: all(t), packetSizeMax }, async (evs) => {
      consumed += evs.length;
      for (const e of evs) if (e.type === 'row') rowsSeen += e.changes.length;
      await gate;
      if (reached(to)(evs as StreamEvent[])) ac.abort();
    }, ac.signal);
    try {
      // Wait until the source has read all it will read ahead: its binlog queue is full.
      const stat = () => tablet.vstreamer.stats().find((s) => s.kind === 'vstream');
      // (Or has read everything, which the assertions below then report.)
      await eventually('the source stops reading at its queue bound', () => {
        const s = stat();
        if (s?.readerPosition !== undefined && GtidPosition.parse(s.readerPosition).atLeast(to)) return true;
        return s !== undefined && (s.readerQueuedItems >= READER_QUEUE_ITEMS_MAX || s.readerQueuedBytes >= READER_QUEUE_BYTES_MAX);
      });
      const s = stat()!;
      assert.ok(!GtidPosition.parse(s.readerPosition!).atLeast(to), 'the source has not read the whole transaction while the consumer holds back');
      // Sent ahead of the consumer: the batch it holds, the RPC window, and one batch waiting for credit.
      assert.ok(s.sent - consumed <= (window + 1) * packetSizeMax, `sent ${s.sent}, consumed ${consumed}`);
      assert.ok(s.readerQueuedItems <= READER_QUEUE_ITEMS_MAX, `queued items ${s.readerQueuedItems}`);
      // The byte bound is checked after an item is queued: one row event (8 KiB) over at most.
      assert.ok(s.readerQueuedBytes <= READER_QUEUE_BYTES_MAX + 16 * 1024, `queued bytes ${s.readerQueuedBytes}`);
      assert.ok(rowsSeen < 3000, 'the consumer has not seen everything');
    } catch (err) {
      release();
      ac.abort();
      await call.catch(() => undefined);
      throw err;
    }
    release();
    await call;
    assert.equal(rowsSeen, 3000, 'once released, every row arrives');
  });
}

test('streams at once never share a binlog server id, across streamers of one process; streamsMax refuses more', { timeout: TEST_TIMEOUT_MS }, async () => {
  // A cancelled network call resolves at once; its server side ends a moment later.
  await eventually('no call of an earlier test is open', () => tablet.vstreamer.stats().length === 0);
  const base = vstreamServerIdBase(Number(tablet.alias.split('-')[1]));
  const small = new LocalVStreamer({ dbName: 'vt_customer', connection: { socketPath: tablet.mysqlctl!.socket, user: 'vt_dba' }, vschema: async () => undefined, serverIdBase: base, limits: { streamsMax: 2 } });
  const ac = new AbortController();
  const beats = new Map<number, number>();
  const run = (vs: VStreamer, k: number) =>
    vs.vstream({ position: 'current', filter: all('customer'), heartbeatIntervalMs: 100 }, async (evs) => {
      beats.set(k, (beats.get(k) ?? 0) + evs.filter((e) => e.type === 'heartbeat').length);
    }, ac.signal);
  const calls = [run(small, 0), run(small, 1), run(tablet.vstreamer, 2), run(network, 3)];
  try {
    // Each keeps receiving heartbeats: a dump registered with a taken id would be cut off.
    await eventually('every stream has its heartbeats', () => [0, 1, 2, 3].every((k) => (beats.get(k) ?? 0) >= 3));
    const idsNow = [...small.stats(), ...tablet.vstreamer.stats()].map((s) => s.serverId);
    assert.equal(idsNow.length, 4);
    assert.equal(new Set(idsNow).size, 4, `distinct server ids: ${idsNow.join(', ')}`);
    for (const id of idsNow) assert.ok(id! >= base && id! < base + 0x1000);
    await assert.rejects(run(small, 4), (e: TesseraError) => e.errno === 1040 && e.kind === 'RESOURCE_EXHAUSTED' && /streamsMax \(2\)/.test(e.message));
    await assert.rejects(streamUntil(tablet.vstreamer, 'MariaDB/0-1', all('customer'), () => true), (e: TesseraError) => e.errno === 1210 && /vstream position 'MariaDB\/0-1'/.test(e.message));
  } finally {
    ac.abort();
    await Promise.all(calls);
  }
});
