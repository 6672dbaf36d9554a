// Bringing a local cluster up from a cluster file, and down again. Combined mode runs every
// component in this process (tablets, ctld, gate, calling each other through the same interfaces);
// distributed mode runs each as its own `tessera` process, with the topology on an etcd started for
// the cluster, and proves the process boundaries. Either way the data survives `down`: MariaDB data
// directories, the topology and a marker of loaded tutorial data stay in the data root.
import { engineFlagsFrom } from '../vreplication/controller.js';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '../mysql/client.js';
import { ER, TesseraError } from '../mysql/errors.js';
import { loadDbCredentials, Mysqlctl, waitForExit } from '../mysqlctl/index.js';
import { splitStatements } from '../sql/index.js';
import { CtldClient, startCtldServer, type CtldServer } from '../ctld/index.js';
import { openTopoServer, tabletAliasString, isTopoError, type TopoServer, type Json } from '../topo/index.js';
import { LocalTabletManagerClient, RpcTabletManagerClient, TabletProcess, type TabletManager, type TabletManagerClient, type TabletServer } from '../tablet/index.js';
import type { ClusterSpec, GateSpec, KeyspaceSpec } from './config.js';
import { removeUpState, topoDir, writeUpState, type ProcessRecord, type UpState } from './state.js';

export interface UpOptions {
  readonly dataRoot: string;
  readonly clean: boolean;
  /** Progress lines for the user. */
  readonly out: (line: string) => void;
}

export const UP_DEFAULTS = {
  /** How long a child component may take to become ready. */
  componentStartTimeoutMs: 120_000,
  /** How long `down` waits for a component before killing it. */
  stopTimeoutMs: 30_000,
  /** restartProcesses: the first delay before a component that exited is started again. */
  restartDelayMs: 500,
  /** …doubled on each exit on its own that follows a short run, up to this (nextRestartDelay). */
  restartDelayMaxMs: 10_000,
  /**
   * A component that ran this long before it exited restarts after the first delay again. A crash
   * loop dies sooner (at start-up, or at its first request); a component killed now and then (the
   * OOM killer, an operator, the chaos suite every half minute) must come back at once each time:
   * ctld killed mid-switch keeps the switched tables' writes waiting until it is back.
   */
  restartResetAfterMs: 10_000,
};

/**
 * The delay before a component that exited is started again, given the one used last time, how long
 * it ran and the signal that ended it. A crash loop — exiting on its own within
 * restartResetAfterMs of its start — waits twice as long each time, up to restartDelayMaxMs. A
 * component that ran longer, or that was killed (SIGKILL comes from outside: an operator, the OOM
 * killer, the chaos suite — never from its own fault), starts again after the first delay: kill -9
 * a primary's tablet every 15 s and each time the gate's buffer window still covers its restart.
 */
export function nextRestartDelay(previousMs: number, ranMs: number, signal: NodeJS.Signals | null): number {
  if (ranMs >= UP_DEFAULTS.restartResetAfterMs || signal === 'SIGKILL') return UP_DEFAULTS.restartDelayMs;
  return Math.min(previousMs * 2, UP_DEFAULTS.restartDelayMaxMs);
}

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/tessera');

interface Component {
  readonly name: string;
  stop(): Promise<void>;
}

export class LocalCluster {
  private readonly components: Component[] = [];
  /** Tablets running in this process (combined mode), by alias. */
  private readonly localTablets = new Map<string, TabletServer>();
  /** Their managers, for ctld's in-process tablet-manager client; a stopped tablet leaves. */
  private readonly localManagers = new Map<string, TabletManager>();
  private tmClient: TabletManagerClient | null = null;
  private topoServer: TopoServer | null = null;
  private stopped = false;
  private starting: Promise<void> | null = null;
  /** What `tessera-up.json` says; the process list is kept current as components (re)start. */
  private state: UpState | null = null;
  private readonly processes = new Map<string, ProcessRecord>();

  private constructor(
    readonly spec: ClusterSpec,
    readonly opts: UpOptions,
  ) {}

  get topo(): TopoServer {
    if (!this.topoServer) throw new Error('topology not open');
    return this.topoServer;
  }

  /** Tablet managers as ctld reaches them: in this process (combined) or over RPC (distributed). */
  get tmc(): TabletManagerClient {
    if (!this.tmClient) throw new Error('tablet manager client not made');
    return this.tmClient;
  }

  static async up(spec: ClusterSpec, opts: UpOptions): Promise<LocalCluster> {
    const c = LocalCluster.create(spec, opts);
    await c.start();
    return c;
  }

  /** A cluster not started yet: lets the caller arrange for `down()` before `start()` (signals). */
  static create(spec: ClusterSpec, opts: UpOptions): LocalCluster {
    return new LocalCluster(spec, opts);
  }

  /** Starts every component; on failure stops what started and rethrows. */
  start(): Promise<void> {
    this.starting = this.startComponents().catch(async (err: unknown) => {
      if (!this.stopped) this.opts.out(`failed: ${(err as Error).message}`);
      await this.stopAll();
      throw err;
    });
    return this.starting;
  }

  /** Between start steps: a `down()` during start ends it here. */
  private checkNotStopped(): void {
    if (this.stopped) throw new TesseraError(ER.UNKNOWN_ERROR, 'start interrupted: the cluster is being stopped');
  }

  private async startComponents(): Promise<void> {
    const { spec, opts } = this;
    const out = opts.out;
    fs.mkdirSync(opts.dataRoot, { recursive: true });
    if (opts.clean) await this.clean();
    await checkPortsFree(spec, opts.dataRoot);
    out(`Starting the ${spec.mode} cluster from ${spec.file} (data in ${opts.dataRoot})`);
    if (spec.mode === 'combined') process.env.TESSERA_COMBINED = '1';

    // Topology.
    let topoAddress: string;
    if (spec.topo.implementation === 'etcd') {
      topoAddress = await this.startEtcd();
    } else {
      topoAddress = topoDir(opts.dataRoot);
      fs.mkdirSync(topoAddress, { recursive: true });
    }
    const flags = { topoImplementation: spec.topo.implementation, topoGlobalServerAddress: topoAddress, topoGlobalRoot: '/tessera/global' };
    this.topoServer = openTopoServer(flags);
    this.components.push({ name: 'topology client', stop: () => this.topo.close() });
    // Combined mode calls its own tablets in-process, and any tablet started on its own (the
    // tutorial's step 201) over the network, as distributed mode calls every tablet.
    const tmc =
      spec.mode === 'combined'
        ? new LocalTabletManagerClient(this.topo, (alias) => this.localManagers.get(alias), {}, new RpcTabletManagerClient(this.topo))
        : new RpcTabletManagerClient(this.topo);
    this.tmClient = tmc;
    this.components.push({ name: 'tablet manager client', stop: async () => tmc.close() });
    await this.topo.createCellInfo(spec.cell, {}).catch((err) => {
      if (!isTopoError(err, 'NODE_EXISTS')) throw err;
    });
    for (const ks of spec.keyspaces) {
      await this.topo.createKeyspace(ks.name, { durability_policy: ks.durabilityPolicy }).catch((err) => {
        if (!isTopoError(err, 'NODE_EXISTS')) throw err;
      });
    }
    const state: UpState = {
      pid: process.pid,
      mode: spec.mode,
      clusterFile: spec.file,
      topo: { implementation: spec.topo.implementation, address: topoAddress, root: flags.topoGlobalRoot },
      gatePort: spec.gate.port,
      gates: spec.gates.map((g) => ({ name: g.name, port: g.port, httpPort: g.httpPort })),
      ctldPort: spec.ctld.port,
      cell: spec.cell,
      dataRoot: opts.dataRoot,
      startedAt: new Date().toISOString(),
      ready: false,
    };
    // Written now so that `tessera down` can stop a start that hangs; `ready` once it is up.
    this.state = state;
    this.saveState();

    // ctld first, so reparents and the web UI work while the rest comes up.
    const ctldPorts = { http: spec.ctld.port, grpc: spec.ctld.grpcPort };
    const topoArgs = ['--topo-implementation', flags.topoImplementation, '--topo-global-server-address', topoAddress, '--topo-global-root', flags.topoGlobalRoot];
    if (spec.mode === 'combined') {
      const ctld: CtldServer = await startCtldServer({ topo: this.topo, tmc: this.tmc }, { port: spec.ctld.port, grpcPort: spec.ctld.grpcPort, host: '127.0.0.1', failoverWatcher: { enabled: true } });
      this.components.push({ name: 'ctld', stop: () => ctld.close() });
      this.recordProcess({ role: 'ctld', name: 'ctld', keyspace: null, shard: null, alias: null, pid: process.pid, ports: ctldPorts, restarts: 0 });
    } else {
      await this.startChild(
        'ctld',
        ['ctld', ...topoArgs, '--port', String(spec.ctld.port), '--grpc-port', String(spec.ctld.grpcPort), '--bind-address', '127.0.0.1'],
        async () => {
          const r = await fetch(`http://127.0.0.1:${spec.ctld.port}/healthz`).catch(() => null);
          return r?.ok === true;
        },
        { role: 'ctld', keyspace: null, shard: null, alias: null, ports: ctldPorts },
      );
    }
    out(`  ctld        http://127.0.0.1:${spec.ctld.port}/ (web UI and admin API; also :${spec.ctld.grpcPort})`);
    this.checkNotStopped();

    // Tablets, all at once. Every tablet starts as a replica; InitShardPrimary then makes the
    // named one primary and points the others at it, as Vitess's local example does.
    const all = spec.keyspaces.flatMap((ks) => ks.shards.flatMap((sh) => sh.tablets.map((t) => ({ ks, sh, t }))));
    const credentials = spec.dbCredentialsFile ? loadDbCredentials(spec.dbCredentialsFile) : undefined;
    await Promise.all(
      all.map(async ({ ks, sh, t }) => {
        const alias = tabletAliasString({ cell: spec.cell, uid: t.uid });
        if (spec.mode === 'combined') {
          const proc = await TabletProcess.start({
            uid: t.uid,
            cell: spec.cell,
            keyspace: ks.name,
            shard: sh.name,
            tabletType: 'replica',
            topo: this.topo,
            rpcPort: t.grpcPort,
            httpPort: t.httpPort,
            mysqlPort: t.mysqlPort,
            dataRoot: opts.dataRoot,
            credentials,
            vreplicationFlags: engineFlagsFrom(spec.tabletFlags, spec.file),
            mysqlRestart: { enabled: spec.mysqlRestart, timeoutMs: spec.mysqlRestartTimeoutMs },
          });
          this.recordProcess({ role: 'tablet', name: `tablet-${t.uid}`, keyspace: ks.name, shard: sh.name, alias, pid: process.pid, ports: { http: proc.httpPort, grpc: proc.rpcPort }, restarts: 0 });
          this.localTablets.set(proc.alias, proc.server);
          this.localManagers.set(proc.alias, proc.manager);
          this.components.push({
            name: `tablet ${alias}`,
            stop: () => {
              this.localManagers.delete(proc.alias);
              return proc.stop({ stopMysql: true });
            },
          });
        } else {
          const mysqlctl = new Mysqlctl({ tabletUid: t.uid, mysqlPort: t.mysqlPort, dataRoot: opts.dataRoot });
          await this.startChild(
            `tablet-${t.uid}`,
            [
              'tablet', '--tablet-uid', String(t.uid), '--cell', spec.cell, '--keyspace', ks.name, '--shard', sh.name, '--tablet-type', 'replica',
              '--port', String(t.httpPort), '--grpc-port', String(t.grpcPort), '--mysql-port', String(t.mysqlPort), '--data-root', opts.dataRoot, ...topoArgs,
              ...(spec.dbCredentialsFile ? ['--db-credentials-file', spec.dbCredentialsFile] : []),
              ...Object.entries(spec.tabletFlags).flatMap(([k, v]) => [`--${k}`, v]),
              '--mysql-restart-timeout', String(spec.mysqlRestartTimeoutMs),
              ...(spec.mysqlRestart ? [] : ['--no-mysql-restart']),
            ],
            async () => {
              const r = await fetch(`http://127.0.0.1:${t.httpPort}/debug/health`).catch(() => null);
              return r !== null;
            },
            { role: 'tablet', keyspace: ks.name, shard: sh.name, alias, ports: { http: t.httpPort, grpc: t.grpcPort } },
            () => mysqlctl.shutdown(),
          );
        }
        const mysqlPid = new Mysqlctl({ tabletUid: t.uid, mysqlPort: t.mysqlPort, dataRoot: opts.dataRoot }).runningPid();
        this.recordProcess({ role: 'mariadb', name: `mariadb-${t.uid}`, keyspace: ks.name, shard: sh.name, alias, pid: mysqlPid, ports: { mysql: t.mysqlPort }, restarts: 0 });
        out(`  tablet      ${alias}  ${ks.name}/${sh.name}  MariaDB 127.0.0.1:${t.mysqlPort}`);
      }),
    );

    const ctl = new CtldClient(`127.0.0.1:${spec.ctld.port}`, { timeoutMs: 120_000 });
    this.checkNotStopped();
    for (const ks of spec.keyspaces) {
      for (const sh of ks.shards) {
        const primary = sh.tablets.find((t) => t.type === 'primary');
        if (!primary) continue;
        const alias = tabletAliasString({ cell: spec.cell, uid: primary.uid });
        const { value: shard } = await this.topo.getShard(ks.name, sh.name);
        if (shard.primary_alias === null) {
          await ctl.call('InitShardPrimary', { keyspace_shard: `${ks.name}/${sh.name}`, primary: alias, force: true });
          out(`  primary     ${ks.name}/${sh.name} -> ${alias}`);
        }
        for (const t of sh.tablets.filter((x) => x.type === 'rdonly')) {
          await ctl.call('ChangeTabletType', { alias: tabletAliasString({ cell: spec.cell, uid: t.uid }), tablet_type: 'rdonly' });
        }
      }
    }

    // Schema on each shard's primary (replication carries it to the others), then the VSchema and
    // the serving graph -- once per keyspace. After that the topology is the truth: a restart
    // must not bring back a table MoveTables moved away, a VSchema entry or a switched partition.
    for (const ks of spec.keyspaces) {
      const marker = appliedMarker(opts.dataRoot, ks.name);
      if (fs.existsSync(marker)) continue;
      await this.applySchema(ks);
      if (ks.vschemaFile) await this.topo.saveVSchema(ks.name, JSON.parse(fs.readFileSync(ks.vschemaFile, 'utf8')) as Json);
      await this.topo.rebuildKeyspaceGraph(ks.name);
      fs.mkdirSync(path.dirname(marker), { recursive: true });
      fs.writeFileSync(marker, `${new Date().toISOString()} ${spec.file}\n`);
    }
    await this.topo.rebuildVSchemaGraph();
    await this.refreshAllTablets();
    this.checkNotStopped();

    // The gates.
    for (const g of spec.gates) {
      await this.startGate(g, topoArgs);
      out(`  gate        MySQL 127.0.0.1:${g.port}, status http://127.0.0.1:${g.httpPort}/`);
      this.checkNotStopped();
    }

    // The tutorial's rows, once: through the gate, so sequences and vindexes place them.
    for (const ks of spec.keyspaces) await this.loadData(ks);
    this.state = { ...state, ready: true };
    this.saveState();
  }

  private saveState(): void {
    if (!this.state || this.stopped) return;
    writeUpState(this.opts.dataRoot, { ...this.state, processes: [...this.processes.values()] });
  }

  /** Records (or updates) one process in the state file, for `tessera status`. */
  private recordProcess(r: ProcessRecord): void {
    this.processes.set(r.name, r);
    this.saveState();
  }

  private async startGate(g: GateSpec, topoArgs: string[]): Promise<void> {
    const { spec } = this;
    if (spec.mode === 'combined') {
      // Loaded here so that the rest of the CLI does not pay for the gate's modules.
      const { startLocalGate } = await import('./gate.js');
      const gate = await startLocalGate(spec, g, this.topo, this.localTablets);
      this.components.push({ name: g.name, stop: () => gate.stop() });
      this.recordProcess({ role: 'gate', name: g.name, keyspace: null, shard: null, alias: null, pid: process.pid, ports: { mysql: g.port, http: g.httpPort }, restarts: 0 });
      return;
    }
    await this.startChild(
      g.name,
      ['gate', ...topoArgs, '--cell', spec.cell, '--port', String(g.port), '--http-port', String(g.httpPort), '--tablet-types-to-wait', 'PRIMARY', '--enable-buffer', '--transaction-mode', g.transactionMode.toUpperCase(),
        ...(g.authFile ? ['--mysql-auth-server-static-file', g.authFile] : []),
        ...(g.enablePartialKeyspaceMigration ? ['--enable-partial-keyspace-migration'] : [])],
      async () => {
        try {
          const c = await Client.connect({ host: '127.0.0.1', port: g.port, user: 'root' });
          c.close();
          return true;
        } catch {
          return false;
        }
      },
      { role: 'gate', keyspace: null, shard: null, alias: null, ports: { mysql: g.port, http: g.httpPort } },
    );
  }

  private async applySchema(ks: KeyspaceSpec): Promise<void> {
    if (ks.schemaFiles.length === 0) return;
    const sql = ks.schemaFiles.map((f) => fs.readFileSync(f, 'utf8')).join('\n');
    for (const sh of ks.shards) {
      const primary = sh.tablets.find((t) => t.type === 'primary');
      if (!primary) continue;
      await this.tmc.applySchema(tabletAliasString({ cell: this.spec.cell, uid: primary.uid }), { sql });
    }
    this.opts.out(`  schema      ${ks.name}: ${ks.schemaFiles.map((f) => path.basename(f)).join(', ')}`);
  }

  private async refreshAllTablets(): Promise<void> {
    await Promise.all(
      this.spec.keyspaces.flatMap((ks) =>
        ks.shards.flatMap((sh) =>
          sh.tablets.map((t) => this.tmc.refreshState(tabletAliasString({ cell: this.spec.cell, uid: t.uid }), {})),
        ),
      ),
    );
  }

  private async loadData(ks: KeyspaceSpec): Promise<void> {
    if (ks.dataFiles.length === 0) return;
    const marker = path.join(this.opts.dataRoot, 'loaded', ks.name);
    if (fs.existsSync(marker)) return;
    const c = await Client.connect({ host: '127.0.0.1', port: this.spec.gate.port, user: 'root', database: ks.name });
    try {
      for (const f of ks.dataFiles) {
        for (const stmt of splitStatements(fs.readFileSync(f, 'utf8'))) if (stmt.trim()) await c.query(stmt);
      }
    } finally {
      c.close();
    }
    fs.mkdirSync(path.dirname(marker), { recursive: true });
    fs.writeFileSync(marker, `${new Date().toISOString()}\n`);
    this.opts.out(`  data        ${ks.name}: ${ks.dataFiles.map((f) => path.basename(f)).join(', ')}`);
  }

  /** Starts a `tessera` child process with its output in <data-root>/logs/<name>.log. */
  private startChild(name: string, args: string[], ready: () => Promise<boolean>, meta: Omit<ProcessRecord, 'name' | 'pid' | 'restarts'>, afterStop?: () => Promise<void>): Promise<void> {
    return this.startProcess(name, process.execPath, [BIN, ...args], { ...process.env, TESSERA_COMBINED: '' }, path.join(this.opts.dataRoot, 'logs', `${name}.log`), ready, meta, afterStop);
  }

  /**
   * Starts a child process and waits until it is ready. Once it has been ready, an exit while the
   * cluster runs is logged and, with restartProcesses, followed by a new start of the same command
   * after a delay that doubles on each exit after a short run.
   */
  private async startProcess(
    name: string,
    command: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    logFile: string,
    ready: () => Promise<boolean>,
    meta: Omit<ProcessRecord, 'name' | 'pid' | 'restarts'>,
    afterStop?: () => Promise<void>,
  ): Promise<void> {
    fs.mkdirSync(path.dirname(logFile), { recursive: true });
    let child!: ChildProcess;
    let restarts = 0;
    let wasReady = false;
    let stopping = false;
    let delay: number = UP_DEFAULTS.restartDelayMs;
    let timer: NodeJS.Timeout | undefined;
    const spawnOne = (): void => {
      const logFd = fs.openSync(logFile, 'a');
      child = spawn(command, args, { stdio: ['ignore', logFd, logFd], env });
      fs.closeSync(logFd);
      child.on('error', () => undefined);
      const startedAt = Date.now();
      this.recordProcess({ ...meta, name, pid: child.pid ?? null, restarts });
      child.once('exit', (code, signal) => {
        if (stopping || this.stopped || !wasReady) return;
        if (!this.spec.restartProcesses) {
          this.opts.out(`  exited      ${name} (${signal ?? `exit code ${code}`}); see ${logFile}`);
          return;
        }
        delay = nextRestartDelay(delay, Date.now() - startedAt, signal);
        this.opts.out(`  restart     ${name} exited (${signal ?? `exit code ${code}`}); starting it again in ${delay} ms`);
        timer = setTimeout(() => {
          if (stopping || this.stopped) return;
          restarts++;
          spawnOne();
        }, delay);
      });
    };
    spawnOne();
    this.components.push({
      name,
      stop: async () => {
        stopping = true;
        clearTimeout(timer);
        await stopChild(child);
        await afterStop?.();
      },
    });
    await waitReady(name, child, ready, logFile);
    wasReady = true;
  }

  private async startEtcd(): Promise<string> {
    const t = this.spec.topo;
    const dir = path.join(this.opts.dataRoot, 'etcd');
    fs.mkdirSync(dir, { recursive: true });
    const client = `http://127.0.0.1:${t.etcdClientPort}`;
    const peer = `http://127.0.0.1:${t.etcdPeerPort}`;
    await this.startProcess(
      'etcd',
      'etcd',
      ['--name', 'tessera', '--data-dir', dir, '--listen-client-urls', client, '--advertise-client-urls', client, '--listen-peer-urls', peer,
        '--initial-advertise-peer-urls', peer, '--initial-cluster', `tessera=${peer}`],
      process.env,
      path.join(this.opts.dataRoot, 'etcd.log'),
      async () => {
        const r = await fetch(`${client}/health`).catch(() => null);
        return r?.ok === true;
      },
      { role: 'etcd', keyspace: null, shard: null, alias: null, ports: { client: t.etcdClientPort, peer: t.etcdPeerPort } },
    );
    this.opts.out(`  etcd        ${client}`);
    return `127.0.0.1:${t.etcdClientPort}`;
  }

  /** Removes everything `up` made: stops leftover MariaDBs, deletes the data root's cluster data. */
  private async clean(): Promise<void> {
    for (const ks of this.spec.keyspaces) {
      for (const sh of ks.shards) {
        for (const t of sh.tablets) await new Mysqlctl({ tabletUid: t.uid, mysqlPort: t.mysqlPort, dataRoot: this.opts.dataRoot }).teardown();
      }
    }
    for (const p of ['topo', 'etcd', 'applied', 'loaded', 'logs', 'etcd.log']) fs.rmSync(path.join(this.opts.dataRoot, p), { recursive: true, force: true });
  }

  /**
   * Stops every component in reverse order of start. Data stays. Safe to call while `start` is
   * still running (a signal during start): what starts afterwards is stopped when start notices.
   */
  async down(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // A start in progress stops at its next step and stops what it started.
    await this.starting?.catch(() => undefined);
    await this.stopAll();
  }

  private async stopAll(): Promise<void> {
    const list = this.components.splice(0);
    for (const c of list.reverse()) {
      try {
        await c.stop();
      } catch (err) {
        this.opts.out(`  warning: stopping ${c.name}: ${(err as Error).message}`);
      }
    }
    removeUpState(this.opts.dataRoot);
  }
}

async function waitReady(name: string, child: ChildProcess, ready: () => Promise<boolean>, logFile: string): Promise<void> {
  const deadline = Date.now() + UP_DEFAULTS.componentStartTimeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const tail = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n') : '';
      throw new TesseraError(ER.UNKNOWN_ERROR, `${name} exited during start (${child.exitCode ?? child.signalCode}); last lines of ${logFile}:\n${tail}`);
    }
    if (await ready()) return;
    if (Date.now() > deadline) throw new TesseraError(ER.UNKNOWN_ERROR, `${name} did not become ready within ${UP_DEFAULTS.componentStartTimeoutMs} ms; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  child.kill('SIGTERM');
  if (!(await waitForExit(child.pid, UP_DEFAULTS.stopTimeoutMs))) child.kill('SIGKILL');
}

/**
 * Marks a keyspace whose schema, VSchema and serving graph `up` applied from the cluster file;
 * later starts leave it to the topology. In the data root, so `--clean` forgets it with the rest.
 */
function appliedMarker(dataRoot: string, keyspace: string): string {
  return path.join(dataRoot, 'applied', keyspace);
}

/**
 * Every port the cluster file names must be free before anything starts, except a tablet's
 * MariaDB port held by that tablet's own MariaDB still running from an earlier start (the
 * supervisor was killed, MariaDB was not): the tablet adopts it.
 */
async function checkPortsFree(spec: ClusterSpec, dataRoot: string): Promise<void> {
  const ports: [number, string][] = [
    ...spec.gates.flatMap((g): [number, string][] => [[g.port, `${g.name} port`], [g.httpPort, `${g.name} httpPort`]]),
    [spec.ctld.port, 'ctld.port'],
    [spec.ctld.grpcPort, 'ctld.grpcPort'],
  ];
  if (spec.topo.implementation === 'etcd') ports.push([spec.topo.etcdClientPort, 'topo.etcdClientPort'], [spec.topo.etcdPeerPort, 'topo.etcdPeerPort']);
  for (const ks of spec.keyspaces) {
    for (const sh of ks.shards) {
      for (const t of sh.tablets) {
        const adoptable = await new Mysqlctl({ tabletUid: t.uid, mysqlPort: t.mysqlPort, dataRoot }).adoptablePid();
        if (adoptable === null) ports.push([t.mysqlPort, `mysqlPort of tablet ${t.uid}`]);
        ports.push([t.httpPort, `port of tablet ${t.uid}`], [t.grpcPort, `grpcPort of tablet ${t.uid}`]);
      }
    }
  }
  for (const [p, what] of ports) {
    const free = await new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen({ port: p, host: '127.0.0.1', exclusive: true }, () => s.close(() => resolve(true)));
    });
    if (!free) {
      throw new TesseraError(
        ER.UNKNOWN_ERROR,
        `port ${p} (${what}) is already in use: is a cluster already running? Stop it with \`tessera down\`, or change the port in the cluster file`,
      );
    }
  }
}
