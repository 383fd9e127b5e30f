/**
 * A small line-protocol server, written once against weir's capabilities so that it runs on
 * the real network (`main.ts`) and on `weir/mock` (`line-server.test.ts`) unchanged.
 *
 * Each line a client sends is one command; the server answers each with one line:
 * - `PING` → `PONG`
 * - `ECHO text` → `text`
 * - `TIME` → the server clock's time, in ms
 * - `QUIT` → `BYE`, then the server closes the connection
 * - anything else → `ERR unknown command: ...`
 *
 * A client that sends no complete line for `idleTimeout` ms is told `ERR idle timeout` and
 * disconnected.
 * @module
 */
import {
  BufferLimitExceeded,
  BufRead,
  type Clock,
  EndOfFile,
  Flow,
  type ListeningSocket,
  Net,
  type StreamSocket,
  Time,
  Timeout,
  traceln,
} from "../../src/index.ts";

/** Options of {@link serve}. */
export interface LineServerOptions {
  /** The clock idle timeouts are measured on (`env.monoClock`). */
  readonly clock: Clock;
  /** How long (ms) a client may stay silent before it is disconnected. Default: 30 000. */
  readonly idleTimeout?: number | undefined;
  /** At most this many clients are served at once. Default: 100. */
  readonly maxConnections?: number | undefined;
  /** Resolving this stops accepting, lets the connected clients finish, then `serve` returns. */
  readonly stop?: PromiseLike<void> | undefined;
}

/** The longest line the server reads, in bytes. */
export const MAX_LINE = 1024;

/**
 * The reply to one command line.
 * @example
 * ```ts
 * respond("ECHO hi", clock); // "hi"
 * ```
 */
export function respond(line: string, clock: Clock): string {
  const space = line.indexOf(" ");
  const command = space === -1 ? line : line.slice(0, space);
  const arg = space === -1 ? "" : line.slice(space + 1);
  switch (command) {
    case "PING":
      return "PONG";
    case "ECHO":
      return arg;
    case "TIME":
      return String(clock.now());
    case "QUIT":
      return "BYE";
    default:
      return `ERR unknown command: ${JSON.stringify(command)}`;
  }
}

/**
 * Serves one client until it sends `QUIT`, closes its side, stays idle for `idleTimeout` ms,
 * or sends a line longer than {@link MAX_LINE} bytes.
 */
export async function handleClient(
  flow: StreamSocket,
  clock: Clock,
  idleTimeout: number,
): Promise<void> {
  const reader = BufRead.of(flow, { maxSize: MAX_LINE });
  for (;;) {
    let line: string;
    try {
      line = await Time.withTimeout(clock, idleTimeout, () => reader.line());
    } catch (e) {
      if (e instanceof EndOfFile) return;
      if (e instanceof Timeout) return await Flow.copyString("ERR idle timeout\n", flow);
      if (e instanceof BufferLimitExceeded)
        return await Flow.copyString("ERR line too long\n", flow);
      throw e;
    }
    const reply = respond(line, clock);
    await Flow.copyString(`${reply}\n`, flow);
    if (reply === "BYE") return;
  }
}

/**
 * Accepts clients on `listener` and serves each in its own fiber (see {@link handleClient}),
 * until `opts.stop` resolves or the calling fiber is cancelled. A client's failure is traced
 * and does not stop the server.
 * @throws RangeError for a bad `maxConnections` or `idleTimeout`.
 * @example
 * ```ts
 * await serve(listener, { clock: env.monoClock, idleTimeout: 10_000 });
 * ```
 */
export function serve(listener: ListeningSocket, opts: LineServerOptions): Promise<void> {
  const { clock, stop } = opts;
  const idleTimeout = opts.idleTimeout ?? 30_000;
  if (!(idleTimeout > 0)) throw new RangeError(`idleTimeout must be > 0, got ${idleTimeout}`);
  return Net.runServer(listener, (flow) => handleClient(flow, clock, idleTimeout), {
    onError: (e) => traceln("line-server: client failed: %s", e instanceof Error ? e.message : e),
    maxConnections: opts.maxConnections ?? 100,
    stop,
  });
}
