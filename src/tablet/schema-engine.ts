// What the tablet knows of its database's tables: columns, primary keys, indexes. Loaded from
// information_schema at start and after DDL; served to the gate (schema tracking) and to VReplication.
import type { Client } from '../mysql/client.js';
import { quoteString } from '../sql/index.js';

export interface ColumnSchema {
  readonly name: string;
  readonly columnType: string;
  readonly nullable: boolean;
  readonly charset: string | null;
  readonly collation: string | null;
  /** MariaDB's id of that collation (information_schema.COLLATIONS.ID). */
  readonly collationId: number | null;
}

export interface IndexSchema {
  readonly name: string;
  readonly unique: boolean;
  readonly columns: readonly string[];
}

export interface TableSchema {
  readonly name: string;
  readonly type: 'BASE TABLE' | 'VIEW' | 'SEQUENCE' | string;
  readonly comment: string;
  readonly columns: readonly ColumnSchema[];
  readonly primaryKey: readonly string[];
  readonly indexes: readonly IndexSchema[];
}

const str = (v: unknown): string => (v === null || v === undefined ? '' : Buffer.isBuffer(v) ? v.toString('utf8') : String(v));

export class SchemaEngine {
  private tables = new Map<string, TableSchema>();
  /** table -> lower-cased column -> collation id, for text columns. */
  private collations = new Map<string, Map<string, number>>();
  private loadedAt = 0;

  constructor(private readonly dbName: string) {}

  get lastLoaded(): number {
    return this.loadedAt;
  }

  list(): TableSchema[] {
    return [...this.tables.values()];
  }

  table(name: string): TableSchema | undefined {
    return this.tables.get(name);
  }

  /**
   * The collation id of a text column. MariaDB's result metadata carries the connection's
   * collation, not the column's; the gate needs the column's to sort and group exactly.
   */
  columnCollation(table: string, column: string): number | undefined {
    return this.collations.get(table)?.get(column.toLowerCase());
  }

  async reload(conn: Client): Promise<void> {
    const db = quoteString(this.dbName);
    const [tables, cols, stats] = await Promise.all([
      conn.query(`SELECT TABLE_NAME, TABLE_TYPE, TABLE_COMMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${db}`),
      conn.query(
        `SELECT c.TABLE_NAME, c.COLUMN_NAME, c.COLUMN_TYPE, c.IS_NULLABLE, c.CHARACTER_SET_NAME, c.COLLATION_NAME, co.ID FROM information_schema.COLUMNS c ` +
          `LEFT JOIN information_schema.COLLATIONS co ON co.COLLATION_NAME = c.COLLATION_NAME WHERE c.TABLE_SCHEMA = ${db} ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION`,
      ),
      conn.query(
        `SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ${db} ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`,
      ),
    ]);
    const columns = new Map<string, ColumnSchema[]>();
    const collations = new Map<string, Map<string, number>>();
    for (const r of cols.rows) {
      const t = str(r[0]);
      let list = columns.get(t);
      if (!list) columns.set(t, (list = []));
      const collationId = r[6] === null ? null : Number(str(r[6]));
      list.push({ name: str(r[1]), columnType: str(r[2]), nullable: str(r[3]) === 'YES', charset: r[4] === null ? null : str(r[4]), collation: r[5] === null ? null : str(r[5]), collationId });
      if (collationId !== null) {
        let m = collations.get(t);
        if (!m) collations.set(t, (m = new Map()));
        m.set(str(r[1]).toLowerCase(), collationId);
      }
    }
    const indexes = new Map<string, Map<string, { unique: boolean; columns: string[] }>>();
    for (const r of stats.rows) {
      const t = str(r[0]);
      let m = indexes.get(t);
      if (!m) indexes.set(t, (m = new Map()));
      const name = str(r[1]);
      let ix = m.get(name);
      if (!ix) m.set(name, (ix = { unique: str(r[2]) === '0', columns: [] }));
      ix.columns.push(str(r[3]));
    }
    const next = new Map<string, TableSchema>();
    for (const r of tables.rows) {
      const name = str(r[0]);
      const ixs = [...(indexes.get(name) ?? new Map<string, { unique: boolean; columns: string[] }>()).entries()].map(([n, v]) => ({ name: n, unique: v.unique, columns: v.columns }));
      next.set(name, {
        name,
        type: str(r[1]),
        comment: str(r[2]),
        columns: columns.get(name) ?? [],
        primaryKey: ixs.find((i) => i.name === 'PRIMARY')?.columns ?? [],
        indexes: ixs,
      });
    }
    this.tables = next;
    this.collations = collations;
    this.loadedAt = Date.now();
  }
}

/** True for statements after which the schema must be reloaded. */
export function isSchemaChange(sql: string): boolean {
  // Most statements (SELECT, INSERT, UPDATE, ...) are told by their first character without the
  // regular expression: a printable ASCII character other than '/' (a comment) starts a schema
  // change only if it is C, A, D, R or T (either case).
  const c = sql.charCodeAt(0);
  if (c > 0x20 && c < 0x7f && c !== 0x2f) {
    const l = c | 0x20;
    if (l !== 0x63 && l !== 0x61 && l !== 0x64 && l !== 0x72 && l !== 0x74) return false;
  }
  return /^\s*(?:\/\*.*?\*\/\s*)*(create|alter|drop|rename|truncate)\b/is.test(sql);
}
