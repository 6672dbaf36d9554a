// VReplication's source side: filter rules, the row streamer, and the copy phase's snapshot.
// The engine (streams in _vt.vreplication, copy + catch-up + replicate) builds on these.
export { parseSelectFilter, planTable, planColumns, ruleMatches, keyspaceIdSource } from './filter.js';
export type { Filter, FilterRule, SelectFilter, TablePlan, KeyspaceIdSource } from './filter.js';
export { RowStreamer, RowFilter, loadOldTemporalHints } from './row-streamer.js';
export type { StreamEvent, FieldInfo, RowChangeOut, RowStreamerOptions } from './row-streamer.js';
export type { VStreamer, VStreamRequest, VStreamRowsRequest, RowsBatch } from './vstreamer.js';
export { Snapshot, SNAPSHOT_DEFAULTS } from './snapshot.js';
export type { CopyOptions, CopyBatch } from './snapshot.js';
export { LocalVStreamer, VSTREAMER_DEFAULTS, ER_REQUIRES_PRIMARY_KEY, vstreamServerIdBase, topoVSchemaSource } from './local-vstreamer.js';
export type { LocalVStreamerConfig, VStreamerLimits, VStreamStats } from './local-vstreamer.js';
export { VStreamerClient, VSTREAMER_CLIENT_DEFAULTS, registerVStreamHandlers } from './vstreamer-client.js';
export { encodeEvents, decodeEvents, encodeRowsBatch, decodeRowsBatch, encodeValues, decodeValues, eventSize, VSTREAM_CODEC_LIMITS, VSTREAM_CODEC_VERSION } from './vstream-codec.js';
