/**
 * Turning an {@link Endpoint} argument into sockets: the address to listen on, and connecting
 * with a time limit (through `Net.withTcpConnect` for host names).
 * @module
 */
import { type Clock, IoError, Switch, Timeout } from "../core/index.ts";
import {
  Net,
  Sockaddr,
  type StreamAddr,
  type StreamSocket,
  type TlsConnectOptions,
} from "../net/index.ts";
import { type Endpoint, formatEndpoint, isLocal, UsageError } from "./args.ts";

/**
 * The stream addresses of `ep`: the address itself, or what getaddrinfo gives for the name.
 * @throws IoError from getaddrinfo (with context), or `ConnectionFailure NoMatchingAddresses`
 *   if the name has no stream address.
 */
export async function resolveEndpoint(net: Net, ep: Endpoint): Promise<StreamAddr[]> {
  if (ep.kind === "addr") return [ep.addr];
  const addrs = await net.getaddrinfoStream(ep.host, { service: ep.service });
  if (addrs.length === 0) {
    throw new IoError({ kind: "ConnectionFailure", reason: "NoMatchingAddresses" }, [
      `looking up ${formatEndpoint(ep)}`,
    ]);
  }
  return addrs;
}

/**
 * The one address to listen on for `ep`: the address, or the first one the name resolves to.
 * @throws as {@link resolveEndpoint}.
 */
export async function listenAddress(net: Net, ep: Endpoint): Promise<StreamAddr> {
  const addrs = await resolveEndpoint(net, ep);
  return addrs[0] as StreamAddr;
}

/**
 * Like {@link resolveEndpoint}, keeping only addresses on this machine (loopback or Unix).
 * @throws UsageError naming `what` if the endpoint has no such address (weir's load generator
 *   never sends traffic elsewhere).
 */
export async function resolveLocal(net: Net, what: string, ep: Endpoint): Promise<StreamAddr[]> {
  if (ep.kind === "addr") {
    if (!isLocal(ep.addr)) throw notLocal(what, ep);
    return [ep.addr];
  }
  const addrs = (await resolveEndpoint(net, ep)).filter(isLocal);
  if (addrs.length === 0) throw notLocal(what, ep);
  return addrs;
}

function notLocal(what: string, ep: Endpoint): UsageError {
  return new UsageError(
    `${what}: ${formatEndpoint(ep)} is not a loopback or Unix address (weir bench only targets 127.0.0.0/8, ::1 and unix: sockets)`,
  );
}

/** Options of {@link withConnection}. */
export interface WithConnectionOptions {
  /** The clock for the time limit. */
  readonly clock: Clock;
  /** The limit for each connection attempt, in ms (`Infinity`: none). */
  readonly timeoutMs: number;
  /** Connect with TLS (the handshake counts in the limit). */
  readonly tls?: TlsConnectOptions | undefined;
  /** Close the connection after this many ms without a byte either way (none if undefined). */
  readonly idleTimeout?: number | undefined;
}

/**
 * Connects to `ep` and runs `fn` with the connection, which is closed when `fn` returns or
 * fails. A host name is resolved and its addresses raced as RFC 8305 says (Happy Eyeballs,
 * through `Net.withTcpConnect`: the families interleaved, the next attempt after 250 ms or
 * as soon as one fails); each attempt is limited to `timeoutMs`.
 * @throws IoError (`ConnectionFailure Refused`/`Timeout`/`NoMatchingAddresses`, ...) with the
 *   `connecting to ...` context lines; what `fn` throws.
 */
export function withConnection<T>(
  net: Net,
  ep: Endpoint,
  opts: WithConnectionOptions,
  fn: (conn: StreamSocket) => Promise<T>,
): Promise<T> {
  const timeout =
    opts.timeoutMs === Infinity ? Timeout.none : Timeout.ms(opts.clock, opts.timeoutMs);
  const withTls = opts.tls === undefined ? {} : { tls: opts.tls };
  const { idleTimeout } = opts;
  if (ep.kind === "name") {
    const { host, service } = ep;
    const happyEyeballs = { clock: opts.clock };
    return Net.withTcpConnect(
      net,
      { host, service, timeout, happyEyeballs, idleTimeout, ...withTls },
      fn,
    );
  }
  const addr = ep.addr;
  return Switch.run(async (sw) => {
    const conn = await timeout.runOr(
      () => net.connect(addr, { sw, idleTimeout, ...withTls }),
      () =>
        new IoError({ kind: "ConnectionFailure", reason: "Timeout" }, [
          `connecting to ${Sockaddr.format(addr)}`,
        ]),
    );
    return await fn(conn);
  });
}
