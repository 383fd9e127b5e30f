/**
 * A TLS echo server on weir — `run` + `net.listen` with `tls` + `Net.runServer` +
 * `Flow.copy` — with the test certificates. Prints `LISTENING <port>` once it accepts.
 *
 * Usage: `node bench/echo-weir-tls.ts [PORT] [--native]` (0, the default, picks a free port;
 * `--native`: `tls.strictClose: false`, TLS natively over the socket's handle, where a stream
 * cut without close_notify reads as an end of file; by default it is an error).
 * @module
 */
import { readFileSync } from "node:fs";
import { Switch } from "../src/core/index.ts";
import { copy } from "../src/flow/flow-ops.ts";
import { runServer } from "../src/net/run-server.ts";
import { Sockaddr } from "../src/net/sockaddr.ts";
import { run } from "../src/run.ts";

const port = Number(process.argv[2] ?? 0);
const pem = (name: string): string =>
  readFileSync(new URL(`../test/fixtures/tls/${name}`, import.meta.url), "utf8");

await run(async (env) => {
  await Switch.run(async (sw) => {
    const listener = await env.net.listen(Sockaddr.tcp("127.0.0.1", port), {
      sw,
      backlog: 4096,
      tls: {
        cert: pem("server.crt"),
        key: pem("server.key"),
        ...(process.argv.includes("--native") ? { strictClose: false } : {}),
      },
    });
    const addr = listener.listeningAddr;
    process.stdout.write(`LISTENING ${addr.type === "tcp" ? addr.port : 0}\n`);
    await runServer(listener, (flow) => copy(flow, flow), { onError: () => {} });
  });
});
