// splitStatements: a multi-statement query cut where MariaDB's parser ends each statement, compound
// statements (stored program bodies, BEGIN NOT ATOMIC, top-level IF/LOOP/…) kept whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isEmptyStatement, leadingWords, splitStatements } from '../../../src/sql/index.js';

const CASES: readonly (readonly [string, readonly string[]])[] = [
  ['select 1; select 2', ['select 1', 'select 2']],
  ['select 1;', ['select 1']],
  [";;select ';'; -- x;\n", ["select ';'"]],
  ['begin; commit', ['begin', 'commit']],
  ['create table t(a int); insert into t values (1)', ['create table t(a int)', 'insert into t values (1)']],
  [
    'CREATE PROCEDURE p(IN n INT) BEGIN DECLARE i INT DEFAULT 0; WHILE i < n DO SET i = i + 1; END WHILE; IF i > 2 THEN SELECT IF(i > 3, 1, 2); ELSE SELECT 0; END IF; END; CALL p(3)',
    ['CREATE PROCEDURE p(IN n INT) BEGIN DECLARE i INT DEFAULT 0; WHILE i < n DO SET i = i + 1; END WHILE; IF i > 2 THEN SELECT IF(i > 3, 1, 2); ELSE SELECT 0; END IF; END', 'CALL p(3)'],
  ],
  [
    'CREATE OR REPLACE DEFINER = `a`@`%` FUNCTION f(x INT) RETURNS INT DETERMINISTIC BEGIN RETURN CASE WHEN x > 0 THEN 1 ELSE 0 END; END; SELECT f(1)',
    ['CREATE OR REPLACE DEFINER = `a`@`%` FUNCTION f(x INT) RETURNS INT DETERMINISTIC BEGIN RETURN CASE WHEN x > 0 THEN 1 ELSE 0 END; END', 'SELECT f(1)'],
  ],
  [
    'CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN IF NEW.a < 0 THEN SET NEW.a = 0; END IF; END; SELECT 1',
    ['CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN IF NEW.a < 0 THEN SET NEW.a = 0; END IF; END', 'SELECT 1'],
  ],
  ['CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1; SELECT 1', ['CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1', 'SELECT 1']],
  [
    'BEGIN NOT ATOMIC DECLARE x INT; l: LOOP SET x = x + 1; IF x > 3 THEN LEAVE l; END IF; END LOOP; REPEAT SET x = x - 1; UNTIL x = 0 END REPEAT; SELECT REPEAT(\'a\', 2) FROM t FOR UPDATE; END; SELECT 2',
    ['BEGIN NOT ATOMIC DECLARE x INT; l: LOOP SET x = x + 1; IF x > 3 THEN LEAVE l; END IF; END LOOP; REPEAT SET x = x - 1; UNTIL x = 0 END REPEAT; SELECT REPEAT(\'a\', 2) FROM t FOR UPDATE; END', 'SELECT 2'],
  ],
  ['CREATE PROCEDURE p() SELECT 1; SELECT 2', ['CREATE PROCEDURE p() SELECT 1', 'SELECT 2']],
  ['CREATE TABLE t(a int) ; CREATE VIEW v AS SELECT CASE WHEN 1 THEN 2 END', ['CREATE TABLE t(a int)', 'CREATE VIEW v AS SELECT CASE WHEN 1 THEN 2 END']],
];

test('splitStatements keeps compound statements whole', () => {
  for (const [script, want] of CASES) assert.deepEqual(splitStatements(script), want, script);
});

test('leadingWords and isEmptyStatement', () => {
  assert.deepEqual(leadingWords('  /* x */ execute immediate "select 1"', 2), ['EXECUTE', 'IMMEDIATE']);
  assert.deepEqual(leadingWords('/*!40101 SET NAMES utf8 */', 2), ['SET', 'NAMES']);
  assert.deepEqual(leadingWords("handler t read first", 5), ['HANDLER', 'T', 'READ', 'FIRST']);
  assert.deepEqual(leadingWords('', 2), []);
  assert.ok(isEmptyStatement(''));
  assert.ok(isEmptyStatement(' ; /* nothing */ -- at all\n'));
  assert.ok(!isEmptyStatement('select 1'));
});
