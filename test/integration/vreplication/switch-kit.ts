// What the write-switch recovery tests share: `tessera ctl` against a ctld child process.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Ctld } from '../ctld/session.js';

const TESSERA = fileURLToPath(new URL('../../../../bin/tessera', import.meta.url));

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `tessera ctl --server <ctld> args…` (the real CLI, one child process). */
export function ctl(ctld: Ctld, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [TESSERA, 'ctl', '--server', `127.0.0.1:${ctld.grpcPort}`, ...args], { env: { ...process.env, TESSERA_LOG_LEVEL: 'warn' } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** The command's stdout; fails the test when it exits non-zero. */
export async function ok(p: Promise<Run>, what: string): Promise<string> {
  const r = await p;
  assert.equal(r.code, 0, `${what} failed: ${r.stderr}`);
  return r.stdout;
}
