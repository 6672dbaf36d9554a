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
// The SELECT form is parsed by a small dedicated parser for exactly this narrow grammar (the SQL
// parser in src/sql had not landed when this was written); anything else is a 1064 naming the
// rule.
import { ER, TesseraError } from '../mysql/errors.js';
import { keyRangeContains, parseShardName, type KeyRange } from '../key/index.js';
import { createVindex, type FunctionalVindex, type Vindex } from '../vindexes/index.js';
import { instantiateVindexes, type KeyspaceVSchema } from '../vschema/index.js';
import type { RowValue, TableMap } from '../mysql/binlog/index.js';

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

type Tok = { readonly kind: 'id' | 'str' | 'punct'; readonly text: string };

function tokenize(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '`') {
      let j = i + 1;
      let text = '';
      for (;;) {
        if (j >= s.length) throw parseError(s, 'unterminated quoted identifier');
        if (s[j] === '`') {
          if (s[j + 1] === '`') {
            text += '`';
            j += 2;
            continue;
          }
          break;
        }
        text += s[j++];
      }
      out.push({ kind: 'id', text });
      i = j + 1;
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      let text = '';
      for (;;) {
        if (j >= s.length) throw parseError(s, 'unterminated string');
        if (s[j] === '\\' && j + 1 < s.length) {
          text += s[j + 1];
          j += 2;
          continue;
        }
        if (s[j] === c) {
          if (s[j + 1] === c) {
            text += c;
            j += 2;
            continue;
          }
          break;
        }
        text += s[j++];
      }
      out.push({ kind: 'str', text });
      i = j + 1;
      continue;
    }
    if (/[A-Za-z0-9_$]/.test(c)) {
      let j = i;
      while (j < s.length && /[A-Za-z0-9_$]/.test(s[j])) j++;
      out.push({ kind: 'id', text: s.slice(i, j) });
      i = j;
      continue;
    }
    if ('(),*.;'.includes(c)) {
      out.push({ kind: 'punct', text: c });
      i++;
      continue;
    }
    throw parseError(s, `unexpected character '${c}'`);
  }
  return out;
}

export function parseSelectFilter(sql: string): SelectFilter {
  const t = tokenize(sql);
  let p = 0;
  const peek = (): Tok | undefined => t[p];
  const kw = (w: string): boolean => {
    const x = t[p];
    if (x && x.kind === 'id' && x.text.toLowerCase() === w) {
      p++;
      return true;
    }
    return false;
  };
  const punct = (c: string): boolean => {
    const x = t[p];
    if (x && x.kind === 'punct' && x.text === c) {
      p++;
      return true;
    }
    return false;
  };
  const ident = (what: string): string => {
    const x = t[p];
    if (!x || x.kind !== 'id') throw parseError(sql, `expected ${what}`);
    p++;
    return x.text;
  };
  const str = (what: string): string => {
    const x = t[p];
    if (!x || x.kind !== 'str') throw parseError(sql, `expected ${what} as a quoted string`);
    p++;
    return x.text;
  };
  if (!kw('select')) throw parseError(sql, 'must start with select');
  let columns: SelectFilter['columns'];
  if (punct('*')) columns = '*';
  else {
    const cols: { name: string; as: string }[] = [];
    do {
      const name = ident('a column name');
      let as = name;
      if (kw('as')) as = ident('an alias');
      else if (peek()?.kind === 'id' && peek()!.text.toLowerCase() !== 'from') as = ident('an alias');
      cols.push({ name, as });
    } while (punct(','));
    columns = cols;
  }
  if (!kw('from')) throw parseError(sql, 'expected from');
  let table = ident('a table name');
  if (punct('.')) table = ident('a table name');
  let keyRange: SelectFilter['keyRange'];
  if (kw('where')) {
    if (!kw('in_keyrange')) throw parseError(sql, 'only in_keyrange(...) is supported in where');
    if (!punct('(')) throw parseError(sql, 'expected ( after in_keyrange');
    if (peek()?.kind === 'str') {
      keyRange = { column: undefined, vindexType: undefined, range: str('a key range') };
    } else {
      const column = ident('a column name');
      if (!punct(',')) throw parseError(sql, 'expected , after the in_keyrange column');
      const vindexType = str('a vindex type');
      if (!punct(',')) throw parseError(sql, 'expected , after the vindex type');
      keyRange = { column, vindexType, range: str('a key range') };
    }
    if (!punct(')')) throw parseError(sql, 'expected ) closing in_keyrange');
  }
  punct(';');
  if (p !== t.length) throw parseError(sql, `unexpected '${t[p].text}'`);
  return { columns, table, keyRange };
}

/** Is `match` this table? `/regex/` matches names by regular expression. */
export function ruleMatches(match: string, table: string): boolean {
  if (match.length >= 2 && match.startsWith('/') && match.endsWith('/')) return new RegExp(match.slice(1, -1)).test(table);
  return match === table;
}

/** How one table's rows are filtered and projected; compiled once per table map. */
export interface TablePlan {
  readonly table: string;
  /** Source column index of each output column. */
  readonly columnIndexes: readonly number[];
  readonly columnNames: readonly string[];
  /** Keeps a row (full image) or not; undefined keeps every row. */
  readonly keep: ((row: readonly (RowValue | undefined)[]) => boolean) | undefined;
}

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

function keyRangePredicate(vindex: FunctionalVindex, colIndex: number, range: KeyRange): (row: readonly (RowValue | undefined)[]) => boolean {
  return (row) => {
    const v = row[colIndex];
    // A row without the column in its image, or NULL, has no keyspace id: it belongs nowhere.
    if (v === undefined || v === null) return false;
    const id = vindex.keyspaceId(v);
    return id !== undefined && keyRangeContains(range, id);
  };
}

/**
 * The plan for a table, or undefined if no rule matches it. Throws a TesseraError naming the rule
 * for unknown columns or a key-range rule with no primary vindex.
 */
export function planTable(filter: Filter, table: TableMap, ids: KeyspaceIdSource): TablePlan | undefined {
  const names = table.columnNames();
  const colIndex = (name: string, rule: string): number => {
    const i = names.findIndex((n) => n.toLowerCase() === name.toLowerCase());
    if (i < 0) {
      const why = table.columns[0]?.name === undefined ? ' (the binlog has no column names: set binlog_row_metadata=FULL on the source)' : '';
      throw new TesseraError(ER.BAD_FIELD, `filter '${rule}': table ${table.table} has no column ${name}${why}`);
    }
    return i;
  };
  const all = names.map((_, i) => i);
  for (const rule of filter.rules) {
    if (!ruleMatches(rule.match, table.table)) continue;
    const f = rule.filter.trim();
    if (f === '') return { table: table.table, columnIndexes: all, columnNames: names, keep: undefined };
    if (!/^select\b/i.test(f)) {
      const range = keyRangeOf(f, f);
      const pv = ids.primaryVindex(table.table);
      if (!pv) throw new TesseraError(ER.WRONG_ARGUMENTS, `filter '${f}' for table ${table.table}: the VSchema gives it no primary vindex`);
      return { table: table.table, columnIndexes: all, columnNames: names, keep: keyRangePredicate(pv.vindex, colIndex(pv.column, f), range) };
    }
    const sel = parseSelectFilter(f);
    const columnIndexes = sel.columns === '*' ? all : sel.columns.map((c) => colIndex(c.name, f));
    const columnNames = sel.columns === '*' ? names : sel.columns.map((c) => c.as);
    let keep: TablePlan['keep'];
    if (sel.keyRange) {
      const range = keyRangeOf(sel.keyRange.range, f);
      if (sel.keyRange.column !== undefined && sel.keyRange.vindexType !== undefined) {
        keep = keyRangePredicate(ids.vindex(sel.keyRange.vindexType), colIndex(sel.keyRange.column, f), range);
      } else {
        const pv = ids.primaryVindex(table.table);
        if (!pv) throw new TesseraError(ER.WRONG_ARGUMENTS, `filter '${f}': the VSchema gives table ${table.table} no primary vindex for in_keyrange('${sel.keyRange.range}')`);
        keep = keyRangePredicate(pv.vindex, colIndex(pv.column, f), range);
      }
    }
    return { table: table.table, columnIndexes, columnNames, keep };
  }
  return undefined;
}
