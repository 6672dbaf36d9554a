// How the docs test reads a guide (test/harness/docs-blocks.ts): runnable blocks in order, their
// expected exit code and output lines, hooks, and fences that are not runnable left alone.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runnableBlocks } from '../../harness/docs-blocks.js';

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
  'text between',
  '```text docs-output',
  'not attached to any block',
  '```',
].join('\n');

test('runnable blocks with their exit codes, expected lines and hooks, in document order', () => {
  const blocks = runnableBlocks(GUIDE);
  assert.deepEqual(
    blocks.map((b) => ({ line: b.line, code: b.code, exit: b.exit, expect: b.expect, hook: b.hook })),
    [
      { line: 5, code: 'ctl GetKeyspaces\nctl GetTablets', exit: 0, expect: ['"name": "commerce"', 'zone1-0000000100 commerce 0 primary'], hook: undefined },
      { line: 15, code: '', exit: 0, expect: [], hook: 'new-shards' },
      { line: 16, code: 'ctl nosuch', exit: 1, expect: [], hook: undefined },
    ],
  );
});

test('a guide without marked blocks has none', () => {
  assert.deepEqual(runnableBlocks('```sh\nls\n```\n'), []);
});
