// MariaDB grammar the parser learned from the test-suite corpus (issue 24), family by family: each
// statement parses to the expected tree, formats to the expected text, and that text parses back to
// the same tree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse, type Delete, type Insert, type Select, type ServerStatement, type Statement } from '../../../src/sql/index.js';
import { roundTrip as sharedRoundTrip, syntaxError } from './corpus.js';

/** Parses, checks the canonical text, the round trip and normalizing (values bound back); returns the tree. */
function roundTrip(sql: string, canonical: string): Statement {
  return sharedRoundTrip(sql, canonical, true);
}

test('FETCH FIRST / OFFSET … ROWS: ONLY is a LIMIT, WITH TIES kept', () => {
  const s = roundTrip('select * from t1 order by a offset 2 row fetch first row only', 'SELECT * FROM t1 ORDER BY a LIMIT 1 OFFSET 2') as Select;
  assert.equal(s.limit?.withTies, undefined);
  roundTrip('select * from t fetch next 2 rows only', 'SELECT * FROM t LIMIT 2');
  roundTrip('select * from t offset 3 rows', 'SELECT * FROM t LIMIT 18446744073709551615 OFFSET 3');
  const t = roundTrip('select a from t order by a offset 1 rows fetch first 3 rows with ties', 'SELECT a FROM t ORDER BY a OFFSET 1 ROWS FETCH FIRST 3 ROWS WITH TIES') as Select;
  assert.equal(t.limit?.withTies, true);
  roundTrip('(select a from t) union (select b from u) order by 1 fetch first 2 rows with ties', 'SELECT a FROM t UNION SELECT b FROM u ORDER BY 1 FETCH FIRST 2 ROWS WITH TIES');
  for (const sql of ['select * from t fetch first 2 rows', 'select * from t fetch 2 rows only', 'select * from t offset 2 fetch first 1 row only', 'select * from t fetch first 2 rows with']) syntaxError(sql);
});

test('LIMIT … ROWS EXAMINED', () => {
  const s = roundTrip('SELECT * FROM t LIMIT ROWS EXAMINED 10', 'SELECT * FROM t LIMIT ROWS EXAMINED 10') as Select;
  assert.equal(s.limit?.examined?.kind, 'Number');
  roundTrip('select * from t limit 2,3 rows examined 5', 'SELECT * FROM t LIMIT 3 OFFSET 2 ROWS EXAMINED 5');
  roundTrip('select * from t limit 4 rows examined 5', 'SELECT * FROM t LIMIT 4 ROWS EXAMINED 5');
  syntaxError('select * from t limit rows examined');
});

test('INSERT / REPLACE / DELETE … RETURNING', () => {
  const i = roundTrip('insert into t1 values (1),(2) returning *', 'INSERT INTO t1 VALUES (1), (2) RETURNING *') as Insert;
  assert.equal(i.returning?.length, 1);
  roundTrip("REPLACE INTO t1 (id1, val1) VALUES (1, 'c') RETURNING id1+id1 AS total, UPPER(val1) v", "REPLACE INTO t1 (id1, val1) VALUES (1, 'c') RETURNING id1 + id1 AS total, UPPER(val1) AS v");
  roundTrip('insert into t2 select * from t1 returning a', 'INSERT INTO t2 SELECT * FROM t1 RETURNING a');
  const d = roundTrip('delete from t where a=1 returning a, b as c', 'DELETE FROM t WHERE a = 1 RETURNING a, b AS c') as Delete;
  assert.equal(d.returning?.length, 2);
  assert.equal((parse('insert into t values (1)') as Insert).returning, undefined);
  for (const sql of ['insert into t values (1) returning', 'delete t1 from t1 join t2 returning a']) syntaxError(sql);
});

test('server statements are known by their leading words and kept as written', () => {
  const cases: [string, string][] = [
    ["GRANT SELECT (a), INSERT ON db.t TO 'u'@'%' WITH GRANT OPTION", 'GRANT'],
    ['REVOKE ALL PRIVILEGES, GRANT OPTION FROM u@localhost', 'REVOKE'],
    ["CREATE OR REPLACE USER u IDENTIFIED BY 'x'", 'CREATE USER'],
    ['DROP ROLE IF EXISTS r', 'DROP ROLE'],
    ['RENAME USER a TO b', 'RENAME USER'],
    ["CHANGE MASTER 'm1' TO MASTER_USE_GTID = slave_pos", 'CHANGE MASTER'],
    ['CHECK TABLE t1 EXTENDED', 'CHECK TABLE'],
    ['ANALYZE TABLE t PERSISTENT FOR COLUMNS (a) INDEXES ALL', 'ANALYZE'],
    ['ANALYZE FORMAT=JSON SELECT a FROM t WHERE b = 1', 'ANALYZE'],
    ['ANALYZE DELETE FROM t WHERE a > 2', 'ANALYZE'],
    ['HANDLER t1 READ a NEXT', 'HANDLER'],
    ["LOAD DATA INFILE 'f' INTO TABLE t FIELDS TERMINATED BY ','", 'LOAD DATA'],
    ["XA END 'x'", 'XA'],
  ];
  for (const [sql, verb] of cases) {
    const s = roundTrip(sql, sql) as ServerStatement;
    assert.equal(s.kind, 'ServerStatement');
    assert.equal(s.verb, verb);
  }
  // Only their words: SELECT, CREATE TABLE and the rest are parsed as before.
  assert.equal(parse('CREATE TABLE user (a INT)').kind, 'CreateTable');
  assert.equal(parse('ANALYZE TABLE t').kind, 'ServerStatement');
  for (const sql of ['STOP SLAVE', 'SHUTDOWN', 'RESET MASTER']) assert.equal(parse(sql).kind, 'ServerStatement', sql);
  for (const sql of ['GRANT', 'GRANT SELECT ON t TO (u', 'HANDLER t1 READ a NEXT)', 'CREATE USER', 'XA', 'ANALYZE SELECT', 'ANALYZE FORMAT=JSON SET @a = 1']) syntaxError(sql);
});

test('NEXT VALUE FOR / PREVIOUS VALUE FOR are NEXTVAL() / LASTVAL()', () => {
  const s = roundTrip('SELECT NEXT VALUE FOR s, previous value for db.s', 'SELECT NEXTVAL(s), LASTVAL(db.s)') as Select;
  assert.deepEqual(s.columns.map((c) => c.expr.kind === 'Func' && c.expr.name), ['NEXTVAL', 'LASTVAL']);
  roundTrip('INSERT INTO t1 VALUES (NEXT VALUE FOR s1, 2)', 'INSERT INTO t1 VALUES (NEXTVAL(s1), 2)');
  assert.equal(parse('SELECT NEXT VALUE FROM s').kind, 'NextVal');
  syntaxError('SELECT NEXT VALUE FOR');
});

test('function argument syntax: AS type, CHAR … USING, WEIGHT_STRING … LEVEL, WITHIN GROUP', () => {
  roundTrip('SELECT HEX(WEIGHT_STRING(a AS CHAR(10))) FROM t1', 'SELECT HEX(WEIGHT_STRING(a AS CHAR(10))) FROM t1');
  roundTrip("select weight_string('a' as binary(3) level 1-3, 5 desc reverse)", "SELECT weight_string('a' AS BINARY(3) LEVEL 1 - 3, 5 DESC REVERSE)");
  roundTrip('SELECT CHAR(77, 121 USING utf8mb4)', 'SELECT CHAR(77, 121 USING utf8mb4)');
  roundTrip("select column_get(d, 1 as int), column_create(1, 'a' as char, 2, 3)", "SELECT column_get(d, 1 AS INT), column_create(1, 'a' AS CHAR, 2, 3)");
  roundTrip('select percentile_cont(0.5) within group (order by score desc) over (partition by name) from t', 'SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY score DESC) OVER (PARTITION BY name) FROM t');
  for (const sql of ['SELECT CHAR(77 USING)', 'SELECT WEIGHT_STRING(a LEVEL)', 'SELECT upper(a AS CHAR)', 'SELECT f(x) WITHIN GROUP (score)']) syntaxError(sql);
});

test('SHOW forms, SET PASSWORD/ROLE, DO, GET DIAGNOSTICS, ALTER DATABASE as server statements', () => {
  const cases: [string, string][] = [
    ['SHOW CREATE PROCEDURE p1', 'SHOW CREATE'],
    ['show procedure code p', 'SHOW PROCEDURE'],
    ['SHOW PROFILE ALL', 'SHOW PROFILE'],
    ["SHOW BINLOG EVENTS IN 'master-bin.000001' FROM 256", 'SHOW BINLOG'],
    ["SET PASSWORD FOR u@localhost = PASSWORD('x')", 'SET PASSWORD'],
    ['SET ROLE r1', 'SET ROLE'],
    ['SET DEFAULT ROLE r1 FOR u', 'SET DEFAULT'],
    ['DO (f2(23))', 'DO'],
    ['GET DIAGNOSTICS @n = NUMBER', 'GET DIAGNOSTICS'],
    ['ALTER SCHEMA d8 CHARACTER SET ascii', 'ALTER SCHEMA'],
  ];
  for (const [sql, verb] of cases) assert.equal((roundTrip(sql, sql) as ServerStatement).verb, verb, sql);
  // The SHOW forms the gate answers are parsed as before; unknown SHOW words stay errors.
  assert.equal(parse('SHOW WARNINGS').kind, 'Show');
  assert.equal(parse('SHOW CREATE TABLE t').kind, 'Show');
  assert.equal(parse('SET @a = 1').kind, 'Set');
  for (const sql of ['SHOW BOGUS', 'SHOW CREATE', 'SHOW CREATE PROCEDURE', 'SHOW GLOBAL TABLES', 'SET ROLE', 'DO']) syntaxError(sql);
});

test('CREATE TABLE: BINARY and COMPRESSED types, engine-defined options, system versioning, periods', () => {
  roundTrip('create table t2 (name char(20) binary not null, b blob compressed, c varchar(9) compressed=zlib)', 'CREATE TABLE t2 (name CHAR(20) BINARY NOT NULL, b BLOB COMPRESSED, c VARCHAR(9) COMPRESSED=zlib)');
  roundTrip('CREATE TABLE t1 (a VARCHAR(8)) ENGINE=InnoDB ENCRYPTED=YES ENCRYPTION_KEY_ID=4', 'CREATE TABLE t1 (a VARCHAR(8)) ENGINE=InnoDB ENCRYPTED=YES ENCRYPTION_KEY_ID=4');
  roundTrip('create table t1 (a int) opt2=`x y`', 'CREATE TABLE t1 (a INT) OPT2=`x y`');
  roundTrip("CREATE TABLE t1 (path VARCHAR(256) NOT NULL flag=1, isbn char(15) JPATH='$.LANG')", "CREATE TABLE t1 (path VARCHAR(256) NOT NULL FLAG=1, isbn CHAR(15) JPATH='$.LANG')");
  roundTrip(
    'create table t (a int, s timestamp(6) generated always as row start, e timestamp(6) as row end invisible, x int without system versioning, period for system_time(s, e)) with system versioning',
    'CREATE TABLE t (a INT, s TIMESTAMP(6) AS ROW START, e TIMESTAMP(6) AS ROW END INVISIBLE, x INT WITHOUT SYSTEM VERSIONING, period for system_time(s, e)) WITH SYSTEM VERSIONING',
  );
  roundTrip('CREATE TABLE t1 ENGINE=MyISAM WITH SYSTEM VERSIONING AS SELECT 0', 'CREATE TABLE t1 ENGINE=MyISAM WITH SYSTEM VERSIONING AS SELECT 0');
  for (const sql of ['create table t (a int as row middle)', 'create table t (a int) with system', 'create table t (a int flag=)', 'create table t (a int, period for p)']) syntaxError(sql);
});

test('ALTER TABLE: ONLINE/IGNORE, partition maintenance, tablespaces, ORDER BY, system versioning kept as written', () => {
  roundTrip('alter ignore table customer add primary key (c_custkey)', 'ALTER IGNORE TABLE customer ADD PRIMARY KEY (c_custkey)');
  roundTrip('alter online table t1 modify b int default 5', 'ALTER ONLINE TABLE t1 MODIFY COLUMN b INT DEFAULT 5');
  roundTrip('ALTER TABLE t1 ADD PARTITION (PARTITION p4 VALUES LESS THAN (MAXVALUE))', 'ALTER TABLE t1 ADD PARTITION (PARTITION p4 VALUES LESS THAN (MAXVALUE))');
  roundTrip('alter table t drop partition p1, p2, add column x int', 'ALTER TABLE t drop partition p1, p2, ADD COLUMN x INT');
  roundTrip('ALTER TABLE t1 ORDER BY a, b desc', 'ALTER TABLE t1 ORDER BY a, b desc');
  roundTrip('ALTER TABLE t1 EXCHANGE PARTITION pm WITH TABLE t2', 'ALTER TABLE t1 EXCHANGE PARTITION pm WITH TABLE t2');
  roundTrip('ALTER TABLE dst DISCARD TABLESPACE', 'ALTER TABLE dst DISCARD TABLESPACE');
  roundTrip('alter table t add system versioning', 'ALTER TABLE t add system versioning');
  for (const sql of ['alter ignore t add x int', 'ALTER TABLE t1 ADD PARTITION (PARTITION p4', 'ALTER TABLE t ORDER a']) syntaxError(sql);
});

test('table value constructors: VALUES as a query', () => {
  const s = roundTrip('values (3), (7), (1)', 'VALUES (3), (7), (1)') as Select;
  assert.equal(s.tableValues?.length, 3);
  roundTrip('select * from ( values (3, 4), (7, 8) ) as dt', 'SELECT * FROM (VALUES (3, 4), (7, 8)) AS dt');
  roundTrip('values (1,2) union select 1,2', 'VALUES (1, 2) UNION SELECT 1, 2');
  roundTrip('create table t as values (7), (3)', 'CREATE TABLE t AS VALUES (7), (3)');
  roundTrip('select a from t1 where a in (values (1), (8))', 'SELECT a FROM t1 WHERE a IN (VALUES (1), (8))');
  roundTrip('(values (3), (7)) order by 1 limit 1', 'VALUES (3), (7) ORDER BY 1 LIMIT 1');
  roundTrip('insert into t(c) ((values (7), (3)))', 'INSERT INTO t (c) (VALUES (7), (3))');
  // VALUES(col) in ON DUPLICATE KEY UPDATE stays the function.
  const i = roundTrip('insert into t values (1) on duplicate key update a = (values(a))', 'INSERT INTO t VALUES (1) ON DUPLICATE KEY UPDATE a = VALUES(a)') as Insert;
  assert.equal(i.onDuplicate[0]?.value.kind, 'ValuesFunc');
  for (const sql of ['values', 'values ()', 'values (1) (2)', 'select * from (values 1) dt']) syntaxError(sql);
});

test('FOR SYSTEM_TIME on a table reference', () => {
  const s = roundTrip('select pk from t1 for system_time all', 'SELECT pk FROM t1 FOR SYSTEM_TIME ALL') as Select;
  assert.deepEqual(s.from[0]?.kind === 'AliasedTable' && s.from[0].systemTime, { kind: 'ALL' });
  roundTrip("select * from t for system_time as of timestamp '2016-10-09 08:07:06' as x", "SELECT * FROM t FOR SYSTEM_TIME AS OF TIMESTAMP '2016-10-09 08:07:06' AS x");
  roundTrip('select * from t for system_time between timestamp @a and now() + interval 1 day', 'SELECT * FROM t FOR SYSTEM_TIME BETWEEN TIMESTAMP @a AND now() + INTERVAL 1 DAY');
  roundTrip('select * from t1 for system_time from transaction 1 to transaction @t2 where a = 1', 'SELECT * FROM t1 FOR SYSTEM_TIME FROM TRANSACTION 1 TO TRANSACTION @t2 WHERE a = 1');
  roundTrip("select * from t1 for system_time as of timestamp ('1970-01-01 00:00')", "SELECT * FROM t1 FOR SYSTEM_TIME AS OF TIMESTAMP ('1970-01-01 00:00')");
  for (const sql of ['select * from t for system_time', 'select * from t for system_time as @a', 'select * from t for system_time between 1', 'select * from t for system_time from 1 and 2']) syntaxError(sql);
});

test('ALTER INDEX … [NOT] IGNORED and the _filename introducer', () => {
  roundTrip('ALTER TABLE t1 ALTER INDEX a IGNORED', 'ALTER TABLE t1 ALTER INDEX a IGNORED');
  roundTrip('alter table t alter key b not ignored, add column c int', 'ALTER TABLE t alter key b not ignored, ADD COLUMN c INT');
  roundTrip('alter table t alter column a set default 1', 'ALTER TABLE t ALTER COLUMN a SET DEFAULT 1');
  roundTrip('select md5(_filename "a")', "SELECT md5(_filename'a')");
  syntaxError('ALTER TABLE t1 ALTER INDEX (a');
});

test('words MariaDB does not reserve are names: SLOW, GENERAL, POSITION …', () => {
  roundTrip('SELECT slow, general, master_heartbeat_period, ignore_server_ids FROM slow', 'SELECT `slow`, `general`, `master_heartbeat_period`, `ignore_server_ids` FROM `slow`');
  roundTrip('SELECT X(position) FROM bridges', 'SELECT X(`position`) FROM bridges');
  roundTrip("select position('a' in 'bab')", "SELECT LOCATE('a', 'bab')");
});
