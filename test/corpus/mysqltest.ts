// Reads MariaDB's regression tests (mysqltest `.test` and `.inc` files, as installed by Debian's
// `mariadb-test` under /usr/share/mysql/mysql-test) and takes out the SQL statements they send to
// the server, marking those MariaDB rejects (`--error` before them) so the parser corpus can be
// measured against what MariaDB's own parser accepts.
//
// The mysqltest language, as far as this reader needs it:
// - A command is read up to the current delimiter (`;` at first), quotes respected; a line that
//   starts a command with `#` is a comment, with `--` a one-line command (`--error ER_X`,
//   `--source f.inc`, `--let $a= 1`, `--delimiter //`).
// - The first word tells a mysqltest command (`let`, `eval`, `echo`, `connect(…)`, `error`, …) from
//   SQL. `eval` and `send_eval` are SQL with `$variables` substituted: known values from `let` are
//   filled in, a statement naming an unknown one is left out. `query`, `send`, `query_vertical`
//   and `query_horizontal` prefix plain SQL.
// - `if (…) {` and `while (…) {` open blocks ended by a `}` line; their statements are taken (they
//   run in some configuration). `write_file`, `append_file` and `perl` take lines up to their end
//   marker (EOF unless named), which are not SQL.
// - `--error` (or `error …;`) applies to the next statement: it is marked rejected, whatever the
//   codes (a list containing 0 means it may pass or fail; it is still left out of "accepted").
// - Statements after `SET sql_mode` naming ORACLE are marked `oracle`: MariaDB reads them with
//   its Oracle-mode grammar (PL/SQL), which is not what a client in the default mode gets.
// - An include file with no `delimiter` command whose lines end in `|` rather than `;` is read with
//   its caller's `|` delimiter. mysqltest's own test (main/mysqltest.test) is skipped: it exercises
//   the client's language with deliberately broken input.
// - `disable_parsing` turns mysqltest's reading off up to `enable_parsing`: what lies between is
//   never sent (often notes or statements kept for later), so it is skipped.
// - `.inc` files that a test loads with LOAD DATA … INFILE are data (`1,abc` lines), not scripts.
// - Statements sent in a client character set whose multi-byte characters can end in a backslash
//   byte (sjis, cp932, big5, gbk: `--character_set`, SET NAMES, SET CHARACTER SET) are marked
//   `multibyte`: the file is read here as latin1, so their quotes would not be where MariaDB sees them.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export const DEFAULT_SUITE_DIR = '/usr/share/mysql/mysql-test';

export interface SuiteStatement {
  /** File path relative to the suite directory. */
  readonly file: string;
  readonly line: number;
  readonly sql: string;
  /** Marked by `--error`: MariaDB rejects it (or may). */
  readonly rejected: boolean;
  /** Read in sql_mode=ORACLE. */
  readonly oracle: boolean;
  /** Sent in sjis, cp932, big5 or gbk (see above). */
  readonly multibyte: boolean;
}

/** mysqltest's own commands (client/mysqltest.cc), lower case. Anything else is SQL. */
const COMMANDS: ReadonlySet<string> = new Set(
  (
    'connection query connect sleep real_sleep inc dec source disconnect let echo expr while end ' +
    'save_master_pos sync_with_master sync_slave_with_master error send reap dirty_close ' +
    'replace_result replace_column ping eval enable_query_log disable_query_log enable_result_log ' +
    'disable_result_log enable_connect_log disable_connect_log wait_for_slave_to_stop enable_warnings ' +
    'disable_warnings enable_info disable_info enable_session_track_info disable_session_track_info ' +
    'enable_metadata disable_metadata enable_column_names disable_column_names exec execw ' +
    'exec_in_background delimiter disable_abort_on_error enable_abort_on_error vertical_results ' +
    'horizontal_results query_vertical query_horizontal sorted_result partially_sorted_result ' +
    'lowercase_result start_timer end_timer character_set disable_ps_protocol enable_ps_protocol ' +
    'enable_ps2_protocol disable_ps2_protocol disable_view_protocol enable_view_protocol ' +
    'disable_service_connection enable_service_connection enable_non_blocking_api ' +
    'disable_non_blocking_api disable_reconnect enable_reconnect if disable_testcase enable_testcase ' +
    'replace_regex replace_numeric_round remove_file file_exists write_file copy_file perl die assert ' +
    'exit skip chmod append_file cat_file diff_files send_quit change_user mkdir rmdir force-rmdir ' +
    'force-cpdir list_files list_files_write_file list_files_append_file send_shutdown ' +
    'shutdown_server result_format move_file remove_files_wildcard copy_files_wildcard send_eval ' +
    'output reset_connection enable_prepare_warnings disable_prepare_warnings ' +
    'enable_cursor_protocol disable_cursor_protocol sync_with_master_gtid wait_for_slave_to_start ' +
    'enable_parsing disable_parsing enable_rpl_parse disable_rpl_parse enable_async_client ' +
    'disable_async_client evalp system'
  ).split(' '),
);
/** Commands whose argument is SQL to send. */
const SQL_PREFIX: ReadonlySet<string> = new Set(['query', 'send', 'query_vertical', 'query_horizontal']);
const SQL_EVAL: ReadonlySet<string> = new Set(['eval', 'send_eval', 'evalp']);
/** Commands followed by lines up to an end marker. */
const HEREDOC: ReadonlySet<string> = new Set(['write_file', 'append_file', 'perl']);

/** mysqltest's own test: its statements test the client's language, not the server's. */
const SKIPPED_FILES: ReadonlySet<string> = new Set(['main/mysqltest.test']);

/** Every `.test` and `.inc` file under `dir`, relative, sorted. */
export function listSuiteFiles(dir: string = DEFAULT_SUITE_DIR): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(path.join(dir, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      const st = statSync(path.join(dir, r), { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(r);
      else if (name.endsWith('.test') || name.endsWith('.inc')) out.push(r);
    }
  };
  walk('');
  return out.sort();
}

/** The statements of every test and include file under `dir`. */
export function extractSuite(dir: string = DEFAULT_SUITE_DIR): SuiteStatement[] {
  const out: SuiteStatement[] = [];
  const files = listSuiteFiles(dir).filter((f) => !SKIPPED_FILES.has(f));
  const texts = new Map(files.map((f) => [f, readFileSync(path.join(dir, f), 'latin1')]));
  // Data files read by LOAD DATA … INFILE 'suite/…/x.inc' (named relative to the suite directory).
  const data = new Set<string>();
  for (const text of texts.values()) for (const m of text.matchAll(/LOAD\s+DATA\b[^;]*?\bINFILE\s+['"]([^'"]+\.inc)['"]/gi)) data.add(m[1]!);
  for (const [f, text] of texts) if (!data.has(f)) out.push(...extractFile(text, f));
  return out;
}

/** Splits one mysqltest file into its SQL statements. */
export function extractFile(text: string, file: string): SuiteStatement[] {
  const out: SuiteStatement[] = [];
  const vars = new Map<string, string | null>();
  // An include file written for its caller's `|` delimiter: its lines end in `|`, not `;`.
  const ends = (re: RegExp): number => (text.match(re) ?? []).length;
  let delimiter = file.endsWith('.inc') && !/^\s*-{0,2}delimiter\b/im.test(text) && ends(/\|\s*$/gm) > ends(/;\s*$/gm) ? '|' : ';';
  let pendingError = false;
  let oracle = false;
  let multibyte = false;
  const BACKSLASH_CHARSETS = /^['"`]?(sjis|cp932|big5|gbk)/i;
  let i = 0;
  let line = 1;
  const n = text.length;

  const readLine = (): string => {
    const e = text.indexOf('\n', i);
    const s = text.slice(i, e < 0 ? n : e);
    i = e < 0 ? n : e + 1;
    line++;
    return s;
  };

  /** Reads a command up to the delimiter (or `{` for if/while), quotes respected. */
  const readCommand = (): string => {
    const from = i;
    let quote = '';
    while (i < n) {
      const c = text[i]!;
      if (quote) {
        if (c === '\\' && quote !== '`') i++;
        else if (c === quote) quote = '';
      } else if (c === "'" || c === '"' || c === '`') quote = c;
      else if (text.startsWith(delimiter, i)) {
        const s = text.slice(from, i);
        i += delimiter.length;
        countLines(s + delimiter);
        return s;
      } else if (c === '{' && /^\s*(if|while)\s*\(/i.test(text.slice(from, i))) {
        const s = text.slice(from, i);
        i++;
        countLines(s + '{');
        return s;
      }
      i++;
    }
    const s = text.slice(from, n);
    countLines(s);
    return s;
  };
  const countLines = (s: string): void => {
    for (let k = 0; k < s.length; k++) if (s.charCodeAt(k) === 10) line++;
  };

  const setVar = (arg: string): void => {
    const m = /^\s*\$(\w+)\s*=\s*([\s\S]*)$/.exec(arg);
    if (!m) return;
    const v = m[2]!.trim();
    // Backquoted queries, functions and values naming other variables are not followed.
    vars.set(m[1]!.toLowerCase(), v.startsWith('`') || /^query_get_value|^\$/i.test(v) ? null : v);
  };
  const substitute = (sql: string): string | null => {
    let unknown = false;
    const s = sql.replace(/\\\$|\$(\w+)/g, (all, name: string | undefined) => {
      if (name === undefined) return '$';
      const v = vars.get(name.toLowerCase());
      if (v === undefined || v === null) {
        unknown = true;
        return all;
      }
      return v;
    });
    return unknown ? null : s;
  };
  const emit = (sql: string, at: number): void => {
    const s = sql.trim();
    if (s === '') return;
    out.push({ file, line: at, sql: s, rejected: pendingError, oracle, multibyte });
    const names = /^set\s+(?:names|character\s+set|charset|(?:@@|session\s+)?character_set_client\s*=)\s*(\S+)/i.exec(s);
    if (names) multibyte = BACKSLASH_CHARSETS.test(names[1]!);
    if (/^set\b[\s\S]*\bsql_mode\s*=/i.test(s)) {
      const m = /\bsql_mode\s*=\s*([^,;]*)/i.exec(s);
      if (m) oracle = /oracle/i.test(m[1]!);
    }
    pendingError = false;
  };
  const runCommand = (word: string, arg: string): void => {
    switch (word) {
      case 'error':
        pendingError = true;
        return;
      case 'character_set':
        multibyte = BACKSLASH_CHARSETS.test(arg.trim());
        return;
      case 'let':
        setVar(arg);
        return;
      case 'disable_parsing':
        while (i < n && !/^\s*(--\s*)?enable_parsing\b/i.test(readLine()));
        return;
      case 'delimiter': {
        const d = arg.trim().split(/\s+/)[0] ?? '';
        // `delimiter //;` is read up to the old delimiter: its argument is the new one.
        if (d) delimiter = d;
        return;
      }
      default:
        if (HEREDOC.has(word)) {
          const marker = arg.trim().split(/\s+/)[1] ?? 'EOF';
          while (i < n && readLine().trim() !== marker);
        }
    }
  };

  while (i < n) {
    // Skip blank space at the start of a command.
    while (i < n && /\s/.test(text[i]!)) {
      if (text[i] === '\n') line++;
      i++;
    }
    if (i >= n) break;
    const at = line;
    if (text[i] === '#') {
      readLine();
      continue;
    }
    if (text.startsWith('--', i)) {
      const l = readLine().slice(2).trim();
      const m = /^([\w-]+)\s*([\s\S]*)$/.exec(l);
      if (!m) continue;
      const word = m[1]!.toLowerCase();
      const arg = word === 'delimiter' ? m[2]! : m[2]!.replace(/;\s*$/, '');
      if (SQL_EVAL.has(word)) {
        const s = substitute(arg);
        if (s !== null) emit(s, at);
        else pendingError = false;
      } else if (SQL_PREFIX.has(word)) emit(arg, at);
      else runCommand(word, arg);
      continue;
    }
    if (text[i] === '}') {
      i++;
      // `} else {`
      const m = /^\s*else\s*\{/.exec(text.slice(i, i + 40));
      if (m) i += m[0].length;
      continue;
    }
    const cmd = readCommand();
    const m = /^\s*([A-Za-z_][\w-]*)/.exec(cmd);
    const word = m ? m[1]!.toLowerCase() : '';
    if (word === 'connect' || word === 'disconnect' || word === 'connection') {
      runCommand(word, '');
      continue;
    }
    if (COMMANDS.has(word) && !(word === 'end' && cmd.trim().length > 3)) {
      const arg = cmd.slice(m![0].length);
      if (SQL_EVAL.has(word)) {
        const s = substitute(arg);
        if (s !== null) emit(s, at);
        else pendingError = false;
      } else if (SQL_PREFIX.has(word)) emit(arg, at);
      else if (word === 'if' || word === 'while') {
        /* the block's statements follow */
      } else runCommand(word, arg);
      continue;
    }
    emit(cmd, at);
  }
  return out;
}
