/**
 * Runs the line server on the real network: `node examples/line-server/main.ts [port]`, then
 * try `nc 127.0.0.1 7000` and type `PING`. Ctrl-C stops it.
 */
import { run, Switch, traceln } from "../../src/index.ts";
import { serve } from "./line-server.ts";

const port = Number(process.argv[2] ?? 7000);

await run(async (env) => {
  const stop = new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
  await Switch.run(async (sw) => {
    const listener = await env.net.listen(`tcp:127.0.0.1:${port}`, {
      sw,
      backlog: 64,
      reuseAddr: true,
    });
    traceln("line server listening on tcp:127.0.0.1:%d", port);
    await serve(listener, { clock: env.monoClock, stop });
  });
});
