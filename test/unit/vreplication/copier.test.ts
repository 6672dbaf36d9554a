// The copier's bookkeeping of the stream position, against a scripted source and a recording
// target (no MariaDB: what is under test is which position the copier saves, in what order), and
// the controller's way of telling a source failure from a target failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GtidPosition } from '../../../src/mysql/binlog/index.js';
import { copy, type CopierTarget, type CopyTableState } from '../../../src/vreplication/copier.js';
import type { LastPk } from '../../../src/vreplication/lastpk.js';
import type { StreamEvent } from '../../../src/vreplication/row-streamer.js';
import { watchSourceFailures, type RowsBatch, type VStreamer } from '../../../src/vreplication/vstreamer.js';

const P = (s: string) => GtidPosition.parse(s);

class RecordingTarget implements CopierTarget {
  readonly dbName = 'vt_customer';
  /** Every position saved, in order, with what saved it. */
  readonly saved: { by: string; pos: string }[] = [];
  async keyColumns(): Promise<readonly string[]> {
    return ['id'];
  }
  async applyTransaction(_s: readonly string[], position: GtidPosition): Promise<void> {
    this.saved.push({ by: 'transaction', pos: position.toString() });
  }
  async applyDdl(_s: string, position: GtidPosition): Promise<void> {
    this.saved.push({ by: 'ddl', pos: position.toString() });
  }
  async heartbeat(): Promise<void> {}
  async applyCopyBatch(_sql: string | null, _t: string, _pk: LastPk | null, _done: boolean, position: GtidPosition): Promise<void> {
    this.saved.push({ by: 'batch', pos: position.toString() });
  }
  async savePosition(position: GtidPosition): Promise<void> {
    this.saved.push({ by: 'save', pos: position.toString() });
  }
}

test('a catch-up that ends past the snapshot (a run of empty transactions sent as one position) keeps that position', async () => {
  // The stream is at 0-100-3; the cycle's snapshot is at 0-100-5; transactions 4, 5 and 6 hold
  // nothing for this stream, so the source sends them as one position event: 0-100-6.
  const source: VStreamer = {
    async vstream(req, onEvents) {
      assert.equal(P(req.position).toString(), 'MariaDB/0-100-3');
      const events: StreamEvent[] = [{ type: 'position', position: P('0-100-6') }];
      await onEvents(events);
    },
    async vstreamRows(_req, onBatch) {
      const header: RowsBatch = { kind: 'header', position: 'MariaDB/0-100-5', fields: [{ name: 'id', type: 8, unsigned: false, collation: undefined }], pkColumns: ['id'] };
      await onBatch(header);
      await onBatch({ kind: 'rows', rows: [[1n], [2n]], lastPk: [2n], done: true });
    },
  };
  const target = new RecordingTarget();
  const tables: CopyTableState[] = [{ table: 't', chunks: [{ rowId: 1, lastPk: null, endPk: null, done: false }] }];
  const end = await copy(source, target, P('0-100-3'), tables, {
    filter: { rules: [{ match: 't', filter: '' }] },
    onDdl: 'IGNORE',
    signal: new AbortController().signal,
    copyCycleRowsMax: 100,
    batchRowsMax: 10,
    batchBytesMax: 1 << 20,
    relayLogMaxItems: 100,
    relayLogMaxBytes: 1 << 20,
  });
  assert.equal(end.toString(), 'MariaDB/0-100-6');
  assert.deepEqual(target.saved, [
    { by: 'transaction', pos: 'MariaDB/0-100-6' },
    { by: 'batch', pos: 'MariaDB/0-100-6' },
  ]);
  for (let i = 1; i < target.saved.length; i++) {
    assert.ok(P(target.saved[i].pos).atLeast(P(target.saved[i - 1].pos)), `position went back: ${JSON.stringify(target.saved)}`);
  }
});

test('watchSourceFailures: the source failing is reported, a callback (the target) failing is not', async () => {
  const failing = (where: 'source' | 'callback'): VStreamer => ({
    async vstream(_req, onEvents) {
      if (where === 'source') throw new Error('connection to the source tablet lost');
      await onEvents([]);
    },
    async vstreamRows(_req, onBatch) {
      if (where === 'source') throw new Error('connection refused');
      await onBatch({ kind: 'rows', rows: [], lastPk: [1n], done: true });
    },
  });
  const req = { position: 'MariaDB/0-100-1', filter: { rules: [] } };
  const rowsReq = { table: 't', filter: { rules: [] }, lastPk: null };
  const signal = new AbortController().signal;
  for (const where of ['source', 'callback'] as const) {
    let reported = 0;
    const vs = watchSourceFailures(failing(where), () => reported++);
    const boom = async () => {
      throw new Error('target MariaDB gone');
    };
    await assert.rejects(vs.vstream(req, boom, signal));
    await assert.rejects(vs.vstreamRows(rowsReq, boom, signal));
    assert.equal(reported, where === 'source' ? 2 : 0, where);
  }
});
