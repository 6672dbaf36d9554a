// Run by scripts/test.sh before and after the suite: finds processes started under the test root
// (MariaDB, etcd, tessera) that outlived their test process. Before the run it kills them quietly;
// after the run (`--check`) it kills them too, but reports each and fails, because a test left it.
import fs from 'node:fs';
import { TEST_ROOT_PREFIX } from './processes.js';

function leftovers(): { pid: number; cmd: string }[] {
  const found: { pid: number; cmd: string }[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    let cmd = '';
    try {
      cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
    } catch {
      continue;
    }
    if (cmd.includes(TEST_ROOT_PREFIX) && !cmd.includes('reap.js')) found.push({ pid, cmd });
  }
  return found;
}

const check = process.argv.includes('--check');
const procs = leftovers();
for (const p of procs) {
  try {
    process.kill(p.pid, 'SIGKILL');
  } catch {
    // gone
  }
}
if (check && procs.length > 0) {
  process.stderr.write(`orphan check FAILED: ${procs.length} process(es) outlived the tests:\n`);
  for (const p of procs) process.stderr.write(`  ${p.pid} ${p.cmd.slice(0, 200)}\n`);
  process.exitCode = 1;
} else if (check) {
  process.stdout.write('orphan check: no MariaDB, etcd or tessera process left behind\n');
}
