export { ER, TesseraError, tesseraError } from './errors.js';
export type { ErrorCode } from './errors.js';
export * from './constants.js';
export { PacketParser, PacketWriter, PacketReader } from './packet.js';
export * from './protocol.js';
export * from './values.js';
export * from './auth.js';
export { Client } from './client.js';
export type { ClientOptions, Result, ResultSink, PreparedStatement, RawPacketHandler } from './client.js';
