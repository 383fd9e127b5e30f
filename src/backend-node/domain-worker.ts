/**
 * The entry file of the Node backend's worker threads (started by `domainMgr.runModule` and
 * `runServerInDomains`; not imported by anything else). It runs one job from `workerData`:
 * call a module's export once, or run an accept loop until its parent says stop.
 * @module
 */
import { type MessagePort, parentPort, threadId, workerData } from "node:worker_threads";
import { Switch } from "../core/index.ts";
import { serveLoop } from "../net/run-server.ts";
import { Sockaddr } from "../net/sockaddr.ts";
import type { DomainWorkerData, DomainWorkerMessage } from "./domain-worker-protocol.ts";
import { importHandler } from "./run-server-in-domains.ts";
import { SharedSemaphore } from "./shared-semaphore.ts";
import { sendError } from "./worker-errors.ts";

if (parentPort === null) throw new Error("domain-worker: must run in a worker thread");
const port: MessagePort = parentPort;
const post = (m: DomainWorkerMessage): void => port.postMessage(m);

async function call(data: Extract<DomainWorkerData, { job: "call" }>): Promise<void> {
  const mod = (await import(data.module)) as Record<string, unknown>;
  const fn = mod[data.exportName];
  if (typeof fn !== "function") {
    throw new TypeError(
      `export ${JSON.stringify(data.exportName)} of ${data.module} must be a function, got ${typeof fn}`,
    );
  }
  const value: unknown = await (fn as (...args: unknown[]) => unknown)(...data.args);
  try {
    post({ type: "result", value });
  } catch (e) {
    throw new TypeError(
      `the result of ${data.exportName} cannot be sent to the calling thread: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}

async function serve(data: Extract<DomainWorkerData, { job: "server" }>): Promise<void> {
  let requestStop: () => void = () => {};
  const stopped = new Promise<undefined>((resolve) => {
    requestStop = () => resolve(undefined);
  });
  const onMessage = (m: unknown): void => {
    if (typeof m === "object" && m !== null && (m as { type?: unknown }).type === "stop") {
      requestStop();
    }
  };
  port.on("message", onMessage);
  try {
    const handler = await importHandler(data.module, data.exportName);
    const limit = data.limit === null ? null : new SharedSemaphore(data.limit);
    const { NodeNet } = await import("./node-net.ts"); // only server jobs need the network
    const net = new NodeNet();
    await Switch.run(async (sw) => {
      const listener = await net.listen(Sockaddr.parse(data.addr), {
        sw,
        backlog: data.backlog,
        reusePort: true,
      });
      post({ type: "ready", threadId });
      await serveLoop(sw, listener, handler, {
        onError: (e) => post({ type: "handlerError", error: sendError(e) }),
        limit,
        acquireFirst: false,
        stop: stopped,
      });
      // stop accepting at once; the switch then waits for the running handlers
      await listener.close();
    });
    post({ type: "done" });
  } finally {
    // without a 'message' listener the port no longer keeps the thread alive
    port.off("message", onMessage);
  }
}

const data = workerData as DomainWorkerData;
try {
  if (data.job === "call") await call(data);
  else await serve(data);
} catch (e) {
  post({ type: "fatal", error: sendError(e) });
}
