// Run by scripts/test.sh after the suite: reads the TAP the run printed and repeats every failing
// test at the end — its path of subtest names, its YAML block (error, location, stack) and the lines
// its file printed just before it — so a run whose log is only seen from its tail still says what
// failed and where. Prints nothing when nothing failed.
import { readFileSync } from 'node:fs';

/** Most lines of a failure's YAML block repeated; the rest is counted, not printed. */
const MAX_BLOCK_LINES = 60;
/** Lines of output (TAP comments, a file's own prints) kept from before each failure. */
const MAX_CONTEXT_LINES = 15;

interface Failure {
  path: string[];
  line: string;
  block: string[];
  context: string[];
}

export function failuresIn(tap: string): Failure[] {
  const lines = tap.split('\n');
  const failures: Failure[] = [];
  // The names of the subtests open at each indentation, so a nested failure reads as its path.
  const names = new Map<number, string>();
  const recent: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i];
    const indent = text.length - text.trimStart().length;
    const trimmed = text.trimStart();
    const sub = /^# Subtest: (.*)$/.exec(trimmed);
    if (sub) {
      names.set(indent, sub[1]);
      for (const k of [...names.keys()]) if (k > indent) names.delete(k);
      continue;
    }
    if (/^not ok \d+/.test(trimmed)) {
      const path = [...names.entries()].filter(([k]) => k < indent).sort((a, b) => a[0] - b[0]).map(([, n]) => n);
      const block: string[] = [];
      let j = i + 1;
      if (j < lines.length && lines[j].trim() === '---') {
        for (j = j + 1; j < lines.length && lines[j].trim() !== '...'; j++) block.push(lines[j]);
      }
      // A parent whose only fault is a failing child is already said by that child.
      if (!block.some((l) => l.includes("failureType: 'subtestsFailed'"))) {
        failures.push({ path, line: trimmed, block, context: recent.slice(-MAX_CONTEXT_LINES) });
      }
      recent.length = 0;
      i = j;
      continue;
    }
    if (/^(TAP version|ok \d+|\s*---|\s*\.\.\.|\s*duration_ms:|\s*type: 'suite')/.test(trimmed) || trimmed === '') continue;
    recent.push(text);
    if (recent.length > MAX_CONTEXT_LINES * 4) recent.splice(0, recent.length - MAX_CONTEXT_LINES);
  }
  return failures;
}

function main(file: string): void {
  const failures = failuresIn(readFileSync(file, 'utf8'));
  if (failures.length === 0) return;
  const out: string[] = ['', `=== ${failures.length} failing test(s), repeated from the log above (${file}) ===`];
  for (const f of failures) {
    out.push('', `--- ${[...f.path, f.line].join(' > ')}`);
    if (f.context.length > 0) out.push('  printed before it:', ...f.context.map((l) => `  | ${l}`));
    const shown = f.block.slice(0, MAX_BLOCK_LINES);
    out.push(...shown);
    if (f.block.length > shown.length) out.push(`  … ${f.block.length - shown.length} more line(s) in ${file}`);
  }
  process.stdout.write(out.join('\n') + '\n');
}

if (process.argv[1]?.endsWith('failures.js')) main(process.argv[2] ?? 'test-output/last-run.tap');
