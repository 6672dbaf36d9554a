// The runnable blocks of a user guide (docs/guides), for test/e2e/docs.test.ts: fenced blocks whose
// info string is `sh docs-test` (optionally `exit=N`), each with the lines the ```text docs-output
// block right after it lists, and `<!-- docs-test: <hook> -->` markers for steps the test does.

export interface Block {
  readonly line: number;
  readonly code: string;
  readonly exit: number;
  /** Lines the output must contain. */
  readonly expect: string[];
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
      out.push({ line: i + 1, code: '', exit: 0, expect: [], hook: h[1] });
      continue;
    }
    const m = /^```sh docs-test(?:\s+exit=(\d+))?\s*$/.exec(lines[i]);
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
    out.push({ line: start + 1, code: body.join('\n'), exit: m[1] === undefined ? 0 : Number(m[1]), expect });
  }
  return out;
}

