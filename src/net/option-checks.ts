/**
 * The checks of the options of the network entry points (`Net.runServer`, `net.listen`,
 * `net.connect`), kept apart from the code they guard so that each is written once, with the
 * shared helpers of `core/checks`.
 * @module
 */
import {
  checkCount,
  checkFunction,
  checkHasMethod,
  checkInt,
  checkObject,
  show,
} from "../core/checks.ts";
import type { KeepAlive } from "./types.ts";

/**
 * The largest `backlog` taken: the accept queue weir keeps holds up to `backlog` connections,
 * so it needs a bound (Linux caps listen(2)'s own at `net.core.somaxconn` anyway).
 * @example
 * ```ts
 * MAX_BACKLOG; // 65535
 * ```
 */
export const MAX_BACKLOG = 65_535;

/**
 * Checks a `backlog` option: an integer in 0..{@link MAX_BACKLOG}.
 * @throws TypeError for a non-number; RangeError out of range (`backlog: 1e9`).
 * @example
 * ```ts
 * checkBacklog(opts.backlog);
 * ```
 */
export function checkBacklog(v: unknown): number {
  return checkInt("backlog", v, 0, MAX_BACKLOG);
}

/**
 * Checks `runServer(listener, handler, opts)`'s arguments, all at once, before anything runs:
 * a listener (something with `accept`), a handler function, an options object with an
 * `onError` function, `maxConnections` absent or an integer > 0 (`null` is not "no limit"),
 * and `additionalDomains` absent or `[manager, count >= 0]`.
 * @throws TypeError/RangeError naming the argument and its value.
 * @example
 * ```ts
 * checkRunServerArgs(listener, handler, opts);
 * ```
 */
export function checkRunServerArgs(listener: unknown, handler: unknown, opts: unknown): void {
  checkHasMethod("runServer: listener", listener, "accept", "a ListeningSocket");
  checkFunction("runServer: handler", handler);
  checkObject("runServer: options", opts, "an object with onError (a function)");
  const o = opts as Record<string, unknown>;
  if (typeof o.onError !== "function") {
    throw new TypeError(`runServer: option onError must be a function, got ${show(o.onError)}`);
  }
  if (o.maxConnections !== undefined) checkCount("maxConnections", o.maxConnections, true);
  const domains = o.additionalDomains;
  if (domains !== undefined) {
    if (!Array.isArray(domains) || domains.length !== 2) {
      throw new TypeError(`additionalDomains must be [manager, count], got ${show(domains)}`);
    }
    checkHasMethod("additionalDomains manager", domains[0], "run", "a DomainManager");
    checkInt("additionalDomains count", domains[1], 0, Infinity);
  }
}

/**
 * Checks a `keepAlive` option: `false`, or `{ idle, interval?, count? }` with `idle` and
 * `interval` in ms (whole seconds are what the kernel takes: they are rounded up, at least 1 s)
 * and `count` an integer in 1..127.
 * @throws TypeError/RangeError naming the field and its value.
 * @example
 * ```ts
 * checkKeepAlive({ idle: 30_000, interval: 5_000, count: 3 });
 * ```
 */
export function checkKeepAlive(v: unknown): asserts v is KeepAlive | undefined {
  if (v === undefined || v === false) return;
  checkObject("keepAlive", v, "false or { idle, interval?, count? }");
  const k = v as Record<string, unknown>;
  checkIntMs("keepAlive.idle", k.idle);
  if (k.interval !== undefined) checkIntMs("keepAlive.interval", k.interval);
  if (k.count !== undefined) checkInt("keepAlive.count", k.count, 1, 127);
}

/** The kernel takes keep-alive times in whole seconds up to 32767 (TCP_KEEPIDLE's limit). */
function checkIntMs(name: string, v: unknown): void {
  checkInt(name, v, 0, 32_767_000);
}

/**
 * Checks a Unix socket file `mode` option: an integer in 0..0o777.
 * @throws TypeError/RangeError naming the value.
 * @example
 * ```ts
 * checkMode(0o660);
 * ```
 */
export function checkMode(v: unknown): void {
  if (v !== undefined) checkInt("mode", v, 0, 0o777);
}
