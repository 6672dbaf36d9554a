// DDL: CREATE/DROP/TRUNCATE/RENAME TABLE, CREATE/DROP DATABASE, CREATE/DROP INDEX, CREATE/ALTER/DROP
// VIEW (ALTER TABLE and Vitess's ALTER VSCHEMA: ddl-alter.ts). Parsed well enough to route (table
// names), to reason about (columns, keys) and to re-emit faithfully.

import type {
  ColumnDef, CreateView, Expr, ForeignKeyReference, IndexColumn, IndexDef, IndexOption, RefAction, Statement, TableConstraint, TableName, TableOption,
} from './ast.js';
import { K, RESERVED } from './keywords.js';
import { T } from './lexer.js';
import type { Parser } from './parser.js';
import { isQueryStart, parseDataType, parseExpr, parseUnary } from './expr.js';
import { parseQuery } from './select.js';
import { parseCreateSequence, parseDropOrAlterSequence, sequenceAhead } from './sequence-ddl.js';
import { parseCreateStored, parseDropStored, storedProgramAhead } from './stored.js';

export function parseCreate(p: Parser): Statement {
  const start = p.start[p.pos]!;
  p.pos++;
  const orReplace = p.isKw(K.OR) && p.peekKw(1) === K.REPLACE;
  if (orReplace) p.pos += 2;
  if (storedProgramAhead(p)) return parseCreateStored(p, start, orReplace);
  if (sequenceAhead(p)) return parseCreateSequence(p, start);
  const temporary = p.eatKw(K.TEMPORARY);
  const w = p.kwd();
  if (w === K.TABLE) return parseCreateTable(p, start, temporary, orReplace);
  if (temporary) p.fail();
  if ((w === K.DATABASE || w === K.SCHEMA) && !orReplace) {
    p.pos++;
    const ifNotExists = ifNotExistsClause(p);
    const name = p.ident();
    return { kind: 'CreateDatabase', ifNotExists, name, options: parseTableOptions(p), start, end: p.prevEnd() };
  }
  if ((w === K.UNIQUE || w === K.FULLTEXT || w === K.SPATIAL || w === K.INDEX) && !orReplace) {
    p.pos++;
    const type = w === K.UNIQUE ? 'UNIQUE' : w === K.FULLTEXT ? 'FULLTEXT' : w === K.SPATIAL ? 'SPATIAL' : 'INDEX';
    if (type !== 'INDEX') p.expectKw(K.INDEX);
    const ifNotExists = ifNotExistsClause(p);
    const name = p.ident();
    const using = indexUsing(p);
    p.expectKw(K.ON);
    const table = p.tableName();
    const columns = indexColumns(p);
    const { using: using2, options } = indexOptions(p);
    return {
      kind: 'CreateIndex', type, ifNotExists, name, table, using: using ?? using2, columns, options, start,
      end: p.prevEnd(),
    };
  }
  return parseView(p, start, false, orReplace);
}

export function ifNotExistsClause(p: Parser): boolean {
  if (!p.isKw(K.IF)) return false;
  p.pos++;
  p.expectKw(K.NOT);
  p.expectKw(K.EXISTS);
  return true;
}

export function ifExistsClause(p: Parser): boolean {
  if (!p.isKw(K.IF)) return false;
  p.pos++;
  p.expectKw(K.EXISTS);
  return true;
}

export function parseView(p: Parser, start: number, alter: boolean, orReplace: boolean): CreateView {
  let algorithm: CreateView['algorithm'] = null;
  if (p.eatKw(K.ALGORITHM)) {
    p.expect(T.EQ);
    const a = p.upperText();
    if (a !== 'UNDEFINED' && a !== 'MERGE' && a !== 'TEMPTABLE') p.fail();
    algorithm = a;
    p.pos++;
  }
  let definer: string | null = null;
  if (p.eatKw(K.DEFINER)) {
    p.expect(T.EQ);
    const from = p.start[p.pos]!;
    if (p.isKw(K.CURRENT_USER)) {
      p.pos++;
      if (p.eat(T.LPAREN)) p.expect(T.RPAREN);
    } else {
      if (!p.isString() && p.k() !== T.IDENT && p.k() !== T.QIDENT) p.fail();
      p.pos++;
      if (p.k() === T.USERVAR) p.pos++;
    }
    definer = p.sql.slice(from, p.prevEnd());
  }
  let security: CreateView['security'] = null;
  if (p.eatKw(K.SQL)) {
    p.expectKw(K.SECURITY);
    if (p.eatKw(K.DEFINER)) security = 'DEFINER';
    else {
      p.expectKw(K.INVOKER);
      security = 'INVOKER';
    }
  }
  p.expectKw(K.VIEW);
  const name = p.tableName();
  const columns = p.k() === T.LPAREN ? p.identList() : null;
  p.expectKw(K.AS);
  const query = parseQuery(p);
  let checkOption: CreateView['checkOption'] = null;
  if (p.eatKw(K.WITH)) {
    checkOption = p.eatKw(K.CASCADED) ? 'CASCADED' : p.eatKw(K.LOCAL) ? 'LOCAL' : 'CHECK';
    p.expectKw(K.CHECK);
    p.expectKw(K.OPTION);
  }
  return { kind: 'CreateView', alter, orReplace, algorithm, definer, security, name, columns, query, checkOption, start, end: p.prevEnd() };
}

function parseCreateTable(p: Parser, start: number, temporary: boolean, orReplace: boolean): Statement {
  p.expectKw(K.TABLE);
  const ifNotExists = ifNotExistsClause(p);
  const table = p.tableName();
  if (p.eatKw(K.LIKE)) {
    const like = p.tableName();
    return {
      kind: 'CreateTable', temporary, orReplace, ifNotExists, table, columns: [], constraints: [], options: [],
      partitionText: null, like, select: null, start, end: p.prevEnd(),
    };
  }
  const columns: ColumnDef[] = [];
  const constraints: TableConstraint[] = [];
  if (p.k() === T.LPAREN && !isQueryStart(p, 1)) {
    p.pos++;
    do {
      const c = parseConstraint(p);
      if (c) constraints.push(c);
      else columns.push(parseColumnDef(p));
    } while (p.eat(T.COMMA));
    p.expect(T.RPAREN);
  }
  const options = parseTableOptions(p);
  const partitionText = parsePartitionText(p);
  let select = null;
  let duplicates: 'IGNORE' | 'REPLACE' | null = null;
  if (partitionText === null) {
    if ((p.isKw(K.IGNORE) || p.isKw(K.REPLACE)) && (p.peekKw(1) === K.AS || isQueryStart(p, 1))) {
      duplicates = p.isKw(K.IGNORE) ? 'IGNORE' : 'REPLACE';
      p.pos++;
    }
    p.eatKw(K.AS);
    if (isQueryStart(p, 0)) select = parseQuery(p);
    else if (duplicates !== null) p.fail();
  }
  // No column list is MariaDB's for engines that discover their columns (CONNECT, FEDERATED,
  // OQGRAPH, Spider: `CREATE TABLE t ENGINE=CONNECT TABLE_TYPE=ODBC …`); some definition is still needed.
  if (columns.length === 0 && constraints.length === 0 && select === null && options.length === 0 && partitionText === null) p.fail();
  return {
    kind: 'CreateTable', temporary, orReplace, ifNotExists, table, columns, constraints, options, partitionText,
    like: null, select, ...(duplicates !== null ? { duplicates } : {}), start, end: p.prevEnd(),
  };
}

/** PARTITION BY … to the end of the statement, kept as text. */
export function parsePartitionText(p: Parser): string | null {
  if (!p.isKw(K.PARTITION) || p.peekKw(1) !== K.BY) return null;
  const from = p.start[p.pos]!;
  while (!p.atEnd()) p.pos++;
  return p.sql.slice(from, p.prevEnd());
}

export function parseConstraint(p: Parser, flag?: { ifNotExists: boolean }): TableConstraint | null {
  if (p.isWord('PERIOD') && p.peekKw(1) === K.FOR) {
    // PERIOD FOR SYSTEM_TIME (s, e) / PERIOD FOR p (s, e)
    const from = p.start[p.pos]!;
    p.pos += 2;
    p.identAny();
    p.identList();
    return { kind: 'Text', constraintName: null, text: p.sql.slice(from, p.prevEnd()) };
  }
  let constraintName: string | null = null;
  if (p.isKw(K.CONSTRAINT)) {
    p.pos++;
    // ALTER TABLE … ADD CONSTRAINT IF NOT EXISTS name CHECK (…)
    if (flag && p.isKw(K.IF)) {
      flag.ifNotExists = ifNotExistsClause(p);
      if (!p.isIdent() || p.peekKw(1) !== K.CHECK) p.fail();
    }
    if (p.isIdent()) constraintName = p.ident();
  }
  const w = p.kwd();
  if (w === K.CHECK) {
    p.pos++;
    p.expect(T.LPAREN);
    const expr = parseExpr(p);
    p.expect(T.RPAREN);
    return { kind: 'Check', constraintName, expr };
  }
  if (w === K.FOREIGN) {
    p.pos++;
    p.expectKw(K.KEY);
    if (flag) flag.ifNotExists = ifNotExistsClause(p);
    const name = p.isIdent() ? p.ident() : null;
    const columns = p.identList();
    return { kind: 'ForeignKey', constraintName, name, columns, reference: parseReference(p) };
  }
  let type: IndexDef['type'];
  if (w === K.PRIMARY) {
    p.pos++;
    p.expectKw(K.KEY);
    type = 'PRIMARY';
  } else if (w === K.UNIQUE) {
    p.pos++;
    if (!p.eatKw(K.INDEX)) p.eatKw(K.KEY);
    type = 'UNIQUE';
  } else if (w === K.FULLTEXT || w === K.SPATIAL) {
    p.pos++;
    if (!p.eatKw(K.INDEX)) p.eatKw(K.KEY);
    type = w === K.FULLTEXT ? 'FULLTEXT' : 'SPATIAL';
  } else if ((w === K.INDEX || w === K.KEY) && constraintName === null) {
    p.pos++;
    type = 'INDEX';
  } else {
    if (constraintName !== null || p.kwd() === K.CONSTRAINT) p.fail();
    return null;
  }
  if (flag) flag.ifNotExists = ifNotExistsClause(p);
  const name = p.isIdent() && !p.isKw(K.USING) ? p.ident() : null;
  const using = indexUsing(p);
  const columns = indexColumns(p);
  const opts = indexOptions(p);
  return { kind: 'Index', type, constraintName, name, using: using ?? opts.using, columns, options: opts.options };
}

function indexUsing(p: Parser): 'BTREE' | 'HASH' | null {
  if (!p.eatKw(K.USING)) return null;
  if (p.eatKw(K.BTREE)) return 'BTREE';
  p.expectKw(K.HASH);
  return 'HASH';
}

function indexColumns(p: Parser): IndexColumn[] {
  p.expect(T.LPAREN);
  const out: IndexColumn[] = [];
  do {
    const name = p.ident();
    let length: string | null = null;
    if (p.eat(T.LPAREN)) {
      if (p.k() !== T.INT) p.fail();
      length = p.text();
      p.pos++;
      p.expect(T.RPAREN);
    }
    if (length === null && p.isWord('WITHOUT') && p.isWord2(1, 'OVERLAPS')) {
      // PRIMARY KEY (id, p WITHOUT OVERLAPS): the period, always the last part.
      p.pos += 2;
      out.push({ name, length, direction: null, withoutOverlaps: true });
      if (p.k() !== T.RPAREN) p.fail();
      break;
    }
    const direction = p.eatKw(K.ASC) ? 'ASC' : p.eatKw(K.DESC) ? 'DESC' : null;
    out.push({ name, length, direction });
  } while (p.eat(T.COMMA));
  p.expect(T.RPAREN);
  return out;
}

function indexOptions(p: Parser): { using: 'BTREE' | 'HASH' | null; options: IndexOption[] } {
  let using: 'BTREE' | 'HASH' | null = null;
  const options: IndexOption[] = [];
  for (;;) {
    const w = p.kwd();
    if (w === K.USING) using = indexUsing(p);
    else if (w === K.COMMENT) {
      p.pos++;
      options.push({ name: 'COMMENT', value: p.stringToken() });
    } else if (w === K.KEY_BLOCK_SIZE) {
      p.pos++;
      p.eat(T.EQ);
      if (p.k() !== T.INT) p.fail();
      options.push({ name: 'KEY_BLOCK_SIZE', value: p.text() });
      p.pos++;
    } else if (w === K.WITH && p.peekKw(1) === K.PARSER) {
      p.pos += 2;
      options.push({ name: 'WITH PARSER', value: p.ident() });
    } else if (w === K.INVISIBLE) {
      p.pos++;
      options.push({ name: 'INVISIBLE', value: null });
    } else if (p.isWord('VISIBLE')) {
      p.pos++;
      options.push({ name: 'VISIBLE', value: null });
    } else if (p.isWord('IGNORED')) {
      // MariaDB's ignorable indexes: the optimizer does not use an IGNORED one.
      p.pos++;
      options.push({ name: 'IGNORED', value: null });
    } else if (w === K.NOT && p.isWord2(1, 'IGNORED')) {
      p.pos += 2;
      options.push({ name: 'NOT IGNORED', value: null });
    } else return { using, options };
  }
}

function refAction(p: Parser): RefAction {
  if (p.eatKw(K.RESTRICT)) return 'RESTRICT';
  if (p.eatKw(K.CASCADE)) return 'CASCADE';
  if (p.eatKw(K.SET)) {
    if (p.eatKw(K.NULL)) return 'SET NULL';
    p.expectKw(K.DEFAULT);
    return 'SET DEFAULT';
  }
  p.expectKw(K.NO);
  p.expectKw(K.ACTION);
  return 'NO ACTION';
}

function parseReference(p: Parser): ForeignKeyReference {
  p.expectKw(K.REFERENCES);
  const table = p.tableName();
  const columns = p.identList();
  let onDelete: RefAction | null = null;
  let onUpdate: RefAction | null = null;
  while (p.isKw(K.ON)) {
    p.pos++;
    if (p.eatKw(K.DELETE)) onDelete = refAction(p);
    else {
      p.expectKw(K.UPDATE);
      onUpdate = refAction(p);
    }
  }
  return { table, columns, onDelete, onUpdate };
}

export function parseColumnDef(p: Parser): ColumnDef {
  const name = p.ident();
  let type = parseDataType(p);
  let nullable: boolean | null = null;
  let def: Expr | null = null;
  let onUpdate: Expr | null = null;
  let autoIncrement = false;
  let key: ColumnDef['key'] = null;
  let comment: string | null = null;
  let generated: ColumnDef['generated'] = null;
  let invisible = false;
  let check: Expr | null = null;
  let references: ForeignKeyReference | null = null;
  const attributes: string[] = [];
  for (;;) {
    const w = p.kwd();
    if (w === K.NOT) {
      p.pos++;
      p.expectKw(K.NULL);
      nullable = false;
    } else if (w === K.NULL) {
      p.pos++;
      nullable = true;
    } else if (w === K.DEFAULT) {
      p.pos++;
      def = parseUnary(p);
    } else if (w === K.ON) {
      p.pos++;
      p.expectKw(K.UPDATE);
      onUpdate = parseUnary(p);
    } else if (w === K.AUTO_INCREMENT) {
      p.pos++;
      autoIncrement = true;
    } else if (w === K.PRIMARY) {
      p.pos++;
      p.expectKw(K.KEY);
      key = 'PRIMARY KEY';
    } else if (w === K.KEY) {
      p.pos++;
      key = 'PRIMARY KEY';
    } else if (w === K.UNIQUE) {
      p.pos++;
      p.eatKw(K.KEY);
      key = 'UNIQUE KEY';
    } else if (w === K.COMMENT) {
      p.pos++;
      comment = p.stringToken();
    } else if (w === K.COLLATE) {
      p.pos++;
      type = { ...type, collate: p.identOrString() };
    } else if (w === K.CHARSET || (w === K.CHARACTER && p.peekKw(1) === K.SET)) {
      p.pos += w === K.CHARSET ? 1 : 2;
      type = { ...type, charset: p.identOrString() };
    } else if ((w === K.GENERATED || w === K.AS) && p.peekKw(w === K.GENERATED ? 3 : 1) === K.ROW) {
      // System versioning's row start / row end column.
      p.pos += w === K.GENERATED ? 4 : 2;
      if (!p.isWord('START') && !p.isWord('END')) p.fail();
      attributes.push('AS ROW ' + p.upperText());
      p.pos++;
    } else if ((w === K.WITH || p.isWord('WITHOUT')) && p.isWord2(1, 'SYSTEM') && p.isWord2(2, 'VERSIONING')) {
      attributes.push(p.upperText() + ' SYSTEM VERSIONING');
      p.pos += 3;
    } else if (p.k() === T.IDENT && p.peekKind(1) === T.EQ && RESERVED[w] !== 1) {
      // An engine-defined attribute (CONNECT's `FLAG=1`, `JPATH='$.a'`).
      const name = p.upperText();
      p.pos += 2;
      const k = p.k();
      let value: string;
      if (k === T.STRING || k === T.DSTRING) value = quoteString(p.stringToken());
      else if (k === T.INT || k === T.DECIMAL || k === T.IDENT) {
        value = p.text();
        p.pos++;
      } else return p.fail();
      attributes.push(name + '=' + value);
    } else if (w === K.GENERATED || w === K.AS) {
      if (w === K.GENERATED) {
        p.pos++;
        p.expectKw(K.ALWAYS);
      }
      p.expectKw(K.AS);
      p.expect(T.LPAREN);
      const expr = parseExpr(p);
      p.expect(T.RPAREN);
      let stored = false;
      if (p.eatKw(K.STORED) || p.isWord('PERSISTENT')) {
        if (p.isWord('PERSISTENT')) p.pos++;
        stored = true;
      } else p.eatKw(K.VIRTUAL);
      generated = { expr, stored };
    } else if (w === K.INVISIBLE) {
      p.pos++;
      invisible = true;
    } else if (w === K.CHECK) {
      p.pos++;
      p.expect(T.LPAREN);
      check = parseExpr(p);
      p.expect(T.RPAREN);
    } else if (w === K.REFERENCES) {
      references = parseReference(p);
    } else break;
  }
  return { name, type, nullable, default: def, onUpdate, autoIncrement, key, comment, generated, invisible, check, references, ...(attributes.length ? { attributes } : {}) };
}

const TABLE_OPTION_WORDS = new Set([
  'ENGINE', 'AUTO_INCREMENT', 'CHARSET', 'COLLATE', 'COMMENT', 'ROW_FORMAT', 'KEY_BLOCK_SIZE', 'AVG_ROW_LENGTH',
  'MAX_ROWS', 'MIN_ROWS', 'PACK_KEYS', 'CHECKSUM', 'STATS_PERSISTENT', 'STATS_AUTO_RECALC', 'STATS_SAMPLE_PAGES',
  'COMPRESSION', 'ENCRYPTION', 'INSERT_METHOD', 'TABLESPACE', 'PAGE_CHECKSUM', 'TRANSACTIONAL', 'PASSWORD',
  'DELAY_KEY_WRITE', 'UNION', 'SEQUENCE', 'PAGE_COMPRESSED', 'PAGE_COMPRESSION_LEVEL', 'ENCRYPTION_KEY_ID',
]);

/** Table (or database) options: `ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='x'`. */
export function parseTableOptions(p: Parser, commas = true): TableOption[] {
  const out: TableOption[] = [];
  for (;;) {
    if (p.k() !== T.IDENT) return out;
    let name = p.upperText();
    const save = p.pos;
    p.pos++;
    if (name === 'DEFAULT') {
      if (p.k() !== T.IDENT) {
        p.pos = save;
        return out;
      }
      name = p.upperText();
      p.pos++;
      if (name === 'CHARACTER') {
        p.expectKw(K.SET);
        name = 'CHARSET';
      }
      if (name !== 'CHARSET' && name !== 'COLLATE') p.fail(p.pos - 1);
      name = 'DEFAULT ' + name;
    } else if (name === 'CHARACTER') {
      p.expectKw(K.SET);
      name = 'CHARSET';
    } else if (name === 'DATA' || name === 'INDEX') {
      if (!p.eatKw(K.DIRECTORY)) {
        p.pos = save;
        return out;
      }
      name += ' DIRECTORY';
    } else if (name === 'WITH' && p.isWord('SYSTEM') && p.isWord2(1, 'VERSIONING')) {
      p.pos += 2;
      out.push({ name: 'WITH SYSTEM VERSIONING', value: '' });
      continue;
    } else if (!TABLE_OPTION_WORDS.has(name) && !(p.k() === T.EQ && (p.kind[save] === T.IDENT))) {
      // Anything else but an engine-defined option (`ENCRYPTED=YES`, CONNECT's `TABLE_TYPE=CSV`).
      p.pos = save;
      return out;
    }
    p.eat(T.EQ);
    let value: string;
    const k = p.k();
    if (name === 'UNION') {
      const names = p.identList();
      value = '(' + names.map((n) => '`' + n.replaceAll('`', '``') + '`').join(', ') + ')';
    } else if (k === T.STRING || k === T.DSTRING) value = quoteString(p.stringToken());
    else if (k === T.INT || k === T.DECIMAL || k === T.IDENT || k === T.QIDENT) {
      value = k === T.QIDENT ? p.ident() : p.text();
      if (k !== T.QIDENT) p.pos++;
      else if (!/^\w+$/.test(value)) value = '`' + value.replaceAll('`', '``') + '`';
    } else return p.fail();
    out.push({ name, value });
    if (commas && p.k() === T.COMMA && p.peekKind(1) === T.IDENT) p.eat(T.COMMA);
  }
}

/** MySQL string literal text for `s` (the formatter's quoting, shared with table options). */
export function quoteString(s: string): string {
  let simple = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 39 || c === 92 || c === 0 || c === 10 || c === 13 || c === 26) {
      simple = false;
      break;
    }
  }
  if (simple) return "'" + s + "'";
  let out = "'";
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    switch (c) {
      case "'":
        out += "\\'";
        break;
      case '\\':
        out += '\\\\';
        break;
      case '\0':
        out += '\\0';
        break;
      case '\n':
        out += '\\n';
        break;
      case '\r':
        out += '\\r';
        break;
      case '\x1a':
        out += '\\Z';
        break;
      default:
        out += c;
    }
  }
  return out + "'";
}

export function parseDrop(p: Parser): Statement {
  const start = p.start[p.pos]!;
  p.pos++;
  const sequence = parseDropOrAlterSequence(p, start, 'DROP');
  if (sequence) return sequence;
  const temporary = p.eatKw(K.TEMPORARY);
  const w = p.kwd();
  if (w === K.TABLE || w === K.TABLES) {
    p.pos++;
    const ifExists = ifExistsClause(p);
    const tables = [p.tableName()];
    while (p.eat(T.COMMA)) tables.push(p.tableName());
    const cascade = p.eatKw(K.CASCADE) ? 'CASCADE' : p.eatKw(K.RESTRICT) ? 'RESTRICT' : null;
    return { kind: 'DropTable', temporary, ifExists, tables, cascade, start, end: p.prevEnd() };
  }
  if (temporary) p.fail();
  if (w === K.DATABASE || w === K.SCHEMA) {
    p.pos++;
    const ifExists = ifExistsClause(p);
    return { kind: 'DropDatabase', ifExists, name: p.ident(), start, end: p.prevEnd() };
  }
  if (w === K.INDEX) {
    p.pos++;
    const ifExists = ifExistsClause(p);
    const name = p.isKw(K.PRIMARY) ? (p.pos++, 'PRIMARY') : p.ident();
    p.expectKw(K.ON);
    return { kind: 'DropIndex', ifExists, name, table: p.tableName(), start, end: p.prevEnd() };
  }
  if (w === K.VIEW) {
    p.pos++;
    const ifExists = ifExistsClause(p);
    const names = [p.tableName()];
    while (p.eat(T.COMMA)) names.push(p.tableName());
    p.eatKw(K.CASCADE) || p.eatKw(K.RESTRICT);
    return { kind: 'DropView', ifExists, names, start, end: p.prevEnd() };
  }
  return parseDropStored(p, start) ?? p.fail();
}

export function parseTruncate(p: Parser): Statement {
  const start = p.start[p.pos]!;
  p.pos++;
  p.eatKw(K.TABLE);
  return { kind: 'TruncateTable', table: p.tableName(), start, end: p.prevEnd() };
}

export function parseRename(p: Parser): Statement {
  const start = p.start[p.pos]!;
  p.pos++;
  if (!p.eatKw(K.TABLE)) p.expectKw(K.TABLES);
  const pairs: { from: TableName; to: TableName }[] = [];
  do {
    const from = p.tableName();
    p.expectKw(K.TO);
    pairs.push({ from, to: p.tableName() });
  } while (p.eat(T.COMMA));
  return { kind: 'RenameTable', pairs, start, end: p.prevEnd() };
}
