// The chaos suite (test/chaos/runner.ts): the scenarios on one distributed cluster, the seed
// printed first. The short profile (the default, part of `scripts/test.sh`) runs
// TESSERA_CHAOS_SHORT_COUNT (default 4) scenarios the seed picks, once each, so that successive
// runs cover them all; TESSERA_CHAOS_PROFILE=long runs every scenario TESSERA_CHAOS_RUNS times
// (default 20), by hand. TESSERA_CHAOS_SEED=N replays a run's choices; TESSERA_CHAOS_SCENARIOS=etcd,ctld runs only
// the scenarios whose names contain one of those words (with the long profile, each
// TESSERA_CHAOS_RUNS times), e.g. VDiff, PlannedReparentShard, ReverseTraffic, durability
// (the MariaDB crash with `none` and with `semi_sync`), sysbench (the gate killed under the ledger
// and sysbench oltp_write_only). The result table (scenario, runs, acknowledged writes, writes
// lost, longest unavailability, runs with problems, sysbench transactions / errors) is printed and
// written to TESSERA_CHAOS_RESULTS (default test-output/chaos/results-<profile>.md).
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { resultTable, runOnce, SCENARIOS, sysbenchText, startChaosCluster, writeResults, type ChaosCluster, type RunResult, type Scenario } from './runner.js';
import { Rng } from './faults.js';

const PROFILE = process.env.TESSERA_CHAOS_PROFILE === 'long' ? 'long' : 'short';
const RUNS = PROFILE === 'long' ? Number(process.env.TESSERA_CHAOS_RUNS ?? 20) : 1;
const SEED = Number(process.env.TESSERA_CHAOS_SEED ?? Date.now() % 1_000_000_000);
const ONLY = (process.env.TESSERA_CHAOS_SCENARIOS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
const RESULTS = process.env.TESSERA_CHAOS_RESULTS ?? fileURLToPath(new URL(`../../../test-output/chaos/results-${PROFILE}.md`, import.meta.url));
const SHORT_COUNT = Number(process.env.TESSERA_CHAOS_SHORT_COUNT ?? 4);
const scenarios =
  ONLY.length > 0 ? SCENARIOS.filter((s) => ONLY.some((w) => s.name.includes(w))) : PROFILE === 'long' ? SCENARIOS : pickScenarios(SCENARIOS, SHORT_COUNT, new Rng(SEED));

/** `n` scenarios, chosen by the seed. */
function pickScenarios(all: readonly Scenario[], n: number, rng: Rng): Scenario[] {
  const left = [...all];
  const out: Scenario[] = [];
  while (out.length < n && left.length > 0) out.push(...left.splice(rng.int(0, left.length - 1), 1));
  return all.filter((s) => out.includes(s));
}

process.stdout.write(`# chaos seed ${SEED} (profile ${PROFILE}, ${RUNS} run(s) per scenario; replay: TESSERA_CHAOS_SEED=${SEED})\n`);
process.stdout.write(`# scenarios: ${scenarios.map((s) => s.name).join('; ')}\n`);

describe(`chaos (${PROFILE} profile, seed ${SEED})`, { timeout: 4 * 3_600_000 }, () => {
  let cc: ChaosCluster;
  const results: RunResult[] = [];

  before(async () => {
    cc = await startChaosCluster();
  });

  after(async () => {
    if (results.length) {
      const table = resultTable(results);
      process.stdout.write(`# chaos results (seed ${SEED}):\n${table.replace(/^/gm, '# ')}\n`);
      writeResults(RESULTS, SEED, PROFILE, results);
      process.stdout.write(`# written to ${RESULTS}\n`);
    }
    await cc?.proxy.close();
    await cc?.c.down();
  });

  scenarios.forEach((scenario) => {
    test(scenario.name, async () => {
      const mine: RunResult[] = [];
      const index = SCENARIOS.indexOf(scenario);
      for (let run = 0; run < RUNS; run++) {
        // The same seed for the same scenario and run, whichever others run along.
        const seed = SEED + index * 1_000 + run;
        const r = await runOnce(cc, scenario, seed, (l) => process.stdout.write(`# ${l}\n`));
        process.stdout.write(
          `# ${scenario.name} run ${run + 1}/${RUNS} seed ${seed}: ${r.acknowledged} acknowledged, ${r.lost} lost, ${r.failedWrites} failed, ` +
            `longest gap ${r.unavailableMs} ms, ${Math.round(r.durationMs / 1000)} s${r.sysbench ? `, ${sysbenchText(r.sysbench)}` : ''}${r.writeErrors.length ? `\n#   write errors: ${r.writeErrors.join(' / ').slice(0, 600)}` : ''}${r.problems.length ? `\n#   PROBLEMS: ${r.problems.join(' | ')}` : ''}\n`,
        );
        results.push(r);
        mine.push(r);
      }
      const bad = mine.filter((r) => r.problems.length > 0 || r.lost > 0);
      assert.deepEqual(
        bad.map((r) => ({ seed: r.seed, phase: r.phase, fault: r.fault, problems: r.problems })),
        [],
        `replay one with TESSERA_CHAOS_SEED and TESSERA_CHAOS_SCENARIOS; cluster logs:\n${bad.length ? cc.c.logTail(8) : ''}`,
      );
    });
  });
});
