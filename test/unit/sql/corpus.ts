// Loads the parser corpus (test/unit/sql/corpus/*.sql): one statement per line, `--` comments.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** test/unit/sql/corpus, found from the compiled file in dist/ or the source tree. */
export const CORPUS_DIR = (() => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const root = here.includes(`${path.sep}dist${path.sep}`) ? here.slice(0, here.lastIndexOf(`${path.sep}dist${path.sep}`)) : path.resolve(here, '../../..');
  return path.join(root, 'test', 'unit', 'sql', 'corpus');
})();

export interface CorpusEntry {
  readonly file: string;
  readonly line: number;
  readonly sql: string;
}

export function readCorpusFile(name: string): CorpusEntry[] {
  const text = readFileSync(path.join(CORPUS_DIR, name), 'utf8');
  const out: CorpusEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const sql = raw.trimEnd();
    if (sql.trim() === '' || sql.startsWith('-- ')) return;
    out.push({ file: name, line: i + 1, sql });
  });
  return out;
}

/** Every statement that must parse (all .sql files except errors.sql). */
export function validCorpus(): CorpusEntry[] {
  return readdirSync(CORPUS_DIR)
    .filter((f) => f.endsWith('.sql') && f !== 'errors.sql')
    .sort()
    .flatMap(readCorpusFile);
}

/** Deep copy without source spans (start/end), for comparing trees from different texts. */
export function stripSpans(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripSpans);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (k !== 'start' && k !== 'end') out[k] = stripSpans(x);
    return out;
  }
  return v;
}
