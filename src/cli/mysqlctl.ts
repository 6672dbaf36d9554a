// `tessera mysqlctl`: the MariaDB instance lifecycle from the command line, with Vitess's flags.
import { Command } from 'commander';
import { loadDbCredentials, Mysqlctl, MYSQLCTL_DEFAULTS } from '../mysqlctl/index.js';
import { parseIntFlag } from './flags.js';

interface CommonFlags {
  tabletUid: number;
  mysqlPort: number;
  dataRoot?: string;
  bindAddress: string;
  innodbBufferPoolSize: string;
  waitTime: number;
  dbCredentialsFile?: string;
}

function withCommon(cmd: Command): Command {
  return cmd
    .requiredOption('--tablet-uid <uid>', 'tablet uid; names the instance directory vt_<uid as 10 digits> and becomes server_id', parseIntFlag('--tablet-uid'))
    .option('--mysql-port <port>', 'MariaDB TCP port (Vitess scheme: 17000 + uid)', parseIntFlag('--mysql-port'))
    .option('--data-root <dir>', 'where instance directories live (default: $TESSERA_DATAROOT, $VTDATAROOT, ./tessera-data)')
    .option('--bind-address <addr>', 'address MariaDB listens on', MYSQLCTL_DEFAULTS.bindAddress)
    .option('--innodb-buffer-pool-size <size>', 'InnoDB buffer pool size', MYSQLCTL_DEFAULTS.innodbBufferPoolSize)
    .option('--wait-time <ms>', 'how long start/shutdown wait for MariaDB', parseIntFlag('--wait-time'), 60_000)
    .option('--db-credentials-file <file>', 'passwords for the vt_* accounts, applied at start: {"vt_app": ["pw"], "vt_repl": ["pw"], ...}');
}

function instance(f: CommonFlags): Mysqlctl {
  return new Mysqlctl({
    tabletUid: f.tabletUid,
    mysqlPort: f.mysqlPort ?? 17000 + f.tabletUid,
    dataRoot: f.dataRoot,
    bindAddress: f.bindAddress,
    innodbBufferPoolSize: f.innodbBufferPoolSize,
    startTimeoutMs: f.waitTime,
    shutdownTimeoutMs: f.waitTime,
    credentials: loadDbCredentials(f.dbCredentialsFile),
  });
}

function printConnect(m: Mysqlctl): void {
  process.stdout.write(
    `MariaDB for tablet ${m.tabletUid} is running.\n` +
      `  connect:  mariadb -h 127.0.0.1 -P ${m.mysqlPort} -u vt_dba\n` +
      `  socket:   mariadb -S ${m.socket} -u vt_dba\n` +
      `  dir:      ${m.paths.dir}\n`,
  );
}

export function registerMysqlctl(program: Command): void {
  const mysqlctl = program
    .command('mysqlctl')
    .description(
      'create, start and stop MariaDB instances owned by tablets.\n\n' +
        'Each instance lives in <data-root>/vt_<uid as 10 digits>/ with data/, mysql.sock, mysql.pid,\n' +
        'my.cnf, error.log, bin-logs/, relay-logs/ and tmp/. Accounts: vt_dba, vt_app, vt_allprivs,\n' +
        'vt_repl, vt_filtered (empty passwords, socket and loopback), and the _vt sidecar database.',
    );

  withCommon(mysqlctl.command('init').description('create the instance directory and data directory (from a cached template), then start it'))
    .option('--no-start', 'only create, do not start')
    .action(async (f: CommonFlags & { start: boolean }) => {
      const m = instance(f);
      await m.init();
      if (f.start) {
        await m.start();
        printConnect(m);
      }
    });

  withCommon(mysqlctl.command('start').description('start MariaDB and wait until it answers')).action(async (f: CommonFlags) => {
    const m = instance(f);
    await m.start();
    printConnect(m);
  });

  withCommon(mysqlctl.command('shutdown').description('stop MariaDB gracefully')).action(async (f: CommonFlags) => {
    await instance(f).shutdown();
  });

  withCommon(mysqlctl.command('teardown').description('stop MariaDB and delete the instance directory')).action(async (f: CommonFlags) => {
    await instance(f).teardown();
  });

  withCommon(mysqlctl.command('status').description('print the instance state as JSON')).action(async (f: CommonFlags) => {
    process.stdout.write(`${JSON.stringify(instance(f).status(), null, 2)}\n`);
  });
}
