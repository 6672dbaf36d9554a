// MariaDB's info line for a statement whose parts ran on several shards: the text of the OK
// packet that the `mariadb` client prints under "Query OK" (`Rows matched: 3  Changed: 2
// Warnings: 0` after an UPDATE, `Records: 4  Duplicates: 0  Warnings: 0` after an INSERT of
// several rows) and that drivers parse (mysql2's changedRows, PHP's mysqli_info). One server
// counts the whole statement; through the gate each shard counts its part, and the counts add up.
import type { Result } from '../types.js';

const UPDATE_INFO = /^Rows matched: (\d+) {2}Changed: (\d+) {2}Warnings: (\d+)$/;
const RECORDS_INFO = /^Records: (\d+) {2}Duplicates: (\d+) {2}Warnings: (\d+)$/;

/**
 * The shards' info lines added up when every one has the same form (an UPDATE's on every shard,
 * `Records:` from an ALTER on every shard); otherwise none, as for a DELETE.
 */
export function summedInfo(results: readonly Result[]): string {
  if (results.length === 0) return '';
  if (results.length === 1) return results[0].info;
  for (const [form, text] of [
    [UPDATE_INFO, (a: number, b: number, w: number) => `Rows matched: ${a}  Changed: ${b}  Warnings: ${w}`],
    [RECORDS_INFO, (a: number, b: number, w: number) => `Records: ${a}  Duplicates: ${b}  Warnings: ${w}`],
  ] as const) {
    let a = 0;
    let b = 0;
    let w = 0;
    let all = true;
    for (const r of results) {
      const m = form.exec(r.info);
      if (!m) {
        all = false;
        break;
      }
      a += Number(m[1]);
      b += Number(m[2]);
      w += Number(m[3]);
    }
    if (all) return text(a, b, w);
  }
  return '';
}

/**
 * An INSERT's info line from its shards' parts: MariaDB writes one for an INSERT of more than one
 * row (`Records` the rows, `Duplicates` the rows IGNORE left out or that REPLACE and ON DUPLICATE
 * KEY UPDATE replaced or updated). A shard sent one row writes none, so its duplicates come from
 * its affected rows; for REPLACE and ON DUPLICATE KEY UPDATE those do not tell, and the line is
 * left out rather than wrong. `rows`: the rows of the statement; `parts`: each shard's row count
 * and result.
 */
export function insertInfo(rows: number, parts: readonly { readonly rows: number; readonly result: Result }[], ignore: boolean, replacesOrUpdates: boolean): string {
  // Every row on one shard: that MariaDB's own line is the statement's.
  if (parts.length === 1 && parts[0].rows === rows) return parts[0].result.info;
  if (rows <= 1) return '';
  let sent = 0;
  let duplicates = 0;
  let warnings = 0;
  for (const p of parts) {
    sent += p.rows;
    const m = RECORDS_INFO.exec(p.result.info);
    if (m) {
      duplicates += Number(m[2]);
      warnings += Number(m[3]);
    } else if (p.rows === 1 && !replacesOrUpdates) {
      if (ignore && p.result.rowsAffected === 0) duplicates++;
      warnings += p.result.warnings;
    } else return '';
  }
  // Rows a lookup vindex left out under IGNORE went to no shard: the line would not count them.
  if (sent !== rows) return '';
  return `Records: ${rows}  Duplicates: ${duplicates}  Warnings: ${warnings}`;
}
