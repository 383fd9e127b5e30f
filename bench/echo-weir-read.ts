/**
 * An echo server on weir's pull-based reads — `run` + `Net.runServer` + a `readInto`/`write`
 * loop with one reused buffer (the path `Flow.copy` takes when the sink has no `copyFrom`) — for
 * the shared load tools (`/work/shared/bench/run.sh`, `ratio.sh`). Compare with
 * `bench/echo-weir.ts`, whose `Flow.copy` pipes socket to socket. Prints `LISTENING <port>`.
 *
 * Usage: `node bench/echo-weir-read.ts [PORT [HOST]]` (PORT 0, the default, picks a free port).
 * @module
 */
import { EndOfFile, Switch } from "../src/core/index.ts";
import { runServer } from "../src/net/run-server.ts";
import { Sockaddr } from "../src/net/sockaddr.ts";
import type { StreamSocket } from "../src/net/types.ts";
import { run } from "../src/run.ts";

const port = Number(process.argv[2] ?? 0);
const host = process.argv[3] ?? "127.0.0.1";

async function echo(flow: StreamSocket): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  for (;;) {
    let n: number;
    try {
      n = await flow.readInto(buf);
    } catch (e) {
      if (e instanceof EndOfFile) return;
      throw e;
    }
    await flow.write([buf.subarray(0, n)]);
  }
}

await run(async (env) => {
  await Switch.run(async (sw) => {
    const listener = await env.net.listen(Sockaddr.tcp(host, port), { sw, backlog: 4096 });
    const addr = listener.listeningAddr;
    process.stdout.write(`LISTENING ${addr.type === "tcp" ? addr.port : 0}\n`);
    // A client that resets its connection is not the server's problem
    await runServer(listener, echo, { onError: () => {} });
  });
});
