/**
 * One direction of a simulated TCP connection: the segments in flight from one host to
 * another, delivered in order (a segment never overtakes the one before it), after the link's
 * latency, held while the link is partitioned or held, retransmitted when lost.
 * @module
 */
import { Waiters } from "./waiters.ts";
import type { Link, NetHost, World } from "./world.ts";

/** Segment kinds. */
export const SYN = 0;
export const SYN_ACK = 1;
export const DATA = 2;
export const FIN = 3;
export const RST = 4;

const kindNames = ["syn", "syn-ack", "data", "fin", "rst"] as const;
const empty = new Uint8Array(0);

/** How long a lost segment waits before it is sent again, in ms. */
export const retransmitMs = 200;
/** How often a segment may be lost in a row before the connection is reset (tcp_retries2). */
const maxRetransmits = 15;

/** A TCP segment in flight. */
export interface Segment {
  readonly kind: number;
  readonly data: Uint8Array;
  /** When it may arrive (virtual ms). */
  ready: number;
  /** Held by the message hook until `sim.release`. */
  held: boolean;
  /** SYN: how often it has been sent again because the listener's queue was full. */
  tries: number;
}

/** One direction of a connection. */
export class Flow {
  readonly world: World;
  readonly from: NetHost;
  readonly to: NetHost;
  /** `db:5432 > test:49152`. */
  readonly label: string;
  /** `label` + ` data `, for the trace of each data segment. */
  readonly dataLabel: string;
  /** Within one host (loopback or Unix): no latency, no faults. */
  readonly local: boolean;
  /** Called with each segment as it arrives, in order. */
  deliver: (seg: Segment) => void = () => {};
  /** Bytes sent but not yet read by the receiver: what `tcpCapacity` bounds. */
  outstanding = 0;
  /** Writers waiting for room (`outstanding` below `tcpCapacity`). */
  readonly writers = new Waiters();
  readonly #link: Link | undefined;
  #q: Segment[] = [];
  #head = 0;
  #last = 0;
  #pending = false;
  #parked = false;

  /** The sender's and receiver's addresses, as text (for the message hook). */
  readonly src: string;
  readonly dst: string;

  constructor(world: World, from: NetHost, to: NetHost, label: string, src: string, dst: string) {
    this.world = world;
    this.src = src;
    this.dst = dst;
    this.from = from;
    this.to = to;
    this.label = label;
    this.dataLabel = `${label} data `;
    this.local = from === to;
    this.#link = this.local ? undefined : world.link(from, to);
  }

  /** Segments not yet delivered. */
  get inFlight(): number {
    return this.#q.length - this.#head;
  }

  /**
   * Sends a segment: it arrives after the latency (and after the segment before it), unless the
   * hook or a loss delays it. Returns false if it was lost too often: the caller resets.
   */
  send(kind: number, data: Uint8Array = empty): boolean {
    const w = this.world;
    const now = w.clock.now();
    const seg: Segment = { kind, data, ready: now, held: false, tries: 0 };
    w.counters.sent++;
    w.counters.tcpSegments++;
    w.counters.tcpBytes += data.length;
    if (!this.local) {
      let ready = now + w.latency();
      const v =
        w.hook === undefined
          ? "deliver"
          : w.verdict({
              time: now,
              protocol: "tcp",
              kind: kindNames[kind] as (typeof kindNames)[number],
              from: this.from.name,
              to: this.to.name,
              label: this.label,
              src: this.src,
              dst: this.dst,
              data,
            });
      if (v === "hold") seg.held = true;
      else if (v === "drop") {
        ready += retransmitMs;
        w.event(`${this.label} ${kindNames[kind]} lost (hook), sent again`);
      } else if (typeof v === "object") ready += v.delay;
      let lost = 0;
      while (w.rng.chance(w.config.dropRate)) {
        if (++lost > maxRetransmits) return false;
        ready += retransmitMs;
      }
      if (lost > 0) w.event(`${this.label} ${kindNames[kind]} lost ${lost}x, sent again`);
      seg.ready = ready > this.#last ? ready : this.#last;
    } else if (this.#last > now) seg.ready = this.#last;
    this.#last = seg.ready;
    this.#q.push(seg);
    this.#schedule();
    return true;
  }

  /** Sends `seg` again after `ms` (a SYN the listener had no room for). */
  retry(seg: Segment, ms: number): void {
    seg.ready = this.world.clock.now() + ms;
    seg.tries++;
    if (seg.ready > this.#last) this.#last = seg.ready;
    this.world.counters.tcpSegments++;
    this.#q.push(seg);
    this.#schedule();
  }

  /** Forgets every segment not yet delivered (the connection is gone). */
  clear(): void {
    const c = this.world.counters;
    for (let i = this.#head; i < this.#q.length; i++) {
      const s = this.#q[i] as Segment;
      c.tcpSegments--;
      c.tcpBytes -= s.data.length;
    }
    this.#q = [];
    this.#head = 0;
  }

  #schedule(): void {
    if (this.#pending || this.#parked || this.#head >= this.#q.length) return;
    this.#pending = true;
    const at = (this.#q[this.#head] as Segment).ready;
    const now = this.world.clock.now();
    this.world.clock.at(at > now ? at : now, this.#fire);
  }

  readonly #fire = (): void => {
    this.#pending = false;
    const w = this.world;
    const now = w.clock.now();
    const link = this.#link;
    while (this.#head < this.#q.length) {
      const seg = this.#q[this.#head] as Segment;
      if (seg.ready > now) break;
      if (link !== undefined && (seg.held || link.blocked)) {
        this.#park(link);
        return;
      }
      this.#head++;
      if (this.#head > 64 && this.#head * 2 > this.#q.length) {
        this.#q = this.#q.slice(this.#head);
        this.#head = 0;
      }
      w.counters.tcpSegments--;
      w.counters.tcpBytes -= seg.data.length;
      w.counters.delivered++;
      this.deliver(seg);
    }
    this.#schedule();
  };

  #park(link: Link): void {
    this.#parked = true;
    link.parked.push({
      kind: "tcp",
      size: () => this.inFlight,
      release: () => this.releaseHeld(),
      resume: () => {
        this.#parked = false;
        const head = this.#q[this.#head];
        if (head !== undefined && !link.blocked) {
          // Retransmitted once the link works again: it arrives after a fresh latency.
          head.ready = this.world.clock.now() + this.world.latency();
          if (head.ready > this.#last) this.#last = head.ready;
        }
        this.#schedule();
      },
    });
  }

  /** `sim.release`: segments held by the hook on this flow go on. */
  releaseHeld(): void {
    for (let i = this.#head; i < this.#q.length; i++) {
      const s = this.#q[i] as Segment;
      s.held = false;
    }
  }
}

/** The name of a segment kind, for traces. */
export function kindName(kind: number): string {
  return kindNames[kind] ?? "?";
}
