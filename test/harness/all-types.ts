// A table with every column type MariaDB 10.11 offers, and rows at each type's limits (maximum,
// minimum, zero values, NULLs), shared by the binlog reader's tests and VReplication's: whatever the
// reader decodes, a stream must copy and replicate exactly.

export const COLUMNS = `
  id INT PRIMARY KEY,
  i8 TINYINT, u8 TINYINT UNSIGNED, i16 SMALLINT, u16 SMALLINT UNSIGNED, i24 MEDIUMINT, u24 MEDIUMINT UNSIGNED,
  i32 INT, u32 INT UNSIGNED, i64 BIGINT, u64 BIGINT UNSIGNED,
  d1 DECIMAL(1,0), d2 DECIMAL(10,2), d3 DECIMAL(65,30), d4 DECIMAL(18,9), d5 DECIMAL(20,0) UNSIGNED, d6 DECIMAL(5,5), d7 DECIMAL(30,1),
  f FLOAT, dbl DOUBLE, b1 BIT(1), b10 BIT(10), b64 BIT(64), y YEAR,
  dt DATE, t0 TIME, t1 TIME(1), t3 TIME(3), t6 TIME(6), dt0 DATETIME, dt2 DATETIME(2), dt6 DATETIME(6), ts0 TIMESTAMP NULL, ts4 TIMESTAMP(4) NULL,
  c CHAR(10), cl CHAR(10) CHARACTER SET latin1, vc VARCHAR(300), vcl VARCHAR(10) CHARACTER SET latin1, bn BINARY(4), vb VARBINARY(300),
  tt TINYTEXT, tx TEXT, mt MEDIUMTEXT, lt LONGTEXT, tb TINYBLOB, bl BLOB, mb MEDIUMBLOB, lb LONGBLOB,
  e ENUM('a','b','ü'), s SET('x','y','z','w'), j JSON, g GEOMETRY, c255 CHAR(255)`;

export const MAX_ROW = `(1, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, 18446744073709551615,
  9, 99999999.99, 99999999999999999999999999999999999.999999999999999999999999999999, 999999999.999999999, 99999999999999999999, 0.99999, 12345678901234567890123456789.5,
  3.402823e38, 1.7976931348623157e308, b'1', b'1111111111', b'1111111111111111111111111111111111111111111111111111111111111111', 2155,
  '9999-12-31', '838:59:59', '838:59:58.9', '-838:59:58.999', '838:59:58.999999', '9999-12-31 23:59:59', '9999-12-31 23:59:59.99', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07', '2038-01-19 03:14:07.9999',
  'abcdefghij', 'café', REPEAT('x', 300), 'naïve', X'00010000', X'00FF00',
  'tiny', 'text', 'medium', 'long', X'00', X'0102', X'FFFF', X'00',
  'ü', 'x,y,z,w', '{"a": [1, 2.5, "ü"], "b": null}', ST_GeomFromText('POINT(1 2)'), REPEAT('é', 255))`;

export const MIN_ROW = `(2, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0,
  -9, -99999999.99, -99999999999999999999999999999999999.999999999999999999999999999999, -0.000000001, 0, -0.00001, -0.5,
  -1.175494e-38, -2.2250738585072014e-308, b'0', b'0', b'0', 1901,
  '1000-01-01', '-838:59:59', '-838:59:58.9', '00:00:00.001', '-00:00:00.000001', '1000-01-01 00:00:00', '1000-01-01 00:00:00.01', '1000-01-01 00:00:00.000001', '1970-01-01 00:00:01', '1970-01-01 00:00:01.0001',
  '', '', '', '', X'', X'',
  '', '', '', '', X'', X'', X'', X'',
  'a', '', '[]', ST_GeomFromText('LINESTRING(0 0, 1 1, 2 5)'), '')`;

export const ZERO_ROW = `(8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, b'0', b'0', b'0', 0,
  '0000-00-00', '00:00:00', '00:00:00', '00:00:00', '00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00',
  ' a ', 'a ', ' a ', 'a ', X'01', X'01', ' ', ' ', ' ', ' ', X'00', X'00', X'00', X'00', 'b', 'y', '{}', ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))'), 'z')`;

export function nulls(id: number, n: number): string {
  return `(${id}${', NULL'.repeat(n)})`;
}
