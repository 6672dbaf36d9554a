-- INSERT / REPLACE / UPDATE / DELETE
insert into t values (1)
insert into t values (1, 'a'), (2, 'b')
insert into t (a, b) values (1, 2)
insert into t (a, b) value (1, 2)
insert into t () values ()
insert into t values ()
insert t (a) values (1)
insert into ks.t (a) values (1)
insert into t (a, b) values (1, default)
insert into t (a, b) values (?, ?)
insert into t (a, b) values (:a, :b)
insert into t (a) values (null), (true), (-1), (1.5), ('x'), (x'41')
insert ignore into t (a) values (1)
insert low_priority into t (a) values (1)
insert delayed into t (a) values (1)
insert high_priority ignore into t (a) values (1)
insert /*+ NO_RANGE_OPTIMIZATION(t) */ into t (a) values (1)
insert into t partition (p0) (a) values (1)
insert into t set a = 1, b = 'x'
insert into t set a = 1 on duplicate key update a = a + 1
insert into t (a, b) values (1, 2) on duplicate key update b = values(b)
insert into t (a, b) values (1, 2), (3, 4) on duplicate key update a = values(a), b = b + values(b)
insert into t (id, c) values (1, 'x') on duplicate key update c = 'y', updated_at = now()
insert into t (a) select a from u
insert into t (a) select a from u where b > 1 order by a limit 10
insert into t select * from u
insert into t (a) (select a from u)
insert into t (a, b) select a, b from u union select c, d from v
insert into t (a) select a from u on duplicate key update a = u.a
insert into t (a) with c as (select 1 as a) select a from c
insert into t (t.a, t.b) values (1, 2)
insert into `order` (`key`, `value`) values ('k', 'v')
insert into t (a, b) values (now(), uuid())
insert into t (d) values (date_add(now(), interval 1 day))
insert into t (a) values ((select max(a) from u))
insert into customer (customer_id, email) values (1, 'alice@domain.com')
insert into customer (email) values ('bob@domain.com'), ('charlie@domain.com'), ('dan@domain.com'), ('eve@domain.com')
insert into corder (customer_id, sku, price) values (1, 'SKU-1001', 100), (2, 'SKU-1002', 30), (3, 'SKU-1002', 30), (4, 'SKU-1002', 30), (5, 'SKU-1002', 30)
insert into product (sku, description, price) values ('SKU-1001', 'Monitor', 100), ('SKU-1002', 'Keyboard', 30)
replace into t (a, b) values (1, 2)
replace into t values (1, 2)
replace low_priority into t (a) values (1)
replace delayed into t set a = 1
replace into t (a) select a from u
update t set a = 1
update t set a = 1 where id = 2
update t set a = 1, b = 'x' where id = 2
update t set a = a + 1 where id in (1, 2, 3)
update t set a = default where id = 1
update t set a = null, b = ? where id = ?
update t set a = :a where id = :id
update low_priority t set a = 1
update ignore t set a = 1 where b = 2
update low_priority ignore t set a = 1
update /*+ NO_MERGE(t) */ t set a = 1
update t set a = 1 order by id limit 10
update t set a = 1 where b = 2 order by id desc limit 1
update t set t.a = 1 where t.id = 1
update ks.t set a = 1 where id = 1
update t1, t2 set t1.a = t2.a where t1.id = t2.id
update t1 join t2 on t1.id = t2.id set t1.a = t2.b, t2.c = 0
update t1 left join t2 on t1.id = t2.id set t1.a = 0 where t2.id is null
update t as x set x.a = 1 where x.id = 1
update t set a = (select max(b) from u) where id = 1
update t set a = case when b > 1 then 'x' else 'y' end
update t set j = json_set(j, '$.a', 1) where id = 1
update sbtest1 set k = k + 1 where id = 42
update sbtest1 set c = '123-456' where id = 42
update corder set price = price * 1.1 where sku = 'SKU-1002'
with c as (select id from u) update t set a = 1 where id in (select id from c)
delete from t
delete from t where id = 1
delete from t where id in (1, 2, 3)
delete from t where id = ? limit 1
delete from t where a = 1 order by id limit 10
delete from ks.t where id = 1
delete low_priority from t where id = 1
delete quick from t where id = 1
delete ignore from t where id = 1
delete low_priority quick ignore from t where id = 1
delete /*+ BKA(t) */ from t where id = 1
delete from t as x where x.id = 1
delete from t partition (p1) where id = 1
delete t1 from t1 join t2 on t1.id = t2.id where t2.a = 1
delete t1, t2 from t1 join t2 on t1.id = t2.id where t1.a = 1
delete t1.* from t1 left join t2 on t1.id = t2.id where t2.id is null
delete from t1 using t1 join t2 on t1.id = t2.id where t2.a = 1
delete from t1, t2 using t1, t2, t3 where t1.id = t2.id and t2.id = t3.id
delete ks.t1 from ks.t1 join ks.t2 on t1.id = t2.id
delete from t where exists (select 1 from u where u.id = t.id)
delete from sbtest1 where id = 42
with c as (select id from u) delete from t where id in (select id from c)
