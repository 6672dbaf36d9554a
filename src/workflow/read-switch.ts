// MoveTables' read switch, per cell. Vitess keeps table routing rules global and, for a read switch
// of some cells only, rebuilds the SrvVSchema of those cells; Tessera does the same with explicit
// per-cell overrides (topo node `CellRoutingRules`, folded into each cell's SrvVSchema by
// rebuildVSchemaGraph — see foldCellRoutingRules in src/topo/server.ts):
//
//   - the global routing rules keep saying where a spelling goes in every cell without an override;
//   - a cell whose reads went the other way gets an override of the `@replica`/`@rdonly` spellings;
//   - once every cell agrees, the global rule takes that value and the overrides go, so outside a
//     partial read switch there are no overrides at all and GetRoutingRules tells the whole story.
//
// Why overrides rather than a full rule set per cell: the gate of a cell reads only its own
// SrvVSchema, so folding at rebuild time is all it takes, writes (`t`, `ks.t`) stay cluster-wide by
// construction (a primary is one per shard, whatever the cell), and a cell added later simply sees
// the global rules.
import type { RoutingRules, TopoServer } from '../topo/index.js';
import { ruleList, ruleMap } from './movetables.js';

export type ReadType = 'replica' | 'rdonly';
export const READ_SWITCH_TYPES: readonly ReadType[] = ['replica', 'rdonly'];

/** The `@type` spellings of `table` a read switch moves (Vitess's three per type). */
export function readSpellings(source: string, target: string, table: string, type: ReadType): string[] {
  return [`${table}@${type}`, `${target}.${table}@${type}`, `${source}.${table}@${type}`];
}

/** The cells reads can be switched in: every cell with a CellInfo. */
export async function readCells(topo: TopoServer): Promise<string[]> {
  return (await topo.getCellInfoNames()).sort();
}

/** Per read type, the cells whose `@type` reads of `table` go to `keyspace`, and the others. */
export async function readsRoutedTo(topo: TopoServer, table: string, keyspace: string): Promise<Record<ReadType, { switched: string[]; not: string[] }>> {
  const global = ruleMap(await topo.getRoutingRules());
  const cells = await topo.getCellRoutingRules();
  const all = await readCells(topo);
  const out = {} as Record<ReadType, { switched: string[]; not: string[] }>;
  for (const type of READ_SWITCH_TYPES) {
    const from = `${table}@${type}`;
    const at = (cell: string) => (ruleMap(cells[cell] ?? { rules: [] }).get(from) ?? global.get(from))?.split('.')[0];
    const r = { switched: [] as string[], not: [] as string[] };
    if (all.length === 0) (global.get(from)?.split('.')[0] === keyspace ? r.switched : r.not).push('');
    for (const cell of all) (at(cell) === keyspace ? r.switched : r.not).push(cell);
    out[type] = r;
  }
  return out;
}

/**
 * Vitess's words for the reads: `All Reads Switched`, `Reads Not Switched`, or `Reads partially
 * switched. <replica>. <rdonly>` where each part is `All Replica Reads Switched`, `Replica not
 * switched` or `Replica switched in cells: zone2` (and the same for Rdonly).
 */
export function readsText(s: Record<ReadType, { switched: readonly string[]; not: readonly string[] }>): string {
  const all = (t: ReadType) => s[t].not.length === 0;
  const none = (t: ReadType) => s[t].switched.length === 0;
  if (all('replica') && all('rdonly')) return 'All Reads Switched';
  if (none('replica') && none('rdonly')) return 'Reads Not Switched';
  const part = (t: ReadType, name: string) =>
    all(t) ? `All ${name} Reads Switched` : none(t) ? `${name} not switched` : `${name} switched in cells: ${s[t].switched.join(',')}`;
  return `Reads partially switched. ${part('replica', 'Replica')}. ${part('rdonly', 'Rdonly')}`;
}

/**
 * Points the `@type` reads of `tables` at `to` in `cells` (every cell when empty), keeping the
 * global rules and the per-cell overrides in the canonical form above, then rebuilds SrvVSchema.
 */
export async function switchReadsInCells(
  topo: TopoServer,
  w: { readonly sourceKeyspace: string; readonly targetKeyspace: string; readonly tables: readonly string[] },
  types: readonly ReadType[],
  to: string,
  cells: readonly string[],
): Promise<void> {
  const all = await readCells(topo);
  const chosen = cells.length === 0 ? all : [...cells];
  const overrides = await topo.getCellRoutingRules();
  const global = ruleMap(await topo.getRoutingRules());
  // The value each spelling should have in each cell once this switch is done.
  const want = new Map<string, Map<string, string>>();
  // A spelling without a global rule reads the source today (MoveTables create writes them all).
  const nextGlobal = new Map(global);
  for (const t of w.tables) {
    for (const type of types) {
      for (const from of readSpellings(w.sourceKeyspace, w.targetKeyspace, t, type)) {
        if (!nextGlobal.has(from)) nextGlobal.set(from, `${w.sourceKeyspace}.${t}`);
        const per = new Map<string, string>();
        for (const cell of all) {
          const cur = ruleMap(overrides[cell] ?? { rules: [] }).get(from) ?? nextGlobal.get(from)!;
          per.set(cell, chosen.includes(cell) ? `${to}.${t}` : cur);
        }
        if (all.length === 0) per.set('', `${to}.${t}`);
        want.set(from, per);
      }
    }
  }
  // Where every cell agrees the global rule says it and no cell overrides; elsewhere the global
  // rule stays and the cells that differ from it override.
  for (const [from, per] of want) {
    const values = new Set(per.values());
    if (values.size === 1) nextGlobal.set(from, [...values][0]);
  }
  await topo.updateRoutingRules((cur) => {
    const m = ruleMap(cur);
    for (const [from] of want) m.set(from, nextGlobal.get(from)!);
    return ruleList(m);
  });
  await topo.updateCellRoutingRules((byCell) => {
    for (const cell of all) {
      const m = ruleMap(byCell[cell] ?? { rules: [] });
      for (const [from, per] of want) {
        const v = per.get(cell)!;
        if (v === nextGlobal.get(from)) m.delete(from);
        else m.set(from, v);
      }
      byCell[cell] = ruleList(m);
    }
  });
  await topo.rebuildVSchemaGraph();
}

/** Removes every per-cell override of `tables`' spellings (complete, cancel). */
export async function dropCellReadRules(topo: TopoServer, w: { readonly sourceKeyspace: string; readonly targetKeyspace: string; readonly tables: readonly string[] }): Promise<boolean> {
  const spell = new Set(w.tables.flatMap((t) => READ_SWITCH_TYPES.flatMap((type) => readSpellings(w.sourceKeyspace, w.targetKeyspace, t, type))));
  let changed = false;
  await topo.updateCellRoutingRules((byCell) => {
    for (const [cell, r] of Object.entries(byCell)) {
      const kept: RoutingRules = { rules: r.rules.filter((x) => !spell.has(x.from_table)) };
      if (kept.rules.length !== r.rules.length) changed = true;
      byCell[cell] = kept;
    }
    if (!changed) return false;
  });
  return changed;
}
