// TEMPORARY (replaced by the sidecar branch's Vitess text form): a stream's source as JSON.
import type { Filter } from './filter.js';

export interface BinlogSource {
  readonly keyspace: string;
  readonly shard: string;
  readonly filter: Filter;
  readonly onDdl: 'IGNORE' | 'STOP' | 'EXEC' | 'EXEC_IGNORE';
  readonly tabletType?: string;
  readonly stopAfterCopy?: boolean;
  readonly sourceTimeZone?: string;
  readonly targetTimeZone?: string;
}

export function formatBinlogSource(s: BinlogSource): string {
  return JSON.stringify(s);
}

export function parseBinlogSource(text: string): BinlogSource {
  const o = JSON.parse(text) as BinlogSource;
  return { ...o, onDdl: o.onDdl ?? 'IGNORE' };
}
