/**
 * Switches for resources that outlive the call that made them (Async's servers and
 * connections are not scoped): an {@link Owner} is a switch that stays open until `stop()`
 * (or, as a daemon of a parent switch, until the parent has nothing else to wait for).
 * @module
 */
import { awaitCancellable, Cancel, Switch } from "../core/index.ts";
import { deferred } from "./deferred.ts";

/** A switch held open until {@link Owner.stop}. */
export interface Owner {
  /** The switch: attach resources and fork fibers on it. */
  readonly sw: Switch;
  /** Lets the switch finish: once its fibers have finished, it releases its resources. */
  stop(): void;
  /**
   * Settles when the switch has finished and released everything: resolves, or rejects with
   * the switch's error (`Cancelled` if a parent switch cancelled it).
   */
  readonly finished: Promise<void>;
}

/**
 * Opens a switch that belongs to nobody: it is protected from the caller's cancellation and
 * lives until `stop()` (then until its fibers finish). It keeps the caller's fiber context
 * (trace sink, scheduler), so it runs on the mock as well.
 * @example
 * ```ts
 * const owner = detachedOwner();
 * const sock = await net.connect(addr, { sw: owner.sw });
 * // ...
 * owner.stop(); // closes sock
 * await owner.finished;
 * ```
 */
export function detachedOwner(): Owner {
  const stop = deferred<void>();
  let sw: Switch | undefined;
  const finished = Cancel.protect(() =>
    Switch.run(async (s) => {
      sw = s;
      await stop.promise;
    }),
  );
  // Switch.run calls its body synchronously, so `sw` is set by now.
  if (sw === undefined) throw new Error("detachedOwner: the switch did not start");
  return { sw, stop: () => stop.resolve(), finished };
}

/**
 * Opens a switch run by a daemon fiber of `parent`: `parent` waits for it (it cannot finish
 * before the switch has), cancels it once every other fiber of `parent` has finished, and
 * fails if it fails.
 * @throws Cancelled if `parent` is off; Error "Switch finished!" if it has finished.
 * @example
 * ```ts
 * await Switch.run(async (sw) => {
 *   const owner = daemonOwner(sw);
 *   owner.sw.fork(acceptLoop);
 * }); // the daemon is cancelled here: acceptLoop is cancelled, then the switch ends
 * ```
 */
export function daemonOwner(parent: Switch): Owner {
  parent.check();
  const stop = deferred<void>();
  const done = deferred<void>();
  let sw: Switch | undefined;
  parent.forkDaemon(async () => {
    try {
      await Switch.run(async (s) => {
        sw = s;
        await awaitCancellable(stop.promise);
      });
      done.resolve();
    } catch (e) {
      done.reject(e);
      throw e;
    }
  });
  if (sw === undefined) throw new Error("daemonOwner: the switch did not start");
  return { sw, stop: () => stop.resolve(), finished: done.promise };
}
