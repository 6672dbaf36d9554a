// The plan cache: plans by normalized statement + session target, least recently used first out,
// bounded both in entries and in (estimated) bytes. Cleared when the VSchema or serving graph
// changes, since plans depend on both.
import type { Plan } from './types.js';

export interface PlanCacheOptions {
  readonly entriesMax: number;
  readonly bytesMax: number;
}

export const PLAN_CACHE_DEFAULTS: PlanCacheOptions = { entriesMax: 5_000, bytesMax: 64 * 1024 * 1024 };

export class PlanCache {
  private readonly map = new Map<string, Plan>();
  private bytesUsed = 0;
  hits = 0;
  misses = 0;
  evictions = 0;

  constructor(readonly options: PlanCacheOptions = PLAN_CACHE_DEFAULTS) {}

  get(key: string): Plan | undefined {
    const p = this.map.get(key);
    if (p === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    // Refresh recency: a Map iterates in insertion order, so re-insert at the end.
    this.map.delete(key);
    this.map.set(key, p);
    return p;
  }

  set(key: string, plan: Plan): void {
    const size = plan.bytes + key.length * 2;
    if (size > this.options.bytesMax) return;
    const old = this.map.get(key);
    if (old) {
      this.bytesUsed -= old.bytes + key.length * 2;
      this.map.delete(key);
    }
    this.map.set(key, plan);
    this.bytesUsed += size;
    while (this.map.size > this.options.entriesMax || this.bytesUsed > this.options.bytesMax) {
      const [k, p] = this.map.entries().next().value as [string, Plan];
      this.map.delete(k);
      this.bytesUsed -= p.bytes + k.length * 2;
      this.evictions++;
    }
  }

  clear(): void {
    this.map.clear();
    this.bytesUsed = 0;
  }

  get size(): number {
    return this.map.size;
  }

  get bytes(): number {
    return this.bytesUsed;
  }

  keys(): string[] {
    return [...this.map.keys()];
  }
}
