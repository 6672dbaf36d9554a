// Golden plan tests: each test/unit/gate/plans/*.json holds [{comment, query, plan}] where `plan` is
// the primitive tree's describe() (or {"error": "..."} for statements the gate refuses).
//   TESSERA_PLAN_WRITE=1   rewrite the files with the actual plans (review the diff)
//   TESSERA_PLAN_CASE=txt  run only cases whose query contains txt
// A case with "skip": true is one we know is wrong or missing: it fails once it passes, so the
// flag gets removed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { planStatement } from '../../../src/gate/index.js';
import { normalize, parse } from '../../../src/sql/index.js';
import { tutorialVSchema } from './fixtures.js';

interface Case {
  comment: string;
  query: string;
  /** Session target: default keyspace (customer), `ks:shard`, `ks@replica`. */
  target?: string;
  plan: unknown;
  skip?: boolean;
}

const here = path.dirname(fileURLToPath(import.meta.url));
// Tests run from dist/; the JSON lives beside the sources.
const dir = path.resolve(here, '../../../../test/unit/gate/plans');
const write = process.env.TESSERA_PLAN_WRITE === '1';
const only = process.env.TESSERA_PLAN_CASE;
const vschema = tutorialVSchema();

function actualPlan(c: Case): unknown {
  const t = c.target ?? 'customer';
  const m = /^([^:@]*)(?::([^@]+))?(?:@(\w+))?$/.exec(t)!;
  try {
    const stmt = normalize(parse(c.query)).statement;
    const plan = planStatement(vschema, { keyspace: m[1] || null, shard: m[2] ?? null, tabletType: (m[3] ?? 'primary') as 'primary' }, stmt, null);
    return JSON.parse(JSON.stringify(plan.primitive.describe()));
  } catch (err) {
    return { error: (err as Error).message };
  }
}

for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
  const cases = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Case[];
  test(`plans: ${file}`, () => {
    let changed = false;
    for (const c of cases) {
      if (only && !c.query.includes(only)) continue;
      const actual = actualPlan(c);
      if (write) {
        if (JSON.stringify(actual) !== JSON.stringify(c.plan)) {
          c.plan = actual;
          changed = true;
        }
        continue;
      }
      if (c.skip) {
        assert.notDeepEqual(actual, c.plan, `${file}: "${c.query}" passes now; remove its skip flag`);
        continue;
      }
      assert.deepEqual(actual, c.plan, `${file}: ${c.comment}\n${c.query}`);
    }
    if (changed) writeFileSync(path.join(dir, file), JSON.stringify(cases, null, 2) + '\n');
  });
}
