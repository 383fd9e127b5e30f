/**
 * TCP keep-alive for the Node backend's sockets: Node's `setKeepAlive` sets the idle time; the
 * probe interval and count (which Node cannot set) go through the addon's `setKeepAlive`.
 * @module
 */
import type { Socket } from "node:net";
import { requirePrimitive } from "../core/runtime.ts";
import type { KeepAlive } from "../net/types.ts";
import { toIoError } from "./errors.ts";
import type { Native } from "./native.ts";
import { handleFd } from "./unix-fd.ts";
import { loadNative } from "./unix-path.ts";

/** The kernel takes whole seconds: round up, at least 1. */
function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * Makes the function that applies `ka` to a connected TCP socket, or `undefined` when there is
 * nothing to do. Loads the addon first when `interval` or `count` is given (the setting is then
 * applied whole through it: idle, interval and count, in whole seconds, rounded up).
 * @throws Error (as a rejection) if `interval`/`count` is asked for and the addon cannot load;
 * UnsupportedOnRuntime on a runtime whose sockets have no fd (Deno).
 * @example
 * ```ts
 * const apply = await keepAliveApplier({ idle: 30_000, interval: 5_000, count: 3 });
 * apply?.(raw);
 * ```
 */
export async function keepAliveApplier(
  ka: KeepAlive | undefined,
): Promise<((raw: Socket) => void) | undefined> {
  if (ka === undefined) return undefined;
  if (ka === false) return (raw) => void raw.setKeepAlive(false);
  const { idle, interval, count } = ka;
  if (interval === undefined && count === undefined) {
    return (raw) => void raw.setKeepAlive(true, seconds(idle) * 1000);
  }
  requirePrimitive("keepAlive interval/count", "socket-fd");
  const native: Native = await loadNative();
  const set = native.setKeepAlive;
  if (set === undefined) {
    throw new Error("keepAlive interval/count: the native addon is out of date (npm rebuild)");
  }
  return (raw) => {
    raw.setKeepAlive(true, seconds(idle) * 1000);
    const fd = handleFd(raw);
    if (fd === undefined) return;
    try {
      set(fd, true, seconds(idle), interval === undefined ? 0 : seconds(interval), count ?? 0);
    } catch (e) {
      throw toIoError(e);
    }
  };
}
