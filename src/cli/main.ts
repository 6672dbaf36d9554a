// The `tessera` command. Each subcommand lives in its own file and registers itself here through
// an explicit call (no import side effects), so `tessera <cmd> --help` works for every one.
import { Command } from 'commander';
import { TesseraError } from '../mysql/errors.js';
import { normalizeFlagSpellings } from './flags.js';
import { registerBinlog } from './binlog.js';
import { registerCtl } from './ctl.js';
import { registerCtld } from './ctld.js';
import { registerMysqlctl } from './mysqlctl.js';
import { registerUp } from './up.js';
import { registerTablet } from './tablet.js';
import { registerGate } from './gate.js';
import { registerWorker } from './worker.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('tessera')
    .description('Tessera: Vitess-style sharding for MariaDB/MySQL')
    .version('0.1.0')
    .showHelpAfterError();
  registerMysqlctl(program);
  registerCtld(program);
  registerCtl(program);
  registerUp(program);
  registerTablet(program);
  registerGate(program);
  registerBinlog(program);
  registerWorker(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(normalizeFlagSpellings(argv));
  } catch (err) {
    const e = TesseraError.from(err);
    process.stderr.write(`${e.toString()}\n`);
    process.exitCode = 1;
  }
}
