/**
 * The TCP handshake in the simulation: a SYN travels to the server host; a listener with room
 * answers with a SYN-ACK (the connection waits in its accept queue), no listener answers with
 * RST (`Refused`), a crashed host or a partition answers nothing (the connect times out).
 * @module
 */
import { type BlockingOptions, IoError, suspend } from "../core/index.ts";
import { currentMockScheduler } from "../mock/scheduler.ts";
import { Sockaddr, type StreamAddr } from "../net/index.ts";
import { Flow, RST, type Segment, SYN, SYN_ACK } from "./flow.ts";
import type { SimHost } from "./host.ts";
import type { SimListeningSocket } from "./listener.ts";
import { SimStreamSocket } from "./stream-socket.ts";
import type { World } from "./world.ts";

/** `db:5432`, or `db:unix:/run/x.sock`: an address with its host's name, for traces. */
export function endpointName(host: SimHost, a: StreamAddr): string {
  return a.type === "unix" ? `${host.name}:unix:${a.path}` : `${host.name}:${a.port}`;
}

/** The listener on `host` that a connection to `dst` reaches, if any. */
function listenerFor(
  host: SimHost,
  dst: StreamAddr,
  local: boolean,
): SimListeningSocket | undefined {
  if (dst.type === "unix") return host.unix.get(dst.path);
  const l = host.listeners.get(dst.port);
  if (l === undefined) return undefined;
  const bound = l.listeningAddr;
  if (bound.type !== "tcp" || bound.host.isAny()) return l;
  if (bound.host.isLoopback()) return local && dst.host.isLoopback() ? l : undefined;
  return bound.host.equals(dst.host) ? l : undefined;
}

/**
 * Opens a connection from `client` (local address `local`) to `dst` on `server` (undefined: an
 * address nobody has, which times out).
 * @throws IoError `ConnectionFailure` `Refused` or `Timeout`; Cancelled.
 */
export function connectTcp(
  world: World,
  client: SimHost,
  local: StreamAddr,
  server: SimHost | undefined,
  dst: StreamAddr,
  opts: BlockingOptions,
): Promise<SimStreamSocket> {
  const timeout = world.config.connectTimeout;
  const target = server ?? client;
  const [l, d] = [Sockaddr.format(local), Sockaddr.format(dst)];
  const fwd = new Flow(
    world,
    client,
    target,
    `${endpointName(client, local)} > ${endpointName(target, dst)}`,
    l,
    d,
  );
  const back = new Flow(
    world,
    target,
    client,
    `${endpointName(target, dst)} > ${endpointName(client, local)}`,
    d,
    l,
  );
  const c = new SimStreamSocket(world, client, local, dst, fwd, back, "connecting");
  back.deliver = (seg) => c.receive(seg);
  let s: SimStreamSocket | undefined;
  fwd.deliver = (seg: Segment) => {
    if (seg.kind !== SYN) {
      s?.receive(seg);
      return;
    }
    if (c.state !== "connecting" || server === undefined || !server.up) return;
    world.event(`${fwd.label} syn`);
    const l = listenerFor(server, dst, fwd.local);
    if (l === undefined || (!fwd.local && world.rng.chance(world.config.connectFailureRate))) {
      back.send(RST);
      return;
    }
    if (l.full) {
      world.event(`${fwd.label} syn dropped: accept queue full`);
      fwd.retry(seg, 1000 * 2 ** seg.tries);
      return;
    }
    s = new SimStreamSocket(world, server, dst, local, back, fwd, "open");
    l.enqueue(s);
    back.send(SYN_ACK);
  };
  const done = currentMockScheduler()?.waiting(
    `${client.name}: connect to ${Sockaddr.format(dst)}`,
  );
  return suspend<SimStreamSocket>((resolve, reject) => {
    let cancelTimer: (() => void) | undefined;
    c.onHandshake = (err) => {
      cancelTimer?.();
      if (err === undefined) resolve(c);
      else reject(err);
    };
    if (timeout !== Infinity) {
      cancelTimer = world.clock.at(world.clock.now() + timeout, () => {
        c.onHandshake = undefined;
        world.event(`${fwd.label} connect timed out`);
        void c.close();
        reject(
          new IoError({
            kind: "ConnectionFailure",
            reason: "Timeout",
            cause: new Error(`ETIMEDOUT: no answer after ${timeout} ms`),
          }),
        );
      });
    }
    world.event(`${fwd.label} connect (${l} to ${d})`);
    fwd.send(SYN);
    return () => {
      cancelTimer?.();
      c.onHandshake = undefined;
      void c.close();
    };
  }, opts.signal).finally(() => done?.());
}
