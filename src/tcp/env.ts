/**
 * Where `Tcp` gets its capabilities: the `net` and `clock` options when given, else the env of
 * the running `run` / `Mock.Backend.runFull` (the ambient env, read from the fiber context).
 * @module
 */
import { type Clock, monoClock } from "../core/index.ts";
import { ambientEnv } from "../net/env.ts";
import type { Net } from "../net/types.ts";

/** The capability options every `Tcp` entry point takes. */
export interface TcpEnvOptions {
  /**
   * The network to use. Default: the running env's `net` (inside `run` or
   * `Mock.Backend.runFull`), else (outside any run) the real Node network.
   */
  readonly net?: Net | undefined;
  /**
   * The clock for timeouts and buffer ages. Default: the running env's `monoClock`, else the
   * real monotonic clock.
   */
  readonly clock?: Clock | undefined;
}

/** The ambient env, as far as Tcp needs it. */
interface Ambient {
  readonly net: Net | undefined;
  readonly clock: Clock | undefined;
}

function isNet(x: unknown): x is Net {
  return (
    typeof x === "object" &&
    x !== null &&
    typeof (x as { connect?: unknown }).connect === "function" &&
    typeof (x as { listen?: unknown }).listen === "function"
  );
}

function isClock(x: unknown): x is Clock {
  return (
    typeof x === "object" &&
    x !== null &&
    typeof (x as { now?: unknown }).now === "function" &&
    typeof (x as { sleep?: unknown }).sleep === "function"
  );
}

/**
 * The env installed in the calling fiber's context by `run` / `Mock.Backend.runFull`, else
 * (outside any run) the real backend's: Tcp works anywhere, as Async's does. Read
 * structurally (`env.net`, `env.monoClock`).
 */
function ambient(): Ambient | undefined {
  const env: unknown = ambientEnv();
  if (typeof env !== "object" || env === null) return undefined;
  const net = "net" in env && isNet(env.net) ? env.net : undefined;
  let clock: Clock | undefined;
  if ("monoClock" in env && isClock(env.monoClock)) clock = env.monoClock;
  else if ("clock" in env && isClock(env.clock)) clock = env.clock;
  return { net, clock };
}

/**
 * The `Net` to use: `opts.net`, else the running env's.
 * @throws TypeError naming `what` if there is neither, or `opts.net` is not a Net.
 * @example
 * ```ts
 * const net = resolveNet(opts, "Tcp.connect"); // opts.net, or env.net inside run()
 * ```
 */
export function resolveNet(opts: TcpEnvOptions | undefined, what: string): Net {
  const given = opts?.net;
  if (given !== undefined) {
    if (!isNet(given))
      throw new TypeError(`${what}: option net must be a Net, got ${typeof given}`);
    return given;
  }
  const net = ambient()?.net;
  if (net === undefined) {
    throw new TypeError(
      `${what}: no network: pass option net (env.net), or call it inside run() or Mock.Backend.runFull()`,
    );
  }
  return net;
}

/**
 * The clock to use: `opts.clock`, else the running env's monotonic clock, else the real one.
 * @throws TypeError naming `what` if `opts.clock` is not a Clock.
 * @example
 * ```ts
 * const clock = resolveClock({ clock: env.monoClock }, "Tcp.connect");
 * ```
 */
export function resolveClock(opts: TcpEnvOptions | undefined, what: string): Clock {
  const given = opts?.clock;
  if (given !== undefined) {
    if (!isClock(given)) {
      throw new TypeError(`${what}: option clock must be a Clock, got ${typeof given}`);
    }
    return given;
  }
  return ambient()?.clock ?? monoClock;
}
