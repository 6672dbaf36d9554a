// A stream's rules name target tables; the source streams source tables. A rule
// `{match: "customer_copy", filter: "select * from customer"}` fills the target table
// customer_copy from the source table customer, so what the source is asked for (and what it
// answers) must be renamed on the way: the request's rules match the select's table, copy requests
// name it, and the events that come back name the target table again. Rules without a select
// (`/.*` with a key range, or a bare table name) keep the same name on both sides.
//
// Doing it here, on the target, keeps the source tablet's VStream service a plain "these tables
// of mine, filtered" service that needs to know nothing about the target's tables.
import { ER, TesseraError } from '../mysql/errors.js';
import { parseSelectFilter, type Filter, type FilterRule } from './filter.js';
import type { StreamEvent } from './row-streamer.js';
import type { VStreamer, VStreamRequest, VStreamRowsRequest, RowsBatch } from './vstreamer.js';

export interface SourcePlan {
  /** The rules as the source must see them: each select rule matching its FROM table. */
  readonly filter: Filter;
  /** Target table → the source table it is filled from. */
  readonly sourceOf: ReadonlyMap<string, string>;
  /** Source table → the target table its rows go to. */
  readonly targetOf: ReadonlyMap<string, string>;
}

/** Splits a stream's filter into what the source sees and the renaming both ways. */
export function sourcePlan(filter: Filter): SourcePlan {
  const rules: FilterRule[] = [];
  const sourceOf = new Map<string, string>();
  const targetOf = new Map<string, string>();
  for (const r of filter.rules) {
    if (!/^\s*select\b/i.test(r.filter) || r.match.startsWith('/')) {
      rules.push(r);
      continue;
    }
    const source = parseSelectFilter(r.filter).table;
    const other = targetOf.get(source);
    if (other !== undefined && other !== r.match) {
      // The source filters a table by its first matching rule; two targets from one source table
      // would silently leave the second empty.
      throw new TesseraError(
        ER.WRONG_ARGUMENTS,
        `vreplication: source table ${source} fills both ${other} and ${r.match}; one stream copies a source table into one target table, so create a second workflow for ${r.match}`,
        { kind: 'PERMANENT' },
      );
    }
    sourceOf.set(r.match, source);
    targetOf.set(source, r.match);
    rules.push({ match: source, filter: r.filter });
  }
  return { filter: { rules }, sourceOf, targetOf };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A source DDL as the target must run it (on_ddl EXEC): the table named after TABLE (ALTER, CREATE,
 * DROP, TRUNCATE TABLE, RENAME TABLE's first name), optionally database-qualified, renamed to its
 * target table. Other mentions (a foreign key's referenced table) are left as written.
 */
export function renameDdl(statement: string, targetOf: ReadonlyMap<string, string>): string {
  let out = statement;
  for (const [source, target] of targetOf) {
    const name = escapeRegExp(source);
    const re = new RegExp(`(\\bTABLE\\s+(?:IF\\s+(?:NOT\\s+)?EXISTS\\s+)?)(?:(\`?)[A-Za-z0-9_$]+\\2\\.)?(\`?)${name}\\3(?=[\\s;(,]|$)`, 'gi');
    out = out.replace(re, (_m, head: string) => `${head}\`${target.replaceAll('`', '``')}\``);
  }
  return out;
}

function renameEvent(e: StreamEvent, targetOf: ReadonlyMap<string, string>): StreamEvent {
  if (e.type === 'ddl') {
    const statement = renameDdl(e.statement, targetOf);
    return statement === e.statement ? e : { ...e, statement };
  }
  if (e.type !== 'field' && e.type !== 'row') return e;
  const target = targetOf.get(e.table);
  return target === undefined ? e : { ...e, table: target };
}

/**
 * `vs` as the target's engine wants it: requests in target names and the stream's own filter,
 * answers in target names. Identity when no rule renames.
 */
export function renamingVStreamer<V extends VStreamer>(vs: V, filter: Filter): VStreamer {
  const plan = sourcePlan(filter);
  if (plan.sourceOf.size === 0) return vs;
  return {
    vstream: (req: VStreamRequest, onEvents: (events: readonly StreamEvent[]) => Promise<void>, signal: AbortSignal) =>
      vs.vstream({ ...req, filter: plan.filter }, (events) => onEvents(events.map((e) => renameEvent(e, plan.targetOf))), signal),
    vstreamRows: (req: VStreamRowsRequest, onBatch: (batch: RowsBatch) => Promise<void>, signal: AbortSignal) =>
      vs.vstreamRows(
        {
          ...req,
          table: plan.sourceOf.get(req.table) ?? req.table,
          ...(req.tables ? { tables: req.tables.map((t) => plan.sourceOf.get(t) ?? t) } : {}),
          filter: plan.filter,
        },
        (b) => onBatch(b.kind === 'header' && b.table !== undefined ? { ...b, table: plan.targetOf.get(b.table) ?? b.table } : b),
        signal,
      ),
  };
}
