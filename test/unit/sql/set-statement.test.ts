// SET STATEMENT var = value [, …] FOR statement (issue 24): the inner statement parsed as alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { format, parse, type SetStatementFor } from '../../../src/sql/index.js';

test('SET STATEMENT … FOR parses the assignments and the inner statement', () => {
  const s = parse("SET STATEMENT max_statement_time = 10, sql_mode = '' FOR SELECT a FROM t WHERE id = 1") as SetStatementFor;
  assert.equal(s.kind, 'SetStatementFor');
  assert.equal(s.assignments, "max_statement_time = 10, sql_mode = ''");
  assert.equal(s.statement.kind, 'Select');
  assert.equal(s.statementText, 'SELECT a FROM t WHERE id = 1');
  assert.equal(format(s), "SET STATEMENT max_statement_time = 10, sql_mode = '' FOR SELECT a FROM t WHERE id = 1");
  assert.equal((parse('SET STATEMENT @@div_precision_increment := 8 FOR INSERT INTO t VALUES (1)') as SetStatementFor).statement.kind, 'Insert');
  assert.equal(parse('SET @statement = 1').kind, 'Set');
});

test('malformed SET STATEMENT is a syntax error (1064)', () => {
  for (const sql of ['SET STATEMENT FOR SELECT 1', 'SET STATEMENT a = 1 SELECT 1', 'SET STATEMENT a = 1 FOR', 'SET STATEMENT a = 1 FOR SET b = 2', 'SET STATEMENT a = 1 FOR SET STATEMENT b = 1 FOR SELECT 1']) {
    assert.throws(() => parse(sql), (e: { errno?: number }) => e.errno === 1064, sql);
  }
});

test('EXECUTE IMMEDIATE expr [USING …]', () => {
  const s = parse("EXECUTE IMMEDIATE CONCAT('SELECT ', ?) USING 1") as import('../../../src/sql/index.js').ExecuteImmediate;
  assert.equal(s.kind, 'ExecuteImmediate');
  assert.equal(s.using.length, 1);
  assert.equal((parse('EXECUTE IMMEDIATE @q') as import('../../../src/sql/index.js').ExecuteImmediate).text.kind, 'UserVar');
  assert.equal(parse('EXECUTE stmt USING @a').kind, 'Execute');
  for (const sql of ['EXECUTE IMMEDIATE', 'EXECUTE IMMEDIATE @q USING']) assert.throws(() => parse(sql), (e: { errno?: number }) => e.errno === 1064, sql);
});
