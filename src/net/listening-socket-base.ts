/**
 * `ListeningSocketBase`: `acceptFork` written once, over a backend's `accept`.
 * @module
 */

import { checkFunction } from "../core/checks.ts";
import { afterFork, IoError, isCancelled } from "../core/index.ts";
import { Sockaddr, type StreamAddr } from "./sockaddr.ts";
import type {
  AcceptForkOptions,
  AcceptOptions,
  ConnectionHandler,
  ListeningSocket,
  StreamSocket,
} from "./types.ts";

/**
 * Accepts one connection on `listener` and runs `handler(flow, addr)` in a new fiber on
 * `opts.sw` (Eio's `accept_fork`). The flow is closed when the handler returns or fails, or at
 * once if the fiber cannot start (the switch is off). A handler's error goes to `onError`
 * (an `IoError` gets the context `handling connection from ADDR`); `Cancelled` never does.
 * @throws TypeError (before accepting) if `onError` or `handler` is not a function; what
 *   `accept` throws (`Cancelled` if the calling fiber is cancelled).
 */
export async function acceptFork(
  listener: Pick<ListeningSocket, "accept">,
  opts: AcceptForkOptions,
  handler: ConnectionHandler,
): Promise<void> {
  if (typeof opts?.onError !== "function") {
    throw new TypeError("acceptFork: option onError (a function) is required");
  }
  // before accepting: a bad handler must not cost a connection
  if (typeof handler !== "function") checkFunction("acceptFork: handler", handler);
  const { sw, onError } = opts;
  const [flow, addr] = await listener.accept(opts);
  let started = false;
  try {
    sw.fork(() => {
      started = true;
      return runHandler(flow, addr, onError, handler);
    });
  } finally {
    if (!started) await flow.close();
  }
  // As Eio's fork: on the mock backend, the handler runs until it blocks before the caller
  // goes on (and accepts again).
  const p = afterFork();
  if (p !== undefined) await p;
}

function runHandler(
  flow: StreamSocket,
  addr: StreamAddr,
  onError: (err: unknown) => void,
  handler: ConnectionHandler,
): Promise<void> {
  // A TLS socket's handshake runs here, in the handler's fiber; its failure is not the handler's
  if (flow.handshake !== undefined) {
    return flow.handshake().then(
      (go) => (go === false ? flow.close() : callHandler(flow, flow.peerAddr, onError, handler)),
      (e: unknown) => handshakeFailed(flow, onError, e),
    );
  }
  return callHandler(flow, addr, onError, handler);
}

async function handshakeFailed(
  flow: StreamSocket,
  onError: (err: unknown) => void,
  e: unknown,
): Promise<void> {
  await flow.close();
  if (isCancelled(e)) throw e;
  onError(e);
}

function callHandler(
  flow: StreamSocket,
  addr: StreamAddr,
  onError: (err: unknown) => void,
  handler: ConnectionHandler,
): Promise<void> {
  // Not an async function: an idle connection would hold its frame (~0.5 KB)
  let r: void | Promise<void>;
  try {
    r = handler(flow, addr);
  } catch (e) {
    return handlerFailed(flow, addr, onError, e);
  }
  if (!(r instanceof Promise)) return flow.close();
  return r.then(
    () => flow.close(),
    (e: unknown) => handlerFailed(flow, addr, onError, e),
  );
}

async function handlerFailed(
  flow: StreamSocket,
  addr: StreamAddr,
  onError: (err: unknown) => void,
  e: unknown,
): Promise<void> {
  await flow.close();
  if (isCancelled(e)) throw e;
  if (e instanceof IoError) e.addContext(`handling connection from ${Sockaddr.format(addr)}`);
  onError(e);
}

/** Base class for listening sockets: subclasses provide `accept`, `close`, `listeningAddr`. */
export abstract class ListeningSocketBase implements ListeningSocket {
  abstract accept(opts: AcceptOptions): Promise<[StreamSocket, StreamAddr]>;
  abstract close(): Promise<void>;
  abstract get listeningAddr(): StreamAddr;

  acceptFork(opts: AcceptForkOptions, handler: ConnectionHandler): Promise<void> {
    return acceptFork(this, opts, handler);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
