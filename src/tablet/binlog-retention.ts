// Binlog retention: a tablet purges its MariaDB's binlogs itself, and never a file that a
// VReplication stream reading from its shard still needs — whether that stream is running,
// stopped, in Error, or its target primary is down.
//
// Why this design. The streams' positions live on the *target* primaries (`_vt.vreplication.pos`,
// committed with the rows), not on the source. Registering streams on the source (a table the
// source keeps, updated as streams connect) would hold a copy of the truth that goes stale: a
// deleted workflow would hold binlogs for ever, a stream's progress would only be known while it is
// connected. So the purge asks the truth when it runs: every shard primary in the topology is asked
// for its streams (ReadVReplicationWorkflow), those whose source is this tablet's shard hold the
// binlogs after their `pos`. A primary that does not answer means the purge cannot know what is
// needed, so it purges nothing (fails closed) and says which tablet it could not reach.
//
// MariaDB's own expiry (`expire_logs_days`) has no such hook, so mysqlctl turns it off and the
// tablet expires binlogs itself (`--binlog-expire-logs-seconds`, by file age as MariaDB does, every
// `--binlog-purge-interval`) through the same purge. A file is kept while any stream's position
// has not reached the GTID list the *next* file starts with: the file still holds transactions
// the stream has not applied. A `PURGE BINARY LOGS` run on MariaDB directly bypasses all this
// (MariaDB has no hook for it); `tessera ctl PurgeBinaryLogs` is the way to purge by hand.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Client } from '../mysql/client.js';
import { ER, TesseraError } from '../mysql/errors.js';
import { GtidPosition } from '../mysql/binlog/index.js';
import { quoteString } from '../sql/index.js';
import { tabletAliasString, type TopoServer } from '../topo/index.js';
import { parseBinlogSource } from '../vreplication/binlog-source.js';
import type { TabletManagerClient } from './tablet-manager-client.js';

export const BINLOG_RETENTION_DEFAULTS = {
  /** --binlog-expire-logs-seconds: binlog files older than this are purged (what expire_logs_days = 3 did); 0 = never. */
  expireSeconds: 3 * 24 * 3600,
  /** --binlog-purge-interval: how often the tablet looks for expired binlogs. */
  purgeIntervalMs: 10 * 60_000,
  /** One ReadVReplicationWorkflow call's deadline while collecting the streams' positions. */
  callTimeoutMs: 15_000,
};

/** A stream that holds binlogs of this shard. */
export interface RetentionHold {
  /** `keyspace/shard` of the target. */
  readonly target: string;
  readonly workflow: string;
  readonly id: number;
  readonly state: string;
  readonly position: string;
}

export interface BinlogFileInfo {
  readonly name: string;
  /** The GTID list the file starts after (its Gtid_list event); EMPTY for the very first file. */
  readonly start: GtidPosition;
}

/**
 * How many of `files` (oldest first, the last being the one MariaDB writes) may be purged, given
 * that the caller wants the first `wanted` gone: file i may go only if every hold has reached the
 * start of file i+1. Returns the count and the hold that stopped it, if one did.
 */
export function purgeableCount(files: readonly BinlogFileInfo[], wanted: number, holds: readonly { readonly position: GtidPosition; readonly hold: RetentionHold }[]): { count: number; heldBy?: RetentionHold } {
  const limit = Math.min(wanted, files.length - 1);
  for (let i = 0; i < limit; i++) {
    const next = files[i + 1].start;
    const blocking = holds.find((h) => !h.position.atLeast(next));
    if (blocking) return { count: i, heldBy: blocking.hold };
  }
  return { count: Math.max(0, limit) };
}

/**
 * Every stream in the topology whose source is `keyspace/shard`, with its position, read from the
 * target primaries. Fails (naming the tablet) when a primary cannot be asked.
 */
export async function streamsReadingFrom(topo: TopoServer, tmc: TabletManagerClient, keyspace: string, shard: string, timeoutMs = BINLOG_RETENTION_DEFAULTS.callTimeoutMs): Promise<RetentionHold[]> {
  const holds: RetentionHold[] = [];
  for (const ks of await topo.getKeyspaceNames()) {
    for (const sh of await topo.getShardNames(ks)) {
      const { value: rec } = await topo.getShard(ks, sh);
      if (!rec.primary_alias) continue;
      const alias = tabletAliasString(rec.primary_alias);
      let streams;
      try {
        ({ streams } = await tmc.readVReplicationWorkflow(alias, {}, { timeoutMs }));
      } catch (err) {
        throw new TesseraError(
          ER.UNKNOWN_ERROR,
          `cannot tell which binlogs VReplication streams still need: primary ${alias} of ${ks}/${sh} did not answer (${(err as Error).message}); nothing was purged. Bring it back, or purge on MariaDB by hand after checking its streams' positions`,
          { kind: 'UNAVAILABLE', cause: err },
        );
      }
      for (const s of streams) {
        let src;
        try {
          src = parseBinlogSource(s.source);
        } catch {
          continue;
        }
        if (src.keyspace !== keyspace || src.shard !== shard || s.pos === '') continue;
        holds.push({ target: `${ks}/${sh}`, workflow: s.workflow, id: s.id, state: s.state, position: s.pos });
      }
    }
  }
  return holds;
}

/** SHOW BINARY LOGS with each file's starting GTID list, oldest first. */
export async function binlogFiles(c: Client): Promise<BinlogFileInfo[]> {
  const logs = await c.query('SHOW BINARY LOGS');
  const out: BinlogFileInfo[] = [];
  for (const row of logs.rows) {
    const name = String(row[0]);
    const ev = await c.query(`SHOW BINLOG EVENTS IN ${quoteString(name)} LIMIT 4`);
    const type = ev.fields.findIndex((f) => f.name.toLowerCase() === 'event_type');
    const info = ev.fields.findIndex((f) => f.name.toLowerCase() === 'info');
    const g = ev.rows.find((r) => String(r[type]) === 'Gtid_list');
    const list = g ? String(g[info] ?? '').replace(/^\[|\]$/g, '') : '';
    out.push({ name, start: list === '' ? GtidPosition.EMPTY : GtidPosition.parse(list) });
  }
  return out;
}

export interface PurgeRequest {
  /** Purge the files before this one (as `PURGE BINARY LOGS TO`); absent: every file but the current. */
  readonly to?: string;
  /** Only files last written more than this many seconds ago (as MariaDB's expiry); needs the files on this host. */
  readonly olderThanSeconds?: number;
  /** Say what would go, purge nothing. */
  readonly dryRun?: boolean;
}

export interface PurgeResponse {
  /** Files purged (or, with dryRun, that would be), oldest first. */
  readonly purged: readonly string[];
  /** The oldest file left. */
  readonly oldest: string;
  /** The stream that kept the purge from going further, if one did. */
  readonly heldBy: RetentionHold | null;
  /** Every stream reading from this shard, with its position. */
  readonly holds: readonly RetentionHold[];
}

/** Files last modified more than `seconds` ago, counted from the oldest; from the binlog directory on this host. */
async function expiredCount(c: Client, files: readonly BinlogFileInfo[], seconds: number): Promise<number> {
  const r = await c.query('SELECT @@log_bin_basename');
  const dir = path.dirname(String(r.rows[0][0]));
  const cutoff = Date.now() - seconds * 1000;
  let n = 0;
  for (const f of files) {
    let mtime: number;
    try {
      mtime = (await stat(path.join(dir, f.name))).mtimeMs;
    } catch (err) {
      throw new TesseraError(ER.UNKNOWN_ERROR, `binlog ${f.name} is not readable in ${dir} on this host (${(err as Error).message}): expiry by age needs the tablet beside its MariaDB; purge with --to instead`);
    }
    if (mtime >= cutoff) break;
    n++;
  }
  return n;
}

/**
 * Purges this tablet's binlogs as asked, but never past what a stream reading from `keyspace/shard`
 * still needs. `c` is a vt_dba connection to the tablet's MariaDB.
 */
export async function purgeBinaryLogs(c: Client, holds: readonly RetentionHold[], req: PurgeRequest): Promise<PurgeResponse> {
  const files = await binlogFiles(c);
  let wanted = files.length - 1;
  if (req.to !== undefined) {
    const i = files.findIndex((f) => f.name === req.to);
    if (i < 0) throw new TesseraError(ER.WRONG_ARGUMENTS, `PurgeBinaryLogs: there is no binlog ${req.to} (SHOW BINARY LOGS lists ${files.map((f) => f.name).join(', ')})`);
    wanted = i;
  }
  if (req.olderThanSeconds !== undefined && req.olderThanSeconds > 0) wanted = Math.min(wanted, await expiredCount(c, files, req.olderThanSeconds));
  const parsed = holds.map((hold) => ({ hold, position: GtidPosition.parse(hold.position) }));
  const { count, heldBy } = purgeableCount(files, wanted, parsed);
  const purged = files.slice(0, count).map((f) => f.name);
  if (count > 0 && !req.dryRun) await c.query(`PURGE BINARY LOGS TO ${quoteString(files[count].name)}`);
  return { purged, oldest: files[count]?.name ?? '', heldBy: heldBy ?? null, holds };
}
