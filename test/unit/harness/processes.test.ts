// The reaper's process finder: a process belongs to a test root when its command line names it,
// or when its output goes to a file under it (what `tessera up` does with a distributed cluster's
// gates, whose command lines name no path of the data root).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { processesUnder } from '../../harness/processes.js';

test('processesUnder finds a process by the file its output goes to, and not one writing elsewhere', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reap-probe-'));
  const other = fs.mkdtempSync(path.join(os.tmpdir(), 'reap-other-'));
  const started: number[] = [];
  const sleeper = (logDir: string): number => {
    const fd = fs.openSync(path.join(logDir, 'out.log'), 'a');
    const child = spawn('sleep', ['30'], { stdio: ['ignore', fd, fd] });
    fs.closeSync(fd);
    started.push(child.pid!);
    return child.pid!;
  };
  try {
    const inside = sleeper(dir);
    const outside = sleeper(other);
    const found = processesUnder(dir).map((p) => p.pid);
    assert.ok(found.includes(inside), `the process logging under ${dir} is found (found: ${found.join(', ')})`);
    assert.ok(!found.includes(outside), 'the process logging elsewhere is not');
    assert.ok(processesUnder(other).some((p) => p.pid === outside));
  } finally {
    for (const pid of started) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(other, { recursive: true, force: true });
  }
});
