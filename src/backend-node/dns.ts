/**
 * Name resolution for the Node backend (Eio's `getaddrinfo` and `getnameinfo`): host names
 * through `dns.lookup` (the system resolver: /etc/hosts, then DNS), services through
 * /etc/services, IP literals without any lookup.
 * @module
 */
import { lookup as dnsLookup, lookupService as dnsLookupService } from "node:dns";
import { readFile } from "node:fs/promises";
import { type BlockingOptions, IoError, suspend } from "../core/index.ts";
import { Ipaddr } from "../net/ipaddr.ts";
import { Sockaddr, type TcpAddr, type UdpAddr } from "../net/sockaddr.ts";
import { toIoError } from "./errors.ts";

/** One address found by {@link ResolverSystem.lookup}. */
export interface LookupAddress {
  /** The numeric address (`"127.0.0.1"`, `"::1"`, maybe with a `%zone`). */
  readonly address: string;
  /** 4 or 6. */
  readonly family: number;
}

/**
 * What a resolver asks of the system. {@link makeResolver} takes replacements, so tests can
 * script the answers (and never query a real name server).
 */
export interface ResolverSystem {
  /** Every address of `host`, in the resolver's order (Node: `dns.lookup` with `all`). */
  lookup(host: string): Promise<LookupAddress[]>;
  /** The name of `address` and of TCP port `port` (Node: `dns.lookupService`). */
  lookupService(address: string, port: number): Promise<{ hostname: string; service: string }>;
  /** The text of the services database (`/etc/services`); rejects if there is none. */
  readServices(): Promise<string>;
}

/** The two resolver functions, as {@link makeResolver} returns them. */
export interface Resolver {
  /** See {@link getaddrinfo}. */
  getaddrinfo(
    host: string,
    service: string,
    opts?: BlockingOptions,
  ): Promise<Array<TcpAddr | UdpAddr>>;
  /** See {@link getnameinfo}. */
  getnameinfo(addr: TcpAddr | UdpAddr, opts?: BlockingOptions): Promise<[string, string]>;
}

/** The ports of one service name, per protocol. */
interface ServicePorts {
  tcp?: number;
  udp?: number;
}

/** The parsed services database: names (and aliases) to ports, and ports back to names. */
interface ServicesTable {
  readonly byName: Map<string, ServicePorts>;
  readonly byPort: { readonly tcp: Map<number, string>; readonly udp: Map<number, string> };
}

/**
 * Parses the services(5) format: `name port/protocol [aliases...] [# comment]`. The first
 * entry wins, as getservbyname(3) reads the file top down.
 */
function parseServices(text: string): ServicesTable {
  const byName = new Map<string, ServicePorts>();
  const byPort = { tcp: new Map<number, string>(), udp: new Map<number, string>() };
  for (const raw of text.split("\n")) {
    const hash = raw.indexOf("#");
    const fields = (hash >= 0 ? raw.slice(0, hash) : raw).trim().split(/\s+/);
    const [name, portProto, ...aliases] = fields;
    if (name === undefined || name === "" || portProto === undefined) continue;
    const m = /^(\d{1,5})\/(tcp|udp)$/.exec(portProto);
    if (m === null) continue;
    const port = Number(m[1]);
    const proto = m[2] as "tcp" | "udp";
    if (port > 65535) continue;
    for (const n of [name, ...aliases]) {
      let ports = byName.get(n);
      if (ports === undefined) {
        ports = {};
        byName.set(n, ports);
      }
      if (ports[proto] === undefined) ports[proto] = port;
    }
    if (!byPort[proto].has(port)) byPort[proto].set(port, name);
  }
  return { byName, byPort };
}

const EMPTY_TABLE: ServicesTable = {
  byName: new Map(),
  byPort: { tcp: new Map(), udp: new Map() },
};

/** The system as Node sees it. */
const nodeSystem: ResolverSystem = {
  lookup: (host) =>
    new Promise((resolve, reject) => {
      dnsLookup(host, { all: true, order: "verbatim" }, (err, addrs) => {
        if (err) reject(err);
        else resolve(addrs);
      });
    }),
  lookupService: (address, port) =>
    new Promise((resolve, reject) => {
      dnsLookupService(address, port, (err, hostname, service) => {
        if (err) reject(err);
        else resolve({ hostname, service });
      });
    }),
  readServices: () => readFile("/etc/services", "utf8"),
};

/** Reads an IP address the resolver returned, without its zone (`fe80::1%eth0`). */
function parseResolved(address: string): Ipaddr {
  const zone = address.indexOf("%");
  return Ipaddr.parse(zone >= 0 ? address.slice(0, zone) : address);
}

/** Four dot-separated numbers: an IPv4 address, or a mistake (never a host name). */
const DOTTED_QUAD = /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/;

/** The IP address `host` spells, if it is an IP literal (then no lookup is needed). */
function ipLiteral(host: string): Ipaddr | undefined {
  // Ipaddr.parse throws for anything else; only try strings that could be addresses
  if (!/^[0-9a-fA-F:.]+$/.test(host)) return undefined;
  try {
    return Ipaddr.parse(host);
  } catch {
    return undefined;
  }
}

/** The error of a service name that is neither a number nor in the database. */
function unknownService(service: string, cause?: unknown): IoError {
  const why = cause === undefined ? "" : ` (${cause instanceof Error ? cause.message : cause})`;
  return new IoError({
    kind: "NotFound",
    cause: new Error(
      `unknown service ${JSON.stringify(service)}: not a port number or a name in /etc/services${why}`,
    ),
  });
}

/**
 * Runs `work` as a blocking operation of the calling fiber: not started if the fiber is already
 * cancelled, and left behind (its result dropped) if the fiber is cancelled meanwhile, because
 * `dns.lookup` cannot be aborted.
 */
function cancellable<T>(work: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  return suspend<T>((resolve, reject) => {
    work().then(resolve, reject);
    return undefined;
  }, signal);
}

/**
 * Makes a resolver over `system` (by default Node's `dns` module and `/etc/services`); the
 * parts not given are Node's. The services database is read once, on first use, and kept.
 * @example
 * ```ts
 * const r = makeResolver({ lookup: async () => [{ address: "10.0.0.1", family: 4 }] });
 * await r.getaddrinfo("db.internal", "5432"); // [tcp:10.0.0.1:5432, udp:10.0.0.1:5432]
 * ```
 */
export function makeResolver(system: Partial<ResolverSystem> = {}): Resolver {
  const sys: ResolverSystem = { ...nodeSystem, ...system };
  let services: Promise<ServicesTable> | undefined;
  let servicesError: unknown;
  const table = (): Promise<ServicesTable> => {
    services ??= sys.readServices().then(parseServices, (e: unknown) => {
      servicesError = e;
      return EMPTY_TABLE;
    });
    return services;
  };

  const resolveService = async (service: string): Promise<ServicePorts> => {
    if (service === "") return { tcp: 0, udp: 0 };
    if (/^\d+$/.test(service)) {
      const port = Number(service);
      if (port > 65535) {
        throw new RangeError(`service must be a port number in 0..65535, got ${service}`);
      }
      return { tcp: port, udp: port };
    }
    const ports = (await table()).byName.get(service);
    if (ports === undefined) throw unknownService(service, servicesError);
    return ports;
  };

  const getaddrinfo = async (
    host: string,
    service: string,
    opts: BlockingOptions = {},
  ): Promise<Array<TcpAddr | UdpAddr>> => {
    if (typeof host !== "string") throw new TypeError(`host must be a string, got ${typeof host}`);
    if (host === "") throw new TypeError('host must not be empty, got ""');
    if (DOTTED_QUAD.test(host) && ipLiteral(host) === undefined) {
      // not a name: looking it up would ask DNS about "999.1.1.1"
      throw new RangeError(`host is not a valid IPv4 address, got ${JSON.stringify(host)}`);
    }
    if (typeof service !== "string") {
      throw new TypeError(`service must be a string, got ${typeof service}`);
    }
    const work = async (): Promise<Array<TcpAddr | UdpAddr>> => {
      const ports = await resolveService(service);
      const literal = ipLiteral(host);
      let ips: Ipaddr[];
      if (literal !== undefined) ips = [literal];
      else {
        let found: LookupAddress[];
        try {
          found = await sys.lookup(host);
        } catch (e) {
          throw toIoError(e);
        }
        ips = found.map((a) => parseResolved(a.address));
      }
      const out: Array<TcpAddr | UdpAddr> = [];
      for (const ip of ips) {
        if (ports.tcp !== undefined) out.push(Sockaddr.tcp(ip, ports.tcp));
        if (ports.udp !== undefined) out.push(Sockaddr.udp(ip, ports.udp));
      }
      return out;
    };
    return cancellable(work, opts.signal);
  };

  const getnameinfo = async (
    addr: TcpAddr | UdpAddr,
    opts: BlockingOptions = {},
  ): Promise<[string, string]> => {
    const a = Sockaddr.of(addr);
    if (a.type === "unix") {
      throw new TypeError(`addr must be a TCP or UDP address, got ${Sockaddr.format(a)}`);
    }
    const work = async (): Promise<[string, string]> => {
      const numeric = a.host.toString();
      let hostname = numeric;
      let service: string | undefined;
      try {
        const r = await sys.lookupService(numeric, a.port);
        hostname = r.hostname;
        service = r.service;
      } catch (e) {
        // getnameinfo(3) without NI_NAMEREQD (as Eio calls it) falls back to the numeric host;
        // Node asks for a name, so do that here
        if (!(e instanceof Error && (e as NodeJS.ErrnoException).code === "ENOTFOUND")) {
          throw toIoError(e);
        }
      }
      if (a.type === "udp" || service === undefined) {
        // dns.lookupService names TCP ports only; NI_DGRAM reads the UDP entries
        const names = (await table()).byPort[a.type];
        service = names.get(a.port) ?? String(a.port);
      }
      return [hostname, service];
    };
    return cancellable(work, opts.signal);
  };

  return { getaddrinfo, getnameinfo };
}

const defaultResolver = makeResolver();

/**
 * Resolves `host` (a name or an IP literal) and `service` (a name from /etc/services, a port
 * number, or `""` for port 0) to socket addresses: for each address the system resolver
 * returns, in its order, a TCP entry then a UDP entry — each only if the service is defined
 * for that protocol (a number is defined for both), as getaddrinfo(3) does. IP literals are
 * not looked up. The lookup itself cannot be aborted: a cancelled caller returns at once
 * with `Cancelled` and the answer, when it comes, is dropped.
 * @throws IoError `NotFound` for an unknown host (`ENOTFOUND`) or service; other resolver
 *   failures (`EAI_AGAIN`, ...) as `toIoError` maps them; RangeError for a port above 65535
 *   or a dotted quad that is not an IPv4 address (`999.1.1.1`: it is not looked up);
 *   TypeError for a non-string or empty `host`; Cancelled.
 * @example
 * ```ts
 * await getaddrinfo("127.0.0.1", "http"); // [tcp:127.0.0.1:80] (plus udp:127.0.0.1:80 where
 * //                                          /etc/services lists http/udp)
 * await getaddrinfo("localhost", "8080"); // [tcp:127.0.0.1:8080, udp:127.0.0.1:8080, ...]
 * ```
 */
export function getaddrinfo(
  host: string,
  service: string,
  opts: BlockingOptions = {},
): Promise<Array<TcpAddr | UdpAddr>> {
  return defaultResolver.getaddrinfo(host, service, opts);
}

/**
 * The host name and service name of `addr` (a reverse lookup, getnameinfo(3) without
 * `NI_NAMEREQD`): a host with no name gives its numeric form, a port with no service name
 * gives the number. UDP ports are named from /etc/services' UDP entries (`NI_DGRAM`).
 * Cancellable as {@link getaddrinfo} is.
 * @throws IoError for resolver failures other than "no name"; TypeError for a Unix address;
 *   Cancelled.
 * @example
 * ```ts
 * await getnameinfo(Sockaddr.tcp(Ipaddr.V4.loopback, 80)); // ["localhost", "http"]
 * ```
 */
export function getnameinfo(
  addr: TcpAddr | UdpAddr,
  opts: BlockingOptions = {},
): Promise<[string, string]> {
  return defaultResolver.getnameinfo(addr, opts);
}
