// DDL and Vitess's ALTER VSCHEMA nodes (the rest of the AST is in ast.ts).

import type { DataType, Expr, QueryExpr, TableName } from './ast.js';

export interface ColumnDef {
  readonly name: string;
  readonly type: DataType;
  readonly nullable: boolean | null;
  readonly default: Expr | null;
  readonly onUpdate: Expr | null;
  readonly autoIncrement: boolean;
  readonly key: 'PRIMARY KEY' | 'UNIQUE KEY' | null;
  readonly comment: string | null;
  readonly generated: { readonly expr: Expr; readonly stored: boolean } | null;
  readonly invisible: boolean;
  readonly check: Expr | null;
  readonly references: ForeignKeyReference | null;
  /** MariaDB attributes kept as written, upper case: `AS ROW START`, `WITH SYSTEM VERSIONING`, engine-defined `NAME=value` (set only when written). */
  readonly attributes?: readonly string[];
}
export interface IndexColumn {
  readonly name: string;
  readonly length: string | null;
  readonly direction: 'ASC' | 'DESC' | null;
  /** `p WITHOUT OVERLAPS`: an application-time period as the last part of a unique key (set only when written). */
  readonly withoutOverlaps?: true;
}
export interface IndexOption {
  readonly name: 'USING' | 'COMMENT' | 'KEY_BLOCK_SIZE' | 'WITH PARSER' | 'VISIBLE' | 'INVISIBLE' | 'IGNORED' | 'NOT IGNORED';
  readonly value: string | null;
}
export interface IndexDef {
  readonly kind: 'Index';
  readonly type: 'PRIMARY' | 'UNIQUE' | 'INDEX' | 'FULLTEXT' | 'SPATIAL';
  readonly constraintName: string | null;
  readonly name: string | null;
  readonly using: 'BTREE' | 'HASH' | null;
  readonly columns: readonly IndexColumn[];
  readonly options: readonly IndexOption[];
}
export type RefAction = 'RESTRICT' | 'CASCADE' | 'SET NULL' | 'NO ACTION' | 'SET DEFAULT';
export interface ForeignKeyReference {
  readonly table: TableName;
  readonly columns: readonly string[];
  readonly onDelete: RefAction | null;
  readonly onUpdate: RefAction | null;
}
export interface ForeignKeyDef {
  readonly kind: 'ForeignKey';
  readonly constraintName: string | null;
  readonly name: string | null;
  readonly columns: readonly string[];
  readonly reference: ForeignKeyReference;
}
export interface CheckDef {
  readonly kind: 'Check';
  readonly constraintName: string | null;
  readonly expr: Expr;
}
/** A table element kept as written: MariaDB's `PERIOD FOR name (start, end)`. */
export interface TextElement {
  readonly kind: 'Text';
  readonly constraintName: null;
  readonly text: string;
}
export type TableConstraint = IndexDef | ForeignKeyDef | CheckDef | TextElement;
/** A table option as `NAME = value`; names are upper case (`ENGINE`, `DEFAULT CHARSET`, `COMMENT`). */
export interface TableOption {
  readonly name: string;
  /** The value as SQL text: a word (`InnoDB`), a number, or a quoted string (`'note'`). */
  readonly value: string;
}
export interface CreateTable {
  readonly kind: 'CreateTable';
  readonly temporary: boolean;
  readonly orReplace: boolean;
  readonly ifNotExists: boolean;
  readonly table: TableName;
  readonly columns: readonly ColumnDef[];
  readonly constraints: readonly TableConstraint[];
  readonly options: readonly TableOption[];
  /** PARTITION BY … kept as its source text. */
  readonly partitionText: string | null;
  readonly like: TableName | null;
  readonly select: QueryExpr | null;
  /** `CREATE TABLE … IGNORE | REPLACE [AS] SELECT`: what a duplicate key does (set only when written). */
  readonly duplicates?: 'IGNORE' | 'REPLACE';
  readonly start: number;
  readonly end: number;
}
export type AlterAction =
  | { readonly kind: 'AddColumn'; readonly columns: readonly ColumnDef[]; readonly position: ColumnPosition | null; readonly ifNotExists: boolean }
  | { readonly kind: 'AddConstraint'; readonly constraint: TableConstraint; readonly ifNotExists: boolean }
  | { readonly kind: 'DropColumn'; readonly name: string; readonly ifExists: boolean }
  | { readonly kind: 'DropIndex'; readonly name: string; readonly ifExists: boolean }
  | { readonly kind: 'DropPrimaryKey' }
  | { readonly kind: 'DropForeignKey'; readonly name: string; readonly ifExists: boolean }
  | { readonly kind: 'DropConstraint'; readonly name: string; readonly ifExists: boolean }
  | { readonly kind: 'ModifyColumn'; readonly column: ColumnDef; readonly position: ColumnPosition | null; readonly ifExists: boolean }
  | { readonly kind: 'ChangeColumn'; readonly oldName: string; readonly column: ColumnDef; readonly position: ColumnPosition | null; readonly ifExists: boolean }
  | { readonly kind: 'AlterColumnDefault'; readonly name: string; readonly default: Expr | null; readonly ifExists?: true }
  | { readonly kind: 'RenameColumn'; readonly oldName: string; readonly newName: string; readonly ifExists?: true }
  | { readonly kind: 'RenameIndex'; readonly oldName: string; readonly newName: string; readonly ifExists?: true }
  | { readonly kind: 'RenameTable'; readonly table: TableName }
  | { readonly kind: 'TableOptions'; readonly options: readonly TableOption[] }
  /** `charsetDefault`: CHARACTER SET DEFAULT (charset is ''); `collateDefault`: COLLATE DEFAULT (both set only when written). */
  | { readonly kind: 'ConvertCharset'; readonly charset: string; readonly collate: string | null; readonly charsetDefault?: true; readonly collateDefault?: true }
  | { readonly kind: 'Algorithm'; readonly value: string }
  | { readonly kind: 'LockOption'; readonly value: string }
  | { readonly kind: 'Force' }
  | { readonly kind: 'EnableKeys'; readonly enable: boolean }
  /** Kept as written: partition maintenance, tablespaces, ORDER BY, system versioning, periods. */
  | { readonly kind: 'Text'; readonly text: string };
export type ColumnPosition = { readonly first: true } | { readonly first: false; readonly after: string };
export interface AlterTable {
  readonly kind: 'AlterTable';
  /** `ONLINE`, `IGNORE` or `ONLINE IGNORE` between ALTER and TABLE (set only when written). */
  readonly lead?: string;
  /** ALTER TABLE IF EXISTS t (set only when written). */
  readonly ifExists?: true;
  readonly table: TableName;
  readonly actions: readonly AlterAction[];
  readonly partitionText: string | null;
  readonly start: number;
  readonly end: number;
}
export interface DropTable {
  readonly kind: 'DropTable';
  readonly temporary: boolean;
  readonly ifExists: boolean;
  readonly tables: readonly TableName[];
  readonly cascade: 'CASCADE' | 'RESTRICT' | null;
  readonly start: number;
  readonly end: number;
}
export interface TruncateTable {
  readonly kind: 'TruncateTable';
  readonly table: TableName;
  readonly start: number;
  readonly end: number;
}
export interface RenameTable {
  readonly kind: 'RenameTable';
  readonly pairs: readonly { readonly from: TableName; readonly to: TableName }[];
  readonly start: number;
  readonly end: number;
}
export interface CreateDatabase {
  readonly kind: 'CreateDatabase';
  readonly ifNotExists: boolean;
  readonly name: string;
  readonly options: readonly TableOption[];
  readonly start: number;
  readonly end: number;
}
export interface DropDatabase {
  readonly kind: 'DropDatabase';
  readonly ifExists: boolean;
  readonly name: string;
  readonly start: number;
  readonly end: number;
}
export interface CreateIndex {
  readonly kind: 'CreateIndex';
  readonly type: 'UNIQUE' | 'INDEX' | 'FULLTEXT' | 'SPATIAL';
  readonly ifNotExists: boolean;
  readonly name: string;
  readonly table: TableName;
  readonly using: 'BTREE' | 'HASH' | null;
  readonly columns: readonly IndexColumn[];
  readonly options: readonly IndexOption[];
  readonly start: number;
  readonly end: number;
}
export interface DropIndex {
  readonly kind: 'DropIndex';
  readonly ifExists: boolean;
  readonly name: string;
  readonly table: TableName;
  readonly start: number;
  readonly end: number;
}
export interface CreateView {
  readonly kind: 'CreateView';
  /** ALTER VIEW rather than CREATE. */
  readonly alter: boolean;
  readonly orReplace: boolean;
  readonly algorithm: 'UNDEFINED' | 'MERGE' | 'TEMPTABLE' | null;
  readonly definer: string | null;
  readonly security: 'DEFINER' | 'INVOKER' | null;
  readonly name: TableName;
  readonly columns: readonly string[] | null;
  readonly query: QueryExpr;
  readonly checkOption: 'CASCADED' | 'LOCAL' | 'CHECK' | null;
  readonly start: number;
  readonly end: number;
}
export interface DropView {
  readonly kind: 'DropView';
  readonly ifExists: boolean;
  readonly names: readonly TableName[];
  readonly start: number;
  readonly end: number;
}

export interface VindexParam {
  readonly key: string;
  readonly value: string;
}
export type AlterVschemaAction =
  | { readonly kind: 'CreateVindex'; readonly name: TableName; readonly type: string; readonly params: readonly VindexParam[] }
  | { readonly kind: 'DropVindex'; readonly name: TableName }
  | { readonly kind: 'AddTable'; readonly table: TableName }
  | { readonly kind: 'DropTable'; readonly table: TableName }
  | { readonly kind: 'AddSequence'; readonly table: TableName }
  | { readonly kind: 'AddColumnVindex'; readonly table: TableName; readonly name: string; readonly columns: readonly string[]; readonly type: string | null; readonly params: readonly VindexParam[] }
  | { readonly kind: 'DropColumnVindex'; readonly table: TableName; readonly name: string }
  | { readonly kind: 'AddAutoIncrement'; readonly table: TableName; readonly column: string; readonly sequence: TableName }
  | { readonly kind: 'DropAutoIncrement'; readonly table: TableName };
export interface AlterVschema {
  readonly kind: 'AlterVschema';
  readonly action: AlterVschemaAction;
  readonly start: number;
  readonly end: number;
}

