// Session and administrative statements: SET, USE (with Vitess targets), transactions, SHOW
// (MySQL's and Vitess's), EXPLAIN / DESCRIBE / VEXPLAIN, LOCK/UNLOCK TABLES, KILL, FLUSH, CALL,
// PREPARE / EXECUTE / DEALLOCATE.

import type {
  Begin, Completion, Expr, IsolationLevel, LockTables, SetItem, Show, ShowFilter, ShowType, Statement, TableName, UserVar,
  VarScope,
} from './ast.js';
import { K } from './keywords.js';
import { T } from './lexer.js';
import { type Parser, unquoteIdent } from './parser.js';
import { quoteString } from './ddl.js';
import { parseExpr, parseExprList, parseValueExpr, userVarName } from './expr.js';
import { parseInsert, parseDelete, parseUpdate } from './dml.js';
import { parseQuery } from './select.js';

export function parseSet(p: Parser): Statement {
  const start = p.start[p.pos]!;
  p.pos++;
  // SET [GLOBAL|SESSION] TRANSACTION …
  const w0 = p.kwd();
  const scoped = w0 === K.GLOBAL || w0 === K.SESSION;
  if (p.isKw(K.TRANSACTION) || (scoped && p.peekKw(1) === K.TRANSACTION)) {
    const scope = scoped ? (w0 === K.GLOBAL ? 'GLOBAL' : 'SESSION') : null;
    p.pos += scoped ? 2 : 1;
    let isolation: IsolationLevel | null = null;
    let access: 'READ ONLY' | 'READ WRITE' | null = null;
    do {
      if (p.eatKw(K.ISOLATION)) {
        p.expectKw(K.LEVEL);
        isolation = isolationLevel(p);
      } else {
        p.expectKw(K.READ);
        if (p.eatKw(K.ONLY)) access = 'READ ONLY';
        else {
          p.expectKw(K.WRITE);
          access = 'READ WRITE';
        }
      }
    } while (p.eat(T.COMMA));
    return { kind: 'SetTransaction', scope, isolation, access, start, end: p.prevEnd() };
  }
  const items: SetItem[] = [];
  do items.push(parseSetItem(p));
  while (p.eat(T.COMMA));
  return { kind: 'Set', items, start, end: p.prevEnd() };
}

function isolationLevel(p: Parser): IsolationLevel {
  if (p.eatKw(K.SERIALIZABLE)) return 'SERIALIZABLE';
  if (p.eatKw(K.REPEATABLE)) {
    p.expectKw(K.READ);
    return 'REPEATABLE READ';
  }
  p.expectKw(K.READ);
  if (p.eatKw(K.COMMITTED)) return 'READ COMMITTED';
  p.expectKw(K.UNCOMMITTED);
  return 'READ UNCOMMITTED';
}

const SCOPES: Record<number, VarScope> = {
  [K.GLOBAL]: 'GLOBAL', [K.SESSION]: 'SESSION', [K.LOCAL]: 'LOCAL', [K.PERSIST]: 'PERSIST', [K.PERSIST_ONLY]: 'PERSIST_ONLY',
};

function charsetName(p: Parser): string | null {
  if (p.eatKw(K.DEFAULT)) return null;
  if (p.kwd() === K.BINARY) {
    p.pos++;
    return 'binary';
  }
  return p.identOrString();
}

function setValue(p: Parser): Expr {
  const w = p.kwd();
  if ((w === K.ON || w === K.ALL || w === K.BINARY) && (p.peekKind(1) === T.COMMA || p.peekKind(1) === T.EOF || p.peekKind(1) === T.SEMI)) {
    p.pos++;
    return { kind: 'Keyword', word: w === K.ON ? 'ON' : w === K.ALL ? 'ALL' : 'BINARY' };
  }
  return parseExpr(p);
}

function parseSetItem(p: Parser): SetItem {
  const k = p.k();
  if (k === T.USERVAR) {
    const name = userVarName(p.sql, p.start[p.pos]! + 1, p.end[p.pos++]!);
    if (!p.eat(T.EQ)) p.expect(T.ASSIGN);
    return { kind: 'SetUserVar', name, value: setValue(p) };
  }
  if (k === T.SYSVAR) {
    const t = p.text();
    p.pos++;
    let name = t.slice(2);
    let scope: VarScope | null = null;
    const dot = name.indexOf('.');
    if (dot > 0) {
      const s = name.slice(0, dot).toUpperCase();
      if (s === 'GLOBAL' || s === 'SESSION' || s === 'LOCAL' || s === 'PERSIST' || s === 'PERSIST_ONLY') {
        scope = s;
        name = name.slice(dot + 1);
      }
    }
    if (name.charCodeAt(0) === 96) name = unquoteIdent(name, 0, name.length);
    if (!p.eat(T.EQ)) p.expect(T.ASSIGN);
    return { kind: 'SetSysVar', scope: scope === 'SESSION' || scope === 'LOCAL' ? 'SESSION' : scope, name, value: setValue(p) };
  }
  const w = p.kwd();
  if (w === K.NAMES) {
    p.pos++;
    const charset = charsetName(p);
    const collate = charset !== null && p.eatKw(K.COLLATE) ? p.identOrString() : null;
    return { kind: 'SetNames', charset, collate };
  }
  if (w === K.CHARSET || (w === K.CHARACTER && p.peekKw(1) === K.SET)) {
    p.pos += w === K.CHARSET ? 1 : 2;
    return { kind: 'SetCharset', charset: charsetName(p) };
  }
  let scope: VarScope | null = null;
  const sc = SCOPES[w];
  if (sc !== undefined && (p.peekKind(1) === T.IDENT || p.peekKind(1) === T.QIDENT)) {
    scope = sc === 'LOCAL' ? 'SESSION' : sc;
    p.pos++;
  }
  let name = p.identAny();
  while (p.eat(T.DOT)) name += '.' + p.identAny();
  if (!p.eat(T.EQ)) p.expect(T.ASSIGN);
  return { kind: 'SetSysVar', scope, name, value: setValue(p) };
}

/** USE ks | ks:shard | ks/shard | ks@type | ks:shard@type | @type; quoted with backticks or not. */
export function parseUse(p: Parser): Statement {
  const start = p.start[p.pos]!;
  p.pos++;
  if (p.atEnd()) p.fail();
  let target: string;
  if (p.k() === T.QIDENT) {
    target = p.ident();
  } else {
    // Vitess targets are not single tokens (`customer:-80`): take the run of adjacent tokens.
    const from = p.pos;
    while (!p.atEnd() && (p.pos === from || p.start[p.pos] === p.end[p.pos - 1])) p.pos++;
    target = p.sql.slice(p.start[from], p.end[p.pos - 1]);
  }
  const m = /^([^:/@]*)(?:[:/]([^:/@]+))?(?:@([A-Za-z]+))?$/.exec(target);
  if (m === null || (m[1] === '' && m[3] === undefined) || (m[1] === '' && m[2] !== undefined)) p.fail(p.pos - 1);
  return {
    kind: 'Use', keyspace: m[1] === '' ? null : m[1]!, shard: m[2] ?? null, tabletType: m[3] ? m[3].toLowerCase() : null,
    start, end: p.prevEnd(),
  };
}

export function parseBegin(p: Parser): Begin {
  const start = p.start[p.pos]!;
  p.pos++;
  p.eatKw(K.WORK);
  return { kind: 'Begin', characteristics: [], start, end: p.prevEnd() };
}

export function parseStart(p: Parser): Begin {
  const start = p.start[p.pos]!;
  p.pos++;
  p.expectKw(K.TRANSACTION);
  const characteristics: Begin['characteristics'][number][] = [];
  if (!p.atEnd()) {
    do {
      if (p.eatKw(K.WITH)) {
        p.expectKw(K.CONSISTENT);
        p.expectKw(K.SNAPSHOT);
        characteristics.push('WITH CONSISTENT SNAPSHOT');
      } else {
        p.expectKw(K.READ);
        if (p.eatKw(K.ONLY)) characteristics.push('READ ONLY');
        else {
          p.expectKw(K.WRITE);
          characteristics.push('READ WRITE');
        }
      }
    } while (p.eat(T.COMMA));
  }
  return { kind: 'Begin', characteristics, start, end: p.prevEnd() };
}

export function parseRollback(p: Parser): Statement {
  const start = p.start[p.pos]!;
  p.pos++;
  p.eatKw(K.WORK);
  let savepoint: string | null = null;
  if (p.eatKw(K.TO)) {
    p.eatKw(K.SAVEPOINT);
    savepoint = p.ident();
    return { kind: 'Rollback', savepoint, start, end: p.prevEnd() };
  }
  return { kind: 'Rollback', savepoint, ...parseCompletion(p), start, end: p.prevEnd() };
}

/** After COMMIT [WORK] / ROLLBACK [WORK]: [AND [NO] CHAIN] [[NO] RELEASE]. */
export function parseCompletion(p: Parser): Completion {
  const out: { chain?: boolean; release?: boolean } = {};
  if (p.isKw(K.AND)) {
    p.pos++;
    out.chain = !p.eatKw(K.NO);
    p.expectKw(K.CHAIN);
  }
  if (p.isKw(K.NO) && p.peekKw(1) === K.RELEASE) {
    p.pos += 2;
    out.release = false;
  } else if (p.eatKw(K.RELEASE)) out.release = true;
  return out;
}

export function parseSavepoint(p: Parser): Statement {
  const start = p.start[p.pos]!;
  p.pos++;
  return { kind: 'Savepoint', name: p.ident(), start, end: p.prevEnd() };
}

export function parseRelease(p: Parser): Statement {
  const start = p.start[p.pos]!;
  p.pos++;
  p.expectKw(K.SAVEPOINT);
  return { kind: 'ReleaseSavepoint', name: p.ident(), start, end: p.prevEnd() };
}

function showFilter(p: Parser, allowWhere: boolean): ShowFilter | null {
  if (p.eatKw(K.LIKE)) return { kind: 'Like', pattern: p.stringToken() };
  if (allowWhere && p.eatKw(K.WHERE)) return { kind: 'Where', expr: parseExpr(p) };
  return null;
}

function fromDb(p: Parser): string | null {
  if (p.eatKw(K.FROM) || p.eatKw(K.IN)) return p.ident();
  return null;
}

export function parseShow(p: Parser): Show {
  const start = p.start[p.pos]!;
  p.pos++;
  let full = false;
  let scope: Show['scope'] = null;
  let table: TableName | null = null;
  let db: string | null = null;
  let name: string | null = null;
  let filter: ShowFilter | null = null;
  let type: ShowType;
  if (p.eatKw(K.FULL)) full = true;
  else if (p.eatKw(K.EXTENDED)) full = p.eatKw(K.FULL) || full;
  if (p.eatKw(K.GLOBAL)) scope = 'GLOBAL';
  else if (p.eatKw(K.SESSION) || p.eatKw(K.LOCAL)) scope = 'SESSION';
  const w = p.kwd();
  const at = p.pos;
  p.pos++;
  switch (w) {
    case K.DATABASES:
    case K.SCHEMAS:
      type = 'DATABASES';
      filter = showFilter(p, true);
      break;
    case K.TABLES:
      type = 'TABLES';
      db = fromDb(p);
      filter = showFilter(p, true);
      break;
    case K.TABLE:
      p.expectKw(K.STATUS);
      type = 'TABLE STATUS';
      db = fromDb(p);
      filter = showFilter(p, true);
      break;
    case K.COLUMNS:
    case K.FIELDS:
      type = 'COLUMNS';
      if (!p.eatKw(K.FROM)) p.expectKw(K.IN);
      table = p.tableName();
      db = fromDb(p);
      filter = showFilter(p, true);
      break;
    case K.INDEX:
    case K.INDEXES:
    case K.KEYS:
      type = 'INDEX';
      if (!p.eatKw(K.FROM)) p.expectKw(K.IN);
      table = p.tableName();
      db = fromDb(p);
      filter = showFilter(p, true);
      break;
    case K.CREATE:
      if (p.eatKw(K.TABLE)) {
        type = 'CREATE TABLE';
        table = p.tableName();
      } else if (p.eatKw(K.VIEW)) {
        type = 'CREATE VIEW';
        table = p.tableName();
      } else {
        if (!p.eatKw(K.DATABASE)) p.expectKw(K.SCHEMA);
        type = 'CREATE DATABASE';
        db = p.ident();
      }
      break;
    case K.VARIABLES:
    case K.STATUS:
      type = w === K.VARIABLES ? 'VARIABLES' : 'STATUS';
      filter = showFilter(p, true);
      break;
    case K.WARNINGS:
    case K.ERRORS:
      type = w === K.WARNINGS ? 'WARNINGS' : 'ERRORS';
      break;
    case K.PROCESSLIST:
      type = 'PROCESSLIST';
      break;
    case K.STORAGE:
      p.expectKw(K.ENGINES);
      type = 'ENGINES';
      break;
    case K.ENGINES:
      type = 'ENGINES';
      break;
    case K.ENGINE:
      type = 'ENGINE';
      name = p.identAny();
      p.expectKw(K.STATUS);
      break;
    case K.CHARSET:
      type = 'CHARSET';
      filter = showFilter(p, true);
      break;
    case K.CHARACTER:
      p.expectKw(K.SET);
      type = 'CHARSET';
      filter = showFilter(p, true);
      break;
    case K.COLLATION:
      type = 'COLLATION';
      filter = showFilter(p, true);
      break;
    case K.GRANTS:
      type = 'GRANTS';
      if (p.eatKw(K.FOR)) {
        const from = p.start[p.pos]!;
        if (p.isKw(K.CURRENT_USER)) {
          p.pos++;
          if (p.eat(T.LPAREN)) p.expect(T.RPAREN);
        } else {
          if (!p.isString() && p.k() !== T.IDENT && p.k() !== T.QIDENT) p.fail();
          p.pos++;
          if (p.k() === T.USERVAR) p.pos++;
        }
        name = p.sql.slice(from, p.prevEnd());
      }
      break;
    case K.TRIGGERS:
      type = 'TRIGGERS';
      db = fromDb(p);
      filter = showFilter(p, true);
      break;
    case K.EVENTS:
      type = 'EVENTS';
      db = fromDb(p);
      filter = showFilter(p, true);
      break;
    case K.PLUGINS:
      type = 'PLUGINS';
      break;
    case K.PRIVILEGES:
      type = 'PRIVILEGES';
      break;
    case K.MASTER:
      p.expectKw(K.STATUS);
      type = 'MASTER STATUS';
      break;
    case K.BINARY:
      p.expectKw(K.LOGS);
      type = 'BINARY LOGS';
      break;
    case K.SLAVE:
    case K.REPLICA:
      p.expectKw(K.STATUS);
      type = w === K.SLAVE ? 'SLAVE STATUS' : 'REPLICA STATUS';
      break;
    case K.OPEN:
      p.expectKw(K.TABLES);
      type = 'OPEN TABLES';
      db = fromDb(p);
      filter = showFilter(p, true);
      break;
    case K.FUNCTION:
    case K.PROCEDURE:
      p.expectKw(K.STATUS);
      type = w === K.FUNCTION ? 'FUNCTION STATUS' : 'PROCEDURE STATUS';
      filter = showFilter(p, true);
      break;
    case K.KEYSPACES:
      type = 'KEYSPACES';
      filter = showFilter(p, true);
      break;
    case K.VITESS_SHARDS:
    case K.VITESS_TABLETS:
    case K.VITESS_REPLICATION_STATUS:
      type = w === K.VITESS_SHARDS ? 'VITESS_SHARDS' : w === K.VITESS_TABLETS ? 'VITESS_TABLETS' : 'VITESS_REPLICATION_STATUS';
      filter = showFilter(p, true);
      break;
    case K.VITESS_TARGET:
      type = 'VITESS_TARGET';
      break;
    case K.VITESS_MIGRATIONS:
      type = 'VITESS_MIGRATIONS';
      db = fromDb(p);
      filter = showFilter(p, true);
      break;
    case K.VSCHEMA:
      if (p.eatKw(K.TABLES)) type = 'VSCHEMA TABLES';
      else {
        p.expectKw(K.VINDEXES);
        type = 'VSCHEMA VINDEXES';
        if (p.eatKw(K.ON) || p.eatKw(K.FROM)) table = p.tableName();
      }
      break;
    default:
      if (p.kind[at] === T.IDENT && p.sql.slice(p.start[at], p.end[at]).toUpperCase() === 'VITESS_KEYSPACES') {
        type = 'KEYSPACES';
        filter = showFilter(p, true);
        break;
      }
      p.pos = at;
      if (p.isWord('COUNT') && p.peekKind(1) === T.LPAREN && p.peekKind(2) === T.STAR && p.peekKind(3) === T.RPAREN) {
        p.pos += 4;
        if (p.eatKw(K.WARNINGS)) type = 'COUNT WARNINGS';
        else {
          p.expectKw(K.ERRORS);
          type = 'COUNT ERRORS';
        }
        break;
      }
      return p.fail();
  }
  if (full && type !== 'TABLES' && type !== 'COLUMNS' && type !== 'PROCESSLIST') p.fail(at);
  if (scope !== null && type !== 'VARIABLES' && type !== 'STATUS') p.fail(at);
  return { kind: 'Show', type, full, scope, table, db, name, filter, start, end: p.prevEnd() };
}

function explainable(p: Parser): Statement & { kind: 'Select' | 'SetOp' | 'Insert' | 'Update' | 'Delete' } {
  const w = p.kwd();
  if (w === K.SELECT || w === K.WITH || w === K.VALUES || p.k() === T.LPAREN) return parseQuery(p);
  if (w === K.INSERT || w === K.REPLACE) return parseInsert(p);
  if (w === K.UPDATE) return parseUpdate(p, null, p.start[p.pos]!);
  if (w === K.DELETE) return parseDelete(p, null, p.start[p.pos]!);
  return p.fail();
}

/** EXPLAIN/DESCRIBE/DESC: a table description or a statement's plan. */
export function parseDescribe(p: Parser): Statement {
  const start = p.start[p.pos]!;
  p.pos++;
  const w = p.kwd();
  if (p.isIdent() && w !== K.FORMAT && w !== K.EXTENDED && w !== K.PARTITIONS) {
    const table = p.tableName();
    const column = p.atEnd() ? null : p.identOrString();
    return { kind: 'DescribeTable', table, column, start, end: p.prevEnd() };
  }
  let analyze = false;
  let format: string | null = null;
  let extended = false;
  if (p.eatKw(K.ANALYZE)) analyze = true;
  if (p.eatKw(K.EXTENDED)) extended = true;
  else if (p.eatKw(K.PARTITIONS)) {
    // MySQL 5.x spelling; partitions are always shown now.
  }
  if (p.eatKw(K.FORMAT)) {
    p.expect(T.EQ);
    format = p.identAny().toUpperCase();
  }
  return { kind: 'Explain', analyze, format, extended, statement: explainable(p), start, end: p.prevEnd() };
}

export function parseVExplain(p: Parser): Statement {
  const start = p.start[p.pos]!;
  p.pos++;
  let type: 'PLAN' | 'QUERIES' | 'ALL' = 'PLAN';
  if (p.eatKw(K.QUERIES)) type = 'QUERIES';
  else if (p.eatKw(K.ALL)) type = 'ALL';
  else p.eatKw(K.PLAN);
  return { kind: 'VExplain', type, statement: explainable(p), start, end: p.prevEnd() };
}

export function parseLock(p: Parser): LockTables {
  const start = p.start[p.pos]!;
  p.pos++;
  if (!p.eatKw(K.TABLES)) p.expectKw(K.TABLE);
  const tables: LockTables['tables'][number][] = [];
  do {
    const table = p.tableName();
    let alias: string | null = null;
    if (p.eatKw(K.AS)) alias = p.ident();
    else if (p.isIdent()) alias = p.ident();
    let lock: LockTables['tables'][number]['lock'];
    if (p.eatKw(K.READ)) lock = p.eatKw(K.LOCAL) ? 'READ LOCAL' : 'READ';
    else if (p.eatKw(K.LOW_PRIORITY)) {
      p.expectKw(K.WRITE);
      lock = 'LOW_PRIORITY WRITE';
    } else {
      p.expectKw(K.WRITE);
      // WRITE CONCURRENT: Aria's concurrent inserts under a write lock.
      lock = p.isWord('CONCURRENT') ? (p.pos++, 'WRITE CONCURRENT') : 'WRITE';
    }
    tables.push({ table, alias, lock });
  } while (p.eat(T.COMMA));
  return { kind: 'LockTables', tables, start, end: p.prevEnd() };
}

export function parseUnlock(p: Parser): Statement {
  const start = p.start[p.pos]!;
  p.pos++;
  if (!p.eatKw(K.TABLES)) p.expectKw(K.TABLE);
  return { kind: 'UnlockTables', start, end: p.prevEnd() };
}

export function parseKill(p: Parser): Statement {
  const start = p.start[p.pos]!;
  p.pos++;
  const type = p.eatKw(K.CONNECTION) ? 'CONNECTION' : p.eatKw(K.QUERY) ? 'QUERY' : null;
  return { kind: 'Kill', type, id: parseExpr(p), start, end: p.prevEnd() };
}

const FLUSH_LOGS = new Set(['BINARY', 'ENGINE', 'ERROR', 'GENERAL', 'RELAY', 'SLOW']);
const FLUSH_WORDS = new Set([
  'PRIVILEGES', 'LOGS', 'STATUS', 'HOSTS', 'USER_RESOURCES', 'OPTIMIZER_COSTS', 'THREADS', 'SSL', 'DES_KEY_FILE',
  // MariaDB's user statistics, and information-schema plugins that can be reset.
  'USER_STATISTICS', 'CLIENT_STATISTICS', 'TABLE_STATISTICS', 'INDEX_STATISTICS', 'THREAD_POOL_STATS', 'THREAD_POOL_WAITS',
  'THREAD_POOL_QUEUES', 'THREAD_POOL_GROUPS', 'QUERY_RESPONSE_TIME', 'USER_VARIABLES',
]);

export function parseFlush(p: Parser): Statement {
  const start = p.start[p.pos]!;
  p.pos++;
  const local = p.eatKw(K.LOCAL) || p.eatKw(K.NO_WRITE_TO_BINLOG);
  if (p.isKw(K.TABLES) || p.isKw(K.TABLE)) {
    p.pos++;
    const tables: TableName[] = [];
    if (p.isIdent()) {
      do tables.push(p.tableName());
      while (p.eat(T.COMMA));
    }
    let withReadLock = false;
    const extra: { forExport?: true; disableCheckpoint?: true } = {};
    if (p.eatKw(K.WITH)) {
      p.expectKw(K.READ);
      p.expectKw(K.LOCK);
      withReadLock = true;
      if (p.isKw(K.AND) && p.isWord2(1, 'DISABLE') && p.isWord2(2, 'CHECKPOINT')) {
        p.pos += 3;
        extra.disableCheckpoint = true;
      }
    } else if (tables.length > 0 && p.isKw(K.FOR) && p.isWord2(1, 'EXPORT')) {
      p.pos += 2;
      extra.forExport = true;
    }
    return { kind: 'Flush', local, options: ['TABLES'], tables, withReadLock, ...extra, start, end: p.prevEnd() };
  }
  const options: string[] = [];
  do {
    if (p.k() !== T.IDENT) p.fail();
    const word = p.upperText();
    if (FLUSH_LOGS.has(word) && p.peekKw(1) === K.LOGS) {
      p.pos += 2;
      let option = word + ' LOGS';
      if (word === 'BINARY' && p.isWord('DELETE_DOMAIN_ID')) {
        // FLUSH BINARY LOGS DELETE_DOMAIN_ID = (id, …)
        p.pos++;
        p.expect(T.EQ);
        p.expect(T.LPAREN);
        const ids: string[] = [];
        while (p.k() === T.INT) {
          ids.push(p.text());
          p.pos++;
          if (!p.eat(T.COMMA)) break;
        }
        p.expect(T.RPAREN);
        option += ' DELETE_DOMAIN_ID = (' + ids.join(', ') + ')';
      } else if (word === 'RELAY' && p.isKw(K.FOR) && p.isWord2(1, 'CHANNEL')) {
        p.pos += 2;
        option += ' FOR CHANNEL ' + quoteString(p.stringToken());
      }
      options.push(option);
    } else if (word === 'QUERY' && p.peekKw(1) === 0 && p.sql.slice(p.start[p.pos + 1], p.end[p.pos + 1]).toUpperCase() === 'CACHE') {
      options.push('QUERY CACHE');
      p.pos += 2;
    } else if (FLUSH_WORDS.has(word)) {
      options.push(word);
      p.pos++;
    } else p.fail();
  } while (p.eat(T.COMMA));
  return { kind: 'Flush', local, options, tables: [], withReadLock: false, start, end: p.prevEnd() };
}

export function parseCall(p: Parser): Statement {
  const start = p.start[p.pos]!;
  p.pos++;
  const name = p.tableName();
  let args: Expr[] = [];
  if (p.eat(T.LPAREN)) {
    if (p.k() !== T.RPAREN) args = parseExprList(p);
    p.expect(T.RPAREN);
  }
  return { kind: 'Call', name, args, start, end: p.prevEnd() };
}

export function parsePrepare(p: Parser): Statement {
  const start = p.start[p.pos]!;
  p.pos++;
  const name = p.ident();
  p.expectKw(K.FROM);
  let from: UserVar | { kind: 'String'; value: string; charset: null; national: false };
  if (p.k() === T.USERVAR) from = { kind: 'UserVar', name: userVarName(p.sql, p.start[p.pos]! + 1, p.end[p.pos++]!) };
  else from = { kind: 'String', value: p.stringToken(), charset: null, national: false };
  return { kind: 'Prepare', name, from, start, end: p.prevEnd() };
}

export function parseExecute(p: Parser): Statement {
  const start = p.start[p.pos]!;
  p.pos++;
  const name = p.ident();
  const using: Expr[] = [];
  if (p.eatKw(K.USING)) {
    do using.push(parseValueExpr(p));
    while (p.eat(T.COMMA));
  }
  return { kind: 'Execute', name, using, start, end: p.prevEnd() };
}

export function parseDeallocate(p: Parser): Statement {
  const start = p.start[p.pos]!;
  p.pos++;
  p.expectKw(K.PREPARE);
  return { kind: 'Deallocate', name: p.ident(), start, end: p.prevEnd() };
}
