// VDiff's repair script for many differing rows, streamed in pages: a table of 20,000 rows of about
// 2 KB where the target differs on every row (all changed, ten missing, ten extra), a VDiff with
// --max-report-sample-rows 0, and `tessera ctl VDiff … repair --output file` run as a user runs it —
// the real ctl against a `tessera ctld` child process, both with their heap limited to 32 MB while
// the script is about 40 MB: neither can hold it whole, so the run completes only if the script
// goes from the tablets' _vt.vdiff_row to the file page by page. ctld's pages (the admin API's
// repair with `after`) are each at most a page's bytes. The script applied through the gate with
// the mariadb client makes the next VDiff clean.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createReadStream, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import { startCluster, type TestCluster } from '../../harness/cluster.js';
import { testRoot } from '../../harness/processes.js';
import { waitFor } from '../../harness/wait.js';
import { startCtld, type Ctld } from '../ctld/session.js';
import { WORKFLOW_COMMANDS } from '../../../src/ctld/workflow-commands.js';
import { VDIFF_COMMANDS, VDIFF_REPAIR_DEFAULTS } from '../../../src/ctld/vdiff-commands.js';
import type { CtldContext } from '../../../src/ctld/command.js';
import { RpcTabletManagerClient } from '../../../src/tablet/index.js';
import type { Json, JsonObject } from '../../../src/topo/index.js';

const TESSERA = fileURLToPath(new URL('../../../../bin/tessera', import.meta.url));
const ROWS = Number(process.env.VDIFF_REPAIR_ROWS || 20_000);
/** Rows missing on the target (ids 1..10) and extra there (ids after ROWS). */
const MISSING = 10;
const EXTRA = 10;
const HEAP_MB = 32;
const HEAP = { NODE_OPTIONS: `--max-old-space-size=${HEAP_MB}` };
const SCHEMA = 'CREATE TABLE wide (id bigint NOT NULL, n int NOT NULL, pad varchar(2000) NOT NULL, PRIMARY KEY (id))';

type Summary = { State: string; RowsCompared: number; HasMismatch: boolean; TableSummary: Record<string, { MismatchedRows: number; ExtraRowsSource: number; ExtraRowsTarget: number }> };

describe('VDiff repair script in pages', { timeout: 1_800_000 }, () => {
  let c: TestCluster;
  let ctx: CtldContext;
  let ctld: Ctld;
  const run = (name: string, req: JsonObject): Promise<Json> => (VDIFF_COMMANDS[name] ?? WORKFLOW_COMMANDS[name]).run(ctx, req);
  const vd = (action: string, extra: JsonObject = {}) => run('VDiff', { action, workflow: 'wide', target_keyspace: 'dst', format: 'json', ...extra });
  const finished = async (uuid: string): Promise<Summary> => {
    let s: Summary | undefined;
    await waitFor(`VDiff ${uuid} to complete`, async () => {
      s = (await vd('show', { uuid })) as unknown as Summary;
      if (s.State === 'error') throw new Error(`VDiff in error: ${JSON.stringify(s)}`);
      return s.State === 'completed';
    }, 600_000);
    return s!;
  };

  before(async () => {
    c = await startCluster({
      topo: 'file',
      keyspaces: [
        { name: 'src', shards: ['0'], schema: SCHEMA, vschema: { tables: { wide: {} } } },
        { name: 'dst', shards: ['0'] },
      ],
    });
    ctx = { topo: c.topo, tmc: new RpcTabletManagerClient(c.topo) };
    ctld = await startCtld('file', c.topoAddress, HEAP);
    await run('MoveTables', { action: 'create', workflow: 'wide', target_keyspace: 'dst', source_keyspace: 'src', tables: 'wide', format: 'json' });
    await waitFor('the (empty) copy to finish', async () => {
      const st = (await run('Workflow', { action: 'status', keyspace: 'dst', workflow: 'wide', format: 'json' })) as { table_copy_state: object; shard_streams: Record<string, { streams: { status: string }[] }> };
      const streams = Object.values(st.shard_streams).flatMap((s) => s.streams);
      return Object.keys(st.table_copy_state).length === 0 && streams.length === 1 && streams.every((s) => s.status === 'Running');
    }, 120_000);
    // The rows on both sides outside the binlog (no copy of 40 MB through the stream): on the
    // target every n is off by one, the first MISSING rows are not there and EXTRA more are.
    const rows = (n: string, from: number, to: number) => `INSERT INTO wide SELECT seq, ${n}, REPEAT(MD5(seq), 62) FROM seq_${from}_to_${to}`;
    for (const [ks, sql] of [
      ['src', rows('seq % 1000', 1, ROWS)],
      ['dst', rows('seq % 1000 + 1', MISSING + 1, ROWS + EXTRA)],
    ]) {
      const conn = await mysql.createConnection({ ...(await c.mysqlAddress(c.shard(ks, '0').primary)), user: 'vt_dba', password: '', database: `vt_${ks}` });
      try {
        await conn.query('SET SESSION sql_log_bin = 0');
        await conn.query(sql);
      } finally {
        await conn.end();
      }
    }
  });

  after(async () => {
    ctx?.tmc.close();
    await ctld?.stop();
    await c?.stop();
  });

  it('writes the script page by page with ctld and ctl under a 32 MB heap, and applied through the gate it makes the next VDiff clean', async () => {
    const { UUID } = (await vd('create', { max_report_sample_rows: 0 })) as { UUID: string };
    const s = await finished(UUID);
    assert.equal(s.HasMismatch, true);
    assert.deepEqual(
      [s.TableSummary.wide.MismatchedRows, s.TableSummary.wide.ExtraRowsSource, s.TableSummary.wide.ExtraRowsTarget],
      [ROWS - MISSING, MISSING, EXTRA],
    );

    // The admin API's pages: none larger than a page's bytes, the first with the header.
    let pages = 0;
    let largest = 0;
    let total = 0;
    let next = '';
    do {
      const p = (await vd('repair', { uuid: UUID, ...(next ? { after: next } : {}) })) as { script: string; next: string };
      if (pages === 0) assert.match(p.script, /^-- Repair script for VDiff /);
      pages++;
      largest = Math.max(largest, p.script.length);
      total += p.script.length;
      next = p.next;
    } while (next !== '');
    assert.ok(largest <= VDIFF_REPAIR_DEFAULTS.pageBytesMax, `a page of ${largest} bytes, over the page size ${VDIFF_REPAIR_DEFAULTS.pageBytesMax}`);
    assert.ok(total > HEAP_MB * 1024 * 1024, `a script of ${total} bytes, smaller than the heap limit: it proves nothing`);
    assert.ok(pages >= Math.floor(total / VDIFF_REPAIR_DEFAULTS.pageBytesMax), `${pages} pages for ${total} bytes`);
    console.log(`# repair script: ${total} bytes in ${pages} pages, the largest ${largest} bytes`);

    // As a user runs it: tessera ctl (32 MB heap) against the ctld child (32 MB heap).
    const file = join(testRoot(), `repair-${UUID}.sql`);
    const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [TESSERA, 'ctl', '--server', `127.0.0.1:${ctld.grpcPort}`, 'VDiff', '--workflow', 'wide', '--target-keyspace', 'dst', 'repair', UUID, '--output', file],
        { env: { ...process.env, ...HEAP, TESSERA_LOG_LEVEL: 'warn' } },
        (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
      );
    });
    assert.equal(out.code, 0, `ctl repair failed: ${out.stderr}`);
    assert.equal(out.stdout, `Repair script written to ${file}\n`);
    assert.equal(statSync(file).size, total, 'the file holds every page');
    let replaces = 0;
    let deletes = 0;
    for await (const line of createInterface({ input: createReadStream(file) })) {
      if (line.startsWith('REPLACE INTO wide ')) replaces++;
      else if (line.startsWith('DELETE FROM wide ')) deletes++;
    }
    assert.deepEqual([replaces, deletes], [ROWS, EXTRA]);

    // Applied through the gate with the mariadb client, as docs/vdiff.md says.
    const applied = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const p = spawn('mariadb', ['-h', '127.0.0.1', '-P', String(c.gate!.mysqlPort), '-u', 'vt_app'], { stdio: ['pipe', 'ignore', 'pipe'] });
      let stderr = '';
      p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      p.on('exit', (code) => resolve({ code, stderr }));
      createReadStream(file).pipe(p.stdin);
    });
    assert.equal(applied.code, 0, `mariadb < repair script failed: ${applied.stderr}`);
    const again = (await vd('create')) as { UUID: string };
    const clean = await finished(again.UUID);
    assert.equal(clean.HasMismatch, false);
    assert.equal(clean.RowsCompared, ROWS);
  });
});
