// A VReplication stream resumes exactly after crashes. Tablets run as `bin/tessera tablet` child
// processes over MariaDBs started by our mysqlctl, so `kill -9` is real: an unsharded source
// (primary + replica) is materialized into a sharded target (-80, 80-) in small copy cycles and
// small batches while a write ledger inserts rows on the source and a mutator updates, deletes
// and re-inserts a separate key range. At seeded random points, in the copy and in replication,
// the test kills the target primary's tablet process, the target's MariaDB, or the source tablet
// the stream reads from, and starts them again; and it moves the primary of the source shard and of
// one target shard with PlannedReparentShard mid-copy.
//
// Throughout, a monitor reads each target's sidecar tables in one statement (a consistent read):
// `copy_state.lastpk` never moves backwards and a finished table never comes back, `pos` never goes
// backwards, `rows_copied` never shrinks, and no stream reports a duplicate key (a batch or a
// transaction applied twice runs into the primary key) or goes to Error. At the end every
// acknowledged ledger row is on exactly the shard `hash` gives it, with its value, once; the
// mutated range is as the mutator left it; and the target equals the source row for row.
//
// Sizes: RESUME_ROWS (rows before the copy), RESUME_KILLS, RESUME_CYCLE_ROWS, RESUME_BATCH_ROWS,
// RESUME_COPY_ROWS_PER_SECOND (a cap, so the copy lasts long enough to be hit), RESUME_LEDGER_PAUSE_MS
// (the ledger's pace; keep it below the copy's cap), RESUME_PRS=0 skips the PlannedReparentShard of
// the source mid-copy, RESUME_TARGET_PRS=0 the replica per target shard and the PlannedReparentShard
// of a target shard mid-copy. TESSERA_TEST_SEED repeats a run.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { WORKFLOW_COMMANDS } from '../../../src/ctld/workflow-commands.js';
import { REPARENT_COMMANDS } from '../../../src/ctld/reparent.js';
import type { CtldContext } from '../../../src/ctld/command.js';
import { GtidPosition } from '../../../src/mysql/binlog/index.js';
import { RpcTabletManagerClient } from '../../../src/tablet/index.js';
import { openTopoServer, parseTabletAlias, tabletAliasString, type JsonObject, type TopoServer } from '../../../src/topo/index.js';
import { parseLastPk } from '../../../src/vreplication/lastpk.js';
import { createVindex, type FunctionalVindex } from '../../../src/vindexes/index.js';
import { keyRangeContains, parseShardName } from '../../../src/key/index.js';
import { WriteLedger } from '../../harness/ledger.js';
import { testRoot } from '../../harness/processes.js';
import { TabletChild } from '../../harness/tablet-child.js';

function envInt(name: string, dflt: number): number {
  const v = process.env[name];
  return v === undefined || v === '' ? dflt : Number(v);
}

const SEED = envInt('TESSERA_TEST_SEED', Date.now() % 1_000_000);
const ROWS = envInt('RESUME_ROWS', 4000);
const KILLS = envInt('RESUME_KILLS', 6);
const CYCLE_ROWS = envInt('RESUME_CYCLE_ROWS', 500);
const BATCH_ROWS = envInt('RESUME_BATCH_ROWS', 40);
const COPY_RPS = envInt('RESUME_COPY_ROWS_PER_SECOND', 300);
/** Pause of each of the two ledger writers after a write: the load stays below the copy's cap. */
const LEDGER_PAUSE_MS = envInt('RESUME_LEDGER_PAUSE_MS', 10);
const PRS = envInt('RESUME_PRS', 1) !== 0;
/** A replica per target shard and a PlannedReparentShard of one target shard mid-copy. */
const TARGET_PRS = envInt('RESUME_TARGET_PRS', 1) !== 0;
/** Ledger ids start above the mutated range, so the two never touch the same row. */
const LEDGER_BASE = 1_000_000;
const WAIT_MS = 120_000;
const WORKFLOW = 'resume';
const TARGET_SHARDS = ['-80', '80-'] as const;

function seeded(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn`; `fatal` is asked first each time and ends the wait with its message. */
async function waitFor(what: string, fn: () => Promise<boolean> | boolean, fatal: () => string | null = () => null, timeoutMs = WAIT_MS): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const stop = fatal();
    if (stop) throw new Error(`while waiting for ${what}: ${stop}`);
    if (await fn()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** What the monitor last saw of one target shard's stream. */
interface Seen {
  state: string;
  pos: GtidPosition | null;
  rowsCopied: number;
  /** The last copied key; null before the first batch; 'done' once the table's row is gone. */
  lastPk: bigint | null | 'done';
  message: string;
}

async function plannedReparent(ctx: CtldContext, newPrimary: string): Promise<void> {
  await REPARENT_COMMANDS.PlannedReparentShard.run(ctx, { keyspace_shard: 'commerce/0', new_primary: newPrimary });
}

describe('VReplication resumes exactly after kill -9', { timeout: 900_000 }, () => {
  const rnd = seeded(SEED);
  let topo: TopoServer;
  let tmc: RpcTabletManagerClient;
  let ctx: CtldContext;
  const root = testRoot();
  const topoDir = path.join(root, 'topo');
  const src = [
    new TabletChild({ uid: 100, keyspace: 'commerce', shard: '0', type: 'primary', root, topoDir }),
    new TabletChild({ uid: 101, keyspace: 'commerce', shard: '0', type: 'replica', root, topoDir }),
  ];
  const dst: Record<string, TabletChild> = {
    '-80': new TabletChild({ uid: 200, keyspace: 'customer', shard: '-80', type: 'primary', root, topoDir }),
    '80-': new TabletChild({ uid: 300, keyspace: 'customer', shard: '80-', type: 'primary', root, topoDir }),
  };
  // With TARGET_PRS, the other tablet of each target shard (a replica until the reparent swaps them).
  const dstOther: Record<string, TabletChild> = TARGET_PRS
    ? {
        '-80': new TabletChild({ uid: 201, keyspace: 'customer', shard: '-80', type: 'replica', root, topoDir }),
        '80-': new TabletChild({ uid: 301, keyspace: 'customer', shard: '80-', type: 'replica', root, topoDir }),
      }
    : {};
  const all = [...src, ...Object.values(dst), ...Object.values(dstOther)];

  before(async () => {
    console.log(`resume test seed ${SEED} (TESSERA_TEST_SEED=${SEED} repeats it)`);
    topo = openTopoServer({ topoImplementation: 'file', topoGlobalServerAddress: topoDir, topoGlobalRoot: '/tessera/global' });
    // The primaries first: each creates its keyspace and shard records, which a concurrent start
    // of two tablets of one shard would race for.
    await Promise.all([src[0].start(), dst['-80'].start()]);
    await Promise.all([src[1].start(), dst['80-'].start()]);
    tmc = new RpcTabletManagerClient(topo);
    ctx = { topo, tmc };
    await Promise.all(Object.values(dstOther).map((t) => t.start()));
    await tmc.setReplicationSource(src[1].alias, { host: '127.0.0.1', port: src[0].mysqlctl.mysqlPort, semiSync: false });
    for (const [shard, t] of Object.entries(dstOther)) await tmc.setReplicationSource(t.alias, { host: '127.0.0.1', port: dst[shard].mysqlctl.mysqlPort, semiSync: false });
    await tmc.applySchema(src[0].alias, { sql: 'CREATE TABLE ledger (id bigint NOT NULL, val varchar(64) NOT NULL, n int NOT NULL DEFAULT 0, PRIMARY KEY (id))' });
    await topo.saveVSchema('customer', {
      sharded: true,
      vindexes: { hash: { type: 'hash' } },
      tables: { ledger: { column_vindexes: [{ column: 'id', name: 'hash' }] } },
    });
    for (const ks of ['commerce', 'customer']) await topo.rebuildKeyspaceGraph(ks, { cells: ['zone1'] });
    await topo.rebuildVSchemaGraph({ cells: ['zone1'] });
    for (const t of all) await tmc.refreshState(t.alias, {});
    const c = await src[0].dba('vt_commerce');
    try {
      for (let i = 1; i <= ROWS; i += 1000) {
        const vals: string[] = [];
        for (let id = i; id < Math.min(i + 1000, ROWS + 1); id++) vals.push(`(${id}, 's${id}', 0)`);
        await c.query(`INSERT INTO ledger (id, val, n) VALUES ${vals.join(',')}`);
      }
    } finally {
      await c.end();
    }
  });

  after(async () => {
    tmc?.close();
    await Promise.all(all.map((t) => t.stop().catch(() => undefined)));
    await topo?.close();
  });

  it('copies and replicates through kills of the target tablet, its MariaDB and the source tablet', async (t) => {
    // ---- the load: ledger inserts and a mutator over ids 1..ROWS, on the source primary ----
    let sourcePrimary = src[0];
    const pools = new Map<TabletChild, mysql.Pool>();
    const poolOf = (t: TabletChild) => {
      let p = pools.get(t);
      if (!p) {
        p = mysql.createPool({ socketPath: t.mysqlctl.socket, user: 'vt_app', password: '', database: 'vt_commerce', connectionLimit: 3 });
        pools.set(t, p);
      }
      return p;
    };
    const ledger = new WriteLedger({
      write: async (id) => {
        await poolOf(sourcePrimary).query('INSERT INTO ledger (id, val, n) VALUES (?, ?, 0)', [LEDGER_BASE + id, `l${id}`]);
        // Paced: the machine is shared, and the point is writes landing between the copy's steps.
        await sleep(LEDGER_PAUSE_MS);
      },
      writers: 2,
    });
    // The mutator's expectation per id: its value, null when deleted, undefined when unknown (a
    // statement that failed may or may not have committed).
    const expected = new Map<number, string | null | undefined>();
    for (let id = 1; id <= ROWS; id++) expected.set(id, `s${id}`);
    let mutating = true;
    let mutations = 0;
    const mrnd = seeded(SEED ^ 0x5eed);
    const mutator = (async () => {
      while (mutating) {
        const id = 1 + Math.floor(mrnd() * ROWS);
        const op = mrnd();
        const val = `m${mutations}`;
        try {
          if (op < 0.5) {
            await poolOf(sourcePrimary).query('UPDATE ledger SET val = ?, n = n + 1 WHERE id = ?', [val, id]);
            if (expected.get(id) !== null) expected.set(id, expected.get(id) === undefined ? undefined : val);
          } else if (op < 0.75) {
            await poolOf(sourcePrimary).query('DELETE FROM ledger WHERE id = ?', [id]);
            expected.set(id, null);
          } else {
            await poolOf(sourcePrimary).query('INSERT INTO ledger (id, val, n) VALUES (?, ?, 0) ON DUPLICATE KEY UPDATE val = VALUES(val)', [id, val]);
            expected.set(id, val);
          }
          mutations++;
        } catch {
          expected.set(id, undefined);
          await sleep(50);
        }
        await sleep(8);
      }
    })();
    let loadStopped = false;
    const stopLoad = async () => {
      if (loadStopped) return;
      loadStopped = true;
      mutating = false;
      await ledger.stop();
      await mutator;
    };
    // Whatever happens, the load and the monitor end with the test (a failed test must not hang).
    let monitoring = true;
    let monitor: Promise<void> = Promise.resolve();
    t.after(async () => {
      await stopLoad();
      monitoring = false;
      await monitor;
      for (const pool of pools.values()) await pool.end().catch(() => undefined);
      pools.clear();
    });
    ledger.start();
    await ledger.waitForAcks(20);

    // ---- the workflow ----
    const created = await WORKFLOW_COMMANDS.Materialize.run(ctx, {
      action: 'create',
      workflow: WORKFLOW,
      target_keyspace: 'customer',
      source_keyspace: 'commerce',
      table_settings: JSON.stringify([{ target_table: 'ledger', source_expression: 'select * from ledger', create_ddl: 'copy' }]),
      config_overrides: [
        `vreplication-copy-cycle-rows=${CYCLE_ROWS}`,
        `vstream-packet-size-rows=${BATCH_ROWS}`,
        `vreplication-copy-rows-per-second=${COPY_RPS}`,
        // Kills are the point: retry soon after each.
        'vreplication-retry-delay=200ms',
      ],
    } as JsonObject);
    assert.match(JSON.stringify(created), /created/);

    // ---- the monitor ----
    const seen: Record<string, Seen> = {};
    const violations: string[] = [];
    const events: string[] = [];
    const fatal = () => (violations.length > 0 ? violations.join('; ') : null);
    const observe = async (shard: string): Promise<void> => {
      let c: mysql.Connection | undefined;
      try {
        c = await dst[shard].dba();
        // One statement: the stream's row and its copy_state row as of one consistent read.
        const [rows] = await c.query(
          `SELECT v.state, v.pos, v.rows_copied, v.message, c.vrepl_id AS has_copy_state, c.lastpk FROM _vt.vreplication v LEFT JOIN _vt.copy_state c ON c.vrepl_id = v.id WHERE v.workflow = '${WORKFLOW}'`,
        );
        const list = rows as mysql.RowDataPacket[];
        if (list.length !== 1) {
          violations.push(`${shard}: ${list.length} stream rows (one stream, one table expected)`);
          return;
        }
        const r = list[0];
        const prev = seen[shard];
        const state = String(r.state);
        const pos = String(r.pos) === '' ? null : GtidPosition.parse(String(r.pos));
        const rowsCopied = Number(r.rows_copied);
        const message = String(r.message ?? '');
        // No copy_state row: the table is copied (a stream is created with its rows). A row with a
        // NULL lastpk: the copy has not started.
        let lastPk: Seen['lastPk'] = 'done';
        if (r.has_copy_state !== null) {
          lastPk = r.lastpk === null ? null : BigInt(parseLastPk(Buffer.isBuffer(r.lastpk) ? r.lastpk.toString('utf8') : String(r.lastpk)).values[0] as bigint | number);
        }
        if (prev) {
          if (prev.pos && (!pos || !pos.atLeast(prev.pos))) violations.push(`${shard}: pos went back from ${prev.pos.toString()} to ${pos?.toString() ?? 'none'}`);
          if (rowsCopied < prev.rowsCopied) violations.push(`${shard}: rows_copied went back from ${prev.rowsCopied} to ${rowsCopied}`);
          if (prev.lastPk === 'done' && lastPk !== 'done') violations.push(`${shard}: copy_state came back (${String(lastPk)}) after the table was copied`);
          if (typeof prev.lastPk === 'bigint' && (lastPk === null || (typeof lastPk === 'bigint' && lastPk < prev.lastPk))) {
            violations.push(`${shard}: copy_state.lastpk went back from ${prev.lastPk} to ${String(lastPk)}`);
          }
        }
        if (state === 'Error') violations.push(`${shard}: stream in Error: ${message}`);
        if (/duplicate/i.test(message)) violations.push(`${shard}: ${message}`);
        seen[shard] = { state, pos, rowsCopied, lastPk, message };
      } catch {
        // MariaDB is down (killed): nothing to read now.
      } finally {
        await c?.end().catch(() => undefined);
      }
    };
    // The source tablets' shared copy scans (one scan serving both target streams' cycles, see
    // shared-scan.ts), from their status pages; a restarted tablet counts from zero again.
    const sharedSeen = new Map<TabletChild, number>();
    let sharedScans = 0;
    let sharedDuringCopy = 0;
    const observeShared = async (): Promise<void> => {
      for (const t of src) {
        try {
          const res = await fetch(`http://127.0.0.1:${t.httpPort}/debug/status`, { signal: AbortSignal.timeout(2000) });
          const m = /shared copy scans: (\d+)/.exec(await res.text());
          if (!m) continue;
          const n = Number(m[1]);
          const prev = sharedSeen.get(t) ?? 0;
          const more = n >= prev ? n - prev : n;
          sharedScans += more;
          if (more > 0 && !TARGET_SHARDS.every((s) => seen[s]?.lastPk === 'done')) sharedDuringCopy += more;
          sharedSeen.set(t, n);
        } catch {
          // The tablet is down (killed): nothing to read now.
        }
      }
    };
    monitor = (async () => {
      while (monitoring) {
        for (const shard of TARGET_SHARDS) await observe(shard);
        await observeShared();
        await sleep(100);
      }
    })();

    const midCopy = () => TARGET_SHARDS.some((s) => seen[s]?.state === 'Copying' && typeof seen[s]?.lastPk === 'bigint');
    const copied = () => TARGET_SHARDS.every((s) => seen[s]?.state === 'Running' && seen[s]?.lastPk === 'done');
    const progressMark = () => TARGET_SHARDS.map((s) => `${seen[s]?.pos?.toString() ?? ''}/${seen[s]?.rowsCopied ?? 0}`).join(' ');

    // ---- the kills, and a PlannedReparentShard of the source mid-copy ----
    type Kind = 'target-tablet' | 'target-mysql' | 'source-tablet' | 'source-prs' | 'target-prs';
    const kinds: Kind[] = ['target-tablet', 'target-mysql', 'source-tablet'];
    // Half the kills in the copy, half in replication; each kind once per phase before any twice.
    const shuffled = (n: number): Kind[] => {
      const out: Kind[] = Array.from({ length: n }, (_, i) => kinds[i % 3]);
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        [out[i], out[j]] = [out[j], out[i]];
      }
      return out;
    };
    const copyPlan = shuffled(Math.ceil(KILLS / 2));
    if (PRS) copyPlan.splice(Math.floor(rnd() * (copyPlan.length + 1)), 0, 'source-prs');
    // First: a killed target MariaDB leaves its replica reconnecting for a while, which a reparent
    // would wait for.
    if (TARGET_PRS) copyPlan.unshift('target-prs');
    // The very first: the source tablet, while both streams' copy cycles share its scan
    // (shared-scan.ts): each stream must resume from its own lastPk.
    copyPlan.splice(copyPlan.indexOf('source-tablet'), 1);
    copyPlan.unshift('source-tablet');
    let sharedKill = true;
    const plan = [...copyPlan, ...shuffled(Math.floor(KILLS / 2))];
    const copyEvents = copyPlan.length;
    const sourceReplica = () => (sourcePrimary === src[0] ? src[1] : src[0]);
    let leftDown = false;
    const sourceTablets = async (): Promise<string[]> => {
      const show = (await WORKFLOW_COMMANDS.Workflow.run(ctx, { action: 'show', keyspace: 'customer', workflow: WORKFLOW })) as unknown as {
        workflows: { shard_streams: Record<string, { streams: { source_tablet: string }[] }> }[];
      };
      return Object.values(show.workflows[0].shard_streams).flatMap((x) => x.streams.map((st) => st.source_tablet));
    };
    for (let i = 0; i < plan.length; i++) {
      if (i < copyEvents) await waitFor('the copy to be under way', () => midCopy() || copied(), fatal);
      else await waitFor('both streams to replicate', copied, fatal);
      await sleep(100 + Math.floor(rnd() * 1200));
      const phase = copied() ? 'replication' : 'copy';
      const shard = TARGET_SHARDS[Math.floor(rnd() * 2)];
      const before = progressMark();
      const at = `(${TARGET_SHARDS.map((s) => `${s} ${seen[s]?.state} lastpk ${String(seen[s]?.lastPk)} rows_copied ${seen[s]?.rowsCopied}`).join(', ')})`;
      const kind = plan[i];
      if (kind === 'target-tablet') {
        await dst[shard].kill9();
        await sleep(Math.floor(rnd() * 800));
        await dst[shard].start();
        events.push(`${phase}: kill -9 tablet ${dst[shard].alias} (customer/${shard}), restarted ${at}`);
      } else if (kind === 'target-mysql') {
        await dst[shard].killMysql9();
        await sleep(Math.floor(rnd() * 800));
        if (rnd() < 0.5) {
          await dst[shard].startMysql();
          events.push(`${phase}: kill -9 MariaDB of ${dst[shard].alias} (customer/${shard}), started again under the running tablet ${at}`);
        } else {
          await dst[shard].kill9();
          await dst[shard].start();
          events.push(`${phase}: kill -9 MariaDB of ${dst[shard].alias} (customer/${shard}), then the tablet; the restarted tablet starts MariaDB ${at}`);
        }
      } else if (kind === 'source-tablet') {
        // The tablet a stream reads from (a replica, then the primary, by default). The first time,
        // and then half the time, it stays down until the streams moved on without it: they must
        // go to the other tablet of the shard rather than wait for the dead one.
        let readFrom = await sourceTablets();
        let how = '';
        if (sharedKill && phase === 'copy') {
          sharedKill = false;
          const before = sharedDuringCopy;
          await waitFor('a shared copy scan of both streams on one source tablet', async () => {
            readFrom = await sourceTablets();
            return sharedDuringCopy > before && readFrom.length === 2 && readFrom[0] === readFrom[1] && TARGET_SHARDS.every((x) => seen[x]?.state === 'Copying');
          }, fatal);
          how = ` mid-shared-copy (${sharedDuringCopy} shared scans so far)`;
        }
        const pick = readFrom[Math.floor(rnd() * readFrom.length)];
        const victim = src.find((x) => tabletAliasString(parseTabletAlias(x.alias)) === pick) ?? sourceReplica();
        await victim.kill9();
        if (!leftDown || rnd() < 0.5) {
          leftDown = true;
          // Moved on: every stream reads from another tablet now, and commits there.
          const victimAlias = tabletAliasString(parseTabletAlias(victim.alias));
          await waitFor(`the streams to leave source tablet ${victim.alias} while it is down`, async () => (await sourceTablets()).every((a) => a !== '' && a !== victimAlias), fatal);
          const mark = progressMark();
          await waitFor(`the streams to move on while source tablet ${victim.alias} is down`, () => progressMark() !== mark, fatal);
          await victim.start();
          events.push(`${phase}: kill -9 source tablet ${victim.alias}${how}, left down until the streams moved on, restarted ${at}`);
        } else {
          await sleep(Math.floor(rnd() * 800));
          await victim.start();
          events.push(`${phase}: kill -9 source tablet ${victim.alias}${how}, restarted ${at}`);
        }
      } else if (kind === 'target-prs') {
        const old = dst[shard];
        await REPARENT_COMMANDS.PlannedReparentShard.run(ctx, { keyspace_shard: `customer/${shard}`, new_primary: dstOther[shard].alias });
        dst[shard] = dstOther[shard];
        dstOther[shard] = old;
        events.push(`${phase}: PlannedReparentShard customer/${shard} from ${old.alias} to ${dst[shard].alias} ${at}`);
      } else {
        const next = sourceReplica();
        await plannedReparent(ctx, next.alias);
        const old = sourcePrimary;
        sourcePrimary = next;
        events.push(`${phase}: PlannedReparentShard commerce/0 from ${old.alias} to ${next.alias} ${at}`);
      }
      console.log(`event ${i + 1}/${plan.length}: ${events.at(-1)}`);
      // The stream moves on after each event: its position or rows copied advance.
      await waitFor(`the streams to move on after "${events.at(-1)}"`, () => progressMark() !== before, fatal);
    }

    await waitFor('both streams to finish the copy', copied, fatal);
    await ledger.waitForAcks(20);
    await stopLoad();

    // ---- the end: catch up, compare ----
    const c0 = await sourcePrimary.dba('vt_commerce');
    const [[{ p }]] = (await c0.query('SELECT @@global.gtid_binlog_pos AS p')) as unknown as [{ p: string }[]];
    for (const shard of TARGET_SHARDS) {
      const { streams } = await tmc.readVReplicationWorkflow(dst[shard].alias, { workflow: WORKFLOW });
      assert.equal(streams.length, 1);
      await tmc.vReplicationWaitForPos(dst[shard].alias, { id: streams[0].id, position: `MariaDB/${p}`, timeoutMs: WAIT_MS }, { timeoutMs: WAIT_MS + 10_000 });
      const again = await tmc.readVReplicationWorkflow(dst[shard].alias, { workflow: WORKFLOW });
      assert.match(again.streams[0].logs.map((l) => l.message).join('\n'), /Copy phase completed at gtid MariaDB\//);
    }
    for (const shard of TARGET_SHARDS) await observe(shard);
    monitoring = false;
    await monitor;

    const [srcRows] = (await c0.query('SELECT id, val, n FROM ledger ORDER BY id')) as unknown as [{ id: string; val: string; n: number }[]];
    await c0.end();

    const hash = createVindex('hash', 'hash', {}) as FunctionalVindex;
    const onTarget = new Map<string, { id: string; val: string; n: number; shard: string }[]>();
    for (const shard of TARGET_SHARDS) {
      const c = await dst[shard].dba('vt_customer');
      const [rows] = (await c.query('SELECT id, val, n FROM ledger ORDER BY id')) as unknown as [{ id: string; val: string; n: number }[]];
      await c.end();
      const kr = parseShardName(shard);
      for (const r of rows) {
        const [d] = hash.map([BigInt(r.id)]);
        assert.ok(d.kind === 'keyspaceId' && keyRangeContains(kr, d.id), `id ${r.id} is in ${shard}, which hash does not give it`);
        const list = onTarget.get(r.id) ?? [];
        list.push({ ...r, shard });
        onTarget.set(r.id, list);
      }
    }
    const twice = [...onTarget.entries()].filter(([, l]) => l.length > 1).map(([id, l]) => `${id} on ${l.map((x) => x.shard).join(' and ')}`);
    assert.deepEqual(twice, [], 'no row on the target twice');

    const acked = ledger.acknowledged;
    const wrong: string[] = [];
    for (const id of acked) {
      const got = onTarget.get(String(LEDGER_BASE + id));
      if (!got) wrong.push(`ledger ${id} missing`);
      else if (got[0].val !== `l${id}`) wrong.push(`ledger ${id} has ${got[0].val}`);
    }
    assert.deepEqual(wrong, [], 'every acknowledged ledger row is on the target with its value');
    const srcById = new Map(srcRows.map((r) => [Number(r.id), r]));
    const drift: string[] = [];
    for (const [id, want] of expected) {
      if (want === undefined) continue;
      const got = srcById.get(id);
      if ((got?.val ?? null) !== want) drift.push(`${id}: ${got?.val ?? 'deleted'} != ${want ?? 'deleted'}`);
    }
    assert.deepEqual(drift, [], 'the source holds what the mutator acknowledged');

    const tgtRows = [...onTarget.values()].map((l) => ({ id: l[0].id, val: l[0].val, n: l[0].n }));
    tgtRows.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
    assert.equal(tgtRows.length, srcRows.length, 'as many rows on the target as on the source');
    assert.deepEqual(tgtRows.map((r) => ({ ...r })), srcRows.map((r) => ({ ...r })), 'the target equals the source row for row');

    assert.deepEqual(violations, [], 'the sidecar tables never moved backwards');
    // rows_copied counts rows the copy inserted, each key once: never more than ever existed.
    const copiedTotal = TARGET_SHARDS.reduce((n, s) => n + (seen[s]?.rowsCopied ?? 0), 0);
    assert.ok(copiedTotal <= ROWS + acked.length + ledger.failedTotal, `rows_copied ${copiedTotal} counts a row twice`);
    console.log(`resume test: ${acked.length} ledger rows acknowledged (${ledger.failedTotal} failed), ${mutations} mutations, ${srcRows.length} rows, ${copiedTotal} copied; ${sharedScans} shared copy scans on the source tablets (${sharedDuringCopy} seen mid-copy); events:\n  ${events.join('\n  ')}`);
    // The two target streams' copy cycles shared the source's scan, so the kills of the source
    // tablet above hit shared copies, and each stream resumed from its own lastPk.
    assert.ok(sharedDuringCopy > 0, 'the target streams shared copy scans on the source tablet');
    assert.equal(events.length, plan.length);
  });
});
