// A distributed cluster for the chaos suite: `tessera up --mode distributed` from a cluster file
// written in a temporary directory, every port free (never the tutorial's 15000/15306/15999), each
// gate, tablet, MariaDB, ctld and etcd its own process, the supervisor restarting what exits
// (restartProcesses) and every tablet restarting its MariaDB. What runs where comes from
// `tessera status --format json` (the same code, called in-process: it is polled often).
//
//   const c = await DistCluster.up({ name: 'x', keyspaces: [...], gates: 2 });
//   const [gate] = await c.find('gate');             // role, keyspace, shard, pid, ports
//   await c.ctl('MoveTables', '--workflow', ...);    // tessera ctl against its ctld
//   await c.down();
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import { clusterStatusJson, readUpState, type ClusterStatusJson, type ProcessRole, type ProcessStatusRow } from '../../src/cluster/index.js';
import { openTopoServer, type Json, type JsonObject, type TopoServer } from '../../src/topo/index.js';
import { CtldClient } from '../../src/ctld/index.js';
import { freePort, killByPath, testRoot, track } from '../harness/processes.js';
import { processCmdline } from '../../src/mysqlctl/process.js';

export const TESSERA = fileURLToPath(new URL('../../../bin/tessera', import.meta.url));

export interface DistKeyspace {
  readonly name: string;
  readonly shards: readonly string[];
  /** Replicas per shard besides the primary. */
  readonly replicas: number;
  /** SQL applied on each shard's primary at start. */
  readonly schema?: string;
  readonly vschema?: unknown;
  readonly durability?: 'none' | 'semi_sync';
}

export interface DistClusterOptions {
  readonly name: string;
  readonly keyspaces: readonly DistKeyspace[];
  readonly gates?: number;
  readonly mysqlRestartTimeoutMs?: number;
  readonly tabletFlags?: Readonly<Record<string, string>>;
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function tessera(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 300_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [TESSERA, ...args], { env: { ...process.env, TESSERA_LOG_LEVEL: 'warn', ...env }, maxBuffer: 64 << 20, timeout: timeoutMs }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

let uidBase = 100;

export class DistCluster {
  private topoClient: TopoServer | null = null;

  private constructor(
    readonly dir: string,
    readonly dataRoot: string,
    readonly file: string,
    readonly gatePorts: readonly number[],
    readonly ctldPort: number,
  ) {}

  static async up(o: DistClusterOptions): Promise<DistCluster> {
    const dir = path.join(testRoot(), `dist-${o.name}`);
    const dataRoot = path.join(dir, 'data');
    fs.mkdirSync(dir, { recursive: true });
    const gatePorts: number[] = [];
    const gateLines: string[] = [];
    for (let i = 0; i < (o.gates ?? 1); i++) {
      const [port, http] = [await freePort(), await freePort()];
      gatePorts.push(port);
      gateLines.push(`  - { port: ${port}, httpPort: ${http} }`);
    }
    const [ctldPort, ctldGrpc, etcdClient, etcdPeer] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const ks: string[] = [];
    for (const k of o.keyspaces) {
      const lines = [`  ${k.name}:`, `    durabilityPolicy: ${k.durability ?? 'none'}`];
      if (k.schema) {
        fs.writeFileSync(path.join(dir, `${k.name}.sql`), k.schema);
        lines.push(`    schema: ${k.name}.sql`);
      }
      if (k.vschema !== undefined) {
        fs.writeFileSync(path.join(dir, `${k.name}.vschema.json`), JSON.stringify(k.vschema));
        lines.push(`    vschema: ${k.name}.vschema.json`);
      }
      lines.push('    shards:');
      for (const s of k.shards) {
        lines.push(`      "${s}":`, '        tablets:');
        for (let r = 0; r <= k.replicas; r++) {
          const uid = uidBase++;
          const [m, h, g] = [await freePort(), await freePort(), await freePort()];
          lines.push(`          - { uid: ${uid}, type: ${r === 0 ? 'primary' : 'replica'}, mysqlPort: ${m}, port: ${h}, grpcPort: ${g} }`);
        }
      }
      ks.push(...lines);
    }
    const flags = Object.entries(o.tabletFlags ?? {}).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`);
    const text = [
      `# Written by test/chaos/cluster.ts (${o.name}).`,
      'cell: zone1',
      'mode: distributed',
      'restartProcesses: true',
      `mysqlRestartTimeoutMs: ${o.mysqlRestartTimeoutMs ?? 30_000}`,
      `topo: { implementation: etcd, etcdClientPort: ${etcdClient}, etcdPeerPort: ${etcdPeer} }`,
      'gates:',
      ...gateLines,
      `ctld: { port: ${ctldPort}, grpcPort: ${ctldGrpc} }`,
      ...(flags.length ? ['tabletFlags:', ...flags] : []),
      'keyspaces:',
      ...ks,
      '',
    ].join('\n');
    const file = path.join(dir, 'cluster.yaml');
    fs.writeFileSync(file, text);
    const c = new DistCluster(dir, dataRoot, file, gatePorts, ctldPort);
    // Whatever happens to this test process, nothing of the cluster outlives it.
    track(() => c.killAll());
    // Info logs in <data-root>/logs: what each component did around a fault.
    const up = await tessera(['up', '--detach', file, '--data-root', dataRoot, '--mode', 'distributed'], { TESSERA_LOG_LEVEL: process.env.TESSERA_CHAOS_LOG_LEVEL ?? 'info' });
    if (up.code !== 0) {
      c.killAll();
      throw new Error(`tessera up failed:\n${up.stdout}\n${up.stderr}\n${c.logTail()}`);
    }
    return c;
  }

  /** The last lines of every log of the cluster, for a failure message. */
  logTail(lines = 15): string {
    const logs = path.join(this.dataRoot, 'logs');
    if (!fs.existsSync(logs)) return '';
    return fs
      .readdirSync(logs)
      .map((f) => `--- ${f}\n${fs.readFileSync(path.join(logs, f), 'utf8').split('\n').slice(-lines).join('\n')}`)
      .join('\n');
  }

  /** The cluster's topology, read in-process (the shard records the suite checks). */
  get topo(): TopoServer {
    if (!this.topoClient) {
      const st = readUpState(this.dataRoot);
      if (!st) throw new Error(`no tessera-up.json in ${this.dataRoot}`);
      this.topoClient = openTopoServer({ topoImplementation: st.topo.implementation, topoGlobalServerAddress: st.topo.address, topoGlobalRoot: st.topo.root });
    }
    return this.topoClient;
  }

  /** What `tessera status --format json` prints. */
  async status(): Promise<ClusterStatusJson> {
    const st = readUpState(this.dataRoot);
    if (!st) throw new Error(`no tessera-up.json in ${this.dataRoot}`);
    return clusterStatusJson(st, this.topo, this.dataRoot);
  }

  /** Processes by role, keyspace, shard and (tablets, MariaDB) the type of their tablet. */
  async find(role: ProcessRole, where: { keyspace?: string; shard?: string; tabletType?: string; name?: string } = {}): Promise<ProcessStatusRow[]> {
    const st = await this.status();
    const types = new Map(st.processes.filter((p) => p.role === 'tablet').map((p) => [p.alias, p.tabletType]));
    return st.processes.filter(
      (p) =>
        p.role === role &&
        (where.name === undefined || p.name === where.name) &&
        (where.keyspace === undefined || p.keyspace === where.keyspace) &&
        (where.shard === undefined || p.shard === where.shard) &&
        (where.tabletType === undefined || types.get(p.alias) === where.tabletType),
    );
  }

  /** `tessera ctl` against this cluster's ctld; throws with its output when it fails. */
  async ctl(...args: string[]): Promise<string> {
    const r = await tessera(['ctl', '--server', `127.0.0.1:${this.ctldPort}`, ...args]);
    if (r.code !== 0) throw new Error(`ctl ${args.join(' ')} failed (${r.code}): ${r.stderr || r.stdout}`);
    return r.stdout;
  }

  /**
   * `ctl`, retried while ctld cannot be reached (it was killed and the supervisor is starting it
   * again) or the topology is briefly unavailable (etcd restarting), for up to `timeoutMs`.
   */
  async ctlRetry(args: string[], timeoutMs = 120_000): Promise<string> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await this.ctl(...args);
      } catch (err) {
        const m = (err as Error).message;
        if (Date.now() > end || !/ECONNREFUSED|ECONNRESET|socket hang up|fetch failed|cannot reach|unavailable|UNAVAILABLE|etcd|deadline|timed? ?out|lock/i.test(m)) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /**
   * A ctld command called in-process (no `tessera ctl` process to start: the suite polls), with
   * `ctlRetry`'s retries while ctld or the topology is coming back.
   */
  async call(command: string, request: JsonObject, timeoutMs = 120_000): Promise<Json> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await new CtldClient(`127.0.0.1:${this.ctldPort}`, { timeoutMs: 120_000 }).call(command, request);
      } catch (err) {
        const m = (err as Error).message;
        if (Date.now() > end || !/ECONNREFUSED|ECONNRESET|socket hang up|fetch failed|cannot reach|unavailable|UNAVAILABLE|etcd|deadline|timed? ?out|lock/i.test(m)) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** A mysql2 connection through gate `i`. */
  connect(i: number, database: string): Promise<mysql.Connection> {
    return mysql.createConnection({ host: '127.0.0.1', port: this.gatePorts[i], user: 'root', database, connectTimeout: 5_000 });
  }

  async down(): Promise<void> {
    await this.topoClient?.close().catch(() => undefined);
    this.topoClient = null;
    const r = await tessera(['down', '--data-root', this.dataRoot]);
    this.killAll();
    if (r.code !== 0) throw new Error(`tessera down failed: ${r.stderr}`);
  }

  /** SIGKILL to every process the cluster's state file names, then to anything naming its data root. */
  killAll(): void {
    const st = readUpState(this.dataRoot);
    for (const p of st?.processes ?? []) {
      // A recorded pid may be stale and reused: only ours (a tessera child, or under the data root).
      const cmd = p.pid !== null ? processCmdline(p.pid) : '';
      if (p.pid !== null && p.pid !== process.pid && (cmd.includes(TESSERA) || cmd.includes(this.dataRoot))) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    killByPath(this.dataRoot);
  }
}
