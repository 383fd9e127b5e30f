/**
 * mini-redis's server: `Net.runServer` accepts, each connection reads requests with a
 * `BufRead` and answers through a `BufWrite`. Written against the capabilities it is given
 * (a listening socket and a clock), so the same code serves the real network (`main.ts`) and
 * `weir/mock` (the tests).
 *
 * Each read is answered in one go: every complete request in the buffer is executed (up to
 * `maxPipeline`), each reply copied into the writer, and the writer sends them all in one
 * write while the connection waits for its next bytes. That is what makes pipelining fast.
 * @module
 */
import {
  BufferLimitExceeded,
  BufRead,
  BufWrite,
  type BufWriter,
  type Clock,
  EndOfFile,
  type ListeningSocket,
  Net,
  type StreamSocket,
  Switch,
  traceln,
} from "weir";
import { type IdleEntry, IdleSweep } from "../idle-sweep.ts";
import { Session } from "./commands.ts";
import { Broker, Db } from "./db.ts";
import { DEFAULT_LIMITS, type Limits, ProtocolError, parseRequest, Request } from "./resp.ts";

/** Options of {@link serve}. */
export interface ServeOptions {
  /** The clock of expiry and idle timeouts (`env.monoClock`). */
  readonly clock: Clock;
  /** Bounds on requests; default {@link DEFAULT_LIMITS}. */
  readonly limits?: Partial<Limits> | undefined;
  /** A client silent this long (ms) is disconnected. Default 300 000 (5 minutes). */
  readonly idleTimeout?: number | undefined;
  /** The most clients served at once (no accept while full). Default 10 000. */
  readonly maxConnections?: number | undefined;
  /** The most keys; default 1 000 000. */
  readonly maxKeys?: number | undefined;
  /** Bytes of replies a connection may have unwritten before it stops reading. Default 1 MiB. */
  readonly maxOutput?: number | undefined;
  /** A subscriber with more than this unwritten is disconnected. Default 8 MiB. */
  readonly maxSubscriberBuffer?: number | undefined;
  /** Resolving it stops accepting; `serve` returns when the clients are gone. */
  readonly stop?: PromiseLike<void> | undefined;
}

/** What every connection of one server shares. */
interface Shared {
  readonly db: Db;
  readonly broker: Broker;
  readonly limits: Limits;
  readonly sweep: IdleSweep;
  readonly maxOutput: number;
  readonly maxSubscriberBuffer: number;
}

function checkLimit(name: string, v: number): number {
  if (!Number.isInteger(v) || v <= 0)
    throw new RangeError(`${name} must be an integer > 0, got ${String(v)}`);
  return v;
}

/**
 * Serves RESP2 clients on `listener` until `opts.stop` resolves (then waits for the connected
 * clients) or the calling fiber is cancelled (then closes them at once).
 * @throws RangeError for a limit that is not an integer > 0, or a bad `idleTimeout`.
 * @example
 * ```ts
 * await serve(listener, { clock: env.monoClock, idleTimeout: 60_000 });
 * ```
 */
export async function serve(listener: ListeningSocket, opts: ServeOptions): Promise<void> {
  const limits: Limits = { ...DEFAULT_LIMITS, ...opts.limits };
  for (const k of ["maxBulk", "maxArgs", "maxRequest", "maxPipeline"] as const)
    checkLimit(k, limits[k]);
  const maxOutput = checkLimit("maxOutput", opts.maxOutput ?? 1 << 20);
  const maxSubscriberBuffer = checkLimit(
    "maxSubscriberBuffer",
    opts.maxSubscriberBuffer ?? 8 << 20,
  );
  const { clock } = opts;
  const db = new Db({ now: () => clock.now(), maxKeys: opts.maxKeys });
  await Switch.run(async (sw) => {
    const sweep = new IdleSweep(clock, opts.idleTimeout ?? 300_000, sw);
    const shared: Shared = {
      db,
      broker: new Broker(),
      limits,
      sweep,
      maxOutput,
      maxSubscriberBuffer,
    };
    await Net.runServer(listener, (socket) => handle(socket, shared), {
      onError: (e) => traceln("mini-redis: client failed: %s", e instanceof Error ? e.message : e),
      maxConnections: opts.maxConnections ?? 10_000,
      stop: opts.stop,
    });
  });
}

/** Serves one connection until it quits, closes, breaks the protocol or stays idle. */
function handle(socket: StreamSocket, shared: Shared): Promise<void> {
  return shared.sweep.guard((idle) => {
    const reader = BufRead.of(socket, {
      maxSize: shared.limits.maxRequest,
      initialSize: Math.min(16 * 1024, shared.limits.maxRequest),
    });
    return BufWrite.with(socket, (w) => {
      // The writer is the session's sink as it is: no wrapper on the hot path.
      const session = new Session(shared.db, shared.broker, w, shared.maxSubscriberBuffer, () =>
        idle.drop(),
      );
      return requests(reader, w, session, shared, idle).finally(() => session.close());
    });
  });
}

/** The request loop of one connection. */
async function requests(
  reader: ReturnType<typeof BufRead.of>,
  w: BufWriter,
  session: Session,
  shared: Shared,
  idle: IdleEntry,
): Promise<void> {
  const { limits, maxOutput } = shared;
  const req = new Request();
  for (;;) {
    let answered = 0;
    // The socket's chunk itself when the reader works in it (a Buffer already), else a view
    const view = reader.peek();
    const buf = Buffer.isBuffer(view)
      ? view
      : Buffer.from(view.buffer, view.byteOffset, view.byteLength);
    let used = 0;
    try {
      for (;;) {
        const n = parseRequest(buf, used, buf.length, req, limits);
        if (n === 0) break;
        used += n;
        if (session.execute(req) === "quit") return;
        if (++answered === limits.maxPipeline) break;
      }
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      w.string(`-ERR Protocol error: ${e.message}\r\n`);
      return;
    }
    reader.consume(used);
    // A client that does not read its replies stops being read: the output stays bounded.
    if (answered === limits.maxPipeline || w.pendingBytes > maxOutput) await w.flush();
    if (answered === limits.maxPipeline) continue;
    try {
      await reader.ensure(reader.buffered + 1);
    } catch (e) {
      if (e instanceof EndOfFile) return;
      if (e instanceof BufferLimitExceeded) {
        w.string("-ERR Protocol error: request too large\r\n");
        return;
      }
      throw e;
    }
    idle.touch();
  }
}
