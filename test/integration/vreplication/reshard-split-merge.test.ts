// Reshard beyond 0 → -80,80-: a 2→4 split (-80,80- → -40,40-80,80-c0,c0-), then a 4→2 merge
// onto uneven shards (→ -60,60-, each new shard taking whole and partial old ones), of tables
// sharded by hash, xxhash and binary_md5. After each, every row sits in the shard its keyspace id
// names and each table holds exactly the source's rows; a VDiff of the workflow is clean after the
// copy, and once the writes moved, a VDiff of its reverse workflow (the old shards against the new)
// is clean too; traffic switches and the old shards stop serving. Then the refusals that change
// nothing: a target shard without a primary.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type TestCluster } from '../../harness/cluster.js';
import { startTestTablet } from '../../harness/tablet.js';
import { WORKFLOW_COMMANDS } from '../../../src/ctld/workflow-commands.js';
import { TOPO_COMMANDS } from '../../../src/ctld/topo-commands.js';
import { VDIFF_COMMANDS } from '../../../src/ctld/vdiff-commands.js';
import type { CtldContext } from '../../../src/ctld/command.js';
import { RpcTabletManagerClient, type TabletProcess } from '../../../src/tablet/index.js';
import type { Json, JsonObject } from '../../../src/topo/index.js';
import { createVindex, type FunctionalVindex } from '../../../src/vindexes/index.js';
import { keyRangeContains, parseShardName } from '../../../src/key/index.js';
import { waitFor } from '../../harness/wait.js';
import { waitForCopied } from '../../harness/workflow-wait.js';

/** Rows over the three tables together (the figure; BENCH-style override for a quick run). */
const ROWS = Number(process.env.TESSERA_RESHARD_TEST_ROWS ?? 100_000);

const SCHEMA = `
CREATE TABLE t_hash (id bigint NOT NULL, v varchar(64), PRIMARY KEY (id));
CREATE TABLE t_xx (id bigint NOT NULL, v varchar(64), PRIMARY KEY (id));
CREATE TABLE t_md5 (k varbinary(32) NOT NULL, v varchar(64), PRIMARY KEY (k))`;

const VSCHEMA = {
  sharded: true,
  vindexes: { hash: { type: 'hash' }, xx: { type: 'xxhash' }, md5: { type: 'binary_md5' } },
  tables: {
    t_hash: { column_vindexes: [{ column: 'id', name: 'hash' }] },
    t_xx: { column_vindexes: [{ column: 'id', name: 'xx' }] },
    t_md5: { column_vindexes: [{ column: 'k', name: 'md5' }] },
  },
};

const TABLES = [
  { name: 't_hash', key: 'id', vindex: createVindex('hash', 'hash', {}) as FunctionalVindex, value: (i: number) => BigInt(i) as bigint | Buffer },
  { name: 't_xx', key: 'id', vindex: createVindex('xxhash', 'xx', {}) as FunctionalVindex, value: (i: number) => BigInt(i) as bigint | Buffer },
  { name: 't_md5', key: 'k', vindex: createVindex('binary_md5', 'md5', {}) as FunctionalVindex, value: (i: number) => Buffer.from(`key-${i}`) as bigint | Buffer },
];

function ksid(vindex: FunctionalVindex, v: bigint | Buffer): Uint8Array {
  const [d] = vindex.map([v]);
  if (d.kind !== 'keyspaceId') throw new Error(`no keyspace id for ${String(v)}`);
  return d.id;
}

describe('Reshard 2→4 and 4→2 of tables sharded by hash, xxhash and binary_md5', { timeout: 900_000 }, () => {
  let c: TestCluster;
  let ctx: CtldContext;
  const tablets = new Map<string, TabletProcess>();
  const run = (name: string, req: JsonObject): Promise<Json> => WORKFLOW_COMMANDS[name].run(ctx, req);
  const sqlOn = async (shard: string, sql: string) => (await tablets.get(shard)!.manager.executeFetchAsDba(sql, { maxRows: 1_000_000 })).rows;

  before(async () => {
    c = await startCluster({ gate: false, keyspaces: [{ name: 'ks', shards: ['-80', '80-'], schema: SCHEMA, vschema: VSCHEMA }] });
    for (const s of ['-80', '80-']) tablets.set(s, c.shard('ks', s).primary);
    ctx = { topo: c.topo, tmc: new RpcTabletManagerClient(c.topo) };
    // Each row goes to the shard its keyspace id names, as the gate would put it.
    const per = Math.ceil(ROWS / TABLES.length);
    for (const t of TABLES) {
      const byShard = new Map<string, string[]>([['-80', []], ['80-', []]]);
      for (let i = 1; i <= per; i++) {
        const v = t.value(i);
        const shard = ksid(t.vindex, v)[0] < 0x80 ? '-80' : '80-';
        const key = Buffer.isBuffer(v) ? `'${v.toString()}'` : String(v);
        byShard.get(shard)!.push(`(${key}, 'row ${i}')`);
      }
      for (const [shard, rows] of byShard) {
        for (let i = 0; i < rows.length; i += 5000) await sqlOn(shard, `INSERT INTO ${t.name} VALUES ${rows.slice(i, i + 5000).join(',')}`);
      }
    }
  });

  after(async () => {
    ctx?.tmc.close();
    // The cluster's own tablets (-80, 80-) were stopped by the split; c.stop() stops them again.
    for (const [shard, t] of tablets) if (shard !== '-80' && shard !== '80-') await t.stop({ stopMysql: true });
    await c?.stop();
  });

  /** A VDiff of `workflow` in ks to completion: every row compared, no mismatch. */
  async function cleanVDiff(workflow: string, shards: readonly string[]): Promise<void> {
    const vd = (action: string, extra: JsonObject = {}) => VDIFF_COMMANDS.VDiff.run(ctx, { action, workflow, target_keyspace: 'ks', format: 'json', ...extra });
    const { UUID } = (await vd('create')) as { UUID: string };
    let s: { State: string; RowsCompared: number; HasMismatch: boolean; Shards: string; Reports?: unknown } | undefined;
    await waitFor(`VDiff of ${workflow}`, async () => {
      s = (await vd('show', { uuid: UUID })) as unknown as NonNullable<typeof s>;
      if (s.State === 'error') throw new Error(`VDiff of ${workflow} in error: ${JSON.stringify(s)}`);
      return s.State === 'completed';
    }, 600_000);
    assert.equal(s!.HasMismatch, false, `VDiff of ${workflow}: ${JSON.stringify(s!.Reports)}`);
    assert.equal(s!.Shards, [...shards].join(','));
    assert.equal(s!.RowsCompared, Math.ceil(ROWS / TABLES.length) * TABLES.length, `VDiff of ${workflow} compares every row`);
  }

  async function dump(shards: readonly string[], table: (typeof TABLES)[number]): Promise<string[]> {
    const out: string[] = [];
    for (const s of shards) for (const r of await sqlOn(s, `SELECT HEX(${table.key}), v FROM ${table.name}`)) out.push(`${String(r[0])}|${String(r[1])}`);
    return out.sort();
  }

  async function reshard(workflow: string, from: readonly string[], to: readonly string[]): Promise<void> {
    for (const s of to) tablets.set(s, await startTestTablet({ cell: c.cell, keyspace: 'ks', shard: s, tabletType: 'primary', topo: c.topo }));
    const before = new Map<string, string[]>();
    for (const t of TABLES) before.set(t.name, await dump(from, t));

    const created = (await run('Reshard', {
      action: 'create',
      workflow,
      target_keyspace: 'ks',
      source_shards: [...from],
      target_shards: [...to],
      tablet_types: ['primary'],
    })) as { streams: { shard: string; ids: number[] }[] };
    // One stream per (target, intersecting source) pair.
    const pairs = to.flatMap((t) => from.filter((f) => {
      const a = parseShardName(t);
      const b = parseShardName(f);
      return keyRangeContains(a, b.start) || keyRangeContains(b, a.start);
    }));
    assert.equal(created.streams.reduce((n, s) => n + s.ids.length, 0), pairs.length);

    await waitForCopied(`${workflow}'s copy`, (req) => run('Reshard', { ...req, workflow, target_keyspace: 'ks' }), pairs.length, 600_000);

    for (const t of TABLES) {
      assert.deepEqual(await dump(to, t), before.get(t.name), `${t.name}: every row of ${from.join(',')} in exactly one of ${to.join(',')}`);
      for (const s of to) {
        const kr = parseShardName(s);
        for (const r of await sqlOn(s, `SELECT ${t.key} FROM ${t.name}`)) {
          const v = t.name === 't_md5' ? Buffer.from(String(r[0])) : BigInt(String(r[0]));
          assert.ok(keyRangeContains(kr, ksid(t.vindex, v)), `${t.name} row ${String(r[0])} is in ${s}, which its vindex does not give it`);
        }
      }
    }

    await cleanVDiff(workflow, to);

    await run('Reshard', { action: 'switchtraffic', workflow, target_keyspace: 'ks', tablet_types: ['rdonly', 'replica'] });
    await run('Reshard', { action: 'switchtraffic', workflow, target_keyspace: 'ks', tablet_types: ['primary'] });
    await cleanVDiff(`${workflow}_reverse`, from);
    await run('Reshard', { action: 'complete', workflow, target_keyspace: 'ks' });
    const srv = await c.topo.getSrvKeyspace(c.cell, 'ks');
    for (const p of srv.partitions) assert.deepEqual(p.shard_references.map((r) => r.name), [...to], `${p.served_type} served by the new shards`);
    // The tutorial's 306-307: the old shards' tablets stop and the shards go, so later shards may
    // overlap their ranges.
    for (const s of from) {
      await tablets.get(s)!.stop({ stopMysql: true });
      tablets.delete(s);
    }
    await TOPO_COMMANDS.DeleteShards.run(ctx, { shards: from.map((s) => `ks/${s}`), recursive: true });
  }

  it('splits -80,80- into four shards', async () => {
    await reshard('split', ['-80', '80-'], ['-40', '40-80', '80-c0', 'c0-']);
  });

  it('merges the four into uneven -60,60-', async () => {
    await reshard('merge', ['-40', '40-80', '80-c0', 'c0-'], ['-60', '60-']);
  });

  it('refuses a target shard without a primary, changing nothing', async () => {
    await TOPO_COMMANDS.CreateShard.run(ctx, { keyspace_shard: 'ks/-30' });
    await TOPO_COMMANDS.CreateShard.run(ctx, { keyspace_shard: 'ks/30-60' });
    await assert.rejects(
      run('Reshard', { action: 'create', workflow: 'nope', target_keyspace: 'ks', source_shards: ['-60'], target_shards: ['-30', '30-60'] }),
      /shard ks\/-30 has no primary; run InitShardPrimary ks\/-30 <tablet> first/,
    );
    assert.deepEqual(await run('Workflow', { action: 'list', keyspace: 'ks' }), []);
    for (const p of (await c.topo.getSrvKeyspace(c.cell, 'ks')).partitions) assert.deepEqual(p.shard_references.map((r) => r.name), ['-60', '60-']);
  });
});
