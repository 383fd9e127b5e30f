/**
 * What the examples' `main.ts` files share: listen on 127.0.0.1:PORT on the real network, print
 * `listening on tcp:127.0.0.1:PORT` (the port the OS chose, for 0), serve, and stop on SIGINT or
 * SIGTERM: the first stops accepting and lets the connected clients finish, the second (or
 * `drainMs` later) closes them.
 * @module
 */
import { type Clock, type Env, Fiber, type ListeningSocket, run, Sockaddr, Switch } from "weir";

/** Starts one example server; `serve` gets the listener, the env and a promise that resolves on stop. */
export async function main(
  name: string,
  defaultPort: number,
  serve: (listener: ListeningSocket, env: Env, stop: Promise<void>) => Promise<void>,
  drainMs = 5000,
): Promise<void> {
  const arg = process.argv[2] ?? String(defaultPort);
  const port = Number(arg);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`port must be an integer between 0 and 65535, got "${arg}"`);
  }
  const stopping = new AbortController();
  const now = new AbortController();
  const stop = new Promise<void>((resolve) => {
    stopping.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  const onSignal = (sig: NodeJS.Signals): void => {
    if (!stopping.signal.aborted) {
      process.stderr.write(`${name}: ${sig}: stopping (again to close the connections)\n`);
      stopping.abort();
    } else now.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    await run(async (env) => {
      await Switch.run(async (sw) => {
        const listener = await env.net.listen(`tcp:127.0.0.1:${port}`, {
          sw,
          backlog: 1024,
          reuseAddr: true,
        });
        process.stdout.write(`listening on ${Sockaddr.format(listener.listeningAddr)}\n`);
        await Fiber.first(
          () => serve(listener, env, stop),
          // Cancelled when `serve` returns first; wins after a second signal or `drainMs`.
          async () => {
            await sleepUnless(env.monoClock, Infinity, stopping.signal);
            await sleepUnless(env.monoClock, drainMs, now.signal);
          },
        );
      });
    });
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  process.stderr.write(`${name}: stopped\n`);
}

/** Sleeps `ms`, or until `signal` aborts (then returns normally); Cancelled as any sleep. */
async function sleepUnless(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  try {
    await clock.sleep(ms, { signal });
  } catch (e) {
    if (!signal.aborted) throw e;
  }
}
