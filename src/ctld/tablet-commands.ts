// The admin API commands that reach tablets: ctld looks the tablet up in the topology and calls its
// tablet manager through the context's TabletManagerClient (in-process in combined mode, pooled RPC
// otherwise). Names and flags are vtctldclient's. Errors name the tablet and, when it cannot be
// reached, the address tried (the client's contract).
import { ER, TesseraError } from '../mysql/errors.js';
import { semiSyncFor, type FetchResult } from '../tablet/index.js';
import { parseKeyspaceShard, parseTabletAlias, parseTabletType, tabletAliasString, tabletDbName, topoError, type Json, type Tablet } from '../topo/index.js';
import { optBool, optInt, optString, optStringList, reqString, type CommandTable, type CtldContext } from './command.js';
import { TOPO_COMMANDS } from './topo-commands.js';

export const TABLET_CALL_DEFAULTS = {
  /** Health probes for `GetTablets --replication` (one per tablet, in parallel). */
  healthTimeoutMs: 2_000,
};

function json(v: unknown): Json {
  return v as Json;
}

export function aliasText(t: Tablet): string {
  return tabletAliasString(t.alias);
}

/** The tablet record; NO_NODE (`tablet zone1-0000000999 not found`) for an unknown alias. */
export async function getTabletRecord(ctx: CtldContext, alias: string): Promise<Tablet> {
  return (await ctx.topo.getTablet(parseTabletAlias(alias))).value;
}

/** The primary of a shard from its record; FAILED_PRECONDITION when it has none. */
export async function shardPrimary(ctx: CtldContext, keyspace: string, shard: string): Promise<Tablet> {
  const { value: s } = await ctx.topo.getShard(keyspace, shard);
  if (s.primary_alias === null) {
    throw topoError('FAILED_PRECONDITION', `shard ${keyspace}/${shard} has no primary; run InitShardPrimary ${keyspace}/${shard} <tablet> first`);
  }
  return (await ctx.topo.getTablet(s.primary_alias)).value;
}

/** `customer/-80` (the shard's primary) or a tablet alias. */
async function tabletOrShardPrimary(ctx: CtldContext, text: string): Promise<Tablet> {
  if (/[/:]/.test(text)) {
    const { keyspace, shard } = parseKeyspaceShard(text);
    return shardPrimary(ctx, keyspace, shard);
  }
  return getTabletRecord(ctx, text);
}

function fetchJson(r: FetchResult): Json {
  return json({ fields: r.fields, rows: r.rows, rows_affected: r.rowsAffected, insert_id: r.insertId });
}

// ---- schema helpers ------------------------------------------------------------------------

interface TableDefinition {
  name: string;
  type: string;
  schema: string;
  columns: string[];
  primary_key_columns: string[];
}

/** `--tables a,/^b_/`: exact names or /regex/. */
function tableMatcher(patterns: readonly string[]): (name: string) => boolean {
  const tests = patterns.map((p) => {
    if (p.length > 2 && p.startsWith('/') && p.endsWith('/')) {
      const re = new RegExp(p.slice(1, -1));
      return (n: string) => re.test(n);
    }
    return (n: string) => n === p;
  });
  return (n) => tests.some((t) => t(n));
}

function quoteName(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

/** Table definitions with their CREATE statements, as GetSchema prints them. */
async function tableDefinitions(
  ctx: CtldContext,
  t: Tablet,
  opts: { tables?: readonly string[]; excludeTables?: readonly string[]; includeViews?: boolean; namesOnly?: boolean },
): Promise<TableDefinition[]> {
  // Read from MariaDB, not from what the tablet last loaded: DDL run with ExecuteFetchAsDBA (or by
  // hand) does not reload the tablet's schema.
  await ctx.tmc.reloadSchema(t, {});
  const { tables } = await ctx.tmc.getSchema(t, {});
  const include = opts.tables && opts.tables.length > 0 ? tableMatcher(opts.tables) : () => true;
  const exclude = opts.excludeTables && opts.excludeTables.length > 0 ? tableMatcher(opts.excludeTables) : () => false;
  const out: TableDefinition[] = [];
  for (const ts of [...tables].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (!include(ts.name) || exclude(ts.name)) continue;
    if (ts.type === 'VIEW' && !opts.includeViews) continue;
    let schema = '';
    if (!opts.namesOnly) {
      const r = await ctx.tmc.executeFetchAsDba(t, { sql: `SHOW CREATE TABLE ${quoteName(ts.name)}`, maxRows: 1 });
      schema = r.rows[0]?.[1] ?? '';
    }
    out.push({ name: ts.name, type: ts.type, schema, columns: ts.columns.map((c) => c.name), primary_key_columns: [...ts.primaryKey] });
  }
  return out;
}

/** CREATE text compared across tablets: the AUTO_INCREMENT counter is data, not schema. */
function normalizeCreate(sql: string): string {
  return sql.replace(/ AUTO_INCREMENT=\d+/g, '').trim();
}

// ---- the commands --------------------------------------------------------------------------

const getTablets = TOPO_COMMANDS.GetTablets;

export const TABLET_COMMANDS: CommandTable = {
  GetTablets: {
    readOnly: true,
    summary: `${getTablets.summary} [--replication]`,
    async run(ctx, req) {
      const r = (await getTablets.run(ctx, req)) as unknown as { tablets: Tablet[] };
      if (!optBool(req, 'replication')) return json(r);
      // Each tablet's health: serving state, replication lag and error. Unreachable tablets say so.
      const tablets = await Promise.all(
        r.tablets.map(async (t) => {
          try {
            const h = await ctx.tmc.getHealth(t, {}, { timeoutMs: TABLET_CALL_DEFAULTS.healthTimeoutMs });
            return { ...t, replication: { serving: h.serving, lag_seconds: h.replicationLagSeconds, error: h.replicationError } };
          } catch (err) {
            return { ...t, replication: { serving: false, lag_seconds: null, error: (err as Error).message } };
          }
        }),
      );
      return json({ tablets });
    },
  },
  PingTablet: {
    readOnly: true,
    summary: 'PingTablet <alias>',
    async run(ctx, req) {
      await ctx.tmc.ping(await getTabletRecord(ctx, reqString(req, 'alias')), {});
      return null;
    },
  },
  GetFullStatus: {
    readOnly: true,
    summary: 'GetFullStatus <alias>',
    async run(ctx, req) {
      return json({ status: await ctx.tmc.fullStatus(await getTabletRecord(ctx, reqString(req, 'alias')), {}) });
    },
  },
  ChangeTabletType: {
    readOnly: false,
    summary: 'ChangeTabletType [--dry-run] <alias> <type>',
    async run(ctx, req) {
      const t = await getTabletRecord(ctx, reqString(req, 'alias'));
      const type = parseTabletType(reqString(req, 'tablet_type'));
      const alias = aliasText(t);
      if (type === 'primary') {
        throw topoError('FAILED_PRECONDITION', `ChangeTabletType cannot make ${alias} primary: use PlannedReparentShard ${t.keyspace}/${t.shard} --new-primary ${alias}`);
      }
      if (t.type === 'primary') {
        throw topoError('FAILED_PRECONDITION', `tablet ${alias} is the primary of ${t.keyspace}/${t.shard}: use PlannedReparentShard to move the primary away first`);
      }
      if (optBool(req, 'dry_run')) return json({ before_tablet: t, after_tablet: { ...t, type }, was_dry_run: true });
      const { tablet: after } = await ctx.tmc.changeType(t, { tabletType: type });
      // A replica acknowledges semi-sync writes under the semi_sync policy; an rdonly never does.
      const { value: ks } = await ctx.topo.getKeyspace(t.keyspace);
      await ctx.tmc.setSemiSync(after, { primary: false, replica: semiSyncFor(ks.durability_policy, type).replica });
      return json({ before_tablet: t, after_tablet: after, was_dry_run: false });
    },
  },
  SetWritable: {
    readOnly: false,
    summary: 'SetWritable <alias> <true|false>',
    async run(ctx, req) {
      const t = await getTabletRecord(ctx, reqString(req, 'alias'));
      if (optBool(req, 'writable')) await ctx.tmc.setReadWrite(t, {});
      else await ctx.tmc.setReadOnly(t, {});
      return null;
    },
  },
  ExecuteFetchAsDBA: {
    readOnly: false,
    summary: 'ExecuteFetchAsDBA [--max-rows n] [--disable-binlogs] [--reload-schema] <alias> <sql>',
    async run(ctx, req) {
      const t = await getTabletRecord(ctx, reqString(req, 'alias'));
      const r = await ctx.tmc.executeFetchAsDba(t, {
        sql: reqString(req, 'sql'),
        maxRows: optInt(req, 'max_rows', 10_000),
        disableBinlogs: optBool(req, 'disable_binlogs'),
        reloadSchema: optBool(req, 'reload_schema'),
      });
      return fetchJson(r);
    },
  },
  PurgeBinaryLogs: {
    readOnly: false,
    summary: 'PurgeBinaryLogs [--to <file>] [--older-than <seconds>] [--dry-run] <alias>',
    async run(ctx, req) {
      const t = await getTabletRecord(ctx, reqString(req, 'alias'));
      const to = optString(req, 'to');
      const older = optInt(req, 'older_than', 0);
      const r = await ctx.tmc.purgeBinaryLogs(t, { ...(to !== '' ? { to } : {}), ...(older > 0 ? { olderThanSeconds: older } : {}), dryRun: optBool(req, 'dry_run') });
      return json({ purged: [...r.purged], oldest: r.oldest, held_by: r.heldBy ? { ...r.heldBy } : null, streams: r.holds.map((h) => ({ ...h })) });
    },
  },
  ExecuteFetchAsApp: {
    readOnly: false,
    summary: 'ExecuteFetchAsApp [--max-rows n] <alias> <sql>',
    async run(ctx, req) {
      const t = await getTabletRecord(ctx, reqString(req, 'alias'));
      const r = await ctx.tmc.executeFetchAsApp(t, { sql: reqString(req, 'sql'), maxRows: optInt(req, 'max_rows', 10_000) });
      return fetchJson(r);
    },
  },
  GetSchema: {
    readOnly: true,
    summary: 'GetSchema [--tables t,/re/] [--exclude-tables t,...] [--include-views] [--table-names-only] <alias>',
    async run(ctx, req) {
      const t = await getTabletRecord(ctx, reqString(req, 'alias'));
      const namesOnly = optBool(req, 'table_names_only');
      const defs = await tableDefinitions(ctx, t, {
        tables: optStringList(req, 'tables'),
        excludeTables: optStringList(req, 'exclude_tables'),
        includeViews: optBool(req, 'include_views'),
        namesOnly,
      });
      if (namesOnly) return json({ table_names: defs.map((d) => d.name) });
      return json({ schema: { database_schema: `CREATE DATABASE IF NOT EXISTS ${quoteName(tabletDbName(t))}`, table_definitions: defs } });
    },
  },
  ReloadSchema: {
    readOnly: false,
    summary: 'ReloadSchema <alias>',
    async run(ctx, req) {
      await ctx.tmc.reloadSchema(await getTabletRecord(ctx, reqString(req, 'alias')), {});
      return null;
    },
  },
  ReloadSchemaShard: {
    readOnly: false,
    summary: 'ReloadSchemaShard [--include-primary] <keyspace/shard>',
    async run(ctx, req) {
      const { keyspace, shard } = parseKeyspaceShard(reqString(req, 'keyspace_shard'));
      await ctx.topo.getShard(keyspace, shard);
      return reloadAll(ctx, await ctx.topo.getTablets({ keyspace, shard }), optBool(req, 'include_primary'));
    },
  },
  ReloadSchemaKeyspace: {
    readOnly: false,
    summary: 'ReloadSchemaKeyspace [--include-primary] <keyspace>',
    async run(ctx, req) {
      const keyspace = reqString(req, 'keyspace');
      await ctx.topo.getKeyspace(keyspace);
      return reloadAll(ctx, await ctx.topo.getTablets({ keyspace }), optBool(req, 'include_primary'));
    },
  },
  ApplySchema: {
    readOnly: false,
    summary: 'ApplySchema {--sql <sql> | --sql-file <file>} [--ddl-strategy direct] <keyspace>',
    async run(ctx, req) {
      const keyspace = reqString(req, 'keyspace');
      const strategy = optString(req, 'ddl_strategy', 'direct');
      if (strategy !== 'direct') throw topoError('BAD_ARGUMENT', `--ddl-strategy '${strategy}' is not supported: Tessera applies DDL directly on each shard primary`);
      // One string (commas and all), or a list of them (--sql repeated).
      const raw = req.sql;
      const sql = typeof raw === 'string' ? raw : optStringList(req, 'sql').join(';\n');
      if (sql.trim() === '') throw topoError('BAD_ARGUMENT', "'sql' is required (--sql or --sql-file)");
      await ctx.topo.getKeyspace(keyspace);
      const shards = await ctx.topo.getShards(keyspace);
      if (shards.length === 0) throw topoError('FAILED_PRECONDITION', `keyspace ${keyspace} has no shards`);
      // Every shard's primary first, so a missing one stops the change before any shard has it.
      const primaries: { shard: string; tablet: Tablet }[] = [];
      for (const s of shards) primaries.push({ shard: s.name, tablet: await shardPrimary(ctx, keyspace, s.name) });
      const results = await Promise.all(
        primaries.map(async ({ shard, tablet }) => {
          try {
            const r = await ctx.tmc.applySchema(tablet, { sql });
            return { shard, tablet: aliasText(tablet), ok: true, statements: r.statements, error: '' };
          } catch (err) {
            return { shard, tablet: aliasText(tablet), ok: false, statements: 0, error: TesseraError.from(err).toString() };
          }
        }),
      );
      const failed = results.filter((r) => !r.ok);
      if (failed.length > 0) {
        const lines = results.map((r) => `  ${keyspace}/${r.shard} on ${r.tablet}: ${r.ok ? `applied ${r.statements} statement(s)` : r.error}`);
        throw new TesseraError(
          ER.UNKNOWN_ERROR,
          `ApplySchema failed on ${failed.length} of ${results.length} shard(s) of ${keyspace}; the schema now differs between shards:\n${lines.join('\n')}`,
        );
      }
      return json({ keyspace, shards: results.map(({ shard, tablet, statements }) => ({ shard, tablet, statements })) });
    },
  },
  CopySchemaShard: {
    readOnly: false,
    summary: 'CopySchemaShard [--tables t,...] [--exclude-tables t,...] [--include-views] <source keyspace/shard | source tablet alias> <destination keyspace/shard>',
    async run(ctx, req) {
      const source = await tabletOrShardPrimary(ctx, reqString(req, 'source'));
      const { keyspace, shard } = parseKeyspaceShard(reqString(req, 'destination'));
      const dest = await shardPrimary(ctx, keyspace, shard);
      if (aliasText(source) === aliasText(dest)) throw topoError('BAD_ARGUMENT', `source and destination are the same tablet ${aliasText(dest)}`);
      const includeViews = optBool(req, 'include_views');
      const want = await tableDefinitions(ctx, source, { tables: optStringList(req, 'tables'), excludeTables: optStringList(req, 'exclude_tables'), includeViews });
      const have = new Map((await tableDefinitions(ctx, dest, { includeViews: true })).map((d) => [d.name, d]));
      const conflicts: string[] = [];
      const present: string[] = [];
      const toCreate: TableDefinition[] = [];
      for (const d of want) {
        const h = have.get(d.name);
        if (!h) toCreate.push(d);
        else if (normalizeCreate(h.schema) === normalizeCreate(d.schema)) present.push(d.name);
        else conflicts.push(d.name);
      }
      if (conflicts.length > 0) {
        throw topoError(
          'FAILED_PRECONDITION',
          `CopySchemaShard: ${conflicts.join(', ')} already exist on ${keyspace}/${shard} (${aliasText(dest)}) with a different definition than on ${aliasText(source)}; nothing was copied`,
        );
      }
      // Tables before views, so a view's tables exist when it is created.
      toCreate.sort((a, b) => Number(a.type === 'VIEW') - Number(b.type === 'VIEW'));
      if (toCreate.length > 0) await ctx.tmc.applySchema(dest, { sql: toCreate.map((d) => d.schema).join(';\n') });
      return json({
        source_tablet: aliasText(source),
        destination_tablet: aliasText(dest),
        copied: toCreate.map((d) => d.name),
        already_present: present,
      });
    },
  },
  RefreshState: {
    readOnly: false,
    summary: 'RefreshState <alias>',
    async run(ctx, req) {
      await ctx.tmc.refreshState(await getTabletRecord(ctx, reqString(req, 'alias')), {});
      return null;
    },
  },
  RefreshStateByShard: {
    readOnly: false,
    summary: 'RefreshStateByShard [--cells c,...] <keyspace/shard>',
    async run(ctx, req) {
      const { keyspace, shard } = parseKeyspaceShard(reqString(req, 'keyspace_shard'));
      await ctx.topo.getShard(keyspace, shard);
      const tablets = await ctx.topo.getTablets({ keyspace, shard, cells: optStringList(req, 'cells') });
      const failed: string[] = [];
      await Promise.all(
        tablets.map((t) =>
          ctx.tmc.refreshState(t, {}).catch((err: Error) => {
            failed.push(err.message);
          }),
        ),
      );
      return json({ is_partial_refresh: failed.length > 0, partial_refresh_details: failed.sort().join('; ') });
    },
  },
  StartReplication: {
    readOnly: false,
    summary: 'StartReplication <alias>',
    async run(ctx, req) {
      const t = await getTabletRecord(ctx, reqString(req, 'alias'));
      const { value: ks } = await ctx.topo.getKeyspace(t.keyspace);
      await ctx.tmc.startReplication(t, { semiSync: semiSyncFor(ks.durability_policy, t.type).replica });
      return null;
    },
  },
  StopReplication: {
    readOnly: false,
    summary: 'StopReplication <alias>',
    async run(ctx, req) {
      await ctx.tmc.stopReplication(await getTabletRecord(ctx, reqString(req, 'alias')), {});
      return null;
    },
  },
};

async function reloadAll(ctx: CtldContext, tablets: readonly Tablet[], includePrimary: boolean): Promise<Json> {
  const chosen = tablets.filter((t) => includePrimary || t.type !== 'primary');
  const results = await Promise.all(
    chosen.map(async (t) => {
      try {
        await ctx.tmc.reloadSchema(t, {});
        return { tablet: aliasText(t), ok: true, error: '' };
      } catch (err) {
        return { tablet: aliasText(t), ok: false, error: (err as Error).message };
      }
    }),
  );
  const failed = results.filter((r) => !r.ok);
  if (failed.length > 0) {
    throw new TesseraError(
      ER.UNKNOWN_ERROR,
      `schema reload failed on ${failed.length} of ${results.length} tablet(s) (the others reloaded):\n${failed.map((f) => `  ${f.error}`).join('\n')}`,
    );
  }
  return json({ reloaded: results.map((r) => r.tablet) });
}

/** Names a Vitess user may type for these commands. */
export const TABLET_COMMAND_ALIASES: Readonly<Record<string, string>> = {
  ExecuteFetchAsDba: 'ExecuteFetchAsDBA',
};
