/**
 * The addresses of a Node TCP socket, read from its handle: `inetName` (the peer's or the local
 * address) and `tcpAddrOf` (an address as the system wrote it, with shared IP values).
 * @module
 */
import type { Socket } from "node:net";
import type { Ipaddr } from "../net/ipaddr.ts";
import type { TcpAddr } from "../net/sockaddr.ts";
import { parseNumericIp } from "./native-addr.ts";

/** The part of Node's TCP handle (`socket._handle`) that reads the socket's addresses. */
interface InetHandle {
  getpeername?(out: { address?: string; port?: number }): number;
  getsockname?(out: { address?: string; port?: number }): number;
}

/** The scratch object {@link inetName} hands to the handle. */
const nameScratch: { address?: string | undefined; port?: number | undefined } = {};

/**
 * The peer's or the local TCP address of `raw`, or `undefined` if the socket is closed.
 * Asks the handle directly: `socket.remoteAddress` would also keep a copy on the socket for
 * good (64 bytes more for every idle connection).
 * @example
 * ```ts
 * inetName(raw, "peer"); // tcp:127.0.0.1:40222
 * ```
 */
export function inetName(raw: Socket, which: "peer" | "local"): TcpAddr | undefined {
  const h = (raw as unknown as { _handle?: InetHandle | null })._handle;
  const get = which === "peer" ? h?.getpeername : h?.getsockname;
  let address: string | undefined;
  let port: number | undefined;
  if (h !== null && h !== undefined && typeof get === "function") {
    // One scratch object for every call (accept's hot path); emptied after each use
    const out = nameScratch;
    if (get.call(h, out) === 0) {
      address = out.address;
      port = out.port;
    }
    out.address = undefined;
    out.port = undefined;
  } else {
    address = which === "peer" ? raw.remoteAddress : raw.localAddress;
    port = which === "peer" ? raw.remotePort : raw.localPort;
  }
  if (typeof address !== "string" || typeof port !== "number") return undefined;
  return tcpAddrOf(address, port);
}

const ipCache = new Map<string, Ipaddr>();

/**
 * The TCP address for an IP address as the system wrote it and a port. IP values are shared
 * through a small cache: every connection from the same host gets the same (immutable)
 * `Ipaddr`, which matters when thousands of connections hold their peer's address.
 * @throws TypeError if `address` is not a numeric IP address.
 * @example
 * ```ts
 * tcpAddrOf("127.0.0.1", 8080); // tcp:127.0.0.1:8080
 * ```
 */
export function tcpAddrOf(address: string, port: number): TcpAddr {
  let ip = ipCache.get(address);
  if (ip === undefined) {
    ip = parseNumericIp(address);
    if (ipCache.size >= 256) ipCache.clear();
    ipCache.set(address, ip);
  }
  // What Sockaddr.tcp makes, without re-checking what the kernel gave (accept's hot path)
  return Object.freeze({ type: "tcp", host: ip, port });
}
