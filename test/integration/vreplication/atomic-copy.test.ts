// MoveTables --atomic-copy on real tablets (child processes over their own MariaDBs, so kill -9 is
// real): `parent` and `child`, tied by a FOREIGN KEY … ON DELETE CASCADE, move from commerce to
// customer while a writer inserts parents then their children, and deletes parents (MariaDB
// cascades to the children and writes only the parent's row to the binlog). Mid-copy the target
// tablet is killed with SIGKILL and started again: the copy starts over from a fresh snapshot (the
// log says so); once it is under way again the source tablet is killed the same way, and the copy
// starts over once more. copy_state lists both tables throughout, and at the end the target equals
// the source table for table with no orphan child.
//
// After it: switchtraffic, and deletes of parents on the target reach the source through the
// reverse workflow with their cascades.
//
// Before it: the create's refusals and, without --atomic-copy, the warning that names the foreign
// key (that create is cancelled: the ordinary copy's behaviour is unchanged).
//
// Sizes: ATOMIC_PARENTS (parents before the copy, two children each), ATOMIC_COPY_ROWS_PER_SECOND
// (a cap, so the copy lasts long enough to be hit). TESSERA_TEST_SEED repeats a run.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { WORKFLOW_COMMANDS } from '../../../src/ctld/workflow-commands.js';
import type { CtldContext } from '../../../src/ctld/command.js';
import { RpcTabletManagerClient } from '../../../src/tablet/index.js';
import { openTopoServer, type JsonObject, type TopoServer } from '../../../src/topo/index.js';
import { testRoot } from '../../harness/processes.js';
import { TabletChild } from '../../harness/tablet-child.js';
import { envInt, seeded, testSeed } from '../../harness/seeded.js';
import { waitFor as harnessWaitFor } from '../../harness/wait.js';

const SEED = testSeed();
const PARENTS = envInt('ATOMIC_PARENTS', 2000);
const COPY_RPS = envInt('ATOMIC_COPY_ROWS_PER_SECOND', 800);
const WAIT_MS = 180_000;
const WORKFLOW = 'fk2customer';

const SCHEMA = [
  'CREATE TABLE parent (id bigint NOT NULL, name varchar(64) NOT NULL, PRIMARY KEY (id))',
  'CREATE TABLE child (id bigint NOT NULL, parent_id bigint NOT NULL, note varchar(64) NOT NULL, PRIMARY KEY (id), KEY idx_parent (parent_id), ' +
    'CONSTRAINT fk_parent FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE)',
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The harness's wait, where a failed read (a tablet or MariaDB just killed) counts as "not yet". */
const waitFor = (what: string, fn: () => Promise<boolean>, timeoutMs = WAIT_MS): Promise<void> => harnessWaitFor(what, () => fn().catch(() => false), timeoutMs);

describe('MoveTables --atomic-copy: tables tied by a foreign key, through a kill -9 mid-copy', { timeout: 900_000 }, () => {
  const rnd = seeded(SEED);
  let topo: TopoServer;
  let tmc: RpcTabletManagerClient;
  let ctx: CtldContext;
  const root = testRoot();
  const topoDir = path.join(root, 'topo');
  const src = new TabletChild({ uid: 100, keyspace: 'commerce', shard: '0', type: 'primary', root, topoDir });
  const dst = new TabletChild({ uid: 200, keyspace: 'customer', shard: '0', type: 'primary', root, topoDir });
  const mt = (action: string, extra: JsonObject = {}) => WORKFLOW_COMMANDS.MoveTables.run(ctx, { action, workflow: WORKFLOW, target_keyspace: 'customer', format: 'json', ...extra });

  before(async () => {
    console.log(`atomic-copy test seed ${SEED} (TESSERA_TEST_SEED=${SEED} repeats it)`);
    topo = openTopoServer({ topoImplementation: 'file', topoGlobalServerAddress: topoDir, topoGlobalRoot: '/tessera/global' });
    await Promise.all([src.start(), dst.start()]);
    tmc = new RpcTabletManagerClient(topo);
    ctx = { topo, tmc };
    for (const sql of SCHEMA) await tmc.applySchema(src.alias, { sql });
    await topo.saveVSchema('commerce', { tables: { parent: {}, child: {} } });
    await topo.saveVSchema('customer', {});
    for (const ks of ['commerce', 'customer']) await topo.rebuildKeyspaceGraph(ks, { cells: ['zone1'] });
    await topo.rebuildVSchemaGraph({ cells: ['zone1'] });
    for (const t of [src, dst]) await tmc.refreshState(t.alias, {});
    const c = await src.dba('vt_commerce');
    try {
      for (let i = 1; i <= PARENTS; i += 500) {
        const ps: string[] = [];
        const cs: string[] = [];
        for (let id = i; id < Math.min(i + 500, PARENTS + 1); id++) {
          ps.push(`(${id}, 'p${id}')`);
          cs.push(`(${2 * id}, ${id}, 'c${2 * id}')`, `(${2 * id + 1}, ${id}, 'c${2 * id + 1}')`);
        }
        await c.query(`INSERT INTO parent (id, name) VALUES ${ps.join(',')}`);
        await c.query(`INSERT INTO child (id, parent_id, note) VALUES ${cs.join(',')}`);
      }
    } finally {
      await c.end();
    }
  });

  after(async () => {
    tmc?.close();
    await Promise.all([src, dst].map((t) => t.stop().catch(() => undefined)));
    await topo?.close();
  });

  it('refuses --atomic-copy without --all-tables, and warns of the foreign key without --atomic-copy', async () => {
    await assert.rejects(mt('create', { source_keyspace: 'commerce', tables: ['parent', 'child'], atomic_copy: true }), (e: Error & { errno?: number }) => e.errno === 1210 && /--atomic-copy .*requires --all-tables; it does not take --tables/.test(e.message));
    await assert.rejects(mt('create', { source_keyspace: 'commerce', all_tables: true, exclude_tables: ['child'], atomic_copy: true }), /it does not take --tables or --exclude-tables/);
    const plain = (await mt('create', { source_keyspace: 'commerce', tables: ['parent', 'child'], auto_start: false })) as { warnings?: string[] };
    assert.ok(plain.warnings?.some((w) => /table child has foreign key fk_parent to parent \(ON DELETE CASCADE\): without --atomic-copy/.test(w)), JSON.stringify(plain.warnings));
    await mt('cancel');
  });

  it('copies both tables from one snapshot, restarts the copy after a kill -9, and replicates cascades', async (t) => {
    // ---- the load: parents then their children, and deletes of parents (cascading) ----
    const pool = mysql.createPool({ socketPath: src.mysqlctl.socket, user: 'vt_app', password: '', database: 'vt_commerce', connectionLimit: 2 });
    let running = true;
    let inserted = 0;
    let deleted = 0;
    let nextParent = 1_000_000;
    const load = (async () => {
      while (running) {
        try {
          if (rnd() < 0.7) {
            const id = nextParent++;
            await pool.query('INSERT INTO parent (id, name) VALUES (?, ?)', [id, `n${id}`]);
            await pool.query('INSERT INTO child (id, parent_id, note) VALUES (?, ?, ?), (?, ?, ?)', [2 * id, id, `x${id}`, 2 * id + 1, id, `y${id}`]);
            inserted++;
          } else {
            // An old parent or a new one: its children go with it on the source by the cascade.
            const id = rnd() < 0.8 ? 1 + Math.floor(rnd() * PARENTS) : 1_000_000 + Math.floor(rnd() * Math.max(1, nextParent - 1_000_000));
            await pool.query('DELETE FROM parent WHERE id = ?', [id]);
            deleted++;
          }
        } catch {
          await sleep(50);
        }
        await sleep(5);
      }
    })();
    t.after(async () => {
      running = false;
      await load;
      await pool.end().catch(() => undefined);
    });

    const created = (await mt('create', {
      source_keyspace: 'commerce',
      all_tables: true,
      atomic_copy: true,
      config_overrides: [`vreplication-copy-rows-per-second=${COPY_RPS}`, 'vstream-packet-size-rows=50', 'vreplication-retry-delay=200ms'],
    })) as { summary: string; warnings?: string[] };
    assert.match(created.summary, /Successfully created the fk2customer MoveTables workflow/);
    assert.equal(created.warnings, undefined, 'no foreign key warning with --atomic-copy');

    // ---- mid-copy: copy_state lists both tables, one of them under way ----
    const sidecar = async () => {
      const c = await dst.dba();
      try {
        const [v] = (await c.query(`SELECT id, state, pos, workflow_sub_type, rows_copied FROM _vt.vreplication WHERE workflow = '${WORKFLOW}'`)) as unknown as [Record<string, unknown>[]];
        const [cs] = (await c.query(`SELECT table_name, lastpk IS NOT NULL AS started, chunk_done, rows_copied FROM _vt.copy_state ORDER BY table_name`)) as unknown as [Record<string, unknown>[]];
        return { stream: v[0], copyState: cs.map((r) => ({ table: String(r.table_name), started: Number(r.started) === 1, done: Number(r.chunk_done) === 1, rows: Number(r.rows_copied) })) };
      } finally {
        await c.end();
      }
    };
    let seen: Awaited<ReturnType<typeof sidecar>> | undefined;
    // Where the kill lands (seeded): early in the first table, or once the first is done.
    const killAt = 300 + Math.floor(rnd() * 2.4 * PARENTS);
    console.log(`killing the target tablet once ${killAt} rows are copied`);
    await waitFor('the copy to be under way', async () => {
      seen = await sidecar();
      return String(seen.stream.state) === 'Copying' && seen.copyState.some((r) => r.started) && Number(seen.stream.rows_copied) >= killAt;
    });
    assert.equal(Number(seen!.stream.workflow_sub_type), 2, 'workflow_sub_type 2: atomic copy');
    assert.equal(String(seen!.stream.pos), '', 'no position until every table is copied');
    assert.deepEqual(seen!.copyState.map((r) => r.table), ['child', 'parent'], 'copy_state keeps a row per table');
    console.log(`at the kill: ${JSON.stringify(seen!.copyState)}`);
    const shown = JSON.stringify(await WORKFLOW_COMMANDS.Workflow.run(ctx, { action: 'show', keyspace: 'customer', workflow: WORKFLOW }));
    assert.match(shown, /"workflow_sub_type":"AtomicCopy"/);
    assert.match(shown, /"copy_states":\[[^\]]*"table":"child"[^\]]*"table":"parent"|"copy_states":\[[^\]]*"table":"parent"[^\]]*"table":"child"/);

    // A table whose copy ended is Complete in `status` while the other one copies.
    const status = (await mt('status')) as { table_copy_state: Record<string, { phase: string }> };
    for (const r of seen!.copyState) if (r.done) assert.equal(status.table_copy_state[r.table]?.phase, 'Complete', JSON.stringify(status.table_copy_state));
    assert.ok(Object.values(status.table_copy_state).some((x) => x.phase !== 'Complete'), 'a table still copying');

    // ---- kill -9 of the target tablet mid-copy, and its start again ----
    const rowsBeforeKill = Number(seen!.stream.rows_copied);
    await dst.kill9();
    await sleep(300 + Math.floor(rnd() * 700));
    await dst.start();
    // The copy starts over; once it is under way again the SOURCE tablet dies and comes back.
    const restarts = async (): Promise<number> => {
      const c = await dst.dba();
      try {
        const [r] = (await c.query("SELECT COALESCE(SUM(count), 0) AS n FROM _vt.vreplication_log WHERE message LIKE 'Atomic copy restarted from a fresh snapshot%'")) as unknown as [{ n: number | string }[]];
        return Number(r[0].n);
      } finally {
        await c.end();
      }
    };
    await waitFor('the copy to start over', async () => (await restarts()) >= 1);
    await waitFor('the new copy to be under way', async () => {
      const s = await sidecar();
      return String(s.stream.state) === 'Copying' && Number(s.stream.rows_copied) >= 200;
    });
    await src.kill9();
    await sleep(300 + Math.floor(rnd() * 700));
    await src.start();
    await waitFor('the copy to finish and the stream to run', async () => {
      const s = await sidecar();
      return String(s.stream.state) === 'Running' && s.copyState.length === 0 && String(s.stream.pos) !== '';
    });
    // Writes go on a little into replication, with deletes cascading on the target.
    const deletedAtRunning = deleted;
    await waitFor('deletes replayed while running', async () => deleted >= deletedAtRunning + 10);
    running = false;
    await load;
    assert.ok(inserted > 0 && deleted > 0, `the load ran: ${inserted} inserts, ${deleted} deletes`);

    // ---- the log says the copy started over ----
    const dc = await dst.dba();
    try {
      const [logs] = (await dc.query(`SELECT type, message FROM _vt.vreplication_log ORDER BY id`)) as unknown as [{ type: string; message: string }[]];
      const text = logs.map((l) => `${l.type}: ${l.message}`).join('\n');
      assert.match(text, /Atomic copy restarted from a fresh snapshot: (child, parent|parent, child) emptied on the target and copied again/, text);
      assert.match(text, /Copy phase completed at gtid /);
      assert.ok((await restarts()) >= 2, 'the copy started over after each kill');
      assert.ok(rowsBeforeKill > 0);
    } finally {
      await dc.end();
    }

    // ---- caught up: the target equals the source, no orphan child ----
    const read = async (tab: TabletChild, db: string) => {
      const c = await tab.dba(db);
      try {
        const [p] = await c.query('SELECT id, name FROM parent ORDER BY id');
        const [ch] = await c.query('SELECT id, parent_id, note FROM child ORDER BY id');
        const [orphans] = (await c.query('SELECT COUNT(*) AS n FROM child c LEFT JOIN parent p ON p.id = c.parent_id WHERE p.id IS NULL')) as unknown as [{ n: number | string }[]];
        return { parent: JSON.stringify(p), child: JSON.stringify(ch), orphans: Number(orphans[0].n) };
      } finally {
        await c.end();
      }
    };
    const want = await read(src, 'vt_commerce');
    let got = await read(dst, 'vt_customer');
    await waitFor('the target to catch up', async () => {
      got = await read(dst, 'vt_customer');
      return got.parent === want.parent && got.child === want.child;
    }, 60_000).catch(() => undefined);
    assert.equal(want.orphans, 0);
    assert.equal(got.orphans, 0, 'no orphan child on the target');
    assert.equal(got.parent, want.parent, 'parent: the target equals the source');
    assert.equal(got.child, want.child, 'child: the target equals the source');
    // The constraint came along with the table, and the deferred keys are back.
    const c = await dst.dba('vt_customer');
    try {
      const [rows] = (await c.query('SHOW CREATE TABLE child')) as unknown as [Record<string, string>[]];
      const ddl = String(Object.values(rows[0])[1]);
      assert.match(ddl, /CONSTRAINT `fk_parent` FOREIGN KEY \(`parent_id`\) REFERENCES `parent` \(`id`\) ON DELETE CASCADE/);
      assert.match(ddl, /KEY `idx_parent`/);
    } finally {
      await c.end();
    }
  });

  it('after switchtraffic, the reverse workflow replays cascades back into the source', async () => {
    const switched = (await mt('switchtraffic')) as { current_state: string };
    assert.equal(switched.current_state, 'All Reads Switched. Writes Switched');
    // Writes now land on customer; deleting parents there cascades there and, through the
    // reverse stream (with the checks on, as its forward workflow), on commerce too.
    const c = await dst.dba('vt_customer');
    let gone: number[] = [];
    try {
      const [rows] = (await c.query('SELECT id FROM parent ORDER BY id LIMIT 25')) as unknown as [{ id: string | number }[]];
      gone = rows.map((r) => Number(r.id));
      await c.query(`DELETE FROM parent WHERE id IN (${gone.join(',')})`);
      await c.query("INSERT INTO parent (id, name) VALUES (5000000, 'after the switch')");
      await c.query("INSERT INTO child (id, parent_id, note) VALUES (10000000, 5000000, 'after the switch')");
    } finally {
      await c.end();
    }
    assert.equal(gone.length, 25);
    const counts = async (tab: TabletChild, db: string) => {
      const k = await tab.dba(db);
      try {
        const [r] = (await k.query(
          `SELECT (SELECT COUNT(*) FROM child WHERE parent_id IN (${gone.join(',')})) AS children, ` +
            '(SELECT COUNT(*) FROM child c LEFT JOIN parent p ON p.id = c.parent_id WHERE p.id IS NULL) AS orphans, ' +
            '(SELECT COUNT(*) FROM child WHERE id = 10000000) AS added',
        )) as unknown as [{ children: number | string; orphans: number | string; added: number | string }[]];
        return { children: Number(r[0].children), orphans: Number(r[0].orphans), added: Number(r[0].added) };
      } finally {
        await k.end();
      }
    };
    assert.deepEqual(await counts(dst, 'vt_customer'), { children: 0, orphans: 0, added: 1 });
    let onSource = await counts(src, 'vt_commerce');
    await waitFor('the reverse workflow to replay the deletes', async () => {
      onSource = await counts(src, 'vt_commerce');
      return onSource.added === 1;
    }, 60_000).catch(() => undefined);
    assert.deepEqual(onSource, { children: 0, orphans: 0, added: 1 }, 'the source cascaded the deletes it replayed');
  });
});
