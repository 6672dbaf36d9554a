// Framing decoded events into transactions: MariaDB starts every event group with a GTID event and
// ends it with XID (InnoDB), a COMMIT/ROLLBACK query (non-transactional engines), or, for a
// standalone group (DDL), after its one statement. The position only moves at the end of a group,
// which is what lets a reader resume "from the last whole transaction".
import type { BinlogEvent, QueryEvent, RowsEvent } from './events.js';
import { GtidPosition, type Gtid } from './gtid.js';

export type StreamItem =
  | { readonly kind: 'begin'; readonly gtid: Gtid; readonly timestamp: number }
  | { readonly kind: 'rows'; readonly gtid: Gtid; readonly event: RowsEvent }
  /** A statement inside a group: DDL (`ddl` true), or a statement-logged DML. */
  | { readonly kind: 'query'; readonly gtid: Gtid; readonly event: QueryEvent; readonly ddl: boolean }
  | {
      readonly kind: 'commit';
      readonly gtid: Gtid;
      /** The position after this transaction: resume here to get the next one. */
      readonly position: GtidPosition;
      /** Commit time on the server that first ran it (seconds since the epoch). */
      readonly timestamp: number;
    }
  /** Discard the items since the last `begin`: the connection broke inside that transaction. */
  | { readonly kind: 'rollback'; readonly reason: string }
  /** The source has nothing more for now; `lagSeconds` is 0 when caught up. */
  | { readonly kind: 'heartbeat'; readonly position: GtidPosition; readonly lagSeconds: number }
  /** The source switched binlog files (informational). */
  | { readonly kind: 'rotate'; readonly file: string; readonly filePosition: number };

/**
 * Turns events into framed items, tracking the position. Pure: the network reader, the file
 * reader and tests share it.
 */
export class TransactionFramer {
  position: GtidPosition;
  /** The GTID of the group being read, if inside one. */
  current: Gtid | undefined;
  private standalone = false;
  /** Unix seconds of the last event with a real timestamp (for lag). */
  lastEventTimestamp = 0;

  constructor(start: GtidPosition) {
    this.position = start;
  }

  get inTransaction(): boolean {
    return this.current !== undefined;
  }

  /**
   * Items for one event (usually zero or one; a standalone statement gives query + commit).
   * Events of groups at or before the position (a file read from its start) are skipped.
   */
  push(ev: BinlogEvent, out: StreamItem[]): void {
    if (ev.header.timestamp > 0) this.lastEventTimestamp = ev.header.timestamp;
    switch (ev.kind) {
      case 'gtid': {
        if (this.current !== undefined) out.push({ kind: 'rollback', reason: `group ${this.current.domain}-${this.current.server}-${this.current.sequence} ended without a commit` });
        if (this.position.contains(ev.gtid)) {
          this.current = undefined;
          this.skipping = true;
          return;
        }
        this.skipping = false;
        this.current = ev.gtid;
        this.standalone = ev.standalone;
        out.push({ kind: 'begin', gtid: ev.gtid, timestamp: ev.header.timestamp });
        return;
      }
      case 'rows':
        if (this.current !== undefined) out.push({ kind: 'rows', gtid: this.current, event: ev });
        return;
      case 'query': {
        if (this.current === undefined) return;
        const q = ev.query;
        if (!this.standalone && (isWord(q, 'COMMIT') || isWord(q, 'ROLLBACK'))) {
          this.commit(ev.header.timestamp, out);
          return;
        }
        if (isWord(q, 'BEGIN')) return;
        out.push({ kind: 'query', gtid: this.current, event: ev, ddl: this.standalone && !isWord(q, 'XA') });
        if (this.standalone) this.commit(ev.header.timestamp, out);
        return;
      }
      case 'xid':
        if (this.current !== undefined) this.commit(ev.header.timestamp, out);
        return;
      case 'rotate':
        out.push({ kind: 'rotate', file: ev.file, filePosition: ev.position });
        return;
      case 'heartbeat':
        out.push({ kind: 'heartbeat', position: this.position, lagSeconds: 0 });
        return;
      default:
        return;
    }
  }

  /** True while skipping a group the position already contains. */
  skipping = false;

  private commit(timestamp: number, out: StreamItem[]): void {
    const g = this.current!;
    this.position = this.position.advance(g);
    this.current = undefined;
    out.push({ kind: 'commit', gtid: g, position: this.position, timestamp });
  }

  /** The connection broke: drop the partial group (the caller resumes from `position`). */
  abort(reason: string, out: StreamItem[]): void {
    if (this.current !== undefined) out.push({ kind: 'rollback', reason });
    this.current = undefined;
    this.skipping = false;
  }
}

/** True if the statement is the keyword `w` (case-insensitive), alone or followed by a space. */
function isWord(q: string, w: string): boolean {
  if (q.length < w.length) return false;
  for (let i = 0; i < w.length; i++) {
    if ((q.charCodeAt(i) | 0x20) !== (w.charCodeAt(i) | 0x20)) return false;
  }
  return q.length === w.length || q.charCodeAt(w.length) <= 32 || q.charCodeAt(w.length) === 59;
}
