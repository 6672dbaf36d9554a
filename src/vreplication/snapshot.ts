// The copy phase's source side: a consistent snapshot with its GTID position, and a table's rows in
// primary-key order from a last-seen key, in bounded batches.
//
// MariaDB gives a lock-free snapshot: START TRANSACTION WITH CONSISTENT SNAPSHOT records the binlog
// file and offset matching the snapshot (binlog_snapshot_file/_position), and BINLOG_GTID_POS
// turns those into a GTID position. Rows read in the transaction are exactly the state at that
// position, so a copier can stream from it and catch up from the binlog at `position` without
// gaps or doubles.
import { Client, type ClientOptions } from '../mysql/client.js';
import { ER, TesseraError } from '../mysql/errors.js';
import { decodeTextRow, type SqlValue } from '../mysql/values.js';
import type { ColumnDefinition } from '../mysql/protocol.js';
import { GtidPosition } from '../mysql/binlog/index.js';

export const SNAPSHOT_DEFAULTS = {
  /** Rows per SELECT of the copy; the consumer gets them as one batch. */
  batchRowsMax: 10_000,
  /** Bytes per batch, whichever comes first. */
  batchBytesMax: 4 * 1024 * 1024,
} as const;

export interface CopyOptions {
  /** Columns to copy (default all, in table order). The primary key columns are always read. */
  readonly columns?: readonly string[];
  /** Start after this primary key (values in key column order); undefined starts at the beginning. */
  readonly lastPk?: readonly SqlValue[];
  readonly batchRowsMax?: number;
  readonly batchBytesMax?: number;
}

export interface CopyBatch {
  readonly fields: readonly string[];
  readonly rows: SqlValue[][];
  /** Primary key of the last row of the batch: save it (e.g. in _vt.copy_state) to resume. */
  readonly lastPk: SqlValue[];
}

function quoteId(id: string): string {
  return `\`${id.replace(/`/g, '``')}\``;
}

/** A SQL literal for a value read from MariaDB, for the `WHERE (pk) > (...)` of the next batch. */
function literal(v: SqlValue): string {
  if (v === null) return 'NULL';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (Buffer.isBuffer(v)) return `X'${v.toString('hex')}'`;
  return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\0/g, '\\0')}'`;
}

export class Snapshot {
  private constructor(
    readonly client: Client,
    /** The GTID position the snapshot's rows correspond to. */
    readonly position: GtidPosition,
  ) {}

  /**
   * Opens a connection with a consistent-snapshot transaction. The session runs in UTC so
   * TIMESTAMP values read here match the binlog reader's (UTC) form.
   */
  static async open(opts: ClientOptions): Promise<Snapshot> {
    const client = await Client.connect(opts);
    try {
      await client.query("SET SESSION time_zone = '+00:00'");
      await client.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      await client.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
      const st = await client.query("SHOW STATUS LIKE 'binlog_snapshot_%'");
      let file: string | undefined;
      let pos: string | undefined;
      for (const row of st.rows) {
        const name = String(row[0]).toLowerCase();
        const v = row[1] === null ? undefined : Buffer.isBuffer(row[1]) ? row[1].toString() : String(row[1]);
        if (name === 'binlog_snapshot_file') file = v;
        if (name === 'binlog_snapshot_position') pos = v;
      }
      if (!file || pos === undefined) throw new TesseraError(ER.UNKNOWN_ERROR, 'the source has no binary log (binlog_snapshot_file is empty): enable log_bin');
      const r = await client.query(`SELECT BINLOG_GTID_POS(${literal(file)}, ${Number(pos)})`);
      const g = r.rows[0]?.[0];
      if (g === null || g === undefined) throw new TesseraError(ER.UNKNOWN_ERROR, `BINLOG_GTID_POS(${file}, ${pos}) returned NULL: the binlog file is gone or the offset is not an event boundary`);
      return new Snapshot(client, GtidPosition.parse(Buffer.isBuffer(g) ? g.toString() : String(g)));
    } catch (err) {
      client.destroy();
      throw err;
    }
  }

  /** Primary key columns of a table, in key order. */
  async primaryKey(database: string, table: string): Promise<string[]> {
    const r = await this.client.query(
      `SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = ${literal(database)} AND TABLE_NAME = ${literal(table)} AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION`,
    );
    const cols = r.rows.map((row) => String(row[0]));
    if (cols.length === 0) throw new TesseraError(ER.UNKNOWN_ERROR, `table ${database}.${table} has no primary key: the copy phase needs one to resume`);
    return cols;
  }

  /**
   * Streams a table's rows in primary-key order after `lastPk`, one batch at a time; the next
   * SELECT waits until the consumer asks for the next batch (backpressure by pulling).
   */
  async *copyTable(database: string, table: string, opts: CopyOptions = {}): AsyncGenerator<CopyBatch> {
    const pk = await this.primaryKey(database, table);
    const rowsMax = opts.batchRowsMax ?? SNAPSHOT_DEFAULTS.batchRowsMax;
    const bytesMax = opts.batchBytesMax ?? SNAPSHOT_DEFAULTS.batchBytesMax;
    const wanted = opts.columns ?? null;
    const selectCols = wanted === null ? '*' : [...wanted, ...pk.filter((c) => !wanted.includes(c))].map(quoteId).join(', ');
    let last = opts.lastPk ? [...opts.lastPk] : undefined;
    const from = `${quoteId(database)}.${quoteId(table)}`;
    const order = pk.map(quoteId).join(', ');
    for (;;) {
      const where = last === undefined ? '' : ` WHERE (${order}) > (${last.map(literal).join(', ')})`;
      const sql = `SELECT ${selectCols} FROM ${from}${where} ORDER BY ${order} LIMIT ${rowsMax}`;
      let fields: ColumnDefinition[] = [];
      const rows: SqlValue[][] = [];
      let bytes = 0;
      let pkIdx: number[] = [];
      let outIdx: number[] = [];
      await this.client.stream(sql, {
        fields: (f) => {
          fields = f;
          const names = f.map((c) => c.name);
          pkIdx = pk.map((c) => names.findIndex((n) => n.toLowerCase() === c.toLowerCase()));
          outIdx = wanted === null ? names.map((_, i) => i) : wanted.map((c) => names.findIndex((n) => n.toLowerCase() === c.toLowerCase()));
        },
        row: (payload) => {
          bytes += payload.length;
          rows.push(decodeTextRow(payload, fields));
        },
      });
      if (rows.length === 0) return;
      const lastRow = rows[rows.length - 1];
      last = pkIdx.map((i) => lastRow[i]);
      // Rows are fetched rowsMax at a time; a batch is cut at bytesMax for the consumer.
      const names = outIdx.map((i) => fields[i].name);
      let start = 0;
      let acc = 0;
      for (let i = 0; i < rows.length; i++) {
        acc += 1;
        if (i === rows.length - 1 || (bytes / rows.length) * acc >= bytesMax) {
          const slice = rows.slice(start, i + 1);
          const lr = slice[slice.length - 1];
          yield { fields: names, rows: slice.map((r) => outIdx.map((k) => r[k])), lastPk: pkIdx.map((k) => lr[k]) };
          start = i + 1;
          acc = 0;
        }
      }
      if (rows.length < rowsMax) return;
    }
  }

  /** Ends the snapshot transaction and closes the connection. */
  async close(): Promise<void> {
    try {
      await this.client.query('ROLLBACK');
    } finally {
      this.client.close();
    }
  }
}
