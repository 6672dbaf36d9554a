// The hot-path check to run before and after any change to the query path (docs/DEVELOPING.md):
// gate-bench's targets with shorter rounds, then one table of ratios (gate / relay per mode and
// workload, Node CPU µs per query). Same arguments as gate-bench.
//
// Run: npx tsc -p tsconfig.json && node dist/bench/hot-path.js [seconds=5] [threads=16] [ps|noprep] [rounds=3] [all|point|sharded]
import { optionsFromArgs, report, runGateBench, summary } from './gate-bench.js';

const o = optionsFromArgs(process.argv.slice(2), { seconds: 5, rounds: 3, verbose: false });
const ms = await runGateBench(o);
console.log(report(ms));
console.log();
console.log(summary(o, ms));
