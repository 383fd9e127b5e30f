/**
 * A simulated UDP socket: each datagram travels alone, after its own latency (so datagrams
 * may be reordered), and may be lost (`dropRate`, a partition, a crashed host, a full queue at
 * the receiver) or duplicated (`duplicateRate`).
 * @module
 */
import { type BlockingOptions, IoError, type Switch } from "../core/index.ts";
import { checkReadBuffer, checkWriteBuffers } from "../mock/checks.ts";
import {
  type DatagramAddr,
  type DatagramSocket,
  type RecvResult,
  type SendOptions,
  Sockaddr,
  type UdpAddr,
} from "../net/index.ts";
import { resolveNamed } from "./dns.ts";
import type { SimHost } from "./host.ts";
import { Waiters } from "./waiters.ts";
import type { World } from "./world.ts";

const maxDatagram = 65507;
/** The most messages a held link keeps (more datagrams are lost, as a router's queue drops). */
const maxParked = 4096;

/** Resolves a destination address to its host (loopback: the sender's own). */
export type HostOfIp = (addr: UdpAddr) => SimHost | undefined;

/** A datagram socket bound to a port of a simulated host. */
export class SimDatagramSocket implements DatagramSocket {
  readonly localAddr: UdpAddr;
  readonly #world: World;
  readonly #host: SimHost;
  readonly #hostOf: HostOfIp;
  #queue: Array<{ from: UdpAddr; data: Uint8Array }> = [];
  readonly #readers = new Waiters();
  #closed = false;
  #release: { remove(): void } | undefined = undefined;

  constructor(world: World, host: SimHost, local: UdpAddr, hostOf: HostOfIp) {
    this.#world = world;
    this.#host = host;
    this.localAddr = local;
    this.#hostOf = hostOf;
    host.udp.set(local.port, this);
  }

  /** Datagrams waiting to be received. */
  get queued(): number {
    return this.#queue.length;
  }

  #label(): string {
    return `${this.#host.name}:${this.localAddr.port}`;
  }

  async send(bufs: readonly Uint8Array[], opts?: SendOptions): Promise<void> {
    checkWriteBuffers(bufs);
    if (opts?.dst === undefined) {
      throw new TypeError("send: option dst is required (the socket is not connected)");
    }
    const dst = Sockaddr.datagram(resolveNamed(this.#world, opts.dst));
    if (dst.type !== "udp")
      throw new TypeError(`send: dst must be a UDP address, got ${Sockaddr.format(dst)}`);
    if (this.#closed) {
      throw new IoError({ kind: "Closed" }, [`sending to ${Sockaddr.format(dst)}`]);
    }
    let size = 0;
    for (const b of bufs) size += b.length;
    if (size > maxDatagram) {
      throw new IoError({ kind: "Unknown", cause: new Error(`EMSGSIZE: ${size} bytes`) }, [
        `sending to ${Sockaddr.format(dst)}`,
      ]);
    }
    const data = new Uint8Array(size);
    let off = 0;
    for (const b of bufs) {
      data.set(b, off);
      off += b.length;
    }
    const w = this.#world;
    const to = this.#hostOf(dst);
    const id = ++w.counters.datagramIds;
    const label = `${this.#label()} > ${to?.name ?? dst.host.toString()}:${dst.port} datagram #${id} (${size} B)`;
    w.counters.sent++;
    if (to === undefined) {
      w.counters.dropped++;
      w.event(`${label} lost: no such host`);
      return;
    }
    const local = to === this.#host;
    const from = Sockaddr.udp(
      local && dst.host.isLoopback() ? dst.host : this.#host.addressLike(dst.host),
      this.localAddr.port,
    );
    const now = w.clock.now();
    let extra = 0;
    let held = false;
    if (!local) {
      const v =
        w.hook === undefined
          ? "deliver"
          : w.verdict({
              time: now,
              protocol: "udp",
              kind: "datagram",
              from: this.#host.name,
              to: to.name,
              label,
              src: Sockaddr.format(from),
              dst: Sockaddr.format(dst),
              data,
            });
      if (v === "drop" || w.rng.chance(w.config.dropRate)) {
        w.counters.dropped++;
        w.event(`${label} lost`);
        return;
      }
      if (v === "hold") held = true;
      else if (typeof v === "object") extra = v.delay;
    }
    const copies = !local && w.rng.chance(w.config.duplicateRate) ? 2 : 1;
    if (copies === 2) w.event(`${label} duplicated`);
    for (let i = 0; i < copies; i++) {
      w.counters.datagrams++;
      const at = now + (local ? 0 : w.latency()) + extra;
      const deliver = (): void =>
        deliverDatagram(w, this.#host, to, dst.port, from, data, label, held);
      w.clock.at(at, deliver);
    }
  }

  /** A datagram arrived for this socket. */
  arrive(from: UdpAddr, data: Uint8Array, label: string): void {
    const w = this.#world;
    if (this.#queue.length >= w.config.udpCapacity) {
      w.counters.dropped++;
      w.event(`${label} lost: receive queue full`);
      return;
    }
    w.counters.delivered++;
    w.event(label);
    this.#queue.push({ from, data });
    this.#readers.wakeAll();
  }

  async recv(buf: Uint8Array, opts?: BlockingOptions): Promise<RecvResult> {
    checkReadBuffer(buf);
    for (;;) {
      if (this.#closed) throw new IoError({ kind: "Closed" }, [`receiving on ${this.#label()}`]);
      const d = this.#queue.shift();
      if (d !== undefined) {
        const n = Math.min(buf.length, d.data.length);
        buf.set(d.data.subarray(0, n));
        const r: [DatagramAddr, number] = [d.from, n];
        return Object.assign(r, { truncated: d.data.length > buf.length });
      }
      await this.#readers.wait(() => `${this.#host.name}: recv on ${this.#label()}`, opts?.signal);
    }
  }

  /** Closes the socket when `sw` finishes. */
  attachToSwitch(sw: Switch): void {
    this.#release = sw.onRelease(() => this.close());
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#release?.remove();
    this.#release = undefined;
    if (this.#host.udp.get(this.localAddr.port) === this)
      this.#host.udp.delete(this.localAddr.port);
    this.#queue = [];
    this.#readers.wakeAll();
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function deliverDatagram(
  w: World,
  fromHost: SimHost,
  to: SimHost,
  port: number,
  from: UdpAddr,
  data: Uint8Array,
  label: string,
  held: boolean,
): void {
  if (fromHost !== to) {
    const link = w.link(fromHost, to);
    if (held || link.held) {
      if (link.parked.length >= maxParked) {
        w.counters.datagrams--;
        w.counters.dropped++;
        w.event(`${label} lost: ${maxParked} messages already held on the link`);
        return;
      }
      link.parked.push({
        kind: "udp",
        size: () => 1,
        release: () => {
          held = false;
        },
        resume: () => {
          deliverDatagram(w, fromHost, to, port, from, data, label, held);
        },
      });
      return;
    }
    if (link.partitioned) {
      w.counters.datagrams--;
      w.counters.dropped++;
      w.event(`${label} lost: partitioned`);
      return;
    }
  }
  w.counters.datagrams--;
  const sock = to.up ? to.udp.get(port) : undefined;
  if (sock === undefined) {
    w.counters.dropped++;
    w.event(`${label} lost: ${to.up ? "nobody listens" : "host down"}`);
    return;
  }
  sock.arrive(from, data, label);
}
