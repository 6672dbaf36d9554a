// src/collations against a real MariaDB: the weight tables against WEIGHT_STRING of every code
// point, and compare()/weightKey() against ORDER BY, DENSE_RANK and GROUP BY over a corpus of a few
// thousand strings (Latin with accents, Greek, Cyrillic, CJK, Arabic, Hebrew, Thai, Devanagari,
// case and accent variants, trailing spaces and tabs, emoji and other supplementary characters,
// ignorables, the empty string), for every collation the gate claims to compare exactly.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { startMariaDB, type TestMariaDB } from '../../harness/mariadb.js';
import { COLLATIONS, compare, weightKey, type CollationInfo } from '../../../src/collations/index.js';
import { TesseraError } from '../../../src/mysql/errors.js';

const CORPUS_SIZE = 2500;

let db: TestMariaDB;
let conn: mysql.Connection;

before(async () => {
  db = await startMariaDB();
  conn = await mysql.createConnection({ host: db.host, port: db.port, user: 'vt_dba', password: '', charset: 'utf8mb4_general_ci', supportBigNumbers: true, bigNumberStrings: true });
  await conn.query('CREATE DATABASE coll');
  await conn.query('USE coll');
  await conn.query('SET SESSION group_concat_max_len = 1000000');
});

after(async () => {
  await conn?.end();
  await db?.stop();
});

// Deterministic pseudo-random numbers (mulberry32), so a failure replays.
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

const WORDS = [
  '', ' ', '  ', '\t', 'a', 'a ', 'a  ', 'a\t', 'A', 'b', 'B', '0', '9', '-', '_', '.', '~', '!', 'z', 'Z',
  'alice', 'Alice', 'ALICE', 'alice ', 'Álice', 'älice', 'Älice', 'bob', 'Bob', 'Øre', 'ørsted', 'Orsted', 'æble', 'Æble', 'aeble',
  'straße', 'strasse', 'STRASSE', 'Straße', 'résumé', 'resume', 'Resume', 'RÉSUMÉ', 'naïve', 'naive', 'café', 'cafe', 'Café', 'cafe\u0301',
  'Ångström', 'angstrom', 'Zoë', 'zoe', 'ÿ', 'Ÿ', 'ǅ', 'ǆ', 'Ǆ', 'dž', 'ﬁ', 'fi', 'ı', 'İ', 'i', 'I', 'œuvre', 'Œuvre', 'oeuvre', 'š', 'Š', 's', 'ž', 'Ž',
  'Đ', 'đ', 'Ł', 'ł', 'Ñ', 'ñ', 'n', 'Ç', 'ç', 'ð', 'Þ', 'þ', 'µ', 'ª', 'º', '½', '²', '€', '£', '¥', '§', '©', '®', '°', '±', '×', '÷', '‰', '™', '…', '–', '—', '‘', '“', '•',
  'Αλφα', 'αλφα', 'ΑΛΦΑ', 'άλφα', 'Ωμέγα', 'ωμεγα', 'σ', 'ς', 'Σ', 'Ά', 'ά', 'ΐ',
  'Москва', 'москва', 'МОСКВА', 'ёж', 'Ёж', 'еж', 'Йод', 'йод', 'иод', 'Ї', 'ї', 'Ґ', 'ґ', 'Ў',
  '東京', '京都', '北京', '日本', '中文', '漢字', '一', '丁', '한국', '한글', '가', 'ひらがな', 'カタカナ', 'ｶﾀｶﾅ', 'が', 'か', 'ガ',
  'مرحبا', 'سلام', 'عربي', 'ب', 'ا', 'شلام', 'שלום', 'א', 'สวัสดี', 'เก', 'ก', 'नमस्ते', 'क',
  '😀', '😁', '👍', '👍🏽', '🇫🇷', '𝒜', '𐐀', '𐐨', '𠀀', '𠀁', '\u{10FFFD}',
  '\u200b', '\u00ad', '\u00a0', 'Ａ', 'ａ', '\u0301', '\u0000', '\u001f', '\u007f', '\uFFFD', '\uFDFA', '\u2163', 'Ⅳ', 'ⅳ',
];

/** Single characters from every script above, to build random strings from. */
const POOL = Array.from(new Set(Array.from(WORDS.join('')))).concat(['a', 'e', 'o', 'A', 'E', 'O', ' ', ' ']);

function corpus(): string[] {
  const r = rng(23);
  const out = new Set<string>(WORDS);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  while (out.size < CORPUS_SIZE) {
    const kind = r();
    let s: string;
    if (kind < 0.4) {
      // Two words: case and accent variants meet at every position.
      s = pick(WORDS) + pick([' ', '', '-', '\t']) + pick(WORDS);
    } else if (kind < 0.8) {
      s = Array.from({ length: 1 + Math.floor(r() * 5) }, () => pick(POOL)).join('');
    } else {
      // A word with a case change and trailing padding.
      const w = pick(WORDS);
      s = (r() < 0.5 ? w.toUpperCase() : w.toLowerCase()) + pick(['', ' ', '  ', '\t', ' \t']);
    }
    out.add(s);
  }
  return [...out];
}

const LATIN1 = new Set(Array.from(Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('latin1')));

/** The corpus a column of this character set can hold (latin1 is cp1252: MariaDB's own map decides below). */
function fits(c: CollationInfo, s: string): boolean {
  if (c.charset === 'utf8mb3') return !/[\u{10000}-\u{10FFFF}]/u.test(s);
  if (c.charset === 'latin1') return Array.from(s).every((ch) => LATIN1.has(ch) || '€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ'.includes(ch));
  return true;
}

function table(c: CollationInfo): string {
  return c.charset === 'binary' ? 'VARBINARY(255)' : `VARCHAR(255) CHARACTER SET ${c.charset} COLLATE ${c.name}`;
}

test('weight tables equal MariaDB WEIGHT_STRING for every code point', async () => {
  const checks: [string, number][] = [
    ['utf8mb4_general_nopad_ci', 1069],
    ['utf8mb4_unicode_nopad_ci', 1248],
    ['utf8mb4_unicode_520_nopad_ci', 1270],
  ];
  for (const [name, id] of checks) {
    const [rows] = await conn.query({
      sql: `SELECT seq, HEX(WEIGHT_STRING(CONVERT(CHAR(seq USING utf32) USING utf8mb4) COLLATE ${name})) FROM seq_0_to_1114111 WHERE seq NOT BETWEEN 55296 AND 57343`,
      rowsAsArray: true,
    });
    let bad = 0;
    const examples: string[] = [];
    for (const [cp, hex] of rows as [string, string][]) {
      const ours = weightKey(id, String.fromCodePoint(Number(cp))).toString('hex').toUpperCase();
      if (ours !== hex) {
        bad++;
        if (examples.length < 5) examples.push(`U+${Number(cp).toString(16)}: ours ${ours}, MariaDB ${hex}`);
      }
    }
    assert.equal(bad, 0, `${name}: ${bad} code points differ, e.g. ${examples.join('; ')}`);
  }
});

test('compare and weightKey agree with ORDER BY, DENSE_RANK and GROUP BY for every collation', async () => {
  const all = corpus();
  for (const c of COLLATIONS) {
    const strings = all.filter((s) => fits(c, s));
    const tbl = `t${c.id}`;
    await conn.query(`CREATE TABLE ${tbl} (id INT NOT NULL PRIMARY KEY, s ${table(c)} NOT NULL)`);
    for (let i = 0; i < strings.length; i += 500) {
      const chunk = strings.slice(i, i + 500).map((s, j) => [i + j, c.charset === 'binary' ? Buffer.from(s, 'utf8') : s]);
      await conn.query(`INSERT INTO ${tbl} (id, s) VALUES ?`, [chunk]);
    }
    // Values as MariaDB holds them (latin1 round-trips through cp1252), as the gate receives them.
    const [rows] = await conn.query({ sql: `SELECT id, s, DENSE_RANK() OVER (ORDER BY s) FROM ${tbl} ORDER BY s, id`, rowsAsArray: true });
    const list = (rows as [number, string | Buffer, string][]).map(([id, s, rank]) => ({ id, v: Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8'), rank: Number(rank) }));
    assert.equal(list.length, strings.length);

    // The same order, ties broken by id.
    const ours = [...list].sort((a, b) => compare(c.id, a.v, b.v) || a.id - b.id);
    const firstDiff = ours.findIndex((x, i) => x.id !== list[i].id);
    assert.equal(firstDiff, -1, `${c.name}: ORDER BY differs at ${firstDiff}: MariaDB ${JSON.stringify(list[firstDiff]?.v.toString())}, ours ${JSON.stringify(ours[firstDiff]?.v.toString())}`);

    // Every pair: the sign of compare() is the sign of MariaDB's rank difference.
    let bad = 0;
    let example = '';
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const want = Math.sign(list[i].rank - list[j].rank);
        if (Math.sign(compare(c.id, list[i].v, list[j].v)) !== want) {
          bad++;
          if (!example) example = `${JSON.stringify(list[i].v.toString())} vs ${JSON.stringify(list[j].v.toString())}: want ${want}`;
        }
      }
    }
    assert.equal(bad, 0, `${c.name}: ${bad} pairs compare differently, e.g. ${example}`);

    // Grouping: equal keys exactly for MariaDB's groups.
    const [groups] = await conn.query({ sql: `SELECT GROUP_CONCAT(id ORDER BY id) FROM ${tbl} GROUP BY s`, rowsAsArray: true });
    const byKey = new Map<string, number[]>();
    for (const x of list) {
      const k = weightKey(c.id, x.v).toString('latin1');
      byKey.set(k, [...(byKey.get(k) ?? []), x.id]);
    }
    const theirs = (groups as [string][]).map(([g]) => String(g)).sort();
    const mine = [...byKey.values()].map((ids) => ids.sort((a, b) => a - b).join(',')).sort();
    assert.deepEqual(mine, theirs, `${c.name}: GROUP BY groups differ`);
  }
});

test('a collation the gate does not know is refused with 1235 naming it', () => {
  assert.throws(
    () => compare(5, 'a', 'b'),
    (e: unknown) => e instanceof TesseraError && e.errno === 1235 && /latin1_german1_ci/.test(e.message),
  );
  assert.throws(() => weightKey(234, 'ch'), (e: unknown) => e instanceof TesseraError && e.errno === 1235 && /utf8mb4_czech_ci/.test(e.message));
});
