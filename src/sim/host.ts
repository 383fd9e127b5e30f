/**
 * A simulated host's network state: its address, its listeners, sockets and ports, and
 * whether it is up. What runs on it (its function, its fibers) is in `sim.ts`.
 * @module
 */
import type { Ipaddr } from "../net/index.ts";
import type { SimListeningSocket } from "./listener.ts";
import type { SimStreamSocket } from "./stream-socket.ts";
import type { SimDatagramSocket } from "./udp.ts";
import type { NetHost } from "./world.ts";

const firstEphemeral = 49152;

/** One host of the simulation, as the network sees it. */
export class SimHost implements NetHost {
  readonly name: string;
  readonly ip: Ipaddr;
  readonly ip6: Ipaddr | undefined;
  readonly role: "host" | "client";
  status: "new" | "up" | "crashed" | "done" = "new";
  /** Incremented at each start: the sockets of an earlier life are dead. */
  epoch = 0;
  readonly listeners = new Map<number, SimListeningSocket>();
  readonly unix = new Map<string, SimListeningSocket>();
  readonly udp = new Map<number, SimDatagramSocket>();
  readonly sockets = new Set<SimStreamSocket>();
  #nextPort = firstEphemeral;

  constructor(name: string, ip: Ipaddr, ip6: Ipaddr | undefined, role: "host" | "client") {
    this.name = name;
    this.ip = ip;
    this.ip6 = ip6;
    this.role = role;
  }

  /** Whether `ip` is one of the host's own addresses (not loopback). */
  owns(ip: Ipaddr): boolean {
    return ip.equals(this.ip) || (this.ip6 !== undefined && ip.equals(this.ip6));
  }

  /** The host's address of `ip`'s family (IPv4 without the `ipv6` option). */
  addressLike(ip: Ipaddr): Ipaddr {
    return ip.family === 6 && this.ip6 !== undefined ? this.ip6 : this.ip;
  }

  get up(): boolean {
    return this.status !== "crashed";
  }

  /** A port for an outgoing connection or an unbound socket (49152..65535, then around). */
  ephemeralPort(kind: "tcp" | "udp"): number {
    for (let i = 0; i < 16384; i++) {
      const p = this.#nextPort;
      this.#nextPort = p === 65535 ? firstEphemeral : p + 1;
      if (kind === "tcp" ? !this.listeners.has(p) : !this.udp.has(p)) return p;
    }
    throw new RangeError(`host ${this.name} has no free ${kind} port`);
  }
}
