// Tablets started beside a `tessera up --detach` cluster, as the tutorial's 302_new_shards.sh
// starts the new shards' tablets (a cluster file cannot hold shards that overlap the serving ones):
// one `tessera tablet` process each on the cluster's topology (read from tessera-up.json), on free
// ports, under the cluster's data root; the first of each shard is made primary.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Ctl } from './browser.js';
import { freePort, track } from './processes.js';

const TESSERA = fileURLToPath(new URL('../../../bin/tessera', import.meta.url));

export interface ExtraTablet {
  readonly uid: number;
  readonly keyspace: string;
  readonly shard: string;
  readonly type: 'replica' | 'rdonly';
}

export interface ExtraTablets {
  /** SIGTERM to each, waiting for it to exit (up to 30 s each). */
  stop(): Promise<void>;
}

async function healthAnswers(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/debug/health`)).status > 0;
  } catch {
    return false;
  }
}

export async function startExtraTablets(dataRoot: string, ctl: Ctl, tablets: readonly ExtraTablet[], timeoutMs = 180_000): Promise<ExtraTablets> {
  const up = JSON.parse(fs.readFileSync(path.join(dataRoot, 'tessera-up.json'), 'utf8')) as { topo: { implementation: string; address: string; root: string } };
  const topo = ['--topo-implementation', up.topo.implementation, '--topo-global-server-address', up.topo.address, '--topo-global-root', up.topo.root];
  const children: ChildProcess[] = [];
  const started: Array<ExtraTablet & { port: number }> = [];
  for (const t of tablets) {
    const [port, grpcPort, mysqlPort] = [await freePort(), await freePort(), await freePort()];
    const log = fs.openSync(path.join(dataRoot, `tablet-${t.uid}.log`), 'a');
    const child = spawn(
      process.execPath,
      [TESSERA, 'tablet', '--tablet-uid', String(t.uid), '--keyspace', t.keyspace, '--shard', t.shard, '--tablet-type', t.type, '--port', String(port), '--grpc-port', String(grpcPort), '--mysql-port', String(mysqlPort), '--data-root', dataRoot, ...topo],
      { stdio: ['ignore', log, log], env: { ...process.env, TESSERA_LOG_LEVEL: 'warn' } },
    );
    fs.closeSync(log);
    track(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    children.push(child);
    started.push({ ...t, port });
  }
  const deadline = Date.now() + timeoutMs;
  for (const t of started) {
    while (!(await healthAnswers(t.port))) {
      if (Date.now() > deadline) throw new Error(`tablet ${t.uid} did not answer /debug/health within ${timeoutMs} ms (log: ${path.join(dataRoot, `tablet-${t.uid}.log`)})`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  const primaries = new Set<string>();
  for (const t of started) {
    const ks = `${t.keyspace}/${t.shard}`;
    if (primaries.has(ks)) continue;
    primaries.add(ks);
    await ctl.ok('InitShardPrimary', '--force', ks, `zone1-${t.uid}`);
  }
  for (const t of started.filter((x) => x.type === 'rdonly')) await ctl.ok('ChangeTabletType', `zone1-${t.uid}`, 'rdonly');
  return {
    async stop() {
      for (const c of children) {
        if (c.exitCode !== null || c.pid === undefined) continue;
        const exited = new Promise((r) => c.once('exit', r));
        c.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
      }
    },
  };
}
