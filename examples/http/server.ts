/**
 * An HTTP/1.1 server on `Net.runServer`, `BufRead` and `BufWrite`: keep-alive and pipelining,
 * Content-Length and chunked request bodies, `Expect: 100-continue`, `Connection: close`, and
 * 400/413/414/431 for requests past the limits. Written against the listener and clocks it is
 * given, so it runs on the real network (`main.ts`) and on `weir/mock` (the tests) unchanged.
 *
 * Routes: `GET /` (and HEAD) says hello; `POST /echo` sends the request body back; anything
 * else is 404 (or 405 for another method on a known path).
 * @module
 */
import {
  BufRead,
  type BufReader,
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
import { IdleSweep } from "../idle-sweep.ts";
import { readBody } from "./body.ts";
import {
  DEFAULT_HTTP_LIMITS,
  type Head,
  HttpError,
  type HttpLimits,
  readerSize,
  readHead,
} from "./request.ts";

/** Options of {@link serve}. */
export interface HttpServeOptions {
  /** The wall clock, for the `Date` header (`env.clock`). */
  readonly clock: Clock;
  /** The monotonic clock, for idle timeouts (`env.monoClock`). */
  readonly monoClock: Clock;
  /** Bounds on requests; default {@link DEFAULT_HTTP_LIMITS}. */
  readonly limits?: Partial<HttpLimits> | undefined;
  /** A connection silent this long (ms) is closed. Default 60 000. */
  readonly idleTimeout?: number | undefined;
  /** The most connections at once (no accept while full). Default 10 000. */
  readonly maxConnections?: number | undefined;
  /** Resolving it stops accepting; `serve` returns when the connections are gone. */
  readonly stop?: PromiseLike<void> | undefined;
}

interface Shared {
  readonly limits: HttpLimits;
  readonly sweep: IdleSweep;
  readonly date: DateCache;
}

const REASONS: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  413: "Content Too Large",
  414: "URI Too Long",
  431: "Request Header Fields Too Large",
  501: "Not Implemented",
  505: "HTTP Version Not Supported",
};

/** The `Date` header's value, formatted once per second of `clock`. */
class DateCache {
  readonly #clock: Clock;
  #second = Number.NaN;
  #text = "";
  constructor(clock: Clock) {
    this.#clock = clock;
  }
  get text(): string {
    const s = Math.floor(this.#clock.now() / 1000);
    if (s !== this.#second) {
      this.#second = s;
      this.#text = new Date(s * 1000).toUTCString();
    }
    return this.#text;
  }
}

/**
 * Serves HTTP/1.1 on `listener` until `opts.stop` resolves (then lets the open connections
 * finish) or the calling fiber is cancelled (then closes them at once).
 * @throws RangeError for a limit that is not an integer > 0, or a bad `idleTimeout`.
 * @example
 * ```ts
 * await serve(listener, { clock: env.clock, monoClock: env.monoClock });
 * ```
 */
export async function serve(listener: ListeningSocket, opts: HttpServeOptions): Promise<void> {
  const limits: HttpLimits = { ...DEFAULT_HTTP_LIMITS, ...opts.limits };
  for (const k of ["maxRequestLine", "maxHeaderBytes", "maxHeaders", "maxBody"] as const) {
    const v = limits[k];
    if (!Number.isInteger(v) || v <= 0)
      throw new RangeError(`${k} must be an integer > 0, got ${String(v)}`);
  }
  await Switch.run(async (sw) => {
    const sweep = new IdleSweep(opts.monoClock, opts.idleTimeout ?? 60_000, sw);
    const shared: Shared = { limits, sweep, date: new DateCache(opts.clock) };
    await Net.runServer(listener, (socket) => handle(socket, shared), {
      onError: (e) => traceln("http: connection failed: %s", e instanceof Error ? e.message : e),
      maxConnections: opts.maxConnections ?? 10_000,
      stop: opts.stop,
    });
  });
}

/** Serves one connection: requests one after another until one says close, or an error. */
async function handle(socket: StreamSocket, shared: Shared): Promise<void> {
  const { limits } = shared;
  await shared.sweep.guard(async (idle) => {
    const touch = (): void => idle.touch();
    const reader = BufRead.of(socket, { maxSize: readerSize(limits) });
    let refused = false;

    await BufWrite.with(socket, async (w) => {
      for (;;) {
        // Waiting here is what lets the writer send every response so far in one write.
        if (reader.buffered === 0) {
          if (await reader.atEnd()) return;
          touch();
        }
        let head: Head;
        let body: Uint8Array;
        try {
          head = await readHead(reader, limits);
          if (head.body.kind === "length" && head.body.length > limits.maxBody) {
            throw new HttpError(413, "body too large");
          }
          if (head.expectContinue && head.minor === 1 && head.body.kind !== "none") {
            w.string("HTTP/1.1 100 Continue\r\n\r\n");
            await w.flush(); // the client waits for it before it sends the body
          }
          body = await readBody(reader, head, limits.maxBody, touch);
        } catch (e) {
          if (e instanceof HttpError) {
            const text = `${e.message}\n`;
            respond(w, shared, e.status, 1, false, "text/plain", text, text.length, false);
            refused = true;
            return;
          }
          if (e instanceof EndOfFile) return; // the client left in the middle of a request
          throw e;
        }
        if (!route(w, shared, head, body)) return;
        if (w.pendingBytes > 1 << 20) await w.flush();
      }
    });
    if (refused) await discardInput(socket, reader);
  });
}

/**
 * After refusing a request: stop sending, and read (and drop) what the client still sends for
 * a while, so that closing does not reset the connection before it has read our answer.
 */
async function discardInput(socket: StreamSocket, reader: BufReader): Promise<void> {
  await socket.shutdown("send");
  let left = 1 << 20;
  try {
    while (left > 0) {
      await reader.ensure(1);
      const n = Math.min(left, reader.buffered);
      reader.consume(n);
      left -= n;
    }
  } catch (e) {
    if (!(e instanceof EndOfFile)) throw e;
  }
}

/** Answers one request; returns whether the connection stays open. */
function route(w: BufWriter, shared: Shared, head: Head, body: Uint8Array): boolean {
  const path = head.target.split("?", 1)[0];
  const keep = head.keepAlive;
  if (path === "/") {
    if (head.method === "GET" || head.method === "HEAD") {
      respond(
        w,
        shared,
        200,
        head.minor,
        keep,
        "text/plain",
        "Hello, world!\n",
        14,
        head.method === "HEAD",
      );
      return keep;
    }
    return notAllowed(w, shared, head, "GET, HEAD");
  }
  if (path === "/echo") {
    if (head.method === "POST" || head.method === "PUT") {
      const type = head.headers.get("content-type") ?? "application/octet-stream";
      respond(w, shared, 200, head.minor, keep, type, body, body.length, false);
      return keep;
    }
    return notAllowed(w, shared, head, "POST, PUT");
  }
  respond(
    w,
    shared,
    404,
    head.minor,
    keep,
    "text/plain",
    "not found\n",
    10,
    head.method === "HEAD",
  );
  return keep;
}

function notAllowed(w: BufWriter, shared: Shared, head: Head, allow: string): boolean {
  const text = `method ${head.method} not allowed\n`;
  respond(
    w,
    shared,
    405,
    head.minor,
    head.keepAlive,
    "text/plain",
    text,
    text.length,
    false,
    `Allow: ${allow}\r\n`,
  );
  return head.keepAlive;
}

/** Writes one response: status line, headers, and (unless `headOnly`) the body. */
function respond(
  w: BufWriter,
  shared: Shared,
  status: number,
  minor: number,
  keepAlive: boolean,
  type: string,
  body: string | Uint8Array,
  length: number,
  headOnly: boolean,
  extra = "",
): void {
  // HTTP/1.0 clients close unless told otherwise; HTTP/1.1 ones keep alive unless told to close.
  const conn = keepAlive
    ? minor === 0
      ? "Connection: keep-alive\r\n"
      : ""
    : "Connection: close\r\n";
  const head =
    `HTTP/1.1 ${status} ${REASONS[status]}\r\nDate: ${shared.date.text}\r\n` +
    `Content-Type: ${type}\r\nContent-Length: ${length}\r\n${conn}${extra}\r\n`;
  if (headOnly) w.string(head);
  else if (typeof body === "string") w.string(head + body);
  else {
    w.string(head);
    w.bytes(body);
  }
}
