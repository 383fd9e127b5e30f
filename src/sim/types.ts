/**
 * The contracts of `weir/sim`: what a host's function receives, and what `sim.netstat()`
 * reports.
 * @module
 */
import type { Clock } from "../core/index.ts";
import type { MockDomainManager } from "../mock/domain-manager.ts";
import type { Env, Ipaddr, Net } from "../net/index.ts";

/** What a host's (or client's) function receives: this host's capabilities. */
export interface SimEnv extends Env {
  /** The host's network: the `Net` contract over the simulated network. */
  readonly net: Net;
  /** Virtual wall clock (ms since the start of the run; off by up to `clockSkew` ms). */
  readonly clock: Clock;
  /** Virtual monotonic clock (the same time as `clock`). */
  readonly monoClock: Clock;
  /** Fake domains (fibers), as the mock's. */
  readonly domainMgr: MockDomainManager;
  /** The host's name (also its name in the simulation's DNS). */
  readonly name: string;
  /** The host's address. */
  readonly ip: Ipaddr;
  /** The host's IPv6 address (with the `ipv6` option). */
  readonly ip6: Ipaddr | undefined;
}

/** A host's or client's function. */
export type HostFn = (env: SimEnv) => unknown;

/** What `sim.netstat()` tells about one host. */
export interface HostStat {
  readonly status: "new" | "up" | "crashed" | "done";
  /** Open TCP connections (established, not reset). */
  readonly established: number;
  /** Listening sockets (TCP and Unix). */
  readonly listening: number;
  /** Open UDP sockets. */
  readonly udp: number;
}

/** What `sim.netstat()` returns: what is in flight and held now, and totals so far. */
export interface NetStat {
  readonly time: number;
  readonly hosts: Readonly<Record<string, HostStat>>;
  readonly inFlight: {
    readonly tcpSegments: number;
    readonly tcpBytes: number;
    readonly datagrams: number;
  };
  readonly held: { readonly tcpSegments: number; readonly datagrams: number };
  readonly sent: number;
  readonly delivered: number;
  readonly dropped: number;
}

/** The reason a crashed host's fibers are cancelled with. */
export class HostCrashed extends Error {
  constructor(name: string) {
    super(`host ${JSON.stringify(name)} crashed`);
    this.name = "HostCrashed";
  }
}
