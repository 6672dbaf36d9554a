// The normalizer: literals in queries and DML become bind variables (`:vtg1`, `:vtg2`, …; an IN
// list of literals becomes one list variable `::vtg1`), so statements that differ only in their
// values share one plan. It returns the normalized statement, its SQL (the plan cache key) and the
// values. Left alone, because MySQL needs a literal there or the planner reads the value:
// LIMIT/OFFSET, positional ORDER BY / GROUP BY (`ORDER BY 1`), window frame offsets, NULL,
// TRUE/FALSE, DATE/TIME/TIMESTAMP literals, and every statement other than SELECT / INSERT /
// REPLACE / UPDATE / DELETE (DDL, SET, SHOW, …).

import type { Expr, Literal, Statement } from './ast.js';
import { type BindValue, format } from './format.js';
import { parse } from './parser.js';
import { rewrite, rewriteExpr, type ExprPlace, type Rewriter } from './walk.js';

export interface Normalized {
  /** Canonical SQL of the normalized statement: the plan cache key. */
  readonly key: string;
  readonly statement: Statement;
  /** Values for the bind variables the normalizer introduced. */
  readonly bindVars: Record<string, BindValue>;
}

export interface NormalizeOptions {
  /** Bind variable name prefix; `vtg` as in Vitess. */
  readonly prefix?: string;
}

export const BIND_VAR_PREFIX = 'vtg';

function isValueLiteral(e: Expr): e is Literal {
  const k = e.kind;
  return k === 'String' || k === 'Number' || k === 'Hex' || k === 'Bit';
}

class Binder implements Rewriter {
  readonly values: Record<string, BindValue> = {};
  readonly seen = new Set<string>();
  private n = 0;

  constructor(
    private readonly prefix: string,
    private readonly reserved: ReadonlySet<string>,
  ) {}

  private name(): string {
    let name: string;
    do name = this.prefix + ++this.n;
    while (this.reserved.has(name));
    return name;
  }

  expr(e: Expr, place: ExprPlace): Expr | undefined {
    if (place === 'limit' || place === 'frame') return e;
    if (e.kind === 'BindVar') {
      this.seen.add(e.name);
      return e;
    }
    if (isValueLiteral(e)) {
      if ((place === 'orderBy' || place === 'groupBy') && e.kind === 'Number') return e;
      const name = this.name();
      this.values[name] = e;
      return { kind: 'BindVar', name, list: false };
    }
    if (e.kind === 'In' && e.right.kind === 'Tuple' && e.right.items.every(isValueLiteral)) {
      const expr = rewriteExpr(e.expr, this);
      const name = this.name();
      this.values[name] = { kind: 'List', items: e.right.items as readonly Literal[] };
      return { kind: 'In', expr, not: e.not, right: { kind: 'BindVar', name, list: true } };
    }
    return undefined;
  }
}

/** Normalizes a parsed statement. */
export function normalize(stmt: Statement, options?: NormalizeOptions): Normalized {
  const k = stmt.kind;
  if (k !== 'Select' && k !== 'SetOp' && k !== 'Insert' && k !== 'Update' && k !== 'Delete') {
    return { key: format(stmt), statement: stmt, bindVars: {} };
  }
  const prefix = options?.prefix ?? BIND_VAR_PREFIX;
  let binder = new Binder(prefix, new Set());
  let out = rewrite(stmt, binder);
  // The statement already used a name we handed out: redo, skipping the names it uses.
  for (const name of binder.seen) {
    if (name in binder.values) {
      binder = new Binder(prefix, binder.seen);
      out = rewrite(stmt, binder);
      break;
    }
  }
  return { key: format(out), statement: out, bindVars: binder.values };
}

/** Parses and normalizes `sql`. */
export function normalizeSql(sql: string, options?: NormalizeOptions): Normalized {
  return normalize(parse(sql), options);
}
