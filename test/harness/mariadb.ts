// Real MariaDB instances for tests, started by our own mysqlctl from the cached template (so each
// costs well under a second), on free ports, in a directory private to the test process.
//
//   const db = await startMariaDB();
//   ... mysql2.createConnection({ host: db.host, port: db.port, user: 'vt_dba' }) ...
//   await db.stop();            // or leave it: the harness kills it when the process exits
import { Mysqlctl } from '../../src/mysqlctl/index.js';
import { freePort, testRoot, track } from './processes.js';

export interface TestMariaDB {
  readonly uid: number;
  readonly host: string;
  readonly port: number;
  readonly socket: string;
  readonly dir: string;
  readonly ctl: Mysqlctl;
  /** Graceful shutdown and removal of the instance directory. */
  stop(): Promise<void>;
  /** Graceful shutdown, keeping the data. */
  shutdown(): Promise<void>;
  /** Start again after shutdown() or kill9(). */
  start(): Promise<void>;
  /** SIGKILL mariadbd, as a crash would. */
  kill9(): void;
  pid(): number | null;
}

export interface StartOptions {
  readonly uid?: number;
  /** Extra my.cnf settings. The harness turns read_only off unless you set it. */
  readonly extraConfig?: Readonly<Record<string, string>>;
  readonly innodbBufferPoolSize?: string;
}

let nextUid = 100;
const PORT_RETRIES = 3;

export async function startMariaDB(opts: StartOptions = {}): Promise<TestMariaDB> {
  const uid = opts.uid ?? nextUid++;
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const ctl = new Mysqlctl({
      tabletUid: uid,
      mysqlPort: port,
      dataRoot: testRoot(),
      innodbBufferPoolSize: opts.innodbBufferPoolSize ?? '32M',
      extraConfig: { read_only: 'OFF', ...opts.extraConfig },
    });
    const untrack = track(() => {
      const pid = ctl.runningPid();
      if (pid) process.kill(pid, 'SIGKILL');
    });
    try {
      await ctl.init();
      await ctl.start();
    } catch (err) {
      untrack();
      await ctl.teardown().catch(() => undefined);
      // Another process may have taken the port between freePort() and mariadbd's bind.
      if (attempt < PORT_RETRIES && /already in use|Address already in use|Can't start server/.test(String(err))) continue;
      throw err;
    }
    return {
      uid,
      host: '127.0.0.1',
      port,
      socket: ctl.socket,
      dir: ctl.paths.dir,
      ctl,
      async stop() {
        await ctl.teardown();
        untrack();
      },
      shutdown: () => ctl.shutdown(),
      start: () => ctl.start(),
      kill9() {
        const pid = ctl.runningPid();
        if (pid) process.kill(pid, 'SIGKILL');
      },
      pid: () => ctl.runningPid(),
    };
  }
}

/** Starts n instances in parallel. */
export function startMariaDBs(n: number, opts: Omit<StartOptions, 'uid'> = {}): Promise<TestMariaDB[]> {
  return Promise.all(Array.from({ length: n }, () => startMariaDB(opts)));
}
