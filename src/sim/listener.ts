/**
 * A simulated listening socket: connections the handshake completed wait in its accept queue
 * (bounded by the backlog: a SYN that finds it full is sent again later, as on Linux).
 * @module
 */
import { IoError, type Switch } from "../core/index.ts";
import {
  type AcceptOptions,
  checkSwitch,
  ListeningSocketBase,
  Sockaddr,
  type StreamAddr,
  type StreamSocket,
} from "../net/index.ts";
import type { SimHost } from "./host.ts";
import type { SimStreamSocket } from "./stream-socket.ts";
import { Waiters } from "./waiters.ts";
import type { World } from "./world.ts";

/** A listening socket on a simulated host. */
export class SimListeningSocket extends ListeningSocketBase {
  readonly #addr: StreamAddr;
  readonly #host: SimHost;
  readonly #world: World;
  readonly #limit: number;
  #queue: SimStreamSocket[] = [];
  readonly #waiters = new Waiters();
  #closed = false;
  #release: { remove(): void } | undefined = undefined;

  constructor(world: World, host: SimHost, addr: StreamAddr, backlog: number) {
    super();
    this.#world = world;
    this.#host = host;
    this.#addr = addr;
    this.#limit = Math.max(backlog, 1);
  }

  get listeningAddr(): StreamAddr {
    return this.#addr;
  }

  /** Whether the accept queue has no room (a new SYN must wait). */
  get full(): boolean {
    return this.#queue.length >= this.#limit;
  }

  /** Connections waiting to be accepted. */
  get queued(): number {
    return this.#queue.length;
  }

  /** A connection finished its handshake. */
  enqueue(s: SimStreamSocket): void {
    this.#queue.push(s);
    this.#waiters.wakeAll();
  }

  async accept(opts: AcceptOptions): Promise<[StreamSocket, StreamAddr]> {
    checkSwitch(opts?.sw, "accept");
    for (;;) {
      if (this.#closed) {
        throw new IoError({ kind: "Closed" }, [`accepting on ${Sockaddr.format(this.#addr)}`]);
      }
      const s = this.#queue.shift();
      if (s !== undefined) {
        s.attachToSwitch(opts.sw);
        if (opts.idleTimeout !== undefined) s.setIdleTimeout(opts.idleTimeout);
        this.#world.log.add(
          this.#world.clock.now(),
          this.#host.name,
          `accepted ${Sockaddr.format(s.peerAddr)} on ${Sockaddr.format(this.#addr)}`,
        );
        return [s, s.peerAddr];
      }
      await this.#waiters.wait(
        () => `${this.#host.name}: accept on ${Sockaddr.format(this.#addr)}`,
        opts.signal,
      );
    }
  }

  /** Closes the listener when `sw` finishes. */
  attachToSwitch(sw: Switch): void {
    this.#release = sw.onRelease(() => this.close());
  }

  /** Stops listening: queued connections are reset, the port is free again. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#release?.remove();
    this.#release = undefined;
    const a = this.#addr;
    if (a.type === "unix") {
      if (this.#host.unix.get(a.path) === this) this.#host.unix.delete(a.path);
    } else if (this.#host.listeners.get(a.port) === this) this.#host.listeners.delete(a.port);
    const queued = this.#queue;
    this.#queue = [];
    for (const s of queued) s.crash();
    this.#waiters.wakeAll();
    return Promise.resolve();
  }

  /** The host crashed: the same as closing, without a trace of the application doing it. */
  crash(): void {
    void this.close();
  }
}
