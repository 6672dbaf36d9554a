// Vindexes: functions from column values to keyspace ids, each matching Vitess's type of the
// same name. See docs/vindexes.md for what each does with each kind of MySQL value.
export type {
  Destination,
  FunctionalVindex,
  CommitOrder,
  LookupCreateOptions,
  LookupCursor,
  LookupDefinition,
  LookupOwner,
  LookupRows,
  LookupVindex,
  MultiColumnVindex,
  TypedNumber,
  Vindex,
  VindexBase,
  VindexValue,
} from './vindex.js';
export { DESTINATION_NONE, bytesEqual, toBytes, toUint64 } from './vindex.js';
export { createVindex, isVindexType, unknownVindexParams, vindexTypes } from './registry.js';
export { vhash, vhashBlocks, vunhash, parseNumericStaticMap } from './functional.js';
export { LOOKUP_PARAMS, LOOKUP_TYPES, parseLookupParams } from './lookup.js';
export type { LookupType } from './lookup.js';
export { looseKey } from './collation/loose-key.js';
export { xxh64, xxh64Into } from './xxh64.js';
