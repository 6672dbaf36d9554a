// Everything the test harness starts (MariaDB, etcd, tessera processes) is registered here and
// killed when the test process ends — normally, on an uncaught failure, or on SIGINT/SIGTERM — so a
// failing or interrupted test never leaves a server behind. scripts/test.sh also reaps and checks
// for orphans around the whole run (see reap.ts), which covers a test process killed with SIGKILL.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** All test processes live under this prefix, which is how the reaper recognises them. */
export const TEST_ROOT_PREFIX = path.join(os.tmpdir(), 'tessera-test');

let root: string | undefined;

/** A directory private to this test process, removed when it exits cleanly. */
export function testRoot(): string {
  if (!root) {
    fs.mkdirSync(TEST_ROOT_PREFIX, { recursive: true });
    root = fs.mkdtempSync(path.join(TEST_ROOT_PREFIX, `${process.pid}-`));
  }
  return root;
}

type Killer = () => void;
const killers = new Map<number, Killer>();
let nextId = 1;
let hooked = false;

function killAll(): void {
  for (const k of killers.values()) {
    try {
      k();
    } catch {
      // already gone
    }
  }
  killers.clear();
  // Whatever bookkeeping missed (a server started by a child that died, a detached cluster):
  // everything whose command line names this process's private directory goes too.
  if (root) killByPath(root);
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    killAll();
    if (root && process.exitCode !== 1 && !process.env.TESSERA_KEEP_TEST_DATA) {
      try {
        fs.rmSync(root, { recursive: true, force: true });
      } catch {
        // best effort
      }
    }
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAll();
      process.exit(130);
    });
  }
}

/** Registers a synchronous kill for something started by a test; returns a handle to unregister. */
export function track(kill: Killer): () => void {
  hook();
  const id = nextId++;
  killers.set(id, kill);
  return () => killers.delete(id);
}

/** Tracks an OS process by pid; SIGKILL at exit. */
export function trackPid(pidOf: () => number | null | undefined): () => void {
  return track(() => {
    const pid = pidOf();
    if (pid) process.kill(pid, 'SIGKILL');
  });
}

/**
 * A TCP port that is free now. Each test process claims blocks of ports of its own (a directory
 * per block under the test root prefix, created atomically, so no two live processes share a
 * block) below the kernel's ephemeral range (32768+). So neither another test process nor an
 * outgoing connection takes a server's port while the server is down (a restart test) or between
 * this check and its bind.
 */
const PORT_BLOCK_BASE = 20_000;
const PORT_BLOCK_SIZE = 40;
const PORT_BLOCKS = 300; // 20000..32000
const ownBlocks: number[] = [];
let portCursor = 0;

function claimBlock(): number {
  const dir = path.join(TEST_ROOT_PREFIX, 'port-blocks');
  fs.mkdirSync(dir, { recursive: true });
  for (let i = 0; i < PORT_BLOCKS; i++) {
    const block = (process.pid + i) % PORT_BLOCKS;
    if (ownBlocks.includes(block)) continue;
    const claim = path.join(dir, String(block));
    try {
      fs.mkdirSync(claim);
    } catch {
      // Taken: reclaim it only if its owner is gone.
      let owner = 0;
      try {
        owner = Number(fs.readFileSync(path.join(claim, 'pid'), 'utf8'));
      } catch {
        continue; // being claimed right now
      }
      try {
        process.kill(owner, 0);
        continue;
      } catch {
        fs.rmSync(claim, { recursive: true, force: true });
        try {
          fs.mkdirSync(claim);
        } catch {
          continue;
        }
      }
    }
    fs.writeFileSync(path.join(claim, 'pid'), String(process.pid));
    ownBlocks.push(block);
    track(() => fs.rmSync(claim, { recursive: true, force: true }));
    return block;
  }
  throw new Error('every block of test ports is claimed by a live process');
}

/**
 * Ports this process has handed out: never handed out again, since a server that owns one may be
 * down for a moment (a MariaDB killed and started again on its port) and look free.
 */
const handedOut = new Set<number>();

export async function freePort(): Promise<number> {
  if (ownBlocks.length === 0) claimBlock();
  for (;;) {
    const total = ownBlocks.length * PORT_BLOCK_SIZE;
    for (let tries = 0; tries < total; tries++) {
      const k = portCursor++ % total;
      const port = PORT_BLOCK_BASE + ownBlocks[Math.floor(k / PORT_BLOCK_SIZE)] * PORT_BLOCK_SIZE + (k % PORT_BLOCK_SIZE);
      if (handedOut.has(port)) continue;
      if (await portIsFree(port)) {
        handedOut.add(port);
        return port;
      }
    }
    claimBlock();
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** Live processes (not zombies, not this one) whose command line mentions `pathPart`, or whose output goes to a file under it. */
export function processesUnder(pathPart: string): { pid: number; cmd: string }[] {
  const found: { pid: number; cmd: string }[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (!cmd.includes(pathPart) && !outputUnder(pid, pathPart)) continue;
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      found.push({ pid, cmd });
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

/**
 * Whether a process writes its output to a file under `pathPart`: a component that `tessera up`
 * started in distributed mode logs to <data root>/logs/<name>.log, and a gate's command line
 * names no path of the data root.
 */
function outputUnder(pid: number, pathPart: string): boolean {
  for (const fd of [1, 2]) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`).includes(pathPart)) return true;
    } catch {
      // closed, gone, or not ours to read
    }
  }
  return false;
}

/** SIGKILLs every process whose command line mentions `pathPart` (a data root), or whose output goes there: the last resort for detached clusters. */
export function killByPath(pathPart: string): number {
  let n = 0;
  for (const p of processesUnder(pathPart)) {
    try {
      process.kill(p.pid, 'SIGKILL');
      n++;
    } catch {
      // gone
    }
  }
  return n;
}
