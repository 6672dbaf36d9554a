// A session's connection character sets (character_set_client, character_set_connection with
// collation_connection, character_set_results), and how the gate honours them.
//
// The approach, in two halves:
//  - The client's statements are decoded at the gate with its character_set_client (the protocol
//    server does it, src/mysql/charsets.ts), so the gate parses, routes and hashes text, not bytes,
//    and every statement reaches a tablet in utf8mb4, the character set of the tablets' pooled
//    connections: a string literal arrives at MariaDB as the same characters the client wrote.
//  - character_set_connection/collation_connection and character_set_results are session settings
//    carried to the tablets' connections (reserved connections, as any other session setting): MariaDB
//    converts the literals to the connection's character set (so CHARSET('a'), LENGTH('Müller') and
//    comparisons answer as they would directly) and converts results to the results character set,
//    column definitions included, so rows reach the client as MariaDB would send them directly.
// A session whose settings are the tablets' (utf8mb4, utf8mb4_general_ci) needs no reserved
// connection. A handshake in another utf8mb4 collation (mysql2 asks for utf8mb4_unicode_ci) keeps the
// pooled path too: only its @@collation_connection answer follows the handshake.
import { ER, TesseraError } from '../mysql/errors.js';
import type { ColumnDefinition } from '../mysql/protocol.js';
import { defaultCollation, isClientCharset, mariadbCharset, mariadbCollation, mariadbCollationByName } from '../mysql/charsets.js';

export interface ConnectionCharsets {
  readonly client: string;
  /** collation_connection (its character set is character_set_connection); null = the database's (SET CHARACTER SET). */
  readonly collation: string | null;
  /** null: results are sent as stored, not converted (SET character_set_results = NULL). */
  readonly results: string | null;
  /** Whether the collation came from the handshake alone (then a utf8mb4 one is not carried to the tablets). */
  readonly fromHandshake: boolean;
}

const TABLET: ConnectionCharsets = { client: 'utf8mb4', collation: 'utf8mb4_general_ci', results: 'utf8mb4', fromHandshake: false };

export const CHARSET_VARS = new Set(['character_set_client', 'character_set_connection', 'collation_connection', 'character_set_results']);

/** What a handshake's collation id asks for; one MariaDB does not know (or not for a client) gives the server's default, as MariaDB does. */
export function handshakeCharsets(id: number): ConnectionCharsets {
  const c = mariadbCollation(id);
  if (!c || !isClientCharset(c.charset)) return TABLET;
  return { client: c.charset, collation: c.name, results: c.charset, fromHandshake: true };
}

function unknownCharset(name: string): TesseraError {
  return new TesseraError(ER.UNKNOWN_CHARACTER_SET, `Unknown character set: '${name}'`);
}

function charsetOf(name: string, variable: string): string {
  // A number names the character set of the collation with that id, as in MariaDB.
  const numeric = /^\d+$/.test(name);
  const cs = numeric ? mariadbCollation(Number(name))?.charset : mariadbCharset(name);
  // MariaDB's internal `filename` character set (collation 17) exists, but no client may speak it.
  const internal = !cs && (numeric ? name === '17' : name.toLowerCase() === 'filename');
  if (!cs && !internal) throw unknownCharset(name);
  if (variable === 'character_set_client' && (internal || !isClientCharset(cs as string))) {
    throw new TesseraError({ errno: 1231, sqlState: '42000' }, `Variable 'character_set_client' can't be set to the value of '${name}'`);
  }
  if (!cs) throw unknownCharset(name);
  return cs;
}

function collationNamed(name: string): string {
  const c = mariadbCollationByName(name);
  if (!c) throw new TesseraError(ER.UNKNOWN_COLLATION, `Unknown collation: '${name}'`);
  return c.name;
}

/** SET NAMES charset [COLLATE collation]; `charset` null is DEFAULT (utf8mb4). */
export function setNames(charset: string | null, collate: string | null): ConnectionCharsets {
  if (charset === null) return TABLET;
  const cs = charsetOf(charset, 'character_set_client');
  let collation = defaultCollation(cs).name;
  if (collate !== null) {
    const c = mariadbCollationByName(collate);
    if (!c) throw new TesseraError(ER.UNKNOWN_COLLATION, `Unknown collation: '${collate}'`);
    if (c.charset !== cs) throw new TesseraError({ errno: 1253, sqlState: '42000' }, `COLLATION '${collate}' is not valid for CHARACTER SET '${cs}'`);
    collation = c.name;
  }
  return { client: cs, collation, results: cs, fromHandshake: false };
}

/** SET CHARACTER SET charset: client and results; the connection takes the database's character set. */
export function setCharacterSet(cur: ConnectionCharsets, charset: string | null): ConnectionCharsets {
  if (charset === null) return TABLET;
  const cs = charsetOf(charset, 'character_set_client');
  return { ...cur, client: cs, results: cs, collation: null, fromHandshake: false };
}

/** SET one of CHARSET_VARS = value (`value` null: NULL or DEFAULT). */
export function setCharsetVar(cur: ConnectionCharsets, name: string, value: string | null): ConnectionCharsets {
  switch (name) {
    case 'character_set_client':
      return { ...cur, client: value === null ? TABLET.client : charsetOf(value, name) };
    case 'character_set_results':
      return { ...cur, results: value === null ? null : charsetOf(value, name) };
    case 'character_set_connection':
      return { ...cur, collation: value === null ? TABLET.collation : defaultCollation(charsetOf(value, name)).name, fromHandshake: false };
    default:
      return { ...cur, collation: value === null ? TABLET.collation : collationNamed(value), fromHandshake: false };
  }
}

/**
 * The SET statement that puts a tablet connection in these settings (its character_set_client stays
 * utf8mb4: the gate sends utf8mb4), or null when the tablets' defaults already are.
 */
export function tabletSetting(cs: ConnectionCharsets): string | null {
  const collation = cs.collation === null ? null : cs.fromHandshake && mariadbCollationByName(cs.collation)?.charset === 'utf8mb4' ? TABLET.collation : cs.collation;
  if (collation === TABLET.collation && cs.results === TABLET.results) return null;
  const conn = collation === null ? 'collation_connection = @@collation_database' : `collation_connection = ${collation}`;
  return `SET ${conn}, character_set_results = ${cs.results ?? 'NULL'}`;
}

/**
 * The value of @@name the gate answers for itself, or undefined to ask the tablet: the tablet's
 * connection has the session's settings except character_set_client (always utf8mb4 there) and a
 * handshake's utf8mb4 collation (not carried, see tabletSetting).
 */
export function charsetVar(cs: ConnectionCharsets, name: string): string | null | undefined {
  if (name === 'character_set_client') return cs.client;
  if (!cs.fromHandshake) return undefined;
  switch (name) {
    case 'character_set_results':
      return cs.results;
    case 'collation_connection':
      return cs.collation ?? undefined;
    case 'character_set_connection':
      return cs.collation === null ? undefined : mariadbCollationByName(cs.collation)?.charset;
    default:
      return undefined;
  }
}

export const TABLET_CHARSETS = TABLET;

/** The tablets' connection collation, which their text columns report. */
const TABLET_COLLATION_ID = 45;

/**
 * MariaDB reports every text column of a result in the connection's collation when it is of the
 * results character set (a mysql2 client, which asks for utf8mb4_unicode_ci, sees 224 on every text
 * column). A handshake's utf8mb4 collation is not carried to the tablets, so their 45 is replaced
 * by it here; null when nothing needs replacing.
 */
export function reportedCollation(cs: ConnectionCharsets): number | null {
  if (!cs.fromHandshake || cs.collation === null || cs.results !== 'utf8mb4') return null;
  const c = mariadbCollationByName(cs.collation);
  return c && c.charset === 'utf8mb4' && c.id !== TABLET_COLLATION_ID ? c.id : null;
}

/** Column definitions with the tablets' collation replaced (one copy per array and collation, so encoded columns stay cached). */
const reported = new WeakMap<readonly ColumnDefinition[], Map<number, ColumnDefinition[]>>();
export function reportFields(fields: readonly ColumnDefinition[], collation: number): ColumnDefinition[] {
  let byCollation = reported.get(fields);
  if (!byCollation) reported.set(fields, (byCollation = new Map()));
  let out = byCollation.get(collation);
  if (!out) {
    out = fields.map((f) => (f.charset === TABLET_COLLATION_ID ? { ...f, charset: collation } : f));
    byCollation.set(collation, out);
  }
  return out;
}
