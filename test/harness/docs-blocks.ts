// The runnable blocks of a user guide (docs/guides), for test/e2e/docs.test.ts: fenced blocks whose
// info string is `sh docs-test` (optionally `own`, then optionally `exit=N`), each with the lines the
// ```text docs-output block right after it lists, and `<!-- docs-test: <hook> -->` markers for
// steps the test does.

export interface Block {
  readonly line: number;
  readonly code: string;
  readonly exit: number;
  /** Lines the output must contain. */
  readonly expect: string[];
  /**
   * `sh docs-test own`: the block belongs to a sequence that builds what it needs from nothing (a
   * ctld, a tablet, a gate of its own) and stops it; the docs test runs such blocks in a section of
   * their own, with a data root and free ports of its own.
   */
  readonly own: boolean;
  /**
   * A marker `<!-- docs-test: <name> -->` for a step the test would do itself at this point. The
   * guides use none now (the tutorial's scripts take free ports with TESSERA_TABLET_PORTS=free), and
   * test/e2e/docs.test.ts refuses one, so that every step of a guide is a command a reader types.
   */
  readonly hook?: string;
}

/** The runnable blocks of a Markdown text, with what each must print. */
export function runnableBlocks(text: string): Block[] {
  const lines = text.split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const h = /^<!-- docs-test: ([a-z-]+) -->$/.exec(lines[i]);
    if (h) {
      out.push({ line: i + 1, code: '', exit: 0, expect: [], own: false, hook: h[1] });
      continue;
    }
    const m = /^```sh docs-test(\s+own)?(?:\s+exit=(\d+))?\s*$/.exec(lines[i]);
    if (!m) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i]);
    let expect: string[] = [];
    let j = i + 1;
    while (j < lines.length && lines[j].trim() === '') j++;
    if (lines[j] === '```text docs-output') {
      const o: string[] = [];
      for (j++; j < lines.length && lines[j] !== '```'; j++) o.push(lines[j]);
      expect = o.map((l) => l.trim()).filter((l) => l !== '');
      i = j;
    }
    out.push({ line: start + 1, code: body.join('\n'), exit: m[2] === undefined ? 0 : Number(m[2]), expect, own: m[1] !== undefined });
  }
  return out;
}


/** Every fenced block of a Markdown text: where it starts, its info string and its text. */
export interface Fence {
  readonly line: number;
  readonly info: string;
  readonly code: string;
}

export function fences(text: string): Fence[] {
  const lines = text.split('\n');
  const out: Fence[] = [];
  for (let i = 0; i < lines.length; i++) {
    // CommonMark: a backtick fence's info string has no backtick (```` ```sh ```` in prose is no fence),
    // and the closing fence has at least as many backticks as the opening one.
    const m = /^\s*(`{3,})([^`]*)$/.exec(lines[i]);
    if (!m) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !new RegExp(`^\\s*${m[1]}\`*\\s*$`).test(lines[i]); i++) body.push(lines[i]);
    out.push({ line: start + 1, info: m[2].trim(), code: body.join('\n') });
  }
  return out;
}

/**
 * What the docs test does with a fence. A shell-ish fence (info string sh, bash, shell, console,
 * or none) must say: `sh docs-test` or `sh docs-test own` (run here), `sh docs-test-elsewhere=<file>[,<file>]` (run by
 * that test or script, which must hold each of its command lines), or `sh docs-not-run` (listed
 * with its reason in test/e2e/docs.test.ts). Anything else shell-ish is 'unaccounted'; a fence
 * with another info string (text, json, sql, ts, yaml) holds no shell commands.
 */
export type FenceKind = 'run' | 'elsewhere' | 'not-run' | 'unaccounted' | 'other';

export function fenceKind(f: Fence): FenceKind {
  if (/^sh docs-test(\s+own)?(\s+exit=\d+)?$/.test(f.info)) return 'run';
  if (/^sh docs-test-elsewhere=\S+$/.test(f.info)) return 'elsewhere';
  if (f.info === 'sh docs-not-run') return 'not-run';
  const lang = f.info.split(/\s+/)[0];
  if (['', 'sh', 'bash', 'shell', 'console', 'zsh', 'shell-session'].includes(lang)) return 'unaccounted';
  return 'other';
}

/** The files a `sh docs-test-elsewhere=a,b` fence names. */
export function elsewhereFiles(f: Fence): string[] {
  return f.info.replace(/^sh docs-test-elsewhere=/, '').split(',');
}

/**
 * The command lines of a shell block: comments and blank lines dropped, a trailing `# comment`
 * cut, `\` continuations joined, whitespace runs collapsed to one space.
 */
export function commandLines(code: string): string[] {
  const joined = code.replace(/\\\n\s*/g, ' ');
  const out: string[] = [];
  for (const raw of joined.split('\n')) {
    const line = raw.replace(/\s+#\s.*$/, '').replace(/\s+/g, ' ').trim();
    if (line === '' || line.startsWith('#')) continue;
    out.push(line);
  }
  return out;
}
