// The README's main command, as a user runs it: `tessera up` brings up the tutorial's cluster, the
// `mariadb` client queries it through the gate, `tessera status` shows it, `tessera down` leaves no
// process behind, and `up` after `down` keeps the data. Then the same in distributed mode.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { killByPath, testRoot, track, processesUnder as harnessProcessesUnder } from '../harness/processes.js';

const execFileP = promisify(execFile);
const BIN = path.resolve('bin/tessera');
const root = path.join(testRoot(), 'cluster');
track(() => killByPath(root));
after(() => {
  killByPath(root);
});

async function tessera(args: string[]): Promise<string> {
  const r = await execFileP(process.execPath, [BIN, ...args], { env: { ...process.env, TESSERA_DATAROOT: root, TESSERA_LOG_LEVEL: 'warn' }, maxBuffer: 16 << 20 });
  return r.stdout;
}

async function mariadb(sql: string, database = 'commerce'): Promise<string> {
  const r = await execFileP('mariadb', ['-h', '127.0.0.1', '-P', '15306', '-u', 'user', '--batch', '-e', sql, database]);
  return r.stdout;
}

function processesUnder(dir: string): string[] {
  return harnessProcessesUnder(dir).map((p) => `${p.pid} ${p.cmd.slice(0, 160)}`);
}

for (const mode of ['combined', 'distributed'] as const) {
  test(`tessera up (${mode}): query with the mariadb client, status, down leaves nothing, up keeps the data`, async () => {
    const args = ['up', '--detach'];
    if (mode === 'distributed') {
      const file = path.join(testRoot(), 'distributed.yaml');
      // Distributed mode also runs with account passwords (replication then needs vt_repl's).
      const text = fs.readFileSync('examples/local/cluster.yaml', 'utf8').replace(/^mode: combined.*$/m, 'mode: distributed\ndbCredentialsFile: creds.json');
      fs.writeFileSync(file, text);
      fs.writeFileSync(path.join(testRoot(), 'creds.json'), JSON.stringify({ vt_app: ['app-secret'], vt_repl: ['repl-secret'] }));
      for (const f of fs.readdirSync('examples/local')) if (/\.(sql|json)$/.test(f)) fs.copyFileSync(path.join('examples/local', f), path.join(testRoot(), f));
      args.push(file, '--clean');
    }
    const upOut = await tessera(args);
    assert.match(upOut, /The cluster is up\./);
    assert.match(upOut, /mariadb -h 127\.0\.0\.1 -P 15306 -u user commerce/);
    assert.match(upOut, /http:\/\/127\.0\.0\.1:15000\//);

    const customers = await mariadb('select customer_id, email from customer order by customer_id');
    assert.equal(
      customers,
      'customer_id\temail\n1\talice@domain.com\n2\tbob@domain.com\n3\tcharlie@domain.com\n4\tdan@domain.com\n5\teve@domain.com\n',
    );
    assert.equal(await mariadb('select sku, price from product order by sku'), 'sku\tprice\nSKU-1001\t100\nSKU-1002\t30\n');
    await mariadb(`insert into product(sku, description, price) values ('SKU-${mode}', 'kept across down/up', 1)`);
    // The replica and rdonly follow the primary.
    for (let i = 0; ; i++) {
      const r = await mariadb(`select count(*) from product where sku = 'SKU-${mode}'`, 'commerce@replica');
      if (r.includes('\n1\n')) break;
      assert.ok(i < 100, 'the replica did not receive the row');
      await new Promise((res) => setTimeout(res, 100));
    }
    if (mode === 'distributed') {
      // The tablets' MariaDB accounts carry the file's passwords.
      const direct = (pw: string[]) => execFileP('mariadb', ['-h', '127.0.0.1', '-P', '17100', '-u', 'vt_app', ...pw, '--batch', '-e', 'select current_user()']);
      await assert.rejects(direct([]), /ERROR 1045/);
      assert.match((await direct(['-papp-secret'])).stdout, /vt_app@/);
    }
    const tablets = await mariadb('show vitess_tablets');
    assert.match(tablets, /commerce\t0\tPRIMARY\tSERVING\tzone1-0000000100/);
    assert.match(tablets, /commerce\t0\tREPLICA\tSERVING\tzone1-0000000101/);
    assert.match(tablets, /commerce\t0\tRDONLY\tSERVING\tzone1-0000000102/);

    const status = await tessera(['status']);
    assert.match(status, new RegExp(`running \\(pid \\d+, ${mode} mode\\)`));
    assert.match(status, /commerce\s+0\s+zone1-0000000100\s+primary\s+SERVING\s+healthy/);
    assert.match(status, /commerce\s+0\s+zone1-0000000101\s+replica\s+SERVING\s+healthy/);
    const ui = await fetch('http://127.0.0.1:15000/api/v1/GetKeyspaces').then((r) => r.json());
    assert.ok(JSON.stringify(ui).includes('commerce'));

    assert.match(await tessera(['down']), /Stopped\./);
    assert.deepEqual(processesUnder(root), [], 'tessera down left processes behind');

    await tessera(['up', '--detach', ...(mode === 'distributed' ? [path.join(testRoot(), 'distributed.yaml')] : [])]);
    assert.equal(await mariadb(`select description from product where sku = 'SKU-${mode}'`), 'description\nkept across down/up\n');
    assert.equal((await mariadb('select count(*) from customer')).trim(), 'count(*)\n5');
    await tessera(['down']);
    assert.deepEqual(processesUnder(root), []);
  });
}

test('examples/local step scripts: initial cluster, customer tablets as processes, MoveTables of customer and corder from commerce, switch reads, switch writes, clean commerce, then Reshard of customer into -80 and 80-', async () => {
  const stepsRoot = path.join(root, 'steps');
  const run = async (script: string) => {
    const r = await execFileP('bash', [path.join('examples/local', script)], { env: { ...process.env, TESSERA_DATAROOT: stepsRoot, TESSERA_LOG_LEVEL: 'warn' }, maxBuffer: 16 << 20 });
    return r.stdout;
  };
  const ctl = async (...args: string[]) => (await execFileP(process.execPath, [BIN, 'ctl', '--server', 'localhost:15999', ...args], { env: { ...process.env, TESSERA_LOG_LEVEL: 'warn' } })).stdout;
  const rules = async () =>
    (JSON.parse(await ctl('GetRoutingRules')) as { rules: { from_table: string; to_tables: string[] }[] }).rules.map((r) => `${r.from_table} -> ${r.to_tables.join(',')}`).sort();
  /** The eight rules per moved table, `to(spelling)` naming the keyspace each one points at. */
  const expected = (to: (from: string) => string) =>
    ['customer', 'corder']
      .flatMap((t) =>
        [t, `customer.${t}`, `${t}@replica`, `customer.${t}@replica`, `commerce.${t}@replica`, `${t}@rdonly`, `customer.${t}@rdonly`, `commerce.${t}@rdonly`].map((from) => `${from} -> ${to(from)}.${t}`),
      )
      .sort();
  try {
    assert.match(await run('101_initial_cluster.sh'), /alice@domain\.com/);
    const tablets = await run('201_customer_tablets.sh');
    assert.match(tablets, /zone1-0000000200 customer 0 primary /);
    assert.match(tablets, /zone1-0000000201 customer 0 replica /);
    assert.match(tablets, /zone1-0000000202 customer 0 rdonly /);

    // 202: the five customers and their orders are on customer/0; every query still goes to commerce.
    const moved = await run('202_move_tables.sh');
    assert.match(moved, /Traffic State: Reads Not Switched\. Writes Not Switched/);
    // (The client's `\! echo` lines come out before its buffered tables.)
    for (const email of ['alice', 'bob', 'charlie', 'dan', 'eve']) assert.match(moved, new RegExp(`\\| +\\d \\| ${email}@domain\\.com`));
    assert.equal((moved.match(/\| SKU-100[12] \|/g) ?? []).length, 5);
    assert.deepEqual(await rules(), expected(() => 'commerce'));

    // 203: @replica and @rdonly reads of customer and corder go to the customer keyspace.
    assert.match(await run('203_switch_reads.sh'), /Current State: All Reads Switched\. Writes Not Switched/);
    assert.deepEqual(await rules(), expected((from) => (from.includes('@') ? 'customer' : 'commerce')));
    assert.equal((await mariadb('select count(*) from customer', 'commerce@replica')).trim(), 'count(*)\n5');

    // 204: writes too; select_commerce_data.sql still prints every row, through the rules; a write
    // straight to commerce/0 gets the denied-table error.
    const switched = await run('204_switch_writes.sh');
    assert.match(switched, /Current State: All Reads Switched\. Writes Switched/);
    assert.match(switched, /Write pause: \d+ ms/);
    for (const email of ['alice', 'eve']) assert.match(switched, new RegExp(`${email}@domain\\.com`));
    assert.match(switched, /Keyboard/);
    await assert.rejects(mariadb("use commerce/0; insert into customer(customer_id, email) values (6, 'zed@domain.com')", 'commerce'), /table customer is denied on commerce\/0 primary/);
    await mariadb("insert into customer(customer_id, email) values (6, 'zed@domain.com')", 'customer');
    assert.match(await mariadb('select email from customer where customer_id = 6', 'commerce'), /zed@domain\.com/);

    // 205: commerce no longer has the tables; no routing rules are left.
    const cleaned = await run('205_clean_commerce.sh');
    assert.match(cleaned, /Successfully completed the commerce2customer workflow in the customer keyspace/);
    assert.deepEqual(await rules(), []);
    const rulesJson = cleaned.slice(cleaned.indexOf('{'), cleaned.indexOf('}', cleaned.indexOf('{')) + 1);
    assert.deepEqual(JSON.parse(rulesJson), { rules: [] });
    // The step shows the 1146 itself, then what comes next.
    assert.match(cleaned, /ERROR 1146 \(42S02\)/);
    assert.match(cleaned, /Next: \.\/301_customer_sharded\.sh/);
    await assert.rejects(mariadb('use commerce/0; select * from customer', 'commerce'), /ERROR 1146 \(42S02\).*Table 'vt_commerce\.customer' doesn't exist/);
    assert.equal((await mariadb('select count(*) from customer', 'customer')).trim(), 'count(*)\n6');

    // 301-307: customer is resharded from 0 into -80 and 80-.
    assert.match(await run('301_customer_sharded.sh'), /"sharded": true/);
    const shards = await run('302_new_shards.sh');
    assert.match(shards, /zone1-0000000300 customer -80 primary /);
    assert.match(shards, /zone1-0000000400 customer 80- primary /);
    assert.match(shards, /zone1-0000000402 customer 80- rdonly /);
    assert.match(await run('303_reshard.sh'), /Status: Running/);
    const ids = async (shard: string) => (await mariadb(`use customer/${shard}; select customer_id from customer where customer_id <= 5 order by 1`, 'customer')).trim().split('\n').slice(1);
    assert.deepEqual([await ids('-80'), await ids('80-')], [['1', '2', '3', '5'], ['4']], "hash's placement of the tutorial's customers");
    assert.match(await run('304_switch_reads.sh'), /Current State: All Reads Switched\. Writes Not Switched/);
    const reshardWrites = await run('305_switch_writes.sh');
    assert.match(reshardWrites, /Current State: All Reads Switched\. Writes Switched/);
    assert.match(reshardWrites, /Write pause: \d+ ms/);
    // A new customer takes its id from customer_seq and lands where hash puts it.
    await mariadb("insert into customer(email) values ('new@domain.com')", 'customer');
    const id = (await mariadb("select customer_id from customer where email = 'new@domain.com'", 'customer')).trim().split('\n')[1];
    assert.ok(Number(id) >= 1000, `id ${id} from customer_seq`);
    assert.match(await run('306_down_shard_0.sh'), /Successfully completed the cust2cust workflow in the customer keyspace/);
    const srv = await run('307_delete_shard_0.sh');
    assert.doesNotMatch(srv, /"name": "0"/);
    assert.equal((await mariadb('select count(*) from customer', 'customer')).trim(), 'count(*)\n7');

    // partial/501-505: customer's -80 moves to customer2 alone (503, VDiff, is built separately).
    const ks2 = await run('partial/501_customer2_keyspace.sh');
    assert.match(ks2, /zone1-0000000500 customer2 -80 primary /);
    assert.match(ks2, /zone1-0000000600 customer2 80- primary /);
    const partial = await run('partial/502_move_tables_partial.sh');
    assert.match(partial, /Traffic State: Reads Not Switched\. Writes Not Switched/);
    assert.deepEqual(JSON.parse(await ctl('GetShardRoutingRules')), {
      rules: [
        { from_keyspace: 'customer2', to_keyspace: 'customer', shard: '-80' },
        { from_keyspace: 'customer2', to_keyspace: 'customer', shard: '80-' },
      ],
    });
    const sw = await run('partial/504_switch_traffic.sh');
    assert.match(sw, /Current State: Reads partially switched, for shards: -80\. Writes partially switched, for shards: -80/);
    assert.deepEqual(JSON.parse(await ctl('GetShardRoutingRules')), {
      rules: [
        { from_keyspace: 'customer', to_keyspace: 'customer2', shard: '-80' },
        { from_keyspace: 'customer2', to_keyspace: 'customer', shard: '80-' },
      ],
    });
    const demo = await run('partial/505_shard_routing_demo.sh');
    for (const [n, email] of [[1, 'alice'], [2, 'bob'], [3, 'charlie'], [5, 'eve']] as const) {
      assert.match(demo, new RegExp(`\\| +${n} \\| routed\\.${email}@domain\\.com`), demo);
    }
    assert.doesNotMatch(demo, /\| +4 \|/, 'customer 4 lives in 80-');
    assert.match(demo, /rows with routed\. emails on customer's own primary: 0/);
  } finally {
    await run('401_teardown.sh').catch(() => undefined);
  }
  assert.deepEqual(processesUnder(stepsRoot), []);
});

for (const mode of ['combined', 'distributed'] as const) test(`examples/local/legacy (${mode}): the seeds' walk-through after 301 — the seed's tablet loop, InitShardMaster, CopySchemaShard, vtworker SplitClone, SplitDiff, MigrateServedTypes rdonly, replica, master`, async () => {
  const stepsRoot = path.join(root, `legacy-${mode}`);
  const run = async (script: string) => {
    const env = { ...process.env, TESSERA_DATAROOT: stepsRoot, TESSERA_LOG_LEVEL: 'warn', ...(mode === 'distributed' ? { TESSERA_MODE: mode } : {}) };
    const r = await execFileP('bash', [path.join('examples/local', script)], { env, maxBuffer: 16 << 20 });
    return `${r.stdout}${r.stderr}`;
  };
  const ctl = async (...args: string[]) => (await execFileP(process.execPath, [BIN, 'ctl', '--server', 'localhost:15999', ...args], { env: { ...process.env, TESSERA_LOG_LEVEL: 'warn' } })).stdout;
  const partitions = async (): Promise<Record<string, string[]>> => {
    const srv = JSON.parse(await ctl('GetSrvKeyspaces', 'customer')) as Record<string, { partitions: { served_type: string; shard_references: { name: string }[] }[] }>;
    return Object.fromEntries(srv.zone1.partitions.map((p) => [p.served_type, p.shard_references.map((r) => r.name)]));
  };
  try {
    for (const step of ['101_initial_cluster.sh', '201_customer_tablets.sh', '202_move_tables.sh', '203_switch_reads.sh', '204_switch_writes.sh', '205_clean_commerce.sh', '301_customer_sharded.sh']) await run(step);

    const started = await run('legacy/302_new_shards.sh');
    assert.match(started, /Starting tablet zone1-0000000302 \(customer\/-80, rdonly\)/);
    assert.match(started, /Starting tablet zone1-0000000401 \(customer\/80-, replica\)/);
    await run('legacy/303_init_shards.sh');
    // After CopySchemaShard the new shards show customer/0's tables, empty, to targeted queries.
    assert.equal((await mariadb('use customer/-80; select count(*) from customer', 'customer')).trim(), 'count(*)\n0');
    assert.match(await mariadb('use customer/80-; show tables', 'customer'), /corder/);
    // Before SplitClone there is nothing to migrate.
    await assert.rejects(ctl('MigrateServedTypes', 'customer/0', 'master'), /no Reshard workflow copies customer\/0 into other shards; run SplitClone first/);

    const cloned = await run('legacy/304_split_clone.sh');
    assert.match(cloned, /SplitClone: created workflow customer\.SplitClone/);
    assert.match(cloned, /copy complete/);
    // What the seed shows on zone1-300.
    assert.match(cloned, /workflow: SplitClone/);
    assert.match(cloned, /source: keyspace:"customer" shard:"0" filter:\{rules:\{match:"\/\.\*" filter:"-80"\}\}/);
    assert.match(cloned, /pos: MariaDB\/\d+-\d+-\d+/);
    assert.match(cloned, /max_tps: 9223372036854775807/);
    assert.match(cloned, /max_replication_lag: 9223372036854775807/);
    assert.match(cloned, /state: Running/);
    assert.match(cloned, /db_name: vt_customer/);
    const ids = async (shard: string) => (await mariadb(`use customer/${shard}; select customer_id from customer where customer_id <= 5 order by 1`, 'customer')).trim().split('\n').slice(1);
    assert.deepEqual([await ids('-80'), await ids('80-')], [['1', '2', '3', '5'], ['4']], "hash's placement of the tutorial's customers");
    // Run again, SplitClone resumes its workflow.
    assert.match(await run('legacy/304_split_clone.sh'), /workflow customer\.SplitClone exists; resuming it/);

    // SplitDiff: a VDiff of the SplitClone workflow, summarised per shard.
    const diffed = await run('legacy/305_split_diff.sh');
    assert.match(diffed, /SplitDiff: VDiff of workflow customer\.SplitClone/);
    assert.match(diffed, /HasMismatch:\s+false/);
    assert.match(diffed, /SplitDiff: customer\/-80 matches its source/);
    assert.match(diffed, /SplitDiff: customer\/80- matches its source/);
    // A split argument line gets the corrected one.
    await assert.rejects(
      execFileP('bash', ['-c', 'source examples/local/env.sh && vtworker SplitDiff -min_healthy_rdonly_tablets = 1 customer / -80'], { env: { ...process.env, TESSERA_DATAROOT: stepsRoot } }),
      /did you mean: SplitDiff --min-healthy-rdonly-tablets=1 customer\/-80/,
    );

    const migrated = await run('legacy/306_migrate_served_types.sh');
    assert.match(migrated, /SwitchTraffic was successful/);
    assert.deepEqual(await partitions(), { primary: ['-80', '80-'], replica: ['-80', '80-'], rdonly: ['-80', '80-'] });
    // customer/0's primary has one reverse stream from each new shard.
    const sock = path.join(stepsRoot, 'vt_0000000200', 'mysql.sock');
    const reverse = await execFileP('mariadb', ['-S', sock, '-u', 'vt_dba', '--batch', '-N', '-e', "select count(*) from _vt.vreplication where workflow = 'SplitClone_reverse'"]);
    assert.equal(reverse.stdout.trim(), '2');
  } finally {
    await run('401_teardown.sh').catch(() => undefined);
  }
  assert.deepEqual(processesUnder(stepsRoot), []);
});

test('examples/local/run-all.sh in combined mode after 101 ran twice (the second time on a running cluster) and the cluster was stopped: 101 restarts it from its data, then every step to 305 against expected/', async () => {
  const stepsRoot = path.join(root, 'run-all-again');
  const env = { ...process.env, TESSERA_DATAROOT: stepsRoot, TESSERA_LOG_LEVEL: 'warn' };
  const step = async (script: string) => (await execFileP('bash', [path.join('examples/local', script)], { env, maxBuffer: 16 << 20 })).stdout;
  try {
    assert.match(await step('101_initial_cluster.sh'), /alice@domain\.com/);
    const again = await step('101_initial_cluster.sh');
    assert.match(again, /The cluster is already running from /);
    assert.match(again, /alice@domain\.com/);
    await step('401_teardown.sh');
    assert.deepEqual(processesUnder(stepsRoot), []);
    const r = await execFileP('bash', ['examples/local/run-all.sh', '305'], { env, maxBuffer: 16 << 20 }).catch((err: { stdout?: string; stderr?: string }) => {
      throw new Error(`run-all.sh failed:\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
    });
    assert.match(r.stdout, /ok {3}101_initial_cluster/);
    assert.match(r.stdout, /ok {3}305_switch_writes/);
    assert.doesNotMatch(r.stdout, /306_down_shard_0/, 'run-all.sh 305 stops after 305');
    assert.match(r.stdout, /to the end of 305 \(customer serving from -80 and 80-\): [\d.]+ s, of which 101_initial_cluster: [\d.]+ s \(combined mode\)/);
    assert.match(r.stdout, /note: the data root .* was not empty at the start/);
    // The run left the cluster up at 305: customer is served by -80 and 80-.
    assert.equal((await mariadb('select count(*) from customer where customer_id <= 5', 'customer')).trim(), 'count(*)\n5');
    assert.match(await mariadb('show vitess_tablets', 'customer'), /customer\t80-\tPRIMARY\tSERVING/);
  } finally {
    await step('401_teardown.sh').catch(() => undefined);
  }
  assert.deepEqual(processesUnder(stepsRoot), []);
});

test('examples/local/run-all.sh in distributed mode: every step, 101 to partial 505 and 401, against expected/', async () => {
  const stepsRoot = path.join(root, 'run-all');
  const r = await execFileP('bash', ['examples/local/run-all.sh'], {
    env: { ...process.env, TESSERA_DATAROOT: stepsRoot, TESSERA_MODE: 'distributed', TESSERA_LOG_LEVEL: 'warn' },
    maxBuffer: 16 << 20,
  }).catch(async (err: { stdout?: string; stderr?: string }) => {
    await execFileP('bash', ['examples/local/401_teardown.sh'], { env: { ...process.env, TESSERA_DATAROOT: stepsRoot } }).catch(() => undefined);
    throw new Error(`run-all.sh failed:\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
  });
  assert.match(r.stdout, /ok {3}303_reshard/);
  assert.match(r.stdout, /ok {3}partial\/503_vdiff/);
  assert.match(r.stdout, /all steps passed in [\d.]+ s/);
  assert.match(r.stdout, /to the end of 305 \(customer serving from -80 and 80-\): [\d.]+ s, of which 101_initial_cluster: [\d.]+ s \(distributed mode\)/);
  assert.match(r.stdout, /from an empty data root/);
  assert.deepEqual(processesUnder(stepsRoot), []);
});

test('tessera up after a crash of the combined process: the topology is the truth, running MariaDBs are adopted', async () => {
  // Ports and uids of their own, so that this cluster never meets the one above.
  const dir = path.join(testRoot(), 'restart');
  const dataRoot = path.join(dir, 'data');
  fs.mkdirSync(dir, { recursive: true });
  track(() => killByPath(dir));
  for (const f of fs.readdirSync('examples/local')) if (/\.(sql|json)$/.test(f)) fs.copyFileSync(path.join('examples/local', f), path.join(dir, f));
  const file = path.join(dir, 'cluster.yaml');
  fs.writeFileSync(
    file,
    fs
      .readFileSync('examples/local/cluster.yaml', 'utf8')
      .replace('port: 15306', 'port: 25306')
      .replace('httpPort: 15001', 'httpPort: 25001')
      .replace('port: 15000', 'port: 25000')
      .replace('grpcPort: 15999', 'grpcPort: 25999')
      .replace(/uid: 10(\d)/g, 'uid: 710$1'),
  );
  const env = { ...process.env, TESSERA_DATAROOT: dataRoot, TESSERA_LOG_LEVEL: 'warn' };
  const run = async (args: string[]): Promise<string> => (await execFileP(process.execPath, [BIN, ...args], { env, maxBuffer: 16 << 20 })).stdout;
  const ctl = async (...args: string[]): Promise<string> => run(['ctl', '--server', '127.0.0.1:25000', ...args]);
  const sql = async (q: string): Promise<string> =>
    (await execFileP('mariadb', ['-h', '127.0.0.1', '-P', '25306', '-u', 'user', '--batch', '-e', q, 'commerce'])).stdout;
  const partitions = async (): Promise<Record<string, string[]>> => {
    const srv = JSON.parse(await ctl('GetSrvKeyspaces', 'commerce')) as Record<string, { partitions: { served_type: string; shard_references: { name: string }[] }[] }>;
    return Object.fromEntries(srv.zone1.partitions.map((p) => [p.served_type, p.shard_references.map((r) => r.name)]));
  };
  const mariadbPids = (): number[] => [7100, 7101, 7102].map((uid) => Number(fs.readFileSync(path.join(dataRoot, `vt_${String(uid).padStart(10, '0')}`, 'mysql.pid'), 'utf8').trim()));
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  try {
    await run(['up', '--detach', file, '--clean']);
    await sql("insert into product(sku, description, price) values ('SKU-crash', 'written before the crash', 7)");
    // What a MoveTables and a half-done reshard would leave: customer and corder gone from the
    // VSchema, rdonly reads switched to shards the cluster file does not have.
    const vschema = JSON.parse(fs.readFileSync('examples/local/vschema_commerce_initial.json', 'utf8')) as { tables: Record<string, unknown> };
    delete vschema.tables.customer;
    delete vschema.tables.corder;
    await ctl('ApplyVSchema', '--vschema', JSON.stringify(vschema), 'commerce');
    await ctl('CreateShard', 'commerce/-80');
    await ctl('CreateShard', 'commerce/80-');
    await ctl('MigrateServedTypes', '--serving-graph-only', 'commerce/0', 'rdonly');
    const switched = { primary: ['0'], replica: ['0'], rdonly: ['-80', '80-'] };
    assert.deepEqual(await partitions(), switched);
    // A Materialize copy, held to 200 rows/s so the crash lands in the middle of it.
    const primarySql = async (q: string): Promise<string> =>
      (await execFileP('mariadb', ['-S', path.join(dataRoot, 'vt_0000007100', 'mysql.sock'), '-u', 'vt_dba', '--batch', '-N', '-e', q, 'vt_commerce'])).stdout.trim();
    await primarySql("insert into product(sku, description, price) select concat('SKU-gen-', seq), concat('generated ', seq), seq from seq_1_to_3000");
    await ctl(
      'Materialize', '--workflow', 'pcopy', '--target-keyspace', 'commerce', 'create', '--source-keyspace', 'commerce',
      '--table-settings', JSON.stringify([{ target_table: 'product_copy', source_expression: 'select * from product', create_ddl: 'copy' }]),
      '--config-overrides', 'vreplication-copy-rows-per-second=200', '--config-overrides', 'vreplication-copy-cycle-rows=100', '--config-overrides', 'vstream-packet-size-rows=50',
    );
    for (let i = 0; Number((await primarySql('select count(*) from product_copy').catch(() => '0')) || 0) === 0; i++) {
      assert.ok(i < 600, 'the copy did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const before = mariadbPids();

    // Every Tessera process dies at once (combined mode: one process); MariaDB keeps running.
    const st = JSON.parse(fs.readFileSync(path.join(dataRoot, 'tessera-up.json'), 'utf8')) as { pid: number };
    process.kill(st.pid, 'SIGKILL');
    for (let i = 0; alive(st.pid); i++) {
      assert.ok(i < 600, 'the killed cluster process did not go away');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(before.every(alive), 'MariaDB should outlive the Tessera process');

    await run(['up', '--detach', file]);
    assert.deepEqual(mariadbPids(), before, 'the running MariaDBs are adopted, not restarted');
    assert.ok(before.every(alive));
    const after = JSON.parse(await ctl('GetVSchema', 'commerce')) as { tables: Record<string, unknown> };
    assert.deepEqual(Object.keys(after.tables).sort(), ['customer_seq', 'order_seq', 'product']);
    assert.deepEqual(await partitions(), switched);
    assert.equal(await sql("select description from product where sku = 'SKU-crash'"), 'description\nwritten before the crash\n');
    // The copy goes on from its last committed key once its cap is lifted, and ends exact.
    const copiedAtRestart = Number(await primarySql('select count(*) from product_copy'));
    assert.ok(copiedAtRestart < 3003, `the crash came before the end of the copy (${copiedAtRestart} rows copied)`);
    await ctl('Workflow', '--keyspace', 'commerce', 'update', '--workflow', 'pcopy', '--config-overrides', 'vreplication-copy-rows-per-second=0');
    for (let i = 0; ; i++) {
      const show = JSON.parse(await ctl('Workflow', '--keyspace', 'commerce', 'show', '--workflow', 'pcopy')) as { workflows: { shard_streams: Record<string, { streams: { state: string; message: string; copy_states: unknown[] }[] }> }[] };
      const [stream] = Object.values(show.workflows[0].shard_streams).flatMap((x) => x.streams);
      assert.notEqual(stream.state, 'Error', stream.message);
      if (stream.state === 'Running' && stream.copy_states.length === 0) break;
      assert.ok(i < 1200, 'the copy did not finish after the restart');
      await new Promise((r) => setTimeout(r, 100));
    }
    const checksum = "select count(*), sum(crc32(concat_ws('|', sku, description, price))) from ";
    assert.equal(await primarySql(`${checksum} product_copy`), await primarySql(`${checksum} product`));
    assert.match(await run(['down']), /Stopped\./);
    assert.deepEqual(processesUnder(dir), [], 'tessera down left processes behind');
  } finally {
    await run(['down']).catch(() => undefined);
    killByPath(dir);
  }
});
