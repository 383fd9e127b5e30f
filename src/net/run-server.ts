/**
 * `runServer` (Eio's `Net.run_server`).
 * @module
 */
import { Fiber, Semaphore, Switch } from "../core/index.ts";
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
}

/**
 * Accepts connections on `listener` and handles each in its own fiber with `handler`
 * (closing the flow when it ends), until `stop` resolves (graceful: waits for the running
 * handlers, then returns `stop`'s value) or the calling fiber is cancelled (closes every
 * connection at once).
 * @throws RangeError if `maxConnections` <= 0 or the domain count is negative;
 *   TypeError if `onError` is missing; what `onError` rethrows; accept errors.
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
  const { onError, stop } = opts;
  const maxConnections = opts.maxConnections ?? Infinity;
  if (typeof onError !== "function") {
    throw new TypeError("runServer: option onError (a function) is required");
  }
  if (!(Number.isInteger(maxConnections) || maxConnections === Infinity) || maxConnections <= 0) {
    throw new RangeError(`maxConnections must be > 0, got ${String(maxConnections)}`);
  }
  const domains = opts.additionalDomains;
  if (domains !== undefined) {
    const [mgr, n] = domains;
    if (!Number.isInteger(n) || n < 0) {
      throw new RangeError(`additionalDomains count must be an integer >= 0, got ${String(n)}`);
    }
    if (!mgr.sharesMemory) {
      throw new TypeError(
        "additionalDomains: this domain manager runs worker threads, which cannot share a " +
          "closure handler; use the Node backend's runServer with a handler module",
      );
    }
  }
  return Switch.run(async (sw) => {
    const connections = new Semaphore(maxConnections);
    const loop = (sw: Switch): Promise<T> =>
      serveLoop(sw, listener, handler, onError, connections, stop);
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

async function serveLoop<T>(
  sw: Switch,
  listener: ListeningSocket,
  handler: ConnectionHandler,
  onError: (err: unknown) => void,
  connections: Semaphore,
  stop: PromiseLike<T> | undefined,
): Promise<T> {
  const wrapped = async (flow: StreamSocket, addr: StreamAddr): Promise<void> => {
    try {
      await handler(flow, addr);
    } finally {
      connections.release();
    }
  };
  const accept = async (): Promise<T> => {
    for (;;) {
      await connections.acquire();
      try {
        await listener.acceptFork({ sw, onError }, wrapped);
      } catch (e) {
        connections.release();
        throw e;
      }
    }
  };
  if (stop === undefined) return accept();
  return Fiber.first(accept, async () => await stop);
}
