// formatBound (a plan's shard query filled from its cached text template) must give exactly what
// format(stmt, { bindVars }) gives, for every statement of the parser corpus once normalized, and
// for the corner cases the template has to get right itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { format, normalize, parse } from '../../../src/sql/index.js';
import { formatBound } from '../../../src/sql/format.js';
import { validCorpus } from './corpus.js';

test('formatBound equals format with bind variables over the normalized corpus', () => {
  let compared = 0;
  for (const e of validCorpus()) {
    let n;
    try {
      n = normalize(parse(e.sql));
    } catch {
      continue; // statements the normalizer does not take (DDL and the like)
    }
    assert.equal(formatBound(n.statement, n.bindVars), format(n.statement, { bindVars: n.bindVars }), `${e.file}:${e.line}: ${e.sql}`);
    // Twice: the second time from the cached template.
    assert.equal(formatBound(n.statement, n.bindVars), format(n.statement, { bindVars: n.bindVars }), `${e.file}:${e.line}: ${e.sql}`);
    compared++;
  }
  assert.ok(compared > 100, `only ${compared} corpus statements normalized`);
});

test('formatBound: unary minus before a negative value, lists, missing values, the marker in a literal', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['select -:a, +:b, - :c from t where x in ::l', { a: { kind: 'Number', text: '-1', numType: 'int' }, b: { kind: 'Number', text: '+2', numType: 'int' }, c: { kind: 'Number', text: '3', numType: 'int' }, l: { kind: 'List', items: [{ kind: 'String', value: "it's", charset: null, national: false }, { kind: 'Null' }] } }],
    ['select :missing, :a from t where :a > 1', { a: { kind: 'Number', text: '-7', numType: 'int' } }],
    ["select '\uE000', '\uE0000\uE001', :a from t", { a: { kind: 'Number', text: '7', numType: 'int' } }],
  ];
  for (const [sql, bindVars] of cases) {
    const stmt = parse(sql);
    const bv = bindVars as Parameters<typeof formatBound>[1];
    assert.equal(formatBound(stmt, bv), format(stmt, { bindVars: bv }), sql);
  }
});
