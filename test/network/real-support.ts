/**
 * Helpers for the real-socket network tests: the Node backend's `Net`, trace capture, temporary
 * Unix socket paths under the OS temp directory, connected socket pairs, and small flow helpers.
 */
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NodeNet } from "../../src/backend-node/node-net.ts";
import { NodeStreamSocket } from "../../src/backend-node/stream-socket.ts";
import { Fiber, type Switch } from "../../src/core/index.ts";
import { traceOf } from "../../src/core/test-helpers/trace.ts";
import { copy, copyString, readAll } from "../../src/flow/flow-ops.ts";
import { Sockaddr, type SockaddrLike, type StreamAddr } from "../../src/net/sockaddr.ts";
import type { ListeningSocket, StreamSocket } from "../../src/net/types.ts";
import { run } from "../../src/run.ts";

export { copy, copyString, readAll, traceOf };

/** The real network (a fresh `NodeNet`, as `run` gives). */
export const net = new NodeNet();

const tag = `${process.pid}-${randomBytes(3).toString("hex")}`;
let counter = 0;

/** A fresh Unix socket path under the OS temp directory (nothing is created). */
export function tmpSockPath(name: string): string {
  return join(tmpdir(), `weir-${tag}-${name}-${counter++}.sock`);
}

/** A fresh Linux abstract socket name ("\0..."). */
export function abstractName(name: string): string {
  return `\0weir-${tag}-${name}-${counter++}`;
}

/** Reads `flow` to its end as a string (Eio's tests' `read_all`). */
export function readAllText(flow: StreamSocket): Promise<string> {
  return readAll(flow, { maxSize: 1 << 20 });
}

/** The raw `net.Socket` behind a weir socket. */
export function rawOf(s: StreamSocket): import("node:net").Socket {
  return NodeStreamSocket.raw(s as NodeStreamSocket);
}

/** UTF-8 bytes. */
export function bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** UTF-8 text. */
export function text(b: Uint8Array): string {
  return new TextDecoder().decode(b);
}

/**
 * Listens on `addr` (port 0 or a temp path), connects, accepts: a connected pair, both owned
 * by `sw`, and the listener (also owned by `sw`).
 */
export async function socketPair(
  sw: Switch,
  addr: SockaddrLike = "tcp:127.0.0.1:0",
): Promise<{ client: StreamSocket; server: StreamSocket; listener: ListeningSocket }> {
  const listener = await net.listen(addr, { sw, backlog: 5 });
  const [client, [server]] = await Fiber.pair(
    () => net.connect(listener.listeningAddr, { sw }),
    () => listener.accept({ sw }),
  );
  return { client, server, listener };
}

/** A Unix-socket pair (closest to Eio's `socketpair_stream`). */
export async function unixPair(
  sw: Switch,
): Promise<{ a: StreamSocket; b: StreamSocket; listener: ListeningSocket }> {
  const { client, server, listener } = await socketPair(sw, Sockaddr.unix(tmpSockPath("pair")));
  return { a: client, b: server, listener };
}

/** Runs `fn` on the real backend with the trace captured; returns the transcript lines. */
export function realTrace(fn: () => Promise<unknown>): Promise<string[]> {
  return traceOf(() => run(fn));
}

/** The text form of a stream address. */
export function fmt(a: StreamAddr): string {
  return Sockaddr.format(a);
}

/** Waits until `cond()` holds (polling every 5 ms), or fails after `ms`. */
export async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A promise and its resolvers (`Promise.withResolvers`). */
export function deferred<T = void>(): PromiseWithResolvers<T> {
  return Promise.withResolvers<T>();
}

/** Waits for `ms` of real time. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The echo handler: copies the flow to itself, then half-closes it. */
export async function echo(flow: StreamSocket): Promise<void> {
  await copy(flow, flow);
  await flow.shutdown("send");
}

/** Writes `s`, half-closes, reads the whole reply. */
export async function request(flow: StreamSocket, s: string): Promise<string> {
  await copyString(s, flow);
  await flow.shutdown("send");
  return readAllText(flow);
}
