// Fuzzing: mutated corpus statements and random strings go through the parser; the only thing
// allowed out is a TesseraError 1064. Whatever parses must also format and re-parse to the same
// tree. The default run (npm test) does 50,000 inputs; set TESSERA_FUZZ_ITERATIONS=1000000 for
// the full-size run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { format, parse } from '../../../src/sql/index.js';
import { TesseraError } from '../../../src/mysql/errors.js';
import { readCorpusFile, stripSpans, validCorpus } from './corpus.js';

const ITERATIONS = Number(process.env.TESSERA_FUZZ_ITERATIONS ?? 50_000);

let seed = 0x5eed;
const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
const int = (n: number): number => Math.floor(rnd() * n);

const PIECES = [
  ' ', '(', ')', ',', '.', ';', "'", '"', '`', '\\', '/*', '*/', '/*!', '/*+', '--', '#', '\n', '@', '@@', ':', '::', '?', '-', '+',
  '*', '=', '<=>', '->>', '0x', "x'", "b'", '_utf8mb4', 'N', '1e', '.5', 'select', 'from', 'where', 'and', 'or', 'not', 'in',
  'between', 'case', 'when', 'end', 'interval', 'union', 'join', 'on', 'using', 'values', 'set', 'null', 'is', 'like', 'over',
  'partition', 'by', 'order', 'limit', 'é', '\u0000', '\uffff', '\ud800', '9999999999999999999999',
];

function mutate(s: string, others: readonly string[]): string {
  let out = s;
  const n = 1 + int(4);
  for (let i = 0; i < n; i++) {
    const at = int(out.length + 1);
    switch (int(6)) {
      case 0: // delete a run
        out = out.slice(0, at) + out.slice(at + 1 + int(6));
        break;
      case 1: // insert a piece
        out = out.slice(0, at) + PIECES[int(PIECES.length)] + out.slice(at);
        break;
      case 2: // replace a character
        out = out.slice(0, at) + String.fromCharCode(int(128)) + out.slice(at + 1);
        break;
      case 3: {
        // splice in part of another statement
        const o = others[int(others.length)]!;
        const from = int(o.length);
        out = out.slice(0, at) + o.slice(from, from + 1 + int(20)) + out.slice(at);
        break;
      }
      case 4: // truncate
        out = out.slice(0, at);
        break;
      default: // duplicate a run
        out = out.slice(0, at) + out.slice(at, at + int(10)) + out.slice(at);
    }
  }
  return out;
}

function randomString(): string {
  let s = '';
  const n = int(40);
  for (let i = 0; i < n; i++) s += rnd() < 0.5 ? PIECES[int(PIECES.length)] : String.fromCharCode(int(rnd() < 0.9 ? 128 : 65536));
  return s;
}

test(`fuzz: ${ITERATIONS} mutated statements and random strings raise only syntax errors`, () => {
  const corpus = [...validCorpus(), ...readCorpusFile('errors.sql')].map((e) => e.sql);
  let parsed = 0;
  const problems: string[] = [];
  for (let i = 0; i < ITERATIONS && problems.length < 10; i++) {
    const input = i % 4 === 3 ? randomString() : mutate(corpus[int(corpus.length)]!, corpus);
    let ast;
    try {
      ast = parse(input);
    } catch (err) {
      if (!(err instanceof TesseraError) || err.errno !== 1064 || err.sqlState !== '42000') {
        problems.push(`${JSON.stringify(input)}: ${String(err)}`);
      }
      continue;
    }
    parsed++;
    try {
      const text = format(ast);
      assert.deepEqual(stripSpans(parse(text)), stripSpans(ast));
    } catch (err) {
      problems.push(`${JSON.stringify(input)} parsed but did not round-trip: ${(err as Error).message.slice(0, 300)}`);
    }
  }
  assert.equal(problems.length, 0, problems.join('\n'));
  assert.ok(parsed > 0);
});

test('syntax errors carry MariaDB message shape, position and line', () => {
  const cases: readonly [string, string, number][] = [
    ['select 1 +', '', 1],
    ['select * from t where', '', 1],
    ['select * form t', 'form t', 1],
    ['select a,\nb from t\nwhere where', 'where', 3],
    ["select 'abc", "'abc", 1],
    ['selec 1', 'selec 1', 1],
    ['select 1\n\nfrom t t2 t3', 't3', 3],
  ];
  for (const [sql, near, line] of cases) {
    assert.throws(
      () => parse(sql),
      (err: unknown) => {
        assert.ok(err instanceof TesseraError);
        assert.equal(err.errno, 1064);
        assert.equal(err.sqlState, '42000');
        assert.equal(
          err.message,
          `You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near '${near}' at line ${line}`,
        );
        return true;
      },
      sql,
    );
  }
});

test('nesting deeper than the depth limit is a syntax error, not a stack overflow', () => {
  for (const sql of ['select ' + '('.repeat(5000) + '1' + ')'.repeat(5000), 'select ' + '-'.repeat(100_000) + '1', 'select ' + 'not '.repeat(50_000) + '1',
    'select * from t where a in ' + '(select a from t where a in '.repeat(1000) + '(1)' + ')'.repeat(1000)]) {
    assert.throws(() => parse(sql), (err: unknown) => err instanceof TesseraError && err.errno === 1064);
  }
  assert.doesNotThrow(() => parse('select ' + '('.repeat(100) + '1' + ')'.repeat(100)));
});
