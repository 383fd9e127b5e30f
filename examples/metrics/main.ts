/**
 * The metrics example on the real network:
 * `npm run example:metrics -- [PORT [METRICS_PORT [IDLE_MS]]]` (defaults 7007, 9464 and
 * 30000; 0: a port the OS chooses), then `curl http://127.0.0.1:9464/metrics`. Ctrl-C stops it.
 * @module
 */
import { Sockaddr, Switch } from "weir";
import { main } from "../main.ts";
import { serve } from "./server.ts";

/** The integer argument `i` (or `dflt`), between `min` and `max`. */
function arg(i: number, what: string, dflt: number, min: number, max: number): number {
  const s = process.argv[i] ?? String(dflt);
  const n = Number(s);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new RangeError(`${what} must be an integer between ${min} and ${max}, got "${s}"`);
  }
  return n;
}

const metricsPort = arg(3, "METRICS_PORT", 9464, 0, 65535);
const idleTimeout = arg(4, "IDLE_MS", 30_000, 1, 2 ** 31 - 1);

await main("metrics", 7007, (listener, env, stop) =>
  Switch.run(async (sw) => {
    const metrics = await env.net.listen(`tcp:127.0.0.1:${metricsPort}`, {
      sw,
      reuseAddr: true,
    });
    process.stdout.write(
      `metrics on http://${Sockaddr.format(metrics.listeningAddr).slice(4)}/metrics\n`,
    );
    await serve(listener, metrics, { stop, idleTimeout, maxConnections: 1000 });
  }),
);
