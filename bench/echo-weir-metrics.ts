/**
 * bench/echo-weir.ts whose metrics subscriber can be switched on and off from stdin, for the
 * metrics benchmark (bench/metrics-ratio.ts): a line `on` subscribes to every `weir:*` channel
 * a function that does what an exporter does with each message (reads its fields into
 * counters), `off` unsubscribes; each is acknowledged with `ON` or `OFF` on stdout. One
 * process for both sides, so JIT and heap are the same for both.
 *
 * Usage: `node bench/echo-weir-metrics.ts [PORT [HOST]]`.
 * @module
 */
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { createInterface } from "node:readline";
import { type ConnectionCloseMessage, MetricsChannels } from "../src/net/metrics.ts";

const counts = { messages: 0, bytesIn: 0, bytesOut: 0, durationMs: 0 };
const onMessage = (m: unknown, name: string | symbol): void => {
  counts.messages++;
  if (name === MetricsChannels.connectionClose) {
    const c = m as ConnectionCloseMessage;
    counts.bytesIn += c.bytesIn;
    counts.bytesOut += c.bytesOut;
    counts.durationMs += c.durationMs;
  }
};
const names = Object.values(MetricsChannels);
let subscribed = false;
createInterface({ input: process.stdin }).on("line", (line) => {
  const on = line.trim() === "on";
  if (on !== subscribed) {
    for (const n of names) (on ? subscribe : unsubscribe)(n, onMessage);
    subscribed = on;
  }
  process.stdout.write(on ? "ON\n" : "OFF\n");
});
process.once("SIGTERM", () => {
  process.stderr.write(`metrics subscriber saw ${JSON.stringify(counts)}\n`);
  process.exit(0);
});

await import("./echo-weir.ts");
