export { COLLATIONS, collationByName, collationIdByName, collationInfo, collationName, compare, unsupportedCollationError, weightKey } from './collations.js';
export type { CollationInfo } from './collations.js';
