-- Statements that must be rejected with error 1064 (one per line).
select
select 1 +
select * from
select * from t where
select * from t where a =
select a from t order by
select a from t limit
select a from t limit 'x'
select a from t group
select a, from t
select a from t,
select (1
select 1)
select 'unterminated
select "unterminated
select `unterminated
select /* unterminated comment
select a from t where a in ()
select a from t where a between 1
select case when a then b
select case end
select cast(a as) from t
select * from t join
select * from t left join u
select * from t natural join u on t.a = u.a
select 1 1
select a from t where a like
select a from from
select count(*
select * from t where a is
select * from t where a is 5
select * from t where a = not b
select @ from t
select @@ from t
select a from t into
select a from t for
select a from t lock in
select * from (select 1)
selec 1
select 1 union
select a from t union all
with c as (select 1) 
insert into t values
insert into t (a values (1)
insert into t set
insert t
update t
update t set
update t set a
delete t
delete from
delete from t where
create table t
create table t ()
create table t (a)
create table t (a int,)
create
create index on t (a)
alter table
alter table t add
alter table t drop
drop
drop table
drop something t
set
set @x
set x
set transaction
set transaction isolation level bogus
use
use ks:-80 extra
show
show bogus
show create
show full bogus
show global tables
show vschema
begin transaction
start
rollback to
savepoint
release sp
lock tables t
kill
flush bogus
call
prepare stmt
execute
deallocate stmt
alter vschema
alter vschema create vindex v
alter vschema on t add vindex
select next values from seq
explain
vexplain bogus select 1
; 
select 1 ;; select 2
select a from t where a = 1 where b = 2
select * from t where 0x1g = 1 +
select ? ?
select \N
select 1 from t limit 1, 2, 3
select x'4' from dual
select b'102' from dual
select a.b.c.d from t
select - from t
select all distinct from t
select * from t for update of
