/**
 * Restarting a server without a dropped connection: the running process offers its listening
 * sockets on a Unix control socket ({@link offerHandover}); a new process takes them over
 * ({@link takeOver}), receiving the descriptors over it (SCM_RIGHTS), starts accepting, and
 * tells the old one, which stops taking connections from the kernel (those still queued there
 * stay, for the new process) and drains its open ones.
 *
 * The protocol, one line each way: the old process sends a JSON line `{"weir":"handover",
 * "version":1,"pid":N,"addresses":[...]}` carrying the fds; the new one answers `ready PID`;
 * the old one stops accepting, frees the control path and answers `released`.
 * @module
 */
import { errorCode, toIoError } from "../backend-node/errors.ts";
import { NodeListeningSocket } from "../backend-node/listening-socket.ts";
import { native } from "../backend-node/native.ts";
import { show } from "../core/checks.ts";
import { IoError, type Switch, suspend, Time } from "../core/index.ts";
import { BufRead } from "../flow/buf-read.ts";
import { copyString } from "../flow/flow-ops.ts";
import { checkOptionalTimeout, deadlineClock } from "../net/deadlines.ts";
import { Sockaddr } from "../net/sockaddr.ts";
import type { ListeningSocket, StreamSocket } from "../net/types.ts";
import { Unix } from "./unix.ts";

/** The largest first message (the JSON line that carries the fds). */
const MAX_OFFER = 16_384;
/** The most listening sockets one handover carries (the addon's limit per message). */
const MAX_SOCKETS = 16;

/** Options of {@link offerHandover} and {@link takeOver}. */
export interface HandoverOptions {
  /** The switch that owns the control socket (and, for `takeOver`, the sockets taken over). */
  readonly sw: Switch;
  /** How many ms the other process has for each step of the exchange; default 10000. */
  readonly timeout?: number | undefined;
}

/** A running offer (see {@link offerHandover}). */
export interface HandoverOffer {
  /**
   * Resolves with the successor's process id once a successor has taken the sockets over and
   * this process has stopped accepting on them (the connections it had taken are given to
   * `accept()` first): give it to `Net.runServer` as `stop`, which then drains the open
   * connections under `drainTimeout`. Never rejects.
   */
  readonly handedOver: Promise<number>;
  /** Stops offering: closes the control socket (removing its file). */
  close(): Promise<void>;
}

/** What {@link takeOver} got from the running process. */
export interface TakenOver {
  /** The listening sockets taken over, owned by `opts.sw`, in the order they were offered. */
  readonly listeners: readonly ListeningSocket[];
  /** The process that offered them. */
  readonly pid: number;
  /**
   * Tells the old process that this one accepts now: it stops accepting, frees the control
   * path (so {@link offerHandover} may bind it) and answers; resolves then. Call it once this
   * process serves on {@link listeners}.
   * @throws IoError if the old process went away first; Timeout after `opts.timeout`.
   */
  ready(): Promise<void>;
}

function checkOptions(opts: HandoverOptions | undefined, what: string): number {
  if (opts?.sw === undefined || typeof opts.sw.onRelease !== "function") {
    throw new TypeError(`${what}: option sw (a Switch) is required`);
  }
  return checkOptionalTimeout("timeout", opts.timeout) ?? 10_000;
}

function checkPath(path: unknown): asserts path is string {
  if (typeof path !== "string" || path === "" || path.includes("\0")) {
    throw new TypeError(`path must be a Unix socket path, got ${show(path)}`);
  }
}

function protocolError(what: string, path: string): IoError {
  return new IoError({ kind: "Unknown", cause: `handover protocol: ${what}` }, [
    `taking over the sockets offered at ${path}`,
  ]);
}

/** Reads one line of at most 256 bytes from `flow` within `ms`. */
function lineWithin(flow: StreamSocket, ms: number): Promise<string> {
  return Time.withTimeout(deadlineClock(), ms, () => BufRead.of(flow, { maxSize: 256 }).line());
}

/**
 * Offers `listeners` to a successor on a Unix control socket at `path` (made now; a stale
 * socket file there is removed first), until one takes them over or the offer is closed; see
 * {@link HandoverOffer.handedOver}. A successor that does not answer within `opts.timeout` (or
 * fails) is dropped and the offer goes on. The offer is a daemon of `opts.sw`: it does not
 * keep the switch open.
 * @throws TypeError for bad arguments (a listener not of the Node backend); IoError if the
 *   control socket cannot be made (`AddressInUse`: a live process offers there already).
 * @example
 * ```ts
 * const offer = await Unix.offerHandover("/run/app.handover", [listener], { sw });
 * await Net.runServer(listener, handler, { onError, stop: offer.handedOver, drainTimeout: 30_000 });
 * ```
 */
export async function offerHandover(
  path: string,
  listeners: readonly ListeningSocket[],
  opts: HandoverOptions,
): Promise<HandoverOffer> {
  checkPath(path);
  const timeout = checkOptions(opts, "offerHandover");
  if (!Array.isArray(listeners) || listeners.length === 0 || listeners.length > MAX_SOCKETS) {
    throw new TypeError(
      `listeners must be 1 to ${MAX_SOCKETS} listening sockets, got ${show(listeners)}`,
    );
  }
  for (const l of listeners) {
    if (!(l instanceof NodeListeningSocket)) {
      throw new TypeError(
        `listeners must be listening sockets of the Node backend, got ${show(l)}`,
      );
    }
  }
  const own = listeners as readonly NodeListeningSocket[];
  const { sw } = opts;
  const control = await NodeListeningSocket.listen(Sockaddr.unix(path), {
    sw,
    reuseAddr: true,
    backlog: 8,
  });
  let resolve!: (pid: number) => void;
  const handedOver = new Promise<number>((r) => {
    resolve = r;
  });
  sw.forkDaemon(async () => {
    for (;;) {
      let conn: StreamSocket;
      try {
        [conn] = await control.accept({ sw });
      } catch {
        return; // closed (or the switch ended): no more offers
      }
      let pid: number | undefined;
      try {
        pid = await offerOn(conn, own, timeout);
      } catch {
        // that successor failed or went away: offer to the next
      }
      if (pid !== undefined) {
        // stop taking connections from the kernel now; those taken already still go to accept()
        const drained = Promise.all(own.map((l) => l.stopAccepting()));
        await control.close();
        await copyString("released\n", conn).catch(() => {});
        await conn.close().catch(() => {});
        await drained;
        resolve(pid);
        return;
      }
      await conn.close().catch(() => {});
    }
  });
  return { handedOver, close: () => control.close() };
}

/**
 * Sends the fds on `conn` and waits for `ready PID`. Returns the successor's pid, or
 * `undefined` if it did not answer as it should.
 */
async function offerOn(
  conn: StreamSocket,
  listeners: readonly NodeListeningSocket[],
  timeout: number,
): Promise<number | undefined> {
  const sendFds = native.sendFds;
  if (sendFds === undefined) throw new TypeError("the native addon is out of date (npm rebuild)");
  const fds = listeners.map((l) => Unix.fd(l));
  const hello = JSON.stringify({
    weir: "handover",
    version: 1,
    pid: process.pid,
    addresses: listeners.map((l) => Sockaddr.format(l.listeningAddr)),
  });
  const bytes = new TextEncoder().encode(`${hello}\n`);
  const sent = sendFds(Unix.fd(conn), bytes, fds);
  if (sent !== bytes.length) return undefined;
  const answer = await lineWithin(conn, timeout);
  const m = /^ready (\d+)$/.exec(answer);
  return m === null ? undefined : Number(m[1]);
}

/**
 * Takes over the listening sockets a running process offers at `path` (see
 * {@link offerHandover}): connects, receives them (owned by `opts.sw`), and returns them with
 * {@link TakenOver.ready}, to call once this process accepts on them. Returns `undefined` if
 * no process offers there (no socket file, or a stale one): the caller then listens itself.
 * @throws TypeError for bad arguments; IoError for a failed exchange (the old process then
 *   goes on serving); Timeout if the old process does not send within `opts.timeout`.
 * @example
 * ```ts
 * const taken = await Unix.takeOver("/run/app.handover", { sw });
 * const listener = taken?.listeners[0] ?? (await net.listen("tcp:0.0.0.0:8080", { sw }));
 * ```
 */
export async function takeOver(
  path: string,
  opts: HandoverOptions,
): Promise<TakenOver | undefined> {
  checkPath(path);
  const timeout = checkOptions(opts, "takeOver");
  const { sw } = opts;
  sw.check();
  let fd: number;
  try {
    fd = native.socket("unix", "stream");
  } catch (e) {
    throw toIoError(e);
  }
  try {
    native.connect(fd, { family: "unix", path });
  } catch (e) {
    native.close(fd);
    const code = errorCode(e);
    if (code === "ENOENT" || code === "ECONNREFUSED") return undefined;
    throw toIoError(e).addContext(`connecting to the handover socket ${path}`);
  }
  let got: { data: Buffer; fds: number[] };
  try {
    got = await receive(fd, timeout);
  } catch (e) {
    native.close(fd);
    throw e instanceof IoError ? e.addContext(`taking over the sockets offered at ${path}`) : e;
  }
  let control: StreamSocket;
  try {
    control = Unix.importSocketStream(fd, { sw, closeUnix: true });
  } catch (e) {
    for (const f of got.fds) native.close(f);
    native.close(fd);
    throw e;
  }
  try {
    const offer = parseOffer(got.data, got.fds.length, path);
    const listeners: ListeningSocket[] = [];
    for (let i = 0; i < got.fds.length; i++) {
      const f = got.fds[i] as number;
      try {
        listeners.push(await Unix.importSocketListening(f, { sw, closeUnix: true, backlog: 1024 }));
      } catch (e) {
        for (const rest of got.fds.slice(i + 1)) native.close(rest);
        throw e;
      }
    }
    return {
      listeners,
      pid: offer.pid,
      ready: async () => {
        try {
          await copyString(`ready ${process.pid}\n`, control);
          const answer = await lineWithin(control, timeout);
          if (answer !== "released")
            throw protocolError(`expected "released", got ${show(answer)}`, path);
        } finally {
          await control.close();
        }
      },
    };
  } catch (e) {
    await control.close();
    throw e;
  }
}

/** The offer's JSON line, checked. */
function parseOffer(data: Buffer, nfds: number, path: string): { pid: number } {
  const text = data.toString("utf8");
  if (!text.endsWith("\n")) throw protocolError(`an incomplete offer ${show(text)}`, path);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw protocolError(`not a JSON offer: ${show(text)}`, path);
  }
  const o = v as { weir?: unknown; version?: unknown; pid?: unknown; addresses?: unknown };
  if (o?.weir !== "handover" || o.version !== 1 || !Number.isInteger(o.pid)) {
    throw protocolError(`not a weir handover offer (version 1): ${show(text)}`, path);
  }
  if (!Array.isArray(o.addresses) || o.addresses.length !== nfds || nfds === 0) {
    throw protocolError(`the offer names ${show(o.addresses)} but carries ${nfds} fds`, path);
  }
  return { pid: o.pid as number };
}

/**
 * Waits (off the event loop) for the first message on `fd`, with its fds. Cancelling ends
 * the wait (a shutdown wakes the thread) and closes whatever arrives.
 */
function receive(fd: number, timeout: number): Promise<{ data: Buffer; fds: number[] }> {
  const recvFds = native.recvFds;
  if (recvFds === undefined) throw new TypeError("the native addon is out of date (npm rebuild)");
  let cancelled = false;
  let finished!: () => void;
  const done = new Promise<void>((r) => {
    finished = r;
  });
  const p = suspend<{ data: Buffer; fds: number[] }>((resolve, reject) => {
    recvFds(fd, MAX_OFFER, timeout, (err, data, fds) => {
      finished();
      if (cancelled) {
        for (const f of fds) native.close(f);
        return;
      }
      if (err !== null) reject(toIoError(err));
      else if (data === null || data.length === 0) {
        reject(new IoError({ kind: "Closed", cause: "the offering process closed the socket" }));
      } else resolve({ data, fds });
    });
    return () => {
      cancelled = true;
      try {
        native.shutdown(fd, "all");
      } catch {
        // already gone
      }
    };
  });
  // the caller closes fd on failure: not before the thread is done with it
  return p.catch(async (e: unknown) => {
    await done;
    throw e;
  });
}
