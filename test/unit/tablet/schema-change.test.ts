// isSchemaChange: which statements make the tablet reload its schema. Its first-character check
// must answer as the regular expression behind it for every statement.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSchemaChange } from '../../../src/tablet/schema-engine.js';

const REGEX = /^\s*(?:\/\*.*?\*\/\s*)*(create|alter|drop|rename|truncate)\b/is;

test('schema changes, in any case, after white space and comments', () => {
  for (const sql of ['CREATE TABLE t (id int)', 'alter table t add c int', 'Drop table t', 'RENAME TABLE a TO b', 'truncate t', '  CREATE INDEX i ON t (c)', '\n\tdrop view v', '/* x */ ALTER TABLE t ENGINE=InnoDB', '/* a */ /* b */truncate table t', '\u00a0CREATE TABLE t (id int)']) {
    assert.equal(isSchemaChange(sql), true, sql);
  }
});

test('everything else, including words that start like a schema change', () => {
  for (const sql of ['SELECT 1', 'select * from t where id = 1', 'INSERT INTO t VALUES (1)', 'UPDATE t SET c = 1', 'DELETE FROM t', 'COMMIT', 'createx', 'altered', 'DESCRIBE t', 'REPLACE INTO t VALUES (1)', 'TRUNCATED', '(SELECT 1)', '@a', '', ' ', '/* create */ SELECT 1', 'SET autocommit = 1']) {
    assert.equal(isSchemaChange(sql), false, sql);
  }
});

test('the same answer as the regular expression for every first character', () => {
  for (let c = 0; c < 0x180; c++) {
    for (const rest of ['CREATE TABLE t (id int)', 'reate table t', 'SELECT 1', 'lter t', 'rop t', '']) {
      const sql = String.fromCharCode(c) + rest;
      assert.equal(isSchemaChange(sql), REGEX.test(sql), JSON.stringify(sql));
    }
  }
});
