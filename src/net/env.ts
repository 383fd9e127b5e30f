/**
 * `Env`: the capabilities a backend hands a program (Eio's `Stdenv`), and how Async-style code
 * finds the running one.
 * @module
 */
import { type Clock, currentFiber } from "../core/index.ts";
import type { DomainManager, Net } from "./types.ts";

/**
 * The capabilities `run` (or `Mock.Backend.runFull`) gives a program: code receives them
 * instead of reaching for globals, so that the same code runs on `weir/mock`.
 */
export interface Env {
  /** The network. */
  readonly net: Net;
  /** The wall clock. */
  readonly clock: Clock;
  /** The monotonic clock. */
  readonly monoClock: Clock;
  /** Runs work in other domains (worker threads; fake domains in the mock). */
  readonly domainMgr: DomainManager;
}

/**
 * The environment of the enclosing `run` / `Mock.Backend.runFull`, which installs it in the
 * fiber context (every fiber forked inside inherits it).
 * @throws Error if called outside of both.
 * @example
 * ```ts
 * await run(async () => {
 *   const { net } = currentEnv();
 * });
 * ```
 */
export function currentEnv(): Env {
  const env = currentFiber().env;
  if (env === undefined) {
    throw new Error("no weir environment: call this inside run(...) or Mock.Backend.runFull(...)");
  }
  return env as Env;
}

/** Like {@link currentEnv}, but `undefined` outside of a run. */
export function currentEnvOpt(): Env | undefined {
  return currentFiber().env as Env | undefined;
}

let defaultEnv: Env | undefined;

/**
 * Sets the environment Async-style code (`Tcp`) uses outside any run: the real backend's, set
 * when `weir`'s entry module loads (`run.ts`). Not for programs.
 */
export function setDefaultEnv(env: Env): void {
  defaultEnv = env;
}

/** The environment of the enclosing run, else the default one (the real backend's), if set. */
export function ambientEnv(): Env | undefined {
  return (currentFiber().env as Env | undefined) ?? defaultEnv;
}
