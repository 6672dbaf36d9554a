// The users' docs' commands, run as a reader would, against one cluster started for this test
// (`tessera up --detach` on free ports with the tutorial's commerce, then 201_customer_tablets.sh:
// customer/0 with a primary, a replica and an rdonly). Every fenced block whose info string is
// `sh docs-test` runs in bash with examples/local/env.sh sourced (cwd: the repository): first the
// guides of docs/guides/ in GUIDES' order (each starts where the one before ended), then the
// reference pages and README.md in REFERENCE's order, on the cluster the guides leave; blocks in
// file order. A block must exit 0, or the code its info string names (`sh docs-test exit=1`); a
// block followed by a ```text docs-output block must print each non-blank line of it (as a
// substring, in any order). The tutorial's scripts the test and the guides run (201, 302, 306,
// partial/501…) start and stop their tablets on free ports here (TESSERA_TABLET_PORTS=free);
// 401_teardown.sh stops them at the end. Examples that need what the tutorial has not try it on
// scratch keyspaces of that cluster, made, used and removed by blocks on their page: movetables.md's
// --atomic-copy (shop, shop2: tables tied by a foreign key), switchtraffic.md's --cells (a cell
// zone2; mail, mail2), vreplication.md's --initialize-target-sequences (store, sharded store2).
//
// Nothing is forgotten: every fenced block of README.md and docs/** whose info string is shell-ish
// (sh, bash, shell, console, or none) must be `sh docs-test` on a page GUIDES or REFERENCE names;
// `sh docs-test-elsewhere=<file>[,<file>]`, where each of its command lines must be a command line
// of one of those files (a guide's `sh docs-test` blocks, a script such as examples/local/…, a
// test's text), so that the claim is checked; or `sh docs-not-run`, listed in NOT_RUN with why.
// Blocks that hold no commands (output, formats) are `text`. PENDING names the pages not run yet.
//
// Blocks marked `sh docs-test own` build what they need from nothing and stop it (docs/ctl.md: a
// ctld and tablets 100-102; docs/topo.md: an etcd and ctlds; docs/ui.md: a ctld; docs/tablet.md and
// docs/vreplication.md: a tablet started by hand). They run last, page by page (OWN_CLUSTER), in
// their own section: TESSERA_DATAROOT, TESSERA_CTLD_SERVER, CTLD_HTTP, TABLET_HTTP_PORT,
// TABLET_GRPC_PORT, TABLET_MYSQL_PORT, ETCD_PORT and ETCD_PEER_PORT (the page's first such block
// defaults them to the documented /tmp/tessera-<page>, localhost:15999, 15000, …) point at a
// directory of the test root and free ports, TESSERA_TABLET_PORTS=free; the page's last such block
// stops what it started and the test fails if any process under that directory is left.
// TESSERA_DOCS_ONLY=own-cluster runs only that section, to iterate on such a page. A page's other
// blocks run with the guides' cluster as above (docs/gate.md's second gate takes GATE2_PORT and
// GATE2_HTTP_PORT, free ports, beside that cluster's gate).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Run } from '../harness/browser.js';
import type { Block } from '../harness/docs-blocks.js';
import { commandLines, elsewhereFiles, fenceKind, fences, runnableBlocks } from '../harness/docs-blocks.js';
import { freePort, killByPath, processesUnder, testRoot, track } from '../harness/processes.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const TESSERA = path.join(REPO, 'bin', 'tessera');
const EXAMPLES = path.join(REPO, 'examples', 'local');
const GUIDES_DIR = path.join(REPO, 'docs', 'guides');

/** The guides with runnable blocks, in the order they run (each starts where the one before ended). */
const GUIDES = [
  'concepts.md', 'mariadb.md', 'movetables.md', 'reshard.md', 'vdiff.md', 'switchtraffic.md', 'buffering.md', 'partial-movetables.md', 'seed-commands.md', 'limits.md', 'troubleshooting.md',
];

/**
 * The reference pages with runnable blocks, run after the guides in this order, on the cluster
 * the guides leave (each block's state comes from a block before it on the page or in a guide).
 */
const REFERENCE = ['docs/vreplication.md', 'docs/vdiff.md', 'docs/tablet.md', 'docs/ui.md', 'docs/gate.md', 'docs/binlog.md', 'README.md', 'docs/vindexes.md'];

/**
 * The blocks (`sh docs-not-run`) neither this test nor another runs, each with why: the page and
 * the block's last command line. A block marked so and not listed here, or listed and not marked
 * so, fails the test: keep this list short.
 */
const NOT_RUN: ReadonlyArray<{ page: string; last: string; why: string }> = [
  { page: 'README.md', last: 'bash scripts/up.sh', why: 'installs Debian packages with apt-get and builds; the tessera up --detach it ends with is what test/e2e/local-cluster.test.ts runs' },
  { page: 'README.md', last: 'node bin/tessera down', why: "the quick start on tessera up's default ports (15306, 15999), which this test's cluster cannot take; test/e2e/local-cluster.test.ts runs the same steps (up, mariadb through the gate on 15306, status, down)" },
  // Developers' commands: the build, test suites, benchmarks (each starts its own servers and takes minutes to hours).
  { page: 'docs/DEVELOPING.md', last: 'TESSERA_LOG_LEVEL=warn node --test --test-timeout=1800000 dist/test/e2e/docs.test.js', why: 'runs this test' },
  { page: 'docs/DEVELOPING.md', last: 'TESSERA_CHAOS_PROFILE=long node --test --test-timeout=0 dist/test/chaos/chaos.test.js', why: 'the chaos suite: its short profile is part of scripts/test.sh; the long one takes hours' },
  { page: 'docs/DEVELOPING.md', last: 'node --test dist/test/e2e/mtr.test.js', why: "MariaDB's regression suite through the gate (scripts/test.sh runs test/e2e/mtr.test.js); minutes" },
  { page: 'docs/sql.md', last: 'node dist/test/corpus/build-corpus.js --refused /tmp/refused.jsonl --out /tmp/corpus.jsonl --families 60', why: "parses MariaDB's whole test suite: minutes" },
  { page: 'docs/gate.md', last: 'node dist/bench/collation-bench.js', why: 'regenerates the collation tables from a MariaDB of its own, then a benchmark' },
  { page: 'docs/hot-path.md', last: 'node dist/bench/rpc-execute-bench.js', why: 'the gate benchmarks (gate-bench, hot-path): minutes, with clusters of their own; the RPC one ends the block' },
  { page: 'docs/hot-path.md', last: 'node dist/bench/profile-summary.js /tmp/prof/gate-combined-oltp_point_select.cpuprofile 30', why: 'a profiled benchmark run' },
  { page: 'docs/vreplication.md', last: 'TESSERA_TEST_SEED=42 node --test dist/test/integration/vreplication/resume.test.js', why: 'replays one seed of an integration test that scripts/test.sh runs' },
  { page: 'docs/vreplication.md', last: 'TESSERA_LOG_LEVEL=warn BENCH_ROWS=100000 node dist/bench/copy-bench.js', why: 'the copy benchmark: 1,000,000 rows' },
  { page: 'docs/vreplication.md', last: 'TESSERA_LOG_LEVEL=warn BENCH_ROWS=100000 node dist/bench/reshard-bench.js', why: 'the Reshard benchmark: 1,000,000 rows' },
  { page: 'docs/vreplication.md', last: 'TESSERA_LOG_LEVEL=warn BENCH_ROWS=200000 node dist/bench/catchup-cpu-bench.js 5', why: 'the catch-up CPU benchmark: a MariaDB of its own, a minute' },
  { page: 'docs/vreplication.md', last: 'TESSERA_LOG_LEVEL=warn BENCH_ROWS=200000 BENCH_TARGETS=2 node dist/bench/reshard-source-bench.js 5', why: "the Reshard source side's CPU benchmark: a MariaDB of its own, a minute" },
  { page: 'docs/vreplication.md', last: 'TESSERA_LOG_LEVEL=warn node dist/bench/switch-bench.js 10', why: 'the SwitchTraffic benchmark: minutes' },
  { page: 'docs/guides/reshard.md', last: 'npx tsc -p tsconfig.json && BENCH_ROWS=200000 node dist/bench/reshard-bench.js', why: 'the Reshard benchmark: 200,000 rows' },
  { page: 'docs/vdiff.md', last: 'npx tsc -p tsconfig.json && BENCH_ROWS=1000000 TESSERA_LOG_LEVEL=warn node dist/bench/vdiff-bench.js', why: 'the VDiff benchmark: 1,000,000 rows' },
];

/**
 * Pages whose shell blocks are not run yet, each with why: issue 22's remaining work. Their unmarked
 * shell blocks are listed (as a diagnostic) instead of failing the test; a page listed here that has
 * none left fails it, so the entry goes once the page runs.
 */
const PENDING: Readonly<Record<string, string>> = {};

/**
 * Pages with blocks (`sh docs-test own`) that build what they need from nothing (an etcd, a ctld,
 * tablets), run after the others in their own section, each page with TESSERA_DATAROOT set to a
 * directory of its own and the ports OWN_PORTS names free (the page's defaults are the documented
 * ones) and TESSERA_TABLET_PORTS=free; the page's last such block stops what it started, and the
 * test checks that nothing is left running.
 */
const OWN_CLUSTER = ['docs/ctl.md', 'docs/topo.md', 'docs/ui.md', 'docs/tablet.md', 'docs/vreplication.md'];

/** The port variables an `own` block's page defaults (`${CTLD_HTTP:-15000}`) and the test sets to free ports. */
const OWN_PORTS = ['CTLD_HTTP', 'TABLET_HTTP_PORT', 'TABLET_GRPC_PORT', 'TABLET_MYSQL_PORT', 'ETCD_PORT', 'ETCD_PEER_PORT'];

/** TESSERA_DOCS_ONLY=own-cluster runs only the OWN_CLUSTER pages' section (to iterate on them: a minute, not six). */
const ONLY_OWN = process.env.TESSERA_DOCS_ONLY === 'own-cluster';

/** Every Markdown page of the users' docs: README.md and docs/**. */
function docPages(): string[] {
  const out = ['README.md'];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(path.join(REPO, dir), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.isDirectory()) walk(path.join(dir, e.name));
      else if (e.name.endsWith('.md')) out.push(path.join(dir, e.name));
    }
  };
  walk('docs');
  return out;
}

const root = testRoot();
const dataRoot = path.join(root, 'docs-data');
const filesDir = path.join(root, 'docs-files');
let ctldPort = 0;
let gatePort = 0;
let gateHttpPort = 0;
/** docs/gate.md's second gate, beside the cluster's: GATE2_PORT and GATE2_HTTP_PORT. */
let gate2Port = 0;
let gate2HttpPort = 0;

function run(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: REPO, env, maxBuffer: 32 << 20, timeout: 600_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

async function writeClusterFile(): Promise<string> {
  fs.mkdirSync(filesDir, { recursive: true });
  for (const f of fs.readdirSync(EXAMPLES)) if (/\.(sql|json)$/.test(f)) fs.copyFileSync(path.join(EXAMPLES, f), path.join(filesDir, f));
  gatePort = await freePort();
  gateHttpPort = await freePort();
  ctldPort = await freePort();
  const ctldGrpc = await freePort();
  const tablet = async (uid: number, type: string): Promise<string> =>
    `          - { uid: ${uid}, type: ${type}, mysqlPort: ${await freePort()}, port: ${await freePort()}, grpcPort: ${await freePort()} }`;
  const text = `# Written by test/e2e/docs.test.ts: the tutorial's 101 on free ports (then 201_customer_tablets.sh runs).
cell: zone1
mode: combined
gate: { port: ${gatePort}, httpPort: ${gateHttpPort}, enablePartialKeyspaceMigration: true }
ctld: { port: ${ctldPort}, grpcPort: ${ctldGrpc} }
keyspaces:
  commerce:
    durabilityPolicy: none
    vschema: vschema_commerce_initial.json
    schema: [create_commerce_schema.sql, create_commerce_seq.sql]
    data: insert_commerce_data.sql
    shards:
      "0":
        tablets:
${await tablet(100, 'primary')}
${await tablet(101, 'replica')}
${await tablet(102, 'rdonly')}
`;
  const file = path.join(filesDir, 'cluster.yaml');
  fs.writeFileSync(file, text);
  return file;
}

describe('the users\' docs (docs/guides, then docs/ and README.md) run command by command against a local cluster', { skip: ONLY_OWN && 'TESSERA_DOCS_ONLY=own-cluster' }, () => {
  before(async () => {
    track(() => killByPath(dataRoot));
    gate2Port = await freePort();
    gate2HttpPort = await freePort();
    const up = await run(process.execPath, [TESSERA, 'up', '--detach', await writeClusterFile(), '--data-root', dataRoot]);
    assert.equal(up.code, 0, `tessera up failed:\n${up.stdout}\n${up.stderr}`);
    // Keyspace customer, shard 0, as the tutorial makes it: tablets 200-202, each its own process.
    const customer = await run('bash', ['examples/local/201_customer_tablets.sh'], guideEnv());
    assert.equal(customer.code, 0, `201_customer_tablets.sh failed:\n${customer.stdout}\n${customer.stderr}`);
  });

  after(async () => {
    // The tablets the tutorial's scripts started, their MariaDBs, then the cluster.
    const down = await run('bash', ['examples/local/401_teardown.sh'], guideEnv());
    killByPath(dataRoot);
    assert.equal(down.code, 0, `401_teardown.sh failed:\n${down.stdout}\n${down.stderr}`);
  });

  test('every guide with runnable blocks is run', () => {
    const withBlocks = fs.readdirSync(GUIDES_DIR).filter((f) => f.endsWith('.md') && runnableBlocks(fs.readFileSync(path.join(GUIDES_DIR, f), 'utf8')).length > 0);
    assert.deepEqual(withBlocks.sort(), [...GUIDES].sort());
  });

  test('every shell block of README.md and docs/ is run here, run elsewhere, or listed as not run', (t) => {
    const problems: string[] = [];
    const pending = new Map<string, number>();
    const notRun: string[] = [];
    const pages = [...GUIDES.map((g) => `docs/guides/${g}`), ...REFERENCE];
    for (const page of docPages()) {
      for (const f of fences(fs.readFileSync(path.join(REPO, page), 'utf8'))) {
        const where = `${page}:${f.line}`;
        const kind = fenceKind(f);
        if (kind === 'unaccounted' && PENDING[page] !== undefined) pending.set(page, (pending.get(page) ?? 0) + 1);
        else if (kind === 'unaccounted') problems.push(`${where}: \`\`\`${f.info} — mark it sh docs-test (run here), sh docs-test-elsewhere=<test> or sh docs-not-run (and list it in NOT_RUN), or text if it holds no commands`);
        if (kind === 'run' && /\sown\b/.test(f.info) && !OWN_CLUSTER.includes(page)) problems.push(`${where}: an own block on a page OWN_CLUSTER does not name`);
        if (kind === 'run' && !/\sown\b/.test(f.info) && !pages.includes(page)) problems.push(`${where}: a runnable block on a page neither GUIDES nor REFERENCE names`);
        if (kind === 'not-run') notRun.push(`${page}: ${commandLines(f.code).at(-1)}`);
        if (kind === 'elsewhere') {
          const files = elsewhereFiles(f);
          const texts = files.map(commandsOf);
          files.forEach((file, i) => { if (texts[i] === '') problems.push(`${where}: ${file} does not exist (or is empty)`); });
          for (const line of commandLines(f.code)) {
            if (!texts.some((t) => t.includes(line))) problems.push(`${where}: none of ${files.join(', ')} runs '${line}'`);
          }
        }
      }
    }
    for (const page of Object.keys(PENDING)) {
      if (!pending.has(page)) problems.push(`${page}: in PENDING, but every shell block of it is accounted for: take it out of PENDING`);
      else t.diagnostic(`not run yet: ${pending.get(page)} shell blocks of ${page} (${PENDING[page]})`);
    }
    assert.deepEqual(problems, []);
    assert.deepEqual(notRun.sort(), NOT_RUN.map((n) => `${n.page}: ${n.last}`).sort(), 'the sh docs-not-run blocks are not those NOT_RUN lists');
  });

  // Each page starts where the one before ended, so once a block fails the pages after it would
  // fail for its sake, each after its own waits (a CI run spent 20 minutes so, and its log's tail
  // showed only the last of eleven failures): they fail at once, repeating the first failure.
  let firstFailure: string | null = null;
  const runPage = async (page: string, blocks: Block[]): Promise<void> => {
    if (firstFailure !== null) assert.fail(`not run: an earlier page failed, and this one would run on the state it left. The first failure:\n${firstFailure}`);
    try {
      for (const b of blocks) await runBlock(`${page}:${b.line}`, b);
    } catch (err) {
      firstFailure = `${(err as Error).message}\n--- the cluster then:\n${await clusterState()}`;
      throw new Error(firstFailure);
    }
  };

  for (const guide of GUIDES) {
    test(`docs/guides/${guide}`, async () => {
      const blocks = runnableBlocks(fs.readFileSync(path.join(GUIDES_DIR, guide), 'utf8')).filter((b) => !b.own);
      assert.ok(blocks.some((b) => b.hook === undefined), `${guide} has no runnable block`);
      await runPage(`docs/guides/${guide}`, blocks);
    });
  }

  for (const page of REFERENCE) {
    test(page, async () => {
      const blocks = runnableBlocks(fs.readFileSync(path.join(REPO, page), 'utf8')).filter((b) => !b.own);
      assert.ok(blocks.length > 0, `${page} has no runnable block`);
      await runPage(page, blocks);
    });
  }
});

describe('the docs blocks that build what they need from nothing (an etcd, a ctld, tablets) run command by command', () => {
  for (const page of OWN_CLUSTER) {
    test(page, async () => {
      const own = path.join(root, `own-${path.basename(page, '.md')}`);
      track(() => killByPath(own));
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        TESSERA_DATAROOT: own,
        TESSERA_CTLD_SERVER: `localhost:${await freePort()}`,
        TESSERA_TABLET_PORTS: 'free',
        TESSERA_LOG_LEVEL: 'warn',
      };
      for (const v of OWN_PORTS) env[v] = String(await freePort());
      try {
        const blocks = runnableBlocks(fs.readFileSync(path.join(REPO, page), 'utf8')).filter((b) => b.own);
        assert.ok(blocks.length > 0, `${page} has no own block`);
        for (const b of blocks) await runBlock(`${page}:${b.line}`, b, env);
        const left = processesUnder(own);
        assert.deepEqual(left.map((p) => p.cmd), [], `${page}'s last block left these running`);
      } finally {
        killByPath(own);
      }
    });
  }
});

/**
 * The command lines a file that a `docs-test-elsewhere` block names runs, one a line: a page's
 * `sh docs-test` blocks (run by this test), a script's lines, a test's text with its whitespace
 * runs collapsed; '' if there is no such file.
 */
function commandsOf(file: string): string {
  const full = path.join(REPO, file);
  if (!fs.existsSync(full)) return '';
  const text = fs.readFileSync(full, 'utf8');
  if (file.endsWith('.md')) return runnableBlocks(text).flatMap((b) => commandLines(b.code)).join('\n');
  if (file.endsWith('.ts')) return text.replace(/[ \t]+/g, ' ');
  return commandLines(text).join('\n');
}

/** Runs one block as a reader would, in bash with env.sh sourced, and checks its exit and output. */
async function runBlock(where: string, b: Block, env: NodeJS.ProcessEnv = guideEnv()): Promise<void> {
  assert.equal(b.hook, undefined, `${where}: a docs-test hook; the docs run the tutorial's scripts themselves`);
  const r = await run('bash', ['-c', `set -eo pipefail\nsource examples/local/env.sh\n${b.code}`], env);
  const output = `${r.stdout}${r.stderr}`;
  assert.equal(r.code, b.exit, `${where} exited ${r.code}, not ${b.exit}:\n${b.code}\n--- output:\n${output}`);
  for (const line of b.expect) assert.ok(output.includes(line), `${where} did not print '${line}':\n${b.code}\n--- output:\n${output}`);
}

/**
 * What a failed block's message needs to be understood from a CI log alone: the tablets as the
 * topology has them, and the last warnings and errors of each process's log under the data root.
 */
async function clusterState(): Promise<string> {
  const tablets = await run('bash', ['-c', 'source examples/local/env.sh\nctl GetTablets'], guideEnv());
  const out = [`ctl GetTablets (exit ${tablets.code}):`, `${tablets.stdout}${tablets.stderr}`.trim()];
  const logs: string[] = [];
  const walk = (dir: string, depth: number): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory() && depth < 3) walk(full, depth + 1);
      else if (e.isFile() && e.name.endsWith('.log')) logs.push(full);
    }
  };
  walk(dataRoot, 0);
  for (const file of logs.sort()) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const bad = text.split('\n').filter((l) => /"level":(40|50|60)|\b(ERROR|Error|error)\b/.test(l)).slice(-6);
    if (bad.length > 0) out.push(`${path.relative(dataRoot, file)}:`, ...bad.map((l) => `  ${l.slice(0, 400)}`));
  }
  return out.join('\n');
}

/** The environment of a guide's block: env.sh's variables pointing at this test's cluster. */
function guideEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TESSERA_DATAROOT: dataRoot,
    TESSERA_CTLD_SERVER: `127.0.0.1:${ctldPort}`,
    TESSERA_GATE_PORT: String(gatePort),
    TESSERA_GATE_HTTP_PORT: String(gateHttpPort),
    GATE2_PORT: String(gate2Port),
    GATE2_HTTP_PORT: String(gate2HttpPort),
    TESSERA_TABLET_PORTS: 'free',
    TESSERA_LOG_LEVEL: 'warn',
  };
}
