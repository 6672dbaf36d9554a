// Expressions the gate evaluates itself, over rows it already holds: HAVING after a cross-shard
// aggregation, WHERE over a derived table or a join's output, ORDER BY keys that are not plain
// columns. Deliberately small: literals, bind variables, columns (by offset), comparisons,
// AND/OR/NOT/XOR, IS [NOT] NULL, IN lists, BETWEEN, + - * / and unary minus, with MySQL's NULL and
// type rules. Anything else is refused at plan time with 1235 rather than evaluated differently
// from MariaDB.
import type { ColumnDefinition } from '../mysql/index.js';
import type { Expr, Literal } from '../sql/index.js';
import { formatExpr } from '../sql/index.js';
import { notSupported } from './errors.js';
import type { BindVars, Cell, Row } from './types.js';
import {
  addDecimal, compareDecimal, decimalText, divideDecimal, fieldCollation, isDecimalType, isFloatType, isIntegerType, nonNumericLiteralValue, parseDecimal, type Decimal,
} from './values.js';
import { CHARSET } from '../mysql/index.js';
import { compare as compareText } from '../collations/index.js';

export type Value = null | bigint | number | Decimal | string | Buffer;

export type Evaluator = (row: Row, fields: readonly Pick<ColumnDefinition, 'type' | 'charset' | 'collation'>[], bindVars: BindVars) => Value;

/** Finds an expression among the input's columns: returns its offset or undefined. */
export type ColumnResolver = (e: Expr) => number | undefined;

function isDecimal(v: Value): v is Decimal {
  return v !== null && typeof v === 'object' && !Buffer.isBuffer(v);
}

export function cellValue(c: Cell, field: Pick<ColumnDefinition, 'type' | 'charset'>): Value {
  if (c === null) return null;
  const t = field.type;
  if (isIntegerType(t)) return BigInt(c.toString('latin1'));
  if (isDecimalType(t)) return parseDecimal(c.toString('latin1')) ?? c.toString('latin1');
  if (isFloatType(t)) return Number(c.toString('latin1'));
  if (field.charset === CHARSET.BINARY) return c;
  return c.toString('utf8');
}

export function literalValue(l: Literal): Value {
  if (l.kind !== 'Number') return nonNumericLiteralValue(l);
  if (l.numType === 'int') return BigInt(l.text);
  if (l.numType === 'decimal') return parseDecimal(l.text) ?? Number(l.text);
  return Number(l.text);
}

export function valueCell(v: Value): Cell {
  if (v === null) return null;
  if (typeof v === 'bigint') return Buffer.from(v.toString(), 'latin1');
  if (typeof v === 'number') return Buffer.from(String(v), 'latin1');
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (Buffer.isBuffer(v)) return v;
  return Buffer.from(decimalText(v), 'latin1');
}

const NUMERIC_PREFIX = /^[ \t\n\r]*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/;

/**
 * A string as a number the way MariaDB converts it: its longest numeric prefix after leading
 * whitespace, else 0 ('' and 'abc' are 0; 'Infinity' and '0x1A' are 0, unlike parseFloat).
 */
export function stringToNumber(s: string): number {
  const m = NUMERIC_PREFIX.exec(s);
  if (!m) return 0;
  const n = Number(m[0].trim());
  // Beyond a double's range MariaDB saturates (with a warning).
  return Number.isFinite(n) ? n : n > 0 ? Number.MAX_VALUE : -Number.MAX_VALUE;
}

function toNumber(v: Exclude<Value, null>): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') return stringToNumber(v);
  if (Buffer.isBuffer(v)) return stringToNumber(v.toString('latin1'));
  return Number(decimalText(v));
}

function toDecimal(v: bigint | Decimal): Decimal {
  return typeof v === 'bigint' ? { v, scale: 0 } : v;
}

function isNumeric(v: Value): v is bigint | number | Decimal {
  return typeof v === 'bigint' || typeof v === 'number' || isDecimal(v);
}

/**
 * MySQL comparison: numbers by value (as doubles when mixed with strings), text under a collation
 * (the connection's, utf8mb4_general_ci, unless the caller knows a column's).
 */
export function compareValues(a: Exclude<Value, null>, b: Exclude<Value, null>, collation: number = CHARSET.UTF8MB4_GENERAL_CI): number {
  if (isNumeric(a) && isNumeric(b)) {
    if (typeof a === 'number' || typeof b === 'number') {
      const x = toNumber(a);
      const y = toNumber(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    return compareDecimal(toDecimal(a), toDecimal(b));
  }
  if (isNumeric(a) || isNumeric(b)) {
    const x = toNumber(a);
    const y = toNumber(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) {
    const x = Buffer.isBuffer(a) ? a : Buffer.from(a as string, 'utf8');
    const y = Buffer.isBuffer(b) ? b : Buffer.from(b as string, 'utf8');
    return Buffer.compare(x, y);
  }
  return compareText(collation, a as string, b as string);
}

/**
 * The collation a comparison between these operands uses: a column's wins over a literal's (the
 * column's coercibility is lower, as in MariaDB); none of them a column, the connection's.
 */
function operandCollation(exprs: readonly Expr[], resolve: ColumnResolver): (fields: readonly Pick<ColumnDefinition, 'charset' | 'collation'>[]) => number {
  for (const x of exprs) {
    const offset = resolve(x);
    if (offset !== undefined) return (fields) => fieldCollation(fields[offset]);
  }
  return () => CHARSET.UTF8MB4_GENERAL_CI;
}

function truth(v: Value): boolean | null {
  if (v === null) return null;
  if (typeof v === 'bigint') return v !== 0n;
  if (typeof v === 'number') return v !== 0;
  if (isDecimal(v)) return v.v !== 0n;
  return toNumber(v) !== 0;
}

function bool(b: boolean | null): Value {
  return b === null ? null : b ? 1n : 0n;
}

/**
 * DIV (integer quotient, truncated toward zero) and % (remainder with the dividend's sign), as
 * MariaDB computes them; a zero divisor gives NULL.
 */
function divMod(op: 'DIV' | '%', x: Exclude<Value, null | string | Buffer>, y: Exclude<Value, null | string | Buffer>): Value {
  if (typeof x === 'number' || typeof y === 'number') {
    const p = toNumber(x);
    const q = toNumber(y);
    if (q === 0) return null;
    return op === '%' ? p % q : BigInt(Math.trunc(p / q));
  }
  if (typeof x === 'bigint' && typeof y === 'bigint') {
    if (y === 0n) return null;
    return op === '%' ? x % y : x / y;
  }
  const dx = toDecimal(x);
  const dy = toDecimal(y);
  if (dy.v === 0n) return null;
  // Both on the larger scale, then integer arithmetic.
  const scale = Math.max(dx.scale, dy.scale);
  const vx = dx.v * 10n ** BigInt(scale - dx.scale);
  const vy = dy.v * 10n ** BigInt(scale - dy.scale);
  return op === '%' ? { v: vx % vy, scale } : vx / vy;
}

function arith(op: string, a: Value, b: Value): Value {
  if (a === null || b === null) return null;
  const x = typeof a === 'string' || Buffer.isBuffer(a) ? toNumber(a) : a;
  const y = typeof b === 'string' || Buffer.isBuffer(b) ? toNumber(b) : b;
  if (op === '/') {
    if (typeof x === 'number' || typeof y === 'number') {
      const d = toNumber(y);
      return d === 0 ? null : toNumber(x) / d;
    }
    const dx = toDecimal(x);
    const dy = toDecimal(y);
    if (dy.v === 0n) return null;
    // MySQL: the result scale is the dividend's scale plus div_precision_increment (4).
    const scale = dx.scale + 4;
    const num = dx.v * 10n ** BigInt(scale + 1 + dy.scale - dx.scale);
    let q = num / dy.v;
    const last = q % 10n;
    q /= 10n;
    if (last >= 5n) q += 1n;
    else if (last <= -5n) q -= 1n;
    return { v: q, scale };
  }
  if (op === 'DIV' || op === '%') return divMod(op, x, y);
  if (typeof x === 'number' || typeof y === 'number') {
    const p = toNumber(x);
    const q = toNumber(y);
    return op === '+' ? p + q : op === '-' ? p - q : p * q;
  }
  if (typeof x === 'bigint' && typeof y === 'bigint') return op === '+' ? x + y : op === '-' ? x - y : x * y;
  const dx = toDecimal(x);
  const dy = toDecimal(y);
  if (op === '+') return addDecimal(dx, dy);
  if (op === '-') return addDecimal(dx, { v: -dy.v, scale: dy.scale });
  return { v: dx.v * dy.v, scale: dx.scale + dy.scale };
}

export { divideDecimal };

/**
 * Compiles `e` into an evaluator over rows. `resolve` maps an expression (a column, an aggregate
 * already computed) to a column offset; what it does not resolve must be built from the supported
 * operators, else 1235.
 */
export function compileExpr(e: Expr, resolve: ColumnResolver): Evaluator {
  const offset = resolve(e);
  if (offset !== undefined) return (row, fields) => cellValue(row[offset], fields[offset]);
  const c = (x: Expr): Evaluator => compileExpr(x, resolve);
  switch (e.kind) {
    case 'Number':
    case 'String':
    case 'Null':
    case 'Hex':
    case 'Bit':
    case 'Bool': {
      const v = literalValue(e);
      return () => v;
    }
    case 'BindVar': {
      if (e.list) break;
      const name = e.name;
      return (_row, _f, bv) => {
        const l = bv[name];
        if (l === undefined || l.kind === 'List') throw new Error(`missing bind variable :${name}`);
        return literalValue(l);
      };
    }
    case 'Unary': {
      const x = c(e.expr);
      if (e.op === '-') return (r, f, b) => arith('-', 0n, x(r, f, b));
      if (e.op === '+') return x;
      if (e.op === 'NOT' || e.op === '!') return (r, f, b) => {
        const t = truth(x(r, f, b));
        return bool(t === null ? null : !t);
      };
      break;
    }
    case 'Binary': {
      const l = c(e.left);
      const r = c(e.right);
      switch (e.op) {
        case 'AND':
          return (row, f, b) => {
            const x = truth(l(row, f, b));
            if (x === false) return 0n;
            const y = truth(r(row, f, b));
            if (y === false) return 0n;
            return x === null || y === null ? null : 1n;
          };
        case 'OR':
          return (row, f, b) => {
            const x = truth(l(row, f, b));
            if (x === true) return 1n;
            const y = truth(r(row, f, b));
            if (y === true) return 1n;
            return x === null || y === null ? null : 0n;
          };
        case 'XOR':
          return (row, f, b) => {
            const x = truth(l(row, f, b));
            const y = truth(r(row, f, b));
            return x === null || y === null ? null : bool(x !== y);
          };
        case '=':
        case '<>':
        case '<':
        case '<=':
        case '>':
        case '>=':
        case '<=>': {
          const op = e.op;
          const coll = operandCollation([e.left, e.right], resolve);
          return (row, f, b) => {
            const x = l(row, f, b);
            const y = r(row, f, b);
            if (op === '<=>') return bool(x === null || y === null ? x === y : compareValues(x, y, coll(f)) === 0);
            if (x === null || y === null) return null;
            const k = compareValues(x, y, coll(f));
            return bool(op === '=' ? k === 0 : op === '<>' ? k !== 0 : op === '<' ? k < 0 : op === '<=' ? k <= 0 : op === '>' ? k > 0 : k >= 0);
          };
        }
        case '+':
        case '-':
        case '*':
        case '/':
        case 'DIV':
        case '%': {
          const op = e.op;
          return (row, f, b) => arith(op, l(row, f, b), r(row, f, b));
        }
        default:
          break;
      }
      break;
    }
    case 'Is': {
      const x = c(e.expr);
      const want = e.value;
      const not = e.not;
      return (row, f, b) => {
        const v = x(row, f, b);
        const t = truth(v);
        const r = want === 'NULL' ? v === null : want === 'UNKNOWN' ? t === null : want === 'TRUE' ? t === true : t === false;
        return bool(not ? !r : r);
      };
    }
    case 'Between': {
      const x = c(e.expr);
      const lo = c(e.low);
      const hi = c(e.high);
      const not = e.not;
      const coll = operandCollation([e.expr, e.low, e.high], resolve);
      return (row, f, b) => {
        const v = x(row, f, b);
        const l = lo(row, f, b);
        const h = hi(row, f, b);
        if (v === null || l === null || h === null) return null;
        const k = coll(f);
        const r = compareValues(v, l, k) >= 0 && compareValues(v, h, k) <= 0;
        return bool(not ? !r : r);
      };
    }
    case 'In': {
      if (e.right.kind === 'Subquery') break;
      const x = c(e.expr);
      const not = e.not;
      let items: Evaluator | Evaluator[];
      if (e.right.kind === 'BindVar') {
        const name = e.right.name;
        items = (_row, _f, bv) => {
          const l = bv[name];
          if (l === undefined || l.kind !== 'List') throw new Error(`missing list bind variable ::${name}`);
          return l.items.map((i) => {
            // The planner refuses `(a, b) IN …` at the gate (a tuple does not compile), so rows never get here.
            if (i.kind === 'Tuple') throw new Error(`list bind variable ::${name} holds rows where values were expected`);
            return literalValue(i);
          }) as unknown as Value;
        };
      } else items = e.right.items.map(c);
      const list = items;
      const coll = operandCollation([e.expr], resolve);
      return (row, f, b) => {
        const v = x(row, f, b);
        if (v === null) return null;
        const vals: Value[] = Array.isArray(list) ? list.map((fn) => fn(row, f, b)) : (list(row, f, b) as unknown as Value[]);
        let sawNull = false;
        for (const w of vals) {
          if (w === null) sawNull = true;
          else if (compareValues(v, w, coll(f)) === 0) return bool(!not);
        }
        return sawNull ? null : bool(not);
      };
    }
    default:
      break;
  }
  throw notSupported(`evaluating ${formatExpr(e)} at the gate`);
}

export function isTrue(v: Value): boolean {
  return truth(v) === true;
}
