// No client-visible error of the gate carries a JavaScript exception's text (issue 23): the source
// of src/gate is read and its error paths checked. An exception the gate did not mean to throw
// becomes an internal error (executor `failure`), so:
// - every command the MySQL server hands the executor goes through `failure` (or `guarded`);
// - `TesseraError.from`, which keeps any Error's message, is used only there, after the check
//   that the error is a coded one;
// - no error the gate builds takes its text from another error, except from a coded error's own
//   message (listed below with the reason).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '../../../..');
const gateDir = join(root, 'src/gate');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

const files = sources(gateDir).map((p) => ({ path: relative(root, p), text: readFileSync(p, 'utf8') }));

/** Places that build an error from another error's message, and why that message is a client's to see. */
const ALLOWED_MESSAGE_REUSE: readonly { readonly path: string; readonly contains: string; readonly why: string }[] = [
  { path: 'src/gate/executor.ts', contains: '(error ${e.errno} behind the gate)', why: 'e is a TesseraError (a client-side code from a tablet hop)' },
  { path: 'src/gate/session.ts', contains: 'commit failed on ${key}: ${e.message}', why: 'e is a TesseraError from a tablet\'s COMMIT' },
  { path: 'src/gate/auth.ts', contains: 'cannot read static auth file', why: 'start-up configuration error, never sent to a client' },
  { path: 'src/gate/auth.ts', contains: 'static auth file ${path} is not valid JSON', why: 'start-up configuration error, never sent to a client' },
];

test('the files were found', () => {
  assert.ok(files.some((f) => f.path === 'src/gate/executor.ts'), `read ${files.length} files under ${gateDir}`);
});

test('every command of the executor turns failures into client errors through failure/guarded', () => {
  const executor = files.find((f) => f.path === 'src/gate/executor.ts')!.text;
  for (const method of ['query', 'prepare', 'execute', 'fieldList', 'initDb']) {
    const m = new RegExp(`\\n  (?:async )?${method}\\(session: Session[^\\n]*\\n([\\s\\S]*?)\\n  }\\n`).exec(executor);
    assert.ok(m, `Executor.${method} found`);
    assert.match(m[1], /this\.(failure|guarded)\(/, `Executor.${method} sends what it throws through failure/guarded`);
  }
});

test('TesseraError.from (which keeps any exception\'s text) is used only after the coded-error check', () => {
  const uses: string[] = [];
  for (const f of files) {
    f.text.split('\n').forEach((line, i) => {
      if (line.includes('TesseraError.from(')) uses.push(`${f.path}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(uses.map((u) => u.replace(/:\d+:/, ':')), ['src/gate/executor.ts: if (isCodedError(err)) return clientError(TesseraError.from(err));']);
});

test('no error the gate builds takes its text from another exception', () => {
  const bad: string[] = [];
  const builds = /new TesseraError\(|gateError\(|notSupported\(|noSuchTable\(|rowsLimitError\(/;
  const reuses = /\.message\b|String\(err|\$\{err\b|\$\{e\}|\.stack\b/;
  for (const f of files) {
    const lines = f.text.split('\n');
    lines.forEach((line, i) => {
      if (!builds.test(line) || !reuses.test(line)) return;
      if (ALLOWED_MESSAGE_REUSE.some((a) => a.path === f.path && line.includes(a.contains))) return;
      bad.push(`${f.path}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(bad, []);
});

test('errors shown inside other errors (a tablet\'s last health error) keep only coded errors\' text', () => {
  const hc = files.find((f) => f.path === 'src/gate/health-check.ts')!.text;
  const assigns = hc.split('\n').filter((l) => /lastError = /.test(l));
  for (const a of assigns) assert.doesNotMatch(a, /err instanceof Error \? err\.message|String\(err\)/, a.trim());
});
