// A prepared client statement's shard query with `?` placeholders (sql/format.ts:
// placeholdersBound) and its way back to text (tablet/placeholders.ts: splicePlaceholders, used
// when MariaDB will not prepare it) must give exactly the text the gate would have sent, for every
// statement of the parser corpus once normalized; which values may be placeholders, and the
// MariaDB types they are sent as.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TYPE } from '../../../src/mysql/index.js';
import { normalize, parse, placeholdersBound, PLACEHOLDERS_MAX, splicePlaceholders } from '../../../src/sql/index.js';
import { formatBound } from '../../../src/sql/format.js';
import type { Literal } from '../../../src/sql/ast.js';
import { placeholderParam } from '../../../src/tablet/placeholders.js';
import { validCorpus } from '../sql/corpus.js';

test('placeholders spliced back give formatBound\'s text over the normalized corpus', () => {
  let compared = 0;
  let refused = 0;
  for (const e of validCorpus()) {
    let n;
    try {
      n = normalize(parse(e.sql));
    } catch {
      continue;
    }
    const ps = placeholdersBound(n.statement, n.bindVars);
    if (ps === null) {
      refused++;
      continue;
    }
    assert.equal(splicePlaceholders(ps.sql, ps.params), formatBound(n.statement, n.bindVars), `${e.file}:${e.line}: ${e.sql}`);
    assert.ok(ps.params.every((p) => p.kind === 'Null' || p.kind === 'Number' || (p.kind === 'String' && p.charset === null && !p.national)));
    compared++;
  }
  assert.ok(compared > 100, `only ${compared} corpus statements had placeholders (${refused} refused)`);
});

test('which values are placeholders: lists, hex and bit literals, introducers, N\'\' and missing values are not', () => {
  const num = (text: string): Literal => ({ kind: 'Number', text, numType: 'int' });
  const stmt = parse('select a from t where b = :x and c = :y');
  assert.deepEqual(placeholdersBound(stmt, { x: num('1'), y: { kind: 'Null' } }), { sql: 'SELECT a FROM t WHERE b = ? AND c = ?', params: [num('1'), { kind: 'Null' }] });
  assert.equal(placeholdersBound(stmt, { x: num('1') }), null, 'a missing value');
  assert.equal(placeholdersBound(stmt, { x: num('1'), y: { kind: 'Hex', digits: '41', form: 'x', charset: null } }), null);
  assert.equal(placeholdersBound(stmt, { x: num('1'), y: { kind: 'String', value: 'a', charset: 'latin1', national: false } }), null);
  assert.equal(placeholdersBound(stmt, { x: num('1'), y: { kind: 'String', value: 'a', charset: null, national: true } }), null);
  assert.equal(placeholdersBound(parse('select a from t where b in ::l'), { l: { kind: 'List', items: [num('1')] } }), null);
  assert.equal(placeholdersBound(parse('select a from t where b = :x and c = ?'), { x: num('1') }), null, 'an unbound ? of its own');
  const many = normalize(parse(`insert into t values ${Array.from({ length: PLACEHOLDERS_MAX + 1 }, (_, i) => `(${i})`).join(', ')}`));
  assert.equal(placeholdersBound(many.statement, many.bindVars), null, 'more than PLACEHOLDERS_MAX values go as text');
});

test('splicing skips quotes and comments, keeps `- -1` apart, and counts its values', () => {
  const one: Literal[] = [{ kind: 'Number', text: '-1', numType: 'int' }];
  assert.equal(splicePlaceholders("select '?', \"?\", `?` /* ? */ - ?", one), "select '?', \"?\", `?` /* ? */ - -1");
  assert.equal(splicePlaceholders("select 'it\\'s ?', 'a''?' -?", one), "select 'it\\'s ?', 'a''?' - -1");
  assert.equal(splicePlaceholders('select 1 -- ?\n+ ?', one), 'select 1 -- ?\n+ -1');
  assert.equal(splicePlaceholders("select ?", [{ kind: 'String', value: "it's", charset: null, national: false }]), "select 'it\\'s'");
  assert.throws(() => splicePlaceholders('select ?, ?', one), /1 values sent for 2 placeholders/);
  assert.throws(() => splicePlaceholders('select 1', one), /1 values sent for 0 placeholders/);
});

test('each value is sent as the MariaDB type that keeps its meaning', () => {
  const n = (text: string, numType: 'int' | 'decimal' | 'float'): Literal => ({ kind: 'Number', text, numType });
  assert.deepEqual(placeholderParam(n('42', 'int')), { type: TYPE.LONGLONG, value: 42 });
  assert.deepEqual(placeholderParam(n('-9223372036854775808', 'int')), { type: TYPE.LONGLONG, value: -9223372036854775808n });
  assert.deepEqual(placeholderParam(n('18446744073709551615', 'int')), { type: TYPE.LONGLONG, unsigned: true, value: 18446744073709551615n });
  assert.deepEqual(placeholderParam(n('18446744073709551616', 'int')), { type: TYPE.NEWDECIMAL, value: '18446744073709551616' });
  assert.deepEqual(placeholderParam(n('0.10', 'decimal')), { type: TYPE.NEWDECIMAL, value: '0.10' });
  assert.deepEqual(placeholderParam(n('1e3', 'float')), { type: TYPE.DOUBLE, value: 1000 });
  assert.deepEqual(placeholderParam({ kind: 'String', value: 'ü', charset: null, national: false }), { type: TYPE.VAR_STRING, value: 'ü' });
  assert.deepEqual(placeholderParam({ kind: 'Null' }), { type: TYPE.NULL, value: null });
});
