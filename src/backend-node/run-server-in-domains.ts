/**
 * `runServerInDomains`: Eio's `run_server ~additional_domains` on worker threads. Each thread
 * runs its own accept loop on its own socket bound to the same address with SO_REUSEPORT (the
 * kernel spreads the connections), with the handler imported from a module.
 * @module
 */
import { Worker } from "node:worker_threads";
import { checkCount, checkHasMethod, checkInt, checkObject, show } from "../core/checks.ts";
import { IoError, isIoError, Semaphore, Switch, suspend } from "../core/index.ts";
import { checkBacklog } from "../net/option-checks.ts";
import { type ConnectionLimit, serveLoop } from "../net/run-server.ts";
import { Sockaddr } from "../net/sockaddr.ts";
import type { ConnectionHandler, ListeningSocket } from "../net/types.ts";
import {
  type DomainWorkerData,
  type DomainWorkerMessage,
  moduleHref,
  workerEntryUrl,
} from "./domain-worker-protocol.ts";
import { SharedSemaphore } from "./shared-semaphore.ts";
import { receiveError } from "./worker-errors.ts";

/** Options of {@link runServerInDomains}. */
export interface RunServerInDomainsOptions<T> {
  /**
   * The module that exports the connection handler, imported by every worker thread (and by
   * this thread unless `handler` is given): a `URL` (`new URL("./handler.js", import.meta.url)`),
   * a URL string, an absolute path, or a package name.
   */
  readonly handlerModule: URL | string;
  /** The name of the handler's export; default `"default"`. */
  readonly handlerExport?: string | undefined;
  /** The handler for this thread's loop; default: the one imported from `handlerModule`. */
  readonly handler?: ConnectionHandler | undefined;
  /** How many worker threads run accept loops besides this thread (an integer >= 0). */
  readonly domains: number;
  /**
   * Called, in this thread, with each handler's error, wherever the handler ran (from a worker,
   * a rebuilt copy: an `IoError` keeps its kind and context). Rethrow to stop the whole server.
   */
  readonly onError: (err: unknown) => void;
  /** At most this many handlers run at once, counted over all threads. Default: no limit. */
  readonly maxConnections?: number | undefined;
  /**
   * Resolving this stops the server gracefully: every thread stops accepting (its socket is
   * closed), finishes its handlers and exits; then the value is returned.
   */
  readonly stop?: PromiseLike<T> | undefined;
  /** The backlog of the workers' sockets; default 511 (Node's). */
  readonly backlog?: number | undefined;
  /** Called once every worker listens, with the workers' thread ids. */
  readonly onReady?: ((threadIds: readonly number[]) => void) | undefined;
}

/**
 * Imports `exportName` of `href` and checks that it is a function.
 * @throws TypeError if it is not; what the import throws.
 * @example
 * ```ts
 * const handler = await importHandler("file:///srv/handler.js", "default");
 * ```
 */
export async function importHandler(href: string, exportName: string): Promise<ConnectionHandler> {
  const mod = (await import(href)) as Record<string, unknown>;
  const h = mod[exportName];
  if (typeof h !== "function") {
    throw new TypeError(
      `handlerExport ${JSON.stringify(exportName)} of ${href} must be a function, got ${typeof h}`,
    );
  }
  return h as ConnectionHandler;
}

type WorkerEvent =
  | DomainWorkerMessage
  | { readonly type: "error"; readonly error: unknown }
  | { readonly type: "exit"; readonly code: number };

/**
 * Watches one worker until it exits: reports its handlers' errors to `onError` (in this fiber,
 * so a rethrow fails the server), and fails if the worker fails. If this fiber is cancelled or
 * fails, the worker is terminated, and waited for.
 */
async function superviseWorker(
  w: Worker,
  onError: (err: unknown) => void,
  onReady: (threadId: number) => void,
): Promise<void> {
  const events: WorkerEvent[] = [];
  let wake: (() => void) | null = null;
  const push = (e: WorkerEvent): void => {
    events.push(e);
    const f = wake;
    wake = null;
    f?.();
  };
  w.on("message", (m: DomainWorkerMessage) => push(m));
  w.on("error", (error) => push({ type: "error", error }));
  w.once("exit", (code) => push({ type: "exit", code }));
  const id = w.threadId;
  let exited = false;
  let fatal: unknown;
  try {
    for (;;) {
      while (events.length === 0) {
        await suspend<void>((resolve) => {
          wake = resolve;
          return () => {
            wake = null;
          };
        });
      }
      const ev = events.shift() as WorkerEvent;
      switch (ev.type) {
        case "ready":
          onReady(ev.threadId);
          break;
        case "handlerError":
          onError(receiveError(ev.error));
          break;
        case "fatal":
          fatal ??= receiveError(ev.error);
          break;
        case "error":
          fatal ??= ev.error;
          break;
        case "exit":
          exited = true;
          if (fatal !== undefined) throw explainWorkerFailure(fatal, id);
          if (ev.code !== 0) throw new Error(`worker thread ${id} exited with code ${ev.code}`);
          return;
        default:
          break;
      }
    }
  } finally {
    if (!exited) await w.terminate();
  }
}

function explainWorkerFailure(e: unknown, id: number): unknown {
  if (e instanceof IoError) {
    e.addContext(
      isIoError(e, "AddressInUse")
        ? `running the accept loop of worker thread ${id} (was the listener made with reusePort: true?)`
        : `running the accept loop of worker thread ${id}`,
    );
  }
  return e;
}

/**
 * Runs a server on `listener` in this thread and in `domains` worker threads (Eio's
 * `run_server ~additional_domains` for the Node backend, where threads cannot share a closure):
 * each worker imports the handler from `handlerModule`, opens its own socket on
 * `listener.listeningAddr` with `reusePort: true` and runs its own accept loop; the kernel
 * spreads new connections over the sockets. So `listener` must have been made with
 * `reusePort: true`, and must be a TCP listener (Unix sockets have no SO_REUSEPORT).
 *
 * - `maxConnections` counts the handlers running in all threads (a semaphore in shared
 *   memory). As each thread has its own socket, a thread takes a slot after accepting: while
 *   the server is full, each thread may hold one accepted connection until a slot frees up.
 * - Resolving `stop` stops every thread gracefully: each closes its socket (connections still
 *   queued in a worker's backlog are reset by the kernel), finishes its handlers and exits;
 *   then `stop`'s value is returned.
 * - Cancelling the caller closes this thread's connections and terminates the workers at once.
 * - A handler error in any thread goes to `onError` in this thread; a worker that fails (its
 *   module cannot be imported, its socket cannot be opened) fails the server.
 *
 * The handler runs in a worker as it does here, with the worker's own copy of weir: it must not
 * rely on this thread's memory. Workers write `traceln` lines to the process's stderr.
 * @throws RangeError if `domains` < 0 or `maxConnections` <= 0; TypeError for a bad
 *   `handlerModule`, a missing export, a Unix listener or a missing `onError`; what `onError`
 *   rethrows; a worker's failure (an IoError gets the context
 *   `running the accept loop of worker thread N`); accept errors; Cancelled.
 * @example
 * ```ts
 * const listener = await env.net.listen("tcp:0.0.0.0:8080", { sw, backlog: 511, reusePort: true });
 * await runServerInDomains(listener, {
 *   handlerModule: new URL("./handler.js", import.meta.url),
 *   domains: 3,
 *   onError: (e) => traceln("handler failed: %s", e),
 *   stop: shutdownRequested,
 * });
 * ```
 */
export function runServerInDomains<T = never>(
  listener: ListeningSocket,
  opts: RunServerInDomainsOptions<T>,
): Promise<T> {
  checkHasMethod("runServerInDomains: listener", listener, "accept", "a ListeningSocket");
  checkObject("runServerInDomains: options", opts, "an object with onError and domains");
  const { onError, stop, domains } = opts;
  if (typeof onError !== "function") {
    throw new TypeError(
      `runServerInDomains: option onError must be a function, got ${show(onError)}`,
    );
  }
  checkInt("domains", domains, 0, Infinity);
  const maxConnections =
    opts.maxConnections === undefined
      ? Infinity
      : checkCount("maxConnections", opts.maxConnections, true);
  const backlog = opts.backlog === undefined ? 511 : checkBacklog(opts.backlog);
  const href = moduleHref(opts.handlerModule, "handlerModule");
  const exportName = opts.handlerExport ?? "default";
  const addr = listener.listeningAddr;
  if (domains > 0 && addr.type !== "tcp") {
    throw new TypeError(
      `runServerInDomains needs a TCP listener (workers share its port with SO_REUSEPORT), got ${Sockaddr.format(addr)}`,
    );
  }
  return run(listener, {
    href,
    exportName,
    handler: opts.handler,
    domains,
    onError,
    maxConnections,
    stop,
    backlog,
    onReady: opts.onReady,
  });
}

async function run<T>(
  listener: ListeningSocket,
  o: {
    href: string;
    exportName: string;
    handler: ConnectionHandler | undefined;
    domains: number;
    onError: (err: unknown) => void;
    maxConnections: number;
    stop: PromiseLike<T> | undefined;
    backlog: number;
    onReady: ((threadIds: readonly number[]) => void) | undefined;
  },
): Promise<T> {
  const handler = o.handler ?? (await importHandler(o.href, o.exportName));
  const shared = o.maxConnections === Infinity ? null : SharedSemaphore.create(o.maxConnections);
  // only this thread counts: a plain semaphore is cheaper when there are no workers
  const limit: ConnectionLimit | null =
    o.domains === 0 && o.maxConnections !== Infinity ? new Semaphore(o.maxConnections) : shared;
  return Switch.run(async (sw) => {
    const workers: Worker[] = [];
    const readyIds: number[] = [];
    const onReady = (id: number): void => {
      readyIds.push(id);
      if (readyIds.length === o.domains) o.onReady?.(readyIds);
    };
    const data: DomainWorkerData = {
      job: "server",
      module: o.href,
      exportName: o.exportName,
      addr: Sockaddr.format(listener.listeningAddr),
      backlog: o.backlog,
      limit: shared === null ? null : shared.buffer,
    };
    for (let i = 0; i < o.domains; i++) {
      const w = new Worker(workerEntryUrl(), { workerData: data });
      workers.push(w);
      sw.fork(() => superviseWorker(w, o.onError, onReady));
    }
    if (o.domains === 0) o.onReady?.([]);
    const stop =
      o.stop === undefined
        ? undefined
        : Promise.resolve(o.stop).then((v) => {
            for (const w of workers) w.postMessage({ type: "stop" });
            return v;
          });
    return await serveLoop(sw, listener, handler, {
      onError: o.onError,
      limit,
      acquireFirst: o.domains === 0,
      stop,
    });
  });
}
