// Filter rules of a stream, as Vitess's binlogdata.Filter spells them: each rule has a `match`
// (a table name, or `/regex/` over table names) and a `filter`:
//   ''                                         every row and column of the matched tables
//   'select c1, c2 from t where in_keyrange(c1, 'hash', '-80')'   columns, and rows whose column
//                                              maps through that vindex type into the key range
//   'select * from t where in_keyrange('-80')' the same, by the table's primary vindex (VSchema)
//   '-80'                                      a key range: rows of the matched tables whose
//                                              primary vindex (VSchema) value falls in it
// The first matching rule wins, as in Vitess. A table no rule matches is not streamed.
//
// The SELECT form goes through the project's SQL parser (src/sql), then is checked against the
// narrow shape a filter may have; anything else is a 1064 naming the rule.
import { ER, TesseraError } from '../mysql/errors.js';
import { keyRangeContains, parseShardName, type KeyRange } from '../key/index.js';
import { createVindex, toUint64, vhashBlocks, type FunctionalVindex, type Vindex, type VindexValue } from '../vindexes/index.js';
import { instantiateVindexes, type KeyspaceVSchema } from '../vschema/index.js';
import type { RowValue, TableMap } from '../mysql/binlog/index.js';
import { TYPE } from '../mysql/constants.js';
import { textValue, type ValueColumn } from '../mysql/values.js';
import { parse, type Expr, type Statement } from '../sql/index.js';

export interface FilterRule {
  readonly match: string;
  readonly filter: string;
}

export interface Filter {
  readonly rules: readonly FilterRule[];
}

/** A parsed `select ... from t [where in_keyrange(...)]`. */
export interface SelectFilter {
  /** Selected columns (`*` = all) with their output names. */
  readonly columns: '*' | readonly { readonly name: string; readonly as: string }[];
  readonly table: string;
  readonly keyRange: { readonly column: string | undefined; readonly vindexType: string | undefined; readonly range: string } | undefined;
}

function parseError(rule: string, why: string): TesseraError {
  return new TesseraError(ER.PARSE_ERROR, `filter '${rule}': ${why}; expected select <columns> from <table> [where in_keyrange(<column>, '<vindex type>', '<range>')]`);
}

export function parseSelectFilter(sql: string): SelectFilter {
  let stmt: Statement;
  try {
    stmt = parse(sql);
  } catch (err) {
    throw parseError(sql, (err as Error).message);
  }
  if (stmt.kind !== 'Select') throw parseError(sql, 'must be one SELECT');
  const extra =
    stmt.with ? 'WITH' : stmt.distinct ? 'DISTINCT' : stmt.options.length ? stmt.options[0] : stmt.groupBy.length ? 'GROUP BY' : stmt.having ? 'HAVING' :
    stmt.windows.length ? 'WINDOW' : stmt.orderBy.length ? 'ORDER BY' : stmt.limit ? 'LIMIT' : stmt.lock ? stmt.lock.type : stmt.into ? 'INTO' : null;
  if (extra) throw parseError(sql, `${extra} is not supported in a filter`);
  const from = stmt.from.length === 1 ? stmt.from[0] : null;
  if (!from || from.kind !== 'AliasedTable' || from.alias !== null) throw parseError(sql, 'select from exactly one table, without an alias');
  const table = from.table.name;
  const ownColumn = (e: Expr, what: string): string => {
    if (e.kind !== 'Column' || (e.table !== null && e.table.name !== table)) throw parseError(sql, `${what} must be a column of ${table}`);
    return e.name;
  };
  let columns: SelectFilter['columns'];
  if (stmt.columns.length === 1 && stmt.columns[0].expr.kind === 'Star' && stmt.columns[0].alias === null) columns = '*';
  else columns = stmt.columns.map((item) => {
    const name = ownColumn(item.expr, 'each selected item');
    return { name, as: item.alias ?? name };
  });
  let keyRange: SelectFilter['keyRange'];
  const w = stmt.where;
  if (w !== null) {
    if (w.kind !== 'Func' || w.schema !== null || w.name.toLowerCase() !== 'in_keyrange') throw parseError(sql, 'only in_keyrange(...) is supported in where');
    const str = (e: Expr, what: string): string => {
      if (e.kind !== 'String') throw parseError(sql, `expected ${what} as a quoted string`);
      return e.value;
    };
    if (w.args.length === 1) keyRange = { column: undefined, vindexType: undefined, range: str(w.args[0], 'a key range') };
    else if (w.args.length === 3) keyRange = { column: ownColumn(w.args[0], 'the in_keyrange column'), vindexType: str(w.args[1], 'a vindex type'), range: str(w.args[2], 'a key range') };
    else throw parseError(sql, `in_keyrange takes ('<range>') or (<column>, '<vindex type>', '<range>'), not ${w.args.length} arguments`);
  }
  return { columns, table, keyRange };
}

/** Is `match` this table? `/regex/` matches names by regular expression. */
export function ruleMatches(match: string, table: string): boolean {
  // Vitess's form: a leading `/` makes the rest a regular expression (`/.*`, also `/.*/`),
  // matched anywhere in the name as Go's regexp.MatchString does.
  if (match.startsWith('/')) return regexOf(match).test(table);
  return match === table;
}

const regexCache = new Map<string, RegExp>();
function regexOf(match: string): RegExp {
  let re = regexCache.get(match);
  if (!re) {
    const body = match.length > 1 && match.endsWith('/') ? match.slice(1, -1) : match.slice(1);
    re = new RegExp(body);
    if (regexCache.size < 1000) regexCache.set(match, re);
  }
  return re;
}

/** How one table's rows are filtered and projected; compiled once per table map. */
export interface TablePlan {
  readonly table: string;
  /** Source column index of each output column. */
  readonly columnIndexes: readonly number[];
  readonly columnNames: readonly string[];
  /** Keeps a row (full image) or not; undefined keeps every row. */
  readonly keep: ((row: readonly (RowValue | undefined)[]) => boolean) | undefined;
  /**
   * `keep` over many rows at once (rows[from…to)), answering in `out` (1 keep, 0 drop): one vindex
   * call for them all, which for `hash` is one cipher call instead of one per row. The copy phase
   * filters its SELECT rows this way. Undefined exactly when `keep` is.
   */
  readonly keepMany: ((rows: readonly (readonly (RowValue | undefined)[])[], from: number, to: number, out: Uint8Array) => void) | undefined;
  /** Source column index `keep` reads (the key-range column), if any. */
  readonly keyColumnIndex: number | undefined;
  /**
   * `keepMany` over rows as MariaDB's text protocol sends them (each row's payload, not decoded),
   * for a key column described by `column`: only the key column's cell is read, so a copy decodes
   * just the rows it keeps. Same answers as `keepMany` over the decoded rows. Undefined exactly
   * when `keep` is.
   */
  readonly keepText: ((column: ValueColumn) => TextRowsKeep) | undefined;
  /** The key-range rule's vindex and range (a shared copy scan tests many ranges with one vindex). */
  readonly keyRange?: { readonly vindex: FunctionalVindex; readonly range: KeyRange };
}

/** Answers in `out` (1 keep, 0 drop) for the text-protocol rows payloads[0…n). */
export type TextRowsKeep = (payloads: readonly Buffer[], n: number, out: Uint8Array) => void;

/** TextRowsKeep for several key ranges: `outs[r]` answers for range r. */
export type TextRangesKeep = (payloads: readonly Buffer[], n: number, outs: readonly Uint8Array[]) => void;

/**
 * Computes keyspace ids for the key-range rule. A small seam over src/vindexes so the streamer
 * takes the project's vindex registry, not a copy of any hash.
 */
export interface KeyspaceIdSource {
  vindex(type: string): FunctionalVindex;
  /** The table's primary vindex and its column, from the VSchema. */
  primaryVindex(table: string): { readonly vindex: FunctionalVindex; readonly column: string } | undefined;
}

function asUniqueFunctional(v: Vindex, what: string): FunctionalVindex {
  if (v.kind !== 'functional' || !v.unique) {
    throw new TesseraError(ER.WRONG_ARGUMENTS, `${what}: vindex ${v.name} (${v.type}) cannot filter rows by key range: it must be a unique functional vindex`);
  }
  return v;
}

/** The vindex registry, and the VSchema's primary vindexes when given. */
export function keyspaceIdSource(vschema?: KeyspaceVSchema): KeyspaceIdSource {
  const byType = new Map<string, FunctionalVindex>();
  const named = vschema ? instantiateVindexes(vschema) : new Map<string, Vindex>();
  return {
    vindex(type) {
      let v = byType.get(type);
      if (v === undefined) {
        v = asUniqueFunctional(createVindex(type, type, {}), `in_keyrange vindex '${type}'`);
        byType.set(type, v);
      }
      return v;
    },
    primaryVindex(table) {
      const t = vschema?.tables[table];
      const cv = t?.columnVindexes[0];
      if (!cv) return undefined;
      const v = named.get(cv.name);
      if (!v) return undefined;
      if (cv.columns.length !== 1) throw new TesseraError(ER.NOT_SUPPORTED_YET, `table ${table}: key-range filtering by a multi-column primary vindex (${cv.name}) is not supported`);
      return { vindex: asUniqueFunctional(v, `table ${table}`), column: cv.columns[0] };
    },
  };
}

function keyRangeOf(text: string, rule: string): KeyRange {
  try {
    return parseShardName(text);
  } catch (err) {
    throw new TesseraError(ER.WRONG_ARGUMENTS, `filter '${rule}': '${text}' is not a key range (${(err as Error).message})`, { cause: err });
  }
}

type KeepFns = Pick<TablePlan, 'keep' | 'keepMany' | 'keepText' | 'keyRange'>;

/** Column types whose text is a decimal integer (what `hash` and `numeric` mostly shard by). */
const INTEGER_TYPES = new Set<number>([TYPE.TINY, TYPE.SHORT, TYPE.INT24, TYPE.LONG, TYPE.LONGLONG, TYPE.YEAR]);

/**
 * Where column `col`'s cell starts in a text-protocol row, and its length (-1: NULL): each cell
 * before it is stepped over by its length prefix.
 */
function textCell(p: Buffer, col: number, at: Int32Array): void {
  const malformed = (why: string) => new TesseraError(ER.NET_READ_ERROR, `MariaDB sent a malformed text row (${p.length} bytes): ${why}; the copy stops and the stream retries it`);
  let pos = 0;
  for (let i = 0; ; i++) {
    if (pos >= p.length) throw malformed(`it has no cell ${i + 1}`);
    const b = p[pos];
    const prefix = b === 0xfc ? 3 : b === 0xfd ? 4 : b === 0xfe ? 9 : 1;
    if (pos + prefix > p.length) throw malformed(`it ends inside the length of cell ${i + 1}`);
    let len: number;
    if (b === 0xfb) {
      pos++;
      len = -1;
    } else if (b < 0xfb) {
      len = b;
      pos++;
    } else if (b === 0xfc) {
      len = p[pos + 1] | (p[pos + 2] << 8);
      pos += 3;
    } else if (b === 0xfd) {
      len = p[pos + 1] | (p[pos + 2] << 8) | (p[pos + 3] << 16);
      pos += 4;
    } else {
      len = Number(p.readBigUInt64LE(pos + 1));
      pos += 9;
    }
    if (pos + Math.max(len, 0) > p.length) throw malformed(`it ends inside cell ${i + 1}`);
    if (i === col) {
      at[0] = pos;
      at[1] = len;
      return;
    }
    if (len > 0) pos += len;
  }
}

/**
 * Is the keyspace id bytes[off…off+len) in the range? keyRangeContains without a view per id:
 * bounds and id compare as zero-padded fractions.
 */
function containsAt(range: KeyRange, bytes: Uint8Array, off: number, len: number): boolean {
  const cmp = (bound: Uint8Array): number => {
    const n = Math.max(len, bound.length);
    for (let i = 0; i < n; i++) {
      const x = i < len ? bytes[off + i] : 0;
      const y = i < bound.length ? bound[i] : 0;
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  };
  if (range.start.length > 0 && cmp(range.start) < 0) return false;
  return range.end.length === 0 || cmp(range.end) < 0;
}

const TWO32 = 2 ** 32;

/**
 * keepText for one key column. `hash` and `numeric` over an integer column read its digits
 * straight into the 8-byte blocks they map (one cipher call for the whole group, for `hash`); any
 * other vindex or column gets the key cell decoded exactly as a whole row's decoding would decode
 * it, then the vindex's own map.
 */
function textKeepOf(vindex: FunctionalVindex, colIndex: number, range: KeyRange, column: ValueColumn): TextRowsKeep {
  const route = textRangesKeep(vindex, colIndex, [range], column);
  const outs: Uint8Array[] = [new Uint8Array(0)];
  return (payloads, n, out) => {
    outs[0] = out;
    route(payloads, n, outs);
  };
}

/**
 * keepText for several key ranges at once (the subscribers of one shared copy scan): each row's
 * keyspace id is computed once, then tested against every range; `outs[r][i]` answers for range r
 * and row i. One range is textKeepOf.
 */
export function textRangesKeep(vindex: FunctionalVindex, colIndex: number, ranges: readonly KeyRange[], column: ValueColumn): TextRangesKeep {
  const at = new Int32Array(2);
  const values: VindexValue[] = [];
  const where: number[] = [];
  const cellValue = (p: Buffer): RowValue => (at[1] < 0 ? null : textValue(column, p.subarray(at[0], at[0] + at[1])));
  if (!INTEGER_TYPES.has(column.type) || (vindex.type !== 'hash' && vindex.type !== 'numeric')) {
    return (payloads, n, outs) => {
      values.length = 0;
      where.length = 0;
      for (let i = 0; i < n; i++) {
        for (const out of outs) out[i] = 0;
        textCell(payloads[i], colIndex, at);
        if (at[1] < 0) continue;
        values.push(cellValue(payloads[i]) as VindexValue);
        where.push(i);
      }
      if (values.length === 0) return;
      const dests = vindex.map(values);
      for (let k = 0; k < dests.length; k++) {
        const d = dests[k];
        if (d.kind !== 'keyspaceId') continue;
        for (let r = 0; r < ranges.length; r++) if (keyRangeContains(ranges[r], d.id)) outs[r][where[k]] = 1;
      }
    };
  }
  const hash = vindex.type === 'hash';
  let blocks = new Uint8Array(0);
  let view = new DataView(blocks.buffer);
  let has = new Uint8Array(0);
  return (payloads, n, outs) => {
    if (blocks.length < n * 8) {
      blocks = new Uint8Array(n * 8);
      view = new DataView(blocks.buffer);
      has = new Uint8Array(n);
    }
    for (let i = 0; i < n; i++) {
      const p = payloads[i];
      textCell(p, colIndex, at);
      has[i] = 0;
      if (at[1] < 0) continue;
      const start = at[0];
      const len = at[1];
      let v = 0;
      let digits = len > 0 && len <= 15;
      for (let k = 0; digits && k < len; k++) {
        const c = p[start + k] - 0x30;
        if (c < 0 || c > 9) digits = false;
        else v = v * 10 + c;
      }
      if (digits) {
        // Below 2^50: exact in a double, split into the block's two big-endian halves.
        const hi = Math.floor(v / TWO32);
        view.setUint32(i * 8, hi, false);
        view.setUint32(i * 8 + 4, v - hi * TWO32, false);
      } else {
        // Signs, 16 digits and more: the decoded value, as keepMany would see it.
        const u = toUint64(cellValue(p) as VindexValue);
        if (u === undefined) continue;
        view.setBigUint64(i * 8, u, false);
      }
      has[i] = 1;
    }
    const ids = hash ? vhashBlocks(blocks.subarray(0, n * 8)) : blocks;
    for (let r = 0; r < ranges.length; r++) {
      const out = outs[r];
      const range = ranges[r];
      for (let i = 0; i < n; i++) out[i] = has[i] === 1 && containsAt(range, ids, i * 8, 8) ? 1 : 0;
    }
  };
}

function keyRangePredicate(vindex: FunctionalVindex, colIndex: number, range: KeyRange): KeepFns {
  const keep = (row: readonly (RowValue | undefined)[]): boolean => {
    const v = row[colIndex];
    // A row without the column in its image, or NULL, has no keyspace id: it belongs nowhere.
    if (v === undefined || v === null) return false;
    const id = vindex.keyspaceId(v);
    return id !== undefined && keyRangeContains(range, id);
  };
  const values: RowValue[] = [];
  const at: number[] = [];
  const keepMany = (rows: readonly (readonly (RowValue | undefined)[])[], from: number, to: number, out: Uint8Array): void => {
    values.length = 0;
    at.length = 0;
    for (let i = from; i < to; i++) {
      const v = rows[i][colIndex];
      out[i - from] = 0;
      if (v === undefined || v === null) continue;
      values.push(v);
      at.push(i - from);
    }
    if (values.length === 0) return;
    // map() gives the same keyspace id keyspaceId() does, a whole batch per call.
    const dests = vindex.map(values as VindexValue[]);
    for (let k = 0; k < dests.length; k++) {
      const d = dests[k];
      if (d.kind === 'keyspaceId' && keyRangeContains(range, d.id)) out[at[k]] = 1;
    }
  };
  return { keep, keepMany, keepText: (column) => textKeepOf(vindex, colIndex, range, column), keyRange: { vindex, range } };
}

/**
 * The plan for a table of a binlog TableMap, or undefined if no rule matches it. Throws a
 * TesseraError naming the rule for unknown columns or a key-range rule with no primary vindex.
 */
export function planTable(filter: Filter, table: TableMap, ids: KeyspaceIdSource): TablePlan | undefined {
  const why = table.columns[0]?.name === undefined ? ' (the binlog has no column names: set binlog_row_metadata=FULL on the source)' : '';
  return planColumns(filter, table.table, table.columnNames(), ids, why);
}

/**
 * The plan for a table given its column names in table order: the same rules for binlog rows
 * (planTable) and for rows a copy reads with SELECT, so the copy filters exactly as replication
 * does. `unknownColumnHint` is appended to the error for a column the rule names but `names` lacks.
 */
export function planColumns(filter: Filter, table: string, names: readonly string[], ids: KeyspaceIdSource, unknownColumnHint = ''): TablePlan | undefined {
  const colIndex = (name: string, rule: string): number => {
    const i = names.findIndex((n) => n.toLowerCase() === name.toLowerCase());
    if (i < 0) throw new TesseraError(ER.BAD_FIELD, `filter '${rule}': table ${table} has no column ${name}${unknownColumnHint}`);
    return i;
  };
  const all = names.map((_, i) => i);
  for (const rule of filter.rules) {
    if (!ruleMatches(rule.match, table)) continue;
    const f = rule.filter.trim();
    if (f === '') return { table, columnIndexes: all, columnNames: names, keep: undefined, keepMany: undefined, keepText: undefined, keyColumnIndex: undefined };
    if (!/^select\b/i.test(f)) {
      const range = keyRangeOf(f, f);
      const pv = ids.primaryVindex(table);
      if (!pv) throw new TesseraError(ER.WRONG_ARGUMENTS, `filter '${f}' for table ${table}: the VSchema gives it no primary vindex`);
      const k = colIndex(pv.column, f);
      return { table, columnIndexes: all, columnNames: names, ...keyRangePredicate(pv.vindex, k, range), keyColumnIndex: k };
    }
    const sel = parseSelectFilter(f);
    const columnIndexes = sel.columns === '*' ? all : sel.columns.map((c) => colIndex(c.name, f));
    const columnNames = sel.columns === '*' ? names : sel.columns.map((c) => c.as);
    let keep: KeepFns = { keep: undefined, keepMany: undefined, keepText: undefined };
    let keyColumnIndex: number | undefined;
    if (sel.keyRange) {
      const range = keyRangeOf(sel.keyRange.range, f);
      if (sel.keyRange.column !== undefined && sel.keyRange.vindexType !== undefined) {
        keyColumnIndex = colIndex(sel.keyRange.column, f);
        keep = keyRangePredicate(ids.vindex(sel.keyRange.vindexType), keyColumnIndex, range);
      } else {
        const pv = ids.primaryVindex(table);
        if (!pv) throw new TesseraError(ER.WRONG_ARGUMENTS, `filter '${f}': the VSchema gives table ${table} no primary vindex for in_keyrange('${sel.keyRange.range}')`);
        keyColumnIndex = colIndex(pv.column, f);
        keep = keyRangePredicate(pv.vindex, keyColumnIndex, range);
      }
    }
    return { table, columnIndexes, columnNames, ...keep, keyColumnIndex };
  }
  return undefined;
}
