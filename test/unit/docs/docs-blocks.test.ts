// How the docs test reads a guide (test/harness/docs-blocks.ts): runnable blocks in order, their
// expected exit code and output lines, hooks, and fences that are not runnable left alone.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commandLines, elsewhereFiles, fenceKind, fences, runnableBlocks } from '../../harness/docs-blocks.js';

const GUIDE = [
  '# A guide',
  '```sh',
  'not run',
  '```',
  '```sh docs-test',
  'ctl GetKeyspaces',
  'ctl GetTablets',
  '```',
  '',
  '```text docs-output',
  '"name": "commerce"',
  '',
  '  zone1-0000000100 commerce 0 primary  ',
  '```',
  '<!-- docs-test: new-shards -->',
  '```sh docs-test exit=1',
  'ctl nosuch',
  '```',
  '```sh docs-test own exit=2',
  'ctl own',
  '```',
  'text between',
  '```text docs-output',
  'not attached to any block',
  '```',
].join('\n');

test('runnable blocks with their exit codes, expected lines and hooks, in document order', () => {
  const blocks = runnableBlocks(GUIDE);
  assert.deepEqual(
    blocks.map((b) => ({ line: b.line, code: b.code, exit: b.exit, expect: b.expect, own: b.own, hook: b.hook })),
    [
      { line: 5, code: 'ctl GetKeyspaces\nctl GetTablets', exit: 0, expect: ['"name": "commerce"', 'zone1-0000000100 commerce 0 primary'], own: false, hook: undefined },
      { line: 15, code: '', exit: 0, expect: [], own: false, hook: 'new-shards' },
      { line: 16, code: 'ctl nosuch', exit: 1, expect: [], own: false, hook: undefined },
      { line: 19, code: 'ctl own', exit: 2, expect: [], own: true, hook: undefined },
    ],
  );
});

test('a guide without marked blocks has none', () => {
  assert.deepEqual(runnableBlocks('```sh\nls\n```\n'), []);
});

test('every fence with its info string; what the docs test does with each kind', () => {
  const text = [
    '```sh docs-test', 'ctl GetKeyspaces', '```',
    '```sh docs-test exit=1', 'ctl nosuch', '```',
    '```sh docs-test own', 'ctl GetKeyspaces', '```',
    '```sh docs-test-elsewhere=.ci/run,test/e2e/x.test.ts', 'bash scripts/test.sh', '```',
    '```sh docs-not-run', 'node dist/bench/x.js', '```',
    '```', 'tessera gate --port 15306', '```',
    '```bash', 'ls', '```',
    '```text', 'output', '```',
    '```json', '{}', '```',
    '  ```sh', '  indented', '  ```',
    '```` ```sh ```` in prose is no fence',
    '````sh', '```', 'a fence inside', '````',
  ].join('\n');
  const fs = fences(text);
  assert.deepEqual(fs.map((f) => [f.line, f.info]), [
    [1, 'sh docs-test'], [4, 'sh docs-test exit=1'], [7, 'sh docs-test own'], [10, 'sh docs-test-elsewhere=.ci/run,test/e2e/x.test.ts'], [13, 'sh docs-not-run'],
    [16, ''], [19, 'bash'], [22, 'text'], [25, 'json'], [28, 'sh'], [32, 'sh'],
  ]);
  assert.equal(fs[10].code, '```\na fence inside');
  assert.deepEqual(fs.map(fenceKind), ['run', 'run', 'run', 'elsewhere', 'not-run', 'unaccounted', 'unaccounted', 'other', 'other', 'unaccounted', 'unaccounted']);
  assert.deepEqual(elsewhereFiles(fs[3]), ['.ci/run', 'test/e2e/x.test.ts']);
});

test('command lines: comments and blank lines dropped, continuations joined, spaces collapsed', () => {
  assert.deepEqual(
    commandLines('# a comment\nvtworker \\\n $TOPOLOGY_FLAGS \\\n   -cell zone1   SplitClone customer/0   # trailing\n\nctl GetTablets\n  #   indented comment'),
    ['vtworker $TOPOLOGY_FLAGS -cell zone1 SplitClone customer/0', 'ctl GetTablets'],
  );
});
