// Read-only commands the web UI polls: the whole cluster in one answer, and one tablet's health
// with its recent changes. They read topo like the other commands and ask tablets for their health.
import { isTopoError, parseTabletAlias, tabletAliasString, type Json, type SrvKeyspace } from '../../topo/index.js';
import { optInt, reqString, type CommandTable, type CtldContext } from '../command.js';
import { ctldMetrics } from '../metrics.js';
import { checkTabletHealth, tabletHealthEvents, TABLET_HEALTH_DEFAULTS, type TabletHealthOptions } from './health.js';
import type { ClusterOverview, OverviewKeyspace, TabletHealthReport } from './types.js';

function json(v: unknown): Json {
  return v as Json;
}

async function orNull<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (err) {
    if (isTopoError(err, 'NO_NODE')) return null;
    throw err;
  }
}

function healthOptions(req: Record<string, Json>): Partial<TabletHealthOptions> {
  return { healthTimeoutMs: optInt(req, 'health_timeout_ms', TABLET_HEALTH_DEFAULTS.healthTimeoutMs) };
}

async function probe(ctx: CtldContext, t: Parameters<typeof checkTabletHealth>[1], o: Partial<TabletHealthOptions>) {
  const h = await checkTabletHealth(ctx, t, o);
  ctldMetrics().healthChecks.inc({ state: h.state });
  return h;
}

export async function clusterOverview(ctx: CtldContext, o: Partial<TabletHealthOptions> = {}): Promise<ClusterOverview> {
  const topo = ctx.topo;
  const cells = await topo.getCellInfoNames();
  const keyspaces: OverviewKeyspace[] = [];
  for (const name of await topo.getKeyspaceNames()) {
    const ks = await orNull(topo.getKeyspace(name));
    if (!ks) continue; // deleted meanwhile
    const srv: Record<string, SrvKeyspace | null> = {};
    for (const cell of cells) srv[cell] = await orNull(topo.getSrvKeyspace(cell, name));
    keyspaces.push({
      name,
      keyspace: ks.value,
      vschema: await orNull(topo.getVSchema(name)),
      shards: (await orNull(topo.getShards(name)) ?? []).map((s) => ({ name: s.name, shard: s.shard })),
      srv_keyspaces: srv,
    });
  }
  const tablets = await topo.getTablets({});
  // Probes run at once: one slow tablet costs the answer at most healthTimeoutMs.
  const health = await Promise.all(tablets.map((t) => probe(ctx, t, o)));
  return {
    at: new Date().toISOString(),
    cells,
    keyspaces,
    tablets: tablets.map((t, i) => ({ alias: tabletAliasString(t.alias), tablet: t, health: health[i] })),
    routing_rules: await topo.getRoutingRules(),
    shard_routing_rules: await topo.getShardRoutingRules(),
    keyspace_routing_rules: await topo.getKeyspaceRoutingRules(),
  };
}

export const UI_COMMANDS: CommandTable = {
  ClusterOverview: {
    readOnly: true,
    summary: 'ClusterOverview [--health-timeout-ms n]: cells, keyspaces with shards, VSchemas and serving graph, tablets with health, all rules',
    async run(ctx, req) {
      return json(await clusterOverview(ctx, healthOptions(req)));
    },
  },
  GetTabletHealth: {
    readOnly: true,
    summary: "GetTabletHealth [--health-timeout-ms n] <alias>: the tablet's /debug/health as ctld sees it, and its recent changes",
    async run(ctx, req) {
      const t = (await ctx.topo.getTablet(parseTabletAlias(reqString(req, 'alias')))).value;
      const health = await probe(ctx, t, healthOptions(req));
      const report: TabletHealthReport = { alias: tabletAliasString(t.alias), tablet: t, health, events: tabletHealthEvents(ctx, t) };
      return json(report);
    },
  },
};
