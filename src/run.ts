/**
 * `run` (Eio's `Eio_main.run`): the entry point of a program on the real backend. It only picks
 * the backend and hands its capabilities to the program.
 * @module
 */
import { domainMgr } from "./backend-node/domain-manager.ts";
import { nodeNet } from "./backend-node/node-net.ts";
import { CancelContext, currentFiber, monoClock, realClock, runInFiber } from "./core/index.ts";
import { Monitor } from "./core/monitor.ts";
import { type Env, setDefaultEnv } from "./net/env.ts";

export type { Env } from "./net/env.ts";

const env: Env = Object.freeze({ net: nodeNet, clock: realClock, monoClock, domainMgr });
// Outside any run, Async-style code (Tcp) uses the real network, as Async's Tcp does.
setDefaultEnv(env);

/**
 * Runs `fn` with the real backend's capabilities and returns its result. `fn` runs as a fiber
 * in a new cancellation context (a child of the caller's, whose trace sink it keeps), so
 * `Switch.run`, `Fiber.*` and every blocking operation work inside it. The env is also installed
 * in the fiber context, where `currentEnv()` (and `Tcp`) find it, with a monitor: an error
 * raised to it (a `Tcp.Server` made inside with `onHandlerError: "raise"`) cancels `fn` and
 * makes `run` reject with that error.
 * @throws what `fn` throws; an error raised to the run's monitor.
 * @example
 * ```ts
 * await run(async (env) => {
 *   await Switch.run(async (sw) => {
 *     const conn = await env.net.connect("tcp:127.0.0.1:8080", { sw });
 *     await Flow.copyString("hello\n", conn);
 *   });
 * });
 * ```
 */
export async function run<T>(fn: (env: Env) => T | Promise<T>): Promise<T> {
  if (typeof fn !== "function") throw new TypeError(`fn must be a function, got ${typeof fn}`);
  const parent = currentFiber();
  const cc = new CancelContext(parent.cc);
  const monitor = new Monitor(cc);
  try {
    const value = await runInFiber({ ...parent, cc, env, monitor }, () => fn(env));
    return monitor.close({ ok: true, value });
  } catch (error) {
    return monitor.close<T>({ ok: false, error });
  } finally {
    cc.finish();
  }
}
