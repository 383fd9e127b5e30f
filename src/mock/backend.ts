/**
 * The mock backend (Eio's `Eio_mock.Backend`): runs code deterministically, with traces
 * captured, mock clocks that jump, and deadlocks reported instead of hanging.
 * @module
 */
import { runInFiber, type TraceSink } from "../core/index.ts";
import { Monitor } from "../core/monitor.ts";
import type { Env } from "../net/env.ts";
import { MockClock } from "./clock.ts";
import { MockDomainManager } from "./domain-manager.ts";
import { MockNet } from "./net.ts";
import { DeadlockDetected, MockScheduler } from "./scheduler.ts";

/** Options of {@link Backend.run} and {@link Backend.runFull}. */
export interface RunOptions {
  /** Receives each trace line of the run (without newline); default: written to stderr. */
  readonly onTrace?: ((line: string) => void) | undefined;
}

/**
 * The environment `Mock.Backend.runFull` passes (and installs in the fiber context, where
 * `currentEnv()` finds it): an `Env`, as the real `run` gives, so the same application code runs
 * on both.
 */
export interface MockEnv extends Env {
  /** A mock network labelled `net` (unscripted: script it with `Mock.Net.on*`). */
  readonly net: MockNet;
  /** The mock wall clock: the same clock as `monoClock` (time starts at 0). */
  readonly clock: MockClock;
  /** The mock monotonic clock, starting at 0, advanced when every fiber is waiting. */
  readonly monoClock: MockClock;
  /** A mock domain manager (domains are fibers with a `[id] ` trace prefix). */
  readonly domainMgr: MockDomainManager;
}

function sinkOf(onTrace: ((line: string) => void) | undefined): TraceSink {
  const out =
    onTrace ??
    ((line: string): void => {
      process.stderr.write(`${line}\n`);
    });
  if (typeof out !== "function") {
    throw new TypeError(`onTrace must be a function, got ${typeof out}`);
  }
  return {
    write: (text) => {
      for (const line of text.split("\n")) out(line);
    },
  };
}

/**
 * Runs `fn(env)` on the mock backend and returns its result. Fibers of the run are resumed
 * one at a time in a deterministic order: a fiber that yields (or, with core support, whose
 * operation completes) waits behind those already runnable, each turn starting once every
 * promise job has run. When no fiber can run, the mock clock jumps to the next timer
 * (tracing `mock time is now N`, in ms); when there is none either, the run rejects with
 * {@link DeadlockDetected}. Trace lines (`traceln` and the mocks') go to `opts.onTrace`.
 *
 * Only mock resources may be waited for: real timers or sockets are seen as a deadlock.
 * @throws what `fn` throws; DeadlockDetected if the run can no longer make progress;
 *   TypeError if `fn` is not a function.
 * @example
 * ```ts
 * const lines: string[] = [];
 * await Mock.Backend.runFull(async (env) => {
 *   await env.monoClock.sleep(10);
 * }, { onTrace: (l) => lines.push(l) });
 * // lines: ["mock time is now 10"]
 * ```
 */
function runFull<T>(fn: (env: MockEnv) => T | Promise<T>, opts: RunOptions = {}): Promise<T> {
  if (typeof fn !== "function") throw new TypeError(`fn must be a function, got ${typeof fn}`);
  const sink = sinkOf(opts.onTrace);
  const clock = new MockClock();
  const env: MockEnv = {
    net: new MockNet("net"),
    clock,
    monoClock: clock,
    domainMgr: new MockDomainManager(),
  };
  const scheduler = new MockScheduler();
  return new Promise<T>((resolve, reject) => {
    const base = scheduler.start(sink, clock, reject, env);
    // As run(): an error raised to the monitor (a Tcp.Server's "raise") cancels fn and fails the run
    const monitor = new Monitor(base.cc);
    const ctx = { ...base, monitor };
    const settle = (body: { ok: true; value: T } | { ok: false; error: unknown }): void => {
      scheduler.finish();
      try {
        resolve(monitor.close(body));
      } catch (e) {
        reject(e);
      }
    };
    let result: T | Promise<T>;
    try {
      result = runInFiber(ctx, () => fn(env));
    } catch (error) {
      settle({ ok: false, error });
      return;
    }
    Promise.resolve(result).then(
      (value) => settle({ ok: true, value }),
      (error: unknown) => settle({ ok: false, error }),
    );
  });
}

/**
 * Runs `fn()` on the mock backend: {@link runFull} without the environment.
 * @throws what `fn` throws; DeadlockDetected if the run can no longer make progress.
 * @example
 * ```ts
 * await Mock.Backend.run(async () => {
 *   traceln("hello");
 * }, { onTrace: (l) => console.log(l) });
 * ```
 */
function run<T>(fn: () => T | Promise<T>, opts?: RunOptions): Promise<T> {
  if (typeof fn !== "function") throw new TypeError(`fn must be a function, got ${typeof fn}`);
  return runFull(() => fn(), opts);
}

/** The mock backend. */
export const Backend = {
  run,
  runFull,
  DeadlockDetected,
};
