// AST of MariaDB's stored programs: CREATE/DROP/ALTER PROCEDURE, FUNCTION, TRIGGER and EVENT with
// their compound-statement bodies, and top-level BEGIN NOT ATOMIC … END. The gate routes these
// (every shard of a keyspace for the DDL) and sends their text as written; the tree is what the
// parser understood of them, for tests and for future checks of the tables a body names.
import type { Expr, Statement, TableName } from './ast.js';

export type StoredObject = 'PROCEDURE' | 'FUNCTION' | 'TRIGGER' | 'EVENT';

export interface StoredParam {
  readonly mode: 'IN' | 'OUT' | 'INOUT' | null;
  readonly name: string;
  /** The data type as written. */
  readonly type: string;
}

export interface StoredProgramDdl {
  readonly kind: 'StoredProgram';
  readonly action: 'CREATE' | 'DROP' | 'ALTER';
  readonly object: StoredObject;
  readonly orReplace: boolean;
  readonly ifExists: boolean;
  readonly ifNotExists: boolean;
  readonly name: TableName;
  /** A trigger's table. */
  readonly table: TableName | null;
  readonly params: readonly StoredParam[];
  /** A function's RETURNS type as written. */
  readonly returns: string | null;
  /** CREATE's body (ALTER EVENT … DO too); null for DROP and ALTER. */
  readonly body: CompoundStatement | null;
  /** The statement as the client wrote it: what the shards get. */
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

/** Top-level BEGIN NOT ATOMIC … END (an anonymous block). */
export interface CompoundBlockStatement {
  readonly kind: 'Compound';
  readonly body: CompoundStatement;
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

export type Declaration =
  | { readonly kind: 'Variable'; readonly names: readonly string[]; readonly type: string; readonly default: Expr | null }
  | { readonly kind: 'Condition'; readonly name: string; readonly value: string }
  | { readonly kind: 'Handler'; readonly action: 'CONTINUE' | 'EXIT' | 'UNDO'; readonly conditions: readonly string[]; readonly body: CompoundStatement }
  | { readonly kind: 'Cursor'; readonly name: string; readonly query: string };

export type CompoundStatement =
  | { readonly kind: 'Block'; readonly label: string | null; readonly notAtomic: boolean; readonly declarations: readonly Declaration[]; readonly statements: readonly CompoundStatement[] }
  | { readonly kind: 'If'; readonly branches: readonly { readonly cond: Expr | null; readonly body: readonly CompoundStatement[] }[] }
  | { readonly kind: 'Case'; readonly value: Expr | null; readonly whens: readonly { readonly cond: Expr; readonly body: readonly CompoundStatement[] }[]; readonly otherwise: readonly CompoundStatement[] | null }
  | { readonly kind: 'Loop'; readonly loop: 'LOOP' | 'WHILE' | 'REPEAT' | 'FOR'; readonly label: string | null; readonly cond: Expr | null; readonly body: readonly CompoundStatement[] }
  /** LEAVE, ITERATE, RETURN, OPEN, CLOSE, FETCH, SIGNAL, RESIGNAL, GET DIAGNOSTICS: the leading word and the text. */
  | { readonly kind: 'Control'; readonly word: string; readonly text: string }
  /** Any other statement: parsed when the gate's parser knows it (null when not: MariaDB checks it). */
  | { readonly kind: 'Simple'; readonly statement: Statement | null; readonly text: string };
