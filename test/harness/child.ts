// Tessera processes as children (`bin/tessera <args>`), for tests that prove the process boundaries
// hold. Each child is killed if the test process ends; `waitFor` reads its stdout for a line.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { track } from './processes.js';

export interface Child {
  readonly proc: ChildProcess;
  /** Everything the child wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the first stdout line matching `re`; rejects if the child exits first. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const BIN = path.resolve('bin/tessera');
/** How long a child may take to exit after SIGTERM/SIGINT before the harness sends SIGKILL (above `tessera tablet`'s own 60 s stop deadline). */
const CHILD_STOP_GRACE_MS = 70_000;

export function startChild(args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const proc = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, TESSERA_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const untrack = track(() => {
    if (proc.exitCode === null && proc.pid) process.kill(proc.pid, 'SIGKILL');
  });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  };
  proc.stdout?.on('data', onData);
  proc.stderr?.on('data', onData);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  exited.then(() => {
    untrack();
    for (const l of listeners) l();
  });
  return {
    proc,
    output: () => out,
    waitFor(re, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = out.match(re);
          if (m) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve(m);
          } else if (proc.exitCode !== null || proc.signalCode !== null) {
            listeners.delete(check);
            clearTimeout(timer);
            reject(new Error(`child exited (${proc.exitCode ?? proc.signalCode}) before printing ${re}:\n${out.slice(-3000)}`));
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out waiting for ${re}:\n${out.slice(-3000)}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill(signal);
      if (signal === 'SIGKILL') return void (await exited);
      // A process that has not gone after a graceful signal's grace period is ended with SIGKILL,
      // so one stuck shutdown cannot hold a test's cleanup (and CI) for minutes; it is reported.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), CHILD_STOP_GRACE_MS);
      });
      const how = await Promise.race([exited.then(() => 'exited' as const), late]);
      clearTimeout(timer);
      if (how === 'late') {
        process.stderr.write(`harness: ${args.join(' ')} (pid ${proc.pid}) did not exit ${CHILD_STOP_GRACE_MS} ms after ${signal}; sending SIGKILL\n`);
        if (proc.pid) process.kill(proc.pid, 'SIGKILL');
        await exited;
      }
    },
  };
}
