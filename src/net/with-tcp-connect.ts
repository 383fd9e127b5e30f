/**
 * `withTcpConnect` (Eio's `Net.with_tcp_connect`).
 * @module
 */

import { IoError, Switch, type TimeLimit, Timeout } from "../core/index.ts";
import { checkOptionalTimeout } from "./deadlines.ts";
import {
  connectHappyEyeballs,
  type HappyEyeballsOptions,
  interleaveFamilies,
} from "./happy-eyeballs.ts";
import type { StreamAddr } from "./sockaddr.ts";
import type { ConnectOptions, Net, StreamSocket, TlsConnectOptions } from "./types.ts";

/** Options of {@link withTcpConnect}. */
export interface TcpConnectOptions {
  /** A host name or IP address. */
  readonly host: string;
  /** A service name ("http") or port number ("8080"). */
  readonly service: string;
  /** The limit for each connection attempt (`Timeout.ms(clock, n)`); none by default. */
  readonly timeout?: TimeLimit | undefined;
  /**
   * Connect as RFC 8305 says (Happy Eyeballs): both families interleaved, the next attempt
   * started after `delay` (250 ms) or as soon as one fails, the first connection winning. Off
   * by default: the addresses are then tried one after another, in the resolver's order.
   */
  readonly happyEyeballs?: HappyEyeballsOptions | undefined;
  /**
   * Run TLS over the connection (see `net.connect`'s `tls`); the server name defaults to
   * `host`. The handshake counts in each attempt's `timeout`.
   */
  readonly tls?: TlsConnectOptions | undefined;
  /**
   * Close the connection when no byte has moved either way for this many ms (see
   * `StreamSocket.setIdleTimeout`). Default: none.
   */
  readonly idleTimeout?: number | undefined;
}

/**
 * Connects to `host`:`service` and runs `fn` with the connection, which is closed when `fn`
 * returns or fails. The addresses from `getaddrinfoStream` are tried in order, each within
 * `timeout`, until one connects; with `happyEyeballs`, they are raced as RFC 8305 says.
 * @throws IoError `ConnectionFailure NoMatchingAddresses` if the name has no TCP address;
 *   the last attempt's error (e.g. `Refused`, with its `connecting to ADDR` line) if all fail;
 *   `ConnectionFailure Timeout` if the last attempt timed out; each with the context
 *   `connecting to "host":service`.
 * @example
 * ```ts
 * await Net.withTcpConnect(env.net, { host: "localhost", service: "8080" }, async (conn) => {
 *   await Flow.copyString("hello", conn);
 * });
 * ```
 */
export function withTcpConnect<T>(
  net: Net,
  opts: TcpConnectOptions,
  fn: (conn: StreamSocket) => T | Promise<T>,
): Promise<T> {
  const { host, service } = opts;
  if (typeof host !== "string") throw new TypeError(`host must be a string, got ${typeof host}`);
  if (typeof service !== "string") {
    throw new TypeError(`service must be a string, got ${typeof service}`);
  }
  const timeout = opts.timeout ?? Timeout.none;
  const idle = checkOptionalTimeout("idleTimeout", opts.idleTimeout);
  const withTls = opts.tls === undefined ? {} : { tls: { serverName: host, ...opts.tls } };
  return Switch.run(async (sw) => {
    let conn: StreamSocket;
    try {
      const addrs = await net.getaddrinfoStream(host, { service });
      if (addrs.length === 0) {
        throw new IoError({ kind: "ConnectionFailure", reason: "NoMatchingAddresses" });
      }
      const he = opts.happyEyeballs;
      conn =
        he !== undefined
          ? await connectHappyEyeballs(net, interleaveFamilies(addrs), {
              ...he,
              sw,
              timeout,
              connect: withTls,
            })
          : await connectInOrder(net, addrs, { sw, ...withTls }, timeout);
    } catch (e) {
      if (e instanceof IoError) e.addContext(`connecting to ${JSON.stringify(host)}:${service}`);
      throw e;
    }
    if (idle !== undefined) conn.setIdleTimeout(idle);
    return await fn(conn);
  });
}

/** Eio's way: each address in turn, each within `timeout`. */
function connectInOrder(
  net: Net,
  addrs: readonly StreamAddr[],
  connectOpts: ConnectOptions,
  timeout: TimeLimit,
): Promise<StreamSocket> {
  return tryEach(addrs.length, async (i, last) => {
    const addr = addrs[i] as (typeof addrs)[number];
    try {
      return await timeout.run(() => net.connect(addr, connectOpts));
    } catch (e) {
      if (last && e instanceof Timeout) {
        throw new IoError({ kind: "ConnectionFailure", reason: "Timeout" });
      }
      throw e;
    }
  });
}

async function tryEach<T>(
  n: number,
  attempt: (i: number, last: boolean) => Promise<T>,
): Promise<T> {
  for (let i = 0; ; i++) {
    const last = i === n - 1;
    try {
      return await attempt(i, last);
    } catch (e) {
      if (last || !(e instanceof IoError || e instanceof Timeout)) throw e;
    }
  }
}
