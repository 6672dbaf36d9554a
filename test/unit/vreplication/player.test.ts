// The player once its stream is stopped: nothing it is handed afterwards reaches the target. A
// stopped stream's saved position is what VDiff and the cutovers take as "what the target holds";
// a transaction applied after the stop would make the target hold more than that.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GtidPosition } from '../../../src/mysql/binlog/index.js';
import { play, type PlayerTarget } from '../../../src/vreplication/player.js';
import type { StreamEvent } from '../../../src/vreplication/row-streamer.js';
import type { VStreamer } from '../../../src/vreplication/vstreamer.js';

const P = (s: string) => GtidPosition.parse(s);
const FIELDS = [{ name: 'id', type: 8, unsigned: false, collation: undefined }];

function txn(seq: number): StreamEvent[] {
  const gtid = { domain: 0, server: 100, sequence: BigInt(seq) };
  return [
    { type: 'begin', gtid, timestamp: 1 },
    { type: 'field', database: 'vt_commerce', table: 't', fields: FIELDS, primaryKey: ['id'] },
    { type: 'row', database: 'vt_commerce', table: 't', changes: [{ before: null, after: [BigInt(seq)] }] },
    { type: 'commit', gtid, position: P(`0-100-${seq}`), timestamp: 1 },
  ] as StreamEvent[];
}

class RecordingTarget implements PlayerTarget {
  readonly dbName = 'vt_customer';
  readonly applied: string[] = [];
  async keyColumns(): Promise<readonly string[]> {
    return ['id'];
  }
  async applyTransaction(_s: readonly string[], position: GtidPosition): Promise<void> {
    this.applied.push(position.toString());
  }
  async applyDdl(): Promise<void> {}
  async heartbeat(): Promise<void> {}
}

test('a stopped player applies nothing it is handed after the stop, nor what it was handling', async () => {
  const stop = new AbortController();
  let late: Promise<void> = Promise.resolve();
  // A source that, like a network stream cancelled with batches already received, goes on handing
  // batches to the callback after the call was aborted (and returned).
  const source: VStreamer = {
    async vstream(_req, onEvents, signal) {
      await onEvents(txn(4));
      // The stream is stopped while the next batch is on its way.
      stop.abort();
      late = (async () => {
        await new Promise((r) => setImmediate(r));
        await onEvents([...txn(5), ...txn(6)]);
      })();
      assert.equal(signal.aborted, true);
    },
    async vstreamRows() {
      throw new Error('not used');
    },
  };
  const target = new RecordingTarget();
  const end = await play(source, target, {
    from: P('0-100-3'),
    filter: { rules: [{ match: 't', filter: '' }] },
    onDdl: 'IGNORE',
    signal: stop.signal,
    relayLogMaxItems: 100,
    relayLogMaxBytes: 1 << 20,
  });
  assert.equal(end.reason, 'aborted');
  assert.equal(end.position.toString(), 'MariaDB/0-100-4');
  await late;
  assert.deepEqual(target.applied, ['MariaDB/0-100-4']);
});
