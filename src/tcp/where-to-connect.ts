/**
 * `Tcp.WhereToConnect` (Async's `Tcp.Where_to_connect`): what a client connects to — a host
 * name and port (resolved when connecting), an Internet address, or a Unix socket.
 * @module
 */

import { show } from "../core/checks.ts";
import { Ipaddr } from "../net/ipaddr.ts";
import { Sockaddr, type TcpAddr, type UnixAddr } from "../net/sockaddr.ts";

/**
 * Where to connect: made by {@link WhereToConnect.hostAndPort}, {@link WhereToConnect.inetAddress},
 * {@link WhereToConnect.file} or {@link WhereToConnect.unixAddress}.
 */
export type WhereToConnect =
  | {
      readonly kind: "hostAndPort";
      /** A host name or IP address, resolved with `net.getaddrinfoStream` at each connect. */
      readonly host: string;
      readonly port: number;
      /** Bind the local end to this address before connecting. */
      readonly viaLocalInterface: Ipaddr | undefined;
    }
  | {
      readonly kind: "inet";
      readonly address: TcpAddr;
      /** Bind the local end to this address before connecting. */
      readonly viaLocalInterface: Ipaddr | undefined;
    }
  | { readonly kind: "unix"; readonly address: UnixAddr };

/** Options of {@link WhereToConnect.hostAndPort} and {@link WhereToConnect.inetAddress}. */
export interface ViaLocalInterface {
  /**
   * Bind the local end of the connection to this address (port chosen by the OS) before
   * connecting: the connection leaves through that interface. Only addresses of the same
   * family are tried.
   */
  readonly viaLocalInterface?: Ipaddr | string | undefined;
}

function checkPort(port: number): number {
  if (typeof port !== "number") throw new TypeError(`port must be a number, got ${show(port)}`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`port must be an integer in 0..65535, got ${port}`);
  }
  return port;
}

function checkVia(opts: ViaLocalInterface | undefined): Ipaddr | undefined {
  const via = opts?.viaLocalInterface;
  if (via === undefined) return undefined;
  if (typeof via === "string") return Ipaddr.parse(via);
  if (!Ipaddr.isIpaddr(via)) {
    throw new TypeError(`viaLocalInterface must be an Ipaddr or its text, got ${show(via)}`);
  }
  return via;
}

/** Makes {@link WhereToConnect} values. */
export const WhereToConnect = Object.freeze({
  /**
   * A host name (or IP address text) and a port. The name is resolved when connecting; every
   * TCP address it has is tried in order (only those of `viaLocalInterface`'s family, if
   * given) until one connects.
   * @throws TypeError if `host` is not a non-empty string or `viaLocalInterface` is not an IP
   *   address; RangeError if `port` is not an integer in 0..65535.
   * @example
   * ```ts
   * await Tcp.withConnection(Tcp.WhereToConnect.hostAndPort("localhost", 8080), async ({ writer }) => {
   *   writer.write("hello\n");
   * });
   * ```
   */
  hostAndPort(host: string, port: number, opts?: ViaLocalInterface): WhereToConnect {
    if (typeof host !== "string" || host === "") {
      throw new TypeError(`host must be a non-empty string, got ${show(host)}`);
    }
    return Object.freeze({
      kind: "hostAndPort",
      host,
      port: checkPort(port),
      viaLocalInterface: checkVia(opts),
    });
  },

  /**
   * An Internet address (`Sockaddr.tcp(ip, port)` or its text, `"tcp:127.0.0.1:8080"`).
   * @throws TypeError if `address` is not a tcp: address, or `viaLocalInterface` not an IP address.
   * @example
   * ```ts
   * const where = Tcp.WhereToConnect.inetAddress("tcp:127.0.0.1:8080");
   * ```
   */
  inetAddress(address: TcpAddr | string, opts?: ViaLocalInterface): WhereToConnect {
    const a = Sockaddr.of(address);
    if (a.type !== "tcp") {
      throw new TypeError(
        `address must be a tcp: address, got ${JSON.stringify(Sockaddr.format(a))}`,
      );
    }
    return Object.freeze({ kind: "inet", address: a, viaLocalInterface: checkVia(opts) });
  },

  /**
   * The Unix socket at `path` (a path starting with `"\0"` is Linux's abstract namespace).
   * @throws TypeError/RangeError for a bad path (see `Sockaddr.unix`).
   * @example
   * ```ts
   * const where = Tcp.WhereToConnect.file("/run/app.sock");
   * ```
   */
  file(path: string): WhereToConnect {
    return Object.freeze({ kind: "unix", address: Sockaddr.unix(path) });
  },

  /**
   * A Unix socket address (`Sockaddr.unix(path)` or its text, `"unix:/run/app.sock"`).
   * @throws TypeError if `address` is not a unix: address.
   * @example
   * ```ts
   * const where = Tcp.WhereToConnect.unixAddress(Sockaddr.unix("/run/app.sock"));
   * ```
   */
  unixAddress(address: UnixAddr | string): WhereToConnect {
    const a = Sockaddr.of(address);
    if (a.type !== "unix") {
      throw new TypeError(
        `address must be a unix: address, got ${JSON.stringify(Sockaddr.format(a))}`,
      );
    }
    return Object.freeze({ kind: "unix", address: a });
  },

  /**
   * The text form used in error context lines: `"example.com":80`, `tcp:127.0.0.1:80`,
   * `unix:/run/app.sock`.
   * @example
   * ```ts
   * Tcp.WhereToConnect.format(Tcp.WhereToConnect.hostAndPort("example.com", 80)); // '"example.com":80'
   * ```
   */
  format(where: WhereToConnect): string {
    switch (where.kind) {
      case "hostAndPort":
        return `${JSON.stringify(where.host)}:${where.port}`;
      case "inet":
      case "unix":
        return Sockaddr.format(where.address);
    }
  },

  /** Checks that `x` is a {@link WhereToConnect}. @throws TypeError naming `x` otherwise. */
  check(x: unknown, name = "where"): WhereToConnect {
    const k = typeof x === "object" && x !== null ? (x as { kind?: unknown }).kind : undefined;
    if (k !== "hostAndPort" && k !== "inet" && k !== "unix") {
      throw new TypeError(
        `${name} must be a Tcp.WhereToConnect (made by Tcp.WhereToConnect.hostAndPort, ...), got ${show(x)}`,
      );
    }
    return x as WhereToConnect;
  },
});
