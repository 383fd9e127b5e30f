/**
 * `runServer` (Eio's `Net.run_server`).
 * @module
 */
import { checkCount } from "../core/checks.ts";
import { awaitCancellable, Fiber, Semaphore, Switch } from "../core/index.ts";
import { checkOptionalTimeout, deadlineClock } from "./deadlines.ts";
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
   * Resolving this stops the server gracefully: the listener is closed at once (late clients
   * are refused), running handlers go on (until `drainTimeout`, then they are cancelled), and
   * `runServer` returns the value. (To stop at once, cancel the fiber.)
   */
  readonly stop?: PromiseLike<T> | undefined;
  /**
   * After `stop`, how many ms running handlers have to finish before they are cancelled (and
   * their sockets closed). Default: no limit.
   */
  readonly drainTimeout?: number | undefined;
  /**
   * Close a connection when no byte has moved either way for this many ms (its blocked read or
   * write rejects with `IoError` `Timeout` `idle`). Default: none.
   */
  readonly idleTimeout?: number | undefined;
  /**
   * The ms a new connection has to send its first `headerBytes` bytes; it waits for them
   * without holding a `maxConnections` slot, and is closed if they are late. Default: none.
   */
  readonly headerTimeout?: number | undefined;
  /** How many bytes `headerTimeout` waits for (an integer > 0). Default 1. */
  readonly headerBytes?: number | undefined;
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
  const deadlines = checkDeadlines(opts);
  const { onError, stop } = opts;
  const maxConnections = opts.maxConnections ?? Infinity;
  const domains = opts.additionalDomains;
  if (domains !== undefined) {
    const [mgr, n] = domains;
    if (!mgr.sharesMemory) {
      const { handlerModule } = opts;
      if (Object.values(deadlines).some((v) => v !== undefined)) {
        throw new TypeError(
          "additionalDomains: idleTimeout, headerTimeout and drainTimeout are not supported " +
            "with worker threads yet",
        );
      }
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
      serveLoop(sw, listener, handler, { onError, limit, stop, ...deadlines });
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
  } & Deadlines,
): Promise<T> {
  const { onError, stop, drainTimeout } = opts;
  const loop = new ServeLoop({
    sw,
    handler,
    limit: opts.limit ?? undefined,
    acquireFirst: opts.acquireFirst,
    onHandlerError: onError,
    idleTimeout: opts.idleTimeout,
    headerTimeout: opts.headerTimeout,
    headerBytes: opts.headerBytes,
    cancellable: drainTimeout !== undefined,
  });
  if (stop === undefined) return loop.run(listener);
  // awaitCancellable: a plain `await stop` would keep Fiber.first waiting after a failure
  const value = await Fiber.first(
    () => loop.run(listener),
    () => awaitCancellable(stop),
  );
  // Late clients are refused, not left hanging in the backlog
  await listener.close().catch(() => {});
  if (drainTimeout !== undefined && loop.numConnections > 0) {
    await Fiber.first(
      () => Promise.all([...loop.connections].map((c) => c.whenEnded())).then(() => {}),
      async () => {
        await deadlineClock().sleep(drainTimeout);
        loop.closeConnections(new DrainTimeout(drainTimeout));
      },
    );
  }
  return value;
}

/** The deadline options of {@link runServer}, checked. */
interface Deadlines {
  readonly drainTimeout?: number | undefined;
  readonly idleTimeout?: number | undefined;
  readonly headerTimeout?: number | undefined;
  readonly headerBytes?: number | undefined;
}

/** The largest `headerBytes` (a header phase holds them unread). */
const MAX_HEADER_BYTES = 65_536;

function checkDeadlines(opts: RunServerOptions<unknown>): Deadlines {
  const headerBytes =
    opts.headerBytes === undefined ? undefined : checkCount("headerBytes", opts.headerBytes);
  if (headerBytes !== undefined && headerBytes > MAX_HEADER_BYTES) {
    throw new RangeError(`headerBytes must be <= ${MAX_HEADER_BYTES}, got ${headerBytes}`);
  }
  return {
    drainTimeout: checkOptionalTimeout("drainTimeout", opts.drainTimeout),
    idleTimeout: checkOptionalTimeout("idleTimeout", opts.idleTimeout),
    headerTimeout: checkOptionalTimeout("headerTimeout", opts.headerTimeout),
    headerBytes,
  };
}

/** The reason handlers still running `drainTimeout` ms after `stop` are cancelled with. */
export class DrainTimeout extends Error {
  constructor(ms: number) {
    super(`the server stopped and its drainTimeout of ${ms} ms passed`);
    this.name = "DrainTimeout";
  }
}
