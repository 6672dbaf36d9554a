// The binlog reader: MariaDB GTID positions, event decoding, row decoding, and (network) replica
// streaming. See docs/binlog.md.
export { GtidPosition, gtid, parseGtid, formatGtid, MARIADB_FLAVOR } from './gtid.js';
export type { Gtid } from './gtid.js';
export { EVENT, eventName, GTID_FLAG, ROWS_FLAG, ER_CORRUPT_EVENT, ER_BINLOG_READ, ER_STREAM_LIMIT } from './constants.js';
export { EventDecoder, EVENT_DECODER_DEFAULTS, EVENT_FLAG_ARTIFICIAL } from './events.js';
export type {
  BinlogEvent,
  EventHeader,
  EventDecoderOptions,
  FormatDescriptionEvent,
  RotateEvent,
  GtidEvent,
  GtidListEvent,
  BinlogCheckpointEvent,
  QueryEvent,
  TableMapEvent,
  RowsEvent,
  XidEvent,
  AnnotateRowsEvent,
  HeartbeatEvent,
  StopEvent,
  OtherEvent,
} from './events.js';
export { TableMap } from './table-map.js';
export type { ColumnInfo, OldTemporalHints } from './table-map.js';
export type { RowValue, Row, RowChange, RowKeyFilter, RowsAction, RowPlan } from './rows.js';
export { rowPlan, decodeRowImage, fixedSize as rowValueSize, ROW_KIND } from './rows.js';
export { charsetOfCollation } from './charset.js';
export { splitBinlogFile, binlogFileEvents, readBinlogFile } from './file.js';
export { TransactionFramer } from './transactions.js';
export type { StreamItem } from './transactions.js';
export { BinlogReader, BINLOG_READER_DEFAULTS, currentPosition } from './reader.js';
export type { BinlogReaderOptions } from './reader.js';
