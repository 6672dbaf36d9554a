-- SELECT forms. One statement per line; lines starting with -- are comments.
select 1
SELECT 1 FROM dual
select 1 from dual where 1 = 1
select *
select * from t
select t.* from t
select db.t.* from db.t
select a, b, c from t
select distinct a from t
select distinctrow a, b from t
select all a from t
select sql_calc_found_rows * from t limit 10
select sql_no_cache id from t
select straight_join a.id from a, b where a.id = b.id
select high_priority id from t
select sql_small_result a from t group by a
select sql_big_result a from t group by a
select sql_buffer_result a from t
select a as x, b y, c 'z', d as "w" from t
select a as `select`, b as `from` from t
select `order`.`group` from `order`
select t.`key`, t.`desc` from t
select 1abc from t
select t.1col from t
select `weird name`, `back``tick` from `my table`
select a from ks.t
select customer.customer.email from customer.customer
select * from customer.customer where customer_id = 1
select * from t1, t2
select * from t1, t2, t3 where t1.a = t2.a and t2.b = t3.b
select * from t1 join t2
select * from t1 join t2 on t1.id = t2.id
select * from t1 inner join t2 on t1.id = t2.id
select * from t1 cross join t2
select * from t1 straight_join t2 on t1.a = t2.a
select * from t1 straight_join t2
select * from t1 left join t2 on t1.id = t2.id
select * from t1 left outer join t2 on t1.id = t2.id
select * from t1 right join t2 on t1.id = t2.id
select * from t1 right outer join t2 using (id)
select * from t1 join t2 using (a, b)
select * from t1 natural join t2
select * from t1 natural left join t2
select * from t1 natural right outer join t2
select * from t1 left join t2 on t1.a = t2.a left join t3 on t2.b = t3.b
select * from t1 join t2 on t1.a = t2.a join t3 on t3.c = t2.c where t3.d > 1
select * from (t1, t2) join t3 on t1.a = t3.a
select * from t1 left join (t2 join t3 on t2.b = t3.b) on t1.a = t2.a
select * from t1 as a join t1 as b on a.parent = b.id
select * from t partition (p0, p1)
select * from t use index (idx_a)
select * from t use key (idx_a, idx_b)
select * from t force index (primary)
select * from t ignore index (idx_a) where a = 1
select * from t use index for join (i1)
select * from t force index for order by (i1) order by a
select * from t ignore key for group by (i1) group by a
select * from t use index ()
select * from t as x force index (i1) ignore index (i2)
select * from (select a from t) as d
select * from (select a, b from t) d where d.a > 1
select d.x from (select a as x from t) as d (x)
select * from (select 1) as one
select * from (select a from t union select b from u) as d
select * from t where a in (select b from u)
select * from t where a not in (select b from u where u.c = t.c)
select * from t where exists (select 1 from u where u.a = t.a)
select * from t where not exists (select 1 from u where u.a = t.a)
select * from t where a = (select max(b) from u)
select (select count(*) from u where u.t_id = t.id) as cnt from t
select * from t where a > any (select b from u)
select * from t where a > some (select b from u)
select * from t where a <> all (select b from u)
select * from t where a = all (select b from u where b is not null)
select * from t where (a, b) in (select c, d from u)
select * from t where (a, b) = (1, 2)
select * from t where (a, b) in ((1, 2), (3, 4))
select * from t where row(a, b) = row(1, 2)
select a, count(*) from t group by a
select a, b, count(*) from t group by a, b with rollup
select a, sum(b) from t group by a having sum(b) > 10
select a, count(*) c from t group by a having c > 1 order by c desc
select a from t group by a order by null
select a from t order by a
select a from t order by a asc, b desc
select a from t order by 1
select a, b from t order by 2 desc, 1
select a from t order by rand() limit 1
select a from t limit 10
select a from t limit 5, 10
select a from t limit 10 offset 5
select a from t limit ?
select a from t limit ?, ?
select a from t limit :n offset :o
select * from t for update
select * from t where id = 1 for update
select * from t where id = 1 for update nowait
select * from t where id = 1 for update skip locked
select * from t where id = 1 lock in share mode
select * from t where id = 1 for share
select a into @x from t limit 1
select a, b into @x, @y from t where id = 1
select a from t where id = 1 into @x
select * from t into outfile '/tmp/out.txt'
select a from t into dumpfile '/tmp/a.bin'
select a from t union select b from u
select a from t union all select b from u
select a from t union distinct select b from u
select a from t union select b from u union select c from v
select a from t union all select b from u union select c from v
select a from t intersect select b from u
select a from t except select b from u
select a from t union select b from u intersect select c from v
select a from t intersect select b from u union select c from v
(select a from t) union (select b from u)
(select a from t order by a limit 1) union all (select b from u order by b limit 1)
(select a from t) union (select b from u) order by a limit 5
select a from t union select b from u order by 1
select a from t union (select b from u union select c from v)
(select a from t union select b from u) intersect select c from v
with c as (select 1 as x) select * from c
with c (x) as (select 1) select x from c
with a as (select 1 as x), b as (select x + 1 as y from a) select * from a join b
with recursive r (n) as (select 1 union all select n + 1 from r where n < 10) select sum(n) from r
with c as (select a from t) select a from c union select a from c
select a, row_number() over (order by a) from t
select a, rank() over (partition by b order by a desc) as r from t
select a, dense_rank() over w from t window w as (partition by b order by a)
select a, sum(b) over (partition by c) from t
select a, sum(b) over (order by a rows between 1 preceding and 1 following) from t
select a, avg(b) over (order by a rows unbounded preceding) from t
select a, count(*) over (order by a range between unbounded preceding and current row) from t
select a, lag(a, 1) over (order by a), lead(a) over (order by a) from t
select a, first_value(a) over w, last_value(a) over w from t window w as (order by a rows between unbounded preceding and unbounded following)
select a, ntile(4) over (order by a), percent_rank() over (order by a), cume_dist() over (order by a) from t
select a, sum(b) over (w order by c) from t window w as (partition by a)
select a, max(b) over (order by d range between interval 1 day preceding and current row) from t
select /*+ MAX_EXECUTION_TIME(1000) */ a from t
select /*+ SET_VAR(sort_buffer_size = 16M) */ * from t where a = 1
select /* a comment */ a from t
select a -- trailing comment
select a # hash comment
select /*!40001 sql_no_cache */ a from t
select /*!50000 distinct */ a from t
select /*M!100000 a, */ b from t
select a from t where a = 1 and b = 2 or c = 3
select a from t where (a = 1 or b = 2) and c = 3
select a from t where not (a = 1 and b = 2)
select a from t where a = 1 xor b = 2
select a from t where a = 1 && b = 2 || c = 3
select a from t where !(a = 1)
select a from t where a is null
select a from t where a is not null
select a from t where a is true and b is not false and c is unknown
select a from t where a between 1 and 10
select a from t where a not between 1 and 10
select a from t where a like 'abc%'
select a from t where a not like '%x_' escape '!'
select a from t where a regexp '^[a-z]+$'
select a from t where a not regexp 'x'
select a from t where a rlike 'x'
select a from t where a sounds like b
select a from t where a in (1, 2, 3)
select a from t where a not in ('a', 'b')
select a from t where a in (1)
select a from t where a in (:list)
select a from t where a in ::list
select a from t where a = :id
select a from t where a = ? and b = ?
select a from t where a <=> null
select a from t where a != 1 and b <> 2
select a from t where a < 1 and b <= 2 and c > 3 and d >= 4
select a from t where match (title, body) against ('word')
select a from t where match (title) against ('+x -y' in boolean mode)
select a from t where match (title) against ('word' in natural language mode)
select a from t where match (title) against ('word' with query expansion)
select a from t where match (title) against ('word' in natural language mode with query expansion)
select a from t where json_extract(doc, '$.a') = 1
select doc->'$.a', doc->>'$.b' from t
select a from t where doc->>'$.name' = 'x'
select case when a = 1 then 'one' when a = 2 then 'two' else 'many' end from t
select case a when 1 then 'one' else 'other' end as name from t
select case when a then b end from t
select if(a > 1, 'big', 'small'), ifnull(b, 0), nullif(c, 0), coalesce(d, e, 0) from t
select cast(a as signed), cast(b as unsigned), cast(c as char), cast(d as char(10)) from t
select cast(a as decimal(10, 2)), cast(b as date), cast(c as datetime), cast(d as time) from t
select cast(a as binary), cast(a as binary(4)), cast(a as double), cast(a as json) from t
select cast(a as char character set utf8mb4) from t
select convert(a, signed), convert(b, char(5)), convert(c using utf8mb4), convert(d using latin1) from t
select a collate utf8mb4_bin from t
select a from t where a = 'x' collate utf8mb4_general_ci
select a from t order by a collate utf8mb4_bin
select binary a from t
select a from t where binary a = 'X'
select now(), current_timestamp, current_timestamp(), current_timestamp(6), current_date, current_time, localtime, localtimestamp
select utc_date(), utc_time, utc_timestamp(), current_user, current_user(), database(), schema(), user(), version()
select date_add(d, interval 1 day), date_sub(d, interval 2 hour), d + interval 3 minute, d - interval '1:30' hour_minute from t
select interval 1 day + d from t
select timestampadd(minute, 5, d), timestampdiff(second, a, b) from t
select extract(year from d), extract(year_month from d), extract(microsecond from d) from t
select trim(a), trim(both 'x' from a), trim(leading from a), trim(trailing 'y' from a), trim('z' from a) from t
select substring(a, 1, 3), substring(a from 2), substring(a from 2 for 3), substr(a, 2), mid(a, 1, 2) from t
select position('x' in a), locate('x', a), instr(a, 'x') from t
select concat(a, '-', b), concat_ws(',', a, b), length(a), char_length(a), upper(a), lower(b) from t
select left(a, 2), right(a, 2), replace(a, 'x', 'y'), repeat(a, 3), insert(a, 1, 2, 'zz'), reverse(a) from t
select char(65, 66), char(77) from dual
select count(*), count(1), count(a), count(distinct a), count(distinct a, b) from t
select sum(a), avg(a), min(a), max(a), std(a), stddev(a), variance(a), bit_and(a), bit_or(a), bit_xor(a) from t
select sum(distinct a), avg(distinct b) from t
select group_concat(a) from t
select group_concat(distinct a order by a desc separator '; ') from t
select group_concat(a, b separator '') from t group by c
select group_concat(a limit 3) from t
select json_object('a', a, 'b', b), json_array(a, b), json_arrayagg(a), json_objectagg(a, b) from t
select a + b, a - b, a * b, a / b, a div b, a % b, a mod b from t
select a | b, a & b, a ^ b, a << 2, a >> 1, ~a from t
select -a, +a, - -a, -(a + b), !a from t
select 1 + 2 * 3, (1 + 2) * 3, 1 - (2 - 3), 2 * (3 / 4), 10 % 3 + 1 from dual
select 'abc', "def", 'it''s', 'it\'s', "say \"hi\"", 'a\nb', 'tab\there', 'back\\slash' from dual
select 'a' 'b' 'c' from dual
select _utf8mb4'abc', _latin1'x', _binary'\x00', n'national', N'nat' from dual
select x'4142', X'', 0x4142, 0xff, b'0101', 0b1111, _binary x'00ff', _utf8mb4 0x41 from dual
select 12345678901234567890123, 1.5, .5, 1e10, 1.5e-3, 2E+4, 0.0 from dual
select true, false, null, TRUE is true from dual
select date '2024-01-01', time '12:00:00', timestamp '2024-01-01 12:00:00' from dual
select @x, @`quoted var`, @'str var', @@version, @@session.sql_mode, @@global.max_connections, @@local.autocommit from dual
select @x := 1, @y := @x + 1 from dual
select @rownum := @rownum + 1 as rn, a from t
select last_insert_id(), found_rows(), row_count() from dual
select a from t where a = default(a)
select interval(5, 1, 2, 3, 10) from dual
select * from t where a like concat('%', ?, '%')
select s.id, s.name, count(o.id) as orders from shop s left join orders o on o.shop_id = s.id where s.active = 1 group by s.id, s.name having count(o.id) > 0 order by orders desc limit 20
select u.id, u.email from users u where u.id in (select user_id from sessions where expires_at > now()) and u.deleted_at is null
select p.*, (select avg(rating) from reviews r where r.product_id = p.id) as rating from products p where p.category_id = 7 order by rating desc limit 10
select date(created_at) as day, count(*) from events where created_at >= now() - interval 7 day group by date(created_at) order by day
select id, name from customers where lower(email) = lower('A@B.com') limit 1
select coalesce(sum(amount), 0) from payments where customer_id = 42 and status in ('paid', 'refunded')
select o.id from orders o join order_items i on i.order_id = o.id join products p on p.id = i.product_id where p.sku like 'SKU-%' and o.created_at between '2024-01-01' and '2024-12-31'
select * from messages where thread_id = 9 and id < 1000 order by id desc limit 50
select count(distinct user_id) from page_views where viewed_at > date_sub(curdate(), interval 30 day)
select tag, count(*) as n from post_tags group by tag order by n desc, tag limit 100
select a.id, b.id from accounts a, accounts b where a.parent_id = b.id and a.id <> b.id
select id from jobs where state = 'queued' order by priority desc, id limit 1 for update skip locked
select * from kv where k in ('a', 'b', 'c') and v is not null
select greatest(a, b, c), least(a, b), abs(a), ceil(a), floor(a), round(a, 2), truncate(a, 1), sqrt(a), pow(a, 2), mod(a, 3) from t
select md5(a), sha1(a), sha2(a, 256), crc32(a), hex(a), unhex('41'), to_base64(a), uuid() from t
select date_format(d, '%Y-%m-%d'), str_to_date('01,5,2013', '%d,%m,%Y'), unix_timestamp(d), from_unixtime(1700000000) from t
select ifnull((select max(id) from t), 0) + 1 from dual
select exists (select 1 from t where a = 1) from dual
select (select 1) + (select 2) from dual
select a from t where a = (select a from t limit 1) + 1
select * from t where a = 1 and (b = 2 or (c = 3 and d = 4))
select * from t t1 where not exists (select * from t t2 where t2.a = t1.a and t2.b > t1.b)
select * from lateral_test, lateral (select t.a) as l
select a from t where a member of ('[1, 2]')
