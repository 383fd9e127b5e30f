/**
 * The client half of `Tcp` (Async's `Tcp.connect_sock`, `connect`, `with_connection`):
 * connecting with a timeout and an interrupt, and reader/writer sugar over the connection.
 * @module
 */

import { isThenable } from "../core/checks.ts";
import {
  awaitCancellable,
  type Clock,
  checkMs,
  Fiber,
  IoError,
  Switch,
  suspend,
} from "../core/index.ts";
import { checkOptionalTimeout } from "../net/deadlines.ts";
import {
  connectHappyEyeballs,
  type HappyEyeballsOptions,
  interleaveFamilies,
} from "../net/happy-eyeballs.ts";
import { Ipaddr } from "../net/ipaddr.ts";
import { checkKeepAlive } from "../net/option-checks.ts";
import { Sockaddr, type TcpAddr } from "../net/sockaddr.ts";
import type { KeepAlive, Net, StreamSocket, TlsConnectOptions } from "../net/types.ts";
import {
  checkReaderWriterConfig,
  OwnedSocket,
  type ReaderWriterConfig,
  type ReaderWriterOptions,
  withReaderWriter,
} from "./connection.ts";
import { resolveClock, resolveNet, type TcpEnvOptions } from "./env.ts";
import { ConnectionAttemptAborted, ConnectionAttemptTimeout } from "./errors.ts";
import { detachedOwner } from "./owner.ts";
import { Reader } from "./reader.ts";
import { WhereToConnect } from "./where-to-connect.ts";
import { Writer } from "./writer.ts";

/** The default limit of a connection attempt: 30 s, as in Async's `Tcp`. */
export const DEFAULT_CONNECT_TIMEOUT = 30_000;

/** Options of {@link connectSock}. */
export interface ConnectSockOptions extends TcpEnvOptions {
  /**
   * The limit on the connection attempt (name lookup included), in ms. Default 30 000;
   * `Infinity` for none. On expiry the half-open socket is closed and the attempt rejects with
   * {@link ConnectionAttemptTimeout} ("connection attempt timeout").
   */
  readonly timeout?: number | undefined;
  /**
   * Aborts the attempt if it aborts (an `AbortSignal`) or settles (a promise) before the
   * connection is established: the half-open socket is closed and the attempt rejects with
   * {@link ConnectionAttemptAborted} ("connection attempt aborted"). No effect afterwards.
   */
  readonly interrupt?: AbortSignal | PromiseLike<unknown> | undefined;
  /**
   * Attach the connection to this switch (closed when it finishes). Default: the connection
   * belongs to the caller, who must close it (as in Async).
   */
  readonly sw?: Switch | undefined;
  /**
   * How a host name with several addresses is connected to: Happy Eyeballs (RFC 8305) by
   * default, the families interleaved and the next attempt started after `delay` (250 ms) or
   * as soon as one fails, on the `clock` option's clock; `false` for one address after
   * another, in the resolver's order. IP addresses and Unix paths have one address anyway.
   */
  readonly happyEyeballs?: Omit<HappyEyeballsOptions, "clock"> | false | undefined;
  /**
   * Run TLS over the connection (see `net.connect`'s `tls`); the server name defaults to the
   * host name of `WhereToConnect.hostAndPort`. The handshake counts in `timeout`.
   */
  readonly tls?: TlsConnectOptions | undefined;
  /**
   * Close the connection when no byte has moved either way for this many ms: a blocked read
   * or write rejects with `IoError` `Timeout` `idle`. Default: none.
   */
  readonly idleTimeout?: number | undefined;
  /** TCP keep-alive probes (see `net.connect`'s `keepAlive`). Default: the system's (off). */
  readonly keepAlive?: KeepAlive | undefined;
}

/** Options of {@link connect}. */
export interface ConnectOptions extends ConnectSockOptions, ReaderWriterConfig {}

/** Options of {@link withConnection}. */
export type WithConnectionOptions = Omit<ConnectOptions, "sw">;

/** A connection with its reader and writer, as {@link connect} returns it. */
export interface Connection {
  /** The socket (for `localAddr`, `peerAddr`, `shutdown`...). Closing it closes everything. */
  readonly socket: StreamSocket;
  /** Reads from the socket. */
  readonly reader: Reader;
  /** Writes to the socket. Close it first: it flushes. */
  readonly writer: Writer;
}

interface Checked {
  readonly net: Net;
  readonly clock: Clock;
  readonly timeout: number;
  readonly interrupt: AbortSignal | PromiseLike<unknown> | undefined;
  /** Happy Eyeballs' options, or `false` for one address after another. */
  readonly happyEyeballs: HappyEyeballsOptions | false;
  readonly tls: TlsConnectOptions | undefined;
  readonly idleTimeout: number | undefined;
  readonly keepAlive: KeepAlive | undefined;
}

function check(where: WhereToConnect, opts: ConnectOptions | undefined, what: string): Checked {
  WhereToConnect.check(where);
  const timeout = opts?.timeout ?? DEFAULT_CONNECT_TIMEOUT;
  checkMs("timeout", timeout);
  const interrupt = opts?.interrupt;
  if (interrupt !== undefined && !(interrupt instanceof AbortSignal) && !isThenable(interrupt)) {
    throw new TypeError(`interrupt must be an AbortSignal or a promise, got ${typeof interrupt}`);
  }
  checkReaderWriterConfig(opts);
  if (opts?.sw !== undefined && typeof opts.sw.onRelease !== "function") {
    throw new TypeError(`${what}: option sw must be a Switch`);
  }
  const he = opts?.happyEyeballs;
  if (he !== undefined && he !== false && (typeof he !== "object" || he === null)) {
    throw new TypeError(`happyEyeballs must be an object or false, got ${JSON.stringify(he)}`);
  }
  const clock = resolveClock(opts, what);
  return {
    net: resolveNet(opts, what),
    clock,
    timeout,
    interrupt,
    happyEyeballs: he === false ? false : { ...he, clock },
    tls: opts?.tls,
    idleTimeout: checkOptionalTimeout("idleTimeout", opts?.idleTimeout),
    keepAlive: checkedKeepAlive(opts?.keepAlive),
  };
}

function checkedKeepAlive(v: unknown): KeepAlive | undefined {
  checkKeepAlive(v);
  return v;
}

/** Waits until `interrupt` fires; returns its reason (or value). */
function waitInterrupt(interrupt: AbortSignal | PromiseLike<unknown>): Promise<unknown> {
  if (interrupt instanceof AbortSignal) {
    return suspend<unknown>((resolve) => {
      if (interrupt.aborted) {
        resolve(interrupt.reason);
        return undefined;
      }
      const onAbort = (): void => resolve(interrupt.reason);
      interrupt.addEventListener("abort", onAbort, { once: true });
      return () => interrupt.removeEventListener("abort", onAbort);
    });
  }
  return awaitCancellable(
    Promise.resolve(interrupt).then(
      (v) => v,
      (e: unknown) => e,
    ),
  );
}

/** Connects to one of `where`'s addresses (no time limit); the socket is attached to `sw`. */
async function connectTo(c: Checked, where: WhereToConnect, sw: Switch): Promise<StreamSocket> {
  const { net, tls, keepAlive } = c;
  const ka = keepAlive === undefined ? {} : { keepAlive };
  const withTls = tls === undefined ? ka : { tls, ...ka };
  switch (where.kind) {
    case "unix":
      return await net.connect(where.address, { sw, ...withTls });
    case "inet": {
      const via = where.viaLocalInterface;
      const bindTo = via === undefined ? undefined : Sockaddr.tcp(via, 0);
      return await net.connect(where.address, { sw, bindTo, ...withTls });
    }
    case "hostAndPort": {
      const via = where.viaLocalInterface;
      try {
        const found = await net.getaddrinfoStream(where.host, { service: String(where.port) });
        const addrs = found.filter(
          (a): a is TcpAddr =>
            a.type === "tcp" && (via === undefined || a.host.family === via.family),
        );
        if (addrs.length === 0) {
          throw new IoError({ kind: "ConnectionFailure", reason: "NoMatchingAddresses" });
        }
        const bindTo = via === undefined ? undefined : Sockaddr.tcp(via, 0);
        const named = tls === undefined ? ka : { tls: { serverName: where.host, ...tls }, ...ka };
        if (c.happyEyeballs !== false && addrs.length > 1 && !isIpLiteral(where.host)) {
          return await connectHappyEyeballs(net, interleaveFamilies(addrs), {
            ...c.happyEyeballs,
            sw,
            connect: { bindTo, ...named },
          });
        }
        for (let i = 0; ; i++) {
          try {
            return await net.connect(addrs[i] as TcpAddr, { sw, bindTo, ...named });
          } catch (e) {
            if (i === addrs.length - 1 || !(e instanceof IoError)) throw e;
          }
        }
      } catch (e) {
        if (e instanceof IoError) e.addContext(`connecting to ${WhereToConnect.format(where)}`);
        throw e;
      }
    }
  }
}

function isIpLiteral(host: string): boolean {
  try {
    Ipaddr.parse(host);
    return true;
  } catch {
    return false;
  }
}

/**
 * One connection attempt within `timeout` and until `interrupt`; the socket (TCP_NODELAY on,
 * as Async sets it) is attached to `sw`.
 */
async function attempt(c: Checked, where: WhereToConnect, sw: Switch): Promise<StreamSocket> {
  const label = WhereToConnect.format(where);
  const { interrupt, timeout, clock } = c;
  if (interrupt instanceof AbortSignal && interrupt.aborted) {
    throw new ConnectionAttemptAborted(label, interrupt.reason);
  }
  const branches: Array<() => Promise<StreamSocket>> = [() => connectTo(c, where, sw)];
  if (timeout !== Infinity) {
    branches.push(async () => {
      await clock.sleep(timeout);
      throw new ConnectionAttemptTimeout(timeout, [`connecting to ${label}`]);
    });
  }
  if (interrupt !== undefined) {
    branches.push(async () => {
      const reason = await waitInterrupt(interrupt);
      throw new ConnectionAttemptAborted(label, reason);
    });
  }
  const sock = branches.length === 1 ? await connectTo(c, where, sw) : await Fiber.any(branches);
  sock.setNoDelay(true);
  if (c.idleTimeout !== undefined) sock.setIdleTimeout(c.idleTimeout);
  return sock;
}

/**
 * Connects with a private owner: the returned socket's `close()` closes it and releases the
 * owner. On failure, nothing is left open.
 */
async function connectOwned(c: Checked, where: WhereToConnect): Promise<StreamSocket> {
  const owner = detachedOwner();
  let sock: StreamSocket;
  try {
    sock = await attempt(c, where, owner.sw);
  } catch (e) {
    owner.stop();
    // The socket, if any, is closed by now; a failure to close it matters less than `e`
    await owner.finished.catch(() => {});
    throw e;
  }
  const inner = sock;
  return new OwnedSocket(inner, async () => {
    try {
      await inner.close();
    } finally {
      owner.stop();
      await owner.finished;
    }
  });
}

/**
 * Opens a connection to `where` and returns the socket (Async's `Tcp.connect_sock`), with
 * TCP_NODELAY on. A host name is resolved first, and each of its addresses tried in order.
 * Without `sw`, the caller owns the socket and must close it; with `sw`, the switch closes it.
 * @throws ConnectionAttemptTimeout ("connection attempt timeout", an `IoError`
 *   `ConnectionFailure Timeout`) after `timeout` (default 30 000 ms);
 *   ConnectionAttemptAborted ("connection attempt aborted") when `interrupt` fires first;
 *   IoError (`ConnectionFailure Refused`, `NoMatchingAddresses`, `NotFound`...) with the
 *   context lines `connecting to ADDR`; Cancelled if the calling fiber is cancelled;
 *   TypeError/RangeError for bad arguments, or if there is no `net` (option or running env).
 * @example
 * ```ts
 * const sock = await Tcp.connectSock(Tcp.WhereToConnect.inetAddress("tcp:127.0.0.1:8080"), {
 *   net: env.net,
 *   timeout: 5_000,
 * });
 * try { await Flow.copyString("ping\n", sock); } finally { await sock.close(); }
 * ```
 */
export async function connectSock(
  where: WhereToConnect,
  opts?: ConnectSockOptions,
): Promise<StreamSocket> {
  const c = check(where, opts, "Tcp.connectSock");
  const sw = opts?.sw;
  if (sw !== undefined) return await attempt(c, where, sw);
  return await connectOwned(c, where);
}

function rwOptions(
  c: Checked,
  opts: ConnectOptions | undefined,
  sock: StreamSocket,
  where: WhereToConnect,
): ReaderWriterOptions {
  const peer = (): string => {
    try {
      return Sockaddr.format(sock.peerAddr);
    } catch {
      return WhereToConnect.format(where);
    }
  };
  return {
    clock: c.clock,
    readerBufferSize: opts?.readerBufferSize,
    readerMaxLine: opts?.readerMaxLine,
    writerMaxBuffered: opts?.writerMaxBuffered,
    bufferAgeLimit: opts?.bufferAgeLimit,
    peer,
  };
}

/**
 * Opens a connection to `where` and returns it with a reader and a writer on it (Async's
 * `Tcp.connect`). The reader and writer share the socket: close the writer first (it flushes),
 * then the reader; closing either closes the socket. Prefer {@link withConnection}, which does
 * that for you. A background failure of the writer (its buffer age limit) shows on its next
 * call.
 * @throws as {@link connectSock}; RangeError/TypeError for a bad `readerBufferSize` or
 *   `bufferAgeLimit`.
 * @example
 * ```ts
 * const { reader, writer } = await Tcp.connect(Tcp.WhereToConnect.file("/tmp/app.sock"));
 * writer.write("hello\n");
 * const reply = await reader.readLine();
 * await writer.close();
 * await reader.close();
 * ```
 */
export async function connect(where: WhereToConnect, opts?: ConnectOptions): Promise<Connection> {
  const c = check(where, opts, "Tcp.connect");
  const sw = opts?.sw;
  const socket = sw !== undefined ? await attempt(c, where, sw) : await connectOwned(c, where);
  const rw = rwOptions(c, opts, socket, where);
  const close = (): Promise<void> => socket.close();
  const reader = new Reader(socket, {
    bufferSize: rw.readerBufferSize,
    maxLine: rw.readerMaxLine,
    close,
  });
  const writer = new Writer(socket, {
    bufferAgeLimit: rw.bufferAgeLimit,
    maxBuffered: rw.writerMaxBuffered,
    clock: rw.clock,
    close,
    peer: rw.peer,
  });
  return { socket, reader, writer };
}

/**
 * Connects to `where`, runs `fn` with the socket, a reader and a writer, then closes them —
 * the writer first (flushing it, for at most 30 s), then the reader — whether `fn` returned
 * or threw, and returns `fn`'s result once the socket is closed (Async's
 * `Tcp.with_connection`). If the writer fails in the background (data older than
 * `bufferAgeLimit`), `fn` is cancelled and that failure is thrown.
 * @throws as {@link connect}; `fn`'s error (errors from closing are kept on it: see
 *   `suppressedErrors`); else the writer's failure or a close error (for example `IoError`
 *   `ConnectionReset` if the peer left before the last bytes were flushed): nothing is lost
 *   silently.
 * @example
 * ```ts
 * const reply = await Tcp.withConnection(
 *   Tcp.WhereToConnect.hostAndPort("localhost", 8080),
 *   async ({ reader, writer }) => {
 *     writer.write("ping\n");
 *     return await reader.readLine();
 *   },
 *   { timeout: 5_000 },
 * );
 * ```
 */
export async function withConnection<T>(
  where: WhereToConnect,
  fn: (conn: Connection) => T | Promise<T>,
  opts?: WithConnectionOptions,
): Promise<T> {
  if (typeof fn !== "function") throw new TypeError(`fn must be a function, got ${typeof fn}`);
  const c = check(where, opts, "Tcp.withConnection");
  return await Switch.run(async (sw) => {
    const socket = await attempt(c, where, sw);
    const rw = rwOptions(c, opts, socket, where);
    return await withReaderWriter(
      socket,
      () => socket.close(),
      rw,
      (reader, writer) => fn({ socket, reader, writer }),
    );
  });
}
