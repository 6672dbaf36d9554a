// Workflows as Vitess reports them: the streams of a workflow live on the target keyspace's shard
// primaries; these functions gather them into vtctldclient's JSON shapes (GetWorkflows,
// Workflow show) and steer them (start, stop, update, delete).
import { ER, TesseraError } from '../mysql/errors.js';
import { quoteIdent, quoteString } from '../sql/index.js';
import { readOrMissing, tabletAliasString, type Tablet, type TopoServer } from '../topo/index.js';
import { parseBinlogSource } from '../vreplication/binlog-source.js';
import { parseSelectFilter } from '../vreplication/filter.js';
import type { StreamWire, UpdateStreamsWire, WorkflowTabletCalls } from './types.js';
import { workflowSubTypeName, workflowTypeName } from './types.js';

type J = Record<string, unknown>;

export interface ShardStreams {
  readonly shard: string;
  readonly tablet: Tablet;
  readonly streams: StreamWire[];
}

function longAlias(t: Tablet): string {
  return `${t.alias.cell}-${String(t.alias.uid).padStart(10, '0')}`;
}

/** The streams of `workflow` (or of every workflow) on each primary of `keyspace`, optionally only `shards`. */
export async function gatherStreams(topo: TopoServer, calls: WorkflowTabletCalls, keyspace: string, workflow: string | undefined, shards: readonly string[] = []): Promise<ShardStreams[]> {
  const all = await readOrMissing(
    `keyspace ${keyspace}`,
    async () => {
      await topo.getKeyspace(keyspace);
      return topo.getShards(keyspace);
    },
    () => new TesseraError(ER.WRONG_ARGUMENTS, `keyspace ${keyspace} does not exist`),
  );
  const out: ShardStreams[] = [];
  await Promise.all(
    all
      .filter((s) => shards.length === 0 || shards.includes(s.name))
      .map(async (s) => {
        if (s.shard.primary_alias === null) return;
        const tablet = (await topo.getTablet(s.shard.primary_alias)).value;
        const streams = await calls.vreplicationRead(tablet, workflow);
        if (streams.length > 0) out.push({ shard: s.name, tablet, streams });
      }),
  );
  out.sort((a, b) => (a.shard < b.shard ? -1 : a.shard > b.shard ? 1 : 0));
  return out;
}

/** `; its workflows: a, b` (or that it has none), for errors about a workflow name that does not exist. */
export async function existingWorkflows(topo: TopoServer, calls: WorkflowTabletCalls, keyspace: string): Promise<string> {
  try {
    const names = [...new Set((await gatherStreams(topo, calls, keyspace, undefined)).flatMap((f) => f.streams.map((s) => s.workflow)))].sort();
    return names.length ? `; its workflows: ${names.join(', ')}` : `; keyspace ${keyspace} has no workflows`;
  } catch {
    return '';
  }
}

export async function requireWorkflow(topo: TopoServer, calls: WorkflowTabletCalls, keyspace: string, workflow: string, shards: readonly string[] = []): Promise<ShardStreams[]> {
  const found = await gatherStreams(topo, calls, keyspace, workflow, shards);
  if (found.length === 0) throw new TesseraError(ER.WRONG_ARGUMENTS, `workflow ${workflow} not found in keyspace ${keyspace}${shards.length ? ` (shards ${shards.join(',')})` : ''}${await existingWorkflows(topo, calls, keyspace)}`);
  return found;
}

function ts(seconds: number): J {
  return { seconds: String(seconds), nanoseconds: 0 };
}

function streamJson(shard: string, t: Tablet, s: StreamWire): J {
  const src = parseBinlogSource(s.source);
  return {
    id: String(s.id),
    shard,
    tablet: { cell: t.alias.cell, uid: t.alias.uid },
    binlog_source: { keyspace: src.keyspace, shard: src.shard, filter: { rules: src.filter.rules.map((r) => ({ match: r.match, filter: r.filter })) }, on_ddl: src.onDdl, stop_after_copy: src.stopAfterCopy ?? false },
    position: s.pos,
    stop_position: s.stopPos,
    state: s.state,
    db_name: s.dbName,
    transaction_timestamp: ts(s.transactionTimestamp),
    time_updated: ts(s.timeUpdated),
    message: s.message,
    copy_states: s.copyStates.map((c) => ({ table: c.table, last_pk: c.lastPk ?? '', stream_id: String(s.id) })),
    logs: s.logs.map((l) => ({ id: String(l.id), stream_id: String(s.id), type: l.type, state: l.state, created_at: l.createdAt, updated_at: l.updatedAt, message: l.message, count: String(l.count) })),
    log_fetch_error: '',
    tags: [],
    rows_copied: String(s.rowsCopied),
    throttler_status: {
      component_throttled: s.progress.throttled?.component ?? s.componentThrottled,
      reason_throttled: s.progress.throttled?.reason ?? s.reasonThrottled,
      time_throttled: ts(s.progress.throttled ? Math.floor(s.progress.throttled.since / 1000) : s.timeThrottled),
    },
    tablet_types: s.tabletTypes,
    cells: s.cell ? s.cell.split(',') : [],
    time_heartbeat: ts(s.timeHeartbeat),
    source_tablet: s.progress.sourceTablet,
    replication_lag_seconds: s.progress.lagSeconds,
  };
}

/** vtctldclient GetWorkflows / Workflow show: `{ workflows: [...] }`. */
export function workflowsJson(keyspace: string, found: readonly ShardStreams[]): J {
  const byName = new Map<string, { shard: string; tablet: Tablet; s: StreamWire }[]>();
  for (const f of found) {
    for (const s of f.streams) {
      const list = byName.get(s.workflow) ?? [];
      list.push({ shard: f.shard, tablet: f.tablet, s });
      byName.set(s.workflow, list);
    }
  }
  const workflows: J[] = [];
  for (const [name, list] of [...byName.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const sourceKeyspaces = new Set<string>();
    const sourceShards = new Set<string>();
    const shardStreams: J = {};
    let maxLag = 0;
    for (const { shard, tablet, s } of list) {
      const src = parseBinlogSource(s.source);
      sourceKeyspaces.add(src.keyspace);
      sourceShards.add(src.shard);
      const key = `${shard}/${longAlias(tablet)}`;
      const entry = (shardStreams[key] as { streams: J[] } | undefined) ?? { streams: [] as J[], tablet_controls: [] as J[], is_primary_serving: true };
      entry.streams.push(streamJson(shard, tablet, s));
      shardStreams[key] = entry;
      if (s.progress.lagSeconds !== null) maxLag = Math.max(maxLag, s.progress.lagSeconds);
    }
    const first = list[0].s;
    workflows.push({
      name,
      source: { keyspace: [...sourceKeyspaces].join(','), shards: [...sourceShards].sort() },
      target: { keyspace, shards: [...new Set(list.map((x) => x.shard))].sort() },
      max_v_replication_lag: String(maxLag),
      shard_streams: shardStreams,
      workflow_type: workflowTypeName(first.workflowType),
      workflow_sub_type: workflowSubTypeName(first.workflowSubType),
      max_v_replication_transaction_lag: String(maxLag),
      defer_secondary_keys: first.deferSecondaryKeys,
      options: safeJson(first.options),
    });
  }
  return { workflows };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}

export const STATUS_DEFAULTS = {
  /**
   * A source table InnoDB estimates at no more rows than this is counted exactly (SELECT COUNT(*)
   * on the source primary) for rows_total; a larger one keeps InnoDB's estimate, marked
   * `rows_total_estimated`, so that a status poll never scans a huge table.
   */
  exactCountRowsMax: 200_000,
};

/** Rows and bytes of each table summed over the source shards' primaries. */
async function sourceTotals(
  calls: WorkflowTabletCalls,
  topo: TopoServer,
  keyspace: string,
  shards: readonly string[],
  names: readonly string[],
): Promise<Map<string, { rows: number; bytes: number; estimated: boolean }>> {
  const totals = new Map<string, { rows: number; bytes: number; estimated: boolean }>();
  if (names.length === 0) return totals;
  for (const shard of shards) {
    const s = (await topo.getShard(keyspace, shard)).value;
    if (s.primary_alias === null) continue;
    const t = (await topo.getTablet(s.primary_alias)).value;
    const r = await calls.executeFetchAsDba(
      t,
      `SELECT TABLE_NAME, TABLE_ROWS, DATA_LENGTH FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (${names.map(quoteString).join(',')})`,
    );
    for (const row of r.rows) {
      const name = String(row[0]);
      let rows = Number(row[1] ?? 0);
      let estimated = true;
      if (rows <= STATUS_DEFAULTS.exactCountRowsMax) {
        const c = await calls.executeFetchAsDba(t, `SELECT COUNT(*) FROM ${quoteIdent(name)}`);
        rows = Number(c.rows[0]?.[0] ?? 0);
        estimated = false;
      }
      const prev = totals.get(name) ?? { rows: 0, bytes: 0, estimated: false };
      prev.rows += rows;
      prev.bytes += Number(row[2] ?? 0);
      prev.estimated ||= estimated;
      totals.set(name, prev);
    }
  }
  return totals;
}

/**
 * Progress per table and per stream, as `Materialize/MoveTables status --format json` prints it
 * (Vitess's `table_copy_state` and `shard_streams`), plus `eta_seconds` per table.
 */
export async function workflowStatus(calls: WorkflowTabletCalls, topo: TopoServer, keyspace: string, workflow: string, found: readonly ShardStreams[]): Promise<J> {
  // Target table -> the source table its rule selects from (the same name unless a select says otherwise).
  const tables = new Map<string, { copying: boolean; source: string }>();
  let sourceKeyspace = '';
  const sourceShards = new Set<string>();
  for (const f of found) {
    for (const s of f.streams) {
      const src = parseBinlogSource(s.source);
      sourceKeyspace = src.keyspace;
      sourceShards.add(src.shard);
      for (const r of src.filter.rules) {
        if (tables.has(r.match) || r.match.startsWith('/')) continue;
        const source = /^\s*select\b/i.test(r.filter) ? parseSelectFilter(r.filter).table : r.match;
        tables.set(r.match, { copying: false, source });
      }
      // Tables a `/regex/` rule copies are known by their copy_state rows (same name on both sides).
      // An atomic copy keeps a finished table's row until the whole copy ends, marked `done`.
      for (const c of s.copyStates) {
        const copying = c.lastPk !== 'done';
        const t = tables.get(c.table);
        if (t) t.copying ||= copying;
        else tables.set(c.table, { copying, source: c.table });
      }
    }
  }
  const copying = found.some((f) => f.streams.some((s) => s.copyStates.length > 0));
  const tableCopyState: J = {};
  if (copying && sourceKeyspace !== '') {
    const totals = await sourceTotals(calls, topo, sourceKeyspace, [...sourceShards], [...new Set([...tables.values()].map((t) => t.source))]);
    for (const [name, st] of tables) {
      const tot = totals.get(st.source) ?? { rows: 0, bytes: 0, estimated: true };
      // Counted by the engine, batch by batch, in copy_state; a stream's rate belongs to the table
      // it copies now (its first copy_state row: tables are copied one after another).
      let rowsCopied = 0;
      let bytesCopied = 0;
      let rate = 0;
      for (const f of found) {
        for (const s of f.streams) {
          const cs = s.copyStates.find((c) => c.table === name);
          if (!cs) continue;
          rowsCopied += cs.rowsCopied;
          bytesCopied += cs.bytesCopied;
          if (s.copyStates.find((c) => c.lastPk !== 'done')?.table === name) rate += s.progress.rowsPerSecond;
        }
      }
      const done = !st.copying;
      // Rows inserted on the source during the copy may take the count past an older total.
      const rowsTotal = done ? tot.rows : Math.max(tot.rows, rowsCopied);
      const bytesTotal = done ? tot.bytes : Math.max(tot.bytes, bytesCopied);
      const rows = done ? rowsTotal : rowsCopied;
      const bytes = done ? bytesTotal : bytesCopied;
      const pct = (n: number, total: number) => (total > 0 ? Math.min(100, Math.round((n / total) * 10000) / 100) : done ? 100 : 0);
      tableCopyState[name] = {
        rows_copied: rows,
        rows_total: rowsTotal,
        rows_percentage: pct(rows, rowsTotal),
        bytes_copied: bytes,
        bytes_total: bytesTotal,
        bytes_percentage: pct(bytes, bytesTotal),
        phase: done ? 'Complete' : rowsCopied > 0 ? 'Copying' : 'Not Started',
        rows_total_estimated: tot.estimated,
        rows_per_second: done ? 0 : Math.round(rate),
        eta_seconds: done ? 0 : rate > 0 ? Math.round(Math.max(0, rowsTotal - rowsCopied) / rate) : null,
      };
    }
  }
  const shardStreams: J = {};
  for (const f of found) {
    const key = `${keyspace}/${f.shard}`;
    shardStreams[key] = {
      streams: f.streams.map((s) => {
        const src = parseBinlogSource(s.source);
        const lag = s.progress.lagSeconds;
        const info: string[] = [];
        if (s.state === 'Copying') info.push(`rows copied: ${s.rowsCopied}${s.progress.rowsPerSecond > 0 ? ` (${Math.round(s.progress.rowsPerSecond)}/s)` : ''}`);
        if (lag !== null) info.push(`VStream Lag: ${lag}s`);
        if (s.transactionTimestamp > 0) info.push(`Tx time: ${new Date(s.transactionTimestamp * 1000).toUTCString()}`);
        if (s.progress.throttled) info.push(`throttled by ${s.progress.throttled.component}: ${s.progress.throttled.reason}`);
        if (s.message) info.push(s.message);
        return {
          id: s.id,
          tablet: { cell: f.tablet.alias.cell, uid: f.tablet.alias.uid },
          source_shard: `${src.keyspace}/${src.shard}`,
          position: s.pos,
          status: s.state,
          info: info.join('; '),
        };
      }),
    };
  }
  return { table_copy_state: tableCopyState, shard_streams: shardStreams, traffic_state: 'Reads Not Switched. Writes Not Switched', workflow: `${keyspace}.${workflow}` };
}

/** The text form `status` prints without --format json. */
export function statusText(keyspace: string, workflow: string, status: J): string {
  const lines = [`The following vreplication streams exist for workflow ${keyspace}.${workflow}:`, ''];
  for (const [key, v] of Object.entries(status.shard_streams as Record<string, { streams: J[] }>)) {
    for (const s of v.streams) {
      const t = s.tablet as { cell: string; uid: number };
      lines.push(`id=${String(s.id)} on ${key}/${t.cell}-${String(t.uid).padStart(10, '0')}: Status: ${String(s.status)}. ${String(s.info)}.`);
    }
  }
  const tcs = status.table_copy_state as Record<string, J>;
  if (Object.keys(tcs).length > 0) {
    lines.push('', 'Table copy progress:');
    for (const [name, t] of Object.entries(tcs)) {
      const eta = t.eta_seconds === null || t.eta_seconds === undefined ? 'unknown' : `${String(t.eta_seconds)}s`;
      lines.push(`  ${name}: ${String(t.phase)}, rows ${String(t.rows_copied)}/${String(t.rows_total)}${t.rows_total_estimated ? ' (estimated)' : ''} (${String(t.rows_percentage)}%), bytes ${String(t.bytes_copied)}/${String(t.bytes_total)}, ETA ${eta}`);
    }
  }
  return lines.join('\n') + '\n';
}

export async function updateWorkflow(topo: TopoServer, calls: WorkflowTabletCalls, keyspace: string, u: UpdateStreamsWire, shards: readonly string[] = []): Promise<J> {
  const found = await requireWorkflow(topo, calls, keyspace, u.workflow, shards);
  const details: J[] = [];
  for (const f of found) {
    const n = await calls.vreplicationUpdate(f.tablet, u);
    details.push({ tablet: tabletAliasString(f.tablet.alias), changed: n > 0 });
  }
  return { summary: `The following workflow fields will be updated: ${Object.keys(u).filter((k) => k !== 'workflow').join(', ')}`, details };
}

export async function deleteWorkflow(topo: TopoServer, calls: WorkflowTabletCalls, keyspace: string, workflow: string, shards: readonly string[] = []): Promise<J> {
  const found = await requireWorkflow(topo, calls, keyspace, workflow, shards);
  const details: J[] = [];
  for (const f of found) {
    const n = await calls.vreplicationDelete(f.tablet, workflow);
    details.push({ tablet: tabletAliasString(f.tablet.alias), deleted: n > 0 });
  }
  return { summary: `Successfully deleted the ${workflow} workflow in the ${keyspace} keyspace`, details };
}
