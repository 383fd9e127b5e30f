/**
 * Socket addresses (Eio's `Net.Sockaddr`): TCP, UDP and Unix-domain addresses as plain frozen
 * objects, and their one-line text form (`tcp:127.0.0.1:8080`, `udp:[::1]:53`, `unix:/tmp/x.sock`).
 * @module
 */

import { show as describe } from "../core/checks.ts";
import { Ipaddr } from "./ipaddr.ts";

/**
 * A TCP address: an IP address and a port.
 * @example
 * ```ts
 * const a: TcpAddr = Sockaddr.tcp(Ipaddr.V4.loopback, 8080);
 * ```
 */
export type TcpAddr = { readonly type: "tcp"; readonly host: Ipaddr; readonly port: number };

/**
 * A UDP address: an IP address and a port.
 * @example
 * ```ts
 * const a: UdpAddr = Sockaddr.udp("::1", 53);
 * ```
 */
export type UdpAddr = { readonly type: "udp"; readonly host: Ipaddr; readonly port: number };

/**
 * A Unix-domain socket address. A path starting with `"\0"` is in Linux's abstract namespace
 * (no file; written `unix:@name`).
 * @example
 * ```ts
 * const a: UnixAddr = Sockaddr.unix("/tmp/app.sock");
 * ```
 */
export type UnixAddr = { readonly type: "unix"; readonly path: string };

/**
 * An address a stream socket connects to or listens on (Eio's `Sockaddr.stream`).
 * @example
 * ```ts
 * const a: StreamAddr = Sockaddr.stream("tcp:127.0.0.1:80");
 * ```
 */
export type StreamAddr = TcpAddr | UnixAddr;

/**
 * An address of a datagram socket (Eio's `Sockaddr.datagram`).
 * @example
 * ```ts
 * const a: DatagramAddr = Sockaddr.datagram("udp:127.0.0.1:53");
 * ```
 */
export type DatagramAddr = UdpAddr | UnixAddr;

/**
 * Any socket address: TCP, UDP or Unix.
 * @example
 * ```ts
 * const a: Sockaddr = Sockaddr.parse("tcp:[::1]:8080");
 * ```
 */
export type Sockaddr = TcpAddr | UdpAddr | UnixAddr;

/**
 * A socket address or its text form: what every function taking an address accepts.
 * @example
 * ```ts
 * const a: SockaddrLike = "unix:/tmp/app.sock";
 * Sockaddr.of(a).type; // "unix"
 * ```
 */
export type SockaddrLike = Sockaddr | string;

/** sun_path is 108 bytes; a filesystem path needs its terminating NUL, and libuv keeps one for abstract names too. */
const MAX_UNIX_PATH_BYTES = 107;

const PORT_TEXT = /^(?:0|[1-9][0-9]{0,4})$/;
const SYNTAX = "(expected tcp:HOST:PORT, udp:HOST:PORT or unix:PATH)";

function checkPort(port: unknown, name: string): number {
  if (typeof port !== "number") {
    throw new TypeError(`${name} must be a number, got ${describe(port)}`);
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`${name} must be an integer in 0..65535, got ${port}`);
  }
  return port;
}

function checkHost(host: unknown, name: string, allowText: boolean): Ipaddr {
  if (Ipaddr.isIpaddr(host)) return host;
  if (allowText && typeof host === "string") return Ipaddr.parse(host);
  const expected = allowText ? "an Ipaddr or an IP address string" : "an Ipaddr";
  throw new TypeError(`${name} must be ${expected}, got ${describe(host)}`);
}

/** The length of `s` in UTF-8 (a lone surrogate counts as U+FFFD, 3 bytes, as encoders write it). */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

function checkPath(path: unknown, name: string): string {
  if (typeof path !== "string") {
    throw new TypeError(`${name} must be a string, got ${describe(path)}`);
  }
  // "" is an unnamed socket (an unbound client's address); connect and listen reject it
  if (path === "") return path;
  if (path.indexOf("\0", 1) >= 0) {
    throw new TypeError(
      `${name} must not contain NUL except as its first character, got ${JSON.stringify(path)}`,
    );
  }
  if (path.startsWith("@")) {
    // "@name" is how an abstract name ("\0name") is written, so a file name may not start with it
    throw new TypeError(
      `${name} must not start with "@" (write "./@..." for a file, "\\0..." for an abstract name), got ${JSON.stringify(path)}`,
    );
  }
  const bytes = utf8Length(path);
  if (bytes > MAX_UNIX_PATH_BYTES) {
    throw new RangeError(
      `${name} must be at most ${MAX_UNIX_PATH_BYTES} bytes, got ${bytes} bytes: ${JSON.stringify(path)}`,
    );
  }
  return path;
}

function inet<T extends "tcp" | "udp">(type: T, host: Ipaddr, port: number) {
  return Object.freeze({ type, host, port });
}

function unixAddr(path: string): UnixAddr {
  return Object.freeze({ type: "unix", path });
}

function parseInet(type: "tcp" | "udp", rest: string): TcpAddr | UdpAddr | undefined {
  const colon = rest.lastIndexOf(":");
  if (colon < 0) return undefined;
  let hostText = rest.slice(0, colon);
  const portText = rest.slice(colon + 1);
  if (hostText.startsWith("[") && hostText.endsWith("]")) {
    hostText = hostText.slice(1, -1);
    if (!hostText.includes(":")) return undefined; // brackets are for IPv6 only
  } else if (hostText.includes(":") || hostText.includes("[") || hostText.includes("]")) {
    return undefined; // an unbracketed IPv6 host is ambiguous with the port
  }
  if (!PORT_TEXT.test(portText)) return undefined;
  const host = Ipaddr.parse(hostText);
  const port = checkPort(Number(portText), "port");
  return type === "tcp" ? inet("tcp", host, port) : inet("udp", host, port);
}

function parse(text: string): Sockaddr {
  if (typeof text !== "string") {
    throw new TypeError(`text must be a string, got ${describe(text)}`);
  }
  let addr: Sockaddr | undefined;
  try {
    if (text.startsWith("tcp:")) addr = parseInet("tcp", text.slice(4));
    else if (text.startsWith("udp:")) addr = parseInet("udp", text.slice(4));
    else if (text.startsWith("unix:")) {
      const rest = text.slice(5);
      addr = unixAddr(checkPath(rest.startsWith("@") ? `\0${rest.slice(1)}` : rest, "unix path"));
    }
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new TypeError(`invalid socket address ${JSON.stringify(text)} (${detail})`, {
      cause: err,
    });
  }
  if (addr === undefined) {
    throw new TypeError(`invalid socket address ${JSON.stringify(text)} ${SYNTAX}`);
  }
  return addr;
}

function of(addr: SockaddrLike): Sockaddr {
  if (typeof addr === "string") return parse(addr);
  if (typeof addr !== "object" || addr === null) {
    throw new TypeError(`addr must be a Sockaddr or its text form, got ${describe(addr)}`);
  }
  const type: unknown = addr.type;
  switch (type) {
    case "tcp":
    case "udp": {
      const a = addr as { readonly host?: unknown; readonly port?: unknown };
      const host = checkHost(a.host, "addr.host", false);
      const port = checkPort(a.port, "addr.port");
      return type === "tcp" ? inet("tcp", host, port) : inet("udp", host, port);
    }
    case "unix":
      return unixAddr(checkPath((addr as { readonly path?: unknown }).path, "addr.path"));
    default:
      throw new TypeError(`addr.type must be "tcp", "udp" or "unix", got ${describe(type)}`);
  }
}

function format(a: Sockaddr): string {
  switch (a.type) {
    case "tcp":
    case "udp": {
      const host = a.host.family === 6 ? `[${a.host}]` : a.host.toString();
      return `${a.type}:${host}:${a.port}`;
    }
    case "unix":
      return a.path.startsWith("\0") ? `unix:@${a.path.slice(1)}` : `unix:${a.path}`;
    default:
      throw new TypeError(`a is not a Sockaddr, got ${describe(a)}`);
  }
}

/**
 * Makes, reads, writes and checks socket addresses (Eio's `Net.Sockaddr` module). Every address
 * it returns is a frozen plain object whose text form round-trips exactly:
 * `Sockaddr.parse(Sockaddr.format(a))` equals `a` (use that to pass an address to a worker).
 *
 * @example
 * ```ts
 * const a = Sockaddr.tcp(Ipaddr.V6.loopback, 8080);
 * Sockaddr.format(a); // "tcp:[::1]:8080"
 * Sockaddr.equals(Sockaddr.parse("tcp:[::1]:8080"), a); // true
 * ```
 */
export const Sockaddr = Object.freeze({
  /**
   * Makes a TCP address. A string `host` is read with {@link Ipaddr.parse}.
   * @throws TypeError for a bad host or a non-number port; RangeError if `port` is not an
   *   integer in 0..65535.
   * @example
   * ```ts
   * Sockaddr.tcp("127.0.0.1", 8080); // { type: "tcp", host: 127.0.0.1, port: 8080 }
   * ```
   */
  tcp(host: Ipaddr | string, port: number): TcpAddr {
    return inet("tcp", checkHost(host, "host", true), checkPort(port, "port"));
  },

  /**
   * Makes a UDP address. A string `host` is read with {@link Ipaddr.parse}.
   * @throws TypeError for a bad host or a non-number port; RangeError if `port` is not an
   *   integer in 0..65535.
   * @example
   * ```ts
   * Sockaddr.udp(Ipaddr.V6.loopback, 53); // { type: "udp", host: ::1, port: 53 }
   * ```
   */
  udp(host: Ipaddr | string, port: number): UdpAddr {
    return inet("udp", checkHost(host, "host", true), checkPort(port, "port"));
  },

  /**
   * Makes a Unix-domain address. A path starting with `"\0"` names a socket in Linux's abstract
   * namespace. A file path may not start with `@` (that is how abstract names are written:
   * use `./@name`).
   * @throws TypeError if `path` is empty, holds a NUL other than a leading one, or starts with
   *   `@`; RangeError if it is longer than 107 bytes in UTF-8 (sun_path is 108).
   * @example
   * ```ts
   * Sockaddr.unix("/run/app.sock");
   * Sockaddr.format(Sockaddr.unix("\0app")); // "unix:@app"
   * ```
   */
  unix(path: string): UnixAddr {
    return unixAddr(checkPath(path, "path"));
  },

  /**
   * Writes an address as text: `tcp:127.0.0.1:8080`, `tcp:[::1]:8080`, `udp:[::1]:53`,
   * `unix:/tmp/x.sock`, and `unix:@name` for the abstract name `"\0name"`.
   * @throws TypeError if `a` has an unknown `type`.
   * @example
   * ```ts
   * Sockaddr.format(Sockaddr.udp("::1", 53)); // "udp:[::1]:53"
   * ```
   */
  format,

  /**
   * Reads the text form written by {@link Sockaddr.format}: `tcp:HOST:PORT` and `udp:HOST:PORT`
   * (an IPv6 host in brackets, a decimal port without leading zeros), `unix:PATH`, and
   * `unix:@name` for the abstract name `"\0name"`.
   * @throws TypeError naming the text for anything else (including a port above 65535 or a
   *   Unix path that is too long).
   * @example
   * ```ts
   * Sockaddr.parse("tcp:[::1]:8080").port; // 8080
   * Sockaddr.parse("tcp:1.2.3.4"); // throws TypeError
   * ```
   */
  parse,

  /**
   * Turns what a caller passed as an address into a checked {@link Sockaddr}: parses a string;
   * checks an object (as {@link Sockaddr.tcp}, {@link Sockaddr.udp} or {@link Sockaddr.unix}
   * would) and returns a frozen copy.
   * @throws TypeError for bad text, an unknown `type`, a host that is not an Ipaddr or a bad
   *   path; RangeError for a port out of range or a path that is too long.
   * @example
   * ```ts
   * Sockaddr.of("udp:127.0.0.1:53").type; // "udp"
   * Sockaddr.of({ type: "tcp", host: Ipaddr.V4.any, port: 70000 }); // throws RangeError
   * ```
   */
  of,

  /**
   * Like {@link Sockaddr.of}, for a stream socket: a UDP address is refused.
   * @throws TypeError naming the address if it is a UDP address; as {@link Sockaddr.of} otherwise.
   * @example
   * ```ts
   * Sockaddr.stream("tcp:127.0.0.1:80").type; // "tcp"
   * Sockaddr.stream("udp:127.0.0.1:53"); // throws TypeError
   * ```
   */
  stream(addr: SockaddrLike): StreamAddr {
    const a = of(addr);
    if (a.type === "udp") {
      throw new TypeError(
        `addr must be a stream address (tcp: or unix:), got ${JSON.stringify(format(a))}`,
      );
    }
    return a;
  },

  /**
   * Like {@link Sockaddr.of}, for a datagram socket: a TCP address is refused.
   * @throws TypeError naming the address if it is a TCP address; as {@link Sockaddr.of} otherwise.
   * @example
   * ```ts
   * Sockaddr.datagram("udp:127.0.0.1:53").type; // "udp"
   * Sockaddr.datagram("tcp:127.0.0.1:80"); // throws TypeError
   * ```
   */
  datagram(addr: SockaddrLike): DatagramAddr {
    const a = of(addr);
    if (a.type === "tcp") {
      throw new TypeError(
        `addr must be a datagram address (udp: or unix:), got ${JSON.stringify(format(a))}`,
      );
    }
    return a;
  },

  /**
   * Whether two addresses are the same: same type, and same host and port, or same path.
   * @example
   * ```ts
   * Sockaddr.equals(Sockaddr.tcp("::1", 80), Sockaddr.parse("tcp:[::1]:80")); // true
   * Sockaddr.equals(Sockaddr.tcp("::1", 80), Sockaddr.udp("::1", 80)); // false
   * ```
   */
  equals(a: Sockaddr, b: Sockaddr): boolean {
    if (a.type === "unix") return b.type === "unix" && a.path === b.path;
    if (b.type === "unix") return false;
    return a.type === b.type && a.port === b.port && a.host.equals(b.host);
  },

  /**
   * Whether `a` is an Internet (TCP or UDP) address, as opposed to a Unix one.
   * @example
   * ```ts
   * Sockaddr.isInet(Sockaddr.parse("udp:127.0.0.1:53")); // true
   * Sockaddr.isInet(Sockaddr.unix("/tmp/x.sock")); // false
   * ```
   */
  isInet(a: Sockaddr): a is TcpAddr | UdpAddr {
    return a.type === "tcp" || a.type === "udp";
  },
});
