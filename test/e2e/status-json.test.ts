// `tessera status --format json` on a distributed cluster with two gates: every process with its
// role, keyspace, shard, pid and ports — etcd, ctld, both gates, each tablet and its MariaDB, and a
// tablet added afterwards by the tutorial's step scripts (scripts/mysqlctl-up.sh and
// scripts/vttablet-up.sh), which `up` did not start. Each pid is checked against /proc and each
// port against a connection.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ClusterStatusJson } from '../../src/cluster/index.js';
import { Mysqlctl } from '../../src/mysqlctl/index.js';
import { DistCluster, tessera } from '../chaos/cluster.js';
import { trackPid } from '../harness/processes.js';

const SCRIPTS = fileURLToPath(new URL('../../../examples/local/scripts/', import.meta.url));

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function cmdline(pid: number): string {
  return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
}

/** A uid whose script ports (15000/16000/17000 + uid) are free and below the harness's port blocks. */
async function freeScriptUid(): Promise<number> {
  for (let uid = 2000 + (process.pid % 900); ; uid++) {
    const free = await Promise.all([15000, 16000, 17000].map(async (b) => !(await portOpen(b + uid))));
    if (free.every(Boolean)) return uid;
  }
}

function bash(script: string, env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('bash', [path.join(SCRIPTS, script)], { env: { ...process.env, TESSERA_LOG_LEVEL: 'warn', ...env }, timeout: 300_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr });
    });
  });
}

describe('tessera status --format json (distributed mode, two gates, a tablet from the step scripts)', { timeout: 600_000 }, () => {
  let c: DistCluster;
  let uid = 0;

  before(async () => {
    c = await DistCluster.up({
      name: 'status',
      gates: 2,
      keyspaces: [{ name: 'commerce', shards: ['0'], replicas: 1, schema: 'CREATE TABLE item (id bigint NOT NULL PRIMARY KEY)', vschema: { tables: { item: {} } } }],
    });
    uid = await freeScriptUid();
    const env = { TESSERA_DATAROOT: c.dataRoot, TABLET_UID: String(uid), KEYSPACE: 'commerce', SHARD: '0' };
    const m = await bash('mysqlctl-up.sh', env);
    assert.equal(m.code, 0, m.out);
    trackPid(() => new Mysqlctl({ tabletUid: uid, mysqlPort: 17000 + uid, dataRoot: c.dataRoot }).runningPid());
    const t = await bash('vttablet-up.sh', env);
    trackPid(() => Number(fs.readFileSync(path.join(c.dataRoot, `tablet-${uid}.pid`), 'utf8')));
    assert.equal(t.code, 0, t.out);
  });

  after(async () => {
    const pidFile = path.join(c.dataRoot, `tablet-${uid}.pid`);
    if (uid && fs.existsSync(pidFile)) {
      try {
        process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGTERM');
      } catch {
        // gone
      }
    }
    if (uid) await new Mysqlctl({ tabletUid: uid, mysqlPort: 17000 + uid, dataRoot: c.dataRoot }).shutdown();
    await c?.down();
  });

  test('lists every process with role, keyspace, shard, pid and ports', async () => {
    const r = await tessera(['status', '--format', 'json', '--data-root', c.dataRoot]);
    assert.equal(r.code, 0, r.stderr);
    const st = JSON.parse(r.stdout) as ClusterStatusJson;
    assert.equal(st.cluster.mode, 'distributed');
    assert.equal(st.cluster.running, true);
    assert.deepEqual(st.cluster.gates.map((g) => g.port), [...c.gatePorts]);

    const names = st.processes.map((p) => p.name);
    const scriptAlias = `zone1-${String(uid).padStart(10, '0')}`;
    assert.deepEqual(names, ['etcd', 'ctld', 'gate', 'gate-2', 'tablet-100', 'tablet-101', `tablet-${uid}`, 'mariadb-100', 'mariadb-101', `mariadb-${uid}`]);

    for (const p of st.processes) {
      assert.ok(p.pid !== null && p.alive, `${p.name} has a live pid: ${JSON.stringify(p)}`);
      const cmd = cmdline(p.pid);
      const want = { etcd: /etcd/, ctld: /tessera ctld/, gate: /tessera gate/, tablet: /tessera tablet/, mariadb: /mariadbd|mysqld/ }[p.role];
      assert.match(cmd, want, `${p.name}: pid ${p.pid} runs ${cmd}`);
      assert.ok(Object.keys(p.ports).length > 0, `${p.name} lists its ports`);
      for (const [what, port] of Object.entries(p.ports)) {
        if (p.role === 'etcd' && what === 'peer') continue; // a single-member etcd's peer port may not accept
        assert.ok(await portOpen(port), `${p.name}'s ${what} port ${port} accepts connections`);
      }
    }
    const by = (n: string) => st.processes.find((p) => p.name === n)!;
    assert.deepEqual([by('tablet-100').keyspace, by('tablet-100').shard, by('tablet-100').tabletType, by('tablet-100').startedBy], ['commerce', '0', 'primary', 'up']);
    assert.equal(by('tablet-101').tabletType, 'replica');
    assert.deepEqual([by('mariadb-101').alias, by('mariadb-101').keyspace, by('mariadb-101').shard], ['zone1-0000000101', 'commerce', '0']);
    // The script's tablet: not started by up, its pid the one the script recorded.
    const script = by(`tablet-${uid}`);
    assert.deepEqual([script.alias, script.keyspace, script.shard, script.startedBy], [scriptAlias, 'commerce', '0', 'other']);
    assert.equal(script.pid, Number(fs.readFileSync(path.join(c.dataRoot, `tablet-${uid}.pid`), 'utf8')));
    assert.deepEqual(script.ports, { http: 15000 + uid, grpc: 16000 + uid });
    assert.equal(by(`mariadb-${uid}`).pid, new Mysqlctl({ tabletUid: uid, mysqlPort: 17000 + uid, dataRoot: c.dataRoot }).runningPid());
    assert.deepEqual(by(`mariadb-${uid}`).ports, { mysql: 17000 + uid });
    assert.deepEqual(by('gate-2').ports.mysql, c.gatePorts[1]);
  });

  test('both gates serve queries', async () => {
    for (const i of [0, 1]) {
      const conn = await c.connect(i, 'commerce');
      try {
        await conn.query(`INSERT INTO item VALUES (${i + 1})`);
      } finally {
        await conn.end();
      }
    }
    const conn = await c.connect(1, 'commerce');
    const [rows] = await conn.query('SELECT id FROM item ORDER BY id');
    await conn.end();
    assert.deepEqual((rows as { id: number }[]).map((r) => Number(r.id)), [1, 2]);
  });

  test('the table form names both gates', async () => {
    const r = await tessera(['status', '--data-root', c.dataRoot]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`gate 127\\.0\\.0\\.1:${c.gatePorts[0]}, 127\\.0\\.0\\.1:${c.gatePorts[1]};`));
  });
});
