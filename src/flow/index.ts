/**
 * Flows (Eio's `Flow`, `Buf_read`, `Buf_write`): the source and sink contracts, operations on
 * them, buffered reading and parsing, buffered writing, and Node/Web stream adapters.
 * @module
 */

export {
  BufRead,
  BufReader,
  type BufReadOptions,
  ParseError,
  type ParseResult,
  type Parser,
} from "./buf-read/index.ts";
export {
  BufWrite,
  type BufWriteOptions,
  BufWriter,
  DEFAULT_MAX_UNFLUSHED,
  FlushAborted,
  WriterBufferAgeExceeded,
  WriterBufferLimitExceeded,
} from "./buf-write/index.ts";
export { Flow } from "./flow.ts";
export { COPY_BUFFER_SIZE, pump, type ReadAllOptions } from "./flow-ops.ts";
export {
  DEFAULT_HIGH_WATER_MARK,
  type ToNodeWritableOptions,
  type ToStreamOptions,
} from "./node-streams.ts";
export type { ChunkCollector } from "./sources.ts";
export type {
  Closable,
  Shutdown,
  ShutdownCommand,
  Sink,
  Source,
  TwoWay,
} from "./types.ts";
export type { ToWebWritableOptions } from "./web-streams.ts";
