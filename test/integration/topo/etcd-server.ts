// A real etcd (Debian's etcd-server, /usr/bin/etcd) for tests: a private data directory under the
// test root, free client and peer ports, stopped (and its directory removed) by stop() or, failing
// that, killed when the test process exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { freePort, testRoot, trackPid } from '../../harness/processes.js';

export const ETCD_BINARY = process.env.TESSERA_ETCD_BINARY ?? '/usr/bin/etcd';
const READY_ATTEMPTS = 100;
const READY_POLL_MS = 100;

export interface TestEtcd {
  /** host:port, the form --topo-global-server-address takes. */
  readonly address: string;
  stop(): Promise<void>;
}

export async function startEtcd(): Promise<TestEtcd> {
  const dir = mkdtempSync(join(testRoot(), 'etcd-'));
  const clientPort = await freePort();
  const peerPort = await freePort();
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const proc: ChildProcess = spawn(
    ETCD_BINARY,
    [
      '--name', 'default',
      '--data-dir', join(dir, 'data'),
      '--listen-client-urls', client,
      '--advertise-client-urls', client,
      '--listen-peer-urls', peer,
      '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `default=${peer}`,
      '--log-level', 'error',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  proc.stderr?.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-4000);
  });
  const untrack = trackPid(() => proc.pid);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));

  const c = new Etcd3({ hosts: client, dialTimeout: 1000 });
  try {
    for (let i = 0; ; i++) {
      if (proc.exitCode !== null) throw new Error(`etcd exited with ${proc.exitCode}: ${stderr}`);
      try {
        await c.get('ready').string();
        break;
      } catch (err) {
        if (i >= READY_ATTEMPTS) throw new Error(`etcd on ${client} not ready: ${(err as Error).message}\n${stderr}`);
        await new Promise((r) => setTimeout(r, READY_POLL_MS));
      }
    }
  } finally {
    c.close();
  }

  return {
    address: `127.0.0.1:${clientPort}`,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
      untrack();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
