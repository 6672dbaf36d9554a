// The measure as a script: MariaDB's regression tests through the gate and directly.
//
//   npx tsc -p tsconfig.json && node dist/test/mtr/run.js                 # test/mtr/list.txt
//   node dist/test/mtr/run.js --list test/mtr/long.txt                     # another list
//   node dist/test/mtr/run.js main.func_str main.subselect                 # these tests
//   node dist/test/mtr/run.js --gate-only main.func_str                    # skip the direct run
//
// Prints both pass counts and every test that passes directly but not through the gate, with the
// first lines of its difference. Exit code 1 when fewer than 95 % of the directly passing tests
// pass through the gate (tests in test/mtr/unproxyable.txt not counted).
import { compare, listFile, mtrAvailable, mtrVardir, readList, readUnproxyable, runMtr, startMtrCluster, type MtrRun } from './mtr.js';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  let list = listFile('list.txt');
  let gateOnly = false;
  const named: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--list') list = args[++i];
    else if (args[i] === '--gate-only') gateOnly = true;
    else named.push(args[i].includes('.') ? args[i] : `main.${args[i]}`);
  }
  if (!mtrAvailable()) {
    console.error('mariadb-test-run not found: install Debian\'s mariadb-test package (scripts/bootstrap.sh does)');
    return 2;
  }
  const tests = named.length ? named : readList(list);
  const unproxyable = readUnproxyable();
  console.log(`# ${tests.length} tests`);
  const c = await startMtrCluster();
  try {
    let direct: MtrRun | null = null;
    if (!gateOnly) {
      console.log(`# directly: MariaDB ${c.direct.socket}`);
      direct = await runMtr(c.direct, tests, mtrVardir('direct'), () => c.reset(), (l) => console.log('direct ' + l));
    }
    console.log(`# through the gate: ${c.gate.socket}`);
    const gate = await runMtr(c.gate, tests, mtrVardir('gate'), () => c.reset(), (l) => console.log('gate   ' + l));
    if (direct === null) {
      const failed = [...gate.results].filter(([, o]) => o === 'fail');
      for (const [n] of failed) console.log(`\n## ${n}\n${gate.reasons.get(n) ?? ''}`);
      console.log(`\ngate: ${[...gate.results.values()].filter((o) => o === 'pass').length} passed, ${failed.length} failed`);
      return 0;
    }
    const cmp = compare(direct, gate, unproxyable);
    for (const [n, o] of direct.results) if (o === 'fail') console.log(`\n## ${n}: fails directly (not counted)\n${direct.reasons.get(n) ?? ''}`);
    for (const n of cmp.lost) console.log(`\n## ${n}: passes directly, fails through the gate\n${gate.reasons.get(n) ?? '(no result line: see the gate run\'s output)'}`);
    for (const n of cmp.excused) console.log(`# ${n}: unproxyable (${unproxyable.get(n)})`);
    const counted = cmp.direct - cmp.excused.length;
    const pct = counted === 0 ? 100 : (100 * (cmp.gate)) / counted;
    console.log(`\ndirectly: ${cmp.direct} passed; through the gate: ${cmp.gate} of them passed (${pct.toFixed(1)} % of ${counted}, ${cmp.excused.length} unproxyable not counted)`);
    return pct >= 95 ? 0 : 1;
  } finally {
    await c.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(2);
  },
);
