// The `tessera` command. Each subcommand lives in its own file and registers itself here through
// an explicit call (no import side effects), so `tessera <cmd> --help` works for every one; only
// the module of the subcommand being run is loaded.
import { Command } from 'commander';
import { TesseraError } from '../mysql/errors.js';
import { normalizeFlagSpellings } from './flags.js';

type Register = (program: Command) => void;

/**
 * Each subcommand's module, loaded only when that subcommand runs: `tessera ctl …` (which the
 * tutorial's scripts run dozens of times) then loads the admin client, not the tablet, gate and
 * ctld servers. `tessera --help` and an unknown name load them all, in this order.
 */
const SUBCOMMANDS: ReadonlyArray<[names: readonly string[], load: () => Promise<Register>]> = [
  [['mysqlctl'], async () => (await import('./mysqlctl.js')).registerMysqlctl],
  [['ctld'], async () => (await import('./ctld.js')).registerCtld],
  [['ctl'], async () => (await import('./ctl.js')).registerCtl],
  [['up', 'down', 'status'], async () => (await import('./up.js')).registerUp],
  [['tablet'], async () => (await import('./tablet.js')).registerTablet],
  [['gate'], async () => (await import('./gate.js')).registerGate],
  [['binlog'], async () => (await import('./binlog.js')).registerBinlog],
  [['worker'], async () => (await import('./worker.js')).registerWorker],
];

/** The program with the subcommand `args` names (its first word that is not a flag), or every subcommand. */
export async function buildProgram(args: readonly string[] = []): Promise<Command> {
  const program = new Command();
  program
    .name('tessera')
    .description('Tessera: Vitess-style sharding for MariaDB/MySQL')
    .version('0.1.0')
    .showHelpAfterError();
  const name = args.find((a) => !a.startsWith('-'));
  const one = SUBCOMMANDS.find(([names]) => name !== undefined && names.includes(name));
  for (const [, load] of one ? [one] : SUBCOMMANDS) (await load())(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    const normalized = normalizeFlagSpellings(argv);
    await (await buildProgram(normalized.slice(2))).parseAsync(normalized);
  } catch (err) {
    const e = TesseraError.from(err);
    process.stderr.write(`${e.toString()}\n`);
    process.exitCode = 1;
  }
}
