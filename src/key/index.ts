// Key ranges, shard names and keyspace ids: where a row lives. See key-range.ts for the rules
// (bounds compare as zero-padded fractions, start inclusive, end exclusive, empty = unbounded).
export {
  EQUAL_SHARDS_MAX,
  FULL_KEY_RANGE,
  compareKeyBytes,
  compareKeyRanges,
  equalShardNames,
  fromHex,
  isUnshardedShardName,
  keyRangeContains,
  keyRangeContainsRange,
  keyRangeEqual,
  keyRangeFromHex,
  keyRangeIntersection,
  keyRangeIsFull,
  keyRangeToShardName,
  keyRangesIntersect,
  keyspaceIdFromHex,
  keyspaceIdToHex,
  overlappingShards,
  parseShardName,
  parseShardingSpec,
  shardForKeyspaceId,
  toHex,
  validatePartition,
} from './key-range.js';
export type { KeyRange, KeyspaceId } from './key-range.js';
