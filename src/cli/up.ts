// `tessera up`, `tessera down`, `tessera status`: the local cluster from a cluster file.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { ER, TesseraError } from '../mysql/errors.js';
import { resolveDataRoot, processAlive, waitForExit } from '../mysqlctl/index.js';
import { openTopoServer } from '../topo/index.js';
import { clusterStatus, clusterStatusJson, formatStatusTable, LocalCluster, loadClusterFile, readUpState } from '../cluster/index.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DEFAULT_CLUSTER_FILE = path.resolve(HERE, '../../../examples/local/cluster.yaml');
const BIN = path.resolve(HERE, '../../../bin/tessera');

/** How long `down` waits for the cluster to stop, and `up --detach` for it to be ready. */
const DOWN_TIMEOUT_MS = 120_000;
const DETACH_READY_TIMEOUT_MS = 300_000;

function connectHelp(gatePort: number, ctldPort: number, keyspace: string): string {
  return (
    `\nThe cluster is up.\n` +
    `  connect:   mariadb -h 127.0.0.1 -P ${gatePort} -u user ${keyspace}\n` +
    `  web UI:    http://127.0.0.1:${ctldPort}/\n` +
    `  admin:     node bin/tessera ctl --server localhost:${ctldPort} GetKeyspaces\n` +
    `  status:    node bin/tessera status\n` +
    `  stop:      node bin/tessera down   (or Ctrl-C; the data is kept for the next up)\n`
  );
}

export function registerUp(program: Command): void {
  program
    .command('up')
    .description('bring up a local cluster from a cluster file (default: examples/local/cluster.yaml, the tutorial\'s start) and print how to connect')
    .argument('[cluster-file]', 'cluster file (YAML)', DEFAULT_CLUSTER_FILE)
    .option('--data-root <dir>', 'where MariaDB data, topology and logs live (default: $TESSERA_DATAROOT, $VTDATAROOT, ./tessera-data)')
    .option('--clean', 'remove the data of an earlier run first')
    .option('--detach', 'run in the background: return once the cluster is ready (stop it with `tessera down`)')
    .option('--mode <mode>', "combined or distributed, over the cluster file's mode (the tutorial: TESSERA_MODE=distributed)")
    .action(async (file: string, f: { dataRoot?: string; clean?: boolean; detach?: boolean; mode?: string }) => {
      if (f.mode !== undefined && f.mode !== 'combined' && f.mode !== 'distributed') {
        throw new TesseraError(ER.WRONG_ARGUMENTS, `--mode ${f.mode}: combined or distributed`);
      }
      const spec = loadClusterFile(file, { mode: f.mode as 'combined' | 'distributed' | undefined }); // refuses a bad file before anything starts
      const dataRoot = resolveDataRoot(f.dataRoot);
      const running = readUpState(dataRoot);
      if (running && processAlive(running.pid)) {
        throw new TesseraError(ER.UNKNOWN_ERROR, `a cluster is already running from ${dataRoot} (pid ${running.pid}); stop it with \`tessera down\` first`);
      }
      const firstKeyspace = spec.keyspaces[0].name;
      if (f.detach) {
        fs.mkdirSync(dataRoot, { recursive: true });
        const logFile = path.join(dataRoot, 'up.log');
        const fd = fs.openSync(logFile, 'a');
        const args = [BIN, 'up', spec.file, '--data-root', dataRoot, ...(f.clean ? ['--clean'] : []), ...(f.mode ? ['--mode', f.mode] : [])];
        const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', fd, fd] });
        child.unref();
        fs.closeSync(fd);
        process.stdout.write(`Starting in the background (log: ${logFile})...\n`);
        const deadline = Date.now() + DETACH_READY_TIMEOUT_MS;
        let shown = 0;
        for (;;) {
          const text = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
          const lines = text.split('\n');
          for (; shown < lines.length - 1; shown++) if (/^(Starting|failed|  (ctld|etcd|tablet|primary|schema|gate|data|warning)\b)/.test(lines[shown])) process.stdout.write(`${lines[shown]}\n`);
          const st = readUpState(dataRoot);
          if (st?.ready && st.pid === child.pid) break;
          if (child.pid && !processAlive(child.pid)) throw new TesseraError(ER.UNKNOWN_ERROR, `the cluster failed to start; see ${logFile}`);
          if (Date.now() > deadline) throw new TesseraError(ER.UNKNOWN_ERROR, `the cluster did not become ready in ${DETACH_READY_TIMEOUT_MS} ms; see ${logFile}`);
          await new Promise((r) => setTimeout(r, 200));
        }
        process.stdout.write(connectHelp(spec.gate.port, spec.ctld.port, firstKeyspace));
        return;
      }
      const cluster = LocalCluster.create(spec, { dataRoot, clean: f.clean === true, out: (l) => process.stdout.write(`${l}\n`) });
      // Ctrl-C or `tessera down` stops the cluster, also while it is still starting.
      const signalled = new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      const stop = async (code: number) => {
        process.stdout.write('Stopping the cluster...\n');
        await cluster.down();
        process.stdout.write('Stopped. The data is kept; `tessera up` starts it again, `tessera up --clean` starts afresh.\n');
        process.exit(code);
      };
      let stopping = false;
      signalled.then(() => {
        stopping = true;
        return stop(0);
      });
      try {
        await cluster.start();
      } catch (err) {
        // Interrupted by the signal: `stop` reports and exits.
        if (stopping) return new Promise<void>(() => undefined);
        throw err;
      }
      process.stdout.write(connectHelp(spec.gate.port, spec.ctld.port, firstKeyspace));
      await signalled;
    });

  program
    .command('down')
    .description('stop the local cluster started by `tessera up` (its data is kept)')
    .option('--data-root <dir>', 'data root of the cluster (default: $TESSERA_DATAROOT, $VTDATAROOT, ./tessera-data)')
    .action(async (f: { dataRoot?: string }) => {
      const dataRoot = resolveDataRoot(f.dataRoot);
      const st = readUpState(dataRoot);
      if (!st || !processAlive(st.pid)) {
        process.stdout.write(`No cluster is running from ${dataRoot}.\n`);
        return;
      }
      process.kill(st.pid, 'SIGTERM');
      if (!(await waitForExit(st.pid, DOWN_TIMEOUT_MS))) {
        throw new TesseraError(ER.UNKNOWN_ERROR, `the cluster (pid ${st.pid}) did not stop within ${DOWN_TIMEOUT_MS} ms`);
      }
      process.stdout.write('Stopped.\n');
    });

  program
    .command('status')
    .description('print keyspaces, shards and tablets of the local cluster with type, serving state, health and lag')
    .option('--data-root <dir>', 'data root of the cluster (default: $TESSERA_DATAROOT, $VTDATAROOT, ./tessera-data)')
    .option('--format <fmt>', 'table, or json: the cluster, every process (role, keyspace, shard, pid, ports) and every tablet', 'table')
    .action(async (f: { dataRoot?: string; format: string }) => {
      const dataRoot = resolveDataRoot(f.dataRoot);
      const st = readUpState(dataRoot);
      if (!st) throw new TesseraError(ER.UNKNOWN_ERROR, `no cluster has been started from ${dataRoot}; run \`tessera up\``);
      const topo = openTopoServer({ topoImplementation: st.topo.implementation, topoGlobalServerAddress: st.topo.address, topoGlobalRoot: st.topo.root });
      try {
        if (f.format !== 'json' && f.format !== 'table') throw new TesseraError(ER.WRONG_ARGUMENTS, `--format ${f.format}: table or json`);
        if (f.format === 'json') process.stdout.write(`${JSON.stringify(await clusterStatusJson(st, topo, dataRoot), null, 2)}\n`);
        else {
          const rows = await clusterStatus(topo, st.cell);
          const alive = processAlive(st.pid) ? `running (pid ${st.pid}, ${st.mode} mode)` : 'not running';
          const gates = (st.gates ?? [{ port: st.gatePort }]).map((g) => `127.0.0.1:${g.port}`).join(', ');
          process.stdout.write(`cluster: ${alive}; gate ${gates}; ctld http://127.0.0.1:${st.ctldPort}/\n\n${formatStatusTable(rows)}`);
        }
      } finally {
        await topo.close();
      }
    });
}
