// A real MariaDB with a table holding every type at its edges, and our pass-through proxy
// (our server + our client) in front of it.
import { startMariaDB, type TestMariaDB } from '../../harness/mariadb.js';
import { Client } from '../../../src/mysql/client.js';
import { Server, type ServerOptions } from '../../../src/mysql/server.js';
import { PassThroughHandler } from '../../../src/mysql/proxy.js';

export const DB = 'protodb';
export const USERS = { vt_dba: '', pwuser: 'secret pw' };

export const TYPES_DDL = `CREATE TABLE types (
  id INT PRIMARY KEY,
  ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED, mi MEDIUMINT, miu MEDIUMINT UNSIGNED,
  i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED,
  dc DECIMAL(30,10), f FLOAT, d DOUBLE, b BIT(10), y YEAR,
  dt DATE, tm TIME, tm6 TIME(6), dtm DATETIME, dtm3 DATETIME(3), ts TIMESTAMP(6) NULL DEFAULT NULL,
  c CHAR(10), vc VARCHAR(100), vcl VARCHAR(20) CHARACTER SET latin1, tx TEXT, bn BINARY(4), vb VARBINARY(20), bl BLOB,
  e ENUM('a','b','c'), st SET('x','y','z'), j JSON, g GEOMETRY
) DEFAULT CHARSET=utf8mb4`;

export const TYPES_ROWS = [
  `(1, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0, '-99999999999999999999.9999999999', -3.40282e38, -1.7976931348623157e308, b'0', 1901,
    '1000-01-01', '-838:59:59', '-838:59:59.000000', '1000-01-01 00:00:00', '1000-01-01 00:00:00.000', '1970-01-01 00:00:01.000000',
    '', '', '', '', x'00000000', x'', x'', 'a', '', '[]', ST_GeomFromText('POINT(0 0)'))`,
  `(2, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, 18446744073709551615, '99999999999999999999.9999999999', 3.40282e38, 1.7976931348623157e308, b'1111111111', 2155,
    '9999-12-31', '838:59:59', '838:59:59.999999', '9999-12-31 23:59:59', '9999-12-31 23:59:59.999', '2038-01-19 03:14:07.999999',
    'abcdefghij', 'héllo ☃ 𝄞', 'café', REPEAT('t', 70000), x'ffffffff', x'00ff', REPEAT(x'ab', 1000), 'c', 'x,y,z', '{"k": [1, 2.5, "s", null, true]}', ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))'))`,
  `(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
  `(4, 0, 1, -1, 2, 0, 3, 0, 5, -1, 9007199254740993, '0.0000000001', 0.5, 0.1, b'101', 2000,
    '2024-02-29', '-00:00:01.5', '-00:00:00.000001', '2024-02-29 13:14:15', '2024-02-29 13:14:15.100', '2024-02-29 13:14:15.123456',
    'x', 'line1\\nline2\\ttab ''q'' "dq" \\\\', 'Ä', 'text', x'01020300', x'0a0d', x'00', 'b', 'x,z', '{"a":{"b":"ü"}}', NULL)`,
];

export interface Env {
  db: TestMariaDB;
  proxy: Server;
  proxyPort: number;
  /** A second proxy asking for caching_sha2_password. */
  sha2: Server;
  sha2Port: number;
  stop(): Promise<void>;
}

export async function setup(opts: ServerOptions = {}): Promise<Env> {
  const db = await startMariaDB();
  const admin = await Client.connect({ socketPath: db.socket, user: 'vt_dba' });
  await admin.query(`CREATE DATABASE ${DB}`);
  await admin.initDb(DB);
  await admin.query("SET SESSION sql_mode = ''");
  await admin.query(TYPES_DDL);
  await admin.query(`INSERT INTO types VALUES ${TYPES_ROWS.join(',\n')}`);
  for (const host of ['127.0.0.1', 'localhost']) {
    await admin.query(`CREATE USER 'pwuser'@'${host}' IDENTIFIED BY '${USERS.pwuser}'`);
    await admin.query(`GRANT ALL ON *.* TO 'pwuser'@'${host}'`);
  }
  admin.close();
  const upstream = { socketPath: db.socket };
  const proxy = new Server(new PassThroughHandler({ upstream, users: USERS }), { port: 0, ...opts });
  const proxyPort = await proxy.listen();
  const sha2 = new Server(new PassThroughHandler({ upstream, users: USERS }), { port: 0, authPlugin: 'caching_sha2_password', ...opts });
  const sha2Port = await sha2.listen();
  return {
    db,
    proxy,
    proxyPort,
    sha2,
    sha2Port,
    async stop() {
      await proxy.close(2000);
      await sha2.close(2000);
      await db.stop();
    },
  };
}
