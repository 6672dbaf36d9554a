// The lexer turns a statement into tokens held in parallel typed arrays: a kind, the start and end
// offsets into the text, and for words the keyword id. Nothing is sliced here; the parser copies
// text only when a node needs it. One TokenBuffer is reused across statements (parsing is
// synchronous), so lexing a statement allocates nothing once the buffer has grown.

import { foldHash, K, lookupKeyword } from './keywords.js';
import { syntaxError } from './errors.js';

/** Token kinds. */
export const T = {
  EOF: 0,
  IDENT: 1, // unquoted word (may be a keyword: see kw)
  QIDENT: 2, // `quoted identifier`
  STRING: 3, // 'single-quoted'
  DSTRING: 4, // "double-quoted" (a string: ANSI_QUOTES is not supported)
  NSTRING: 5, // N'national'
  INT: 6,
  DECIMAL: 7,
  FLOAT: 8,
  HEXNUM: 9, // 0x1F
  HEXSTR: 10, // X'1F'
  BITNUM: 11, // 0b101
  BITSTR: 12, // b'101'
  PARAM: 13, // ?
  BINDVAR: 14, // :name
  LISTBINDVAR: 15, // ::name
  USERVAR: 16, // @name, @'name', @`name`
  SYSVAR: 17, // @@name, @@session.name
  HINT: 18, // /*+ ... */ right after SELECT/INSERT/REPLACE/UPDATE/DELETE
  LPAREN: 20,
  RPAREN: 21,
  COMMA: 22,
  DOT: 23,
  SEMI: 24,
  EQ: 25,
  NULLSAFE_EQ: 26,
  NE: 27,
  LT: 28,
  LE: 29,
  GT: 30,
  GE: 31,
  SHL: 32,
  SHR: 33,
  PLUS: 34,
  MINUS: 35,
  STAR: 36,
  SLASH: 37,
  PERCENT: 38,
  CARET: 39,
  AMP: 40,
  AMPAMP: 41,
  PIPE: 42,
  PIPEPIPE: 43,
  TILDE: 44,
  BANG: 45,
  ASSIGN: 46, // :=
  ARROW: 47, // ->
  ARROW2: 48, // ->>
  COLON: 49,
  LBRACE: 50,
  RBRACE: 51,
} as const;

export class TokenBuffer {
  kind = new Uint8Array(64);
  start = new Int32Array(64);
  end = new Int32Array(64);
  kw = new Uint16Array(64);
  count = 0;

  push(kind: number, start: number, end: number, kw: number): void {
    const n = this.count;
    if (n === this.kind.length) this.grow();
    this.kind[n] = kind;
    this.start[n] = start;
    this.end[n] = end;
    this.kw[n] = kw;
    this.count = n + 1;
  }

  private grow(): void {
    const size = this.kind.length * 2;
    const kind = new Uint8Array(size);
    kind.set(this.kind);
    const start = new Int32Array(size);
    start.set(this.start);
    const end = new Int32Array(size);
    end.set(this.end);
    const kw = new Uint16Array(size);
    kw.set(this.kw);
    this.kind = kind;
    this.start = start;
    this.end = end;
    this.kw = kw;
  }

  /** Drops buffers that grew for one huge statement back to a small size. */
  shrink(): void {
    if (this.kind.length > 65536) {
      this.kind = new Uint8Array(64);
      this.start = new Int32Array(64);
      this.end = new Int32Array(64);
      this.kw = new Uint16Array(64);
    }
  }
}

// Character classes for the first 128 code points.
const C_IDENT = 1; // letter, digit, _ or $
const C_DIGIT = 2;
const C_SPACE = 4;
const CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36) CLASS[c] = C_IDENT;
  if (c >= 48 && c <= 57) CLASS[c] = C_IDENT | C_DIGIT;
}
for (const c of [9, 10, 11, 12, 13, 32]) CLASS[c] = C_SPACE;

function isIdentChar(c: number): boolean {
  return c < 128 ? (CLASS[c]! & C_IDENT) !== 0 : c !== 0xfeff && c > 0x7f;
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isHexDigit(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/** Tokenizes `sql` into `buf`. Throws a 1064 TesseraError for unterminated strings or comments. */
export function tokenize(sql: string, buf: TokenBuffer): void {
  buf.count = 0;
  const len = sql.length;
  let i = 0;
  let inVersionComment = false;
  while (i < len) {
    const c = sql.charCodeAt(i);
    if (c < 128 && (CLASS[c]! & C_SPACE) !== 0) {
      i++;
      continue;
    }
    const start = i;
    // Words and numbers.
    if (c < 128 ? (CLASS[c]! & C_IDENT) !== 0 : isIdentChar(c)) {
      if (isDigit(c)) {
        const r = scanNumber(sql, i, len, buf);
        if (r >= 0) {
          i = r;
          continue;
        }
      }
      // Introducers that look like words: X'..', B'..', N'..'.
      const next = i + 1 < len ? sql.charCodeAt(i + 1) : 0;
      if (next === 39 && (c === 120 || c === 88 || c === 98 || c === 66 || c === 110 || c === 78)) {
        const e = scanQuoted(sql, i + 1, 39);
        if (e < 0) throw syntaxError(sql, start);
        const kind = c === 120 || c === 88 ? T.HEXSTR : c === 98 || c === 66 ? T.BITSTR : T.NSTRING;
        buf.push(kind, start, e, 0);
        i = e;
        continue;
      }
      let h = 0;
      while (i < len) {
        const d = sql.charCodeAt(i);
        if (d < 128 ? (CLASS[d]! & C_IDENT) === 0 : !isIdentChar(d)) break;
        h = foldHash(h, d);
        i++;
      }
      const kw = lookupKeyword(sql, start, i, h);
      buf.push(T.IDENT, start, i, kw);
      continue;
    }
    switch (c) {
      case 39: // '
      case 34: {
        // "
        const e = scanQuoted(sql, i, c);
        if (e < 0) throw syntaxError(sql, start);
        buf.push(c === 39 ? T.STRING : T.DSTRING, start, e, 0);
        i = e;
        continue;
      }
      case 96: {
        // `
        const e = scanQuoted(sql, i, 96);
        if (e < 0) throw syntaxError(sql, start);
        buf.push(T.QIDENT, start, e, 0);
        i = e;
        continue;
      }
      case 46: // .
        if (i + 1 < len && isDigit(sql.charCodeAt(i + 1))) {
          // `t.1col` is a qualified name, `.5` a number.
          const prev = buf.count - 1;
          const glued = prev >= 0 && buf.end[prev] === i && (buf.kind[prev] === T.IDENT || buf.kind[prev] === T.QIDENT);
          if (!glued) {
            const r = scanNumber(sql, i, len, buf);
            if (r >= 0) {
              i = r;
              continue;
            }
          }
        }
        buf.push(T.DOT, start, i + 1, 0);
        i++;
        continue;
      case 40:
        buf.push(T.LPAREN, start, ++i, 0);
        continue;
      case 41:
        buf.push(T.RPAREN, start, ++i, 0);
        continue;
      case 44:
        buf.push(T.COMMA, start, ++i, 0);
        continue;
      case 59:
        buf.push(T.SEMI, start, ++i, 0);
        continue;
      case 43:
        buf.push(T.PLUS, start, ++i, 0);
        continue;
      case 126:
        buf.push(T.TILDE, start, ++i, 0);
        continue;
      case 94:
        buf.push(T.CARET, start, ++i, 0);
        continue;
      case 37:
        buf.push(T.PERCENT, start, ++i, 0);
        continue;
      case 123:
        buf.push(T.LBRACE, start, ++i, 0);
        continue;
      case 125:
        buf.push(T.RBRACE, start, ++i, 0);
        continue;
      case 63:
        buf.push(T.PARAM, start, ++i, 0);
        continue;
      case 61:
        buf.push(T.EQ, start, ++i, 0);
        continue;
      case 42: // *
        if (inVersionComment && sql.charCodeAt(i + 1) === 47) {
          inVersionComment = false;
          i += 2;
          continue;
        }
        buf.push(T.STAR, start, ++i, 0);
        continue;
      case 47: // /
        if (sql.charCodeAt(i + 1) === 42) {
          const third = sql.charCodeAt(i + 2);
          const end = sql.indexOf('*/', i + 2);
          if (third === 33 || (third === 77 && sql.charCodeAt(i + 3) === 33)) {
            // /*!50700 ... */ and MariaDB's /*M!100100 ... */: the content is SQL.
            if (end < 0) throw syntaxError(sql, start);
            i += third === 33 ? 3 : 4;
            while (i < len && isDigit(sql.charCodeAt(i))) i++;
            inVersionComment = true;
            continue;
          }
          if (end < 0) throw syntaxError(sql, start);
          if (third === 43 && isHintPosition(prevKwBefore(buf))) buf.push(T.HINT, start, end + 2, 0);
          i = end + 2;
          continue;
        }
        buf.push(T.SLASH, start, ++i, 0);
        continue;
      case 35: // # comment
        i = skipLine(sql, i);
        continue;
      case 45: {
        // -
        const d = sql.charCodeAt(i + 1);
        if (d === 45) {
          const e = sql.charCodeAt(i + 2);
          if (i + 2 >= len || e <= 32) {
            i = skipLine(sql, i);
            continue;
          }
        }
        if (d === 62) {
          if (sql.charCodeAt(i + 2) === 62) {
            buf.push(T.ARROW2, start, (i += 3), 0);
          } else {
            buf.push(T.ARROW, start, (i += 2), 0);
          }
          continue;
        }
        buf.push(T.MINUS, start, ++i, 0);
        continue;
      }
      case 60: {
        // <
        const d = sql.charCodeAt(i + 1);
        if (d === 61) {
          if (sql.charCodeAt(i + 2) === 62) buf.push(T.NULLSAFE_EQ, start, (i += 3), 0);
          else buf.push(T.LE, start, (i += 2), 0);
        } else if (d === 62) buf.push(T.NE, start, (i += 2), 0);
        else if (d === 60) buf.push(T.SHL, start, (i += 2), 0);
        else buf.push(T.LT, start, ++i, 0);
        continue;
      }
      case 62: {
        const d = sql.charCodeAt(i + 1);
        if (d === 61) buf.push(T.GE, start, (i += 2), 0);
        else if (d === 62) buf.push(T.SHR, start, (i += 2), 0);
        else buf.push(T.GT, start, ++i, 0);
        continue;
      }
      case 33: // !
        if (sql.charCodeAt(i + 1) === 61) buf.push(T.NE, start, (i += 2), 0);
        else buf.push(T.BANG, start, ++i, 0);
        continue;
      case 38:
        if (sql.charCodeAt(i + 1) === 38) buf.push(T.AMPAMP, start, (i += 2), 0);
        else buf.push(T.AMP, start, ++i, 0);
        continue;
      case 124:
        if (sql.charCodeAt(i + 1) === 124) buf.push(T.PIPEPIPE, start, (i += 2), 0);
        else buf.push(T.PIPE, start, ++i, 0);
        continue;
      case 58: {
        // :
        const d = sql.charCodeAt(i + 1);
        if (d === 61) {
          buf.push(T.ASSIGN, start, (i += 2), 0);
          continue;
        }
        let kind: number = T.BINDVAR;
        let j = i + 1;
        if (d === 58) {
          kind = T.LISTBINDVAR;
          j++;
        }
        const nameStart = j;
        while (j < len && isIdentChar(sql.charCodeAt(j))) j++;
        if (j === nameStart) {
          if (kind === T.LISTBINDVAR) throw syntaxError(sql, start);
          buf.push(T.COLON, start, ++i, 0);
          continue;
        }
        buf.push(kind, start, j, 0);
        i = j;
        continue;
      }
      case 64: {
        // @
        let j = i + 1;
        let kind: number = T.USERVAR;
        if (sql.charCodeAt(j) === 64) {
          kind = T.SYSVAR;
          j++;
        }
        const q = sql.charCodeAt(j);
        if (q === 39 || q === 34 || q === 96) {
          const e = scanQuoted(sql, j, q);
          if (e < 0) throw syntaxError(sql, start);
          j = e;
        } else {
          while (j < len) {
            const d = sql.charCodeAt(j);
            if (isIdentChar(d) || d === 46) j++;
            else if (d === 96 && kind === T.SYSVAR && sql.charCodeAt(j - 1) === 46) {
              const e = scanQuoted(sql, j, 96);
              if (e < 0) throw syntaxError(sql, start);
              j = e;
            } else break;
          }
        }
        if (j === i + 1 || (kind === T.SYSVAR && j === i + 2)) throw syntaxError(sql, start);
        buf.push(kind, start, j, 0);
        i = j;
        continue;
      }
      default:
        throw syntaxError(sql, start);
    }
  }
  if (inVersionComment) throw syntaxError(sql, len);
  buf.push(T.EOF, len, len, 0);
}

function prevKwBefore(buf: TokenBuffer): number {
  const n = buf.count - 1;
  return n >= 0 && buf.kind[n] === T.IDENT ? buf.kw[n]! : 0;
}

function isHintPosition(kw: number): boolean {
  return kw === K.SELECT || kw === K.INSERT || kw === K.REPLACE || kw === K.UPDATE || kw === K.DELETE;
}

function skipLine(sql: string, i: number): number {
  const nl = sql.indexOf('\n', i);
  return nl < 0 ? sql.length : nl + 1;
}

/** End offset (after the closing quote) of a quoted run starting at `i`, or -1 if unterminated. */
function scanQuoted(sql: string, i: number, q: number): number {
  const len = sql.length;
  let j = i + 1;
  while (j < len) {
    const c = sql.charCodeAt(j);
    if (c === q) {
      if (sql.charCodeAt(j + 1) === q) {
        j += 2;
        continue;
      }
      return j + 1;
    }
    if (c === 92 && q !== 96) j += 2;
    else j++;
  }
  return -1;
}

/**
 * Scans a number at `i`. Returns the end offset and pushes the token, or -1 when the text is a
 * word that merely starts with digits (MySQL allows identifiers such as `1st`).
 */
function scanNumber(sql: string, i: number, len: number, buf: TokenBuffer): number {
  const start = i;
  const c0 = sql.charCodeAt(i);
  if (c0 === 48) {
    const x = sql.charCodeAt(i + 1);
    if (x === 120 || x === 98) {
      let j = i + 2;
      const hex = x === 120;
      while (j < len && (hex ? isHexDigit(sql.charCodeAt(j)) : sql.charCodeAt(j) === 48 || sql.charCodeAt(j) === 49)) j++;
      if (j > i + 2 && !(j < len && isIdentChar(sql.charCodeAt(j)))) {
        buf.push(hex ? T.HEXNUM : T.BITNUM, start, j, 0);
        return j;
      }
      // 0xZZ or 0b2: a word.
    }
  }
  let kind: number = T.INT;
  while (i < len && isDigit(sql.charCodeAt(i))) i++;
  if (sql.charCodeAt(i) === 46) {
    kind = T.DECIMAL;
    i++;
    while (i < len && isDigit(sql.charCodeAt(i))) i++;
  }
  const e = sql.charCodeAt(i);
  if (e === 101 || e === 69) {
    let j = i + 1;
    const s = sql.charCodeAt(j);
    if (s === 43 || s === 45) j++;
    if (isDigit(sql.charCodeAt(j))) {
      while (j < len && isDigit(sql.charCodeAt(j))) j++;
      i = j;
      kind = T.FLOAT;
    } else if (kind === T.INT) {
      return -1; // 1e_x: a word
    }
  }
  if (kind === T.INT && i < len && isIdentChar(sql.charCodeAt(i))) return -1;
  buf.push(kind, start, i, 0);
  return i;
}
