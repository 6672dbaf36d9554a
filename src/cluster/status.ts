// `tessera status`: keyspaces, shards and tablets with type, serving state, health and lag, read
// from the topology and from each tablet's /debug/health; with --format json also every process of
// the cluster (etcd, ctld, gates, tablets, MariaDB) with its role, keyspace, shard, pid and ports.
import path from 'node:path';
import type { Tablet, TopoServer } from '../topo/index.js';
import { tabletAliasString } from '../topo/index.js';
import { Mysqlctl, processAlive, readPidFile } from '../mysqlctl/index.js';
import type { ProcessRecord, ProcessRole, UpState } from './state.js';

export interface TabletStatusRow {
  readonly keyspace: string;
  readonly shard: string;
  readonly alias: string;
  readonly type: string;
  readonly serving: string;
  readonly health: string;
  readonly lag: string;
  readonly mysql: string;
}

export const STATUS_HEALTH_TIMEOUT_MS = 1_000;
/** `status --format json` gives up on the topology after this and lists what `up` recorded. */
export const STATUS_TOPO_TIMEOUT_MS = 5_000;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

interface HealthBody {
  serving?: boolean;
  reason?: string;
  replicationLagSeconds?: number | null;
  replicationError?: string;
  pid?: number;
  mysqlPid?: number | null;
  alert?: string;
}

async function fetchHealth(host: string, port: number | undefined): Promise<HealthBody | null> {
  if (!port) return null;
  try {
    const res = await fetch(`http://${host}:${port}/debug/health`, { signal: AbortSignal.timeout(STATUS_HEALTH_TIMEOUT_MS) });
    return (await res.json()) as HealthBody;
  } catch {
    return null;
  }
}

export async function clusterStatus(topo: TopoServer, cell: string): Promise<TabletStatusRow[]> {
  return tabletRows(await withHealth(topo, cell));
}

async function withHealth(topo: TopoServer, cell: string): Promise<{ t: Tablet; h: HealthBody | null }[]> {
  const tablets = await topo.getTabletsByCell(cell);
  return Promise.all(tablets.map(async (t) => ({ t, h: await fetchHealth(t.hostname, t.port_map.vt) })));
}

function tabletRows(list: readonly { t: Tablet; h: HealthBody | null }[]): TabletStatusRow[] {
  const rows = list.map(({ t, h }): TabletStatusRow => {
      return {
        keyspace: t.keyspace,
        shard: t.shard,
        alias: tabletAliasString(t.alias),
        type: t.type,
        serving: h ? (h.serving ? 'SERVING' : `NOT_SERVING${h.reason ? ` (${h.reason})` : ''}`) : '-',
        health: h ? (h.alert ? `alert: ${h.alert}` : h.replicationError ? `error: ${h.replicationError}` : 'healthy') : 'unreachable',
        lag: h && typeof h.replicationLagSeconds === 'number' ? `${h.replicationLagSeconds}s` : '-',
        mysql: `${t.mysql_hostname}:${t.mysql_port}`,
      };
    });
  rows.sort((a, b) => a.keyspace.localeCompare(b.keyspace) || a.shard.localeCompare(b.shard) || a.alias.localeCompare(b.alias));
  return rows;
}

export function formatStatusTable(rows: readonly TabletStatusRow[]): string {
  const head: TabletStatusRow = { keyspace: 'KEYSPACE', shard: 'SHARD', alias: 'TABLET', type: 'TYPE', serving: 'STATE', health: 'HEALTH', lag: 'LAG', mysql: 'MARIADB' };
  const cols = Object.keys(head) as (keyof TabletStatusRow)[];
  const all = [head, ...rows];
  const width = cols.map((c) => Math.max(...all.map((r) => r[c].length)));
  return all.map((r) => cols.map((c, i) => r[c].padEnd(width[i])).join('  ').trimEnd()).join('\n') + '\n';
}

/** One process of the cluster, as `tessera status --format json` lists it. */
export interface ProcessStatusRow {
  readonly role: ProcessRole;
  readonly name: string;
  readonly keyspace: string | null;
  readonly shard: string | null;
  /** Tablets and their MariaDB: the tablet alias. */
  readonly alias: string | null;
  /** Tablets: the type the topology records (primary, replica, rdonly…). */
  readonly tabletType: string | null;
  /** Null when not known (a tablet started elsewhere that does not answer). */
  readonly pid: number | null;
  readonly alive: boolean;
  readonly ports: Readonly<Record<string, number>>;
  /** `up` when `tessera up` started it (and restarts it with restartProcesses), else `other`. */
  readonly startedBy: 'up' | 'other';
  readonly restarts: number;
}

export interface ClusterStatusJson {
  readonly cluster: {
    readonly pid: number;
    readonly running: boolean;
    readonly mode: string;
    readonly cell: string;
    readonly clusterFile: string;
    readonly dataRoot: string;
    readonly topo: UpState['topo'];
    readonly gates: readonly { readonly name: string; readonly port: number; readonly httpPort: number }[];
    readonly ctldPort: number;
    readonly ready: boolean;
    /** Why the topology could not be read; then `tablets` is empty and tablets come from `up`'s record. */
    readonly topoError: string | null;
  };
  readonly processes: readonly ProcessStatusRow[];
  readonly tablets: readonly TabletStatusRow[];
}

const ROLE_ORDER: readonly ProcessRole[] = ['etcd', 'ctld', 'gate', 'tablet', 'mariadb'];

/**
 * Everything `tessera status --format json` prints. The processes `up` started come from its state
 * file; every tablet of the cell (also one started by the tutorial's scripts) and its MariaDB from
 * the topology, with the pids the tablet reports on /debug/health, else the pid files
 * (<data-root>/tablet-<uid>.pid as scripts/vttablet-up.sh writes it, MariaDB's own pid file).
 */
export async function clusterStatusJson(st: UpState, topo: TopoServer, dataRoot: string): Promise<ClusterStatusJson> {
  // The topology down (its etcd killed) still lists what `up` started, with the reason.
  let list: { t: Tablet; h: HealthBody | null }[] = [];
  let topoError: string | null = null;
  try {
    list = await withTimeout(withHealth(topo, st.cell), STATUS_TOPO_TIMEOUT_MS, 'reading the topology');
  } catch (err) {
    topoError = (err as Error).message;
  }
  const recorded = new Map<string, ProcessRecord>((st.processes ?? []).map((p) => [p.name, p]));
  const rows: ProcessStatusRow[] = [];
  const row = (r: Omit<ProcessStatusRow, 'alive' | 'startedBy' | 'restarts' | 'tabletType'> & { tabletType?: string | null }): void => {
    const rec = recorded.get(r.name);
    recorded.delete(r.name);
    rows.push({
      ...r,
      tabletType: r.tabletType ?? null,
      alive: r.pid !== null && processAlive(r.pid),
      startedBy: rec ? 'up' : 'other',
      restarts: rec?.restarts ?? 0,
    });
  };
  for (const { t, h } of list) {
    const alias = tabletAliasString(t.alias);
    const uid = t.alias.uid;
    const rec = recorded.get(`tablet-${uid}`);
    const ports: Record<string, number> = {};
    if (t.port_map.vt) ports.http = t.port_map.vt;
    if (t.port_map.grpc) ports.grpc = t.port_map.grpc;
    const pid = h?.pid ?? (rec && rec.pid !== null && processAlive(rec.pid) ? rec.pid : null) ?? liveOrNull(readPidFile(path.join(dataRoot, `tablet-${uid}.pid`))) ?? rec?.pid ?? null;
    row({ role: 'tablet', name: `tablet-${uid}`, keyspace: t.keyspace, shard: t.shard, alias, tabletType: t.type, pid, ports });
    let mysqlPid: number | null = h?.mysqlPid ?? null;
    if (mysqlPid === null && t.mysql_port > 0) {
      try {
        mysqlPid = new Mysqlctl({ tabletUid: uid, mysqlPort: t.mysql_port, dataRoot }).runningPid();
      } catch {
        mysqlPid = null;
      }
    }
    row({ role: 'mariadb', name: `mariadb-${uid}`, keyspace: t.keyspace, shard: t.shard, alias, pid: mysqlPid, ports: { mysql: t.mysql_port } });
  }
  // What up started and the topology does not list (etcd, ctld, gates; a tablet not registered yet).
  for (const r of [...recorded.values()]) row({ role: r.role, name: r.name, keyspace: r.keyspace, shard: r.shard, alias: r.alias, pid: r.pid, ports: r.ports });
  rows.sort((a, b) => ROLE_ORDER.indexOf(a.role) - ROLE_ORDER.indexOf(b.role) || a.name.localeCompare(b.name, 'en', { numeric: true }));
  return {
    cluster: {
      pid: st.pid,
      running: processAlive(st.pid),
      mode: st.mode,
      cell: st.cell,
      clusterFile: st.clusterFile,
      dataRoot,
      topo: st.topo,
      gates: st.gates ?? [{ name: 'gate', port: st.gatePort, httpPort: 0 }],
      ctldPort: st.ctldPort,
      ready: st.ready,
      topoError,
    },
    processes: rows,
    tablets: tabletRows(list),
  };
}

function liveOrNull(pid: number | undefined): number | null {
  return pid !== undefined && processAlive(pid) ? pid : null;
}
