/**
 * Happy Eyeballs (RFC 8305): connecting to a host's addresses of both families as a browser
 * does, so that a broken IPv6 (or IPv4) path costs a short delay, not a timeout.
 * @module
 */
import {
  awaitCancellable,
  Cancel,
  Cancelled,
  type CancelScope,
  type Clock,
  Fiber,
  IoError,
  monoClock,
  Switch,
  type TimeLimit,
  Timeout,
} from "../core/index.ts";
import type { StreamAddr } from "./sockaddr.ts";
import type { ConnectOptions, Net, StreamSocket } from "./types.ts";

/** The delay RFC 8305 recommends between connection attempts (its "Connection Attempt Delay"). */
export const DEFAULT_HAPPY_EYEBALLS_DELAY = 250;

/** Options of Happy Eyeballs connecting. */
export interface HappyEyeballsOptions {
  /** How long an attempt has before the next one starts beside it (ms). Default 250. */
  readonly delay?: number | undefined;
  /** The clock for `delay`. Default: the real monotonic clock (pass `env.monoClock`). */
  readonly clock?: Clock | undefined;
}

/**
 * The addresses in RFC 8305 order: the two families interleaved, starting with the family of
 * the first address (the resolver's preference), each family in its own order.
 * @example
 * ```ts
 * interleaveFamilies([a6, b6, c4]); // [a6, c4, b6]
 * ```
 */
export function interleaveFamilies<A extends StreamAddr>(addrs: readonly A[]): A[] {
  const family = (a: A): number => (a.type === "tcp" ? a.host.family : 0);
  const first = addrs[0] === undefined ? 0 : family(addrs[0]);
  const same = addrs.filter((a) => family(a) === first);
  const other = addrs.filter((a) => family(a) !== first);
  const out: A[] = [];
  for (let i = 0; i < Math.max(same.length, other.length); i++) {
    if (i < same.length) out.push(same[i]!);
    if (i < other.length) out.push(other[i]!);
  }
  return out;
}

/** Options of {@link connectHappyEyeballs}. */
export interface ConnectHappyEyeballsOptions extends HappyEyeballsOptions {
  /** The switch that owns the connection that wins. */
  readonly sw: Switch;
  /** The limit for each attempt; none by default. */
  readonly timeout?: TimeLimit | undefined;
  /** Passed to each `net.connect` (a local address to bind, ...). */
  readonly connect?: Omit<ConnectOptions, "sw"> | undefined;
}

/**
 * Connects to one of `addrs` (already in the order to try: see {@link interleaveFamilies}):
 * starts the first attempt, and the next one after `delay` or as soon as the previous one
 * fails; the first to connect wins, every other attempt is cancelled, and one that connected
 * too late is closed. No attempt outlives the call.
 * @throws RangeError if `delay` is not a finite number >= 0; IoError `ConnectionFailure
 *   NoMatchingAddresses` if `addrs` is empty; else the error of the attempt that failed last
 *   (a `ConnectionFailure Timeout` if it ran out of `timeout`); Cancelled if the caller is.
 */
export async function connectHappyEyeballs(
  net: Net,
  addrs: readonly StreamAddr[],
  opts: ConnectHappyEyeballsOptions,
): Promise<StreamSocket> {
  const delay = opts.delay ?? DEFAULT_HAPPY_EYEBALLS_DELAY;
  if (typeof delay !== "number" || !Number.isFinite(delay) || delay < 0) {
    throw new RangeError(
      `happyEyeballs.delay must be a finite number >= 0, got ${JSON.stringify(delay)}`,
    );
  }
  if (addrs.length === 0)
    throw new IoError({ kind: "ConnectionFailure", reason: "NoMatchingAddresses" });
  const clock = opts.clock ?? monoClock;
  const timeout = opts.timeout ?? Timeout.none;
  const { sw } = opts;
  let winner: StreamSocket | undefined;
  let lastError: unknown;
  const scopes: CancelScope[] = [];
  const { promise: won, resolve: win } = Promise.withResolvers<void>();

  const attempt = (addr: StreamAddr, failed: () => void) =>
    Cancel.sub(async (scope) => {
      scopes.push(scope);
      try {
        const s = await timeout.run(() => net.connect(addr, { ...opts.connect, sw }));
        if (winner !== undefined) {
          await s.close(); // connected, but another attempt was first
          return;
        }
        winner = s;
        for (const other of scopes)
          if (other !== scope) other.cancel(new Cancelled("another address connected first"));
        win();
      } catch (e) {
        if (!(e instanceof Cancelled) || !scope.cancelled) lastError = e;
        if (!(e instanceof IoError || e instanceof Timeout || e instanceof Cancelled)) throw e;
        failed();
      }
    });

  await Switch.run(async (attempts) => {
    for (let i = 0; i < addrs.length && winner === undefined; i++) {
      const { promise: failed, resolve: fail } = Promise.withResolvers<void>();
      attempts.fork(() => attempt(addrs[i]!, fail));
      if (i === addrs.length - 1) break;
      // the next attempt starts when this one fails or `delay` has passed, unless one has won
      await Fiber.first(
        () => awaitCancellable(Promise.race([failed, won])),
        () => clock.sleep(delay),
      );
    }
  });
  if (winner !== undefined) return winner;
  if (lastError instanceof Timeout)
    throw new IoError({ kind: "ConnectionFailure", reason: "Timeout" });
  throw lastError;
}
