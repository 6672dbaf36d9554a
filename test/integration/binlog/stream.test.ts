// The row streamer on real MariaDB: key-range split of the tutorial's customer table, consistent
// snapshot + PK-ordered copy, and resuming after the reader dies mid-transaction, a MariaDB
// restart and binlog rotation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '../../../src/mysql/client.js';
import { BinlogReader, currentPosition, GtidPosition, type StreamItem } from '../../../src/mysql/binlog/index.js';
import { parseKeyspaceVSchema } from '../../../src/vschema/index.js';
import { RowStreamer, Snapshot, type StreamEvent } from '../../../src/vreplication/index.js';
import { startMariaDB, type TestMariaDB } from '../../harness/mariadb.js';

const CUSTOMER_VSCHEMA = {
  sharded: true,
  vindexes: { hash: { type: 'hash' } },
  tables: { customer: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] }, corder: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] } },
};

async function collect(streamer: RowStreamer, target: GtidPosition): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  try {
    for await (const ev of streamer) {
      out.push(ev);
      if ((ev.type === 'commit' || ev.type === 'position') && ev.position.atLeast(target)) break;
    }
  } finally {
    streamer.close();
  }
  return out;
}

function changes(evs: StreamEvent[]): string[] {
  const out: string[] = [];
  for (const e of evs) if (e.type === 'row') for (const c of e.changes) out.push(JSON.stringify({ t: e.table, b: c.before, a: c.after }, (_k, v: unknown) => {
    if (typeof v === 'bigint') return String(v);
    const b = v as { type?: unknown; data?: unknown } | null;
    if (b !== null && typeof b === 'object' && b.type === 'Buffer' && Array.isArray(b.data)) return Buffer.from(b.data as number[]).toString();
    return v;
  }));
  return out;
}

function ids(evs: StreamEvent[]): number[] {
  const s = new Set<number>();
  for (const e of evs) if (e.type === 'row') for (const c of e.changes) s.add(Number((c.after ?? c.before)![0]));
  return [...s].sort((a, b) => a - b);
}

test('key-range filters split customer by the hash vindex; the union equals the unfiltered stream', async () => {
  const db = await startMariaDB();
  const c = await Client.connect({ host: db.host, port: db.port, user: 'vt_dba' });
  try {
    await c.query('CREATE DATABASE vt_customer');
    const start = await currentPosition(c);
    await c.query('CREATE TABLE vt_customer.customer (customer_id BIGINT NOT NULL AUTO_INCREMENT, email VARBINARY(128), PRIMARY KEY (customer_id))');
    await c.query('CREATE TABLE vt_customer.corder (order_id BIGINT NOT NULL, customer_id BIGINT, sku VARBINARY(128), price BIGINT, PRIMARY KEY (order_id))');
    await c.query("INSERT INTO vt_customer.customer (email) VALUES ('alice@domain'), ('bob@domain'), ('charlie@domain'), ('dan@domain'), ('eve@domain')");
    await c.query("INSERT INTO vt_customer.corder VALUES (1, 1, 'SKU-1001', 100), (2, 2, 'SKU-1002', 30), (3, 3, 'SKU-1002', 30), (4, 4, 'SKU-1002', 30), (5, 5, 'SKU-1002', 30)");
    await c.query("UPDATE vt_customer.customer SET email = CONCAT('x', email)");
    await c.query('DELETE FROM vt_customer.corder WHERE order_id = 2');
    // An update that moves a row across shards: a delete on one side, an insert on the other.
    await c.query('UPDATE vt_customer.customer SET customer_id = 6 WHERE customer_id = 5');
    const target = await currentPosition(c);
    const vschema = parseKeyspaceVSchema('customer', CUSTOMER_VSCHEMA);
    const base = { host: db.host, port: db.port, user: 'vt_filtered', position: start, database: 'vt_customer' };
    const all = await collect(new RowStreamer({ ...base, filter: { rules: [{ match: '/.*/', filter: '' }] } }), target);
    const sel = (r: string): string => `select * from customer where in_keyrange(customer_id, 'hash', '${r}')`;
    const lo = await collect(new RowStreamer({ ...base, filter: { rules: [{ match: 'customer', filter: sel('-80') }] } }), target);
    const hi = await collect(new RowStreamer({ ...base, filter: { rules: [{ match: 'customer', filter: sel('80-') }] } }), target);
    // hash: 1,2,3,5 -> -80; 4,6 -> 80- (Vitess's tutorial placement).
    assert.deepEqual(ids(lo), [1, 2, 3, 5]);
    assert.deepEqual(ids(hi), [4, 6]);
    const move = [...changes(lo), ...changes(hi)].filter((s) => s.includes('"t":"customer"') && (s.includes('["5",') || s.includes('["6",')) && s.includes('xeve'));
    assert.ok(move.some((s) => s.includes('"a":null')) && move.some((s) => s.includes('"b":null')), `the moved row is a delete in -80 and an insert in 80-: ${move.join(' ')} / ${changes(hi).join(' ')}`);

    // Key range for all tables by primary vindex (VSchema).
    const kLo = await collect(new RowStreamer({ ...base, vschema, filter: { rules: [{ match: '/.*/', filter: '-80' }] } }), target);
    const kHi = await collect(new RowStreamer({ ...base, vschema, filter: { rules: [{ match: '/.*/', filter: '80-' }] } }), target);
    const union = [...changes(kLo), ...changes(kHi)];
    const unfiltered = changes(all);
    // Every change of the unfiltered stream is in exactly one side, except the cross-shard move,
    // which is one update unfiltered and a delete plus an insert split.
    const isMove = (s: string): boolean => s.includes('"t":"customer"') && (s.includes('"b":["5","xeve') || s.includes('"a":["6",'));
    assert.deepEqual(union.filter((s) => !isMove(s)).sort(), unfiltered.filter((s) => !isMove(s)).sort());
    assert.equal(union.filter(isMove).length, 2);
    assert.equal(unfiltered.filter(isMove).length, 1);
    // Both sides see the DDL and reach the same position.
    for (const side of [kLo, kHi]) assert.equal(side.filter((e) => e.type === 'ddl').length, 2);
  } finally {
    c.close();
    await db.stop();
  }
});

test('consistent snapshot: rows at its GTID position, copied in PK order from a last-seen key', async () => {
  const db = await startMariaDB();
  const c = await Client.connect({ host: db.host, port: db.port, user: 'vt_dba' });
  try {
    await c.query('CREATE DATABASE vt_test');
    await c.query('CREATE TABLE vt_test.t (a INT, b VARCHAR(10), v INT, PRIMARY KEY (a, b))');
    for (let i = 0; i < 50; i++) await c.query(`INSERT INTO vt_test.t VALUES (${i % 7}, 'k${i}', ${i})`);
    const snap = await Snapshot.open({ host: db.host, port: db.port, user: 'vt_dba' });
    try {
      assert.ok(snap.position.equals(await currentPosition(c)));
      // Writes after the snapshot are not in it; the binlog from snap.position has them.
      await c.query("INSERT INTO vt_test.t VALUES (100, 'late', 1)");
      const rows: unknown[][] = [];
      let lastPk: unknown[] | undefined;
      for await (const batch of snap.copyTable('vt_test', 't', { batchRowsMax: 8, columns: ['v'] })) {
        assert.deepEqual(batch.fields, ['v']);
        rows.push(...batch.rows);
        lastPk = batch.lastPk;
        if (rows.length === 24) break;
      }
      assert.deepEqual(lastPk, [3, 'k17']); // (a, b) order: a=0..2 give 22 rows, then k10, k17
      for await (const batch of snap.copyTable('vt_test', 't', { batchRowsMax: 8, columns: ['v'], lastPk: lastPk as (number | string)[] })) rows.push(...batch.rows);
      const want = (await c.query("SELECT v FROM vt_test.t WHERE a <> 100 ORDER BY a, b")).rows;
      assert.deepEqual(rows, want);
      const after = await collect(new RowStreamer({ host: db.host, port: db.port, user: 'vt_dba', position: snap.position, database: 'vt_test', filter: { rules: [{ match: 't', filter: '' }] } }), await currentPosition(c));
      assert.deepEqual(changes(after), [JSON.stringify({ t: 't', b: null, a: [100, 'late', 1] })]);
    } finally {
      await snap.close();
    }
  } finally {
    c.close();
    await db.stop();
  }
});

/** Reads items until the position reaches target; returns committed rows' ids (a consumer that applies transactionally). */
async function consume(reader: BinlogReader, target: GtidPosition, onItem?: (it: StreamItem, n: number) => Promise<void> | void): Promise<number[]> {
  const committed: number[] = [];
  let open: number[] = [];
  let n = 0;
  try {
    for await (const it of reader) {
      n++;
      await onItem?.(it, n);
      if (it.kind === 'begin') open = [];
      else if (it.kind === 'rows') for (const r of it.event.rows) open.push(Number(r.after![0]));
      else if (it.kind === 'rollback') open = [];
      else if (it.kind === 'commit') {
        committed.push(...open);
        open = [];
        if (it.position.atLeast(target)) break;
      }
    }
  } finally {
    reader.close();
  }
  return committed;
}

test('resume: reader killed mid-transaction, MariaDB restart, binlog rotation — every row exactly once', async () => {
  const db: TestMariaDB = await startMariaDB();
  let c = await Client.connect({ host: db.host, port: db.port, user: 'vt_dba' });
  try {
    await c.query('CREATE DATABASE vt_test');
    await c.query('CREATE TABLE vt_test.r (id INT PRIMARY KEY, pad MEDIUMTEXT)');
    const start = await currentPosition(c);
    // Transaction 1: many rows events (one per statement) so the reader is mid-transaction for a while.
    await c.query('BEGIN');
    for (let i = 1; i <= 400; i++) await c.query(`INSERT INTO vt_test.r VALUES (${i}, REPEAT('p', 50000))`);
    await c.query('COMMIT');
    await c.query('FLUSH BINARY LOGS');
    await c.query("INSERT INTO vt_test.r VALUES (401, 'after rotation')");
    let target = await currentPosition(c);

    // 1. The server kills the reader's connection mid-transaction: it rolls back and resumes.
    const base = { host: db.host, port: db.port, user: 'vt_repl', heartbeatPeriodMs: 200, reconnectDelayMs: 50 };
    // A small queue keeps the reader (and MariaDB's sender) inside the 20 MB transaction when the kill lands.
    const r1 = new BinlogReader({ ...base, position: start, queueItemsMax: 4 });
    let killed = false;
    let rolledBack = false;
    const got1 = await consume(r1, target, async (it, n) => {
      if (it.kind === 'rollback') rolledBack = true;
      if (!killed && it.kind === 'rows' && n > 5) {
        killed = true;
        const k = await Client.connect({ host: db.host, port: db.port, user: 'vt_dba' });
        const ps = await k.query("SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'");
        for (const row of ps.rows) await k.query(`KILL CONNECTION ${String(row[0])}`);
        k.close();
      }
    });
    assert.ok(killed);
    assert.ok(r1.connects >= 2, `reconnected (${r1.connects} connections)`);
    assert.ok(rolledBack, 'the partial transaction was rolled back');
    assert.deepEqual(got1, Array.from({ length: 401 }, (_, i) => i + 1));

    // 2. A consumer that stopped mid-transaction restarts from its saved (whole-transaction) position.
    const r2 = new BinlogReader({ ...base, position: start });
    let saved = start;
    let count = 0;
    try {
      for await (const it of r2) {
        if (it.kind === 'commit') saved = it.position;
        if (it.kind === 'rows' && ++count === 30) break; // "killed" inside transaction 1
      }
    } finally {
      r2.close();
    }
    assert.ok(saved.equals(start));
    const got2 = await consume(new BinlogReader({ ...base, position: saved }), target);
    assert.deepEqual(got2, Array.from({ length: 401 }, (_, i) => i + 1));

    // 3. MariaDB restarts under a running reader; writes after the restart still arrive once.
    const r3 = new BinlogReader({ ...base, position: target, reconnectRetriesMax: 200 });
    const done = consume(r3, GtidPosition.EMPTY.advance({ domain: 0, server: db.uid, sequence: target.domain(0)!.sequence + 2n }));
    c.close();
    await db.shutdown();
    await db.start();
    c = await Client.connect({ host: db.host, port: db.port, user: 'vt_dba' });
    await c.query("INSERT INTO vt_test.r VALUES (402, 'after restart')");
    await c.query("INSERT INTO vt_test.r VALUES (403, 'and again')");
    target = await currentPosition(c);
    assert.deepEqual(await done, [402, 403]);
    assert.ok(r3.position.equals(target));
  } finally {
    c.close();
    await db.stop();
  }
});
