// The vindex registry: one explicit map from type name to constructor. Nothing registers itself
// on import; adding a type means adding a line here.

import {
  createBinaryMD5Vindex,
  createBinaryVindex,
  createHashVindex,
  createNullVindex,
  createNumericStaticMapVindex,
  createNumericVindex,
  createReverseBitsVindex,
  createUnicodeLooseMD5Vindex,
  createUnicodeLooseXXHashVindex,
  createXXHashVindex,
} from './functional.js';
import { LOOKUP_PARAMS, createLookupVindex } from './lookup.js';
import { createRegionExperimentalVindex } from './region-experimental.js';
import { vindexError, type FunctionalVindex, type Vindex } from './vindex.js';

type Params = Readonly<Record<string, string>>;

interface VindexTypeInfo {
  readonly create: (name: string, params: Params) => Vindex;
  /** Params the type reads; others are reported as unknown (warnings, as Vitess does). */
  readonly params: readonly string[];
  /** Known to Vitess and to us, but kept only for old VSchemas: prefer the named type. */
  readonly preferred?: string;
}

function numericStaticMap(name: string, params: Params): Vindex {
  const fb = params.fallback_type;
  let fallback: FunctionalVindex | undefined;
  if (fb) {
    const info = TYPES.get(fb);
    const v = info && info.params.length === 0 ? info.create(`${name}_fallback`, {}) : undefined;
    if (!v || v.kind !== 'functional' || !v.unique) {
      throw vindexError(name, `fallback_type '${fb}' must be a unique functional vindex type`);
    }
    fallback = v;
  }
  return createNumericStaticMapVindex(name, params, fallback);
}

const TYPES: ReadonlyMap<string, VindexTypeInfo> = new Map<string, VindexTypeInfo>([
  ['hash', { create: createHashVindex, params: [] }],
  ['xxhash', { create: createXXHashVindex, params: [] }],
  ['unicode_loose_md5', { create: createUnicodeLooseMD5Vindex, params: [] }],
  ['unicode_loose_xxhash', { create: createUnicodeLooseXXHashVindex, params: [] }],
  ['binary_md5', { create: createBinaryMD5Vindex, params: [] }],
  ['binary', { create: createBinaryVindex, params: [] }],
  ['numeric', { create: createNumericVindex, params: [] }],
  ['numeric_static_map', { create: numericStaticMap, params: ['json', 'json_path', 'fallback_type'] }],
  ['reverse_bits', { create: createReverseBitsVindex, params: [] }],
  ['null', { create: createNullVindex, params: [] }],
  ['region_experimental', { create: createRegionExperimentalVindex, params: ['region_bytes'] }],
  ['lookup', { create: (n, p) => createLookupVindex(n, 'lookup', p), params: LOOKUP_PARAMS }],
  ['lookup_unique', { create: (n, p) => createLookupVindex(n, 'lookup_unique', p), params: LOOKUP_PARAMS }],
  ['consistent_lookup', { create: (n, p) => createLookupVindex(n, 'consistent_lookup', p), params: LOOKUP_PARAMS }],
  [
    'consistent_lookup_unique',
    { create: (n, p) => createLookupVindex(n, 'consistent_lookup_unique', p), params: LOOKUP_PARAMS },
  ],
]);

/** Every registered type name, sorted. */
export function vindexTypes(): string[] {
  return [...TYPES.keys()].sort();
}

export function isVindexType(type: string): boolean {
  return TYPES.has(type);
}

/**
 * Builds a vindex of a registered type. Throws a TesseraError naming the vindex when the type
 * is unknown or its params are invalid.
 */
export function createVindex(type: string, name: string, params: Params = {}): Vindex {
  const info = TYPES.get(type);
  if (!info) {
    throw vindexError(name, `unknown vindex type '${type}' (known: ${vindexTypes().join(', ')})`);
  }
  return info.create(name, params);
}

/** Params that the type does not read (Vitess warns about these rather than failing). */
export function unknownVindexParams(type: string, params: Params): string[] {
  const info = TYPES.get(type);
  if (!info) return [];
  return Object.keys(params).filter((k) => !info.params.includes(k)).sort();
}
