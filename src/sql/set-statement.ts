// MariaDB's SET STATEMENT var = value [, …] FOR statement: session variables for one statement.
// The inner statement is parsed as any other, so it is routed and planned as it would be alone;
// the assignments are kept as written and sent in front of each shard query. Apart from admin.ts so
// grammar work elsewhere merges cleanly.
import type { Statement } from './ast.js';
import { parseExpr } from './expr.js';
import { T } from './lexer.js';
import { parseStatement, type Parser } from './parser.js';

export interface SetStatementFor {
  readonly kind: 'SetStatementFor';
  /** `var = value, …` as written. */
  readonly assignments: string;
  readonly statement: Statement;
  /** The inner statement's text. */
  readonly statementText: string;
  readonly start: number;
  readonly end: number;
}

/** At SET: whether STATEMENT follows. */
export function setStatementAhead(p: Parser): boolean {
  return p.kind[p.pos + 1] === T.IDENT && p.upperText(p.pos + 1) === 'STATEMENT';
}

export function parseSetStatementFor(p: Parser): SetStatementFor {
  const start = p.start[p.pos]!;
  p.pos += 2;
  const from = p.start[p.pos]!;
  do {
    if (p.k() === T.SYSVAR) p.pos++;
    else p.identAny();
    if (!p.eat(T.EQ)) p.expect(T.ASSIGN);
    parseExpr(p);
  } while (p.eat(T.COMMA));
  const assignments = p.sql.slice(from, p.prevEnd());
  if (!(p.k() === T.IDENT && p.upperText() === 'FOR')) p.fail();
  p.pos++;
  const innerStart = p.start[p.pos]!;
  const statement = parseStatement(p);
  if (statement.kind === 'SetStatementFor' || statement.kind === 'Set' || statement.kind === 'Use' || statement.kind === 'Begin' || statement.kind === 'Commit' || statement.kind === 'Rollback') {
    // MariaDB refuses SET STATEMENT around these (its 1064 / 1235); so does the gate.
    p.fail(p.pos - 1);
  }
  const end = p.prevEnd();
  return { kind: 'SetStatementFor', assignments, statement, statementText: p.sql.slice(innerStart, end), start, end };
}
