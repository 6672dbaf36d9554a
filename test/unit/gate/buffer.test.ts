// The failover buffer's rules, driven through a probe the test controls (what the gate's health
// check and serving graph would say): which failures are buffered, what ends a failover, the
// window, the size bound and its eviction, the maximum failover duration and the quiet time after
// it, the drain's concurrency, dry run, the keyspace/shard filter, and a cancelled request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferedRequest, FailoverBuffer, failoverCause, transactionLost, type BufferOptions, type BufferProbe, type FailedShard } from '../../../src/gate/buffer.js';
import { ER, TesseraError } from '../../../src/mysql/errors.js';

class Probe implements BufferProbe {
  gen = 0;
  readonly serving = new Set<string>();
  private readonly listeners = new Set<() => void>();
  generation(): number {
    return this.gen;
  }
  primaryServing(keyspace: string, shard: string): boolean {
    return this.serving.has(`${keyspace}/${shard}`);
  }
  onChange(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  emit(): void {
    for (const l of this.listeners) l();
  }
}

const notServing = () => new TesseraError(ER.UNKNOWN_ERROR, 'tablet zone1-100 is not serving: demoted', { kind: 'NOT_SERVING' });
const denied = () => new TesseraError(ER.UNKNOWN_ERROR, 'table t is denied', { kind: 'DENIED_TABLE' });
const shard = (keyspace = 'ks', s = '0'): FailedShard => ({ keyspace, shard: s, tabletType: 'primary' });

function setup(o: Partial<BufferOptions> = {}) {
  const probe = new Probe();
  const buffer = new FailoverBuffer({ enabled: true, ...o }, probe);
  return { probe, buffer };
}

/** Admits a request that must be buffered, and returns how it settles. */
function buffered(buffer: FailoverBuffer, req: BufferedRequest, f: FailedShard = shard(), err: TesseraError = notServing(), generation = 0, signal = new AbortController().signal) {
  const w = buffer.admit(f, failoverCause(err)!, err, generation, req, signal);
  assert.ok(w instanceof Promise, `buffered, got ${String(w)}`);
  const outcome = w.then(() => 'retry', (e: Error) => e);
  return outcome;
}

const settled = async <T>(p: Promise<T>): Promise<T | 'pending'> => Promise.race([p, new Promise<'pending'>((r) => setImmediate(() => r('pending')))]);

test('classifies failures: refusals and unreachable tablets are buffered, a lost connection is not', () => {
  assert.equal(failoverCause(notServing()), 'primary');
  assert.equal(failoverCause(new TesseraError(ER.UNKNOWN_ERROR, 'wrong type', { kind: 'WRONG_TARGET' })), 'primary');
  assert.equal(failoverCause(new TesseraError(ER.UNAVAILABLE, 'no healthy primary', { kind: 'UNAVAILABLE' })), 'primary');
  assert.equal(failoverCause(new TesseraError(ER.CONN_ERROR, 'cannot reach tablet')), 'primary');
  assert.equal(failoverCause(denied()), 'routing');
  assert.equal(failoverCause(new TesseraError({ errno: 2013, sqlState: 'HY000' }, 'lost connection; may have completed')), null);
  assert.equal(failoverCause(new TesseraError(ER.DUP_ENTRY, 'Duplicate entry')), null);
  assert.equal(failoverCause(new Error('bug')), null);
  assert.equal(transactionLost(new TesseraError({ errno: 2013, sqlState: 'HY000' }, 'lost')), true);
  assert.equal(transactionLost(new TesseraError(ER.UNKNOWN_ERROR, 'ended', { kind: 'ABORTED' })), true);
  assert.equal(transactionLost(new TesseraError(ER.DUP_ENTRY, 'Duplicate entry')), false);
});

test('a request waits for a serving primary of its own shard; other shards are not held', async () => {
  const { probe, buffer } = setup();
  const a = buffered(buffer, new BufferedRequest());
  const other = buffered(buffer, new BufferedRequest(), shard('ks', '80-'));
  assert.equal(await settled(a), 'pending');
  probe.serving.add('ks/0');
  probe.emit();
  assert.equal(await a, 'retry');
  assert.equal(await settled(other), 'pending');
  const s = buffer.stats().find((x) => x.shard === '0')!;
  assert.equal(s.requestsBuffered, 1);
  assert.equal(s.requestsDrained, 1);
  assert.deepEqual(s.stops, { NewPrimarySeen: 1 });
  assert.equal(s.lastRequestsInFlightMax, 1);
  buffer.close();
  assert.equal(await other, 'retry');
  assert.deepEqual(buffer.stats().find((x) => x.shard === '80-')!.stops, { Shutdown: 1 });
});

test('a denied table waits for the serving graph to change, not for a primary', async () => {
  const { probe, buffer } = setup();
  probe.serving.add('ks/0');
  const a = buffered(buffer, new BufferedRequest(), shard(), denied());
  probe.emit();
  assert.equal(await settled(a), 'pending');
  probe.gen++;
  probe.emit();
  assert.equal(await a, 'retry');
  assert.deepEqual(buffer.stats()[0].stops, { ServingGraphChanged: 1 });
  buffer.close();
});

test('planned before a change that already came: retried at once, but not forever', async () => {
  const { probe, buffer } = setup();
  probe.gen = 5;
  const req = new BufferedRequest();
  for (let i = 0; i < 2; i++) assert.equal(await buffered(buffer, req, shard(), denied(), 4), 'retry');
  // The third time it waits for the next change instead of spinning.
  const third = buffered(buffer, req, shard(), denied(), 4);
  assert.equal(await settled(third), 'pending');
  buffer.close();
});

test('the window bounds one request over all its retries; then the error says which limit', async () => {
  const { buffer } = setup({ windowMs: 20 });
  const req = new BufferedRequest();
  assert.equal(await buffered(buffer, req), 'retry', 'released for a last try at the end of the window');
  const again = buffer.admit(shard(), 'primary', notServing(), 0, req, new AbortController().signal);
  assert.ok(again instanceof TesseraError);
  assert.match(again.message, /ks\/0 had no serving primary for this statement within \d+ ms of buffering \(--buffer-window 20ms\): tablet zone1-100 is not serving/);
  assert.deepEqual(buffer.stats()[0].requestsEvicted, { WindowExceeded: 1 });
  buffer.close();
});

test('the size bound evicts the oldest request of the shard, with an error naming the limit', async () => {
  const { buffer } = setup({ requestsMax: 2 });
  const first = buffered(buffer, new BufferedRequest());
  const secondReq = new BufferedRequest();
  const second = buffered(buffer, secondReq);
  const third = buffered(buffer, new BufferedRequest());
  const e = await first;
  assert.ok(e instanceof TesseraError);
  assert.match(e.message, /evicted from the failover buffer of ks\/0 after waiting \d+ ms: --buffer-size 2 requests were waiting/);
  assert.equal(await settled(second), 'pending');
  // Full with another shard's requests: not buffered, and told why.
  const refused = buffer.admit(shard('ks', '80-'), 'primary', notServing(), 0, new BufferedRequest(), new AbortController().signal);
  assert.ok(refused instanceof TesseraError);
  assert.match(refused.message, /failover buffer is full \(--buffer-size 2/);
  buffer.close();
  assert.equal(await second, 'retry');
  secondReq.done();
  assert.equal(await third, 'retry');
});

test('a failover longer than the maximum stops buffering, and the shard then fails fast for the minimum interval', async () => {
  const { buffer } = setup({ failoverDurationMaxMs: 10, failoverIntervalMinMs: 60_000 });
  assert.equal(await buffered(buffer, new BufferedRequest()), 'retry');
  assert.deepEqual(buffer.stats()[0].stops, { MaxDurationExceeded: 1 });
  assert.equal(buffer.admit(shard(), 'primary', notServing(), 0, new BufferedRequest(), new AbortController().signal), null);
  assert.deepEqual(buffer.stats()[0].requestsSkipped, { LastFailoverTooRecent: 1 });
  buffer.close();
});

test('planned before a change that already came: retried with no failover started, so a real one after it still buffers', async () => {
  // A maximum long enough that the real failover below cannot reach it on a busy machine before it
  // is looked at (its timer would answer 'retry').
  const { probe, buffer } = setup({ failoverDurationMaxMs: 150, failoverIntervalMinMs: 60_000 });
  probe.gen = 5;
  assert.equal(await buffered(buffer, new BufferedRequest(), shard(), denied(), 4), 'retry');
  assert.equal(buffer.stats()[0].buffering, false);
  // Longer than the maximum failover duration: no failover was left open to run into it.
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(buffer.stats()[0].stops, {});
  const real = buffered(buffer, new BufferedRequest(), shard(), denied(), 5);
  assert.equal(await settled(real), 'pending');
  buffer.close();
});

test('a failover whose requests all got through (window retries) before its maximum duration does not make the shard fail fast', async () => {
  const { buffer } = setup({ windowMs: 5, failoverDurationMaxMs: 30, failoverIntervalMinMs: 60_000 });
  // Released at the end of its window; its retry succeeds (the deny was undone without a serving
  // graph change), so nobody waits when the failover reaches its maximum duration.
  assert.equal(await buffered(buffer, new BufferedRequest(), shard(), denied(), 0), 'retry');
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(buffer.stats()[0].stops, { MaxDurationExceeded: 1 });
  const next = buffered(buffer, new BufferedRequest(), shard(), denied(), 0);
  assert.equal(await settled(next), 'pending');
  assert.deepEqual(buffer.stats()[0].requestsSkipped, {});
  buffer.close();
});

test('after a failover whose end was seen, the next one buffers at once (a reparent back, a ReverseTraffic)', async () => {
  const { probe, buffer } = setup({ failoverIntervalMinMs: 60_000 });
  const a = buffered(buffer, new BufferedRequest());
  probe.serving.add('ks/0');
  probe.emit();
  assert.equal(await a, 'retry');
  probe.serving.delete('ks/0');
  const b = buffered(buffer, new BufferedRequest());
  assert.equal(await settled(b), 'pending');
  buffer.close();
});

test('the drain lets requests retry one at a time by default, each after the previous finished', async () => {
  const { probe, buffer } = setup();
  const reqs = [new BufferedRequest(), new BufferedRequest(), new BufferedRequest()];
  const order: number[] = [];
  const outcomes = reqs.map((r, i) => buffered(buffer, r).then((x) => (order.push(i), x)));
  probe.serving.add('ks/0');
  probe.emit();
  await settled(outcomes[0]);
  assert.deepEqual(order, [0], 'the second waits for the first retry');
  reqs[0].done();
  await settled(outcomes[1]);
  assert.deepEqual(order, [0, 1]);
  reqs[1].done();
  assert.equal(await outcomes[2], 'retry');
  assert.deepEqual(order, [0, 1, 2]);
  buffer.close();
});

test('dry run counts the failover and holds nothing; the shard filter leaves other shards alone', () => {
  const dry = setup({ enabled: false, dryRun: true });
  assert.equal(dry.buffer.admit(shard(), 'primary', notServing(), 0, new BufferedRequest(), new AbortController().signal), null);
  assert.equal(dry.buffer.stats()[0].requestsBufferedDryRun, 1);
  assert.equal(dry.buffer.stats()[0].buffering, true);
  dry.probe.serving.add('ks/0');
  dry.probe.emit();
  assert.deepEqual(dry.buffer.stats()[0].stops, { NewPrimarySeen: 1 });
  dry.buffer.close();

  const only = setup({ keyspaceShards: ['ks/-80', 'other'] });
  assert.equal(only.buffer.admit(shard('ks', '80-'), 'primary', notServing(), 0, new BufferedRequest(), new AbortController().signal), null);
  assert.ok(only.buffer.admit(shard('ks', '-80'), 'primary', notServing(), 0, new BufferedRequest(), new AbortController().signal) instanceof Promise);
  assert.ok(only.buffer.admit(shard('other', '0'), 'primary', notServing(), 0, new BufferedRequest(), new AbortController().signal) instanceof Promise);
  only.buffer.close();

  const off = setup({ enabled: false });
  assert.equal(off.buffer.admit(shard(), 'primary', notServing(), 0, new BufferedRequest(), new AbortController().signal), null);
  off.buffer.close();
});

test('a request cancelled while it waits (KILL QUERY, the client gone) leaves with the cancel reason', async () => {
  const { buffer } = setup();
  const ac = new AbortController();
  const a = buffered(buffer, new BufferedRequest(), shard(), notServing(), 0, ac.signal);
  ac.abort(new TesseraError(ER.QUERY_INTERRUPTED, 'Query execution was interrupted (KILL QUERY from connection 7)'));
  const e = await a;
  assert.ok(e instanceof TesseraError);
  assert.equal(e.errno, 1317);
  assert.deepEqual(buffer.stats()[0].requestsEvicted, { ContextDone: 1 });
  assert.equal(buffer.stats()[0].waiting, 0);
  buffer.close();
});
