// Formatting of DDL, session, SHOW and administrative statements (the query and DML statements
// are in format.ts).

import type {
  AlterAction, AlterVschemaAction, ColumnDef, ColumnPosition, ForeignKeyReference, IndexColumn, IndexOption, SetItem,
  Statement, TableConstraint, TableOption, VindexParam,
} from './ast.js';
import { charsetWord, type Formatter, formatDataType, formatTableName, quoteIdent, quoteString } from './format.js';


function completion(s: { readonly chain?: boolean; readonly release?: boolean }): string {
  return (s.chain === undefined ? '' : s.chain ? ' AND CHAIN' : ' AND NO CHAIN') + (s.release === undefined ? '' : s.release ? ' RELEASE' : ' NO RELEASE');
}

function indexColumns(cols: readonly IndexColumn[]): string {
  return (
    '(' +
    cols.map((c) => quoteIdent(c.name) + (c.length !== null ? '(' + c.length + ')' : '') + (c.direction !== null ? ' ' + c.direction : '') + (c.withoutOverlaps ? ' WITHOUT OVERLAPS' : '')).join(', ') +
    ')'
  );
}

function indexOptions(using: string | null, options: readonly IndexOption[]): string {
  let s = using !== null ? ' USING ' + using : '';
  for (const o of options) {
    if (o.name === 'COMMENT') s += ' COMMENT ' + quoteString(o.value ?? '');
    else if (o.name === 'WITH PARSER') s += ' WITH PARSER ' + quoteIdent(o.value ?? '');
    else if (o.value !== null) s += ' ' + o.name + ' ' + o.value;
    else s += ' ' + o.name;
  }
  return s;
}

function reference(r: ForeignKeyReference): string {
  let s = 'REFERENCES ' + formatTableName(r.table) + ' (' + r.columns.map(quoteIdent).join(', ') + ')';
  if (r.onDelete !== null) s += ' ON DELETE ' + r.onDelete;
  if (r.onUpdate !== null) s += ' ON UPDATE ' + r.onUpdate;
  return s;
}

function constraint(f: Formatter, c: TableConstraint, ifNotExists = false): string {
  const prefix = c.constraintName !== null ? 'CONSTRAINT ' + quoteIdent(c.constraintName) + ' ' : '';
  switch (c.kind) {
    case 'Check':
      if (ifNotExists && c.constraintName !== null) return 'CONSTRAINT IF NOT EXISTS ' + quoteIdent(c.constraintName) + ' CHECK (' + f.expr(c.expr) + ')';
      return prefix + 'CHECK (' + f.expr(c.expr) + ')';
    case 'ForeignKey':
      return prefix + 'FOREIGN KEY ' + (ifNotExists ? 'IF NOT EXISTS ' : '') + (c.name !== null ? quoteIdent(c.name) + ' ' : '') + '(' + c.columns.map(quoteIdent).join(', ') + ') ' + reference(c.reference);
    case 'Text':
      return c.text;
    case 'Index': {
      const word = c.type === 'PRIMARY' ? 'PRIMARY KEY' : c.type === 'INDEX' ? 'KEY' : c.type + ' KEY';
      const ine = ifNotExists ? ' IF NOT EXISTS' : '';
      const name = c.name !== null ? ' ' + quoteIdent(c.name) : '';
      return prefix + word + ine + name + ' ' + indexColumns(c.columns) + indexOptions(c.using, c.options);
    }
    default: {
      const never: never = c;
      throw new Error(`unknown constraint ${(never as TableConstraint).kind}`);
    }
  }
}

/** A default value: literals and functions bare, anything else in parentheses. */
function defaultValue(f: Formatter, e: ColumnDef['default'] & object): string {
  switch (e.kind) {
    case 'String':
    case 'Number':
    case 'Hex':
    case 'Bit':
    case 'Null':
    case 'Bool':
    case 'TypedLiteral':
    case 'Func':
    case 'Column':
    case 'Subquery':
      return f.expr(e);
    default:
      return '(' + f.expr(e) + ')';
  }
}

export function columnDef(f: Formatter, c: ColumnDef): string {
  let s = quoteIdent(c.name) + ' ' + formatDataType(c.type);
  if (c.generated !== null) s += ' AS (' + f.expr(c.generated.expr) + ')' + (c.generated.stored ? ' STORED' : ' VIRTUAL');
  // MariaDB takes AS ROW START / END only right after the type.
  for (const a of c.attributes ?? []) if (a.startsWith('AS ROW ')) s += ' ' + a;
  if (c.nullable === false) s += ' NOT NULL';
  else if (c.nullable === true) s += ' NULL';
  if (c.default !== null) s += ' DEFAULT ' + defaultValue(f, c.default);
  if (c.onUpdate !== null) s += ' ON UPDATE ' + defaultValue(f, c.onUpdate);
  if (c.autoIncrement) s += ' AUTO_INCREMENT';
  if (c.invisible) s += ' INVISIBLE';
  if (c.key !== null) s += ' ' + c.key;
  if (c.comment !== null) s += ' COMMENT ' + quoteString(c.comment);
  if (c.check !== null) s += ' CHECK (' + f.expr(c.check) + ')';
  if (c.references !== null) s += ' ' + reference(c.references);
  for (const a of c.attributes ?? []) if (!a.startsWith('AS ROW ')) s += ' ' + a;
  return s;
}

function tableOptions(opts: readonly TableOption[]): string {
  return opts.map((o) => (o.value === '' ? o.name : o.name + '=' + o.value)).join(' ');
}

function position(p: ColumnPosition | null): string {
  if (p === null) return '';
  return p.first ? ' FIRST' : ' AFTER ' + quoteIdent(p.after);
}

function alterAction(f: Formatter, a: AlterAction): string {
  switch (a.kind) {
    case 'AddColumn': {
      const ine = a.ifNotExists ? 'IF NOT EXISTS ' : '';
      if (a.columns.length === 1) return 'ADD COLUMN ' + ine + columnDef(f, a.columns[0]!) + position(a.position);
      return 'ADD COLUMN ' + ine + '(' + a.columns.map((c) => columnDef(f, c)).join(', ') + ')';
    }
    case 'AddConstraint':
      return 'ADD ' + constraint(f, a.constraint, a.ifNotExists);
    case 'DropColumn':
      return 'DROP COLUMN ' + (a.ifExists ? 'IF EXISTS ' : '') + quoteIdent(a.name);
    case 'DropIndex':
      return 'DROP KEY ' + (a.ifExists ? 'IF EXISTS ' : '') + quoteIdent(a.name);
    case 'DropPrimaryKey':
      return 'DROP PRIMARY KEY';
    case 'DropForeignKey':
      return 'DROP FOREIGN KEY ' + (a.ifExists ? 'IF EXISTS ' : '') + quoteIdent(a.name);
    case 'DropConstraint':
      return 'DROP CONSTRAINT ' + (a.ifExists ? 'IF EXISTS ' : '') + quoteIdent(a.name);
    case 'ModifyColumn':
      return 'MODIFY COLUMN ' + (a.ifExists ? 'IF EXISTS ' : '') + columnDef(f, a.column) + position(a.position);
    case 'ChangeColumn':
      return 'CHANGE COLUMN ' + (a.ifExists ? 'IF EXISTS ' : '') + quoteIdent(a.oldName) + ' ' + columnDef(f, a.column) + position(a.position);
    case 'AlterColumnDefault':
      return 'ALTER COLUMN ' + (a.ifExists ? 'IF EXISTS ' : '') + quoteIdent(a.name) + (a.default === null ? ' DROP DEFAULT' : ' SET DEFAULT ' + defaultValue(f, a.default));
    case 'RenameColumn':
      return 'RENAME COLUMN ' + (a.ifExists ? 'IF EXISTS ' : '') + quoteIdent(a.oldName) + ' TO ' + quoteIdent(a.newName);
    case 'RenameIndex':
      return 'RENAME KEY ' + (a.ifExists ? 'IF EXISTS ' : '') + quoteIdent(a.oldName) + ' TO ' + quoteIdent(a.newName);
    case 'RenameTable':
      return 'RENAME TO ' + formatTableName(a.table);
    case 'TableOptions':
      return tableOptions(a.options);
    case 'ConvertCharset':
      return (
        'CONVERT TO CHARACTER SET ' + (a.charsetDefault ? 'DEFAULT' : charsetWord(a.charset)) + (a.collateDefault ? ' COLLATE DEFAULT' : '') +
        (a.collate !== null ? ' COLLATE ' + charsetWord(a.collate) : '')
      );
    case 'Algorithm':
      return 'ALGORITHM=' + a.value;
    case 'LockOption':
      return 'LOCK=' + a.value;
    case 'Force':
      return 'FORCE';
    case 'EnableKeys':
      return a.enable ? 'ENABLE KEYS' : 'DISABLE KEYS';
    case 'Text':
      return a.text;
    default: {
      const never: never = a;
      throw new Error(`unknown alter action ${(never as AlterAction).kind}`);
    }
  }
}

function setItem(f: Formatter, it: SetItem): string {
  switch (it.kind) {
    case 'SetSysVar':
      return (it.scope !== null ? it.scope + ' ' : '') + it.name.split('.').map(quoteIdent).join('.') + ' = ' + f.expr(it.value);
    case 'SetUserVar':
      return '@' + quoteIdent(it.name) + ' = ' + f.expr(it.value);
    case 'SetNames':
      return 'NAMES ' + (it.charset === null ? 'DEFAULT' : charsetWord(it.charset) + (it.collate !== null ? ' COLLATE ' + charsetWord(it.collate) : ''));
    case 'SetCharset':
      return 'CHARACTER SET ' + (it.charset === null ? 'DEFAULT' : charsetWord(it.charset));
    default: {
      const never: never = it;
      throw new Error(`unknown SET item ${(never as SetItem).kind}`);
    }
  }
}

function vindexParams(params: readonly VindexParam[]): string {
  if (params.length === 0) return '';
  return ' WITH ' + params.map((p) => quoteIdent(p.key) + '=' + quoteString(p.value)).join(', ');
}

function alterVschema(a: AlterVschemaAction): string {
  switch (a.kind) {
    case 'CreateVindex':
      return 'CREATE VINDEX ' + formatTableName(a.name) + ' USING ' + quoteIdent(a.type) + vindexParams(a.params);
    case 'DropVindex':
      return 'DROP VINDEX ' + formatTableName(a.name);
    case 'AddTable':
      return 'ADD TABLE ' + formatTableName(a.table);
    case 'DropTable':
      return 'DROP TABLE ' + formatTableName(a.table);
    case 'AddSequence':
      return 'ADD SEQUENCE ' + formatTableName(a.table);
    case 'AddColumnVindex':
      return (
        'ON ' + formatTableName(a.table) + ' ADD VINDEX ' + quoteIdent(a.name) +
        (a.columns.length > 0 ? ' (' + a.columns.map(quoteIdent).join(', ') + ')' : '') +
        (a.type !== null ? ' USING ' + quoteIdent(a.type) : '') + vindexParams(a.params)
      );
    case 'DropColumnVindex':
      return 'ON ' + formatTableName(a.table) + ' DROP VINDEX ' + quoteIdent(a.name);
    case 'AddAutoIncrement':
      return 'ON ' + formatTableName(a.table) + ' ADD AUTO_INCREMENT ' + quoteIdent(a.column) + ' USING ' + formatTableName(a.sequence);
    case 'DropAutoIncrement':
      return 'ON ' + formatTableName(a.table) + ' DROP AUTO_INCREMENT';
    default: {
      const never: never = a;
      throw new Error(`unknown ALTER VSCHEMA action ${(never as AlterVschemaAction).kind}`);
    }
  }
}

/** The USE target as Vitess spells it; quoted whenever it carries a shard or tablet type. */
function useTarget(ks: string | null, shard: string | null, type: string | null): string {
  if (shard === null && type === null && ks !== null) return quoteIdent(ks);
  const t = (ks ?? '') + (shard !== null ? ':' + shard : '') + (type !== null ? '@' + type : '');
  return '`' + t.replaceAll('`', '``') + '`';
}

export function formatOther(f: Formatter, s: Statement): string {
  switch (s.kind) {
    case 'Select':
    case 'SetOp':
    case 'Insert':
    case 'Update':
    case 'Delete':
      return f.statement(s);
    case 'Set':
      return 'SET ' + s.items.map((it) => setItem(f, it)).join(', ');
    case 'SetTransaction': {
      const parts: string[] = [];
      if (s.isolation !== null) parts.push('ISOLATION LEVEL ' + s.isolation);
      if (s.access !== null) parts.push(s.access);
      return 'SET ' + (s.scope !== null ? s.scope + ' ' : '') + 'TRANSACTION ' + parts.join(', ');
    }
    case 'Use':
      return 'USE ' + useTarget(s.keyspace, s.shard, s.tabletType);
    case 'Begin':
      return s.characteristics.length === 0 ? 'BEGIN' : 'START TRANSACTION ' + s.characteristics.join(', ');
    case 'Commit':
      return 'COMMIT' + completion(s);
    case 'Rollback':
      return s.savepoint === null ? 'ROLLBACK' + completion(s) : 'ROLLBACK TO SAVEPOINT ' + quoteIdent(s.savepoint);
    case 'Savepoint':
      return 'SAVEPOINT ' + quoteIdent(s.name);
    case 'ReleaseSavepoint':
      return 'RELEASE SAVEPOINT ' + quoteIdent(s.name);
    case 'Show': {
      let out = 'SHOW ';
      if (s.full) out += 'FULL ';
      if (s.scope !== null) out += s.scope + ' ';
      switch (s.type) {
        case 'COLUMNS':
        case 'INDEX':
          out += s.type + ' FROM ' + formatTableName(s.table!);
          break;
        case 'CREATE TABLE':
        case 'CREATE VIEW':
          out += s.type + ' ' + formatTableName(s.table!);
          break;
        case 'CREATE DATABASE':
          out += 'CREATE DATABASE ' + quoteIdent(s.db!);
          break;
        case 'ENGINE':
          out += 'ENGINE ' + quoteIdent(s.name!) + ' STATUS';
          break;
        case 'GRANTS':
          out += 'GRANTS' + (s.name !== null ? ' FOR ' + s.name : '');
          break;
        case 'COUNT WARNINGS':
          out += 'COUNT(*) WARNINGS';
          break;
        case 'COUNT ERRORS':
          out += 'COUNT(*) ERRORS';
          break;
        case 'VSCHEMA VINDEXES':
          out += 'VSCHEMA VINDEXES' + (s.table !== null ? ' ON ' + formatTableName(s.table) : '');
          break;
        default:
          out += s.type;
      }
      if (s.db !== null && s.type !== 'CREATE DATABASE') out += ' FROM ' + quoteIdent(s.db);
      if (s.filter !== null) out += s.filter.kind === 'Like' ? ' LIKE ' + quoteString(s.filter.pattern) : ' WHERE ' + f.expr(s.filter.expr);
      return out;
    }
    case 'DescribeTable':
      return 'DESCRIBE ' + formatTableName(s.table) + (s.column !== null ? ' ' + quoteIdent(s.column) : '');
    case 'Explain':
      return (
        'EXPLAIN ' + (s.analyze ? 'ANALYZE ' : '') + (s.extended ? 'EXTENDED ' : '') + (s.format !== null ? 'FORMAT=' + s.format + ' ' : '') +
        f.statement(s.statement)
      );
    case 'VExplain':
      return 'VEXPLAIN ' + s.type + ' ' + f.statement(s.statement);
    case 'CreateTable': {
      let out = 'CREATE ' + (s.orReplace ? 'OR REPLACE ' : '') + (s.temporary ? 'TEMPORARY ' : '') + 'TABLE ';
      out += (s.ifNotExists ? 'IF NOT EXISTS ' : '') + formatTableName(s.table);
      if (s.like !== null) return out + ' LIKE ' + formatTableName(s.like);
      const defs = [...s.columns.map((c) => columnDef(f, c)), ...s.constraints.map((c) => constraint(f, c))];
      if (defs.length > 0) out += ' (' + defs.join(', ') + ')';
      if (s.options.length > 0) out += ' ' + tableOptions(s.options);
      if (s.partitionText !== null) out += ' ' + s.partitionText;
      if (s.select !== null) out += (s.duplicates ? ' ' + s.duplicates : '') + ' AS ' + f.query(s.select);
      return out;
    }
    case 'AlterTable': {
      let out = (s.lead ? 'ALTER ' + s.lead + ' TABLE ' : 'ALTER TABLE ') + (s.ifExists ? 'IF EXISTS ' : '') + formatTableName(s.table);
      if (s.actions.length > 0) out += ' ' + s.actions.map((a) => alterAction(f, a)).join(', ');
      if (s.partitionText !== null) out += ' ' + s.partitionText;
      return out;
    }
    case 'DropTable':
      return (
        'DROP ' + (s.temporary ? 'TEMPORARY ' : '') + 'TABLE ' + (s.ifExists ? 'IF EXISTS ' : '') + s.tables.map(formatTableName).join(', ') +
        (s.cascade !== null ? ' ' + s.cascade : '')
      );
    case 'TruncateTable':
      return 'TRUNCATE TABLE ' + formatTableName(s.table);
    case 'RenameTable':
      return 'RENAME TABLE ' + s.pairs.map((p) => formatTableName(p.from) + ' TO ' + formatTableName(p.to)).join(', ');
    case 'CreateDatabase':
      return 'CREATE DATABASE ' + (s.ifNotExists ? 'IF NOT EXISTS ' : '') + quoteIdent(s.name) + (s.options.length > 0 ? ' ' + tableOptions(s.options) : '');
    case 'DropDatabase':
      return 'DROP DATABASE ' + (s.ifExists ? 'IF EXISTS ' : '') + quoteIdent(s.name);
    case 'CreateIndex':
      return (
        'CREATE ' + (s.type === 'INDEX' ? '' : s.type + ' ') + 'INDEX ' + (s.ifNotExists ? 'IF NOT EXISTS ' : '') + quoteIdent(s.name) + ' ON ' +
        formatTableName(s.table) + ' ' + indexColumns(s.columns) + indexOptions(s.using, s.options)
      );
    case 'DropIndex':
      return 'DROP INDEX ' + (s.ifExists ? 'IF EXISTS ' : '') + quoteIdent(s.name) + ' ON ' + formatTableName(s.table);
    case 'CreateView': {
      let out = s.alter ? 'ALTER ' : 'CREATE ' + (s.orReplace ? 'OR REPLACE ' : '');
      if (s.algorithm !== null) out += 'ALGORITHM=' + s.algorithm + ' ';
      if (s.definer !== null) out += 'DEFINER=' + s.definer + ' ';
      if (s.security !== null) out += 'SQL SECURITY ' + s.security + ' ';
      out += 'VIEW ' + formatTableName(s.name);
      if (s.columns !== null) out += ' (' + s.columns.map(quoteIdent).join(', ') + ')';
      out += ' AS ' + f.query(s.query);
      if (s.checkOption !== null) out += s.checkOption === 'CHECK' ? ' WITH CHECK OPTION' : ' WITH ' + s.checkOption + ' CHECK OPTION';
      return out;
    }
    case 'DropView':
      return 'DROP VIEW ' + (s.ifExists ? 'IF EXISTS ' : '') + s.names.map(formatTableName).join(', ');
    case 'LockTables':
      return 'LOCK TABLES ' + s.tables.map((t) => formatTableName(t.table) + (t.alias !== null ? ' AS ' + quoteIdent(t.alias) : '') + ' ' + t.lock).join(', ');
    case 'UnlockTables':
      return 'UNLOCK TABLES';
    case 'Kill':
      return 'KILL ' + (s.type !== null ? s.type + ' ' : '') + f.expr(s.id);
    case 'Flush': {
      let out = 'FLUSH ' + (s.local ? 'LOCAL ' : '') + s.options.join(', ');
      if (s.tables.length > 0) out += ' ' + s.tables.map(formatTableName).join(', ');
      if (s.withReadLock) out += ' WITH READ LOCK' + (s.disableCheckpoint ? ' AND DISABLE CHECKPOINT' : '');
      if (s.forExport) out += ' FOR EXPORT';
      return out;
    }
    case 'Call':
      return 'CALL ' + formatTableName(s.name) + '(' + f.exprs(s.args) + ')';
    case 'Prepare':
      return 'PREPARE ' + quoteIdent(s.name) + ' FROM ' + f.expr(s.from);
    case 'Execute':
      return 'EXECUTE ' + quoteIdent(s.name) + (s.using.length > 0 ? ' USING ' + f.exprs(s.using) : '');
    case 'Deallocate':
      return 'DEALLOCATE PREPARE ' + quoteIdent(s.name);
    case 'NextVal':
      return 'SELECT NEXT ' + f.expr(s.count) + ' VALUES FROM ' + formatTableName(s.table);
    case 'AlterVschema':
      return 'ALTER VSCHEMA ' + alterVschema(s.action);
    case 'SetStatementFor':
      return 'SET STATEMENT ' + s.assignments + ' FOR ' + f.statement(s.statement);
    case 'ExecuteImmediate':
      return 'EXECUTE IMMEDIATE ' + f.expr(s.text) + (s.using.length > 0 ? ' USING ' + f.exprs(s.using) : '');
    case 'StoredProgram':
    case 'Compound':
    case 'SequenceDdl':
    case 'ServerStatement':
      // Sent as written: the shards run the program, and its body's text is MariaDB's to read.
      return s.text;
    default: {
      const never: never = s;
      throw new Error(`unknown statement ${(never as Statement).kind}`);
    }
  }
}
