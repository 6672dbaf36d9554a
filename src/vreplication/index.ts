// VReplication's source side: filter rules, the row streamer, and the copy phase's snapshot.
// The engine (streams in _vt.vreplication, copy + catch-up + replicate) builds on these.
export { parseSelectFilter, planTable, planColumns, ruleMatches, keyspaceIdSource } from './filter.js';
export type { Filter, FilterRule, SelectFilter, TablePlan, KeyspaceIdSource } from './filter.js';
export { RowStreamer, RowFilter, loadOldTemporalHints } from './row-streamer.js';
export type { StreamEvent, FieldInfo, RowChangeOut, RowStreamerOptions } from './row-streamer.js';
export type { VStreamer, VStreamRequest, VStreamRowsRequest, RowsBatch } from './vstreamer.js';
export { Snapshot, SNAPSHOT_DEFAULTS } from './snapshot.js';
export type { CopyOptions, CopyBatch } from './snapshot.js';
// Stream state in the sidecar database: the source's text form, the copy's last key, and typed
// reads and writes of vreplication, copy_state and vreplication_log.
export { formatBinlogSource, parseBinlogSource, protoTextString } from './binlog-source.js';
export type { BinlogSource, OnDdl } from './binlog-source.js';
export { formatLastPk, parseLastPk } from './lastpk.js';
export type { LastPk } from './lastpk.js';
export { StreamStore, STREAM_STATES, STREAM_STORE_DEFAULTS, LOG_TYPE, NO_LIMIT, WORKFLOW_TYPE, WORKFLOW_SUB_TYPE, formatStreamPos, nowSeconds } from './stream-store.js';
export type { Stream, NewStream, StreamPatch, StreamState, CopyState, LogEntry } from './stream-store.js';
export { LocalVStreamer, VSTREAMER_DEFAULTS, ER_REQUIRES_PRIMARY_KEY, vstreamServerIdBase, topoVSchemaSource } from './local-vstreamer.js';
export type { LocalVStreamerConfig, VStreamerLimits, VStreamStats } from './local-vstreamer.js';
export { VStreamerClient, VSTREAMER_CLIENT_DEFAULTS, registerVStreamHandlers } from './vstreamer-client.js';
export { encodeEvents, decodeEvents, encodeRowsBatch, decodeRowsBatch, encodeValues, decodeValues, eventSize, VSTREAM_CODEC_LIMITS, VSTREAM_CODEC_VERSION } from './vstream-codec.js';
export { StreamThrottle, THROTTLE_DEFAULTS, THROTTLED_COMPONENT, PROBE_DEFAULTS, tabletManagerProbe, missingGtidRange } from './throttle.js';
export type { ThrottleProbe, ReplicaHealth } from './throttle.js';
