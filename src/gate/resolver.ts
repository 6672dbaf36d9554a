// The gate's view of the serving graph: the cell's SrvVSchema (built into a ClusterVSchema) and
// each keyspace's SrvKeyspace (which shards serve which tablet type), both followed live through
// topo watches. Resolves keyspace ids and key ranges to shards, honouring shard routing rules when
// partial keyspace migration is enabled.
import { compareKeyBytes, fromHex, keyRangeContains, keyRangesIntersect, parseShardName, type KeyRange } from '../key/index.js';
import { logger } from '../log/index.js';
import { isTopoError, type SrvKeyspace, type SrvVSchema, type TabletType, type TopoServer } from '../topo/index.js';
import {
  buildClusterVSchema, parseKeyspaceRoutingRules, parseKeyspaceVSchema, parseRoutingRules, parseShardRoutingRules, type ClusterVSchema, type KeyspaceVSchema,
} from '../vschema/index.js';
import type { ResolvedShard } from './types.js';

const log = logger('gate', { part: 'resolver' });

export interface ServingShard {
  readonly name: string;
  readonly range: KeyRange;
}

interface ServingIndex {
  readonly serving: readonly ServingShard[];
  /** `serving[i]` after shard routing rules. */
  readonly resolved: readonly ResolvedShard[];
}

export interface ResolverOptions {
  /** Honour shard routing rules (`--enable-partial-keyspace-migration`). */
  readonly shardRouting: boolean;
  /** Delay before a broken or missing watch is tried again. */
  readonly watchRetryMs: number;
  /** How often the cell's keyspace list is re-read (new keyspaces start being watched). */
  readonly keyspaceSyncMs: number;
}

export class Resolver {
  vschema: ClusterVSchema = buildClusterVSchema({ keyspaces: {} });
  /** Bumped on every VSchema or serving graph change (plan cache invalidation). */
  generation = 0;
  private readonly srvKeyspaces = new Map<string, SrvKeyspace>();
  private readonly watching = new Map<string, AbortController>();
  private readonly abort = new AbortController();
  private readonly listeners = new Set<() => void>();
  vschemaErrors: string[] = [];
  /**
   * Serving shards by keyspace and served type, in key order, with each one's ResolvedShard (after
   * shard routing rules): built on first use after a serving graph or VSchema change, so routing a
   * statement only looks them up. The arrays are frozen: callers share them.
   */
  private readonly shardIndex = new Map<string, Map<TabletType, ServingIndex>>();

  constructor(
    private readonly topo: TopoServer,
    readonly cell: string,
    readonly options: ResolverOptions,
  ) {}

  async start(): Promise<void> {
    await this.loadVSchema();
    void this.watchVSchema();
    await this.syncKeyspaces();
    // Keyspaces created later show up in the cell's SrvKeyspace list without a VSchema change.
    const timer = setInterval(() => {
      this.syncKeyspaces().catch((err: unknown) => log.warn({ err: String(err) }, 'listing SrvKeyspaces failed'));
    }, this.options.keyspaceSyncMs);
    timer.unref();
    this.abort.signal.addEventListener('abort', () => clearInterval(timer), { once: true });
  }

  onChange(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private changed(): void {
    this.shardIndex.clear();
    this.generation++;
    for (const l of this.listeners) l();
  }

  private async loadVSchema(): Promise<void> {
    try {
      this.applySrvVSchema(await this.topo.getSrvVSchema(this.cell));
    } catch (err) {
      if (!isTopoError(err, 'NO_NODE')) throw err;
    }
  }

  private applySrvVSchema(srv: SrvVSchema): void {
    const keyspaces: Record<string, KeyspaceVSchema> = {};
    const errors: string[] = [];
    for (const [name, json] of Object.entries(srv.keyspaces ?? {})) {
      try {
        keyspaces[name] = parseKeyspaceVSchema(name, json);
      } catch (err) {
        errors.push(`keyspace ${name}: ${(err as Error).message}`);
      }
    }
    for (const name of this.srvKeyspaces.keys()) {
      if (!keyspaces[name]) keyspaces[name] = parseKeyspaceVSchema(name, {});
    }
    try {
      this.vschema = buildClusterVSchema({
        keyspaces,
        routingRules: parseRoutingRules(srv.routing_rules ?? { rules: [] }),
        shardRoutingRules: parseShardRoutingRules(srv.shard_routing_rules ?? { rules: [] }),
        keyspaceRoutingRules: parseKeyspaceRoutingRules(srv.keyspace_routing_rules ?? { rules: [] }),
      });
    } catch (err) {
      errors.push((err as Error).message);
      // Keep routing by the keyspaces alone rather than not at all.
      this.vschema = buildClusterVSchema({ keyspaces });
    }
    this.vschemaErrors = errors;
    if (errors.length) log.warn({ errors }, 'SrvVSchema has problems');
    this.lastSrvVSchema = srv;
    this.changed();
  }

  private lastSrvVSchema: SrvVSchema | null = null;

  private async watchVSchema(): Promise<void> {
    while (!this.abort.signal.aborted) {
      try {
        const w = await this.topo.watchSrvVSchema(this.cell, this.abort.signal);
        this.applySrvVSchema(w.current);
        await this.syncKeyspaces();
        for await (const e of w.changes) {
          if (e.kind === 'changed') {
            this.applySrvVSchema(e.value);
            await this.syncKeyspaces();
          } else break;
        }
      } catch (err) {
        if (this.abort.signal.aborted) return;
        if (!isTopoError(err, 'NO_NODE')) log.warn({ err: String(err) }, 'SrvVSchema watch failed');
      }
      await this.sleep();
    }
  }

  private sleep(): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, this.options.watchRetryMs);
      t.unref();
      this.abort.signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      }, { once: true });
    });
  }

  /** Starts watching the SrvKeyspace of every keyspace the cell serves. */
  async syncKeyspaces(): Promise<void> {
    let names: string[];
    try {
      names = await this.topo.getSrvKeyspaceNames(this.cell);
    } catch (err) {
      if (isTopoError(err, 'NO_NODE')) names = [];
      else throw err;
    }
    for (const n of Object.keys(this.vschema.keyspaces)) if (!names.includes(n)) names.push(n);
    let added = false;
    for (const name of names) {
      if (this.watching.has(name)) continue;
      const ac = new AbortController();
      this.watching.set(name, ac);
      this.abort.signal.addEventListener('abort', () => ac.abort(), { once: true });
      try {
        this.srvKeyspaces.set(name, await this.topo.getSrvKeyspace(this.cell, name));
        added = true;
      } catch (err) {
        if (!isTopoError(err, 'NO_NODE')) log.warn({ keyspace: name, err: String(err) }, 'reading SrvKeyspace failed');
      }
      void this.watchKeyspace(name, ac.signal);
    }
    if (added && this.lastSrvVSchema) this.applySrvVSchema(this.lastSrvVSchema);
    else if (added) this.changed();
  }

  private async watchKeyspace(name: string, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        const w = await this.topo.watchSrvKeyspace(this.cell, name, signal);
        this.srvKeyspaces.set(name, w.current);
        this.changed();
        for await (const e of w.changes) {
          if (e.kind === 'changed') {
            this.srvKeyspaces.set(name, e.value);
            this.changed();
          } else {
            if (e.kind === 'deleted') {
              this.srvKeyspaces.delete(name);
              this.changed();
            }
            break;
          }
        }
      } catch (err) {
        if (signal.aborted) return;
        if (!isTopoError(err, 'NO_NODE')) log.warn({ keyspace: name, err: String(err) }, 'SrvKeyspace watch failed');
      }
      await this.sleep();
    }
  }

  keyspaceNames(): string[] {
    return [...new Set([...this.srvKeyspaces.keys(), ...Object.keys(this.vschema.keyspaces)])].sort();
  }

  /** Serving shards of a keyspace for a tablet type, in key order (shared, frozen). */
  servingShards(keyspace: string, type: TabletType): ServingShard[] {
    return this.index(keyspace, type).serving as ServingShard[];
  }

  private index(keyspace: string, type: TabletType): ServingIndex {
    const served: TabletType = type === 'replica' || type === 'rdonly' ? type : 'primary';
    let byType = this.shardIndex.get(keyspace);
    if (byType === undefined) this.shardIndex.set(keyspace, (byType = new Map()));
    let ix = byType.get(served);
    if (ix === undefined) {
      const serving = this.buildServingShards(keyspace, served);
      ix = { serving: Object.freeze(serving), resolved: Object.freeze(serving.map((s) => Object.freeze(this.routed(keyspace, s.name)))) };
      byType.set(served, ix);
    }
    return ix;
  }

  private buildServingShards(keyspace: string, served: TabletType): ServingShard[] {
    const srv = this.srvKeyspaces.get(keyspace);
    if (!srv) return [];
    const part = srv.partitions.find((p) => p.served_type === served) ?? srv.partitions.find((p) => p.served_type === 'primary');
    if (!part) return [];
    return part.shard_references
      .map((r) => Object.freeze({ name: r.name, range: r.key_range ? { start: fromHex(r.key_range.start ?? ''), end: fromHex(r.key_range.end ?? '') } : parseShardName(r.name) }))
      .sort((a, b) => compareKeyBytes(a.range.start, b.range.start));
  }

  private routed(keyspace: string, shard: string): ResolvedShard {
    if (!this.options.shardRouting) return { keyspace, shard };
    return { keyspace: this.vschema.keyspaceForShard(keyspace, shard), shard };
  }

  /** Every serving shard, resolved (shared, frozen: copy before changing it). */
  allShards(keyspace: string, type: TabletType): ResolvedShard[] {
    return this.index(keyspace, type).resolved as ResolvedShard[];
  }

  shardForKeyspaceId(keyspace: string, type: TabletType, ksid: Uint8Array): ResolvedShard | undefined {
    const ix = this.index(keyspace, type);
    const serving = ix.serving;
    for (let i = 0; i < serving.length; i++) if (keyRangeContains(serving[i].range, ksid)) return ix.resolved[i];
    return undefined;
  }

  shardsForKeyRange(keyspace: string, type: TabletType, range: KeyRange): ResolvedShard[] {
    const ix = this.index(keyspace, type);
    const out: ResolvedShard[] = [];
    for (let i = 0; i < ix.serving.length; i++) if (keyRangesIntersect(ix.serving[i].range, range)) out.push(ix.resolved[i]);
    return out;
  }

  /** A shard the session targets (`USE ks:-80`), after shard routing rules. */
  targeted(keyspace: string, shard: string): ResolvedShard {
    return this.routed(keyspace, shard);
  }

  close(): void {
    this.abort.abort();
    for (const ac of this.watching.values()) ac.abort();
  }
}
