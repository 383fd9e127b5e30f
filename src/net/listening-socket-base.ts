/**
 * `ListeningSocketBase`: `acceptFork` written once, over a backend's `accept`.
 * @module
 */
import { IoError, isCancelled } from "../core/index.ts";
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
 * @throws what `accept` throws (`Cancelled` if the calling fiber is cancelled).
 */
export async function acceptFork(
  listener: Pick<ListeningSocket, "accept">,
  opts: AcceptForkOptions,
  handler: ConnectionHandler,
): Promise<void> {
  if (typeof opts?.onError !== "function") {
    throw new TypeError("acceptFork: option onError (a function) is required");
  }
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
}

async function runHandler(
  flow: StreamSocket,
  addr: StreamAddr,
  onError: (err: unknown) => void,
  handler: ConnectionHandler,
): Promise<void> {
  try {
    const r = handler(flow, addr);
    if (r instanceof Promise) await r;
  } catch (e) {
    await flow.close();
    if (isCancelled(e)) throw e;
    if (e instanceof IoError) e.addContext(`handling connection from ${Sockaddr.format(addr)}`);
    onError(e);
    return;
  }
  await flow.close();
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
