/**
 * Finding the worker-thread server of `run`'s domain manager, for `--domains N`.
 * @module
 */
import type { DomainManager } from "../net/index.ts";
import type { DomainServer } from "./serve.ts";

/**
 * A {@link DomainServer} running `n` worker threads with the handler from `handlerModule`.
 * The Node backend's domain manager has `runServer(listener, handler, n, opts)` (threads that
 * share no memory need the handler from a module, so `Net.runServer`'s `additionalDomains`
 * cannot take them).
 * @throws TypeError if the domain manager has no `runServer`.
 */
export function domainServer(mgr: DomainManager, n: number, handlerModule: URL): DomainServer {
  const runServer = (mgr as Partial<Pick<DomainServer, "runServer">>).runServer;
  if (typeof runServer !== "function") {
    throw new TypeError("this backend's domain manager cannot run servers in worker threads");
  }
  return { domains: n, handlerModule, runServer: runServer.bind(mgr) };
}
