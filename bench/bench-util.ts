// Helpers the benchmarks share.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
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
