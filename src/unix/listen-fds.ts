/**
 * `listenFds`: the sockets systemd passes to a socket-activated service (sd_listen_fds(3)):
 * `LISTEN_FDS` descriptors from fd 3 on, for the process `LISTEN_PID`, named by
 * `LISTEN_FDNAMES`.
 * @module
 */
import { toIoError } from "../backend-node/errors.ts";
import { NativeAddonUnavailable, native } from "../backend-node/native.ts";
import { show } from "../core/checks.ts";
import { IoError, type Switch } from "../core/index.ts";
import type { DatagramSocket, ListeningSocket, StreamSocket } from "../net/types.ts";
import { Unix } from "./unix.ts";

/** The first fd systemd passes (SD_LISTEN_FDS_START). */
export const LISTEN_FDS_START = 3;

/** At most this many passed fds are taken (systemd's own limit is far above any real unit). */
const MAX_LISTEN_FDS = 1024;

/** What {@link listenFds} found at one passed fd. */
interface Passed {
  /** The fd as systemd passed it (3, 4, ...); weir works on a close-on-exec duplicate. */
  readonly fd: number;
  /** Its name from `LISTEN_FDNAMES` (systemd's `FileDescriptorName=`), or `"unknown"`. */
  readonly name: string;
}

/**
 * One socket systemd passed: a listening stream socket (TCP or Unix, `Accept=no`), a
 * connected stream socket (`Accept=yes`), a datagram socket (UDP or Unix), or something else
 * (a FIFO, a SOCK_SEQPACKET socket...), left as the raw `fd` for the caller.
 */
export type ActivationSocket =
  | (Passed & { readonly kind: "listening"; readonly socket: ListeningSocket })
  | (Passed & { readonly kind: "stream"; readonly socket: StreamSocket })
  | (Passed & { readonly kind: "datagram"; readonly socket: DatagramSocket })
  | (Passed & { readonly kind: "other" });

/** Options of {@link listenFds}. */
export interface ListenFdsOptions {
  /** The switch that owns the sockets. */
  readonly sw: Switch;
  /** The backlog given again to each listening socket; default 1024 (`listen(2)` again). */
  readonly backlog?: number | undefined;
}

/** The socket-activation variables (deleted from `process.env` by {@link listenFds}). */
const VARS = ["LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"] as const;

function notPassed(why: string): IoError {
  return new IoError({ kind: "NotFound", cause: why }, [
    "taking the sockets systemd passed (LISTEN_FDS)",
  ]);
}

/** Reads and deletes the variables: children must not take the sockets for theirs. */
function takeEnv(): {
  fds: string | undefined;
  pid: string | undefined;
  names: string | undefined;
} {
  const env = process.env;
  const got = { fds: env.LISTEN_FDS, pid: env.LISTEN_PID, names: env.LISTEN_FDNAMES };
  for (const v of VARS) delete env[v];
  return got;
}

/** How many fds were passed to this process, from the variables; throws if none. */
function passedCount(fds: string | undefined, pid: string | undefined): number {
  if (fds === undefined || fds === "") {
    throw notPassed(
      "LISTEN_FDS is not set: this process was not started by systemd socket activation " +
        "(a .socket unit, or systemd-socket-activate)",
    );
  }
  if (pid !== undefined && pid !== "") {
    if (!/^[1-9][0-9]*$/.test(pid)) {
      throw new RangeError(`LISTEN_PID must be a process id, got ${show(pid)}`);
    }
    if (Number(pid) !== process.pid) {
      throw notPassed(
        `LISTEN_PID is ${pid}, not this process (${process.pid}): the sockets were passed to ` +
          "another process (a parent that did not clear the variables?)",
      );
    }
  }
  if (!/^[0-9]+$/.test(fds) || Number(fds) > MAX_LISTEN_FDS) {
    throw new RangeError(
      `LISTEN_FDS must be a count of fds from 0 to ${MAX_LISTEN_FDS}, got ${show(fds)}`,
    );
  }
  const n = Number(fds);
  if (n === 0) throw notPassed("LISTEN_FDS is 0: systemd passed no socket");
  return n;
}

function passedNames(names: string | undefined, n: number): string[] {
  if (names === undefined || names === "") return Array.from({ length: n }, () => "unknown");
  const list = names.split(":");
  if (list.length !== n) {
    throw new RangeError(
      `LISTEN_FDNAMES must name the ${n} fds of LISTEN_FDS, got ${show(names)} (${list.length} names)`,
    );
  }
  return list;
}

/** Wraps one passed fd (already duplicated close-on-exec as `mine`) as a weir socket. */
async function wrap(
  passed: Passed,
  mine: number,
  sw: Switch,
  backlog: number,
): Promise<ActivationSocket> {
  const type = native.fdType(mine);
  if (type === "stream") {
    const acceptsConnections = native.acceptsConnections;
    if (acceptsConnections === undefined) {
      throw new TypeError("listenFds: the native addon is out of date (npm rebuild weir)");
    }
    if (acceptsConnections(mine)) {
      const socket = await Unix.importSocketListening(mine, { sw, closeUnix: true, backlog });
      return { ...passed, kind: "listening", socket };
    }
    return {
      ...passed,
      kind: "stream",
      socket: Unix.importSocketStream(mine, { sw, closeUnix: true }),
    };
  }
  if (type === "dgram") {
    return {
      ...passed,
      kind: "datagram",
      socket: Unix.importSocketDatagram(mine, { sw, closeUnix: true }),
    };
  }
  native.close(mine);
  return { ...passed, kind: "other" };
}

/**
 * Takes the sockets systemd passed to this process (socket activation, sd_listen_fds(3)):
 * fds 3 to 3 + `LISTEN_FDS` - 1, if `LISTEN_PID` is this process (or unset), named by
 * `LISTEN_FDNAMES`, each wrapped as the weir socket it is and owned by `opts.sw`. The three
 * variables are deleted from `process.env` first, whatever happens, so that children do not
 * take the sockets for theirs. Each fd is moved to a close-on-exec duplicate (the passed
 * number is closed), except those of kind `"other"`, which stay as passed.
 * @throws IoError `NotFound` if no socket was passed (`LISTEN_FDS` unset or 0, or `LISTEN_PID`
 *   another process's); RangeError for malformed variables; TypeError for bad options;
 *   IoError if a passed fd is unusable.
 * @example
 * ```ts
 * const [http] = await Unix.listenFds({ sw });
 * if (http?.kind === "listening") await Net.runServer(http.socket, handler, { onError });
 * ```
 */
export async function listenFds(opts: ListenFdsOptions): Promise<ActivationSocket[]> {
  if (opts?.sw === undefined || typeof opts.sw.onRelease !== "function") {
    throw new TypeError("listenFds: option sw (a Switch) is required");
  }
  const backlog = opts.backlog ?? 1024;
  if (!Number.isInteger(backlog) || backlog < 0) {
    throw new RangeError(`backlog must be an integer >= 0, got ${show(opts.backlog)}`);
  }
  const env = takeEnv();
  const n = passedCount(env.fds, env.pid);
  const names = passedNames(env.names, n);
  const out: ActivationSocket[] = [];
  for (let i = 0; i < n; i++) {
    const fd = LISTEN_FDS_START + i;
    let mine: number;
    try {
      mine = native.dup(fd);
    } catch (e) {
      closeFrom(fd + 1, n - i - 1);
      throw wrapError(e, fd);
    }
    let type: "stream" | "dgram" | "other";
    try {
      type = native.fdType(mine);
    } catch (e) {
      native.close(mine);
      closeFrom(fd, n - i);
      throw toIoError(e);
    }
    if (type === "other") {
      native.close(mine);
      out.push({ fd, name: names[i] as string, kind: "other" });
      continue;
    }
    native.close(fd);
    try {
      out.push(await wrap({ fd, name: names[i] as string }, mine, opts.sw, backlog));
    } catch (e) {
      closeFrom(fd + 1, n - i - 1);
      throw e;
    }
  }
  return out;
}

/** A passed fd that cannot be duplicated (not open: EBADF), as an IoError saying which. A
 * missing addon as itself (it says what to do). */
function wrapError(e: unknown, fd: number): unknown {
  if (e instanceof NativeAddonUnavailable) return e;
  const code = (e as { code?: unknown }).code;
  return notPassed(
    `fd ${fd} of LISTEN_FDS is not open (${typeof code === "string" ? code : String(e)})`,
  );
}

/** Closes the passed fds not taken yet (after a failure), ignoring those already gone. */
function closeFrom(fd: number, count: number): void {
  for (let i = 0; i < count; i++) {
    try {
      native.close(fd + i);
    } catch {
      // not open
    }
  }
}
