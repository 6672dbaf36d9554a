// CancelToken (src/rpc/cancel.ts) stands in for an AbortSignal on the tablet's query path: it must
// behave as one where the tablet relies on it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CancelToken, type CancelEvent } from '../../../src/rpc/index.js';

test('a CancelToken calls each listener once, in order, with itself as the target, as an AbortSignal does', () => {
  const t = new CancelToken();
  const calls: string[] = [];
  const obj = { handleEvent: (ev: CancelEvent) => calls.push(`obj ${ev.type} ${ev.target === t}`) };
  const fn = (ev: CancelEvent) => calls.push(`fn ${ev.target === t}`);
  const removed = () => calls.push('removed');
  t.addEventListener('abort', obj);
  t.addEventListener('abort', obj); // a duplicate is ignored
  t.addEventListener('abort', removed);
  t.addEventListener('abort', fn);
  t.removeEventListener('abort', removed);
  assert.equal(t.aborted, false);
  const reason = new Error('stop');
  t.abort(reason);
  t.abort(new Error('again'));
  assert.equal(t.aborted, true);
  assert.equal(t.reason, reason);
  assert.deepEqual(calls, ['obj abort true', 'fn true']);
  // After the abort, a new listener is not called (AbortSignal does the same).
  t.addEventListener('abort', fn);
  assert.deepEqual(calls, ['obj abort true', 'fn true']);
});

test('removing the first listener keeps the others; a listener that throws does not stop the rest', () => {
  const t = new CancelToken();
  const calls: number[] = [];
  const a = () => calls.push(1);
  const b = () => {
    throw new Error('listener failed');
  };
  const c = () => calls.push(3);
  t.addEventListener('abort', a);
  t.addEventListener('abort', b);
  t.addEventListener('abort', c);
  t.removeEventListener('abort', a);
  t.abort(undefined);
  assert.deepEqual(calls, [3]);
});

test('an AbortSignal is a CancelSignal: the same listener code works on both', () => {
  const ac = new AbortController();
  let target: unknown = null;
  const listener = { handleEvent: (ev: CancelEvent) => (target = ev.target) };
  const sig: import('../../../src/rpc/index.js').CancelSignal = ac.signal;
  sig.addEventListener('abort', listener, { once: true });
  ac.abort();
  assert.equal(target, ac.signal);
});
