/**
 * Conversions between weir's socket addresses and the native addon's (`NativeAddr`).
 * @module
 */
import { Ipaddr } from "../net/ipaddr.ts";
import type { DatagramAddr, Sockaddr, StreamAddr, UnixAddr } from "../net/sockaddr.ts";
import { Sockaddr as SA } from "../net/sockaddr.ts";
import type { NativeAddr } from "./native.ts";

/**
 * A Unix address exactly as the system gave it: unlike `Sockaddr.unix`, this accepts the empty
 * path of an unnamed socket (one end of a socketpair, an unbound client).
 * @example
 * ```ts
 * Sockaddr.format(unixAddrOf("")); // "unix:"
 * ```
 */
export function unixAddrOf(path: string): UnixAddr {
  return Object.freeze({ type: "unix", path });
}

/**
 * Reads an IP address as the system wrote it, dropping its zone (`fe80::1%eth0`).
 * @throws TypeError if `address` is not an IP address.
 * @example
 * ```ts
 * parseNumericIp("fe80::1%lo").toString(); // "fe80::1"
 * ```
 */
export function parseNumericIp(address: string): Ipaddr {
  const zone = address.indexOf("%");
  return Ipaddr.parse(zone >= 0 ? address.slice(0, zone) : address);
}

/**
 * The addon's form of `addr`.
 * @example
 * ```ts
 * toNativeAddr(Sockaddr.udp("::1", 53)); // { family: "inet6", address: "::1", port: 53 }
 * ```
 */
export function toNativeAddr(addr: Sockaddr): NativeAddr {
  if (addr.type === "unix") return { family: "unix", path: addr.path };
  return {
    family: addr.host.family === 4 ? "inet" : "inet6",
    address: addr.host.toString(),
    port: addr.port,
  };
}

/**
 * A datagram address from the addon's form (`null`, an unknown family, becomes the unnamed
 * Unix address).
 * @example
 * ```ts
 * fromNativeDatagram({ family: "inet", address: "127.0.0.1", port: 53 }); // udp:127.0.0.1:53
 * ```
 */
export function fromNativeDatagram(addr: NativeAddr | null): DatagramAddr {
  if (addr === null) return unixAddrOf("");
  if (addr.family === "unix") return unixAddrOf(addr.path);
  return SA.udp(parseNumericIp(addr.address), addr.port);
}

/**
 * A stream address from the addon's form.
 * @example
 * ```ts
 * fromNativeStream({ family: "inet", address: "127.0.0.1", port: 80 }); // tcp:127.0.0.1:80
 * ```
 */
export function fromNativeStream(addr: NativeAddr): StreamAddr {
  if (addr.family === "unix") return unixAddrOf(addr.path);
  return SA.tcp(parseNumericIp(addr.address), addr.port);
}
