// Every column type MariaDB 10.11 writes, through the network reader and the row streamer: the
// decoded row events, applied in order, must equal what SELECT returns for the same rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '../../../src/mysql/client.js';
import { currentPosition, GtidPosition, type RowValue } from '../../../src/mysql/binlog/index.js';
import { RowStreamer, type StreamEvent } from '../../../src/vreplication/index.js';
import { startMariaDB, type TestMariaDB } from '../../harness/mariadb.js';

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

const ZERO_ROW = `(8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, b'0', b'0', b'0', 0,
  '0000-00-00', '00:00:00', '00:00:00', '00:00:00', '00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00',
  ' a ', 'a ', ' a ', 'a ', X'01', X'01', ' ', ' ', ' ', ' ', X'00', X'00', X'00', X'00', 'b', 'y', '{}', ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))'), 'z')`;

function nulls(id: number, n: number): string {
  return `(${id}${', NULL'.repeat(n)})`;
}

async function sql(c: Client, ...stmts: string[]): Promise<void> {
  for (const s of stmts) await c.query(s);
}

type State = Map<string, RowValue[]>;

function key(v: RowValue): string {
  return String(v);
}

/** Reads the stream until `target`, applying changes to `state` and checking before-images. */
async function apply(db: TestMariaDB, from: GtidPosition, target: GtidPosition, state: State, seen: StreamEvent[]): Promise<void> {
  const streamer = new RowStreamer({ host: db.host, port: db.port, user: 'vt_dba', position: from, database: 'vt_test', filter: { rules: [{ match: '/.*/', filter: '' }] } });
  try {
    // After DDL a row's next before-image is in the new shape (MODIFY reformats values).
    const stale = new Set<string>();
    for await (const ev of streamer) {
      seen.push(ev);
      if (ev.type === 'ddl') for (const k of state.keys()) stale.add(k);
      if (ev.type === 'row') {
        for (const ch of ev.changes) {
          if (ch.before !== null) {
            const k = key(ch.before[0]);
            const cur = state.get(`${ev.table}/${k}`);
            assert.ok(cur, `before image of ${ev.table} ${k} matches a known row`);
            if (!stale.delete(`${ev.table}/${k}`)) assert.deepEqual(ch.before, cur, `before image of ${ev.table} ${k}`);
            state.delete(`${ev.table}/${k}`);
          }
          if (ch.after !== null) state.set(`${ev.table}/${key(ch.after[0])}`, ch.after);
        }
      }
      if ((ev.type === 'commit' || ev.type === 'position') && ev.position.atLeast(target)) break;
    }
  } finally {
    streamer.close();
  }
}

async function selectAll(c: Client, table: string): Promise<Map<string, RowValue[]>> {
  const r = await c.query(`SELECT * FROM vt_test.${table} ORDER BY 1`);
  return new Map(r.rows.map((row) => [`${table}/${key(row[0])}`, row]));
}

function compare(decoded: State, selected: Map<string, RowValue[]>, floatCols: Set<number>): void {
  assert.deepEqual([...decoded.keys()].sort(), [...selected.keys()].sort());
  for (const [k, want] of selected) {
    const got = decoded.get(k)!;
    assert.equal(got.length, want.length, k);
    for (let i = 0; i < want.length; i++) {
      const w = want[i];
      if (floatCols.has(i) && typeof w === 'number') {
        // SELECT prints FLOAT with 6 significant digits; the binlog has the exact float32.
        assert.equal(typeof got[i] === 'number' ? Number((got[i] as number).toPrecision(6)) : got[i], w, `${k} column ${i}`);
        continue;
      }
      assert.deepEqual(got[i], w, `${k} column ${i}`);
    }
  }
}

test('decoded row events equal SELECT for every column type, through DML, DDL and multi-statement transactions', async () => {
  const db = await startMariaDB();
  const c = await Client.connect({ host: db.host, port: db.port, user: 'vt_dba' });
  try {
    await sql(c, "SET SESSION time_zone = '+00:00'", "SET SESSION sql_mode = ''", 'CREATE DATABASE vt_test');
    const start = await currentPosition(c);
    await sql(c, `CREATE TABLE vt_test.all_types (${COLUMNS})`);
    const colCount = (await c.query('SELECT * FROM vt_test.all_types')).fields.length;
    await sql(c, `INSERT INTO vt_test.all_types VALUES ${MAX_ROW}, ${MIN_ROW}, ${nulls(3, colCount - 1)}, ${ZERO_ROW}`);
    // Multi-byte text and large blobs.
    await sql(
      c,
      `INSERT INTO vt_test.all_types (id, vc, tx, mt, lt, mb, lb, c, e) VALUES (4, REPEAT('日本語', 100), REPEAT('Ελληνικά ', 7000), REPEAT('🙂', 100000), REPEAT('ab', 1500000), RANDOM_BYTES(1024), REPEAT(X'00FF', 1500000), '漢字漢字漢字漢字漢字', 'ü')`,
    );
    // A multi-statement transaction with inserts, updates and deletes.
    await sql(
      c,
      'BEGIN',
      "INSERT INTO vt_test.all_types (id, i32, vc) VALUES (5, 1, 'five'), (6, 2, 'six')",
      "UPDATE vt_test.all_types SET vc = 'FIVE', i32 = NULL WHERE id = 5",
      'DELETE FROM vt_test.all_types WHERE id = 6',
      "UPDATE vt_test.all_types SET d2 = -0.01, t3 = '-00:00:01.5', dt6 = '2000-02-29 12:00:00.5', s = 'y,w', e = 'b', bn = X'FF' WHERE id = 1",
      'COMMIT',
    );
    await sql(c, 'UPDATE vt_test.all_types SET id = 10 WHERE id = 2', 'DELETE FROM vt_test.all_types WHERE id = 3');
    // DDL in between: the table map changes shape; every row gets a new full image after it.
    await sql(c, "ALTER TABLE vt_test.all_types ADD COLUMN extra VARCHAR(5) DEFAULT 'x', MODIFY d2 DECIMAL(12,4)", "UPDATE vt_test.all_types SET extra = 'y'");
    await sql(c, "INSERT INTO vt_test.all_types (id, d2, extra) VALUES (7, 12345678.1234, 'z')");
    // MariaDB 5.3-format temporal columns: the streamer takes their fraction digits from the schema.
    await sql(
      c,
      'SET GLOBAL mysql56_temporal_format = OFF',
      'CREATE TABLE vt_test.old_temporal (id INT PRIMARY KEY, t0 TIME, t3 TIME(3), t6 TIME(6), d0 DATETIME, d2 DATETIME(2), d6 DATETIME(6), s0 TIMESTAMP NULL, s1 TIMESTAMP(1) NULL, s6 TIMESTAMP(6) NULL)',
      'SET GLOBAL mysql56_temporal_format = ON',
      `INSERT INTO vt_test.old_temporal VALUES (1, '-838:59:59', '-838:59:58.999', '12:34:56.000001', '1000-01-01 00:00:00', '2024-02-29 23:59:59.99', '9999-12-31 23:59:59.999999', '1970-01-01 00:00:01', '2038-01-19 03:14:07.9', '2000-01-01 00:00:00.000001'),
        (2, '00:00:00', '-00:00:00.001', '-00:00:00.000001', '0000-00-00 00:00:00', '1000-01-01 00:00:00.01', '2000-06-15 12:30:45.123456', NULL, NULL, '1999-12-31 23:59:59.5')`,
    );
    const target = await currentPosition(c);
    const state: State = new Map();
    const seen: StreamEvent[] = [];
    await apply(db, start, target, state, seen);

    const all = await selectAll(c, 'all_types');
    const old = await selectAll(c, 'old_temporal');
    const fields = (await c.query('SELECT * FROM vt_test.all_types LIMIT 0')).fields.map((f) => f.name);
    compare(new Map([...state].filter(([k]) => k.startsWith('all_types/'))), all, new Set([fields.indexOf('f')]));
    compare(new Map([...state].filter(([k]) => k.startsWith('old_temporal/'))), old, new Set());

    // Stream shape: DDL events, one field event per table shape, transactions bracketed.
    const ddls = seen.filter((e) => e.type === 'ddl').map((e) => (e.type === 'ddl' ? e.statement : ''));
    assert.ok(ddls.some((s) => s.startsWith('CREATE TABLE vt_test.all_types')));
    assert.ok(ddls.some((s) => s.startsWith('ALTER TABLE vt_test.all_types')));
    const fieldEvents = seen.filter((e) => e.type === 'field' && e.table === 'all_types');
    assert.equal(fieldEvents.length, 2);
    const last = fieldEvents[1];
    assert.ok(last.type === 'field' && last.fields.at(-1)?.name === 'extra' && last.primaryKey?.[0] === 'id');
    let open = false;
    for (const e of seen) {
      if (e.type === 'begin') {
        assert.equal(open, false);
        open = true;
      } else if (e.type === 'commit') {
        assert.equal(open, true);
        open = false;
      } else if (e.type === 'row' || e.type === 'ddl') assert.equal(open, true);
    }
  } finally {
    c.close();
    await db.stop();
  }
});
