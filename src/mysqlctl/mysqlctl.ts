// The lifecycle of one MariaDB instance owned by a tablet: init, start, shutdown, teardown, status.
// Every step is idempotent, and a pid or socket file left behind by a crash never blocks a start.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ER, TesseraError } from '../mysql/errors.js';
import { logger } from '../log/index.js';
import { mariadbBinaries } from './binaries.js';
import { instancePaths, pad10, renderMycnf, type InstancePaths } from './config.js';
import { probeServer } from './probe.js';
import { processAlive, processCmdline, readPidFile, sleep, tailFile, waitForExit } from './process.js';
import { ensureTemplate } from './template.js';
import { passwordSql, type DbCredentials } from './credentials.js';
import { Client } from '../mysql/client.js';
import { DBA_USER } from './users.js';

const log = logger('mysqlctl');

/** Tries, 100 ms apart, before a busy port is reported. */
const PORT_FREE_ATTEMPTS = 20;

export interface MysqlctlOptions {
  readonly tabletUid: number;
  readonly mysqlPort: number;
  /** Default: $TESSERA_DATAROOT, then $VTDATAROOT, then ./tessera-data. */
  readonly dataRoot?: string;
  readonly bindAddress?: string;
  readonly innodbBufferPoolSize?: string;
  readonly extraConfig?: Readonly<Record<string, string>>;
  readonly startTimeoutMs?: number;
  readonly shutdownTimeoutMs?: number;
  /** Account passwords (see credentials.ts); applied at every start, so a changed file takes effect. */
  readonly credentials?: DbCredentials;
}

export const MYSQLCTL_DEFAULTS = {
  bindAddress: '127.0.0.1',
  innodbBufferPoolSize: '64M',
  startTimeoutMs: 60_000,
  shutdownTimeoutMs: 120_000,
} as const;

export interface InstanceStatus {
  readonly tabletUid: number;
  readonly initialized: boolean;
  readonly running: boolean;
  readonly pid: number | null;
  readonly mysqlPort: number;
  readonly socket: string;
  readonly dir: string;
}

export function resolveDataRoot(flag?: string): string {
  return path.resolve(flag ?? process.env.TESSERA_DATAROOT ?? process.env.VTDATAROOT ?? 'tessera-data');
}

export function tabletDir(dataRoot: string, tabletUid: number): string {
  return path.join(dataRoot, `vt_${pad10(tabletUid)}`);
}

export class Mysqlctl {
  readonly tabletUid: number;
  readonly mysqlPort: number;
  readonly dataRoot: string;
  readonly paths: InstancePaths;
  private readonly opts: MysqlctlOptions;

  constructor(opts: MysqlctlOptions) {
    if (!Number.isInteger(opts.tabletUid) || opts.tabletUid < 0 || opts.tabletUid > 4294967295) {
      throw new TesseraError(ER.WRONG_ARGUMENTS, `--tablet-uid must be an integer from 0 to 4294967295, got ${opts.tabletUid}`);
    }
    if (!Number.isInteger(opts.mysqlPort) || opts.mysqlPort < 1 || opts.mysqlPort > 65535) {
      throw new TesseraError(ER.WRONG_ARGUMENTS, `--mysql-port must be an integer from 1 to 65535, got ${opts.mysqlPort}`);
    }
    this.opts = opts;
    this.tabletUid = opts.tabletUid;
    this.mysqlPort = opts.mysqlPort;
    this.dataRoot = resolveDataRoot(opts.dataRoot);
    this.paths = instancePaths(tabletDir(this.dataRoot, opts.tabletUid));
  }

  get socket(): string {
    return this.paths.socket;
  }

  isInitialized(): boolean {
    return fs.existsSync(path.join(this.paths.dataDir, 'mysql'));
  }

  /** Writes my.cnf and, unless it exists, creates the data directory from the cached template. */
  async init(): Promise<void> {
    mariadbBinaries();
    this.ensureWritableRoot();
    for (const d of [this.paths.dir, this.paths.binlogDir, this.paths.relayLogDir, this.paths.tmpDir]) {
      fs.mkdirSync(d, { recursive: true });
    }
    this.writeMycnf();
    if (this.isInitialized()) return;
    const template = await ensureTemplate();
    const partial = `${this.paths.dataDir}.partial`;
    fs.rmSync(partial, { recursive: true, force: true });
    fs.cpSync(template, partial, { recursive: true });
    fs.renameSync(partial, this.paths.dataDir);
    log.info({ uid: this.tabletUid, dir: this.paths.dir }, 'initialized MariaDB data directory');
  }

  writeMycnf(): void {
    const o = this.opts;
    const text = renderMycnf(
      {
        tabletUid: this.tabletUid,
        mysqlPort: this.mysqlPort,
        dir: this.paths.dir,
        bindAddress: o.bindAddress ?? MYSQLCTL_DEFAULTS.bindAddress,
        innodbBufferPoolSize: o.innodbBufferPoolSize ?? MYSQLCTL_DEFAULTS.innodbBufferPoolSize,
        extra: o.extraConfig ?? {},
      },
      process.getuid?.() === 0,
    );
    fs.writeFileSync(this.paths.cnf, text);
  }

  /** The pid of the running mariadbd of this instance, or null. */
  runningPid(): number | null {
    const pid = readPidFile(this.paths.pidFile);
    if (pid === undefined || !processAlive(pid)) return null;
    // After a crash the pid may have been recycled: only trust it if it is our mariadbd.
    const cmd = processCmdline(pid);
    if (cmd && !cmd.includes(this.paths.cnf)) return null;
    return pid;
  }

  async start(): Promise<void> {
    const bins = mariadbBinaries();
    if (!this.isInitialized()) {
      throw new TesseraError(
        ER.UNKNOWN_ERROR,
        `MariaDB for tablet ${this.tabletUid} is not initialized in ${this.paths.dir}: run \`tessera mysqlctl init --tablet-uid ${this.tabletUid} --mysql-port ${this.mysqlPort}\` first`,
      );
    }
    const running = this.runningPid();
    if (running !== null && (await this.adopt(running))) return;
    // Whatever a crash left behind goes: the pid file names a dead process, the socket nobody.
    fs.rmSync(this.paths.pidFile, { force: true });
    fs.rmSync(this.paths.socket, { force: true });
    fs.rmSync(`${this.paths.socket}.lock`, { force: true });
    this.writeMycnf();
    await this.checkPortFree();
    const errFd = fs.openSync(this.paths.errorLog, 'a');
    const child = spawn(bins.mariadbd, [`--defaults-file=${this.paths.cnf}`], {
      detached: true,
      stdio: ['ignore', errFd, errFd],
    });
    fs.closeSync(errFd);
    child.unref();
    let exitInfo: string | null = null;
    child.on('exit', (code, signal) => {
      exitInfo = signal ? `signal ${signal}` : `exit code ${code}`;
    });
    await this.waitReady(this.opts.startTimeoutMs ?? MYSQLCTL_DEFAULTS.startTimeoutMs, () => exitInfo);
    await this.applyCredentials();
    log.info({ uid: this.tabletUid, port: this.mysqlPort, pid: this.runningPid() }, 'MariaDB started');
  }

  /**
   * Adopts the MariaDB still running as `pid` (its tablet or `tessera up` stopped without
   * stopping it), as long as it listens where this instance should. False when it exits while
   * being waited for: a server killed a moment ago still counts as running while its threads exit
   * (processAlive), and start() then starts it afresh rather than wait on a socket that will not
   * answer.
   */
  private async adopt(pid: number): Promise<boolean> {
    try {
      await this.waitReady(this.opts.startTimeoutMs ?? MYSQLCTL_DEFAULTS.startTimeoutMs, () => (processAlive(pid) ? null : 'it exited'));
    } catch (err) {
      if (processAlive(pid)) throw err;
      log.info({ uid: this.tabletUid, pid }, 'the MariaDB found running exited; starting it afresh');
      return false;
    }
    const port = await this.servingPort();
    if (port !== this.mysqlPort) {
      throw new TesseraError(
        ER.UNKNOWN_ERROR,
        `MariaDB for tablet ${this.tabletUid} is already running (pid ${pid}) on port ${port}, not ${this.mysqlPort}: stop it with \`tessera mysqlctl shutdown --tablet-uid ${this.tabletUid}\` or give --mysql-port ${port}`,
      );
    }
    log.info({ uid: this.tabletUid, port, pid }, 'adopted the running MariaDB');
    return true;
  }

  /** The TCP port the running server of this instance listens on, asked over its socket. */
  private async servingPort(): Promise<number> {
    const c = await Client.connect({ socketPath: this.paths.socket, user: DBA_USER });
    try {
      const r = await c.query('SELECT @@global.port');
      return Number(String(r.rows[0][0]));
    } finally {
      c.close();
    }
  }

  /**
   * The pid of this instance's MariaDB when it runs and can be adopted by `start`: the pid file
   * names a live mariadbd started with this instance's my.cnf (so its data directory), and it
   * answers on its socket listening on `mysqlPort`. Null otherwise.
   */
  async adoptablePid(): Promise<number | null> {
    const pid = this.runningPid();
    if (pid === null) return null;
    try {
      return (await this.servingPort()) === this.mysqlPort ? pid : null;
    } catch {
      return null;
    }
  }

  /** Sets the accounts' passwords from the credentials, without binlogging them. */
  private async applyCredentials(): Promise<void> {
    const creds = this.opts.credentials;
    if (!creds || Object.keys(creds).length === 0) return;
    const c = await Client.connect({ socketPath: this.paths.socket, user: DBA_USER });
    try {
      await c.query('SET sql_log_bin = 0');
      for (const stmt of passwordSql(creds)) await c.query(stmt);
    } finally {
      c.close();
    }
  }

  private async waitReady(timeoutMs: number, exited: (() => string | null) | null): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const why = exited?.();
      if (why) {
        throw new TesseraError(
          ER.UNKNOWN_ERROR,
          `MariaDB for tablet ${this.tabletUid} failed to start (${why}). Last lines of ${this.paths.errorLog}:\n${tailFile(this.paths.errorLog, 15)}`,
        );
      }
      const r = await probeServer(this.paths.socket, 1000);
      if (r.ready) return;
      if (Date.now() > deadline) {
        throw new TesseraError(
          ER.UNKNOWN_ERROR,
          `MariaDB for tablet ${this.tabletUid} did not answer on ${this.paths.socket} within ${timeoutMs} ms (${r.error}). Last lines of ${this.paths.errorLog}:\n${tailFile(this.paths.errorLog, 15)}`,
        );
      }
      await sleep(20);
    }
  }

  /** A port still held by a server that is exiting frees within moments: retry briefly first. */
  private async checkPortFree(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.checkPortFreeOnce();
        return;
      } catch (err) {
        if (attempt >= PORT_FREE_ATTEMPTS) throw err;
        await sleep(100);
      }
    }
  }

  private async checkPortFreeOnce(): Promise<void> {
    const host = this.opts.bindAddress ?? MYSQLCTL_DEFAULTS.bindAddress;
    await new Promise<void>((resolve, reject) => {
      const srv = net.createServer();
      srv.once('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EADDRINUSE') {
          reject(
            new TesseraError(
              ER.UNKNOWN_ERROR,
              `port ${this.mysqlPort} on ${host} is already in use, so MariaDB for tablet ${this.tabletUid} cannot listen on it: stop what uses it or pick another --mysql-port`,
            ),
          );
        } else reject(err);
      });
      srv.listen({ port: this.mysqlPort, host, exclusive: true }, () => srv.close(() => resolve()));
    });
  }

  /** Graceful stop (SIGTERM lets InnoDB flush); SIGKILL only after the timeout, and then it says so. */
  async shutdown(): Promise<void> {
    const pid = this.runningPid();
    if (pid === null) {
      fs.rmSync(this.paths.pidFile, { force: true });
      return;
    }
    process.kill(pid, 'SIGTERM');
    const timeoutMs = this.opts.shutdownTimeoutMs ?? MYSQLCTL_DEFAULTS.shutdownTimeoutMs;
    if (!(await waitForExit(pid, timeoutMs))) {
      process.kill(pid, 'SIGKILL');
      await waitForExit(pid, 10_000);
      log.warn({ uid: this.tabletUid, pid }, `MariaDB did not stop within ${timeoutMs} ms; killed`);
    }
    log.info({ uid: this.tabletUid }, 'MariaDB stopped');
  }

  /** Stops the instance and removes its directory. */
  async teardown(): Promise<void> {
    await this.shutdown();
    fs.rmSync(this.paths.dir, { recursive: true, force: true });
  }

  status(): InstanceStatus {
    const pid = this.runningPid();
    return {
      tabletUid: this.tabletUid,
      initialized: this.isInitialized(),
      running: pid !== null,
      pid,
      mysqlPort: this.mysqlPort,
      socket: this.paths.socket,
      dir: this.paths.dir,
    };
  }

  private ensureWritableRoot(): void {
    try {
      fs.mkdirSync(this.dataRoot, { recursive: true });
      fs.accessSync(this.dataRoot, fs.constants.W_OK);
    } catch (err) {
      throw new TesseraError(
        ER.UNKNOWN_ERROR,
        `data root ${this.dataRoot} is not writable (${(err as Error).message}): pass --data-root or set TESSERA_DATAROOT to a directory you can write`,
      );
    }
  }
}
