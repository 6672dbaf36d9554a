// A scripted admin session: `tessera ctl` (the real bin/tessera, one child process per command)
// against a running `tessera ctld` child process, as a user would type it. Run on the file backend
// (session-file.test.ts) and on etcd (session-etcd.test.ts).
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort, testRoot, trackPid } from '../../harness/processes.js';

const TESSERA = fileURLToPath(new URL('../../../../bin/tessera', import.meta.url));

export interface Ctld {
  readonly port: number;
  readonly grpcPort: number;
  stop(): Promise<void>;
  /** Resolves when the process has exited (on its own, or killed). */
  readonly exited: Promise<void>;
}

/** Starts `tessera ctld` and waits for its readiness line. */
export async function startCtld(impl: string, address: string, env: Record<string, string> = {}): Promise<Ctld> {
  const port = await freePort();
  const grpcPort = await freePort();
  // The seeds' spellings (underscores) on purpose: the CLI must accept them.
  const proc: ChildProcess = spawn(
    process.execPath,
    [TESSERA, 'ctld', '--topo_implementation', impl, '--topo_global_server_address', address, '--topo-global-root', '/tessera/global', '--port', String(port), '--grpc-port', String(grpcPort), '--bind-address', '127.0.0.1'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TESSERA_LOG_LEVEL: 'warn', ...env } },
  );
  const untrack = trackPid(() => proc.pid);
  let stderr = '';
  proc.stderr?.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (l) => {
      if (l.startsWith('ctld listening on')) resolve();
    });
    void exited.then(() => reject(new Error(`ctld exited early: ${stderr}`)));
  });
  return {
    port,
    grpcPort,
    exited,
    async stop() {
      proc.kill('SIGTERM');
      await exited;
      untrack();
    },
  };
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function ctlAt(port: number, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [TESSERA, 'ctl', '--server', `127.0.0.1:${port}`, ...args], { env: { ...process.env, TESSERA_LOG_LEVEL: 'warn' } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const COMMERCE_SEQ = { tables: { customer_seq: { type: 'sequence' }, order_seq: { type: 'sequence' }, product: {} } };
const CUSTOMER_SHARDED = {
  sharded: true,
  vindexes: { hash: { type: 'hash' } },
  tables: {
    customer: { column_vindexes: [{ column: 'customer_id', name: 'hash' }], auto_increment: { column: 'customer_id', sequence: 'customer_seq' } },
    corder: { column_vindexes: [{ column: 'customer_id', name: 'hash' }], auto_increment: { column: 'order_id', sequence: 'order_seq' } },
  },
};

/** The session; `restart` stops ctld and starts it again on the same store (persistence check). */
export async function runSession(first: Ctld, restart: (() => Promise<Ctld>) | null): Promise<void> {
  let ctld = first;
  const ctl = (...args: string[]): Promise<Run> => ctlAt(ctld.port, args);
  const ok = async (...args: string[]): Promise<string> => {
    const r = await ctl(...args);
    assert.equal(r.code, 0, `ctl ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  };
  const okJson = async <T>(...args: string[]): Promise<T> => JSON.parse(await ok(...args)) as T;
  const bad = async (want: RegExp, ...args: string[]): Promise<void> => {
    const r = await ctl(...args);
    assert.notEqual(r.code, 0, `ctl ${args.join(' ')} should fail`);
    assert.equal(r.stdout, '', 'a failed command prints nothing on stdout');
    assert.match(r.stderr, want);
  };
  const shardNames = async (ks: string): Promise<string[]> => Object.keys(await okJson<Record<string, unknown>>('FindAllShardsInKeyspace', ks)).sort();

  const dir = testRoot();
  const file = (name: string, v: unknown): string => {
    const p = join(dir, `${process.pid}-${name}`);
    writeFileSync(p, JSON.stringify(v));
    return p;
  };

  // Cells and keyspaces, with vtctldclient spellings and the seeds' aliases.
  await ok('AddCellInfo', 'zone1');
  assert.equal(await ok('GetCellInfoNames'), 'zone1\n');
  assert.equal((await okJson<{ name: string }>('CreateKeyspace', 'commerce')).name, 'commerce');
  const cust = await okJson<{ keyspace: { durability_policy: string; sidecar_db_name: string } }>('CreateKeyspace', '--durability_policy=semi_sync', 'customer');
  assert.deepEqual(cust.keyspace, { durability_policy: 'semi_sync', sidecar_db_name: '_vt' });
  await ok('CreateKeyspace', 'customer2');
  assert.deepEqual((await okJson<{ name: string }[]>('GetKeyspaces')).map((k) => k.name), ['commerce', 'customer', 'customer2']);

  // Shards.
  await ok('CreateShard', 'commerce/0');
  await ok('CreateShard', 'customer/-80');
  await ok('CreateShard', 'customer/80-');
  const s = await okJson<{ shard: { is_primary_serving: boolean; key_range: { start: string; end: string } } }>('GetShard', 'customer/-80');
  assert.deepEqual(s.shard.key_range, { start: '', end: '80' });
  assert.equal(s.shard.is_primary_serving, true);
  // A resharding target of commerce/0 is created not serving.
  const target = await okJson<{ shard: { is_primary_serving: boolean } }>('CreateShard', 'commerce/-80');
  assert.equal(target.shard.is_primary_serving, false);

  // Bad shards: clear errors, nothing changes.
  await bad(/start at or after its end/, 'CreateShard', 'customer/80-40');
  await bad(/not a key range|hex/, 'CreateShard', 'customer/-8g');
  await bad(/overlap shard -80, which is not serving/, 'CreateShard', 'commerce/-40');
  await bad(/same key range as shard -80/, 'CreateShard', 'customer/-8000');
  await bad(/already exists/, 'CreateShard', 'customer/80-');
  await bad(/keyspace nosuch not found/, 'CreateShard', 'nosuch/0');
  await bad(/shard customer\/40-80 not found/, 'GetShard', 'customer/40-80');
  assert.deepEqual(await shardNames('customer'), ['-80', '80-']);
  assert.deepEqual(await shardNames('commerce'), ['-80', '0']);
  // The seeds' singular command and single-dash flags.
  await ok('DeleteShard', '-recursive', 'commerce/-80');
  assert.deepEqual(await shardNames('commerce'), ['0']);

  // VSchemas (the tutorial's, with hash as the seeds have it).
  await bad(/customer_seq/, 'ApplyVSchema', '--vschema-file', file('customer.json', CUSTOMER_SHARDED), 'customer');
  const applied = await okJson<{ tables: Record<string, unknown> }>('ApplyVSchema', '--vschema_file', file('commerce.json', COMMERCE_SEQ), 'commerce');
  assert.deepEqual(Object.keys(applied.tables).sort(), ['customer_seq', 'order_seq', 'product']);
  const dry = await okJson<{ sharded: boolean }>('ApplyVSchema', '--dry-run', '--vschema', JSON.stringify(CUSTOMER_SHARDED), 'customer');
  assert.equal(dry.sharded, true);
  await bad(/no vschema for keyspace customer/, 'GetVSchema', 'customer');
  await ok('ApplyVSchema', '-vschema_file', file('customer.json', CUSTOMER_SHARDED), 'customer');
  const vs = await okJson<{ sharded: boolean; vindexes: Record<string, { type: string }> }>('GetVSchema', 'customer');
  assert.equal(vs.sharded, true);
  assert.equal(vs.vindexes.hash.type, 'hash');
  await bad(/not valid JSON/, 'ApplyVSchema', '--vschema', '{"sharded": tru', 'customer');
  await bad(/keyspace nosuch not found/, 'ApplyVSchema', '--vschema', '{}', 'nosuch');
  await bad(/nope/, 'ApplyVSchema', '--vschema', JSON.stringify({ sharded: true, tables: { t: { column_vindexes: [{ column: 'id', name: 'nope' }] } } }), 'customer');
  assert.deepEqual(await okJson('GetVSchema', 'customer'), vs);

  // Routing rules and shard routing rules.
  const rules = {
    rules: [
      { from_table: 'customer', to_tables: ['commerce.customer'] },
      { from_table: 'customer.customer', to_tables: ['commerce.customer'] },
      { from_table: 'customer.customer@replica', to_tables: ['commerce.customer'] },
    ],
  };
  await ok('ApplyRoutingRules', '--rules', JSON.stringify(rules));
  assert.deepEqual(await okJson('GetRoutingRules'), rules);
  await bad(/nosuchks/, 'ApplyRoutingRules', '--rules', JSON.stringify({ rules: [{ from_table: 'x', to_tables: ['nosuchks.x'] }] }));
  await bad(/not valid JSON|JSON/, 'ApplyRoutingRules', '--rules', '{rules:');
  assert.deepEqual(await okJson('GetRoutingRules'), rules);
  // The seed writes "shards"; we store and print "shard".
  await ok('ApplyShardRoutingRules', '--rules_file', file('srr.json', { rules: [{ from_keyspace: 'customer', to_keyspace: 'customer2', shards: '-80' }] }));
  assert.deepEqual(await okJson('GetShardRoutingRules'), { rules: [{ from_keyspace: 'customer', to_keyspace: 'customer2', shard: '-80' }] });
  await bad(/80-40|start at or after/, 'ApplyShardRoutingRules', '--rules', JSON.stringify({ rules: [{ from_keyspace: 'customer', to_keyspace: 'customer2', shard: '80-40' }] }));

  // Tablets.
  await ok('InitTablet', '--keyspace', 'customer', '--shard', '-80', 'zone1-200', 'primary');
  await ok('InitTablet', '-keyspace', 'customer', '-shard', '80-', '--tags', 'role:reader', 'zone1-301', 'replica');
  assert.equal(
    await ok('GetTablets', '--keyspace', 'customer'),
    'zone1-0000000200 customer -80 primary localhost:15200 localhost:17200 [] <null>\n' +
      'zone1-0000000301 customer 80- replica localhost:15301 localhost:17301 [role: "reader"] <null>\n',
  );
  const replicas = await okJson<{ alias: { uid: number } }[]>('GetTablets', '--tablet_type', 'replica', '--format', 'json');
  assert.deepEqual(replicas.map((t) => t.alias.uid), [301]);
  assert.equal((await okJson<{ shard: string }>('GetTablet', 'zone1-200')).shard, '-80');

  // The serving graph.
  await ok('RebuildKeyspaceGraph', 'commerce', 'customer');
  const srvKs = await okJson<Record<string, { partitions: { served_type: string; shard_references: { name: string }[] }[] }>>('GetSrvKeyspaces', 'customer');
  assert.deepEqual(
    srvKs.zone1.partitions.map((p) => [p.served_type, p.shard_references.map((r) => r.name)]),
    [['primary', ['-80', '80-']], ['replica', ['-80', '80-']], ['rdonly', ['-80', '80-']]],
  );

  // Tablet controls: denied tables on the shard record; query_service_disabled mirrored into the
  // serving graph, where tablets read it.
  type Partitions = Record<string, { partitions: { served_type: string; shard_references: { name: string }[]; shard_tablet_controls: unknown[] }[] }>;
  const byType = async (ks: string): Promise<Record<string, string[]>> =>
    Object.fromEntries((await okJson<Partitions>('GetSrvKeyspaces', ks, 'zone1')).zone1.partitions.map((p) => [p.served_type, p.shard_references.map((r) => r.name)]));
  await ok('SetShardTabletControl', '--denied-tables', 'customer,corder', 'customer/-80', 'rdonly');
  await ok('SetShardTabletControl', '--disable-query-service', '--cells', 'zone1', 'customer/-80', 'REPLICA');
  assert.deepEqual((await okJson<{ shard: { tablet_controls: unknown[] } }>('GetShard', 'customer/-80')).shard.tablet_controls, [
    { tablet_type: 'replica', cells: ['zone1'], denied_tables: [], disable_query_service: true, frozen: false },
    { tablet_type: 'rdonly', cells: [], denied_tables: ['corder', 'customer'], disable_query_service: false, frozen: false },
  ]);
  const withTc = await okJson<Partitions>('GetSrvKeyspaces', 'customer');
  assert.deepEqual(
    withTc.zone1.partitions.map((p) => [p.served_type, p.shard_tablet_controls]),
    [['primary', []], ['replica', [{ name: '-80', key_range: { start: '', end: '80' }, query_service_disabled: true }]], ['rdonly', []]],
  );
  // Vitess's `--disable-query-service=false`, then --remove: nothing left.
  await ok('SetShardTabletControl', '--disable-query-service=false', 'customer/-80', 'replica');
  await ok('SetShardTabletControl', '--remove', '--denied-tables', 'corder', 'customer/-80', 'rdonly');
  assert.deepEqual((await okJson<{ shard: { tablet_controls: { denied_tables: string[] }[] } }>('GetShard', 'customer/-80')).shard.tablet_controls.map((c) => c.denied_tables), [['customer']]);
  await ok('SetShardTabletControl', '--remove', 'customer/-80', 'rdonly');
  assert.deepEqual((await okJson<{ shard: { tablet_controls: unknown[] } }>('GetShard', 'customer/-80')).shard.tablet_controls, []);
  assert.ok((await okJson<Partitions>('GetSrvKeyspaces', 'customer')).zone1.partitions.every((p) => p.shard_tablet_controls.length === 0));
  await bad(/nothing to set/, 'SetShardTabletControl', 'customer/-80', 'replica');
  await bad(/unknown tablet type 'bogus'/, 'SetShardTabletControl', '--disable-query-service', 'customer/-80', 'bogus');

  // MigrateServedTypes, the serving-graph step of the seeds' reshard: commerce/0 split in two,
  // one type at a time; a rebuild keeps the half-switched graph; --reverse moves back.
  await ok('CreateShard', 'commerce/-80');
  await ok('CreateShard', 'commerce/80-');
  await bad(/no Reshard workflow copies commerce\/0 into other shards; run SplitClone first/, 'MigrateServedTypes', 'commerce/0', 'rdonly');
  await bad(/no overlapping shards/, 'MigrateServedTypes', '--serving-graph-only', 'customer/-80', 'rdonly');
  const migrated = await okJson<{ from_shards: string[]; to_shards: string[] }>('MigrateServedTypes', '--serving-graph-only', 'commerce/0', 'rdonly');
  assert.deepEqual([migrated.from_shards, migrated.to_shards], [['0'], ['-80', '80-']]);
  await ok('MigrateServedTypes', '--serving-graph-only', '-cells=zone1', 'commerce/0', 'replica');
  const halfSwitched = { primary: ['0'], replica: ['-80', '80-'], rdonly: ['-80', '80-'] };
  assert.deepEqual(await byType('commerce'), halfSwitched);
  await ok('RebuildKeyspaceGraph', 'commerce');
  assert.deepEqual(await byType('commerce'), halfSwitched);
  await ok('MigrateServedTypes', '--serving-graph-only', 'commerce/0', 'master');
  assert.deepEqual(await byType('commerce'), { primary: ['-80', '80-'], replica: ['-80', '80-'], rdonly: ['-80', '80-'] });
  assert.equal((await okJson<{ shard: { is_primary_serving: boolean } }>('GetShard', 'commerce/0')).shard.is_primary_serving, false);
  assert.equal((await okJson<{ shard: { is_primary_serving: boolean } }>('GetShard', 'commerce/80-')).shard.is_primary_serving, true);
  for (const type of ['primary', 'replica', 'rdonly']) await ok('MigrateServedTypes', '--serving-graph-only', '--reverse', 'commerce/0', type);
  assert.deepEqual(await byType('commerce'), { primary: ['0'], replica: ['0'], rdonly: ['0'] });
  assert.equal((await okJson<{ shard: { is_primary_serving: boolean } }>('GetShard', 'commerce/0')).shard.is_primary_serving, true);
  await ok('DeleteShards', 'commerce/-80', 'commerce/80-');
  // A keyspace whose shards do not cover the key range yet serves what it has only when asked.
  await ok('CreateShard', 'customer2/-80');
  await bad(/gap 80- after shard -80/, 'RebuildKeyspaceGraph', 'customer2');
  await ok('RebuildKeyspaceGraph', '--allow-partial', 'customer2');
  assert.deepEqual(await byType('customer2'), { primary: ['-80'], replica: ['-80'], rdonly: ['-80'] });
  await ok('RebuildKeyspaceGraph', '--reset-partitions', 'commerce');
  assert.deepEqual(await byType('commerce'), { primary: ['0'], replica: ['0'], rdonly: ['0'] });
  await ok('RebuildVSchemaGraph');
  const srvVs = await okJson<{ keyspaces: Record<string, { sharded?: boolean }>; routing_rules: unknown; shard_routing_rules: { rules: { shard: string }[] } }>('GetSrvVSchema', 'zone1');
  assert.deepEqual(Object.keys(srvVs.keyspaces).sort(), ['commerce', 'customer', 'customer2']);
  assert.equal(srvVs.keyspaces.customer.sharded, true);
  assert.deepEqual(srvVs.routing_rules, rules);
  assert.equal(srvVs.shard_routing_rules.rules[0].shard, '-80');

  // The same API on the second port, where Vitess clients expect vtctld (15999).
  const viaGrpcPort = await ctlAt(ctld.grpcPort, ['GetKeyspace', 'customer']);
  assert.equal(viaGrpcPort.code, 0, viaGrpcPort.stderr);
  assert.equal((JSON.parse(viaGrpcPort.stdout) as { name: string }).name, 'customer');

  // Deletes: refused while not empty, then recursive.
  await bad(/--recursive/, 'DeleteKeyspace', 'customer');
  await bad(/unknown command|error/i, 'NoSuchCommand');

  if (restart) {
    await ctld.stop();
    ctld = await restart();
    assert.deepEqual((await okJson<{ name: string }[]>('GetKeyspaces')).map((k) => k.name), ['commerce', 'customer', 'customer2']);
    assert.deepEqual(await okJson('GetRoutingRules'), rules);
  }
  await ok('ApplyShardRoutingRules', '--rules', '{"rules":[]}');
  await ok('DeleteKeyspace', '--recursive', 'customer2');
  assert.deepEqual((await okJson<{ name: string }[]>('GetKeyspaces')).map((k) => k.name), ['commerce', 'customer']);
  await ctld.stop();
}
