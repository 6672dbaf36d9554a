// Passwords of the accounts Tessera creates, from a Vitess-style credentials file:
//   {"vt_app": ["app-password"], "vt_repl": ["repl-password"], "vt_dba": ["dba-password"]}
// (a plain string is accepted for each user too). Accounts not listed keep an empty password, as in
// Vitess's local example. vt_dba on the instance's own socket never needs one: that account is how
// mysqlctl and the tablet administer their MariaDB.
import fs from 'node:fs';
import { ER, TesseraError } from '../mysql/errors.js';
import { ALLPRIVS_USER, APP_USER, DBA_USER, FILTERED_USER, REPL_USER } from './users.js';

export type DbCredentials = Readonly<Record<string, string>>;

const KNOWN = [DBA_USER, APP_USER, ALLPRIVS_USER, REPL_USER, FILTERED_USER];

export function parseDbCredentials(json: unknown, where: string): DbCredentials {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new TesseraError(ER.WRONG_ARGUMENTS, `${where}: want an object of user name → ["password"]`);
  }
  const out: Record<string, string> = {};
  for (const [user, v] of Object.entries(json as Record<string, unknown>)) {
    if (!KNOWN.includes(user)) throw new TesseraError(ER.WRONG_ARGUMENTS, `${where}: unknown user '${user}' (want one of ${KNOWN.join(', ')})`);
    const pw = Array.isArray(v) ? v[0] : v;
    if (typeof pw !== 'string') throw new TesseraError(ER.WRONG_ARGUMENTS, `${where}: the password of ${user} must be a string`);
    out[user] = pw;
  }
  return out;
}

export function loadDbCredentials(file: string | undefined): DbCredentials {
  if (!file) return {};
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new TesseraError(ER.WRONG_ARGUMENTS, `cannot read --db-credentials-file ${file}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new TesseraError(ER.WRONG_ARGUMENTS, `--db-credentials-file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  return parseDbCredentials(json, `--db-credentials-file ${file}`);
}

export function passwordOf(creds: DbCredentials | undefined, user: string): string {
  return creds?.[user] ?? '';
}

/** ALTER USER statements setting every account's password (vt_dba only off the socket). */
export function passwordSql(creds: DbCredentials): string[] {
  const stmts: string[] = [];
  const q = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  for (const user of KNOWN) {
    const pw = creds[user] ?? '';
    const hosts = user === DBA_USER ? ['127.0.0.1', '::1'] : ['localhost', '127.0.0.1', '::1', '%'];
    for (const h of hosts) stmts.push(`ALTER USER IF EXISTS ${q(user)}@${q(h)} IDENTIFIED BY ${q(pw)}`);
  }
  return stmts;
}
