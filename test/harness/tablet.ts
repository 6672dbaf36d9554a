// Real tablets for tests: each owns a MariaDB started by mysqlctl under the test root, on free
// ports, registered in the given topology. The harness kills the MariaDB if the test process ends.
import { TabletProcess, type TabletOptions } from '../../src/tablet/index.js';
import { freePort, testRoot, track } from './processes.js';

let nextUid = 200;

export type TestTabletOptions = Omit<TabletOptions, 'uid' | 'rpcPort' | 'httpPort' | 'mysqlPort' | 'dataRoot'> & {
  readonly uid?: number;
  /** Fixed ports, for a test that restarts a tablet where it was; free ones by default. */
  readonly rpcPort?: number;
  readonly mysqlPort?: number;
};

export async function startTestTablet(o: TestTabletOptions): Promise<TabletProcess> {
  const uid = o.uid ?? nextUid++;
  const mysqlPort = o.mysqlPort ?? (await freePort());
  let proc: TabletProcess | null = null;
  const untrack = track(() => {
    const pid = proc?.mysqlctl?.runningPid();
    if (pid) process.kill(pid, 'SIGKILL');
  });
  try {
    proc = await TabletProcess.start({ ...o, uid, rpcPort: o.rpcPort ?? 0, httpPort: 0, mysqlPort, dataRoot: testRoot() });
  } catch (err) {
    untrack();
    throw err;
  }
  const p = proc;
  const stop = p.stop.bind(p);
  p.stop = async (opts = {}) => {
    await stop(opts);
    if (opts.stopMysql) untrack();
  };
  return p;
}
