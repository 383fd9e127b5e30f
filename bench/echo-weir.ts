/**
 * An echo server on weir — `run` + `Net.runServer` + `Flow.copy` — for the shared load tools
 * (`/work/shared/bench/run.sh`, `ratio.sh`). Prints `LISTENING <port>` once it accepts.
 *
 * Usage: `node bench/echo-weir.ts [PORT [HOST]]` (PORT 0, the default, picks a free port).
 * @module
 */
import { Switch } from "../src/core/index.ts";
import { copy } from "../src/flow/flow-ops.ts";
import { runServer } from "../src/net/run-server.ts";
import { Sockaddr } from "../src/net/sockaddr.ts";
import { run } from "../src/run.ts";

const port = Number(process.argv[2] ?? 0);
const host = process.argv[3] ?? "127.0.0.1";

await run(async (env) => {
  await Switch.run(async (sw) => {
    const listener = await env.net.listen(Sockaddr.tcp(host, port), { sw, backlog: 4096 });
    const addr = listener.listeningAddr;
    process.stdout.write(`LISTENING ${addr.type === "tcp" ? addr.port : 0}\n`);
    await runServer(listener, (flow) => copy(flow, flow), {
      // A client that resets its connection is not the server's problem
      onError: () => {},
    });
  });
});
