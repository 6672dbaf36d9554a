export { FrameKind, FrameParser, encodeFrame, FRAME_DEFAULTS, FRAME_HEADER_BYTES } from './frame.js';
export type { Frame } from './frame.js';
export { encodeMessage, decodeMessage, encodeRequestPrefix } from './message.js';
export type { Json, Message } from './message.js';
export { RpcServer, RPC_SERVER_DEFAULTS } from './server.js';
export type { CallContext, Reply, RpcConnection, UnaryHandler, StreamHandler, RpcServerOptions } from './server.js';
export { RpcClient, RPC_CLIENT_DEFAULTS, LOST_CONNECTION } from './client.js';
export type { CallOptions, RpcClientOptions } from './client.js';
