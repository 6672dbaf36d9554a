// A `tessera tablet` as a child process over a MariaDB of its own, for tests that kill things for
// real: `kill9()` ends the tablet process with SIGKILL (its MariaDB keeps running, as after a
// crash of the agent), `killMysql9()` ends the MariaDB with SIGKILL, `start()` starts the tablet
// again with the same flags — it adopts a running MariaDB, or starts a stopped one through
// mysqlctl, where InnoDB recovers. `startMysql()` brings a killed MariaDB back under a tablet that
// kept running (what an init system does for mysqld), through the same mysqlctl files.
//
//   const t = new TabletChild({ uid: 100, keyspace: 'commerce', shard: '0', type: 'primary', root, topoDir });
//   await t.start();
//   await t.kill9(); await t.start();
import path from 'node:path';
import mysql from 'mysql2/promise';
import { Mysqlctl } from '../../src/mysqlctl/index.js';
import { startChild, type Child } from './child.js';
import { freePort, track } from './processes.js';

export interface TabletChildOptions {
  readonly uid: number;
  readonly cell?: string;
  readonly keyspace: string;
  readonly shard: string;
  /** The initial type; a restart keeps the type the topology has. */
  readonly type: 'primary' | 'replica';
  /** Data root shared by the tablets of a test (one `vt_<uid>` directory each). */
  readonly root: string;
  /** The file topology's directory. */
  readonly topoDir: string;
  /** Extra `tessera tablet` flags. */
  readonly extraArgs?: readonly string[];
  /** Extra environment of the tablet process (NODE_OPTIONS=--max-old-space-size=256, say). */
  readonly env?: NodeJS.ProcessEnv;
}

export class TabletChild {
  readonly alias: string;
  private ctl: Mysqlctl | null = null;
  private child: Child | null = null;
  private ports: { mysql: number; rpc: number; http: number } | null = null;
  /** Times the tablet process was started. */
  starts = 0;

  constructor(readonly o: TabletChildOptions) {
    this.alias = `${o.cell ?? 'zone1'}-${o.uid}`;
  }

  /** The tablet's mysqlctl (the same files the tablet uses); its port is picked at the first start. */
  get mysqlctl(): Mysqlctl {
    if (!this.ctl) throw new Error(`tablet ${this.alias} was never started`);
    return this.ctl;
  }

  get rpcPort(): number {
    if (!this.ports) throw new Error(`tablet ${this.alias} was never started`);
    return this.ports.rpc;
  }

  /** The tablet's HTTP port (status pages). */
  get httpPort(): number {
    if (!this.ports) throw new Error(`tablet ${this.alias} was never started`);
    return this.ports.http;
  }

  /** The tablet process's pid (the last start), or undefined. */
  get pid(): number | undefined {
    return this.child?.proc.pid;
  }

  get running(): boolean {
    const p = this.child?.proc;
    return !!p && p.exitCode === null && p.signalCode === null;
  }

  /**
   * Starts (or restarts) the tablet process; resolves once it printed its start line. `env` is
   * added to this start's environment only (a test hook for one run, say).
   */
  async start(opts: { env?: NodeJS.ProcessEnv } = {}): Promise<void> {
    if (this.running) throw new Error(`tablet ${this.alias} is already running`);
    if (!this.ports) {
      this.ports = { mysql: await freePort(), rpc: await freePort(), http: await freePort() };
      this.ctl = new Mysqlctl({ tabletUid: this.o.uid, mysqlPort: this.ports.mysql, dataRoot: this.o.root });
      // The MariaDB outlives a killed tablet: the test process kills it at exit whatever happens.
      track(() => {
        const pid = this.mysqlctl.runningPid();
        if (pid) process.kill(pid, 'SIGKILL');
      });
    }
    const args = [
      'tablet',
      '--tablet-path', this.alias,
      '--init-keyspace', this.o.keyspace,
      '--init-shard', this.o.shard,
      '--init-tablet-type', this.o.type,
      '--topo-implementation', 'file',
      '--topo-global-server-address', this.o.topoDir,
      '--data-root', this.o.root,
      '--mysql-port', String(this.ports.mysql),
      '--grpc-port', String(this.ports.rpc),
      '--port', String(this.ports.http),
      ...(this.o.extraArgs ?? []),
    ];
    this.child = startChild(args, { ...this.o.env, ...opts.env });
    this.starts++;
    await this.child.waitFor(/^tablet \S+ serving=(true|false) rpc=\d+/m, 120_000);
  }

  /** SIGKILL of the tablet process; resolves once it is gone. */
  async kill9(): Promise<void> {
    await this.child?.kill('SIGKILL');
  }

  /** SIGKILL of the tablet's MariaDB; resolves once the process is gone. */
  async killMysql9(): Promise<void> {
    const pid = this.mysqlctl.runningPid();
    if (!pid) return;
    process.kill(pid, 'SIGKILL');
    while (this.mysqlctl.runningPid() === pid) await new Promise((r) => setTimeout(r, 20));
  }

  /** Starts a killed MariaDB again (crash recovery) while the tablet keeps running. */
  async startMysql(): Promise<void> {
    await this.mysqlctl.start();
  }

  /** A connection to the tablet's MariaDB as vt_dba over its socket. */
  dba(database?: string): Promise<mysql.Connection> {
    return mysql.createConnection({ socketPath: this.mysqlctl.socket, user: 'vt_dba', password: '', database, supportBigNumbers: true, bigNumberStrings: true });
  }

  /** What the tablet process printed (the last run). */
  output(): string {
    return this.child?.output() ?? '';
  }

  /** Stops the tablet (SIGTERM) and its MariaDB. */
  async stop(): Promise<void> {
    await this.child?.kill('SIGTERM');
    if (this.ports) await this.mysqlctl.teardown().catch(() => undefined);
  }

  get dataDir(): string {
    return path.join(this.o.root, `vt_${String(this.o.uid).padStart(10, '0')}`);
  }
}
