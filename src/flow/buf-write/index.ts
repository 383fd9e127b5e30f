/**
 * Buffered writing (Eio's `Buf_write`): `BufWrite.with`/`create`, the `BufWriter`, its errors.
 * @module
 */
export { AgeWatchdog, type Watched } from "./age-watchdog.ts";
export { FlushAborted, WriterBufferAgeExceeded, WriterBufferLimitExceeded } from "./errors.ts";
export {
  BufWrite,
  type BufWriteOptions,
  BufWriter,
  DEFAULT_MAX_UNFLUSHED,
  type DetachedOptions,
} from "./writer.ts";
