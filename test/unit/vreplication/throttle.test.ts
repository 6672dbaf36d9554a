// The purged-binlog message's GTID range: what a stream at one position lacks on a source whose
// oldest binlog starts after another.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { missingGtidRange } from '../../../src/vreplication/throttle.js';

describe('missingGtidRange', () => {
  it('names the GTIDs between the stream position and the oldest binlog, per domain', () => {
    assert.equal(missingGtidRange('MariaDB/0-100-20', '0-100-35'), '0-100-21..0-100-35');
    assert.equal(missingGtidRange('MariaDB/0-100-34', '0-100-35'), '0-100-35');
    assert.equal(missingGtidRange('MariaDB/0-100-20,1-101-5', '0-100-20,1-101-9'), '1-101-6..1-101-9');
    assert.equal(missingGtidRange('', '0-100-3'), '0-100-1..0-100-3');
    assert.equal(missingGtidRange('MariaDB/0-100-18446744073709551610', '0-100-18446744073709551615'), '0-100-18446744073709551611..0-100-18446744073709551615');
  });

  it('falls back to "after the position" when nothing is missing by the list or it does not parse', () => {
    assert.equal(missingGtidRange('MariaDB/0-100-40', '0-100-35'), 'after MariaDB/0-100-40');
    assert.equal(missingGtidRange('MariaDB/0-100-40', 'garbage'), 'after MariaDB/0-100-40');
  });
});
