// The source side's key-range fast paths on real MariaDB, each against the full decode it replaces:
// the copy tests MariaDB's text rows by their key cell and decodes only the rows it keeps
// (filter.ts keepText), and the binlog decoder decodes a row image for its key column first and
// whole only when the image is kept (RowKeyFilter). For tables sharded by every vindex type the
// filter supports, over integer, text and binary key columns with NULLs, negatives, the 64-bit
// edges and rows an update moves across the range, each range's rows must be exactly what
// filtering fully decoded rows keeps.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '../../../src/mysql/client.js';
import { BinlogReader, currentPosition, type GtidPosition } from '../../../src/mysql/binlog/index.js';
import { decodeTextRow, type SqlValue } from '../../../src/mysql/values.js';
import type { ColumnDefinition } from '../../../src/mysql/protocol.js';
import { parseKeyspaceVSchema, type KeyspaceVSchema } from '../../../src/vschema/index.js';
import { keyspaceIdSource, LocalVStreamer, planColumns, RowFilter, RowStreamer, type Filter, type StreamEvent } from '../../../src/vreplication/index.js';
import { shortestFloat32 } from '../../../src/vreplication/local-vstreamer.js';
import { startMariaDB, type TestMariaDB } from '../../harness/mariadb.js';

// table -> [vindex type, key column definition, key values (SQL literals)]
const TABLES: Record<string, [string, string, string[]]> = {
  t_hash: ['hash', 'k BIGINT', ['1', '2', '3', '4', '5', '-1', '-9223372036854775808', '9223372036854775807', '123456789012345678', '999999999999999', '1000000000000000', 'NULL']],
  t_hash_u: ['hash', 'k BIGINT UNSIGNED', ['0', '18446744073709551615', '42', '4', 'NULL']],
  t_hash_int: ['hash', 'k INT(8) ZEROFILL', ['1', '17', '4', '99999999', 'NULL']],
  t_hash_text: ['hash', 'k VARCHAR(32)', ["'42'", "'4'", "'abc'", "'-1'", "' 7'", "''", 'NULL']],
  t_numeric: ['numeric', 'k INT UNSIGNED', ['1', '2', '4294967295', '2147483648', 'NULL']],
  t_xxhash: ['xxhash', 'k VARCHAR(32)', ["'a'", "'b'", "'customer-1'", "'é'", "''", 'NULL']],
  t_binary: ['binary', 'k VARBINARY(16)', ["X'00'", "X'7F'", "X'80'", "X'FFFF'", "X''", 'NULL']],
  t_binary_md5: ['binary_md5', 'k VARBINARY(16)', ["'x'", "'y'", "X'0080'", "'zz'", 'NULL']],
  t_loose_md5: ['unicode_loose_md5', 'k VARCHAR(32) CHARACTER SET utf8mb4', ["'Straße'", "'STRASSE'", "'a  '", "'ü'", 'NULL']],
  t_loose_xxhash: ['unicode_loose_xxhash', 'k VARCHAR(32) CHARACTER SET utf8mb4', ["'Straße'", "'x'", "'Ω'", 'NULL']],
  t_reverse_bits: ['reverse_bits', 'k BIGINT', ['1', '2', '3', '-5', 'NULL']],
  t_float_key: ['hash', 'k FLOAT', ['1', '3', '123456789', '0.5', 'NULL']],
};
const RANGES = ['-80', '80-', '-40', '40-c0', 'c0-'];

let db: TestMariaDB;
let c: Client;
let vschema: KeyspaceVSchema;
let from: GtidPosition;
let to: GtidPosition;

before(async () => {
  db = await startMariaDB();
  c = await Client.connect({ host: db.host, port: db.port, user: 'vt_dba' });
  await c.query('CREATE DATABASE vt_ks');
  await c.query('USE vt_ks');
  const vindexes: Record<string, { type: string }> = {};
  const tables: Record<string, { column_vindexes: { column: string; name: string }[] }> = {};
  for (const [t, [type, col, values]] of Object.entries(TABLES)) {
    vindexes[type] = { type };
    tables[t] = { column_vindexes: [{ column: 'k', name: type }] };
    // The key column between others, so the cells before it are stepped over.
    await c.query(`CREATE TABLE ${t} (id INT NOT NULL, pad VARCHAR(300), ${col}, note TEXT, PRIMARY KEY (id))`);
    const rows = [];
    for (let i = 0; i < 60; i++) rows.push(`(${i}, ${i % 5 === 0 ? 'NULL' : `REPEAT('p', ${(i * 37) % 300})`}, ${values[i % values.length]}, 'n${i}')`);
    await c.query(`INSERT INTO ${t} VALUES ${rows.join(', ')}`);
  }
  vschema = parseKeyspaceVSchema('ks', { sharded: true, vindexes, tables });
  from = await currentPosition(c);
  for (const [t, [, , values]] of Object.entries(TABLES)) {
    // Inserts, updates that keep the key, updates that move it (across ranges, to and from NULL), deletes.
    const rows = [];
    for (let i = 100; i < 140; i++) rows.push(`(${i}, 'q', ${values[(i * 7) % values.length]}, 'm${i}')`);
    await c.query(`INSERT INTO ${t} VALUES ${rows.join(', ')}`);
    await c.query(`UPDATE ${t} SET note = CONCAT(note, '+') WHERE id % 3 = 0`);
    await c.query(`UPDATE ${t} SET k = ${values[1]} WHERE id % 4 = 1`);
    await c.query(`UPDATE ${t} SET k = NULL WHERE id % 11 = 2`);
    await c.query(`UPDATE ${t} SET k = ${values[2]} WHERE id % 13 = 5`);
    await c.query(`DELETE FROM ${t} WHERE id % 7 = 6`);
  }
  to = await currentPosition(c);
});

after(async () => {
  c?.close();
  await db?.stop();
});

const filterOf = (range: string): Filter => ({ rules: [{ match: '/.*', filter: range }] });

test('the copy keeps exactly the rows the full decode keeps, for every vindex type and key column', async () => {
  const vs = new LocalVStreamer({ dbName: 'vt_ks', connection: { host: db.host, port: db.port, user: 'vt_dba' }, vschema: async () => vschema, serverIdBase: 0x50000000 });
  try {
    for (const table of Object.keys(TABLES)) {
      // The full decode: every row decoded, then filtered by the same plan.
      let fields: ColumnDefinition[] = [];
      const all: SqlValue[][] = [];
      await c.stream(`SELECT id, pad, ${TABLES[table][1].startsWith('k FLOAT') ? 'CAST(k AS DOUBLE)' : 'k'}, note FROM vt_ks.${table} ORDER BY id`, {
        fields: (f) => {
          fields = f;
        },
        row: (p) => {
          const r = decodeTextRow(p, fields);
          // As the copy reads a FLOAT: as DOUBLE, brought to the float32's shortest decimal.
          if (TABLES[table][1].startsWith('k FLOAT') && typeof r[2] === 'number') r[2] = shortestFloat32(r[2]);
          all.push(r);
        },
      });
      let total = 0;
      for (const range of RANGES) {
        const plan = planColumns(filterOf(range), table, ['id', 'pad', 'k', 'note'], keyspaceIdSource(vschema))!;
        const keep = new Uint8Array(all.length);
        plan.keepMany!(all, 0, all.length, keep);
        const want = all.filter((_, i) => keep[i] === 1).map((r) => r[0]);
        const got: SqlValue[] = [];
        // Small batches and SELECTs, so groups and batches end at many places.
        await vs.vstreamRows({ table, filter: filterOf(range), lastPk: null, batchRowsMax: 7 }, async (b) => {
          if (b.kind === 'rows') got.push(...b.rows.map((r) => r[0]));
        }, new AbortController().signal);
        assert.deepEqual(got, want, `${table} ${range}`);
        if (range === '-80' || range === '80-') total += got.length;
      }
      // The two halves hold every row with a keyspace id: none lost, none twice.
      const nulls = all.filter((r) => r[2] === null).length;
      assert.ok(total <= all.length - nulls && total > 0, `${table}: ${total} of ${all.length} rows`);
    }
  } finally {
    vs.close();
  }
});

/** Row changes of a stream, as text, table by table. */
function changes(evs: readonly StreamEvent[]): string[] {
  const out: string[] = [];
  for (const e of evs) {
    if (e.type !== 'row') continue;
    for (const ch of e.changes) out.push(JSON.stringify({ t: e.table, b: ch.before, a: ch.after }, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)));
  }
  return out;
}

test('the binlog decoder key-first keeps exactly the row images the full decode keeps, moves across the range included', async () => {
  const base = { host: db.host, port: db.port, user: 'vt_dba', database: 'vt_ks', serverId: 0x50000100 };
  for (const range of RANGES) {
    // Fast path: the row streamer, whose decoder tests each image's key column first.
    const fast: StreamEvent[] = [];
    const streamer = new RowStreamer({ ...base, position: from, filter: filterOf(range), vschema });
    try {
      for await (const ev of streamer) {
        fast.push(ev);
        if ((ev.type === 'commit' || ev.type === 'position') && ev.position.atLeast(to)) break;
      }
    } finally {
      streamer.close();
    }
    // Full decode: every image decoded whole by a plain reader, then the same RowFilter keeps rows.
    const full: StreamEvent[] = [];
    const filter = new RowFilter('vt_ks', filterOf(range), keyspaceIdSource(vschema));
    const reader = new BinlogReader({ ...base, serverId: 0x50000101, position: from });
    try {
      for await (const item of reader) {
        filter.push(item, full);
        if (item.kind === 'commit' && item.position.atLeast(to)) break;
      }
    } finally {
      reader.close();
    }
    const f = changes(fast);
    assert.deepEqual(f, changes(full), range);
    assert.ok(f.length > 0, range);
    assert.deepEqual(fast.filter((e) => e.type === 'commit').length, full.filter((e) => e.type === 'commit').length, range);
  }
});
