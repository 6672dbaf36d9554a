export { COLLATIONS, collationByName, collationInfo, collationName, compare, unsupportedCollationError, weightKey } from './collations.js';
export type { CollationInfo } from './collations.js';
