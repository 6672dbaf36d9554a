// Every column type MariaDB 10.11 writes, through the network reader and the row streamer: the
// decoded row events, applied in order, must equal what SELECT returns for the same rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '../../../src/mysql/client.js';
import { currentPosition, GtidPosition, type RowValue } from '../../../src/mysql/binlog/index.js';
import { RowStreamer, type StreamEvent } from '../../../src/vreplication/index.js';
import { startMariaDB, type TestMariaDB } from '../../harness/mariadb.js';
import { COLUMNS, MAX_ROW, MIN_ROW, ZERO_ROW, nulls } from '../../harness/all-types.js';

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
