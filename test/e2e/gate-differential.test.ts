// Differential suite: generated statements run through the gate against a 2-shard cluster
// (customer sharded -80/80- by hash, commerce unsharded) and against one plain MariaDB holding the
// same rows; results must match (order-insensitive where the statement has no ORDER BY) or the gate
// must refuse with 1235. DML runs on both sides and the tables are compared after each.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { startCluster, type TestCluster } from '../harness/cluster.js';
import { startMariaDB, type TestMariaDB } from '../harness/mariadb.js';

const SCHEMA_COMMERCE = 'create table product(sku varchar(32) primary key, description varchar(64), price bigint, weight decimal(8,2))';
const SCHEMA_CUSTOMER = `create table customer(customer_id bigint not null primary key, email varchar(64), region varchar(8), score int,
  nick varchar(16) collate utf8mb4_unicode_ci);
create table corder(order_id bigint not null primary key, customer_id bigint, sku varchar(32), price bigint, qty int)`;

let c: TestCluster;
let ref: TestMariaDB;
let gate: mysql.Connection;
let plain: mysql.Connection;

// Deterministic pseudo-random numbers (mulberry32).
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
// Several seeds run one after the other on the same cluster, each printed first so a failure
// replays alone: TESSERA_DIFF_SEED=<seed> node --test …. TESSERA_DIFF_SEEDS=a,b,c names the list.
const SEEDS = (process.env.TESSERA_DIFF_SEED ?? process.env.TESSERA_DIFF_SEEDS ?? '20261123,1,2,3,4')
  .split(',')
  .map((x) => Number(x.trim()));
const STATEMENTS = Number(process.env.TESSERA_DIFF_STATEMENTS ?? 2000);
// TESSERA_DIFF_WORKLOAD=olap runs the gate's side with streamed reads (SET workload = 'olap').
const WORKLOAD = process.env.TESSERA_DIFF_WORKLOAD ?? null;
let rand = rng(SEEDS[0]);
let nextOrderId = 5000;
// INSERT … SELECT copies rows under keys offset by a base no other statement uses.
let insertBase = 0;
const nextInsertBase = (): number => (insertBase += 100000);
const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];

const REGIONS = ['north', 'south', 'east', 'west', 'North'];
// Text in several scripts and letter cases, so that order and grouping at the gate follow the
// collation (region: utf8mb4_general_ci; nick: utf8mb4_unicode_ci). No two of one list are equal
// under its collation but for 'north'/'North': which member of such a group MariaDB returns is
// unspecified, so the suite compares bytes only where that choice cannot arise.
// A tab sorts before the end of the string (PAD SPACE); a supplementary character weighs U+FFFD.
const MORE_REGIONS = ['Øst', 'süd', 'Север', 'Νότος', '東', 'غرب', 'zulu', 'Écosse', 'ecuador', 'west\t', 'ｶﾀｶﾅ', '😀x', 'straßa', 'strasb'];
const NICKS = ['Zoë', 'zulu', 'Ängel', 'anna', 'straße', 'Strand', 'Σοφία', 'Ωμέγα', 'Москва', 'ёлка', 'Юлия', '東京', '京都', 'ひかり', 'مريم', 'שרה', '😀', 'Émile', 'emma', 'emma\t', 'Øyvind', 'oskar', 'Ñandú', 'nora', 'İlkay', 'ilse', 'ｶﾀｶﾅ'];
const SKUS = Array.from({ length: 10 }, (_, i) => `SKU-${1000 + i}`);

function seedRows(): string[] {
  const out: string[] = [];
  const products = SKUS.map((s, i) => `('${s}', 'item ${i % 4}', ${10 * (i + 1)}, ${(i * 1.25).toFixed(2)})`);
  out.push(`insert into product(sku, description, price, weight) values ${products.join(', ')}`);
  const customers = Array.from({ length: 40 }, (_, i) => `(${i + 1}, 'user${i + 1}@x.com', '${REGIONS[i % 5]}', ${i % 7 === 0 ? 'NULL' : (i * 37) % 100})`);
  // Values JavaScript treats as false, NULLs, and values at the int type's limits (issue 23).
  customers.push("(41, '', '', 0)", "(42, '', NULL, 2147483647)", "(43, NULL, '', -2147483648)", "(44, '0', 'east', 0)", "(45, '', 'west', NULL)", "(46, 'user46@x.com ', 'north ', 7)");
  out.push(`insert into customer(customer_id, email, region, score) values ${customers.join(', ')}`);
  const more = Array.from({ length: 36 }, (_, i) => `(${i + 47}, 'more${i + 47}@x.com', '${MORE_REGIONS[i % MORE_REGIONS.length]}', ${(i * 13) % 100}, ${i < NICKS.length ? `'${NICKS[i]}'` : 'NULL'})`);
  out.push(`insert into customer(customer_id, email, region, score, nick) values ${more.join(', ')}`);
  const orders = Array.from({ length: 120 }, (_, i) => `(${i + 1}, ${((i * 13) % 45) + 1}, '${i % 17 === 0 ? '' : SKUS[(i * 7) % 10]}', ${i % 19 === 0 ? 0 : ((i * 31) % 90) + 5}, ${i % 23 === 0 ? 0 : (i % 5) + 1})`);
  out.push(`insert into corder(order_id, customer_id, sku, price, qty) values ${orders.join(', ')}`);
  return out;
}

interface Stmt {
  readonly sql: string;
  readonly ordered: boolean;
  /** DML: compare these tables afterwards. */
  readonly check?: readonly string[];
}

function generate(n: number): Stmt[] {
  const out: Stmt[] = [];
  const id = (): number => int(1, 48);
  const cols = ['customer_id', 'email', 'region', 'score'];
  const templates: (() => Stmt)[] = [
    () => ({ sql: `select * from customer where customer_id = ${id()}`, ordered: false }),
    () => ({ sql: `select email, score from customer where customer_id in (${[id(), id(), id(), id()].join(', ')})`, ordered: false }),
    () => { const a = id(); return { sql: `select customer_id, email from customer where customer_id between ${a} and ${a + int(0, 20)}`, ordered: false }; },
    () => ({ sql: `select ${pick(cols)}, customer_id from customer where score ${pick(['>', '<', '>=', '<=', '=', '<>'])} ${int(0, 100)} order by customer_id${pick(['', ' desc'])}`, ordered: true }),
    () => ({ sql: `select customer_id, email from customer order by ${pick(['email', 'score', 'region'])}${pick(['', ' desc'])}, customer_id limit ${int(1, 10)}${pick(['', ` offset ${int(0, 5)}`])}`, ordered: true }),
    () => ({ sql: `select order_id, price from corder where customer_id = ${id()} order by order_id`, ordered: true }),
    () => ({ sql: `select count(*) from corder where price > ${int(0, 100)}`, ordered: false }),
    () => ({ sql: `select count(*), sum(price), min(price), max(price), avg(price) from corder where qty ${pick(['>', '<', '='])} ${int(1, 5)}`, ordered: false }),
    () => ({ sql: `select sku, count(*), sum(qty) from corder group by sku`, ordered: false }),
    () => ({ sql: `select customer_id, count(*) as n, max(price) from corder group by customer_id having n ${pick(['>', '>=', '='])} ${int(1, 4)} order by customer_id`, ordered: true }),
    () => ({ sql: `select region, count(*), avg(score), min(email) from customer group by region order by region`, ordered: true }),
    () => ({ sql: `select count(distinct sku), count(distinct customer_id) from corder where price < ${int(20, 100)}`, ordered: false }),
    () => ({ sql: `select sku, sum(price * qty) as total from corder group by sku order by total desc, sku limit ${int(1, 5)}`, ordered: true }),
    () => ({ sql: `select distinct region from customer`, ordered: false }),
    () => ({ sql: `select distinct sku from corder where customer_id < ${id()} order by sku`, ordered: true }),
    () => ({ sql: `select c.email, o.order_id, o.price from customer c join corder o on c.customer_id = o.customer_id where c.customer_id = ${id()}`, ordered: false }),
    () => ({ sql: `select c.email, o.sku from customer c join corder o on c.customer_id = o.customer_id where o.price > ${int(50, 95)}`, ordered: false }),
    () => ({ sql: `select o.order_id, p.description, p.price from corder o join product p on p.sku = o.sku where o.customer_id = ${id()}`, ordered: false }),
    () => ({ sql: `select o.order_id, p.weight from corder o join product p on p.sku = o.sku where o.qty = ${int(1, 5)} order by o.order_id`, ordered: true }),
    () => ({ sql: `select c.customer_id, o.order_id from customer c left join corder o on o.customer_id = c.customer_id where c.customer_id > ${int(30, 48)}`, ordered: false }),
    () => ({ sql: `select p.sku, o.order_id from product p left join corder o on o.sku = p.sku and o.price > ${int(60, 100)}`, ordered: false }),
    () => ({ sql: `select count(*), sum(p.price) from corder o join product p on p.sku = o.sku where o.customer_id < ${id()}`, ordered: false }),
    () => ({ sql: `select email from customer where customer_id in (select customer_id from corder where sku = '${pick(SKUS)}')`, ordered: false }),
    () => ({ sql: `select email from customer where customer_id not in (select customer_id from corder where price > ${int(50, 100)})`, ordered: false }),
    () => ({ sql: `select order_id from corder where price > (select avg(price) from corder) and customer_id = ${id()}`, ordered: false }),
    () => ({ sql: `select sku from product where exists (select 1 from corder where price > ${int(80, 100)})`, ordered: false }),
    () => ({ sql: `select description from product where sku in (select sku from corder where customer_id = ${id()})`, ordered: false }),
    () => ({ sql: `select t.sku, t.n from (select sku, count(*) as n from corder group by sku) as t where t.n > ${int(5, 15)}`, ordered: false }),
    () => ({ sql: `select max(t.price) from (select price from corder where customer_id = ${id()}) as t`, ordered: false }),
    () => ({ sql: `select customer_id from customer where score < ${int(10, 50)} union select customer_id from corder where price < ${int(10, 30)}`, ordered: false }),
    () => ({ sql: `select sku from corder where customer_id = ${id()} union all select sku from product where price < ${int(20, 60)}`, ordered: false }),
    () => ({ sql: `select sku, price from product where price between ${int(10, 50)} and ${int(50, 100)} order by price`, ordered: true }),
    () => ({ sql: `select upper(email), score + 1 from customer where customer_id = ${id()}`, ordered: false }),
    () => ({ sql: `select concat(email, '!') as e from customer where region = '${pick(REGIONS)}'`, ordered: false }),
    () => ({ sql: `select count(*) from customer where region = '${pick(REGIONS)}'`, ordered: false }),
    () => ({ sql: `select score, count(*) from customer where score is ${pick(['', 'not '])}null group by score order by score`, ordered: true }),
    () => ({ sql: `select * from corder where customer_id = ${id()} and sku = '${pick(SKUS)}'`, ordered: false }),
    () => ({ sql: `select sum(weight), avg(weight) from product where price > ${int(0, 80)}`, ordered: false }),
    () => ({ sql: `select customer_id, email from customer where email like 'user${int(1, 4)}%' order by customer_id`, ordered: true }),
    () => ({ sql: `select c.region, count(*) from customer c join corder o on c.customer_id = o.customer_id group by c.region order by c.region`, ordered: true }),
    () => ({ sql: `select region, customer_id from customer order by region desc, customer_id limit ${int(3, 20)}`, ordered: true }),
    () => ({ sql: `select customer_id, score from customer order by 2, 1 limit ${int(3, 12)}`, ordered: true }),
    () => ({ sql: `select count(*) + 1 from corder where customer_id = ${id()}`, ordered: false }),
    () => ({ sql: `select sku, count(*) * 2 from corder group by sku`, ordered: false }),
    () => ({ sql: `select sku, group_concat(order_id) from corder where customer_id = ${id()} group by sku`, ordered: false }),
    () => ({ sql: `select sku, group_concat(order_id order by order_id) from corder group by sku`, ordered: false }),
    () => ({ sql: `select customer_id, row_number() over (order by customer_id) from customer where customer_id < ${id()}`, ordered: false }),
    () => ({ sql: `select c.email, (select count(*) from corder o where o.customer_id = c.customer_id) from customer c where c.customer_id = ${id()}`, ordered: false }),
    () => ({ sql: `select email from customer c where exists (select 1 from corder o where o.customer_id = c.customer_id and o.price > ${int(50, 95)})`, ordered: false }),
    () => ({ sql: `select * from corder o join product p on p.sku = o.sku where o.order_id = ${int(1, 120)}`, ordered: false }),
    () => ({ sql: `select sku, sum(qty) from corder group by sku having sum(price) > ${int(300, 900)} order by sku`, ordered: true }),
    () => ({ sql: `select o.sku, count(*) as n from corder o join product p on p.sku = o.sku group by o.sku order by n desc, o.sku limit 3`, ordered: true }),
    () => ({ sql: `select o.order_id, p.price from corder o join product p on p.sku = o.sku order by p.price desc, o.order_id limit ${int(1, 8)}`, ordered: true }),
    () => ({ sql: `select customer_id % 3 as m, count(*) from customer group by m order by m`, ordered: true }),
    () => ({ sql: `select max(email), min(region) from customer where region in ('north', 'North', 'east')`, ordered: false }),
    () => ({ sql: `select distinct region from customer order by region`, ordered: true }),
    () => ({ sql: `select nick, customer_id from customer order by nick${pick(['', ' desc'])}, customer_id limit ${int(1, 20)}`, ordered: true }),
    () => ({ sql: `select nick, count(*), min(region) from customer group by nick order by nick${pick(['', ' desc'])}`, ordered: true }),
    () => ({ sql: `select avg(qty), sum(distinct qty), count(distinct qty) from corder where customer_id in (${[id(), id(), id()].join(', ')})`, ordered: false }),
    () => ({ sql: `select email from customer where customer_id = ${id()} or customer_id = ${id()}`, ordered: false }),
    () => ({ sql: `select p.sku, (select max(price) from corder) as m from product p where p.price < ${int(20, 80)}`, ordered: false }),
    // Statement shapes of issue 23: values bound across shards and keyspaces.
    () => ({ sql: `select c1.customer_id, c2.customer_id, c1.email from customer c1 join customer c2 on c1.email = c2.email and c1.customer_id < c2.customer_id`, ordered: false }),
    () => ({ sql: `select c1.customer_id, c2.customer_id from customer c1 join customer c2 on c1.score = c2.score and c1.customer_id < c2.customer_id where c1.score ${pick(['=', '<', '>'])} ${int(0, 50)}`, ordered: false }),
    () => ({ sql: `select o.order_id, p.description from corder o join product p on p.sku = o.sku where o.qty ${pick(['=', '<'])} ${int(0, 2)}`, ordered: false }),
    () => ({ sql: `select (select count(*) from customer) as customers, (select count(*) from corder) as orders, (select count(*) from product) as products`, ordered: false }),
    () => ({ sql: `select order_id, customer_id, sku from corder where (customer_id, sku) in (select customer_id, sku from corder where qty > ${int(2, 5)})`, ordered: false }),
    () => ({ sql: `select order_id from corder where (sku, price) in (select sku, price from product)`, ordered: false }),
    () => ({ sql: `select customer_id from customer where email in (select email from customer where score ${pick(['=', '<', 'is'])} ${pick(['0', 'NULL', String(int(0, 50))])})`, ordered: false }),
    () => ({ sql: `select customer_id from customer where email ${pick(['in', 'not in'])} ('', '0', 'user${int(1, 40)}@x.com')`, ordered: false }),
    () => ({ sql: `select email, count(*), min(score), max(score), sum(score) from customer group by email having count(*) > ${int(0, 1)}`, ordered: false }),
    () => ({ sql: `select region, count(*), sum(score) from customer where region is ${pick(['', 'not '])}null group by region`, ordered: false }),
    () => ({ sql: `select sku, count(*), sum(price), min(qty) from corder where price ${pick(['=', '>'])} 0 group by sku`, ordered: false }),
    // Arithmetic the gate evaluates itself: over a join across keyspaces and over aggregates.
    () => ({ sql: `select o.order_id, p.price div o.qty, p.price % ${pick(['o.qty', '7', '0'])}, o.price * 1.5 - p.weight, p.weight / o.qty from corder o join product p on p.sku = o.sku where o.customer_id = ${id()}`, ordered: false }),
    () => ({ sql: `select sku, sum(price) div count(*), max(qty) % 2, -min(price), sum(price) / count(*) from corder group by sku`, ordered: false }),
    // Issue 25: correlated subqueries the shards cannot answer alone (evaluated per outer row).
    () => ({ sql: `select p.sku, (select count(*) from corder o where o.sku = p.sku) as n from product p where p.price < ${int(20, 100)}`, ordered: false }),
    () => ({ sql: `select p.sku from product p where ${pick(['', 'not '])}exists (select 1 from corder o where o.sku = p.sku and o.qty > ${int(1, 5)})`, ordered: false }),
    () => ({ sql: `select c.email from customer c where ${pick(['', 'not '])}exists (select 1 from corder o where o.price > c.score and o.qty = ${int(1, 5)}) and c.customer_id < ${id()}`, ordered: false }),
    () => ({ sql: `select o.order_id from corder o where o.price ${pick(['>', '<', '='])} (select p.price from product p where p.sku = o.sku) and o.customer_id ${pick(['<', '>'])} ${id()}`, ordered: false }),
    () => ({ sql: `select c.customer_id, (select max(o.price) from corder o where o.qty = c.customer_id % 5) as m from customer c where c.customer_id < ${id()}`, ordered: false }),
    () => ({ sql: `select c.customer_id from customer c where c.score ${pick(['in', 'not in'])} (select o.price from corder o where o.qty = c.customer_id % 5) and c.customer_id < ${id()}`, ordered: false }),
    () => ({ sql: `select c.region, count(*) from customer c where exists (select 1 from corder o where o.customer_id = c.score) group by c.region order by c.region`, ordered: true }),
    () => ({ sql: `select o.order_id, (select c.email from customer c where c.customer_id = o.qty) as e from corder o where o.price > ${int(60, 95)}`, ordered: false }),
    // JOIN … USING across shards and keyspaces.
    () => ({ sql: `select o.order_id, sku, p.price from corder o join product p using (sku) where o.qty = ${int(1, 5)}`, ordered: false }),
    () => ({ sql: `select * from corder o ${pick(['join', 'left join'])} product p using (sku) where o.customer_id = ${id()}`, ordered: false }),
    () => ({ sql: `select customer_id, c.email, o.order_id from customer c ${pick(['join', 'left join'])} corder o using (customer_id) where c.customer_id > ${int(30, 46)}`, ordered: false }),
    () => ({ sql: `select sku, count(*) from corder join product using (sku, price) group by sku order by sku`, ordered: true }),
    () => ({ sql: `select * from customer c join corder o using (customer_id) where o.price > ${int(60, 95)}`, ordered: false }),
    // SELECT * with DISTINCT or aggregation across shards.
    () => ({ sql: `select distinct * from corder where qty ${pick(['<', '>', '='])} ${int(1, 5)}`, ordered: false }),
    () => ({ sql: `select * from customer group by customer_id having customer_id < ${id()}`, ordered: false }),
    () => ({ sql: `select distinct * from customer where region = '${pick(REGIONS)}' order by customer_id`, ordered: true }),
    () => ({ sql: `select *, count(*) from corder where price < ${int(20, 60)} group by order_id`, ordered: false }),
    // AVG(DISTINCT …), COUNT(DISTINCT a, b), ORDER BY / HAVING on computed aggregate expressions.
    () => ({ sql: `select avg(distinct qty), avg(distinct price), count(*) from corder where price < ${int(20, 100)}`, ordered: false }),
    () => ({ sql: `select sku, avg(distinct qty), count(distinct customer_id, qty) from corder group by sku`, ordered: false }),
    () => ({ sql: `select count(distinct customer_id, sku), count(distinct qty, price) from corder where qty ${pick(['<', '>'])} ${int(1, 5)}`, ordered: false }),
    () => ({ sql: `select o.sku, count(distinct o.customer_id, p.price), avg(distinct o.qty) from corder o join product p on p.sku = o.sku group by o.sku`, ordered: false }),
    () => ({ sql: `select sku, sum(price) / count(*) as a from corder group by sku order by sum(price) / count(*)${pick(['', ' desc'])}, sku`, ordered: true }),
    () => ({ sql: `select sku, count(*) * 2 as n from corder group by sku order by n${pick(['', ' desc'])}, sku limit ${int(1, 8)}`, ordered: true }),
    () => ({ sql: `select customer_id, max(price) - min(price) as spread from corder group by customer_id having spread > ${int(10, 60)} order by spread desc, customer_id`, ordered: true }),
    () => ({ sql: `select region, count(*) from customer group by region order by count(*) * -1, region`, ordered: true }),
    // CTEs: inlined as derived tables; recursive ones evaluated at the gate over merged rows.
    () => ({ sql: `with t as (select sku, count(*) as n from corder group by sku) select t.sku, t.n from t where t.n > ${int(5, 15)}`, ordered: false }),
    () => ({ sql: `with big as (select customer_id, price from corder where price > ${int(50, 90)}) select c.email, big.price from customer c join big on big.customer_id = c.customer_id`, ordered: false }),
    () => ({ sql: `with t as (select customer_id, count(*) as n from corder group by customer_id) select a.customer_id, b.customer_id from t a join t b on a.n = b.n and a.customer_id < b.customer_id where a.n > ${int(2, 4)}`, ordered: false }),
    () => ({ sql: `with a as (select customer_id, score from customer where score > ${int(20, 80)}), b as (select a.customer_id from a where a.score < ${int(60, 99)}) select count(*) from b`, ordered: false }),
    () => ({ sql: `with recursive seq(n) as (select 1 union all select n + 1 from seq where n < ${int(2, 30)}) select n from seq`, ordered: false }),
    () => ({ sql: `with recursive chain(id, depth) as (select customer_id, 0 from customer where customer_id = ${id()} union all select c.customer_id, chain.depth + 1 from chain join customer c on c.customer_id = chain.id + ${int(1, 9)} where chain.depth < ${int(1, 6)}) select id, depth from chain`, ordered: false }),
    () => ({ sql: `with recursive p(price) as (select price from corder where order_id = ${int(1, 120)} union select o.price from p join corder o on o.price = p.price + ${int(1, 10)}) select p.price from p order by p.price`, ordered: true }),
    // INTERSECT / EXCEPT [ALL] across shards and keyspaces.
    () => ({ sql: `select customer_id from customer where score < ${int(20, 80)} ${pick(['intersect', 'except', 'intersect all', 'except all'])} select customer_id from corder where price < ${int(20, 60)}`, ordered: false }),
    () => ({ sql: `select sku from corder where qty ${pick(['<', '>'])} ${int(1, 5)} ${pick(['intersect', 'except', 'intersect all', 'except all'])} select sku from product where price ${pick(['<', '>'])} ${int(20, 90)}`, ordered: false }),
    () => ({ sql: `select region from customer ${pick(['intersect', 'except'])} select region from customer where score > ${int(20, 80)} order by region`, ordered: true }),
    () => ({ sql: `select qty from corder where customer_id < ${id()} ${pick(['intersect all', 'except all'])} select qty from corder where price > ${int(20, 80)}`, ordered: false }),
    // GROUP_CONCAT with ORDER BY, SEPARATOR and DISTINCT across shards.
    () => ({ sql: `select customer_id % 3 as m, group_concat(distinct qty order by qty desc separator '|') from corder group by m`, ordered: false }),
    () => ({ sql: `select region, group_concat(customer_id, ':', score order by customer_id separator '; ') from customer where customer_id < ${id()} group by region`, ordered: false }),
    () => ({ sql: `select group_concat(distinct sku order by sku), count(*) from corder where price > ${int(20, 90)}`, ordered: false }),
    () => ({ sql: `select qty, group_concat(order_id order by price desc, order_id), sum(price) from corder group by qty order by qty`, ordered: true }),
    // Window functions: pushed down when partitioned by the sharding key, else evaluated at the gate.
    () => ({ sql: `select order_id, row_number() over (partition by customer_id order by order_id) as rn from corder where price > ${int(20, 80)}`, ordered: false }),
    () => ({ sql: `select customer_id, score, rank() over (order by score) as r, dense_rank() over (order by score desc) as d from customer where customer_id < ${id()}`, ordered: false }),
    () => ({ sql: `select order_id, sum(price) over (partition by sku order by order_id) as s, count(*) over (partition by sku) as n from corder where qty ${pick(['<', '>'])} ${int(1, 5)}`, ordered: false }),
    () => ({ sql: `select order_id, avg(price) over (partition by qty) as a, min(sku) over (partition by qty order by price) as m from corder where customer_id < ${id()}`, ordered: false }),
    () => ({ sql: `select c.customer_id, o.order_id, max(o.price) over (partition by c.region) as m from customer c join corder o on o.customer_id = c.customer_id where c.customer_id < ${id()}`, ordered: false }),
    () => ({ sql: `select customer_id, row_number() over (order by customer_id desc) as rn from customer order by rn limit ${int(1, 10)}`, ordered: true }),
    // ANY / ALL subqueries across shards and keyspaces.
    () => ({ sql: `select customer_id from customer where score ${pick(['>', '<', '>=', '<=', '=', '<>'])} ${pick(['any', 'some', 'all'])} (select price from corder where qty = ${int(1, 5)} and customer_id < ${id()})`, ordered: false }),
    () => ({ sql: `select sku from product where price ${pick(['>', '<', '=', '<>'])} ${pick(['any', 'all'])} (select price from corder where customer_id = ${id()})`, ordered: false }),
    () => ({ sql: `select order_id from corder where price ${pick(['>', '<='])} ${pick(['any', 'all'])} (select score from customer where region = '${pick(REGIONS)}')`, ordered: false }),
    // WITH ROLLUP across shards (MariaDB orders the groups; super-aggregate rows follow each group).
    () => ({ sql: `select sku, qty, count(*), sum(price) from corder where price > ${int(5, 60)} group by sku, qty with rollup`, ordered: true }),
    () => ({ sql: `select qty, count(*), max(price), avg(price) from corder group by qty with rollup`, ordered: true }),
    () => ({ sql: `select o.qty, count(*), sum(p.price) from corder o join product p on p.sku = o.sku group by o.qty with rollup`, ordered: true }),
  ];
  const dml: (() => Stmt)[] = [
    () => { const k = int(1000, 5000); return { sql: `insert into customer(customer_id, email, region, score) values (${k}, 'new${k}@x.com', '${pick(REGIONS)}', ${int(0, 99)}), (${k + 1}, 'new${k + 1}@x.com', 'west', NULL)`, ordered: false, check: ['customer'] }; },
    () => ({ sql: `update customer set score = score + 1 where customer_id = ${id()}`, ordered: false, check: ['customer'] }),
    () => ({ sql: `update corder set qty = qty + 1 where price < ${int(10, 40)}`, ordered: false, check: ['corder'] }),
    () => ({ sql: `update product set price = price + 1 where sku = '${pick(SKUS)}'`, ordered: false, check: ['product'] }),
    () => ({ sql: `delete from corder where order_id = ${int(1, 130)}`, ordered: false, check: ['corder'] }),
    // order_id is unique per shard only (corder is sharded by customer_id, as in the tutorial), so
    // every insert takes a fresh id: a repeated one would land on another shard without a 1062.
    () => { const k = nextOrderId++; return { sql: `insert into corder(order_id, customer_id, sku, price, qty) values (${k}, ${id()}, '${pick(SKUS)}', ${int(5, 95)}, ${int(1, 5)})`, ordered: false, check: ['corder'] }; },
    // UPDATE/DELETE … ORDER BY … LIMIT and multi-table UPDATE/DELETE across shards (keys first, then by key).
    () => ({ sql: `update corder set qty = qty + 1 where price < ${int(20, 90)} order by order_id${pick(['', ' desc'])} limit ${int(1, 6)}`, ordered: false, check: ['corder'] }),
    () => ({ sql: `delete from corder where qty = ${int(1, 5)} order by price desc, order_id limit ${int(1, 3)}`, ordered: false, check: ['corder'] }),
    () => ({ sql: `update customer set score = score + 1 where score is not null order by score, customer_id limit ${int(1, 5)}`, ordered: false, check: ['customer'] }),
    () => ({ sql: `update corder o join product p on p.sku = o.sku set o.price = p.price where o.qty = ${int(1, 5)} and o.customer_id < ${id()}`, ordered: false, check: ['corder'] }),
    () => ({ sql: `delete o from corder o join product p on p.sku = o.sku where p.price = ${int(1, 10) * 10} and o.qty = ${int(1, 5)}`, ordered: false, check: ['corder'] }),
    () => ({ sql: `update customer set score = 0 where customer_id in (select customer_id from corder where price = ${int(5, 95)})`, ordered: false, check: ['customer'] }),
    () => ({ sql: `delete from corder where sku in (select sku from product where price = ${int(1, 10) * 10}) and qty = ${int(1, 5)} and price > ${int(50, 90)}`, ordered: false, check: ['corder'] }),
    // INSERT … SELECT across shards and keyspaces (fresh keys: each statement takes its own range).
    () => { const base = nextInsertBase(); return { sql: `insert into corder(order_id, customer_id, sku, price, qty) select order_id + ${base}, customer_id, sku, price, qty from corder where qty = ${int(1, 5)} and order_id < 200`, ordered: false, check: ['corder'] }; },
    () => { const base = nextInsertBase(); return { sql: `insert into customer(customer_id, email, region, score) select customer_id + ${base}, email, region, score from customer where score ${pick(['>', '<'])} ${int(10, 90)} and customer_id < 30`, ordered: false, check: ['customer'] }; },
    () => { const base = nextInsertBase(); return { sql: `insert into product(sku, description, price, weight) select concat('X', order_id + ${base}), sku, price, qty from corder where customer_id = ${id()}`, ordered: false, check: ['product'] }; },
    () => { const base = nextInsertBase(); return { sql: `insert into corder(order_id, customer_id, sku, price, qty) select price + ${base}, price % 45 + 1, sku, price, 1 from product where price < ${int(20, 100)} and sku like 'SKU%'`, ordered: false, check: ['corder'] }; },
  ];
  for (let i = 0; i < n; i++) out.push(rand() < 0.12 ? pick(dml)() : pick(templates)());
  return out;
}

async function run(conn: mysql.Connection, sql: string): Promise<{ fields: string[]; rows: string[][]; affected?: number } | { errno: number; message: string }> {
  try {
    const [rows, fields] = await conn.query({ sql, rowsAsArray: true });
    if (!Array.isArray(rows)) return { fields: [], rows: [], affected: (rows as mysql.ResultSetHeader).affectedRows };
    return {
      fields: (fields ?? []).map((f) => f.name),
      rows: (rows as unknown[][]).map((r) => r.map((v) => (v === null ? 'NULL' : Buffer.isBuffer(v) ? v.toString('hex') : String(v)))),
    };
  } catch (err) {
    const e = err as { errno?: number; message: string };
    return { errno: e.errno ?? -1, message: e.message };
  }
}

/**
 * A group of text values equal under a _ci collation ('North', 'north') shows one of its members,
 * whichever row MariaDB (or the gate) met first: SQL leaves the choice open, so such results are
 * compared with text folded to lower case.
 */
function groupsByText(sql: string): boolean {
  return /group by[^()]*\b(region|email|nick|description)\b/i.test(sql);
}

function canon(rows: string[][], ordered: boolean, fold = false): string {
  const lines = rows.map((r) => JSON.stringify(fold ? r.map((v) => v.toLowerCase()) : r));
  if (!ordered) lines.sort();
  return lines.join('\n');
}

before(async () => {
  [c, ref] = await Promise.all([
    startCluster({
      keyspaces: [
        { name: 'commerce', shards: ['0'], schema: SCHEMA_COMMERCE, vschema: { tables: { product: {} } } },
        {
          name: 'customer', shards: ['-80', '80-'], schema: SCHEMA_CUSTOMER,
          vschema: {
            sharded: true, vindexes: { hash: { type: 'hash' } },
            tables: { customer: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] }, corder: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] } },
          },
        },
      ],
    }),
    startMariaDB(),
  ]);
  // Affected rows count changed rows on both sides (the tablets' pools do not use CLIENT_FOUND_ROWS).
  gate = await c.connect(undefined, { flags: ['-FOUND_ROWS'], supportBigNumbers: true, bigNumberStrings: true, decimalNumbers: false, dateStrings: true });
  if (WORKLOAD !== null) await gate.query(`set workload = '${WORKLOAD}'`);
  plain = await mysql.createConnection({ flags: ['-FOUND_ROWS'], host: ref.host, port: ref.port, user: 'vt_dba', password: '', supportBigNumbers: true, bigNumberStrings: true, dateStrings: true, multipleStatements: true });
  await plain.query(`create database ref; use ref; ${SCHEMA_COMMERCE}; ${SCHEMA_CUSTOMER}`);
  for (const s of seedRows()) {
    await gate.query(s);
    await plain.query(s);
  }
});

after(async () => {
  await gate?.end();
  await plain?.end();
  await Promise.all([c?.stop(), ref?.stop()]);
});

/** Rows the shards' tablets have streamed since they started (OLAP reads). */
function rowsStreamed(): number {
  return c.shards.reduce((n, s) => n + s.primary.server.stats.rowsStreamed, 0);
}

async function sameTables(tables: readonly string[]): Promise<boolean> {
  for (const t of tables) {
    const gt = await run(gate, `select * from ${t}`);
    const pt = await run(plain, `select * from ${t}`);
    if ('errno' in gt || 'errno' in pt || canon(gt.rows, false) !== canon(pt.rows, false)) return false;
  }
  return true;
}

for (const SEED of SEEDS) test(`differential: ${STATEMENTS} generated statements, gate vs one MariaDB (seed ${SEED})`, async () => {
  process.stdout.write(`# differential seed ${SEED} (replay: TESSERA_DIFF_SEED=${SEED} TESSERA_DIFF_STATEMENTS=${STATEMENTS})\n`);
  rand = rng(SEED);
  const stmts = generate(STATEMENTS);
  let matched = 0;
  let unsupported = 0;
  const mismatches: string[] = [];
  const unsupportedSql: string[] = [];
  const streamedBefore = rowsStreamed();
  for (const s of stmts) {
    const g = await run(gate, s.sql);
    const p = await run(plain, s.sql);
    if ('errno' in g) {
      if (g.errno === 1235) {
        unsupported++;
        unsupportedSql.push(`${s.sql} -- ${g.message}`);
        if (s.check) {
          // Keep both sides equal: undo on the reference by running nothing; a refused DML changed nothing on the gate side.
          mismatches.push(`refused DML leaves the sides different: ${s.sql}`);
        }
        continue;
      }
      if ('errno' in p && p.errno === g.errno) {
        // A failed statement must have changed nothing on either side (MariaDB's statements are
        // atomic; the gate's multi-shard ones must be too).
        const same = s.check ? await sameTables(s.check) : true;
        if (same) matched++;
        else mismatches.push(`failed on both sides with ${g.errno}, but the tables differ afterwards: ${s.sql}`);
        continue;
      }
      mismatches.push(`${s.sql}\n  gate error ${g.errno}: ${g.message}\n  mariadb: ${'errno' in p ? p.message : JSON.stringify(p.rows.slice(0, 3))}`);
      continue;
    }
    if ('errno' in p) {
      mismatches.push(`${s.sql}\n  gate: ${JSON.stringify(g.rows.slice(0, 3))}\n  mariadb error ${p.errno}: ${p.message}`);
      continue;
    }
    const fold = groupsByText(s.sql);
    let ok = JSON.stringify(g.fields) === JSON.stringify(p.fields) && canon(g.rows, s.ordered, fold) === canon(p.rows, s.ordered, fold);
    if (s.check) {
      ok &&= g.affected === p.affected;
      ok &&= await sameTables(s.check);
    }
    if (ok) matched++;
    else mismatches.push(`${s.sql}\n  gate:    ${JSON.stringify(g.fields)} ${canon(g.rows, s.ordered).slice(0, 200).replaceAll('\n', ' ')} affected=${g.affected}\n  mariadb: ${JSON.stringify(p.fields)} ${canon(p.rows, s.ordered).slice(0, 200).replaceAll('\n', ' ')} affected=${p.affected}`);
  }
  const report = `differential: ${stmts.length} statements, ${matched} matched, ${unsupported} refused with 1235 (${((100 * unsupported) / stmts.length).toFixed(2)} %), ${mismatches.length} mismatched${WORKLOAD ? `; workload ${WORKLOAD}, ${rowsStreamed() - streamedBefore} rows streamed by the tablets` : ''}`;
  process.stdout.write(`# ${report}\n`);
  if (WORKLOAD?.toLowerCase() === 'olap') assert.ok(rowsStreamed() > streamedBefore, `no read was streamed: ${report}`);
  for (const u of [...new Set(unsupportedSql.map((x) => x.replace(/\d+/g, 'N')))].slice(0, 20)) process.stdout.write(`# 1235: ${u}\n`);
  assert.equal(mismatches.length, 0, `${report}\n${mismatches.slice(0, 15).join('\n')}`);
  // Issue 25: fewer than 1 % of the generated statements may be refused.
  assert.ok(unsupported < stmts.length * 0.01, `${report}\n${[...new Set(unsupportedSql)].slice(0, 10).join('\n')}`);
});

async function runPrepared(conn: mysql.Connection, sql: string, params: number[]): Promise<{ fields: string[]; rows: string[][] } | { errno: number; message: string }> {
  try {
    const [rows, fields] = await conn.execute({ sql, rowsAsArray: true }, params);
    return {
      fields: (fields ?? []).map((f) => f.name),
      rows: (rows as unknown[][]).map((r) => r.map((v) => (v === null ? 'NULL' : Buffer.isBuffer(v) ? v.toString('hex') : String(v)))),
    };
  } catch (err) {
    const e = err as { errno?: number; message: string };
    return { errno: e.errno ?? -1, message: e.message };
  }
}

test('differential, prepared: 200 generated SELECTs with their numbers as ? parameters (binary protocol)', async () => {
  rand = rng(SEEDS[0] + 1);
  const stmts = generate(260).filter((s) => !s.check && !/limit|offset/i.test(s.sql)).slice(0, 200);
  let matched = 0;
  let unsupported = 0;
  const mismatches: string[] = [];
  const unsupportedSql: string[] = [];
  for (const s of stmts) {
    // Numbers outside quotes become parameters.
    const params: number[] = [];
    const sql = s.sql.replace(/'[^']*'|\b\d+\b/g, (m) => {
      if (m.startsWith("'")) return m;
      params.push(Number(m));
      return '?';
    });
    const g = await runPrepared(gate, sql, params);
    const p = await runPrepared(plain, sql, params);
    if ('errno' in g) {
      if (g.errno === 1235) {
        unsupported++;
        unsupportedSql.push(`${sql} -- ${g.message}`);
      } else if ('errno' in p && p.errno === g.errno) matched++;
      else mismatches.push(`${sql} ${JSON.stringify(params)}\n  gate error ${g.errno}: ${g.message}\n  mariadb: ${'errno' in p ? p.message : JSON.stringify(p.rows.slice(0, 3))}`);
      continue;
    }
    if ('errno' in p) {
      mismatches.push(`${sql} ${JSON.stringify(params)}\n  gate: ${JSON.stringify(g.rows.slice(0, 3))}\n  mariadb error ${p.errno}: ${p.message}`);
      continue;
    }
    if (JSON.stringify(g.fields) === JSON.stringify(p.fields) && canon(g.rows, s.ordered, groupsByText(s.sql)) === canon(p.rows, s.ordered, groupsByText(s.sql))) matched++;
    else mismatches.push(`${sql} ${JSON.stringify(params)}\n  gate:    ${JSON.stringify(g.fields)} ${canon(g.rows, s.ordered).slice(0, 200).replaceAll('\n', ' ')}\n  mariadb: ${JSON.stringify(p.fields)} ${canon(p.rows, s.ordered).slice(0, 200).replaceAll('\n', ' ')}`);
  }
  const report = `differential (prepared): ${stmts.length} statements, ${matched} matched, ${unsupported} refused with 1235, ${mismatches.length} mismatched`;
  process.stdout.write(`# ${report}\n`);
  for (const u of [...new Set(unsupportedSql)].slice(0, 20)) process.stdout.write(`# 1235: ${u}\n`);
  assert.equal(mismatches.length, 0, `${report}\n${mismatches.slice(0, 15).join('\n')}`);
});
