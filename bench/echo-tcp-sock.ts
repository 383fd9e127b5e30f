/**
 * An echo server on weir's Async-style API — `Tcp.Server.createSock` + `Flow.copy` — for the
 * shared load tools (`/work/shared/bench/run.sh`, `ratio.sh`). Prints `LISTENING <port>` once
 * it accepts.
 *
 * Usage: `node bench/echo-tcp-sock.ts [PORT [HOST]]` (PORT 0, the default, picks a free port).
 * @module
 */
import { copy } from "../src/flow/flow-ops.ts";
import { run } from "../src/run.ts";
import { Tcp } from "../src/tcp/index.ts";

const port = Number(process.argv[2] ?? 0);
const host = process.argv[3] ?? "127.0.0.1";

await run(async (env) => {
  const server = await Tcp.Server.createSock(
    Tcp.WhereToListen.onPort(port, { host }),
    (_addr, socket) => copy(socket, socket),
    // A client that resets its connection is a normal end; anything else is not worth dying for
    { net: env.net, onHandlerError: "ignore", backlog: 4096 },
  );
  process.stdout.write(`LISTENING ${server.listeningOn}\n`);
});
