// ALTER TABLE (its actions, kept in order, unknown ones as text) and Vitess's ALTER VSCHEMA.

import type { AlterAction, AlterVschema, AlterVschemaAction, ColumnPosition, Statement, VindexParam } from './ast.js';
import { K } from './keywords.js';
import { T } from './lexer.js';
import type { Parser } from './parser.js';
import { parseUnary } from './expr.js';
import { parseDropOrAlterSequence } from './sequence-ddl.js';
import { parseAlterStored } from './stored.js';
import { ifExistsClause, ifNotExistsClause, parseColumnDef, parseConstraint, parsePartitionText, parseTableOptions, parseView } from './ddl.js';

function position(p: Parser): ColumnPosition | null {
  if (p.eatKw(K.FIRST)) return { first: true };
  if (p.eatKw(K.AFTER)) return { first: false, after: p.ident() };
  return null;
}

export function parseAlter(p: Parser): Statement {
  const start = p.start[p.pos]!;
  p.pos++;
  if (p.isKw(K.VSCHEMA)) return parseAlterVschema(p, start);
  const stored = parseAlterStored(p, start) ?? parseDropOrAlterSequence(p, start, 'ALTER');
  if (stored) return stored;
  let lead = '';
  for (let i = 0; i < 2 && (p.isWord('ONLINE') || p.isKw(K.IGNORE)) && (p.peekKw(1) === K.TABLE || p.peekKw(1) === K.IGNORE); i++) {
    lead += (lead ? ' ' : '') + p.upperText();
    p.pos++;
  }
  if (p.isKw(K.TABLE)) {
    p.pos++;
    const ie = ifExistsClause(p) ? { ifExists: true as const } : {};
    const table = p.tableName();
    const actions: AlterAction[] = [];
    if (!p.atEnd() && !p.isKw(K.PARTITION)) {
      do actions.push(parseAlterAction(p));
      while (p.eat(T.COMMA));
    }
    const partitionText = parsePartitionText(p);
    // `ALTER TABLE t` with no action is MariaDB's null alter: it rebuilds the table.
    return { kind: 'AlterTable', ...(lead ? { lead } : {}), ...ie, table, actions, partitionText, start, end: p.prevEnd() };
  }
  return parseView(p, start, true, false);
}

/** Words that start an ALTER TABLE action (a comma before one ends an action kept as text). */
const ACTION_WORDS: ReadonlySet<string> = new Set([
  'ADD', 'DROP', 'MODIFY', 'CHANGE', 'ALTER', 'RENAME', 'ORDER', 'CONVERT', 'ALGORITHM', 'LOCK', 'FORCE', 'ENABLE',
  'DISABLE', 'DISCARD', 'IMPORT', 'ENGINE', 'DEFAULT', 'CHARACTER', 'CHARSET', 'COLLATE', 'COMMENT', 'AUTO_INCREMENT',
  'ROW_FORMAT', 'REORGANIZE', 'EXCHANGE', 'COALESCE', 'REBUILD', 'REMOVE', 'ANALYZE', 'CHECK', 'OPTIMIZE', 'REPAIR', 'TRUNCATE',
]);

/** The action kept as text when it is one the structured grammar leaves to MariaDB; else null. */
function textAction(p: Parser): AlterAction | null {
  const a = p.k() === T.IDENT ? p.upperText() : '';
  const b = p.peekKind(1) === T.IDENT ? p.upperText(p.pos + 1) : '';
  const partition = b === 'PARTITION' || b === 'PARTITIONING';
  const ok =
    ((a === 'ADD' || a === 'DROP') && (partition || b === 'SYSTEM' || b === 'PERIOD')) ||
    (['REORGANIZE', 'EXCHANGE', 'COALESCE', 'REBUILD', 'REMOVE', 'ANALYZE', 'CHECK', 'OPTIMIZE', 'REPAIR', 'TRUNCATE', 'CONVERT'].includes(a) && partition) ||
    (a === 'CONVERT' && b === 'TABLE') ||
    ((a === 'DISCARD' || a === 'IMPORT') && (b === 'TABLESPACE' || partition)) ||
    (a === 'ORDER' && b === 'BY') ||
    // ALTER INDEX i [NOT] IGNORED (MariaDB's ignorable indexes)
    (a === 'ALTER' && (b === 'INDEX' || b === 'KEY'));
  if (!ok) return null;
  const from = p.start[p.pos]!;
  let depth = 0;
  while (!p.atEnd()) {
    const k = p.k();
    if (k === T.LPAREN) depth++;
    else if (k === T.RPAREN) depth--;
    else if (k === T.COMMA && depth === 0 && a !== 'ORDER' && p.peekKind(1) === T.IDENT && ACTION_WORDS.has(p.upperText(p.pos + 1))) break;
    p.pos++;
  }
  if (depth !== 0) p.fail();
  return { kind: 'Text', text: p.sql.slice(from, p.prevEnd()) };
}

function parseAlterAction(p: Parser): AlterAction {
  const text = textAction(p);
  if (text !== null) return text;
  const w = p.kwd();
  switch (w) {
    case K.ADD: {
      p.pos++;
      const c = p.isKw(K.COLUMN) ? null : constraintAhead(p);
      if (c !== null) return c;
      p.eatKw(K.COLUMN);
      const ifNotExists = ifNotExistsClause(p);
      if (p.eat(T.LPAREN)) {
        const columns = [parseColumnDef(p)];
        while (p.eat(T.COMMA)) columns.push(parseColumnDef(p));
        p.expect(T.RPAREN);
        return { kind: 'AddColumn', columns, position: null, ifNotExists };
      }
      const col = parseColumnDef(p);
      return { kind: 'AddColumn', columns: [col], position: position(p), ifNotExists };
    }
    case K.DROP: {
      p.pos++;
      if (p.eatKw(K.PRIMARY)) {
        p.expectKw(K.KEY);
        return { kind: 'DropPrimaryKey' };
      }
      if (p.eatKw(K.INDEX) || p.eatKw(K.KEY)) {
        const ifExists = ifExistsClause(p);
        return { kind: 'DropIndex', name: p.ident(), ifExists };
      }
      if (p.eatKw(K.FOREIGN)) {
        p.expectKw(K.KEY);
        const ifExists = ifExistsClause(p);
        return { kind: 'DropForeignKey', name: p.ident(), ifExists };
      }
      if (p.eatKw(K.CONSTRAINT) || p.eatKw(K.CHECK)) {
        const ifExists = ifExistsClause(p);
        return { kind: 'DropConstraint', name: p.ident(), ifExists };
      }
      p.eatKw(K.COLUMN);
      const ifExists = ifExistsClause(p);
      const name = p.ident();
      p.eatKw(K.RESTRICT) || p.eatKw(K.CASCADE);
      return { kind: 'DropColumn', name, ifExists };
    }
    case K.MODIFY: {
      p.pos++;
      p.eatKw(K.COLUMN);
      const ifExists = ifExistsClause(p);
      const column = parseColumnDef(p);
      return { kind: 'ModifyColumn', column, position: position(p), ifExists };
    }
    case K.CHANGE: {
      p.pos++;
      p.eatKw(K.COLUMN);
      const ifExists = ifExistsClause(p);
      const oldName = p.ident();
      const column = parseColumnDef(p);
      return { kind: 'ChangeColumn', oldName, column, position: position(p), ifExists };
    }
    case K.ALTER: {
      p.pos++;
      p.eatKw(K.COLUMN);
      const ie = ifExistsClause(p) ? { ifExists: true as const } : {};
      const name = p.ident();
      if (p.eatKw(K.SET)) {
        p.expectKw(K.DEFAULT);
        return { kind: 'AlterColumnDefault', name, default: parseUnary(p), ...ie };
      }
      p.expectKw(K.DROP);
      p.expectKw(K.DEFAULT);
      return { kind: 'AlterColumnDefault', name, default: null, ...ie };
    }
    case K.RENAME: {
      p.pos++;
      if (p.eatKw(K.COLUMN)) {
        const ie = ifExistsClause(p) ? { ifExists: true as const } : {};
        const oldName = p.ident();
        p.expectKw(K.TO);
        return { kind: 'RenameColumn', oldName, newName: p.ident(), ...ie };
      }
      if (p.eatKw(K.INDEX) || p.eatKw(K.KEY)) {
        const ie = ifExistsClause(p) ? { ifExists: true as const } : {};
        const oldName = p.ident();
        p.expectKw(K.TO);
        return { kind: 'RenameIndex', oldName, newName: p.ident(), ...ie };
      }
      if (!p.eatKw(K.TO)) p.eatKw(K.AS);
      return { kind: 'RenameTable', table: p.tableName() };
    }
    case K.CONVERT: {
      p.pos++;
      p.expectKw(K.TO);
      if (!p.eatKw(K.CHARSET)) {
        p.expectKw(K.CHARACTER);
        p.expectKw(K.SET);
      }
      // CHARACTER SET DEFAULT (the database's), COLLATE DEFAULT (the character set's default).
      const defaults: { charsetDefault?: true; collateDefault?: true } = {};
      let charset = '';
      if (p.eatKw(K.DEFAULT)) defaults.charsetDefault = true;
      else charset = p.identOrString();
      let collate: string | null = null;
      if (p.eatKw(K.COLLATE)) {
        if (p.eatKw(K.DEFAULT)) defaults.collateDefault = true;
        else collate = p.charsetName();
      }
      return { kind: 'ConvertCharset', charset, collate, ...defaults };
    }
    case K.ALGORITHM:
    case K.LOCK: {
      p.pos++;
      p.eat(T.EQ);
      if (p.k() !== T.IDENT) p.fail();
      const value = p.upperText();
      p.pos++;
      return w === K.ALGORITHM ? { kind: 'Algorithm', value } : { kind: 'LockOption', value };
    }
    case K.FORCE:
      p.pos++;
      return { kind: 'Force' };
    case K.ENABLE:
    case K.DISABLE:
      p.pos++;
      p.expectKw(K.KEYS);
      return { kind: 'EnableKeys', enable: w === K.ENABLE };
    default: {
      const options = parseTableOptions(p, false);
      if (options.length === 0) p.fail();
      return { kind: 'TableOptions', options };
    }
  }
}

function constraintAhead(p: Parser): AlterAction | null {
  const w = p.kwd();
  if (
    w !== K.CONSTRAINT && w !== K.PRIMARY && w !== K.UNIQUE && w !== K.INDEX && w !== K.KEY && w !== K.FULLTEXT &&
    w !== K.SPATIAL && w !== K.FOREIGN && w !== K.CHECK
  ) return null;
  const flag = { ifNotExists: false };
  const c = parseConstraint(p, flag);
  if (c === null) p.fail();
  return { kind: 'AddConstraint', constraint: c, ifNotExists: flag.ifNotExists };
}


function vindexParams(p: Parser): VindexParam[] {
  if (!p.eatKw(K.WITH)) return [];
  const out: VindexParam[] = [];
  do {
    const key = p.identAny();
    p.expect(T.EQ);
    const k = p.k();
    let value: string;
    if (k === T.STRING || k === T.DSTRING) value = p.stringToken();
    else if (k === T.IDENT || k === T.QIDENT) value = p.identAny();
    else if (k === T.INT || k === T.DECIMAL) {
      value = p.text();
      p.pos++;
    } else return p.fail();
    out.push({ key, value });
  } while (p.eat(T.COMMA));
  return out;
}

function parseAlterVschema(p: Parser, start: number): AlterVschema {
  p.pos++;
  let action: AlterVschemaAction;
  if (p.eatKw(K.CREATE)) {
    p.expectKw(K.VINDEX);
    const name = p.tableName();
    p.expectKw(K.USING);
    const type = p.identAny();
    action = { kind: 'CreateVindex', name, type, params: vindexParams(p) };
  } else if (p.eatKw(K.DROP)) {
    if (p.eatKw(K.VINDEX)) action = { kind: 'DropVindex', name: p.tableName() };
    else {
      p.expectKw(K.TABLE);
      action = { kind: 'DropTable', table: p.tableName() };
    }
  } else if (p.eatKw(K.ADD)) {
    if (p.eatKw(K.TABLE)) action = { kind: 'AddTable', table: p.tableName() };
    else {
      p.expectKw(K.SEQUENCE);
      action = { kind: 'AddSequence', table: p.tableName() };
    }
  } else {
    p.expectKw(K.ON);
    const table = p.tableName();
    if (p.eatKw(K.ADD)) {
      if (p.eatKw(K.AUTO_INCREMENT)) {
        const column = p.ident();
        p.expectKw(K.USING);
        action = { kind: 'AddAutoIncrement', table, column, sequence: p.tableName() };
      } else {
        p.expectKw(K.VINDEX);
        const name = p.ident();
        const columns = p.k() === T.LPAREN ? p.identList() : [];
        const type = p.eatKw(K.USING) ? p.identAny() : null;
        action = { kind: 'AddColumnVindex', table, name, columns, type, params: vindexParams(p) };
      }
    } else {
      p.expectKw(K.DROP);
      if (p.eatKw(K.AUTO_INCREMENT)) action = { kind: 'DropAutoIncrement', table };
      else {
        p.expectKw(K.VINDEX);
        action = { kind: 'DropColumnVindex', table, name: p.ident() };
      }
    }
  }
  return { kind: 'AlterVschema', action, start, end: p.prevEnd() };
}
