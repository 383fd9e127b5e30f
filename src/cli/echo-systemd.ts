/**
 * `weir echo --systemd`: echoing on the sockets systemd passed (socket activation): every
 * listening stream socket is served as `weir echo` serves its own, every datagram socket
 * sends each datagram back to its sender, and a connected stream socket (`Accept=yes`) is
 * echoed once.
 * @module
 */
import { awaitCancellable, Fiber, type Switch } from "../core/index.ts";
import { Sockaddr } from "../net/index.ts";
import type { DatagramSocket } from "../net/types.ts";
import { type ActivationSocket, Unix } from "../unix/index.ts";
import echoHandler from "./echo-handler.ts";
import { type ServeOptions, serveUntilStopped } from "./serve.ts";
import type { StopSignals } from "./signals.ts";

/** The largest datagram echoed whole (a longer one is cut to this). */
const MAX_DATAGRAM = 65_536;

/** What `--systemd` needs from `weir echo`. */
export interface SystemdEcho {
  readonly sw: Switch;
  readonly backlog: number;
  readonly signals: StopSignals;
  /** Prints an event on stdout (text or a JSON line). */
  readonly event: (name: string, text: string, fields: Record<string, unknown>) => void;
  /** Prints a status line on stderr. */
  readonly status: (line: string) => void;
  /** The options of each listener's {@link serveUntilStopped}, but the listener. */
  readonly serve: Omit<ServeOptions, "listener" | "status" | "signals">;
}

function where(s: ActivationSocket): string {
  switch (s.kind) {
    case "listening":
      return Sockaddr.format(s.socket.listeningAddr);
    case "datagram":
      return Sockaddr.format(s.socket.localAddr);
    default:
      return `fd ${s.fd}`;
  }
}

/** Sends every datagram back to its sender, until cancelled. */
async function echoDatagrams(sock: DatagramSocket): Promise<never> {
  const buf = new Uint8Array(MAX_DATAGRAM);
  for (;;) {
    const [src, n] = await sock.recv(buf);
    await sock.send([buf.subarray(0, n)], { dst: src });
  }
}

/**
 * Takes the sockets systemd passed (`Unix.listenFds`) and echoes on them until a stop
 * signal (or, with only connected sockets, until they are done).
 * @throws IoError `NotFound` if systemd passed none; what serving throws.
 */
export async function echoSystemd(o: SystemdEcho): Promise<void> {
  const sockets = await Unix.listenFds({ sw: o.sw, backlog: o.backlog });
  const listeners = sockets.filter((s) => s.kind === "listening");
  const datagrams = sockets.filter((s) => s.kind === "datagram");
  const streams = sockets.filter((s) => s.kind === "stream");
  for (const s of sockets) {
    const fields = { address: where(s), fd: s.fd, name: s.name, kind: s.kind };
    const from = `(systemd fd ${s.fd}, name ${s.name})`;
    if (s.kind === "listening") o.event("listening", `listening on ${where(s)} ${from}`, fields);
    else if (s.kind === "datagram") {
      o.event("listening", `echoing datagrams on ${where(s)} ${from}`, fields);
    } else if (s.kind === "stream") o.event("connection", `echoing a connection ${from}`, fields);
    else o.status(`fd ${s.fd} (name ${s.name}) is not a socket weir echoes: left alone`);
  }
  const serveAll = async (): Promise<void> => {
    if (listeners.length === 0) {
      const sig = await awaitCancellable(o.signals.first);
      o.status(`${sig}: stopping`);
      return;
    }
    await Fiber.all(
      listeners.map(
        (s, i) => () =>
          serveUntilStopped({
            ...o.serve,
            listener: s.socket,
            signals: o.signals,
            // one status line per stop, not one per listener
            status: i === 0 ? o.status : () => {},
          }),
      ),
    );
  };
  const echoRest = async (): Promise<void> => {
    await Fiber.all(streams.map((s) => () => echoHandler(s.socket)));
    if (listeners.length === 0 && datagrams.length === 0) return;
    await Fiber.all(datagrams.map((s) => () => echoDatagrams(s.socket)));
  };
  if (listeners.length === 0 && datagrams.length === 0) {
    await echoRest();
    return;
  }
  await Fiber.first(serveAll, async () => {
    await echoRest();
    // the datagram loops end only when cancelled: wait with the listeners
    await awaitCancellable(new Promise<never>(() => {}));
  });
}
