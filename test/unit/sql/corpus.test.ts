// The corpus: every statement parses, formats, and round-trips (parse(format(ast)) equals ast,
// ignoring source spans); formatting is idempotent; normalizing and substituting the bind values
// back gives the original tree. Every statement in errors.sql fails with error 1064.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { format, normalize, parse } from '../../../src/sql/index.js';
import { TesseraError } from '../../../src/mysql/errors.js';
import { readCorpusFile, stripSpans, validCorpus } from './corpus.js';

const MIN_CORPUS = 2000;

test('corpus has at least 2,000 statements', () => {
  assert.ok(validCorpus().length >= MIN_CORPUS, `corpus has ${validCorpus().length} statements`);
});

test('corpus: parse, format, round-trip, normalize', () => {
  const failures: string[] = [];
  for (const { file, line, sql } of validCorpus()) {
    try {
      const ast = parse(sql);
      const text = format(ast);
      const again = parse(text);
      assert.deepEqual(stripSpans(again), stripSpans(ast), 'round trip');
      assert.equal(format(again), text, 'idempotent');
      const n = normalize(ast);
      const keyAst = parse(n.key);
      assert.equal(format(keyAst), n.key, 'normalized key re-parses to itself');
      const back = parse(format(n.statement, { bindVars: n.bindVars }));
      assert.deepEqual(stripSpans(back), stripSpans(ast), 'bind values substituted back');
    } catch (err) {
      failures.push(`${file}:${line}: ${sql}\n    ${(err as Error).message.split('\n').slice(0, 6).join('\n    ')}`);
    }
  }
  assert.equal(failures.length, 0, `${failures.length} failures:\n${failures.slice(0, 40).join('\n')}`);
});

test('errors.sql: every statement is a 1064 syntax error', () => {
  const wrong: string[] = [];
  for (const { line, sql } of readCorpusFile('errors.sql')) {
    try {
      const ast = parse(sql);
      wrong.push(`errors.sql:${line}: parsed: ${sql} => ${format(ast)}`);
    } catch (err) {
      if (!(err instanceof TesseraError) || err.errno !== 1064 || err.sqlState !== '42000') {
        wrong.push(`errors.sql:${line}: wrong error ${String(err)}`);
      }
    }
  }
  assert.equal(wrong.length, 0, wrong.join('\n'));
});

test('canonical.txt: input formats to the expected canonical SQL', () => {
  const text = readCorpusFile('canonical.txt');
  const wrong: string[] = [];
  for (let i = 0; i < text.length; i++) {
    const e = text[i]!;
    if (e.sql.startsWith('#') || e.sql.startsWith('=> ')) continue;
    const expected = text[i + 1];
    assert.ok(expected && expected.sql.startsWith('=> '), `canonical.txt:${e.line}: no expected line`);
    try {
      const got = format(parse(e.sql));
      if (got !== expected.sql.slice(3)) wrong.push(`canonical.txt:${e.line}: ${e.sql}\n  got:  ${got}\n  want: ${expected.sql.slice(3)}`);
    } catch (err) {
      wrong.push(`canonical.txt:${e.line}: ${e.sql}: ${(err as Error).message}`);
    }
  }
  assert.equal(wrong.length, 0, wrong.join('\n'));
});
