// 50 consecutive VDiffs while the write ledger inserts on the source throughout (and an updater
// changes rows already there): a MoveTables from an unsharded keyspace into a sharded one (-80,
// 80-), so each target shard is compared with the source rows its key range holds (the source
// tablet filters by the hash vindex). Every diff compares at one consistent point, so none may
// report a mismatch, with chunk checksums (odd rounds) or streaming every row (even rounds); once
// the writes stop, a last diff counts exactly the rows the ledger saw acknowledged.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { startCluster, type TestCluster } from '../../harness/cluster.js';
import { WriteLedger } from '../../harness/ledger.js';
import { WORKFLOW_COMMANDS } from '../../../src/ctld/workflow-commands.js';
import { VDIFF_COMMANDS } from '../../../src/ctld/vdiff-commands.js';
import type { CtldContext } from '../../../src/ctld/command.js';
import { RpcTabletManagerClient } from '../../../src/tablet/index.js';
import type { Json, JsonObject } from '../../../src/topo/index.js';
import { waitFor } from '../../harness/wait.js';

const ROUNDS = 50;
const SCHEMA = 'CREATE TABLE ledger (id bigint NOT NULL, val varchar(64) NOT NULL, n int NOT NULL DEFAULT 0, PRIMARY KEY (id))';
const VSCHEMA = { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { ledger: { column_vindexes: [{ column: 'id', name: 'hash' }] } } };

type Summary = { State: string; RowsCompared: number; HasMismatch: boolean; Shards: string; Reports?: unknown };

describe('VDiff under continuous writes', { timeout: 900_000 }, () => {
  let c: TestCluster;
  let ctx: CtldContext;
  let pool: mysql.Pool;
  const run = (name: string, req: JsonObject): Promise<Json> => (VDIFF_COMMANDS[name] ?? WORKFLOW_COMMANDS[name]).run(ctx, req);
  const vd = (action: string, extra: JsonObject = {}) => run('VDiff', { action, workflow: 'ledger', target_keyspace: 'customer', format: 'json', ...extra });
  const finished = async (uuid: string): Promise<Summary> => {
    let s: Summary | undefined;
    await waitFor(`VDiff ${uuid} to complete`, async () => {
      s = (await vd('show', { uuid })) as unknown as Summary;
      if (s.State === 'error') throw new Error(`VDiff in error: ${JSON.stringify(s)}`);
      return s.State === 'completed';
    });
    return s!;
  };

  // Only when a diff reported a mismatch: what the failure message needs to tell the possible causes
  // apart. For each differing key: where its row is now (a target still without it, seconds later,
  // is a row lost by replication, not a false mismatch); the GTID of the source transaction that
  // wrote it, from the source's binlog, beside the positions the diff compared at and the position
  // each stream stopped at (a GTID past the compared position means the source's snapshot held more
  // than its position says; one at or before it, a stream that stopped without applying it).
  const explainMismatch = async (s: Summary): Promise<string> => {
    const out: string[] = [];
    try {
      const keys = [...new Set([...JSON.stringify(s.Reports ?? {}).matchAll(/"id":"?(-?\d+)/g)].map((m) => m[1]))].slice(0, 5);
      await new Promise((r) => setTimeout(r, 3000));
      for (const id of keys) {
        const where: string[] = [];
        for (const [ks, sh] of [['commerce', '0'], ['customer', '-80'], ['customer', '80-']] as const) {
          const rows = await c.shardRows(ks, sh, `SELECT id, val, n FROM ledger WHERE id = ${id}`);
          where.push(`${ks}/${sh}: ${rows.length ? JSON.stringify(rows[0]) : 'absent'}`);
        }
        let gtid = 'not found in the source binlog';
        for (const l of await c.shardRows('commerce', '0', 'SHOW BINARY LOGS')) {
          let last = '';
          for (const e of await c.shardRows('commerce', '0', `SHOW BINLOG EVENTS IN '${l.Log_name}'`)) {
            const info = String(e.Info);
            if (e.Event_type === 'Gtid') last = info;
            if (e.Event_type === 'Annotate_rows' && new RegExp(`INSERT INTO ledger \\(id, val\\) VALUES \\(${id},`).test(info)) gtid = `${last} (${l.Log_name}:${e.Pos})`;
          }
        }
        out.push(`row ${id} now: ${where.join('; ')}; written by ${gtid}`);
      }
      for (const sh of ['-80', '80-']) {
        const t = await c.shardRows('customer', sh, 'SELECT report FROM _vt.vdiff_table');
        const positions = t.map((r) => ((typeof r.report === 'string' ? JSON.parse(r.report) : r.report) as { positions?: object }).positions);
        const logs = await c.shardRows('customer', sh, "SELECT message FROM _vt.vreplication_log WHERE message LIKE 'Reached stopping position%' ORDER BY id DESC LIMIT 1");
        out.push(`customer/${sh}: compared at ${JSON.stringify(positions)}; last stream stop: ${logs[0]?.message ?? 'none'}`);
      }
    } catch (err) {
      out.push(`(explaining the mismatch failed: ${(err as Error).message})`);
    }
    return out.join('\n');
  };

  before(async () => {
    c = await startCluster({
      gate: false,
      keyspaces: [
        { name: 'commerce', shards: ['0'], schema: SCHEMA, vschema: { tables: { ledger: {} } } },
        { name: 'customer', shards: ['-80', '80-'], vschema: VSCHEMA },
      ],
    });
    ctx = { topo: c.topo, tmc: new RpcTabletManagerClient(c.topo) };
    await c.shardRows('commerce', '0', "INSERT INTO ledger (id, val) SELECT seq, CONCAT('s', seq) FROM seq_1_to_200");
    await run('MoveTables', { action: 'create', workflow: 'ledger', target_keyspace: 'customer', source_keyspace: 'commerce', tables: 'ledger', tablet_types: ['primary'] });
    await waitFor('the copy to finish', async () => {
      const st = (await run('Workflow', { action: 'status', keyspace: 'customer', workflow: 'ledger', format: 'json' })) as { table_copy_state: object; shard_streams: Record<string, { streams: { status: string }[] }> };
      const streams = Object.values(st.shard_streams).flatMap((s) => s.streams);
      return Object.keys(st.table_copy_state).length === 0 && streams.length === 2 && streams.every((s) => s.status === 'Running');
    });
    const { host, port } = await c.mysqlAddress(c.shard('commerce', '0').primary);
    pool = mysql.createPool({ host, port, user: 'vt_dba', password: '', database: 'vt_commerce', connectionLimit: 4 });
  });

  after(async () => {
    await pool?.end().catch(() => undefined);
    ctx?.tmc.close();
    await c?.stop();
  });

  it(`reports no mismatch in ${ROUNDS} consecutive VDiffs while the source takes writes`, async (t) => {
    const ledger = new WriteLedger({
      write: async (id) => {
        await pool.query('INSERT INTO ledger (id, val) VALUES (?, ?)', [1_000 + id, `l${id}`]);
        // Paced: the machine is shared; the point is writes landing between the diff's steps.
        await new Promise((r) => setTimeout(r, 5));
      },
    });
    let updating = true;
    let updates = 0;
    const updater = (async () => {
      while (updating) {
        // val stays within its varchar(64): the last character changes once the value is 60 long.
        await pool.query('UPDATE ledger SET n = n + 1, val = CONCAT(LEFT(val, 59), ?) WHERE id = ?', [String(updates % 10), 1 + (updates % 200)]);
        updates++;
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const stopWrites = async () => {
      updating = false;
      await updater;
      await ledger.stop();
    };
    t.after(stopWrites);
    ledger.start();
    await ledger.waitForAcks(20);
    let previous = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      const chunk_checksum = round % 2 === 1;
      const { UUID } = (await vd('create', { chunk_checksum })) as { UUID: string };
      const s = await finished(UUID);
      assert.equal(s.HasMismatch, false, `round ${round} (chunk_checksum ${chunk_checksum}): ${JSON.stringify(s.Reports)}\n${s.HasMismatch ? await explainMismatch(s) : ''}`);
      assert.equal(s.Shards, '-80,80-');
      // Rows only come: each diff sees at least what the one before it saw.
      assert.ok(s.RowsCompared >= previous, `round ${round}: ${s.RowsCompared} rows compared after ${previous}`);
      previous = s.RowsCompared;
      await vd('delete', { uuid: UUID });
    }
    await stopWrites();
    assert.ok(ledger.acknowledged.length > 20 && updates > 0);
    assert.equal(ledger.failedTotal, 0, JSON.stringify(ledger.failed.slice(0, 3)));
    const { UUID } = (await vd('create')) as { UUID: string };
    const s = await finished(UUID);
    assert.equal(s.HasMismatch, false);
    assert.equal(s.RowsCompared, 200 + ledger.acknowledged.length);
  });
});
