/**
 * `Sim`: a deterministic simulation of a network of hosts in one process, on virtual time,
 * with faults (turmoil for TypeScript). Every host runs its function with its own `env`
 * (`env.net` on the simulated network, virtual clocks); the run ends when every client has
 * returned. Scheduling is the mock backend's (one fiber at a time, the clock jumping when all
 * wait), so the same seed gives the same run, event for event.
 * @module
 */
import {
  CancelContext,
  type FiberContext,
  isCancelled,
  runInFiber,
  type TraceSink,
} from "../core/index.ts";
import { Monitor } from "../core/monitor.ts";
import { MockClock } from "../mock/clock.ts";
import { MockDomainManager } from "../mock/domain-manager.ts";
import { type DeadlockDetected, MockScheduler } from "../mock/scheduler.ts";
import type { Ipaddr } from "../net/index.ts";
import { SimHost } from "./host.ts";
import { type Config, configOf, type SimOptions } from "./options.ts";
import { Rng } from "./rng.ts";
import { SimFailure } from "./sim-failure.ts";
import { SimNet } from "./sim-net.ts";
import { TraceLog } from "./trace-log.ts";
import { HostCrashed, type HostFn, type HostStat, type NetStat, type SimEnv } from "./types.ts";
import { VirtualClock } from "./virtual-clock.ts";
import { type MessageHook, World } from "./world.ts";

/** A host's monitor: a raised error fails the run at once (unless the host has crashed). */
class HostMonitor extends Monitor {
  readonly #onRaise: (err: unknown) => void;

  constructor(cc: CancelContext, onRaise: (err: unknown) => void) {
    super(cc);
    this.#onRaise = onRaise;
  }

  override raise(err: unknown): boolean {
    this.#onRaise(err);
    return true;
  }
}

class SimStopped extends Error {
  constructor() {
    super("the simulation has ended");
    this.name = "SimStopped";
  }
}

interface Entry {
  readonly host: SimHost;
  readonly fn: HostFn;
  cc: CancelContext | undefined;
}

function checkName(name: unknown, what: string): asserts name is string {
  if (typeof name !== "string")
    throw new TypeError(`${what}: name must be a string, got ${typeof name}`);
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name) || name === "localhost") {
    throw new TypeError(
      `${what}: name must be a host name (letters, digits, "_", ".", "-"; not "localhost"), got ${JSON.stringify(name)}`,
    );
  }
}

/** A simulation. Make one with `Sim.create`. */
export class Sim {
  readonly #config: Config;
  readonly #clock = new MockClock({ trace: false });
  readonly #vclock = new VirtualClock(this.#clock);
  readonly #log: TraceLog;
  readonly #world: World;
  readonly #entries = new Map<string, Entry>();
  #state: "new" | "running" | "ending" | "done" = "new";
  #scheduler: MockScheduler | undefined = undefined;
  #root: FiberContext | undefined = undefined;
  #clientsLeft = 0;
  #live = 0;
  #error: SimFailure | undefined = undefined;
  #settle: ((e: SimFailure | undefined) => void) | undefined = undefined;
  #cancelDuration: (() => void) | undefined = undefined;

  /** Prefer `Sim.create`. */
  constructor(opts: SimOptions) {
    this.#config = configOf(opts);
    this.#log = new TraceLog(this.#config.traceLimit);
    this.#world = new World(this.#config, this.#clock, new Rng(this.#config.seed), this.#log);
  }

  /**
   * A new simulation (nothing runs until {@link run}).
   * @throws TypeError/RangeError for a bad option, naming it.
   * @example
   * ```ts
   * const sim = Sim.create({ seed: 7, latency: { min: 1, max: 20 } });
   * ```
   */
  static create(opts: SimOptions): Sim {
    return new Sim(opts);
  }

  /** The seed of the run. */
  get seed(): number {
    return this.#config.seed;
  }

  /** Where the run is: not started, running, stopping its hosts, or finished. */
  get state(): "new" | "running" | "ending" | "done" {
    return this.#state;
  }

  /** The virtual time now, in ms. */
  get now(): number {
    return this.#clock.now();
  }

  #add(name: string, fn: HostFn, role: "host" | "client"): void {
    const what = `sim.${role}`;
    checkName(name, what);
    if (typeof fn !== "function")
      throw new TypeError(`${what}: fn must be a function, got ${typeof fn}`);
    if (this.#entries.has(name))
      throw new TypeError(`${what}: there is already a host named ${JSON.stringify(name)}`);
    if (this.#state !== "new") throw new Error(`${what}: hosts are added before sim.run()`);
    const host = new SimHost(name, this.#world.nextIp(), this.#world.nextIp6(), role);
    this.#world.add(host);
    this.#entries.set(name, { host, fn, cc: undefined });
    if (role === "client") this.#clientsLeft++;
  }

  /**
   * Adds a server host named `name` (its name in the DNS), running `fn(env)` from the start of
   * the run until the run ends (then it is cancelled). `sim.bounce` restarts it.
   * @throws TypeError for a bad or taken name, or if `fn` is not a function.
   * @example
   * ```ts
   * sim.host("db", async (env) => {
   *   await Switch.run(async (sw) => {
   *     const l = await env.net.listen("tcp:0.0.0.0:5432", { sw, backlog: 16 });
   *     for (;;) await l.acceptFork({ sw, onError: console.error }, serve);
   *   });
   * });
   * ```
   */
  host(name: string, fn: HostFn): void {
    this.#add(name, fn, "host");
  }

  /**
   * Adds a client host: the run ends when every client's `fn` has returned; a client that
   * throws fails the run.
   * @throws TypeError for a bad or taken name, or if `fn` is not a function.
   * @example
   * ```ts
   * sim.client("test", async (env) => {
   *   await Tcp.withConnection(Tcp.WhereToConnect.hostAndPort("db", 5432), talk);
   * });
   * ```
   */
  client(name: string, fn: HostFn): void {
    this.#add(name, fn, "client");
  }

  /**
   * Runs the simulation on virtual time until every client has returned, then cancels the
   * hosts and resolves.
   * @throws SimFailure (with the seed in its message, and the first error as `cause`) if a
   *   client or host throws, the run passes `durationMs`, or it deadlocks; Error if called twice
   *   or without clients.
   * @example
   * ```ts
   * await sim.run(); // rejects with "simulation with seed 7 failed at 120 ms: ..."
   * ```
   */
  run(): Promise<void> {
    if (this.#state !== "new")
      return Promise.reject(new Error("sim.run() may be called only once"));
    if (this.#clientsLeft === 0) {
      return Promise.reject(new Error("sim.run(): no clients; add one with sim.client(name, fn)"));
    }
    this.#state = "running";
    const scheduler = new MockScheduler();
    this.#scheduler = scheduler;
    return new Promise<void>((resolve, reject) => {
      this.#settle = (e) => (e === undefined ? resolve() : reject(e));
      const root = scheduler.start(this.#sink("sim"), this.#clock, (e) => this.#deadlocked(e));
      this.#root = root;
      runInFiber(root, () => {
        const d = this.#config.durationMs;
        if (d !== Infinity) {
          this.#cancelDuration = this.#clock.at(d, () => {
            const waiting = scheduler.waitingOps();
            this.#fail(
              new Error(
                `the clients did not finish within durationMs (${d} ms of virtual time)${waiting.length > 0 ? `; still waiting: ${waiting.join(", ")}` : ""}`,
              ),
            );
          });
        }
        for (const e of this.#entries.values()) this.#start(e);
      });
    });
  }

  #sink(who: string): TraceSink {
    return {
      write: (text) => {
        for (const line of text.split("\n")) this.#log.add(this.#clock.now(), who, line);
      },
    };
  }

  #start(e: Entry): void {
    const root = this.#root as FiberContext;
    const h = e.host;
    h.epoch++;
    h.status = "up";
    const cc = new CancelContext(root.cc);
    e.cc = cc;
    const skew = this.#config.clockSkew;
    const offset = skew === 0 ? 0 : this.#world.rng.int(-skew, skew);
    const env: SimEnv = {
      net: new SimNet(this.#world, h),
      clock: offset === 0 ? this.#vclock : new VirtualClock(this.#clock, offset),
      monoClock: this.#vclock,
      domainMgr: new MockDomainManager(),
      name: h.name,
      ip: h.ip,
      ip6: h.ip6,
    };
    const epoch = h.epoch;
    // As run()'s monitor: what a Tcp.Server with onHandlerError "raise" raises fails the run.
    const monitor = new HostMonitor(cc, (err) => {
      if (h.epoch === epoch && h.status === "up") {
        this.#fail(err, `${h.role} ${JSON.stringify(h.name)} failed`);
      }
    });
    const ctx: FiberContext = {
      cc,
      trace: this.#sink(h.name),
      tracePrefix: "",
      scheduler: this.#scheduler as MockScheduler,
      env,
      monitor,
    };
    this.#log.add(this.#clock.now(), h.name, h.epoch === 1 ? "start" : `restart (life ${h.epoch})`);
    this.#live++;
    let p: Promise<unknown>;
    try {
      p = Promise.resolve(runInFiber(ctx, () => e.fn(env)));
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(
      () => this.#exited(e, epoch, cc, undefined, false),
      (err: unknown) => this.#exited(e, epoch, cc, err, true),
    );
  }

  #exited(e: Entry, epoch: number, cc: CancelContext, err: unknown, failed: boolean): void {
    this.#live--;
    cc.finish();
    const h = e.host;
    const crashed = h.status === "crashed" || h.epoch !== epoch;
    if (this.#state === "running" && !crashed) {
      if (failed && !isCancelled(err)) {
        this.#fail(err, `${h.role} ${JSON.stringify(h.name)} failed`);
      } else if (h.role === "client") {
        h.status = "done";
        this.#log.add(this.#clock.now(), h.name, "returned");
        if (--this.#clientsLeft === 0) this.#end();
      } else {
        this.#log.add(this.#clock.now(), h.name, "returned");
      }
    }
    if (this.#state === "ending" && this.#live === 0) this.#complete();
  }

  #fail(err: unknown, what?: string): void {
    if (this.#state !== "running") return;
    this.#error = new SimFailure(this.#config.seed, this.#clock.now(), err, what);
    this.#log.add(this.#clock.now(), "sim", `failed: ${this.#error.reason}`);
    this.#end();
  }

  #end(): void {
    this.#state = "ending";
    this.#cancelDuration?.();
    try {
      (this.#root as FiberContext).cc.kill(new SimStopped());
    } catch {
      // a cancel hook failed while everything stops: the run's own outcome matters more
    }
    if (this.#live === 0) this.#complete();
  }

  #complete(): void {
    if (this.#state === "done") return;
    this.#state = "done";
    this.#scheduler?.finish();
    this.#settle?.(this.#error);
  }

  #deadlocked(e: DeadlockDetected): void {
    // The scheduler has stopped itself: nothing more will run deterministically.
    if (this.#state === "running") {
      this.#error = new SimFailure(this.#config.seed, this.#clock.now(), e);
      this.#log.add(this.#clock.now(), "sim", `failed: ${this.#error.reason}`);
    }
    this.#state = "done";
    try {
      (this.#root as FiberContext).cc.kill(new SimStopped());
    } catch {
      // as in #end
    }
    this.#settle?.(this.#error);
  }

  #entry(name: unknown, what: string): Entry {
    checkName(name, what);
    const e = this.#entries.get(name);
    if (e === undefined) throw new TypeError(`${what}: no host named ${JSON.stringify(name)}`);
    return e;
  }

  #pair(a: string, b: string, what: string): [SimHost, SimHost] {
    const ha = this.#entry(a, what).host;
    const hb = this.#entry(b, what).host;
    if (ha === hb)
      throw new TypeError(`${what}: a host has no link to itself, got ${JSON.stringify(a)} twice`);
    return [ha, hb];
  }

  /**
   * Cuts the link between `a` and `b` both ways: datagrams are lost, TCP segments wait (as TCP
   * retransmits) until {@link repair}, so reads and connects wait and time out on virtual time.
   * @throws TypeError naming an unknown host.
   * @example
   * ```ts
   * sim.partition("leader", "follower");
   * await env.clock.sleep(5000);
   * sim.repair("leader", "follower");
   * ```
   */
  partition(a: string, b: string): void {
    const [ha, hb] = this.#pair(a, b, "sim.partition");
    this.#world.link(ha, hb).partitioned = true;
    this.#world.link(hb, ha).partitioned = true;
    this.#log.add(this.#clock.now(), "net", `partition ${a} <-> ${b}`);
  }

  /** Cuts the link from `from` to `to` only. @throws TypeError naming an unknown host. */
  partitionOneWay(from: string, to: string): void {
    const [ha, hb] = this.#pair(from, to, "sim.partitionOneWay");
    this.#world.link(ha, hb).partitioned = true;
    this.#log.add(this.#clock.now(), "net", `partition ${from} -> ${to}`);
  }

  /** Repairs the link between `a` and `b` (both ways); what waited goes on. */
  repair(a: string, b: string): void {
    const [ha, hb] = this.#pair(a, b, "sim.repair");
    this.#log.add(this.#clock.now(), "net", `repair ${a} <-> ${b}`);
    for (const l of [this.#world.link(ha, hb), this.#world.link(hb, ha)]) {
      l.partitioned = false;
      this.#world.unblock(l);
    }
  }

  /**
   * Holds every message between `a` and `b` (both ways, TCP and UDP) until {@link release}:
   * then they arrive, in order.
   */
  hold(a: string, b: string): void {
    const [ha, hb] = this.#pair(a, b, "sim.hold");
    this.#world.link(ha, hb).held = true;
    this.#world.link(hb, ha).held = true;
    this.#log.add(this.#clock.now(), "net", `hold ${a} <-> ${b}`);
  }

  /** Releases what {@link hold} (or the message hook) held between `a` and `b`. */
  release(a: string, b: string): void {
    const [ha, hb] = this.#pair(a, b, "sim.release");
    this.#log.add(this.#clock.now(), "net", `release ${a} <-> ${b}`);
    for (const l of [this.#world.link(ha, hb), this.#world.link(hb, ha)]) {
      l.held = false;
      for (const p of l.parked) p.release();
      this.#world.unblock(l);
    }
  }

  /**
   * Crashes host `name`: its connections are reset at the peers, its listeners and sockets
   * vanish, its fibers are cancelled; connections to it time out until it is back.
   * @throws TypeError for an unknown name or a client.
   * @example
   * ```ts
   * sim.crash("leader"); // the follower's connection to it resets
   * ```
   */
  crash(name: string): void {
    const e = this.#entry(name, "sim.crash");
    const h = e.host;
    if (h.role === "client")
      throw new TypeError(`sim.crash: ${JSON.stringify(name)} is a client, not a host`);
    if (h.status !== "up") return;
    h.status = "crashed";
    this.#log.add(this.#clock.now(), h.name, "crash");
    // Cancel first, so that the host's fibers see Cancelled, not their sockets vanishing.
    try {
      e.cc?.kill(new HostCrashed(name));
    } catch (err) {
      this.#fail(err, `crashing ${JSON.stringify(name)}`);
    }
    for (const s of [...h.sockets]) s.crash();
    for (const l of [...h.listeners.values(), ...h.unix.values()]) l.crash();
    for (const u of [...h.udp.values()]) void u.close();
  }

  /**
   * Restarts host `name`: crashes it if it runs, then runs its function again from the start,
   * at once (its state is lost; what is left of its last life can no longer use the network).
   * @throws TypeError for an unknown name or a client.
   */
  bounce(name: string): void {
    const e = this.#entry(name, "sim.bounce");
    if (e.host.role === "client")
      throw new TypeError(`sim.bounce: ${JSON.stringify(name)} is a client, not a host`);
    this.crash(name);
    if (this.#state === "running") this.#start(e);
  }

  /**
   * Installs (or with `undefined`, removes) the message hook: it sees each message between two
   * hosts as it is sent and may deliver, drop, hold or delay it.
   * @throws TypeError if `hook` is neither a function nor undefined.
   * @example
   * ```ts
   * sim.onMessage((m) => (m.kind === "fin" && m.from === "db" ? "hold" : "deliver"));
   * ```
   */
  onMessage(hook: MessageHook | undefined): void {
    if (hook !== undefined && typeof hook !== "function") {
      throw new TypeError(`onMessage: hook must be a function or undefined, got ${typeof hook}`);
    }
    this.#world.hook = hook;
  }

  /**
   * A number in [0, 1) from the run's seeded generator: for choices a scenario makes (when to
   * cut a link, which host to crash), so they too are the same for the same seed.
   */
  random(): number {
    return this.#world.rng.float();
  }

  /** The address of host `name` in the simulation's DNS. @throws TypeError if unknown. */
  lookup(name: string): Ipaddr {
    return this.#entry(name, "sim.lookup").host.ip;
  }

  /**
   * What is in flight and held now, per host and in total.
   * @example
   * ```ts
   * sim.netstat().inFlight; // { tcpSegments: 3, tcpBytes: 3000, datagrams: 0 }
   * ```
   */
  netstat(): NetStat {
    const c = this.#world.counters;
    const hosts: Record<string, HostStat> = {};
    for (const { host: h } of this.#entries.values()) {
      let established = 0;
      for (const s of h.sockets) if (s.established) established++;
      hosts[h.name] = {
        status: h.status,
        established,
        listening: h.listeners.size + h.unix.size,
        udp: h.udp.size,
      };
    }
    return {
      time: this.#clock.now(),
      hosts,
      inFlight: { tcpSegments: c.tcpSegments, tcpBytes: c.tcpBytes, datagrams: c.datagrams },
      held: this.#world.held(),
      sent: c.sent,
      delivered: c.delivered,
      dropped: c.dropped,
    };
  }

  /** The events of the run so far, one string each, starting with its virtual time (`"12 ms ..."`). */
  trace(): string[] {
    return this.#log.lines();
  }

  /** How many events the run has had (the trace keeps at most `traceLimit`). */
  get eventCount(): number {
    return this.#log.count;
  }
}
