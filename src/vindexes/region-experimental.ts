// region_experimental: a two-column vindex. The keyspace id is the region (first column, as
// `region_bytes` big-endian bytes, 1 or 2) followed by the `hash` of the id (second column), so a
// region's rows sit together in the key space. With only the region given, it maps to the key
// range of that region prefix.

import { vhash } from './functional.js';
import {
  DESTINATION_NONE,
  bytesEqual,
  toUint64,
  vindexError,
  type Destination,
  type MultiColumnVindex,
  type VindexValue,
} from './vindex.js';

export function createRegionExperimentalVindex(name: string, params: Readonly<Record<string, string>>): MultiColumnVindex {
  const rb = params.region_bytes;
  if (rb !== '1' && rb !== '2') {
    throw vindexError(name, `region_experimental needs param region_bytes of 1 or 2, got ${rb === undefined ? 'none' : `'${rb}'`}`);
  }
  const regionBytes = Number(rb);
  const prefix = (v: VindexValue): Uint8Array | undefined => {
    const n = toUint64(v);
    if (n === undefined) return undefined;
    const r = Number(n & 0xffffn);
    return regionBytes === 1 ? new Uint8Array([r & 0xff]) : new Uint8Array([r >>> 8, r & 0xff]);
  };
  const mapRow = (row: readonly VindexValue[]): Destination => {
    if (row.length < 1 || row.length > 2) {
      throw vindexError(name, `region_experimental takes 1 or 2 column values, got ${row.length}`);
    }
    const p = prefix(row[0]);
    if (!p) return DESTINATION_NONE;
    if (row.length === 1) {
      // The range of every id with this prefix: [p, p+1), or to the end when p is all 0xff.
      const end = new Uint8Array(p);
      let i = end.length - 1;
      while (i >= 0 && end[i] === 0xff) end[i--] = 0;
      if (i < 0) return { kind: 'keyRange', range: { start: p, end: new Uint8Array(0) } };
      end[i]++;
      return { kind: 'keyRange', range: { start: p, end } };
    }
    const n = toUint64(row[1]);
    if (n === undefined) return DESTINATION_NONE;
    const id = new Uint8Array(p.length + 8);
    id.set(p, 0);
    id.set(vhash(n), p.length);
    return { kind: 'keyspaceId', id };
  };
  return {
    kind: 'multiColumn',
    name,
    type: 'region_experimental',
    cost: 1,
    unique: true,
    needsLookup: false,
    params,
    columnCount: 2,
    map: (rows) => rows.map(mapRow),
    verify(rows, ksids) {
      if (rows.length !== ksids.length) throw vindexError(name, `verify got ${rows.length} rows but ${ksids.length} keyspace ids`);
      return rows.map((row, i) => {
        const d = mapRow(row);
        return d.kind === 'keyspaceId' && bytesEqual(d.id, ksids[i]);
      });
    },
  };
}
