// MariaDB sequences' DDL: CREATE [OR REPLACE] [TEMPORARY] SEQUENCE [IF NOT EXISTS] s [options],
// ALTER SEQUENCE [IF EXISTS] s options, DROP [TEMPORARY] SEQUENCE [IF EXISTS] s [, …]. The options
// (START WITH, INCREMENT BY, MINVALUE, MAXVALUE, CACHE, CYCLE, RESTART, table options, …) are
// checked for their shape and kept as written: MariaDB reads them. Apart from ddl.ts so grammar work
// elsewhere merges cleanly.
import type { TableName } from './ast.js';
import { T } from './lexer.js';
import type { Parser } from './parser.js';

export interface SequenceDdl {
  readonly kind: 'SequenceDdl';
  readonly action: 'CREATE' | 'ALTER' | 'DROP';
  readonly names: readonly TableName[];
  /** The statement as written: what the shard gets. */
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

function word(p: Parser, n = 0): string {
  const i = p.pos + n;
  return p.kind[i] === T.IDENT ? p.upperText(i) : '';
}

/** After CREATE [OR REPLACE]: [TEMPORARY] SEQUENCE ahead (the position is left as it was). */
export function sequenceAhead(p: Parser): boolean {
  return word(p) === 'SEQUENCE' || (word(p) === 'TEMPORARY' && word(p, 1) === 'SEQUENCE');
}

/** Options: words, numbers (signed), `=`, and table options' strings; up to the statement's end. */
function skipOptions(p: Parser): void {
  while (!p.atEnd()) {
    const k = p.k();
    if (k === T.IDENT || k === T.INT || k === T.DECIMAL || k === T.EQ || k === T.STRING || k === T.COMMA) p.pos++;
    else if (k === T.MINUS || k === T.PLUS) {
      p.pos++;
      if (p.k() !== T.INT && p.k() !== T.DECIMAL) p.fail();
    } else p.fail();
  }
}

function ifClause(p: Parser, not: boolean): void {
  if (word(p) !== 'IF') return;
  p.pos++;
  if (not) {
    if (word(p) !== 'NOT') p.fail();
    p.pos++;
  }
  if (word(p) !== 'EXISTS') p.fail();
  p.pos++;
}

/** CREATE [OR REPLACE] (read) [TEMPORARY] SEQUENCE … */
export function parseCreateSequence(p: Parser, start: number): SequenceDdl {
  if (word(p) === 'TEMPORARY') p.pos++;
  p.pos++; // SEQUENCE
  ifClause(p, true);
  const name = p.tableName();
  skipOptions(p);
  const end = p.prevEnd();
  return { kind: 'SequenceDdl', action: 'CREATE', names: [name], text: p.sql.slice(start, end), start, end };
}

/** DROP (read) [TEMPORARY] SEQUENCE … or ALTER (read) SEQUENCE …; null when something else follows. */
export function parseDropOrAlterSequence(p: Parser, start: number, action: 'DROP' | 'ALTER'): SequenceDdl | null {
  const save = p.pos;
  if (action === 'DROP' && word(p) === 'TEMPORARY') p.pos++;
  if (word(p) !== 'SEQUENCE') {
    p.pos = save;
    return null;
  }
  p.pos++;
  ifClause(p, false);
  const names = [p.tableName()];
  if (action === 'DROP') while (p.eat(T.COMMA)) names.push(p.tableName());
  else {
    if (p.atEnd()) p.fail();
    skipOptions(p);
  }
  const end = p.prevEnd();
  return { kind: 'SequenceDdl', action, names, text: p.sql.slice(start, end), start, end };
}
