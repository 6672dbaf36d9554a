// MariaDB 10.11's stored programs: CREATE [OR REPLACE] [DEFINER = …] PROCEDURE / FUNCTION / TRIGGER /
// EVENT with their bodies, DROP and ALTER of them, and BEGIN NOT ATOMIC … END. A body is read as
// MariaDB's compound statements (BEGIN … END blocks with DECLARE of variables, conditions, handlers
// and cursors; IF, CASE, LOOP, WHILE, REPEAT, FOR; LEAVE, ITERATE, RETURN, OPEN, FETCH, CLOSE,
// SIGNAL, RESIGNAL, GET DIAGNOSTICS); the statements inside are parsed by the statement parser
// where it knows them and otherwise kept as text up to their `;` for MariaDB to check, since
// the shards run the program, not the gate. Kept apart from ddl.ts so grammar work elsewhere
// merges cleanly.
import type { Statement } from './ast.js';
import type { CompoundBlockStatement, CompoundStatement, Declaration, StoredObject, StoredParam, StoredProgramDdl } from './ast-stored.js';
import { parseExpr } from './expr.js';
import { T } from './lexer.js';
import { parseStatement, type Parser } from './parser.js';

const OBJECTS: readonly StoredObject[] = ['PROCEDURE', 'FUNCTION', 'TRIGGER', 'EVENT'];

function objectWord(p: Parser, at = 0): StoredObject | null {
  const save = p.pos;
  p.pos += at;
  const w = OBJECTS.find((o) => p.isWord(o)) ?? null;
  p.pos = save;
  return w;
}

/**
 * After CREATE [OR REPLACE]: whether a stored program follows (past DEFINER = … and AGGREGATE);
 * the position is left where it was.
 */
export function storedProgramAhead(p: Parser): boolean {
  const save = p.pos;
  try {
    skipDefiner(p);
    if (p.isWord('AGGREGATE')) p.pos++;
    return objectWord(p) !== null;
  } finally {
    p.pos = save;
  }
}

/** DEFINER = user@host | CURRENT_USER[()] | role. */
function skipDefiner(p: Parser): void {
  if (!p.isWord('DEFINER')) return;
  p.pos++;
  p.expect(T.EQ);
  let n = 0;
  while (!p.atEnd() && n < 8 && objectWord(p) === null && !p.isWord('AGGREGATE') && !p.isWord('VIEW') && !p.isWord('SQL') && !p.isWord('ALGORITHM')) {
    p.pos++;
    n++;
  }
}

function ifNotExists(p: Parser): boolean {
  if (!(p.isWord('IF') && wordAt(p, 1) === 'NOT' && wordAt(p, 2) === 'EXISTS')) return false;
  p.pos += 3;
  return true;
}

function ifExists(p: Parser): boolean {
  if (!(p.isWord('IF') && wordAt(p, 1) === 'EXISTS')) return false;
  p.pos += 2;
  return true;
}

function wordAt(p: Parser, n: number): string {
  const i = p.pos + n;
  return p.kind[i] === T.IDENT ? p.upperText(i) : '';
}

/** CREATE [OR REPLACE] (CREATE and OR REPLACE already read) [DEFINER = …] [AGGREGATE] PROCEDURE | FUNCTION | TRIGGER | EVENT … */
export function parseCreateStored(p: Parser, start: number, orReplace: boolean): StoredProgramDdl {
  skipDefiner(p);
  if (p.isWord('AGGREGATE')) p.pos++;
  const object = objectWord(p) ?? p.fail();
  p.pos++;
  const notExists = ifNotExists(p);
  const name = p.tableName();
  let table = null;
  let params: StoredParam[] = [];
  let returns: string | null = null;
  let body: CompoundStatement | null = null;
  switch (object) {
    case 'PROCEDURE':
    case 'FUNCTION':
      if (object === 'FUNCTION' && p.isWord('RETURNS')) {
        // A loadable function: CREATE FUNCTION f RETURNS STRING SONAME 'lib.so'.
        p.pos++;
        returns = p.identAny();
        if (!p.isWord('SONAME')) p.fail();
        p.pos++;
        p.stringToken();
        break;
      }
      // MariaDB 10.11 takes IN / OUT / INOUT for function parameters too (sp-inout.test).
      params = parseParams(p, true);
      if (object === 'FUNCTION') {
        if (!p.isWord('RETURNS')) p.fail();
        p.pos++;
        returns = dataTypeText(p);
      }
      skipCharacteristics(p);
      body = parseCompound(p);
      break;
    case 'TRIGGER': {
      if (!p.isWord('BEFORE') && !p.isWord('AFTER')) p.fail();
      p.pos++;
      if (!p.isWord('INSERT') && !p.isWord('UPDATE') && !p.isWord('DELETE')) p.fail();
      p.pos++;
      expectWord(p, 'ON');
      table = p.tableName();
      expectWord(p, 'FOR');
      expectWord(p, 'EACH');
      expectWord(p, 'ROW');
      if (p.isWord('FOLLOWS') || p.isWord('PRECEDES')) {
        p.pos++;
        p.ident();
      }
      body = parseCompound(p);
      break;
    }
    case 'EVENT':
      expectWord(p, 'ON');
      expectWord(p, 'SCHEDULE');
      skipUntilWord(p, ['DO']);
      expectWord(p, 'DO');
      body = parseCompound(p);
      break;
  }
  const end = p.prevEnd();
  return { kind: 'StoredProgram', action: 'CREATE', object, orReplace, ifExists: false, ifNotExists: notExists, name, table, params, returns, body, text: p.sql.slice(start, end), start, end };
}

/** DROP (already read) PROCEDURE | FUNCTION | TRIGGER | EVENT [IF EXISTS] name, or null when another DROP follows. */
export function parseDropStored(p: Parser, start: number): StoredProgramDdl | null {
  const object = objectWord(p);
  if (object === null) return null;
  p.pos++;
  const exists = ifExists(p);
  const name = p.tableName();
  const end = p.prevEnd();
  return { kind: 'StoredProgram', action: 'DROP', object, orReplace: false, ifExists: exists, ifNotExists: false, name, table: null, params: [], returns: null, body: null, text: p.sql.slice(start, end), start, end };
}

/** ALTER (already read) [DEFINER = …] PROCEDURE | FUNCTION name characteristics, or ALTER EVENT name … [DO body]; null when another ALTER follows. */
export function parseAlterStored(p: Parser, start: number): StoredProgramDdl | null {
  const save = p.pos;
  skipDefiner(p);
  const object = objectWord(p);
  if (object === null || object === 'TRIGGER') {
    p.pos = save;
    return null;
  }
  p.pos++;
  const name = p.tableName();
  let body: CompoundStatement | null = null;
  if (object === 'EVENT') {
    skipUntilWord(p, ['DO']);
    if (p.isWord('DO')) {
      p.pos++;
      body = parseCompound(p);
    }
  } else skipCharacteristics(p);
  const end = p.prevEnd();
  return { kind: 'StoredProgram', action: 'ALTER', object, orReplace: false, ifExists: false, ifNotExists: false, name, table: null, params: [], returns: null, body, text: p.sql.slice(start, end), start, end };
}

/** BEGIN NOT ATOMIC … END at the top level (the parser is at BEGIN). */
export function parseCompoundBlock(p: Parser): CompoundBlockStatement {
  const start = p.start[p.pos]!;
  const body = parseCompound(p);
  const end = p.prevEnd();
  return { kind: 'Compound', body, text: p.sql.slice(start, end), start, end };
}

/** Whether BEGIN at the current position opens a compound statement (BEGIN NOT ATOMIC). */
export function compoundBlockAhead(p: Parser): boolean {
  return p.isWord('BEGIN') && wordAt(p, 1) === 'NOT' && wordAt(p, 2) === 'ATOMIC';
}

/**
 * Whether a compound statement other than BEGIN NOT ATOMIC starts here: MariaDB runs IF, CASE,
 * LOOP, WHILE, REPEAT and FOR outside stored programs too, labelled or not (`l1: LOOP … END LOOP l1`).
 */
export function compoundControlAhead(p: Parser): boolean {
  let i = 0;
  if ((p.k() === T.IDENT || p.k() === T.QIDENT) && p.peekKind(1) === T.COLON) {
    i = 2;
    const w = wordAt(p, i);
    return w === 'LOOP' || w === 'WHILE' || w === 'REPEAT' || w === 'FOR' || (w === 'BEGIN' && wordAt(p, i + 1) === 'NOT' && wordAt(p, i + 2) === 'ATOMIC');
  }
  const w = wordAt(p, 0);
  if (w === 'LOOP' || w === 'REPEAT') return true;
  // FOR x IN …, WHILE cond DO, IF cond THEN, CASE [expr] WHEN: the statement forms (no other statement starts so).
  if (w === 'FOR') return p.peekKind(1) === T.IDENT && wordAt(p, 2) === 'IN';
  return w === 'WHILE' || w === 'IF' || w === 'CASE';
}

function expectWord(p: Parser, w: string): void {
  if (!p.isWord(w)) p.fail();
  p.pos++;
}

/** Skips tokens (parentheses balanced) up to one of `words` at depth 0 or the statement's end. */
function skipUntilWord(p: Parser, words: readonly string[]): void {
  let depth = 0;
  while (p.k() !== T.EOF) {
    const k = p.k();
    if (depth === 0 && (k === T.SEMI || words.some((w) => p.isWord(w)))) return;
    if (k === T.LPAREN) depth++;
    else if (k === T.RPAREN) {
      if (depth === 0) p.fail();
      depth--;
    }
    p.pos++;
  }
}

function parseParams(p: Parser, modes: boolean): StoredParam[] {
  p.expect(T.LPAREN);
  const out: StoredParam[] = [];
  if (p.eat(T.RPAREN)) return out;
  do {
    let mode: StoredParam['mode'] = null;
    if (modes && (p.isWord('IN') || p.isWord('OUT') || p.isWord('INOUT'))) {
      mode = p.upperText() as StoredParam['mode'];
      p.pos++;
    }
    const name = p.ident();
    out.push({ mode, name, type: dataTypeText(p) });
  } while (p.eat(T.COMMA));
  p.expect(T.RPAREN);
  return out;
}

/** Words that may follow a data type's name in a declaration. */
const TYPE_TAIL: ReadonlySet<string> = new Set(['UNSIGNED', 'SIGNED', 'ZEROFILL', 'BINARY', 'ASCII', 'UNICODE', 'BYTE', 'PRECISION', 'VARYING']);

/** A data type as written: `name [(…)] [UNSIGNED …] [CHARACTER SET x] [COLLATE y]`, `TYPE OF t.c`, `ROW TYPE OF t`, `ROW(…)`. */
function dataTypeText(p: Parser): string {
  const from = p.start[p.pos]!;
  if (p.isWord('ROW') && wordAt(p, 1) === 'TYPE') p.pos++;
  if (p.isWord('TYPE') && wordAt(p, 1) === 'OF') {
    // TYPE OF v, TYPE OF t.c, TYPE OF db.t.c; ROW TYPE OF t, ROW TYPE OF db.t.
    p.pos += 2;
    p.ident();
    for (let n = 0; n < 2 && p.eat(T.DOT); n++) p.identAny();
    return p.sql.slice(from, p.prevEnd());
  }
  if (p.k() !== T.IDENT) p.fail();
  p.pos++;
  // Two-word types: DOUBLE PRECISION, CHAR VARYING, LONG VARCHAR, NATIONAL CHAR.
  if (p.k() === T.IDENT && (p.isWord('VARCHAR') || p.isWord('CHAR') || p.isWord('VARBINARY') || (p.isWord('CHARACTER') && wordAt(p, 1) !== 'SET'))) p.pos++;
  if (p.k() === T.LPAREN) skipParens(p);
  for (;;) {
    const w = wordAt(p, 0);
    if (TYPE_TAIL.has(w)) p.pos++;
    else if (w === 'CHARSET' || w === 'COLLATE') {
      p.pos++;
      p.identOrString();
    } else if (w === 'CHARACTER' && wordAt(p, 1) === 'SET') {
      p.pos += 2;
      p.identOrString();
    } else break;
  }
  return p.sql.slice(from, p.prevEnd());
}

function skipParens(p: Parser): void {
  p.expect(T.LPAREN);
  let depth = 1;
  while (depth > 0) {
    const k = p.k();
    if (k === T.EOF) p.fail();
    if (k === T.LPAREN) depth++;
    else if (k === T.RPAREN) depth--;
    p.pos++;
  }
}

/** LANGUAGE SQL, [NOT] DETERMINISTIC, CONTAINS SQL, NO SQL, READS SQL DATA, MODIFIES SQL DATA, SQL SECURITY …, COMMENT '…'. */
function skipCharacteristics(p: Parser): void {
  for (;;) {
    const w = wordAt(p, 0);
    if (w === 'LANGUAGE') p.pos += 2;
    else if (w === 'DETERMINISTIC') p.pos++;
    else if (w === 'NOT' && wordAt(p, 1) === 'DETERMINISTIC') p.pos += 2;
    else if ((w === 'CONTAINS' || w === 'NO') && wordAt(p, 1) === 'SQL') p.pos += 2;
    else if ((w === 'READS' || w === 'MODIFIES') && wordAt(p, 1) === 'SQL' && wordAt(p, 2) === 'DATA') p.pos += 3;
    else if (w === 'SQL' && wordAt(p, 1) === 'SECURITY') {
      p.pos += 2;
      if (!p.isWord('DEFINER') && !p.isWord('INVOKER')) p.fail();
      p.pos++;
    } else if (w === 'COMMENT') {
      p.pos++;
      p.stringToken();
    } else return;
  }
}

/** Words that end a statement list (the block or branch around it continues). */
const LIST_ENDS: ReadonlySet<string> = new Set(['END', 'ELSE', 'ELSEIF', 'WHEN', 'UNTIL']);
const CONTROL_WORDS: ReadonlySet<string> = new Set(['LEAVE', 'ITERATE', 'OPEN', 'CLOSE', 'FETCH', 'SIGNAL', 'RESIGNAL', 'GET']);

/** Statements each followed by `;`, up to END, ELSE, ELSEIF, WHEN or UNTIL. */
function statementList(p: Parser): CompoundStatement[] {
  const out: CompoundStatement[] = [];
  while (!LIST_ENDS.has(wordAt(p, 0))) {
    if (p.k() === T.EOF) p.fail();
    out.push(parseCompound(p));
    p.expect(T.SEMI);
  }
  return out;
}

/** One statement of a body: a compound statement or a plain one (no trailing `;` read). */
export function parseCompound(p: Parser): CompoundStatement {
  p.enter();
  try {
    let label: string | null = null;
    if ((p.k() === T.IDENT || p.k() === T.QIDENT) && p.peekKind(1) === T.COLON) {
      label = p.ident();
      p.pos++;
      const w = wordAt(p, 0);
      if (!['BEGIN', 'LOOP', 'WHILE', 'REPEAT', 'FOR'].includes(w)) p.fail();
    }
    const w = wordAt(p, 0);
    switch (w) {
      case 'BEGIN': {
        p.pos++;
        const notAtomic = p.isWord('NOT') && wordAt(p, 1) === 'ATOMIC';
        if (notAtomic) p.pos += 2;
        const declarations: Declaration[] = [];
        while (p.isWord('DECLARE')) {
          declarations.push(parseDeclaration(p));
          p.expect(T.SEMI);
        }
        const statements = statementList(p);
        expectWord(p, 'END');
        endLabel(p, label);
        return { kind: 'Block', label, notAtomic, declarations, statements };
      }
      case 'IF': {
        p.pos++;
        const branches: { cond: import('./ast.js').Expr | null; body: CompoundStatement[] }[] = [];
        let cond: import('./ast.js').Expr | null = parseExpr(p);
        for (;;) {
          expectWord(p, 'THEN');
          branches.push({ cond, body: statementList(p) });
          if (p.isWord('ELSEIF')) {
            p.pos++;
            cond = parseExpr(p);
            continue;
          }
          if (p.isWord('ELSE')) {
            p.pos++;
            branches.push({ cond: null, body: statementList(p) });
          }
          break;
        }
        expectWord(p, 'END');
        expectWord(p, 'IF');
        return { kind: 'If', branches };
      }
      case 'CASE': {
        p.pos++;
        const value = p.isWord('WHEN') ? null : parseExpr(p);
        const whens: { cond: import('./ast.js').Expr; body: CompoundStatement[] }[] = [];
        while (p.isWord('WHEN')) {
          p.pos++;
          const cond = parseExpr(p);
          expectWord(p, 'THEN');
          whens.push({ cond, body: statementList(p) });
        }
        if (whens.length === 0) p.fail();
        let otherwise: CompoundStatement[] | null = null;
        if (p.isWord('ELSE')) {
          p.pos++;
          otherwise = statementList(p);
        }
        expectWord(p, 'END');
        expectWord(p, 'CASE');
        return { kind: 'Case', value, whens, otherwise };
      }
      case 'LOOP': {
        p.pos++;
        const body = statementList(p);
        expectWord(p, 'END');
        expectWord(p, 'LOOP');
        endLabel(p, label);
        return { kind: 'Loop', loop: 'LOOP', label, cond: null, body };
      }
      case 'WHILE': {
        p.pos++;
        const cond = parseExpr(p);
        expectWord(p, 'DO');
        const body = statementList(p);
        expectWord(p, 'END');
        expectWord(p, 'WHILE');
        endLabel(p, label);
        return { kind: 'Loop', loop: 'WHILE', label, cond, body };
      }
      case 'REPEAT': {
        p.pos++;
        const body = statementList(p);
        expectWord(p, 'UNTIL');
        const cond = parseExpr(p);
        expectWord(p, 'END');
        expectWord(p, 'REPEAT');
        endLabel(p, label);
        return { kind: 'Loop', loop: 'REPEAT', label, cond, body };
      }
      case 'FOR': {
        // FOR i IN [REVERSE] a .. b DO, FOR rec IN cursor DO, FOR rec IN (SELECT …) DO.
        p.pos++;
        p.ident();
        expectWord(p, 'IN');
        skipUntilWord(p, ['DO']);
        expectWord(p, 'DO');
        const body = statementList(p);
        expectWord(p, 'END');
        expectWord(p, 'FOR');
        endLabel(p, label);
        return { kind: 'Loop', loop: 'FOR', label, cond: null, body };
      }
      case 'RETURN': {
        const from = p.start[p.pos]!;
        p.pos++;
        parseExpr(p);
        return { kind: 'Control', word: 'RETURN', text: p.sql.slice(from, p.prevEnd()) };
      }
      default:
        if (CONTROL_WORDS.has(w) && !(w === 'GET' && !['DIAGNOSTICS', 'CURRENT', 'STACKED'].includes(wordAt(p, 1)))) {
          const from = p.start[p.pos]!;
          p.pos++;
          skipToSemi(p);
          return { kind: 'Control', word: w === 'GET' ? 'GET DIAGNOSTICS' : w, text: p.sql.slice(from, p.prevEnd()) };
        }
        return simpleStatement(p);
    }
  } finally {
    p.leave();
  }
}

function endLabel(p: Parser, label: string | null): void {
  if (label !== null && (p.k() === T.IDENT || p.k() === T.QIDENT) && p.ident().toLowerCase() !== label.toLowerCase()) p.fail(p.pos - 1);
}

/** Up to (not past) the next `;` at parenthesis depth 0; at least one token. */
function skipToSemi(p: Parser): void {
  let depth = 0;
  while (p.k() !== T.EOF && !(depth === 0 && p.k() === T.SEMI)) {
    if (p.k() === T.LPAREN) depth++;
    else if (p.k() === T.RPAREN) depth--;
    p.pos++;
  }
}

/** A plain statement inside a body: parsed when the statement parser knows it, else its text up to `;`. */
function simpleStatement(p: Parser): CompoundStatement {
  const save = p.pos;
  const from = p.start[p.pos]!;
  let statement: Statement | null = null;
  try {
    statement = parseStatement(p);
    if (p.k() !== T.SEMI && p.k() !== T.EOF) throw new Error('not at the end of the statement');
  } catch {
    p.pos = save;
    statement = null;
    skipToSemi(p);
  }
  if (p.pos === save) p.fail();
  return { kind: 'Simple', statement, text: p.sql.slice(from, p.prevEnd()) };
}

function parseDeclaration(p: Parser): Declaration {
  expectWord(p, 'DECLARE');
  const first = p.pos;
  const w0 = wordAt(p, 0);
  if ((w0 === 'CONTINUE' || w0 === 'EXIT' || w0 === 'UNDO') && wordAt(p, 1) === 'HANDLER') {
    p.pos += 2;
    expectWord(p, 'FOR');
    const conditions: string[] = [];
    do {
      const from = p.start[p.pos]!;
      if (p.isWord('SQLSTATE')) {
        p.pos++;
        if (p.isWord('VALUE')) p.pos++;
        p.stringToken();
      } else if (p.isWord('SQLWARNING') || p.isWord('SQLEXCEPTION')) p.pos++;
      else if (p.isWord('NOT') && wordAt(p, 1) === 'FOUND') p.pos += 2;
      else if (p.k() === T.INT) p.pos++;
      else p.ident();
      conditions.push(p.sql.slice(from, p.prevEnd()));
    } while (p.eat(T.COMMA));
    return { kind: 'Handler', action: w0 as 'CONTINUE' | 'EXIT' | 'UNDO', conditions, body: parseCompound(p) };
  }
  const name = p.ident();
  if (p.isWord('CONDITION')) {
    p.pos++;
    expectWord(p, 'FOR');
    const from = p.start[p.pos]!;
    if (p.isWord('SQLSTATE')) {
      p.pos++;
      if (p.isWord('VALUE')) p.pos++;
      p.stringToken();
    } else p.expect(T.INT);
    return { kind: 'Condition', name, value: p.sql.slice(from, p.prevEnd()) };
  }
  if (p.isWord('CURSOR')) {
    p.pos++;
    if (p.k() === T.LPAREN) skipParens(p);
    expectWord(p, 'FOR');
    const from = p.start[p.pos]!;
    skipToSemi(p);
    return { kind: 'Cursor', name, query: p.sql.slice(from, p.prevEnd()) };
  }
  p.pos = first;
  const names = [p.ident()];
  while (p.eat(T.COMMA)) names.push(p.ident());
  const type = dataTypeText(p);
  let def = null;
  if (p.isWord('DEFAULT')) {
    p.pos++;
    def = parseExpr(p);
  }
  return { kind: 'Variable', names, type, default: def };
}
