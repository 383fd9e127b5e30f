/**
 * The connection handler of `weir echo` (and of `weir bench`'s in-process server), in a module
 * of its own so that worker threads (`weir echo --domains N`) can import it. In a worker
 * thread it also reports each connection on the {@link CONNECTIONS_CHANNEL} broadcast channel,
 * so that the main thread's log counts the connections of every thread.
 * @module
 */
import { BroadcastChannel, isMainThread, threadId } from "node:worker_threads";
import { Flow } from "../flow/index.ts";
import { Sockaddr, type StreamAddr, type StreamSocket } from "../net/index.ts";

/** The name of the broadcast channel worker threads report their connections on. */
export const CONNECTIONS_CHANNEL = "weir:echo:connections";

/** A worker thread's report: a connection opened (`delta` 1, with its peer) or closed (-1). */
export interface ConnectionEvent {
  readonly thread: number;
  readonly delta: 1 | -1;
  readonly peer?: string | undefined;
}

let channel: BroadcastChannel | undefined;

function report(ev: ConnectionEvent): void {
  if (channel === undefined) {
    channel = new BroadcastChannel(CONNECTIONS_CHANNEL);
    channel.unref(); // a report channel must not keep the worker alive
  }
  channel.postMessage(ev);
}

async function echo(flow: StreamSocket): Promise<void> {
  await Flow.copy(flow, flow);
  await flow.shutdown("send");
}

/**
 * Echoes everything `flow` sends back to it; when the peer stops sending, finishes sending
 * too (half-close), so the peer reads end-of-file after the last byte. In a worker thread,
 * reports the connection's start and end on {@link CONNECTIONS_CHANNEL}.
 * @throws IoError if the connection fails (e.g. reset by the peer).
 * @example
 * ```ts
 * await Net.runServer(listener, echoHandler, { onError: () => {} });
 * ```
 */
export default async function echoHandler(flow: StreamSocket, peer?: StreamAddr): Promise<void> {
  if (isMainThread) return echo(flow);
  report({
    thread: threadId,
    delta: 1,
    peer: peer === undefined ? undefined : Sockaddr.format(peer),
  });
  try {
    await echo(flow);
  } finally {
    report({ thread: threadId, delta: -1 });
  }
}

/** The module's URL, for `handlerModule` (the `.ts` source when run from source, else `.js`). */
export const echoHandlerModule: URL = new URL(import.meta.url);
