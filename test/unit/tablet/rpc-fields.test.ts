// Column definitions cross the tablet RPC as JSON: MariaDB's extended metadata (the bytes that
// say a column is json, uuid, …) must come back as the same bytes, and definitions without it
// unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { columnDefinition, TYPE } from '../../../src/mysql/index.js';
import { fieldsFromJson, fieldsToJson } from '../../../src/tablet/rpc-service.js';

test('extended metadata survives the JSON of an RPC message', () => {
  // format=json as MariaDB encodes it: key 1 (format name), length, value.
  const ext = Buffer.from([0x01, 0x04, ...Buffer.from('json')]);
  const fields = [
    { ...columnDefinition({ name: 'j', type: TYPE.BLOB, columnLength: 4294967295 }), extendedMetadata: ext },
    columnDefinition({ name: 'id', type: TYPE.LONGLONG, charset: 63, columnLength: 20 }),
    { ...columnDefinition({ name: 'e', type: TYPE.VAR_STRING }), extendedMetadata: Buffer.alloc(0) },
  ];
  const back = fieldsFromJson(JSON.parse(JSON.stringify(fieldsToJson(fields))));
  assert.ok(Buffer.isBuffer(back[0].extendedMetadata));
  assert.deepEqual(back[0].extendedMetadata, ext);
  assert.equal(back[1].extendedMetadata, undefined);
  assert.deepEqual({ ...back[1] }, { ...fields[1] });
  assert.deepEqual(back[2].extendedMetadata, Buffer.alloc(0));
});
