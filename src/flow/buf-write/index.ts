/**
 * Buffered writing (Eio's `Buf_write`): `BufWrite.with`/`create`, the `BufWriter`, its errors.
 * @module
 */
export { AgeWatchdog, type Watched } from "./age-watchdog.ts";
export { type EngineOptions, WriteEngine } from "./engine.ts";
export { FlushAborted, WriterBufferAgeExceeded, WriterBufferLimitExceeded } from "./errors.ts";
export {
  BufWrite,
  type BufWriteOptions,
  BufWriter,
  checkOptions,
  checkSink,
  DEFAULT_MAX_UNFLUSHED,
  type DetachedOptions,
} from "./writer.ts";
