// The cluster file of `tessera up`: cells, keyspaces with their shards, VSchema, schema and data,
// tablets by type, ports, topo backend, combined or distributed mode. Every problem is reported
// with the file, the line and the reason before anything starts.
import fs from 'node:fs';
import path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair, type YAMLMap } from 'yaml';
import { ER, TesseraError } from '../mysql/errors.js';
import { parseShardName, validatePartition } from '../key/index.js';
import { parseKeyspaceVSchema } from '../vschema/index.js';
import { loadDbCredentials } from '../mysqlctl/index.js';
import { engineFlagsFrom } from '../vreplication/controller.js';

export type ClusterMode = 'combined' | 'distributed';
export type TopoBackend = 'file' | 'etcd';
export type LocalTabletType = 'primary' | 'replica' | 'rdonly';

export interface TabletSpec {
  readonly uid: number;
  readonly type: LocalTabletType;
  readonly mysqlPort: number;
  readonly httpPort: number;
  readonly grpcPort: number;
}

export interface ShardSpec {
  readonly name: string;
  readonly tablets: readonly TabletSpec[];
}

export interface KeyspaceSpec {
  readonly name: string;
  readonly durabilityPolicy: 'none' | 'semi_sync';
  /** Absolute paths. */
  readonly vschemaFile: string | null;
  readonly schemaFiles: readonly string[];
  readonly dataFiles: readonly string[];
  readonly shards: readonly ShardSpec[];
}

export interface GateSpec {
  /** `gate` for the first gate, `gate-2`, `gate-3`… for the others (process and log names). */
  readonly name: string;
  readonly port: number;
  readonly httpPort: number;
  readonly authFile: string | null;
  readonly transactionMode: 'single' | 'multi';
  /** The gate honours shard routing rules (partial MoveTables); off by default, as in Vitess. */
  readonly enablePartialKeyspaceMigration: boolean;
}

export interface ClusterSpec {
  readonly file: string;
  readonly cell: string;
  readonly mode: ClusterMode;
  readonly topo: { readonly implementation: TopoBackend; readonly etcdClientPort: number; readonly etcdPeerPort: number };
  /** The first gate (`gate:`, or the first of `gates:`): where `up` loads data and what it prints. */
  readonly gate: GateSpec;
  /** Every gate: `gate:` declares one, `gates:` a list of them. */
  readonly gates: readonly GateSpec[];
  readonly ctld: { readonly port: number; readonly grpcPort: number };
  readonly keyspaces: readonly KeyspaceSpec[];
  /** Passwords of the vt_* MariaDB accounts (Vitess's --db-credentials-file format); absolute path. */
  readonly dbCredentialsFile: string | null;
  /**
   * `tessera tablet` flags for every tablet (today the VReplication engine's settings, e.g.
   * `vreplication-copy-readers: 4`), by flag name; values as the flag takes them.
   */
  readonly tabletFlags: Readonly<Record<string, string>>;
  /**
   * Distributed mode: `up` starts again a component (etcd, ctld, a gate, a tablet) that exits while
   * the cluster runs, after a delay that doubles on each quick exit (as an orchestrator would).
   */
  readonly restartProcesses: boolean;
  /** Tablets start their MariaDB again when it dies (--mysql-restart; on by default)… */
  readonly mysqlRestart: boolean;
  /** …and raise an alert when it is not back within this (--mysql-restart-timeout). */
  readonly mysqlRestartTimeoutMs: number;
}

class SpecError extends Error {}

export function loadClusterFile(file: string, overrides: ClusterFileOverrides = {}): ClusterSpec {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new TesseraError(ER.WRONG_ARGUMENTS, `cannot read cluster file ${file}: ${(err as Error).message}`);
  }
  return parseClusterFile(text, file, overrides);
}

/** Settings given on the command line that win over the file's (`tessera up --mode distributed`). */
export interface ClusterFileOverrides {
  readonly mode?: ClusterMode;
}

export function parseClusterFile(text: string, file: string, overrides: ClusterFileOverrides = {}): ClusterSpec {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true });
  const where = (n: Node | Pair | null | undefined): string => {
    const range = n && 'range' in n ? n.range : n && 'key' in n && n.key && typeof n.key === 'object' && 'range' in n.key ? (n.key as Node).range : undefined;
    return range ? `${file}:${lc.linePos(range[0]).line}` : file;
  };
  const fail = (n: Node | Pair | null | undefined, msg: string): never => {
    throw new SpecError(`${where(n)}: ${msg}`);
  };
  try {
    if (doc.errors.length > 0) {
      const e = doc.errors[0];
      throw new SpecError(`${file}:${e.linePos?.[0].line ?? '?'}: ${e.message.split('\n')[0]}`);
    }
    const dir = path.dirname(path.resolve(file));
    const root = doc.contents;
    if (!isMap(root)) fail(root, 'the cluster file must be a mapping with keys such as cell, mode and keyspaces');
    const top = fields(root as YAMLMap, ['cell', 'mode', 'topo', 'gate', 'gates', 'ctld', 'keyspaces', 'dbCredentialsFile', 'tabletFlags', 'restartProcesses', 'mysqlRestart', 'mysqlRestartTimeoutMs'], 'the cluster file', fail);
    const mysqlRestart = oneOf(top.get('mysqlRestart'), ['true', 'false'] as const, 'true', 'mysqlRestart', fail) === 'true';
    const mysqlRestartTimeoutMs = int(top.get('mysqlRestartTimeoutMs'), 30_000, 'mysqlRestartTimeoutMs', fail, 0, 86_400_000);
    const restartProcesses = oneOf(top.get('restartProcesses'), ['true', 'false'] as const, 'false', 'restartProcesses', fail) === 'true';

    const cell = str(top.get('cell'), 'zone1', 'cell', fail);
    if (!/^[A-Za-z0-9_.]+$/.test(cell)) fail(top.get('cell'), `cell '${cell}' may only use letters, digits, '_' and '.'`);
    const mode = overrides.mode ?? oneOf(top.get('mode'), ['combined', 'distributed'] as const, 'combined', 'mode', fail);

    const topoNode = top.get('topo');
    const topoF = topoNode ? fields(topoNode as YAMLMap, ['implementation', 'etcdClientPort', 'etcdPeerPort'], 'topo', fail) : new Map<string, Node>();
    const topo = {
      implementation: oneOf(topoF.get('implementation'), ['file', 'etcd'] as const, mode === 'distributed' ? 'etcd' : 'file', 'topo.implementation', fail),
      etcdClientPort: port(topoF.get('etcdClientPort'), 2379, 'topo.etcdClientPort', fail),
      etcdPeerPort: port(topoF.get('etcdPeerPort'), 2380, 'topo.etcdPeerPort', fail),
    };

    if (top.has('gate') && top.has('gates')) fail(top.get('gates'), "give either gate (one gate) or gates (a list of gates), not both");
    const gatesNode = top.get('gates');
    if (gatesNode !== undefined && (!isSeq(gatesNode) || gatesNode.items.length === 0)) fail(gatesNode, 'gates must be a list of gate settings, e.g. [{port: 15306, httpPort: 15001}, {port: 15307, httpPort: 15002}]');
    const gateNodes: (Node | undefined)[] = gatesNode ? ((gatesNode as { items: unknown[] }).items as Node[]) : [top.get('gate')];
    const gateFields: Map<string, Node>[] = [];
    const gates: GateSpec[] = gateNodes.map((gateNode, i) => {
      const what = gatesNode ? `gates[${i}]` : 'gate';
      const gateF = gateNode ? fields(gateNode as YAMLMap, ['port', 'httpPort', 'authFile', 'transactionMode', 'enablePartialKeyspaceMigration'], what, fail) : new Map<string, Node>();
      gateFields.push(gateF);
      const authRaw = gateF.get('authFile');
      return {
        name: i === 0 ? 'gate' : `gate-${i + 1}`,
        // Later gates default to the ports after the first's.
        port: port(gateF.get('port'), 15306 + i, `${what}.port`, fail),
        httpPort: port(gateF.get('httpPort'), 15001 + i, `${what}.httpPort`, fail),
        authFile: authRaw ? fileRef(authRaw, dir, `${what}.authFile`, fail) : null,
        transactionMode: oneOf(gateF.get('transactionMode'), ['single', 'multi'] as const, 'multi', `${what}.transactionMode`, fail),
        enablePartialKeyspaceMigration: oneOf(gateF.get('enablePartialKeyspaceMigration'), ['true', 'false'] as const, 'false', `${what}.enablePartialKeyspaceMigration`, fail) === 'true',
      };
    });
    const gate = gates[0];

    const credsNode = top.get('dbCredentialsFile');
    const dbCredentialsFile = credsNode ? fileRef(credsNode, dir, 'dbCredentialsFile', fail) : null;
    if (dbCredentialsFile) {
      try {
        loadDbCredentials(dbCredentialsFile);
      } catch (err) {
        fail(credsNode, (err as Error).message);
      }
    }

    const tabletFlags: Record<string, string> = {};
    const tfNode = top.get('tabletFlags');
    if (tfNode !== undefined) {
      if (!isMap(tfNode)) fail(tfNode, 'tabletFlags must be a mapping from flag name to value, e.g. vreplication-copy-readers: 4');
      for (const p of (tfNode as YAMLMap).items) {
        const k = scalarKey(p, fail);
        const v = p.value;
        if (!isScalar(v) || (typeof v.value !== 'string' && typeof v.value !== 'number')) fail(p, `tabletFlags.${k} must be a number or a duration such as 5s`);
        try {
          engineFlagsFrom({ [k]: String((v as { value: unknown }).value) }, `tabletFlags`);
        } catch (err) {
          fail(p, (err as Error).message);
        }
        tabletFlags[k.replace(/_/g, '-')] = String((v as { value: unknown }).value);
      }
    }

    const ctldNode = top.get('ctld');
    const ctldF = ctldNode ? fields(ctldNode as YAMLMap, ['port', 'grpcPort'], 'ctld', fail) : new Map<string, Node>();
    const ctld = { port: port(ctldF.get('port'), 15000, 'ctld.port', fail), grpcPort: port(ctldF.get('grpcPort'), 15999, 'ctld.grpcPort', fail) };

    const ksNode = top.get('keyspaces');
    if (!isMap(ksNode) || ksNode.items.length === 0) fail(ksNode ?? root, 'keyspaces: give at least one keyspace, as a mapping from name to its settings');
    const keyspaces: KeyspaceSpec[] = [];
    const uids = new Map<number, string>();
    const ports = new Map<number, string>();
    const usePort = (p: number, what: string, n: Node | Pair | null) => {
      const prev = ports.get(p);
      if (prev) fail(n, `port ${p} is used twice: by ${prev} and by ${what}`);
      ports.set(p, what);
    };
    gates.forEach((g, i) => {
      const what = gatesNode ? `gates[${i}]` : 'gate';
      usePort(g.port, `${what}.port`, gateFields[i].get('port') ?? gateNodes[i] ?? root);
      usePort(g.httpPort, `${what}.httpPort`, gateFields[i].get('httpPort') ?? gateNodes[i] ?? root);
    });
    usePort(ctld.port, 'ctld.port', ctldF.get('port') ?? root);
    usePort(ctld.grpcPort, 'ctld.grpcPort', ctldF.get('grpcPort') ?? root);
    if (topo.implementation === 'etcd') {
      usePort(topo.etcdClientPort, 'topo.etcdClientPort', topoF.get('etcdClientPort') ?? root);
      usePort(topo.etcdPeerPort, 'topo.etcdPeerPort', topoF.get('etcdPeerPort') ?? root);
    }

    for (const pair of (ksNode as YAMLMap).items) {
      const name = scalarKey(pair, fail);
      if (!/^[A-Za-z0-9_][A-Za-z0-9_-]*$/.test(name)) fail(pair, `keyspace name '${name}' is not valid`);
      const kf = fields(pair.value as YAMLMap, ['durabilityPolicy', 'vschema', 'schema', 'data', 'shards'], `keyspace ${name}`, fail);
      const vschemaFile = kf.get('vschema') ? fileRef(kf.get('vschema')!, dir, `keyspace ${name} vschema`, fail) : null;
      let sharded = false;
      if (vschemaFile) {
        try {
          sharded = parseKeyspaceVSchema(name, fs.readFileSync(vschemaFile, 'utf8')).sharded;
        } catch (err) {
          fail(kf.get('vschema'), `keyspace ${name}: ${(err as Error).message}`);
        }
      }
      const shardsNode = kf.get('shards');
      if (!isMap(shardsNode) || shardsNode.items.length === 0) fail(shardsNode ?? pair, `keyspace ${name}: shards: give at least one shard, e.g. "0" for an unsharded keyspace or "-80" and "80-"`);
      const shards: ShardSpec[] = [];
      for (const sp of (shardsNode as YAMLMap).items) {
        const sname = scalarKey(sp, fail);
        try {
          parseShardName(sname);
        } catch (err) {
          fail(sp, `keyspace ${name}: shard '${sname}' is not a key range: ${(err as Error).message}`);
        }
        const sf = fields(sp.value as YAMLMap, ['tablets'], `shard ${name}/${sname}`, fail);
        const tn = sf.get('tablets');
        if (!isSeq(tn) || tn.items.length === 0) fail(tn ?? sp, `shard ${name}/${sname}: tablets: give a list such as [{uid: 100, type: primary}]`);
        const tablets: TabletSpec[] = [];
        for (const item of (tn as { items: unknown[] }).items as Node[]) {
          const tf = fields(item as YAMLMap, ['uid', 'type', 'mysqlPort', 'port', 'grpcPort'], `a tablet of shard ${name}/${sname}`, fail);
          const uid = int(tf.get('uid'), null, `tablet uid in ${name}/${sname}`, fail, 1, 4294967295);
          const owner = uids.get(uid);
          if (owner) fail(tf.get('uid') ?? item, `tablet uid ${uid} is used twice: in ${owner} and in ${name}/${sname}`);
          uids.set(uid, `${name}/${sname}`);
          const type = oneOf(tf.get('type'), ['primary', 'replica', 'rdonly'] as const, null, `type of tablet ${uid}`, fail);
          const t: TabletSpec = {
            uid,
            type,
            mysqlPort: port(tf.get('mysqlPort'), 17000 + uid, `mysqlPort of tablet ${uid}`, fail),
            httpPort: port(tf.get('port'), 15000 + uid, `port of tablet ${uid}`, fail),
            grpcPort: port(tf.get('grpcPort'), 16000 + uid, `grpcPort of tablet ${uid}`, fail),
          };
          usePort(t.mysqlPort, `mysqlPort of tablet ${uid}`, tf.get('mysqlPort') ?? item);
          usePort(t.httpPort, `port of tablet ${uid}`, tf.get('port') ?? item);
          usePort(t.grpcPort, `grpcPort of tablet ${uid}`, tf.get('grpcPort') ?? item);
          tablets.push(t);
        }
        const primaries = tablets.filter((t) => t.type === 'primary').length;
        if (primaries !== 1) fail(tn, `shard ${name}/${sname} needs exactly one tablet of type primary, has ${primaries}`);
        shards.push({ name: sname, tablets });
      }
      try {
        validatePartition(shards.map((s) => s.name));
      } catch (err) {
        fail(shardsNode, `keyspace ${name}: the shards must cover the key range once: ${(err as Error).message}`);
      }
      if (!sharded && shards.length > 1) fail(kf.get('vschema') ?? pair, `keyspace ${name} has ${shards.length} shards but its VSchema is not "sharded": true`);
      keyspaces.push({
        name,
        durabilityPolicy: oneOf(kf.get('durabilityPolicy'), ['none', 'semi_sync'] as const, 'none', `keyspace ${name} durabilityPolicy`, fail),
        vschemaFile,
        schemaFiles: fileList(kf.get('schema'), dir, `keyspace ${name} schema`, fail),
        dataFiles: fileList(kf.get('data'), dir, `keyspace ${name} data`, fail),
        shards,
      });
    }
    return { file: path.resolve(file), cell, mode, topo, gate, gates, ctld, keyspaces, dbCredentialsFile, tabletFlags, restartProcesses, mysqlRestart, mysqlRestartTimeoutMs };
  } catch (err) {
    if (err instanceof SpecError) throw new TesseraError(ER.WRONG_ARGUMENTS, `invalid cluster file: ${err.message}`);
    throw err;
  }
}

type Fail = (n: Node | Pair | null | undefined, msg: string) => never;

function fields(n: YAMLMap | Node | null | undefined, allowed: readonly string[], what: string, fail: Fail): Map<string, Node> {
  if (!isMap(n)) return fail(n, `${what} must be a mapping`);
  const out = new Map<string, Node>();
  for (const p of n.items) {
    const k = scalarKey(p, fail);
    if (!allowed.includes(k)) fail(p, `unknown key '${k}' in ${what} (expected one of: ${allowed.join(', ')})`);
    out.set(k, p.value as Node);
  }
  return out;
}

function scalarKey(p: Pair, fail: Fail): string {
  if (!isScalar(p.key)) return fail(p, 'keys must be plain names');
  return String(p.key.value);
}

function str(n: Node | undefined, dflt: string, what: string, fail: Fail): string {
  if (n === undefined) return dflt;
  if (!isScalar(n) || typeof n.value !== 'string') return fail(n, `${what} must be a string`);
  return n.value;
}

function int(n: Node | undefined, dflt: number | null, what: string, fail: Fail, min: number, max: number): number {
  if (n === undefined) {
    if (dflt === null) return fail(n, `${what} is required`);
    return dflt;
  }
  if (!isScalar(n) || typeof n.value !== 'number' || !Number.isInteger(n.value) || n.value < min || n.value > max) {
    return fail(n, `${what} must be an integer from ${min} to ${max}`);
  }
  return n.value;
}

function port(n: Node | undefined, dflt: number, what: string, fail: Fail): number {
  return int(n, dflt, what, fail, 1, 65535);
}

function oneOf<T extends string>(n: Node | undefined, allowed: readonly T[], dflt: T | null, what: string, fail: Fail): T {
  if (n === undefined) {
    if (dflt === null) return fail(n, `${what} is required (one of: ${allowed.join(', ')})`);
    return dflt;
  }
  const v = isScalar(n) ? String(n.value) : '';
  if (!(allowed as readonly string[]).includes(v)) return fail(n, `${what} must be one of: ${allowed.join(', ')} (got '${v}')`);
  return v as T;
}

function fileRef(n: Node, dir: string, what: string, fail: Fail): string {
  if (!isScalar(n) || typeof n.value !== 'string') return fail(n, `${what} must be a file name`);
  const p = path.resolve(dir, n.value);
  if (!fs.existsSync(p)) fail(n, `${what}: file ${p} does not exist`);
  return p;
}

function fileList(n: Node | undefined, dir: string, what: string, fail: Fail): string[] {
  if (n === undefined) return [];
  if (isScalar(n)) return [fileRef(n, dir, what, fail)];
  if (!isSeq(n)) return fail(n, `${what} must be a file name or a list of them`);
  return (n.items as Node[]).map((i) => fileRef(i, dir, what, fail));
}
