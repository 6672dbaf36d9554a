// --defer-secondary-keys: a table's secondary keys are dropped on the target before its copy starts
// and added back, in one ALTER, when its copy ends. InnoDB then inserts the copied rows into the
// clustered index alone and builds each secondary index once, sorted, instead of updating every
// index row by row (how much that saves: bench/copy-bench.ts).
//
// Crash safety: the ALTER that adds the keys back is written to post_copy_action (and committed)
// before the keys are dropped, and deleted only after it ran. Both statements are idempotent
// (DROP INDEX IF EXISTS, ADD KEY IF NOT EXISTS), so a crash at any point repeats at most one of them.
//
// Left in place: the primary key; with no primary key, the unique keys (one of them is the copy's
// row identity); and every key of a table with foreign keys (an index a foreign key needs cannot
// be dropped). Such tables are copied with their keys.
import type { Client } from '../mysql/client.js';
import { logger } from '../log/index.js';
import { quoteIdent } from '../sql/index.js';
import type { StreamStore } from './stream-store.js';

const log = logger('vreplication');

interface KeyDef {
  readonly name: string;
  /** The definition as SHOW CREATE TABLE prints it, e.g. "KEY `idx_email` (`email`)". */
  readonly definition: string;
}

const KEY_LINE = /^\s*((?:UNIQUE |FULLTEXT |SPATIAL )?KEY) (`(?:[^`]|``)+`) (.*?),?$/;

function text(v: unknown): string {
  return Buffer.isBuffer(v) ? v.toString('utf8') : String(v ?? '');
}

/** The keys of `table` the copy may defer, from SHOW CREATE TABLE. */
async function deferrableKeys(c: Client, db: string, table: string): Promise<KeyDef[]> {
  const r = await c.query(`SHOW CREATE TABLE ${quoteIdent(db)}.${quoteIdent(table)}`);
  const create = text(r.rows[0]?.[1]);
  const lines = create.split('\n');
  if (lines.some((l) => /^\s*CONSTRAINT .* FOREIGN KEY /.test(l))) return [];
  const hasPrimary = lines.some((l) => /^\s*PRIMARY KEY /.test(l));
  const keys: KeyDef[] = [];
  for (const l of lines) {
    const m = KEY_LINE.exec(l);
    if (!m) continue;
    if (!hasPrimary && m[1] === 'UNIQUE KEY') continue;
    keys.push({ name: m[2].slice(1, -1).replaceAll('``', '`'), definition: `${m[1]} ${m[2]} ${m[3]}` });
  }
  return keys;
}

/**
 * Before the first row of `table` is copied: records the ALTER that adds its secondary keys back,
 * then drops them. Returns how many keys were deferred.
 */
export async function deferSecondaryKeys(c: Client, store: StreamStore, id: number, db: string, table: string): Promise<number> {
  const pending = await c.query(store.sqlReadPostCopyActions(id));
  // Already deferred by an earlier attempt (a crash after the record): drop what is still there.
  const recorded = pending.rows.some((row) => text(row[1]) === table);
  const keys = await deferrableKeys(c, db, table);
  if (keys.length === 0) return 0;
  const ref = `${quoteIdent(db)}.${quoteIdent(table)}`;
  if (!recorded) {
    const add = `ALTER TABLE ${ref} ${keys.map((k) => `ADD ${k.definition.replace(/KEY /, 'KEY IF NOT EXISTS ')}`).join(', ')}`;
    await c.query(store.sqlInsertPostCopyAction(id, table, add));
  }
  await c.query(`ALTER TABLE ${ref} ${keys.map((k) => `DROP INDEX IF EXISTS ${quoteIdent(k.name)}`).join(', ')}`);
  log.info({ id, table, keys: keys.map((k) => k.name) }, 'secondary keys deferred to the end of the copy');
  return keys.length;
}

/**
 * Runs the post-copy actions of every table not in `stillCopying` (its copy has ended), deleting
 * each after it ran. Returns the tables whose keys were added back.
 */
export async function runPostCopyActions(c: Client, store: StreamStore, id: number, stillCopying: ReadonlySet<string>): Promise<string[]> {
  const pending = await c.query(store.sqlReadPostCopyActions(id));
  const done: string[] = [];
  for (const row of pending.rows) {
    const table = text(row[1]);
    if (stillCopying.has(table)) continue;
    const action = JSON.parse(text(row[2])) as { type?: string; task?: string };
    if (action.type === 'sql' && typeof action.task === 'string') await c.query(action.task);
    await c.query(store.sqlDeletePostCopyAction(Number(row[0])));
    done.push(table);
    log.info({ id, table }, 'secondary keys added back after the copy');
  }
  return done;
}
