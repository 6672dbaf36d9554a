// System databases through the gate: `USE mysql` (information_schema, performance_schema, sys).
//
// A keyspace's MariaDB has its own system databases; the gate has none. Which MariaDB answers for
// them is decided by the session's target (docs/gate.md, "System databases"):
// - a targeted shard (`USE ks:-80`) or an unsharded keyspace: that shard's MariaDB (its primary,
//   or the tablet type the session targets);
// - no keyspace yet: the cluster's one keyspace when it has exactly one and it is unsharded;
// - anything else (a sharded keyspace without a shard, several keyspaces and none chosen) is
//   refused: the shards' system databases differ and no one of them is "the" answer.
// The session then keeps its keyspace for routing and holds its connection on that shard with
// `USE <db>` run on it (a session setting, like SET NAMES), so every statement — parsed or passed
// through — sees the system database as its default, as it would on MariaDB.
import { ER, TesseraError } from '../mysql/index.js';
import { tabletDbName } from '../topo/index.js';
import { DBA_SCHEMAS } from './planner/context.js';
import type { GateSession } from './session.js';

/** The system database's canonical name when `name` is one, else null. */
export function systemDatabase(name: string | null | undefined): string | null {
  if (!name) return null;
  const lower = name.toLowerCase();
  if (!DBA_SCHEMAS.has(lower)) return null;
  // information_schema is case-insensitive in MariaDB; the others are directories (case matters).
  return lower === 'information_schema' || name === lower ? lower : null;
}

/** The statement that makes a tablet connection's default database `db`. */
export function useStatement(db: string): string {
  return 'USE `' + db.replaceAll('`', '``') + '`';
}

/**
 * The keyspace (with the session's shard, if any) whose MariaDB answers for a system database, or
 * a clear refusal. `sharded(ks)` says whether a keyspace is sharded; `keyspaces` lists them all.
 */
export function systemDatabaseHost(gs: GateSession, db: string, keyspaces: readonly string[], sharded: (ks: string) => boolean): string {
  const ks = gs.keyspace;
  if (ks !== null) {
    if (gs.shard !== null || !sharded(ks)) return ks;
    throw new TesseraError(
      ER.NOT_SUPPORTED_YET,
      `USE ${db}: keyspace ${ks} is sharded and each shard's MariaDB has its own ${db}; target one shard first (USE \`${ks}:<shard>\`)`,
    );
  }
  if (keyspaces.length === 1 && !sharded(keyspaces[0])) return keyspaces[0];
  throw new TesseraError(
    ER.NOT_SUPPORTED_YET,
    `USE ${db}: the gate needs the keyspace whose MariaDB answers for ${db}; USE an unsharded keyspace (or \`ks:<shard>\`) first, then USE ${db}`,
  );
}

/**
 * Makes the tablets' connections of the session see `db` as their default database (null: back
 * to the keyspace's own). The statement becomes a session setting: connections reserved from now
 * on run it first. Connections the session already holds — a transaction's, a pinned session's —
 * get it at once; otherwise they are released and reserved again on the next statement.
 */
export async function switchTabletDatabase(gs: GateSession, db: string | null): Promise<void> {
  const old = gs.databaseSetting;
  const next = db === null ? null : useStatement(db);
  if (old === next) return;
  if (gs.inTransaction && [...gs.shardSessions.values()].some((ss) => ss.reservedId === 0)) {
    throw new TesseraError(ER.NOT_SUPPORTED_YET, `USE ${db ?? gs.keyspace ?? ''} between a system database and a keyspace inside a transaction through the gate; COMMIT or ROLLBACK first`);
  }
  gs.settings = gs.settings.filter((s) => s !== old);
  gs.databaseSetting = next;
  if (next !== null) gs.settings = [...gs.settings, next];
  if (!gs.inTransaction && !gs.pinned) {
    await gs.releaseReserved();
    return;
  }
  // Held connections (all reserved, see GateSession.executeOnShardNow) get the change now.
  for (const rsv of gs.reserved.values()) {
    let sql = next;
    if (sql === null) {
      const t = gs.core.health.byAlias(rsv.tabletAlias);
      sql = useStatement(t ? tabletDbName(t.tablet) : `vt_${rsv.target.keyspace}`);
    }
    await rsv.conn.execute(rsv.target, sql, null, { reservedId: rsv.reservedId });
  }
}
