// TABLE_MAP events: which table a following rows event is about, its column types with their
// binlog metadata, and (binlog_row_metadata=FULL, which mysqlctl sets) column names, signedness,
// charsets, ENUM/SET strings and the primary key. From these a TableMap compiles the per-column
// decode plan that rows.ts runs for every row.
import { TYPE } from '../constants.js';
import { TABLE_META } from './constants.js';

/** What the binlog says about one column, after resolving MariaDB's packed metadata. */
export interface ColumnInfo {
  readonly index: number;
  /** From binlog_row_metadata=FULL; undefined with MINIMAL/NO_LOG. */
  readonly name: string | undefined;
  /**
   * The type as written in the rows: TYPE.* of src/mysql/constants (ENUM and SET resolved from
   * the STRING type's metadata; JSON in MariaDB is a BLOB with a utf8mb4_bin collation).
   */
  readonly type: number;
  /** Raw type metadata from the table map (meaning depends on the type; 0 for most). */
  readonly meta: number;
  readonly nullable: boolean;
  /** From the SIGNEDNESS metadata; false when the binlog does not say. */
  readonly unsigned: boolean;
  /** Collation id of a character column (63 = binary), when the metadata carries it. */
  readonly collation: number | undefined;
  /** ENUM / SET member strings, when the metadata carries them. */
  readonly values: readonly string[] | undefined;
  /**
   * Fraction digits of a temporal column (TIME2/DATETIME2/TIMESTAMP2). For MariaDB 5.3-format
   * TIME/DATETIME/TIMESTAMP they come from a schema hint, and are -1 without one.
   */
  readonly decimals: number;
  /** DECIMAL precision and scale. */
  readonly precision: number;
  readonly scale: number;
  /** Maximum length in bytes for CHAR/BINARY/VARCHAR; bytes of the length prefix for BLOB/TEXT. */
  readonly length: number;
  /** GEOMETRY subtype from the metadata (0 = GEOMETRY). */
  readonly geometryType: number | undefined;
}

export interface TableMapInit {
  readonly tableId: number;
  readonly flags: number;
  readonly database: string;
  readonly table: string;
  readonly columns: readonly ColumnInfo[];
  /** Column indexes of the primary key, when the metadata carries it. */
  readonly primaryKey: readonly number[] | undefined;
}

/**
 * Fraction digits of MariaDB 5.3-format TIME/DATETIME/TIMESTAMP columns, per column index. The
 * binlog does not carry them (the type metadata is empty), so a reader of tables created with
 * mysql56_temporal_format=OFF must learn them from the schema.
 */
export type OldTemporalHints = (database: string, table: string) => readonly number[] | undefined;

export class TableMap {
  readonly tableId: number;
  readonly flags: number;
  readonly database: string;
  readonly table: string;
  readonly columns: readonly ColumnInfo[];
  readonly primaryKey: readonly number[] | undefined;

  constructor(init: TableMapInit) {
    this.tableId = init.tableId;
    this.flags = init.flags;
    this.database = init.database;
    this.table = init.table;
    this.columns = init.columns;
    this.primaryKey = init.primaryKey;
  }

  /** Column names, or `@1`, `@2`, ... (as mariadb-binlog prints them) when the binlog has none. */
  columnNames(): string[] {
    return this.columns.map((c) => c.name ?? `@${c.index + 1}`);
  }

  /** True if two maps describe the same columns (a table map repeats before every statement). */
  sameShape(other: TableMap): boolean {
    if (other.columns.length !== this.columns.length || other.database !== this.database || other.table !== this.table) return false;
    for (let i = 0; i < this.columns.length; i++) {
      const a = this.columns[i];
      const b = other.columns[i];
      if (a.type !== b.type || a.meta !== b.meta || a.name !== b.name || a.unsigned !== b.unsigned || a.collation !== b.collation || a.decimals !== b.decimals) return false;
    }
    return true;
  }
}

/** Where a table map parse failed; the caller wraps it into an error naming the event. */
export class DecodeError extends Error {}

function need(buf: Buffer, pos: number, n: number, what: string): void {
  if (pos + n > buf.length || n < 0) throw new DecodeError(`${what}: needs ${n} bytes at offset ${pos}, event body has ${buf.length}`);
}

/** Length-encoded integer (packed integer in the binlog's words). Returns [value, next offset]. */
export function readLenenc(buf: Buffer, pos: number, what: string): [number, number] {
  need(buf, pos, 1, what);
  const b = buf[pos];
  if (b < 0xfb) return [b, pos + 1];
  if (b === 0xfc) {
    need(buf, pos, 3, what);
    return [buf.readUInt16LE(pos + 1), pos + 3];
  }
  if (b === 0xfd) {
    need(buf, pos, 4, what);
    return [buf.readUIntLE(pos + 1, 3), pos + 4];
  }
  if (b === 0xfe) {
    need(buf, pos, 9, what);
    const v = buf.readBigUInt64LE(pos + 1);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new DecodeError(`${what}: length ${v} is out of range`);
    return [Number(v), pos + 9];
  }
  throw new DecodeError(`${what}: invalid length prefix 0x${b.toString(16)}`);
}

/** Bytes of metadata each binlog column type carries in TABLE_MAP. */
function metaLength(type: number): number {
  switch (type) {
    case TYPE.FLOAT:
    case TYPE.DOUBLE:
    case TYPE.BLOB:
    case TYPE.TINY_BLOB:
    case TYPE.MEDIUM_BLOB:
    case TYPE.LONG_BLOB:
    case TYPE.GEOMETRY:
    case TYPE.JSON:
    case TYPE.TIME2:
    case TYPE.DATETIME2:
    case TYPE.TIMESTAMP2:
      return 1;
    case TYPE.VARCHAR:
    case TYPE.VAR_STRING:
    case TYPE.BIT:
    case TYPE.NEWDECIMAL:
    case TYPE.STRING:
    case TYPE.ENUM:
    case TYPE.SET:
      return 2;
    default:
      return 0;
  }
}

const KNOWN_TYPES = new Set<number>(Object.values(TYPE));

interface RawColumn {
  type: number;
  meta: number;
  realType: number;
  length: number;
}

/** Signedness applies to these (MariaDB counts YEAR, not BIT). */
function isNumeric(t: number): boolean {
  return t === TYPE.TINY || t === TYPE.SHORT || t === TYPE.INT24 || t === TYPE.LONG || t === TYPE.LONGLONG || t === TYPE.YEAR || t === TYPE.NEWDECIMAL || t === TYPE.FLOAT || t === TYPE.DOUBLE || t === TYPE.DECIMAL;
}

/** Columns that get an entry in DEFAULT_CHARSET/COLUMN_CHARSET (MariaDB includes GEOMETRY). */
function isCharacter(t: number): boolean {
  return t === TYPE.STRING || t === TYPE.VARCHAR || t === TYPE.VAR_STRING || t === TYPE.BLOB || t === TYPE.TINY_BLOB || t === TYPE.MEDIUM_BLOB || t === TYPE.LONG_BLOB || t === TYPE.GEOMETRY || t === TYPE.JSON;
}

/**
 * Parses a TABLE_MAP body (after the common header, without checksum). `tableIdLength` is 6 for
 * every server this century.
 */
export function parseTableMap(body: Buffer, tableIdLength: number, hints: OldTemporalHints | undefined): TableMap {
  let pos = 0;
  need(body, pos, tableIdLength + 2, 'post-header');
  const tableId = body.readUIntLE(0, tableIdLength);
  const flags = body.readUInt16LE(tableIdLength);
  pos = tableIdLength + 2;
  need(body, pos, 1, 'schema name length');
  const dbLen = body[pos++];
  need(body, pos, dbLen + 1, 'schema name');
  const database = body.toString('utf8', pos, pos + dbLen);
  pos += dbLen + 1;
  need(body, pos, 1, 'table name length');
  const tLen = body[pos++];
  need(body, pos, tLen + 1, 'table name');
  const table = body.toString('utf8', pos, pos + tLen);
  pos += tLen + 1;
  let n: number;
  [n, pos] = readLenenc(body, pos, 'column count');
  if (n === 0 || n > 4096) throw new DecodeError(`column count ${n} is out of range (1..4096)`);
  need(body, pos, n, 'column types');
  const raw: RawColumn[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const t = body[pos + i];
    if (!KNOWN_TYPES.has(t)) throw new DecodeError(`column ${i + 1} has unknown type ${t}`);
    raw[i] = { type: t, meta: 0, realType: t, length: 0 };
  }
  pos += n;
  let metaLen: number;
  [metaLen, pos] = readLenenc(body, pos, 'metadata length');
  need(body, pos, metaLen, 'column metadata');
  const metaEnd = pos + metaLen;
  for (const c of raw) {
    const ml = metaLength(c.type);
    if (pos + ml > metaEnd) throw new DecodeError(`column metadata is shorter than the column types need (${metaLen} bytes)`);
    if (ml === 1) c.meta = body[pos];
    else if (ml === 2) {
      if (c.type === TYPE.STRING || c.type === TYPE.ENUM || c.type === TYPE.SET) {
        // Big-endian pair: real type, then length; CHAR longer than 255 bytes borrows two bits of the type byte.
        const b0 = body[pos];
        const b1 = body[pos + 1];
        c.meta = (b0 << 8) | b1;
        if ((b0 & 0x30) !== 0x30) {
          c.realType = b0 | 0x30;
          c.length = b1 | (((b0 & 0x30) ^ 0x30) << 4);
        } else {
          c.realType = b0;
          c.length = b1;
        }
      } else c.meta = body.readUInt16LE(pos);
    }
    pos += ml;
  }
  if (pos !== metaEnd) throw new DecodeError(`column metadata has ${metaEnd - pos} bytes more than the column types use`);
  const nullBytes = (n + 7) >> 3;
  need(body, pos, nullBytes, 'nullable bitmap');
  const nullable: boolean[] = new Array(n);
  for (let i = 0; i < n; i++) nullable[i] = (body[pos + (i >> 3)] & (1 << (i & 7))) !== 0;
  pos += nullBytes;

  // Optional metadata: type, lenenc length, value.
  let unsignedBits: boolean[] | undefined;
  let defaultCharset: number | undefined;
  let charsetOverrides: Map<number, number> | undefined;
  let columnCharsets: number[] | undefined;
  let enumSetDefault: number | undefined;
  let enumSetOverrides: Map<number, number> | undefined;
  let enumSetCharsets: number[] | undefined;
  let names: string[] | undefined;
  let setValues: string[][] | undefined;
  let enumValues: string[][] | undefined;
  let geometryTypes: number[] | undefined;
  let primaryKey: number[] | undefined;
  while (pos < body.length) {
    const ft = body[pos++];
    let len: number;
    [len, pos] = readLenenc(body, pos, `optional metadata field ${ft} length`);
    need(body, pos, len, `optional metadata field ${ft}`);
    const end = pos + len;
    let p = pos;
    switch (ft) {
      case TABLE_META.SIGNEDNESS: {
        unsignedBits = [];
        for (let i = 0; i < len * 8; i++) unsignedBits.push((body[p + (i >> 3)] & (0x80 >> (i & 7))) !== 0);
        break;
      }
      case TABLE_META.DEFAULT_CHARSET:
      case TABLE_META.ENUM_AND_SET_DEFAULT_CHARSET: {
        let def: number;
        [def, p] = readLenenc(body, p, 'default charset');
        const over = new Map<number, number>();
        while (p < end) {
          let idx: number;
          let coll: number;
          [idx, p] = readLenenc(body, p, 'charset column index');
          [coll, p] = readLenenc(body, p, 'charset collation');
          over.set(idx, coll);
        }
        if (ft === TABLE_META.DEFAULT_CHARSET) {
          defaultCharset = def;
          charsetOverrides = over;
        } else {
          enumSetDefault = def;
          enumSetOverrides = over;
        }
        break;
      }
      case TABLE_META.COLUMN_CHARSET:
      case TABLE_META.ENUM_AND_SET_COLUMN_CHARSET: {
        const list: number[] = [];
        while (p < end) {
          let coll: number;
          [coll, p] = readLenenc(body, p, 'column charset');
          list.push(coll);
        }
        if (ft === TABLE_META.COLUMN_CHARSET) columnCharsets = list;
        else enumSetCharsets = list;
        break;
      }
      case TABLE_META.COLUMN_NAME: {
        names = [];
        while (p < end) {
          let l: number;
          [l, p] = readLenenc(body, p, 'column name length');
          need(body, p, l, 'column name');
          if (p + l > end) throw new DecodeError('column name runs past its metadata field');
          names.push(body.toString('utf8', p, p + l));
          p += l;
        }
        break;
      }
      case TABLE_META.SET_STR_VALUE:
      case TABLE_META.ENUM_STR_VALUE: {
        const cols: string[][] = [];
        while (p < end) {
          let count: number;
          [count, p] = readLenenc(body, p, 'member count');
          const vals: string[] = [];
          for (let k = 0; k < count; k++) {
            let l: number;
            [l, p] = readLenenc(body, p, 'member length');
            if (p + l > end) throw new DecodeError('ENUM/SET member runs past its metadata field');
            vals.push(body.toString('utf8', p, p + l));
            p += l;
          }
          cols.push(vals);
        }
        if (ft === TABLE_META.SET_STR_VALUE) setValues = cols;
        else enumValues = cols;
        break;
      }
      case TABLE_META.GEOMETRY_TYPE: {
        geometryTypes = [];
        while (p < end) {
          let g: number;
          [g, p] = readLenenc(body, p, 'geometry type');
          geometryTypes.push(g);
        }
        break;
      }
      case TABLE_META.SIMPLE_PRIMARY_KEY:
      case TABLE_META.PRIMARY_KEY_WITH_PREFIX: {
        primaryKey = [];
        while (p < end) {
          let c: number;
          [c, p] = readLenenc(body, p, 'primary key column');
          if (ft === TABLE_META.PRIMARY_KEY_WITH_PREFIX) [, p] = readLenenc(body, p, 'primary key prefix');
          if (c >= n) throw new DecodeError(`primary key column ${c} is beyond the ${n} columns`);
          primaryKey.push(c);
        }
        break;
      }
      default:
        // Unknown fields (COLUMN_VISIBILITY, future ones) are skipped: the TLV framing allows it.
        break;
    }
    if (p > end) throw new DecodeError(`optional metadata field ${ft} runs past its length`);
    pos = end;
  }
  if (names !== undefined && names.length !== n) throw new DecodeError(`${names.length} column names for ${n} columns`);

  const oldDecimals = hints?.(database, table);
  const columns: ColumnInfo[] = new Array(n);
  let numericIdx = 0;
  let charIdx = 0;
  let enumIdx = 0;
  let setIdx = 0;
  let enumSetIdx = 0;
  let geomIdx = 0;
  for (let i = 0; i < n; i++) {
    const r = raw[i];
    let type = r.type;
    if (type === TYPE.STRING && (r.realType === TYPE.ENUM || r.realType === TYPE.SET)) type = r.realType;
    let unsigned = false;
    if (isNumeric(type)) {
      if (unsignedBits !== undefined) {
        if (numericIdx >= unsignedBits.length) throw new DecodeError('SIGNEDNESS metadata has fewer bits than numeric columns');
        unsigned = unsignedBits[numericIdx];
      }
      numericIdx++;
    }
    let collation: number | undefined;
    let values: string[] | undefined;
    if (type === TYPE.ENUM || type === TYPE.SET) {
      collation = enumSetCharsets !== undefined ? enumSetCharsets[enumSetIdx] : enumSetOverrides?.get(enumSetIdx) ?? enumSetDefault;
      enumSetIdx++;
      if (type === TYPE.ENUM) values = enumValues?.[enumIdx++];
      else values = setValues?.[setIdx++];
    } else if (isCharacter(type)) {
      collation = columnCharsets !== undefined ? columnCharsets[charIdx] : charsetOverrides?.get(charIdx) ?? defaultCharset;
      charIdx++;
    }
    let geometryType: number | undefined;
    if (type === TYPE.GEOMETRY) geometryType = geometryTypes?.[geomIdx++];
    let decimals = 0;
    let precision = 0;
    let scale = 0;
    let length = 0;
    switch (type) {
      case TYPE.TIME2:
      case TYPE.DATETIME2:
      case TYPE.TIMESTAMP2:
        decimals = r.meta;
        if (decimals > 6) throw new DecodeError(`column ${i + 1} has ${decimals} fraction digits (max 6)`);
        break;
      case TYPE.TIME:
      case TYPE.DATETIME:
      case TYPE.TIMESTAMP:
        // Unknown (-1) unless a schema hint says: rows.ts refuses to guess the value's length.
        decimals = oldDecimals?.[i] ?? -1;
        if (!(decimals >= -1 && decimals <= 6)) throw new DecodeError(`schema hint gives column ${i + 1} ${decimals} fraction digits (max 6)`);
        break;
      case TYPE.NEWDECIMAL:
        precision = r.meta & 0xff;
        scale = r.meta >> 8;
        if (precision < 1 || precision > 65 || scale > 38 || scale > precision) throw new DecodeError(`column ${i + 1} is DECIMAL(${precision},${scale}), out of range`);
        break;
      case TYPE.STRING:
      case TYPE.ENUM:
      case TYPE.SET:
        length = r.length;
        break;
      case TYPE.VARCHAR:
      case TYPE.VAR_STRING:
        length = r.meta;
        break;
      case TYPE.BLOB:
      case TYPE.TINY_BLOB:
      case TYPE.MEDIUM_BLOB:
      case TYPE.LONG_BLOB:
      case TYPE.GEOMETRY:
      case TYPE.JSON:
        length = r.meta;
        if (length < 1 || length > 4) throw new DecodeError(`column ${i + 1} has a ${length}-byte BLOB length prefix (1..4)`);
        break;
      case TYPE.FLOAT:
      case TYPE.DOUBLE:
        length = r.meta;
        break;
      default:
        break;
    }
    columns[i] = {
      index: i,
      name: names?.[i],
      type,
      meta: r.meta,
      nullable: nullable[i],
      unsigned,
      collation,
      values,
      decimals,
      precision,
      scale,
      length,
      geometryType,
    };
  }
  return new TableMap({ tableId, flags, database, table, columns, primaryKey });
}

