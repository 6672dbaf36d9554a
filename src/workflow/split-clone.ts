// The seeds' SplitClone (vtworker): the first half of a horizontal reshard spelled as the
// walk-through spells it, `vtworker … SplitClone -min_healthy_rdonly_tablets=1 customer/0`.
//
// Like vtworker it is handed one shard and finds the rest itself: the shards of the keyspace that
// overlap it, split into those that serve (the sources: the named shard must be one) and those that
// do not (the destinations, which must cover the same key range). It checks the source has a
// primary and enough healthy rdonly tablets and that no destination serves, then runs the modern
// mechanism — a Reshard workflow named `SplitClone` whose streams prefer rdonly sources — instead of
// vtworker's online/offline clone. Taking an rdonly tablet out of service (DRAINED) to get a stable
// view is not needed: each copy cycle reads a consistent snapshot and the binlog covers the rest.
//
// Run again after a failure, it finds its workflow and resumes it (the seed: "can be restarted if
// failed").
import { keyRangesIntersect, parseShardName } from '../key/index.js';
import { ER, TesseraError } from '../mysql/errors.js';
import { readOrMissing, type Tablet, type TopoServer } from '../topo/index.js';
import { reshardCreate, type ReshardCreateRequest } from './reshard.js';
import type { WorkflowTabletCalls } from './types.js';

export const SPLIT_CLONE_WORKFLOW = 'SplitClone';

export const SPLIT_CLONE_DEFAULTS = {
  /** vtworker's -min_healthy_rdonly_tablets default. */
  minHealthyRdonlyTablets: 2,
  /**
   * Source tablet types in preference order: rdonly first, as vtworker read from rdonly tablets,
   * then replica and primary so a lost rdonly does not stall the stream.
   */
  tabletTypes: ['rdonly', 'replica', 'primary'] as readonly string[],
};

/** What SplitClone needs to know of a tablet's health (a tablet-manager GetHealth answer). */
export interface TabletHealth {
  readonly serving: boolean;
  readonly reason: string;
  readonly replicationLagSeconds: number | null;
}

export interface SplitCloneRequest {
  readonly keyspace: string;
  readonly shard: string;
  readonly minHealthyRdonlyTablets: number;
  readonly cells: readonly string[];
  /** The seed's -max_tps: the streams' max_tps (undefined: no limit). */
  readonly maxTps?: number;
  readonly configOverrides: Readonly<Record<string, string>>;
}

export interface SplitCloneStart {
  readonly workflow: string;
  readonly keyspace: string;
  readonly sources: readonly string[];
  readonly destinations: readonly string[];
  /** False when the workflow existed already and was resumed. */
  readonly created: boolean;
  readonly healthyRdonly: readonly string[];
}

function bad(message: string): TesseraError {
  return new TesseraError(ER.WRONG_ARGUMENTS, message);
}

function aliasOf(t: Tablet): string {
  return `${t.alias.cell}-${t.alias.uid}`;
}

/** Every shard of the keyspace that some cell's serving graph names for some tablet type. */
async function servingShards(topo: TopoServer, keyspace: string): Promise<Set<string>> {
  const out = new Set<string>();
  for (const cell of await topo.getSrvKeyspaceCells(keyspace)) {
    const srv = await topo.getSrvKeyspace(cell, keyspace).catch(() => null);
    for (const p of srv?.partitions ?? []) for (const r of p.shard_references) out.add(r.name);
  }
  return out;
}

export async function splitCloneStart(
  topo: TopoServer,
  calls: WorkflowTabletCalls,
  health: (t: Tablet) => Promise<TabletHealth>,
  r: SplitCloneRequest,
): Promise<SplitCloneStart> {
  const shards = await readOrMissing(`keyspace ${r.keyspace}`, () => topo.getShards(r.keyspace), () => bad(`keyspace ${r.keyspace} does not exist`));
  const named = shards.find((s) => s.name === r.shard);
  if (!named) throw bad(`shard ${r.keyspace}/${r.shard} does not exist; SplitClone is given the shard to split (customer/0)`);
  const serving = await servingShards(topo, r.keyspace);
  if (!serving.has(r.shard)) {
    throw bad(`shard ${r.keyspace}/${r.shard} does not serve, so it is not a source; SplitClone is given the serving shard to split, and the new shards are found from it`);
  }
  // Destinations: the shards over the named one that serve nothing. Sources: every serving shard
  // over a destination (a merge -80,80- → 0 is started from either half).
  const overlaps = (a: string, b: string) => keyRangesIntersect(parseShardName(a), parseShardName(b));
  const destinations = shards.filter((s) => !serving.has(s.name) && overlaps(s.name, r.shard)).map((s) => s.name);
  const sources = shards.filter((s) => serving.has(s.name) && destinations.some((d) => overlaps(s.name, d))).map((s) => s.name);
  if (destinations.length === 0) {
    throw bad(`no shard of ${r.keyspace} overlaps ${r.shard} without serving: create the destination shards and start their tablets first (in the seed: the tablets 300-302 and 400-402, InitShardMaster, CopySchemaShard)`);
  }

  // An existing SplitClone workflow is resumed, not created again.
  const existing = await Promise.all(
    destinations.map(async (d) => {
      const s = await topo.getShard(r.keyspace, d);
      if (s.value.primary_alias === null) return [];
      return calls.vreplicationRead((await topo.getTablet(s.value.primary_alias)).value, SPLIT_CLONE_WORKFLOW).catch(() => []);
    }),
  );
  const healthyRdonly: string[] = [];
  for (const source of sources) {
    const s = shards.find((x) => x.name === source)!;
    if (s.shard.primary_alias === null) throw bad(`source shard ${r.keyspace}/${source} has no primary; run InitShardMaster -force ${r.keyspace}/${source} <tablet> first`);
    const rdonly = await topo.getTablets({ keyspace: r.keyspace, shard: source, cells: r.cells.length > 0 ? [...r.cells] : undefined });
    let healthy = 0;
    for (const t of rdonly.filter((x) => x.type === 'rdonly')) {
      const h = await health(t).catch(() => null);
      if (h?.serving) {
        healthy++;
        healthyRdonly.push(aliasOf(t));
      }
    }
    if (healthy < r.minHealthyRdonlyTablets) {
      throw bad(
        `source shard ${r.keyspace}/${source} has ${healthy} healthy rdonly tablet(s); -min_healthy_rdonly_tablets wants ${r.minHealthyRdonlyTablets}: start rdonly tablets (tablet type rdonly) or lower the flag`,
      );
    }
  }
  for (const d of destinations) {
    for (const t of await topo.getTablets({ keyspace: r.keyspace, shard: d })) {
      if (t.type === 'rdonly' || t.type === 'replica') {
        const h = await health(t).catch(() => null);
        // A destination tablet serving reads would answer from an empty shard.
        if (h?.serving && serving.has(d)) throw bad(`destination tablet ${aliasOf(t)} of ${r.keyspace}/${d} serves; SplitClone fills shards that serve nothing yet`);
      }
    }
  }

  if (existing.some((e) => e.length > 0)) {
    return { workflow: SPLIT_CLONE_WORKFLOW, keyspace: r.keyspace, sources, destinations, created: false, healthyRdonly };
  }
  const req: ReshardCreateRequest = {
    workflow: SPLIT_CLONE_WORKFLOW,
    keyspace: r.keyspace,
    sourceShards: sources,
    targetShards: destinations,
    cells: r.cells,
    tabletTypes: SPLIT_CLONE_DEFAULTS.tabletTypes,
    onDdl: 'IGNORE',
    deferSecondaryKeys: true,
    // Started after max_tps is set, so the limit holds from the first row.
    autoStart: r.maxTps === undefined,
    stopAfterCopy: false,
    skipSchemaCopy: false,
    configOverrides: r.configOverrides,
  };
  await reshardCreate(topo, calls, req);
  if (r.maxTps !== undefined) {
    for (const d of destinations) {
      const primary = (await topo.getShard(r.keyspace, d)).value.primary_alias!;
      await calls.vreplicationUpdate((await topo.getTablet(primary)).value, { workflow: SPLIT_CLONE_WORKFLOW, maxTps: String(r.maxTps), state: 'Running' });
    }
  }
  return { workflow: SPLIT_CLONE_WORKFLOW, keyspace: r.keyspace, sources, destinations, created: true, healthyRdonly };
}
