// Loads the parser corpus (test/unit/sql/corpus/*.sql): one statement per line, `--` comments.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { format, normalize, parse, type Statement } from '../../../src/sql/index.js';

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

/**
 * Parses `sql`, checks its canonical text, that the text parses back to the same tree, and that
 * the normalized key formats to itself; with `bindBack`, also that the normalized statement with
 * its values bound back parses to the same tree. Returns the tree.
 */
export function roundTrip(sql: string, canonical: string, bindBack: boolean): Statement {
  const ast = parse(sql);
  const text = format(ast);
  assert.equal(text, canonical, sql);
  assert.deepEqual(stripSpans(parse(text)), stripSpans(ast), `round trip of ${sql}`);
  const n = normalize(ast);
  assert.equal(format(parse(n.key)), n.key, `normalized key of ${sql}`);
  if (bindBack) assert.deepEqual(stripSpans(parse(format(n.statement, { bindVars: n.bindVars }))), stripSpans(ast), `bind values of ${sql} substituted back`);
  return ast;
}

/** `sql` is refused with MariaDB's syntax error (1064). */
export function syntaxError(sql: string): void {
  assert.throws(() => parse(sql), (e: { errno?: number }) => e.errno === 1064, sql);
}
