/**
 * `env.net` of a simulated host: the `Net` contract over the simulated network. Host names
 * resolve through the simulation's DNS (`tcp:db:5432` works where an address is taken);
 * loopback addresses and Unix paths stay on the host.
 * @module
 */
import { type BlockingOptions, IoError } from "../core/index.ts";
import {
  type BackendListenOptions,
  type ConnectOptions,
  type DatagramAddr,
  type DatagramOptions,
  type DatagramSocket,
  Ipaddr,
  type ListeningSocket,
  type ListenOptions,
  NetBase,
  Sockaddr,
  type SockaddrLike,
  type StreamAddr,
  type StreamSocket,
  type TcpAddr,
  type TlsConnectOptions,
  type TlsSocket,
  type UdpAddr,
  type UnboundDatagram,
} from "../net/index.ts";
import { connectTcp } from "./connect.ts";
import { resolveNamed } from "./dns.ts";
import type { SimHost } from "./host.ts";
import { SimListeningSocket } from "./listener.ts";
import { SimDatagramSocket } from "./udp.ts";
import type { World } from "./world.ts";

const services: Readonly<Record<string, number>> = {
  http: 80,
  https: 443,
  ssh: 22,
  smtp: 25,
  domain: 53,
  postgresql: 5432,
  redis: 6379,
};

function notFound(what: string): IoError {
  return new IoError({ kind: "NotFound", cause: new Error(`ENOTFOUND: ${what}`) });
}

function portOf(service: string): number {
  if (/^\d+$/.test(service)) {
    const p = Number(service);
    if (p > 65535) throw new RangeError(`service port must be <= 65535, got ${service}`);
    return p;
  }
  const p = services[service];
  if (p === undefined) throw notFound(`unknown service ${JSON.stringify(service)}`);
  return p;
}

/** The network of one simulated host (one life of it: a crash ends it). */
export class SimNet extends NetBase {
  readonly #world: World;
  readonly #host: SimHost;
  readonly #epoch: number;

  constructor(world: World, host: SimHost) {
    super();
    this.#world = world;
    this.#host = host;
    this.#epoch = host.epoch;
  }

  #alive(): void {
    if (this.#host.epoch !== this.#epoch || !this.#host.up) {
      throw new IoError({
        kind: "Unknown",
        cause: new Error(`host ${this.#host.name} has crashed`),
      });
    }
  }

  #resolveNamed(addr: SockaddrLike): SockaddrLike {
    return resolveNamed(this.#world, addr);
  }

  override connect(
    addr: SockaddrLike,
    opts: ConnectOptions & { readonly tls: TlsConnectOptions },
  ): Promise<TlsSocket>;
  override connect(addr: SockaddrLike, opts: ConnectOptions): Promise<StreamSocket>;
  override connect(addr: SockaddrLike, opts: ConnectOptions): Promise<StreamSocket> {
    return super.connect(this.#resolveNamed(addr), opts);
  }

  override listen(addr: SockaddrLike, opts: ListenOptions): Promise<ListeningSocket> {
    return super.listen(this.#resolveNamed(addr), opts);
  }

  override datagramSocket(
    addr: SockaddrLike | UnboundDatagram,
    opts: DatagramOptions,
  ): Promise<DatagramSocket> {
    return super.datagramSocket(
      addr === "udpv4" || addr === "udpv6" ? addr : this.#resolveNamed(addr),
      opts,
    );
  }

  /** The host an IP address belongs to (loopback and the host's own address: this host). */
  #hostOf(ip: Ipaddr): SimHost | undefined {
    if (ip.isLoopback() || this.#host.owns(ip)) return this.#host;
    return this.#world.byIp(ip) as SimHost | undefined;
  }

  #checkLocal(ip: Ipaddr): void {
    if (ip.isAny() || ip.isLoopback() || this.#host.owns(ip)) return;
    throw new IoError({
      kind: "Unknown",
      cause: new Error(`EADDRNOTAVAIL: ${ip} is not an address of host ${this.#host.name}`),
    });
  }

  protected async backendConnect(addr: StreamAddr, opts: ConnectOptions): Promise<StreamSocket> {
    this.#alive();
    const h = this.#host;
    let local: StreamAddr;
    let server: SimHost | undefined;
    if (addr.type === "unix") {
      local = Sockaddr.unix(`\0sim-client-${h.ephemeralPort("tcp")}`);
      server = h;
      if (!h.unix.has(addr.path)) {
        throw new IoError({ kind: "NotFound", cause: new Error(`ENOENT: ${addr.path}`) });
      }
    } else {
      server = this.#hostOf(addr.host);
      const ip = server === h && addr.host.isLoopback() ? addr.host : h.addressLike(addr.host);
      let port = 0;
      if (opts.bindTo !== undefined) {
        const b = Sockaddr.stream(opts.bindTo);
        if (b.type === "tcp") {
          this.#checkLocal(b.host);
          port = b.port;
        }
      }
      local = Sockaddr.tcp(ip, port === 0 ? h.ephemeralPort("tcp") : port);
    }
    const s = await connectTcp(this.#world, h, local, server, addr, opts);
    s.attachToSwitch(opts.sw);
    return s;
  }

  protected async backendListen(
    addr: StreamAddr,
    opts: BackendListenOptions,
  ): Promise<ListeningSocket> {
    this.#alive();
    const h = this.#host;
    const w = this.#world;
    let l: SimListeningSocket;
    if (addr.type === "unix") {
      if (h.unix.has(addr.path)) {
        throw new IoError({ kind: "AddressInUse", cause: new Error(`EADDRINUSE: ${addr.path}`) });
      }
      l = new SimListeningSocket(w, h, addr, opts.backlog);
      h.unix.set(addr.path, l);
    } else {
      this.#checkLocal(addr.host);
      const port = addr.port === 0 ? h.ephemeralPort("tcp") : addr.port;
      if (h.listeners.has(port)) {
        throw new IoError({ kind: "AddressInUse", cause: new Error(`EADDRINUSE: port ${port}`) });
      }
      l = new SimListeningSocket(w, h, Sockaddr.tcp(addr.host, port), opts.backlog);
      h.listeners.set(port, l);
    }
    l.attachToSwitch(opts.sw);
    w.log.add(w.clock.now(), h.name, `listening on ${Sockaddr.format(l.listeningAddr)}`);
    return l;
  }

  protected async backendDatagramSocket(
    addr: DatagramAddr | UnboundDatagram,
    opts: DatagramOptions,
  ): Promise<DatagramSocket> {
    this.#alive();
    const h = this.#host;
    let local: UdpAddr;
    if (addr === "udpv4" || addr === "udpv6") {
      local = Sockaddr.udp(
        addr === "udpv4" ? Ipaddr.V4.any : Ipaddr.V6.any,
        h.ephemeralPort("udp"),
      );
    } else if (addr.type === "unix") {
      throw new IoError({
        kind: "Unknown",
        cause: new Error("EAFNOSUPPORT: the simulation has no Unix datagram sockets"),
      });
    } else {
      this.#checkLocal(addr.host);
      const port = addr.port === 0 ? h.ephemeralPort("udp") : addr.port;
      if (h.udp.has(port)) {
        throw new IoError({ kind: "AddressInUse", cause: new Error(`EADDRINUSE: port ${port}`) });
      }
      local = Sockaddr.udp(addr.host, port);
    }
    const s = new SimDatagramSocket(this.#world, h, local, (a) => this.#hostOf(a.host));
    s.attachToSwitch(opts.sw);
    return s;
  }

  protected async backendGetaddrinfo(
    host: string,
    service: string,
    _opts: BlockingOptions,
  ): Promise<Array<TcpAddr | UdpAddr>> {
    this.#alive();
    const port = portOf(service);
    let ips: Ipaddr[];
    if (host === "localhost") ips = [Ipaddr.V4.loopback];
    else {
      const h = this.#world.byName(host);
      if (h !== undefined) ips = this.#world.addressesOf(h);
      else {
        try {
          ips = [Ipaddr.parse(host)];
        } catch {
          throw notFound(`no host named ${JSON.stringify(host)} in the simulation`);
        }
      }
    }
    this.#world.log.add(
      this.#world.clock.now(),
      this.#host.name,
      `resolved ${JSON.stringify(host)} to ${ips.join(" ")}`,
    );
    return ips.flatMap((ip) => [Sockaddr.tcp(ip, port), Sockaddr.udp(ip, port)]);
  }

  protected async backendGetnameinfo(
    addr: TcpAddr | UdpAddr,
    _opts: BlockingOptions,
  ): Promise<[string, string]> {
    this.#alive();
    const h = addr.host.isLoopback() ? { name: "localhost" } : this.#world.byIp(addr.host);
    if (h === undefined) throw notFound(`no host has the address ${addr.host}`);
    const name = Object.entries(services).find(([, p]) => p === addr.port)?.[0];
    return [h.name, name ?? String(addr.port)];
  }
}
