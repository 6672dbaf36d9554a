// Which binlog files a purge may remove while streams hold positions: a file goes only when every
// stream has reached the GTID list the next file starts with.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GtidPosition } from '../../../src/mysql/binlog/index.js';
import { purgeableCount, type BinlogFileInfo, type RetentionHold } from '../../../src/tablet/binlog-retention.js';

const files: BinlogFileInfo[] = [
  { name: 'b.000001', start: GtidPosition.EMPTY },
  { name: 'b.000002', start: GtidPosition.parse('0-100-10') },
  { name: 'b.000003', start: GtidPosition.parse('0-100-20') },
  { name: 'b.000004', start: GtidPosition.parse('0-100-30') },
];

function hold(workflow: string, pos: string): { position: GtidPosition; hold: RetentionHold } {
  return { position: GtidPosition.parse(pos), hold: { target: 'customer/0', workflow, id: 1, state: 'Stopped', position: `MariaDB/${pos}` } };
}

describe('purgeableCount', () => {
  it('purges every file but the current one when no stream holds any', () => {
    assert.deepEqual(purgeableCount(files, 3, []), { count: 3 });
    assert.deepEqual(purgeableCount(files, 99, []), { count: 3 });
    assert.deepEqual(purgeableCount(files, 1, []), { count: 1 });
  });

  it('keeps the file holding the first transaction a stream has not applied, and every later one', () => {
    // 0-100-15 is applied, 0-100-16 is not: it is in b.000002.
    assert.deepEqual(purgeableCount(files, 3, [hold('a', '0-100-15')]), { count: 1, heldBy: hold('a', '0-100-15').hold });
    // Exactly at the start of b.000003: b.000002 is fully applied.
    assert.equal(purgeableCount(files, 3, [hold('a', '0-100-20')]).count, 2);
    // The oldest of several streams decides.
    const r = purgeableCount(files, 3, [hold('late', '0-100-29'), hold('early', '0-100-5')]);
    assert.equal(r.count, 0);
    assert.equal(r.heldBy?.workflow, 'early');
  });

  it('never purges a file for a stream of another domain it lacks', () => {
    assert.equal(purgeableCount(files, 3, [hold('other', '1-200-50')]).count, 0);
  });
});
