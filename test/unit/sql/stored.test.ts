// Stored programs in the parser (issue 24): CREATE/DROP/ALTER PROCEDURE, FUNCTION, TRIGGER, EVENT
// with their compound bodies (DECLARE … HANDLER, GET DIAGNOSTICS, loops, CASE), BEGIN NOT ATOMIC,
// each as MariaDB 10.11 accepts it; malformed bodies stay 1064; the statement is kept as written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { format, parse, type CompoundStatement, type Statement } from '../../../src/sql/index.js';

function stored(sql: string): Extract<Statement, { kind: 'StoredProgram' }> {
  const s = parse(sql);
  assert.equal(s.kind, 'StoredProgram', sql);
  return s as Extract<Statement, { kind: 'StoredProgram' }>;
}

function block(s: { body: CompoundStatement | null }): Extract<CompoundStatement, { kind: 'Block' }> {
  assert.equal(s.body?.kind, 'Block');
  return s.body as Extract<CompoundStatement, { kind: 'Block' }>;
}

test('CREATE PROCEDURE with parameters, characteristics, declarations, handlers and loops', () => {
  const sql = `CREATE OR REPLACE DEFINER = \`root\`@\`localhost\` PROCEDURE fill(IN n INT, OUT total BIGINT UNSIGNED, INOUT tag VARCHAR(20) CHARACTER SET latin1)
    MODIFIES SQL DATA NOT DETERMINISTIC SQL SECURITY INVOKER COMMENT 'fills t'
  BEGIN
    DECLARE i, j INT DEFAULT 0;
    DECLARE done BOOLEAN DEFAULT FALSE;
    DECLARE dup CONDITION FOR SQLSTATE '23000';
    DECLARE cur CURSOR FOR SELECT id FROM t WHERE id > 10;
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET done = TRUE;
    DECLARE EXIT HANDLER FOR dup, SQLEXCEPTION BEGIN GET DIAGNOSTICS CONDITION 1 @msg = MESSAGE_TEXT; RESIGNAL; END;
    outer_loop: WHILE i < n DO
      INSERT INTO t(id, v) VALUES (1000 + i, CONCAT('p', i));
      SET i = i + 1;
      IF i = 5 THEN ITERATE outer_loop; ELSEIF i > 100 THEN LEAVE outer_loop; ELSE SET j = j + 1; END IF;
    END WHILE outer_loop;
    REPEAT SET j = j - 1; UNTIL j <= 0 END REPEAT;
    l2: LOOP LEAVE l2; END LOOP l2;
    CASE WHEN n > 1 THEN SELECT 'many'; WHEN n = 1 THEN SELECT 'one'; ELSE BEGIN END; END CASE;
    FOR k IN 1 .. 3 DO SELECT k; END FOR;
    OPEN cur; FETCH cur INTO j; CLOSE cur;
    SELECT COUNT(*) INTO total FROM t;
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'done';
  END`;
  const s = stored(sql);
  assert.equal(s.action, 'CREATE');
  assert.equal(s.object, 'PROCEDURE');
  assert.equal(s.orReplace, true);
  assert.equal(s.name.name, 'fill');
  assert.deepEqual(s.params.map((p) => [p.mode, p.name, p.type]), [['IN', 'n', 'INT'], ['OUT', 'total', 'BIGINT UNSIGNED'], ['INOUT', 'tag', 'VARCHAR(20) CHARACTER SET latin1']]);
  const b = block(s);
  assert.deepEqual(b.declarations.map((d) => d.kind), ['Variable', 'Variable', 'Condition', 'Cursor', 'Handler', 'Handler']);
  assert.deepEqual(b.statements.map((x) => x.kind), ['Loop', 'Loop', 'Loop', 'Case', 'Loop', 'Control', 'Control', 'Control', 'Simple', 'Control']);
  const loop = b.statements[0] as Extract<CompoundStatement, { kind: 'Loop' }>;
  assert.equal(loop.label, 'outer_loop');
  assert.equal((loop.body[0] as Extract<CompoundStatement, { kind: 'Simple' }>).statement?.kind, 'Insert');
  assert.equal(format(s), sql);
});

test('CREATE FUNCTION: RETURNS, a RETURN body, AGGREGATE, IF NOT EXISTS, a loadable function', () => {
  const f = stored('CREATE FUNCTION IF NOT EXISTS twice(x INT) RETURNS INT DETERMINISTIC RETURN x * 2');
  assert.equal(f.returns, 'INT');
  assert.equal(f.ifNotExists, true);
  assert.equal(f.body?.kind, 'Control');
  const g = stored("CREATE DEFINER=CURRENT_USER FUNCTION hello(s CHAR(20)) RETURNS CHAR(50) CHARSET utf8mb4 DETERMINISTIC BEGIN IF s IS NULL THEN RETURN NULL; END IF; RETURN CONCAT('Hello, ', s, '!'); END");
  assert.equal(g.returns, 'CHAR(50) CHARSET utf8mb4');
  stored('CREATE AGGREGATE FUNCTION agg_sum(x INT) RETURNS INT BEGIN DECLARE s INT DEFAULT 0; DECLARE CONTINUE HANDLER FOR NOT FOUND RETURN s; LOOP FETCH GROUP NEXT ROW; SET s = s + x; END LOOP; END');
  stored("CREATE FUNCTION metaphon RETURNS STRING SONAME 'udf_example.so'");
});

test('CREATE TRIGGER and CREATE EVENT; DROP and ALTER of each', () => {
  const t = stored('CREATE TRIGGER t_bi BEFORE INSERT ON t FOR EACH ROW SET NEW.v = UPPER(NEW.v)');
  assert.equal(t.table?.name, 't');
  stored('CREATE OR REPLACE TRIGGER t_au AFTER UPDATE ON t FOR EACH ROW FOLLOWS t_bi BEGIN INSERT INTO log VALUES (OLD.id, NEW.id); END');
  const e = stored("CREATE EVENT IF NOT EXISTS ev ON SCHEDULE EVERY 1 HOUR STARTS CURRENT_TIMESTAMP + INTERVAL 1 DAY ON COMPLETION NOT PRESERVE DISABLE COMMENT 'x' DO DELETE FROM log WHERE ts < NOW() - INTERVAL 7 DAY");
  assert.equal(e.body?.kind, 'Simple');
  stored('CREATE EVENT ev2 ON SCHEDULE AT CURRENT_TIMESTAMP + INTERVAL 1 HOUR DO BEGIN DELETE FROM t; END');
  for (const [sql, object, ifExists] of [
    ['DROP PROCEDURE IF EXISTS fill', 'PROCEDURE', true],
    ['DROP FUNCTION twice', 'FUNCTION', false],
    ['DROP TRIGGER IF EXISTS t_bi', 'TRIGGER', true],
    ['DROP EVENT ev', 'EVENT', false],
  ] as const) {
    const d = stored(sql);
    assert.deepEqual([d.action, d.object, d.ifExists], ['DROP', object, ifExists]);
  }
  assert.equal(stored("ALTER PROCEDURE fill COMMENT 'new' SQL SECURITY DEFINER").action, 'ALTER');
  assert.equal(stored('ALTER EVENT ev ON SCHEDULE EVERY 2 HOUR DO SELECT 1').body?.kind, 'Simple');
});

test('BEGIN NOT ATOMIC … END is a compound statement; BEGIN alone starts a transaction', () => {
  const s = parse('BEGIN NOT ATOMIC DECLARE x INT DEFAULT 1; SELECT x; END');
  assert.equal(s.kind, 'Compound');
  assert.equal(parse('BEGIN').kind, 'Begin');
  assert.equal(parse('BEGIN WORK').kind, 'Begin');
});

test('malformed stored programs are syntax errors (1064)', () => {
  for (const sql of [
    'CREATE PROCEDURE p() BEGIN SELECT 1; ',
    'CREATE PROCEDURE p() BEGIN SELECT 1 END',
    'CREATE PROCEDURE p() BEGIN IF 1 THEN SELECT 1; END; END',
    'CREATE PROCEDURE p( BEGIN END',
    'CREATE FUNCTION f() BEGIN RETURN 1; END',
    'CREATE TRIGGER tr BEFORE SELECT ON t FOR EACH ROW SET @a = 1',
    'CREATE EVENT ev DO SELECT 1',
    'CREATE PROCEDURE p() l1: BEGIN END l2',
    'CREATE PROCEDURE p() BEGIN WHILE 1 DO SELECT 1; END LOOP; END',
    'DROP PROCEDURE',
  ]) {
    assert.throws(() => parse(sql), (e: { errno?: number }) => e.errno === 1064, sql);
  }
});
