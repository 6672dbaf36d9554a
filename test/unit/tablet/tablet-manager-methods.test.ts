// The tablet-manager method table's request checks, without a tablet: every method has a sample
// request here (a method added to the table without one fails), the sample passes unchanged, and
// anything else is refused with ER_WRONG_ARGUMENTS naming the method and the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TesseraError } from '../../../src/mysql/errors.js';
import { RequestReader, TM_METHODS, tmWireName, type TmMethod } from '../../../src/tablet/index.js';

const SAMPLES: Record<TmMethod, Record<string, unknown>> = {
  ping: {},
  getSchema: {},
  reloadSchema: {},
  applySchema: { sql: 'create table t (id int primary key)' },
  executeFetchAsDba: { sql: 'select 1', maxRows: 10, disableBinlogs: true, reloadSchema: false, database: '_vt' },
  executeFetchAsApp: { sql: 'select 1', maxRows: 10 },
  changeType: { tabletType: 'rdonly' },
  setReadOnly: {},
  setReadWrite: {},
  refreshState: {},
  primaryPosition: {},
  waitForPosition: { position: 'MariaDB/0-100-42', timeoutMs: 1000 },
  getHealth: {},
  fullStatus: {},
  replicationStatus: {},
  stopReplication: {},
  startReplication: { semiSync: true },
  stopReplicationAndApplyRelay: { timeoutMs: 0 },
  setReplicationSource: { host: 'db1', port: 3306, semiSync: false, primaryPosition: 'MariaDB/0-100-42', tabletType: 'replica', start: true },
  resetReplication: { resetBinlogs: true },
  demotePrimary: { timeoutMs: 10_000 },
  undoDemotePrimary: { semiSync: false },
  promoteReplica: { semiSync: true, primaryTermStartTime: '2026-01-01T00:00:00.000Z' },
  populateReparentJournal: { actionName: 'PlannedReparentShard', primaryAlias: 'zone1-0000000100', position: 'MariaDB/0-100-42', timeoutMs: 5000 },
  setSemiSync: { primary: true, replica: false },
  createVReplicationWorkflow: {
    streams: [
      {
        workflow: 'wf',
        source: 'keyspace:"commerce" shard:"0" filter:{rules:{match:"customer" filter:"select * from customer"}}',
        cell: 'zone1',
        tabletTypes: ['replica', 'primary'],
        state: 'Stopped',
        workflowType: 1,
        workflowSubType: 0,
        deferSecondaryKeys: true,
        options: '{"config":{"vreplication-copy-cycle-rows":"10"}}',
        stopPos: '',
        pos: '',
        copyTables: ['customer'],
      },
    ],
  },
  readVReplicationWorkflow: { workflow: 'wf' },
  updateVReplicationWorkflow: { workflow: 'wf', state: 'Stopped', options: '{}', cell: 'zone1', tabletTypes: ['rdonly'], stopPos: 'MariaDB/0-100-42', message: 'FROZEN' },
  deleteVReplicationWorkflow: { workflow: 'wf' },
  vReplicationWaitForPos: { id: 3, position: 'MariaDB/0-100-42', timeoutMs: 1000 },
  vDiff: { action: 'rows', workflow: 'wf', keyspace: 'customer', uuid: 'all', options: '{}', samples: -1, afterId: 7, limit: 100 },
  purgeBinaryLogs: { to: 'vt-0000000100-bin.000003', olderThanSeconds: 3600, dryRun: true },
};

function check(method: TmMethod, raw: unknown): unknown {
  const r = new RequestReader(tmWireName(method), raw);
  const out: unknown = TM_METHODS[method].validate(r);
  r.finish();
  return out;
}

const refused = (re: RegExp) => (e: TesseraError) => e.errno === 1210 && e.sqlState === 'HY000' && re.test(e.message);

test('every method has a wire name and a sample; the sample passes unchanged; an extra field is refused', () => {
  assert.deepEqual(Object.keys(TM_METHODS).sort(), Object.keys(SAMPLES).sort());
  for (const m of Object.keys(TM_METHODS) as TmMethod[]) {
    const wire = tmWireName(m);
    assert.match(wire, /^tm\.[A-Z][A-Za-z]+$/);
    const out = JSON.parse(JSON.stringify(check(m, SAMPLES[m])));
    assert.deepEqual(out, SAMPLES[m], `${wire} passes its sample unchanged`);
    assert.throws(() => check(m, { ...SAMPLES[m], bogus: 1 }), refused(new RegExp(`^${wire.replace('.', '\\.')}: unknown field 'bogus'`)));
    assert.throws(() => check(m, [SAMPLES[m]]), refused(/must be a JSON object, not an array/));
  }
  assert.equal(tmWireName('executeFetchAsDba'), 'tm.ExecuteFetchAsDba');
  assert.equal(tmWireName('stopReplicationAndApplyRelay'), 'tm.StopReplicationAndApplyRelay');
});

test('missing, mistyped and out-of-range fields name the field', () => {
  assert.deepEqual(check('ping', null), {});
  assert.throws(() => check('applySchema', {}), refused(/^tm\.ApplySchema: 'sql' is required$/));
  assert.throws(() => check('applySchema', { sql: ['x'] }), refused(/'sql' must be a string/));
  assert.throws(() => check('executeFetchAsDba', { sql: 'select 1', maxRows: 1.5 }), refused(/'maxRows' must be an integer/));
  assert.throws(() => check('executeFetchAsDba', { sql: 'select 1', maxRows: -1 }), refused(/'maxRows' must be between 0 and/));
  assert.throws(() => check('setReplicationSource', { ...SAMPLES.setReplicationSource, port: 70_000 }), refused(/'port' must be between 1 and 65535, not 70000/));
  assert.throws(() => check('setReplicationSource', { ...SAMPLES.setReplicationSource, semiSync: 'yes' }), refused(/'semiSync' must be true or false/));
  assert.throws(() => check('changeType', { tabletType: 'master' }), refused(/'tabletType' must be one of primary, replica, rdonly/));
  assert.throws(() => check('setSemiSync', { primary: true }), refused(/^tm\.SetSemiSync: 'replica' is required$/));
  // Streams are read field by field too, each named by its place in the list.
  const stream = SAMPLES.createVReplicationWorkflow.streams as Record<string, unknown>[];
  assert.throws(() => check('createVReplicationWorkflow', { streams: [{ ...stream[0], tabletType: 'x' }] }), refused(/^tm\.CreateVReplicationWorkflow\.streams\[0\]: unknown field 'tabletType'/));
  assert.throws(() => check('createVReplicationWorkflow', { streams: [{ ...stream[0], state: 'Running' }] }), refused(/'state' must be one of Init, Stopped, not 'Running'/));
  assert.throws(() => check('createVReplicationWorkflow', { streams: {} }), refused(/'streams' must be a list/));
  assert.throws(() => check('updateVReplicationWorkflow', { workflow: 'wf', tabletTypes: 'replica' }), refused(/'tabletTypes' must be a list of strings/));
  assert.throws(() => check('vReplicationWaitForPos', { id: 0, position: 'MariaDB/0-1-1' }), refused(/'id' must be between 1 and/));
  // null is "absent" for optional fields, as JSON senders write it.
  assert.deepEqual(JSON.parse(JSON.stringify(check('waitForPosition', { position: 'MariaDB/0-1-1', timeoutMs: null }))), { position: 'MariaDB/0-1-1' });
});
