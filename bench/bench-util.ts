// Helpers the benchmarks share.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Session } from 'node:inspector/promises';

/** Runs a shell pipeline; returns the CPU seconds its processes used (bash's `times`). */
export async function sh(cmd: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const p = spawn('bash', ['-o', 'pipefail', '-c', `${cmd}; times`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${cmd}: exit ${code}: ${err}`));
      // Second line: the children's user and system time, as `0m1.234s 0m0.567s`.
      const secs = [...(out.trim().split('\n')[1] ?? '').matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
      resolve(secs.reduce((a, b) => a + b, 0));
    });
  });
}

/** CPU time of a process so far in µs (utime and stime from /proc/<pid>/stat, in clock ticks of 10 ms). */
export function processCpuUs(pid: number): { user: number; system: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return { user: Number(fields[11]) * 10_000, system: Number(fields[12]) * 10_000 };
}

export function fmt(n: number): string {
  return Math.round(n).toLocaleString('en');
}

export const log = (s: string): void => void process.stdout.write(s + '\n');

/** The generated table of the copy, catch-up and VDiff benchmarks (rows from their generators). */
export const CUSTOMER_BENCH_SCHEMA = `CREATE TABLE customer (
  customer_id bigint NOT NULL,
  email varchar(64) NOT NULL,
  name varchar(64) COLLATE utf8mb4_general_ci,
  balance decimal(12,2) NOT NULL,
  created datetime(6) NOT NULL,
  status varchar(16) NOT NULL,
  note blob,
  PRIMARY KEY (customer_id)
)`;

/** The Reshard benchmarks' table (reshard-bench, reshard-source-bench), sharded by hash on customer_id. */
export const RESHARD_BENCH_SCHEMA = `CREATE TABLE customer (
  customer_id bigint NOT NULL,
  email varchar(64) NOT NULL,
  name varchar(64),
  balance decimal(12,2) NOT NULL,
  created datetime(6) NOT NULL,
  PRIMARY KEY (customer_id)
)`;

/**
 * Runs `fn` under the V8 profiler of this process when `inspector` is given (BENCH_CPU_PROFILE set)
 * and writes `<dir>/<name>.cpuprofile`; else just runs it.
 */
export async function profileInProcess<T>(inspector: Session | undefined, dir: string, name: string, fn: () => Promise<T>): Promise<T> {
  if (!inspector) return fn();
  inspector.connect();
  await inspector.post('Profiler.enable');
  await inspector.post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = await inspector.post('Profiler.stop');
    writeFileSync(`${dir}/${name}.cpuprofile`, JSON.stringify(profile));
    inspector.disconnect();
  }
}

/** One allocation site of a sampled heap profile: bytes, and the function with its two callers. */
export interface AllocationSite {
  readonly bytes: number;
  readonly site: string;
}

interface SamplingNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SamplingNode[];
}

/**
 * Runs `fn` under V8's sampling heap profiler counting every object allocated, those the young
 * and old collections freed included (not only the ones still alive at the end), one sample per
 * `intervalBytes` on average. Returns `fn`'s result, the bytes allocated in the process meanwhile
 * (an estimate from the samples: steady within a few percent over a few thousand queries), and
 * the sites by bytes. Unlike CPU time, bytes allocated per query do not move with the machine's
 * load, so two builds compare on them run to run.
 */
export async function allocationsInProcess<T>(fn: () => Promise<T>, intervalBytes = 512): Promise<{ value: T; bytes: number; sites: AllocationSite[] }> {
  const { Session } = await import('node:inspector/promises');
  const s = new Session();
  s.connect();
  try {
    await s.post('HeapProfiler.enable');
    await s.post('HeapProfiler.startSampling', { samplingInterval: intervalBytes, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as never);
    const value = await fn();
    const { profile } = (await s.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: SamplingNode } };
    const bySite = new Map<string, number>();
    let bytes = 0;
    const name = (n: SamplingNode): string => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(src|bench)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
    const walk = (n: SamplingNode, callers: readonly string[]): void => {
      const here = [name(n), ...callers].slice(0, 3);
      if (n.selfSize > 0) {
        bytes += n.selfSize;
        const site = here.join(' < ');
        bySite.set(site, (bySite.get(site) ?? 0) + n.selfSize);
      }
      for (const c of n.children) walk(c, here);
    };
    walk(profile.head, []);
    const sites = [...bySite].map(([site, b]) => ({ site, bytes: b })).sort((a, b) => b.bytes - a.bytes);
    return { value, bytes, sites };
  } finally {
    s.disconnect();
  }
}
