-- DDL
create table t (a int)
create table t (id bigint unsigned not null auto_increment, primary key (id))
create table if not exists t (a int)
create temporary table t (a int)
create or replace table t (a int)
create table ks.t (a int)
create table t (a int, b varchar(10), c text, d datetime(6), e decimal(10, 2), f double, g float(7, 3))
create table t (a tinyint(1), b smallint, c mediumint unsigned zerofill, d bigint(20) unsigned, e bit(8))
create table t (a char(10) character set utf8mb4 collate utf8mb4_bin, b varchar(255) charset latin1, c text collate utf8mb4_unicode_ci)
create table t (a enum('x', 'y', 'z') not null default 'x', b set('a', 'b'))
create table t (a blob, b tinyblob, c mediumblob, d longblob, e tinytext, f mediumtext, g longtext, h json)
create table t (a binary(16), b varbinary(255), c date, d time, e timestamp, f year)
create table t (a double precision, b real, c numeric(5, 2), d dec(4), e integer, f bool, g boolean)
create table t (a int not null, b int null, c int default null, d int default 0, e int default -1)
create table t (a varchar(10) default '', b varchar(10) default 'x', c double default 1.5)
create table t (a timestamp not null default current_timestamp on update current_timestamp)
create table t (a datetime(3) default current_timestamp(3) on update current_timestamp(3))
create table t (a int default (1 + 1), b varchar(36) default (uuid()))
create table t (id int auto_increment primary key, b int unique, c int unique key, d int key)
create table t (a int comment 'the a column', b int invisible)
create table t (a int, b int as (a * 2), c int generated always as (a + 1) virtual, d int generated always as (a + 2) stored, e int as (a) persistent)
create table t (a int check (a > 0), b int, constraint chk_b check (b < 100), check (a < b))
create table t (a int, b int, primary key (a, b))
create table t (a int, b int, key (a), index idx_b (b), unique key uk (a, b), unique (b))
create table t (a varchar(100), key idx_a (a(10)), key idx_ad (a desc))
create table t (a text, fulltext key ft_a (a), fulltext (a))
create table t (g geometry not null, spatial key sp (g))
create table t (a int, key idx using btree (a), key idx2 (a) using hash)
create table t (a int, key idx (a) comment 'note', key idx3 (a) key_block_size = 8)
create table t (a int, b int, constraint fk_b foreign key (b) references u (id))
create table t (a int, foreign key (a) references u (id) on delete cascade on update set null)
create table t (a int, constraint foreign key fk (a) references ks.u (id) on delete restrict on update no action)
create table t (a int, b int references u (id))
create table t (a int, constraint pk primary key (a))
create table t (a int) engine = innodb
create table t (a int) engine=InnoDB default charset=utf8mb4 collate=utf8mb4_unicode_ci
create table t (a int) engine InnoDB auto_increment = 100 comment = 'table comment'
create table t (a int) default character set utf8mb4 default collate utf8mb4_bin
create table t (a int) character set = latin1
create table t (a int) row_format = dynamic key_block_size = 8 stats_persistent = 1
create table t (a int) max_rows = 1000 min_rows = 10 avg_row_length = 100 pack_keys = 1 checksum = 1
create table t (a int) engine=InnoDB, default charset=utf8mb4
create table t (a int) partition by hash (a) partitions 4
create table t (a int, d date) partition by range (year(d)) (partition p0 values less than (2020), partition p1 values less than maxvalue)
create table t like u
create table t like ks.u
create table t as select * from u
create table t select a, b from u where a > 1
create table t (a int) as select 1 as a
create table customer (customer_id bigint not null auto_increment, email varchar(128), primary key (customer_id)) engine = InnoDB
create table corder (order_id bigint not null auto_increment, customer_id bigint, sku varbinary(128), price bigint, primary key (order_id)) engine = InnoDB
create table product (sku varbinary(128), description varchar(128), price bigint, primary key (sku)) engine = InnoDB
create table customer_seq (id int, next_id bigint, cache bigint, primary key (id)) comment 'vitess_sequence'
create table order_seq (id int, next_id bigint, cache bigint, primary key (id)) comment 'vitess_sequence'
create table `sbtest1` (`id` int not null auto_increment, `k` int not null default '0', `c` char(120) not null default '', `pad` char(60) not null default '', primary key (`id`), key `k_1` (`k`)) engine = InnoDB
create table messages (page bigint(20) unsigned, time_created_ns bigint(20) unsigned, message varchar(10000), primary key (page, time_created_ns)) engine=InnoDB
alter table t add column a int
alter table t add a int after b
alter table t add column a int first
alter table t add column if not exists a int
alter table t add column (a int, b int)
alter table t add index idx_a (a)
alter table t add key idx_a (a, b)
alter table t add unique key uk (a)
alter table t add unique index uk (a)
alter table t add primary key (a)
alter table t add fulltext index ft (a)
alter table t add constraint fk foreign key (a) references u (id)
alter table t add constraint chk check (a > 0)
alter table t add index if not exists idx (a)
alter table t drop column a
alter table t drop a
alter table t drop column if exists a
alter table t drop index idx_a
alter table t drop key idx_a
alter table t drop index if exists idx_a
alter table t drop primary key
alter table t drop foreign key fk
alter table t drop constraint chk
alter table t modify a bigint not null
alter table t modify column a varchar(20) default 'x' after b
alter table t change a b int
alter table t change column a b bigint unsigned not null first
alter table t alter column a set default 1
alter table t alter a drop default
alter table t rename to u
alter table t rename as ks.u
alter table t rename u
alter table t rename column a to b
alter table t rename index i1 to i2
alter table t rename key i1 to i2
alter table t engine = innodb
alter table t engine=InnoDB, algorithm=inplace, lock=none
alter table t auto_increment = 1000
alter table t comment = 'x'
alter table t convert to character set utf8mb4
alter table t convert to character set utf8mb4 collate utf8mb4_bin
alter table t default charset = utf8mb4
alter table t force
alter table t disable keys
alter table t enable keys
alter table t add column a int, add column b int, drop column c, add index (a)
alter table t partition by hash (id) partitions 8
alter table ks.t add column a int
drop table t
drop table if exists t
drop table t1, t2, ks.t3
drop temporary table t
drop table t cascade
drop tables t
truncate table t
truncate t
truncate table ks.t
rename table a to b
rename table a to b, c to d
rename table ks.a to ks.b
create database d
create database if not exists d
create schema d
create database d default character set utf8mb4
create database d character set = utf8mb4 collate = utf8mb4_bin
drop database d
drop database if exists d
drop schema d
create index idx on t (a)
create unique index idx on t (a, b)
create fulltext index idx on t (a)
create spatial index idx on t (g)
create index idx using btree on t (a)
create index idx on t (a(10) desc, b asc) comment 'x'
create index if not exists idx on t (a)
drop index idx on t
drop index if exists idx on ks.t
drop index `primary` on t
create view v as select a from t
create view v (x, y) as select a, b from t
create or replace view v as select * from t where a > 1
create algorithm = merge view v as select a from t
create definer = 'root'@'localhost' view v as select 1
create definer = current_user sql security invoker view v as select 1
create sql security definer view v as select a from t with check option
create view v as select a from t with cascaded check option
create view v as select a from t with local check option
create view ks.v as select a from t union select b from u
alter view v as select b from t
alter algorithm = temptable view v as select 1
drop view v
drop view if exists v1, v2
