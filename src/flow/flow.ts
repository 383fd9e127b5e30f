/**
 * `Flow` (Eio's `Flow`): the operations on sources and sinks, in-memory flows, and adapters to
 * and from Node streams and Web Streams, gathered in one object.
 * @module
 */
import { close, copy, copyString, readAll, readAllBytes, readExact, shutdown } from "./flow-ops.ts";
import {
  fromNodeReadable,
  fromNodeWritable,
  toNodeReadable,
  toNodeWritable,
} from "./node-streams.ts";
import { bufferSink, bytesSource, concatSource, nullFlow, stringSource } from "./sources.ts";
import { fromWebReadable, fromWebWritable, toWebReadable, toWebWritable } from "./web-streams.ts";

/**
 * Operations on flows (Eio's `Flow`). Every blocking operation belongs to the calling fiber
 * (it rejects with `Cancelled` when that fiber is cancelled) and takes an optional
 * `{ signal }`.
 * @example
 * ```ts
 * await Flow.copyString("Hello\n", socket);
 * const reply = await Flow.readAll(socket, { maxSize: 1 << 16 });
 * ```
 */
export const Flow = {
  copy,
  copyString,
  readExact,
  readAll,
  readAllBytes,
  shutdown,
  close,
  stringSource,
  bytesSource,
  concatSource,
  bufferSink,
  /** The null flow: a source always at end-of-file and a sink that discards (Eio's `Flow.null`). */
  null: nullFlow,
  fromNodeReadable,
  toNodeReadable,
  fromNodeWritable,
  toNodeWritable,
  fromWebReadable,
  toWebReadable,
  fromWebWritable,
  toWebWritable,
} as const;
