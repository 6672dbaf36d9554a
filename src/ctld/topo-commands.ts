// The topology commands of the admin API, named and shaped as vtctldclient's: the JSON each
// returns is what `tessera ctl <Command>` prints.
import {
  isTopoError,
  newTablet,
  parseJsonText,
  parseKeyspaceShard,
  parseTabletAlias,
  parseTabletType,
  tabletAliasString,
  topoError,
  type Json,
  type JsonObject,
  type TabletType,
} from '../topo/index.js';
import { optBool, optInt, optString, optStringList, optStringMap, reqJson, reqString, type CommandTable, type CtldContext } from './command.js';

/** Values from the model are plain JSON data; this is the one place that says so to the compiler. */
function json(v: unknown): Json {
  return v as Json;
}

async function rebuildUnlessSkipped(ctx: CtldContext, req: JsonObject): Promise<void> {
  if (!optBool(req, 'skip_rebuild')) await ctx.topo.rebuildVSchemaGraph({ cells: optStringList(req, 'cells') });
}

export const TOPO_COMMANDS: CommandTable = {
  AddCellInfo: {
    readOnly: false,
    summary: 'AddCellInfo --server-address <addr> --root <path> <cell>',
    async run(ctx, req) {
      const cell = reqString(req, 'cell');
      const info = await ctx.topo.createCellInfo(cell, { server_address: optString(req, 'server_address'), root: optString(req, 'root') });
      return json({ name: cell, cell_info: info });
    },
  },
  DeleteCellInfo: {
    readOnly: false,
    summary: 'DeleteCellInfo [--force] <cell>',
    async run(ctx, req) {
      await ctx.topo.deleteCellInfo(reqString(req, 'cell'), optBool(req, 'force'));
      return null;
    },
  },
  GetCellInfoNames: {
    readOnly: true,
    summary: 'GetCellInfoNames',
    async run(ctx) {
      return { names: await ctx.topo.getCellInfoNames() };
    },
  },
  GetCellInfo: {
    readOnly: true,
    summary: 'GetCellInfo <cell>',
    async run(ctx, req) {
      return json(await ctx.topo.getCellInfo(reqString(req, 'cell')));
    },
  },

  CreateKeyspace: {
    readOnly: false,
    summary: 'CreateKeyspace [--durability-policy none|semi_sync|cross_cell] [--sidecar-db-name _vt] <keyspace>',
    async run(ctx, req) {
      const name = reqString(req, 'name');
      const durability = optString(req, 'durability_policy', 'none');
      if (!['none', 'semi_sync', 'cross_cell'].includes(durability)) {
        throw topoError('BAD_ARGUMENT', `unknown durability policy '${durability}' (want none, semi_sync or cross_cell)`);
      }
      const ks = await ctx.topo.createKeyspace(name, { durability_policy: durability, sidecar_db_name: optString(req, 'sidecar_db_name', '_vt') });
      return json({ name, keyspace: ks });
    },
  },
  GetKeyspace: {
    readOnly: true,
    summary: 'GetKeyspace <keyspace>',
    async run(ctx, req) {
      const name = reqString(req, 'keyspace');
      return json({ name, keyspace: (await ctx.topo.getKeyspace(name)).value });
    },
  },
  GetKeyspaces: {
    readOnly: true,
    summary: 'GetKeyspaces',
    async run(ctx) {
      const out: Json[] = [];
      for (const name of await ctx.topo.getKeyspaceNames()) out.push(json({ name, keyspace: (await ctx.topo.getKeyspace(name)).value }));
      return out;
    },
  },
  DeleteKeyspace: {
    readOnly: false,
    summary: 'DeleteKeyspace [--recursive] <keyspace>',
    async run(ctx, req) {
      await ctx.topo.deleteKeyspace(reqString(req, 'keyspace'), { recursive: optBool(req, 'recursive') });
      return null;
    },
  },

  CreateShard: {
    readOnly: false,
    summary: 'CreateShard <keyspace/shard>',
    async run(ctx, req) {
      const { keyspace, shard } = parseKeyspaceShard(reqString(req, 'keyspace_shard'));
      const s = await ctx.topo.createShard(keyspace, shard);
      return json({ keyspace, name: shard, shard: s });
    },
  },
  GetShard: {
    readOnly: true,
    summary: 'GetShard <keyspace/shard>',
    async run(ctx, req) {
      const { keyspace, shard } = parseKeyspaceShard(reqString(req, 'keyspace_shard'));
      return json({ keyspace, name: shard, shard: (await ctx.topo.getShard(keyspace, shard)).value });
    },
  },
  FindAllShardsInKeyspace: {
    readOnly: true,
    summary: 'FindAllShardsInKeyspace <keyspace>',
    async run(ctx, req) {
      const keyspace = reqString(req, 'keyspace');
      await ctx.topo.getKeyspace(keyspace);
      const shards: Record<string, unknown> = {};
      for (const s of await ctx.topo.getShards(keyspace)) shards[s.name] = { keyspace, name: s.name, shard: s.shard };
      return json(shards);
    },
  },
  DeleteShards: {
    readOnly: false,
    summary: 'DeleteShards [--recursive] [--even-if-serving] [--force] <keyspace/shard> ...',
    async run(ctx, req) {
      const shards = optStringList(req, 'shards');
      if (shards.length === 0) throw topoError('BAD_ARGUMENT', 'no shards given');
      const parsed = shards.map(parseKeyspaceShard);
      // Check every shard first so a typo in the second does not leave the first deleted.
      for (const { keyspace, shard } of parsed) await ctx.topo.getShard(keyspace, shard);
      for (const { keyspace, shard } of parsed) {
        await ctx.topo.deleteShard(keyspace, shard, { recursive: optBool(req, 'recursive'), evenIfServing: optBool(req, 'even_if_serving') });
      }
      return null;
    },
  },

  InitTablet: {
    readOnly: false,
    summary: 'InitTablet --keyspace <ks> --shard <shard> [--hostname h] [--port p] [--grpc-port p] [--mysql-host h] [--mysql-port p] [--tags k:v,...] [--allow-update] <alias> <type>',
    async run(ctx, req) {
      const alias = parseTabletAlias(reqString(req, 'alias'));
      const keyspace = reqString(req, 'keyspace');
      const shard = reqString(req, 'shard');
      await ctx.topo.getShard(keyspace, shard);
      const hostname = optString(req, 'hostname', 'localhost');
      const t = newTablet({
        alias,
        keyspace,
        shard,
        type: parseTabletType(reqString(req, 'tablet_type')),
        hostname,
        port_map: { vt: optInt(req, 'port', 15000 + alias.uid), grpc: optInt(req, 'grpc_port', 16000 + alias.uid) },
        mysql_hostname: optString(req, 'mysql_host', hostname),
        mysql_port: optInt(req, 'mysql_port', 17000 + alias.uid),
        db_name_override: optString(req, 'db_name_override'),
        tags: optStringMap(req, 'tags'),
      });
      if (optBool(req, 'allow_update')) {
        try {
          await ctx.topo.getTablet(alias);
          await ctx.topo.updateTabletFields(alias, (cur) => void Object.assign(cur, t));
          return json(t);
        } catch (err) {
          if (!isTopoError(err, 'NO_NODE')) throw err;
        }
      }
      await ctx.topo.createTablet(t);
      return json(t);
    },
  },
  GetTablet: {
    readOnly: true,
    summary: 'GetTablet <alias>',
    async run(ctx, req) {
      return json((await ctx.topo.getTablet(parseTabletAlias(reqString(req, 'alias')))).value);
    },
  },
  GetTablets: {
    readOnly: true,
    summary: 'GetTablets [--keyspace ks] [--shard shard] [--cell c,...] [--tablet-type type] [--tablet-alias a,...]',
    async run(ctx, req) {
      const aliases = optStringList(req, 'tablet_aliases');
      if (aliases.length > 0) {
        const tablets: Json[] = [];
        for (const a of aliases) tablets.push(json((await ctx.topo.getTablet(parseTabletAlias(a))).value));
        return { tablets };
      }
      const typeText = optString(req, 'tablet_type');
      const tabletType: TabletType | undefined = typeText === '' ? undefined : parseTabletType(typeText);
      const keyspace = optString(req, 'keyspace');
      const shard = optString(req, 'shard');
      if (shard !== '' && keyspace === '') throw topoError('BAD_ARGUMENT', '--shard needs --keyspace');
      const tablets = await ctx.topo.getTablets({
        cells: optStringList(req, 'cells'),
        ...(keyspace !== '' ? { keyspace } : {}),
        ...(shard !== '' ? { shard } : {}),
        ...(tabletType ? { tabletType } : {}),
      });
      return json({ tablets });
    },
  },
  DeleteTablets: {
    readOnly: false,
    summary: 'DeleteTablets [--allow-primary] <alias> ...',
    async run(ctx, req) {
      const aliases = optStringList(req, 'aliases').map(parseTabletAlias);
      if (aliases.length === 0) throw topoError('BAD_ARGUMENT', 'no tablet aliases given');
      const tablets = [];
      for (const a of aliases) tablets.push((await ctx.topo.getTablet(a)).value);
      for (const t of tablets) {
        if (t.type === 'primary' && !optBool(req, 'allow_primary')) {
          throw topoError('FAILED_PRECONDITION', `tablet ${tabletAliasString(t.alias)} is a primary; use --allow-primary to delete it`);
        }
      }
      for (const t of tablets) await ctx.topo.deleteTablet(t.alias);
      return null;
    },
  },

  GetVSchema: {
    readOnly: true,
    summary: 'GetVSchema <keyspace>',
    async run(ctx, req) {
      return await ctx.topo.getVSchema(reqString(req, 'keyspace'));
    },
  },
  ApplyVSchema: {
    readOnly: false,
    summary: 'ApplyVSchema {--vschema <json> | --vschema-file <file>} [--dry-run] [--skip-rebuild] [--cells c,...] <keyspace>',
    async run(ctx, req) {
      const keyspace = reqString(req, 'keyspace');
      const vschema = reqJson(req, 'vschema', parseJsonText);
      const dryRun = optBool(req, 'dry_run');
      const saved = await ctx.topo.saveVSchema(keyspace, vschema, { dryRun });
      if (!dryRun) await rebuildUnlessSkipped(ctx, req);
      return saved;
    },
  },
  GetRoutingRules: {
    readOnly: true,
    summary: 'GetRoutingRules',
    async run(ctx) {
      return json(await ctx.topo.getRoutingRules());
    },
  },
  ApplyRoutingRules: {
    readOnly: false,
    summary: 'ApplyRoutingRules {--rules <json> | --rules-file <file>} [--dry-run] [--skip-rebuild] [--cells c,...]',
    async run(ctx, req) {
      const rules = reqJson(req, 'rules', parseJsonText);
      const dryRun = optBool(req, 'dry_run');
      const saved = await ctx.topo.saveRoutingRules(rules, { dryRun });
      if (!dryRun) await rebuildUnlessSkipped(ctx, req);
      return json(saved);
    },
  },
  GetShardRoutingRules: {
    readOnly: true,
    summary: 'GetShardRoutingRules',
    async run(ctx) {
      return json(await ctx.topo.getShardRoutingRules());
    },
  },
  ApplyShardRoutingRules: {
    readOnly: false,
    summary: 'ApplyShardRoutingRules {--rules <json> | --rules-file <file>} [--dry-run] [--skip-rebuild] [--cells c,...]',
    async run(ctx, req) {
      const rules = reqJson(req, 'rules', parseJsonText);
      const dryRun = optBool(req, 'dry_run');
      const saved = await ctx.topo.saveShardRoutingRules(rules, { dryRun });
      if (!dryRun) await rebuildUnlessSkipped(ctx, req);
      return json(saved);
    },
  },
  GetKeyspaceRoutingRules: {
    readOnly: true,
    summary: 'GetKeyspaceRoutingRules',
    async run(ctx) {
      return json(await ctx.topo.getKeyspaceRoutingRules());
    },
  },
  ApplyKeyspaceRoutingRules: {
    readOnly: false,
    summary: 'ApplyKeyspaceRoutingRules {--rules <json> | --rules-file <file>} [--dry-run] [--skip-rebuild] [--cells c,...]',
    async run(ctx, req) {
      const rules = reqJson(req, 'rules', parseJsonText);
      const dryRun = optBool(req, 'dry_run');
      const saved = await ctx.topo.saveKeyspaceRoutingRules(rules, { dryRun });
      if (!dryRun) await rebuildUnlessSkipped(ctx, req);
      return json(saved);
    },
  },

  GetSrvKeyspaces: {
    readOnly: true,
    summary: 'GetSrvKeyspaces <keyspace> [<cell> ...]',
    async run(ctx, req) {
      const keyspace = reqString(req, 'keyspace');
      await ctx.topo.getKeyspace(keyspace);
      let cells = optStringList(req, 'cells');
      if (cells.length === 0) cells = await ctx.topo.getCellInfoNames();
      const out: Record<string, Json> = {};
      for (const cell of cells) out[cell] = json(await ctx.topo.getSrvKeyspace(cell, keyspace));
      return out;
    },
  },
  GetSrvKeyspaceNames: {
    readOnly: true,
    summary: 'GetSrvKeyspaceNames [<cell> ...]',
    async run(ctx, req) {
      let cells = optStringList(req, 'cells');
      if (cells.length === 0) cells = await ctx.topo.getCellInfoNames();
      const out: Record<string, Json> = {};
      for (const cell of cells) out[cell] = { names: await ctx.topo.getSrvKeyspaceNames(cell) };
      return out;
    },
  },
  GetSrvVSchema: {
    readOnly: true,
    summary: 'GetSrvVSchema <cell>',
    async run(ctx, req) {
      return json(await ctx.topo.getSrvVSchema(reqString(req, 'cell')));
    },
  },
  GetSrvVSchemas: {
    readOnly: true,
    summary: 'GetSrvVSchemas [--cells c,...]',
    async run(ctx, req) {
      let cells = optStringList(req, 'cells');
      if (cells.length === 0) cells = await ctx.topo.getCellInfoNames();
      const out: Record<string, Json> = {};
      for (const cell of cells) out[cell] = json(await ctx.topo.getSrvVSchema(cell));
      return { srv_v_schemas: out };
    },
  },
  RebuildKeyspaceGraph: {
    readOnly: false,
    summary: 'RebuildKeyspaceGraph [--cells c,...] [--allow-partial] [--reset-partitions] <keyspace> ...',
    async run(ctx, req) {
      const keyspaces = optStringList(req, 'keyspaces');
      if (keyspaces.length === 0) throw topoError('BAD_ARGUMENT', 'no keyspaces given');
      for (const ks of keyspaces) await ctx.topo.getKeyspace(ks);
      for (const ks of keyspaces) {
        await ctx.topo.rebuildKeyspaceGraph(ks, {
          cells: optStringList(req, 'cells'),
          allowPartial: optBool(req, 'allow_partial'),
          resetPartitions: optBool(req, 'reset_partitions'),
        });
      }
      return null;
    },
  },
  SetShardTabletControl: {
    readOnly: false,
    summary: 'SetShardTabletControl [--cells c,...] [--denied-tables t,...] [--disable-query-service] [--remove] <keyspace/shard> <tablet_type>',
    async run(ctx, req) {
      const { keyspace, shard } = parseKeyspaceShard(reqString(req, 'keyspace_shard'));
      const dqs = req.disable_query_service;
      const s = await ctx.topo.setShardTabletControl(keyspace, shard, parseTabletType(reqString(req, 'tablet_type')), {
        cells: optStringList(req, 'cells'),
        deniedTables: optStringList(req, 'denied_tables'),
        ...(dqs === undefined || dqs === null ? {} : { disableQueryService: optBool(req, 'disable_query_service') }),
        remove: optBool(req, 'remove'),
      });
      return json({ shard: s });
    },
  },
  MigrateServedTypes: {
    readOnly: false,
    summary: 'MigrateServedTypes [--cells c,...] [--reverse] <keyspace/shard> <served_type>',
    async run(ctx, req) {
      const { keyspace, shard } = parseKeyspaceShard(reqString(req, 'keyspace_shard'));
      const servedType = parseTabletType(reqString(req, 'served_type'));
      const r = await ctx.topo.migrateServedType(keyspace, shard, servedType, { cells: optStringList(req, 'cells'), reverse: optBool(req, 'reverse') });
      return json({ keyspace, served_type: servedType, from_shards: r.from, to_shards: r.to, srv_keyspaces: r.cells });
    },
  },
  RebuildVSchemaGraph: {
    readOnly: false,
    summary: 'RebuildVSchemaGraph [--cells c,...]',
    async run(ctx, req) {
      await ctx.topo.rebuildVSchemaGraph({ cells: optStringList(req, 'cells') });
      return null;
    },
  },
};
