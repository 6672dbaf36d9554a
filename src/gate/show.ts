// SHOW statements: the ones about the cluster are answered by the gate (keyspaces, shards,
// tablets, VSchema, warnings); the ones about a table or the server go to one shard of the right
// keyspace, with names translated back (`Tables_in_vt_customer` → `Tables_in_customer`).
import { columnDefinition, ER, TesseraError, TYPE, type ColumnDefinition } from '../mysql/index.js';
import { format, type Show } from '../sql/index.js';
import { tabletAliasString } from '../topo/index.js';
import { notSupported } from './errors.js';
import { systemDatabase, systemDatabaseHost } from './system-db.js';
import type { GateSession } from './session.js';
import { toResult } from './session-cursor.js';
import type { Cell, Result } from './types.js';
import { rowsOf } from './values.js';

export function textResult(columns: readonly string[], rows: readonly (readonly (string | number | bigint | null)[])[]): Result {
  const fields: ColumnDefinition[] = columns.map((name) => columnDefinition({ name, type: TYPE.VAR_STRING, columnLength: 256 * 4 }));
  const out = rows.map((r) => r.map((v): Cell => (v === null ? null : Buffer.from(String(v), 'utf8'))));
  return { fields, rows: out, raw: null, rowsAffected: 0, insertId: 0n, warnings: 0, info: '' };
}

function likeToRegExp(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length) re += pattern[++i].replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (c === '%') re += '.*';
    else if (c === '_') re += '.';
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(re + '$', 'is');
}

function filterLike<T>(s: Show, items: T[], key: (t: T) => string): T[] {
  if (!s.filter) return items;
  if (s.filter.kind !== 'Like') throw notSupported(`SHOW ${s.type} … WHERE`);
  const re = likeToRegExp(s.filter.pattern);
  return items.filter((i) => re.test(key(i)));
}

/** Sends a statement to one shard of a keyspace (the first serving one). */
async function toAnyShard(gs: GateSession, keyspace: string, sql: string): Promise<Result> {
  const cursor = gs.cursor();
  const shards = await cursor.allShards(keyspace);
  const r = await gs.executeOnShard(shards[0], sql, false, undefined);
  gs.noteWarnings(shards[0], r);
  return toResult(r);
}

/** SHOW … of a system database: to the MariaDB that answers for it (gate/system-db.ts), as written. */
async function toSystemDatabaseHost(gs: GateSession, db: string, sql: string): Promise<Result> {
  const resolver = gs.core.resolver;
  const host = gs.systemDb !== null ? (gs.keyspace as string) : systemDatabaseHost(gs, db, resolver.keyspaceNames(), (ks) => resolver.vschema.keyspaces[ks]?.sharded !== false);
  gs.checkKeyspaceAllowed(host);
  const cursor = gs.cursor();
  const shards = gs.shard !== null ? [cursor.targetedShard(host, gs.shard)] : await cursor.allShards(host);
  const r = await gs.executeOnShard(shards[0], sql, false, undefined);
  gs.noteWarnings(shards[0], r);
  return toResult(r);
}

function defaultKeyspace(gs: GateSession): string {
  if (gs.keyspace) return gs.keyspace;
  const names = gs.core.resolver.keyspaceNames();
  if (names.length === 0) throw new TesseraError(ER.NO_DB, 'No database selected');
  return names[0];
}

export async function executeShow(gs: GateSession, s: Show): Promise<Result> {
  const resolver = gs.core.resolver;
  const vschema = resolver.vschema;
  const visible = (ks: string): boolean => gs.allowedKeyspaces === null || gs.allowedKeyspaces.has(ks);
  switch (s.type) {
    case 'DATABASES':
    case 'KEYSPACES': {
      const names = resolver.keyspaceNames().filter(visible);
      const all = s.type === 'DATABASES' ? [...names, 'information_schema', 'mysql', 'sys', 'performance_schema'] : names;
      return textResult(['Database'], filterLike(s, all, (x) => x).map((n) => [n]));
    }
    case 'VITESS_SHARDS': {
      const rows: string[][] = [];
      for (const ks of resolver.keyspaceNames().filter(visible)) for (const sh of resolver.servingShards(ks, 'primary')) rows.push([`${ks}/${sh.name}`]);
      return textResult(['Shards'], filterLike(s, rows, (r) => r[0]));
    }
    case 'VITESS_TABLETS': {
      const rows = gs.core.health
        .all()
        .filter((t) => visible(t.tablet.keyspace))
        .map((t) => [
          t.tablet.alias.cell,
          t.health?.target.keyspace ?? t.tablet.keyspace,
          t.health?.target.shard ?? t.tablet.shard,
          (t.health?.target.tabletType ?? t.tablet.type).toUpperCase(),
          t.health ? (t.health.serving ? 'SERVING' : 'NOT_SERVING') : 'UNKNOWN',
          tabletAliasString(t.tablet.alias),
          t.tablet.hostname,
          t.health?.primaryTermStartTime ?? t.tablet.primary_term_start_time ?? '',
        ])
        .sort((a, b) => (a[1] + a[2] + a[5] < b[1] + b[2] + b[5] ? -1 : 1));
      return textResult(['Cell', 'Keyspace', 'Shard', 'TabletType', 'State', 'Alias', 'Hostname', 'PrimaryTermStartTime'], filterLike(s, rows, (r) => r[5]));
    }
    case 'VITESS_TARGET':
      return textResult(['Target'], [[gs.targetString()]]);
    case 'VSCHEMA TABLES': {
      const ks = s.db ?? gs.keyspace;
      if (!ks) throw new TesseraError(ER.NO_DB, 'No database selected');
      const v = vschema.keyspaces[ks];
      if (!v) throw new TesseraError(ER.BAD_DB, `Unknown database '${ks}' in vschema`);
      const names = Object.keys(v.tables).sort();
      return textResult(['Tables'], filterLike(s, names, (x) => x).map((n) => [n]));
    }
    case 'VSCHEMA VINDEXES': {
      if (s.table) {
        const ks = s.table.schema ?? gs.keyspace;
        const r = vschema.findTable(ks ?? undefined, s.table.name);
        if (!r || !r.vschema) throw new TesseraError(ER.NO_SUCH_TABLE, `table '${s.table.name}' does not exist in keyspace '${ks ?? ''}'`);
        const ksv = vschema.keyspaces[r.keyspace];
        const rows = r.vschema.columnVindexes.map((cv) => {
          const def = ksv.vindexes[cv.name];
          return [cv.columns.join(', '), cv.name, def?.type ?? '', Object.entries(def?.params ?? {}).map(([k, v]) => `${k}=${v}`).sort().join('; '), def?.owner ?? ''];
        });
        return textResult(['Columns', 'Name', 'Type', 'Params', 'Owner'], rows);
      }
      const rows: string[][] = [];
      const kss = s.db ? [s.db] : gs.keyspace ? [gs.keyspace] : Object.keys(vschema.keyspaces).sort();
      for (const ks of kss) {
        const v = vschema.keyspaces[ks];
        if (!v) continue;
        for (const name of Object.keys(v.vindexes).sort()) {
          const d = v.vindexes[name];
          rows.push([ks, name, d.type, Object.entries(d.params).map(([k, x]) => `${k}=${x}`).sort().join('; '), d.owner]);
        }
      }
      return textResult(['Keyspace', 'Name', 'Type', 'Params', 'Owner'], rows);
    }
    case 'WARNINGS':
    case 'ERRORS': {
      const list = s.type === 'ERRORS' ? gs.warnings.filter((w) => w.level === 'Error') : gs.warnings;
      const r = textResult(['Level', 'Code', 'Message'], list.map((w) => [w.level, w.code, w.message]));
      // MariaDB's columns: Level varchar(7), Code int(4) unsigned, Message varchar(512), all NOT NULL.
      const fields = [
        columnDefinition({ name: 'Level', type: TYPE.VAR_STRING, columnLength: 7 * 4, flags: 0x01 }),
        columnDefinition({ name: 'Code', type: TYPE.LONG, charset: 63, columnLength: 4, flags: 0x01 | 0x20 | 0x80 }),
        columnDefinition({ name: 'Message', type: TYPE.VAR_STRING, columnLength: 512 * 4, flags: 0x01 }),
      ];
      return { ...r, fields };
    }
    case 'COUNT WARNINGS':
    case 'COUNT ERRORS': {
      const n = s.type === 'COUNT ERRORS' ? gs.warnings.filter((w) => w.level === 'Error').length : gs.warningCount;
      const r = textResult([s.type === 'COUNT ERRORS' ? '@@session.error_count' : '@@session.warning_count'], [[n]]);
      // BIGINT UNSIGNED, as MariaDB answers it (a system variable's value).
      return { ...r, fields: [columnDefinition({ name: r.fields[0].name, type: TYPE.LONGLONG, charset: 63, columnLength: 21, flags: 0x20 | 0x80 })] };
    }
    case 'TABLES':
    case 'TABLE STATUS': {
      const sys = s.db !== null ? systemDatabase(s.db) : gs.systemDb;
      if (sys !== null) return toSystemDatabaseHost(gs, sys, format(s));
      const ks = s.db ?? gs.keyspace;
      if (!ks) throw new TesseraError(ER.NO_DB, 'No database selected');
      if (!resolver.keyspaceNames().includes(ks)) throw new TesseraError(ER.BAD_DB, `Unknown database '${ks}'`);
      gs.checkKeyspaceAllowed(ks);
      const r = await toAnyShard(gs, ks, format({ ...s, db: null }));
      const fields = r.fields.map((f) => (f.name.startsWith('Tables_in_') ? { ...f, name: `Tables_in_${ks}` } : f));
      return { ...r, fields, rows: rowsOf(r), raw: null };
    }
    case 'COLUMNS':
    case 'INDEX':
    case 'CREATE TABLE':
    case 'CREATE VIEW':
    case 'TRIGGERS': {
      const t = s.table;
      const sys = s.db !== null || t?.schema ? systemDatabase(s.db ?? t?.schema) : gs.systemDb;
      if (sys !== null) return toSystemDatabaseHost(gs, sys, format(s));
      let ks = s.db ?? t?.schema ?? null;
      let name = t?.name ?? '';
      if (t) {
        const r = vschema.findTable(ks ?? gs.keyspace ?? undefined, t.name, gs.tabletType === 'replica' || gs.tabletType === 'rdonly' ? gs.tabletType : 'primary');
        if (r) {
          ks = r.keyspace;
          name = r.table;
        }
      }
      ks ??= gs.keyspace;
      if (!ks) throw new TesseraError(ER.NO_DB, 'No database selected');
      gs.checkKeyspaceAllowed(ks);
      const stmt: Show = { ...s, db: null, table: t ? { kind: 'TableName', schema: null, name } : null };
      return toAnyShard(gs, ks, format(stmt));
    }
    case 'CREATE DATABASE': {
      const ks = s.db ?? '';
      if (!resolver.keyspaceNames().includes(ks)) throw new TesseraError(ER.BAD_DB, `Unknown database '${ks}'`);
      return textResult(['Database', 'Create Database'], [[ks, `CREATE DATABASE \`${ks}\``]]);
    }
    case 'VARIABLES':
    case 'STATUS':
    case 'ENGINES':
    case 'ENGINE':
    case 'CHARSET':
    case 'COLLATION':
    case 'PLUGINS':
    case 'PRIVILEGES':
    case 'GRANTS':
    case 'FUNCTION STATUS':
    case 'PROCEDURE STATUS':
    case 'OPEN TABLES':
    case 'EVENTS':
      return toAnyShard(gs, defaultKeyspace(gs), format(s));
    default:
      throw notSupported(`SHOW ${s.type}`);
  }
}
