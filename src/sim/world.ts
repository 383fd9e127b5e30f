/**
 * The simulated world: hosts with their addresses (the DNS), the links between them and their
 * faults, the message hook, the counters behind `sim.netstat()`, and the virtual clock every
 * network event is scheduled on.
 * @module
 */

import type { MockClock } from "../mock/clock.ts";
import { Ipaddr } from "../net/index.ts";
import type { Config } from "./options.ts";
import type { Rng } from "./rng.ts";
import type { TraceLog } from "./trace-log.ts";

/** What the message hook sees of each message as it is sent. */
export interface SimMessage {
  /** Virtual time of the send, in ms. */
  readonly time: number;
  readonly protocol: "tcp" | "udp";
  /** `syn`, `syn-ack`, `data`, `fin`, `rst` (TCP) or `datagram` (UDP). */
  readonly kind: "syn" | "syn-ack" | "data" | "fin" | "rst" | "datagram";
  /** The sending host's name. */
  readonly from: string;
  /** The receiving host's name. */
  readonly to: string;
  /** `host:port > host:port`, as in the trace. */
  readonly label: string;
  /** The sender's address (`tcp:10.0.0.2:49152`, `udp:[fd00::2]:53`). */
  readonly src: string;
  /** The receiver's address. */
  readonly dst: string;
  /** The payload (data segments and datagrams; empty otherwise). Do not modify it. */
  readonly data: Uint8Array;
}

/**
 * What the hook decides for a message: deliver it as usual (`"deliver"` or `undefined`), drop it
 * (a TCP segment is then retransmitted later, as TCP does; a datagram is lost), hold it until
 * `sim.release(from, to)`, or delay it by extra ms.
 */
export type MessageVerdict = "deliver" | "drop" | "hold" | { readonly delay: number } | undefined;

/** The message hook: sees each message as it is sent and may hold, drop or delay it. */
export type MessageHook = (msg: SimMessage) => MessageVerdict;

/** Something parked on a link until it is repaired or released. */
export interface Parked {
  /** A TCP flow (its segments waiting) or one datagram. */
  readonly kind: "tcp" | "udp";
  /** How many messages wait. */
  size(): number;
  /** `sim.release`: what the hook held goes on too. */
  release(): void;
  /** Try again (the link changed). */
  resume(): void;
}

/** The state of one direction of a link between two different hosts. */
export class Link {
  partitioned = false;
  held = false;
  /** Flows and datagrams waiting for the link. */
  parked: Parked[] = [];

  get blocked(): boolean {
    return this.partitioned || this.held;
  }
}

/** Host state the network needs (the rest is in `host.ts`). */
export interface NetHost {
  readonly name: string;
  readonly ip: Ipaddr;
  /** The IPv6 address, with the `ipv6` option. */
  readonly ip6: Ipaddr | undefined;
  /** Whether the host is running (not crashed, not yet started counts as up for the network). */
  readonly up: boolean;
}

/** Counters of what is in the network now. */
export class Counters {
  tcpSegments = 0;
  tcpBytes = 0;
  datagrams = 0;
  /** Messages of each kind sent since the start. */
  sent = 0;
  delivered = 0;
  dropped = 0;
  /** The number of the last datagram sent (datagrams are numbered in traces). */
  datagramIds = 0;
}

/** The whole network of one simulation. */
export class World {
  readonly config: Config;
  readonly clock: MockClock;
  readonly rng: Rng;
  readonly log: TraceLog;
  readonly counters = new Counters();
  hook: MessageHook | undefined = undefined;
  readonly #byName = new Map<string, NetHost>();
  readonly #byIp = new Map<string, NetHost>();
  readonly #links = new Map<string, Link>();

  constructor(config: Config, clock: MockClock, rng: Rng, log: TraceLog) {
    this.config = config;
    this.clock = clock;
    this.rng = rng;
    this.log = log;
  }

  /** The next address to give a host: 10.0.0.1, 10.0.0.2, ... */
  nextIp(): Ipaddr {
    const n = this.#byName.size + 1;
    return Ipaddr.ofRaw(Uint8Array.of(10, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff));
  }

  /** The next IPv6 address, with the `ipv6` option: fd00::1, fd00::2, ... */
  nextIp6(): Ipaddr | undefined {
    if (!this.config.ipv6) return undefined;
    const n = this.#byName.size + 1;
    const raw = new Uint8Array(16);
    raw[0] = 0xfd;
    raw[13] = (n >> 16) & 0xff;
    raw[14] = (n >> 8) & 0xff;
    raw[15] = n & 0xff;
    return Ipaddr.ofRaw(raw);
  }

  /** The addresses of `h`, IPv4 first. */
  addressesOf(h: NetHost): Ipaddr[] {
    return h.ip6 === undefined ? [h.ip] : [h.ip, h.ip6];
  }

  /** Registers a host (its name and address in the DNS). */
  add(h: NetHost): void {
    this.#byName.set(h.name, h);
    this.#byIp.set(h.ip.toString(), h);
    if (h.ip6 !== undefined) this.#byIp.set(h.ip6.toString(), h);
  }

  /** The host named `name`, if any. */
  byName(name: string): NetHost | undefined {
    return this.#byName.get(name);
  }

  /** The host with address `ip`, if any. */
  byIp(ip: Ipaddr): NetHost | undefined {
    return this.#byIp.get(ip.toString());
  }

  /** Every host, in the order they were added. */
  hosts(): NetHost[] {
    return [...this.#byName.values()];
  }

  /** The direction `from` → `to` of their link. */
  link(from: NetHost, to: NetHost): Link {
    const key = `${from.name}>${to.name}`;
    let l = this.#links.get(key);
    if (l === undefined) {
      l = new Link();
      this.#links.set(key, l);
    }
    return l;
  }

  /** Messages waiting now on a held or partitioned link (or held by the hook). */
  held(): { tcpSegments: number; datagrams: number } {
    let tcpSegments = 0;
    let datagrams = 0;
    for (const l of this.#links.values()) {
      for (const p of l.parked) {
        if (p.kind === "tcp") tcpSegments += p.size();
        else datagrams += p.size();
      }
    }
    return { tcpSegments, datagrams };
  }

  /** Resumes what waits on `l` (after a repair or release). */
  unblock(l: Link): void {
    const parked = l.parked;
    l.parked = [];
    for (const p of parked) p.resume();
  }

  /** A one-way latency drawn from the options, in ms. */
  latency(): number {
    const { latencyMin: min, latencyMax: max } = this.config;
    return min === max ? min : this.rng.int(min, max);
  }

  /** The hook's verdict on a message (callers skip it when {@link hook} is undefined). */
  verdict(msg: SimMessage): MessageVerdict {
    const hook = this.hook;
    if (hook === undefined) return "deliver";
    const v = hook(msg);
    if (v === undefined || v === "deliver" || v === "drop" || v === "hold") return v;
    if (typeof v === "object" && v !== null && typeof v.delay === "number" && v.delay >= 0) {
      return v;
    }
    throw new TypeError(
      `the message hook must return "deliver", "drop", "hold", { delay } or undefined, got ${JSON.stringify(v)}`,
    );
  }

  /** Records a network event in the trace. */
  event(what: string): void {
    this.log.add(this.clock.now(), "net", what);
  }
}
