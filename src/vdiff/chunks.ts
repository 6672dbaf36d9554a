// Chunk checksums, the target's side of one epoch: ranges of keys cut on the target snapshot (its
// next `checksumChunkRowsMax` keys), each checksummed on the target and on every source shard
// (checksum.ts), rows read one by one only for the ranges whose checksums differ.
//
// The ranges are pipelined. The target's snapshot is one connection, so its statements run one
// after another — cut a range (the key `checksumChunkRowsMax` rows on), checksum it, cut the next —
// and a range's source checksums start as soon as it is cut, on the source tablets' own MariaDB. So
// the two sides work at the same time, and the target cuts and checksums up to
// `checksumRangesAhead` ranges before their results are looked at: a diff takes about as long as
// the slower side's checksums, not the sum of both sides and their round trips. Ranges are
// compared in key order, so the last compared key (progress.lastpk) still moves one range at a
// time, and what a checkpoint records is exactly what was compared. Memory is a few keys and
// checksums per range ahead.
import type { Client } from '../mysql/client.js';
import type { SqlValue } from '../mysql/values.js';
import { logger } from '../log/index.js';
import { addChecksums, checksumOf, rangeWhereSql, type KeyLiteral, type RangeChecksum } from './checksum.js';
import type { SourceSession } from './source.js';
import type { EpochContext, EpochEnd, TableProgress, VDiffLimits } from './differ.js';

const log = logger('vdiff');

type Key = readonly SqlValue[];

export interface ChunkSides {
  readonly ctx: EpochContext;
  readonly progress: TableProgress;
  readonly limits: VDiffLimits;
  /** The target's snapshot connection. */
  readonly target: Client;
  readonly sources: readonly SourceSession[];
  /** The key's columns, quoted, and their names as progress records them. */
  readonly keyCols: readonly string[];
  readonly pkColumns: readonly string[];
  /** `db`.`table` on the target. */
  readonly from: string;
  readonly lit: KeyLiteral;
  /** The target row's hash, as a select item (checksum.ts rowHashSql). */
  readonly hashSql: string;
  /** After `n` rows counted as matching: a checkpoint when due, and the epoch's other ends. */
  compared(n: number): Promise<EpochEnd | null>;
  /** A checkpoint now, waited for. */
  checkpoint(): Promise<void>;
  /** The row-by-row comparison of (lo, hi]; null when it reached hi. */
  mergeRange(lo: Key | null, hi: Key | null): Promise<EpochEnd | null>;
}

/** A range cut on the target, its checksums under way. */
interface Range {
  readonly lo: Key | null;
  /** The range's last target key; null: the range runs to the table's end. */
  readonly hi: Key | null;
  readonly target: Promise<RangeChecksum>;
  readonly source: Promise<RangeChecksum>;
  /** For the range to the end: the target's last key in it, where a resume goes on. */
  readonly last: Promise<Key | null>;
}

/** `p`, whose rejection is handled where it is awaited — or nowhere, when the epoch ends first. */
function later<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/** Compares the rest of the table range by range (see the header). */
export async function compareByChunks(x: ChunkSides): Promise<EpochEnd> {
  const { ctx, progress, limits, target } = x;
  const counts = progress.counts;
  const rowLimit = ctx.options.core_options.max_rows;
  const order = x.keyCols.join(', ');
  const desc = x.keyCols.map((k) => `${k} DESC`).join(', ');
  const n = x.keyCols.length;
  // Rows of the ranges cut so far (a cut range holds exactly its size of target rows), for --limit.
  let planned = ctx.rowsThisRun;
  const limited = () => rowLimit > 0 && planned >= rowLimit;

  const cut = async (lo: Key | null): Promise<Range> => {
    const size = rowLimit > 0 ? Math.max(1, Math.min(limits.checksumChunkRowsMax, rowLimit - planned)) : limits.checksumChunkRowsMax;
    planned += size;
    const h = await target.query(`SELECT ${order} FROM ${x.from}${rangeWhereSql(x.keyCols, lo, null, x.lit)} ORDER BY ${order} LIMIT 1 OFFSET ${size - 1}`);
    const hi: Key | null = h.rows.length ? h.rows[0].slice(0, n) : null;
    const where = rangeWhereSql(x.keyCols, lo, hi, x.lit);
    return {
      lo,
      hi,
      target: later(target.query(`SELECT COUNT(*), SUM(${x.hashSql}) FROM ${x.from}${where}`).then((r) => checksumOf(r.rows[0]?.[0], r.rows[0]?.[1]))),
      // A source with more rows than the target's range differs whatever its sum: it counts no further.
      source: later(Promise.all(x.sources.map((s) => s.checksum(lo, hi, size + 1))).then(addChecksums)),
      last: later(
        hi !== null
          ? Promise.resolve(null)
          : target.query(`SELECT ${order} FROM ${x.from}${rangeWhereSql(x.keyCols, lo, null, x.lit)} ORDER BY ${desc} LIMIT 1`).then((r) => (r.rows.length ? r.rows[0].slice(0, n) : null)),
      ),
    };
  };

  // The ranges cut ahead, in key order; each cut waits for the one before (its lo is that one's hi).
  const ahead: Promise<Range | null>[] = [];
  let tail: Promise<Range | null> | null = null;
  const fill = () => {
    while (ahead.length < Math.max(1, limits.checksumRangesAhead) && !limited()) {
      const prev: Promise<Range | null> | null = tail;
      const next: Promise<Range | null> = later(
        prev === null ? cut(progress.lastpk === null ? null : progress.lastpk.values) : prev.then((r) => (r === null || r.hi === null ? null : cut(r.hi))),
      );
      // Past the table's end a link resolves to null at once: the loop below returns at the end.
      ahead.push(next);
      tail = next;
    }
  };

  for (;;) {
    if (ctx.signal.aborted) {
      await x.checkpoint();
      return 'stopped';
    }
    fill();
    const next = ahead.shift();
    if (next === undefined) {
      // --limit: every range up to it is compared.
      await x.checkpoint();
      return 'row-limit';
    }
    const r = await next;
    if (r === null) {
      // Past the table's end (the range to the end returns before): nothing more to compare.
      await x.checkpoint();
      return 'done';
    }
    fill();
    const [t, src] = await Promise.all([r.target, r.source]);
    if (progress.ranges) progress.ranges.compared++;
    if (t.count === src.count && t.sum === src.sum) {
      counts.ProcessedRows += t.count;
      counts.MatchingRows += t.count;
      if (r.hi !== null) {
        progress.lastpk = { columns: x.pkColumns, values: r.hi };
        const end = await x.compared(t.count);
        if (end) return end;
        continue;
      }
      // The table's end: the last compared key is the target's last (a resume compares after it).
      const last = await r.last;
      if (t.count > 0 && last !== null) progress.lastpk = { columns: x.pkColumns, values: last };
      ctx.rowsThisRun += t.count;
      await x.checkpoint();
      return 'done';
    }
    if (progress.ranges) progress.ranges.differing++;
    log.debug({ uuid: ctx.uuid, table: ctx.table, lo: r.lo?.map(String), hi: r.hi?.map(String), target: t, source: src }, 'vdiff: range checksums differ, comparing its rows');
    const end = await x.mergeRange(r.lo, r.hi);
    if (end) return end;
    if (r.hi === null) {
      await x.checkpoint();
      return 'done';
    }
    // Every key up to hi is compared (hi itself is a target key, so it was one of them).
    progress.lastpk = { columns: x.pkColumns, values: r.hi };
  }
}
