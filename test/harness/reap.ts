// Run by scripts/test.sh before and after the suite: finds processes started under the test root
// (MariaDB, etcd, tessera) that outlived their test process. Before the run it kills them quietly;
// after the run (`--check`) it kills them too, but reports each and fails, because a test left it.
import { processesUnder, TEST_ROOT_PREFIX } from './processes.js';

function leftovers(): { pid: number; cmd: string }[] {
  return processesUnder(TEST_ROOT_PREFIX).filter((p) => !p.cmd.includes('reap.js'));
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
