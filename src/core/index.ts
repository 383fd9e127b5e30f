/**
 * The core of weir: structured concurrency (switches, fibers, cancellation), errors,
 * clocks and time limits, and trace lines. It does no I/O of its own.
 * @module
 */

export { Cancel, type CancelScope } from "./cancel.ts";
export { CancelContext, type CancelHook, cancelledError } from "./cancel-context.ts";
export { type Clock, checkMs, formatSpan, monoClock, realClock } from "./clock.ts";
export {
  BufferLimitExceeded,
  Cancelled,
  type ConnectionFailureReason,
  combineErrors,
  EndOfFile,
  type IoErr,
  type IoErrKind,
  IoError,
  isCancelled,
  isIoError,
  suppressedErrors,
  type TlsFailureReason,
} from "./errors.ts";
export { Fiber } from "./fiber.ts";
export {
  afterFork,
  currentCancelContext,
  currentFiber,
  defaultScheduler,
  type FiberContext,
  runInFiber,
  type Scheduler,
  type TraceSink,
} from "./fiber-context.ts";
export {
  type RuntimeInfo,
  type RuntimeName,
  type RuntimePrimitive,
  runtime,
  UnsupportedOnRuntime,
} from "./runtime.ts";
export { Semaphore } from "./semaphore.ts";
export { awaitCancellable, type BlockingOptions, suspend } from "./suspend.ts";
export { type ReleaseHandle, Switch } from "./switch.ts";
export { Time, TimeLimit, Timeout } from "./time.ts";
export { traceln } from "./trace.ts";
