// Users from Vitess's static auth file (`--mysql-auth-server-static-file`):
//   {"user": [{"Password": "pw", "UserData": "user"}], "app": [{"MysqlNativePassword": "*6BB4…"}]}
// An entry may also list the keyspaces the user may use: {"Password": "pw", "Keyspaces": ["customer"]}.
// Without a file every user name is accepted with an empty password (Vitess's `none` auth).
import { readFileSync } from 'node:fs';
import { ER, TesseraError, type UserCredentials } from '../mysql/index.js';

interface Entry {
  readonly credentials: UserCredentials;
  readonly keyspaces: ReadonlySet<string> | null;
}

export class StaticAuth {
  private readonly users: Map<string, Entry> | null;

  constructor(users: Map<string, Entry> | null) {
    this.users = users;
  }

  static none(): StaticAuth {
    return new StaticAuth(null);
  }

  static fromJSON(json: unknown, where = 'static auth'): StaticAuth {
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new TesseraError(ER.WRONG_ARGUMENTS, `${where}: want an object of user name → [entries]`);
    const users = new Map<string, Entry>();
    for (const [user, v] of Object.entries(json as Record<string, unknown>)) {
      const list = Array.isArray(v) ? v : [v];
      const e = list[0] as Record<string, unknown> | undefined;
      if (!e || typeof e !== 'object') throw new TesseraError(ER.WRONG_ARGUMENTS, `${where}: user ${user} has no entry`);
      let credentials: UserCredentials;
      if (typeof e.MysqlNativePassword === 'string' && e.MysqlNativePassword !== '') {
        const hex = e.MysqlNativePassword.replace(/^\*/, '');
        if (!/^[0-9A-Fa-f]{40}$/.test(hex)) throw new TesseraError(ER.WRONG_ARGUMENTS, `${where}: user ${user}: MysqlNativePassword must be '*' and 40 hex digits`);
        credentials = { nativePasswordHash: Buffer.from(hex, 'hex') };
      } else credentials = { password: typeof e.Password === 'string' ? e.Password : '' };
      const ks = e.Keyspaces ?? e.keyspaces;
      let keyspaces: Set<string> | null = null;
      if (ks !== undefined) {
        if (!Array.isArray(ks) || !ks.every((k) => typeof k === 'string')) throw new TesseraError(ER.WRONG_ARGUMENTS, `${where}: user ${user}: Keyspaces must be a list of names`);
        keyspaces = new Set(ks as string[]);
      }
      users.set(user, { credentials, keyspaces });
    }
    return new StaticAuth(users);
  }

  static fromFile(path: string): StaticAuth {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new TesseraError(ER.WRONG_ARGUMENTS, `cannot read static auth file ${path}: ${(err as Error).message}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new TesseraError(ER.WRONG_ARGUMENTS, `static auth file ${path} is not valid JSON: ${(err as Error).message}`);
    }
    return StaticAuth.fromJSON(json, path);
  }

  credentials(user: string): UserCredentials | null {
    if (this.users === null) return { password: '' };
    return this.users.get(user)?.credentials ?? null;
  }

  keyspaces(user: string): ReadonlySet<string> | null {
    return this.users?.get(user)?.keyspaces ?? null;
  }
}
