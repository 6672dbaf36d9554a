import { ER, TesseraError } from '../mysql/errors.js';

/** How much of the remaining text MariaDB quotes after "near". */
export const NEAR_TEXT_CHARS_MAX = 80;

/**
 * A syntax error at `offset` in `sql`, worded as MariaDB words it: the text from the offending
 * token on (at most 80 characters) and the 1-based line that token starts on.
 */
export function syntaxError(sql: string, offset: number): TesseraError {
  let line = 1;
  for (let i = sql.indexOf('\n'); i >= 0 && i < offset; i = sql.indexOf('\n', i + 1)) line++;
  const near = sql.slice(offset, offset + NEAR_TEXT_CHARS_MAX);
  return new TesseraError(
    ER.PARSE_ERROR,
    `You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near '${near}' at line ${line}`,
  );
}
