/**
 * The metrics example as users start it (`node examples/metrics/main.ts PORT METRICS_PORT
 * IDLE_MS`, what `npm run example:metrics` runs): clients of its echo service on 127.0.0.1,
 * then `GET /metrics` scraped over HTTP with node:http and read as the Prometheus text format.
 */
import http from "node:http";
import { afterEach, expect, test } from "vitest";
import { Client, cleanup, closeClients, NODE, start } from "../../test/cli/harness.ts";

afterEach(async () => {
  await closeClients();
  await cleanup();
});

/** One GET with node:http (its own connection): the status, content type and body. */
function get(port: number, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        body += c;
      });
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, type: res.headers["content-type"] ?? "", body }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
  });
}

/** The samples of a Prometheus text exposition: `name{labels}` to value (comments skipped). */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^(\S+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m === null) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    out.set(m[1] as string, Number(m[2]));
  }
  return out;
}

test("main.ts counts its echo clients and a silent one it timed out, and serves them at GET /metrics", async () => {
  const server = start(NODE, ["examples/metrics/main.ts", "0", "0", "200"]);
  const app = Number((await server.waitFor("stdout", /listening on tcp:127\.0\.0\.1:(\d+)\n/))[1]);
  const port = Number(
    (await server.waitFor("stdout", /metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics\n/))[1],
  );

  for (let i = 0; i < 3; i++) {
    const c = await Client.connect(app);
    c.socket.end("hello\n");
    await c.ended;
    expect(c.received().toString()).toBe("hello\n");
    c.socket.destroy();
    await c.closed;
  }
  const silent = await Client.connect(app);
  await silent.ended; // the server's idle timeout (200 ms) closes it

  const s = `server="tcp:127.0.0.1:${app}"`;
  let metrics = new Map<string, number>();
  let scrape = { status: 0, type: "", body: "" };
  for (let tries = 0; tries < 200; tries++) {
    scrape = await get(port, "/metrics");
    metrics = samples(scrape.body);
    if (metrics.get(`weir_connection_duration_seconds_count{${s}}`) === 4) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  expect(scrape.status).toBe(200);
  expect(scrape.type).toBe("text/plain; version=0.0.4; charset=utf-8");
  expect(scrape.body).toContain("# TYPE weir_connection_duration_seconds histogram\n");
  expect({
    opened: metrics.get(`weir_connections_opened_total{${s}}`),
    ok: metrics.get(`weir_connections_closed_total{${s},outcome="ok"}`),
    timedOut: metrics.get(`weir_connections_closed_total{${s},outcome="timeout"}`),
    idle: metrics.get(`weir_connection_timeouts_total{during="idle"}`),
    received: metrics.get(`weir_connection_received_bytes_total{${s}}`),
    sent: metrics.get(`weir_connection_sent_bytes_total{${s}}`),
    durations: metrics.get(`weir_connection_duration_seconds_count{${s}}`),
    open: metrics.get(`weir_server_connections{${s},state="open"}`),
    errors: metrics.get(`weir_server_errors_total{${s},during="handler"}`),
  }).toEqual({
    opened: 4,
    ok: 3,
    timedOut: 1,
    idle: 1,
    received: 18,
    sent: 18,
    durations: 4,
    open: 0,
    errors: undefined,
  });
  // the silent client lasted at least its idle timeout
  expect(metrics.get(`weir_connection_duration_seconds_sum{${s}}`)).toBeGreaterThanOrEqual(0.2);
  // this scrape is a connection of the metrics server, open while it is answered
  expect(metrics.get(`weir_server_connections{server="tcp:127.0.0.1:${port}",state="open"}`)).toBe(
    1,
  );
  expect((await get(port, "/")).status).toBe(404);

  server.signal("SIGINT");
  expect(await server.exit()).toEqual({ code: 0, signal: null });
  expect(server.stderr).toBe(
    "metrics: SIGINT: stopping (again to close the connections)\nmetrics: stopped\n",
  );
});
