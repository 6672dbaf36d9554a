// Connection character sets (issue 24): MariaDB 10.11's collation table, the client decoders and
// encoders, and what each SET does to a session's settings and to the tablets' setting statement.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decoderFor, encoderFor, mariadbCharset, mariadbCollation, mariadbCollationByName } from '../../../src/mysql/charsets.js';
import { charsetVar, handshakeCharsets, reportedCollation, setCharacterSet, setCharsetVar, setNames, tabletSetting, TABLET_CHARSETS } from '../../../src/gate/charsets.js';

test('the collation table: ids, names, character sets, defaults', () => {
  assert.deepEqual(mariadbCollation(8), { id: 8, name: 'latin1_swedish_ci', charset: 'latin1', isDefault: true });
  assert.deepEqual(mariadbCollation(45), { id: 45, name: 'utf8mb4_general_ci', charset: 'utf8mb4', isDefault: true });
  assert.equal(mariadbCollation(224)?.name, 'utf8mb4_unicode_ci');
  assert.equal(mariadbCollation(63)?.charset, 'binary');
  assert.equal(mariadbCollation(255), undefined, 'MySQL 8 utf8mb4_0900_ai_ci is not MariaDB 10.11');
  assert.equal(mariadbCollationByName('UTF8_GENERAL_CI')?.id, 33);
  assert.equal(mariadbCharset('utf8'), 'utf8mb3');
  assert.equal(mariadbCharset('nosuch'), undefined);
});

test('decoders and encoders round-trip each character set the tests name', () => {
  const cases: [string, string][] = [['latin1', 'Müller Ærø €'], ['utf8mb4', 'Müller Ærø 😀'], ['cp1251', 'Привет'], ['sjis', '日本語'], ['gbk', '中文'], ['latin2', 'Łódź'], ['greek', 'Ελλάδα']];
  for (const [cs, text] of cases) {
    const bytes = encoderFor(cs)(text);
    assert.equal(decoderFor(cs)(bytes), text, cs);
  }
  // MariaDB's latin1 is Windows-1252: 0x80 is the euro sign; its holes keep their byte.
  assert.deepEqual([...encoderFor('latin1')('€')], [0x80]);
  assert.equal(decoderFor('latin1')(Buffer.from([0x81, 0xfc])), '\u0081ü');
  assert.deepEqual([...encoderFor('latin1')('日')], [0x3f]);
  assert.equal(decoderFor('latin1')(Buffer.from([0x41, 0x42, 0xe6]), 1), 'Bæ');
});

test('SET NAMES, SET CHARACTER SET and the variables change the session as MariaDB does', () => {
  const latin1 = setNames('latin1', null);
  assert.deepEqual(latin1, { client: 'latin1', collation: 'latin1_swedish_ci', results: 'latin1', fromHandshake: false });
  assert.equal(tabletSetting(latin1), 'SET collation_connection = latin1_swedish_ci, character_set_results = latin1');
  assert.equal(setNames('utf8mb4', 'utf8mb4_bin').collation, 'utf8mb4_bin');
  assert.equal(tabletSetting(setNames('utf8mb4', null)), null);
  assert.equal(tabletSetting(setNames(null, null)), null);
  assert.deepEqual(setCharsetVar(latin1, 'character_set_results', null).results, null);
  assert.equal(tabletSetting(setCharsetVar(TABLET_CHARSETS, 'character_set_results', null)), 'SET collation_connection = utf8mb4_general_ci, character_set_results = NULL');
  assert.equal(setCharsetVar(TABLET_CHARSETS, 'character_set_connection', 'latin2').collation, 'latin2_general_ci');
  assert.equal(setCharsetVar(TABLET_CHARSETS, 'collation_connection', 'latin1_german2_ci').collation, 'latin1_german2_ci');
  assert.equal(setCharsetVar(TABLET_CHARSETS, 'character_set_client', 'latin1').client, 'latin1');
  assert.equal(tabletSetting(setCharsetVar(TABLET_CHARSETS, 'character_set_client', 'latin1')), null, 'the client character set is applied at the gate');
  assert.equal(tabletSetting(setCharacterSet(TABLET_CHARSETS, 'cp1251')), 'SET collation_connection = @@collation_database, character_set_results = cp1251');
  for (const [f, errno] of [
    [() => setNames('nosuch', null), 1115],
    [() => setNames('latin1', 'utf8mb4_bin'), 1253],
    [() => setNames('latin1', 'nosuch_ci'), 1273],
    [() => setNames('ucs2', null), 1231],
    [() => setCharsetVar(TABLET_CHARSETS, 'character_set_client', 'utf32'), 1231],
    [() => setCharsetVar(TABLET_CHARSETS, 'collation_connection', 'nosuch'), 1273],
  ] as const) assert.throws(f, (e: { errno?: number }) => e.errno === errno);
});

test('the handshake: a character set is carried, a utf8mb4 collation only reported', () => {
  const h8 = handshakeCharsets(8);
  assert.equal(h8.client, 'latin1');
  assert.notEqual(tabletSetting(h8), null);
  const h224 = handshakeCharsets(224);
  assert.equal(tabletSetting(h224), null);
  assert.equal(reportedCollation(h224), 224);
  assert.equal(charsetVar(h224, 'collation_connection'), 'utf8mb4_unicode_ci');
  assert.equal(reportedCollation(handshakeCharsets(45)), null);
  assert.equal(handshakeCharsets(35).client, 'utf8mb4', 'ucs2 cannot be a client character set: the server default');
  assert.equal(handshakeCharsets(255).client, 'utf8mb4');
  assert.equal(charsetVar(latin1Set(), 'character_set_results'), undefined, 'carried to the tablet, which answers it');
});

function latin1Set() {
  return setNames('latin1', null);
}
