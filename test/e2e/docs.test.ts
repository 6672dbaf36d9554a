// The user guides' commands, run as a reader would: every fenced block whose info string is
// `sh docs-test` in the guides of docs/guides/ (in GUIDES' order, blocks in file order) runs in
// bash with examples/local/env.sh sourced, against one cluster started for this test
// (`tessera up --detach` on free ports with the tutorial's commerce, then 201_customer_tablets.sh:
// customer/0 with a primary, a replica and an rdonly). A block must exit 0, or the code
// its info string names (`sh docs-test exit=1`); a block followed by a ```text docs-output block
// must print each non-blank line of it (as a substring, in any order). The tutorial's scripts the
// test and the guides run (201, 302, 306, partial/501…) start and stop their tablets on free ports here
// (TESSERA_TABLET_PORTS=free); 401_teardown.sh stops them at the end.
// A guide with runnable blocks that GUIDES does not name fails the test, so none is skipped.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Run } from '../harness/browser.js';
import { runnableBlocks } from '../harness/docs-blocks.js';
import { freePort, killByPath, testRoot, track } from '../harness/processes.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const TESSERA = path.join(REPO, 'bin', 'tessera');
const EXAMPLES = path.join(REPO, 'examples', 'local');
const GUIDES_DIR = path.join(REPO, 'docs', 'guides');

/** The guides with runnable blocks, in the order they run (each starts where the one before ended). */
const GUIDES = [
  'concepts.md', 'mariadb.md', 'movetables.md', 'reshard.md', 'vdiff.md', 'switchtraffic.md', 'buffering.md', 'partial-movetables.md', 'seed-commands.md', 'limits.md', 'troubleshooting.md',
];

const root = testRoot();
const dataRoot = path.join(root, 'docs-data');
const filesDir = path.join(root, 'docs-files');
let ctldPort = 0;
let gatePort = 0;
let gateHttpPort = 0;

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

describe('the user guides (docs/guides) run command by command against a local cluster', () => {
  before(async () => {
    track(() => killByPath(dataRoot));
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

  for (const guide of GUIDES) {
    test(`docs/guides/${guide}`, async () => {
      const blocks = runnableBlocks(fs.readFileSync(path.join(GUIDES_DIR, guide), 'utf8'));
      assert.ok(blocks.some((b) => b.hook === undefined), `${guide} has no runnable block`);
      for (const b of blocks) {
        const where = `docs/guides/${guide}:${b.line}`;
        assert.equal(b.hook, undefined, `${where}: a docs-test hook; the guides run the tutorial's scripts themselves now`);
        const r = await run('bash', ['-c', `set -eo pipefail\nsource examples/local/env.sh\n${b.code}`], guideEnv());
        const output = `${r.stdout}${r.stderr}`;
        assert.equal(r.code, b.exit, `${where} exited ${r.code}, not ${b.exit}:\n${b.code}\n--- output:\n${output}`);
        for (const line of b.expect) assert.ok(output.includes(line), `${where} did not print '${line}':\n${b.code}\n--- output:\n${output}`);
      }
    });
  }
});

/** The environment of a guide's block: env.sh's variables pointing at this test's cluster. */
function guideEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TESSERA_DATAROOT: dataRoot,
    TESSERA_CTLD_SERVER: `127.0.0.1:${ctldPort}`,
    TESSERA_GATE_PORT: String(gatePort),
    TESSERA_GATE_HTTP_PORT: String(gateHttpPort),
    TESSERA_TABLET_PORTS: 'free',
    TESSERA_LOG_LEVEL: 'warn',
  };
}
