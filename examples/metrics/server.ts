/**
 * The metrics example: an echo service, and a `GET /metrics` endpoint that answers with weir's
 * metrics in the Prometheus text format (prom-client's `Registry`, filled by `exporter.ts`).
 * Both are `Net.runServer`s; the endpoint is a minimal HTTP/1.1 responder (one request per
 * connection), enough for Prometheus, curl and a test's scrape.
 * @module
 */
import { Registry } from "prom-client";
import { BufRead, Fiber, Flow, IoError, type ListeningSocket, Net, type StreamSocket } from "weir";
import { exportWeirMetrics } from "./exporter.ts";

/** Options of {@link serve}. */
export interface ServeOptions {
  /** Resolving it stops both servers gracefully. */
  readonly stop: Promise<void>;
  /** The echo service's idle timeout, in ms. */
  readonly idleTimeout: number;
  /** The echo service's connection limit. */
  readonly maxConnections: number;
}

/** Echoes until the client half-closes, then half-closes. */
async function echo(flow: StreamSocket): Promise<void> {
  await Flow.copy(flow, flow);
  await flow.shutdown("send");
}

/** Answers one HTTP request: the metrics for `GET /metrics`, else 404 or 405. */
async function answerScrape(flow: StreamSocket, register: Registry): Promise<void> {
  const r = BufRead.of(flow, { maxSize: 16 * 1024 });
  const [method, path] = (await r.line()).split(" ");
  while ((await r.line()).replace(/\r$/, "") !== "") {
    // the header fields: a scrape needs none of them
  }
  let status = "200 OK";
  let type: string = register.contentType;
  let body: string;
  if (path !== "/metrics") [status, type, body] = ["404 Not Found", "text/plain", "not found\n"];
  else if (method !== "GET") {
    [status, type, body] = ["405 Method Not Allowed", "text/plain", "GET only\n"];
  } else body = await register.metrics();
  const head =
    `HTTP/1.1 ${status}\r\nContent-Type: ${type}\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
  await Flow.copyString(head + body, flow);
}

/** A client that leaves, or goes silent past the idle timeout, is no error of the server's. */
function onError(e: unknown): void {
  if (e instanceof IoError && (e.err.kind === "Timeout" || e.err.kind === "ConnectionReset")) {
    return;
  }
  process.stderr.write(`metrics example: ${e instanceof Error ? e.message : String(e)}\n`);
}

/**
 * Serves the echo service on `app` and the metrics on `metrics` until `opts.stop` resolves.
 * @example
 * ```ts
 * await serve(appListener, metricsListener, { stop, idleTimeout: 30_000, maxConnections: 1000 });
 * ```
 */
export async function serve(
  app: ListeningSocket,
  metrics: ListeningSocket,
  opts: ServeOptions,
): Promise<void> {
  const register = new Registry();
  const exporter = exportWeirMetrics(register, [app, metrics]);
  try {
    await Fiber.both(
      () =>
        Net.runServer(app, echo, {
          onError,
          stop: opts.stop,
          idleTimeout: opts.idleTimeout,
          maxConnections: opts.maxConnections,
        }),
      () =>
        Net.runServer(metrics, (flow) => answerScrape(flow, register), {
          onError,
          stop: opts.stop,
          idleTimeout: 10_000,
          maxConnections: 100,
        }),
    );
  } finally {
    exporter[Symbol.dispose]();
  }
}
