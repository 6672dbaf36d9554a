import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadClusterFile, parseClusterFile } from '../../../src/cluster/index.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cluster-spec-'));
fs.writeFileSync(path.join(dir, 'v.json'), '{"tables":{"t":{}}}');
fs.writeFileSync(path.join(dir, 'vs.json'), '{"sharded":true,"vindexes":{"hash":{"type":"hash"}},"tables":{"t":{"column_vindexes":[{"column":"id","name":"hash"}]}}}');
fs.writeFileSync(path.join(dir, 's.sql'), 'create table t(id int primary key);');
fs.writeFileSync(path.join(dir, 'creds.json'), '{"vt_app": ["app-pw"], "vt_repl": ["repl-pw"]}');
fs.writeFileSync(path.join(dir, 'bad-creds.json'), '{"vt_nobody": ["x"]}');
const file = path.join(dir, 'cluster.yaml');
const parse = (text: string) => parseClusterFile(text, file);

test('the default example parses with the tutorial shape', () => {
  const spec = loadClusterFile('examples/local/cluster.yaml');
  assert.equal(spec.cell, 'zone1');
  assert.equal(spec.mode, 'combined');
  assert.equal(spec.topo.implementation, 'file');
  assert.deepEqual(spec.keyspaces.map((k) => k.name), ['commerce']);
  const shard = spec.keyspaces[0].shards[0];
  assert.equal(shard.name, '0');
  assert.deepEqual(shard.tablets.map((t) => [t.uid, t.type, t.mysqlPort, t.httpPort, t.grpcPort]), [
    [100, 'primary', 17100, 15100, 16100],
    [101, 'replica', 17101, 15101, 16101],
    [102, 'rdonly', 17102, 15102, 16102],
  ]);
  assert.equal(spec.gate.port, 15306);
  assert.equal(spec.keyspaces[0].schemaFiles.length, 2);
});

test('a sharded keyspace and distributed mode (etcd by default)', () => {
  const spec = parse(`mode: distributed
keyspaces:
  customer:
    vschema: vs.json
    shards:
      "-80": { tablets: [ { uid: 300, type: primary } ] }
      "80-": { tablets: [ { uid: 400, type: primary }, { uid: 401, type: replica } ] }
`);
  assert.equal(spec.topo.implementation, 'etcd');
  assert.deepEqual(spec.keyspaces[0].shards.map((s) => s.name), ['-80', '80-']);
});

test('dbCredentialsFile: a path relative to the cluster file, absent by default', () => {
  const one = 'keyspaces:\n  ks:\n    shards:\n      "0": { tablets: [ { uid: 301, type: primary } ] }\n';
  assert.equal(parse(one).dbCredentialsFile, null);
  assert.equal(parse(`dbCredentialsFile: creds.json\n${one}`).dbCredentialsFile, path.join(dir, 'creds.json'));
});

test('tabletFlags: engine settings for every tablet, by flag name (underscores accepted)', () => {
  const one = 'keyspaces:\n  ks:\n    shards:\n      "0": { tablets: [ { uid: 301, type: primary } ] }\n';
  assert.deepEqual(parse(one).tabletFlags, {});
  const spec = parse(`tabletFlags:\n  vreplication-copy-readers: 4\n  vreplication_retry_delay: 2s\n${one}`);
  assert.deepEqual(spec.tabletFlags, { 'vreplication-copy-readers': '4', 'vreplication-retry-delay': '2s' });
});

const bad: [string, string, RegExp][] = [
  ['an unknown tablet flag', 'tabletFlags:\n  vreplication-copy-raeders: 4\nkeyspaces:\n  ks:\n    shards:\n      "0": { tablets: [ { uid: 301, type: primary } ] }\n', /cluster\.yaml:2: .*unknown engine setting 'vreplication-copy-raeders'/],
  ['a duration on a count', 'tabletFlags:\n  vreplication-copy-readers: 4s\nkeyspaces:\n  ks:\n    shards:\n      "0": { tablets: [ { uid: 301, type: primary } ] }\n', /cluster\.yaml:2: .*not a duration; give a plain number/],
  ['a missing credentials file', 'dbCredentialsFile: nope.json\nkeyspaces:\n  ks:\n    shards:\n      "0": { tablets: [ { uid: 301, type: primary } ] }\n', /cluster\.yaml:1: dbCredentialsFile: file .*nope\.json does not exist/],
  ['a malformed credentials file', 'dbCredentialsFile: bad-creds.json\nkeyspaces:\n  ks:\n    shards:\n      "0": { tablets: [ { uid: 301, type: primary } ] }\n', /cluster\.yaml:1: .*bad-creds\.json: unknown user 'vt_nobody'/],
  ['unknown top-level key', 'cel: zone1\nkeyspaces: {}\n', /cluster\.yaml:1: unknown key 'cel' in the cluster file/],
  [
    'unknown tablet key',
    'keyspaces:\n  ks:\n    shards:\n      "0":\n        tablets:\n          - { uid: 301, type: primary, mysqlport: 3 }\n',
    /cluster\.yaml:6: unknown key 'mysqlport' in a tablet of shard ks\/0/,
  ],
  [
    'overlapping shards',
    'keyspaces:\n  ks:\n    vschema: vs.json\n    shards:\n      "-80": { tablets: [ { uid: 301, type: primary } ] }\n      "40-": { tablets: [ { uid: 302, type: primary } ] }\n',
    /cluster\.yaml:5: keyspace ks: the shards must cover the key range once: .*overlap/,
  ],
  [
    'a gap between shards',
    'keyspaces:\n  ks:\n    vschema: vs.json\n    shards:\n      "-40": { tablets: [ { uid: 301, type: primary } ] }\n      "80-": { tablets: [ { uid: 302, type: primary } ] }\n',
    /keyspace ks: the shards must cover the key range once: .*gap/,
  ],
  [
    'a port used twice',
    'keyspaces:\n  ks:\n    shards:\n      "0":\n        tablets:\n          - { uid: 301, type: primary }\n          - { uid: 302, type: replica, mysqlPort: 17301 }\n',
    /cluster\.yaml:7: port 17301 is used twice: by mysqlPort of tablet 301 and by mysqlPort of tablet 302/,
  ],
  ['a port clashing with the gate', 'gate: { port: 15100 }\nkeyspaces:\n  ks:\n    shards:\n      "0": { tablets: [ { uid: 100, type: primary } ] }\n', /port 15100 is used twice: by gate.port and by port of tablet 100/],
  ['a uid used twice', 'keyspaces:\n  a:\n    shards:\n      "0": { tablets: [ { uid: 301, type: primary } ] }\n  b:\n    shards:\n      "0": { tablets: [ { uid: 301, type: primary } ] }\n', /cluster\.yaml:7: tablet uid 301 is used twice: in a\/0 and in b\/0/],
  ['not a key range', 'keyspaces:\n  ks:\n    shards:\n      "80-40": { tablets: [ { uid: 301, type: primary } ] }\n', /cluster\.yaml:4: keyspace ks: shard '80-40' is not a key range/],
  ['two primaries', 'keyspaces:\n  ks:\n    shards:\n      "0": { tablets: [ { uid: 301, type: primary }, { uid: 302, type: primary } ] }\n', /shard ks\/0 needs exactly one tablet of type primary, has 2/],
  ['unknown tablet type', 'keyspaces:\n  ks:\n    shards:\n      "0": { tablets: [ { uid: 301, type: master } ] }\n', /type of tablet 301 must be one of: primary, replica, rdonly \(got 'master'\)/],
  ['missing schema file', 'keyspaces:\n  ks:\n    schema: nope.sql\n    shards:\n      "0": { tablets: [ { uid: 301, type: primary } ] }\n', /cluster\.yaml:3: keyspace ks schema: file .*nope\.sql does not exist/],
  ['an invalid VSchema', 'keyspaces:\n  ks:\n    vschema: s.sql\n    shards:\n      "0": { tablets: [ { uid: 301, type: primary } ] }\n', /cluster\.yaml:3: keyspace ks: /],
  ['several shards without a sharded VSchema', 'keyspaces:\n  ks:\n    vschema: v.json\n    shards:\n      "-80": { tablets: [ { uid: 301, type: primary } ] }\n      "80-": { tablets: [ { uid: 302, type: primary } ] }\n', /keyspace ks has 2 shards but its VSchema is not "sharded": true/],
  ['YAML syntax', 'keyspaces: [\n', /cluster\.yaml:\d+: /],
  ['duplicate keys', 'cell: a\ncell: b\nkeyspaces: {}\n', /cluster\.yaml:2: /],
];

for (const [name, text, re] of bad) {
  test(`refused before anything starts: ${name}`, () => {
    assert.throws(() => parse(text), (e: Error & { errno?: number }) => {
      assert.match(e.message, re);
      assert.match(e.message, /^invalid cluster file: /);
      assert.equal(e.errno, 1210);
      return true;
    });
  });
}

test('gates: several gates, each with its ports; gate: one; not both', () => {
  const one = 'keyspaces:\n  ks:\n    shards:\n      "0": { tablets: [ { uid: 301, type: primary } ] }\n';
  const single = parse(one);
  assert.deepEqual(single.gates.map((g) => [g.name, g.port, g.httpPort]), [['gate', 15306, 15001]]);
  assert.equal(single.gate, single.gates[0]);
  const two = parse(`gates:\n  - { port: 25306, httpPort: 25001 }\n  - { port: 25307, httpPort: 25002, transactionMode: single }\n${one}`);
  assert.deepEqual(two.gates.map((g) => [g.name, g.port, g.httpPort, g.transactionMode]), [
    ['gate', 25306, 25001, 'multi'],
    ['gate-2', 25307, 25002, 'single'],
  ]);
  assert.equal(two.gate.port, 25306);
  assert.throws(() => parse(`gate: { port: 1 }\ngates: [ { port: 2 } ]\n${one}`), /cluster\.yaml:2: give either gate \(one gate\) or gates/);
  assert.throws(() => parse(`gates: [ { port: 25306 }, { port: 25306 } ]\n${one}`), /port 25306 is used twice: by gates\[0\]\.port and by gates\[1\]\.port/);
  assert.throws(() => parse(`gates: []\n${one}`), /gates must be a list of gate settings/);
});

test('restartProcesses and the tablets\' MariaDB restart settings', () => {
  const one = 'keyspaces:\n  ks:\n    shards:\n      "0": { tablets: [ { uid: 301, type: primary } ] }\n';
  const d = parse(one);
  assert.deepEqual([d.restartProcesses, d.mysqlRestart, d.mysqlRestartTimeoutMs], [false, true, 30_000]);
  const s = parse(`restartProcesses: true\nmysqlRestart: false\nmysqlRestartTimeoutMs: 5000\n${one}`);
  assert.deepEqual([s.restartProcesses, s.mysqlRestart, s.mysqlRestartTimeoutMs], [true, false, 5000]);
  assert.throws(() => parse(`mysqlRestartTimeoutMs: -1\n${one}`), /mysqlRestartTimeoutMs must be an integer from 0 to 86400000/);
});
