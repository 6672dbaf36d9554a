// A parallel, chunked copy resumes exactly after kill -9 of the target tablet. Tablets run as
// `bin/tessera tablet` processes over MariaDBs of their own: a table with a composite key (a string
// and a bigint) is copied by several readers and insert workers, rate-capped so the copy lasts,
// while a writer inserts, updates and deletes on the source; at seeded random points mid-copy the
// target primary's tablet process is killed with SIGKILL and started again (it adopts its running
// MariaDB and the stream goes on from copy_state).
//
// A monitor reads the target's copy_state and vreplication rows in one statement throughout: no
// chunk's lastpk moves backwards, a done chunk never comes back, rows_copied never shrinks, and the
// stream never reports an error (a batch committed twice runs into the primary key). At the end
// the target equals the source row for row. TESSERA_TEST_SEED repeats a run; PRESUME_KILLS (3).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { WORKFLOW_COMMANDS } from '../../../src/ctld/workflow-commands.js';
import type { CtldContext } from '../../../src/ctld/command.js';
import { GtidPosition } from '../../../src/mysql/binlog/index.js';
import { RpcTabletManagerClient } from '../../../src/tablet/index.js';
import { openTopoServer, type JsonObject, type TopoServer } from '../../../src/topo/index.js';
import { parseLastPk } from '../../../src/vreplication/lastpk.js';
import { testRoot } from '../../harness/processes.js';
import { TabletChild } from '../../harness/tablet-child.js';

const SEED = Number(process.env.TESSERA_TEST_SEED ?? Date.now() % 1_000_000);
const KILLS = Number(process.env.PRESUME_KILLS ?? 3);
const ROWS = 8000;
const REGIONS = ['east', 'north', 'south', 'west'];

function seeded(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Keys (region, id) compare as plain ASCII strings and bigints here. */
function cmpKey(a: readonly unknown[], b: readonly unknown[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as string | bigint | number;
    const y = b[i] as string | bigint | number;
    if (x < y) return -1;
    if (x > y) return 1;
  }
  return 0;
}

describe('Parallel chunked copy resumes exactly after kill -9 of the target tablet', { timeout: 600_000 }, () => {
  const rnd = seeded(SEED);
  let topo: TopoServer;
  let tmc: RpcTabletManagerClient;
  let ctx: CtldContext;
  const root = testRoot();
  const topoDir = path.join(root, 'topo');
  const src = new TabletChild({ uid: 100, keyspace: 'commerce', shard: '0', type: 'primary', root, topoDir });
  const dst = new TabletChild({ uid: 200, keyspace: 'customer', shard: '0', type: 'primary', root, topoDir });

  before(async () => {
    console.log(`parallel resume test seed ${SEED} (TESSERA_TEST_SEED=${SEED} repeats it)`);
    topo = openTopoServer({ topoImplementation: 'file', topoGlobalServerAddress: topoDir, topoGlobalRoot: '/tessera/global' });
    await src.start();
    await dst.start();
    tmc = new RpcTabletManagerClient(topo);
    ctx = { topo, tmc };
    await tmc.applySchema(src.alias, { sql: 'CREATE TABLE item (region varchar(8) NOT NULL, id bigint NOT NULL, val varchar(32) NOT NULL, PRIMARY KEY (region, id))' });
    for (const ks of ['commerce', 'customer']) await topo.rebuildKeyspaceGraph(ks, { cells: ['zone1'] });
    await topo.rebuildVSchemaGraph({ cells: ['zone1'] });
    const c = await src.dba('vt_commerce');
    try {
      for (let i = 0; i < ROWS; i += 1000) {
        const vals: string[] = [];
        // Skewed: half the rows in 'east'.
        for (let k = i; k < i + 1000; k++) vals.push(`('${k % 2 === 0 ? 'east' : REGIONS[k % 4]}', ${k}, 's${k}')`);
        await c.query(`INSERT IGNORE INTO item VALUES ${vals.join(',')}`);
      }
    } finally {
      await c.end();
    }
  });

  after(async () => {
    tmc?.close();
    await Promise.all(
      [src, dst].map(async (t) => {
        // A tablet that does not end on SIGTERM is a bug of its own: say so, with its last words.
        const slow = setTimeout(() => console.log(`tablet ${t.alias} has not stopped 30 s after SIGTERM; its output:\n${t.output().split('\n').slice(-40).join('\n')}`), 30_000);
        await t.stop().catch(() => undefined);
        clearTimeout(slow);
      }),
    );
    await topo?.close();
  });

  it('copies through kills of the target tablet without a lost or repeated batch', async () => {
    const pool = mysql.createPool({ socketPath: src.mysqlctl.socket, user: 'vt_app', password: '', database: 'vt_commerce', connectionLimit: 2 });
    let writing = true;
    let writes = 0;
    const wrnd = seeded(SEED ^ 0x5eed);
    const writer = (async () => {
      let next = ROWS * 10;
      while (writing) {
        const k = Math.floor(wrnd() * ROWS);
        const region = k % 2 === 0 ? 'east' : REGIONS[k % 4];
        const op = wrnd();
        if (op < 0.4) await pool.query('INSERT INTO item VALUES (?, ?, ?)', [REGIONS[next % 4], next++, 'new']);
        else if (op < 0.8) await pool.query('UPDATE item SET val = ? WHERE region = ? AND id = ?', [`u${writes}`, region, k]);
        else await pool.query('DELETE FROM item WHERE region = ? AND id = ?', [region, k]);
        writes++;
        await sleep(5);
      }
    })();

    await WORKFLOW_COMMANDS.Materialize.run(ctx, {
      action: 'create',
      workflow: 'presume',
      target_keyspace: 'customer',
      source_keyspace: 'commerce',
      table_settings: JSON.stringify([{ target_table: 'item', source_expression: 'select * from item', create_ddl: 'copy' }]),
      config_overrides: [
        'vreplication-copy-readers=3',
        'vreplication-parallel-insert-workers=2',
        'vreplication-copy-chunk-rows-min=500',
        'vreplication-copy-cycle-rows=600',
        'vstream-packet-size-rows=40',
        'vreplication-copy-rows-per-second=700',
        'vreplication-retry-delay=200ms',
      ],
    } as JsonObject);

    // ---- the monitor ----
    const violations: string[] = [];
    const monitorErrors = new Set<string>();
    const lastPks = new Map<number, unknown[]>();
    const doneChunks = new Set<number>();
    let chunksSeen = 0;
    let rowsCopied = 0;
    let copying = true;
    let finished = false;
    let pos: GtidPosition | null = null;
    const observe = async (): Promise<void> => {
      let c: mysql.Connection | undefined;
      try {
        c = await dst.dba();
        const [rows] = await c.query(
          "SELECT v.state, v.pos, v.rows_copied, v.message, c.id AS chunk, c.lastpk, c.chunk_done FROM _vt.vreplication v LEFT JOIN _vt.copy_state c ON c.vrepl_id = v.id WHERE v.workflow = 'presume'",
        );
        const list = rows as { state: string; pos: string | Buffer | null; rows_copied: string; message: string; chunk: number | null; lastpk: string | Buffer | null; chunk_done: number | null }[];
        if (list.length === 0) return;
        const v = list[0];
        const state = String(v.state);
        const message = String(v.message ?? '');
        if (state === 'Error' || /duplicate/i.test(message)) violations.push(`stream ${state}: ${message}`);
        const rc = Number(v.rows_copied);
        if (rc < rowsCopied) violations.push(`rows_copied went back from ${rowsCopied} to ${rc}`);
        rowsCopied = rc;
        const posText = Buffer.isBuffer(v.pos) ? v.pos.toString() : String(v.pos ?? '');
        if (posText) {
          const p = GtidPosition.parse(posText);
          if (pos && !p.atLeast(pos)) violations.push(`pos went back from ${pos.toString()} to ${p.toString()}`);
          pos = p;
        }
        const present = list.filter((r) => r.chunk !== null);
        chunksSeen = Math.max(chunksSeen, present.length);
        if (present.length === 0 && chunksSeen > 0) copying = false;
        for (const r of present) {
          const id = Number(r.chunk);
          if (!copying) violations.push(`copy_state row ${id} came back after the copy ended`);
          if (doneChunks.has(id) && Number(r.chunk_done) === 0) violations.push(`chunk ${id} was done and is not any more`);
          if (Number(r.chunk_done) === 1) doneChunks.add(id);
          if (r.lastpk === null) continue;
          const values = [...parseLastPk(Buffer.isBuffer(r.lastpk) ? r.lastpk.toString() : r.lastpk).values];
          const prev = lastPks.get(id);
          if (prev && cmpKey(values, prev) < 0) violations.push(`chunk ${id}: lastpk went back from ${JSON.stringify(prev, (_k, x) => (typeof x === 'bigint' ? String(x) : x))} to ${JSON.stringify(values, (_k, x) => (typeof x === 'bigint' ? String(x) : x))}`);
          lastPks.set(id, values);
        }
      } catch (err) {
        // A failed read (the monitor's own connection) is read again; said once per kind.
        const m = (err as Error).message;
        if (!monitorErrors.has(m)) console.log(`monitor: ${m}`);
        monitorErrors.add(m);
      } finally {
        await c?.end().catch(() => undefined);
      }
    };
    const monitor = (async () => {
      while (!finished) {
        await observe();
        await sleep(50);
      }
    })();

    try {
      for (let i = 0; i < KILLS; i++) {
        const end = Date.now() + 60_000;
        while (chunksSeen < 2 && Date.now() < end) await sleep(100);
        assert.ok(chunksSeen >= 2, 'the table is copied in chunks');
        await sleep(300 + Math.floor(rnd() * 1500));
        if (!copying) break;
        console.log(`kill ${i + 1}: target tablet, rows_copied ${rowsCopied}, chunks ${[...lastPks.entries()].map(([k, v]) => `${k}:${String(v)}${doneChunks.has(k) ? ' done' : ''}`).join(' ')}`);
        await dst.kill9();
        await sleep(Math.floor(rnd() * 800));
        await dst.start();
        assert.deepEqual(violations, []);
      }
      const end = Date.now() + 240_000;
      while (copying && Date.now() < end) {
        assert.deepEqual(violations, []);
        await sleep(200);
      }
      assert.equal(copying, false, 'the copy ended');
    } finally {
      writing = false;
      await writer;
    }
    assert.ok(writes > 0);
    const sc = await src.dba('vt_commerce');
    const tc = await dst.dba('vt_customer');
    try {
      const [[{ p }]] = (await sc.query('SELECT @@global.gtid_binlog_pos AS p')) as unknown as [[{ p: string }]];
      const want = GtidPosition.parse(p);
      const until = Date.now() + 120_000;
      while (Date.now() < until && !(pos as GtidPosition | null)?.atLeast(want)) await sleep(200);
      finished = true;
      await monitor;
      assert.deepEqual(violations, []);
      const [a] = await sc.query('SELECT region, id, val FROM item ORDER BY region, id');
      const [b] = await tc.query('SELECT region, id, val FROM item ORDER BY region, id');
      assert.equal((b as unknown[]).length, (a as unknown[]).length);
      assert.deepEqual(b, a);
    } finally {
      finished = true;
      await sc.end();
      await tc.end();
      await pool.end();
    }
  });
});
