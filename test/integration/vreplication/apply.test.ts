// The player's packed SQL (SqlPacker: multi-row inserts, `IN` deletes, upserts for key-keeping
// updates, multi-statement packets) must leave a table exactly as one statement per row change
// does. Seeded random changes — inserts, updates that keep or change the key, deletes, several
// to one row in a row — go to two copies of the same tables on a real MariaDB, one each way.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '../../../src/mysql/client.js';
import type { SqlValue } from '../../../src/mysql/values.js';
import { APPLY_ALL, changeSql, DELETE_KEYS_MAX, SqlPacker, type TargetTable } from '../../../src/vreplication/apply.js';
import { startMariaDB, type TestMariaDB } from '../../harness/mariadb.js';

const TABLES = `
CREATE TABLE customer (customer_id bigint NOT NULL, email varbinary(64), name varchar(64) COLLATE utf8mb4_general_ci, balance decimal(12,2), note blob, PRIMARY KEY (customer_id), UNIQUE KEY (email));
CREATE TABLE tag (owner varchar(32) COLLATE utf8mb4_general_ci NOT NULL, label varbinary(32) NOT NULL, weight int, PRIMARY KEY (owner, label));
CREATE TABLE seen (k int NOT NULL, PRIMARY KEY (k))`;

const customer: TargetTable = { name: 'customer', columns: ['customer_id', 'email', 'name', 'balance', 'note'], keyIndexes: [0] };
const tag: TargetTable = { name: 'tag', columns: ['owner', 'label', 'weight'], keyIndexes: [0, 1] };
const seen: TargetTable = { name: 'seen', columns: ['k'], keyIndexes: [0] };

interface Change {
  readonly t: TargetTable;
  readonly before: SqlValue[] | null;
  readonly after: SqlValue[] | null;
}

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Valid changes: each applies to the rows as the changes before it left them. */
function changes(seed: number, n: number): Change[] {
  const rnd = seeded(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const rows = new Map<string, { t: TargetTable; row: SqlValue[] }>();
  const id = (t: TargetTable, row: SqlValue[]) => t.name + ':' + t.keyIndexes.map((i) => (Buffer.isBuffer(row[i]) ? (row[i] as Buffer).toString('hex') : String(row[i]).toLowerCase())).join('|');
  let next = 1;
  const fresh = (t: TargetTable): SqlValue[] => {
    const k = next++;
    if (t === customer) return [BigInt(k) * 1_000_003n, Buffer.from(`e${k}@x`), `Näme ${k}`, (k % 1000) + '.25', k % 5 === 0 ? null : Buffer.from([0, 255, k % 256])];
    if (t === tag) return [pick(['ann', 'Bob', 'çé']) + (k % 7), Buffer.from([k % 256, 0, 39, 92]), k];
    return [k];
  };
  const out: Change[] = [];
  // Runs of one kind, so the packer has something to merge, broken by the other kinds.
  while (out.length < n) {
    const kind = pick(['insert', 'insert', 'update', 'update', 'rekey', 'delete']);
    const t = pick([customer, customer, tag, seen]);
    const len = 1 + Math.floor(rnd() * 12);
    for (let j = 0; j < len; j++) {
      const have = [...rows.values()].filter((r) => r.t === t);
      if (kind === 'insert' || have.length === 0) {
        const row = fresh(t);
        rows.set(id(t, row), { t, row });
        out.push({ t, before: null, after: row });
        continue;
      }
      const old = pick(have);
      rows.delete(id(t, old.row));
      if (kind === 'delete') {
        out.push({ t, before: old.row, after: null });
        continue;
      }
      let row = [...old.row];
      if (kind === 'rekey') row = [...fresh(t).slice(0, t.keyIndexes.length), ...row.slice(t.keyIndexes.length)];
      else if (t === customer) row = [row[0], Buffer.from(`u${next++}@x`), `upd ${j}`, '7.50', rnd() < 0.5 ? null : Buffer.from('x')];
      else if (t === tag) row = [row[0], row[1], Number(row[2]) + 1];
      rows.set(id(t, row), { t, row });
      out.push({ t, before: old.row, after: row });
    }
  }
  return out;
}

describe('packed apply SQL against one statement per row', { timeout: 120_000 }, () => {
  let db: TestMariaDB;
  let c: Client;

  before(async () => {
    db = await startMariaDB();
    c = await Client.connect({ host: db.host, port: db.port, user: 'vt_dba' });
    for (const d of ['vt_rows', 'vt_packed']) {
      await c.query(`CREATE DATABASE ${d}`);
      await c.query(`USE ${d}`);
      await c.queryMulti(TABLES);
    }
  });

  after(async () => {
    c?.close();
    await db?.stop();
  });

  async function dump(d: string): Promise<string> {
    const parts: string[] = [];
    for (const [t, order] of [['customer', 'customer_id'], ['tag', 'owner, label'], ['seen', 'k']]) {
      const r = await c.query(`SELECT * FROM ${d}.${t} ORDER BY ${order}`);
      parts.push(JSON.stringify(r.rows, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
    }
    return parts.join('\n');
  }

  for (const packetCharsMax of [400, 1024 * 1024]) {
    it(`leaves the same rows (packets of at most ${packetCharsMax} characters)`, async () => {
      const seed = Number(process.env.TESSERA_TEST_SEED ?? Date.now() % 100000);
      console.log(`apply test seed ${seed}`);
      for (const d of ['vt_rows', 'vt_packed']) for (const t of ['customer', 'tag', 'seen']) await c.query(`TRUNCATE ${d}.${t}`);
      const all = changes(seed, 600);
      let statements = 0;
      // A few target transactions, as the player cuts them.
      for (let lo = 0; lo < all.length; lo += 150) {
        const slice = all.slice(lo, lo + 150);
        const rows: string[] = [];
        const packer = new SqlPacker('vt_packed', packetCharsMax);
        for (const ch of slice) {
          rows.push(...changeSql('vt_rows', ch.t, ch.before, ch.after, APPLY_ALL));
          packer.change(ch.t, ch.before, ch.after, APPLY_ALL);
        }
        const packets = packer.finish();
        assert.ok(packer.empty, 'finish empties the packer');
        const split = (p: Buffer) => p.toString('utf8').split(/;(?=INSERT|UPDATE|DELETE)/);
        for (const p of packets) assert.ok(p.length <= packetCharsMax || (split(p).length === 1 && !p.includes('),(')), 'a packet over its limit (in bytes) holds one row change');
        if (packetCharsMax > 1000) assert.equal(packets.length, 1);
        statements += packets.reduce((n, p) => n + split(p).length, 0);
        await c.query('BEGIN');
        for (const s of rows) await c.query(s);
        await c.query('COMMIT');
        await c.query('BEGIN');
        for (const p of packets) await c.queryMulti(p);
        await c.query('COMMIT');
      }
      // Runs average six changes, but key-moving updates stay one statement each: about a third
      // as many statements as changes is typical, half is a floor any seed clears.
      assert.ok(statements < all.length / 2, `runs were merged (${statements} statements for ${all.length} row changes)`);
      const want = await dump('vt_rows');
      assert.ok(want.length > 100, 'the changes left rows');
      assert.equal(await dump('vt_packed'), want);
    });
  }

  it(`deletes at most ${DELETE_KEYS_MAX} keys per statement`, async () => {
    await c.query('TRUNCATE vt_packed.seen');
    await c.query('INSERT INTO vt_packed.seen SELECT seq FROM seq_1_to_1200');
    const packer = new SqlPacker('vt_packed', 1024 * 1024);
    for (let k = 1; k <= 1200; k++) packer.change(seen, [k], null, APPLY_ALL);
    const packets = packer.finish();
    assert.equal(packets.length, 1);
    assert.equal(packets[0].toString().match(/DELETE/g)?.length, Math.ceil(1200 / DELETE_KEYS_MAX));
    await c.queryMulti(packets[0]);
    assert.equal((await c.query('SELECT COUNT(*) FROM vt_packed.seen')).rows[0][0], 0n);
  });

  it('fails the whole packet on the first failing statement', async () => {
    await c.query('TRUNCATE vt_packed.seen');
    const packer = new SqlPacker('vt_packed', 1024 * 1024);
    packer.change(seen, null, [1], APPLY_ALL);
    packer.statement('UPDATE vt_packed.nosuch SET k = 1');
    packer.change(seen, null, [2], APPLY_ALL);
    await c.query('BEGIN');
    await assert.rejects(async () => {
      for (const p of packer.finish()) await c.queryMulti(p);
    }, /nosuch/);
    await c.query('ROLLBACK');
    assert.equal((await c.query('SELECT COUNT(*) FROM vt_packed.seen')).rows[0][0], 0n);
  });
});
