// `tessera up`: the local cluster on this machine. Until the gate and tablets land, it brings up the
// first piece of the tutorial's cluster: the MariaDB of tablet zone1-100 (keyspace commerce), through
// mysqlctl, and prints how to connect.
import { Command } from 'commander';
import { Mysqlctl } from '../mysqlctl/index.js';

export function registerUp(program: Command): void {
  program
    .command('up')
    .description('bring up the local cluster (for now: the MariaDB of tablet zone1-100) and print how to connect')
    .option('--data-root <dir>', 'where instance directories live (default: $TESSERA_DATAROOT, $VTDATAROOT, ./tessera-data)')
    .option('--clean', 'remove existing data first')
    .action(async (f: { dataRoot?: string; clean?: boolean }) => {
      const m = new Mysqlctl({ tabletUid: 100, mysqlPort: 17100, dataRoot: f.dataRoot });
      if (f.clean) await m.teardown();
      await m.init();
      await m.start();
      process.stdout.write(
        `Tessera: MariaDB for tablet zone1-100 is up (data in ${m.paths.dir}).\n` +
          `Connect with:\n  mariadb -h 127.0.0.1 -P ${m.mysqlPort} -u vt_dba\n` +
          `Stop with:\n  node bin/tessera mysqlctl shutdown --tablet-uid 100\n`,
      );
    });
}
