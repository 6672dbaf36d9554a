// `tessera status`: keyspaces, shards and tablets with type, serving state, health and lag, read
// from the topology and from each tablet's /debug/health.
import type { TopoServer } from '../topo/index.js';
import { tabletAliasString } from '../topo/index.js';

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

interface HealthBody {
  serving?: boolean;
  reason?: string;
  replicationLagSeconds?: number | null;
  replicationError?: string;
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
  const tablets = await topo.getTabletsByCell(cell);
  const rows = await Promise.all(
    tablets.map(async (t): Promise<TabletStatusRow> => {
      const h = await fetchHealth(t.hostname, t.port_map.vt);
      return {
        keyspace: t.keyspace,
        shard: t.shard,
        alias: tabletAliasString(t.alias),
        type: t.type,
        serving: h ? (h.serving ? 'SERVING' : `NOT_SERVING${h.reason ? ` (${h.reason})` : ''}`) : '-',
        health: h ? (h.replicationError ? `error: ${h.replicationError}` : 'healthy') : 'unreachable',
        lag: h && typeof h.replicationLagSeconds === 'number' ? `${h.replicationLagSeconds}s` : '-',
        mysql: `${t.mysql_hostname}:${t.mysql_port}`,
      };
    }),
  );
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
