// MariaDB sequences' DDL in the parser (issue 24): CREATE [OR REPLACE] [TEMPORARY] SEQUENCE with its
// options, ALTER SEQUENCE, DROP [TEMPORARY] SEQUENCE; kept as written; malformed forms are 1064.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { format, parse, type SequenceDdl } from '../../../src/sql/index.js';

test('CREATE, ALTER and DROP SEQUENCE', () => {
  for (const [sql, action, names] of [
    ['CREATE SEQUENCE s', 'CREATE', ['s']],
    ['CREATE OR REPLACE SEQUENCE IF NOT EXISTS s START WITH 10 INCREMENT BY -5 MINVALUE=-100 MAXVALUE 1000 CACHE 20 CYCLE ENGINE=InnoDB', 'CREATE', ['s']],
    ['CREATE TEMPORARY SEQUENCE s2 NOMAXVALUE NOCACHE NOCYCLE', 'CREATE', ['s2']],
    ['ALTER SEQUENCE IF EXISTS s RESTART WITH 1 INCREMENT 2', 'ALTER', ['s']],
    ['DROP SEQUENCE IF EXISTS s, s2', 'DROP', ['s', 's2']],
    ['DROP TEMPORARY SEQUENCE s2', 'DROP', ['s2']],
  ] as const) {
    const s = parse(sql) as SequenceDdl;
    assert.equal(s.kind, 'SequenceDdl', sql);
    assert.equal(s.action, action);
    assert.deepEqual(s.names.map((n) => n.name), names);
    assert.equal(format(s), sql);
  }
  assert.equal(parse('DROP TEMPORARY TABLE t').kind, 'DropTable');
  assert.equal(parse('CREATE TEMPORARY TABLE t (a int)').kind, 'CreateTable');
});

test('malformed sequence DDL is a syntax error (1064)', () => {
  for (const sql of ['CREATE SEQUENCE', 'CREATE SEQUENCE s START WITH (1)', 'ALTER SEQUENCE s', 'DROP SEQUENCE', 'CREATE SEQUENCE s INCREMENT BY -x']) {
    assert.throws(() => parse(sql), (e: { errno?: number }) => e.errno === 1064, sql);
  }
});
