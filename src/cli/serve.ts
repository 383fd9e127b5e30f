/**
 * `serveUntilStopped`: the server loop shared by `weir echo` and `weir proxy`, with their
 * graceful stop: on SIGINT or SIGTERM stop accepting and close the listening socket, let the
 * connections finish for up to `drainMs`, then close the rest (at once on a second signal).
 * @module
 */
import { awaitCancellable, Cancel, type Clock, Fiber } from "../core/index.ts";
import { type ConnectionHandler, type ListeningSocket, Net } from "../net/index.ts";
import { durationOption, UsageError } from "./args.ts";
import { deferred, type StopSignals } from "./signals.ts";

/** The flags of the deadlines, shared by `weir echo` and `weir proxy`. */
export const deadlineFlags = {
  "idle-timeout": { type: "string" },
  "header-timeout": { type: "string" },
  "drain-timeout": { type: "string" },
  "drain-ms": { type: "string" },
} as const;

/** The values of {@link deadlineFlags}. */
export interface DeadlineValues {
  readonly "idle-timeout"?: string | undefined;
  readonly "header-timeout"?: string | undefined;
  readonly "drain-timeout"?: string | undefined;
  readonly "drain-ms"?: string | undefined;
}

/** The deadlines the flags ask for (`0` or absent: none, except `defaults`). */
export function deadlineOptions(
  values: DeadlineValues,
  defaults: { readonly idleMs?: number | undefined },
): { idleTimeout: number | undefined; headerTimeout: number | undefined; drainMs: number } {
  const limit = { bareUnit: "ms", maxMs: 2 ** 31 - 1 } as const;
  const idle = durationOption("idle-timeout", values["idle-timeout"], defaults.idleMs ?? 0, limit);
  const header = durationOption("header-timeout", values["header-timeout"], 0, limit);
  if (values["drain-timeout"] !== undefined && values["drain-ms"] !== undefined) {
    throw new UsageError("--drain-ms is the old name of --drain-timeout: give one of them");
  }
  const drainName = values["drain-ms"] === undefined ? "drain-timeout" : "drain-ms";
  const drainMs = durationOption(drainName, values["drain-timeout"] ?? values["drain-ms"], 5000, {
    bareUnit: "ms",
    maxMs: 3_600_000,
  });
  return {
    idleTimeout: idle === 0 ? undefined : Math.ceil(idle),
    headerTimeout: header === 0 ? undefined : Math.ceil(header),
    drainMs,
  };
}

/** Runs accept loops in worker threads too (the Node backend's `domainMgr.runServer`). */
export interface DomainServer {
  /** How many worker threads (0: only this thread). */
  readonly domains: number;
  /** The module the workers import the handler from (its default export). */
  readonly handlerModule: URL;
  /** Starts the server: this thread's loop plus `domains` worker threads. */
  readonly runServer: (
    listener: ListeningSocket,
    handler: ConnectionHandler,
    n: number,
    opts: {
      readonly handlerModule: URL;
      readonly onError: (err: unknown) => void;
      readonly maxConnections?: number | undefined;
      readonly stop?: PromiseLike<undefined> | undefined;
    },
  ) => Promise<undefined>;
}

/** Options of {@link serveUntilStopped}. */
export interface ServeOptions {
  /** The listening socket (closed as soon as a stop signal arrives). */
  readonly listener: ListeningSocket;
  /** The connection handler. */
  readonly handler: ConnectionHandler;
  /** Called with a handler's error (never `Cancelled`); must not throw. */
  readonly onError: (err: unknown) => void;
  /** At most this many connections at once (`undefined`: no limit). */
  readonly maxConnections: number | undefined;
  /** How long connections may go on after a stop signal. */
  readonly drainMs: number;
  /** Each connection's idle timeout in ms (`undefined`: none). */
  readonly idleTimeout?: number | undefined;
  /** The ms a new connection has to send its first byte (`undefined`: no limit). */
  readonly headerTimeout?: number | undefined;
  /** The clock for `drainMs`. */
  readonly clock: Clock;
  /** The stop signals. */
  readonly signals: StopSignals;
  /** Called with a status line for stderr (stopping, draining). */
  readonly status: (line: string) => void;
  /** How many connections are open now, in every thread (for the status lines). */
  readonly openConnections: () => number;
  /** Worker threads, if asked for. */
  readonly domains?: DomainServer | undefined;
  /**
   * Resolves with the successor's pid once another process has taken the listening socket
   * over (`--handover`): a graceful stop, as for a signal.
   */
  readonly handedOver?: Promise<number> | undefined;
}

/**
 * Serves connections on `listener` until a stop signal, then stops gracefully: no more
 * accepts (the listening socket is closed, so new clients are refused), the open connections
 * get `drainMs` to finish, then the remaining ones are closed. A second signal closes them at
 * once. Returns once every connection is closed.
 * @throws what the accept loop throws (an IoError for a failed accept).
 */
export async function serveUntilStopped(opts: ServeOptions): Promise<void> {
  const { listener, handler, onError, maxConnections, signals, status } = opts;
  const stop = deferred<undefined>();
  const serve = (): Promise<undefined> => {
    const d = opts.domains;
    if (d !== undefined && d.domains > 0) {
      return d.runServer(listener, handler, d.domains, {
        handlerModule: d.handlerModule,
        onError,
        maxConnections,
        stop: stop.promise,
      });
    }
    return Net.runServer(listener, handler, {
      onError,
      maxConnections,
      stop: stop.promise,
      idleTimeout: opts.idleTimeout,
      headerTimeout: opts.headerTimeout,
    });
  };
  await Fiber.first(serve, async () => {
    const handedOver = opts.handedOver;
    const sig =
      handedOver === undefined
        ? await awaitCancellable(signals.first)
        : await Fiber.first(
            () => awaitCancellable(signals.first),
            async () => `handed over to pid ${await awaitCancellable(handedOver)}`,
          );
    const open = opts.openConnections();
    stop.resolve(undefined);
    // Protected: when no connection is open the server returns at once and cancels this
    // branch, but the socket must still be closed and the stop reported.
    await Cancel.protect(async () => {
      // Let the accept loop see `stop` and cancel its pending accept before the socket goes.
      await Fiber.yield();
      await listener.close();
      status(
        `${sig}: stopping: no new connections; ${open} open, waiting up to ${opts.drainMs} ms for ${open === 1 ? "it" : "them"} to finish`,
      );
    });
    const why = await Fiber.first(
      async () => {
        await opts.clock.sleep(opts.drainMs);
        return `drain time (${opts.drainMs} ms) over`;
      },
      async () => `${await awaitCancellable(signals.second)} again`,
    );
    const left = opts.openConnections();
    status(`${why}: closing ${left} connection${left === 1 ? "" : "s"}`);
    // returning here cancels the server fiber, which closes every connection
  });
}
