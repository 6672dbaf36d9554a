// Runs the statements taken from MariaDB's test suite through our parser: which it accepts (and
// whether each accepted one round-trips: parse(format(ast)) is the same tree), and the families
// (leading keywords) of those it refuses, by count.
import { format, keywordId, leadingWords, parse, splitStatements, type Statement } from '../../src/sql/index.js';
import type { SuiteStatement } from './mysqltest.js';

export interface Refusal {
  readonly stmt: SuiteStatement;
  readonly message: string;
}

export interface CorpusResult {
  /** Distinct statements MariaDB accepts (not marked `--error`, not Oracle mode). */
  readonly accepted: number;
  /** Of those, how many our parser parses. */
  readonly parsed: number;
  readonly refused: Refusal[];
  /** Parsed but the formatted text does not reparse to the same tree. */
  readonly roundTrip: Refusal[];
  /** Distinct statements left out: marked `--error`, Oracle mode, sent in sjis/cp932/big5/gbk. */
  readonly leftOut: { readonly rejected: number; readonly oracle: number; readonly multibyte: number };
  /** Accepted as server statements known by their leading words only (src/sql/opaque.ts). */
  readonly byLeadingWords: number;
}

/** The statements to measure: MariaDB accepts them (default sql_mode), each distinct text once. */
export function acceptedStatements(all: readonly SuiteStatement[]): { accepted: SuiteStatement[]; rejected: number; oracle: number; multibyte: number } {
  const seen = new Set<string>();
  const accepted: SuiteStatement[] = [];
  let rejected = 0;
  let oracle = 0;
  let multibyte = 0;
  for (const s of all) {
    if (seen.has(s.sql)) continue;
    seen.add(s.sql);
    if (s.rejected) rejected++;
    else if (s.oracle) oracle++;
    else if (s.multibyte) multibyte++;
    else accepted.push(s);
  }
  return { accepted, rejected, oracle, multibyte };
}

/** Fields holding the statement's text as written (what the shards get), by node kind. */
const SOURCE_TEXT: Readonly<Record<string, string>> = {
  StoredProgram: 'text', Compound: 'text', Simple: 'text', Control: 'text', SetStatementFor: 'statementText', ExecuteImmediate: 'sql',
};

/** Deep copy without source spans and source text, for comparing trees parsed from different texts. */
export function stripSource(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripSource);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    const textKey = SOURCE_TEXT[(v as { kind?: string }).kind ?? ''];
    for (const [k, x] of Object.entries(v)) if (k !== 'start' && k !== 'end' && k !== textKey) out[k] = stripSource(x);
    return out;
  }
  return v;
}

export function measure(all: readonly SuiteStatement[]): CorpusResult {
  const { accepted, rejected, oracle, multibyte } = acceptedStatements(all);
  let byLeadingWords = 0;
  const refused: Refusal[] = [];
  const roundTrip: Refusal[] = [];
  let parsed = 0;
  for (const stmt of accepted) {
    // mysqltest sends with CLIENT_MULTI_STATEMENTS, so a text may hold several statements
    // (`select 1; select 2`); the gate splits such a text (splitStatements) and parses each part,
    // and so does this measure: the text counts once, as parsed when every part parses.
    const asts: Statement[] = [];
    try {
      const parts = stmt.sql.includes(';') ? splitStatements(stmt.sql) : [stmt.sql];
      for (const part of parts.length > 1 ? parts : [stmt.sql]) asts.push(parse(part));
    } catch (err) {
      refused.push({ stmt, message: (err as Error).message });
      continue;
    }
    parsed++;
    for (const ast of asts) {
      if (ast.kind === 'ServerStatement') byLeadingWords++;
      let text = '';
      try {
        text = format(ast);
        const again = parse(text);
        if (JSON.stringify(stripSource(again)) !== JSON.stringify(stripSource(ast))) roundTrip.push({ stmt, message: `formats to: ${text}` });
      } catch (err) {
        roundTrip.push({ stmt, message: `formats to: ${text}: ${(err as Error).message}` });
      }
    }
  }
  return { accepted: accepted.length, parsed, refused, roundTrip, leftOut: { rejected, oracle, multibyte }, byLeadingWords };
}

/** Leading keywords naming a statement's family: up to three (four after CREATE OR), stopping at a name. */
export function family(sql: string): string {
  const w = leadingWords(sql, 4);
  if (w.length === 0) return sql.trimStart().slice(0, 12) || '(empty)';
  const n = w[0] === 'CREATE' && w[1] === 'OR' ? 4 : 3;
  const out = [w[0]!];
  for (let i = 1; i < n && i < w.length && keywordId(w[i]!) !== 0; i++) out.push(w[i]!);
  return out.join(' ');
}

/** Families by count, most frequent first. */
export function families(refusals: readonly Refusal[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const r of refusals) {
    const f = family(r.stmt.sql);
    counts.set(f, (counts.get(f) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

export function report(r: CorpusResult, familiesMax = 40): string {
  const pct = r.accepted ? (100 * r.parsed) / r.accepted : 0;
  const lines = [
    `MariaDB test-suite corpus: ${r.accepted} distinct statements MariaDB accepts (left out: ${r.leftOut.rejected} marked --error, ${r.leftOut.oracle} in sql_mode=ORACLE, ${r.leftOut.multibyte} sent in sjis/cp932/big5/gbk)`,
    `parser accepts ${r.parsed} = ${pct.toFixed(2)} % (${r.byLeadingWords} of them server statements known by their leading words only); refuses ${r.refused.length}; round-trip failures ${r.roundTrip.length}`,
    `refused families (leading words, count):`,
    ...families(r.refused).slice(0, familiesMax).map(([f, c]) => `  ${String(c).padStart(6)}  ${f}`),
  ];
  return lines.join('\n');
}
