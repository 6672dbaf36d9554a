// `tessera worker`: the seeds' vtworker. It runs on the topology directly (the seed passes
// $TOPOLOGY_FLAGS), reaches tablets over RPC like ctld, and runs one job in the foreground:
//
//   tessera worker $TOPOLOGY_FLAGS -cell zone1 SplitClone -min_healthy_rdonly_tablets=1 customer/0
//
// SplitClone starts (or resumes) the Reshard workflow `SplitClone` (src/workflow/split-clone.ts)
// and prints progress until the copy is done and filtered replication runs; SplitDiff runs a VDiff
// of that workflow and prints its summary for one destination shard. vtworker's own flags
// (-cell, -log_dir, -alsologtostderr, -use_v3_resharding_mode) are accepted; the ones that have no
// effect here say so.
import { Command } from 'commander';
import type { CtldContext } from '../ctld/command.js';
import { WORKFLOW_COMMANDS } from '../ctld/workflow-commands.js';
import { ER, TesseraError } from '../mysql/errors.js';
import { RpcTabletManagerClient } from '../tablet/index.js';
import { addTopoFlags, openTopoServer, type JsonObject, type TopoFlags } from '../topo/index.js';
import { workflowCalls } from '../ctld/workflow-commands.js';
import { SPLIT_CLONE_DEFAULTS, SPLIT_CLONE_WORKFLOW, splitCloneStart } from '../workflow/split-clone.js';
import { parseIntFlag } from './flags.js';
import { VDIFF_COMMANDS } from '../ctld/vdiff-commands.js';
import { WORKFLOW_TYPE } from '../workflow/types.js';
import { CTL_WAIT_DEFAULTS, waitForCopy } from './ctl-workflows.js';

interface WorkerFlags extends TopoFlags {
  cell?: string;
  logDir?: string;
  alsologtostderr?: boolean;
  useV3ReshardingMode?: boolean;
}

const JOBS = ['SplitClone', 'SplitDiff'];

/** How often SplitDiff asks whether its VDiff has ended. */
const SPLIT_DIFF_POLL_MS = 500;

/**
 * The seed prints `SplitDiff -min_healthy_rdonly_tablets = 1 customer / -80`: a line whose flag
 * or keyspace/shard was split by spaces. Returns the arguments joined back, or null when none was.
 */
export function rejoinStraySpaces(args: readonly string[]): string[] | null {
  const out: string[] = [];
  let changed = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const prev = out.length > 0 ? out[out.length - 1] : undefined;
    if ((a === '=' || a === '/') && prev !== undefined && i + 1 < args.length) {
      out[out.length - 1] = `${prev}${a}${args[++i]}`;
      changed = true;
    } else if (prev !== undefined && ((prev.endsWith('=') && !a.startsWith('--')) || prev.endsWith('/'))) {
      out[out.length - 1] = `${prev}${a}`;
      changed = true;
    } else if (prev !== undefined && !prev.startsWith('-') && (a.startsWith('=') || a.startsWith('/')) && a.length > 1) {
      out[out.length - 1] = `${prev}${a}`;
      changed = true;
    } else out.push(a);
  }
  return changed ? out : null;
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function withContext<T>(o: WorkerFlags, fn: (ctx: CtldContext) => Promise<T>): Promise<T> {
  const topo = openTopoServer(o);
  const tmc = new RpcTabletManagerClient(topo);
  try {
    return await fn({ topo, tmc });
  } finally {
    tmc.close();
    await topo.close();
  }
}

function parseKeyspaceShardArg(job: string, v: string): { keyspace: string; shard: string } {
  const m = /^([A-Za-z0-9_-]+)\/([0-9A-Fa-f-]+)$/.exec(v);
  if (!m) throw new TesseraError(ER.WRONG_ARGUMENTS, `${job}: want <keyspace>/<shard> (customer/0), got '${v}'`);
  return { keyspace: m[1], shard: m[2] };
}

export function registerWorker(program: Command): void {
  const worker = program
    .command('worker')
    .description("the seeds' vtworker: SplitClone starts a reshard's copy and filtered replication (a Reshard workflow named SplitClone) and waits for it; SplitDiff compares a new shard with its source (a VDiff)")
    .option('--cell <cell>', 'cell whose tablets the job reads from (the seed passes -cell zone1)')
    .option('--log-dir <dir>', 'accepted for vtworker compatibility; logs go to stderr')
    .option('--alsologtostderr', 'accepted for vtworker compatibility; logs go to stderr')
    .option('--use-v3-resharding-mode', 'accepted for vtworker compatibility; rows are always placed by the VSchema (v3) vindexes');
  addTopoFlags(worker);
  worker.hook('preSubcommand', (thisCommand, sub) => {
    // Arguments as the user typed them after the job's name.
    const raw = thisCommand.args;
    const at = raw.indexOf(sub.name());
    const fixed = rejoinStraySpaces(raw.slice(at + 1));
    if (fixed) {
      throw new TesseraError(ER.WRONG_ARGUMENTS, `${sub.name()}: a flag or keyspace/shard is split by spaces; did you mean: ${sub.name()} ${fixed.join(' ')}`);
    }
  });

  worker
    .command('SplitClone')
    .description('start (or resume) the copy of a serving shard into the shards that split it, then filtered replication; waits until the copy is done')
    .argument('<keyspace/shard>', 'the serving shard to split, e.g. customer/0')
    .option('--min-healthy-rdonly-tablets <n>', 'healthy rdonly tablets the source shard must have', parseIntFlag('--min-healthy-rdonly-tablets'), SPLIT_CLONE_DEFAULTS.minHealthyRdonlyTablets)
    .option('--max-tps <n>', 'transactions per second the streams apply at most (max_tps)', parseIntFlag('--max-tps'))
    .option('--source-reader-count <n>', 'readers per stream over chunks of a table (vreplication-copy-readers)', parseIntFlag('--source-reader-count'))
    .option('--destination-writer-count <n>', 'insert workers per stream (vreplication-parallel-insert-workers)', parseIntFlag('--destination-writer-count'))
    .option('--chunk-count <n>', "vtworker's chunks per table; accepted, chunks are cut from the table's key distribution", parseIntFlag('--chunk-count'))
    .option('--min-rows-per-chunk <n>', 'least rows of a chunk (vreplication-copy-chunk-rows-min)', parseIntFlag('--min-rows-per-chunk'))
    .option('--wait-timeout <ms>', 'how long to wait for the copy before returning (it goes on)', parseIntFlag('--wait-timeout'), CTL_WAIT_DEFAULTS.timeoutMs)
    .action(async (target: string, jo: { minHealthyRdonlyTablets: number; maxTps?: number; sourceReaderCount?: number; destinationWriterCount?: number; chunkCount?: number; minRowsPerChunk?: number; waitTimeout: number }) => {
      const o = worker.opts<WorkerFlags>();
      const { keyspace, shard } = parseKeyspaceShardArg('SplitClone', target);
      if (o.useV3ReshardingMode) log('-use_v3_resharding_mode: rows are always placed by the VSchema vindexes; the flag changes nothing');
      if (jo.chunkCount !== undefined) log(`-chunk_count=${jo.chunkCount}: noted; chunks are cut from the table's key distribution (-min_rows_per_chunk sets their least size)`);
      const overrides: Record<string, string> = {};
      if (jo.sourceReaderCount !== undefined) overrides['vreplication-copy-readers'] = String(jo.sourceReaderCount);
      if (jo.destinationWriterCount !== undefined) overrides['vreplication-parallel-insert-workers'] = String(jo.destinationWriterCount);
      if (jo.minRowsPerChunk !== undefined) overrides['vreplication-copy-chunk-rows-min'] = String(jo.minRowsPerChunk);
      await withContext(o, async (ctx) => {
        const calls = workflowCalls(ctx);
        const started = await splitCloneStart(ctx.topo, calls, (t) => ctx.tmc.getHealth(t, {}), {
          keyspace,
          shard,
          minHealthyRdonlyTablets: jo.minHealthyRdonlyTablets,
          cells: o.cell ? [o.cell] : [],
          maxTps: jo.maxTps,
          configOverrides: overrides,
        });
        log(`SplitClone: source shard(s) ${started.sources.map((s) => `${keyspace}/${s}`).join(', ')}; destination shard(s) ${started.destinations.map((s) => `${keyspace}/${s}`).join(', ')}`);
        log(`SplitClone: healthy rdonly source tablet(s): ${started.healthyRdonly.join(', ') || 'none'}; streams read from rdonly first, then replica, then primary`);
        log('SplitClone: no rdonly tablet is taken out of service (DRAINED): each copy cycle reads a consistent snapshot and the binlog carries what changed since');
        log(started.created ? `SplitClone: created workflow ${keyspace}.${SPLIT_CLONE_WORKFLOW}` : `SplitClone: workflow ${keyspace}.${SPLIT_CLONE_WORKFLOW} exists; resuming it`);
        if (!started.created) await WORKFLOW_COMMANDS.Workflow.run(ctx, { action: 'start', keyspace, workflow: SPLIT_CLONE_WORKFLOW });
        const client = { call: (name: string, req: JsonObject) => WORKFLOW_COMMANDS[name].run(ctx, req) };
        await waitForCopy(client, keyspace, SPLIT_CLONE_WORKFLOW, jo.waitTimeout);
        log(`SplitClone: done; filtered replication runs into ${started.destinations.map((s) => `${keyspace}/${s}`).join(', ')}.`);
        log(`Next: SplitDiff ${keyspace}/<destination shard>, then MigrateServedTypes ${keyspace}/${shard} rdonly, replica, master`);
      });
    });

  worker
    .command('SplitDiff')
    .description("compare a destination shard with its source: a VDiff of the Reshard workflow (SplitClone's) that fills it, summarised for that shard; exits 1 on a mismatch")
    .argument('<keyspace/shard>', 'the destination shard to compare, e.g. customer/-80')
    .option('--min-healthy-rdonly-tablets <n>', 'accepted for vtworker compatibility; VDiff compares consistent snapshots, no rdonly tablet is taken out of service', parseIntFlag('--min-healthy-rdonly-tablets'))
    .option('--wait-timeout <ms>', 'how long to wait for the diff', parseIntFlag('--wait-timeout'), CTL_WAIT_DEFAULTS.timeoutMs)
    .action(async (target: string, jo: { waitTimeout: number }) => {
      const o = worker.opts<WorkerFlags>();
      const { keyspace, shard } = parseKeyspaceShardArg('SplitDiff', target);
      const mismatch = await withContext(o, async (ctx) => {
        const calls = workflowCalls(ctx);
        const s = await ctx.topo.getShard(keyspace, shard).catch(() => {
          throw new TesseraError(ER.WRONG_ARGUMENTS, `SplitDiff: shard ${keyspace}/${shard} does not exist`);
        });
        if (s.value.primary_alias === null) throw new TesseraError(ER.WRONG_ARGUMENTS, `SplitDiff: shard ${keyspace}/${shard} has no primary`);
        const streams = await calls.vreplicationRead((await ctx.topo.getTablet(s.value.primary_alias)).value, undefined);
        const wf = streams.find((x) => x.workflowType === WORKFLOW_TYPE.Reshard && !x.workflow.endsWith('_reverse'))?.workflow;
        if (wf === undefined) {
          throw new TesseraError(ER.WRONG_ARGUMENTS, `SplitDiff: no Reshard workflow fills ${keyspace}/${shard}; run SplitClone first (vtworker SplitClone ${keyspace}/<the shard it splits>)`);
        }
        log(`SplitDiff: VDiff of workflow ${keyspace}.${wf} (no rdonly tablet is taken out of service: the diff compares consistent snapshots of source and target)`);
        const created = (await VDIFF_COMMANDS.VDiff.run(ctx, { action: 'create', workflow: wf, target_keyspace: keyspace, format: 'json' })) as { UUID: string };
        const show = async (format: string, shards: string[]) => VDIFF_COMMANDS.VDiff.run(ctx, { action: 'show', workflow: wf, target_keyspace: keyspace, uuid: created.UUID, format, target_shards: shards });
        const deadline = Date.now() + jo.waitTimeout;
        for (;;) {
          const st = (await show('json', [])) as { State?: string };
          if (st.State === 'completed' || st.State === 'error' || st.State === 'stopped') break;
          if (Date.now() > deadline) throw new TesseraError(ER.LOCK_WAIT_TIMEOUT, `SplitDiff: VDiff ${created.UUID} did not end within ${jo.waitTimeout} ms; follow it with VDiff --workflow ${wf} --target-keyspace ${keyspace} show ${created.UUID}`, { kind: 'DEADLINE_EXCEEDED' });
          await new Promise((r) => setTimeout(r, SPLIT_DIFF_POLL_MS));
        }
        const text = (await show('text', [shard])) as { text?: string };
        process.stdout.write(text.text ?? '');
        const mine = (await show('json', [shard])) as { State?: string; HasMismatch?: boolean; Errors?: unknown };
        if (mine.State === 'error') throw new TesseraError(ER.UNKNOWN_ERROR, `SplitDiff: VDiff ${created.UUID} ended in error: ${JSON.stringify(mine.Errors ?? {})}`);
        return mine.HasMismatch === true;
      });
      if (mismatch) {
        log(`SplitDiff: ${keyspace}/${shard} differs from its source; see the report above (VDiff … repair writes the statements that fix it)`);
        process.exitCode = 1;
      } else log(`SplitDiff: ${keyspace}/${shard} matches its source`);
    });

  // The seeds' vertical split (tables to another keyspace) is MoveTables today: typing its jobs names
  // the command that does their work.
  for (const [name, use] of [
    ['VerticalSplitClone', 'MoveTables --workflow <name> --target-keyspace <keyspace> create --source-keyspace <keyspace> --tables <t1,t2>'],
    ['VerticalSplitDiff', 'VDiff --workflow <name> --target-keyspace <keyspace> create --wait'],
  ]) {
    worker
      .command(name, { hidden: true })
      .allowUnknownOption()
      .allowExcessArguments()
      .argument('[args...]')
      .action(() => {
        throw new TesseraError(ER.NOT_SUPPORTED_YET, `${name} is the vtworker-era way to move tables; Tessera does it with: tessera ctl ${use}`);
      });
  }

  worker.action(() => {
    throw new TesseraError(ER.WRONG_ARGUMENTS, `worker: name a job: ${JOBS.join(' or ')} (e.g. tessera worker SplitClone -min_healthy_rdonly_tablets=1 customer/0)`);
  });
}
