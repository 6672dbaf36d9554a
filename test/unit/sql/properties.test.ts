// Precedence tables and property-based tests on generated expressions: printing a generated tree
// and parsing it back gives the same tree, and the printed form is stable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Expr, Select } from '../../../src/sql/index.js';
import { formatExpr, parse } from '../../../src/sql/index.js';

function parseExpr(text: string): Expr {
  const s = parse('SELECT ' + text) as Select;
  assert.equal(s.kind, 'Select');
  assert.equal(s.columns.length, 1);
  return s.columns[0]!.expr;
}

/** Fully parenthesized rendering: shows the tree's shape. */
function shape(e: Expr): string {
  switch (e.kind) {
    case 'Binary':
      return `(${shape(e.left)} ${e.op} ${shape(e.right)})`;
    case 'Unary':
      return `(${e.op} ${shape(e.expr)})`;
    case 'Is':
      return `(${shape(e.expr)} IS ${e.not ? 'NOT ' : ''}${e.value})`;
    case 'Between':
      return `(${shape(e.expr)} ${e.not ? 'NOT ' : ''}BETWEEN ${shape(e.low)} AND ${shape(e.high)})`;
    case 'Like':
      return `(${shape(e.expr)} ${e.not ? 'NOT ' : ''}${e.op} ${shape(e.pattern)})`;
    case 'In':
      return `(${shape(e.expr)} ${e.not ? 'NOT ' : ''}IN ${e.right.kind === 'Tuple' ? '[' + e.right.items.map(shape).join(',') + ']' : '?'})`;
    case 'Collate':
      return `(${shape(e.expr)} COLLATE ${e.collation})`;
    case 'Interval':
      return `(INTERVAL ${shape(e.expr)} ${e.unit})`;
    default:
      return formatExpr(e);
  }
}

const PRECEDENCE: readonly [string, string][] = [
  ['1 + 2 * 3', '(1 + (2 * 3))'],
  ['1 * 2 + 3', '((1 * 2) + 3)'],
  ['1 - 2 - 3', '((1 - 2) - 3)'],
  ['1 / 2 * 3', '((1 / 2) * 3)'],
  ['a DIV b MOD c', '((a DIV b) % c)'],
  ['a | b & c', '(a | (b & c))'],
  ['a & b << c', '(a & (b << c))'],
  ['a << b + c', '(a << (b + c))'],
  ['a + b ^ c', '(a + (b ^ c))'],
  ['a * b ^ c', '(a * (b ^ c))'],
  ['-a ^ b', '((- a) ^ b)'],
  ['-2 * 3', '(-2 * 3)'],
  ['~a + b', '((~ a) + b)'],
  ['!a + b', '((! a) + b)'],
  ['a OR b AND c', '(a OR (b AND c))'],
  ['a AND b OR c', '((a AND b) OR c)'],
  ['a XOR b AND c', '(a XOR (b AND c))'],
  ['a OR b XOR c', '(a OR (b XOR c))'],
  ['a || b && c', '(a OR (b AND c))'],
  ['NOT a AND b', '((NOT a) AND b)'],
  ['NOT a = b', '(NOT (a = b))'],
  ['NOT a OR b', '((NOT a) OR b)'],
  ['!a = b', '((! a) = b)'],
  ['a = b AND c = d', '((a = b) AND (c = d))'],
  ['a = b = c', '((a = b) = c)'],
  ['a + 1 = b * 2', '((a + 1) = (b * 2))'],
  ['a < b IS NULL', '((a < b) IS NULL)'],
  ['a IS NOT NULL AND b', '((a IS NOT NULL) AND b)'],
  ['NOT a IS TRUE', '(NOT (a IS TRUE))'],
  ['a BETWEEN 1 AND 2 AND b', '((a BETWEEN 1 AND 2) AND b)'],
  ['a BETWEEN b + 1 AND c * 2', '(a BETWEEN (b + 1) AND (c * 2))'],
  ['a NOT BETWEEN 1 AND 2 OR c', '((a NOT BETWEEN 1 AND 2) OR c)'],
  ['a IN (1, 2) AND b', '((a IN [1,2]) AND b)'],
  ['a + 1 IN (2)', '((a + 1) IN [2])'],
  ['a = b IN (1)', '(a = (b IN [1]))'],
  ['a LIKE b OR c', '((a LIKE b) OR c)'],
  ['a || b LIKE c', '(a OR (b LIKE c))'],
  ['a = b LIKE c', '(a = (b LIKE c))'],
  ['a REGEXP b AND c', '((a REGEXP b) AND c)'],
  ['a COLLATE x = b', '((a COLLATE x) = b)'],
  ['-a COLLATE x', '(- (a COLLATE x))'],
  ['d + INTERVAL 1 DAY', '(d + (INTERVAL 1 DAY))'],
  ['INTERVAL 1 DAY + d', '((INTERVAL 1 DAY) + d)'],
  ['d - INTERVAL 1 + 1 HOUR', '(d - (INTERVAL (1 + 1) HOUR))'],
  ['a -> "$.x" = 1', '((a -> $.x) = 1)'.replace('$.x', "'$.x'")],
  ['@x := 1 + 2', '(@x := (1 + 2))'],
  ['BINARY a = b', '((BINARY a) = b)'],
  ['a = ANY (SELECT 1) OR b', '(a = ANY (SELECT 1) OR b)'],
];

test('operator precedence table', () => {
  for (const [input, expected] of PRECEDENCE) {
    const e = parseExpr(input);
    assert.equal(shape(e), expected, input);
    assert.deepEqual(parseExpr(formatExpr(e)), e, `round trip of ${input}`);
  }
});

// Generated expression trees in the form the parser produces (a unary minus directly on a
// number literal is folded into the literal, so the generator folds it too).
const leaf: fc.Arbitrary<Expr> = fc.oneof(
  fc.constantFrom('a', 'b', 'c', 'order', 'x y', 'Sel').map((name): Expr => ({ kind: 'Column', table: null, name })),
  fc.constantFrom('t', 'ks').map((t): Expr => ({ kind: 'Column', table: { kind: 'TableName', schema: null, name: t }, name: 'id' })),
  fc.nat(1_000_000).map((n): Expr => ({ kind: 'Number', text: String(n), numType: 'int' })),
  fc.constantFrom('1.5', '0.25', '10.0').map((text): Expr => ({ kind: 'Number', text, numType: 'decimal' })),
  fc.string({ maxLength: 6 }).map((value): Expr => ({ kind: 'String', value, charset: null, national: false })),
  fc.constant<Expr>({ kind: 'Null' }),
  fc.boolean().map((value): Expr => ({ kind: 'Bool', value })),
  fc.constantFrom('v1', 'id').map((name): Expr => ({ kind: 'BindVar', name, list: false })),
  fc.constantFrom('x', 'y').map((name): Expr => ({ kind: 'UserVar', name })),
);

const BIN_OPS = ['OR', 'XOR', 'AND', '=', '<=>', '<>', '<', '<=', '>', '>=', '|', '&', '<<', '>>', '+', '-', '*', '/', 'DIV', '%', '^'] as const;

const { expr } = fc.letrec<{ expr: Expr }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.record({ op: fc.constantFrom(...BIN_OPS), left: tie('expr'), right: tie('expr') }).map((r): Expr => ({ kind: 'Binary', ...r })),
    fc.record({ op: fc.constantFrom('-', '~', '!', 'NOT', 'BINARY'), expr: tie('expr') }).map((r): Expr => {
      if (r.op === '-' && r.expr.kind === 'Number' && !r.expr.text.startsWith('-')) return { ...r.expr, text: '-' + r.expr.text };
      return { kind: 'Unary', op: r.op, expr: r.expr };
    }),
    fc.record({ expr: tie('expr'), not: fc.boolean(), value: fc.constantFrom('NULL', 'TRUE', 'FALSE', 'UNKNOWN') }).map((r): Expr => ({ kind: 'Is', ...r } as Expr)),
    fc.record({ expr: tie('expr'), not: fc.boolean(), low: tie('expr'), high: tie('expr') }).map((r): Expr => ({ kind: 'Between', ...r })),
    fc.record({ expr: tie('expr'), not: fc.boolean(), items: fc.array(tie('expr'), { minLength: 1, maxLength: 3 }) }).map(
      (r): Expr => ({ kind: 'In', expr: r.expr, not: r.not, right: { kind: 'Tuple', items: r.items, row: false } }),
    ),
    fc.record({ op: fc.constantFrom('LIKE', 'REGEXP'), expr: tie('expr'), not: fc.boolean(), pattern: tie('expr') }).map(
      (r): Expr => ({ kind: 'Like', op: r.op, expr: r.expr, not: r.not, pattern: r.pattern, escape: null }),
    ),
    fc.record({ name: fc.constantFrom('f', 'concat', 'IFNULL'), args: fc.array(tie('expr'), { maxLength: 3 }) }).map(
      (r): Expr => ({ kind: 'Func', schema: null, name: r.name, args: r.args, distinct: false, bare: false, over: null }),
    ),
    fc.record({ operand: fc.option(tie('expr'), { nil: null }), when: tie('expr'), then: tie('expr'), else: fc.option(tie('expr'), { nil: null }) }).map(
      (r): Expr => ({ kind: 'Case', operand: r.operand, whens: [{ when: r.when, then: r.then }], else: r.else }),
    ),
    tie('expr').map((e): Expr => ({ kind: 'Collate', expr: e, collation: 'utf8mb4_bin' })),
    fc.array(tie('expr'), { minLength: 2, maxLength: 3 }).map((items): Expr => ({ kind: 'Tuple', items, row: false })),
  ),
}));

test('property: format then parse gives the generated expression back', () => {
  fc.assert(
    fc.property(expr, (e) => {
      const text = formatExpr(e);
      const back = parseExpr(text);
      assert.deepEqual(back, e, text);
      assert.equal(formatExpr(back), text);
    }),
    { numRuns: 3000 },
  );
});

test('property: formatted expressions keep their meaning inside any operator', () => {
  // Embedding a printed operand inside a binary operator must not regroup it.
  fc.assert(
    fc.property(expr, expr, fc.constantFrom(...BIN_OPS), (l, r, op) => {
      const e: Expr = { kind: 'Binary', op, left: l, right: r };
      assert.deepEqual(parseExpr(formatExpr(e)), e);
    }),
    { numRuns: 2000 },
  );
});
