// After images as MariaDB's bytes (VStreamRequest.rawAfterImages) against the value path, side by
// side over the same binlog: for every row change of every column type the binlog reader's tests
// cover (test/harness/all-types.ts: the limit rows, NULLs, zero values, multi-byte text, large
// blobs, and generated rows of random values, seed printed), MariaDB 5.3-format temporals, text
// needing escapes and text in latin1, the literal tuple the target writes from the image bytes
// (after a trip through the VStream codec) must equal the one it writes from the decoded values,
// byte for byte, and the image decoded must equal the values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '../../../src/mysql/client.js';
import { currentPosition, GtidPosition } from '../../../src/mysql/binlog/index.js';
import { RowStreamer, type RowChangeOut, type StreamEvent } from '../../../src/vreplication/index.js';
import { decodeEvents, encodeEvents } from '../../../src/vreplication/vstream-codec.js';
import { decodeImage, imagePlan, writeImageTuple, type ImagePlan } from '../../../src/vreplication/row-images.js';
import { SqlBytes } from '../../../src/vreplication/sql-bytes.js';
import { startMariaDB, type TestMariaDB } from '../../harness/mariadb.js';
import { COLUMNS, MAX_ROW, MIN_ROW, ZERO_ROW, nulls } from '../../harness/all-types.js';

const SEED = Number(process.env.TEST_SEED ?? Date.now() % 1_000_000);

function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

/** A random SQL literal for each column of all_types (NULL now and then). */
function randomRow(id: number, rnd: () => number): string {
  const int = (lo: number, hi: number) => String(Math.floor(lo + rnd() * (hi - lo + 1)));
  const big = (signed: boolean) => {
    let v = 0n;
    for (let i = 0; i < 4; i++) v = (v << 16n) | BigInt(Math.floor(rnd() * 65536));
    if (signed) v = BigInt.asIntN(64, v);
    // Small values too: around the 2^53 boundary and near zero.
    const pick = rnd();
    if (pick < 0.2) return String(Math.floor(rnd() * 1000) - (signed ? 500 : 0));
    if (pick < 0.4) return String((signed && rnd() < 0.5 ? -1n : 1n) * (2n ** 53n + BigInt(Math.floor(rnd() * 5)) - 2n));
    return String(v);
  };
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 10)).join('');
  const dec = (p: number, s: number, unsigned = false) => `${!unsigned && rnd() < 0.5 ? '-' : ''}${digits(Math.max(1, Math.floor(rnd() * (p - s)) || 0)) || '0'}${s > 0 ? '.' + digits(s) : ''}`;
  const CHARS = ['a', 'Z', '0', ' ', "'", '\\', '\n', '\r', '\t', '\x1a', '"', '%', 'é', 'ü', '日', '🙂', 'ß', '€'];
  const text = (n: number, latin1 = false) => {
    let s = '';
    const len = Math.floor(rnd() * n);
    for (let i = 0; i < len; i++) {
      const ch = CHARS[Math.floor(rnd() * CHARS.length)];
      if (latin1 && ch.charCodeAt(0) > 0xff) continue;
      s += ch;
    }
    return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  };
  const bytes = (n: number) => `X'${Array.from({ length: Math.floor(rnd() * n) }, () => Math.floor(rnd() * 256).toString(16).padStart(2, '0')).join('')}'`;
  const p2 = (n: number) => String(n).padStart(2, '0');
  const date = () => `${int(1000, 9999)}-${p2(Number(int(1, 12)))}-${p2(Number(int(1, 28)))}`;
  const time = (f: number) => `${rnd() < 0.3 ? '-' : ''}${int(0, 838)}:${p2(Number(int(0, 59)))}:${p2(Number(int(0, 58)))}${f > 0 ? '.' + digits(f) : ''}`;
  const dt = (f: number) => `${date()} ${p2(Number(int(0, 23)))}:${p2(Number(int(0, 59)))}:${p2(Number(int(0, 59)))}${f > 0 ? '.' + digits(f) : ''}`;
  const ts = (f: number) => `2001-${p2(Number(int(1, 12)))}-${p2(Number(int(1, 28)))} ${p2(Number(int(0, 23)))}:${p2(Number(int(0, 59)))}:${p2(Number(int(0, 59)))}${f > 0 ? '.' + digits(f) : ''}`;
  const q = (s: string) => `'${s}'`;
  const vals: (() => string)[] = [
    () => int(-128, 127), () => int(0, 255), () => int(-32768, 32767), () => int(0, 65535), () => int(-8388608, 8388607), () => int(0, 16777215),
    () => int(-2147483648, 2147483647), () => int(0, 4294967295), () => big(true), () => big(false),
    () => dec(1, 0), () => dec(10, 2), () => dec(65, 30), () => dec(18, 9), () => dec(20, 0, true), () => dec(5, 5), () => dec(30, 1),
    () => (rnd() * 1e6 - 5e5).toPrecision(6), () => String((rnd() - 0.5) * 10 ** Math.floor(rnd() * 40)), () => `b'${int(0, 1)}'`, () => `b'${Number(int(0, 1023)).toString(2)}'`, () => `b'${Number(int(0, 2 ** 30)).toString(2)}'`, () => int(1901, 2155),
    () => q(date()), () => q(time(0)), () => q(time(1)), () => q(time(3)), () => q(time(6)), () => q(dt(0)), () => q(dt(2)), () => q(dt(6)), () => q(ts(0)), () => q(ts(4)),
    () => text(10), () => text(10, true), () => text(300), () => text(10, true), () => bytes(4), () => bytes(300),
    () => text(80), () => text(2000), () => text(100), () => text(100), () => bytes(200), () => bytes(300), () => bytes(300), () => bytes(300),
    () => q(['a', 'b', 'ü', ''][Math.floor(rnd() * 4)]), () => q(['', 'x', 'y,z', 'x,y,z,w', 'w'][Math.floor(rnd() * 5)]), () => q(JSON.stringify({ k: Number(int(0, 99)), s: 'é"\\' })).replace(/\\/g, '\\\\'),
    () => `ST_GeomFromText('POINT(${int(-99, 99)} ${int(-99, 99)})')`, () => text(255),
  ];
  return `(${id}, ${vals.map((v) => (rnd() < 0.1 ? 'NULL' : v())).join(', ')})`;
}

async function stream(db: TestMariaDB, from: GtidPosition, to: GtidPosition, raw: boolean): Promise<StreamEvent[]> {
  const s = new RowStreamer({
    host: db.host,
    port: db.port,
    user: 'vt_dba',
    position: from,
    database: 'vt_test',
    filter: { rules: [{ match: 'cols', filter: 'select vc, id, i64 from cols' }, { match: '/.*/', filter: '' }] },
    keyOnlyBefore: true,
    rawAfterImages: raw,
  });
  const out: StreamEvent[] = [];
  try {
    for await (const ev of s) {
      out.push(ev);
      if ((ev.type === 'commit' || ev.type === 'position') && ev.position.atLeast(to)) break;
    }
  } finally {
    s.close();
  }
  return out;
}

test(`after images as bytes write the same literals as decoded values, every column type (seed ${SEED})`, async () => {
  console.log(`row-images seed ${SEED} (TEST_SEED=${SEED} repeats it)`);
  const rnd = prng(SEED);
  const db = await startMariaDB();
  const c = await Client.connect({ host: db.host, port: db.port, user: 'vt_dba' });
  try {
    for (const s of ["SET SESSION time_zone = '+00:00'", "SET SESSION sql_mode = ''", 'CREATE DATABASE vt_test']) await c.query(s);
    const from = await currentPosition(c);
    await c.query(`CREATE TABLE vt_test.all_types (${COLUMNS})`);
    const colCount = (await c.query('SELECT * FROM vt_test.all_types')).fields.length;
    await c.query(`INSERT INTO vt_test.all_types VALUES ${MAX_ROW}, ${MIN_ROW}, ${nulls(3, colCount - 1)}, ${ZERO_ROW}`);
    await c.query(
      `INSERT INTO vt_test.all_types (id, vc, tx, mt, lb, c, e, vcl) VALUES (4, REPEAT('日本語', 100), REPEAT('it''s a \\\\ test\\n', 500), REPEAT('🙂', 100000), REPEAT(X'00FF', 100000), '漢字漢字漢字漢字漢字', 'ü', 'Ä''ö')`,
    );
    const ids: number[] = [];
    for (let id = 100; id < 400; id += 20) {
      const rows: string[] = [];
      for (let k = id; k < id + 20; k++) {
        rows.push(randomRow(k, rnd));
        ids.push(k);
      }
      await c.query(`INSERT INTO vt_test.all_types VALUES ${rows.join(', ')}`);
    }
    // Updates (the after image is what differs), key changes, deletes.
    await c.query("UPDATE vt_test.all_types SET vc = CONCAT(IFNULL(vc, ''), 'ü''\\\\'), i64 = IFNULL(i64, 0) DIV 2, dt6 = NOW(6) WHERE id % 3 = 0");
    await c.query('UPDATE vt_test.all_types SET id = id + 1000 WHERE id % 7 = 0');
    await c.query('DELETE FROM vt_test.all_types WHERE id % 11 = 0');
    // A projection (columns in another order than the table's), and 5.3-format temporals.
    await c.query('CREATE TABLE vt_test.cols (id BIGINT UNSIGNED PRIMARY KEY, a INT, vc VARCHAR(20), i64 BIGINT)');
    await c.query("INSERT INTO vt_test.cols VALUES (18446744073709551615, 1, 'x''y', -9007199254740993), (1, NULL, NULL, 9007199254740992)");
    await c.query("UPDATE vt_test.cols SET vc = 'z', i64 = -1");
    await c.query('SET GLOBAL mysql56_temporal_format = OFF');
    await c.query('CREATE TABLE vt_test.old_temporal (id INT PRIMARY KEY, t3 TIME(3), d0 DATETIME, d6 DATETIME(6), s1 TIMESTAMP(1) NULL)');
    await c.query('SET GLOBAL mysql56_temporal_format = ON');
    await c.query("INSERT INTO vt_test.old_temporal VALUES (1, '-838:59:58.999', '1000-01-01 00:00:00', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.9'), (2, NULL, '0000-00-00 00:00:00', NULL, NULL)");
    const to = await currentPosition(c);

    const plain = (await stream(db, from, to, false)).filter((e) => e.type === 'row' || e.type === 'field');
    // The raw stream crosses the VStream codec, as it does between tablets.
    const raw = decodeEvents(encodeEvents((await stream(db, from, to, true)).filter((e) => e.type === 'row' || e.type === 'field')));
    assert.equal(raw.length, plain.length, 'the same field and row events');
    const plans = new Map<string, ImagePlan>();
    let images = 0;
    const tables = new Set<string>();
    for (let e = 0; e < raw.length; e++) {
      const r = raw[e];
      const p = plain[e];
      assert.equal(r.type, p.type);
      if (r.type === 'field' && p.type === 'field') {
        assert.deepEqual(r.fields, p.fields);
        assert.ok(r.image, `field event of ${r.table} describes its images`);
        plans.set(r.table, imagePlan(r.database, r.table, r.image));
        continue;
      }
      if (r.type !== 'row' || p.type !== 'row') continue;
      const ip = plans.get(r.table)!;
      assert.equal(r.changes.length, p.changes.length);
      for (let k = 0; k < r.changes.length; k++) {
        const rc: RowChangeOut = r.changes[k];
        const pc: RowChangeOut = p.changes[k];
        assert.deepEqual(rc.before, pc.before, `before image of ${r.table}`);
        // Key-only before images: the key's values are there, and nothing else of all_types.
        if (rc.before !== null) assert.ok(rc.before.some((v) => v !== null), `the key of a before image of ${r.table}`);
        if (rc.before !== null && pc.after !== null && r.table === 'all_types') assert.equal(rc.before.filter((v) => v !== null).length, 1, 'all_types before images hold the key only');
        if (pc.after === null) {
          assert.equal(rc.after, null);
          continue;
        }
        assert.ok(rc.afterImage, `an after image of ${r.table} as bytes`);
        assert.deepEqual(rc.after, [], 'no after values beside the image');
        const want = new SqlBytes().tuple(pc.after).take().toString('latin1');
        const got = new SqlBytes();
        writeImageTuple(got, ip, rc.afterImage!);
        assert.equal(got.take().toString('latin1'), want, `literals of a row of ${r.table} (event ${e}, change ${k})`);
        assert.deepEqual(decodeImage(ip, rc.afterImage!), pc.after, `decoded image of ${r.table}`);
        images++;
        tables.add(r.table);
      }
    }
    assert.deepEqual([...tables].sort(), ['all_types', 'cols', 'old_temporal']);
    assert.ok(images >= ids.length + 5, `${images} images compared`);
  } finally {
    c.close();
    await db.stop();
  }
});
