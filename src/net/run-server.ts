/**
 * `runServer` (Eio's `Net.run_server`).
 * @module
 */
import { awaitCancellable, type BlockingOptions, Fiber, Semaphore, Switch } from "../core/index.ts";
import { acceptFork } from "./listening-socket-base.ts";
import { checkRunServerArgs } from "./option-checks.ts";
import type { StreamAddr } from "./sockaddr.ts";
import type { ConnectionHandler, DomainManager, ListeningSocket, StreamSocket } from "./types.ts";

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
    // No limit: no semaphore (saves a promise and a tick per connection)
    const connections = maxConnections === Infinity ? null : new Semaphore(maxConnections);
    const loop = (sw: Switch): Promise<T> =>
      serveLoop(sw, listener, handler, { onError, limit: connections, stop });
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
 * The connection limit of a loop: `Semaphore` (one thread) or `SharedSemaphore` (threads).
 * @example
 * ```ts
 * const limit: ConnectionLimit = SharedSemaphore.create(100);
 * ```
 */
export interface ConnectionLimit {
  acquire(opts?: BlockingOptions): Promise<void>;
  release(): void;
}

/**
 * One accept loop (Eio's `run_server` loop): accepts a connection and handles it in a fiber on
 * `sw`, never running more handlers than `limit` allows, until `stop` resolves (then returns its
 * value, leaving `sw` to wait for the handlers).
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
    readonly limit: ConnectionLimit | null;
    readonly acquireFirst?: boolean | undefined;
    readonly stop: PromiseLike<T> | undefined;
  },
): Promise<T> {
  const { onError, limit, stop } = opts;
  const acquireFirst = opts.acquireFirst ?? true;
  let started = false;
  // Made once per loop, not per connection: an idle connection holds no async frame of ours
  const done = (): void => limit?.release();
  const failed = (e: unknown): never => {
    limit?.release();
    throw e;
  };
  const wrapped = (flow: StreamSocket, addr: StreamAddr): void | Promise<void> => {
    started = true;
    if (limit === null) return handler(flow, addr);
    let r: void | Promise<void>;
    try {
      r = handler(flow, addr);
    } catch (e) {
      limit?.release();
      throw e;
    }
    if (r instanceof Promise) return r.then(done, failed);
    limit?.release();
  };
  const acceptOne = async (): Promise<void> => {
    if (limit === null) {
      await acceptFork(listener, { sw, onError }, wrapped);
      return;
    }
    let conn: [StreamSocket, StreamAddr] | undefined;
    if (acquireFirst) await limit.acquire();
    else {
      conn = await listener.accept({ sw });
      try {
        await limit.acquire();
      } catch (e) {
        await conn[0].close();
        throw e;
      }
    }
    started = false;
    try {
      const accepted = conn;
      await acceptFork(
        accepted === undefined ? listener : { accept: async () => accepted },
        { sw, onError },
        wrapped,
      );
    } finally {
      // the handler did not start (accept failed, or the switch is off): give the permit back
      if (!started) limit.release();
    }
  };
  const accept = async (): Promise<T> => {
    for (;;) await acceptOne();
  };
  if (stop === undefined) return accept();
  // awaitCancellable: a plain `await stop` would keep Fiber.first waiting after a failure
  return Fiber.first(accept, () => awaitCancellable(stop));
}
