/**
 * `runServer` (Eio's `Net.run_server`).
 * @module
 */
import { awaitCancellable, Fiber, Semaphore, Switch } from "../core/index.ts";
import { checkRunServerArgs } from "./option-checks.ts";
import { type ConnectionLimit, ServeLoop } from "./serve-loop.ts";
import type { ConnectionHandler, DomainManager, ListeningSocket } from "./types.ts";

export type { ConnectionLimit } from "./serve-loop.ts";

/** Options of {@link runServer}. */
export interface RunServerOptions<T> {
  /** Called with a handler's error (see `acceptFork`); rethrow to stop the server. */
  readonly onError: (err: unknown) => void;
  /** At most this many handlers run at once; no connection is accepted while full. Default: no limit. */
  readonly maxConnections?: number | undefined;
  /**
   * Resolving this stops the server gracefully: no more connections are accepted, running
   * handlers finish, then `runServer` returns the value. (To stop at once, cancel the fiber.)
   */
  readonly stop?: PromiseLike<T> | undefined;
  /**
   * Also run accept loops in `n` more domains of the manager. With a manager that shares
   * memory (the mock), the loops share the listener, the handler and the connection limit.
   * With worker threads, see the Node backend's `runServer` documentation.
   */
  readonly additionalDomains?: readonly [DomainManager, number] | undefined;
  /**
   * With a domain manager of worker threads (the real `env.domainMgr`): the module that exports
   * the handler, which each worker imports (closures cannot cross threads). The listener must
   * have been made with `reusePort: true`; each worker listens on the same address.
   */
  readonly handlerModule?: URL | string | undefined;
  /** The handler's export name in `handlerModule`; default `"default"`. */
  readonly handlerExport?: string | undefined;
}

/**
 * Accepts connections on `listener` and handles each in its own fiber with `handler`
 * (closing the flow when it ends), until `stop` resolves (graceful: waits for the running
 * handlers, then returns `stop`'s value) or the calling fiber is cancelled (closes every
 * connection at once).
 * @throws TypeError/RangeError at once for a bad argument (see `checkRunServerArgs`); what
 *   `onError` rethrows; accept errors.
 * @example
 * ```ts
 * await Net.runServer(listener, async (flow) => Flow.copy(flow, flow), {
 *   onError: (e) => traceln("handler failed: %s", e),
 *   maxConnections: 1000,
 * });
 * ```
 */
export function runServer<T = never>(
  listener: ListeningSocket,
  handler: ConnectionHandler,
  opts: RunServerOptions<T>,
): Promise<T> {
  checkRunServerArgs(listener, handler, opts);
  const { onError, stop } = opts;
  const maxConnections = opts.maxConnections ?? Infinity;
  const domains = opts.additionalDomains;
  if (domains !== undefined) {
    const [mgr, n] = domains;
    if (!mgr.sharesMemory) {
      const { handlerModule } = opts;
      if (handlerModule === undefined || mgr.runServer === undefined) {
        throw new TypeError(
          "additionalDomains: this domain manager runs worker threads, which cannot share a " +
            "closure handler; pass handlerModule (the module exporting the handler)",
        );
      }
      return mgr.runServer(listener, handler, n, {
        onError,
        maxConnections,
        stop,
        handlerModule,
        handlerExport: opts.handlerExport,
      });
    }
  }
  return Switch.run(async (sw) => {
    // A count shared by the loops of this thread's domains (the mock's): one semaphore. Alone,
    // the loop counts its own connections (no promise per connection).
    const limit =
      domains === undefined || maxConnections === Infinity
        ? maxConnections
        : new Semaphore(maxConnections);
    const loop = (sw: Switch): Promise<T> =>
      serveLoop(sw, listener, handler, { onError, limit, stop });
    if (domains !== undefined) {
      const [mgr, n] = domains;
      for (let i = 0; i < n; i++) {
        sw.fork(async () => {
          await mgr.run(() => Switch.run((dsw) => loop(dsw)));
        });
      }
    }
    return await loop(sw);
  });
}

/**
 * One accept loop (Eio's `run_server` loop) on {@link ServeLoop}: accepts a connection and
 * handles it in a fiber on `sw`, never running more handlers than `limit` allows, until `stop`
 * resolves (then returns its value, leaving `sw` to wait for the handlers).
 *
 * With `acquireFirst` (a limit this loop alone uses) a permit is taken before accepting, as Eio
 * does: no accept while full. With a limit shared by threads that each have their own socket,
 * that could deadlock (the threads holding permits wait on sockets no client reaches while the
 * connections queue at a thread without one), so the permit is taken after accepting: a full
 * thread holds one accepted connection until a handler anywhere finishes.
 * @throws what `accept` or `onError` throws; Cancelled.
 * @example
 * ```ts
 * await Switch.run((sw) => serveLoop(sw, listener, handler, { onError, limit: null, stop }));
 * ```
 */
export async function serveLoop<T>(
  sw: Switch,
  listener: ListeningSocket,
  handler: ConnectionHandler,
  opts: {
    readonly onError: (err: unknown) => void;
    readonly limit: ConnectionLimit | number | null;
    readonly acquireFirst?: boolean | undefined;
    readonly stop: PromiseLike<T> | undefined;
  },
): Promise<T> {
  const { onError, stop } = opts;
  const loop = new ServeLoop({
    sw,
    handler,
    limit: opts.limit ?? undefined,
    acquireFirst: opts.acquireFirst,
    onHandlerError: onError,
  });
  if (stop === undefined) return loop.run(listener);
  // awaitCancellable: a plain `await stop` would keep Fiber.first waiting after a failure
  return Fiber.first(
    () => loop.run(listener),
    () => awaitCancellable(stop),
  );
}
