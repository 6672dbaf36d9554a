// `tessera binlog tail`: a source's binlog as filtered JSON lines, for operators debugging a stream
// and for change-data-capture consumers. One JSON object per line on stdout:
//   {"type":"begin","gtid":"0-100-42","timestamp":1700000000}
//   {"type":"field","database":"vt_customer","table":"customer","fields":[...],"primaryKey":["customer_id"]}
//   {"type":"row","database":"vt_customer","table":"customer","changes":[{"before":null,"after":[1,"alice@domain"]}]}
//   {"type":"ddl","database":"vt_customer","statement":"ALTER TABLE ..."}
//   {"type":"commit","gtid":"0-100-42","position":"MariaDB/0-100-42","timestamp":1700000000}
// BIGINTs print as strings of digits, bytes as {"hex":"..."}. See docs/binlog.md.
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { Client } from '../mysql/client.js';
import { ER, TesseraError } from '../mysql/errors.js';
import { EventDecoder, GtidPosition, TransactionFramer, binlogFileEvents, currentPosition, formatGtid, type StreamItem } from '../mysql/binlog/index.js';
import { parseKeyspaceVSchema } from '../vschema/index.js';
import { RowFilter, RowStreamer, keyspaceIdSource, parseSelectFilter, type FilterRule, type StreamEvent } from '../vreplication/index.js';
import { parseIntFlag } from './flags.js';

interface TailFlags {
  host: string;
  port?: number;
  socket?: string;
  user: string;
  password: string;
  position: string;
  database: string;
  filter: string[];
  keyrange?: string;
  vschema?: string;
  file?: string;
  count?: number;
  heartbeats: boolean;
}

function jsonValue(_key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v !== null && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
    return { hex: Buffer.from((v as { data: number[] }).data).toString('hex') };
  }
  return v;
}

function line(ev: StreamEvent): string {
  switch (ev.type) {
    case 'begin':
      return JSON.stringify({ type: 'begin', gtid: formatGtid(ev.gtid), timestamp: ev.timestamp });
    case 'commit':
      return JSON.stringify({ type: 'commit', gtid: formatGtid(ev.gtid), position: ev.position.toString(), timestamp: ev.timestamp });
    default:
      return JSON.stringify(ev, jsonValue);
  }
}

/** `--filter` accepts `select ... from t ...`, `table`, `/regex/`, or `match=filter`. */
export function parseFilterFlag(text: string): FilterRule {
  const t = text.trim();
  if (/^select\b/i.test(t)) return { match: parseSelectFilter(t).table, filter: t };
  const eq = t.indexOf('=');
  if (eq > 0 && !t.startsWith('/')) return { match: t.slice(0, eq).trim(), filter: t.slice(eq + 1).trim() };
  if (t.startsWith('/')) {
    const close = t.indexOf('/', 1);
    if (close > 0 && t[close + 1] === '=') return { match: t.slice(0, close + 1), filter: t.slice(close + 2).trim() };
  }
  return { match: t, filter: '' };
}

async function tail(f: TailFlags): Promise<void> {
  const rules: FilterRule[] = f.filter.map(parseFilterFlag);
  if (f.keyrange !== undefined) rules.push({ match: '/.*/', filter: f.keyrange });
  if (rules.length === 0) rules.push({ match: '/.*/', filter: '' });
  const vschema = f.vschema ? parseKeyspaceVSchema(path.basename(f.vschema, '.json'), fs.readFileSync(f.vschema, 'utf8')) : undefined;
  const limit = f.count ?? Infinity;
  let printed = 0;
  const write = (ev: StreamEvent): boolean => {
    if (ev.type === 'heartbeat' && !f.heartbeats) return true;
    process.stdout.write(`${line(ev)}\n`);
    if (ev.type === 'commit') printed++;
    return printed < limit;
  };
  if (f.file) {
    const filter = new RowFilter(f.database, { rules }, keyspaceIdSource(vschema));
    const framer = new TransactionFramer(f.position === 'current' ? GtidPosition.EMPTY : GtidPosition.parse(f.position));
    const decoder = new EventDecoder({ file: path.basename(f.file), tableFilter: (t) => filter.wants(t) });
    const items: StreamItem[] = [];
    const out: StreamEvent[] = [];
    for await (const raw of binlogFileEvents(f.file)) {
      items.length = 0;
      framer.push(decoder.decode(raw), items);
      for (const it of items) {
        out.length = 0;
        filter.push(it, out);
        for (const ev of out) if (!write(ev)) return;
      }
    }
    return;
  }
  let position: GtidPosition;
  if (f.position === 'current') {
    const c = await Client.connect({ host: f.host, port: f.port, socketPath: f.socket, user: f.user, password: f.password });
    try {
      position = await currentPosition(c);
    } finally {
      c.close();
    }
  } else position = GtidPosition.parse(f.position);
  const streamer = new RowStreamer({
    host: f.host,
    port: f.port,
    socketPath: f.socket,
    user: f.user,
    password: f.password,
    position,
    database: f.database,
    filter: { rules },
    vschema,
  });
  const stop = (): void => streamer.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    for await (const ev of streamer) if (!write(ev)) break;
  } finally {
    streamer.close();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

export function registerBinlog(program: Command): void {
  const binlog = program.command('binlog').description('read a MariaDB binary log as a replica would');
  binlog
    .command('tail')
    .description(
      'stream row changes, DDL and positions from a MariaDB binlog as JSON lines.\n\n' +
        'Examples:\n' +
        "  tessera binlog tail --port 17100 --position current --database vt_customer\n" +
        "  tessera binlog tail --port 17100 --position MariaDB/0-100-42 --database vt_customer \\\n" +
        "      --filter \"select * from customer where in_keyrange(customer_id, 'hash', '-80')\"\n" +
        '  tessera binlog tail --file vt-0000000100-bin.000001 --database vt_customer',
    )
    .option('--host <host>', 'MariaDB host', '127.0.0.1')
    .option('--port <port>', 'MariaDB port', parseIntFlag('--port'))
    .option('--socket <path>', 'MariaDB unix socket (instead of host/port)')
    .option('--user <user>', 'a user with REPLICATION SLAVE (vt_repl, vt_filtered)', 'vt_repl')
    .option('--password <password>', 'password', '')
    .option('--position <position>', "start after this GTID position (MariaDB/0-100-42), 'current' for new changes only, '' for the oldest binlog", '')
    .option('--database <db>', "only tables of this database (default: every database)", '')
    .option('--filter <rule>', "a filter rule, repeatable: 'select cols from t [where in_keyrange(col, <vindex type>, <range>)]', a table name, /regex/, or match=filter", (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--keyrange <range>', 'only rows whose primary vindex value is in this key range (needs --vschema)')
    .option('--vschema <file>', "the keyspace's VSchema JSON (for key-range rules by primary vindex)")
    .option('--file <path>', 'read a binlog file instead of connecting')
    .option('--count <n>', 'stop after n transactions', parseIntFlag('--count'))
    .option('--heartbeats', 'print heartbeat events too', false)
    .action(async (f: TailFlags) => {
      if (!f.file && f.port === undefined && !f.socket) throw new TesseraError(ER.WRONG_ARGUMENTS, 'binlog tail needs --port (or --socket, or --file)');
      await tail(f);
    });
}
