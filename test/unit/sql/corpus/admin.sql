-- SET, USE, transactions, SHOW, EXPLAIN, and other administrative statements
set autocommit = 1
set autocommit = 0
set autocommit = on
set autocommit = off
set session autocommit = 1
set global max_connections = 1000
set local sql_mode = ''
set @@autocommit = 1
set @@session.sql_mode = 'STRICT_TRANS_TABLES'
set @@global.read_only = on
set @@local.wait_timeout = 60
set sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE'
set sql_mode = concat(@@sql_mode, ',ANSI_QUOTES')
set sql_mode = default
set time_zone = '+00:00'
set sql_select_limit = 10
set @x = 1
set @x := 1, @y = 'a'
set @`quoted` = 2
set @x = (select max(a) from t)
set @x = @x + 1
set names utf8mb4
set names 'utf8mb4'
set names utf8mb4 collate utf8mb4_unicode_ci
set names default
set names binary
set character set utf8mb4
set charset latin1
set character set default
set names utf8mb4, autocommit = 1
set autocommit = 1, sql_mode = '', @x = 2
set transaction isolation level read committed
set transaction isolation level read uncommitted
set transaction isolation level repeatable read
set transaction isolation level serializable
set session transaction isolation level read committed
set global transaction isolation level serializable
set transaction read only
set transaction read write
set transaction isolation level read committed, read only
set session transaction read write, isolation level repeatable read
set workload = 'olap'
set skip_query_plan_cache = 1
set ddl_strategy = 'online'
set transaction_mode = 'twopc'
set tx_isolation = 'READ-COMMITTED'
set @@session.transaction_read_only = 0
set persist max_connections = 500
use customer
use `customer`
use commerce
use customer:-80
use customer:80-
use customer:40-80
use customer/0
use customer/-
use customer@replica
use customer@rdonly
use customer@primary
use customer:-80@replica
use `customer:-80`
use `customer:80-@rdonly`
use @rdonly
use @replica
use `ks-with-dash`
begin
begin work
start transaction
start transaction read only
start transaction read write
start transaction with consistent snapshot
start transaction with consistent snapshot, read only
commit
commit work
rollback
rollback work
rollback to savepoint sp1
rollback to sp1
rollback work to savepoint sp1
savepoint sp1
release savepoint sp1
show databases
show schemas
show databases like 'vt_%'
show tables
show full tables
show tables from customer
show tables in ks like 'c%'
show full tables from ks where Table_type = 'BASE TABLE'
show table status
show table status from ks like 't%'
show columns from t
show full columns from t
show fields from t from ks
show columns in ks.t like 'a%'
show columns from t where Field = 'id'
show index from t
show indexes from t
show keys in t from ks
show index from t where Key_name = 'PRIMARY'
show create table t
show create table ks.t
show create database ks
show create schema ks
show create view v
show variables
show variables like 'version%'
show session variables like 'sql_mode'
show global variables like 'max_connections'
show local variables
show global status like 'Threads%'
show status
show session status where Variable_name = 'Uptime'
show warnings
show errors
show count(*) warnings
show count(*) errors
show processlist
show full processlist
show engines
show storage engines
show engine innodb status
show charset
show character set like 'utf8%'
show collation like 'utf8mb4%'
show collation where Charset = 'latin1'
show grants
show grants for 'vt_app'@'localhost'
show grants for current_user
show grants for current_user()
show triggers
show triggers from ks like 't%'
show plugins
show privileges
show master status
show binary logs
show slave status
show replica status
show open tables
show open tables from ks
show function status
show procedure status like 'p%'
show events
show keyspaces
show vitess_keyspaces
show keyspaces like 'c%'
show vitess_shards
show vitess_shards like 'customer/%'
show vitess_tablets
show vitess_tablets where Keyspace = 'customer'
show vitess_replication_status
show vitess_replication_status like 'customer%'
show vitess_target
show vitess_migrations
show vitess_migrations from customer like 'abc%'
show vschema tables
show vschema vindexes
show vschema vindexes on corder
show vschema vindexes from customer.corder
describe t
desc t
describe ks.t
describe t a
explain t
explain select * from t
explain select * from t where id = 1
explain format = json select * from t
explain format=tree select a from t join u on t.id = u.id
explain extended select 1
explain analyze select * from t
explain insert into t values (1)
explain update t set a = 1
explain delete from t where id = 1
describe select * from t
desc format = traditional select 1
vexplain select * from t
vexplain plan select * from t
vexplain queries select * from customer where customer_id = 1
vexplain all insert into t (a) values (1)
vexplain queries update t set a = 1 where id = 2
lock tables t read
lock tables t write
lock table t read local, u low_priority write
lock tables t as x read, ks.u write
unlock tables
unlock table
kill 42
kill connection 42
kill query 42
flush tables
flush table t1, t2
flush tables with read lock
flush tables t with read lock
flush privileges
flush logs
flush binary logs
flush local status
flush no_write_to_binlog hosts
flush logs, status
flush relay logs
flush query cache
call p
call p()
call p(1, 'x', @y)
call ks.p(?)
prepare stmt from 'select * from t where id = ?'
prepare stmt from @sql
execute stmt
execute stmt using @a
execute stmt using @a, @b
deallocate prepare stmt
drop prepare stmt
select next value from user_seq
select next 1 values from user_seq
select next 10 values from user_seq
select next 1000 values from ks.order_seq
select next :n values from user_seq
select next ? values from user_seq
alter vschema create vindex hash_vdx using hash
alter vschema create vindex ks.lookup_vdx using lookup_unique with table = 'ks.lookup', from = 'id', to = 'keyspace_id'
alter vschema create vindex corder_keyspace_idx using consistent_lookup_unique with table='product.corder_keyspace_idx', from='corder_id', to='keyspace_id', autocommit='true'
alter vschema drop vindex hash_vdx
alter vschema drop vindex ks.hash_vdx
alter vschema add table t
alter vschema add table ks.t
alter vschema drop table t
alter vschema add sequence user_seq
alter vschema add sequence ks.user_seq
alter vschema on customer add vindex hash (customer_id)
alter vschema on customer add vindex hash (customer_id) using hash
alter vschema on corder add vindex corder_keyspace_idx (corder_id, keyspace_id) using consistent_lookup_unique with table = 'product.corder_keyspace_idx', from = 'corder_id', to = 'keyspace_id'
alter vschema on ks.t add vindex v using xxhash
alter vschema on customer drop vindex hash
alter vschema on customer add auto_increment customer_id using customer_seq
alter vschema on customer add auto_increment customer_id using product.customer_seq
alter vschema on customer drop auto_increment
-- Server statements known by their leading words, kept as written (src/sql/opaque.ts)
grant all on *.* to 'x'@'%'
GRANT SELECT (a, b), INSERT ON db.t TO u@localhost WITH GRANT OPTION
REVOKE ALL PRIVILEGES, GRANT OPTION FROM u@localhost
CREATE OR REPLACE USER u@'%' IDENTIFIED BY 'pw'
DROP USER IF EXISTS u
CREATE ROLE r1
load data infile 'x' into table t
handler t open
handler t read c first
CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = 3306
CHECK TABLE t1, t2 EXTENDED
OPTIMIZE TABLE t
REPAIR TABLE t QUICK
ANALYZE TABLE t PERSISTENT FOR ALL
CHECKSUM TABLE t1, t2 QUICK
XA START 'xid'
INSTALL SONAME 'ha_example'
