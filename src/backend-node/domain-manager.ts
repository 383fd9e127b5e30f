/**
 * The Node backend's domain manager (Eio's `Domain_manager`): worker threads. Threads share no
 * memory with the caller, so jobs come from modules, not closures.
 * @module
 */
import { Worker } from "node:worker_threads";
import { type BlockingOptions, suspend } from "../core/index.ts";
import type { ConnectionHandler, DomainManager, ListeningSocket } from "../net/types.ts";
import {
  type DomainWorkerData,
  type DomainWorkerMessage,
  moduleHref,
  workerEntryUrl,
} from "./domain-worker-protocol.ts";
import type { RunServerInDomainsOptions } from "./run-server-in-domains.ts";
import { runServerInDomains } from "./run-server-in-domains.ts";
import { receiveError } from "./worker-errors.ts";

/** Options of {@link NodeDomainManager.runModule}. */
export interface RunModuleOptions extends BlockingOptions {
  /** The export to call; default `"default"`. */
  readonly exportName?: string | undefined;
  /** The arguments (structured-cloned into the worker). */
  readonly args?: readonly unknown[] | undefined;
}

/**
 * Worker threads as Eio domains. `sharesMemory` is false: `run(fn)` cannot send a closure to
 * another thread and throws; use {@link runModule} (call a module's export in a new thread) or
 * {@link runServer} / `runServerInDomains` (accept loops in threads, the handler imported from a
 * module).
 * @example
 * ```ts
 * const sum = await domainMgr.runModule<number>(new URL("./sum.js", import.meta.url), {
 *   exportName: "sum",
 *   args: [1, 2],
 * });
 * ```
 */
export class NodeDomainManager implements DomainManager {
  /** Always false: worker threads do not share this thread's memory. */
  readonly sharesMemory = false;

  /**
   * Not possible with worker threads: a closure cannot cross to another thread.
   * @throws TypeError always, naming the alternatives.
   */
  run<T>(_fn: () => T | Promise<T>): Promise<T> {
    throw new TypeError(
      "domainMgr.run: worker threads share no memory with this thread, so they cannot run a " +
        "closure; use domainMgr.runModule(moduleUrl, { exportName, args }) or " +
        "runServerInDomains(listener, { handlerModule, domains })",
    );
  }

  /**
   * Runs `module`'s export `exportName` (default `"default"`) with `args` in a new worker
   * thread and returns its result (both structured-cloned). Cancelling the caller terminates
   * the thread.
   * @throws what the function throws (rebuilt in this thread: an IoError keeps its kind and
   *   context); TypeError if the export is not a function or the result cannot be cloned;
   *   Cancelled.
   * @example
   * ```ts
   * await domainMgr.runModule(new URL("./job.js", import.meta.url), { args: [42] });
   * ```
   */
  async runModule<T>(module: URL | string, opts: RunModuleOptions = {}): Promise<T> {
    const data: DomainWorkerData = {
      job: "call",
      module: moduleHref(module),
      exportName: opts.exportName ?? "default",
      args: opts.args ?? [],
    };
    const w = new Worker(workerEntryUrl(), { workerData: data });
    const exited = new Promise<number>((resolve) => w.once("exit", resolve));
    let done = false;
    try {
      return await suspend<T>((resolve, reject) => {
        let settled = false;
        w.on("message", (m: DomainWorkerMessage) => {
          if (m.type === "result") {
            settled = true;
            resolve(m.value as T);
          } else if (m.type === "fatal") {
            settled = true;
            reject(receiveError(m.error));
          }
        });
        w.once("error", (e) => {
          settled = true;
          reject(e);
        });
        w.once("exit", (code) => {
          done = true;
          if (!settled)
            reject(new Error(`worker thread exited with code ${code} before answering`));
        });
        return undefined;
      }, opts.signal);
    } finally {
      if (!done) await w.terminate();
      await exited;
    }
  }

  /**
   * Runs a server on `listener` in this thread and `n` worker threads: the Node backend's
   * answer to `Net.runServer`'s `additionalDomains`. See {@link runServerInDomains}.
   * @example
   * ```ts
   * await domainMgr.runServer(listener, handler, 3, {
   *   handlerModule: new URL("./handler.js", import.meta.url),
   *   onError: console.error,
   * });
   * ```
   */
  runServer<T = never>(
    listener: ListeningSocket,
    handler: ConnectionHandler,
    n: number,
    opts: Omit<RunServerInDomainsOptions<T>, "handler" | "domains">,
  ): Promise<T> {
    return runServerInDomains(listener, { ...opts, handler, domains: n });
  }
}

/**
 * The domain manager of `run`'s `env.domainMgr` on the Node backend (worker threads).
 * @example
 * ```ts
 * await run(async (env) => {
 *   env.domainMgr.sharesMemory; // false
 * });
 * ```
 */
export const domainMgr: NodeDomainManager = new NodeDomainManager();
