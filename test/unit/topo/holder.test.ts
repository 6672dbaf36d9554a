// holder.ts: which lock holders are certainly dead (so a lock may be broken before its lease ends).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { holderDead, processStart, selfIdentity } from '../../../src/topo/holder.js';

/** The pid of a process that has exited (and been reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('lock holders', () => {
  const me = selfIdentity();

  it('this process, alive, is not dead', () => {
    assert.equal(holderDead(me), false);
    assert.ok(me.start === null || processStart(process.pid) === me.start);
  });

  it('a process of this host that exited is dead', () => {
    assert.equal(holderDead({ ...me, pid: deadPid(), start: '12345' }), true);
    // Without a start time (an older record): by the pid alone.
    assert.equal(holderDead({ host: me.host, pid: deadPid(), pidNs: me.pidNs }), true);
  });

  it('a live pid that started at another time (reused) is dead; at its own start time it is alive', () => {
    const parent = process.ppid;
    const start = processStart(parent);
    if (start === null) {
      // No /proc: only the pid decides, and the parent is alive.
      assert.equal(holderDead({ host: me.host, pid: parent, start: null, pidNs: me.pidNs }), false);
      return;
    }
    assert.equal(holderDead({ host: me.host, pid: parent, start, pidNs: me.pidNs }), false);
    assert.equal(holderDead({ host: me.host, pid: parent, start: String(Number(start) + 1), pidNs: me.pidNs }), true);
  });

  it('a holder on another host, in another PID namespace, or malformed is never judged dead', () => {
    const pid = deadPid();
    assert.equal(holderDead({ ...me, host: `${me.host}-elsewhere`, pid }), false);
    assert.equal(holderDead({ ...me, pid, pidNs: 'pid:[1]' }), false);
    assert.equal(holderDead(null), false);
    assert.equal(holderDead({ host: me.host }), false);
    assert.equal(holderDead({ host: me.host, pid: -1 }), false);
    assert.equal(holderDead({ host: me.host, pid: 1.5 }), false);
  });
});
