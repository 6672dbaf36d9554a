// The mysqltest reader behind the MariaDB corpus (test/corpus/mysqltest.ts): what it leaves out
// because mysqltest never sends it to the server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { extractFile, extractSuite } from '../../corpus/mysqltest.js';

test('disable_parsing … enable_parsing is skipped; system is a mysqltest command', () => {
  const text = [
    'select 1;',
    '--disable_parsing',
    '(note: not SQL)',
    'select 2;',
    '--enable_parsing',
    'select 3;',
    'disable_parsing;',
    'select 4;',
    'enable_parsing;',
    'system echo x > $MYSQLTEST_VARDIR/tmp/f;',
    'select 5;',
  ].join('\n');
  assert.deepEqual(extractFile(text, 'x.test').map((s) => s.sql), ['select 1', 'select 3', 'select 5']);
});

test('.inc files read by LOAD DATA … INFILE are data, not scripts', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mysqltest-extract-'));
  try {
    mkdirSync(path.join(dir, 'suite/x/t'), { recursive: true });
    writeFileSync(path.join(dir, 'suite/x/t/load.test'), "LOAD DATA LOCAL INFILE 'suite/x/t/rows.inc' INTO TABLE t1 FIELDS TERMINATED BY ',';\nselect 1;\n");
    writeFileSync(path.join(dir, 'suite/x/t/rows.inc'), '1,abc\n2,def\n');
    writeFileSync(path.join(dir, 'suite/x/t/other.inc'), 'select 2;\n');
    const sql = extractSuite(dir).map((s) => `${s.file}: ${s.sql}`);
    assert.deepEqual(sql, [
      "suite/x/t/load.test: LOAD DATA LOCAL INFILE 'suite/x/t/rows.inc' INTO TABLE t1 FIELDS TERMINATED BY ','",
      'suite/x/t/load.test: select 1',
      'suite/x/t/other.inc: select 2',
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
