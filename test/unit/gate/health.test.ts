// The health check and the session's tablet choice, on a memory topology with fake tablets: only
// tablets whose health says serving for the target are used; a refusal where nothing ran
// (NOT_SERVING) is retried once on another tablet; waitFor resolves when tablets appear.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ER, TesseraError } from '../../../src/mysql/index.js';
import { HealthCheck } from '../../../src/gate/health-check.js';
import { GateSession, type GateCore } from '../../../src/gate/session.js';
import type { ExecuteResult, HealthState, QueryService, Target } from '../../../src/tablet/index.js';
import { newTablet, openTopoServer, tabletAliasString, type Tablet } from '../../../src/topo/index.js';

class FakeTablet implements QueryService {
  calls = 0;
  refuse = false;
  lag: number | null = 0;
  replicationError = '';
  private push: ((h: HealthState) => void) | null = null;

  constructor(
    readonly alias: string,
    readonly target: Target,
    public serving: boolean,
  ) {}

  health(): HealthState {
    return {
      tabletAlias: this.alias, target: this.target, serving: this.serving, reason: this.serving ? '' : 'drained', primaryTermStartTime: null,
      replicationLagSeconds: this.lag, replicationError: this.replicationError, queriesInFlight: 0, transactionsOpen: 0, at: new Date(0).toISOString(),
    };
  }

  setServing(s: boolean): void {
    this.serving = s;
    this.push?.(this.health());
  }

  setLag(lag: number | null, error = ''): void {
    this.lag = lag;
    this.replicationError = error;
    this.push?.(this.health());
  }

  async execute(): Promise<ExecuteResult> {
    this.calls++;
    if (this.refuse) throw new TesseraError(ER.UNKNOWN_ERROR, `${this.alias} is not serving`, { kind: 'NOT_SERVING' });
    return { fields: [], rows: [], rowsAffected: 0, insertId: 0, warnings: 0, info: '', transactionId: 0, tabletAlias: this.alias };
  }
  async streamExecute(): Promise<void> {}
  async begin(): Promise<{ transactionId: number; tabletAlias: string }> {
    return { transactionId: 1, tabletAlias: this.alias };
  }
  async commit(): Promise<void> {}
  async rollback(): Promise<void> {}
  async reserve(): Promise<{ reservedId: number; tabletAlias: string }> {
    return { reservedId: 1, tabletAlias: this.alias };
  }
  async release(): Promise<void> {}
  streamHealth(onHealth: (h: HealthState) => void, signal: AbortSignal): Promise<void> {
    this.push = onHealth;
    onHealth(this.health());
    return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  }
}

async function setup(n: number): Promise<{ hc: HealthCheck; fakes: FakeTablet[]; close: () => Promise<void> }> {
  const topo = openTopoServer({ topoImplementation: 'memory', topoGlobalServerAddress: `health-${process.pid}-${Math.random()}`, topoGlobalRoot: '/tessera/global' });
  await topo.createCellInfo('zone1', {});
  await topo.createKeyspace('ks');
  await topo.createShard('ks', '0');
  const fakes = new Map<string, FakeTablet>();
  const target: Target = { keyspace: 'ks', shard: '0', tabletType: 'replica' };
  for (let i = 0; i < n; i++) {
    const t: Tablet = newTablet({ alias: { cell: 'zone1', uid: 100 + i }, hostname: 'h', port_map: { grpc: 1000 + i }, keyspace: 'ks', shard: '0', key_range: { start: '', end: '' }, type: 'replica', db_name_override: '', tags: {}, mysql_hostname: 'h', mysql_port: 1 });
    await topo.createTablet(t);
    fakes.set(tabletAliasString(t.alias), new FakeTablet(tabletAliasString(t.alias), target, true));
  }
  const hc = new HealthCheck(topo, 'zone1', (t) => fakes.get(tabletAliasString(t.alias))!, {
    topoRefreshMs: 60_000,
    retryDelayMs: 10,
    lowReplicationLagSeconds: 30,
    highReplicationLagSeconds: 600,
  });
  await hc.start();
  return { hc, fakes: [...fakes.values()], close: async () => { hc.close(); await topo.close(); } };
}

function session(hc: HealthCheck): GateSession {
  const core = { health: hc, queryTimeoutMs: 0, rowsMax: 100, transactionMode: 'MULTI' } as unknown as GateCore;
  const s = new GateSession(1, 'u', core);
  s.tabletType = 'replica';
  return s;
}

test('health check: only serving tablets of the target are picked, and they change live', async () => {
  const { hc, fakes, close } = await setup(2);
  try {
    assert.equal(hc.healthy('ks', '0', 'replica').length, 2);
    assert.equal(hc.healthy('ks', '0', 'primary').length, 0);
    fakes[0].setServing(false);
    assert.deepEqual(hc.healthy('ks', '0', 'replica').map((t) => t.alias), [fakes[1].alias]);
    fakes[1].setServing(false);
    const s = session(hc);
    await assert.rejects(s.executeOnShard({ keyspace: 'ks', shard: '0' }, 'select 1', false, undefined), /no healthy replica tablet for ks\/0 .*drained/);
    fakes[0].setServing(true);
    await s.executeOnShard({ keyspace: 'ks', shard: '0' }, 'select 1', false, undefined);
    assert.equal(fakes[0].calls, 1);
  } finally {
    await close();
  }
});

test('a NOT_SERVING refusal is retried once on another tablet; the refusing one is avoided until it reports again', async () => {
  const { hc, fakes, close } = await setup(2);
  try {
    const s = session(hc);
    const first = hc.healthy('ks', '0', 'replica')[0];
    const refuser = fakes.find((f) => f.alias === first.alias)!;
    const other = fakes.find((f) => f !== refuser)!;
    refuser.refuse = true;
    // Rotation decides which tablet comes first; call until the refuser was tried.
    for (let i = 0; i < 4 && refuser.calls === 0; i++) await s.executeOnShard({ keyspace: 'ks', shard: '0' }, 'select 1', false, undefined);
    assert.equal(refuser.calls, 1);
    assert.ok(other.calls >= 1);
    assert.deepEqual(hc.healthy('ks', '0', 'replica').map((t) => t.alias), [other.alias]);
    refuser.refuse = false;
    refuser.setServing(true);
    assert.equal(hc.healthy('ks', '0', 'replica').length, 2);
  } finally {
    await close();
  }
});

test('waitFor resolves once the wanted tablets are healthy and rejects at its deadline naming what is missing', async () => {
  const { hc, fakes, close } = await setup(1);
  try {
    await hc.waitFor([{ keyspace: 'ks', shard: '0' }], ['replica'], 1000);
    fakes[0].setServing(false);
    await assert.rejects(hc.waitFor([{ keyspace: 'ks', shard: '0' }], ['replica'], 20), /ks\/0 replica/);
    const waiting = hc.waitFor([{ keyspace: 'ks', shard: '0' }], ['replica'], 5000);
    fakes[0].setServing(true);
    await waiting;
  } finally {
    await close();
  }
});

test('replicas lagging beyond the low threshold are avoided while a closer one serves; beyond the high one never', async () => {
  const { hc, fakes, close } = await setup(3);
  try {
    const picked = () => hc.healthy('ks', '0', 'replica').map((t) => t.alias).sort();
    assert.deepEqual(picked(), fakes.map((f) => f.alias).sort());
    fakes[0].setLag(120);
    fakes[1].setLag(null, 'IO thread error 2003: cannot connect');
    assert.deepEqual(picked(), [fakes[2].alias]);
    // No replica within 30 s: those within 600 s serve, broken or unknown lag does not.
    fakes[2].setLag(300);
    assert.deepEqual(picked(), [fakes[0].alias, fakes[2].alias].sort());
    fakes[0].setLag(4000);
    fakes[2].setLag(4000);
    assert.deepEqual(picked(), []);
    fakes[1].setLag(1);
    assert.deepEqual(picked(), [fakes[1].alias]);
  } finally {
    await close();
  }
});
