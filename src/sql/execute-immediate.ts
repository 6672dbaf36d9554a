// MariaDB's EXECUTE IMMEDIATE expr [USING expr, …]: a statement whose text is known only when it
// runs. The expression and arguments are parsed; the gate runs the statement as written on the
// session's one shard. Apart from admin.ts so grammar work elsewhere merges cleanly.
import type { Expr } from './ast.js';
import { parseExpr, parseValueExpr } from './expr.js';
import { T } from './lexer.js';
import type { Parser } from './parser.js';

export interface ExecuteImmediate {
  readonly kind: 'ExecuteImmediate';
  readonly text: Expr;
  readonly using: readonly Expr[];
  /** The statement as written: what the shard gets. */
  readonly sql: string;
  readonly start: number;
  readonly end: number;
}

/** At EXECUTE: whether IMMEDIATE follows. */
export function executeImmediateAhead(p: Parser): boolean {
  return p.kind[p.pos + 1] === T.IDENT && p.upperText(p.pos + 1) === 'IMMEDIATE';
}

export function parseExecuteImmediate(p: Parser): ExecuteImmediate {
  const start = p.start[p.pos]!;
  p.pos += 2;
  const text = parseExpr(p);
  const using: Expr[] = [];
  if (p.k() === T.IDENT && p.upperText() === 'USING') {
    p.pos++;
    do using.push(parseValueExpr(p));
    while (p.eat(T.COMMA));
  }
  const end = p.prevEnd();
  return { kind: 'ExecuteImmediate', text, using, sql: p.sql.slice(start, end), start, end };
}
