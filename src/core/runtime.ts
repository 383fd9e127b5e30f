/**
 * Which JavaScript runtime weir runs on (Node, Bun or Deno, each through its `node:*` modules),
 * and the one place that says which of weir's primitives a runtime lacks: a feature that needs
 * one throws {@link UnsupportedOnRuntime} there, at once, instead of degrading silently.
 * @module
 */

/** The runtimes weir supports. */
export type RuntimeName = "node" | "bun" | "deno";

/** The runtime in use: its name and version (`process.versions.bun`, `.deno`, or `.node`). */
export interface RuntimeInfo {
  readonly name: RuntimeName;
  readonly version: string;
}

/**
 * What weir needs that not every runtime has:
 * - `fd-stream`: a connected stream socket or pipe fd wrapped by `new net.Socket({ fd })`
 *   (Bun 1.4 closes such a socket at once: "Socket is closed");
 * - `uv-poll`: libuv's `uv_poll_t` through Node-API, which the addon's datagram handle uses
 *   (Bun 1.4 aborts the process on `uv_poll_init`);
 * - `socket-fd`: the fd behind a `node:net` socket or server (`_handle.fd`), for `Unix.fd` and
 *   the socket options set through the addon (Deno 2.9's sockets have none);
 * - `empty-tls-write`: a zero-length write on a `tls.TLSSocket`, whose callback says when the
 *   writes before it are done (Deno 2.9 fails it with EPERM; weir then tracks every write);
 * - `tls-end-after-read-stop`: a TLS socket that still reports the peer's end of stream when
 *   the chunk just before it stopped its reading (Deno 2.9 drops that end; weir then stops
 *   reading a microtask later);
 * - `tls-end`: a TLS socket (natively over its TCP handle) that sends its close_notify when
 *   `end()` is called (Bun 1.4 does it once the writable side has finished, a turn later: a
 *   `close()` right after `end()` lost it, and a peer with `strictClose` saw a cut
 *   connection; weir's `close()` then waits for it);
 * - `tls-stream-end`: the same over a JavaScript stream (Deno 2.9 and Bun 1.4 lack it);
 * - `tls-stream-half-close`: a TLS socket over a JavaScript stream that stays writable after
 *   the peer's close_notify (Bun 1.4 closes such a connection when the peer's close_notify
 *   comes: writes after it throw {@link UnsupportedOnRuntime});
 * - `accept-after-error`: a `node:net` server that goes on accepting after an accept failed
 *   (Deno 2.9 stops for good after an EMFILE, with no 'error' event; weir re-arms it);
 * - `emfile-drop`: at the descriptor limit, a server that accepts and closes the waiting
 *   connections at once (libuv's spare descriptor), so their clients see them closed; Bun 1.4
 *   and Deno 2.9 leave them in the kernel's queue, to be served once descriptors free up.
 */
export type RuntimePrimitive =
  | "fd-stream"
  | "uv-poll"
  | "socket-fd"
  | "empty-tls-write"
  | "tls-end-after-read-stop"
  | "tls-end"
  | "tls-stream-end"
  | "tls-stream-half-close"
  | "accept-after-error"
  | "emfile-drop";

const lacking: Readonly<Record<RuntimeName, readonly RuntimePrimitive[]>> = {
  node: [],
  bun: [
    "fd-stream",
    "uv-poll",
    "tls-end",
    "tls-stream-end",
    "tls-stream-half-close",
    "emfile-drop",
  ],
  deno: [
    "socket-fd",
    "empty-tls-write",
    "tls-end-after-read-stop",
    "tls-stream-end",
    "accept-after-error",
    "emfile-drop",
  ],
};

function detect(): RuntimeInfo {
  const v = process.versions as Record<string, string | undefined>;
  if (v.bun !== undefined) return { name: "bun", version: v.bun };
  if (v.deno !== undefined) return { name: "deno", version: v.deno };
  return { name: "node", version: v.node ?? "unknown" };
}

/** The runtime weir is running on, detected once. */
export const runtime: RuntimeInfo = detect();

/**
 * Thrown by a feature that needs a primitive the running runtime lacks (see
 * `docs/runtimes.md`): names the feature, the runtime and its version, and what to use instead.
 */
export class UnsupportedOnRuntime extends Error {
  override readonly name = "UnsupportedOnRuntime";
  /** A stable code for programs: `"WEIR_UNSUPPORTED_ON_RUNTIME"`. */
  readonly code = "WEIR_UNSUPPORTED_ON_RUNTIME";
  /** The runtime that lacks it. */
  readonly runtime: RuntimeName;
  /** What was asked for, e.g. `"Unix.socketpairStream"`. */
  readonly feature: string;

  constructor(feature: string, primitive: RuntimePrimitive, on: RuntimeInfo = runtime) {
    super(
      `${feature} is not supported on ${on.name} ${on.version}: it needs ${describe(primitive)}, ` +
        `which ${on.name} does not provide (see weir's docs/runtimes.md)`,
    );
    this.runtime = on.name;
    this.feature = feature;
  }
}

function describe(p: RuntimePrimitive): string {
  switch (p) {
    case "fd-stream":
      return "a stream socket made from a file descriptor (new net.Socket({ fd }))";
    case "uv-poll":
      return "libuv's uv_poll_t through Node-API (the native addon's datagram handle)";
    case "socket-fd":
      return "the file descriptor behind a node:net socket";
    case "empty-tls-write":
      return "a zero-length write on a TLS socket";
    case "tls-end-after-read-stop":
      return "a TLS socket that reports the peer's end of stream after its reading stopped";
    case "tls-end":
      return "a TLS socket that sends its close_notify on end()";
    case "tls-stream-end":
      return "a TLS socket over a JavaScript stream that sends its close_notify on end()";
    case "accept-after-error":
      return "a node:net server that goes on accepting after an accept failed";
    case "emfile-drop":
      return "a server that closes the connections waiting at the descriptor limit";
    case "tls-stream-half-close":
      return "a TLS socket over a JavaScript stream that stays writable after the peer's close_notify (a TLS half-close)";
  }
}

/** Whether the running runtime has `primitive`. */
export function runtimeHas(primitive: RuntimePrimitive, on: RuntimeInfo = runtime): boolean {
  return !lacking[on.name].includes(primitive);
}

/**
 * Checks that the running runtime has `primitive`, for `feature`.
 * @throws UnsupportedOnRuntime if it does not.
 */
export function requirePrimitive(
  feature: string,
  primitive: RuntimePrimitive,
  on: RuntimeInfo = runtime,
): void {
  if (!runtimeHas(primitive, on)) throw new UnsupportedOnRuntime(feature, primitive, on);
}
